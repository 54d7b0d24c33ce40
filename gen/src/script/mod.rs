//! The scenario language: a script in, a checked [`Scenario`] out.
//!
//! The grammar, the defaults and the ranges are in the README, section "The scenario language". [`parse`]
//! reads the script line by line: each line is split into tokens (words, quoted strings, `{`,
//! `}` and `->`) with nom, values inside words (numbers, sizes, rates, durations, addresses, hex)
//! are read with nom parsers, and names are resolved to indices as soon as they are used, so a
//! host or conn must be declared before the line that uses it. Every default is filled in.
//!
//! The first mistake stops the parse with a [`ScriptError`] naming the line, the column, what is
//! wrong and what would be right:
//!
//! ```
//! let err = oneshot_gen::script::parse("host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 vlna 5")
//!     .unwrap_err();
//! assert_eq!(
//!     err.render("s.os"),
//!     "s.os:1:43: unknown option \"vlna\" for \"host\" (did you mean \"vlan\"?)\n\
//!      \x20   host h1 mac 02:00:00:00:00:01 ip 10.0.0.1 vlna 5\n\
//!      \x20                                             ^"
//! );
//! ```

mod commands;
mod error;
mod lexer;
mod statements;
mod tokens;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_fuzz;

pub use error::ScriptError;

use crate::model::Scenario;

/// Parse a script into a [`Scenario`] with every default filled in, or return the first
/// mistake. Lines may end in LF or CRLF; a leading byte-order mark is ignored.
pub fn parse(src: &str) -> Result<Scenario, ScriptError> {
    let mut state = statements::State::new();
    for (i, raw) in src.split('\n').enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let text = raw.strip_suffix('\r').unwrap_or(raw);
        let text = if i == 0 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        state.line(line, text).map_err(|f| f.at(line, text))?;
    }
    state.finish()
}
