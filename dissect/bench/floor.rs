//! The floor under issue 4's summary ratios: the least work a one-line-per-frame summary of an
//! iWARP capture can do, to measure how fast *any* dissector could be on this machine.
//!
//! Per frame it reads the record (the project's capture reader), slices Ethernet, IP and TCP
//! (etherparse, as the dissector does), walks the FPDUs that start at the segment's first octet,
//! verifies each one's CRC-32C, and writes a line with the summary's columns: number, relative
//! time, source → destination, protocol, length and an Info of ports, opcode, STag and MSN.
//!
//! It leaves out everything else the real dissector does: no TCP reassembly (an FPDU split
//! across segments is not found), no sequence analysis, no markers, no MPA handshake, no STag
//! lifecycle, no iSCSI, no field tree, no colour. So its time is a lower bound, not a rival:
//! `dissect-bench.sh` prints tshark's time over it next to the targets.
//!
//! ```text
//! cargo run --release -p oneshot-dissect --example floor -- CAPTURE [-q] > /dev/null
//! ```
//! `-q` skips the lines (read, slice, verify, count only).
#![forbid(unsafe_code)]

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use oneshot_codec::etherparse::{NetSlice, SlicedPacket, TransportSlice};
use oneshot_codec::mpa::Fpdu;
use oneshot_dissect::capture::CaptureReader;

const OPCODES: [&[u8]; 16] = [
    b"Write",
    b"Read Request",
    b"Read Response",
    b"Send",
    b"Send Invalidate",
    b"Send SE",
    b"Send SE Invalidate",
    b"Terminate",
    // RFC 7306's or the one-shot profile's, depending on the capture: the floor does not ask.
    b"Opcode 8",
    b"Opcode 9",
    b"Opcode 10",
    b"Opcode 11",
    b"Opcode 12",
    b"Opcode 13",
    b"Opcode 14",
    b"Opcode 15",
];

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), quiet) = (args.next(), args.next().as_deref() == Some("-q")) else {
        eprintln!("usage: floor CAPTURE [-q]");
        return ExitCode::from(2);
    };
    match run(&path, quiet) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floor: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(path: &str, quiet: bool) -> Result<(), String> {
    let mut reader = CaptureReader::open(path).map_err(|e| e.to_string())?;
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut line = Vec::with_capacity(256);
    let mut num = itoa::Buffer::new();
    let mut first = None;
    let (mut frames, mut fpdus, mut bad) = (0u64, 0u64, 0u64);
    while let Some(item) = reader.next() {
        let pkt = item.map_err(|e| e.to_string())?;
        frames += 1;
        let rel = pkt.ts_ns - *first.get_or_insert(pkt.ts_ns);
        let Ok(p) = SlicedPacket::from_ethernet(pkt.data) else {
            continue;
        };
        let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Tcp(tcp))) = (&p.net, &p.transport)
        else {
            continue;
        };
        // The FPDUs from the segment's first octet; the last one's opcode, STag and MSN.
        let mut rest = tcp.payload();
        let mut last = None;
        while let Ok(f) = Fpdu::new_checked(rest) {
            fpdus += 1;
            bad += u64::from(!f.verify_crc());
            let u = f.ulpdu();
            if u.len() >= 18 {
                let be32 = |i: usize| u32::from_be_bytes([u[i], u[i + 1], u[i + 2], u[i + 3]]);
                last = Some((u[1] & 15, be32(2), be32(10)));
            }
            rest = &rest[f.len()..];
        }
        if quiet {
            continue;
        }
        line.clear();
        let n = num.format(pkt.number);
        line.extend(std::iter::repeat_n(b' ', 5usize.saturating_sub(n.len())));
        line.extend_from_slice(n.as_bytes());
        line.extend_from_slice(b" ");
        let secs = num.format(rel / 1_000_000_000);
        line.extend(std::iter::repeat_n(b' ', 4usize.saturating_sub(secs.len())));
        line.extend_from_slice(secs.as_bytes());
        line.push(b'.');
        let micros = num.format(1_000_000 + (rel % 1_000_000_000) / 1000);
        line.extend_from_slice(&micros.as_bytes()[1..]);
        line.extend_from_slice(b"        ");
        for (i, a) in [ip.header().source(), ip.header().destination()]
            .iter()
            .enumerate()
        {
            if i == 1 {
                line.extend_from_slice(" → ".as_bytes());
            }
            for (k, o) in a.iter().enumerate() {
                if k > 0 {
                    line.push(b'.');
                }
                line.extend_from_slice(num.format(*o).as_bytes());
            }
        }
        line.extend_from_slice(if last.is_some() {
            b"        DDP/RDMA   "
        } else {
            b"        TCP        "
        });
        line.extend_from_slice(num.format(pkt.orig_len).as_bytes());
        line.push(b' ');
        line.extend_from_slice(num.format(tcp.source_port()).as_bytes());
        line.extend_from_slice(b" > ");
        line.extend_from_slice(num.format(tcp.destination_port()).as_bytes());
        if let Some((op, stag, msn)) = last {
            line.push(b' ');
            line.extend_from_slice(OPCODES[usize::from(op)]);
            line.extend_from_slice(b" S=0x");
            for k in (0..8).rev() {
                line.push(b"0123456789abcdef"[((stag >> (k * 4)) & 15) as usize]);
            }
            line.extend_from_slice(b" MSN=");
            line.extend_from_slice(num.format(msn).as_bytes());
        } else {
            line.extend_from_slice(b" [ACK] Len=");
            line.extend_from_slice(num.format(tcp.payload().len()).as_bytes());
        }
        line.push(b'\n');
        out.write_all(&line).map_err(|e| format!("writing: {e}"))?;
    }
    out.flush().map_err(|e| format!("writing: {e}"))?;
    eprintln!("floor: {frames} frames, {fpdus} FPDUs at segment starts, {bad} bad CRCs");
    Ok(())
}
