//! `-T fields -e F … -E header=y,separator=…`: one line per frame, one column per field, the
//! values tshark 4.0 prints for the same fields.

use std::io::{self, Write};

use super::value::{Style, dec_text, hex_0x_text, ipv4_text, rel_time_text, write_value};
use crate::capture::Packet;
use crate::dissector::Summary;
use crate::field::{self, Base, FieldId};
use crate::text::{self, Text};
use crate::tree::{Node, Tree, Value};

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

/// How a column writes its field's unsigned values (decided once, from the field's base).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fmt {
    /// `0x` and this many hex digits at least.
    Hex(u8),
    /// Decimal.
    Dec,
    /// As [`write_value`] writes it.
    Other,
}

/// No column.
const NO_COL: u16 = u16::MAX;

/// A column and what a frame puts in it.
#[derive(Debug, Clone, Copy)]
struct Col {
    col: Column,
    fmt: Fmt,
    /// The next column of the same field ([`NO_COL`]: none).
    next_same: u16,
    /// Scratch: the first node it prints ([`NONE`] if none), and how many.
    first: u32,
    count: u32,
}

/// The `-T fields` printer.
pub struct FieldsPrinter {
    names: Vec<String>,
    cols: Vec<Col>,
    /// By field id, the first column that prints it ([`NO_COL`]: none).
    col_of: Vec<u16>,
    opts: FieldOptions,
    /// Scratch: (column, node) of the nodes after the first of a column, in tree order.
    more: Vec<(u16, u32)>,
    line: Vec<u8>,
    /// The separator's octets.
    sep: Vec<u8>,
    header_done: bool,
    /// The last two IPv6 addresses written and their text (most packets carry those of the
    /// one before).
    v6: V6Text,
    /// The same for IPv4.
    v4: V4Text,
}

impl FieldsPrinter {
    /// A printer for `names` (already validated with [`Column::parse`]).
    pub fn new(names: &[String], opts: FieldOptions) -> Self {
        let mut cols: Vec<Col> = names
            .iter()
            .map(|n| {
                let col = Column::parse(n).expect("validated by the caller");
                let fmt = match col {
                    Column::Field(f) => {
                        let def = f.def();
                        match def.base {
                            Base::Hex | Base::HexDec => Fmt::Hex(def.ftype.hex_width() as u8),
                            Base::Oct => Fmt::Other,
                            _ => Fmt::Dec,
                        }
                    }
                    _ => Fmt::Other,
                };
                Col {
                    col,
                    fmt,
                    next_same: NO_COL,
                    first: NONE,
                    count: 0,
                }
            })
            .collect();
        let mut col_of = vec![NO_COL; field::FIELDS.len()];
        // Chained from the last column back, so that each field's chain is in column order.
        for i in (0..cols.len()).rev() {
            if let Column::Field(f) = cols[i].col {
                let slot = &mut col_of[usize::from(f.0)];
                cols[i].next_same = *slot;
                *slot = i as u16;
            }
        }
        FieldsPrinter {
            names: names.to_vec(),
            cols,
            col_of,
            more: Vec::new(),
            line: Vec::new(),
            sep: opts.separator.as_bytes().to_vec(),
            opts,
            header_done: false,
            v6: V6Text::default(),
            v4: V4Text::default(),
        }
    }

    /// The fields the printer reads (the dissector may skip building others).
    pub fn fields(&self) -> Vec<FieldId> {
        self.cols
            .iter()
            .filter_map(|c| match c.col {
                Column::Field(f) => Some(f),
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
        for c in &mut self.cols {
            c.first = NONE;
            c.count = 0;
        }
        self.more.clear();
        for (i, n) in tree.nodes.iter().enumerate() {
            let mut k = self
                .col_of
                .get(usize::from(n.field.0))
                .copied()
                .unwrap_or(NO_COL);
            while let Some(c) = self.cols.get_mut(usize::from(k)) {
                if c.count == 0 {
                    c.first = i as u32;
                } else {
                    self.more.push((k, i as u32));
                }
                c.count += 1;
                k = c.next_same;
            }
        }
        self.line.clear();
        let line = &mut self.line;
        let occurrence = self.opts.occurrence;
        for (i, c) in self.cols.iter().enumerate() {
            if i > 0 {
                match self.sep.as_slice() {
                    &[b] => line.push(b),
                    sep => line.extend_from_slice(sep),
                }
            }
            // As tshark: a value is quoted, an empty column is not.
            if let Some(q) = self.opts.quote {
                line.push_str(q.encode_utf8(&mut [0; 4]));
            }
            let opened = line.len();
            match c.col {
                Column::Field(_) => {
                    if c.count == 1 {
                        // The one node is the first, the last and the 1st.
                        if matches!(
                            occurrence,
                            Occurrence::All
                                | Occurrence::First
                                | Occurrence::Last
                                | Occurrence::Nth(1)
                        ) {
                            let n = &tree.nodes[c.first as usize];
                            push_node(line, (&mut self.v4, &mut self.v6), c.fmt, tree, pkt.data, n);
                        }
                    } else if c.count > 1 {
                        let addrs = (&mut self.v4, &mut self.v6);
                        let agg = self.opts.aggregator.as_bytes();
                        push_nodes(
                            line, addrs, agg, occurrence, c, i, &self.more, tree, pkt.data,
                        );
                    }
                }
                Column::Number => push_fixed(line, dec_text(pkt.number)),
                Column::Time => {
                    push_fixed(line, rel_time_text(rel_ns));
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
                    line.truncate(opened - q.len_utf8());
                } else {
                    line.push_str(q.encode_utf8(&mut [0; 4]));
                }
            }
        }
        self.line.push(b'\n');
        out.write_all(&self.line)
    }
}

/// Appends the first `n` octets of `buf`: the whole buffer, a copy of known size the compiler
/// makes in a few moves, then the rest cut off (cheaper than a copy of unknown size).
#[inline(always)]
fn push_fixed<const N: usize>(line: &mut Vec<u8>, (buf, n): ([u8; N], usize)) {
    line.extend_from_slice(&buf);
    line.truncate(line.len() - N.saturating_sub(n));
}

/// An IPv4 address's text at the start of a buffer, and its length (as [`ipv4_text`]).
type Ipv4Text = ([u8; 16], usize);

/// The text of the last two IPv4 addresses written.
#[derive(Debug, Default)]
struct V4Text(text::Recent<[u8; 4], Ipv4Text>);

impl V4Text {
    /// `a`'s text, as [`ipv4_text`] writes it.
    #[inline]
    fn text(&mut self, a: [u8; 4]) -> Ipv4Text {
        *self.0.get(a, |t, a| *t = ipv4_text(a))
    }
}

/// The text of the last two IPv6 addresses written.
#[derive(Debug, Default)]
struct V6Text(text::Recent<[u8; 16]>);

impl V6Text {
    /// Appends `a` as `{}` of an `Ipv6Addr` writes it.
    fn push(&mut self, line: &mut Vec<u8>, a: [u8; 16]) {
        let t = self.0.get(a, |t, a| {
            t.clear();
            t.push_fmt(format_args!("{}", std::net::Ipv6Addr::from(a)));
        });
        line.push_str(t);
    }
}

/// Writes column `i`'s values when its field has several nodes: `c.first`, then its nodes in
/// `more`, those `occurrence` picks, joined by `agg`.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn push_nodes(
    line: &mut Vec<u8>,
    (v4, v6): (&mut V4Text, &mut V6Text),
    agg: &[u8],
    occurrence: Occurrence,
    c: &Col,
    i: usize,
    more: &[(u16, u32)],
    tree: &Tree,
    frame: &[u8],
) {
    let opened = line.len();
    let more = more.iter().filter(|m| usize::from(m.0) == i);
    let all = std::iter::once(c.first).chain(more.map(|m| m.1));
    for (nth, k) in (1..).zip(all) {
        let keep = match occurrence {
            Occurrence::All => true,
            Occurrence::First => nth == 1,
            Occurrence::Last => nth == c.count as usize,
            Occurrence::Nth(x) => nth == x,
        };
        if !keep {
            continue;
        }
        if line.len() > opened {
            line.extend_from_slice(agg);
        }
        let n = &tree.nodes[k as usize];
        push_node(line, (&mut *v4, &mut *v6), c.fmt, tree, frame, n);
    }
}

/// Writes node `n`'s value, in the column's format when it has one for the value.
#[inline(always)]
fn push_node(
    line: &mut Vec<u8>,
    (v4, v6): (&mut V4Text, &mut V6Text),
    fmt: Fmt,
    tree: &Tree,
    frame: &[u8],
    n: &Node,
) {
    match (n.value, fmt) {
        (Value::Uint(v), Fmt::Hex(w)) => push_fixed(line, hex_0x_text(v, usize::from(w))),
        (Value::Uint(v), Fmt::Dec) => push_fixed(line, dec_text(v)),
        (Value::Ipv4(a), _) => push_fixed(line, v4.text(a)),
        (Value::Ipv6(a), _) => v6.push(line, a),
        (Value::RelTime(ns), _) => push_fixed(line, rel_time_text(ns)),
        _ => write_value(line, tree, frame, n, Style::Fields),
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
