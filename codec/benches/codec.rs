//! Codec benchmarks on a full-size (1514-octet) one-shot frame: Ethernet, IPv4, TCP, one FPDU
//! carrying a Send with SE + advertise whose payload is a SCSI Command PDU and its data.
//!
//! ```text
//! cargo bench -p oneshot-codec --bench codec
//! ```
//!
//! Targets (issue 2): decode Ethernet→RDMAP without CRC ≤ 50 ns; with CRC verification ≥ 10 GB/s
//! of FPDU octets; encode of the same frame, CRC included, ≥ 5 GB/s.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use oneshot_codec::etherparse::PacketBuilder;
use oneshot_codec::iscsi::{BhsRepr, SCSI_WRITE_10, cdb_rw10};
use oneshot_codec::oneshot::{Encoding, OneShotField, Op, Placement};
use oneshot_codec::rdmap::{SegmentRepr, Settings};
use oneshot_codec::{Frame, Ulp};

/// TCP payload of a 1514-octet Ethernet frame with 20-octet IPv4 and TCP headers.
const TCP_PAYLOAD: usize = 1460;
/// The FPDU fills it: 2 + ULPDU + PAD + 4.
const ULPDU: usize = TCP_PAYLOAD - 6;
/// ULP payload after the 18-octet untagged DDP header.
const ULP: usize = ULPDU - 18;

const ADVERTISE: OneShotField = OneShotField {
    op: Some(Op::Advertise),
    stag: 0x00c0_ffee,
    encoding: Encoding::Opcode,
    placement: Placement::RsvdUlp,
};

fn ulp_payload() -> Vec<u8> {
    let mut p: Vec<u8> = (0..ULP).map(|i| (i % 251) as u8).collect();
    BhsRepr::scsi_command(
        false,
        true,
        0x10,
        65536,
        1,
        1,
        0,
        cdb_rw10(SCSI_WRITE_10, 0, 128),
    )
    .emit(&mut p[..48])
    .unwrap();
    p
}

/// Writes the whole frame into `out` (exactly 1514 octets): headers and TCP checksum by
/// etherparse, FPDU and CRC by the codec. Returns the frame length.
fn encode(out: &mut [u8], seg: &SegmentRepr<'_>) -> usize {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(49152, 3260, 1000, 65535);
    let hl = 14 + 20 + 20;
    let n = seg.emit_fpdu(&mut out[hl..], true).unwrap();
    let (head, payload) = out.split_at_mut(hl);
    let mut w: &mut [u8] = head;
    b.write(&mut w, &payload[..n]).unwrap();
    hl + n
}

fn benches(c: &mut Criterion) {
    let ulp = ulp_payload();
    let seg = SegmentRepr::oneshot_send(ADVERTISE, true, 1, 0, true, &ulp);
    assert_eq!(seg.fpdu_len(), TCP_PAYLOAD);
    let mut frame = vec![0u8; 1514];
    assert_eq!(encode(&mut frame, &seg), 1514);
    let settings = Settings::default();

    let mut g = c.benchmark_group("decode 1514-octet one-shot frame");
    g.throughput(Throughput::Elements(1));
    g.bench_function("Ethernet to RDMAP + iSCSI, no CRC", |b| {
        b.iter(|| {
            let f = Frame::ethernet(black_box(&frame));
            let d = f.fpdus(settings).next().unwrap().unwrap();
            let m = d.message.unwrap();
            let itt = match d.ulp {
                Some(Ulp::Iscsi(bhs)) => bhs.itt(),
                _ => 0,
            };
            black_box((m.oneshot.qualifier(), m.payload.len(), itt))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode with CRC");
    g.throughput(Throughput::Bytes(TCP_PAYLOAD as u64));
    g.bench_function("Ethernet to RDMAP + CRC-32C (bytes = FPDU)", |b| {
        b.iter(|| {
            let f = Frame::ethernet(black_box(&frame));
            let d = f.fpdus(settings).next().unwrap().unwrap();
            black_box((d.crc_ok(), d.message.unwrap().oneshot.qualifier()))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Bytes(1514));
    let mut out = vec![0u8; 1514];
    g.bench_function("1514-octet frame: headers, TCP checksum, FPDU, CRC", |b| {
        b.iter(|| black_box(encode(black_box(&mut out), black_box(&seg))))
    });
    g.finish();

    let mut g = c.benchmark_group("encode FPDU only");
    g.throughput(Throughput::Bytes(TCP_PAYLOAD as u64));
    let mut out = vec![0u8; TCP_PAYLOAD];
    g.bench_function("FPDU with CRC", |b| {
        b.iter(|| black_box(seg.emit_fpdu(black_box(&mut out), true).unwrap()))
    });
    g.finish();
}

criterion_group!(codec, benches);
criterion_main!(codec);
