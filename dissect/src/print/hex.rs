//! `-x`: hex and ASCII dump of each data source, the octets of the display filter's fields
//! marked (reverse video on a terminal, a `^^` line under the row otherwise).

use std::io::{self, Write};

use crate::field::FieldId;
use crate::tree::{FRAME_SOURCE, SourceId, Tree};

/// Dumps the frame and, when the tree has them, its extra sources (reassembled PDUs, FPDUs
/// without markers), each under a `Name (N bytes):` heading as tshark does.
pub fn dump(
    out: &mut dyn Write,
    t: &Tree,
    frame: &[u8],
    marked: &[FieldId],
    color: bool,
) -> io::Result<()> {
    let extra = t.extra_sources();
    if extra.is_empty() {
        return block(out, t, frame, FRAME_SOURCE, marked, color);
    }
    writeln!(out, "Frame ({} bytes):", frame.len())?;
    block(out, t, frame, FRAME_SOURCE, marked, color)?;
    for (i, s) in extra.iter().enumerate() {
        writeln!(out, "{} ({} bytes):", s.name, s.bytes.len())?;
        block(out, t, &s.bytes, (i + 1) as SourceId, marked, color)?;
    }
    Ok(())
}

fn block(
    out: &mut dyn Write,
    t: &Tree,
    bytes: &[u8],
    src: SourceId,
    marked: &[FieldId],
    color: bool,
) -> io::Result<()> {
    let mut mark = vec![false; bytes.len()];
    let mut any = false;
    for n in t
        .nodes
        .iter()
        .filter(|n| n.src == src && marked.contains(&n.field))
    {
        let s = (n.start as usize).min(bytes.len());
        let e = (n.start as usize + n.len as usize).min(bytes.len());
        for m in &mut mark[s..e] {
            *m = true;
            any = true;
        }
    }
    let mut line = String::with_capacity(96);
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let marks = &mark[base..base + chunk.len()];
        line.clear();
        line.push_str(&format!("{base:04x}  "));
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) if color && marks.get(i) == Some(&true) => {
                    line.push_str(&format!("\x1b[7m{b:02x}\x1b[0m "))
                }
                Some(b) => line.push_str(&format!("{b:02x} ")),
                None => line.push_str("   "),
            }
        }
        line.push_str("  ");
        for (i, &b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            };
            if color && marks[i] {
                line.push_str(&format!("\x1b[7m{c}\x1b[0m"));
            } else {
                line.push(c);
            }
        }
        line.push('\n');
        if any && !color && marks.iter().any(|&m| m) {
            line.push_str("      ");
            for i in 0..16 {
                line.push_str(if marks.get(i).copied().unwrap_or(false) {
                    "^^ "
                } else {
                    "   "
                });
            }
            let trimmed = line.trim_end().len();
            line.truncate(trimmed);
            line.push('\n');
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_look_like_tshark() {
        let t = Tree::default();
        let data: Vec<u8> = (0u8..20).chain(*b"MPA ID").collect();
        let mut out = Vec::new();
        dump(&mut out, &t, &data, &[], false).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "0000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f   ................\n\
             0010  10 11 12 13 4d 50 41 20 49 44                     ....MPA ID\n"
        );
    }
}
