//! The exchanges (ONESHOT.md §4): what each command puts on the wire, step by step, and how
//! its faults change that. Each step runs when the message before it has been delivered.

use oneshot_codec::ddp::{self, DdpRepr};
use oneshot_codec::iscsi::{BhsRepr, SCSI_READ_10, SCSI_WRITE_10, cdb_rw10};
use oneshot_codec::iser::IserRepr;
use oneshot_codec::oneshot::{self, Encoding, Placement};
use oneshot_codec::rdmap::{
    AtomicRequestRepr, AtomicResponseRepr, Control, HeaderRepr, ReadRequestRepr, SegmentRepr,
    TermLayer, TerminateRepr,
};

use super::chunk::{ChunkFaults, Payload};
use super::{Engine, INITIATOR, Phase, Reaction, TARGET};
use crate::error::GenError;
use crate::model::{Action, AtomicOp, Fault, Flow, Rtr, Side};
use crate::rng::Rng;

/// The kind of a command, as the summary and the host model count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowKind {
    /// One-shot write (FIG. 4).
    OneShotWrite,
    /// One-shot read (patent paragraph 37).
    OneShotRead,
    /// Conventional RDMAP write (FIG. 3).
    ConventionalWrite,
    /// Conventional RDMAP read.
    ConventionalRead,
    /// iSCSI over TCP write (FIG. 2).
    IscsiTcpWrite,
    /// iSCSI over TCP read.
    IscsiTcpRead,
    /// Raw Send.
    Send,
    /// Raw RDMA Write.
    RdmaWrite,
    /// Raw RDMA Read.
    RdmaRead,
    /// Terminate.
    Terminate,
    /// Immediate Data.
    Immediate,
    /// Atomic Request and Response.
    Atomic,
}

impl FlowKind {
    /// The name in summaries and traces.
    pub fn name(self) -> &'static str {
        match self {
            FlowKind::OneShotWrite => "oneshot-write",
            FlowKind::OneShotRead => "oneshot-read",
            FlowKind::ConventionalWrite => "conventional-write",
            FlowKind::ConventionalRead => "conventional-read",
            FlowKind::IscsiTcpWrite => "iscsi-tcp-write",
            FlowKind::IscsiTcpRead => "iscsi-tcp-read",
            FlowKind::Send => "send",
            FlowKind::RdmaWrite => "rdma-write",
            FlowKind::RdmaRead => "rdma-read",
            FlowKind::Terminate => "terminate",
            FlowKind::Immediate => "immediate",
            FlowKind::Atomic => "atomic",
        }
    }
}

/// iSCSI numbering of one connection's session.
#[derive(Debug, Clone)]
pub struct IscsiSession {
    itt: u32,
    cmdsn: u32,
    statsn: u32,
}

impl IscsiSession {
    /// A session whose first ITT is derived from `seed`.
    pub fn new(seed: u32) -> Self {
        IscsiSession {
            itt: seed & 0x0000_FFF0,
            cmdsn: 1,
            statsn: 1,
        }
    }
}

/// Steps of the exchanges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// The target got the command (advertise, iSER Send or SCSI Command PDU).
    TargetCommand,
    /// The initiator got the RDMA Read Request.
    InitiatorReadRequest,
    /// The target got all the data.
    TargetData,
    /// The initiator got R2T for `offset..offset+len`.
    InitiatorR2t {
        /// Buffer offset.
        offset: u32,
        /// Desired length.
        len: u32,
    },
    /// The target got a burst of Data-Out up to `next`.
    TargetDataOut {
        /// Octets received so far.
        next: u32,
    },
    /// A raw request reached the peer, which answers (Read Response, Atomic Response).
    PeerRequest,
    /// The command is complete.
    Done,
}

/// One command in progress.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Command number (1-based, in issue order).
    pub id: u64,
    /// Script line.
    pub line: u32,
    /// Connection index.
    pub conn: usize,
    /// What was asked.
    pub action: Action,
    /// Faults still to apply.
    pub faults: Vec<Fault>,
    /// Issue time.
    pub started: u64,
    itt: u32,
    cmdsn: u32,
    stag: u32,
    sink: u32,
    r2tsn: u32,
    ttt: u32,
    began: bool,
}

impl Exchange {
    /// A new exchange for `action`.
    pub fn new(
        id: u64,
        line: u32,
        conn: usize,
        action: Action,
        faults: Vec<Fault>,
        started: u64,
    ) -> Self {
        Exchange {
            id,
            line,
            conn,
            action,
            faults,
            started,
            itt: 0,
            cmdsn: 0,
            stag: 0,
            sink: 0,
            r2tsn: 0,
            ttt: 0,
            began: false,
        }
    }

    /// The kind.
    pub fn kind(&self) -> FlowKind {
        match self.action {
            Action::Write { flow, .. } => match flow {
                Flow::OneShot => FlowKind::OneShotWrite,
                Flow::Conventional => FlowKind::ConventionalWrite,
                Flow::IscsiTcp => FlowKind::IscsiTcpWrite,
            },
            Action::Read { flow, .. } => match flow {
                Flow::OneShot => FlowKind::OneShotRead,
                Flow::Conventional => FlowKind::ConventionalRead,
                Flow::IscsiTcp => FlowKind::IscsiTcpRead,
            },
            Action::Send { .. } => FlowKind::Send,
            Action::RdmaWrite { .. } => FlowKind::RdmaWrite,
            Action::RdmaRead { .. } => FlowKind::RdmaRead,
            Action::Terminate { .. } => FlowKind::Terminate,
            Action::Immediate { .. } => FlowKind::Immediate,
            Action::Atomic { .. } => FlowKind::Atomic,
            Action::Pause(_) => unreachable!("pauses are not exchanges"),
        }
    }

    /// Payload octets the command moves.
    pub fn payload_bytes(&self) -> u64 {
        match self.action {
            Action::Write { size, .. }
            | Action::Read { size, .. }
            | Action::Send { size, .. }
            | Action::RdmaWrite { size, .. }
            | Action::RdmaRead { size, .. } => u64::from(size),
            Action::Immediate { .. } | Action::Atomic { .. } => 8,
            Action::Terminate { .. } | Action::Pause(_) => 0,
        }
    }

    fn has(&self, f: Fault) -> bool {
        self.faults.contains(&f)
    }

    /// Removes and returns the segment-level faults (they apply once).
    fn take_segment_faults(&mut self, rng: &mut Rng) -> ChunkFaults {
        let mut out = ChunkFaults::default();
        self.faults.retain(|f| {
            let seg = matches!(
                f,
                Fault::Crc
                    | Fault::Loss
                    | Fault::Duplicate
                    | Fault::Reorder
                    | Fault::Split(_)
                    | Fault::UlpduLengthBeyond
            );
            if seg {
                apply_segment_fault(&mut out, *f, rng);
            }
            !seg
        });
        out
    }

    fn snaplen(&self) -> Option<u32> {
        self.faults.iter().find_map(|f| match f {
            Fault::Snaplen(n) => Some(*n),
            _ => None,
        })
    }
}

/// Faults decided per command (the rest apply per segment).
pub fn command_level(f: &Fault) -> bool {
    matches!(
        f,
        Fault::CloseWrongStag
            | Fault::CloseWrongItt
            | Fault::CloseUnadvertised
            | Fault::NeverClose
            | Fault::BothBits
            | Fault::BitOnWrite
    )
}

/// Puts a segment-level fault on `f`.
pub fn apply_segment_fault(f: &mut ChunkFaults, fault: Fault, rng: &mut Rng) {
    match fault {
        Fault::Crc => f.bad_crc = true,
        Fault::Loss => f.lose = true,
        Fault::Duplicate => f.duplicate = true,
        Fault::Reorder => f.reorder = true,
        Fault::Split(at) => f.split_at = Some(at.unwrap_or(u32::MAX)),
        Fault::UlpduLengthBeyond => f.ulpdu_excess = 16 + (rng.below(240) as u16 & !3),
        Fault::Snaplen(n) => f.snaplen = Some(n),
        _ => {}
    }
}

/// A command waiting for its connection to open.
#[derive(Debug, Clone, Copy)]
pub struct Deferred {
    id: u64,
}

/// Runs a command that waited for its connection.
pub fn run_deferred(e: &mut Engine<'_, '_>, d: Deferred) -> Result<(), GenError> {
    begin(e, d.id)
}

/// Sends the RFC 6581 RTR (the first FPDU after the Reply in peer-to-peer mode).
pub fn send_rtr(e: &mut Engine<'_, '_>, conn: usize, rtr: Rtr, reaction: u64) {
    let line = e.conns[conn].conn.line;
    let label = e.label(line, || format!("RTR ({rtr:?})"));
    match rtr {
        Rtr::Send => {
            let msn = next_msn(e, conn, INITIATOR, 0);
            let ddp = DdpRepr::untagged(true, Control::new(1, 0x3).0, 0, msn, 0);
            push_segment(
                e,
                conn,
                INITIATOR,
                ddp,
                HeaderRepr::None,
                Payload::default(),
                label,
                Some(reaction),
                ChunkFaults::default(),
            );
        }
        Rtr::Write => {
            let ddp = DdpRepr::tagged(true, Control::new(1, 0x0).0, 0, 0);
            push_segment(
                e,
                conn,
                INITIATOR,
                ddp,
                HeaderRepr::None,
                Payload::default(),
                label,
                Some(reaction),
                ChunkFaults::default(),
            );
        }
        Rtr::Read => {
            let msn = next_msn(e, conn, INITIATOR, 1);
            let ddp = DdpRepr::untagged(true, Control::new(1, 0x1).0, 1, msn, 0);
            let rr = HeaderRepr::ReadRequest(ReadRequestRepr::default());
            push_segment(
                e,
                conn,
                INITIATOR,
                ddp,
                rr,
                Payload::default(),
                label,
                Some(reaction),
                ChunkFaults::default(),
            );
        }
    }
}

/// The target's zero-length Read Response to a Read RTR.
pub fn answer_read_rtr(e: &mut Engine<'_, '_>, conn: usize) {
    let line = e.conns[conn].conn.line;
    let label = e.label(line, || "RTR Read Response (zero length)".to_string());
    let ddp = DdpRepr::tagged(true, Control::new(1, 0x2).0, 0, 0);
    push_segment(
        e,
        conn,
        TARGET,
        ddp,
        HeaderRepr::None,
        Payload::default(),
        label,
        None,
        ChunkFaults::default(),
    );
}

fn next_msn(e: &mut Engine<'_, '_>, conn: usize, end: usize, qn: usize) -> u32 {
    let m = &mut e.conns[conn].ends[end].msn[qn];
    let v = *m;
    *m = m.wrapping_add(1);
    v
}

/// Queues one DDP segment as one FPDU.
#[allow(clippy::too_many_arguments)]
fn push_segment(
    e: &mut Engine<'_, '_>,
    conn: usize,
    end: usize,
    ddp: DdpRepr,
    header: HeaderRepr,
    payload: Payload,
    label: Option<std::rc::Rc<str>>,
    reaction: Option<u64>,
    mut faults: ChunkFaults,
) {
    let seg = SegmentRepr {
        ddp,
        header,
        payload: &[],
    };
    let mut head = super::chunk::Head::zeroed(seg.header_len());
    seg.emit_headers(&mut head)
        .expect("headers fit their length");
    if faults.split_at == Some(u32::MAX) {
        let len = (oneshot_codec::mpa::fpdu_len(head.len() + payload.len()) as u64).max(2);
        faults.split_at = Some(1 + e.rng_faults.below(len - 1) as u32);
    }
    e.push_fpdu(conn, end, head, payload, label, reaction, faults);
}

/// How a message's payload is made.
struct Body {
    head: Vec<u8>,
    bulk: u64,
}

impl Body {
    fn len(&self) -> u64 {
        self.head.len() as u64 + self.bulk
    }
}

/// Sends one untagged message, DDP-segmented: every segment repeats `header` when it is the
/// appended one-shot STag, other headers go in the single segment.
#[allow(clippy::too_many_arguments)]
fn send_untagged(
    e: &mut Engine<'_, '_>,
    id: u64,
    conn: usize,
    end: usize,
    ctrl: u8,
    ddp_bits: u8,
    qn: u32,
    rsvdulp_word: u32,
    header: HeaderRepr,
    body: Body,
    label: Option<std::rc::Rc<str>>,
    reaction: Option<u64>,
    first_faults: ChunkFaults,
    snaplen: Option<u32>,
) {
    let msn = next_msn(e, conn, end, qn.min(3) as usize);
    let hl = ddp::field::UNTAGGED_LEN + header.header_len();
    let max = e.mulpdu(conn, end).saturating_sub(hl).max(1) as u64;
    let total = body.len();
    let mut off = 0u64;
    let mut first = true;
    loop {
        let n = (total - off).min(max);
        let last = off + n == total;
        let mut ddp = DdpRepr::untagged(last, ctrl, qn, msn, off as u32);
        ddp.control.0 |= ddp_bits;
        if let ddp::DdpKind::Untagged {
            rsvdulp_word: w, ..
        } = &mut ddp.kind
        {
            *w = rsvdulp_word;
        }
        let payload = slice(e, id, &body, off, n);
        let mut faults = if first {
            first_faults
        } else {
            ChunkFaults::default()
        };
        faults.snaplen = snaplen.or(faults.snaplen);
        push_segment(
            e,
            conn,
            end,
            ddp,
            header,
            payload,
            label.clone(),
            if last { reaction } else { None },
            faults,
        );
        first = false;
        off += n;
        if last {
            break;
        }
    }
}

/// Sends a tagged message (RDMA Write or Read Response) into `stag` from `to`.
#[allow(clippy::too_many_arguments)]
fn send_tagged(
    e: &mut Engine<'_, '_>,
    id: u64,
    conn: usize,
    end: usize,
    ctrl: u8,
    stag: u32,
    to: u64,
    body: Body,
    label: Option<std::rc::Rc<str>>,
    reaction: Option<u64>,
    first_faults: ChunkFaults,
    bit_on_write: bool,
    snaplen: Option<u32>,
) {
    let max = e
        .mulpdu(conn, end)
        .saturating_sub(ddp::field::TAGGED_LEN)
        .max(1) as u64;
    let total = body.len();
    let mut payloads = Vec::with_capacity(total.div_ceil(max) as usize);
    let mut off = 0u64;
    loop {
        let n = (total - off).min(max);
        payloads.push(slice(e, id, &body, off, n));
        off += n;
        if off == total {
            break;
        }
    }
    e.block().warm(payloads.iter().filter_map(|p| p.data));
    let mut off = 0u64;
    let mut first = true;
    for payload in payloads {
        let n = payload.len() as u64;
        let last = off + n == total;
        let mut ddp = DdpRepr::tagged(last, ctrl, stag, to + off);
        if bit_on_write && first {
            ddp.control.0 |= oneshot::field::ADVERTISE_BIT;
        }
        let mut faults = if first {
            first_faults
        } else {
            ChunkFaults::default()
        };
        faults.snaplen = snaplen.or(faults.snaplen);
        push_segment(
            e,
            conn,
            end,
            ddp,
            HeaderRepr::None,
            payload,
            label.clone(),
            if last { reaction } else { None },
            faults,
        );
        first = false;
        off += n;
    }
}

/// Octets `off..off+n` of a message body.
fn slice(e: &Engine<'_, '_>, id: u64, body: &Body, off: u64, n: u64) -> Payload {
    let hl = body.head.len() as u64;
    let head = if off < hl {
        body.head[off as usize..(off + n).min(hl) as usize].to_vec()
    } else {
        Vec::new()
    };
    let data_from = off.max(hl) - hl;
    let data_to = (off + n).max(hl) - hl;
    let data =
        (data_to > data_from).then(|| e.data_ref(id, data_from, (data_to - data_from) as usize));
    Payload { head, data }
}

fn emit_bhs(b: &BhsRepr) -> Vec<u8> {
    let mut v = vec![0u8; b.header_len()];
    b.emit(&mut v).expect("a BHS fits 48 octets");
    v
}

/// Which end sends for `side`.
fn end_of(side: Side) -> usize {
    match side {
        Side::Initiator => INITIATOR,
        Side::Target => TARGET,
    }
}

/// The reaction that runs `step` of exchange `id` when a message is delivered.
fn on_delivery(e: &mut Engine<'_, '_>, id: u64, step: StepKind) -> u64 {
    e.reaction(Reaction::Exchange { id, step })
}

/// Starts a command (or parks it until its connection opens).
pub fn begin(e: &mut Engine<'_, '_>, id: u64) -> Result<(), GenError> {
    let Some(ex) = e.exchanges.get(&id) else {
        return Ok(());
    };
    let conn = ex.conn;
    match e.conns[conn].phase {
        Phase::Open => {}
        Phase::Dead => return Ok(()),
        _ => {
            e.conns[conn].waiting.push(Deferred { id });
            return Ok(());
        }
    }
    let target_first = match &ex.action {
        Action::Send { from, .. }
        | Action::RdmaWrite { from, .. }
        | Action::RdmaRead { from, .. }
        | Action::Terminate { from, .. }
        | Action::Immediate { from, .. }
        | Action::Atomic { from, .. } => *from == Side::Target,
        _ => false,
    };
    let p2p =
        matches!(&e.conns[conn].conn.kind, crate::model::ConnKind::Iwarp(m) if m.p2p.is_some());
    if target_first && !p2p && !e.conns[conn].initiator_fpdu {
        return Err(GenError::Command {
            line: ex.line,
            message: "the initiator sends the first FPDU of a connection (RFC 5044 §7.1.2): \
                      put an initiator command first, or use \"p2p\" for an RTR"
                .into(),
        });
    }
    let mut ex = e.exchanges.remove(&id).expect("present");
    ex.began = true;
    e.owner = Some(ex.kind());
    let host_i = e.conns[conn].host[INITIATOR];
    let line = ex.line;
    let profile = e.sc.oneshot;
    match ex.action.clone() {
        Action::Write { size, flow, stag } | Action::Read { size, flow, stag } => {
            let write = matches!(ex.action, Action::Write { .. });
            let s = &mut e.conns[conn].iscsi;
            s.itt = s.itt.wrapping_add(1);
            ex.itt = s.itt;
            ex.cmdsn = s.cmdsn;
            s.cmdsn = s.cmdsn.wrapping_add(1);
            let blocks = size.div_ceil(512).min(u32::from(u16::MAX)) as u16;
            let lba = (id as u32).wrapping_mul(256);
            let cdb = cdb_rw10(
                if write { SCSI_WRITE_10 } else { SCSI_READ_10 },
                lba,
                blocks,
            );
            let statsn = e.conns[conn].iscsi.statsn;
            let bhs = emit_bhs(&BhsRepr::scsi_command(
                !write, write, ex.itt, size, ex.cmdsn, statsn, 0, cdb,
            ));
            let op = if write { "write" } else { "read" };
            match flow {
                Flow::OneShot => {
                    ex.stag = stag.unwrap_or_else(|| e.alloc_stag(host_i));
                    let unadvertised = ex.has(Fault::CloseUnadvertised);
                    let both = ex.has(Fault::BothBits);
                    let label = e.label(line, || {
                        if unadvertised {
                            format!("oneshot-{op} #{id}: SCSI Command ITT=0x{:x} without advertise", ex.itt)
                        } else {
                            format!("oneshot-{op} #{id}: advertise S=0x{:08x} + SCSI Command ITT=0x{:x} EDTL={size}", ex.stag, ex.itt)
                        }
                    });
                    let r = on_delivery(e, id, StepKind::TargetCommand);
                    let faults = if write {
                        ChunkFaults::default()
                    } else {
                        ex.take_segment_faults(&mut e.rng_faults)
                    };
                    let snap = ex.snaplen();
                    send_oneshot(
                        e,
                        id,
                        conn,
                        INITIATOR,
                        profile,
                        (!unadvertised).then_some((oneshot::Op::Advertise, ex.stag)),
                        both,
                        Body { head: bhs, bulk: 0 },
                        label,
                        Some(r),
                        faults,
                        snap,
                    );
                }
                Flow::Conventional => {
                    ex.stag = stag.unwrap_or_else(|| e.alloc_stag(host_i));
                    let iser = if write {
                        IserRepr::control(Some((ex.stag, 0)), None)
                    } else {
                        IserRepr::control(None, Some((ex.stag, 0)))
                    };
                    let mut head = vec![0u8; iser.header_len()];
                    iser.emit(&mut head).expect("iSER header fits");
                    head.extend_from_slice(&bhs);
                    let label = e.label(line, || {
                        format!("conventional-{op} #{id}: iSER {} STag=0x{:08x} + SCSI Command ITT=0x{:x} EDTL={size}", if write { "Write" } else { "Read" }, ex.stag, ex.itt)
                    });
                    let r = on_delivery(e, id, StepKind::TargetCommand);
                    let faults = if write {
                        ChunkFaults::default()
                    } else {
                        ex.take_segment_faults(&mut e.rng_faults)
                    };
                    let snap = ex.snaplen();
                    send_untagged(
                        e,
                        id,
                        conn,
                        INITIATOR,
                        Control::new(1, 0x5).0,
                        0,
                        0,
                        0,
                        HeaderRepr::None,
                        Body { head, bulk: 0 },
                        label,
                        Some(r),
                        faults,
                        snap,
                    );
                }
                Flow::IscsiTcp => {
                    let label = e.label(line, || {
                        format!(
                            "iscsi-tcp-{op} #{id}: SCSI Command ITT=0x{:x} EDTL={size}",
                            ex.itt
                        )
                    });
                    let r = on_delivery(e, id, StepKind::TargetCommand);
                    let faults = if write {
                        ChunkFaults {
                            snaplen: ex.snaplen(),
                            ..ChunkFaults::default()
                        }
                    } else {
                        ChunkFaults {
                            snaplen: ex.snaplen(),
                            ..ex.take_segment_faults(&mut e.rng_faults)
                        }
                    };
                    e.push_payload(
                        conn,
                        INITIATOR,
                        Payload {
                            head: bhs,
                            data: None,
                        },
                        label,
                        Some(r),
                        faults,
                    );
                }
            }
        }
        Action::Send {
            size,
            from,
            solicited,
            invalidate,
        } => {
            let end = end_of(from);
            let opcode = match (solicited, invalidate.is_some()) {
                (false, false) => 0x3,
                (false, true) => 0x4,
                (true, false) => 0x5,
                (true, true) => 0x6,
            };
            let label = e.label(line, || format!("send #{id}: {size} octets"));
            let r = on_delivery(e, id, StepKind::Done);
            let faults = ex.take_segment_faults(&mut e.rng_faults);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, opcode).0,
                0,
                0,
                invalidate.unwrap_or(0),
                HeaderRepr::None,
                Body {
                    head: Vec::new(),
                    bulk: u64::from(size),
                },
                label,
                Some(r),
                faults,
                snap,
            );
        }
        Action::RdmaWrite {
            size,
            from,
            stag,
            to,
        } => {
            let end = end_of(from);
            let peer = e.conns[conn].host[1 - end];
            let stag = stag.unwrap_or_else(|| e.alloc_stag(peer));
            let label = e.label(line, || {
                format!("rdma-write #{id}: {size} octets to STag=0x{stag:08x}")
            });
            let r = on_delivery(e, id, StepKind::Done);
            let faults = ex.take_segment_faults(&mut e.rng_faults);
            let bit = ex.has(Fault::BitOnWrite);
            let snap = ex.snaplen();
            send_tagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0x0).0,
                stag,
                to,
                Body {
                    head: Vec::new(),
                    bulk: u64::from(size),
                },
                label,
                Some(r),
                faults,
                bit,
                snap,
            );
        }
        Action::RdmaRead {
            size,
            from,
            sink,
            source,
        } => {
            let end = end_of(from);
            let me = e.conns[conn].host[end];
            let peer = e.conns[conn].host[1 - end];
            ex.sink = sink.unwrap_or_else(|| e.alloc_stag(me));
            ex.stag = source.unwrap_or_else(|| e.alloc_stag(peer));
            let rr = ReadRequestRepr {
                sink_stag: ex.sink,
                sink_to: 0,
                rdmardsz: size,
                source_stag: ex.stag,
                source_to: 0,
            };
            let label = e.label(line, || {
                format!("rdma-read #{id}: Read Request {size} octets")
            });
            let r = on_delivery(e, id, StepKind::PeerRequest);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0x1).0,
                0,
                1,
                0,
                HeaderRepr::ReadRequest(rr),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        Action::Terminate {
            from,
            layer,
            etype,
            code,
        } => {
            let end = end_of(from);
            let t = TerminateRepr::new(TermLayer::from(layer), etype, code, None, None);
            let label = e.label(line, || {
                format!("terminate #{id}: layer {layer} etype {etype} code 0x{code:02x}")
            });
            let r = on_delivery(e, id, StepKind::Done);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0x7).0,
                0,
                2,
                0,
                HeaderRepr::Terminate(t),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        Action::Immediate {
            data,
            solicited,
            from,
        } => {
            let end = end_of(from);
            let label = e.label(line, || format!("immediate #{id}: 0x{data:016x}"));
            let r = on_delivery(e, id, StepKind::Done);
            let snap = ex.snaplen();
            let opcode = if solicited { 0x9 } else { 0x8 };
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, opcode).0,
                0,
                0,
                0,
                HeaderRepr::Immediate(data.to_be_bytes()),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        Action::Atomic { op, from, stag, to } => {
            let end = end_of(from);
            let peer = e.conns[conn].host[1 - end];
            ex.stag = stag.unwrap_or_else(|| e.alloc_stag(peer));
            let (opcode, data, mask, cmp, cmask) = match op {
                AtomicOp::FetchAdd { add } => (0u32, add, 0, 0, u64::MAX),
                AtomicOp::CmpSwap { compare, swap } => (2, swap, u64::MAX, compare, u64::MAX),
            };
            let ar = AtomicRequestRepr {
                opcode_word: opcode,
                request_id: id as u32,
                remote_stag: ex.stag,
                remote_to: to,
                add_swap_data: data,
                add_swap_mask: mask,
                compare_data: cmp,
                compare_mask: cmask,
            };
            let label = e.label(line, || {
                format!("atomic #{id}: {} STag=0x{:08x}", ar.opcode(), ex.stag)
            });
            let r = on_delivery(e, id, StepKind::PeerRequest);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0xA).0,
                0,
                1,
                0,
                HeaderRepr::AtomicRequest(ar),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        Action::Pause(_) => {}
    }
    e.owner = None;
    e.exchanges.insert(id, ex);
    Ok(())
}

/// Sends a Send with SE carrying `body`, qualified as `qualifier` says (advertise or close with
/// its STag, in the scenario's encoding and placement), or plain when `None`.
#[allow(clippy::too_many_arguments)]
fn send_oneshot(
    e: &mut Engine<'_, '_>,
    id: u64,
    conn: usize,
    end: usize,
    profile: crate::model::OneShotProfile,
    qualifier: Option<(oneshot::Op, u32)>,
    both_bits: bool,
    body: Body,
    label: Option<std::rc::Rc<str>>,
    reaction: Option<u64>,
    faults: ChunkFaults,
    snaplen: Option<u32>,
) {
    let Some((op, stag)) = qualifier else {
        send_untagged(
            e,
            id,
            conn,
            end,
            Control::new(1, 0x5).0,
            0,
            0,
            0,
            HeaderRepr::None,
            body,
            label,
            reaction,
            faults,
            snaplen,
        );
        return;
    };
    let (opcode, mut bits) = match profile.encoding {
        Encoding::Opcode => (
            match op {
                oneshot::Op::Advertise => oneshot::OPCODE_ADVERTISE,
                oneshot::Op::Close => oneshot::OPCODE_CLOSE,
            },
            0,
        ),
        Encoding::DdpFlags => (
            0x5,
            match op {
                oneshot::Op::Advertise => oneshot::field::ADVERTISE_BIT,
                oneshot::Op::Close => oneshot::field::CLOSE_BIT,
            },
        ),
    };
    if both_bits {
        bits |= oneshot::field::BITS;
    }
    let (word, header) = match profile.placement {
        Placement::RsvdUlp => (stag, HeaderRepr::None),
        Placement::Appended => (0, HeaderRepr::OneShotStag(stag)),
    };
    send_untagged(
        e,
        id,
        conn,
        end,
        Control::new(1, opcode).0,
        bits,
        0,
        word,
        header,
        body,
        label,
        reaction,
        faults,
        snaplen,
    );
}

/// Runs the next step of exchange `id`.
pub fn step(e: &mut Engine<'_, '_>, id: u64, step: StepKind) -> Result<(), GenError> {
    if step == StepKind::Done {
        return e.complete(id);
    }
    let Some(mut ex) = e.exchanges.remove(&id) else {
        return Ok(());
    };
    let conn = ex.conn;
    let line = ex.line;
    let profile = e.sc.oneshot;
    e.owner = Some(ex.kind());
    match (ex.action.clone(), step) {
        (
            Action::Write {
                size,
                flow: Flow::OneShot | Flow::Conventional,
                ..
            },
            StepKind::TargetCommand,
        ) => {
            // FIG. 4 path 550 / FIG. 3 path 350: pull the data with one RDMA Read.
            ex.sink = e.conns[conn].target_stag;
            let rr = ReadRequestRepr {
                sink_stag: ex.sink,
                sink_to: 0,
                rdmardsz: size,
                source_stag: ex.stag,
                source_to: 0,
            };
            let label = e.label(line, || {
                format!(
                    "{} #{id}: RDMA Read Request sink=0x{:08x} size={size} source=0x{:08x}",
                    ex.kind().name(),
                    ex.sink,
                    ex.stag
                )
            });
            let r = on_delivery(e, id, StepKind::InitiatorReadRequest);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                TARGET,
                Control::new(1, 0x1).0,
                0,
                1,
                0,
                HeaderRepr::ReadRequest(rr),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        (Action::Write { size, .. }, StepKind::InitiatorReadRequest) => {
            // Path 560: the NIC answers from the registered buffer.
            let label = e.label(line, || {
                format!(
                    "{} #{id}: RDMA Read Response STag=0x{:08x}",
                    ex.kind().name(),
                    ex.sink
                )
            });
            let r = on_delivery(e, id, StepKind::TargetData);
            let faults = ex.take_segment_faults(&mut e.rng_faults);
            let bit = ex.has(Fault::BitOnWrite);
            let snap = ex.snaplen();
            let sink = ex.sink;
            send_tagged(
                e,
                id,
                conn,
                INITIATOR,
                Control::new(1, 0x2).0,
                sink,
                0,
                Body {
                    head: Vec::new(),
                    bulk: u64::from(size),
                },
                label,
                Some(r),
                faults,
                bit,
                snap,
            );
        }
        (
            Action::Write {
                flow: Flow::OneShot,
                ..
            },
            StepKind::TargetData,
        ) => {
            close_with_response(e, &mut ex, profile);
        }
        (
            Action::Write {
                flow: Flow::Conventional,
                ..
            },
            StepKind::TargetData,
        )
        | (
            Action::Read {
                flow: Flow::Conventional,
                ..
            },
            StepKind::TargetData,
        ) => {
            conventional_response(e, &mut ex);
        }
        (
            Action::Read {
                size,
                flow: Flow::OneShot | Flow::Conventional,
                ..
            },
            StepKind::TargetCommand,
        ) => {
            // [37]: RDMA Writes into S replace the Read; then the response.
            let label = e.label(line, || {
                format!(
                    "{} #{id}: RDMA Write STag=0x{:08x}",
                    ex.kind().name(),
                    ex.stag
                )
            });
            let faults = ex.take_segment_faults(&mut e.rng_faults);
            let bit = ex.has(Fault::BitOnWrite);
            let snap = ex.snaplen();
            let stag = ex.stag;
            send_tagged(
                e,
                id,
                conn,
                TARGET,
                Control::new(1, 0x0).0,
                stag,
                0,
                Body {
                    head: Vec::new(),
                    bulk: u64::from(size),
                },
                label,
                None,
                faults,
                bit,
                snap,
            );
            if matches!(
                ex.action,
                Action::Read {
                    flow: Flow::OneShot,
                    ..
                }
            ) {
                close_with_response(e, &mut ex, profile);
            } else {
                conventional_response(e, &mut ex);
            }
        }
        (
            Action::Write {
                size,
                flow: Flow::IscsiTcp,
                ..
            },
            StepKind::TargetCommand,
        ) => {
            send_r2t(e, &mut ex, 0, size);
        }
        (
            Action::Write {
                size,
                flow: Flow::IscsiTcp,
                ..
            },
            StepKind::InitiatorR2t { offset, len },
        ) => {
            // Data-Out PDUs of up to 8 KiB (MaxRecvDataSegmentLength) for the burst.
            let mut off = offset;
            let mut datasn = 0;
            let end_at = offset + len;
            let ttt = ex.ttt;
            let statsn = e.conns[conn].iscsi.statsn;
            let mut faults = ex.take_segment_faults(&mut e.rng_faults);
            let snap = ex.snaplen();
            while off < end_at {
                let n = (end_at - off).min(8192);
                let last = off + n == end_at;
                let bhs = emit_bhs(&BhsRepr::data_out(
                    ex.itt, ttt, statsn, datasn, off, n, last,
                ));
                let label = e.label(line, || {
                    format!("iscsi-tcp-write #{id}: Data-Out DataSN={datasn} offset={off} len={n}")
                });
                let r = last.then(|| on_delivery(e, id, StepKind::TargetDataOut { next: end_at }));
                let data = e.data_ref(id, u64::from(off), n as usize);
                let mut f = std::mem::take(&mut faults);
                f.snaplen = snap;
                let payload = Payload {
                    head: bhs,
                    data: Some(data),
                };
                e.push_payload(conn, INITIATOR, payload, label, r, f);
                off += n;
                datasn += 1;
            }
            let _ = size;
        }
        (
            Action::Write {
                size,
                flow: Flow::IscsiTcp,
                ..
            },
            StepKind::TargetDataOut { next },
        ) => {
            if next < size {
                send_r2t(e, &mut ex, next, size);
            } else {
                iscsi_response(e, &mut ex);
            }
        }
        (
            Action::Read {
                size,
                flow: Flow::IscsiTcp,
                ..
            },
            StepKind::TargetCommand,
        ) => {
            let mut off = 0;
            let mut datasn = 0;
            let (statsn, cmdsn) = (e.conns[conn].iscsi.statsn, ex.cmdsn);
            let mut faults = ex.take_segment_faults(&mut e.rng_faults);
            let snap = ex.snaplen();
            while off < size {
                let n = (size - off).min(8192);
                let last = off + n == size;
                let bhs = emit_bhs(&BhsRepr::data_in(
                    ex.itt,
                    0xFFFF_FFFF,
                    statsn,
                    cmdsn + 1,
                    cmdsn + 32,
                    datasn,
                    off,
                    n,
                    last,
                    None,
                ));
                let label = e.label(line, || {
                    format!("iscsi-tcp-read #{id}: Data-In DataSN={datasn} offset={off} len={n}")
                });
                let data = e.data_ref(id, u64::from(off), n as usize);
                let mut f = std::mem::take(&mut faults);
                f.snaplen = snap;
                let payload = Payload {
                    head: bhs,
                    data: Some(data),
                };
                e.push_payload(conn, TARGET, payload, label, None, f);
                off += n;
                datasn += 1;
            }
            iscsi_response(e, &mut ex);
        }
        (Action::RdmaRead { size, from, .. }, StepKind::PeerRequest) => {
            let end = 1 - end_of(from);
            let label = e.label(line, || {
                format!("rdma-read #{id}: Read Response STag=0x{:08x}", ex.sink)
            });
            let r = on_delivery(e, id, StepKind::Done);
            let faults = ex.take_segment_faults(&mut e.rng_faults);
            let bit = ex.has(Fault::BitOnWrite);
            let snap = ex.snaplen();
            let sink = ex.sink;
            send_tagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0x2).0,
                sink,
                0,
                Body {
                    head: Vec::new(),
                    bulk: u64::from(size),
                },
                label,
                Some(r),
                faults,
                bit,
                snap,
            );
        }
        (Action::Atomic { from, .. }, StepKind::PeerRequest) => {
            let end = 1 - end_of(from);
            let original = e.rng_faults.next_u64();
            let resp = AtomicResponseRepr {
                request_id: id as u32,
                original_data: original,
            };
            let label = e.label(line, || {
                format!("atomic #{id}: Atomic Response original=0x{original:x}")
            });
            let r = on_delivery(e, id, StepKind::Done);
            let snap = ex.snaplen();
            send_untagged(
                e,
                id,
                conn,
                end,
                Control::new(1, 0xB).0,
                0,
                3,
                0,
                HeaderRepr::AtomicResponse(resp),
                Body {
                    head: Vec::new(),
                    bulk: 0,
                },
                label,
                Some(r),
                ChunkFaults::default(),
                snap,
            );
        }
        _ => {}
    }
    e.owner = None;
    e.exchanges.insert(id, ex);
    Ok(())
}

/// FIG. 4 path 600: Send with SE + close(S) carrying the SCSI Response.
fn close_with_response(
    e: &mut Engine<'_, '_>,
    ex: &mut Exchange,
    profile: crate::model::OneShotProfile,
) {
    let (id, conn, line) = (ex.id, ex.conn, ex.line);
    let s = &mut e.conns[conn].iscsi;
    let statsn = s.statsn;
    s.statsn = s.statsn.wrapping_add(1);
    let itt = if ex.has(Fault::CloseWrongItt) {
        ex.itt ^ 0x0000_8000
    } else {
        ex.itt
    };
    let stag = if ex.has(Fault::CloseWrongStag) {
        ex.stag ^ 0x0000_0100
    } else {
        ex.stag
    };
    let never = ex.has(Fault::NeverClose);
    let bhs = emit_bhs(&BhsRepr::scsi_response(
        itt,
        0,
        statsn,
        ex.cmdsn + 1,
        ex.cmdsn + 32,
        0,
    ));
    let op = if matches!(ex.action, Action::Write { .. }) {
        "write"
    } else {
        "read"
    };
    let label = e.label(line, || {
        if never {
            format!("oneshot-{op} #{id}: SCSI Response ITT=0x{itt:x} without close")
        } else {
            format!("oneshot-{op} #{id}: close S=0x{stag:08x} + SCSI Response ITT=0x{itt:x}")
        }
    });
    let r = on_delivery(e, id, StepKind::Done);
    let snap = ex.snaplen();
    send_oneshot(
        e,
        id,
        conn,
        TARGET,
        profile,
        (!never).then_some((oneshot::Op::Close, stag)),
        false,
        Body { head: bhs, bulk: 0 },
        label,
        Some(r),
        ChunkFaults::default(),
        snap,
    );
}

/// FIG. 3 path 400-410: a plain Send with SE carrying iSER + SCSI Response.
fn conventional_response(e: &mut Engine<'_, '_>, ex: &mut Exchange) {
    let (id, conn, line) = (ex.id, ex.conn, ex.line);
    let s = &mut e.conns[conn].iscsi;
    let statsn = s.statsn;
    s.statsn = s.statsn.wrapping_add(1);
    let iser = IserRepr::control(None, None);
    let mut head = vec![0u8; iser.header_len()];
    iser.emit(&mut head).expect("iSER header fits");
    head.extend_from_slice(&emit_bhs(&BhsRepr::scsi_response(
        ex.itt,
        0,
        statsn,
        ex.cmdsn + 1,
        ex.cmdsn + 32,
        0,
    )));
    let kind = ex.kind().name();
    let itt = ex.itt;
    let label = e.label(line, || {
        format!("{kind} #{id}: iSER + SCSI Response ITT=0x{itt:x}")
    });
    let r = on_delivery(e, id, StepKind::Done);
    let snap = ex.snaplen();
    send_untagged(
        e,
        id,
        conn,
        TARGET,
        Control::new(1, 0x5).0,
        0,
        0,
        0,
        HeaderRepr::None,
        Body { head, bulk: 0 },
        label,
        Some(r),
        ChunkFaults::default(),
        snap,
    );
}

/// iSCSI/TCP: an R2T for the next burst of up to 256 KiB (MaxBurstLength).
fn send_r2t(e: &mut Engine<'_, '_>, ex: &mut Exchange, offset: u32, size: u32) {
    let (id, conn, line) = (ex.id, ex.conn, ex.line);
    let len = (size - offset).min(256 * 1024);
    ex.ttt = e.rng_faults.next_u32() & 0x7FFF_FFFF;
    let statsn = e.conns[conn].iscsi.statsn;
    let bhs = emit_bhs(&BhsRepr::r2t(
        ex.itt,
        ex.ttt,
        statsn,
        ex.cmdsn + 1,
        ex.cmdsn + 32,
        ex.r2tsn,
        offset,
        len,
    ));
    let r2tsn = ex.r2tsn;
    ex.r2tsn += 1;
    let label = e.label(line, || {
        format!("iscsi-tcp-write #{id}: R2T R2TSN={r2tsn} offset={offset} len={len}")
    });
    let r = on_delivery(e, id, StepKind::InitiatorR2t { offset, len });
    let snap = ex.snaplen();
    e.push_payload(
        conn,
        TARGET,
        Payload {
            head: bhs,
            data: None,
        },
        label,
        Some(r),
        ChunkFaults {
            snaplen: snap,
            ..ChunkFaults::default()
        },
    );
}

/// iSCSI/TCP: the SCSI Response PDU.
fn iscsi_response(e: &mut Engine<'_, '_>, ex: &mut Exchange) {
    let (id, conn, line) = (ex.id, ex.conn, ex.line);
    let s = &mut e.conns[conn].iscsi;
    let statsn = s.statsn;
    s.statsn = s.statsn.wrapping_add(1);
    let bhs = emit_bhs(&BhsRepr::scsi_response(
        ex.itt,
        0,
        statsn,
        ex.cmdsn + 1,
        ex.cmdsn + 32,
        0,
    ));
    let kind = ex.kind().name();
    let itt = ex.itt;
    let label = e.label(line, || {
        format!("{kind} #{id}: SCSI Response ITT=0x{itt:x}")
    });
    let r = on_delivery(e, id, StepKind::Done);
    let snap = ex.snaplen();
    e.push_payload(
        conn,
        TARGET,
        Payload {
            head: bhs,
            data: None,
        },
        label,
        Some(r),
        ChunkFaults {
            snaplen: snap,
            ..ChunkFaults::default()
        },
    );
}
