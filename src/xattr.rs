// SPDX-License-Identifier: GPL-2.0

//! Extended attributes: in the inode body after `i_extra_isize`, then in the
//! xattr block (`i_file_acl`), as `ext4_xattr_get()` searches them.

use kernel::prelude::*;

use crate::error::corrupt;
use crate::ondisk::acl::Acl;
use crate::ondisk::xattr::{ext4_xattr_block_csum_verify, name_prefix, XattrList};
use crate::super_::Rext4Fs;
use crate::vfs::{acl::PosixAcl, xattr::capable_sys_admin, xattr::index, BufferHead, Inode};

fn block(inode: &Inode<Rext4Fs>) -> Result<Option<BufferHead>> {
    let blk = inode.data().d.file_acl;
    if blk == 0 {
        return Ok(None);
    }
    let sb = inode.sb();
    let bh = sb.bread(blk)?;
    if sb.info().geo.has_metadata_csum() {
        ext4_xattr_block_csum_verify(bh.data(), blk, &sb.info().geo)
            .map_err(|e| corrupt(sb.id(), inode.ino(), blk, e))?;
    }
    Ok(Some(bh))
}

/// Visits the in-inode list, then the block's.
fn for_each_list(
    inode: &Inode<Rext4Fs>,
    mut f: impl FnMut(&XattrList<'_>, u64) -> Result<bool>,
) -> Result {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let d = &inode.data().d;
    let ibody = XattrList::parse_ibody(&d.raw, geo, d.extra_isize)
        .map_err(|e| corrupt(sb.id(), inode.ino(), 0, e))?;
    if let Some(list) = ibody {
        if f(&list, 0)? {
            return Ok(());
        }
    }
    if let Some(bh) = block(inode)? {
        let (_, list) = XattrList::parse_block(bh.data(), geo)
            .map_err(|e| corrupt(sb.id(), inode.ino(), bh.blocknr(), e))?;
        f(&list, bh.blocknr())?;
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
            // Namespaces we do not serve are not listed (ACLs come with
            // POSIX ACL support; unknown indexes are skipped as ext4 does).
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
    let size = match get(inode, idx, b"", &mut []) {
        Ok(n) => n,
        Err(e) if e == ENODATA => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut value = KVec::from_elem(0u8, size, GFP_KERNEL)?;
    let n = get(inode, idx, b"", &mut value)?;
    let acl = Acl::parse(value.get(..n).ok_or(EFSCORRUPTED)?)
        .map_err(|e| corrupt(inode.sb().id(), inode.ino(), inode.data().d.file_acl, e))?;
    let mut out = PosixAcl::new(acl.len())?;
    for (i, e) in acl.iter().enumerate() {
        out.set(i, e.tag, e.perm, e.id)?;
    }
    Ok(Some(out))
}
