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
use oneshot_codec::etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header, TcpHeader};
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

/// Writes the whole frame into `out` (exactly 1514 octets): the FPDU and its CRC by the codec,
/// straight into place; Ethernet, IPv4 (with header checksum) and TCP (with checksum over the
/// payload) by etherparse. Returns the frame length.
fn encode(out: &mut [u8], seg: &SegmentRepr<'_>) -> usize {
    const HL: usize = 14 + 20 + 20;
    let n = seg.emit_fpdu(&mut out[HL..], true).unwrap();
    let (head, payload) = out.split_at_mut(HL);
    let payload = &payload[..n];
    let mut tcp = TcpHeader::new(49152, 3260, 1000, 65535);
    tcp.ack = true;
    tcp.psh = true;
    tcp.acknowledgment_number = 5000;
    tcp.checksum = tcp
        .calc_checksum_ipv4_raw([10, 0, 0, 1], [10, 0, 0, 2], payload)
        .unwrap();
    let mut ip = Ipv4Header::new(
        (20 + n) as u16,
        64,
        IpNumber::TCP,
        [10, 0, 0, 1],
        [10, 0, 0, 2],
    )
    .unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let eth = Ethernet2Header {
        source: [2, 0, 0, 0, 0, 1],
        destination: [2, 0, 0, 0, 0, 2],
        ether_type: EtherType::IPV4,
    };
    head[..14].copy_from_slice(&eth.to_bytes());
    head[14..34].copy_from_slice(&ip.to_bytes());
    head[34..54].copy_from_slice(&tcp.to_bytes());
    HL + n
}

fn benches(c: &mut Criterion) {
    let ulp = ulp_payload();
    let seg = SegmentRepr::oneshot_send(ADVERTISE, true, 1, 0, true, &ulp);
    assert_eq!(seg.fpdu_len(), TCP_PAYLOAD);
    let mut frame = vec![0u8; 1514];
    assert_eq!(encode(&mut frame, &seg), 1514);
    let check = Frame::ethernet(&frame);
    assert!(
        check.stop.is_none()
            && check
                .fpdus(Settings::default())
                .all(|d| d.unwrap().crc_ok())
    );
    let settings = Settings::default();

    let mut g = c.benchmark_group("decode 1514-octet one-shot frame");
    g.throughput(Throughput::Elements(1));
    g.bench_function("Ethernet to RDMAP, no CRC", |b| {
        b.iter(|| {
            let f = Frame::ethernet(black_box(&frame));
            let d = f.fpdus(settings).next().unwrap().unwrap();
            let m = d.message().unwrap();
            black_box((m.oneshot.qualifier(), m.payload.len()))
        })
    });
    g.bench_function("Ethernet to RDMAP + iSCSI BHS, no CRC", |b| {
        b.iter(|| {
            let f = Frame::ethernet(black_box(&frame));
            let d = f.fpdus(settings).next().unwrap().unwrap();
            let m = d.message().unwrap();
            let itt = match Ulp::detect(&m) {
                Some(Ulp::Iscsi(bhs)) => bhs.itt(),
                _ => 0,
            };
            black_box((m.oneshot.qualifier(), itt))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("decode with CRC");
    g.throughput(Throughput::Bytes(TCP_PAYLOAD as u64));
    g.bench_function("Ethernet to RDMAP + CRC-32C (bytes = FPDU)", |b| {
        b.iter(|| {
            let f = Frame::ethernet(black_box(&frame));
            let d = f.fpdus(settings).next().unwrap().unwrap();
            black_box((d.crc_ok(), d.message().unwrap().oneshot.qualifier()))
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

    let mut g = c.benchmark_group("CRC-32C alone (the crc32c crate), for reference");
    g.throughput(Throughput::Bytes((TCP_PAYLOAD - 4) as u64));
    g.bench_function("crc32c over 1456 octets", |b| {
        b.iter(|| black_box(oneshot_codec::mpa::crc32c(black_box(&frame[54..1510]))))
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
