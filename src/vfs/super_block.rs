// SPDX-License-Identifier: GPL-2.0

//! Super blocks.
//!
//! C header: [`include/linux/fs/super_types.h`]
//!
//! [`NewSuperBlock`] is the super block while `fill_super` runs: its
//! per-mount state does not exist yet. [`SuperBlock`] is a mounted one, whose
//! `s_fs_info` holds the file system's `Info`.

use core::marker::PhantomData;
use kernel::{prelude::*, str::CStr, types::Opaque};

use super::{BufferHead, FileSystem};
use crate::bindings;

/// Operations valid on any super block of type `T`.
#[repr(transparent)]
pub(crate) struct NewSuperBlock<T: FileSystem>(Opaque<bindings::super_block>, PhantomData<T>);

/// A mounted super block of type `T`, with its per-mount state.
#[repr(transparent)]
pub(crate) struct SuperBlock<T: FileSystem>(NewSuperBlock<T>);

impl<T: FileSystem> core::ops::Deref for SuperBlock<T> {
    type Target = NewSuperBlock<T>;
    fn deref(&self) -> &NewSuperBlock<T> {
        &self.0
    }
}

/// What `statfs(2)` reports, in file system blocks and inodes.
#[derive(Default)]
pub(crate) struct StatFs {
    pub(crate) magic: u32,
    pub(crate) bsize: u32,
    pub(crate) blocks: u64,
    pub(crate) bfree: u64,
    pub(crate) bavail: u64,
    pub(crate) files: u64,
    pub(crate) ffree: u64,
    pub(crate) fsid: u64,
    pub(crate) namelen: u32,
}

/// Fixed properties of a mount, set once by `fill_super`.
pub(crate) struct SuperParams {
    pub(crate) magic: u32,
    pub(crate) maxbytes: i64,
    pub(crate) time_min: i64,
    pub(crate) time_max: i64,
    /// Timestamp granularity in nanoseconds.
    pub(crate) time_gran: u32,
    /// Enforce and serve POSIX ACLs (`SB_POSIXACL`).
    pub(crate) posix_acl: bool,
    /// The file system's UUID (`s_uuid`: `FS_IOC_GETFSUUID`, overlayfs).
    pub(crate) uuid: [u8; 16],
}

impl<T: FileSystem> NewSuperBlock<T> {
    /// # Safety
    ///
    /// `sb` must be a live super block of type `T` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(sb: *mut bindings::super_block) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees liveness.
        unsafe { &*sb.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::super_block {
        self.0.get()
    }

    /// The device name, for messages.
    pub(crate) fn id(&self) -> &CStr {
        // SAFETY: `s_id` is a NUL-terminated array set when the super block
        // was created and never changed afterwards.
        unsafe { CStr::from_char_ptr((*self.as_raw()).s_id.as_ptr()) }
    }

    pub(crate) fn rdonly(&self) -> bool {
        // SAFETY: the super block is live.
        unsafe { bindings::rext4_sb_rdonly(self.as_raw()) }
    }

    /// Makes the mount read-only after an error (`errors=remount-ro`).
    pub(crate) fn force_rdonly(&self) {
        // SAFETY: the super block is live; the helper sets `SB_RDONLY`
        // as ext4_handle_error() does.
        unsafe { bindings::rext4_sb_force_rdonly(self.as_raw()) }
    }

    /// Runs `f` as an internal write (`sb_start_intwrite()`): a frozen file
    /// system waits until it is thawed.
    pub(crate) fn intwrite<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: the super block is live; start and end are paired.
        unsafe { bindings::rext4_sb_start_intwrite(self.as_raw()) };
        let r = f();
        // SAFETY: paired with the start above.
        unsafe { bindings::rext4_sb_end_intwrite(self.as_raw()) };
        r
    }

    /// Flushes the device's volatile cache.
    pub(crate) fn flush_device(&self) -> Result {
        // SAFETY: the super block is live with its device open.
        kernel::error::to_result(unsafe { bindings::rext4_flush_bdev(self.as_raw()) })
    }

    /// Writes the device's dirty buffers and flushes its cache.
    pub(crate) fn sync_device(&self) -> Result {
        // SAFETY: the super block is live with its device open.
        kernel::error::to_result(unsafe { bindings::rext4_sync_bdev(self.as_raw()) })
    }

    /// Panics the machine (`errors=panic`).
    pub(crate) fn panic(&self) -> ! {
        // SAFETY: `id` is a NUL-terminated string; `panic` does not return.
        unsafe { bindings::rext4_panic(self.id().as_char_ptr()) }
    }

    /// Whether the device itself is read-only (`bdev_read_only()`).
    pub(crate) fn device_read_only(&self) -> bool {
        // SAFETY: a block-device super block has `s_bdev` set while mounted.
        unsafe { bindings::rext4_sb_bdev_read_only(self.as_raw()) }
    }

    /// Size of the underlying block device in bytes.
    pub(crate) fn device_bytes(&self) -> u64 {
        // SAFETY: a block-device super block has `s_bdev` set while mounted.
        unsafe { bindings::rext4_sb_bdev_bytes(self.as_raw()) }
    }

    /// Sets the block size used by [`Self::bread`]; fails when the device
    /// cannot do `size`-byte blocks.
    pub(crate) fn set_blocksize(&self, size: u32) -> Result {
        let size = i32::try_from(size).map_err(|_| EINVAL)?;
        // SAFETY: the super block is live; called only from `fill_super`,
        // before any buffer of the old size is used.
        let got = unsafe { bindings::sb_set_blocksize(self.as_raw(), size) };
        if got == 0 {
            return Err(EINVAL);
        }
        Ok(())
    }

    /// The buffer of a block just allocated, zeroed, without a read
    /// ([`BufferHead::new_zeroed`]; `access` runs under the buffer lock).
    pub(crate) fn new_block(
        &self,
        block: u64,
        access: impl FnOnce(&BufferHead) -> Result,
    ) -> Result<BufferHead> {
        // SAFETY: the super block is live and has a block size.
        unsafe { BufferHead::new_zeroed(self.as_raw(), block, access) }
    }

    /// Freed metadata block `block` on a mount without a journal: its
    /// cached buffer is dropped unwritten (`ext4_forget()`'s no-journal
    /// case).
    pub(crate) fn forget_block(&self, block: u64) {
        // SAFETY: the super block is live; a NULL handle selects the
        // no-journal case, which cannot fail.
        unsafe { bindings::rext4_forget_block(self.as_raw(), core::ptr::null_mut(), block) };
    }

    /// Freezes the device under the file system (`bdev_freeze()`): the
    /// file system is synced and new writes wait until
    /// [`Self::thaw_device`].
    pub(crate) fn freeze_device(&self) -> Result {
        // SAFETY: the super block is live and mounted on a block device.
        kernel::error::to_result(unsafe { bindings::rext4_bdev_freeze(self.as_raw()) })
    }

    /// Ends a [`Self::freeze_device`].
    pub(crate) fn thaw_device(&self) {
        // SAFETY: the super block is live; its device was frozen by us.
        unsafe { bindings::rext4_bdev_thaw(self.as_raw()) };
    }

    /// Reads block `block` (in [`Self::blocksize`] units).
    pub(crate) fn bread(&self, block: u64) -> Result<BufferHead> {
        // SAFETY: the super block is live and has a block size.
        unsafe { BufferHead::read(self.as_raw(), block) }
    }

    /// Sets the mount's fixed properties.
    pub(crate) fn set_params(&self, p: &SuperParams) {
        let sb = self.as_raw();
        // SAFETY: called from `fill_super`, which owns the new super block.
        unsafe {
            (*sb).s_magic = p.magic as kernel::ffi::c_ulong;
            (*sb).s_maxbytes = p.maxbytes;
            (*sb).s_time_gran = p.time_gran;
            (*sb).s_time_min = p.time_min;
            (*sb).s_time_max = p.time_max;
            if p.posix_acl {
                bindings::rext4_sb_set_posixacl(sb);
            }
            // `super_set_uuid()`.
            (*sb).s_uuid.b = p.uuid;
            (*sb).s_uuid_len = p.uuid.len() as u8;
        }
    }
}

impl<T: FileSystem> SuperBlock<T> {
    /// # Safety
    ///
    /// `sb` must be a live super block of type `T` whose `s_fs_info` holds a
    /// `T::Info` set by `fill_super`, for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(sb: *mut bindings::super_block) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees the invariants.
        unsafe { &*sb.cast() }
    }

    /// The per-mount state.
    pub(crate) fn info(&self) -> &T::Info {
        // SAFETY: by the type invariant `s_fs_info` holds a `T::Info` that
        // lives until `kill_sb`, after every user of this super block.
        unsafe { &*(*self.as_raw()).s_fs_info.cast::<T::Info>() }
    }
}

/// Proof that the file system is being unmounted: every inode is evicted
/// and no operation can start (only the `put_super` and `kill_sb`
/// trampolines make one).
pub(crate) struct Unmounting(pub(super) ());
