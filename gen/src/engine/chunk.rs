//! What a host hands its TCP: chunks of the byte stream, each either one FPDU (kept whole in a
//! segment when it fits, markers inserted where its stream position says) or plain stream bytes
//! (MPA frames, iSCSI/TCP PDUs, split anywhere). A chunk knows how to produce its wire octets
//! again, so retransmissions and split FPDUs cost no stored copy.
//!
//! A chunk whose bulk data goes on the wire unchanged (no markers, no mutation) is prepared when
//! it is queued: its CRC and its data's checksum sum come from the block's tables
//! ([`crate::crc::BlockCrcs`], [`crate::net::BlockSums`]), so that it can be sent whole with the
//! data by reference ([`Chunk::write_around`]), its octets read by nobody but the kernel.

use std::rc::Rc;

use oneshot_codec::mpa::{self, Fpdu, marker};

use crate::crc::{BlockCrcs, Crc};
use crate::net::BlockSums;

/// Where the bulk of a payload comes from: a window into the run's random data block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRef {
    /// Offset in the block.
    pub offset: usize,
    /// Octets.
    pub len: usize,
}

/// A payload: a few octets built for this message, then optionally bulk data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// Leading octets (ULP headers such as iSER or an iSCSI BHS).
    pub head: Vec<u8>,
    /// Bulk octets after them.
    pub data: Option<DataRef>,
}

impl Payload {
    /// Length in octets.
    pub fn len(&self) -> usize {
        self.head.len() + self.data.map_or(0, |d| d.len)
    }

    /// Appends octets `range` of the payload to `out`.
    pub fn copy_range(&self, block: &[u8], range: std::ops::Range<usize>, out: &mut Vec<u8>) {
        let hl = self.head.len();
        if range.start < hl {
            out.extend_from_slice(&self.head[range.start..range.end.min(hl)]);
        }
        if range.end > hl {
            if let Some(d) = self.data {
                let from = range.start.max(hl) - hl;
                let to = range.end - hl;
                out.extend_from_slice(&block[d.offset + from..d.offset + to]);
            }
        }
    }
}

/// Faults carried by one chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkFaults {
    /// Flip a CRC bit.
    pub bad_crc: bool,
    /// Announce this many more ULPDU octets than there are.
    pub ulpdu_excess: u16,
    /// Split across two segments after this many wire octets.
    pub split_at: Option<u32>,
    /// Lose the segment that carries the chunk's first octet (once).
    pub lose: bool,
    /// Send the segment that carries the chunk's first octet twice.
    pub duplicate: bool,
    /// Swap the segment that carries the chunk's first octet with the next one.
    pub reorder: bool,
    /// Capture only this many octets of the frames that carry the chunk.
    pub snaplen: Option<u32>,
    /// Structure-aware mutation: change one DDP/RDMAP/MPA field (seeded), then fix the CRC.
    pub mutate: Option<u64>,
}

/// The octets of an FPDU before its payload: DDP header, RDMAP header or appended STag
/// (at most 18 + 52 + 4), kept inline so queueing an FPDU allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Head {
    bytes: [u8; Head::CAP],
    len: u8,
}

impl Head {
    /// Room for the longest header.
    pub const CAP: usize = 80;

    /// `len` zero octets (at most [`Head::CAP`]).
    pub fn zeroed(len: usize) -> Self {
        assert!(
            len <= Self::CAP,
            "a DDP/RDMAP header is at most {} octets",
            Self::CAP
        );
        Head {
            bytes: [0; Self::CAP],
            len: len as u8,
        }
    }
}

impl std::ops::Deref for Head {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::ops::DerefMut for Head {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Head({:02x?})", &**self)
    }
}

impl From<&[u8]> for Head {
    fn from(b: &[u8]) -> Self {
        let mut h = Head::zeroed(b.len());
        h.copy_from_slice(b);
        h
    }
}

/// The run's data block with its tables: what [`Chunk::prepare`] reads.
#[derive(Clone, Copy)]
pub struct Block<'a> {
    /// The block's octets.
    pub octets: &'a [u8],
    /// Its prefix CRCs.
    pub crcs: &'a BlockCrcs,
    /// Its running checksum sums.
    pub sums: &'a BlockSums,
}

/// The most octets read at either end of a slice of the block, besides whole grains.
const GRAIN_END: usize = crate::crc::GRAIN - 1;

impl Block<'_> {
    /// Reads, in one tight loop, what preparing chunks with the data `slices` will read from
    /// memory ([`Chunk::prepare`]): the block's octets at both ends of each slice and the table
    /// entries there. These loads do not depend on each other, so the processor waits for their
    /// cache misses all at once, instead of one after the other as each chunk is prepared (a
    /// message's slices lie one after the other, 1440 octets apart, too far apart for the
    /// hardware to fetch them ahead).
    pub fn warm(&self, slices: impl Iterator<Item = DataRef>) {
        let mut seen = 0u32;
        for d in slices {
            let (from, to) = (d.offset, d.offset + d.len);
            // The first and last octets of the runs read at either end (a grain or less each,
            // on one or two cache lines).
            for at in [
                from,
                from + GRAIN_END,
                to.saturating_sub(GRAIN_END + 1),
                to.max(1) - 1,
            ] {
                seen ^= u32::from(self.octets.get(at).copied().unwrap_or(0));
            }
            seen ^= self.crcs.entry_near(to) ^ u32::from(self.sums.entry_near(to));
        }
        std::hint::black_box(seen);
    }
}

/// The octets after a chunk's bulk data: an FPDU's PAD (up to 3) and CRC (4).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Tail {
    bytes: [u8; 7],
    len: u8,
}

impl Tail {
    /// Appends `b` (the PAD, then the CRC: at most 7 octets in all).
    fn push(&mut self, b: &[u8]) {
        let at = usize::from(self.len);
        self.bytes[at..at + b.len()].copy_from_slice(b);
        self.len += b.len() as u8;
    }
}

impl std::ops::Deref for Tail {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// The faults of a chunk, named for capture comments (empty when there are none).
pub fn fault_names(f: &ChunkFaults) -> String {
    let mut v: Vec<String> = Vec::new();
    if f.bad_crc {
        v.push("crc".into());
    }
    if f.ulpdu_excess > 0 {
        v.push(format!("ulpdu-length +{}", f.ulpdu_excess));
    }
    if let Some(k) = f.split_at {
        v.push(format!("split at {k}"));
    }
    if f.lose {
        v.push("loss".into());
    }
    if f.duplicate {
        v.push("duplicate".into());
    }
    if f.reorder {
        v.push("reorder".into());
    }
    if let Some(n) = f.snaplen {
        v.push(format!("snaplen {n}"));
    }
    if f.mutate.is_some() {
        v.push("mutated".into());
    }
    v.join(", ")
}

/// What a chunk is on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// One FPDU: `ulpdu_head` (DDP, RDMAP and any header octets) then `payload` form the ULPDU.
    Fpdu {
        /// DDP header and what follows it before the payload.
        ulpdu_head: Head,
        /// The payload slice this segment carries.
        payload: Payload,
        /// Fill the CRC (else a zero CRC field).
        crc: bool,
        /// Marker stream position of the FPDU's first octet, when the direction has markers.
        markers_at: Option<u32>,
    },
    /// Plain stream octets.
    Stream(Payload),
}

/// One chunk of a side's send stream.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Sequence number of the first wire octet.
    pub seq: u32,
    /// Wire octets (markers included).
    pub wire_len: u32,
    /// How to produce the octets.
    pub body: Body,
    /// Label for capture comments.
    pub label: Option<Rc<str>>,
    /// Faults.
    pub faults: ChunkFaults,
    /// The chunk has been transmitted at least once.
    pub sent: bool,
    /// The kind of command it belongs to (for per-flow frame counts).
    pub owner: Option<super::FlowKind>,
    /// What sending the chunk whole needs to know of its bulk data (see [`Chunk::prepare`]).
    pub prepared: Option<Prepared>,
}

/// What sending a chunk whole needs to know of its bulk data, worked out when the chunk is
/// queued, so that sending it reads neither the data nor the tables of the block: a message's
/// chunks are queued one after the other, their data in order in the block, which the caches
/// take in much better than the scattered look-ups of frames being sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// An FPDU's CRC field (faults applied); zero for stream octets.
    pub crc: u32,
    /// The data's one's complement sum, folded, as if it started at an even offset.
    pub data_sum: u16,
}

impl Chunk {
    /// A chunk of `body` with `faults`, not yet sent, its sequence number to be set when it is
    /// queued; prepared to go out with its bulk data by reference where it can
    /// ([`Chunk::prepare`]).
    pub fn new(
        body: Body,
        label: Option<Rc<str>>,
        faults: ChunkFaults,
        owner: Option<super::FlowKind>,
        block: &Block<'_>,
    ) -> Self {
        let mut c = Chunk {
            seq: 0,
            wire_len: Chunk::wire_len_of(&body),
            body,
            label,
            faults,
            sent: false,
            owner,
            prepared: None,
        };
        c.prepared = c.prepare(block);
        c
    }

    /// The CRC and the data's sum for sending the chunk with its bulk data by reference: `None`
    /// when its data is not an unchanged slice of the block ([`Chunk::data_span`]).
    pub fn prepare(&self, block: &Block<'_>) -> Option<Prepared> {
        let (_, d) = self.data_span()?;
        let data = d.offset..d.offset + d.len;
        let data_sum = block.sums.slice_sum(block.octets, data.clone());
        let crc = match &self.body {
            Body::Stream(_) => 0,
            Body::Fpdu {
                ulpdu_head,
                payload,
                crc,
                ..
            } => {
                let ulpdu_len = ulpdu_head.len() + payload.len();
                let mut value = 0;
                if *crc {
                    let mut c = Crc::new();
                    c.push(&(ulpdu_len as u16).to_be_bytes());
                    c.push(ulpdu_head);
                    c.push(&payload.head);
                    block.crcs.append(&mut c, block.octets, data);
                    c.push(&[0u8; 3][..mpa::pad_len(ulpdu_len)]);
                    value = c.value();
                }
                if self.faults.bad_crc {
                    value ^= 0x0000_0100;
                }
                value
            }
        };
        Some(Prepared { crc, data_sum })
    }

    /// Sequence number after the chunk.
    pub fn end(&self) -> u32 {
        self.seq.wrapping_add(self.wire_len)
    }

    /// True for an FPDU.
    pub fn is_fpdu(&self) -> bool {
        matches!(self.body, Body::Fpdu { .. })
    }

    /// Wire length of a body placed at marker position `markers_at`.
    pub fn wire_len_of(body: &Body) -> u32 {
        match body {
            Body::Fpdu {
                ulpdu_head,
                payload,
                markers_at,
                ..
            } => {
                let plain = mpa::fpdu_len(ulpdu_head.len() + payload.len());
                match markers_at {
                    Some(start) => marker::wire_len(*start, plain) as u32,
                    None => plain as u32,
                }
            }
            Body::Stream(p) => p.len() as u32,
        }
    }

    /// Where the chunk's bulk data lies in its wire octets, copied as it is in the data block:
    /// its offset there and the slice of the block; `None` when it has no bulk data or when
    /// markers or a mutation may change or move its octets.
    pub fn data_span(&self) -> Option<(usize, DataRef)> {
        match &self.body {
            Body::Stream(p) => p.data.map(|d| (p.head.len(), d)),
            Body::Fpdu {
                ulpdu_head,
                payload,
                markers_at: None,
                ..
            } if self.faults.mutate.is_none() => payload
                .data
                .map(|d| (2 + ulpdu_head.len() + payload.head.len(), d)),
            Body::Fpdu { .. } => None,
        }
    }

    /// Appends the chunk's wire octets before its bulk data to `out`, when it was prepared to
    /// go out with the data by reference ([`Chunk::prepare`]), and returns where the data lies
    /// in the block, its sum, and the octets that follow it: an FPDU's PAD and CRC, nothing
    /// after stream octets. `None`, with nothing appended, for other chunks:
    /// [`Chunk::materialize`] them whole.
    pub fn write_around(
        &self,
        block: &[u8],
        out: &mut Vec<u8>,
    ) -> Option<(DataRef, Prepared, Tail)> {
        let prepared = self.prepared?;
        let (_, data) = self.data_span()?;
        let start = out.len();
        let mut tail = Tail::default();
        match &self.body {
            Body::Stream(p) => out.extend_from_slice(&p.head),
            Body::Fpdu {
                ulpdu_head,
                payload,
                ..
            } => {
                let ulpdu_len = ulpdu_head.len() + payload.len();
                let announced = (ulpdu_len as u16).saturating_add(self.faults.ulpdu_excess);
                out.extend_from_slice(&announced.to_be_bytes());
                out.extend_from_slice(ulpdu_head);
                out.extend_from_slice(&payload.head);
                tail.push(&[0u8; 3][..mpa::pad_len(ulpdu_len)]);
                tail.push(&prepared.crc.to_le_bytes());
            }
        }
        if cfg!(debug_assertions) {
            let (mut whole, mut scratch) = (Vec::new(), Vec::new());
            self.materialize(block, &mut whole, &mut scratch);
            let mut parts = out[start..].to_vec();
            parts.extend_from_slice(&block[data.offset..data.offset + data.len]);
            parts.extend_from_slice(&tail);
            debug_assert_eq!(whole, parts, "the chunk laid out around its data");
        }
        Some((data, prepared, tail))
    }

    /// Appends the chunk's wire octets to `out`. `scratch` is reused for FPDUs with markers.
    pub fn materialize(&self, block: &[u8], out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
        match &self.body {
            Body::Stream(p) => p.copy_range(block, 0..p.len(), out),
            Body::Fpdu {
                ulpdu_head,
                payload,
                crc,
                markers_at,
            } => {
                let target = if markers_at.is_some() {
                    &mut *scratch
                } else {
                    &mut *out
                };
                if markers_at.is_some() {
                    target.clear();
                }
                let start = target.len();
                let ulpdu_len = ulpdu_head.len() + payload.len();
                let total = mpa::fpdu_len(ulpdu_len);
                target.reserve(total);
                target.extend_from_slice(&(ulpdu_len as u16).to_be_bytes());
                target.extend_from_slice(&ulpdu_head[..]);
                payload.copy_range(block, 0..payload.len(), target);
                target.resize(start + total, 0);
                if let Some(seed) = self.faults.mutate {
                    super::faults::mutate_ulpdu(
                        &mut target[start + 2..start + 2 + ulpdu_len],
                        seed,
                    );
                }
                {
                    let mut f = Fpdu::new_checked(&mut target[start..start + total])
                        .expect("an FPDU of its own length");
                    if *crc {
                        f.fill_crc();
                    }
                    if self.faults.bad_crc {
                        let c = f.crc();
                        f.set_crc(c ^ 0x0000_0100);
                    }
                }
                let excess = (ulpdu_len as u16).saturating_add(self.faults.ulpdu_excess);
                if markers_at.is_none() && self.faults.ulpdu_excess > 0 {
                    target[start..start + 2].copy_from_slice(&excess.to_be_bytes());
                }
                if let Some(pos) = markers_at {
                    let w = marker::wire_len(*pos, total);
                    let at = out.len();
                    out.resize(at + w, 0);
                    let n = mpa::emit_marked(&scratch[..total], *pos, &mut out[at..], *crc)
                        .expect("FPDUs start 4-aligned and fit FPDUPTR");
                    debug_assert_eq!(n, w);
                    if self.faults.bad_crc && *crc {
                        // The CRC over the markers was just filled: flip the same bit (value
                        // bit 8, the second wire octet).
                        out[at + marker::wire_offset(*pos, total - 3)] ^= 0x01;
                    }
                    if self.faults.ulpdu_excess > 0 {
                        let [hi, lo] = excess.to_be_bytes();
                        out[at + marker::wire_offset(*pos, 0)] = hi;
                        out[at + marker::wire_offset(*pos, 1)] = lo;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oneshot_codec::etherparse::checksum::Sum16BitWords;
    use oneshot_codec::mpa::{Fpdu, MarkedFpdu};

    fn fpdu_chunk(markers_at: Option<u32>, faults: ChunkFaults) -> Chunk {
        let body = Body::Fpdu {
            ulpdu_head: Head::from(
                &[0x41, 0x43, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0][..],
            ),
            payload: Payload {
                head: vec![0xAA; 3],
                data: Some(DataRef {
                    offset: 10,
                    len: 600,
                }),
            },
            crc: true,
            markers_at,
        };
        Chunk {
            seq: 0,
            wire_len: Chunk::wire_len_of(&body),
            body,
            label: None,
            faults,
            sent: false,
            owner: None,
            prepared: None,
        }
    }

    #[test]
    fn fpdu_without_markers_has_a_good_crc_and_the_data() {
        let block: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let c = fpdu_chunk(None, ChunkFaults::default());
        let (mut out, mut s) = (Vec::new(), Vec::new());
        c.materialize(&block, &mut out, &mut s);
        assert_eq!(out.len() as u32, c.wire_len);
        let f = Fpdu::new_checked(&out[..]).unwrap();
        assert!(f.verify_crc());
        assert_eq!(&f.ulpdu()[18..21], &[0xAA; 3]);
        assert_eq!(&f.ulpdu()[21..], &block[10..610]);
    }

    #[test]
    fn fpdu_with_markers_and_faults() {
        let block = vec![7u8; 1000];
        for pos in [0u32, 100, 492, 508] {
            let c = fpdu_chunk(Some(pos), ChunkFaults::default());
            let (mut out, mut s) = (Vec::new(), Vec::new());
            c.materialize(&block, &mut out, &mut s);
            assert_eq!(out.len() as u32, c.wire_len, "pos {pos}");
            let m = MarkedFpdu::new_checked(&out, pos).unwrap();
            assert!(m.verify_crc(), "pos {pos}");
            assert!(m.first_bad_marker().is_none());

            let bad = fpdu_chunk(
                Some(pos),
                ChunkFaults {
                    bad_crc: true,
                    ..ChunkFaults::default()
                },
            );
            let mut out2 = Vec::new();
            bad.materialize(&block, &mut out2, &mut s);
            let m2 = MarkedFpdu::new_checked(&out2, pos).unwrap();
            assert!(!m2.verify_crc(), "pos {pos}");
            assert_eq!(m2.crc() ^ m.crc(), 0x100);
        }
    }

    #[test]
    fn ulpdu_excess_announces_more_than_there_is() {
        let c = fpdu_chunk(
            None,
            ChunkFaults {
                ulpdu_excess: 100,
                ..ChunkFaults::default()
            },
        );
        let (mut out, mut s) = (Vec::new(), Vec::new());
        c.materialize(&[0u8; 1000], &mut out, &mut s);
        assert_eq!(u16::from_be_bytes([out[0], out[1]]), 621 + 100);
        assert!(Fpdu::new_checked(&out[..]).is_err());
    }

    /// Every kind of chunk whose data can go out by reference, at every alignment of its data
    /// in the block and with the faults that change its CRC or length: the octets around the
    /// data, the data and the tail are the chunk's wire octets; the data's sum is etherparse's.
    #[test]
    fn chunks_laid_out_around_their_data_are_their_wire_octets() {
        let mut octets = vec![0u8; 5000];
        crate::rng::Rng::new(3, 1).fill(&mut octets);
        let (crcs, sums) = (BlockCrcs::new(&octets), BlockSums::new(&octets));
        let block = Block {
            octets: &octets,
            crcs: &crcs,
            sums: &sums,
        };
        let faults = [
            ChunkFaults::default(),
            ChunkFaults {
                bad_crc: true,
                ..ChunkFaults::default()
            },
            ChunkFaults {
                ulpdu_excess: 9,
                ..ChunkFaults::default()
            },
        ];
        let mut checked = 0;
        for offset in (0..140).chain([1000, 3333]) {
            for len in [0, 1, 2, 3, 63, 64, 65, 130, 1440] {
                let data = Some(DataRef { offset, len });
                for head in [Vec::new(), vec![0xAA; 3], vec![0x55; 48]] {
                    let mut bodies = vec![Body::Stream(Payload {
                        head: head.clone(),
                        data,
                    })];
                    for crc in [true, false] {
                        bodies.push(Body::Fpdu {
                            ulpdu_head: Head::from(&[0x81, 0x42, 0, 0, 1, 0, 0, 0][..]),
                            payload: Payload {
                                head: head.clone(),
                                data,
                            },
                            crc,
                            markers_at: None,
                        });
                    }
                    for (body, f) in bodies
                        .into_iter()
                        .flat_map(|b| faults.map(|f| (b.clone(), f)))
                    {
                        let c = Chunk::new(body, None, f, None, &block);
                        let (mut want, mut scratch) = (Vec::new(), Vec::new());
                        c.materialize(&octets, &mut want, &mut scratch);
                        let mut got = Vec::new();
                        let (d, prepared, tail) = c
                            .write_around(&octets, &mut got)
                            .expect("plain data goes by reference");
                        assert_eq!(d, DataRef { offset, len });
                        let slice = &octets[offset..offset + len];
                        assert_eq!(
                            prepared.data_sum,
                            !Sum16BitWords::new().add_slice(slice).ones_complement()
                        );
                        got.extend_from_slice(slice);
                        got.extend_from_slice(&tail);
                        assert_eq!(got, want, "{:?}", c.body);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 142 * 9 * 3 * 3 * 3);
    }

    /// Markers, a mutation or no bulk data: the chunk is materialized whole instead.
    #[test]
    fn chunks_that_change_their_data_are_not_laid_out_around_it() {
        let octets = vec![7u8; 1000];
        let (crcs, sums) = (BlockCrcs::new(&octets), BlockSums::new(&octets));
        let block = Block {
            octets: &octets,
            crcs: &crcs,
            sums: &sums,
        };
        let mutated = ChunkFaults {
            mutate: Some(5),
            ..ChunkFaults::default()
        };
        let no_data = Body::Stream(Payload {
            head: vec![1, 2, 3],
            data: None,
        });
        for c in [
            Chunk::new(
                fpdu_chunk(Some(8), ChunkFaults::default()).body,
                None,
                ChunkFaults::default(),
                None,
                &block,
            ),
            Chunk::new(fpdu_chunk(None, mutated).body, None, mutated, None, &block),
            Chunk::new(no_data, None, ChunkFaults::default(), None, &block),
        ] {
            assert!(c.prepared.is_none());
            let mut out = Vec::new();
            assert!(c.write_around(&octets, &mut out).is_none());
            assert!(out.is_empty());
        }
    }
}
