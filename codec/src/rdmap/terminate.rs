//! RDMAP Terminate header (RFC 5040 §4.8; WIRE.md §3.4): opcode 0x7, QN 2.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Layer | EType |  Error Code   |M|D|R|        Reserved         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |    DDP Segment Length (D=1)   |  terminated DDP header (D=1)  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ 14 octets if tagged, 18 if not ~
//! ~                                                               ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~        terminated RDMAP header (R=1): 28 octets               ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The copied DDP header's own T bit says whether it is 14 or 18 octets long. (Wireshark instead
//! assumes 14 only when Layer is DDP and EType is 1: see
//! [`Terminate::wireshark_ddp_header_len`].)

use core::fmt;

use super::read::{ReadRequest, ReadRequestRepr};
use crate::bytes::{be16, be32, put_be16, put_be32};
use crate::ddp::{self, DdpRepr};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges and masks of the Terminate header (relative to its first octet).
pub mod field {
    use core::ops::Range;

    /// The 32-bit control word.
    pub const CONTROL: Range<usize> = 0..4;
    /// Length of the control word: the whole header when D and R are clear.
    pub const CONTROL_LEN: usize = 4;
    /// DDP Segment Length (present iff D = 1).
    pub const DDP_SEG_LEN: Range<usize> = 4..6;
    /// First octet of the terminated DDP header (present iff D = 1).
    pub const DDP_HEADER: usize = 6;

    /// Control word: Layer.
    pub const LAYER_MASK: u32 = 0xF000_0000;
    /// Control word: EType.
    pub const ETYPE_MASK: u32 = 0x0F00_0000;
    /// Control word: Error Code.
    pub const ERRCODE_MASK: u32 = 0x00FF_0000;
    /// Control word: M, DDP Segment Length valid.
    pub const M_MASK: u32 = 0x0000_8000;
    /// Control word: D, DDP header included.
    pub const D_MASK: u32 = 0x0000_4000;
    /// Control word: R, RDMAP header included.
    pub const R_MASK: u32 = 0x0000_2000;
    /// Control word: reserved.
    pub const RSVD_MASK: u32 = 0x0000_1FFF;
}

/// The Layer field of a Terminate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermLayer {
    /// 0: RDMAP.
    Rdmap,
    /// 1: DDP.
    Ddp,
    /// 2: the LLP (MPA).
    Llp,
    /// Anything else.
    Unknown(u8),
}

impl From<u8> for TermLayer {
    fn from(v: u8) -> Self {
        match v {
            0 => TermLayer::Rdmap,
            1 => TermLayer::Ddp,
            2 => TermLayer::Llp,
            v => TermLayer::Unknown(v),
        }
    }
}

impl From<TermLayer> for u8 {
    fn from(l: TermLayer) -> u8 {
        match l {
            TermLayer::Rdmap => 0,
            TermLayer::Ddp => 1,
            TermLayer::Llp => 2,
            TermLayer::Unknown(v) => v,
        }
    }
}

impl fmt::Display for TermLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TermLayer::Rdmap => f.write_str("RDMA"),
            TermLayer::Ddp => f.write_str("DDP"),
            TermLayer::Llp => f.write_str("LLP"),
            TermLayer::Unknown(v) => write!(f, "0x{v:x}"),
        }
    }
}

/// The name of an EType for a layer (RFC 5040 §7.2, RFC 5041 §7.2, RFC 5044 §8).
pub fn etype_name(layer: TermLayer, etype: u8) -> Option<&'static str> {
    Some(match (layer, etype) {
        (TermLayer::Rdmap, 0) => "Local Catastrophic Error",
        (TermLayer::Rdmap, 1) => "Remote Protection Error",
        (TermLayer::Rdmap, 2) => "Remote Operation Error",
        (TermLayer::Ddp, 0) => "Local Catastrophic Error",
        (TermLayer::Ddp, 1) => "Tagged Buffer Error",
        (TermLayer::Ddp, 2) => "Untagged Buffer Error",
        (TermLayer::Ddp, 3) => "Reserved for the use by the LLP",
        (TermLayer::Llp, 0) => "MPA",
        _ => return None,
    })
}

/// The name of an Error Code for a layer and EType.
pub fn errcode_name(layer: TermLayer, etype: u8, code: u8) -> Option<&'static str> {
    Some(match (layer, etype, code) {
        (TermLayer::Rdmap, 1, 0x00) => "Invalid STag",
        (TermLayer::Rdmap, 1, 0x01) => "Base or bounds violation",
        (TermLayer::Rdmap, 1, 0x02) => "Access rights violation",
        (TermLayer::Rdmap, 1, 0x03) => "STag not associated with RDMAP Stream",
        (TermLayer::Rdmap, 1, 0x04) => "TO wrap",
        (TermLayer::Rdmap, 1 | 2, 0x09) => "STag cannot be invalidated",
        (TermLayer::Rdmap, 1 | 2, 0xFF) => "Unspecified Error",
        (TermLayer::Rdmap, 2, 0x05) => "Invalid RDMAP version",
        (TermLayer::Rdmap, 2, 0x06) => "Unexpected OpCode",
        (TermLayer::Rdmap, 2, 0x07) => "Catastrophic error, localized to RDMAP Stream",
        (TermLayer::Rdmap, 2, 0x08) => "Catastrophic error, global",
        (TermLayer::Ddp, 1, 0x00) => "Invalid STag",
        (TermLayer::Ddp, 1, 0x01) => "Base or bounds violation",
        (TermLayer::Ddp, 1, 0x02) => "STag not associated with DDP Stream",
        (TermLayer::Ddp, 1, 0x03) => "TO wrap",
        (TermLayer::Ddp, 1, 0x04) => "Invalid DDP version",
        (TermLayer::Ddp, 2, 0x01) => "Invalid QN",
        (TermLayer::Ddp, 2, 0x02) => "Invalid MSN - no buffer available",
        (TermLayer::Ddp, 2, 0x03) => "Invalid MSN - MSN range is not valid",
        (TermLayer::Ddp, 2, 0x04) => "Invalid MO",
        (TermLayer::Ddp, 2, 0x05) => "DDP Message too long for available buffer",
        (TermLayer::Ddp, 2, 0x06) => "Invalid DDP version",
        (TermLayer::Llp, 0, 0x01) => "TCP connection closed, reset, timed out or lost",
        (TermLayer::Llp, 0, 0x02) => "Received MPA CRC does not match the calculated value",
        (TermLayer::Llp, 0, 0x03) => "Marker and ULPDU_Length do not agree",
        (TermLayer::Llp, 0, 0x04) => "Invalid MPA Request or Reply frame",
        (TermLayer::Llp, 0, 0x05) => "Local catastrophic error",
        (TermLayer::Llp, 0, 0x06) => "Insufficient IRD resources",
        (TermLayer::Llp, 0, 0x07) => "No matching RTR option",
        _ => return None,
    })
}

/// A view of a Terminate header (control word and whatever D and R say follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminate<B> {
    buf: B,
}

/// Length of the copied DDP header that starts with control octet `c`.
fn copied_ddp_len(c: u8) -> usize {
    if ddp::Control(c).tagged() {
        ddp::field::TAGGED_LEN
    } else {
        ddp::field::UNTAGGED_LEN
    }
}

impl<B: AsRef<[u8]>> Terminate<B> {
    /// Wraps `buf` after checking the control word and every part its D and R bits announce.
    pub fn new_checked(buf: B) -> Result<Self> {
        let b = buf.as_ref();
        need(b, field::CONTROL_LEN, Layer::Rdmap, "Terminate header")?;
        let t = Terminate { buf };
        let len = t.len_checked()?;
        need(t.buf.as_ref(), len, Layer::Rdmap, "Terminate header")?;
        Ok(t)
    }

    fn len_checked(&self) -> Result<usize> {
        let b = self.buf.as_ref();
        let mut len = field::CONTROL_LEN;
        if self.d() {
            need(b, field::DDP_HEADER + 1, Layer::Rdmap, "Terminate header")?;
            len = field::DDP_HEADER + copied_ddp_len(b[field::DDP_HEADER]);
        }
        if self.r() {
            len += super::read::field::LEN;
        }
        Ok(len)
    }

    /// Header length: 4, plus 2 + 14/18 when D, plus 28 when R.
    pub fn len(&self) -> usize {
        self.len_checked().unwrap_or(field::CONTROL_LEN)
    }

    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The control word, raw.
    pub fn control(&self) -> u32 {
        be32(self.buf.as_ref(), field::CONTROL)
    }
    /// Layer (4 bits).
    pub fn layer(&self) -> u8 {
        ((self.control() & field::LAYER_MASK) >> 28) as u8
    }
    /// Layer, named.
    pub fn term_layer(&self) -> TermLayer {
        self.layer().into()
    }
    /// EType (4 bits).
    pub fn etype(&self) -> u8 {
        ((self.control() & field::ETYPE_MASK) >> 24) as u8
    }
    /// Error Code.
    pub fn errcode(&self) -> u8 {
        ((self.control() & field::ERRCODE_MASK) >> 16) as u8
    }
    /// M: DDP Segment Length valid.
    pub fn m(&self) -> bool {
        self.control() & field::M_MASK != 0
    }
    /// D: DDP header included.
    pub fn d(&self) -> bool {
        self.control() & field::D_MASK != 0
    }
    /// R: RDMAP header included.
    pub fn r(&self) -> bool {
        self.control() & field::R_MASK != 0
    }
    /// The 13 reserved bits.
    pub fn rsvd(&self) -> u16 {
        (self.control() & field::RSVD_MASK) as u16
    }
    /// DDP Segment Length, when D = 1.
    pub fn ddp_seg_len(&self) -> Option<u16> {
        self.d()
            .then(|| be16(self.buf.as_ref(), field::DDP_SEG_LEN))
    }
    /// Where the copied DDP header sits, when D = 1.
    pub fn ddp_header_range(&self) -> Option<core::ops::Range<usize>> {
        self.d().then(|| {
            let c = self.buf.as_ref()[field::DDP_HEADER];
            field::DDP_HEADER..field::DDP_HEADER + copied_ddp_len(c)
        })
    }
    /// The copied DDP header's octets, when D = 1.
    pub fn ddp_header(&self) -> Option<&[u8]> {
        self.ddp_header_range().map(|r| &self.buf.as_ref()[r])
    }
    /// The copied DDP header, decoded, when D = 1.
    pub fn ddp(&self) -> Option<ddp::Segment<&[u8]>> {
        self.ddp_header()
            .and_then(|h| ddp::Segment::new_checked(h).ok())
    }
    /// Where the copied RDMAP header sits, when R = 1.
    pub fn rdmap_header_range(&self) -> Option<core::ops::Range<usize>> {
        self.r().then(|| {
            let start = self
                .ddp_header_range()
                .map_or(field::CONTROL_LEN, |r| r.end);
            start..start + super::read::field::LEN
        })
    }
    /// The copied RDMAP header (a Read Request header), when R = 1.
    pub fn rdmap_header(&self) -> Option<ReadRequest<&[u8]>> {
        self.rdmap_header_range()
            .and_then(|r| ReadRequest::new_checked(&self.buf.as_ref()[r]).ok())
    }
    /// The length Wireshark gives the copied DDP header (WIRE.md §5.8): 14 when Layer is DDP (1)
    /// and EType is 1 (a tagged buffer error), otherwise 18, whatever the copy's T bit says.
    /// This is what tshark 4.0 shows as `iwarp_rdma.term_ddp_h` (when D = 1), and where it then
    /// looks for `iwarp_rdma.term_rdma_h` (6 + this length). The codec itself sizes the copy
    /// by its T bit ([`ddp_header_range`](Self::ddp_header_range)); the two disagree on, for
    /// instance, a tagged copy under Layer RDMAP.
    pub fn wireshark_ddp_header_len(&self) -> usize {
        if self.term_layer() == TermLayer::Ddp && self.etype() == 1 {
            ddp::field::TAGGED_LEN
        } else {
            ddp::field::UNTAGGED_LEN
        }
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Terminate<B> {
    /// Sets the control word. Fails, leaving the word as it was, when the D and R bits of `v`
    /// announce parts the buffer does not hold (so no accessor can panic afterwards).
    pub fn set_control(&mut self, v: u32) -> Result<()> {
        let old = self.control();
        put_be32(self.buf.as_mut(), field::CONTROL, v);
        match self
            .len_checked()
            .and_then(|len| need(self.buf.as_ref(), len, Layer::Rdmap, "Terminate header"))
        {
            Ok(()) => Ok(()),
            Err(e) => {
                put_be32(self.buf.as_mut(), field::CONTROL, old);
                Err(e)
            }
        }
    }
    /// Sets DDP Segment Length. Fails when D = 0: the field is then absent.
    pub fn set_ddp_seg_len(&mut self, v: u16) -> Result<()> {
        if !self.d() {
            return Err(
                Error::unsupported(Layer::Rdmap, "DDP Segment Length without the D bit")
                    .at(field::DDP_SEG_LEN.start),
            );
        }
        put_be16(self.buf.as_mut(), field::DDP_SEG_LEN, v);
        Ok(())
    }
}

/// A Terminate header, owned and lossless.
///
/// `emit` writes `control` as it is; the optional parts are written when present. A parsed repr
/// has `ddp` exactly when D is set and `rdmap` exactly when R is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TerminateRepr {
    /// The control word, raw.
    pub control: u32,
    /// DDP Segment Length and the terminated DDP header.
    pub ddp: Option<(u16, DdpRepr)>,
    /// The terminated RDMAP header.
    pub rdmap: Option<ReadRequestRepr>,
}

impl TerminateRepr {
    /// A control word from its fields (reserved bits zero; D and R follow `ddp` and `rdmap`
    /// when the repr is built with [`TerminateRepr::new`]).
    pub const fn control_word(layer: u8, etype: u8, errcode: u8, m: bool, d: bool, r: bool) -> u32 {
        let mut w =
            ((layer as u32 & 0xF) << 28) | ((etype as u32 & 0xF) << 24) | ((errcode as u32) << 16);
        if m {
            w |= field::M_MASK;
        }
        if d {
            w |= field::D_MASK;
        }
        if r {
            w |= field::R_MASK;
        }
        w
    }

    /// A Terminate whose D and R bits match the parts given; M is set with the DDP header.
    pub fn new(
        layer: TermLayer,
        etype: u8,
        errcode: u8,
        ddp: Option<(u16, DdpRepr)>,
        rdmap: Option<ReadRequestRepr>,
    ) -> Self {
        TerminateRepr {
            control: Self::control_word(
                layer.into(),
                etype,
                errcode,
                ddp.is_some(),
                ddp.is_some(),
                rdmap.is_some(),
            ),
            ddp,
            rdmap,
        }
    }

    /// Reads a view.
    pub fn parse<B: AsRef<[u8]>>(v: &Terminate<B>) -> Self {
        TerminateRepr {
            control: v.control(),
            ddp: v.ddp_seg_len().zip(v.ddp().map(|s| DdpRepr::parse(&s))),
            rdmap: v.rdmap_header().map(|r| ReadRequestRepr::parse(&r)),
        }
    }

    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        Terminate::new_checked(buf).map(|v| Self::parse(&v))
    }

    /// Octets [`emit`](Self::emit) writes.
    pub fn header_len(&self) -> usize {
        self.ddp.map_or(field::CONTROL_LEN, |(_, d)| {
            field::DDP_HEADER + d.header_len()
        }) + self.rdmap.map_or(0, |r| r.header_len())
    }

    /// Writes exactly [`header_len`](Self::header_len) octets. Errors name the byte of `out`
    /// where the failing part starts.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.header_len();
        need(out, len, Layer::Rdmap, "output buffer")?;
        put_be32(out, field::CONTROL, self.control);
        let mut at = field::CONTROL_LEN;
        if let Some((seg_len, d)) = self.ddp {
            put_be16(out, field::DDP_SEG_LEN, seg_len);
            at = field::DDP_HEADER
                + d.emit(&mut out[field::DDP_HEADER..])
                    .map_err(|e| e.offset_by(field::DDP_HEADER))?;
        }
        if let Some(r) = self.rdmap {
            at += r.emit(&mut out[at..]).map_err(|e| e.offset_by(at))?;
        }
        Ok(at)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for TerminateRepr {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let ddp: Option<(u16, DdpRepr)> = u.arbitrary()?;
        let rdmap: Option<ReadRequestRepr> = u.arbitrary()?;
        let mut control: u32 = u.arbitrary()?;
        control &= !(field::D_MASK | field::R_MASK);
        if ddp.is_some() {
            control |= field::D_MASK;
        }
        if rdmap.is_some() {
            control |= field::R_MASK;
        }
        Ok(TerminateRepr {
            control,
            ddp,
            rdmap,
        })
    }
}

impl fmt::Display for TerminateRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layer = TermLayer::from(((self.control & field::LAYER_MASK) >> 28) as u8);
        let etype = ((self.control & field::ETYPE_MASK) >> 24) as u8;
        let code = ((self.control & field::ERRCODE_MASK) >> 16) as u8;
        write!(f, "Terminate layer={layer} etype={etype}")?;
        if let Some(n) = etype_name(layer, etype) {
            write!(f, " ({n})")?;
        }
        write!(f, " code=0x{code:02x}")?;
        if let Some(n) = errcode_name(layer, etype, code) {
            write!(f, " ({n})")?;
        }
        if let Some((len, d)) = self.ddp {
            write!(f, " [len={len} {d}]")?;
        }
        if let Some(r) = self.rdmap {
            write!(f, " [{r}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// A remote protection error (invalid STag) on a Read Request: D and R set, the untagged
    /// Read Request header and its RDMAP header copied back.
    #[rustfmt::skip]
    const TERM: [u8; 52] = [
        0x01, 0x00, 0xE0, 0x00, // Layer 0 (RDMA), EType 1, code 0x00, M=1 D=1 R=1
        0x00, 0x2E,             // DDP Segment Length 46
        0x41, 0x41,             // copied DDP: untagged L DV=1 | RDMAP Read Request
        0x00, 0x00, 0x00, 0x00, //   RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x01, //   QN 1
        0x00, 0x00, 0x00, 0x05, //   MSN 5
        0x00, 0x00, 0x00, 0x00, //   MO 0
        0x00, 0x00, 0x0B, 0x0B, // copied RDMAP: sink STag
        0, 0, 0, 0, 0, 0, 0, 0, //   sink TO
        0x00, 0x00, 0x10, 0x00, //   size 4096
        0xDE, 0xAD, 0xBE, 0xEF, //   source STag
        0, 0, 0, 0, 0, 0, 0, 0, //   source TO
    ];

    fn repr() -> TerminateRepr {
        TerminateRepr::new(
            TermLayer::Rdmap,
            1,
            0,
            Some((46, DdpRepr::untagged(true, 0x41, 1, 5, 0))),
            Some(ReadRequestRepr {
                sink_stag: 0xb0b,
                sink_to: 0,
                rdmardsz: 4096,
                source_stag: 0xdead_beef,
                source_to: 0,
            }),
        )
    }

    #[test]
    fn deconstruct() {
        let t = Terminate::new_checked(&TERM[..]).unwrap();
        assert_eq!(t.term_layer(), TermLayer::Rdmap);
        assert_eq!((t.etype(), t.errcode()), (1, 0));
        assert!(t.m() && t.d() && t.r());
        assert_eq!(t.rsvd(), 0);
        assert_eq!(t.ddp_seg_len(), Some(46));
        assert_eq!(t.ddp_header().unwrap().len(), 18);
        assert_eq!(t.ddp().unwrap().as_untagged().unwrap().msn(), 5);
        assert_eq!(t.rdmap_header().unwrap().source_stag(), 0xdead_beef);
        assert_eq!(t.len(), 52);
        assert_eq!(
            etype_name(TermLayer::Rdmap, 1),
            Some("Remote Protection Error")
        );
        assert_eq!(errcode_name(TermLayer::Rdmap, 1, 0), Some("Invalid STag"));
    }

    #[test]
    fn construct_parse_emit() {
        let r = repr();
        let mut out = [0u8; 52];
        assert_eq!(r.emit(&mut out).unwrap(), 52);
        assert_eq!(out, TERM);
        assert_eq!(TerminateRepr::parse_bytes(&TERM).unwrap(), r);
        assert!(r.to_string().starts_with(
            "Terminate layer=RDMA etype=1 (Remote Protection Error) code=0x00 (Invalid STag) [len=46 DDP untagged L QN=1 MSN=5 MO=0]"
        ));
    }

    #[test]
    fn copied_tagged_header_is_14_octets() {
        let r = TerminateRepr::new(
            TermLayer::Ddp,
            1,
            0,
            Some((100, DdpRepr::tagged(false, 0x40, 0x1234, 0x10))),
            None,
        );
        assert_eq!(r.header_len(), 4 + 2 + 14);
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        assert_eq!(TerminateRepr::parse_bytes(&out).unwrap(), r);
        // The bare control word: a local catastrophic LLP error.
        let bare = TerminateRepr::new(TermLayer::Llp, 0, 2, None, None);
        let mut out = [0u8; 4];
        assert_eq!(bare.emit(&mut out).unwrap(), 4);
        assert_eq!(out, [0x20, 0x02, 0x00, 0x00]);
    }

    #[test]
    fn construct() {
        // The copied headers through their own views, then the Terminate's fields.
        let mut buf = [0u8; 52];
        {
            let mut d = ddp::Untagged::new_checked(&mut buf[6..24]).unwrap();
            d.set_control(ddp::Control(0x41));
            d.set_rsvdulp(0x41);
            d.set_qn(1);
            d.set_msn(5);
            let mut r = ReadRequest::new_checked(&mut buf[24..52]).unwrap();
            r.set_sink_stag(0xb0b);
            r.set_rdmardsz(4096);
            r.set_source_stag(0xdead_beef);
        }
        let mut t = Terminate::new_checked(&mut buf[..]).unwrap();
        assert!(t.set_ddp_seg_len(46).is_err(), "no D bit yet");
        t.set_control(TerminateRepr::control_word(0, 1, 0, true, true, true))
            .unwrap();
        t.set_ddp_seg_len(46).unwrap();
        assert_eq!(t.len(), 52);
        assert_eq!(buf, TERM);

        // A control word announcing more than the buffer holds is refused and not written.
        let mut short = [0u8; 24];
        short.copy_from_slice(&TERM[..24]);
        assert!(Terminate::new_checked(&short[..]).is_err(), "R announced");
        short[2] = 0xC0; // M and D only: 24 octets
        let mut t = Terminate::new_checked(&mut short[..]).unwrap();
        let e = t
            .set_control(TerminateRepr::control_word(0, 1, 0, true, true, true))
            .unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated {
                    needed: 52,
                    got: 24,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(t.control(), 0x0100_C000);
        assert_eq!(t.len(), 24);
    }

    #[test]
    fn r_without_d_puts_the_rdmap_header_at_offset_4() {
        let r = TerminateRepr::new(TermLayer::Rdmap, 2, 0x06, None, Some(repr().rdmap.unwrap()));
        assert_eq!(r.control, 0x0206_2000);
        let mut out = [0u8; 32];
        assert_eq!(r.emit(&mut out).unwrap(), 32);
        assert_eq!(&out[4..32], &TERM[24..52]);
        let t = Terminate::new_checked(&out[..]).unwrap();
        assert!(!t.d() && t.r() && !t.m());
        assert_eq!(t.ddp_seg_len(), None);
        assert_eq!(t.ddp_header_range(), None);
        assert_eq!(t.rdmap_header_range(), Some(4..32));
        assert_eq!(t.rdmap_header().unwrap().source_stag(), 0xdead_beef);
        assert_eq!(t.len(), 32);
        assert_eq!(TerminateRepr::parse(&t), r);
        // One octet short of the R header.
        assert!(Terminate::new_checked(&out[..31]).is_err());
    }

    #[test]
    fn d_without_m_still_carries_the_segment_length_field() {
        // D=1, M=0: DDP Segment Length is present but not meaningful (WIRE.md §7.3); it is kept
        // as found.
        let control = TerminateRepr::control_word(1, 2, 0x01, false, true, false);
        let r = TerminateRepr {
            control,
            ddp: Some((0xBEEF, DdpRepr::untagged(true, 0x43, 7, 1, 0))),
            rdmap: None,
        };
        let mut out = [0u8; 24];
        assert_eq!(r.emit(&mut out).unwrap(), 24);
        assert_eq!(&out[..6], &[0x12, 0x01, 0x40, 0x00, 0xBE, 0xEF]);
        let t = Terminate::new_checked(&out[..]).unwrap();
        assert!(!t.m() && t.d() && !t.r());
        assert_eq!(t.ddp_seg_len(), Some(0xBEEF));
        assert_eq!(t.ddp_header_range(), Some(6..24));
        assert_eq!(t.ddp().unwrap().as_untagged().unwrap().qn(), 7);
        assert_eq!(TerminateRepr::parse(&t), r);
    }

    #[test]
    fn the_t_bit_rule_and_the_wireshark_rule_can_disagree() {
        // The review's case: Layer RDMAP with a tagged copy. The T bit says 14 (6..20);
        // Wireshark reads 18 (6..24), past the header, and would look for R at 24.
        let r = TerminateRepr::new(
            TermLayer::Rdmap,
            1,
            0,
            Some((30, DdpRepr::tagged(true, 0x40, 0x1234, 0x10))),
            None,
        );
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        let t = Terminate::new_checked(&out[..]).unwrap();
        assert_eq!(t.ddp_header_range(), Some(6..20));
        assert_eq!(t.wireshark_ddp_header_len(), 18);
        // The other way round: Layer DDP, EType 1 with an untagged copy.
        let r = TerminateRepr::new(
            TermLayer::Ddp,
            1,
            0,
            Some((30, DdpRepr::untagged(true, 0x43, 0, 1, 0))),
            None,
        );
        let mut out = [0u8; 24];
        r.emit(&mut out).unwrap();
        let t = Terminate::new_checked(&out[..]).unwrap();
        assert_eq!(t.ddp_header_range(), Some(6..24));
        assert_eq!(t.wireshark_ddp_header_len(), 14);
        // Where they agree: the vector above (RDMAP, untagged) and a DDP tagged buffer error
        // with a tagged copy.
        let t = Terminate::new_checked(&TERM[..]).unwrap();
        assert_eq!(t.ddp_header().unwrap().len(), t.wireshark_ddp_header_len());
        let r = TerminateRepr::new(
            TermLayer::Ddp,
            1,
            0,
            Some((30, DdpRepr::tagged(true, 0x40, 0x1234, 0x10))),
            None,
        );
        let mut out = [0u8; 20];
        r.emit(&mut out).unwrap();
        let t = Terminate::new_checked(&out[..]).unwrap();
        assert_eq!(t.ddp_header().unwrap().len(), t.wireshark_ddp_header_len());
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..TERM.len() {
            let e = Terminate::new_checked(&TERM[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Rdmap);
            // The control word, then the copied DDP header's control octet, then the whole.
            let needed = match n {
                0..4 => 4,
                4..7 => 7,
                _ => 52,
            };
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: nd, got, .. } if nd == needed && got == n),
                "{n}: {e}"
            );
        }
    }
}
