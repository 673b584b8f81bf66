// SPDX-License-Identifier: GPL-2.0

//! The kernel's journal, jbd2, on the file system's own device.
//!
//! C header: [`include/linux/jbd2.h`]
//!
//! rext4 does not write a journal of its own: it drives jbd2, as ext4 and
//! ocfs2 do. So far it uses jbd2 for recovery at mount: a journal left
//! needing recovery (by a crash, or by ext4 after `FS_IOC_SHUTDOWN`) is
//! replayed onto the device and marked empty before rext4 reads any other
//! metadata, as `ext4_load_journal()` does. The journal's blocks are found
//! through a [`JournalMap`] built from the journal inode's block map and
//! handed to jbd2 as its `j_bmap`, so no VFS inode is needed for the
//! journal before the file system is set up.

use core::ffi::c_int;

use kernel::error::from_err_ptr;
use kernel::prelude::*;

use super::{FileSystem, NewSuperBlock};
use crate::bindings;

/// Where each logical block of the journal lives on the device.
pub(crate) trait JournalMap {
    /// The physical block of logical journal block `lblk`, or `None` for a
    /// hole (the journal is damaged).
    fn map(&self, lblk: u64) -> Option<u64>;
}

/// What `j_private` points to while a journal is open.
struct Private<'a> {
    map: &'a dyn JournalMap,
}

/// `j_bmap`: jbd2's logical-to-physical mapping of journal blocks.
///
/// # Safety
///
/// Called by jbd2 only for a journal opened by [`recover`], whose
/// `j_private` points to a live [`Private`].
unsafe extern "C" fn journal_bmap(
    journal: *mut bindings::journal_t,
    block: *mut bindings::sector_t,
) -> c_int {
    // SAFETY: `recover` set `j_private` to a `Private` that outlives the
    // journal (it destroys the journal before returning), and jbd2 passes
    // a valid `block` to read and write.
    unsafe {
        let private = &*(*journal).j_private.cast::<Private<'_>>();
        match private.map.map(*block) {
            Some(p) => {
                *block = p;
                0
            }
            None => EFSCORRUPTED.to_errno(),
        }
    }
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
pub(crate) fn recover<T: FileSystem>(
    sb: &NewSuperBlock<T>,
    map: &dyn JournalMap,
    start: u64,
    blocks: u32,
    block_size: u32,
) -> Result<i32> {
    let len = c_int::try_from(blocks).map_err(|_| EFSCORRUPTED)?;
    let bs = c_int::try_from(block_size).map_err(|_| EINVAL)?;
    let private = Private { map };
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
    // yet), and `private` outlives the journal, which is destroyed below.
    // JBD2_BARRIER makes recovery flush the device cache (ext4's default
    // `barrier`).
    let loaded = unsafe {
        (*journal).j_private = (&raw const private).cast_mut().cast();
        (*journal).j_bmap = Some(journal_bmap);
        (*journal).j_flags |= bindings::JBD2_BARRIER as usize;
        bindings::jbd2_journal_load(journal)
    };
    let mut recorded = 0;
    if loaded == 0 {
        // SAFETY: a loaded journal; only this thread uses it (its commit
        // thread has no transaction to commit).
        unsafe {
            recorded = bindings::jbd2_journal_errno(journal);
            if recorded != 0 {
                bindings::jbd2_journal_clear_err(journal);
                bindings::jbd2_journal_update_sb_errno(journal);
            }
        }
    }
    // SAFETY: `journal` is live; after a failed load ext4 destroys it the
    // same way. Destroying kills the commit thread `jbd2_journal_load`
    // started and marks a loaded journal empty; nothing uses it afterwards.
    let destroyed = unsafe { bindings::jbd2_journal_destroy(journal) };
    kernel::error::to_result(loaded)?;
    kernel::error::to_result(destroyed)?;
    Ok(recorded)
}
