//! Script errors: where (line and column), what is wrong and what would be right, with the source
//! line and a caret under the column.

use std::fmt;

use thiserror::Error;

/// A mistake in a script, found by [`parse`](super::parse).
///
/// `Display` gives `line 12, column 8: message`, then the source line and a caret under the
/// column; [`ScriptError::render`] gives the same with a file name in front, as compilers do.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ScriptError {
    /// Line of the script, from 1.
    pub line: u32,
    /// Column in characters, from 1 (a tab counts as one character).
    pub col: u32,
    /// What is wrong and what would be right.
    pub message: String,
    /// The line as written, without its line ending.
    pub source_line: String,
}

impl ScriptError {
    /// The error prefixed by the script's path, `path:line:col: message`, followed by the source
    /// line and the caret (what the command-line tool prints before it exits with status 2).
    pub fn render(&self, file: &str) -> String {
        format!(
            "{file}:{}:{}: {}\n{}",
            self.line,
            self.col,
            self.message,
            self.snippet()
        )
    }

    /// The source line and the caret under the column, both indented by four spaces. Tabs before
    /// the column are copied so that the caret lines up in a terminal.
    fn snippet(&self) -> String {
        let before = usize::try_from(self.col.saturating_sub(1)).unwrap_or(usize::MAX);
        let mut pad: String = self
            .source_line
            .chars()
            .take(before)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let have = pad.chars().count();
        pad.extend(std::iter::repeat_n(' ', before.saturating_sub(have)));
        format!("    {}\n    {pad}^", self.source_line)
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}\n{}",
            self.line,
            self.col,
            self.message,
            self.snippet()
        )
    }
}

/// An error inside one line, before the line number and the source text are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fail {
    /// Column in characters, from 1.
    pub col: u32,
    /// The message.
    pub msg: String,
}

impl Fail {
    /// An error at `col`.
    pub fn new(col: u32, msg: impl Into<String>) -> Self {
        Fail {
            col,
            msg: msg.into(),
        }
    }

    /// Attach the place.
    pub fn at(self, line: u32, source_line: &str) -> ScriptError {
        ScriptError {
            line,
            col: self.col,
            message: self.msg,
            source_line: source_line.to_owned(),
        }
    }
}

/// Optimal-string-alignment distance (Levenshtein plus swaps of neighbours), on characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// The candidate closest to `word`, when it is close enough to be a likely typo: at most two
/// edits, and at least two thirds of the longer word right (so `h3` does not suggest `h1`).
pub(crate) fn suggest<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word_len = word.chars().count();
    if word_len > 64 {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for cand in candidates {
        let d = distance(word, cand);
        let longer = word_len.max(cand.chars().count());
        if d == 0 || d > 2 || 3 * d > longer {
            continue;
        }
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// `a, b, c`: a list of choices for a message.
pub(crate) fn list(items: &[&str]) -> String {
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("crcc", "crc"), 1);
        assert_eq!(distance("wirte", "write"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("crcc", ["crc", "loss"]), Some("crc"));
        assert_eq!(suggest("h3", ["h1", "h2"]), None);
        assert_eq!(suggest("hots1", ["host1", "host2"]), Some("host1"));
        assert_eq!(suggest("zzzz", ["crc", "loss"]), None);
    }

    #[test]
    fn display_and_render() {
        let e = ScriptError {
            line: 3,
            col: 7,
            message: "boom".into(),
            source_line: "\twrite lots".into(),
        };
        assert_eq!(
            e.to_string(),
            "line 3, column 7: boom\n    \twrite lots\n    \t     ^"
        );
        assert_eq!(
            e.render("s.os"),
            "s.os:3:7: boom\n    \twrite lots\n    \t     ^"
        );
        // A column past the end of the line (an error at the end of the line).
        let e = ScriptError {
            line: 1,
            col: 6,
            message: "m".into(),
            source_line: "write".into(),
        };
        assert_eq!(e.to_string(), "line 1, column 6: m\n    write\n         ^");
    }
}
