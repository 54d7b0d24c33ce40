//! The capture reader: pcap and pcapng files, streamed from a path or standard input, one packet
//! at a time, each with its timestamp, interface, link type and byte offset in the file.
//!
//! | format | what is read |
//! |---|---|
//! | pcap | µs (`a1b2c3d4`) and ns (`a1b23c4d`) magic, either byte order |
//! | pcapng | any number of sections, each in its own byte order; any number of interfaces, each with its `if_tsresol` (10^-n or 2^-n, default 10^-6) and `if_tsoffset`; Enhanced, Simple and obsolete Packet Blocks; EPB / PB comments |
//!
//! The input is read in 1 MiB chunks into one buffer that is reused, so memory does not grow
//! with the file; a record bigger than the buffer grows it to that record's size. Records are
//! cut out of the buffer by pcap-file's slice parsers ([`PcapParser`], [`PcapNgParser`], which
//! also keep each section's byte order and interfaces) and handed out in place:
//! [`CaptureReader::next`] lends a [`Packet`] that borrows the buffer until the next call.
//!
//! The bodies of packet blocks are decoded here, not by pcap-file's block types: those collect
//! options into a `Vec` for every packet, read an EPB timestamp as nanoseconds whatever
//! `if_tsresol` says, and swap the timestamp words of an obsolete Packet Block in a
//! little-endian section. The raw 64-bit count is scaled by the interface's own resolution the
//! way Wireshark does (`secs = count / units`, `nsecs = (count % units) * 10^9 / units`, then
//! `+ if_tsoffset` seconds).
//!
//! [`Packet::interface`] numbers interfaces across the whole file: the first interface of a
//! section follows the last one of the section before, so it indexes
//! [`CaptureReader::interfaces`]. tshark 4.0 prints the index within the section as
//! `frame.interface_id`; that is [`Interface::id_in_section`].
//!
//! A damaged file yields every packet before the damage, then one [`CaptureError`] naming the
//! file and the byte offset of the bad record, then nothing.
//!
//! ```no_run
//! use oneshot_dissect::capture::CaptureReader;
//!
//! # fn main() -> Result<(), oneshot_dissect::capture::CaptureError> {
//! let mut reader = CaptureReader::open("trace.pcapng")?;
//! while let Some(packet) = reader.next() {
//!     let packet = packet?;
//!     println!("{} {} {} octets", packet.number, packet.ts_ns, packet.data.len());
//! }
//! # Ok(())
//! # }
//! ```

use core::fmt;
use core::ops::Range;
use std::fs::File;
use std::io::{self, Read};

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::PcapNgParser;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::{
    ENHANCED_PACKET_BLOCK, INTERFACE_DESCRIPTION_BLOCK, INTERFACE_STATISTIC_BLOCK,
    NAME_RESOLUTION_BLOCK, PACKET_BLOCK, SECTION_HEADER_BLOCK, SIMPLE_PACKET_BLOCK,
};
use pcap_file::{Endianness, TsResolution as PcapTsResolution};

pub use crate::link::LinkType;

/// Size of the read buffer: 1 MiB measured faster than 4 MiB (it stays in the L2 cache).
const BUF_SIZE: usize = 1 << 20;

/// Largest pcapng block accepted: Wireshark's limit (a 128 MiB packet plus 128 KiB of options),
/// rounded up. A longer length field is taken for damage, not for a block to wait for.
const MAX_BLOCK: usize = (128 << 20) + (256 << 10);

/// Largest pcap record accepted whatever the snap length says (Wireshark's usual maximum).
const PCAP_MIN_LIMIT: usize = 256 << 10;

/// Length of a pcap file header.
const PCAP_HEADER_LEN: usize = 24;
/// Length of a pcap record header: seconds, fraction, captured length, original length.
const PCAP_RECORD_HEADER_LEN: usize = 16;

/// Shortest pcapng block: type, length, length.
const MIN_BLOCK: usize = 12;

/// Nanoseconds per second.
const NS_PER_S: i128 = 1_000_000_000;

/// The container format of a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Classic pcap.
    Pcap {
        /// Nanosecond timestamps (magic `a1b23c4d`) rather than microseconds.
        nanos: bool,
        /// Written big-endian.
        big_endian: bool,
    },
    /// pcapng (each section has its own byte order).
    PcapNg,
}

/// The resolution of an interface's timestamps (pcapng `if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsResolution {
    /// 10^-n seconds per unit.
    Decimal(u8),
    /// 2^-n seconds per unit.
    Binary(u8),
}

impl TsResolution {
    /// Microseconds: a pcapng interface without `if_tsresol`, a µs pcap.
    pub const MICROS: TsResolution = TsResolution::Decimal(6);
    /// Nanoseconds: an ns pcap.
    pub const NANOS: TsResolution = TsResolution::Decimal(9);

    /// Decodes the `if_tsresol` octet: the high bit chooses base 2 over base 10, the rest is
    /// the negative exponent.
    pub const fn from_if_tsresol(octet: u8) -> Self {
        if octet & 0x80 != 0 {
            TsResolution::Binary(octet & 0x7f)
        } else {
            TsResolution::Decimal(octet)
        }
    }

    /// Timestamp units per second, or `None` when that does not fit in 64 bits.
    pub const fn units_per_second(self) -> Option<u64> {
        match self {
            TsResolution::Decimal(n) => 10u64.checked_pow(n as u32),
            TsResolution::Binary(n) => 2u64.checked_pow(n as u32),
        }
    }
}

impl fmt::Display for TsResolution {
    /// `10^-6` or `2^-20`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsResolution::Decimal(n) => write!(f, "10^-{n}"),
            TsResolution::Binary(n) => write!(f, "2^-{n}"),
        }
    }
}

/// One capture interface: a pcapng Interface Description Block, or the single interface a pcap
/// file describes in its header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Link-layer type of its packets.
    pub link: LinkType,
    /// `if_name`.
    pub name: Option<String>,
    /// `if_description`.
    pub description: Option<String>,
    /// Timestamp resolution (`if_tsresol`; 10^-6 when absent; 10^-6 or 10^-9 for pcap).
    pub tsresol: TsResolution,
    /// Seconds added to every timestamp (`if_tsoffset`; 0 when absent and for pcap).
    pub tsoffset: i64,
    /// Most octets captured per packet; 0 means no limit.
    pub snaplen: u32,
    /// The pcapng section the interface belongs to, from 1 (tshark's `frame.section_number`);
    /// 1 for pcap.
    pub section_number: u32,
    /// The interface's index within its section, the number an Enhanced Packet Block names.
    /// tshark 4.0 prints this as `frame.interface_id` (it does not count across sections).
    pub id_in_section: u32,
}

/// One captured packet, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Position in the file, from 1, counting packets only.
    pub number: u64,
    /// Capture time in nanoseconds since the Unix epoch (0 for a Simple Packet Block, which
    /// has no timestamp).
    pub ts_ns: i64,
    /// Interface number across the file: the index of the packet's Interface Description Block
    /// among all those of the file so far (index within its section plus the interfaces of the
    /// sections before), so an index into [`CaptureReader::interfaces`]. Always 0 for pcap.
    /// tshark 4.0's `frame.interface_id` is the index within the section instead:
    /// [`Interface::id_in_section`].
    pub interface: u32,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// The captured octets.
    pub data: &'a [u8],
    /// Length of the packet on the wire (at least `data.len()` in a sane file).
    pub orig_len: u32,
    /// The interface the packet was captured on (`interfaces()[interface]`).
    pub iface: &'a Interface,
    /// The packet's comment (`opt_comment` of an Enhanced or obsolete Packet Block).
    pub comment: Option<&'a str>,
    /// Byte offset of the packet's record (pcap record header or pcapng block) in the file.
    pub offset: u64,
}

/// Why a capture could not be read.
///
/// Each message is one line naming the file and, but for I/O errors, the byte offset of the
/// damaged record, e.g. `trace.pcap: truncated at byte 123456: packet record says 1514 octets,
/// 900 left`.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file name as given (`standard input` for `-`).
        file: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The file starts with neither a pcap magic number nor a pcapng Section Header Block.
    #[error("{file}: not a pcap or pcapng file (magic 0x{magic:08x} at byte 0)")]
    BadMagic {
        /// The file name.
        file: String,
        /// The first four octets, read big-endian.
        magic: u32,
    },
    /// The file ends inside a record.
    #[error("{file}: truncated at byte {offset}: {what}")]
    Truncated {
        /// The file name.
        file: String,
        /// Byte offset of the record that is cut short.
        offset: u64,
        /// What the record announced and what was left, e.g. `packet record says 1514
        /// octets, 900 left`.
        what: String,
    },
    /// A record cannot be right: impossible block length, start and end lengths that differ,
    /// an interface that does not exist, a block pcap-file cannot parse.
    #[error("{file}: corrupt at byte {offset}: {what}")]
    Corrupt {
        /// The file name.
        file: String,
        /// Byte offset of the corrupt record.
        offset: u64,
        /// What is wrong with it.
        what: String,
    },
}

impl CaptureError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            CaptureError::Io { file, .. }
            | CaptureError::BadMagic { file, .. }
            | CaptureError::Truncated { file, .. }
            | CaptureError::Corrupt { file, .. } => file,
        }
    }

    /// Byte offset of the bad record (0 for a bad magic number, `None` for I/O errors).
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Io { .. } => None,
            CaptureError::BadMagic { .. } => Some(0),
            CaptureError::Truncated { offset, .. } | CaptureError::Corrupt { offset, .. } => {
                Some(*offset)
            }
        }
    }
}

/// The input and its buffer: `buf[start..end]` holds the octets read but not yet consumed,
/// and `buf[start]` is at file offset `offset`.
struct Input {
    reader: Box<dyn Read>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    offset: u64,
    read: u64,
    eof: bool,
}

impl Input {
    fn new(reader: Box<dyn Read>, capacity: usize) -> Self {
        Input {
            reader,
            buf: vec![0; capacity],
            start: 0,
            end: 0,
            offset: 0,
            read: 0,
            eof: false,
        }
    }

    /// The octets read and not consumed.
    #[inline]
    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` octets as used.
    #[inline]
    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// Reads until at least `n` octets are available; `Ok(false)` when the input ends first.
    /// Moves the unconsumed octets to the front of the buffer first, and grows the buffer when
    /// `n` is larger than it.
    fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.end - self.start >= n {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        while self.end < n {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => {
                    self.end += k;
                    self.read += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

/// How an interface's raw timestamps become nanoseconds.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Multiply by this many ns per unit (resolutions that divide a nanosecond), or divide
    /// by units per second.
    scale: Scale,
    /// `if_tsoffset` in seconds.
    offset_s: i64,
}

#[derive(Debug, Clone, Copy)]
enum Scale {
    NsPerUnit(u64),
    UnitsPerSecond(u64),
}

impl Clock {
    fn new(tsresol: TsResolution, offset_s: i64) -> Option<Self> {
        let units = tsresol.units_per_second()?;
        let scale = if units <= 1_000_000_000 && 1_000_000_000 % units == 0 {
            Scale::NsPerUnit(1_000_000_000 / units)
        } else {
            Scale::UnitsPerSecond(units)
        };
        Some(Clock { scale, offset_s })
    }

    /// Nanoseconds since the epoch for a raw count of units, saturating.
    #[inline]
    fn ns(self, raw: u64) -> i64 {
        let ns = match self.scale {
            Scale::NsPerUnit(m) => i128::from(raw) * i128::from(m),
            Scale::UnitsPerSecond(u) => {
                let frac = u128::from(raw % u) * NS_PER_S as u128 / u128::from(u);
                i128::from(raw / u) * NS_PER_S + frac as i128
            }
        };
        let t = ns + i128::from(self.offset_s) * NS_PER_S;
        t.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }
}

/// The format-specific state.
enum Kind {
    Pcap {
        parser: PcapParser,
        big_endian: bool,
        nanos: bool,
        limit: usize,
    },
    PcapNg {
        parser: Box<PcapNgParser>,
        /// Global number of the current section's first interface.
        section_base: usize,
        /// The current section's number, from 1.
        section_number: u32,
        /// One per entry of `interfaces`.
        clocks: Vec<Clock>,
    },
}

/// Where a record's packet is, before it is lent out.
struct Rec {
    ts_ns: i64,
    interface: u32,
    data: Range<usize>,
    orig_len: u32,
    comment: Option<Range<usize>>,
    offset: u64,
}

/// A streaming pcap / pcapng reader.
///
/// It is a lending iterator: each [`next`](CaptureReader::next) returns a [`Packet`] that
/// borrows the reader's buffer, so there is no per-packet allocation or copy.
pub struct CaptureReader {
    name: String,
    input: Input,
    kind: Kind,
    interfaces: Vec<Interface>,
    number: u64,
    done: bool,
    total_len: Option<u64>,
}

impl fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format())
            .field("interfaces", &self.interfaces)
            .field("packets", &self.number)
            .field("offset", &self.input.offset)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a capture file, or standard input for `-`, and reads its file header (pcap) or
    /// first Section Header Block (pcapng).
    pub fn open(path: &str) -> Result<Self, CaptureError> {
        if path == "-" {
            return Self::from_reader("standard input", Box::new(io::stdin()));
        }
        let io_err = |source| CaptureError::Io {
            file: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        let mut reader = Self::from_reader(path, Box::new(file))?;
        reader.total_len = meta.is_file().then_some(meta.len());
        Ok(reader)
    }

    /// Reads a capture from `r`, calling it `name` in errors. [`total_len`] is then unknown.
    ///
    /// [`total_len`]: CaptureReader::total_len
    pub fn from_reader(name: &str, r: Box<dyn Read>) -> Result<Self, CaptureError> {
        Self::with_capacity(name, r, BUF_SIZE)
    }

    fn with_capacity(name: &str, r: Box<dyn Read>, capacity: usize) -> Result<Self, CaptureError> {
        let mut input = Input::new(r, capacity);
        let name = name.to_owned();
        let io_err = |source| CaptureError::Io {
            file: name.clone(),
            source,
        };
        let truncated = |what: String| CaptureError::Truncated {
            file: name.clone(),
            offset: 0,
            what,
        };
        let corrupt = |what: String| CaptureError::Corrupt {
            file: name.clone(),
            offset: 0,
            what,
        };
        if !input.fill(4).map_err(io_err)? {
            let left = input.avail().len();
            return Err(truncated(if left == 0 {
                "the file is empty".into()
            } else {
                format!("a file header needs at least 4 octets, {left} left")
            }));
        }
        let avail = input.avail();
        let magic = u32::from_be_bytes([avail[0], avail[1], avail[2], avail[3]]);
        let (kind, interfaces) = match magic {
            0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => {
                if !input.fill(PCAP_HEADER_LEN).map_err(io_err)? {
                    let left = input.avail().len();
                    return Err(truncated(format!(
                        "pcap file header needs {PCAP_HEADER_LEN} octets, {left} left"
                    )));
                }
                let (_, parser) =
                    PcapParser::new(input.avail()).map_err(|e| corrupt(e.to_string()))?;
                input.consume(PCAP_HEADER_LEN);
                let header = parser.header();
                let nanos = header.ts_resolution == PcapTsResolution::NanoSecond;
                let interface = Interface {
                    link: LinkType::from(u32::from(header.datalink)),
                    name: None,
                    description: None,
                    tsresol: if nanos {
                        TsResolution::NANOS
                    } else {
                        TsResolution::MICROS
                    },
                    tsoffset: 0,
                    snaplen: header.snaplen,
                    section_number: 1,
                    id_in_section: 0,
                };
                let limit = usize::try_from(header.snaplen)
                    .unwrap_or(usize::MAX)
                    .clamp(PCAP_MIN_LIMIT, MAX_BLOCK);
                let kind = Kind::Pcap {
                    parser,
                    big_endian: header.endianness == Endianness::Big,
                    nanos,
                    limit,
                };
                (kind, vec![interface])
            }
            SECTION_HEADER_BLOCK => {
                input.fill(MIN_BLOCK).map_err(io_err)?;
                let len = match peek_block(input.avail(), Endianness::Big) {
                    Peek::Block { len, .. } => len,
                    Peek::Short => {
                        let left = input.avail().len();
                        return Err(truncated(format!(
                            "Section Header Block needs at least {MIN_BLOCK} octets, {left} left"
                        )));
                    }
                    Peek::Bad(what) => return Err(corrupt(what)),
                };
                if !input.fill(len).map_err(io_err)? {
                    let left = input.avail().len();
                    return Err(truncated(format!(
                        "Section Header Block says {len} octets, {left} left"
                    )));
                }
                let (_, parser) = PcapNgParser::new(&input.avail()[..len])
                    .map_err(|e| corrupt(format!("Section Header Block: {e}")))?;
                input.consume(len);
                let kind = Kind::PcapNg {
                    parser: Box::new(parser),
                    section_base: 0,
                    section_number: 1,
                    clocks: Vec::new(),
                };
                (kind, Vec::new())
            }
            magic => {
                return Err(CaptureError::BadMagic {
                    file: name.clone(),
                    magic,
                });
            }
        };
        Ok(CaptureReader {
            name,
            input,
            kind,
            interfaces,
            number: 0,
            done: false,
            total_len: None,
        })
    }

    /// The next packet, or the error that stops the reading, or `None` at the end (and after
    /// an error).
    // Not `Iterator::next`: a lending iterator, which `Iterator` cannot be. Inlined into the
    // reading loop (the record is then taken where it is, not moved out of an
    // Option<Result>); reading more, and pcapng, are calls.
    #[allow(clippy::should_implement_trait)]
    #[inline(always)]
    pub fn next(&mut self) -> Option<Result<Packet<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        let rec = match &self.kind {
            &Kind::Pcap {
                big_endian,
                nanos,
                limit,
                ..
            } => match self.pcap_record(big_endian, nanos, limit) {
                Some(rec) => Ok(Some(rec)),
                None => self.next_pcap(),
            },
            Kind::PcapNg { .. } => self.next_pcapng(),
        };
        let rec = match rec {
            Ok(Some(rec)) => rec,
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.number += 1;
        let buf = &self.input.buf;
        Some(Ok(Packet {
            number: self.number,
            ts_ns: rec.ts_ns,
            interface: rec.interface,
            link: self.interfaces[rec.interface as usize].link,
            iface: &self.interfaces[rec.interface as usize],
            data: &buf[rec.data],
            orig_len: rec.orig_len,
            comment: rec.comment.and_then(|r| core::str::from_utf8(&buf[r]).ok()),
            offset: rec.offset,
        }))
    }

    /// The container format.
    pub fn format(&self) -> Format {
        match &self.kind {
            Kind::Pcap {
                nanos, big_endian, ..
            } => Format::Pcap {
                nanos: *nanos,
                big_endian: *big_endian,
            },
            Kind::PcapNg { .. } => Format::PcapNg,
        }
    }

    /// The interfaces seen so far, indexed by [`Packet::interface`]: one for pcap; for pcapng,
    /// every Interface Description Block read so far, all sections together.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// The name used in errors: the path, or `standard input`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Octets read from the input so far (a little ahead of the packets returned).
    pub fn bytes_read(&self) -> u64 {
        self.input.read
    }

    /// The file's size when it is a regular file opened by path.
    pub fn total_len(&self) -> Option<u64> {
        self.total_len
    }

    fn io_error(&self, source: io::Error) -> CaptureError {
        CaptureError::Io {
            file: self.name.clone(),
            source,
        }
    }

    fn truncated(&self, what: String) -> CaptureError {
        CaptureError::Truncated {
            file: self.name.clone(),
            offset: self.input.offset,
            what,
        }
    }

    fn corrupt(&self, what: String) -> CaptureError {
        CaptureError::Corrupt {
            file: self.name.clone(),
            offset: self.input.offset,
            what,
        }
    }

    /// The next pcap record when the buffer holds all of it and its length is within the
    /// file's limit (the usual case): consumed and returned. Otherwise None, and
    /// [`CaptureReader::next_pcap`] reads more, or says what is wrong.
    #[inline]
    fn pcap_record(&mut self, big_endian: bool, nanos: bool, limit: usize) -> Option<Rec> {
        let avail = self.input.avail();
        let h = avail.first_chunk::<PCAP_RECORD_HEADER_LEN>()?;
        // The four fields, read as little-endian and swapped together when the file is not.
        let mut w = [0u32; 4];
        for (k, x) in w.iter_mut().enumerate() {
            *x = u32::from_le_bytes([h[4 * k], h[4 * k + 1], h[4 * k + 2], h[4 * k + 3]]);
        }
        if big_endian {
            w = w.map(u32::swap_bytes);
        }
        let [ts_sec, ts_frac, incl, orig_len] = w;
        let incl_len = incl as usize;
        let need = PCAP_RECORD_HEADER_LEN + incl_len;
        if incl_len > limit || avail.len() < need {
            return None;
        }
        let frac = i64::from(ts_frac) * if nanos { 1 } else { 1000 };
        let data = self.input.start + PCAP_RECORD_HEADER_LEN;
        let rec = Rec {
            ts_ns: i64::from(ts_sec) * NS_PER_S as i64 + frac,
            interface: 0,
            data: data..data + incl_len,
            orig_len,
            comment: None,
            offset: self.input.offset,
        };
        self.input.consume(need);
        Some(rec)
    }

    #[inline(never)]
    fn next_pcap(&mut self) -> Result<Option<Rec>, CaptureError> {
        let Kind::Pcap {
            parser,
            big_endian,
            nanos,
            limit,
        } = &self.kind
        else {
            unreachable!("next_pcap on a pcapng reader")
        };
        let (big_endian, nanos, limit) = (*big_endian, *nanos, *limit);
        loop {
            let avail = self.input.avail();
            let need = if avail.len() >= PCAP_RECORD_HEADER_LEN {
                let incl = u32_at(avail, 8, big_endian);
                let incl_len = incl as usize;
                if incl_len > limit {
                    return Err(self.corrupt(format!(
                        "packet record says {incl} octets, more than the {limit} a record \
                         of this file may hold"
                    )));
                }
                let need = PCAP_RECORD_HEADER_LEN + incl_len;
                if avail.len() >= need {
                    let (_, raw) = parser
                        .next_raw_packet(avail)
                        .map_err(|e| self.corrupt(format!("packet record: {e}")))?;
                    let frac = i64::from(raw.ts_frac) * if nanos { 1 } else { 1000 };
                    let data = self.input.start + PCAP_RECORD_HEADER_LEN;
                    let rec = Rec {
                        ts_ns: i64::from(raw.ts_sec) * NS_PER_S as i64 + frac,
                        interface: 0,
                        data: data..data + incl_len,
                        orig_len: raw.orig_len,
                        comment: None,
                        offset: self.input.offset,
                    };
                    self.input.consume(need);
                    return Ok(Some(rec));
                }
                need
            } else {
                PCAP_RECORD_HEADER_LEN
            };
            if !self.input.fill(need).map_err(|e| self.io_error(e))? {
                let left = self.input.avail().len();
                if left == 0 {
                    return Ok(None);
                }
                let what = if left < PCAP_RECORD_HEADER_LEN {
                    format!(
                        "packet record header needs {PCAP_RECORD_HEADER_LEN} octets, {left} left"
                    )
                } else {
                    format!(
                        "packet record says {} octets, {} left",
                        need - PCAP_RECORD_HEADER_LEN,
                        left - PCAP_RECORD_HEADER_LEN
                    )
                };
                return Err(self.truncated(what));
            }
        }
    }

    #[inline(never)]
    fn next_pcapng(&mut self) -> Result<Option<Rec>, CaptureError> {
        loop {
            let Kind::PcapNg { parser, .. } = &self.kind else {
                unreachable!("next_pcapng on a pcap reader")
            };
            let endianness = parser.section().endianness;
            let avail = self.input.avail();
            let need = match peek_block(avail, endianness) {
                Peek::Short => MIN_BLOCK,
                Peek::Bad(what) => return Err(self.corrupt(what)),
                Peek::Block { ty, len } => {
                    if avail.len() >= len {
                        if let Some(rec) = self.block(ty, len)? {
                            return Ok(Some(rec));
                        }
                        continue;
                    }
                    len
                }
            };
            if !self.input.fill(need).map_err(|e| self.io_error(e))? {
                let left = self.input.avail().len();
                if left == 0 {
                    return Ok(None);
                }
                let what = match peek_block(self.input.avail(), endianness) {
                    Peek::Block { ty, len } => {
                        format!("{} says {len} octets, {left} left", BlockName(ty))
                    }
                    _ => format!("block header needs {MIN_BLOCK} octets, {left} left"),
                };
                return Err(self.truncated(what));
            }
        }
    }

    /// Handles the complete `len`-octet block of type `ty` at the start of the buffer and
    /// consumes it; returns the packet it holds, if any.
    fn block(&mut self, ty: u32, len: usize) -> Result<Option<Rec>, CaptureError> {
        let Kind::PcapNg {
            parser,
            section_base,
            section_number,
            clocks,
        } = &mut self.kind
        else {
            unreachable!("block on a pcap reader")
        };
        let start = self.input.start;
        let offset = self.input.offset;
        let name = &self.name;
        let corrupt = |what: String| CaptureError::Corrupt {
            file: name.clone(),
            offset,
            what,
        };
        let bytes = &self.input.buf[start..start + len];
        // pcap-file frames the block and keeps the section's byte order and interfaces; the
        // packet blocks are decoded below, in place.
        parser
            .next_raw_block(bytes)
            .map_err(|e| corrupt(format!("{}: {e}", BlockName(ty))))?;
        let big = parser.section().endianness == Endianness::Big;
        let body_at = start + 8;
        let body = &bytes[8..len - 4];
        let in_section = self.interfaces.len() - *section_base;
        let interface = |id: u32| {
            if (id as usize) < in_section {
                Ok(*section_base + id as usize)
            } else {
                Err(corrupt(format!(
                    "{} names interface {id}, but its section has {in_section}",
                    BlockName(ty)
                )))
            }
        };
        let rec = match ty {
            SECTION_HEADER_BLOCK => {
                *section_base = self.interfaces.len();
                *section_number += 1;
                None
            }
            INTERFACE_DESCRIPTION_BLOCK => {
                let idb = parser
                    .interfaces()
                    .last()
                    .expect("pcap-file keeps the interface it just parsed");
                let place = (*section_number, in_section as u32);
                let (interface, clock) = describe(idb, place).ok_or_else(|| {
                    corrupt(format!(
                        "Interface Description Block: if_tsresol {} has more than 2^64 units \
                         per second",
                        tsresol(idb)
                    ))
                })?;
                self.interfaces.push(interface);
                clocks.push(clock);
                None
            }
            ENHANCED_PACKET_BLOCK | PACKET_BLOCK => {
                let f = packet_fields(body, big, ty == PACKET_BLOCK)
                    .map_err(|what| corrupt(format!("{}: {what}", BlockName(ty))))?;
                let i = interface(f.interface_id)?;
                let shift = |r: Range<usize>| body_at + r.start..body_at + r.end;
                Some(Rec {
                    ts_ns: clocks[i].ns(f.timestamp),
                    interface: i as u32,
                    data: shift(f.data),
                    orig_len: f.orig_len,
                    comment: f.comment.map(shift),
                    offset,
                })
            }
            SIMPLE_PACKET_BLOCK => {
                // Always the section's first interface. The body is padded, so the captured
                // length is the smallest of the original length, the body and the snap length.
                let i = interface(0)?;
                let Some(orig_len) = body.get(..4).map(|_| u32_at(body, 0, big)) else {
                    return Err(corrupt("Simple Packet Block: no original length".into()));
                };
                let snaplen = match self.interfaces[i].snaplen {
                    0 => usize::MAX,
                    s => s as usize,
                };
                let caplen = (orig_len as usize).min(body.len() - 4).min(snaplen);
                Some(Rec {
                    ts_ns: 0,
                    interface: i as u32,
                    data: body_at + 4..body_at + 4 + caplen,
                    orig_len,
                    comment: None,
                    offset,
                })
            }
            _ => None,
        };
        self.input.consume(len);
        Ok(rec)
    }
}

/// What a packet needs from an Enhanced or obsolete Packet Block, ranges relative to the body.
struct PacketFields {
    interface_id: u32,
    timestamp: u64,
    data: Range<usize>,
    orig_len: u32,
    comment: Option<Range<usize>>,
}

/// Decodes the body of an Enhanced Packet Block, or of an obsolete Packet Block (whose 32-bit
/// interface id is a 16-bit one and a 16-bit drop count), without allocating: pcap-file's
/// block types collect the options into a `Vec` for every packet.
///
/// ```text
/// body offset  0: Interface ID (32)       | PB: Interface ID (16), Drops Count (16)
///              4: Timestamp, upper 32 bits
///              8: Timestamp, lower 32 bits
///             12: Captured Packet Length
///             16: Original Packet Length
///             20: Packet Data, padded to 32 bits
///                 Options: code (16), length (16), value padded to 32 bits; code 0 ends
/// ```
fn packet_fields(body: &[u8], big: bool, obsolete: bool) -> Result<PacketFields, String> {
    const DATA: usize = 20;
    if body.len() < DATA {
        return Err(format!("body of {} octets, need {DATA}", body.len()));
    }
    let interface_id = if obsolete {
        u32::from(u16_at(body, 0, big))
    } else {
        u32_at(body, 0, big)
    };
    let timestamp = u64::from(u32_at(body, 4, big)) << 32 | u64::from(u32_at(body, 8, big));
    let caplen = u32_at(body, 12, big);
    let orig_len = u32_at(body, 16, big);
    let data_end = DATA + caplen as usize;
    if data_end > body.len() {
        return Err(format!(
            "captured length {caplen} exceeds the {} octets of the block",
            body.len() - DATA
        ));
    }
    let mut comment = None;
    let mut at = data_end.next_multiple_of(4);
    while at + 4 <= body.len() {
        let code = u16_at(body, at, big);
        let len = usize::from(u16_at(body, at + 2, big));
        if code == 0 {
            break;
        }
        let value = at + 4..at + 4 + len;
        if value.end > body.len() {
            return Err(format!("option {code} of {len} octets overruns the block"));
        }
        if code == 1 && comment.is_none() {
            comment = Some(value.clone());
        }
        at = value.end.next_multiple_of(4);
    }
    Ok(PacketFields {
        interface_id,
        timestamp,
        data: DATA..data_end,
        orig_len,
        comment,
    })
}

/// What the start of the buffer says about the next pcapng block.
enum Peek {
    /// Fewer than [`MIN_BLOCK`] octets.
    Short,
    /// A block of this type and total length (already checked for sanity).
    Block { ty: u32, len: usize },
    /// An impossible block header.
    Bad(String),
}

/// Reads the type and length of the block at the start of `avail`, in the section's byte order
/// (a Section Header Block announces its own), and checks the length: at least 12, a multiple
/// of 4, at most [`MAX_BLOCK`], and equal to the trailing length once the block is there.
fn peek_block(avail: &[u8], endianness: Endianness) -> Peek {
    if avail.len() < MIN_BLOCK {
        return Peek::Short;
    }
    let mut big = endianness == Endianness::Big;
    // The Section Header Block type reads the same in both orders.
    let ty = u32_at(avail, 0, big);
    if ty == SECTION_HEADER_BLOCK {
        big = match avail[8..12] {
            [0x1a, 0x2b, 0x3c, 0x4d] => true,
            [0x4d, 0x3c, 0x2b, 0x1a] => false,
            _ => {
                return Peek::Bad(format!(
                    "Section Header Block byte-order magic 0x{:08x} is neither 1a2b3c4d nor \
                     4d3c2b1a",
                    u32_at(avail, 8, true)
                ));
            }
        };
    }
    let name = BlockName(ty);
    let len32 = u32_at(avail, 4, big);
    let len = len32 as usize;
    if len < MIN_BLOCK || len % 4 != 0 {
        return Peek::Bad(format!(
            "{name} length {len32} is impossible (at least {MIN_BLOCK}, a multiple of 4)"
        ));
    }
    if len > MAX_BLOCK {
        return Peek::Bad(format!(
            "{name} length {len32} exceeds the limit of {MAX_BLOCK} octets"
        ));
    }
    if avail.len() >= len {
        let trailer = u32_at(avail, len - 4, big);
        if trailer != len32 {
            return Peek::Bad(format!(
                "{name} length {len32} at its start but {trailer} at its end"
            ));
        }
    }
    Peek::Block { ty, len }
}

/// The `if_tsresol` of an interface, 10^-6 when absent.
fn tsresol(idb: &InterfaceDescriptionBlock<'_>) -> TsResolution {
    idb.options
        .iter()
        .find_map(|o| match o {
            InterfaceDescriptionOption::IfTsResol(r) => Some(TsResolution::from_if_tsresol(*r)),
            _ => None,
        })
        .unwrap_or(TsResolution::MICROS)
}

/// An [`Interface`] and its clock, or `None` when its resolution does not fit in 64 bits.
/// `place` is the section number and the index in the section.
fn describe(
    idb: &InterfaceDescriptionBlock<'_>,
    (section_number, id_in_section): (u32, u32),
) -> Option<(Interface, Clock)> {
    let mut name = None;
    let mut description = None;
    let mut tsoffset = 0;
    for o in &idb.options {
        match o {
            InterfaceDescriptionOption::IfName(s) => name = Some(s.to_string()),
            InterfaceDescriptionOption::IfDescription(s) => description = Some(s.to_string()),
            // pcap-file reads it unsigned; the pcapng specification makes it signed.
            InterfaceDescriptionOption::IfTsOffset(s) => tsoffset = *s as i64,
            _ => {}
        }
    }
    let tsresol = tsresol(idb);
    let clock = Clock::new(tsresol, tsoffset)?;
    let interface = Interface {
        link: LinkType::from(u32::from(idb.linktype)),
        name,
        description,
        tsresol,
        tsoffset,
        snaplen: idb.snaplen,
        section_number,
        id_in_section,
    };
    Some((interface, clock))
}

/// A block type's name for messages.
#[derive(Clone, Copy)]
struct BlockName(u32);

impl fmt::Display for BlockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            SECTION_HEADER_BLOCK => "Section Header Block",
            INTERFACE_DESCRIPTION_BLOCK => "Interface Description Block",
            ENHANCED_PACKET_BLOCK => "Enhanced Packet Block",
            SIMPLE_PACKET_BLOCK => "Simple Packet Block",
            PACKET_BLOCK => "Packet Block",
            NAME_RESOLUTION_BLOCK => "Name Resolution Block",
            INTERFACE_STATISTIC_BLOCK => "Interface Statistics Block",
            ty => return write!(f, "block of type 0x{ty:08x}"),
        })
    }
}

/// The u16 at `at` (the caller checked `at + 2 <= buf.len()`).
#[inline]
fn u16_at(buf: &[u8], at: usize, big_endian: bool) -> u16 {
    let v = u16::from_le_bytes([buf[at], buf[at + 1]]);
    if big_endian { v.swap_bytes() } else { v }
}

/// The u32 at `at` (the caller checked `at + 4 <= buf.len()`).
#[inline]
fn u32_at(buf: &[u8], at: usize, big_endian: bool) -> u32 {
    let v = u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
    if big_endian { v.swap_bytes() } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::time::Duration;

    use pcap_file::DataLink;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
    use pcap_file::pcapng::blocks::packet::PacketBlock;
    use pcap_file::pcapng::blocks::packet::PacketOption;
    use pcap_file::pcapng::blocks::section_header::SectionHeaderBlock;
    use pcap_file::pcapng::blocks::simple_packet::SimplePacketBlock;
    use pcap_file::pcapng::{Block, PcapNgWriter};

    /// A packet copied out of the reader, for comparisons.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Owned {
        number: u64,
        ts_ns: i64,
        interface: u32,
        link: LinkType,
        data: Vec<u8>,
        orig_len: u32,
        comment: Option<String>,
        offset: u64,
    }

    impl From<Packet<'_>> for Owned {
        fn from(p: Packet<'_>) -> Self {
            Owned {
                number: p.number,
                ts_ns: p.ts_ns,
                interface: p.interface,
                link: p.link,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                comment: p.comment.map(str::to_owned),
                offset: p.offset,
            }
        }
    }

    /// Every packet, then the error if there is one; checks that nothing follows the end.
    fn read_all(r: &mut CaptureReader) -> (Vec<Owned>, Option<CaptureError>) {
        let mut packets = Vec::new();
        let mut error = None;
        while let Some(p) = r.next() {
            match p {
                Ok(p) => packets.push(Owned::from(p)),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        assert!(r.next().is_none(), "nothing after the end or the error");
        assert!(r.next().is_none());
        (packets, error)
    }

    fn open(name: &str, bytes: Vec<u8>) -> CaptureReader {
        CaptureReader::from_reader(name, Box::new(io::Cursor::new(bytes))).expect("header")
    }

    fn open_err(name: &str, bytes: Vec<u8>) -> CaptureError {
        CaptureReader::from_reader(name, Box::new(io::Cursor::new(bytes))).expect_err("error")
    }

    /// A reader that hands out at most `chunk` octets per call, like a pipe.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len() - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn frame(i: usize, len: usize) -> Vec<u8> {
        (0..len).map(|j| (i * 7 + j) as u8).collect()
    }

    const T0: u64 = 1_700_000_000;

    /// A pcap with `n` packets of length 60 + 37 i, at T0 + i s + 123456789 ns + i ns.
    fn pcap(n: usize, nanos: bool, endianness: Endianness, link: DataLink) -> Vec<u8> {
        let header = PcapHeader {
            ts_resolution: if nanos {
                PcapTsResolution::NanoSecond
            } else {
                PcapTsResolution::MicroSecond
            },
            endianness,
            datalink: link,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for i in 0..n {
            let data = frame(i, 60 + 37 * i);
            let ts = Duration::new(T0 + i as u64, 123_456_789 + i as u32);
            w.write_packet(&PcapPacket::new(ts, data.len() as u32 + 4, &data))
                .unwrap();
        }
        w.into_writer()
    }

    /// What [`pcap`] wrote, as the reader must return it.
    fn pcap_expected(n: usize, nanos: bool, link: LinkType) -> Vec<Owned> {
        let mut offset = 24;
        (0..n)
            .map(|i| {
                let data = frame(i, 60 + 37 * i);
                let frac = 123_456_789 + i as i64;
                let frac = if nanos { frac } else { frac / 1000 * 1000 };
                let p = Owned {
                    number: i as u64 + 1,
                    ts_ns: (T0 + i as u64) as i64 * 1_000_000_000 + frac,
                    interface: 0,
                    link,
                    orig_len: data.len() as u32 + 4,
                    data,
                    comment: None,
                    offset,
                };
                offset += 16 + p.data.len() as u64;
                p
            })
            .collect()
    }

    #[test]
    fn pcap_micro_and_nano_both_byte_orders() {
        for nanos in [false, true] {
            for endianness in [Endianness::Little, Endianness::Big] {
                let bytes = pcap(5, nanos, endianness, DataLink::ETHERNET);
                let mut r = open("t.pcap", bytes.clone());
                assert_eq!(
                    r.format(),
                    Format::Pcap {
                        nanos,
                        big_endian: endianness == Endianness::Big
                    }
                );
                let iface = &r.interfaces()[0];
                assert_eq!(iface.link, LinkType::Ethernet);
                assert_eq!(
                    iface.tsresol,
                    if nanos {
                        TsResolution::NANOS
                    } else {
                        TsResolution::MICROS
                    }
                );
                assert_eq!(iface.snaplen, 65535);
                let (packets, err) = read_all(&mut r);
                assert!(err.is_none(), "{err:?}");
                assert_eq!(packets, pcap_expected(5, nanos, LinkType::Ethernet));
                assert_eq!(r.bytes_read(), bytes.len() as u64);
                assert_eq!(r.total_len(), None);
            }
        }
    }

    #[test]
    fn every_link_type_of_a_pcap_header() {
        for (value, link) in [
            (1, LinkType::Ethernet),
            (113, LinkType::LinuxSll),
            (276, LinkType::LinuxSll2),
            (101, LinkType::Raw),
            (12, LinkType::Raw),
            (14, LinkType::Raw),
            (228, LinkType::Ipv4),
            (229, LinkType::Ipv6),
            (0, LinkType::Null),
            (108, LinkType::Loop),
            (147, LinkType::Other(147)),
        ] {
            let mut r = open(
                "t.pcap",
                pcap(2, false, Endianness::Big, DataLink::from(value)),
            );
            assert_eq!(r.interfaces()[0].link, link);
            let (packets, err) = read_all(&mut r);
            assert!(err.is_none());
            assert_eq!(packets, pcap_expected(2, false, link));
        }
    }

    /// An Interface Description Block.
    fn idb(
        link: DataLink,
        snaplen: u32,
        options: Vec<InterfaceDescriptionOption<'static>>,
    ) -> Block<'static> {
        Block::InterfaceDescription(InterfaceDescriptionBlock {
            linktype: link,
            snaplen,
            options,
        })
    }

    /// An Enhanced Packet Block with a raw timestamp count.
    fn epb(interface_id: u32, raw: u64, data: &[u8], comment: Option<&str>) -> Block<'static> {
        Block::EnhancedPacket(EnhancedPacketBlock {
            interface_id,
            timestamp: Duration::from_nanos(raw),
            original_len: data.len() as u32,
            data: Cow::Owned(data.to_vec()),
            options: comment
                .map(|c| vec![EnhancedPacketOption::Comment(Cow::Owned(c.to_owned()))])
                .unwrap_or_default(),
        })
    }

    fn shb(endianness: Endianness) -> SectionHeaderBlock<'static> {
        SectionHeaderBlock {
            endianness,
            ..SectionHeaderBlock::default()
        }
    }

    /// A two-section pcapng: little-endian then big-endian, five interfaces with different
    /// resolutions and offsets, EPBs with and without comments, an SPB and a PB; with the
    /// packets the reader must return.
    fn two_sections() -> (Vec<u8>, Vec<Owned>) {
        use InterfaceDescriptionOption as O;
        let mut w = PcapNgWriter::with_section_header(Vec::new(), shb(Endianness::Little)).unwrap();
        let mut expected = Vec::new();
        let mut push = |w: &mut PcapNgWriter<Vec<u8>>, block: Block<'_>, e: Option<Owned>| {
            let offset = w.get_ref().len() as u64;
            w.write_block(&block).unwrap();
            if let Some(mut e) = e {
                e.offset = offset;
                e.number = expected.len() as u64 + 1;
                expected.push(e);
            }
        };
        let p =
            |ts_ns: i64, interface: u32, link: LinkType, data: Vec<u8>, comment: Option<&str>| {
                Some(Owned {
                    number: 0,
                    ts_ns,
                    interface,
                    link,
                    orig_len: data.len() as u32,
                    data,
                    comment: comment.map(str::to_owned),
                    offset: 0,
                })
            };
        let s = |secs: u64| secs as i64 * 1_000_000_000;
        // Section 1, little-endian: interfaces 0, 1, 2.
        push(
            &mut w,
            idb(
                DataLink::ETHERNET,
                0,
                vec![
                    O::IfName("eth0".into()),
                    O::IfDescription("first".into()),
                    O::IfTsResol(3),
                ],
            ),
            None,
        );
        push(
            &mut w,
            idb(
                DataLink::ETHERNET,
                0,
                vec![O::IfTsResol(9), O::IfTsOffset(100)],
            ),
            None,
        );
        push(
            &mut w,
            idb(DataLink::LINUX_SLL, 96, vec![O::IfTsResol(0x80 | 20)]),
            None,
        );
        let d = frame(1, 61);
        push(
            &mut w,
            epb(0, T0 * 1000 + 123, &d, None),
            p(s(T0) + 123_000_000, 0, LinkType::Ethernet, d, None),
        );
        let d = frame(2, 62);
        push(
            &mut w,
            epb(1, T0 * 1_000_000_000 + 123_456_789, &d, Some("second")),
            p(
                s(T0 + 100) + 123_456_789,
                1,
                LinkType::Ethernet,
                d,
                Some("second"),
            ),
        );
        // 2^-20: half a second and one unit is 500000953.67 ns, truncated.
        let d = frame(3, 63);
        // Flags before the comment, a second comment after: the first comment is the one.
        let mut b = epb(2, (T0 << 20) + (1 << 19) + 1, &d, Some("binary"));
        if let Block::EnhancedPacket(e) = &mut b {
            e.options.insert(0, EnhancedPacketOption::Flags(1));
            e.options
                .push(EnhancedPacketOption::Comment("second".into()));
        }
        push(
            &mut w,
            b,
            p(
                s(T0) + 500_000_953,
                2,
                LinkType::LinuxSll,
                d,
                Some("binary"),
            ),
        );
        // A Simple Packet Block: interface 0 of the section, no timestamp.
        let d = frame(4, 65);
        push(
            &mut w,
            Block::SimplePacket(SimplePacketBlock {
                original_len: 65,
                data: Cow::Owned(d.clone()),
            }),
            p(0, 0, LinkType::Ethernet, d, None),
        );
        // An obsolete Packet Block on interface 1.
        let d = frame(5, 66);
        push(
            &mut w,
            Block::Packet(PacketBlock {
                interface_id: 1,
                drop_count: 0,
                // pcap-file writes the two words swapped in a little-endian section.
                timestamp: (T0 * 1_000_000_000 + 7).rotate_left(32),
                captured_len: 66,
                original_len: 66,
                data: Cow::Owned(d.clone()),
                options: vec![PacketOption::Comment("old".into())],
            }),
            p(s(T0 + 100) + 7, 1, LinkType::Ethernet, d, Some("old")),
        );
        // Section 2, big-endian: interfaces 3 and 4 of the file.
        push(&mut w, Block::SectionHeader(shb(Endianness::Big)), None);
        push(
            &mut w,
            idb(DataLink::RAW, 0, vec![O::IfTsOffset((-10i64) as u64)]),
            None,
        );
        push(
            &mut w,
            idb(
                DataLink::NULL,
                0,
                vec![O::IfTsResol(0x80 | 3), O::IfName("lo0".into())],
            ),
            None,
        );
        let d = frame(6, 67);
        push(
            &mut w,
            epb(1, (T0 << 3) + 3, &d, None),
            p(s(T0) + 375_000_000, 4, LinkType::Null, d, None),
        );
        let d = frame(7, 68);
        push(
            &mut w,
            epb(0, T0 * 1_000_000 + 999_999, &d, Some("µs, -10 s")),
            p(
                s(T0 - 10) + 999_999_000,
                3,
                LinkType::Raw,
                d,
                Some("µs, -10 s"),
            ),
        );
        // A Packet Block in a big-endian section: pcap-file's words are in the right order.
        let d = frame(9, 70);
        push(
            &mut w,
            Block::Packet(PacketBlock {
                interface_id: 1,
                drop_count: 0,
                timestamp: (T0 << 3) + 5,
                captured_len: 70,
                original_len: 70,
                data: Cow::Owned(d.clone()),
                options: vec![],
            }),
            p(s(T0) + 625_000_000, 4, LinkType::Null, d, None),
        );
        // An SPB of the second section belongs to its first interface, 3.
        let d = frame(8, 69);
        push(
            &mut w,
            Block::SimplePacket(SimplePacketBlock {
                original_len: 69,
                data: Cow::Owned(d.clone()),
            }),
            p(0, 3, LinkType::Raw, d, None),
        );
        (w.into_inner(), expected)
    }

    #[test]
    fn pcapng_sections_interfaces_resolutions_offsets_comments() {
        let (bytes, expected) = two_sections();
        let mut r = open("t.pcapng", bytes);
        assert_eq!(r.format(), Format::PcapNg);
        let (packets, err) = read_all(&mut r);
        assert!(err.is_none(), "{err}", err = err.unwrap());
        assert_eq!(packets, expected);
        let ifs = r.interfaces();
        assert_eq!(ifs.len(), 5);
        assert_eq!(ifs[0].name.as_deref(), Some("eth0"));
        assert_eq!(ifs[0].description.as_deref(), Some("first"));
        assert_eq!(ifs[0].tsresol, TsResolution::Decimal(3));
        assert_eq!(
            (ifs[1].tsresol, ifs[1].tsoffset),
            (TsResolution::NANOS, 100)
        );
        assert_eq!(
            (ifs[2].tsresol, ifs[2].snaplen),
            (TsResolution::Binary(20), 96)
        );
        assert_eq!(
            (ifs[3].tsresol, ifs[3].tsoffset),
            (TsResolution::MICROS, -10)
        );
        assert_eq!(
            (ifs[4].link, ifs[4].name.as_deref()),
            (LinkType::Null, Some("lo0"))
        );
        assert_eq!(ifs[4].tsresol.to_string(), "2^-3");
    }

    /// The length of the longest block of a pcapng file.
    fn largest_block(mut bytes: &[u8]) -> usize {
        let (mut largest, mut endianness) = (0, Endianness::Big);
        while !bytes.is_empty() {
            let Peek::Block { ty, len } = peek_block(bytes, endianness) else {
                panic!("bad block");
            };
            if ty == SECTION_HEADER_BLOCK {
                endianness = if bytes[8] == 0x1a {
                    Endianness::Big
                } else {
                    Endianness::Little
                };
            }
            largest = largest.max(len);
            bytes = &bytes[len..];
        }
        largest
    }

    #[test]
    fn pcapng_through_a_pipe_and_a_tiny_buffer() {
        let (bytes, expected) = two_sections();
        // Seven octets per read, like a slow pipe.
        let pipe = Trickle {
            data: bytes.clone(),
            at: 0,
            chunk: 7,
        };
        let mut r = CaptureReader::from_reader("standard input", Box::new(pipe)).unwrap();
        let (packets, err) = read_all(&mut r);
        assert!(err.is_none());
        assert_eq!(packets, expected);
        assert_eq!(r.bytes_read(), bytes.len() as u64);
        // A buffer smaller than any block: it grows to the largest block, not to the file.
        let largest = largest_block(&bytes);
        let cursor = Box::new(io::Cursor::new(bytes));
        let mut r = CaptureReader::with_capacity("t.pcapng", cursor, 16).unwrap();
        let (packets, err) = read_all(&mut r);
        assert!(err.is_none());
        assert_eq!(packets, expected);
        assert_eq!(r.input.buf.len(), largest);
    }

    #[test]
    fn records_larger_than_the_buffer() {
        // 40 pcap records of 60 to 1503 octets through a 64-octet buffer and a 5-octet pipe.
        let bytes = pcap(40, true, Endianness::Little, DataLink::ETHERNET);
        let pipe = Trickle {
            data: bytes,
            at: 0,
            chunk: 5,
        };
        let mut r = CaptureReader::with_capacity("t.pcap", Box::new(pipe), 64).unwrap();
        let (packets, err) = read_all(&mut r);
        assert!(err.is_none());
        assert_eq!(packets, pcap_expected(40, true, LinkType::Ethernet));
        assert_eq!(r.input.buf.len(), 16 + 60 + 37 * 39);

        // One 5 MiB Enhanced Packet Block through the default 4 MiB buffer.
        let big = frame(9, 5 << 20);
        let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Big).unwrap();
        w.write_block(&idb(DataLink::ETHERNET, 0, vec![])).unwrap();
        w.write_block(&epb(0, 1, b"small", None)).unwrap();
        w.write_block(&epb(0, 2, &big, Some("big"))).unwrap();
        w.write_block(&epb(0, 3, b"after", None)).unwrap();
        let mut r = open("big.pcapng", w.into_inner());
        let p = r.next().unwrap().unwrap();
        assert_eq!((p.data, p.ts_ns), (&b"small"[..], 1000));
        let p = r.next().unwrap().unwrap();
        assert_eq!(
            (p.data.len(), p.comment, p.ts_ns),
            (big.len(), Some("big"), 2000)
        );
        assert!(p.data == big.as_slice());
        let p = r.next().unwrap().unwrap();
        assert_eq!((p.number, p.data), (3, &b"after"[..]));
        assert!(r.next().is_none());
    }

    /// An endless pcap of 1514-octet packets, made as it is read.
    struct Endless {
        header: Vec<u8>,
        record: Vec<u8>,
        at: usize,
    }

    impl Read for Endless {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < out.len() {
                let (src, at) = if self.at < self.header.len() {
                    (&self.header, self.at)
                } else {
                    let r = (self.at - self.header.len()) % self.record.len();
                    (&self.record, r)
                };
                let k = (src.len() - at).min(out.len() - n);
                out[n..n + k].copy_from_slice(&src[at..at + k]);
                n += k;
                self.at += k;
            }
            Ok(n)
        }
    }

    #[test]
    fn memory_does_not_grow_with_the_input() {
        let file = pcap(1, false, Endianness::Little, DataLink::ETHERNET);
        let mut record = vec![0; 16];
        record[8..12].copy_from_slice(&1514u32.to_le_bytes());
        record[12..16].copy_from_slice(&1514u32.to_le_bytes());
        record.extend(frame(0, 1514));
        let endless = Endless {
            header: file[..24].to_vec(),
            record,
            at: 0,
        };
        let mut r = CaptureReader::from_reader("endless", Box::new(endless)).unwrap();
        // 64 MiB, many buffers' worth.
        for _ in 0..(64 << 20) / 1530 {
            let p = r.next().unwrap().unwrap();
            assert_eq!(p.data.len(), 1514);
        }
        assert_eq!(r.input.buf.len(), BUF_SIZE);
        assert!(r.bytes_read() >= 64 << 20);
    }

    #[test]
    fn truncated_last_pcap_record_after_every_earlier_packet() {
        let bytes = pcap(4, false, Endianness::Big, DataLink::ETHERNET);
        let expected = pcap_expected(4, false, LinkType::Ethernet);
        let last = expected[3].offset as usize;
        // Cut inside the last record's data, then inside its header.
        for (cut, what) in [
            (bytes.len() - 10, "packet record says 171 octets, 161 left"),
            (last + 5, "packet record header needs 16 octets, 5 left"),
        ] {
            let mut r = open("trace.pcap", bytes[..cut].to_vec());
            let (packets, err) = read_all(&mut r);
            assert_eq!(packets, expected[..3]);
            let err = err.expect("truncated");
            assert_eq!(err.offset(), Some(last as u64));
            assert_eq!(
                err.to_string(),
                format!("trace.pcap: truncated at byte {last}: {what}")
            );
            assert!(matches!(err, CaptureError::Truncated { .. }));
        }
        // Cut exactly between records: a clean end.
        let mut r = open("trace.pcap", bytes[..last].to_vec());
        let (packets, err) = read_all(&mut r);
        assert_eq!((packets.len(), err.is_none()), (3, true));
    }

    #[test]
    fn truncated_last_pcapng_block() {
        let (bytes, expected) = two_sections();
        let last = expected.last().unwrap().offset as usize;
        for (cut, what) in [
            (
                bytes.len() - 1,
                "Simple Packet Block says 88 octets, 87 left",
            ),
            (last + 11, "block header needs 12 octets, 11 left"),
        ] {
            let mut r = open("trace.pcapng", bytes[..cut].to_vec());
            let (packets, err) = read_all(&mut r);
            assert_eq!(packets, expected[..expected.len() - 1]);
            let err = err.expect("truncated");
            assert_eq!(
                err.to_string(),
                format!("trace.pcapng: truncated at byte {last}: {what}")
            );
        }
    }

    #[test]
    fn bad_magic_and_short_headers() {
        let e = open_err("trace.pcap", b"\x12\x34\xab\xcdmore bytes here".to_vec());
        assert_eq!(
            e.to_string(),
            "trace.pcap: not a pcap or pcapng file (magic 0x1234abcd at byte 0)"
        );
        assert_eq!(e.file(), "trace.pcap");
        let e = open_err("empty.pcap", Vec::new());
        assert_eq!(
            e.to_string(),
            "empty.pcap: truncated at byte 0: the file is empty"
        );
        let bytes = pcap(0, false, Endianness::Little, DataLink::ETHERNET);
        let e = open_err("t.pcap", bytes[..20].to_vec());
        assert_eq!(
            e.to_string(),
            "t.pcap: truncated at byte 0: pcap file header needs 24 octets, 20 left"
        );
        let (bytes, _) = two_sections();
        let e = open_err("t.pcapng", bytes[..20].to_vec());
        assert_eq!(
            e.to_string(),
            "t.pcapng: truncated at byte 0: Section Header Block says 28 octets, 20 left"
        );
        // A header alone is a capture with no packets.
        let mut r = open("t.pcap", pcap(0, true, Endianness::Big, DataLink::ETHERNET));
        assert!(r.next().is_none());
    }

    /// Overwrites the u32 at `at`, little-endian.
    fn patch(bytes: &mut [u8], at: usize, v: u32) {
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn corrupt_pcapng_blocks() {
        let (bytes, expected) = two_sections();
        // The third packet's block, in the little-endian section.
        let at = expected[2].offset as usize;
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap());
        let cases: [(usize, u32, String); 5] = [
            (
                at + 4,
                13,
                "Enhanced Packet Block length 13 is impossible (at least 12, a multiple of 4)"
                    .into(),
            ),
            (
                at + 4,
                8,
                "Enhanced Packet Block length 8 is impossible (at least 12, a multiple of 4)"
                    .into(),
            ),
            (
                at + 4,
                len + 4,
                format!(
                    "Enhanced Packet Block length {} at its start but {} at its end",
                    len + 4,
                    u32::from_le_bytes(
                        bytes[at + len as usize..at + len as usize + 4]
                            .try_into()
                            .unwrap()
                    )
                ),
            ),
            (
                at + 4,
                0x7fff_fff0,
                format!(
                    "Enhanced Packet Block length {} exceeds the limit of {MAX_BLOCK} octets",
                    0x7fff_fff0
                ),
            ),
            (
                at + 8,
                3,
                "Enhanced Packet Block names interface 3, but its section has 3".into(),
            ),
        ];
        for (field, value, what) in cases {
            let mut b = bytes.clone();
            patch(&mut b, field, value);
            let mut r = open("c.pcapng", b);
            let (packets, err) = read_all(&mut r);
            assert_eq!(packets, expected[..2]);
            let err = err.expect("corrupt");
            assert!(matches!(err, CaptureError::Corrupt { .. }), "{err:?}");
            assert_eq!(
                err.to_string(),
                format!("c.pcapng: corrupt at byte {at}: {what}")
            );
        }
        // Captured length beyond the block: pcap-file's own check, named as an EPB.
        let mut b = bytes.clone();
        patch(&mut b, at + 20, 1000);
        let err = read_all(&mut open("c.pcapng", b)).1.expect("corrupt");
        assert!(
            err.to_string().starts_with(&format!(
                "c.pcapng: corrupt at byte {at}: Enhanced Packet Block: "
            )),
            "{err}"
        );
        // A second Section Header Block with a bad byte-order magic.
        let second = bytes
            .windows(4)
            .rposition(|w| w == [0x0a, 0x0d, 0x0d, 0x0a])
            .unwrap();
        let mut b = bytes;
        patch(&mut b, second + 8, 0x1234_5678);
        let err = read_all(&mut open("c.pcapng", b)).1.expect("corrupt");
        assert_eq!(
            err.to_string(),
            format!(
                "c.pcapng: corrupt at byte {second}: Section Header Block byte-order magic 0x78563412 is neither 1a2b3c4d nor 4d3c2b1a"
            )
        );
    }

    #[test]
    fn corrupt_pcap_record_length() {
        let mut bytes = pcap(3, false, Endianness::Little, DataLink::ETHERNET);
        let at = pcap_expected(3, false, LinkType::Ethernet)[1].offset as usize;
        patch(&mut bytes, at + 8, 0x4141_4141);
        let (packets, err) = read_all(&mut open("c.pcap", bytes));
        assert_eq!(packets.len(), 1);
        assert_eq!(
            err.unwrap().to_string(),
            format!(
                "c.pcap: corrupt at byte {at}: packet record says 1094795585 octets, more than the 262144 a record of this file may hold"
            )
        );
    }

    #[test]
    fn resolution_beyond_64_bits_is_corrupt() {
        let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
        let at = w.get_ref().len();
        let resol = vec![InterfaceDescriptionOption::IfTsResol(20)];
        w.write_block(&idb(DataLink::ETHERNET, 0, resol)).unwrap();
        let err = read_all(&mut open("r.pcapng", w.into_inner())).1.unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "r.pcapng: corrupt at byte {at}: Interface Description Block: if_tsresol 10^-20 \
                 has more than 2^64 units per second"
            )
        );
    }

    #[test]
    fn simple_packet_block_is_cut_to_the_snap_length() {
        let mut w = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
        w.write_block(&idb(DataLink::ETHERNET, 8, vec![])).unwrap();
        let spb = SimplePacketBlock {
            original_len: 10,
            data: Cow::Owned(frame(0, 10)),
        };
        w.write_block(&Block::SimplePacket(spb)).unwrap();
        // Without any interface, an SPB is corrupt.
        let mut lone = PcapNgWriter::with_endianness(Vec::new(), Endianness::Little).unwrap();
        let at = lone.get_ref().len();
        let spb = SimplePacketBlock {
            original_len: 3,
            data: Cow::Owned(frame(0, 3)),
        };
        lone.write_block(&Block::SimplePacket(spb)).unwrap();
        let mut r = open("s.pcapng", w.into_inner());
        let p = r.next().unwrap().unwrap();
        assert_eq!((p.data, p.orig_len), (&frame(0, 8)[..], 10));
        let err = read_all(&mut open("s.pcapng", lone.into_inner()))
            .1
            .unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "s.pcapng: corrupt at byte {at}: Simple Packet Block names interface 0, but its section has 0"
            )
        );
    }

    #[test]
    fn open_reports_missing_files_and_sizes() {
        let e = CaptureReader::open("/nonexistent/trace.pcap").unwrap_err();
        assert!(matches!(e, CaptureError::Io { .. }));
        assert!(
            e.to_string().starts_with("/nonexistent/trace.pcap: "),
            "{e}"
        );
        assert_eq!(e.offset(), None);
        let path =
            std::env::temp_dir().join(format!("oneshot-capture-{}.pcap", std::process::id()));
        let bytes = pcap(3, true, Endianness::Little, DataLink::ETHERNET);
        std::fs::write(&path, &bytes).unwrap();
        let mut r = CaptureReader::open(path.to_str().unwrap()).unwrap();
        assert_eq!(r.total_len(), Some(bytes.len() as u64));
        assert_eq!(
            read_all(&mut r).0,
            pcap_expected(3, true, LinkType::Ethernet)
        );
        std::fs::remove_file(&path).unwrap();
    }

    /// Every packet's `frame.time_epoch` and `frame.interface_id` as tshark prints them, or
    /// `None` when tshark cannot be run.
    fn tshark_fields(path: &std::path::Path) -> Option<Vec<(String, String)>> {
        let out = std::process::Command::new("tshark")
            .args([
                "-r",
                path.to_str()?,
                "-T",
                "fields",
                "-e",
                "frame.time_epoch",
                "-e",
                "frame.interface_id",
            ])
            .output()
            .ok()?;
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        Some(
            text.lines()
                .map(|l| {
                    let (t, i) = l.split_once('\t').unwrap();
                    (t.to_owned(), i.to_owned())
                })
                .collect(),
        )
    }

    /// `ts_ns` as tshark prints `frame.time_epoch`; empty for a packet without a timestamp.
    fn epoch(p: &Owned) -> String {
        if p.ts_ns == 0 {
            return String::new();
        }
        let (s, ns) = (
            p.ts_ns.div_euclid(1_000_000_000),
            p.ts_ns.rem_euclid(1_000_000_000),
        );
        format!("{s}.{ns:09}")
    }

    #[test]
    fn timestamps_and_interfaces_match_tshark() {
        let (bytes, expected) = two_sections();
        let path =
            std::env::temp_dir().join(format!("oneshot-capture-{}.pcapng", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let tshark = tshark_fields(&path);
        std::fs::remove_file(&path).unwrap();
        let Some(tshark) = tshark else {
            eprintln!("tshark not found: cross-check skipped");
            return;
        };
        let mut r = open("t.pcapng", bytes);
        let (packets, err) = read_all(&mut r);
        assert!(err.is_none());
        assert_eq!(packets, expected);
        assert_eq!(tshark.len(), packets.len());
        for (p, (time, id)) in packets.iter().zip(&tshark) {
            assert_eq!(&epoch(p), time, "packet {}", p.number);
            // tshark 4.0 numbers interfaces within their section.
            let iface = &r.interfaces()[p.interface as usize];
            assert_eq!(&iface.id_in_section.to_string(), id, "packet {}", p.number);
        }
    }
}
