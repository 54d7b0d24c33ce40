//! MPA Request and Reply frames (RFC 5044 §7.1) with RFC 6581 enhanced connection data
//! (WIRE.md §1.4, §1.6).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Key: "MPA ID Req Frame" or "MPA ID Rep Frame" (16 octets)    |
//! ~                                                               ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |M|C|R|S| Res   |     Rev       |          PD_Length            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                Private Data (PD_Length octets)                ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!
//! With S = 1 (RFC 6581), Private Data starts with the enhanced data:
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |A|B|           IRD             |C|D|           ORD             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Frames travel before Full Operation: no markers, no CRC.

use core::fmt;

use crate::bytes::{array, be16, put_be16};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges and masks of a Request/Reply frame.
pub mod field {
    use core::ops::Range;

    /// The 16-octet key.
    pub const KEY: Range<usize> = 0..16;
    /// Octets the Request and Reply keys share ("MPA ID Re"); octet 9 tells them apart.
    pub const KEY_PREFIX_LEN: usize = 9;
    /// The flags octet (M, C, R, S, Res).
    pub const FLAGS: usize = 16;
    /// Revision.
    pub const REV: usize = 17;
    /// PD_Length.
    pub const PD_LENGTH: Range<usize> = 18..20;
    /// First octet of Private Data.
    pub const PRIVATE_DATA: usize = 20;
    /// Fixed header length.
    pub const HEADER_LEN: usize = 20;

    /// M: the sender wants markers in what it receives.
    pub const M_MASK: u8 = 0x80;
    /// C: the sender wants CRCs.
    pub const C_MASK: u8 = 0x40;
    /// R: Reply only, the connection is rejected.
    pub const R_MASK: u8 = 0x20;
    /// S: RFC 6581 enhanced connection data present.
    pub const S_MASK: u8 = 0x10;
    /// Reserved bits under RFC 6581.
    pub const RES_MASK: u8 = 0x0F;
    /// Reserved bits under RFC 5044 (S included): what Wireshark shows as `iwarp_mpa.res`.
    pub const RES_5044_MASK: u8 = 0x1F;

    /// Largest Private Data RFC 5044 allows.
    pub const MAX_PRIVATE_DATA: usize = 512;

    /// Enhanced data: the IRD word (A, B, IRD), relative to Private Data.
    pub const IRD_WORD: Range<usize> = 0..2;
    /// Enhanced data: the ORD word (C, D, ORD), relative to Private Data.
    pub const ORD_WORD: Range<usize> = 2..4;
    /// Enhanced data length.
    pub const ENHANCED_LEN: usize = 4;
    /// A (IRD word): peer-to-peer model.
    pub const A_MASK: u16 = 0x8000;
    /// B (IRD word): zero-length Send accepted as RTR.
    pub const B_MASK: u16 = 0x4000;
    /// C (ORD word): zero-length RDMA Write accepted as RTR.
    pub const RTR_C_MASK: u16 = 0x8000;
    /// D (ORD word): zero-length RDMA Read accepted as RTR.
    pub const RTR_D_MASK: u16 = 0x4000;
    /// IRD or ORD value.
    pub const IRD_ORD_MASK: u16 = 0x3FFF;
}

/// The Request key, "MPA ID Req Frame".
pub const KEY_REQUEST: [u8; 16] = *b"MPA ID Req Frame";
/// The Reply key, "MPA ID Rep Frame".
pub const KEY_REPLY: [u8; 16] = *b"MPA ID Rep Frame";
/// IRD/ORD value meaning "no automatic negotiation" (RFC 6581).
pub const NO_IRD_ORD: u16 = 0x3FFF;

/// What the key says the frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// "MPA ID Req Frame".
    Request,
    /// "MPA ID Rep Frame".
    Reply,
    /// Any other key (MPA error 4: the connection must be closed).
    BadKey,
}

impl FrameKind {
    /// Classifies a key.
    pub fn of_key(key: &[u8; 16]) -> Self {
        if *key == KEY_REQUEST {
            FrameKind::Request
        } else if *key == KEY_REPLY {
            FrameKind::Reply
        } else {
            FrameKind::BadKey
        }
    }
}

impl fmt::Display for FrameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameKind::Request => "Request",
            FrameKind::Reply => "Reply",
            FrameKind::BadKey => "bad key",
        })
    }
}

/// The Rev field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revision {
    /// 0: the pre-IETF RDMA Consortium MPA.
    Rdmac,
    /// 1: RFC 5044.
    Rfc5044,
    /// 2: RFC 6581 enhanced connection establishment.
    Rfc6581,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for Revision {
    fn from(v: u8) -> Self {
        match v {
            0 => Revision::Rdmac,
            1 => Revision::Rfc5044,
            2 => Revision::Rfc6581,
            v => Revision::Unknown(v),
        }
    }
}

impl From<Revision> for u8 {
    fn from(r: Revision) -> u8 {
        match r {
            Revision::Rdmac => 0,
            Revision::Rfc5044 => 1,
            Revision::Rfc6581 => 2,
            Revision::Unknown(v) => v,
        }
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Revision::Rdmac => f.write_str("0 (RDMAC)"),
            Revision::Rfc5044 => f.write_str("1 (RFC 5044)"),
            Revision::Rfc6581 => f.write_str("2 (RFC 6581)"),
            Revision::Unknown(v) => write!(f, "0x{v:02x}"),
        }
    }
}

/// RFC 6581 enhanced data: the IRD and ORD words, raw and lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Enhanced {
    /// A, B and IRD.
    pub ird_word: u16,
    /// C, D and ORD.
    pub ord_word: u16,
}

impl Enhanced {
    /// Builds the two words from their parts (IRD and ORD are cut to 14 bits).
    pub const fn new(
        peer_to_peer: bool,
        send_rtr: bool,
        ird: u16,
        write_rtr: bool,
        read_rtr: bool,
        ord: u16,
    ) -> Self {
        let mut ird_word = ird & field::IRD_ORD_MASK;
        if peer_to_peer {
            ird_word |= field::A_MASK;
        }
        if send_rtr {
            ird_word |= field::B_MASK;
        }
        let mut ord_word = ord & field::IRD_ORD_MASK;
        if write_rtr {
            ord_word |= field::RTR_C_MASK;
        }
        if read_rtr {
            ord_word |= field::RTR_D_MASK;
        }
        Enhanced { ird_word, ord_word }
    }
    /// Reads the four octets at the start of `pd`.
    pub fn parse_bytes(pd: &[u8]) -> Result<Self> {
        need(pd, field::ENHANCED_LEN, Layer::MpaFrame, "enhanced data")?;
        Ok(Enhanced {
            ird_word: be16(pd, field::IRD_WORD),
            ord_word: be16(pd, field::ORD_WORD),
        })
    }
    /// The four octets.
    pub fn to_bytes(self) -> [u8; 4] {
        let [a, b] = self.ird_word.to_be_bytes();
        let [c, d] = self.ord_word.to_be_bytes();
        [a, b, c, d]
    }
    /// A: peer-to-peer model.
    pub const fn peer_to_peer(self) -> bool {
        self.ird_word & field::A_MASK != 0
    }
    /// B: a zero-length Send is accepted as RTR.
    pub const fn send_rtr(self) -> bool {
        self.ird_word & field::B_MASK != 0
    }
    /// IRD (14 bits; [`NO_IRD_ORD`] means "not negotiated").
    pub const fn ird(self) -> u16 {
        self.ird_word & field::IRD_ORD_MASK
    }
    /// C: a zero-length RDMA Write is accepted as RTR.
    pub const fn write_rtr(self) -> bool {
        self.ord_word & field::RTR_C_MASK != 0
    }
    /// D: a zero-length RDMA Read is accepted as RTR.
    pub const fn read_rtr(self) -> bool {
        self.ord_word & field::RTR_D_MASK != 0
    }
    /// ORD (14 bits).
    pub const fn ord(self) -> u16 {
        self.ord_word & field::IRD_ORD_MASK
    }
}

impl fmt::Display for Enhanced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IRD={} ORD={}", self.ird(), self.ord())?;
        for (on, name) in [
            (self.peer_to_peer(), " A(peer-to-peer)"),
            (self.send_rtr(), " B(Send RTR)"),
            (self.write_rtr(), " C(Write RTR)"),
            (self.read_rtr(), " D(Read RTR)"),
        ] {
            if on {
                f.write_str(name)?;
            }
        }
        Ok(())
    }
}

/// A view of an MPA Request or Reply frame at the start of a buffer.
///
/// Built by [`new_checked`](Self::new_checked) (the whole frame is there and PD_Length is at
/// most 512) or [`header_checked`](Self::header_checked) (only the 20-octet header is
/// checked). No accessor panics either way: on a header-checked view the Private Data
/// accessors return the octets present, cut at the buffer's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpaFrame<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> MpaFrame<B> {
    /// Wraps `buf` after checking the 20-octet header, that PD_Length is at most 512, and that
    /// the Private Data is all there. The key is not checked: see [`kind`](Self::kind).
    pub fn new_checked(buf: B) -> Result<Self> {
        let b = buf.as_ref();
        need(b, field::HEADER_LEN, Layer::MpaFrame, "header")?;
        let pd = be16(b, field::PD_LENGTH) as usize;
        if pd > field::MAX_PRIVATE_DATA {
            return Err(Error::bad_length(Layer::MpaFrame, "PD_Length", pd as u64)
                .at(field::PD_LENGTH.start));
        }
        need(b, field::HEADER_LEN + pd, Layer::MpaFrame, "private data")?;
        Ok(MpaFrame { buf })
    }
    /// Wraps `buf` after checking only the 20-octet header, so that a dissector can show the
    /// key, flags, Rev and PD_Length of a frame whose PD_Length is over 512 or whose Private
    /// Data is cut short (MPA error 4: see [`new_checked`](Self::new_checked) for the full
    /// check). [`len`](Self::len) is then what the header announces, and
    /// [`private_data`](Self::private_data) what the buffer holds of it.
    pub fn header_checked(buf: B) -> Result<Self> {
        need(buf.as_ref(), field::HEADER_LEN, Layer::MpaFrame, "header")?;
        Ok(MpaFrame { buf })
    }
    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// The key, raw.
    pub fn key(&self) -> [u8; 16] {
        array(self.buf.as_ref(), field::KEY)
    }
    /// Request, Reply or bad key.
    pub fn kind(&self) -> FrameKind {
        FrameKind::of_key(&self.key())
    }
    /// The flags octet, raw.
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// M: markers wanted in what this sender receives.
    pub fn markers(&self) -> bool {
        self.flags() & field::M_MASK != 0
    }
    /// C: CRC wanted.
    pub fn crc(&self) -> bool {
        self.flags() & field::C_MASK != 0
    }
    /// R: rejected (meaningful in a Reply).
    pub fn rejected(&self) -> bool {
        self.flags() & field::R_MASK != 0
    }
    /// S: enhanced data present (RFC 6581).
    pub fn enhanced_flag(&self) -> bool {
        self.flags() & field::S_MASK != 0
    }
    /// Res: the four reserved bits under RFC 6581 (mask 0x0F; S is a flag of its own).
    pub fn res(&self) -> u8 {
        self.flags() & field::RES_MASK
    }
    /// Res as RFC 5044 defines it (mask 0x1F, the RFC 6581 S bit included): what Wireshark
    /// shows as `iwarp_mpa.res` and warns about when non-zero in a Request.
    pub fn res_5044(&self) -> u8 {
        self.flags() & field::RES_5044_MASK
    }
    /// Rev, raw.
    pub fn rev(&self) -> u8 {
        self.buf.as_ref()[field::REV]
    }
    /// Rev, named.
    pub fn revision(&self) -> Revision {
        self.rev().into()
    }
    /// PD_Length.
    pub fn pd_length(&self) -> u16 {
        be16(self.buf.as_ref(), field::PD_LENGTH)
    }
    /// The whole Private Data (enhanced data included), cut at the buffer's end when a
    /// [header-checked](Self::header_checked) view announces more than the buffer holds.
    pub fn private_data(&self) -> &[u8] {
        let b = self.buf.as_ref();
        &b[field::PRIVATE_DATA..self.len().min(b.len())]
    }
    /// RFC 6581 enhanced data, when S is set and Private Data holds it.
    pub fn enhanced(&self) -> Option<Enhanced> {
        if self.enhanced_flag() {
            Enhanced::parse_bytes(self.private_data()).ok()
        } else {
            None
        }
    }
    /// The ULP's Private Data: after the enhanced data when there is one.
    pub fn ulp_private_data(&self) -> &[u8] {
        let pd = self.private_data();
        if self.enhanced().is_some() {
            &pd[field::ENHANCED_LEN..]
        } else {
            pd
        }
    }
    /// 20 + PD_Length, as the header announces it (on a [header-checked](Self::header_checked)
    /// view this may exceed the buffer).
    pub fn len(&self) -> usize {
        field::HEADER_LEN + self.pd_length() as usize
    }
    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> MpaFrame<B> {
    /// Sets the key.
    pub fn set_key(&mut self, key: &[u8; 16]) {
        self.buf.as_mut()[field::KEY].copy_from_slice(key);
    }
    /// Sets the flags octet.
    pub fn set_flags(&mut self, v: u8) {
        self.buf.as_mut()[field::FLAGS] = v;
    }
    /// Sets Rev.
    pub fn set_rev(&mut self, v: u8) {
        self.buf.as_mut()[field::REV] = v;
    }
    /// Overwrites PD_Length without moving anything (for fault injection: "PD_Length > 512",
    /// "PD_Length does not match the data"). The frame's extent changes with it, so this
    /// consumes the view and returns the buffer.
    pub fn set_pd_length(mut self, v: u16) -> B {
        put_be16(self.buf.as_mut(), field::PD_LENGTH, v);
        self.buf
    }
}

/// Flags octet from its named bits (reserved bits zero).
pub const fn flags(markers: bool, crc: bool, rejected: bool, enhanced: bool) -> u8 {
    let mut f = 0;
    if markers {
        f |= field::M_MASK;
    }
    if crc {
        f |= field::C_MASK;
    }
    if rejected {
        f |= field::R_MASK;
    }
    if enhanced {
        f |= field::S_MASK;
    }
    f
}

/// A Request or Reply frame, owned and lossless.
///
/// PD_Length is derived: the enhanced data's four octets (when present) plus `private_data`.
/// `emit` writes `flags` as they are, so S and `enhanced` can be made to disagree on purpose;
/// [`MpaFrameRepr::parse`] fills `enhanced` exactly when S is set and four octets are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MpaFrameRepr<'a> {
    /// The key, raw (fault injection may use any 16 octets).
    pub key: [u8; 16],
    /// Flags octet, raw.
    pub flags: u8,
    /// Rev, raw.
    pub rev: u8,
    /// RFC 6581 enhanced data.
    pub enhanced: Option<Enhanced>,
    /// The ULP's Private Data (after the enhanced data).
    pub private_data: &'a [u8],
}

impl<'a> MpaFrameRepr<'a> {
    /// Reads a frame view. From a [header-checked](MpaFrame::header_checked) view whose Private
    /// Data is cut short, the repr holds the octets present (so it emits a smaller PD_Length).
    pub fn parse(frame: &MpaFrame<&'a [u8]>) -> Self {
        let enhanced = frame.enhanced();
        let b = frame.buf;
        let pd = &b[field::PRIVATE_DATA..frame.len().min(b.len())];
        MpaFrameRepr {
            key: frame.key(),
            flags: frame.flags(),
            rev: frame.rev(),
            enhanced,
            private_data: if enhanced.is_some() {
                &pd[field::ENHANCED_LEN..]
            } else {
                pd
            },
        }
    }

    /// Decodes the frame at the start of `buf`.
    pub fn parse_bytes(buf: &'a [u8]) -> Result<Self> {
        MpaFrame::new_checked(buf).map(|f| Self::parse(&f))
    }

    /// PD_Length as emitted.
    pub fn pd_length(&self) -> usize {
        self.private_data.len() + self.enhanced.map_or(0, |_| field::ENHANCED_LEN)
    }

    /// 20 + PD_Length.
    pub fn len(&self) -> usize {
        field::HEADER_LEN + self.pd_length()
    }

    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes exactly [`len`](Self::len) octets. Fails when PD_Length would exceed 512.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let pd = self.pd_length();
        if pd > field::MAX_PRIVATE_DATA {
            return Err(Error::bad_length(Layer::MpaFrame, "PD_Length", pd as u64));
        }
        let len = self.len();
        need(out, len, Layer::MpaFrame, "output buffer")?;
        out[field::KEY].copy_from_slice(&self.key);
        out[field::FLAGS] = self.flags;
        out[field::REV] = self.rev;
        put_be16(out, field::PD_LENGTH, pd as u16);
        let mut at = field::PRIVATE_DATA;
        if let Some(e) = self.enhanced {
            out[at..at + field::ENHANCED_LEN].copy_from_slice(&e.to_bytes());
            at += field::ENHANCED_LEN;
        }
        out[at..len].copy_from_slice(self.private_data);
        Ok(len)
    }

    /// Request, Reply or bad key.
    pub fn kind(&self) -> FrameKind {
        FrameKind::of_key(&self.key)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for MpaFrameRepr<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = match u.int_in_range(0u8..=2)? {
            0 => KEY_REQUEST,
            1 => KEY_REPLY,
            _ => u.arbitrary()?,
        };
        let enhanced: Option<Enhanced> = u.arbitrary()?;
        let mut flags: u8 = u.arbitrary()?;
        let room = field::MAX_PRIVATE_DATA - enhanced.map_or(0, |_| field::ENHANCED_LEN);
        let n = u.int_in_range(0..=room.min(u.len()))?;
        let private_data = u.bytes(n)?;
        if enhanced.is_some() {
            flags |= field::S_MASK;
        } else if n >= field::ENHANCED_LEN {
            flags &= !field::S_MASK;
        }
        Ok(MpaFrameRepr {
            key,
            flags,
            rev: u.arbitrary()?,
            enhanced,
            private_data,
        })
    }
}

impl fmt::Display for MpaFrameRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MPA {} Rev={}", self.kind(), self.rev)?;
        for (mask, name) in [
            (field::M_MASK, " M"),
            (field::C_MASK, " C"),
            (field::R_MASK, " R"),
            (field::S_MASK, " S"),
        ] {
            if self.flags & mask != 0 {
                f.write_str(name)?;
            }
        }
        if self.flags & field::RES_MASK != 0 {
            write!(f, " Res=0x{:x}", self.flags & field::RES_MASK)?;
        }
        if let Some(e) = self.enhanced {
            write!(f, " {e}")?;
        }
        write!(f, " PD_Length={}", self.pd_length())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// An RFC 6581 Request: markers and CRC wanted, S set, IRD 16 ORD 16, peer-to-peer with
    /// Write and Read RTR, then 3 octets of ULP private data.
    #[rustfmt::skip]
    const REQUEST_V2: [u8; 27] = [
        b'M', b'P', b'A', b' ', b'I', b'D', b' ', b'R', // key "MPA ID Req Frame"
        b'e', b'q', b' ', b'F', b'r', b'a', b'm', b'e',
        0xD0,                   // M=1 C=1 R=0 S=1 Res=0
        0x02,                   // Rev 2
        0x00, 0x07,             // PD_Length 7
        0x80, 0x10,             // A=1 B=0 IRD=16
        0xC0, 0x10,             // C=1 D=1 ORD=16
        0xAA, 0xBB, 0xCC,       // ULP private data
    ];

    /// An RFC 5044 Reply rejecting the connection, no private data.
    #[rustfmt::skip]
    const REPLY_REJECT: [u8; 20] = [
        b'M', b'P', b'A', b' ', b'I', b'D', b' ', b'R', // key "MPA ID Rep Frame"
        b'e', b'p', b' ', b'F', b'r', b'a', b'm', b'e',
        0x20,                   // R=1
        0x01,                   // Rev 1
        0x00, 0x00,             // PD_Length 0
    ];

    #[test]
    fn deconstruct() {
        let f = MpaFrame::new_checked(&REQUEST_V2[..]).unwrap();
        assert_eq!(f.kind(), FrameKind::Request);
        assert!(f.markers() && f.crc() && !f.rejected() && f.enhanced_flag());
        assert_eq!(f.res(), 0);
        assert_eq!(f.revision(), Revision::Rfc6581);
        assert_eq!(f.pd_length(), 7);
        let e = f.enhanced().unwrap();
        assert!(e.peer_to_peer() && !e.send_rtr() && e.write_rtr() && e.read_rtr());
        assert_eq!((e.ird(), e.ord()), (16, 16));
        assert_eq!(f.ulp_private_data(), &[0xAA, 0xBB, 0xCC]);
        assert_eq!(f.len(), 27);

        let r = MpaFrame::new_checked(&REPLY_REJECT[..]).unwrap();
        assert_eq!(r.kind(), FrameKind::Reply);
        assert!(r.rejected() && !r.markers() && !r.crc());
        assert_eq!(r.revision(), Revision::Rfc5044);
        assert!(r.enhanced().is_none());
        assert!(r.private_data().is_empty());
    }

    #[test]
    fn construct_parse_emit() {
        let r = MpaFrameRepr {
            key: KEY_REQUEST,
            flags: flags(true, true, false, true),
            rev: 2,
            enhanced: Some(Enhanced::new(true, false, 16, true, true, 16)),
            private_data: &[0xAA, 0xBB, 0xCC],
        };
        let mut out = [0u8; 27];
        assert_eq!(r.emit(&mut out).unwrap(), 27);
        assert_eq!(out, REQUEST_V2);
        assert_eq!(MpaFrameRepr::parse_bytes(&REQUEST_V2).unwrap(), r);
        assert_eq!(
            r.to_string(),
            "MPA Request Rev=2 M C S IRD=16 ORD=16 A(peer-to-peer) C(Write RTR) D(Read RTR) PD_Length=7"
        );
        let rej = MpaFrameRepr::parse_bytes(&REPLY_REJECT).unwrap();
        assert_eq!(rej.to_string(), "MPA Reply Rev=1 R PD_Length=0");
    }

    #[test]
    fn bad_key_and_setters() {
        let mut b = REPLY_REJECT;
        let mut f = MpaFrame::new_checked(&mut b[..]).unwrap();
        f.set_key(b"MPA ID Xxx Frame");
        f.set_flags(0x4F);
        f.set_rev(7);
        assert_eq!(f.kind(), FrameKind::BadKey);
        assert_eq!(f.res(), 0xF);
        assert_eq!(f.revision(), Revision::Unknown(7));
        let r = MpaFrameRepr::parse_bytes(&b).unwrap();
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn s_bit_with_short_private_data_stays_raw() {
        let mut b = REPLY_REJECT.to_vec();
        b[16] = 0x10; // S set
        b[19] = 2; // but only 2 octets of private data
        b.extend_from_slice(&[1, 2]);
        let r = MpaFrameRepr::parse_bytes(&b).unwrap();
        assert_eq!(r.enhanced, None);
        assert_eq!(r.private_data, &[1, 2]);
        let mut out = vec![0u8; b.len()];
        r.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn the_keys_share_their_first_nine_octets() {
        let n = field::KEY_PREFIX_LEN;
        assert_eq!(KEY_REQUEST[..n], KEY_REPLY[..n]);
        assert_eq!(&KEY_REQUEST[..n], b"MPA ID Re");
        assert_ne!(KEY_REQUEST[n], KEY_REPLY[n]);
    }

    #[test]
    fn res_5044_includes_the_s_bit() {
        let f = MpaFrame::new_checked(&REQUEST_V2[..]).unwrap();
        assert_eq!((f.res(), f.res_5044()), (0, 0x10)); // S set: Wireshark's Res warning
        let mut b = REPLY_REJECT;
        b[16] = 0xFF;
        let f = MpaFrame::new_checked(&b[..]).unwrap();
        assert_eq!((f.res(), f.res_5044()), (0x0F, 0x1F));
    }

    #[test]
    fn header_checked_shows_a_frame_new_checked_refuses() {
        // PD_Length 600 (> 512) with only 10 octets of Private Data in the buffer.
        let mut b = REQUEST_V2[..20].to_vec();
        b[18..20].copy_from_slice(&600u16.to_be_bytes());
        b.extend_from_slice(&[0x80, 0x10, 0xC0, 0x10, 1, 2, 3, 4, 5, 6]);
        assert!(MpaFrame::new_checked(&b[..]).is_err());
        let f = MpaFrame::header_checked(&b[..]).unwrap();
        assert_eq!(f.kind(), FrameKind::Request);
        assert_eq!((f.flags(), f.rev(), f.pd_length()), (0xD0, 2, 600));
        assert_eq!(f.len(), 620, "as announced");
        assert_eq!(f.private_data(), &b[20..]);
        assert_eq!(f.enhanced().unwrap().ird(), 16);
        assert_eq!(f.ulp_private_data(), &[1, 2, 3, 4, 5, 6]);
        let r = MpaFrameRepr::parse(&f);
        assert_eq!(r.private_data, &[1, 2, 3, 4, 5, 6]);

        // Private Data cut short, S set, fewer than 4 octets present: no enhanced data.
        let mut b = REQUEST_V2[..22].to_vec();
        assert!(MpaFrame::new_checked(&b[..]).is_err());
        let f = MpaFrame::header_checked(&b[..]).unwrap();
        assert_eq!((f.pd_length(), f.len()), (7, 27));
        assert_eq!(f.private_data(), &[0x80, 0x10]);
        assert_eq!(f.enhanced(), None);
        assert_eq!(f.ulp_private_data(), &[0x80, 0x10]);
        // Nothing but the header.
        b.truncate(20);
        let f = MpaFrame::header_checked(&b[..]).unwrap();
        assert!(f.private_data().is_empty() && f.enhanced().is_none());
        // Fewer than 20 octets: truncated header.
        for n in 0..20 {
            let e = MpaFrame::header_checked(&REQUEST_V2[..n]).unwrap_err();
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: 20, got, .. } if got == n),
                "{e}"
            );
        }
    }

    #[test]
    fn set_pd_length_injects_length_faults() {
        let mut b = [0u8; 27];
        b.copy_from_slice(&REQUEST_V2);
        let f = MpaFrame::new_checked(&mut b[..]).unwrap();
        let buf = f.set_pd_length(513);
        assert_eq!(&buf[18..20], &[0x02, 0x01]);
        assert_eq!(
            MpaFrame::new_checked(&buf[..]).unwrap_err().to_string(),
            "MPA frame: bad PD_Length 513 (at byte 18)"
        );
        assert_eq!(MpaFrame::header_checked(&buf[..]).unwrap().pd_length(), 513);
        // PD_Length that does not match the data: 9 announced, 7 there.
        let f = MpaFrame::header_checked(&mut b[..]).unwrap();
        let buf = f.set_pd_length(9);
        assert!(matches!(
            MpaFrame::new_checked(&buf[..]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 29,
                got: 27,
                ..
            }
        ));
        let f = MpaFrame::header_checked(&buf[..]).unwrap();
        assert_eq!((f.len(), f.private_data().len()), (29, 7));
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..REQUEST_V2.len() {
            let e = MpaFrame::new_checked(&REQUEST_V2[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::MpaFrame);
            let needed = if n < 20 { 20 } else { 27 };
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: nd, got, .. } if nd == needed && got == n),
                "prefix {n}: {e}"
            );
        }
    }

    #[test]
    fn impossible_length_field() {
        let mut b = vec![0u8; 600];
        b[..20].copy_from_slice(&REPLY_REJECT);
        b[18..20].copy_from_slice(&513u16.to_be_bytes());
        let e = MpaFrame::new_checked(&b[..]).unwrap_err();
        assert_eq!(e.to_string(), "MPA frame: bad PD_Length 513 (at byte 18)");
        let big = [0u8; 509];
        let r = MpaFrameRepr {
            key: KEY_REQUEST,
            flags: flags(false, true, false, true),
            rev: 2,
            enhanced: Some(Enhanced::default()),
            private_data: &big,
        };
        assert!(r.emit(&mut [0u8; 600]).is_err());
    }
}
