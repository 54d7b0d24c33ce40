//! oneshot-dissect's printers (`-V`, `-O`, `-x`, `-T json`, `-T ek`): against tshark 4.0 on
//! the standard captures, for the layers both decode the same way, and on their own for what
//! tshark has no counterpart of (one-shot fields, `-x` marking under `-Y`).
//!
//! The tshark comparisons leave out, as `dissect/tools/compare-with-tshark.py` does and for
//! the reasons given in `dissect/src/print/mod.rs`: the TCP layer (its analysis is tshark's
//! own), tshark's name-resolution and time-shift items, our own fields and our top-level
//! expert items.

use std::collections::HashSet;
use std::fmt;

use oneshot_tests::{oneshot_dissect, path, run_tshark, tshark_available};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// Captures tshark decodes completely, as we do (captures/README.md's "standard").
const STANDARD: &[&str] = &[
    "codec-sample.pcap",
    "conventional-write.pcapng",
    "conventional-read.pcapng",
    "oneshot-write.pcapng",
    "oneshot-read.pcapng",
    "oneshot-opcode-appended.pcapng",
    "oneshot-ddp-flags-rsvdulp.pcapng",
    "oneshot-ddp-flags-appended.pcapng",
];

/// The layers compared with tshark (JSON keys, `-V` top lines).
const LAYERS: &[&str] = &[
    "pkt_comment",
    "frame",
    "eth",
    "ip",
    "iwarp_mpa",
    "iwarp_ddp_rdmap",
    "data",
];

/// tshark-only keys we do not produce on purpose (JSON `frame.offset_shift`, EK
/// `frame_frame_offset_shift`, …).
fn deliberate(key: &str) -> bool {
    key.ends_with("offset_shift")
        || key.ends_with("_resolved")
        || key.ends_with(".oui")
        || key.ends_with("_oui")
        || key.ends_with("host")
}

fn capture(name: &str) -> String {
    path(&format!("captures/{name}"))
        .to_str()
        .expect("UTF-8 path")
        .to_string()
}

/// A JSON value that keeps an object's keys in order, repeated ones included (tshark writes
/// `ip.addr` twice in one object).
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<J, E> {
                Ok(J::Num(n.to_string()))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(v) => v.iter().find(|(k, _)| k == key).map(|(_, x)| x),
            _ => None,
        }
    }
}

/// `(JSON keys, EK keys)` of every field and protocol tshark has.
fn tshark_names() -> (HashSet<String>, HashSet<String>) {
    let (mut keys, mut ek) = (HashSet::new(), HashSet::new());
    for line in run_tshark(&["-G", "fields"]).lines() {
        let c: Vec<&str> = line.split('\t').collect();
        match c.as_slice() {
            ["P", _, abbrev, ..] => {
                keys.insert(abbrev.to_string());
                ek.insert(abbrev.replace('.', "_"));
            }
            ["F", _, abbrev, _, parent, ..] => {
                keys.insert(abbrev.to_string());
                ek.insert(format!("{parent}_{abbrev}").replace('.', "_"));
            }
            _ => {}
        }
    }
    (keys, ek)
}

/// Flattens an object into `key = value` lines (nested objects indented), leaving out the
/// deliberate keys, and with `known`, the keys tshark does not have.
fn lines(v: &J, depth: usize, known: Option<&HashSet<String>>, out: &mut Vec<String>) {
    let J::Obj(items) = v else { return };
    for (k, x) in items {
        let base = k
            .strip_suffix("_raw")
            .or_else(|| k.strip_suffix("_tree"))
            .unwrap_or(k);
        if deliberate(base) {
            continue;
        }
        if known.is_some_and(|s| !s.contains(base)) {
            continue;
        }
        let pad = "  ".repeat(depth);
        match x {
            J::Obj(_) => {
                let mut sub = Vec::new();
                lines(x, depth + 1, known, &mut sub);
                if !sub.is_empty() {
                    out.push(format!("{pad}{k}:"));
                    out.extend(sub);
                }
            }
            J::Arr(a) if a.iter().any(|e| matches!(e, J::Obj(_))) => {
                for e in a {
                    out.push(format!("{pad}{k}: (one of several)"));
                    lines(e, depth + 1, known, out);
                }
            }
            _ => out.push(format!("{pad}{k} = {x:?}")),
        }
    }
}

/// The in-scope layers of one packet's `layers` object, as lines.
fn layer_lines(layers: &J, known: Option<&HashSet<String>>) -> Vec<String> {
    let J::Obj(items) = layers else {
        panic!("layers is not an object: {layers:?}")
    };
    let mut out = Vec::new();
    for (k, x) in items {
        let base = k.strip_suffix("_raw").unwrap_or(k);
        if !LAYERS.contains(&base) {
            continue;
        }
        let one = J::Obj(vec![(k.clone(), x.clone())]);
        lines(&one, 0, known, &mut out);
    }
    out
}

fn first_difference(what: &str, theirs: &[String], ours: &[String]) {
    if theirs == ours {
        return;
    }
    let at = theirs
        .iter()
        .zip(ours)
        .position(|(a, b)| a != b)
        .unwrap_or(theirs.len().min(ours.len()));
    let lo = at.saturating_sub(3);
    panic!(
        "{what}: first difference at line {at}\n--- tshark\n{}\n--- oneshot-dissect\n{}",
        theirs[lo..(at + 4).min(theirs.len())].join("\n"),
        ours[lo..(at + 4).min(ours.len())].join("\n")
    );
}

const DISABLE: &[&str] = &["--disable-protocol", "oneshot,iser,iscsi"];

/// `-T json -x`: every in-scope layer of every packet equals tshark's, node for node: keys in
/// order, values, and the `_raw` arrays (octets or bitfield value, offset, length, mask, type).
#[test]
fn printers_json_matches_tshark() {
    if !tshark_available("printers_json_matches_tshark") {
        return;
    }
    let (known, _) = tshark_names();
    for name in STANDARD {
        let file = capture(name);
        let theirs: J = serde_json::from_str(&run_tshark(&["-r", &file, "-T", "json", "-x"]))
            .expect("tshark's JSON parses");
        let mut args = vec!["-r", &file, "-T", "json", "-x"];
        args.extend(DISABLE);
        let mine: J = serde_json::from_str(&oneshot_dissect(&args)).expect("our JSON parses");
        let (J::Arr(t), J::Arr(o)) = (&theirs, &mine) else {
            panic!("{name}: not arrays")
        };
        assert_eq!(t.len(), o.len(), "{name}: packet count");
        for (n, (a, b)) in t.iter().zip(o).enumerate() {
            let la = a
                .get("_source")
                .and_then(|s| s.get("layers"))
                .expect("layers");
            let lb = b
                .get("_source")
                .and_then(|s| s.get("layers"))
                .expect("layers");
            first_difference(
                &format!("{name} frame {} (-T json -x)", n + 1),
                &layer_lines(la, None),
                &layer_lines(lb, Some(&known)),
            );
        }
    }
}

/// `-T ek` and `-T ek -x`: index and document lines alternate, every line is JSON, and each
/// in-scope layer equals tshark's (keys `proto_field`, repeated keys grouped as tshark groups
/// them, booleans, `null` labels, nested protocol objects).
#[test]
fn printers_ek_matches_tshark() {
    if !tshark_available("printers_ek_matches_tshark") {
        return;
    }
    let (_, known_ek) = tshark_names();
    for name in STANDARD {
        let file = capture(name);
        for x in [&[][..], &["-x"][..]] {
            let mut targs = vec!["-r", file.as_str(), "-T", "ek"];
            targs.extend(x);
            let mut oargs = targs.clone();
            oargs.extend(DISABLE);
            let parse = |text: &str| -> Vec<J> {
                text.lines()
                    .map(|l| serde_json::from_str::<J>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
                    .filter_map(|d| d.get("layers").cloned())
                    .collect()
            };
            let t = parse(&run_tshark(&targs));
            let o = parse(&oneshot_dissect(&oargs));
            assert_eq!(t.len(), o.len(), "{name} {x:?}: packet count");
            for (n, (a, b)) in t.iter().zip(&o).enumerate() {
                first_difference(
                    &format!("{name} frame {} (-T ek {x:?})", n + 1),
                    &layer_lines(a, None),
                    &layer_lines(b, Some(&known_ek)),
                );
            }
        }
    }
}

/// Splits `-V` output into frames, each a list of (layer, line); tshark's hex dump of `data`
/// (after a blank line) stays in its frame.
fn verbose_frames(text: &str) -> Vec<Vec<(String, String)>> {
    let mut frames = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    let mut layer = String::new();
    let all: Vec<&str> = text.split('\n').collect();
    for (i, line) in all.iter().enumerate() {
        let hex_next = all.get(i + 1).is_some_and(|l| is_hex_row(l));
        if line.is_empty() && !hex_next {
            if !cur.is_empty() {
                frames.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if !line.starts_with(' ') && !line.is_empty() && !is_hex_row(line) {
            layer = top_layer(line).to_string();
        }
        cur.push((layer.clone(), line.to_string()));
    }
    if !cur.is_empty() {
        frames.push(cur);
    }
    frames
}

fn is_hex_row(l: &str) -> bool {
    l.len() > 6 && l.as_bytes()[..4].iter().all(u8::is_ascii_hexdigit) && &l[4..6] == "  "
}

fn top_layer(line: &str) -> &'static str {
    for (prefix, name) in [
        ("Packet comments", "pkt_comment"),
        ("Frame ", "frame"),
        ("Ethernet II", "eth"),
        ("Internet Protocol Version 4", "ip"),
        ("Transmission Control Protocol", "tcp"),
        ("iWARP Marker Protocol", "iwarp_mpa"),
        ("iWARP Direct Data Placement", "iwarp_ddp_rdmap"),
        ("Data (", "data"),
    ] {
        if line.starts_with(prefix) {
            return name;
        }
    }
    "other"
}

/// `-V`: the in-scope layers' text equals tshark's line for line (bit patterns, value names,
/// units, brackets, the data hex dump), tshark's time-shift line and our own fields aside.
#[test]
fn printers_verbose_matches_tshark() {
    if !tshark_available("printers_verbose_matches_tshark") {
        return;
    }
    // Our own fields' -V lines are "[CRC status: Good]" and the like: names tshark lacks.
    let (known, _) = tshark_names();
    let mut own_names = Vec::new();
    for line in oneshot_dissect(&["-G", "fields"]).lines() {
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() > 2 && c[0] == "F" && !known.contains(c[2]) {
            own_names.push(c[1].to_string());
        }
    }
    let own_line = |l: &str| {
        let s = l.trim_start().trim_start_matches('[');
        let s = s.rsplit_once(" = ").map_or(s, |(_, r)| r);
        own_names
            .iter()
            .any(|n| s.starts_with(&format!("{n}: ")) || s.trim_end_matches(']') == n)
    };
    for name in STANDARD {
        let file = capture(name);
        let mut args = vec!["-r", &file, "-V"];
        args.extend(DISABLE);
        let t = verbose_frames(&run_tshark(&["-r", &file, "-V"]));
        let o = verbose_frames(&oneshot_dissect(&args));
        assert_eq!(t.len(), o.len(), "{name}: frame count");
        for (n, (a, b)) in t.iter().zip(&o).enumerate() {
            let keep = |f: &Vec<(String, String)>, mine: bool| -> Vec<String> {
                f.iter()
                    .filter(|(lay, _)| LAYERS.contains(&lay.as_str()))
                    .filter(|(_, l)| !l.contains("[Time shift for this packet: "))
                    .filter(|(_, l)| !(mine && own_line(l)))
                    .map(|(_, l)| l.clone())
                    .collect()
            };
            first_difference(
                &format!("{name} frame {} (-V)", n + 1),
                &keep(a, false),
                &keep(b, true),
            );
        }
    }
}

/// `-x` alone prints the dump only, in tshark's layout, byte for byte.
#[test]
fn printers_hex_matches_tshark() {
    if !tshark_available("printers_hex_matches_tshark") {
        return;
    }
    for name in STANDARD {
        let file = capture(name);
        let mut args = vec!["-r", &file, "-x", "--color", "never"];
        args.extend(DISABLE);
        assert_eq!(
            oneshot_dissect(&args),
            run_tshark(&["-r", &file, "-x"]),
            "{name}: -x differs from tshark's"
        );
    }
}

/// The tree of the one-shot advertise in captures/oneshot-write.pcapng (frame 5), checked by
/// hand against the capture's sidecar and ONESHOT.md §2: the one-shot fields sit in their own
/// protocol after RDMAP, the opcode reads its one-shot name.
#[test]
fn printers_verbose_shows_the_one_shot_fields() {
    let file = capture("oneshot-write.pcapng");
    let out = oneshot_dissect(&["-r", &file, "-V", "-Y", "frame.number == 5"]);
    for want in [
        "            .... 1000 = OpCode: Send with SE and Advertise (0x8)\n",
        "One-shot RDMA STag extension\n    Qualifier: advertise\n    One-shot STag: 0x00000139\n    Encoding: opcode\n    STag placement: rsvdulp\n",
        "        Reserved for use by the ULP: 4800000139\n",
        "        [CRC status: Good]\n",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    // Without the extension the opcode is tshark's "Unknown" and the protocol is gone.
    let off = oneshot_dissect(&[
        "-r",
        &file,
        "-V",
        "-Y",
        "frame.number == 5",
        "--disable-protocol",
        "oneshot",
    ]);
    assert!(off.contains("= OpCode: Unknown (0x8)\n"), "{off}");
    assert!(!off.contains("One-shot RDMA STag extension"), "{off}");
}

/// `-O`: only the listed protocols are expanded; the others keep their top line.
#[test]
fn printers_o_expands_only_the_listed_protocols() {
    let file = capture("oneshot-write.pcapng");
    let out = oneshot_dissect(&["-r", &file, "-O", "oneshot", "-Y", "frame.number == 5"]);
    let top: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(
        top,
        [
            "Packet comments",
            "Frame 5: 126 bytes on wire (1008 bits), 126 bytes captured (1008 bits) on interface h1, id 0",
            "Ethernet II, Src: 02:00:00:00:00:01 (02:00:00:00:00:01), Dst: 02:00:00:00:00:02 (02:00:00:00:00:02)",
            "Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2",
            "Transmission Control Protocol, Src Port: 49152, Dst Port: 3260, Seq: 25, Ack: 25, Len: 72",
            "iWARP Marker Protocol data unit Aligned framing",
            "iWARP Direct Data Placement and Remote Direct Memory Access Protocol",
            "One-shot RDMA STag extension",
            "iSCSI (SCSI Command)",
            "",
        ]
    );
    let indented: Vec<&str> = out.lines().filter(|l| l.starts_with(' ')).collect();
    assert_eq!(
        indented,
        [
            "    Qualifier: advertise",
            "    One-shot STag: 0x00000139",
            "    Encoding: opcode",
            "    STag placement: rsvdulp",
        ]
    );
}

/// `-x` with `-Y`: the octets of the filter's fields are marked, `^^` under them without
/// colour, reverse video with it; `-x` alone prints no summary line, `-P` adds it.
#[test]
fn printers_hex_marks_the_filter_fields() {
    let file = capture("oneshot-write.pcapng");
    let out = oneshot_dissect(&[
        "-r",
        &file,
        "-x",
        "--color",
        "never",
        "-Y",
        "oneshot.stag == 0x139",
    ]);
    // Frame 5: the STag is the RsvdULP word, octets 0x3a..0x3e of the frame (ONESHOT.md §2.4;
    // Ethernet 14 + IPv4 20 + TCP 20 + MPA 2 + DDP control 1 + RDMAP control 1 = 58).
    let rows: Vec<&str> = out.lines().collect();
    let i = rows
        .iter()
        .position(|r| r.starts_with("0030  "))
        .expect("row 0x30");
    assert_eq!(
        rows[i],
        "0030  ff ff 3d 50 00 00 00 42 41 48 00 00 01 39 00 00   ..=P...BAH...9.."
    );
    assert_eq!(
        rows[i + 1],
        format!("{}^^ ^^ ^^ ^^", " ".repeat(6 + 3 * 0xa))
    );
    assert!(
        !out.contains("\u{2192}"),
        "-x alone printed summary lines:\n{out}"
    );
    let colored = oneshot_dissect(&[
        "-r",
        &file,
        "-x",
        "-P",
        "--color",
        "always",
        "-Y",
        "oneshot.stag == 0x139",
    ]);
    assert!(
        colored.contains("\x1b[7m01\x1b[0m \x1b[7m39\x1b[0m"),
        "{colored}"
    );
    assert!(
        colored.contains("49152"),
        "-P prints the summary:\n{colored}"
    );
}

/// `-V` without `-x` dumps the octets of an expanded `data` protocol after its line, as
/// tshark does; with `-x` the frame's dump replaces it.
#[test]
fn printers_verbose_dumps_data() {
    let file = capture("conventional-write.pcapng");
    let args = ["-r", &file, "-V", "-Y", "frame.number == 5"];
    let mut a = args.to_vec();
    a.extend(DISABLE);
    let out = oneshot_dissect(&a);
    assert!(
        out.contains(
            "Data (76 bytes)\n\n0000  18 00 00 00 00 00 01 17 00 00 00 00 00 00 00 00   ................\n"
        ),
        "{out}"
    );
    assert!(out.contains("    Data: 1800000000000117000000000000000000000000000000000000000001a1000000000000…\n    [Length: 76]\n"));
    a.push("-x");
    let out = oneshot_dissect(&a);
    assert!(!out.contains("Data (76 bytes)\n\n"), "{out}");
}

/// Every EK line is JSON: an index line, then a document with `timestamp` and `layers`, for
/// every packet, with our own protocols on.
#[test]
fn printers_ek_lines_are_json() {
    for name in ["oneshot-write.pcapng", "faults.pcapng", "markers.pcapng"] {
        let file = capture(name);
        let out = oneshot_dissect(&["-r", &file, "-T", "ek", "-x"]);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() >= 2 && lines.len() % 2 == 0, "{name}");
        for pair in lines.chunks(2) {
            let idx: serde_json::Value = serde_json::from_str(pair[0]).expect("index line");
            assert!(
                idx["index"]["_index"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("packets-"))
            );
            let doc: serde_json::Value = serde_json::from_str(pair[1]).expect("document line");
            assert!(doc["timestamp"].as_str().is_some());
            assert!(
                doc["layers"]["frame"]["frame_frame_number"]
                    .as_str()
                    .is_some()
            );
        }
        // The one-shot layer is an object of its own, keyed by protocol.
        if name == "oneshot-write.pcapng" {
            let adv: serde_json::Value = serde_json::from_str(lines[9]).unwrap();
            assert_eq!(
                adv["layers"]["oneshot"]["oneshot_oneshot_stag"],
                serde_json::json!("0x00000139")
            );
            assert_eq!(
                adv["layers"]["iwarp_ddp_rdmap"]["iwarp_ddp_rdmap_iwarp_ddp_last_flag"],
                serde_json::json!(true)
            );
        }
    }
}
