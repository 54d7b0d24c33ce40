//! MPA FPDUs without markers (RFC 5044 §4; WIRE.md §1.1-1.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |          ULPDU_Length         |           ULPDU ...           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |              ... ULPDU                |  PAD (0-3 octets)     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  CRC (CRC-32C, least significant octet first) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! ULPDU_Length counts only the ULPDU. PAD brings `2 + ULPDU_Length + PAD` to a multiple of four.
//! The CRC covers ULPDU_Length, ULPDU and PAD (and any markers in between, see
//! [`super::marker`]); it travels least significant octet first, so [`Fpdu::crc`] reads the four
//! octets little-endian and the value compares directly with [`crc32c()`].
//!
//! For streams with markers use [`super::MarkedFpdu`]: the CRC then covers the markers, so
//! [`Fpdu::verify_crc`] of a marker-stripped copy does not apply.

use core::fmt;

use crate::bytes::{be16, put_be16};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges of an FPDU (FPDU offsets; the ULPDU, PAD and CRC positions depend on
/// ULPDU_Length: see [`Fpdu::ulpdu_range`], [`Fpdu::pad_range`], [`Fpdu::crc_range`]).
pub mod field {
    use core::ops::Range;

    /// ULPDU_Length.
    pub const ULPDU_LENGTH: Range<usize> = 0..2;
    /// First octet of the ULPDU.
    pub const ULPDU: usize = 2;
    /// Length of the CRC field.
    pub const CRC_LEN: usize = 4;
    /// Fixed framing overhead: ULPDU_Length plus CRC.
    pub const OVERHEAD: usize = 6;
}

/// CRC-32C (Castagnoli) of `bytes`, as MPA and iSCSI compute it (RFC 3720 B.4, RFC 5044 §6).
///
/// The value's least significant octet goes first on the wire: `crc.to_le_bytes()`.
#[inline]
pub fn crc32c(bytes: &[u8]) -> u32 {
    ::crc32c::crc32c(bytes)
}

/// PAD length for a ULPDU of `ulpdu_len` octets: 0 to 3 (any `usize`, no overflow).
#[inline]
pub const fn pad_len(ulpdu_len: usize) -> usize {
    (4 - (ulpdu_len % 4 + 2) % 4) % 4
}

/// Total FPDU length (without markers) for a ULPDU of `ulpdu_len` octets (saturating at
/// `usize::MAX`).
#[inline]
pub const fn fpdu_len(ulpdu_len: usize) -> usize {
    ulpdu_len
        .saturating_add(field::OVERHEAD)
        .saturating_add(pad_len(ulpdu_len))
}

/// A view of one marker-free FPDU at the start of a buffer.
///
/// The buffer may continue past the FPDU (the next FPDU, say); [`Fpdu::len`] tells where this
/// one ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fpdu<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> Fpdu<B> {
    /// Wraps `buf` after checking that it holds ULPDU_Length and the whole FPDU it announces.
    pub fn new_checked(buf: B) -> Result<Self> {
        let b = buf.as_ref();
        need(b, 2, Layer::Mpa, "ULPDU_Length")?;
        let n = be16(b, field::ULPDU_LENGTH) as usize;
        need(b, fpdu_len(n), Layer::Mpa, "FPDU")?;
        Ok(Fpdu { buf })
    }

    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }

    /// ULPDU_Length.
    pub fn ulpdu_len(&self) -> u16 {
        be16(self.buf.as_ref(), field::ULPDU_LENGTH)
    }

    /// PAD length (0-3).
    pub fn pad_len(&self) -> usize {
        pad_len(self.ulpdu_len() as usize)
    }

    /// Total length: 2 + ULPDU_Length + PAD + 4.
    pub fn len(&self) -> usize {
        fpdu_len(self.ulpdu_len() as usize)
    }

    /// Never true: an FPDU has at least its six framing octets.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Where the ULPDU sits.
    pub fn ulpdu_range(&self) -> core::ops::Range<usize> {
        field::ULPDU..field::ULPDU + self.ulpdu_len() as usize
    }

    /// Where PAD sits.
    pub fn pad_range(&self) -> core::ops::Range<usize> {
        let end = self.ulpdu_range().end;
        end..end + self.pad_len()
    }

    /// Where the CRC sits.
    pub fn crc_range(&self) -> core::ops::Range<usize> {
        let end = self.pad_range().end;
        end..end + field::CRC_LEN
    }

    /// The ULPDU (one DDP segment).
    pub fn ulpdu(&self) -> &[u8] {
        &self.buf.as_ref()[self.ulpdu_range()]
    }

    /// The PAD octets.
    pub fn pad(&self) -> &[u8] {
        &self.buf.as_ref()[self.pad_range()]
    }

    /// The CRC field's four octets as they are on the wire.
    pub fn crc_bytes(&self) -> [u8; 4] {
        crate::bytes::array(self.buf.as_ref(), self.crc_range())
    }

    /// The CRC field's value (the wire octets read least significant first).
    pub fn crc(&self) -> u32 {
        u32::from_le_bytes(self.crc_bytes())
    }

    /// The CRC field's octets read big-endian, as Wireshark prints `iwarp_mpa.crc`.
    pub fn crc_wireshark(&self) -> u32 {
        u32::from_be_bytes(self.crc_bytes())
    }

    /// CRC-32C over ULPDU_Length, ULPDU and PAD.
    pub fn compute_crc(&self) -> u32 {
        crc32c(&self.buf.as_ref()[..self.crc_range().start])
    }

    /// True when the CRC field matches [`compute_crc`](Self::compute_crc).
    #[inline]
    pub fn verify_crc(&self) -> bool {
        // Where the CRC field starts, found once for the octets it covers and for the field.
        let end = self.crc_range().start;
        let b = self.buf.as_ref();
        let field = crate::bytes::array(b, end..end + field::CRC_LEN);
        u32::from_le_bytes(field) == crc32c(&b[..end])
    }

    /// The FPDU's octets, without whatever follows in the buffer.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf.as_ref()[..self.len()]
    }
}

impl<'a> Fpdu<&'a [u8]> {
    /// The ULPDU with the buffer's lifetime.
    pub fn ulpdu_ref(&self) -> &'a [u8] {
        let r = self.ulpdu_range();
        &self.buf[r]
    }

    /// The FPDU's octets with the buffer's lifetime.
    pub fn bytes_ref(&self) -> &'a [u8] {
        &self.buf[..self.len()]
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Fpdu<B> {
    /// Prepares `buf` for an FPDU carrying `ulpdu_len` octets: writes ULPDU_Length, zeroes PAD and
    /// the CRC field. Fill the ULPDU through [`ulpdu_mut`](Self::ulpdu_mut), then call
    /// [`fill_crc`](Self::fill_crc) (or leave the CRC zero, as CRC-less peers do).
    pub fn new_for_ulpdu(mut buf: B, ulpdu_len: u16) -> Result<Self> {
        let len = fpdu_len(ulpdu_len as usize);
        need(buf.as_mut(), len, Layer::Mpa, "output buffer")?;
        let b = buf.as_mut();
        put_be16(b, field::ULPDU_LENGTH, ulpdu_len);
        let pad_start = field::ULPDU + ulpdu_len as usize;
        b[pad_start..len].fill(0);
        Ok(Fpdu { buf })
    }

    /// Overwrites ULPDU_Length without moving anything (for fault injection: the FPDU's
    /// extent changes with it, and the view may then describe more than the buffer holds,
    /// so this consumes the view).
    pub fn set_ulpdu_len(mut self, v: u16) -> B {
        put_be16(self.buf.as_mut(), field::ULPDU_LENGTH, v);
        self.buf
    }

    /// The ULPDU, writable.
    pub fn ulpdu_mut(&mut self) -> &mut [u8] {
        let r = self.ulpdu_range();
        &mut self.buf.as_mut()[r]
    }

    /// The PAD octets, writable (they are zero on transmit; the CRC covers them).
    pub fn pad_mut(&mut self) -> &mut [u8] {
        let r = self.pad_range();
        &mut self.buf.as_mut()[r]
    }

    /// Writes `crc` to the CRC field, least significant octet first.
    pub fn set_crc(&mut self, crc: u32) {
        let r = self.crc_range();
        self.buf.as_mut()[r].copy_from_slice(&crc.to_le_bytes());
    }

    /// Computes the CRC and writes it.
    pub fn fill_crc(&mut self) {
        let crc = self.compute_crc();
        self.set_crc(crc);
    }
}

/// An FPDU, owned and lossless: the ULPDU, every PAD octet and the CRC field as found.
///
/// ULPDU_Length is the ULPDU's length; PAD's length follows from it, and only the first
/// [`pad_len`] octets of `pad` are on the wire.
///
/// **Invariant:** the octets of `pad` beyond `pad_len(ulpdu.len())` are zero. `emit` does not
/// write them (and `compute_crc` does not cover them), `parse` always leaves them zero, so a
/// hand-built repr with non-zero unused PAD does not round-trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FpduRepr<'a> {
    /// The ULPDU (at most 65535 octets).
    pub ulpdu: &'a [u8],
    /// PAD octets; only the first `pad_len(ulpdu.len())` are emitted. The others must be zero
    /// for `parse(emit(r)) == r` (see the type's invariant).
    pub pad: [u8; 3],
    /// The CRC field's value (wire octets read least significant first).
    pub crc: u32,
}

impl<'a> FpduRepr<'a> {
    /// Reads an FPDU view.
    pub fn parse(fpdu: &Fpdu<&'a [u8]>) -> Self {
        let mut pad = [0u8; 3];
        pad[..fpdu.pad_len()].copy_from_slice(fpdu.pad());
        FpduRepr {
            ulpdu: fpdu.ulpdu_ref(),
            pad,
            crc: fpdu.crc(),
        }
    }

    /// Decodes the FPDU at the start of `buf`.
    pub fn parse_bytes(buf: &'a [u8]) -> Result<Self> {
        Fpdu::new_checked(buf).map(|f| Self::parse(&f))
    }

    /// An FPDU around `ulpdu` with zero PAD and its CRC computed.
    pub fn with_crc(ulpdu: &'a [u8]) -> Result<Self> {
        let mut r = FpduRepr {
            ulpdu,
            pad: [0; 3],
            crc: 0,
        };
        r.crc = r.compute_crc()?;
        Ok(r)
    }

    /// 2 + ULPDU + PAD + 4.
    pub fn len(&self) -> usize {
        fpdu_len(self.ulpdu.len())
    }

    /// Never true.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The CRC the FPDU should carry.
    pub fn compute_crc(&self) -> Result<u32> {
        let n = self.ulpdu_len()?;
        let mut h = ::crc32c::crc32c_append(0, &n.to_be_bytes());
        h = ::crc32c::crc32c_append(h, self.ulpdu);
        Ok(::crc32c::crc32c_append(
            h,
            &self.pad[..pad_len(self.ulpdu.len())],
        ))
    }

    fn ulpdu_len(&self) -> Result<u16> {
        u16::try_from(self.ulpdu.len())
            .map_err(|_| Error::bad_length(Layer::Mpa, "ULPDU_Length", self.ulpdu.len() as u64))
    }

    /// Writes exactly [`len`](Self::len) octets.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        let n = self.ulpdu_len()?;
        let mut f = Fpdu::new_for_ulpdu(out, n)?;
        f.ulpdu_mut().copy_from_slice(self.ulpdu);
        let p = f.pad_len();
        f.pad_mut().copy_from_slice(&self.pad[..p]);
        f.set_crc(self.crc);
        Ok(f.len())
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for FpduRepr<'a> {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(0..=u.len().min(u16::MAX as usize))?;
        let ulpdu = u.bytes(n)?;
        let mut pad: [u8; 3] = u.arbitrary()?;
        pad[pad_len(ulpdu.len())..].fill(0);
        Ok(FpduRepr {
            ulpdu,
            pad,
            crc: u.arbitrary()?,
        })
    }
}

impl fmt::Display for FpduRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MPA FPDU ULPDU_Length={} PAD={} CRC=0x{:08x}",
            self.ulpdu.len(),
            pad_len(self.ulpdu.len()),
            self.crc
        )
    }
}

/// Iterates over the marker-free FPDUs packed back to back in a buffer (a TCP payload whose
/// first octet starts an FPDU). Yields each FPDU, then stops; a short or damaged tail yields one
/// error (with `at` relative to the buffer) and ends the iteration.
#[derive(Debug, Clone)]
pub struct Fpdus<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Fpdus<'a> {
    /// Starts at the first octet of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Fpdus {
            buf,
            pos: 0,
            done: false,
        }
    }

    /// Offset of the next FPDU within the buffer (after the iterator ends: how far it got).
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Fpdus<'a> {
    type Item = Result<(usize, Fpdu<&'a [u8]>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buf.len() {
            return None;
        }
        let at = self.pos;
        match Fpdu::new_checked(&self.buf[at..]) {
            Ok(f) => {
                self.pos += f.len();
                Some(Ok((at, f)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.offset_by(at)))
            }
        }
    }
}

impl core::iter::FusedIterator for Fpdus<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// The lab FPDU of WIRE.md §1.2: Send "abc", QN 0, MSN 1, CRC 0xAA657044.
    #[rustfmt::skip]
    const SEND_ABC: [u8; 28] = [
        0x00, 0x15,             // ULPDU_Length 21
        0x41, 0x43,             // DDP untagged L DV=1 | RDMAP RV=1 Send
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0x61, 0x62, 0x63,       // "abc"
        0x00,                   // PAD (1 octet: 2 + 21 + 1 = 24)
        0x44, 0x70, 0x65, 0xaa, // CRC 0xAA657044, least significant octet first
    ];

    #[test]
    fn deconstruct() {
        let f = Fpdu::new_checked(&SEND_ABC[..]).unwrap();
        assert_eq!(f.ulpdu_len(), 21);
        assert_eq!(f.pad_len(), 1);
        assert_eq!(f.len(), 28);
        assert_eq!(f.ulpdu(), &SEND_ABC[2..23]);
        assert_eq!(f.pad(), &[0]);
        assert_eq!(f.crc(), 0xAA65_7044);
        assert_eq!(f.crc_wireshark(), 0x4470_65aa);
        assert_eq!(f.compute_crc(), 0xAA65_7044);
        assert!(f.verify_crc());
    }

    #[test]
    fn construct() {
        let mut buf = [0xEEu8; 28];
        let mut f = Fpdu::new_for_ulpdu(&mut buf[..], 21).unwrap();
        f.ulpdu_mut().copy_from_slice(&SEND_ABC[2..23]);
        f.fill_crc();
        assert_eq!(buf, SEND_ABC);
    }

    #[test]
    fn parse_and_emit() {
        let r = FpduRepr::parse_bytes(&SEND_ABC).unwrap();
        assert_eq!(r, FpduRepr::with_crc(&SEND_ABC[2..23]).unwrap());
        let mut out = [0u8; 28];
        assert_eq!(r.emit(&mut out).unwrap(), 28);
        assert_eq!(out, SEND_ABC);
        assert_eq!(
            r.to_string(),
            "MPA FPDU ULPDU_Length=21 PAD=1 CRC=0xaa657044"
        );
    }

    #[test]
    fn a_flipped_bit_fails_the_crc_and_nonzero_pad_is_kept() {
        let mut b = SEND_ABC;
        b[21] ^= 0x01;
        assert!(!Fpdu::new_checked(&b[..]).unwrap().verify_crc());
        let mut b = SEND_ABC;
        b[23] = 0x5A; // PAD is CRC-covered and kept verbatim
        let r = FpduRepr::parse_bytes(&b).unwrap();
        assert_eq!(r.pad, [0x5A, 0, 0]);
        let mut out = [0u8; 28];
        r.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn unused_pad_octets_are_not_emitted() {
        // SEND_ABC has one PAD octet: pad[1..] is not on the wire, so a repr with non-zero
        // unused PAD emits the same octets and parses back with them zero (the invariant).
        let mut r = FpduRepr::parse_bytes(&SEND_ABC).unwrap();
        r.pad = [0, 0xAA, 0xBB];
        let mut out = [0u8; 28];
        r.emit(&mut out).unwrap();
        assert_eq!(out, SEND_ABC);
        assert_eq!(r.compute_crc().unwrap(), 0xAA65_7044);
        assert_eq!(FpduRepr::parse_bytes(&out).unwrap().pad, [0, 0, 0]);
    }

    #[test]
    fn pad_lengths() {
        assert_eq!(
            (0..8).map(pad_len).collect::<Vec<_>>(),
            [2, 1, 0, 3, 2, 1, 0, 3]
        );
        assert_eq!(fpdu_len(0), 8);
        assert_eq!(fpdu_len(42), 48);
        // Absurd lengths neither overflow nor panic.
        assert_eq!(pad_len(usize::MAX), pad_len(3));
        assert_eq!(pad_len(usize::MAX - 1), pad_len(2));
        assert_eq!(fpdu_len(usize::MAX), usize::MAX);
        assert_eq!(fpdu_len(usize::MAX - 9), usize::MAX - 3);
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..SEND_ABC.len() {
            let e = Fpdu::new_checked(&SEND_ABC[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Mpa);
            let needed = if n < 2 { 2 } else { 28 };
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: nd, got, .. } if nd == needed && got == n),
                "prefix {n}: {e}"
            );
        }
    }

    #[test]
    fn impossible_length_field() {
        let mut b = SEND_ABC;
        b[0] = 0xFF; // ULPDU_Length 0xFF15: far beyond the buffer
        let e = Fpdu::new_checked(&b[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MPA: truncated FPDU: need 65308 bytes, have 28 (at byte 0)"
        );
        let big = vec![0u8; 70_000];
        let e = FpduRepr::with_crc(&big).unwrap_err();
        assert_eq!(e.to_string(), "MPA: bad ULPDU_Length 70000 (at byte 0)");
    }

    #[test]
    fn iterates_back_to_back_fpdus_and_stops_at_a_short_tail() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&SEND_ABC);
        stream.extend_from_slice(&SEND_ABC);
        stream.extend_from_slice(&SEND_ABC[..10]);
        let mut it = Fpdus::new(&stream);
        assert_eq!(it.next().unwrap().unwrap().0, 0);
        assert_eq!(it.next().unwrap().unwrap().0, 28);
        let e = it.next().unwrap().unwrap_err();
        assert_eq!(e.at, 56);
        assert!(it.next().is_none());
        assert_eq!(it.offset(), 56);
    }
}
