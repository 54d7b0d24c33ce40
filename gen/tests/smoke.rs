//! Runs small scenarios end to end and decodes the result with the codec.

use oneshot_codec::{Frame, Settings};
use oneshot_gen::engine::{self, RunOptions};
use oneshot_gen::sink::{CaptureWriter, Captured, Format, Sink};
use pcap_file::pcap::PcapReader;

fn generate(script: &str) -> Vec<u8> {
    let sc = oneshot_gen::script::parse(script).unwrap_or_else(|e| panic!("{e}"));
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcap, &[]).unwrap();
    let summary = engine::run(&sc, &mut w, RunOptions::default()).unwrap();
    eprintln!("{summary:#?}");
    w.into_inner()
}

#[test]
fn oneshot_write_decodes() {
    let pcap = generate(
        "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\n\
         host h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n\
         conn c1 h1:49152 -> h2:3260 iwarp\n\
         write 4096 flow oneshot\n",
    );
    let mut r = PcapReader::new(&pcap[..]).unwrap();
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        n += 1;
        let f = Frame::ethernet(&p.data);
        assert!(f.stop.is_none());
        let t = f.tcp().unwrap();
        let mut line = format!(
            "{n:3} {}->{} seq={} ack={} len={} {}{}{}",
            t.source_port(),
            t.destination_port(),
            t.sequence_number(),
            t.acknowledgment_number(),
            t.payload().len(),
            if t.syn() { "S" } else { "" },
            if t.fin() { "F" } else { "" },
            if t.ack() { "A" } else { "" }
        );
        if let Some(m) = f.mpa_frame() {
            line += &format!(" {}", oneshot_codec::mpa::MpaFrameRepr::parse(&m.unwrap()));
        } else {
            for d in f.fpdus(Settings::default()) {
                match d {
                    Ok(d) => {
                        line += &format!(
                            " | {} crc={}",
                            d.message()
                                .map(|m| m.to_string())
                                .unwrap_or_else(|e| e.to_string()),
                            d.crc_ok()
                        )
                    }
                    Err(e) => line += &format!(" | {e}"),
                }
            }
        }
        eprintln!("{line}");
    }
    assert!(n > 8);
}

/// `capture from N` writes the run's frames from the N-th on, unchanged: the same script
/// without it gives the same frames, after N - 1 more.
#[test]
fn capture_from_starts_the_capture_mid_connection() {
    let script = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\n\
                  host h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n\
                  conn c1 h1:49152 -> h2:3260 iwarp\n\
                  write 4096 flow oneshot\n";
    let frames = |pcap: Vec<u8>| {
        let mut r = PcapReader::new(&pcap[..]).unwrap();
        let mut v = Vec::new();
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            v.push((p.timestamp, p.data.into_owned()));
        }
        v
    };
    let all = frames(generate(script));
    let cut = frames(generate(&format!("capture from 5\n{script}")));
    assert!(all.len() > 8);
    assert_eq!(cut.len(), all.len() - 4);
    assert_eq!(cut[..], all[4..]);
    // Frames 1-4 are the TCP and MPA handshakes: what is left starts with an FPDU.
    let first = Frame::ethernet(&cut[0].1);
    assert!(first.mpa_frame().is_none());
    assert!(!first.tcp().unwrap().syn());
    let cut = frames(generate(&format!("capture from 1000\n{script}")));
    assert!(cut.is_empty());
}

/// A sink that takes frames one by one only (no records in place), around a pcap writer.
struct ByFrame(CaptureWriter<Vec<u8>>);

impl Sink for ByFrame {
    fn frame(
        &mut self,
        frame: &Captured<'_>,
        comment: &dyn Fn() -> String,
    ) -> Result<(), oneshot_gen::GenError> {
        self.0.frame(frame, comment)
    }
    fn wants_comments(&self) -> bool {
        self.0.wants_comments()
    }
    fn finish(&mut self) -> Result<(), oneshot_gen::GenError> {
        self.0.finish()
    }
}

/// The pcap writer takes frames built in place in its buffer of records (written out every
/// MiB or so); handed over one by one instead, the same run gives the same file, across
/// several buffers, with duplicated, reordered, lost, cut and uncaptured frames.
#[test]
fn frames_built_in_place_make_the_same_capture_as_frames_handed_over() {
    let script = "seed 3\n\
                  capture from 7\n\
                  host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\n\
                  host h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n\
                  conn c1 h1:49152 -> h2:3260 iwarp\n\
                  repeat 40 {\n write 64K\n read 20000\n}\n\
                  write 8K fault duplicate\n\
                  write 8K fault snaplen 100\n\
                  fault loss rate 0.01\n\
                  fault reorder rate 0.01\n\
                  fault duplicate rate 0.01\n";
    let sc = oneshot_gen::script::parse(script).unwrap_or_else(|e| panic!("{e}"));
    for format in [Format::Pcap, Format::PcapNs] {
        let mut in_place = CaptureWriter::new(Vec::new(), format, &[]).unwrap();
        assert!(in_place.records().is_some());
        let a = engine::run(&sc, &mut in_place, RunOptions::default()).unwrap();
        let mut by_frame = ByFrame(CaptureWriter::new(Vec::new(), format, &[]).unwrap());
        let b = engine::run(&sc, &mut by_frame, RunOptions::default()).unwrap();
        let (in_place, by_frame) = (in_place.into_inner(), by_frame.0.into_inner());
        assert!(in_place.len() > 3 << 20, "{} octets", in_place.len());
        assert_eq!(a, b);
        assert!(in_place == by_frame, "{format:?}: the captures differ");
    }
}

/// Every frame that is captured whole carries right IPv4 header and TCP checksums, over IPv4
/// and IPv6, with VLAN tags, markers, CRCs off, iSCSI/TCP, retransmissions, duplicates,
/// reordering and mutated FPDUs.
#[test]
fn every_frame_has_right_ip_and_tcp_checksums() {
    use oneshot_codec::etherparse::{LaxIpSlice, TcpHeader};
    let scripts = [
        "seed 4\n\
         host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 vlan 5\n\
         host h2 mac 02:00:00:00:00:02 ip 10.0.0.2 vlan 5\n\
         conn c1 h1:49152 -> h2:3260 iwarp markers both depth 3\n\
         conn c2 h1:49153 -> h2:3261 iwarp crc off\n\
         conn c3 h1:49154 -> h2:3262 iscsi\n\
         mutate rate 0.05\n\
         repeat 6 {\n write 20000 on c1\n read 9999 on c1\n write 7001 on c2\n \
         read 30000 on c3 flow iscsi-tcp\n write 5000 on c3 flow iscsi-tcp\n}\n\
         fault loss rate 0.05\nfault duplicate rate 0.05\nfault reorder rate 0.05\n",
        "seed 5\n\
         host h1 mac 02:00:00:00:00:01 ip fd00::1 mss 1220\n\
         host h2 mac 02:00:00:00:00:02 ip fd00::2\n\
         conn c1 h1:49152 -> h2:3260 iwarp\n\
         repeat 4 {\n write 64K\n read 3333\n write 8K fault split 3\n}\n",
    ];
    for script in scripts {
        let sc = oneshot_gen::script::parse(script).unwrap_or_else(|e| panic!("{e}"));
        let mut w = CaptureWriter::new(Vec::new(), Format::Pcap, &[]).unwrap();
        engine::run(&sc, &mut w, RunOptions::default()).unwrap();
        let pcap = w.into_inner();
        let mut r = PcapReader::new(&pcap[..]).unwrap();
        let mut n = 0;
        while let Some(p) = r.next_packet() {
            let p = p.unwrap();
            n += 1;
            assert_eq!(p.data.len(), p.orig_len as usize, "frame {n} is whole");
            let f = Frame::ethernet(&p.data);
            let t = f.tcp().unwrap();
            let header = TcpHeader {
                checksum: 0,
                ..t.to_header()
            };
            let want = match f.ip.as_ref().unwrap() {
                LaxIpSlice::Ipv4(ip) => {
                    let h = ip.header().to_header();
                    assert_eq!(ip.header().header_checksum(), h.calc_header_checksum());
                    header.calc_checksum_ipv4(&h, t.payload())
                }
                LaxIpSlice::Ipv6(ip) => {
                    header.calc_checksum_ipv6(&ip.header().to_header(), t.payload())
                }
            };
            assert_eq!(Ok(t.checksum()), want, "frame {n} of\n{script}");
        }
        assert!(n > 200, "{n} frames");
    }
}
