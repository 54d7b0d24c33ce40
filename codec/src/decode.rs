//! The one-call lax frame decoder: bytes of one captured frame in, every layer that could be
//! decoded out, and where and why decoding stopped.
//!
//! L2-L4 come from etherparse ([`etherparse::LaxSlicedPacket`]): Ethernet II, up to three VLAN
//! tags, IPv4 with options, IPv6 with extension headers, TCP with options. Above TCP,
//! [`Frame::mpa_frame`] finds an MPA Request/Reply and [`Frame::fpdus`] iterates the FPDUs of a
//! payload that starts on an FPDU boundary, each decoded through DDP, RDMAP, the one-shot field
//! and the ULP ([`Ulp`]: iSER and/or iSCSI). Nothing is copied or allocated; CRCs are checked
//! only when asked ([`DecodedFpdu::crc_ok`]).
//!
//! Work that needs more than one frame (TCP reassembly, markers whose origin is set by the
//! handshake, FPDUs split across segments) belongs to the dissector; the pieces it needs are
//! here ([`crate::mpa::MarkedFpdus`], [`decode_ulpdu`]).

use etherparse::{LaxNetSlice, LaxSlicedPacket, TransportSlice};

use crate::error::{Error, Layer};
use crate::iscsi::{self, Bhs};
use crate::iser::{self, IserHeader};
use crate::mpa::{self, Fpdu, MpaFrame};
use crate::rdmap::{Message, Settings};

/// Where a captured frame's bytes begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Start {
    /// An Ethernet II header.
    Ethernet,
    /// An IPv4 or IPv6 header (raw IP link types).
    Ip,
}

/// One frame decoded from L2 to TCP, with where decoding stopped.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// The frame's bytes as given.
    pub bytes: &'a [u8],
    /// Everything etherparse decoded (link, VLAN tags, IP, transport).
    pub l2l4: Option<LaxSlicedPacket<'a>>,
    /// Why decoding below TCP stopped early, with `at` counted from the frame's first octet.
    pub stop: Option<Error>,
}

impl<'a> Frame<'a> {
    /// Decodes a frame that starts with an Ethernet II header.
    pub fn ethernet(bytes: &'a [u8]) -> Self {
        match LaxSlicedPacket::from_ethernet(bytes) {
            Ok(p) => Self::from_lax(bytes, p),
            Err(e) => Frame {
                bytes,
                l2l4: None,
                stop: Some(len_error(&e)),
            },
        }
    }

    /// Decodes a frame that starts with an IPv4 or IPv6 header.
    pub fn ip(bytes: &'a [u8]) -> Self {
        match LaxSlicedPacket::from_ip(bytes) {
            Ok(p) => Self::from_lax(bytes, p),
            Err(etherparse::err::ip::LaxHeaderSliceError::Len(e)) => Frame {
                bytes,
                l2l4: None,
                stop: Some(len_error(&e)),
            },
            Err(etherparse::err::ip::LaxHeaderSliceError::Content(e)) => Frame {
                bytes,
                l2l4: None,
                stop: Some(ip_error(&e)),
            },
        }
    }

    /// Decodes a payload whose EtherType is known (Linux SLL, for one, gives it in its header).
    pub fn ether_type(ether_type: u16, bytes: &'a [u8]) -> Self {
        let p = LaxSlicedPacket::from_ether_type(etherparse::EtherType(ether_type), bytes);
        Self::from_lax(bytes, p)
    }

    /// Decodes `bytes` as `start` says.
    pub fn decode(start: Start, bytes: &'a [u8]) -> Self {
        match start {
            Start::Ethernet => Self::ethernet(bytes),
            Start::Ip => Self::ip(bytes),
        }
    }

    fn from_lax(bytes: &'a [u8], p: LaxSlicedPacket<'a>) -> Self {
        let stop = p
            .stop_err
            .as_ref()
            .map(|(e, layer)| slice_error(bytes, &p, e, *layer));
        Frame {
            bytes,
            l2l4: Some(p),
            stop,
        }
    }

    /// The TCP header and payload, when the frame carries TCP.
    pub fn tcp(&self) -> Option<&etherparse::TcpSlice<'a>> {
        match self.l2l4.as_ref()?.transport.as_ref()? {
            TransportSlice::Tcp(t) => Some(t),
            _ => None,
        }
    }

    /// The TCP payload.
    pub fn tcp_payload(&self) -> Option<&'a [u8]> {
        self.tcp().map(|t| t.payload())
    }

    /// Offset of the TCP payload in the frame.
    pub fn tcp_payload_offset(&self) -> Option<usize> {
        self.tcp_payload().map(|p| offset_in(self.bytes, p))
    }

    /// True when the IP header announced more payload than the frame holds (snaplen).
    pub fn incomplete(&self) -> bool {
        self.l2l4
            .as_ref()
            .and_then(|p| p.net.as_ref())
            .and_then(|n| n.ip_payload_ref())
            .is_some_and(|ip| ip.incomplete)
    }

    /// An MPA Request or Reply frame at the start of the TCP payload, if the payload begins with
    /// one of the two keys (or at least their common prefix "MPA ID Re").
    pub fn mpa_frame(&self) -> Option<Result<MpaFrame<&'a [u8]>, Error>> {
        let payload = self.tcp_payload()?;
        if !payload.starts_with(&mpa::KEY_REQUEST[..9]) {
            return None;
        }
        let at = offset_in(self.bytes, payload);
        Some(MpaFrame::new_checked(payload).map_err(|e| e.offset_by(at)))
    }

    /// The marker-free FPDUs of the TCP payload, assuming it starts on an FPDU boundary.
    /// Empty when there is no TCP payload.
    pub fn fpdus(&self, settings: Settings) -> FrameFpdus<'a> {
        let payload = self.tcp_payload().unwrap_or(&[]);
        FrameFpdus {
            inner: mpa::Fpdus::new(payload),
            base: offset_in(self.bytes, payload),
            settings,
        }
    }
}

/// Iterator returned by [`Frame::fpdus`].
#[derive(Debug, Clone)]
pub struct FrameFpdus<'a> {
    inner: mpa::Fpdus<'a>,
    base: usize,
    settings: Settings,
}

impl<'a> Iterator for FrameFpdus<'a> {
    type Item = Result<DecodedFpdu<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.inner.next()?;
        Some(match item {
            Ok((at, fpdu)) => Ok(DecodedFpdu::new(self.base + at, fpdu, self.settings)),
            Err(e) => Err(e.offset_by(self.base)),
        })
    }
}

impl core::iter::FusedIterator for FrameFpdus<'_> {}

/// One FPDU and everything above it.
#[derive(Debug, Clone, Copy)]
pub struct DecodedFpdu<'a> {
    /// Offset of the FPDU in the frame (or in whatever buffer it was found).
    pub offset: usize,
    /// The MPA framing.
    pub fpdu: Fpdu<&'a [u8]>,
    /// DDP, RDMAP and one-shot, or why they failed (with `at` counted from the frame).
    pub message: Result<Message<'a>, Error>,
    /// iSER and/or iSCSI in the payload of a Send.
    pub ulp: Option<Ulp<'a>>,
}

impl<'a> DecodedFpdu<'a> {
    /// Decodes the layers above MPA of an FPDU found at `offset`.
    pub fn new(offset: usize, fpdu: Fpdu<&'a [u8]>, settings: Settings) -> Self {
        let ulpdu_at = offset + mpa::fpdu::field::ULPDU;
        let (message, ulp) = decode_ulpdu(fpdu.ulpdu_ref(), settings);
        DecodedFpdu {
            offset,
            fpdu,
            message: message.map_err(|e| e.offset_by(ulpdu_at)),
            ulp,
        }
    }

    /// True when the CRC field holds the CRC-32C of the FPDU (meaningful only when CRCs were
    /// negotiated and the direction has no markers).
    pub fn crc_ok(&self) -> bool {
        self.fpdu.verify_crc()
    }
}

/// Decodes one ULPDU (a DDP segment) through RDMAP, the one-shot field and the ULP. Errors carry
/// `at` relative to the ULPDU's first octet.
pub fn decode_ulpdu(
    ulpdu: &[u8],
    settings: Settings,
) -> (Result<Message<'_>, Error>, Option<Ulp<'_>>) {
    let message = Message::decode(ulpdu, settings);
    let ulp = message.as_ref().ok().and_then(Ulp::detect);
    (message, ulp)
}

/// The upper-layer protocol found in the payload of a Send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ulp<'a> {
    /// An iSER header (conventional flow), with the iSCSI PDU after it when there is one.
    Iser {
        /// The 28-octet iSER header.
        iser: IserHeader<&'a [u8]>,
        /// The iSCSI Basic Header Segment after it.
        bhs: Option<Bhs<&'a [u8]>>,
    },
    /// A bare iSCSI PDU (one-shot messages carry the PDU unmodified, ONESHOT.md §3).
    Iscsi(Bhs<&'a [u8]>),
}

impl<'a> Ulp<'a> {
    /// Looks at the payload of the first segment of a Send: one-shot messages carry an iSCSI PDU;
    /// other Sends carry iSER + iSCSI, or a bare iSCSI PDU, when the octets look like one.
    pub fn detect(m: &Message<'a>) -> Option<Self> {
        if !m.opcode.is_send() {
            return None;
        }
        let first = m.ddp.as_untagged().is_some_and(|u| u.mo() == 0);
        if !first {
            return None;
        }
        let p = m.payload;
        if m.oneshot.field.is_some() {
            return Bhs::new_checked(p).ok().map(Ulp::Iscsi);
        }
        if iser::looks_like_iser(p) {
            let iser = IserHeader::new_checked(p).ok()?;
            let bhs = Bhs::new_checked(iser.payload_ref())
                .ok()
                .filter(|b| iscsi::looks_like_bhs(b.header()));
            return Some(Ulp::Iser { iser, bhs });
        }
        iscsi::looks_like_bhs(p)
            .then(|| Bhs::new_checked(p).ok().map(Ulp::Iscsi))
            .flatten()
    }

    /// The iSCSI header, wherever it is.
    pub fn bhs(&self) -> Option<&Bhs<&'a [u8]>> {
        match self {
            Ulp::Iser { bhs, .. } => bhs.as_ref(),
            Ulp::Iscsi(b) => Some(b),
        }
    }
}

/// Offset of `inner` within `outer` (0 if `inner` is not inside it).
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    if i >= o && i <= o + outer.len() {
        i - o
    } else {
        0
    }
}

fn map_layer(l: etherparse::err::Layer) -> Layer {
    use etherparse::err::Layer as L;
    match l {
        L::LinuxSllHeader => Layer::LinuxSll,
        L::Ethernet2Header | L::EtherPayload | L::MacsecHeader | L::MacsecPacket => Layer::Ethernet,
        L::VlanHeader => Layer::Vlan,
        L::IpHeader | L::Ipv4Header | L::Ipv4Packet | L::IpAuthHeader => Layer::Ipv4,
        L::Ipv6Header
        | L::Ipv6Packet
        | L::Ipv6ExtHeader
        | L::Ipv6HopByHopHeader
        | L::Ipv6DestOptionsHeader
        | L::Ipv6RouteHeader
        | L::Ipv6FragHeader => Layer::Ipv6,
        L::TcpHeader => Layer::Tcp,
        _ => Layer::Transport,
    }
}

fn len_error(e: &etherparse::err::LenError) -> Error {
    Error::truncated(map_layer(e.layer), "header", e.required_len, e.len).at(e.layer_start_offset)
}

fn ip_error(e: &etherparse::err::ip::HeaderError) -> Error {
    use etherparse::err::ip::HeaderError as H;
    match e {
        H::UnsupportedIpVersion { .. } => {
            Error::unsupported(Layer::Ipv4, "IP version field is neither 4 nor 6")
        }
        H::Ipv4HeaderLengthSmallerThanHeader { ihl } => {
            Error::bad_length(Layer::Ipv4, "IHL", u64::from(*ihl))
        }
    }
}

/// Where the network layer starts: after the link header and every VLAN tag.
fn net_start<'a>(p: &LaxSlicedPacket<'a>) -> Option<&'a [u8]> {
    for ext in p.link_exts.iter().rev() {
        if let Some(pl) = ext.payload() {
            return Some(pl.payload);
        }
    }
    p.link
        .as_ref()
        .and_then(|l| l.ether_payload())
        .map(|e| e.payload)
}

fn slice_error(
    bytes: &[u8],
    p: &LaxSlicedPacket<'_>,
    e: &etherparse::err::packet::SliceError,
    layer: etherparse::err::Layer,
) -> Error {
    use etherparse::err::packet::SliceError as S;
    let net_at = net_start(p).map_or(0, |s| offset_in(bytes, s));
    let transport_at = p
        .net
        .as_ref()
        .and_then(|n| match n {
            LaxNetSlice::Ipv4(v4) => Some(v4.payload().payload),
            LaxNetSlice::Ipv6(v6) => Some(v6.payload().payload),
            LaxNetSlice::Arp(_) => None,
        })
        .map_or(net_at, |s| offset_in(bytes, s));
    let mut err = match e {
        S::Len(l) => len_error(l),
        S::LinuxSll(_) => Error::unsupported(Layer::LinuxSll, "Linux SLL header field"),
        S::Macsec(_) => Error::unsupported(Layer::Ethernet, "MACsec header").at(net_at),
        S::Ip(h) => ip_error(h).at(net_at),
        S::Ipv4(etherparse::err::ipv4::HeaderError::UnexpectedVersion { .. }) => {
            Error::unsupported(Layer::Ipv4, "IPv4 version field is not 4").at(net_at)
        }
        S::Ipv4(etherparse::err::ipv4::HeaderError::HeaderLengthSmallerThanHeader { ihl }) => {
            Error::bad_length(Layer::Ipv4, "IHL", u64::from(*ihl)).at(net_at)
        }
        S::Ipv6(_) => Error::unsupported(Layer::Ipv6, "IPv6 version field is not 6").at(net_at),
        S::Ipv4Exts(_) => {
            Error::unsupported(Layer::Ipv4, "IP authentication header").at(transport_at)
        }
        S::Ipv6Exts(_) => Error::unsupported(Layer::Ipv6, "IPv6 extension header").at(net_at),
        S::Tcp(etherparse::err::tcp::HeaderError::DataOffsetTooSmall { data_offset }) => {
            Error::bad_length(Layer::Tcp, "data offset", u64::from(*data_offset)).at(transport_at)
        }
    };
    // An authentication header or IP-level error inside IPv6: etherparse's layer says which.
    if map_layer(layer) == Layer::Ipv6 && err.layer == Layer::Ipv4 {
        err.layer = Layer::Ipv6;
    }
    err
}

#[cfg(test)]
mod tests;
