//! Values written as one word (nom parsers over the word): numbers, sizes, rates, durations,
//! probabilities, MAC and IP addresses, hex blobs and names.
//!
//! Each function takes the whole word: `Err(None)` means "not this kind of value" (the caller
//! says what was expected), `Err(Some(message))` a value of the right kind out of its range.

use std::net::IpAddr;
use std::time::Duration;

use nom::{
    IResult, Parser,
    branch::alt,
    bytes::complete::{tag, take_while, take_while_m_n},
    character::complete::{char, digit1, hex_digit1, satisfy},
    combinator::{all_consuming, map, map_res, opt, recognize, value},
    multi::count,
    sequence::preceded,
};

/// The result of a value parser.
pub(crate) type Val<T> = Result<T, Option<String>>;

/// Run `p` over all of `word`.
fn whole<'a, O, P>(word: &'a str, p: P) -> Option<O>
where
    P: Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
{
    all_consuming(p).parse(word).ok().map(|(_, o)| o)
}

/// `INT`: decimal digits or `0x` and hex digits; `None` when it does not fit in 64 bits.
fn int_lit(i: &str) -> IResult<&str, Option<u64>> {
    alt((
        map(preceded(alt((tag("0x"), tag("0X"))), hex_digit1), |h| {
            u64::from_str_radix(h, 16).ok()
        }),
        map(digit1, |d: &str| d.parse::<u64>().ok()),
    ))
    .parse(i)
}

/// A decimal number, `12` or `0.01`, as written.
fn decimal(i: &str) -> IResult<&str, &str> {
    recognize((digit1, opt((char('.'), digit1)))).parse(i)
}

/// `INT` in `lo..=hi`; `name` names the number in the range message.
pub(crate) fn int_in(word: &str, name: &str, lo: u64, hi: u64) -> Val<u64> {
    match whole(word, int_lit) {
        None => Err(None),
        Some(Some(v)) if (lo..=hi).contains(&v) => Ok(v),
        Some(v) => Err(Some(match v {
            Some(v) => format!("{name} must be {lo} to {hi}, found {v}"),
            None => format!("{name} must be {lo} to {hi}, found {word}"),
        })),
    }
}

/// `SIZE`: `INT` with an optional `K`, `KiB`, `M` or `MiB` (powers of 1024), `0 < SIZE < 2^32`.
pub(crate) fn size(word: &str) -> Val<u32> {
    let unit = alt((
        value(1u64 << 10, tag("KiB")),
        value(1u64 << 10, tag("K")),
        value(1u64 << 20, tag("MiB")),
        value(1u64 << 20, tag("M")),
    ));
    let (n, mult) = whole(word, (int_lit, opt(unit))).ok_or(None)?;
    match n.and_then(|n| n.checked_mul(mult.unwrap_or(1))) {
        Some(v) if v > 0 => u32::try_from(v).map_err(|_| {
            Some(format!(
                "a size must be 1 to 4294967295 octets (under 4GiB), found {word} = {v}"
            ))
        }),
        Some(_) => Err(Some(
            "a size must be 1 to 4294967295 octets (under 4GiB), found 0".into(),
        )),
        None => Err(Some(format!(
            "a size must be 1 to 4294967295 octets (under 4GiB), found {word}"
        ))),
    }
}

/// Why a decimal with a unit could not be counted in whole units.
enum Scale {
    TooLarge,
    Fraction,
}

/// `dec × unit`, exactly, as a whole number.
fn scale(dec: &str, unit: u64) -> Result<u64, Scale> {
    let (int, frac) = dec.split_once('.').unwrap_or((dec, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(Scale::TooLarge);
    }
    let mantissa: u128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| Scale::TooLarge)?
    };
    let exp = u32::try_from(frac.len()).map_err(|_| Scale::Fraction)?;
    let div = 10u128.checked_pow(exp).ok_or(Scale::Fraction)?;
    let scaled = mantissa
        .checked_mul(u128::from(unit))
        .ok_or(Scale::TooLarge)?;
    if scaled % div != 0 {
        return Err(Scale::Fraction);
    }
    u64::try_from(scaled / div).map_err(|_| Scale::TooLarge)
}

/// `RATE`: a number and `G`, `M` or `K`, in bits per second (above zero).
pub(crate) fn rate(word: &str) -> Val<u64> {
    let unit = alt((
        value(1_000_000_000u64, tag("G")),
        value(1_000_000, tag("M")),
        value(1_000, tag("K")),
    ));
    let (dec, mult) = whole(word, (decimal, unit)).ok_or(None)?;
    match scale(dec, mult) {
        Ok(0) => Err(Some("a link rate must be above 0, found 0".into())),
        Ok(v) => Ok(v),
        Err(Scale::TooLarge) => Err(Some(format!(
            "a link rate must fit in 64 bits per second, found {word}"
        ))),
        Err(Scale::Fraction) => Err(Some(format!(
            "a link rate must be a whole number of bits per second, found {word}"
        ))),
    }
}

/// `DURATION`: a number and `ns`, `us`, `ms` or `s`.
pub(crate) fn duration(word: &str) -> Val<Duration> {
    let unit = alt((
        value(1u64, tag("ns")),
        value(1_000, tag("us")),
        value(1_000_000, tag("ms")),
        value(1_000_000_000, tag("s")),
    ));
    let (dec, mult) = whole(word, (decimal, unit)).ok_or(None)?;
    match scale(dec, mult) {
        Ok(ns) => Ok(Duration::from_nanos(ns)),
        Err(Scale::TooLarge) => Err(Some(format!(
            "a duration must be under 584 years, found {word}"
        ))),
        Err(Scale::Fraction) => Err(Some(format!(
            "a duration must be a whole number of nanoseconds, found {word}"
        ))),
    }
}

/// `FLOAT` as a probability: `0 < p <= 1`.
pub(crate) fn probability(word: &str) -> Val<f64> {
    let dec = whole(word, decimal).ok_or(None)?;
    let p: f64 = dec.parse().map_err(|_| None)?;
    if p > 0.0 && p <= 1.0 {
        Ok(p)
    } else {
        Err(Some(format!(
            "a rate is a probability above 0 and at most 1, such as 0.01; found {word}"
        )))
    }
}

fn hex_pair(i: &str) -> IResult<&str, u8> {
    map_res(take_while_m_n(2, 2, |c: char| c.is_ascii_hexdigit()), |h| {
        u8::from_str_radix(h, 16)
    })
    .parse(i)
}

/// `MAC`: six hex pairs separated by `:`.
pub(crate) fn mac(word: &str) -> Val<[u8; 6]> {
    let (first, rest) =
        whole(word, (hex_pair, count(preceded(char(':'), hex_pair), 5))).ok_or(None)?;
    let mut m = [first, 0, 0, 0, 0, 0];
    m[1..].copy_from_slice(&rest);
    Ok(m)
}

/// `IP`: dotted IPv4 or IPv6 text.
pub(crate) fn ip(word: &str) -> Val<IpAddr> {
    word.parse().map_err(|_| None)
}

/// `HEX`: `0x` and an even number of hex digits.
pub(crate) fn hex_blob(word: &str) -> Val<Vec<u8>> {
    let digits = whole(word, preceded(tag("0x"), hex_digit1)).ok_or(None)?;
    if digits.len() % 2 != 0 {
        return Err(Some(format!(
            "hex data needs an even number of digits (two per octet), found {} in {word}",
            digits.len()
        )));
    }
    Ok(digits
        .as_bytes()
        .chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).unwrap_or("00");
            u8::from_str_radix(s, 16).unwrap_or(0)
        })
        .collect())
}

/// `HEX64`: `0x` and one to sixteen hex digits.
pub(crate) fn hex64(word: &str) -> Val<u64> {
    let digits = whole(
        word,
        preceded(
            tag("0x"),
            take_while_m_n(1, 16, |c: char| c.is_ascii_hexdigit()),
        ),
    )
    .ok_or(None)?;
    u64::from_str_radix(digits, 16).map_err(|_| None)
}

/// `NAME`: a letter, then letters, digits, `-` or `_`.
pub(crate) fn is_name(word: &str) -> bool {
    whole(
        word,
        recognize((
            satisfy(|c| c.is_ascii_alphabetic()),
            take_while(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        )),
    )
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(int_in("0x10", "n", 0, 100), Ok(16));
        assert_eq!(int_in("0X10", "n", 0, 100), Ok(16));
        assert_eq!(
            int_in("18446744073709551615", "n", 0, u64::MAX),
            Ok(u64::MAX)
        );
        assert_eq!(
            int_in("18446744073709551616", "n", 0, 9),
            Err(Some("n must be 0 to 9, found 18446744073709551616".into()))
        );
        assert_eq!(int_in("0x", "n", 0, 9), Err(None));
        assert_eq!(int_in("-1", "n", 0, 9), Err(None));
        assert_eq!(int_in("1.5", "n", 0, 9), Err(None));
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1"), Ok(1));
        assert_eq!(size("64K"), Ok(65536));
        assert_eq!(size("64KiB"), Ok(65536));
        assert_eq!(size("1M"), Ok(1 << 20));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("0x10K"), Ok(16384));
        assert_eq!(size("4294967295"), Ok(u32::MAX));
        assert_eq!(size("4095M"), Ok(4095 << 20));
        assert!(size("4096M").unwrap_err().unwrap().contains("4294967296"));
        assert!(size("0").unwrap_err().is_some());
        assert_eq!(size("4GiB"), Err(None));
        assert_eq!(size("64k"), Err(None));
        assert_eq!(size("lots"), Err(None));
    }

    #[test]
    fn rates_and_durations() {
        assert_eq!(rate("25G"), Ok(25_000_000_000));
        assert_eq!(rate("100M"), Ok(100_000_000));
        assert_eq!(rate("1.5K"), Ok(1500));
        assert_eq!(rate("2.5G"), Ok(2_500_000_000));
        assert!(rate("0G").unwrap_err().is_some());
        assert!(rate("1.0001K").unwrap_err().is_some());
        assert!(rate("99999999999G").unwrap_err().is_some());
        assert_eq!(rate("25"), Err(None));
        assert_eq!(duration("2us"), Ok(Duration::from_micros(2)));
        assert_eq!(duration("1.5ms"), Ok(Duration::from_micros(1500)));
        assert_eq!(duration("0ns"), Ok(Duration::ZERO));
        assert_eq!(duration("3s"), Ok(Duration::from_secs(3)));
        assert!(duration("0.5ns").unwrap_err().is_some());
        assert_eq!(duration("5"), Err(None));
        assert_eq!(duration("5 us"), Err(None));
    }

    #[test]
    fn probabilities() {
        assert_eq!(probability("0.01"), Ok(0.01));
        assert_eq!(probability("1"), Ok(1.0));
        assert!(probability("0").unwrap_err().is_some());
        assert!(probability("1.5").unwrap_err().is_some());
        assert_eq!(probability("1e-3"), Err(None));
    }

    #[test]
    fn addresses_and_blobs() {
        assert_eq!(mac("02:00:00:0a:Bb:ff"), Ok([2, 0, 0, 0x0a, 0xbb, 0xff]));
        assert_eq!(mac("02:00:00:00:00"), Err(None));
        assert_eq!(mac("02:00:00:00:00:00:00"), Err(None));
        assert_eq!(mac("2:00:00:00:00:00"), Err(None));
        assert!(ip("fd00::1").unwrap().is_ipv6());
        assert!(ip("10.0.0.1").unwrap().is_ipv4());
        assert_eq!(ip("10.0.0.256"), Err(None));
        assert_eq!(hex_blob("0x00ff"), Ok(vec![0, 0xff]));
        assert!(hex_blob("0x123").unwrap_err().is_some());
        assert_eq!(hex_blob("0x"), Err(None));
        assert_eq!(hex64("0xdeadbeefdeadbeef"), Ok(0xdead_beef_dead_beef));
        assert_eq!(hex64("0x1"), Ok(1));
        assert_eq!(hex64("0x1deadbeefdeadbeef"), Err(None));
        assert!(is_name("h1") && is_name("a-b_c") && !is_name("1h") && !is_name("h.1"));
    }
}
