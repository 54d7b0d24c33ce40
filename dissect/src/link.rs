//! Link layers: the header a capture puts before the network layer, and the one call that turns a
//! captured packet into a decoded [`Frame`] whatever its link type.
//!
//! | [`LinkType`] | LINKTYPE / DLT | header | what follows |
//! |---|---|---|---|
//! | `Ethernet` | 1 | Ethernet II, 14 octets | VLAN tags, IPv4, IPv6 |
//! | `LinuxSll` | 113 | Linux cooked capture v1, 16 octets | the header's protocol (an EtherType) |
//! | `LinuxSll2` | 276 | Linux cooked capture v2, 20 octets | the header's protocol (an EtherType) |
//! | `Raw` | 101 (legacy DLT 12, 14) | none | IPv4 or IPv6, by the version nibble |
//! | `Ipv4`, `Ipv6` | 228, 229 | none | IPv4, IPv6 |
//! | `Null` | 0 | 4-octet AF family, host byte order | AF_INET 2 → IPv4; AF_INET6 24, 28, 30 → IPv6 |
//! | `Loop` | 108 | 4-octet AF family, network byte order | as `Null` |
//!
//! Linux cooked capture v2 (tcpdump.org `LINKTYPE_LINUX_SLL2`):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Protocol type         |           Reserved (MBZ)      |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Interface index                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          ARPHRD_ type         |  Packet type  | Addr. length  |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Link-layer address (8 octets)                 |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Version 1 (16 octets) is packet type, ARPHRD_ type, address length (16 bits each), the
//! 8-octet address and the protocol type; etherparse decodes it ([`LinuxSllSlice`]).

use core::fmt;

use oneshot_codec::etherparse::{LinuxSllProtocolType, LinuxSllSlice};
use oneshot_codec::{Error, Frame, Layer};

/// The link-layer header type of a capture or of one pcapng interface (tcpdump.org LINKTYPE_
/// values, which pcap and pcapng share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): Ethernet II.
    Ethernet,
    /// `LINKTYPE_LINUX_SLL` (113): Linux cooked capture v1.
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux cooked capture v2.
    LinuxSll2,
    /// `LINKTYPE_RAW` (101, also the legacy DLT_RAW values 12 and 14): raw IPv4 or IPv6.
    Raw,
    /// `LINKTYPE_IPV4` (228): raw IPv4.
    Ipv4,
    /// `LINKTYPE_IPV6` (229): raw IPv6.
    Ipv6,
    /// `LINKTYPE_NULL` (0): BSD loopback, AF family in the capturing host's byte order.
    Null,
    /// `LINKTYPE_LOOP` (108): OpenBSD loopback, AF family in network byte order.
    Loop,
    /// Any other link type, kept by value; its packets are not decoded.
    Other(u32),
}

impl LinkType {
    /// The LINKTYPE_ value (`Raw` gives 101, whichever DLT value it was read from).
    pub const fn value(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Raw => 101,
            LinkType::Ipv4 => 228,
            LinkType::Ipv6 => 229,
            LinkType::Null => 0,
            LinkType::Loop => 108,
            LinkType::Other(v) => v,
        }
    }

    /// A short human-readable name, e.g. `"Ethernet"` or `"Linux cooked v2"`.
    pub const fn name(self) -> &'static str {
        match self {
            LinkType::Ethernet => "Ethernet",
            LinkType::LinuxSll => "Linux cooked v1",
            LinkType::LinuxSll2 => "Linux cooked v2",
            LinkType::Raw => "raw IP",
            LinkType::Ipv4 => "raw IPv4",
            LinkType::Ipv6 => "raw IPv6",
            LinkType::Null => "BSD loopback",
            LinkType::Loop => "OpenBSD loopback",
            LinkType::Other(_) => "unsupported",
        }
    }
}

impl From<u32> for LinkType {
    fn from(v: u32) -> Self {
        match v {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            101 | 12 | 14 => LinkType::Raw,
            228 => LinkType::Ipv4,
            229 => LinkType::Ipv6,
            0 => LinkType::Null,
            108 => LinkType::Loop,
            v => LinkType::Other(v),
        }
    }
}

impl From<LinkType> for u32 {
    fn from(l: LinkType) -> u32 {
        l.value()
    }
}

impl fmt::Display for LinkType {
    /// The name, or `link type N` for [`LinkType::Other`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkType::Other(v) => write!(f, "link type {v}"),
            l => f.write_str(l.name()),
        }
    }
}

/// A decoded link-layer header that is not Ethernet (Ethernet is in [`Frame::ethernet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkHeader {
    /// Linux cooked capture v1, every field as on the wire.
    Sll {
        /// Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us.
        pkttype: u16,
        /// ARPHRD_ type of the interface (1 Ethernet, 772 loopback, ...).
        hatype: u16,
        /// Number of meaningful octets in `addr`.
        halen: u16,
        /// Link-layer source address, zero-padded to 8 octets.
        addr: [u8; 8],
        /// Protocol type: an EtherType for most hardware types.
        protocol: u16,
    },
    /// Linux cooked capture v2, every field but the reserved one.
    Sll2 {
        /// Protocol type: an EtherType for most hardware types.
        protocol: u16,
        /// Interface index on the capturing host.
        ifindex: u32,
        /// ARPHRD_ type of the interface.
        hatype: u16,
        /// Packet type, as in v1.
        pkttype: u8,
        /// Number of meaningful octets in `addr`.
        halen: u8,
        /// Link-layer source address, zero-padded to 8 octets.
        addr: [u8; 8],
    },
    /// BSD (`Null`) or OpenBSD (`Loop`) loopback.
    Null {
        /// The AF_ address family, in host order (byte-swapped already when the capture
        /// wrote it in the other order).
        family: u32,
    },
}

/// One captured packet decoded from its link layer up to TCP.
#[derive(Debug, Clone)]
pub struct LinkFrame<'a> {
    /// Everything after the link header. For Ethernet and raw IP `frame.bytes` is the whole
    /// packet; behind any other link header it is the payload after that header, so offsets in
    /// `frame` (its layers, `stop.at`) count from [`LinkFrame::frame_offset`] in the packet.
    pub frame: Frame<'a>,
    /// The link header when it is not Ethernet and could be decoded.
    pub link_header: Option<LinkHeader>,
    /// Octets of link-layer header before the EtherType payload or the IP header: 14 for
    /// Ethernet (VLAN tags are layers of `frame`), 16 for SLL, 20 for SLL2, 4 for null and
    /// loopback, 0 for raw IP and whenever the link header could not be decoded.
    pub l2_len: usize,
}

impl LinkFrame<'_> {
    /// Where `frame.bytes` starts in the captured packet: `l2_len` behind an SLL, SLL2, null or
    /// loopback header, 0 otherwise.
    pub fn frame_offset(&self) -> usize {
        if self.link_header.is_some() {
            self.l2_len
        } else {
            0
        }
    }
}

/// Length of the Linux cooked capture v1 header.
pub const SLL_LEN: usize = 16;
/// Length of the Linux cooked capture v2 header.
pub const SLL2_LEN: usize = 20;
/// Length of the null / loopback header.
pub const NULL_LEN: usize = 4;

/// AF_INET on every system.
const AF_INET: u32 = 2;
/// AF_INET6 on NetBSD / OpenBSD, FreeBSD, and Darwin.
const AF_INET6: [u32; 3] = [24, 28, 30];

/// Decodes `data`, captured with link type `link`, down to TCP. Never fails: a link header too
/// short to decode, or a link type this crate does not decode, leaves a [`Frame`] whose `stop`
/// says so; a payload that is not IP (an unknown EtherType or AF family) leaves an empty frame
/// without `stop`, as [`Frame`] does for any frame that is not TCP.
pub fn decode(link: LinkType, data: &[u8]) -> LinkFrame<'_> {
    let mut lf = LinkFrame::undecoded(data);
    lf.decode(link);
    lf
}

impl<'a> LinkFrame<'a> {
    /// `data`, not decoded yet: no link header, no layer, no stop.
    #[inline]
    pub fn undecoded(data: &'a [u8]) -> Self {
        LinkFrame {
            frame: Frame::undecoded(data),
            link_header: None,
            l2_len: 0,
        }
    }

    /// [`decode`] in place, on a frame made by [`LinkFrame::undecoded`]: Ethernet, the common
    /// link type, is decoded where the frame lies instead of being built elsewhere and moved.
    #[inline]
    pub fn decode(&mut self, link: LinkType) {
        let data = self.frame.bytes;
        match link {
            LinkType::Ethernet => {
                self.frame.decode_ethernet();
                if self.frame.ethernet.is_some() {
                    self.l2_len = 14;
                }
            }
            LinkType::Raw | LinkType::Ipv4 | LinkType::Ipv6 => *self = raw(data),
            LinkType::LinuxSll => *self = sll(data),
            LinkType::LinuxSll2 => *self = sll2(data),
            LinkType::Null => *self = null(data, false),
            LinkType::Loop => *self = null(data, true),
            LinkType::Other(_) => *self = unsupported(data),
        }
    }
}

/// Raw IPv4 or IPv6.
#[inline(never)]
fn raw(data: &[u8]) -> LinkFrame<'_> {
    bare(Frame::ip(data))
}

/// A link type this crate does not decode.
#[cold]
#[inline(never)]
fn unsupported(data: &[u8]) -> LinkFrame<'_> {
    bare(stopped(
        data,
        Error::unsupported(
            Layer::Ethernet,
            "link type (decoded: Ethernet, Linux SLL, raw IP, null, loopback)",
        ),
    ))
}

/// A frame with no link header.
fn bare(frame: Frame<'_>) -> LinkFrame<'_> {
    LinkFrame {
        frame,
        link_header: None,
        l2_len: 0,
    }
}

/// A frame over `bytes` with no layer, stopped by `e`.
#[cold]
#[inline(never)]
fn stopped(bytes: &[u8], e: Error) -> Frame<'_> {
    // EtherType 0 is no protocol at all: the frame gets no layer and no stop of its own.
    let mut f = Frame::ether_type(0, bytes);
    f.stop = Some(e);
    f
}

/// The link header is shorter than `needed`.
fn truncated(data: &[u8], needed: usize) -> LinkFrame<'_> {
    bare(stopped(
        data,
        Error::truncated(Layer::LinuxSll, "header", needed, data.len()),
    ))
}

/// Decodes `payload` as the EtherType `protocol` names, behind a `len`-octet link header.
fn behind<'a>(header: LinkHeader, len: usize, protocol: u16, payload: &'a [u8]) -> LinkFrame<'a> {
    LinkFrame {
        frame: Frame::ether_type(protocol, payload),
        link_header: Some(header),
        l2_len: len,
    }
}

/// Linux cooked capture v1, through etherparse. etherparse refuses ARPHRD_ types it does not
/// know (loopback 772 among them, which `tcpdump -i any` writes for `lo`) and packet types above
/// 7; the kernel fills the protocol field with the EtherType for those too, so the header is
/// then read field by field.
#[inline(never)]
fn sll(data: &[u8]) -> LinkFrame<'_> {
    let Some(h) = data.get(..SLL_LEN) else {
        return truncated(data, SLL_LEN);
    };
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    let mut addr = [0; 8];
    addr.copy_from_slice(&h[6..14]);
    let header = LinkHeader::Sll {
        pkttype: be16(0),
        hatype: be16(2),
        halen: be16(4),
        addr,
        protocol: be16(14),
    };
    let payload = &data[SLL_LEN..];
    let protocol = match LinuxSllSlice::from_slice(data) {
        Ok(s) => match s.protocol_type() {
            LinuxSllProtocolType::EtherType(t) => t.0,
            LinuxSllProtocolType::GenericRoutingEncapsulationProtocolType(t) => t,
            // Netlink families, 802.2 / Novell / CAN pseudo-types, radiotap, FRAD: not IP.
            LinuxSllProtocolType::NetlinkProtocolType(_)
            | LinuxSllProtocolType::LinuxNonstandardEtherType(_)
            | LinuxSllProtocolType::Ignored(_) => 0,
        },
        Err(_) => be16(14),
    };
    behind(header, SLL_LEN, protocol, payload)
}

/// Linux cooked capture v2, by hand (etherparse 0.21 has no v2).
#[inline(never)]
fn sll2(data: &[u8]) -> LinkFrame<'_> {
    let Some(h) = data.get(..SLL2_LEN) else {
        return truncated(data, SLL2_LEN);
    };
    let mut addr = [0; 8];
    addr.copy_from_slice(&h[12..20]);
    let protocol = u16::from_be_bytes([h[0], h[1]]);
    let header = LinkHeader::Sll2 {
        protocol,
        ifindex: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        hatype: u16::from_be_bytes([h[8], h[9]]),
        pkttype: h[10],
        halen: h[11],
        addr,
    };
    behind(header, SLL2_LEN, protocol, &data[SLL2_LEN..])
}

/// BSD (`network_order` false) or OpenBSD (true) loopback.
#[inline(never)]
fn null(data: &[u8], network_order: bool) -> LinkFrame<'_> {
    let Some(h) = data.get(..NULL_LEN) else {
        return truncated(data, NULL_LEN);
    };
    let h = [h[0], h[1], h[2], h[3]];
    let family = if network_order {
        u32::from_be_bytes(h)
    } else {
        // Host byte order of a host we do not know: families are small, so the order that
        // leaves the upper half zero is the right one (libpcap and Wireshark do the same).
        let le = u32::from_le_bytes(h);
        if le & 0xffff_0000 != 0 {
            le.swap_bytes()
        } else {
            le
        }
    };
    let header = LinkHeader::Null { family };
    let payload = &data[NULL_LEN..];
    let frame = if family == AF_INET || AF_INET6.contains(&family) {
        Frame::ip(payload)
    } else {
        Frame::ether_type(0, payload)
    };
    LinkFrame {
        frame,
        link_header: Some(header),
        l2_len: NULL_LEN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneshot_codec::ErrorKind;
    use oneshot_codec::etherparse::PacketBuilder;

    /// An IPv4/TCP packet (no link header) with a 4-octet payload.
    fn ipv4_tcp() -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(49152, 4420, 1000, 65535)
            .write(&mut v, b"abcd")
            .unwrap();
        v
    }

    /// An IPv6/TCP packet (no link header) with a 4-octet payload.
    fn ipv6_tcp() -> Vec<u8> {
        let mut v = Vec::new();
        PacketBuilder::ipv6([0xfe; 16], [0xfd; 16], 64)
            .tcp(49152, 4420, 1000, 65535)
            .write(&mut v, b"abcd")
            .unwrap();
        v
    }

    fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
        [a, b].concat()
    }

    /// Asserts the frame decoded to TCP with payload "abcd".
    fn assert_tcp(f: &LinkFrame<'_>) {
        assert!(f.frame.stop.is_none(), "{:?}", f.frame.stop);
        assert_eq!(f.frame.tcp_payload(), Some(&b"abcd"[..]));
    }

    fn assert_truncated(f: &LinkFrame<'_>, needed: usize, got: usize) {
        let stop = f.frame.stop.expect("stop");
        assert_eq!(stop.layer, Layer::LinuxSll);
        assert_eq!(
            stop.kind,
            ErrorKind::Truncated {
                what: "header",
                needed,
                got
            }
        );
        assert!(f.link_header.is_none());
        assert_eq!(f.l2_len, 0);
        assert!(f.frame.ip.is_none());
    }

    #[test]
    fn link_type_values_round_trip() {
        for v in [0, 1, 101, 108, 113, 228, 229, 276, 147] {
            assert_eq!(u32::from(LinkType::from(v)), v);
        }
        assert_eq!(LinkType::from(12), LinkType::Raw);
        assert_eq!(LinkType::from(14), LinkType::Raw);
        assert_eq!(LinkType::from(105), LinkType::Other(105));
        assert_eq!(LinkType::Other(105).to_string(), "link type 105");
        assert_eq!(LinkType::LinuxSll2.to_string(), "Linux cooked v2");
    }

    #[test]
    fn ethernet() {
        let mut v = Vec::new();
        PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .tcp(49152, 4420, 1000, 65535)
            .write(&mut v, b"abcd")
            .unwrap();
        let f = decode(LinkType::Ethernet, &v);
        assert_tcp(&f);
        assert_eq!((f.l2_len, f.frame_offset()), (14, 0));
        assert!(f.link_header.is_none());
        assert_eq!(f.frame.bytes.len(), v.len());
    }

    #[test]
    fn sll_v1_ethernet_and_loopback() {
        let ip = ipv4_tcp();
        // pkttype 4 (outgoing), ARPHRD_ETHER 1, halen 6, address, protocol 0x0800.
        let h = [0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00];
        let v = cat(&h, &ip);
        let f = decode(LinkType::LinuxSll, &v);
        assert_tcp(&f);
        assert_eq!((f.l2_len, f.frame_offset()), (16, 16));
        assert_eq!(
            f.link_header,
            Some(LinkHeader::Sll {
                pkttype: 4,
                hatype: 1,
                halen: 6,
                addr: [2, 0, 0, 0, 0, 1, 0, 0],
                protocol: 0x0800
            })
        );
        // ARPHRD_LOOPBACK 772, which etherparse refuses: still IPv6 by the protocol field.
        let ip6 = ipv6_tcp();
        let h = [0, 0, 0x03, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd];
        let v = cat(&h, &ip6);
        let f = decode(LinkType::LinuxSll, &v);
        assert_tcp(&f);
        assert!(matches!(
            f.link_header,
            Some(LinkHeader::Sll {
                hatype: 772,
                protocol: 0x86dd,
                ..
            })
        ));
        // Netlink (824): the protocol is a netlink family, nothing is decoded, nothing stops.
        let h = [0, 4, 0x03, 0x38, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        let v = cat(&h, &ip);
        let f = decode(LinkType::LinuxSll, &v);
        assert!(f.frame.ip.is_none() && f.frame.stop.is_none());
    }

    #[test]
    fn sll_v2() {
        let ip = ipv4_tcp();
        let h = [
            0x08, 0x00, // protocol type IPv4
            0, 0, // reserved
            0, 0, 0, 7, // interface index 7
            0, 1, // ARPHRD_ETHER
            4, // packet type: outgoing
            6, // address length
            2, 0, 0, 0, 0, 9, 0, 0, // address
        ];
        let v = cat(&h, &ip);
        let f = decode(LinkType::LinuxSll2, &v);
        assert_tcp(&f);
        assert_eq!(f.l2_len, 20);
        assert_eq!(
            f.link_header,
            Some(LinkHeader::Sll2 {
                protocol: 0x0800,
                ifindex: 7,
                hatype: 1,
                pkttype: 4,
                halen: 6,
                addr: [2, 0, 0, 0, 0, 9, 0, 0]
            })
        );
    }

    #[test]
    fn raw_ipv4_ipv6() {
        for (link, pkt) in [
            (LinkType::Raw, ipv4_tcp()),
            (LinkType::Raw, ipv6_tcp()),
            (LinkType::Ipv4, ipv4_tcp()),
            (LinkType::Ipv6, ipv6_tcp()),
        ] {
            let f = decode(link, &pkt);
            assert_tcp(&f);
            assert_eq!((f.l2_len, f.frame_offset()), (0, 0));
        }
    }

    #[test]
    fn null_both_byte_orders_and_loop() {
        let ip = ipv4_tcp();
        let ip6 = ipv6_tcp();
        for (link, h, pkt, family) in [
            (LinkType::Null, [2, 0, 0, 0], &ip, 2),
            (LinkType::Null, [0, 0, 0, 2], &ip, 2),
            (LinkType::Null, [30, 0, 0, 0], &ip6, 30),
            (LinkType::Null, [0, 0, 0, 28], &ip6, 28),
            (LinkType::Null, [24, 0, 0, 0], &ip6, 24),
            (LinkType::Loop, [0, 0, 0, 2], &ip, 2),
            (LinkType::Loop, [0, 0, 0, 24], &ip6, 24),
        ] {
            let v = cat(&h, pkt);
            let f = decode(link, &v);
            assert_tcp(&f);
            assert_eq!(f.link_header, Some(LinkHeader::Null { family }));
            assert_eq!((f.l2_len, f.frame_offset()), (4, 4));
        }
        // Loop is network order only: 2 little-endian is family 0x02000000, not IP.
        let v = cat(&[2, 0, 0, 0], &ip);
        let f = decode(LinkType::Loop, &v);
        assert!(f.frame.ip.is_none() && f.frame.stop.is_none());
        assert_eq!(
            f.link_header,
            Some(LinkHeader::Null {
                family: 0x0200_0000
            })
        );
    }

    #[test]
    fn short_link_headers_stop_truncated() {
        let ip = ipv4_tcp();
        for (link, len) in [
            (LinkType::LinuxSll, 16),
            (LinkType::LinuxSll2, 20),
            (LinkType::Null, 4),
            (LinkType::Loop, 4),
        ] {
            for got in 0..len {
                assert_truncated(&decode(link, &ip[..got]), len, got);
            }
        }
    }

    #[test]
    fn other_link_type_stops_unsupported() {
        let ip = ipv4_tcp();
        let f = decode(LinkType::Other(105), &ip);
        let stop = f.frame.stop.expect("stop");
        assert!(matches!(stop.kind, ErrorKind::Unsupported { .. }));
        assert_eq!(stop.at, 0);
        assert!(f.frame.ip.is_none());
        assert_eq!(f.frame.bytes.len(), ip.len());
    }
}
