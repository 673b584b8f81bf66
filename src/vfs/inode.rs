// SPDX-License-Identifier: GPL-2.0

//! Inodes, and the cache that allocates them with per-inode file system data.
//!
//! C header: [`include/linux/fs.h`]
//!
//! Each `struct inode` is allocated inside an [`InodeContainer`] from a module
//! kmem_cache, next to the file system's `InodeData`, and reached from the
//! `struct inode` with `container_of!` (the `EXT4_I()` pattern).

use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    pin::Pin,
    ptr::{self, NonNull},
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    container_of,
    prelude::*,
    sync::aref::{ARef, AlwaysRefCounted},
    types::Opaque,
};

use super::{tables::ops, FileSystem, SuperBlock};
use crate::bindings;

/// A `struct inode` and the file system's data for it.
#[repr(C)]
pub(crate) struct InodeContainer<T: FileSystem> {
    data: MaybeUninit<T::InodeData>,
    inode: Opaque<bindings::inode>,
}

/// The inode cache of the one file system type this module registers.
static INODE_CACHE: AtomicPtr<bindings::kmem_cache> = AtomicPtr::new(ptr::null_mut());

/// Creates the inode cache; [`destroy_cache`] undoes it.
pub(crate) fn create_cache<T: FileSystem>() -> Result {
    let size = core::mem::size_of::<InodeContainer<T>>();
    let align = core::mem::align_of::<InodeContainer<T>>();
    let off = core::mem::offset_of!(InodeContainer<T>, inode);
    // SAFETY: the name is a static string; size, alignment and offset describe
    // `InodeContainer<T>`, whose `inode` field the constructor initialises.
    let cache = unsafe {
        bindings::rext4_inode_cache_create(c"rext4_inode_cache".as_char_ptr(), size, align, off)
    };
    if cache.is_null() {
        return Err(ENOMEM);
    }
    INODE_CACHE.store(cache, Ordering::Release);
    Ok(())
}

/// Destroys the inode cache once no inode of ours can exist any more.
pub(crate) fn destroy_cache() {
    let cache = INODE_CACHE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !cache.is_null() {
        // SAFETY: the file system type is unregistered, so no inode is
        // allocated from the cache any more; the helper waits for RCU-delayed
        // frees before destroying it.
        unsafe { bindings::rext4_inode_cache_destroy(cache) };
    }
}

/// `super_operations::alloc_inode`.
///
/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn alloc_inode<T: FileSystem>(
    _sb: *mut bindings::super_block,
) -> *mut bindings::inode {
    let cache = INODE_CACHE.load(Ordering::Acquire);
    // SAFETY: the cache exists while the type is registered, and super blocks
    // of the type exist only then.
    let obj = unsafe { bindings::rext4_inode_cache_alloc(cache) }.cast::<InodeContainer<T>>();
    if obj.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `obj` is a fresh allocation of the right size and alignment;
    // the slab constructor initialised `inode`; `data` is ours to initialise
    // in place, and stays put (slab objects do not move) until `free_inode`.
    unsafe {
        let data = (&raw mut (*obj).data).cast::<T::InodeData>();
        if pin_init::raw_try_init(data, T::new_inode_data()).is_err() {
            bindings::rext4_inode_cache_free(cache, obj.cast());
            return ptr::null_mut();
        }
        Opaque::cast_into(&raw const (*obj).inode)
    }
}

/// `super_operations::free_inode` (called after an RCU grace period).
///
/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
pub(crate) unsafe extern "C" fn free_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: every inode of this type was allocated by `alloc_inode<T>`, so
    // it sits in an `InodeContainer<T>` whose `data` is initialised; the VFS
    // calls this once, when nobody references the inode any more.
    unsafe {
        let obj = container_of!(Opaque::cast_from(inode), InodeContainer<T>, inode).cast_mut();
        (*obj).data.assume_init_drop();
        bindings::rext4_inode_cache_free(INODE_CACHE.load(Ordering::Acquire), obj.cast());
    }
}

/// An inode of file system type `T`.
#[repr(transparent)]
pub(crate) struct Inode<T: FileSystem>(Opaque<bindings::inode>, PhantomData<T>);

// SAFETY: inodes are reference counted with `ihold`/`iput`, which may run on
// any thread; the fields read through `&Inode` are stable or read atomically.
unsafe impl<T: FileSystem> Send for Inode<T> {}
// SAFETY: see `Send`.
unsafe impl<T: FileSystem> Sync for Inode<T> {}

// SAFETY: `ihold` and `iput` keep the inode alive while the count is non-zero.
unsafe impl<T: FileSystem> AlwaysRefCounted for Inode<T> {
    fn inc_ref(&self) {
        // SAFETY: we hold a reference, so the count is non-zero.
        unsafe { bindings::ihold(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller owns one reference.
        unsafe { bindings::iput(obj.as_ptr().cast()) };
    }
}

impl<T: FileSystem> Inode<T> {
    /// # Safety
    ///
    /// `inode` must be a live inode of a super block of type `T` (so it was
    /// allocated by `alloc_inode<T>`), for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(inode: *mut bindings::inode) -> &'a Self {
        // SAFETY: transparent wrapper; the caller guarantees liveness.
        unsafe { &*inode.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    pub(crate) fn ino(&self) -> u64 {
        // SAFETY: `i_ino` is set before the inode is published, then constant.
        unsafe { (*self.as_raw()).i_ino }
    }

    /// Whether this is a regular file.
    pub(crate) fn is_reg(&self) -> bool {
        const S_IFMT: u16 = 0o170000;
        const S_IFREG: u16 = 0o100000;
        self.mode() & S_IFMT == S_IFREG
    }

    /// Sets the permission bits (an access ACL changed them); the caller
    /// holds `i_rwsem` and has written them to disk.
    pub(crate) fn set_mode(&self, perm: u16) {
        let mode = (self.mode() & 0o170000) | (perm & 0o7777);
        // SAFETY: the inode is live; writers of `i_mode` hold `i_rwsem`,
        // as the caller does.
        unsafe { ptr::write_volatile(&raw mut (*self.as_raw()).i_mode, mode) };
    }

    /// The file type and permission bits.
    pub(crate) fn mode(&self) -> u16 {
        // SAFETY: the inode is live; the mode is read once.
        unsafe { ptr::read_volatile(&raw const (*self.as_raw()).i_mode) }
    }

    /// `i_generation`, as set at `iget`.
    pub(crate) fn generation(&self) -> u32 {
        // SAFETY: the inode is live; `i_generation` is set before the inode
        // is unlocked and not changed on a read-only mount.
        unsafe { (*self.as_raw()).i_generation }
    }

    /// `i_blocks`: 512-byte sectors owned by the inode.
    pub(crate) fn blocks(&self) -> u64 {
        // SAFETY: the inode is live; `i_blocks` is set before the inode is
        // unlocked and not changed on a read-only mount.
        unsafe { (*self.as_raw()).i_blocks }
    }

    /// `i_size`, read as `i_size_read` does.
    pub(crate) fn size(&self) -> i64 {
        // SAFETY: the inode is live.
        unsafe { bindings::rext4_i_size_read(self.as_raw()) }
    }

    /// The link count (`i_nlink`).
    pub(crate) fn nlink(&self) -> u32 {
        // SAFETY: the inode is live; the count is read once.
        unsafe { bindings::rext4_inode_nlink(self.as_raw()) }
    }

    /// Mode, owner and times as the VFS holds them: `(mode, uid, gid,
    /// [atime, mtime, ctime])`, each time as seconds and nanoseconds.
    pub(crate) fn vfs_attrs(&self) -> (u16, u32, u32, [(i64, u32); 3]) {
        let (mut t, mut ns) = ([0i64; 3], [0u32; 3]);
        // SAFETY: the inode is live; the helper reads its fields.
        unsafe {
            bindings::rext4_inode_get_times(self.as_raw(), t.as_mut_ptr(), ns.as_mut_ptr());
            (
                self.mode(),
                bindings::rext4_i_uid_read(self.as_raw()),
                bindings::rext4_i_gid_read(self.as_raw()),
                [(t[0], ns[0]), (t[1], ns[1]), (t[2], ns[2])],
            )
        }
    }

    /// Sets what the VFS keeps of the inode from its on-disk copy after
    /// the file system changed it: link count, size, blocks and times.
    /// The caller holds the inode's `i_rwsem` (every namespace operation
    /// of the VFS locks the inodes it changes), which orders this against
    /// other writers of these fields.
    pub(crate) fn set_from_disk(
        &self,
        nlink: u32,
        size: Option<i64>,
        blocks: u64,
        [a, m, c]: [(i64, u32); 3],
    ) {
        let inode = self.as_raw();
        // SAFETY: the inode is live; writers of these fields are ordered
        // by `i_rwsem` (above); readers without it (stat) see each field
        // whole, as with the C helpers.
        unsafe {
            bindings::set_nlink(inode, nlink);
            if let Some(size) = size {
                bindings::rext4_i_size_write(inode, size);
            }
            (*inode).i_blocks = blocks;
            bindings::rext4_inode_set_times(inode, a.0, a.1, m.0, m.1, c.0, c.1);
        }
    }

    /// Sets `i_blocks` (512-byte units) after the block map changed.
    pub(crate) fn set_blocks(&self, blocks: u64) {
        // SAFETY: the inode is live; writers hold the inode's data lock,
        // readers (stat) see the field whole.
        unsafe { (*self.as_raw()).i_blocks = blocks };
    }

    /// The page-cache side of a size change to `size` of a regular file
    /// (the caller holds `i_rwsem`): the old or new EOF block's tail
    /// zeroed and written, `i_size` set, the cache past it dropped. The
    /// blocks past the new size may be freed after this returns.
    pub(crate) fn setsize_pagecache(&self, size: i64) -> Result {
        let ops = super::tables::ops::<T>();
        // SAFETY: a live regular file of ours whose `i_rwsem` the caller
        // holds (setattr); the ops tables are static.
        kernel::error::to_result(unsafe {
            bindings::rext4_setsize_pagecache(self.as_raw(), size, &ops.iomap_write, &ops.write_ops)
        })
    }

    pub(crate) fn sb(&self) -> &SuperBlock<T> {
        // SAFETY: an inode of a mounted `T` super block: `i_sb` is live with
        // its `Info` set for as long as the inode is.
        unsafe { SuperBlock::from_raw((*self.as_raw()).i_sb) }
    }

    /// The file system's data for this inode.
    pub(crate) fn data(&self) -> &T::InodeData {
        // SAFETY: the inode sits in an `InodeContainer<T>` (type invariant)
        // whose `data` was initialised by `alloc_inode` or `NewInode::init`.
        unsafe {
            let obj = container_of!(Opaque::cast_from(self.as_raw()), InodeContainer<T>, inode);
            (*obj).data.assume_init_ref()
        }
    }
}

/// The file type of an inode being set up, which picks its operations.
pub(crate) enum InodeKind {
    Dir,
    Reg,
    /// A symlink whose target is in the inode; `len` bytes at the start of
    /// the `InodeData` link buffer (see [`FileSystem::fast_link`]).
    FastSymlink,
    /// A symlink whose target is in data blocks, read through the page cache.
    Symlink,
    /// Character or block device, FIFO or socket, with its device number.
    Special {
        major: u32,
        minor: u32,
    },
}

/// Everything the VFS keeps in `struct inode`, as read from disk.
pub(crate) struct InodeParams {
    pub(crate) kind: InodeKind,
    pub(crate) mode: u16,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) nlink: u32,
    pub(crate) size: i64,
    /// In 512-byte sectors.
    pub(crate) blocks: u64,
    pub(crate) atime: (i64, u32),
    pub(crate) mtime: (i64, u32),
    pub(crate) ctime: (i64, u32),
    pub(crate) generation: u32,
    /// Behaviour the VFS enforces for this inode (`S_*` in `i_flags`).
    pub(crate) attrs: InodeAttrs,
}

/// Inode attributes the VFS acts on (`inode->i_flags`): writes are
/// synchronous, only appends, nothing at all; atime is not updated;
/// directory changes are synchronous.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InodeAttrs {
    pub(crate) sync: bool,
    pub(crate) append: bool,
    pub(crate) immutable: bool,
    pub(crate) noatime: bool,
    pub(crate) dirsync: bool,
}

/// Attributes `statx` reports in `stx_attributes`; the file system reports
/// all five (`stx_attributes_mask`), as ext4 does.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StatxAttrs {
    pub(crate) append: bool,
    pub(crate) compressed: bool,
    pub(crate) encrypted: bool,
    pub(crate) immutable: bool,
    pub(crate) nodump: bool,
}

impl StatxAttrs {
    /// `(stx_attributes, stx_attributes_mask)` bits.
    pub(crate) fn bits(self) -> (u64, u64) {
        let all = [
            (self.append, bindings::STATX_ATTR_APPEND),
            (self.compressed, bindings::STATX_ATTR_COMPRESSED),
            (self.encrypted, bindings::STATX_ATTR_ENCRYPTED),
            (self.immutable, bindings::STATX_ATTR_IMMUTABLE),
            (self.nodump, bindings::STATX_ATTR_NODUMP),
        ];
        all.iter().fold((0, 0), |(set, mask), &(on, b)| {
            let b = u64::from(b);
            (if on { set | b } else { set }, mask | b)
        })
    }
}

/// What `FS_IOC_GETFLAGS` (lsattr) and `FS_IOC_FSGETXATTR` show: the
/// `FS_*_FL` flags (ext2/ext4 values) and the project id.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FileAttr {
    pub(crate) flags: u32,
    pub(crate) projid: u32,
}

impl InodeAttrs {
    /// The `S_*` bits of `inode->i_flags`.
    fn i_flags(self) -> u32 {
        let bit = |on: bool, b: u32| if on { b } else { 0 };
        bit(self.sync, bindings::S_SYNC)
            | bit(self.append, bindings::S_APPEND)
            | bit(self.immutable, bindings::S_IMMUTABLE)
            | bit(self.noatime, bindings::S_NOATIME)
            | bit(self.dirsync, bindings::S_DIRSYNC)
    }
}

/// The result of [`SuperBlock::iget`].
pub(crate) enum Iget<T: FileSystem> {
    /// Already in the inode cache, set up.
    Cached(ARef<Inode<T>>),
    /// Just allocated and locked (`I_NEW`): the caller reads it from disk.
    New(NewInode<T>),
}

/// A locked, not yet set up inode. Dropping it without [`NewInode::init`]
/// marks it bad and releases it (`iget_failed`).
pub(crate) struct NewInode<T: FileSystem>(NonNull<bindings::inode>, PhantomData<T>);

impl<T: FileSystem> NewInode<T> {
    /// The file system's data, to fill in before [`Self::init`].
    pub(crate) fn data_mut(&mut self) -> Pin<&mut T::InodeData> {
        // SAFETY: the inode is `I_NEW` and we hold it: nobody else looks at
        // its data until `unlock_new_inode`. It sits in an `InodeContainer<T>`
        // whose data `alloc_inode` initialised in place and never moves.
        unsafe {
            let obj = container_of!(Opaque::cast_from(self.0.as_ptr()), InodeContainer<T>, inode)
                .cast_mut();
            Pin::new_unchecked((*obj).data.assume_init_mut())
        }
    }

    /// Sets the inode up from `params`, and publishes it.
    pub(crate) fn init(self, params: &InodeParams) -> Result<ARef<Inode<T>>> {
        let inode = self.0.as_ptr();
        // SAFETY: the inode is `I_NEW`: nobody else looks at it until
        // `unlock_new_inode`, so we may write every field.
        unsafe {
            (*inode).i_mode = params.mode;
            bindings::rext4_i_uid_write(inode, params.uid);
            bindings::rext4_i_gid_write(inode, params.gid);
            bindings::set_nlink(inode, params.nlink);
            bindings::rext4_i_size_write(inode, params.size);
            (*inode).i_blocks = params.blocks;
            (*inode).i_generation = params.generation;
            (*inode).i_flags |= params.attrs.i_flags();
            bindings::rext4_inode_set_times(
                inode,
                params.atime.0,
                params.atime.1,
                params.mtime.0,
                params.mtime.1,
                params.ctime.0,
                params.ctime.1,
            );
            let t = ops::<T>();
            match params.kind {
                InodeKind::Dir => {
                    (*inode).i_op = &t.dir_iops;
                    (*inode).__bindgen_anon_3.i_fop = &t.dir_fops;
                }
                InodeKind::Reg => {
                    (*inode).i_op = &t.file_iops;
                    (*inode).__bindgen_anon_3.i_fop = &t.file_fops;
                    (*(*inode).i_mapping).a_ops = &t.aops;
                    bindings::rext4_mapping_set_large_folios(inode);
                }
                InodeKind::FastSymlink => {
                    (*inode).i_op = &t.fast_symlink_iops;
                    let link = T::fast_link(Inode::<T>::from_raw(inode))?;
                    let len = i32::try_from(link.to_bytes().len()).map_err(|_| EFSCORRUPTED)?;
                    bindings::rext4_inode_set_cached_link(
                        inode,
                        link.as_char_ptr().cast_mut(),
                        len,
                    );
                }
                InodeKind::Symlink => {
                    (*inode).i_op = &t.symlink_iops;
                    (*(*inode).i_mapping).a_ops = &t.aops;
                    bindings::inode_nohighmem(inode);
                }
                InodeKind::Special { major, minor } => {
                    (*inode).i_op = &t.special_iops;
                    bindings::init_special_inode(
                        inode,
                        params.mode,
                        bindings::rext4_mkdev(major, minor),
                    );
                }
            }
        }
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: the inode is fully set up; this ends `I_NEW`.
        unsafe { bindings::unlock_new_inode(inode) };
        // SAFETY: `iget_locked` gave us one reference, now the caller's.
        Ok(unsafe { ARef::from_raw(this.0.cast()) })
    }
}

impl<T: FileSystem> Drop for NewInode<T> {
    fn drop(&mut self) {
        // SAFETY: the inode is `I_NEW` and we own its reference: mark it bad,
        // unlock and release it.
        unsafe { bindings::iget_failed(self.0.as_ptr()) };
    }
}

impl<T: FileSystem> SuperBlock<T> {
    /// Finds inode `ino` in the inode cache, or allocates it locked.
    pub(crate) fn iget(&self, ino: u64) -> Result<Iget<T>> {
        // SAFETY: the super block is live.
        let inode = unsafe { bindings::iget_locked(self.as_raw(), ino) };
        let inode = NonNull::new(inode).ok_or(ENOMEM)?;
        // SAFETY: `iget_locked` returned a referenced inode of this super block.
        if unsafe { bindings::rext4_inode_is_new(inode.as_ptr()) } {
            Ok(Iget::New(NewInode(inode, PhantomData)))
        } else {
            // SAFETY: a cached, set up inode; we own the reference.
            Ok(Iget::Cached(unsafe { ARef::from_raw(inode.cast()) }))
        }
    }
}
