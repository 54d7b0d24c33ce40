//! One end of a TCP connection: what it has queued to send (as [`Chunk`]s laid out in sequence
//! space), what it has received from its peer, and its ACK obligations.

use std::cell::Cell;
use std::collections::VecDeque;

use super::chunk::{Body, Chunk};

/// Upper-layer reactions waiting for data to arrive, identified by the engine.
pub type ReactionId = u64;

/// One end of a connection.
#[derive(Debug, Default)]
pub struct End {
    /// Initial sequence number.
    pub iss: u32,
    /// Next sequence number to lay out (end of the queue).
    pub enq_seq: u32,
    /// Next sequence number to transmit.
    pub snd_nxt: u32,
    /// Oldest unacknowledged sequence number.
    pub snd_una: u32,
    /// Send queue, in sequence order, from `snd_una` (chunks are dropped once acknowledged).
    /// Only [`End::push`] and [`End::acked`] add and drop chunks.
    pub queue: VecDeque<Chunk>,
    /// The sequence number after each chunk of `queue`: a compact copy to search.
    chunk_ends: VecDeque<u32>,
    /// The index [`End::chunk_index`] found last (segments mostly follow each other).
    last_index: Cell<usize>,
    /// MSS for what this end sends (the smaller of both announced).
    pub mss: u32,
    /// The peer's receive window.
    pub peer_window: u32,
    /// SYN to send.
    pub syn_pending: bool,
    /// SYN sent (and acknowledged when `snd_una` passed it).
    pub syn_sent: bool,
    /// FIN queued after the data.
    pub fin_queued: bool,
    /// FIN sent.
    pub fin_sent: bool,
    /// RST to send (and nothing else afterwards).
    pub rst_pending: bool,
    /// The connection is over for this end.
    pub closed: bool,

    /// The peer's initial sequence number is known.
    pub synced: bool,
    /// Next sequence number expected from the peer.
    pub rcv_nxt: u32,
    /// Out-of-order ranges received from the peer.
    pub ooo: Vec<(u32, u32)>,
    /// Data segments received and not yet acknowledged.
    pub unacked: u32,
    /// An ACK should go out as soon as the link allows.
    pub ack_now: bool,
    /// Generation of the delayed-ACK timer (an older timer event is stale).
    pub ack_timer_gen: u64,
    /// A delayed-ACK timer is armed.
    pub ack_timer_armed: bool,
    /// When the last armed timer expires, and its place in the event order.
    pub ack_timer_key: (u64, u64),
    /// A timer event of this end is in the event queue (at most one is).
    pub ack_timer_queued: bool,
    /// Reactions to fire when `rcv_nxt` reaches a sequence number (data from the peer).
    pub deliveries: VecDeque<(u32, ReactionId)>,
    /// Peer's FIN received.
    pub fin_received: bool,

    /// Marker origin for what this end sends (sequence number of its first FPDU octet).
    pub marker_origin: Option<u32>,
    /// Next MSN per untagged queue for messages this end sends (QN 0..=3).
    pub msn: [u32; 4],
    /// Duplicate ACKs received in a row (three trigger a fast retransmission).
    pub dupacks: u32,
}

/// Sequence-number comparison with wrap-around: `a < b`.
pub fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` with wrap-around.
pub fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

impl End {
    /// A fresh end with initial sequence number `iss`.
    pub fn new(iss: u32, mss: u32, peer_window: u32) -> Self {
        End {
            iss,
            enq_seq: iss.wrapping_add(1),
            snd_nxt: iss,
            snd_una: iss,
            mss,
            peer_window,
            msn: [1; 4],
            ..End::default()
        }
    }

    /// Appends a chunk at the end of the stream; returns the sequence number after it.
    pub fn push(&mut self, mut chunk: Chunk) -> u32 {
        chunk.seq = self.enq_seq;
        self.enq_seq = chunk.end();
        self.queue.push_back(chunk);
        self.chunk_ends.push_back(self.enq_seq);
        self.enq_seq
    }

    /// Octets transmitted and not yet acknowledged.
    pub fn in_flight(&self) -> u32 {
        self.snd_nxt.wrapping_sub(self.snd_una)
    }

    /// Unsent data is waiting.
    pub fn has_data(&self) -> bool {
        seq_lt(self.snd_nxt, self.enq_seq)
    }

    /// Index in the queue of the first chunk that ends after `seq` (the queue's length when
    /// none does): chunks lie in sequence order, back to back.
    pub fn chunk_index(&self, seq: u32) -> usize {
        let ends = &self.chunk_ends;
        // The chunk found last, or the one after it?
        let last = self.last_index.get();
        for i in [last, last + 1] {
            let after_previous = i == 0 || ends.get(i - 1).is_some_and(|&e| seq_le(e, seq));
            if after_previous && ends.get(i).is_some_and(|&e| seq_lt(seq, e)) {
                self.last_index.set(i);
                return i;
            }
        }
        let i = ends.partition_point(|&end| seq_le(end, seq));
        self.last_index.set(i);
        i
    }

    /// Stream position of the next octet to lay out, for markers.
    pub fn marker_position(&self) -> Option<u32> {
        self.marker_origin.map(|o| self.enq_seq.wrapping_sub(o))
    }

    /// Chooses the next data segment from `snd_nxt`: whole FPDUs while they fit in the MSS and
    /// the window, stream octets up to the MSS, a forced split where a chunk asks for one.
    /// Returns the sequence range, or `None` when nothing may be sent now.
    pub fn next_segment(&self) -> Option<(u32, u32)> {
        if !self.has_data() {
            return None;
        }
        let window_left = self.peer_window.saturating_sub(self.in_flight());
        let limit = self.mss.min(window_left);
        if limit == 0 {
            return None;
        }
        let start = self.snd_nxt;
        let mut end = start;
        for c in self.queue.range(self.chunk_index(start)..) {
            let room = limit - end.wrapping_sub(start);
            if room == 0 {
                break;
            }
            let offset_in_chunk = end.wrapping_sub(c.seq);
            let left_in_chunk = c.wire_len - offset_in_chunk;
            let split_end = c
                .faults
                .split_at
                .filter(|&k| k > offset_in_chunk && k < c.wire_len)
                .map(|k| k - offset_in_chunk);
            let want = split_end.unwrap_or(left_in_chunk);
            match &c.body {
                Body::Fpdu { .. } if offset_in_chunk == 0 && split_end.is_none() => {
                    if want <= room {
                        end = end.wrapping_add(want);
                    } else if end == start {
                        // An FPDU larger than the segment: cut it (receivers must cope).
                        end = end.wrapping_add(room);
                        break;
                    } else {
                        break;
                    }
                }
                _ => {
                    let take = want.min(room);
                    end = end.wrapping_add(take);
                    if split_end.is_some() || take < want {
                        break;
                    }
                }
            }
        }
        (end != start).then_some((start, end))
    }

    /// Marks the acknowledgment of everything before `ack`; drops acknowledged chunks.
    pub fn acked(&mut self, ack: u32) {
        if seq_lt(self.snd_una, ack) && seq_le(ack, self.snd_nxt.max_seq(self.enq_seq)) {
            self.snd_una = ack;
        }
        while self
            .chunk_ends
            .front()
            .is_some_and(|&end| seq_le(end, self.snd_una))
        {
            self.queue.pop_front();
            self.chunk_ends.pop_front();
            self.last_index.set(self.last_index.get().saturating_sub(1));
        }
    }

    /// Records `seq..end` from the peer. Returns true when it was in order (advanced
    /// `rcv_nxt`), false when it was out of order or a duplicate.
    pub fn receive(&mut self, seq: u32, end: u32) -> bool {
        if seq_le(end, self.rcv_nxt) {
            return false; // duplicate
        }
        if seq_lt(self.rcv_nxt, seq) {
            self.ooo.push((seq, end));
            return false;
        }
        self.rcv_nxt = end;
        loop {
            let mut advanced = false;
            self.ooo.retain(|&(s, e)| {
                if seq_le(s, self.rcv_nxt) {
                    if seq_lt(self.rcv_nxt, e) {
                        self.rcv_nxt = e;
                        advanced = true;
                    }
                    false
                } else {
                    true
                }
            });
            if !advanced {
                break;
            }
        }
        true
    }
}

/// `max` in sequence space.
trait MaxSeq {
    fn max_seq(self, other: u32) -> u32;
}

impl MaxSeq for u32 {
    fn max_seq(self, other: u32) -> u32 {
        if seq_lt(self, other) { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::chunk::{ChunkFaults, Payload};

    fn stream(len: usize) -> Chunk {
        Chunk {
            seq: 0,
            wire_len: len as u32,
            body: Body::Stream(Payload {
                head: vec![0; len],
                data: None,
            }),
            label: None,
            faults: ChunkFaults::default(),
            sent: false,
            owner: None,
            prepared: None,
        }
    }

    fn fpdu(len: u32) -> Chunk {
        Chunk {
            wire_len: len,
            body: Body::Fpdu {
                ulpdu_head: crate::engine::chunk::Head::zeroed(0),
                payload: Payload::default(),
                crc: true,
                markers_at: None,
            },
            ..stream(0)
        }
    }

    #[test]
    fn whole_fpdus_pack_until_the_mss() {
        let mut e = End::new(u32::MAX - 10, 1000, 65535);
        e.snd_nxt = e.enq_seq;
        e.snd_una = e.enq_seq;
        for len in [400, 400, 400] {
            e.push(fpdu(len));
        }
        let (s, t) = e.next_segment().unwrap();
        assert_eq!(t.wrapping_sub(s), 800);
        e.snd_nxt = t;
        let (s, t) = e.next_segment().unwrap();
        assert_eq!(t.wrapping_sub(s), 400);
        e.snd_nxt = t;
        assert!(e.next_segment().is_none());
        e.acked(t);
        assert!(e.queue.is_empty());
    }

    #[test]
    fn chunk_index_finds_the_chunk_holding_a_sequence_number_across_the_wrap() {
        let mut e = End::new(u32::MAX - 150, 1000, 65535);
        for len in [100, 100, 100] {
            e.push(fpdu(len));
        }
        let first = e.queue[0].seq;
        assert_eq!(first, u32::MAX - 149);
        for (seq, want) in [
            (first.wrapping_sub(1), 0),
            (first, 0),
            (first.wrapping_add(99), 0),
            (first.wrapping_add(100), 1),
            (first.wrapping_add(199), 1),
            (first.wrapping_add(250), 2),
            (first.wrapping_add(300), 3),
        ] {
            assert_eq!(e.chunk_index(seq), want, "seq {seq}");
        }
        e.snd_nxt = first.wrapping_add(100);
        e.snd_una = first;
        assert_eq!(
            e.next_segment(),
            Some((first.wrapping_add(100), first.wrapping_add(300)))
        );
    }

    /// Whatever order the look-ups come in and whatever is acknowledged between them, the
    /// remembered index never changes the answer.
    #[test]
    fn chunk_index_agrees_with_a_walk_of_the_queue() {
        let mut rng = crate::rng::Rng::new(11, 0);
        let mut e = End::new(u32::MAX - 5000, 1000, 65535);
        e.snd_una = e.enq_seq;
        for _ in 0..60 {
            e.push(fpdu(1 + rng.below(2000) as u32));
        }
        let walk = |e: &End, seq: u32| {
            e.queue
                .iter()
                .position(|c| seq_lt(seq, c.end()))
                .unwrap_or(e.queue.len())
        };
        for round in 0..2000 {
            let base = e.queue.front().map_or(e.enq_seq, |c| c.seq);
            let span = e.enq_seq.wrapping_sub(base) + 10;
            let seq = match round % 3 {
                // Next to the last answer, as segments mostly are.
                0 => e.queue.get(e.last_index.get()).map_or(base, |c| c.end()),
                _ => base.wrapping_add(rng.below(u64::from(span)) as u32),
            };
            assert_eq!(e.chunk_index(seq), walk(&e, seq), "round {round}");
            if round % 50 == 49 && !e.queue.is_empty() {
                e.snd_nxt = e.enq_seq;
                let to = e.queue[rng.below(e.queue.len() as u64) as usize].seq;
                e.acked(to);
                assert_eq!(e.queue.len(), e.chunk_ends.len());
            }
        }
    }

    #[test]
    fn streams_fill_segments_and_splits_are_forced() {
        let mut e = End::new(0, 1000, 65535);
        e.snd_nxt = 1;
        e.snd_una = 1;
        e.push(stream(2500));
        let mut c = fpdu(300);
        c.faults.split_at = Some(1);
        e.push(c);
        let mut sizes = Vec::new();
        while let Some((s, t)) = e.next_segment() {
            sizes.push(t - s);
            e.snd_nxt = t;
        }
        assert_eq!(sizes, [1000, 1000, 500 + 1, 299]);
    }

    #[test]
    fn the_window_limits_what_is_in_flight() {
        let mut e = End::new(0, 1000, 1500);
        e.snd_nxt = 1;
        e.snd_una = 1;
        e.push(stream(4000));
        let (_, t) = e.next_segment().unwrap();
        e.snd_nxt = t;
        let (s, t) = e.next_segment().unwrap();
        assert_eq!(t - s, 500);
        e.snd_nxt = t;
        assert!(e.next_segment().is_none());
        e.acked(1001);
        assert_eq!(e.next_segment().map(|(s, t)| t - s), Some(1000));
    }

    #[test]
    fn receive_in_order_out_of_order_and_duplicates() {
        let mut e = End::new(0, 1000, 1000);
        e.rcv_nxt = 100;
        assert!(!e.receive(200, 300));
        assert!(!e.receive(50, 100));
        assert!(e.receive(100, 200));
        assert_eq!(e.rcv_nxt, 300);
        assert!(e.ooo.is_empty());
    }
}
