//! The MPA framer fed segment by segment the way the dissector feeds it (TCP reassembly in
//! front, out-of-order and retransmitted segments decoded alone): the handshake variants, the
//! heuristic, resynchronisation, forced decoding, and FPDUs split or packed across segments,
//! with and without markers. Every FPDU is built here with the codec and checked back field by
//! field after the framer hands it on.

use oneshot_codec::mpa::{self, Fpdu, MpaFrameRepr, marker};

use super::*;
use crate::stream::Direction;

// ---------------------------------------------------------------------------------------------
// Building the wire.

/// A DDP/RDMAP message, as the tests send it and read it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    /// Tagged (Write 0x0, Read Response 0x2).
    Tagged {
        op: u8,
        stag: u32,
        to: u64,
        last: bool,
    },
    /// Untagged (Send 0x3, Read Request 0x1 with its 28-octet header in the payload, …).
    Untagged {
        op: u8,
        qn: u32,
        msn: u32,
        mo: u32,
        last: bool,
    },
}

fn payload_octets(n: usize, salt: u8) -> impl Iterator<Item = u8> {
    (0..n).map(move |i| (i as u8).wrapping_mul(7).wrapping_add(salt))
}

/// The ULPDU of `m` with `payload` octets after its header.
fn ulpdu(m: Msg, payload: usize) -> Vec<u8> {
    let mut u = Vec::new();
    match m {
        Msg::Tagged { op, stag, to, last } => {
            u.push(0x80 | if last { 0x40 } else { 0 } | 0x01);
            u.push(0x40 | op);
            u.extend_from_slice(&stag.to_be_bytes());
            u.extend_from_slice(&to.to_be_bytes());
        }
        Msg::Untagged {
            op,
            qn,
            msn,
            mo,
            last,
        } => {
            u.push(if last { 0x40 } else { 0 } | 0x01);
            u.push(0x40 | op);
            u.extend_from_slice(&[0; 4]);
            u.extend_from_slice(&qn.to_be_bytes());
            u.extend_from_slice(&msn.to_be_bytes());
            u.extend_from_slice(&mo.to_be_bytes());
        }
    }
    u.extend(payload_octets(payload, u[1]));
    u
}

/// A marker-free FPDU carrying `m`, its CRC filled (or left zero).
fn fpdu(m: Msg, payload: usize, crc: bool) -> Vec<u8> {
    let u = ulpdu(m, payload);
    let mut buf = vec![0; mpa::fpdu_len(u.len())];
    let mut f = Fpdu::new_for_ulpdu(&mut buf[..], u.len() as u16).unwrap();
    f.ulpdu_mut().copy_from_slice(&u);
    if crc {
        f.fill_crc();
    }
    buf
}

/// Marker-free FPDUs laid on a stream with markers from stream position `pos` on (the marker
/// origin is where position 0 is): their wire octets, one after the other.
fn with_markers(fpdus: &[Vec<u8>], mut pos: u32, crc: bool) -> Vec<u8> {
    let mut wire = Vec::new();
    for f in fpdus {
        let mut out = vec![0; marker::wire_len(pos, f.len())];
        let n = marker::emit_marked(f, pos, &mut out, crc).unwrap();
        assert_eq!(n, out.len());
        pos += n as u32;
        wire.extend_from_slice(&out);
    }
    wire
}

fn write(stag: u32, to: u64, last: bool) -> Msg {
    Msg::Tagged {
        op: 0x0,
        stag,
        to,
        last,
    }
}

fn send(msn: u32) -> Msg {
    Msg::Untagged {
        op: 0x3,
        qn: 0,
        msn,
        mo: 0,
        last: true,
    }
}

fn mpa_frame(key: [u8; 16], markers: bool, crc: bool, rejected: bool) -> Vec<u8> {
    let r = MpaFrameRepr {
        key,
        flags: mpa::frame::flags(markers, crc, rejected, false),
        rev: 1,
        enhanced: None,
        private_data: b"pd",
    };
    let mut buf = vec![0; r.len()];
    r.emit(&mut buf).unwrap();
    buf
}

fn request(markers: bool, crc: bool) -> Vec<u8> {
    mpa_frame(mpa::KEY_REQUEST, markers, crc, false)
}

fn reply(markers: bool, crc: bool, rejected: bool) -> Vec<u8> {
    mpa_frame(mpa::KEY_REPLY, markers, crc, rejected)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------------------------------------
// Feeding the framer as the dissector does.

/// One PDU the framer handed on, with its octets copied out.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Got {
    kind: PduKind,
    dir: usize,
    seq: u32,
    /// Wire octets (markers included).
    wire: Vec<u8>,
    /// Without markers.
    plain: Vec<u8>,
    marker_pos: Option<u32>,
    crc: CrcStatus,
    reassembled: bool,
    in_frame: bool,
    show: bool,
    analyse: bool,
}

impl Got {
    fn msg(&self) -> Msg {
        let f = Fpdu::new_checked(&self.plain[..]).expect("a whole FPDU");
        let u = f.ulpdu();
        let last = u[0] & 0x40 != 0;
        let op = u[1] & 0x0F;
        let be32 = |o: usize| u32::from_be_bytes(u[o..o + 4].try_into().unwrap());
        if u[0] & 0x80 != 0 {
            Msg::Tagged {
                op,
                stag: be32(2),
                to: u64::from_be_bytes(u[6..14].try_into().unwrap()),
                last,
            }
        } else {
            Msg::Untagged {
                op,
                qn: be32(6),
                msn: be32(10),
                mo: be32(14),
                last,
            }
        }
    }

    /// Every marker in the wire octets points at this FPDU's ULPDU_Length.
    fn markers_valid(&self) -> bool {
        let pos = self.marker_pos.expect("a direction with markers");
        let f = MarkedFpdu::new_checked(&self.wire, pos).unwrap();
        f.wire_len() == self.wire.len() && f.first_bad_marker().is_none()
    }
}

/// A TCP connection's two directions, reassembled and framed.
struct Link {
    mpa: MpaConv,
    tcp: [Direction; 2],
    out: FrameOut,
    number: u64,
    budget: usize,
    /// Events of the last segment.
    events: Vec<(usize, Event)>,
}

impl Link {
    fn new() -> Self {
        Link {
            mpa: MpaConv::default(),
            tcp: [Direction::default(), Direction::default()],
            out: FrameOut::default(),
            number: 0,
            budget: 1 << 20,
            events: Vec::new(),
        }
    }

    /// Both SYNs: data of direction `d` starts at `isn[d] + 1`.
    fn syn(&mut self, isn: [u32; 2]) {
        self.tcp[0].syn(isn[0]);
        self.tcp[1].syn(isn[1]);
    }

    /// One captured segment of direction `dir` starting at `seq`: the PDUs its frame shows (or
    /// analyses).
    fn seg(&mut self, dir: usize, seq: u32, payload: &[u8]) -> Vec<Got> {
        self.number += 1;
        self.out.clear();
        let frame = payload.to_vec();
        let Link {
            mpa,
            tcp,
            out,
            number,
            budget,
            ..
        } = self;
        let arrival = tcp[dir].data(seq, &frame, *number, *budget, &mut |s, b| {
            mpa.feed(dir, s, b, &frame, *number, out)
        });
        if arrival.fresh == 0 && (arrival.out_of_order || arrival.duplicate) {
            mpa.segment_alone(dir, seq, &frame, &frame, arrival.duplicate, out);
        }
        self.collect(&frame)
    }

    /// [`Link::seg`] the way the dissector takes a segment when reassembly has it in order
    /// with nothing waiting and the direction frames FPDUs: straight to the framer, the ledger
    /// settled at once. As the dissector does for either way, the ledger is kept while the
    /// direction is not off, and forgets what the last PDU framed ends before.
    fn seg_direct(&mut self, dir: usize, seq: u32, payload: &[u8]) -> Vec<Got> {
        self.tcp[dir].track = self.mpa.dirs[dir].state != DirState::Off;
        let direct =
            !payload.is_empty() && self.tcp[dir].in_order(seq) && self.mpa.framing_at(dir, seq);
        let got = if direct {
            self.number += 1;
            self.out.clear();
            let frame = payload.to_vec();
            self.tcp[dir].advance(seq, frame.len());
            self.mpa.feed_fpdus(dir, seq, &frame, &frame, &mut self.out);
            let end = self.last_end(dir);
            self.tcp[dir].settle(seq, frame.len(), self.number, end);
            self.collect(&frame)
        } else {
            self.seg(dir, seq, payload)
        };
        if let Some(e) = self.last_end(dir) {
            self.tcp[dir].consume(e);
        }
        got
    }

    /// [`Link::seg`] with the ledger kept as the dissector keeps it (see [`Link::seg_direct`]).
    fn seg_consumed(&mut self, dir: usize, seq: u32, payload: &[u8]) -> Vec<Got> {
        self.tcp[dir].track = self.mpa.dirs[dir].state != DirState::Off;
        let got = self.seg(dir, seq, payload);
        if let Some(e) = self.last_end(dir) {
            self.tcp[dir].consume(e);
        }
        got
    }

    /// Where the last PDU of `dir` framed in this segment ends.
    fn last_end(&self, dir: usize) -> Option<u32> {
        let p = self.out.pdus.iter().rev().find(|p| p.dir == dir)?;
        Some(p.seq.wrapping_add(p.len as u32))
    }

    /// The ledger of `dir`: (sequence number, octets, frame) of each piece.
    fn ledger(&self, dir: usize, from: u32) -> Vec<(u32, u32, u64)> {
        let to = from.wrapping_add(1 << 30);
        let pieces = self.tcp[dir].pieces(from, to);
        pieces.map(|p| (p.seq, p.len, p.frame)).collect()
    }

    /// The end of the capture: reassembly gives up on its holes.
    fn flush(&mut self, dir: usize) -> Vec<Got> {
        self.number += 1;
        self.out.clear();
        let Link {
            mpa,
            tcp,
            out,
            number,
            ..
        } = self;
        tcp[dir].flush(&mut |s, b| mpa.feed(dir, s, b, &[], *number, out));
        self.collect(&[])
    }

    fn collect(&mut self, frame: &[u8]) -> Vec<Got> {
        self.events = self.out.events.clone();
        self.out
            .pdus
            .iter()
            .map(|p| {
                let wire = self.out.wire(frame, p).to_vec();
                let plain = match p.marker_pos {
                    Some(pos) => {
                        let mut v = vec![0; marker::stripped_len(pos, wire.len())];
                        marker::strip_markers(&wire, pos, &mut v).unwrap();
                        v
                    }
                    None => wire.clone(),
                };
                Got {
                    kind: p.kind,
                    dir: p.dir,
                    seq: p.seq,
                    wire,
                    plain,
                    marker_pos: p.marker_pos,
                    crc: p.crc,
                    reassembled: p.reassembled,
                    in_frame: matches!(p.at, Location::Frame(_)),
                    show: p.show,
                    analyse: p.analyse,
                }
            })
            .collect()
    }

    fn skipped(&self) -> Option<u64> {
        self.events.iter().find_map(|(_, e)| match e {
            Event::Resync { skipped } => Some(*skipped),
            _ => None,
        })
    }
}

/// `got` (markers stripped) is the FPDU `want` was built as: the same octets up to the CRC field.
/// (Laid on a stream with markers, an FPDU's CRC covers the markers too, so that field differs
/// from the marker-free FPDU's; whether it checks is the framer's verdict, `crc`.)
fn assert_same_fpdu(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "FPDU length");
    let n = want.len() - 4;
    if let Some(i) = (0..n).find(|&i| got[i] != want[i]) {
        panic!(
            "FPDUs differ at octet {i} of {}: {:#04x} vs {:#04x}",
            want.len(),
            got[i],
            want[i]
        );
    }
}

fn msgs(got: &[Got]) -> Vec<Msg> {
    got.iter().map(Got::msg).collect()
}

/// Initiator is direction 0 (ISN 1000), responder direction 1 (ISN 5000). After the handshake
/// direction 0's FPDUs start at 1001 + request length, direction 1's at 5001 + reply length.
fn handshake(link: &mut Link, req: &[u8], rep: &[u8]) -> (u32, u32) {
    link.syn([1000, 5000]);
    let g = link.seg(0, 1001, req);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].kind, PduKind::Request);
    let g = link.seg(1, 5001, rep);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].kind, PduKind::Reply);
    (1001 + req.len() as u32, 5001 + rep.len() as u32)
}

// ---------------------------------------------------------------------------------------------
// The handshake.

#[test]
fn handshake_without_markers_frames_fpdus_both_ways() {
    let mut l = Link::new();
    let (s0, s1) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    assert_eq!(l.mpa.phase, Phase::Full);
    assert_eq!(l.mpa.initiator, Some(0));
    assert_eq!(l.mpa.handshake_frames, (Some(1), Some(2)));
    assert_eq!(l.mpa.revision, Some(1));
    let a = fpdu(send(1), 40, true);
    let g = l.seg(0, s0, &a);
    assert_eq!(msgs(&g), [send(1)]);
    assert_eq!(g[0].crc, CrcStatus::Good);
    assert_eq!((g[0].seq, g[0].marker_pos), (s0, None));
    assert!(g[0].in_frame && !g[0].reassembled && g[0].show && g[0].analyse);
    let b = fpdu(write(0x77, 0, true), 100, true);
    let g = l.seg(1, s1, &b);
    assert_eq!(msgs(&g), [write(0x77, 0, true)]);
    assert!(g[0].wire == b);
}

/// Request M=1: the initiator wants markers towards it (responder → initiator); Reply M=1:
/// the responder wants them towards it. Each direction's origin is its first FPDU octet.
#[test]
fn handshake_markers_each_way() {
    for (m_req, m_rep) in [(true, false), (false, true), (true, true)] {
        let mut l = Link::new();
        let (s0, s1) = handshake(&mut l, &request(m_req, true), &reply(m_rep, true, false));
        assert_eq!(l.mpa.dirs[0].marker_origin, m_rep.then_some(s0));
        assert_eq!(l.mpa.dirs[1].marker_origin, m_req.then_some(s1));
        // Two FPDUs each way, long enough to hold markers, in one segment per direction.
        let msgs0 = [write(0x10, 0, false), write(0x10, 1000, true)];
        let msgs1 = [send(1), send(2)];
        let plain0: Vec<_> = msgs0.iter().map(|m| fpdu(*m, 1000, true)).collect();
        let plain1: Vec<_> = msgs1.iter().map(|m| fpdu(*m, 700, true)).collect();
        let wire0 = if m_rep {
            with_markers(&plain0, 0, true)
        } else {
            plain0.concat()
        };
        let wire1 = if m_req {
            with_markers(&plain1, 0, true)
        } else {
            plain1.concat()
        };
        for (dir, seq, wire, plain, marked, want) in [
            (0, s0, &wire0, &plain0, m_rep, &msgs0[..]),
            (1, s1, &wire1, &plain1, m_req, &msgs1[..]),
        ] {
            let g = l.seg(dir, seq, wire);
            assert_eq!(msgs(&g), want, "markers {m_req}/{m_rep}, direction {dir}");
            for (got, plain) in g.iter().zip(plain.iter()) {
                assert_eq!(got.crc, CrcStatus::Good);
                assert_same_fpdu(&got.plain, plain);
                assert_eq!(got.marker_pos.is_some(), marked);
                if marked {
                    assert!(got.markers_valid());
                    assert!(got.wire.len() > got.plain.len(), "a marker inside");
                    assert_eq!(got.marker_pos, Some(got.seq.wrapping_sub(seq)));
                }
            }
        }
    }
}

/// CRCs are checked when either side sets C; with neither, FPDUs are not verified (and a zero
/// CRC field is no error).
#[test]
fn handshake_crc_either_side_or_none() {
    for (c_req, c_rep, checked) in [
        (true, false, true),
        (false, true, true),
        (false, false, false),
    ] {
        let mut l = Link::new();
        let (s0, _) = handshake(&mut l, &request(false, c_req), &reply(false, c_rep, false));
        let g = l.seg(0, s0, &fpdu(send(1), 20, checked));
        assert_eq!(msgs(&g), [send(1)]);
        let want = if checked {
            CrcStatus::Good
        } else {
            CrcStatus::Unverified
        };
        assert_eq!(g[0].crc, want, "C {c_req}/{c_rep}");
    }
    // With CRCs on, a wrong CRC is reported, not hidden.
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let mut bad = fpdu(send(1), 20, true);
    let n = bad.len();
    bad[n - 1] ^= 0x01;
    let g = l.seg(0, s0, &bad);
    assert_eq!((g.len(), g[0].crc), (1, CrcStatus::Bad));
}

#[test]
fn handshake_reject_ends_mpa() {
    let mut l = Link::new();
    let (s0, s1) = handshake(&mut l, &request(false, true), &reply(false, true, true));
    assert!(l.events.contains(&(1, Event::Rejected)));
    assert_eq!(l.mpa.phase, Phase::Rejected);
    assert!(l.seg(0, s0, &fpdu(send(1), 20, true)).is_empty());
    assert!(l.seg(1, s1, &fpdu(send(1), 20, true)).is_empty());
    assert_eq!(l.mpa.dirs[0].state, DirState::Off);
}

/// The Request and Reply may straddle segments, and an FPDU may follow the Reply in its segment.
#[test]
fn handshake_frames_split_and_followed() {
    let mut l = Link::new();
    l.syn([1000, 5000]);
    let req = request(false, true);
    assert!(l.seg(0, 1001, &req[..7]).is_empty());
    let g = l.seg(0, 1008, &req[7..]);
    assert_eq!(
        (g.len(), g[0].kind, g[0].reassembled),
        (1, PduKind::Request, true)
    );
    assert!(g[0].wire == req);
    let rep = reply(false, true, false);
    let f = fpdu(send(1), 30, true);
    let g = l.seg(1, 5001, &cat(&[&rep, &f]));
    assert_eq!(g.len(), 2);
    assert_eq!(g[0].kind, PduKind::Reply);
    assert_eq!(g[1].msg(), send(1));
    assert_eq!(g[1].seq, 5001 + rep.len() as u32);
}

/// An FPDU of the initiator seen before the Reply (captured out of time order) waits until the
/// Reply says how to frame it, then is shown with the Reply.
#[test]
fn initiator_data_before_the_reply_waits_for_it() {
    let mut l = Link::new();
    l.syn([1000, 5000]);
    let req = request(true, true);
    l.seg(0, 1001, &req);
    let s0 = 1001 + req.len() as u32;
    let plain = fpdu(write(5, 0, true), 600, true);
    // The Reply will ask for markers towards the responder: direction 0 has them.
    let wire = with_markers(std::slice::from_ref(&plain), 0, true);
    assert!(l.seg(0, s0, &wire).is_empty());
    let g = l.seg(1, 5001, &reply(true, true, false));
    assert_eq!(g.len(), 2);
    assert_eq!((g[1].dir, g[1].msg()), (0, write(5, 0, true)));
    assert_same_fpdu(&g[1].plain, &plain);
    assert_eq!(g[1].crc, CrcStatus::Good);
}

// ---------------------------------------------------------------------------------------------
// Without a handshake: the heuristic.

#[test]
fn heuristic_accepts_an_fpdu_whose_crc_checks() {
    let mut l = Link::new();
    let a = fpdu(write(0x99, 0x5a0, false), 1400, true);
    let g = l.seg(0, 7000, &a);
    assert_eq!(msgs(&g), [write(0x99, 0x5a0, false)]);
    assert_eq!(g[0].crc, CrcStatus::Good);
    assert!(l.events.contains(&(0, Event::Heuristic)));
    assert!(l.mpa.dirs[0].heuristic && l.mpa.dirs[0].crc);
    assert_eq!(l.mpa.phase, Phase::Full);
    // The other direction is MPA with CRCs too, found at its first FPDU.
    let g = l.seg(1, 9000, &fpdu(send(4), 40, true));
    assert_eq!(msgs(&g), [send(4)]);
    assert_eq!(g[0].crc, CrcStatus::Good);
}

/// The first segment may start in the middle of an FPDU (the capture began there): its octets
/// are skipped, and the FPDU after them found by its CRC.
#[test]
fn heuristic_skips_to_the_first_whole_fpdu() {
    let mut l = Link::new();
    let tail = &fpdu(write(1, 0, false), 900, true)[300..];
    let whole = fpdu(write(1, 900, true), 200, true);
    let g = l.seg(0, 100, &cat(&[tail, &whole]));
    assert_eq!(msgs(&g), [write(1, 900, true)]);
    assert_eq!(g[0].seq, 100 + tail.len() as u32);
    assert_eq!(l.skipped(), Some(tail.len() as u64));
    // A segment holding only the tail of an FPDU is not MPA yet; the next one is.
    let mut l = Link::new();
    assert!(l.seg(0, 100, tail).is_empty());
    assert_eq!(l.mpa.dirs[0].state, DirState::Unknown);
    let g = l.seg(0, 100 + tail.len() as u32, &whole);
    assert_eq!(msgs(&g), [write(1, 900, true)]);
}

#[test]
fn heuristic_rejects_what_is_not_mpa() {
    let mut l = Link::new();
    let text = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n".repeat(20);
    let mut seq = 1;
    for _ in 0..MAX_MISSES {
        assert!(l.seg(0, seq, &text).is_empty());
        seq += text.len() as u32;
    }
    assert_eq!(l.mpa.dirs[0].state, DirState::Off);
    // Once off, even a real FPDU is not decoded.
    assert!(l.seg(0, seq, &fpdu(send(1), 20, true)).is_empty());

    // An FPDU whose headers look right but whose CRC does not check (and a CRC-less peer
    // looks like that) is no evidence: CRC-less MPA needs -d.
    let mut l = Link::new();
    let unchecked = fpdu(send(1), 20, false);
    assert!(l.seg(0, 1, &unchecked).is_empty());
    assert_eq!(l.mpa.dirs[0].state, DirState::Unknown);
    // Nor a good CRC over headers that are not DDP/RDMAP (version 2 here).
    let mut u = ulpdu(send(1), 20);
    u[0] = 0x42;
    let mut buf = vec![0; mpa::fpdu_len(u.len())];
    let mut f = Fpdu::new_for_ulpdu(&mut buf[..], u.len() as u16).unwrap();
    f.ulpdu_mut().copy_from_slice(&u);
    f.fill_crc();
    assert!(l.seg(0, 1 + unchecked.len() as u32, &buf).is_empty());
    assert_eq!(l.mpa.dirs[0].misses, 2, "both were looked at");
    assert_eq!(l.mpa.phase, Phase::Unknown);
}

/// Markers without a handshake: an FPDU with a marker inside fails the plain CRC, and checks at
/// one marker phase, which gives the origin.
#[test]
fn heuristic_finds_markers_by_their_phase() {
    let plain: Vec<_> = (0..3)
        .map(|i| fpdu(write(0x42, i * 1400, i == 2), 1400, true))
        .collect();
    // The capture starts 1024 + 72 octets into the marked stream.
    let start = 1096u32;
    let wire = with_markers(&plain, start, true);
    let mut l = Link::new();
    let seq0 = 50_000u32;
    let mut seq = seq0;
    let mut got = Vec::new();
    let mut at = 0;
    for p in &plain {
        let n = marker::wire_len(start + at as u32, p.len());
        got.extend(l.seg(0, seq, &wire[at..at + n]));
        seq += n as u32;
        at += n;
    }
    // Markers repeat every 512 octets: the origin is known modulo 512.
    let origin = l.mpa.dirs[0].marker_origin.expect("markers found");
    assert_eq!(seq0.wrapping_sub(origin) % 512, start % 512);
    assert_eq!(got.len(), 3);
    for (g, p) in got.iter().zip(&plain) {
        assert_same_fpdu(&g.plain, p);
        assert_eq!(g.crc, CrcStatus::Good);
        assert!(g.markers_valid());
    }
}

/// Taken first for a direction without markers (its first FPDU holds none), a direction whose
/// later FPDUs hold markers finds them instead of reporting bad CRCs.
#[test]
fn heuristic_direction_discovers_markers_later() {
    let small = fpdu(send(1), 40, true);
    let big = fpdu(write(3, 0, true), 1200, true);
    let wire = with_markers(&[small.clone(), big.clone()], 8, true);
    let first = marker::wire_len(8, small.len());
    let mut l = Link::new();
    let g = l.seg(1, 300, &wire[..first]);
    assert_eq!(msgs(&g), [send(1)]);
    assert_eq!(l.mpa.dirs[1].marker_origin, None);
    let g = l.seg(1, 300 + first as u32, &wire[first..]);
    assert_eq!(msgs(&g), [write(3, 0, true)]);
    assert_eq!(g[0].crc, CrcStatus::Good);
    assert_same_fpdu(&g[0].plain, &big);
    assert_eq!(l.mpa.dirs[1].marker_origin, Some(300 - 8));
}

// ---------------------------------------------------------------------------------------------
// Gaps and resynchronisation.

/// Octets reassembly gives up on: the framer skips to the next FPDU whose CRC checks, and says
/// how much it skipped.
#[test]
fn resync_after_a_gap_by_crc() {
    let mut l = Link::new();
    l.budget = 2000;
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let f: Vec<_> = (0..4)
        .map(|i| fpdu(write(9, i * 1000, false), 1000, true))
        .collect();
    let len = f[0].len() as u32;
    assert_eq!(msgs(&l.seg(0, s0, &f[0])), [write(9, 0, false)]);
    // f[1] is never captured; its last 100 octets arrive with f[2] (a resegmented
    // retransmission), so the data after the hole starts mid-FPDU.
    let tail = &f[1][f[1].len() - 100..];
    let after = cat(&[tail, &f[2]]);
    assert!(l.seg(0, s0 + 2 * len - 100, &after).is_empty());
    // f[3] pushes reassembly past its budget: the hole is skipped.
    let g = l.seg(0, s0 + 3 * len, &f[3]);
    assert_eq!(msgs(&g), [write(9, 2000, false), write(9, 3000, false)]);
    assert!(g.iter().all(|g| g.crc == CrcStatus::Good));
    // What was skipped: f[1] whole (920 octets never captured, 100 not framed).
    assert_eq!(l.skipped(), Some(u64::from(len)));
    assert_eq!(g[0].seq, s0 + 2 * len);
}

/// With markers the next FPDU is where a marker's FPDUPTR says.
#[test]
fn resync_after_a_gap_by_markers() {
    let mut l = Link::new();
    let (_, s1) = handshake(&mut l, &request(true, true), &reply(false, true, false));
    let plain: Vec<_> = (0..5)
        .map(|i| fpdu(write(7, i * 700, false), 700, true))
        .collect();
    let wire = with_markers(&plain, 0, true);
    let mut bounds = vec![0];
    let mut pos = 0u32;
    for p in &plain {
        pos += marker::wire_len(pos, p.len()) as u32;
        bounds.push(pos as usize);
    }
    assert_eq!(
        msgs(&l.seg(1, s1, &wire[..bounds[1]])),
        [write(7, 0, false)]
    );
    // Lose FPDU 1 and the first 50 octets of FPDU 2; what follows arrives, then the capture
    // ends and reassembly flushes past the hole.
    let from = bounds[2] + 50;
    assert!(l.seg(1, s1 + from as u32, &wire[from..]).is_empty());
    let g = l.flush(1);
    assert_eq!(msgs(&g), [write(7, 2100, false), write(7, 2800, false)]);
    assert!(
        g.iter()
            .all(|g| g.crc == CrcStatus::Good && g.markers_valid())
    );
    assert_eq!(g[0].seq, s1 + bounds[3] as u32);
    assert_eq!(l.skipped(), Some((bounds[3] - bounds[1]) as u64));
}

/// Many bad CRCs in a row mean the framing is lost: the framer looks for the next good FPDU.
#[test]
fn a_run_of_bad_crcs_resynchronises() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    // Garbage whose first octets happen to read as short FPDUs (length 2 each, wrong CRC),
    // then a real one.
    let junk = [0u8, 2, 0xAA, 0xBB, 1, 2, 3, 4].repeat(MAX_BAD_RUN as usize + 2);
    assert_eq!(mpa::fpdu_len(2), 8);
    let good = fpdu(send(9), 30, true);
    let g = l.seg(0, s0, &cat(&[&junk, &good]));
    let bad = g.iter().filter(|g| g.crc == CrcStatus::Bad).count();
    assert_eq!(bad, MAX_BAD_RUN as usize);
    assert_eq!(g.last().unwrap().msg(), send(9));
    assert_eq!(g.last().unwrap().crc, CrcStatus::Good);
    assert_eq!(g.len(), MAX_BAD_RUN as usize + 1);
    assert_eq!(l.skipped(), Some(16), "the two junk FPDUs after the run");
}

/// Bad CRCs that are not in a row do not lose the framing, whether the good FPDUs between them
/// share their segments or not: every FPDU is framed where it is, with its own verdict (five
/// bad ones, at most two in a row; [`MAX_BAD_RUN`] in a row lose it).
#[test]
fn bad_crcs_not_in_a_row_keep_the_framing() {
    for per_segment in [false, true] {
        let mut l = Link::new();
        let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
        let mut want = Vec::new();
        let mut stream = Vec::new();
        for i in 0..10 {
            let mut f = fpdu(send(i + 1), 40, true);
            let good = ![0, 2, 4, 6, 7].contains(&i);
            if !good {
                let n = f.len();
                f[n - 2] ^= 0x01;
            }
            want.push(if good {
                CrcStatus::Good
            } else {
                CrcStatus::Bad
            });
            stream.push(f);
        }
        let mut got = Vec::new();
        let mut seq = s0;
        if per_segment {
            for f in &stream {
                got.extend(l.seg(0, seq, f));
                assert_eq!(l.skipped(), None);
                seq += f.len() as u32;
            }
        } else {
            got = l.seg(0, seq, &stream.concat());
            assert_eq!(l.skipped(), None);
        }
        assert_eq!(got.iter().map(|g| g.crc).collect::<Vec<_>>(), want);
        let sends: Vec<Msg> = (1..=want.len() as u32).map(send).collect();
        assert_eq!(msgs(&got), sends);
        assert!(l.events.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Forced decoding (-d tcp.port==N,mpa,…).

#[test]
fn forced_without_crc_shows_each_fpdu_in_its_segment() {
    let mut l = Link::new();
    l.mpa.force(Forced {
        crc: false,
        markers: false,
    });
    // Mid-stream: the first segment holds the tail of an FPDU.
    let tail = &fpdu(send(1), 300, false)[200..];
    assert!(l.seg(0, 10, tail).is_empty());
    let mut seq = 10 + tail.len() as u32;
    for i in 0..3u32 {
        let f = fpdu(write(2, u64::from(i) * 100, i == 2), 100, false);
        let g = l.seg(0, seq, &f);
        assert_eq!(
            msgs(&g),
            [write(2, u64::from(i) * 100, i == 2)],
            "segment {i}"
        );
        assert_eq!(g[0].crc, CrcStatus::Unverified);
        seq += f.len() as u32;
    }
}

/// Forced markers: the origin is found from a marker's FPDUPTR, even when the capture starts off
/// the 4-octet grid. An FPDU before the first marker holds none: with CRCs it is shown at once
/// (it reads the same at any origin); without, it is recovered once the origin is known.
#[test]
fn forced_markers_find_the_origin() {
    for crc in [true, false] {
        let plain: Vec<_> = [
            fpdu(send(1), 40, crc),
            fpdu(write(5, 0, false), 900, crc),
            fpdu(write(5, 900, true), 900, crc),
        ]
        .to_vec();
        // Stream position 1540 at the first FPDU: its 64 octets hold no marker (the next is at
        // 2048), so the origin is only known from the second FPDU's marker.
        let start = 1540u32;
        let wire = with_markers(&plain, start, crc);
        let first = plain[0].len();
        let mut l = Link::new();
        l.mpa.force(Forced { crc, markers: true });
        // The capture's first segment starts 3 octets before the first FPDU (odd, off-grid).
        let lead = [0xEE, 0xEE, 0xEE];
        let seq0 = 70_001u32;
        let mut g = l.seg(1, seq0, &cat(&[&lead, &wire[..first]]));
        assert_eq!(
            msgs(&g),
            if crc { vec![send(1)] } else { vec![] },
            "CRC {crc}"
        );
        if crc {
            assert!(g[0].in_frame && g[0].marker_pos.is_none());
            assert_eq!(l.skipped(), Some(lead.len() as u64));
        }
        let g2 = l.seg(1, seq0 + (lead.len() + first) as u32, &wire[first..]);
        if !crc {
            assert_eq!(l.skipped(), Some(lead.len() as u64));
            // Held back a segment, so it comes from the reassembly buffer.
            assert!(g2[0].reassembled && !g2[0].in_frame);
        }
        g.extend(g2);
        assert_eq!(
            msgs(&g),
            [send(1), write(5, 0, false), write(5, 900, true)],
            "CRC {crc}"
        );
        for (i, (g, p)) in g.iter().zip(&plain).enumerate() {
            assert_same_fpdu(&g.plain, p);
            let want = if crc {
                CrcStatus::Good
            } else {
                CrcStatus::Unverified
            };
            assert_eq!(g.crc, want);
            if i > 0 || !crc {
                assert!(g.markers_valid());
            }
        }
        let origin = l.mpa.dirs[1].marker_origin.expect("placed");
        assert_eq!(
            (seq0 + lead.len() as u32).wrapping_sub(origin) % 512,
            start % 512
        );
    }
}

/// Forced markers on a stream whose first FPDU starts with a marker (no FPDUPTR points back
/// into the view): the FPDU at the segment start checks at phase 0.
#[test]
fn forced_markers_at_an_fpdu_start() {
    let plain = [fpdu(send(1), 40, true), fpdu(send(2), 40, true)];
    let wire = with_markers(&plain, 1024, true);
    let mut l = Link::new();
    l.mpa.force(Forced {
        crc: true,
        markers: true,
    });
    let g = l.seg(0, 9, &wire);
    assert_eq!(msgs(&g), [send(1), send(2)]);
    assert!(g.iter().all(|g| g.crc == CrcStatus::Good));
    assert_eq!(g[0].wire.len(), plain[0].len() + 4, "the leading marker");
    assert_eq!(
        l.mpa.dirs[0]
            .marker_origin
            .map(|o| 9u32.wrapping_sub(o) % 512),
        Some(0)
    );
}

/// -d on a conversation that has its handshake changes nothing.
#[test]
fn forcing_a_recognised_conversation_is_a_no_op() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    l.mpa.force(Forced {
        crc: false,
        markers: true,
    });
    assert!(l.mpa.dirs[0].crc && l.mpa.dirs[0].marker_origin.is_none());
    let g = l.seg(0, s0, &fpdu(send(1), 20, true));
    assert_eq!(g[0].crc, CrcStatus::Good);
}

// ---------------------------------------------------------------------------------------------
// FPDUs and segments.

#[test]
fn several_fpdus_per_segment_with_and_without_markers() {
    for markers in [false, true] {
        let mut l = Link::new();
        let (_, s1) = handshake(&mut l, &request(markers, true), &reply(false, true, false));
        let plain: Vec<_> = (1..=5).map(|i| fpdu(send(i), 150, true)).collect();
        let wire = if markers {
            with_markers(&plain, 0, true)
        } else {
            plain.concat()
        };
        let g = l.seg(1, s1, &wire);
        assert_eq!(msgs(&g), (1..=5).map(send).collect::<Vec<_>>());
        let mut at = 0;
        for (g, p) in g.iter().zip(&plain) {
            assert_same_fpdu(&g.plain, p);
            assert_eq!(g.crc, CrcStatus::Good);
            assert!(g.in_frame && !g.reassembled);
            assert_eq!(g.seq, s1 + at as u32);
            at += g.wire.len();
            if markers {
                assert!(g.markers_valid());
            }
        }
        assert_eq!(at, wire.len());
        // With markers, 5 × 176 octets cross the 512 grid: some FPDUs carry one.
        if markers {
            assert!(g.iter().any(|g| g.wire.len() > g.plain.len()));
        }
    }
}

/// ULPDU_Length split across two segments (1 octet, then the rest), with markers too, where the
/// split can also fall inside a leading marker: nothing in the first frame, the FPDU whole in
/// the second.
#[test]
fn an_fpdu_split_inside_its_length_is_shown_in_the_frame_that_completes_it() {
    // (markers, stream position of the FPDU, split offset)
    for (markers, pos, split) in [(false, 0, 1), (true, 76, 1), (true, 512, 1), (true, 512, 5)] {
        let mut l = Link::new();
        let (s0, _) = handshake(&mut l, &request(false, true), &reply(markers, true, false));
        // The first FPDU of a direction with markers starts with one (4 octets), and a Send
        // with P payload octets is P + 24 octets when P + 20 is a multiple of 4.
        let lead = fpdu(send(1), (pos as usize).saturating_sub(28), true);
        let lead_wire = if pos == 0 {
            Vec::new()
        } else {
            with_markers(std::slice::from_ref(&lead), 0, true)
        };
        assert_eq!(lead_wire.len(), pos as usize, "the test's layout");
        if !lead_wire.is_empty() {
            assert_eq!(msgs(&l.seg(0, s0, &lead_wire)), [send(1)]);
        }
        let plain = fpdu(write(8, 0, true), 600, true);
        let wire = if markers {
            with_markers(std::slice::from_ref(&plain), pos, true)
        } else {
            plain.clone()
        };
        let seq = s0 + pos;
        assert!(
            l.seg(0, seq, &wire[..split]).is_empty(),
            "{markers} {pos} {split}"
        );
        let g = l.seg(0, seq + split as u32, &wire[split..]);
        assert_eq!(msgs(&g), [write(8, 0, true)], "{markers} {pos} {split}");
        assert_same_fpdu(&g[0].plain, &plain);
        assert!(g[0].wire == wire, "the wire octets as sent");
        assert_eq!(g[0].seq, seq);
        assert!(g[0].reassembled && !g[0].in_frame);
        assert_eq!(g[0].crc, CrcStatus::Good);
        if markers {
            assert!(g[0].markers_valid());
        }
    }
}

/// A segment beyond a hole is decoded in its own frame (shown, not yet analysed); when the hole
/// fills, its FPDUs are analysed in stream order without being shown again. A retransmission is
/// shown and never analysed twice.
#[test]
fn out_of_order_segment_is_shown_in_place_and_not_twice() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let f: Vec<_> = (0..3)
        .map(|i| fpdu(write(4, i * 500, i == 2), 500, true))
        .collect();
    let len = f[0].len() as u32;
    assert_eq!(l.seg(0, s0, &f[0]).len(), 1);
    // f[2] before f[1].
    let g = l.seg(0, s0 + 2 * len, &f[2]);
    assert_eq!(msgs(&g), [write(4, 1000, true)]);
    assert!(g[0].show && !g[0].analyse && g[0].in_frame);
    let g = l.seg(0, s0 + len, &f[1]);
    assert_eq!(msgs(&g), [write(4, 500, false), write(4, 1000, true)]);
    assert!(g[0].show && g[0].analyse);
    assert!(
        !g[1].show && g[1].analyse,
        "shown once, in the frame that carried it"
    );
    // A retransmission of f[1].
    let g = l.seg(0, s0 + len, &f[1]);
    assert_eq!(msgs(&g), [write(4, 500, false)]);
    assert!(g[0].show && !g[0].analyse);
    // Out of order with markers too.
    let mut l = Link::new();
    let (_, s1) = handshake(&mut l, &request(true, true), &reply(false, true, false));
    let plain: Vec<_> = (0..3).map(|i| fpdu(send(i + 1), 600, true)).collect();
    let wire = with_markers(&plain, 0, true);
    let b1 = marker::wire_len(0, plain[0].len());
    let b2 = b1 + marker::wire_len(b1 as u32, plain[1].len());
    let g = l.seg(1, s1 + b2 as u32, &wire[b2..]);
    assert_eq!(msgs(&g), [send(3)]);
    assert!(g[0].markers_valid() && g[0].show && !g[0].analyse);
    let g = l.seg(1, s1, &wire[..b2]);
    assert_eq!(msgs(&g), [send(1), send(2), send(3)]);
    assert_eq!(
        g.iter().map(|g| (g.show, g.analyse)).collect::<Vec<_>>(),
        [(true, true), (true, true), (false, true)]
    );
}

/// A segment beyond a hole that does not hold whole FPDUs is left to reassembly.
#[test]
fn out_of_order_partial_fpdus_wait_for_reassembly() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let f = fpdu(write(4, 0, true), 1000, true);
    assert!(l.seg(0, s0 + 500, &f[500..]).is_empty());
    let g = l.seg(0, s0, &f[..500]);
    assert_eq!(msgs(&g), [write(4, 0, true)]);
    assert!(g[0].show && g[0].analyse && g[0].reassembled);
}

/// A garbage length of 0xFFFF is taken at its word (an FPDU of 65544 octets, held across 45
/// segments and then found bad), and framing recovers after it.
#[test]
fn a_huge_garbage_length_is_bounded_and_framing_recovers() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let mut junk = vec![0xFF, 0xFF];
    junk.resize(MAX_PENDING + 1000, 0);
    let good = fpdu(send(2), 64, true);
    let mut seq = s0;
    let mut got = Vec::new();
    for chunk in cat(&[&junk, &good]).chunks(1460) {
        got.extend(l.seg(0, seq, chunk));
        seq += chunk.len() as u32;
    }
    assert_eq!(
        (got[0].wire.len(), got[0].crc),
        (mpa::fpdu_len(0xFFFF), CrcStatus::Bad)
    );
    // Then zeros read as empty FPDUs with bad CRCs, until the run says framing is lost.
    assert_eq!(got.len(), MAX_BAD_RUN as usize + 1);
    assert_eq!(got.last().unwrap().msg(), send(2));
    assert_eq!(got.last().unwrap().crc, CrcStatus::Good);
    assert!(l.mpa.dirs[0].pending.len() < MAX_PENDING);
}

// ---------------------------------------------------------------------------------------------
// The dissector's direct way for in-order segments.

/// Segments taken the direct way (in order, nothing waiting, the direction framing FPDUs) give
/// the same PDUs, the same ledger and the same framer state as through reassembly's hand-on:
/// whole FPDUs, FPDUs split across segments, a bad CRC inside a run, a run of bad CRCs, a
/// segment that only continues an FPDU, out-of-order and retransmitted segments in between,
/// with CRCs and without, with markers and without.
#[test]
fn in_order_segments_framed_directly_match_the_general_way() {
    for (markers, crc) in [(false, true), (false, false), (true, true)] {
        // Twelve FPDUs as they go on the wire (the seventh with a bad CRC when CRCs are on),
        // then junk that reads as a run of short FPDUs with bad CRCs, then two more FPDUs.
        let mut wires = Vec::new();
        let mut pos = 0;
        for i in 1..=14u32 {
            let plain = fpdu(send(i), 20 + 13 * i as usize, crc);
            let mut w = if markers {
                with_markers(std::slice::from_ref(&plain), pos, crc)
            } else {
                plain
            };
            if crc && i == 7 {
                let n = w.len();
                w[n - 1] ^= 0x5A;
            }
            pos += w.len() as u32;
            wires.push(w);
            if i == 12 {
                let junk = [0u8, 2, 0xAA, 0xBB, 1, 2, 3, 4].repeat(MAX_BAD_RUN as usize + 2);
                pos += junk.len() as u32;
                wires.push(junk);
            }
        }
        let stream = wires.concat();
        // Segment boundaries: most FPDU ends, and cuts inside FPDUs.
        let mut cuts = vec![0];
        let mut at = 0;
        for (k, w) in wires.iter().enumerate() {
            at += w.len();
            if k % 3 != 1 {
                cuts.push(at);
            }
        }
        cuts.extend([7, 40, 41, 200, stream.len() - 3]);
        cuts.push(stream.len());
        cuts.sort_unstable();
        cuts.dedup();
        let segs: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
        let mut general = Link::new();
        let mut direct = Link::new();
        let (s0, _) = handshake(
            &mut general,
            &request(false, crc),
            &reply(markers, crc, false),
        );
        handshake(
            &mut direct,
            &request(false, crc),
            &reply(markers, crc, false),
        );
        // In order, except that segment 3 comes after 4 and segment 5 is sent twice.
        let mut order: Vec<usize> = (0..segs.len()).collect();
        order.swap(3, 4);
        order.insert(6, 5);
        for k in order {
            let (a, b) = segs[k];
            let seq = s0.wrapping_add(a as u32);
            let want = general.seg_consumed(0, seq, &stream[a..b]);
            let got = direct.seg_direct(0, seq, &stream[a..b]);
            assert_eq!(got, want, "segment {k} (markers {markers}, crc {crc})");
            assert_eq!(
                direct.ledger(0, s0),
                general.ledger(0, s0),
                "ledger after {k}"
            );
            assert_eq!(direct.tcp[0].next, general.tcp[0].next);
            assert_eq!(direct.tcp[0].highest, general.tcp[0].highest);
            let (dm, gm) = (&direct.mpa.dirs[0], &general.mpa.dirs[0]);
            assert_eq!(
                (&dm.pending, dm.pending_seq, dm.next_seq, dm.bad_run),
                (&gm.pending, gm.pending_seq, gm.next_seq, gm.bad_run)
            );
        }
        let shown = direct.mpa.dirs[0].shown.len();
        assert_eq!(shown, general.mpa.dirs[0].shown.len());
    }
}

/// A segment of whole FPDUs taken the direct way leaves nothing in the ledger; one that ends
/// inside an FPDU leaves that FPDU's start there, named by its frame, and the frame that
/// completes the FPDU finds it.
#[test]
fn the_direct_way_keeps_in_the_ledger_only_what_an_open_fpdu_needs() {
    let mut l = Link::new();
    let (s0, _) = handshake(&mut l, &request(false, true), &reply(false, true, false));
    let a = fpdu(send(1), 60, true);
    let b = fpdu(send(2), 90, true);
    let g = l.seg_direct(0, s0, &cat(&[&a, &b]));
    assert_eq!(msgs(&g), [send(1), send(2)]);
    assert!(g.iter().all(|g| g.in_frame && g.crc == CrcStatus::Good));
    assert_eq!(l.ledger(0, s0), []);
    // The next segment: a whole FPDU and the first 10 octets of another.
    let c = fpdu(send(3), 30, true);
    let d = fpdu(send(4), 70, true);
    let s = s0 + (a.len() + b.len()) as u32;
    let g = l.seg_direct(0, s, &cat(&[&c, &d[..10]]));
    assert_eq!(msgs(&g), [send(3)]);
    let open = s + c.len() as u32;
    assert_eq!(l.ledger(0, s0), [(open, 10, l.number)]);
    // The rest of it: reassembled from the two frames.
    let g = l.seg_direct(0, open + 10, &d[10..]);
    assert_eq!(msgs(&g), [send(4)]);
    assert!(g[0].reassembled && !g[0].in_frame);
    assert_eq!(g[0].wire, d);
    assert_eq!(l.ledger(0, s0), []);
}
