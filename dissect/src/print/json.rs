//! `-T json` (tshark's `_source.layers` shape) and `-T ek` (newline-delimited, for the
//! Elasticsearch bulk API), written the way tshark 4.0 writes them.
//!
//! JSON: every node is a key named after its field (`ip.ttl`), hidden nodes included (tshark
//! leaves them out of `-V` only). A node with a value writes it as a string (`"0x0800"`,
//! `"1"` for a true boolean, octets as `aa:bb`); a node with children adds them as an object,
//! under the same key for a protocol or a label (`"iwarp_mpa.fpdu": {...}`), under
//! `key_tree` for a field that also has a value (`"ip.flags_tree"`). A protocol or label with
//! no children writes its label (protocol) or `""`. Repeated keys stay repeated, in tree order,
//! as tshark writes them by default. With `-x`, each node with octets is preceded by
//! `"key_raw": [hex, offset, length, bitmask, type]`, where `hex` is the octets, or for a
//! bitfield the field's value in upper-case hex, `offset` counts from the start of the node's
//! data source and `type` is Wireshark's `ftenum` number.
//!
//! EK: one `{"index":…}` line and one document line per packet. `layers` holds one object per
//! protocol, keyed by the protocol's name with `.` as `_`; inside, every field under it,
//! flattened, keyed `parentprotocol_field` (`ip_ip_ttl`), except protocols nested in it, which
//! are objects of their own. A field seen more than once under the same parent node collects
//! its values in an array at its first place (`ip_ip_addr`), as tshark 4.0 groups them; under
//! different parents it stays repeated (`eth_eth_addr`, once under each address). Booleans are JSON booleans, labels `null`, absolute times ISO 8601.
//! With `-x` each key with octets gets a `key_raw` twin holding the hex.
//!
//! Both writers append into reused buffers; EK groups keys with small per-object lists.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::hex::push_hex;
use super::value::{Style, civil_from_days, write_value};
use crate::field::{FieldDef, FieldId, Ftype};
use crate::tree::{Node, Tree, Value};

/// Wireshark's `ftenum` numbers, as `-x` JSON output names a field's type.
fn ft_code(t: Ftype) -> u32 {
    match t {
        Ftype::None => 0,
        Ftype::Protocol => 1,
        Ftype::Boolean => 2,
        Ftype::U8 => 4,
        Ftype::U16 => 5,
        Ftype::U24 => 6,
        Ftype::U32 => 7,
        Ftype::U48 => 9,
        Ftype::U64 => 11,
        Ftype::I16 => 13,
        Ftype::I32 => 15,
        Ftype::I64 => 19,
        Ftype::Double => 23,
        Ftype::AbsTime => 24,
        Ftype::RelTime => 25,
        Ftype::String => 26,
        Ftype::Ether => 29,
        Ftype::Bytes => 30,
        Ftype::Ipv4 => 32,
        Ftype::Ipv6 => 33,
        Ftype::FrameNum => 35,
    }
}

/// JSON string escaping.
fn escape(out: &mut String, s: &str) {
    out.push('"');
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A field's key with `.` as `_` (EK).
fn push_ek_name(out: &mut String, s: &str) {
    for (i, part) in s.split('.').enumerate() {
        if i > 0 {
            out.push('_');
        }
        out.push_str(part);
    }
}

/// True for the types that have no value of their own (JSON writes their children or label).
fn valueless(def: &FieldDef) -> bool {
    matches!(def.ftype, Ftype::None | Ftype::Protocol)
}

/// The JSON and EK printer.
pub struct JsonPrinter {
    ek: bool,
    frames: u64,
    buf: String,
    val: String,
}

impl JsonPrinter {
    /// A printer; `ek` for `-T ek`.
    pub fn new(ek: bool) -> Self {
        JsonPrinter {
            ek,
            frames: 0,
            buf: String::with_capacity(1 << 14),
            val: String::new(),
        }
    }

    /// Writes one frame; `raw` adds the `_raw` keys (`-x`).
    pub fn frame(
        &mut self,
        out: &mut dyn Write,
        t: &Tree,
        frame: &[u8],
        ts_ns: i64,
        raw: bool,
    ) -> io::Result<()> {
        self.frames += 1;
        self.buf.clear();
        let days = ts_ns.div_euclid(86_400_000_000_000);
        let (y, m, d) = civil_from_days(days);
        if self.ek {
            let _ = writeln!(
                self.buf,
                "{{\"index\":{{\"_index\":\"packets-{y:04}-{m:02}-{d:02}\",\"_type\":\"doc\"}}}}"
            );
            let _ = write!(
                self.buf,
                "{{\"timestamp\":\"{}\",\"layers\":",
                ts_ns.div_euclid(1_000_000)
            );
            let tops: Vec<(usize, Option<FieldId>)> = (0..t.nodes.len())
                .filter(|&i| t.nodes[i].depth == 0)
                .map(|i| (i, None))
                .collect();
            self.ek_members(t, frame, &tops, raw);
            self.buf.push_str("}\n");
        } else {
            self.buf
                .push_str(if self.frames == 1 { "[\n" } else { ",\n" });
            let _ = write!(
                self.buf,
                "  {{\n    \"_index\": \"packets-{y:04}-{m:02}-{d:02}\",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {{\n      \"layers\": "
            );
            self.object(t, frame, None, 6, raw);
            self.buf.push_str("\n    }\n  }");
        }
        out.write_all(self.buf.as_bytes())
    }

    /// Closes the array.
    pub fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.ek {
            return Ok(());
        }
        if self.frames == 0 {
            out.write_all(b"[\n]\n")
        } else {
            out.write_all(b"\n]\n")
        }
    }

    /// `n`'s value as a JSON string.
    fn json_value(&mut self, t: &Tree, frame: &[u8], n: &Node) {
        if let Value::Bytes = n.value {
            // Hex needs no escaping.
            self.buf.push('"');
            push_hex(&mut self.buf, t.node_bytes(frame, n), Some(b':'));
            self.buf.push('"');
            return;
        }
        self.value_of(t, frame, n);
        let v = std::mem::take(&mut self.val);
        escape(&mut self.buf, &v);
        self.val = v;
    }

    /// The value of `n` as JSON writes it, into `self.val`.
    fn value_of(&mut self, t: &Tree, frame: &[u8], n: &Node) {
        self.val.clear();
        write_value(&mut self.val, t, frame, n, Style::Json);
    }

    /// `hex` of a `_raw` entry: the octets, or a bitfield's value in upper-case hex.
    fn raw_hex(&mut self, t: &Tree, frame: &[u8], n: &Node) {
        let def = n.field.def();
        if def.mask != 0 {
            let v = match n.value {
                Value::Uint(v) => v,
                Value::Int(v) => v as u64,
                Value::Bool(b) => u64::from(b),
                _ => 0,
            };
            let _ = write!(self.buf, "\"{v:X}\"");
        } else {
            self.buf.push('"');
            push_hex(&mut self.buf, t.node_bytes(frame, n), None);
            self.buf.push('"');
        }
    }

    fn raw(&mut self, t: &Tree, frame: &[u8], n: &Node, indent: usize) {
        let def = n.field.def();
        self.buf.push_str("[\n");
        pad(&mut self.buf, indent + 2);
        self.raw_hex(t, frame, n);
        self.buf.push_str(",\n");
        for (k, v) in [
            u64::from(n.start),
            u64::from(n.len),
            def.mask,
            u64::from(ft_code(def.ftype)),
        ]
        .into_iter()
        .enumerate()
        {
            pad(&mut self.buf, indent + 2);
            let _ = write!(self.buf, "{v}");
            self.buf.push_str(if k < 3 { ",\n" } else { "\n" });
        }
        pad(&mut self.buf, indent);
        self.buf.push(']');
    }

    /// A key at `indent`, after a comma when it is not the first of its object.
    fn key(&mut self, first: &mut bool, indent: usize, abbrev: &str, suffix: &str) {
        self.buf.push_str(if *first { "\n" } else { ",\n" });
        *first = false;
        pad(&mut self.buf, indent);
        self.buf.push('"');
        self.buf.push_str(abbrev);
        self.buf.push_str(suffix);
        self.buf.push_str("\": ");
    }

    /// The children of node `parent` (the top-level nodes for `None`) as an object whose
    /// closing brace is at `indent`.
    fn object(&mut self, t: &Tree, frame: &[u8], parent: Option<usize>, indent: usize, raw: bool) {
        let (from, depth) = match parent {
            Some(i) => (i + 1, t.nodes[i].depth + 1),
            None => (0, 0),
        };
        self.buf.push('{');
        let mut first = true;
        let mut c = from;
        while c < t.nodes.len() && t.nodes[c].depth >= depth {
            let n = &t.nodes[c];
            if n.depth > depth {
                c += 1;
                continue;
            }
            let def = n.field.def();
            let has_kids = t.nodes.get(c + 1).is_some_and(|x| x.depth > depth);
            let has_value = !valueless(def);
            let inner = indent + 2;
            if raw && n.len > 0 {
                self.key(&mut first, inner, def.abbrev, "_raw");
                self.raw(t, frame, n, inner);
            }
            if has_value {
                self.key(&mut first, inner, def.abbrev, "");
                self.json_value(t, frame, n);
            }
            if has_kids {
                let suffix = if has_value { "_tree" } else { "" };
                self.key(&mut first, inner, def.abbrev, suffix);
                self.object(t, frame, Some(c), inner, raw);
            } else if !has_value {
                self.key(&mut first, inner, def.abbrev, "");
                if def.ftype == Ftype::Protocol {
                    let label = n.label.map_or(def.name, |l| t.arena_str(l));
                    escape(&mut self.buf, label);
                } else {
                    self.buf.push_str("\"\"");
                }
            }
            c += 1;
        }
        if first {
            self.buf.push('}');
        } else {
            self.buf.push('\n');
            pad(&mut self.buf, indent);
            self.buf.push('}');
        }
    }

    /// EK: appends to `members` the nodes an object made of node `i`'s children holds: each
    /// child, and the descendants of children that are not protocols (a nested protocol is an
    /// object of its own). Each comes with the field of its parent in the tree, which tshark
    /// 4.0 groups repeated keys by.
    fn ek_collect(t: &Tree, i: usize, members: &mut Vec<(usize, Option<FieldId>)>) {
        let depth = t.nodes[i].depth;
        let parent = Some(t.nodes[i].field);
        let mut c = i + 1;
        while c < t.nodes.len() && t.nodes[c].depth > depth {
            if t.nodes[c].depth == depth + 1 {
                members.push((c, parent));
                if t.nodes[c].field.def().ftype != Ftype::Protocol {
                    Self::ek_collect(t, c, members);
                }
            }
            c += 1;
        }
    }

    /// EK: writes an object of `members` (node indices in tree order, with their parent's
    /// field), one key per (parent, field) pair: repeated pairs are grouped in an array at the
    /// place of the first.
    fn ek_members(
        &mut self,
        t: &Tree,
        frame: &[u8],
        members: &[(usize, Option<FieldId>)],
        raw: bool,
    ) {
        self.buf.push('{');
        let mut first = true;
        for (k, &(i, parent)) in members.iter().enumerate() {
            let key = (t.nodes[i].field, parent);
            let same_key = |&&(j, p): &&(usize, Option<FieldId>)| (t.nodes[j].field, p) == key;
            if members[..k].iter().any(|m| same_key(&m)) {
                continue;
            }
            let same: Vec<usize> = members[k..]
                .iter()
                .filter(|m| same_key(m))
                .map(|&(j, _)| j)
                .collect();
            let def = key.0.def();
            if raw && t.nodes[i].len > 0 {
                self.ek_key(&mut first, def, "_raw");
                self.ek_list(&same, |p, j| p.raw_hex(t, frame, &t.nodes[j]));
            }
            self.ek_key(&mut first, def, "");
            self.ek_list(&same, |p, j| p.ek_value(t, frame, j, raw));
        }
        self.buf.push('}');
    }

    fn ek_key(&mut self, first: &mut bool, def: &FieldDef, suffix: &str) {
        if !*first {
            self.buf.push(',');
        }
        *first = false;
        self.buf.push('"');
        if def.ftype != Ftype::Protocol && !def.parent.is_empty() {
            push_ek_name(&mut self.buf, def.parent);
            self.buf.push('_');
        }
        push_ek_name(&mut self.buf, def.abbrev);
        self.buf.push_str(suffix);
        self.buf.push_str("\":");
    }

    fn ek_list(&mut self, same: &[usize], mut each: impl FnMut(&mut Self, usize)) {
        if same.len() > 1 {
            self.buf.push('[');
        }
        for (k, &j) in same.iter().enumerate() {
            if k > 0 {
                self.buf.push(',');
            }
            each(self, j);
        }
        if same.len() > 1 {
            self.buf.push(']');
        }
    }

    fn ek_value(&mut self, t: &Tree, frame: &[u8], i: usize, raw: bool) {
        let n = &t.nodes[i];
        match (n.field.def().ftype, n.value) {
            (Ftype::Protocol, _) => {
                let mut members = Vec::new();
                Self::ek_collect(t, i, &mut members);
                self.ek_members(t, frame, &members, raw);
            }
            (Ftype::None, _) => self.buf.push_str("null"),
            (_, Value::Bool(b)) => self.buf.push_str(if b { "true" } else { "false" }),
            (Ftype::AbsTime, Value::AbsTime(ns)) => {
                self.buf.push('"');
                iso_time(&mut self.buf, ns);
                self.buf.push('"');
            }
            _ => self.json_value(t, frame, n),
        }
    }
}

fn pad(s: &mut String, n: usize) {
    for _ in 0..n {
        s.push(' ');
    }
}

/// `2026-01-01T00:00:00.000000000Z`.
fn iso_time(out: &mut String, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
}
