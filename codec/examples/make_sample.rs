//! Writes `captures/codec-sample.pcap`: one complete one-shot write (ONESHOT.md §4, FIG. 4)
//! built with nothing but this crate and etherparse, so that the codec has a shipped capture
//! of its own to decode, seed the fuzzers and cross-check with tshark.
//!
//! ```text
//! cargo run -p oneshot-codec --example make_sample -- captures/codec-sample.pcap
//! ```
//!
//! The bytes are fixed (fixed addresses, sequence numbers, timestamps and payload), so running
//! it again reproduces the shipped file exactly; a test checks that.

use std::time::Duration;

use oneshot_codec::ddp::DdpRepr;
use oneshot_codec::etherparse::{PacketBuilder, TcpOptionElement};
use oneshot_codec::iscsi::{BhsRepr, SCSI_WRITE_10, cdb_rw10};
use oneshot_codec::mpa::{self, Enhanced, MpaFrameRepr};
use oneshot_codec::oneshot::{Encoding, OneShotField, Op, Placement};
use oneshot_codec::rdmap::{Control, HeaderRepr, ReadRequestRepr, SegmentRepr};
use pcap_file::pcap::{PcapPacket, PcapWriter};

/// One host of the conversation.
struct Host {
    mac: [u8; 6],
    ip: [u8; 4],
    port: u16,
    seq: u32,
}

/// A TCP conversation between two hosts, writing frames with their sequence numbers.
struct Conversation {
    hosts: [Host; 2],
    frames: Vec<(Duration, Vec<u8>)>,
    clock: Duration,
}

const SYN: u8 = 1;
const FIN: u8 = 2;
const ACK: u8 = 4;

impl Conversation {
    fn send(&mut self, from: usize, flags: u8, payload: &[u8]) {
        let to = 1 - from;
        let (a, b) = (&self.hosts[from], &self.hosts[to]);
        let mut builder = PacketBuilder::ethernet2(a.mac, b.mac)
            .ipv4(a.ip, b.ip, 64)
            .tcp(a.port, b.port, a.seq, 65535);
        if flags & SYN != 0 {
            builder = builder.syn();
            builder = builder
                .options(&[TcpOptionElement::MaximumSegmentSize(1460)])
                .expect("MSS option fits");
        }
        if flags & FIN != 0 {
            builder = builder.fin();
        }
        if flags & ACK != 0 {
            builder = builder.ack(b.seq);
        }
        let mut frame = Vec::with_capacity(builder.size(payload.len()));
        builder.write(&mut frame, payload).expect("frame builds");
        let consumed = payload.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        self.hosts[from].seq = self.hosts[from].seq.wrapping_add(consumed);
        self.clock += Duration::from_micros(25);
        self.frames.push((self.clock, frame));
    }
}

fn fpdu(seg: &SegmentRepr<'_>) -> Vec<u8> {
    let mut out = vec![0u8; seg.fpdu_len()];
    seg.emit_fpdu(&mut out, true).expect("FPDU fits");
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "captures/codec-sample.pcap".into());
    let mut c = Conversation {
        hosts: [
            Host {
                mac: [0x02, 0, 0, 0, 0, 0x01],
                ip: [10, 0, 0, 1],
                port: 49152,
                seq: 1000,
            },
            Host {
                mac: [0x02, 0, 0, 0, 0, 0x02],
                ip: [10, 0, 0, 2],
                port: 3260,
                seq: 5000,
            },
        ],
        frames: Vec::new(),
        clock: Duration::from_secs(1_767_225_600),
    };
    let (h1, h2) = (0, 1);
    const SOURCE_STAG: u32 = 0x00c0_ffee; // host 1's buffer, advertised and closed
    const SINK_STAG: u32 = 0x0000_b0b0; // host 2's buffer for the Read Response
    const ITT: u32 = 0x10;
    const LEN: u32 = 1024;

    // TCP handshake.
    c.send(h1, SYN, &[]);
    c.send(h2, SYN | ACK, &[]);
    c.send(h1, ACK, &[]);

    // MPA Request and Reply: RFC 6581, CRC, no markers, IRD/ORD 16, client/server.
    let ird_ord = Some(Enhanced::new(false, false, 16, false, false, 16));
    for (from, key) in [(h1, mpa::KEY_REQUEST), (h2, mpa::KEY_REPLY)] {
        let frame = MpaFrameRepr {
            key,
            flags: mpa::frame::flags(false, true, false, true),
            rev: 2,
            enhanced: ird_ord,
            private_data: &[],
        };
        let mut bytes = vec![0u8; frame.len()];
        frame.emit(&mut bytes)?;
        c.send(from, ACK, &bytes);
    }

    // FIG. 4 path 520: advertise(S) + SCSI Command (write, 1 KiB, ITT 0x10).
    let mut command = [0u8; 48];
    BhsRepr::scsi_command(
        false,
        true,
        ITT,
        LEN,
        1,
        1,
        0,
        cdb_rw10(SCSI_WRITE_10, 0, 2),
    )
    .emit(&mut command)?;
    let advertise = SegmentRepr::oneshot_send(
        OneShotField {
            op: Some(Op::Advertise),
            stag: SOURCE_STAG,
            encoding: Encoding::Opcode,
            placement: Placement::RsvdUlp,
        },
        true,
        1,
        0,
        true,
        &command,
    );
    c.send(h1, ACK, &fpdu(&advertise));

    // Path 550: RDMA Read Request for the whole buffer.
    let read = SegmentRepr {
        ddp: DdpRepr::untagged(true, Control::new(1, 0x1).0, 1, 1, 0),
        header: HeaderRepr::ReadRequest(ReadRequestRepr {
            sink_stag: SINK_STAG,
            sink_to: 0,
            rdmardsz: LEN,
            source_stag: SOURCE_STAG,
            source_to: 0,
        }),
        payload: &[],
    };
    c.send(h2, ACK, &fpdu(&read));

    // Path 560: two Read Response segments, back to back in one TCP segment.
    let data: Vec<u8> = (0..LEN).map(|i| (i * 7 % 251) as u8).collect();
    let mut both = Vec::new();
    for (i, half) in data.chunks(512).enumerate() {
        let last = i == 1;
        let seg = SegmentRepr {
            ddp: DdpRepr::tagged(last, Control::new(1, 0x2).0, SINK_STAG, (i * 512) as u64),
            header: HeaderRepr::None,
            payload: half,
        };
        both.extend_from_slice(&fpdu(&seg));
    }
    c.send(h1, ACK, &both);

    // Path 600: close(S) + SCSI Response (good status).
    let mut response = [0u8; 48];
    BhsRepr::scsi_response(ITT, 0, 1, 2, 33, 0).emit(&mut response)?;
    let close = SegmentRepr::oneshot_send(
        OneShotField {
            op: Some(Op::Close),
            stag: SOURCE_STAG,
            encoding: Encoding::Opcode,
            placement: Placement::RsvdUlp,
        },
        true,
        1,
        0,
        true,
        &response,
    );
    c.send(h2, ACK, &fpdu(&close));
    c.send(h1, ACK, &[]);

    // Teardown.
    c.send(h1, FIN | ACK, &[]);
    c.send(h2, FIN | ACK, &[]);
    c.send(h1, ACK, &[]);

    let file = std::fs::File::create(&path)?;
    let mut w = PcapWriter::new(std::io::BufWriter::new(file))?;
    for (ts, frame) in &c.frames {
        w.write_packet(&PcapPacket::new(*ts, frame.len() as u32, frame))?;
    }
    eprintln!("wrote {} frames to {path}", c.frames.len());
    Ok(())
}
