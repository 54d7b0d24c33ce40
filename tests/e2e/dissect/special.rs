//! The captures tshark 4.0 cannot read, decoded as their scripts say: no handshake (the MPA
//! heuristic, and `-d` for what it does not guess), markers in one direction only, markers with
//! several FPDUs per segment, and a ULPDU_Length split across two segments.
//!
//! The oracle is the generator's packet comments (read with pcap-file, not with the dissector):
//! every packet names the messages its segment carries, with their STags, in order. Each message
//! must come out of the dissector in that frame (or, for an FPDU split across two segments, in
//! the frame that completes it), with its opcode and STags, a good CRC, and MSNs that count up
//! by one per queue and direction.

use std::collections::{BTreeMap, BTreeSet};

use super::{capture, comments, fields, run};

/// One message the generator says a segment carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Advertise(u32),
    Close(u32),
    ReadRequest { sink: u32, size: u32, source: u32 },
    ReadResponse(u32),
    Write(u32),
}

impl Msg {
    fn opcode(self) -> &'static str {
        match self {
            Msg::Write(_) => "0x00",
            Msg::ReadRequest { .. } => "0x01",
            Msg::ReadResponse(_) => "0x02",
            Msg::Advertise(_) => "0x08",
            Msg::Close(_) => "0x0c",
        }
    }
}

fn hex_after(text: &str, key: &str) -> u32 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{key} in {text:?}"));
    let digits: String = text[at + key.len() + 2..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u32::from_str_radix(&digits, 16).unwrap_or_else(|_| panic!("hex after {key} in {text:?}"))
}

fn dec_after(text: &str, key: &str) -> u32 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("{key} in {text:?}"));
    let digits: String = text[at + key.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

/// The messages of one packet comment, and whether the segment is part of a split FPDU.
/// "line 9: oneshot-write #1: advertise S=0x000001ba + SCSI Command …; line 9: …".
fn parse_comment(comment: &str) -> (Vec<Msg>, bool) {
    let mut msgs = Vec::new();
    let mut split = false;
    for part in comment.split("; ") {
        let mut it = part.splitn(3, ": ");
        let (_line, _flow) = (it.next(), it.next());
        let Some(m) = it.next() else {
            continue; // ACK, FIN, SYN, MPA Request …
        };
        split |= m.contains("[fault: split at");
        let msg = if m.starts_with("advertise ") {
            Msg::Advertise(hex_after(m, "S="))
        } else if m.starts_with("close ") {
            Msg::Close(hex_after(m, "S="))
        } else if m.starts_with("RDMA Read Request ") {
            Msg::ReadRequest {
                sink: hex_after(m, "sink="),
                size: dec_after(m, "size="),
                source: hex_after(m, "source="),
            }
        } else if m.starts_with("RDMA Read Response ") {
            Msg::ReadResponse(hex_after(m, "STag="))
        } else if m.starts_with("RDMA Write ") {
            Msg::Write(hex_after(m, "STag="))
        } else {
            panic!("a message this oracle does not know: {m:?}");
        };
        msgs.push(msg);
    }
    (msgs, split)
}

/// What a capture should decode to, frame by frame: the messages of each frame's comment, except
/// that an FPDU split across two segments belongs to the second (the first shows none), and one
/// whose first part is not in the capture shows nowhere. Frames of the TCP ports in `silent`
/// show no FPDU at all.
fn expected(file: &str, ports: &[u16], silent: &[u16]) -> Vec<Vec<Msg>> {
    let mut out = Vec::new();
    // Per source port: the comment of a split segment seen and not yet completed.
    let mut open_split: BTreeMap<u16, String> = BTreeMap::new();
    for (i, c) in comments(file).iter().enumerate() {
        let (msgs, split) = parse_comment(c);
        let port = ports[i];
        let msgs = if silent.contains(&port) {
            Vec::new()
        } else if split {
            match open_split.remove(&port) {
                Some(first) if first == *c => msgs,
                _ => {
                    open_split.insert(port, c.clone());
                    Vec::new()
                }
            }
        } else {
            msgs
        };
        out.push(msgs);
    }
    out
}

const FIELDS: &[&str] = &[
    "tcp.srcport",
    "tcp.dstport",
    "tcp.stream",
    "iwarp_rdma.opcode",
    "iwarp_ddp.stag",
    "oneshot.stag",
    "iwarp_rdma.sinkstag",
    "iwarp_rdma.srcstag",
    "iwarp_rdma.rdmardsz",
    "iwarp_mpa.crc_status",
    "iwarp_ddp.qn",
    "iwarp_ddp.msn",
    "iwarp_mpa.marker_fpduptr",
    "data.len",
    "_ws.malformed",
];

/// Checks captures/`file` decoded with `extra` against its comments. FPDUs on TCP ports in
/// `unverified` carry no CRC; frames of `silent` ports show none. Returns the FPDUs found.
fn check_script(file: &str, extra: &[&str], silent: &[u16], unverified: &[u16]) -> usize {
    let t = fields(file, extra, FIELDS);
    let ports: Vec<u16> = (1..=t.rows.len())
        .map(|f| t.get(f, "tcp.srcport")[0].parse().unwrap())
        .collect();
    let want = expected(file, &ports, silent);
    assert_eq!(want.len(), t.rows.len(), "{file}: frames");
    let mut problems = Vec::new();
    let mut fpdus = 0;
    let fmt = |v: u32| format!("0x{v:08x}");
    // Per (stream, source port, queue): the last MSN seen.
    let mut msn: BTreeMap<(String, u16, String), u32> = BTreeMap::new();
    for (i, w) in want.iter().enumerate() {
        let f = i + 1;
        let mut expect: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for m in w {
            expect
                .entry("iwarp_rdma.opcode")
                .or_default()
                .push(m.opcode().into());
            match *m {
                Msg::Advertise(s) | Msg::Close(s) => {
                    expect.entry("oneshot.stag").or_default().push(fmt(s));
                }
                Msg::ReadResponse(s) | Msg::Write(s) => {
                    expect.entry("iwarp_ddp.stag").or_default().push(fmt(s));
                }
                Msg::ReadRequest { sink, size, source } => {
                    expect
                        .entry("iwarp_rdma.sinkstag")
                        .or_default()
                        .push(fmt(sink));
                    expect
                        .entry("iwarp_rdma.srcstag")
                        .or_default()
                        .push(fmt(source));
                    expect
                        .entry("iwarp_rdma.rdmardsz")
                        .or_default()
                        .push(size.to_string());
                }
            }
            let crc = if unverified.contains(&ports[i]) {
                "2"
            } else {
                "1"
            };
            expect
                .entry("iwarp_mpa.crc_status")
                .or_default()
                .push(crc.into());
        }
        for name in [
            "iwarp_rdma.opcode",
            "oneshot.stag",
            "iwarp_ddp.stag",
            "iwarp_rdma.sinkstag",
            "iwarp_rdma.srcstag",
            "iwarp_rdma.rdmardsz",
            "iwarp_mpa.crc_status",
        ] {
            let got = t.get(f, name);
            let exp = expect.get(name).cloned().unwrap_or_default();
            if got != exp {
                problems.push(format!(
                    "frame {f} {name}: script says {exp:?}, decoded {got:?}"
                ));
            }
        }
        fpdus += w.len();
        if !t.get(f, "_ws.malformed").is_empty() {
            problems.push(format!("frame {f} is malformed"));
        }
        // MSNs count up by one per stream, direction and queue.
        let stream = t.get(f, "tcp.stream")[0].to_string();
        for (qn, m) in t
            .get(f, "iwarp_ddp.qn")
            .iter()
            .zip(t.get(f, "iwarp_ddp.msn"))
        {
            let m: u32 = m.parse().unwrap();
            let key = (stream.clone(), ports[i], qn.to_string());
            if let Some(prev) = msn.insert(key, m) {
                if m != prev + 1 {
                    problems.push(format!("frame {f} queue {qn}: MSN {m} after {prev}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{file} {extra:?} does not decode as its script says:\n{}",
        problems.join("\n")
    );
    fpdus
}

#[test]
fn dissect_special_captures_decode_as_their_scripts_say() {
    // Markers both ways, four FPDUs in one segment (frames 5, 6), queue depth 4.
    assert_eq!(check_script("markers.pcapng", &[], &[], &[]), 48);
    // Markers from h1 only; two FPDUs per segment both ways.
    assert_eq!(check_script("markers-asymmetric.pcapng", &[], &[], &[]), 22);
    // ULPDU_Length split after one octet, without markers (port 49152) and with (49153).
    assert_eq!(check_script("split-length.pcapng", &[], &[], &[]), 10);
    // No handshake: the heuristic finds the CRC connection (3260) and the one with markers
    // (3262); the CRC-less one (3261) it does not guess.
    assert_eq!(
        check_script("no-handshake.pcapng", &[], &[3261, 49153], &[]),
        17
    );
    // -d decodes the CRC-less one, its FPDUs unverified…
    let d_crc_off = ["-d", "tcp.port==3261,mpa,crc=off"];
    assert_eq!(
        check_script("no-handshake.pcapng", &d_crc_off, &[], &[3261, 49153]),
        26
    );
    // …and forcing markers on 3262 finds the same FPDUs as the heuristic.
    let both = [
        "-d",
        "tcp.port==3261,mpa,crc=off",
        "-d",
        "tcp.port==3262,mpa,markers=on",
    ];
    assert_eq!(
        check_script("no-handshake.pcapng", &both, &[], &[3261, 49153]),
        26
    );
}

/// Without a handshake, what the heuristic found is said (an expert note in the first FPDU of
/// each direction it recognised), and what it did not take is shown as data.
#[test]
fn dissect_no_handshake_heuristic_is_noted_and_the_rest_is_data() {
    let t = fields(
        "no-handshake.pcapng",
        &[],
        &[
            "frame.number",
            "tcp.srcport",
            "tcp.len",
            "iwarp_mpa.heuristic",
            "iwarp_mpa",
            "data.len",
        ],
    );
    let noted: Vec<usize> = t
        .all("iwarp_mpa.heuristic")
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    // Frame 1 is the tail of a split FPDU: c1 is recognised at frame 2, c3 at frame 8.
    assert_eq!(noted, [2, 8]);
    for f in 1..=t.rows.len() {
        let port: u16 = t.get(f, "tcp.srcport")[0].parse().unwrap();
        let len = t.get(f, "tcp.len")[0];
        if (port == 3261 || port == 49153 || f == 1) && len != "0" {
            assert!(t.get(f, "iwarp_mpa").is_empty(), "frame {f}");
            assert_eq!(
                t.get(f, "data.len"),
                [len],
                "frame {f}: its payload as data"
            );
        }
    }
}

/// Markers are stripped before DDP reads the FPDU, every FPDUPTR points at its FPDU (no
/// "bad marker" finding), markers appear only in the directions that negotiated them, and the
/// payload octets add up to what the script moved.
#[test]
fn dissect_markers_are_stripped_and_point_at_their_fpdus() {
    // (capture, source ports whose FPDUs carry markers, payload octets per STag)
    type Case<'a> = (&'a str, &'a [u16], &'a [(u32, u64)]);
    let cases: &[Case<'_>] = &[
        // The sink STag is reused by all eight writes.
        ("markers.pcapng", &[49152, 3260], &[(0x0010_0132, 8 * 4096)]),
        (
            "markers-asymmetric.pcapng",
            &[49152],
            &[
                (0x0010_0120, 2 * 4096),
                (0x0000_03db, 4096),
                (0x0000_04ae, 4096),
            ],
        ),
        (
            "split-length.pcapng",
            &[49153, 3261],
            &[(0x0010_0115, 2048), (0x0010_0285, 2048)],
        ),
        (
            "no-handshake.pcapng",
            &[49154, 3262],
            // 0x001001c3's first 1440 octets were before the capture.
            &[
                (0x0010_01c3, 4096 - 1440),
                (0x0010_03e3, 4096),
                (0x0000_04ac, 4096),
                (0x0000_06b2, 4096),
            ],
        ),
    ];
    for (file, marked, bytes) in cases {
        let t = fields(
            file,
            &[],
            &[
                "tcp.srcport",
                "iwarp_mpa.markers",
                "iwarp_mpa.marker_fpduptr",
                "iwarp_mpa.expert.bad_marker",
                "iwarp_ddp.stag",
                "data.len",
            ],
        );
        let mut seen_ports = BTreeSet::new();
        let mut per_stag: BTreeMap<u32, u64> = BTreeMap::new();
        for f in 1..=t.rows.len() {
            let port: u16 = t.get(f, "tcp.srcport")[0].parse().unwrap();
            let ptrs = t.get(f, "iwarp_mpa.marker_fpduptr");
            if !ptrs.is_empty() {
                seen_ports.insert(port);
            }
            for p in ptrs {
                let p: u32 = p.parse().unwrap();
                assert_eq!(p % 4, 0, "{file} frame {f}: FPDUPTR {p}");
            }
            assert!(
                t.get(f, "iwarp_mpa.expert.bad_marker").is_empty(),
                "{file} frame {f}: a marker points elsewhere"
            );
            let stags = t.get(f, "iwarp_ddp.stag");
            let lens = t.get(f, "data.len");
            if !stags.is_empty() {
                assert_eq!(stags.len(), lens.len(), "{file} frame {f}");
            }
            for (s, l) in stags.iter().zip(&lens) {
                let s = u32::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
                *per_stag.entry(s).or_default() += l.parse::<u64>().unwrap();
            }
        }
        let marked: BTreeSet<u16> = marked.iter().copied().collect();
        assert_eq!(seen_ports, marked, "{file}: the directions with markers");
        let want: BTreeMap<u32, u64> = bytes.iter().copied().collect();
        assert_eq!(per_stag, want, "{file}: payload octets per STag");
    }
    // The filter finds no bad marker either (exit code 1: nothing matched).
    for file in ["markers.pcapng", "markers-asymmetric.pcapng"] {
        let cap = capture(file);
        let out = run(&["-r", &cap, "-Y", "iwarp_mpa.expert.bad_marker"]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        assert!(out.stdout.is_empty());
    }
}

/// ULPDU_Length split across two segments: nothing in the frame with its first octet ("TCP
/// segment of a reassembled PDU"), the whole FPDU, reassembled, in the next.
#[test]
fn dissect_split_length_fpdu_is_shown_in_the_frame_that_completes_it() {
    let file = "split-length.pcapng";
    let t = fields(
        file,
        &[],
        &[
            "tcp.len",
            "tcp.srcport",
            "iwarp_mpa.ulpdulength",
            "iwarp_ddp.tagged_offset",
            "iwarp_mpa.crc_status",
        ],
    );
    // (frame with one octet, the frame completing it, ULPDU_Length: 14-octet tagged header +
    // 1440 payload octets without markers, 1428 with).
    for (first, second, ulpdu) in [(13, 14, "1454"), (16, 17, "1442")] {
        assert_eq!(t.get(first, "tcp.len"), ["1"]);
        assert!(t.get(first, "iwarp_mpa.ulpdulength").is_empty());
        assert_eq!(t.get(second, "iwarp_mpa.ulpdulength"), [ulpdu]);
        assert_eq!(
            t.get(second, "iwarp_ddp.tagged_offset"),
            ["0x0000000000000000"]
        );
        assert_eq!(t.get(second, "iwarp_mpa.crc_status"), ["1"]);
    }
    let cap = capture(file);
    let out = super::ok(&["-r", &cap, "-Y", "frame.number==13 or frame.number==16"]);
    assert_eq!(
        out.matches("[TCP segment of a reassembled PDU]").count(),
        2,
        "{out}"
    );
    // The hex dump shows the FPDU's octets as reassembled: 1 + 1459.
    let x = super::ok(&["-r", &cap, "-x", "-Y", "frame.number==14"]);
    assert!(x.contains("Reassembled TCP (1460 bytes):"), "{x}");
}
