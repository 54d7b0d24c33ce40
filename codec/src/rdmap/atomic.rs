//! RFC 7306 headers: Atomic Request (opcode 0xA, QN 1), Atomic Response (0xB, QN 3) and
//! Immediate Data (0x8/0x9, QN 0) (WIRE.md §4).
//!
//! ```text
//! Atomic Request (52 octets)                Atomic Response (12 octets)
//! +--------------------------+-------+      +----------------------------------+
//! | Reserved (28)            |AOpCode|      | Original Request Identifier      |
//! | Request Identifier                |      | Original Remote Data Value (64)  |
//! | Remote STag                       |      +----------------------------------+
//! | Remote Tagged Offset (64)         |
//! | Add or Swap Data (64)             |      Immediate Data (8 octets)
//! | Add or Swap Mask (64)             |      +----------------------------------+
//! | Compare Data (64)                 |      | Immediate Data (64, opaque)      |
//! | Compare Mask (64)                 |      +----------------------------------+
//! +-----------------------------------+
//! ```

use core::fmt;

use crate::bytes::{array, be32, be64, put_be32, put_be64};
use crate::error::{Layer, Result, need};

/// Byte ranges of the RFC 7306 headers (relative to each header's first octet).
pub mod field {
    use core::ops::Range;

    /// Atomic Request: Reserved (28 bits) and AOpCode (4 bits).
    pub const AR_OPCODE_WORD: Range<usize> = 0..4;
    /// Atomic Request: mask of AOpCode in the first word.
    pub const AR_OPCODE_MASK: u32 = 0x0000_000F;
    /// Atomic Request: mask of the reserved bits in the first word.
    pub const AR_RESERVED_MASK: u32 = 0xFFFF_FFF0;
    /// Atomic Request: Request Identifier.
    pub const AR_REQUEST_ID: Range<usize> = 4..8;
    /// Atomic Request: Remote STag.
    pub const AR_REMOTE_STAG: Range<usize> = 8..12;
    /// Atomic Request: Remote Tagged Offset.
    pub const AR_REMOTE_TO: Range<usize> = 12..20;
    /// Atomic Request: Add or Swap Data.
    pub const AR_ADD_SWAP_DATA: Range<usize> = 20..28;
    /// Atomic Request: Add or Swap Mask.
    pub const AR_ADD_SWAP_MASK: Range<usize> = 28..36;
    /// Atomic Request: Compare Data.
    pub const AR_COMPARE_DATA: Range<usize> = 36..44;
    /// Atomic Request: Compare Mask.
    pub const AR_COMPARE_MASK: Range<usize> = 44..52;
    /// Atomic Request: header length.
    pub const AR_LEN: usize = 52;

    /// Atomic Response: Original Request Identifier.
    pub const ARESP_REQUEST_ID: Range<usize> = 0..4;
    /// Atomic Response: Original Remote Data Value.
    pub const ARESP_DATA: Range<usize> = 4..12;
    /// Atomic Response: header length.
    pub const ARESP_LEN: usize = 12;

    /// Immediate Data: the opaque 8 octets.
    pub const IMMEDIATE: Range<usize> = 0..8;
    /// Immediate Data: length.
    pub const IMMEDIATE_LEN: usize = 8;
}

/// AOpCode (IANA "Atomic Operation Subcodes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOpcode {
    /// 0x0: Fetch and Add.
    FetchAdd,
    /// 0x2: Compare and Swap.
    CmpSwap,
    /// Anything else (0x1 is reserved).
    Unknown(u8),
}

impl From<u8> for AtomicOpcode {
    fn from(v: u8) -> Self {
        match v {
            0 => AtomicOpcode::FetchAdd,
            2 => AtomicOpcode::CmpSwap,
            v => AtomicOpcode::Unknown(v),
        }
    }
}

impl From<AtomicOpcode> for u8 {
    fn from(o: AtomicOpcode) -> u8 {
        match o {
            AtomicOpcode::FetchAdd => 0,
            AtomicOpcode::CmpSwap => 2,
            AtomicOpcode::Unknown(v) => v,
        }
    }
}

impl fmt::Display for AtomicOpcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AtomicOpcode::FetchAdd => f.write_str("FetchAdd"),
            AtomicOpcode::CmpSwap => f.write_str("CmpSwap"),
            AtomicOpcode::Unknown(v) => write!(f, "0x{v:x}"),
        }
    }
}

/// A view of an Atomic Request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicRequest<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> AtomicRequest<B> {
    /// Wraps `buf` after checking it holds 52 octets.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(
            buf.as_ref(),
            field::AR_LEN,
            Layer::Rdmap,
            "Atomic Request header",
        )?;
        Ok(AtomicRequest { buf })
    }
    /// The first word, raw: Reserved and AOpCode.
    pub fn opcode_word(&self) -> u32 {
        be32(self.buf.as_ref(), field::AR_OPCODE_WORD)
    }
    /// The 28 reserved bits (still in place: low four bits zero).
    pub fn reserved(&self) -> u32 {
        self.opcode_word() & field::AR_RESERVED_MASK
    }
    /// AOpCode.
    pub fn opcode(&self) -> AtomicOpcode {
        ((self.opcode_word() & field::AR_OPCODE_MASK) as u8).into()
    }
    /// Request Identifier.
    pub fn request_id(&self) -> u32 {
        be32(self.buf.as_ref(), field::AR_REQUEST_ID)
    }
    /// Remote STag.
    pub fn remote_stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::AR_REMOTE_STAG)
    }
    /// Remote Tagged Offset.
    pub fn remote_to(&self) -> u64 {
        be64(self.buf.as_ref(), field::AR_REMOTE_TO)
    }
    /// Add or Swap Data.
    pub fn add_swap_data(&self) -> u64 {
        be64(self.buf.as_ref(), field::AR_ADD_SWAP_DATA)
    }
    /// Add or Swap Mask.
    pub fn add_swap_mask(&self) -> u64 {
        be64(self.buf.as_ref(), field::AR_ADD_SWAP_MASK)
    }
    /// Compare Data.
    pub fn compare_data(&self) -> u64 {
        be64(self.buf.as_ref(), field::AR_COMPARE_DATA)
    }
    /// Compare Mask.
    pub fn compare_mask(&self) -> u64 {
        be64(self.buf.as_ref(), field::AR_COMPARE_MASK)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> AtomicRequest<B> {
    /// Sets the first word, raw: Reserved and AOpCode.
    pub fn set_opcode_word(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::AR_OPCODE_WORD, v);
    }
    /// Sets the 28 reserved bits (in place: the low four bits of `v` are ignored), keeping
    /// AOpCode.
    pub fn set_reserved(&mut self, v: u32) {
        let w = (v & field::AR_RESERVED_MASK) | (self.opcode_word() & field::AR_OPCODE_MASK);
        self.set_opcode_word(w);
    }
    /// Sets AOpCode (only its low four bits), keeping the reserved bits.
    pub fn set_opcode(&mut self, v: AtomicOpcode) {
        let w = (self.opcode_word() & field::AR_RESERVED_MASK)
            | (u32::from(u8::from(v)) & field::AR_OPCODE_MASK);
        self.set_opcode_word(w);
    }
    /// Sets Request Identifier.
    pub fn set_request_id(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::AR_REQUEST_ID, v);
    }
    /// Sets Remote STag.
    pub fn set_remote_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::AR_REMOTE_STAG, v);
    }
    /// Sets Remote Tagged Offset.
    pub fn set_remote_to(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::AR_REMOTE_TO, v);
    }
    /// Sets Add or Swap Data.
    pub fn set_add_swap_data(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::AR_ADD_SWAP_DATA, v);
    }
    /// Sets Add or Swap Mask.
    pub fn set_add_swap_mask(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::AR_ADD_SWAP_MASK, v);
    }
    /// Sets Compare Data.
    pub fn set_compare_data(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::AR_COMPARE_DATA, v);
    }
    /// Sets Compare Mask.
    pub fn set_compare_mask(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::AR_COMPARE_MASK, v);
    }
}

/// An Atomic Request header, owned and lossless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AtomicRequestRepr {
    /// The first word, raw: 28 reserved bits and AOpCode (see [`AtomicRequestRepr::opcode`]).
    pub opcode_word: u32,
    /// Request Identifier.
    pub request_id: u32,
    /// Remote STag.
    pub remote_stag: u32,
    /// Remote Tagged Offset.
    pub remote_to: u64,
    /// Add or Swap Data.
    pub add_swap_data: u64,
    /// Add or Swap Mask.
    pub add_swap_mask: u64,
    /// Compare Data.
    pub compare_data: u64,
    /// Compare Mask.
    pub compare_mask: u64,
}

impl AtomicRequestRepr {
    /// AOpCode.
    pub fn opcode(&self) -> AtomicOpcode {
        ((self.opcode_word & field::AR_OPCODE_MASK) as u8).into()
    }
    /// Reads a view.
    pub fn parse<B: AsRef<[u8]>>(v: &AtomicRequest<B>) -> Self {
        AtomicRequestRepr {
            opcode_word: v.opcode_word(),
            request_id: v.request_id(),
            remote_stag: v.remote_stag(),
            remote_to: v.remote_to(),
            add_swap_data: v.add_swap_data(),
            add_swap_mask: v.add_swap_mask(),
            compare_data: v.compare_data(),
            compare_mask: v.compare_mask(),
        }
    }
    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        AtomicRequest::new_checked(buf).map(|v| Self::parse(&v))
    }
    /// 52.
    pub const fn header_len(&self) -> usize {
        field::AR_LEN
    }
    /// Writes 52 octets.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::AR_LEN, Layer::Rdmap, "output buffer")?;
        put_be32(out, field::AR_OPCODE_WORD, self.opcode_word);
        put_be32(out, field::AR_REQUEST_ID, self.request_id);
        put_be32(out, field::AR_REMOTE_STAG, self.remote_stag);
        put_be64(out, field::AR_REMOTE_TO, self.remote_to);
        put_be64(out, field::AR_ADD_SWAP_DATA, self.add_swap_data);
        put_be64(out, field::AR_ADD_SWAP_MASK, self.add_swap_mask);
        put_be64(out, field::AR_COMPARE_DATA, self.compare_data);
        put_be64(out, field::AR_COMPARE_MASK, self.compare_mask);
        Ok(field::AR_LEN)
    }
}

impl fmt::Display for AtomicRequestRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Atomic Request {} id={} STag=0x{:08x} TO=0x{:x} data=0x{:x} mask=0x{:x}",
            self.opcode(),
            self.request_id,
            self.remote_stag,
            self.remote_to,
            self.add_swap_data,
            self.add_swap_mask
        )?;
        if self.opcode() == AtomicOpcode::CmpSwap {
            write!(
                f,
                " compare=0x{:x} cmask=0x{:x}",
                self.compare_data, self.compare_mask
            )?;
        }
        Ok(())
    }
}

/// A view of an Atomic Response header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtomicResponse<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> AtomicResponse<B> {
    /// Wraps `buf` after checking it holds 12 octets.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(
            buf.as_ref(),
            field::ARESP_LEN,
            Layer::Rdmap,
            "Atomic Response header",
        )?;
        Ok(AtomicResponse { buf })
    }
    /// Original Request Identifier.
    pub fn request_id(&self) -> u32 {
        be32(self.buf.as_ref(), field::ARESP_REQUEST_ID)
    }
    /// Original Remote Data Value.
    pub fn original_data(&self) -> u64 {
        be64(self.buf.as_ref(), field::ARESP_DATA)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> AtomicResponse<B> {
    /// Sets Original Request Identifier.
    pub fn set_request_id(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::ARESP_REQUEST_ID, v);
    }
    /// Sets Original Remote Data Value.
    pub fn set_original_data(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::ARESP_DATA, v);
    }
}

/// An Atomic Response header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AtomicResponseRepr {
    /// Original Request Identifier.
    pub request_id: u32,
    /// Original Remote Data Value.
    pub original_data: u64,
}

impl AtomicResponseRepr {
    /// Reads a view.
    pub fn parse<B: AsRef<[u8]>>(v: &AtomicResponse<B>) -> Self {
        AtomicResponseRepr {
            request_id: v.request_id(),
            original_data: v.original_data(),
        }
    }
    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        AtomicResponse::new_checked(buf).map(|v| Self::parse(&v))
    }
    /// 12.
    pub const fn header_len(&self) -> usize {
        field::ARESP_LEN
    }
    /// Writes 12 octets.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::ARESP_LEN, Layer::Rdmap, "output buffer")?;
        put_be32(out, field::ARESP_REQUEST_ID, self.request_id);
        put_be64(out, field::ARESP_DATA, self.original_data);
        Ok(field::ARESP_LEN)
    }
}

impl fmt::Display for AtomicResponseRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Atomic Response id={} original=0x{:x}",
            self.request_id, self.original_data
        )
    }
}

/// Reads the 8 octets of Immediate Data at the start of `buf`.
pub fn immediate(buf: &[u8]) -> Result<[u8; 8]> {
    need(buf, field::IMMEDIATE_LEN, Layer::Rdmap, "Immediate Data")?;
    Ok(array(buf, field::IMMEDIATE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[rustfmt::skip]
    const CMP_SWAP: [u8; 52] = [
        0x00, 0x00, 0x00, 0x02,                         // Reserved 0, AOpCode 2 (CmpSwap)
        0x00, 0x00, 0x00, 0x07,                         // Request Identifier 7
        0x00, 0x00, 0x12, 0x34,                         // Remote STag
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, // Remote TO 0x1000
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // Swap Data 2
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Swap Mask
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // Compare Data 1
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Compare Mask
    ];

    #[rustfmt::skip]
    const RESPONSE: [u8; 12] = [
        0x00, 0x00, 0x00, 0x07,                         // Original Request Identifier 7
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // Original Remote Data Value 1
    ];

    #[test]
    fn deconstruct() {
        let a = AtomicRequest::new_checked(&CMP_SWAP[..]).unwrap();
        assert_eq!(a.opcode(), AtomicOpcode::CmpSwap);
        assert_eq!(a.reserved(), 0);
        assert_eq!(
            (a.request_id(), a.remote_stag(), a.remote_to()),
            (7, 0x1234, 0x1000)
        );
        assert_eq!((a.add_swap_data(), a.compare_data()), (2, 1));
        assert_eq!((a.add_swap_mask(), a.compare_mask()), (u64::MAX, u64::MAX));
        let r = AtomicResponse::new_checked(&RESPONSE[..]).unwrap();
        assert_eq!((r.request_id(), r.original_data()), (7, 1));
        assert_eq!(immediate(&RESPONSE).unwrap(), RESPONSE[..8]);
    }

    #[test]
    fn construct() {
        let mut b = [0xEEu8; 52];
        let mut a = AtomicRequest::new_checked(&mut b[..]).unwrap();
        a.set_opcode_word(0xFFFF_FFFF);
        a.set_reserved(0);
        a.set_opcode(AtomicOpcode::CmpSwap);
        a.set_request_id(7);
        a.set_remote_stag(0x1234);
        a.set_remote_to(0x1000);
        a.set_add_swap_data(2);
        a.set_add_swap_mask(u64::MAX);
        a.set_compare_data(1);
        a.set_compare_mask(u64::MAX);
        assert_eq!(b, CMP_SWAP);
        // Reserved bits and AOpCode are set independently of each other.
        let mut a = AtomicRequest::new_checked(&mut b[..]).unwrap();
        a.set_reserved(0xABCD_EF0F);
        assert_eq!(
            (a.reserved(), a.opcode()),
            (0xABCD_EF00, AtomicOpcode::CmpSwap)
        );
        a.set_opcode(AtomicOpcode::Unknown(0x1F));
        assert_eq!(a.opcode_word(), 0xABCD_EF0F);

        let mut b = [0xEEu8; 12];
        let mut r = AtomicResponse::new_checked(&mut b[..]).unwrap();
        r.set_request_id(7);
        r.set_original_data(1);
        assert_eq!(b, RESPONSE);
    }

    #[test]
    fn construct_parse_emit() {
        let a = AtomicRequestRepr::parse_bytes(&CMP_SWAP).unwrap();
        let mut out = [0u8; 52];
        assert_eq!(a.emit(&mut out).unwrap(), 52);
        assert_eq!(out, CMP_SWAP);
        assert_eq!(
            a.to_string(),
            "Atomic Request CmpSwap id=7 STag=0x00001234 TO=0x1000 data=0x2 mask=0xffffffffffffffff compare=0x1 cmask=0xffffffffffffffff"
        );
        let r = AtomicResponseRepr {
            request_id: 7,
            original_data: 1,
        };
        let mut out = [0u8; 12];
        assert_eq!(r.emit(&mut out).unwrap(), 12);
        assert_eq!(out, RESPONSE);
        assert_eq!(AtomicResponseRepr::parse_bytes(&RESPONSE).unwrap(), r);
    }

    #[test]
    fn reserved_bits_survive() {
        let mut b = CMP_SWAP;
        b[0] = 0xAB;
        b[3] = 0x31; // reserved low nibble of the top... and AOpCode 1 (reserved)
        let a = AtomicRequestRepr::parse_bytes(&b).unwrap();
        assert_eq!(a.opcode(), AtomicOpcode::Unknown(1));
        let mut out = [0u8; 52];
        a.emit(&mut out).unwrap();
        assert_eq!(out, b);
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..52 {
            let e = AtomicRequest::new_checked(&CMP_SWAP[..n]).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Truncated { needed: 52, got, .. } if got == n));
        }
        for n in 0..12 {
            let e = AtomicResponse::new_checked(&RESPONSE[..n]).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::Truncated { needed: 12, got, .. } if got == n));
        }
        for n in 0..8 {
            assert!(immediate(&RESPONSE[..n]).is_err());
        }
    }
}
