//! The default output: one line per frame, as tshark prints it, coloured by layer and severity
//! on a terminal.

use std::io::{self, Write};

use colored::Colorize;

use super::value::write_rel_time;
use crate::dissector::{Layer, Summary};
use crate::text;
use crate::tree::Severity;

/// Writes a summary line; `buf` is scratch space kept between lines.
pub fn line(
    out: &mut dyn Write,
    buf: &mut String,
    number: u64,
    rel_ns: i64,
    len: u32,
    s: &Summary,
    color: bool,
) -> io::Result<()> {
    let arrow = if s.src.is_empty() && s.dst.is_empty() {
        ""
    } else {
        "\u{2192}"
    };
    let proto = if s.protocol.is_empty() {
        "Unknown"
    } else {
        s.protocol
    };
    // "{number:>5} {time:>12} {src:>15} {arrow} {dst:<15} {proto:<8} {len:>5} {info}", with
    // the time in microseconds.
    buf.clear();
    let mut field = itoa::Buffer::new();
    text::push_right(buf, field.format(number), 5);
    buf.push(' ');
    let start = buf.len();
    write_rel_time(buf, rel_ns);
    buf.truncate(buf.len() - 3);
    let time_len = buf.len() - start;
    if time_len < 12 {
        buf.insert_str(start, &"            "[..12 - time_len]);
    }
    buf.push(' ');
    text::push_right(buf, &s.src, 15);
    buf.push(' ');
    buf.push_str(arrow);
    buf.push(' ');
    text::push_left(buf, &s.dst, 15);
    buf.push(' ');
    if !color {
        text::push_left(buf, proto, 8);
        buf.push(' ');
        text::push_right(buf, field.format(len), 5);
        buf.push(' ');
        buf.push_str(&s.info);
        buf.push('\n');
        return out.write_all(buf.as_bytes());
    }
    let proto_c = match s.layer {
        Layer::OneShot => proto.magenta().bold(),
        Layer::Iscsi => proto.cyan(),
        Layer::Rdma => proto.blue(),
        Layer::Mpa => proto.yellow(),
        Layer::Tcp => proto.normal(),
    };
    let info_c = match s.worst {
        Some(Severity::Error) => s.info.red().bold(),
        Some(Severity::Warning) => s.info.yellow(),
        _ => match s.layer {
            Layer::OneShot => s.info.magenta(),
            _ => s.info.normal(),
        },
    };
    out.write_all(buf.as_bytes())?;
    writeln!(out, "{proto_c:<8} {len:>5} {info_c}")
}
