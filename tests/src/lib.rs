//! Helpers shared by the end-to-end tests: where the workspace and its binaries are, scratch
//! directories, running oneshot-dissect, and whether tshark is there to cross-check against.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the workspace")
        .to_path_buf()
}

/// A path under the workspace root.
pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Builds (if needed) and returns the path of one of the workspace's binaries.
pub fn binary(package: &str, name: &str) -> PathBuf {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            package,
            "--bin",
            name,
        ])
        .current_dir(root())
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p {package} failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("release").join(name)
}

/// Whether tshark is installed. When it is not, tests that need it print a loud notice and
/// pass, unless `ONESHOT_REQUIRE_TSHARK=1` (as in CI), where they fail.
pub fn tshark_available(test: &str) -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var("ONESHOT_REQUIRE_TSHARK").as_deref() == Ok("1") {
        panic!("{test}: tshark is not installed and ONESHOT_REQUIRE_TSHARK=1");
    }
    eprintln!();
    eprintln!("################################################################");
    eprintln!("## SKIPPED {test}: tshark is not installed.");
    eprintln!("## Install it (apt-get install tshark) to run the cross-check;");
    eprintln!("## CI sets ONESHOT_REQUIRE_TSHARK=1 and fails instead of skipping.");
    eprintln!("################################################################");
    false
}

/// Runs tshark with `args` and returns what it printed on standard output. Panics, with
/// tshark's standard error, when it cannot run or exits non-zero. Call
/// [`tshark_available`] first.
pub fn run_tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark runs");
    assert!(
        out.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tshark prints UTF-8")
}

/// A scratch directory under the system's temporary directory, named after its tag and this
/// process, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// Creates it, empty.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("oneshot-e2e-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `bytes` to the file `name` inside it and returns the file's path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        std::fs::write(&p, bytes).expect("a scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs oneshot-dissect with `args` and returns its standard output. Panics, with its standard
/// error, unless it exits 0 (or 1: a `-Y` filter that matched nothing).
pub fn oneshot_dissect(args: &[&str]) -> String {
    let out = Command::new(binary("oneshot-dissect", "oneshot-dissect"))
        .args(args)
        .output()
        .expect("oneshot-dissect runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "oneshot-dissect {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("oneshot-dissect prints UTF-8")
}
