// SPDX-License-Identifier: GPL-2.0

//! ext4 on-disk format: layer 3 of rext4. Pure decoders and checksum
//! verifiers for every structure the module reads from disk, written against
//! `core` only so the same files build inside the kernel module and as the
//! host crate `rext4-core` (for `cargo test` and `cargo fuzz`). Parsers take
//! byte slices, never allocate, never panic, and report bad input as
//! [`error::Error`]; higher layers do the I/O and walk the structures.
//!
//! Siblings refer to each other through `super::`, never `crate::`, because
//! the crate root differs between the two builds.

pub mod acl;
pub mod bytes;
pub mod crc;
pub mod dir;
pub mod dx_readdir;
pub mod error;
pub mod extent;
pub mod features;
pub mod group_desc;
pub mod hash;
pub mod htree;
pub mod iget;
pub mod indirect;
pub mod inode;
pub mod jbd2;
pub mod superblock;
pub mod system_zone;
pub mod xattr;

pub use error::{Errno, Error, Result};
