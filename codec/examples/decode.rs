//! Decodes every frame of a pcap or pcapng file with [`oneshot_codec::Frame`] and prints one
//! line per frame, then (with `-v`) every layer: the codec as a library user sees it.
//!
//! ```text
//! cargo run -p oneshot-codec --example decode -- captures/codec-sample.pcap [-v]
//!     [--profile oneshot|rfc7306] [--placement rsvdulp|appended]
//! ```
//!
//! Frame by frame, without TCP reassembly: FPDUs must start at the start of a TCP payload, as
//! RFC 5044 asks senders to arrange. (`oneshot-dissect` does the stream-level work.)

use std::process::ExitCode;

use oneshot_codec::iscsi::BhsRepr;
use oneshot_codec::iser::IserRepr;
use oneshot_codec::mpa::{FpduRepr, MpaFrameRepr};
use oneshot_codec::rdmap::{SegmentRepr, Settings};
use oneshot_codec::{Frame, Start, Ulp};
use pcap_file::pcapng::Block;
use pcap_file::{DataLink, pcap::PcapReader, pcapng::PcapNgReader};

struct Args {
    path: String,
    verbose: bool,
    settings: Settings,
}

fn parse_args() -> Result<Args, String> {
    let mut path = None;
    let mut verbose = false;
    let mut settings = Settings::default();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-v" => verbose = true,
            "--profile" => {
                let v = it.next().ok_or("--profile needs a value")?;
                settings.profile = v.parse().map_err(|e| format!("--profile {v}: {e}"))?;
            }
            "--placement" => {
                let v = it.next().ok_or("--placement needs a value")?;
                settings.placement = v.parse().map_err(|e| format!("--placement {v}: {e}"))?;
            }
            p if path.is_none() && !p.starts_with('-') => path = Some(p.to_string()),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Args {
        path: path.ok_or("usage: decode FILE [-v] [--profile P] [--placement P]")?,
        verbose,
        settings,
    })
}

fn start_of(link: DataLink) -> Option<Start> {
    match link {
        DataLink::ETHERNET => Some(Start::Ethernet),
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(Start::Ip),
        _ => None,
    }
}

fn print_frame(n: usize, bytes: &[u8], start: Start, args: &Args) {
    let f = Frame::decode(start, bytes);
    let mut line = format!("{n:5} ");
    if let Some(tcp) = f.tcp() {
        line += &format!(
            "TCP {} -> {} seq={} len={}",
            tcp.source_port(),
            tcp.destination_port(),
            tcp.sequence_number(),
            tcp.payload().len()
        );
    } else {
        line += &format!("{} octets, no TCP", bytes.len());
    }
    println!("{line}");
    if let Some(e) = f.stop {
        println!("        stopped: {e}");
    }
    if let Some(m) = f.mpa_frame() {
        match m {
            Ok(m) => println!("        {}", MpaFrameRepr::parse(&m)),
            Err(e) => println!("        MPA frame: {e}"),
        }
        return;
    }
    for d in f.fpdus(args.settings) {
        let d = match d {
            Ok(d) => d,
            Err(e) => {
                println!("        not an FPDU: {e}");
                break;
            }
        };
        let crc = if d.crc_ok() { "CRC ok" } else { "CRC BAD" };
        let message = d.message();
        match &message {
            Ok(m) => println!("        {m} [{crc}]"),
            Err(e) => println!("        FPDU at {}: {e} [{crc}]", d.offset),
        }
        let ulp = message.as_ref().ok().and_then(Ulp::detect);
        if let Some(bhs) = ulp.as_ref().and_then(Ulp::bhs) {
            println!("          {}", BhsRepr::parse(bhs));
        }
        if args.verbose {
            println!("          {}", FpduRepr::parse(&d.fpdu));
            if let Ok(m) = &message {
                println!("          {}", SegmentRepr::parse(m));
                if let Some(oneshot) = m.oneshot.field {
                    println!("          one-shot {oneshot}");
                }
            }
            if let Some(Ulp::Iser { iser, .. }) = &ulp {
                println!("          {}", IserRepr::parse(iser));
            }
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let data = std::fs::read(&args.path).map_err(|e| format!("{}: {e}", args.path))?;
    let mut n = 0;
    if data.starts_with(&[0x0A, 0x0D, 0x0D, 0x0A]) {
        let mut r = PcapNgReader::new(&data[..]).map_err(|e| format!("{}: {e}", args.path))?;
        let mut links = Vec::new();
        while let Some(block) = r.next_block() {
            let block = block.map_err(|e| format!("{}: block {}: {e}", args.path, n + 1))?;
            if let Block::SectionHeader(_) = block {
                links.clear();
            }
            if let Block::InterfaceDescription(i) = &block {
                links.push(i.linktype);
            }
            if let Block::EnhancedPacket(p) = block {
                n += 1;
                let link = links.get(p.interface_id as usize).copied();
                match link.and_then(start_of) {
                    Some(start) => print_frame(n, &p.data, start, args),
                    None => println!("{n:5} unsupported link type {link:?}"),
                }
            }
        }
    } else {
        let mut r = PcapReader::new(&data[..]).map_err(|e| format!("{}: {e}", args.path))?;
        let link = r.header().datalink;
        let start =
            start_of(link).ok_or(format!("{}: unsupported link type {link:?}", args.path))?;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| format!("{}: packet {}: {e}", args.path, n + 1))?;
            n += 1;
            print_frame(n, &p.data, start, args);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decode: {e}");
            ExitCode::from(2)
        }
    }
}
