//! MPA — Marker PDU Aligned framing (RFC 5044, RFC 6581; WIRE.md §1).
//!
//! - [`Fpdu`], [`FpduRepr`], [`Fpdus`]: FPDUs without markers, their CRC (least significant octet
//!   first on the wire) and iteration over several FPDUs in one TCP payload.
//! - [`marker`]: markers every 512 octets of sequence space: [`MarkedFpdu`] reads an FPDU
//!   through its markers and validates each FPDUPTR; [`emit_marked`] inserts them
//!   ([`fill_marked_crc`] recomputes the CRC after a marker is patched);
//!   [`strip_markers`] removes them from any byte range.
//! - [`MpaFrame`], [`MpaFrameRepr`]: the Request and Reply of the start-up phase, with the
//!   RFC 6581 IRD/ORD word ([`Enhanced`]).
//! - [`mulpdu`]: the largest ULPDU that fits one TCP segment.

pub mod fpdu;
pub mod frame;
pub mod marker;

pub use fpdu::{Fpdu, FpduRepr, Fpdus, crc32c, fpdu_len, pad_len};
pub use frame::{
    Enhanced, FrameKind, KEY_REPLY, KEY_REQUEST, MpaFrame, MpaFrameRepr, NO_IRD_ORD, Revision,
};
pub use marker::{
    MARKER_INTERVAL, MarkedFpdu, MarkedFpdus, Marker, MarkerCheck, MarkerRepr, emit_marked,
    fill_marked_crc, strip_markers,
};

/// The smallest MULPDU RFC 5044 allows.
pub const MIN_MULPDU: u32 = 128;

/// MULPDU: the largest ULPDU an FPDU may carry so that one FPDU fits a TCP segment of `emss`
/// octets (RFC 5044 §8.1.1): `EMSS − (6 + EMSS mod 4)`, or with markers
/// `EMSS − (6 + 4·⌈EMSS/512⌉ + EMSS mod 4)`; never below 128.
pub const fn mulpdu(emss: u32, markers: bool) -> u32 {
    let marker_cost = if markers {
        4 * emss.div_ceil(marker::MARKER_INTERVAL)
    } else {
        0
    };
    let overhead = 6 + marker_cost + emss % 4;
    let m = emss.saturating_sub(overhead);
    if m < MIN_MULPDU { MIN_MULPDU } else { m }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mulpdu_values() {
        // Ethernet, IPv4, TCP with timestamps: EMSS 1448.
        assert_eq!(mulpdu(1448, false), 1442);
        assert_eq!(mulpdu(1448, true), 1448 - (6 + 12));
        assert_eq!(mulpdu(1460, true), 1442);
        assert_eq!(mulpdu(1461, false), 1461 - 7);
        assert_eq!(mulpdu(9000, true), 9000 - (6 + 4 * 18));
        // Tiny segments still get 128.
        assert_eq!(mulpdu(100, true), 128);
        assert_eq!(mulpdu(0, false), 128);
    }
}
