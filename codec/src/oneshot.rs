//! The one-shot STag extension (ONESHOT.md §2; patent \[29\], \[39\]-\[44\]).
//!
//! An untagged Send-type message may carry one STag with one of two meanings: **advertise**
//! ("S names my buffer for the command in this message", \[32\]-\[33\]) or **close** ("S is no
//! longer needed; free it before completing this message", \[35\]-\[36\]). Two encodings say which:
//!
//! ```text
//! opcode encoding (FIG. 5A, \[39\]-\[41\])       ddp-flags encoding (FIG. 5B, \[42\]-\[44\])
//!  DDP ctrl   RDMAP ctrl                      DDP ctrl             RDMAP ctrl
//! +-+-+-------+---+ +---+---+--------+        +-+-+-+-+-+-+---+    +---+---+--------+
//! |0|L| Rsvd  |DV | |RV |Rsv| 0x8/0xC|        |0|L|r|C|A|r|DV |    |RV |Rsv| 0x3/0x5|
//! +-+-+-------+---+ +---+---+--------+        +-+-+-+-+-+-+---+    +---+---+--------+
//!   0x8 = Send with SE + advertise              A = 0x10 advertise ("bit 12")
//!   0xC = Send with SE + close                  C = 0x20 close     ("bit 13")
//! ```
//!
//! and two placements say where the STag sits: in the untagged header's `RsvdULP[8:39]`
//! ([`Placement::RsvdUlp`], the Invalidate STag slot, present in every header, \[40\]) or in four
//! octets appended right after the 18-octet DDP header ([`Placement::Appended`], only in
//! qualified messages; MO then counts ULP payload only). The bytes cannot tell the placements
//! apart, so the placement is a setting.
//!
//! Malformed (§2.1-2.2): both bits set, a bit on any opcode other than Send and Send with SE, or
//! a one-shot opcode (0x8/0xC, profile `oneshot`) on a tagged segment.
//! In the `oneshot` profile, opcode 0x8 with exactly 8 octets after the DDP header and a zero
//! STag earns a note: it could be RFC 7306 Immediate Data.

use core::fmt;
use core::str::FromStr;

use crate::ddp;
use crate::rdmap::{Opcode, Profile};

/// Masks of the one-shot bits.
pub mod field {
    /// DDP control octet: advertise (patent "bit 12").
    pub const ADVERTISE_BIT: u8 = 0x10;
    /// DDP control octet: close (patent "bit 13").
    pub const CLOSE_BIT: u8 = 0x20;
    /// DDP control octet: both one-shot bits.
    pub const BITS: u8 = ADVERTISE_BIT | CLOSE_BIT;
    /// The same bits in the 16-bit DDP+RDMAP control word.
    pub const ADVERTISE_WORD_MASK: u16 = 0x1000;
    /// The same bits in the 16-bit DDP+RDMAP control word.
    pub const CLOSE_WORD_MASK: u16 = 0x2000;
    /// The appended STag field, relative to its first octet (right after the 18-octet DDP
    /// header; placement `appended`).
    pub const APPENDED_STAG: core::ops::Range<usize> = 0..4;
    /// Length of the appended STag field.
    pub const APPENDED_LEN: usize = 4;
}

/// RDMAP opcode of "Send with SE + advertise" in the `opcode` encoding.
pub const OPCODE_ADVERTISE: u8 = 0x8;
/// RDMAP opcode of "Send with SE + close" in the `opcode` encoding.
pub const OPCODE_CLOSE: u8 = 0xC;

/// The qualifier's meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    /// "S names my buffer for this command."
    Advertise,
    /// "S is no longer needed: free it."
    Close,
}

impl Op {
    /// `advertise` or `close` (the values of `oneshot.op`).
    pub const fn name(self) -> &'static str {
        match self {
            Op::Advertise => "advertise",
            Op::Close => "close",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the qualifier is signalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Encoding {
    /// RDMAP opcodes 0x8 and 0xC (FIG. 5A).
    #[default]
    Opcode,
    /// DDP reserved bits 0x10 and 0x20 on Send / Send with SE (FIG. 5B).
    DdpFlags,
}

impl Encoding {
    /// `opcode` or `ddp-flags`.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Opcode => "opcode",
            Encoding::DdpFlags => "ddp-flags",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "opcode" => Ok(Encoding::Opcode),
            "ddp-flags" => Ok(Encoding::DdpFlags),
            _ => Err(UnknownName {
                expected: "opcode or ddp-flags",
            }),
        }
    }
}

/// Where the STag sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Placement {
    /// `RsvdULP[8:39]` of the untagged header (DDP offset 2..6).
    #[default]
    RsvdUlp,
    /// Four octets after the 18-octet untagged header, in qualified messages only.
    Appended,
}

impl Placement {
    /// `rsvdulp` or `appended`.
    pub const fn name(self) -> &'static str {
        match self {
            Placement::RsvdUlp => "rsvdulp",
            Placement::Appended => "appended",
        }
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Placement {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        match s {
            "rsvdulp" => Ok(Placement::RsvdUlp),
            "appended" => Ok(Placement::Appended),
            _ => Err(UnknownName {
                expected: "rsvdulp or appended",
            }),
        }
    }
}

/// A name that is not one of a setting's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownName {
    /// The names that would be right.
    pub expected: &'static str,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}", self.expected)
    }
}

impl core::error::Error for UnknownName {}

/// What a segment's control bits say about one-shot signalling (before any STag is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Signal {
    /// The message carries a one-shot STag field, signalled this way. The op is `None` when both
    /// DDP bits are set (malformed: neither advertise nor close).
    pub carrier: Option<(Option<Op>, Encoding)>,
    /// One-shot DDP bits (mask 0x30 of the DDP control octet) found where they may not be: on
    /// any opcode but Send and Send with SE, or on a tagged segment. Zero when clean.
    pub stray_bits: u8,
    /// A one-shot opcode on a tagged segment: the opcodes are untagged-only (ONESHOT.md §2.1).
    pub tagged_opcode: bool,
}

/// Reads the one-shot signalling of a DDP segment from its DDP control octet and its RDMAP
/// opcode (ONESHOT.md §2.1-2.2).
pub fn signal(ddp_control: ddp::Control, opcode: Opcode, profile: Profile) -> Signal {
    let bits = ddp_control.0 & field::BITS;
    let untagged = !ddp_control.tagged();
    let by_opcode = match opcode {
        Opcode::SendSeAdvertise if profile == Profile::OneShot => Some(Op::Advertise),
        Opcode::SendSeClose if profile == Profile::OneShot => Some(Op::Close),
        _ => None,
    };
    if let Some(op) = by_opcode {
        return Signal {
            carrier: untagged.then_some((Some(op), Encoding::Opcode)),
            stray_bits: bits,
            tagged_opcode: !untagged,
        };
    }
    let send = matches!(opcode, Opcode::Send | Opcode::SendSe);
    if bits == 0 {
        return Signal::default();
    }
    if !(send && untagged) {
        return Signal {
            carrier: None,
            stray_bits: bits,
            tagged_opcode: false,
        };
    }
    let op = match bits {
        field::ADVERTISE_BIT => Some(Op::Advertise),
        field::CLOSE_BIT => Some(Op::Close),
        _ => None,
    };
    Signal {
        carrier: Some((op, Encoding::DdpFlags)),
        stray_bits: 0,
        tagged_opcode: false,
    }
}

/// The decoded one-shot field of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OneShotField {
    /// Advertise or close; `None` when both DDP bits are set.
    pub op: Option<Op>,
    /// The STag.
    pub stag: u32,
    /// How the qualifier was signalled.
    pub encoding: Encoding,
    /// Where the STag was read.
    pub placement: Placement,
}

impl fmt::Display for OneShotField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "{op}")?,
            None => f.write_str("advertise+close (malformed)")?,
        }
        write!(
            f,
            " S=0x{:08x} [{}, {}]",
            self.stag, self.encoding, self.placement
        )
    }
}

/// The one-shot findings of one message: its field, and what is wrong with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Info {
    /// The field, when the message carries one.
    pub field: Option<OneShotField>,
    /// One-shot DDP bits set where they may not be (mask 0x30 of the DDP control octet).
    pub stray_bits: u8,
    /// A one-shot opcode on a tagged segment: the opcodes are untagged-only (ONESHOT.md §2.1).
    pub tagged_opcode: bool,
    /// `oneshot` profile, opcode 0x8, exactly 8 octets after the 18-octet DDP header and a zero
    /// STag: this could be RFC 7306 Immediate Data (try profile `rfc7306`).
    ///
    /// The 8 octets are counted right after the DDP header whatever the placement: under
    /// `appended` they include the 4-octet STag field, so the ULP payload is then 4 octets.
    /// That is the useful reading, because an RFC 7306 Immediate Data message is 26 octets
    /// (18 + 8) however the one-shot placement is set.
    pub maybe_immediate: bool,
}

impl Info {
    /// Both bits set, bits where they may not be, or a one-shot opcode on a tagged segment (an
    /// expert error, ONESHOT.md §2.1-2.2).
    pub fn is_malformed(&self) -> bool {
        self.stray_bits != 0 || self.tagged_opcode || self.field.is_some_and(|f| f.op.is_none())
    }
    /// The qualifier, when it is a well-formed advertise or close.
    pub fn qualifier(&self) -> Option<(Op, u32)> {
        self.field.and_then(|f| f.op.map(|op| (op, f.stag)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctrl(bits: u8) -> ddp::Control {
        ddp::Control(0x41 | bits)
    }

    #[test]
    fn opcode_encoding_fig_5a() {
        // [41]: opcode 8 is Send with SE + advertise, 12 is Send with SE + close.
        let s = signal(ctrl(0), Opcode::SendSeAdvertise, Profile::OneShot);
        assert_eq!(s.carrier, Some((Some(Op::Advertise), Encoding::Opcode)));
        let s = signal(ctrl(0), Opcode::SendSeClose, Profile::OneShot);
        assert_eq!(s.carrier, Some((Some(Op::Close), Encoding::Opcode)));
        assert_eq!(s.stray_bits, 0);
    }

    #[test]
    fn ddp_flags_encoding_fig_5b() {
        // [44]: bit 12 advertise, bit 13 close, on Send and Send with SE.
        for op in [Opcode::Send, Opcode::SendSe] {
            let s = signal(ctrl(0x10), op, Profile::OneShot);
            assert_eq!(s.carrier, Some((Some(Op::Advertise), Encoding::DdpFlags)));
            let s = signal(ctrl(0x20), op, Profile::Rfc7306);
            assert_eq!(s.carrier, Some((Some(Op::Close), Encoding::DdpFlags)));
        }
        assert_eq!(
            signal(ctrl(0), Opcode::Send, Profile::OneShot),
            Signal::default()
        );
    }

    #[test]
    fn malformed_cases_of_2_2() {
        // [44]: three states only, so both bits set is malformed.
        let s = signal(ctrl(0x30), Opcode::SendSe, Profile::OneShot);
        assert_eq!(s.carrier, Some((None, Encoding::DdpFlags)));
        // A bit on a Write (tagged) or a Read Request is malformed.
        let s = signal(
            ddp::Control(0xC1 | 0x10),
            Opcode::RdmaWrite,
            Profile::OneShot,
        );
        assert_eq!((s.carrier, s.stray_bits), (None, 0x10));
        let s = signal(ctrl(0x20), Opcode::RdmaReadRequest, Profile::OneShot);
        assert_eq!((s.carrier, s.stray_bits), (None, 0x20));
        // A bit on an opcode-encoded qualifier is "a bit on another opcode"; the opcode still wins.
        let s = signal(ctrl(0x10), Opcode::SendSeClose, Profile::OneShot);
        assert_eq!(s.carrier, Some((Some(Op::Close), Encoding::Opcode)));
        assert_eq!(s.stray_bits, 0x10);
        // Send with Invalidate may not carry the bits either.
        let s = signal(ctrl(0x10), Opcode::SendInvalidate, Profile::OneShot);
        assert_eq!(s.stray_bits, 0x10);
    }

    #[test]
    fn a_oneshot_opcode_on_a_tagged_segment_is_reported() {
        // §2.1: 0x8 and 0xC are untagged-only. T=1 gives no carrier but a finding.
        let tagged = ddp::Control(0xC1);
        for op in [Opcode::SendSeAdvertise, Opcode::SendSeClose] {
            let s = signal(tagged, op, Profile::OneShot);
            assert_eq!((s.carrier, s.stray_bits, s.tagged_opcode), (None, 0, true));
        }
        // Untagged, it is the normal case.
        assert!(!signal(ctrl(0), Opcode::SendSeAdvertise, Profile::OneShot).tagged_opcode);
        // Under rfc7306, 0x8 is Immediate Data: no one-shot opcode at all.
        assert!(!signal(tagged, Opcode::ImmediateData, Profile::Rfc7306).tagged_opcode);
        let info = Info {
            tagged_opcode: true,
            ..Info::default()
        };
        assert!(info.is_malformed());
        assert!(!Info::default().is_malformed());
    }

    #[test]
    fn profile_rfc7306_ignores_the_opcodes() {
        let s = signal(ctrl(0), Opcode::ImmediateData, Profile::Rfc7306);
        assert_eq!(s, Signal::default());
    }

    #[test]
    fn names_parse_and_print() {
        assert_eq!("ddp-flags".parse::<Encoding>(), Ok(Encoding::DdpFlags));
        assert_eq!("appended".parse::<Placement>(), Ok(Placement::Appended));
        let e = "middle".parse::<Placement>().unwrap_err();
        assert_eq!(e.to_string(), "expected rsvdulp or appended");
        let f = OneShotField {
            op: Some(Op::Advertise),
            stag: 0x00c0_ffee,
            encoding: Encoding::Opcode,
            placement: Placement::RsvdUlp,
        };
        assert_eq!(f.to_string(), "advertise S=0x00c0ffee [opcode, rsvdulp]");
    }
}
