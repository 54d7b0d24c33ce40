//! Ethernet, VLAN, IPv4/IPv6 and TCP headers around a payload, with every checksum right:
//! etherparse builds the headers; this module only places them so that the payload can be
//! written straight into the frame buffer (no copy of the payload afterwards).
//!
//! The TCP checksum of a payload laid out from pieces ([`PayloadSum`]) can be summed piece by
//! piece, and a slice of the run's random data block from running sums of the block
//! ([`BlockSums`]) instead of octet by octet: all summing is etherparse's
//! [`Sum16BitWords`]; this module only combines sums, which one's complement arithmetic
//! allows in any order (RFC 1071 §2).

use std::net::IpAddr;
use std::ops::Range;

use oneshot_codec::etherparse::checksum::Sum16BitWords;
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
    /// The payload's sum, when whoever laid it out summed it.
    payload_sum: Option<PayloadSum>,
}

/// The TCP checksum of a segment from its pseudo-header's sum, its header (checksum field
/// still zero) and its payload's sum: what etherparse's `calc_checksum_ipv*_raw` computes.
fn segment_checksum(pseudo_header: Sum16BitWords, t: &TcpHeader, payload: PayloadSum) -> u16 {
    debug_assert_eq!(t.checksum, 0);
    pseudo_header
        .add_slice(&t.to_bytes())
        .add_2bytes(folded(&payload.0).to_ne_bytes())
        .ones_complement()
        .to_be()
}

/// Octets per entry of [`BlockSums`].
const GRAIN: usize = 16;

/// The one's complement sum of `s`, folded to 16 bits (in etherparse's word order).
fn folded(s: &Sum16BitWords) -> u16 {
    !s.ones_complement()
}

/// Running sums of a data block every 16 octets, so that the sum of any slice of it costs two
/// look-ups and at most 30 octets summed.
#[derive(Debug, Clone, Default)]
pub struct BlockSums {
    /// `running[k]`: the folded sum of the block's first `k * GRAIN` octets.
    running: Vec<u16>,
}

impl BlockSums {
    /// The running sums of `block`.
    pub fn new(block: &[u8]) -> Self {
        let mut sum = Sum16BitWords::new();
        let mut running = Vec::with_capacity(block.len() / GRAIN + 1);
        running.push(folded(&sum));
        for grain in block.chunks_exact(GRAIN) {
            sum = sum.add_slice(grain);
            running.push(folded(&sum));
        }
        BlockSums { running }
    }
}

/// What a TCP payload adds to the segment's checksum, summed as the payload is laid out:
/// each piece is summed where it starts in the payload (a piece at an odd offset adds its sum
/// with the two octets swapped, RFC 1071 §2(B)).
#[derive(Debug, Clone, Default)]
pub struct PayloadSum(Sum16BitWords);

impl PayloadSum {
    /// Adds `bytes`, which start `at` octets into the payload.
    pub fn add(&mut self, bytes: &[u8], at: usize) {
        if at % 2 == 0 {
            self.0 = std::mem::take(&mut self.0).add_slice(bytes);
        } else {
            self.add_folded(folded(&Sum16BitWords::new().add_slice(bytes)), at);
        }
    }

    /// Adds the folded sum of a piece that starts `at` octets into the payload.
    fn add_folded(&mut self, sum: u16, at: usize) {
        let sum = if at % 2 == 0 { sum } else { sum.swap_bytes() };
        self.0 = std::mem::take(&mut self.0).add_2bytes(sum.to_ne_bytes());
    }

    /// Adds `block[range]`, which starts `at` octets into the payload, with the help of the
    /// block's running `sums`.
    pub fn add_block(&mut self, block: &[u8], sums: &BlockSums, range: Range<usize>, at: usize) {
        let (from, to) = (range.start, range.end);
        let (first, last) = (from.div_ceil(GRAIN), to / GRAIN);
        let (a, b) = (first * GRAIN, last * GRAIN);
        match (sums.running.get(first), sums.running.get(last)) {
            (Some(&upto_a), Some(&upto_b)) if a < b => {
                self.add(&block[from..a], at);
                // The sum of block[a..b] is upto_b - upto_a; subtracting adds the complement.
                self.add_folded(upto_b, at + a - from);
                self.add_folded(!upto_a, at + a - from);
                self.add(&block[b..to], at + b - from);
            }
            _ => self.add(&block[range], at),
        }
    }
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
        self.payload_sum = None;
    }

    /// Gives the sum of the payload as laid out so far, for [`FrameBuf::finish`] to use instead
    /// of summing the payload again.
    pub fn set_payload_sum(&mut self, sum: PayloadSum) {
        self.payload_sum = Some(sum);
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
        let payload_sum = self.payload_sum.take();
        match (src.ip, dst.ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut ip =
                    Ipv4Header::new(l4_len as u16, 64, IpNumber::TCP, s.octets(), d.octets())
                        .expect("segment fits IPv4");
                ip.header_checksum = ip.calc_header_checksum();
                t.checksum = match payload_sum {
                    // The pseudo-header as calc_checksum_ipv4_raw sums it.
                    Some(p) => segment_checksum(
                        Sum16BitWords::new()
                            .add_4bytes(s.octets())
                            .add_4bytes(d.octets())
                            .add_2bytes([0, IpNumber::TCP.0])
                            .add_2bytes((l4_len as u16).to_be_bytes()),
                        &t,
                        p,
                    ),
                    None => t
                        .calc_checksum_ipv4_raw(s.octets(), d.octets(), payload)
                        .expect("segment fits IPv4"),
                };
                debug_assert_eq!(
                    Ok(t.checksum),
                    TcpHeader {
                        checksum: 0,
                        ..t.clone()
                    }
                    .calc_checksum_ipv4_raw(s.octets(), d.octets(), payload)
                );
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
                t.checksum = match payload_sum {
                    // The pseudo-header as calc_checksum_ipv6_raw sums it.
                    Some(p) => segment_checksum(
                        Sum16BitWords::new()
                            .add_16bytes(s.octets())
                            .add_16bytes(d.octets())
                            .add_4bytes((l4_len as u32).to_be_bytes())
                            .add_2bytes([0, IpNumber::TCP.0]),
                        &t,
                        p,
                    ),
                    None => t
                        .calc_checksum_ipv6_raw(s.octets(), d.octets(), payload)
                        .expect("segment fits IPv6"),
                };
                debug_assert_eq!(
                    Ok(t.checksum),
                    TcpHeader {
                        checksum: 0,
                        ..t.clone()
                    }
                    .calc_checksum_ipv6_raw(s.octets(), d.octets(), payload)
                );
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

    /// A payload laid out from pieces, some of them slices of a data block summed from its
    /// running sums, at every parity, empty or within one grain or across many: the frame
    /// finished with the pieces' sum is the frame finished by etherparse over the payload.
    #[test]
    fn a_payload_summed_by_pieces_gives_etherparse_s_checksum() {
        let mut rng = crate::rng::Rng::new(7, 0);
        let mut block = vec![0u8; 4096 + 3];
        rng.fill(&mut block);
        block[100..400].fill(0xFF); // long runs of all-ones and zeros sum to "zero" too
        block[600..900].fill(0);
        let sums = BlockSums::new(&block);
        for (a, b) in [
            (ep("10.0.0.1", None, 1), ep("10.0.0.2", None, 2)),
            (ep("fd00::1", Some(7), 1), ep("fd00::2", Some(7), 2)),
        ] {
            for round in 0..400 {
                let (mut by_pieces, mut whole) = (FrameBuf::default(), FrameBuf::default());
                by_pieces.start(&a, false);
                whole.start(&a, false);
                let mut sum = PayloadSum::default();
                for _ in 0..rng.below(5) {
                    let at = by_pieces.payload_len();
                    if rng.below(2) == 0 {
                        let len = rng.below(40) as usize;
                        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                        by_pieces.payload().extend_from_slice(&bytes);
                        sum.add(&bytes, at);
                    } else {
                        let from = match round % 4 {
                            0 => 100, // inside the all-ones run
                            1 => rng.below(40) as usize * GRAIN,
                            _ => rng.below(block.len() as u64) as usize,
                        };
                        let to = (from + rng.below(1500) as usize).min(block.len());
                        by_pieces.payload().extend_from_slice(&block[from..to]);
                        sum.add_block(&block, &sums, from..to, at);
                    }
                }
                whole.payload().extend_from_slice(by_pieces.payload_bytes());
                by_pieces.set_payload_sum(sum);
                let tcp = TcpFields {
                    seq: rng.next_u64() as u32,
                    ack_no: rng.next_u64() as u32,
                    ack: true,
                    psh: round % 2 == 0,
                    window: rng.next_u64() as u16,
                    ..TcpFields::default()
                };
                let want = whole.finish(&a, &b, &tcp).to_vec();
                assert_eq!(by_pieces.finish(&a, &b, &tcp), &want[..], "round {round}");
            }
        }
    }
}
