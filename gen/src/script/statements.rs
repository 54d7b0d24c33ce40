//! The parser's state and the statements that declare things: `seed`, `host`, `profile`,
//! `conn`, `repeat`, `fault … rate`, `mutate`, `snaplen` and `capture from`. Commands are in
//! `commands.rs`.

use oneshot_codec::oneshot::{Encoding, Placement};

use super::commands::{COMMANDS, fault};
use super::error::{Fail, ScriptError, list, suggest};
use super::lexer::{Cursor, Kind, Tok, lex, unknown};
use super::tokens::{duration, hex_blob, int_in, ip, is_name, mac, probability, rate};
use crate::model::{
    Conn, ConnKind, Host, Line, Markers, MpaSettings, OneShotProfile, RateFault, Rtr, Scenario,
    Step,
};

/// Every word of the language: none of them can name a host or a conn.
pub(crate) const KEYWORDS: &[&str] = &[
    "seed",
    "host",
    "mac",
    "ip",
    "vlan",
    "mss",
    "rate",
    "latency",
    "window",
    "profile",
    "encoding",
    "opcode",
    "ddp-flags",
    "placement",
    "rsvdulp",
    "appended",
    "conn",
    "iwarp",
    "iscsi",
    "mpa",
    "ird",
    "ord",
    "p2p",
    "send",
    "write",
    "read",
    "markers",
    "none",
    "to-target",
    "to-initiator",
    "both",
    "crc",
    "on",
    "off",
    "private",
    "reject",
    "depth",
    "pause",
    "flow",
    "oneshot",
    "conventional",
    "iscsi-tcp",
    "se",
    "inv",
    "rdma-write",
    "stag",
    "to",
    "rdma-read",
    "sink",
    "source",
    "terminate",
    "layer",
    "etype",
    "code",
    "immediate",
    "atomic",
    "fetch-add",
    "cmp-swap",
    "from",
    "initiator",
    "target",
    "repeat",
    "fault",
    "loss",
    "reorder",
    "duplicate",
    "split",
    "close-wrong-stag",
    "close-wrong-itt",
    "close-unadvertised",
    "never-close",
    "both-bits",
    "bit-on-write",
    "bad-mpa-key",
    "ulpdu-length",
    "snaplen",
    "mutate",
    "capture",
];

/// The words a line can start with.
const STATEMENTS: &[&str] = &[
    "seed",
    "host",
    "profile",
    "conn",
    "write",
    "read",
    "send",
    "rdma-write",
    "rdma-read",
    "terminate",
    "immediate",
    "atomic",
    "pause",
    "repeat",
    "fault",
    "mutate",
    "snaplen",
    "capture",
];

/// Statements that declare or configure the whole run, so not inside a `repeat` block.
const DECLARATIONS: &[&str] = &[
    "seed", "host", "profile", "conn", "fault", "mutate", "snaplen", "capture",
];

const HOST_OPTS: &[&str] = &["vlan", "mss", "rate", "latency", "window"];
const IWARP_OPTS: &[&str] = &[
    "mpa", "ird", "ord", "p2p", "markers", "crc", "private", "reject", "depth",
];
const ISCSI_OPTS: &[&str] = &["depth"];
const ENCODINGS: &[&str] = &[Encoding::Opcode.name(), Encoding::DdpFlags.name()];
const PLACEMENTS: &[&str] = &[Placement::RsvdUlp.name(), Placement::Appended.name()];
/// Octets of private data that fit in an MPA Request (512 less the IRD/ORD of revision 2).
const MAX_PRIVATE: usize = 508;
/// How deep `repeat` blocks may nest.
const MAX_NESTING: usize = 64;

/// An open `repeat` block.
struct Block {
    line: Line,
    col: u32,
    source: String,
    count: u64,
    body: Vec<Step>,
}

/// Options already given in one statement, to refuse a second one.
#[derive(Default)]
pub(crate) struct Seen(Vec<(&'static str, u32)>);

impl Seen {
    /// Note `word` at `col`, or fail when it was given before.
    pub fn first(&mut self, word: &'static str, col: u32) -> Result<(), Fail> {
        if let Some((_, c)) = self.0.iter().find(|(w, _)| *w == word) {
            return Err(Fail::new(
                col,
                format!("\"{word}\" is given twice (first at column {c}); keep one"),
            ));
        }
        self.0.push((word, col));
        Ok(())
    }
}

/// Take a number in `lo..=hi`.
pub(crate) fn int(
    cur: &mut Cursor<'_, '_>,
    what: &str,
    name: &str,
    lo: u64,
    hi: u64,
) -> Result<(u64, u32), Fail> {
    let (v, t) = cur.value(what, |w| int_in(w, name, lo, hi))?;
    Ok((v, t.col))
}

/// The parser: the scenario so far and the open blocks.
pub(crate) struct State {
    pub(crate) sc: Scenario,
    blocks: Vec<Block>,
    seed: Option<Line>,
    profile: Option<Line>,
    mutate: Option<Line>,
    snaplen: Option<Line>,
    capture: Option<Line>,
}

impl State {
    /// An empty scenario with every default.
    pub fn new() -> Self {
        State {
            sc: Scenario {
                seed: 1,
                hosts: Vec::new(),
                conns: Vec::new(),
                oneshot: OneShotProfile::default(),
                steps: Vec::new(),
                rate_faults: Vec::new(),
                mutate: None,
                snaplen: None,
                capture_from: None,
            },
            blocks: Vec::new(),
            seed: None,
            profile: None,
            mutate: None,
            snaplen: None,
            capture: None,
        }
    }

    /// The finished scenario, or the first block left open.
    pub fn finish(self) -> Result<Scenario, ScriptError> {
        match self.blocks.last() {
            Some(b) => Err(Fail::new(
                b.col,
                "unclosed \"{\": end this repeat block with \"}\" on a line of its own",
            )
            .at(b.line, &b.source)),
            None => Ok(self.sc),
        }
    }

    fn push(&mut self, step: Step) {
        match self.blocks.last_mut() {
            Some(b) => b.body.push(step),
            None => self.sc.steps.push(step),
        }
    }

    /// Parse one line (without its line ending).
    pub fn line(&mut self, line: Line, text: &str) -> Result<(), Fail> {
        let (toks, eol) = lex(text)?;
        let Some(&first) = toks.first() else {
            return Ok(());
        };
        let mut cur = Cursor::new(&toks, eol);
        match first.kind {
            Kind::Close => {
                cur.next_tok();
                let Some(b) = self.blocks.pop() else {
                    return Err(Fail::new(
                        first.col,
                        "stray \"}\": no repeat block is open (a block starts with \"repeat N {\")",
                    ));
                };
                cur.end("\"}\"")?;
                self.push(Step::Repeat {
                    line: b.line,
                    count: b.count,
                    body: b.body,
                });
                return Ok(());
            }
            Kind::Word => {}
            _ => return Err(cur.expected("a statement such as \"host\", \"conn\" or \"write\"")),
        }
        let (kw, tok) = cur.choice("statement", STATEMENTS)?;
        if DECLARATIONS.contains(&kw) {
            if let Some(b) = self.blocks.last() {
                return Err(Fail::new(
                    tok.col,
                    format!(
                        "\"{kw}\" applies to the whole run, so it cannot go inside a repeat block \
                         (open since line {}); put it before the block",
                        b.line
                    ),
                ));
            }
        }
        match kw {
            "seed" => {
                once(&mut self.seed, kw, line, tok.col)?;
                self.sc.seed = int(&mut cur, "a seed such as 7", "a seed", 0, u64::MAX)?.0;
            }
            "host" => self.host(&mut cur, line)?,
            "profile" => {
                once(&mut self.profile, kw, line, tok.col)?;
                self.profile(&mut cur)?;
            }
            "conn" => self.conn(&mut cur, line)?,
            "repeat" => return self.repeat(&mut cur, line, text),
            "fault" => {
                let (fault, name, _) = fault(&mut cur)?;
                if cur.peek().and_then(|t| t.word()) != Some("rate") {
                    return Err(Fail::new(
                        cur.here(),
                        format!(
                            "expected \"rate\" and a probability such as 0.01 after \"fault \
                             {name}\", found {}; to fault one command only, end that command \
                             with \"fault {name}\"",
                            cur.found()
                        ),
                    ));
                }
                cur.next_tok();
                let (rate, _) = cur.value(
                    "a probability above 0 and at most 1, such as 0.01",
                    probability,
                )?;
                self.sc.rate_faults.push(RateFault { fault, rate, line });
            }
            "mutate" => {
                once(&mut self.mutate, kw, line, tok.col)?;
                cur.keyword("rate", "after \"mutate\" (as in \"mutate rate 0.05\")")?;
                let (rate, _) = cur.value(
                    "a probability above 0 and at most 1, such as 0.05",
                    probability,
                )?;
                self.sc.mutate = Some(rate);
            }
            "snaplen" => {
                once(&mut self.snaplen, kw, line, tok.col)?;
                let what = "a capture length from 54 to 65535";
                let (v, _) = int(&mut cur, what, "\"snaplen\"", 54, 65535)?;
                self.sc.snaplen = Some(u32::try_from(v).unwrap_or(u32::MAX));
            }
            "capture" => {
                once(&mut self.capture, kw, line, tok.col)?;
                cur.keyword("from", "after \"capture\" (as in \"capture from 5\")")?;
                let what = "the number of the first frame to capture, such as 5";
                let (v, _) = int(&mut cur, what, "\"capture from\"", 1, u64::MAX)?;
                self.sc.capture_from = Some(v);
            }
            _ => {
                debug_assert!(COMMANDS.contains(&kw));
                let step = self.command(kw, tok, &mut cur, line)?;
                self.push(step);
            }
        }
        cur.end(&format!("the \"{kw}\" statement"))
    }

    /// `repeat N {`: open a block.
    fn repeat(&mut self, cur: &mut Cursor<'_, '_>, line: Line, text: &str) -> Result<(), Fail> {
        let what = "a repeat count such as 4";
        let (count, _) = int(cur, what, "a repeat count", 1, u64::MAX)?;
        let open = match cur.peek() {
            Some(t) if t.kind == Kind::Open => t,
            _ => return Err(cur.expected("\"{\" after the repeat count")),
        };
        cur.next_tok();
        if cur.peek().is_some() {
            return Err(cur.expected(
                "the end of the line after \"{\" (the block's statements go on the lines below)",
            ));
        }
        if self.blocks.len() >= MAX_NESTING {
            return Err(Fail::new(
                open.col,
                format!("repeat blocks nest at most {MAX_NESTING} deep; flatten this one"),
            ));
        }
        self.blocks.push(Block {
            line,
            col: open.col,
            source: text.to_owned(),
            count,
            body: Vec::new(),
        });
        Ok(())
    }

    /// A new name for a host or a conn.
    fn new_name(
        cur: &mut Cursor<'_, '_>,
        kind: &str,
        example: &str,
        taken: impl Iterator<Item = (String, Line)>,
    ) -> Result<String, Fail> {
        let what = format!(
            "a {kind} name such as {example} (a letter, then letters, digits, \"-\" or \"_\")"
        );
        let (name, tok) = cur.value(&what, |w| if is_name(w) { Ok(w) } else { Err(None) })?;
        if KEYWORDS.contains(&name) {
            return Err(Fail::new(
                tok.col,
                format!(
                    "\"{name}\" is a keyword and cannot name a {kind}; use another name such as {example}"
                ),
            ));
        }
        for (other, l) in taken {
            if other == name {
                return Err(Fail::new(
                    tok.col,
                    format!("{kind} \"{name}\" is already declared on line {l}; use another name"),
                ));
            }
        }
        Ok(name.to_owned())
    }

    /// `host NAME mac MAC ip IP { host-opt }`.
    fn host(&mut self, cur: &mut Cursor<'_, '_>, line: Line) -> Result<(), Fail> {
        let taken = self.sc.hosts.iter().map(|h| (h.name.clone(), h.line));
        let name = Self::new_name(cur, "host", "h1", taken)?;
        cur.keyword("mac", "after the host name")?;
        let (mac, _) = cur.value("a MAC address such as 02:00:00:00:00:01", mac)?;
        cur.keyword("ip", "after the MAC address")?;
        let (ip, _) = cur.value("an IP address such as 10.0.0.1 or fd00::1", ip)?;
        let mut host = Host {
            name,
            line,
            mac,
            ip,
            vlan: None,
            mss: if ip.is_ipv4() { 1460 } else { 1440 },
            rate_bps: 25_000_000_000,
            latency: std::time::Duration::from_micros(2),
            window: 65535,
        };
        let mut seen = Seen::default();
        while let Some(t) = cur.next_tok() {
            let Some(w) = t.word().and_then(|w| HOST_OPTS.iter().find(|o| **o == w)) else {
                return Err(unknown(t, "option", " for \"host\"", HOST_OPTS));
            };
            seen.first(w, t.col)?;
            match *w {
                "vlan" => {
                    let what = "a VLAN ID from 1 to 4094";
                    let v = int(cur, what, "\"vlan\"", 1, 4094)?.0;
                    host.vlan = Some(u16::try_from(v).unwrap_or(0));
                }
                "mss" => {
                    let v = int(cur, "an MSS from 536 to 9000", "\"mss\"", 536, 9000)?.0;
                    host.mss = u16::try_from(v).unwrap_or(0);
                }
                "rate" => {
                    host.rate_bps = cur.value("a link rate such as 25G, 100M or 2.5G", rate)?.0
                }
                "latency" => {
                    let what = "a duration such as 2us, 500ns or 1.5ms";
                    host.latency = cur.value(what, duration)?.0;
                }
                _ => {
                    let v = int(cur, "a window from 1 to 65535", "\"window\"", 1, 65535)?.0;
                    host.window = u16::try_from(v).unwrap_or(0);
                }
            }
        }
        self.sc.hosts.push(host);
        Ok(())
    }

    /// `profile { encoding … | placement … }`.
    fn profile(&mut self, cur: &mut Cursor<'_, '_>) -> Result<(), Fail> {
        let mut seen = Seen::default();
        const OPTS: &[&str] = &["encoding", "placement"];
        while let Some(t) = cur.next_tok() {
            let Some(w) = t.word().and_then(|w| OPTS.iter().find(|o| **o == w)) else {
                return Err(unknown(t, "option", " for \"profile\"", OPTS));
            };
            seen.first(w, t.col)?;
            if *w == "encoding" {
                let (name, tok) = cur.choice("encoding", ENCODINGS)?;
                self.sc.oneshot.encoding = name
                    .parse()
                    .map_err(|_| Fail::new(tok.col, "bad encoding"))?;
            } else {
                let (name, tok) = cur.choice("placement", PLACEMENTS)?;
                self.sc.oneshot.placement = name
                    .parse()
                    .map_err(|_| Fail::new(tok.col, "bad placement"))?;
            }
        }
        Ok(())
    }

    /// Index of the declared host `name`.
    fn host_ref(&self, name: &str, col: u32) -> Result<usize, Fail> {
        let names: Vec<&str> = self.sc.hosts.iter().map(|h| h.name.as_str()).collect();
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| unknown_name("host", name, col, &names, "host NAME mac MAC ip IP"))
    }

    /// Index of the declared conn `name`.
    pub(crate) fn conn_ref(&self, name: &str, col: u32) -> Result<usize, Fail> {
        let names: Vec<&str> = self.sc.conns.iter().map(|c| c.name.as_str()).collect();
        names.iter().position(|n| *n == name).ok_or_else(|| {
            unknown_name(
                "conn",
                name,
                col,
                &names,
                "conn NAME HOST:PORT -> HOST:PORT iwarp",
            )
        })
    }

    /// `NAME:PORT`.
    fn endpoint<'a>(&self, cur: &mut Cursor<'_, 'a>) -> Result<(usize, u16, Tok<'a>), Fail> {
        let what = "HOST:PORT such as h1:49152";
        let tok = cur.peek().filter(|t| t.kind == Kind::Word);
        let Some((tok, (name, port))) = tok.and_then(|t| Some((t, t.text.split_once(':')?))) else {
            return Err(cur.expected(what));
        };
        if !is_name(name) {
            return Err(cur.expected(what));
        }
        let host = self.host_ref(name, tok.col)?;
        let col = tok.col + u32::try_from(name.chars().count() + 1).unwrap_or(0);
        let port = match int_in(port, "a port", 1, 65535) {
            Ok(p) => u16::try_from(p).unwrap_or(0),
            Err(None) => {
                return Err(Fail::new(
                    col,
                    format!("expected a port from 1 to 65535 after \"{name}:\", found \"{port}\""),
                ));
            }
            Err(Some(m)) => return Err(Fail::new(col, m)),
        };
        cur.next_tok();
        Ok((host, port, tok))
    }

    /// `conn NAME A:P -> B:P ( iwarp { iwarp-opt } | iscsi ) { conn-opt }`.
    fn conn(&mut self, cur: &mut Cursor<'_, '_>, line: Line) -> Result<(), Fail> {
        let taken = self.sc.conns.iter().map(|c| (c.name.clone(), c.line));
        let name = Self::new_name(cur, "conn", "c1", taken)?;
        let (a, a_port, a_tok) = self.endpoint(cur)?;
        match cur.peek() {
            Some(t) if t.kind == Kind::Arrow => cur.next_tok(),
            _ => return Err(cur.expected("\"->\" between the initiator and the target")),
        };
        let (b, b_port, b_tok) = self.endpoint(cur)?;
        let (ha, hb) = (&self.sc.hosts[a], &self.sc.hosts[b]);
        if a == b {
            return Err(Fail::new(
                b_tok.col,
                format!(
                    "both ends are host \"{}\"; a conn joins two different hosts",
                    ha.name
                ),
            ));
        }
        if ha.ip.is_ipv4() != hb.ip.is_ipv4() {
            let v = |h: &Host| if h.ip.is_ipv4() { "IPv4" } else { "IPv6" };
            return Err(Fail::new(
                b_tok.col,
                format!(
                    "host \"{}\" is {} but \"{}\" is {}; both hosts of a conn need the same IP version",
                    ha.name,
                    v(ha),
                    hb.name,
                    v(hb)
                ),
            ));
        }
        let ends = |c: &Conn| {
            let x = (c.initiator, c.initiator_port);
            let y = (c.target, c.target_port);
            [(x, y), (y, x)].contains(&((a, a_port), (b, b_port)))
        };
        if let Some(c) = self.sc.conns.iter().find(|c| ends(c)) {
            return Err(Fail::new(
                a_tok.col,
                format!(
                    "conn \"{}\" (line {}) already joins these hosts and ports; use other ports",
                    c.name, c.line
                ),
            ));
        }
        let (proto, _) = cur.choice("protocol", &["iwarp", "iscsi"])?;
        let iwarp = proto == "iwarp";
        let mut mpa = MpaSettings {
            revision: 2,
            ird: 16,
            ord: 16,
            p2p: None,
            markers: Markers::None,
            crc: true,
            private_data: Vec::new(),
            reject: false,
        };
        let mut depth = 1;
        let mut seen = Seen::default();
        let mut mpa2_only: Vec<(&str, u32)> = Vec::new();
        let opts = if iwarp { IWARP_OPTS } else { ISCSI_OPTS };
        while let Some(t) = cur.next_tok() {
            let Some(w) = t.word().and_then(|w| IWARP_OPTS.iter().find(|o| **o == w)) else {
                return Err(unknown(t, "option", " for \"conn\"", opts));
            };
            if !opts.contains(w) {
                return Err(Fail::new(
                    t.col,
                    format!("\"{w}\" is an iwarp option, and conn \"{name}\" is iscsi"),
                ));
            }
            seen.first(w, t.col)?;
            match *w {
                "mpa" => {
                    let (r, _) = cur.choice("MPA revision", &["1", "2"])?;
                    mpa.revision = if r == "1" { 1 } else { 2 };
                }
                "ird" | "ord" => {
                    let what = format!("an {} from 0 to 16383", w.to_uppercase());
                    let v = int(cur, &what, &format!("\"{w}\""), 0, 16383)?.0;
                    let v = u16::try_from(v).unwrap_or(0);
                    if *w == "ird" {
                        mpa.ird = v;
                    } else {
                        mpa.ord = v;
                    }
                    mpa2_only.push((w, t.col));
                }
                "p2p" => {
                    let (r, _) = cur.choice("RTR type", &["send", "write", "read"])?;
                    mpa.p2p = Some(match r {
                        "send" => Rtr::Send,
                        "write" => Rtr::Write,
                        _ => Rtr::Read,
                    });
                    mpa2_only.push((w, t.col));
                }
                "markers" => {
                    let m = ["none", "to-target", "to-initiator", "both"];
                    mpa.markers = match cur.choice("marker setting", &m)?.0 {
                        "none" => Markers::None,
                        "to-target" => Markers::ToTarget,
                        "to-initiator" => Markers::ToInitiator,
                        _ => Markers::Both,
                    };
                }
                "crc" => mpa.crc = cur.choice("CRC setting", &["on", "off"])?.0 == "on",
                "private" => {
                    let col = cur.here();
                    mpa.private_data = match cur.peek() {
                        Some(s) if s.kind == Kind::Str => {
                            cur.next_tok();
                            s.text.as_bytes().to_vec()
                        }
                        _ => {
                            let what = "private data: a quoted string or hex such as 0x0102";
                            cur.value(what, hex_blob)?.0
                        }
                    };
                    if mpa.private_data.len() > MAX_PRIVATE {
                        return Err(Fail::new(
                            col,
                            format!(
                                "private data is {} octets; an MPA Request carries at most {MAX_PRIVATE}",
                                mpa.private_data.len()
                            ),
                        ));
                    }
                }
                "reject" => mpa.reject = true,
                _ => depth = int(cur, "a depth from 1 to 1024", "\"depth\"", 1, 1024)?.0,
            }
        }
        if mpa.revision == 1 {
            if let Some((w, col)) = mpa2_only.first() {
                return Err(Fail::new(*col, format!("\"{w}\" needs \"mpa 2\"")));
            }
        }
        self.sc.conns.push(Conn {
            name,
            line,
            initiator: a,
            initiator_port: a_port,
            target: b,
            target_port: b_port,
            kind: if iwarp {
                ConnKind::Iwarp(mpa)
            } else {
                ConnKind::Iscsi
            },
            depth: u32::try_from(depth).unwrap_or(1),
        });
        Ok(())
    }
}

/// Refuse a second `seed`, `profile`, `mutate`, `snaplen` or `capture`.
fn once(slot: &mut Option<Line>, kw: &str, line: Line, col: u32) -> Result<(), Fail> {
    if let Some(prev) = *slot {
        return Err(Fail::new(
            col,
            format!("\"{kw}\" is already given on line {prev}; keep one"),
        ));
    }
    *slot = Some(line);
    Ok(())
}

/// `unknown host "h3" (declared: h1, h2)`, with a suggestion when one is close.
fn unknown_name(kind: &str, name: &str, col: u32, declared: &[&str], how: &str) -> Fail {
    let msg = if declared.is_empty() {
        format!(
            "unknown {kind} \"{name}\" (no {kind} is declared yet; declare it first with \"{how}\")"
        )
    } else {
        match suggest(name, declared.iter().copied()) {
            Some(s) => format!(
                "unknown {kind} \"{name}\" (did you mean \"{s}\"? declared: {})",
                list(declared)
            ),
            None => format!("unknown {kind} \"{name}\" (declared: {})", list(declared)),
        }
    };
    Fail::new(col, msg)
}
