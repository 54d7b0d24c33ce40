//! TCP sequence analysis as tshark 4.0 does it (`tcp.analysis.*`): retransmissions (plain, fast,
//! spurious), out-of-order and lost segments, duplicate ACKs, keep-alives, window updates, full
//! and zero windows, the segment each ACK acknowledges with its RTT, bytes in flight, the
//! conversation's completeness and initial RTT, relative sequence numbers and window scaling.
//!
//! The rules are those of Wireshark's `tcp_analyze_sequence_number` (see the Wireshark User's
//! Guide, "TCP Analysis"), applied to raw sequence numbers with tshark's quirks kept, because
//! users compare the two tools column by column: a sequence number of 0 means "not seen yet",
//! the first checks that match end the search in tshark's order, and a segment may carry several
//! findings at once.
//!
//! ```text
//!  per direction (Flow)          per segment (Verdict)
//!  base_seq, nextseq, lastack    flags: RETRANSMISSION | LOST_PACKET | DUPLICATE_ACK | ...
//!  window, win_scale, dupacks    acks frame N after RTT; bytes in flight; dup ACK #k of frame M
//!  unacked segments (<= 10000)   completeness, iRTT, relative seq/ack, FIN active/passive
//! ```
//!
//! Nothing here allocates per segment once a flow's list of unacknowledged segments has grown
//! to its working size.

use std::collections::VecDeque;

/// Findings on one segment (Wireshark's `TCP_A_*` bits).
pub mod flag {
    /// Retransmission (the sequence number did not advance).
    pub const RETRANSMISSION: u16 = 0x0001;
    /// Octets before this segment were never seen.
    pub const LOST_PACKET: u16 = 0x0002;
    /// It acknowledges octets never seen.
    pub const ACK_LOST_PACKET: u16 = 0x0004;
    /// Keep-alive.
    pub const KEEP_ALIVE: u16 = 0x0008;
    /// Duplicate ACK.
    pub const DUPLICATE_ACK: u16 = 0x0010;
    /// Zero window.
    pub const ZERO_WINDOW: u16 = 0x0020;
    /// Zero window probe.
    pub const ZERO_WINDOW_PROBE: u16 = 0x0040;
    /// ACK of a zero window probe.
    pub const ZERO_WINDOW_PROBE_ACK: u16 = 0x0080;
    /// ACK of a keep-alive.
    pub const KEEP_ALIVE_ACK: u16 = 0x0100;
    /// Out of order.
    pub const OUT_OF_ORDER: u16 = 0x0200;
    /// Fast retransmission (after duplicate ACKs).
    pub const FAST_RETRANSMISSION: u16 = 0x0400;
    /// Window update.
    pub const WINDOW_UPDATE: u16 = 0x0800;
    /// The receiver's window is full.
    pub const WINDOW_FULL: u16 = 0x1000;
    /// A new conversation on the ports of an earlier one.
    pub const REUSED_PORTS: u16 = 0x2000;
    /// Retransmission of octets already acknowledged.
    pub const SPURIOUS_RETRANSMISSION: u16 = 0x4000;
}

/// TCP flag bits.
pub mod th {
    /// FIN.
    pub const FIN: u16 = 0x001;
    /// SYN.
    pub const SYN: u16 = 0x002;
    /// RST.
    pub const RST: u16 = 0x004;
    /// PSH.
    pub const PSH: u16 = 0x008;
    /// ACK.
    pub const ACK: u16 = 0x010;
    /// URG.
    pub const URG: u16 = 0x020;
}

/// Conversation completeness bits (`tcp.completeness`).
pub mod complete {
    /// A SYN was seen.
    pub const SYN: u8 = 0x01;
    /// A SYN-ACK was seen.
    pub const SYNACK: u8 = 0x02;
    /// A pure ACK was seen.
    pub const ACK: u8 = 0x04;
    /// Data was seen.
    pub const DATA: u8 = 0x08;
    /// A FIN-ACK was seen.
    pub const FIN: u8 = 0x10;
    /// A RST was seen.
    pub const RST: u8 = 0x20;
}

/// Most unacknowledged segments remembered per direction (tshark 4.0 stops adding at 10000:
/// bytes in flight then stop growing).
pub const MAX_UNACKED: usize = 10_000;

/// Longest segment (in sequence numbers) that keeps a flow's unacknowledged list a chain:
/// [`MAX_UNACKED`] of them span less than 2^32, so their positions from the first one never
/// wrap.
const MAX_CHAIN_LEN: u32 = 1 << 18;

/// A fast retransmission comes within this long of the last duplicate ACK.
const FAST_RETRANSMISSION_NS: u64 = 20_000_000;
/// Out-of-order threshold when the initial RTT is not known.
const OUT_OF_ORDER_DEFAULT_NS: u64 = 3_000_000;

fn gt(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) < 0
}

fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `now - then` the way tshark computes it: an unsigned number of nanoseconds (time running
/// backwards makes it huge).
fn since(now: i64, then: i64) -> u64 {
    now.wrapping_sub(then) as u64
}

/// A segment sent and not yet acknowledged.
#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u64,
    seq: u32,
    nextseq: u32,
    ts: i64,
}

/// Analysis state of one direction.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Sequence number shown as 0.
    pub base_seq: u32,
    base_set: bool,
    nextseq: u32,
    nextseq_time: i64,
    nextseq_frame: u64,
    max_seq_to_be_acked: u32,
    lastack: u32,
    lastack_time: i64,
    last_non_dup_ack: u64,
    dupacks: i32,
    window: u32,
    /// Window scale shift: -1 not known, -2 not used, else the shift.
    pub win_scale: i8,
    last_flags: u16,
    /// The SACK blocks of this direction's last segment, relative to the other direction's
    /// base (tshark keeps three), subtracted from the other direction's bytes in flight.
    sack: [(u32, u32); 3],
    sack_n: u8,
    segments: VecDeque<Unacked>,
    /// `segments` is a chain: each one starts where the one before it ends, and none is longer
    /// than [`MAX_CHAIN_LEN`] (the usual case, data sent in order), so an ACK can trim it from
    /// the front instead of visiting every segment.
    chain: bool,
    /// Lowest start and highest end of `segments`, relative to `base_seq`, when known (kept up
    /// to date as segments are added, recomputed after ACKs remove some).
    span: Option<(u32, u32)>,
    valid_bif: bool,
    push_bytes_sent: u32,
    push_set_last: bool,
    closing_initiator: bool,
    is_first_ack: bool,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            base_seq: 0,
            base_set: false,
            nextseq: 0,
            nextseq_time: 0,
            nextseq_frame: 0,
            max_seq_to_be_acked: 0,
            lastack: 0,
            lastack_time: 0,
            last_non_dup_ack: 0,
            dupacks: 0,
            window: u32::MAX,
            win_scale: -1,
            last_flags: 0,
            sack: [(0, 0); 3],
            sack_n: 0,
            segments: VecDeque::new(),
            chain: false,
            span: None,
            valid_bif: true,
            push_bytes_sent: 0,
            push_set_last: false,
            closing_initiator: false,
            is_first_ack: false,
        }
    }
}

impl Flow {
    /// Applies acknowledgment number `ack` to the unacknowledged segments: the oldest one it
    /// ends exactly is returned; segments wholly acknowledged are forgotten, partly
    /// acknowledged ones shrink.
    #[inline(always)]
    fn acknowledge(&mut self, ack: u32) -> Option<Unacked> {
        if let (true, Some(front), Some(back)) =
            (self.chain, self.segments.front(), self.segments.back())
        {
            // A chain spans `start..start + end` without wrapping (see `MAX_CHAIN_LEN`); an ACK
            // inside it compares with every segment as plain numbers do, so the segments it
            // removes come first, followed by at most one it shrinks.
            let start = front.seq;
            let end = back.nextseq.wrapping_sub(start);
            let at = ack.wrapping_sub(start);
            if end < 1 << 31 && at == end {
                // The usual ACK: of everything. Segments in a chain end at increasing
                // positions (each is at least one long), so the last one is the one it ends
                // exactly, and none is left.
                let last = *back;
                self.segments.clear();
                self.span = None;
                return Some(last);
            }
            if end < 1 << 31 && at <= end {
                return self.acknowledge_chain(ack, start, at);
            }
        }
        self.acknowledge_any(ack)
    }

    /// [`Flow::acknowledge`] on a chain, `ack` being `at` octets after its `start`.
    #[inline(never)]
    fn acknowledge_chain(&mut self, ack: u32, start: u32, at: u32) -> Option<Unacked> {
        let mut acked = None;
        let mut changed = false;
        while let Some(u) = self.segments.front_mut() {
            let end = u.nextseq.wrapping_sub(start);
            if end > at {
                if u.seq.wrapping_sub(start) < at {
                    u.seq = ack;
                    changed = true;
                }
                break;
            }
            if end == at {
                acked = Some(*u);
            }
            self.segments.pop_front();
            changed = true;
        }
        if changed {
            // The segments left run from the first one's start to the last one's end, which
            // are the lowest and highest positions relative to `base_seq` unless those wrap.
            self.span = match (self.segments.front(), self.segments.back()) {
                (Some(f), Some(b)) => {
                    let lo = f.seq.wrapping_sub(self.base_seq);
                    let len = b.nextseq.wrapping_sub(f.seq);
                    lo.checked_add(len).map(|hi| (lo, hi))
                }
                _ => None,
            };
        }
        acked
    }

    /// Lowest start and highest end of the unacknowledged segments relative to `base_seq`,
    /// remembered in `span`.
    #[inline(never)]
    fn measure_span(&mut self) -> (u32, u32) {
        let base = self.base_seq;
        let x = self.segments.iter().fold((u32::MAX, 0), |(a, b), u| {
            (
                a.min(u.seq.wrapping_sub(base)),
                b.max(u.nextseq.wrapping_sub(base)),
            )
        });
        self.span = Some(x);
        x
    }

    /// [`Flow::acknowledge`] on segments in any order: every one is visited.
    #[inline(never)]
    fn acknowledge_any(&mut self, ack: u32) -> Option<Unacked> {
        let mut acked: Option<Unacked> = None;
        let mut changed = false;
        self.segments.retain_mut(|u| {
            let keep = if ack == u.nextseq {
                if acked.is_none() {
                    acked = Some(*u);
                }
                false
            } else if gt(ack, u.seq) && le(ack, u.nextseq) {
                u.seq = ack;
                changed = true;
                true
            } else {
                gt(u.nextseq, ack)
            };
            changed |= !keep;
            keep
        });
        if changed {
            self.span = None;
            // What is left may have holes: only an empty list starts a chain again.
            self.chain = false;
        }
        acked
    }
}

/// One segment as the analysis needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segment {
    /// Frame number.
    pub frame: u64,
    /// Capture time, ns.
    pub ts: i64,
    /// Raw sequence number.
    pub seq: u32,
    /// Raw acknowledgment number.
    pub ack: u32,
    /// Payload octets.
    pub len: u32,
    /// Flags (the low 12 bits of octets 12-13).
    pub flags: u16,
    /// Raw window field.
    pub window: u16,
    /// The Window Scale option's shift, if the segment carries one (capped at 14).
    pub wscale: Option<u8>,
    /// The blocks of the segment's (last) SACK option, raw, and how many there are.
    pub sack: SackBlocks,
}

/// The blocks of a SACK option (at most four), raw, and how many there are.
pub type SackBlocks = ([(u32, u32); 4], u8);

/// How the ports-reused check came out for a SYN or SYN-ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Nothing to do.
    No,
    /// A SYN with a new initial sequence number: the segment starts a new conversation (give it
    /// a fresh [`Conn`], then call [`Conn::reused`] on it).
    NewConversation,
}

/// What the analysis says about one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verdict {
    /// [`flag`] bits.
    pub flags: u16,
    /// tshark would show a `[SEQ/ACK analysis]` subtree (something was found or measured).
    pub analysed: bool,
    /// The segment this one acknowledges (0: none).
    pub acks_frame: u64,
    /// Time since that segment (0: not shown).
    pub ack_rtt: i64,
    /// The conversation's initial RTT (0: not known yet).
    pub initial_rtt: i64,
    /// Bytes in flight after this segment (0: not shown).
    pub bytes_in_flight: u32,
    /// Bytes sent since the last PSH.
    pub push_bytes_sent: u32,
    /// Duplicate ACK number (0: not a duplicate).
    pub dup_ack_num: u32,
    /// The ACK this one duplicates.
    pub dup_ack_frame: u64,
    /// Time since the segment this one retransmits (0: not shown).
    pub rto: i64,
    /// The segment it retransmits.
    pub rto_frame: u64,
    /// Relative sequence number.
    pub rel_seq: u32,
    /// Relative acknowledgment number (the raw field without the ACK flag).
    pub rel_ack: u32,
    /// `tcp.completeness` as shown for this segment (before it counts).
    pub completeness: u8,
    /// Window scale shift in force for this segment's window (-1 unknown, -2 none).
    pub win_scale: i8,
    /// For a FIN: Some(true) if it starts the close, Some(false) if it answers one.
    pub fin_active: Option<bool>,
    /// The other direction's base sequence number (SACK edges are shown relative to it).
    pub peer_base: u32,
}

impl Verdict {
    /// The Info column prefix, e.g. `"[TCP Dup ACK 18#1] "`, in tshark's order.
    pub fn info_prefix(&self, out: &mut String) {
        use std::fmt::Write as _;
        // tshark prepends each remark in turn, so the last one ends up first.
        let mut parts: [Option<&str>; 16] = [None; 16];
        let mut n = 0;
        let mut dup = false;
        let f = self.flags;
        let mut push = |on: bool, s: &'static str| {
            if on {
                parts[n] = Some(s);
                n += 1;
            }
        };
        push(f & flag::REUSED_PORTS != 0, "[TCP Port numbers reused] ");
        push(f & flag::RETRANSMISSION != 0, "[TCP Retransmission] ");
        push(
            f & flag::FAST_RETRANSMISSION != 0,
            "[TCP Fast Retransmission] ",
        );
        push(
            f & flag::SPURIOUS_RETRANSMISSION != 0,
            "[TCP Spurious Retransmission] ",
        );
        push(f & flag::OUT_OF_ORDER != 0, "[TCP Out-Of-Order] ");
        push(
            f & flag::LOST_PACKET != 0,
            "[TCP Previous segment not captured] ",
        );
        push(
            f & flag::ACK_LOST_PACKET != 0,
            "[TCP ACKed unseen segment] ",
        );
        push(f & flag::WINDOW_UPDATE != 0, "[TCP Window Update] ");
        push(f & flag::WINDOW_FULL != 0, "[TCP Window Full] ");
        push(f & flag::KEEP_ALIVE != 0, "[TCP Keep-Alive] ");
        push(f & flag::KEEP_ALIVE_ACK != 0, "[TCP Keep-Alive ACK] ");
        if self.dup_ack_num != 0 && f & flag::DUPLICATE_ACK != 0 {
            // A placeholder: the text has numbers in it.
            push(true, "");
            dup = true;
        }
        push(f & flag::ZERO_WINDOW_PROBE != 0, "[TCP ZeroWindowProbe] ");
        push(f & flag::ZERO_WINDOW != 0, "[TCP ZeroWindow] ");
        push(
            f & flag::ZERO_WINDOW_PROBE_ACK != 0,
            "[TCP ZeroWindowProbeAck] ",
        );
        for p in parts[..n].iter().rev().flatten() {
            if p.is_empty() && dup {
                let _ = write!(
                    out,
                    "[TCP Dup ACK {}#{}] ",
                    self.dup_ack_frame, self.dup_ack_num
                );
            } else {
                out.push_str(p);
            }
        }
    }
}

/// Analysis state of a conversation.
#[derive(Debug, Clone, Default)]
pub struct Conn {
    /// The two directions, numbered as the conversation table numbers them.
    pub flows: [Flow; 2],
    first_rtt: i64,
    mru_syn: i64,
    completeness: u8,
    seen: bool,
    reused: bool,
}

impl Conn {
    /// Whether `s`, a SYN without ACK, starts a new conversation on these ports (tshark's
    /// "TCP Port numbers reused"). A SYN that repeats the first one's sequence number is a
    /// retransmission, flagged but kept in this conversation.
    pub fn reuse(&self, dir: usize, s: &Segment) -> Reuse {
        let f = &self.flows[dir];
        if s.flags & (th::SYN | th::ACK) == th::SYN && f.base_set && s.seq != f.base_seq {
            Reuse::NewConversation
        } else {
            Reuse::No
        }
    }

    /// Marks a fresh conversation as one that reuses the ports of an earlier one (call before
    /// [`Conn::segment`] for its first SYN).
    pub fn reused(&mut self) {
        self.completeness = complete::SYN;
        self.seen = true;
        self.reused = true;
    }

    /// The conversation's completeness so far (`tcp.completeness` of its next segment).
    pub fn completeness(&self) -> u8 {
        self.completeness
    }

    /// The initial RTT, once the handshake's last ACK was seen (0 before).
    pub fn initial_rtt(&self) -> i64 {
        self.first_rtt
    }

    /// Analyses segment `s` going in direction `dir`.
    pub fn segment(&mut self, dir: usize, s: &Segment) -> Verdict {
        let mut v = Verdict::default();
        self.segment_into(dir, s, &mut v);
        v
    }

    /// [`Conn::segment`], the verdict written in `v` (a default one): the per-frame path
    /// keeps its verdict where it is instead of moving it about.
    #[inline]
    pub fn segment_into(&mut self, dir: usize, s: &Segment, v: &mut Verdict) {
        if !self.in_order(dir, s, v) {
            self.segment_full(dir, s, v);
        }
    }

    /// [`Conn::segment`] of the usual segment, cheaply: an ACK without SYN, FIN, RST or
    /// options the analysis reads, in an established conversation, starting at the next
    /// expected sequence number, with a window that is not zero, and either data or an
    /// acknowledgment number that moved, its verdict written in `v` (a default one). False, with
    /// nothing changed, for any other segment.
    ///
    /// For such a segment none of the rarer findings can apply (each needs what this rules
    /// out, or is tested here and sends the segment to the full analysis):
    /// - zero window probe: one octet while the other side's window is zero (tested);
    /// - zero window: a zero window (ruled out);
    /// - previous segment lost: the sequence number beyond the next expected one (it is the
    ///   next expected one);
    /// - keep-alive: the sequence number one below the next expected one (likewise);
    /// - window full: computed here as the full analysis does;
    /// - window update, keep-alive ACK, zero window probe ACK, duplicate ACK: no data and the
    ///   acknowledgment number unchanged (ruled out);
    /// - ACKed unseen segment: computed here as the full analysis does;
    /// - spurious retransmission: data the other side already acknowledged (tested);
    /// - retransmission, fast retransmission, out of order: a sequence number below the next
    ///   expected one (it is the next expected one);
    /// - ports reused, completeness and FIN bookkeeping, window scaling, SACK: SYN, FIN, RST,
    ///   a Window Scale or SACK option, the conversation's first segment (ruled out).
    ///
    /// What is left is the bookkeeping both paths share ([`Conn::record`]).
    #[inline(always)]
    fn in_order(&mut self, dir: usize, s: &Segment, v: &mut Verdict) -> bool {
        let fl = s.flags;
        if !self.seen
            || self.reused
            || fl & (th::SYN | th::FIN | th::RST | th::ACK) != th::ACK
            || s.wscale.is_some()
            || s.sack.1 != 0
            || s.window == 0
        {
            return false;
        }
        let completeness = self.completeness;
        let (fwd, rev) = self.pair(dir);
        let (seq, ack, len) = (s.seq, s.ack, s.len);
        if !fwd.base_set
            || !rev.base_set
            || fwd.nextseq == 0
            || seq != fwd.nextseq
            || (len == 1 && rev.window == 0)
            || (len == 0 && ack == fwd.lastack)
            || (len > 0 && rev.lastack != 0 && le(seq.wrapping_add(len), rev.lastack))
        {
            return false;
        }
        fwd.sack_n = 0;
        rev.valid_bif = true;
        v.completeness = completeness;
        if len > 0 {
            window_full(rev, s, v);
        }
        if ack != fwd.lastack {
            fwd.last_non_dup_ack = s.frame;
            fwd.dupacks = 0;
        }
        ack_beyond(rev, ack, v);
        record(fwd, rev, s, v);
        v.rel_seq = seq.wrapping_sub(fwd.base_seq);
        v.rel_ack = ack.wrapping_sub(rev.base_seq);
        v.win_scale = fwd.win_scale;
        v.peer_base = rev.base_seq;
        fwd.is_first_ack = false;
        self.completeness |= if len > 0 {
            complete::DATA
        } else {
            complete::ACK
        };
        if self.mru_syn != 0 && self.first_rtt == 0 {
            self.first_rtt = s.ts.wrapping_sub(self.mru_syn);
        }
        v.initial_rtt = self.first_rtt;
        true
    }

    /// [`Conn::segment`] of any segment.
    #[inline(never)]
    fn segment_full(&mut self, dir: usize, s: &Segment, v: &mut Verdict) {
        let new = !self.seen;
        self.flows[dir].sack_n = 0;
        self.seen = true;
        if self.reused || s.flags & th::SYN != 0 {
            self.ports_reused(dir, s, v);
        }
        v.completeness = self.completeness;
        self.analyse(dir, s, v);
        let (fwd, rev) = self.pair(dir);
        v.rel_seq = s.seq.wrapping_sub(fwd.base_seq);
        v.rel_ack = if s.flags & th::ACK != 0 {
            s.ack.wrapping_sub(rev.base_seq)
        } else {
            s.ack
        };
        v.win_scale = fwd.win_scale;
        v.peer_base = rev.base_seq;
        let sa = s.flags & (th::SYN | th::ACK);
        if new || s.flags & (th::SYN | th::FIN | th::RST) != 0 {
            self.opening_or_closing(dir, s, new, v);
        } else if sa == th::ACK {
            // Without SYN, FIN or RST only the ACK counts towards completeness.
            self.completeness |= if s.len > 0 {
                complete::DATA
            } else {
                complete::ACK
            };
        }
        // The initial RTT.
        if sa == th::ACK {
            if self.mru_syn != 0 && self.first_rtt == 0 {
                self.first_rtt = s.ts.wrapping_sub(self.mru_syn);
            }
            self.flows[dir].is_first_ack = false;
        }
        v.initial_rtt = self.first_rtt;
        // SACK blocks, for the other direction's bytes in flight.
        let (blocks, n) = s.sack;
        if n != 0 {
            let (fwd, rev) = self.pair(dir);
            for &(l, r) in blocks.iter().take(usize::from(n).min(3)) {
                fwd.sack[usize::from(fwd.sack_n)] =
                    (l.wrapping_sub(rev.base_seq), r.wrapping_sub(rev.base_seq));
                fwd.sack_n += 1;
            }
        }
        if s.wscale.is_some() || s.flags & th::SYN != 0 {
            self.window_scaling(dir, s);
        }
    }

    /// Ports reused: the first SYN of a conversation made for them, and a SYN-ACK with another
    /// sequence number (whose conversation it then re-bases). A repeated SYN is a
    /// retransmission.
    #[cold]
    #[inline(never)]
    fn ports_reused(&mut self, dir: usize, s: &Segment, v: &mut Verdict) {
        let f = &mut self.flows[dir];
        let syn_ack = s.flags & (th::SYN | th::ACK);
        if std::mem::take(&mut self.reused) {
            v.flags |= flag::REUSED_PORTS;
            v.analysed = true;
        } else if syn_ack == th::SYN | th::ACK && f.base_set && s.seq != f.base_seq {
            f.base_seq = s.seq;
            f.span = None;
            v.flags |= flag::REUSED_PORTS;
            v.analysed = true;
        }
    }

    /// Completeness, SYN and FIN bookkeeping for a conversation's first segment and for
    /// segments with SYN, FIN or RST.
    #[cold]
    #[inline(never)]
    fn opening_or_closing(&mut self, dir: usize, s: &Segment, new: bool, v: &mut Verdict) {
        let mut c = if new { 0 } else { self.completeness };
        let sa = s.flags & (th::SYN | th::ACK);
        if new {
            if sa == th::SYN {
                c |= complete::SYN;
                if s.len > 0 {
                    c |= complete::DATA;
                }
            }
        } else {
            if sa == th::SYN | th::ACK {
                c |= complete::SYNACK;
            }
            if sa == th::ACK {
                c |= if s.len > 0 {
                    complete::DATA
                } else {
                    complete::ACK
                };
            }
            if s.flags & (th::FIN | th::ACK) == th::FIN | th::ACK {
                c |= complete::FIN;
            }
            if s.flags & th::RST != 0 {
                c |= complete::RST;
            }
        }
        self.completeness = c;
        if s.flags & th::SYN != 0 {
            if s.flags & th::ACK == 0 {
                self.mru_syn = s.ts;
            }
            self.pair(dir).0.is_first_ack = true;
        }
        let (fwd, rev) = self.pair(dir);
        if s.flags & th::FIN != 0 {
            if rev.closing_initiator {
                v.fin_active = Some(false);
            } else {
                fwd.closing_initiator = true;
                v.fin_active = Some(true);
            }
        }
    }

    /// Window scaling: the option is remembered, then checked on SYNs.
    #[cold]
    #[inline(never)]
    fn window_scaling(&mut self, dir: usize, s: &Segment) {
        let (fwd, rev) = self.pair(dir);
        if let Some(ws) = s.wscale {
            fwd.win_scale = ws.min(14) as i8;
        }
        if s.flags & th::SYN != 0 {
            if fwd.win_scale == -1 {
                fwd.win_scale = -2;
                rev.win_scale = -2;
            } else if s.flags & th::ACK != 0 && rev.win_scale == -2 {
                fwd.win_scale = -2;
            }
        }
    }

    fn pair(&mut self, dir: usize) -> (&mut Flow, &mut Flow) {
        let [a, b] = &mut self.flows;
        if dir == 0 { (a, b) } else { (b, a) }
    }

    /// tshark's `tcp_analyze_sequence_number`, on raw numbers.
    fn analyse(&mut self, dir: usize, s: &Segment, v: &mut Verdict) {
        let first_rtt = self.first_rtt;
        let (fwd, rev) = self.pair(dir);
        let (seq, ack, len, fl) = (s.seq, s.ack, s.len, s.flags);
        let window = u32::from(s.window);
        let sfr = fl & (th::SYN | th::FIN | th::RST) != 0;
        if !fwd.base_set {
            fwd.base_seq = if fl & th::SYN != 0 {
                seq
            } else {
                seq.wrapping_sub(1)
            };
            fwd.base_set = true;
        }
        if !rev.base_set && fl & th::ACK != 0 {
            rev.base_seq = ack.wrapping_sub(1);
            rev.base_set = true;
        }
        if fl & th::ACK != 0 {
            rev.valid_bif = true;
        }
        let found = |v: &mut Verdict, f: u16| {
            v.flags |= f;
            v.analysed = true;
        };
        'fwd: {
            if len == 1 && seq == fwd.nextseq && rev.window == 0 {
                found(v, flag::ZERO_WINDOW_PROBE);
                break 'fwd;
            }
            if window == 0 && !sfr {
                found(v, flag::ZERO_WINDOW);
            }
            if fwd.nextseq != 0 && gt(seq, fwd.nextseq) && fl & th::RST == 0 {
                found(v, flag::LOST_PACKET);
                fwd.valid_bif = false;
            }
            if len <= 1 && seq == fwd.nextseq.wrapping_sub(1) && !sfr {
                found(v, flag::KEEP_ALIVE);
            }
            if len > 0 {
                if !sfr {
                    window_full(rev, s, v);
                }
                // What follows is about segments without data.
                break 'fwd;
            }
            // ... that repeat the last one's sequence and acknowledgment numbers.
            if seq != fwd.nextseq || ack != fwd.lastack || sfr {
                break 'fwd;
            }
            if window != 0 && window != fwd.window {
                found(v, flag::WINDOW_UPDATE);
            }
            if window != 0 && window == fwd.window && rev.last_flags & flag::KEEP_ALIVE != 0 {
                found(v, flag::KEEP_ALIVE_ACK);
                break 'fwd;
            }
            if window == 0 && window == fwd.window && rev.last_flags & flag::ZERO_WINDOW_PROBE != 0
            {
                found(v, flag::ZERO_WINDOW_PROBE_ACK);
                break 'fwd;
            }
            if window != 0 && window == fwd.window {
                fwd.dupacks = if fwd.dupacks == -1 {
                    1
                } else {
                    fwd.dupacks + 1
                };
                found(v, flag::DUPLICATE_ACK);
                v.dup_ack_num = fwd.dupacks as u32;
                v.dup_ack_frame = fwd.last_non_dup_ack;
            }
        }
        if ack != fwd.lastack {
            fwd.last_non_dup_ack = s.frame;
            fwd.dupacks = 0;
        }
        if fl & th::ACK != 0 {
            ack_beyond(rev, ack, v);
        }
        'retrans: {
            if !(len > 0 || fl & (th::SYN | th::FIN) != 0) || v.flags & flag::KEEP_ALIVE != 0 {
                break 'retrans;
            }
            let mut not_advanced = fwd.nextseq != 0 && lt(seq, fwd.nextseq);
            if len > 1 && fwd.nextseq.wrapping_sub(1) == seq {
                not_advanced = false;
            }
            if len > 0 && rev.lastack != 0 && le(seq.wrapping_add(len), rev.lastack) {
                found(v, flag::SPURIOUS_RETRANSMISSION);
                break 'retrans;
            }
            if not_advanced {
                not_advancing(fwd, rev, first_rtt, s, v);
            }
        }
        record(fwd, rev, s, v);
    }
}

/// The ACKed-unseen-segment check of an ACK: it acknowledges more than the other side may be
/// acknowledged for. (That limit stops moving once the other side sent a segment beyond or
/// before it, as tshark's does, so after a loss most ACKs go through here.)
#[inline(always)]
fn ack_beyond(rev: &mut Flow, ack: u32, v: &mut Verdict) {
    if rev.max_seq_to_be_acked != 0 && gt(ack, rev.max_seq_to_be_acked) {
        v.analysed = true;
        if rev.max_seq_to_be_acked > rev.nextseq {
            rev.max_seq_to_be_acked = rev.nextseq;
            v.flags |= flag::ACK_LOST_PACKET;
        } else {
            if rev.dupacks == 0 {
                v.flags |= flag::ACK_LOST_PACKET;
            }
            rev.dupacks = -1;
        }
    }
}

/// The window-full check of a segment with data and without SYN, FIN or RST: it ends at the
/// right edge of the window the other side last advertised (once its scaling is known).
#[inline(always)]
fn window_full(rev: &Flow, s: &Segment, v: &mut Verdict) {
    if rev.win_scale != -1 {
        let shift = if rev.is_first_ack || rev.win_scale == -2 {
            0
        } else {
            rev.win_scale as u32
        };
        let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
        if s.seq.wrapping_add(s.len) == edge {
            v.flags |= flag::WINDOW_FULL;
            v.analysed = true;
        }
    }
}

/// The bookkeeping after the findings, for every segment: the segment joins the unacknowledged
/// ones, the next expected sequence number and the last window and acknowledgment move on,
/// the other side's segments this one acknowledges are forgotten (the oldest one it ends
/// exactly is reported with its RTT), and bytes in flight and bytes since the last PSH.
#[inline(always)]
fn record(fwd: &mut Flow, rev: &mut Flow, s: &Segment, v: &mut Verdict) {
    let (seq, ack, len, fl) = (s.seq, s.ack, s.len, s.flags);
    let window = u32::from(s.window);
    let mut nextseq = seq.wrapping_add(len);
    if (len > 0 || fl & (th::SYN | th::FIN) != 0) && fwd.segments.len() < MAX_UNACKED {
        if fl & (th::SYN | th::FIN) != 0 {
            nextseq = nextseq.wrapping_add(1);
        }
        let (lo, hi) = (
            seq.wrapping_sub(fwd.base_seq),
            nextseq.wrapping_sub(fwd.base_seq),
        );
        fwd.span = match fwd.span {
            Some((a, b)) => Some((a.min(lo), b.max(hi))),
            None if fwd.segments.is_empty() => Some((lo, hi)),
            None => None,
        };
        let follows = match fwd.segments.back() {
            Some(b) => fwd.chain && b.nextseq == seq,
            None => true,
        };
        fwd.chain = follows && nextseq.wrapping_sub(seq) <= MAX_CHAIN_LEN;
        fwd.segments.push_back(Unacked {
            frame: s.frame,
            seq,
            nextseq,
            ts: s.ts,
        });
    }
    let probe = v.flags & flag::ZERO_WINDOW_PROBE != 0;
    if (gt(nextseq, fwd.nextseq) || fwd.nextseq == 0) && !probe {
        fwd.nextseq = nextseq;
        fwd.nextseq_frame = s.frame;
        fwd.nextseq_time = s.ts;
    }
    if (seq == fwd.max_seq_to_be_acked || fwd.max_seq_to_be_acked == 0) && !probe {
        fwd.max_seq_to_be_acked = fwd.nextseq;
    }
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastack_time = s.ts;
    fwd.last_flags = v.flags;
    // What this acknowledges: the oldest segment it ends exactly, if any; segments wholly
    // acknowledged are forgotten, partly acknowledged ones shrink.
    let acked = if rev.segments.is_empty() {
        None
    } else {
        rev.acknowledge(ack)
    };
    if let Some(u) = acked {
        v.analysed = true;
        v.acks_frame = u.frame;
        v.ack_rtt = s.ts.wrapping_sub(u.ts);
    }
    // Bytes in flight and bytes since the last PSH.
    if len != 0 && fwd.valid_bif && !fwd.segments.is_empty() {
        let (first, last) = match fwd.span {
            Some(x) => x,
            None => fwd.measure_span(),
        };
        let sacked = rev.sack[..usize::from(rev.sack_n)]
            .iter()
            .fold(0u32, |a, &(l, r)| a.wrapping_add(r.wrapping_sub(l)));
        let in_flight = last.wrapping_sub(first).wrapping_sub(sacked);
        v.analysed = true;
        if in_flight > 0 && in_flight < 2_000_000_000 {
            v.bytes_in_flight = in_flight - u32::from(fl & (th::SYN | th::FIN) != 0);
        }
        let psh = fl & th::PSH != 0;
        if psh && !fwd.push_set_last {
            fwd.push_bytes_sent = fwd.push_bytes_sent.wrapping_add(len);
            fwd.push_set_last = true;
        } else if psh {
            fwd.push_bytes_sent = len;
        } else if fwd.push_set_last {
            fwd.push_bytes_sent = len;
            fwd.push_set_last = false;
        } else {
            fwd.push_bytes_sent = fwd.push_bytes_sent.wrapping_add(len);
        }
        v.push_bytes_sent = fwd.push_bytes_sent;
    }
}

/// A segment whose sequence number did not advance (and that is no keep-alive nor a spurious
/// retransmission): a fast retransmission, out of order, or a plain retransmission.
#[cold]
#[inline(never)]
fn not_advancing(fwd: &Flow, rev: &Flow, first_rtt: i64, s: &Segment, v: &mut Verdict) {
    let (seq, len, fl) = (s.seq, s.len, s.flags);
    v.analysed = true;
    if rev.dupacks >= 2
        && rev.lastack == seq
        && since(s.ts, rev.lastack_time) < FAST_RETRANSMISSION_NS
    {
        v.flags |= flag::FAST_RETRANSMISSION;
        return;
    }
    let thres = if first_rtt == 0 {
        OUT_OF_ORDER_DEFAULT_NS
    } else {
        first_rtt as u64
    };
    let syn_fin = u32::from(fl & (th::SYN | th::FIN) != 0);
    if since(s.ts, fwd.nextseq_time) < thres
        && fwd.nextseq != seq.wrapping_add(len).wrapping_add(syn_fin)
    {
        v.flags |= flag::OUT_OF_ORDER;
        return;
    }
    v.flags |= flag::RETRANSMISSION;
    v.rto = s.ts.wrapping_sub(fwd.nextseq_time);
    v.rto_frame = fwd.nextseq_frame;
    if let Some(u) = fwd.segments.front() {
        v.rto = s.ts.wrapping_sub(u.ts);
        v.rto_frame = u.frame;
    }
}

/// The text of `tcp.completeness` as tshark shows it ("Incomplete, DATA (15)").
pub fn completeness_text(c: u8) -> &'static str {
    use complete::*;
    const BASE: u8 = SYN | SYNACK | ACK;
    match c {
        SYN => "Incomplete, SYN_SENT",
        x if x == SYN | SYNACK => "Incomplete, CLIENT_ESTABLISHED",
        BASE => "Incomplete, ESTABLISHED",
        x if x == BASE | DATA => "Incomplete, DATA",
        x if x == BASE | DATA | FIN || x == BASE | DATA | RST || x == BASE | DATA | FIN | RST => {
            "Complete, WITH_DATA"
        }
        x if x == BASE | FIN || x == BASE | RST || x == BASE | FIN | RST => "Complete, NO_DATA",
        _ => "Incomplete",
    }
}

/// One TCP option as it sits in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opt<'a> {
    /// Kind.
    pub kind: u8,
    /// Offset of its first octet in the options.
    pub at: usize,
    /// Its octets (kind and length included).
    pub raw: &'a [u8],
}

/// The options of a TCP header (the octets after the fixed 20): each NOP and EOL is an option
/// of one octet, and like tshark the walk goes on after an EOL (the zero padding that follows
/// one shows as more EOLs); it stops at a length below 2 or at an option that does not fit
/// (which is returned truncated to what is there, so it can be shown as such).
pub fn options(opts: &[u8]) -> impl Iterator<Item = Opt<'_>> {
    let mut i = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done || i >= opts.len() {
            return None;
        }
        let kind = opts[i];
        let at = i;
        let len = match kind {
            0 | 1 => 1,
            _ => match opts.get(i + 1) {
                Some(&l) if l >= 2 => usize::from(l),
                _ => {
                    done = true;
                    opts.len() - i
                }
            },
        };
        let end = (i + len).min(opts.len());
        if end < i + len {
            done = true;
        }
        i = end;
        Some(Opt {
            kind,
            at,
            raw: &opts[at..end],
        })
    })
}

/// What the analysis reads in a header's options (`opts`), from one walk over them: the first
/// Window Scale option's shift, capped at 14, and the blocks of the last SACK option (at most
/// four), raw, with how many there are.
#[inline]
pub fn scan_options(opts: &[u8]) -> (Option<u8>, SackBlocks) {
    if opts.is_empty() {
        return (None, ([(0, 0); 4], 0));
    }
    walk_options(opts)
}

/// [`scan_options`] of options that are there.
#[inline(never)]
fn walk_options(opts: &[u8]) -> (Option<u8>, SackBlocks) {
    let mut wscale = None;
    let mut sack = ([(0, 0); 4], 0);
    for o in options(opts) {
        match o.kind {
            3 if o.raw.len() == 3 && wscale.is_none() => wscale = Some(o.raw[2].min(14)),
            5 => {
                sack.1 = 0;
                for edges in sack_option_blocks(o.raw).take(4) {
                    sack.0[usize::from(sack.1)] = edges;
                    sack.1 += 1;
                }
            }
            _ => {}
        }
    }
    (wscale, sack)
}

/// The (left, right) edges of each block of one SACK option (`raw`: the option's octets, kind
/// and length included), as sequence numbers.
pub fn sack_option_blocks(raw: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    raw.get(2..).unwrap_or_default().chunks_exact(8).map(|b| {
        (
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: usize = 0;
    const B: usize = 1;

    /// A segment of the sequence in `captures`-style tests: times in microseconds, sequence
    /// and acknowledgment numbers relative to ISNs 1000 (A) and 5000 (B).
    fn seg(
        frame: u64,
        us: i64,
        dir: usize,
        flags: u16,
        (seq, ack): (u32, u32),
        win: u16,
        len: u32,
    ) -> Segment {
        let (mine, theirs) = if dir == A { (1000, 5000) } else { (5000, 1000) };
        Segment {
            frame,
            ts: 1_700_000_000_000_000_000 + us * 1000,
            seq: mine + seq,
            ack: if flags & th::ACK != 0 {
                theirs + ack
            } else {
                ack
            },
            len,
            flags,
            window: win,
            wscale: None,
            sack: ([(0, 0); 4], 0),
        }
    }

    const PA: u16 = th::PSH | th::ACK;
    const SA: u16 = th::SYN | th::ACK;
    const AK: u16 = th::ACK;

    /// Runs segments through one conversation, returning the verdicts.
    fn run(segs: &[Segment], dirs: &[usize]) -> Vec<Verdict> {
        let mut c = Conn::default();
        segs.iter()
            .zip(dirs)
            .map(|(s, &d)| c.segment(d, s))
            .collect()
    }

    /// The sequence of `/tmp`-made basic.pcap, checked frame by frame against tshark 4.0.17:
    /// handshake with window scaling (7 and 8), three segments, an ACK and three duplicates, a
    /// fast retransmission, a spurious one, a keep-alive and its ACK, a window update.
    #[test]
    fn the_rules_match_tshark_on_a_handshake_with_losses() {
        let mut syn = seg(1, 0, A, th::SYN, (0, 0), 65535, 0);
        syn.wscale = Some(7);
        let mut synack = seg(2, 50, B, SA, (0, 1), 65535, 0);
        synack.wscale = Some(8);
        let list = [
            (syn, A),
            (synack, B),
            (seg(3, 100, A, AK, (1, 1), 512, 0), A),
            (seg(4, 110, A, PA, (1, 1), 512, 100), A),
            (seg(5, 120, A, PA, (101, 1), 512, 100), A),
            (seg(6, 130, A, PA, (201, 1), 512, 100), A),
            (seg(7, 200, B, AK, (1, 101), 256, 0), B),
            (seg(8, 210, B, AK, (1, 101), 256, 0), B),
            (seg(9, 220, B, AK, (1, 101), 256, 0), B),
            (seg(10, 230, B, AK, (1, 101), 256, 0), B),
            (seg(11, 240, A, PA, (101, 1), 512, 100), A),
            (seg(12, 300, B, AK, (1, 301), 256, 0), B),
            (seg(13, 300_000, A, PA, (201, 1), 512, 100), A),
            (seg(14, 300_100, A, PA, (301, 1), 512, 100), A),
            (seg(15, 400_000, B, AK, (1, 401), 256, 0), B),
            (seg(16, 400_100, A, AK, (400, 1), 512, 0), A),
            (seg(17, 400_200, B, AK, (1, 401), 256, 0), B),
            (seg(18, 400_300, B, AK, (1, 401), 300, 0), B),
        ];
        let segs: Vec<Segment> = list.iter().map(|x| x.0).collect();
        let dirs: Vec<usize> = list.iter().map(|x| x.1).collect();
        let v = run(&segs, &dirs);
        // Frame 1: nothing to analyse; 2 acknowledges 1.
        assert!(!v[0].analysed);
        assert_eq!((v[0].completeness, v[1].completeness), (0, 1));
        assert_eq!((v[1].acks_frame, v[1].ack_rtt), (1, 50_000));
        // Frame 3 completes the handshake: iRTT 100 µs, acknowledges the SYN-ACK.
        assert_eq!(v[2].initial_rtt, 100_000);
        assert_eq!(v[2].acks_frame, 2);
        assert_eq!(v[2].win_scale, 7);
        // Bytes in flight grow by 100 a segment; PSH each time.
        assert_eq!(
            [
                v[3].bytes_in_flight,
                v[4].bytes_in_flight,
                v[5].bytes_in_flight
            ],
            [100, 200, 300]
        );
        assert_eq!(v[5].push_bytes_sent, 100);
        // Frame 7 acknowledges frame 4 after 90 µs; 8-10 are its duplicates #1-#3.
        assert_eq!((v[6].acks_frame, v[6].ack_rtt), (4, 90_000));
        for (k, i) in (7..10).enumerate() {
            assert_eq!(v[i].flags, flag::DUPLICATE_ACK);
            assert_eq!((v[i].dup_ack_num, v[i].dup_ack_frame), (k as u32 + 1, 7));
        }
        assert_eq!(v[10].flags, flag::FAST_RETRANSMISSION);
        assert_eq!(v[12].flags, flag::SPURIOUS_RETRANSMISSION);
        assert_eq!(v[13].flags, 0);
        assert_eq!(v[15].flags, flag::KEEP_ALIVE);
        assert_eq!(v[16].flags, flag::KEEP_ALIVE_ACK);
        assert_eq!(v[17].flags, flag::WINDOW_UPDATE);
        let mut s = String::new();
        v[9].info_prefix(&mut s);
        assert_eq!(s, "[TCP Dup ACK 7#3] ");
    }

    /// faults.pcapng #2 in miniature: a lost segment, duplicate ACKs, the fast retransmission;
    /// then an out-of-order pair.
    #[test]
    fn loss_then_reorder() {
        let list = [
            (seg(1, 0, A, th::SYN, (0, 0), 65535, 0), A),
            (seg(2, 2, B, SA, (0, 1), 65535, 0), B),
            (seg(3, 4, A, PA, (1, 1), 65535, 100), A),
            // 101..201 lost
            (seg(4, 6, A, PA, (201, 1), 65535, 100), A),
            (seg(5, 7, B, AK, (1, 101), 65535, 0), B),
            (seg(6, 8, B, AK, (1, 101), 65535, 0), B),
            (seg(7, 9, B, AK, (1, 101), 65535, 0), B),
            (seg(8, 10, A, PA, (101, 1), 65535, 100), A),
            (seg(9, 11, B, AK, (1, 301), 65535, 0), B),
            // 401.. before 301..
            (seg(10, 12, A, PA, (401, 1), 65535, 100), A),
            (seg(11, 13, A, PA, (301, 1), 65535, 100), A),
        ];
        let segs: Vec<Segment> = list.iter().map(|x| x.0).collect();
        let dirs: Vec<usize> = list.iter().map(|x| x.1).collect();
        let v = run(&segs, &dirs);
        assert_eq!(v[3].flags, flag::LOST_PACKET);
        // No bytes in flight until the other side ACKs again.
        assert_eq!(v[3].bytes_in_flight, 0);
        assert_eq!(v[5].flags, flag::DUPLICATE_ACK);
        assert_eq!(v[7].flags, flag::FAST_RETRANSMISSION);
        assert_eq!(v[9].flags, flag::LOST_PACKET);
        assert_eq!(v[10].flags, flag::OUT_OF_ORDER);
        let mut s = String::new();
        v[9].info_prefix(&mut s);
        assert_eq!(s, "[TCP Previous segment not captured] ");
    }

    /// A late copy of data never acknowledged is a plain retransmission, with its RTO measured
    /// from the oldest unacknowledged segment.
    #[test]
    fn a_timeout_retransmission() {
        let list = [
            (seg(1, 0, A, th::SYN, (0, 0), 65535, 0), A),
            (seg(2, 10, B, SA, (0, 1), 65535, 0), B),
            (seg(3, 20, A, AK, (1, 1), 65535, 0), A),
            (seg(4, 30, A, PA, (1, 1), 65535, 10), A),
            (seg(5, 40, A, PA, (11, 1), 65535, 10), A),
            (seg(6, 200_030, A, PA, (1, 1), 65535, 10), A),
        ];
        let segs: Vec<Segment> = list.iter().map(|x| x.0).collect();
        let dirs: Vec<usize> = list.iter().map(|x| x.1).collect();
        let v = run(&segs, &dirs);
        assert_eq!(v[5].flags, flag::RETRANSMISSION);
        assert_eq!((v[5].rto_frame, v[5].rto), (4, 200_000_000));
    }

    #[test]
    fn zero_window_probe_and_its_ack() {
        let list = [
            (seg(1, 0, A, th::SYN, (0, 0), 65535, 0), A),
            (seg(2, 10, B, SA, (0, 1), 65535, 0), B),
            (seg(3, 20, A, AK, (1, 1), 65535, 0), A),
            (seg(4, 30, A, PA, (1, 1), 65535, 10), A),
            (seg(5, 40, B, AK, (1, 11), 0, 0), B),
            (seg(6, 50, A, AK, (11, 1), 65535, 1), A),
            (seg(7, 60, B, AK, (1, 11), 0, 0), B),
        ];
        let segs: Vec<Segment> = list.iter().map(|x| x.0).collect();
        let dirs: Vec<usize> = list.iter().map(|x| x.1).collect();
        let v = run(&segs, &dirs);
        assert_eq!(v[4].flags, flag::ZERO_WINDOW);
        assert_eq!(v[5].flags, flag::ZERO_WINDOW_PROBE);
        assert_eq!(v[6].flags, flag::ZERO_WINDOW | flag::ZERO_WINDOW_PROBE_ACK);
        let mut s = String::new();
        v[6].info_prefix(&mut s);
        assert_eq!(s, "[TCP ZeroWindowProbeAck] [TCP ZeroWindow] ");
    }

    /// A seeded xorshift generator of numbers below `n`, for the randomised agreement tests.
    fn xorshift(mut x: u64) -> impl FnMut(u32) -> u32 {
        move |n: u32| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % u64::from(n)) as u32
        }
    }

    /// Trimming a chain from the front forgets, shrinks and reports the same segments, and
    /// leaves the same span, as visiting every segment does, near sequence-number wrap and for
    /// ACKs before, inside, at the end of and beyond the chain.
    #[test]
    fn chain_trim_agrees_with_the_full_walk() {
        let mut rnd = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut trimmed_by_chain = 0;
        for round in 0..4000 {
            let mut f = Flow {
                base_seq: [0, u32::MAX - 3000, 1 << 31, rnd(u32::MAX)][round % 4],
                ..Flow::default()
            };
            let mut seq = f.base_seq.wrapping_add(rnd(5000));
            for k in 0..1 + rnd(6) {
                let len = 1 + rnd(1500);
                let nextseq = seq.wrapping_add(len);
                f.span = match f.span {
                    _ if f.segments.is_empty() => Some((
                        seq.wrapping_sub(f.base_seq),
                        nextseq.wrapping_sub(f.base_seq),
                    )),
                    Some((a, b)) => Some((
                        a.min(seq.wrapping_sub(f.base_seq)),
                        b.max(nextseq.wrapping_sub(f.base_seq)),
                    )),
                    None => None,
                };
                f.chain = f.segments.is_empty() || f.chain;
                f.segments.push_back(Unacked {
                    frame: u64::from(k),
                    seq,
                    nextseq,
                    ts: 0,
                });
                seq = nextseq;
            }
            let first = f.segments[0].seq;
            let ends: Vec<u32> = f.segments.iter().map(|u| u.nextseq).collect();
            let ack = match rnd(5) {
                0 => first.wrapping_sub(rnd(3000)),
                1 => ends[rnd(ends.len() as u32) as usize],
                2 => ends[rnd(ends.len() as u32) as usize].wrapping_sub(rnd(1500)),
                3 => seq.wrapping_add(rnd(3000)),
                _ => first.wrapping_add(rnd(1 << 31) * 2),
            };
            let mut all = f.clone();
            let by_all = all.acknowledge_any(ack);
            let before = f.segments.len();
            let by_chain = f.acknowledge(ack);
            trimmed_by_chain += usize::from(f.chain && f.segments.len() < before);
            let key = |f: &Flow| -> Vec<(u64, u32, u32)> {
                f.segments
                    .iter()
                    .map(|u| (u.frame, u.seq, u.nextseq))
                    .collect()
            };
            assert_eq!(key(&f), key(&all), "ack {ack} round {round}");
            assert_eq!(by_chain.map(|u| u.frame), by_all.map(|u| u.frame));
            // The walk forgets the span; the chain recomputes it: both give the same bytes in
            // flight.
            let fold = |f: &Flow| {
                f.segments.iter().fold((u32::MAX, 0), |(a, b), u| {
                    (
                        a.min(u.seq.wrapping_sub(f.base_seq)),
                        b.max(u.nextseq.wrapping_sub(f.base_seq)),
                    )
                })
            };
            if let (Some(span), false) = (f.span, f.segments.is_empty()) {
                assert_eq!(span, fold(&f), "ack {ack} round {round}");
            }
        }
        assert!(trimmed_by_chain > 500, "{trimmed_by_chain}");
    }

    /// The cheap path for in-order segments ([`Conn::in_order`]) gives the same verdicts and
    /// leaves the same state as the full analysis, on random conversations that mix in-order
    /// data and ACKs with everything that should send a segment the long way: losses,
    /// retransmissions, duplicate ACKs, zero windows and probes, keep-alives, window changes,
    /// SACK and Window Scale options, SYNs, FINs and RSTs.
    #[test]
    fn the_in_order_path_agrees_with_the_full_analysis() {
        let mut rnd = xorshift(0x2545_f491_4f6c_dd1d);
        let (mut fast_taken, mut segments) = (0, 0);
        for round in 0..300 {
            let mut fast = Conn::default();
            let mut full = Conn::default();
            let isn = [rnd(u32::MAX), u32::MAX - rnd(20_000)];
            let mut next = [isn[0], isn[1]];
            let mut acked = [isn[1], isn[0]];
            let mut win = [65535u16, 65535];
            let mut ts = 1_700_000_000_000_000_000i64;
            let handshake = round % 3 != 0;
            for frame in 1..400u64 {
                let d = rnd(2) as usize;
                ts += i64::from(rnd(5_000_000));
                let mut flags = th::ACK;
                let mut len = [0, 1, 100, 1460, 8000][rnd(5) as usize];
                let mut seq = next[d];
                let mut wscale = None;
                let mut sack = ([(0, 0); 4], 0);
                if handshake && frame <= 2 {
                    flags = if frame == 1 {
                        th::SYN
                    } else {
                        th::SYN | th::ACK
                    };
                    len = 0;
                    seq = isn[d];
                    if rnd(2) == 0 {
                        wscale = Some(rnd(16) as u8);
                    }
                } else {
                    match rnd(60) {
                        0 => seq = seq.wrapping_sub(len.max(1)),
                        1 => seq = seq.wrapping_add(1 + rnd(3000)),
                        2 => seq = seq.wrapping_sub(1),
                        3 => flags |= th::FIN,
                        4 => flags = th::RST | (rnd(2) as u16 * th::ACK),
                        5 => flags = th::SYN | (rnd(2) as u16 * th::ACK),
                        // Zero windows in some conversations only: after a probe, tshark
                        // stops moving what the other side may be acknowledged for, and every
                        // later ACK goes the long way.
                        6 if round % 4 == 0 => win[d] = 0,
                        7 => win[d] = 1 + rnd(65535) as u16,
                        13 | 14 => win[d] = 65535,
                        15 | 16 => {
                            // Up to the edge of the other side's window (unscaled).
                            let room = acked[1 - d]
                                .wrapping_add(u32::from(win[1 - d]))
                                .wrapping_sub(seq);
                            if room > 0 && room < 70_000 {
                                len = room;
                            }
                        }
                        8 => wscale = Some(rnd(16) as u8),
                        9 => {
                            sack = (
                                [(acked[d], acked[d].wrapping_add(100)); 4],
                                1 + rnd(4) as u8,
                            )
                        }
                        10 => flags &= !th::ACK,
                        11 => len = 0,
                        12 => acked[d] = acked[d].wrapping_add(rnd(3000)),
                        _ => {}
                    }
                    if rnd(8) == 0 {
                        flags |= th::PSH;
                    }
                }
                // Acknowledge what the other side sent, or part of it, or nothing new.
                let ack = match rnd(6) {
                    0 => acked[d],
                    _ => next[1 - d],
                };
                acked[d] = ack;
                let s = Segment {
                    frame,
                    ts,
                    seq,
                    ack,
                    len,
                    flags,
                    window: win[d],
                    wscale,
                    sack,
                };
                let adv = len + u32::from(flags & (th::SYN | th::FIN) != 0);
                if gt(seq.wrapping_add(adv), next[d]) {
                    next[d] = seq.wrapping_add(adv);
                }
                if round % 50 == 0 && frame > 200 {
                    // A window that stays shut, so probes and their ACKs come up.
                    win[d] = 0;
                }
                fast_taken += usize::from(fast.clone().in_order(d, &s, &mut Verdict::default()));
                segments += 1;
                let a = fast.segment(d, &s);
                let mut b = Verdict::default();
                full.segment_full(d, &s, &mut b);
                assert_eq!(a, b, "round {round} frame {frame}");
                assert_eq!(
                    format!("{fast:?}"),
                    format!("{full:?}"),
                    "round {round} frame {frame}"
                );
            }
        }
        // Both kinds of segment came up often.
        assert!(fast_taken > segments / 4, "{fast_taken} of {segments}");
        assert!(fast_taken < segments * 9 / 10, "{fast_taken} of {segments}");
    }

    #[test]
    fn completeness_words() {
        assert_eq!(completeness_text(0), "Incomplete");
        assert_eq!(completeness_text(1), "Incomplete, SYN_SENT");
        assert_eq!(completeness_text(15), "Incomplete, DATA");
        assert_eq!(completeness_text(31), "Complete, WITH_DATA");
        assert_eq!(completeness_text(23), "Complete, NO_DATA");
        assert_eq!(completeness_text(11), "Incomplete");
    }

    #[test]
    fn options_walk() {
        let o = [2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 0, 9, 9];
        let kinds: Vec<(u8, usize, usize)> =
            options(&o).map(|x| (x.kind, x.at, x.raw.len())).collect();
        assert_eq!(
            kinds,
            vec![
                (2, 0, 4),
                (1, 4, 1),
                (3, 5, 3),
                (4, 8, 2),
                (0, 10, 1),
                (9, 11, 2)
            ]
        );
        assert_eq!(scan_options(&o).0, Some(7));
        // The zero padding after an EOL is more EOLs, as tshark shows it.
        let kinds: Vec<u8> = options(&[2, 4, 5, 0xb4, 4, 2, 3, 3, 7, 0, 0, 0])
            .map(|x| x.kind)
            .collect();
        assert_eq!(kinds, vec![2, 4, 3, 0, 0, 0]);
        // SACK blocks: the last option's, raw.
        let sack = [
            1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
        ];
        assert_eq!(
            scan_options(&sack),
            (None, ([(10, 20), (30, 40), (0, 0), (0, 0)], 2))
        );
        assert_eq!(scan_options(&[1, 1, 4, 2]).1.1, 0);
        // One walk finds both: the first Window Scale option, the last SACK option.
        let both = [
            3, 3, 7, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 3, 9, 5, 10, 0, 0, 0, 5, 0, 0, 0, 6,
        ];
        assert_eq!(
            scan_options(&both),
            (Some(7), ([(5, 6), (0, 0), (0, 0), (0, 0)], 1))
        );
        assert_eq!(scan_options(&[]), (None, ([(0, 0); 4], 0)));
        // A length running past the end is cut and ends the walk; a length below 2 too.
        let kinds: Vec<usize> = options(&[8, 10, 1, 2]).map(|x| x.raw.len()).collect();
        assert_eq!(kinds, vec![4]);
        assert_eq!(options(&[5, 1, 1]).count(), 1);
        assert_eq!(scan_options(&[3, 3, 20]).0, Some(14));
    }
}
