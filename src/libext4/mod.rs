// SPDX-License-Identifier: GPL-2.0

//! ext4 logic over block buffers, for the write path: layer 4 of rext4,
//! between the on-disk format ([`super::ondisk`]) and the kernel glue. It
//! changes metadata only through a [`trans::Trans`], which the kernel
//! implements over buffer heads and jbd2 handles and the host tests over an
//! image file, so the same code runs in both and the host tests judge it
//! with e2fsck (the way XFS shares `libxfs/` with xfsprogs;
//! `../shared/design/write-path.md`). `no_std`, no allocation, no panics.
//!
//! The transaction interface, the block and inode allocators, group
//! descriptors, the extent tree, file data mapping, conversion and
//! truncate, namespace operations in linear and indexed directories, the orphan
//! list and extended attributes; built into the kernel module (over jbd2 handles) and the host
//! tests (over an image file) alike.
//!
//! Siblings refer to each other and to the on-disk layer through `super::`,
//! never `crate::`, because the crate root differs between the two builds.

pub mod balloc;
pub mod data;
pub mod desc;
pub mod extents;
mod htree;
pub mod ialloc;
pub mod inode;
pub mod namei;
pub mod orphan;
pub mod trans;
pub mod xattr;
