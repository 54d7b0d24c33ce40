//! Capture writers: pcap (µs or ns timestamps) and pcapng (one interface per host link, a
//! comment on every packet, nanosecond timestamps declared with `if_tsresol`).
//!
//! pcap-file 2.0 writes pcapng packet timestamps as raw nanoseconds whatever the interface says,
//! and a pcapng interface without `if_tsresol` means microseconds; so every interface written
//! here declares `if_tsresol = 9`.

use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::{DataLink, TsResolution};

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
    /// Flushes everything.
    fn finish(&mut self) -> Result<(), GenError>;
}

enum Inner<W: Write> {
    Pcap(PcapWriter<W>),
    PcapNg(PcapNgWriter<W>),
}

/// A pcap or pcapng file being written.
pub struct CaptureWriter<W: Write> {
    inner: Inner<W>,
}

impl<W: Write> CaptureWriter<W> {
    /// Starts a capture in `format`, with one pcapng interface per entry of `interfaces` (pcap
    /// has a single link type and keeps none of them).
    pub fn new(out: W, format: Format, interfaces: &[Interface]) -> Result<Self, GenError> {
        let inner = match format {
            Format::Pcap | Format::PcapNs => {
                let header = PcapHeader {
                    ts_resolution: if format == Format::PcapNs {
                        TsResolution::NanoSecond
                    } else {
                        TsResolution::MicroSecond
                    },
                    datalink: DataLink::ETHERNET,
                    snaplen: 65535,
                    ..PcapHeader::default()
                };
                Inner::Pcap(PcapWriter::with_header(out, header).map_err(GenError::capture)?)
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
            Inner::Pcap(w) => w.into_writer(),
            Inner::PcapNg(w) => w.into_inner(),
        }
    }
}

impl<W: Write> Sink for CaptureWriter<W> {
    fn frame(&mut self, f: &Captured<'_>, comment: &dyn Fn() -> String) -> Result<(), GenError> {
        let ts = Duration::from_nanos(f.time_ns);
        match &mut self.inner {
            Inner::Pcap(w) => {
                w.write_packet(&PcapPacket::new(ts, f.orig_len, f.data))
                    .map_err(GenError::capture)?;
            }
            Inner::PcapNg(w) => {
                let epb = EnhancedPacketBlock {
                    interface_id: f.interface,
                    timestamp: ts,
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

    /// Flushes a pcapng writer; a pcap writer is flushed by whoever takes the output back with
    /// [`CaptureWriter::into_inner`] (pcap-file gives no access to it before).
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
