// SPDX-License-Identifier: GPL-2.0

//! The kernel's journal, jbd2, on the file system's own device.
//!
//! C header: [`include/linux/jbd2.h`]
//!
//! rext4 does not write a journal of its own: it drives jbd2, as ext4 and
//! ocfs2 do. At mount, a journal left needing recovery (by a crash, or by
//! ext4 after `FS_IOC_SHUTDOWN`) is replayed onto the device and marked
//! empty before rext4 reads any other metadata, as `ext4_load_journal()`
//! does ([`recover`]); a read-write mount then keeps the journal open
//! ([`Journal`]) and changes metadata only inside a [`Handle`]. The journal's blocks are found
//! through a [`JournalMap`] built from the journal inode's block map and
//! handed to jbd2 as its `j_bmap`, so no VFS inode is needed for the
//! journal before the file system is set up.

use core::ffi::c_int;
use core::marker::PhantomData;
use core::ptr::NonNull;

use kernel::error::from_err_ptr;
use kernel::prelude::*;

use super::{BufferHead, FileSystem, NewSuperBlock};
use crate::bindings;

/// Where each logical block of the journal lives on the device.
pub(crate) trait JournalMap {
    /// The physical block of logical journal block `lblk`, or `None` for a
    /// hole (the journal is damaged).
    fn map(&self, lblk: u64) -> Option<u64>;
}

/// `j_bmap`: jbd2's logical-to-physical mapping of journal blocks, through
/// the [`JournalMap`] `M` that `j_private` points to.
///
/// # Safety
///
/// Called by jbd2 only for a journal opened by [`recover`] or
/// [`Journal::open`] with map type `M`, whose `j_private` points to a live
/// `M`.
unsafe extern "C" fn journal_bmap<M: JournalMap>(
    journal: *mut bindings::journal_t,
    block: *mut bindings::sector_t,
) -> c_int {
    // SAFETY: the opener set `j_private` to an `M` that outlives the
    // journal (destroyed before the map is dropped), and jbd2 passes a
    // valid `block` to read and write.
    unsafe {
        let map = &*(*journal).j_private.cast::<M>();
        match map.map(*block) {
            Some(p) => {
                *block = p;
                0
            }
            None => EFSCORRUPTED.to_errno(),
        }
    }
}

/// Creates the journal whose super block is at `start` on `sb`'s device
/// (internal: the journal and the file system share the device), points
/// jbd2 at `map` for its other blocks, and loads it, which replays it if
/// needed and starts its commit thread. On failure the journal is
/// destroyed again.
///
/// # Safety
///
/// `map` must stay valid, at the same address, until the returned journal
/// is destroyed.
unsafe fn open_raw<T: FileSystem, M: JournalMap>(
    sb: &NewSuperBlock<T>,
    map: *const M,
    start: u64,
    blocks: u32,
    block_size: u32,
    barrier: bool,
) -> Result<*mut bindings::journal_t> {
    let len = c_int::try_from(blocks).map_err(|_| EFSCORRUPTED)?;
    let bs = c_int::try_from(block_size).map_err(|_| EINVAL)?;
    // SAFETY: during `fill_super` the super block is live and `s_bdev` is
    // the opened device; jbd2 takes no reference of its own.
    let bdev = unsafe { (*sb.as_raw()).s_bdev };
    // SAFETY: `bdev` is a live, opened block device; the journal is on the
    // file system's own device (internal), so it is both `bdev` and
    // `fs_dev`. jbd2 reads the journal super block at `start`.
    let journal = unsafe { bindings::jbd2_journal_init_dev(bdev, bdev, start, len, bs) };
    let journal = from_err_ptr(journal)?;
    // SAFETY: `journal` was just created; nothing reads `j_private`,
    // `j_bmap` or `j_flags` until `jbd2_journal_load` (no commit thread
    // yet), and the caller keeps `map` alive until the journal is
    // destroyed. JBD2_BARRIER makes commits and recovery flush the device
    // cache (ext4's default `barrier`).
    let loaded = unsafe {
        (*journal).j_private = map.cast_mut().cast();
        (*journal).j_bmap = Some(journal_bmap::<M>);
        if barrier {
            (*journal).j_flags |= bindings::JBD2_BARRIER as usize;
        }
        bindings::jbd2_journal_load(journal)
    };
    if loaded != 0 {
        // SAFETY: `journal` is live and not loaded; ext4 destroys it the
        // same way after a failed load.
        unsafe { bindings::jbd2_journal_destroy(journal) };
        return Err(Error::from_errno(loaded));
    }
    Ok(journal)
}

/// Replays the internal journal of `sb`'s device: `blocks` blocks of
/// `block_size` bytes whose logical block 0 (its super block) is at
/// physical block `start`, the rest found through `map`. On success the
/// replayed blocks are on the device, the device cache is flushed, and the
/// journal is marked empty; the caller then clears the super block's
/// `needs_recovery` flag. Returns the error the journal had recorded (a
/// negative errno from an abort, 0 for none), now cleared in the journal
/// as `ext4_clear_journal_err()` does; the caller marks the file system in
/// error for it. The journal is closed again before this returns.
pub(crate) fn recover<T: FileSystem, M: JournalMap>(
    sb: &NewSuperBlock<T>,
    map: &M,
    start: u64,
    blocks: u32,
    block_size: u32,
) -> Result<i32> {
    // SAFETY: `map` outlives the journal, which is destroyed below.
    let journal = unsafe { open_raw(sb, map, start, blocks, block_size, true)? };
    // SAFETY: a loaded journal; only this thread uses it (its commit
    // thread has no transaction to commit).
    let recorded = unsafe {
        let recorded = bindings::jbd2_journal_errno(journal);
        if recorded != 0 {
            bindings::jbd2_journal_clear_err(journal);
            bindings::jbd2_journal_update_sb_errno(journal);
        }
        recorded
    };
    // SAFETY: `journal` is live; destroying kills the commit thread
    // `jbd2_journal_load` started and marks the journal empty; nothing
    // uses it afterwards.
    let destroyed = unsafe { bindings::jbd2_journal_destroy(journal) };
    kernel::error::to_result(destroyed)?;
    Ok(recorded)
}

/// An open journal of a read-write mount: loaded, with its commit thread
/// running, until dropped (`jbd2_journal_destroy()`, which commits what
/// is left and checkpoints it, leaving the journal empty).
pub(crate) struct Journal<M: JournalMap> {
    raw: NonNull<bindings::journal_t>,
    /// Set once [`Self::destroy`] ran.
    destroyed: core::sync::atomic::AtomicBool,
    /// What `j_bmap` maps through; `j_private` points into this box.
    _map: KBox<M>,
}

// SAFETY: jbd2 serialises access to a journal with its own locks; the
// wrapper only hands out handles, which stay on the task that started
// them (`Handle` is not `Send`).
unsafe impl<M: JournalMap + Send> Send for Journal<M> {}
// SAFETY: see `Send`; every method takes jbd2's locks itself.
unsafe impl<M: JournalMap + Sync> Sync for Journal<M> {}

/// A jbd2 handle: one atomic change to the file system, started with the
/// number of buffers it may dirty ("credits"), stopped when dropped. It
/// stays on the task that started it (jbd2 keeps it in
/// `current->journal_info`).
pub(crate) struct Handle<'a> {
    raw: NonNull<bindings::handle_t>,
    _journal: PhantomData<&'a ()>,
    _not_send: PhantomData<*mut ()>,
}

impl<M: JournalMap> Journal<M> {
    /// Opens and loads the internal journal at `start` (see [`recover`]),
    /// replaying it if needed, with the features ext4 sets: checksums v3
    /// under `metadata_csum` (v1 otherwise off), 64-bit block numbers when
    /// the file system has them.
    pub(crate) fn open<T: FileSystem>(
        sb: &NewSuperBlock<T>,
        map: KBox<M>,
        (start, blocks, block_size): (u64, u32, u32),
        barrier: bool,
        (csum_v3, wide): (bool, bool),
    ) -> Result<Self> {
        // SAFETY: the box's contents stay at their address until `Self` is
        // dropped, which destroys the journal first.
        let raw = unsafe { open_raw(sb, &raw const *map, start, blocks, block_size, barrier)? };
        let this = Self {
            // SAFETY: `open_raw` returned a live journal, never NULL.
            raw: unsafe { NonNull::new_unchecked(raw) },
            destroyed: core::sync::atomic::AtomicBool::new(false),
            _map: map,
        };
        let (compat, incompat) = match csum_v3 {
            true => (0, bindings::JBD2_FEATURE_INCOMPAT_CSUM_V3),
            false => (0, 0),
        };
        let incompat = incompat
            | match wide {
                true => bindings::JBD2_FEATURE_INCOMPAT_64BIT,
                false => 0,
            };
        // SAFETY: a loaded journal; setting features writes its super
        // block under jbd2's own locks.
        unsafe {
            bindings::jbd2_journal_clear_features(
                raw,
                bindings::JBD2_FEATURE_COMPAT_CHECKSUM as usize,
                0,
                (bindings::JBD2_FEATURE_INCOMPAT_CSUM_V3
                    | bindings::JBD2_FEATURE_INCOMPAT_CSUM_V2
                    | bindings::JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT) as usize,
            );
            if incompat != 0
                && bindings::jbd2_journal_set_features(raw, compat, 0, incompat as usize) == 0
            {
                return Err(EINVAL);
            }
        }
        Ok(this)
    }

    /// Starts a handle that may dirty up to `credits` buffers; blocks while
    /// the journal has no room (jbd2 commits and checkpoints to make it).
    /// The most credits one handle may reserve.
    pub(crate) fn max_credits(&self) -> u32 {
        // SAFETY: a loaded journal; reads two of its fields.
        let n = unsafe { bindings::rext4_journal_max_credits(self.raw.as_ptr()) };
        u32::try_from(n).unwrap_or(0)
    }

    pub(crate) fn start(&self, credits: u32) -> Result<Handle<'_>> {
        // Handles nest in jbd2, but rext4's locks taken inside one do not:
        // a second handle on this task is a bug.
        // SAFETY: reads `current->journal_info`.
        if unsafe { bindings::rext4_in_handle() } {
            pr_err!("rext4: a journal handle was started inside another\n");
            return Err(EDEADLK);
        }
        let credits = c_int::try_from(credits).map_err(|_| EINVAL)?;
        // SAFETY: a loaded journal; jbd2 allocates the handle and records
        // it in `current->journal_info`.
        let h = unsafe { bindings::rext4_journal_start(self.raw.as_ptr(), credits) };
        let h = from_err_ptr(h)?;
        Ok(Handle {
            // SAFETY: `from_err_ptr` passed a non-error pointer; jbd2
            // never returns NULL for success.
            raw: unsafe { NonNull::new_unchecked(h) },
            _journal: PhantomData,
            _not_send: PhantomData,
        })
    }

    /// Whether transaction `tid` has finished committing.
    pub(crate) fn committed(&self, tid: u32) -> bool {
        // SAFETY: a loaded journal; the helper reads one sequence number.
        unsafe { bindings::rext4_tid_committed(self.raw.as_ptr(), tid) }
    }

    /// Commits the running transaction, if any, and waits for it.
    pub(crate) fn force_commit(&self) -> Result {
        // SAFETY: a loaded journal; no handle of this task is open (the
        // callers are sync paths outside any handle).
        kernel::error::to_result(unsafe { bindings::jbd2_journal_force_commit(self.raw.as_ptr()) })
    }

    /// Waits until transaction `tid` is on disk, starting its commit if it
    /// is still running (`jbd2_complete_transaction()`, fsync).
    pub(crate) fn complete(&self, tid: u32) -> Result {
        // SAFETY: a loaded journal; `tid` is any transaction id (an old
        // one returns at once).
        kernel::error::to_result(unsafe {
            bindings::jbd2_complete_transaction(self.raw.as_ptr(), tid)
        })
    }

    /// Aborts the journal: nothing more is committed through it, and every
    /// handle fails from now on (`ext4_handle_error()`).
    pub(crate) fn abort(&self, errno: Error) {
        // SAFETY: a loaded journal; aborting is allowed from any context
        // that may sleep, inside or outside a handle.
        unsafe { bindings::jbd2_journal_abort(self.raw.as_ptr(), errno.to_errno()) };
    }
}

impl<M: JournalMap> Journal<M> {
    /// Destroys the journal at unmount (`ext4_put_super()`): commits what
    /// is left, checkpoints it and leaves the journal empty; returns
    /// whether that worked and the journal had not been aborted. Later
    /// calls, and the drop, do nothing.
    ///
    /// `_unmounting` proves no handle is open and none will be started.
    pub(crate) fn destroy(&self, _unmounting: &super::super_block::Unmounting) -> Result {
        if self
            .destroyed
            .swap(true, core::sync::atomic::Ordering::AcqRel)
        {
            return Ok(());
        }
        // SAFETY: a loaded journal without open handles (unmounting);
        // `_map` is dropped only after this returns.
        let aborted = unsafe { bindings::jbd2_journal_errno(self.raw.as_ptr()) } != 0;
        // SAFETY: as above.
        let err = unsafe { bindings::jbd2_journal_destroy(self.raw.as_ptr()) };
        kernel::error::to_result(err)?;
        match aborted {
            true => Err(EIO),
            false => Ok(()),
        }
    }
}

impl<M: JournalMap> Drop for Journal<M> {
    fn drop(&mut self) {
        // `&mut self`: no handle borrows the journal any more.
        if let Err(e) = self.destroy(&super::super_block::Unmounting(())) {
            pr_err!("rext4: error destroying the journal: {}\n", e.to_errno());
        }
    }
}

impl Handle<'_> {
    fn raw(&self) -> *mut bindings::handle_t {
        self.raw.as_ptr()
    }

    /// The transaction this handle belongs to (its `tid`).
    pub(crate) fn tid(&self) -> u32 {
        // SAFETY: an open handle has a live transaction.
        unsafe { bindings::rext4_handle_tid(self.raw()) }
    }

    /// Write access to `bh` before changing it (`ext4_journal_get_write_access()`).
    pub(crate) fn get_write_access(&self, bh: &BufferHead) -> Result {
        // SAFETY: an open handle and a referenced, up-to-date buffer of
        // the journal's device.
        kernel::error::to_result(unsafe {
            bindings::jbd2_journal_get_write_access(self.raw(), bh.as_ptr())
        })
    }

    /// Access to a block just allocated, about to be filled entirely
    /// (`ext4_journal_get_create_access()`; also cancels an old revoke).
    pub(crate) fn get_create_access(&self, bh: &BufferHead) -> Result {
        // SAFETY: as in `get_write_access`.
        kernel::error::to_result(unsafe {
            bindings::jbd2_journal_get_create_access(self.raw(), bh.as_ptr())
        })
    }

    /// Files the changed `bh` in the transaction (`ext4_handle_dirty_metadata()`).
    pub(crate) fn dirty_metadata(&self, bh: &BufferHead) -> Result {
        // SAFETY: an open handle that has write or create access to `bh`.
        kernel::error::to_result(unsafe {
            bindings::jbd2_journal_dirty_metadata(self.raw(), bh.as_ptr())
        })
    }

    /// Freed metadata block `block` of `sb` (the journal's device) is
    /// revoked and its cached buffer forgotten (`ext4_forget()`).
    pub(crate) fn forget<T: super::FileSystem>(
        &self,
        sb: &super::super_block::SuperBlock<T>,
        block: u64,
    ) -> Result {
        // SAFETY: an open handle of the journal on `sb`'s device; the
        // helper takes and consumes its own buffer reference.
        kernel::error::to_result(unsafe {
            bindings::rext4_forget_block(sb.as_raw(), self.raw(), block)
        })
    }

    /// Stops the handle, returning jbd2's verdict on it (an aborted journal).
    pub(crate) fn stop(self) -> Result {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the handle is open; it is freed here and not used again.
        kernel::error::to_result(unsafe { bindings::jbd2_journal_stop(this.raw()) })
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle is open; it is freed here and not used again.
        unsafe { bindings::jbd2_journal_stop(self.raw()) };
    }
}
