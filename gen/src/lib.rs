//! oneshot-gen: a scripted generator of one-shot RDMA, conventional iWARP and iSCSI/TCP
//! exchanges into pcap and pcapng.
//!
//! This crate is the home of the scenario language, the host model and the capture writers. It
//! builds on [`oneshot_codec`], re-exported here so that embedding tools need one dependency.
#![forbid(unsafe_code)]

pub use oneshot_codec as codec;
