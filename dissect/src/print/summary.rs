//! The default output: one line per frame, as tshark prints it, coloured by layer and severity
//! on a terminal.

use std::io::{self, Write};

use colored::Colorize;

use super::value::write_rel_time;
use crate::dissector::{Layer, Summary};
use crate::tree::Severity;

/// Writes a summary line.
pub fn line(
    out: &mut dyn Write,
    number: u64,
    rel_ns: i64,
    len: u32,
    s: &Summary,
    color: bool,
) -> io::Result<()> {
    let mut t = String::with_capacity(16);
    write_rel_time(&mut t, rel_ns);
    t.truncate(t.len() - 3);
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
    if !color {
        return writeln!(
            out,
            "{number:>5} {t:>12} {:>15} {arrow} {:<15} {proto:<8} {len:>5} {}",
            s.src, s.dst, s.info
        );
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
    writeln!(
        out,
        "{number:>5} {t:>12} {:>15} {arrow} {:<15} {proto_c:<8} {len:>5} {info_c}",
        s.src, s.dst
    )
}
