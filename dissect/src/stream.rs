//! TCP conversations and per-direction reassembly by sequence number: in-order data goes to
//! the consumer at once; out-of-order segments wait (within a memory budget); retransmitted
//! and overlapping octets are dropped; a gap that will not fill is skipped, and the consumer is
//! told so it can resynchronise.
//!
//! A direction can also keep a ledger of which frame carried which in-order octets (the
//! [`Piece`]s of PDUs still being framed), so the frame that completes a PDU can list the
//! segments it was reassembled from, as tshark's `tcp.segments` does.

use std::collections::{BTreeMap, VecDeque};

use foldhash::HashMap;
use std::net::IpAddr;

/// Sequence-number arithmetic: `a - b` as a signed distance.
pub fn seq_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// A conversation's key: both ends, in a canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvKey {
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
}

impl ConvKey {
    /// The key of a segment from `src` to `dst`, and the direction it goes (0: from the lower
    /// end, 1: from the higher one).
    pub fn of(src: (IpAddr, u16), dst: (IpAddr, u16)) -> (ConvKey, usize) {
        if src <= dst {
            (ConvKey { lo: src, hi: dst }, 0)
        } else {
            (ConvKey { lo: dst, hi: src }, 1)
        }
    }
}

/// Most pieces a direction's ledger holds; older ones are forgotten first (a PDU reassembled
/// from more segments than this lists its last ones only).
pub const MAX_PIECES: usize = 4096;

/// In-order octets `seq..seq + len` of a direction, carried by frame `frame`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Sequence number of the first octet.
    pub seq: u32,
    /// Octets.
    pub len: u32,
    /// The frame that carried them.
    pub frame: u64,
}

/// What happened to a segment's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Arrival {
    /// Octets that were new and in order (handed on now).
    pub fresh: usize,
    /// The new octets of this very segment handed on now: sequence number of the first one and
    /// how many (retransmitted octets and octets that wait for a hole to fill are not counted).
    pub own: Option<(u32, usize)>,
    /// The segment started beyond the next expected octet: octets before it are missing.
    pub out_of_order: bool,
    /// Every octet had been seen before.
    pub duplicate: bool,
    /// Some octets had been seen before.
    pub overlap: bool,
    /// Waiting segments were handed on after this one filled the hole.
    pub filled_hole: bool,
    /// The stream skipped missing octets (gap or memory budget): the consumer must resync.
    pub skipped: Option<u64>,
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct Direction {
    /// Sequence number of the first data octet (the ISN + 1 after a SYN).
    pub base: Option<u32>,
    /// The SYN was seen.
    pub syn_seen: bool,
    /// The FIN was seen.
    pub fin_seen: bool,
    /// Next expected sequence number.
    pub next: Option<u32>,
    /// Segments that arrived early, by sequence number, with the frame that carried them.
    pending: BTreeMap<u32, (u64, Vec<u8>)>,
    pending_bytes: usize,
    /// Window scale from this end's SYN (None: not seen).
    pub wscale: Option<u8>,
    /// Highest sequence number sent (for retransmission detection).
    pub highest: Option<u32>,
    /// Which frame carried which in-order octets not yet consumed (when `track` is on).
    ledger: VecDeque<Piece>,
    /// Record pieces in the ledger.
    pub track: bool,
}

impl Direction {
    /// Octets waiting for a hole to fill.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Registers a SYN with sequence number `seq`.
    pub fn syn(&mut self, seq: u32) {
        self.syn_seen = true;
        let b = seq.wrapping_add(1);
        self.base = Some(b);
        self.next = Some(b);
    }

    /// Feeds a data segment carried by frame `frame`. In-order octets (this segment's, and any
    /// waiting segments it unlocks) go to `deliver` in order, each call with a slice and the
    /// sequence number of its first octet. `budget` is the most octets this direction may hold
    /// back.
    #[inline]
    pub fn data(
        &mut self,
        seq: u32,
        payload: &[u8],
        frame: u64,
        budget: usize,
        deliver: &mut dyn FnMut(u32, &[u8]),
    ) -> Arrival {
        if payload.is_empty() {
            return Arrival::default();
        }
        self.octets(seq, payload, frame, budget, deliver)
    }

    /// `highest` moved on to `end` unless it is already beyond it.
    #[inline(always)]
    fn raise_highest(&mut self, end: u32) {
        self.highest = Some(match self.highest {
            Some(h) if seq_diff(h, end) > 0 => h,
            _ => end,
        });
    }

    /// Whether a segment with data from `seq` is the next in order with nothing waiting and no
    /// piece in the ledger: [`Direction::data`] would hand its octets on at once, whole, and
    /// nothing else. The caller may then hand them on itself and call [`Direction::advance`].
    #[inline]
    pub fn in_order(&self, seq: u32) -> bool {
        self.next == Some(seq) && self.pending.is_empty() && self.ledger.is_empty()
    }

    /// [`Direction::data`] of a segment of `len` octets from `seq` that [`Direction::in_order`]
    /// accepted, whose octets the caller hands on itself. The ledger is left to
    /// [`Direction::settle`].
    #[inline]
    pub fn advance(&mut self, seq: u32, len: usize) -> Arrival {
        let end = seq.wrapping_add(len as u32);
        self.raise_highest(end);
        self.next = Some(end);
        Arrival {
            fresh: len,
            own: Some((seq, len)),
            ..Arrival::default()
        }
    }

    /// The ledger after [`Direction::advance`] of `len` octets from `seq` carried by `frame`,
    /// when the consumer framed PDUs ending at `last_end` (the last one's end): as recording the
    /// piece and then [`Direction::consume`]`(last_end)`, without recording a piece that would
    /// be forgotten at once.
    #[inline]
    pub fn settle(&mut self, seq: u32, len: usize, frame: u64, last_end: Option<u32>) {
        let end = seq.wrapping_add(len as u32);
        if last_end.is_some_and(|e| seq_diff(e, end) >= 0) {
            return;
        }
        self.record(seq, len, frame);
        if let Some(e) = last_end {
            self.consume(e);
        }
    }

    /// [`Direction::data`] of a segment with data.
    #[inline(never)]
    fn octets(
        &mut self,
        seq: u32,
        payload: &[u8],
        frame: u64,
        budget: usize,
        deliver: &mut dyn FnMut(u32, &[u8]),
    ) -> Arrival {
        let mut a = Arrival::default();
        let next = *self.next.get_or_insert(seq);
        if self.base.is_none() {
            self.base = Some(seq);
        }
        self.raise_highest(seq.wrapping_add(payload.len() as u32));
        let d = seq_diff(seq, next);
        if d > 0 {
            self.early(seq, payload, frame, budget, deliver, &mut a);
            return a;
        }
        let skip = (-d) as usize;
        if skip >= payload.len() {
            a.duplicate = true;
            return a;
        }
        a.overlap = skip > 0;
        let fresh = &payload[skip..];
        self.record(next, fresh.len(), frame);
        deliver(next, fresh);
        a.fresh = fresh.len();
        a.own = Some((next, fresh.len()));
        self.next = Some(next.wrapping_add(fresh.len() as u32));
        if !self.pending.is_empty() {
            self.drain(deliver, &mut a);
        }
        a
    }

    /// A segment beyond the next expected octet: it waits for the hole to fill (or for the
    /// budget to run out, which skips the hole).
    #[cold]
    #[inline(never)]
    fn early(
        &mut self,
        seq: u32,
        payload: &[u8],
        frame: u64,
        budget: usize,
        deliver: &mut dyn FnMut(u32, &[u8]),
        a: &mut Arrival,
    ) {
        a.out_of_order = true;
        if !self.pending.contains_key(&seq) {
            self.pending_bytes += payload.len();
            self.pending.insert(seq, (frame, payload.to_vec()));
        }
        if self.pending_bytes > budget {
            a.skipped = Some(self.skip_gap(deliver, a));
        }
    }

    /// Hands on waiting segments that are now in order.
    #[inline(never)]
    fn drain(&mut self, deliver: &mut dyn FnMut(u32, &[u8]), a: &mut Arrival) {
        loop {
            let Some(next) = self.next else { return };
            let Some((&seq, _)) = self.pending.iter().next() else {
                return;
            };
            let d = seq_diff(seq, next);
            if d > 0 {
                return;
            }
            let Some((frame, data)) = self.pending.remove(&seq) else {
                return;
            };
            self.pending_bytes -= data.len();
            let skip = (-d) as usize;
            if skip < data.len() {
                self.record(next, data.len() - skip, frame);
                deliver(next, &data[skip..]);
                self.next = Some(next.wrapping_add((data.len() - skip) as u32));
                a.filled_hole = true;
                a.fresh += data.len() - skip;
            }
        }
    }

    /// Gives up on the hole before the first waiting segment: skips to it and hands on what
    /// follows. Returns how many octets were skipped.
    fn skip_gap(&mut self, deliver: &mut dyn FnMut(u32, &[u8]), a: &mut Arrival) -> u64 {
        let Some((&first, _)) = self.pending.iter().next() else {
            return 0;
        };
        let next = self.next.unwrap_or(first);
        let skipped = seq_diff(first, next).max(0) as u64;
        self.next = Some(first);
        self.drain(deliver, a);
        skipped
    }

    /// Notes in the ledger that `frame` carried `len` in-order octets from `seq`.
    fn record(&mut self, seq: u32, len: usize, frame: u64) {
        if !self.track || len == 0 {
            return;
        }
        if self.ledger.len() == MAX_PIECES {
            self.ledger.pop_front();
        }
        self.ledger.push_back(Piece {
            seq,
            len: len as u32,
            frame,
        });
    }

    /// The recorded pieces overlapping `start..end`, clipped to it, in stream order.
    pub fn pieces(&self, start: u32, end: u32) -> impl Iterator<Item = Piece> + '_ {
        self.ledger.iter().filter_map(move |p| {
            let p_end = p.seq.wrapping_add(p.len);
            let s = if seq_diff(p.seq, start) > 0 {
                p.seq
            } else {
                start
            };
            let e = if seq_diff(p_end, end) < 0 { p_end } else { end };
            (seq_diff(e, s) > 0).then(|| Piece {
                seq: s,
                len: e.wrapping_sub(s),
                frame: p.frame,
            })
        })
    }

    /// Forgets the recorded octets before `end` (a PDU ending there was framed).
    pub fn consume(&mut self, end: u32) {
        while let Some(p) = self.ledger.front_mut() {
            let p_end = p.seq.wrapping_add(p.len);
            if seq_diff(p_end, end) <= 0 {
                self.ledger.pop_front();
            } else {
                if seq_diff(end, p.seq) > 0 {
                    p.len = p_end.wrapping_sub(end);
                    p.seq = end;
                }
                return;
            }
        }
    }

    /// Forgets every recorded piece.
    pub fn forget_pieces(&mut self) {
        self.ledger.clear();
    }

    /// At the end of the capture: skip every remaining hole so waiting data is handed on.
    pub fn flush(&mut self, deliver: &mut dyn FnMut(u32, &[u8])) -> u64 {
        let mut a = Arrival::default();
        let mut skipped = 0;
        while !self.pending.is_empty() {
            skipped += self.skip_gap(deliver, &mut a);
        }
        skipped
    }
}

/// Conversation numbering in order of first appearance (tshark's `tcp.stream`).
#[derive(Debug, Default)]
pub struct ConvTable {
    index: HashMap<ConvKey, usize>,
    count: usize,
    /// The last key looked up and its index: most packets belong to the previous one's
    /// conversation, and comparing keys is cheaper than hashing one.
    last: Option<(ConvKey, usize)>,
    /// `last` again when both its ends are IPv4, packed by [`pack_v4`]: one integer compare
    /// per direction instead of two addresses and two ports.
    last_v4: Option<(u128, usize)>,
}

/// The ends of an IPv4 key as one integer: `lo`'s address and port above `hi`'s.
#[inline]
fn pack_v4(lo: (std::net::Ipv4Addr, u16), hi: (std::net::Ipv4Addr, u16)) -> u128 {
    let end = |(a, p): (std::net::Ipv4Addr, u16)| (u64::from(u32::from(a)) << 16) | u64::from(p);
    (u128::from(end(lo)) << 48) | u128::from(end(hi))
}

impl ConvTable {
    /// The direction a segment from `src` to `dst` goes (as [`ConvKey::of`] says), its
    /// conversation's index and whether that is new. A segment of the last conversation looked
    /// up, either way, is found by comparing its ends with that key's, without putting them in
    /// order first (IPv4 ends packed into one integer).
    #[inline]
    pub fn find(&mut self, src: (IpAddr, u16), dst: (IpAddr, u16)) -> (usize, usize, bool) {
        // The key's ends are in order (`lo <= hi`), so `src` and `dst` matching them as they
        // are is direction 0 (also when both ends are the same), swapped direction 1.
        if let (Some((k, i)), IpAddr::V4(s), IpAddr::V4(d)) = (self.last_v4, src.0, dst.0) {
            if k == pack_v4((s, src.1), (d, dst.1)) {
                return (0, i, false);
            }
            if k == pack_v4((d, dst.1), (s, src.1)) {
                return (1, i, false);
            }
        }
        self.find_other(src, dst)
    }

    /// [`ConvTable::find`] of IPv6 ends, or of another conversation than the last one.
    #[inline(never)]
    fn find_other(&mut self, src: (IpAddr, u16), dst: (IpAddr, u16)) -> (usize, usize, bool) {
        if let Some((k, i)) = self.last {
            if k.lo == src && k.hi == dst {
                return (0, i, false);
            }
            if k.lo == dst && k.hi == src {
                return (1, i, false);
            }
        }
        let (key, dir) = ConvKey::of(src, dst);
        let (i, new) = self.look_up(key);
        (dir, i, new)
    }

    /// The conversation index of `key`, and whether it is new.
    pub fn get(&mut self, key: ConvKey) -> (usize, bool) {
        if let Some((k, i)) = self.last {
            if k == key {
                return (i, false);
            }
        }
        self.look_up(key)
    }

    /// [`ConvTable::get`] of a key other than the last one.
    #[inline(never)]
    fn look_up(&mut self, key: ConvKey) -> (usize, bool) {
        let n = self.count;
        let mut new = false;
        let i = *self.index.entry(key).or_insert_with(|| {
            new = true;
            n
        });
        if new {
            self.count += 1;
        }
        self.set_last(key, i);
        (i, new)
    }

    /// Remembers `key` as the last one looked up.
    fn set_last(&mut self, key: ConvKey, i: usize) {
        self.last = Some((key, i));
        self.last_v4 = match (key.lo.0, key.hi.0) {
            (IpAddr::V4(l), IpAddr::V4(h)) => Some((pack_v4((l, key.lo.1), (h, key.hi.1)), i)),
            _ => None,
        };
    }

    /// A new conversation on the same ports as an earlier one (a SYN with another initial
    /// sequence number): the next index.
    pub fn renew(&mut self, key: ConvKey) -> usize {
        let i = self.count;
        self.count += 1;
        self.index.insert(key, i);
        self.set_last(key, i);
        i
    }

    /// Conversations seen.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True before the first conversation.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        d: &mut Direction,
        seq: u32,
        p: &[u8],
        budget: usize,
    ) -> (Vec<(u32, Vec<u8>)>, Arrival) {
        let mut got = Vec::new();
        let a = d.data(seq, p, u64::from(seq), budget, &mut |s, b| {
            got.push((s, b.to_vec()))
        });
        (got, a)
    }

    #[test]
    fn in_order_out_of_order_duplicate_overlap() {
        let mut d = Direction::default();
        d.syn(99);
        let (g, _) = collect(&mut d, 100, b"abc", 1000);
        assert_eq!(g, vec![(100, b"abc".to_vec())]);
        let (g, a) = collect(&mut d, 106, b"ghi", 1000);
        assert!(g.is_empty() && a.out_of_order);
        let (g, a) = collect(&mut d, 102, b"cdef", 1000);
        assert!(a.overlap && a.filled_hole);
        assert_eq!(g, vec![(103, b"def".to_vec()), (106, b"ghi".to_vec())]);
        let (g, a) = collect(&mut d, 100, b"abc", 1000);
        assert!(g.is_empty() && a.duplicate);
        assert_eq!(d.next, Some(109));
    }

    #[test]
    fn a_gap_beyond_the_budget_is_skipped() {
        let mut d = Direction::default();
        d.syn(0);
        collect(&mut d, 1, b"aaaa", 10);
        let (g, a) = collect(&mut d, 20, &[1; 8], 10);
        assert!(g.is_empty() && a.skipped.is_none());
        let (g, a) = collect(&mut d, 28, &[2; 8], 10);
        assert_eq!(a.skipped, Some(15));
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].0, 20);
        assert_eq!(d.pending_bytes(), 0);
    }

    #[test]
    fn wraparound() {
        let mut d = Direction::default();
        d.syn(u32::MAX - 2);
        let (g, _) = collect(&mut d, u32::MAX - 1, b"ab", 100);
        assert_eq!(g.len(), 1);
        let (g, _) = collect(&mut d, 0, b"cd", 100);
        assert_eq!(g, vec![(0, b"cd".to_vec())]);
    }

    #[test]
    fn the_ledger_names_the_frames_of_each_octet() {
        let mut d = Direction {
            track: true,
            ..Direction::default()
        };
        d.syn(99);
        collect(&mut d, 100, b"abc", 1000);
        // 106.. waits for the hole; 103.. fills it: both are recorded, each with its frame.
        d.data(106, b"ghi", 7, 1000, &mut |_, _| {});
        d.data(103, b"def", 8, 1000, &mut |_, _| {});
        let all: Vec<Piece> = d.pieces(100, 109).collect();
        assert_eq!(
            all,
            vec![
                Piece {
                    seq: 100,
                    len: 3,
                    frame: 100
                },
                Piece {
                    seq: 103,
                    len: 3,
                    frame: 8
                },
                Piece {
                    seq: 106,
                    len: 3,
                    frame: 7
                },
            ]
        );
        // Clipped to the range asked for.
        let mid: Vec<Piece> = d.pieces(101, 104).collect();
        assert_eq!(
            mid,
            vec![
                Piece {
                    seq: 101,
                    len: 2,
                    frame: 100
                },
                Piece {
                    seq: 103,
                    len: 1,
                    frame: 8
                },
            ]
        );
        d.consume(104);
        let left: Vec<(u32, u32)> = d.pieces(0, 200).map(|p| (p.seq, p.len)).collect();
        assert_eq!(left, vec![(104, 2), (106, 3)]);
        d.consume(109);
        assert_eq!(d.pieces(0, 200).count(), 0);
    }

    #[test]
    fn the_ledger_is_bounded_and_off_by_default() {
        let mut d = Direction::default();
        d.syn(0);
        collect(&mut d, 1, b"x", 10);
        assert_eq!(d.pieces(0, 100).count(), 0);
        d.track = true;
        for i in 0..MAX_PIECES as u32 + 10 {
            d.data(2 + i, b"y", u64::from(i), 10, &mut |_, _| {});
        }
        assert_eq!(d.pieces(0, u32::MAX / 2).count(), MAX_PIECES);
        assert_eq!(d.pieces(0, u32::MAX / 2).next().map(|p| p.frame), Some(10));
    }

    #[test]
    fn a_reused_pair_of_ports_gets_the_next_index() {
        let a = ("10.0.0.1".parse().unwrap(), 1);
        let b = ("10.0.0.2".parse().unwrap(), 2);
        let c = ("10.0.0.3".parse().unwrap(), 3);
        let mut t = ConvTable::default();
        let (k, _) = ConvKey::of(a, b);
        assert_eq!(t.get(k), (0, true));
        assert_eq!(t.get(ConvKey::of(a, c).0), (1, true));
        assert_eq!(t.renew(k), 2);
        assert_eq!(t.get(k), (2, false));
        assert_eq!(t.len(), 3);
    }

    /// `find` gives the direction, index and newness that ordering the ends and looking the
    /// key up give, for segments both ways, between conversations (IPv4 ones that differ in
    /// one address or one port only, and IPv6), after a reuse, and for a segment whose two
    /// ends are the same.
    #[test]
    fn find_agrees_with_ordering_the_ends() {
        let e = |ip: &str, port: u16| (ip.parse::<IpAddr>().unwrap(), port);
        let a = e("10.0.0.1", 49152);
        let b = e("10.0.0.2", 3260);
        let c = e("fe80::1", 3260);
        let d = e("10.0.0.1", 3260);
        let f = e("10.0.0.2", 49152);
        let steps = [
            (f, d),
            (d, f),
            (a, b),
            (f, d),
            (a, b),
            (b, a),
            (b, a),
            (a, b),
            (c, a),
            (a, c),
            (b, a),
            (d, d),
            (d, d),
            (a, d),
            (d, a),
            (a, b),
        ];
        let mut fast = ConvTable::default();
        let mut slow = ConvTable::default();
        for (k, &(src, dst)) in steps.iter().enumerate() {
            let (key, dir) = ConvKey::of(src, dst);
            let (i, new) = slow.get(key);
            assert_eq!(fast.find(src, dst), (dir, i, new), "step {k}");
            if k == 10 {
                // Ports reused: both tables hand out the next index.
                assert_eq!(fast.renew(key), slow.renew(key));
            }
        }
        assert_eq!(fast.len(), 6);
        assert_eq!(fast.find(b, a).0, 1);
        assert_eq!(fast.find(a, b), (0, 3, false));
    }

    #[test]
    fn flush_hands_on_what_waits() {
        let mut d = Direction::default();
        d.syn(0);
        collect(&mut d, 5, b"xy", 100);
        let mut got = Vec::new();
        let skipped = d.flush(&mut |s, b| got.push((s, b.to_vec())));
        assert_eq!(skipped, 4);
        assert_eq!(got, vec![(5, b"xy".to_vec())]);
    }
}
