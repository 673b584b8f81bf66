// SPDX-License-Identifier: GPL-2.0

//! The metadata side of file data, shared by the kernel's iomap callbacks
//! and the host tests: mapping a range for a write (existing blocks, or
//! new blocks allocated as **unwritten** extents, as the series'
//! `ext4_iomap_get_blocks()` with `EXT4_GET_BLOCKS_CREATE_UNWRIT_EXT`),
//! the end-of-I/O step (unwritten to written, and the on-disk size raised
//! to what was written: digest R3, R5.1), and truncation (`i_size` set, the
//! blocks past it freed). `i_blocks` follows every change. The data itself
//! goes through the page cache in the kernel; the host writes it to the
//! image between the two steps, as writeback would.

use super::super::ondisk::crc::ext4_inode_csum_seed;
use super::super::ondisk::extent::EXT_UNWRITTEN_MAX_LEN;
use super::super::ondisk::features::EXT4_FEATURE_RO_COMPAT_HUGE_FILE;
use super::super::ondisk::inode::{Inode, EXT4_EXTENTS_FL, EXT4_HUGE_FILE_FL};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Errno, Error, Result};
use super::balloc::{alloc_run, free_run};
use super::extents::{insert, lookup, mark_written, remove_from, Found, NewExtent, Tree};
use super::inode::{edit_inode, read_inode};
use super::trans::Trans;

/// A mapping handed to a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteMap {
    /// First logical block (the one asked for).
    pub lblk: u32,
    /// Blocks mapped from there.
    pub len: u32,
    /// Physical block of `lblk`.
    pub pblk: u64,
    /// The blocks are unwritten (new ones always are).
    pub unwritten: bool,
    /// The blocks were allocated by this call.
    pub new: bool,
}

fn writable_file(inode: &Inode) -> Result<()> {
    if !inode.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("writing a block-mapped file"));
    }
    if inode.has_flag(EXT4_HUGE_FILE_FL) {
        return Err(Error::Unsupported("writing a huge_file-flagged file"));
    }
    Ok(())
}

/// Adds `delta` file system blocks to `i_blocks` (512-byte units; 48 bits
/// with `huge_file`).
pub(super) fn add_blocks(i: &mut Inode, geo: &Geometry, delta: i64) -> Result<()> {
    let per = i64::from(geo.block_size >> 9);
    let huge = geo.has_ro_compat(EXT4_FEATURE_RO_COMPAT_HUGE_FILE);
    let cur = match huge {
        true => (u64::from(i.l_i_blocks_high) << 32) | u64::from(i.i_blocks_lo),
        false => u64::from(i.i_blocks_lo),
    };
    let cur = i64::try_from(cur).map_err(|_| Error::Corrupt("i_blocks"))?;
    let new = delta
        .checked_mul(per)
        .and_then(|d| cur.checked_add(d))
        .filter(|&n| n >= 0)
        .ok_or(Error::Corrupt("i_blocks"))?;
    let new = new as u64;
    let limit = if huge { 1u64 << 48 } else { 1u64 << 32 };
    if new >= limit {
        return Err(Error::Refused(Errno::NoSpace));
    }
    i.i_blocks_lo = (new & 0xFFFF_FFFF) as u32;
    if huge {
        i.l_i_blocks_high = (new >> 32) as u16;
    }
    Ok(())
}

fn set_size(i: &mut Inode, size: u64) {
    i.i_size_lo = (size & 0xFFFF_FFFF) as u32;
    i.i_size_high = (size >> 32) as u32;
}

/// Runs `f` on inode `ino`'s extent tree and writes the root, `i_blocks`
/// and whatever `after` changes back to the inode.
fn with_tree<T: Trans, R>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    f: impl FnOnce(&mut T, &Inode, &mut Tree<'_>) -> Result<R>,
    after: impl FnOnce(&mut Inode, &R),
) -> Result<R> {
    let inode = read_inode(tx, geo, ino)?;
    writable_file(&inode)?;
    let mut root = inode.i_block;
    let loc = geo.inode_location(ino)?;
    let mut t = Tree {
        ino,
        seed: ext4_inode_csum_seed(geo.csum_seed, ino, inode.i_generation),
        root: &mut root,
        goal: geo.group_first_block(loc.group)?,
        blocks: 0,
    };
    let r = f(tx, &inode, &mut t);
    let delta = t.blocks;
    // Written back on failure too: each tree step leaves a consistent
    // tree, and the blocks it already changed stay changed
    // (`ext4_ext_dirty()` after every step).
    let mut bad = Ok(());
    edit_inode(tx, geo, ino, |i| {
        i.i_block = root;
        bad = add_blocks(i, geo, delta);
        if let Ok(r) = &r {
            after(i, r);
        }
    })?;
    let r = r?;
    bad?;
    Ok(r)
}

/// Maps `lblk..lblk + len` of regular file `ino` for a write: the blocks
/// mapped there, or, for a hole, new blocks allocated as one unwritten
/// extent (at most the hole, `len` and 32767 blocks), placed after the
/// blocks mapped just before (or in the inode's group). `Refused(NoSpace)`
/// when the file system is full.
pub fn map_for_write<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    lblk: u32,
    len: u32,
) -> Result<WriteMap> {
    if lblk == u32::MAX {
        return Err(Error::OutOfRange("offset past the extent limit"));
    }
    let len = len.min(u32::MAX.saturating_sub(lblk));
    // A lookup first: existing blocks need no inode update.
    {
        let inode = read_inode(tx, geo, ino)?;
        writable_file(&inode)?;
        let mut root = inode.i_block;
        let t = Tree {
            ino,
            seed: ext4_inode_csum_seed(geo.csum_seed, ino, inode.i_generation),
            root: &mut root,
            goal: 0,
            blocks: 0,
        };
        if let Found::Mapped {
            lblk,
            len: n,
            pblk,
            unwritten,
        } = lookup(tx, geo, &t, lblk)?
        {
            return Ok(WriteMap {
                lblk,
                len: n.min(len.max(1)),
                pblk,
                unwritten,
                new: false,
            });
        }
    }
    with_tree(
        tx,
        geo,
        ino,
        |tx, _, t| {
            let Found::Hole { len: hole, .. } = lookup(tx, geo, t, lblk)? else {
                return Err(Error::Corrupt("extent tree changed"));
            };
            let want = u64::from(len.max(1))
                .min(hole)
                .min(u64::from(EXT_UNWRITTEN_MAX_LEN));
            let want = u32::try_from(want).map_err(|_| Error::OutOfRange("length"))?;
            // After the blocks mapped before (`ext4_ext_find_goal()`).
            let goal = match lblk.checked_sub(1) {
                Some(prev) => match lookup(tx, geo, t, prev)? {
                    Found::Mapped { pblk, .. } => pblk.saturating_add(1),
                    Found::Hole { .. } => t.goal,
                },
                None => t.goal,
            };
            let (pblk, got) =
                alloc_run(tx, geo, goal, want)?.ok_or(Error::Refused(Errno::NoSpace))?;
            t.goal = pblk.saturating_add(u64::from(got));
            let e = NewExtent {
                lblk,
                len: got,
                pblk,
                unwritten: true,
            };
            if let Err(err) = insert(tx, geo, t, e, true) {
                // Unmapped, so not kept (ext4_ext_map_blocks() frees them).
                free_run(tx, geo, pblk, u64::from(got), false)?;
                return Err(err);
            }
            t.blocks = t.blocks.saturating_add(i64::from(got));
            Ok(WriteMap {
                lblk,
                len: got,
                pblk,
                unwritten: true,
                new: true,
            })
        },
        |_, _| {},
    )
}

/// After data reached `lblk..lblk + len` of file `ino`: unwritten blocks
/// there become written, and the on-disk size rises to `size` if that is
/// larger. Returns `None` when done, or the block to resume from in a new
/// transaction when `budget` (credits) ran out.
pub fn written<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    (lblk, len): (u32, u32),
    size: u64,
    budget: &mut u32,
) -> Result<Option<u32>> {
    with_tree(
        tx,
        geo,
        ino,
        |tx, _, t| mark_written(tx, geo, t, lblk, len, budget),
        |i, r| {
            let cur = (u64::from(i.i_size_high) << 32) | u64::from(i.i_size_lo);
            if r.is_none() && size > cur {
                set_size(i, size);
            }
        },
    )
}

/// Sets the on-disk size of file `ino` to `size` and frees every block
/// from logical block `from` on (`from` is `size` rounded up to a block).
/// Returns `true` when done, `false` when `budget` ran out (call again:
/// the size is already set).
pub fn truncate<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    size: u64,
    budget: &mut u32,
) -> Result<bool> {
    let bs = u64::from(geo.block_size);
    let from = size.div_ceil(bs);
    let from = u32::try_from(from).unwrap_or(u32::MAX);
    with_tree(
        tx,
        geo,
        ino,
        |tx, _, t| match from {
            u32::MAX => Ok(true),
            _ => remove_from(tx, geo, t, from, false, budget),
        },
        |i, _| set_size(i, size),
    )
}

/// Frees every block inode `ino` maps (a file or directory whose last
/// link is gone, before its inode is freed), from the end back, within
/// `budget` credits. Returns `true` when done, `false` to be called again
/// in a new transaction. A directory's blocks are revoked as they go.
pub fn release_blocks<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    is_dir: bool,
    budget: &mut u32,
) -> Result<bool> {
    with_tree(
        tx,
        geo,
        ino,
        |tx, _, t| remove_from(tx, geo, t, 0, is_dir, budget),
        |_, _| {},
    )
}

/// Writes `data` into the empty regular file `ino`, as a write and its
/// writeback would: blocks mapped unwritten, data written, then converted
/// and the size set. `Ok(false)` if the file system ran out of blocks part
/// way (`ENOSPC`): what was written stays mapped and counted, as after a
/// short write.
pub fn fill_empty_file<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    data: &[u8],
) -> Result<bool> {
    let inode = read_inode(tx, geo, ino)?;
    if inode.size(geo)? != 0 || inode.i_blocks_lo != 0 {
        return Err(Error::OutOfRange("not an empty file"));
    }
    write_at(tx, geo, ino, 0, data)
}

/// Writes `data` at byte `pos` of file `ino` (the host's stand-in for a
/// buffered write and its writeback). `Ok(false)` on `ENOSPC` part way.
pub fn write_at<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    pos: u64,
    data: &[u8],
) -> Result<bool> {
    let bs = u64::from(geo.block_size);
    let end = pos
        .checked_add(data.len() as u64)
        .ok_or(Error::OutOfRange("offset"))?;
    let mut cur = pos;
    while cur < end {
        let lblk = cur.checked_div(bs).ok_or(Error::Corrupt("block size"))?;
        let lblk = u32::try_from(lblk).map_err(|_| Error::OutOfRange("offset"))?;
        let last = end.saturating_sub(1).checked_div(bs).unwrap_or(0);
        let want = last.saturating_sub(u64::from(lblk)).saturating_add(1);
        let want = u32::try_from(want).unwrap_or(u32::MAX);
        let m = match map_for_write(tx, geo, ino, lblk, want) {
            Ok(m) => m,
            Err(Error::Refused(Errno::NoSpace)) => return Ok(false),
            Err(e) => return Err(e),
        };
        // The mapping may start before `lblk` (an existing extent): only
        // blocks from `lblk` on are written and converted.
        let map_end = u64::from(m.lblk)
            .saturating_add(u64::from(m.len))
            .saturating_mul(bs);
        let stop = end.min(map_end);
        if stop <= cur || m.lblk > lblk {
            return Err(Error::Corrupt("write mapping misses the offset"));
        }
        let mut b = lblk;
        loop {
            let blk_start = u64::from(b).saturating_mul(bs);
            if blk_start >= stop {
                break;
            }
            let pblk = m.pblk.saturating_add(u64::from(b.saturating_sub(m.lblk)));
            // A block written in part keeps what it had, or zeros if it
            // was unwritten (iomap zeroes around a write into such blocks).
            let buf = match m.unwritten {
                true => tx.new_block(pblk)?,
                false => tx.bread(pblk)?,
            };
            let lo = cur.max(blk_start);
            let hi = stop.min(blk_start.saturating_add(bs));
            let range = usize::try_from(lo.saturating_sub(pos))
                .ok()
                .zip(usize::try_from(hi.saturating_sub(pos)).ok());
            let src = range
                .and_then(|(l, h)| data.get(l..h))
                .ok_or(Error::OutOfRange("data"))?;
            let off = usize::try_from(lo.saturating_sub(blk_start)).unwrap_or(usize::MAX);
            tx.edit(&buf, |d| {
                if let Some(dst) = d.get_mut(off..off.saturating_add(src.len())) {
                    dst.copy_from_slice(src);
                }
            })?;
            b = b.saturating_add(1);
        }
        let mut budget = u32::MAX;
        let n = b.saturating_sub(lblk);
        let done = written(tx, geo, ino, (lblk, n), stop, &mut budget)?;
        if done.is_some() {
            return Err(Error::Corrupt("conversion did not finish"));
        }
        cur = stop;
    }
    Ok(true)
}
