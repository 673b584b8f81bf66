// SPDX-License-Identifier: GPL-2.0

//! Mount contexts.
//!
//! C header: [`include/linux/fs_context.h`]

use kernel::{str::CStr, types::Opaque};

use crate::bindings;

/// A `struct fs_context`: one mount (or remount) in preparation.
#[repr(transparent)]
pub(crate) struct FsContext(Opaque<bindings::fs_context>);

impl FsContext {
    /// # Safety
    ///
    /// `ptr` must point to a valid `fs_context` that the caller may access
    /// exclusively for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a mut Self {
        // SAFETY: `FsContext` is a transparent wrapper; the caller guarantees
        // validity and exclusivity.
        unsafe { &mut *ptr.cast() }
    }

    /// Reports a mount error where the user sees it: the `fsconfig` log for
    /// the new mount API, dmesg otherwise.
    pub(crate) fn error(&self, msg: &CStr) {
        // SAFETY: `self` is a valid `fs_context` and `msg` a NUL-terminated
        // string; `errorf` copies what it needs.
        unsafe { bindings::rext4_fc_error(self.0.get(), msg.as_char_ptr()) };
    }
}
