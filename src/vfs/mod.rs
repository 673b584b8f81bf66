// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the kernel's VFS, block and iomap C APIs (layer 2).
//!
//! The kernel crate has no abstractions for file systems, folios, buffer heads
//! or iomap, so rext4 keeps its own here. This is the only place, with
//! `bindings`, where `unsafe` code lives: each wrapper states the invariant it
//! relies on, and the file system code above it is safe Rust.
//!
//! A file system implements [`FileSystem`]; the operation tables the VFS calls
//! (`super_operations`, `inode_operations`, ...) are built from it in
//! [`tables`], one trampoline per callback, each turning raw pointers into
//! the typed references below and a `Result` back into an errno.

use kernel::{prelude::*, str::CStr, uaccess::UserPtr};

pub(crate) mod acl;
pub(crate) mod buffer;
pub(crate) mod dir;
pub(crate) mod file;
pub(crate) mod fs_context;
pub(crate) mod fs_type;
pub(crate) mod inode;
pub(crate) mod iomap;
pub(crate) mod jbd2;
pub(crate) mod seq;
pub(crate) mod super_block;
pub(crate) mod tables;
pub(crate) mod xattr;

pub(crate) use buffer::BufferHead;
pub(crate) use dir::DirEmitter;
pub(crate) use file::OpenFile;
pub(crate) use inode::{FileAttr, Iget, Inode, InodeAttrs, InodeKind, InodeParams, StatxAttrs};
pub(crate) use iomap::{Mapping, MappingKind, WbQueue};
pub(crate) use seq::SeqFile;
pub(crate) use super_block::{NewSuperBlock, StatFs, SuperBlock};

/// What a file system provides to the VFS.
pub(crate) trait FileSystem: Sized + Send + Sync + 'static {
    /// The name of the type in `/proc/filesystems` and `mount -t`.
    const NAME: &'static CStr;
    /// Mount options as parsed from the `fs_context`, consumed by `fill_super`.
    type Options: Default + Send;
    /// Per-mount state, in `sb->s_fs_info`.
    type Info: Send + Sync;
    /// Per-inode state, allocated beside each `struct inode`.
    type InodeData: Send + Sync;

    /// One mount option; `Err(ENOPARAM)` leaves it to the VFS (`source`,
    /// or an unknown option, which then fails the mount with `EINVAL`).
    fn parse_param(opts: &mut Self::Options, key: &[u8], value: Option<&[u8]>) -> Result;

    /// Reads the super block and builds the per-mount state.
    fn fill_super(sb: &NewSuperBlock<Self>, opts: &Self::Options) -> Result<Self::Info>;

    /// The root directory, once `fill_super` succeeded.
    fn root(sb: &SuperBlock<Self>) -> Result<ARef<Inode<Self>>>;

    /// Fresh per-inode state for a newly allocated inode, initialised in
    /// place (it may hold locks).
    fn new_inode_data() -> impl PinInit<Self::InodeData, Error>;

    fn statfs(sb: &SuperBlock<Self>) -> Result<StatFs>;
    fn show_options(sb: &SuperBlock<Self>, seq: &SeqFile) -> Result;

    /// Looks `name` up in `dir`; `Ok(None)` is a negative entry.
    fn lookup(dir: &Inode<Self>, name: &[u8]) -> Result<Option<ARef<Inode<Self>>>>;
    /// Per-open-directory state, in `file->private_data` from `open` to
    /// `release`.
    type DirCursor: Send + Sync;
    /// Fresh state for a directory being opened.
    fn new_dir_cursor() -> impl PinInit<Self::DirCursor, Error>;
    /// Emits the entries of `dir` from `emitter.pos()` on.
    fn readdir(dir: &Inode<Self>, cursor: &Self::DirCursor, emitter: &mut DirEmitter) -> Result;
    /// An `llseek` of an open directory is about to happen. Returns the
    /// largest position when positions are hash cookies (`cookies_32bit`
    /// tells their width), `None` when they are byte offsets.
    fn dir_llseek(dir: &Inode<Self>, cursor: &Self::DirCursor, cookies_32bit: bool) -> Option<i64>;
    /// The target of a symlink stored in the inode ("fast" symlink).
    fn fast_link(inode: &Inode<Self>) -> Result<&CStr>;
    /// The target of a symlink stored in a block ("slow" symlink), read
    /// when it is followed: the bytes and a NUL (kmalloc'd: the VFS frees
    /// it with `kfree_link()`).
    fn slow_link(inode: &Inode<Self>) -> Result<KVec<u8>>;
    /// Whether the file system was shut down (`FS_IOC_SHUTDOWN`): file
    /// reads, writes, write faults and fsync fail with `EIO` then.
    fn shut_down(sb: &SuperBlock<Self>) -> bool;
    /// Creation time (statx btime), if the inode records one.
    fn btime(inode: &Inode<Self>) -> Option<(i64, u32)>;
    /// Attributes `statx` reports.
    fn statx_attributes(inode: &Inode<Self>) -> StatxAttrs;
    /// Flags and project id for `FS_IOC_GETFLAGS`/`FS_IOC_FSGETXATTR`
    /// (offered on directories and regular files, as ext4 does).
    fn fileattr(inode: &Inode<Self>) -> FileAttr;

    /// The ioctl `cmd` on an open file or directory (`compat`: made by a
    /// 32-bit process); `ENOTTY` for a command the file system does not
    /// know. `arg` is the caller's argument as a user pointer.
    fn ioctl(file: &OpenFile<'_, Self>, cmd: u32, arg: UserPtr, compat: bool) -> Result<i64>;

    /// Maps the file range at `pos` (bytes) for iomap; with `IOMAP_WRITE`
    /// in `flags` (a write or a write fault), holes get blocks.
    fn iomap_begin(inode: &Inode<Self>, pos: i64, len: i64, flags: u32) -> Result<Mapping>;
    /// Whether a mapping made under `cookie` still holds (`iomap_valid`,
    /// asked with the folio locked).
    fn iomap_valid(inode: &Inode<Self>, cookie: u64) -> bool;
    /// The blocks writeback writes the dirty data at `pos` to (no
    /// allocation: a write placed them), as far as `len` bytes.
    fn writeback_map(inode: &Inode<Self>, pos: i64, len: i64) -> Result<Mapping>;
    /// The queue an ioend of `inode` at `pos..pos + size` goes to when its
    /// I/O completes, if it needs the file system then (`None`: iomap ends
    /// it alone).
    fn ioend_queue(inode: &Inode<Self>, pos: i64, size: u64, unwritten: bool) -> Option<&WbQueue>;
    /// The I/O of a queued ioend completed with `io`: the file system's
    /// part of the completion. An error fails the folios' writeback.
    fn ioend_done(inode: &Inode<Self>, pos: i64, size: u64, unwritten: bool, io: Result) -> Result;

    /// Value of the xattr `prefix`+`name` into `buf` (or its size when `buf`
    /// is empty); `ENODATA` when absent.
    fn getxattr(inode: &Inode<Self>, index: u8, name: &[u8], buf: &mut [u8]) -> Result<usize>;
    /// The access (or, with `default`, the default) POSIX ACL; `None` if
    /// the inode has none.
    fn get_acl(inode: &Inode<Self>, default: bool) -> Result<Option<acl::PosixAcl>>;
    /// All xattr names, NUL-separated, into `buf` (or their size when empty).
    fn listxattr(inode: &Inode<Self>, buf: &mut [u8]) -> Result<usize>;
    /// Sets (or with `None` removes) the xattr of name index `index` and
    /// `name`; `flags` are `XATTR_CREATE` / `XATTR_REPLACE`.
    fn setxattr(
        inode: &Inode<Self>,
        index: u8,
        name: &[u8],
        value: Option<&[u8]>,
        flags: i32,
    ) -> Result;
    /// Stores (or with `None` removes) the access or default POSIX ACL,
    /// and the new mode an access ACL gives the inode, in one transaction.
    fn set_acl(
        inode: &Inode<Self>,
        acl: Option<&acl::AclRef>,
        default: bool,
        mode: Option<u16>,
    ) -> Result;

    // The write path (read-write mounts only; the VFS refuses these calls
    // on a read-only mount before they get here).

    /// Creates `name` in `dir` (`create`, `mkdir`, `mknod`, `symlink`)
    /// with the ACLs it inherits, and returns its inode for the VFS to
    /// attach to the dentry.
    fn create(
        dir: &Inode<Self>,
        name: &[u8],
        owner: NewOwner,
        acls: acl::NewAcls,
        what: NewKind<'_>,
    ) -> Result<ARef<Inode<Self>>>;
    /// A new name `name` in `dir` for `old`.
    fn link(old: &Inode<Self>, dir: &Inode<Self>, name: &[u8]) -> Result;
    /// Removes `name` (naming `victim`) from `dir`: `unlink`, or `rmdir`
    /// when `is_dir`.
    fn unlink(dir: &Inode<Self>, name: &[u8], victim: &Inode<Self>, is_dir: bool) -> Result;
    /// Moves `oname` in `odir` (naming `victim`) to `nname` in `ndir`,
    /// replacing `target` if it exists; `flags` are `RENAME_*`. With
    /// `RENAME_WHITEOUT`, `whiteout` is the owner of the whiteout (a
    /// character device 0:0) left at the old name.
    fn rename(
        old: (&Inode<Self>, &[u8]),
        new: (&Inode<Self>, &[u8]),
        victim: &Inode<Self>,
        target: Option<&Inode<Self>>,
        flags: u32,
        whiteout: Option<NewOwner>,
    ) -> Result;
    /// A size change requested by `setattr` (before the VFS copies the
    /// other attributes in).
    fn set_size(inode: &Inode<Self>, size: i64) -> Result;
    /// Writes the inode's mode, owner and times as the VFS holds them to
    /// disk (`setattr`, and `dirty_inode` after an atime or time update).
    fn write_inode(inode: &Inode<Self>) -> Result;
    /// The inode is being evicted; at link count 0 its space is freed.
    fn evict(inode: &Inode<Self>);
    /// `fsync`/`fdatasync`: what changed the inode is made durable.
    fn fsync(inode: &Inode<Self>) -> Result;
    /// `syncfs`, `sync` and unmount: everything is made durable.
    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result;
    /// The last step of unmount, after every inode is evicted.
    fn put_super(sb: &SuperBlock<Self>, unmounting: &super_block::Unmounting);
}

/// The owner and permission bits of an inode being created, as the VFS,
/// the directory (set-group-ID) and the caller's credentials give them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NewOwner {
    /// Permission bits, with the umask applied.
    pub(crate) perm: u16,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// What kind of inode a create makes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NewKind<'a> {
    Reg,
    Dir,
    Fifo,
    Socket,
    Char(u32, u32),
    Block(u32, u32),
    Symlink(&'a [u8]),
}

/// The current time (coarse wall clock, as `current_time()` uses).
pub(crate) fn now() -> (i64, u32) {
    let (mut sec, mut nsec) = (0i64, 0u32);
    // SAFETY: writes two integers.
    unsafe { crate::bindings::rext4_now(&mut sec, &mut nsec) };
    (sec, nsec)
}

/// A random 32-bit value (inode generation numbers).
pub(crate) fn random_u32() -> u32 {
    // SAFETY: no preconditions.
    unsafe { crate::bindings::rext4_random_u32() }
}

use kernel::sync::aref::ARef;

/// Whether a rate-limited report may be printed now (one budget shared by
/// every rext4 corruption report).
/// Whether the current task may allocate from the root reserve
/// (`ext4_has_free_clusters()` with the default `resuid`/`resgid` of 0):
/// root's fsuid, or `CAP_SYS_RESOURCE`.
pub(crate) fn may_use_reserve() -> bool {
    // SAFETY: no preconditions; reads the current task's credentials.
    unsafe { crate::bindings::rext4_may_use_reserve() }
}

pub(crate) fn ratelimit() -> bool {
    // SAFETY: no preconditions; `__ratelimit` on a static state.
    unsafe { crate::bindings::rext4_ratelimit() }
}

/// Yields the CPU if needed, then tells whether the current task has a
/// fatal signal pending; loops over many blocks stop with `ERESTARTSYS`.
pub(crate) fn should_stop() -> bool {
    // SAFETY: no preconditions; runs in process context like every caller.
    unsafe { crate::bindings::rext4_should_stop() }
}
