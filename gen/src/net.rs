//! Ethernet, VLAN, IPv4/IPv6 and TCP headers around a payload, with every checksum right:
//! etherparse builds the headers; this module only places them so that the payload can be
//! written straight into the frame buffer (no copy of the payload afterwards), or, for slices of
//! the run's data block, not written at all: the frame buffer keeps them by reference and the
//! capture writer hands them to the kernel with vectored writes ([`FrameBuf::splice`],
//! [`FrameBuf::record_slices`]).
//!
//! The TCP checksum of a payload laid out from pieces ([`PayloadSum`]) can be summed piece by
//! piece, and a slice of the run's random data block from running sums of the block
//! ([`BlockSums`]) instead of octet by octet: all summing is etherparse's
//! [`Sum16BitWords`]; this module only combines sums, which one's complement arithmetic
//! allows in any order (RFC 1071 §2).

use std::io::IoSlice;
use std::net::IpAddr;
use std::ops::Range;
use std::rc::Rc;

// Octets per entry of `BlockSums`: the same grain as the block's prefix CRCs.
use crate::crc::GRAIN;

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
/// Where the checksum lies in a TCP header.
const TCP_CHECKSUM: Range<usize> = 16..18;

/// A reusable frame buffer: reserve the headers, append the payload, then fill the headers.
///
/// It may also keep finished frames as capture records in front of the one being built
/// ([`FrameBuf::with_records`]): every frame is then built behind room for its record header,
/// and [`FrameBuf::commit`] turns it into a record where it lies, so a frame reaches the output
/// without being copied. Such a buffer also takes slices of the run's data block by reference
/// ([`FrameBuf::splice`]): the records are then the buffer's octets with those slices in
/// between, written with vectored I/O ([`FrameBuf::record_slices`]), so bulk payload octets are
/// never copied in user space.
#[derive(Debug, Default)]
pub struct FrameBuf {
    buf: Vec<u8>,
    /// The data block that [`FrameBuf::splice`] takes slices of.
    block: Rc<[u8]>,
    /// Keep block slices by reference (else copy them in).
    by_reference: bool,
    /// Block slices between the octets of `buf`, in order.
    splices: Vec<Splice>,
    /// Octets of complete records at the front of `buf`.
    records: usize,
    /// Splices of the complete records (the first ones of `splices`).
    record_splices: usize,
    /// Octets of the complete records, spliced slices included.
    record_octets: usize,
    /// Room for a record header in front of every frame.
    gap: usize,
    /// Where the frame being built starts in `buf`.
    frame_start: usize,
    /// Octets of L2-L4 headers at `frame_start`.
    header_len: usize,
    /// Octets spliced into the frame being built.
    frame_spliced: usize,
    /// The payload's sum, when whoever laid it out summed it.
    payload_sum: Option<PayloadSum>,
}

/// A slice of the data block that goes between the buffer's octets: `block[range]` comes
/// before `buf[at]`.
#[derive(Debug, Clone)]
struct Splice {
    at: usize,
    range: Range<usize>,
}

/// The TCP checksum of a segment from its pseudo-header's sum, its header's octets (checksum
/// field still zero) and its payload's sum: what etherparse's `calc_checksum_ipv*_raw` computes.
fn segment_checksum(pseudo_header: Sum16BitWords, tcp_header: &[u8], payload: PayloadSum) -> u16 {
    debug_assert_eq!(tcp_header[TCP_CHECKSUM], [0, 0]);
    pseudo_header
        .add_slice(tcp_header)
        .add_2bytes(folded(&payload.0).to_ne_bytes())
        .ones_complement()
        .to_be()
}

/// The one's complement sum of `s`, folded to 16 bits (in etherparse's word order).
fn folded(s: &Sum16BitWords) -> u16 {
    !s.ones_complement()
}

/// Running sums of a data block every 8 octets, so that the sum of any slice of it costs two
/// look-ups and at most 14 octets summed.
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

impl BlockSums {
    /// The entry that the sum of a slice ending at `at` reads (zero past the end), for warming
    /// the cache.
    pub fn entry_near(&self, at: usize) -> u16 {
        self.running.get(at / GRAIN).copied().unwrap_or(0)
    }

    /// The folded sum of `block[range]`, as if it started at an even offset, `block` being the
    /// block these sums were made of.
    pub fn slice_sum(&self, block: &[u8], range: Range<usize>) -> u16 {
        if let Some(sum) = self.slice_sum_by_words(block, range.clone()) {
            return sum;
        }
        let mut s = PayloadSum::default();
        s.add_block(block, self, range, 0);
        folded(&s.0)
    }

    /// [`BlockSums::slice_sum`] from two running sums and the 8-octet words at the slice's
    /// ends, masked to its octets, summed as four 16-bit words each: all in the block's word
    /// order (big-endian words from its first octet), turned round at the end when the slice
    /// starts at an odd offset, then into etherparse's word order. One's complement sums do not
    /// depend on how the words are grouped or which way round their octets are, as long as all
    /// are the same way round (RFC 1071 §2), so this is the same value. `None` for a slice
    /// within a grain or one whose last word runs past the block.
    fn slice_sum_by_words(&self, block: &[u8], range: Range<usize>) -> Option<u16> {
        let (from, to) = (range.start, range.end);
        let (first, last) = (from.div_ceil(GRAIN), to / GRAIN);
        if first >= last {
            return None;
        }
        let (a, b) = (first * GRAIN, last * GRAIN);
        let in_block_order = |folded: u16| u64::from(u16::from_be_bytes(folded.to_ne_bytes()));
        let words = |x: u64| (x >> 48) + ((x >> 32) & 0xFFFF) + ((x >> 16) & 0xFFFF) + (x & 0xFFFF);
        // The whole grains: the running sum to `b` less the one to `a` (adding the complement).
        let mut sum =
            in_block_order(*self.running.get(last)?) + in_block_order(!*self.running.get(first)?);
        if from < a {
            let w: [u8; 8] = block.get(a - GRAIN..a)?.try_into().ok()?;
            sum += words(u64::from_be_bytes(w) & (u64::MAX >> (8 * (from + GRAIN - a))));
        }
        if to > b {
            let w: [u8; 8] = block.get(b..b + GRAIN)?.try_into().ok()?;
            sum += words(u64::from_be_bytes(w) & !(u64::MAX >> (8 * (to - b))));
        }
        while sum > 0xFFFF {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        let sum = sum as u16;
        let sum = if from % 2 == 1 { sum.swap_bytes() } else { sum };
        Some(u16::from_ne_bytes(sum.to_be_bytes()))
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

    /// Adds the folded sum of a piece that starts `at` octets into the payload (the sum as if
    /// the piece started at an even offset, such as [`BlockSums::slice_sum`] gives).
    pub fn add_sum(&mut self, sum: u16, at: usize) {
        self.add_folded(sum, at);
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

/// The L2-L4 headers of the segments from one end of a connection to the other, serialized by
/// etherparse once ([`FrameBuf::finish`] on a segment with every per-segment field zero), with
/// the sums of their fixed words: [`FrameBuf::finish_with`] then writes only the fields that
/// change from segment to segment (IP length and checksum; TCP sequence and acknowledgment
/// numbers, flags, window and checksum) where the standards place them in that serialized copy.
/// Debug builds check every frame's headers against etherparse's whole build.
#[derive(Debug, Clone)]
pub struct Headers {
    src: Endpoint,
    dst: Endpoint,
    /// Ethernet (and VLAN), IP and TCP headers of an empty segment with sequence and
    /// acknowledgment numbers, flags and window zero, and zero length and checksum fields.
    bytes: Vec<u8>,
    /// Where the IP header starts in `bytes`.
    ip_at: usize,
    /// Where the TCP header starts in `bytes`.
    tcp_at: usize,
    /// IPv4: the sum of the IP header's words, length and checksum zero.
    ip_sum: Sum16BitWords,
    /// The TCP pseudo-header's words but its length, and the TCP header's fixed words.
    tcp_sum: Sum16BitWords,
}

/// Where the fields that change from segment to segment lie: in the IPv4 header (RFC 791) ...
const IPV4_TOTAL_LEN: Range<usize> = 2..4;
const IPV4_CHECKSUM: Range<usize> = 10..12;
/// ... in the IPv6 header (RFC 8200) ...
const IPV6_PAYLOAD_LEN: Range<usize> = 4..6;
/// ... and in the TCP header (RFC 9293), besides its checksum.
const TCP_SEQ: Range<usize> = 4..8;
const TCP_ACK: Range<usize> = 8..12;
const TCP_FLAGS: usize = 13;
const TCP_WINDOW: Range<usize> = 14..16;

impl Headers {
    /// The headers from `src` to `dst`, as etherparse serializes them.
    pub fn new(src: &Endpoint, dst: &Endpoint) -> Self {
        let mut f = FrameBuf::default();
        f.start(src, false);
        f.set_payload_sum(PayloadSum::default());
        let len = f.finish(src, dst, &TcpFields::default());
        let mut bytes = f.buf[f.frame_start..f.frame_start + len].to_vec();
        let ip_at = ETH_LEN + if src.vlan.is_some() { VLAN_LEN } else { 0 };
        let tcp_at = ip_at + if src.ip.is_ipv4() { IPV4_LEN } else { IPV6_LEN };
        debug_assert_eq!(tcp_at + TCP_LEN, bytes.len());
        let (ip, tcp) = bytes.split_at_mut(tcp_at);
        tcp[TCP_CHECKSUM].fill(0);
        let ip = &mut ip[ip_at..];
        let pseudo = match (src.ip, dst.ip) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                ip[IPV4_TOTAL_LEN].fill(0);
                ip[IPV4_CHECKSUM].fill(0);
                Sum16BitWords::new()
                    .add_4bytes(s.octets())
                    .add_4bytes(d.octets())
                    .add_2bytes([0, IpNumber::TCP.0])
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                ip[IPV6_PAYLOAD_LEN].fill(0);
                Sum16BitWords::new()
                    .add_16bytes(s.octets())
                    .add_16bytes(d.octets())
                    .add_2bytes([0, IpNumber::TCP.0])
            }
            _ => unreachable!("the script checks both ends use one IP version"),
        };
        let ip_sum = Sum16BitWords::new().add_slice(ip);
        let tcp_sum = pseudo.add_slice(tcp);
        Headers {
            src: *src,
            dst: *dst,
            bytes,
            ip_at,
            tcp_at,
            ip_sum,
            tcp_sum,
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
    /// A buffer that builds one frame at a time, contiguous; [`FrameBuf::splice`] copies from
    /// `block`.
    pub fn new(block: Rc<[u8]>) -> Self {
        FrameBuf {
            block,
            ..FrameBuf::default()
        }
    }

    /// A buffer that keeps frames as records with `gap` octets of record header in front of
    /// each, with room for `capacity` octets before it grows, and slices of `block` by
    /// reference.
    pub fn with_records(gap: usize, capacity: usize, block: Rc<[u8]>) -> Self {
        FrameBuf {
            buf: Vec::with_capacity(capacity),
            block,
            by_reference: true,
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
        self.splices.truncate(self.record_splices);
        self.frame_spliced = 0;
        self.payload_sum = None;
    }

    /// Gives the sum of the payload as laid out so far, for [`FrameBuf::finish`] to use instead
    /// of summing the payload again.
    pub fn set_payload_sum(&mut self, sum: PayloadSum) {
        self.payload_sum = Some(sum);
    }

    /// The buffer to append the TCP payload's octets to (the headers and the records sit
    /// before them; block slices spliced in do not show in it).
    pub fn payload(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Appends `block[range]` to the payload: by reference when the buffer keeps records,
    /// else copied.
    pub fn splice(&mut self, range: Range<usize>) {
        if self.by_reference {
            self.frame_spliced += range.len();
            self.splices.push(Splice {
                at: self.buf.len(),
                range,
            });
        } else {
            self.buf.extend_from_slice(&self.block[range]);
        }
    }

    /// Length of the payload appended so far.
    pub fn payload_len(&self) -> usize {
        self.buf.len() - self.frame_start - self.header_len + self.frame_spliced
    }

    /// The payload appended so far, spliced slices included (a copy).
    pub fn payload_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.payload_len());
        self.copy_frame_from(self.frame_start + self.header_len, &mut v);
        v
    }

    /// Appends the frame's octets from `buf[from]` on, spliced slices included, to `out`.
    fn copy_frame_from(&self, from: usize, out: &mut Vec<u8>) {
        let mut pos = from;
        for s in &self.splices[self.record_splices..] {
            out.extend_from_slice(&self.buf[pos..s.at]);
            out.extend_from_slice(&self.block[s.range.clone()]);
            pos = s.at;
        }
        out.extend_from_slice(&self.buf[pos..]);
    }

    /// Copies the spliced slices of the frame being built into the buffer, so that the frame
    /// lies whole in it.
    fn flatten(&mut self) {
        if self.frame_spliced == 0 {
            return;
        }
        let mut frame = Vec::with_capacity(self.buf.len() - self.frame_start + self.frame_spliced);
        self.copy_frame_from(self.frame_start, &mut frame);
        self.buf.truncate(self.frame_start);
        self.buf.extend_from_slice(&frame);
        self.splices.truncate(self.record_splices);
        self.frame_spliced = 0;
    }

    /// Writes Ethernet, VLAN, IP and TCP headers for `src` → `dst` with `tcp`, checksums
    /// included, and returns the frame's length.
    pub fn finish(&mut self, src: &Endpoint, dst: &Endpoint, tcp: &TcpFields) -> usize {
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
        // The header's octets, checksum zero: summed for the checksum, then written with it.
        let mut tcp_bytes = t.to_bytes();
        debug_assert_eq!(
            self.header_len,
            header_len(src, tcp.mss.is_some()),
            "start() and finish() disagree on TCP options"
        );
        // The payload in one piece, only where it is summed octet by octet: when nobody gave
        // its sum, and to check the sum in debug builds.
        let payload_sum = self.payload_sum.take();
        let whole = (payload_sum.is_none() || cfg!(debug_assertions)).then(|| self.payload_vec());
        let whole = whole.as_deref().unwrap_or_default();
        let head = &mut self.buf[self.frame_start..self.frame_start + self.header_len];
        let mut at = 0;
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
                t.checksum = match payload_sum {
                    // The pseudo-header as calc_checksum_ipv4_raw sums it.
                    Some(p) => segment_checksum(
                        Sum16BitWords::new()
                            .add_4bytes(s.octets())
                            .add_4bytes(d.octets())
                            .add_2bytes([0, IpNumber::TCP.0])
                            .add_2bytes((l4_len as u16).to_be_bytes()),
                        &tcp_bytes,
                        p,
                    ),
                    None => t
                        .calc_checksum_ipv4_raw(s.octets(), d.octets(), whole)
                        .expect("segment fits IPv4"),
                };
                debug_assert_eq!(
                    Ok(t.checksum),
                    TcpHeader {
                        checksum: 0,
                        ..t.clone()
                    }
                    .calc_checksum_ipv4_raw(s.octets(), d.octets(), whole)
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
                        &tcp_bytes,
                        p,
                    ),
                    None => t
                        .calc_checksum_ipv6_raw(s.octets(), d.octets(), whole)
                        .expect("segment fits IPv6"),
                };
                debug_assert_eq!(
                    Ok(t.checksum),
                    TcpHeader {
                        checksum: 0,
                        ..t.clone()
                    }
                    .calc_checksum_ipv6_raw(s.octets(), d.octets(), whole)
                );
                head[at..at + IPV6_LEN].copy_from_slice(&ip.to_bytes());
                at += IPV6_LEN;
            }
            _ => unreachable!("the script checks both ends use one IP version"),
        }
        tcp_bytes[TCP_CHECKSUM].copy_from_slice(&t.checksum.to_be_bytes());
        debug_assert_eq!(tcp_bytes, t.to_bytes());
        head[at..at + tcp_len].copy_from_slice(&tcp_bytes);
        self.header_len + payload_len
    }

    /// [`FrameBuf::finish`] for a segment without TCP options from `h`'s end to its peer:
    /// the same octets, from the headers serialized once.
    pub fn finish_with(&mut self, h: &Headers, tcp: &TcpFields) -> usize {
        debug_assert!(tcp.mss.is_none(), "finish_with writes no TCP options");
        if cfg!(debug_assertions) {
            let sum = self.payload_sum.clone();
            self.finish(&h.src, &h.dst, tcp);
            let whole = self.buf[self.frame_start..self.frame_start + self.header_len].to_vec();
            self.payload_sum = sum;
            let len = self.fill_headers(h, tcp);
            debug_assert_eq!(
                self.buf[self.frame_start..self.frame_start + self.header_len],
                whole[..],
                "headers from the serialized copy"
            );
            return len;
        }
        self.fill_headers(h, tcp)
    }

    /// Writes `h`'s headers with `tcp`'s fields in front of the payload; returns the frame's
    /// length.
    fn fill_headers(&mut self, h: &Headers, tcp: &TcpFields) -> usize {
        let payload_len = self.payload_len();
        let payload = match self.payload_sum.take() {
            Some(p) => p,
            None if payload_len == 0 => PayloadSum::default(),
            None => {
                let mut p = PayloadSum::default();
                p.add(&self.payload_vec(), 0);
                p
            }
        };
        let l4_len = TCP_LEN + payload_len;
        let head = &mut self.buf[self.frame_start..self.frame_start + self.header_len];
        head.copy_from_slice(&h.bytes);
        let (ip, t) = head.split_at_mut(h.tcp_at);
        let ip = &mut ip[h.ip_at..];
        let pseudo = if h.src.ip.is_ipv4() {
            let total = ((IPV4_LEN + l4_len) as u16).to_be_bytes();
            ip[IPV4_TOTAL_LEN].copy_from_slice(&total);
            let checksum = h.ip_sum.clone().add_2bytes(total).ones_complement().to_be();
            ip[IPV4_CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
            h.tcp_sum.clone().add_2bytes((l4_len as u16).to_be_bytes())
        } else {
            ip[IPV6_PAYLOAD_LEN].copy_from_slice(&(l4_len as u16).to_be_bytes());
            h.tcp_sum.clone().add_4bytes((l4_len as u32).to_be_bytes())
        };
        let ack_no = if tcp.ack { tcp.ack_no } else { 0 };
        let flags = u8::from(tcp.fin)
            | u8::from(tcp.syn) << 1
            | u8::from(tcp.rst) << 2
            | u8::from(tcp.psh) << 3
            | u8::from(tcp.ack) << 4;
        t[TCP_SEQ].copy_from_slice(&tcp.seq.to_be_bytes());
        t[TCP_ACK].copy_from_slice(&ack_no.to_be_bytes());
        t[TCP_FLAGS] = flags;
        t[TCP_WINDOW].copy_from_slice(&tcp.window.to_be_bytes());
        // The fixed words are in `pseudo` already: add the changing ones.
        let mut pseudo = pseudo;
        let checksum = pseudo
            .add_4bytes(tcp.seq.to_be_bytes())
            .add_4bytes(ack_no.to_be_bytes())
            .add_2bytes([0, flags])
            .add_2bytes(tcp.window.to_be_bytes())
            .add_2bytes(folded(&payload.0).to_ne_bytes())
            .ones_complement()
            .to_be();
        t[TCP_CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
        self.header_len + payload_len
    }

    /// The frame as last finished, when it lies whole in the buffer (nothing spliced by
    /// reference).
    pub fn frame(&self) -> &[u8] {
        debug_assert_eq!(self.frame_spliced, 0, "the frame has slices by reference");
        &self.buf[self.frame_start..]
    }

    /// The frame as last finished, in one piece (a copy), spliced slices included.
    pub fn frame_vec(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.copy_frame_from(self.frame_start, &mut v);
        v
    }

    /// The room for the finished frame's record header.
    pub fn record_header(&mut self) -> &mut [u8] {
        &mut self.buf[self.records..self.frame_start]
    }

    /// Keeps the finished frame, cut to `cap` octets, as a record behind the others.
    pub fn commit(&mut self, cap: usize) {
        let len = self.buf.len() - self.frame_start + self.frame_spliced;
        if cap < len {
            self.flatten();
            self.buf.truncate(self.frame_start + cap);
        }
        self.record_octets += self.buf.len() - self.records + self.frame_spliced;
        self.records = self.buf.len();
        self.record_splices = self.splices.len();
        self.frame_spliced = 0;
    }

    /// Octets of the complete records kept so far, spliced slices included.
    pub fn records_len(&self) -> usize {
        self.record_octets
    }

    /// Slices of the data block the complete records kept so far hold by reference.
    pub fn records_spliced(&self) -> usize {
        self.record_splices
    }

    /// The complete records kept so far, in order, for vectored I/O: pieces of the buffer and
    /// of the data block (no empty piece).
    pub fn record_slices(&self) -> Vec<IoSlice<'_>> {
        let mut v = Vec::with_capacity(2 * self.record_splices + 1);
        let mut pos = 0;
        for s in &self.splices[..self.record_splices] {
            if s.at > pos {
                v.push(IoSlice::new(&self.buf[pos..s.at]));
            }
            if !s.range.is_empty() {
                v.push(IoSlice::new(&self.block[s.range.clone()]));
            }
            pos = s.at;
        }
        if self.records > pos {
            v.push(IoSlice::new(&self.buf[pos..self.records]));
        }
        v
    }

    /// Forgets the records (once written) and any frame being built.
    pub fn clear_records(&mut self) {
        self.buf.clear();
        self.splices.clear();
        self.records = 0;
        self.record_splices = 0;
        self.record_octets = 0;
        self.frame_spliced = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneshot_codec::Frame;

    /// The sum of a slice from its end words and the running sums is the one summed piece by
    /// piece, bit for bit, for every slice of small blocks of random, zero and all-ones octets.
    #[test]
    fn slice_sums_by_words_match_the_pieces() {
        let mut random = vec![0u8; 200];
        crate::rng::Rng::new(11, 1).fill(&mut random);
        for block in [random, vec![0u8; 200], vec![0xFF; 200], vec![0x80; 200]] {
            let sums = BlockSums::new(&block);
            let mut by_words = 0;
            for from in 0..block.len() {
                for to in from..=block.len() {
                    let mut s = PayloadSum::default();
                    s.add_block(&block, &sums, from..to, 0);
                    let want = folded(&s.0);
                    assert_eq!(sums.slice_sum(&block, from..to), want, "{from}..{to}");
                    // etherparse's sum of the octets, up to the two zeros of one's complement
                    // (0 and 0xFFFF, which add the same to a checksum that has other words).
                    let direct = folded(&Sum16BitWords::new().add_slice(&block[from..to]));
                    assert_eq!(want % 0xFFFF, direct % 0xFFFF, "{from}..{to}");
                    by_words += usize::from(sums.slice_sum_by_words(&block, from..to).is_some());
                }
            }
            assert!(by_words > 15_000, "{by_words} slices summed by words");
        }
    }

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
        let len = f.finish(&a, &b, &tcp);
        let bytes = f.frame().to_vec();
        assert_eq!(bytes.len(), len);
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
        let len = f.finish(&a, &b, &tcp);
        let bytes = f.frame().to_vec();
        assert_eq!(bytes.len(), len);
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
    /// running sums (and kept by reference), at every parity, empty or within one grain or
    /// across many: the frame finished with the pieces' sum is the frame finished by etherparse
    /// over the payload.
    #[test]
    fn a_payload_summed_by_pieces_gives_etherparse_s_checksum() {
        let mut rng = crate::rng::Rng::new(7, 0);
        let mut block = vec![0u8; 4096 + 3];
        rng.fill(&mut block);
        block[100..400].fill(0xFF); // long runs of all-ones and zeros sum to "zero" too
        block[600..900].fill(0);
        let sums = BlockSums::new(&block);
        let block: Rc<[u8]> = block.into();
        for (a, b) in [
            (ep("10.0.0.1", None, 1), ep("10.0.0.2", None, 2)),
            (ep("fd00::1", Some(7), 1), ep("fd00::2", Some(7), 2)),
        ] {
            for round in 0..400 {
                let mut by_pieces = FrameBuf::with_records(16, 0, Rc::clone(&block));
                let mut whole = FrameBuf::default();
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
                        by_pieces.splice(from..to);
                        sum.add_block(&block, &sums, from..to, at);
                    }
                }
                whole.payload().extend_from_slice(&by_pieces.payload_vec());
                by_pieces.set_payload_sum(sum);
                let tcp = TcpFields {
                    seq: rng.next_u64() as u32,
                    ack_no: rng.next_u64() as u32,
                    ack: true,
                    psh: round % 2 == 0,
                    window: rng.next_u64() as u16,
                    ..TcpFields::default()
                };
                whole.finish(&a, &b, &tcp);
                by_pieces.finish(&a, &b, &tcp);
                assert_eq!(by_pieces.frame_vec(), whole.frame(), "round {round}");
            }
        }
    }

    /// Records with block slices by reference, some of them cut short (a snaplen): the pieces
    /// for the vectored write are the records one after the other, slices in place, with none
    /// empty; a frame started and dropped leaves nothing behind.
    #[test]
    fn records_with_slices_by_reference_come_out_whole() {
        let mut rng = crate::rng::Rng::new(9, 0);
        let mut block = vec![0u8; 10_000];
        rng.fill(&mut block);
        let block: Rc<[u8]> = block.into();
        let (a, b) = (ep("10.0.0.1", None, 1), ep("10.0.0.2", None, 2));
        let mut f = FrameBuf::with_records(4, 0, Rc::clone(&block));
        let mut want = Vec::new();
        for round in 0..50 {
            f.start(&a, false);
            let mut payload = Vec::new();
            for _ in 0..rng.below(4) {
                let n = rng.below(10) as usize;
                let own: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                f.payload().extend_from_slice(&own);
                payload.extend_from_slice(&own);
                let from = rng.below(9_000) as usize;
                let to = from + rng.below(1_000) as usize;
                f.splice(from..to);
                payload.extend_from_slice(&block[from..to]);
            }
            assert_eq!(f.payload_vec(), payload);
            let len = f.finish(&a, &b, &TcpFields::default());
            if round % 7 == 3 {
                continue; // dropped: the next start() forgets it
            }
            let frame = f.frame_vec();
            assert_eq!(frame.len(), len);
            let cap = if round % 5 == 0 { len.min(60) } else { len };
            f.record_header()
                .copy_from_slice(&(round as u32).to_be_bytes());
            f.commit(cap);
            want.extend_from_slice(&(round as u32).to_be_bytes());
            want.extend_from_slice(&frame[..cap]);
            assert_eq!(f.records_len(), want.len());
        }
        let slices = f.record_slices();
        assert!(slices.iter().all(|s| !s.is_empty()));
        assert!(slices.len() <= 2 * f.records_spliced() + 1);
        let out: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(out, want);
        f.clear_records();
        assert_eq!(f.records_len(), 0);
        assert!(f.record_slices().is_empty());
    }
}
