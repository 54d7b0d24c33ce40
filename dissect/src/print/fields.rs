//! `-T fields -e F … -E header=y,separator=…`: one line per frame, one column per field, the
//! values tshark 4.0 prints for the same fields.

use std::io::{self, Write};

use super::value::{Style, write_rel_time, write_value};
use crate::capture::Packet;
use crate::dissector::Summary;
use crate::field::{self, FieldId};
use crate::text;
use crate::tree::{Tree, Value};

/// No node.
const NONE: u32 = u32::MAX;

/// A column of `-T fields`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A registered field.
    Field(FieldId),
    /// `_ws.col.No.`
    Number,
    /// `_ws.col.Time` (seconds since the first frame).
    Time,
    /// `_ws.col.Source`
    Source,
    /// `_ws.col.Destination`
    Destination,
    /// `_ws.col.Protocol`
    Protocol,
    /// `_ws.col.Length`
    Length,
    /// `_ws.col.Info`
    Info,
}

impl Column {
    /// Parses a `-e` argument.
    pub fn parse(name: &str) -> Option<Column> {
        Some(match name {
            "_ws.col.No." | "_ws.col.number" => Column::Number,
            "_ws.col.Time" | "_ws.col.cls_time" => Column::Time,
            "_ws.col.Source" | "_ws.col.def_src" => Column::Source,
            "_ws.col.Destination" | "_ws.col.def_dst" => Column::Destination,
            "_ws.col.Protocol" => Column::Protocol,
            "_ws.col.Length" => Column::Length,
            "_ws.col.Info" => Column::Info,
            n => Column::Field(field::lookup(n)?),
        })
    }
}

/// Which occurrences of a repeated field to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    /// All, joined by the aggregator.
    All,
    /// The first.
    First,
    /// The last.
    Last,
    /// The n-th (1-based).
    Nth(usize),
}

/// `-E` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOptions {
    /// Print a header line with the field names.
    pub header: bool,
    /// Between columns.
    pub separator: String,
    /// Which occurrences.
    pub occurrence: Occurrence,
    /// Between occurrences.
    pub aggregator: String,
    /// Quote character around each value, if any.
    pub quote: Option<char>,
}

impl Default for FieldOptions {
    fn default() -> Self {
        FieldOptions {
            header: false,
            separator: "\t".into(),
            occurrence: Occurrence::All,
            aggregator: ",".into(),
            quote: None,
        }
    }
}

/// The `-T fields` printer.
pub struct FieldsPrinter {
    names: Vec<String>,
    cols: Vec<Column>,
    /// For each field id, the columns that print it.
    by_field: Vec<Vec<u16>>,
    opts: FieldOptions,
    /// Scratch: by column, the first node it prints ([`NONE`] if none).
    first: Vec<u32>,
    /// Scratch: (column, node) of the further nodes columns print, in tree order.
    more: Vec<(u16, u32)>,
    line: String,
    header_done: bool,
    addrs: text::AddrText,
}

impl FieldsPrinter {
    /// A printer for `names` (already validated with [`Column::parse`]).
    pub fn new(names: &[String], opts: FieldOptions) -> Self {
        let cols: Vec<Column> = names
            .iter()
            .map(|n| Column::parse(n).expect("validated by the caller"))
            .collect();
        let mut by_field = vec![Vec::new(); field::FIELDS.len()];
        for (i, c) in cols.iter().enumerate() {
            if let Column::Field(f) = c {
                by_field[usize::from(f.0)].push(i as u16);
            }
        }
        FieldsPrinter {
            names: names.to_vec(),
            first: vec![NONE; cols.len()],
            more: Vec::new(),
            cols,
            by_field,
            opts,
            line: String::new(),
            header_done: false,
            addrs: text::AddrText::default(),
        }
    }

    /// The fields the printer reads (the dissector may skip building others).
    pub fn fields(&self) -> Vec<FieldId> {
        self.cols
            .iter()
            .filter_map(|c| match c {
                Column::Field(f) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// Writes one frame's line.
    pub fn frame(
        &mut self,
        out: &mut dyn Write,
        tree: &Tree,
        summary: &Summary,
        pkt: &Packet<'_>,
        rel_ns: i64,
    ) -> io::Result<()> {
        if self.opts.header && !self.header_done {
            self.header_done = true;
            // As tshark: the names are never quoted.
            writeln!(out, "{}", self.names.join(&self.opts.separator))?;
        }
        // Each column's nodes in tree order (the first apart: most columns have one), then each
        // column's values written straight into the line.
        self.first.iter_mut().for_each(|f| *f = NONE);
        self.more.clear();
        for (i, n) in tree.nodes.iter().enumerate() {
            for &c in &self.by_field[usize::from(n.field.0)] {
                match &mut self.first[usize::from(c)] {
                    f if *f == NONE => *f = i as u32,
                    _ => self.more.push((c, i as u32)),
                }
            }
        }
        self.line.clear();
        let line = &mut self.line;
        for (i, c) in self.cols.iter().enumerate() {
            if i > 0 {
                line.push_str(&self.opts.separator);
            }
            // As tshark: a value is quoted, an empty column is not.
            if let Some(q) = self.opts.quote {
                line.push(q);
            }
            let opened = line.len();
            match c {
                Column::Field(_) => {
                    let first = self.first[i];
                    let more = self.more.iter().filter(|m| usize::from(m.0) == i);
                    let all = std::iter::once(first)
                        .filter(|&k| k != NONE)
                        .chain(more.map(|m| m.1));
                    let count = match self.opts.occurrence {
                        Occurrence::Last => all.clone().count(),
                        _ => 0,
                    };
                    for (nth, k) in (1..).zip(all) {
                        let keep = match self.opts.occurrence {
                            Occurrence::All => true,
                            Occurrence::First => nth == 1,
                            Occurrence::Last => nth == count,
                            Occurrence::Nth(x) => nth == x,
                        };
                        if !keep {
                            continue;
                        }
                        if line.len() > opened {
                            line.push_str(&self.opts.aggregator);
                        }
                        let n = &tree.nodes[k as usize];
                        match n.value {
                            Value::Ipv4(a) => self.addrs.push(line, a.into()),
                            Value::Ipv6(a) => self.addrs.push(line, a.into()),
                            _ => write_value(line, tree, pkt.data, n, Style::Fields),
                        }
                    }
                }
                Column::Number => text::push_dec(line, pkt.number),
                Column::Time => {
                    write_rel_time(line, rel_ns);
                    // tshark's column shows microseconds.
                    line.truncate(line.len() - 3);
                }
                Column::Source => line.push_str(&summary.src),
                Column::Destination => line.push_str(&summary.dst),
                Column::Protocol => line.push_str(summary.protocol),
                Column::Length => text::push_dec(line, pkt.orig_len),
                Column::Info => line.push_str(&summary.info),
            }
            if let Some(q) = self.opts.quote {
                if line.len() == opened {
                    line.pop();
                } else {
                    line.push(q);
                }
            }
        }
        self.line.push('\n');
        out.write_all(self.line.as_bytes())
    }
}

/// Parses one `-E` option (`header=y`, `separator=,`, `occurrence=f`, `aggregator=/s`,
/// `quote=d`) into `o`.
pub fn apply_option(o: &mut FieldOptions, spec: &str) -> Result<(), String> {
    let (k, v) = spec.split_once('=').ok_or_else(|| {
        format!("-E {spec}: expected NAME=VALUE (header, separator, occurrence, aggregator, quote)")
    })?;
    let ch = |v: &str| -> String {
        match v {
            "/t" => "\t".into(),
            "/s" => " ".into(),
            v => v.to_string(),
        }
    };
    match k {
        "header" => {
            o.header = match v {
                "y" | "yes" | "1" => true,
                "n" | "no" | "0" => false,
                _ => return Err(format!("-E header={v}: expected y or n")),
            }
        }
        "separator" => o.separator = ch(v),
        "aggregator" => o.aggregator = ch(v),
        "occurrence" => {
            o.occurrence =
                match v {
                    "a" => Occurrence::All,
                    "f" => Occurrence::First,
                    "l" => Occurrence::Last,
                    n => Occurrence::Nth(n.parse().ok().filter(|&x: &usize| x > 0).ok_or_else(
                        || format!("-E occurrence={n}: expected f, l, a or a number from 1"),
                    )?),
                }
        }
        "quote" => {
            o.quote = match v {
                "d" => Some('"'),
                "s" => Some('\''),
                "n" => None,
                _ => return Err(format!("-E quote={v}: expected d, s or n")),
            }
        }
        _ => {
            return Err(format!(
                "-E {k}: unknown option (expected header, separator, occurrence, aggregator or quote)"
            ));
        }
    }
    Ok(())
}
