//! oneshot-gen: a scripted generator of one-shot RDMA, conventional iWARP and iSCSI/TCP
//! exchanges into pcap and pcapng.
//!
//! A script ([`script`], grammar in the README) becomes a [`model::Scenario`];
//! the engine runs it as a discrete-event simulation of two TCP stacks, MPA, DDP, RDMAP and
//! iSCSI, and writes every frame to a capture.
#![forbid(unsafe_code)]

pub use oneshot_codec as codec;

pub mod crc;
pub mod engine;
pub mod error;
pub mod model;
pub mod net;
pub mod rng;
pub mod script;
pub mod sink;

pub use error::GenError;
pub mod scenarios;
