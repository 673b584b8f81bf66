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

/// A `struct posix_acl` the VFS or `posix_acl_create()` handed us, read
/// entry by entry (ids through the initial user namespace, as ext4 stores
/// them). Owned ones drop their reference; borrowed ones are the caller's.
pub(crate) struct AclRef {
    acl: NonNull<bindings::posix_acl>,
    owned: bool,
}

impl AclRef {
    /// A view of `acl`, which the caller keeps alive while it is used;
    /// `None` for NULL.
    ///
    /// # Safety
    ///
    /// `acl` is NULL or a live ACL that outlives the returned value.
    pub(crate) unsafe fn borrowed(acl: *mut bindings::posix_acl) -> Option<Self> {
        NonNull::new(acl).map(|acl| Self { acl, owned: false })
    }

    /// Takes over one reference to `acl`; `None` for NULL.
    ///
    /// # Safety
    ///
    /// `acl` is NULL or a live ACL whose reference the caller gives us.
    pub(crate) unsafe fn owned(acl: *mut bindings::posix_acl) -> Option<Self> {
        NonNull::new(acl).map(|acl| Self { acl, owned: true })
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: the ACL is live (by construction); `a_count` is fixed.
        unsafe { bindings::rext4_acl_count(self.acl.as_ptr()) as usize }
    }

    /// Entry `i` as (tag, permission bits, id); the id is 0 but for named
    /// users and groups.
    pub(crate) fn entry(&self, i: usize) -> Option<(u16, u16, u32)> {
        let i = u32::try_from(i)
            .ok()
            .filter(|&i| (i as usize) < self.len())?;
        let (mut tag, mut perm, mut id) = (0u16, 0u16, 0u32);
        // SAFETY: the ACL is live and `i` is below its entry count.
        unsafe { bindings::rext4_acl_entry(self.acl.as_ptr(), i, &mut tag, &mut perm, &mut id) };
        Some((tag, perm, id))
    }
}

impl Drop for AclRef {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: we own one reference.
            unsafe { bindings::rext4_acl_release(self.acl.as_ptr()) };
        }
    }
}

/// The ACLs `posix_acl_create()` gives a new inode: its default ACL (a
/// directory's, inherited) and its access ACL, each to be stored in the
/// create's transaction.
#[derive(Default)]
pub(crate) struct NewAcls {
    pub(crate) default: Option<AclRef>,
    pub(crate) access: Option<AclRef>,
}
