// SPDX-License-Identifier: GPL-2.0

//! Directory iteration.
//!
//! C header: [`include/linux/fs.h`] (`struct dir_context`, `dir_emit`)

use crate::bindings;

/// The `struct dir_context` of one `getdents` call: entries go to user space
/// through it, and its position is where the next call resumes.
pub(crate) struct DirEmitter {
    ctx: *mut bindings::dir_context,
    cookies_32bit: bool,
}

/// `DT_*` values of `d_type`, which equal ext4's `EXT4_FT_*` remapped.
pub(crate) mod dtype {
    pub(crate) const UNKNOWN: u8 = 0;
    pub(crate) const FIFO: u8 = 1;
    pub(crate) const CHR: u8 = 2;
    pub(crate) const DIR: u8 = 4;
    pub(crate) const BLK: u8 = 6;
    pub(crate) const REG: u8 = 8;
    pub(crate) const LNK: u8 = 10;
    pub(crate) const SOCK: u8 = 12;
}

impl DirEmitter {
    /// # Safety
    ///
    /// `ctx` must be the live `dir_context` of an `iterate_shared` call on
    /// `file`, used only during that call.
    pub(crate) unsafe fn new(file: *mut bindings::file, ctx: *mut bindings::dir_context) -> Self {
        Self {
            ctx,
            cookies_32bit: cookies_32bit(file),
        }
    }

    /// Whether positions handed to this reader must fit 32 bits (NFS asked
    /// for it, or a 32-bit system call).
    pub(crate) fn cookies_32bit(&self) -> bool {
        self.cookies_32bit
    }

    /// The position to resume from: a byte offset, or a hash cookie.
    pub(crate) fn pos(&self) -> i64 {
        // SAFETY: `ctx` is live for the call (constructor contract).
        unsafe { (*self.ctx).pos }
    }

    pub(crate) fn set_pos(&mut self, pos: i64) {
        // SAFETY: as in `pos`; the VFS reads it back after the call.
        unsafe { (*self.ctx).pos = pos };
    }

    /// Hands one entry to user space; `false` when its buffer is full (stop,
    /// and resume from the current position next time).
    pub(crate) fn emit(&mut self, name: &[u8], ino: u64, dtype: u8) -> bool {
        let Ok(len) = i32::try_from(name.len()) else {
            return false;
        };
        // SAFETY: `ctx` is live; `name` is valid for `len` bytes during the call
        // (the actor copies it).
        unsafe { bindings::rext4_dir_emit(self.ctx, name.as_ptr().cast(), len, ino, dtype.into()) }
    }
}

/// Whether the reader of open directory `file` gets 32-bit hash cookies.
pub(crate) fn cookies_32bit(file: *mut bindings::file) -> bool {
    // SAFETY: callers pass an open file the VFS handed to a callback, live
    // for its duration; the helper only reads `f_mode`.
    unsafe { bindings::rext4_dir_cookies_32bit(file) }
}
