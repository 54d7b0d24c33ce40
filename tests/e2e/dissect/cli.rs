//! The CLI's promises: exit codes, one-line errors that name the file and byte offset after
//! every packet before the damage has been printed, standard input, `-c`, `-q`, filter and
//! field-name errors with a caret and a suggestion, `-G fields`, colours, the progress bar, and
//! the `-z` tables.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use oneshot_tests::{Scratch, run_tshark, tshark_available};

use super::{bin, capture, ok, run, run_with};

/// A path as the CLI takes it.
fn path_str(p: PathBuf) -> String {
    p.to_str().expect("a UTF-8 path").to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("UTF-8")
}

/// Summary lines: one per frame, starting with its number.
fn frame_numbers(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .map(|l| {
            l.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a summary line: {l:?}"))
        })
        .collect()
}

/// Byte offsets of the blocks of a little-endian pcapng file, with their types.
fn pcapng_blocks(bytes: &[u8]) -> Vec<(usize, u32, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let t = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((at, t, len));
        at += len;
    }
    out
}

/// Byte offsets of the packet records of a little-endian pcap file.
fn pcap_records(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        out.push(at);
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + incl;
    }
    out
}

/// Exit code 2 and one line on standard error that holds every one of `needles`.
fn assert_error(out: &std::process::Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit code; stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    for n in needles {
        assert!(err.contains(n), "{n:?} in {err:?}");
    }
}

#[test]
fn dissect_cli_exit_codes() {
    let cap = capture("oneshot-write.pcapng");
    // 0: frames printed.
    let out = run(&["-r", &cap]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        frame_numbers(&text(&out.stdout)),
        (1..=28).collect::<Vec<_>>()
    );
    // 0: the filter matched.
    let out = run(&["-r", &cap, "-Y", "iwarp_mpa.req"]);
    assert_eq!(
        (out.status.code(), frame_numbers(&text(&out.stdout))),
        (Some(0), vec![3])
    );
    // 1: the filter matched nothing (with -q too).
    for extra in [&[][..], &["-q"][..]] {
        let mut args = vec!["-r", cap.as_str(), "-Y", "tcp.port == 1"];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
    // 2: errors, each one line naming what is wrong.
    assert_error(&run(&["-r", "no/such.pcapng"]), &["no/such.pcapng"]);
    assert_error(&run(&["-r", &cap, "-T", "bogus"]), &["-T bogus"]);
    assert_error(
        &run(&["-r", &cap, "-d", "tcp.port==x,mpa"]),
        &["-d tcp.port==x,mpa", "tcp.port==N,mpa"],
    );
    assert_error(&run(&["-r", &cap, "-z", "bogus"]), &["-z bogus", "io,phs"]);
    assert_error(&run(&[]), &["-r FILE"]);
}

/// A damaged file: every packet before the damage is printed, then one line on standard error
/// names the file and the byte offset of the damaged record or block, and the exit code is 2.
#[test]
fn dissect_cli_damaged_captures_name_file_and_offset() {
    let dir = Scratch::new("damaged");
    // pcapng cut inside its last Enhanced Packet Block.
    let good = std::fs::read(capture("oneshot-write.pcapng")).unwrap();
    let blocks = pcapng_blocks(&good);
    let epbs: Vec<usize> = blocks.iter().filter(|b| b.1 == 6).map(|b| b.0).collect();
    assert_eq!(epbs.len(), 28);
    let last = epbs[27];
    let cut = path_str(dir.write("cut.pcapng", &good[..last + 30]));
    let out = run(&["-r", &cut]);
    assert_eq!(
        frame_numbers(&text(&out.stdout)),
        (1..=27).collect::<Vec<_>>()
    );
    assert_error(&out, &[&cut, &format!("byte {last}"), "truncated"]);
    // The same from standard input.
    let bytes = std::fs::read(&cut).unwrap();
    let out = run_with(&["-r", "-"], Some(&bytes), &[]);
    assert_eq!(frame_numbers(&text(&out.stdout)).len(), 27);
    assert_error(&out, &["standard input", &format!("byte {last}")]);

    // A block whose two length fields disagree (the 10th packet's).
    let mut bad = good.clone();
    let (at, _, len) = *blocks.iter().filter(|b| b.1 == 6).nth(9).unwrap();
    let trailer = at + len - 4;
    bad[trailer..trailer + 4].copy_from_slice(&(len as u32 + 4).to_le_bytes());
    let corrupt = path_str(dir.write("corrupt.pcapng", &bad));
    let out = run(&["-r", &corrupt]);
    assert_eq!(
        frame_numbers(&text(&out.stdout)),
        (1..=9).collect::<Vec<_>>()
    );
    assert_error(&out, &[&corrupt, &format!("byte {at}")]);

    // pcap cut inside its last record.
    let pcap = std::fs::read(capture("codec-sample.pcap")).unwrap();
    let records = pcap_records(&pcap);
    assert_eq!(records.len(), 13);
    let cut = path_str(dir.write("cut.pcap", &pcap[..pcap.len() - 10]));
    let out = run(&["-r", &cut]);
    assert_eq!(
        frame_numbers(&text(&out.stdout)),
        (1..=12).collect::<Vec<_>>()
    );
    assert_error(&out, &[&cut, &format!("byte {}", records[12])]);

    // Not a capture at all.
    let junk = path_str(dir.write("junk.pcap", b"this is not a capture file"));
    let out = run(&["-r", &junk]);
    assert!(out.stdout.is_empty());
    assert_error(&out, &[&junk, "byte 0"]);
}

#[test]
fn dissect_cli_reads_standard_input_and_stops_after_c_packets() {
    let cap = capture("markers.pcapng");
    let from_file = ok(&["-r", &cap]);
    let bytes = std::fs::read(&cap).unwrap();
    let out = run_with(&["-r", "-"], Some(&bytes), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), from_file);
    // -c counts packets read, whether displayed or not.
    let first3: String = from_file
        .lines()
        .take(3)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(ok(&["-r", &cap, "-c", "3"]), first3);
    let out = ok(&["-r", &cap, "-c", "6", "-Y", "iwarp_mpa"]);
    assert_eq!(frame_numbers(&out), [3, 4, 5, 6]);
    let out = run_with(&["-r", "-", "-c", "2"], Some(&bytes), &[]);
    assert_eq!(frame_numbers(&text(&out.stdout)), [1, 2]);
    // -q prints no frame, but statistics still.
    assert_eq!(ok(&["-r", &cap, "-q"]), "");
    let z = ok(&["-r", &cap, "-q", "-z", "oneshot,stags"]);
    assert!(z.contains("FPDUs: 48, bad CRCs: 0"), "{z}");
    assert_eq!(
        ok(&["-r", &cap, "-q", "-T", "fields", "-e", "frame.number"]),
        ""
    );
}

/// Filter errors point at the column, with a caret under it, and suggest the field meant.
#[test]
fn dissect_cli_filter_and_field_errors_point_and_suggest() {
    let cap = capture("oneshot-write.pcapng");
    for (filter, column, needle) in [
        ("iwarp_rdma.opcode==", 20, "expected a value"),
        ("iwarp_rdma.opcod == 1", 1, "did you mean iwarp_rdma.opcode"),
        (
            "tcp.port == 1 && iwarp_ddp.msm == 2",
            18,
            "did you mean iwarp_ddp.msn",
        ),
    ] {
        let out = run(&["-r", &cap, "-Y", filter]);
        assert_eq!(out.status.code(), Some(2), "{filter}");
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 3, "message, filter, caret: {err}");
        assert!(lines[0].contains(&format!("column {column}")), "{err}");
        assert!(lines[0].contains(needle), "{err}");
        // The caret sits under the column, in the filter as echoed.
        let echo_at = lines[1].find(filter).expect("the filter echoed");
        assert_eq!(lines[2].trim_end().len(), echo_at + column, "{err}");
        assert!(lines[2].trim_end().ends_with('^'), "{err}");
    }
    let out = run(&["-r", &cap, "-T", "fields", "-e", "iwarp_ddp.msm"]);
    assert_error(
        &out,
        &[
            "-e iwarp_ddp.msm",
            "did you mean iwarp_ddp.msn",
            "-G fields",
        ],
    );
    assert!(out.stdout.is_empty());
}

/// `-G fields` lists every field in tshark's glossary format: `F`, name, filter name, type,
/// parent, base, mask, description; protocols as `P`, name, filter name.
#[test]
fn dissect_cli_glossary_lists_our_fields_in_tsharks_format() {
    let g = ok(&["-G", "fields"]);
    let rows: BTreeMap<&str, Vec<&str>> = g
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            match cols[0] {
                "F" => assert_eq!(cols.len(), 8, "{l:?}"),
                "P" => assert_eq!(cols.len(), 3, "{l:?}"),
                _ => panic!("{l:?}"),
            }
            (cols[2], cols)
        })
        .collect();
    for (abbrev, ftype, parent) in [
        ("oneshot", "", ""),
        ("oneshot.stag", "FT_UINT32", "oneshot"),
        ("oneshot.op", "FT_STRING", "oneshot"),
        ("oneshot.exchange.bytes", "FT_UINT64", "oneshot"),
        ("oneshot.expert.leak", "FT_NONE", "oneshot"),
        ("iser.write_stag", "FT_UINT32", "iser"),
        ("iscsi.initiatortasktag", "FT_UINT32", "iscsi"),
        ("iwarp_mpa.crc_status", "FT_UINT8", "iwarp_mpa"),
        ("iwarp_mpa.ird", "FT_UINT16", "iwarp_mpa"),
        ("iwarp_mpa.ord", "FT_UINT16", "iwarp_mpa"),
        ("iwarp_mpa.peer_to_peer", "FT_BOOLEAN", "iwarp_mpa"),
        ("iwarp_rdma.immediate", "FT_UINT64", "iwarp_ddp_rdmap"),
    ] {
        let r = rows
            .get(abbrev)
            .unwrap_or_else(|| panic!("-G fields lacks {abbrev}"));
        if ftype.is_empty() {
            assert_eq!(r[0], "P", "{abbrev}");
        } else {
            assert_eq!((r[0], r[3], r[4]), ("F", ftype, parent), "{abbrev}");
        }
    }
    assert_eq!(rows["oneshot.stag"][5], "BASE_HEX");
    assert_eq!(rows["iwarp_mpa.ird"][6], "0x3fff");
    // Every iWARP row tshark prints, we print the same.
    if !tshark_available("dissect_cli_glossary_lists_our_fields_in_tsharks_format") {
        return;
    }
    let theirs = run_tshark(&["-G", "fields"]);
    let mut n = 0;
    for l in theirs.lines() {
        let cols: Vec<&str> = l.split('\t').collect();
        if cols.len() < 3 || !cols[2].starts_with("iwarp_") {
            continue;
        }
        let ours = rows
            .get(cols[2])
            .unwrap_or_else(|| panic!("-G fields lacks {}", cols[2]));
        assert_eq!(ours.join("\t"), l);
        n += 1;
    }
    assert_eq!(n, 96, "tshark 4.0.17's iwarp_mpa and iwarp_ddp_rdmap rows");
}

fn has_ansi(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"\x1b[")
}

/// Runs `shell` under `script`, whose pseudo-terminal stands for the user's terminal. None when
/// `script` (util-linux) is not installed.
fn on_a_terminal(shell: &str, env: &[(&str, &str)]) -> Option<Vec<u8>> {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", shell, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) if out.status.success() => Some(out.stdout),
        Ok(out) => panic!(
            "script -c {shell:?}: {:?} {}",
            out.status.code(),
            text(&out.stderr)
        ),
        Err(_) => {
            eprintln!("SKIPPED the terminal half of this test: `script` (util-linux) is missing");
            None
        }
    }
}

#[test]
fn dissect_cli_colours_only_when_asked_or_on_a_terminal() {
    let cap = capture("faults.pcapng");
    let args = ["-r", cap.as_str(), "-c", "10"];
    let plain = run(&args);
    assert!(!has_ansi(&plain.stdout), "a pipe is not a terminal");
    let always = run(&[&args[..], &["--color", "always"]].concat());
    assert!(has_ansi(&always.stdout));
    let always_no_color = run_with(
        &[&args[..], &["--color", "always"]].concat(),
        None,
        &[("NO_COLOR", "1")],
    );
    assert!(has_ansi(&always_no_color.stdout), "always beats NO_COLOR");
    let never = run(&[&args[..], &["--color", "never"]].concat());
    assert!(!has_ansi(&never.stdout));
    // Stripped of colour, the text is the same.
    let strip = |b: &[u8]| -> String {
        let s = text(b);
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\x1b' {
                for d in it.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(strip(&always.stdout), text(&plain.stdout));
    let cmd = format!("{} -r {cap} -c 10", bin().display());
    if let Some(tty) = on_a_terminal(&cmd, &[]) {
        assert!(has_ansi(&tty), "auto colours a terminal");
        let tty = on_a_terminal(&cmd, &[("NO_COLOR", "1")]).unwrap();
        assert!(!has_ansi(&tty), "NO_COLOR");
    }
}

/// A capture over 64 MiB: 46 303 TCP segments of 1454 octets, written directly.
fn big_capture(dir: &Scratch) -> String {
    let mut frame = Vec::new();
    frame.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let ip_len: u16 = 20 + 20 + 1400;
    frame.extend_from_slice(&[
        0x45,
        0,
        (ip_len >> 8) as u8,
        ip_len as u8,
        0,
        1,
        0,
        0,
        64,
        6,
    ]);
    frame.extend_from_slice(&[0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    frame.extend_from_slice(&[0xc0, 0x00, 0x0c, 0xbc, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10]);
    frame.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    frame.resize(14 + usize::from(ip_len), 0x5a);
    let mut pcap = Vec::with_capacity(70 << 20);
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&[2, 0, 4, 0]);
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&65535u32.to_le_bytes());
    pcap.extend_from_slice(&1u32.to_le_bytes());
    let n = (65 << 20) / (frame.len() + 16) + 1;
    for i in 0..n {
        pcap.extend_from_slice(&(i as u32).to_le_bytes());
        pcap.extend_from_slice(&0u32.to_le_bytes());
        pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        pcap.extend_from_slice(&frame);
    }
    assert!(pcap.len() > 64 << 20);
    path_str(dir.write("big.pcap", &pcap))
}

/// The progress bar is drawn on standard error, for long files, only when standard error is a
/// terminal and standard output is not.
#[test]
fn dissect_cli_progress_bar_only_on_a_terminal() {
    let dir = Scratch::new("progress");
    let big = big_capture(&dir);
    let out = run(&["-r", &big, "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "stderr is a pipe: no bar");
    let b = bin().display().to_string();
    // Standard error on the terminal, standard output to a file: the bar is drawn.
    if let Some(tty) = on_a_terminal(&format!("{b} -r {big} -q > /dev/null"), &[]) {
        let t = String::from_utf8_lossy(&tty);
        assert!(t.contains("MiB"), "a bar with sizes: {t:?}");
        // Standard error to a file: nothing there, nothing on the terminal.
        let err = dir.join("err.txt");
        let tty = on_a_terminal(
            &format!("{b} -r {big} -q > /dev/null 2> {}", err.display()),
            &[],
        )
        .unwrap();
        assert!(tty.is_empty(), "{:?}", String::from_utf8_lossy(&tty));
        assert_eq!(std::fs::read(&err).unwrap(), b"");
        // --no-progress on the terminal: no bar.
        let tty = on_a_terminal(&format!("{b} -r {big} -q --no-progress > /dev/null"), &[]);
        assert!(tty.unwrap().is_empty());
    }
}

/// `-z expert` in tshark's layout: sections by severity, a frequency, group, protocol and
/// summary per row in tshark's columns.
#[test]
fn dissect_cli_z_expert_has_tsharks_layout() {
    let cap = capture("faults.pcapng");
    let ours = ok(&["-r", &cap, "-q", "-z", "expert"]);
    // The CRC fault of write #1 is an error (tshark has no expert item for it, WIRE.md §5.6).
    assert!(
        ours.lines()
            .any(|l| l.starts_with("           1   Checksum          IWARP_MPA  Bad MPA CRC")),
        "{ours}"
    );
    // Section titles, counts and columns.
    let header = "   Frequency      Group           Protocol  Summary";
    let mut sections = 0;
    let lines: Vec<&str> = ours.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if let Some(title) = ["Errors", "Warns", "Notes", "Chats", "Comments"]
            .iter()
            .find(|t| l.starts_with(&format!("{t} (")))
        {
            sections += 1;
            let n: usize = l[title.len() + 2..l.len() - 1].parse().expect("a count");
            assert_eq!(lines[i + 1], "=============");
            assert_eq!(lines[i + 2], header);
            let mut sum = 0;
            i += 3;
            while i < lines.len() && !lines[i].is_empty() {
                let r = lines[i];
                assert!(r.len() > 44 && r.is_char_boundary(44), "{r:?}");
                sum += r[..12].trim_start().parse::<usize>().expect("a frequency");
                assert_eq!(&r[12..13], " ");
                assert!(
                    !r[13..23].trim().is_empty() && r.as_bytes()[22] != b' ',
                    "{r:?}"
                );
                assert_eq!(&r[23..24], " ");
                assert!(r.as_bytes()[41] != b' ' && &r[42..44] == "  ", "{r:?}");
                i += 1;
            }
            assert_eq!(sum, n, "{title}");
        } else {
            i += 1;
        }
    }
    assert!(sections >= 1, "{ours}");
    if tshark_available("dissect_cli_z_expert_has_tsharks_layout") {
        let theirs = run_tshark(&["-r", &cap, "-q", "-z", "expert"]);
        assert!(
            theirs.lines().any(|l| l == header),
            "tshark's header: {theirs}"
        );
        assert!(theirs.lines().any(|l| l == "============="));
    }
}

/// `-z io,phs`: tshark's table. With the ULPs tshark does not know switched off, the content is
/// shared, and on captures with at most one PDU per frame it is byte for byte tshark's.
#[test]
fn dissect_cli_z_io_phs_matches_tshark() {
    let ours = ok(&["-r", &capture("oneshot-write.pcapng"), "-q", "-z", "io,phs"]);
    assert!(
        ours.contains("Protocol Hierarchy Statistics\nFilter: \n"),
        "{ours}"
    );
    assert!(
        ours.contains("\n          iwarp_ddp_rdmap                frames:15 bytes:17630\n"),
        "{ours}"
    );
    assert!(
        ours.contains("            iscsi "),
        "iSCSI under iWARP: {ours}"
    );
    if !tshark_available("dissect_cli_z_io_phs_matches_tshark") {
        return;
    }
    for file in [
        "oneshot-write.pcapng",
        "conventional-write.pcapng",
        "iscsi-tcp-write.pcapng",
        "iscsi-tcp-read.pcapng",
    ] {
        let cap = capture(file);
        let theirs = run_tshark(&[
            "-r",
            &cap,
            "-q",
            "-z",
            "io,phs",
            "--disable-protocol",
            "iscsi",
        ]);
        let ours = ok(&[
            "-r",
            &cap,
            "-q",
            "-z",
            "io,phs",
            "--disable-protocol",
            "oneshot,iser,iscsi",
        ]);
        assert_eq!(ours, theirs, "{file}");
    }
}

/// `-z oneshot,exchanges` and `-z oneshot,stags`: the exchanges the scripts ran, and the STags
/// they left open.
#[test]
fn dissect_cli_z_oneshot_tables() {
    let out = ok(&[
        "-r",
        &capture("oneshot-write.pcapng"),
        "-q",
        "-z",
        "oneshot,exchanges",
        "-z",
        "oneshot,stags",
    ]);
    // One 16 KiB write, advertised in frame 5 (S=0x00000139, ITT 0xcdf1) and closed in frame 25,
    // as the capture's comments say.
    assert!(
        out.contains("One-shot exchanges (advertise → data → close): 1\n"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.contains("0x00000139"))
        .unwrap_or_else(|| panic!("{out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        &cols[..7],
        ["0", "0x00000139", "0xcdf1", "write", "16384", "5", "25"]
    );
    assert!(out.contains("Never closed (leaks): 0\n"), "{out}");
    assert!(out.contains("FPDUs: 15, bad CRCs: 0\n"), "{out}");

    let out = ok(&[
        "-r",
        &capture("faults.pcapng"),
        "-q",
        "-z",
        "oneshot,exchanges",
        "-z",
        "oneshot,stags",
    ]);
    // Writes #1-#4 and #8 complete (8 KiB each); #5 is closed with the wrong STag and #7
    // never: their STags leak.
    for stag in [
        "0x000001a7",
        "0x0000027a",
        "0x000003f3",
        "0x0000042d",
        "0x0000086a",
    ] {
        let row = out
            .lines()
            .find(|l| l.contains(stag) && l.contains("write"))
            .unwrap_or_else(|| panic!("{stag}: {out}"));
        assert!(row.contains(" 8192 "), "{row}");
    }
    assert!(out.contains("leaks): 2\n"), "{out}");
    assert!(
        out.contains("STag 0x0000050c advertised in frame 56"),
        "{out}"
    );
    assert!(
        out.contains("STag 0x00000730 advertised in frame 80"),
        "{out}"
    );
    assert!(out.contains("FPDUs: 72, bad CRCs: 1\n"), "{out}");
}
