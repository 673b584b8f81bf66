// SPDX-License-Identifier: GPL-2.0

//! File system type registration.
//!
//! C headers: [`include/linux/fs.h`], [`include/linux/fs_context.h`]
//!
//! A `struct file_system_type` must live as long as it is registered and the
//! VFS writes into it (the list link, lockdep keys), so it sits in a `static`
//! behind an `UnsafeCell`. [`Registration`] creates the inode cache and
//! registers the type; dropping it undoes both, at module unload.

use core::cell::UnsafeCell;
use kernel::{error::to_result, prelude::*, ThisModule};

use super::{fs_context, inode, FileSystem};
use crate::bindings;

/// A `struct file_system_type` in static storage.
pub(crate) struct FileSystemType(UnsafeCell<bindings::file_system_type>);

// SAFETY: the VFS serialises its own accesses to a registered type (under
// `file_systems_lock`); rext4 writes the struct only in `Registration::register`,
// before the type is published.
unsafe impl Sync for FileSystemType {}

impl FileSystemType {
    /// A block-device file system type for `T`.
    pub(crate) const fn new<T: FileSystem>() -> Self {
        Self(UnsafeCell::new(bindings::file_system_type {
            // `as_char_ptr` is not `const`; `as_ptr` is the same pointer.
            #[allow(clippy::disallowed_methods)]
            name: T::NAME.as_ptr().cast(),
            fs_flags: bindings::FS_REQUIRES_DEV as i32,
            init_fs_context: Some(fs_context::init_fs_context::<T>),
            kill_sb: Some(kill_sb::<T>),
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
    pub(crate) fn register<T: FileSystem>(
        fs_type: &'static FileSystemType,
        module: &'static ThisModule,
    ) -> Result<Self> {
        inode::create_cache::<T>()?;
        let raw = fs_type.0.get();
        // SAFETY: `raw` points to a static, so it is valid for the module's
        // lifetime. It is not registered yet, so nobody else accesses it.
        unsafe { (*raw).owner = module.as_ptr().cast() };
        // SAFETY: `raw` is a fully initialised `file_system_type` in static
        // storage; it stays valid until `drop` unregisters it.
        if let Err(e) = to_result(unsafe { bindings::register_filesystem(raw) }) {
            inode::destroy_cache();
            return Err(e);
        }
        Ok(Self { fs_type })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: the type was registered by `register`; every super block of
        // this type holds a module reference, so none exists at unload.
        unsafe { bindings::unregister_filesystem(self.fs_type.0.get()) };
        inode::destroy_cache();
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn kill_sb<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: the VFS calls `kill_sb` once, on a super block of this type;
    // `s_fs_info` is NULL or the box `fill_super` stored. It is read before
    // `kill_block_super` (which evicts every inode) and freed after it.
    unsafe {
        let info = (*sb).s_fs_info.cast::<T::Info>();
        // A mount that failed after `fill_super` (no root) never reaches
        // `put_super`: undo what the file system set up while the device
        // is still ours (ext4's `failed_mount` path).
        if (*sb).s_root.is_null() && !info.is_null() {
            T::put_super(
                super::SuperBlock::<T>::from_raw(sb),
                &super::super_block::Unmounting(()),
            );
        }
        bindings::kill_block_super(sb);
        if !info.is_null() {
            drop(KBox::from_raw(info));
        }
    }
}
