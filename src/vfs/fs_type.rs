// SPDX-License-Identifier: GPL-2.0

//! File system type registration.
//!
//! C headers: [`include/linux/fs.h`], [`include/linux/fs_context.h`]
//!
//! A `struct file_system_type` must live as long as it is registered and the
//! VFS writes into it (the list link, lockdep keys), so it sits in a `static`
//! behind an `UnsafeCell`. [`Registration`] registers it and unregisters it on
//! drop, which the module does at unload.

use core::cell::UnsafeCell;
use kernel::{error::to_result, prelude::*, str::CStr, ThisModule};

use super::fs_context::FsContext;
use crate::bindings;

/// What a file system provides to the VFS at mount time.
pub(crate) trait FileSystem {
    /// Called for every new mount attempt; sets up `fc` (ops, private data).
    fn init_fs_context(fc: &mut FsContext) -> Result;
}

/// A `struct file_system_type` in static storage.
pub(crate) struct FileSystemType(UnsafeCell<bindings::file_system_type>);

// SAFETY: the VFS serialises its own accesses to a registered type (under
// `file_systems_lock`); rext4 writes the struct only in `Registration::register`,
// before the type is published.
unsafe impl Sync for FileSystemType {}

impl FileSystemType {
    /// A block-device file system type called `name`.
    pub(crate) const fn new<T: FileSystem>(name: &'static CStr) -> Self {
        Self(UnsafeCell::new(bindings::file_system_type {
            name: name.as_char_ptr(),
            fs_flags: bindings::FS_REQUIRES_DEV as i32,
            init_fs_context: Some(init_fs_context_callback::<T>),
            kill_sb: Some(bindings::kill_block_super),
            // SAFETY: all-zeroes is a valid `file_system_type` (null pointers,
            // `None` callbacks, zeroed lock class keys), as for a C static.
            ..unsafe { core::mem::zeroed() }
        }))
    }
}

/// A registered file system type; unregistered on drop.
pub(crate) struct Registration {
    fs_type: &'static FileSystemType,
}

impl Registration {
    /// Registers `fs_type` as owned by `module`.
    pub(crate) fn register(
        fs_type: &'static FileSystemType,
        module: &'static ThisModule,
    ) -> Result<Self> {
        let raw = fs_type.0.get();
        // SAFETY: `raw` points to a static, so it is valid for the module's
        // lifetime. It is not registered yet, so nobody else accesses it.
        unsafe { (*raw).owner = module.as_ptr().cast() };
        // SAFETY: `raw` is a fully initialised `file_system_type` in static
        // storage; it stays valid until `drop` unregisters it.
        to_result(unsafe { bindings::register_filesystem(raw) })?;
        Ok(Self { fs_type })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: the type was registered by `register`; every super block of
        // this type holds a module reference, so none exists at unload.
        unsafe { bindings::unregister_filesystem(self.fs_type.0.get()) };
    }
}

unsafe extern "C" fn init_fs_context_callback<T: FileSystem>(fc: *mut bindings::fs_context) -> i32 {
    // SAFETY: the VFS calls `init_fs_context` with a valid, exclusively owned
    // `fs_context` for the duration of the call.
    let fc = unsafe { FsContext::from_raw(fc) };
    match T::init_fs_context(fc) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
