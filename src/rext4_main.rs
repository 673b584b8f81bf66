// SPDX-License-Identifier: GPL-2.0

//! rext4: an ext4-compatible file system whose regular-file buffered I/O goes
//! through the kernel's iomap layer.
//!
//! This file only wires the crate together. Bottom up: `bindings` and `vfs`
//! face the kernel (all `unsafe` lives there); `ondisk` is the pure on-disk
//! format and `extent_status` the pure mapping cache (both also built and
//! tested on the host); `super_`, `inode`, `map`, `dir`, `xattr` and `file`
//! are the file system, named after their ext4 counterparts.

use kernel::prelude::*;

mod bindings;
mod block_validity;
mod dir;
mod error;
pub mod extent_status;
mod file;
mod inode;
mod ioctl;
mod journal;
pub mod libext4;
mod map;
mod namei;
pub mod ondisk;
mod super_;
mod vfs;
mod write;
mod xattr;

module! {
    type: Rext4,
    name: "rext4",
    authors: ["rext4 developers"],
    description: "ext4-compatible file system with iomap buffered I/O",
    license: "GPL",
}

static REXT4_FS_TYPE: vfs::fs_type::FileSystemType =
    vfs::fs_type::FileSystemType::new::<super_::Rext4Fs>();

struct Rext4 {
    _fs: vfs::fs_type::Registration,
}

impl kernel::Module for Rext4 {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let fs = vfs::fs_type::Registration::register::<super_::Rext4Fs>(&REXT4_FS_TYPE, module)?;
        pr_info!("registered file system type rext4\n");
        Ok(Self { _fs: fs })
    }
}

impl Drop for Rext4 {
    fn drop(&mut self) {
        pr_info!("unregistering file system type rext4\n");
    }
}
