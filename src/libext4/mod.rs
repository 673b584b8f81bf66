// SPDX-License-Identifier: GPL-2.0

//! ext4 logic over block buffers, for the write path: layer 4 of rext4,
//! between the on-disk format ([`super::ondisk`]) and the kernel glue. It
//! changes metadata only through a [`trans::Trans`], which the kernel
//! implements over buffer heads and jbd2 handles and the host tests over an
//! image file, so the same code runs in both and the host tests judge it
//! with e2fsck (the way XFS shares `libxfs/` with xfsprogs;
//! `../shared/design/write-path.md`). `no_std`, no allocation, no panics.
//!
//! So far: the transaction interface, the block and inode bitmap
//! allocators, and the first namespace operation (creating an empty file
//! in a linear directory). It is built into the host crate only until the
//! kernel side of [`trans::Trans`] (a jbd2 handle) exists.
//!
//! Siblings refer to each other and to the on-disk layer through `super::`,
//! never `crate::`, because the crate root differs between the two builds.

pub mod balloc;
pub mod data;
pub mod desc;
pub mod extents;
pub mod ialloc;
pub mod inode;
pub mod namei;
pub mod trans;
