// SPDX-License-Identifier: GPL-2.0

//! `seq_file` output, for `/proc/mounts` options.
//!
//! C header: [`include/linux/seq_file.h`]

use kernel::{prelude::*, str::CStr};

use crate::bindings;

pub(crate) struct SeqFile {
    m: *mut bindings::seq_file,
}

impl SeqFile {
    /// # Safety
    ///
    /// `m` must be a live `seq_file` being filled by the current callback,
    /// used only during that callback.
    pub(crate) unsafe fn new(m: *mut bindings::seq_file) -> Self {
        Self { m }
    }

    pub(crate) fn puts(&self, s: &CStr) {
        // SAFETY: `m` is live (constructor contract); `s` is NUL-terminated.
        unsafe { bindings::__seq_puts(self.m, s.as_char_ptr()) };
    }
}
