// SPDX-License-Identifier: GPL-2.0

//! Regular-file writes through iomap, without delayed allocation (the
//! series' non-delalloc path, seed patches 06-08): a write or write fault
//! over a hole allocates the blocks as one **unwritten** extent in a short
//! transaction (`ext4_iomap_get_blocks()`); writeback only looks mappings
//! up; when its I/O completes, a work item converts what it wrote to
//! written and raises the on-disk size (`ext4_iomap_finish_ioend()`), so a
//! crash before then shows zeros or the old size, never stale blocks
//! (digest R3, R5). Truncate zeroes the EOF block's tail, drops the page
//! cache and then frees blocks, a few tree steps per transaction.
//!
//! The block map is changed only inside a transaction holding the inode's
//! data lock; the lock order is folio lock, then the handle, then the
//! allocation lock, then the data lock (Documentation/design.md).

use kernel::prelude::*;
use kernel::sync::atomic::Relaxed;

use crate::extent_status::EsKind;
use crate::inode::EXT4_EXTENTS_FL;
use crate::journal::{budget, commit_frees, run, Failure, Tx};
use crate::libext4::{data, extents, orphan};
use crate::map::map_blocks;
use crate::namei::{changed_in, failed, ino32};
use crate::ondisk::{superblock::Geometry, Result as DiskResult};
use crate::super_::Rext4Fs;
use crate::vfs::{Inode, Mapping, MappingKind, WbQueue};

/// `EXT4_MAX_LOGICAL_BLOCK`.
const MAX_LBLK: u64 = 0xFFFF_FFFE;

/// Runs `f` as one transaction of `credits` that changes the block map of
/// `inode` in `[lblk, end)`, under its data lock; then sets `root`,
/// `i_blocks` and the extent-status cache from the disk (also when `f`
/// failed part way: each tree step leaves the tree consistent). Returns
/// `f`'s value and the mapping sequence number after the change.
fn map_tx<R>(
    inode: &Inode<Rext4Fs>,
    credits: u32,
    (lblk, end): (u32, u64),
    f: impl FnOnce(&mut Tx<'_>, &Geometry, u32) -> DiskResult<R>,
) -> core::result::Result<((R, u64), Option<u32>), Failure> {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let data = inode.data();
    let ino = inode.ino() as u32;
    run(sb, credits, |tx| {
        let _map = data.data_lock.lock();
        let r = f(tx, geo, ino);
        let di = crate::libext4::inode::read_inode(tx, geo, ino)?;
        *data.root.lock() = di.i_block;
        inode.set_blocks(di.blocks(geo));
        let mut es = data.es.lock();
        es.changed(lblk, end);
        let seq = es.seq();
        drop(es);
        r.map(|r| (r, seq))
    })
}

/// Byte range `pos..pos + len` as logical blocks `(first, count)`.
fn blocks_of(geo: &Geometry, pos: i64, len: i64) -> Result<(u32, u32)> {
    let bits = geo.log_block_size;
    let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
    let len = u64::try_from(len).map_err(|_| EINVAL)?;
    let first = pos >> bits;
    if first > MAX_LBLK || len == 0 {
        return Err(EINVAL);
    }
    let last = (pos.saturating_add(len - 1) >> bits).min(MAX_LBLK);
    let count = u32::try_from(last - first + 1).unwrap_or(u32::MAX);
    Ok((first as u32, count))
}

/// `iomap_begin`: lookups for reads, FIEMAP, seeks and zeroing; for a
/// write or write fault (`IOMAP_WRITE`), blocks for a hole.
pub(crate) fn iomap_begin(
    inode: &Inode<Rext4Fs>,
    pos: i64,
    len: i64,
    flags: u32,
) -> Result<Mapping> {
    let write = flags & crate::bindings::IOMAP_WRITE != 0;
    if !write {
        return crate::file::iomap_begin(inode, pos, len, flags);
    }
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let (first, count) = blocks_of(geo, pos, len)?;
    let (es, _) = map_blocks(inode, first)?;
    if !matches!(es.kind, EsKind::Hole | EsKind::Delayed) {
        return crate::file::iomap_begin(inode, pos, len, flags);
    }
    if flags & crate::bindings::IOMAP_NOWAIT != 0 {
        return Err(EAGAIN);
    }
    let depth = extents::depth(&inode.data().root.lock());
    let want = count.min(es.len.max(1)).min(room(sb, depth)?);
    // The tree insert, the bitmap and descriptor, the inode.
    let credits = extents::insert_credits(depth.saturating_add(1)).saturating_add(4);
    let end = u64::from(first) + u64::from(want);
    let attempt = || {
        map_tx(inode, credits, (first, end), |tx, geo, ino| {
            data::map_for_write(tx, geo, ino, first, want)
        })
    };
    let mut r = attempt();
    if matches!(&r, Err(f) if f.errno == ENOSPC) && commit_frees(sb) {
        r = attempt();
    }
    let ((m, cookie), tid) = r.map_err(|f| failed(inode, f))?;
    changed_in(inode, tid);
    if m.lblk > first || u64::from(m.lblk) + u64::from(m.len) <= u64::from(first) {
        return Err(EFSCORRUPTED);
    }
    let bits = geo.log_block_size;
    let addr = m.pblk << bits;
    Ok(Mapping {
        kind: match m.unwritten {
            true => MappingKind::Unwritten(addr),
            false => MappingKind::Mapped(addr),
        },
        offset: (u64::from(m.lblk) << bits) as i64,
        length: u64::from(m.len) << bits,
        cookie,
        merged: false,
        new: m.new,
    })
}

/// How many data blocks a write may allocate now (`ext4_has_free_clusters()`):
/// the free blocks less ext4's reserved-clusters margin, which is kept for
/// the tree blocks that converting at completion and truncating may need
/// later, less the root reserve (`s_r_blocks_count`) unless the caller has
/// root's fsuid (the default `resuid`) or `CAP_SYS_RESOURCE`, and less the
/// tree blocks this insert may need. `ENOSPC` when that is nothing, even
/// after the blocks freed by the running transaction are released.
fn room(sb: &crate::vfs::SuperBlock<Rext4Fs>, depth: u16) -> Result<u32> {
    let info = sb.info();
    let tree = u64::from(depth).saturating_add(2);
    // The capability is asked for only when the root reserve is needed
    // (asking sets PF_SUPERPRIV and is audited), as ext4 does.
    let free = || {
        let free = u64::try_from(info.free_blocks.load(Relaxed)).unwrap_or(0);
        let keep = info.resv_blocks.saturating_add(tree);
        match free.saturating_sub(keep.saturating_add(info.r_blocks)) {
            0 if info.r_blocks != 0 && crate::vfs::may_use_reserve() => free.saturating_sub(keep),
            n => n,
        }
    };
    let mut n = free();
    if n == 0 && commit_frees(sb) {
        n = free();
    }
    match n {
        0 => Err(ENOSPC),
        n => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
    }
}

/// The blocks dirty data at `pos` is written back to: what the write or
/// fault that dirtied it mapped.
pub(crate) fn writeback_map(inode: &Inode<Rext4Fs>, pos: i64, len: i64) -> Result<Mapping> {
    // After a shutdown dirty data is dropped, as XFS's xfs_map_blocks().
    if inode.sb().info().is_shut_down() {
        return Err(EIO);
    }
    // A hole is passed on, and iomap skips it: a folio dirtied as a whole
    // (iomap_dirty_folio() from a write fault) may hold blocks past the
    // EOF of the time, which page_mkwrite gave no blocks; they hold no
    // file data. Failing there would drop the folio's other blocks.
    crate::file::iomap_begin(inode, pos, len, 0)
}

/// Whether an ioend needs work at completion: unwritten blocks to convert,
/// or data past the on-disk size.
pub(crate) fn ioend_queue(
    inode: &Inode<Rext4Fs>,
    pos: i64,
    size: u64,
    unwritten: bool,
) -> Option<&WbQueue> {
    let end = u64::try_from(pos).ok()?.saturating_add(size);
    match unwritten || end > inode.data().disksize.load(Relaxed) {
        true => inode.sb().info().wbq.as_ref(),
        false => None,
    }
}

/// The completion of writeback I/O over `pos..pos + size`: the blocks it
/// wrote become written and the on-disk size rises to its end (at most the
/// VFS size), in as many transactions as the tree needs.
pub(crate) fn ioend_done(
    inode: &Inode<Rext4Fs>,
    pos: i64,
    size: u64,
    unwritten: bool,
    io: Result,
) -> Result {
    let sb = inode.sb();
    // Shut down: the blocks stay unwritten (they read as zeros), as after
    // a power cut.
    if sb.info().is_shut_down() {
        return Err(EIO);
    }
    if let Err(e) = io {
        if crate::vfs::ratelimit() {
            pr_err!(
                "rext4 ({}): inode #{}: write error {} at byte {pos} ({size} bytes)\n",
                sb.id(),
                inode.ino(),
                e.to_errno()
            );
        }
        return Err(e);
    }
    let data = inode.data();
    let start = u64::try_from(pos).map_err(|_| EINVAL)?;
    let end = start.saturating_add(size);
    let vfs_size = u64::try_from(inode.size()).unwrap_or(0);
    let new_size = end.min(vfs_size);
    if !unwritten && new_size <= data.disksize.load(Relaxed) {
        return Ok(());
    }
    let geo = &sb.info().geo;
    let (mut from, count) = blocks_of(geo, pos, i64::try_from(size).map_err(|_| EINVAL)?)?;
    let stop = u64::from(from) + u64::from(count);
    loop {
        let depth = extents::depth(&data.root.lock());
        let credits = budget(sb, extents::steps_credits(depth.saturating_add(1), 8));
        let len = u32::try_from(stop - u64::from(from)).unwrap_or(u32::MAX);
        let attempt = || {
            map_tx(inode, credits, (from, stop), |tx, geo, ino| {
                let mut budget = credits.saturating_sub(4);
                let r = data::written(tx, geo, ino, (from, len), new_size, &mut budget)?;
                if r.is_none() && new_size > data.disksize.load(Relaxed) {
                    data.disksize.store(new_size, Relaxed);
                }
                Ok(r)
            })
        };
        // A split may need a tree block: the margin iomap_begin keeps free
        // is for this, and blocks freed by the running transaction count
        // once it has committed.
        let mut r = attempt();
        if matches!(&r, Err(f) if f.errno == ENOSPC) && commit_frees(sb) {
            r = attempt();
        }
        match r {
            Ok(((None, _), tid)) => {
                changed_in(inode, tid);
                return Ok(());
            }
            Ok(((Some(next), _), tid)) => {
                changed_in(inode, tid);
                if next <= from {
                    return Err(EFSCORRUPTED);
                }
                from = next;
            }
            Err(f) => {
                let e = failed(inode, f);
                if crate::vfs::ratelimit() {
                    pr_err!(
                        "rext4 ({}): inode #{}: converting written blocks or raising the size failed ({}): data at byte {pos} may be lost\n",
                        sb.id(),
                        inode.ino(),
                        e.to_errno()
                    );
                }
                return Err(e);
            }
        }
    }
}

/// `setattr` of the size of a regular file: the page cache first (the EOF
/// block's tail zeroed and written, the cache past the new size dropped,
/// waiting for its writeback), then the on-disk size, and the blocks past
/// it freed a few tree steps per transaction (as `ext4_truncate()`; also
/// when the size stays, which frees blocks left past EOF by a short
/// write).
pub(crate) fn set_size(inode: &Inode<Rext4Fs>, size: i64) -> Result {
    if !inode.is_reg() {
        return crate::namei::set_size(inode, size);
    }
    let sb = inode.sb();
    // `ext4_setattr()`: nothing changes after a shutdown, not even the
    // page cache.
    if sb.info().is_shut_down() {
        return Err(EIO);
    }
    let new = u64::try_from(size).map_err(|_| EINVAL)?;
    let data = inode.data();
    if !data.has_flag(EXT4_EXTENTS_FL) {
        if crate::vfs::ratelimit() {
            pr_warn!(
                "rext4 ({}): inode #{}: not supported yet: changing the size of a block-mapped file\n",
                sb.id(),
                inode.ino()
            );
        }
        return Err(EOPNOTSUPP);
    }
    let ino = ino32(inode)?;
    if size != inode.size() {
        inode.setsize_pagecache(size)?;
    }
    let bs = u64::from(sb.info().geo.block_size);
    let from = u32::try_from(new.div_ceil(bs)).unwrap_or(u32::MAX);
    // A truncate that takes more than one transaction puts the file on the
    // orphan list in its first (with the new size), and takes it off in
    // its last, so a crash in between leaves the mount (rext4's, ext4's)
    // or e2fsck to finish it (`ext4_setattr()`'s `ext4_orphan_add()`). An
    // unlinked file is on the list already, and stays for its eviction.
    let mut listed = false;
    loop {
        let depth = extents::depth(&data.root.lock());
        let credits = budget(sb, extents::steps_credits(depth, 16));
        let r = sb.intwrite(|| {
            map_tx(inode, credits, (from, u64::MAX), |tx, geo, ino| {
                // The inode, and the super block or the previous orphan.
                let mut budget = credits.saturating_sub(6);
                // The list is walked before anything changes: damage
                // found there stops the step before it starts.
                if !listed {
                    orphan::check(tx, geo)?;
                }
                let done = data::truncate(tx, geo, ino, new, &mut budget)?;
                data.disksize.store(new, Relaxed);
                let added = match done {
                    false => orphan::add(tx, geo, ino)?,
                    true if listed => {
                        orphan::del(tx, geo, ino)?;
                        false
                    }
                    true => false,
                };
                Ok((done, added))
            })
        });
        match r {
            Ok((((true, _), _), tid)) => {
                changed_in(inode, tid);
                return Ok(());
            }
            Ok((((false, added), _), tid)) => {
                listed |= added;
                changed_in(inode, tid);
            }
            Err(f) => {
                let e = failed(inode, f);
                if crate::vfs::ratelimit() {
                    pr_warn!(
                        "rext4 ({}): inode #{ino}: truncate to {new} stopped ({}); e2fsck may find blocks past the size\n",
                        sb.id(),
                        e.to_errno()
                    );
                }
                return Err(e);
            }
        }
    }
}
