//! Owned forms, built from arbitrary input, emitted and parsed back: `parse(emit(x)) == x` for
//! every `Repr` of the codec, whole FPDUs with their CRC, one-shot Sends, and marker insertion
//! followed by marker removal.
//!
//! The input is consumed through [`Unstructured`]: its first octet picks the case, the rest
//! builds the value, so any bytes are valid input.

#![no_main]
#![forbid(unsafe_code)]

use std::hint::black_box;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use oneshot_codec::ddp::DdpRepr;
use oneshot_codec::iscsi::BhsRepr;
use oneshot_codec::iser::IserRepr;
use oneshot_codec::mpa::{
    self, Enhanced, Fpdu, FpduRepr, MarkedFpdu, MarkedFpdus, MarkerRepr, MpaFrameRepr,
};
use oneshot_codec::oneshot::{OneShotField, Placement};
use oneshot_codec::rdmap::{
    AtomicRequestRepr, AtomicResponseRepr, Profile, ReadRequestRepr, SegmentRepr, Settings,
    TerminateRepr,
};
use oneshot_codec::{Message, decode_ulpdu};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = one_case(&mut u);
});

/// `parse_bytes(emit(x)) == x` for a fixed-layout header type with `header_len`, plus: a buffer
/// one octet short fails instead of panicking.
macro_rules! header_round_trip {
    ($u:expr, $ty:ty) => {{
        let x: $ty = $u.arbitrary()?;
        let mut buf = vec![0u8; x.header_len() + 7];
        let n = x.emit(&mut buf).expect(concat!("emit ", stringify!($ty)));
        assert_eq!(n, x.header_len(), "{x:?}");
        assert_eq!(<$ty>::parse_bytes(&buf[..n]).ok(), Some(x), "{x:?}");
        if n > 0 {
            assert!(x.emit(&mut buf[..n - 1]).is_err(), "{x:?}");
        }
        black_box(x.to_string());
    }};
}

fn one_case(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    match u.int_in_range(0u8..=14)? {
        0 => header_round_trip!(u, DdpRepr),
        1 => header_round_trip!(u, ReadRequestRepr),
        2 => header_round_trip!(u, TerminateRepr),
        3 => header_round_trip!(u, AtomicRequestRepr),
        4 => header_round_trip!(u, AtomicResponseRepr),
        5 => header_round_trip!(u, IserRepr),
        6 => header_round_trip!(u, BhsRepr),
        7 => marker(u)?,
        8 => enhanced(u)?,
        9 => fpdu(u)?,
        10 => mpa_frame(u)?,
        11 => segment(u)?,
        12 => markers_insert_then_strip(u)?,
        13 => oneshot_send(u)?,
        _ => fpdus_back_to_back(u)?,
    }
    Ok(())
}

fn marker(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let m: MarkerRepr = u.arbitrary()?;
    let mut buf = [0u8; 4];
    assert_eq!(m.emit(&mut buf).expect("emit marker"), 4);
    assert_eq!(MarkerRepr::parse_bytes(&buf).ok(), Some(m));
    assert!(m.emit(&mut buf[..3]).is_err());
    black_box(m.to_string());
    Ok(())
}

fn enhanced(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let e: Enhanced = u.arbitrary()?;
    assert_eq!(Enhanced::parse_bytes(&e.to_bytes()).ok(), Some(e));
    oneshot_fuzz::touch_enhanced(e);
    Ok(())
}

fn fpdu(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let f: FpduRepr<'_> = u.arbitrary()?;
    let mut buf = vec![0u8; f.len()];
    assert_eq!(f.emit(&mut buf).expect("emit FPDU"), f.len());
    assert_eq!(FpduRepr::parse_bytes(&buf).ok(), Some(f));
    let view = Fpdu::new_checked(&buf[..]).expect("FPDU view");
    assert_eq!(view.verify_crc(), f.compute_crc().ok() == Some(f.crc));
    oneshot_fuzz::touch_fpdu(&view);
    assert!(f.emit(&mut buf[..f.len() - 1]).is_err());
    black_box(f.to_string());
    // The same ULPDU with its CRC computed verifies.
    let good = FpduRepr::with_crc(f.ulpdu).expect("with_crc");
    good.emit(&mut buf).expect("emit FPDU");
    assert!(Fpdu::new_checked(&buf[..]).expect("FPDU view").verify_crc());
    Ok(())
}

fn mpa_frame(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let f: MpaFrameRepr<'_> = u.arbitrary()?;
    let mut buf = vec![0u8; f.len()];
    assert_eq!(f.emit(&mut buf).expect("emit MPA frame"), f.len());
    assert_eq!(MpaFrameRepr::parse_bytes(&buf).ok(), Some(f));
    assert!(f.emit(&mut buf[..f.len() - 1]).is_err());
    let view = mpa::MpaFrame::new_checked(&buf[..]).expect("MPA frame view");
    oneshot_fuzz::touch_mpa_frame(&view);
    // Fault injection: any PD_Length, then the header-only view shows it without panicking.
    let pd_length: u16 = u.arbitrary()?;
    let view = mpa::MpaFrame::new_checked(&mut buf[..]).expect("MPA frame view");
    let buf = view.set_pd_length(pd_length);
    let hv = mpa::MpaFrame::header_checked(&buf[..]).expect("MPA frame header");
    assert_eq!(hv.pd_length(), pd_length);
    oneshot_fuzz::touch_mpa_header(&hv);
    assert_eq!(
        mpa::MpaFrame::new_checked(&buf[..]).is_ok(),
        usize::from(pd_length) <= 512.min(buf.len() - 20)
    );
    Ok(())
}

fn segment(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let settings: Settings = u.arbitrary()?;
    let s = SegmentRepr::arbitrary_for(u, settings)?;
    let mut buf = vec![0u8; s.len()];
    assert_eq!(s.emit(&mut buf).expect("emit segment"), s.len());
    assert_eq!(
        SegmentRepr::parse_bytes(&buf, settings).ok(),
        Some(s),
        "{settings:?}"
    );
    let m = Message::decode(&buf, settings).expect("decode emitted segment");
    oneshot_fuzz::touch_message(&m, &buf, settings);
    black_box(s.to_string());
    // Through a whole FPDU too.
    if s.len() <= usize::from(u16::MAX) {
        let mut fpdu = vec![0u8; s.fpdu_len()];
        assert_eq!(
            s.emit_fpdu(&mut fpdu, true).expect("emit_fpdu"),
            s.fpdu_len()
        );
        let f = Fpdu::new_checked(&fpdu[..]).expect("FPDU view");
        assert!(f.verify_crc());
        assert_eq!(SegmentRepr::parse_bytes(f.ulpdu(), settings).ok(), Some(s));
        s.emit_fpdu(&mut fpdu, false)
            .expect("emit_fpdu without CRC");
        assert_eq!(Fpdu::new_checked(&fpdu[..]).expect("FPDU view").crc(), 0);
    } else {
        assert!(s.emit_fpdu(&mut buf, true).is_err());
    }
    Ok(())
}

/// Markers: insert them at any 4-aligned stream position, find the FPDU again through them,
/// verify its CRC and every FPDUPTR, strip them, and get the original FPDU back.
fn markers_insert_then_strip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let start = u.arbitrary::<u32>()? & !3;
    let n = u.int_in_range(0..=u.len().min(usize::from(u16::MAX)))?;
    let ulpdu = u.bytes(n)?;
    let f = FpduRepr::with_crc(ulpdu).expect("with_crc");
    let mut plain = vec![0u8; f.len()];
    f.emit(&mut plain).expect("emit FPDU");
    let wire_len = mpa::marker::wire_len(start, plain.len());
    let mut wire = vec![0u8; wire_len];
    // A marker more than 65535 octets after ULPDU_Length is out of FPDUPTR's reach: refused.
    let header = mpa::marker::wire_offset(start, 0);
    let in_reach = (mpa::marker::first_marker(start)..wire_len)
        .step_by(mpa::MARKER_INTERVAL as usize)
        .all(|at| at.saturating_sub(header) <= usize::from(u16::MAX));
    let w = match mpa::emit_marked(&plain, start, &mut wire, true) {
        Ok(w) => {
            assert!(
                in_reach,
                "start={start} len={}: emitted past FPDUPTR's reach",
                plain.len()
            );
            w
        }
        Err(e) => {
            assert!(!in_reach, "start={start} len={}: {e}", plain.len());
            assert_eq!(e.layer, oneshot_codec::Layer::Marker, "{e}");
            return Ok(());
        }
    };
    assert_eq!(w, wire_len);
    if w > 0 {
        assert!(mpa::emit_marked(&plain, start, &mut wire[..w - 1], true).is_err());
    }
    let m = MarkedFpdu::new_checked(&wire, start).expect("marked FPDU");
    assert_eq!(m.wire_len(), w);
    assert_eq!(m.ulpdu_len(), f.ulpdu.len() as u16);
    assert!(m.verify_crc(), "start={start}");
    assert_eq!(
        m.first_bad_marker(),
        None,
        "start={start} len={}",
        plain.len()
    );
    let mut back = vec![0u8; plain.len()];
    let s = m.strip_into(&mut back).expect("strip_into");
    assert_eq!(s.ulpdu(), ulpdu);
    // Everything but the CRC field, which now covers the markers too.
    let crc_at = plain.len() - 4;
    assert_eq!(back[..crc_at], plain[..crc_at]);
    if m.markers().next().is_none() {
        assert_eq!(back, plain);
    }
    // With the CRC field copied instead, stripping gives back the plain FPDU exactly.
    let mut copied = vec![0u8; wire_len];
    mpa::emit_marked(&plain, start, &mut copied, false).expect("emit_marked");
    let crc_octets: Vec<usize> = (crc_at..plain.len()).map(|i| m.wire_offset(i)).collect();
    for (i, (a, b)) in copied.iter().zip(&wire).enumerate() {
        if !crc_octets.contains(&i) {
            assert_eq!(a, b, "octet {i}: only the CRC may differ");
        }
    }
    let c = MarkedFpdu::new_checked(&copied, start).expect("marked FPDU");
    c.strip_into(&mut back).expect("strip_into");
    assert_eq!(back, plain);
    // The iterator finds exactly this one FPDU.
    let all: Vec<_> = MarkedFpdus::new(&wire, start).collect();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].as_ref().ok(), Some(&(0, m)));
    Ok(())
}

/// A one-shot Send built with `oneshot_send` decodes to the same one-shot field.
fn oneshot_send(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let field: OneShotField = u.arbitrary()?;
    let (solicited, msn, mo, last) = u.arbitrary()?;
    let n = u.arbitrary_len::<u8>()?;
    let payload = u.bytes(n)?;
    let s = SegmentRepr::oneshot_send(field, solicited, msn, mo, last, payload);
    let settings = Settings {
        profile: Profile::OneShot,
        placement: field.placement,
    };
    let mut buf = vec![0u8; s.len()];
    s.emit(&mut buf).expect("emit one-shot Send");
    assert_eq!(SegmentRepr::parse_bytes(&buf, settings).ok(), Some(s));
    let (m, ulp) = decode_ulpdu(&buf, settings);
    let m = m.expect("decode one-shot Send");
    assert!(m.opcode.is_send());
    assert_eq!(m.payload, payload);
    if field.op.is_some() {
        assert_eq!(m.oneshot.field, Some(field), "{s}");
        assert_eq!(m.oneshot.qualifier(), field.op.map(|op| (op, field.stag)));
        assert!(!m.oneshot.is_malformed());
    } else {
        // "Neither advertise nor close" is malformed on the wire, whatever the encoding.
        assert!(m.oneshot.is_malformed(), "{s}");
    }
    if field.placement == Placement::Appended {
        assert_eq!(m.header.len(), 4);
    }
    if let Some(ulp) = ulp {
        oneshot_fuzz::touch_ulp(&ulp);
    }
    Ok(())
}

/// Several segments in FPDUs back to back decode in order with their CRCs good.
fn fpdus_back_to_back(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let settings: Settings = u.arbitrary()?;
    let count = u.int_in_range(1..=4)?;
    let mut segments = Vec::with_capacity(count);
    let mut stream = Vec::new();
    for _ in 0..count {
        let s = SegmentRepr::arbitrary_for(u, settings)?;
        if s.len() > usize::from(u16::MAX) {
            return Ok(());
        }
        let at = stream.len();
        stream.resize(at + s.fpdu_len(), 0);
        s.emit_fpdu(&mut stream[at..], true).expect("emit_fpdu");
        segments.push(s);
    }
    let mut it = mpa::Fpdus::new(&stream);
    for s in &segments {
        let (_, f) = it.next().expect("an FPDU").expect("a whole FPDU");
        assert!(f.verify_crc());
        assert_eq!(SegmentRepr::parse_bytes(f.ulpdu(), settings).ok(), Some(*s));
    }
    assert!(it.next().is_none());
    assert_eq!(it.offset(), stream.len());
    Ok(())
}
