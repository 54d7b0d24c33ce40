//! Ethernet, VLAN, IPv4/IPv6 and TCP headers around a payload, with every checksum right:
//! etherparse builds the headers; this module only places them so that the payload can be
//! written straight into the frame buffer (no copy of the payload afterwards).

use std::net::IpAddr;

use oneshot_codec::etherparse::{
    EtherType, Ethernet2Header, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, SingleVlanHeader,
    TcpHeader, TcpOptionElement, VlanId, VlanPcp,
};

/// One end of a TCP connection as it appears on its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// MAC address.
    pub mac: [u8; 6],
    /// IP address.
    pub ip: IpAddr,
    /// VLAN tag of the link.
    pub vlan: Option<u16>,
    /// TCP port.
    pub port: u16,
}

/// The TCP fields of one segment besides its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFields {
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (sent when `ack`).
    pub ack_no: u32,
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
    /// PSH.
    pub psh: bool,
    /// Window.
    pub window: u16,
    /// MSS option to announce (SYN segments).
    pub mss: Option<u16>,
}

const ETH_LEN: usize = 14;
const VLAN_LEN: usize = 4;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const TCP_LEN: usize = 20;
const MSS_OPTION_LEN: usize = 4;

/// A reusable frame buffer: reserve the headers, append the payload, then fill the headers.
///
/// It may also keep finished frames as capture records in front of the one being built
/// ([`FrameBuf::with_records`]): every frame is then built behind room for its record header,
/// and [`FrameBuf::commit`] turns it into a record where it lies, so a frame reaches the output
/// without being copied.
#[derive(Debug, Default)]
pub struct FrameBuf {
    buf: Vec<u8>,
    /// Octets of complete records at the front of `buf`.
    records: usize,
    /// Room for a record header in front of every frame.
    gap: usize,
    /// Where the frame being built starts in `buf`.
    frame_start: usize,
    /// Octets of L2-L4 headers at `frame_start`.
    header_len: usize,
}

/// Octets of L2-L4 headers in front of the payload for `src` sending to `dst`.
pub fn header_len(src: &Endpoint, with_mss: bool) -> usize {
    ETH_LEN
        + if src.vlan.is_some() { VLAN_LEN } else { 0 }
        + if src.ip.is_ipv4() { IPV4_LEN } else { IPV6_LEN }
        + TCP_LEN
        + if with_mss { MSS_OPTION_LEN } else { 0 }
}

impl FrameBuf {
    /// A buffer that keeps frames as records with `gap` octets of record header in front of
    /// each, with room for `capacity` octets before it grows.
    pub fn with_records(gap: usize, capacity: usize) -> Self {
        FrameBuf {
            buf: Vec::with_capacity(capacity),
            gap,
            ..FrameBuf::default()
        }
    }

    /// Starts a frame from `src`: drops any frame not committed and reserves room for the
    /// record header and the L2-L4 headers.
    pub fn start(&mut self, src: &Endpoint, with_mss: bool) {
        self.frame_start = self.records + self.gap;
        self.header_len = header_len(src, with_mss);
        self.buf.truncate(self.records);
        self.buf.resize(self.frame_start + self.header_len, 0);
    }

    /// The buffer to append the TCP payload to (the headers sit before it).
    pub fn payload(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Length of the payload appended so far.
    pub fn payload_len(&self) -> usize {
        self.buf.len() - self.frame_start - self.header_len
    }

    /// The payload appended so far.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.buf[self.frame_start + self.header_len..]
    }

    /// Writes Ethernet, VLAN, IP and TCP headers for `src` → `dst` with `tcp`, checksums
    /// included, and returns the whole frame.
    pub fn finish(&mut self, src: &Endpoint, dst: &Endpoint, tcp: &TcpFields) -> &[u8] {
        let payload_len = self.payload_len();
        let mut t = TcpHeader::new(src.port, dst.port, tcp.seq, tcp.window);
        t.syn = tcp.syn;
        t.fin = tcp.fin;
        t.rst = tcp.rst;
        t.psh = tcp.psh;
        t.ack = tcp.ack;
        t.acknowledgment_number = if tcp.ack { tcp.ack_no } else { 0 };
        if let Some(mss) = tcp.mss {
            t.set_options(&[TcpOptionElement::MaximumSegmentSize(mss)])
                .expect("one MSS option fits");
        }
        let tcp_len = t.header_len();
        let mut at = 0;
        debug_assert_eq!(
            self.header_len,
            header_len(src, tcp.mss.is_some()),
            "start() and finish() disagree on TCP options"
        );
        let (head, payload) = self.buf[self.frame_start..].split_at_mut(self.header_len);
        let ether_type = if src.ip.is_ipv4() {
            EtherType::IPV4
        } else {
            EtherType::IPV6
        };
        let eth = Ethernet2Header {
            source: src.mac,
            destination: dst.mac,
            ether_type: if src.vlan.is_some() {
                EtherType::VLAN_TAGGED_FRAME
            } else {
                ether_type
            },
        };
        head[..ETH_LEN].copy_from_slice(&eth.to_bytes());
        at += ETH_LEN;
        if let Some(vid) = src.vlan {
            let v = SingleVlanHeader {
                pcp: VlanPcp::ZERO,
                drop_eligible_indicator: false,
                vlan_id: VlanId::try_new(vid).unwrap_or(VlanId::ZERO),
                ether_type,
            };
            head[at..at + VLAN_LEN].copy_from_slice(&v.to_bytes());
            at += VLAN_LEN;
        }
        let l4_len = tcp_len + payload_len;
        match (src.ip, dst.ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip =
                    Ipv4Header::new(l4_len as u16, 64, IpNumber::TCP, s.octets(), d.octets())
                        .expect("segment fits IPv4");
                ip.header_checksum = ip.calc_header_checksum();
                t.checksum = t
                    .calc_checksum_ipv4_raw(s.octets(), d.octets(), payload)
                    .expect("segment fits IPv4");
                head[at..at + IPV4_LEN].copy_from_slice(&ip.to_bytes());
                at += IPV4_LEN;
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let ip = Ipv6Header {
                    traffic_class: 0,
                    flow_label: Ipv6FlowLabel::ZERO,
                    payload_length: l4_len as u16,
                    next_header: IpNumber::TCP,
                    hop_limit: 64,
                    source: s.octets(),
                    destination: d.octets(),
                };
                t.checksum = t
                    .calc_checksum_ipv6_raw(s.octets(), d.octets(), payload)
                    .expect("segment fits IPv6");
                head[at..at + IPV6_LEN].copy_from_slice(&ip.to_bytes());
                at += IPV6_LEN;
            }
            _ => unreachable!("the script checks both ends use one IP version"),
        }
        head[at..at + tcp_len].copy_from_slice(&t.to_bytes());
        &self.buf[self.frame_start..]
    }

    /// The frame as last finished.
    pub fn frame(&self) -> &[u8] {
        &self.buf[self.frame_start..]
    }

    /// The room for the finished frame's record header, and its first `cap` octets (what the
    /// record will keep).
    pub fn record_parts(&mut self, cap: usize) -> (&mut [u8], &[u8]) {
        let end = (self.frame_start + cap).min(self.buf.len());
        let (header, frame) = self.buf[self.records..end].split_at_mut(self.gap);
        (header, frame)
    }

    /// Keeps the finished frame, cut to `cap` octets, as a record behind the others.
    pub fn commit(&mut self, cap: usize) {
        self.buf.truncate(self.frame_start + cap);
        self.records = self.buf.len();
    }

    /// The complete records kept so far.
    pub fn records(&self) -> &[u8] {
        &self.buf[..self.records]
    }

    /// Forgets the records (once written) and any frame being built.
    pub fn clear_records(&mut self) {
        self.buf.clear();
        self.records = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneshot_codec::Frame;

    fn ep(ip: &str, vlan: Option<u16>, port: u16) -> Endpoint {
        Endpoint {
            mac: [2, 0, 0, 0, 0, port as u8],
            ip: ip.parse().unwrap(),
            vlan,
            port,
        }
    }

    #[test]
    fn ipv4_frame_with_vlan_decodes_with_good_checksums() {
        let (a, b) = (ep("10.0.0.1", Some(100), 1), ep("10.0.0.2", Some(100), 2));
        let mut f = FrameBuf::default();
        f.start(&a, true);
        f.payload().extend_from_slice(b"hello");
        let tcp = TcpFields {
            seq: 7,
            ack_no: 9,
            syn: true,
            ack: true,
            window: 1000,
            mss: Some(1460),
            ..TcpFields::default()
        };
        let bytes = f.finish(&a, &b, &tcp).to_vec();
        assert_eq!(bytes.len(), 14 + 4 + 20 + 24 + 5);
        let d = Frame::ethernet(&bytes);
        assert!(d.stop.is_none());
        assert_eq!(d.vlan_tags().next().unwrap().vlan_identifier().value(), 100);
        let t = d.tcp().unwrap();
        assert_eq!((t.sequence_number(), t.acknowledgment_number()), (7, 9));
        assert!(t.syn() && t.ack() && !t.fin());
        assert_eq!(t.payload(), b"hello");
        let ip = d.ip.as_ref().unwrap().ipv4().unwrap();
        let h = t.to_header();
        assert_eq!(
            h.calc_checksum_ipv4(&ip.header().to_header(), t.payload())
                .unwrap(),
            t.checksum()
        );
        assert_eq!(
            ip.header().header_checksum(),
            ip.header().to_header().calc_header_checksum()
        );
    }

    #[test]
    fn ipv6_frame_decodes_with_good_checksum() {
        let (a, b) = (ep("fd00::1", None, 1), ep("fd00::2", None, 2));
        let mut f = FrameBuf::default();
        f.start(&a, false);
        f.payload().extend_from_slice(&[1, 2, 3]);
        let tcp = TcpFields {
            seq: 1,
            ack: true,
            ack_no: 2,
            window: 5,
            ..TcpFields::default()
        };
        let bytes = f.finish(&a, &b, &tcp).to_vec();
        let d = Frame::ethernet(&bytes);
        let t = d.tcp().unwrap();
        let ip = d.ip.as_ref().unwrap().ipv6().unwrap();
        assert_eq!(
            t.to_header()
                .calc_checksum_ipv6(&ip.header().to_header(), t.payload())
                .unwrap(),
            t.checksum()
        );
    }
}
