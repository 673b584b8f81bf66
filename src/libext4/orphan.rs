// SPDX-License-Identifier: GPL-2.0

//! The classic orphan list (`ext4_orphan_add()`, `ext4_orphan_del()`,
//! `ext4_orphan_cleanup()`): the super block's `s_last_orphan` names the
//! first orphan and each orphan's `i_dtime` the next, 0 ending the list.
//! An inode goes on it in the transaction that makes it an orphan (its
//! last link gone while it is still open, or a truncate that will take
//! more than one transaction) and comes off it in the one that finishes
//! the job, so a crash in between leaves the list naming what is left to
//! do, which the next mount (rext4's, ext4's) or e2fsck finishes.
//!
//! Only under a journal, as in ext4: without one a crash needs e2fsck
//! anyway. rext4 writes the classic list on `orphan_file` images too (ext4
//! falls back to it when its orphan file is full; ext4 and e2fsck process
//! both). Every change here runs under the caller's transaction, which the
//! kernel serialises with every other (its allocation lock), so walking
//! the list is safe.

use super::super::ondisk::features::EXT4_FEATURE_COMPAT_HAS_JOURNAL;
use super::super::ondisk::inode::{FileType, EXT4_EXTENTS_FL};
use super::super::ondisk::superblock::{
    last_orphan, set_last_orphan, Geometry, EXT4_SUPERBLOCK_OFFSET,
};
use super::super::ondisk::{Error, Result};
use super::data::{release_blocks, truncate};
use super::extents::depth;
use super::ialloc::inode_in_use;
use super::inode::{edit_inode, read_inode, Time};
use super::namei::free_unlinked;
use super::trans::Trans;

/// The block holding the primary super block and the super block's offset
/// in it.
pub(super) fn sb_slot(geo: &Geometry) -> Result<(u64, usize)> {
    let bs = u64::from(geo.block_size);
    let blk = EXT4_SUPERBLOCK_OFFSET
        .checked_div(bs)
        .ok_or(Error::Corrupt("block size"))?;
    let off = EXT4_SUPERBLOCK_OFFSET
        .checked_rem(bs)
        .ok_or(Error::Corrupt("block size"))?;
    Ok((blk, off as usize))
}

/// The head of the list (`s_last_orphan`).
pub fn head<T: Trans>(tx: &mut T, geo: &Geometry) -> Result<u32> {
    let (blk, off) = sb_slot(geo)?;
    let buf = tx.bread(blk)?;
    let raw = tx
        .data(&buf)
        .get(off..)
        .ok_or(Error::Corrupt("super block offset"))?;
    last_orphan(raw)
}

fn set_head<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<()> {
    let (blk, off) = sb_slot(geo)?;
    let buf = tx.bread(blk)?;
    tx.edit(&buf, |b| {
        let raw = b
            .get_mut(off..)
            .ok_or(Error::Corrupt("super block offset"))?;
        set_last_orphan(raw, ino)
    })?
}

/// A list entry: a valid inode number (a damaged list must not send the
/// walk into the reserved inodes or past the table).
fn entry(geo: &Geometry, ino: u32) -> Result<u32> {
    match geo.valid_inum(ino) && ino >= geo.first_ino {
        true => Ok(ino),
        false => Err(Error::Corrupt("orphan list entry")),
    }
}

/// The orphan before `ino` on the list: `Some(None)` if `ino` is the head,
/// `Some(Some(prev))` if `prev` points at it, `None` if it is not on the
/// list. The walk is bounded by the inode count, so a looping list ends.
fn find<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<Option<Option<u32>>> {
    let mut cur = head(tx, geo)?;
    if cur == ino {
        return Ok(Some(None));
    }
    for _ in 0..geo.inodes_count {
        if cur == 0 {
            return Ok(None);
        }
        let next = read_inode(tx, geo, entry(geo, cur)?)?.i_dtime;
        if next == ino {
            return Ok(Some(Some(cur)));
        }
        cur = next;
    }
    Err(Error::Corrupt("orphan list loops"))
}

/// Walks the whole list, checking every entry: the step that can find
/// damage, done before a change that will need the list.
pub fn check<T: Trans>(tx: &mut T, geo: &Geometry) -> Result<()> {
    if !geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
        return Ok(());
    }
    // 0 is never an inode: the walk goes to the list's end.
    find(tx, geo, 0).map(|_| ())
}

/// Empties the list (`ext4_orphan_cleanup()` on a damaged one: e2fsck
/// frees what it named).
pub fn clear<T: Trans>(tx: &mut T, geo: &Geometry) -> Result<()> {
    set_head(tx, geo, 0)
}

/// Puts inode `ino` at the head of the list, unless it is on it already.
/// Returns whether it was added. A no-op without a journal.
pub fn add<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<bool> {
    if !geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
        return Ok(false);
    }
    entry(geo, ino)?;
    if find(tx, geo, ino)?.is_some() {
        return Ok(false);
    }
    let next = head(tx, geo)?;
    edit_inode(tx, geo, ino, |i| i.i_dtime = next)?;
    set_head(tx, geo, ino)?;
    Ok(true)
}

/// Takes inode `ino` off the list (a no-op if it is not on it): its
/// predecessor, or the super block, then points at its successor, and its
/// `i_dtime` is cleared.
pub fn del<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<()> {
    if !geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
        return Ok(());
    }
    let Some(prev) = find(tx, geo, ino)? else {
        return Ok(());
    };
    let next = read_inode(tx, geo, ino)?.i_dtime;
    match prev {
        None => set_head(tx, geo, next)?,
        Some(p) => edit_inode(tx, geo, p, |i| i.i_dtime = next)?,
    }
    edit_inode(tx, geo, ino, |i| i.i_dtime = 0)
}

/// What one [`cleanup_step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cleaned {
    /// The list is empty.
    Empty,
    /// Part of the head orphan's blocks were freed; call again.
    Partial,
    /// The head orphan had no link: it was freed with its blocks.
    Freed(u32),
    /// The head orphan still has links: its blocks past its size were
    /// freed (an interrupted truncate finished) and it left the list.
    Truncated(u32, u64),
}

/// One step of the mount's orphan processing (`ext4_orphan_cleanup()`):
/// the head of the list is freed if it has no link, or truncated to its
/// size if it has, within `budget` credits for the tree, and taken off the
/// list in the transaction that finishes it.
pub fn cleanup_step<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    now: Time,
    budget: &mut u32,
) -> Result<Cleaned> {
    let ino = head(tx, geo)?;
    if ino == 0 {
        return Ok(Cleaned::Empty);
    }
    let i = read_inode(tx, geo, entry(geo, ino)?)?;
    // `ext4_orphan_get()`: a listed inode must be in use.
    if i.i_mode == 0 || !inode_in_use(tx, geo, ino)? {
        return Err(Error::Corrupt("bad orphan inode"));
    }
    let extents = i.has_flag(EXT4_EXTENTS_FL);
    if i.i_links_count == 0 {
        if extents && depth(&i.i_block) > 0 {
            let ty = i.file_type()?;
            let revoke = matches!(ty, FileType::Directory | FileType::Symlink);
            if !release_blocks(tx, geo, ino, revoke, budget)? {
                return Ok(Cleaned::Partial);
            }
        }
        // Off the list too (first: the freeing reuses i_dtime).
        free_unlinked(tx, geo, ino, now)?;
        return Ok(Cleaned::Freed(ino));
    }
    let size = i.size(geo)?;
    // Only an extent-mapped regular file can be truncated here: anything
    // else stays listed for e2fsck (taking it off would leave its blocks
    // past the size, which e2fsck might then take as file data).
    if !extents || i.file_type()? != FileType::Regular {
        return Err(Error::Unsupported("an orphan rext4 cannot truncate"));
    }
    if !truncate(tx, geo, ino, size, budget)? {
        return Ok(Cleaned::Partial);
    }
    del(tx, geo, ino)?;
    Ok(Cleaned::Truncated(ino, size))
}
