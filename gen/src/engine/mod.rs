//! The engine: a discrete-event simulation of the hosts of a [`Scenario`] — their links (rate
//! and latency), their TCP stacks (handshake, MSS segmentation, window, delayed ACKs, FIN,
//! retransmission), MPA (Request/Reply, markers per direction, CRC), DDP segmentation, RDMAP
//! and iSCSI — writing every frame to a [`Sink`] in time order.
//!
//! Events run in time order (ties in the order they were scheduled), so the same scenario and
//! seed give the same capture byte for byte.

mod chunk;
pub mod faults;
mod flows;
pub mod hostmodel;
mod queue;
mod tcp;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use oneshot_codec::mpa::{self, Enhanced, MpaFrameRepr};

use crate::crc::BlockCrcs;
use crate::error::GenError;
use crate::model::{Conn, ConnKind, Fault, Markers, RateFault, Scenario, Step};
use crate::net::{BlockSums, Endpoint, FrameBuf, Headers, PayloadSum, TcpFields};
use crate::rng::Rng;
use crate::sink::{Captured, Sink};

pub use flows::FlowKind;
pub use hostmodel::Interaction;

use chunk::{Body, Chunk, ChunkFaults, Payload};
use tcp::{End, seq_le, seq_lt};

/// Nanoseconds since the Unix epoch.
pub type Time = u64;

/// Where simulated time starts: 2026-01-01T00:00:00Z.
pub const EPOCH_NS: Time = 1_767_225_600_000_000_000;

/// Delays of the host model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// NIC turnaround (e.g. a Read Request answered by the NIC).
    pub nic_ns: u64,
    /// Driver/ULP turnaround (e.g. a command turned into an RDMA Read).
    pub host_ns: u64,
    /// Storage work between data and status.
    pub storage_ns: u64,
    /// Delayed-ACK timer.
    pub delayed_ack_ns: u64,
    /// Retransmission timeout after a loss.
    pub rto_ns: u64,
    /// Preamble, start delimiter, FCS and inter-frame gap, counted in serialization time.
    pub wire_overhead: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            nic_ns: 1_000,
            host_ns: 4_000,
            storage_ns: 10_000,
            delayed_ack_ns: 40_000,
            rto_ns: 1_000_000,
            wire_overhead: 24,
        }
    }
}

/// Progress reported while running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Frames written.
    pub frames: u64,
    /// Octets written (captured).
    pub bytes: u64,
    /// Commands completed.
    pub commands: u64,
}

/// Per-flow figures of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Commands completed.
    pub commands: u64,
    /// Payload octets moved.
    pub bytes: u64,
    /// Frames carrying the commands' messages.
    pub frames: u64,
    /// Driver↔NIC interactions on host 1 (initiation + completion), summed.
    pub host1_interactions: u64,
    /// Driver↔NIC interactions on host 2, summed.
    pub host2_interactions: u64,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Per flow (`oneshot-write`, `conventional-read`, `send`, …).
    pub flows: BTreeMap<&'static str, FlowStats>,
    /// Frames written.
    pub frames: u64,
    /// Octets on the wire (original lengths).
    pub wire_bytes: u64,
    /// Simulated duration.
    pub duration_ns: u64,
    /// Commands not run (their connection was rejected, reset or terminated), by script line.
    pub skipped: BTreeMap<u32, u64>,
    /// Notes about faults that could not apply, by script line.
    pub notes: Vec<String>,
}

/// Options of a run besides the scenario.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Host-model trace (JSON lines), when wanted.
    pub host_trace: Option<&'a mut dyn std::io::Write>,
    /// Called every few thousand frames.
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
    /// Host delays.
    pub timing: Timing,
}

/// Size of the random block payloads are cut from.
const DATA_BLOCK: usize = 1 << 20;
/// Largest single slice taken from it.
const MAX_SLICE: usize = 1 << 16;
/// Records kept before they are written out, when the sink takes records (a little over it:
/// the records are written once a frame takes them past it).
const RECORDS_BUFFER: usize = 1 << 20;
/// Slices of the data block kept by reference before the records are written out: each adds
/// at most two pieces to the vectored write, and a write takes at most 1024 (`IOV_MAX`).
const RECORDS_SPLICES: usize = 511;
/// Room for the largest frame (9000-octet MSS, headers, markers) above [`RECORDS_BUFFER`].
const RECORDS_SLACK: usize = 16 << 10;

/// Runs `scenario`, writing frames to `sink`.
pub fn run<'o>(
    scenario: &Scenario,
    sink: &'o mut dyn Sink,
    opts: RunOptions<'o>,
) -> Result<Summary, GenError> {
    let mut e = Engine::new(scenario, sink, opts);
    e.run()?;
    Ok(e.summary)
}

/// Which end of a connection.
pub(crate) const INITIATOR: usize = 0;
pub(crate) const TARGET: usize = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No command has used the connection yet.
    Idle,
    /// TCP handshake (and MPA start-up for iWARP).
    Starting,
    /// Commands flow.
    Open,
    /// Closed by reject, reset or Terminate: later commands are skipped.
    Dead,
}

/// A segment in flight to an end.
#[derive(Debug, Clone, Copy)]
struct SegInfo {
    seq: u32,
    data_len: u32,
    syn: bool,
    fin: bool,
    rst: bool,
    ack: Option<u32>,
}

#[derive(Debug)]
enum Ev {
    Tx {
        conn: usize,
        end: usize,
    },
    Arrive {
        conn: usize,
        to: usize,
        seg: SegInfo,
    },
    AckTimer {
        conn: usize,
        end: usize,
        generation: u64,
    },
    Rto {
        conn: usize,
        end: usize,
        seq: u32,
    },
    React {
        reaction: u64,
    },
    Issue,
}

/// What a delivery makes happen.
#[derive(Debug, Clone)]
pub(crate) enum Reaction {
    /// MPA Request arrived at the target.
    MpaRequest { conn: usize },
    /// MPA Reply arrived at the initiator.
    MpaReply { conn: usize },
    /// The RTR arrived at the target.
    Rtr { conn: usize },
    /// A step of an exchange.
    Exchange { id: u64, step: flows::StepKind },
}

struct ConnState<'s> {
    conn: &'s Conn,
    ep: [Endpoint; 2],
    /// The headers of each end's segments to the other, serialized once.
    headers: [Headers; 2],
    host: [usize; 2],
    ends: [End; 2],
    phase: Phase,
    /// Messages waiting for the connection to open: (end, message builder).
    waiting: Vec<flows::Deferred>,
    in_flight: u32,
    tx_scheduled: [bool; 2],
    /// Bad MPA key on the Request.
    bad_key: bool,
    /// Sequence numbers where the data of each end's FPDUs starts (markers in that direction).
    markers: [bool; 2],
    crc: bool,
    reply_rejects: bool,
    /// Target STag of the buffer a target reads into / writes from (pre-registered).
    target_stag: u32,
    /// iSCSI numbering.
    iscsi: flows::IscsiSession,
    /// The initiator has queued an FPDU (the target may not send one before, RFC 5044 §7.1.2).
    pub(crate) initiator_fpdu: bool,
}

/// The simulation.
pub(crate) struct Engine<'s, 'o> {
    sc: &'s Scenario,
    sink: &'o mut dyn Sink,
    opts: RunOptions<'o>,
    now: Time,
    events: queue::EventQueue<Ev>,
    /// The latest delayed-ACK expiry armed: a stopped timer's event is not always queued, but
    /// the simulated run lasts until it would have come.
    last_timer: Time,
    conns: Vec<ConnState<'s>>,
    link_free: Vec<Time>,
    block: Rc<[u8]>,
    /// Running checksum sums of `block`.
    block_sums: BlockSums,
    /// Prefix CRC-32Cs of `block`.
    block_crcs: BlockCrcs,
    frame: FrameBuf,
    scratch: Vec<u8>,
    comments: bool,
    rng_faults: Rng,
    rng_ids: Rng,
    cursor: Cursor<'s>,
    next_exchange: u64,
    exchanges: HashMap<u64, flows::Exchange>,
    reactions: HashMap<u64, Reaction>,
    next_reaction: u64,
    summary: Summary,
    /// Frames per kind of command (the kinds seen so far, few), added to `summary.flows` at
    /// the end: a look-up in the map by name for every frame cost more than its headers.
    flow_frames: Vec<(FlowKind, u64)>,
    progress: Progress,
    /// Frames sent so far, captured or not (`capture from`).
    sent: u64,
    issue_blocked_until: Time,
    issue_scheduled: bool,
    pub(crate) timing: Timing,
    stag_index: Vec<u32>,
    /// The kind of command whose messages are being queued.
    pub(crate) owner: Option<FlowKind>,
}

/// Walks the script's steps, expanding `repeat` blocks lazily.
struct Cursor<'s> {
    stack: Vec<(&'s [Step], usize, u64)>,
    peeked: Option<&'s Step>,
}

impl<'s> Cursor<'s> {
    fn new(steps: &'s [Step]) -> Self {
        Cursor {
            stack: vec![(steps, 0, 1)],
            peeked: None,
        }
    }

    fn peek(&mut self) -> Option<&'s Step> {
        if self.peeked.is_none() {
            self.peeked = self.advance();
        }
        self.peeked
    }

    fn take(&mut self) {
        self.peeked = None;
    }

    fn advance(&mut self) -> Option<&'s Step> {
        loop {
            let (steps, idx, remaining) = self.stack.last_mut()?;
            if *idx < steps.len() {
                let s = &steps[*idx];
                *idx += 1;
                match s {
                    Step::Command { .. } => return Some(s),
                    Step::Repeat { count, body, .. } => {
                        if *count > 0 && !body.is_empty() {
                            self.stack.push((body, 0, *count));
                        }
                    }
                }
            } else if *remaining > 1 {
                *remaining -= 1;
                *idx = 0;
            } else {
                self.stack.pop();
            }
        }
    }
}

impl<'s, 'o> Engine<'s, 'o> {
    fn new(sc: &'s Scenario, sink: &'o mut dyn Sink, opts: RunOptions<'o>) -> Self {
        let mut block = vec![0u8; DATA_BLOCK + MAX_SLICE];
        Rng::new(sc.seed, 1).fill(&mut block);
        let mut rng_ids = Rng::new(sc.seed, 2);
        let conns = sc
            .conns
            .iter()
            .map(|c| {
                let hi = &sc.hosts[c.initiator];
                let ht = &sc.hosts[c.target];
                let ep = [
                    Endpoint {
                        mac: hi.mac,
                        ip: hi.ip,
                        vlan: hi.vlan,
                        port: c.initiator_port,
                    },
                    Endpoint {
                        mac: ht.mac,
                        ip: ht.ip,
                        vlan: ht.vlan,
                        port: c.target_port,
                    },
                ];
                let mss = u32::from(hi.mss.min(ht.mss));
                let ends = [
                    End::new(rng_ids.next_u32(), mss, u32::from(ht.window)),
                    End::new(rng_ids.next_u32(), mss, u32::from(hi.window)),
                ];
                let (markers, crc, reject) = match &c.kind {
                    ConnKind::Iwarp(m) => (
                        [
                            matches!(m.markers, Markers::ToTarget | Markers::Both),
                            matches!(m.markers, Markers::ToInitiator | Markers::Both),
                        ],
                        m.crc,
                        m.reject,
                    ),
                    ConnKind::Iscsi => ([false; 2], false, false),
                };
                ConnState {
                    conn: c,
                    headers: [Headers::new(&ep[0], &ep[1]), Headers::new(&ep[1], &ep[0])],
                    ep,
                    host: [c.initiator, c.target],
                    ends,
                    phase: Phase::Idle,
                    waiting: Vec::new(),
                    in_flight: 0,
                    tx_scheduled: [false; 2],
                    bad_key: false,
                    markers,
                    crc,
                    reply_rejects: reject,
                    target_stag: 0,
                    iscsi: flows::IscsiSession::new(rng_ids.next_u32()),
                    initiator_fpdu: false,
                }
            })
            .collect();
        let comments = sink.wants_comments();
        let block: Rc<[u8]> = block.into();
        let frame = match sink.records() {
            Some(r) => FrameBuf::with_records(
                r.header_len(),
                RECORDS_BUFFER + RECORDS_SLACK,
                Rc::clone(&block),
            ),
            None => FrameBuf::new(Rc::clone(&block)),
        };
        Engine {
            sc,
            sink,
            opts,
            now: EPOCH_NS,
            events: queue::EventQueue::default(),
            last_timer: EPOCH_NS,
            conns,
            link_free: vec![EPOCH_NS; sc.hosts.len()],
            block_sums: BlockSums::new(&block),
            block_crcs: BlockCrcs::new(&block),
            block,
            frame,
            scratch: Vec::new(),
            comments,
            rng_faults: Rng::new(sc.seed, 3),
            rng_ids,
            cursor: Cursor::new(&sc.steps),
            next_exchange: 1,
            exchanges: HashMap::new(),
            reactions: HashMap::new(),
            next_reaction: 1,
            summary: Summary::default(),
            flow_frames: Vec::new(),
            progress: Progress::default(),
            sent: 0,
            issue_blocked_until: EPOCH_NS,
            issue_scheduled: false,
            timing: Timing::default(),
            stag_index: vec![0; sc.hosts.len()],
            owner: None,
        }
    }

    fn run(&mut self) -> Result<(), GenError> {
        let ran = self.run_events();
        for (k, n) in std::mem::take(&mut self.flow_frames) {
            self.summary.flows.entry(k.name()).or_default().frames += n;
        }
        // Frames made before an error are written all the same, as an unbuffered sink would
        // have them.
        let flushed = self.write_records();
        ran?;
        flushed?;
        self.summary.duration_ns = self.now.max(self.last_timer) - EPOCH_NS;
        self.sink.finish()
    }

    /// Writes the records kept in the frame buffer, if any.
    fn write_records(&mut self) -> Result<(), GenError> {
        if let Some(r) = self.sink.records() {
            let mut slices = self.frame.record_slices();
            if !slices.is_empty() {
                r.write_records(&mut slices)?;
            }
        }
        self.frame.clear_records();
        Ok(())
    }

    fn run_events(&mut self) -> Result<(), GenError> {
        self.timing = self.opts.timing;
        self.schedule(self.now, Ev::Issue);
        while let Some((t, ev)) = self.events.pop() {
            self.now = t;
            match ev {
                Ev::Tx { conn, end } => {
                    self.conns[conn].tx_scheduled[end] = false;
                    self.transmit(conn, end)?;
                }
                Ev::Arrive { conn, to, seg } => self.arrive(conn, to, seg)?,
                Ev::AckTimer {
                    conn,
                    end,
                    generation,
                } => {
                    let e = &mut self.conns[conn].ends[end];
                    e.ack_timer_queued = false;
                    if e.ack_timer_armed && e.ack_timer_gen == generation {
                        e.ack_timer_armed = false;
                        e.ack_now = true;
                        self.kick(conn, end);
                    } else if e.ack_timer_armed {
                        // Armed again since: that timer's event, in its place.
                        e.ack_timer_queued = true;
                        let ev = Ev::AckTimer {
                            conn,
                            end,
                            generation: e.ack_timer_gen,
                        };
                        let (at, order) = e.ack_timer_key;
                        self.events.push_reserved(at, order, ev);
                    }
                }
                Ev::Rto { conn, end, seq } => self.retransmit(conn, end, seq)?,
                Ev::React { reaction } => {
                    if let Some(r) = self.reactions.remove(&reaction) {
                        self.react(r)?;
                    }
                }
                Ev::Issue => {
                    self.issue_scheduled = false;
                    self.issue()?;
                }
            }
        }
        Ok(())
    }

    fn schedule(&mut self, at: Time, ev: Ev) {
        self.events.push(at, ev);
    }

    /// Makes sure the end gets a transmit opportunity.
    fn kick(&mut self, conn: usize, end: usize) {
        if !self.conns[conn].tx_scheduled[end] {
            self.conns[conn].tx_scheduled[end] = true;
            let host = self.conns[conn].host[end];
            let at = self.link_free[host].max(self.now);
            self.schedule(at, Ev::Tx { conn, end });
        }
    }

    /// Registers a reaction and returns its id.
    fn reaction(&mut self, r: Reaction) -> u64 {
        let id = self.next_reaction;
        self.next_reaction += 1;
        self.reactions.insert(id, r);
        id
    }

    /// Fires reaction `id` after `delay`.
    fn react_after(&mut self, delay: u64, id: u64) {
        self.schedule(self.now + delay, Ev::React { reaction: id });
    }

    // ---------------------------------------------------------------- issuing commands

    fn issue(&mut self) -> Result<(), GenError> {
        if self.now < self.issue_blocked_until {
            if !self.issue_scheduled {
                self.issue_scheduled = true;
                self.schedule(self.issue_blocked_until, Ev::Issue);
            }
            return Ok(());
        }
        while let Some(step) = self.cursor.peek() {
            let Step::Command {
                line,
                conn,
                action,
                faults,
            } = step
            else {
                unreachable!("the cursor yields commands only");
            };
            let c = &self.conns[*conn];
            if c.phase == Phase::Dead {
                *self.summary.skipped.entry(*line).or_default() += 1;
                self.cursor.take();
                continue;
            }
            if let crate::model::Action::Pause(d) = action {
                self.cursor.take();
                self.issue_blocked_until = self.now + d.as_nanos() as u64;
                if !self.issue_scheduled {
                    self.issue_scheduled = true;
                    self.schedule(self.issue_blocked_until, Ev::Issue);
                }
                return Ok(());
            }
            if c.in_flight >= c.conn.depth {
                return Ok(()); // resumes when a command of that connection completes
            }
            self.cursor.take();
            self.start_command(*conn, *line, action.clone(), faults.clone())?;
        }
        // Script done: close every connection whose commands are all complete.
        for c in 0..self.conns.len() {
            self.maybe_close(c);
        }
        Ok(())
    }

    fn start_command(
        &mut self,
        conn: usize,
        line: u32,
        action: crate::model::Action,
        mut faults: Vec<Fault>,
    ) -> Result<(), GenError> {
        let id = self.next_exchange;
        self.next_exchange += 1;
        self.draw_rate_faults(&mut faults, flows::command_level);
        if self.conns[conn].phase == Phase::Idle {
            let bad_key = faults.contains(&Fault::BadMpaKey)
                || self.rate_hit(|f| matches!(f, Fault::BadMpaKey));
            self.open_connection(conn, bad_key);
        } else if faults.contains(&Fault::BadMpaKey) {
            self.summary.notes.push(format!(
                "line {line}: fault bad-mpa-key needs the connection's first command; ignored"
            ));
        }
        self.conns[conn].in_flight += 1;
        let ex = flows::Exchange::new(id, line, conn, action, faults, self.now);
        self.exchanges.insert(id, ex);
        self.begin_exchange(id)
    }

    /// Per-command faults drawn from the rate faults.
    fn draw_rate_faults(&mut self, faults: &mut Vec<Fault>, eligible: fn(&Fault) -> bool) {
        let rate_faults: Vec<RateFault> = self.sc.rate_faults.clone();
        for rf in rate_faults.iter().filter(|rf| eligible(&rf.fault)) {
            if self.rng_faults.chance(rf.rate) && !faults.contains(&rf.fault) {
                faults.push(rf.fault);
            }
        }
    }

    /// True with the rate of the first rate fault that `pick` selects.
    fn rate_hit(&mut self, pick: impl Fn(&Fault) -> bool) -> bool {
        let rate = self
            .sc
            .rate_faults
            .iter()
            .find(|rf| pick(&rf.fault))
            .map(|rf| rf.rate);
        rate.is_some_and(|r| self.rng_faults.chance(r))
    }

    /// A command finished: free its slot, report it, issue more.
    fn complete(&mut self, id: u64) -> Result<(), GenError> {
        let Some(ex) = self.exchanges.remove(&id) else {
            return Ok(());
        };
        let conn = ex.conn;
        self.conns[conn].in_flight -= 1;
        let kind = ex.kind();
        let (h1, h2) = hostmodel::interactions(kind);
        let st = self.summary.flows.entry(kind.name()).or_default();
        st.commands += 1;
        st.bytes += ex.payload_bytes();
        st.host1_interactions += h1.len() as u64;
        st.host2_interactions += h2.len() as u64;
        self.progress.commands += 1;
        if let Some(w) = self.opts.host_trace.as_mut() {
            let c = &self.conns[conn];
            let names = [
                &self.sc.hosts[c.host[INITIATOR]].name,
                &self.sc.hosts[c.host[TARGET]].name,
            ];
            hostmodel::write_trace(*w, &ex, kind, names, self.now - ex.started).map_err(|e| {
                GenError::Io {
                    what: "host trace".into(),
                    error: e,
                }
            })?;
        }
        if kind == FlowKind::Terminate {
            // The sender of a Terminate sends nothing more: later commands are skipped.
            self.kill(conn);
        }
        self.issue()
    }

    // ---------------------------------------------------------------- connections

    fn open_connection(&mut self, conn: usize, bad_key: bool) {
        let stag = self.alloc_stag(self.conns[conn].host[TARGET]);
        let c = &mut self.conns[conn];
        c.phase = Phase::Starting;
        c.bad_key = bad_key;
        c.target_stag = stag;
        c.ends[INITIATOR].syn_pending = true;
        self.kick(conn, INITIATOR);
    }

    /// A fresh STag of `host`: a 24-bit index and an 8-bit key, as RNICs build them.
    pub(crate) fn alloc_stag(&mut self, host: usize) -> u32 {
        self.stag_index[host] = self.stag_index[host].wrapping_add(1) & 0x00FF_FFFF;
        if self.stag_index[host] == 0 {
            self.stag_index[host] = 1;
        }
        let key = (self.rng_ids.next_u32() & 0xFF).max(1);
        (self.stag_index[host] + (host as u32) * 0x1000) << 8 | key
    }

    /// TCP handshake done (the initiator got the SYN-ACK).
    fn established(&mut self, conn: usize) -> Result<(), GenError> {
        match &self.conns[conn].conn.kind {
            ConnKind::Iscsi => self.open(conn),
            ConnKind::Iwarp(m) => {
                let m = m.clone();
                let enhanced = (m.revision == 2).then(|| {
                    let (send, write, read) = match m.p2p {
                        Some(crate::model::Rtr::Send) => (true, false, false),
                        Some(crate::model::Rtr::Write) => (false, true, false),
                        Some(crate::model::Rtr::Read) => (false, false, true),
                        None => (false, false, false),
                    };
                    Enhanced::new(m.p2p.is_some(), send, m.ird, write, read, m.ord)
                });
                let mut key = mpa::KEY_REQUEST;
                if self.conns[conn].bad_key {
                    key[15] ^= 0x20; // "MPA ID Req FramE"
                }
                let req = MpaFrameRepr {
                    key,
                    flags: mpa::frame::flags(
                        matches!(m.markers, Markers::ToInitiator | Markers::Both),
                        m.crc,
                        false,
                        enhanced.is_some(),
                    ),
                    rev: m.revision,
                    enhanced,
                    private_data: &m.private_data,
                };
                let mut bytes = vec![0u8; req.len()];
                req.emit(&mut bytes).expect("request fits its length");
                let reaction = (!self.conns[conn].bad_key)
                    .then(|| self.reaction(Reaction::MpaRequest { conn }));
                let label = self.label(self.conns[conn].conn.line, || {
                    format!("MPA Request (Rev {})", m.revision)
                });
                self.push_stream(conn, INITIATOR, bytes, label, reaction);
                if self.conns[conn].bad_key {
                    // The target closes at once (MPA error 4): it resets the connection.
                    self.conns[conn].ends[TARGET].rst_pending = true;
                }
                Ok(())
            }
        }
    }

    /// The MPA Request reached the target: reply.
    fn mpa_request(&mut self, conn: usize) {
        let ConnKind::Iwarp(m) = &self.conns[conn].conn.kind else {
            return;
        };
        let m = m.clone();
        let enhanced = (m.revision == 2).then(|| {
            let (send, write, read) = match m.p2p {
                Some(crate::model::Rtr::Send) => (true, false, false),
                Some(crate::model::Rtr::Write) => (false, true, false),
                Some(crate::model::Rtr::Read) => (false, false, true),
                None => (false, false, false),
            };
            Enhanced::new(m.p2p.is_some(), send, m.ord, write, read, m.ird)
        });
        let rep = MpaFrameRepr {
            key: mpa::KEY_REPLY,
            flags: mpa::frame::flags(
                matches!(m.markers, Markers::ToTarget | Markers::Both),
                m.crc,
                m.reject,
                enhanced.is_some(),
            ),
            rev: m.revision,
            enhanced,
            private_data: &[],
        };
        let mut bytes = vec![0u8; rep.len()];
        rep.emit(&mut bytes).expect("reply fits its length");
        let reaction = Some(self.reaction(Reaction::MpaReply { conn }));
        let label = self.label(self.conns[conn].conn.line, || {
            if m.reject {
                "MPA Reply (rejected)".to_string()
            } else {
                "MPA Reply".to_string()
            }
        });
        self.push_stream(conn, TARGET, bytes, label, reaction);
        if !m.reject {
            let origin = self.conns[conn].ends[TARGET].enq_seq;
            self.conns[conn].ends[TARGET].marker_origin = Some(origin);
        }
    }

    /// The Reply reached the initiator: Full Operation (or rejection).
    fn mpa_reply(&mut self, conn: usize) -> Result<(), GenError> {
        if self.conns[conn].reply_rejects {
            self.kill(conn);
            return Ok(());
        }
        let origin = self.conns[conn].ends[INITIATOR].enq_seq;
        self.conns[conn].ends[INITIATOR].marker_origin = Some(origin);
        let p2p = match &self.conns[conn].conn.kind {
            ConnKind::Iwarp(m) => m.p2p,
            ConnKind::Iscsi => None,
        };
        match p2p {
            Some(rtr) => {
                let reaction = self.reaction(Reaction::Rtr { conn });
                flows::send_rtr(self, conn, rtr, reaction);
                Ok(())
            }
            None => self.open(conn),
        }
    }

    /// Commands may flow: send what waited for the connection.
    fn open(&mut self, conn: usize) -> Result<(), GenError> {
        self.conns[conn].phase = Phase::Open;
        let waiting = std::mem::take(&mut self.conns[conn].waiting);
        for d in waiting {
            flows::run_deferred(self, d)?;
        }
        Ok(())
    }

    /// The connection is unusable: its commands complete as skipped.
    fn kill(&mut self, conn: usize) {
        self.conns[conn].phase = Phase::Dead;
        self.conns[conn].waiting.clear();
        let ids: Vec<u64> = self
            .exchanges
            .iter()
            .filter(|(_, ex)| ex.conn == conn)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(ex) = self.exchanges.remove(&id) {
                *self.summary.skipped.entry(ex.line).or_default() += 1;
                self.conns[conn].in_flight -= 1;
            }
        }
        self.conns[conn].ends[INITIATOR].fin_queued = true;
        self.kick(conn, INITIATOR);
        if !self.issue_scheduled {
            self.issue_scheduled = true;
            self.schedule(self.now, Ev::Issue);
        }
    }

    /// Close a connection once the script is done with it.
    fn maybe_close(&mut self, conn: usize) {
        let c = &mut self.conns[conn];
        if c.phase == Phase::Idle || c.in_flight > 0 || self.cursor.peeked.is_some() {
            return;
        }
        if c.phase != Phase::Dead && !c.ends[INITIATOR].fin_queued {
            c.ends[INITIATOR].fin_queued = true;
            self.kick(conn, INITIATOR);
        }
    }

    // ---------------------------------------------------------------- queueing data

    /// A capture comment for a script line, built only when the sink keeps comments.
    pub(crate) fn label(&self, line: u32, text: impl FnOnce() -> String) -> Option<Rc<str>> {
        self.comments
            .then(|| Rc::from(format!("line {line}: {}", text()).as_str()))
    }

    /// Queues plain stream octets on `end` of `conn`.
    pub(crate) fn push_stream(
        &mut self,
        conn: usize,
        end: usize,
        head: Vec<u8>,
        label: Option<Rc<str>>,
        reaction: Option<u64>,
    ) {
        self.push_payload(
            conn,
            end,
            Payload { head, data: None },
            label,
            reaction,
            ChunkFaults::default(),
        );
    }

    /// Queues a stream payload.
    pub(crate) fn push_payload(
        &mut self,
        conn: usize,
        end: usize,
        payload: Payload,
        label: Option<Rc<str>>,
        reaction: Option<u64>,
        faults: ChunkFaults,
    ) {
        let body = Body::Stream(payload);
        let chunk = Chunk::new(body, label, faults, self.owner, &self.block());
        self.push_chunk(conn, end, chunk, reaction);
    }

    /// Queues one FPDU carrying `ulpdu_head` + `payload`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_fpdu(
        &mut self,
        conn: usize,
        end: usize,
        ulpdu_head: chunk::Head,
        payload: Payload,
        label: Option<Rc<str>>,
        reaction: Option<u64>,
        mut faults: ChunkFaults,
    ) {
        if end == INITIATOR {
            self.conns[conn].initiator_fpdu = true;
        }
        let markers_at = if self.conns[conn].markers[end] {
            self.conns[conn].ends[end].marker_position()
        } else {
            None
        };
        if let Some(rate) = self.sc.mutate {
            if self.rng_faults.chance(rate) {
                faults.mutate = Some(self.rng_faults.next_u64());
            }
        }
        self.segment_rate_faults(&mut faults);
        let body = Body::Fpdu {
            ulpdu_head,
            payload,
            crc: self.conns[conn].crc,
            markers_at,
        };

        let chunk = Chunk::new(body, label, faults, self.owner, &self.block());
        self.push_chunk(conn, end, chunk, reaction);
    }

    /// Segment-level faults drawn at their rates.
    fn segment_rate_faults(&mut self, f: &mut ChunkFaults) {
        for rf in &self.sc.rate_faults {
            let hit = match rf.fault {
                Fault::Crc
                | Fault::Loss
                | Fault::Duplicate
                | Fault::Reorder
                | Fault::Split(_)
                | Fault::UlpduLengthBeyond
                | Fault::Snaplen(_) => self.rng_faults.chance(rf.rate),
                _ => false,
            };
            if hit {
                flows::apply_segment_fault(f, rf.fault, &mut self.rng_faults);
            }
        }
    }

    fn push_chunk(&mut self, conn: usize, end: usize, mut chunk: Chunk, reaction: Option<u64>) {
        if let Some(l) = &chunk.label {
            let named = chunk::fault_names(&chunk.faults);
            if !named.is_empty() {
                chunk.label = Some(Rc::from(format!("{l} [fault: {named}]").as_str()));
            }
        }
        let c = &mut self.conns[conn];
        let end_seq = c.ends[end].push(chunk);
        if let Some(r) = reaction {
            c.ends[1 - end].deliveries.push_back((end_seq, r));
        }
        self.kick(conn, end);
    }

    /// The MSS-limited largest ULPDU `end` may put in one FPDU.
    pub(crate) fn mulpdu(&self, conn: usize, end: usize) -> usize {
        let c = &self.conns[conn];
        mpa::mulpdu(c.ends[end].mss, c.markers[end]) as usize
    }

    /// The run's data block and its tables.
    pub(crate) fn block(&self) -> chunk::Block<'_> {
        chunk::Block {
            octets: &self.block,
            crcs: &self.block_crcs,
            sums: &self.block_sums,
        }
    }

    /// Bulk data for `len` octets of message `id` at `offset`.
    pub(crate) fn data_ref(&self, id: u64, offset: u64, len: usize) -> chunk::DataRef {
        let base = (id.wrapping_mul(0x9E37_79B9) ^ 0x5bd1) as usize % DATA_BLOCK;
        chunk::DataRef {
            offset: (base + offset as usize) % DATA_BLOCK,
            len: len.min(MAX_SLICE),
        }
    }

    // ---------------------------------------------------------------- the wire

    fn transmit(&mut self, conn: usize, end: usize) -> Result<(), GenError> {
        let host = self.conns[conn].host[end];
        if self.link_free[host] > self.now {
            self.kick(conn, end);
            return Ok(());
        }
        let c = &self.conns[conn];
        let e = &c.ends[end];
        if e.closed {
            return Ok(());
        }
        let peer_synced = c.ends[end].synced;
        let ack = peer_synced.then_some(e.rcv_nxt);
        let mss = (!e.syn_sent && e.syn_pending).then_some(self.sc.hosts[host].mss);
        if e.rst_pending {
            let seq = e.snd_nxt;
            let fields = TcpFields {
                seq,
                ack_no: ack.unwrap_or(0),
                ack: ack.is_some(),
                rst: true,
                window: 0,
                ..TcpFields::default()
            };
            let seg = SegInfo {
                seq,
                data_len: 0,
                syn: false,
                fin: false,
                rst: true,
                ack,
            };
            self.conns[conn].ends[end].rst_pending = false;
            self.conns[conn].ends[end].closed = true;
            let label = self.label(self.conns[conn].conn.line, || "RST".into());
            return self.send_frame(conn, end, fields, seg, label, None, false);
        }
        if e.syn_pending && !e.syn_sent {
            let fields = TcpFields {
                seq: e.iss,
                ack_no: ack.unwrap_or(0),
                ack: ack.is_some(),
                syn: true,
                window: self.sc.hosts[host].window,
                mss,
                ..TcpFields::default()
            };
            let seg = SegInfo {
                seq: e.iss,
                data_len: 0,
                syn: true,
                fin: false,
                rst: false,
                ack,
            };
            let e = &mut self.conns[conn].ends[end];
            e.syn_sent = true;
            e.snd_nxt = e.iss.wrapping_add(1);
            e.ack_now = false;
            let label = self.label(self.conns[conn].conn.line, || {
                if end == INITIATOR { "SYN" } else { "SYN-ACK" }.into()
            });
            self.send_frame(conn, end, fields, seg, label, None, false)?;
            return Ok(());
        }
        if !e.syn_sent {
            return Ok(());
        }
        if let Some((seq, to)) = e.next_segment() {
            return self.send_data(conn, end, seq, to, false);
        }
        if e.fin_queued && !e.fin_sent && !e.has_data() {
            let seq = e.snd_nxt;
            let fields = TcpFields {
                seq,
                ack_no: ack.unwrap_or(0),
                ack: ack.is_some(),
                fin: true,
                window: self.sc.hosts[host].window,
                ..TcpFields::default()
            };
            let seg = SegInfo {
                seq,
                data_len: 0,
                syn: false,
                fin: true,
                rst: false,
                ack,
            };
            let e = &mut self.conns[conn].ends[end];
            e.fin_sent = true;
            e.snd_nxt = seq.wrapping_add(1);
            e.ack_now = false;
            e.unacked = 0;
            let label = self.label(self.conns[conn].conn.line, || "FIN".into());
            return self.send_frame(conn, end, fields, seg, label, None, false);
        }
        if e.ack_now {
            let fields = TcpFields {
                seq: e.snd_nxt,
                ack_no: e.rcv_nxt,
                ack: true,
                window: self.sc.hosts[host].window,
                ..TcpFields::default()
            };
            let seg = SegInfo {
                seq: e.snd_nxt,
                data_len: 0,
                syn: false,
                fin: false,
                rst: false,
                ack: Some(e.rcv_nxt),
            };
            let e = &mut self.conns[conn].ends[end];
            e.ack_now = false;
            e.unacked = 0;
            e.ack_timer_armed = false;
            let label = self.label(self.conns[conn].conn.line, || "ACK".into());
            return self.send_frame(conn, end, fields, seg, label, None, false);
        }
        Ok(())
    }

    /// Sends the data segment `seq..to` (first transmission or retransmission).
    fn send_data(
        &mut self,
        conn: usize,
        end: usize,
        seq: u32,
        to: u32,
        retransmit: bool,
    ) -> Result<(), GenError> {
        let host = self.conns[conn].host[end];
        // Build the payload from the chunks that cover the range.
        self.frame.start(&self.conns[conn].ep[end], false);
        let mut label: Option<Rc<str>> = None;
        let mut owner: Option<FlowKind> = None;
        let mut first_faults = ChunkFaults::default();
        let mut snaplen: Option<u32> = None;
        // The payload's checksum sum, piece by piece: bulk data from the block's running sums.
        let mut sum = PayloadSum::default();
        {
            let e = &mut self.conns[conn].ends[end];
            let first = e.chunk_index(seq);
            for ch in e.queue.range_mut(first..) {
                if seq_le(to, ch.seq) {
                    break;
                }
                let from = seq.wrapping_sub(ch.seq).min(ch.wire_len) as usize;
                let from = if seq_lt(seq, ch.seq) { 0 } else { from };
                let upto = to.wrapping_sub(ch.seq).min(ch.wire_len) as usize;
                let at = self.frame.payload_len();
                if from == 0 && upto == ch.wire_len as usize {
                    // The bulk data goes out by reference where it can, with the sum worked out
                    // when it was queued: only the octets around it are written and summed.
                    let start = self.frame.payload().len();
                    match ch.write_around(&self.block, self.frame.payload()) {
                        Some((d, prepared, tail)) => {
                            let off = self.frame.payload().len() - start;
                            sum.add(&self.frame.payload()[start..], at);
                            sum.add_sum(prepared.data_sum, at + off);
                            self.frame.splice(d.offset..d.offset + d.len);
                            sum.add(&tail, at + off + d.len);
                            self.frame.payload().extend_from_slice(&tail);
                        }
                        None => {
                            ch.materialize(&self.block, self.frame.payload(), &mut self.scratch);
                            sum.add(&self.frame.payload()[start..], at);
                        }
                    }
                } else {
                    let mut whole = Vec::with_capacity(ch.wire_len as usize);
                    let mut s2 = Vec::new();
                    ch.materialize(&self.block, &mut whole, &mut s2);
                    self.frame.payload().extend_from_slice(&whole[from..upto]);
                    sum.add(&whole[from..upto], at);
                }
                // Name every message the segment carries (once each).
                label = match (label.take(), &ch.label) {
                    (None, l) => l.clone(),
                    (Some(a), Some(b)) if !a.ends_with(&**b) && !a.contains(&format!("{b}; ")) => {
                        Some(Rc::from(format!("{a}; {b}").as_str()))
                    }
                    (a, _) => a,
                };
                owner = owner.or(ch.owner);
                if ch.seq == seq && !ch.sent && !retransmit {
                    first_faults = ch.faults;
                }
                if let Some(s) = ch.faults.snaplen {
                    snaplen = Some(snaplen.map_or(s, |x: u32| x.min(s)));
                }
                if from == 0 {
                    ch.sent = true;
                }
            }
        }
        debug_assert_eq!(self.frame.payload_len() as u32, to.wrapping_sub(seq));
        self.frame.set_payload_sum(sum);
        let e = &self.conns[conn].ends[end];
        let ack = e.synced.then_some(e.rcv_nxt);
        let fields = TcpFields {
            seq,
            ack_no: ack.unwrap_or(0),
            ack: ack.is_some(),
            psh: true,
            window: self.sc.hosts[host].window,
            ..TcpFields::default()
        };
        let seg = SegInfo {
            seq,
            data_len: to.wrapping_sub(seq),
            syn: false,
            fin: false,
            rst: false,
            ack,
        };
        if !retransmit {
            let e = &mut self.conns[conn].ends[end];
            if seq_lt(e.snd_nxt, to) {
                e.snd_nxt = to;
            }
        }
        {
            let e = &mut self.conns[conn].ends[end];
            e.ack_now = false;
            e.unacked = 0;
            e.ack_timer_armed = false;
        }
        if let Some(k) = owner {
            let n = if first_faults.duplicate { 2 } else { 1 };
            match self.flow_frames.iter_mut().find(|(kind, _)| *kind == k) {
                Some((_, frames)) => *frames += n,
                None => self.flow_frames.push((k, n)),
            }
        }
        if first_faults.lose {
            // Dropped before the capture point: nothing captured, nothing delivered; the
            // sender retransmits after its timeout.
            let txt = self.serialization(host, self.frame.payload_len() + 54);
            self.link_free[host] = self.now + txt;
            let at = self.now + self.timing.rto_ns;
            self.schedule(at, Ev::Rto { conn, end, seq });
            self.kick(conn, end);
            return Ok(());
        }
        if first_faults.reorder {
            // Hold this segment back until the next one has gone: send the next first.
            let e = &self.conns[conn].ends[end];
            if let Some((s2, t2)) = e.next_segment() {
                let held = self.frame.payload_vec();
                let held_label = label.clone();
                self.send_data(conn, end, s2, t2, false)?;
                // Rebuild the held frame and send it right behind.
                let host_free = self.link_free[host];
                self.now = self.now.max(host_free);
                self.frame.start(&self.conns[conn].ep[end], false);
                self.frame.payload().extend_from_slice(&held);
                let e = &self.conns[conn].ends[end];
                let ack = e.synced.then_some(e.rcv_nxt);
                let fields = TcpFields {
                    ack_no: ack.unwrap_or(0),
                    ack: ack.is_some(),
                    ..fields
                };
                let seg = SegInfo { ack, ..seg };
                return self.send_frame(conn, end, fields, seg, held_label, snaplen, true);
            }
        }
        // Sending may turn the frame into a capture record where it lies: keep the payload to
        // send again.
        let again = first_faults.duplicate.then(|| self.frame.payload_vec());
        self.send_frame(conn, end, fields, seg, label.clone(), snaplen, true)?;
        if let Some(payload) = again {
            self.now = self.now.max(self.link_free[host]);
            self.frame.start(&self.conns[conn].ep[end], false);
            self.frame.payload().extend_from_slice(&payload);
            let label = label.map(|l| Rc::from(format!("{l} [duplicate]").as_str()));
            self.send_frame(conn, end, fields, seg, label, snaplen, true)?;
        }
        Ok(())
    }

    /// Retransmits the segment starting at `seq` after a loss.
    fn retransmit(&mut self, conn: usize, end: usize, seq: u32) -> Result<(), GenError> {
        let host = self.conns[conn].host[end];
        if self.link_free[host] > self.now {
            let at = self.link_free[host];
            self.schedule(at, Ev::Rto { conn, end, seq });
            return Ok(());
        }
        let e = &self.conns[conn].ends[end];
        if seq_lt(seq, e.snd_una) || seq_le(e.snd_nxt, seq) {
            return Ok(()); // acknowledged meanwhile, or never sent
        }
        // Resend what the chunk at `seq` and its companions occupied, up to the MSS.
        let mut to = seq;
        for ch in e.queue.range(e.chunk_index(seq)..) {
            let add = ch.end().wrapping_sub(to.max_with(ch.seq));
            if to.wrapping_sub(seq) + add > e.mss && to != seq {
                break;
            }
            to = ch.end();
            if ch.is_fpdu() && ch.faults.split_at.is_some() {
                break;
            }
        }
        if seq_lt(e.snd_nxt, to) {
            to = e.snd_nxt;
        }
        if to == seq {
            return Ok(());
        }
        self.send_data(conn, end, seq, to, true)
    }

    fn serialization(&self, host: usize, bytes: usize) -> u64 {
        let rate = self.sc.hosts[host].rate_bps.max(1);
        ((bytes as u64 + self.timing.wire_overhead) * 8 * 1_000_000_000).div_ceil(rate)
    }

    /// Writes the frame in `self.frame` (payload already in place) and schedules its arrival.
    #[allow(clippy::too_many_arguments)]
    fn send_frame(
        &mut self,
        conn: usize,
        end: usize,
        fields: TcpFields,
        seg: SegInfo,
        label: Option<Rc<str>>,
        snaplen: Option<u32>,
        has_payload: bool,
    ) -> Result<(), GenError> {
        let c = &self.conns[conn];
        let host = c.host[end];
        if !has_payload {
            self.frame.start(&c.ep[end], fields.mss.is_some());
        }
        let orig_len = if fields.mss.is_some() {
            self.frame.finish(&c.ep[end], &c.ep[1 - end], &fields)
        } else {
            self.frame.finish_with(&c.headers[end], &fields)
        };
        let cap = snaplen
            .or(self.sc.snaplen)
            .map_or(orig_len, |s| (s as usize).min(orig_len));
        self.sent += 1;
        if self.sc.capture_from.is_none_or(|first| self.sent >= first) {
            let (time_ns, interface) = (self.now, host as u32);
            if let Some(records) = self.sink.records() {
                records.fill_header(time_ns, cap, orig_len as u32, self.frame.record_header())?;
                self.frame.commit(cap);
                if self.frame.records_len() >= RECORDS_BUFFER
                    || self.frame.records_spliced() >= RECORDS_SPLICES
                {
                    records.write_records(&mut self.frame.record_slices())?;
                    self.frame.clear_records();
                }
            } else {
                let captured = Captured {
                    time_ns,
                    interface,
                    data: &self.frame.frame()[..cap],
                    orig_len: orig_len as u32,
                };
                let comment = || match &label {
                    Some(l) => l.to_string(),
                    None => format!("line {}: TCP", self.conns[conn].conn.line),
                };
                self.sink.frame(&captured, &comment)?;
            }
            self.progress.frames += 1;
            self.progress.bytes += cap as u64;
            self.summary.frames += 1;
            self.summary.wire_bytes += orig_len as u64;
            if self.progress.frames % 4096 == 0 {
                if let Some(p) = self.opts.progress.as_mut() {
                    p(self.progress);
                }
            }
        }
        let txt = self.serialization(host, orig_len);
        self.link_free[host] = self.now + txt;
        let arrive = self.now + txt + self.sc.hosts[host].latency.as_nanos() as u64;
        // A host's frames arrive in the order it sent them (one link, one latency): a lane of
        // their own keeps them out of the heap.
        self.events.push_in_lane(
            host,
            arrive,
            Ev::Arrive {
                conn,
                to: 1 - end,
                seg,
            },
        );
        // More to send?
        let e = &self.conns[conn].ends[end];
        if e.has_data() || e.ack_now || (e.fin_queued && !e.fin_sent) {
            self.kick(conn, end);
        }
        Ok(())
    }

    fn arrive(&mut self, conn: usize, to: usize, seg: SegInfo) -> Result<(), GenError> {
        if self.conns[conn].ends[to].closed {
            return Ok(());
        }
        if seg.rst {
            self.conns[conn].ends[to].closed = true;
            self.conns[conn].ends[1 - to].closed = true;
            self.kill(conn);
            return Ok(());
        }
        // Our own send side learns what the peer acknowledged.
        if let Some(ack) = seg.ack {
            let e = &mut self.conns[conn].ends[to];
            let pure = seg.data_len == 0 && !seg.syn && !seg.fin;
            if pure && ack == e.snd_una && e.in_flight() > 0 {
                e.dupacks += 1;
                if e.dupacks == 3 {
                    // Fast retransmission (RFC 5681 §3.2).
                    let seq = e.snd_una;
                    self.schedule(self.now, Ev::Rto { conn, end: to, seq });
                }
            } else if seq_lt(e.snd_una, ack) {
                e.dupacks = 0;
            }
            let e = &mut self.conns[conn].ends[to];
            e.acked(ack);
            if e.has_data() || (e.fin_queued && !e.fin_sent) {
                self.kick(conn, to);
            }
        }
        if seg.syn {
            let e = &mut self.conns[conn].ends[to];
            e.synced = true;
            e.rcv_nxt = seg.seq.wrapping_add(1);
            if to == TARGET {
                e.syn_pending = true;
                self.kick(conn, to);
            } else {
                e.ack_now = true;
                self.kick(conn, to);
                self.established(conn)?;
            }
            return Ok(());
        }
        let mut in_order = true;
        if seg.data_len > 0 {
            let e = &mut self.conns[conn].ends[to];
            in_order = e.receive(seg.seq, seg.seq.wrapping_add(seg.data_len));
            if in_order {
                e.unacked += 1;
            }
            // Fire deliveries now in order.
            let mut fired = Vec::new();
            while let Some(&(end_seq, r)) = e.deliveries.front() {
                if seq_le(end_seq, e.rcv_nxt) {
                    e.deliveries.pop_front();
                    fired.push(r);
                } else {
                    break;
                }
            }
            for r in fired {
                let delay = self.reactions.get(&r).map_or(0, |x| self.reaction_delay(x));
                self.react_after(delay, r);
            }
        }
        if seg.fin {
            let e = &mut self.conns[conn].ends[to];
            if seg.seq == e.rcv_nxt {
                e.rcv_nxt = e.rcv_nxt.wrapping_add(1);
                e.fin_received = true;
                e.ack_now = true;
                if !e.fin_queued {
                    e.fin_queued = true;
                }
                self.kick(conn, to);
            }
            return Ok(());
        }
        if seg.data_len > 0 {
            let e = &mut self.conns[conn].ends[to];
            if !in_order || e.unacked >= 2 {
                e.ack_now = true;
                self.kick(conn, to);
            } else if !e.ack_timer_armed {
                // Most timers are stopped by the ACK of the next segment: an end keeps one
                // timer event queued at a time, and that one, when it comes due, queues the
                // last armed timer's event in the place it would have had.
                e.ack_timer_armed = true;
                e.ack_timer_gen += 1;
                let at = self.now + self.timing.delayed_ack_ns;
                e.ack_timer_key = (at, self.events.reserve());
                self.last_timer = self.last_timer.max(at);
                if !e.ack_timer_queued {
                    e.ack_timer_queued = true;
                    let ev = Ev::AckTimer {
                        conn,
                        end: to,
                        generation: e.ack_timer_gen,
                    };
                    let (at, order) = e.ack_timer_key;
                    self.events.push_reserved(at, order, ev);
                }
            }
        }
        Ok(())
    }

    fn react(&mut self, r: Reaction) -> Result<(), GenError> {
        match r {
            Reaction::MpaRequest { conn } => {
                self.mpa_request(conn);
                Ok(())
            }
            Reaction::MpaReply { conn } => self.mpa_reply(conn),
            Reaction::Rtr { conn } => {
                if matches!(&self.conns[conn].conn.kind, ConnKind::Iwarp(m) if m.p2p == Some(crate::model::Rtr::Read))
                {
                    // A zero-length RDMA Read is answered like any Read: a zero-length Response.
                    flows::answer_read_rtr(self, conn);
                }
                self.open(conn)
            }
            Reaction::Exchange { id, step } => flows::step(self, id, step),
        }
    }

    /// How long a host takes before it acts on a delivery.
    fn reaction_delay(&self, r: &Reaction) -> u64 {
        use flows::StepKind as S;
        let t = &self.timing;
        match r {
            Reaction::MpaRequest { .. } | Reaction::MpaReply { .. } => t.host_ns,
            Reaction::Rtr { .. } => t.nic_ns,
            Reaction::Exchange { id, step } => {
                let write = self
                    .exchanges
                    .get(id)
                    .is_some_and(|ex| matches!(ex.action, crate::model::Action::Write { .. }));
                match step {
                    S::TargetCommand if write => t.host_ns,
                    S::TargetCommand => t.storage_ns,
                    S::InitiatorReadRequest | S::PeerRequest => t.nic_ns,
                    S::TargetData => t.storage_ns,
                    S::InitiatorR2t { .. } | S::TargetDataOut { .. } => t.host_ns,
                    S::Done => 0,
                }
            }
        }
    }

    fn begin_exchange(&mut self, id: u64) -> Result<(), GenError> {
        flows::begin(self, id)
    }
}

trait MaxWith {
    fn max_with(self, other: u32) -> u32;
}

impl MaxWith for u32 {
    fn max_with(self, other: u32) -> u32 {
        if seq_lt(self, other) { other } else { self }
    }
}
