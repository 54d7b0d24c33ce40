//! Whole frames, built with etherparse, decoded with [`Frame`].

use super::*;
use crate::ErrorKind;
use crate::iscsi::{BhsRepr, IscsiOpcode, SCSI_WRITE_10, cdb_rw10};
use crate::iser::IserRepr;
use crate::oneshot::{Encoding, OneShotField, Op, Placement};
use crate::rdmap::{Opcode, SegmentRepr};
use etherparse::PacketBuilder;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn ipv4_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(49152, 3260, 1000, 65535)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// A SCSI Command PDU (write, 64 KiB) as a one-shot advertise carries it.
fn command_pdu() -> [u8; 48] {
    let bhs = BhsRepr::scsi_command(
        false,
        true,
        0x10,
        65536,
        1,
        1,
        0,
        cdb_rw10(SCSI_WRITE_10, 0, 128),
    );
    let mut out = [0u8; 48];
    bhs.emit(&mut out).unwrap();
    out
}

fn fpdu_of(seg: &SegmentRepr<'_>) -> Vec<u8> {
    let mut out = vec![0u8; seg.fpdu_len()];
    seg.emit_fpdu(&mut out, true).unwrap();
    out
}

#[test]
fn one_shot_advertise_and_conventional_send_in_one_segment() {
    let pdu = command_pdu();
    let advertise = SegmentRepr::oneshot_send(
        OneShotField {
            op: Some(Op::Advertise),
            stag: 0x00c0_ffee,
            encoding: Encoding::Opcode,
            placement: Placement::RsvdUlp,
        },
        true,
        1,
        0,
        true,
        &pdu,
    );
    let mut iser_pdu = [0u8; 28 + 48];
    IserRepr::control(None, Some((0x0000_b0b0, 0)))
        .emit(&mut iser_pdu)
        .unwrap();
    iser_pdu[28..].copy_from_slice(&pdu);
    let conventional = SegmentRepr {
        ddp: crate::ddp::DdpRepr::untagged(true, 0x45, 0, 2, 0),
        header: crate::rdmap::HeaderRepr::None,
        payload: &iser_pdu,
    };
    let mut payload = fpdu_of(&advertise);
    let second_at = payload.len();
    payload.extend_from_slice(&fpdu_of(&conventional));
    let frame = ipv4_frame(&payload);

    let f = Frame::ethernet(&frame);
    assert!(f.stop.is_none());
    assert_eq!(f.tcp().unwrap().destination_port(), 3260);
    let base = f.tcp_payload_offset().unwrap();
    assert_eq!(base, 14 + 20 + 20);
    let fpdus: Vec<_> = f
        .fpdus(Settings::default())
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(fpdus.len(), 2);
    assert_eq!(fpdus[0].offset, base);
    assert_eq!(fpdus[1].offset, base + second_at);
    assert!(fpdus.iter().all(DecodedFpdu::crc_ok));

    let m0 = &fpdus[0].message().unwrap();
    assert_eq!(m0.opcode, Opcode::SendSeAdvertise);
    assert_eq!(m0.oneshot.qualifier(), Some((Op::Advertise, 0x00c0_ffee)));
    let Some(Ulp::Iscsi(bhs)) = fpdus[0].ulp() else {
        panic!("no iSCSI in the advertise: {:?}", fpdus[0].ulp())
    };
    assert_eq!(bhs.opcode(), IscsiOpcode::ScsiCommand);
    assert_eq!((bhs.itt(), bhs.edtl()), (0x10, 65536));

    let m1 = &fpdus[1].message().unwrap();
    assert_eq!(m1.opcode, Opcode::SendSe);
    assert!(m1.oneshot.field.is_none());
    let Some(Ulp::Iser {
        iser,
        bhs: Some(bhs),
    }) = fpdus[1].ulp()
    else {
        panic!(
            "no iSER + iSCSI in the conventional Send: {:?}",
            fpdus[1].ulp()
        )
    };
    assert!(iser.rsv() && !iser.wsv());
    assert_eq!(iser.read_stag(), 0xb0b0);
    assert_eq!(bhs.itt(), 0x10);
}

#[test]
fn three_vlan_tags_and_ipv6_extension_headers() {
    // Ethernet, 802.1ad + two 802.1Q tags, IPv6 with a hop-by-hop header, TCP.
    let pdu = command_pdu();
    let seg = SegmentRepr::oneshot_send(
        OneShotField {
            op: Some(Op::Close),
            stag: 7,
            encoding: Encoding::DdpFlags,
            placement: Placement::Appended,
        },
        true,
        9,
        0,
        true,
        &pdu,
    );
    let fpdu = fpdu_of(&seg);
    let mut tcp = Vec::new();
    PacketBuilder::ipv6([0xfe; 16], [0xfd; 16], 64)
        .tcp(4420, 50000, 1, 1000)
        .write(&mut tcp, &fpdu)
        .unwrap();
    // Insert a hop-by-hop extension header (8 octets of PadN) after the 40-octet IPv6 header.
    let mut ip = tcp[..40].to_vec();
    ip[6] = 0; // next header: hop-by-hop
    let plen = u16::from_be_bytes([ip[4], ip[5]]) + 8;
    ip[4..6].copy_from_slice(&plen.to_be_bytes());
    ip.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // next TCP, len 0, PadN(4)
    ip.extend_from_slice(&tcp[40..]);
    let mut frame = Vec::new();
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    for (tpid, vid) in [(0x88a8u16, 100u16), (0x8100, 200), (0x8100, 300)] {
        frame.extend_from_slice(&tpid.to_be_bytes());
        frame.extend_from_slice(&vid.to_be_bytes());
    }
    frame.extend_from_slice(&0x86ddu16.to_be_bytes());
    frame.extend_from_slice(&ip);

    let f = Frame::ethernet(&frame);
    assert!(f.stop.is_none(), "{:?}", f.stop);
    let vids: Vec<u16> = f.vlan_tags().map(|v| v.vlan_identifier().value()).collect();
    assert_eq!(vids, [100, 200, 300]);
    assert!(f.ip.as_ref().unwrap().ipv6().is_some());
    assert_eq!(f.tcp_payload_offset(), Some(14 + 12 + 40 + 8 + 20));
    let d = f
        .fpdus(Settings {
            placement: Placement::Appended,
            ..Settings::default()
        })
        .next()
        .unwrap()
        .unwrap();
    let m = d.message().unwrap();
    assert_eq!(m.oneshot.qualifier(), Some((Op::Close, 7)));
    assert_eq!(m.payload, &pdu);
}

#[test]
fn a_truncated_tcp_header_stops_with_layer_and_offset() {
    let frame = ipv4_frame(&[]);
    let cut = &frame[..14 + 20 + 10];
    let f = Frame::ethernet(cut);
    let e = f.stop.unwrap();
    assert!(f.ip.is_some(), "IP is kept when TCP fails");
    assert_eq!(e.layer, Layer::Tcp);
    assert_eq!(e.at, 34);
    assert!(
        matches!(
            e.kind,
            ErrorKind::Truncated {
                needed: 20,
                got: 10,
                ..
            }
        ),
        "{e}"
    );
    assert!(f.tcp().is_none());
    assert_eq!(f.fpdus(Settings::default()).count(), 0);
    // Not even an Ethernet header.
    let e = Frame::ethernet(&frame[..9]).stop.unwrap();
    assert_eq!((e.layer, e.at), (Layer::Ethernet, 0));
}

#[test]
fn a_bad_ip_version_stops_at_the_ip_header() {
    let mut frame = ipv4_frame(&[1, 2, 3]);
    frame[14] = 0x75; // version 7
    let e = Frame::ethernet(&frame).stop.unwrap();
    assert_eq!(e.at, 14);
    assert!(matches!(e.kind, ErrorKind::Unsupported { .. }), "{e}");
}

#[test]
fn an_fpdu_cut_by_snaplen_is_reported_after_the_whole_ones() {
    let pdu = command_pdu();
    let seg = SegmentRepr::oneshot_send(
        OneShotField {
            op: Some(Op::Advertise),
            stag: 1,
            encoding: Encoding::Opcode,
            placement: Placement::RsvdUlp,
        },
        true,
        1,
        0,
        true,
        &pdu,
    );
    let one = fpdu_of(&seg);
    let mut payload = one.clone();
    payload.extend_from_slice(&one);
    let frame = ipv4_frame(&payload);
    let snap = &frame[..frame.len() - 10];
    let f = Frame::ethernet(snap);
    assert!(f.incomplete());
    let items: Vec<_> = f.fpdus(Settings::default()).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(e.layer, Layer::Mpa);
    assert_eq!(e.at, 54 + one.len());
}

#[test]
fn mpa_request_in_a_tcp_payload() {
    let req = crate::mpa::MpaFrameRepr {
        key: crate::mpa::KEY_REQUEST,
        flags: crate::mpa::frame::flags(false, true, false, false),
        rev: 1,
        enhanced: None,
        private_data: b"hello",
    };
    let mut buf = [0u8; 25];
    req.emit(&mut buf).unwrap();
    let frame = ipv4_frame(&buf);
    let f = Frame::ethernet(&frame);
    let m = f.mpa_frame().unwrap().unwrap();
    assert_eq!(m.kind(), crate::mpa::FrameKind::Request);
    assert!(m.crc());
    assert_eq!(m.private_data(), b"hello");
    // A payload that is not MPA yields nothing.
    assert!(
        Frame::ethernet(&ipv4_frame(b"GET / HTTP/1.1"))
            .mpa_frame()
            .is_none()
    );
}

#[test]
fn raw_ip_and_non_tcp_frames() {
    let frame = ipv4_frame(&[0, 0]);
    let f = Frame::ip(&frame[14..]);
    assert!(f.stop.is_none());
    assert_eq!(f.tcp_payload(), Some(&[0u8, 0][..]));
    // Two octets are no FPDU: ULPDU_Length 0 needs 8.
    let e = f.fpdus(Settings::default()).next().unwrap().unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            needed: 8,
            got: 2,
            ..
        }
    ));

    let mut udp = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .udp(1, 2)
        .write(&mut udp, &[1, 2, 3])
        .unwrap();
    let f = Frame::ethernet(&udp);
    assert!(f.stop.is_none() && f.tcp().is_none());
    assert_eq!(f.fpdus(Settings::default()).count(), 0);
    assert!(Frame::ip(&[0x45]).stop.is_some());
}

#[test]
fn a_fourth_vlan_tag_is_refused_by_name() {
    let mut frame = Vec::new();
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    for _ in 0..4 {
        frame.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
    }
    frame.extend_from_slice(&[0x08, 0x00]);
    let e = Frame::ethernet(&frame).stop.unwrap();
    assert_eq!(
        e.to_string(),
        "VLAN: unsupported: more than 3 VLAN tags (at byte 26)"
    );
}

#[test]
fn an_ip_fragment_is_not_decoded_as_tcp() {
    let mut frame = ipv4_frame(&[0u8; 40]);
    frame[14 + 6] = 0x20; // MF: more fragments
    let f = Frame::ethernet(&frame);
    assert!(f.fragmented());
    assert!(f.tcp().is_none() && f.stop.is_none());
}

/// An Ethernet II header for `ether_type` in front of `ip`.
fn ethernet_of(ether_type: u16, ip: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&MAC_B);
    frame.extend_from_slice(&MAC_A);
    frame.extend_from_slice(&ether_type.to_be_bytes());
    frame.extend_from_slice(ip);
    frame
}

#[test]
fn an_ipv4_authentication_header_error_reads_the_same_from_both_entry_points() {
    // IPv4 announcing AH (protocol 51), followed by only 2 octets: no AH can be read.
    let header = etherparse::Ipv4Header::new(
        2,
        64,
        IpNumber::AUTHENTICATION_HEADER,
        [10, 0, 0, 1],
        [10, 0, 0, 2],
    )
    .unwrap();
    let mut ip = header.to_bytes().to_vec();
    ip.extend_from_slice(&[6, 0]);
    let frame = ethernet_of(0x0800, &ip);

    let from_ip = Frame::ip(&ip);
    let from_eth = Frame::ethernet(&frame);
    for (f, base) in [(&from_ip, 0), (&from_eth, 14)] {
        assert!(f.ip.as_ref().unwrap().ipv4().is_some());
        assert!(f.tcp().is_none());
        let e = f.stop.unwrap();
        assert_eq!(e.layer, Layer::Ipv4);
        assert_eq!(
            e.kind,
            ErrorKind::Unsupported {
                what: "IP authentication header"
            }
        );
        assert_eq!(e.at, base + 20, "the AH starts where the IPv4 header ends");
    }
    assert_eq!(
        from_ip.stop.unwrap().to_string(),
        "IPv4: unsupported: IP authentication header (at byte 20)"
    );
    assert_eq!(
        from_eth.stop.unwrap().to_string(),
        "IPv4: unsupported: IP authentication header (at byte 34)"
    );
}

#[test]
fn a_truncated_ipv6_extension_header_reads_the_same_from_both_entry_points() {
    // IPv6 announcing a hop-by-hop header, followed by only 2 octets of it.
    let mut ip = Vec::new();
    PacketBuilder::ipv6([0xfe; 16], [0xfd; 16], 64)
        .tcp(4420, 50000, 1, 1000)
        .write(&mut ip, &[])
        .unwrap();
    ip.truncate(40);
    ip[6] = 0; // next header: hop-by-hop
    ip[4..6].copy_from_slice(&2u16.to_be_bytes());
    ip.extend_from_slice(&[6, 0]);
    let frame = ethernet_of(0x86dd, &ip);

    let from_ip = Frame::ip(&ip);
    let from_eth = Frame::ethernet(&frame);
    for (f, base) in [(&from_ip, 0), (&from_eth, 14)] {
        assert!(f.ip.as_ref().unwrap().ipv6().is_some());
        let e = f.stop.unwrap();
        assert_eq!(e.layer, Layer::Ipv6);
        assert!(
            matches!(
                e.kind,
                ErrorKind::Truncated {
                    what: "extension header",
                    needed: 8,
                    got: 2
                }
            ),
            "{e}"
        );
        assert_eq!(e.at, base + 40, "{e}");
    }
}
