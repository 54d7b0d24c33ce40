//! `-z` statistics, printed after the frames: tshark's `expert` and `io,phs`, and the
//! project's own `oneshot,exchanges` and `oneshot,stags` (ONESHOT.md §6).

use foldhash::HashMap;
use std::io::{self, Write};

use crate::analysis::Leak;
use crate::capture::Packet;
use crate::dissector::Dissector;
use crate::print::value::write_rel_time;
use crate::tree::Severity;

/// The statistics `-z` knows.
pub const KNOWN: &[&str] = &["expert", "io,phs", "oneshot,exchanges", "oneshot,stags"];

#[derive(Debug, Default)]
struct PhsNode {
    name: String,
    frames: u64,
    bytes: u64,
    kids: Vec<PhsNode>,
}

impl PhsNode {
    fn add(&mut self, path: &[&str], len: u64) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let i = match self.kids.iter().position(|k| k.name == *first) {
            Some(i) => i,
            None => {
                self.kids.push(PhsNode {
                    name: first.to_string(),
                    ..PhsNode::default()
                });
                self.kids.len() - 1
            }
        };
        let k = &mut self.kids[i];
        k.frames += 1;
        k.bytes += len;
        k.add(rest, len);
    }

    fn write(&self, out: &mut dyn Write, depth: usize) -> io::Result<()> {
        for k in &self.kids {
            let name = format!("{:indent$}{}", "", k.name, indent = depth * 2);
            writeln!(out, "{name:<40} frames:{} bytes:{}", k.frames, k.bytes)?;
            k.write(out, depth + 1)?;
        }
        Ok(())
    }
}

/// Severity, group, protocol and message of an expert finding.
type ExpertKey = (Severity, &'static str, &'static str, String);

/// Counters for the requested statistics.
pub struct Stats {
    wanted: Vec<String>,
    /// (severity, group, protocol, message) → count, in first-seen order.
    experts: Vec<(ExpertKey, u64)>,
    expert_index: HashMap<ExpertKey, usize>,
    phs: PhsNode,
}

impl Stats {
    /// Statistics for these `-z` arguments (already validated against [`KNOWN`]).
    pub fn new(wanted: &[String]) -> Self {
        Stats {
            wanted: wanted.to_vec(),
            experts: Vec::new(),
            expert_index: HashMap::default(),
            phs: PhsNode::default(),
        }
    }

    fn wants(&self, z: &str) -> bool {
        self.wanted.iter().any(|w| w == z)
    }

    /// Counts the dissector's current frame (`matched`: it passed the display filter).
    #[inline]
    pub fn frame(&mut self, d: &Dissector, pkt: &Packet<'_>, matched: bool) {
        // Decided where it is inlined: without -z a frame costs a test rather than a call.
        if matched && !self.wanted.is_empty() {
            self.count(d, pkt);
        }
    }

    /// [`Stats::frame`] of a frame to count.
    #[inline(never)]
    fn count(&mut self, d: &Dissector, pkt: &Packet<'_>) {
        if self.wants("expert") {
            let t = &d.tree;
            for e in &t.experts {
                let def = e.field.def();
                let proto = protocol_short(def.abbrev);
                let msg = t.arena_str(e.text).to_string();
                let key = (
                    e.severity,
                    crate::dissector::group_word(e.field),
                    proto,
                    msg,
                );
                match self.expert_index.get(&key) {
                    Some(&i) => self.experts[i].1 += 1,
                    None => {
                        self.expert_index.insert(key.clone(), self.experts.len());
                        self.experts.push((key, 1));
                    }
                }
            }
        }
        if self.wants("io,phs") {
            let mut path: Vec<&str> = Vec::with_capacity(8);
            if pkt.comment.is_some() {
                path.push("pkt_comment");
            }
            path.extend(
                d.protocols()
                    .split(':')
                    .filter(|p| !p.is_empty() && *p != "ethertype"),
            );
            self.phs.add(&path, u64::from(pkt.orig_len));
        }
    }

    /// Prints every requested statistic.
    pub fn write(&self, out: &mut dyn Write, d: &Dissector, leaks: &[Leak]) -> io::Result<()> {
        for w in &self.wanted {
            match w.as_str() {
                "expert" => self.write_expert(out)?,
                "io,phs" => {
                    writeln!(out)?;
                    writeln!(
                        out,
                        "==================================================================="
                    )?;
                    writeln!(out, "Protocol Hierarchy Statistics")?;
                    writeln!(out, "Filter: ")?;
                    writeln!(out)?;
                    self.phs.write(out, 0)?;
                    writeln!(
                        out,
                        "==================================================================="
                    )?;
                }
                "oneshot,exchanges" => write_exchanges(out, d)?,
                "oneshot,stags" => write_stags(out, d, leaks)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn write_expert(&self, out: &mut dyn Write) -> io::Result<()> {
        for (sev, title) in [
            (Severity::Error, "Errors"),
            (Severity::Warning, "Warns"),
            (Severity::Note, "Notes"),
            (Severity::Chat, "Chats"),
        ] {
            let rows: Vec<_> = self
                .experts
                .iter()
                .filter(|((s, ..), _)| *s == sev)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let total: u64 = rows.iter().map(|(_, n)| n).sum();
            writeln!(out)?;
            writeln!(out, "{title} ({total})")?;
            writeln!(out, "=============")?;
            writeln!(out, "   Frequency      Group           Protocol  Summary")?;
            for ((_, group, proto, msg), n) in rows {
                writeln!(out, "{n:>12} {group:>10} {proto:>18}  {msg}")?;
            }
        }
        Ok(())
    }
}

/// The protocol column of `-z expert` for an expert field.
fn protocol_short(abbrev: &str) -> &'static str {
    let p = abbrev.split('.').next().unwrap_or("");
    match p {
        "iwarp_mpa" => "IWARP_MPA",
        "iwarp_ddp" | "iwarp_rdma" | "iwarp_ddp_rdmap" => "IWARP_DDP_RDMAP",
        "oneshot" => "one-shot",
        "iscsi" => "iSCSI",
        "iser" => "iSER",
        "tcp" => "TCP",
        "ip" => "IPv4",
        "_ws" => "Malformed",
        _ => "Frame",
    }
}

fn secs(ns: i64) -> String {
    let mut s = String::new();
    write_rel_time(&mut s, ns);
    s
}

fn write_exchanges(out: &mut dyn Write, d: &Dissector) -> io::Result<()> {
    let ex = &d.analysis.exchanges;
    writeln!(out)?;
    writeln!(
        out,
        "==================================================================="
    )?;
    writeln!(
        out,
        "One-shot exchanges (advertise \u{2192} data \u{2192} close): {}",
        ex.len()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>6}  {:>10}  {:>10}  {:<5}  {:>10}  {:>8}  {:>8}  {:>12}",
        "Stream", "STag", "ITT", "Dir", "Bytes", "First", "Last", "Duration (s)"
    )?;
    for e in ex {
        let itt = e
            .itt
            .map_or_else(|| "-".to_string(), |i| format!("0x{i:x}"));
        writeln!(
            out,
            "{:>6}  0x{:08x}  {:>10}  {:<5}  {:>10}  {:>8}  {:>8}  {:>12}",
            e.stream,
            e.stag,
            itt,
            e.direction,
            e.bytes,
            e.first_frame,
            e.last_frame,
            secs(e.duration_ns)
        )?;
    }
    if !ex.is_empty() {
        let mut durs: Vec<i64> = ex.iter().map(|e| e.duration_ns).collect();
        durs.sort_unstable();
        let bytes: u64 = ex.iter().map(|e| e.bytes).sum();
        writeln!(out)?;
        writeln!(
            out,
            "Bytes {bytes}; duration min {} median {} max {}",
            secs(durs[0]),
            secs(durs[durs.len() / 2]),
            secs(durs[durs.len() - 1])
        )?;
    }
    writeln!(
        out,
        "==================================================================="
    )
}

fn write_stags(out: &mut dyn Write, d: &Dissector, leaks: &[Leak]) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "==================================================================="
    )?;
    writeln!(out, "One-shot STag lifecycles")?;
    writeln!(out)?;
    writeln!(out, "Closed: {}", d.analysis.closed)?;
    writeln!(out, "Never closed (leaks): {}", leaks.len())?;
    for l in leaks {
        let itt = l.itt.map_or_else(String::new, |i| format!(", ITT 0x{i:x}"));
        let end = match l.ended_in {
            Some(fr) => format!("its closer ended the connection in frame {fr}"),
            None => "open at the end of the capture".to_string(),
        };
        writeln!(
            out,
            "  stream {} STag 0x{:08x} advertised in frame {} ({}{itt}), {} octets moved; {end}",
            l.stream, l.stag, l.frame, l.direction, l.bytes
        )?;
    }
    writeln!(out, "FPDUs: {}, bad CRCs: {}", d.fpdus, d.bad_crcs)?;
    writeln!(
        out,
        "==================================================================="
    )
}
