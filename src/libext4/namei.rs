// SPDX-License-Identifier: GPL-2.0

//! Namespace operations over a [`Trans`] (the counterpart of ext4's
//! `namei.c` and `ext4_new_inode()`). So far one: creating an empty regular
//! file in a linear directory whose blocks are all in the extent root, as
//! `ext4_create()` does it: a new inode near the directory
//! ([`super::ialloc`]), initialised and checksummed, a record in the first
//! directory block with room, and the directory's times updated. Growing a
//! directory by a block, htree directories and deeper extent trees answer
//! `Unsupported` until the extent tree and htree code exist.

use super::super::ondisk::crc::ext4_inode_csum_seed;
use super::super::ondisk::dir::{
    ext4_dirblock_csum_set, find_slot, insert_entry, remove_entry, search_dir, Slot,
};
use super::super::ondisk::extent::{ExtentNode, NodeKind, EXT4_EXT_MAGIC};
use super::super::ondisk::features::EXT4_FEATURE_INCOMPAT_EXTENTS;
use super::super::ondisk::inode::{
    ext4_inode_csum_set, FileType, Inode, EXT4_EXTENTS_FL, EXT4_INDEX_FL, S_IFMT, S_IFREG,
};
use super::super::ondisk::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE};
use super::super::ondisk::{Error, Result};
use super::balloc::free_block;
use super::extents::root_runs;
use super::ialloc::{alloc_inode, free_inode};
pub use super::inode::Time;
use super::inode::{edit_inode, inode_slot, read_inode};
use super::trans::Trans;

/// `EXT4_FT_REG_FILE`.
const FT_REG_FILE: u8 = 1;

/// What a new inode gets besides its number.
#[derive(Clone, Copy, Debug)]
pub struct NewInode {
    /// Permission bits (the file type is set by the operation).
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Creation time, used for every timestamp.
    pub now: Time,
    /// `i_generation`.
    pub generation: u32,
}

/// `ext4_new_inode()` for an empty regular file: every byte of the inode
/// written (an `INODE_UNINIT` table may hold anything), the extent root
/// empty, `i_extra_isize` as ext4 wants it, and the checksum.
fn init_inode<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32, n: &NewInode) -> Result<()> {
    let (buf, off) = inode_slot(tx, geo, ino)?;
    let isize = usize::from(geo.inode_size);
    let extents = geo.has_incompat(EXT4_FEATURE_INCOMPAT_EXTENTS);
    tx.edit(&buf, |b| {
        let raw = b
            .get_mut(off..)
            .and_then(|r| r.get_mut(..isize))
            .ok_or(Error::Corrupt("inode offset"))?;
        raw.fill(0);
        // A zeroed large inode decodes with every field this layer knows.
        let mut inode = Inode::parse(raw, geo)?;
        let (t, t_extra) = n.now.encode();
        inode.i_mode = S_IFREG | (n.perm & !S_IFMT);
        inode.i_uid = (n.uid & 0xFFFF) as u16;
        inode.l_i_uid_high = (n.uid >> 16) as u16;
        inode.i_gid = (n.gid & 0xFFFF) as u16;
        inode.l_i_gid_high = (n.gid >> 16) as u16;
        inode.i_links_count = 1;
        inode.i_atime = t;
        inode.i_ctime = t;
        inode.i_mtime = t;
        inode.i_generation = n.generation;
        if extents {
            inode.i_flags = EXT4_EXTENTS_FL;
            // ext4_ext_tree_init(): an empty root with room for four.
            let hdr = inode
                .i_block
                .get_mut(..8)
                .ok_or(Error::Corrupt("i_block"))?;
            hdr.copy_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
            if let Some(m) = inode.i_block.get_mut(..2) {
                m.copy_from_slice(&EXT4_EXT_MAGIC.to_le_bytes());
            }
        }
        if geo.inode_size > EXT4_GOOD_OLD_INODE_SIZE {
            // s_want_extra_isize: every field ext4 knows (32 bytes).
            inode.i_extra_isize = 32.min(geo.inode_size.saturating_sub(EXT4_GOOD_OLD_INODE_SIZE));
            inode.i_checksum_hi = Some(0);
            for f in [
                &mut inode.i_ctime_extra,
                &mut inode.i_mtime_extra,
                &mut inode.i_atime_extra,
                &mut inode.i_crtime_extra,
            ] {
                if f.is_some() {
                    *f = Some(t_extra);
                }
            }
            if inode.i_crtime.is_some() {
                inode.i_crtime = Some(t);
            }
        }
        inode.encode(raw, geo)?;
        ext4_inode_csum_set(raw, geo, ino)
    })?
}

/// Creates the empty regular file `name` in directory `dir` and returns its
/// inode number (`ext4_create()`). `Ok(None)` when there is no free inode
/// (`ENOSPC`). A name that exists is `OutOfRange("name exists")`
/// (`EEXIST`); a directory this layer cannot grow or index yet is
/// `Unsupported`.
pub fn create<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    n: &NewInode,
) -> Result<Option<u32>> {
    let d = read_inode(tx, geo, dir)?;
    // The first leaf block with room gets the record; every block is
    // searched for the name first, before anything is changed.
    let mut target = None;
    let exists = for_each_dir_block(tx, geo, &d, |tx, buf| {
        match find_slot(tx.data(&buf), geo, name)? {
            Slot::Exists => return Ok(Some(())),
            Slot::NoSpace => {}
            slot if target.is_none() => target = Some((buf, slot)),
            _ => {}
        }
        Ok(None)
    })?;
    if exists.is_some() {
        return Err(Error::OutOfRange("name exists"));
    }
    let Some((buf, slot)) = target else {
        return Err(Error::Unsupported("growing a directory"));
    };
    let group = geo.inode_location(dir)?.group;
    let Some(ino) = alloc_inode(tx, geo, group, false)? else {
        return Ok(None);
    };
    init_inode(tx, geo, ino, n)?;
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir, d.i_generation);
    let csum = geo.has_metadata_csum();
    tx.edit(&buf, |b| {
        insert_entry(b, geo, slot, name, ino, FT_REG_FILE)?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    let (t, t_extra) = n.now.encode();
    edit_inode(tx, geo, dir, |i| {
        i.i_mtime = t;
        i.i_ctime = t;
        if i.i_mtime_extra.is_some() {
            i.i_mtime_extra = Some(t_extra);
        }
        if i.i_ctime_extra.is_some() {
            i.i_ctime_extra = Some(t_extra);
        }
    })?;
    Ok(Some(ino))
}

/// The directory's leaf blocks, each passed to `f` until it returns
/// `Some`; `Unsupported` for the layouts this layer cannot walk yet.
fn for_each_dir_block<T: Trans, R>(
    tx: &mut T,
    geo: &Geometry,
    d: &Inode,
    mut f: impl FnMut(&mut T, T::Buf) -> Result<Option<R>>,
) -> Result<Option<R>> {
    if d.file_type()? != FileType::Directory {
        return Err(Error::Corrupt("not a directory"));
    }
    if d.has_flag(EXT4_INDEX_FL) {
        return Err(Error::Unsupported("htree directory"));
    }
    if !d.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("block-mapped directory"));
    }
    let root = ExtentNode::parse(&d.i_block, NodeKind::Root, geo)?;
    if !root.is_leaf() {
        return Err(Error::Unsupported("directory with a deep extent tree"));
    }
    for e in root.extents() {
        let e = e?;
        for i in 0..u64::from(e.len()) {
            let blk = e.pblock().checked_add(i).ok_or(Error::Corrupt("extent"))?;
            let buf = tx.bread(blk)?;
            if let Some(r) = f(tx, buf)? {
                return Ok(Some(r));
            }
        }
    }
    Ok(None)
}

/// Removes the name `name` from directory `dir` (`ext4_unlink()`) and
/// returns the inode it named; at its last link the inode is freed with its
/// deletion time set. `Ok(None)` if there is no such name (`ENOENT`). An
/// inode that still owns blocks is `Unsupported` (no truncate yet), and
/// nothing is changed then.
pub fn unlink<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    now: Time,
) -> Result<Option<u32>> {
    let d = read_inode(tx, geo, dir)?;
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir, d.i_generation);
    let csum = geo.has_metadata_csum();
    // Find the name and check the inode before changing anything.
    let found = for_each_dir_block(tx, geo, &d, |tx, buf| {
        let hit = search_dir(tx.data(&buf), geo, name)?.map(|e| e.inode);
        Ok(hit.map(|ino| (buf, ino)))
    })?;
    let Some((buf, ino)) = found else {
        return Ok(None);
    };
    let victim = read_inode(tx, geo, ino)?;
    let is_dir = victim.file_type()? == FileType::Directory;
    if is_dir {
        return Err(Error::Unsupported("unlink of a directory (rmdir)"));
    }
    let last = victim.i_links_count <= 1;
    if last {
        if victim.file_acl(geo) != 0 {
            return Err(Error::Unsupported("freeing an xattr block"));
        }
        let owns_blocks = victim.i_blocks_lo != 0 || victim.l_i_blocks_high != 0;
        if owns_blocks && !victim.has_flag(EXT4_EXTENTS_FL) {
            return Err(Error::Unsupported("freeing a block-mapped file's blocks"));
        }
        // Only trees this layer can walk; checked before anything changes.
        if owns_blocks {
            root_runs(&victim.i_block, geo)?.try_for_each(|r| r.map(|_| ()))?;
        }
    }
    tx.edit(&buf, |b| {
        remove_entry(b, geo, name)?.ok_or(Error::Corrupt("directory entry vanished"))?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    let (t, t_extra) = now.encode();
    edit_inode(tx, geo, dir, |i| {
        i.i_mtime = t;
        i.i_ctime = t;
        if i.i_mtime_extra.is_some() {
            i.i_mtime_extra = Some(t_extra);
        }
        if i.i_ctime_extra.is_some() {
            i.i_ctime_extra = Some(t_extra);
        }
    })?;
    edit_inode(tx, geo, ino, |i| {
        i.i_links_count = i.i_links_count.saturating_sub(1);
        i.i_ctime = t;
        if i.i_ctime_extra.is_some() {
            i.i_ctime_extra = Some(t_extra);
        }
        if last {
            i.i_dtime = t;
        }
    })?;
    if last {
        // Eviction: ext4_truncate() to nothing, then ext4_free_inode().
        if victim.has_flag(EXT4_EXTENTS_FL) {
            for run in root_runs(&victim.i_block, geo)? {
                let (start, len) = run?;
                for b in 0..u64::from(len) {
                    free_block(tx, geo, start.saturating_add(b))?;
                }
            }
            edit_inode(tx, geo, ino, |i| {
                i.i_size_lo = 0;
                i.i_size_high = 0;
                i.i_blocks_lo = 0;
                i.l_i_blocks_high = 0;
                // An empty root: no entries left.
                if let Some(n) = i.i_block.get_mut(2..4) {
                    n.copy_from_slice(&0u16.to_le_bytes());
                }
            })?;
        }
        free_inode(tx, geo, ino, false)?;
    }
    Ok(Some(ino))
}
