//! Capture writers: pcap (µs or ns timestamps) and pcapng (one interface per host link, a
//! comment on every packet, nanosecond timestamps declared with `if_tsresol`).
//!
//! pcap-file 2.0 writes pcapng packet timestamps as raw nanoseconds whatever the interface says,
//! and a pcapng interface without `if_tsresol` means microseconds; so every interface written
//! here declares `if_tsresol = 9`.

use std::borrow::Cow;
use std::io::{ErrorKind, IoSlice, Write};
use std::time::Duration;

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::error::GenError;

/// Capture file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap, microsecond timestamps.
    Pcap,
    /// Classic pcap, nanosecond timestamps (magic 0xa1b23c4d).
    PcapNs,
    /// pcapng with per-packet comments.
    Pcapng,
}

impl Format {
    /// The format a file name asks for: `.pcapng` → pcapng, anything else → pcap.
    pub fn from_path(path: &str) -> Format {
        if path.ends_with(".pcapng") {
            Format::Pcapng
        } else {
            Format::Pcap
        }
    }

    /// Parses `pcap`, `pcap-ns` or `pcapng`.
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "pcap" => Some(Format::Pcap),
            "pcap-ns" | "nsecpcap" => Some(Format::PcapNs),
            "pcapng" => Some(Format::Pcapng),
            _ => None,
        }
    }
}

/// One interface of a pcapng capture: a host's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// `if_name`: the host's name.
    pub name: String,
    /// `if_description`.
    pub description: String,
    /// `if_speed` in bits per second.
    pub speed: u64,
}

/// One captured frame.
#[derive(Debug, Clone, Copy)]
pub struct Captured<'a> {
    /// Nanoseconds since the Unix epoch.
    pub time_ns: u64,
    /// Index of the interface (host link) it was captured on.
    pub interface: u32,
    /// The captured octets (maybe cut by a snaplen).
    pub data: &'a [u8],
    /// The frame's length on the wire.
    pub orig_len: u32,
}

/// Where frames go.
pub trait Sink {
    /// Writes one frame; `comment` is kept where the format can keep it.
    fn frame(&mut self, frame: &Captured<'_>, comment: &dyn Fn() -> String)
    -> Result<(), GenError>;
    /// True when the sink keeps comments (the engine skips formatting them otherwise).
    fn wants_comments(&self) -> bool;
    /// The sink as a writer of [`Records`], when its format is one (pcap): the engine then
    /// builds each frame straight behind its record header in a buffer of records, instead of
    /// building it apart and handing it to [`Sink::frame`] to copy.
    fn records(&mut self) -> Option<&mut dyn Records> {
        None
    }
    /// Flushes everything.
    fn finish(&mut self) -> Result<(), GenError>;
}

/// A capture format made of records that are a fixed-size header followed by the captured
/// octets and nothing else (pcap). Who writes such records may lay out many of them in one
/// buffer, frames in place, and write the buffer at once, in pieces.
pub trait Records {
    /// Octets of a record header.
    fn header_len(&self) -> usize;
    /// Writes into `header` (`header_len()` octets) the record header of a frame captured at
    /// `time_ns` (since the Unix epoch), `orig_len` octets long on the wire, of which the
    /// record keeps `incl_len`.
    fn fill_header(
        &self,
        time_ns: u64,
        incl_len: usize,
        orig_len: u32,
        header: &mut [u8],
    ) -> Result<(), GenError>;
    /// Writes complete records (headers filled), the concatenation of `records`, to the
    /// output, with vectored writes (`records` is used up on the way).
    fn write_records(&mut self, records: &mut [IoSlice<'_>]) -> Result<(), GenError>;
}

/// A pcap file being written: pcap-file writes its header, [`Records`] the packet records.
struct PcapOut<W: Write> {
    out: W,
    endianness: Endianness,
    ts_resolution: TsResolution,
    snaplen: u32,
}

/// Octets of a pcap packet record header: ts_sec, ts_usec (or ts_nsec), incl_len, orig_len.
const PCAP_RECORD_HEADER: usize = 16;

impl<W: Write> Records for PcapOut<W> {
    fn header_len(&self) -> usize {
        PCAP_RECORD_HEADER
    }

    /// The same fields and checks as pcap-file's `PcapPacket::write_to` (which can only write a
    /// header together with a copy of the data).
    fn fill_header(
        &self,
        time_ns: u64,
        incl_len: usize,
        orig_len: u32,
        header: &mut [u8],
    ) -> Result<(), GenError> {
        let invalid = |what| GenError::capture(PcapError::InvalidField(what));
        let secs = time_ns / 1_000_000_000;
        let ts_sec =
            u32::try_from(secs).map_err(|_| invalid("PcapPacket: timestamp_secs > u32::MAX"))?;
        let nanos = (time_ns % 1_000_000_000) as u32;
        let ts_frac = match self.ts_resolution {
            TsResolution::MicroSecond => nanos / 1000,
            TsResolution::NanoSecond => nanos,
        };
        let incl_len =
            u32::try_from(incl_len).map_err(|_| invalid("PcapPacket: incl_len > u32::MAX"))?;
        if incl_len > self.snaplen {
            return Err(invalid("PcapPacket: incl_len > snap_len"));
        }
        if incl_len > orig_len {
            return Err(invalid("PcapPacket: incl_len > orig_len"));
        }
        let fields = [ts_sec, ts_frac, incl_len, orig_len];
        for (slot, v) in header.chunks_exact_mut(4).zip(fields) {
            slot.copy_from_slice(&match self.endianness {
                Endianness::Big => v.to_be_bytes(),
                Endianness::Little => v.to_le_bytes(),
            });
        }
        Ok(())
    }

    /// What `Write::write_all_vectored` (unstable) does: writes until every piece is out.
    fn write_records(&mut self, mut records: &mut [IoSlice<'_>]) -> Result<(), GenError> {
        while !records.is_empty() {
            match self.out.write_vectored(records) {
                Ok(0) => return Err(write_error(ErrorKind::WriteZero.into())),
                Ok(n) => IoSlice::advance_slices(&mut records, n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(write_error(e)),
            }
        }
        Ok(())
    }
}

/// A failed write of the capture, with the system's reason.
fn write_error(e: std::io::Error) -> GenError {
    GenError::Capture(e.to_string())
}

enum Inner<W: Write> {
    Pcap(PcapOut<W>),
    PcapNg(PcapNgWriter<W>),
}

/// A pcap or pcapng file being written.
pub struct CaptureWriter<W: Write> {
    inner: Inner<W>,
}

/// The pcap file header of `format`: Ethernet, the format's timestamp resolution.
fn pcap_header(format: Format) -> PcapHeader {
    PcapHeader {
        ts_resolution: if format == Format::PcapNs {
            TsResolution::NanoSecond
        } else {
            TsResolution::MicroSecond
        },
        datalink: DataLink::ETHERNET,
        snaplen: 65535,
        ..PcapHeader::default()
    }
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a capture in `format`, with one pcapng interface per entry of `interfaces` (pcap
    /// has a single link type and keeps none of them).
    pub fn new(mut out: W, format: Format, interfaces: &[Interface]) -> Result<Self, GenError> {
        let inner = match format {
            Format::Pcap | Format::PcapNs => {
                let header = pcap_header(format);
                // In one write: the output may be unbuffered (records go out in large
                // vectored writes).
                let mut bytes = Vec::with_capacity(24);
                header.write_to(&mut bytes).map_err(GenError::capture)?;
                out.write_all(&bytes).map_err(write_error)?;
                Inner::Pcap(PcapOut {
                    out,
                    endianness: header.endianness,
                    ts_resolution: header.ts_resolution,
                    snaplen: header.snaplen,
                })
            }
            Format::Pcapng => {
                let mut w = PcapNgWriter::new(out).map_err(GenError::capture)?;
                for i in interfaces {
                    let idb = InterfaceDescriptionBlock {
                        linktype: DataLink::ETHERNET,
                        snaplen: 0,
                        options: vec![
                            InterfaceDescriptionOption::IfName(Cow::Owned(i.name.clone())),
                            InterfaceDescriptionOption::IfDescription(Cow::Owned(
                                i.description.clone(),
                            )),
                            InterfaceDescriptionOption::IfSpeed(i.speed),
                            InterfaceDescriptionOption::IfTsResol(9),
                        ],
                    };
                    w.write_pcapng_block(idb).map_err(GenError::capture)?;
                }
                Inner::PcapNg(w)
            }
        };
        Ok(CaptureWriter { inner })
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        match self.inner {
            Inner::Pcap(p) => p.out,
            Inner::PcapNg(w) => w.into_inner(),
        }
    }
}

impl<W: Write> Sink for CaptureWriter<W> {
    fn frame(&mut self, f: &Captured<'_>, comment: &dyn Fn() -> String) -> Result<(), GenError> {
        match &mut self.inner {
            Inner::Pcap(p) => {
                let mut header = [0u8; PCAP_RECORD_HEADER];
                p.fill_header(f.time_ns, f.data.len(), f.orig_len, &mut header)?;
                p.out.write_all(&header).map_err(write_error)?;
                p.out.write_all(f.data).map_err(write_error)?;
            }
            Inner::PcapNg(w) => {
                let epb = EnhancedPacketBlock {
                    interface_id: f.interface,
                    timestamp: Duration::from_nanos(f.time_ns),
                    original_len: f.orig_len,
                    data: Cow::Borrowed(f.data),
                    options: vec![EnhancedPacketOption::Comment(Cow::Owned(comment()))],
                };
                w.write_pcapng_block(epb).map_err(GenError::capture)?;
            }
        }
        Ok(())
    }

    fn wants_comments(&self) -> bool {
        matches!(self.inner, Inner::PcapNg(_))
    }

    fn records(&mut self) -> Option<&mut dyn Records> {
        match &mut self.inner {
            Inner::Pcap(p) => Some(p),
            Inner::PcapNg(_) => None,
        }
    }

    /// Flushes a pcapng writer; a pcap writer is flushed by whoever takes the output back with
    /// [`CaptureWriter::into_inner`].
    fn finish(&mut self) -> Result<(), GenError> {
        match &mut self.inner {
            Inner::Pcap(_) => Ok(()),
            Inner::PcapNg(w) => w.get_mut().flush().map_err(|e| GenError::Io {
                what: "capture output".into(),
                error: e,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};

    fn iface(name: &str) -> Interface {
        Interface {
            name: name.into(),
            description: format!("{name} link"),
            speed: 25_000_000_000,
        }
    }

    #[test]
    fn pcapng_has_one_interface_per_link_ns_resolution_and_comments() {
        let mut w =
            CaptureWriter::new(Vec::new(), Format::Pcapng, &[iface("h1"), iface("h2")]).unwrap();
        let data = [1u8, 2, 3];
        let f = Captured {
            time_ns: 1_767_225_600_000_000_123,
            interface: 1,
            data: &data,
            orig_len: 60,
        };
        w.frame(&f, &|| "line 3: send".to_string()).unwrap();
        w.finish().unwrap();
        let bytes = w.into_inner();
        let mut r = PcapNgReader::new(&bytes[..]).unwrap();
        let mut idbs = 0;
        let mut seen = false;
        while let Some(b) = r.next_block() {
            match b.unwrap() {
                Block::InterfaceDescription(i) => {
                    idbs += 1;
                    assert!(
                        i.options
                            .contains(&InterfaceDescriptionOption::IfTsResol(9))
                    );
                }
                Block::EnhancedPacket(p) => {
                    seen = true;
                    assert_eq!(p.interface_id, 1);
                    assert_eq!(p.timestamp.as_nanos(), 1_767_225_600_000_000_123);
                    assert_eq!(p.original_len, 60);
                    assert_eq!(&p.data[..], &data);
                    assert_eq!(
                        p.options,
                        vec![EnhancedPacketOption::Comment(Cow::Borrowed("line 3: send"))]
                    );
                }
                _ => {}
            }
        }
        assert_eq!(idbs, 2);
        assert!(seen);
    }

    #[test]
    fn pcap_us_and_ns() {
        for (format, res) in [
            (Format::Pcap, TsResolution::MicroSecond),
            (Format::PcapNs, TsResolution::NanoSecond),
        ] {
            let mut w = CaptureWriter::new(Vec::new(), format, &[]).unwrap();
            assert!(!w.wants_comments());
            let f = Captured {
                time_ns: 1_500_000_123,
                interface: 0,
                data: &[9; 20],
                orig_len: 20,
            };
            w.frame(&f, &|| unreachable!("pcap keeps no comments"))
                .unwrap();
            let bytes = w.into_inner();
            let mut r = PcapReader::new(&bytes[..]).unwrap();
            assert_eq!(r.header().ts_resolution, res);
            let p = r.next_packet().unwrap().unwrap();
            let want = if res == TsResolution::NanoSecond {
                1_500_000_123
            } else {
                1_500_000_000
            };
            assert_eq!(p.timestamp.as_nanos(), want);
        }
        assert_eq!(Format::from_path("x.pcapng"), Format::Pcapng);
        assert_eq!(Format::from_path("x.pcap"), Format::Pcap);
        assert_eq!(Format::from_name("pcap-ns"), Some(Format::PcapNs));
    }
}

#[cfg(test)]
mod records_tests {
    use super::*;
    use pcap_file::pcap::{PcapPacket, PcapWriter};

    /// (time, captured octets, original length) of a few frames: µs and ns parts, a cut frame,
    /// an empty one.
    fn frames() -> Vec<(u64, Vec<u8>, u32)> {
        vec![
            (1_767_225_600_000_000_000, (0..60).collect(), 60),
            (1_767_225_600_123_456_789, vec![0xAB; 1514], 1514),
            (1_767_225_601_999_999_999, vec![7; 80], 1514),
            (4_000_000_000, Vec::new(), 54),
        ]
    }

    /// A writer that takes at most 3 pieces and 10 octets per vectored write, and fails every
    /// fifth call with `Interrupted`.
    #[derive(Default)]
    struct Stingy {
        bytes: Vec<u8>,
        calls: usize,
        interrupted: bool,
    }

    impl Write for Stingy {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[IoSlice::new(b)])
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls % 5 == 0 {
                self.interrupted = true;
                return Err(ErrorKind::Interrupted.into());
            }
            let mut n = 0;
            for b in bufs.iter().take(3) {
                let take = b.len().min(10 - n);
                self.bytes.extend_from_slice(&b[..take]);
                n += take;
            }
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What pcap-file's own writer makes of `frames()` in `format`.
    fn by_pcap_file(format: Format) -> Vec<u8> {
        let header = pcap_header(format);
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for (t, data, orig) in frames() {
            w.write_packet(&PcapPacket::new(Duration::from_nanos(t), orig, &data))
                .unwrap();
        }
        w.into_writer()
    }

    #[test]
    fn records_and_frames_are_what_pcap_file_writes() {
        for format in [Format::Pcap, Format::PcapNs] {
            let want = by_pcap_file(format);

            let mut w = CaptureWriter::new(Vec::new(), format, &[]).unwrap();
            for (t, data, orig) in frames() {
                let f = Captured {
                    time_ns: t,
                    interface: 0,
                    data: &data,
                    orig_len: orig,
                };
                w.frame(&f, &|| unreachable!("pcap keeps no comments"))
                    .unwrap();
            }
            assert_eq!(w.into_inner(), want, "{format:?} by frame");

            // The same frames laid out as records in one buffer, written at once in pieces of
            // 1 to 7 octets, to a writer that takes at most 3 pieces and 10 octets a call.
            let mut w = CaptureWriter::new(Stingy::default(), format, &[]).unwrap();
            let r = w.records().expect("pcap takes records");
            let mut buf = Vec::new();
            for (t, data, orig) in frames() {
                let at = buf.len();
                buf.resize(at + r.header_len(), 0);
                buf.extend_from_slice(&data);
                let header = &mut buf[at..at + r.header_len()];
                r.fill_header(t, data.len(), orig, header).unwrap();
            }
            let mut pieces = Vec::new();
            let mut rest = &buf[..];
            for n in (1..=7).cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, more) = rest.split_at(n.min(rest.len()));
                pieces.push(IoSlice::new(piece));
                rest = more;
            }
            r.write_records(&mut pieces).unwrap();
            let out = w.into_inner();
            assert_eq!(out.bytes, want, "{format:?} by records");
            assert!(
                out.calls > buf.len() / 10,
                "{format:?}: {} calls",
                out.calls
            );
            assert!(
                out.interrupted,
                "{format:?}: an interrupted write is retried"
            );
        }
    }

    #[test]
    fn record_errors_read_like_pcap_file_ones() {
        let w = CaptureWriter::new(Vec::new(), Format::Pcap, &[]).unwrap();
        let Inner::Pcap(p) = &w.inner else {
            panic!("a pcap writer")
        };
        let mut header = [0u8; PCAP_RECORD_HEADER];
        let mut check = |time_ns: u64, data: &[u8], orig_len: u32| {
            let mine = p
                .fill_header(time_ns, data.len(), orig_len, &mut header)
                .unwrap_err()
                .to_string();
            let mut theirs = PcapWriter::new(Vec::new()).unwrap();
            let packet = PcapPacket::new(Duration::from_nanos(time_ns), orig_len, data);
            let theirs = GenError::capture(theirs.write_packet(&packet).unwrap_err()).to_string();
            assert_eq!(mine, theirs);
            mine
        };
        let late = check(
            u64::from(u32::MAX) * 1_000_000_000 + 1_000_000_000,
            &[1; 4],
            4,
        );
        assert!(late.contains("timestamp_secs > u32::MAX"), "{late}");
        let long = check(0, &[0; 70_000], 70_000);
        assert!(long.contains("incl_len > snap_len"), "{long}");
        let cut = check(0, &[0; 10], 5);
        assert!(cut.contains("incl_len > orig_len"), "{cut}");
    }

    #[test]
    fn a_failed_write_says_why() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let e = CaptureWriter::new(Full, Format::Pcap, &[])
            .err()
            .expect("the header cannot be written");
        assert_eq!(e.to_string(), "cannot write the capture: no storage space");
    }
}
