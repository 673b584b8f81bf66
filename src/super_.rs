// SPDX-License-Identifier: GPL-2.0

//! Mounting: the `init_fs_context` entry point of the `rext4` type.
//!
//! Until the read path lands, every mount is refused with a message that says
//! so, rather than pretending to mount.

use kernel::prelude::*;

use crate::vfs::{fs_context::FsContext, fs_type::FileSystem};

pub(crate) struct Rext4Fs;

impl FileSystem for Rext4Fs {
    fn init_fs_context(fc: &mut FsContext) -> Result {
        fc.error(c"mounting is not supported yet by this build of rext4");
        Err(EOPNOTSUPP)
    }
}
