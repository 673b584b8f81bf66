// SPDX-License-Identifier: GPL-2.0

//! Extended attribute handlers.
//!
//! C header: [`include/linux/xattr.h`]
//!
//! The VFS finds a handler by name prefix and passes the rest of the name;
//! `flags` carries the ext4 name index of the prefix, which is how the
//! on-disk format names the namespace.

use crate::bindings;

/// ext4's xattr name indexes (`EXT4_XATTR_INDEX_*`).
pub(crate) mod index {
    pub(crate) const USER: u8 = 1;
    pub(crate) const POSIX_ACL_ACCESS: u8 = 2;
    pub(crate) const POSIX_ACL_DEFAULT: u8 = 3;
    pub(crate) const TRUSTED: u8 = 4;
    pub(crate) const SECURITY: u8 = 6;
}

/// `capable(CAP_SYS_ADMIN)` for the current task: whether it may see
/// `trusted.` attributes (as ext4's `list`), or change the label.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: no preconditions; checks the current task's credentials.
    unsafe { bindings::rext4_capable_sys_admin() }
}
