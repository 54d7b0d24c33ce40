//! Printers: one per output format, all reading the same per-frame tree.
//!
//! `-V`, `-x`, `-T json` and `-T ek` print what tshark 4.0 prints for the same tree, node for
//! node (`dissect/tools/compare-with-tshark.py` checks it on the shipped captures). Where the
//! output differs from tshark's on purpose:
//! - Fields tshark does not have (`ours` in the registry: `iwarp_mpa.crc_status`, `oneshot.*`,
//!   our `*.expert.*` findings, …) are printed like any other field; tshark has none of them.
//! - Our expert findings are top-level `_ws.expert` items after the protocols, not items
//!   nested under the field they are about.
//! - tshark-only items we never produce: `frame.offset_shift` (time shifting),
//!   `eth.*_resolved`, `eth.*.oui`, `ip.*host` (name resolution output, which tshark adds even
//!   with `-n`), and the TCP analysis items other than those the TCP builder adds.
//! - `-x` marks the octets of the fields named by the `-Y` filter (tshark marks nothing).

pub mod fields;
pub mod glossary;
pub mod hex;
pub mod json;
pub mod summary;
pub mod value;
pub mod verbose;

use std::io::{self, Write};

use crate::capture::Packet;
use crate::cli::{Mode, Options};
use crate::dissector::Dissector;
use crate::field::FieldId;
use crate::filter::Filter;

/// Octets of summary, `-V` and `-x` text a [`Printer`] gathers before it writes them: a `BufWriter`
/// no larger than this passes them through without copying them, and a buffer this size stays
/// in the processor's cache.
pub const CHUNK: usize = 64 << 10;

/// The printer a run's options ask for.
///
/// Summary lines and the protocol tree (`-V`, `-O`) are gathered over frames and written [`CHUNK`] octets at a
/// time: [`Printer::finish`] writes the rest, so it must be called, with the same writer.
pub struct Printer {
    mode: Mode,
    hex: bool,
    summary_line: bool,
    color: bool,
    verbose: verbose::Verbose,
    /// Summary or tree text not written yet.
    pending: Vec<u8>,
    /// The summary lines' address columns of the last address pairs.
    addr_columns: summary::AddrColumns,
    dump: hex::HexDump,
    fields: Option<fields::FieldsPrinter>,
    json: json::JsonPrinter,
    /// Fields whose octets the hex dump marks (those the display filter names).
    marked: Vec<FieldId>,
    frames: u64,
}

impl Printer {
    /// A printer for `opts`; `filter` names the fields `-x` marks.
    pub fn new(opts: &Options, filter: Option<&Filter>) -> Self {
        let fields = match &opts.mode {
            Mode::Fields { names, opts } => Some(fields::FieldsPrinter::new(names, opts.clone())),
            _ => None,
        };
        Printer {
            json: json::JsonPrinter::new(matches!(opts.mode, Mode::Ek)),
            mode: opts.mode.clone(),
            hex: opts.hex,
            summary_line: opts.summary_line,
            verbose: verbose::Verbose::new(),
            pending: Vec::new(),
            addr_columns: summary::AddrColumns::default(),
            dump: hex::HexDump::new(),
            color: opts
                .color
                .resolve(std::io::IsTerminal::is_terminal(&std::io::stdout())),
            fields,
            marked: filter.map(|f| f.fields()).unwrap_or_default(),
            frames: 0,
        }
    }

    /// Overrides colouring (tests, or a caller that knows better than the terminal check).
    pub fn set_color(&mut self, on: bool) {
        self.color = on;
    }

    /// Prints the dissector's current frame.
    pub fn frame(
        &mut self,
        out: &mut dyn Write,
        d: &Dissector,
        pkt: &Packet<'_>,
        rel_ns: i64,
    ) -> io::Result<()> {
        self.frames += 1;
        let t = &d.tree;
        match &self.mode {
            Mode::Quiet => return Ok(()),
            Mode::Summary => {
                let text = &mut self.pending;
                if self.summary_line {
                    let (n, len) = (pkt.number, pkt.orig_len);
                    let cols = &mut self.addr_columns;
                    summary::line(text, cols, n, rel_ns, len, &d.summary, self.color);
                }
                if self.hex {
                    self.dump
                        .append(text, t, pkt.data, &self.marked, self.color);
                    text.push(b'\n');
                }
                write_if_full(out, text)?;
            }
            Mode::Tree { only } => {
                let text = &mut self.pending;
                self.verbose.write_tree(text, t, pkt.data, only, self.hex);
                if self.hex {
                    text.push(b'\n');
                    self.dump
                        .append(text, t, pkt.data, &self.marked, self.color);
                }
                text.push(b'\n');
                write_if_full(out, text)?;
            }
            Mode::Fields { .. } => {
                let fp = self.fields.as_mut().expect("made for this mode");
                fp.frame(out, t, &d.summary, pkt, rel_ns)?;
            }
            Mode::Json | Mode::Ek => self.json.frame(out, t, pkt.data, pkt.ts_ns, self.hex)?,
        }
        Ok(())
    }

    /// Writes what is gathered and closes what the format opened (the JSON array).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.pending)?;
        self.pending.clear();
        if self.mode == Mode::Json {
            self.json.finish(out)?;
        }
        Ok(())
    }
}

/// Writes the gathered `text` once it fills a [`CHUNK`].
fn write_if_full(out: &mut dyn Write, text: &mut Vec<u8>) -> io::Result<()> {
    if text.len() >= CHUNK {
        out.write_all(text)?;
        text.clear();
    }
    Ok(())
}
