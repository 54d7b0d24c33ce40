//! Any bytes as a whole capture file (pcap or pcapng), read by `oneshot-dissect`'s
//! `CaptureReader` and run through the dissector, a display filter, every printer and the `-z`
//! statistics, as the command line would (see `oneshot_fuzz::dissect`).
//!
//! The run's settings (profile, placement, tree detail, `-2`, colour, reassembly cap, disabled
//! protocols, which printers) come from a hash of the whole input (32-bit FNV-1a, folded to 16
//! bits), so that the shipped captures seed the corpus unchanged and every mutation may land on
//! other settings.

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use oneshot_fuzz::dissect::{Knobs, run_capture};

fuzz_target!(|data: &[u8]| {
    let h = data.iter().fold(0x811c_9dc5_u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    run_capture(data, Knobs::from_bits((h ^ (h >> 16)) as u16));
});
