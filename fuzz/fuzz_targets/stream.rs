//! One TCP connection built segment by segment from the input, in hostile orders, fed to
//! `oneshot-dissect` through the same run as the `capture` target (every printer, the filter,
//! the `-z` statistics; see `oneshot_fuzz::dissect`).
//!
//! The input is read through [`Unstructured`]: the run's settings, how MPA is found (heuristic,
//! or `-d tcp.port==N,mpa` with markers and CRC on or off), the server port (a `-d` port, the
//! iSCSI port 3260, or any), the initial sequence numbers, whether a three-way handshake comes
//! first, then up to [`MAX_SEGMENTS`] segments. Each segment has a direction, a sequence number
//! (the next one, a retransmission or overlap behind it, a gap ahead, any offset, or the offset
//! its payload had in a shipped capture), TCP flags, an acknowledgment number, a window, TCP
//! options (MSS, window scale, SACK-permitted, SACK blocks near the peer's data, timestamps,
//! raw octets), a capture length that may cut the frame short, a time step that may go
//! backwards, and a payload: nothing, a slice of a real TCP stream from the shipped captures, an
//! FPDU built from an arbitrary DDP/RDMAP segment (CRC good, zero or broken; markers inserted
//! or not), an MPA Request/Reply, or raw octets.

#![no_main]
#![forbid(unsafe_code)]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use oneshot_codec::etherparse::PacketBuilder;
use oneshot_codec::mpa::{self, MpaFrameRepr};
use oneshot_codec::rdmap::{SegmentRepr, Settings};
use oneshot_dissect::capture::{Interface, LinkType, Packet, TsResolution};
use oneshot_dissect::dissector::DecodeAs;
use oneshot_dissect::mpa::Forced;
use oneshot_fuzz::dissect::{Knobs, Run, first_pass};
use oneshot_fuzz::shipped;

/// Most segments one input makes.
const MAX_SEGMENTS: usize = 32;
/// Most payload octets of one segment (a jumbo frame's).
const MAX_PAYLOAD: usize = 9000;
/// The port `-d` forces to MPA.
const MPA_PORT: u16 = 4420;
const CLIENT: ([u8; 6], [u8; 4], u16) = ([2, 0, 0, 0, 0, 1], [10, 0, 0, 1], 49152);
const SERVER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];
const SERVER_IP: [u8; 4] = [10, 0, 0, 2];

const SYN: u8 = 0x01;
const FIN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const NO_ACK: u8 = 0x10;
const URG: u8 = 0x20;
const ECE: u8 = 0x40;
const CWR: u8 = 0x80;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = one_connection(&mut u);
});

/// Where a segment's sequence number is.
#[derive(Debug, Arbitrary)]
enum At {
    /// Right after what its direction sent last.
    Next,
    /// This many octets behind that (a retransmission or an overlap).
    Behind(u16),
    /// This many octets ahead (a hole, then out-of-order data).
    Ahead(u16),
    /// At this offset from the direction's first data octet.
    Offset(u32),
    /// At the offset its payload had in its shipped stream (markers and FPDUs line up as
    /// they did there); `Next` for other payloads.
    AsShipped,
}

/// A segment's acknowledgment number.
#[derive(Debug, Arbitrary)]
enum Ack {
    /// All the peer sent.
    Peer,
    /// The peer's next octet moved by this much.
    Near(i16),
    /// Any.
    Any(u32),
}

#[derive(Debug, Arbitrary)]
enum TcpOption {
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// Left and right edges as offsets from the peer's next octet.
    Sack(Vec<(i16, i16)>),
    Timestamps(u32, u32),
    Raw(Vec<u8>),
}

/// Where a segment's payload comes from.
enum Payload<'a> {
    None,
    /// `len` octets from `start` of a shipped stream.
    Shipped {
        stream: usize,
        start: usize,
        len: usize,
    },
    /// A whole FPDU.
    Built(Vec<u8>),
    Raw(&'a [u8]),
}

/// One connection's state while its segments are built.
struct Side {
    isn: u32,
    /// Offset from the first data octet (ISN + 1) of the octet after the last one sent.
    next: u32,
}

fn one_connection(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let knobs = Knobs::from_bits(u.arbitrary()?);
    let forced: Option<Forced> = if u.arbitrary()? {
        Some(Forced {
            crc: u.arbitrary()?,
            markers: u.arbitrary()?,
        })
    } else {
        None
    };
    let server_port = match u.int_in_range(0u8..=2)? {
        0 => MPA_PORT,
        1 => 3260,
        _ => u.arbitrary()?,
    };
    let decode_as = forced
        .map(|forced| DecodeAs {
            port: MPA_PORT,
            forced,
        })
        .into_iter()
        .collect();
    let config = knobs.config(decode_as);
    let settings = config.settings;
    let mut sides = [
        Side {
            isn: u.arbitrary()?,
            next: 0,
        },
        Side {
            isn: u.arbitrary()?,
            next: 0,
        },
    ];
    let mut ts_ns: i64 = 1_700_000_000_000_000_000;
    let mut frames: Vec<(Vec<u8>, usize, i64)> = Vec::new();
    if u.arbitrary()? {
        let (c, s) = (sides[0].isn, sides[1].isn);
        let handshake = [
            (0, c, None, SYN),
            (1, s, Some(c.wrapping_add(1)), SYN),
            (0, c.wrapping_add(1), Some(s.wrapping_add(1)), 0),
        ];
        for (dir, seq, ack, flags) in handshake {
            let mut frame = Vec::new();
            let head = Head {
                dir,
                seq,
                ack,
                flags,
                window: 65535,
            };
            write_frame(&mut frame, server_port, &head, &[], &[]);
            ts_ns += 100_000;
            let len = frame.len();
            frames.push((frame, len, ts_ns));
        }
    }
    let n = u.int_in_range(1..=MAX_SEGMENTS)?;
    for _ in 0..n {
        if u.is_empty() {
            break;
        }
        let dir = usize::from(u.arbitrary::<bool>()?);
        let at: At = u.arbitrary()?;
        let flags: u8 = u.arbitrary()?;
        let ack: Ack = u.arbitrary()?;
        let window: u16 = u.arbitrary()?;
        let options: Vec<TcpOption> = u.arbitrary_iter()?.take(4).collect::<Result<_, _>>()?;
        let cut: Option<u16> = u.arbitrary()?;
        let step_us = u.int_in_range(-1_000i64..=200_000)?;
        let payload = payload(u, settings, sides[dir].next)?;
        let bytes: &[u8] = match &payload {
            Payload::None => &[],
            Payload::Shipped { stream, start, len } => {
                &shipped::streams()[*stream][*start..*start + *len]
            }
            Payload::Built(b) => b,
            Payload::Raw(b) => b,
        };
        let side = &sides[dir];
        let offset = match at {
            At::Next => side.next,
            At::Behind(n) => side.next.wrapping_sub(u32::from(n)),
            At::Ahead(n) => side.next.wrapping_add(u32::from(n)),
            At::Offset(o) => o,
            At::AsShipped => match payload {
                Payload::Shipped { start, .. } => start as u32,
                _ => side.next,
            },
        };
        let seq = side.isn.wrapping_add(1).wrapping_add(offset);
        let peer = &sides[1 - dir];
        let peer_next = peer.isn.wrapping_add(1).wrapping_add(peer.next);
        let ack = (flags & NO_ACK == 0).then(|| match ack {
            Ack::Peer => peer_next,
            Ack::Near(d) => peer_next.wrapping_add(d as u32),
            Ack::Any(a) => a,
        });
        let opts = option_octets(&options, peer_next);
        let mut frame = Vec::new();
        let head = Head {
            dir,
            seq,
            ack,
            flags,
            window,
        };
        write_frame(&mut frame, server_port, &head, &opts, bytes);
        if frame.is_empty() {
            continue;
        }
        let end = offset.wrapping_add(bytes.len() as u32);
        let side = &mut sides[dir];
        if (end.wrapping_sub(side.next) as i32) > 0 {
            side.next = end;
        }
        ts_ns += step_us * 1_000;
        let orig_len = frame.len();
        if let Some(cut) = cut {
            frame.truncate(usize::from(cut));
        }
        frames.push((frame, orig_len, ts_ns));
    }

    let iface = Interface {
        link: LinkType::Ethernet,
        name: None,
        description: None,
        tsresol: TsResolution::NANOS,
        tsoffset: 0,
        snaplen: 0,
        section_number: 1,
        id_in_section: 0,
    };
    let packets = frames
        .iter()
        .enumerate()
        .map(|(i, (data, orig_len, ts_ns))| Packet {
            number: i as u64 + 1,
            ts_ns: *ts_ns,
            interface: 0,
            link: LinkType::Ethernet,
            data,
            orig_len: *orig_len as u32,
            iface: &iface,
            comment: None,
            offset: 0,
        });
    let mut config = config;
    if knobs.two_pass {
        let mut d = first_pass(&config);
        for pkt in packets.clone() {
            d.dissect(&pkt, true);
        }
        config.hindsight = Some(Arc::new(d.into_hindsight()));
    }
    let mut run = Run::new(knobs, config, true);
    for pkt in packets {
        run.packet(&pkt);
    }
    run.finish();
    Ok(())
}

/// A segment's payload; `next` is its direction's next stream offset (where markers of a
/// built FPDU are placed from).
fn payload<'a>(
    u: &mut Unstructured<'a>,
    settings: Settings,
    next: u32,
) -> arbitrary::Result<Payload<'a>> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 => Payload::None,
        1 | 2 => {
            let streams = shipped::streams();
            let stream = u.choose_index(streams.len())?;
            let total = streams[stream].len();
            let start = u.int_in_range(0..=total - 1)?;
            // Often the start of an FPDU or handshake frame: a small length runs to the next
            // few hundred octets, a large one to a whole jumbo segment.
            let len = u.int_in_range(1..=(total - start).min(MAX_PAYLOAD))?;
            Payload::Shipped { stream, start, len }
        }
        3 => {
            let s = SegmentRepr::arbitrary_for(u, settings)?;
            if s.len() > usize::from(u16::MAX) || s.fpdu_len() > MAX_PAYLOAD {
                return Ok(Payload::None);
            }
            let mut fpdu = vec![0u8; s.fpdu_len()];
            let crc = u.int_in_range(0u8..=2)?;
            if s.emit_fpdu(&mut fpdu, crc != 0).is_err() {
                return Ok(Payload::None);
            }
            if crc == 2 {
                let last = fpdu.len() - 1;
                fpdu[last] ^= 0x5a;
            }
            if u.arbitrary()? {
                let start = next & !3;
                let mut wire = vec![0u8; mpa::marker::wire_len(start, fpdu.len())];
                if mpa::emit_marked(&fpdu, start, &mut wire, crc == 1).is_ok() {
                    return Ok(Payload::Built(wire));
                }
            }
            Payload::Built(fpdu)
        }
        4 => {
            let f: MpaFrameRepr<'_> = u.arbitrary()?;
            let mut buf = vec![0u8; f.len()];
            if f.emit(&mut buf).is_err() {
                return Ok(Payload::None);
            }
            Payload::Built(buf)
        }
        _ => {
            let n = u.int_in_range(0..=u.len().min(MAX_PAYLOAD))?;
            Payload::Raw(u.bytes(n)?)
        }
    })
}

/// The options' octets, NOP-padded to a multiple of four and cut to TCP's 40.
fn option_octets(options: &[TcpOption], peer_next: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for o in options {
        match o {
            TcpOption::Mss(m) => {
                out.extend([2, 4]);
                out.extend(m.to_be_bytes());
            }
            TcpOption::WindowScale(s) => out.extend([3, 3, *s]),
            TcpOption::SackPermitted => out.extend([4, 2]),
            TcpOption::Sack(blocks) => {
                let blocks = &blocks[..blocks.len().min(4)];
                out.extend([5, 2 + 8 * blocks.len() as u8]);
                for (l, r) in blocks {
                    out.extend(peer_next.wrapping_add(*l as u32).to_be_bytes());
                    out.extend(peer_next.wrapping_add(*r as u32).to_be_bytes());
                }
            }
            TcpOption::Timestamps(a, b) => {
                out.extend([8, 10]);
                out.extend(a.to_be_bytes());
                out.extend(b.to_be_bytes());
            }
            TcpOption::Raw(raw) => out.extend(raw),
        }
    }
    out.truncate(40);
    while out.len() % 4 != 0 {
        out.push(1);
    }
    out
}

/// A segment's TCP header fields.
struct Head {
    /// 0: from the client, 1: from the server.
    dir: usize,
    seq: u32,
    /// `None`: ACK not set.
    ack: Option<u32>,
    /// [`SYN`], [`FIN`], … (`NO_ACK` is not read: `ack` says it).
    flags: u8,
    window: u16,
}

/// Writes one Ethernet/IPv4/TCP frame into `out` (left empty if etherparse refuses it).
fn write_frame(out: &mut Vec<u8>, server_port: u16, h: &Head, options: &[u8], payload: &[u8]) {
    let (cmac, cip, cport) = CLIENT;
    let ((smac, sip, sport), (dmac, dip, dport)) = if h.dir == 0 {
        ((cmac, cip, cport), (SERVER_MAC, SERVER_IP, server_port))
    } else {
        ((SERVER_MAC, SERVER_IP, server_port), (cmac, cip, cport))
    };
    let mut b = PacketBuilder::ethernet2(smac, dmac)
        .ipv4(sip, dip, 64)
        .tcp(sport, dport, h.seq, h.window);
    let flags = h.flags;
    if let Some(a) = h.ack {
        b = b.ack(a);
    }
    if flags & SYN != 0 {
        b = b.syn();
    }
    if flags & FIN != 0 {
        b = b.fin();
    }
    if flags & RST != 0 {
        b = b.rst();
    }
    if flags & PSH != 0 {
        b = b.psh();
    }
    if flags & URG != 0 {
        b = b.urg(1);
    }
    if flags & ECE != 0 {
        b = b.ece();
    }
    if flags & CWR != 0 {
        b = b.cwr();
    }
    let b = match b.options_raw(options) {
        Ok(b) => b,
        Err(_) => return,
    };
    if b.write(out, payload).is_err() {
        out.clear();
    }
}
