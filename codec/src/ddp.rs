//! DDP — Direct Data Placement segment headers (RFC 5041 §4; WIRE.md §2).
//!
//! A DDP segment is exactly one MPA ULPDU. Its first octet says whether the tagged (14 octets)
//! or the untagged (18 octets) header follows. Offsets below are DDP offsets (FPDU offset − 2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |T|L| Rsvd  | DV|   RsvdULP     |  (tagged)       STag  ...     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | ... STag      |             TO (64 bits) ...                  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | ... TO                                        |  payload ...
//!
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |T|L| Rsvd  | DV|   RsvdULP[0:7]| (untagged) RsvdULP[8:39] ...  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | ... RsvdULP   |               QN                   ...        |
//! |               |               MSN                  ...        |
//! |               |               MO                   ...        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! `RsvdULP[0:7]` is RDMAP's control octet (see [`crate::rdmap::Control`]); `RsvdULP[8:39]`
//! carries the Invalidate STag of the Send-with-Invalidate variants and, with the one-shot
//! `rsvdulp` placement, the one-shot STag (ONESHOT.md §2.3). This module is ULP-agnostic and
//! calls them [`rsvdulp`](Untagged::rsvdulp) and [`rsvdulp_word`](Untagged::rsvdulp_word).

use core::fmt;

use crate::bytes::{array, be32, be64, put_be32, put_be64};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges and bit masks of the DDP headers (DDP offsets).
pub mod field {
    use core::ops::Range;

    /// The control octet (T, L, Rsvd, DV).
    pub const CONTROL: usize = 0;
    /// `RsvdULP[0:7]`: the octet the ULP owns (RDMAP's control octet).
    pub const RSVDULP: usize = 1;

    /// Control octet: T, the tagged flag.
    pub const T_MASK: u8 = 0x80;
    /// Control octet: L, the last-segment flag.
    pub const L_MASK: u8 = 0x40;
    /// Control octet: the four reserved bits (RFC 5041 Rsvd).
    pub const RSVD_MASK: u8 = 0x3C;
    /// Control octet: the DDP version.
    pub const DV_MASK: u8 = 0x03;

    /// Tagged: the Data Sink STag.
    pub const STAG: Range<usize> = 2..6;
    /// Tagged: the tagged offset.
    pub const TO: Range<usize> = 6..14;
    /// Tagged: header length.
    pub const TAGGED_LEN: usize = 14;

    /// Untagged: `RsvdULP[8:39]`.
    pub const RSVDULP_WORD: Range<usize> = 2..6;
    /// Untagged: the whole 40-bit RsvdULP (what Wireshark shows as `iwarp_ddp.rsvdulp`).
    pub const RSVDULP_ALL: Range<usize> = 1..6;
    /// Untagged: queue number.
    pub const QN: Range<usize> = 6..10;
    /// Untagged: message sequence number.
    pub const MSN: Range<usize> = 10..14;
    /// Untagged: message offset.
    pub const MO: Range<usize> = 14..18;
    /// Untagged: header length.
    pub const UNTAGGED_LEN: usize = 18;
}

/// The DDP version this codec emits by default (RFC 5041: DV must be 1).
pub const VERSION: u8 = 1;

/// The DDP control octet: T, L, the four reserved bits and DV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Control(pub u8);

impl Control {
    /// A control octet with the given flags, reserved bits zero.
    pub const fn new(tagged: bool, last: bool, dv: u8) -> Self {
        let mut c = dv & field::DV_MASK;
        if tagged {
            c |= field::T_MASK;
        }
        if last {
            c |= field::L_MASK;
        }
        Control(c)
    }
    /// T: tagged buffer model.
    pub const fn tagged(self) -> bool {
        self.0 & field::T_MASK != 0
    }
    /// L: last segment of the message.
    pub const fn last(self) -> bool {
        self.0 & field::L_MASK != 0
    }
    /// The four reserved bits as a value 0..=15 (Wireshark's `iwarp_ddp.rsvd`).
    pub const fn rsvd(self) -> u8 {
        (self.0 & field::RSVD_MASK) >> 2
    }
    /// DV: the DDP version (0..=3).
    pub const fn dv(self) -> u8 {
        self.0 & field::DV_MASK
    }
    /// The same octet with T set or cleared.
    pub const fn with_tagged(self, tagged: bool) -> Self {
        Control(if tagged {
            self.0 | field::T_MASK
        } else {
            self.0 & !field::T_MASK
        })
    }
    /// The same octet with L set or cleared.
    pub const fn with_last(self, last: bool) -> Self {
        Control(if last {
            self.0 | field::L_MASK
        } else {
            self.0 & !field::L_MASK
        })
    }
    /// The same octet with the reserved bits replaced by `rsvd` (0..=15; higher bits ignored).
    pub const fn with_rsvd(self, rsvd: u8) -> Self {
        Control((self.0 & !field::RSVD_MASK) | ((rsvd << 2) & field::RSVD_MASK))
    }
}

impl From<u8> for Control {
    fn from(v: u8) -> Self {
        Control(v)
    }
}

impl From<Control> for u8 {
    fn from(c: Control) -> u8 {
        c.0
    }
}

/// A view of a tagged DDP segment: 14-octet header, then payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tagged<B> {
    buf: B,
}

/// A view of an untagged DDP segment: 18-octet header, then payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untagged<B> {
    buf: B,
}

/// A view of a DDP segment, tagged or untagged as its T bit says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<B> {
    /// T = 1.
    Tagged(Tagged<B>),
    /// T = 0.
    Untagged(Untagged<B>),
}

impl<B: AsRef<[u8]>> Tagged<B> {
    /// Wraps `buf` after checking it holds the 14-octet header. The T bit is not checked.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(buf.as_ref(), field::TAGGED_LEN, Layer::Ddp, "tagged header")?;
        Ok(Tagged { buf })
    }
    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// The control octet.
    pub fn control(&self) -> Control {
        Control(self.buf.as_ref()[field::CONTROL])
    }
    /// `RsvdULP`, the octet owned by the ULP (RDMAP's control octet).
    pub fn rsvdulp(&self) -> u8 {
        self.buf.as_ref()[field::RSVDULP]
    }
    /// The Data Sink STag.
    pub fn stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::STAG)
    }
    /// The tagged offset.
    pub fn to(&self) -> u64 {
        be64(self.buf.as_ref(), field::TO)
    }
    /// The 14-octet header.
    pub fn header(&self) -> &[u8] {
        &self.buf.as_ref()[..field::TAGGED_LEN]
    }
    /// Everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[field::TAGGED_LEN..]
    }
}

impl<'a> Tagged<&'a [u8]> {
    /// The payload with the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        &self.buf[field::TAGGED_LEN..]
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Tagged<B> {
    /// Sets the control octet.
    pub fn set_control(&mut self, c: Control) {
        self.buf.as_mut()[field::CONTROL] = c.0;
    }
    /// Sets `RsvdULP`.
    pub fn set_rsvdulp(&mut self, v: u8) {
        self.buf.as_mut()[field::RSVDULP] = v;
    }
    /// Sets the STag.
    pub fn set_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::STAG, v);
    }
    /// Sets the tagged offset.
    pub fn set_to(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::TO, v);
    }
    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::TAGGED_LEN..]
    }
}

impl<B: AsRef<[u8]>> Untagged<B> {
    /// Wraps `buf` after checking it holds the 18-octet header. The T bit is not checked.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(
            buf.as_ref(),
            field::UNTAGGED_LEN,
            Layer::Ddp,
            "untagged header",
        )?;
        Ok(Untagged { buf })
    }
    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// The control octet.
    pub fn control(&self) -> Control {
        Control(self.buf.as_ref()[field::CONTROL])
    }
    /// `RsvdULP[0:7]` (RDMAP's control octet).
    pub fn rsvdulp(&self) -> u8 {
        self.buf.as_ref()[field::RSVDULP]
    }
    /// `RsvdULP[8:39]`: Invalidate STag, one-shot STag (placement `rsvdulp`), or zero.
    pub fn rsvdulp_word(&self) -> u32 {
        be32(self.buf.as_ref(), field::RSVDULP_WORD)
    }
    /// The whole 40-bit `RsvdULP[0:39]` (RDMAP's control octet, then `RsvdULP[8:39]`): what
    /// Wireshark shows as the 5-octet `iwarp_ddp.rsvdulp`.
    pub fn rsvdulp_all(&self) -> [u8; 5] {
        array(self.buf.as_ref(), field::RSVDULP_ALL)
    }
    /// Queue number.
    pub fn qn(&self) -> u32 {
        be32(self.buf.as_ref(), field::QN)
    }
    /// Message sequence number.
    pub fn msn(&self) -> u32 {
        be32(self.buf.as_ref(), field::MSN)
    }
    /// Message offset.
    pub fn mo(&self) -> u32 {
        be32(self.buf.as_ref(), field::MO)
    }
    /// The 18-octet header.
    pub fn header(&self) -> &[u8] {
        &self.buf.as_ref()[..field::UNTAGGED_LEN]
    }
    /// Everything after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[field::UNTAGGED_LEN..]
    }
}

impl<'a> Untagged<&'a [u8]> {
    /// The payload with the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        &self.buf[field::UNTAGGED_LEN..]
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Untagged<B> {
    /// Sets the control octet.
    pub fn set_control(&mut self, c: Control) {
        self.buf.as_mut()[field::CONTROL] = c.0;
    }
    /// Sets `RsvdULP[0:7]`.
    pub fn set_rsvdulp(&mut self, v: u8) {
        self.buf.as_mut()[field::RSVDULP] = v;
    }
    /// Sets `RsvdULP[8:39]`.
    pub fn set_rsvdulp_word(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::RSVDULP_WORD, v);
    }
    /// Sets the queue number.
    pub fn set_qn(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::QN, v);
    }
    /// Sets the message sequence number.
    pub fn set_msn(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::MSN, v);
    }
    /// Sets the message offset.
    pub fn set_mo(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::MO, v);
    }
    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::UNTAGGED_LEN..]
    }
}

impl<B: AsRef<[u8]>> Segment<B> {
    /// Wraps `buf`, choosing the header layout from the T bit and checking its length.
    pub fn new_checked(buf: B) -> Result<Self> {
        let first = *buf
            .as_ref()
            .first()
            .ok_or(Error::truncated(Layer::Ddp, "header", 1, 0))?;
        if Control(first).tagged() {
            Tagged::new_checked(buf).map(Segment::Tagged)
        } else {
            Untagged::new_checked(buf).map(Segment::Untagged)
        }
    }
    /// The control octet.
    pub fn control(&self) -> Control {
        match self {
            Segment::Tagged(t) => t.control(),
            Segment::Untagged(u) => u.control(),
        }
    }
    /// `RsvdULP[0:7]` (RDMAP's control octet).
    pub fn rsvdulp(&self) -> u8 {
        match self {
            Segment::Tagged(t) => t.rsvdulp(),
            Segment::Untagged(u) => u.rsvdulp(),
        }
    }
    /// 14 (tagged) or 18 (untagged).
    pub fn header_len(&self) -> usize {
        match self {
            Segment::Tagged(_) => field::TAGGED_LEN,
            Segment::Untagged(_) => field::UNTAGGED_LEN,
        }
    }
    /// The tagged view, if T = 1.
    pub fn as_tagged(&self) -> Option<&Tagged<B>> {
        match self {
            Segment::Tagged(t) => Some(t),
            Segment::Untagged(_) => None,
        }
    }
    /// The untagged view, if T = 0.
    pub fn as_untagged(&self) -> Option<&Untagged<B>> {
        match self {
            Segment::Tagged(_) => None,
            Segment::Untagged(u) => Some(u),
        }
    }
    /// The header octets.
    pub fn header(&self) -> &[u8] {
        match self {
            Segment::Tagged(t) => t.header(),
            Segment::Untagged(u) => u.header(),
        }
    }
    /// Everything after the header.
    pub fn payload(&self) -> &[u8] {
        match self {
            Segment::Tagged(t) => t.payload(),
            Segment::Untagged(u) => u.payload(),
        }
    }
}

impl<'a> Segment<&'a [u8]> {
    /// The payload with the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        match self {
            Segment::Tagged(t) => t.payload_ref(),
            Segment::Untagged(u) => u.payload_ref(),
        }
    }
}

/// The layout-specific fields of a [`DdpRepr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DdpKind {
    /// Tagged buffer model.
    Tagged {
        /// Data Sink STag.
        stag: u32,
        /// Tagged offset.
        to: u64,
    },
    /// Untagged buffer model.
    Untagged {
        /// `RsvdULP[8:39]`.
        rsvdulp_word: u32,
        /// Queue number.
        qn: u32,
        /// Message sequence number.
        msn: u32,
        /// Message offset.
        mo: u32,
    },
}

/// A DDP header, owned and lossless: every bit of the control octet and of RsvdULP.
///
/// `emit` writes `control` as it is, so a header whose T bit disagrees with `kind` can be built
/// on purpose; [`DdpRepr::parse`] always yields a `kind` that agrees with T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DdpRepr {
    /// The control octet, raw.
    pub control: Control,
    /// `RsvdULP[0:7]` (RDMAP's control octet).
    pub rsvdulp: u8,
    /// Tagged or untagged fields.
    pub kind: DdpKind,
}

impl DdpRepr {
    /// A tagged header with DV = 1, reserved bits zero.
    pub const fn tagged(last: bool, rsvdulp: u8, stag: u32, to: u64) -> Self {
        DdpRepr {
            control: Control::new(true, last, VERSION),
            rsvdulp,
            kind: DdpKind::Tagged { stag, to },
        }
    }

    /// An untagged header with DV = 1, reserved bits and `RsvdULP[8:39]` zero.
    pub const fn untagged(last: bool, rsvdulp: u8, qn: u32, msn: u32, mo: u32) -> Self {
        DdpRepr {
            control: Control::new(false, last, VERSION),
            rsvdulp,
            kind: DdpKind::Untagged {
                rsvdulp_word: 0,
                qn,
                msn,
                mo,
            },
        }
    }

    /// Reads the header of a segment view.
    pub fn parse<B: AsRef<[u8]>>(seg: &Segment<B>) -> Self {
        let kind = match seg {
            Segment::Tagged(t) => DdpKind::Tagged {
                stag: t.stag(),
                to: t.to(),
            },
            Segment::Untagged(u) => DdpKind::Untagged {
                rsvdulp_word: u.rsvdulp_word(),
                qn: u.qn(),
                msn: u.msn(),
                mo: u.mo(),
            },
        };
        DdpRepr {
            control: seg.control(),
            rsvdulp: seg.rsvdulp(),
            kind,
        }
    }

    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        Segment::new_checked(buf).map(|s| Self::parse(&s))
    }

    /// 14 or 18, as `kind` says.
    pub const fn header_len(&self) -> usize {
        match self.kind {
            DdpKind::Tagged { .. } => field::TAGGED_LEN,
            DdpKind::Untagged { .. } => field::UNTAGGED_LEN,
        }
    }

    /// True for the tagged layout.
    pub const fn is_tagged(&self) -> bool {
        matches!(self.kind, DdpKind::Tagged { .. })
    }

    /// Writes exactly [`header_len`](Self::header_len) octets to the front of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        need(out, len, Layer::Ddp, "output buffer")?;
        out[field::CONTROL] = self.control.0;
        out[field::RSVDULP] = self.rsvdulp;
        match self.kind {
            DdpKind::Tagged { stag, to } => {
                put_be32(out, field::STAG, stag);
                put_be64(out, field::TO, to);
            }
            DdpKind::Untagged {
                rsvdulp_word,
                qn,
                msn,
                mo,
            } => {
                put_be32(out, field::RSVDULP_WORD, rsvdulp_word);
                put_be32(out, field::QN, qn);
                put_be32(out, field::MSN, msn);
                put_be32(out, field::MO, mo);
            }
        }
        Ok(len)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for DdpRepr {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let kind: DdpKind = u.arbitrary()?;
        let control = Control(u.arbitrary()?).with_tagged(matches!(kind, DdpKind::Tagged { .. }));
        Ok(DdpRepr {
            control,
            rsvdulp: u.arbitrary()?,
            kind,
        })
    }
}

impl fmt::Display for DdpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.control;
        match self.kind {
            DdpKind::Tagged { stag, to } => write!(
                f,
                "DDP tagged{} STag=0x{stag:08x} TO=0x{to:x}",
                if c.last() { " L" } else { "" }
            )?,
            DdpKind::Untagged {
                rsvdulp_word,
                qn,
                msn,
                mo,
            } => {
                write!(
                    f,
                    "DDP untagged{} QN={qn} MSN={msn} MO={mo}",
                    if c.last() { " L" } else { "" }
                )?;
                if rsvdulp_word != 0 {
                    write!(f, " RsvdULP=0x{rsvdulp_word:08x}")?;
                }
            }
        }
        if c.rsvd() != 0 {
            write!(f, " Rsvd=0x{:x}", c.rsvd())?;
        }
        if c.dv() != VERSION {
            write!(f, " DV={}", c.dv())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// RFC 5044 Fig. 5's DDP segment: untagged Send, QN 0, MSN 1, MO 0, 24 payload octets.
    #[rustfmt::skip]
    const UNTAGGED: [u8; 20] = [
        0x41,                   // T=0 L=1 Rsvd=0 DV=1
        0x43,                   // RsvdULP[0:7]: RDMAP RV=1, opcode 3 (Send)
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0xAB, 0xCD,             // payload
    ];

    /// A tagged RDMA Read Response segment, not last.
    #[rustfmt::skip]
    const TAGGED: [u8; 17] = [
        0x81,                   // T=1 L=0 Rsvd=0 DV=1
        0x42,                   // RsvdULP: RDMAP RV=1, opcode 2 (Read Response)
        0x00, 0xC0, 0xFF, 0xEE, // STag 0x00c0ffee
        0x00, 0x00, 0x00, 0x01, // TO (high)
        0x00, 0x00, 0x10, 0x00, // TO (low) = 0x1_0000_1000
        0x01, 0x02, 0x03,       // payload
    ];

    #[test]
    fn deconstruct_untagged() {
        let seg = Segment::new_checked(&UNTAGGED[..]).unwrap();
        let u = seg.as_untagged().unwrap();
        assert!(!u.control().tagged());
        assert!(u.control().last());
        assert_eq!(u.control().rsvd(), 0);
        assert_eq!(u.control().dv(), 1);
        assert_eq!(u.rsvdulp(), 0x43);
        assert_eq!(u.rsvdulp_word(), 0);
        assert_eq!(u.rsvdulp_all(), [0x43, 0, 0, 0, 0]);
        assert_eq!((u.qn(), u.msn(), u.mo()), (0, 1, 0));
        assert_eq!(seg.header_len(), 18);
        assert_eq!(seg.payload(), &[0xAB, 0xCD]);
    }

    #[test]
    fn rsvdulp_all_is_the_control_octet_then_the_word() {
        // Send with Invalidate: Wireshark's iwarp_ddp.rsvdulp shows 44 00 c0 ff ee.
        let mut buf = UNTAGGED;
        let mut u = Untagged::new_checked(&mut buf[..]).unwrap();
        u.set_rsvdulp(0x44);
        u.set_rsvdulp_word(0x00c0_ffee);
        assert_eq!(u.rsvdulp_all(), [0x44, 0x00, 0xc0, 0xff, 0xee]);
        assert_eq!(&buf[field::RSVDULP_ALL], &[0x44, 0x00, 0xc0, 0xff, 0xee]);
    }

    #[test]
    fn deconstruct_tagged() {
        let seg = Segment::new_checked(&TAGGED[..]).unwrap();
        let t = seg.as_tagged().unwrap();
        assert!(t.control().tagged());
        assert!(!t.control().last());
        assert_eq!(t.rsvdulp(), 0x42);
        assert_eq!(t.stag(), 0x00c0_ffee);
        assert_eq!(t.to(), 0x1_0000_1000);
        assert_eq!(seg.payload(), &[1, 2, 3]);
    }

    #[test]
    fn construct_with_setters() {
        let mut buf = [0u8; 20];
        let mut u = Untagged::new_checked(&mut buf[..]).unwrap();
        u.set_control(Control::new(false, true, 1));
        u.set_rsvdulp(0x43);
        u.set_msn(1);
        u.payload_mut().copy_from_slice(&[0xAB, 0xCD]);
        assert_eq!(buf, UNTAGGED);

        let mut buf = [0u8; 17];
        let mut t = Tagged::new_checked(&mut buf[..]).unwrap();
        t.set_control(Control::new(true, false, 1));
        t.set_rsvdulp(0x42);
        t.set_stag(0x00c0_ffee);
        t.set_to(0x1_0000_1000);
        t.payload_mut().copy_from_slice(&[1, 2, 3]);
        assert_eq!(buf, TAGGED);
    }

    #[test]
    fn parse_and_emit() {
        let r = DdpRepr::parse_bytes(&UNTAGGED).unwrap();
        assert_eq!(r, DdpRepr::untagged(true, 0x43, 0, 1, 0));
        let mut out = [0u8; 18];
        assert_eq!(r.emit(&mut out).unwrap(), 18);
        assert_eq!(out, UNTAGGED[..18]);

        let r = DdpRepr::parse_bytes(&TAGGED).unwrap();
        assert_eq!(r, DdpRepr::tagged(false, 0x42, 0x00c0_ffee, 0x1_0000_1000));
        let mut out = [0u8; 14];
        assert_eq!(r.emit(&mut out).unwrap(), 14);
        assert_eq!(out, TAGGED[..14]);
    }

    #[test]
    fn reserved_bits_and_version_survive() {
        let mut bytes = UNTAGGED;
        bytes[0] = 0x41 | 0x3C; // every reserved bit
        bytes[0] = (bytes[0] & !0x03) | 0x02; // DV 2
        let r = DdpRepr::parse_bytes(&bytes).unwrap();
        assert_eq!(r.control.rsvd(), 0xF);
        assert_eq!(r.control.dv(), 2);
        let mut out = [0u8; 18];
        r.emit(&mut out).unwrap();
        assert_eq!(out, bytes[..18]);
        assert_eq!(
            r.to_string(),
            "DDP untagged L QN=0 MSN=1 MO=0 Rsvd=0xf DV=2"
        );
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..18 {
            let e = Segment::new_checked(&UNTAGGED[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Ddp);
            let needed = if n == 0 { 1 } else { 18 };
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: nd, got, .. } if nd == needed && got == n),
                "prefix {n}: {e}"
            );
        }
        for n in 1..14 {
            let e = Segment::new_checked(&TAGGED[..n]).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Truncated { needed: 14, got, .. } if got == n));
        }
        // Exactly the header is fine: an empty payload.
        assert!(
            Segment::new_checked(&TAGGED[..14])
                .unwrap()
                .payload()
                .is_empty()
        );
    }

    #[test]
    fn emit_into_short_buffer_fails_without_writing_past_it() {
        let r = DdpRepr::untagged(true, 0x43, 0, 1, 0);
        let mut out = [0u8; 17];
        let e = r.emit(&mut out).unwrap_err();
        assert_eq!(
            e.to_string(),
            "DDP: truncated output buffer: need 18 bytes, have 17 (at byte 0)"
        );
    }

    #[test]
    fn control_builders() {
        let c = Control::new(false, false, 1)
            .with_rsvd(0x4)
            .with_last(true)
            .with_tagged(true);
        assert_eq!(c.0, 0x80 | 0x40 | 0x10 | 0x01);
        assert_eq!(c.rsvd(), 4);
        assert_eq!(
            c.with_rsvd(0).with_tagged(false).with_last(false),
            Control(1)
        );
    }
}
