//! `-x`: hex and ASCII dump of each data source, tshark's layout, plus our own marking.
//!
//! As tshark 4.0 does, a frame with one data source is dumped alone; a frame with more (a PDU
//! reassembled from several segments, an FPDU with its markers taken out) gets one block per
//! source, each under a `Name (N bytes):` heading: `Frame (N bytes):`, `Reassembled TCP (N
//! bytes):`, and ours, `FPDU without Markers (N bytes):`. A row is the offset (4 hex digits),
//! two spaces, 16 octets in hex each followed by a space, two more spaces, then the octets as
//! ASCII (`.` for anything not printable).
//!
//! Our addition: the octets of the fields the `-Y` filter names are marked, in reverse video
//! when colouring, else by a line of `^^` under each row that has marked octets (tshark has no
//! such marking).

use std::io::{self, Write};

use crate::field::FieldId;
use crate::tree::{FRAME_SOURCE, SourceId, Tree};

const HEX: &[u8; 16] = b"0123456789abcdef";
const REVERSE: &str = "\x1b[7m";
const RESET: &str = "\x1b[0m";

/// Appends `b` as two lower-case hex digits.
pub fn push_byte(out: &mut String, b: u8) {
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 0xf)] as char);
}

/// Appends `bytes` in hex, with `sep` between octets (`aa:bb:cc` for JSON, none for `-T
/// fields`), assembling chunks in a stack buffer.
pub fn push_hex(out: &mut String, bytes: &[u8], sep: Option<u8>) {
    let mut buf = [0u8; 96];
    let step = if sep.is_some() { 3 } else { 2 };
    let mut first = true;
    for chunk in bytes.chunks(32) {
        let mut n = 0;
        for &b in chunk {
            if let Some(c) = sep {
                if !first {
                    buf[n] = c;
                    n += 1;
                }
            }
            first = false;
            buf[n] = HEX[usize::from(b >> 4)];
            buf[n + 1] = HEX[usize::from(b & 0xf)];
            n += 2;
        }
        debug_assert!(n <= 32 * step);
        // Only ASCII was written.
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

/// The `-x` writer; keeps its buffers between frames.
#[derive(Debug, Default)]
pub struct HexDump {
    buf: String,
    marks: Vec<bool>,
}

impl HexDump {
    /// A writer.
    pub fn new() -> Self {
        HexDump::default()
    }

    /// Dumps the frame and, when the tree has them, its extra sources, each under a
    /// `Name (N bytes):` heading as tshark does. The octets of `marked` fields are marked.
    pub fn dump(
        &mut self,
        out: &mut dyn Write,
        t: &Tree,
        frame: &[u8],
        marked: &[FieldId],
        color: bool,
    ) -> io::Result<()> {
        self.buf.clear();
        let extra = t.extra_sources();
        if extra.is_empty() {
            self.block(t, frame, FRAME_SOURCE, marked, color);
        } else {
            heading(&mut self.buf, "Frame", frame.len());
            self.block(t, frame, FRAME_SOURCE, marked, color);
            for (i, s) in extra.iter().enumerate() {
                heading(&mut self.buf, s.name, s.bytes.len());
                self.block(t, &s.bytes, (i + 1) as SourceId, marked, color);
            }
        }
        out.write_all(self.buf.as_bytes())
    }

    fn block(&mut self, t: &Tree, bytes: &[u8], src: SourceId, marked: &[FieldId], color: bool) {
        self.marks.clear();
        let mut any = false;
        if !marked.is_empty() {
            self.marks.resize(bytes.len(), false);
            for n in t
                .nodes
                .iter()
                .filter(|n| n.src == src && marked.contains(&n.field))
            {
                let s = (n.start as usize).min(bytes.len());
                let e = (n.start as usize + n.len as usize).min(bytes.len());
                for m in &mut self.marks[s..e] {
                    *m = true;
                    any = true;
                }
            }
        }
        rows(&mut self.buf, bytes, any.then_some(&self.marks[..]), color);
    }
}

/// Dumps with a fresh writer (tests and one-off callers).
pub fn dump(
    out: &mut dyn Write,
    t: &Tree,
    frame: &[u8],
    marked: &[FieldId],
    color: bool,
) -> io::Result<()> {
    HexDump::new().dump(out, t, frame, marked, color)
}

fn heading(out: &mut String, name: &str, len: usize) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "{name} ({len} bytes):");
}

/// Appends tshark's hex rows for `bytes`. With `marks` (one flag per octet), marked octets are
/// shown in reverse video when `color`, else under a `^^` line.
pub fn rows(out: &mut String, bytes: &[u8], marks: Option<&[bool]>, color: bool) {
    if marks.is_none() {
        plain_rows(out, bytes);
        return;
    }
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let m = marks.map(|m| &m[base..base + chunk.len()]);
        let is = |i: usize| m.is_some_and(|m| m[i]);
        for shift in [12, 8, 4, 0] {
            out.push(HEX[(base >> shift) & 0xf] as char);
        }
        out.push_str("  ");
        for i in 0..16 {
            match chunk.get(i) {
                Some(&b) if color && is(i) => {
                    out.push_str(REVERSE);
                    push_byte(out, b);
                    out.push_str(RESET);
                    out.push(' ');
                }
                Some(&b) => {
                    push_byte(out, b);
                    out.push(' ');
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        for (i, &b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            if color && is(i) {
                out.push_str(REVERSE);
                out.push(c);
                out.push_str(RESET);
            } else {
                out.push(c);
            }
        }
        out.push('\n');
        if !color && m.is_some_and(|m| m.iter().any(|&x| x)) {
            let last = m.map_or(0, |m| m.iter().rposition(|&x| x).unwrap_or(0));
            out.push_str("      ");
            for i in 0..=last {
                out.push_str(if is(i) { "^^" } else { "  " });
                if i < last {
                    out.push(' ');
                }
            }
            out.push('\n');
        }
    }
}

/// [`rows`] without marks: each row assembled in a stack buffer and appended at once (the
/// `-V` dump of every `data` protocol goes through here).
fn plain_rows(out: &mut String, bytes: &[u8]) {
    // "0000  " + 16 × "xx " + "  " + 16 characters + "\n".
    let mut line = [b' '; 6 + 48 + 2 + 16 + 1];
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        for (k, shift) in [12, 8, 4, 0].into_iter().enumerate() {
            line[k] = HEX[(base >> shift) & 0xf];
        }
        line[4..].fill(b' ');
        for (i, &b) in chunk.iter().enumerate() {
            line[6 + 3 * i] = HEX[usize::from(b >> 4)];
            line[7 + 3 * i] = HEX[usize::from(b & 0xf)];
            line[56 + i] = if b.is_ascii_graphic() || b == b' ' {
                b
            } else {
                b'.'
            };
        }
        let end = 56 + chunk.len();
        line[end] = b'\n';
        // Only ASCII was written.
        out.push_str(std::str::from_utf8(&line[..=end]).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::f;
    use crate::tree::Value;

    #[test]
    fn rows_look_like_tshark() {
        let t = Tree::default();
        let data: Vec<u8> = (0u8..20).chain(*b"MPA ID").collect();
        let mut out = Vec::new();
        dump(&mut out, &t, &data, &[], false).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f   ................\n\
             0010  10 11 12 13 4d 50 41 20 49 44                     ....MPA ID\n"
        );
    }

    #[test]
    fn marked_fields_get_carets_or_reverse_video() {
        let mut t = Tree::default();
        t.add(f::IP_TTL, Value::Uint(64), FRAME_SOURCE, 2, 2);
        let data: Vec<u8> = (0u8..20).collect();
        let mut out = Vec::new();
        dump(&mut out, &t, &data, &[f::IP_TTL], false).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f   ................\n\
             \x20     \x20     ^^ ^^\n\
             0010  10 11 12 13                                       ....\n"
        );
        let mut out = Vec::new();
        dump(&mut out, &t, &data, &[f::IP_TTL], true).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("0000  00 01 \x1b[7m02\x1b[0m \x1b[7m03\x1b[0m 04 "));
    }
}
