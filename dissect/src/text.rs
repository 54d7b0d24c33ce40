//! Appending numbers, addresses and padded columns to text without `core::fmt`.
//!
//! The summary line, the Info column, `-T fields` values and every `-V` line are written for
//! every frame, and at millions of frames `write!`'s machinery costs more than the dissection
//! itself. Each function here writes exactly what the `format!` specification named in its
//! documentation writes (the tests check them against each other).
//!
//! The text goes to a `String`, or to the `Vec<u8>` a printer fills and hands to `io::Write`
//! as it is (see [`Text`]).

/// Something text is appended to. A `Vec<u8>` receives nothing but UTF-8 through it, so it
/// stays text without the check `String` would make of octets assembled outside `str`.
pub trait Text {
    /// Appends `s`.
    fn push_str(&mut self, s: &str);
    /// Appends one ASCII character.
    fn push_ascii(&mut self, c: u8);
    /// Appends ASCII text assembled as octets.
    fn push_ascii_bytes(&mut self, b: &[u8]);
    /// Appends formatted text (for values too rare to be worth a helper).
    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>);
}

impl Text for String {
    #[inline]
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s);
    }

    #[inline]
    fn push_ascii(&mut self, c: u8) {
        debug_assert!(c.is_ascii());
        self.push(char::from(c));
    }

    #[inline]
    fn push_ascii_bytes(&mut self, b: &[u8]) {
        debug_assert!(b.is_ascii());
        // ASCII is UTF-8; anything else would be a bug, and is dropped rather than panicking.
        String::push_str(self, std::str::from_utf8(b).unwrap_or_default());
    }

    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let _ = std::fmt::Write::write_fmt(self, args);
    }
}

impl Text for Vec<u8> {
    #[inline]
    fn push_str(&mut self, s: &str) {
        self.extend_from_slice(s.as_bytes());
    }

    #[inline]
    fn push_ascii(&mut self, c: u8) {
        debug_assert!(c.is_ascii());
        self.push(c);
    }

    #[inline]
    fn push_ascii_bytes(&mut self, b: &[u8]) {
        debug_assert!(b.is_ascii());
        self.extend_from_slice(b);
    }

    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        // Writing to a Vec cannot fail.
        let _ = std::io::Write::write_fmt(self, args);
    }
}

/// `{}` of an integer.
#[inline]
pub fn push_dec<T: Text + ?Sized, I: itoa::Integer>(out: &mut T, v: I) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// `{:0width$}` of an unsigned integer.
pub fn push_dec_zero<T: Text + ?Sized>(out: &mut T, v: u64, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(v);
    zeros(out, width.saturating_sub(s.len()));
    out.push_str(s);
}

/// The two decimal digits of each number below 100, by twice the number.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Lower-case hex digits by value.
pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// `{:0width$x}` of an unsigned integer (`width` 0 for `{:x}`).
pub fn push_hex<T: Text + ?Sized>(out: &mut T, v: u64, width: usize) {
    let digits = (64 - v.leading_zeros()).div_ceil(4).max(1) as usize;
    zeros(out, width.saturating_sub(digits));
    for k in (0..digits).rev() {
        out.push_ascii(HEX[(v >> (4 * k)) as usize & 0xf]);
    }
}

/// `{:02x}` of an octet.
#[inline]
pub fn push_hex_byte<T: Text + ?Sized>(out: &mut T, b: u8) {
    out.push_ascii(HEX[usize::from(b >> 4)]);
    out.push_ascii(HEX[usize::from(b & 0xf)]);
}

/// `{:0width$b}` of an unsigned integer.
pub fn push_bin<T: Text + ?Sized>(out: &mut T, v: u64, width: usize) {
    let digits = (64 - v.leading_zeros()).max(1) as usize;
    zeros(out, width.saturating_sub(digits));
    for k in (0..digits).rev() {
        out.push_ascii(b'0' + (v >> k & 1) as u8);
    }
}

fn zeros<T: Text + ?Sized>(out: &mut T, n: usize) {
    for _ in 0..n {
        out.push_ascii(b'0');
    }
}

/// A MAC address as Wireshark writes it: `02:00:00:00:00:01`.
pub fn push_mac<T: Text + ?Sized>(out: &mut T, mac: &[u8]) {
    for (i, &x) in mac.iter().enumerate() {
        if i > 0 {
            out.push_ascii(b':');
        }
        push_hex_byte(out, x);
    }
}

/// `{}` of an IPv4 address at the start of a buffer, and its length.
#[inline]
pub fn ipv4_text(a: [u8; 4]) -> ([u8; 16], usize) {
    let mut buf = [0u8; 16];
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
    (buf, n)
}

/// `{}` of an IPv4 address.
pub fn push_ipv4<T: Text + ?Sized>(out: &mut T, a: [u8; 4]) {
    // Assembled on the stack and appended once: every summary line has two.
    let (buf, n) = ipv4_text(a);
    out.push_ascii_bytes(&buf[..n]);
}

/// `{}` of an IP address.
pub fn push_ip<T: Text + ?Sized>(out: &mut T, a: std::net::IpAddr) {
    match a {
        std::net::IpAddr::V4(v4) => push_ipv4(out, v4.octets()),
        std::net::IpAddr::V6(v6) => out.push_fmt(format_args!("{v6}")),
    }
}

/// What was made of the last two keys (their text, mostly): most packets carry the same
/// addresses or ports as the one before, or those the other way round, and keeping what was
/// made of them is cheaper than making it again.
#[derive(Debug)]
pub struct Recent<K, V = String> {
    slots: [(Option<K>, V); 2],
    next: usize,
}

impl<K, V: Default> Default for Recent<K, V> {
    fn default() -> Self {
        Recent {
            slots: [(None, V::default()), (None, V::default())],
            next: 0,
        }
    }
}

impl<K: Copy + PartialEq, V> Recent<K, V> {
    /// What was made of `k`; `fill` makes it (over what was made of an older key) when `k` is
    /// not among the last two.
    #[inline]
    pub fn get(&mut self, k: K, fill: impl FnOnce(&mut V, K)) -> &V {
        let i = match self.slots.iter().position(|(s, _)| *s == Some(k)) {
            Some(i) => i,
            None => {
                let i = self.next;
                self.next ^= 1;
                let (s, v) = &mut self.slots[i];
                *s = Some(k);
                fill(v, k);
                i
            }
        };
        &self.slots[i].1
    }
}

impl<K: Copy + PartialEq> Recent<K, String> {
    /// Appends the text of `k`, which `write` writes (to an empty string) the first time.
    pub fn push(&mut self, out: &mut String, k: K, write: impl FnOnce(&mut String, K)) {
        out.push_str(self.get(k, |t, k| {
            t.clear();
            write(t, k);
        }));
    }
}

/// The text of the last two IP addresses written.
#[derive(Debug, Default)]
pub struct AddrText(Recent<std::net::IpAddr>);

impl AddrText {
    /// Appends `{a}`.
    pub fn push(&mut self, out: &mut String, a: std::net::IpAddr) {
        self.0.push(out, a, push_ip);
    }
}

/// `{:>width$}` of a string.
pub fn push_right<T: Text + ?Sized>(out: &mut T, s: &str, width: usize) {
    spaces(out, width.saturating_sub(chars(s)));
    out.push_str(s);
}

/// `{:<width$}` of a string.
pub fn push_left<T: Text + ?Sized>(out: &mut T, s: &str, width: usize) {
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

/// `n` spaces (one append up to 64, which covers `-V`'s indentation 16 levels deep).
pub fn spaces<T: Text + ?Sized>(out: &mut T, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
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

    /// Every helper once, into any buffer.
    fn everything<T: Text>(out: &mut T) {
        push_dec(out, 1234u32);
        push_dec_zero(out, 7, 3);
        push_hex(out, 0xbeef, 8);
        push_hex_byte(out, 0x0a);
        push_bin(out, 5, 4);
        push_mac(out, &[0x02, 0, 0xab, 0x10, 0xff, 0x01]);
        push_ipv4(out, [10, 0, 0, 1]);
        push_ip(out, "fe80::1:2".parse().unwrap());
        push_right(out, "\u{2192}x", 5);
        push_left(out, "ab", 70);
        out.push_ascii(b'|');
        out.push_ascii_bytes(b"1.2");
        out.push_fmt(format_args!("{:o}", 8));
    }

    #[test]
    fn octet_buffers_get_the_same_text_as_strings() {
        let mut s = String::new();
        everything(&mut s);
        let mut v = Vec::new();
        everything(&mut v);
        assert_eq!(String::from_utf8(v).unwrap(), s);
        let ip6: std::net::Ipv6Addr = "fe80::1:2".parse().unwrap();
        let want = format!(
            "{}{:03}{:08x}{:02x}{:04b}02:00:ab:10:ff:01{}{ip6}{:>5}{:<70}|1.2{:o}",
            1234,
            7,
            0xbeef,
            0x0a,
            5,
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            "\u{2192}x",
            "ab",
            8
        );
        assert_eq!(s, want);
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
    fn remembered_text_is_the_text_of_its_key() {
        let mut cache = Recent::<(u16, u16)>::default();
        let mut writes = 0;
        for k in [
            (1, 2),
            (2, 1),
            (1, 2),
            (3, 4),
            (3, 4),
            (2, 1),
            (1, 2),
            (3, 4),
        ] {
            let got = with(|s| {
                cache.push(s, k, |t, (a, b)| {
                    writes += 1;
                    t.push_str(&format!("{a} > {b} "));
                })
            });
            assert_eq!(got, format!("<{} > {} ", k.0, k.1));
        }
        // Written when not among the last two keys: (1, 2), (2, 1), (3, 4), then (1, 2) again
        // (it had given way to (3, 4)).
        assert_eq!(writes, 4);
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
