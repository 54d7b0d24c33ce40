//! RDMA Read Request header (RFC 5040 §4.4; WIRE.md §3.3): 28 octets right after the untagged
//! DDP header of opcode 0x1 (QN 1). Also the "terminated RDMAP header" a Terminate may carry.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                         Data Sink STag                        |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Data Sink Tagged Offset (64)                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  RDMA Read Message Size (RDMARDSZ)            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                        Data Source STag                       |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                 Data Source Tagged Offset (64)                |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::fmt;

use crate::bytes::{be32, be64, put_be32, put_be64};
use crate::error::{Layer, Result, need};

/// Byte ranges of the Read Request header (relative to its first octet).
pub mod field {
    use core::ops::Range;

    /// Data Sink STag.
    pub const SINK_STAG: Range<usize> = 0..4;
    /// Data Sink Tagged Offset.
    pub const SINK_TO: Range<usize> = 4..12;
    /// RDMA Read Message Size.
    pub const RDMARDSZ: Range<usize> = 12..16;
    /// Data Source STag.
    pub const SOURCE_STAG: Range<usize> = 16..20;
    /// Data Source Tagged Offset.
    pub const SOURCE_TO: Range<usize> = 20..28;
    /// Header length.
    pub const LEN: usize = 28;
}

/// A view of a Read Request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadRequest<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> ReadRequest<B> {
    /// Wraps `buf` after checking it holds 28 octets.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(
            buf.as_ref(),
            field::LEN,
            Layer::Rdmap,
            "Read Request header",
        )?;
        Ok(ReadRequest { buf })
    }
    /// Data Sink STag: where the Read Response goes.
    pub fn sink_stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::SINK_STAG)
    }
    /// Data Sink Tagged Offset.
    pub fn sink_to(&self) -> u64 {
        be64(self.buf.as_ref(), field::SINK_TO)
    }
    /// RDMA Read Message Size.
    pub fn rdmardsz(&self) -> u32 {
        be32(self.buf.as_ref(), field::RDMARDSZ)
    }
    /// Data Source STag: what is read.
    pub fn source_stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::SOURCE_STAG)
    }
    /// Data Source Tagged Offset.
    pub fn source_to(&self) -> u64 {
        be64(self.buf.as_ref(), field::SOURCE_TO)
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> ReadRequest<B> {
    /// Sets the Data Sink STag.
    pub fn set_sink_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::SINK_STAG, v);
    }
    /// Sets the Data Sink Tagged Offset.
    pub fn set_sink_to(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::SINK_TO, v);
    }
    /// Sets the RDMA Read Message Size.
    pub fn set_rdmardsz(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::RDMARDSZ, v);
    }
    /// Sets the Data Source STag.
    pub fn set_source_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::SOURCE_STAG, v);
    }
    /// Sets the Data Source Tagged Offset.
    pub fn set_source_to(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::SOURCE_TO, v);
    }
}

/// A Read Request header, owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ReadRequestRepr {
    /// Data Sink STag.
    pub sink_stag: u32,
    /// Data Sink Tagged Offset.
    pub sink_to: u64,
    /// RDMA Read Message Size.
    pub rdmardsz: u32,
    /// Data Source STag.
    pub source_stag: u32,
    /// Data Source Tagged Offset.
    pub source_to: u64,
}

impl ReadRequestRepr {
    /// Reads a view.
    pub fn parse<B: AsRef<[u8]>>(v: &ReadRequest<B>) -> Self {
        ReadRequestRepr {
            sink_stag: v.sink_stag(),
            sink_to: v.sink_to(),
            rdmardsz: v.rdmardsz(),
            source_stag: v.source_stag(),
            source_to: v.source_to(),
        }
    }
    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        ReadRequest::new_checked(buf).map(|v| Self::parse(&v))
    }
    /// 28.
    pub const fn header_len(&self) -> usize {
        field::LEN
    }
    /// Writes 28 octets.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::LEN, Layer::Rdmap, "output buffer")?;
        let mut v = ReadRequest { buf: out };
        v.set_sink_stag(self.sink_stag);
        v.set_sink_to(self.sink_to);
        v.set_rdmardsz(self.rdmardsz);
        v.set_source_stag(self.source_stag);
        v.set_source_to(self.source_to);
        Ok(field::LEN)
    }
}

impl fmt::Display for ReadRequestRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Read Request sink STag=0x{:08x} TO=0x{:x} size={} source STag=0x{:08x} TO=0x{:x}",
            self.sink_stag, self.sink_to, self.rdmardsz, self.source_stag, self.source_to
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[rustfmt::skip]
    const RR: [u8; 28] = [
        0x00, 0x00, 0x0B, 0x0B,                         // Data Sink STag 0x00000b0b
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // Data Sink TO 0x10000
        0x00, 0x01, 0x00, 0x00,                         // RDMARDSZ 65536
        0x00, 0xC0, 0xFF, 0xEE,                         // Data Source STag 0x00c0ffee
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, // Data Source TO 0x40
    ];

    const REPR: ReadRequestRepr = ReadRequestRepr {
        sink_stag: 0xb0b,
        sink_to: 0x10000,
        rdmardsz: 65536,
        source_stag: 0x00c0_ffee,
        source_to: 0x40,
    };

    #[test]
    fn deconstruct() {
        let v = ReadRequest::new_checked(&RR[..]).unwrap();
        assert_eq!(v.sink_stag(), 0xb0b);
        assert_eq!(v.sink_to(), 0x10000);
        assert_eq!(v.rdmardsz(), 65536);
        assert_eq!(v.source_stag(), 0x00c0_ffee);
        assert_eq!(v.source_to(), 0x40);
    }

    #[test]
    fn construct_parse_emit() {
        let mut out = [0u8; 28];
        assert_eq!(REPR.emit(&mut out).unwrap(), 28);
        assert_eq!(out, RR);
        assert_eq!(ReadRequestRepr::parse_bytes(&RR).unwrap(), REPR);
        assert_eq!(
            REPR.to_string(),
            "Read Request sink STag=0x00000b0b TO=0x10000 size=65536 source STag=0x00c0ffee TO=0x40"
        );
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..28 {
            let e = ReadRequest::new_checked(&RR[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Rdmap);
            assert!(matches!(e.kind, ErrorKind::Truncated { needed: 28, got, .. } if got == n));
        }
    }
}
