// SPDX-License-Identifier: GPL-2.0

//! Block allocation from the group bitmaps (the bitmap side of ext4's
//! `mballoc.c`/`balloc.c`): find a free block at or after a goal, mark it,
//! and keep the group descriptor's free count and the bitmap and descriptor
//! checksums right, through a [`Trans`]. The policy is the simplest one
//! ext4 would accept: the first free block at or after the goal, group by
//! group, wrapping once; groups whose block bitmap is not initialised
//! (`BLOCK_UNINIT`) are passed over until bitmap initialisation exists.
//! Runs of blocks are allocated and freed a group at a time. A block freed
//! by a transaction that has not committed is passed over
//! ([`Trans::pending_until`]). Not yet: reservations and preallocation.

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

/// Sets (`used`) or clears bits `bit..bit + n` of the group's block bitmap,
/// adjusts the free count by `n`, and rewrites both checksums. Fails with
/// `Corrupt` if a bit already has that value (a double allocation or a
/// double free), before anything is changed.
fn flip<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    group: u32,
    bit: usize,
    n: usize,
    used: bool,
) -> Result<()> {
    let mut d = read_desc(tx, geo, group)?;
    let bbuf = read_bitmap(tx, geo, &d.gd)?;
    let end = bit.checked_add(n).ok_or(Error::OutOfRange("block"))?;
    for b in bit..end {
        if bit_is_set(tx.data(&bbuf), b)? == used {
            return Err(Error::Corrupt(if used {
                "block already in use"
            } else {
                "block already free"
            }));
        }
    }
    let mut csum = Ok(());
    tx.edit(&bbuf, |bm| {
        for b in bit..end {
            if let Some(byte) = bm.get_mut(b / 8) {
                *byte ^= 1 << (b % 8);
            }
        }
        csum = d.gd.set_block_bitmap_csum(geo, bm);
    })?;
    csum?;
    let n32 = u32::try_from(n).map_err(|_| Error::OutOfRange("block run"))?;
    let free = d.gd.free_blocks_count();
    let free = if used {
        free.checked_sub(n32)
    } else {
        free.checked_add(n32)
    }
    .ok_or(Error::Corrupt("group free blocks count"))?;
    d.gd.set_free_blocks_count(geo, free);
    write_desc(tx, geo, group, &d)?;
    let n64 = i64::from(n32);
    tx.counted(if used { n64.saturating_neg() } else { n64 }, 0);
    Ok(())
}

/// Allocates one block, the first free one at or after `goal` (any block
/// number; out of range means the start), and returns it; `Ok(None)` when
/// no initialised group has a free block (`ENOSPC`).
pub fn alloc_block<T: Trans>(tx: &mut T, geo: &Geometry, goal: u64) -> Result<Option<u64>> {
    Ok(alloc_run(tx, geo, goal, 1)?.map(|(b, _)| b))
}

/// Allocates up to `max` contiguous blocks (at least one): the run starts
/// at the first free block at or after `goal`, as `alloc_block`, and goes
/// on while the next block is free, in the same group. Returns the first
/// block and the length, or `Ok(None)` when the file system is full.
pub fn alloc_run<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    goal: u64,
    max: u32,
) -> Result<Option<(u64, u32)>> {
    let (goal_group, goal_bit) = locate(geo, goal).unwrap_or((0, 0));
    let groups = geo.groups_count;
    let max = usize::try_from(max.max(1)).map_err(|_| Error::OutOfRange("run"))?;
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
            let mut len = 1usize;
            while len < max && bit.saturating_add(len) < n {
                let b = bit.saturating_add(len);
                if bit_is_set(tx.data(&bbuf), b)?
                    || tx.pending_until(first.saturating_add(b as u64)).is_some()
                {
                    break;
                }
                len = len.saturating_add(1);
            }
            flip(tx, geo, group, bit, len, true)?;
            let blk = first
                .checked_add(bit as u64)
                .ok_or(Error::OutOfRange("block"))?;
            let len = u32::try_from(len).map_err(|_| Error::OutOfRange("run"))?;
            return Ok(Some((blk, len)));
        }
    }
    Ok(None)
}

/// Frees block `blk`: clears its bit and counts it free again.
pub fn free_block<T: Trans>(tx: &mut T, geo: &Geometry, blk: u64) -> Result<()> {
    free_run(tx, geo, blk, 1, true)
}

/// Frees `len` blocks from `start` (they may span groups). A `metadata`
/// run (tree, directory, xattr blocks: anything the journal may hold a
/// copy of) is also revoked in the journal ([`Trans::forget`]), so a replay
/// cannot write the old contents over the block's next owner.
pub fn free_run<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    start: u64,
    len: u64,
    metadata: bool,
) -> Result<()> {
    let end = start
        .checked_add(len)
        .ok_or(Error::OutOfRange("block run"))?;
    geo.check_block_range(start, len)
        .map_err(|_| Error::Corrupt("freeing blocks outside the file system"))?;
    let mut cur = start;
    while cur < end {
        let (group, bit) = locate(geo, cur)?;
        let in_group = blocks_in_group(geo, group)?.saturating_sub(bit);
        let n = usize::try_from(end.saturating_sub(cur))
            .unwrap_or(usize::MAX)
            .min(in_group);
        if n == 0 {
            return Err(Error::Corrupt("block run"));
        }
        // Recorded first: if that fails, the blocks are still in use.
        tx.freed(cur, n as u64)?;
        if metadata {
            for b in cur..cur.saturating_add(n as u64) {
                tx.forget(b)?;
            }
        }
        flip(tx, geo, group, bit, n, false)?;
        cur = cur.saturating_add(n as u64);
    }
    Ok(())
}

/// Credits for freeing a run of `len` blocks: a bitmap and a descriptor
/// block per group it spans.
pub fn free_credits(geo: &Geometry, len: u64) -> u32 {
    let groups = len
        .checked_div(u64::from(geo.blocks_per_group))
        .unwrap_or(len)
        .saturating_add(2);
    u32::try_from(groups.saturating_mul(2)).unwrap_or(u32::MAX)
}
