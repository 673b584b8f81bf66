// SPDX-License-Identifier: GPL-2.0

//! Block allocation from the group bitmaps (the bitmap side of ext4's
//! `mballoc.c`/`balloc.c`): find a free block at or after a goal, mark it,
//! and keep the group descriptor's free count and the bitmap and descriptor
//! checksums right, through a [`Trans`]. The policy is the simplest one
//! ext4 would accept: the first free block at or after the goal, group by
//! group, wrapping once; groups whose block bitmap is not initialised
//! (`BLOCK_UNINIT`) are passed over until bitmap initialisation exists.
//! Not yet: reservations, preallocation, extents of several blocks, and the
//! rule that a block freed in a transaction is not reused before it commits.

use super::super::ondisk::group_desc::{
    ext4_block_bitmap_csum_verify, GroupDesc, EXT4_BG_BLOCK_UNINIT,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};
use super::desc::{read_desc, write_desc};
use super::trans::Trans;

/// The group and bit of block `blk`.
fn locate(geo: &Geometry, blk: u64) -> Result<(u32, usize)> {
    let rel = blk
        .checked_sub(u64::from(geo.first_data_block))
        .filter(|_| blk < geo.blocks_count)
        .ok_or(Error::OutOfRange("block"))?;
    let bpg = u64::from(geo.blocks_per_group);
    let (Some(group), Some(bit)) = (rel.checked_div(bpg), rel.checked_rem(bpg)) else {
        return Err(Error::Corrupt("blocks per group"));
    };
    let group = u32::try_from(group).map_err(|_| Error::OutOfRange("block"))?;
    let bit = usize::try_from(bit).map_err(|_| Error::OutOfRange("block"))?;
    Ok((group, bit))
}

/// Number of blocks in `group` (the last group may be short).
fn blocks_in_group(geo: &Geometry, group: u32) -> Result<usize> {
    let first = geo.group_first_block(group)?;
    let n = geo
        .blocks_count
        .saturating_sub(first)
        .min(u64::from(geo.blocks_per_group));
    usize::try_from(n).map_err(|_| Error::OutOfRange("group"))
}

/// The group's block bitmap, its checksum verified
/// (`ext4_read_block_bitmap()`).
fn read_bitmap<T: Trans>(tx: &mut T, geo: &Geometry, gd: &GroupDesc) -> Result<T::Buf> {
    let buf = tx.bread(gd.block_bitmap())?;
    ext4_block_bitmap_csum_verify(geo, gd, tx.data(&buf))?;
    Ok(buf)
}

/// Whether block `blk` is marked in use (for checks before a free).
pub fn is_allocated<T: Trans>(tx: &mut T, geo: &Geometry, blk: u64) -> Result<bool> {
    let (group, bit) = locate(geo, blk)?;
    let gd = read_desc(tx, geo, group)?.gd;
    if gd.has_flag(EXT4_BG_BLOCK_UNINIT) {
        return Ok(false);
    }
    let buf = read_bitmap(tx, geo, &gd)?;
    bit_is_set(tx.data(&buf), bit)
}

fn bit_is_set(bitmap: &[u8], bit: usize) -> Result<bool> {
    let byte = bitmap
        .get(bit / 8)
        .ok_or(Error::Corrupt("bitmap too short"))?;
    Ok(byte & (1 << (bit % 8)) != 0)
}

/// Sets (`used`) or clears bit `bit` of the group's block bitmap, adjusts the
/// free count by one, and rewrites both checksums. Fails with `Corrupt` if
/// the bit already has that value (a double allocation or a double free).
fn flip<T: Trans>(tx: &mut T, geo: &Geometry, group: u32, bit: usize, used: bool) -> Result<()> {
    let mut d = read_desc(tx, geo, group)?;
    let bbuf = read_bitmap(tx, geo, &d.gd)?;
    if bit_is_set(tx.data(&bbuf), bit)? == used {
        return Err(Error::Corrupt(if used {
            "block already in use"
        } else {
            "block already free"
        }));
    }
    let mut csum = Ok(());
    tx.edit(&bbuf, |bm| {
        if let Some(byte) = bm.get_mut(bit / 8) {
            *byte ^= 1 << (bit % 8);
        }
        csum = d.gd.set_block_bitmap_csum(geo, bm);
    })?;
    csum?;
    let free = d.gd.free_blocks_count();
    let free = if used {
        free.checked_sub(1)
    } else {
        free.checked_add(1)
    }
    .ok_or(Error::Corrupt("group free blocks count"))?;
    d.gd.set_free_blocks_count(geo, free);
    write_desc(tx, geo, group, &d)?;
    tx.counted(if used { -1 } else { 1 }, 0);
    Ok(())
}

/// Allocates one block, the first free one at or after `goal` (any block
/// number; out of range means the start), and returns it; `Ok(None)` when
/// no initialised group has a free block (`ENOSPC`).
pub fn alloc_block<T: Trans>(tx: &mut T, geo: &Geometry, goal: u64) -> Result<Option<u64>> {
    let (goal_group, goal_bit) = locate(geo, goal).unwrap_or((0, 0));
    let groups = geo.groups_count;
    for i in 0..=groups {
        let group = goal_group
            .checked_add(i)
            .and_then(|g| g.checked_rem(groups))
            .ok_or(Error::OutOfRange("group"))?;
        let start = if i == 0 { goal_bit } else { 0 };
        let gd = read_desc(tx, geo, group)?.gd;
        if gd.has_flag(EXT4_BG_BLOCK_UNINIT) || gd.free_blocks_count() == 0 {
            continue;
        }
        let n = blocks_in_group(geo, group)?;
        let bbuf = read_bitmap(tx, geo, &gd)?;
        let first = geo.group_first_block(group)?;
        let mut found = None;
        let mut bit = start;
        while bit < n {
            if bit_is_set(tx.data(&bbuf), bit)? {
                bit = bit.saturating_add(1);
                continue;
            }
            let blk = first
                .checked_add(bit as u64)
                .ok_or(Error::OutOfRange("block"))?;
            match tx.pending_until(blk) {
                None => {
                    found = Some(bit);
                    break;
                }
                // Past the whole stretch freed by an uncommitted transaction.
                Some(end) => {
                    let skip = end.saturating_sub(first);
                    bit = usize::try_from(skip)
                        .unwrap_or(n)
                        .max(bit.saturating_add(1));
                }
            }
        }
        if let Some(bit) = found {
            flip(tx, geo, group, bit, true)?;
            let blk = geo
                .group_first_block(group)?
                .checked_add(bit as u64)
                .ok_or(Error::OutOfRange("block"))?;
            return Ok(Some(blk));
        }
    }
    Ok(None)
}

/// Frees block `blk`: clears its bit and counts it free again.
pub fn free_block<T: Trans>(tx: &mut T, geo: &Geometry, blk: u64) -> Result<()> {
    let (group, bit) = locate(geo, blk)?;
    // Recorded first: if that fails, the block is still in use.
    tx.freed(blk)?;
    flip(tx, geo, group, bit, false)
}
