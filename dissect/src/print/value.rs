//! How a node's value is written, the way tshark 4.0 writes it in `-T fields` (and, with small
//! differences, in JSON and `-V`).

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
#[inline]
pub fn write_rel_time<T: Text + ?Sized>(out: &mut T, ns: i64) {
    let (buf, n) = rel_time_text(ns);
    out.push_ascii_bytes(&buf[..n]);
}

/// Octets the text of [`rel_time_text`] can take.
pub const REL_TIME_MAX: usize = 32;

/// [`write_rel_time`]'s text at the start of a buffer, and its length: assembled on the stack
/// so that a printer can append it in one copy of a known size.
#[inline]
pub fn rel_time_text(ns: i64) -> ([u8; REL_TIME_MAX], usize) {
    let mut buf = [0u8; REL_TIME_MAX];
    let neg = usize::from(ns < 0);
    buf[0] = b'-';
    let a = ns.unsigned_abs();
    let (secs, n) = dec_text(a / 1_000_000_000);
    buf[neg..neg + 20].copy_from_slice(&secs);
    let at = neg + n;
    buf[at] = b'.';
    // The nine digits of the fraction, zeros first: those of 10^9 + fraction after its "1".
    let (frac, _) = dec_text(a % 1_000_000_000 + 1_000_000_000);
    buf[at + 1..at + 10].copy_from_slice(&frac[1..10]);
    (buf, at + 10)
}

/// Powers of ten a `u64` holds; the first is 0 so that 0 has one digit.
const POW10: [u64; 20] = {
    let mut p = [0u64; 20];
    let mut i = 1;
    let mut x = 10u64;
    while i < 20 {
        p[i] = x;
        x = x.wrapping_mul(10);
        i += 1;
    }
    p
};

/// `{}` of `v` at the start of a buffer, and its length (a printer appends the whole buffer,
/// a copy of known size, then cuts it to the length).
#[inline]
pub fn dec_text(v: u64) -> ([u8; 20], usize) {
    let mut buf = [b'0'; 20];
    // Digits: log10 estimated from the bit length (1233 / 4096 ~ log10 2), then corrected.
    let t = (((64 - (v | 1).leading_zeros()) as usize * 1233) >> 12).min(19);
    let n = t + usize::from(v >= POW10[t]);
    let mut v = v;
    let mut i = n;
    while v >= 100 && i >= 2 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&text::DIGIT_PAIRS[d..d + 2]);
    }
    if v >= 10 && i >= 2 {
        let d = v as usize * 2;
        buf[i - 2..i].copy_from_slice(&text::DIGIT_PAIRS[d..d + 2]);
    } else if i >= 1 {
        buf[i - 1] = b'0' + v as u8;
    }
    (buf, n)
}

/// `0x{:0width$x}` of an unsigned integer (`width` at most 16): how `-T fields` writes a
/// hexadecimal field.
#[inline]
pub fn push_0x_hex<T: Text + ?Sized>(out: &mut T, v: u64, width: usize) {
    let (buf, n) = hex_0x_text(v, width);
    out.push_ascii_bytes(&buf[..n]);
}

/// [`push_0x_hex`]'s text at the start of a buffer, and its length.
#[inline]
pub fn hex_0x_text(v: u64, width: usize) -> ([u8; 18], usize) {
    let digits = (64 - v.leading_zeros()).div_ceil(4) as usize;
    let digits = digits.max(width).clamp(1, 16);
    // All sixteen digits at once (each nibble spread to an octet, then made a digit), moved
    // to the front of the buffer by a shift of the whole.
    let all = (u128::from(hex_digits(v >> 32)) << 64) | u128::from(hex_digits(v & 0xffff_ffff));
    let front = (all << (8 * (16 - digits))).to_be_bytes();
    let mut buf = [0u8; 18];
    buf[0] = b'0';
    buf[1] = b'x';
    buf[2..].copy_from_slice(&front);
    (buf, 2 + digits)
}

/// The eight lower-case hex digits of the low 32 bits of `x`, most significant in the most
/// significant octet.
#[inline]
fn hex_digits(x: u64) -> u64 {
    let x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    let x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // 1 in each octet whose nibble is 10 or more (a letter).
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    x + 0x3030_3030_3030_3030 + letters * u64::from(b'a' - b'0' - 10)
}

pub use crate::text::ipv4_text;

/// Writes `n`'s value to `out`.
pub fn write_value<T: Text + ?Sized>(
    out: &mut T,
    tree: &Tree,
    frame: &[u8],
    n: &Node,
    style: Style,
) {
    let def = n.field.def();
    match n.value {
        Value::None => {
            if def.ftype == Ftype::Protocol {
                match n.label {
                    Some(l) => out.push_str(tree.arena_str(l)),
                    None => out.push_str(def.abbrev),
                }
            } else {
                out.push_ascii(b'1');
            }
        }
        Value::Bool(b) => out.push_ascii(if b { b'1' } else { b'0' }),
        Value::Uint(v) => match def.base {
            Base::Hex | Base::HexDec => push_0x_hex(out, v, def.ftype.hex_width()),
            Base::Oct => out.push_fmt(format_args!("0{v:o}")),
            _ => text::push_dec(out, v),
        },
        Value::Int(v) => text::push_dec(out, v),
        Value::Bytes => {
            let sep = (style == Style::Json).then_some(b':');
            super::hex::push_hex(out, tree.node_bytes(frame, n), sep);
        }
        Value::Ether(m) => text::push_mac(out, &m),
        Value::Ipv4(a) => text::push_ipv4(out, a),
        Value::Ipv6(a) => out.push_fmt(format_args!("{}", std::net::Ipv6Addr::from(a))),
        Value::Str(s) => out.push_str(s),
        Value::Text(a, b) => out.push_str(tree.arena_str((a, b))),
        Value::AbsTime(ns) => write_abs_time(out, ns),
        Value::RelTime(ns) => write_rel_time(out, ns),
        Value::Double(d) => out.push_fmt(format_args!("{d}")),
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
        s.clear();
        write_rel_time(&mut s, i64::MIN);
        assert_eq!(
            s,
            format!(
                "-{}.{:09}",
                i64::MIN.unsigned_abs() / 1_000_000_000,
                i64::MIN.unsigned_abs() % 1_000_000_000
            )
        );
    }

    #[test]
    fn numbers_print_like_core_fmt() {
        let mut cases: Vec<u64> =
            vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        for k in 0..20 {
            let p = 10u64.pow(k);
            cases.extend([p - 1, p, p + 1, p.wrapping_mul(7) / 3]);
        }
        for v in cases {
            let (b, n) = dec_text(v);
            assert_eq!(std::str::from_utf8(&b[..n]).unwrap(), v.to_string());
            for w in [0, 1, 2, 4, 8, 16] {
                let (b, n) = hex_0x_text(v, w);
                let want = format!("0x{:0w$x}", v, w = w.max(1));
                assert_eq!(std::str::from_utf8(&b[..n]).unwrap(), want);
            }
        }
        for a in [
            [0, 0, 0, 0],
            [10, 0, 0, 1],
            [255, 255, 255, 255],
            [1, 20, 100, 9],
        ] {
            let (b, n) = ipv4_text(a);
            let want = std::net::Ipv4Addr::from(a).to_string();
            assert_eq!(std::str::from_utf8(&b[..n]).unwrap(), want);
        }
    }
}
