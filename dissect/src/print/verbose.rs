//! `-V` and `-O`: the protocol tree as text, indented four spaces a level, each line the text
//! Wireshark shows for the item (bit patterns for bitfields, value names, units).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::value::{Style, write_value};
use crate::field::{Base, Ftype};
use crate::tree::{Node, Tree, Value};

/// Writes the tree of one frame. With `only` non-empty, protocols not listed show their top
/// line only (tshark's `-O`).
pub fn write(out: &mut dyn Write, t: &Tree, frame: &[u8], only: &[String]) -> io::Result<()> {
    let mut line = String::with_capacity(128);
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
        if n.depth == 0 && !only.is_empty() && !only.iter().any(|p| p == n.field.def().abbrev) {
            skip_below = Some(0);
        }
        line.clear();
        for _ in 0..n.depth {
            line.push_str("    ");
        }
        text(&mut line, t, frame, n);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Significant bits of a mask, from its lowest set bit.
fn mask_width(mask: u64) -> u32 {
    let m = mask >> mask.trailing_zeros();
    64 - m.leading_zeros()
}

/// Bits of the integer a field's mask applies to.
fn container_bits(def: &crate::field::FieldDef) -> u32 {
    match def.ftype {
        Ftype::Boolean => u32::from(def.bool_bits).max(8),
        Ftype::U8 => 8,
        Ftype::U16 | Ftype::I16 => 16,
        Ftype::U24 => 24,
        Ftype::U32 | Ftype::I32 | Ftype::FrameNum => 32,
        Ftype::U48 => 48,
        _ => 64,
    }
}

/// `.... ..1. .... ....` for `mask` over `bits` bits, showing `raw`'s bits under the mask.
fn bit_pattern(out: &mut String, mask: u64, raw: u64, bits: u32) {
    for i in (0..bits).rev() {
        let b = 1u64 << i;
        out.push(if mask & b == 0 {
            '.'
        } else if raw & b != 0 {
            '1'
        } else {
            '0'
        });
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
    }
    out.push_str(" = ");
}

/// The text of one node as `-V` shows it.
pub fn text(out: &mut String, t: &Tree, frame: &[u8], n: &Node) {
    if let Some(l) = n.label {
        out.push_str(t.arena_str(l));
        return;
    }
    let def = n.field.def();
    match (def.ftype, n.value) {
        (Ftype::Protocol | Ftype::None, Value::None) => {
            out.push_str(def.name);
            return;
        }
        (Ftype::Bytes, _) => {
            let b = t.node_bytes(frame, n);
            if def.parent == "data" || b.len() > 24 {
                let _ = write!(out, "{} ({} bytes)", def.name, b.len());
                return;
            }
        }
        _ => {}
    }
    if def.mask != 0 {
        let raw = match n.value {
            Value::Uint(v) => v << def.mask.trailing_zeros(),
            Value::Bool(true) => def.mask,
            Value::Int(v) => (v as u64) << def.mask.trailing_zeros(),
            _ => 0,
        };
        bit_pattern(out, def.mask, raw, container_bits(def));
    }
    out.push_str(def.name);
    out.push_str(": ");
    match n.value {
        Value::Bool(b) => {
            let (y, no) = def.bool_strings.unwrap_or(("True", "False"));
            out.push_str(if b { y } else { no });
        }
        Value::Uint(v) => {
            let width = if def.mask != 0 {
                mask_width(def.mask).div_ceil(4) as usize
            } else {
                def.ftype.hex_width().max(1)
            };
            let num = |out: &mut String| match def.base {
                Base::Hex => {
                    let _ = write!(out, "0x{v:0width$x}");
                }
                Base::HexDec => {
                    let _ = write!(out, "0x{v:0width$x} ({v})");
                }
                Base::DecHex => {
                    let _ = write!(out, "{v} (0x{v:0width$x})");
                }
                Base::Oct => {
                    let _ = write!(out, "0{v:o}");
                }
                _ => {
                    let _ = write!(out, "{v}");
                }
            };
            match def.value_name(v) {
                Some(name) => {
                    out.push_str(name);
                    out.push_str(" (");
                    num(out);
                    out.push(')');
                }
                None => num(out),
            }
        }
        Value::Int(v) => match def.values.iter().find(|(k, _)| *k as i64 == v) {
            Some((_, name)) => {
                let _ = write!(out, "{name} ({v})");
            }
            None => {
                let _ = write!(out, "{v}");
            }
        },
        Value::RelTime(_) => {
            write_value(out, t, frame, n, Style::Fields);
            out.push_str(" seconds");
        }
        _ => write_value(out, t, frame, n, Style::Fields),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_patterns_group_by_nibble() {
        let mut s = String::new();
        bit_pattern(&mut s, 0x0f, 0x02, 8);
        assert_eq!(s, ".... 0010 = ");
        s.clear();
        bit_pattern(&mut s, 0x020000, 0x020000, 24);
        assert_eq!(s, ".... ..1. .... .... .... .... = ");
        assert_eq!(mask_width(0x0fff), 12);
        assert_eq!(mask_width(0xc0), 2);
    }
}
