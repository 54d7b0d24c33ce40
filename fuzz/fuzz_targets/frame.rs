//! Arbitrary bytes as one captured frame: Ethernet, raw IP and known-EtherType decoding, then
//! every accessor of every layer found, down to the iSCSI BHS, with the lossless checks of
//! [`oneshot_fuzz`] (every owned form emits exactly the octets it was parsed from).
//!
//! The input is the frame itself (seeds are captured frames). The decoder settings come from
//! the low two bits of its first octet; the EtherType for `Frame::ether_type` is octets 12..14,
//! applied to octets 14.. (so a seed's own EtherType is tried first, and mutations try others).

#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use oneshot_codec::Frame;
use oneshot_fuzz::{settings_from, touch_frame};

fuzz_target!(|data: &[u8]| {
    let settings = settings_from(data.first().copied().unwrap_or(0));
    touch_frame(&Frame::ethernet(data), settings);
    touch_frame(&Frame::ip(data), settings);
    if data.len() >= 14 {
        let ether_type = u16::from_be_bytes([data[12], data[13]]);
        touch_frame(&Frame::ether_type(ether_type, &data[14..]), settings);
        touch_frame(&Frame::ip(&data[14..]), settings);
    }
});
