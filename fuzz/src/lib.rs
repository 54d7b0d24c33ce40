//! Checks shared by the fuzz targets: the `touch_*` functions for the `oneshot-codec` targets
//! here, the command-line run of `oneshot-dissect` in [`dissect`], and the shipped captures and
//! their TCP streams in [`shipped`].
//!
//! Every `touch_*` function calls every accessor of one decoded layer (so that a panicking
//! accessor is found even when no caller happens to use it) and asserts the codec's lossless
//! promise where it applies: an owned form parsed from a view emits exactly the octets the view
//! was made from.
//!
//! Input layouts that more than one producer must agree on (the `fpdus` target and the
//! `seed_corpus` example of `oneshot-codec`) are described at [`FLAG_MARKERS`].

#![forbid(unsafe_code)]

pub mod dissect;
pub mod shipped;

use std::hint::black_box;

use oneshot_codec::ddp::{self, DdpRepr};
use oneshot_codec::iscsi::{self, Bhs, BhsRepr};
use oneshot_codec::iser::{IserHeader, IserRepr};
use oneshot_codec::mpa::{Enhanced, Fpdu, FpduRepr, MpaFrame, MpaFrameRepr, Revision};
use oneshot_codec::oneshot::{Info, Placement};
use oneshot_codec::rdmap::terminate::{self, Terminate, TerminateRepr};
use oneshot_codec::rdmap::{
    AtomicRequest, AtomicRequestRepr, AtomicResponse, AtomicResponseRepr, Header, HeaderRepr,
    ReadRequest, ReadRequestRepr,
};
use oneshot_codec::{
    DecodedFpdu, Error, Frame, Message, Opcode, Profile, SegmentRepr, Settings, Ulp,
};

/// Settings bit of a flags octet: profile `rfc7306` instead of `oneshot`.
pub const FLAG_RFC7306: u8 = 0x01;
/// Settings bit of a flags octet: placement `appended` instead of `rsvdulp`.
pub const FLAG_APPENDED: u8 = 0x02;
/// `fpdus` input: the payload has MPA markers.
///
/// The `fpdus` target reads its input as: octet 0 = flags ([`FLAG_RFC7306`],
/// [`FLAG_APPENDED`], [`FLAG_MARKERS`]; other bits ignored), octets 1..5 = the stream position
/// of the payload's first octet (big-endian `u32`), octets 5.. = the TCP payload.
pub const FLAG_MARKERS: u8 = 0x04;

/// The decoder settings a flags octet selects (only [`FLAG_RFC7306`] and [`FLAG_APPENDED`]
/// count).
pub fn settings_from(flags: u8) -> Settings {
    Settings {
        profile: if flags & FLAG_RFC7306 != 0 {
            Profile::Rfc7306
        } else {
            Profile::OneShot
        },
        placement: if flags & FLAG_APPENDED != 0 {
            Placement::Appended
        } else {
            Placement::RsvdUlp
        },
    }
}

/// Formats an error and reads its fields.
pub fn touch_error(e: &Error) {
    black_box((e.to_string(), e.kind.to_string(), e.layer.name(), e.at));
}

/// Everything a [`Frame`] offers, down to every FPDU under `settings`.
pub fn touch_frame(f: &Frame<'_>, settings: Settings) {
    if let Some(e) = &f.stop {
        touch_error(e);
    }
    if let Some(eth) = &f.ethernet {
        black_box((eth.source(), eth.destination(), eth.ether_type()));
    }
    let vlans = f.vlan_tags().count();
    assert!(vlans <= oneshot_codec::decode::MAX_VLANS);
    assert!(
        f.vlans[vlans..].iter().all(Option::is_none),
        "VLAN tags not packed"
    );
    for v in f.vlan_tags() {
        black_box((v.vlan_identifier(), v.ether_type(), v.priority_code_point()));
    }
    if let Some(ip) = &f.ip {
        let p = ip.payload();
        black_box((p.ip_number, p.incomplete, p.fragmented, p.payload.len()));
    }
    black_box(f.fragmented());
    assert_eq!(f.tcp().is_some(), f.tcp.is_some());
    if let Some(t) = f.tcp() {
        black_box((t.source_port(), t.destination_port(), t.sequence_number()));
        assert!(f.ip.is_some(), "TCP without IP");
    }
    let payload = f.tcp_payload();
    let offset = f.tcp_payload_offset();
    assert_eq!(payload.is_some(), offset.is_some());
    if let (Some(p), Some(o)) = (payload, offset) {
        assert_eq!(&f.bytes[o..o + p.len()], p, "TCP payload offset");
    }
    black_box(f.incomplete());
    match f.mpa_frame() {
        Some(Ok(m)) => touch_mpa_frame(&m),
        Some(Err(e)) => touch_error(&e),
        None => {}
    }
    if let Some(p) = payload {
        match MpaFrame::header_checked(p) {
            Ok(m) => touch_mpa_header(&m),
            Err(e) => touch_error(&e),
        }
    }
    for item in f.fpdus(settings) {
        match item {
            Ok(d) => {
                let at = d.offset;
                let bytes = d.fpdu.bytes_ref();
                assert_eq!(&f.bytes[at..at + bytes.len()], bytes, "FPDU offset");
                touch_decoded(&d, settings);
            }
            Err(e) => touch_error(&e),
        }
    }
}

/// Every accessor of an MPA Request/Reply; its owned form must emit the frame's octets.
pub fn touch_mpa_frame(m: &MpaFrame<&[u8]>) {
    let flags = m.flags();
    assert_eq!(m.markers(), flags & 0x80 != 0);
    assert_eq!(m.crc(), flags & 0x40 != 0);
    assert_eq!(m.rejected(), flags & 0x20 != 0);
    assert_eq!(m.enhanced_flag(), flags & 0x10 != 0);
    assert_eq!(m.res(), flags & 0x0F);
    assert_eq!(m.res_5044(), flags & 0x1F);
    let revision: Revision = m.revision();
    assert_eq!(u8::from(revision), m.rev());
    black_box((m.key(), m.kind().to_string(), revision.to_string()));
    assert_eq!(m.private_data().len(), usize::from(m.pd_length()));
    assert_eq!(m.len(), 20 + usize::from(m.pd_length()));
    assert!(!m.is_empty());
    let enhanced = m.enhanced();
    if let Some(e) = enhanced {
        touch_enhanced(e);
        assert_eq!(m.ulp_private_data(), &m.private_data()[4..]);
    } else {
        assert_eq!(m.ulp_private_data(), m.private_data());
    }

    let r = MpaFrameRepr::parse(m);
    black_box(r.to_string());
    assert_eq!(r.kind(), m.kind());
    assert_eq!(r.len(), m.len());
    assert_eq!(r.enhanced, enhanced);
    let mut out = vec![0u8; r.len()];
    assert_eq!(r.emit(&mut out).expect("emit MPA frame"), m.len());
    assert_eq!(out, &m.into_inner()[..m.len()], "MPA frame not lossless");
}

/// Every accessor of a view that [`MpaFrame::header_checked`] built: PD_Length may exceed 512 or
/// the buffer, and nothing may panic. Where the whole frame is there, it reads as
/// [`MpaFrame::new_checked`] would.
pub fn touch_mpa_header(m: &MpaFrame<&[u8]>) {
    let flags = m.flags();
    assert_eq!(m.res(), flags & 0x0F);
    assert_eq!(m.res_5044(), flags & 0x1F);
    black_box((m.markers(), m.crc(), m.rejected(), m.enhanced_flag()));
    black_box((m.key(), m.kind(), m.rev(), m.revision()));
    assert_eq!(m.len(), 20 + usize::from(m.pd_length()));
    assert!(!m.is_empty());
    let pd = m.private_data();
    assert!(pd.len() <= usize::from(m.pd_length()));
    let ulp = m.ulp_private_data();
    match m.enhanced() {
        Some(e) => {
            touch_enhanced(e);
            assert_eq!(ulp, &pd[4..]);
        }
        None => assert_eq!(ulp, pd),
    }
    let r = MpaFrameRepr::parse(m);
    black_box(r.to_string());
    assert_eq!(r.pd_length(), pd.len());
    let whole = m.into_inner();
    if let Ok(full) = MpaFrame::new_checked(whole) {
        assert_eq!(full.private_data(), pd);
        assert_eq!(full.enhanced(), m.enhanced());
        touch_mpa_frame(&full);
    }
}

/// Every getter of the RFC 6581 IRD/ORD word; rebuilding it from them gives it back.
pub fn touch_enhanced(e: Enhanced) {
    let rebuilt = Enhanced::new(
        e.peer_to_peer(),
        e.send_rtr(),
        e.ird(),
        e.write_rtr(),
        e.read_rtr(),
        e.ord(),
    );
    assert_eq!(rebuilt, e);
    assert_eq!(Enhanced::parse_bytes(&e.to_bytes()).ok(), Some(e));
    black_box(e.to_string());
}

/// One decoded FPDU: framing, message and ULP.
pub fn touch_decoded(d: &DecodedFpdu<'_>, settings: Settings) {
    assert_eq!(d.crc_ok(), d.fpdu.verify_crc());
    touch_fpdu(&d.fpdu);
    match &d.message() {
        Ok(m) => {
            touch_message(m, d.fpdu.ulpdu_ref(), settings);
            assert_eq!(Ulp::detect(m), d.ulp());
        }
        Err(e) => {
            touch_error(e);
            assert!(d.ulp().is_none());
        }
    }
    if let Some(u) = &d.ulp() {
        touch_ulp(u);
    }
}

/// Every accessor of a marker-free FPDU; its owned form must emit the FPDU's octets.
pub fn touch_fpdu(f: &Fpdu<&[u8]>) {
    let n = usize::from(f.ulpdu_len());
    assert_eq!(f.ulpdu().len(), n);
    assert_eq!(f.ulpdu_ref(), f.ulpdu());
    assert_eq!(f.pad().len(), f.pad_len());
    assert_eq!(f.ulpdu_range().end, f.pad_range().start);
    assert_eq!(f.pad_range().end, f.crc_range().start);
    assert_eq!(f.crc_range().end, f.len());
    assert_eq!(f.len() % 4, 0);
    assert!(!f.is_empty());
    assert_eq!(f.as_bytes(), f.bytes_ref());
    assert_eq!(f.crc_wireshark(), f.crc().swap_bytes());
    assert_eq!(u32::from_le_bytes(f.crc_bytes()), f.crc());
    assert_eq!(f.verify_crc(), f.crc() == f.compute_crc());

    let r = FpduRepr::parse(f);
    black_box(r.to_string());
    assert_eq!(r.compute_crc().ok(), Some(f.compute_crc()));
    let mut out = vec![0u8; r.len()];
    assert_eq!(r.emit(&mut out).expect("emit FPDU"), f.len());
    assert_eq!(out, f.as_bytes(), "FPDU not lossless");
}

/// Every accessor of a message, its header and its one-shot findings; the owned form must emit
/// `ulpdu` (the octets the message was decoded from) exactly.
pub fn touch_message(m: &Message<'_>, ulpdu: &[u8], settings: Settings) {
    black_box(m.to_string());
    touch_segment(&m.ddp);
    assert_eq!(m.settings, settings);

    let c = m.control;
    assert_eq!(c.0, m.ddp.rsvdulp());
    black_box((c.version(), c.rsv(), c.opcode_raw()));
    assert_eq!(c.opcode(settings.profile), m.opcode);
    touch_opcode(m.opcode);

    touch_header(&m.header);
    assert_eq!(m.header_offset(), m.ddp.header_len());
    assert_eq!(m.payload_offset(), m.header_offset() + m.header.len());
    assert_eq!(&ulpdu[m.payload_offset()..], m.payload);
    let hr = HeaderRepr::parse(&m.header);
    assert_eq!(hr.header_len(), m.header.len());
    black_box(hr.kind());

    touch_info(&m.oneshot);

    let s = SegmentRepr::parse(m);
    black_box((s.to_string(), s.control()));
    assert_eq!(s.len(), ulpdu.len());
    assert_eq!(s.fpdu_len(), oneshot_codec::mpa::fpdu_len(ulpdu.len()));
    let mut out = vec![0u8; s.len()];
    assert_eq!(s.emit(&mut out).expect("emit segment"), ulpdu.len());
    assert_eq!(out, ulpdu, "segment not lossless under {settings:?}");
    let mut head = vec![0u8; s.header_len()];
    assert_eq!(
        s.emit_headers(&mut head).expect("emit headers"),
        s.header_len()
    );
    assert_eq!(head, &ulpdu[..s.header_len()]);
    assert_eq!(SegmentRepr::parse_bytes(ulpdu, settings).ok(), Some(s));

    if let Some(u) = Ulp::detect(m) {
        touch_ulp(&u);
    }
}

/// Every getter of an RDMAP opcode.
pub fn touch_opcode(o: Opcode) {
    black_box((
        o.raw(),
        u8::from(o),
        o.name(),
        o.filter_name(),
        o.is_tagged(),
        o.queue(),
        o.is_send(),
        o.has_invalidate_stag(),
        o.to_string(),
    ));
}

/// Every getter of a DDP segment view, tagged or untagged.
pub fn touch_segment(s: &ddp::Segment<&[u8]>) {
    let c = s.control();
    black_box((c.tagged(), c.last(), c.rsvd(), c.dv(), u8::from(c)));
    black_box(s.rsvdulp());
    assert_eq!(s.header().len(), s.header_len());
    assert_eq!(s.payload(), s.payload_ref());
    match (s.as_tagged(), s.as_untagged()) {
        (Some(t), None) => {
            assert!(c.tagged());
            assert_eq!(t.control(), c);
            black_box((t.rsvdulp(), t.stag(), t.to(), t.header(), t.payload()));
            assert_eq!(t.payload(), t.payload_ref());
        }
        (None, Some(u)) => {
            assert!(!c.tagged());
            assert_eq!(u.control(), c);
            black_box((u.rsvdulp(), u.rsvdulp_word(), u.qn(), u.msn(), u.mo()));
            let all = u.rsvdulp_all();
            assert_eq!(all[0], u.rsvdulp());
            assert_eq!(
                u32::from_be_bytes([all[1], all[2], all[3], all[4]]),
                u.rsvdulp_word()
            );
            black_box((u.header(), u.payload()));
            assert_eq!(u.payload(), u.payload_ref());
        }
        _ => panic!("DDP segment is neither tagged nor untagged"),
    }
    let r = DdpRepr::parse(s);
    black_box(r.to_string());
    assert_eq!(r.header_len(), s.header_len());
    assert_eq!(r.is_tagged(), c.tagged());
    let mut out = vec![0u8; r.header_len()];
    r.emit(&mut out).expect("emit DDP header");
    assert_eq!(out, s.header(), "DDP header not lossless");
}

/// Every getter of whatever header follows the DDP header.
pub fn touch_header(h: &Header<'_>) {
    black_box((h.len(), h.is_empty()));
    match h {
        Header::None => {}
        Header::ReadRequest(r) => touch_read_request(r),
        Header::Terminate(t) => touch_terminate(t),
        Header::AtomicRequest(a) => touch_atomic_request(a),
        Header::AtomicResponse(a) => touch_atomic_response(a),
        Header::Immediate(d) => {
            black_box(u64::from_be_bytes(*d));
        }
        Header::OneShotStag(s) => {
            black_box(*s);
        }
    }
}

/// Every getter of a Read Request header.
pub fn touch_read_request(r: &ReadRequest<&[u8]>) {
    black_box((
        r.sink_stag(),
        r.sink_to(),
        r.rdmardsz(),
        r.source_stag(),
        r.source_to(),
    ));
    let repr = ReadRequestRepr::parse(r);
    black_box(repr.to_string());
    let mut out = vec![0u8; repr.header_len()];
    repr.emit(&mut out).expect("emit Read Request");
    assert_eq!(ReadRequestRepr::parse_bytes(&out).ok(), Some(repr));
}

/// Every getter of a Terminate header, the copied DDP and RDMAP headers included.
pub fn touch_terminate(t: &Terminate<&[u8]>) {
    let layer = t.term_layer();
    assert_eq!(u8::from(layer), t.layer());
    black_box((layer.to_string(), t.control(), t.etype(), t.errcode()));
    black_box(terminate::etype_name(layer, t.etype()));
    black_box(terminate::errcode_name(layer, t.etype(), t.errcode()));
    black_box((t.m(), t.rsvd(), t.len(), t.is_empty()));
    let ws = t.wireshark_ddp_header_len();
    assert!(ws == 14 || ws == 18);
    assert_eq!(ws == 14, t.layer() == 1 && t.etype() == 1);
    assert_eq!(t.d(), t.ddp_seg_len().is_some());
    assert_eq!(t.d(), t.ddp_header_range().is_some());
    assert_eq!(t.d(), t.ddp_header().is_some());
    assert_eq!(t.r(), t.rdmap_header_range().is_some());
    if let Some(d) = t.ddp() {
        touch_segment(&d);
    } else {
        assert!(!t.d(), "D set but the copied DDP header does not decode");
    }
    if let Some(r) = t.rdmap_header() {
        touch_read_request(&r);
    } else {
        assert!(!t.r(), "R set but the copied RDMAP header does not decode");
    }
    let repr = TerminateRepr::parse(t);
    black_box(repr.to_string());
    assert_eq!(repr.header_len(), t.len());
}

/// Every getter of an Atomic Request header.
pub fn touch_atomic_request(a: &AtomicRequest<&[u8]>) {
    black_box((a.opcode_word(), a.reserved(), a.opcode().to_string()));
    black_box((a.request_id(), a.remote_stag(), a.remote_to()));
    black_box((
        a.add_swap_data(),
        a.add_swap_mask(),
        a.compare_data(),
        a.compare_mask(),
    ));
    let r = AtomicRequestRepr::parse(a);
    assert_eq!(r.opcode(), a.opcode());
    black_box(r.to_string());
}

/// Every getter of an Atomic Response header.
pub fn touch_atomic_response(a: &AtomicResponse<&[u8]>) {
    black_box((a.request_id(), a.original_data()));
    black_box(AtomicResponseRepr::parse(a).to_string());
}

/// The one-shot findings of a message.
pub fn touch_info(i: &Info) {
    black_box((i.is_malformed(), i.stray_bits, i.maybe_immediate));
    // A one-shot opcode on a tagged segment carries no field and is malformed.
    if i.tagged_opcode {
        assert!(i.field.is_none() && i.is_malformed());
    }
    assert_eq!(
        i.is_malformed(),
        i.stray_bits != 0 || i.tagged_opcode || i.field.is_some_and(|f| f.op.is_none())
    );
    match (i.field, i.qualifier()) {
        (Some(f), q) => {
            black_box(f.to_string());
            assert_eq!(q, f.op.map(|op| (op, f.stag)));
        }
        (None, q) => assert!(q.is_none()),
    }
}

/// The ULP found in a Send, and its headers' owned forms.
pub fn touch_ulp(u: &Ulp<'_>) {
    match u {
        Ulp::Iser { iser, bhs } => {
            touch_iser(iser);
            if let Some(b) = bhs {
                touch_bhs(b);
            }
            assert_eq!(u.bhs(), bhs.as_ref());
        }
        Ulp::Iscsi(b) => {
            touch_bhs(b);
            assert_eq!(u.bhs(), Some(b));
        }
    }
}

/// Every getter of an iSER header; its owned form must emit the 28 header octets.
pub fn touch_iser(h: &IserHeader<&[u8]>) {
    let op = h.opcode();
    black_box((op.raw(), op.name(), op.to_string(), h.flags(), h.reserved()));
    black_box((h.write_stag(), h.write_base_offset()));
    black_box((h.read_stag(), h.read_base_offset()));
    assert_eq!(h.payload(), h.payload_ref());
    let r = IserRepr::parse(h);
    black_box(r.to_string());
    assert_eq!(r.opcode(), op);
    assert_eq!((r.wsv(), r.rsv()), (h.wsv(), h.rsv()));
    let mut out = [0u8; 28];
    assert_eq!(r.emit(&mut out).expect("emit iSER header"), r.header_len());
    assert_eq!(&out[..], h.header(), "iSER header not lossless");
}

/// Every getter of an iSCSI BHS; its owned form must emit the 48 header octets.
pub fn touch_bhs(b: &Bhs<&[u8]>) {
    let op = b.opcode();
    black_box((op.raw(), op.name(), op.to_string(), b.opcode_byte()));
    black_box((
        b.immediate(),
        b.flags(),
        b.final_flag(),
        b.read(),
        b.write(),
    ));
    black_box((b.attr(), b.status_present(), b.response(), b.status()));
    black_box((
        b.total_ahs_len(),
        b.data_segment_len(),
        b.lun(),
        b.pdu_len(),
    ));
    black_box(iscsi::cdb_rw10_fields(&b.cdb()));
    black_box((b.itt(), b.edtl(), b.cmdsn(), b.expstatsn(), b.snack_tag()));
    black_box((b.statsn(), b.expcmdsn(), b.maxcmdsn(), b.expdatasn()));
    black_box((b.bidi_residual(), b.residual(), b.ttt(), b.r2tsn()));
    black_box((b.datasn(), b.buffer_offset(), b.desired_len()));
    assert_eq!(b.data(), b.data_ref());
    assert!(b.data().len() <= b.data_segment_len() as usize);
    black_box(iscsi::looks_like_bhs(b.header()));
    let r = BhsRepr::parse(b);
    black_box(r.to_string());
    assert_eq!(r.op(), op);
    let mut out = [0u8; 48];
    assert_eq!(r.emit(&mut out).expect("emit BHS"), r.header_len());
    assert_eq!(&out[..], b.header(), "BHS not lossless");
}
