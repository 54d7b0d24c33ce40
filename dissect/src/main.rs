//! `oneshot-dissect`: read a capture, follow each TCP stream, find MPA, decode iWARP, one-shot
//! RDMA, iSER and iSCSI, and print it the way tshark users expect.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use oneshot_dissect::capture::{CaptureReader, Format};
use oneshot_dissect::cli::{Args, Options};
use oneshot_dissect::dissector::{Dissector, Hindsight};
use oneshot_dissect::filter::Filter;
use oneshot_dissect::print;
use oneshot_dissect::stats::Stats;
use oneshot_dissect::tree::Detail;

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.ends_with(BROKEN_PIPE) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = io::stdout().flush();
            eprintln!("oneshot-dissect: {e}");
            ExitCode::from(2)
        }
    }
}

const BROKEN_PIPE: &str = "(broken pipe)";

/// A write error as a message; a closed pipe is marked so that `main` exits quietly.
fn writing(e: io::Error) -> String {
    if e.kind() == io::ErrorKind::BrokenPipe {
        format!("writing: {BROKEN_PIPE}")
    } else {
        format!("writing: {e}")
    }
}

/// The first of two passes (`-2`): dissect without printing, to learn what later frames tell
/// about earlier ones.
fn first_pass(opts: &Options) -> Result<Hindsight, String> {
    let mut reader = CaptureReader::open(&opts.file).map_err(|e| e.to_string())?;
    let pcapng = matches!(reader.format(), Format::PcapNg);
    let mut config = opts.config.clone();
    config.learn = true;
    config.summary = false;
    config.detail = Detail::Off;
    let mut d = Dissector::new(config);
    let mut read = 0u64;
    while opts.count.is_none_or(|c| read < c) {
        let Some(item) = reader.next() else { break };
        // A read error is reported by the second pass, after what it could print.
        let Ok(pkt) = item else { break };
        read += 1;
        d.dissect(&pkt, pcapng);
    }
    Ok(d.into_hindsight())
}

fn run(args: Args) -> Result<ExitCode, String> {
    let opts = Options::resolve(args)?;
    if let Some(g) = &opts.glossary {
        let mut out = BufWriter::new(io::stdout().lock());
        print::glossary::write(&mut out, g).map_err(writing)?;
        return Ok(ExitCode::SUCCESS);
    }
    let filter = match &opts.filter {
        Some(text) => Some(Filter::compile(text).map_err(|e| format!("-Y: {e}"))?),
        None => None,
    };
    let mut reader = CaptureReader::open(&opts.file).map_err(|e| e.to_string())?;
    let pcapng = matches!(reader.format(), Format::PcapNg);
    let stdout_tty = io::stdout().is_terminal();
    let color = opts.color.resolve(stdout_tty);
    colored::control::set_override(color);
    let bar = (!stdout_tty && io::stderr().is_terminal() && opts.progress)
        .then(|| {
            reader.total_len().filter(|&n| n > 64 << 20).map(|n| {
                let b = ProgressBar::new(n);
                b.set_style(
                    ProgressStyle::with_template(
                        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .expect("a valid template"),
                );
                b
            })
        })
        .flatten();
    let mut config = opts.config.clone();
    if opts.two_pass {
        config.hindsight = Some(std::sync::Arc::new(first_pass(&opts)?));
    }
    // No larger than the printer's chunks, which then go to stdout without a copy.
    let mut out = BufWriter::with_capacity(print::CHUNK, io::stdout().lock());
    let mut d = Dissector::new(config);
    // Only the exchange table needs every exchange kept.
    d.analysis.count_only = !opts.stats.iter().any(|s| s == "oneshot,exchanges");
    let mut printer = print::Printer::new(&opts, filter.as_ref());
    let mut stats = Stats::new(&opts.stats);
    let mut read = 0u64;
    let mut shown = 0u64;
    let mut first_ts = None;
    let mut failure = None;
    loop {
        if opts.count.is_some_and(|c| read >= c) {
            break;
        }
        let Some(item) = reader.next() else { break };
        // Borrowed where the reader put it, not moved out of the `Option<Result>`.
        let pkt = match &item {
            Ok(p) => p,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        };
        read += 1;
        let first = *first_ts.get_or_insert(pkt.ts_ns);
        d.dissect(pkt, pcapng);
        let matched = filter.as_ref().is_none_or(|f| f.matches(&d.tree, pkt.data));
        stats.frame(&d, pkt, matched);
        if matched {
            shown += 1;
            d.displayed(pkt.ts_ns);
            printer
                .frame(&mut out, &d, pkt, pkt.ts_ns - first)
                .map_err(writing)?;
        }
        if let Some(b) = &bar {
            if read % 4096 == 0 {
                b.set_position(reader.bytes_read());
            }
        }
    }
    printer.finish(&mut out).map_err(writing)?;
    let leaks = d.finish();
    stats.write(&mut out, &d, &leaks).map_err(writing)?;
    out.flush().map_err(writing)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(if filter.is_some() && shown == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
