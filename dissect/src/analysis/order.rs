//! MSN, MO and L per untagged queue (ONESHOT.md §6 item 6). The dissector hands FPDUs over in
//! TCP sequence order (one that arrived beyond a hole when reassembly reaches it), so what is
//! checked here is the stream the receiver saw, not the order segments were captured in.

use oneshot_codec::oneshot::Op;

use super::node;
use crate::build::FpduSummary;
use crate::registry::f;
use crate::tree::{Severity, Tree};

/// `a` is after `b` in sequence space.
pub(super) fn seq_after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 0x8000_0000
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

/// The ordering state of one direction.
#[derive(Debug, Default)]
pub(super) struct Order {
    queues: [Queue; 4],
}

/// MSN, MO and L of one untagged segment, in stream order; findings point at the fields of
/// the FPDU whose nodes start at `first_node`.
fn check_order(
    queues: &mut [Queue; 4],
    g: &FpduSummary,
    frame: u64,
    t: &mut Tree,
    first_node: usize,
) {
    // Untagged, on a queue the checks follow.
    if !(g.ok && !g.tagged && g.qn < 4) {
        return;
    }
    let q = g.qn as usize;
    let queue = &mut queues[q];
    let at = |t: &Tree, field| node(t, first_node, field);
    match queue.current {
        Some(cur) if cur.msn == g.msn => {
            if u64::from(g.mo) != cur.next_mo {
                let n = at(t, f::IWARP_DDP_MO);
                t.expert(
                    f::IWARP_DDP_EXPERT_MO_INCONSISTENT,
                    Severity::Warning,
                    n,
                    format_args!(
                        "QN {q} MSN {}: MO {} where {} was due after the segments so far (first in frame {})",
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
                        "QN {q} MSN {}: this segment's one-shot qualifier is {}, the first segment's (frame {}) {}",
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
                        "QN {q}: MSN {} begins before MSN {} (first segment in frame {}) had its last segment (L = 1)",
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
                        format_args!("QN {q}: MSN {} where {want} was due ({what})", g.msn),
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
                        "QN {q} MSN {}: the first segment seen has MO {}, not 0",
                        g.msn, g.mo
                    ),
                );
            }
        }
    }
    // The next segment continues this one (after a finding, the checks follow the wire).
    let next_mo = u64::from(g.mo) + g.payload_len as u64;
    let first = match queue.current {
        Some(cur) if cur.msn == g.msn => cur,
        _ => InProgress {
            msn: g.msn,
            next_mo: 0,
            qualifier: g.qualifier,
            stag: g.oneshot_stag,
            frame,
        },
    };
    queue.next_msn = Some(g.msn.wrapping_add(1));
    queue.current = (!g.last).then_some(InProgress { next_mo, ..first });
}

impl Order {
    /// Checks one FPDU (`g`, in `frame`), the next in its direction's stream.
    pub(super) fn fpdu(&mut self, g: &FpduSummary, frame: u64, t: &mut Tree, first_node: usize) {
        check_order(&mut self.queues, g, frame, t, first_node);
    }
}
