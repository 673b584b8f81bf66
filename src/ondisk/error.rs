// SPDX-License-Identifier: GPL-2.0

//! The one error type of the on-disk layer. Every parser reports what is wrong
//! with a static string naming the structure and field (the kernel glue logs it
//! and maps the variant to an errno), because a parser never panics and never
//! allocates: a corrupt or hostile image only ever produces one of these.

use core::fmt;

/// Why a byte string could not be decoded as an ext4 structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The structure is inconsistent or out of bounds (maps to `EFSCORRUPTED`).
    Corrupt(&'static str),
    /// The structure is well formed but its checksum does not match (maps to
    /// `EFSBADCRC`, which the kernel spells `EBADMSG`).
    BadChecksum(&'static str),
    /// The structure uses a feature this implementation does not handle, named
    /// by its `mke2fs`/`debugfs` name (maps to `EINVAL` at mount,
    /// `EOPNOTSUPP` elsewhere).
    Unsupported(&'static str),
    /// A caller-supplied argument is outside what the format can address, for
    /// example a logical block past the reach of an indirect map (maps to
    /// `EFBIG` or `EINVAL`; it says nothing about the image).
    OutOfRange(&'static str),
    /// An operation the format forbids for this argument, with the errno
    /// the VFS reports for it (the write path: a name that exists, a
    /// directory not empty, too many links).
    Refused(Errno),
    /// The layer below failed (an I/O error, no memory, an aborted
    /// journal); the transaction that saw it keeps the errno.
    Io,
}

/// Why the write path refused an operation, as the errno a caller reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// `EEXIST`: the name exists.
    Exists,
    /// `ENOTEMPTY`: the directory holds more than `.` and `..`.
    NotEmpty,
    /// `ENOTDIR`: a directory was expected.
    NotDir,
    /// `EISDIR`: a directory where a non-directory was expected.
    IsDir,
    /// `EPERM`: not allowed for this kind of inode (a hard link to a
    /// directory).
    Perm,
    /// `EINVAL`: a directory moved below itself, `.` or `..` renamed.
    Invalid,
    /// `EMLINK`: the link count is at its limit.
    TooManyLinks,
    /// `ENOSPC`: no free block for what the operation must add.
    NoSpace,
    /// `ENODATA`: no such extended attribute (`XATTR_REPLACE`).
    NoData,
}

impl Errno {
    /// The errno's name.
    pub fn name(self) -> &'static str {
        match self {
            Errno::Exists => "EEXIST",
            Errno::NotEmpty => "ENOTEMPTY",
            Errno::NotDir => "ENOTDIR",
            Errno::IsDir => "EISDIR",
            Errno::Perm => "EPERM",
            Errno::Invalid => "EINVAL",
            Errno::TooManyLinks => "EMLINK",
            Errno::NoSpace => "ENOSPC",
            Errno::NoData => "ENODATA",
        }
    }
}

/// Result of every parser in this layer.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Corrupt(what) => write!(f, "corrupt: {what}"),
            Error::BadChecksum(what) => write!(f, "bad checksum: {what}"),
            Error::Unsupported(what) => write!(f, "unsupported feature: {what}"),
            Error::OutOfRange(what) => write!(f, "out of range: {what}"),
            Error::Refused(e) => write!(f, "refused: {}", e.name()),
            Error::Io => write!(f, "I/O error"),
        }
    }
}
