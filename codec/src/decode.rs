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

use etherparse::{
    EtherType, Ethernet2Slice, IpNumber, LaxIpSlice, LaxIpv4Slice, LaxIpv6Slice, SingleVlanSlice,
    TcpSlice,
};

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

/// Most VLAN tags a frame may carry.
pub const MAX_VLANS: usize = 3;

/// One frame decoded from L2 to TCP, with where decoding stopped.
///
/// Each layer is an etherparse slice over the frame's bytes; a layer that is absent (raw IP has
/// no Ethernet header, UDP has no TCP) or that could not be decoded is `None`, and `stop` then
/// says why decoding ended early. A frame that simply is not TCP has no `stop`.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    /// The frame's bytes as given.
    pub bytes: &'a [u8],
    /// The Ethernet II header.
    pub ethernet: Option<Ethernet2Slice<'a>>,
    /// VLAN tags (802.1Q, 802.1ad, QinQ), outermost first.
    pub vlans: [Option<SingleVlanSlice<'a>>; MAX_VLANS],
    /// The IPv4 header with options, or the IPv6 header with its extension headers.
    pub ip: Option<LaxIpSlice<'a>>,
    /// The TCP header with options, and its payload.
    pub tcp: Option<TcpSlice<'a>>,
    /// Why decoding below TCP stopped early, with `at` counted from the frame's first octet.
    pub stop: Option<Error>,
}

impl<'a> Frame<'a> {
    /// A frame over `bytes` with no layer and no stop, for [`Frame::decode_ethernet`] to fill
    /// in place.
    #[inline]
    pub fn undecoded(bytes: &'a [u8]) -> Self {
        Self::empty(bytes)
    }

    #[inline]
    fn empty(bytes: &'a [u8]) -> Self {
        Frame {
            bytes,
            ethernet: None,
            vlans: [None, None, None],
            ip: None,
            tcp: None,
            stop: None,
        }
    }

    /// Decodes a frame that starts with an Ethernet II header (no FCS).
    #[inline]
    pub fn ethernet(bytes: &'a [u8]) -> Self {
        let mut f = Self::empty(bytes);
        f.decode_ethernet();
        f
    }

    /// [`Frame::ethernet`] in place: decodes `self.bytes` into a frame made by
    /// [`Frame::undecoded`], so that a caller keeping the frame inside a larger value need not
    /// move its ~300 octets there.
    #[inline]
    pub fn decode_ethernet(&mut self) {
        let bytes = self.bytes;
        match Ethernet2Slice::from_slice_without_fcs(bytes) {
            Ok(eth) => {
                let (ether_type, payload) = (eth.ether_type(), eth.payload_slice());
                self.ethernet = Some(eth);
                self.ether_payload(ether_type, payload);
            }
            Err(e) => self.stop = Some(len_error(&e, Layer::Ethernet, 0)),
        }
    }

    /// Decodes a frame that starts with an IPv4 or IPv6 header.
    pub fn ip(bytes: &'a [u8]) -> Self {
        let mut f = Self::empty(bytes);
        match LaxIpSlice::from_slice(bytes) {
            Ok((ip, ext_err)) => {
                // For IPv4 the only extension header etherparse decodes is AH: report it as
                // the Ethernet path does, not as an IPv6 problem.
                let ext_err = ext_err.map(|(e, _)| match ip {
                    LaxIpSlice::Ipv4(_) => ipv4_auth_error(),
                    LaxIpSlice::Ipv6(_) => ipv6_ext_error(&e),
                });
                f.with_ip(ip, ext_err);
            }
            Err(etherparse::err::ip::LaxHeaderSliceError::Len(e)) => {
                f.stop = Some(len_error(&e, ip_layer(bytes), 0));
            }
            Err(etherparse::err::ip::LaxHeaderSliceError::Content(e)) => {
                f.stop = Some(ip_error(&e));
            }
        }
        f
    }

    /// Decodes a payload whose EtherType is known (Linux SLL, for one, gives it in its header).
    pub fn ether_type(ether_type: u16, bytes: &'a [u8]) -> Self {
        let mut f = Self::empty(bytes);
        f.ether_payload(EtherType(ether_type), bytes);
        f
    }

    /// Decodes `bytes` as `start` says.
    pub fn decode(start: Start, bytes: &'a [u8]) -> Self {
        match start {
            Start::Ethernet => Self::ethernet(bytes),
            Start::Ip => Self::ip(bytes),
        }
    }

    /// VLAN tags, then IP, then TCP.
    #[inline]
    fn ether_payload(&mut self, mut ether_type: EtherType, mut payload: &'a [u8]) {
        let mut n = 0;
        while matches!(
            ether_type,
            EtherType::VLAN_TAGGED_FRAME
                | EtherType::PROVIDER_BRIDGING
                | EtherType::VLAN_DOUBLE_TAGGED_FRAME
        ) {
            if n == MAX_VLANS {
                let at = offset_in(self.bytes, payload);
                self.stop = Some(Error::unsupported(Layer::Vlan, "more than 3 VLAN tags").at(at));
                return;
            }
            match SingleVlanSlice::from_slice(payload) {
                Ok(v) => {
                    ether_type = v.ether_type();
                    payload = v.payload_slice();
                    self.vlans[n] = Some(v);
                    n += 1;
                }
                Err(e) => {
                    let at = offset_in(self.bytes, payload);
                    self.stop = Some(len_error(&e, Layer::Vlan, at));
                    return;
                }
            }
        }
        let at = || offset_in(self.bytes, payload);
        match ether_type {
            EtherType::IPV4 => match LaxIpv4Slice::from_slice(payload) {
                Ok((ip, auth_err)) => {
                    self.with_ip(LaxIpSlice::Ipv4(ip), auth_err.map(|_| ipv4_auth_error()));
                }
                Err(etherparse::err::ipv4::HeaderSliceError::Len(e)) => {
                    self.stop = Some(len_error(&e, Layer::Ipv4, at()));
                }
                Err(etherparse::err::ipv4::HeaderSliceError::Content(e)) => {
                    self.stop = Some(ipv4_error(&e).at(at()));
                }
            },
            EtherType::IPV6 => match LaxIpv6Slice::from_slice(payload) {
                Ok((ip, ext_err)) => self.with_ip(
                    LaxIpSlice::Ipv6(ip),
                    ext_err.map(|(e, _)| ipv6_ext_error(&e)),
                ),
                Err(etherparse::err::ipv6::HeaderSliceError::Len(e)) => {
                    self.stop = Some(len_error(&e, Layer::Ipv6, at()));
                }
                Err(etherparse::err::ipv6::HeaderSliceError::Content(_)) => {
                    self.stop = Some(
                        Error::unsupported(Layer::Ipv6, "IPv6 version field is not 6").at(at()),
                    );
                }
            },
            _ => {}
        }
    }

    /// Keeps the IP layer and goes on to TCP, unless an extension header stopped it.
    #[inline]
    fn with_ip(&mut self, ip: LaxIpSlice<'a>, ext_err: Option<Error>) {
        let payload = ip.payload();
        let (data, number, fragmented) = (payload.payload, payload.ip_number, payload.fragmented);
        self.ip = Some(ip);
        let at = || offset_in(self.bytes, data);
        if let Some(e) = ext_err {
            self.stop = Some(e.offset_by(at()));
            return;
        }
        if number != IpNumber::TCP || fragmented {
            return;
        }
        match TcpSlice::from_slice(data) {
            Ok(t) => self.tcp = Some(t),
            Err(etherparse::err::tcp::HeaderSliceError::Len(e)) => {
                self.stop = Some(len_error(&e, Layer::Tcp, at()));
            }
            Err(etherparse::err::tcp::HeaderSliceError::Content(
                etherparse::err::tcp::HeaderError::DataOffsetTooSmall { data_offset },
            )) => {
                self.stop = Some(
                    Error::bad_length(Layer::Tcp, "data offset", u64::from(data_offset)).at(at()),
                );
            }
        }
    }

    /// The VLAN tags present.
    pub fn vlan_tags(&self) -> impl Iterator<Item = &SingleVlanSlice<'a>> {
        self.vlans.iter().map_while(Option::as_ref)
    }

    /// The TCP header and payload, when the frame carries TCP.
    pub fn tcp(&self) -> Option<&TcpSlice<'a>> {
        self.tcp.as_ref()
    }

    /// The TCP payload.
    pub fn tcp_payload(&self) -> Option<&'a [u8]> {
        self.tcp.as_ref().map(|t| t.payload())
    }

    /// Offset of the TCP payload in the frame.
    pub fn tcp_payload_offset(&self) -> Option<usize> {
        self.tcp_payload().map(|p| offset_in(self.bytes, p))
    }

    /// True when the IP header announced more payload than the frame holds (snaplen).
    pub fn incomplete(&self) -> bool {
        self.ip.as_ref().is_some_and(|ip| ip.payload().incomplete)
    }

    /// True when the IP packet is a fragment (its payload is not decoded further).
    pub fn fragmented(&self) -> bool {
        self.ip.as_ref().is_some_and(|ip| ip.payload().fragmented)
    }

    /// An MPA Request or Reply frame at the start of the TCP payload, if the payload begins with
    /// the keys' common prefix "MPA ID Re".
    pub fn mpa_frame(&self) -> Option<Result<MpaFrame<&'a [u8]>, Error>> {
        let payload = self.tcp_payload()?;
        if !payload.starts_with(&mpa::KEY_REQUEST[..mpa::frame::field::KEY_PREFIX_LEN]) {
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

/// One FPDU found in a frame. The layers above MPA are decoded when asked for
/// ([`message`](Self::message), [`ulp`](Self::ulp)), so iterating costs no more than framing.
#[derive(Debug, Clone, Copy)]
pub struct DecodedFpdu<'a> {
    /// Offset of the FPDU in the frame (or in whatever buffer it was found).
    pub offset: usize,
    /// The MPA framing.
    pub fpdu: Fpdu<&'a [u8]>,
    /// The settings the message is decoded under.
    pub settings: Settings,
}

impl<'a> DecodedFpdu<'a> {
    /// An FPDU found at `offset` (by [`mpa::Fpdus`], say), to be decoded under `settings`.
    pub fn new(offset: usize, fpdu: Fpdu<&'a [u8]>, settings: Settings) -> Self {
        DecodedFpdu {
            offset,
            fpdu,
            settings,
        }
    }

    /// DDP, RDMAP and one-shot, or why they failed (with `at` counted from the frame).
    pub fn message(&self) -> Result<Message<'a>, Error> {
        Message::decode(self.fpdu.ulpdu_ref(), self.settings)
            .map_err(|e| e.offset_by(self.offset + mpa::fpdu::field::ULPDU))
    }

    /// iSER and/or iSCSI in the payload of a Send. Decodes the message again: with a
    /// [`Message`] in hand, call [`Ulp::detect`] instead.
    pub fn ulp(&self) -> Option<Ulp<'a>> {
        self.message().ok().as_ref().and_then(Ulp::detect)
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

/// IPv6 when the first nibble says 6, else IPv4 (for errors before the version is known).
fn ip_layer(bytes: &[u8]) -> Layer {
    match bytes.first() {
        Some(b) if b >> 4 == 6 => Layer::Ipv6,
        _ => Layer::Ipv4,
    }
}

/// A length error of an etherparse slice that starts `base` octets into the frame.
fn len_error(e: &etherparse::err::LenError, layer: Layer, base: usize) -> Error {
    use etherparse::err::Layer as L;
    let layer = match e.layer {
        L::Ipv6ExtHeader
        | L::Ipv6HopByHopHeader
        | L::Ipv6DestOptionsHeader
        | L::Ipv6RouteHeader
        | L::Ipv6FragHeader => Layer::Ipv6,
        _ => layer,
    };
    Error::truncated(layer, "header", e.required_len, e.len).at(base + e.layer_start_offset)
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

fn ipv4_error(e: &etherparse::err::ipv4::HeaderError) -> Error {
    use etherparse::err::ipv4::HeaderError as H;
    match e {
        H::UnexpectedVersion { .. } => {
            Error::unsupported(Layer::Ipv4, "IPv4 version field is not 4")
        }
        H::HeaderLengthSmallerThanHeader { ihl } => {
            Error::bad_length(Layer::Ipv4, "IHL", u64::from(*ihl))
        }
    }
}

/// An IPv4 authentication header (AH) problem, `at` relative to the AH's first octet (the IPv4
/// header's end). The same error whichever entry point ([`Frame::ip`], [`Frame::ethernet`])
/// decoded the IPv4 header.
fn ipv4_auth_error() -> Error {
    Error::unsupported(Layer::Ipv4, "IP authentication header")
}

/// An IPv6 extension header problem, `at` relative to the end of the headers decoded so far.
fn ipv6_ext_error(e: &etherparse::err::ipv6_exts::HeaderSliceError) -> Error {
    use etherparse::err::ipv6_exts::HeaderSliceError as S;
    match e {
        S::Len(l) => Error::truncated(Layer::Ipv6, "extension header", l.required_len, l.len),
        S::Content(_) => Error::unsupported(Layer::Ipv6, "IPv6 extension header"),
    }
}

#[cfg(test)]
mod tests;
