//! iSCSI — the 48-octet Basic Header Segment (RFC 7143 §11; ONESHOT.md §3).
//!
//! One-shot messages carry a complete iSCSI PDU as their ULP payload; the conventional flow puts
//! it after the iSER header ([`crate::iser`]); iSCSI/TCP sends it on port 3260. This module
//! decodes the BHS of the PDUs the flows use (SCSI Command and Response, R2T, Data-Out, Data-In)
//! and keeps every other opcode's octets 20..48 raw.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |.|I| Opcode    |F|  Opcode-specific fields (flags, octets 2..4) |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |TotalAHSLength | DataSegmentLength                             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | LUN or Opcode-specific fields (64 bits)                       |
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | Initiator Task Tag                                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! / Opcode-specific fields (octets 20..48)                        /
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! | AHS (TotalAHSLength × 4 octets), then the data segment padded |
//! | to a multiple of 4 (no digests)                               |
//! ```
//!
//! Octets 20..48 by opcode:
//!
//! ```text
//!  octets   SCSI Command  SCSI Response   R2T            Data-Out      Data-In
//!  20..24   EDTL          SNACK Tag       TTT            TTT           TTT
//!  24..28   CmdSN         StatSN          StatSN         reserved      StatSN
//!  28..32   ExpStatSN     ExpCmdSN        ExpCmdSN       ExpStatSN     ExpCmdSN
//!  32..36   CDB (16)      MaxCmdSN        MaxCmdSN       reserved      MaxCmdSN
//!  36..40    "            ExpDataSN       R2TSN          DataSN        DataSN
//!  40..44    "            Bidi residual   Buffer Offset  Buffer Offset Buffer Offset
//!  44..48    "            Residual Count  Desired Length reserved      Residual Count
//! ```

use core::fmt;

use crate::bytes::{array, be16, be32, be64, put_be16, put_be32, put_be64};
use crate::error::{Error, Layer, Result, need};

/// Byte ranges and bit masks of the Basic Header Segment.
pub mod field {
    use core::ops::Range;

    /// Octet 0: reserved bit, I bit and opcode.
    pub const OPCODE: usize = 0;
    /// Octet 0: the reserved top bit.
    pub const OPCODE_RESERVED_MASK: u8 = 0x80;
    /// Octet 0: I, immediate delivery.
    pub const I_MASK: u8 = 0x40;
    /// Octet 0: the opcode.
    pub const OPCODE_MASK: u8 = 0x3F;
    /// Octet 1: the flags.
    pub const FLAGS: usize = 1;
    /// Flags: F, final PDU of the sequence.
    pub const F_MASK: u8 = 0x80;
    /// Flags (SCSI Command): R, data will be read.
    pub const R_MASK: u8 = 0x40;
    /// Flags (SCSI Command): W, data will be written.
    pub const W_MASK: u8 = 0x20;
    /// Flags (SCSI Command): ATTR, the task attributes (1 = simple).
    pub const ATTR_MASK: u8 = 0x07;
    /// Flags (Data-In): A, acknowledge requested.
    pub const DATA_IN_A_MASK: u8 = 0x40;
    /// Flags (Data-In, SCSI Response): O, residual overflow.
    pub const DATA_IN_O_MASK: u8 = 0x04;
    /// Flags (Data-In, SCSI Response): U, residual underflow.
    pub const DATA_IN_U_MASK: u8 = 0x02;
    /// Flags (Data-In): S, status present in octet 3.
    pub const DATA_IN_S_MASK: u8 = 0x01;
    /// Octets 2..4: opcode-specific.
    pub const SPECIFIC: Range<usize> = 2..4;
    /// SCSI Response: the response code.
    pub const RESPONSE: usize = 2;
    /// SCSI Response, Data-In: the SCSI status.
    pub const STATUS: usize = 3;
    /// TotalAHSLength, in 4-octet words.
    pub const TOTAL_AHS_LEN: usize = 4;
    /// DataSegmentLength (24 bits).
    pub const DATA_SEGMENT_LEN: Range<usize> = 5..8;
    /// Logical Unit Number.
    pub const LUN: Range<usize> = 8..16;
    /// Initiator Task Tag.
    pub const ITT: Range<usize> = 16..20;
    /// Octets 20..48: opcode-specific.
    pub const BODY: Range<usize> = 20..48;

    /// SCSI Command: Expected Data Transfer Length.
    pub const EDTL: Range<usize> = 20..24;
    /// SCSI Command: CmdSN.
    pub const CMDSN: Range<usize> = 24..28;
    /// SCSI Command, Data-Out: ExpStatSN.
    pub const EXPSTATSN: Range<usize> = 28..32;
    /// SCSI Command: the CDB.
    pub const CDB: Range<usize> = 32..48;
    /// CDB (relative to its first octet): the SCSI operation code.
    pub const CDB_OPCODE: usize = 0;
    /// READ(10) / WRITE(10) CDB: the logical block address.
    pub const CDB_RW10_LBA: Range<usize> = 2..6;
    /// READ(10) / WRITE(10) CDB: the transfer length in blocks.
    pub const CDB_RW10_BLOCKS: Range<usize> = 7..9;

    /// SCSI Response: SNACK Tag.
    pub const SNACK_TAG: Range<usize> = 20..24;
    /// SCSI Response, R2T, Data-In: StatSN.
    pub const STATSN: Range<usize> = 24..28;
    /// SCSI Response, R2T, Data-In: ExpCmdSN.
    pub const EXPCMDSN: Range<usize> = 28..32;
    /// SCSI Response, R2T, Data-In: MaxCmdSN.
    pub const MAXCMDSN: Range<usize> = 32..36;
    /// SCSI Response: ExpDataSN.
    pub const EXPDATASN: Range<usize> = 36..40;
    /// SCSI Response: Bidirectional Read Residual Count.
    pub const BIDI_RESIDUAL: Range<usize> = 40..44;
    /// SCSI Response, Data-In: Residual Count.
    pub const RESIDUAL: Range<usize> = 44..48;

    /// R2T, Data-Out, Data-In: Target Transfer Tag.
    pub const TTT: Range<usize> = 20..24;
    /// R2T: R2TSN.
    pub const R2TSN: Range<usize> = 36..40;
    /// Data-Out, Data-In: DataSN.
    pub const DATASN: Range<usize> = 36..40;
    /// R2T, Data-Out, Data-In: Buffer Offset.
    pub const BUFFER_OFFSET: Range<usize> = 40..44;
    /// R2T: Desired Data Transfer Length.
    pub const DESIRED_LEN: Range<usize> = 44..48;

    /// Data-Out: reserved octets 24..28.
    pub const DATA_OUT_RESERVED1: Range<usize> = 24..28;
    /// Data-Out: reserved octets 32..36.
    pub const DATA_OUT_RESERVED2: Range<usize> = 32..36;
    /// Data-Out: reserved octets 44..48.
    pub const DATA_OUT_RESERVED3: Range<usize> = 44..48;

    /// BHS length.
    pub const LEN: usize = 48;
}

/// SCSI operation code of READ(10).
pub const SCSI_READ_10: u8 = 0x28;
/// SCSI operation code of WRITE(10).
pub const SCSI_WRITE_10: u8 = 0x2A;

/// The largest DataSegmentLength the 24-bit field holds.
pub const MAX_DATA_SEGMENT_LEN: u32 = 0x00FF_FFFF;

/// A READ(10) or WRITE(10) CDB: octet 0 `opcode`, 2..6 LBA, 7..9 transfer length in blocks,
/// every other octet zero, padded to the BHS's 16 octets.
pub fn cdb_rw10(opcode: u8, lba: u32, blocks: u16) -> [u8; 16] {
    let mut cdb = [0u8; 16];
    cdb[field::CDB_OPCODE] = opcode;
    put_be32(&mut cdb, field::CDB_RW10_LBA, lba);
    put_be16(&mut cdb, field::CDB_RW10_BLOCKS, blocks);
    cdb
}

/// `(opcode, LBA, blocks)` of a READ(10) or WRITE(10) CDB; `None` for any other opcode.
pub fn cdb_rw10_fields(cdb: &[u8; 16]) -> Option<(u8, u32, u16)> {
    match cdb[field::CDB_OPCODE] {
        SCSI_READ_10 | SCSI_WRITE_10 => Some((
            cdb[field::CDB_OPCODE],
            be32(cdb, field::CDB_RW10_LBA),
            be16(cdb, field::CDB_RW10_BLOCKS),
        )),
        _ => None,
    }
}

macro_rules! opcodes {
    ($($(#[$doc:meta])* $name:ident = $v:literal, $s:literal;)*) => {
        /// The iSCSI opcode (octet 0, mask 0x3F).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum IscsiOpcode {
            $($(#[$doc])* $name,)*
            /// Any other opcode.
            Unknown(u8),
        }

        impl IscsiOpcode {
            /// The 6-bit opcode value.
            pub const fn raw(self) -> u8 {
                match self {
                    $(IscsiOpcode::$name => $v,)*
                    IscsiOpcode::Unknown(v) => v & field::OPCODE_MASK,
                }
            }
            /// Wireshark's name ("SCSI Command", "Ready To Transfer", …).
            pub const fn name(self) -> &'static str {
                match self {
                    $(IscsiOpcode::$name => $s,)*
                    IscsiOpcode::Unknown(_) => "Unknown",
                }
            }
            /// Names an opcode (only the low six bits count).
            pub const fn from_raw(v: u8) -> Self {
                match v & field::OPCODE_MASK {
                    $($v => IscsiOpcode::$name,)*
                    v => IscsiOpcode::Unknown(v),
                }
            }
        }
    };
}

opcodes! {
    /// 0x00 NOP-Out.
    NopOut = 0x00, "NOP Out";
    /// 0x01 SCSI Command.
    ScsiCommand = 0x01, "SCSI Command";
    /// 0x02 SCSI Task Management Function Request.
    TaskMgmt = 0x02, "Task Management Function";
    /// 0x03 Login Request.
    Login = 0x03, "Login Command";
    /// 0x04 Text Request.
    Text = 0x04, "Text Command";
    /// 0x05 SCSI Data-Out.
    DataOut = 0x05, "SCSI Data Out";
    /// 0x06 Logout Request.
    Logout = 0x06, "Logout Command";
    /// 0x10 SNACK Request.
    Snack = 0x10, "SNACK Request";
    /// 0x20 NOP-In.
    NopIn = 0x20, "NOP In";
    /// 0x21 SCSI Response.
    ScsiResponse = 0x21, "SCSI Response";
    /// 0x22 SCSI Task Management Function Response.
    TaskMgmtResponse = 0x22, "Task Management Function Response";
    /// 0x23 Login Response.
    LoginResponse = 0x23, "Login Response";
    /// 0x24 Text Response.
    TextResponse = 0x24, "Text Response";
    /// 0x25 SCSI Data-In.
    DataIn = 0x25, "SCSI Data In";
    /// 0x26 Logout Response.
    LogoutResponse = 0x26, "Logout Response";
    /// 0x31 Ready To Transfer (R2T).
    R2t = 0x31, "Ready To Transfer";
    /// 0x32 Asynchronous Message.
    AsyncMessage = 0x32, "Asynchronous Message";
    /// 0x3F Reject.
    Reject = 0x3f, "Reject";
}

impl From<u8> for IscsiOpcode {
    /// Names an opcode (only the low six bits count).
    fn from(v: u8) -> Self {
        IscsiOpcode::from_raw(v)
    }
}

impl From<IscsiOpcode> for u8 {
    fn from(o: IscsiOpcode) -> u8 {
        o.raw()
    }
}

impl fmt::Display for IscsiOpcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IscsiOpcode::Unknown(v) => write!(f, "0x{v:02x}"),
            o => f.write_str(o.name()),
        }
    }
}

/// A view of an iSCSI PDU: the 48-octet BHS, then AHS and data segment.
///
/// Accessors of octets 2..4 and 20..48 read their position whatever the opcode says: the caller
/// picks the ones that [`opcode`](Bhs::opcode) gives meaning to (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bhs<B> {
    buf: B,
}

macro_rules! be32_fields {
    ($($(#[$doc:meta])* $get:ident, $set:ident = $range:ident;)*) => {
        impl<B: AsRef<[u8]>> Bhs<B> {
            $($(#[$doc])* pub fn $get(&self) -> u32 {
                be32(self.buf.as_ref(), field::$range)
            })*
        }
        impl<B: AsRef<[u8]> + AsMut<[u8]>> Bhs<B> {
            $(#[doc = concat!("Sets [`", stringify!($get), "`](Self::", stringify!($get), ").")]
            pub fn $set(&mut self, v: u32) {
                put_be32(self.buf.as_mut(), field::$range, v);
            })*
        }
    };
}

be32_fields! {
    /// Initiator Task Tag.
    itt, set_itt = ITT;
    /// SCSI Command: Expected Data Transfer Length.
    edtl, set_edtl = EDTL;
    /// SCSI Command: CmdSN.
    cmdsn, set_cmdsn = CMDSN;
    /// SCSI Command, Data-Out: ExpStatSN.
    expstatsn, set_expstatsn = EXPSTATSN;
    /// SCSI Response: SNACK Tag.
    snack_tag, set_snack_tag = SNACK_TAG;
    /// SCSI Response, R2T, Data-In: StatSN.
    statsn, set_statsn = STATSN;
    /// SCSI Response, R2T, Data-In: ExpCmdSN.
    expcmdsn, set_expcmdsn = EXPCMDSN;
    /// SCSI Response, R2T, Data-In: MaxCmdSN.
    maxcmdsn, set_maxcmdsn = MAXCMDSN;
    /// SCSI Response: ExpDataSN.
    expdatasn, set_expdatasn = EXPDATASN;
    /// SCSI Response: Bidirectional Read Residual Count.
    bidi_residual, set_bidi_residual = BIDI_RESIDUAL;
    /// SCSI Response, Data-In: Residual Count.
    residual, set_residual = RESIDUAL;
    /// R2T, Data-Out, Data-In: Target Transfer Tag.
    ttt, set_ttt = TTT;
    /// R2T: R2TSN.
    r2tsn, set_r2tsn = R2TSN;
    /// Data-Out, Data-In: DataSN.
    datasn, set_datasn = DATASN;
    /// R2T, Data-Out, Data-In: Buffer Offset.
    buffer_offset, set_buffer_offset = BUFFER_OFFSET;
    /// R2T: Desired Data Transfer Length.
    desired_len, set_desired_len = DESIRED_LEN;
}

impl<B: AsRef<[u8]>> Bhs<B> {
    /// Wraps `buf` after checking it holds the 48-octet BHS. Nothing else is checked.
    pub fn new_checked(buf: B) -> Result<Self> {
        need(
            buf.as_ref(),
            field::LEN,
            Layer::Iscsi,
            "basic header segment",
        )?;
        Ok(Bhs { buf })
    }
    /// The buffer.
    pub fn into_inner(self) -> B {
        self.buf
    }
    /// Octet 0, raw (reserved bit, I bit, opcode).
    pub fn opcode_byte(&self) -> u8 {
        self.buf.as_ref()[field::OPCODE]
    }
    /// The opcode.
    pub fn opcode(&self) -> IscsiOpcode {
        IscsiOpcode::from_raw(self.opcode_byte())
    }
    /// I: immediate delivery.
    pub fn immediate(&self) -> bool {
        self.opcode_byte() & field::I_MASK != 0
    }
    /// The flags octet, raw.
    pub fn flags(&self) -> u8 {
        self.buf.as_ref()[field::FLAGS]
    }
    /// F: final PDU.
    pub fn final_flag(&self) -> bool {
        self.flags() & field::F_MASK != 0
    }
    /// SCSI Command: R (Data-In: A has the same bit).
    pub fn read(&self) -> bool {
        self.flags() & field::R_MASK != 0
    }
    /// SCSI Command: W.
    pub fn write(&self) -> bool {
        self.flags() & field::W_MASK != 0
    }
    /// SCSI Command: ATTR, the task attributes.
    pub fn attr(&self) -> u8 {
        self.flags() & field::ATTR_MASK
    }
    /// Data-In: S, status present.
    pub fn status_present(&self) -> bool {
        self.flags() & field::DATA_IN_S_MASK != 0
    }
    /// SCSI Response: the response code (octet 2).
    pub fn response(&self) -> u8 {
        self.buf.as_ref()[field::RESPONSE]
    }
    /// SCSI Response, Data-In: the SCSI status (octet 3).
    pub fn status(&self) -> u8 {
        self.buf.as_ref()[field::STATUS]
    }
    /// TotalAHSLength, in 4-octet words.
    pub fn total_ahs_len(&self) -> u8 {
        self.buf.as_ref()[field::TOTAL_AHS_LEN]
    }
    /// DataSegmentLength (24 bits), without padding.
    pub fn data_segment_len(&self) -> u32 {
        let b = &self.buf.as_ref()[field::DATA_SEGMENT_LEN];
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }
    /// Logical Unit Number.
    pub fn lun(&self) -> u64 {
        be64(self.buf.as_ref(), field::LUN)
    }
    /// SCSI Command: the 16-octet CDB.
    pub fn cdb(&self) -> [u8; 16] {
        array(self.buf.as_ref(), field::CDB)
    }
    /// The whole PDU's length: BHS, AHS, and the data segment padded to a multiple of 4.
    pub fn pdu_len(&self) -> usize {
        field::LEN + self.ahs_len() + (self.data_segment_len() as usize).next_multiple_of(4)
    }
    fn ahs_len(&self) -> usize {
        usize::from(self.total_ahs_len()) * 4
    }
    /// The 48-octet BHS.
    pub fn header(&self) -> &[u8] {
        &self.buf.as_ref()[..field::LEN]
    }
    /// The data segment (without padding), clipped to what the buffer holds.
    pub fn data(&self) -> &[u8] {
        let b = self.buf.as_ref();
        &b[self.data_range(b.len())]
    }
    fn data_range(&self, len: usize) -> core::ops::Range<usize> {
        let start = (field::LEN + self.ahs_len()).min(len);
        let end = start
            .saturating_add(self.data_segment_len() as usize)
            .min(len);
        start..end
    }
}

impl<'a> Bhs<&'a [u8]> {
    /// The data segment with the buffer's lifetime.
    pub fn data_ref(&self) -> &'a [u8] {
        &self.buf[self.data_range(self.buf.len())]
    }
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> Bhs<B> {
    /// Sets octet 0 (reserved bit, I bit, opcode).
    pub fn set_opcode_byte(&mut self, v: u8) {
        self.buf.as_mut()[field::OPCODE] = v;
    }
    /// Sets the flags octet.
    pub fn set_flags(&mut self, v: u8) {
        self.buf.as_mut()[field::FLAGS] = v;
    }
    /// Sets octet 2 (SCSI Response: response).
    pub fn set_response(&mut self, v: u8) {
        self.buf.as_mut()[field::RESPONSE] = v;
    }
    /// Sets octet 3 (SCSI Response, Data-In: status).
    pub fn set_status(&mut self, v: u8) {
        self.buf.as_mut()[field::STATUS] = v;
    }
    /// Sets TotalAHSLength.
    pub fn set_total_ahs_len(&mut self, v: u8) {
        self.buf.as_mut()[field::TOTAL_AHS_LEN] = v;
    }
    /// Sets DataSegmentLength; only the low 24 bits of `v` are written.
    pub fn set_data_segment_len(&mut self, v: u32) {
        self.buf.as_mut()[field::DATA_SEGMENT_LEN].copy_from_slice(&v.to_be_bytes()[1..]);
    }
    /// Sets the LUN.
    pub fn set_lun(&mut self, v: u64) {
        put_be64(self.buf.as_mut(), field::LUN, v);
    }
    /// Sets the CDB.
    pub fn set_cdb(&mut self, v: [u8; 16]) {
        self.buf.as_mut()[field::CDB].copy_from_slice(&v);
    }
    /// Everything after the BHS, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buf.as_mut()[field::LEN..]
    }
}

/// Heuristic: could `buf` start with a BHS? At least 48 octets, a known opcode, octet 0's
/// reserved bit clear, no AHS. (DataSegmentLength is not checked: its 24 bits cannot exceed
/// any sensible bound.)
pub fn looks_like_bhs(buf: &[u8]) -> bool {
    let Ok(b) = Bhs::new_checked(buf) else {
        return false;
    };
    !matches!(b.opcode(), IscsiOpcode::Unknown(_))
        && b.opcode_byte() & field::OPCODE_RESERVED_MASK == 0
        && b.total_ahs_len() == 0
}

/// Octets 20..48 of a [`BhsRepr`], decoded as its opcode says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BhsBody {
    /// Opcode 0x01.
    ScsiCommand {
        /// Expected Data Transfer Length (octets 20..24).
        edtl: u32,
        /// CmdSN (24..28).
        cmdsn: u32,
        /// ExpStatSN (28..32).
        expstatsn: u32,
        /// The CDB (32..48).
        cdb: [u8; 16],
    },
    /// Opcode 0x21.
    ScsiResponse {
        /// SNACK Tag (20..24).
        snack_tag: u32,
        /// StatSN (24..28).
        statsn: u32,
        /// ExpCmdSN (28..32).
        expcmdsn: u32,
        /// MaxCmdSN (32..36).
        maxcmdsn: u32,
        /// ExpDataSN (36..40).
        expdatasn: u32,
        /// Bidirectional Read Residual Count (40..44).
        bidi_residual: u32,
        /// Residual Count (44..48).
        residual: u32,
    },
    /// Opcode 0x31.
    R2t {
        /// Target Transfer Tag (20..24).
        ttt: u32,
        /// StatSN (24..28).
        statsn: u32,
        /// ExpCmdSN (28..32).
        expcmdsn: u32,
        /// MaxCmdSN (32..36).
        maxcmdsn: u32,
        /// R2TSN (36..40).
        r2tsn: u32,
        /// Buffer Offset (40..44).
        buffer_offset: u32,
        /// Desired Data Transfer Length (44..48).
        desired_len: u32,
    },
    /// Opcode 0x05.
    DataOut {
        /// Target Transfer Tag (20..24).
        ttt: u32,
        /// Reserved octets 24..28, raw.
        reserved1: u32,
        /// ExpStatSN (28..32).
        expstatsn: u32,
        /// Reserved octets 32..36, raw.
        reserved2: u32,
        /// DataSN (36..40).
        datasn: u32,
        /// Buffer Offset (40..44).
        buffer_offset: u32,
        /// Reserved octets 44..48, raw.
        reserved3: u32,
    },
    /// Opcode 0x25.
    DataIn {
        /// Target Transfer Tag (20..24).
        ttt: u32,
        /// StatSN (24..28).
        statsn: u32,
        /// ExpCmdSN (28..32).
        expcmdsn: u32,
        /// MaxCmdSN (32..36).
        maxcmdsn: u32,
        /// DataSN (36..40).
        datasn: u32,
        /// Buffer Offset (40..44).
        buffer_offset: u32,
        /// Residual Count (44..48).
        residual: u32,
    },
    /// Any other opcode: octets 20..48, raw.
    Other([u8; 28]),
}

/// A BHS, owned and lossless.
///
/// `emit` writes `opcode` as it is, so a BHS whose body disagrees with its opcode can be built
/// on purpose; [`BhsRepr::parse`] always picks the body from `opcode & 0x3F`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BhsRepr {
    /// Octet 0, raw: reserved bit, I bit and opcode.
    pub opcode: u8,
    /// Octet 1, raw.
    pub flags: u8,
    /// Octets 2..4, raw (SCSI Response: response, status; Data-In: reserved, status).
    pub specific: [u8; 2],
    /// TotalAHSLength, in 4-octet words.
    pub total_ahs_len: u8,
    /// DataSegmentLength; must fit 24 bits for `emit`.
    pub data_segment_len: u32,
    /// LUN (or opcode-specific octets 8..16).
    pub lun: u64,
    /// Initiator Task Tag.
    pub itt: u32,
    /// Octets 20..48.
    pub body: BhsBody,
}

const F_ATTR_SIMPLE: u8 = field::F_MASK | 1;

impl BhsRepr {
    /// A SCSI Command (opcode 0x01): F set, R and W as given, ATTR 1 (simple).
    #[allow(clippy::too_many_arguments)]
    pub const fn scsi_command(
        read: bool,
        write: bool,
        itt: u32,
        edtl: u32,
        cmdsn: u32,
        expstatsn: u32,
        lun: u64,
        cdb: [u8; 16],
    ) -> Self {
        let mut flags = F_ATTR_SIMPLE;
        if read {
            flags |= field::R_MASK;
        }
        if write {
            flags |= field::W_MASK;
        }
        let body = BhsBody::ScsiCommand {
            edtl,
            cmdsn,
            expstatsn,
            cdb,
        };
        Self::with(0x01, flags, [0, 0], 0, lun, itt, body)
    }

    /// A SCSI Response (opcode 0x21, flags F only, response 0 "command completed").
    pub const fn scsi_response(
        itt: u32,
        status: u8,
        statsn: u32,
        expcmdsn: u32,
        maxcmdsn: u32,
        residual: u32,
    ) -> Self {
        let body = BhsBody::ScsiResponse {
            snack_tag: 0,
            statsn,
            expcmdsn,
            maxcmdsn,
            expdatasn: 0,
            bidi_residual: 0,
            residual,
        };
        Self::with(0x21, field::F_MASK, [0, status], 0, 0, itt, body)
    }

    /// A Ready To Transfer (opcode 0x31, flags F only).
    #[allow(clippy::too_many_arguments)]
    pub const fn r2t(
        itt: u32,
        ttt: u32,
        statsn: u32,
        expcmdsn: u32,
        maxcmdsn: u32,
        r2tsn: u32,
        buffer_offset: u32,
        desired_len: u32,
    ) -> Self {
        let body = BhsBody::R2t {
            ttt,
            statsn,
            expcmdsn,
            maxcmdsn,
            r2tsn,
            buffer_offset,
            desired_len,
        };
        Self::with(0x31, field::F_MASK, [0, 0], 0, 0, itt, body)
    }

    /// A SCSI Data-Out (opcode 0x05), F as `final_flag` says, reserved fields zero.
    pub const fn data_out(
        itt: u32,
        ttt: u32,
        expstatsn: u32,
        datasn: u32,
        buffer_offset: u32,
        data_segment_len: u32,
        final_flag: bool,
    ) -> Self {
        let flags = if final_flag { field::F_MASK } else { 0 };
        let body = BhsBody::DataOut {
            ttt,
            reserved1: 0,
            expstatsn,
            reserved2: 0,
            datasn,
            buffer_offset,
            reserved3: 0,
        };
        Self::with(0x05, flags, [0, 0], data_segment_len, 0, itt, body)
    }

    /// A SCSI Data-In (opcode 0x25), F as `final_flag` says; with `Some(status)`, S set and the
    /// status in octet 3.
    #[allow(clippy::too_many_arguments)]
    pub const fn data_in(
        itt: u32,
        ttt: u32,
        statsn: u32,
        expcmdsn: u32,
        maxcmdsn: u32,
        datasn: u32,
        buffer_offset: u32,
        data_segment_len: u32,
        final_flag: bool,
        status: Option<u8>,
    ) -> Self {
        let mut flags = if final_flag { field::F_MASK } else { 0 };
        let specific = match status {
            Some(s) => {
                flags |= field::DATA_IN_S_MASK;
                [0, s]
            }
            None => [0, 0],
        };
        let body = BhsBody::DataIn {
            ttt,
            statsn,
            expcmdsn,
            maxcmdsn,
            datasn,
            buffer_offset,
            residual: 0,
        };
        Self::with(0x25, flags, specific, data_segment_len, 0, itt, body)
    }

    const fn with(
        opcode: u8,
        flags: u8,
        specific: [u8; 2],
        data_segment_len: u32,
        lun: u64,
        itt: u32,
        body: BhsBody,
    ) -> Self {
        BhsRepr {
            opcode,
            flags,
            specific,
            total_ahs_len: 0,
            data_segment_len,
            lun,
            itt,
            body,
        }
    }

    /// Reads the BHS of a view.
    pub fn parse<B: AsRef<[u8]>>(b: &Bhs<B>) -> Self {
        let body = match b.opcode_byte() & field::OPCODE_MASK {
            0x01 => BhsBody::ScsiCommand {
                edtl: b.edtl(),
                cmdsn: b.cmdsn(),
                expstatsn: b.expstatsn(),
                cdb: b.cdb(),
            },
            0x21 => BhsBody::ScsiResponse {
                snack_tag: b.snack_tag(),
                statsn: b.statsn(),
                expcmdsn: b.expcmdsn(),
                maxcmdsn: b.maxcmdsn(),
                expdatasn: b.expdatasn(),
                bidi_residual: b.bidi_residual(),
                residual: b.residual(),
            },
            0x31 => BhsBody::R2t {
                ttt: b.ttt(),
                statsn: b.statsn(),
                expcmdsn: b.expcmdsn(),
                maxcmdsn: b.maxcmdsn(),
                r2tsn: b.r2tsn(),
                buffer_offset: b.buffer_offset(),
                desired_len: b.desired_len(),
            },
            0x05 => BhsBody::DataOut {
                ttt: b.ttt(),
                reserved1: be32(b.header(), field::DATA_OUT_RESERVED1),
                expstatsn: b.expstatsn(),
                reserved2: be32(b.header(), field::DATA_OUT_RESERVED2),
                datasn: b.datasn(),
                buffer_offset: b.buffer_offset(),
                reserved3: be32(b.header(), field::DATA_OUT_RESERVED3),
            },
            0x25 => BhsBody::DataIn {
                ttt: b.ttt(),
                statsn: b.statsn(),
                expcmdsn: b.expcmdsn(),
                maxcmdsn: b.maxcmdsn(),
                datasn: b.datasn(),
                buffer_offset: b.buffer_offset(),
                residual: b.residual(),
            },
            _ => BhsBody::Other(array(b.header(), field::BODY)),
        };
        BhsRepr {
            opcode: b.opcode_byte(),
            flags: b.flags(),
            specific: array(b.header(), field::SPECIFIC),
            total_ahs_len: b.total_ahs_len(),
            data_segment_len: b.data_segment_len(),
            lun: b.lun(),
            itt: b.itt(),
            body,
        }
    }

    /// Decodes the BHS at the start of `buf`.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self> {
        Bhs::new_checked(buf).map(|b| Self::parse(&b))
    }

    /// Always 48.
    pub const fn header_len(&self) -> usize {
        field::LEN
    }

    /// The opcode named (`opcode & 0x3F`).
    pub const fn op(&self) -> IscsiOpcode {
        IscsiOpcode::from_raw(self.opcode)
    }

    /// Writes exactly 48 octets to the front of `out`. Fails, writing nothing, when `out` is
    /// short or `data_segment_len` does not fit 24 bits.
    pub fn emit(&self, out: &mut [u8]) -> Result<usize> {
        need(out, field::LEN, Layer::Iscsi, "output buffer")?;
        if self.data_segment_len > MAX_DATA_SEGMENT_LEN {
            let v = u64::from(self.data_segment_len);
            return Err(Error::bad_length(Layer::Iscsi, "DataSegmentLength", v));
        }
        out[field::OPCODE] = self.opcode;
        out[field::FLAGS] = self.flags;
        out[field::SPECIFIC].copy_from_slice(&self.specific);
        out[field::TOTAL_AHS_LEN] = self.total_ahs_len;
        out[field::DATA_SEGMENT_LEN].copy_from_slice(&self.data_segment_len.to_be_bytes()[1..]);
        put_be64(out, field::LUN, self.lun);
        put_be32(out, field::ITT, self.itt);
        let words = match self.body {
            BhsBody::ScsiCommand {
                edtl,
                cmdsn,
                expstatsn,
                cdb,
            } => {
                put_be32(out, field::EDTL, edtl);
                put_be32(out, field::CMDSN, cmdsn);
                put_be32(out, field::EXPSTATSN, expstatsn);
                out[field::CDB].copy_from_slice(&cdb);
                return Ok(field::LEN);
            }
            BhsBody::Other(raw) => {
                out[field::BODY].copy_from_slice(&raw);
                return Ok(field::LEN);
            }
            // The four 7-word bodies, each word in its RFC position.
            BhsBody::ScsiResponse {
                snack_tag: a,
                statsn: b,
                expcmdsn: c,
                maxcmdsn: d,
                expdatasn: e,
                bidi_residual: g,
                residual: h,
            }
            | BhsBody::R2t {
                ttt: a,
                statsn: b,
                expcmdsn: c,
                maxcmdsn: d,
                r2tsn: e,
                buffer_offset: g,
                desired_len: h,
            }
            | BhsBody::DataOut {
                ttt: a,
                reserved1: b,
                expstatsn: c,
                reserved2: d,
                datasn: e,
                buffer_offset: g,
                reserved3: h,
            }
            | BhsBody::DataIn {
                ttt: a,
                statsn: b,
                expcmdsn: c,
                maxcmdsn: d,
                datasn: e,
                buffer_offset: g,
                residual: h,
            } => [a, b, c, d, e, g, h],
        };
        for (i, w) in words.into_iter().enumerate() {
            let at = field::BODY.start + 4 * i;
            put_be32(out, at..at + 4, w);
        }
        Ok(field::LEN)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for BhsRepr {
    /// 48 arbitrary octets, the opcode biased towards the five decoded ones, parsed: the body
    /// always matches the opcode and DataSegmentLength fits 24 bits.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut b: [u8; 48] = u.arbitrary()?;
        if u.arbitrary()? {
            let op = *u.choose(&[0x01u8, 0x21, 0x31, 0x05, 0x25])?;
            b[0] = (b[0] & !field::OPCODE_MASK) | op;
        }
        BhsRepr::parse_bytes(&b).map_err(|_| arbitrary::Error::IncorrectFormat)
    }
}

impl fmt::Display for BhsRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op() {
            IscsiOpcode::Unknown(v) => write!(f, "iSCSI opcode=0x{v:02x}")?,
            o => write!(f, "iSCSI {}", o.name())?,
        }
        if self.opcode & field::I_MASK != 0 {
            f.write_str(" I")?;
        }
        let fl = |m: u8, s: &'static str| if self.flags & m != 0 { s } else { "" };
        let itt = self.itt;
        match self.body {
            BhsBody::ScsiCommand {
                edtl, cmdsn, cdb, ..
            } => {
                let (r, w) = (fl(field::R_MASK, " R"), fl(field::W_MASK, " W"));
                write!(f, "{r}{w} ITT=0x{itt:x} EDTL={edtl} CmdSN={cmdsn}")?;
                match cdb_rw10_fields(&cdb) {
                    Some((op, lba, blocks)) => {
                        let name = if op == SCSI_READ_10 {
                            "READ(10)"
                        } else {
                            "WRITE(10)"
                        };
                        write!(f, " {name} LBA={lba} blocks={blocks}")?;
                    }
                    None => write!(f, " CDB=0x{:02x}", cdb[field::CDB_OPCODE])?,
                }
            }
            BhsBody::ScsiResponse {
                statsn, residual, ..
            } => {
                write!(
                    f,
                    " ITT=0x{itt:x} status=0x{:02x} StatSN={statsn}",
                    self.specific[1]
                )?;
                if self.specific[0] != 0 {
                    write!(f, " response=0x{:02x}", self.specific[0])?;
                }
                if residual != 0 {
                    write!(f, " residual={residual}")?;
                }
            }
            BhsBody::R2t {
                ttt,
                r2tsn,
                buffer_offset,
                desired_len,
                ..
            } => write!(
                f,
                " ITT=0x{itt:x} TTT=0x{ttt:x} R2TSN={r2tsn} offset={buffer_offset} len={desired_len}"
            )?,
            BhsBody::DataOut {
                datasn,
                buffer_offset,
                ..
            } => write!(
                f,
                "{} ITT=0x{itt:x} DataSN={datasn} offset={buffer_offset} len={}",
                fl(field::F_MASK, " F"),
                self.data_segment_len
            )?,
            BhsBody::DataIn {
                datasn,
                buffer_offset,
                ..
            } => {
                write!(
                    f,
                    "{}{} ITT=0x{itt:x} DataSN={datasn} offset={buffer_offset} len={}",
                    fl(field::F_MASK, " F"),
                    fl(field::DATA_IN_S_MASK, " S"),
                    self.data_segment_len
                )?;
                if self.flags & field::DATA_IN_S_MASK != 0 {
                    write!(f, " status=0x{:02x}", self.specific[1])?;
                }
            }
            BhsBody::Other(_) => write!(f, " ITT=0x{itt:x} len={}", self.data_segment_len)?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// RFC 3720 Appendix B.4, "iSCSI - SCSI Read (10) Command PDU" (CRC32C 0xd9963a56).
    #[rustfmt::skip]
    const READ_10_B4: [u8; 48] = [
        0x01,                   // I=0, opcode 0x01 SCSI Command
        0xC0,                   // F=1 R=1 W=0 ATTR=0
        0x00, 0x00,             // reserved
        0x00,                   // TotalAHSLength 0
        0x00, 0x00, 0x00,       // DataSegmentLength 0
        0x00, 0x00, 0x00, 0x00, // LUN (high)
        0x00, 0x00, 0x00, 0x00, // LUN (low) = 0
        0x14, 0x00, 0x00, 0x00, // ITT 0x14000000
        0x00, 0x00, 0x04, 0x00, // EDTL 1024
        0x00, 0x00, 0x00, 0x14, // CmdSN 20
        0x00, 0x00, 0x00, 0x18, // ExpStatSN 24
        0x28, 0x00, 0x00, 0x00, // CDB: READ(10), flags, LBA[0..2]
        0x00, 0x00, 0x00, 0x00, // CDB: LBA[2..4] = 0, group, transfer length (high)
        0x02, 0x00, 0x00, 0x00, // CDB: transfer length (low) = 2 blocks, control, padding
        0x00, 0x00, 0x00, 0x00, // CDB: padding
    ];

    /// An R2T for 64 KiB at offset 0.
    #[rustfmt::skip]
    const R2T: [u8; 48] = [
        0x31,                   // opcode 0x31 R2T
        0x80,                   // F=1
        0x00, 0x00,             // reserved
        0x00,                   // TotalAHSLength 0
        0x00, 0x00, 0x00,       // DataSegmentLength 0
        0x00, 0x00, 0x00, 0x00, // LUN (high)
        0x00, 0x00, 0x00, 0x00, // LUN (low)
        0x00, 0x00, 0x00, 0x10, // ITT 0x10
        0x00, 0x00, 0x00, 0x2A, // TTT 0x2a
        0x00, 0x00, 0x00, 0x01, // StatSN 1
        0x00, 0x00, 0x00, 0x02, // ExpCmdSN 2
        0x00, 0x00, 0x00, 0x09, // MaxCmdSN 9
        0x00, 0x00, 0x00, 0x00, // R2TSN 0
        0x00, 0x00, 0x00, 0x00, // Buffer Offset 0
        0x00, 0x01, 0x00, 0x00, // Desired Data Transfer Length 65536
    ];

    /// The last Data-In of a read, status included, with 5 data octets and 3 of padding.
    #[rustfmt::skip]
    const DATA_IN: [u8; 56] = [
        0x25,                   // opcode 0x25 SCSI Data-In
        0x81,                   // F=1 A=0 O=0 U=0 S=1
        0x00, 0x00,             // reserved, status 0x00 GOOD
        0x00,                   // TotalAHSLength 0
        0x00, 0x00, 0x05,       // DataSegmentLength 5
        0x00, 0x00, 0x00, 0x00, // LUN (high)
        0x00, 0x00, 0x00, 0x00, // LUN (low)
        0x00, 0x00, 0x00, 0x10, // ITT 0x10
        0xFF, 0xFF, 0xFF, 0xFF, // TTT 0xffffffff
        0x00, 0x00, 0x00, 0x02, // StatSN 2
        0x00, 0x00, 0x00, 0x03, // ExpCmdSN 3
        0x00, 0x00, 0x00, 0x0A, // MaxCmdSN 10
        0x00, 0x00, 0x00, 0x04, // DataSN 4
        0x00, 0x00, 0x20, 0x00, // Buffer Offset 8192
        0x00, 0x00, 0x00, 0x00, // Residual Count 0
        0x61, 0x62, 0x63, 0x64, // data "abcd"
        0x65, 0x00, 0x00, 0x00, // data "e", padding
    ];

    fn data_in_repr() -> BhsRepr {
        BhsRepr::data_in(0x10, 0xFFFF_FFFF, 2, 3, 10, 4, 8192, 5, true, Some(0))
    }

    #[test]
    fn deconstruct_rfc3720_b4_read_10() {
        let b = Bhs::new_checked(&READ_10_B4[..]).unwrap();
        assert_eq!(b.opcode(), IscsiOpcode::ScsiCommand);
        assert!(!b.immediate());
        assert!(b.final_flag() && b.read() && !b.write());
        assert_eq!(
            (b.attr(), b.total_ahs_len(), b.data_segment_len()),
            (0, 0, 0)
        );
        assert_eq!((b.lun(), b.itt()), (0, 0x1400_0000));
        assert_eq!((b.edtl(), b.cmdsn(), b.expstatsn()), (1024, 20, 24));
        assert_eq!(cdb_rw10_fields(&b.cdb()), Some((SCSI_READ_10, 0, 2)));
        assert_eq!(b.cdb(), cdb_rw10(SCSI_READ_10, 0, 2));
        assert_eq!((b.pdu_len(), b.data()), (48, &[][..]));
        assert_eq!(::crc32c::crc32c(&READ_10_B4), 0xd996_3a56);
    }

    #[test]
    fn deconstruct_r2t_and_data_in() {
        let b = Bhs::new_checked(&R2T[..]).unwrap();
        assert_eq!(b.opcode(), IscsiOpcode::R2t);
        assert_eq!(
            (b.itt(), b.ttt(), b.statsn(), b.expcmdsn()),
            (0x10, 0x2A, 1, 2)
        );
        assert_eq!((b.maxcmdsn(), b.r2tsn(), b.buffer_offset()), (9, 0, 0));
        assert_eq!(b.desired_len(), 65536);

        let b = Bhs::new_checked(&DATA_IN[..]).unwrap();
        assert_eq!(b.opcode(), IscsiOpcode::DataIn);
        assert!(b.final_flag() && b.status_present());
        assert_eq!(
            (b.status(), b.data_segment_len(), b.ttt()),
            (0, 5, 0xFFFF_FFFF)
        );
        assert_eq!((b.statsn(), b.expcmdsn(), b.maxcmdsn()), (2, 3, 10));
        assert_eq!((b.datasn(), b.buffer_offset(), b.residual()), (4, 8192, 0));
        assert_eq!((b.pdu_len(), b.data()), (56, &b"abcde"[..]));
        assert_eq!(b.data_ref(), b"abcde");
        // Data clipped to the buffer, never a panic.
        assert_eq!(Bhs::new_checked(&DATA_IN[..50]).unwrap().data(), b"ab");
        assert!(Bhs::new_checked(&DATA_IN[..48]).unwrap().data().is_empty());
        let mut ahs = DATA_IN;
        ahs[4] = 0xFF; // TotalAHSLength far past the buffer
        assert!(Bhs::new_checked(&ahs[..]).unwrap().data().is_empty());
        assert_eq!(Bhs::new_checked(&ahs[..]).unwrap().pdu_len(), 48 + 1020 + 8);
    }

    #[test]
    fn construct_with_setters() {
        let mut buf = [0xEEu8; 48];
        let mut b = Bhs::new_checked(&mut buf[..]).unwrap();
        b.set_opcode_byte(0x01);
        b.set_flags(0xC0);
        b.set_response(0);
        b.set_status(0);
        b.set_total_ahs_len(0);
        b.set_data_segment_len(0);
        b.set_lun(0);
        b.set_itt(0x1400_0000);
        b.set_edtl(1024);
        b.set_cmdsn(20);
        b.set_expstatsn(24);
        b.set_cdb(cdb_rw10(SCSI_READ_10, 0, 2));
        assert_eq!(buf, READ_10_B4);

        let mut buf = [0u8; 56];
        let mut b = Bhs::new_checked(&mut buf[..]).unwrap();
        b.set_opcode_byte(0x25);
        b.set_flags(0x81);
        b.set_data_segment_len(5);
        b.set_itt(0x10);
        b.set_ttt(0xFFFF_FFFF);
        b.set_statsn(2);
        b.set_expcmdsn(3);
        b.set_maxcmdsn(10);
        b.set_datasn(4);
        b.set_buffer_offset(8192);
        b.set_residual(0);
        b.payload_mut()[..5].copy_from_slice(b"abcde");
        assert_eq!(buf, DATA_IN);

        let mut buf = [0u8; 48];
        let mut b = Bhs::new_checked(&mut buf[..]).unwrap();
        b.set_snack_tag(1);
        b.set_expdatasn(2);
        b.set_bidi_residual(3);
        b.set_r2tsn(4); // the same octets as ExpDataSN and DataSN
        b.set_desired_len(5);
        b.set_data_segment_len(0xAB12_3456); // only 24 bits written
        assert_eq!((b.snack_tag(), b.expdatasn(), b.bidi_residual()), (1, 4, 3));
        assert_eq!(
            (b.datasn(), b.residual(), b.data_segment_len()),
            (4, 5, 0x12_3456)
        );
        assert_eq!(buf[4], 0);
    }

    #[test]
    fn parse() {
        let r = BhsRepr::parse_bytes(&READ_10_B4).unwrap();
        let mut want = BhsRepr::scsi_command(
            true,
            false,
            0x1400_0000,
            1024,
            20,
            24,
            0,
            cdb_rw10(0x28, 0, 2),
        );
        want.flags = 0xC0; // B.4 uses ATTR 0 (untagged)
        assert_eq!(r, want);
        let r = BhsRepr::parse_bytes(&R2T).unwrap();
        assert_eq!(r, BhsRepr::r2t(0x10, 0x2A, 1, 2, 9, 0, 0, 65536));
        assert_eq!(BhsRepr::parse_bytes(&DATA_IN).unwrap(), data_in_repr());
    }

    #[test]
    fn emit() {
        let mut out = [0xEEu8; 48];
        let r = BhsRepr::parse_bytes(&READ_10_B4).unwrap();
        assert_eq!(r.emit(&mut out).unwrap(), r.header_len());
        assert_eq!(out, READ_10_B4);
        data_in_repr().emit(&mut out).unwrap();
        assert_eq!(out, DATA_IN[..48]);
        let e = r.emit(&mut [0u8; 47]).unwrap_err();
        let s = "iSCSI: truncated output buffer: need 48 bytes, have 47 (at byte 0)";
        assert_eq!(e.to_string(), s);
    }

    #[test]
    fn every_body_round_trips() {
        // Every octet distinct, so a word parsed or emitted at the wrong place shows.
        for op in [0x01u8, 0x21, 0x31, 0x05, 0x25, 0x60] {
            let mut bytes: [u8; 48] = core::array::from_fn(|i| i as u8);
            bytes[0] = op;
            let r = BhsRepr::parse_bytes(&bytes).unwrap();
            assert!(matches!(
                (op, r.body),
                (0x01, BhsBody::ScsiCommand { .. })
                    | (0x21, BhsBody::ScsiResponse { .. })
                    | (0x31, BhsBody::R2t { .. })
                    | (0x05, BhsBody::DataOut { .. })
                    | (0x25, BhsBody::DataIn { .. })
                    | (0x60, BhsBody::Other(_))
            ));
            if let BhsBody::DataOut {
                reserved1,
                datasn,
                reserved3,
                ..
            } = r.body
            {
                assert_eq!(
                    (reserved1, datasn, reserved3),
                    (0x1819_1a1b, 0x2425_2627, 0x2c2d_2e2f)
                );
            }
            let mut out = [0u8; 48];
            r.emit(&mut out).unwrap();
            assert_eq!(out, bytes, "{r}");
        }
        let cdb = cdb_rw10(SCSI_WRITE_10, 7, 128);
        for r in [
            BhsRepr::scsi_command(true, true, 0x10, 65536, 1, 1, 1 << 48, cdb),
            BhsRepr::scsi_response(9, 0x02, 1, 2, 3, 4),
            BhsRepr::r2t(1, 2, 3, 4, 5, 6, 7, 8),
            BhsRepr::data_out(1, 2, 3, 4, 5, 0xFF_FFFF, false),
            BhsRepr::data_in(1, 2, 3, 4, 5, 6, 7, 8, false, None),
        ] {
            let mut out = [0u8; 48];
            r.emit(&mut out).unwrap();
            assert_eq!(BhsRepr::parse_bytes(&out).unwrap(), r, "{r}");
        }
    }

    #[test]
    fn data_segment_len_over_24_bits_is_rejected() {
        let r = BhsRepr::data_out(1, 2, 3, 4, 5, 0x0100_0000, true);
        let mut out = [0u8; 48];
        let e = r.emit(&mut out).unwrap_err();
        assert_eq!(
            e,
            Error::bad_length(Layer::Iscsi, "DataSegmentLength", 0x0100_0000)
        );
        assert_eq!(out, [0u8; 48]);
    }

    #[test]
    fn every_prefix_is_truncated() {
        for n in 0..48 {
            let e = Bhs::new_checked(&READ_10_B4[..n]).unwrap_err();
            assert_eq!(e.layer, Layer::Iscsi);
            assert!(
                matches!(e.kind, ErrorKind::Truncated { needed: 48, got, .. } if got == n),
                "prefix {n}: {e}"
            );
            assert!(BhsRepr::parse_bytes(&DATA_IN[..n]).is_err());
            assert!(!looks_like_bhs(&R2T[..n]));
        }
    }

    #[test]
    fn display() {
        let cdb = cdb_rw10(SCSI_WRITE_10, 0, 128);
        let r = BhsRepr::scsi_command(false, true, 0x10, 65536, 1, 1, 0, cdb);
        let s = "iSCSI SCSI Command W ITT=0x10 EDTL=65536 CmdSN=1 WRITE(10) LBA=0 blocks=128";
        assert_eq!(r.to_string(), s);
        let r = BhsRepr::parse_bytes(&READ_10_B4).unwrap();
        let s = "iSCSI SCSI Command R ITT=0x14000000 EDTL=1024 CmdSN=20 READ(10) LBA=0 blocks=2";
        assert_eq!(r.to_string(), s);
        let r = BhsRepr::scsi_response(0x10, 0, 1, 2, 9, 0);
        assert_eq!(
            r.to_string(),
            "iSCSI SCSI Response ITT=0x10 status=0x00 StatSN=1"
        );
        let r = BhsRepr::parse_bytes(&R2T).unwrap();
        let s = "iSCSI Ready To Transfer ITT=0x10 TTT=0x2a R2TSN=0 offset=0 len=65536";
        assert_eq!(r.to_string(), s);
        let r = BhsRepr::data_out(0x10, 0x2A, 1, 3, 4096, 1024, true);
        let s = "iSCSI SCSI Data Out F ITT=0x10 DataSN=3 offset=4096 len=1024";
        assert_eq!(r.to_string(), s);
        let s = "iSCSI SCSI Data In F S ITT=0x10 DataSN=4 offset=8192 len=5 status=0x00";
        assert_eq!(data_in_repr().to_string(), s);
        let mut r = BhsRepr::parse_bytes(&[0u8; 48]).unwrap();
        assert_eq!(r.to_string(), "iSCSI NOP Out ITT=0x0 len=0");
        r.opcode = 0x47;
        assert_eq!(r.to_string(), "iSCSI opcode=0x07 I ITT=0x0 len=0");
    }

    #[test]
    fn opcode_names() {
        for v in 0..64u8 {
            assert_eq!(u8::from(IscsiOpcode::from(v)), v);
        }
        assert_eq!(IscsiOpcode::from(0x3F), IscsiOpcode::Reject);
        assert_eq!(IscsiOpcode::from(0x62), IscsiOpcode::TaskMgmtResponse);
        assert_eq!(IscsiOpcode::R2t.to_string(), "Ready To Transfer");
        assert_eq!(IscsiOpcode::Unknown(0x07).to_string(), "0x07");
        assert_eq!(cdb_rw10_fields(&[0x12; 16]), None);
    }

    #[test]
    fn heuristic() {
        assert!(looks_like_bhs(&READ_10_B4));
        assert!(looks_like_bhs(&R2T));
        assert!(looks_like_bhs(&DATA_IN));
        assert!(!looks_like_bhs(&[0xFF; 64]));
        let mut b = READ_10_B4;
        b[0] = 0x07; // unassigned opcode
        assert!(!looks_like_bhs(&b));
        b[0] = 0x81; // reserved bit
        assert!(!looks_like_bhs(&b));
        let mut b = READ_10_B4;
        b[4] = 1; // AHS
        assert!(!looks_like_bhs(&b));
        // The largest DataSegmentLength the field holds does not disqualify a BHS.
        let mut b = READ_10_B4;
        b[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        assert!(looks_like_bhs(&b));
    }

    #[cfg(feature = "arbitrary")]
    #[test]
    fn arbitrary_round_trips() {
        arbtest::arbtest(|u| {
            let r: BhsRepr = u.arbitrary()?;
            let mut out = [0u8; 48];
            r.emit(&mut out).unwrap();
            assert_eq!(BhsRepr::parse_bytes(&out).unwrap(), r);
            let _ = r.to_string();
            Ok(())
        });
    }
}
