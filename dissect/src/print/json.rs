//! `-T json` (tshark's `_source.layers` shape) and `-T ek` (newline-delimited, for the
//! Elasticsearch bulk API).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::value::{Style, civil_from_days, write_value};
use crate::field::Ftype;
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
            buf: String::new(),
            val: String::new(),
        }
    }

    /// Writes one frame.
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
                "{{\"timestamp\":\"{}\",\"layers\":{{",
                ts_ns.div_euclid(1_000_000)
            );
            self.ek_layers(t, frame);
            self.buf.push_str("}}\n");
        } else {
            self.buf
                .push_str(if self.frames == 1 { "[\n" } else { ",\n" });
            let _ = write!(
                self.buf,
                "  {{\n    \"_index\": \"packets-{y:04}-{m:02}-{d:02}\",\n    \"_type\": \"doc\",\n    \"_score\": null,\n    \"_source\": {{\n      \"layers\": {{\n"
            );
            let tops: Vec<usize> = (0..t.nodes.len())
                .filter(|&i| t.nodes[i].depth == 0 && !t.nodes[i].hidden)
                .collect();
            for (k, &i) in tops.iter().enumerate() {
                let n = &t.nodes[i];
                pad(&mut self.buf, 8);
                escape(&mut self.buf, n.field.def().abbrev);
                self.buf.push_str(": ");
                self.object(t, frame, i, 8, raw);
                if raw {
                    self.buf.push_str(",\n");
                    pad(&mut self.buf, 8);
                    let _ = write!(self.buf, "\"{}_raw\": ", n.field.def().abbrev);
                    self.raw(t, frame, n);
                }
                self.buf
                    .push_str(if k + 1 < tops.len() { ",\n" } else { "\n" });
            }
            self.buf.push_str("      }\n    }\n  }");
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

    fn value_of(&mut self, t: &Tree, frame: &[u8], n: &Node) {
        self.val.clear();
        match (n.field.def().ftype, n.value) {
            (Ftype::None, Value::None) => {}
            _ => write_value(&mut self.val, t, frame, n, Style::Json),
        }
    }

    fn raw(&mut self, t: &Tree, frame: &[u8], n: &Node) {
        let mut hex = String::new();
        for b in t.node_bytes(frame, n) {
            let _ = write!(hex, "{b:02x}");
        }
        let def = n.field.def();
        let _ = write!(
            self.buf,
            "[\"{hex}\", {}, {}, {}, {}]",
            n.start,
            n.len,
            def.mask,
            ft_code(def.ftype)
        );
    }

    /// The children of node `i` as an object.
    fn object(&mut self, t: &Tree, frame: &[u8], i: usize, indent: usize, raw: bool) {
        let kids: Vec<usize> = t
            .children(i)
            .filter(|(_, c)| c.depth == t.nodes[i].depth + 1 && !c.hidden)
            .map(|(k, _)| k)
            .collect();
        if kids.is_empty() {
            self.buf.push_str("{}");
            return;
        }
        self.buf.push_str("{\n");
        for (k, &c) in kids.iter().enumerate() {
            let n = &t.nodes[c];
            let abbrev = n.field.def().abbrev;
            let has_kids = t.children(c).any(|(_, x)| !x.hidden);
            pad(&mut self.buf, indent + 2);
            escape(&mut self.buf, abbrev);
            self.buf.push_str(": ");
            let valueless = matches!(n.value, Value::None);
            if has_kids && valueless {
                self.object(t, frame, c, indent + 2, raw);
            } else {
                self.value_of(t, frame, n);
                let v = std::mem::take(&mut self.val);
                escape(&mut self.buf, &v);
                self.val = v;
                if raw {
                    self.buf.push_str(",\n");
                    pad(&mut self.buf, indent + 2);
                    let _ = write!(self.buf, "\"{abbrev}_raw\": ");
                    self.raw(t, frame, n);
                }
                if has_kids {
                    self.buf.push_str(",\n");
                    pad(&mut self.buf, indent + 2);
                    let _ = write!(self.buf, "\"{abbrev}_tree\": ");
                    self.object(t, frame, c, indent + 2, raw);
                }
            }
            self.buf
                .push_str(if k + 1 < kids.len() { ",\n" } else { "\n" });
        }
        pad(&mut self.buf, indent);
        self.buf.push('}');
    }

    /// EK: each protocol one flat object of `proto_field_name` keys; repeated keys become
    /// arrays.
    fn ek_layers(&mut self, t: &Tree, frame: &[u8]) {
        let mut first_layer = true;
        let mut i = 0;
        while i < t.nodes.len() {
            let top = &t.nodes[i];
            let end = i + 1 + t.children(i).count();
            if top.depth != 0 || top.hidden {
                i = end;
                continue;
            }
            let proto = top.field.def().abbrev.replace('.', "_");
            if !first_layer {
                self.buf.push(',');
            }
            first_layer = false;
            escape(&mut self.buf, &proto);
            self.buf.push_str(":{");
            // Group occurrences by key, keeping first-seen order.
            let mut keys: Vec<(String, Vec<String>)> = Vec::new();
            for n in &t.nodes[i + 1..end] {
                if n.hidden {
                    continue;
                }
                let key = format!("{proto}_{}", n.field.def().abbrev.replace('.', "_"));
                let v = match (n.field.def().ftype, n.value) {
                    (_, Value::Bool(b)) => b.to_string(),
                    (Ftype::None, Value::None) => "null".to_string(),
                    (Ftype::AbsTime, Value::AbsTime(ns)) => {
                        let mut s = String::new();
                        iso_time(&mut s, ns);
                        format!("\"{s}\"")
                    }
                    _ => {
                        self.value_of(t, frame, n);
                        let mut s = String::new();
                        escape(&mut s, &self.val);
                        s
                    }
                };
                match keys.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, vs)) => vs.push(v),
                    None => keys.push((key, vec![v])),
                }
            }
            for (k, (key, vs)) in keys.iter().enumerate() {
                if k > 0 {
                    self.buf.push(',');
                }
                escape(&mut self.buf, key);
                self.buf.push(':');
                if vs.len() == 1 {
                    self.buf.push_str(&vs[0]);
                } else {
                    self.buf.push('[');
                    self.buf.push_str(&vs.join(","));
                    self.buf.push(']');
                }
            }
            self.buf.push('}');
            i = end;
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
