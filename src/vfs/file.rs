// SPDX-License-Identifier: GPL-2.0

//! An open file or directory, as the file system sees it during a call on it
//! (an ioctl): its inode, and the permission checks that depend on who
//! opened it.

use super::{inode::Inode, FileSystem};
use crate::bindings;

/// A `struct file` of ours, borrowed for the duration of one call.
pub(crate) struct OpenFile<'a, T: FileSystem> {
    raw: *mut bindings::file,
    inode: &'a Inode<T>,
}

impl<'a, T: FileSystem> OpenFile<'a, T> {
    /// # Safety
    ///
    /// `raw` must be an open file of a `T` file system that stays open for
    /// `'a`.
    pub(crate) unsafe fn from_raw(raw: *mut bindings::file) -> Self {
        // SAFETY: an open file has a live inode for as long as it is open.
        let inode = unsafe { Inode::<T>::from_raw(bindings::rext4_file_inode(raw)) };
        Self { raw, inode }
    }

    /// The file's inode.
    pub(crate) fn inode(&self) -> &'a Inode<T> {
        self.inode
    }

    /// `capable(CAP_SYS_ADMIN)` for the calling task.
    pub(crate) fn capable_sys_admin(&self) -> bool {
        super::xattr::capable_sys_admin()
    }

    /// `inode_owner_or_capable()` in the idmapping of the file's mount: the
    /// caller owns the inode or may act as if it did.
    pub(crate) fn owner_or_capable(&self) -> bool {
        // SAFETY: by the type invariant `raw` is open, so its mount and
        // inode are live.
        unsafe { bindings::rext4_file_owner_or_capable(self.raw) }
    }
}
