//! oneshot-dissect: a tshark-compatible iWARP (MPA / DDP / RDMAP) and one-shot RDMA dissector.
//!
//! This crate is the home of the capture reader, TCP reassembly, MPA detection, STag lifecycle
//! analysis and the tshark-style printers. It builds on [`oneshot_codec`], re-exported here so
//! that embedding tools need one dependency.
#![forbid(unsafe_code)]

pub use oneshot_codec as codec;
