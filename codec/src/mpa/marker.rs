//! MPA markers (RFC 5044 §5; WIRE.md §1.3): insertion, removal and FPDUPTR validation.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |           RESERVED            |            FPDUPTR            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Markers sit every 512 octets of TCP sequence space, counted from the **marker origin**: the
//! sequence number of the first marker, which is the first octet of the first FPDU of Full
//! Operation in that direction. Functions here take a *stream position*: the wrapping difference
//! `seq − origin` of the buffer's first octet. A marker starts wherever
//! `position % 512 == 0`.
//!
//! FPDUPTR is the distance in stream octets from the first octet of the containing FPDU's
//! ULPDU_Length to the marker (any markers in between included); a marker that sits between two
//! FPDUs points nowhere (0) and belongs to the FPDU that follows it. Its two low bits are zero on
//! transmit and ignored on receipt. The FPDU's CRC covers every octet from the FPDU's first
//! octet (a leading marker included) up to its CRC field, markers included.

use core::fmt;

use super::fpdu::{Fpdu, crc32c, field as fpdu_field};
use crate::bytes::{be16, put_be16};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges of a marker.
pub mod field {
    use core::ops::Range;

    /// The reserved half.
    pub const RESERVED: Range<usize> = 0..2;
    /// FPDUPTR.
    pub const FPDUPTR: Range<usize> = 2..4;
    /// Marker length.
    pub const LEN: usize = 4;
    /// FPDUPTR bits that carry meaning (the two low bits are ignored on receipt).
    pub const FPDUPTR_MASK: u16 = 0xFFFC;
}

/// Distance between markers in TCP sequence space.
pub const MARKER_INTERVAL: u32 = 512;

/// Data octets between two markers.
const DATA_PER_INTERVAL: usize = MARKER_INTERVAL as usize - field::LEN;

/// A view of one 4-octet marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> Marker<B> {
    /// Wraps `buf` after checking it holds four octets.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(buf.as_ref(), field::LEN, Layer::Marker, "marker")?;
        Ok(Marker { buf })
    }
    /// The reserved half (zero on transmit, not checked on receipt, CRC-covered).
    pub fn reserved(&self) -> u16 {
        be16(self.buf.as_ref(), field::RESERVED)
    }
    /// FPDUPTR as found.
    pub fn fpduptr(&self) -> u16 {
        be16(self.buf.as_ref(), field::FPDUPTR)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Marker<B> {
    /// Sets the reserved half.
    pub fn set_reserved(&mut self, v: u16) {
        put_be16(self.buf.as_mut(), field::RESERVED, v);
    }
    /// Sets FPDUPTR.
    pub fn set_fpduptr(&mut self, v: u16) {
        put_be16(self.buf.as_mut(), field::FPDUPTR, v);
    }
}

/// A marker, owned and lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct MarkerRepr {
    /// The reserved half.
    pub reserved: u16,
    /// FPDUPTR.
    pub fpduptr: u16,
}

impl MarkerRepr {
    /// Reads a marker view.
    pub fn parse<B: AsRef<[u8]>>(m: &Marker<B>) -> Self {
        MarkerRepr {
            reserved: m.reserved(),
            fpduptr: m.fpduptr(),
        }
    }
    /// Decodes the marker at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        Marker::new_checked(buf).map(|m| Self::parse(&m))
    }
    /// Writes four octets.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::LEN, Layer::Marker, "output buffer")?;
        let mut m = Marker { buf: out };
        m.set_reserved(self.reserved);
        m.set_fpduptr(self.fpduptr);
        Ok(field::LEN)
    }
}

impl fmt::Display for MarkerRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MPA marker FPDUPTR={}", self.fpduptr)?;
        if self.reserved != 0 {
            write!(f, " Reserved=0x{:04x}", self.reserved)?;
        }
        Ok(())
    }
}

/// Offset, from a buffer starting at stream position `start`, of the first marker at or after it.
///
/// A buffer may begin inside a marker (`start % 512` in 1..=3): that marker's remaining
/// octets come first (see [`leading_marker_len`]) and `first_marker` names the next one.
#[inline]
pub const fn first_marker(start: u32) -> usize {
    ((MARKER_INTERVAL - start % MARKER_INTERVAL) % MARKER_INTERVAL) as usize
}

/// Marker octets at the very start of a buffer that begins inside a marker: `4 - start % 512`
/// when `start % 512` is 1, 2 or 3, else 0. They are marker, not data.
#[inline]
pub const fn leading_marker_len(start: u32) -> usize {
    let r = (start % MARKER_INTERVAL) as usize;
    if r != 0 && r < field::LEN {
        field::LEN - r
    } else {
        0
    }
}

/// Where the `logical`-th data octet (counting only non-marker octets) of a buffer that starts at
/// stream position `start` sits in the buffer with markers (saturating at `usize::MAX`).
#[inline]
pub const fn wire_offset(start: u32, logical: usize) -> usize {
    let lead = leading_marker_len(start);
    // Data octets before the first whole marker.
    let before = first_marker(start) - lead;
    if logical < before {
        lead + logical
    } else {
        let markers = (logical - before) / DATA_PER_INTERVAL + 1;
        logical
            .saturating_add(lead)
            .saturating_add(markers.saturating_mul(field::LEN))
    }
}

/// Octets on the wire for `logical_len` data octets starting at stream position `start`
/// (saturating at `usize::MAX`). A marker due right after the last data octet is not counted
/// (it belongs to what follows); the tail of a marker the buffer begins in is.
#[inline]
pub const fn wire_len(start: u32, logical_len: usize) -> usize {
    if logical_len == 0 {
        0
    } else {
        wire_offset(start, logical_len - 1).saturating_add(1)
    }
}

/// Data octets in the first `wire_len` octets of a buffer starting at stream position `start`
/// (the tail of a marker the buffer begins in, and a marker cut short at the end, count as
/// marker).
pub const fn stripped_len(start: u32, wire_len: usize) -> usize {
    let lead = leading_marker_len(start);
    if wire_len <= lead {
        return 0;
    }
    let wire_len = wire_len - lead;
    let before = first_marker(start) - lead;
    if wire_len <= before {
        return wire_len;
    }
    let after = wire_len - before;
    let whole = after / MARKER_INTERVAL as usize;
    let rest = after % MARKER_INTERVAL as usize;
    before + whole * DATA_PER_INTERVAL + rest.saturating_sub(field::LEN)
}

/// Copies the data octets of `wire` (which starts at stream position `start`) into `out`,
/// dropping every marker: also the tail of one the buffer begins in, and one cut short at the
/// end. Returns the number of octets written. Nothing is validated: see [`MarkedFpdu`] for
/// FPDUPTR checks.
pub fn strip_markers(wire: &[u8], start: u32, out: &mut [u8]) -> Result<usize> {
    let n = stripped_len(start, wire.len());
    need(out, n, Layer::Marker, "output buffer")?;
    let mut w = leading_marker_len(start).min(wire.len());
    let mut o = 0;
    let mut next = first_marker(start);
    while w < wire.len() {
        let chunk_end = next.min(wire.len());
        let len = chunk_end - w;
        out[o..o + len].copy_from_slice(&wire[w..chunk_end]);
        o += len;
        w = (next + field::LEN).min(wire.len()).max(chunk_end);
        next += MARKER_INTERVAL as usize;
    }
    debug_assert_eq!(o, n);
    Ok(n)
}

/// Iterates over the whole markers in a buffer that starts at stream position `start`, yielding
/// each one's offset in the buffer and its contents. Neither the tail of a marker the buffer
/// begins in nor a marker cut short at the end is yielded.
pub fn markers(wire: &[u8], start: u32) -> Markers<'_> {
    Markers {
        wire,
        next: first_marker(start),
    }
}

/// Iterator returned by [`markers`].
#[derive(Debug, Clone)]
pub struct Markers<'a> {
    wire: &'a [u8],
    next: usize,
}

impl Iterator for Markers<'_> {
    type Item = (usize, MarkerRepr);

    fn next(&mut self) -> Option<Self::Item> {
        let at = self.next;
        let m = MarkerRepr::parse_bytes(self.wire.get(at..)?).ok()?;
        self.next += MARKER_INTERVAL as usize;
        Some((at, m))
    }
}

/// One marker inside a [`MarkedFpdu`], with the FPDUPTR it should hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerCheck {
    /// Offset of the marker within the FPDU's wire octets.
    pub offset: usize,
    /// The marker as found.
    pub marker: MarkerRepr,
    /// The FPDUPTR the marker's position implies.
    pub expected: u32,
}

impl MarkerCheck {
    /// True when FPDUPTR equals the expected distance, the two low bits of both ignored. A
    /// distance beyond 65535, which no FPDUPTR can express, is never valid.
    pub fn is_valid(&self) -> bool {
        let mask = u32::from(field::FPDUPTR_MASK);
        self.expected <= u32::from(u16::MAX)
            && u32::from(self.marker.fpduptr) & mask == self.expected & mask
    }
}

/// One FPDU as it is on the wire in a direction with markers: zero-copy over the wire octets.
///
/// Built by [`MarkedFpdu::new_checked`] or [`MarkedFpdus`]; read the ULPDU by stripping the
/// markers into a buffer with [`MarkedFpdu::strip_into`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkedFpdu<'a> {
    wire: &'a [u8],
    start: u32,
    ulpdu_len: u16,
}

impl<'a> MarkedFpdu<'a> {
    /// Finds the FPDU at the start of `wire`, which sits at stream position `start`: reads
    /// ULPDU_Length past any marker and checks that every octet of the FPDU is present.
    pub fn new_checked(wire: &'a [u8], start: u32) -> Result<Self> {
        let hi = wire_offset(start, 0);
        let lo = wire_offset(start, 1);
        need(wire, lo + 1, Layer::Mpa, "ULPDU_Length")?;
        let ulpdu_len = u16::from_be_bytes([wire[hi], wire[lo]]);
        let total = wire_len(start, super::fpdu::fpdu_len(ulpdu_len as usize));
        need(wire, total, Layer::Mpa, "FPDU")?;
        Ok(MarkedFpdu {
            wire: &wire[..total],
            start,
            ulpdu_len,
        })
    }

    /// ULPDU_Length.
    pub fn ulpdu_len(&self) -> u16 {
        self.ulpdu_len
    }

    /// Stream position of the FPDU's first octet (a leading marker's, if it has one).
    pub fn start(&self) -> u32 {
        self.start
    }

    /// Length without markers: 2 + ULPDU_Length + PAD + 4.
    pub fn stripped_len(&self) -> usize {
        super::fpdu::fpdu_len(self.ulpdu_len as usize)
    }

    /// Length on the wire, markers included.
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// The FPDU's wire octets, markers included.
    pub fn wire(&self) -> &'a [u8] {
        self.wire
    }

    /// Offset of ULPDU_Length in the wire octets: 4 when the FPDU begins with a marker, 1 to 3
    /// when `start` lies inside one (never for a real FPDU: those start 4-aligned), else 0.
    pub fn header_offset(&self) -> usize {
        wire_offset(self.start, 0)
    }

    /// Where the `logical`-th octet of the marker-free FPDU sits in the wire octets.
    pub fn wire_offset(&self, logical: usize) -> usize {
        wire_offset(self.start, logical)
    }

    /// Every marker in the FPDU, with the FPDUPTR its position implies.
    pub fn markers(&self) -> impl Iterator<Item = MarkerCheck> + 'a {
        let header = self.header_offset();
        markers(self.wire, self.start).map(move |(offset, marker)| MarkerCheck {
            offset,
            marker,
            expected: offset.saturating_sub(header) as u32,
        })
    }

    /// The first marker whose FPDUPTR is wrong (MPA error 3), if any.
    pub fn first_bad_marker(&self) -> Option<MarkerCheck> {
        self.markers().find(|m| !m.is_valid())
    }

    fn crc_start(&self) -> usize {
        self.wire_offset(self.stripped_len() - fpdu_field::CRC_LEN)
    }

    /// The CRC field's four octets as they are on the wire.
    pub fn crc_bytes(&self) -> [u8; 4] {
        let base = self.stripped_len() - fpdu_field::CRC_LEN;
        core::array::from_fn(|i| self.wire[self.wire_offset(base + i)])
    }

    /// The CRC field's value (wire octets read least significant first).
    pub fn crc(&self) -> u32 {
        u32::from_le_bytes(self.crc_bytes())
    }

    /// The CRC field's octets read big-endian, as Wireshark prints `iwarp_mpa.crc`.
    pub fn crc_wireshark(&self) -> u32 {
        u32::from_be_bytes(self.crc_bytes())
    }

    /// CRC-32C over every wire octet before the CRC field, markers included.
    pub fn compute_crc(&self) -> u32 {
        crc32c(&self.wire[..self.crc_start()])
    }

    /// True when the CRC field matches [`compute_crc`](Self::compute_crc).
    pub fn verify_crc(&self) -> bool {
        self.crc() == self.compute_crc()
    }

    /// Copies the FPDU without its markers into `out` and returns a view of the copy.
    pub fn strip_into<'o>(&self, out: &'o mut [u8]) -> Result<Fpdu<&'o mut [u8]>> {
        let n = strip_markers(self.wire, self.start, out)?;
        Fpdu::new_checked(&mut out[..n])
    }
}

/// Writes `fpdu` (one marker-free FPDU, as [`Fpdu`] lays it out) to `out` with markers inserted
/// for stream position `start`, each FPDUPTR set. With `fill_crc` the CRC is recomputed over the
/// wire octets (markers included, see [`fill_marked_crc`]); otherwise the CRC field is copied as
/// it is. Returns the number of octets written.
///
/// Fails when `start` is not a multiple of 4 (FPDUs start on 4-octet stream boundaries, so
/// FPDUPTR's two low bits are zero on transmit), and when a marker would sit more than 65535
/// octets after ULPDU_Length, where FPDUPTR cannot reach (only FPDUs larger than any TCP
/// segment get there).
pub fn emit_marked(fpdu: &[u8], start: u32, out: &mut [u8], fill_crc: bool) -> Result<usize> {
    if start % 4 != 0 {
        return Err(Error::unsupported(
            Layer::Marker,
            "stream position not 4-aligned",
        ));
    }
    let f = Fpdu::new_checked(fpdu)?;
    let logical = f.len();
    let total = wire_len(start, logical);
    need(out, total, Layer::Mpa, "output buffer")?;
    let header = wire_offset(start, 0);
    let mut w = 0;
    let mut l = 0;
    let mut next = first_marker(start);
    while w < total {
        if w == next {
            let distance = w.saturating_sub(header);
            let fpduptr = u16::try_from(distance)
                .map_err(|_| Error::bad_length(Layer::Marker, "FPDUPTR", distance as u64).at(w))?;
            MarkerRepr {
                reserved: 0,
                fpduptr,
            }
            .emit(&mut out[w..])?;
            w += field::LEN;
            next += MARKER_INTERVAL as usize;
            continue;
        }
        let len = (next - w).min(total - w);
        out[w..w + len].copy_from_slice(&fpdu[l..l + len]);
        w += len;
        l += len;
    }
    if fill_crc {
        fill_marked_crc(&mut out[..total], start)?;
    }
    Ok(total)
}

/// Recomputes the CRC of the marked FPDU at the start of `wire` (stream position `start`) over
/// every wire octet before the CRC field, markers included, and writes it to the CRC field's
/// octets (wherever markers put them). Returns the FPDU's wire length.
///
/// For fault injection: patch a marker (a wrong FPDUPTR, a non-zero reserved half) after
/// [`emit_marked`], then call this so that only the marker is wrong, not the CRC.
pub fn fill_marked_crc(wire: &mut [u8], start: u32) -> Result<usize> {
    let m = MarkedFpdu::new_checked(wire, start)?;
    let crc = m.compute_crc().to_le_bytes();
    let base = m.stripped_len() - fpdu_field::CRC_LEN;
    let total = m.wire_len();
    for (i, b) in crc.iter().enumerate() {
        wire[wire_offset(start, base + i)] = *b;
    }
    Ok(total)
}

/// Iterates over the FPDUs of a buffer with markers that starts on an FPDU boundary (or on the
/// marker before one) at stream position `start`. A short or damaged tail yields one error and
/// ends the iteration.
#[derive(Debug, Clone)]
pub struct MarkedFpdus<'a> {
    wire: &'a [u8],
    pos: usize,
    start: u32,
    done: bool,
}

impl<'a> MarkedFpdus<'a> {
    /// Starts at the first octet of `wire`, at stream position `start`.
    pub fn new(wire: &'a [u8], start: u32) -> Self {
        MarkedFpdus {
            wire,
            pos: 0,
            start,
            done: false,
        }
    }

    /// Offset of the next FPDU within the buffer.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Stream position of the next FPDU.
    pub fn position(&self) -> u32 {
        self.start
    }
}

impl<'a> Iterator for MarkedFpdus<'a> {
    type Item = Result<(usize, MarkedFpdu<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.wire.len() {
            return None;
        }
        let at = self.pos;
        match MarkedFpdu::new_checked(&self.wire[at..], self.start) {
            Ok(f) => {
                self.pos += f.wire_len();
                self.start = self.start.wrapping_add(f.wire_len() as u32);
                Some(Ok((at, f)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.offset_by(at)))
            }
        }
    }
}

impl core::iter::FusedIterator for MarkedFpdus<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// RFC 5044's first example FPDU (WIRE.md §1.2, "Fig. 5"): the first FPDU of the stream, so it
    /// starts with a marker, and the CRC covers that marker.
    #[rustfmt::skip]
    pub(crate) const RFC5044_FIG5: [u8; 52] = [
        0x00, 0x00, 0x00, 0x00, // marker: Reserved 0, FPDUPTR 0
        0x00, 0x2a,             // ULPDU_Length 42
        0x41, 0x43,             // DDP untagged L DV=1 | RDMAP RV=1 Send
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x01, // MSN 1
        0x00, 0x00, 0x00, 0x00, // MO 0
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 24 payload octets
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x52, 0x23, 0x99, 0x83, // CRC 0x83992352, least significant octet first
    ];

    /// The second example ("Fig. 6"): a marker 20 octets into the FPDU, FPDUPTR 0x0014; the FPDU
    /// therefore starts at stream position 512 − 20.
    #[rustfmt::skip]
    pub(crate) const RFC5044_FIG6: [u8; 52] = [
        0x00, 0x2a,             // ULPDU_Length 42
        0x41, 0x43,             // DDP untagged L DV=1 | RDMAP RV=1 Send
        0x00, 0x00, 0x00, 0x00, // RsvdULP[8:39]
        0x00, 0x00, 0x00, 0x00, // QN 0
        0x00, 0x00, 0x00, 0x02, // MSN 2
        0x00, 0x00, 0x00, 0x00, // MO 0
        0x00, 0x00, 0x00, 0x14, // marker: Reserved 0, FPDUPTR 20
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 24 payload octets
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x84, 0x92, 0x58, 0x98, // CRC 0x98589284
    ];
    pub(crate) const FIG6_START: u32 = 512 - 20;

    #[test]
    fn rfc5044_fig5_decodes_with_good_crc() {
        let m = MarkedFpdu::new_checked(&RFC5044_FIG5, 0).unwrap();
        assert_eq!(m.ulpdu_len(), 42);
        assert_eq!(m.header_offset(), 4);
        assert_eq!(m.wire_len(), 52);
        assert_eq!(m.stripped_len(), 48);
        assert_eq!(m.crc(), 0x8399_2352);
        assert!(m.verify_crc());
        let checks: Vec<_> = m.markers().collect();
        assert_eq!(checks.len(), 1);
        assert_eq!((checks[0].offset, checks[0].expected), (0, 0));
        assert!(checks[0].is_valid());
    }

    #[test]
    fn rfc5044_fig6_decodes_with_good_crc_and_fpduptr_20() {
        let m = MarkedFpdu::new_checked(&RFC5044_FIG6, FIG6_START).unwrap();
        assert_eq!(m.header_offset(), 0);
        assert_eq!(m.crc(), 0x9858_9284);
        assert!(m.verify_crc());
        let checks: Vec<_> = m.markers().collect();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].offset, 20);
        assert_eq!(checks[0].marker.fpduptr, 0x14);
        assert!(checks[0].is_valid());
        assert!(m.first_bad_marker().is_none());

        let mut buf = [0u8; 64];
        let f = m.strip_into(&mut buf).unwrap();
        assert_eq!(f.len(), 48);
        assert_eq!(&f.ulpdu()[..20], &RFC5044_FIG6[2..22]);
        assert!(f.ulpdu()[20..].iter().all(|&b| b == 0));
    }

    #[test]
    fn emit_marked_rebuilds_both_figures() {
        // Strip, then insert again with the CRC recomputed over the markers.
        for (wire, start) in [(&RFC5044_FIG5, 0), (&RFC5044_FIG6, FIG6_START)] {
            let m = MarkedFpdu::new_checked(wire, start).unwrap();
            let mut plain = [0u8; 48];
            let f = m.strip_into(&mut plain).unwrap();
            assert_eq!(f.len(), 48);
            plain[44..].fill(0); // forget the CRC
            let mut out = [0u8; 52];
            assert_eq!(emit_marked(&plain, start, &mut out, true).unwrap(), 52);
            assert_eq!(&out, wire);
        }
    }

    #[test]
    fn a_wrong_fpduptr_is_reported_and_low_bits_are_ignored() {
        let mut w = RFC5044_FIG6;
        w[23] = 0x17; // 0x14 with the two ignored low bits set
        let m = MarkedFpdu::new_checked(&w, FIG6_START).unwrap();
        assert!(m.first_bad_marker().is_none());
        w[23] = 0x18;
        let m = MarkedFpdu::new_checked(&w, FIG6_START).unwrap();
        let bad = m.first_bad_marker().unwrap();
        assert_eq!(
            (bad.offset, bad.marker.fpduptr, bad.expected),
            (20, 0x18, 20)
        );
        // The CRC covers the marker, so it fails too.
        assert!(!m.verify_crc());
    }

    #[test]
    fn offsets_and_lengths() {
        assert_eq!(first_marker(0), 0);
        assert_eq!(first_marker(1), 511);
        assert_eq!(first_marker(492), 20);
        assert_eq!(first_marker(u32::MAX), 1);
        assert_eq!(wire_offset(0, 0), 4);
        assert_eq!(wire_offset(0, 507), 511);
        assert_eq!(wire_offset(0, 508), 516);
        assert_eq!(wire_offset(492, 19), 19);
        assert_eq!(wire_offset(492, 20), 24);
        assert_eq!(wire_len(492, 48), 52);
        assert_eq!(wire_len(0, 0), 0);
        for start in STARTS {
            for n in 0..1600 {
                let w = wire_len(start, n);
                assert_eq!(stripped_len(start, w), n, "start {start} n {n}");
            }
        }
    }

    /// The reference: octet `i` of a buffer at stream position `start` is marker exactly when
    /// `(start + i) % 512 < 4`.
    fn is_marker_octet(start: u32, i: usize) -> bool {
        start.wrapping_add(i as u32) % MARKER_INTERVAL < 4
    }

    const STARTS: [u32; 14] = [
        0,
        1,
        2,
        3,
        4,
        5,
        492,
        508,
        509,
        510,
        511,
        512 + 2,
        u32::MAX - 2,
        u32::MAX,
    ];

    #[test]
    fn buffers_starting_inside_a_marker_match_the_brute_force_reference() {
        assert_eq!(
            (1..=4).map(leading_marker_len).collect::<Vec<_>>(),
            [3, 2, 1, 0]
        );
        let wire: Vec<u8> = (0..1700u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut out = vec![0u8; wire.len()];
        for start in STARTS {
            for len in 0..wire.len() {
                let buf = &wire[..len];
                let expected: Vec<u8> = (0..len)
                    .filter(|&i| !is_marker_octet(start, i))
                    .map(|i| buf[i])
                    .collect();
                let n = strip_markers(buf, start, &mut out).unwrap();
                assert_eq!(&out[..n], &expected[..], "strip start {start} len {len}");
                assert_eq!(stripped_len(start, len), n, "stripped_len {start} {len}");
                let whole: Vec<usize> = (0..len.saturating_sub(3))
                    .filter(|&i| start.wrapping_add(i as u32) % MARKER_INTERVAL == 0)
                    .collect();
                let found: Vec<usize> = markers(buf, start).map(|(at, _)| at).collect();
                assert_eq!(found, whole, "markers start {start} len {len}");
            }
            // wire_offset / wire_len: where the k-th data octet sits.
            let data: Vec<usize> = (0..wire.len())
                .filter(|&i| !is_marker_octet(start, i))
                .collect();
            for (k, &at) in data.iter().enumerate() {
                assert_eq!(wire_offset(start, k), at, "wire_offset {start} {k}");
                assert_eq!(wire_len(start, k + 1), at + 1, "wire_len {start} {}", k + 1);
            }
        }
    }

    #[test]
    fn a_marked_fpdu_starting_inside_a_marker_skips_its_tail() {
        // Not something a sender emits (FPDUs start 4-aligned), but a receiver that lost
        // alignment may ask: the tail of the marker is not ULPDU_Length.
        let f = crate::mpa::FpduRepr::with_crc(&[0xAB; 600]).unwrap();
        let mut plain = vec![0u8; f.len()];
        f.emit(&mut plain).unwrap();
        for start in [1u32, 2, 3, 512 * 9 + 2] {
            let lead = leading_marker_len(start);
            // Build the wire octets by the reference rule; markers hold 0xEE.
            let mut wire = Vec::new();
            let mut data = plain.iter();
            let mut i = 0;
            while data.len() > 0 {
                if is_marker_octet(start, i) {
                    wire.push(0xEE);
                } else {
                    wire.push(*data.next().unwrap());
                }
                i += 1;
            }
            assert_eq!(wire.len(), wire_len(start, plain.len()));
            let m = MarkedFpdu::new_checked(&wire, start).unwrap();
            assert_eq!((m.header_offset(), m.ulpdu_len()), (lead, 600));
            assert_eq!(m.wire_len(), wire.len());
            // One whole marker inside (at stream position 512 after the start), no partial one.
            let checks: Vec<_> = m.markers().collect();
            assert_eq!(checks.len(), 1, "start {start}");
            assert_eq!(checks[0].offset, first_marker(start));
            assert_eq!(checks[0].expected as usize, first_marker(start) - lead);
            let mut back = vec![0u8; plain.len()];
            let s = m.strip_into(&mut back).unwrap();
            assert_eq!(s.ulpdu(), &[0xAB; 600][..]);
            assert_eq!(back, plain);
        }
    }

    #[test]
    fn length_helpers_saturate_instead_of_overflowing() {
        assert_eq!(wire_offset(0, usize::MAX - 2), usize::MAX);
        assert_eq!(wire_offset(1, usize::MAX), usize::MAX);
        assert_eq!(wire_len(0, usize::MAX), usize::MAX);
        assert_eq!(wire_len(511, usize::MAX), usize::MAX);
        assert!(stripped_len(0, usize::MAX) < usize::MAX);
        assert_eq!(stripped_len(2, 2), 0);
    }

    #[test]
    fn strip_drops_a_marker_cut_short_at_the_end() {
        // 10 data octets, a marker at offset 10, then 2 of its octets.
        let wire: Vec<u8> = (0..14u8).collect();
        let mut out = [0u8; 16];
        let n = strip_markers(&wire[..12], 502, &mut out).unwrap();
        assert_eq!(&out[..n], &wire[..10]);
        let n = strip_markers(&wire, 502, &mut out).unwrap();
        assert_eq!(n, 10);
    }

    #[test]
    fn many_fpdus_per_segment_across_markers() {
        // Ten Sends laid out from the origin. With the leading marker, three FPDUs of 108
        // octets and one of 184 (ULPDU 178), FPDU 3 ends exactly on the 512 boundary: the
        // marker there sits between FPDUs 3 and 4, holds FPDUPTR 0 and belongs to FPDU 4.
        // FPDU 8 (from 948) then has a marker inside it, at 1024.
        let sizes = [100u16, 100, 100, 178, 100, 100, 100, 100, 100, 100];
        let mut wire = vec![0u8; 2048];
        let mut w = 0;
        let mut start = 0u32;
        for (i, &n) in sizes.iter().enumerate() {
            let mut fpdu = vec![0u8; crate::mpa::fpdu_len(n.into())];
            let mut f = Fpdu::new_for_ulpdu(&mut fpdu[..], n).unwrap();
            f.ulpdu_mut().fill(i as u8);
            f.fill_crc();
            let n = emit_marked(&fpdu, start, &mut wire[w..], true).unwrap();
            w += n;
            start += n as u32;
        }
        wire.truncate(w);
        let got: Vec<_> = MarkedFpdus::new(&wire, 0).collect::<Result<_>>().unwrap();
        assert_eq!(got.len(), sizes.len());
        for (i, (_, m)) in got.iter().enumerate() {
            assert!(m.verify_crc(), "FPDU {i}");
            assert!(m.first_bad_marker().is_none(), "FPDU {i}");
            let mut buf = [0u8; 184];
            let f = m.strip_into(&mut buf).unwrap();
            assert!(f.ulpdu().iter().all(|&b| b == i as u8));
        }
        assert_eq!(markers(&wire, 0).count(), w.div_ceil(512));

        // FPDU 3 ends on the boundary and holds no marker of its own.
        let (at3, m3) = got[3];
        assert_eq!(at3 + m3.wire_len(), 512);
        assert_eq!(m3.markers().count(), 0);
        // The marker at 512 opens FPDU 4: FPDUPTR 0, ULPDU_Length right after it.
        let (at4, m4) = got[4];
        assert_eq!((at4, m4.header_offset()), (512, 4));
        assert_eq!(&wire[512..518], &[0, 0, 0, 0, 0, 100]);
        let first = m4.markers().next().unwrap();
        assert_eq!(
            (first.offset, first.marker.fpduptr, first.expected),
            (0, 0, 0)
        );
        // FPDU 8 has a marker inside it, pointing back at its ULPDU_Length.
        let (at8, m8) = got[8];
        let inside = m8.markers().next().unwrap();
        assert_eq!(at8 + inside.offset, 1024);
        assert_eq!(u32::from(inside.marker.fpduptr), inside.expected);
        assert_eq!(inside.expected as usize, 1024 - at8);

        // The CRC of FPDU 4, not FPDU 3, covers the marker between them.
        wire[513] = 0x5A; // its reserved half: not checked, but CRC-covered
        let again: Vec<_> = MarkedFpdus::new(&wire, 0).collect::<Result<_>>().unwrap();
        assert!(again[3].1.verify_crc());
        assert!(!again[4].1.verify_crc());
        assert!(again[4].1.first_bad_marker().is_none());
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..RFC5044_FIG5.len() {
            let e = MarkedFpdu::new_checked(&RFC5044_FIG5[..n], 0).unwrap_err();
            assert_eq!(e.layer, Layer::Mpa);
            assert!(matches!(e.kind, ErrorKind::Truncated { got, .. } if got == n));
        }
        for n in 0..4 {
            assert!(Marker::new_checked(&[0u8; 4][..n]).is_err());
        }
    }

    #[test]
    fn impossible_length_field() {
        let mut w = RFC5044_FIG5;
        w[4] = 0xFF;
        let e = MarkedFpdu::new_checked(&w, 0).unwrap_err();
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                what: "FPDU",
                got: 52,
                ..
            }
        ));
    }

    #[test]
    fn a_marker_beyond_fpduptr_reach_is_refused() {
        // ULPDU_Length 65535 from the marker origin: the last markers sit more than 65535
        // octets after ULPDU_Length, which a 16-bit FPDUPTR cannot express.
        let big = vec![0u8; 65535];
        let f = crate::mpa::FpduRepr::with_crc(&big).unwrap();
        let mut plain = vec![0u8; f.len()];
        f.emit(&mut plain).unwrap();
        let mut wire = vec![0u8; plain.len() + 4 * 130];
        let e = emit_marked(&plain, 0, &mut wire, true).unwrap_err();
        assert_eq!(e.layer, Layer::Marker);
        assert!(
            matches!(e.kind, ErrorKind::BadLength { field: "FPDUPTR", value } if value > 65535)
        );
        // A shorter FPDU keeps every marker within reach: ULPDU 60000 from the origin puts its
        // last marker (at 118 * 512) 60412 octets after ULPDU_Length.
        let f = crate::mpa::FpduRepr::with_crc(&big[..60000]).unwrap();
        f.emit(&mut plain).unwrap();
        let n = emit_marked(&plain[..f.len()], 0, &mut wire, true).unwrap();
        let m = MarkedFpdu::new_checked(&wire[..n], 0).unwrap();
        assert!(m.verify_crc() && m.first_bad_marker().is_none());
        assert_eq!(m.markers().last().unwrap().expected, 60412);
        // An empty buffer holds no FPDU at all: refused as truncated.
        let e = emit_marked(&plain[..0], 0, &mut wire, true).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
    }

    #[test]
    fn emit_marked_refuses_a_stream_position_that_is_not_4_aligned() {
        // The review's case: start 2 would give FPDUPTR 510, low bits set.
        let f = crate::mpa::FpduRepr::with_crc(&[0u8; 600]).unwrap();
        let mut plain = vec![0u8; f.len()];
        f.emit(&mut plain).unwrap();
        let mut wire = vec![0u8; 700];
        for start in [1u32, 2, 3, 514, u32::MAX] {
            let e = emit_marked(&plain, start, &mut wire, true).unwrap_err();
            assert_eq!(
                e.to_string(),
                "MPA marker: unsupported: stream position not 4-aligned (at byte 0)"
            );
        }
        assert!(emit_marked(&plain, 4, &mut wire, true).is_ok());
    }

    #[test]
    fn is_valid_masks_the_low_bits_of_both_sides() {
        let check = |fpduptr: u16, expected: u32| MarkerCheck {
            offset: 0,
            marker: MarkerRepr {
                reserved: 0,
                fpduptr,
            },
            expected,
        };
        assert!(check(510, 510).is_valid());
        assert!(check(508, 510).is_valid());
        assert!(check(511, 509).is_valid());
        assert!(!check(512, 510).is_valid());
        assert!(check(0xFFFF, 0xFFFC).is_valid());
        // Beyond FPDUPTR's reach, even when the low 16 bits agree.
        assert!(!check(0, 0x1_0000).is_valid());
        assert!(!check(0xFFFC, 0x1_FFFC).is_valid());
    }

    #[test]
    fn fill_marked_crc_after_patching_a_marker() {
        // Fig. 6 with a wrong FPDUPTR (0x18) and a non-zero reserved half: only the marker is
        // wrong once the CRC is refilled.
        let mut w = RFC5044_FIG6;
        w[20..24].copy_from_slice(&[0xAB, 0xCD, 0x00, 0x18]);
        assert!(
            !MarkedFpdu::new_checked(&w, FIG6_START)
                .unwrap()
                .verify_crc()
        );
        assert_eq!(fill_marked_crc(&mut w, FIG6_START).unwrap(), 52);
        let m = MarkedFpdu::new_checked(&w, FIG6_START).unwrap();
        assert!(m.verify_crc());
        let bad = m.first_bad_marker().unwrap();
        assert_eq!(
            (bad.offset, bad.marker.fpduptr, bad.expected),
            (20, 0x18, 20)
        );
        assert_eq!(bad.marker.reserved, 0xABCD);
        // Undone, the CRC field is the figure's again.
        w[20..24].copy_from_slice(&[0, 0, 0, 0x14]);
        fill_marked_crc(&mut w, FIG6_START).unwrap();
        assert_eq!(w, RFC5044_FIG6);
        // A marker right before the CRC field, which that CRC covers: ULPDU 506 from the origin
        // puts the marker at 512 and the CRC field at 516.
        let f = crate::mpa::FpduRepr::with_crc(&[7u8; 506]).unwrap();
        let mut plain = vec![0u8; f.len()];
        f.emit(&mut plain).unwrap();
        let mut wire = vec![0u8; 520];
        let n = emit_marked(&plain, 0, &mut wire, false).unwrap();
        assert_eq!(n, 520);
        let m = MarkedFpdu::new_checked(&wire[..n], 0).unwrap();
        assert_eq!(m.markers().nth(1).unwrap().offset, 512);
        assert_eq!(m.wire_offset(508), 516);
        assert!(!m.verify_crc(), "the copied CRC does not cover the markers");
        fill_marked_crc(&mut wire[..n], 0).unwrap();
        assert!(MarkedFpdu::new_checked(&wire[..n], 0).unwrap().verify_crc());
        // Too short a buffer is an error, not a panic.
        assert!(fill_marked_crc(&mut wire[..10], 0).is_err());
    }

    #[test]
    fn crc_wireshark_reads_the_wire_octets_big_endian() {
        let m = MarkedFpdu::new_checked(&RFC5044_FIG5, 0).unwrap();
        assert_eq!(m.crc(), 0x8399_2352);
        assert_eq!(m.crc_wireshark(), 0x5223_9983);
    }

    #[test]
    fn marker_repr_round_trip() {
        let r = MarkerRepr {
            reserved: 0xBEEF,
            fpduptr: 0x0014,
        };
        let mut out = [0u8; 4];
        assert_eq!(r.emit(&mut out).unwrap(), 4);
        assert_eq!(out, [0xBE, 0xEF, 0x00, 0x14]);
        assert_eq!(MarkerRepr::parse_bytes(&out).unwrap(), r);
        assert_eq!(r.to_string(), "MPA marker FPDUPTR=20 Reserved=0xbeef");
        assert!(r.emit(&mut out[..3]).is_err());
    }
}
