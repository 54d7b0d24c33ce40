//! TCP conversations and per-direction reassembly by sequence number: in-order data goes to
//! the consumer at once; out-of-order segments wait (within a memory budget); retransmitted
//! and overlapping octets are dropped; a gap that will not fill is skipped, and the consumer is
//! told so it can resynchronise.

use std::collections::{BTreeMap, HashMap};
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

/// What happened to a segment's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Arrival {
    /// Octets that were new and in order (handed on now).
    pub fresh: usize,
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
    /// Segments that arrived early, by sequence number.
    pending: BTreeMap<u32, Vec<u8>>,
    pending_bytes: usize,
    /// Window scale from this end's SYN (None: not seen).
    pub wscale: Option<u8>,
    /// Highest sequence number sent (for retransmission detection).
    pub highest: Option<u32>,
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

    /// Feeds a data segment. In-order octets (this segment's, and any waiting segments it
    /// unlocks) go to `deliver` in order, each call with a slice and the sequence number of its
    /// first octet. `budget` is the most octets this direction may hold back.
    pub fn data(
        &mut self,
        seq: u32,
        payload: &[u8],
        budget: usize,
        deliver: &mut dyn FnMut(u32, &[u8]),
    ) -> Arrival {
        let mut a = Arrival::default();
        if payload.is_empty() {
            return a;
        }
        let next = *self.next.get_or_insert(seq);
        if self.base.is_none() {
            self.base = Some(seq);
        }
        let end = seq.wrapping_add(payload.len() as u32);
        self.highest = Some(match self.highest {
            Some(h) if seq_diff(h, end) > 0 => h,
            _ => end,
        });
        let d = seq_diff(seq, next);
        if d > 0 {
            a.out_of_order = true;
            if !self.pending.contains_key(&seq) {
                self.pending_bytes += payload.len();
                self.pending.insert(seq, payload.to_vec());
            }
            if self.pending_bytes > budget {
                a.skipped = Some(self.skip_gap(deliver, &mut a));
            }
            return a;
        }
        let skip = (-d) as usize;
        if skip >= payload.len() {
            a.duplicate = true;
            return a;
        }
        a.overlap = skip > 0;
        let fresh = &payload[skip..];
        deliver(next, fresh);
        a.fresh = fresh.len();
        self.next = Some(next.wrapping_add(fresh.len() as u32));
        self.drain(deliver, &mut a);
        a
    }

    /// Hands on waiting segments that are now in order.
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
            let data = self.pending.remove(&seq).expect("present");
            self.pending_bytes -= data.len();
            let skip = (-d) as usize;
            if skip < data.len() {
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
}

impl ConvTable {
    /// The conversation index of `key`, and whether it is new.
    pub fn get(&mut self, key: ConvKey) -> (usize, bool) {
        let n = self.index.len();
        let mut new = false;
        let i = *self.index.entry(key).or_insert_with(|| {
            new = true;
            n
        });
        (i, new)
    }

    /// Conversations seen.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True before the first conversation.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
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
        let a = d.data(seq, p, budget, &mut |s, b| got.push((s, b.to_vec())));
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
