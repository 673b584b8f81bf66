// SPDX-License-Identifier: GPL-2.0

//! Inode allocation from the group bitmaps (the bitmap side of ext4's
//! `ialloc.c`): find a free inode, mark it, and keep the group descriptor
//! right: free inodes, used directories, `bg_itable_unused`, the
//! `INODE_UNINIT` flag (cleared on first use, with the bitmap initialised as
//! `ext4_read_inode_bitmap()` does: zero, padding bits past the group's
//! inodes set), and the bitmap and descriptor checksums, through a
//! [`Trans`]. The policy is the simplest ext4 accepts: the first free inode
//! from the goal group on, wrapping once; ext4's Orlov spreading of
//! directories and `find_group_other()` come later. Groups whose block bitmap
//! is not initialised (`BLOCK_UNINIT`) are passed over, as in
//! [`super::balloc`]. Writing the inode itself is the caller's.

use super::super::ondisk::group_desc::{
    ext4_inode_bitmap_csum_verify, EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_UNINIT,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};
use super::desc::{read_desc, write_desc};
use super::trans::Trans;

fn bit_is_set(bitmap: &[u8], bit: usize) -> Result<bool> {
    let byte = bitmap
        .get(bit / 8)
        .ok_or(Error::Corrupt("bitmap too short"))?;
    Ok(byte & (1 << (bit % 8)) != 0)
}

/// The first inode number of `group`, 1-based as inode numbers are.
fn group_first_ino(geo: &Geometry, group: u32) -> Result<u32> {
    group
        .checked_mul(geo.inodes_per_group)
        .and_then(|n| n.checked_add(1))
        .ok_or(Error::OutOfRange("group"))
}

/// Allocates an inode (a directory if `is_dir`), the first free one from
/// group `goal_group` on, and returns its number; `Ok(None)` when no usable
/// group has a free inode (`ENOSPC`).
pub fn alloc_inode<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    goal_group: u32,
    is_dir: bool,
) -> Result<Option<u32>> {
    let groups = geo.groups_count;
    let ipg = usize::try_from(geo.inodes_per_group).map_err(|_| Error::Corrupt("ipg"))?;
    for i in 0..groups {
        let group = goal_group
            .checked_rem(groups)
            .and_then(|g| g.checked_add(i))
            .and_then(|g| g.checked_rem(groups))
            .ok_or(Error::OutOfRange("group"))?;
        let mut d = read_desc(tx, geo, group)?;
        let gd = &mut d.gd;
        if gd.has_flag(EXT4_BG_BLOCK_UNINIT) || gd.free_inodes_count() == 0 {
            continue;
        }
        let uninit = geo.has_group_desc_csum() && gd.has_flag(EXT4_BG_INODE_UNINIT);
        if uninit && group == 0 {
            return Err(Error::Corrupt(
                "inode bitmap for group 0 marked uninitialized",
            ));
        }
        let bbuf = tx.bread(gd.inode_bitmap())?;
        if !uninit {
            ext4_inode_bitmap_csum_verify(geo, gd, tx.data(&bbuf))?;
        }
        let bit = if uninit {
            // An uninitialised bitmap is all free: its first inode. In
            // group 0 the reserved inodes are always marked, so it is
            // never uninitialised there.
            Some(0)
        } else {
            let bm = tx.data(&bbuf);
            // Group 0's reserved inodes are never handed out; one found
            // free is corruption (ext4: "reserved inode found cleared").
            let first = match group {
                0 => usize::try_from(geo.first_ino.saturating_sub(1))
                    .map_err(|_| Error::Corrupt("first_ino"))?,
                _ => 0,
            };
            for bit in 0..first.min(ipg) {
                if !bit_is_set(bm, bit)? {
                    return Err(Error::Corrupt("reserved inode found cleared"));
                }
            }
            let mut found = None;
            for bit in first..ipg {
                if !bit_is_set(bm, bit)? {
                    found = Some(bit);
                    break;
                }
            }
            found
        };
        let Some(bit) = bit else { continue };
        let mut csum = Ok(());
        let bs_bits = usize::try_from(geo.block_size)
            .map_err(|_| Error::Corrupt("block size"))?
            .saturating_mul(8);
        tx.edit(&bbuf, |bm| {
            if uninit {
                // ext4_read_inode_bitmap() of an INODE_UNINIT group:
                // zero, then the padding past the group's inodes set.
                for (i, byte) in bm.iter_mut().enumerate() {
                    let first = i.saturating_mul(8);
                    *byte = 0;
                    for b in 0..8 {
                        let n = first.saturating_add(b);
                        if n >= ipg && n < bs_bits {
                            *byte |= 1 << b;
                        }
                    }
                }
            }
            if let Some(byte) = bm.get_mut(bit / 8) {
                *byte |= 1 << (bit % 8);
            }
            csum = gd.set_inode_bitmap_csum(geo, bm);
        })?;
        csum?;
        // `bit` < ipg, so the relative number fits.
        let rel = u32::try_from(bit)
            .ok()
            .and_then(|b| b.checked_add(1))
            .ok_or(Error::OutOfRange("inode"))?;
        if geo.has_group_desc_csum() {
            let mut used = geo.inodes_per_group.saturating_sub(gd.itable_unused());
            if uninit {
                gd.bg_flags &= !EXT4_BG_INODE_UNINIT;
                used = 0;
            }
            if rel > used {
                gd.set_itable_unused(geo, geo.inodes_per_group.saturating_sub(rel));
            }
        }
        let free = gd
            .free_inodes_count()
            .checked_sub(1)
            .ok_or(Error::Corrupt("group free inodes count"))?;
        gd.set_free_inodes_count(geo, free);
        if is_dir {
            let dirs = gd.used_dirs_count().saturating_add(1);
            gd.set_used_dirs_count(geo, dirs);
        }
        write_desc(tx, geo, group, &d)?;
        tx.counted(0, -1);
        let ino = group_first_ino(geo, group)?
            .checked_add(rel.saturating_sub(1))
            .ok_or(Error::OutOfRange("inode"))?;
        return Ok(Some(ino));
    }
    Ok(None)
}

/// Whether inode `ino`'s bit is set in its group's bitmap (checked).
pub fn inode_in_use<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<bool> {
    if ino == 0 || ino > geo.inodes_count {
        return Err(Error::Corrupt("inode number"));
    }
    let rel = ino.saturating_sub(1);
    let (Some(group), Some(bit)) = (
        rel.checked_div(geo.inodes_per_group),
        rel.checked_rem(geo.inodes_per_group),
    ) else {
        return Err(Error::Corrupt("inodes per group"));
    };
    let bit = usize::try_from(bit).map_err(|_| Error::OutOfRange("inode"))?;
    let d = read_desc(tx, geo, group)?;
    if d.gd.has_flag(EXT4_BG_INODE_UNINIT) {
        return Ok(false);
    }
    let bbuf = tx.bread(d.gd.inode_bitmap())?;
    ext4_inode_bitmap_csum_verify(geo, &d.gd, tx.data(&bbuf))?;
    bit_is_set(tx.data(&bbuf), bit)
}

/// Frees inode `ino` (a directory if `is_dir`): clears its bit and counts
/// it free again. Freeing a free inode, or a reserved one, is `Corrupt`.
pub fn free_inode<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32, is_dir: bool) -> Result<()> {
    if ino < geo.first_ino || ino > geo.inodes_count {
        return Err(Error::Corrupt("freeing a reserved or out-of-range inode"));
    }
    let rel = ino.saturating_sub(1);
    let (Some(group), Some(bit)) = (
        rel.checked_div(geo.inodes_per_group),
        rel.checked_rem(geo.inodes_per_group),
    ) else {
        return Err(Error::Corrupt("inodes per group"));
    };
    let bit = usize::try_from(bit).map_err(|_| Error::OutOfRange("inode"))?;
    let mut d = read_desc(tx, geo, group)?;
    let gd = &mut d.gd;
    if gd.has_flag(EXT4_BG_INODE_UNINIT) {
        return Err(Error::Corrupt("inode already free"));
    }
    let bbuf = tx.bread(gd.inode_bitmap())?;
    ext4_inode_bitmap_csum_verify(geo, gd, tx.data(&bbuf))?;
    if !bit_is_set(tx.data(&bbuf), bit)? {
        return Err(Error::Corrupt("inode already free"));
    }
    let mut csum = Ok(());
    tx.edit(&bbuf, |bm| {
        if let Some(byte) = bm.get_mut(bit / 8) {
            *byte &= !(1 << (bit % 8));
        }
        csum = gd.set_inode_bitmap_csum(geo, bm);
    })?;
    csum?;
    let free = gd
        .free_inodes_count()
        .checked_add(1)
        .ok_or(Error::Corrupt("group free inodes count"))?;
    gd.set_free_inodes_count(geo, free);
    if is_dir {
        let dirs = gd
            .used_dirs_count()
            .checked_sub(1)
            .ok_or(Error::Corrupt("group used dirs count"))?;
        gd.set_used_dirs_count(geo, dirs);
    }
    write_desc(tx, geo, group, &d)?;
    tx.counted(0, 1);
    Ok(())
}
