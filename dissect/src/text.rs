//! Appending numbers, addresses and padded columns to a `String` without `core::fmt`.
//!
//! The summary line, the Info column and `-T fields` values are written for every frame, and
//! at millions of frames `write!`'s machinery costs more than the dissection itself. Each
//! function here writes exactly what the `format!` specification named in its documentation
//! writes (the tests check them against each other).

/// `{}` of an integer.
#[inline]
pub fn push_dec<I: itoa::Integer>(out: &mut String, v: I) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// `{:0width$}` of an unsigned integer.
pub fn push_dec_zero(out: &mut String, v: u64, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(v);
    zeros(out, width.saturating_sub(s.len()));
    out.push_str(s);
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `{:0width$x}` of an unsigned integer (`width` 0 for `{:x}`).
pub fn push_hex(out: &mut String, v: u64, width: usize) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1) as usize;
    zeros(out, width.saturating_sub(digits));
    for k in (0..digits).rev() {
        out.push(char::from(HEX[(v >> (4 * k)) as usize & 0xf]));
    }
}

/// `{:0width$b}` of an unsigned integer.
pub fn push_bin(out: &mut String, v: u64, width: usize) {
    let digits = (64 - v.leading_zeros()).max(1) as usize;
    zeros(out, width.saturating_sub(digits));
    for k in (0..digits).rev() {
        out.push(if v >> k & 1 == 1 { '1' } else { '0' });
    }
}

fn zeros(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push('0');
    }
}

/// A MAC address as Wireshark writes it: `02:00:00:00:00:01`.
pub fn push_mac(out: &mut String, mac: &[u8]) {
    for (i, &x) in mac.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(char::from(HEX[usize::from(x >> 4)]));
        out.push(char::from(HEX[usize::from(x & 0xf)]));
    }
}

/// `{}` of an IPv4 address.
pub fn push_ipv4(out: &mut String, a: [u8; 4]) {
    // Assembled on the stack and appended once: every summary line has two.
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, &x) in a.iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if x >= 100 {
            buf[n] = b'0' + x / 100;
            n += 1;
        }
        if x >= 10 {
            buf[n] = b'0' + x / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + x % 10;
        n += 1;
    }
    // Only ASCII digits and dots were written.
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

/// `{}` of an IP address.
pub fn push_ip(out: &mut String, a: std::net::IpAddr) {
    match a {
        std::net::IpAddr::V4(v4) => push_ipv4(out, v4.octets()),
        std::net::IpAddr::V6(v6) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{v6}");
        }
    }
}

/// The text of the last two IP addresses written: most packets carry the same two addresses as
/// the one before, and copying their text is cheaper than formatting them again.
#[derive(Debug, Default)]
pub struct AddrText {
    slots: [(Option<std::net::IpAddr>, String); 2],
    next: usize,
}

impl AddrText {
    /// Appends `{a}`.
    pub fn push(&mut self, out: &mut String, a: std::net::IpAddr) {
        if let Some((_, t)) = self.slots.iter().find(|(k, _)| *k == Some(a)) {
            out.push_str(t);
            return;
        }
        let (k, t) = &mut self.slots[self.next];
        self.next ^= 1;
        *k = Some(a);
        t.clear();
        push_ip(t, a);
        out.push_str(t);
    }
}

/// `{:>width$}` of a string.
pub fn push_right(out: &mut String, s: &str, width: usize) {
    spaces(out, width.saturating_sub(chars(s)));
    out.push_str(s);
}

/// `{:<width$}` of a string.
pub fn push_left(out: &mut String, s: &str, width: usize) {
    out.push_str(s);
    spaces(out, width.saturating_sub(chars(s)));
}

/// Characters in `s` (its length when ASCII, the usual case for addresses and numbers).
#[inline]
fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn spaces(out: &mut String, n: usize) {
    const SPACES: &str = "                ";
    if n <= SPACES.len() {
        out.push_str(&SPACES[..n]);
        return;
    }
    for _ in 0..n {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut String)) -> String {
        let mut s = String::from("<");
        f(&mut s);
        s
    }

    const NUMBERS: [u64; 12] = [
        0,
        1,
        9,
        10,
        15,
        16,
        255,
        4096,
        0xdead_beef,
        1 << 32,
        u64::MAX - 1,
        u64::MAX,
    ];

    #[test]
    fn numbers_as_format_writes_them() {
        for v in NUMBERS {
            assert_eq!(with(|s| push_dec(s, v)), format!("<{v}"));
            assert_eq!(with(|s| push_dec(s, v as i64)), format!("<{}", v as i64));
            for w in [0, 1, 2, 8, 9, 20] {
                assert_eq!(with(|s| push_dec_zero(s, v, w)), format!("<{v:0w$}"));
                assert_eq!(with(|s| push_hex(s, v, w)), format!("<{v:0w$x}"));
                assert_eq!(with(|s| push_bin(s, v, w)), format!("<{v:0w$b}"));
            }
        }
    }

    #[test]
    fn addresses_as_wireshark_writes_them() {
        assert_eq!(
            with(|s| push_mac(s, &[0x02, 0, 0xab, 0x10, 0xff, 0x01])),
            "<02:00:ab:10:ff:01"
        );
        for a in [
            [0, 0, 0, 0],
            [10, 0, 0, 1],
            [255, 255, 255, 255],
            [192, 168, 100, 9],
            [1, 23, 99, 200],
        ] {
            let ip = std::net::Ipv4Addr::from(a);
            assert_eq!(with(|s| push_ipv4(s, a)), format!("<{ip}"));
            assert_eq!(with(|s| push_ip(s, ip.into())), format!("<{ip}"));
        }
        let v6: std::net::Ipv6Addr = "fe80::1:2".parse().unwrap();
        assert_eq!(with(|s| push_ip(s, v6.into())), "<fe80::1:2");
    }

    #[test]
    fn remembered_addresses_read_as_formatted_ones() {
        let mut cache = AddrText::default();
        let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let b: std::net::IpAddr = "fe80::2".parse().unwrap();
        let c: std::net::IpAddr = "192.168.1.200".parse().unwrap();
        for ip in [a, b, a, b, c, a, c, c, b] {
            assert_eq!(with(|s| cache.push(s, ip)), format!("<{ip}"));
        }
    }

    #[test]
    fn padding_counts_characters() {
        for t in [
            "",
            "ab",
            "10.0.0.1",
            "one-shot",
            "\u{2192}x",
            "longer than the width",
        ] {
            for w in [12, 40] {
                assert_eq!(with(|s| push_right(s, t, w)), format!("<{t:>w$}"));
                assert_eq!(with(|s| push_left(s, t, w)), format!("<{t:<w$}"));
            }
        }
    }
}
