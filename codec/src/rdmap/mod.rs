//! RDMAP — the RDMA protocol over DDP (RFC 5040, RFC 7306; WIRE.md §3-4), with the one-shot
//! extension's opcodes and STag field (ONESHOT.md §2).
//!
//! RDMAP's control octet is DDP's `RsvdULP[0:7]` (FPDU offset 3):
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+
//! |RV |Rsv|OpCode |
//! +-+-+-+-+-+-+-+-+
//! ```
//!
//! After the DDP header some opcodes carry a header of their own: Read Request (28 octets),
//! Terminate (4-52), Atomic Request (52), Atomic Response (12), Immediate Data (8); one-shot
//! messages with the `appended` placement carry the 4-octet STag field. [`Message::decode`]
//! decodes a whole ULPDU — DDP header, RDMAP control, that header, the one-shot field — under
//! [`Settings`] (the opcode profile and the one-shot placement); [`SegmentRepr`] is its owned,
//! lossless form.

pub mod atomic;
pub mod read;
pub mod terminate;

use core::fmt;
use core::str::FromStr;

pub use atomic::{
    AtomicOpcode, AtomicRequest, AtomicRequestRepr, AtomicResponse, AtomicResponseRepr,
};
pub use read::{ReadRequest, ReadRequestRepr};
pub use terminate::{TermLayer, Terminate, TerminateRepr};

use crate::bytes::{be32, put_be32};
use crate::ddp::{self, DdpKind, DdpRepr};
use crate::error::{Error, Layer, Result, need};
use crate::oneshot::{self, Encoding, Info, OneShotField, Op, Placement, UnknownName};

/// RDMAP control octet masks.
pub mod field {
    /// RV, the RDMAP version.
    pub const RV_MASK: u8 = 0xC0;
    /// Reserved bits.
    pub const RSV_MASK: u8 = 0x30;
    /// OpCode.
    pub const OPCODE_MASK: u8 = 0x0F;
}

/// The RDMAP version this codec emits by default (RFC 5040: RV = 01b).
pub const VERSION: u8 = 1;

/// How opcodes 0x8 and 0xC are read (ONESHOT.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Profile {
    /// 0x8 = Send with SE + advertise, 0xC = Send with SE + close; 0x9-0xB as RFC 7306.
    #[default]
    OneShot,
    /// 0x8 = Immediate Data (RFC 7306), 0xC unassigned.
    Rfc7306,
}

impl Profile {
    /// `oneshot` or `rfc7306`.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::OneShot => "oneshot",
            Profile::Rfc7306 => "rfc7306",
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = UnknownName;
    fn from_str(s: &str) -> core::result::Result<Self, UnknownName> {
        match s {
            "oneshot" => Ok(Profile::OneShot),
            "rfc7306" => Ok(Profile::Rfc7306),
            _ => Err(UnknownName {
                expected: "oneshot or rfc7306",
            }),
        }
    }
}

/// What a decoder needs to know that the bytes do not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Settings {
    /// How to read opcodes 0x8 and 0xC.
    pub profile: Profile,
    /// Where one-shot STags sit.
    pub placement: Placement,
}

/// The RDMAP control octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Control(pub u8);

impl Control {
    /// A control octet with the given version and opcode, reserved bits zero.
    pub const fn new(version: u8, opcode: u8) -> Self {
        Control(((version << 6) & field::RV_MASK) | (opcode & field::OPCODE_MASK))
    }
    /// RV (0..=3).
    pub const fn version(self) -> u8 {
        (self.0 & field::RV_MASK) >> 6
    }
    /// The two reserved bits (0..=3).
    pub const fn rsv(self) -> u8 {
        (self.0 & field::RSV_MASK) >> 4
    }
    /// OpCode, raw (0..=15).
    pub const fn opcode_raw(self) -> u8 {
        self.0 & field::OPCODE_MASK
    }
    /// OpCode, named under `profile`.
    pub const fn opcode(self, profile: Profile) -> Opcode {
        Opcode::from_raw(self.opcode_raw(), profile)
    }
}

/// RDMAP opcodes of RFC 5040, RFC 7306 and the one-shot extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// 0x0 RDMA Write (tagged).
    RdmaWrite,
    /// 0x1 RDMA Read Request (QN 1).
    RdmaReadRequest,
    /// 0x2 RDMA Read Response (tagged).
    RdmaReadResponse,
    /// 0x3 Send (QN 0).
    Send,
    /// 0x4 Send with Invalidate.
    SendInvalidate,
    /// 0x5 Send with Solicited Event.
    SendSe,
    /// 0x6 Send with SE and Invalidate.
    SendSeInvalidate,
    /// 0x7 Terminate (QN 2).
    Terminate,
    /// 0x8 Immediate Data (RFC 7306; profile `rfc7306`).
    ImmediateData,
    /// 0x9 Immediate Data with SE (RFC 7306).
    ImmediateDataSe,
    /// 0xA Atomic Request (RFC 7306, QN 1).
    AtomicRequest,
    /// 0xB Atomic Response (RFC 7306, QN 3).
    AtomicResponse,
    /// 0x8 Send with SE + advertise STag (one-shot; profile `oneshot`).
    SendSeAdvertise,
    /// 0xC Send with SE + close STag (one-shot; profile `oneshot`).
    SendSeClose,
    /// Unassigned or reserved (0xC under `rfc7306`, 0xD-0xF).
    Unknown(u8),
}

impl Opcode {
    /// Names a raw opcode under `profile` (only the low four bits count).
    pub const fn from_raw(raw: u8, profile: Profile) -> Self {
        match raw & field::OPCODE_MASK {
            0x0 => Opcode::RdmaWrite,
            0x1 => Opcode::RdmaReadRequest,
            0x2 => Opcode::RdmaReadResponse,
            0x3 => Opcode::Send,
            0x4 => Opcode::SendInvalidate,
            0x5 => Opcode::SendSe,
            0x6 => Opcode::SendSeInvalidate,
            0x7 => Opcode::Terminate,
            0x8 => match profile {
                Profile::OneShot => Opcode::SendSeAdvertise,
                Profile::Rfc7306 => Opcode::ImmediateData,
            },
            0x9 => Opcode::ImmediateDataSe,
            0xA => Opcode::AtomicRequest,
            0xB => Opcode::AtomicResponse,
            0xC => match profile {
                Profile::OneShot => Opcode::SendSeClose,
                Profile::Rfc7306 => Opcode::Unknown(0xC),
            },
            v => Opcode::Unknown(v),
        }
    }

    /// The raw 4-bit value.
    pub const fn raw(self) -> u8 {
        match self {
            Opcode::RdmaWrite => 0x0,
            Opcode::RdmaReadRequest => 0x1,
            Opcode::RdmaReadResponse => 0x2,
            Opcode::Send => 0x3,
            Opcode::SendInvalidate => 0x4,
            Opcode::SendSe => 0x5,
            Opcode::SendSeInvalidate => 0x6,
            Opcode::Terminate => 0x7,
            Opcode::ImmediateData | Opcode::SendSeAdvertise => 0x8,
            Opcode::ImmediateDataSe => 0x9,
            Opcode::AtomicRequest => 0xA,
            Opcode::AtomicResponse => 0xB,
            Opcode::SendSeClose => 0xC,
            Opcode::Unknown(v) => v & field::OPCODE_MASK,
        }
    }

    /// Human name, Wireshark's where it has one ("Send with SE", "Read Request", …).
    pub const fn name(self) -> &'static str {
        match self {
            Opcode::RdmaWrite => "Write",
            Opcode::RdmaReadRequest => "Read Request",
            Opcode::RdmaReadResponse => "Read Response",
            Opcode::Send => "Send",
            Opcode::SendInvalidate => "Send with Invalidate",
            Opcode::SendSe => "Send with SE",
            Opcode::SendSeInvalidate => "Send with SE and Invalidate",
            Opcode::Terminate => "Terminate",
            Opcode::ImmediateData => "Immediate Data",
            Opcode::ImmediateDataSe => "Immediate Data with SE",
            Opcode::AtomicRequest => "Atomic Request",
            Opcode::AtomicResponse => "Atomic Response",
            Opcode::SendSeAdvertise => "Send with SE and Advertise",
            Opcode::SendSeClose => "Send with SE and Close",
            Opcode::Unknown(_) => "Unknown",
        }
    }

    /// The display-filter name (`send_se_advertise`, `read_request`, …).
    pub const fn filter_name(self) -> &'static str {
        match self {
            Opcode::RdmaWrite => "write",
            Opcode::RdmaReadRequest => "read_request",
            Opcode::RdmaReadResponse => "read_response",
            Opcode::Send => "send",
            Opcode::SendInvalidate => "send_invalidate",
            Opcode::SendSe => "send_se",
            Opcode::SendSeInvalidate => "send_se_invalidate",
            Opcode::Terminate => "terminate",
            Opcode::ImmediateData => "immediate_data",
            Opcode::ImmediateDataSe => "immediate_data_se",
            Opcode::AtomicRequest => "atomic_request",
            Opcode::AtomicResponse => "atomic_response",
            Opcode::SendSeAdvertise => "send_se_advertise",
            Opcode::SendSeClose => "send_se_close",
            Opcode::Unknown(_) => "unknown",
        }
    }

    /// True for the tagged opcodes (Write, Read Response).
    pub const fn is_tagged(self) -> bool {
        matches!(self, Opcode::RdmaWrite | Opcode::RdmaReadResponse)
    }

    /// The untagged queue the opcode belongs on, if any.
    pub const fn queue(self) -> Option<u32> {
        match self {
            Opcode::Send
            | Opcode::SendInvalidate
            | Opcode::SendSe
            | Opcode::SendSeInvalidate
            | Opcode::ImmediateData
            | Opcode::ImmediateDataSe
            | Opcode::SendSeAdvertise
            | Opcode::SendSeClose => Some(0),
            Opcode::RdmaReadRequest | Opcode::AtomicRequest => Some(1),
            Opcode::Terminate => Some(2),
            Opcode::AtomicResponse => Some(3),
            Opcode::RdmaWrite | Opcode::RdmaReadResponse | Opcode::Unknown(_) => None,
        }
    }

    /// True for the Send variants (the one-shot opcodes included): their payload is ULP data.
    pub const fn is_send(self) -> bool {
        matches!(
            self,
            Opcode::Send
                | Opcode::SendInvalidate
                | Opcode::SendSe
                | Opcode::SendSeInvalidate
                | Opcode::SendSeAdvertise
                | Opcode::SendSeClose
        )
    }

    /// True when the Invalidate STag field (`RsvdULP[8:39]`) is meaningful.
    pub const fn has_invalidate_stag(self) -> bool {
        matches!(self, Opcode::SendInvalidate | Opcode::SendSeInvalidate)
    }
}

impl From<Opcode> for u8 {
    fn from(o: Opcode) -> u8 {
        o.raw()
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opcode::Unknown(v) => write!(f, "Unknown (0x{v:x})"),
            o => f.write_str(o.name()),
        }
    }
}

/// Which header follows the DDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderKind {
    /// Nothing: the payload starts right after the DDP header.
    None,
    /// Read Request, 28 octets.
    ReadRequest,
    /// Terminate, 4-52 octets.
    Terminate,
    /// Atomic Request, 52 octets.
    AtomicRequest,
    /// Atomic Response, 12 octets.
    AtomicResponse,
    /// Immediate Data, 8 octets.
    Immediate,
    /// The appended one-shot STag field, 4 octets.
    OneShotStag,
}

impl HeaderKind {
    /// Decides from the DDP control octet, the RDMAP control octet and the settings. The opcode
    /// decides alone, except for one-shot messages under the `appended` placement.
    pub fn of(ddp_control: ddp::Control, rdmap: Control, settings: Settings) -> Self {
        let opcode = rdmap.opcode(settings.profile);
        let signal = oneshot::signal(ddp_control, opcode, settings.profile);
        Self::for_opcode(opcode, &signal, settings.placement)
    }

    /// The same decision from an opcode already named and its one-shot signal.
    fn for_opcode(opcode: Opcode, signal: &oneshot::Signal, placement: Placement) -> Self {
        match opcode {
            Opcode::RdmaReadRequest => HeaderKind::ReadRequest,
            Opcode::Terminate => HeaderKind::Terminate,
            Opcode::AtomicRequest => HeaderKind::AtomicRequest,
            Opcode::AtomicResponse => HeaderKind::AtomicResponse,
            Opcode::ImmediateData | Opcode::ImmediateDataSe => HeaderKind::Immediate,
            _ if placement == Placement::Appended && signal.carrier.is_some() => {
                HeaderKind::OneShotStag
            }
            _ => HeaderKind::None,
        }
    }
}

/// A view of the header that follows the DDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header<'a> {
    /// No RDMAP header.
    None,
    /// Read Request.
    ReadRequest(ReadRequest<&'a [u8]>),
    /// Terminate.
    Terminate(Terminate<&'a [u8]>),
    /// Atomic Request.
    AtomicRequest(AtomicRequest<&'a [u8]>),
    /// Atomic Response.
    AtomicResponse(AtomicResponse<&'a [u8]>),
    /// Immediate Data.
    Immediate([u8; 8]),
    /// The appended one-shot STag.
    OneShotStag(u32),
}

impl Header<'_> {
    /// Octets the header occupies.
    pub fn len(&self) -> usize {
        match self {
            Header::None => 0,
            Header::ReadRequest(_) => read::field::LEN,
            Header::Terminate(t) => t.len(),
            Header::AtomicRequest(_) => atomic::field::AR_LEN,
            Header::AtomicResponse(_) => atomic::field::ARESP_LEN,
            Header::Immediate(_) => atomic::field::IMMEDIATE_LEN,
            Header::OneShotStag(_) => oneshot::field::APPENDED_LEN,
        }
    }
    /// True for [`Header::None`].
    pub fn is_empty(&self) -> bool {
        matches!(self, Header::None)
    }
}

/// One ULPDU decoded: DDP header, RDMAP control, RDMAP header, one-shot field, payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The DDP segment.
    pub ddp: ddp::Segment<&'a [u8]>,
    /// RDMAP's control octet.
    pub control: Control,
    /// The opcode under the settings' profile.
    pub opcode: Opcode,
    /// The header after the DDP header.
    pub header: Header<'a>,
    /// One-shot field and findings.
    pub oneshot: Info,
    /// The ULP payload (after every header).
    pub payload: &'a [u8],
    /// The settings it was decoded under.
    pub settings: Settings,
}

impl<'a> Message<'a> {
    /// Decodes a ULPDU. Errors carry `at` relative to the ULPDU's first octet.
    pub fn decode(ulpdu: &'a [u8], settings: Settings) -> Result<Self> {
        let ddp = ddp::Segment::new_checked(ulpdu)?;
        let control = Control(ddp.rsvdulp());
        let opcode = control.opcode(settings.profile);
        let hl = ddp.header_len();
        let rest = ddp.payload_ref();
        let signal = oneshot::signal(ddp.control(), opcode, settings.profile);
        let kind = HeaderKind::for_opcode(opcode, &signal, settings.placement);
        let parse_header = || -> Result<Header<'a>> {
            Ok(match kind {
                HeaderKind::None => Header::None,
                HeaderKind::ReadRequest => Header::ReadRequest(ReadRequest::new_checked(rest)?),
                HeaderKind::Terminate => Header::Terminate(Terminate::new_checked(rest)?),
                HeaderKind::AtomicRequest => {
                    Header::AtomicRequest(AtomicRequest::new_checked(rest)?)
                }
                HeaderKind::AtomicResponse => {
                    Header::AtomicResponse(AtomicResponse::new_checked(rest)?)
                }
                HeaderKind::Immediate => Header::Immediate(atomic::immediate(rest)?),
                HeaderKind::OneShotStag => {
                    need(
                        rest,
                        oneshot::field::APPENDED_LEN,
                        Layer::OneShot,
                        "appended STag field",
                    )?;
                    Header::OneShotStag(be32(rest, oneshot::field::APPENDED_STAG))
                }
            })
        };
        let header = parse_header().map_err(|e: Error| e.offset_by(hl))?;
        let payload = &rest[header.len()..];

        let field = signal.carrier.map(|(op, encoding)| {
            let stag = match (header, ddp) {
                (Header::OneShotStag(s), _) => s,
                (_, ddp::Segment::Untagged(u)) => u.rsvdulp_word(),
                // signal() only reports a carrier for untagged segments.
                (_, ddp::Segment::Tagged(_)) => 0,
            };
            OneShotField {
                op,
                stag,
                encoding,
                placement: settings.placement,
            }
        });
        let maybe_immediate = settings.profile == Profile::OneShot
            && opcode == Opcode::SendSeAdvertise
            && ddp.payload().len() == atomic::field::IMMEDIATE_LEN
            && field.is_some_and(|f| f.stag == 0);
        Ok(Message {
            ddp,
            control,
            opcode,
            header,
            oneshot: Info {
                field,
                stray_bits: signal.stray_bits,
                tagged_opcode: signal.tagged_opcode,
                maybe_immediate,
            },
            payload,
            settings,
        })
    }

    /// Offset of the RDMAP header (after the DDP header) in the ULPDU.
    pub fn header_offset(&self) -> usize {
        self.ddp.header_len()
    }

    /// Offset of the payload in the ULPDU.
    pub fn payload_offset(&self) -> usize {
        self.ddp.header_len() + self.header.len()
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.ddp.control();
        match (self.oneshot.field, self.opcode) {
            (Some(OneShotField { op: Some(op), .. }), o)
                if !matches!(o, Opcode::SendSeAdvertise | Opcode::SendSeClose) =>
            {
                let op = match op {
                    Op::Advertise => "Advertise",
                    Op::Close => "Close",
                };
                write!(f, "{}+{op}", self.opcode)?;
            }
            _ => write!(f, "{}", self.opcode)?,
        }
        if let Some(field) = self.oneshot.field {
            write!(f, " S=0x{:08x}", field.stag)?;
        }
        match &self.ddp {
            ddp::Segment::Tagged(t) => write!(f, " STag=0x{:08x} TO=0x{:x}", t.stag(), t.to())?,
            ddp::Segment::Untagged(u) => {
                if self.opcode.has_invalidate_stag() {
                    write!(f, " Inv=0x{:08x}", u.rsvdulp_word())?;
                }
                write!(f, " QN={} MSN={} MO={}", u.qn(), u.msn(), u.mo())?;
            }
        }
        if c.last() {
            f.write_str(" L")?;
        }
        match self.header {
            Header::ReadRequest(r) => write!(f, " [{}]", ReadRequestRepr::parse(&r))?,
            Header::Terminate(t) => write!(f, " [{}]", TerminateRepr::parse(&t))?,
            Header::AtomicRequest(a) => write!(f, " [{}]", AtomicRequestRepr::parse(&a))?,
            Header::AtomicResponse(a) => write!(f, " [{}]", AtomicResponseRepr::parse(&a))?,
            Header::Immediate(d) => write!(f, " [data=0x{:016x}]", u64::from_be_bytes(d))?,
            Header::None | Header::OneShotStag(_) => {}
        }
        if !self.payload.is_empty() {
            write!(f, " len={}", self.payload.len())?;
        }
        if self.oneshot.tagged_opcode {
            f.write_str(" [one-shot opcode on a tagged segment]")?;
        }
        if self.oneshot.stray_bits != 0 || self.oneshot.field.is_some_and(|f| f.op.is_none()) {
            f.write_str(" [malformed one-shot bits]")?;
        }
        Ok(())
    }
}

/// The header after the DDP header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderRepr {
    /// No RDMAP header.
    None,
    /// Read Request.
    ReadRequest(ReadRequestRepr),
    /// Terminate.
    Terminate(TerminateRepr),
    /// Atomic Request.
    AtomicRequest(AtomicRequestRepr),
    /// Atomic Response.
    AtomicResponse(AtomicResponseRepr),
    /// Immediate Data.
    Immediate([u8; 8]),
    /// The appended one-shot STag.
    OneShotStag(u32),
}

impl HeaderRepr {
    /// Reads a header view.
    pub fn parse(h: &Header<'_>) -> Self {
        match h {
            Header::None => HeaderRepr::None,
            Header::ReadRequest(r) => HeaderRepr::ReadRequest(ReadRequestRepr::parse(r)),
            Header::Terminate(t) => HeaderRepr::Terminate(TerminateRepr::parse(t)),
            Header::AtomicRequest(a) => HeaderRepr::AtomicRequest(AtomicRequestRepr::parse(a)),
            Header::AtomicResponse(a) => HeaderRepr::AtomicResponse(AtomicResponseRepr::parse(a)),
            Header::Immediate(d) => HeaderRepr::Immediate(*d),
            Header::OneShotStag(s) => HeaderRepr::OneShotStag(*s),
        }
    }

    /// Octets [`emit`](Self::emit) writes.
    pub fn header_len(&self) -> usize {
        match self {
            HeaderRepr::None => 0,
            HeaderRepr::ReadRequest(r) => r.header_len(),
            HeaderRepr::Terminate(t) => t.header_len(),
            HeaderRepr::AtomicRequest(a) => a.header_len(),
            HeaderRepr::AtomicResponse(a) => a.header_len(),
            HeaderRepr::Immediate(_) => atomic::field::IMMEDIATE_LEN,
            HeaderRepr::OneShotStag(_) => oneshot::field::APPENDED_LEN,
        }
    }

    /// Which kind of header it is.
    pub fn kind(&self) -> HeaderKind {
        match self {
            HeaderRepr::None => HeaderKind::None,
            HeaderRepr::ReadRequest(_) => HeaderKind::ReadRequest,
            HeaderRepr::Terminate(_) => HeaderKind::Terminate,
            HeaderRepr::AtomicRequest(_) => HeaderKind::AtomicRequest,
            HeaderRepr::AtomicResponse(_) => HeaderKind::AtomicResponse,
            HeaderRepr::Immediate(_) => HeaderKind::Immediate,
            HeaderRepr::OneShotStag(_) => HeaderKind::OneShotStag,
        }
    }

    /// Writes exactly [`header_len`](Self::header_len) octets. The header starts at `out[0]`,
    /// so a nested header's error offsets need no shift here.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        match self {
            HeaderRepr::None => Ok(0),
            HeaderRepr::ReadRequest(r) => r.emit(out),
            HeaderRepr::Terminate(t) => t.emit(out),
            HeaderRepr::AtomicRequest(a) => a.emit(out),
            HeaderRepr::AtomicResponse(a) => a.emit(out),
            HeaderRepr::Immediate(d) => {
                need(
                    out,
                    atomic::field::IMMEDIATE_LEN,
                    Layer::Rdmap,
                    "output buffer",
                )?;
                out[atomic::field::IMMEDIATE].copy_from_slice(d);
                Ok(atomic::field::IMMEDIATE_LEN)
            }
            HeaderRepr::OneShotStag(s) => {
                need(
                    out,
                    oneshot::field::APPENDED_LEN,
                    Layer::OneShot,
                    "output buffer",
                )?;
                put_be32(out, oneshot::field::APPENDED_STAG, *s);
                Ok(oneshot::field::APPENDED_LEN)
            }
        }
    }
}

/// One ULPDU (a DDP segment carrying RDMAP), owned and lossless.
///
/// The RDMAP control octet is `ddp.rsvdulp`. Which `header` a parse yields follows from the
/// control octets and the [`Settings`] ([`HeaderKind::of`]); `emit` writes whatever is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentRepr<'a> {
    /// DDP header; its `rsvdulp` is RDMAP's control octet.
    pub ddp: DdpRepr,
    /// The header after the DDP header.
    pub header: HeaderRepr,
    /// ULP payload.
    pub payload: &'a [u8],
}

impl<'a> SegmentRepr<'a> {
    /// Reads a decoded message.
    pub fn parse(m: &Message<'a>) -> Self {
        SegmentRepr {
            ddp: DdpRepr::parse(&m.ddp),
            header: HeaderRepr::parse(&m.header),
            payload: m.payload,
        }
    }

    /// Decodes a ULPDU.
    pub fn parse_bytes(ulpdu: &'a [u8], settings: Settings) -> Result<Self> {
        Message::decode(ulpdu, settings).map(|m| Self::parse(&m))
    }

    /// RDMAP's control octet.
    pub fn control(&self) -> Control {
        Control(self.ddp.rsvdulp)
    }

    /// DDP header + RDMAP header.
    pub fn header_len(&self) -> usize {
        self.ddp.header_len() + self.header.header_len()
    }

    /// The whole ULPDU's length.
    pub fn len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// True when the ULPDU would be empty (never: the DDP header is at least 14 octets).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Writes exactly [`len`](Self::len) octets. Errors name the byte of `out` where the
    /// failing part starts.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.len();
        need(out, len, Layer::Rdmap, "output buffer")?;
        let at = self.emit_headers(out)?;
        out[at..len].copy_from_slice(self.payload);
        Ok(len)
    }

    /// Length of the FPDU that carries this segment (no markers).
    pub fn fpdu_len(&self) -> usize {
        crate::mpa::fpdu_len(self.len())
    }

    /// Writes the whole FPDU around this segment: ULPDU_Length, the segment, zero PAD and, with
    /// `crc`, the CRC (else a zero CRC field, as CRC-less peers send). Returns
    /// [`fpdu_len`](Self::fpdu_len).
    pub fn emit_fpdu(&self, out: &mut [u8], crc: bool) -> Result<usize> {
        let n = u16::try_from(self.len())
            .map_err(|_| Error::bad_length(Layer::Mpa, "ULPDU_Length", self.len() as u64))?;
        let mut f = crate::mpa::Fpdu::new_for_ulpdu(out, n)?;
        self.emit(f.ulpdu_mut())
            .map_err(|e| e.offset_by(crate::mpa::fpdu::field::ULPDU))?;
        if crc {
            f.fill_crc();
        } else {
            f.set_crc(0);
        }
        Ok(f.len())
    }

    /// Writes the headers only (DDP and RDMAP, `header_len()` octets): for callers that place
    /// the payload themselves. An error in the RDMAP header names its byte in `out` (after the
    /// DDP header).
    pub fn emit_headers(&self, out: &mut [u8]) -> Result<usize> {
        let at = self.ddp.emit(out)?;
        let n = self
            .header
            .emit(&mut out[at..])
            .map_err(|e| e.offset_by(at))?;
        Ok(at + n)
    }

    /// A one-shot Send segment (ONESHOT.md §2): the opcode and the DDP bits follow
    /// `field.encoding` (with the `opcode` encoding the message is always a Send with SE; with
    /// `ddp-flags`, `solicited` picks Send with SE or plain Send); the STag goes where
    /// `field.placement` says.
    ///
    /// `field.op == None` ("neither advertise nor close") builds a segment that is malformed on
    /// the wire, on purpose, so that a decoder reports it: with `ddp-flags` both DDP bits are
    /// set; with `opcode` the opcode is 0x8 (advertise) and the DDP close bit 0x20 is set too,
    /// which a decoder reports as a stray bit ([`Info::stray_bits`]).
    pub fn oneshot_send(
        field: OneShotField,
        solicited: bool,
        msn: u32,
        mo: u32,
        last: bool,
        payload: &'a [u8],
    ) -> Self {
        let (opcode, bits) = match field.encoding {
            Encoding::Opcode => match field.op {
                Some(Op::Advertise) => (oneshot::OPCODE_ADVERTISE, 0),
                Some(Op::Close) => (oneshot::OPCODE_CLOSE, 0),
                // No opcode says "neither": advertise plus a stray close bit is malformed.
                None => (oneshot::OPCODE_ADVERTISE, oneshot::field::CLOSE_BIT),
            },
            Encoding::DdpFlags => (
                if solicited { 0x5 } else { 0x3 },
                match field.op {
                    Some(Op::Advertise) => oneshot::field::ADVERTISE_BIT,
                    Some(Op::Close) => oneshot::field::CLOSE_BIT,
                    None => oneshot::field::BITS,
                },
            ),
        };
        let mut ddp = DdpRepr::untagged(last, Control::new(VERSION, opcode).0, 0, msn, mo);
        ddp.control.0 |= bits;
        let header = match field.placement {
            Placement::RsvdUlp => {
                if let DdpKind::Untagged { rsvdulp_word, .. } = &mut ddp.kind {
                    *rsvdulp_word = field.stag;
                }
                HeaderRepr::None
            }
            Placement::Appended => HeaderRepr::OneShotStag(field.stag),
        };
        SegmentRepr {
            ddp,
            header,
            payload,
        }
    }

    /// A random repr that [`SegmentRepr::parse_bytes`] under `settings` reads back unchanged.
    #[cfg(feature = "arbitrary")]
    pub fn arbitrary_for(
        u: &mut arbitrary::Unstructured<'a>,
        settings: Settings,
    ) -> arbitrary::Result<Self> {
        use arbitrary::Arbitrary;
        let ddp = DdpRepr::arbitrary(u)?;
        let header = match HeaderKind::of(ddp.control, Control(ddp.rsvdulp), settings) {
            HeaderKind::None => HeaderRepr::None,
            HeaderKind::ReadRequest => HeaderRepr::ReadRequest(u.arbitrary()?),
            HeaderKind::Terminate => HeaderRepr::Terminate(u.arbitrary()?),
            HeaderKind::AtomicRequest => HeaderRepr::AtomicRequest(u.arbitrary()?),
            HeaderKind::AtomicResponse => HeaderRepr::AtomicResponse(u.arbitrary()?),
            HeaderKind::Immediate => HeaderRepr::Immediate(u.arbitrary()?),
            HeaderKind::OneShotStag => HeaderRepr::OneShotStag(u.arbitrary()?),
        };
        let n = u.arbitrary_len::<u8>()?;
        Ok(SegmentRepr {
            ddp,
            header,
            payload: u.bytes(n)?,
        })
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for SegmentRepr<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Self::arbitrary_for(u, Settings::default())
    }
}

impl fmt::Display for SegmentRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.control();
        write!(
            f,
            "{} | RDMAP RV={} opcode=0x{:x}",
            self.ddp,
            c.version(),
            c.opcode_raw()
        )?;
        if c.rsv() != 0 {
            write!(f, " Rsv={}", c.rsv())?;
        }
        match &self.header {
            HeaderRepr::None => {}
            HeaderRepr::ReadRequest(r) => write!(f, " | {r}")?,
            HeaderRepr::Terminate(t) => write!(f, " | {t}")?,
            HeaderRepr::AtomicRequest(a) => write!(f, " | {a}")?,
            HeaderRepr::AtomicResponse(a) => write!(f, " | {a}")?,
            HeaderRepr::Immediate(d) => {
                write!(f, " | Immediate 0x{:016x}", u64::from_be_bytes(*d))?
            }
            HeaderRepr::OneShotStag(s) => write!(f, " | one-shot STag 0x{s:08x}")?,
        }
        write!(f, " | payload {} octets", self.payload.len())
    }
}

#[cfg(test)]
mod tests;
