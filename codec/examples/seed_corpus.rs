//! Writes seed corpora for the fuzz targets in `fuzz/` from every capture in a directory.
//!
//! ```text
//! cargo run -p oneshot-codec --example seed_corpus -- CAPTURES_DIR OUT_DIR
//! ```
//!
//! Every `*.pcap` and `*.pcapng` file in `CAPTURES_DIR` is read (Ethernet and raw-IP link types;
//! frames of other link types are skipped). For the `n`-th frame (counted from 1) of file `F`
//! it writes:
//!
//! - `OUT_DIR/frame/F-n`: the frame's bytes, as the `frame` target reads them;
//! - `OUT_DIR/roundtrip/F-n`: the same bytes (any bytes are valid `roundtrip` input);
//! - for frames with a TCP payload, `fpdus` inputs in that target's layout (octet 0 = flags,
//!   octets 1..5 = big-endian stream position, then the payload; see the `fpdus` target):
//!   - `OUT_DIR/fpdus/F-n`: default settings, no markers, position 0, the payload as captured;
//!   - `OUT_DIR/fpdus/F-n-marked`: when the payload is whole marker-free FPDUs, the same FPDUs
//!     with markers inserted (and CRCs recomputed over them) from stream position 0, with the
//!     markers flag set, so that the marker paths start from well-formed input.
//!
//! The three subdirectories are created if needed; existing files with the same names are
//! overwritten and others are left alone (`fuzz/seed.sh` empties them first).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use oneshot_codec::mpa::{self, Fpdus};
use oneshot_codec::{Frame, Start};
use pcap_file::pcapng::Block;
use pcap_file::{DataLink, pcap::PcapReader, pcapng::PcapNgReader};

/// `fpdus` flags bit: the payload has markers (must match `FLAG_MARKERS` in `fuzz/src/lib.rs`).
const FLAG_MARKERS: u8 = 0x04;

/// Where the frames of a link type begin, for the link types the codec decodes.
fn start_of(link: DataLink) -> Option<Start> {
    match link {
        DataLink::ETHERNET => Some(Start::Ethernet),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(Start::Ip),
        _ => None,
    }
}

/// One `fpdus` target input: flags, stream position, payload.
fn fpdus_input(flags: u8, start: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + payload.len());
    v.push(flags);
    v.extend_from_slice(&start.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// The payload's FPDUs with markers inserted from stream position 0, or `None` when the
/// payload is not a whole number of marker-free FPDUs.
fn with_markers(payload: &[u8]) -> Option<Vec<u8>> {
    let mut wire = Vec::new();
    let mut position = 0u32;
    let mut it = Fpdus::new(payload);
    for item in it.by_ref() {
        let (_, fpdu) = item.ok()?;
        let plain = fpdu.as_bytes();
        let at = wire.len();
        wire.resize(at + mpa::marker::wire_len(position, plain.len()), 0);
        let n = mpa::emit_marked(plain, position, &mut wire[at..], true).ok()?;
        position = position.wrapping_add(u32::try_from(n).ok()?);
    }
    (it.offset() == payload.len() && !wire.is_empty()).then_some(wire)
}

/// Writes the seeds of one frame.
struct Writer {
    /// The output directory.
    out: PathBuf,
    /// Files written so far.
    written: usize,
}

impl Writer {
    fn write(&mut self, target: &str, name: &str, bytes: &[u8]) -> Result<(), String> {
        let path = self.out.join(target).join(name);
        fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        self.written += 1;
        Ok(())
    }

    /// Every seed for frame `n` of capture `file`.
    fn frame(&mut self, file: &str, n: usize, bytes: &[u8], start: Start) -> Result<(), String> {
        let name = format!("{file}-{n}");
        self.write("frame", &name, bytes)?;
        self.write("roundtrip", &name, bytes)?;
        let frame = Frame::decode(start, bytes);
        if let Some(payload) = frame.tcp_payload().filter(|p| !p.is_empty()) {
            self.write("fpdus", &name, &fpdus_input(0, 0, payload))?;
            if let Some(wire) = with_markers(payload) {
                let marked = fpdus_input(FLAG_MARKERS, 0, &wire);
                self.write("fpdus", &format!("{name}-marked"), &marked)?;
            }
        }
        Ok(())
    }

    /// Every frame of one pcap or pcapng file.
    fn capture(&mut self, path: &Path) -> Result<(), String> {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let data = fs::read(path).map_err(|e| err(&e))?;
        let mut n = 0;
        if data.starts_with(&[0x0A, 0x0D, 0x0D, 0x0A]) {
            let mut r = PcapNgReader::new(&data[..]).map_err(|e| err(&e))?;
            // Link types by interface id, tracked here because a block borrows the reader.
            let mut links = Vec::new();
            while let Some(block) = r.next_block() {
                match block.map_err(|e| err(&e))? {
                    Block::SectionHeader(_) => links.clear(),
                    Block::InterfaceDescription(i) => links.push(i.linktype),
                    Block::EnhancedPacket(p) => {
                        n += 1;
                        let link = links.get(p.interface_id as usize).copied();
                        if let Some(start) = link.and_then(start_of) {
                            self.frame(&file, n, &p.data, start)?;
                        }
                    }
                    Block::SimplePacket(p) => {
                        n += 1;
                        if let Some(start) = links.first().copied().and_then(start_of) {
                            self.frame(&file, n, &p.data, start)?;
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let mut r = PcapReader::new(&data[..]).map_err(|e| err(&e))?;
            let link = r.header().datalink;
            let Some(start) = start_of(link) else {
                eprintln!("{}: skipped, link type {link:?}", path.display());
                return Ok(());
            };
            while let Some(p) = r.next_packet() {
                let p = p.map_err(|e| err(&e))?;
                n += 1;
                self.frame(&file, n, &p.data, start)?;
            }
        }
        Ok(())
    }
}

/// Reads every capture of `captures` and writes the seeds under `out`.
fn run(captures: &Path, out: &Path) -> Result<usize, String> {
    for target in ["frame", "fpdus", "roundtrip"] {
        let dir = out.join(target);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let mut paths: Vec<PathBuf> = fs::read_dir(captures)
        .map_err(|e| format!("{}: {e}", captures.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    paths.sort();
    let mut w = Writer {
        out: out.to_path_buf(),
        written: 0,
    };
    for p in &paths {
        w.capture(p)?;
    }
    Ok(w.written)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [captures, out] = args.as_slice() else {
        eprintln!("usage: seed_corpus CAPTURES_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(captures), Path::new(out)) {
        Ok(n) => {
            println!("seed_corpus: wrote {n} files under {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed_corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
