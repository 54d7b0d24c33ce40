//! Whole-ULPDU vectors: DDP + RDMAP + one-shot, decoded and encoded.

use super::*;
use crate::ErrorKind;
use crate::oneshot::{Encoding, OneShotField, Op, Placement};

const ONESHOT_RSVDULP: Settings = Settings {
    profile: Profile::OneShot,
    placement: Placement::RsvdUlp,
};
const ONESHOT_APPENDED: Settings = Settings {
    profile: Profile::OneShot,
    placement: Placement::Appended,
};
const RFC7306: Settings = Settings {
    profile: Profile::Rfc7306,
    placement: Placement::RsvdUlp,
};

fn field(op: Op, encoding: Encoding, placement: Placement) -> OneShotField {
    OneShotField {
        op: Some(op),
        stag: 0x00c0_ffee,
        encoding,
        placement,
    }
}

/// Decodes, checks the qualifier, re-encodes with `oneshot_send`, and compares bytes.
fn check_oneshot(bytes: &[u8], settings: Settings, f: OneShotField, msn: u32, payload: &[u8]) {
    let m = Message::decode(bytes, settings).unwrap();
    assert_eq!(m.oneshot.field, Some(f), "decoded field");
    assert!(!m.oneshot.is_malformed());
    assert_eq!(m.payload, payload);
    let u = m.ddp.as_untagged().unwrap();
    assert_eq!((u.qn(), u.msn(), u.mo()), (0, msn, 0));
    let r = SegmentRepr::oneshot_send(f, true, msn, 0, true, payload);
    let mut out = vec![0u8; r.len()];
    assert_eq!(r.emit(&mut out).unwrap(), bytes.len());
    assert_eq!(out, bytes, "re-encoded");
    assert_eq!(SegmentRepr::parse_bytes(bytes, settings).unwrap(), r);
}

/// FIG. 5A, [39]-[41]: opcode 0x8 = Send with SE + advertise; STag in RsvdULP [40] "present in
/// all RDMA headers".
#[test]
fn oneshot_opcode_rsvdulp_advertise() {
    #[rustfmt::skip]
    let bytes = [
        0x41,                   // DDP untagged, L, DV=1
        0x48,                   // RDMAP RV=1, opcode 0x8 (Send with SE + advertise)
        0x00, 0xC0, 0xFF, 0xEE, // RsvdULP[8:39] = the advertised STag
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0xC0, 0xDE,             // ULP payload (an iSCSI PDU, shortened)
    ];
    check_oneshot(
        &bytes,
        ONESHOT_RSVDULP,
        field(Op::Advertise, Encoding::Opcode, Placement::RsvdUlp),
        1,
        &[0xC0, 0xDE],
    );
    let m = Message::decode(&bytes, ONESHOT_RSVDULP).unwrap();
    assert_eq!(m.opcode, Opcode::SendSeAdvertise);
    assert_eq!(
        m.to_string(),
        "Send with SE and Advertise S=0x00c0ffee QN=0 MSN=1 MO=0 L len=2"
    );
}

/// FIG. 5A with [40]'s other choice: the STag field only in qualified headers (appended); [41]
/// opcode 0xC = Send with SE + close.
#[test]
fn oneshot_opcode_appended_close() {
    #[rustfmt::skip]
    let bytes = [
        0x41,                   // DDP untagged, L, DV=1
        0x4C,                   // RDMAP RV=1, opcode 0xC (Send with SE + close)
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39] stays zero
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x07, // MSN 7
        0x00, 0x00, 0x00, 0x00, // MO 0 (counts ULP payload only)
        0x00, 0xC0, 0xFF, 0xEE, // appended STag field: close S
        0xAB,                   // ULP payload
    ];
    check_oneshot(
        &bytes,
        ONESHOT_APPENDED,
        field(Op::Close, Encoding::Opcode, Placement::Appended),
        7,
        &[0xAB],
    );
    // The same bytes under the rsvdulp placement: the close carries STag 0 and the field is
    // part of the payload. The placement is a setting (ONESHOT.md §2.3).
    let m = Message::decode(&bytes, ONESHOT_RSVDULP).unwrap();
    assert_eq!(m.oneshot.qualifier(), Some((Op::Close, 0)));
    assert_eq!(m.payload.len(), 5);
}

/// FIG. 5B, [42]-[44]: DDP bit 12 (mask 0x10) = advertise on a Send with SE; STag in RsvdULP.
#[test]
fn oneshot_ddp_flags_rsvdulp_advertise() {
    #[rustfmt::skip]
    let bytes = [
        0x51,                   // DDP untagged, L, Rsvd 0x4 (advertise bit 0x10), DV=1
        0x45,                   // RDMAP RV=1, opcode 0x5 (Send with SE)
        0x00, 0xC0, 0xFF, 0xEE, // RsvdULP[8:39] = the advertised STag
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x02, // MSN 2
        0x00, 0x00, 0x00, 0x00, // MO 0
    ];
    check_oneshot(
        &bytes,
        ONESHOT_RSVDULP,
        field(Op::Advertise, Encoding::DdpFlags, Placement::RsvdUlp),
        2,
        &[],
    );
    // A standard receiver sees a plain Send with SE: RFC 7306 profile decodes it the same.
    let m = Message::decode(&bytes, RFC7306).unwrap();
    assert_eq!(m.opcode, Opcode::SendSe);
    assert_eq!(m.ddp.control().rsvd(), 0x4); // what tshark shows as iwarp_ddp.rsvd
    assert_eq!(m.oneshot.qualifier(), Some((Op::Advertise, 0x00c0_ffee)));
    assert_eq!(
        m.to_string(),
        "Send with SE+Advertise S=0x00c0ffee QN=0 MSN=2 MO=0 L"
    );
}

/// FIG. 5B, [44]: bit 13 (mask 0x20) = close; appended STag.
#[test]
fn oneshot_ddp_flags_appended_close() {
    #[rustfmt::skip]
    let bytes = [
        0x61,                   // DDP untagged, L, Rsvd 0x8 (close bit 0x20), DV=1
        0x45,                   // RDMAP RV=1, opcode 0x5 (Send with SE)
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39] stays zero
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x03, // MSN 3
        0x00, 0x00, 0x00, 0x00, // MO 0
        0x00, 0xC0, 0xFF, 0xEE, // appended STag field
        0x01, 0x02, 0x03,       // ULP payload
    ];
    check_oneshot(
        &bytes,
        ONESHOT_APPENDED,
        field(Op::Close, Encoding::DdpFlags, Placement::Appended),
        3,
        &[1, 2, 3],
    );
}

/// [44]: three states only; both bits set is malformed (ONESHOT.md §2.2). The field is still
/// read and shown, without an op.
#[test]
fn oneshot_both_bits_is_malformed() {
    let mut bytes = [0u8; 18];
    bytes[0] = 0x41 | 0x30;
    bytes[1] = 0x45;
    bytes[2..6].copy_from_slice(&0x1234u32.to_be_bytes());
    let m = Message::decode(&bytes, ONESHOT_RSVDULP).unwrap();
    assert!(m.oneshot.is_malformed());
    assert_eq!(m.oneshot.qualifier(), None);
    let f = m.oneshot.field.unwrap();
    assert_eq!(
        (f.op, f.stag, f.encoding),
        (None, 0x1234, Encoding::DdpFlags)
    );
    assert!(m.to_string().ends_with("[malformed one-shot bits]"));
    // Built on purpose by the generator: op None sets both bits.
    let r = SegmentRepr::oneshot_send(
        OneShotField {
            op: None,
            stag: 0x1234,
            encoding: Encoding::DdpFlags,
            placement: Placement::RsvdUlp,
        },
        true,
        0,
        0,
        true,
        &[],
    );
    let mut out = [0u8; 18];
    r.emit(&mut out).unwrap();
    assert_eq!(out, bytes);
}

/// `oneshot_send` with no op under the `opcode` encoding cannot say "neither" with an opcode:
/// it sends 0x8 with the DDP close bit set, which decodes as malformed instead of as a clean
/// advertise.
#[test]
fn oneshot_send_without_op_under_opcode_encoding_is_malformed_on_the_wire() {
    for placement in [Placement::RsvdUlp, Placement::Appended] {
        let r = SegmentRepr::oneshot_send(
            OneShotField {
                op: None,
                stag: 0x1234,
                encoding: Encoding::Opcode,
                placement,
            },
            true,
            1,
            0,
            true,
            &[0xAA],
        );
        assert_eq!(r.ddp.control.0, 0x41 | 0x20);
        assert_eq!(r.control().opcode_raw(), 0x8);
        let mut out = vec![0u8; r.len()];
        r.emit(&mut out).unwrap();
        assert_eq!(&out[..2], &[0x61, 0x48]);
        let settings = Settings {
            profile: Profile::OneShot,
            placement,
        };
        let m = Message::decode(&out, settings).unwrap();
        assert_eq!(m.oneshot.stray_bits, 0x20);
        assert!(m.oneshot.is_malformed());
        assert_eq!(m.payload, &[0xAA]);
        assert!(m.to_string().ends_with("[malformed one-shot bits]"));
        assert_eq!(SegmentRepr::parse_bytes(&out, settings).unwrap(), r);
    }
}

/// [42]: the bits qualify Sends only; a bit on an RDMA Write (tagged) is malformed and carries no
/// STag field.
#[test]
fn oneshot_bit_on_write_is_malformed() {
    #[rustfmt::skip]
    let bytes = [
        0xD1,                   // DDP tagged, L, Rsvd 0x4 (advertise bit), DV=1
        0x40,                   // RDMAP RV=1, opcode 0x0 (RDMA Write)
        0x00, 0x00, 0x0B, 0x0B, // STag
        0, 0, 0, 0, 0, 0, 0, 0, // TO
        0xEE,                   // payload
    ];
    let m = Message::decode(&bytes, ONESHOT_APPENDED).unwrap();
    assert_eq!(m.opcode, Opcode::RdmaWrite);
    assert_eq!(m.oneshot.stray_bits, 0x10);
    assert!(m.oneshot.field.is_none());
    assert!(m.oneshot.is_malformed());
    assert_eq!(m.payload, &[0xEE]);
}

/// §2.1: the one-shot opcodes are untagged-only; on a tagged segment the message is reported
/// as malformed (the review's vector `C1 48 00000001 …`), not shown as a clean advertise.
#[test]
fn oneshot_opcode_on_a_tagged_segment_is_malformed() {
    #[rustfmt::skip]
    let bytes = [
        0xC1,                   // DDP tagged, L, DV=1
        0x48,                   // RDMAP RV=1, opcode 0x8 (Send with SE + advertise)
        0x00, 0x00, 0x00, 0x01, // STag
        0, 0, 0, 0, 0, 0, 0, 0, // TO
        0xEE,                   // payload
    ];
    for settings in [ONESHOT_RSVDULP, ONESHOT_APPENDED] {
        let m = Message::decode(&bytes, settings).unwrap();
        assert_eq!(m.opcode, Opcode::SendSeAdvertise);
        assert!(m.oneshot.field.is_none());
        assert_eq!(m.oneshot.stray_bits, 0);
        assert!(m.oneshot.tagged_opcode);
        assert!(m.oneshot.is_malformed());
        assert_eq!(m.header, Header::None);
        assert_eq!(m.payload, &[0xEE]);
        assert!(
            m.to_string()
                .ends_with(" [one-shot opcode on a tagged segment]"),
            "{m}"
        );
    }
    let mut close = bytes;
    close[1] = 0x4C;
    assert!(
        Message::decode(&close, ONESHOT_RSVDULP)
            .unwrap()
            .oneshot
            .tagged_opcode
    );
    // Under rfc7306 0x8 is Immediate Data, not a one-shot opcode.
    let mut imm = [0u8; 22];
    imm[..14].copy_from_slice(&bytes[..14]);
    let m = Message::decode(&imm, RFC7306).unwrap();
    assert!(!m.oneshot.tagged_opcode && !m.oneshot.is_malformed());
}

/// `maybe_immediate` counts the 8 octets right after the 18-octet DDP header, whatever the
/// placement: under `appended` that is the 4-octet STag field plus 4 payload octets, i.e. a
/// 26-octet ULPDU, the size of an RFC 7306 Immediate Data message.
#[test]
fn maybe_immediate_under_appended_counts_the_octets_after_the_ddp_header() {
    #[rustfmt::skip]
    let bytes = [
        0x41, 0x48,             // DDP untagged L DV=1 | RDMAP RV=1 opcode 0x8
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39] zero
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0x00, 0x00, 0x00, 0x00, // appended STag field: zero
        5, 6, 7, 8,             // ULP payload, 4 octets
    ];
    let m = Message::decode(&bytes, ONESHOT_APPENDED).unwrap();
    assert_eq!(m.header, Header::OneShotStag(0));
    assert_eq!(m.payload.len(), 4);
    assert!(m.oneshot.maybe_immediate);
    assert!(!m.oneshot.is_malformed());
    // A non-zero appended STag silences the note.
    let mut b = bytes;
    b[21] = 1;
    assert!(
        !Message::decode(&b, ONESHOT_APPENDED)
            .unwrap()
            .oneshot
            .maybe_immediate
    );
    // 8 payload octets after the appended field are 12 after the DDP header: no note.
    let mut long = bytes.to_vec();
    long.extend_from_slice(&[9, 10, 11, 12]);
    let m = Message::decode(&long, ONESHOT_APPENDED).unwrap();
    assert_eq!(m.payload.len(), 8);
    assert!(!m.oneshot.maybe_immediate);
}

/// §2.1: in the oneshot profile, opcode 0x8 with exactly 8 payload octets and a zero STag could
/// be RFC 7306 Immediate Data; the rfc7306 profile decodes it as such.
#[test]
fn profile_switch_for_opcode_8() {
    #[rustfmt::skip]
    let bytes = [
        0x41, 0x48,             // DDP untagged L DV=1 | RDMAP RV=1 opcode 0x8
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39] zero
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        1, 2, 3, 4, 5, 6, 7, 8, // 8 octets: Immediate Data, or a tiny one-shot payload
    ];
    let m = Message::decode(&bytes, ONESHOT_RSVDULP).unwrap();
    assert_eq!(m.opcode, Opcode::SendSeAdvertise);
    assert!(m.oneshot.maybe_immediate);
    let m = Message::decode(&bytes, RFC7306).unwrap();
    assert_eq!(m.opcode, Opcode::ImmediateData);
    assert_eq!(m.header, Header::Immediate([1, 2, 3, 4, 5, 6, 7, 8]));
    assert!(m.payload.is_empty());
    assert!(m.oneshot.field.is_none());
    // A non-zero STag silences the note.
    let mut b = bytes;
    b[5] = 1;
    assert!(
        !Message::decode(&b, ONESHOT_RSVDULP)
            .unwrap()
            .oneshot
            .maybe_immediate
    );
    // Opcode 0xC is unassigned under rfc7306.
    b[1] = 0x4C;
    assert_eq!(
        Message::decode(&b, RFC7306).unwrap().opcode,
        Opcode::Unknown(0xC)
    );
}

/// RFC 7306 Immediate Data prints its 8 octets as 16 hex digits (the review's vector).
#[test]
fn immediate_data_display_is_hex() {
    #[rustfmt::skip]
    let bytes = [
        0x41, 0x48,             // DDP untagged L DV=1 | RDMAP RV=1 opcode 0x8 (Immediate Data)
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0x12, 0x34, 0x56, 0x78, // Immediate Data
        0x9a, 0xbc, 0xde, 0xf0,
    ];
    let m = Message::decode(&bytes, RFC7306).unwrap();
    assert_eq!(
        m.to_string(),
        "Immediate Data QN=0 MSN=1 MO=0 L [data=0x123456789abcdef0]"
    );
    // Leading zeros are kept: always 16 digits.
    let mut b = bytes;
    b[18..].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x2a]);
    let m = Message::decode(&b, RFC7306).unwrap();
    assert!(m.to_string().ends_with("[data=0x000000000000002a]"));
    assert_eq!(
        SegmentRepr::parse(&m).to_string(),
        "DDP untagged L QN=0 MSN=1 MO=0 | RDMAP RV=1 opcode=0x8 | Immediate 0x000000000000002a | payload 0 octets"
    );
}

/// A Read Request as in FIG. 4 path 550: sink STag T, size N, source STag S.
#[rustfmt::skip]
const READ_REQUEST: [u8; 46] = [
    0x41, 0x41,             // DDP untagged L DV=1 | RDMAP RV=1 Read Request
    0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
    0x00, 0x00, 0x00, 0x01, // QN 1
    0x00, 0x00, 0x00, 0x01, // MSN 1
    0x00, 0x00, 0x00, 0x00, // MO 0
    0x00, 0x00, 0x0B, 0x0B, // Data Sink STag T
    0, 0, 0, 0, 0, 0, 0, 0, // Data Sink TO
    0x00, 0x01, 0x00, 0x00, // RDMARDSZ 65536
    0x00, 0xC0, 0xFF, 0xEE, // Data Source STag S
    0, 0, 0, 0, 0, 0, 0, 0, // Data Source TO
];

#[test]
fn read_request_message() {
    let m = Message::decode(&READ_REQUEST, Settings::default()).unwrap();
    assert_eq!(m.opcode, Opcode::RdmaReadRequest);
    let Header::ReadRequest(rr) = m.header else {
        panic!("not a Read Request: {:?}", m.header)
    };
    assert_eq!(
        (rr.sink_stag(), rr.rdmardsz(), rr.source_stag()),
        (0xb0b, 65536, 0x00c0_ffee)
    );
    assert_eq!(m.payload_offset(), 46);
    assert!(m.payload.is_empty());
    let r = SegmentRepr::parse(&m);
    let mut out = [0u8; 46];
    assert_eq!(r.emit(&mut out).unwrap(), 46);
    assert_eq!(out, READ_REQUEST);
}

#[test]
fn every_prefix_is_truncated_in_the_right_layer() {
    for n in 0..READ_REQUEST.len() {
        let e = Message::decode(&READ_REQUEST[..n], Settings::default()).unwrap_err();
        let (layer, at) = if n < 18 {
            (Layer::Ddp, 0)
        } else {
            (Layer::Rdmap, 18)
        };
        assert_eq!((e.layer, e.at), (layer, at), "prefix {n}: {e}");
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    }
    // The appended STag field cut short.
    let mut b = [0u8; 20];
    b[0] = 0x41;
    b[1] = 0x48;
    let e = Message::decode(&b, ONESHOT_APPENDED).unwrap_err();
    assert_eq!(
        e.to_string(),
        "one-shot: truncated appended STag field: need 4 bytes, have 2 (at byte 18)"
    );
}

#[test]
fn terminate_and_atomics_as_messages() {
    let term = TerminateRepr::new(TermLayer::Llp, 0, 2, None, None);
    let seg = SegmentRepr {
        ddp: DdpRepr::untagged(true, Control::new(1, 0x7).0, 2, 1, 0),
        header: HeaderRepr::Terminate(term),
        payload: &[],
    };
    let mut out = [0u8; 22];
    seg.emit(&mut out).unwrap();
    let m = Message::decode(&out, Settings::default()).unwrap();
    assert_eq!(m.opcode, Opcode::Terminate);
    assert_eq!(SegmentRepr::parse(&m), seg);
    assert!(
        m.to_string()
            .contains("Terminate layer=LLP etype=0 (MPA) code=0x02")
    );

    let ar = AtomicRequestRepr {
        opcode_word: 0,
        request_id: 9,
        remote_stag: 0x77,
        remote_to: 0x1000,
        add_swap_data: 1,
        add_swap_mask: 0,
        compare_data: 0,
        compare_mask: u64::MAX,
    };
    let seg = SegmentRepr {
        ddp: DdpRepr::untagged(true, Control::new(1, 0xA).0, 1, 1, 0),
        header: HeaderRepr::AtomicRequest(ar),
        payload: &[],
    };
    let mut out = [0u8; 70];
    assert_eq!(seg.emit(&mut out).unwrap(), 70);
    let m = Message::decode(&out, RFC7306).unwrap();
    assert_eq!(m.opcode, Opcode::AtomicRequest);
    assert_eq!(SegmentRepr::parse(&m), seg);
}

/// A nested emit error names the byte where the nested header starts, not byte 0.
#[test]
fn nested_emit_errors_name_the_right_byte() {
    let seg = SegmentRepr::parse_bytes(&READ_REQUEST, Settings::default()).unwrap();
    let mut out = [0u8; 30];
    let e = seg.emit_headers(&mut out).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RDMAP: truncated output buffer: need 28 bytes, have 12 (at byte 18)"
    );
    // The whole segment is checked up front, at its first byte.
    let e = seg.emit(&mut out).unwrap_err();
    assert_eq!(
        e.to_string(),
        "RDMAP: truncated output buffer: need 46 bytes, have 30 (at byte 0)"
    );
    // A Terminate after the DDP header: its own length check, at byte 18.
    let term = SegmentRepr {
        ddp: DdpRepr::untagged(true, Control::new(1, 0x7).0, 2, 1, 0),
        header: HeaderRepr::Terminate(TerminateRepr::new(
            TermLayer::Ddp,
            2,
            1,
            Some((0, DdpRepr::untagged(true, 0x43, 0, 1, 0))),
            None,
        )),
        payload: &[],
    };
    let e = term.emit_headers(&mut out).unwrap_err();
    assert_eq!((e.layer, e.at), (Layer::Rdmap, 18));
    assert!(
        matches!(
            e.kind,
            ErrorKind::Truncated {
                needed: 24,
                got: 12,
                ..
            }
        ),
        "{e}"
    );
    // The DDP header itself still fails at byte 0.
    let e = seg.emit_headers(&mut out[..10]).unwrap_err();
    assert_eq!((e.layer, e.at), (Layer::Ddp, 0));
}

#[test]
fn emit_fpdu_wraps_a_segment_with_pad_and_crc() {
    let seg = SegmentRepr::parse_bytes(&READ_REQUEST, Settings::default()).unwrap();
    assert_eq!(seg.fpdu_len(), 2 + 46 + 4); // no PAD: 2 + 46 is a multiple of 4
    let mut out = [0u8; 52];
    assert_eq!(seg.emit_fpdu(&mut out, true).unwrap(), 52);
    let f = crate::mpa::Fpdu::new_checked(&out[..]).unwrap();
    assert!(f.verify_crc());
    assert_eq!(f.ulpdu(), READ_REQUEST);
    seg.emit_fpdu(&mut out, false).unwrap();
    assert_eq!(&out[48..], &[0, 0, 0, 0]);
}

#[test]
fn opcode_table() {
    for raw in 0..16u8 {
        for p in [Profile::OneShot, Profile::Rfc7306] {
            let o = Opcode::from_raw(raw, p);
            assert_eq!(o.raw(), raw);
        }
    }
    assert_eq!(Opcode::SendSeAdvertise.filter_name(), "send_se_advertise");
    assert_eq!(Opcode::Unknown(0xD).to_string(), "Unknown (0xd)");
    assert_eq!(Opcode::AtomicResponse.queue(), Some(3));
    assert!(Opcode::RdmaReadResponse.is_tagged());
    assert_eq!("rfc7306".parse::<Profile>(), Ok(Profile::Rfc7306));
    let c = Control::new(1, 0x3);
    assert_eq!((c.0, c.version(), c.rsv(), c.opcode_raw()), (0x43, 1, 0, 3));
}
