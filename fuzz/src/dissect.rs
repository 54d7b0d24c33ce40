//! Drives `oneshot-dissect` the way its command line does, for the `capture` and `stream`
//! targets: every packet goes through the [`Dissector`], the display filter, the `-z`
//! statistics and every printer at once (summary line with `-x`, `-V -x`, `-O`, `-T json -x`,
//! `-T ek`, `-T fields`), then the run is finished as `main` finishes it.
//!
//! What a user would notice is checked: `-T json` is one valid JSON array with an object per
//! printed frame, every `-T ek` line is valid JSON, and all output is UTF-8.

use std::sync::Arc;

use oneshot_dissect::capture::{CaptureError, CaptureReader, Format, Packet};
use oneshot_dissect::cli::{Color, Mode, Options};
use oneshot_dissect::codec::oneshot::Placement;
use oneshot_dissect::codec::rdmap::{Profile, Settings};
use oneshot_dissect::dissector::{Config, DecodeAs, Dissector};
use oneshot_dissect::filter::Filter;
use oneshot_dissect::print::Printer;
use oneshot_dissect::print::fields::{FieldOptions, Occurrence};
use oneshot_dissect::stats::{KNOWN, Stats};
use oneshot_dissect::tree::Detail;

/// The display filter every run applies: it names fields of every layer, so `-x` marks their
/// octets, and it is true often enough that most frames are printed.
pub const FILTER: &str = "frame.number > 0 && !(iwarp_ddp.stag == 0xdeadbeef) || tcp.len >= 0 \
     || iwarp_mpa.crc_status == 0 || oneshot.stag || iscsi.opcode || tcp.payload contains 00:00";

/// The `-T fields` columns.
const FIELDS: &[&str] = &[
    "frame.number",
    "_ws.col.Info",
    "_ws.col.Protocol",
    "tcp.seq",
    "tcp.analysis.flags",
    "iwarp_mpa.ulpdulength",
    "iwarp_ddp.stag",
    "iwarp_rdma.opcode",
    "oneshot.stag",
    "iscsi.opcode",
    "_ws.expert.message",
];

/// Run settings a target picks from its input: eight switches (one bit each, from the low bit
/// up) and, in the next six bits, the printers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Knobs {
    /// `--profile rfc7306` (else `oneshot`).
    pub rfc7306: bool,
    /// `--placement appended` (else `rsvdulp`).
    pub appended: bool,
    /// Build the tree at [`Detail::Values`] (what `-T fields` or `-Y` alone ask for) instead of
    /// [`Detail::Labels`] (`-V`); the `-V` and `-O` printers are skipped then.
    pub values_only: bool,
    /// `-2`: a first pass learns what the second shows.
    pub two_pass: bool,
    /// Coloured output.
    pub color: bool,
    /// `--reassembly-cap 4K` (else the default 64M).
    pub small_cap: bool,
    /// `--disable-protocol oneshot,iser`.
    pub disable_ulps: bool,
    /// Only the counts of exchanges are kept (`-z oneshot,exchanges` not asked for).
    pub count_only: bool,
    /// Which printers run, one bit each: summary line with `-x`, `-T json -x`, `-T ek`,
    /// `-T fields`, `-V -x`, `-O iwarp_ddp,oneshot,iscsi` (the last two only at
    /// [`Detail::Labels`]). None is `-q`.
    pub printers: u8,
}

impl Knobs {
    /// Knobs from the low fourteen bits of `bits`.
    pub fn from_bits(bits: u16) -> Knobs {
        let bit = |n: u8| bits & (1 << n) != 0;
        Knobs {
            rfc7306: bit(0),
            appended: bit(1),
            values_only: bit(2),
            two_pass: bit(3),
            color: bit(4),
            small_cap: bit(5),
            disable_ulps: bit(6),
            count_only: bit(7),
            printers: (bits >> 8) as u8 & 0x3f,
        }
    }

    /// The dissector configuration, with these `-d` rules.
    pub fn config(self, decode_as: Vec<DecodeAs>) -> Config {
        let mut c = Config {
            settings: Settings {
                profile: if self.rfc7306 {
                    Profile::Rfc7306
                } else {
                    Profile::OneShot
                },
                placement: if self.appended && !self.disable_ulps {
                    Placement::Appended
                } else {
                    Placement::RsvdUlp
                },
            },
            decode_as,
            detail: if self.values_only {
                Detail::Values
            } else {
                Detail::Labels
            },
            summary: true,
            ..Config::default()
        };
        if self.small_cap {
            c.reassembly_cap = 4 << 10;
        }
        c.disabled.oneshot = self.disable_ulps;
        c.disabled.iser = self.disable_ulps;
        c
    }
}

/// The options `Printer::new` reads, for one output mode.
fn options(mode: Mode, hex: bool, color: bool) -> Options {
    Options {
        file: String::new(),
        mode,
        hex,
        summary_line: true,
        filter: Some(FILTER.to_owned()),
        count: None,
        stats: Vec::new(),
        glossary: None,
        config: Config::default(),
        color: if color { Color::Always } else { Color::Never },
        progress: false,
        two_pass: false,
    }
}

/// One printer and what it wrote.
struct Output {
    printer: Printer,
    text: Vec<u8>,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Kept whole, checked at the end.
    Json,
    /// Each frame's lines are checked, then dropped.
    Ek,
    /// Checked for UTF-8 per frame, then dropped.
    Text,
}

/// A whole run: dissector, filter, statistics and printers.
pub struct Run {
    d: Dissector,
    filter: Filter,
    stats: Stats,
    outputs: Vec<Output>,
    pcapng: bool,
    first_ts: Option<i64>,
    shown: usize,
}

impl Run {
    /// A run with `knobs` and `config` (made by [`Knobs::config`]) on a capture that is
    /// pcapng (or not).
    pub fn new(knobs: Knobs, config: Config, pcapng: bool) -> Run {
        let (printers, color) = (knobs.printers, knobs.color);
        let filter = Filter::compile(FILTER).expect("the harness's filter compiles");
        let labels = config.detail == Detail::Labels;
        let mut modes = vec![
            (Mode::Summary, true, Kind::Text),
            (Mode::Json, true, Kind::Json),
            (Mode::Ek, false, Kind::Ek),
            (
                Mode::Fields {
                    names: FIELDS.iter().map(|s| s.to_string()).collect(),
                    opts: FieldOptions {
                        header: true,
                        separator: "|".into(),
                        occurrence: if color {
                            Occurrence::Last
                        } else {
                            Occurrence::All
                        },
                        aggregator: ";".into(),
                        quote: Some('"'),
                    },
                },
                false,
                Kind::Text,
            ),
        ];
        if labels {
            modes.push((Mode::Tree { only: Vec::new() }, true, Kind::Text));
            modes.push((
                Mode::Tree {
                    only: vec!["iwarp_ddp".into(), "oneshot".into(), "iscsi".into()],
                },
                false,
                Kind::Text,
            ));
        }
        let outputs = modes
            .into_iter()
            .enumerate()
            .filter(|(i, _)| printers & (1 << i) != 0)
            .map(|(_, m)| m)
            .map(|(mode, hex, kind)| {
                let opts = options(mode, hex, color);
                let mut printer = Printer::new(&opts, Some(&filter));
                printer.set_color(color);
                Output {
                    printer,
                    text: Vec::new(),
                    kind,
                }
            })
            .collect();
        let mut d = Dissector::new(config);
        d.analysis.count_only = knobs.count_only;
        let wanted: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
        Run {
            d,
            filter,
            stats: Stats::new(&wanted),
            outputs,
            pcapng,
            first_ts: None,
            shown: 0,
        }
    }

    /// Dissects, filters, counts and prints one packet.
    pub fn packet(&mut self, pkt: &Packet<'_>) {
        let first = *self.first_ts.get_or_insert(pkt.ts_ns);
        self.d.dissect(pkt, self.pcapng);
        let matched = self.filter.matches(&self.d.tree, pkt.data);
        self.stats.frame(&self.d, pkt, matched);
        if !matched {
            return;
        }
        self.shown += 1;
        self.d.displayed(pkt.ts_ns);
        let rel = pkt.ts_ns.saturating_sub(first);
        for o in &mut self.outputs {
            o.printer
                .frame(&mut o.text, &self.d, pkt, rel)
                .expect("writing to memory");
            match o.kind {
                Kind::Json => {}
                Kind::Ek => {
                    for line in o.text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                        if let Err(e) = serde_json::from_slice::<serde_json::Value>(line) {
                            panic!(
                                "-T ek line is not JSON: {e}: {}",
                                String::from_utf8_lossy(line)
                            );
                        }
                    }
                    o.text.clear();
                }
                Kind::Text => {
                    if let Err(e) = std::str::from_utf8(&o.text) {
                        panic!("output is not UTF-8: {e}");
                    }
                    o.text.clear();
                }
            }
        }
    }

    /// Closes the printers, finishes the analysis and writes the statistics, as `main` does.
    pub fn finish(mut self) {
        for o in &mut self.outputs {
            o.printer.finish(&mut o.text).expect("writing to memory");
            match o.kind {
                Kind::Json => {
                    let v: serde_json::Value = match serde_json::from_slice(&o.text) {
                        Ok(v) => v,
                        Err(e) => panic!("-T json output is not JSON: {e}"),
                    };
                    let frames = v.as_array().map(Vec::len);
                    assert_eq!(frames, Some(self.shown), "-T json: one object per frame");
                }
                // The tree printers keep their text until a chunk is full or they finish.
                Kind::Text => {
                    if let Err(e) = std::str::from_utf8(&o.text) {
                        panic!("output is not UTF-8: {e}");
                    }
                }
                Kind::Ek => {}
            }
        }
        let leaks = self.d.finish();
        let mut text = Vec::new();
        self.stats
            .write(&mut text, &self.d, &leaks)
            .expect("writing to memory");
        if let Err(e) = std::str::from_utf8(&text) {
            panic!("-z output is not UTF-8: {e}");
        }
    }
}

/// A dissector for the first of two passes (`-2`) with `config`: feed it every packet, then
/// take its [`Dissector::into_hindsight`] for the second pass's `config.hindsight`.
pub fn first_pass(config: &Config) -> Dissector {
    let mut c = config.clone();
    c.learn = true;
    c.summary = false;
    c.detail = Detail::Off;
    Dissector::new(c)
}

/// Reads `bytes` as a capture file and runs every packet through a [`Run`]; a reader error ends
/// the run as it ends the command line's (after what was read).
pub fn run_capture(bytes: &[u8], knobs: Knobs) {
    let mut config = knobs.config(Vec::new());
    let Some(mut reader) = open(bytes) else {
        return;
    };
    let pcapng = matches!(reader.format(), Format::PcapNg);
    if knobs.two_pass {
        let Some(mut again) = open(bytes) else {
            panic!("the capture opened once but not twice");
        };
        let mut d = first_pass(&config);
        while let Some(Ok(pkt)) = again.next() {
            d.dissect(&pkt, pcapng);
        }
        config.hindsight = Some(Arc::new(d.into_hindsight()));
    }
    let mut run = Run::new(knobs, config, pcapng);
    loop {
        match reader.next() {
            Some(Ok(pkt)) => run.packet(&pkt),
            Some(Err(e)) => {
                one_line(&e, bytes.len());
                break;
            }
            None => break,
        }
    }
    run.finish();
}

/// A reader for `bytes`, or `None` when its header does not read.
fn open(bytes: &[u8]) -> Option<CaptureReader> {
    let r = std::io::Cursor::new(bytes.to_vec());
    CaptureReader::from_reader("fuzz.pcap", Box::new(r))
        .map_err(|e| one_line(&e, bytes.len()))
        .ok()
}

/// A reader's error is one line naming the file and an offset inside it (I/O errors have
/// none).
fn one_line(e: &CaptureError, len: usize) {
    let text = e.to_string();
    assert!(!text.contains('\n'), "error of more than one line: {text}");
    assert!(
        text.starts_with("fuzz.pcap: "),
        "error not naming the file: {text}"
    );
    if let Some(at) = e.offset() {
        assert!(at <= len as u64, "offset {at} past the end ({len}): {text}");
    }
}
