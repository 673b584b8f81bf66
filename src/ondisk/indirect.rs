// SPDX-License-Identifier: GPL-2.0

//! ext2/ext3-style block maps (`fs/ext4/indirect.c`): `i_block` holds 12
//! direct block numbers, then one single-, one double- and one
//! triple-indirect block number, and each indirect block is an array of
//! `block_size / 4` little-endian block numbers where 0 means a hole.
//! [`block_to_path`] is `ext4_block_to_path()`: it turns a logical block into
//! the chain of array offsets to follow, so a walker reads at most three
//! blocks and uses [`indirect_entry`] on each.

use super::bytes::le32;
use super::error::{Error, Result};
use super::inode::Inode;
use super::superblock::Geometry;

/// Direct block slots in `i_block`.
pub const EXT4_NDIR_BLOCKS: u32 = 12;
/// Slot of the single-indirect block.
pub const EXT4_IND_BLOCK: u32 = 12;
/// Slot of the double-indirect block.
pub const EXT4_DIND_BLOCK: u32 = 13;
/// Slot of the triple-indirect block.
pub const EXT4_TIND_BLOCK: u32 = 14;

/// The offsets to follow from `i_block` down to a data block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndirectPath {
    /// Number of valid offsets, 1 (direct) to 4 (triple indirect).
    pub depth: usize,
    /// `offsets[0]` indexes `i_block`; each later one indexes the block
    /// number array of the block found at the previous step.
    pub offsets: [u32; 4],
}

impl IndirectPath {
    /// The valid offsets.
    pub fn as_slice(&self) -> &[u32] {
        self.offsets.get(..self.depth).unwrap_or(&[])
    }
}

/// `ext4_block_to_path()` for a file system with `block_size`-byte blocks.
/// Logical blocks past the triple-indirect range are `OutOfRange`.
pub fn block_to_path(lblk: u32, block_size: u32) -> Result<IndirectPath> {
    let ptrs = u64::from(block_size / 4);
    if ptrs == 0 {
        return Err(Error::OutOfRange("block size"));
    }
    let mut b = u64::from(lblk);
    let direct = u64::from(EXT4_NDIR_BLOCKS);
    let mut offsets = [0u32; 4];
    let narrow = |v: u64| u32::try_from(v).map_err(|_| Error::OutOfRange("indirect offset"));

    if b < direct {
        offsets[0] = narrow(b)?;
        return Ok(IndirectPath { depth: 1, offsets });
    }
    b = b.saturating_sub(direct);
    if b < ptrs {
        offsets = [EXT4_IND_BLOCK, narrow(b)?, 0, 0];
        return Ok(IndirectPath { depth: 2, offsets });
    }
    b = b.saturating_sub(ptrs);
    let ptrs2 = ptrs.saturating_mul(ptrs);
    if b < ptrs2 {
        // ptrs is non-zero (checked above); the checked forms only satisfy the lint.
        offsets = [
            EXT4_DIND_BLOCK,
            narrow(div(b, ptrs))?,
            narrow(rem(b, ptrs))?,
            0,
        ];
        return Ok(IndirectPath { depth: 3, offsets });
    }
    b = b.saturating_sub(ptrs2);
    let ptrs3 = ptrs2.saturating_mul(ptrs);
    if b < ptrs3 {
        offsets = [
            EXT4_TIND_BLOCK,
            narrow(div(b, ptrs2))?,
            narrow(rem(div(b, ptrs), ptrs))?,
            narrow(rem(b, ptrs))?,
        ];
        return Ok(IndirectPath { depth: 4, offsets });
    }
    Err(Error::OutOfRange("block is past the triple-indirect range"))
}

fn div(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(0)
}

fn rem(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(0)
}

/// Entry `offset` of an indirect block (a block number, 0 for a hole).
pub fn indirect_entry(block: &[u8], offset: u32) -> Result<u32> {
    let off = usize::try_from(offset)
        .ok()
        .and_then(|o| o.checked_mul(4))
        .ok_or(Error::OutOfRange("indirect offset"))?;
    le32(block, off, "indirect offset past block")
}

/// Checks a block number read from a map before it is followed or read.
/// Zero is a hole and is accepted here; callers test for it.
pub fn check_mapped_block(geo: &Geometry, blk: u32) -> Result<()> {
    if blk == 0 {
        return Ok(());
    }
    geo.check_block_range(u64::from(blk), 1)
        .map_err(|_| Error::Corrupt("indirect block number out of range"))
}

/// The `i_block` slot of the first step of a path, checked.
pub fn root_entry(inode: &Inode, geo: &Geometry, path: &IndirectPath) -> Result<u32> {
    let slot = *path
        .offsets
        .first()
        .ok_or(Error::OutOfRange("empty path"))?;
    let blk = inode.i_block_word(usize::try_from(slot).map_err(|_| Error::OutOfRange("slot"))?)?;
    check_mapped_block(geo, blk)?;
    Ok(blk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_1k() {
        // 1 KiB blocks: 256 pointers per block.
        assert_eq!(
            block_to_path(11, 1024).ok().map(|p| p.offsets),
            Some([11, 0, 0, 0])
        );
        assert_eq!(
            block_to_path(12, 1024).ok().map(|p| p.offsets),
            Some([12, 0, 0, 0])
        );
        assert_eq!(
            block_to_path(12 + 255, 1024).ok().map(|p| p.offsets),
            Some([12, 255, 0, 0])
        );
        assert_eq!(
            block_to_path(12 + 256, 1024).ok().map(|p| p.offsets),
            Some([13, 0, 0, 0])
        );
        let t = 12 + 256 + 65536;
        assert_eq!(
            block_to_path(t, 1024).ok().map(|p| (p.depth, p.offsets)),
            Some((4, [14, 0, 0, 0]))
        );
        assert_eq!(
            block_to_path(t + 65536 + 257, 1024).ok().map(|p| p.offsets),
            Some([14, 1, 1, 1])
        );
        let last = 12 + 256 + 65536 + 16_777_216 - 1;
        assert_eq!(
            block_to_path(last, 1024).ok().map(|p| p.offsets),
            Some([14, 255, 255, 255])
        );
        assert_eq!(
            block_to_path(last + 1, 1024),
            Err(Error::OutOfRange("block is past the triple-indirect range"))
        );
    }

    #[test]
    fn paths_large_blocks() {
        // 4 KiB blocks reach 12 + 2^10 + 2^20 + 2^30 blocks; 64 KiB ones
        // cover the whole 32-bit logical space.
        let last_4k = 12 + 1024 + (1 << 20) + (1 << 30) - 1;
        assert_eq!(
            block_to_path(last_4k, 4096).ok().map(|p| p.offsets),
            Some([14, 1023, 1023, 1023])
        );
        assert!(block_to_path(last_4k + 1, 4096).is_err());
        assert!(matches!(
            block_to_path(u32::MAX, 65536),
            Ok(IndirectPath { depth: 4, .. })
        ));
    }
}
