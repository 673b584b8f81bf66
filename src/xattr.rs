// SPDX-License-Identifier: GPL-2.0

//! Extended attributes and POSIX ACLs: in the inode body after
//! `i_extra_isize`, then in the xattr block (`i_file_acl`), searched as
//! `ext4_xattr_get()` does and changed through [`crate::libext4::xattr`]
//! in one transaction each (`ext4_xattr_set()`), or inside a create's
//! (the ACLs a new inode inherits, `ext4_init_acl()`).
//!
//! The on-disk inode is the authority: reads copy its bytes from the
//! buffer cache under the inode's xattr lock (ext4's `xattr_sem`), which
//! changes hold from before their transaction starts to after it ends, so
//! a reader never sees a list half rewritten. Lock order: `i_rwsem`, the
//! xattr lock, the journal handle.

use kernel::prelude::*;

use crate::error::corrupt;
use crate::journal::{credits, run, Tx};
use crate::libext4::xattr::{set as lib_set, Change, Mode};
use crate::namei::{changed_in, failed, ino32, refresh};
use crate::ondisk::acl::{encode_entry, encode_header, encoded_entry_len, Acl, AclEntry};
use crate::ondisk::inode::Inode as DiskInode;
use crate::ondisk::superblock::Geometry;
use crate::ondisk::xattr::{ext4_xattr_block_csum_verify, name_prefix, XattrList};
use crate::ondisk::{Errno, Error as DiskError, Result as DiskResult};
use crate::super_::{now, Rext4Fs};
use crate::vfs::acl::{AclRef, NewAcls};
use crate::vfs::{acl::PosixAcl, xattr::capable_sys_admin, xattr::index, Inode};

/// `XATTR_CREATE`, `XATTR_REPLACE`.
const XATTR_CREATE: i32 = 1;
const XATTR_REPLACE: i32 = 2;

/// The inode's bytes as they are on disk now, and its xattr block number.
fn disk_inode(inode: &Inode<Rext4Fs>) -> Result<(KVec<u8>, u64)> {
    let sb = inode.sb();
    let info = sb.info();
    let geo = &info.geo;
    let ino = ino32(inode)?;
    let (raw, blk) = crate::inode::read_raw_inode(sb, geo, &info.groups, ino)?;
    let di = DiskInode::parse(&raw, geo).map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?;
    Ok((raw, di.file_acl(geo)))
}

/// Visits the in-inode list, then the block's, until `f` says stop.
fn for_each_list(
    inode: &Inode<Rext4Fs>,
    mut f: impl FnMut(&XattrList<'_>, u64) -> Result<bool>,
) -> Result {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let _guard = inode.data().xattr_lock.lock();
    let (raw, acl_blk) = disk_inode(inode)?;
    let extra = DiskInode::parse(&raw, geo)
        .map(|d| d.i_extra_isize)
        .map_err(|e| corrupt(sb.id(), inode.ino(), 0, e))?;
    let ibody = XattrList::parse_ibody(&raw, geo, extra)
        .map_err(|e| corrupt(sb.id(), inode.ino(), 0, e))?;
    if let Some(list) = ibody {
        if f(&list, 0)? {
            return Ok(());
        }
    }
    if acl_blk != 0 {
        geo.check_block_range(acl_blk, 1)
            .map_err(|e| corrupt(sb.id(), inode.ino(), acl_blk, e))?;
        let bh = sb.bread(acl_blk)?;
        ext4_xattr_block_csum_verify(bh.data(), acl_blk, geo)
            .map_err(|e| corrupt(sb.id(), inode.ino(), acl_blk, e))?;
        let (_, list) = XattrList::parse_block(bh.data(), geo)
            .map_err(|e| corrupt(sb.id(), inode.ino(), acl_blk, e))?;
        f(&list, acl_blk)?;
    }
    Ok(())
}

pub(crate) fn get(inode: &Inode<Rext4Fs>, idx: u8, name: &[u8], buf: &mut [u8]) -> Result<usize> {
    let sb = inode.sb();
    let mut result = Err(ENODATA);
    for_each_list(inode, |list, blk| {
        let Some(e) = list
            .find(idx, name)
            .map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?
        else {
            return Ok(false);
        };
        let value = e.value().map_err(|err| match err {
            crate::ondisk::Error::Unsupported(_) => EOPNOTSUPP,
            err => corrupt(sb.id(), inode.ino(), blk, err),
        })?;
        result = if buf.is_empty() {
            Ok(value.len())
        } else if value.len() > buf.len() {
            Err(ERANGE)
        } else {
            buf.get_mut(..value.len())
                .ok_or(ERANGE)?
                .copy_from_slice(value);
            Ok(value.len())
        };
        Ok(true)
    })?;
    result
}

pub(crate) fn list(inode: &Inode<Rext4Fs>, buf: &mut [u8]) -> Result<usize> {
    let sb = inode.sb();
    let trusted_ok = capable_sys_admin();
    let acl_on = !sb.info().opts.noacl;
    let mut used = 0usize;
    let size_only = buf.is_empty();
    for_each_list(inode, |list, blk| {
        for e in list.iter() {
            let e = e.map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?;
            // Namespaces we do not serve are not listed (unknown indexes
            // are skipped as ext4 does).
            let shown = match e.e_name_index {
                index::USER | index::SECURITY => true,
                index::TRUSTED => trusted_ok,
                index::POSIX_ACL_ACCESS | index::POSIX_ACL_DEFAULT => acl_on,
                _ => false,
            };
            let Some(prefix) = name_prefix(e.e_name_index).filter(|_| shown) else {
                continue;
            };
            let len = prefix.len() + e.name.len() + 1;
            if !size_only {
                let out = buf.get_mut(used..used + len).ok_or(ERANGE)?;
                let (p, rest) = out.split_at_mut(prefix.len());
                p.copy_from_slice(prefix.as_bytes());
                let (n, nul) = rest.split_at_mut(e.name.len());
                n.copy_from_slice(e.name);
                nul.fill(0);
            }
            used += len;
        }
        Ok(false)
    })?;
    Ok(used)
}

/// The inode's POSIX ACL of one type, from its `system.posix_acl_*` xattr
/// (`ext4_get_acl()`).
pub(crate) fn get_acl(inode: &Inode<Rext4Fs>, default: bool) -> Result<Option<PosixAcl>> {
    let idx = if default {
        index::POSIX_ACL_DEFAULT
    } else {
        index::POSIX_ACL_ACCESS
    };
    // One read: the value may change between a size query and the copy.
    let mut value = KVec::new();
    let sb = inode.sb();
    for_each_list(inode, |list, blk| {
        let Some(e) = list
            .find(idx, b"")
            .map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?
        else {
            return Ok(false);
        };
        let v = e
            .value()
            .map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?;
        value.extend_from_slice(v, GFP_KERNEL)?;
        value.push(0, GFP_KERNEL)?; // found, even if empty
        Ok(true)
    })?;
    let Some((_, v)) = value.split_last() else {
        return Ok(None);
    };
    let acl = Acl::parse(v).map_err(|e| corrupt(sb.id(), inode.ino(), 0, e))?;
    let mut out = PosixAcl::new(acl.len())?;
    for (i, e) in acl.iter().enumerate() {
        out.set(i, e.tag, e.perm, e.id)?;
    }
    Ok(Some(out))
}

/// `ext4_acl_to_disk()`.
fn encode_acl(acl: &AclRef) -> Result<KVec<u8>> {
    let mut len = 4usize;
    for i in 0..acl.len() {
        let (tag, _, _) = acl.entry(i).ok_or(EINVAL)?;
        len = len.saturating_add(encoded_entry_len(tag).map_err(|_| EINVAL)?);
    }
    let mut out = KVec::from_elem(0u8, len, GFP_KERNEL)?;
    let mut off = encode_header(&mut out).map_err(|_| EINVAL)?;
    for i in 0..acl.len() {
        let (tag, perm, id) = acl.entry(i).ok_or(EINVAL)?;
        off = encode_entry(&mut out, off, AclEntry { tag, perm, id }).map_err(|_| EINVAL)?;
    }
    Ok(out)
}

/// Runs one xattr change of `inode` in a transaction, retrying once after
/// a commit releases freed blocks if the disk is full (as
/// `ext4_should_retry_alloc()`); `also` may change the inode further in
/// the same transaction (a new mode with an ACL).
fn change(
    inode: &Inode<Rext4Fs>,
    c: &Change<'_>,
    also: impl Fn(&mut Tx<'_>, &Geometry, u32) -> DiskResult<()>,
) -> Result {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let ino = ino32(inode)?;
    let mut scratch = KVec::from_elem(0u8, geo.block_size as usize, GFP_KERNEL)?;
    let _guard = inode.data().xattr_lock.lock();
    let mut attempt = || {
        let t = now();
        run(
            sb,
            crate::libext4::xattr::SET_CREDITS + credits::INODE,
            |tx| {
                let r = lib_set(tx, geo, ino, c, t, &mut scratch);
                let r = r.and_then(|_| also(tx, geo, ino));
                // The block count and change time the disk now holds.
                let fresh = refresh(tx, geo, inode);
                r?;
                fresh
            },
        )
    };
    let mut r = attempt();
    if matches!(&r, Err(f) if f.errno == ENOSPC) && crate::journal::commit_frees(sb) {
        r = attempt();
    }
    let ((), tid) = r.map_err(|f| failed(inode, f))?;
    changed_in(inode, tid);
    Ok(())
}

/// `ext4_xattr_set()` for the `user.`, `trusted.` and `security.`
/// handlers (the VFS checked permissions and the size limit).
pub(crate) fn set(
    inode: &Inode<Rext4Fs>,
    index: u8,
    name: &[u8],
    value: Option<&[u8]>,
    flags: i32,
) -> Result {
    if name.len() > 255 {
        return Err(ERANGE);
    }
    let mode = match flags {
        0 => Mode::Any,
        XATTR_CREATE => Mode::Create,
        XATTR_REPLACE => Mode::Replace,
        _ => return Err(EINVAL),
    };
    let c = Change {
        index,
        name,
        value,
        mode,
    };
    change(inode, &c, |_, _, _| Ok(()))
}

/// `ext4_set_acl()`: stores `acl` (or removes it) and, for an access ACL
/// that changed the mode, the mode with it.
pub(crate) fn set_acl(
    inode: &Inode<Rext4Fs>,
    acl: Option<&AclRef>,
    default: bool,
    mode: Option<u16>,
) -> Result {
    let value = acl.map(encode_acl).transpose()?;
    let c = Change {
        index: if default {
            index::POSIX_ACL_DEFAULT
        } else {
            index::POSIX_ACL_ACCESS
        },
        name: b"",
        value: value.as_deref(),
        mode: Mode::Any,
    };
    change(inode, &c, |tx, geo, ino| match mode {
        Some(m) => crate::libext4::inode::edit_inode(tx, geo, ino, |i| {
            i.i_mode = (i.i_mode & 0o170000) | (m & 0o7777);
        }),
        None => Ok(()),
    })?;
    if let Some(m) = mode {
        inode.set_mode(m);
    }
    Ok(())
}

/// The ACLs a new inode inherits, encoded before its create transaction.
pub(crate) struct InitXattrs {
    default: Option<KVec<u8>>,
    access: Option<KVec<u8>>,
    scratch: KVec<u8>,
}

impl InitXattrs {
    pub(crate) fn new(acls: &NewAcls, geo: &Geometry) -> Result<Self> {
        let default = acls.default.as_ref().map(encode_acl).transpose()?;
        let access = acls.access.as_ref().map(encode_acl).transpose()?;
        let scratch = match default.is_some() || access.is_some() {
            true => KVec::from_elem(0u8, geo.block_size as usize, GFP_KERNEL)?,
            false => KVec::new(),
        };
        Ok(Self {
            default,
            access,
            scratch,
        })
    }

    /// Whether there is anything to store (the create needs the credits).
    pub(crate) fn any(&self) -> bool {
        self.default.is_some() || self.access.is_some()
    }

    /// Stores them on the new inode `ino` in the create's transaction
    /// (`ext4_init_acl()`). `Ok(false)` if they do not fit (`ENOSPC`; the
    /// caller undoes the create).
    pub(crate) fn store(
        &mut self,
        tx: &mut Tx<'_>,
        geo: &Geometry,
        ino: u32,
        t: crate::libext4::inode::Time,
    ) -> DiskResult<bool> {
        for (index, value) in [
            (index::POSIX_ACL_DEFAULT, &self.default),
            (index::POSIX_ACL_ACCESS, &self.access),
        ] {
            let Some(v) = value else { continue };
            let c = Change {
                index,
                name: b"",
                value: Some(v),
                mode: Mode::Create,
            };
            match lib_set(tx, geo, ino, &c, t, &mut self.scratch) {
                Ok(_) => {}
                Err(DiskError::Refused(Errno::NoSpace)) => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}
