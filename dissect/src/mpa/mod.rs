//! MPA on a reassembled TCP conversation: the Request/Reply handshake (revision, markers per
//! direction, CRC, rejection), FPDU framing across segments with markers where negotiated,
//! detection without a handshake (a chain of FPDUs whose lengths and CRCs check), forced
//! decoding (`-d`), and resynchronisation after a gap.
//!
//! The framer is fed the in-order octets of each direction as reassembly hands them on, with
//! the frame they arrived in; it reports every PDU that completes in that frame. A PDU lying
//! wholly in the frame is reported as a range of the frame; one that spans segments is copied
//! into `held`.

use oneshot_codec::mpa::{self, Fpdu, MarkedFpdu, MpaFrame, marker};

use crate::stream::seq_diff;

/// How to treat a conversation the handshake does not announce (`-d tcp.port==N,mpa,…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forced {
    /// CRCs are present and checked.
    pub crc: bool,
    /// Markers are present in both directions.
    pub markers: bool,
}

/// CRC verdict of an FPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcStatus {
    /// The CRC matched.
    Good,
    /// It did not.
    Bad,
    /// CRCs were not negotiated: the field is not checked.
    Unverified,
}

impl CrcStatus {
    /// Wireshark's checksum-status numbering: 0 bad, 1 good, 2 unverified.
    pub fn code(self) -> u64 {
        match self {
            CrcStatus::Bad => 0,
            CrcStatus::Good => 1,
            CrcStatus::Unverified => 2,
        }
    }
}

/// What a PDU is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduKind {
    /// An MPA Request.
    Request,
    /// An MPA Reply.
    Reply,
    /// A start-up frame whose PD_Length is more than 512 (only its header is shown).
    BadFrame,
    /// An FPDU.
    Fpdu,
    /// An iSCSI PDU over plain TCP (BHS, AHS, data segment).
    Iscsi,
}

/// Where a PDU's wire octets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// In the current frame at this offset.
    Frame(usize),
    /// In the framer's `held` buffer at this offset (the PDU spans segments).
    Held(usize),
}

/// One PDU completed in the current frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pdu {
    /// What it is.
    pub kind: PduKind,
    /// Its wire octets (markers included).
    pub at: Location,
    /// Wire length.
    pub len: usize,
    /// TCP sequence number of its first octet.
    pub seq: u32,
    /// Marker stream position of its first octet, when the direction has markers.
    pub marker_pos: Option<u32>,
    /// CRC verdict (FPDUs).
    pub crc: CrcStatus,
    /// It was completed from several segments.
    pub reassembled: bool,
    /// Shown in this frame (false: shown earlier, in the frame that carried it out of order).
    pub show: bool,
    /// Analysed now, in stream order (false: a retransmitted copy, or an out-of-order FPDU
    /// that is analysed when reassembly reaches it).
    pub analyse: bool,
    /// Direction (0 or 1, as the conversation numbers them).
    pub dir: usize,
}

/// Something the framer wants said about the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// MPA was recognised without a handshake in this direction.
    Heuristic,
    /// Octets were skipped to find the next FPDU after a gap or garbage.
    Resync {
        /// Octets skipped.
        skipped: u64,
    },
    /// The handshake ended in a rejection (R = 1): nothing after it is MPA.
    Rejected,
}

/// What the framer produced for one frame.
#[derive(Debug, Default)]
pub struct FrameOut {
    /// PDUs completed in the frame, in stream order per direction.
    pub pdus: Vec<Pdu>,
    /// Octets of PDUs that span segments.
    pub held: Vec<u8>,
    /// Events.
    pub events: Vec<(usize, Event)>,
    /// The conversation's MPA Request is in the capture: what came before its FPDUs was seen.
    pub handshake: bool,
}

impl FrameOut {
    /// Empties the output for the next frame.
    pub fn clear(&mut self) {
        self.pdus.clear();
        self.held.clear();
        self.events.clear();
        self.handshake = false;
    }

    /// A PDU's wire octets.
    pub fn wire<'a>(&'a self, frame: &'a [u8], p: &Pdu) -> &'a [u8] {
        match p.at {
            Location::Frame(o) => &frame[o..o + p.len],
            Location::Held(o) => &self.held[o..o + p.len],
        }
    }
}

/// A direction's framing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DirState {
    /// Nothing seen yet.
    #[default]
    Unknown,
    /// Start-up: an MPA frame is expected (or pending data waits for the Reply).
    Startup,
    /// Full Operation: FPDUs.
    Fpdus,
    /// iSCSI PDUs over plain TCP.
    Iscsi,
    /// Not MPA (or no longer).
    Off,
}

/// MPA state of one direction.
#[derive(Debug, Default)]
pub struct MpaDir {
    /// Framing state.
    pub state: DirState,
    /// Marker origin (TCP sequence number of the first FPDU octet), when this direction has
    /// markers.
    pub marker_origin: Option<u32>,
    /// Markers were negotiated for this direction but the origin is still to be found (forced
    /// decoding mid-stream).
    pub markers_unplaced: bool,
    /// CRCs are checked.
    pub crc: bool,
    /// Found by the heuristic.
    pub heuristic: bool,
    /// Octets of an unfinished PDU, from `pending_seq`.
    pending: Vec<u8>,
    pending_seq: u32,
    /// Looking for the next FPDU after a gap.
    resync: bool,
    /// Octets skipped while resynchronising (reported once found).
    skipped: u64,
    /// Consecutive bad CRCs (many in a row mean the framing is lost).
    bad_run: u32,
    /// Heuristic attempts that failed.
    misses: u32,
    /// Sequence number the next octets should start at (a jump is a gap).
    next_seq: Option<u32>,
    /// Ranges of sequence numbers whose FPDUs were already shown in the frame that carried
    /// them out of order; when reassembly hands them on in order they are not shown again.
    shown: Vec<(u32, u32)>,
}

impl MpaDir {
    /// Whether the FPDU of `len` octets at sequence number `here` was shown already, in the
    /// frame that carried it out of order; ranges it reaches past are forgotten.
    #[inline(never)]
    fn shown_before(&mut self, here: u32, len: usize) -> bool {
        let end = here.wrapping_add(len as u32);
        let already = self
            .shown
            .iter()
            .any(|&(a, b)| seq_diff(here, a) >= 0 && seq_diff(end, b) <= 0);
        self.shown.retain(|&(_, b)| seq_diff(b, end) > 0);
        already
    }
}

/// Conversation-level MPA state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No MPA seen.
    #[default]
    Unknown,
    /// The Request was seen in direction `initiator`.
    Requested {
        /// Direction of the Request.
        initiator: usize,
        /// The Request's M bit: markers wanted towards the initiator.
        markers_to_initiator: bool,
        /// The Request's C bit.
        crc: bool,
        /// TCP sequence number right after the Request.
        req_end: u32,
    },
    /// Full Operation (after the Reply, the heuristic, or `-d`).
    Full,
    /// Rejected by the Reply.
    Rejected,
}

/// MPA state of a conversation.
#[derive(Debug, Default)]
pub struct MpaConv {
    /// Handshake phase.
    pub phase: Phase,
    /// The two directions.
    pub dirs: [MpaDir; 2],
    /// Direction of the initiator, when known.
    pub initiator: Option<usize>,
    /// Frame number of the Request and the Reply.
    pub handshake_frames: (Option<u64>, Option<u64>),
    /// MPA revision from the Request.
    pub revision: Option<u8>,
}

/// Longest an unfinished PDU may grow before the framer gives up on it (an FPDU is at most
/// 65541 octets plus markers).
const MAX_PENDING: usize = 70_000;
/// Consecutive bad CRCs after which the framing is deemed lost.
const MAX_BAD_RUN: u32 = 4;
/// Segments tried by the heuristic before a direction is declared not MPA.
const MAX_MISSES: u32 = 8;

/// `wire` copied into the output's `held` octets.
fn hold(wire: &[u8], out: &mut FrameOut) -> Location {
    let o = out.held.len();
    out.held.extend_from_slice(wire);
    Location::Held(o)
}

fn offset_in(outer: &[u8], inner: &[u8]) -> Option<usize> {
    let o = outer.as_ptr() as usize;
    let i = inner.as_ptr() as usize;
    (i >= o && i + inner.len() <= o + outer.len()).then(|| i - o)
}

impl MpaConv {
    /// Applies `-d` settings to a conversation that has not been recognised.
    pub fn force(&mut self, f: Forced) {
        if self.phase != Phase::Unknown {
            return;
        }
        self.phase = Phase::Full;
        for d in &mut self.dirs {
            d.state = DirState::Fpdus;
            d.crc = f.crc;
            d.markers_unplaced = f.markers;
            d.resync = true;
        }
    }

    /// Never decodes MPA on this conversation (`--disable-protocol iwarp_mpa`).
    pub fn disable(&mut self) {
        self.phase = Phase::Rejected;
        for d in &mut self.dirs {
            d.state = DirState::Off;
        }
    }

    /// Octets of `dir` were skipped by reassembly: find the next FPDU.
    #[cold]
    #[inline(never)]
    pub fn gap(&mut self, dir: usize, skipped: u64) {
        let d = &mut self.dirs[dir];
        d.pending.clear();
        if d.state == DirState::Fpdus {
            d.resync = true;
            d.skipped += skipped;
        }
    }

    /// Feeds in-order octets of direction `dir`, starting at sequence number `seq`, which
    /// arrived in `frame` (frame number `number`).
    pub fn feed(
        &mut self,
        dir: usize,
        seq: u32,
        bytes: &[u8],
        frame: &[u8],
        number: u64,
        out: &mut FrameOut,
    ) {
        if bytes.is_empty() {
            return;
        }
        if let Some(n) = self.dirs[dir].next_seq {
            if n != seq {
                self.gap(dir, u64::from(seq.wrapping_sub(n)));
            }
        }
        self.dirs[dir].next_seq = Some(seq.wrapping_add(bytes.len() as u32));
        let state = self.dirs[dir].state;
        match state {
            DirState::Off => {}
            DirState::Unknown | DirState::Startup => {
                self.startup(dir, seq, bytes, frame, number, out)
            }
            DirState::Fpdus => self.fpdus(dir, seq, bytes, frame, out),
            DirState::Iscsi => self.iscsi(dir, seq, bytes, frame, out),
        }
    }

    /// Whether [`MpaConv::feed`] of octets of `dir` from `seq` goes straight to FPDU framing:
    /// the direction is in Full Operation and `seq` follows what it was fed last. Then
    /// [`MpaConv::feed_fpdus`] may be called instead.
    #[inline]
    pub fn framing_at(&self, dir: usize, seq: u32) -> bool {
        let d = &self.dirs[dir];
        d.state == DirState::Fpdus && d.next_seq.is_none_or(|n| n == seq)
    }

    /// [`MpaConv::feed`] of octets [`MpaConv::framing_at`] accepted (`bytes` not empty).
    /// Returns true when they were whole FPDUs lying in `frame`, each framed from there as the
    /// next one in order with nothing else to say (their PDUs are all `out` got).
    #[inline]
    pub fn feed_fpdus(
        &mut self,
        dir: usize,
        seq: u32,
        bytes: &[u8],
        frame: &[u8],
        out: &mut FrameOut,
    ) -> bool {
        let d = &mut self.dirs[dir];
        d.next_seq = Some(seq.wrapping_add(bytes.len() as u32));
        // What `fpdus` does first when nothing is held and the framing is known; most segments
        // hold whole FPDUs that check, and nothing more.
        let mut pos = 0;
        if d.pending.is_empty() && !d.resync && !d.markers_unplaced {
            if let Some(b) = offset_in(frame, bytes) {
                pos = self.plain_run(dir, seq, bytes, b, 0, out);
                if pos == bytes.len() {
                    return true;
                }
            }
        }
        self.fpdus(dir, seq.wrapping_add(pos as u32), &bytes[pos..], frame, out);
        false
    }

    /// Treats the conversation as iSCSI over TCP (port 3260 without MPA), unless `payload`
    /// holds an FPDU the heuristic accepts: 3260 is iSER's port too, and an FPDU header often
    /// passes for a BHS (ULPDU_Length 0x05a2 reads as opcode 0x05, Data-Out).
    pub fn iscsi_tcp(&mut self, payload: &[u8]) {
        if self.phase == Phase::Unknown && find_fpdu(payload, false, 0).is_none() {
            for d in &mut self.dirs {
                if d.state == DirState::Unknown {
                    d.state = DirState::Iscsi;
                }
            }
        }
    }

    /// iSCSI PDUs: 48-octet BHS, AHS, data segment padded to four octets.
    #[inline(never)]
    fn iscsi(&mut self, dir: usize, seq: u32, bytes: &[u8], frame: &[u8], out: &mut FrameOut) {
        let d = &mut self.dirs[dir];
        let owned;
        let (view, in_frame, start_seq): (&[u8], bool, u32) = if d.pending.is_empty() {
            (bytes, true, seq)
        } else {
            d.pending.extend_from_slice(bytes);
            owned = std::mem::take(&mut d.pending);
            (&owned[..], false, d.pending_seq)
        };
        let mut pos = 0;
        while view.len() - pos >= 48 {
            let h = &view[pos..];
            let ahs = usize::from(h[4]) * 4;
            let dsl = usize::from(h[5]) << 16 | usize::from(h[6]) << 8 | usize::from(h[7]);
            let total = 48 + ahs + dsl.div_ceil(4) * 4;
            if view.len() - pos < total {
                break;
            }
            let at = self.place(view, frame, in_frame, pos, total, out);
            out.pdus.push(Pdu {
                kind: PduKind::Iscsi,
                at,
                len: total,
                seq: start_seq.wrapping_add(pos as u32),
                marker_pos: None,
                crc: CrcStatus::Unverified,
                reassembled: !in_frame,
                show: true,
                analyse: true,
                dir,
            });
            pos += total;
        }
        let d = &mut self.dirs[dir];
        if pos < view.len() {
            d.pending_seq = start_seq.wrapping_add(pos as u32);
            d.pending = view[pos..].to_vec();
        }
    }

    /// Start-up: an MPA Request or Reply, or the heuristic.
    #[cold]
    #[inline(never)]
    fn startup(
        &mut self,
        dir: usize,
        seq: u32,
        bytes: &[u8],
        frame: &[u8],
        number: u64,
        out: &mut FrameOut,
    ) {
        let d = &mut self.dirs[dir];
        // Gather octets until a whole frame (or enough to judge) is there.
        let (data, data_seq, in_frame): (Vec<u8>, u32, bool) = if d.pending.is_empty() {
            (Vec::new(), seq, true)
        } else {
            d.pending.extend_from_slice(bytes);
            (std::mem::take(&mut d.pending), d.pending_seq, false)
        };
        let view: &[u8] = if in_frame { bytes } else { &data };
        let key_prefix = &mpa::KEY_REQUEST[..9];
        let looks_mpa = view.len() >= 9 && &view[..9] == key_prefix
            || view.len() < 9 && key_prefix.starts_with(view);
        if !looks_mpa {
            if self.phase == Phase::Unknown && self.dirs[dir].state == DirState::Unknown {
                self.heuristic(dir, data_seq, view, frame, in_frame, out);
            } else if let Phase::Requested { initiator, .. } = self.phase {
                if dir == initiator {
                    // Data from the initiator before the Reply: keep it until the Reply says how
                    // to frame it.
                    let d = &mut self.dirs[dir];
                    d.pending_seq = data_seq;
                    d.pending = view.to_vec();
                }
            }
            return;
        }
        if view.len() < mpa::frame::field::HEADER_LEN {
            let d = &mut self.dirs[dir];
            d.pending_seq = data_seq;
            d.pending = view.to_vec();
            d.state = DirState::Startup;
            return;
        }
        let header = MpaFrame::header_checked(view).expect("20 octets");
        let pd = usize::from(header.pd_length());
        let key = header.kind();
        if pd > mpa::frame::field::MAX_PRIVATE_DATA {
            let at = self.place(view, frame, in_frame, 0, mpa::frame::field::HEADER_LEN, out);
            out.pdus.push(Pdu {
                kind: PduKind::BadFrame,
                at,
                len: mpa::frame::field::HEADER_LEN,
                seq: data_seq,
                marker_pos: None,
                crc: CrcStatus::Unverified,
                reassembled: !in_frame,
                show: true,
                analyse: true,
                dir,
            });
            self.dirs[dir].state = DirState::Off;
            return;
        }
        let total = mpa::frame::field::HEADER_LEN + pd;
        if view.len() < total {
            let d = &mut self.dirs[dir];
            d.pending_seq = data_seq;
            d.pending = view.to_vec();
            d.state = DirState::Startup;
            return;
        }
        let f = MpaFrame::new_checked(&view[..total]).expect("checked above");
        let at = self.place(view, frame, in_frame, 0, total, out);
        let end = data_seq.wrapping_add(total as u32);
        let is_reply = key == mpa::FrameKind::Reply
            || key == mpa::FrameKind::BadKey
                && matches!(self.phase, Phase::Requested { initiator, .. } if initiator != dir);
        out.pdus.push(Pdu {
            kind: if is_reply {
                PduKind::Reply
            } else {
                PduKind::Request
            },
            at,
            len: total,
            seq: data_seq,
            marker_pos: None,
            crc: CrcStatus::Unverified,
            reassembled: !in_frame,
            show: true,
            analyse: true,
            dir,
        });
        let rest = &view[total..];
        if !is_reply {
            self.phase = Phase::Requested {
                initiator: dir,
                markers_to_initiator: f.markers(),
                crc: f.crc(),
                req_end: end,
            };
            self.initiator = Some(dir);
            self.revision = Some(f.rev());
            self.handshake_frames.0 = Some(number);
            self.dirs[dir].state = DirState::Startup;
            if key == mpa::FrameKind::BadKey {
                self.phase = Phase::Rejected;
                self.dirs = [
                    MpaDir {
                        state: DirState::Off,
                        ..MpaDir::default()
                    },
                    MpaDir {
                        state: DirState::Off,
                        ..MpaDir::default()
                    },
                ];
                return;
            }
            if !rest.is_empty() {
                let d = &mut self.dirs[dir];
                d.pending_seq = end;
                d.pending = rest.to_vec();
            }
            return;
        }
        // The Reply.
        self.handshake_frames.1 = Some(number);
        let (initiator, m_to_init, c_req, req_end) = match self.phase {
            Phase::Requested {
                initiator,
                markers_to_initiator,
                crc,
                req_end,
            } => (initiator, markers_to_initiator, crc, req_end),
            // A Reply without a Request: assume this is the responder and the other side the
            // initiator, with the Request's bits unknown (no markers towards the initiator).
            _ => (1 - dir, false, false, 0),
        };
        if f.rejected() || key == mpa::FrameKind::BadKey {
            self.phase = Phase::Rejected;
            out.events.push((dir, Event::Rejected));
            for d in &mut self.dirs {
                d.state = DirState::Off;
                d.pending.clear();
            }
            return;
        }
        let crc = c_req || f.crc();
        self.phase = Phase::Full;
        self.initiator = Some(initiator);
        let responder = dir;
        {
            let d = &mut self.dirs[responder];
            d.state = DirState::Fpdus;
            d.crc = crc;
            d.marker_origin = m_to_init.then_some(end);
            d.pending.clear();
        }
        let waiting = {
            let d = &mut self.dirs[initiator];
            d.state = DirState::Fpdus;
            d.crc = crc;
            d.marker_origin = f.markers().then_some(req_end);
            std::mem::take(&mut d.pending)
        };
        if !rest.is_empty() {
            self.fpdus(responder, end, rest, frame, out);
        }
        if !waiting.is_empty() {
            let s = self.dirs[initiator].pending_seq;
            self.fpdus(initiator, s, &waiting, &[], out);
        }
    }

    /// Where `view[start..start+len]` goes in the output: the frame when it lies there, else a
    /// copy in `held`.
    fn place(
        &self,
        view: &[u8],
        frame: &[u8],
        in_frame: bool,
        start: usize,
        len: usize,
        out: &mut FrameOut,
    ) -> Location {
        if in_frame {
            if let Some(o) = offset_in(frame, &view[start..start + len]) {
                return Location::Frame(o);
            }
        }
        let o = out.held.len();
        out.held.extend_from_slice(&view[start..start + len]);
        Location::Held(o)
    }

    /// The heuristic: does this direction carry FPDUs whose lengths chain and CRCs check?
    fn heuristic(
        &mut self,
        dir: usize,
        seq: u32,
        view: &[u8],
        frame: &[u8],
        in_frame: bool,
        out: &mut FrameOut,
    ) {
        // A plain FPDU whose CRC checks, or one with markers whose CRC checks at some marker
        // phase (senders align FPDUs with segments, so only the segment start is tried).
        let found = match find_fpdu(view, true, 0) {
            Some((start, crc)) if start == 0 => Some((start, crc, None)),
            plain => match marker_phase(view) {
                Some(mp) => Some((0, true, Some(seq.wrapping_sub(mp)))),
                None => plain.map(|(start, crc)| (start, crc, None)),
            },
        };
        match found {
            Some((start, crc, origin)) => {
                self.phase = Phase::Full;
                let d = &mut self.dirs[dir];
                d.state = DirState::Fpdus;
                d.crc = crc;
                d.heuristic = true;
                d.marker_origin = origin;
                out.events.push((dir, Event::Heuristic));
                if start > 0 {
                    out.events.push((
                        dir,
                        Event::Resync {
                            skipped: start as u64,
                        },
                    ));
                }
                let s = seq.wrapping_add(start as u32);
                if in_frame {
                    self.fpdus(dir, s, &view[start..], frame, out);
                } else {
                    let v = view[start..].to_vec();
                    self.fpdus(dir, s, &v, &[], out);
                }
                // The other direction of a conversation found this way is MPA too.
                let o = &mut self.dirs[1 - dir];
                if o.state == DirState::Unknown {
                    o.state = DirState::Fpdus;
                    o.crc = crc;
                    o.heuristic = true;
                    o.resync = true;
                }
            }
            None => {
                let d = &mut self.dirs[dir];
                d.misses += 1;
                if d.misses >= MAX_MISSES {
                    d.state = DirState::Off;
                }
            }
        }
    }

    /// Full Operation: frame FPDUs.
    fn fpdus(&mut self, dir: usize, seq: u32, bytes: &[u8], frame: &[u8], out: &mut FrameOut) {
        let d = &mut self.dirs[dir];
        let (owned, start_seq);
        let (view, in_frame): (&[u8], bool) = if d.pending.is_empty() {
            start_seq = seq;
            (bytes, true)
        } else {
            d.pending.extend_from_slice(bytes);
            start_seq = d.pending_seq;
            owned = std::mem::take(&mut d.pending);
            (&owned[..], false)
        };
        let mut pos = 0usize;
        if d.resync || d.markers_unplaced {
            match self.resync(dir, start_seq, view, view.len() - bytes.len(), out) {
                Some(p) => pos = p,
                None => return,
            }
        }
        // Where `view` lies in the frame, when it does: its FPDUs are ranges of the frame.
        let base = if in_frame {
            offset_in(frame, view)
        } else {
            None
        };
        if let Some(b) = base {
            pos = self.plain_run(dir, start_seq, view, b, pos, out);
            if pos == view.len() {
                return;
            }
        }
        loop {
            let d = &mut self.dirs[dir];
            let here = start_seq.wrapping_add(pos as u32);
            let rest = &view[pos..];
            if rest.is_empty() {
                break;
            }
            let marker_pos = d.marker_origin.map(|o| here.wrapping_sub(o));
            let parsed: Result<(usize, Option<bool>), ()> = match marker_pos {
                Some(mp) => match MarkedFpdu::new_checked(rest, mp) {
                    Ok(m) => Ok((m.wire_len(), d.crc.then(|| m.verify_crc()))),
                    Err(_) => Err(()),
                },
                None => match Fpdu::new_checked(rest) {
                    Ok(f) => Ok((f.len(), d.crc.then(|| f.verify_crc()))),
                    Err(_) => Err(()),
                },
            };
            if parsed.is_ok_and(|(_, ok)| ok == Some(false))
                && marker_pos.is_none()
                && (d.heuristic || d.markers_unplaced)
            {
                // Found without a handshake and taken for a direction without markers, or with
                // markers whose origin is still unknown: an FPDU with a marker inside fails the
                // plain CRC but checks at its marker phase.
                if let Some(mp) = marker_phase(rest) {
                    d.marker_origin = Some(here.wrapping_sub(mp));
                    d.markers_unplaced = false;
                    continue;
                }
            }
            match parsed {
                Ok((len, crc_ok)) => {
                    let crc = match crc_ok {
                        Some(true) => {
                            d.bad_run = 0;
                            CrcStatus::Good
                        }
                        Some(false) => {
                            d.bad_run += 1;
                            CrcStatus::Bad
                        }
                        None => CrcStatus::Unverified,
                    };
                    let lost = d.bad_run >= MAX_BAD_RUN;
                    let already = !d.shown.is_empty() && d.shown_before(here, len);
                    let at = match base {
                        Some(b) => Location::Frame(b + pos),
                        None => hold(&view[pos..pos + len], out),
                    };
                    out.pdus.push(Pdu {
                        kind: PduKind::Fpdu,
                        at,
                        len,
                        seq: here,
                        marker_pos,
                        crc,
                        reassembled: !in_frame,
                        show: !already,
                        analyse: true,
                        dir,
                    });
                    pos += len;
                    if lost {
                        self.framing_lost(dir, start_seq, view, pos, out);
                        return;
                    }
                }
                Err(()) => {
                    self.unfinished(dir, here, rest, out);
                    break;
                }
            }
        }
    }

    /// The common case of [`MpaConv::fpdus`]: whole FPDUs without markers lying in the frame
    /// (`view` at offset `base`), each with a CRC that checks (or none to check). They are
    /// framed as the general loop frames them, from `pos` up to the first one that is not such:
    /// returns where that one starts, for the general loop to take on from there.
    #[inline(always)]
    fn plain_run(
        &mut self,
        dir: usize,
        start_seq: u32,
        view: &[u8],
        base: usize,
        mut pos: usize,
        out: &mut FrameOut,
    ) -> usize {
        let d = &mut self.dirs[dir];
        if d.marker_origin.is_some() || !d.shown.is_empty() || d.bad_run >= MAX_BAD_RUN {
            return pos;
        }
        while let Some(rest) = view.get(pos..) {
            let Ok(f) = Fpdu::new_checked(rest) else {
                break;
            };
            let len = f.len();
            let crc = if d.crc {
                if !f.verify_crc() {
                    break;
                }
                d.bad_run = 0;
                CrcStatus::Good
            } else {
                CrcStatus::Unverified
            };
            out.pdus.push(Pdu {
                kind: PduKind::Fpdu,
                at: Location::Frame(base + pos),
                len,
                seq: start_seq.wrapping_add(pos as u32),
                marker_pos: None,
                crc,
                reassembled: false,
                show: true,
                analyse: true,
                dir,
            });
            pos += len;
        }
        pos
    }

    /// Resynchronisation in [`MpaConv::fpdus`]: where the next FPDU starts in `view` (its
    /// last segment starts at `segment`), or None when it is not found yet (a tail of `view`
    /// is then kept in case an FPDU starts in it and completes later).
    #[cold]
    #[inline(never)]
    fn resync(
        &mut self,
        dir: usize,
        start_seq: u32,
        view: &[u8],
        segment: usize,
        out: &mut FrameOut,
    ) -> Option<usize> {
        let found = self.find_start(dir, start_seq, view, segment);
        let d = &mut self.dirs[dir];
        match found {
            Some(p) => {
                let skipped = d.skipped + p as u64;
                d.skipped = 0;
                d.resync = false;
                if skipped > 0 {
                    out.events.push((dir, Event::Resync { skipped }));
                }
                Some(p)
            }
            None => {
                let keep = view.len().min(MAX_PENDING / 2);
                d.skipped += (view.len() - keep) as u64;
                d.pending_seq = start_seq.wrapping_add((view.len() - keep) as u32);
                d.pending = view[view.len() - keep..].to_vec();
                None
            }
        }
    }

    /// Too many bad CRCs in a row in [`MpaConv::fpdus`]: the framing is lost, so what follows
    /// `view[..pos]` is searched for the next FPDU.
    #[cold]
    #[inline(never)]
    fn framing_lost(
        &mut self,
        dir: usize,
        start_seq: u32,
        view: &[u8],
        pos: usize,
        out: &mut FrameOut,
    ) {
        let d = &mut self.dirs[dir];
        d.bad_run = 0;
        d.resync = true;
        let rest = view[pos..].to_vec();
        let s = start_seq.wrapping_add(pos as u32);
        self.fpdus(dir, s, &rest, &[], out);
    }

    /// `rest`, from sequence number `here`, does not hold a whole FPDU: it waits for more
    /// octets, unless it is already longer than any FPDU can be.
    #[inline(never)]
    fn unfinished(&mut self, dir: usize, here: u32, rest: &[u8], out: &mut FrameOut) {
        if rest.len() > MAX_PENDING {
            // Not an FPDU that can ever complete: resynchronise.
            self.dirs[dir].resync = true;
            let r = rest[1..].to_vec();
            self.fpdus(dir, here.wrapping_add(1), &r, &[], out);
            return;
        }
        let d = &mut self.dirs[dir];
        d.pending_seq = here;
        d.pending = rest.to_vec();
    }

    /// A segment reassembly could not hand on in order: one beyond a hole (`again` false) or
    /// one whose octets were all seen before (`again` true, a retransmission). MPA senders align
    /// FPDUs with segments, so when the segment holds exactly a chain of whole FPDUs that check
    /// (CRC, or sane DDP/RDMAP headers without CRCs), they are shown in this frame as tshark
    /// shows them. Out-of-order FPDUs are remembered so that they are not shown again when the
    /// hole fills. Returns whether the segment was decoded.
    pub fn segment_alone(
        &mut self,
        dir: usize,
        seq: u32,
        bytes: &[u8],
        frame: &[u8],
        again: bool,
        out: &mut FrameOut,
    ) -> bool {
        let d = &mut self.dirs[dir];
        if d.state != DirState::Fpdus || d.markers_unplaced || bytes.is_empty() {
            return false;
        }
        let Some(base) = offset_in(frame, bytes) else {
            return false;
        };
        let mut found: Vec<(usize, usize, Option<u32>, CrcStatus)> = Vec::new();
        let mut pos = 0;
        while pos < bytes.len() {
            let here = seq.wrapping_add(pos as u32);
            let marker_pos = d.marker_origin.map(|o| here.wrapping_sub(o));
            let rest = &bytes[pos..];
            let (len, crc) = match marker_pos {
                Some(mp) => match MarkedFpdu::new_checked(rest, mp) {
                    Ok(m) if d.crc => (m.wire_len(), m.verify_crc()),
                    Ok(m) => (m.wire_len(), true),
                    Err(_) => return false,
                },
                None => match Fpdu::new_checked(rest) {
                    Ok(f) if d.crc => (f.len(), f.verify_crc()),
                    Ok(f) => (f.len(), sane_ddp(f.ulpdu())),
                    Err(_) => return false,
                },
            };
            if !crc {
                return false;
            }
            let status = if d.crc {
                CrcStatus::Good
            } else {
                CrcStatus::Unverified
            };
            found.push((pos, len, marker_pos, status));
            pos += len;
        }
        if !again {
            if d.shown.len() >= 1024 {
                d.shown.remove(0);
            }
            d.shown.push((seq, seq.wrapping_add(bytes.len() as u32)));
        }
        for (p, len, marker_pos, crc) in found {
            out.pdus.push(Pdu {
                kind: PduKind::Fpdu,
                at: Location::Frame(base + p),
                len,
                seq: seq.wrapping_add(p as u32),
                marker_pos,
                crc,
                reassembled: false,
                show: true,
                analyse: false,
                dir,
            });
        }
        true
    }

    /// Where the next FPDU starts in `view` (stream sequence `seq`; its last segment starts at
    /// `segment`), after a gap or when the framing is unknown: by markers when the direction has
    /// them, else by a chain whose CRC (or, without CRCs, whose DDP/RDMAP headers) check.
    fn find_start(&mut self, dir: usize, seq: u32, view: &[u8], segment: usize) -> Option<usize> {
        let d = &mut self.dirs[dir];
        if let Some(origin) = d.marker_origin {
            let pos = seq.wrapping_sub(origin);
            let mut m = marker::first_marker(pos);
            while m + 4 <= view.len() {
                let ptr = usize::from(u16::from_be_bytes([view[m + 2], view[m + 3]]) & 0xFFFC);
                if ptr == 0 {
                    return Some(m);
                }
                if ptr <= m {
                    let h = m - ptr;
                    let hp = pos.wrapping_add(h as u32);
                    if let Ok(f) = MarkedFpdu::new_checked(&view[h..], hp) {
                        if !d.crc || f.verify_crc() {
                            return Some(h);
                        }
                    }
                }
                m += marker::MARKER_INTERVAL as usize;
            }
            return None;
        }
        if d.markers_unplaced {
            // Forced markers: find an origin where a marker's FPDUPTR leads to a good FPDU. The
            // view need not start on the marker grid (a segment boundary can fall anywhere), so
            // every offset is a candidate.
            for m in 0..view.len().saturating_sub(8) {
                let ptr = usize::from(u16::from_be_bytes([view[m + 2], view[m + 3]]));
                if ptr > m || ptr % 4 != 0 || view[m] != 0 || view[m + 1] != 0 {
                    continue;
                }
                let origin = seq.wrapping_add(m as u32);
                let h = m - ptr;
                let hp = seq.wrapping_add(h as u32).wrapping_sub(origin);
                let start = if ptr == 0 { m } else { h };
                let sp = if ptr == 0 { 0 } else { hp };
                if let Ok(f) = MarkedFpdu::new_checked(&view[start..], sp) {
                    if marked_ok(&f, d.crc) {
                        d.marker_origin = Some(origin);
                        d.markers_unplaced = false;
                        // FPDUs before the first marker had no position to be read at; now
                        // they do: start where a chain of FPDUs leads to the one the marker
                        // points at.
                        return Some(chain_start(view, seq, origin, start, d.crc).unwrap_or(start));
                    }
                }
            }
            if d.crc {
                // No marker in the view points at an FPDU, but one may start it at some phase.
                if let Some(mp) = marker_phase(view) {
                    d.marker_origin = Some(seq.wrapping_sub(mp));
                    d.markers_unplaced = false;
                    return Some(0);
                }
                // An FPDU with no marker inside reads the same whatever the origin: show it,
                // and place the markers when one turns up.
                return find_fpdu(view, true, segment).map(|(p, _)| p);
            }
            return None;
        }
        let plain = find_fpdu(view, d.crc, segment);
        if d.heuristic && d.crc && plain.is_none_or(|(p, _)| p > 0) {
            if let Some(mp) = marker_phase(view) {
                d.marker_origin = Some(seq.wrapping_sub(mp));
                return Some(0);
            }
        }
        plain.map(|(p, _)| p)
    }
}

/// Looks for an FPDU start in `view`: the first offset where an FPDU with a good CRC begins
/// (when `crc`), else where two FPDUs with sane DDP/RDMAP headers chain, or where one starts at
/// `segment` (the offset of the view's last TCP segment) and fills the rest of the view: senders
/// align FPDUs with segments. Returns the offset and whether the CRC checked.
pub fn find_fpdu(view: &[u8], crc: bool, segment: usize) -> Option<(usize, bool)> {
    let n = view.len();
    for p in 0..n.saturating_sub(mpa::fpdu::field::OVERHEAD + 13) {
        let Ok(f) = Fpdu::new_checked(&view[p..]) else {
            continue;
        };
        if !sane_ddp(f.ulpdu()) {
            continue;
        }
        if f.verify_crc() {
            return Some((p, true));
        }
        if !crc {
            let next = p + f.len();
            if next == n {
                if p == segment {
                    return Some((p, false));
                }
                continue;
            }
            if let Ok(g) = Fpdu::new_checked(&view[next..]) {
                if sane_ddp(g.ulpdu()) {
                    return Some((p, false));
                }
            }
        }
    }
    None
}

/// The marker phase (stream position, a multiple of 4 below 512) at which `view` starts with
/// an FPDU that holds at least one marker, every FPDUPTR right and its CRC good: how a direction
/// found without a handshake shows that it has markers.
pub fn marker_phase(view: &[u8]) -> Option<u32> {
    (0..marker::MARKER_INTERVAL).step_by(4).find(|&mp| {
        MarkedFpdu::new_checked(view, mp).is_ok_and(|f| {
            f.wire_len() > f.stripped_len() && f.first_bad_marker().is_none() && f.verify_crc()
        })
    })
}

/// The first offset of `view` (sequence `seq`) from which FPDUs with markers (origin `origin`)
/// chain exactly to offset `to`, each with a good CRC (or, without CRCs, sane DDP/RDMAP
/// headers and right FPDUPTRs). Only offsets on the stream's 4-octet grid can start an FPDU.
fn chain_start(view: &[u8], seq: u32, origin: u32, to: usize, crc: bool) -> Option<usize> {
    let position = |q: usize| seq.wrapping_add(q as u32).wrapping_sub(origin);
    let first = (0..4).find(|&q| position(q) % 4 == 0)?;
    (first..to).step_by(4).find(|&q0| {
        let mut q = q0;
        while q < to {
            match MarkedFpdu::new_checked(&view[q..], position(q)) {
                Ok(f) if marked_ok(&f, crc) => q += f.wire_len(),
                _ => return false,
            }
        }
        q == to
    })
}

/// A marked FPDU that checks: its CRC, or without CRCs its FPDUPTRs and DDP/RDMAP headers.
fn marked_ok(f: &MarkedFpdu<'_>, crc: bool) -> bool {
    if crc {
        return f.verify_crc();
    }
    let wire = f.wire();
    let n = usize::from(f.ulpdu_len()).min(18);
    let mut header = [0u8; 18];
    for (i, h) in header[..n].iter_mut().enumerate() {
        *h = wire[f.wire_offset(mpa::fpdu::field::ULPDU + i)];
    }
    f.first_bad_marker().is_none() && sane_ddp(&header[..n])
}

/// DDP version 1, RDMAP version 1, a header long enough, a known opcode whose tagging matches.
fn sane_ddp(ulpdu: &[u8]) -> bool {
    if ulpdu.len() < 14 {
        return false;
    }
    let ddp = ulpdu[0];
    let rdmap = ulpdu[1];
    let tagged = ddp & 0x80 != 0;
    if ddp & 0x03 != 1 || rdmap >> 6 != 1 {
        return false;
    }
    let op = rdmap & 0x0F;
    match op {
        0x0 | 0x2 => tagged,
        0x1 | 0x3..=0xC => !tagged && ulpdu.len() >= 18,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
