//! The workspace's end-to-end test binary: property tests of the codec, the shipped captures,
//! the examples and CLIs, and cross-checks with tshark.

mod analysis;
mod captures;
mod dissect;
mod r#gen;
mod printers;
mod props;
mod tcp;
mod tshark;
