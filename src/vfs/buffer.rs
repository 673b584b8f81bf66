// SPDX-License-Identifier: GPL-2.0

//! Metadata blocks read through the block device's page cache.
//!
//! C header: [`include/linux/buffer_head.h`]
//!
//! rext4 reads metadata (super block, group descriptors, inode tables, extent
//! and directory blocks) with `sb_bread`, as ext4 does, so metadata is cached
//! and shared with tools that read the device.

use core::ptr::NonNull;
use kernel::prelude::*;

use crate::bindings;

/// A referenced, up-to-date `struct buffer_head`; released on drop.
pub(crate) struct BufferHead {
    bh: NonNull<bindings::buffer_head>,
}

// SAFETY: a buffer head reference may be dropped on any thread (`brelse` only
// decrements an atomic count), and `data()` is read-only.
unsafe impl Send for BufferHead {}
// SAFETY: see `Send`; shared access is read-only.
unsafe impl Sync for BufferHead {}

impl BufferHead {
    /// Reads block `block` of `sb`'s device, in units of the super block's
    /// block size.
    ///
    /// # Safety
    ///
    /// `sb` must point to a live super block with its block size set.
    pub(crate) unsafe fn read(sb: *mut bindings::super_block, block: u64) -> Result<Self> {
        // SAFETY: the caller guarantees `sb` is live with a block size set.
        let bh = unsafe { bindings::rext4_sb_bread(sb, block) };
        // `sb_bread` returns NULL on I/O error (it has already logged it).
        let bh = NonNull::new(bh).ok_or(EIO)?;
        Ok(Self { bh })
    }

    /// The buffer of block `block` of `sb`'s device without reading it,
    /// zeroed and marked up to date: for a block just allocated that the
    /// caller fills entirely (`ext4_getblk()` for a new block). `access`
    /// runs first, under the buffer lock (jbd2's create access wants it);
    /// the buffer is zeroed only if it succeeds.
    ///
    /// # Safety
    ///
    /// As [`Self::read`].
    pub(crate) unsafe fn new_zeroed(
        sb: *mut bindings::super_block,
        block: u64,
        access: impl FnOnce(&Self) -> Result,
    ) -> Result<Self> {
        // SAFETY: the caller guarantees `sb` is live with a block size set.
        let bh = unsafe { bindings::rext4_sb_getblk(sb, block) };
        let this = Self {
            bh: NonNull::new(bh).ok_or(ENOMEM)?,
        };
        // SAFETY: a referenced buffer; it is zeroed under its lock.
        unsafe { bindings::rext4_lock_buffer(this.bh.as_ptr()) };
        let r = access(&this);
        if r.is_ok() {
            // SAFETY: we hold the buffer lock.
            unsafe { bindings::rext4_buffer_zero_uptodate(this.bh.as_ptr()) };
        }
        // SAFETY: locked above.
        unsafe { bindings::rext4_unlock_buffer(this.bh.as_ptr()) };
        r.map(|()| this)
    }

    /// The `struct buffer_head`, for jbd2 calls in this layer.
    pub(crate) fn as_ptr(&self) -> *mut bindings::buffer_head {
        self.bh.as_ptr()
    }

    /// Changes the block's bytes with `f`, for the write path: the caller
    /// has write access to the buffer in a jbd2 handle, or there is no
    /// journal, and holds the lock that orders writers of this block (the
    /// directory's `i_rwsem` for its blocks, the allocation lock for
    /// bitmaps, descriptors and inode table blocks). The caller then files
    /// the buffer in the handle or marks it dirty ([`Self::mark_dirty`]).
    pub(crate) fn change<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: we hold a reference, so the buffer and its page are live;
        // `b_data` points to `b_size` bytes. Writers of a block are
        // serialised by the caller's lock (above). Readers without that
        // lock (`iget` copying one inode's bytes, lookups under a shared
        // `i_rwsem`) read bytes no writer is changing, the disjointness
        // ext4's C relies on too; jbd2 copies the buffer out (frozen data)
        // before it writes a committing transaction's copy.
        let data = unsafe {
            let bh = self.bh.as_ptr();
            core::slice::from_raw_parts_mut((*bh).b_data.cast::<u8>(), (*bh).b_size)
        };
        f(data)
    }

    /// Marks the buffer dirty for writeback (no journal: ext4's
    /// `mark_buffer_dirty()` in `__ext4_handle_dirty_metadata()`).
    pub(crate) fn mark_dirty(&self) {
        // SAFETY: we hold a reference; the buffer is up to date.
        unsafe { bindings::mark_buffer_dirty(self.bh.as_ptr()) };
    }

    /// The block's bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: we hold a reference, so the buffer head and its page stay
        // alive; `sb_bread` returned it up to date, `b_data` points to
        // `b_size` bytes. Bytes a reader looks at change only under the
        // locks that order that reader and the writer ([`Self::change`]),
        // or at mount ([`Self::write_sync`]) while no other view exists.
        unsafe {
            let bh = self.bh.as_ptr();
            core::slice::from_raw_parts((*bh).b_data.cast::<u8>(), (*bh).b_size)
        }
    }

    /// Changes the block's bytes with `f` under the buffer lock, marks the
    /// buffer dirty and writes it to the device with FUA, waiting for the
    /// write (`ext4_commit_super()`). Only for mount time, while rext4 holds
    /// no other view of this block's bytes: nothing else of rext4 reads the
    /// block while `f` runs, and the buffer lock keeps jbd2 and writeback
    /// away.
    pub(crate) fn write_sync(&mut self, f: impl FnOnce(&mut [u8])) -> Result {
        let bh = self.bh.as_ptr();
        // SAFETY: we hold a reference, so the buffer head is live.
        unsafe { bindings::rext4_lock_buffer(bh) };
        let data =
            // SAFETY: the buffer and its page are live while we hold the
            // reference; `b_data` points to `b_size` bytes. The buffer lock
            // serialises writers of the block; `&mut self` and the
            // mount-time-only contract keep rext4's own readers away while
            // the slice exists.
            unsafe { core::slice::from_raw_parts_mut((*bh).b_data.cast::<u8>(), (*bh).b_size) };
        f(data);
        // SAFETY: we locked the buffer above; it is live and up to date.
        unsafe {
            bindings::rext4_unlock_buffer(bh);
            bindings::mark_buffer_dirty(bh);
        }
        // SAFETY: as above; the buffer is dirty and unlocked.
        kernel::error::to_result(unsafe { bindings::rext4_sync_dirty_buffer_fua(bh) })
    }

    /// The block number on the device.
    pub(crate) fn blocknr(&self) -> u64 {
        // SAFETY: we hold a reference; `b_blocknr` is set once at read time.
        unsafe { (*self.bh.as_ptr()).b_blocknr }
    }
}

impl AsRef<[u8]> for BufferHead {
    fn as_ref(&self) -> &[u8] {
        self.data()
    }
}

impl Drop for BufferHead {
    fn drop(&mut self) {
        // SAFETY: `self` owns one reference, taken by `sb_bread`.
        unsafe { bindings::rext4_brelse(self.bh.as_ptr()) };
    }
}
