//! Frame, link, VLAN, IPv4 and IPv6 fields, as tshark 4.0 names and values them (TCP is in
//! [`super::tcp`]).

use oneshot_codec::etherparse::{Ethernet2Slice, LaxIpv4Slice, LaxIpv6Slice, SingleVlanSlice};

use super::B;
use crate::link::LinkHeader;
use crate::registry::f;
use crate::tree::{FRAME_SOURCE, Tree, Value};

/// What the frame node says besides the octets.
#[derive(Debug, Clone, Copy)]
pub struct FrameInfo<'a> {
    /// Frame number (1-based).
    pub number: u64,
    /// Capture time, ns since the epoch.
    pub ts_ns: i64,
    /// Time since the first frame.
    pub relative_ns: i64,
    /// Time since the previous captured frame.
    pub delta_ns: i64,
    /// Time since the previous displayed frame.
    pub delta_displayed_ns: i64,
    /// Length on the wire.
    pub len: u32,
    /// Captured length.
    pub cap_len: u32,
    /// Interface id (pcapng).
    pub interface: Option<u32>,
    /// Interface name (pcapng if_name).
    pub interface_name: Option<&'a str>,
    /// Wireshark's encapsulation number.
    pub encap: i64,
    /// Packet comment.
    pub comment: Option<&'a str>,
}

/// Adds the `frame` protocol; returns the index of the `frame.protocols` node (filled in at
/// the end of the frame).
pub fn frame(t: &mut Tree, fi: &FrameInfo<'_>) -> u32 {
    let mut b = B::new(t, FRAME_SOURCE, 0);
    let top = b.open(f::FRAME, 0, fi.cap_len as usize);
    let on = OnInterface(fi.interface, fi.interface_name);
    b.t.label(
        top,
        format_args!(
            "Frame {}: {} bytes on wire ({} bits), {} bytes captured ({} bits){on}",
            fi.number,
            fi.len,
            u64::from(fi.len) * 8,
            fi.cap_len,
            u64::from(fi.cap_len) * 8
        ),
    );
    if let Some(id) = fi.interface {
        b.u(f::FRAME_INTERFACE_ID, u64::from(id), 0, 0);
        if let Some(n) = fi.interface_name {
            let v = b.t.text_value(format_args!("{n}"));
            b.v(f::FRAME_INTERFACE_NAME, v, 0, 0);
        }
    }
    b.v(f::FRAME_ENCAP_TYPE, Value::Int(fi.encap), 0, 0);
    b.v(f::FRAME_TIME, Value::AbsTime(fi.ts_ns), 0, 0);
    b.v(f::FRAME_TIME_EPOCH, Value::RelTime(fi.ts_ns), 0, 0);
    b.v(f::FRAME_TIME_DELTA, Value::RelTime(fi.delta_ns), 0, 0);
    b.v(
        f::FRAME_TIME_DELTA_DISPLAYED,
        Value::RelTime(fi.delta_displayed_ns),
        0,
        0,
    );
    b.v(f::FRAME_TIME_RELATIVE, Value::RelTime(fi.relative_ns), 0, 0);
    b.u(f::FRAME_NUMBER, fi.number, 0, 0);
    b.u(f::FRAME_LEN, u64::from(fi.len), 0, 0);
    b.u(f::FRAME_CAP_LEN, u64::from(fi.cap_len), 0, 0);
    b.v(f::FRAME_MARKED, Value::Bool(false), 0, 0);
    b.v(f::FRAME_IGNORED, Value::Bool(false), 0, 0);
    let protocols = b.v(f::FRAME_PROTOCOLS, Value::Str(""), 0, 0);
    if let Some(c) = fi.comment {
        let v = b.t.text_value(format_args!("{c}"));
        b.v(f::FRAME_COMMENT, v, 0, 0);
    }
    b.close();
    protocols
}

/// ` on interface NAME, id N` (pcapng only).
struct OnInterface<'a>(Option<u32>, Option<&'a str>);

impl std::fmt::Display for OnInterface<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnInterface(Some(id), Some(n)) => write!(f, " on interface {n}, id {id}"),
            OnInterface(Some(id), None) => write!(f, " on interface unknown, id {id}"),
            _ => Ok(()),
        }
    }
}

/// A MAC address written as tshark writes it, without allocating.
pub struct Mac<'a>(pub &'a [u8]);

impl std::fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{x:02x}")?;
        }
        Ok(())
    }
}

/// Linux cooked capture or BSD loopback header.
pub fn link_header(t: &mut Tree, h: &LinkHeader, len: usize) {
    let mut b = B::new(t, FRAME_SOURCE, 0);
    match h {
        LinkHeader::Sll {
            pkttype,
            hatype,
            halen,
            addr,
            protocol,
        } => {
            let top = b.open(f::SLL, 0, len);
            b.t.label(top, format_args!("Linux cooked capture v1"));
            b.u(f::SLL_PKTTYPE, u64::from(*pkttype), 0, 2);
            b.u(f::SLL_HATYPE, u64::from(*hatype), 2, 2);
            b.u(f::SLL_HALEN, u64::from(*halen), 4, 2);
            if *halen == 6 {
                b.v(
                    f::SLL_SRC_ETH,
                    Value::Ether(addr[..6].try_into().expect("6")),
                    6,
                    6,
                );
                b.bytes(f::SLL_UNUSED, 12, 2);
            }
            b.u(f::SLL_ETYPE, u64::from(*protocol), 14, 2);
            b.close();
        }
        LinkHeader::Sll2 {
            protocol,
            ifindex,
            hatype,
            pkttype,
            halen,
            addr,
        } => {
            let top = b.open(f::SLL, 0, len);
            b.t.label(top, format_args!("Linux cooked capture v2"));
            b.u(f::SLL_ETYPE, u64::from(*protocol), 0, 2);
            b.u(f::SLL_IFINDEX, u64::from(*ifindex), 4, 4);
            b.u(f::SLL_HATYPE, u64::from(*hatype), 8, 2);
            b.u(f::SLL_PKTTYPE, u64::from(*pkttype), 10, 1);
            b.u(f::SLL_HALEN, u64::from(*halen), 11, 1);
            if *halen == 6 {
                b.v(
                    f::SLL_SRC_ETH,
                    Value::Ether(addr[..6].try_into().expect("6")),
                    12,
                    6,
                );
            }
            b.close();
        }
        LinkHeader::Null { family } => {
            let top = b.open(f::NULL, 0, 4);
            b.t.label(top, format_args!("Null/Loopback"));
            b.u(f::NULL_FAMILY, u64::from(*family), 0, 4);
            b.close();
        }
    }
}

/// Ethernet II.
pub fn ethernet(t: &mut Tree, e: &Ethernet2Slice<'_>, padding: Option<(usize, usize)>) {
    let mut b = B::new(t, FRAME_SOURCE, 0);
    let top = b.open(f::ETH, 0, 14);
    let (dst, src) = (e.destination(), e.source());
    b.t.label(
        top,
        format_args!(
            "Ethernet II, Src: {} ({}), Dst: {} ({})",
            Mac(&src),
            Mac(&src),
            Mac(&dst),
            Mac(&dst)
        ),
    );
    for (addr, off, fa, lg, ig) in [
        (dst, 0, f::ETH_DST, f::ETH_DST_LG, f::ETH_DST_IG),
        (src, 6, f::ETH_SRC, f::ETH_SRC_LG, f::ETH_SRC_IG),
    ] {
        let n = b.v(fa, Value::Ether(addr), off, 6);
        b.t.label(
            n,
            format_args!("{}: {} ({})", fa.def().name, Mac(&addr), Mac(&addr)),
        );
        b.t.push();
        b.hidden(f::ETH_ADDR, Value::Ether(addr), off, 6);
        let first3 = (u64::from(addr[0]) << 16) | (u64::from(addr[1]) << 8) | u64::from(addr[2]);
        b.bits(lg, first3, off, 3);
        let i = b.bits(f::ETH_LG, first3, off, 3);
        b.t.hide(i);
        b.bits(ig, first3, off, 3);
        let i = b.bits(f::ETH_IG, first3, off, 3);
        b.t.hide(i);
        b.t.pop();
    }
    b.u(f::ETH_TYPE, u64::from(e.ether_type().0), 12, 2);
    if let Some((start, len)) = padding {
        b.bytes(f::ETH_PADDING, start, len);
    }
    b.close();
}

/// One 802.1Q tag at `off`.
pub fn vlan(t: &mut Tree, v: &SingleVlanSlice<'_>, off: usize) {
    let mut b = B::new(t, FRAME_SOURCE, off);
    let top = b.open(f::VLAN, 0, 4);
    let tci = u64::from(u16::from_be_bytes([v.slice()[0], v.slice()[1]]));
    b.t.label(
        top,
        format_args!(
            "802.1Q Virtual LAN, PRI: {}, DEI: {}, ID: {}",
            v.priority_code_point().value(),
            u8::from(v.drop_eligible_indicator()),
            v.vlan_identifier().value()
        ),
    );
    b.bits(f::VLAN_PRIORITY, tci, 0, 2);
    b.bits(f::VLAN_DEI, tci, 0, 2);
    b.bits(f::VLAN_ID, tci, 0, 2);
    b.u(f::VLAN_ETYPE, u64::from(v.ether_type().0), 2, 2);
    b.close();
}

/// IPv4 at `off`.
pub fn ipv4(t: &mut Tree, ip: &LaxIpv4Slice<'_>, off: usize) {
    let h = ip.header();
    let raw = h.slice();
    let mut b = B::new(t, FRAME_SOURCE, off);
    let hl = raw.len();
    let top = b.open(f::IP, 0, hl);
    b.t.label(
        top,
        format_args!(
            "Internet Protocol Version 4, Src: {}, Dst: {}",
            h.source_addr(),
            h.destination_addr()
        ),
    );
    b.u(f::IP_VERSION, 4, 0, 1);
    let hdr = b.u(f::IP_HDR_LEN, hl as u64, 0, 1);
    b.t.label(
        hdr,
        format_args!(
            ".... {:04b} = Header Length: {} bytes ({})",
            hl / 4,
            hl,
            hl / 4
        ),
    );
    let ds = u64::from(raw[1]);
    b.u(f::IP_DSFIELD, ds, 1, 1);
    b.t.push();
    b.bits(f::IP_DSFIELD_DSCP, ds, 1, 1);
    b.bits(f::IP_DSFIELD_ECN, ds, 1, 1);
    b.t.pop();
    b.u(f::IP_LEN, u64::from(h.total_len()), 2, 2);
    b.u(f::IP_ID, u64::from(h.identification()), 4, 2);
    let flags = u64::from(raw[6]);
    b.bits(f::IP_FLAGS, flags, 6, 1);
    b.t.push();
    b.bits(f::IP_FLAGS_RB, flags, 6, 1);
    b.bits(f::IP_FLAGS_DF, flags, 6, 1);
    b.bits(f::IP_FLAGS_MF, flags, 6, 1);
    b.t.pop();
    let frag = u64::from(u16::from_be_bytes([raw[6], raw[7]]));
    b.bits(f::IP_FRAG_OFFSET, frag, 6, 2);
    b.u(f::IP_TTL, u64::from(h.ttl()), 8, 1);
    b.u(f::IP_PROTO, u64::from(h.protocol().0), 9, 1);
    b.u(f::IP_CHECKSUM, u64::from(h.header_checksum()), 10, 2);
    b.u(f::IP_CHECKSUM_STATUS, 2, 0, 0);
    b.v(f::IP_SRC, Value::Ipv4(h.source()), 12, 4);
    b.hidden(f::IP_ADDR, Value::Ipv4(h.source()), 12, 4);
    b.v(f::IP_DST, Value::Ipv4(h.destination()), 16, 4);
    b.hidden(f::IP_ADDR, Value::Ipv4(h.destination()), 16, 4);
    b.close();
}

/// IPv6 at `off` (extension headers are counted in the protocol's length, not detailed).
pub fn ipv6(t: &mut Tree, ip: &LaxIpv6Slice<'_>, off: usize) {
    let h = ip.header();
    let raw = h.slice();
    let mut b = B::new(t, FRAME_SOURCE, off);
    let top = b.open(f::IPV6, 0, 40);
    b.t.label(
        top,
        format_args!(
            "Internet Protocol Version 6, Src: {}, Dst: {}",
            h.source_addr(),
            h.destination_addr()
        ),
    );
    let first = u64::from(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]));
    b.u(f::IPV6_VERSION, 6, 0, 1);
    b.bits(f::IPV6_TCLASS, first, 0, 4);
    b.t.push();
    b.bits(f::IPV6_TCLASS_DSCP, first, 0, 4);
    b.bits(f::IPV6_TCLASS_ECN, first, 0, 4);
    b.t.pop();
    b.bits(f::IPV6_FLOW, first & 0x000F_FFFF, 1, 3);
    b.u(f::IPV6_PLEN, u64::from(h.payload_length()), 4, 2);
    b.u(f::IPV6_NXT, u64::from(h.next_header().0), 6, 1);
    b.u(f::IPV6_HLIM, u64::from(h.hop_limit()), 7, 1);
    b.v(f::IPV6_SRC, Value::Ipv6(h.source()), 8, 16);
    b.hidden(f::IPV6_ADDR, Value::Ipv6(h.source()), 8, 16);
    b.v(f::IPV6_DST, Value::Ipv6(h.destination()), 24, 16);
    b.hidden(f::IPV6_ADDR, Value::Ipv6(h.destination()), 24, 16);
    b.close();
}
