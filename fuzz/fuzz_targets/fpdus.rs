//! One TCP payload as FPDUs: marker-free [`mpa::Fpdus`] or, with markers, [`MarkedFpdus`] at an
//! arbitrary stream position, with every FPDU decoded through DDP, RDMAP, one-shot and the ULP.
//!
//! Input layout (shared with `codec/examples/seed_corpus.rs`, see [`oneshot_fuzz::FLAG_MARKERS`]):
//! octet 0 = flags (bit 0 profile `rfc7306`, bit 1 placement `appended`, bit 2 markers),
//! octets 1..5 = stream position of the payload's first octet (big-endian), octets 5.. = payload.
//!
//! Properties checked besides "no panic":
//! - `strip_markers` writes exactly `marker::stripped_len(start, len)` octets, the ones the
//!   brute-force rule "octet i is marker when (start + i) % 512 < 4" keeps;
//! - every marked FPDU strips to a valid marker-free FPDU whose CRC field is the wire's;
//! - re-inserting markers into a stripped FPDU with `emit_marked` (CRC copied) gives back the
//!   wire octets exactly when every marker on the wire is what `emit_marked` writes (reserved
//!   half 0, FPDUPTR equal to the expected distance, low bits included), and stripping the
//!   re-marked FPDU always gives back the stripped one; `emit_marked` refuses exactly the FPDUs
//!   with a marker more than 65535 octets after ULPDU_Length, and every stream position that is
//!   not a multiple of 4;
//! - `fill_marked_crc` makes any marked FPDU's CRC verify without touching its markers.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use oneshot_codec::mpa::{self, MarkedFpdu, MarkedFpdus, marker};
use oneshot_codec::rdmap::Settings;
use oneshot_codec::{DecodedFpdu, decode_ulpdu};
use oneshot_fuzz::{
    FLAG_MARKERS, settings_from, touch_decoded, touch_error, touch_message, touch_ulp,
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((start, payload)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let start = u32::from_be_bytes(*start);
    let settings = settings_from(flags);

    if flags & FLAG_MARKERS == 0 {
        plain(payload, settings);
    } else {
        marked(payload, start, settings);
    }

    let mut out = vec![0u8; payload.len()];
    let n = mpa::strip_markers(payload, start, &mut out).expect("strip_markers");
    assert_eq!(n, marker::stripped_len(start, payload.len()));
    // The reference: octet i is marker exactly when (start + i) % 512 < 4.
    let reference = payload
        .iter()
        .enumerate()
        .filter(|&(i, _)| start.wrapping_add(i as u32) % mpa::MARKER_INTERVAL >= 4)
        .map(|(_, &b)| b);
    assert!(
        reference.eq(out[..n].iter().copied()),
        "strip_markers at {start}"
    );
    if n > 0 {
        assert!(mpa::strip_markers(payload, start, &mut out[..n - 1]).is_err());
    }
});

/// Marker-free FPDUs back to back.
fn plain(payload: &[u8], settings: Settings) {
    let mut it = mpa::Fpdus::new(payload);
    let mut expected_at = 0;
    while let Some(item) = it.next() {
        match item {
            Ok((at, fpdu)) => {
                assert_eq!(at, expected_at);
                expected_at += fpdu.len();
                assert_eq!(it.offset(), expected_at);
                touch_decoded(&DecodedFpdu::new(at, fpdu, settings), settings);
            }
            Err(e) => {
                assert_eq!(e.at, expected_at);
                touch_error(&e);
            }
        }
    }
}

/// FPDUs with markers, starting at stream position `start`.
fn marked(payload: &[u8], start: u32, settings: Settings) {
    let mut it = MarkedFpdus::new(payload, start);
    let mut expected_at = 0;
    let mut position = start;
    while let Some(item) = it.next() {
        let (at, m) = match item {
            Ok(x) => x,
            Err(e) => {
                assert_eq!(e.at, expected_at);
                touch_error(&e);
                continue;
            }
        };
        assert_eq!(at, expected_at);
        assert_eq!(m.start(), position);
        expected_at += m.wire_len();
        position = position.wrapping_add(m.wire_len() as u32);
        assert_eq!((it.offset(), it.position()), (expected_at, position));
        check_marked(&m, settings);
    }
}

fn check_marked(m: &MarkedFpdu<'_>, settings: Settings) {
    let wire = m.wire();
    assert_eq!(wire.len(), m.wire_len());
    assert_eq!(m.wire_len(), marker::wire_len(m.start(), m.stripped_len()));
    let header = m.header_offset();
    // A leading marker (4), the tail of one the FPDU's position lies in (1-3), or none.
    let expected_header = if m.start() % mpa::MARKER_INTERVAL == 0 {
        4
    } else {
        marker::leading_marker_len(m.start())
    };
    assert_eq!(header, expected_header);
    assert_eq!(header, m.wire_offset(0));

    // Every marker, and whether emit_marked would write exactly this one.
    let mut as_emitted = true;
    for c in m.markers() {
        black_box_marker(&c);
        assert_eq!(
            &wire[c.offset..c.offset + 4],
            [
                c.marker.reserved.to_be_bytes(),
                c.marker.fpduptr.to_be_bytes()
            ]
            .concat()
        );
        if c.marker.reserved != 0 || u32::from(c.marker.fpduptr) != c.expected {
            as_emitted = false;
        }
    }
    // FPDUs sit on 4-octet boundaries of the stream (emit_marked refuses any other start).
    let aligned = m.start() % 4 == 0;
    if let Some(c) = m.first_bad_marker() {
        assert!(!c.is_valid());
        assert!(!as_emitted, "{c:?} is the exact distance but is invalid");
    }

    let crc = m.crc();
    assert_eq!(crc, u32::from_le_bytes(m.crc_bytes()));
    assert_eq!(m.crc_wireshark(), crc.swap_bytes());
    assert_eq!(m.verify_crc(), crc == m.compute_crc());

    // fill_marked_crc writes the CRC the FPDU should carry and leaves the markers alone.
    let mut filled = wire.to_vec();
    assert_eq!(
        mpa::fill_marked_crc(&mut filled, m.start()).expect("fill_marked_crc"),
        m.wire_len()
    );
    let f = MarkedFpdu::new_checked(&filled, m.start()).expect("refilled FPDU");
    assert!(f.verify_crc());
    assert_eq!(f.crc(), m.compute_crc());
    assert_eq!(
        f.markers().collect::<Vec<_>>(),
        m.markers().collect::<Vec<_>>()
    );

    // Strip, decode the ULPDU, re-insert.
    let mut stripped = vec![0u8; m.stripped_len()];
    {
        let f = m.strip_into(&mut stripped).expect("strip_into");
        assert_eq!(f.ulpdu_len(), m.ulpdu_len());
        assert_eq!(f.len(), m.stripped_len());
        assert_eq!(f.crc_bytes(), m.crc_bytes());
    }
    let f = mpa::Fpdu::new_checked(&stripped[..]).expect("stripped FPDU");
    oneshot_fuzz::touch_fpdu(&f);
    let ulpdu = f.ulpdu_ref();
    match decode_ulpdu(ulpdu, settings) {
        (Ok(msg), ulp) => {
            touch_message(&msg, ulpdu, settings);
            if let Some(u) = &ulp {
                touch_ulp(u);
            }
        }
        (Err(e), ulp) => {
            touch_error(&e);
            assert!(ulp.is_none());
        }
    }

    if !aligned {
        let e = mpa::emit_marked(&stripped, m.start(), &mut vec![0u8; m.wire_len()], false)
            .expect_err("emit_marked at a position that is not 4-aligned");
        assert!(
            matches!(e.kind, oneshot_codec::ErrorKind::Unsupported { .. }),
            "{e}"
        );
        return;
    }
    // emit_marked refuses exactly the FPDUs with a marker out of a 16-bit FPDUPTR's reach.
    let in_reach = m.markers().all(|c| c.expected <= u32::from(u16::MAX));
    let mut again = vec![0u8; m.wire_len()];
    let w = match mpa::emit_marked(&stripped, m.start(), &mut again, false) {
        Ok(w) => {
            assert!(in_reach, "emit_marked wrote a marker past FPDUPTR's reach");
            w
        }
        Err(e) => {
            assert!(!in_reach, "emit_marked refused an FPDU: {e}");
            return;
        }
    };
    assert_eq!(w, m.wire_len());
    if as_emitted {
        assert_eq!(
            again, wire,
            "emit_marked does not reproduce a well-formed wire FPDU"
        );
    }
    let back = MarkedFpdu::new_checked(&again, m.start()).expect("re-marked FPDU");
    assert_eq!(back.wire_len(), w);
    assert_eq!(back.crc(), crc);
    // emit_marked's own markers are valid.
    assert_eq!(
        back.first_bad_marker(),
        None,
        "emit_marked wrote a bad marker"
    );
    let mut restripped = vec![0u8; back.stripped_len()];
    back.strip_into(&mut restripped).expect("strip re-marked");
    assert_eq!(restripped, stripped, "strip(emit_marked(x)) != x");
}

fn black_box_marker(c: &marker::MarkerCheck) {
    std::hint::black_box((c.offset, c.marker.to_string(), c.expected, c.is_valid()));
}
