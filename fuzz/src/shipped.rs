//! The shipped captures (`captures/`), built into the targets, and the TCP byte streams they
//! carry: real MPA handshakes, FPDUs (with and without markers and CRCs) and iSCSI PDUs for the
//! `stream` target to cut segments from.

use std::collections::HashMap;
use std::sync::OnceLock;

use oneshot_codec::Frame;
use oneshot_dissect::capture::{CaptureReader, LinkType};

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../captures/", $name)))),*]
    };
}

/// Every shipped capture: file name and contents.
pub const CAPTURES: &[(&str, &[u8])] = shipped![
    "codec-sample.pcap",
    "conventional-read.pcapng",
    "conventional-write.pcapng",
    "faults.pcapng",
    "iscsi-tcp-read.pcapng",
    "iscsi-tcp-write.pcapng",
    "markers-asymmetric.pcapng",
    "markers.pcapng",
    "no-handshake.pcapng",
    "oneshot-ddp-flags-appended.pcapng",
    "oneshot-ddp-flags-rsvdulp.pcapng",
    "oneshot-opcode-appended.pcapng",
    "oneshot-read.pcapng",
    "oneshot-write.pcapng",
    "split-length.pcapng",
];

/// The contents of the shipped capture `name`.
pub fn capture(name: &str) -> &'static [u8] {
    CAPTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| *bytes)
        .unwrap_or_else(|| panic!("{name} is not a shipped capture"))
}

/// Every direction of every TCP conversation of the shipped captures, as the in-order octets
/// from the first one after the SYN (or the first one seen); octets after a gap are left out.
/// Directions that carry no payload are not listed.
pub fn streams() -> &'static [Vec<u8>] {
    static STREAMS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    STREAMS.get_or_init(|| {
        let mut all = Vec::new();
        for (name, bytes) in CAPTURES {
            all.extend(streams_of(name, bytes));
        }
        all
    })
}

fn streams_of(name: &str, bytes: &'static [u8]) -> Vec<Vec<u8>> {
    let mut reader = CaptureReader::from_reader(name, Box::new(std::io::Cursor::new(bytes)))
        .unwrap_or_else(|e| panic!("{e}"));
    // (source port, destination port) → (sequence number of stream[0], stream).
    let mut dirs: HashMap<(u16, u16), (u32, Vec<u8>)> = HashMap::new();
    let mut order = Vec::new();
    while let Some(item) = reader.next() {
        let pkt = item.unwrap_or_else(|e| panic!("{e}"));
        if pkt.link != LinkType::Ethernet {
            continue;
        }
        let frame = Frame::ethernet(pkt.data);
        let (Some(tcp), Some(payload)) = (frame.tcp(), frame.tcp_payload()) else {
            continue;
        };
        let key = (tcp.source_port(), tcp.destination_port());
        let seq = tcp.sequence_number();
        let (base, stream) = dirs.entry(key).or_insert_with(|| {
            order.push(key);
            (seq.wrapping_add(u32::from(tcp.syn())), Vec::new())
        });
        let at = seq.wrapping_sub(*base) as usize;
        if at <= stream.len() && at + payload.len() > stream.len() {
            stream.extend_from_slice(&payload[stream.len() - at..]);
        }
    }
    order
        .into_iter()
        .filter_map(|k| dirs.remove(&k).map(|(_, s)| s))
        .filter(|s| !s.is_empty())
        .collect()
}
