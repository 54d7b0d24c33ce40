//! `-V` and `-O`: the protocol tree as text, the way tshark 4.0 prints it.
//!
//! Each node is one line, indented four spaces a level. A node with a custom label (the
//! builders' `Tree::label`) prints that text; any other node is written from its field's
//! registry row, as Wireshark's `proto_item_fill_label` does:
//! - a bitfield starts with its bit pattern over the whole integer (`.... ..01 = `),
//! - then `Name: value`, where an integer with value names reads `Name (number)` in the field's
//!   base (the name alone for `BASE_NONE`), a boolean reads its true/false strings (`True`,
//!   `Set`, …), a unit follows the number (`94 bytes`), octets are hex without separators cut
//!   after 36 octets with `…`, MAC addresses repeat themselves in parentheses (tshark's
//!   resolved form, which with name resolution off is the address again), relative times end
//!   in ` seconds`;
//! - generated fields (registry `generated`, from `display.tsv`) are in brackets: `[Name: v]`.
//!
//! Hidden nodes and their subtrees are not printed. As in tshark, an expanded `data` protocol
//! is followed by a blank line and a hex dump of its octets when `-x` is not given.
//!
//! `-O p1,p2` expands only the listed protocols; the others show their top line alone.
//!
//! The writer appends every line to the printer's buffer of octets; labels are assembled with
//! the [`crate::text`] helpers, never `core::fmt`, as `-V` writes about a hundred lines a frame.
//! Most of those lines are the same from frame to frame (flags, versions, codes, addresses):
//! the writer keeps the last two lines of each field whose text depends on its value alone
//! and copies one back when its value does.

use super::hex;
use super::value::{write_abs_time, write_rel_time};
use crate::field::{Base, FieldDef, Ftype};
use crate::registry::f;
use crate::text::{self, Text};
use crate::tree::{Node, Tree, Value};

/// Octets tshark writes of an `FT_BYTES` value in a label before it cuts with `…`.
const BYTES_IN_LABEL: usize = 36;

/// The `-V` writer; remembers lines between frames.
#[derive(Debug, Default)]
pub struct Verbose {
    /// By field id: the last two values written by [`Verbose::line`] (a field may come twice
    /// a frame: `eth.addr`, `ip.addr`), their texts, and which of them to replace next.
    last: Vec<Recent>,
}

/// The last two lines of a field, with the values they show.
#[derive(Debug, Default)]
struct Recent {
    lines: [Option<(Value, Vec<u8>)>; 2],
    next: usize,
}

impl Verbose {
    /// A writer.
    pub fn new() -> Self {
        Verbose::default()
    }

    /// Appends the tree of one frame to `out`. With `only` non-empty, protocols not listed
    /// show their top line only (tshark's `-O`). `hex` tells that a hex dump of the frame
    /// follows (then `data` gets no dump of its own).
    pub fn write_tree(
        &mut self,
        out: &mut Vec<u8>,
        t: &Tree,
        frame: &[u8],
        only: &[String],
        hex: bool,
    ) {
        let mut skip_below: Option<u8> = None;
        for n in &t.nodes {
            if let Some(d) = skip_below {
                if n.depth > d {
                    continue;
                }
                skip_below = None;
            }
            if n.hidden {
                skip_below = Some(n.depth);
                continue;
            }
            let collapsed =
                n.depth == 0 && !only.is_empty() && !only.iter().any(|p| p == n.field.def().abbrev);
            if collapsed {
                skip_below = Some(0);
            }
            text::spaces(out, 4 * usize::from(n.depth));
            self.line(out, t, frame, n);
            out.push(b'\n');
            if n.field == f::DATA && !hex && !collapsed {
                out.push(b'\n');
                hex::rows(out, t.node_bytes(frame, n), None, false);
            }
        }
    }

    /// The [`text`] of a node: copied when its field last had the same value, if the text
    /// depends on the value alone.
    #[inline]
    fn line(&mut self, out: &mut Vec<u8>, t: &Tree, frame: &[u8], n: &Node) {
        if !by_value(n) {
            text(out, t, frame, n);
            return;
        }
        let i = usize::from(n.field.0);
        if self.last.len() <= i {
            self.last.resize_with(i + 1, Recent::default);
        }
        let recent = &mut self.last[i];
        if let Some((_, line)) = recent.lines.iter().flatten().find(|(v, _)| *v == n.value) {
            out.extend_from_slice(line);
            return;
        }
        let start = out.len();
        text(out, t, frame, n);
        let slot = &mut recent.lines[recent.next];
        recent.next ^= 1;
        let (v, line) = slot.get_or_insert_with(|| (n.value, Vec::new()));
        *v = n.value;
        line.clear();
        line.extend_from_slice(&out[start..]);
    }
}

/// Whether a node's text depends on its field and value alone (no custom label, nor octets of
/// the frame or text of the tree), and the value is one that comes back frame after frame
/// (times never do).
#[inline]
fn by_value(n: &Node) -> bool {
    n.label.is_none()
        && matches!(
            n.value,
            Value::Bool(_)
                | Value::Uint(_)
                | Value::Int(_)
                | Value::Ether(_)
                | Value::Ipv4(_)
                | Value::Ipv6(_)
                | Value::Str(_)
        )
}

/// Significant bits of a mask, from its lowest set bit.
fn mask_width(mask: u64) -> u32 {
    if mask == 0 {
        return 0;
    }
    let m = mask >> mask.trailing_zeros();
    64 - m.leading_zeros()
}

/// Bits of the integer a field's mask applies to.
fn container_bits(def: &FieldDef) -> u32 {
    match def.ftype {
        Ftype::Boolean => u32::from(def.bool_bits).clamp(8, 64),
        Ftype::U8 => 8,
        Ftype::U16 | Ftype::I16 => 16,
        Ftype::U24 => 24,
        Ftype::U32 | Ftype::I32 | Ftype::FrameNum => 32,
        Ftype::U48 => 48,
        _ => 64,
    }
}

/// `NIBBLE[mask][value]`: the four characters of a bit pattern for one nibble, `.` where
/// `mask` has no bit, else the bit of `value`; then the space after the group.
const NIBBLE: [[[u8; 5]; 16]; 16] = nibble_patterns();

const fn nibble_patterns() -> [[[u8; 5]; 16]; 16] {
    let mut table = [[[b'.', b'.', b'.', b'.', b' ']; 16]; 16];
    let mut mask = 0;
    while mask < 16 {
        let mut value = 0;
        while value < 16 {
            let mut k = 0;
            while k < 4 {
                let bit = 8 >> k;
                if mask & bit != 0 {
                    table[mask][value][k] = if value & bit != 0 { b'1' } else { b'0' };
                }
                k += 1;
            }
            value += 1;
        }
        mask += 1;
    }
    table
}

/// `.... ..1. .... .... = ` for `mask` over `bits` bits (8 to 64), showing `raw`'s bits under
/// the mask: groups of four from the lowest bit, a space between groups.
fn bit_pattern(out: &mut Vec<u8>, mask: u64, raw: u64, bits: u32) {
    let group = |k: u32| &NIBBLE[(mask >> (4 * k)) as usize & 0xf][(raw >> (4 * k)) as usize & 0xf];
    let mut k = bits.div_ceil(4);
    if bits % 4 != 0 {
        // A top group of fewer than four bits: the end of its nibble.
        k -= 1;
        out.extend_from_slice(&group(k)[(4 - bits % 4) as usize..]);
    }
    while k > 0 {
        k -= 1;
        out.extend_from_slice(group(k));
    }
    out.extend_from_slice(b"= ");
}

/// Hex digits tshark pads an integer to: the mask's width for a bitfield, else the type's.
fn hex_digits(def: &FieldDef) -> usize {
    if def.mask != 0 {
        mask_width(def.mask).div_ceil(4) as usize
    } else {
        def.ftype.hex_width().max(1)
    }
}

/// An unsigned value in the field's base, as labels write it.
fn number(out: &mut Vec<u8>, def: &FieldDef, v: u64) {
    match def.base {
        Base::Hex => {
            out.push_str("0x");
            text::push_hex(out, v, hex_digits(def));
        }
        Base::HexDec => {
            out.push_str("0x");
            text::push_hex(out, v, hex_digits(def));
            out.push_str(" (");
            text::push_dec(out, v);
            out.push(b')');
        }
        Base::DecHex => {
            text::push_dec(out, v);
            out.push_str(" (0x");
            text::push_hex(out, v, hex_digits(def));
            out.push(b')');
        }
        Base::Oct => out.push_fmt(format_args!("0{v:o}")),
        _ => text::push_dec(out, v),
    }
}

/// The number in parentheses after a value name: decimal, or hex for the hex bases.
fn number_after_name(out: &mut Vec<u8>, def: &FieldDef, v: u64) {
    match def.base {
        Base::Hex | Base::HexDec => {
            out.push_str("0x");
            text::push_hex(out, v, hex_digits(def));
        }
        _ => text::push_dec(out, v),
    }
}

/// The text of one node as `-V` shows it, brackets included for generated fields.
#[inline]
pub fn text(out: &mut Vec<u8>, t: &Tree, frame: &[u8], n: &Node) {
    let def = n.field.def();
    if def.generated {
        out.push(b'[');
    }
    let start = out.len();
    let name_end = body(out, t, frame, n, def);
    if out.len() - start >= LABEL_LENGTH {
        truncate_label(out, start, name_end);
    }
    if def.generated {
        out.push(b']');
    }
}

/// Wireshark's label buffer (`ITEM_LABEL_LENGTH`, its terminating NUL included).
const LABEL_LENGTH: usize = 240;
const TRUNCATED: &str = " [truncated]";

/// A label that does not fit tshark's buffer is cut as tshark cuts it: ` [truncated]` goes
/// after the field's name (at the start of a custom label) and the whole keeps 238 octets,
/// cut at a character boundary.
#[cold]
fn truncate_label(out: &mut Vec<u8>, start: usize, name_end: Option<usize>) {
    let at = name_end.unwrap_or(start);
    out.splice(at..at, TRUNCATED.bytes());
    // Back to the start of a character: off UTF-8 continuation octets (0b10xx_xxxx).
    let mut cut = start + LABEL_LENGTH - 2;
    while cut > start && out[cut] & 0xC0 == 0x80 {
        cut -= 1;
    }
    out.truncate(cut);
}

/// Writes the label; returns where the field's name ends for a `Name: value` label.
#[inline]
fn body(out: &mut Vec<u8>, t: &Tree, frame: &[u8], n: &Node, def: &FieldDef) -> Option<usize> {
    if let Some(l) = n.label {
        out.push_str(t.arena_str(l));
        return None;
    }
    if matches!(def.ftype, Ftype::Protocol | Ftype::None) {
        out.push_str(def.name);
        return None;
    }
    if def.mask != 0 {
        let shift = def.mask.trailing_zeros();
        let raw = match n.value {
            Value::Uint(v) => v << shift,
            Value::Bool(true) => def.mask,
            Value::Int(v) => (v as u64) << shift,
            _ => 0,
        };
        bit_pattern(out, def.mask, raw, container_bits(def));
    }
    out.push_str(def.name);
    let name_end = out.len();
    out.push_str(": ");
    match n.value {
        Value::Bool(b) => {
            let (y, no) = def.bool_strings.unwrap_or(("True", "False"));
            out.push_str(if b { y } else { no });
        }
        Value::Uint(v) => {
            if def.values.is_empty() {
                number(out, def, v);
            } else {
                out.push_str(def.value_name(v).unwrap_or("Unknown"));
                if def.base != Base::Plain {
                    out.push_str(" (");
                    number_after_name(out, def, v);
                    out.push(b')');
                }
            }
            unit(out, def);
        }
        Value::Int(v) => {
            if !def.values.is_empty() {
                let name = def.values.iter().find(|(k, _)| *k as i64 == v);
                out.push_str(name.map_or("Unknown", |(_, name)| name));
                out.push_str(" (");
            }
            text::push_dec(out, v);
            if !def.values.is_empty() {
                out.push(b')');
            }
            unit(out, def);
        }
        Value::Bytes => {
            let b = t.node_bytes(frame, n);
            if b.is_empty() {
                out.push_str("<MISSING>");
            } else {
                for &x in b.iter().take(BYTES_IN_LABEL) {
                    text::push_hex_byte(out, x);
                }
                if b.len() > BYTES_IN_LABEL {
                    out.push_str("…");
                }
            }
        }
        Value::Ether(m) => {
            text::push_mac(out, &m);
            out.push_str(" (");
            text::push_mac(out, &m);
            out.push(b')');
        }
        Value::Ipv4(a) => text::push_ipv4(out, a),
        Value::Ipv6(a) => out.push_fmt(format_args!("{}", std::net::Ipv6Addr::from(a))),
        Value::Str(s) => out.push_str(s),
        Value::Text(a, b) => out.push_str(t.arena_str((a, b))),
        Value::AbsTime(ns) => write_abs_time(out, ns),
        Value::RelTime(ns) => {
            write_rel_time(out, ns);
            out.push_str(" seconds");
        }
        Value::Double(d) => out.push_fmt(format_args!("{d}")),
        Value::None => {}
    }
    Some(name_end)
}

fn unit(out: &mut Vec<u8>, def: &FieldDef) {
    if !def.unit.is_empty() {
        out.push(b' ');
        out.push_str(def.unit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FRAME_SOURCE;

    fn pattern(mask: u64, raw: u64, bits: u32) -> String {
        let mut s = Vec::new();
        bit_pattern(&mut s, mask, raw, bits);
        String::from_utf8(s).unwrap()
    }

    #[test]
    fn bit_patterns_group_by_nibble() {
        assert_eq!(pattern(0x0f, 0x02, 8), ".... 0010 = ");
        assert_eq!(
            pattern(0x020000, 0x020000, 24),
            ".... ..1. .... .... .... .... = "
        );
        // TCP's 12-bit flags, and a width that is not whole nibbles.
        assert_eq!(pattern(0xe00, 0x200, 12), "001. .... .... = ");
        assert_eq!(pattern(0x13, 0x12, 10), ".. ...1 ..10 = ");
        assert_eq!(
            pattern(u64::MAX, 1 << 63 | 1, 64),
            "1000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0001 = "
        );
        assert_eq!(mask_width(0x0fff), 12);
        assert_eq!(mask_width(0xc0), 2);
    }

    fn line(t: &Tree, frame: &[u8], i: usize) -> String {
        let mut s = Vec::new();
        text(&mut s, t, frame, &t.nodes[i]);
        String::from_utf8(s).unwrap()
    }

    /// Lines checked by hand against `tshark -V` on captures/conventional-write.pcapng.
    #[test]
    fn labels_read_like_tsharks() {
        let frame = [0x41u8, 0x45, 0, 0, 0, 0, 0x00, 0x5e];
        let mut t = Tree::default();
        t.add(f::IWARP_DDP_DV, Value::Uint(1), FRAME_SOURCE, 0, 1);
        t.add(f::IWARP_DDP_RSVD, Value::Uint(0), FRAME_SOURCE, 0, 1);
        t.add(
            f::IWARP_DDP_LAST_FLAG,
            Value::Bool(true),
            FRAME_SOURCE,
            0,
            1,
        );
        t.add(f::IWARP_RDMA_OPCODE, Value::Uint(5), FRAME_SOURCE, 1, 1);
        t.add(f::IWARP_DDP_RSVDULP, Value::Bytes, FRAME_SOURCE, 1, 5);
        t.add(
            f::IWARP_MPA_ULPDULENGTH,
            Value::Uint(94),
            FRAME_SOURCE,
            6,
            2,
        );
        t.add(f::IP_CHECKSUM_STATUS, Value::Uint(2), FRAME_SOURCE, 0, 0);
        t.add(f::ETH_TYPE, Value::Uint(0x0800), FRAME_SOURCE, 0, 2);
        t.add(f::IP_FLAGS_DF, Value::Bool(true), FRAME_SOURCE, 0, 1);
        t.add(f::DATA_LEN, Value::Uint(76), FRAME_SOURCE, 0, 0);
        t.add(
            f::ETH_DST,
            Value::Ether([2, 0, 0, 0, 0, 2]),
            FRAME_SOURCE,
            0,
            6,
        );
        t.add(
            f::FRAME_TIME_DELTA,
            Value::RelTime(6033),
            FRAME_SOURCE,
            0,
            0,
        );
        let want = [
            ".... ..01 = DDP protocol version: 1",
            "..00 00.. = Reserved: 0x0",
            ".1.. .... = Last flag: True",
            ".... 0101 = OpCode: Send with SE (0x5)",
            "Reserved for use by the ULP: 4500000000",
            "ULPDU length: 94 bytes",
            "[Header checksum status: Unverified]",
            "Type: IPv4 (0x0800)",
            ".1.. .... = Don't fragment: Set",
            "[Length: 76]",
            "Destination: 02:00:00:00:00:02 (02:00:00:00:00:02)",
            "[Time delta from previous captured frame: 0.000006033 seconds]",
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(line(&t, &frame, i), *w);
        }
    }

    /// Checked against `tshark -V` on captures/markers.pcapng (frame 5's 4-command comment).
    #[test]
    fn long_labels_are_truncated_like_tsharks() {
        let frame = [0u8; 4];
        let mut t = Tree::default();
        let long = "x".repeat(300);
        let i = t.add(f::FRAME_COMMENT, Value::None, FRAME_SOURCE, 0, 0);
        t.label(i, format_args!("{long}"));
        let s = line(&t, &frame, 0);
        assert_eq!(s.len(), 238);
        assert_eq!(s, format!(" [truncated]{}", &long[..226]));
        let i = t.add(f::_WS_EXPERT, Value::None, FRAME_SOURCE, 0, 0);
        t.label(i, format_args!("Expert Info (Comment/Comment): {long}"));
        let s = line(&t, &frame, 1);
        assert_eq!(s.len(), 240);
        assert!(s.starts_with("[ [truncated]Expert Info (Comment/Comment): xxx"));
        assert!(s.ends_with("x]"));
        // A generic label: the mark goes after the name.
        let v = t.text_value(f::FRAME_INTERFACE_NAME, format_args!("{long}"));
        t.add(f::FRAME_INTERFACE_NAME, v, FRAME_SOURCE, 0, 0);
        let s = line(&t, &frame, 2);
        assert!(s.starts_with("Interface name [truncated]: xxx"), "{s}");
        assert_eq!(s.len(), 238);
        // 239 octets fit.
        let i = t.add(f::FRAME_COMMENT, Value::None, FRAME_SOURCE, 0, 0);
        t.label(i, format_args!("{}", &long[..239]));
        assert_eq!(line(&t, &frame, 3), &long[..239]);
    }

    #[test]
    fn long_octets_are_cut_after_36() {
        let frame: Vec<u8> = (0..40).collect();
        let mut t = Tree::default();
        t.add(f::DATA_DATA, Value::Bytes, FRAME_SOURCE, 0, 40);
        let s = line(&t, &frame, 0);
        assert_eq!(
            s,
            "Data: 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223…"
        );
    }

    /// Lines copied from earlier frames read as lines written afresh, whatever the order in
    /// which values come and go.
    #[test]
    fn remembered_lines_match_fresh_ones() {
        let frame = [0u8; 8];
        let mut remembering = Verbose::new();
        let macs = [[2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2], [0xff; 6]];
        for (k, ttl) in [64u64, 64, 1, 64, 255, 1, 1].into_iter().enumerate() {
            let mut t = Tree::default();
            t.add(f::ETH, Value::None, FRAME_SOURCE, 0, 8);
            t.push();
            for m in [macs[k % 3], macs[(k + 1) % 3]] {
                t.add(f::ETH_ADDR, Value::Ether(m), FRAME_SOURCE, 0, 6);
            }
            t.add(f::IP_TTL, Value::Uint(ttl), FRAME_SOURCE, 0, 1);
            t.add(f::IP_FLAGS_DF, Value::Bool(ttl > 1), FRAME_SOURCE, 0, 1);
            t.add(f::IWARP_DDP_RSVDULP, Value::Bytes, FRAME_SOURCE, 0, k % 8);
            t.pop();
            let (mut again, mut fresh) = (Vec::new(), Vec::new());
            remembering.write_tree(&mut again, &t, &frame, &[], true);
            Verbose::new().write_tree(&mut fresh, &t, &frame, &[], true);
            assert_eq!(
                String::from_utf8(again).unwrap(),
                String::from_utf8(fresh).unwrap()
            );
        }
    }

    #[test]
    fn o_collapses_unlisted_protocols_and_hidden_nodes_vanish() {
        let frame = [0u8; 8];
        let mut t = Tree::default();
        t.add(f::IP, Value::None, FRAME_SOURCE, 0, 8);
        t.push();
        t.add(f::IP_TTL, Value::Uint(64), FRAME_SOURCE, 0, 1);
        t.add_hidden(f::IP_ADDR, Value::Ipv4([1, 2, 3, 4]), FRAME_SOURCE, 0, 4);
        t.pop();
        t.add(f::IWARP_MPA, Value::None, FRAME_SOURCE, 0, 8);
        t.push();
        t.add(f::IWARP_MPA_ULPDULENGTH, Value::Uint(2), FRAME_SOURCE, 0, 2);
        t.pop();
        let mut s = Vec::new();
        let mut v = Verbose::new();
        v.write_tree(&mut s, &t, &frame, &[], true);
        assert_eq!(
            String::from_utf8_lossy(&s),
            "Internet Protocol Version 4\n    Time to Live: 64\n\
             iWARP Marker Protocol data unit Aligned framing\n    ULPDU length: 2 bytes\n"
        );
        s.clear();
        v.write_tree(&mut s, &t, &frame, &["iwarp_mpa".to_string()], true);
        assert_eq!(
            String::from_utf8_lossy(&s),
            "Internet Protocol Version 4\n\
             iWARP Marker Protocol data unit Aligned framing\n    ULPDU length: 2 bytes\n"
        );
    }
}
