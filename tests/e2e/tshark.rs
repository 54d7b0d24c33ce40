//! Cross-checks with tshark, the reference decoder: on the shipped captures, tshark and the codec
//! must agree on every MPA, DDP and RDMAP field tshark knows, every CRC must be good, and no frame
//! may be malformed.

use std::process::Command;

use oneshot_codec::Frame;
use oneshot_codec::etherparse;
use oneshot_codec::rdmap::{Header, Settings};
use oneshot_tests::{path, tshark_available};
use pcap_file::pcap::PcapReader;

/// The fields compared, in tshark's names.
const FIELDS: &[&str] = &[
    "frame.number",
    "tcp.checksum.status",
    "iwarp_mpa.rev",
    "iwarp_mpa.crc_flag",
    "iwarp_mpa.pdlength",
    "iwarp_mpa.ulpdulength",
    "iwarp_mpa.crc_check",
    "iwarp_ddp.tagged_flag",
    "iwarp_ddp.last_flag",
    "iwarp_ddp.rsvd",
    "iwarp_ddp.dv",
    "iwarp_ddp.rsvdulp",
    "iwarp_ddp.qn",
    "iwarp_ddp.msn",
    "iwarp_ddp.mo",
    "iwarp_ddp.stag",
    "iwarp_ddp.tagged_offset",
    "iwarp_rdma.version",
    "iwarp_rdma.opcode",
    "iwarp_rdma.sinkstag",
    "iwarp_rdma.sinkto",
    "iwarp_rdma.rdmardsz",
    "iwarp_rdma.srcstag",
    "iwarp_rdma.srcto",
    "_ws.malformed",
];

fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// The same fields, computed by the codec, printed the way tshark prints them: several
/// occurrences in a frame joined by commas, absent fields empty.
fn codec_fields(n: usize, frame: &[u8]) -> String {
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); FIELDS.len()];
    let mut put = |name: &str, v: String| {
        let i = FIELDS.iter().position(|f| *f == name).expect("known field");
        cols[i].push(v);
    };
    put("frame.number", n.to_string());
    let f = Frame::ethernet(frame);
    assert!(f.stop.is_none(), "frame {n}: {:?}", f.stop);
    if let Some(tcp) = f.tcp() {
        // 1 = good, 0 = bad, as tshark reports with tcp.check_checksum on.
        put(
            "tcp.checksum.status",
            u8::from(tcp_checksum_ok(&f, tcp)).to_string(),
        );
    }
    if let Some(m) = f.mpa_frame() {
        let m = m.expect("MPA frame decodes");
        put("iwarp_mpa.rev", m.rev().to_string());
        put("iwarp_mpa.crc_flag", u8::from(m.crc()).to_string());
        put("iwarp_mpa.pdlength", m.pd_length().to_string());
    } else {
        for d in f.fpdus(Settings::default()) {
            let d = d.expect("FPDU decodes");
            assert!(d.crc_ok(), "frame {n}: bad CRC at {}", d.offset);
            put("iwarp_mpa.ulpdulength", d.fpdu.ulpdu_len().to_string());
            put(
                "iwarp_mpa.crc_check",
                format!("0x{:08x}", d.fpdu.crc_wireshark()),
            );
            let m = d.message().expect("message decodes");
            let c = m.ddp.control();
            put("iwarp_ddp.tagged_flag", u8::from(c.tagged()).to_string());
            put("iwarp_ddp.last_flag", u8::from(c.last()).to_string());
            put("iwarp_ddp.rsvd", format!("0x{:02x}", c.rsvd()));
            put("iwarp_ddp.dv", c.dv().to_string());
            match &m.ddp {
                oneshot_codec::ddp::Segment::Tagged(t) => {
                    put("iwarp_ddp.stag", format!("0x{:08x}", t.stag()));
                    put("iwarp_ddp.tagged_offset", format!("0x{:016x}", t.to()));
                }
                oneshot_codec::ddp::Segment::Untagged(u) => {
                    let hex: String = u.rsvdulp_all().iter().map(|b| format!("{b:02x}")).collect();
                    put("iwarp_ddp.rsvdulp", hex);
                    put("iwarp_ddp.qn", u.qn().to_string());
                    put("iwarp_ddp.msn", u.msn().to_string());
                    put("iwarp_ddp.mo", u.mo().to_string());
                }
            }
            put("iwarp_rdma.version", m.control.version().to_string());
            put(
                "iwarp_rdma.opcode",
                format!("0x{:02x}", m.control.opcode_raw()),
            );
            if let Header::ReadRequest(rr) = m.header {
                put("iwarp_rdma.sinkstag", format!("0x{:08x}", rr.sink_stag()));
                put("iwarp_rdma.sinkto", format!("0x{:016x}", rr.sink_to()));
                put("iwarp_rdma.rdmardsz", rr.rdmardsz().to_string());
                put("iwarp_rdma.srcstag", format!("0x{:08x}", rr.source_stag()));
                put("iwarp_rdma.srcto", format!("0x{:016x}", rr.source_to()));
            }
        }
    }
    cols.iter()
        .map(|c| c.join(","))
        .collect::<Vec<_>>()
        .join("|")
}

fn tcp_checksum_ok(f: &Frame<'_>, tcp: &etherparse::TcpSlice<'_>) -> bool {
    let Some(etherparse::LaxIpSlice::Ipv4(ip)) = f.ip.as_ref() else {
        return false;
    };
    let header = tcp.to_header();
    header
        .calc_checksum_ipv4(&ip.header().to_header(), tcp.payload())
        .is_ok_and(|c| c == tcp.checksum())
}

#[test]
fn tshark_and_the_codec_agree_on_the_codec_sample() {
    if !tshark_available("tshark_and_the_codec_agree_on_the_codec_sample") {
        return;
    }
    let file = path("captures/codec-sample.pcap");
    let file = file.to_str().unwrap();
    let mut args = vec![
        "-r",
        file,
        "-o",
        "tcp.check_checksum:TRUE",
        "-T",
        "fields",
        "-E",
        "separator=|",
    ];
    for f in FIELDS {
        args.extend(["-e", f]);
    }
    let theirs = tshark(&args);

    let data = std::fs::read(file).unwrap();
    let mut reader = PcapReader::new(&data[..]).unwrap();
    let mut ours = String::new();
    let mut n = 0;
    while let Some(p) = reader.next_packet() {
        n += 1;
        ours += &codec_fields(n, &p.unwrap().data);
        ours.push('\n');
    }
    assert_eq!(n, 13);
    for (t, o) in theirs.lines().zip(ours.lines()) {
        assert_eq!(
            t, o,
            "tshark (left) and the codec (right) disagree\n{FIELDS:?}"
        );
    }
    assert_eq!(theirs.lines().count(), ours.lines().count());

    // Every FPDU's CRC is "Good CRC32" for tshark too, and there are as many as we found.
    let verbose = tshark(&["-r", file, "-V"]);
    let good = verbose.matches("(Good CRC32)").count();
    assert_eq!(good, 5, "tshark found {good} good CRCs");
    assert!(!verbose.contains("Bad CRC32"));
}
