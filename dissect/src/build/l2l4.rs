//! Frame, link, VLAN, IPv4 and IPv6 fields, as tshark 4.0 names and values them (TCP is in
//! [`super::tcp`]).

use oneshot_codec::etherparse::{Ethernet2Slice, LaxIpv4Slice, LaxIpv6Slice, SingleVlanSlice};

use super::B;
use crate::link::LinkHeader;
use crate::registry::f;
use crate::text::{push_bin, push_dec, push_hex, push_ipv4, push_mac};
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
    /// The pcapng section, from 1 (pcapng only).
    pub section: Option<u32>,
    /// Interface id (pcapng).
    pub interface: Option<u32>,
    /// Interface name (pcapng if_name).
    pub interface_name: Option<&'a str>,
    /// Interface description (pcapng if_description).
    pub interface_description: Option<&'a str>,
    /// Wireshark's encapsulation number.
    pub encap: i64,
    /// Packet comment.
    pub comment: Option<&'a str>,
}

/// Adds the packet comment (tshark's `pkt_comment` protocol, with the comment's expert item)
/// and the `frame` protocol; returns the index of the `frame.protocols` node (filled in at the
/// end of the frame).
pub fn frame(t: &mut Tree, fi: &FrameInfo<'_>) -> u32 {
    let mut b = B::new(t, FRAME_SOURCE, 0);
    if let Some(c) = fi.comment {
        comment(&mut b, c);
    }
    let top = b.open(f::FRAME, 0, fi.cap_len as usize);
    let bits = |n: u32| u64::from(n) * 8;
    // "Frame {number}: {len} bytes on wire ({bits} bits), {cap_len} bytes captured ({bits}
    // bits)[ on interface {name}, id {id}]"
    b.t.label_with(top, |s| {
        s.push_str("Frame ");
        push_dec(s, fi.number);
        s.push_str(": ");
        push_dec(s, fi.len);
        s.push_str(" bytes on wire (");
        push_dec(s, bits(fi.len));
        s.push_str(" bits), ");
        push_dec(s, fi.cap_len);
        s.push_str(" bytes captured (");
        push_dec(s, bits(fi.cap_len));
        s.push_str(" bits)");
        if let Some(id) = fi.interface {
            s.push_str(" on interface ");
            s.push_str(fi.interface_name.unwrap_or("unknown"));
            s.push_str(", id ");
            push_dec(s, id);
        }
    });
    if let Some(s) = fi.section {
        b.u(f::FRAME_SECTION_NUMBER, u64::from(s), 0, 0);
    }
    if let Some(id) = fi.interface {
        let i = b.u(f::FRAME_INTERFACE_ID, u64::from(id), 0, 0);
        b.t.label(
            i,
            format_args!(
                "Interface id: {id} ({})",
                fi.interface_name.unwrap_or("unknown")
            ),
        );
        b.t.push();
        if let Some(n) = fi.interface_name {
            let v = b.t.text_value(f::FRAME_INTERFACE_NAME, format_args!("{n}"));
            b.v(f::FRAME_INTERFACE_NAME, v, 0, 0);
        }
        if let Some(d) = fi.interface_description {
            let v =
                b.t.text_value(f::FRAME_INTERFACE_DESCRIPTION, format_args!("{d}"));
            b.v(f::FRAME_INTERFACE_DESCRIPTION, v, 0, 0);
        }
        b.t.pop();
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
    for (field, name, n) in [
        (f::FRAME_LEN, "Frame Length", fi.len),
        (f::FRAME_CAP_LEN, "Capture Length", fi.cap_len),
    ] {
        let i = b.u(field, u64::from(n), 0, 0);
        // "{name}: {n} bytes ({bits} bits)"
        b.t.label_with(i, |s| {
            s.push_str(name);
            s.push_str(": ");
            push_dec(s, n);
            s.push_str(" bytes (");
            push_dec(s, bits(n));
            s.push_str(" bits)");
        });
    }
    b.v(f::FRAME_MARKED, Value::Bool(false), 0, 0);
    b.v(f::FRAME_IGNORED, Value::Bool(false), 0, 0);
    let protocols = b.v(f::FRAME_PROTOCOLS, Value::Str(""), 0, 0);
    b.close();
    protocols
}

/// Wireshark's `PI_COMMENT` severity and `PI_COMMENTS_GROUP` group.
const COMMENT_SEVERITY: u64 = 0x0010_0000;
const COMMENT_GROUP: u64 = 0x0B00_0000;

/// `Packet comments`: the comment, and under it the expert item tshark adds for it.
fn comment(b: &mut B<'_>, c: &str) {
    b.open(f::PKT_COMMENT, 0, 0);
    let v = b.t.text_value(f::FRAME_COMMENT, format_args!("{c}"));
    let i = b.v(f::FRAME_COMMENT, v, 0, 0);
    b.t.label(i, format_args!("{c}"));
    b.t.push();
    let e = b.v(f::_WS_EXPERT, Value::None, 0, 0);
    b.t.label(e, format_args!("Expert Info (Comment/Comment): {c}"));
    b.t.push();
    // tshark's expert message is the comment cut to its label buffer (239 octets), with no
    // "[truncated]" mark.
    let mut cut = c.len().min(239);
    while !c.is_char_boundary(cut) {
        cut -= 1;
    }
    let msg = b.t.text(format_args!("{}", &c[..cut]));
    let i = b.v(f::FRAME_COMMENT_EXPERT, Value::None, 0, 0);
    b.t.set_label(i, msg);
    b.hidden(f::_WS_EXPERT_MESSAGE, Value::Text(msg.0, msg.1), 0, 0);
    b.u(f::_WS_EXPERT_SEVERITY, COMMENT_SEVERITY, 0, 0);
    b.u(f::_WS_EXPERT_GROUP, COMMENT_GROUP, 0, 0);
    b.t.pop();
    b.t.pop();
    b.close();
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
    // "Ethernet II, Src: {src} ({src}), Dst: {dst} ({dst})": each address then its resolved
    // form, which without name resolution is the address again.
    b.t.label_with(top, |s| {
        s.push_str("Ethernet II, Src: ");
        push_mac(s, &src);
        s.push_str(" (");
        push_mac(s, &src);
        s.push_str("), Dst: ");
        push_mac(s, &dst);
        s.push_str(" (");
        push_mac(s, &dst);
        s.push(')');
    });
    if !b.t.builds_within(f::ETH) {
        // No field of it is wanted (`-T fields`): the protocol node alone.
        b.close();
        return;
    }
    for (addr, off, fa, lg, ig) in [
        (dst, 0, f::ETH_DST, f::ETH_DST_LG, f::ETH_DST_IG),
        (src, 6, f::ETH_SRC, f::ETH_SRC_LG, f::ETH_SRC_IG),
    ] {
        // tshark's order; its `*_resolved` and `*.oui` items (name resolution) are left out.
        b.v(fa, Value::Ether(addr), off, 6);
        b.t.push();
        b.v(f::ETH_ADDR, Value::Ether(addr), off, 6);
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
    b.t.label_with(top, |s| {
        s.push_str("Internet Protocol Version 4, Src: ");
        push_ipv4(s, h.source());
        s.push_str(", Dst: ");
        push_ipv4(s, h.destination());
    });
    let v = b.u(f::IP_VERSION, 4, 0, 1);
    b.t.label_with(v, |s| {
        push_bin(s, u64::from(raw[0] >> 4), 4);
        s.push_str(" .... = Version: 4");
    });
    let hdr = b.u(f::IP_HDR_LEN, hl as u64, 0, 1);
    // ".... {hl / 4:04b} = Header Length: {hl} bytes ({hl / 4})"
    b.t.label_with(hdr, |s| {
        s.push_str(".... ");
        push_bin(s, (hl / 4) as u64, 4);
        s.push_str(" = Header Length: ");
        push_dec(s, hl);
        s.push_str(" bytes (");
        push_dec(s, hl / 4);
        s.push(')');
    });
    let ds = u64::from(raw[1]);
    let i = b.u(f::IP_DSFIELD, ds, 1, 1);
    // "Differentiated Services Field: 0x{ds:02x} (DSCP: {name}, ECN: {name})"
    b.t.label_with(i, |s| {
        s.push_str("Differentiated Services Field: 0x");
        push_hex(s, ds, 2);
        s.push_str(" (DSCP: ");
        s.push_str(dscp_short(raw[1] >> 2));
        s.push_str(", ECN: ");
        s.push_str(["Not-ECT", "ECT(1)", "ECT(0)", "CE"][usize::from(raw[1] & 3)]);
        s.push(')');
    });
    b.t.push();
    b.bits(f::IP_DSFIELD_DSCP, ds, 1, 1);
    b.bits(f::IP_DSFIELD_ECN, ds, 1, 1);
    b.t.pop();
    b.u(f::IP_LEN, u64::from(h.total_len()), 2, 2);
    b.u(f::IP_ID, u64::from(h.identification()), 4, 2);
    let flags = u64::from(raw[6]);
    let i = b.bits(f::IP_FLAGS, flags, 6, 1);
    let set = raw[6] >> 5;
    // "{set:03b}. .... = Flags: 0x{set:x}", then ", {name}" for each flag set.
    b.t.label_with(i, |s| {
        push_bin(s, u64::from(set), 3);
        s.push_str(". .... = Flags: 0x");
        push_hex(s, u64::from(set), 0);
        for (bit, name) in [
            (0b100, "Reserved bit"),
            (0b010, "Don't fragment"),
            (0b001, "More fragments"),
        ] {
            if set & bit != 0 {
                s.push_str(", ");
                s.push_str(name);
            }
        }
    });
    b.t.push();
    b.bits(f::IP_FLAGS_RB, flags, 6, 1);
    b.bits(f::IP_FLAGS_DF, flags, 6, 1);
    b.bits(f::IP_FLAGS_MF, flags, 6, 1);
    b.t.pop();
    let frag = u64::from(u16::from_be_bytes([raw[6], raw[7]]));
    b.bits(f::IP_FRAG_OFFSET, frag, 6, 2);
    b.u(f::IP_TTL, u64::from(h.ttl()), 8, 1);
    b.u(f::IP_PROTO, u64::from(h.protocol().0), 9, 1);
    let ck = h.header_checksum();
    let i = b.u(f::IP_CHECKSUM, u64::from(ck), 10, 2);
    b.t.label_with(i, |s| {
        s.push_str("Header Checksum: 0x");
        push_hex(s, u64::from(ck), 4);
        s.push_str(" [validation disabled]");
    });
    b.u(f::IP_CHECKSUM_STATUS, 2, 0, 0);
    b.v(f::IP_SRC, Value::Ipv4(h.source()), 12, 4);
    b.hidden(f::IP_ADDR, Value::Ipv4(h.source()), 12, 4);
    b.v(f::IP_DST, Value::Ipv4(h.destination()), 16, 4);
    b.hidden(f::IP_ADDR, Value::Ipv4(h.destination()), 16, 4);
    b.close();
}

/// The short DSCP names tshark puts in the DS field's label.
fn dscp_short(dscp: u8) -> &'static str {
    match dscp {
        0 => "CS0",
        1 => "LE",
        8 => "CS1",
        10 => "AF11",
        12 => "AF12",
        14 => "AF13",
        16 => "CS2",
        18 => "AF21",
        20 => "AF22",
        22 => "AF23",
        24 => "CS3",
        26 => "AF31",
        28 => "AF32",
        30 => "AF33",
        32 => "CS4",
        34 => "AF41",
        36 => "AF42",
        38 => "AF43",
        40 => "CS5",
        44 => "VOICE-ADMIT",
        46 => "EF",
        48 => "CS6",
        56 => "CS7",
        _ => "Unknown",
    }
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
