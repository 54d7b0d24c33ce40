//! Every fault of the scenario language, checked in the capture it produces.

mod common;

use common::{HOSTS, Msg, Seg, fpdus, generate, segments, stream};
use oneshot_codec::Settings;

const CONN: &str = "conn c1 h1:49152 -> h2:3260 iwarp\n";

fn run(body: &str) -> (Vec<Seg>, Vec<Msg>, Vec<Msg>, oneshot_gen::engine::Summary) {
    let (pcap, summary) = generate(&format!("{HOSTS}{CONN}{body}"));
    let segs = segments(&pcap);
    let (_, i) = fpdus(&stream(&segs, 49152), false, Settings::default());
    let (_, t) = fpdus(&stream(&segs, 3260), false, Settings::default());
    (segs, i, t, summary)
}

fn stag_of(text: &str) -> &str {
    let at = text.find("S=0x").expect("an S=") + 2;
    &text[at..at + 10]
}

#[test]
fn crc_corrupts_exactly_one_fpdu() {
    let (_, i, t, _) = run("write 8K fault crc\nwrite 8K\n");
    let bad = i.iter().chain(&t).filter(|m| !m.crc_ok).count();
    assert_eq!(bad, 1);
}

#[test]
fn loss_is_retransmitted_after_later_segments() {
    let (segs, i, _, _) = run("write 8K fault loss\n");
    // Every byte arrives in the end (the stream reassembles) ...
    assert!(i.iter().all(|m| m.crc_ok));
    // ... but one segment of the initiator shows up after a segment with a higher sequence.
    let seqs: Vec<u32> = segs
        .iter()
        .filter(|s| s.src_port == 49152 && !s.payload.is_empty())
        .map(|s| s.seq)
        .collect();
    assert!(seqs.windows(2).any(|w| w[1] < w[0]), "{seqs:?}");
    // The receiver sent duplicate ACKs for the gap.
    let acks: Vec<u32> = segs
        .iter()
        .filter(|s| s.src_port == 3260 && s.payload.is_empty())
        .map(|s| s.ack)
        .collect();
    assert!(acks.windows(2).any(|w| w[0] == w[1]), "{acks:?}");
}

#[test]
fn reorder_swaps_two_segments() {
    let (segs, i, _, _) = run("write 8K fault reorder\n");
    assert!(i.iter().all(|m| m.crc_ok));
    let seqs: Vec<u32> = segs
        .iter()
        .filter(|s| s.src_port == 49152 && !s.payload.is_empty())
        .map(|s| s.seq)
        .collect();
    let backwards = seqs.windows(2).filter(|w| w[1] < w[0]).count();
    assert_eq!(backwards, 1, "{seqs:?}");
}

#[test]
fn duplicate_sends_one_segment_twice() {
    let (segs, _, _, _) = run("write 8K fault duplicate\n");
    let mut seqs: Vec<u32> = segs
        .iter()
        .filter(|s| s.src_port == 49152 && !s.payload.is_empty())
        .map(|s| s.seq)
        .collect();
    let n = seqs.len();
    seqs.dedup();
    assert_eq!(n - seqs.len(), 1);
}

#[test]
fn split_1_cuts_inside_the_ulpdu_length() {
    let (segs, i, _, _) = run("write 8K fault split 1\n");
    assert!(i.iter().all(|m| m.crc_ok));
    assert!(segs.iter().any(|s| s.src_port == 49152
        && s.payload.len() % 4 == 1
        && s.payload.len() > 1
        || s.payload.len() == 1));
    // Somewhere a segment ends one octet into an FPDU: the next one starts with the second
    // octet of a ULPDU_Length. Equivalent check: some initiator segment is not a whole number
    // of FPDUs.
    let whole = |p: &[u8]| {
        let mut it = oneshot_codec::mpa::Fpdus::new(p);
        it.all(|r| r.is_ok())
    };
    assert!(
        segs.iter().any(|s| s.src_port == 49152
            && !s.payload.is_empty()
            && !whole(&s.payload)
            && s.seq > 0)
    );
}

#[test]
fn close_faults() {
    let (_, i, t, _) = run("write 4K fault close-wrong-stag\n");
    let adv = i.iter().find(|m| m.text.contains("Advertise")).unwrap();
    let close = t.iter().find(|m| m.text.contains("Close")).unwrap();
    assert_ne!(stag_of(&adv.text), stag_of(&close.text));

    let (_, i, t, _) = run("write 4K fault close-wrong-itt\n");
    let itt = |m: &Msg| u32::from_be_bytes(m.ulpdu[18 + 16..18 + 20].try_into().unwrap());
    let adv = i.iter().find(|m| m.text.contains("Advertise")).unwrap();
    let close = t.iter().find(|m| m.text.contains("Close")).unwrap();
    assert_eq!(stag_of(&adv.text), stag_of(&close.text));
    assert_ne!(itt(adv), itt(close));

    let (_, i, t, _) = run("write 4K fault close-unadvertised\n");
    assert!(!i.iter().any(|m| m.text.contains("Advertise")));
    assert!(t.iter().any(|m| m.text.contains("Close")));

    let (_, i, t, _) = run("write 4K fault never-close\n");
    assert!(i.iter().any(|m| m.text.contains("Advertise")));
    assert!(!t.iter().any(|m| m.text.contains("Close")));
}

#[test]
fn malformed_one_shot_bits() {
    let (_, i, _, _) = run("write 4K fault both-bits\n");
    assert!(
        i[0].text.ends_with("[malformed one-shot bits]"),
        "{}",
        i[0].text
    );
    let (_, i, _, _) = run("write 4K fault bit-on-write\n");
    assert!(
        i.iter().any(|m| m.text.starts_with("Read Response")
            && m.text.ends_with("[malformed one-shot bits]")),
        "{:?}",
        i.iter().map(|m| &m.text).collect::<Vec<_>>()
    );
}

#[test]
fn bad_mpa_key_is_reset_and_commands_skipped() {
    let (pcap, summary) = generate(&format!(
        "{HOSTS}{CONN}write 4K fault bad-mpa-key\nwrite 4K\n"
    ));
    let segs = segments(&pcap);
    let req = segs
        .iter()
        .find(|s| s.src_port == 49152 && s.payload.len() == 24)
        .unwrap();
    assert_eq!(&req.payload[..15], b"MPA ID Req Fram");
    assert_ne!(&req.payload[..16], b"MPA ID Req Frame");
    assert!(
        segs.iter()
            .any(|s| s.src_port == 3260 && s.flags.contains('R'))
    );
    assert_eq!(summary.skipped.values().sum::<u64>(), 2);
    assert!(summary.flows.is_empty());
}

#[test]
fn ulpdu_length_beyond_the_segment() {
    let (pcap, _) = generate(&format!("{HOSTS}{CONN}write 4K fault ulpdu-length\n"));
    let segs = segments(&pcap);
    let bad = segs
        .iter()
        .filter(|s| s.src_port == 49152 && s.payload.len() > 24)
        .any(|s| {
            let n = u16::from_be_bytes([s.payload[0], s.payload[1]]) as usize;
            oneshot_codec::mpa::fpdu_len(n) > s.payload.len()
        });
    assert!(bad);
}

#[test]
fn snaplen_per_command_and_global() {
    let (pcap, _) = generate(&format!(
        "{HOSTS}{CONN}write 4K fault snaplen 80\nwrite 4K\n"
    ));
    let segs = segments(&pcap);
    let cut = segs
        .iter()
        .filter(|s| (s.cap_len as u32) < s.orig_len)
        .count();
    assert!(cut >= 3, "{cut}");
    assert!(
        segs.iter()
            .filter(|s| (s.cap_len as u32) < s.orig_len)
            .all(|s| s.cap_len == 80)
    );
    let (pcap, _) = generate(&format!("snaplen 64\n{HOSTS}{CONN}write 4K\n"));
    let segs = segments(&pcap);
    assert!(segs.iter().all(|s| s.cap_len <= 64));
}

#[test]
fn mutate_keeps_crcs_valid() {
    let (_, i, t, _) = run("mutate rate 1.0\nwrite 8K\n");
    assert!(i.iter().chain(&t).all(|m| m.crc_ok));
    // Something in the headers changed: not every message decodes as the plain flow would.
    let (_, plain_i, plain_t, _) = run("write 8K\n");
    let texts = |v: &[Msg]| v.iter().map(|m| m.text.clone()).collect::<Vec<_>>();
    assert_ne!(texts(&i), texts(&plain_i));
    let _ = (t, plain_t);
}

#[test]
fn rate_faults_hit_some_places() {
    let (_, i, t, _) = run("fault crc rate 0.3\nrepeat 10 {\n write 4K\n}\n");
    let bad = i.iter().chain(&t).filter(|m| !m.crc_ok).count();
    let all = i.len() + t.len();
    assert!(bad > 0 && bad < all, "{bad} of {all}");
}
