//! A small stream-level reader for the generator's own captures (no loss handling beyond
//! de-duplication and reordering by sequence number): enough to check what the generator
//! meant to put on the wire.

#![allow(dead_code)]

use std::collections::BTreeMap;

use oneshot_codec::mpa::{MarkedFpdu, MpaFrame};
use oneshot_codec::{Frame, Message, Settings};
use oneshot_gen::engine::{self, RunOptions, Summary};
use oneshot_gen::sink::{CaptureWriter, Format};
use pcap_file::pcap::PcapReader;

/// Generates a capture from a script (pcap, µs).
pub fn generate(script: &str) -> (Vec<u8>, Summary) {
    let sc = oneshot_gen::script::parse(script).unwrap_or_else(|e| panic!("{e}"));
    let mut w = CaptureWriter::new(Vec::new(), Format::Pcap, &[]).unwrap();
    let summary = engine::run(&sc, &mut w, RunOptions::default()).unwrap();
    (w.into_inner(), summary)
}

/// One frame's TCP view.
#[derive(Debug, Clone)]
pub struct Seg {
    pub frame: usize,
    pub src_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: String,
    pub payload: Vec<u8>,
    pub orig_len: u32,
    pub cap_len: usize,
}

/// Every TCP segment of a capture, in file order.
pub fn segments(pcap: &[u8]) -> Vec<Seg> {
    let mut r = PcapReader::new(pcap).unwrap();
    let mut out = Vec::new();
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        n += 1;
        let f = Frame::ethernet(&p.data);
        let Some(t) = f.tcp() else { continue };
        let mut flags = String::new();
        for (on, c) in [
            (t.syn(), 'S'),
            (t.fin(), 'F'),
            (t.rst(), 'R'),
            (t.ack(), 'A'),
        ] {
            if on {
                flags.push(c);
            }
        }
        out.push(Seg {
            frame: n,
            src_port: t.source_port(),
            seq: t.sequence_number(),
            ack: t.acknowledgment_number(),
            flags,
            payload: t.payload().to_vec(),
            orig_len: p.orig_len,
            cap_len: p.data.len(),
        });
    }
    out
}

/// The byte stream one port sent, in sequence order from its ISN + 1 (duplicates dropped).
pub fn stream(segs: &[Seg], src_port: u16) -> Vec<u8> {
    let isn = segs
        .iter()
        .find(|s| s.src_port == src_port && s.flags.contains('S'))
        .expect("a SYN")
        .seq;
    let mut by_off: BTreeMap<u32, &[u8]> = BTreeMap::new();
    for s in segs
        .iter()
        .filter(|s| s.src_port == src_port && !s.payload.is_empty())
    {
        by_off
            .entry(s.seq.wrapping_sub(isn + 1))
            .or_insert(&s.payload);
    }
    let mut out = Vec::new();
    for (off, p) in by_off {
        let off = off as usize;
        assert!(off <= out.len(), "a gap in the stream at {off}");
        if off + p.len() > out.len() {
            out.extend_from_slice(&p[out.len() - off..]);
        }
    }
    out
}

/// One decoded message of a direction.
#[derive(Debug, Clone)]
pub struct Msg {
    pub text: String,
    pub crc_ok: bool,
    pub markers_ok: bool,
    pub ulpdu: Vec<u8>,
}

/// Decodes an iWARP direction: the MPA frame first, then FPDUs (with markers when `markers`).
pub fn fpdus(stream: &[u8], markers: bool, settings: Settings) -> (String, Vec<Msg>) {
    let frame = MpaFrame::new_checked(stream).expect("an MPA frame first");
    let head = oneshot_codec::mpa::MpaFrameRepr::parse(&frame).to_string();
    let mut pos = frame.len();
    let mut out = Vec::new();
    let mut start = 0u32;
    while pos < stream.len() {
        let (plain, wire_len, crc_ok, markers_ok) = if markers {
            let m = MarkedFpdu::new_checked(&stream[pos..], start).expect("a marked FPDU");
            let mut buf = vec![0u8; m.stripped_len()];
            m.strip_into(&mut buf).unwrap();
            (
                buf,
                m.wire_len(),
                m.verify_crc(),
                m.first_bad_marker().is_none(),
            )
        } else {
            let f = oneshot_codec::mpa::Fpdu::new_checked(&stream[pos..]).expect("an FPDU");
            (f.as_bytes().to_vec(), f.len(), f.verify_crc(), true)
        };
        let f = oneshot_codec::mpa::Fpdu::new_checked(&plain[..]).unwrap();
        let text = match Message::decode(f.ulpdu(), settings) {
            Ok(m) => m.to_string(),
            Err(e) => format!("error: {e}"),
        };
        out.push(Msg {
            text,
            crc_ok,
            markers_ok,
            ulpdu: f.ulpdu().to_vec(),
        });
        pos += wire_len;
        start = start.wrapping_add(wire_len as u32);
    }
    (head, out)
}

/// Standard two hosts.
pub const HOSTS: &str =
    "host h1 mac 02:00:00:00:00:01 ip 10.0.0.1\nhost h2 mac 02:00:00:00:00:02 ip 10.0.0.2\n";
