//! The analysis tshark does not do: STag lifecycles of one-shot exchanges (ONESHOT.md §6), RDMA
//! Read accounting, MSN and MO consistency per queue. Each finding is an expert item on the
//! frame where it shows, with its own field.
//!
//! Two orders matter. Lifecycle events (advertise, use, close) are taken in the order the frames
//! were captured: that is the order the hosts saw them. MSN, MO and L are properties of one
//! direction's byte stream, so they are checked in TCP sequence order: an FPDU decoded from a
//! segment that arrived beyond a hole waits until the stream reaches it, and what it shows then
//! is reported on the frame that filled the hole, naming the frame that carried it.
//!
//! An STag left open is a leak once its closer can send nothing more: a FIN from the peer that
//! would close it (or an RST) reports it on that frame; STags still open when the capture ends
//! are only listed (`-z oneshot,stags`), as no frame is left to carry them.

use std::collections::{HashMap, VecDeque};

use oneshot_codec::oneshot::Op;
use oneshot_codec::rdmap::Opcode;

use crate::build::FpduSummary;
use crate::field::FieldId;
use crate::registry::f;
use crate::tree::{Severity, Tree, Value};

/// Closed STags, iSER STags and unexplained uses remembered per direction.
const RECENT: usize = 1 << 16;
/// Read Requests waiting for their Responses, per direction.
const MAX_READS: usize = 4096;
/// FPDUs decoded beyond a hole, waiting for the stream to reach them, per direction.
const MAX_AHEAD: usize = 4096;

/// One completed exchange: advertise → data → close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `tcp.stream` of the connection.
    pub stream: u64,
    /// The STag.
    pub stag: u32,
    /// The iSCSI ITT of the advertising command.
    pub itt: Option<u32>,
    /// Direction of the data: "write" (the target read S), "read" (the target wrote S),
    /// "bidi" (both) or "-" (the advertising message carried no SCSI data command).
    pub direction: &'static str,
    /// Octets moved through S (Read Responses from S, RDMA Writes into S).
    pub bytes: u64,
    /// Frame of the advertise.
    pub first_frame: u64,
    /// Frame of the close.
    pub last_frame: u64,
    /// Close time − advertise time.
    pub duration_ns: i64,
}

/// An STag advertised and never closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// `tcp.stream`.
    pub stream: u64,
    /// The STag.
    pub stag: u32,
    /// Frame of the advertise.
    pub frame: u64,
    /// ITT of its command.
    pub itt: Option<u32>,
    /// Its command: "write", "read", "bidi" or "-".
    pub direction: &'static str,
    /// Octets moved through it.
    pub bytes: u64,
    /// The frame that ended the connection for its closer (FIN or RST), where the leak was
    /// reported; `None` when it was still open at the end of the capture.
    pub ended_in: Option<u64>,
}

/// Where an FPDU sits: connection, direction, frame and TCP position.
#[derive(Debug, Clone, Copy)]
pub struct At {
    /// `tcp.stream`.
    pub stream: u64,
    /// Direction (0 or 1, as the conversation numbers them).
    pub dir: usize,
    /// Frame number.
    pub frame: u64,
    /// Capture time, ns.
    pub ts: i64,
    /// TCP sequence number of the FPDU's first octet.
    pub seq: u32,
    /// Its wire length (markers included).
    pub len: u32,
    /// Decoded from a segment that arrived beyond a hole in the stream (TCP out of order).
    pub ahead: bool,
    /// Index of the FPDU's first node in the tree (findings point at its fields).
    pub first_node: usize,
}

/// An STag advertised and not yet closed.
#[derive(Debug, Clone, Copy)]
struct Adv {
    itt: Option<u32>,
    edtl: Option<u32>,
    direction: &'static str,
    frame: u64,
    ts: i64,
    bytes: u64,
    requested: u64,
    edtl_warned: bool,
}

/// A closed STag, for uses after the close.
#[derive(Debug, Clone, Copy)]
struct Closed {
    frame: u64,
    adv_frame: u64,
    itt: Option<u32>,
}

/// A Read Request waiting for its Response.
#[derive(Debug, Clone, Copy)]
struct PendingRead {
    sink: u32,
    sink_to: u64,
    size: u32,
    source: u32,
    got: u64,
    /// Where the segment with L = 1 ended, relative to the sink offset.
    extent: Option<u64>,
    frame: u64,
}

impl PendingRead {
    /// Whether a Read Response segment into `stag` at `to` of `len` octets belongs here.
    fn fits(&self, stag: u32, to: u64, len: u64) -> bool {
        self.sink == stag
            && to >= self.sink_to
            && self.extent.is_none_or(|e| {
                self.got.saturating_add(len) <= e
                    && to.saturating_add(len) <= self.sink_to.saturating_add(e)
            })
    }
}

/// A map of recent entries that forgets the oldest beyond [`RECENT`].
#[derive(Debug)]
struct Recent<V> {
    map: HashMap<u32, (V, u64)>,
    order: VecDeque<(u32, u64)>,
    next: u64,
}

impl<V> Default for Recent<V> {
    fn default() -> Self {
        Recent {
            map: HashMap::new(),
            order: VecDeque::new(),
            next: 0,
        }
    }
}

impl<V> Recent<V> {
    fn insert(&mut self, k: u32, v: V) {
        self.next += 1;
        self.map.insert(k, (v, self.next));
        self.order.push_back((k, self.next));
        while self.order.len() > RECENT {
            if let Some((old, generation)) = self.order.pop_front() {
                if self.map.get(&old).is_some_and(|(_, g)| *g == generation) {
                    self.map.remove(&old);
                }
            }
        }
    }

    fn get(&self, k: u32) -> Option<&V> {
        self.map.get(&k).map(|(v, _)| v)
    }

    fn remove(&mut self, k: u32) -> Option<V> {
        self.map.remove(&k).map(|(v, _)| v)
    }

    fn contains(&self, k: u32) -> bool {
        self.map.contains_key(&k)
    }
}

/// What the ordering checks need of one FPDU.
#[derive(Debug, Clone, Copy)]
struct Seg {
    frame: u64,
    seq: u32,
    end: u32,
    /// Untagged with a queue the checks follow.
    queued: bool,
    qn: u32,
    msn: u32,
    mo: u32,
    payload_len: u64,
    last: bool,
    qualifier: Option<(Op, u32)>,
    oneshot_stag: Option<u32>,
}

/// A message being received segment by segment on one queue.
#[derive(Debug, Clone, Copy)]
struct InProgress {
    msn: u32,
    next_mo: u64,
    qualifier: Option<(Op, u32)>,
    stag: Option<u32>,
    frame: u64,
}

/// One untagged queue of one direction.
#[derive(Debug, Default, Clone, Copy)]
struct Queue {
    next_msn: Option<u32>,
    current: Option<InProgress>,
}

/// What one direction's sender has done, and the STags it owns.
#[derive(Debug, Default)]
struct Dir {
    /// Sequence number right after the last FPDU checked in stream order.
    next_seq: Option<u32>,
    /// FPDUs decoded beyond a hole, waiting for the stream to reach them.
    ahead: VecDeque<Seg>,
    queues: [Queue; 4],
    /// STags this sender advertised (one-shot), still open.
    advertised: HashMap<u32, Adv>,
    /// STags of this sender that the peer closed.
    closed: Recent<Closed>,
    /// STags this sender named in iSER headers (conventional flow).
    iser: Recent<u64>,
    /// STags of this sender the peer used before this sender said anything one-shot: frame
    /// and what used it (reported if the STag is advertised later).
    unexplained: Recent<(u64, &'static str)>,
    /// Read Requests this sender made.
    reads: VecDeque<PendingRead>,
    /// This sender advertised an STag on this connection.
    uses_oneshot: bool,
    /// STag of the RDMA Write this sender is in the middle of (its last segment not seen):
    /// a finding about it is made once per message.
    writing: Option<u32>,
}

#[derive(Debug, Default)]
struct Conv {
    dirs: [Dir; 2],
}

/// The analysis state of a capture.
#[derive(Debug, Default)]
pub struct Analysis {
    convs: HashMap<u64, Conv>,
    /// Completed exchanges, in the order their closes were seen.
    pub exchanges: Vec<Exchange>,
    /// Leaks already reported on the frame that ended their connection.
    ended: Vec<Leak>,
}

/// `a` is after `b` in sequence space.
fn seq_after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
}

/// The last node of `field` among the current FPDU's nodes.
fn node(t: &Tree, first: usize, field: FieldId) -> Option<u32> {
    let from = first.min(t.nodes.len());
    t.nodes[from..]
        .iter()
        .rposition(|n| n.field == field)
        .map(|i| (from + i) as u32)
}

/// " (ITT 0x…)" or nothing.
fn itt_text(itt: Option<u32>) -> String {
    itt.map_or_else(String::new, |i| format!(" (ITT 0x{i:x})"))
}

/// ", ITT 0x…" or nothing (inside parentheses).
fn itt_also(itt: Option<u32>) -> String {
    itt.map_or_else(String::new, |i| format!(", ITT 0x{i:x}"))
}

fn direction(flags: u8) -> &'static str {
    match (flags & 0x40 != 0, flags & 0x20 != 0) {
        (true, true) => "bidi",
        (true, false) => "read",
        (false, true) => "write",
        (false, false) => "-",
    }
}

/// The two directions of a conversation: the sender's and its peer's.
fn split(conv: &mut Conv, dir: usize) -> (&mut Dir, &mut Dir) {
    let (a, b) = conv.dirs.split_at_mut(1);
    if dir == 0 {
        (&mut a[0], &mut b[0])
    } else {
        (&mut b[0], &mut a[0])
    }
}

impl Seg {
    fn of(s: &FpduSummary, at: &At) -> Seg {
        Seg {
            frame: at.frame,
            seq: at.seq,
            end: at.seq.wrapping_add(at.len),
            queued: s.ok && !s.tagged && s.qn < 4,
            qn: s.qn,
            msn: s.msn,
            mo: s.mo,
            payload_len: s.payload_len as u64,
            last: s.last,
            qualifier: s.qualifier,
            oneshot_stag: s.oneshot_stag,
        }
    }
}

/// MSN, MO and L of one untagged segment, in stream order. `nodes` is the FPDU's first node
/// when it is in this frame; `None` when it was decoded earlier (out of order), and the
/// messages then name its frame.
fn check_order(queues: &mut [Queue; 4], g: &Seg, t: &mut Tree, nodes: Option<usize>) {
    if !g.queued {
        return;
    }
    let q = g.qn as usize;
    let queue = &mut queues[q];
    let at = |t: &Tree, field| nodes.and_then(|n| node(t, n, field));
    let whose = if nodes.is_some() {
        String::new()
    } else {
        format!(" (frame {}, received out of order)", g.frame)
    };
    match queue.current {
        Some(cur) if cur.msn == g.msn => {
            if u64::from(g.mo) != cur.next_mo {
                let n = at(t, f::IWARP_DDP_MO);
                t.expert(
                    f::IWARP_DDP_EXPERT_MO_INCONSISTENT,
                    Severity::Warning,
                    n,
                    format_args!(
                        "QN {q} MSN {}: MO {} where {} was due after the segments so far (first in frame {}){whose}",
                        g.msn, g.mo, cur.next_mo, cur.frame
                    ),
                );
            }
            if cur.qualifier != g.qualifier || cur.stag != g.oneshot_stag {
                let n = at(t, f::ONESHOT_STAG);
                let show = |q: Option<(Op, u32)>, s: Option<u32>| match (q, s) {
                    (Some((op, stag)), _) => format!("{} 0x{stag:08x}", op.name()),
                    (None, Some(stag)) => format!("malformed 0x{stag:08x}"),
                    (None, None) => "none".to_string(),
                };
                t.expert(
                    f::ONESHOT_EXPERT_SEGMENTS_DISAGREE,
                    Severity::Error,
                    n,
                    format_args!(
                        "QN {q} MSN {}: this segment's one-shot qualifier is {}, the first segment's (frame {}) {}{whose}",
                        g.msn,
                        show(g.qualifier, g.oneshot_stag),
                        cur.frame,
                        show(cur.qualifier, cur.stag)
                    ),
                );
            }
        }
        other => {
            if let Some(c) = other {
                t.expert(
                    f::IWARP_DDP_EXPERT_LAST_MISSING,
                    Severity::Warning,
                    at(t, f::IWARP_DDP_LAST_FLAG),
                    format_args!(
                        "QN {q}: MSN {} begins before MSN {} (first segment in frame {}) had its last segment (L = 1){whose}",
                        g.msn, c.msn, c.frame
                    ),
                );
            }
            if let Some(want) = queue.next_msn {
                if g.msn != want {
                    let (field, what) = if seq_after(g.msn, want) {
                        (f::IWARP_DDP_EXPERT_MSN_GAP, "gap")
                    } else {
                        (
                            f::IWARP_DDP_EXPERT_MSN_DUPLICATE,
                            "duplicate or out of order",
                        )
                    };
                    let n = at(t, f::IWARP_DDP_MSN);
                    t.expert(
                        field,
                        Severity::Warning,
                        n,
                        format_args!("QN {q}: MSN {} where {want} was due ({what}){whose}", g.msn),
                    );
                }
            }
            if g.mo != 0 {
                let n = at(t, f::IWARP_DDP_MO);
                t.expert(
                    f::IWARP_DDP_EXPERT_MO_INCONSISTENT,
                    Severity::Warning,
                    n,
                    format_args!(
                        "QN {q} MSN {}: the first segment seen has MO {}, not 0{whose}",
                        g.msn, g.mo
                    ),
                );
            }
        }
    }
    // The next segment continues this one (after a finding, the checks follow the wire).
    let next_mo = u64::from(g.mo) + g.payload_len;
    let first = match queue.current {
        Some(cur) if cur.msn == g.msn => cur,
        _ => InProgress {
            msn: g.msn,
            next_mo: 0,
            qualifier: g.qualifier,
            stag: g.oneshot_stag,
            frame: g.frame,
        },
    };
    queue.next_msn = Some(g.msn.wrapping_add(1));
    queue.current = (!g.last).then_some(InProgress { next_mo, ..first });
}

impl Dir {
    /// Takes one FPDU's position in the stream and runs the ordering checks on whatever is now
    /// in order.
    fn order(&mut self, g: Seg, ahead: bool, t: &mut Tree, first_node: usize) {
        if ahead {
            if self.ahead.len() >= MAX_AHEAD {
                self.ahead.pop_front();
            }
            self.ahead.push_back(g);
            return;
        }
        // In order, or after octets the capture never had (the TCP layer reports those): FPDUs
        // decoded earlier from beyond that hole come first.
        if let Some(expected) = self.next_seq {
            if seq_after(g.seq, expected) && !self.ahead.is_empty() {
                let mut skipped: Vec<Seg> = Vec::new();
                self.ahead.retain(|a| {
                    let before = !seq_after(a.seq, g.seq) && a.seq != g.seq;
                    if before {
                        skipped.push(*a);
                    }
                    !before
                });
                skipped.sort_by_key(|a| a.seq.wrapping_sub(expected));
                for a in &skipped {
                    check_order(&mut self.queues, a, t, None);
                }
            }
        }
        check_order(&mut self.queues, &g, t, Some(first_node));
        let mut next = g.end;
        while let Some(i) = self.ahead.iter().position(|a| a.seq == next) {
            if let Some(a) = self.ahead.remove(i) {
                check_order(&mut self.queues, &a, t, None);
                next = a.end;
            }
        }
        if !self.ahead.is_empty() {
            self.ahead.retain(|a| seq_after(a.seq, next));
        }
        self.next_seq = Some(next);
    }
}

impl Analysis {
    /// Looks at one FPDU `s` at `at`; adds expert items (and, on a close, the exchange) to `t`.
    pub fn fpdu(&mut self, t: &mut Tree, at: &At, s: &FpduSummary) {
        let conv = self.convs.entry(at.stream).or_default();
        let (me, peer) = split(conv, at.dir & 1);
        me.order(Seg::of(s, at), at.ahead, t, at.first_node);
        if !s.ok {
            return;
        }
        let frame = at.frame;
        let fnode = at.first_node;
        // iSER STags count as advertised for the conventional flow.
        if let Some((stag, _)) = s.iser_stags {
            me.iser.insert(stag, frame);
            me.closed.remove(stag);
        }
        // One-shot qualifiers act once per message, on its first segment.
        let first_segment = !s.tagged && s.mo == 0;
        if let (Some((op, stag)), true) = (s.qualifier, first_segment) {
            let n = node(t, fnode, f::ONESHOT_STAG);
            match op {
                Op::Advertise => advertise(me, t, at, s, stag, n),
                Op::Close => {
                    if let Some(ex) = close(me, peer, t, at, s, stag, n, &mut self.ended) {
                        exchange_tree(t, fnode, &ex);
                        self.exchanges.push(ex);
                    }
                }
            }
        }
        // Uses of STags: a Read Request's source, an RDMA Write's sink.
        if let Some((sink, size, source)) = s.read {
            let n = node(t, fnode, f::IWARP_RDMA_SRCSTAG);
            if let Some(adv) = used(peer, source, "RDMA Read Request", frame, t, n) {
                adv.requested += u64::from(size);
                if let (Some(edtl), false) = (adv.edtl, adv.edtl_warned) {
                    if adv.requested > u64::from(edtl) {
                        adv.edtl_warned = true;
                        let n = node(t, fnode, f::IWARP_RDMA_RDMARDSZ);
                        t.expert(
                            f::ONESHOT_EXPERT_BEYOND_EDTL,
                            Severity::Warning,
                            n,
                            format_args!(
                                "RDMA Read Requests from STag 0x{source:08x} ask {} octets in all, beyond the EDTL {edtl} of its command (frame {}{})",
                                adv.requested,
                                adv.frame,
                                itt_also(adv.itt)
                            ),
                        );
                    }
                }
            }
            if me.reads.len() >= MAX_READS {
                me.reads.pop_front();
            }
            me.reads.push_back(PendingRead {
                sink,
                sink_to: s.read_sink_to,
                size,
                source,
                got: 0,
                extent: None,
                frame,
            });
        }
        if s.tagged && s.opcode == Some(Opcode::RdmaWrite) {
            let continued = me.writing == Some(s.stag);
            me.writing = (!s.last).then_some(s.stag);
            let n = node(t, fnode, f::IWARP_DDP_STAG);
            let len = s.payload_len as u64;
            let adv = if continued {
                peer.advertised.get_mut(&s.stag)
            } else {
                used(peer, s.stag, "RDMA Write", frame, t, n)
            };
            if let Some(adv) = adv {
                adv.bytes += len;
                if let (Some(edtl), false) = (adv.edtl, adv.edtl_warned) {
                    if adv.bytes > u64::from(edtl) {
                        adv.edtl_warned = true;
                        t.expert(
                            f::ONESHOT_EXPERT_BEYOND_EDTL,
                            Severity::Warning,
                            n,
                            format_args!(
                                "RDMA Writes into STag 0x{:08x} total {} octets, beyond the EDTL {edtl} of its command (frame {}{})",
                                s.stag,
                                adv.bytes,
                                adv.frame,
                                itt_also(adv.itt)
                            ),
                        );
                    }
                }
            }
        }
        if s.tagged && s.opcode == Some(Opcode::RdmaReadResponse) {
            read_response(me, peer, t, at, s);
        }
    }

    /// The frame carries a FIN from `dir` (or an RST): STags that only `dir` could close (those
    /// its peer advertised; every open one on an RST) are leaks, reported here.
    pub fn ended(&mut self, t: &mut Tree, stream: u64, dir: usize, rst: bool, frame: u64) {
        let Some(conv) = self.convs.get_mut(&stream) else {
            return;
        };
        let owners = if rst { vec![0, 1] } else { vec![1 - (dir & 1)] };
        for o in owners {
            let mut open: Vec<(u32, Adv)> = conv.dirs[o].advertised.drain().collect();
            open.sort_by_key(|(stag, a)| (a.frame, *stag));
            for (stag, a) in open {
                t.expert(
                    f::ONESHOT_EXPERT_LEAK,
                    Severity::Note,
                    None,
                    format_args!(
                        "STag 0x{stag:08x} advertised in frame {}{} was never closed: {} here",
                        a.frame,
                        itt_text(a.itt),
                        if rst {
                            "the connection was reset"
                        } else {
                            "its closer sent its FIN"
                        }
                    ),
                );
                self.ended.push(Leak {
                    stream,
                    stag,
                    frame: a.frame,
                    itt: a.itt,
                    direction: a.direction,
                    bytes: a.bytes,
                    ended_in: Some(frame),
                });
            }
        }
    }

    /// Every STag advertised and never closed: those reported when their connection ended,
    /// then those still open at the end of the capture; by advertise frame.
    pub fn leaks(&self) -> Vec<Leak> {
        let mut v: Vec<Leak> = self.ended.clone();
        for (stream, c) in &self.convs {
            for d in &c.dirs {
                for (stag, a) in &d.advertised {
                    v.push(Leak {
                        stream: *stream,
                        stag: *stag,
                        frame: a.frame,
                        itt: a.itt,
                        direction: a.direction,
                        bytes: a.bytes,
                        ended_in: None,
                    });
                }
            }
        }
        v.sort_by_key(|l| (l.frame, l.stream, l.stag));
        v
    }
}

/// `advertise(S)` sent by `me`.
fn advertise(me: &mut Dir, t: &mut Tree, at: &At, s: &FpduSummary, stag: u32, n: Option<u32>) {
    me.uses_oneshot = true;
    let (itt, edtl, dir) = match s.iscsi {
        Some((0x01, itt, edtl, flags, _)) => (Some(itt), Some(edtl), direction(flags)),
        Some((_, itt, ..)) => (Some(itt), None, "-"),
        None => (None, None, "-"),
    };
    if let Some(prev) = me.advertised.get(&stag) {
        t.expert(
            f::ONESHOT_EXPERT_READVERTISED,
            Severity::Warning,
            n,
            format_args!(
                "STag 0x{stag:08x} advertised again{} while still open since frame {}{}",
                itt_text(itt),
                prev.frame,
                itt_text(prev.itt)
            ),
        );
    }
    if let Some((fr, what)) = me.unexplained.remove(stag) {
        t.expert(
            f::ONESHOT_EXPERT_USE_BEFORE_ADVERTISE,
            Severity::Error,
            n,
            format_args!(
                "STag 0x{stag:08x} is advertised here{}, but the {what} in frame {fr} already used it",
                itt_text(itt)
            ),
        );
    }
    me.closed.remove(stag);
    me.advertised.insert(
        stag,
        Adv {
            itt,
            edtl,
            direction: dir,
            frame: at.frame,
            ts: at.ts,
            bytes: 0,
            requested: 0,
            edtl_warned: false,
        },
    );
}

/// `close(S)` sent by `me`, for an STag `peer` should own. Returns the completed exchange.
#[allow(clippy::too_many_arguments)]
fn close(
    me: &mut Dir,
    peer: &mut Dir,
    t: &mut Tree,
    at: &At,
    s: &FpduSummary,
    stag: u32,
    n: Option<u32>,
    ended: &mut Vec<Leak>,
) -> Option<Exchange> {
    let itt = s.iscsi.map(|(_, itt, ..)| itt);
    // Reads from S that never got all their octets.
    let mut i = 0;
    while i < me.reads.len() {
        let r = me.reads[i];
        if r.source != stag {
            i += 1;
            continue;
        }
        me.reads.remove(i);
        if r.got != u64::from(r.size) && r.extent.is_none_or(|e| r.got < e) {
            t.expert(
                f::IWARP_RDMA_EXPERT_READ_SIZE_MISMATCH,
                Severity::Warning,
                n,
                format_args!(
                    "Close of STag 0x{stag:08x}, but the RDMA Read Request in frame {} (sink STag 0x{:08x}) got {} of its {} octets",
                    r.frame, r.sink, r.got, r.size
                ),
            );
        }
    }
    let adv = match peer.advertised.remove(&stag) {
        Some(a) => a,
        None => {
            // Reported as a leak when its connection ended, yet closed after all.
            if let Some(k) = ended
                .iter()
                .position(|l| l.stream == at.stream && l.stag == stag)
            {
                let l = ended.remove(k);
                Adv {
                    itt: l.itt,
                    edtl: None,
                    direction: l.direction,
                    frame: l.frame,
                    ts: at.ts,
                    bytes: l.bytes,
                    requested: 0,
                    edtl_warned: true,
                }
            } else {
                match peer.closed.get(stag) {
                    Some(c) => t.expert(
                        f::ONESHOT_EXPERT_CLOSED_TWICE,
                        Severity::Error,
                        n,
                        format_args!(
                            "Close of STag 0x{stag:08x}{}, already closed in frame {} (advertised in frame {}{})",
                            itt_text(itt),
                            c.frame,
                            c.adv_frame,
                            itt_also(c.itt)
                        ),
                    ),
                    None => t.expert(
                        f::ONESHOT_EXPERT_CLOSE_UNADVERTISED,
                        Severity::Error,
                        n,
                        format_args!(
                            "Close of STag 0x{stag:08x}{}, which the peer never advertised on this connection",
                            itt_text(itt)
                        ),
                    ),
                }
                return None;
            }
        }
    };
    if let (Some(a), Some(b)) = (adv.itt, itt) {
        if a != b {
            let itt_node = node(t, at.first_node, f::ISCSI_INITIATORTASKTAG).or(n);
            t.expert(
                f::ONESHOT_EXPERT_CLOSE_WRONG_ITT,
                Severity::Error,
                itt_node,
                format_args!(
                    "Close of STag 0x{stag:08x} carries ITT 0x{b:x}; the advertise in frame {} carried ITT 0x{a:x}",
                    adv.frame
                ),
            );
        }
    }
    peer.closed.insert(
        stag,
        Closed {
            frame: at.frame,
            adv_frame: adv.frame,
            itt: adv.itt,
        },
    );
    Some(Exchange {
        stream: at.stream,
        stag,
        itt: adv.itt,
        direction: adv.direction,
        bytes: adv.bytes,
        first_frame: adv.frame,
        last_frame: at.frame,
        duration_ns: at.ts.saturating_sub(adv.ts),
    })
}

/// A use of STag `stag` of `owner` (an RDMA Read source or RDMA Write sink) in `frame`: its
/// advertisement when open; else a finding when the owner manages STags one-shot, or a note
/// to report if the STag is advertised later.
fn used<'d>(
    owner: &'d mut Dir,
    stag: u32,
    what: &'static str,
    frame: u64,
    t: &mut Tree,
    n: Option<u32>,
) -> Option<&'d mut Adv> {
    if owner.advertised.contains_key(&stag) {
        return owner.advertised.get_mut(&stag);
    }
    if owner.iser.contains(stag) {
        return None;
    }
    if let Some(c) = owner.closed.get(stag) {
        t.expert(
            f::ONESHOT_EXPERT_USE_AFTER_CLOSE,
            Severity::Error,
            n,
            format_args!(
                "{what} uses STag 0x{stag:08x}, closed in frame {} (advertised in frame {}{})",
                c.frame,
                c.adv_frame,
                itt_also(c.itt)
            ),
        );
    } else if owner.uses_oneshot {
        t.expert(
            f::ONESHOT_EXPERT_USE_BEFORE_ADVERTISE,
            Severity::Error,
            n,
            format_args!("{what} uses STag 0x{stag:08x}, which the peer has not advertised"),
        );
    } else if !owner.unexplained.contains(stag) {
        owner.unexplained.insert(stag, (frame, what));
    }
    None
}

/// A Read Response segment sent by `me`, answering a Read Request of `peer`.
fn read_response(me: &mut Dir, peer: &mut Dir, t: &mut Tree, at: &At, s: &FpduSummary) {
    let len = s.payload_len as u64;
    let Some(pos) = peer.reads.iter().position(|r| r.fits(s.stag, s.to, len)) else {
        return;
    };
    let r = &mut peer.reads[pos];
    r.got += len;
    if let Some(adv) = me.advertised.get_mut(&r.source) {
        adv.bytes += len;
    }
    if s.last {
        let extent = (s.to - r.sink_to).saturating_add(len);
        r.extent = Some(extent);
        if extent != u64::from(r.size) {
            let n = node(t, at.first_node, f::IWARP_DDP_STAG);
            t.expert(
                f::IWARP_RDMA_EXPERT_READ_SIZE_MISMATCH,
                Severity::Warning,
                n,
                format_args!(
                    "RDMA Read Response into sink STag 0x{:08x} ends after {extent} octets; the Read Request in frame {} (source STag 0x{:08x}) asked {}",
                    r.sink, r.frame, r.source, r.size
                ),
            );
        }
    }
    if r.extent.is_some_and(|e| r.got >= e) {
        peer.reads.remove(pos);
    }
}

/// The exchange a close completes, as a subtree of the close's `oneshot` protocol node.
fn exchange_tree(t: &mut Tree, first_node: usize, ex: &Exchange) {
    let from = first_node.min(t.nodes.len());
    let Some(proto) = t.nodes[from..]
        .iter()
        .rposition(|n| n.field == f::ONESHOT)
        .map(|i| from + i)
    else {
        return;
    };
    let at = t.children(proto).last().map_or(proto + 1, |(i, _)| i + 1);
    let anchor = node(t, first_node, f::ONESHOT_STAG).map_or(proto, |i| i as usize);
    let (src, start, len) = {
        let a = &t.nodes[anchor];
        (a.src, a.start as usize, a.len as usize)
    };
    let depth = t.nodes[proto].depth + 1;
    let saved = t.depth();
    let base = t.nodes.len();
    t.set_depth(depth);
    let top = t.add(f::ONESHOT_EXCHANGE, Value::None, src, start, len);
    let itt = ex
        .itt
        .map_or_else(String::new, |i| format!(", ITT 0x{i:x}"));
    t.label(
        top,
        format_args!(
            "Exchange: STag 0x{:08x}{itt}, {}, {} octets, frames {} to {}",
            ex.stag, ex.direction, ex.bytes, ex.first_frame, ex.last_frame
        ),
    );
    t.push();
    if let Some(i) = ex.itt {
        t.add(
            f::ONESHOT_EXCHANGE_ITT,
            Value::Uint(u64::from(i)),
            src,
            start,
            len,
        );
    }
    t.add(
        f::ONESHOT_EXCHANGE_DIRECTION,
        Value::Str(ex.direction),
        src,
        start,
        len,
    );
    t.add(
        f::ONESHOT_EXCHANGE_ADVERTISE_FRAME,
        Value::Uint(ex.first_frame),
        src,
        start,
        len,
    );
    t.add(
        f::ONESHOT_EXCHANGE_CLOSE_FRAME,
        Value::Uint(ex.last_frame),
        src,
        start,
        len,
    );
    t.add(
        f::ONESHOT_EXCHANGE_BYTES,
        Value::Uint(ex.bytes),
        src,
        start,
        len,
    );
    t.add(
        f::ONESHOT_EXCHANGE_DURATION,
        Value::RelTime(ex.duration_ns),
        src,
        start,
        len,
    );
    t.set_depth(saved);
    // Move the new nodes into place, inside the oneshot subtree; findings that point at nodes
    // after it move with them.
    let added = t.nodes.len() - base;
    if at < base {
        t.nodes[at..].rotate_right(added);
        for e in &mut t.experts {
            if let Some(k) = e.node.as_mut() {
                if (*k as usize) >= at && (*k as usize) < base {
                    *k += added as u32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(frame: u64, dir: usize, seq: u32, len: u32, ahead: bool) -> At {
        At {
            stream: 0,
            dir,
            frame,
            ts: frame as i64 * 1000,
            seq,
            len,
            ahead,
            first_node: 0,
        }
    }

    fn send(msn: u32, mo: u32, len: usize, last: bool) -> FpduSummary {
        FpduSummary {
            ok: true,
            opcode: Some(Opcode::SendSe),
            last,
            msn,
            mo,
            payload_len: len,
            ..FpduSummary::default()
        }
    }

    fn qualified(op: Op, stag: u32, itt: u32, flags: u8) -> FpduSummary {
        FpduSummary {
            qualifier: Some((op, stag)),
            oneshot_stag: Some(stag),
            iscsi: Some((
                if op == Op::Advertise { 0x01 } else { 0x21 },
                itt,
                4096,
                flags,
                0,
            )),
            ..send(1, 0, 48, true)
        }
    }

    /// The findings of one frame: (field, severity, message).
    fn run(a: &mut Analysis, at: &At, s: &FpduSummary) -> Vec<(&'static str, Severity, String)> {
        let mut t = Tree::default();
        a.fpdu(&mut t, at, s);
        findings(&t)
    }

    fn findings(t: &Tree) -> Vec<(&'static str, Severity, String)> {
        t.experts
            .iter()
            .map(|e| {
                (
                    e.field.def().abbrev,
                    e.severity,
                    t.arena_str(e.text).to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn segments_beyond_a_hole_are_checked_when_the_stream_reaches_them() {
        let mut a = Analysis::default();
        assert!(run(&mut a, &at(1, 0, 1000, 100, false), &send(1, 0, 50, true)).is_empty());
        // MSN 3 arrives before MSN 2 (TCP reordering): nothing to say yet, nor when 2 fills in.
        assert!(run(&mut a, &at(2, 0, 1200, 100, true), &send(3, 0, 50, true)).is_empty());
        assert!(run(&mut a, &at(3, 0, 1100, 100, false), &send(2, 0, 50, true)).is_empty());
        assert!(run(&mut a, &at(4, 0, 1300, 100, false), &send(4, 0, 50, true)).is_empty());
        // MSN 9 beyond a hole: reported on the frame that fills the hole, naming its own frame.
        assert!(run(&mut a, &at(5, 0, 1500, 100, true), &send(9, 0, 50, true)).is_empty());
        let f = run(&mut a, &at(6, 0, 1400, 100, false), &send(5, 0, 50, true));
        assert_eq!(
            f,
            vec![(
                "iwarp_ddp.expert.msn_gap",
                Severity::Warning,
                "QN 0: MSN 9 where 6 was due (gap) (frame 5, received out of order)".to_string()
            )]
        );
    }

    #[test]
    fn out_of_order_segments_of_one_message_keep_their_offsets() {
        let mut a = Analysis::default();
        assert!(run(&mut a, &at(1, 0, 0, 110, false), &send(1, 0, 100, false)).is_empty());
        assert!(run(&mut a, &at(2, 0, 220, 110, true), &send(1, 200, 100, true)).is_empty());
        assert!(
            run(
                &mut a,
                &at(3, 0, 110, 110, false),
                &send(1, 100, 100, false)
            )
            .is_empty()
        );
        // A wrong MO in stream order is reported.
        let f = run(&mut a, &at(4, 0, 330, 110, false), &send(2, 0, 100, false));
        assert!(f.is_empty(), "{f:?}");
        let f = run(&mut a, &at(5, 0, 440, 110, false), &send(2, 104, 100, true));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, "iwarp_ddp.expert.mo_inconsistent");
        assert_eq!(
            f[0].2,
            "QN 0 MSN 2: MO 104 where 100 was due after the segments so far (first in frame 4)"
        );
    }

    #[test]
    fn a_gap_in_the_capture_checks_what_was_decoded_beyond_it_first() {
        let mut a = Analysis::default();
        run(&mut a, &at(1, 0, 0, 100, false), &send(1, 0, 50, true));
        // 100..200 is never captured; 200.. arrives out of order, then reassembly moves on.
        run(&mut a, &at(2, 0, 200, 100, true), &send(3, 0, 50, true));
        let f = run(&mut a, &at(3, 0, 300, 100, false), &send(4, 0, 50, true));
        assert_eq!(
            f,
            vec![(
                "iwarp_ddp.expert.msn_gap",
                Severity::Warning,
                "QN 0: MSN 3 where 2 was due (gap) (frame 2, received out of order)".to_string()
            )],
            "MSN 2 is missing with its octets; MSN 4 follows MSN 3"
        );
    }

    #[test]
    fn segments_of_one_message_must_agree_on_the_qualifier() {
        let mut a = Analysis::default();
        let first = FpduSummary {
            last: false,
            payload_len: 100,
            ..qualified(Op::Advertise, 0x10, 1, 0x20)
        };
        run(&mut a, &at(1, 0, 0, 130, false), &first);
        let second = FpduSummary {
            mo: 100,
            ..qualified(Op::Advertise, 0x11, 1, 0x20)
        };
        let f = run(&mut a, &at(2, 0, 130, 80, false), &second);
        assert_eq!(
            f,
            vec![(
                "oneshot.expert.segments_disagree",
                Severity::Error,
                "QN 0 MSN 1: this segment's one-shot qualifier is advertise 0x00000011, the first segment's (frame 1) advertise 0x00000010".to_string()
            )]
        );
        assert_eq!(a.leaks().len(), 1, "only the first segment advertises");
        assert_eq!(a.leaks()[0].stag, 0x10);
    }

    #[test]
    fn a_second_close_is_its_own_finding() {
        let mut a = Analysis::default();
        run(
            &mut a,
            &at(1, 0, 0, 80, false),
            &qualified(Op::Advertise, 0x10, 7, 0x20),
        );
        assert!(
            run(
                &mut a,
                &at(2, 1, 0, 80, false),
                &qualified(Op::Close, 0x10, 7, 0)
            )
            .is_empty()
        );
        let mut again = qualified(Op::Close, 0x10, 7, 0);
        again.msn = 2;
        let f = run(&mut a, &at(3, 1, 80, 80, false), &again);
        assert_eq!(
            f,
            vec![(
                "oneshot.expert.closed_twice",
                Severity::Error,
                "Close of STag 0x00000010 (ITT 0x7), already closed in frame 2 (advertised in frame 1, ITT 0x7)".to_string()
            )]
        );
        assert_eq!(a.exchanges.len(), 1);
        assert_eq!(a.exchanges[0].duration_ns, 1000);
        assert_eq!(a.exchanges[0].direction, "write");
    }

    #[test]
    fn leaks_show_when_the_closer_can_no_longer_close() {
        let mut a = Analysis::default();
        run(
            &mut a,
            &at(1, 0, 0, 80, false),
            &qualified(Op::Advertise, 0x10, 7, 0x40),
        );
        run(
            &mut a,
            &at(2, 1, 0, 80, false),
            &qualified(Op::Advertise, 0x20, 8, 0x20),
        );
        // The owner's own FIN: its peer may still close.
        let mut t = Tree::default();
        a.ended(&mut t, 0, 0, false, 3);
        let f = findings(&t);
        assert_eq!(f.len(), 1, "direction 0 can no longer close 0x20: {f:?}");
        assert_eq!(
            f[0].2,
            "STag 0x00000020 advertised in frame 2 (ITT 0x8) was never closed: its closer sent its FIN here"
        );
        let mut t = Tree::default();
        a.ended(&mut t, 0, 1, true, 4);
        let f = findings(&t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, "oneshot.expert.leak");
        assert_eq!(f[0].1, Severity::Note);
        assert!(
            f[0].2.ends_with("the connection was reset here"),
            "{}",
            f[0].2
        );
        let leaks = a.leaks();
        assert_eq!(
            leaks
                .iter()
                .map(|l| (l.stag, l.frame, l.direction, l.ended_in))
                .collect::<Vec<_>>(),
            vec![(0x10, 1, "read", Some(4)), (0x20, 2, "write", Some(3))]
        );
    }

    #[test]
    fn read_responses_count_whatever_order_they_arrive_in() {
        let mut a = Analysis::default();
        run(
            &mut a,
            &at(1, 0, 0, 80, false),
            &qualified(Op::Advertise, 0x10, 7, 0x20),
        );
        let rr = FpduSummary {
            opcode: Some(Opcode::RdmaReadRequest),
            qn: 1,
            read: Some((0x99, 300, 0x10)),
            read_sink_to: 0x1000,
            ..send(1, 0, 0, true)
        };
        assert!(run(&mut a, &at(2, 1, 0, 50, false), &rr).is_empty());
        let resp = |to: u64, last: bool| FpduSummary {
            opcode: Some(Opcode::RdmaReadResponse),
            tagged: true,
            stag: 0x99,
            to,
            ..send(0, 0, 100, last)
        };
        assert!(run(&mut a, &at(3, 0, 80, 120, false), &resp(0x1000, false)).is_empty());
        assert!(run(&mut a, &at(4, 0, 320, 120, true), &resp(0x1000 + 200, true)).is_empty());
        assert!(
            run(
                &mut a,
                &at(5, 0, 200, 120, false),
                &resp(0x1000 + 100, false)
            )
            .is_empty()
        );
        let close = FpduSummary {
            msn: 1,
            ..qualified(Op::Close, 0x10, 7, 0)
        };
        assert!(run(&mut a, &at(6, 1, 50, 80, false), &close).is_empty());
        assert_eq!(a.exchanges[0].bytes, 300);
        // A response that ends short of the request.
        run(
            &mut a,
            &at(7, 0, 440, 80, false),
            &qualified(Op::Advertise, 0x11, 8, 0x20),
        );
        let rr2 = FpduSummary {
            msn: 2,
            read: Some((0x99, 300, 0x11)),
            ..rr
        };
        run(&mut a, &at(8, 1, 130, 50, false), &rr2);
        let f = run(
            &mut a,
            &at(9, 0, 520, 120, false),
            &resp(0x1000 + 100, true),
        );
        assert_eq!(
            f,
            vec![(
                "iwarp_rdma.expert.read_size_mismatch",
                Severity::Warning,
                "RDMA Read Response into sink STag 0x00000099 ends after 200 octets; the Read Request in frame 8 (source STag 0x00000011) asked 300".to_string()
            )]
        );
    }

    #[test]
    fn recent_forgets_the_oldest_and_keeps_reinserted_keys() {
        let mut r: Recent<u32> = Recent::default();
        r.insert(1, 10);
        r.remove(1);
        r.insert(1, 11);
        for k in 2..=RECENT as u32 {
            r.insert(k, 0);
        }
        // Key 1's first entry is evicted from the order, but its newer value stays.
        assert_eq!(r.get(1), Some(&11));
        r.insert(RECENT as u32 + 1, 0);
        assert_eq!(r.get(1), None, "now the oldest");
        assert_eq!(r.get(2), Some(&0));
    }

    #[test]
    fn sequence_comparison_wraps() {
        assert!(seq_after(5, 3));
        assert!(seq_after(2, u32::MAX - 1));
        assert!(!seq_after(3, 3));
        assert!(!seq_after(3, 5));
    }

    #[test]
    fn read_response_segments_fit_their_request() {
        let r = PendingRead {
            sink: 7,
            sink_to: 0x1000,
            size: 100,
            source: 9,
            got: 60,
            extent: Some(100),
            frame: 1,
        };
        assert!(r.fits(7, 0x1000, 40));
        assert!(!r.fits(7, 0x1000, 41), "more than the rest");
        assert!(!r.fits(8, 0x1000, 10), "another sink");
        assert!(!r.fits(7, 0xfff, 10), "before the sink offset");
    }
}
