// SPDX-License-Identifier: GPL-2.0

//! The operation tables the VFS and iomap call, built from a [`FileSystem`].
//!
//! C headers: [`include/linux/fs.h`], [`include/linux/iomap.h`],
//! [`include/linux/xattr.h`]
//!
//! One `Ops` value per file system type lives in a promoted constant
//! (`Tables::<T>::OPS`, reached through [`ops`] so that it is `'static`).
//! Every callback is a trampoline named after the C member it fills: it turns
//! the raw arguments into the typed wrappers of this module, calls `T`, and
//! turns the `Result` back into what C expects.

use core::{ffi::c_int, marker::PhantomData, ptr};
use kernel::ffi::{c_char, c_long, c_uint, c_ulong};
use kernel::uaccess::UserPtr;
use kernel::{prelude::*, str::CStr, sync::aref::ARef, types::ForeignOwnable};

use super::{
    fs_context, inode, DirEmitter, FileSystem, Inode, Mapping, MappingKind, OpenFile, SeqFile,
    SuperBlock,
};
use crate::bindings;

/// Every table a super block of one file system type points to.
pub(crate) struct Ops {
    pub(crate) fc_ops: bindings::fs_context_operations,
    pub(crate) super_ops: bindings::super_operations,
    pub(crate) dir_iops: bindings::inode_operations,
    pub(crate) dir_fops: bindings::file_operations,
    pub(crate) file_iops: bindings::inode_operations,
    pub(crate) file_fops: bindings::file_operations,
    pub(crate) aops: bindings::address_space_operations,
    pub(crate) fast_symlink_iops: bindings::inode_operations,
    pub(crate) symlink_iops: bindings::inode_operations,
    pub(crate) special_iops: bindings::inode_operations,
    /// Lookup-only mappings: read, readahead, FIEMAP, SEEK_HOLE/DATA, bmap.
    pub(crate) iomap_read: bindings::iomap_ops,
    /// Mappings for writes, write faults and zeroing: holes get blocks.
    pub(crate) iomap_write: bindings::iomap_ops,
    pub(crate) write_ops: bindings::iomap_write_ops,
    pub(crate) wb_ops: bindings::iomap_writeback_ops,
    pub(crate) vm_ops: bindings::vm_operations_struct,
    pub(crate) xattr_user: bindings::xattr_handler,
    pub(crate) xattr_trusted: bindings::xattr_handler,
    pub(crate) xattr_security: bindings::xattr_handler,
}

/// The NULL-terminated handler array of `sb->s_xattr`.
pub(crate) struct XattrHandlers(pub(crate) [*const bindings::xattr_handler; 4]);

pub(crate) struct Tables<T: FileSystem>(PhantomData<T>);

/// The tables of `T`, as a `'static` reference (a promoted constant).
pub(crate) fn ops<T: FileSystem>() -> &'static Ops {
    &Tables::<T>::OPS
}

/// The xattr handlers of `T`, as a `'static` reference.
pub(crate) fn xattr_handlers<T: FileSystem>() -> &'static XattrHandlers {
    &Tables::<T>::XATTR_HANDLERS
}

macro_rules! zeroed {
    () => {
        // SAFETY: all-zeroes is a valid value of every C operations table:
        // NULL pointers and `None` callbacks, which the VFS treats as absent.
        unsafe { core::mem::zeroed() }
    };
}

const fn xattr_handler<T: FileSystem>(prefix: &'static CStr, index: u8) -> bindings::xattr_handler {
    bindings::xattr_handler {
        // `as_char_ptr` is not `const`; `as_ptr` is the same pointer.
        #[allow(clippy::disallowed_methods)]
        prefix: prefix.as_ptr().cast(),
        flags: index as i32,
        get: Some(xattr_get::<T>),
        set: Some(xattr_set::<T>),
        ..zeroed!()
    }
}

impl<T: FileSystem> Tables<T> {
    pub(crate) const OPS: Ops = Ops {
        fc_ops: bindings::fs_context_operations {
            free: Some(fs_context::free::<T>),
            parse_param: Some(fs_context::parse_param::<T>),
            get_tree: Some(fs_context::get_tree::<T>),
            reconfigure: Some(fs_context::reconfigure::<T>),
            ..zeroed!()
        },
        super_ops: bindings::super_operations {
            alloc_inode: Some(inode::alloc_inode::<T>),
            free_inode: Some(inode::free_inode::<T>),
            statfs: Some(statfs::<T>),
            show_options: Some(show_options::<T>),
            evict_inode: Some(evict_inode::<T>),
            put_super: Some(put_super::<T>),
            sync_fs: Some(sync_fs::<T>),
            dirty_inode: Some(dirty_inode::<T>),
            ..zeroed!()
        },
        dir_iops: bindings::inode_operations {
            lookup: Some(lookup::<T>),
            create: Some(create::<T>),
            mkdir: Some(mkdir::<T>),
            mknod: Some(mknod::<T>),
            symlink: Some(symlink::<T>),
            link: Some(link::<T>),
            unlink: Some(unlink::<T>),
            rmdir: Some(rmdir::<T>),
            rename: Some(rename::<T>),
            setattr: Some(setattr::<T>),
            getattr: Some(getattr::<T>),
            fileattr_get: Some(fileattr_get::<T>),
            listxattr: Some(listxattr::<T>),
            get_inode_acl: Some(get_inode_acl::<T>),
            set_acl: Some(set_acl::<T>),
            ..zeroed!()
        },
        dir_fops: bindings::file_operations {
            open: Some(dir_open::<T>),
            release: Some(dir_release::<T>),
            llseek: Some(dir_llseek::<T>),
            read: Some(bindings::generic_read_dir),
            iterate_shared: Some(iterate_shared::<T>),
            fsync: Some(fsync::<T>),
            unlocked_ioctl: Some(unlocked_ioctl::<T>),
            compat_ioctl: Some(compat_ioctl::<T>),
            ..zeroed!()
        },
        file_iops: bindings::inode_operations {
            getattr: Some(getattr::<T>),
            setattr: Some(setattr::<T>),
            fileattr_get: Some(fileattr_get::<T>),
            listxattr: Some(listxattr::<T>),
            get_inode_acl: Some(get_inode_acl::<T>),
            set_acl: Some(set_acl::<T>),
            fiemap: Some(fiemap::<T>),
            ..zeroed!()
        },
        file_fops: bindings::file_operations {
            open: Some(file_open::<T>),
            llseek: Some(llseek::<T>),
            read_iter: Some(read_iter::<T>),
            write_iter: Some(write_iter::<T>),
            fsync: Some(fsync::<T>),
            mmap_prepare: Some(mmap_prepare::<T>),
            splice_read: Some(splice_read::<T>),
            splice_write: Some(bindings::iter_file_splice_write),
            unlocked_ioctl: Some(unlocked_ioctl::<T>),
            compat_ioctl: Some(compat_ioctl::<T>),
            ..zeroed!()
        },
        aops: bindings::address_space_operations {
            read_folio: Some(read_folio::<T>),
            readahead: Some(readahead::<T>),
            bmap: Some(bmap::<T>),
            writepages: Some(writepages::<T>),
            dirty_folio: Some(bindings::iomap_dirty_folio),
            invalidate_folio: Some(bindings::iomap_invalidate_folio),
            release_folio: Some(bindings::iomap_release_folio),
            migrate_folio: Some(bindings::filemap_migrate_folio),
            is_partially_uptodate: Some(bindings::iomap_is_partially_uptodate),
            error_remove_folio: Some(bindings::generic_error_remove_folio),
            ..zeroed!()
        },
        fast_symlink_iops: bindings::inode_operations {
            get_link: Some(bindings::simple_get_link),
            getattr: Some(getattr::<T>),
            setattr: Some(setattr::<T>),
            listxattr: Some(listxattr::<T>),
            get_inode_acl: Some(get_inode_acl::<T>),
            ..zeroed!()
        },
        symlink_iops: bindings::inode_operations {
            get_link: Some(get_link::<T>),
            getattr: Some(getattr::<T>),
            setattr: Some(setattr::<T>),
            listxattr: Some(listxattr::<T>),
            get_inode_acl: Some(get_inode_acl::<T>),
            ..zeroed!()
        },
        special_iops: bindings::inode_operations {
            getattr: Some(getattr::<T>),
            setattr: Some(setattr::<T>),
            listxattr: Some(listxattr::<T>),
            get_inode_acl: Some(get_inode_acl::<T>),
            set_acl: Some(set_acl::<T>),
            ..zeroed!()
        },
        iomap_read: bindings::iomap_ops {
            iomap_begin: Some(iomap_begin::<T>),
            ..zeroed!()
        },
        iomap_write: bindings::iomap_ops {
            iomap_begin: Some(iomap_begin::<T>),
            ..zeroed!()
        },
        write_ops: bindings::iomap_write_ops {
            iomap_valid: Some(iomap_valid::<T>),
            ..zeroed!()
        },
        wb_ops: bindings::iomap_writeback_ops {
            writeback_range: Some(writeback_range::<T>),
            writeback_submit: Some(writeback_submit::<T>),
        },
        vm_ops: bindings::vm_operations_struct {
            fault: Some(bindings::filemap_fault),
            map_pages: Some(bindings::filemap_map_pages),
            page_mkwrite: Some(page_mkwrite::<T>),
            ..zeroed!()
        },
        xattr_user: xattr_handler::<T>(c"user.", super::xattr::index::USER),
        xattr_trusted: xattr_handler::<T>(c"trusted.", super::xattr::index::TRUSTED),
        xattr_security: xattr_handler::<T>(c"security.", super::xattr::index::SECURITY),
    };

    pub(crate) const XATTR_HANDLERS: XattrHandlers = XattrHandlers([
        &Self::OPS.xattr_user,
        &Self::OPS.xattr_trusted,
        &Self::OPS.xattr_security,
        ptr::null(),
    ]);
}

fn errno_ptr<U>(e: Error) -> *mut U {
    // An `ERR_PTR`: errnos are small negative numbers, at the top of the
    // address space.
    e.to_errno() as isize as *mut U
}

/// The inode of a dentry the VFS passes to a callback.
///
/// # Safety
///
/// `dentry` must be a live, positive dentry of a `T` super block.
unsafe fn dentry_inode<'a, T: FileSystem>(dentry: *mut bindings::dentry) -> &'a Inode<T> {
    // SAFETY: a positive dentry's `d_inode` is a live inode of its super block.
    unsafe { Inode::from_raw((*dentry).d_inode) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn statfs<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buf: *mut bindings::kstatfs,
) -> c_int {
    // SAFETY: the VFS passes a live dentry of a mounted `T` super block.
    let sb = unsafe { SuperBlock::<T>::from_raw((*dentry).d_sb) };
    match T::statfs(sb) {
        Ok(st) => {
            // SAFETY: `buf` is a valid `kstatfs` to fill.
            unsafe {
                (*buf).f_type = st.magic as c_long;
                (*buf).f_bsize = st.bsize as c_long;
                (*buf).f_frsize = st.bsize as c_long;
                (*buf).f_blocks = st.blocks;
                (*buf).f_bfree = st.bfree;
                (*buf).f_bavail = st.bavail;
                (*buf).f_files = st.files;
                (*buf).f_ffree = st.ffree;
                (*buf).f_namelen = st.namelen as c_long;
                (*buf).f_fsid.val = [st.fsid as u32 as i32, (st.fsid >> 32) as u32 as i32];
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn show_options<T: FileSystem>(
    m: *mut bindings::seq_file,
    root: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS passes the root dentry of a mounted `T` super block and
    // the seq_file it is filling.
    let (sb, seq) = unsafe { (SuperBlock::<T>::from_raw((*root).d_sb), SeqFile::new(m)) };
    match T::show_options(sb, &seq) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn lookup<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    _flags: u32,
) -> *mut bindings::dentry {
    // SAFETY: the VFS passes a live directory inode of ours and a dentry whose
    // name stays stable during the call (the parent is locked).
    let (dir, name) = unsafe {
        let mut len = 0u32;
        let p = bindings::rext4_dentry_name(dentry, &mut len);
        (
            Inode::<T>::from_raw(dir),
            core::slice::from_raw_parts(p, len as usize),
        )
    };
    let inode = match T::lookup(dir, name) {
        Ok(Some(i)) => ARef::into_raw(i).as_ptr().cast::<bindings::inode>(),
        Ok(None) => ptr::null_mut(),
        Err(e) => return errno_ptr(e),
    };
    // SAFETY: `d_splice_alias` takes over our inode reference (or NULL for a
    // negative entry) and returns the dentry to use, NULL, or an ERR_PTR.
    unsafe { bindings::d_splice_alias(inode, dentry) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn iterate_shared<T: FileSystem>(
    file: *mut bindings::file,
    ctx: *mut bindings::dir_context,
) -> c_int {
    // SAFETY: the VFS passes an open directory of ours and its live context;
    // its cursor was installed by `dir_open` and lives until `dir_release`,
    // which cannot run during this call.
    let (dir, cursor, mut emitter) = unsafe {
        (
            Inode::<T>::from_raw(bindings::rext4_file_inode(file)),
            dir_cursor::<T>(file),
            DirEmitter::new(file, ctx),
        )
    };
    match T::readdir(dir, &cursor, &mut emitter) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The cursor `dir_open` put in an open directory.
///
/// # Safety
///
/// `file` must be an open directory of ours, between `dir_open` and
/// `dir_release`, for the returned lifetime.
unsafe fn dir_cursor<'a, T: FileSystem>(file: *mut bindings::file) -> Pin<&'a T::DirCursor> {
    // SAFETY: `private_data` holds what `dir_open` made with `into_foreign`;
    // `dir_release` frees it only after every other callback returned.
    unsafe {
        <Pin<KBox<T::DirCursor>> as ForeignOwnable>::borrow(bindings::rext4_file_private(file))
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn dir_open<T: FileSystem>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    match KBox::pin_init(T::new_dir_cursor(), GFP_KERNEL) {
        Ok(cursor) => {
            // SAFETY: the file is being opened and not yet shared; the
            // pointer is taken back in `dir_release`.
            unsafe { bindings::rext4_file_set_private(file, cursor.into_foreign()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn dir_release<T: FileSystem>(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `release` is the last callback on the file; `private_data` is
    // what `dir_open` stored (it succeeded, or there is no release).
    unsafe {
        let p = bindings::rext4_file_private(file);
        if !p.is_null() {
            drop(<Pin<KBox<T::DirCursor>> as ForeignOwnable>::from_foreign(p));
            bindings::rext4_file_set_private(file, ptr::null_mut());
        }
    }
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn dir_llseek<T: FileSystem>(
    file: *mut bindings::file,
    offset: i64,
    whence: c_int,
) -> i64 {
    // SAFETY: the VFS passes an open directory of ours (with its cursor, as
    // in `iterate_shared`).
    unsafe {
        let dir = Inode::<T>::from_raw(bindings::rext4_file_inode(file));
        let cursor = dir_cursor::<T>(file);
        match T::dir_llseek(dir, &cursor, super::dir::cookies_32bit(file)) {
            Some(max) => bindings::generic_file_llseek_size(file, offset, whence, max, max),
            None => bindings::generic_file_llseek(file, offset, whence),
        }
    }
}

/// The ioctl `cmd` on `file` for [`FileSystem::ioctl`].
///
/// # Safety
///
/// `file` is an open file or directory of ours (the VFS contract of the
/// ioctl callbacks).
unsafe fn ioctl<T: FileSystem>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
    compat: bool,
) -> c_long {
    // SAFETY: by the function's contract; the file stays open for the call.
    let file = unsafe { OpenFile::<T>::from_raw(file) };
    // On x86-64, where rext4 runs, `compat_ptr()` is the zero-extended
    // 32-bit value the VFS already passes as `arg`.
    let arg = UserPtr::from_addr(arg);
    match T::ioctl(&file, cmd, arg, compat) {
        Ok(v) => v as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn unlocked_ioctl<T: FileSystem>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: the VFS passes an open file of ours.
    unsafe { ioctl::<T>(file, cmd, arg, false) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn compat_ioctl<T: FileSystem>(
    file: *mut bindings::file,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: the VFS passes an open file of ours.
    unsafe { ioctl::<T>(file, cmd, arg, true) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn getattr<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    path: *const bindings::path,
    stat: *mut bindings::kstat,
    request_mask: u32,
    _query_flags: u32,
) -> c_int {
    // SAFETY: the VFS passes a valid path to one of our inodes and a `kstat`
    // to fill.
    unsafe {
        let inode = dentry_inode::<T>((*path).dentry);
        let (set, mask) = T::statx_attributes(inode).bits();
        (*stat).attributes |= set;
        (*stat).attributes_mask |= mask;
        if request_mask & bindings::STATX_DIOALIGN != 0 && inode.is_reg() {
            bindings::rext4_stat_dioalign(inode.as_raw(), stat);
        }
        bindings::generic_fillattr(idmap, request_mask, inode.as_raw(), stat);
        if let Some((sec, nsec)) = T::btime(inode) {
            (*stat).btime.tv_sec = sec;
            (*stat).btime.tv_nsec = nsec as c_long;
            (*stat).result_mask |= bindings::STATX_BTIME;
        }
    }
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn fileattr_get<T: FileSystem>(
    dentry: *mut bindings::dentry,
    fa: *mut bindings::file_kattr,
) -> c_int {
    // SAFETY: the VFS passes a positive dentry of ours and a zeroed
    // `file_kattr` to fill.
    unsafe {
        let attr = T::fileattr(dentry_inode::<T>(dentry));
        bindings::fileattr_fill_flags(fa, attr.flags);
        (*fa).fsx_projid = attr.projid;
    }
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn listxattr<T: FileSystem>(
    dentry: *mut bindings::dentry,
    buf: *mut u8,
    size: usize,
) -> isize {
    // SAFETY: the VFS passes a positive dentry of ours, and `buf` valid for
    // `size` bytes when `size` is non-zero.
    let (inode, out) = unsafe {
        let out: &mut [u8] = if size == 0 || buf.is_null() {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(buf, size)
        };
        (dentry_inode::<T>(dentry), out)
    };
    match T::listxattr(inode, out) {
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn get_inode_acl<T: FileSystem>(
    inode: *mut bindings::inode,
    ty: c_int,
    rcu: bool,
) -> *mut bindings::posix_acl {
    // Reading the ACL may sleep: not in RCU path walk.
    if rcu {
        return errno_ptr(ECHILD);
    }
    let default = match ty {
        super::acl::ACL_TYPE_ACCESS => false,
        super::acl::ACL_TYPE_DEFAULT => true,
        _ => return errno_ptr(EINVAL),
    };
    // SAFETY: the VFS passes a live inode of ours.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    match T::get_acl(inode, default) {
        Ok(Some(acl)) => acl.into_raw(),
        Ok(None) => ptr::null_mut(),
        Err(e) => errno_ptr(e),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn xattr_get<T: FileSystem>(
    handler: *const bindings::xattr_handler,
    _dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const u8,
    buffer: *mut core::ffi::c_void,
    size: usize,
) -> c_int {
    // SAFETY: the VFS passes one of our handlers, a live inode of ours, the
    // name after the prefix as a C string, and `buffer` valid for `size` bytes
    // when `size` is non-zero.
    let (index, inode, name, out) = unsafe {
        let out: &mut [u8] = if size == 0 || buffer.is_null() {
            &mut []
        } else {
            core::slice::from_raw_parts_mut(buffer.cast(), size)
        };
        (
            (*handler).flags as u8,
            Inode::<T>::from_raw(inode),
            CStr::from_char_ptr(name.cast()).to_bytes(),
            out,
        )
    };
    match T::getxattr(inode, index, name, out) {
        Ok(n) => i32::try_from(n).unwrap_or(i32::MAX),
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn xattr_set<T: FileSystem>(
    handler: *const bindings::xattr_handler,
    _idmap: *mut bindings::mnt_idmap,
    _dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    name: *const u8,
    value: *const core::ffi::c_void,
    size: usize,
    flags: c_int,
) -> c_int {
    // SAFETY: the VFS passes one of our handlers, a live inode of ours
    // whose `i_rwsem` it holds, the name after the prefix as a C string,
    // and `value` valid for `size` bytes, or NULL for a removal (it has
    // checked the permissions and the size limit).
    let (index, inode, name, value) = unsafe {
        let value: Option<&[u8]> = match (value.is_null(), size) {
            (true, _) => None,
            (false, 0) => Some(&[]),
            (false, n) => Some(core::slice::from_raw_parts(value.cast(), n)),
        };
        (
            (*handler).flags as u8,
            Inode::<T>::from_raw(inode),
            CStr::from_char_ptr(name.cast()).to_bytes(),
            value,
        )
    };
    errno(T::setxattr(inode, index, name, value, flags))
}

/// `ext4_set_acl()`: an access ACL may change the mode
/// (`posix_acl_update_mode()`, which drops an ACL the mode says all of);
/// a default ACL exists only on directories. The ACL is the caller's.
///
/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn set_acl<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    acl: *mut bindings::posix_acl,
    kind: c_int,
) -> c_int {
    let default = match kind {
        super::acl::ACL_TYPE_ACCESS => false,
        super::acl::ACL_TYPE_DEFAULT => true,
        _ => return EINVAL.to_errno(),
    };
    // SAFETY: the VFS passes a positive dentry whose inode it has locked,
    // and an ACL it holds a reference to (or NULL to remove it).
    unsafe {
        let inode = dentry_inode::<T>(dentry);
        let old_mode = inode.mode();
        let mut mode = old_mode;
        let mut acl = acl;
        if default && old_mode & 0o170000 != 0o040000 {
            return if acl.is_null() { 0 } else { EACCES.to_errno() };
        }
        if !default && !acl.is_null() {
            let e = bindings::posix_acl_update_mode(idmap, inode.as_raw(), &mut mode, &mut acl);
            if e != 0 {
                return e;
            }
        }
        let view = super::acl::AclRef::borrowed(acl);
        let new_mode = (mode != old_mode).then_some(mode);
        if let Err(e) = T::set_acl(inode, view.as_ref(), default, new_mode) {
            return e.to_errno();
        }
        bindings::set_cached_acl(inode.as_raw(), kind, acl);
        0
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn iomap_begin<T: FileSystem>(
    inode: *mut bindings::inode,
    pos: i64,
    length: i64,
    flags: u32,
    iomap: *mut bindings::iomap,
    _srcmap: *mut bindings::iomap,
) -> c_int {
    // SAFETY: iomap passes a live inode of ours.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    match T::iomap_begin(inode, pos, length, flags) {
        // SAFETY: `iomap` is the iterator's mapping for us to fill.
        Ok(m) => unsafe { fill_iomap(inode, iomap, &m) },
        Err(e) => e.to_errno(),
    }
}

/// Fills iomap's `struct iomap` from a mapping of `inode`.
///
/// # Safety
///
/// `iomap` must be a mapping iomap handed us to fill.
unsafe fn fill_iomap<T: FileSystem>(
    inode: &Inode<T>,
    iomap: *mut bindings::iomap,
    m: &Mapping,
) -> c_int {
    let (ty, addr) = match m.kind {
        MappingKind::Hole => (bindings::IOMAP_HOLE, u64::MAX),
        MappingKind::Mapped(a) => (bindings::IOMAP_MAPPED, a),
        MappingKind::Unwritten(a) => (bindings::IOMAP_UNWRITTEN, a),
    };
    let mut flags = 0;
    if m.merged {
        flags |= bindings::IOMAP_F_MERGED;
    }
    if m.new {
        flags |= bindings::IOMAP_F_NEW;
    }
    // SAFETY: by the function's contract; `i_sb` of a live inode is live,
    // and its `s_bdev` is set for block file systems.
    unsafe {
        (*iomap).addr = addr;
        (*iomap).offset = m.offset;
        (*iomap).length = m.length;
        (*iomap).type_ = ty as u16;
        (*iomap).flags = flags as u16;
        (*iomap).bdev = (*(*inode.as_raw()).i_sb).s_bdev;
        (*iomap).validity_cookie = m.cookie;
    }
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn iomap_valid<T: FileSystem>(
    inode: *mut bindings::inode,
    iomap: *const bindings::iomap,
) -> bool {
    // SAFETY: iomap passes a live inode of ours and the mapping it holds.
    unsafe { T::iomap_valid(Inode::<T>::from_raw(inode), (*iomap).validity_cookie) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn writeback_range<T: FileSystem>(
    wpc: *mut bindings::iomap_writepage_ctx,
    folio: *mut bindings::folio,
    pos: u64,
    len: c_uint,
    end_pos: u64,
) -> isize {
    // SAFETY: iomap passes its writeback context for one of our inodes,
    // with the folio locked under writeback; the cached mapping in it is
    // ours to reuse or replace.
    unsafe {
        let inode = Inode::<T>::from_raw(bindings::rext4_wpc_inode(wpc));
        let iomap = bindings::rext4_wpc_iomap(wpc);
        let Ok(p) = i64::try_from(pos) else {
            return EIO.to_errno() as isize;
        };
        let cached = p >= (*iomap).offset
            && (pos - (*iomap).offset as u64) < (*iomap).length
            && T::iomap_valid(inode, (*iomap).validity_cookie);
        if !cached {
            // As far as the folio's end, or the file's if that is further:
            // one mapping serves a run of folios over one extent.
            let want = (end_pos.max(inode.size() as u64))
                .saturating_sub(pos)
                .max(len.into());
            let m = match T::writeback_map(inode, p, want as i64) {
                Ok(m) => m,
                Err(e) => return e.to_errno() as isize,
            };
            fill_iomap(inode, iomap, &m);
        }
        bindings::iomap_add_to_ioend(wpc, folio, p, end_pos as i64, len)
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn writeback_submit<T: FileSystem>(
    wpc: *mut bindings::iomap_writepage_ctx,
    error: c_int,
) -> c_int {
    // SAFETY: iomap passes its writeback context with an ioend built.
    unsafe {
        let inode = Inode::<T>::from_raw(bindings::rext4_wpc_inode(wpc));
        let (mut pos, mut size, mut unwritten) = (0i64, 0u64, false);
        let q = match bindings::rext4_wpc_pending(wpc, &mut pos, &mut size, &mut unwritten) {
            true => {
                T::ioend_queue(inode, pos, size, unwritten).map_or(ptr::null_mut(), |q| q.as_raw())
            }
            false => ptr::null_mut(),
        };
        bindings::rext4_ioend_submit(wpc, error, q)
    }
}

/// The completion of a queued ioend, called by the queue's work item.
///
/// # Safety
///
/// Called only by a [`super::WbQueue`] of a `T` mount, for an inode of
/// ours under writeback (it stays live until the ioend ends).
pub(crate) unsafe extern "C" fn ioend_done<T: FileSystem>(
    inode: *mut bindings::inode,
    pos: i64,
    size: u64,
    unwritten: bool,
    err: c_int,
) -> c_int {
    // SAFETY: by the function's contract.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    let io = match err {
        0 => Ok(()),
        e => Err(Error::from_errno(e)),
    };
    errno(T::ioend_done(inode, pos, size, unwritten, io))
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn writepages<T: FileSystem>(
    mapping: *mut bindings::address_space,
    wbc: *mut bindings::writeback_control,
) -> c_int {
    // SAFETY: the VFS passes the mapping of one of our regular files.
    unsafe { bindings::rext4_writepages(mapping, wbc, &ops::<T>().wb_ops) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn write_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    from: *mut bindings::iov_iter,
) -> isize {
    let ops = ops::<T>();
    // SAFETY: the VFS passes a live kiocb on a regular file of ours open
    // for writing, under freeze protection, and the source iterator.
    unsafe {
        if shut_down::<T>((*iocb).ki_filp) {
            return EIO.to_errno() as isize;
        }
        bindings::rext4_buffered_write_iter(iocb, from, &ops.iomap_write, &ops.write_ops)
    }
}

/// Whether the file system of open file `file` was shut down.
///
/// # Safety
///
/// `file` must be an open file of a `T` file system.
unsafe fn shut_down<T: FileSystem>(file: *mut bindings::file) -> bool {
    // SAFETY: an open file's inode lives at least as long as the file.
    let inode = unsafe { Inode::<T>::from_raw(bindings::rext4_file_inode(file)) };
    T::shut_down(inode.sb())
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn splice_read<T: FileSystem>(
    file: *mut bindings::file,
    pos: *mut i64,
    pipe: *mut bindings::pipe_inode_info,
    len: usize,
    flags: c_uint,
) -> isize {
    // SAFETY: the VFS passes an open file of ours, its position, a pipe
    // and the length to move.
    unsafe {
        if shut_down::<T>(file) {
            return EIO.to_errno() as isize;
        }
        bindings::filemap_splice_read(file, pos, pipe, len, flags)
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn mmap_prepare<T: FileSystem>(desc: *mut bindings::vm_area_desc) -> c_int {
    // SAFETY: the VFS passes the description of a mapping of our file.
    unsafe {
        if shut_down::<T>((*desc).file) {
            return EIO.to_errno();
        }
        bindings::rext4_mmap_prepare(desc, &ops::<T>().vm_ops)
    }
}

/// Opening a regular file (`ext4_file_open()`): `EIO` after a shutdown.
///
/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn file_open<T: FileSystem>(
    inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: the VFS passes a live inode of ours and the file being opened.
    unsafe {
        if T::shut_down(Inode::<T>::from_raw(inode).sb()) {
            return EIO.to_errno();
        }
        bindings::rext4_file_open(inode, file)
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn page_mkwrite<T: FileSystem>(
    vmf: *mut bindings::vm_fault,
) -> bindings::vm_fault_t {
    // SAFETY: the fault handler passes a write fault on a shared mapping
    // of one of our files.
    // After a shutdown a fault over mapped blocks still succeeds (as
    // ext4's: the data goes nowhere, writeback drops it); one that needs
    // blocks fails in iomap_begin's transaction (SIGBUS).
    unsafe { bindings::rext4_page_mkwrite(vmf, &ops::<T>().iomap_write) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn read_folio<T: FileSystem>(
    _file: *mut bindings::file,
    folio: *mut bindings::folio,
) -> c_int {
    // SAFETY: the page cache passes a locked folio of one of our inodes; iomap
    // unlocks it when the read completes.
    unsafe { bindings::rext4_iomap_bio_read_folio(folio, &ops::<T>().iomap_read) };
    0
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn readahead<T: FileSystem>(rac: *mut bindings::readahead_control) {
    // SAFETY: the page cache passes a live readahead request for our inode.
    unsafe { bindings::rext4_iomap_bio_readahead(rac, &ops::<T>().iomap_read) };
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn bmap<T: FileSystem>(mapping: *mut bindings::address_space, block: u64) -> u64 {
    // SAFETY: the VFS passes the mapping of one of our regular files.
    unsafe { bindings::iomap_bmap(mapping, block, &ops::<T>().iomap_read) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn fiemap<T: FileSystem>(
    inode: *mut bindings::inode,
    fieinfo: *mut bindings::fiemap_extent_info,
    start: u64,
    len: u64,
) -> c_int {
    // SAFETY: the VFS passes a live inode of ours and a valid request.
    unsafe { bindings::iomap_fiemap(inode, fieinfo, start, len, &ops::<T>().iomap_read) }
}

const SEEK_DATA: c_int = 3;
const SEEK_HOLE: c_int = 4;

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn read_iter<T: FileSystem>(
    iocb: *mut bindings::kiocb,
    to: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: the VFS passes a live kiocb on an open regular file of ours and
    // the destination iterator.
    unsafe {
        if shut_down::<T>((*iocb).ki_filp) {
            return EIO.to_errno() as isize;
        }
        if bindings::rext4_iocb_is_direct(iocb) {
            return bindings::rext4_dio_read_iter(iocb, to, &ops::<T>().iomap_read);
        }
        bindings::generic_file_read_iter(iocb, to)
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn llseek<T: FileSystem>(
    file: *mut bindings::file,
    offset: i64,
    whence: c_int,
) -> i64 {
    // SAFETY: the VFS passes an open file of ours.
    unsafe {
        let inode = bindings::rext4_file_inode(file);
        let pos = match whence {
            SEEK_DATA => bindings::iomap_seek_data(inode, offset, &ops::<T>().iomap_read),
            SEEK_HOLE => bindings::iomap_seek_hole(inode, offset, &ops::<T>().iomap_read),
            _ => return bindings::generic_file_llseek(file, offset, whence),
        };
        if pos < 0 {
            return pos;
        }
        bindings::vfs_setpos(file, pos, (*(*inode).i_sb).s_maxbytes)
    }
}

// The write path.

/// The name of a dentry the VFS passes with its parent locked.
///
/// # Safety
///
/// `dentry` must be live, its name stable for `'a` (the parent's
/// `i_rwsem` is held).
unsafe fn dentry_name<'a>(dentry: *mut bindings::dentry) -> &'a [u8] {
    // SAFETY: by the function's contract.
    unsafe {
        let mut len = 0u32;
        let p = bindings::rext4_dentry_name(dentry, &mut len);
        core::slice::from_raw_parts(p, len as usize)
    }
}

/// The owner and permission bits of a new inode in `dir` with `mode`
/// (`inode_init_owner()`, then the umask or default ACL of
/// `posix_acl_create()`), and the ACLs it inherits.
///
/// # Safety
///
/// `idmap` and `dir` are what the VFS passed to a create callback.
unsafe fn new_owner(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    mode: u16,
) -> Result<(super::NewOwner, super::acl::NewAcls)> {
    let (mut mode, mut uid, mut gid) = (mode, 0u32, 0u32);
    let (mut dacl, mut acl) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: by the function's contract; the helpers write the values,
    // and the two ACLs (NULL or a reference each) become ours.
    let acls = unsafe {
        bindings::rext4_new_owner(idmap, dir, &mut mode, &mut uid, &mut gid);
        kernel::error::to_result(bindings::rext4_acl_create(
            dir, &mut mode, &mut dacl, &mut acl,
        ))?;
        super::acl::NewAcls {
            default: super::acl::AclRef::owned(dacl),
            access: super::acl::AclRef::owned(acl),
        }
    };
    Ok((
        super::NewOwner {
            perm: mode & 0o7777,
            uid,
            gid,
        },
        acls,
    ))
}

/// Creates `dentry` in `dir` as `what` and attaches the new inode.
///
/// # Safety
///
/// The arguments of a VFS create callback (parent locked, dentry
/// negative).
unsafe fn create_as<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
    what: super::NewKind<'_>,
) -> Result {
    // SAFETY: by the function's contract.
    let (d, name, (owner, acls)) = unsafe {
        (
            Inode::<T>::from_raw(dir),
            dentry_name(dentry),
            new_owner(idmap, dir, mode)?,
        )
    };
    let inode = T::create(d, name, owner, acls, what)?;
    // SAFETY: `d_instantiate` takes over our reference to the new inode
    // and attaches it to the negative dentry the VFS holds.
    unsafe { bindings::d_instantiate(dentry, ARef::into_raw(inode).as_ptr().cast()) };
    Ok(())
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn create<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
) -> c_int {
    // SAFETY: the VFS's create contract.
    errno(unsafe { create_as::<T>(idmap, dir, dentry, mode, super::NewKind::Reg) })
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn mkdir<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
) -> *mut bindings::dentry {
    // SAFETY: the VFS's mkdir contract; NULL means "use `dentry`".
    match unsafe { create_as::<T>(idmap, dir, dentry, mode | 0o040000, super::NewKind::Dir) } {
        Ok(()) => ptr::null_mut(),
        Err(e) => errno_ptr(e),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn mknod<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    mode: u16,
    dev: u32,
) -> c_int {
    // The kernel's dev_t: 12 bits of major above 20 bits of minor.
    let (major, minor) = (dev >> 20, dev & 0xF_FFFF);
    let what = match mode & 0o170000 {
        0o010000 => super::NewKind::Fifo,
        0o140000 => super::NewKind::Socket,
        0o020000 => super::NewKind::Char(major, minor),
        0o060000 => super::NewKind::Block(major, minor),
        0o100000 => super::NewKind::Reg,
        _ => return EINVAL.to_errno(),
    };
    // SAFETY: the VFS's mknod contract.
    errno(unsafe { create_as::<T>(idmap, dir, dentry, mode, what) })
}

/// A slow symlink's target (`ext4_get_link()`): read through the buffer
/// cache, where a target just written through the journal already is, into
/// a buffer the VFS frees with `kfree_link()` when it is done with it.
///
/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn get_link<T: FileSystem>(
    dentry: *mut bindings::dentry,
    inode: *mut bindings::inode,
    done: *mut bindings::delayed_call,
) -> *const c_char {
    // An RCU walk (no dentry) may not sleep: the VFS retries with one.
    if dentry.is_null() {
        return errno_ptr(ECHILD);
    }
    // SAFETY: the VFS passes a live inode of this file system.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    match T::slow_link(inode) {
        Ok(v) => {
            let (p, _, _) = v.into_raw_parts();
            // SAFETY: `p` is a kmalloc'd, NUL-terminated buffer we give
            // away; `done` is the caller's delayed call, run once.
            unsafe { bindings::rext4_set_delayed_kfree(done, p.cast()) };
            p.cast::<c_char>().cast_const()
        }
        Err(e) => errno_ptr(e),
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn symlink<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    target: *const u8,
) -> c_int {
    // SAFETY: the VFS passes the target as a NUL-terminated kernel string
    // that lives for the call.
    let target = unsafe { CStr::from_char_ptr(target.cast()) }.to_bytes();
    // SAFETY: the VFS's symlink contract.
    errno(unsafe {
        create_as::<T>(
            idmap,
            dir,
            dentry,
            0o120777,
            super::NewKind::Symlink(target),
        )
    })
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn link<T: FileSystem>(
    old: *mut bindings::dentry,
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS passes a positive `old` (its inode locked), the
    // locked parent and a negative dentry in it.
    let (inode, d, name) = unsafe {
        (
            dentry_inode::<T>(old),
            Inode::<T>::from_raw(dir),
            dentry_name(dentry),
        )
    };
    match T::link(inode, d, name) {
        Ok(()) => {
            kernel::sync::aref::AlwaysRefCounted::inc_ref(inode);
            // SAFETY: `d_instantiate` takes over the reference just taken.
            unsafe { bindings::d_instantiate(dentry, inode.as_raw()) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Removes `dentry` from `dir` (`unlink`, or `rmdir` when `is_dir`).
///
/// # Safety
///
/// The VFS passes the locked parent and a positive dentry whose inode it
/// has locked too.
unsafe fn remove<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
    is_dir: bool,
) -> c_int {
    // SAFETY: by the function's contract.
    let (d, name, victim) = unsafe {
        (
            Inode::<T>::from_raw(dir),
            dentry_name(dentry),
            dentry_inode::<T>(dentry),
        )
    };
    errno(T::unlink(d, name, victim, is_dir))
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn unlink<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS's unlink contract is `remove`'s.
    unsafe { remove::<T>(dir, dentry, false) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn rmdir<T: FileSystem>(
    dir: *mut bindings::inode,
    dentry: *mut bindings::dentry,
) -> c_int {
    // SAFETY: the VFS's rmdir contract is `remove`'s.
    unsafe { remove::<T>(dir, dentry, true) }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn rename<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    odir: *mut bindings::inode,
    odentry: *mut bindings::dentry,
    ndir: *mut bindings::inode,
    ndentry: *mut bindings::dentry,
    flags: c_uint,
) -> c_int {
    // SAFETY: the VFS holds both parents locked (and the rename lock
    // across directories), `odentry` positive with its inode locked,
    // `ndentry` positive (inode locked) or negative.
    unsafe {
        let target = bindings::rext4_dentry_inode(ndentry);
        let target = (!target.is_null()).then(|| Inode::<T>::from_raw(target));
        // The whiteout's owner, as for a mknod in the old directory
        // (`WHITEOUT_MODE` is 0).
        let whiteout = match flags & bindings::RENAME_WHITEOUT != 0 {
            // A whiteout inherits no ACL (rext4 stores none for it).
            true => match new_owner(idmap, odir, 0o020000) {
                Ok((o, _)) => Some(o),
                Err(e) => return e.to_errno(),
            },
            false => None,
        };
        errno(T::rename(
            (Inode::<T>::from_raw(odir), dentry_name(odentry)),
            (Inode::<T>::from_raw(ndir), dentry_name(ndentry)),
            dentry_inode::<T>(odentry),
            target,
            flags,
            whiteout,
        ))
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn setattr<T: FileSystem>(
    idmap: *mut bindings::mnt_idmap,
    dentry: *mut bindings::dentry,
    attr: *mut bindings::iattr,
) -> c_int {
    // SAFETY: the VFS passes a positive dentry whose inode it has locked,
    // and the requested change.
    unsafe {
        let e = bindings::setattr_prepare(idmap, dentry, attr);
        if e != 0 {
            return e;
        }
        let inode = dentry_inode::<T>(dentry);
        if (*attr).ia_valid & bindings::ATTR_SIZE != 0 {
            if let Err(e) = T::set_size(inode, (*attr).ia_size) {
                return e.to_errno();
            }
        }
        bindings::setattr_copy(idmap, inode.as_raw(), attr);
        if let Err(e) = T::write_inode(inode) {
            return e.to_errno();
        }
        // The access ACL follows the new mode (`posix_acl_chmod()`, which
        // calls `set_acl` above), as in `ext4_setattr()`.
        if (*attr).ia_valid & bindings::ATTR_MODE != 0 {
            return bindings::posix_acl_chmod(idmap, dentry, inode.mode());
        }
        0
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn fsync<T: FileSystem>(
    file: *mut bindings::file,
    start: i64,
    end: i64,
    _datasync: c_int,
) -> c_int {
    // SAFETY: the VFS passes an open file of ours and the range to sync;
    // the data goes first, and its completions record their transaction.
    let inode = unsafe {
        if shut_down::<T>(file) {
            return EIO.to_errno();
        }
        let e = bindings::rext4_fsync_data(file, start, end);
        if e != 0 {
            return e;
        }
        Inode::<T>::from_raw(bindings::rext4_file_inode(file))
    };
    errno(T::fsync(inode))
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn evict_inode<T: FileSystem>(inode: *mut bindings::inode) {
    // SAFETY: the VFS evicts a live inode of ours (I_FREEING) once; its
    // page cache is emptied first, `clear_inode` ends it.
    unsafe {
        bindings::rext4_truncate_pages_final(inode);
        if !bindings::is_bad_inode(inode) {
            T::evict(Inode::<T>::from_raw(inode));
        }
        bindings::clear_inode(inode);
    }
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn put_super<T: FileSystem>(sb: *mut bindings::super_block) {
    // SAFETY: the VFS unmounts a live super block of ours whose `Info` is
    // still set (`kill_sb` frees it afterwards).
    let sb = unsafe { SuperBlock::<T>::from_raw(sb) };
    T::put_super(sb, &super::super_block::Unmounting(()));
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn sync_fs<T: FileSystem>(sb: *mut bindings::super_block, wait: c_int) -> c_int {
    // SAFETY: a live, mounted super block of ours.
    let sb = unsafe { SuperBlock::<T>::from_raw(sb) };
    errno(T::sync_fs(sb, wait != 0))
}

/// # Safety
///
/// Called only by the kernel, through the operations table it sits in, with the
/// arguments its C prototype documents.
unsafe extern "C" fn dirty_inode<T: FileSystem>(inode: *mut bindings::inode, _flags: c_int) {
    // SAFETY: a live inode of ours that the VFS marks dirty.
    let inode = unsafe { Inode::<T>::from_raw(inode) };
    // As ext4_dirty_inode(): a failure is reported where it happens.
    let _ = T::write_inode(inode);
}
