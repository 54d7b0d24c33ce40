//! Printers: one per output format, all reading the same per-frame tree.

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

/// The printer a run's options ask for.
pub struct Printer {
    mode: Mode,
    hex: bool,
    color: bool,
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
                summary::line(
                    out,
                    pkt.number,
                    rel_ns,
                    pkt.orig_len,
                    &d.summary,
                    self.color,
                )?;
                if self.hex {
                    hex::dump(out, t, pkt.data, &self.marked, self.color)?;
                    writeln!(out)?;
                }
            }
            Mode::Tree { only } => {
                verbose::write(out, t, pkt.data, only)?;
                if self.hex {
                    writeln!(out)?;
                    hex::dump(out, t, pkt.data, &self.marked, self.color)?;
                }
                writeln!(out)?;
            }
            Mode::Fields { .. } => {
                let fp = self.fields.as_mut().expect("made for this mode");
                fp.frame(out, t, &d.summary, pkt, rel_ns)?;
            }
            Mode::Json | Mode::Ek => self.json.frame(out, t, pkt.data, pkt.ts_ns, self.hex)?,
        }
        Ok(())
    }

    /// Closes what the format opened (the JSON array).
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.mode == Mode::Json {
            self.json.finish(out)?;
        }
        Ok(())
    }
}
