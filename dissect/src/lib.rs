//! oneshot-dissect: a tshark-compatible iWARP (MPA / DDP / RDMAP) and one-shot RDMA dissector.
//!
//! Every frame is decoded into one field tree ([`tree`]) whose fields carry Wireshark's names
//! ([`field`], [`registry`]); display filters and printers read that tree.
#![forbid(unsafe_code)]

pub use oneshot_codec as codec;

pub mod analysis;
pub mod build;
pub mod capture;
pub mod cli;
pub mod dissector;
pub mod field;
pub mod filter;
pub mod link;
pub mod mpa;
pub mod print;
pub mod registry;
pub mod stats;
pub mod stream;
pub mod tcp_analysis;
pub mod text;
pub mod tree;
