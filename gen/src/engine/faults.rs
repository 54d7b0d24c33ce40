//! Structure-aware mutation: change one DDP or RDMAP field of an FPDU at random (the caller
//! then fills the CRC and TCP checksum), so that the change reaches the RDMA layer of the
//! system under test instead of being dropped as a bad CRC.

use oneshot_codec::ddp::{self, Control};
use oneshot_codec::rdmap::read;

use crate::rng::Rng;

/// The fields a mutation may change.
const FIELDS: u64 = 11;

/// Changes one header field of `ulpdu` (a DDP segment), chosen and valued by `seed`.
/// Returns the name of the field changed, for the capture comment.
pub fn mutate_ulpdu(ulpdu: &mut [u8], seed: u64) -> &'static str {
    let mut r = Rng::new(seed, 0x6d75_7461_7465);
    if ulpdu.len() < ddp::field::TAGGED_LEN {
        return "none";
    }
    let tagged = Control(ulpdu[ddp::field::CONTROL]).tagged();
    let untagged_ok = !tagged && ulpdu.len() >= ddp::field::UNTAGGED_LEN;
    let set32 =
        |b: &mut [u8], r: std::ops::Range<usize>, v: u32| b[r].copy_from_slice(&v.to_be_bytes());
    match r.below(FIELDS) {
        0 => {
            ulpdu[ddp::field::CONTROL] ^= ddp::field::L_MASK;
            "DDP L bit"
        }
        1 => {
            let c = Control(ulpdu[ddp::field::CONTROL]).with_rsvd(r.below(16) as u8);
            ulpdu[ddp::field::CONTROL] = c.0;
            "DDP reserved bits"
        }
        2 => {
            let c = ulpdu[ddp::field::CONTROL] & !ddp::field::DV_MASK;
            ulpdu[ddp::field::CONTROL] = c | (r.below(4) as u8);
            "DDP version"
        }
        3 => {
            let c = ulpdu[ddp::field::RSVDULP] & 0xF0;
            ulpdu[ddp::field::RSVDULP] = c | (r.below(16) as u8);
            "RDMAP opcode"
        }
        4 => {
            let c = ulpdu[ddp::field::RSVDULP] & 0x3F;
            ulpdu[ddp::field::RSVDULP] = c | ((r.below(4) as u8) << 6);
            "RDMAP version"
        }
        5 if untagged_ok => {
            set32(ulpdu, ddp::field::QN, r.below(5) as u32);
            "DDP QN"
        }
        6 if untagged_ok => {
            let msn = u32::from_be_bytes(ulpdu[ddp::field::MSN].try_into().expect("4 octets"));
            let delta = [1u32, u32::MAX, 2, 0x8000_0000][r.below(4) as usize];
            set32(ulpdu, ddp::field::MSN, msn.wrapping_add(delta));
            "DDP MSN"
        }
        7 if untagged_ok => {
            set32(ulpdu, ddp::field::MO, r.next_u32());
            "DDP MO"
        }
        8 if untagged_ok => {
            set32(ulpdu, ddp::field::RSVDULP_WORD, r.next_u32());
            "RsvdULP (STag slot)"
        }
        5..=8 => {
            set32(ulpdu, ddp::field::STAG, r.next_u32());
            "DDP STag"
        }
        9 if tagged => {
            let to = r.next_u64();
            ulpdu[ddp::field::TO].copy_from_slice(&to.to_be_bytes());
            "DDP TO"
        }
        _ => {
            let at = ddp::field::UNTAGGED_LEN;
            if !tagged && ulpdu.len() >= at + read::field::LEN {
                let rr = &mut ulpdu[at..at + read::field::LEN];
                match r.below(3) {
                    0 => set32(rr, read::field::RDMARDSZ, r.next_u32()),
                    1 => set32(rr, read::field::SOURCE_STAG, r.next_u32()),
                    _ => set32(rr, read::field::SINK_STAG, r.next_u32()),
                }
                "RDMAP header field"
            } else {
                ulpdu[ddp::field::CONTROL] ^= ddp::field::T_MASK;
                "DDP T bit"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mutation_changes_the_header_and_nothing_else() {
        let base: Vec<u8> = {
            let mut v = vec![0x41, 0x41];
            v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
            v.extend_from_slice(&[0x11; 28]);
            v.extend_from_slice(&[0xEE; 10]);
            v
        };
        let mut names = std::collections::BTreeSet::new();
        for seed in 0..500 {
            let mut m = base.clone();
            let name = mutate_ulpdu(&mut m, seed);
            names.insert(name);
            assert_eq!(&m[46..], &base[46..], "payload untouched ({name})");
            if m == base {
                // A random value may equal the old one; rare, and only for wide fields.
                assert!(
                    name.contains("MO")
                        || name.contains("STag")
                        || name.contains("field")
                        || name.contains("version")
                        || name.contains("reserved")
                        || name.contains("opcode")
                        || name.contains("QN"),
                    "{name}"
                );
            }
        }
        assert!(names.len() >= 9, "{names:?}");
        let mut short = [0u8; 3];
        assert_eq!(mutate_ulpdu(&mut short, 1), "none");
    }
}
