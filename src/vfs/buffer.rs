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

    /// The block's bytes.
    pub(crate) fn data(&self) -> &[u8] {
        // SAFETY: we hold a reference, so the buffer head and its page stay
        // alive; `sb_bread` returned it up to date, `b_data` points to
        // `b_size` bytes. Metadata of a mounted file system changes only under
        // the buffer lock by rext4 itself, and only at mount
        // ([`Self::write_sync`]) while no other view of the block exists.
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
