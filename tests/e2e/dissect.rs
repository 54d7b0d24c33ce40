//! `oneshot-dissect` end to end: the acceptance tests of issue #4. tshark and oneshot-dissect
//! agree on every shipped capture ([`compat`]); the captures tshark cannot read (no handshake,
//! markers one way, several FPDUs per segment with markers, a split ULPDU_Length) decode as their
//! scripts say ([`special`]); and the CLI keeps its promises ([`cli`]).

mod cli;
mod compat;
mod special;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use oneshot_tests::{binary, path, root};

use crate::r#gen::pcapng_packets;

/// The dissector, built once per test process.
fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| binary("oneshot-dissect", "oneshot-dissect"))
}

/// A shipped capture's path, as a string for argument lists.
fn capture(file: &str) -> String {
    path(&format!("captures/{file}"))
        .to_str()
        .expect("a UTF-8 path")
        .to_string()
}

/// Runs oneshot-dissect from the workspace root with `args`, `stdin` fed to it (or none), and
/// extra environment variables.
fn run_with(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("oneshot-dissect starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("a stdin pipe");
        // The dissector may stop reading early (-c); a broken pipe is its business.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().expect("oneshot-dissect runs")
}

fn run(args: &[&str]) -> Output {
    run_with(args, None, &[])
}

/// Runs oneshot-dissect, insists on exit code 0 and a quiet standard error, and returns what
/// it printed.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "oneshot-dissect {args:?} exited with {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// `-T fields` output as a table: one row per frame, one column per field, each cell the
/// field's occurrences in the frame.
struct Fields {
    names: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Fields {
    fn parse(names: &[&str], text: &str) -> Fields {
        let rows: Vec<Vec<String>> = text
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                r.len(),
                names.len(),
                "row {} has {} columns",
                i + 1,
                r.len()
            );
        }
        Fields {
            names: names.iter().map(|s| s.to_string()).collect(),
            rows,
        }
    }

    fn col(&self, name: &str) -> usize {
        self.names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("{name} was not asked for"))
    }

    /// The occurrences of `name` in frame `frame` (1-based).
    fn get(&self, frame: usize, name: &str) -> Vec<&str> {
        let c = &self.rows[frame - 1][self.col(name)];
        if c.is_empty() {
            Vec::new()
        } else {
            c.split(',').collect()
        }
    }

    /// Every occurrence of `name`, with its frame number.
    fn all(&self, name: &str) -> Vec<(usize, &str)> {
        (1..=self.rows.len())
            .flat_map(|f| self.get(f, name).into_iter().map(move |v| (f, v)))
            .collect()
    }
}

/// oneshot-dissect's `-T fields` for `names` on captures/`file`, with `extra` arguments.
fn fields(file: &str, extra: &[&str], names: &[&str]) -> Fields {
    let cap = capture(file);
    let mut args = vec!["-r", cap.as_str(), "-T", "fields"];
    args.extend_from_slice(extra);
    for n in names {
        args.extend(["-e", n]);
    }
    Fields::parse(names, &ok(&args))
}

/// The comment of every packet of a generated capture (oneshot-gen writes one per packet naming
/// the script line and the messages in it), read with pcap-file, not with the dissector.
fn comments(file: &str) -> Vec<String> {
    let bytes = std::fs::read(capture(file)).expect("the capture");
    pcapng_packets(&bytes)
        .into_iter()
        .map(|(_, _, c)| c.join("; "))
        .collect()
}
