// SPDX-License-Identifier: GPL-2.0

//! Transactions of a read-write mount (the counterpart of `ext4_jbd2.c`):
//! the kernel's implementation of [`Trans`], over buffer heads and a jbd2
//! handle (or, on a `^has_journal` image, the buffer cache alone), and the
//! credits each operation reserves, computed as ext4 computes them.
//!
//! One operation is one handle. The handle is started first and the
//! allocation lock taken inside it, the order ext4 has between a handle
//! and its group locks: a task waiting for the lock never holds up the
//! commit that a task waiting for journal space needs. The allocation lock
//! serialises every change to bitmaps, descriptors and inode tables (ext4
//! has a lock per group; rext4 one for the file system, for now).

use kernel::prelude::*;
use kernel::sync::atomic::Relaxed;

use crate::libext4::trans::Trans;
use crate::ondisk::{Error as DiskError, Result as DiskResult};
use crate::super_::{Rext4Fs, SbInfo};
use crate::vfs::{jbd2::Handle, BufferHead, SuperBlock};

/// Credits, as ext4's `ext4_jbd2.h` defines them for an extent-mapped file
/// system without quota: `EXT4_DATA_TRANS_BLOCKS` (one data block's worth
/// of extent tree, bitmaps and descriptors, plus xattr blocks) and
/// `EXT4_INDEX_EXTRA_TRANS_BLOCKS` (an htree split).
pub(crate) mod credits {
    const SINGLEDATA: u32 = 20;
    const XATTR: u32 = 6;
    const DATA: u32 = SINGLEDATA + XATTR - 2;
    const INDEX_EXTRA: u32 = 12;
    /// `ext4_create()`, `ext4_mknod()`, `ext4_mkdir()`, `ext4_symlink()`.
    pub(crate) const CREATE: u32 = DATA + INDEX_EXTRA + 3;
    /// `ext4_link()`.
    pub(crate) const LINK: u32 = DATA + INDEX_EXTRA;
    /// `ext4_unlink()`, `ext4_rmdir()`.
    pub(crate) const UNLINK: u32 = DATA;
    /// `ext4_rename()`, with room for removing a replaced target.
    pub(crate) const RENAME: u32 = 2 * DATA + INDEX_EXTRA + 2 + DATA;
    /// `ext4_evict_inode()` for an inode whose blocks are the runs
    /// `(start, len)` of its extent root: a block bitmap and a descriptor
    /// block for every group a run touches, plus the inode, the inode
    /// bitmap and its descriptor (`ext4_blocks_for_truncate()` + 3), and
    /// the super block or the previous orphan (leaving the orphan list).
    pub(crate) fn evict(blocks_per_group: u32, runs: impl Iterator<Item = (u64, u32)>) -> u32 {
        let bpg = u64::from(blocks_per_group.max(1));
        let mut credits = 3u64 + 3 + 2;
        for (start, len) in runs {
            let first = start / bpg;
            let last = start.saturating_add(u64::from(len)) / bpg;
            // One group more for runs that straddle the boundary shifted
            // by s_first_data_block.
            let groups = last.saturating_sub(first).saturating_add(2);
            credits = credits.saturating_add(groups.saturating_mul(2));
        }
        u32::try_from(credits).unwrap_or(u32::MAX)
    }
    /// `ext4_dirty_inode()`, `ext4_setattr()` without a size change.
    pub(crate) const INODE: u32 = 2;
}

/// One stretch of blocks freed by transaction `tid`.
#[derive(Clone, Copy)]
struct Freed {
    start: u64,
    len: u64,
    tid: u32,
}

/// Blocks freed by transactions that may not have committed yet, in
/// stretches with the transaction that freed each: the allocator passes
/// them over until it has (ext4 keeps them out of the buddy cache until
/// its commit callback). Guarded by the allocation lock; committed
/// stretches are dropped at the start of every transaction. Freeing an
/// extent adds one stretch, so the list stays short even after a large
/// delete (and it may use vmalloc).
#[derive(Default)]
pub(crate) struct Pending {
    freed: KVVec<Freed>,
}

impl Pending {
    /// Drops the stretches whose transaction has committed.
    fn prune<M: crate::vfs::jbd2::JournalMap>(&mut self, j: &crate::vfs::jbd2::Journal<M>) {
        self.freed.retain(|f| !j.committed(f.tid));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.freed.is_empty()
    }
}

/// A running transaction of a read-write mount.
pub(crate) struct Tx<'a> {
    sb: &'a SuperBlock<Rext4Fs>,
    handle: Option<&'a Handle<'a>>,
    /// The allocation lock's data.
    pending: &'a mut Pending,
    /// The free-count changes to apply to the in-memory totals.
    blocks: i64,
    inodes: i64,
    /// The kernel error behind a [`DiskError::Io`].
    err: Option<Error>,
    /// Whether a buffer was changed (a failure after that leaves the
    /// transaction half done: it must not commit quietly).
    changed: bool,
}

impl<'a> Tx<'a> {
    /// The transaction id, for fsync (`None` without a journal).
    pub(crate) fn tid(&self) -> Option<u32> {
        self.handle.as_ref().map(|h| h.tid())
    }

    fn failed(&mut self, e: Error) -> DiskError {
        self.err.get_or_insert(e);
        DiskError::Io
    }
}

impl Trans for Tx<'_> {
    type Buf = BufferHead;

    fn bread(&mut self, blk: u64) -> DiskResult<BufferHead> {
        self.sb.bread(blk).map_err(|e| self.failed(e))
    }

    fn new_block(&mut self, blk: u64) -> DiskResult<BufferHead> {
        let handle = self.handle;
        let bh = self.sb.new_block(blk, |bh| match handle {
            Some(h) => h.get_create_access(bh),
            None => Ok(()),
        });
        bh.map_err(|e| self.failed(e))
    }

    fn data<'b>(&'b self, b: &'b BufferHead) -> &'b [u8] {
        b.data()
    }

    fn edit<R>(&mut self, b: &BufferHead, f: impl FnOnce(&mut [u8]) -> R) -> DiskResult<R> {
        if let Some(h) = &self.handle {
            if let Err(e) = h.get_write_access(b) {
                return Err(self.failed(e));
            }
        }
        // The allocation lock (held for the whole transaction) or the
        // directory's i_rwsem orders writers of this block.
        self.changed = true;
        let r = b.change(f);
        match &self.handle {
            Some(h) => {
                if let Err(e) = h.dirty_metadata(b) {
                    return Err(self.failed(e));
                }
            }
            None => b.mark_dirty(),
        }
        Ok(r)
    }

    fn counted(&mut self, blocks: i64, inodes: i64) {
        self.blocks = self.blocks.saturating_add(blocks);
        self.inodes = self.inodes.saturating_add(inodes);
    }

    fn freed(&mut self, start: u64, len: u64) -> DiskResult<()> {
        let Some(h) = self.handle else {
            return Ok(());
        };
        let tid = h.tid();
        if let Some(last) = self.pending.freed.last_mut() {
            if last.tid == tid && last.start.checked_add(last.len) == Some(start) {
                last.len = last.len.saturating_add(len);
                return Ok(());
            }
        }
        let f = Freed { start, len, tid };
        // Inside a handle jbd2 has made every allocation GFP_NOFS
        // (`memalloc_nofs_save()`), so reclaim cannot re-enter the file
        // system.
        if let Err(e) = self.pending.freed.push(f, GFP_KERNEL) {
            return Err(self.failed(e.into()));
        }
        Ok(())
    }

    fn forget(&mut self, blk: u64) -> DiskResult<()> {
        match self.handle {
            Some(h) => {
                self.changed = true;
                h.forget(self.sb, blk).map_err(|e| self.failed(e))
            }
            None => {
                self.sb.forget_block(blk);
                Ok(())
            }
        }
    }

    fn pending_until(&mut self, blk: u64) -> Option<u64> {
        self.pending
            .freed
            .iter()
            .find(|f| blk >= f.start && blk - f.start < f.len)
            .map(|f| f.start.saturating_add(f.len))
    }
}

/// What went wrong in a transaction, for [`run`]'s caller.
pub(crate) struct Failure {
    pub(crate) err: DiskError,
    /// The errno (for `Io`, the one the layer below gave).
    pub(crate) errno: Error,
    /// Whether the transaction had changed buffers before it failed.
    pub(crate) changed: bool,
}

/// Runs `f` as one transaction of `credits` buffers on `sb`: starts the
/// handle, takes the allocation lock, runs `f`, applies the free-count
/// changes and stops the handle. Returns `f`'s value and the transaction
/// id (fsync waits for it), or what failed. The file system must be
/// mounted read-write.
pub(crate) fn run<R>(
    sb: &SuperBlock<Rext4Fs>,
    credits: u32,
    f: impl FnOnce(&mut Tx<'_>) -> DiskResult<R>,
) -> core::result::Result<(R, Option<u32>), Failure> {
    let info: &SbInfo = sb.info();
    let io = |errno: Error| Failure {
        err: DiskError::Io,
        errno,
        changed: false,
    };
    if sb.rdonly() {
        return Err(io(EROFS));
    }
    // `ext4_journal_check_start()`: nothing starts after a shutdown.
    if info.is_shut_down() {
        return Err(io(EIO));
    }
    let handle = match &info.journal {
        Some(j) => Some(j.start(credits).map_err(io)?),
        None => None,
    };
    let (r, blocks, inodes, err, tid, changed) = {
        let mut guard = info.alloc_lock.lock();
        if let Some(j) = &info.journal {
            guard.prune(j);
        }
        let mut tx = Tx {
            sb,
            handle: handle.as_ref(),
            pending: &mut guard,
            blocks: 0,
            inodes: 0,
            err: None,
            changed: false,
        };
        let r = f(&mut tx);
        (r, tx.blocks, tx.inodes, tx.err, tx.tid(), tx.changed)
    };
    info.free_blocks.fetch_add(blocks, Relaxed);
    info.free_inodes.fetch_add(inodes, Relaxed);
    let stopped = match handle {
        Some(h) => h.stop(),
        None => Ok(()),
    };
    match (r, stopped) {
        (Ok(v), Ok(())) => Ok((v, tid)),
        (Ok(_), Err(e)) => Err(Failure { changed, ..io(e) }),
        (Err(DiskError::Io), _) => Err(Failure {
            changed,
            ..io(err.unwrap_or(EIO))
        }),
        (Err(e), _) => Err(Failure {
            err: e,
            errno: crate::error::to_kernel(e),
            changed,
        }),
    }
}

/// Credits for a transaction that works in steps within a budget: `want`,
/// or half of what the journal lets one handle reserve if that is less
/// (jbd2 refuses a handle larger than its limit, loudly).
pub(crate) fn budget(sb: &SuperBlock<Rext4Fs>, want: u32) -> u32 {
    match &sb.info().journal {
        Some(j) => want.min(j.max_credits() / 2).max(1),
        None => want,
    }
}

/// After an `ENOSPC`: if blocks freed by transactions not yet committed
/// are waiting ([`Pending`]), commits them and says so, so the caller can
/// try once more (ext4 retries allocations after a commit the same way,
/// `ext4_should_retry_alloc()`).
pub(crate) fn commit_frees(sb: &SuperBlock<Rext4Fs>) -> bool {
    let info = sb.info();
    let Some(j) = &info.journal else {
        return false;
    };
    if info.alloc_lock.lock().is_empty() {
        return false;
    }
    j.force_commit().is_ok()
}
