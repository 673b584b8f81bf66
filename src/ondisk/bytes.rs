// SPDX-License-Identifier: GPL-2.0

//! Checked little- and big-endian field readers over byte slices. All decoding
//! in this layer goes through these so that a short or truncated buffer turns
//! into `Error::Corrupt` naming the field, instead of an out-of-bounds panic,
//! and so that no structure is ever read by casting a pointer.

use super::error::{Error, Result};

/// Returns `b[off..off + len]` or `Corrupt(what)` if it does not fit.
#[inline]
pub fn sub<'a>(b: &'a [u8], off: usize, len: usize, what: &'static str) -> Result<&'a [u8]> {
    let end = off.checked_add(len).ok_or(Error::Corrupt(what))?;
    b.get(off..end).ok_or(Error::Corrupt(what))
}

/// Reads `N` bytes at `off` as an array.
#[inline]
pub fn array<const N: usize>(b: &[u8], off: usize, what: &'static str) -> Result<[u8; N]> {
    let s = sub(b, off, N, what)?;
    let mut out = [0u8; N];
    out.copy_from_slice(s);
    Ok(out)
}

/// Reads a byte.
#[inline]
pub fn u8_at(b: &[u8], off: usize, what: &'static str) -> Result<u8> {
    b.get(off).copied().ok_or(Error::Corrupt(what))
}

/// Reads a little-endian `u16`.
#[inline]
pub fn le16(b: &[u8], off: usize, what: &'static str) -> Result<u16> {
    Ok(u16::from_le_bytes(array(b, off, what)?))
}

/// Reads a little-endian `u32`.
#[inline]
pub fn le32(b: &[u8], off: usize, what: &'static str) -> Result<u32> {
    Ok(u32::from_le_bytes(array(b, off, what)?))
}

/// Reads a little-endian `u64`.
#[inline]
pub fn le64(b: &[u8], off: usize, what: &'static str) -> Result<u64> {
    Ok(u64::from_le_bytes(array(b, off, what)?))
}

/// Reads a big-endian `u32` (JBD2 stores everything big-endian).
#[inline]
pub fn be32(b: &[u8], off: usize, what: &'static str) -> Result<u32> {
    Ok(u32::from_be_bytes(array(b, off, what)?))
}

/// Reads a big-endian `u64`.
#[inline]
pub fn be64(b: &[u8], off: usize, what: &'static str) -> Result<u64> {
    Ok(u64::from_be_bytes(array(b, off, what)?))
}

/// Joins the `lo`/`hi` halves that ext4 splits wide fields into.
#[inline]
pub fn lo_hi(lo: u32, hi: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Reads `N` consecutive little-endian `u32`s.
#[inline]
pub fn le32_array<const N: usize>(b: &[u8], off: usize, what: &'static str) -> Result<[u32; N]> {
    let mut out = [0u32; N];
    let mut pos = off;
    for slot in out.iter_mut() {
        *slot = le32(b, pos, what)?;
        pos = pos.checked_add(4).ok_or(Error::Corrupt(what))?;
    }
    Ok(out)
}

/// Stores `v` little-endian at `off`; `Corrupt(what)` if it does not fit.
pub fn put_le32(b: &mut [u8], off: usize, v: u32, what: &'static str) -> Result<()> {
    b.get_mut(off..off.saturating_add(4))
        .filter(|s| s.len() == 4)
        .ok_or(Error::Corrupt(what))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}

/// Stores `v` little-endian at `off`; `Corrupt(what)` if it does not fit.
pub fn put_le16(b: &mut [u8], off: usize, v: u16, what: &'static str) -> Result<()> {
    b.get_mut(off..off.saturating_add(2))
        .filter(|s| s.len() == 2)
        .ok_or(Error::Corrupt(what))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}
