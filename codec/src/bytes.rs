//! Big-endian field access shared by every view. Ranges come from each protocol's `field` module;
//! views check their buffer's length once, so these never see a short slice.

use core::ops::Range;

#[inline(always)]
pub(crate) fn be16(b: &[u8], r: Range<usize>) -> u16 {
    let mut a = [0u8; 2];
    a.copy_from_slice(&b[r]);
    u16::from_be_bytes(a)
}

#[inline(always)]
pub(crate) fn be32(b: &[u8], r: Range<usize>) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[r]);
    u32::from_be_bytes(a)
}

#[inline(always)]
pub(crate) fn be64(b: &[u8], r: Range<usize>) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[r]);
    u64::from_be_bytes(a)
}

#[inline(always)]
pub(crate) fn put_be16(b: &mut [u8], r: Range<usize>, v: u16) {
    b[r].copy_from_slice(&v.to_be_bytes());
}

#[inline(always)]
pub(crate) fn put_be32(b: &mut [u8], r: Range<usize>, v: u32) {
    b[r].copy_from_slice(&v.to_be_bytes());
}

#[inline(always)]
pub(crate) fn put_be64(b: &mut [u8], r: Range<usize>, v: u64) {
    b[r].copy_from_slice(&v.to_be_bytes());
}

/// Copies `N` bytes out of `b[r]`.
#[inline(always)]
pub(crate) fn array<const N: usize>(b: &[u8], r: Range<usize>) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[r]);
    a
}
