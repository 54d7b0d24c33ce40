//! Zero-copy views and lossless owned forms of every header from Ethernet to iWARP RDMAP, the
//! one-shot STag extension, iSER and the iSCSI basic header segment.
//!
//! | layer | module | RFC / spec |
//! |---|---|---|
//! | Ethernet, VLAN, IPv4, IPv6, TCP | [`etherparse`] (re-exported) | |
//! | MPA FPDU, CRC, markers, Request/Reply | [`mpa`] | RFC 5044, RFC 6581 |
//! | DDP tagged and untagged headers | [`ddp`] | RFC 5041 |
//! | RDMAP, Read Request, Terminate, Atomics, Immediate Data | [`rdmap`] | RFC 5040, RFC 7306 |
//! | one-shot advertise/close STag | [`oneshot`] | ONESHOT.md §2 |
//! | iSER header | [`iser`] | RFC 7145 |
//! | iSCSI Basic Header Segment | [`iscsi`] | RFC 7143 |
//!
//! Every protocol has the same shape: a **view** `X<B: AsRef<[u8]>>` whose `new_checked`
//! validates lengths once so that no accessor can panic, setters where `B: AsMut<[u8]>`, a
//! lossless owned **`XRepr`** with `parse` and `emit` (so `parse(emit(r)) == r`, reserved bits,
//! raw CRCs and fault-injected values included), `Display`, and one small [`Error`] that names
//! the layer and byte offset. CRC mismatches are findings (`verify_crc`), not errors. Decoding
//! never allocates, never copies payload and never panics.
//!
//! [`Frame`] is the one-call entry point: one captured frame in, every decodable layer out.
//!
//! # Example
//!
//! Build a one-shot "advertise" Send carrying a command, put it in an Ethernet/IPv4/TCP frame,
//! then decode the frame again:
//!
//! ```
//! use oneshot_codec::oneshot::{Encoding, OneShotField, Op, Placement};
//! use oneshot_codec::rdmap::{Opcode, SegmentRepr, Settings};
//! use oneshot_codec::{Frame, etherparse::PacketBuilder};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let advertise = OneShotField {
//!     op: Some(Op::Advertise),
//!     stag: 0x00c0_ffee,
//!     encoding: Encoding::Opcode,
//!     placement: Placement::RsvdUlp,
//! };
//! let segment = SegmentRepr::oneshot_send(advertise, true, 1, 0, true, b"SCSI command");
//! let mut fpdu = vec![0u8; segment.fpdu_len()];
//! segment.emit_fpdu(&mut fpdu, true)?;
//!
//! let mut frame = Vec::new();
//! PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
//!     .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
//!     .tcp(49152, 4420, 1000, 65535)
//!     .write(&mut frame, &fpdu)?;
//!
//! let decoded = Frame::ethernet(&frame);
//! assert!(decoded.stop.is_none());
//! for fpdu in decoded.fpdus(Settings::default()) {
//!     let fpdu = fpdu?;
//!     assert!(fpdu.crc_ok());
//!     let message = fpdu.message()?;
//!     assert_eq!(message.opcode, Opcode::SendSeAdvertise);
//!     assert_eq!(message.oneshot.qualifier(), Some((Op::Advertise, 0x00c0_ffee)));
//!     assert_eq!(message.payload, b"SCSI command");
//!     println!("{message}"); // Send with SE and Advertise S=0x00c0ffee QN=0 MSN=1 MO=0 L len=12
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use etherparse;

mod bytes;
pub mod ddp;
pub mod decode;
pub mod error;
pub mod iscsi;
pub mod iser;
pub mod mpa;
pub mod oneshot;
pub mod rdmap;

pub use decode::{DecodedFpdu, Frame, Start, Ulp, decode_ulpdu};
pub use error::{Error, ErrorKind, Layer, Result};
pub use rdmap::{Message, Opcode, Profile, SegmentRepr, Settings};

/// The README's library example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
