// SPDX-License-Identifier: GPL-2.0

//! From on-disk decoding errors to errnos, and the corruption report.
//!
//! A corrupt structure is `EFSCORRUPTED` (ext4's `EUCLEAN`), a checksum
//! mismatch `EBADMSG` (ext4's `EFSBADCRC`), a feature we do not handle
//! `EOPNOTSUPP`; the report names device, inode and block, and is rate
//! limited so a bad image cannot flood the log.

use kernel::prelude::*;

use crate::ondisk::{Errno, Error as DiskError};

/// The kind and the structure named, for messages.
pub(crate) fn describe(e: &DiskError) -> (&'static str, &'static str) {
    match *e {
        DiskError::Corrupt(w) => ("corrupt", w),
        DiskError::BadChecksum(w) => ("bad checksum", w),
        DiskError::Unsupported(w) => ("unsupported", w),
        DiskError::OutOfRange(w) => ("out of range", w),
        DiskError::Refused(e) => ("refused", e.name()),
        DiskError::Io => ("I/O error", "below the file system"),
    }
}

pub(crate) fn to_kernel(e: DiskError) -> Error {
    match e {
        DiskError::Corrupt(_) => EFSCORRUPTED,
        DiskError::BadChecksum(_) => EBADMSG,
        DiskError::Unsupported(_) => EOPNOTSUPP,
        DiskError::OutOfRange(_) => EFBIG,
        DiskError::Refused(e) => match e {
            Errno::Exists => EEXIST,
            Errno::NotEmpty => ENOTEMPTY,
            Errno::NotDir => ENOTDIR,
            Errno::IsDir => EISDIR,
            Errno::Perm => EPERM,
            Errno::Invalid => EINVAL,
            Errno::TooManyLinks => EMLINK,
            Errno::NoSpace => ENOSPC,
            Errno::NoData => ENODATA,
        },
        DiskError::Io => EIO,
    }
}

/// Reports corruption found in inode `ino` at device block `block` (0 when
/// not block-specific), and returns the errno for it.
pub(crate) fn corrupt(dev: &kernel::str::CStr, ino: u64, block: u64, e: DiskError) -> Error {
    if crate::vfs::ratelimit() {
        let (kind, what) = describe(&e);
        pr_err!("rext4 ({dev}): inode #{ino}: block {block}: {kind}: {what}\n");
    }
    to_kernel(e)
}

/// Shows an on-disk layer value through its `core::fmt::Display` in the
/// kernel's `pr_*` macros (which take `kernel::fmt::Display`).
pub(crate) struct Shown<'a, T: core::fmt::Display>(pub(crate) &'a T);

impl<T: core::fmt::Display> kernel::fmt::Display for Shown<'_, T> {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        core::fmt::Display::fmt(self.0, f)
    }
}
