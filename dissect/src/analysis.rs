//! The analysis tshark does not do: STag lifecycles of one-shot exchanges (ONESHOT.md §6), RDMA
//! Read accounting, MSN and MO consistency per queue. Each finding is an expert item on the
//! frame where it shows, with its own field.
//!
//! An FPDU that arrives beyond a hole in its TCP stream is seen twice: shown in the frame that
//! carried it ([`Pass::Early`]), then handed over again when reassembly fills the hole
//! ([`Pass::Late`]). Its lifecycle events (advertise, use, close, Read octets) count when it is
//! first seen, so a hole the capture never fills (a segment the capture point missed) cannot
//! hide the messages after it; MSN, MO and L are checked in stream order, so TCP reordering is
//! not mistaken for a DDP fault. Read Responses are counted by their offsets, in any order.
//!
//! An STag left open is a leak once its closer can send nothing more: a FIN from the peer that
//! would close it (or an RST) reports it on that frame; STags still open when the capture ends
//! are only listed (`-z oneshot,stags`), as no frame is left to carry them.

use std::collections::VecDeque;

use std::collections::hash_map::Entry;

// foldhash rather than std's SipHash: it hashes these u32/u64 keys in a few instructions, and
// the resistance to HashDoS it gives up is not needed by an offline dissector (the capture is
// its only input, and a slow run the worst a crafted one could cause).
use foldhash::HashMap;

use oneshot_codec::oneshot::Op;
use oneshot_codec::rdmap::Opcode;

use crate::build::FpduSummary;
use crate::field::FieldId;
use crate::registry::f;
use crate::tree::{Severity, Tree, Value};

mod order;
#[cfg(test)]
mod tests;

use order::{Order, seq_after};

/// Closed STags, iSER STags and unexplained uses remembered per direction. A use of an STag
/// closed more than this many closes ago reads as a use before any advertise. Kept small enough
/// for the maps to stay in the CPU's caches: at 65536 the lookups of a capture of small
/// commands missed the caches and took a tenth of the whole run.
const RECENT: usize = 1 << 12;
/// Read Requests waiting for their Responses, per direction.
const MAX_READS: usize = 4096;

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

/// How the dissector hands an FPDU over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// In stream order, shown in this frame.
    InOrder,
    /// Shown in this frame, decoded from a segment beyond a hole or from a retransmission: not
    /// yet in stream order.
    Early,
    /// Reassembly reached it after it was shown early, in an earlier frame.
    Late,
}

/// Where an FPDU is analysed: connection, direction, frame and TCP position.
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
    /// How it is handed over.
    pub pass: Pass,
    /// Index of the FPDU's first node in the tree (findings point at its fields; the tree's
    /// length when the FPDU was shown in an earlier frame).
    pub first_node: usize,
    /// The connection's MPA Request is in the capture, so every advertise on it was seen (a
    /// capture that starts mid-connection may close STags advertised before it began).
    pub handshake: bool,
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
            map: HashMap::default(),
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
                // One look-up: forget `old` unless it was inserted again since.
                if let Entry::Occupied(e) = self.map.entry(old) {
                    if e.get().1 == generation {
                        e.remove();
                    }
                }
            }
        }
    }

    // Most of these maps are empty on a clean capture (no unexplained uses, no iSER): the
    // emptiness test spares hashing the key.
    fn get(&self, k: u32) -> Option<&V> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(&k).map(|(v, _)| v)
    }

    fn remove(&mut self, k: u32) -> Option<V> {
        if self.map.is_empty() {
            return None;
        }
        self.map.remove(&k).map(|(v, _)| v)
    }

    fn contains(&self, k: u32) -> bool {
        !self.map.is_empty() && self.map.contains_key(&k)
    }
}

/// What one direction's sender has done, and the STags it owns.
#[derive(Debug, Default)]
struct Dir {
    /// MSN, MO and L, checked in stream order.
    order: Order,
    /// Sequence number right after the last FPDU handed over in stream order.
    next_seq: Option<u32>,
    /// FPDUs seen early whose lifecycle events are counted: by sequence number.
    early: Recent<()>,
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
    /// Conversations in order of first sight, with their TCP stream indices.
    convs: Vec<(u64, Conv)>,
    /// Where each stream is in `convs`.
    index: HashMap<u64, usize>,
    /// The last stream looked up and where it is (consecutive FPDUs are mostly of one stream).
    last: Option<(u64, usize)>,
    /// Completed exchanges, in the order their closes were seen (unless [`Self::count_only`]).
    pub exchanges: Vec<Exchange>,
    /// Completed exchanges, counted.
    pub closed: u64,
    /// Count exchanges without keeping them, so that memory does not grow with the capture
    /// when no table of them is asked for.
    pub count_only: bool,
    /// Leaks already reported on the frame that ended their connection.
    ended: Vec<Leak>,
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

impl Analysis {
    /// The position of `stream`'s conversation in `convs`, made on first sight.
    fn conv(&mut self, stream: u64) -> usize {
        if let Some((s, i)) = self.last {
            if s == stream {
                return i;
            }
        }
        let next = self.convs.len();
        let i = *self.index.entry(stream).or_insert(next);
        if i == next {
            self.convs.push((stream, Conv::default()));
        }
        self.last = Some((stream, i));
        i
    }

    /// Looks at one FPDU `s` at `at`; adds expert items (and, on a close, the exchange) to `t`.
    pub fn fpdu(&mut self, t: &mut Tree, at: &At, s: &FpduSummary) {
        let i = self.conv(at.stream);
        let conv = &mut self.convs[i].1;
        let (me, peer) = split(conv, at.dir & 1);
        let end = at.seq.wrapping_add(at.len);
        let first_sight = match at.pass {
            Pass::InOrder => true,
            Pass::Late => me.early.remove(at.seq).is_none(),
            Pass::Early => {
                // A retransmission of what the stream already had, or of an early FPDU.
                let behind = me.next_seq.is_some_and(|n| !seq_after(end, n));
                let again = behind || me.early.contains(at.seq);
                if !again {
                    me.early.insert(at.seq, ());
                }
                !again
            }
        };
        if at.pass != Pass::Early {
            me.next_seq = Some(end);
            me.order.fpdu(s, at.frame, t, at.first_node);
        }
        if !s.ok || !first_sight {
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
                        self.closed += 1;
                        if !self.count_only {
                            self.exchanges.push(ex);
                        }
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
        let Some(&i) = self.index.get(&stream) else {
            return;
        };
        let conv = &mut self.convs[i].1;
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
    // The new advertisement replaces an open one (one look-up for both).
    let prev = me.advertised.insert(
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
    if let Some(prev) = prev {
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
                    None if at.handshake => t.expert(
                        f::ONESHOT_EXPERT_CLOSE_UNADVERTISED,
                        Severity::Error,
                        n,
                        format_args!(
                            "Close of STag 0x{stag:08x}{}, which the peer never advertised on this connection",
                            itt_text(itt)
                        ),
                    ),
                    None => t.expert(
                        f::ONESHOT_EXPERT_CLOSE_UNADVERTISED,
                        Severity::Note,
                        n,
                        format_args!(
                            "Close of STag 0x{stag:08x}{}, whose advertise is not in the capture (it starts after the connection's MPA handshake)",
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
    // Borrowed field by field, so that the open advertisement can be returned from the one
    // look-up while the other maps are still usable.
    let Dir {
        advertised,
        iser,
        closed,
        unexplained,
        uses_oneshot,
        ..
    } = owner;
    if let Some(adv) = advertised.get_mut(&stag) {
        return Some(adv);
    }
    if iser.contains(stag) {
        return None;
    }
    if let Some(c) = closed.get(stag) {
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
    } else if *uses_oneshot {
        t.expert(
            f::ONESHOT_EXPERT_USE_BEFORE_ADVERTISE,
            Severity::Error,
            n,
            format_args!("{what} uses STag 0x{stag:08x}, which the peer has not advertised"),
        );
    } else if !unexplained.contains(stag) {
        unexplained.insert(stag, (frame, what));
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
    // Nothing to add when no node of the subtree is built (`-q`, summary lines, `-T fields`
    // without these fields): spare the look-ups, the text and the moves.
    const FIELDS: [FieldId; 7] = [
        f::ONESHOT_EXCHANGE,
        f::ONESHOT_EXCHANGE_ITT,
        f::ONESHOT_EXCHANGE_DIRECTION,
        f::ONESHOT_EXCHANGE_ADVERTISE_FRAME,
        f::ONESHOT_EXCHANGE_CLOSE_FRAME,
        f::ONESHOT_EXCHANGE_BYTES,
        f::ONESHOT_EXCHANGE_DURATION,
    ];
    // They are all the `oneshot` protocol's rows: one test answers for the seven when none of
    // that protocol's fields is built.
    if !t.builds_within(f::ONESHOT) || !FIELDS.iter().any(|&x| t.builds(x)) {
        return;
    }
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
