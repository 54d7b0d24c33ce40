//! `oneshot-gen`: turn a short script into a byte-exact capture of one-shot RDMA, conventional
//! iWARP and iSCSI/TCP exchanges.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use oneshot_gen::GenError;
use oneshot_gen::engine::{self, Progress, RunOptions, Summary};
use oneshot_gen::scenarios;
use oneshot_gen::sink::{CaptureWriter, Format, Interface};

/// Generate one-shot RDMA, conventional iWARP and iSCSI/TCP traffic into pcap or pcapng.
#[derive(Debug, Parser)]
#[command(name = "oneshot-gen", version, about, long_about = None)]
struct Args {
    /// The scenario script ("-" reads standard input).
    script: Option<String>,
    /// Where to write the capture ("-" writes standard output).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    out: Option<String>,
    /// Capture format: pcap, pcap-ns or pcapng (default: from the file name, else pcap).
    #[arg(short = 'F', long = "format", value_name = "FORMAT")]
    format: Option<String>,
    /// Run a built-in scenario instead of a script.
    #[arg(long, value_name = "NAME", conflicts_with = "script")]
    scenario: Option<String>,
    /// List the built-in scenarios.
    #[arg(long)]
    list: bool,
    /// Print the script of a built-in scenario.
    #[arg(long, value_name = "NAME")]
    show: Option<String>,
    /// Override the script's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Write the driver↔NIC interactions of every command (JSON lines) to FILE.
    #[arg(long, value_name = "FILE")]
    host_trace: Option<String>,
    /// No summary on standard error.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oneshot-gen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    if args.list {
        for b in scenarios::BUILTINS {
            println!("{:20} {}", b.name, b.about);
        }
        return Ok(());
    }
    if let Some(name) = &args.show {
        let s = scenarios::script(name).ok_or_else(|| GenError::UnknownScenario {
            name: name.clone(),
            known: scenarios::names(),
        })?;
        print!("{s}");
        return Ok(());
    }
    let (source, text) = match (&args.script, &args.scenario) {
        (_, Some(name)) => (
            format!("<scenario {name}>"),
            scenarios::script(name).ok_or_else(|| GenError::UnknownScenario {
                name: name.clone(),
                known: scenarios::names(),
            })?,
        ),
        (Some(p), None) if p == "-" => {
            let mut s = String::new();
            io::stdin()
                .read_to_string(&mut s)
                .context("reading the script from standard input")?;
            ("<stdin>".to_string(), s)
        }
        (Some(p), None) => (
            p.clone(),
            std::fs::read_to_string(p).map_err(|e| GenError::Io {
                what: p.clone(),
                error: e,
            })?,
        ),
        (None, None) => anyhow::bail!(
            "give a script (or - for standard input) or --scenario NAME; --list shows the built-ins"
        ),
    };
    let mut scenario =
        oneshot_gen::script::parse(&text).map_err(|e| anyhow::anyhow!("{}", e.render(&source)))?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let out_name = args
        .out
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no output: add -w FILE (or -w - for standard output)"))?;
    let format = match &args.format {
        Some(f) => Format::from_name(f)
            .ok_or_else(|| anyhow::anyhow!("-F {f}: expected pcap, pcap-ns or pcapng"))?,
        None => Format::from_path(&out_name),
    };
    let interfaces: Vec<Interface> = scenario
        .hosts
        .iter()
        .map(|h| Interface {
            name: h.name.clone(),
            description: format!("{} link ({}, {})", h.name, h.ip, format_mac(h.mac)),
            speed: h.rate_bps,
        })
        .collect();
    // pcap records go out in vectored writes of about 1 MiB (bulk payload by reference into
    // the generator's data block), which a buffer in between would copy: a file gets them
    // unbuffered. pcapng blocks come one by one and go through a buffer.
    let out: Box<dyn Write> = if out_name == "-" {
        Box::new(BufWriter::with_capacity(1 << 20, io::stdout().lock()))
    } else {
        let file = File::create(&out_name).map_err(|e| GenError::Io {
            what: out_name.clone(),
            error: e,
        })?;
        match format {
            Format::Pcap | Format::PcapNs => Box::new(file),
            Format::Pcapng => Box::new(BufWriter::with_capacity(1 << 20, file)),
        }
    };
    let mut writer = CaptureWriter::new(out, format, &interfaces)?;
    let mut trace: Option<Box<dyn Write>> = match &args.host_trace {
        Some(p) => Some(Box::new(BufWriter::new(File::create(p).map_err(|e| {
            GenError::Io {
                what: p.clone(),
                error: e,
            }
        })?))),
        None => None,
    };
    let bar = (io::stderr().is_terminal() && !args.quiet).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("a valid template"),
        );
        b
    });
    let mut on_progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_message(format!(
                "{} frames, {:.1} MB, {} commands",
                p.frames,
                p.bytes as f64 / 1e6,
                p.commands
            ));
            b.tick();
        }
    };
    let opts = RunOptions {
        host_trace: trace.as_deref_mut().map(|w| w as &mut dyn Write),
        progress: Some(&mut on_progress),
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let summary = engine::run(&scenario, &mut writer, opts)?;
    writer
        .into_inner()
        .flush()
        .with_context(|| format!("writing {out_name}"))?;
    if let Some(t) = trace.as_mut() {
        t.flush().context("writing the host trace")?;
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !args.quiet {
        print_summary(&summary, &out_name, started.elapsed());
    }
    Ok(())
}

fn format_mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn print_summary(s: &Summary, out: &str, took: std::time::Duration) {
    let mut e = io::stderr().lock();
    let _ = writeln!(
        e,
        "{out}: {} frames, {:.1} MB on the wire, {:.3} ms simulated, written in {:.2} s",
        s.frames,
        s.wire_bytes as f64 / 1e6,
        s.duration_ns as f64 / 1e6,
        took.as_secs_f64()
    );
    let _ = writeln!(
        e,
        "{:20} {:>9} {:>14} {:>9} {:>22}",
        "flow", "commands", "bytes", "frames", "driver-NIC per command"
    );
    for (name, f) in &s.flows {
        let per = |n: u64| {
            if f.commands == 0 {
                0.0
            } else {
                n as f64 / f.commands as f64
            }
        };
        let _ = writeln!(
            e,
            "{:20} {:>9} {:>14} {:>9} {:>10.1} h1 {:>6.1} h2",
            name,
            f.commands,
            f.bytes,
            f.frames,
            per(f.host1_interactions),
            per(f.host2_interactions)
        );
    }
    for (line, n) in &s.skipped {
        let _ = writeln!(
            e,
            "skipped: {n} command(s) of line {line} (connection closed)"
        );
    }
    for n in &s.notes {
        let _ = writeln!(e, "note: {n}");
    }
}
