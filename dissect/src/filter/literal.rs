//! Literals: what a value written in a filter means for the field it is compared with.
//!
//! The same word reads differently per field type: `10` is an integer for `tcp.port`, invalid
//! for `ip.src`; `send` is an opcode name for `iwarp_rdma.opcode` and text for `oneshot.op`.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::take_while_m_n;
use nom::character::complete::one_of;
use nom::combinator::{all_consuming, map_res};
use nom::multi::separated_list1;
use nom::{IResult, Parser as _};

use crate::codec::{Opcode, Profile};
use crate::field::{self, FieldDef, Ftype};

use super::Fail;
use super::eval::{Lit, Op};
use super::parse::{Operand, printable};

/// What a field's values are, for type checking and literal parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// `FT_NONE`: presence only.
    NoValue,
    /// `FT_PROTOCOL`: presence and `contains`.
    Protocol,
    /// `FT_BOOLEAN`: `1 0 true false`.
    Bool,
    /// Integers, with the range the type (and bitmask) allows.
    Int { min: i128, max: i128 },
    /// `FT_DOUBLE`.
    Float,
    /// `FT_RELATIVE_TIME`: seconds.
    RelTime,
    /// `FT_ABSOLUTE_TIME`: seconds since the epoch.
    AbsTime,
    /// `FT_ETHER`.
    Ether,
    /// `FT_IPv4`, with subnets.
    V4,
    /// `FT_IPv6`, with prefixes.
    V6,
    /// `FT_BYTES`.
    Bytes,
    /// `FT_STRING`.
    Str,
}

impl Class {
    /// The class of a field type.
    pub(super) fn of(t: Ftype) -> Class {
        let uint = |bits: u32| Class::Int {
            min: 0,
            max: (1i128 << bits) - 1,
        };
        match t {
            Ftype::None => Class::NoValue,
            Ftype::Protocol => Class::Protocol,
            Ftype::Boolean => Class::Bool,
            Ftype::U8 => uint(8),
            Ftype::U16 => uint(16),
            Ftype::U24 => uint(24),
            Ftype::U32 | Ftype::FrameNum => uint(32),
            Ftype::U48 => uint(48),
            Ftype::U64 => uint(64),
            Ftype::I16 => Class::Int {
                min: i16::MIN.into(),
                max: i16::MAX.into(),
            },
            Ftype::I32 => Class::Int {
                min: i32::MIN.into(),
                max: i32::MAX.into(),
            },
            Ftype::I64 => Class::Int {
                min: i64::MIN.into(),
                max: i64::MAX.into(),
            },
            Ftype::Double => Class::Float,
            Ftype::RelTime => Class::RelTime,
            Ftype::AbsTime => Class::AbsTime,
            Ftype::Ether => Class::Ether,
            Ftype::Ipv4 => Class::V4,
            Ftype::Ipv6 => Class::V6,
            Ftype::Bytes => Class::Bytes,
            Ftype::String => Class::Str,
        }
    }

    /// Which fields can be compared with each other (`None`: none).
    pub(super) fn group(self) -> Option<u8> {
        Some(match self {
            Class::NoValue | Class::Protocol => return None,
            Class::Bool | Class::Int { .. } | Class::Float => 0,
            Class::RelTime => 1,
            Class::AbsTime => 2,
            Class::Ether => 3,
            Class::V4 => 4,
            Class::V6 => 5,
            Class::Bytes => 6,
            Class::Str => 7,
        })
    }

    /// Whose octets `contains` can search.
    pub(super) fn searchable(self) -> bool {
        matches!(
            self,
            Class::Protocol | Class::Bytes | Class::Str | Class::Ether
        )
    }
}

/// A literal for a field of `class` (`op` decides whether a subnet or a byte string fits).
pub(super) fn literal(def: &FieldDef, class: Class, op: Op, v: &Operand<'_>) -> Result<Lit, Fail> {
    let src = printable(v.src());
    let invalid = |expected: String| {
        let mut message = format!(
            "invalid value {src} for {} ({}): expected {expected}",
            def.abbrev,
            def.ftype.name()
        );
        if let Operand::Word(w) = v {
            if w.text.contains('.') && w.text.starts_with(|c: char| c.is_ascii_alphabetic()) {
                if let Some(f) = field::suggest(w.text).first() {
                    let _ = write!(message, " (or did you mean the field {f}?)");
                }
            }
        }
        (v.at(), message)
    };
    let word = match v {
        Operand::Word(w) => Some(w.text),
        Operand::Quoted { .. } => None,
    };
    if op == Op::Contains {
        return match (v, class) {
            (Operand::Quoted { bytes, .. }, _) => Ok(Lit::Bytes(bytes.clone().into())),
            (Operand::Word(w), Class::Str) => Ok(Lit::Bytes(w.text.as_bytes().into())),
            (Operand::Word(w), _) => hex_bytes(w.text)
                .map(|b| Lit::Bytes(b.into()))
                .ok_or_else(|| invalid("a byte string like aa:bb:cc or a quoted string".into())),
        };
    }
    // Bitfields hold their value shifted down: opcode (mask 0x0f) is 0..=15.
    let class = match class {
        Class::Int { min: 0, max } if def.mask != 0 => Class::Int {
            min: 0,
            max: max.min(i128::from(def.mask >> def.mask.trailing_zeros())),
        },
        c => c,
    };
    let lit = match class {
        Class::NoValue | Class::Protocol => unreachable!("rejected before"),
        Class::Bool => match word.map(str::to_ascii_lowercase).as_deref() {
            Some("1" | "true") => Lit::Int(1),
            Some("0" | "false") => Lit::Int(0),
            _ => return Err(invalid("1, 0, true or false".into())),
        },
        Class::Int { min, max } => {
            let names = symbols(def);
            let range = || {
                let mut e = format!("an integer from {min} to {max}");
                if !names.is_empty() {
                    let input = match v {
                        Operand::Word(w) => normalise(w.text),
                        Operand::Quoted { bytes, .. } => normalise(&String::from_utf8_lossy(bytes)),
                    };
                    let _ = write!(e, " or one of {}", closest(&names, &input));
                }
                e
            };
            let text = match v {
                Operand::Word(w) => w.text.to_owned(),
                Operand::Quoted { bytes, .. } => String::from_utf8_lossy(bytes).into_owned(),
            };
            let numeric = text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
            if numeric && word.is_some() {
                match parse_int(&text) {
                    Ok(n) if (min..=max).contains(&n) => Lit::Int(n),
                    Ok(_) => return Err(invalid(format!("an integer from {min} to {max}"))),
                    Err(Some(msg)) => {
                        return Err((
                            v.at(),
                            format!(
                                "invalid value {src} for {} ({}): {msg}",
                                def.abbrev,
                                def.ftype.name()
                            ),
                        ));
                    }
                    Err(None) => return Err(invalid(range())),
                }
            } else {
                let key = normalise(&text);
                match names.iter().find(|(n, _)| *n == key) {
                    Some((_, value)) => Lit::Int(i128::from(*value)),
                    None => return Err(invalid(range())),
                }
            }
        }
        Class::Float => match word
            .filter(|w| w.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)))
        {
            Some(w) => match w.parse::<f64>() {
                Ok(f) if f.is_finite() => Lit::Float(f),
                _ => return Err(invalid("a number like 1.5".into())),
            },
            None => return Err(invalid("a number like 1.5".into())),
        },
        Class::RelTime | Class::AbsTime => match word.and_then(parse_seconds) {
            Some(ns) => Lit::Int(ns.into()),
            None if class == Class::RelTime => {
                return Err(invalid("a number of seconds like 0.5".into()));
            }
            None => {
                return Err(invalid(
                    "seconds since 1970-01-01 UTC like 1700000000.25".into(),
                ));
            }
        },
        Class::Ether => match word
            .and_then(hex_bytes)
            .and_then(|b| <[u8; 6]>::try_from(b).ok())
        {
            Some(mac) => Lit::Ether(mac),
            None => return Err(invalid("a MAC address like 02:00:00:00:00:01".into())),
        },
        Class::V4 => {
            let parsed = word.and_then(|w| {
                let (addr, prefix) = split_prefix(w, 32)?;
                let addr = u32::from(addr.parse::<Ipv4Addr>().ok()?);
                let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
                Some(Lit::V4 {
                    addr: addr & mask,
                    mask,
                })
            });
            match parsed {
                Some(l) => l,
                None => {
                    return Err(invalid(
                        "an IPv4 address like 10.0.0.1 or a subnet like 10.0.0.0/24".into(),
                    ));
                }
            }
        }
        Class::V6 => {
            let parsed = word.and_then(|w| {
                let (addr, prefix) = split_prefix(w, 128)?;
                let addr = u128::from(addr.parse::<Ipv6Addr>().ok()?);
                let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
                Some(Lit::V6 {
                    addr: addr & mask,
                    mask,
                })
            });
            match parsed {
                Some(l) => l,
                None => {
                    return Err(invalid(
                        "an IPv6 address like fe80::1 or a prefix like fe80::/64".into(),
                    ));
                }
            }
        }
        Class::Bytes => match v {
            Operand::Quoted { bytes, .. } => Lit::Bytes(bytes.clone().into()),
            Operand::Word(w) => match hex_bytes(w.text) {
                Some(b) => Lit::Bytes(b.into()),
                None => {
                    return Err(invalid(
                        "a byte string like aa:bb:cc or a quoted string".into(),
                    ));
                }
            },
        },
        Class::Str => match v {
            Operand::Quoted { bytes, .. } => Lit::Bytes(bytes.clone().into()),
            Operand::Word(w) => Lit::Bytes(w.text.as_bytes().into()),
        },
    };
    let subnet = matches!(lit, Lit::V4 { mask, .. } if mask != u32::MAX)
        || matches!(lit, Lit::V6 { mask, .. } if mask != u128::MAX);
    if subnet && !matches!(op, Op::Eq | Op::Ne | Op::In) {
        return Err((
            v.at(),
            format!("a subnet ({src}) can only be compared with ==, != or in"),
        ));
    }
    Ok(lit)
}

impl Lit {
    /// Order of two literals of the same field (for range bounds).
    fn partial_cmp_lit(&self, other: &Lit) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Lit::Int(a), Lit::Int(b)) => a.partial_cmp(b),
            (Lit::Float(a), Lit::Float(b)) => a.partial_cmp(b),
            (Lit::Ether(a), Lit::Ether(b)) => a.partial_cmp(b),
            (Lit::V4 { addr: a, .. }, Lit::V4 { addr: b, .. }) => a.partial_cmp(b),
            (Lit::V6 { addr: a, .. }, Lit::V6 { addr: b, .. }) => a.partial_cmp(b),
            (Lit::Bytes(a), Lit::Bytes(b)) => a.partial_cmp(b),
            _ => None,
        }
    }

    /// `self > other` (a range written backwards).
    pub(super) fn gt_lit(&self, other: &Lit) -> bool {
        self.partial_cmp_lit(other)
            .is_some_and(std::cmp::Ordering::is_gt)
    }
}

/// Lower case, every run of non-alphanumerics one `_`, none at the ends: `Send with SE` →
/// `send_with_se`.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    if out.ends_with('_') {
        out.pop();
    }
    out
}

/// A field's symbolic values: for `iwarp_rdma.opcode` the opcode filter names of both RDMAP
/// profiles (`send_se_advertise`, `immediate_data`, …), then every field's value names,
/// normalised.
fn symbols(def: &FieldDef) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = Vec::new();
    if def.abbrev == "iwarp_rdma.opcode" {
        for profile in [Profile::OneShot, Profile::Rfc7306] {
            for raw in 0..16u8 {
                let op = Opcode::from_raw(raw, profile);
                if !matches!(op, Opcode::Unknown(_)) {
                    out.push((op.filter_name().to_owned(), u64::from(raw)));
                }
            }
        }
    }
    out.extend(def.values.iter().map(|(v, n)| (normalise(n), *v)));
    let mut seen = std::collections::HashSet::new();
    out.retain(|(n, _)| !n.is_empty() && seen.insert(n.clone()));
    out
}

/// Up to five of `names` closest to `input`, for an error message.
fn closest(names: &[(String, u64)], input: &str) -> String {
    let mut scored: Vec<(usize, usize, &str)> = names
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (field::edit_distance(input, n), i, n.as_str()))
        .collect();
    scored.sort_unstable();
    let mut out = scored
        .iter()
        .take(5)
        .map(|(_, _, n)| *n)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 5 {
        out.push_str(", …");
    }
    out
}

/// An integer: decimal, `0x` hex, `0o` octal or `0b` binary, with an optional sign. `Err(Some)`
/// explains an ambiguous leading zero; `Err(None)` is "not a number".
fn parse_int(s: &str) -> Result<i128, Option<String>> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return Err(None);
    }
    if radix == 10 && body.len() > 1 && body.starts_with('0') {
        let trimmed = body.trim_start_matches('0');
        let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
        return Err(Some(format!(
            "a leading 0 is ambiguous (tshark reads octal): write {trimmed} for decimal or 0o{body} for octal",
            body = &body[1..]
        )));
    }
    let n = u128::from_str_radix(body, radix).map_err(|_| None)?;
    let n = i128::try_from(n).map_err(|_| None)?;
    Ok(if neg { -n } else { n })
}

/// Decimal seconds (`-1.25`, `0.000000001`) as nanoseconds; digits past the ninth decimal are
/// dropped.
fn parse_seconds(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = 0i64;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(9) {
        nanos = nanos * 10 + i64::from(b - b'0');
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if neg { -total } else { total })
}

/// `addr[/prefix]` with the prefix at most `max` (default `max`).
fn split_prefix(w: &str, max: u32) -> Option<(&str, u32)> {
    match w.split_once('/') {
        None => Some((w, max)),
        Some((a, p)) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            let p: u32 = p.parse().ok()?;
            (p <= max).then_some((a, p))
        }
        Some(_) => None,
    }
}

/// Octets written as hex pairs separated by `:`, `-` or `.` (`aa:bb:cc`, `02-00-…`), or one
/// run of hex pairs (`aabbcc`).
fn hex_bytes(w: &str) -> Option<Vec<u8>> {
    fn byte(i: &str) -> IResult<&str, u8> {
        map_res(take_while_m_n(1, 2, |c: char| c.is_ascii_hexdigit()), |h| {
            u8::from_str_radix(h, 16)
        })
        .parse(i)
    }
    if let Ok((_, v)) = all_consuming(separated_list1(one_of(":-."), byte)).parse(w) {
        let separated = w.contains([':', '-', '.']);
        // Without separators only a single pair or a run of pairs is meant: "abc" is not bytes.
        if separated || w.len() <= 2 {
            return Some(v);
        }
    }
    if w.len() % 2 == 0 && !w.is_empty() && w.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (0..w.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&w[i..i + 2], 16).ok())
            .collect();
    }
    None
}
