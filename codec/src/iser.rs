//! iSER — the iSCSI Extensions for RDMA header (RFC 7145 §9.2; ONESHOT.md §3).
//!
//! In the conventional RDMAP flow (FIG. 3) every Send payload starts with this 28-octet header,
//! then the iSCSI PDU (see [`crate::iscsi`]). The initiator's buffer STags travel here, inside
//! the ULP payload, rather than in any RDMAP or DDP header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Opcode |W|R|Rsv|                    Reserved                   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                          Write STag                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Write Base Offset (64 bits)                 |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Read STag                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                   Read Base Offset (64 bits)                  |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//!   W = WSV (Write STag valid), R = RSV (Read STag valid)
//! ```
//!
//! The opcode is the high nibble of octet 0: 0x1 iSCSI control-type PDU, 0x2 Hello,
//! 0x3 HelloReply.

use core::fmt;

use crate::bytes::{array, be32, be64, put_be32, put_be64};
use crate::error::{Layer, Result, need};

/// Byte ranges and bit masks of the iSER header.
pub mod field {
    use core::ops::Range;

    /// The flags octet (opcode, WSV, RSV, reserved bits).
    pub const FLAGS: usize = 0;
    /// Flags octet: the opcode nibble.
    pub const OPCODE_MASK: u8 = 0xF0;
    /// Flags octet: WSV, the Write STag is valid.
    pub const WSV_MASK: u8 = 0x08;
    /// Flags octet: RSV, the Read STag is valid.
    pub const RSV_MASK: u8 = 0x04;
    /// Flags octet: the two reserved bits.
    pub const RESERVED_FLAGS_MASK: u8 = 0x03;
    /// The three reserved octets.
    pub const RESERVED: Range<usize> = 1..4;
    /// Write STag.
    pub const WRITE_STAG: Range<usize> = 4..8;
    /// Write Base Offset.
    pub const WRITE_BASE_OFFSET: Range<usize> = 8..16;
    /// Read STag.
    pub const READ_STAG: Range<usize> = 16..20;
    /// Read Base Offset.
    pub const READ_BASE_OFFSET: Range<usize> = 20..28;
    /// Header length.
    pub const LEN: usize = 28;
}

/// The iSER opcode: the high nibble of the flags octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IserOpcode {
    /// 0x1 iSCSI control-type PDU.
    Control,
    /// 0x2 iSER Hello.
    Hello,
    /// 0x3 iSER HelloReply.
    HelloReply,
    /// Any other nibble value.
    Unknown(u8),
}

impl IserOpcode {
    /// The nibble value (0..=15).
    pub const fn raw(self) -> u8 {
        match self {
            IserOpcode::Control => 0x1,
            IserOpcode::Hello => 0x2,
            IserOpcode::HelloReply => 0x3,
            IserOpcode::Unknown(v) => v & 0x0F,
        }
    }

    /// Wireshark's name ("iSCSI Control-Type PDU", "Hello Message", "HelloReply Message").
    pub const fn name(self) -> &'static str {
        match self {
            IserOpcode::Control => "iSCSI Control-Type PDU",
            IserOpcode::Hello => "Hello Message",
            IserOpcode::HelloReply => "HelloReply Message",
            IserOpcode::Unknown(_) => "Unknown",
        }
    }

    /// The short name used in one-line summaries.
    const fn short_name(self) -> &'static str {
        match self {
            IserOpcode::Control => "control",
            IserOpcode::Hello => "Hello",
            IserOpcode::HelloReply => "HelloReply",
            IserOpcode::Unknown(_) => "Unknown",
        }
    }
}

impl From<u8> for IserOpcode {
    /// Names a nibble value (only the low four bits count).
    fn from(v: u8) -> Self {
        match v & 0x0F {
            0x1 => IserOpcode::Control,
            0x2 => IserOpcode::Hello,
            0x3 => IserOpcode::HelloReply,
            v => IserOpcode::Unknown(v),
        }
    }
}

impl From<IserOpcode> for u8 {
    fn from(o: IserOpcode) -> u8 {
        o.raw()
    }
}

impl fmt::Display for IserOpcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IserOpcode::Unknown(v) => write!(f, "0x{v:x}"),
            o => f.write_str(o.name()),
        }
    }
}

/// A view of an iSER-framed message: the 28-octet header, then the iSCSI PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IserHeader<B> {
    buf: B,
}

impl<B: AsRef<[u8]>> IserHeader<B> {
    /// Wraps `buf` after checking it holds the 28-octet header. The opcode is not checked.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(buf.as_ref(), field::LEN, Layer::Iser, "header")?;
        Ok(IserHeader { buf })
    }
    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// The flags octet, raw.
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// The opcode (high nibble of the flags octet).
    pub fn opcode(&self) -> IserOpcode {
        IserOpcode::from(self.flags() >> 4)
    }
    /// WSV: the Write STag and Write Base Offset are valid.
    pub fn wsv(&self) -> bool {
        self.flags() & field::WSV_MASK != 0
    }
    /// RSV: the Read STag and Read Base Offset are valid.
    pub fn rsv(&self) -> bool {
        self.flags() & field::RSV_MASK != 0
    }
    /// The three reserved octets.
    pub fn reserved(&self) -> [u8; 3] {
        array(self.buf.as_ref(), field::RESERVED)
    }
    /// Write STag.
    pub fn write_stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::WRITE_STAG)
    }
    /// Write Base Offset.
    pub fn write_base_offset(&self) -> u64 {
        be64(self.buf.as_ref(), field::WRITE_BASE_OFFSET)
    }
    /// Read STag.
    pub fn read_stag(&self) -> u32 {
        be32(self.buf.as_ref(), field::READ_STAG)
    }
    /// Read Base Offset.
    pub fn read_base_offset(&self) -> u64 {
        be64(self.buf.as_ref(), field::READ_BASE_OFFSET)
    }
    /// The 28-octet header.
    pub fn header(&self) -> &[u8] {
        &self.buf.as_ref()[..field::LEN]
    }
    /// Everything after the header: the iSCSI PDU.
    pub fn payload(&self) -> &[u8] {
        &self.buf.as_ref()[field::LEN..]
    }
}

impl<'a> IserHeader<&'a [u8]> {
    /// The payload with the buffer's lifetime.
    pub fn payload_ref(&self) -> &'a [u8] {
        &self.buf[field::LEN..]
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> IserHeader<B> {
    /// Sets the flags octet.
    pub fn set_flags(&mut self, v: u8) {
        self.buf.as_mut()[field::FLAGS] = v;
    }
    /// Sets the opcode nibble, keeping the other flag bits.
    pub fn set_opcode(&mut self, op: IserOpcode) {
        let f = (self.flags() & !field::OPCODE_MASK) | (op.raw() << 4);
        self.set_flags(f);
    }
    /// Sets or clears WSV.
    pub fn set_wsv(&mut self, v: bool) {
        let f = set_bit(self.flags(), field::WSV_MASK, v);
        self.set_flags(f);
    }
    /// Sets or clears RSV.
    pub fn set_rsv(&mut self, v: bool) {
        let f = set_bit(self.flags(), field::RSV_MASK, v);
        self.set_flags(f);
    }
    /// Sets the three reserved octets.
    pub fn set_reserved(&mut self, v: [u8; 3]) {
        self.buf.as_mut()[field::RESERVED].copy_from_slice(&v);
    }
    /// Sets the Write STag.
    pub fn set_write_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::WRITE_STAG, v);
    }
    /// Sets the Write Base Offset.
    pub fn set_write_base_offset(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::WRITE_BASE_OFFSET, v);
    }
    /// Sets the Read STag.
    pub fn set_read_stag(&mut self, v: u32) {
        put_be32(self.buf.as_mut(), field::READ_STAG, v);
    }
    /// Sets the Read Base Offset.
    pub fn set_read_base_offset(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::READ_BASE_OFFSET, v);
    }
    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::LEN..]
    }
}

const fn set_bit(flags: u8, mask: u8, on: bool) -> u8 {
    if on { flags | mask } else { flags & !mask }
}

/// Heuristic: could `buf` start with an iSER header? At least 28 octets, opcode nibble 1..=3,
/// reserved flag bits and reserved octets zero.
pub fn looks_like_iser(buf: &[u8]) -> bool {
    buf.len() >= field::LEN
        && matches!(buf[field::FLAGS] >> 4, 1..=3)
        && buf[field::FLAGS] & field::RESERVED_FLAGS_MASK == 0
        && buf[field::RESERVED].iter().all(|&b| b == 0)
}

/// An iSER header, owned and lossless: every bit of the flags and reserved octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct IserRepr {
    /// The flags octet, raw (opcode nibble, WSV, RSV, reserved bits).
    pub flags: u8,
    /// Octets 1..4, raw.
    pub reserved: [u8; 3],
    /// Write STag.
    pub write_stag: u32,
    /// Write Base Offset.
    pub write_base_offset: u64,
    /// Read STag.
    pub read_stag: u32,
    /// Read Base Offset.
    pub read_base_offset: u64,
}

impl IserRepr {
    /// An iSCSI control-type header (opcode 0x1) advertising the given `(STag, base offset)`
    /// pairs: WSV set when `write` is `Some`, RSV when `read` is. Absent pairs are zero.
    pub const fn control(write: Option<(u32, u64)>, read: Option<(u32, u64)>) -> Self {
        let mut flags = 0x10;
        let (write_stag, write_base_offset) = match write {
            Some(w) => {
                flags |= field::WSV_MASK;
                w
            }
            None => (0, 0),
        };
        let (read_stag, read_base_offset) = match read {
            Some(r) => {
                flags |= field::RSV_MASK;
                r
            }
            None => (0, 0),
        };
        IserRepr {
            flags,
            reserved: [0; 3],
            write_stag,
            write_base_offset,
            read_stag,
            read_base_offset,
        }
    }

    /// Reads the header of a view.
    pub fn parse<B: AsRef<[u8]>>(h: &IserHeader<B>) -> Self {
        IserRepr {
            flags: h.flags(),
            reserved: h.reserved(),
            write_stag: h.write_stag(),
            write_base_offset: h.write_base_offset(),
            read_stag: h.read_stag(),
            read_base_offset: h.read_base_offset(),
        }
    }

    /// Decodes the header at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        IserHeader::new_checked(buf).map(|h| Self::parse(&h))
    }

    /// Always 28.
    pub const fn header_len(&self) -> usize {
        field::LEN
    }

    /// The opcode (high nibble of `flags`).
    pub const fn opcode(&self) -> IserOpcode {
        match self.flags >> 4 {
            0x1 => IserOpcode::Control,
            0x2 => IserOpcode::Hello,
            0x3 => IserOpcode::HelloReply,
            v => IserOpcode::Unknown(v),
        }
    }

    /// WSV: the Write STag is valid.
    pub const fn wsv(&self) -> bool {
        self.flags & field::WSV_MASK != 0
    }

    /// RSV: the Read STag is valid.
    pub const fn rsv(&self) -> bool {
        self.flags & field::RSV_MASK != 0
    }

    /// Writes exactly 28 octets to the front of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::LEN, Layer::Iser, "output buffer")?;
        out[field::FLAGS] = self.flags;
        out[field::RESERVED].copy_from_slice(&self.reserved);
        put_be32(out, field::WRITE_STAG, self.write_stag);
        put_be64(out, field::WRITE_BASE_OFFSET, self.write_base_offset);
        put_be32(out, field::READ_STAG, self.read_stag);
        put_be64(out, field::READ_BASE_OFFSET, self.read_base_offset);
        Ok(field::LEN)
    }
}

impl fmt::Display for IserRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.opcode() {
            IserOpcode::Unknown(v) => write!(f, "iSER opcode=0x{v:x}")?,
            o => write!(f, "iSER {}", o.short_name())?,
        }
        if self.wsv() {
            write!(
                f,
                " WSV write STag=0x{:08x} VA=0x{:x}",
                self.write_stag, self.write_base_offset
            )?;
        }
        if self.rsv() {
            write!(
                f,
                " RSV read STag=0x{:08x} VA=0x{:x}",
                self.read_stag, self.read_base_offset
            )?;
        }
        let rsvd = self.flags & field::RESERVED_FLAGS_MASK;
        if rsvd != 0 {
            write!(f, " Rsvd=0x{rsvd:x}")?;
        }
        if self.reserved != [0; 3] {
            let [a, b, c] = self.reserved;
            write!(f, " Reserved=0x{a:02x}{b:02x}{c:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// An iSCSI control-type header advertising a write buffer, then 2 octets of iSCSI PDU.
    #[rustfmt::skip]
    const CONTROL_WRITE: [u8; 30] = [
        0x18,                   // opcode 0x1 (control), WSV=1, RSV=0, reserved bits 0
        0x00, 0x00, 0x00,       // reserved
        0x00, 0xC0, 0xFF, 0xEE, // Write STag 0x00c0ffee
        0x00, 0x00, 0x00, 0x00, // Write Base Offset (high)
        0x00, 0x00, 0x10, 0x00, // Write Base Offset (low) = 0x1000
        0x00, 0x00, 0x00, 0x00, // Read STag 0
        0x00, 0x00, 0x00, 0x00, // Read Base Offset (high)
        0x00, 0x00, 0x00, 0x00, // Read Base Offset (low)
        0x01, 0xA0,             // payload: start of a SCSI Command BHS
    ];

    /// A control-type header with both STags valid.
    #[rustfmt::skip]
    const CONTROL_BOTH: [u8; 28] = [
        0x1C,                   // opcode 0x1, WSV=1, RSV=1
        0x00, 0x00, 0x00,       // reserved
        0x11, 0x22, 0x33, 0x44, // Write STag 0x11223344
        0x01, 0x02, 0x03, 0x04, // Write Base Offset (high)
        0x05, 0x06, 0x07, 0x08, // Write Base Offset (low) = 0x0102030405060708
        0xAA, 0xBB, 0xCC, 0xDD, // Read STag 0xaabbccdd
        0x00, 0x00, 0x00, 0x00, // Read Base Offset (high)
        0x00, 0x00, 0x00, 0x40, // Read Base Offset (low) = 0x40
    ];

    #[test]
    fn deconstruct() {
        let h = IserHeader::new_checked(&CONTROL_WRITE[..]).unwrap();
        assert_eq!(h.flags(), 0x18);
        assert_eq!(h.opcode(), IserOpcode::Control);
        assert!(h.wsv());
        assert!(!h.rsv());
        assert_eq!(h.reserved(), [0; 3]);
        assert_eq!(h.write_stag(), 0x00c0_ffee);
        assert_eq!(h.write_base_offset(), 0x1000);
        assert_eq!((h.read_stag(), h.read_base_offset()), (0, 0));
        assert_eq!(h.header(), &CONTROL_WRITE[..28]);
        assert_eq!(h.payload(), &[0x01, 0xA0]);
        assert_eq!(h.payload_ref(), &[0x01, 0xA0]);

        let h = IserHeader::new_checked(&CONTROL_BOTH[..]).unwrap();
        assert!(h.wsv() && h.rsv());
        assert_eq!(h.write_stag(), 0x1122_3344);
        assert_eq!(h.write_base_offset(), 0x0102_0304_0506_0708);
        assert_eq!(h.read_stag(), 0xaabb_ccdd);
        assert_eq!(h.read_base_offset(), 0x40);
        assert!(h.payload().is_empty());
    }

    #[test]
    fn construct_with_setters() {
        let mut buf = [0u8; 30];
        let mut h = IserHeader::new_checked(&mut buf[..]).unwrap();
        h.set_opcode(IserOpcode::Control);
        h.set_wsv(true);
        h.set_rsv(true);
        h.set_rsv(false);
        h.set_write_stag(0x00c0_ffee);
        h.set_write_base_offset(0x1000);
        h.payload_mut().copy_from_slice(&[0x01, 0xA0]);
        assert_eq!(buf, CONTROL_WRITE);

        let mut buf = [0xFFu8; 28];
        let mut h = IserHeader::new_checked(&mut buf[..]).unwrap();
        h.set_flags(0x1C);
        h.set_reserved([0; 3]);
        h.set_write_stag(0x1122_3344);
        h.set_write_base_offset(0x0102_0304_0506_0708);
        h.set_read_stag(0xaabb_ccdd);
        h.set_read_base_offset(0x40);
        assert_eq!(buf, CONTROL_BOTH);
    }

    #[test]
    fn parse() {
        let r = IserRepr::parse_bytes(&CONTROL_WRITE).unwrap();
        assert_eq!(r, IserRepr::control(Some((0x00c0_ffee, 0x1000)), None));
        let r = IserRepr::parse_bytes(&CONTROL_BOTH).unwrap();
        assert_eq!(
            r,
            IserRepr::control(
                Some((0x1122_3344, 0x0102_0304_0506_0708)),
                Some((0xaabb_ccdd, 0x40))
            )
        );
        assert_eq!(IserRepr::control(None, None).flags, 0x10);
    }

    #[test]
    fn emit() {
        let r = IserRepr::control(Some((0x00c0_ffee, 0x1000)), None);
        let mut out = [0xFFu8; 28];
        assert_eq!(r.emit(&mut out).unwrap(), r.header_len());
        assert_eq!(out, CONTROL_WRITE[..28]);

        let e = r.emit(&mut [0u8; 27]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "iSER: truncated output buffer: need 28 bytes, have 27 (at byte 0)"
        );
    }

    #[test]
    fn reserved_bits_survive() {
        let mut bytes = CONTROL_BOTH;
        bytes[0] = 0x2F; // Hello, WSV, RSV, both reserved bits
        bytes[1..4].copy_from_slice(&[1, 2, 3]);
        let r = IserRepr::parse_bytes(&bytes).unwrap();
        assert_eq!(r.opcode(), IserOpcode::Hello);
        assert_eq!(r.reserved, [1, 2, 3]);
        let mut out = [0u8; 28];
        r.emit(&mut out).unwrap();
        assert_eq!(out, bytes);
        assert!(!looks_like_iser(&bytes));
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..28 {
            let e = IserHeader::new_checked(&CONTROL_WRITE[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Iser);
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: 28, got, .. } if got == n),
                "prefix {n}: {e}"
            );
            assert!(IserRepr::parse_bytes(&CONTROL_WRITE[..n]).is_err());
            assert!(!looks_like_iser(&CONTROL_WRITE[..n]));
        }
    }

    #[test]
    fn display() {
        let r = IserRepr::parse_bytes(&CONTROL_WRITE).unwrap();
        assert_eq!(
            r.to_string(),
            "iSER control WSV write STag=0x00c0ffee VA=0x1000"
        );
        let r = IserRepr::parse_bytes(&CONTROL_BOTH).unwrap();
        assert_eq!(
            r.to_string(),
            "iSER control WSV write STag=0x11223344 VA=0x102030405060708 \
             RSV read STag=0xaabbccdd VA=0x40"
        );
        let mut r = IserRepr::control(None, None);
        assert_eq!(r.to_string(), "iSER control");
        r.flags = 0x53;
        r.reserved = [0, 0, 9];
        assert_eq!(r.to_string(), "iSER opcode=0x5 Rsvd=0x3 Reserved=0x000009");
    }

    #[test]
    fn opcode_names() {
        for v in 0..16u8 {
            assert_eq!(u8::from(IserOpcode::from(v)), v);
        }
        assert_eq!(IserOpcode::from(3), IserOpcode::HelloReply);
        assert_eq!(IserOpcode::Control.to_string(), "iSCSI Control-Type PDU");
        assert_eq!(IserOpcode::Unknown(0xA).to_string(), "0xa");
    }

    #[test]
    fn heuristic() {
        assert!(looks_like_iser(&CONTROL_WRITE));
        assert!(looks_like_iser(&CONTROL_BOTH));
        assert!(!looks_like_iser(&[0u8; 28]));
        let mut b = CONTROL_BOTH;
        b[0] = 0x4C;
        assert!(!looks_like_iser(&b));
        let mut b = CONTROL_BOTH;
        b[2] = 1;
        assert!(!looks_like_iser(&b));
        assert!(!looks_like_iser(&[0xFF; 64]));
    }

    #[cfg(feature = "arbitrary")]
    #[test]
    fn arbitrary_round_trips() {
        arbtest::arbtest(|u| {
            let r: IserRepr = u.arbitrary()?;
            let mut out = [0u8; 28];
            r.emit(&mut out).unwrap();
            assert_eq!(IserRepr::parse_bytes(&out).unwrap(), r);
            Ok(())
        });
    }
}
