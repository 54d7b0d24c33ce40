//! How a node's value is written, the way tshark 4.0 writes it in `-T fields` (and, with small
//! differences, in JSON and `-V`).

use std::fmt::Write as _;

use crate::field::{Base, Ftype};
use crate::text::{self, Text};
use crate::tree::{Node, Tree, Value};

/// Formatting flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `-T fields`: bytes without separators.
    Fields,
    /// `-T json` / `-T ek`: bytes with colons.
    Json,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 → (year, month 1-12, day 1-31) (proleptic Gregorian; Howard Hinnant's
/// civil_from_days).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `Jan  1, 2026 00:00:00.000000000 UTC` (tshark's absolute time, in UTC).
pub fn write_abs_time<T: Text + ?Sized>(out: &mut T, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // "{month} {d:>2}, {y} {h:02}:{m:02}:{s:02}.{frac:09} UTC"
    out.push_str(MONTHS[(m - 1) as usize]);
    out.push_str(if d < 10 { "  " } else { " " });
    text::push_dec(out, d);
    out.push_str(", ");
    text::push_dec(out, y);
    out.push_ascii(b' ');
    text::push_dec_zero(out, (sod / 3600) as u64, 2);
    out.push_ascii(b':');
    text::push_dec_zero(out, (sod / 60 % 60) as u64, 2);
    out.push_ascii(b':');
    text::push_dec_zero(out, (sod % 60) as u64, 2);
    out.push_ascii(b'.');
    text::push_dec_zero(out, frac as u64, 9);
    out.push_str(" UTC");
}

/// `seconds.nanoseconds`, as tshark prints relative times.
pub fn write_rel_time<T: Text + ?Sized>(out: &mut T, ns: i64) {
    if ns < 0 {
        out.push_ascii(b'-');
    }
    let a = ns.unsigned_abs();
    text::push_dec(out, a / 1_000_000_000);
    out.push_ascii(b'.');
    text::push_dec_zero(out, a % 1_000_000_000, 9);
}

/// Writes `n`'s value to `out`.
pub fn write_value(out: &mut String, tree: &Tree, frame: &[u8], n: &Node, style: Style) {
    let def = n.field.def();
    match n.value {
        Value::None => {
            if def.ftype == Ftype::Protocol {
                match n.label {
                    Some(l) => out.push_str(tree.arena_str(l)),
                    None => out.push_str(def.abbrev),
                }
            } else {
                out.push('1');
            }
        }
        Value::Bool(b) => out.push(if b { '1' } else { '0' }),
        Value::Uint(v) => match def.base {
            Base::Hex | Base::HexDec => {
                out.push_str("0x");
                text::push_hex(out, v, def.ftype.hex_width().max(1));
            }
            Base::Oct => {
                let _ = write!(out, "0{v:o}");
            }
            _ => text::push_dec(out, v),
        },
        Value::Int(v) => text::push_dec(out, v),
        Value::Bytes => {
            let sep = (style == Style::Json).then_some(b':');
            super::hex::push_hex(out, tree.node_bytes(frame, n), sep);
        }
        Value::Ether(m) => text::push_mac(out, &m),
        Value::Ipv4(a) => text::push_ipv4(out, a),
        Value::Ipv6(a) => {
            let _ = write!(out, "{}", std::net::Ipv6Addr::from(a));
        }
        Value::Str(s) => out.push_str(s),
        Value::Text(a, b) => out.push_str(tree.arena_str((a, b))),
        Value::AbsTime(ns) => write_abs_time(out, ns),
        Value::RelTime(ns) => write_rel_time(out, ns),
        Value::Double(d) => {
            let _ = write!(out, "{d}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_tshark() {
        let mut s = String::new();
        write_abs_time(&mut s, 1_767_225_600_000_002_027);
        assert_eq!(s, "Jan  1, 2026 00:00:00.000002027 UTC");
        s.clear();
        write_abs_time(&mut s, 951_782_400_123_000_000 + 86_400 * 1_000_000_000);
        assert_eq!(s, "Mar  1, 2000 00:00:00.123000000 UTC");
        s.clear();
        write_abs_time(&mut s, 1_764_162_309_000_000_001);
        assert_eq!(s, "Nov 26, 2025 13:05:09.000000001 UTC");
        s.clear();
        write_abs_time(&mut s, -1);
        assert_eq!(s, "Dec 31, 1969 23:59:59.999999999 UTC");
        s.clear();
        write_rel_time(&mut s, 1_767_225_600_000_002_027);
        assert_eq!(s, "1767225600.000002027");
        s.clear();
        write_rel_time(&mut s, -1);
        assert_eq!(s, "-0.000000001");
    }
}
