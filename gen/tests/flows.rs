//! Each flow, decoded back from the capture: the right messages, in the right order, with
//! good CRCs and markers, and the same bytes every time.

mod common;

use common::{HOSTS, fpdus, generate, segments, stream};
use oneshot_codec::Settings;
use oneshot_codec::oneshot::Placement;

fn iwarp(conn_opts: &str, body: &str) -> (Vec<common::Msg>, Vec<common::Msg>, Vec<common::Seg>) {
    let script = format!("{HOSTS}conn c1 h1:49152 -> h2:3260 iwarp {conn_opts}\n{body}");
    let (pcap, _) = generate(&script);
    let segs = segments(&pcap);
    let markers_i = conn_opts.contains("markers both") || conn_opts.contains("markers to-target");
    let markers_t =
        conn_opts.contains("markers both") || conn_opts.contains("markers to-initiator");
    let settings = Settings {
        placement: if body.contains("appended") || conn_opts.contains("appended") {
            Placement::Appended
        } else {
            Placement::RsvdUlp
        },
        ..Settings::default()
    };
    let (_, i) = fpdus(&stream(&segs, 49152), markers_i, settings);
    let (_, t) = fpdus(&stream(&segs, 3260), markers_t, settings);
    (i, t, segs)
}

fn texts(m: &[common::Msg]) -> Vec<String> {
    m.iter().map(|m| m.text.clone()).collect()
}

#[test]
fn oneshot_write_is_advertise_read_close() {
    let (i, t, _) = iwarp("", "write 4096 flow oneshot\n");
    assert!(i.iter().chain(&t).all(|m| m.crc_ok));
    let i = texts(&i);
    let t = texts(&t);
    assert!(i[0].starts_with("Send with SE and Advertise S=0x"), "{i:?}");
    assert!(
        i[1..].iter().all(|m| m.starts_with("Read Response")),
        "{i:?}"
    );
    assert!(i.last().unwrap().contains(" L "), "{i:?}");
    assert_eq!(t.len(), 2, "{t:?}");
    assert!(t[0].starts_with("Read Request QN=1 MSN=1"), "{t:?}");
    assert!(t[0].contains("size=4096"), "{t:?}");
    assert!(t[1].starts_with("Send with SE and Close S=0x"), "{t:?}");
    // The close names the advertised STag.
    let s = &i[0][31..41];
    assert!(t[1].contains(s), "{s} not in {}", t[1]);
}

#[test]
fn markers_in_both_directions_with_several_fpdus_per_segment() {
    let (i, t, segs) = iwarp(
        "markers both depth 4",
        "repeat 4 {\n write 3000 flow oneshot\n}\n",
    );
    assert!(i.iter().chain(&t).all(|m| m.crc_ok && m.markers_ok));
    assert_eq!(i.iter().filter(|m| m.text.contains("Advertise")).count(), 4);
    assert_eq!(t.iter().filter(|m| m.text.contains("Close")).count(), 4);
    // Queue depth 4: the four advertises leave before the first close.
    let adv_frames: Vec<usize> = segs
        .iter()
        .filter(|s| s.src_port == 49152 && s.payload.len() > 60 && s.payload.len() < 400)
        .map(|s| s.frame)
        .collect();
    assert!(!adv_frames.is_empty());
    // Some segment of the target carries more than one FPDU (Read Requests of depth 4).
    assert!(
        segs.iter()
            .any(|s| s.src_port == 3260 && s.payload.len() > 110 && s.payload.len() < 400)
    );
}

#[test]
fn markers_one_way_only() {
    for opt in ["markers to-target", "markers to-initiator"] {
        let (i, t, _) = iwarp(opt, "write 9000 flow oneshot\nread 2000 flow oneshot\n");
        assert!(
            i.iter().chain(&t).all(|m| m.crc_ok && m.markers_ok),
            "{opt}"
        );
    }
}

#[test]
fn ddp_flags_and_appended() {
    let script = format!(
        "{HOSTS}profile encoding ddp-flags placement appended\nconn c1 h1:49152 -> h2:3260 iwarp\nwrite 5000 flow oneshot\nread 5000 flow oneshot\n"
    );
    let (pcap, _) = generate(&script);
    let segs = segments(&pcap);
    let settings = Settings {
        placement: Placement::Appended,
        ..Settings::default()
    };
    let (_, i) = fpdus(&stream(&segs, 49152), false, settings);
    let (_, t) = fpdus(&stream(&segs, 3260), false, settings);
    let i = texts(&i);
    let t = texts(&t);
    assert!(i[0].starts_with("Send with SE+Advertise S=0x"), "{i:?}");
    assert!(
        t.iter().any(|m| m.starts_with("Send with SE+Close S=0x")),
        "{t:?}"
    );
    // The read's RDMA Writes go into the advertised STag.
    let adv = i.iter().rfind(|m| m.contains("Advertise")).unwrap();
    let s = &adv[adv.find("S=").unwrap() + 2..][..10];
    assert!(
        t.iter()
            .any(|m| m.starts_with("Write STag=") && m.contains(s)),
        "{s} {t:?}"
    );
}

#[test]
fn conventional_flows_carry_iser() {
    let (i, t, _) = iwarp(
        "",
        "write 3000 flow conventional\nread 3000 flow conventional\n",
    );
    let i = texts(&i);
    let t = texts(&t);
    assert!(i[0].starts_with("Send with SE QN=0 MSN=1"), "{i:?}");
    assert!(
        !i.iter()
            .chain(&t)
            .any(|m| m.contains("Advertise") || m.contains("Close"))
    );
    assert!(t.iter().any(|m| m.starts_with("Write STag=")), "{t:?}");
}

#[test]
fn raw_verbs() {
    let (i, t, _) = iwarp(
        "",
        "send 128 se\nrdma-write 3000\nrdma-read 2000\nimmediate 0x0102030405060708 se\natomic fetch-add 5\nsend 64 from target\nterminate layer 0 etype 2 code 6\nsend 10\n",
    );
    let i = texts(&i);
    let t = texts(&t);
    assert!(i[0].starts_with("Send with SE QN=0 MSN=1"), "{i:?}");
    assert!(i.iter().any(|m| m.starts_with("Write STag=")));
    assert!(i.iter().any(|m| m.starts_with("Read Request QN=1 MSN=1")));
    assert!(t.iter().any(|m| m.starts_with("Read Response")));
    assert!(
        i.iter()
            .any(|m| m.starts_with("Immediate Data with SE QN=0 MSN=2")
                && m.contains("0x0102030405060708")),
        "{i:?}"
    );
    assert!(
        i.iter().any(|m| m.starts_with("Atomic Request QN=1 MSN=2")),
        "{i:?}"
    );
    assert!(
        t.iter()
            .any(|m| m.starts_with("Atomic Response QN=3 MSN=1")),
        "{t:?}"
    );
    assert!(t.iter().any(|m| m.starts_with("Send QN=0 MSN=1")), "{t:?}");
    assert!(
        i.last().unwrap().starts_with("Terminate QN=2 MSN=1"),
        "{i:?}"
    );
    // Nothing after the Terminate: the last send is skipped.
    assert!(!i.iter().any(|m| m.contains("len=10")));
}

#[test]
fn iscsi_tcp_write_uses_r2t_and_data_out() {
    let script = format!(
        "{HOSTS}conn c1 h1:49152 -> h2:3260 iscsi\nwrite 300K flow iscsi-tcp\nread 20000 flow iscsi-tcp\n"
    );
    let (pcap, summary) = generate(&script);
    let segs = segments(&pcap);
    let i = stream(&segs, 49152);
    let t = stream(&segs, 3260);
    // PDUs back to back: opcode of each BHS, walking DataSegmentLength.
    let ops = |s: &[u8]| {
        let mut v = Vec::new();
        let mut p = 0;
        while p + 48 <= s.len() {
            v.push(s[p] & 0x3f);
            let dsl = u32::from_be_bytes([0, s[p + 5], s[p + 6], s[p + 7]]) as usize;
            p += 48 + dsl.div_ceil(4) * 4;
        }
        assert_eq!(p, s.len());
        v
    };
    let io = ops(&i);
    let to = ops(&t);
    assert_eq!(io[0], 0x01);
    assert_eq!(
        io.iter().filter(|&&o| o == 0x05).count(),
        300 * 1024 / 8192 + 1
    );
    assert_eq!(
        to.iter().filter(|&&o| o == 0x31).count(),
        2,
        "two R2Ts for 300 KiB"
    );
    assert_eq!(to.iter().filter(|&&o| o == 0x21).count(), 2);
    assert_eq!(
        to.iter().filter(|&&o| o == 0x25).count(),
        3,
        "20000 octets in 8 KiB Data-In"
    );
    assert_eq!(summary.flows["iscsi-tcp-write"].commands, 1);
}

#[test]
fn same_script_same_bytes_other_seed_other_bytes() {
    let script = format!(
        "seed 5\n{HOSTS}conn c1 h1:49152 -> h2:3260 iwarp markers both depth 2\nrepeat 3 {{\n write 7000\n read 3000\n}}\nfault crc rate 0.2\n"
    );
    let (a, _) = generate(&script);
    let (b, _) = generate(&script);
    assert!(a == b, "two runs differ");
    let (c, _) = generate(&script.replace("seed 5", "seed 6"));
    assert!(a != c, "the seed changes nothing");
}
