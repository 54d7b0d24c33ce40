//! oneshot-dissect's analysis end to end (ONESHOT.md §6). Scripts for oneshot-gen commit every
//! violation the analysis looks for, in each encoding and placement; each finding must show on
//! the frame the script put it on, with its severity, its own filterable field and a message
//! naming the STag, the ITT and the frames. Faults the scripts cannot make (a wrong MSN, MO, L
//! bit, Read size or marker) are patched into one header field of a generated capture, CRC
//! recomputed. Clean traffic (the shipped captures, the built-in scenarios, TCP loss, reordering
//! and duplication) must show no finding, and the exchange table and leak list must add up to
//! what the scripts did. Frame numbers and messages below were checked by hand against the
//! frame lists (`oneshot-dissect -r CAPTURE`) of the generated captures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use oneshot_tests::{Scratch, binary, oneshot_dissect, path};

mod patched;

fn gen_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| binary("oneshot-gen", "oneshot-gen"))
}

/// Writes `script` as NAME.os and generates NAME.pcap from it.
fn generate(dir: &Scratch, name: &str, script: &str) -> PathBuf {
    let os = dir.join(&format!("{name}.os"));
    let cap = dir.join(&format!("{name}.pcap"));
    std::fs::write(&os, script).unwrap();
    let out = Command::new(gen_binary())
        .arg(&os)
        .arg("-w")
        .arg(&cap)
        .arg("-q")
        .output()
        .expect("oneshot-gen runs");
    assert!(
        out.status.success(),
        "oneshot-gen {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    cap
}

const HOSTS: &str = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\n\
                     host h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n";

/// Runs oneshot-dissect on `cap` with `args`; exit code 0, or 1 when a filter matched nothing.
fn dissect(cap: &Path, args: &[&str]) -> String {
    let mut all = vec!["-r", cap.to_str().expect("a UTF-8 path")];
    all.extend(args);
    oneshot_dissect(&all)
}

/// One expert item as `-T json` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    frame: u64,
    field: String,
    severity: &'static str,
    message: String,
}

fn finding(frame: u64, field: &str, severity: &'static str, message: &str) -> Finding {
    Finding {
        frame,
        field: field.to_string(),
        severity,
        message: message.to_string(),
    }
}

/// A `"key": "value"` line of the JSON output.
fn key_value(line: &str) -> Option<(String, String)> {
    let line = line.trim().trim_end_matches(',');
    if !line.starts_with('"') || !line.ends_with('"') {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&format!("{{{line}}}")).ok()?;
    let (k, v) = map.into_iter().next()?;
    Some((k, v.as_str()?.to_string()))
}

/// Every expert item of the capture, in frame order. `-T json` repeats the `_ws.expert` key
/// (tshark's layout), so the lines are read in order: the object's first key is the expert's
/// own field, then its message and severity.
fn findings(cap: &Path, args: &[&str]) -> Vec<Finding> {
    let mut all = args.to_vec();
    all.extend(["-T", "json"]);
    let text = dissect(cap, &all);
    let mut out = Vec::new();
    let mut frame = 0;
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((k, v)) = key_value(line) {
            if k == "frame.number" {
                frame = v.parse().unwrap();
            }
            continue;
        }
        if line.trim() != "\"_ws.expert\": {" {
            continue;
        }
        let mut field = String::new();
        let mut message = String::new();
        let mut severity = "";
        for l in lines.by_ref() {
            if l.trim().starts_with('}') {
                break;
            }
            let Some((k, v)) = key_value(l) else { continue };
            match k.as_str() {
                "_ws.expert.message" => message = v,
                "_ws.expert.severity" => {
                    severity = match v.as_str() {
                        "8388608" => "error",
                        "6291456" => "warning",
                        "4194304" => "note",
                        "2097152" => "chat",
                        "1048576" => "comment",
                        other => panic!("severity {other}"),
                    }
                }
                "_ws.expert.group" => {}
                _ if field.is_empty() => field = k,
                _ => {}
            }
        }
        // TCP's own expert items are tshark's, checked against tshark in the TCP tests; packet
        // comments are the generator's notes.
        if !field.starts_with("tcp.") && field != "frame.comment.expert" {
            out.push(Finding {
                frame,
                field,
                severity,
                message,
            });
        }
    }
    out
}

/// The frames a display filter matches.
fn matching(cap: &Path, args: &[&str], filter: &str) -> Vec<u64> {
    let mut all = args.to_vec();
    all.extend(["-Y", filter, "-T", "fields", "-e", "frame.number"]);
    dissect(cap, &all)
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect()
}

/// Asserts the capture's findings are exactly `want`, and that each finding's field selects
/// exactly its frames with `-Y`.
fn assert_findings(cap: &Path, args: &[&str], want: &[Finding]) {
    let got = findings(cap, args);
    assert_eq!(got, want, "findings of {} with {args:?}", cap.display());
    let mut fields: Vec<&str> = want.iter().map(|f| f.field.as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    for field in fields {
        let mut frames: Vec<u64> = want
            .iter()
            .filter(|f| f.field == field)
            .map(|f| f.frame)
            .collect();
        frames.dedup();
        assert_eq!(
            matching(cap, args, field),
            frames,
            "-Y {field} on {}",
            cap.display()
        );
    }
}

/// The STag lifecycle violations of ONESHOT.md §6 items 1-5, one after the other on one
/// connection. The comments give the frames they show on (the same in every encoding and
/// placement).
const LIFECYCLE: &str = "\
seed 3
conn c1 h1:49152 -> h2:3260 iwarp
# 5-16: a clean 8 KiB write with S = 0x00c0ffee, closed in frame 16
write 8K stag 0xc0ffee
# 17: the target reads S again after its close (item 3)
rdma-read 4K source 0xc0ffee from target
# 23-24: and writes into it (item 3, once for the two-segment message)
rdma-write 2K stag 0xc0ffee from target
# 26: an STag host 1 never advertised, on a connection where it advertises (item 3)
rdma-write 1K stag 0xbad from target
# 27: advertised and left open; 34: advertised again while open (item 4)
write 4K stag 0x1000 fault never-close
write 4K stag 0x1000
# 41: a 4 KiB read left open; 46: 8 KiB more written into it, beyond its EDTL (item 5)
read 4K stag 0x2000 fault never-close
rdma-write 8K stag 0x2000 from target
# 55: a 4 KiB write left open; 62: 8 KiB more read from it, beyond its EDTL (item 5)
write 4K stag 0x3000 fault never-close
rdma-read 8K source 0x3000 from target
# 73-79: no advertise: the Read Request (74) and the close (79) name an unknown STag (items 3, 1)
write 4K fault close-unadvertised
# 80-86: the close names another STag (item 1); 0x00000296 stays open
write 4K fault close-wrong-stag
# 87-93: the close carries another ITT (item 2)
write 4K fault close-wrong-itt
# 95: the target's FIN: what it never closed leaks (item 4)
";

fn lifecycle_findings() -> Vec<Finding> {
    let e = "error";
    let w = "warning";
    vec![
        finding(
            17,
            "oneshot.expert.use_after_close",
            e,
            "RDMA Read Request uses STag 0x00c0ffee, closed in frame 16 (advertised in frame 5, ITT 0xadb1)",
        ),
        finding(
            23,
            "oneshot.expert.use_after_close",
            e,
            "RDMA Write uses STag 0x00c0ffee, closed in frame 16 (advertised in frame 5, ITT 0xadb1)",
        ),
        finding(
            26,
            "oneshot.expert.use_before_advertise",
            e,
            "RDMA Write uses STag 0x00000bad, which the peer has not advertised",
        ),
        finding(
            34,
            "oneshot.expert.readvertised",
            w,
            "STag 0x00001000 advertised again (ITT 0xadb3) while still open since frame 27 (ITT 0xadb2)",
        ),
        finding(
            46,
            "oneshot.expert.beyond_edtl",
            w,
            "RDMA Writes into STag 0x00002000 total 5536 octets, beyond the EDTL 4096 of its command (frame 41, ITT 0xadb4)",
        ),
        finding(
            62,
            "oneshot.expert.beyond_edtl",
            w,
            "RDMA Read Requests from STag 0x00003000 ask 12288 octets in all, beyond the EDTL 4096 of its command (frame 55, ITT 0xadb5)",
        ),
        finding(
            74,
            "oneshot.expert.use_before_advertise",
            e,
            "RDMA Read Request uses STag 0x000001fe, which the peer has not advertised",
        ),
        finding(
            79,
            "oneshot.expert.close_unadvertised",
            e,
            "Close of STag 0x000001fe (ITT 0xadb6), which the peer never advertised on this connection",
        ),
        finding(
            86,
            "oneshot.expert.close_unadvertised",
            e,
            "Close of STag 0x00000396 (ITT 0xadb7), which the peer never advertised on this connection",
        ),
        finding(
            93,
            "oneshot.expert.close_wrong_itt",
            e,
            "Close of STag 0x00000352 carries ITT 0x2db8; the advertise in frame 87 carried ITT 0xadb8",
        ),
        finding(
            95,
            "oneshot.expert.leak",
            "note",
            "STag 0x00002000 advertised in frame 41 (ITT 0xadb4) was never closed: its closer sent its FIN here",
        ),
        finding(
            95,
            "oneshot.expert.leak",
            "note",
            "STag 0x00003000 advertised in frame 55 (ITT 0xadb5) was never closed: its closer sent its FIN here",
        ),
        finding(
            95,
            "oneshot.expert.leak",
            "note",
            "STag 0x00000296 advertised in frame 80 (ITT 0xadb7) was never closed: its closer sent its FIN here",
        ),
    ]
}

/// The four wire formats of ONESHOT.md §2: (encoding, placement).
const FORMATS: [(&str, &str); 4] = [
    ("opcode", "rsvdulp"),
    ("opcode", "appended"),
    ("ddp-flags", "rsvdulp"),
    ("ddp-flags", "appended"),
];

/// A script in one wire format.
fn in_format(script: &str, (encoding, placement): (&str, &str)) -> String {
    format!("{HOSTS}profile encoding {encoding} placement {placement}\n{script}")
}

#[test]
fn analysis_finds_each_lifecycle_violation_in_every_encoding_and_placement() {
    let dir = Scratch::new("lifecycle");
    for format in FORMATS {
        let cap = generate(
            &dir,
            &format!("lifecycle-{}-{}", format.0, format.1),
            &in_format(LIFECYCLE, format),
        );
        assert_findings(&cap, &["--placement", format.1], &lifecycle_findings());
    }
}

/// Columns of the `-z oneshot,exchanges` rows and the `-z oneshot,stags` leak lines.
fn stats_lines(cap: &Path, args: &[&str], z: &str, prefix: &str) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["-q", "-z", z]);
    dissect(cap, &all)
        .lines()
        .filter(|l| l.trim_start().starts_with(prefix))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Capture time of a frame, in ns since the first frame.
fn relative_ns(cap: &Path, frame: u64) -> i64 {
    let out = dissect(
        cap,
        &[
            "-Y",
            &format!("frame.number == {frame}"),
            "-T",
            "fields",
            "-e",
            "frame.time_relative",
        ],
    );
    let (s, ns) = out.trim().split_once('.').expect("seconds.nanoseconds");
    s.parse::<i64>().unwrap() * 1_000_000_000 + ns.parse::<i64>().unwrap()
}

#[test]
fn analysis_exchange_table_and_leaks_add_up_to_the_script() {
    let dir = Scratch::new("tables");
    let cap = generate(&dir, "lifecycle", &in_format(LIFECYCLE, FORMATS[0]));
    // Three exchanges completed: the 8 KiB write, the re-advertised 4 KiB write and the 4 KiB
    // write whose close had the wrong ITT (a finding, yet the close of its STag).
    let rows = stats_lines(&cap, &[], "oneshot,exchanges", "0 ");
    let durations: Vec<String> = [(5, 16), (34, 40), (87, 93)]
        .iter()
        .map(|&(a, b)| {
            let ns = relative_ns(&cap, b) - relative_ns(&cap, a);
            format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000)
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            format!("0 0x00c0ffee 0xadb1 write 8192 5 16 {}", durations[0]),
            format!("0 0x00001000 0xadb3 write 4096 34 40 {}", durations[1]),
            format!("0 0x00000352 0xadb8 write 4096 87 93 {}", durations[2]),
        ]
    );
    // The close frame carries the exchange, filterable.
    assert_eq!(
        matching(&cap, &[], "oneshot.exchange.bytes == 8192"),
        vec![16]
    );
    assert_eq!(
        dissect(
            &cap,
            &[
                "-Y",
                "oneshot.exchange",
                "-T",
                "fields",
                "-e",
                "oneshot.exchange.advertise_frame",
                "-e",
                "oneshot.exchange.close_frame",
                "-e",
                "oneshot.exchange.itt",
                "-e",
                "oneshot.exchange.direction",
            ],
        ),
        "5\t16\t0x0000adb1\twrite\n34\t40\t0x0000adb3\twrite\n87\t93\t0x0000adb8\twrite\n"
    );
    // Leaks: the read with 4 KiB + 8 KiB written into it, the write with 4 KiB + 8 KiB read from
    // it, the write whose close named another STag; all reported on the target's FIN.
    let leaks = stats_lines(&cap, &[], "oneshot,stags", "stream ");
    assert_eq!(
        leaks,
        vec![
            "stream 0 STag 0x00002000 advertised in frame 41 (read, ITT 0xadb4), 12288 octets moved; its closer ended the connection in frame 95",
            "stream 0 STag 0x00003000 advertised in frame 55 (write, ITT 0xadb5), 12288 octets moved; its closer ended the connection in frame 95",
            "stream 0 STag 0x00000296 advertised in frame 80 (write, ITT 0xadb7), 4096 octets moved; its closer ended the connection in frame 95",
        ]
    );
    let summary = dissect(&cap, &["-q", "-z", "oneshot,stags"]);
    assert!(summary.contains("Closed: 3\n"), "{summary}");
    assert!(summary.contains("Never closed (leaks): 3\n"), "{summary}");
    // Stopped before the FIN (-c 94), the same STags are still open at the end: listed, but no
    // frame is left to carry a finding.
    let leaks = stats_lines(&cap, &["-c", "94"], "oneshot,stags", "stream ");
    assert_eq!(leaks.len(), 3);
    assert!(
        leaks
            .iter()
            .all(|l| l.ends_with("; open at the end of the capture")),
        "{leaks:?}"
    );
    assert_eq!(
        matching(&cap, &["-c", "94"], "oneshot.expert.leak"),
        Vec::<u64>::new()
    );
}

/// A use before the advertise is only known as such when the advertise comes; a Terminate and
/// a bad CRC show on their frames; TCP loss, reordering, duplication and split FPDUs, on
/// one-shot, conventional and plain Send traffic, show nothing.
const ORDER_AND_FAULTS: &str = "\
seed 4
conn c1 h1:49152 -> h2:3260 iwarp
# 5: the initiator speaks first (RFC 5044 §7.1.2)
send 10
# 6: an RDMA Write into 0x00c0ffee before host 1 said anything one-shot
rdma-write 1K stag 0xc0ffee from target
# 7: the advertise of 0x00c0ffee reveals it
read 4K stag 0xc0ffee
send 100 se
send 100 se fault reorder
send 100 se
# 16-20: a three-segment Send whose first segment is lost and resent after the rest
send 3000 fault loss
send 100
write 8K flow conventional fault reorder
read 8K flow conventional fault loss
write 8K fault duplicate
read 8K fault split 3
write 4K fault crc
terminate from target layer 0 etype 1 code 2
";

#[test]
fn analysis_use_before_advertise_terminate_and_crc_show_and_tcp_faults_do_not() {
    let dir = Scratch::new("faults");
    let want = vec![
        finding(
            7,
            "oneshot.expert.use_before_advertise",
            "error",
            "STag 0x00c0ffee is advertised here (ITT 0x2c61), but the RDMA Write in frame 6 already used it",
        ),
        finding(
            70,
            "iwarp_mpa.expert.bad_crc",
            "error",
            "Bad MPA CRC: 0x65ae85f7, should be 0x65af85f7",
        ),
        finding(
            75,
            "iwarp_rdma.expert.terminate",
            "error",
            "Terminate: layer RDMA etype 1 code 0x02 (Access rights violation)",
        ),
    ];
    for format in FORMATS {
        let cap = generate(
            &dir,
            &format!("faults-{}-{}", format.0, format.1),
            &in_format(ORDER_AND_FAULTS, format),
        );
        let args = ["--placement", format.1];
        assert_findings(&cap, &args, &want);
        // Every one-shot command completed, moving what the script asked.
        let rows = stats_lines(&cap, &args, "oneshot,exchanges", "0 ");
        let moved: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| {
                let c: Vec<&str> = r.split(' ').collect();
                (c[3], c[4])
            })
            .collect();
        assert_eq!(
            moved,
            vec![
                ("read", "4096"),
                ("write", "8192"),
                ("read", "8192"),
                ("write", "4096")
            ],
            "{rows:?}"
        );
    }
}

#[test]
fn analysis_of_the_shipped_faults_capture() {
    let cap = path("captures/faults.pcapng");
    // Before stream-order accounting, the loss in 17-30 made a Read Response look short.
    assert_findings(
        &cap,
        &[],
        &[
            finding(
                7,
                "iwarp_mpa.expert.bad_crc",
                "error",
                "Bad MPA CRC: 0x3bb9489e, should be 0x3bb8489e",
            ),
            finding(
                67,
                "oneshot.expert.close_unadvertised",
                "error",
                "Close of STag 0x0000040c (ITT 0x8f45), which the peer never advertised on this connection",
            ),
            finding(
                79,
                "oneshot.expert.close_wrong_itt",
                "error",
                "Close of STag 0x0000063a carries ITT 0xf46; the advertise in frame 68 carried ITT 0x8f46",
            ),
            finding(
                92,
                "oneshot.expert.stray_bits",
                "error",
                "One-shot bit(s) 0x30 on Send with SE and Advertise: only Send and Send with SE may carry them",
            ),
            finding(
                105,
                "oneshot.expert.leak",
                "note",
                "STag 0x0000050c advertised in frame 56 (ITT 0x8f45) was never closed: its closer sent its FIN here",
            ),
            finding(
                105,
                "oneshot.expert.leak",
                "note",
                "STag 0x00000730 advertised in frame 80 (ITT 0x8f47) was never closed: its closer sent its FIN here",
            ),
        ],
    );
    let rows = stats_lines(&cap, &[], "oneshot,exchanges", "0 ");
    assert_eq!(rows.len(), 6, "{rows:?}");
    assert!(
        rows.iter().all(|r| r.split(' ').nth(4) == Some("8192")),
        "{rows:?}"
    );
}

/// The `write`/`read` sizes of a script's one-shot commands (the shipped scripts declare one
/// connection; on an `iscsi` one, commands default to iSCSI/TCP).
fn oneshot_sizes(script: &str) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    let mut iwarp = true;
    let mut repeats: Vec<usize> = Vec::new();
    for line in script.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            Some(&"repeat") => {
                repeats.push(words[1].parse().unwrap());
                continue;
            }
            Some(&"}") => {
                repeats.pop();
                continue;
            }
            _ => {}
        }
        let (Some(&kw), Some(size)) = (words.first(), words.get(1)) else {
            continue;
        };
        if kw == "conn" {
            iwarp = words.contains(&"iwarp");
        }
        let flow = words
            .iter()
            .position(|w| *w == "flow")
            .and_then(|i| words.get(i + 1));
        let oneshot = match flow {
            Some(f) => *f == "oneshot",
            None => iwarp,
        };
        if !matches!(kw, "write" | "read") || !oneshot {
            continue;
        }
        let n: u64 = match size.strip_suffix('K') {
            Some(k) => k.parse::<u64>().unwrap() * 1024,
            None => size.parse().unwrap(),
        };
        let times: usize = repeats.iter().product();
        v.extend(std::iter::repeat_n((kw.to_string(), n), times));
    }
    v
}

#[test]
fn analysis_finds_nothing_in_clean_captures() {
    // The shipped captures (faults.pcapng excepted), decoded as their sidecars say.
    for entry in std::fs::read_dir(path("captures")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !(name.ends_with(".pcapng") || name.ends_with(".pcap")) || name.starts_with("faults") {
            continue;
        }
        let args: &[&str] = if name.contains("appended") {
            &["--placement", "appended"]
        } else {
            &[]
        };
        let (notes, problems): (Vec<Finding>, Vec<Finding>) = findings(&p, args)
            .into_iter()
            .partition(|f| f.severity == "note");
        assert_eq!(problems, vec![], "{name}");
        if name.starts_with("no-handshake") {
            // The capture starts mid-connection: MPA is found without its handshake, and the
            // closes of STags advertised before the capture began are notes, not errors.
            assert!(
                notes.iter().any(|f| f.field == "iwarp_mpa.heuristic"),
                "{notes:?}"
            );
            assert!(
                notes.iter().all(|f| f.field == "iwarp_mpa.heuristic"
                    || (f.field == "oneshot.expert.close_unadvertised"
                        && f.message.contains("advertise is not in the capture"))),
                "{notes:?}"
            );
        } else {
            assert_eq!(notes, vec![], "{name}");
        }
        // Each one-shot command of its script is one exchange, moving its size.
        let script = p.with_extension("os");
        if let Ok(text) = std::fs::read_to_string(&script) {
            let mut want = oneshot_sizes(&text);
            want.sort();
            // Rows of every connection: "stream 0xSTAG ITT dir bytes …".
            let rows: Vec<String> = stats_lines(&p, args, "oneshot,exchanges", "")
                .into_iter()
                .filter(|r| {
                    let mut c = r.split(' ');
                    c.next().is_some_and(|s| s.parse::<u64>().is_ok())
                        && c.next().is_some_and(|s| s.starts_with("0x"))
                })
                .collect();
            let mut got: Vec<(String, u64)> = rows
                .iter()
                .map(|r| {
                    let c: Vec<&str> = r.split(' ').collect();
                    (c[3].to_string(), c[4].parse().unwrap())
                })
                .collect();
            got.sort();
            if text.contains("\ncapture from ") {
                // Exchanges whose advertise precedes the capture are not exchanges here.
                assert!(!got.is_empty(), "{name}");
                assert!(got.iter().all(|g| want.contains(g)), "{name}: {rows:?}");
            } else {
                assert_eq!(got, want, "{name}: {rows:?}");
            }
            assert_eq!(
                stats_lines(&p, args, "oneshot,stags", "stream "),
                Vec::<String>::new(),
                "{name}"
            );
        }
    }
    // The built-in scenarios, conventional and one-shot side by side.
    let dir = Scratch::new("clean");
    for (scenario, args) in [
        ("compare", &[][..]),
        ("markers", &[][..]),
        ("oneshot-ddp-flags", &["--placement", "appended"][..]),
        ("conventional-write", &[][..]),
        ("conventional-read", &[][..]),
    ] {
        let cap = dir.join(&format!("{scenario}.pcap"));
        let out = Command::new(gen_binary())
            .args(["--scenario", scenario, "-q", "-w"])
            .arg(&cap)
            .output()
            .unwrap();
        assert!(out.status.success(), "{scenario}");
        assert_eq!(findings(&cap, args), vec![], "{scenario}");
    }
}

#[test]
fn analysis_info_column_of_one_shot_frames() {
    let dir = Scratch::new("info");
    for format in FORMATS {
        let cap = generate(
            &dir,
            &format!("info-{}-{}", format.0, format.1),
            &in_format(
                "seed 9\nconn c1 h1:49152 -> h2:3260 iwarp\nwrite 64K stag 0xc0ffee\n",
                format,
            ),
        );
        let args = ["--placement", format.1];
        let itts = dissect(
            &cap,
            &[
                &args[..],
                &[
                    "-Y",
                    "oneshot",
                    "-T",
                    "fields",
                    "-e",
                    "frame.number",
                    "-e",
                    "iscsi.initiatortasktag",
                ],
            ]
            .concat(),
        );
        let rows: Vec<(u64, u32)> = itts
            .lines()
            .map(|l| {
                let (f, itt) = l.split_once('\t').unwrap();
                (
                    f.parse().unwrap(),
                    u32::from_str_radix(itt.trim_start_matches("0x"), 16).unwrap(),
                )
            })
            .collect();
        assert_eq!(rows.len(), 2, "{format:?}: advertise and close");
        let (adv, itt) = rows[0];
        let (close, close_itt) = rows[1];
        assert_eq!(itt, close_itt);
        let lines = dissect(&cap, &args);
        let line = |n: u64| {
            lines
                .lines()
                .find(|l| l.split_whitespace().next() == Some(&n.to_string()))
                .unwrap()
                .to_string()
        };
        // The issue's example: Send SE+Advertise S=0x00c0ffee MSN=1 [iSCSI SCSI Command W
        // ITT=0x10 EDTL=65536].
        let want = format!(
            "49152 > 3260 Send SE+Advertise S=0x00c0ffee MSN=1 [iSCSI SCSI Command W ITT=0x{itt:x} EDTL=65536]"
        );
        assert!(
            line(adv).ends_with(&want),
            "{format:?}\n{}\n{want}",
            line(adv)
        );
        assert!(line(adv).contains(" one-shot "), "{}", line(adv));
        let want = format!(
            "3260 > 49152 Send SE+Close S=0x00c0ffee MSN=1 [iSCSI SCSI Response ITT=0x{itt:x} status=0x00]"
        );
        assert!(
            line(close).ends_with(&want),
            "{format:?}\n{}\n{want}",
            line(close)
        );
    }
}
