// SPDX-License-Identifier: GPL-2.0

//! Mount contexts: option parsing and `get_tree`.
//!
//! C header: [`include/linux/fs_context.h`]
//!
//! `init_fs_context` hangs a `T::Options` off `fc->fs_private`;
//! `parse_param` fills it; `get_tree` hands it to `fill_super` through
//! `get_tree_bdev`; `free` drops it.

use core::ffi::c_int;
use kernel::{prelude::*, str::CStr, sync::aref::ARef, types::Opaque};

use super::{
    tables::{ops, xattr_handlers},
    FileSystem, NewSuperBlock, SuperBlock,
};
use crate::bindings;

/// A `struct fs_context`: one mount (or remount) in preparation.
#[repr(transparent)]
pub(crate) struct FsContext(Opaque<bindings::fs_context>);

impl FsContext {
    /// # Safety
    ///
    /// `ptr` must point to a valid `fs_context` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::fs_context) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees validity.
        unsafe { &*ptr.cast() }
    }

    /// Reports a mount error where the user sees it: the `fsconfig` log for
    /// the new mount API, dmesg otherwise.
    pub(crate) fn error(&self, msg: &CStr) {
        // SAFETY: `self` is a valid `fs_context` and `msg` a NUL-terminated
        // string; `errorf` copies what it needs.
        unsafe { bindings::rext4_fc_error(self.0.get(), msg.as_char_ptr()) };
    }

    /// For a remount: whether the super block is read-only now.
    pub(crate) fn sb_rdonly(&self) -> bool {
        // SAFETY: a reconfiguration context holds its super block's root
        // dentry (the only caller is `reconfigure`).
        unsafe { bindings::rext4_fc_sb_rdonly(self.0.get()) }
    }

    /// Whether the mount (or remount) asks for read-only.
    pub(crate) fn wants_rdonly(&self) -> bool {
        // SAFETY: `sb_flags` is set up by the VFS before any callback.
        unsafe { bindings::rext4_fc_wants_rdonly(self.0.get()) }
    }
}

/// The `T::Options` of `fc`.
///
/// # Safety
///
/// `fc` must be a live context set up by `init_fs_context::<T>`, used by the
/// current callback only (the VFS serialises callbacks on one context).
unsafe fn options<'a, T: FileSystem>(fc: *mut bindings::fs_context) -> Result<&'a mut T::Options> {
    // SAFETY: `fs_private` holds a `KBox<T::Options>` or is NULL (contract).
    let opts = unsafe { (*fc).fs_private.cast::<T::Options>() };
    if opts.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: non-NULL, owned by `fc`, exclusively ours during the callback.
    Ok(unsafe { &mut *opts })
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn init_fs_context<T: FileSystem>(
    fc: *mut bindings::fs_context,
) -> c_int {
    let opts = match KBox::new(T::Options::default(), GFP_KERNEL) {
        Ok(o) => o,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: the VFS passes a fresh context it owns; `free` below takes the
    // box back.
    unsafe {
        (*fc).fs_private = KBox::into_raw(opts).cast();
        (*fc).ops = &ops::<T>().fc_ops;
    }
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn free<T: FileSystem>(fc: *mut bindings::fs_context) {
    // SAFETY: `fs_private` is NULL or the box `init_fs_context` stored.
    unsafe {
        let opts = (*fc).fs_private.cast::<T::Options>();
        if !opts.is_null() {
            drop(KBox::from_raw(opts));
            (*fc).fs_private = core::ptr::null_mut();
        }
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn parse_param<T: FileSystem>(
    fc: *mut bindings::fs_context,
    param: *mut bindings::fs_parameter,
) -> c_int {
    let r = (|| -> Result {
        // SAFETY: a live context of type `T` (VFS contract).
        let opts = unsafe { options::<T>(fc)? };
        // SAFETY: the VFS passes a valid parameter whose key is a C string and,
        // for string values, whose `string` member is one too.
        let (key, value) = unsafe {
            let key = CStr::from_char_ptr((*param).key).to_bytes();
            let value = match (*param).type_() {
                bindings::fs_value_type_fs_value_is_flag => None,
                bindings::fs_value_type_fs_value_is_string => {
                    Some(CStr::from_char_ptr((*param).__bindgen_anon_1.string).to_bytes())
                }
                _ => return Err(ENOPARAM),
            };
            (key, value)
        };
        T::parse_param(opts, key, value)
    })();
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn get_tree<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: a live context; `fill_super::<T>` matches the callback type.
    unsafe { bindings::get_tree_bdev(fc, Some(fill_super::<T>)) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn fill_super<T: FileSystem>(
    sb: *mut bindings::super_block,
    fc: *mut bindings::fs_context,
) -> c_int {
    let r = (|| -> Result {
        // SAFETY: `get_tree_bdev` passes our live context and a new super
        // block it has locked for us.
        let (opts, new_sb) = unsafe {
            (*sb).s_op = &ops::<T>().super_ops;
            (*sb).s_xattr = xattr_handlers::<T>().0.as_ptr();
            (options::<T>(fc)?, NewSuperBlock::<T>::from_raw(sb))
        };
        let info = KBox::new(T::fill_super(new_sb, opts)?, GFP_KERNEL)?;
        // SAFETY: the new super block is ours; `kill_sb` takes the box back.
        let sb = unsafe {
            (*sb).s_fs_info = KBox::into_raw(info).cast();
            SuperBlock::<T>::from_raw(sb)
        };
        let root = T::root(sb)?;
        // SAFETY: `d_make_root` consumes the inode reference, even on failure.
        let dentry = unsafe { bindings::d_make_root(ARef::into_raw(root).as_ptr().cast()) };
        if dentry.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: the super block is still ours.
        unsafe { (*sb.as_raw()).s_root = dentry };
        Ok(())
    })();
    // On error `get_tree_bdev` calls `kill_sb`, which frees what we set.
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn reconfigure<T: FileSystem>(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: a live reconfiguration context (VFS contract).
    let fc = unsafe { FsContext::from_raw(fc) };
    // SAFETY: a live reconfiguration context; the helpers read its flags.
    let (forced, says_ro_rw) = unsafe {
        (
            bindings::rext4_fc_forced(fc.0.get()),
            bindings::rext4_fc_changes_rdonly(fc.0.get()),
        )
    };
    if forced {
        // An emergency remount: the VFS makes the mount read-only whatever
        // we answer; the journal keeps committing what is running.
        return 0;
    }
    let now_ro = fc.sb_rdonly();
    let want_ro = if says_ro_rw {
        fc.wants_rdonly()
    } else {
        now_ro
    };
    match (now_ro, want_ro) {
        (true, true) => 0,
        (true, false) => {
            fc.error(c"read-write remount is not supported yet");
            EROFS.to_errno()
        }
        (false, true) => {
            fc.error(c"remounting read-only is not supported yet: unmount instead");
            EBUSY.to_errno()
        }
        (false, false) => {
            fc.error(c"changing the options of a read-write mount is not supported yet");
            EINVAL.to_errno()
        }
    }
}
