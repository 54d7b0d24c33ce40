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
use crate::text::{self, HEX, Text};
use crate::tree::{FRAME_SOURCE, SourceId, Tree};

const REVERSE: &str = "\x1b[7m";
const RESET: &str = "\x1b[0m";

/// Appends `bytes` in hex, with `sep` between octets (`aa:bb:cc` for JSON, none for `-T
/// fields`), assembling chunks in a stack buffer.
pub fn push_hex<T: Text + ?Sized>(out: &mut T, bytes: &[u8], sep: Option<u8>) {
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
        out.push_ascii_bytes(&buf[..n]);
    }
}

/// The `-x` writer; keeps its buffers between frames.
#[derive(Debug, Default)]
pub struct HexDump {
    buf: Vec<u8>,
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
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        self.append(&mut buf, t, frame, marked, color);
        let written = out.write_all(&buf);
        self.buf = buf;
        written
    }

    /// Appends what [`HexDump::dump`] writes to `out`.
    pub fn append(
        &mut self,
        out: &mut Vec<u8>,
        t: &Tree,
        frame: &[u8],
        marked: &[FieldId],
        color: bool,
    ) {
        let extra = t.extra_sources();
        if extra.is_empty() {
            self.block(out, t, frame, FRAME_SOURCE, marked, color);
        } else {
            heading(out, "Frame", frame.len());
            self.block(out, t, frame, FRAME_SOURCE, marked, color);
            for (i, s) in extra.iter().enumerate() {
                heading(out, s.name, s.bytes.len());
                self.block(out, t, &s.bytes, (i + 1) as SourceId, marked, color);
            }
        }
    }

    fn block(
        &mut self,
        out: &mut Vec<u8>,
        t: &Tree,
        bytes: &[u8],
        src: SourceId,
        marked: &[FieldId],
        color: bool,
    ) {
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
        rows(out, bytes, any.then_some(&self.marks[..]), color);
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

fn heading(out: &mut Vec<u8>, name: &str, len: usize) {
    out.push_str(name);
    out.push_str(" (");
    text::push_dec(out, len);
    out.push_str(" bytes):\n");
}

/// Appends tshark's hex rows for `bytes`. With `marks` (one flag per octet), marked octets are
/// shown in reverse video when `color`, else under a `^^` line.
pub fn rows(out: &mut Vec<u8>, bytes: &[u8], marks: Option<&[bool]>, color: bool) {
    if marks.is_none() {
        plain_rows(out, bytes);
        return;
    }
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let m = marks.map(|m| &m[base..base + chunk.len()]);
        let is = |i: usize| m.is_some_and(|m| m[i]);
        for shift in [12, 8, 4, 0] {
            out.push(HEX[(base >> shift) & 0xf]);
        }
        out.push_str("  ");
        for i in 0..16 {
            match chunk.get(i) {
                Some(&b) if color && is(i) => {
                    out.push_str(REVERSE);
                    text::push_hex_byte(out, b);
                    out.push_str(RESET);
                    out.push(b' ');
                }
                Some(&b) => {
                    text::push_hex_byte(out, b);
                    out.push(b' ');
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        for (i, &b) in chunk.iter().enumerate() {
            if color && is(i) {
                out.push_str(REVERSE);
                out.push(shown(b));
                out.push_str(RESET);
            } else {
                out.push(shown(b));
            }
        }
        out.push(b'\n');
        if !color && m.is_some_and(|m| m.iter().any(|&x| x)) {
            let last = m.map_or(0, |m| m.iter().rposition(|&x| x).unwrap_or(0));
            out.push_str("      ");
            for i in 0..=last {
                out.push_str(if is(i) { "^^" } else { "  " });
                if i < last {
                    out.push(b' ');
                }
            }
            out.push(b'\n');
        }
    }
}

/// An octet in the ASCII column: itself when printable, else `.`.
#[inline]
fn shown(b: u8) -> u8 {
    if b.is_ascii_graphic() || b == b' ' {
        b
    } else {
        b'.'
    }
}

/// "0000  " + 16 × "xx " + "  " + 16 characters + "\n".
const ROW: usize = 6 + 48 + 2 + 16 + 1;

/// `HEX_PAIR[b]`: `b` as two lower-case hex digits.
const HEX_PAIR: [[u8; 2]; 256] = hex_pairs();

const fn hex_pairs() -> [[u8; 2]; 256] {
    let mut table = [[0; 2]; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = [HEX[b >> 4], HEX[b & 0xf]];
        b += 1;
    }
    table
}

/// [`rows`] without marks (the `-V` dump of every `data` protocol goes through here, most of
/// `-V`'s output on bulk data). The rows are filled in place: spaces first, then the offset,
/// the digits and the characters of each row.
fn plain_rows(out: &mut Vec<u8>, bytes: &[u8]) {
    let whole = bytes.len() / 16;
    let rest = bytes.len() % 16;
    let start = out.len();
    let last_len = if rest > 0 { 56 + rest + 1 } else { 0 };
    out.resize(start + whole * ROW + last_len, b' ');
    let (full, last) = out[start..].split_at_mut(whole * ROW);
    let rows = full.chunks_exact_mut(ROW).zip(bytes.chunks_exact(16));
    for (i, (line, chunk)) in rows.enumerate() {
        fill_row(line, i * 16, chunk);
    }
    if rest > 0 {
        fill_row(last, whole * 16, &bytes[whole * 16..]);
    }
}

/// Writes the offset `base`, up to 16 octets and the newline into a row of spaces that has
/// room for them.
#[inline]
fn fill_row(line: &mut [u8], base: usize, chunk: &[u8]) {
    for (k, shift) in [12, 8, 4, 0].into_iter().enumerate() {
        line[k] = HEX[(base >> shift) & 0xf];
    }
    for (i, &b) in chunk.iter().enumerate() {
        let [hi, lo] = HEX_PAIR[usize::from(b)];
        line[6 + 3 * i] = hi;
        line[7 + 3 * i] = lo;
        line[56 + i] = shown(b);
    }
    line[56 + chunk.len()] = b'\n';
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
    fn whole_rows_and_unprintable_octets() {
        let data: Vec<u8> = [b' ', b'~', 0x7f, 0x80, 0xff, 0x1f, b'A']
            .into_iter()
            .cycle()
            .take(32)
            .collect();
        let mut out = Vec::new();
        rows(&mut out, &data, None, false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "0000  20 7e 7f 80 ff 1f 41 20 7e 7f 80 ff 1f 41 20 7e    ~....A ~....A ~\n\
             0010  7f 80 ff 1f 41 20 7e 7f 80 ff 1f 41 20 7e 7f 80   ....A ~....A ~..\n"
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
