// SPDX-License-Identifier: GPL-2.0

//! Block mappings handed to the iomap layer.
//!
//! C header: [`include/linux/iomap.h`]
//!
//! The file system answers `iomap_begin` with a [`Mapping`]; the trampoline
//! in `tables` turns it into a `struct iomap`. The validity cookie is the
//! extent-status sequence number seen when the mapping was made, which
//! iomap compares again (`iomap_valid`) before trusting a cached mapping.

/// What a file range is on disk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MappingKind {
    /// No blocks: reads as zeros.
    Hole,
    /// Written blocks starting at this byte address on the device.
    Mapped(u64),
    /// Allocated but unwritten blocks at this device byte address: read as
    /// zeros.
    Unwritten(u64),
}

/// One mapping: `length` bytes of the file from byte `offset`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mapping {
    pub(crate) kind: MappingKind,
    pub(crate) offset: i64,
    pub(crate) length: u64,
    pub(crate) cookie: u64,
    /// The mapping was merged from per-block maps (`IOMAP_F_MERGED`, which
    /// FIEMAP reports): ext4 sets it for mapped blocks of indirect-map inodes.
    pub(crate) merged: bool,
}
