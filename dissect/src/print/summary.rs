//! The default output: one line per frame, as tshark prints it, coloured by layer and severity
//! on a terminal.

use std::io::Write;
use std::net::IpAddr;

use colored::Colorize;

use crate::dissector::{Layer, Summary};
use crate::text;
use crate::tree::Severity;

/// Appends a summary line to `out`:
/// `{number:>5} {time:>12} {src:>15} → {dst:<15} {proto:<8} {len:>5} {info}`, with the time
/// relative to the first frame in seconds to the microsecond.
///
/// Every column but the Info is assembled as ASCII octets on the stack and appended at once;
/// the address columns come from `addrs`, which keeps them for the conversations seen last.
pub fn line(
    out: &mut Vec<u8>,
    addrs: &mut AddrColumns,
    number: u64,
    rel_ns: i64,
    len: u32,
    s: &Summary,
    color: bool,
) {
    out.reserve(s.info.len() + 160);
    let mut b = [b' '; LINE];
    let mut start = number_and_time(&mut b, number, rel_ns);
    let mut at = HEAD;
    let cols = addrs.get(s);
    match cols {
        Some(c) if c.len() <= COLS => {
            b[at..at + c.len()].copy_from_slice(c);
            at += c.len();
        }
        _ => {
            out.extend_from_slice(&b[start..at]);
            match cols {
                Some(c) => out.extend_from_slice(c),
                None => addr_columns(out, &s.src, &s.dst),
            }
            start = at;
        }
    }
    let proto = if s.protocol.is_empty() {
        "Unknown"
    } else {
        s.protocol
    };
    if !color {
        match proto_and_len(&mut b, at, proto, len) {
            Some(end) => out.extend_from_slice(&b[start..end]),
            None => {
                out.extend_from_slice(&b[start..at]);
                text::push_left(out, proto, 8);
                out.push(b' ');
                text::push_right(out, itoa::Buffer::new().format(len), 5);
                out.push(b' ');
            }
        }
        out.extend_from_slice(s.info.as_bytes());
        out.push(b'\n');
        return;
    }
    out.extend_from_slice(&b[start..at]);
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

/// Where the address columns start in a line's stack buffer: the number and time (at most 20
/// digits, a space, 18 characters and a space) end there.
const HEAD: usize = 40;
/// The longest address columns that go through the stack buffer (two IPv6 addresses and the
/// arrow take 86 octets).
const COLS: usize = 96;
/// The stack buffer: the head, address columns and `{proto:<8} {len:>5} ` (at most 24
/// octets of protocol, a space, 10 digits and a space).
const LINE: usize = HEAD + COLS + 40;

/// Writes the decimal digits of `v` into `buf` ending before `at`; returns where they start.
fn digits_before(buf: &mut [u8], mut at: usize, mut v: u64) -> usize {
    while v >= 100 {
        let r = (v % 100) as usize * 2;
        v /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&text::DIGIT_PAIRS[r..r + 2]);
    }
    if v >= 10 {
        let r = v as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&text::DIGIT_PAIRS[r..r + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + v as u8;
    }
    at
}

/// Writes `{number:>5} {time:>12} ` into `b`, ending at [`HEAD`] (the spaces are there
/// already); returns where it starts.
fn number_and_time(b: &mut [u8; LINE], number: u64, rel_ns: i64) -> usize {
    let end = HEAD - 1;
    let at = rel_time_us(b, end, rel_ns).min(end - 12);
    let end = at - 1;
    digits_before(b, end, number).min(end - 5)
}

/// Writes `{proto:<8} {len:>5} ` into `b` from `at` (the spaces are there already); returns
/// where it ends, or `None` for a protocol name it does not take (over 24 octets or not
/// ASCII).
fn proto_and_len(b: &mut [u8; LINE], at: usize, proto: &str, len: u32) -> Option<usize> {
    let p = proto.as_bytes();
    if p.len() > 24 || !p.is_ascii() || at > HEAD + COLS {
        return None;
    }
    b[at..at + p.len()].copy_from_slice(p);
    // The length's column ends five characters after the protocol's (at least eight) and its
    // space, or where its digits end if they are more.
    let start = at + p.len().max(8) + 1;
    let digits = if len == 0 {
        1
    } else {
        len.ilog10() as usize + 1
    };
    let end = start + digits.max(5);
    digits_before(b, end, len.into());
    Some(end + 1)
}

/// A source and destination address.
type AddrPair = (IpAddr, IpAddr);

/// The address columns, `{src:>15} → {dst:<15} ` (without the arrow when both are empty), of
/// the last two address pairs: most frames carry the pair of the frame before, or that pair
/// the other way round.
#[derive(Debug, Default)]
pub struct AddrColumns(text::Recent<AddrPair, Vec<u8>>);

impl AddrColumns {
    /// The address columns of `s` when it has IP addresses (`None`: write them from its text).
    fn get(&mut self, s: &Summary) -> Option<&[u8]> {
        let key = s.addrs?;
        Some(self.0.get(key, |t, _| {
            t.clear();
            addr_columns(t, &s.src, &s.dst);
        }))
    }
}

/// `{src:>15} → {dst:<15} `, without the arrow when both are empty.
fn addr_columns(out: &mut Vec<u8>, src: &str, dst: &str) {
    let arrow = if src.is_empty() && dst.is_empty() {
        ""
    } else {
        "\u{2192}"
    };
    text::push_right(out, src, 15);
    out.push(b' ');
    out.extend_from_slice(arrow.as_bytes());
    out.push(b' ');
    text::push_left(out, dst, 15);
    out.push(b' ');
}

/// Writes `[-]seconds.microseconds` (truncated to the microsecond) of `ns` into `buf` ending
/// before `at`; returns where it starts (at most 18 characters before `at`).
fn rel_time_us(buf: &mut [u8], at: usize, ns: i64) -> usize {
    let a = ns.unsigned_abs();
    let (secs, mut us) = (a / 1_000_000_000, (a % 1_000_000_000 / 1000) as usize);
    let mut at = at;
    for _ in 0..3 {
        let r = us % 100 * 2;
        us /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&text::DIGIT_PAIRS[r..r + 2]);
    }
    at -= 1;
    buf[at] = b'.';
    at = digits_before(buf, at, secs);
    if ns < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_times_print_as_seconds_to_the_microsecond() {
        let t = |ns| {
            let mut b = [0u8; 32];
            let at = rel_time_us(&mut b, 32, ns);
            String::from_utf8(b[at..].to_vec()).unwrap()
        };
        assert_eq!(t(0), "0.000000");
        assert_eq!(t(1_999), "0.000001");
        assert_eq!(t(12_345_678_901), "12.345678");
        assert_eq!(t(-1_500_000_000), "-1.500000");
        assert_eq!(t(i64::MIN), "-9223372036.854775");
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
            assert_eq!(t(ns), want);
        }
    }

    /// The line as `format!` writes it.
    fn formatted(number: u64, time: &str, len: u32, s: &Summary) -> String {
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
        format!(
            "{number:>5} {time:>12} {:>15} {arrow} {:<15} {proto:<8} {len:>5} {}\n",
            s.src, s.dst, s.info
        )
    }

    fn summary(src: &str, dst: &str, addrs: Option<(&str, &str)>, proto: &'static str) -> Summary {
        Summary {
            protocol: proto,
            src: src.into(),
            dst: dst.into(),
            addrs: addrs.map(|(a, b)| (a.parse().unwrap(), b.parse().unwrap())),
            info: "49152 > 3260 Send SE MSN=1".into(),
            ..Summary::default()
        }
    }

    #[test]
    fn lines_have_the_columns_format_pads() {
        let mut cols = AddrColumns::default();
        let v4 = summary(
            "10.0.0.1",
            "10.0.0.2",
            Some(("10.0.0.1", "10.0.0.2")),
            "TCP",
        );
        let back = summary(
            "10.0.0.2",
            "10.0.0.1",
            Some(("10.0.0.2", "10.0.0.1")),
            "DDP/RDMA",
        );
        let v6 = summary(
            "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
            "fe80::1",
            Some(("2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "fe80::1")),
            "one-shot",
        );
        let macs = summary("02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", None, "Ethernet");
        let none = summary("", "", None, "");
        let long = summary("1.2.3.4", "5.6.7.8", None, "a protocol name longer than 24");
        let odd = summary("\u{e9}t\u{e9}", "x", None, "\u{e9}t\u{e9}");
        let cases = [
            (1u64, 0i64, "0.000000", 58u32, &v4),
            (99_999, 5_000, "0.000005", 1514, &back),
            (100_000, 12_345_678_901, "12.345678", 0, &v4),
            (
                123_456_789,
                -1_767_224_600_000_000_000,
                "-1767224600.000000",
                9,
                &v6,
            ),
            (u64::MAX, i64::MIN, "-9223372036.854775", u32::MAX, &macs),
            (7, 1_000, "0.000001", 100_000, &none),
            (8, 2_000, "0.000002", 12, &long),
            (9, 3_000, "0.000003", 12, &odd),
            (10, 4_000, "0.000004", 54, &back),
            (11, 4_000, "0.000004", 54, &v6),
            (12, 4_000, "0.000004", 54, &v4),
        ];
        for (number, ns, time, len, s) in cases {
            let mut out = b"<".to_vec();
            line(&mut out, &mut cols, number, ns, len, s, false);
            let want = format!("<{}", formatted(number, time, len, s));
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
    }
}
