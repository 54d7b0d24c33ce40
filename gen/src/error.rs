//! The generator's one error type. Every variant prints as one line that names the thing that
//! is wrong; `main` prints it and exits with code 2.

use std::io;

use crate::script::ScriptError;

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// The script does not parse or does not make sense (line, column and caret).
    #[error("{0}")]
    Script(#[from] ScriptError),
    /// A capture could not be written.
    #[error("cannot write the capture: {0}")]
    Capture(String),
    /// A file or stream could not be read or written.
    #[error("{what}: {error}")]
    Io {
        /// The file or stream.
        what: String,
        /// Why (shown in the message, so not chained as a source a second time).
        error: io::Error,
    },
    /// A command cannot be carried out (e.g. a size no flow can move).
    #[error("line {line}: {message}")]
    Command {
        /// Script line of the command.
        line: u32,
        /// What is wrong and what would be right.
        message: String,
    },
    /// No built-in scenario by that name.
    #[error("unknown scenario {name:?} (try --list; known: {known})")]
    UnknownScenario {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
}

impl GenError {
    /// Wraps a pcap-file error (an I/O error by the system's reason: pcap-file's own text for
    /// it is "Error reading bytes", even when writing).
    pub fn capture(e: pcap_file::PcapError) -> Self {
        match e {
            pcap_file::PcapError::IoError(io) => GenError::Capture(io.to_string()),
            other => GenError::Capture(other.to_string()),
        }
    }
}
