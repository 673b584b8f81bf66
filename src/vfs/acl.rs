// SPDX-License-Identifier: GPL-2.0

//! POSIX ACLs handed to the VFS.
//!
//! C header: [`include/linux/posix_acl.h`]

use core::ptr::NonNull;
use kernel::prelude::*;

use crate::bindings;

/// `ACL_TYPE_ACCESS` / `ACL_TYPE_DEFAULT` as the VFS passes them.
pub(crate) const ACL_TYPE_ACCESS: i32 = 0x8000;
pub(crate) const ACL_TYPE_DEFAULT: i32 = 0x4000;

/// An owned `struct posix_acl` being filled; released on drop unless handed
/// to the VFS.
pub(crate) struct PosixAcl {
    acl: NonNull<bindings::posix_acl>,
    count: u32,
}

impl PosixAcl {
    /// An ACL of `count` entries, to be filled with [`Self::set`].
    pub(crate) fn new(count: usize) -> Result<Self> {
        let count = u32::try_from(count).map_err(|_| EINVAL)?;
        // SAFETY: no preconditions; returns NULL on allocation failure.
        let acl = unsafe { bindings::rext4_acl_alloc(count) };
        Ok(Self {
            acl: NonNull::new(acl).ok_or(ENOMEM)?,
            count,
        })
    }

    /// Sets entry `i` (`ACL_*` tag, rwx bits, user or group id).
    pub(crate) fn set(&mut self, i: usize, tag: u16, perm: u16, id: u32) -> Result {
        let i = u32::try_from(i)
            .ok()
            .filter(|&i| i < self.count)
            .ok_or(EINVAL)?;
        // SAFETY: we own the ACL and `i` is below its entry count.
        unsafe { bindings::rext4_acl_set(self.acl.as_ptr(), i, tag, perm, id) };
        Ok(())
    }

    /// Hands our reference to the caller (the VFS caches it).
    pub(crate) fn into_raw(self) -> *mut bindings::posix_acl {
        let p = self.acl.as_ptr();
        core::mem::forget(self);
        p
    }
}

impl Drop for PosixAcl {
    fn drop(&mut self) {
        // SAFETY: we own one reference, from `posix_acl_alloc`.
        unsafe { bindings::rext4_acl_release(self.acl.as_ptr()) };
    }
}
