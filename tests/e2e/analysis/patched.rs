//! Faults oneshot-gen cannot script (a wrong MSN, MO, L bit, Read size or marker, a segment the
//! capture point missed), patched into one header field of a generated capture with its CRC
//! recomputed, or one packet removed.

use std::path::Path;

use oneshot_codec::ddp::field as ddp_field;
use oneshot_codec::mpa::{Fpdu, marker};
use oneshot_codec::rdmap::read::field as read_field;

use super::{Finding, HOSTS, Scratch, assert_findings, finding, findings, generate, stats_lines};

/// A pcap file whose packets a test patches.
struct Pcap {
    header: Vec<u8>,
    /// Record header and packet octets.
    records: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Pcap {
    fn read(p: &Path) -> Pcap {
        let b = std::fs::read(p).unwrap();
        let big_endian = match b[..4] {
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
            [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
            _ => panic!("{} is not a pcap file", p.display()),
        };
        let mut records = Vec::new();
        let mut at = 24;
        while at + 16 <= b.len() {
            let l: [u8; 4] = b[at + 8..at + 12].try_into().unwrap();
            let n = if big_endian {
                u32::from_be_bytes(l)
            } else {
                u32::from_le_bytes(l)
            } as usize;
            records.push((b[at..at + 16].to_vec(), b[at + 16..at + 16 + n].to_vec()));
            at += 16 + n;
        }
        Pcap {
            header: b[..24].to_vec(),
            records,
        }
    }

    fn write(&self, p: &Path) {
        let mut b = self.header.clone();
        for (h, d) in &self.records {
            b.extend_from_slice(h);
            b.extend_from_slice(d);
        }
        std::fs::write(p, b).unwrap();
    }

    /// Frame `n`'s (1-based) TCP payload: Ethernet, IPv4 and TCP headers skipped.
    fn payload(&mut self, n: usize) -> &mut [u8] {
        let d = &mut self.records[n - 1].1;
        let ip = 14;
        let tcp = ip + usize::from(d[ip] & 0x0f) * 4;
        let data = tcp + usize::from(d[tcp + 12] >> 4) * 4;
        &mut d[data..]
    }

    /// Frame `n`'s TCP sequence number.
    fn seq(&self, n: usize) -> u32 {
        let d = &self.records[n - 1].1;
        let tcp = 14 + usize::from(d[14] & 0x0f) * 4;
        u32::from_be_bytes(d[tcp + 4..tcp + 8].try_into().unwrap())
    }

    /// Changes the ULPDU of frame `n`'s one FPDU (no markers) and recomputes its CRC.
    fn patch_ulpdu(&mut self, n: usize, change: impl FnOnce(&mut [u8])) {
        let payload = self.payload(n);
        let mut fpdu = Fpdu::new_checked(payload).expect("one FPDU");
        assert_eq!(fpdu.len(), fpdu.as_bytes().len(), "frame {n}: one FPDU");
        change(fpdu.ulpdu_mut());
        fpdu.fill_crc();
    }
}

/// What a patch does, the frame it changes, how, and the findings it must cause.
type PatchCase = (&'static str, usize, Box<dyn Fn(&mut [u8])>, Vec<Finding>);

fn set32(b: &mut [u8], r: std::ops::Range<usize>, v: u32) {
    b[r].copy_from_slice(&v.to_be_bytes());
}

/// Five Sends (the fourth in three segments) and a one-shot write. Frames: 5, 6, 8 (MSN 1-3),
/// 9-11 (MSN 4, MO 0, 1436, 2872, L on 11), 14 (MSN 5), 15 (advertise, MSN 6), 17 (Read Request,
/// QN 1 MSN 1, 8192 octets), 18-23 (Read Responses, L on 23), 27 (close), then another write.
const SENDS: &str = "\
seed 6
conn c1 h1:49152 -> h2:3260 iwarp
send 100
send 100
send 100
send 3000
send 100
write 8K
write 8K
";

#[test]
fn analysis_reports_msn_mo_l_and_read_size_faults_on_their_frames() {
    let dir = Scratch::new("patched");
    let clean = generate(&dir, "sends", &format!("{HOSTS}{SENDS}"));
    assert_eq!(findings(&clean, &[]), vec![], "the capture before patching");
    let w = "warning";
    let cases: Vec<PatchCase> = vec![
        (
            "MSN 2 sent as 3: a gap, then MSN 3 twice",
            6,
            Box::new(|u: &mut [u8]| set32(u, ddp_field::MSN, 3)),
            vec![
                finding(
                    6,
                    "iwarp_ddp.expert.msn_gap",
                    w,
                    "QN 0: MSN 3 where 2 was due (gap)",
                ),
                finding(
                    8,
                    "iwarp_ddp.expert.msn_duplicate",
                    w,
                    "QN 0: MSN 3 where 4 was due (duplicate or out of order)",
                ),
            ],
        ),
        (
            "MSN 3 sent as 2: a duplicate, then MSN 4 after a gap",
            8,
            Box::new(|u: &mut [u8]| set32(u, ddp_field::MSN, 2)),
            vec![
                finding(
                    8,
                    "iwarp_ddp.expert.msn_duplicate",
                    w,
                    "QN 0: MSN 2 where 3 was due (duplicate or out of order)",
                ),
                finding(
                    9,
                    "iwarp_ddp.expert.msn_gap",
                    w,
                    "QN 0: MSN 4 where 3 was due (gap)",
                ),
            ],
        ),
        (
            "the last segment of MSN 4 four octets further on",
            11,
            Box::new(|u: &mut [u8]| set32(u, ddp_field::MO, 2876)),
            vec![finding(
                11,
                "iwarp_ddp.expert.mo_inconsistent",
                w,
                "QN 0 MSN 4: MO 2876 where 2872 was due after the segments so far (first in frame 9)",
            )],
        ),
        (
            "the last segment of MSN 4 without L",
            11,
            Box::new(|u: &mut [u8]| u[ddp_field::CONTROL] &= !ddp_field::L_MASK),
            vec![finding(
                14,
                "iwarp_ddp.expert.last_missing",
                w,
                "QN 0: MSN 5 begins before MSN 4 (first segment in frame 9) had its last segment (L = 1)",
            )],
        ),
        (
            "the Read Request asks 4096 of the 8192 octets its Responses carry",
            17,
            Box::new(|u: &mut [u8]| {
                let at = ddp_field::UNTAGGED_LEN;
                let r = at + read_field::RDMARDSZ.start..at + read_field::RDMARDSZ.end;
                set32(u, r, 4096);
            }),
            vec![finding(
                23,
                "iwarp_rdma.expert.read_size_mismatch",
                w,
                "RDMA Read Response into sink STag 0x0010017b ends after 8192 octets; the Read Request in frame 17 (source STag 0x000001ae) asked 4096",
            )],
        ),
    ];
    for (what, frame, change, want) in cases {
        let mut pcap = Pcap::read(&clean);
        pcap.patch_ulpdu(frame, change);
        let cap = dir.join("patched.pcap");
        pcap.write(&cap);
        let got = findings(&cap, &[]);
        assert_eq!(got, want, "{what}");
        assert_findings(&cap, &[], &want);
    }
    // A Read Response segment the capture missed (the hole never fills): the close finds the
    // Read short, and the next write, beyond the hole, is still followed.
    let mut pcap = Pcap::read(&clean);
    pcap.records.remove(20 - 1);
    let cap = dir.join("dropped.pcap");
    pcap.write(&cap);
    assert_eq!(
        findings(&cap, &[]),
        vec![finding(
            26,
            "iwarp_rdma.expert.read_size_mismatch",
            w,
            "Close of STag 0x000001ae, but the RDMA Read Request in frame 17 (sink STag 0x0010017b) got 6752 of its 8192 octets",
        )]
    );
    let moved: Vec<String> = stats_lines(&cap, &[], "oneshot,exchanges", "0 ")
        .iter()
        .map(|r| r.split(' ').take(7).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        moved,
        vec![
            "0 0x000001ae 0x3cb1 write 6752 15 26",
            "0 0x000002bc 0x3cb2 write 8192 27 38",
        ]
    );
}

#[test]
fn analysis_reports_a_marker_that_points_off_its_fpdu() {
    let dir = Scratch::new("markers");
    let script =
        format!("{HOSTS}seed 7\nconn c1 h1:49152 -> h2:3260 iwarp markers both\nwrite 4K\n");
    let clean = generate(&dir, "markers", &script);
    assert_eq!(findings(&clean, &[]), vec![]);
    // Frame 5 carries host 1's first FPDU: the marker origin. Frame 8, a Read Response, holds
    // one FPDU with markers at stream positions 1536, 2048 and 2560.
    let mut pcap = Pcap::read(&clean);
    let origin = pcap.seq(5);
    let pos = pcap.seq(8).wrapping_sub(origin);
    let payload = pcap.payload(8);
    let m = marker::MarkedFpdu::new_checked(payload, pos).expect("a marked FPDU");
    assert_eq!(m.wire_len(), payload.len(), "one FPDU in the segment");
    let first = (512 - pos as usize % 512) % 512;
    let second = first + 512;
    let at = second + marker::field::FPDUPTR.start;
    let ptr = u16::from_be_bytes([payload[at], payload[at + 1]]);
    assert_eq!(
        usize::from(ptr),
        second,
        "the clean marker points at the FPDU start"
    );
    payload[at..at + 2].copy_from_slice(&(ptr + 4).to_be_bytes());
    marker::fill_marked_crc(payload, pos).expect("CRC refilled");
    let cap = dir.join("patched.pcap");
    pcap.write(&cap);
    assert_findings(
        &cap,
        &[],
        &[finding(
            8,
            "iwarp_mpa.expert.bad_marker",
            "error",
            &format!("Marker FPDUPTR {} should be {ptr} (MPA error 3)", ptr + 4),
        )],
    );
}
