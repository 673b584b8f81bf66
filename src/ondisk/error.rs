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
        }
    }
}
