//! The default output: one line per frame, as tshark prints it, coloured by layer and severity
//! on a terminal.

use std::io::Write;

use colored::Colorize;

use crate::dissector::{Layer, Summary};
use crate::text;
use crate::tree::Severity;

/// Appends a summary line to `out`:
/// `{number:>5} {time:>12} {src:>15} → {dst:<15} {proto:<8} {len:>5} {info}`, with the time
/// relative to the first frame in seconds to the microsecond.
pub fn line(out: &mut Vec<u8>, number: u64, rel_ns: i64, len: u32, s: &Summary, color: bool) {
    let arrow = if s.src.is_empty() && s.dst.is_empty() {
        ""
    } else {
        "\u{2192}"
    };
    let proto = if s.protocol.is_empty() {
        "Unknown"
    } else {
        s.protocol
    };
    let mut digits = itoa::Buffer::new();
    text::push_right(out, digits.format(number), 5);
    out.push(b' ');
    let mut time = [0u8; 32];
    text::push_right(out, rel_time_us(&mut time, rel_ns), 12);
    out.push(b' ');
    text::push_right(out, &s.src, 15);
    out.push(b' ');
    out.extend_from_slice(arrow.as_bytes());
    out.push(b' ');
    text::push_left(out, &s.dst, 15);
    out.push(b' ');
    if !color {
        text::push_left(out, proto, 8);
        out.push(b' ');
        text::push_right(out, digits.format(len), 5);
        out.push(b' ');
        out.extend_from_slice(s.info.as_bytes());
        out.push(b'\n');
        return;
    }
    let proto_c = match s.layer {
        Layer::OneShot => proto.magenta().bold(),
        Layer::Iscsi => proto.cyan(),
        Layer::Rdma => proto.blue(),
        Layer::Mpa => proto.yellow(),
        Layer::Tcp => proto.normal(),
    };
    let info_c = match s.worst {
        Some(Severity::Error) => s.info.red().bold(),
        Some(Severity::Warning) => s.info.yellow(),
        _ => match s.layer {
            Layer::OneShot => s.info.magenta(),
            _ => s.info.normal(),
        },
    };
    // Writing to a Vec cannot fail.
    let _ = writeln!(out, "{proto_c:<8} {len:>5} {info_c}");
}

/// `[-]seconds.microseconds` (truncated to the microsecond) of `ns`, written at the end of
/// `buf`; returns the text.
fn rel_time_us(buf: &mut [u8; 32], ns: i64) -> &str {
    let a = ns.unsigned_abs();
    let (mut secs, mut us) = (a / 1_000_000_000, a % 1_000_000_000 / 1000);
    let mut at = buf.len();
    for _ in 0..6 {
        at -= 1;
        buf[at] = b'0' + (us % 10) as u8;
        us /= 10;
    }
    at -= 1;
    buf[at] = b'.';
    loop {
        at -= 1;
        buf[at] = b'0' + (secs % 10) as u8;
        secs /= 10;
        if secs == 0 {
            break;
        }
    }
    if ns < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // Digits, '.' and '-' only.
    std::str::from_utf8(&buf[at..]).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_print_as_seconds_to_the_microsecond() {
        let mut b = [0u8; 32];
        let t = |b: &mut [u8; 32], ns| rel_time_us(b, ns).to_string();
        assert_eq!(t(&mut b, 0), "0.000000");
        assert_eq!(t(&mut b, 1_999), "0.000001");
        assert_eq!(t(&mut b, 12_345_678_901), "12.345678");
        assert_eq!(t(&mut b, -1_500_000_000), "-1.500000");
        assert_eq!(t(&mut b, i64::MIN), "-9223372036.854775");
        for ns in [
            0i64,
            7,
            999_999_999,
            1_000_000_000,
            86_400_123_456_789,
            -42_000,
        ] {
            let a = ns.unsigned_abs();
            let sign = if ns < 0 { "-" } else { "" };
            let want = format!(
                "{sign}{}.{:06}",
                a / 1_000_000_000,
                a % 1_000_000_000 / 1000
            );
            assert_eq!(t(&mut b, ns), want);
        }
    }
}
