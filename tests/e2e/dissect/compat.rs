//! tshark compatibility, issue #4's acceptance test: tshark 4.0 and oneshot-dissect on every
//! capture in captures/, `-T fields` with every field both know in frame, eth, ip, ipv6, tcp,
//! iwarp_mpa, iwarp_ddp, iwarp_rdma and data: the registry's rows that are not ours
//! (`FieldDef::ours == false`), except `frame.protocols` (we name layers tshark does not have:
//! oneshot, iser over iWARP) and `_ws.*`.
//!
//! Each capture is read twice:
//! - **plain**: ours with `--disable-protocol oneshot,iser,iscsi`, tshark with
//!   `--disable-protocol iscsi`, so that both show ULP payloads as `data`. On the standard captures
//!   the two outputs must be byte-identical.
//! - **default**: both as they come. Identical except `data.*`: we decode the iSCSI, iSER and
//!   one-shot payloads that tshark shows as data.
//!
//! On the captures where tshark itself breaks ([`TSHARK_BREAKS`]; their sidecars say how; WIRE.md
//! §5): L2–L4 fields are compared fully, except the TCP reassembly fields (`tcp.segment*`,
//! `tcp.reassembled*`, `tcp.pdu.*`), which follow the PDU boundaries of the layer above and so
//! tshark's mistakes there; iWARP fields are compared one-sidedly (every value tshark prints in a
//! frame, we print too, in the same order); `data.*` the same, in the frames where tshark decoded
//! MPA. And we must decode the FPDUs tshark misses: both are counted.

use oneshot_dissect::field::FIELDS;
use oneshot_tests::{path, run_tshark, tshark_available};

use super::{capture, ok};

/// The layers compared (the part of a field name before its first dot).
const LAYERS: &[&str] = &[
    "frame",
    "eth",
    "ip",
    "ipv6",
    "tcp",
    "iwarp_mpa",
    "iwarp_ddp",
    "iwarp_ddp_rdmap",
    "iwarp_rdma",
    "data",
];

/// L2–L4: compared fully everywhere.
const L2L4: &[&str] = &["frame", "eth", "ip", "ipv6", "tcp"];

/// TCP fields that follow the framing of the layer above (not compared where tshark's framing is
/// wrong).
const FRAMING: &[&str] = &["tcp.segment", "tcp.reassembled", "tcp.pdu."];

/// Captures tshark 4.0 cannot decode completely, with the FPDUs tshark decodes and the FPDUs
/// their scripts put on the wire, counted by hand from the scripts.
const TSHARK_BREAKS: &[(&str, usize, usize)] = &[
    // 8 writes × (advertise, Read Request, 3 Read Responses, close); tshark decodes none
    // (markers with several FPDUs per segment, WIRE.md §5.5 (b)).
    ("markers.pcapng", 0, 48),
    // 8 writes × (advertise, Read Request, 6 Read Responses, close); tshark loses h1→h2 at the
    // split of frame 45 and skips the out-of-order frame 34.
    ("faults.pcapng", 37, 72),
    // c1: 2 Read Responses + close + advertise + 3 Writes + close = 8; c3: 3 Read Responses +
    // close + advertise + 3 Writes + close = 9; c2 has no CRC, which the heuristic does not guess.
    // tshark needs the MPA handshake (§5.9).
    ("no-handshake.pcapng", 0, 17),
    // 2 writes × 6 + 2 reads × (advertise, 3 Writes, close); tshark assumes markers both ways.
    ("markers-asymmetric.pcapng", 2, 22),
    // 2 writes of 2 KiB × (advertise, Read Request, 2 Read Responses, close); tshark loses h1→h2
    // at the 1-octet segments.
    ("split-length.pcapng", 6, 10),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Default,
}

/// The field list, from the registry.
fn compared_fields() -> Vec<&'static str> {
    FIELDS
        .iter()
        .filter(|d| !d.ours)
        .map(|d| d.abbrev)
        .filter(|a| {
            let layer = a.split('.').next().unwrap_or("");
            LAYERS.contains(&layer) && *a != "frame.protocols"
        })
        .collect()
}

fn layer(name: &str) -> &str {
    name.split('.').next().unwrap_or("")
}

fn starts(name: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| name.starts_with(p))
}

/// `small` is a subsequence of `big`, both comma-separated occurrence lists.
fn subsequence(small: &str, big: &str) -> bool {
    let mut it = big.split(',');
    small.split(',').all(|s| it.any(|b| b == s))
}

fn short(s: &str) -> String {
    if s.chars().count() > 64 {
        format!("{}…", s.chars().take(64).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Differences found in one comparison.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
}

/// Compares tshark's and our `-T fields` output of one capture in one mode.
#[allow(clippy::too_many_arguments)]
fn compare(
    file: &str,
    mode: Mode,
    names: &[&str],
    theirs: &str,
    ours: &str,
    broken: bool,
    report: &mut Report,
) {
    let t: Vec<Vec<&str>> = theirs.lines().map(|l| l.split('\t').collect()).collect();
    let o: Vec<Vec<&str>> = ours.lines().map(|l| l.split('\t').collect()).collect();
    if t.len() != o.len() {
        report.failures.push(format!(
            "{file} [{mode:?}]: tshark printed {} frames, we printed {}",
            t.len(),
            o.len()
        ));
        return;
    }
    let mpa = names
        .iter()
        .position(|n| *n == "iwarp_mpa")
        .expect("iwarp_mpa");
    for (i, (tr, or)) in t.iter().zip(&o).enumerate() {
        let frame = i + 1;
        if tr.len() != names.len() || or.len() != names.len() {
            report.failures.push(format!(
                "{file} [{mode:?}] frame {frame}: {} columns from tshark, {} from us, {} fields",
                tr.len(),
                or.len(),
                names.len()
            ));
            continue;
        }
        for (j, name) in names.iter().enumerate() {
            let (tv, ov) = (tr[j], or[j]);
            if tv == ov {
                continue;
            }
            let data = layer(name) == "data";
            if data && mode == Mode::Default {
                continue;
            }
            let agrees = if !broken {
                false
            } else if L2L4.contains(&layer(name)) {
                starts(name, FRAMING)
            } else if data && tr[mpa].is_empty() {
                true
            } else {
                tv.is_empty() || subsequence(tv, ov)
            };
            if agrees {
                continue;
            }
            let line = format!(
                "{file} [{mode:?}] frame {frame}, {name}: tshark {:?}, ours {:?}",
                short(tv),
                short(ov)
            );
            report.failures.push(line);
        }
    }
}

/// How many FPDUs a `-T fields` output decodes: occurrences of `iwarp_rdma.opcode`.
fn fpdus(names: &[&str], text: &str) -> usize {
    let c = names
        .iter()
        .position(|n| *n == "iwarp_rdma.opcode")
        .expect("iwarp_rdma.opcode");
    text.lines()
        .map(|l| l.split('\t').nth(c).unwrap_or(""))
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').count())
        .sum()
}

#[test]
fn dissect_agrees_with_tshark_on_every_capture() {
    if !tshark_available("dissect_agrees_with_tshark_on_every_capture") {
        return;
    }
    let names = compared_fields();
    // The registry has tshark's iWARP fields and the L2-L4 ones the dissector fills.
    assert!(names.len() > 150, "{} fields", names.len());
    for must in [
        "iwarp_ddp.msn",
        "iwarp_rdma.srcstag",
        "tcp.seq",
        "data.data",
    ] {
        assert!(names.contains(&must), "{must}");
    }
    let mut files: Vec<String> = std::fs::read_dir(path("captures"))
        .expect("captures/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            (name.ends_with(".pcap") || name.ends_with(".pcapng")).then_some(name)
        })
        .collect();
    files.sort();
    for (b, _, _) in TSHARK_BREAKS {
        assert!(files.iter().any(|f| f == b), "captures/{b} is missing");
    }
    assert!(files.len() >= 15, "{files:?}");

    let mut report = Report::default();
    let mut counts = Vec::new();
    for file in &files {
        let cap = capture(file);
        let broken = TSHARK_BREAKS.iter().find(|(b, _, _)| b == file);
        for mode in [Mode::Plain, Mode::Default] {
            let mut targs = vec!["-r", cap.as_str(), "-T", "fields"];
            let mut oargs = targs.clone();
            if mode == Mode::Plain {
                targs.extend(["--disable-protocol", "iscsi"]);
                oargs.extend(["--disable-protocol", "oneshot,iser,iscsi"]);
            }
            for n in &names {
                targs.extend(["-e", n]);
                oargs.extend(["-e", n]);
            }
            let theirs = run_tshark(&targs);
            let ours = ok(&oargs);
            compare(
                file,
                mode,
                &names,
                &theirs,
                &ours,
                broken.is_some(),
                &mut report,
            );
            if mode == Mode::Plain {
                counts.push((file.clone(), fpdus(&names, &theirs), fpdus(&names, &ours)));
            }
        }
    }
    let n = report.failures.len();
    assert!(
        n == 0,
        "tshark and oneshot-dissect disagree in {n} places (field, frame, tshark's value, ours):\n{}{}",
        report
            .failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        if n > 60 {
            format!("\n… and {} more", n - 60)
        } else {
            String::new()
        }
    );
    // Where tshark breaks, we decode what it misses; elsewhere we decode what it decodes.
    for (file, theirs, ours) in &counts {
        match TSHARK_BREAKS.iter().find(|(b, _, _)| b == file) {
            Some((_, t, o)) => {
                assert_eq!(
                    (*theirs, *ours),
                    (*t, *o),
                    "{file}: FPDUs decoded by (tshark, us)"
                );
                assert!(ours > theirs);
            }
            None => assert_eq!(ours, theirs, "{file}: FPDUs decoded"),
        }
    }
    // Every standard iWARP capture has FPDUs to compare.
    assert!(
        counts
            .iter()
            .filter(|(f, _, _)| !f.starts_with("iscsi-tcp"))
            .all(|(_, _, o)| *o > 0),
        "{counts:?}"
    );
}

/// `-E` (occurrence, aggregator, separator, quote, header) prints what tshark prints, on captures
/// with repeated fields (a segment carrying two FPDUs).
#[test]
fn field_options_print_like_tsharks() {
    if !tshark_available("field_options_print_like_tsharks") {
        return;
    }
    let fields = [
        "frame.number",
        "tcp.option_kind",
        "iwarp_rdma.opcode",
        "iwarp_ddp.msn",
        "ip.src",
        "tcp.seq",
        "tcp.option_len",
    ];
    let options: [&[&str]; 5] = [
        &[],
        &["-E", "occurrence=f"],
        &["-E", "occurrence=l", "-E", "quote=d", "-E", "header=y"],
        &["-E", "occurrence=a", "-E", "quote=s"],
        &["-E", "aggregator=/s", "-E", "separator=,"],
    ];
    for file in ["conventional-read.pcapng", "oneshot-read.pcapng"] {
        let cap = capture(file);
        let mut all_values = String::new();
        for opts in options {
            let mut args = vec!["-r", cap.as_str(), "-T", "fields"];
            for f in fields {
                args.extend(["-e", f]);
            }
            args.extend(opts);
            let theirs = run_tshark(&args);
            let ours = ok(&args);
            assert_eq!(ours, theirs, "{file} {opts:?}");
            if opts.is_empty() {
                all_values = ours;
            } else {
                // Each option changes what is printed (else the comparison proves little).
                assert_ne!(ours, all_values, "{file} {opts:?}");
            }
        }
        // Repeated values are there to choose from: a segment with two FPDUs.
        assert!(
            all_values.lines().any(|l| l.contains(',')),
            "{file}: no repeated field"
        );
        // Ours also takes a number (tshark 4.0 only f, l and a): the N-th of each column's values.
        for n in [1, 2] {
            let occurrence = format!("occurrence={n}");
            let mut args = vec!["-r", cap.as_str(), "-T", "fields", "-E", &occurrence];
            for f in fields {
                args.extend(["-e", f]);
            }
            let nth: Vec<String> = all_values
                .lines()
                .map(|l| {
                    l.split('\t')
                        .map(|v| v.split(',').nth(n - 1).unwrap_or(""))
                        .collect::<Vec<_>>()
                        .join("\t")
                })
                .collect();
            assert_eq!(
                ok(&args).lines().collect::<Vec<_>>(),
                nth,
                "{file} {occurrence}"
            );
        }
    }
}
