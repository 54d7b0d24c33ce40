//! `oneshot-gen` end to end: the shipped captures in captures/ regenerate byte for byte from
//! their scripts, tshark 4.0 decodes the standard ones exactly as the codec does (every CRC good,
//! every DDP/RDMAP field equal, the one-shot exchanges the scripts asked for), and the CLI keeps
//! its promises (exit codes and messages, formats, standard input and output, seeds, host trace).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use oneshot_codec::ddp::Segment;
use oneshot_codec::oneshot::{Op, Placement};
use oneshot_codec::rdmap::{Header, Settings};
use oneshot_codec::{Frame, Ulp};
use oneshot_tests::{Scratch, binary, path, root, run_tshark, tshark_available};
use pcap_file::TsResolution;
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};

/// The shipped captures tshark 4.0 decodes completely, with the iSCSI opcodes (BHS octet 0, mask
/// 0x3F) tshark must find in the iSCSI/TCP ones.
const STANDARD: &[(&str, &[u8])] = &[
    ("oneshot-write", &[]),
    ("oneshot-read", &[]),
    ("conventional-write", &[]),
    ("conventional-read", &[]),
    ("iscsi-tcp-write", &[0x01, 0x31, 0x05, 0x21]),
    ("iscsi-tcp-read", &[0x01, 0x25, 0x21]),
    ("oneshot-opcode-appended", &[]),
    ("oneshot-ddp-flags-rsvdulp", &[]),
    ("oneshot-ddp-flags-appended", &[]),
];

/// Shipped on purpose outside what tshark 4.0 can decode (markers with several FPDUs per
/// segment; injected faults; no handshake; markers one way; a split ULPDU_Length): their
/// sidecars say so. They are only regenerated here (tests/e2e/dissect checks how oneshot-dissect
/// decodes them).
const NON_STANDARD: &[&str] = &[
    "markers",
    "faults",
    "no-handshake",
    "markers-asymmetric",
    "split-length",
];

/// A shipped capture must stay small.
const MAX_CAPTURE_BYTES: u64 = 200 * 1024;

/// The generator, built once per test process.
fn gen_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| binary("oneshot-gen", "oneshot-gen"))
}

/// The command that makes captures/NAME.pcapng, as the sidecars print it.
fn make_command(name: &str) -> String {
    format!("oneshot-gen captures/{name}.os -w captures/{name}.pcapng -q")
}

/// Runs the generator in `dir` with `args`, feeding `stdin` when given.
fn run_gen(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(gen_binary())
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("oneshot-gen starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input).unwrap();
    }
    child.wait_with_output().expect("oneshot-gen runs")
}

/// Runs the generator and insists that it succeeds.
fn run_gen_ok(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let out = run_gen(dir, args, stdin);
    assert!(
        out.status.success(),
        "oneshot-gen {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The names of the shipped scripts, captures/NAME.os, sorted.
fn shipped_scripts() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(path("captures"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "os").then(|| p.file_stem()?.to_str().map(str::to_string))?
        })
        .collect();
    names.sort();
    names
}

fn read_script(name: &str) -> String {
    std::fs::read_to_string(path(&format!("captures/{name}.os")))
        .unwrap_or_else(|e| panic!("captures/{name}.os: {e}"))
}

/// Every packet of a pcapng capture: (interface id, data, comments).
pub(crate) fn pcapng_packets(bytes: &[u8]) -> Vec<(u32, Vec<u8>, Vec<String>)> {
    let mut r = PcapNgReader::new(bytes).expect("a pcapng section header");
    let mut out = Vec::new();
    while let Some(b) = r.next_block() {
        match b.expect("a well-formed pcapng block") {
            Block::EnhancedPacket(p) => {
                let comments = p
                    .options
                    .iter()
                    .filter_map(|o| match o {
                        EnhancedPacketOption::Comment(c) => Some(c.to_string()),
                        _ => None,
                    })
                    .collect();
                out.push((p.interface_id, p.data.into_owned(), comments));
            }
            Block::Packet(_) | Block::SimplePacket(_) => {
                panic!("only Enhanced Packet Blocks are expected")
            }
            _ => {}
        }
    }
    out
}

/// The placement a script's `profile` line selects (the setting a decoder must use).
fn script_placement(script: &str) -> Placement {
    let mut placement = Placement::RsvdUlp;
    for line in script_lines(script) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"profile") {
            if let Some(i) = words.iter().position(|w| *w == "placement") {
                placement = words[i + 1].parse().expect("rsvdulp or appended");
            }
        }
    }
    placement
}

/// True when a script's `profile` line selects the ddp-flags encoding.
fn script_uses_ddp_flags(script: &str) -> bool {
    script_lines(script).any(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.first() == Some(&"profile")
            && words.windows(2).any(|w| w == ["encoding", "ddp-flags"])
    })
}

/// A script's lines without comments.
fn script_lines(script: &str) -> impl Iterator<Item = &str> {
    script
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
}

/// How many one-shot storage commands (`write`/`read` with flow oneshot, the default) a
/// script runs, `repeat` blocks included.
fn oneshot_commands(script: &str) -> usize {
    let mut times = vec![1usize];
    let mut n = 0;
    for line in script_lines(script) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["repeat", k, "{"] => {
                let k: usize = k.parse().expect("a decimal repeat count");
                times.push(times.last().unwrap() * k);
            }
            ["}"] => {
                times.pop();
            }
            [cmd, ..] if *cmd == "write" || *cmd == "read" => {
                let flow = words
                    .iter()
                    .position(|w| *w == "flow")
                    .map_or("oneshot", |i| words[i + 1]);
                if flow == "oneshot" {
                    n += times.last().unwrap();
                }
            }
            _ => {}
        }
    }
    n
}

// ---------------------------------------------------------------------------------------------
// 1. The shipped captures and their recipes.
// ---------------------------------------------------------------------------------------------

/// Every captures/*.os regenerates into exactly the shipped captures/*.pcapng.
#[test]
fn gen_shipped_captures_regenerate_byte_for_byte() {
    let names = shipped_scripts();
    assert!(!names.is_empty(), "no captures/*.os found");
    let dir = Scratch::new("regen");
    let mut bad = Vec::new();
    for name in &names {
        let fresh = dir.join(&format!("{name}.pcapng"));
        let script = format!("captures/{name}.os");
        run_gen_ok(
            &root(),
            &[&script, "-w", fresh.to_str().unwrap(), "-q"],
            None,
        );
        let made = std::fs::read(&fresh).unwrap();
        let shipped = std::fs::read(path(&format!("captures/{name}.pcapng")))
            .unwrap_or_else(|e| panic!("captures/{name}.pcapng: {e}"));
        if made != shipped {
            let at = made
                .iter()
                .zip(&shipped)
                .position(|(a, b)| a != b)
                .unwrap_or(made.len().min(shipped.len()));
            bad.push(format!(
                "captures/{name}.pcapng differs from what its script makes now \
                 ({} vs {} bytes, first difference at byte {at}); if the change is intended, \
                 regenerate it from the repository root with:\n    \
                 cargo build --release -p oneshot-gen && target/release/{}",
                shipped.len(),
                made.len(),
                make_command(name)
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Every shipped script has its capture, a sidecar naming the command that made it, a seed, a
/// README row and a place in this file's tables; and the captures stay small.
#[test]
fn gen_shipped_captures_are_documented_and_small() {
    let names = shipped_scripts();
    let readme = std::fs::read_to_string(path("captures/README.md")).expect("captures/README.md");
    for name in &names {
        let script = read_script(name);
        assert!(
            script.lines().next().is_some_and(|l| l.starts_with('#')),
            "captures/{name}.os: start with a comment saying what it shows"
        );
        assert!(
            script_lines(&script).any(|l| l.starts_with("seed ")),
            "captures/{name}.os: give it a seed line"
        );
        let capture = path(&format!("captures/{name}.pcapng"));
        let size = std::fs::metadata(&capture)
            .unwrap_or_else(|e| panic!("{}: {e}", capture.display()))
            .len();
        assert!(
            size <= MAX_CAPTURE_BYTES,
            "captures/{name}.pcapng is {size} bytes: keep shipped captures under {MAX_CAPTURE_BYTES}"
        );
        let sidecar = std::fs::read_to_string(path(&format!("captures/{name}.txt")))
            .unwrap_or_else(|e| panic!("captures/{name}.txt: {e}"));
        assert!(
            sidecar.contains(&make_command(name)),
            "captures/{name}.txt must name the command that made it: {}",
            make_command(name)
        );
        assert!(
            readme.contains(&format!("{name}.pcapng")),
            "captures/README.md does not list {name}.pcapng"
        );
        let standard = STANDARD.iter().any(|(n, _)| n == name);
        let non_standard = NON_STANDARD.contains(&name.as_str());
        assert!(
            standard != non_standard,
            "captures/{name}.os: list it in exactly one of STANDARD and NON_STANDARD in tests/e2e/gen.rs"
        );
        if non_standard {
            assert!(
                sidecar.contains("tshark") && sidecar.contains("mishandle"),
                "captures/{name}.txt: say what tshark mishandles"
            );
        }
    }
    for name in STANDARD
        .iter()
        .map(|(n, _)| *n)
        .chain(NON_STANDARD.iter().copied())
    {
        assert!(
            names.iter().any(|n| n == name),
            "captures/{name}.os is missing"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. tshark accepts the standard captures, and agrees with the codec.
// ---------------------------------------------------------------------------------------------

/// The fields compared, in tshark's names; several occurrences in a frame are comma-joined.
const FIELDS: &[&str] = &[
    "frame.number",
    "iwarp_mpa.ulpdulength",
    "iwarp_mpa.crc_check",
    "iwarp_ddp.tagged_flag",
    "iwarp_ddp.last_flag",
    "iwarp_ddp.rsvd",
    "iwarp_ddp.qn",
    "iwarp_ddp.msn",
    "iwarp_ddp.mo",
    "iwarp_ddp.stag",
    "iwarp_ddp.tagged_offset",
    "iwarp_rdma.opcode",
    "iwarp_rdma.sinkstag",
    "iwarp_rdma.rdmardsz",
    "iwarp_rdma.srcstag",
    "_ws.malformed",
];

/// One capture as the codec sees it, frame by frame.
struct CodecView {
    /// Per frame, the FIELDS printed as tshark prints them, `|`-separated.
    lines: Vec<String>,
    /// FPDUs found (all with a good CRC).
    fpdus: usize,
    /// Every one-shot qualifier, in capture order.
    qualifiers: Vec<Qualified>,
    /// (frame, STag) of every data transfer: Read Request source STags and RDMA Write STags.
    data_stags: Vec<(usize, u32)>,
}

/// A one-shot message: where, which qualifier, and the iSCSI PDU it carries.
#[derive(Debug)]
struct Qualified {
    frame: usize,
    op: Op,
    stag: u32,
    /// (BHS opcode & 0x3F, ITT) of the carried PDU, when there is one.
    pdu: Option<(u8, u32)>,
}

/// Decodes every frame of `frames` with `oneshot_codec::Frame` under `settings`. FPDUs are looked
/// for only after an MPA Request/Reply was seen (so iSCSI/TCP captures have none); they must be
/// segment-aligned, decodable and CRC-clean.
fn codec_view(name: &str, frames: &[Vec<u8>], settings: Settings) -> CodecView {
    let mut view = CodecView {
        lines: Vec::new(),
        fpdus: 0,
        qualifiers: Vec::new(),
        data_stags: Vec::new(),
    };
    let mut mpa_seen = false;
    for (i, data) in frames.iter().enumerate() {
        let n = i + 1;
        let mut cols: Vec<Vec<String>> = vec![Vec::new(); FIELDS.len()];
        let mut put = |field: &str, v: String| {
            let at = FIELDS
                .iter()
                .position(|f| *f == field)
                .expect("a known field");
            cols[at].push(v);
        };
        put("frame.number", n.to_string());
        let f = Frame::ethernet(data);
        assert!(f.stop.is_none(), "{name} frame {n}: {:?}", f.stop);
        if let Some(m) = f.mpa_frame() {
            m.unwrap_or_else(|e| panic!("{name} frame {n}: MPA frame: {e}"));
            mpa_seen = true;
        } else if mpa_seen {
            for d in f.fpdus(settings) {
                let d = d.unwrap_or_else(|e| panic!("{name} frame {n}: FPDU: {e}"));
                assert!(
                    d.crc_ok(),
                    "{name} frame {n}: bad CRC at offset {}",
                    d.offset
                );
                view.fpdus += 1;
                put("iwarp_mpa.ulpdulength", d.fpdu.ulpdu_len().to_string());
                put(
                    "iwarp_mpa.crc_check",
                    format!("0x{:08x}", d.fpdu.crc_wireshark()),
                );
                let m = d
                    .message()
                    .unwrap_or_else(|e| panic!("{name} frame {n}: message: {e}"));
                let c = m.ddp.control();
                put("iwarp_ddp.tagged_flag", u8::from(c.tagged()).to_string());
                put("iwarp_ddp.last_flag", u8::from(c.last()).to_string());
                put("iwarp_ddp.rsvd", format!("0x{:02x}", c.rsvd()));
                match &m.ddp {
                    Segment::Tagged(t) => {
                        if m.control.opcode_raw() == 0x0 {
                            view.data_stags.push((n, t.stag()));
                        }
                        put("iwarp_ddp.stag", format!("0x{:08x}", t.stag()));
                        put("iwarp_ddp.tagged_offset", format!("0x{:016x}", t.to()));
                    }
                    Segment::Untagged(u) => {
                        put("iwarp_ddp.qn", u.qn().to_string());
                        put("iwarp_ddp.msn", u.msn().to_string());
                        put("iwarp_ddp.mo", u.mo().to_string());
                    }
                }
                put(
                    "iwarp_rdma.opcode",
                    format!("0x{:02x}", m.control.opcode_raw()),
                );
                if let Header::ReadRequest(rr) = m.header {
                    view.data_stags.push((n, rr.source_stag()));
                    put("iwarp_rdma.sinkstag", format!("0x{:08x}", rr.sink_stag()));
                    put("iwarp_rdma.rdmardsz", rr.rdmardsz().to_string());
                    put("iwarp_rdma.srcstag", format!("0x{:08x}", rr.source_stag()));
                }
                assert!(
                    !m.oneshot.is_malformed(),
                    "{name} frame {n}: malformed one-shot signalling {:?}",
                    m.oneshot
                );
                if let Some((op, stag)) = m.oneshot.qualifier() {
                    let pdu = Ulp::detect(&m)
                        .and_then(|u| u.bhs().map(|b| (b.opcode_byte() & 0x3f, b.itt())));
                    view.qualifiers.push(Qualified {
                        frame: n,
                        op,
                        stag,
                        pdu,
                    });
                }
            }
        }
        view.lines.push(
            cols.iter()
                .map(|c| c.join(","))
                .collect::<Vec<_>>()
                .join("|"),
        );
    }
    view
}

/// Names each field on which a tshark line and a codec line disagree.
fn field_differences(theirs: &str, ours: &str) -> Vec<String> {
    let t: Vec<&str> = theirs.split('|').collect();
    let o: Vec<&str> = ours.split('|').collect();
    FIELDS
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let (a, b) = (
                t.get(i).copied().unwrap_or("?"),
                o.get(i).copied().unwrap_or("?"),
            );
            (a != b).then(|| format!("{f}: tshark {a:?}, codec {b:?}"))
        })
        .collect()
}

/// The acceptance test: for every standard capture, tshark 4.0 finds a "Good CRC32" for every
/// FPDU the codec finds and no bad one, marks nothing malformed, and shows the same opcode,
/// reserved bits, STags, MSN, MO, TO and Read Request fields frame by frame; the one-shot
/// messages are the ones the script asked for; iSCSI/TCP captures show the expected PDUs.
#[test]
fn gen_tshark_accepts_the_standard_captures() {
    if !tshark_available("gen_tshark_accepts_the_standard_captures") {
        return;
    }
    for (name, iscsi_opcodes) in STANDARD {
        let script = read_script(name);
        let placement = script_placement(&script);
        let settings = Settings {
            placement,
            ..Settings::default()
        };
        let capture = path(&format!("captures/{name}.pcapng"));
        let file = capture.to_str().unwrap();
        let frames: Vec<Vec<u8>> = pcapng_packets(&std::fs::read(&capture).unwrap())
            .into_iter()
            .map(|(_, data, _)| data)
            .collect();
        let ours = codec_view(name, &frames, settings);

        // Field by field, frame by frame.
        let mut args = vec!["-r", file, "-T", "fields", "-E", "separator=|"];
        for f in FIELDS {
            args.extend(["-e", f]);
        }
        let theirs = run_tshark(&args);
        let theirs: Vec<&str> = theirs.lines().collect();
        assert_eq!(
            theirs.len(),
            ours.lines.len(),
            "{name}: tshark and the codec see different numbers of frames"
        );
        let malformed = FIELDS.len() - 1;
        for (t, o) in theirs.iter().zip(&ours.lines) {
            let frame = t.split('|').next().unwrap_or("?");
            assert!(
                t.split('|').nth(malformed).is_none_or(str::is_empty),
                "{name}: tshark marks frame {frame} malformed"
            );
            let diff = field_differences(t, o);
            assert!(
                diff.is_empty(),
                "{name} (placement {placement}) frame {frame}: tshark and the codec disagree:\n  {}\n\
                 tshark: {t}\ncodec:  {o}\nfields: {FIELDS:?}",
                diff.join("\n  ")
            );
        }

        // Every FPDU has a good CRC for tshark too, and tshark found as many as the codec.
        let verbose = run_tshark(&["-r", file, "-V"]);
        let good = verbose.matches("(Good CRC32)").count();
        assert_eq!(
            good, ours.fpdus,
            "{name}: tshark shows {good} \"Good CRC32\", the codec found {} FPDUs",
            ours.fpdus
        );
        assert!(
            !verbose.contains("Bad CRC32"),
            "{name}: tshark shows a Bad CRC32"
        );

        // As the script intended: one advertise and one close per one-shot command. Each
        // advertise carries a SCSI Command and its STag is then used by the data phase (the
        // target's Read Request names it as source, or RDMA Writes land in it); each close names
        // an STag advertised earlier and still open, and carries the SCSI Response with the
        // advertise's ITT.
        let want = oneshot_commands(&script);
        let count = |op: Op| ours.qualifiers.iter().filter(|q| q.op == op).count();
        let (advertises, closes) = (count(Op::Advertise), count(Op::Close));
        assert_eq!(
            (advertises, closes),
            (want, want),
            "{name}: {advertises} advertise and {closes} close messages for {want} one-shot \
             commands (decoded with placement {placement}): {:?}",
            ours.qualifiers
        );
        let mut open: BTreeMap<u32, u32> = BTreeMap::new();
        for q in &ours.qualifiers {
            let (frame, stag) = (q.frame, q.stag);
            match (q.op, q.pdu) {
                (Op::Advertise, Some((0x01, itt))) => {
                    assert!(
                        open.insert(stag, itt).is_none(),
                        "{name} frame {frame}: STag 0x{stag:08x} advertised while still open"
                    );
                    assert!(
                        ours.data_stags.iter().any(|&(f, s)| f > frame && s == stag),
                        "{name} frame {frame}: advertised STag 0x{stag:08x} is never read from \
                         or written to (placement {placement})"
                    );
                }
                (Op::Close, Some((0x21, itt))) => {
                    let advertised = open.remove(&stag).unwrap_or_else(|| {
                        panic!(
                            "{name} frame {frame}: close of STag 0x{stag:08x}, which no earlier \
                             advertise left open"
                        )
                    });
                    assert_eq!(
                        itt, advertised,
                        "{name} frame {frame}: the close's SCSI Response has another ITT than \
                         the advertise of STag 0x{stag:08x}"
                    );
                }
                _ => panic!(
                    "{name} frame {frame}: {:?} should carry a SCSI {} (placement {placement})",
                    q,
                    if q.op == Op::Advertise {
                        "Command (0x01)"
                    } else {
                        "Response (0x21)"
                    }
                ),
            }
        }
        assert!(open.is_empty(), "{name}: STags left open: {open:x?}");

        // What tshark shows of the one-shot signalling: opcodes 0x8/0xC ("Unknown") for the
        // opcode encoding, plain Sends with iwarp_ddp.rsvd 0x4/0x8 for ddp-flags.
        if want > 0 {
            let opcodes = run_tshark(&["-r", file, "-T", "fields", "-e", "iwarp_rdma.opcode"]);
            let rsvd = run_tshark(&["-r", file, "-T", "fields", "-e", "iwarp_ddp.rsvd"]);
            let has = |text: &str, v: &str| text.split([',', '\n']).any(|x| x == v);
            if script_uses_ddp_flags(&script) {
                assert!(
                    has(&rsvd, "0x04") && has(&rsvd, "0x08"),
                    "{name}: tshark shows no iwarp_ddp.rsvd 0x04 and 0x08"
                );
                assert!(
                    !has(&opcodes, "0x08") && !has(&opcodes, "0x0c"),
                    "{name}: ddp-flags capture with opcode 0x8 or 0xC"
                );
            } else {
                assert!(
                    has(&opcodes, "0x08") && has(&opcodes, "0x0c"),
                    "{name}: tshark shows no opcode 0x08 and 0x0c"
                );
                assert!(
                    !has(&rsvd, "0x04") && !has(&rsvd, "0x08"),
                    "{name}: opcode-encoding capture with DDP reserved bits set"
                );
            }
        }

        // iSCSI/TCP: tshark's iSCSI dissector sees the PDUs of FIG. 2.
        if !iscsi_opcodes.is_empty() {
            let text = run_tshark(&["-r", file, "-T", "fields", "-e", "iscsi.opcode"]);
            let seen: BTreeSet<u8> = text
                .split([',', '\n'])
                .filter(|s| !s.is_empty())
                .map(|s| {
                    u8::from_str_radix(s.trim_start_matches("0x"), 16)
                        .unwrap_or_else(|e| panic!("{name}: iscsi.opcode {s:?}: {e}"))
                })
                .collect();
            for op in *iscsi_opcodes {
                assert!(
                    seen.contains(op),
                    "{name}: tshark shows no iSCSI opcode 0x{op:02x} (it shows {seen:02x?})"
                );
            }
            assert_eq!(ours.fpdus, 0, "{name}: FPDUs in an iSCSI/TCP capture");
        } else {
            assert!(ours.fpdus > 0, "{name}: no FPDUs");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 3. The command line.
// ---------------------------------------------------------------------------------------------

const HOSTS: &str = "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\n\
                     host h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n";

/// Writes `script` to `file` in `dir`, runs it, and checks the error report: exit code 2,
/// `oneshot-gen: FILE:LINE:COL: message` naming `needle`, the source line, a caret under
/// `word`, and no capture written.
fn assert_script_error(
    dir: &Scratch,
    file: &str,
    script: &str,
    line: usize,
    word: &str,
    needle: &str,
) {
    dir.write(file, script);
    let out_file = format!("{file}.pcapng");
    let out = run_gen(dir.path(), &[file, "-w", &out_file], None);
    check_script_error(&out, file, script, line, word, needle);
    assert!(
        !dir.join(&out_file).exists(),
        "{file}: a capture was written despite the error"
    );
}

fn check_script_error(
    out: &Output,
    source: &str,
    script: &str,
    line: usize,
    word: &str,
    needle: &str,
) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{source}: exit code, stderr:\n{err}"
    );
    let src_line = script.lines().nth(line - 1).expect("the line exists");
    let col = src_line.find(word).expect("the word is on the line") + 1;
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "{source}: message, source line, caret:\n{err}"
    );
    let head = format!("oneshot-gen: {source}:{line}:{col}: ");
    assert!(
        lines[0].starts_with(&head),
        "{source}: first line should start with {head:?}:\n{err}"
    );
    assert!(
        lines[0].contains(needle),
        "{source}: first line should name {needle:?}:\n{err}"
    );
    assert_eq!(
        lines[1].trim(),
        src_line.trim(),
        "{source}: source line:\n{err}"
    );
    let caret = lines[2].find('^').expect("a caret");
    let under = lines[1].find(word).expect("the word in the echoed line");
    assert_eq!(
        caret, under,
        "{source}: the caret should sit under {word:?}:\n{err}"
    );
    assert!(
        lines[2][..caret].chars().all(|c| c == ' '),
        "{source}: caret line:\n{err}"
    );
}

/// Errors that are not about a script line: exit 2 and one line naming the problem.
fn assert_one_line_error(out: &Output, what: &str, needles: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{what}: exit code, stderr:\n{err}"
    );
    assert_eq!(err.lines().count(), 1, "{what}: one line expected:\n{err}");
    assert!(err.starts_with("oneshot-gen: "), "{what}:\n{err}");
    for n in needles {
        assert!(
            err.contains(n),
            "{what}: the message should name {n:?}:\n{err}"
        );
    }
    assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
}

#[test]
fn gen_cli_reports_script_errors_with_a_caret() {
    let dir = Scratch::new("script-errors");
    let conn = "conn c1 h1:49152 -> h2:3260 iwarp\n";
    // A syntax error: the arrow is missing.
    assert_script_error(
        &dir,
        "syntax.os",
        &format!("seed 1\n{HOSTS}conn c1 h1:49152 h2:3260 iwarp\nwrite 16K\n"),
        4,
        "h2:3260",
        "->",
    );
    // A word the grammar does not know.
    assert_script_error(
        &dir,
        "flow.os",
        &format!("seed 1\n{HOSTS}{conn}write 16K flow sideways\n"),
        5,
        "sideways",
        "sideways",
    );
    // An undeclared host.
    assert_script_error(
        &dir,
        "host.os",
        &format!("seed 1\n{HOSTS}conn c1 h1:49152 -> h3:3260 iwarp\nwrite 16K\n"),
        4,
        "h3:3260",
        "h3",
    );
    // Impossible sizes: no GiB unit, and 2^32 octets.
    assert_script_error(
        &dir,
        "gib.os",
        &format!("seed 1\n{HOSTS}{conn}write 5GiB\n"),
        5,
        "5GiB",
        "5GiB",
    );
    assert_script_error(
        &dir,
        "huge.os",
        &format!("seed 1\n{HOSTS}{conn}    write 4096M\n"),
        5,
        "4096M",
        "4096M",
    );
    // The same from standard input is reported as <stdin>.
    let script = format!("seed 1\n{HOSTS}{conn}write 16K flow sideways\n");
    let out = run_gen(
        dir.path(),
        &["-", "-w", "stdin.pcapng"],
        Some(script.as_bytes()),
    );
    check_script_error(&out, "<stdin>", &script, 5, "sideways", "sideways");
}

#[test]
fn gen_cli_reports_other_errors_in_one_line() {
    let dir = Scratch::new("other-errors");
    let out = run_gen(dir.path(), &["no/such.os", "-w", "x.pcapng"], None);
    assert_one_line_error(&out, "missing script", &["no/such.os"]);
    let out = run_gen(dir.path(), &["--scenario", "nope", "-w", "x.pcapng"], None);
    assert_one_line_error(&out, "unknown scenario", &["nope", "oneshot-write"]);
    let out = run_gen(
        dir.path(),
        &[
            "--scenario",
            "oneshot-write",
            "-F",
            "pcapx",
            "-w",
            "x.pcapng",
        ],
        None,
    );
    assert_one_line_error(&out, "unknown format", &["pcapx", "pcap-ns", "pcapng"]);
    assert!(!dir.join("x.pcapng").exists(), "no capture after an error");
}

#[test]
fn gen_cli_lists_and_shows_the_builtins() {
    let dir = Scratch::new("list");
    let out = run_gen_ok(dir.path(), &["--list"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for want in [
        "oneshot-write",
        "oneshot-read",
        "conventional-write",
        "conventional-read",
        "iscsi-tcp-write",
        "iscsi-tcp-read",
        "compare",
        "oneshot-ddp-flags",
        "markers",
        "faults",
        "raw-verbs",
    ] {
        assert!(listed.contains(&want), "--list lacks {want}:\n{text}");
    }
    for name in &listed {
        let out = run_gen_ok(dir.path(), &["--show", name], None);
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script_lines(&script).any(|l| l.starts_with("conn ")),
            "--show {name} prints no script:\n{script}"
        );
        // The shown script runs from standard input like any other and makes what --scenario makes.
        let a = run_gen_ok(dir.path(), &["-", "-w", "-", "-q"], Some(script.as_bytes())).stdout;
        let b = run_gen_ok(dir.path(), &["--scenario", name, "-w", "-", "-q"], None).stdout;
        assert!(
            a == b,
            "--show {name} piped back differs from --scenario {name}"
        );
    }
}

/// The codec's one-shot qualifiers of a pcap (Ethernet) capture.
fn pcap_qualifiers(bytes: &[u8]) -> Vec<(Op, u32)> {
    let mut r = PcapReader::new(bytes).expect("a pcap header");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("a pcap record");
        let f = Frame::ethernet(&p.data);
        if f.mpa_frame().is_some() {
            continue;
        }
        for d in f.fpdus(Settings::default()) {
            if let Some(q) = d.ok().and_then(|d| d.message().ok()?.oneshot.qualifier()) {
                out.push(q);
            }
        }
    }
    out
}

#[test]
fn gen_cli_writes_pcap_to_stdout_and_reads_the_script_from_stdin() {
    let dir = Scratch::new("stdio");
    // Without -q the summary goes to stderr and stdout holds only the capture.
    let out = run_gen_ok(
        dir.path(),
        &["--scenario", "oneshot-write", "-w", "-"],
        None,
    );
    let r = PcapReader::new(&out.stdout[..]).expect("a pcap on stdout");
    assert_eq!(r.header().datalink, pcap_file::DataLink::ETHERNET);
    assert_eq!(r.header().ts_resolution, TsResolution::MicroSecond);
    let q = pcap_qualifiers(&out.stdout);
    assert_eq!(q.len(), 2, "one advertise and one close: {q:?}");
    assert_eq!(q[0].0, Op::Advertise);
    assert_eq!(q[1], (Op::Close, q[0].1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("frames"),
        "the summary goes to stderr"
    );

    // "-" reads the script from standard input: the shipped script piped in makes the shipped
    // capture.
    let script = std::fs::read(path("captures/oneshot-write.os")).unwrap();
    run_gen_ok(
        dir.path(),
        &["-", "-w", "piped.pcapng", "-q"],
        Some(&script),
    );
    assert!(
        std::fs::read(dir.join("piped.pcapng")).unwrap()
            == std::fs::read(path("captures/oneshot-write.pcapng")).unwrap(),
        "the script read from stdin makes a different capture"
    );
}

#[test]
fn gen_cli_pcapng_has_one_interface_per_host_and_a_comment_per_packet() {
    let dir = Scratch::new("pcapng");
    dir.write(
        "three.os",
        format!(
            "seed 5\n{HOSTS}host h3 mac 02:00:00:00:00:03 ip 10.0.0.3\n\
             conn a h1:49152 -> h2:3260 iwarp\n\
             conn b h3:49153 -> h2:3261 iscsi\n\
             write 4K on a\n\
             read 4K flow iscsi-tcp on b\n"
        ),
    );
    run_gen_ok(dir.path(), &["three.os", "-w", "three.pcapng", "-q"], None);
    let bytes = std::fs::read(dir.join("three.pcapng")).unwrap();
    assert_eq!(
        &bytes[..4],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        "a pcapng section header"
    );

    let mut r = PcapNgReader::new(&bytes[..]).unwrap();
    while let Some(b) = r.next_block() {
        b.unwrap();
    }
    let names: Vec<String> = r
        .interfaces()
        .iter()
        .map(|i| {
            i.options
                .iter()
                .find_map(|o| match o {
                    InterfaceDescriptionOption::IfName(n) => Some(n.to_string()),
                    _ => None,
                })
                .expect("every interface is named")
        })
        .collect();
    assert_eq!(
        names,
        ["h1", "h2", "h3"],
        "one interface per host, in order"
    );

    let packets = pcapng_packets(&bytes);
    assert!(packets.len() > 20, "{} packets", packets.len());
    for (n, (iface, data, comments)) in packets.iter().enumerate() {
        let n = n + 1;
        assert!(
            comments.len() == 1 && !comments[0].is_empty(),
            "packet {n}: one non-empty comment expected, found {comments:?}"
        );
        // Each packet is captured on the link of the host that sent it.
        let f = Frame::ethernet(data);
        let Some(oneshot_codec::etherparse::LaxIpSlice::Ipv4(ip)) = f.ip.as_ref() else {
            panic!("packet {n}: IPv4 expected");
        };
        let src = ip.header().source()[3] as u32;
        assert_eq!(
            *iface,
            src - 1,
            "packet {n} ({}) on the wrong interface",
            comments[0]
        );
    }
}

#[test]
fn gen_cli_formats_pcap_ns_and_pcapng_by_flag_or_name() {
    let dir = Scratch::new("formats");
    let magic = |file: &str| -> [u8; 4] {
        std::fs::read(dir.join(file)).unwrap()[..4]
            .try_into()
            .unwrap()
    };
    let run = |args: &[&str]| {
        let mut all = vec!["--scenario", "oneshot-read", "-q"];
        all.extend_from_slice(args);
        run_gen_ok(dir.path(), &all, None);
    };
    run(&["-F", "pcap-ns", "-w", "ns.pcap"]);
    let m = magic("ns.pcap");
    assert!(
        m == [0x4d, 0x3c, 0xb2, 0xa1] || m == [0xa1, 0xb2, 0x3c, 0x4d],
        "pcap-ns magic 0xa1b23c4d expected, found {m:02x?}"
    );
    let data = std::fs::read(dir.join("ns.pcap")).unwrap();
    let r = PcapReader::new(&data[..]).unwrap();
    assert_eq!(r.header().ts_resolution, TsResolution::NanoSecond);
    assert_eq!(pcap_qualifiers(&data).len(), 2);

    run(&["-F", "pcap", "-w", "us.pcapng"]);
    let m = magic("us.pcapng");
    assert!(
        m == [0xd4, 0xc3, 0xb2, 0xa1] || m == [0xa1, 0xb2, 0xc3, 0xd4],
        "-F pcap wins over the file name: µs pcap magic expected, found {m:02x?}"
    );
    run(&["-w", "named.pcapng"]);
    assert_eq!(
        magic("named.pcapng"),
        [0x0a, 0x0d, 0x0d, 0x0a],
        "pcapng from the name"
    );
    run(&["-w", "named.pcap"]);
    let m = magic("named.pcap");
    assert!(
        m == [0xd4, 0xc3, 0xb2, 0xa1] || m == [0xa1, 0xb2, 0xc3, 0xd4],
        "pcap from the name, found {m:02x?}"
    );
}

#[test]
fn gen_cli_is_deterministic_and_seed_changes_the_bytes() {
    let dir = Scratch::new("seed");
    let script = "captures/oneshot-write.os";
    let make = |out: &str, extra: &[&str]| -> Vec<u8> {
        let target = dir.join(out);
        let mut args = vec![script, "-w", target.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        run_gen_ok(&root(), &args, None);
        std::fs::read(target).unwrap()
    };
    let a = make("a.pcapng", &[]);
    let b = make("b.pcapng", &[]);
    assert!(a == b, "the same script and seed made different bytes");
    let same_seed = make("c.pcapng", &["--seed", "11"]);
    assert!(a == same_seed, "--seed 11 equals the script's own seed 11");
    let other = make("d.pcapng", &["--seed", "12345"]);
    assert!(a != other, "--seed 12345 changed nothing");
    assert_eq!(
        pcapng_packets(&a).len(),
        pcapng_packets(&other).len(),
        "a seed changes values, not the exchange"
    );
}

#[test]
fn gen_cli_host_trace_counts_driver_nic_interactions() {
    let dir = Scratch::new("trace");
    dir.write(
        "trace.os",
        format!(
            "seed 3\n{HOSTS}\
             conn r h1:49152 -> h2:3260 iwarp\n\
             conn t h1:49153 -> h2:3261 iscsi\n\
             write 4K flow oneshot on r\n\
             read 4K flow oneshot on r\n\
             write 4K flow conventional on r\n\
             read 4K flow conventional on r\n\
             write 4K flow iscsi-tcp on t\n\
             read 4K flow iscsi-tcp on t\n"
        ),
    );
    run_gen_ok(
        dir.path(),
        &[
            "trace.os",
            "-w",
            "trace.pcapng",
            "-q",
            "--host-trace",
            "trace.jsonl",
        ],
        None,
    );
    let text = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 12, "one line per command per host:\n{text}");

    // ONESHOT.md §5, host 1: (initiation paths, completion paths).
    let host1: BTreeMap<&str, (&[u64], &[u64])> = BTreeMap::from([
        ("oneshot-write", (&[500][..], &[610][..])),
        ("oneshot-read", (&[500][..], &[610][..])),
        (
            "conventional-write",
            (
                &[270, 280, 290, 300, 310][..],
                &[420, 430, 440, 450, 460][..],
            ),
        ),
        (
            "conventional-read",
            (
                &[270, 280, 290, 300, 310][..],
                &[420, 430, 440, 450, 460][..],
            ),
        ),
        ("iscsi-tcp-write", (&[100][..], &[250][..])),
        ("iscsi-tcp-read", (&[100][..], &[250][..])),
    ]);
    let paths = |v: &serde_json::Value, phase: &str| -> Vec<u64> {
        v[phase]
            .as_array()
            .unwrap_or_else(|| panic!("no {phase} list: {v}"))
            .iter()
            .map(|x| x["path"].as_u64().expect("a path number"))
            .collect()
    };
    let mut per_command: BTreeMap<u64, Vec<&serde_json::Value>> = BTreeMap::new();
    for v in &lines {
        per_command
            .entry(v["command"].as_u64().expect("a command number"))
            .or_default()
            .push(v);
    }
    assert_eq!(per_command.len(), 6, "{text}");
    let mut flows_seen = BTreeSet::new();
    for (cmd, hosts) in &per_command {
        let roles: BTreeSet<(&str, &str)> = hosts
            .iter()
            .map(|v| (v["role"].as_str().unwrap(), v["host"].as_str().unwrap()))
            .collect();
        assert_eq!(
            roles,
            BTreeSet::from([("initiator", "h1"), ("target", "h2")]),
            "command {cmd}"
        );
        for v in hosts {
            let total = v["interactions"].as_u64().unwrap();
            let listed = (paths(v, "initiation").len()
                + paths(v, "completion").len()
                + paths(v, "service").len()) as u64;
            assert_eq!(
                total, listed,
                "command {cmd}: interactions = listed paths: {v}"
            );
            if v["role"] == "initiator" {
                let flow = v["flow"].as_str().unwrap();
                flows_seen.insert(flow.to_string());
                let (init, done) = host1[flow];
                assert_eq!(paths(v, "initiation"), init, "{flow} host 1 initiation");
                assert_eq!(paths(v, "completion"), done, "{flow} host 1 completion");
                let want = match flow {
                    f if f.starts_with("conventional") => 10,
                    _ => 2,
                };
                assert_eq!(total, want, "{flow}: host 1 interactions");
            }
        }
    }
    assert_eq!(
        flows_seen.len(),
        6,
        "every flow traced once: {flows_seen:?}"
    );
}
