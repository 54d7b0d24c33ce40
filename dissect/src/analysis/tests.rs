//! Unit tests of the analysis on hand-made FPDU summaries.

use super::order::seq_after;
use super::*;

/// An FPDU handed over in stream order (each frame at its own place in the stream).
fn at(frame: u64, dir: usize) -> At {
    at_seq(frame, dir, frame as u32 * 1000, Pass::InOrder)
}

fn at_seq(frame: u64, dir: usize, seq: u32, pass: Pass) -> At {
    At {
        stream: 0,
        dir,
        frame,
        ts: frame as i64 * 1000,
        seq,
        len: 100,
        pass,
        first_node: 0,
        handshake: true,
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
fn msn_mo_and_l_follow_each_queue() {
    let mut a = Analysis::default();
    assert!(run(&mut a, &at(1, 0), &send(1, 0, 100, false)).is_empty());
    assert!(run(&mut a, &at(2, 0), &send(1, 100, 100, true)).is_empty());
    // Another queue (Read Requests, QN 1) counts on its own.
    let rr = FpduSummary {
        qn: 1,
        ..send(1, 0, 0, true)
    };
    assert!(run(&mut a, &at(3, 0), &rr).is_empty());
    let f = run(&mut a, &at(4, 0), &send(3, 0, 100, false));
    assert_eq!(
        f,
        vec![(
            "iwarp_ddp.expert.msn_gap",
            Severity::Warning,
            "QN 0: MSN 3 where 2 was due (gap)".to_string()
        )]
    );
    let f = run(&mut a, &at(5, 0), &send(3, 104, 100, false));
    assert_eq!(
        f,
        vec![(
            "iwarp_ddp.expert.mo_inconsistent",
            Severity::Warning,
            "QN 0 MSN 3: MO 104 where 100 was due after the segments so far (first in frame 4)"
                .to_string()
        )]
    );
    // The checks follow the wire: the next segment continues from 204.
    assert!(run(&mut a, &at(6, 0), &send(3, 204, 100, false)).is_empty());
    let f = run(&mut a, &at(7, 0), &send(4, 0, 100, true));
    assert_eq!(
        f,
        vec![(
            "iwarp_ddp.expert.last_missing",
            Severity::Warning,
            "QN 0: MSN 4 begins before MSN 3 (first segment in frame 4) had its last segment (L = 1)"
                .to_string()
        )]
    );
    let f = run(&mut a, &at(8, 0), &send(4, 0, 100, true));
    assert_eq!(
        f,
        vec![(
            "iwarp_ddp.expert.msn_duplicate",
            Severity::Warning,
            "QN 0: MSN 4 where 5 was due (duplicate or out of order)".to_string()
        )]
    );
    // The other direction has queues of its own.
    assert!(run(&mut a, &at(9, 1), &send(1, 0, 100, true)).is_empty());
}

#[test]
fn early_fpdus_count_once_and_are_ordered_when_reassembly_reaches_them() {
    let mut a = Analysis::default();
    let adv = qualified(Op::Advertise, 0x10, 7, 0x20);
    assert!(run(&mut a, &at_seq(1, 0, 0, Pass::InOrder), &adv).is_empty());
    // MSN 3 beyond a hole, then MSN 2 fills it and reassembly hands MSN 3 over again.
    assert!(
        run(
            &mut a,
            &at_seq(2, 0, 200, Pass::Early),
            &send(3, 0, 50, true)
        )
        .is_empty()
    );
    assert!(
        run(
            &mut a,
            &at_seq(3, 0, 100, Pass::InOrder),
            &send(2, 0, 50, true)
        )
        .is_empty()
    );
    assert!(
        run(
            &mut a,
            &at_seq(3, 0, 200, Pass::Late),
            &send(3, 0, 50, true)
        )
        .is_empty()
    );
    // A retransmitted copy of the advertise is not a second advertise.
    assert!(run(&mut a, &at_seq(4, 0, 0, Pass::Early), &adv).is_empty());
    // A close beyond a hole the capture never fills still closes.
    let close = FpduSummary {
        msn: 1,
        ..qualified(Op::Close, 0x10, 7, 0)
    };
    assert!(run(&mut a, &at_seq(5, 1, 500, Pass::Early), &close).is_empty());
    assert_eq!(a.exchanges.len(), 1);
    assert_eq!(
        (a.exchanges[0].first_frame, a.exchanges[0].last_frame),
        (1, 5)
    );
    assert!(a.leaks().is_empty());
    // An MSN fault beyond a hole shows when reassembly reaches it.
    assert!(
        run(
            &mut a,
            &at_seq(6, 0, 400, Pass::Early),
            &send(9, 0, 50, true)
        )
        .is_empty()
    );
    assert!(
        run(
            &mut a,
            &at_seq(7, 0, 300, Pass::InOrder),
            &send(4, 0, 50, true)
        )
        .is_empty()
    );
    let f = run(
        &mut a,
        &at_seq(7, 0, 400, Pass::Late),
        &send(9, 0, 50, true),
    );
    assert_eq!(
        f,
        vec![(
            "iwarp_ddp.expert.msn_gap",
            Severity::Warning,
            "QN 0: MSN 9 where 5 was due (gap)".to_string()
        )]
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
    run(&mut a, &at(1, 0), &first);
    let second = FpduSummary {
        mo: 100,
        ..qualified(Op::Advertise, 0x11, 1, 0x20)
    };
    let f = run(&mut a, &at(2, 0), &second);
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
    run(&mut a, &at(1, 0), &qualified(Op::Advertise, 0x10, 7, 0x20));
    assert!(run(&mut a, &at(2, 1), &qualified(Op::Close, 0x10, 7, 0)).is_empty());
    let mut again = qualified(Op::Close, 0x10, 7, 0);
    again.msn = 2;
    let f = run(&mut a, &at(3, 1), &again);
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
fn a_close_without_its_advertise_is_an_error_only_when_the_capture_has_the_handshake() {
    // ONESHOT.md §6: closing an STag the peer never advertised is a violation; but a capture
    // that starts mid-connection may simply have missed the advertise.
    let mut a = Analysis::default();
    let f = run(&mut a, &at(2, 1), &qualified(Op::Close, 0x10, 7, 0));
    assert_eq!(
        f,
        vec![(
            "oneshot.expert.close_unadvertised",
            Severity::Error,
            "Close of STag 0x00000010 (ITT 0x7), which the peer never advertised on this connection".to_string()
        )]
    );
    let mut a = Analysis::default();
    let mut mid = at(2, 1);
    mid.handshake = false;
    let f = run(&mut a, &mid, &qualified(Op::Close, 0x10, 7, 0));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].1, Severity::Note);
    assert!(f[0].2.contains("advertise is not in the capture"), "{f:?}");
    assert!(a.exchanges.is_empty());
}

#[test]
fn leaks_show_when_the_closer_can_no_longer_close() {
    let mut a = Analysis::default();
    run(&mut a, &at(1, 0), &qualified(Op::Advertise, 0x10, 7, 0x40));
    run(&mut a, &at(2, 1), &qualified(Op::Advertise, 0x20, 8, 0x20));
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
    run(&mut a, &at(1, 0), &qualified(Op::Advertise, 0x10, 7, 0x20));
    let rr = FpduSummary {
        opcode: Some(Opcode::RdmaReadRequest),
        qn: 1,
        read: Some((0x99, 300, 0x10)),
        read_sink_to: 0x1000,
        ..send(1, 0, 0, true)
    };
    assert!(run(&mut a, &at(2, 1), &rr).is_empty());
    let resp = |to: u64, last: bool| FpduSummary {
        opcode: Some(Opcode::RdmaReadResponse),
        tagged: true,
        stag: 0x99,
        to,
        ..send(0, 0, 100, last)
    };
    assert!(run(&mut a, &at(3, 0), &resp(0x1000, false)).is_empty());
    assert!(run(&mut a, &at(4, 0), &resp(0x1000 + 200, true)).is_empty());
    assert!(run(&mut a, &at(5, 0), &resp(0x1000 + 100, false)).is_empty());
    let close = FpduSummary {
        msn: 1,
        ..qualified(Op::Close, 0x10, 7, 0)
    };
    assert!(run(&mut a, &at(6, 1), &close).is_empty());
    assert_eq!(a.exchanges[0].bytes, 300);
    // A response that ends short of the request.
    run(&mut a, &at(7, 0), &qualified(Op::Advertise, 0x11, 8, 0x20));
    let rr2 = FpduSummary {
        msn: 2,
        read: Some((0x99, 300, 0x11)),
        ..rr
    };
    run(&mut a, &at(8, 1), &rr2);
    let f = run(&mut a, &at(9, 0), &resp(0x1000 + 100, true));
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
