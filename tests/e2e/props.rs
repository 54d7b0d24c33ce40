//! Property tests with `arbitrary`: for random owned forms of every layer `parse(emit(x)) == x`,
//! and for random bytes no decoder panics.

use arbitrary::Unstructured;
use oneshot_codec::ddp::DdpRepr;
use oneshot_codec::iscsi::{Bhs, BhsRepr};
use oneshot_codec::iser::{IserHeader, IserRepr};
use oneshot_codec::mpa::{
    self, Enhanced, Fpdu, FpduRepr, MarkedFpdu, MarkedFpdus, MarkerRepr, MpaFrame, MpaFrameRepr,
};
use oneshot_codec::rdmap::{
    AtomicRequestRepr, AtomicResponseRepr, Message, ReadRequestRepr, SegmentRepr, Settings,
    TerminateRepr,
};
use oneshot_codec::{Frame, decode_ulpdu};

/// Milliseconds each property runs for (more with `ONESHOT_PROP_MS`).
fn budget() -> u64 {
    std::env::var("ONESHOT_PROP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Runs `check` on random inputs for the time budget.
fn property(check: impl FnMut(&mut Unstructured<'_>) -> arbitrary::Result<()>) {
    arbtest::arbtest(check).budget_ms(budget());
}

/// `parse(emit(x)) == x` for a header type with `header_len`, `emit` and `parse_bytes`.
macro_rules! round_trip {
    ($name:ident, $ty:ty, $len:ident) => {
        #[test]
        fn $name() {
            property(|u| {
                let x: $ty = u.arbitrary()?;
                let mut buf = vec![0u8; x.$len() + 7];
                let n = x.emit(&mut buf).expect("emit");
                assert_eq!(n, x.$len(), "{x:?}");
                assert_eq!(<$ty>::parse_bytes(&buf[..n]).expect("parse"), x);
                // Emitting into a buffer one octet short fails instead of panicking.
                if n > 0 {
                    assert!(x.emit(&mut buf[..n - 1]).is_err());
                }
                Ok(())
            });
        }
    };
}

round_trip!(ddp_round_trip, DdpRepr, header_len);
round_trip!(read_request_round_trip, ReadRequestRepr, header_len);
round_trip!(terminate_round_trip, TerminateRepr, header_len);
round_trip!(atomic_request_round_trip, AtomicRequestRepr, header_len);
round_trip!(atomic_response_round_trip, AtomicResponseRepr, header_len);
round_trip!(iser_round_trip, IserRepr, header_len);
round_trip!(bhs_round_trip, BhsRepr, header_len);

#[test]
fn marker_round_trip() {
    property(|u| {
        let m: MarkerRepr = u.arbitrary()?;
        let mut buf = [0u8; 4];
        m.emit(&mut buf).unwrap();
        assert_eq!(MarkerRepr::parse_bytes(&buf).unwrap(), m);
        Ok(())
    });
}

#[test]
fn enhanced_round_trip() {
    property(|u| {
        let e: Enhanced = u.arbitrary()?;
        assert_eq!(Enhanced::parse_bytes(&e.to_bytes()).unwrap(), e);
        Ok(())
    });
}

#[test]
fn fpdu_round_trip() {
    property(|u| {
        let f: FpduRepr<'_> = u.arbitrary()?;
        let mut buf = vec![0u8; f.len()];
        assert_eq!(f.emit(&mut buf).unwrap(), f.len());
        assert_eq!(FpduRepr::parse_bytes(&buf).unwrap(), f);
        let view = Fpdu::new_checked(&buf[..]).unwrap();
        assert_eq!(view.verify_crc(), f.compute_crc().unwrap() == f.crc);
        Ok(())
    });
}

#[test]
fn mpa_frame_round_trip() {
    property(|u| {
        let f: MpaFrameRepr<'_> = u.arbitrary()?;
        let mut buf = vec![0u8; f.len()];
        assert_eq!(f.emit(&mut buf).unwrap(), f.len());
        assert_eq!(MpaFrameRepr::parse_bytes(&buf).unwrap(), f);
        Ok(())
    });
}

#[test]
fn segment_round_trip_under_every_setting() {
    property(|u| {
        let settings: Settings = u.arbitrary()?;
        let s = SegmentRepr::arbitrary_for(u, settings)?;
        let mut buf = vec![0u8; s.len()];
        assert_eq!(s.emit(&mut buf).unwrap(), s.len());
        assert_eq!(
            SegmentRepr::parse_bytes(&buf, settings).unwrap(),
            s,
            "{settings:?}"
        );
        // Through a whole FPDU too.
        if s.len() <= usize::from(u16::MAX) {
            let mut fpdu = vec![0u8; s.fpdu_len()];
            s.emit_fpdu(&mut fpdu, true).unwrap();
            let f = Fpdu::new_checked(&fpdu[..]).unwrap();
            assert!(f.verify_crc());
            assert_eq!(SegmentRepr::parse_bytes(f.ulpdu(), settings).unwrap(), s);
        }
        Ok(())
    });
}

/// Markers: insert them at any stream position, find the FPDU again through them, verify its
/// CRC and every FPDUPTR, strip them, and get the original FPDU back.
#[test]
fn markers_insert_then_strip() {
    property(|u| {
        let start: u32 = u.arbitrary()?;
        let start = start & !3; // FPDUs sit on 4-octet boundaries of the stream
        let n = u.int_in_range(0..=2000usize)?;
        let ulpdu = u.bytes(n.min(u.len()))?;
        let f = FpduRepr::with_crc(ulpdu).unwrap();
        let mut plain = vec![0u8; f.len()];
        f.emit(&mut plain).unwrap();
        let mut wire = vec![0u8; plain.len() + 4 * (plain.len() / 508 + 2)];
        let w = mpa::emit_marked(&plain, start, &mut wire, true).unwrap();
        let m = MarkedFpdu::new_checked(&wire[..w], start).unwrap();
        assert_eq!(m.wire_len(), w);
        assert!(m.verify_crc());
        assert!(m.first_bad_marker().is_none());
        let mut back = vec![0u8; plain.len()];
        let s = m.strip_into(&mut back).unwrap();
        assert_eq!(s.ulpdu(), ulpdu);
        Ok(())
    });
}

/// Random bytes: no decoder panics, whatever it is fed, and every accessor is touched.
#[test]
fn random_bytes_never_panic() {
    property(|u| {
        let settings: Settings = u.arbitrary()?;
        let start: u32 = u.arbitrary()?;
        let bytes = u.bytes(u.len())?;
        let f = Frame::ethernet(bytes);
        let _ = f.stop.map(|e| e.to_string());
        let _ = f
            .mpa_frame()
            .map(|m| m.map(|m| (m.enhanced(), m.ulp_private_data().len())));
        for d in f.fpdus(settings).flatten() {
            let _ = d.crc_ok();
            if let Ok(m) = d.message() {
                let _ = m.to_string();
            }
        }
        let _ = Frame::ip(bytes).fpdus(settings).count();
        let (m, ulp) = decode_ulpdu(bytes, settings);
        if let Ok(m) = m {
            let _ = (m.to_string(), SegmentRepr::parse(&m).to_string());
        }
        if let Some(ulp) = ulp {
            let _ = ulp.bhs().map(|b| BhsRepr::parse(b).to_string());
        }
        let _ = Message::decode(bytes, settings);
        for item in MarkedFpdus::new(bytes, start) {
            let Ok((_, m)) = item else { break };
            let _ = (m.verify_crc(), m.first_bad_marker(), m.crc_bytes());
            let mut buf = vec![0u8; m.stripped_len()];
            m.strip_into(&mut buf).unwrap();
        }
        let mut out = vec![0u8; bytes.len()];
        let n = mpa::strip_markers(bytes, start, &mut out).unwrap();
        assert_eq!(n, mpa::marker::stripped_len(start, bytes.len()));
        let _ = MpaFrame::new_checked(bytes).map(|m| MpaFrameRepr::parse(&m).to_string());
        let _ = Bhs::new_checked(bytes).map(|b| BhsRepr::parse(&b).to_string());
        let _ = IserHeader::new_checked(bytes).map(|i| IserRepr::parse(&i).to_string());
        Ok(())
    });
}
