//! The analysis tshark does not do: STag lifecycles of one-shot exchanges (ONESHOT.md §6), RDMA
//! Read accounting, MSN and MO consistency per queue. Each finding is an expert item on the
//! frame where it shows; leaks are known only at the end of the capture.

use std::collections::{HashMap, VecDeque};

use oneshot_codec::oneshot::Op;
use oneshot_codec::rdmap::Opcode;

use crate::build::FpduSummary;
use crate::registry::f;
use crate::tree::{Severity, Tree};

/// One completed exchange: advertise → data → close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// `tcp.stream` of the connection.
    pub stream: u64,
    /// The STag.
    pub stag: u32,
    /// The iSCSI ITT of the advertising command.
    pub itt: Option<u32>,
    /// Direction of the data: "write" (the target read S) or "read" (the target wrote S).
    pub direction: &'static str,
    /// Octets moved through S.
    pub bytes: u64,
    /// Frame of the advertise.
    pub first_frame: u64,
    /// Frame of the close.
    pub last_frame: u64,
    /// Close time − advertise time.
    pub duration_ns: i64,
}

/// An STag advertised and not yet closed.
#[derive(Debug, Clone, Copy)]
struct Adv {
    itt: Option<u32>,
    edtl: Option<u32>,
    write: Option<bool>,
    frame: u64,
    ts: i64,
    bytes: u64,
    requested: u64,
}

/// A Read Request waiting for its Response.
#[derive(Debug, Clone, Copy)]
struct PendingRead {
    sink: u32,
    size: u32,
    source: u32,
    got: u64,
    frame: u64,
}

/// A message being received segment by segment on one queue.
#[derive(Debug, Clone, Copy)]
struct InProgress {
    msn: u32,
    next_mo: u64,
    qualifier: Option<(Op, u32)>,
    stag: Option<u32>,
}

/// What one direction's sender has done.
#[derive(Debug, Default)]
struct Dir {
    next_msn: [Option<u32>; 4],
    current: [Option<InProgress>; 4],
    /// STags this sender advertised (one-shot or iSER), still open.
    advertised: HashMap<u32, Adv>,
    /// STags of this sender that the peer closed.
    closed: HashMap<u32, u64>,
    /// STags this sender named in iSER headers (conventional flow).
    iser: HashMap<u32, u64>,
    /// Read Requests this sender made.
    reads: VecDeque<PendingRead>,
    uses_oneshot: bool,
}

#[derive(Debug, Default)]
struct Conv {
    dirs: [Dir; 2],
}

/// A use of STag `stag` of `peer` (an RDMA Read source or RDMA Write sink): counts the octets
/// against its advertisement, or reports a use before the advertise or after the close.
fn used<'d>(
    peer: &'d mut Dir,
    stag: u32,
    what: &str,
    bytes: u64,
    t: &mut Tree,
) -> Option<&'d mut Adv> {
    if peer.advertised.contains_key(&stag) {
        let adv = peer.advertised.get_mut(&stag).expect("present");
        adv.bytes += bytes;
        return Some(adv);
    }
    if let Some(fr) = peer.closed.get(&stag) {
        t.expert(
            f::ONESHOT_EXPERT_USE_AFTER_CLOSE,
            Severity::Error,
            None,
            format_args!("{what} uses STag 0x{stag:08x}, closed in frame {fr}"),
        );
    } else if peer.uses_oneshot && !peer.iser.contains_key(&stag) {
        t.expert(
            f::ONESHOT_EXPERT_USE_BEFORE_ADVERTISE,
            Severity::Error,
            None,
            format_args!("{what} uses STag 0x{stag:08x}, which the peer has not advertised"),
        );
    }
    None
}

/// The analysis state of a capture.
#[derive(Debug, Default)]
pub struct Analysis {
    convs: HashMap<u64, Conv>,
    /// Completed exchanges, in the order their closes were seen.
    pub exchanges: Vec<Exchange>,
}

/// A leak found at the end: an STag advertised and never closed.
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
}

impl Analysis {
    /// Looks at one FPDU sent in direction `dir` of conversation `stream`, in frame `frame`;
    /// adds expert items to `t`.
    pub fn fpdu(
        &mut self,
        t: &mut Tree,
        stream: u64,
        dir: usize,
        frame: u64,
        ts: i64,
        s: &FpduSummary,
    ) {
        if !s.ok {
            return;
        }
        let conv = self.convs.entry(stream).or_default();
        let (me, peer) = if dir == 0 {
            let (a, b) = conv.dirs.split_at_mut(1);
            (&mut a[0], &mut b[0])
        } else {
            let (a, b) = conv.dirs.split_at_mut(1);
            (&mut b[0], &mut a[0])
        };
        // MSN / MO / L per queue (untagged only).
        if !s.tagged && s.qn < 4 {
            let q = s.qn as usize;
            match me.current[q] {
                Some(cur) if cur.msn == s.msn => {
                    if u64::from(s.mo) != cur.next_mo {
                        t.expert(
                            f::IWARP_DDP_EXPERT_MO_INCONSISTENT,
                            Severity::Warning,
                            None,
                            format_args!(
                                "MO {} where {} was due (QN {q} MSN {})",
                                s.mo, cur.next_mo, s.msn
                            ),
                        );
                    }
                    if cur.qualifier != s.qualifier || cur.stag != s.oneshot_stag {
                        t.expert(
                            f::ONESHOT_EXPERT_SEGMENTS_DISAGREE,
                            Severity::Error,
                            None,
                            format_args!(
                                "Segments of MSN {} disagree on the one-shot qualifier or STag",
                                s.msn
                            ),
                        );
                    }
                }
                other => {
                    if other.is_some() {
                        t.expert(
                            f::IWARP_DDP_EXPERT_LAST_MISSING,
                            Severity::Warning,
                            None,
                            format_args!(
                                "QN {q}: a new message (MSN {}) before the last segment of MSN {}",
                                s.msn,
                                other.map_or(0, |c| c.msn)
                            ),
                        );
                    }
                    if let Some(want) = me.next_msn[q] {
                        if s.msn != want {
                            let (field, what) = if s.msn.wrapping_sub(want) < 0x8000_0000 {
                                (f::IWARP_DDP_EXPERT_MSN_GAP, "gap")
                            } else {
                                (
                                    f::IWARP_DDP_EXPERT_MSN_DUPLICATE,
                                    "duplicate or out of order",
                                )
                            };
                            t.expert(
                                field,
                                Severity::Warning,
                                None,
                                format_args!("QN {q}: MSN {} where {want} was due ({what})", s.msn),
                            );
                        }
                    }
                    if s.mo != 0 {
                        t.expert(
                            f::IWARP_DDP_EXPERT_MO_INCONSISTENT,
                            Severity::Warning,
                            None,
                            format_args!("First segment of MSN {} has MO {}", s.msn, s.mo),
                        );
                    }
                }
            }
            me.next_msn[q] = Some(s.msn.wrapping_add(1));
            me.current[q] = (!s.last).then_some(InProgress {
                msn: s.msn,
                next_mo: u64::from(s.mo) + s.payload_len as u64,
                qualifier: s.qualifier,
                stag: s.oneshot_stag,
            });
        }
        // iSER STags count as advertised for the conventional flow.
        if let Some((stag, _)) = s.iser_stags {
            me.iser.insert(stag, frame);
        }
        // One-shot qualifiers (only on the first segment of a message).
        let first_segment = !s.tagged && s.mo == 0;
        if let (Some((op, stag)), true) = (s.qualifier, first_segment) {
            me.uses_oneshot = true;
            match op {
                Op::Advertise => {
                    let (itt, edtl, write) = match s.iscsi {
                        Some((0x01, itt, edtl, flags, _)) => {
                            (Some(itt), Some(edtl), Some(flags & 0x20 != 0))
                        }
                        Some((_, itt, ..)) => (Some(itt), None, None),
                        None => (None, None, None),
                    };
                    if let Some(prev) = me.advertised.get(&stag) {
                        t.expert(
                            f::ONESHOT_EXPERT_READVERTISED,
                            Severity::Warning,
                            None,
                            format_args!("STag 0x{stag:08x} advertised again while still open (first in frame {})", prev.frame),
                        );
                    }
                    me.closed.remove(&stag);
                    me.advertised.insert(
                        stag,
                        Adv {
                            itt,
                            edtl,
                            write,
                            frame,
                            ts,
                            bytes: 0,
                            requested: 0,
                        },
                    );
                }
                Op::Close => {
                    let itt = s.iscsi.map(|(_, itt, ..)| itt);
                    match peer.advertised.remove(&stag) {
                        None => {
                            let (field, text) = match peer.closed.get(&stag) {
                                Some(fr) => (
                                    f::ONESHOT_EXPERT_USE_AFTER_CLOSE,
                                    format!(
                                        "STag 0x{stag:08x} closed again (already closed in frame {fr})"
                                    ),
                                ),
                                None => (
                                    f::ONESHOT_EXPERT_CLOSE_UNADVERTISED,
                                    format!(
                                        "Close of STag 0x{stag:08x}, which the peer never advertised on this connection"
                                    ),
                                ),
                            };
                            t.expert(field, Severity::Error, None, format_args!("{text}"));
                        }
                        Some(adv) => {
                            if let (Some(a), Some(b)) = (adv.itt, itt) {
                                if a != b {
                                    t.expert(
                                        f::ONESHOT_EXPERT_CLOSE_WRONG_ITT,
                                        Severity::Error,
                                        None,
                                        format_args!("Close of STag 0x{stag:08x} carries ITT 0x{b:x}; it was advertised with ITT 0x{a:x} (frame {})", adv.frame),
                                    );
                                }
                            }
                            peer.closed.insert(stag, frame);
                            self.exchanges.push(Exchange {
                                stream,
                                stag,
                                itt: adv.itt,
                                direction: match adv.write {
                                    Some(true) => "write",
                                    Some(false) => "read",
                                    None => "-",
                                },
                                bytes: adv.bytes,
                                first_frame: adv.frame,
                                last_frame: frame,
                                duration_ns: ts - adv.ts,
                            });
                        }
                    }
                }
            }
        }
        // Uses of STags: a Read Request's source, an RDMA Write's STag.
        if let Some((sink, size, source)) = s.read {
            if let Some(adv) = used(peer, source, "RDMA Read Request", 0, t) {
                adv.requested += u64::from(size);
                if let Some(edtl) = adv.edtl {
                    if adv.requested > u64::from(edtl) {
                        t.expert(
                            f::ONESHOT_EXPERT_BEYOND_EDTL,
                            Severity::Warning,
                            None,
                            format_args!("RDMA Read of {size} octets from STag 0x{source:08x} beyond the command's EDTL {edtl}"),
                        );
                    }
                }
            }
            me.reads.push_back(PendingRead {
                sink,
                size,
                source,
                got: 0,
                frame,
            });
        }
        if s.tagged && s.opcode == Some(Opcode::RdmaWrite) {
            if let Some(adv) = used(peer, s.stag, "RDMA Write", s.payload_len as u64, t) {
                if let Some(edtl) = adv.edtl {
                    if adv.bytes > u64::from(edtl) {
                        t.expert(
                            f::ONESHOT_EXPERT_BEYOND_EDTL,
                            Severity::Warning,
                            None,
                            format_args!("RDMA Writes into STag 0x{:08x} total {} octets, beyond the command's EDTL {edtl}", s.stag, adv.bytes),
                        );
                    }
                }
            }
        }
        if s.tagged && s.opcode == Some(Opcode::RdmaReadResponse) {
            // Answers the peer's oldest Read Request into this sink STag.
            if let Some(pos) = peer.reads.iter().position(|r| r.sink == s.stag) {
                let r = &mut peer.reads[pos];
                r.got += s.payload_len as u64;
                let (source, got, size, rframe) = (r.source, r.got, r.size, r.frame);
                if let Some(adv) = me.advertised.get_mut(&source) {
                    adv.bytes += s.payload_len as u64;
                }
                if s.last {
                    peer.reads.remove(pos);
                    if got != u64::from(size) {
                        t.expert(
                            f::IWARP_RDMA_EXPERT_READ_SIZE_MISMATCH,
                            Severity::Warning,
                            None,
                            format_args!("RDMA Read Response total {got} octets; frame {rframe} requested {size}"),
                        );
                    }
                }
            }
        }
    }

    /// STags still advertised at the end of the capture.
    pub fn leaks(&self) -> Vec<Leak> {
        let mut v: Vec<Leak> = self
            .convs
            .iter()
            .flat_map(|(stream, c)| {
                c.dirs.iter().flat_map(move |d| {
                    d.advertised.iter().map(move |(stag, a)| Leak {
                        stream: *stream,
                        stag: *stag,
                        frame: a.frame,
                        itt: a.itt,
                    })
                })
            })
            .collect();
        v.sort_by_key(|l| (l.frame, l.stag));
        v
    }
}
