//! CRC-32C of FPDUs whose payload is a slice of the run's random data block, without reading
//! the slice: every CRC over actual octets is the crc32c crate's; this module combines CRCs, which CRC-32C's linearity over GF(2) allows.
//!
//! For a CRC with the usual pre- and post-inversion (CRC-32C as MPA uses it), the CRC of `A`
//! followed by `B` is `zeros(crc(A), |B|) ^ crc(B)`, where `zeros(c, n)` is what the CRC
//! register `c` becomes after `n` zero octets: multiplication by x^(8n) modulo the polynomial,
//! a linear map of the 32-bit register. So, with `C[k]` the CRC of the block's first `8 k`
//! octets, the CRC of the block's octets `8 i .. 8 j` is `C[j] ^ zeros(C[i], 8 (j - i))`,
//! and appending them to a running CRC `c` gives `zeros(c ^ C[i], 8 (j - i)) ^ C[j]`.
//! [`BlockCrcs::append`] does that, reading only the at most 7 octets at either end.
//!
//! `zeros` is a handful of table look-ups (`ZeroTables`): for every power of two `2^p`
//! octets, a table of what each value of each register octet becomes after `2^p` zero octets;
//! `zeros(c, n)` applies the tables of the bits set in `n`.
//!
//! The few octets left at a slice's ends, and an FPDU's header, are short runs: a call to the
//! crc32c crate costs about 120 instructions whatever the length (feature check, alignment
//! split, its parallel loops set up), more than the run itself, so [`Crc`] gathers the runs
//! that follow one another and makes one call for them.

use std::cell::RefCell;
use std::sync::OnceLock;

/// CRC-32C's polynomial, bit-reflected (as the register holds it).
const POLY: u32 = 0x82F6_3B78;

/// Tables for `2^0` to `2^(POWERS - 1)` zero octets: up to 128 KiB in one go.
const POWERS: usize = 17;

/// What each register octet's values become after `2^p` zero octets, for every `p`.
struct ZeroTables {
    /// `tables[p][k][v]`: the register `v << 8 k` after `2^p` zero octets.
    tables: Vec<[[u32; 256]; 4]>,
}

/// The register `c` after one zero octet, bit by bit (only used to build the tables).
fn one_zero_octet(mut c: u32) -> u32 {
    for _ in 0..8 {
        c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
    }
    c
}

impl ZeroTables {
    fn new() -> Self {
        let mut tables: Vec<[[u32; 256]; 4]> = Vec::with_capacity(POWERS);
        for _ in 0..POWERS {
            let mut t = [[0u32; 256]; 4];
            for (k, row) in t.iter_mut().enumerate() {
                for (v, slot) in row.iter_mut().enumerate() {
                    let c = (v as u32) << (8 * k);
                    *slot = match tables.last() {
                        // 2^p zero octets are 2^(p-1) zero octets twice.
                        Some(half) => apply(half, apply(half, c)),
                        None => one_zero_octet(c),
                    };
                }
            }
            tables.push(t);
        }
        ZeroTables { tables }
    }

    /// The tables, built on first use.
    fn get() -> &'static ZeroTables {
        static TABLES: OnceLock<ZeroTables> = OnceLock::new();
        TABLES.get_or_init(ZeroTables::new)
    }

    /// The register `c` after `n` zero octets.
    fn zeros(&self, mut c: u32, mut n: usize) -> u32 {
        let top = &self.tables[POWERS - 1];
        while n >= 1 << POWERS {
            c = apply(top, apply(top, c));
            n -= 1 << POWERS;
        }
        // The tables of the bits set in n, lowest first.
        while n != 0 {
            c = apply(&self.tables[n.trailing_zeros() as usize], c);
            n &= n - 1;
        }
        c
    }
}

/// One table applied to the register `c`: the sum (XOR) of what each of its octets becomes.
fn apply(t: &[[u32; 256]; 4], c: u32) -> u32 {
    let [b0, b1, b2, b3] = c.to_le_bytes();
    t[0][usize::from(b0)] ^ t[1][usize::from(b1)] ^ t[2][usize::from(b2)] ^ t[3][usize::from(b3)]
}

/// The CRC-32C of `A` followed by `n` octets `B`, from `crc_a` = CRC of `A` and `crc_b` = CRC of
/// `B` (what zlib calls crc32_combine, with table look-ups instead of matrix squaring).
pub fn combine(crc_a: u32, crc_b: u32, n: usize) -> u32 {
    ZeroTables::get().zeros(crc_a, n) ^ crc_b
}

/// A running CRC-32C that gathers short pieces of octets and hands them to the crc32c crate in
/// one call: a call costs about 120 instructions whatever the length (feature check,
/// alignment split, its parallel loops set up), far more than the few octets of a header.
#[derive(Clone)]
pub struct Crc {
    /// The CRC of the octets handed to the crate so far.
    crc: u32,
    /// Octets not handed to it yet.
    pending: [u8; Crc::GATHER],
    pending_len: usize,
}

impl Default for Crc {
    fn default() -> Self {
        Crc::new()
    }
}

impl Crc {
    /// Octets gathered at most before a call.
    const GATHER: usize = 256;

    /// The CRC of no octets.
    pub fn new() -> Self {
        Crc {
            crc: 0,
            pending: [0; Crc::GATHER],
            pending_len: 0,
        }
    }

    /// Takes in `bytes`.
    pub fn push(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.pending_len + bytes.len() > Crc::GATHER {
            self.flush();
            if bytes.len() > Crc::GATHER {
                self.crc = crc32c::crc32c_append(self.crc, bytes);
                return;
            }
        }
        self.pending[self.pending_len..self.pending_len + bytes.len()].copy_from_slice(bytes);
        self.pending_len += bytes.len();
    }

    /// Hands the gathered octets to the crate.
    fn flush(&mut self) {
        if self.pending_len > 0 {
            self.crc = crc32c::crc32c_append(self.crc, &self.pending[..self.pending_len]);
            self.pending_len = 0;
        }
    }

    /// The CRC-32C of everything taken in.
    pub fn value(&mut self) -> u32 {
        self.flush();
        self.crc
    }
}

/// Octets per entry of [`BlockCrcs`] (and of [`crate::net::BlockSums`]): eight, so that a
/// slice's ends leave at most 7 octets each to take in (or to sum), where 64 left up to 63; the tables take 4 and 2 octets per 8 of the block (0.8 MiB for the 1 MiB block).
pub const GRAIN: usize = 8;

/// The CRC-32C of every prefix of a data block that ends on an 8-octet boundary, so that a
/// running CRC can take in any slice of the block with two look-ups, one [`combine`] and at most
/// 14 octets read.
#[derive(Debug, Clone, Default)]
pub struct BlockCrcs {
    /// `prefix[k]`: CRC-32C of the block's first `k * GRAIN` octets.
    prefix: Vec<u32>,
    /// Tables for the runs of zeros that recur (see [`ZerosCache`]).
    zeros: RefCell<ZerosCache>,
}

/// What the register becomes after `n` zero octets, as one table (four look-ups) for the few
/// `n` that recur: a message's FPDUs mostly carry slices of one length, and a slice's whole
/// grains span one of two lengths depending on its alignment. Any other `n` goes through
/// [`ZeroTables`] (a table per bit set in `n`); an `n` gets a table of its own the second
/// time it is seen among the last [`ZerosCache::RECENT`] others, so that lengths met once cost
/// no table.
#[derive(Debug, Clone, Default)]
struct ZerosCache {
    /// (`n`, its table), at most [`ZerosCache::TABLES`].
    tables: Vec<(usize, Box<[[u32; 256]; 4]>)>,
    /// The table replaced next when they are all in use.
    next_table: usize,
    /// `n` seen lately without a table of their own.
    recent: [usize; ZerosCache::RECENT],
    next_recent: usize,
}

impl ZerosCache {
    const TABLES: usize = 8;
    const RECENT: usize = 8;

    /// The register `c` after `n` zero octets.
    fn zeros(&mut self, c: u32, n: usize) -> u32 {
        if let Some((_, t)) = self.tables.iter().find(|(m, _)| *m == n) {
            return apply(t, c);
        }
        let z = ZeroTables::get();
        if n == 0 || !self.recent.contains(&n) {
            self.recent[self.next_recent] = n;
            self.next_recent = (self.next_recent + 1) % Self::RECENT;
            return z.zeros(c, n);
        }
        let mut t = Box::new([[0u32; 256]; 4]);
        for (k, row) in t.iter_mut().enumerate() {
            for (v, slot) in row.iter_mut().enumerate() {
                *slot = z.zeros((v as u32) << (8 * k), n);
            }
        }
        let value = apply(&t, c);
        if self.tables.len() < Self::TABLES {
            self.tables.push((n, t));
        } else {
            self.tables[self.next_table] = (n, t);
            self.next_table = (self.next_table + 1) % Self::TABLES;
        }
        value
    }
}

impl BlockCrcs {
    /// The prefix CRCs of `block`.
    pub fn new(block: &[u8]) -> Self {
        let mut prefix = Vec::with_capacity(block.len() / GRAIN + 1);
        let mut c = 0;
        prefix.push(c);
        for grain in block.chunks_exact(GRAIN) {
            c = crc32c::crc32c_append(c, grain);
            prefix.push(c);
        }
        BlockCrcs {
            prefix,
            zeros: RefCell::default(),
        }
    }

    /// The entry that [`BlockCrcs::append`] reads for a slice ending at `at` (zero past the
    /// end), for warming the cache.
    pub fn entry_near(&self, at: usize) -> u32 {
        self.prefix.get(at / GRAIN).copied().unwrap_or(0)
    }

    /// Takes `block[range]` into `crc`, where `block` is the block these CRCs were made of,
    /// without reading the grains that lie wholly inside `range`.
    pub fn append(&self, crc: &mut Crc, block: &[u8], range: std::ops::Range<usize>) {
        let (from, to) = (range.start, range.end);
        let (first, last) = (from.div_ceil(GRAIN), to / GRAIN);
        match (self.prefix.get(first), self.prefix.get(last)) {
            (Some(&upto_a), Some(&upto_b)) if first < last => {
                let (a, b) = (first * GRAIN, last * GRAIN);
                crc.push(&block[from..a]);
                crc.flush();
                crc.crc = self.zeros.borrow_mut().zeros(crc.crc ^ upto_a, b - a) ^ upto_b;
                crc.push(&block[b..to]);
            }
            _ => crc.push(&block[range]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn combine_matches_the_crate_on_concatenations() {
        let mut data = vec![0u8; 70_000];
        Rng::new(5, 1).fill(&mut data);
        let mut rng = Rng::new(6, 1);
        // Every short split, then random ones up to the whole buffer.
        let mut cases: Vec<(usize, usize)> =
            (0..40).flat_map(|a| (0..40).map(move |b| (a, b))).collect();
        for _ in 0..300 {
            let a = rng.next_u32() as usize % data.len();
            let b = rng.next_u32() as usize % (data.len() - a + 1);
            cases.push((a, b));
        }
        cases.push((0, data.len()));
        cases.push((1, data.len() - 1));
        for (a, b) in cases {
            let (x, y) = (&data[..a], &data[a..a + b]);
            assert_eq!(
                combine(crc32c::crc32c(x), crc32c::crc32c(y), b),
                crc32c::crc32c(&data[..a + b]),
                "{a} + {b}"
            );
            // The crate's own combine (zlib's method) agrees.
            assert_eq!(
                combine(crc32c::crc32c(x), crc32c::crc32c(y), b),
                crc32c::crc32c_combine(crc32c::crc32c(x), crc32c::crc32c(y), b)
            );
        }
    }

    /// Pieces gathered, long pieces past the gathering buffer, and a block slice's combine in
    /// between: the running CRC agrees with the crate's over the same octets.
    #[test]
    fn running_crc_matches_the_crate() {
        let mut data = vec![0u8; 2000];
        Rng::new(9, 1).fill(&mut data);
        let mut rng = Rng::new(10, 1);
        for _ in 0..500 {
            let mut c = Crc::new();
            let mut whole = Vec::new();
            for _ in 0..rng.below(6) {
                let from = rng.below(data.len() as u64) as usize;
                let most = if rng.below(2) == 0 { 40 } else { 600 };
                let len = rng.below(most) as usize;
                let piece = &data[from..(from + len).min(data.len())];
                c.push(piece);
                whole.extend_from_slice(piece);
            }
            assert_eq!(c.value(), crc32c::crc32c(&whole));
        }
        // RFC 3720 B.4: 32 octets of 0xFF have CRC-32C 43 ab a8 62 (0x62a8ab43), in pieces.
        let mut c = Crc::new();
        c.push(&[0xFF; 5]);
        c.push(&[0xFF; 27]);
        assert_eq!(c.value(), 0x62a8_ab43);
    }

    /// Lengths that recur get tables of their own, more than fit, mixed with lengths met once:
    /// the register after them is what the per-bit tables give.
    #[test]
    fn recurring_zero_runs_from_their_own_tables() {
        let mut cache = ZerosCache::default();
        let z = ZeroTables::get();
        let mut rng = Rng::new(10, 1);
        let lengths = [
            0usize, 8, 1432, 1440, 728, 736, 64, 4096, 65536, 131_072, 200_000,
        ];
        for i in 0..5000 {
            let n = if i % 3 == 0 {
                rng.next_u32() as usize % 70_000
            } else {
                lengths[rng.below(lengths.len() as u64) as usize]
            };
            let c = rng.next_u32();
            assert_eq!(cache.zeros(c, n), z.zeros(c, n), "{n} zero octets");
        }
        assert_eq!(cache.tables.len(), ZerosCache::TABLES);
    }

    #[test]
    fn zeros_beyond_the_largest_table() {
        let zeros = vec![0u8; (1 << POWERS) * 2 + 12_345];
        for n in [1 << POWERS, (1 << POWERS) + 1, zeros.len()] {
            let c = crc32c::crc32c(b"123456789");
            assert_eq!(
                combine(c, crc32c::crc32c(&zeros[..n]), n),
                crc32c::crc32c_append(c, &zeros[..n]),
                "{n} zero octets"
            );
        }
    }

    #[test]
    fn block_slices_appended_without_reading_them() {
        let mut block = vec![0u8; 100_000];
        Rng::new(7, 1).fill(&mut block);
        let crcs = BlockCrcs::new(&block);
        let mut rng = Rng::new(8, 1);
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        // Short and grain-edge slices at every alignment, random ones, the ends of the block.
        for from in 0..140 {
            for len in [0, 1, 63, 64, 65, 127, 128, 129, 191, 300, 1440, 1460] {
                ranges.push((from, from + len));
            }
        }
        for _ in 0..500 {
            let from = rng.next_u32() as usize % block.len();
            let len = rng.next_u32() as usize % (block.len() - from).min(1 << 16);
            ranges.push((from, from + len));
        }
        ranges.push((0, block.len()));
        ranges.push((block.len() - 17, block.len()));
        for (from, to) in ranges {
            for before in [&b""[..], b"\x12", &[0xA5; 255], &[0x5A; 300]] {
                let mut c = Crc::new();
                c.push(before);
                crcs.append(&mut c, &block, from..to);
                c.push(b"after");
                let mut whole = before.to_vec();
                whole.extend_from_slice(&block[from..to]);
                whole.extend_from_slice(b"after");
                assert_eq!(
                    c.value(),
                    crc32c::crc32c(&whole),
                    "{from}..{to} after {} octets",
                    before.len()
                );
            }
        }
    }

    #[test]
    fn rfc_3720_vector_through_combine() {
        // RFC 3720 B.4: 32 octets of zero have CRC-32C aa 36 91 8a (0x8a9136aa).
        let zeros = [0u8; 32];
        assert_eq!(
            combine(crc32c::crc32c(&zeros[..7]), crc32c::crc32c(&zeros[7..]), 25),
            0x8a91_36aa
        );
    }
}
