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
    ext4_dirblock_csum_set, ext4_dirblock_csum_verify, find_slot, init_dir_block,
    init_empty_dir_block, insert_entry, remove_entry, search_dir, DirBlockIter, Slot,
    EXT4_FT_BLKDEV, EXT4_FT_CHRDEV, EXT4_FT_DIR, EXT4_FT_FIFO, EXT4_FT_REG_FILE, EXT4_FT_SOCK,
    EXT4_FT_SYMLINK,
};
use super::super::ondisk::extent::EXT4_EXT_MAGIC;
use super::super::ondisk::features::{
    EXT4_FEATURE_COMPAT_DIR_INDEX, EXT4_FEATURE_INCOMPAT_EXTENTS,
};
use super::super::ondisk::htree::{ext4_dx_csum_set, ext4_dx_csum_verify};
use super::super::ondisk::inode::{
    ext4_inode_csum_set, FileType, Inode, EXT4_EXTENTS_FL, EXT4_INDEX_FL, EXT4_I_BLOCK_SIZE,
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use super::super::ondisk::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE};
use super::super::ondisk::{Errno, Error, Result};
use super::balloc::{alloc_block, free_block, is_allocated};
use super::extents::{
    depth, insert, lookup as lookup_extent, remove_from, root_append, root_runs, Found, NewExtent,
    Tree,
};
use super::ialloc::{alloc_inode, free_inode};
pub use super::inode::Time;
use super::inode::{edit_inode, inode_slot, read_inode};
use super::trans::Trans;

/// `EXT4_LINK_MAX`: a linear directory with this many links takes no more
/// subdirectories (`EMLINK`; htree directories go on with a count of 1).
const EXT4_LINK_MAX: u16 = 65000;

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

/// `ext4_ext_tree_init()`: an empty root leaf with room for four extents.
fn empty_extent_root(i_block: &mut [u8]) -> Result<()> {
    let hdr = i_block.get_mut(..8).ok_or(Error::Corrupt("i_block"))?;
    hdr.copy_from_slice(&[0, 0, 0, 0, 4, 0, 0, 0]);
    if let Some(m) = hdr.get_mut(..2) {
        m.copy_from_slice(&EXT4_EXT_MAGIC.to_le_bytes());
    }
    Ok(())
}

/// `ext4_new_inode()`: every byte of the inode
/// written (an `INODE_UNINIT` table may hold anything), the extent root
/// empty, `i_extra_isize` as ext4 wants it, and the checksum.
fn init_inode<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    n: &NewInode,
    file_type: u16,
    links: u16,
    body: Option<&Body>,
) -> Result<()> {
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
        inode.i_mode = file_type | (n.perm & !S_IFMT);
        inode.i_uid = (n.uid & 0xFFFF) as u16;
        inode.l_i_uid_high = (n.uid >> 16) as u16;
        inode.i_gid = (n.gid & 0xFFFF) as u16;
        inode.l_i_gid_high = (n.gid >> 16) as u16;
        inode.i_links_count = links;
        inode.i_atime = t;
        inode.i_ctime = t;
        inode.i_mtime = t;
        inode.i_generation = n.generation;
        match body {
            // No extent root: the bytes are a device number or a target.
            Some(b) => {
                inode.i_block = b.i_block;
                inode.i_size_lo = b.size;
            }
            None if extents => {
                inode.i_flags = EXT4_EXTENTS_FL;
                empty_extent_root(&mut inode.i_block)?;
            }
            None => {}
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

/// Where a new record `name` goes in directory `d`: the first leaf block
/// with room; every block is searched for the name first, before anything
/// is changed. `Refused(Exists)` (`EEXIST`), or `Unsupported`
/// when the directory would have to grow.
fn find_target<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    d: Dir<'_>,
    name: &[u8],
) -> Result<(T::Buf, Slot)> {
    if d.inode.has_flag(EXT4_INDEX_FL) {
        return find_dx_target(tx, geo, d, name);
    }
    let mut target = None;
    let exists = for_each_dir_block(tx, geo, d, |tx, buf| {
        match find_slot(tx.data(&buf), geo, name)? {
            Slot::Exists => return Ok(Some(())),
            Slot::NoSpace => {}
            slot if target.is_none() => target = Some((buf, slot)),
            _ => {}
        }
        Ok(None)
    })?;
    if exists.is_some() {
        return Err(Error::Refused(Errno::Exists));
    }
    if let Some(t) = target {
        return Ok(t);
    }
    // A one-block directory that is full becomes indexed (ext4_add_entry()
    // with dir_index), then takes the name through the index.
    let bs = u64::from(geo.block_size);
    if geo.has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX) && d.inode.size(geo)? == bs {
        if let Some(t) = index_dir(tx, geo, d, name)? {
            return Ok(t);
        }
    }
    grow_dir(tx, geo, d, name)
}

/// [`super::htree::make_indexed`] on the one-block directory `d`, then the
/// name's slot through the new index; `None` if the directory stays
/// linear (a default hash rext4 cannot index with).
fn index_dir<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    d: Dir<'_>,
    name: &[u8],
) -> Result<Option<(T::Buf, Slot)>> {
    let di = d.inode;
    let mut root = di.i_block;
    let t = Tree {
        ino: d.ino,
        seed: ext4_inode_csum_seed(geo.csum_seed, d.ino, di.i_generation),
        root: &mut root,
        goal: 0,
        blocks: 0,
    };
    let indexed = super::htree::make_indexed(tx, geo, &t, |tx| {
        let (buf, _) = grow_dir(tx, geo, d, name)?;
        Ok((1, buf))
    })?;
    if !indexed {
        return Ok(None);
    }
    edit_inode(tx, geo, d.ino, |i| i.i_flags |= EXT4_INDEX_FL)?;
    let fresh = read_inode(tx, geo, d.ino)?;
    find_dx_target(
        tx,
        geo,
        Dir {
            ino: d.ino,
            inode: &fresh,
        },
        name,
    )
    .map(Some)
}

/// A directory's length in blocks (its size over the block size).
fn dir_blocks(geo: &Geometry, di: &Inode) -> Result<u32> {
    di.size(geo)?
        .checked_div(u64::from(geo.block_size))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(Error::Corrupt("directory size"))
}

/// [`find_target`] in an indexed directory: the leaf the index names for
/// the name's hash, split when full ([`super::htree::target`]).
fn find_dx_target<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    d: Dir<'_>,
    name: &[u8],
) -> Result<(T::Buf, Slot)> {
    let di = d.inode;
    if !di.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("block-mapped directory"));
    }
    let blocks = dir_blocks(geo, di)?;
    let mut root = di.i_block;
    let t = Tree {
        ino: d.ino,
        seed: ext4_inode_csum_seed(geo.csum_seed, d.ino, di.i_generation),
        root: &mut root,
        goal: 0,
        blocks: 0,
    };
    // Each new block goes after the directory's last, read afresh (a split
    // may take two).
    super::htree::target(tx, geo, &t, blocks, name, |tx| {
        let fresh = read_inode(tx, geo, d.ino)?;
        let lblk = dir_blocks(geo, &fresh)?;
        let (buf, _) = grow_dir(
            tx,
            geo,
            Dir {
                ino: d.ino,
                inode: &fresh,
            },
            name,
        )?;
        Ok((lblk, buf))
    })
}

/// Adds an empty leaf block at the end of linear directory `d` and
/// returns the slot for `name` in it (`ext4_append()` from
/// `ext4_add_entry()`): a block after the directory's last one if free,
/// mapped in the extent root, the size and block count up by one block.
/// `Refused(NoSpace)` without a free block; nothing changes then.
fn grow_dir<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    d: Dir<'_>,
    name: &[u8],
) -> Result<(T::Buf, Slot)> {
    let di = d.inode;
    let bs = u64::from(geo.block_size);
    let size = di.size(geo)?;
    if size.checked_rem(bs) != Some(0) {
        return Err(Error::Corrupt(
            "directory size not a multiple of the block size",
        ));
    }
    let lblk = size
        .checked_div(bs)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(Error::Corrupt("directory size"))?;
    let seed = ext4_inode_csum_seed(geo.csum_seed, d.ino, di.i_generation);
    let mut i_block = di.i_block;
    let mut t = Tree {
        ino: d.ino,
        seed,
        root: &mut i_block,
        goal: 0,
        blocks: 0,
    };
    // After the directory's last block (`ext4_ext_find_goal()`).
    let goal = match lblk.checked_sub(1) {
        Some(prev) => match lookup_extent(tx, geo, &t, prev)? {
            Found::Mapped { pblk, .. } => pblk.saturating_add(1),
            Found::Hole { .. } => 0,
        },
        None => 0,
    };
    t.goal = goal;
    let Some(pblk) = alloc_block(tx, geo, goal)? else {
        return Err(Error::Refused(Errno::NoSpace));
    };
    let e = NewExtent {
        lblk,
        len: 1,
        pblk,
        unwritten: false,
    };
    // The tree may grow (a leaf or index block): counted in `t.blocks`.
    if let Err(err) = insert(tx, geo, &mut t, e, true) {
        free_block(tx, geo, pblk)?;
        return Err(err);
    }
    let tree_blocks = u32::try_from(t.blocks).map_err(|_| Error::Corrupt("directory tree"))?;
    let csum = geo.has_metadata_csum();
    let buf = tx.new_block(pblk)?;
    tx.edit(&buf, |b| {
        init_empty_dir_block(b, csum)?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    let new_size = size
        .checked_add(bs)
        .ok_or(Error::Corrupt("directory size"))?;
    let sectors = (geo.block_size >> 9).saturating_mul(tree_blocks.saturating_add(1));
    let mut overflow = false;
    edit_inode(tx, geo, d.ino, |i| {
        i.i_block = i_block;
        i.i_size_lo = (new_size & 0xFFFF_FFFF) as u32;
        i.i_size_high = (new_size >> 32) as u32;
        match i.i_blocks_lo.checked_add(sectors) {
            Some(n) => i.i_blocks_lo = n,
            None => overflow = true,
        }
    })?;
    if overflow {
        return Err(Error::Corrupt("directory block count"));
    }
    match find_slot(tx.data(&buf), geo, name)? {
        Slot::Exists | Slot::NoSpace => Err(Error::Corrupt("new directory block")),
        slot => Ok((buf, slot)),
    }
}

/// Sets a changed inode's mtime and ctime (or only ctime) to `now`.
fn touch(i: &mut Inode, now: Time, mtime: bool) {
    let (t, t_extra) = now.encode();
    i.i_ctime = t;
    if i.i_ctime_extra.is_some() {
        i.i_ctime_extra = Some(t_extra);
    }
    if mtime {
        i.i_mtime = t;
        if i.i_mtime_extra.is_some() {
            i.i_mtime_extra = Some(t_extra);
        }
    }
}

/// A directory being changed: its number and its inode as read.
#[derive(Clone, Copy)]
struct Dir<'a> {
    ino: u32,
    inode: &'a Inode,
}

/// Writes the record `name` -> `ino` (file type `ft`) into directory `dir`
/// at `target`, with the leaf checksum, and updates the directory inode
/// (times; one more link when `subdir`: a subdirectory's `..` arrives).
fn add_record<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: Dir<'_>,
    target: (T::Buf, Slot),
    (name, ino, ft): (&[u8], u32, u8),
    now: Time,
    subdir: bool,
) -> Result<()> {
    let links_delta = u16::from(subdir);
    let (d, dir) = (dir.inode, dir.ino);
    let (buf, slot) = target;
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir, d.i_generation);
    let csum = geo.has_metadata_csum();
    tx.edit(&buf, |b| {
        insert_entry(b, geo, slot, name, ino, ft)?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    edit_inode(tx, geo, dir, |i| {
        touch(i, now, true);
        // A count held at 1 (dir_nlink) stays 1.
        if i.i_links_count != 1 {
            i.i_links_count = i.i_links_count.saturating_add(links_delta);
        }
    })
}

/// Creates the empty regular file `name` in directory `dir` and returns its
/// inode number (`ext4_create()`). `Ok(None)` when there is no free inode
/// (`ENOSPC`). A name that exists is `Refused(Exists)`
/// (`EEXIST`); a directory this layer cannot grow or index yet is
/// `Unsupported`.
pub fn create<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    n: &NewInode,
) -> Result<Option<u32>> {
    new_leaf(tx, geo, (dir, name), n, (S_IFREG, EXT4_FT_REG_FILE), None)
}

/// What the 60 bytes of `i_block` hold for an inode without blocks, and
/// its size.
struct Body {
    i_block: [u8; EXT4_I_BLOCK_SIZE],
    size: u32,
}

/// A new non-directory inode named `name` in `dir`, of type `mode` with
/// directory-entry type `ft`: a regular file with an empty extent root, or
/// (`body`) an inode whose `i_block` holds a device number or a target.
fn new_leaf<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    (dir, name): (u32, &[u8]),
    n: &NewInode,
    (mode, ft): (u16, u8),
    body: Option<&Body>,
) -> Result<Option<u32>> {
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let target = find_target(tx, geo, parent, name)?;
    let group = geo.inode_location(dir)?.group;
    let Some(ino) = alloc_inode(tx, geo, group, false)? else {
        return Ok(None);
    };
    init_inode(tx, geo, ino, n, mode, 1, body)?;
    add_record(tx, geo, parent, target, (name, ino, ft), n.now, false)?;
    Ok(Some(ino))
}

/// An inode without data blocks: what [`create_special`] makes.
#[derive(Clone, Copy, Debug)]
pub enum Special<'a> {
    /// A FIFO (`mkfifo`).
    Fifo,
    /// A UNIX-domain socket.
    Socket,
    /// A character device with its major and minor numbers.
    Char(u32, u32),
    /// A block device with its major and minor numbers.
    Block(u32, u32),
    /// A symlink whose target (shorter than `i_block`, no NUL) is stored
    /// in the inode: a "fast" symlink, as `ext4_symlink()` makes one.
    FastSymlink(&'a [u8]),
}

/// The `i_block` words of a device number as `ext4_set_inode_flags()`'s
/// counterpart in `ext4_do_update_inode()` writes them: the old 16-bit
/// encoding in word 0 when both numbers fit in a byte, else the new one in
/// word 1.
fn encode_device(i_block: &mut [u8; EXT4_I_BLOCK_SIZE], major: u32, minor: u32) -> Result<()> {
    if major >= 4096 || minor >= 1 << 20 {
        return Err(Error::OutOfRange("device number"));
    }
    let (at, v) = if major < 256 && minor < 256 {
        (0, (major << 8) | minor)
    } else {
        (4, (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12))
    };
    super::super::ondisk::bytes::put_le32(i_block, at, v, "i_block")
}

/// Creates `name` in `dir` as a FIFO, socket, device or fast symlink
/// (`ext4_mknod()`, `ext4_symlink()` for a short target) and returns its
/// inode number; `Ok(None)` when there is no free inode (`ENOSPC`). Such
/// an inode owns no blocks: its `i_block` holds the device number or the
/// target, and it has no extent root.
pub fn create_special<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    n: &NewInode,
    what: Special<'_>,
) -> Result<Option<u32>> {
    let mut i_block = [0u8; EXT4_I_BLOCK_SIZE];
    let (mode, ft, size) = match what {
        Special::Fifo => (S_IFIFO, EXT4_FT_FIFO, 0),
        Special::Socket => (S_IFSOCK, EXT4_FT_SOCK, 0),
        Special::Char(ma, mi) => {
            encode_device(&mut i_block, ma, mi)?;
            (S_IFCHR, EXT4_FT_CHRDEV, 0)
        }
        Special::Block(ma, mi) => {
            encode_device(&mut i_block, ma, mi)?;
            (S_IFBLK, EXT4_FT_BLKDEV, 0)
        }
        Special::FastSymlink(target) => {
            if target.is_empty() || target.len() >= EXT4_I_BLOCK_SIZE || target.contains(&0) {
                return Err(Error::OutOfRange("fast symlink target"));
            }
            i_block
                .get_mut(..target.len())
                .ok_or(Error::OutOfRange("fast symlink target"))?
                .copy_from_slice(target);
            (S_IFLNK, EXT4_FT_SYMLINK, target.len() as u32)
        }
    };
    let body = Body { i_block, size };
    new_leaf(tx, geo, (dir, name), n, (mode, ft), Some(&body))
}

/// Creates `name` in `dir` as a symlink whose target does not fit in the
/// inode: a "slow" symlink, as `ext4_symlink()` makes one with
/// `ext4_init_symlink_block()`. One block, mapped by the inode's extent
/// root, holds the target (no NUL in it, shorter than a block) followed by
/// zeros; it goes through the transaction as metadata, as ext4 journals
/// it, so it is readable through the buffer cache at once and revoked
/// when freed. `Ok(None)` when there is no free inode or block (`ENOSPC`;
/// nothing is left allocated then).
pub fn create_slow_symlink<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    n: &NewInode,
    target: &[u8],
) -> Result<Option<u32>> {
    let len = u32::try_from(target.len()).map_err(|_| Error::OutOfRange("symlink target"))?;
    if target.is_empty() || len >= geo.block_size || target.contains(&0) {
        return Err(Error::OutOfRange("symlink target"));
    }
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let slot = find_target(tx, geo, parent, name)?;
    let group = geo.inode_location(dir)?.group;
    let goal = geo.group_first_block(group)?;
    let Some(ino) = alloc_inode(tx, geo, group, false)? else {
        return Ok(None);
    };
    let Some(blk) = alloc_block(tx, geo, goal)? else {
        free_inode(tx, geo, ino, false)?;
        return Ok(None);
    };
    let mut i_block = [0u8; EXT4_I_BLOCK_SIZE];
    empty_extent_root(&mut i_block)?;
    root_append(&mut i_block, geo, 0, blk)?;
    init_inode(tx, geo, ino, n, S_IFLNK, 1, None)?;
    let buf = tx.new_block(blk)?;
    tx.edit(&buf, |b| {
        b.fill(0);
        b.get_mut(..target.len())
            .ok_or(Error::OutOfRange("symlink target"))
            .map(|head| head.copy_from_slice(target))
    })??;
    let sectors = geo.block_size >> 9;
    edit_inode(tx, geo, ino, |i| {
        i.i_block = i_block;
        i.i_size_lo = len;
        i.i_blocks_lo = sectors;
    })?;
    add_record(
        tx,
        geo,
        parent,
        slot,
        (name, ino, EXT4_FT_SYMLINK),
        n.now,
        false,
    )?;
    Ok(Some(ino))
}

/// The directory-entry file type of an inode (`ext4_set_de_type()`).
fn dirent_type(i: &Inode) -> Result<u8> {
    Ok(match i.file_type()? {
        FileType::Regular => EXT4_FT_REG_FILE,
        FileType::Directory => EXT4_FT_DIR,
        FileType::Symlink => EXT4_FT_SYMLINK,
        FileType::CharDevice => EXT4_FT_CHRDEV,
        FileType::BlockDevice => EXT4_FT_BLKDEV,
        FileType::Fifo => EXT4_FT_FIFO,
        FileType::Socket => EXT4_FT_SOCK,
    })
}

/// Creates the empty directory `name` in `dir` (`ext4_mkdir()` with
/// `ext4_init_new_dir()`): a directory inode with two links and one block
/// holding `.` and `..` (and the checksum tail), the parent's link count
/// up by one. `Ok(None)` when there is no free inode or block (`ENOSPC`;
/// nothing is left allocated then).
pub fn mkdir<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    n: &NewInode,
) -> Result<Option<u32>> {
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let target = find_target(tx, geo, parent, name)?;
    if d.i_links_count >= EXT4_LINK_MAX {
        return Err(Error::Refused(Errno::TooManyLinks));
    }
    let group = geo.inode_location(dir)?.group;
    let goal = geo.group_first_block(group)?;
    let Some(ino) = alloc_inode(tx, geo, group, true)? else {
        return Ok(None);
    };
    let Some(blk) = alloc_block(tx, geo, goal)? else {
        free_inode(tx, geo, ino, true)?;
        return Ok(None);
    };
    // The new directory's extent root, built before any inode is written.
    let mut i_block = [0u8; EXT4_I_BLOCK_SIZE];
    empty_extent_root(&mut i_block)?;
    root_append(&mut i_block, geo, 0, blk)?;
    init_inode(tx, geo, ino, n, S_IFDIR, 2, None)?;
    let csum = geo.has_metadata_csum();
    let seed = ext4_inode_csum_seed(geo.csum_seed, ino, n.generation);
    let buf = tx.new_block(blk)?;
    tx.edit(&buf, |b| {
        init_dir_block(b, geo, ino, dir, csum)?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    let sectors = geo.block_size >> 9;
    edit_inode(tx, geo, ino, |i| {
        i.i_block = i_block;
        i.i_size_lo = geo.block_size;
        i.i_blocks_lo = sectors;
    })?;
    add_record(
        tx,
        geo,
        parent,
        target,
        (name, ino, EXT4_FT_DIR),
        n.now,
        true,
    )?;
    Ok(Some(ino))
}

/// The directory's leaf blocks, each checked (inside the file system, leaf
/// checksum) and passed to `f` until it returns `Some`; `Unsupported` for
/// the layouts this layer cannot walk yet.
fn for_each_dir_block<T: Trans, R>(
    tx: &mut T,
    geo: &Geometry,
    dir: Dir<'_>,
    mut f: impl FnMut(&mut T, T::Buf) -> Result<Option<R>>,
) -> Result<Option<R>> {
    let d = dir.inode;
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir.ino, d.i_generation);
    if d.file_type()? != FileType::Directory {
        return Err(Error::Corrupt("not a directory"));
    }
    // An indexed directory's leaves are walked the same way; its index
    // blocks hold no names and are passed over.
    let indexed = d.has_flag(EXT4_INDEX_FL);
    if !d.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("block-mapped directory"));
    }
    let blocks = dir_blocks(geo, d)?;
    let mut root = d.i_block;
    let t = Tree {
        ino: dir.ino,
        seed,
        root: &mut root,
        goal: 0,
        blocks: 0,
    };
    let mut lblk = 0u32;
    while lblk < blocks {
        let (len, pblk) = match lookup_extent(tx, geo, &t, lblk)? {
            Found::Mapped { len, pblk, .. } => (len.min(blocks.saturating_sub(lblk)), Some(pblk)),
            // A hole in a linear directory holds no names.
            Found::Hole { len, .. } => (
                u32::try_from(len)
                    .unwrap_or(u32::MAX)
                    .min(blocks.saturating_sub(lblk)),
                None,
            ),
        };
        if let Some(first) = pblk {
            for i in 0..u64::from(len) {
                let blk = first.checked_add(i).ok_or(Error::Corrupt("extent"))?;
                geo.check_block_range(blk, 1)?;
                let buf = tx.bread(blk)?;
                let at = u32::try_from(i)
                    .ok()
                    .and_then(|i| lblk.checked_add(i))
                    .ok_or(Error::Corrupt("directory block"))?;
                if indexed && !super::htree::is_leaf(tx.data(&buf), at)? {
                    continue;
                }
                // ext4_read_dirblock(): a leaf is used only if its checksum holds.
                if geo.has_metadata_csum() {
                    ext4_dirblock_csum_verify(tx.data(&buf), seed)?;
                }
                if let Some(r) = f(tx, buf)? {
                    return Ok(Some(r));
                }
            }
        }
        lblk = lblk.saturating_add(len.max(1));
    }
    Ok(None)
}

/// Frees inode `ino` (`victim`) at its last link, as eviction does:
/// `ext4_truncate()` to nothing (the blocks its extent root maps), the
/// deletion time, then `ext4_free_inode()`.
fn evict<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    victim: &Inode,
    now: Time,
    is_dir: bool,
) -> Result<()> {
    let mut root = victim.i_block;
    // A directory's and a slow symlink's blocks went through the journal
    // as metadata: they are revoked as they are freed (ext4 frees them
    // with EXT4_FREE_BLOCKS_METADATA).
    let revoke = is_dir || victim.file_type()? == FileType::Symlink;
    if victim.has_flag(EXT4_EXTENTS_FL) {
        let mut t = Tree {
            ino,
            seed: ext4_inode_csum_seed(geo.csum_seed, ino, victim.i_generation),
            root: &mut root,
            goal: 0,
            blocks: 0,
        };
        let mut budget = u32::MAX;
        if !remove_from(tx, geo, &mut t, 0, revoke, &mut budget)? {
            return Err(Error::Corrupt("extent tree removal stopped"));
        }
    }
    // The xattr block (`ext4_xattr_delete_inode()`): freed, or one owner
    // less if ext4 shared it.
    let acl = victim.file_acl(geo);
    if acl != 0 {
        super::xattr::release_block(tx, geo, acl)?;
    }
    let (t, _) = now.encode();
    edit_inode(tx, geo, ino, |i| {
        i.i_block = root;
        i.i_file_acl_lo = 0;
        i.l_i_file_acl_high = 0;
        touch(i, now, false);
        i.i_links_count = 0;
        i.i_dtime = t;
        i.i_size_lo = 0;
        i.i_size_high = 0;
        i.i_blocks_lo = 0;
        i.l_i_blocks_high = 0;
    })?;
    free_inode(tx, geo, ino, is_dir)
}

/// Whether this layer can free everything `victim` owns, checked before
/// anything changes: an xattr block it can release, an extent root it can
/// walk, and every block that root maps marked in use (a double free found
/// half way would leave the name gone and the inode half freed).
fn check_evictable<T: Trans>(tx: &mut T, geo: &Geometry, victim: &Inode) -> Result<()> {
    let acl = victim.file_acl(geo);
    if acl != 0 {
        super::xattr::check_block(tx, geo, acl)?;
    }
    if !victim.has_flag(EXT4_EXTENTS_FL) {
        // Blocks besides the xattr block (counted in i_blocks too).
        let xattr_block = if acl != 0 {
            u64::from(geo.block_size)
        } else {
            0
        };
        let owns_blocks = victim.blocks(geo).saturating_mul(512) > xattr_block;
        return match owns_blocks {
            true => Err(Error::Unsupported("freeing a block-mapped file's blocks")),
            false => Ok(()),
        };
    }
    if depth(&victim.i_block) > 0 {
        // Index levels: the removal checks each block as it frees it.
        return Ok(());
    }
    for run in root_runs(&victim.i_block, geo)? {
        let (start, len) = run?;
        geo.check_block_range(start, u64::from(len))?;
        for b in 0..u64::from(len) {
            if !is_allocated(tx, geo, start.saturating_add(b))? {
                return Err(Error::Corrupt("file maps a free block"));
            }
        }
    }
    Ok(())
}

/// Finds `name` in `dir`: the block holding it and the inode it names.
fn lookup<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    d: Dir<'_>,
    name: &[u8],
) -> Result<Option<(T::Buf, u32)>> {
    // `.` and `..` are the first two records of block 0, which in an
    // indexed directory is the index root, not a leaf.
    if name == b"." || name == b".." {
        let buf = first_dir_block(tx, geo, d)?;
        let hit = search_dir(tx.data(&buf), geo, name)?.map(|e| e.inode);
        return Ok(hit.map(|ino| (buf, ino)));
    }
    for_each_dir_block(tx, geo, d, |tx, buf| {
        let hit = search_dir(tx.data(&buf), geo, name)?.map(|e| e.inode);
        Ok(hit.map(|ino| (buf, ino)))
    })
}

/// Block 0 of directory `d`, its checksum checked: a leaf's, or the index
/// root's in an indexed directory.
fn first_dir_block<T: Trans>(tx: &mut T, geo: &Geometry, d: Dir<'_>) -> Result<T::Buf> {
    let di = d.inode;
    if di.file_type()? != FileType::Directory {
        return Err(Error::Corrupt("not a directory"));
    }
    if !di.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("block-mapped directory"));
    }
    let seed = ext4_inode_csum_seed(geo.csum_seed, d.ino, di.i_generation);
    let mut root = di.i_block;
    let t = Tree {
        ino: d.ino,
        seed,
        root: &mut root,
        goal: 0,
        blocks: 0,
    };
    let Found::Mapped { pblk, .. } = lookup_extent(tx, geo, &t, 0)? else {
        return Err(Error::Corrupt("directory without block 0"));
    };
    geo.check_block_range(pblk, 1)?;
    let buf = tx.bread(pblk)?;
    if geo.has_metadata_csum() {
        match di.has_flag(EXT4_INDEX_FL) {
            true => ext4_dx_csum_verify(tx.data(&buf), seed)?,
            false => ext4_dirblock_csum_verify(tx.data(&buf), seed)?,
        }
    }
    Ok(buf)
}

/// Removes the record in `buf` of directory `dir`, with the leaf checksum,
/// and updates the directory inode (times; one link less for a removed
/// subdirectory's `..`).
fn remove_record<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: Dir<'_>,
    buf: &T::Buf,
    name: &[u8],
    now: Time,
    subdir: bool,
) -> Result<()> {
    let (d, dir) = (dir.inode, dir.ino);
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir, d.i_generation);
    let csum = geo.has_metadata_csum();
    tx.edit(buf, |b| {
        remove_entry(b, geo, name)?.ok_or(Error::Corrupt("directory entry vanished"))?;
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })??;
    edit_inode(tx, geo, dir, |i| {
        touch(i, now, true);
        // A count held at 1 by dir_nlink stays 1.
        if subdir && i.i_links_count > 2 {
            i.i_links_count = i.i_links_count.saturating_sub(1);
        }
    })
}

/// Removes the name `name` from directory `dir` (`ext4_unlink()`) and
/// returns the inode it named; at its last link the inode and its blocks
/// are freed. `Ok(None)` if there is no such name (`ENOENT`). A directory
/// is `Refused(IsDir)` here (that is [`rmdir`]).
pub fn unlink<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    now: Time,
) -> Result<Option<u32>> {
    unlink_as(tx, geo, dir, name, now, Last::Free)
}

/// What happens to an inode when its last name goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Last {
    /// Freed at once with its blocks (nobody can hold it open: the host).
    Free,
    /// Left with a link count of 0 for [`free_unlinked`] to free when the
    /// last user lets go (the kernel's `evict_inode`, as ext4 does).
    Keep,
}

/// [`unlink`], with the inode at its last link freed or kept (`last`).
pub fn unlink_as<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    now: Time,
    last_link: Last,
) -> Result<Option<u32>> {
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let Some((buf, ino)) = lookup(tx, geo, parent, name)? else {
        return Ok(None);
    };
    let victim = read_inode(tx, geo, ino)?;
    if victim.file_type()? == FileType::Directory {
        return Err(Error::Refused(Errno::IsDir));
    }
    let last = victim.i_links_count <= 1;
    // Whether it is freed now or at eviction, the freeing must be possible:
    // checked before the name goes.
    if last {
        check_evictable(tx, geo, &victim)?;
    }
    // Kept without a link until its eviction: an orphan till then. Listed
    // first: the list walk is the step that can find damage, and nothing
    // has changed yet then.
    if last && last_link == Last::Keep {
        super::orphan::add(tx, geo, ino)?;
    }
    remove_record(tx, geo, parent, &buf, name, now, false)?;
    if last && last_link == Last::Free {
        evict(tx, geo, ino, &victim, now, false)?;
    } else {
        edit_inode(tx, geo, ino, |i| {
            i.i_links_count = i.i_links_count.saturating_sub(1);
            touch(i, now, false);
        })?;
    }
    Ok(Some(ino))
}

/// Removes the empty directory `name` from `dir` (`ext4_rmdir()`) and
/// returns its inode number, freed with its blocks; the parent loses the
/// link its `..` held. `Ok(None)` if there is no such name;
/// `Refused(NotEmpty)` (`ENOTEMPTY`) if it holds anything
/// but `.` and `..`; `Refused(NotDir)` (`ENOTDIR`).
pub fn rmdir<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    now: Time,
) -> Result<Option<u32>> {
    rmdir_as(tx, geo, dir, name, now, Last::Free)
}

/// [`rmdir`], with the directory inode freed or kept (`last`).
pub fn rmdir_as<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: u32,
    name: &[u8],
    now: Time,
    last: Last,
) -> Result<Option<u32>> {
    if name == b"." || name == b".." {
        return Err(Error::Refused(Errno::Invalid));
    }
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let Some((buf, ino)) = lookup(tx, geo, parent, name)? else {
        return Ok(None);
    };
    let victim = read_inode(tx, geo, ino)?;
    if victim.file_type()? != FileType::Directory {
        return Err(Error::Refused(Errno::NotDir));
    }
    // ext4_empty_dir(): nothing live but "." and "..".
    let inodes = geo.inodes_count;
    let busy = for_each_dir_block(
        tx,
        geo,
        Dir {
            ino,
            inode: &victim,
        },
        |tx, b| {
            for e in DirBlockIter::new(tx.data(&b), inodes) {
                let e = e?;
                if e.inode != 0 && e.name != b"." && e.name != b".." {
                    return Ok(Some(()));
                }
            }
            Ok(None)
        },
    )?;
    if busy.is_some() {
        return Err(Error::Refused(Errno::NotEmpty));
    }
    check_evictable(tx, geo, &victim)?;
    if last == Last::Keep {
        // Listed first: the list walk is the step that can find damage,
        // and nothing has changed yet then.
        super::orphan::add(tx, geo, ino)?;
        remove_record(tx, geo, parent, &buf, name, now, true)?;
        edit_inode(tx, geo, ino, |i| {
            i.i_links_count = 0;
            touch(i, now, false);
        })?;
        return Ok(Some(ino));
    }
    remove_record(tx, geo, parent, &buf, name, now, true)?;
    evict(tx, geo, ino, &victim, now, true)?;
    Ok(Some(ino))
}

/// Frees inode `ino`, which [`unlink_as`] or [`rmdir_as`] left with no
/// link ([`Last::Keep`]), and the blocks it owns (`ext4_evict_inode()`).
/// An inode that has links again is corrupt here.
pub fn free_unlinked<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32, now: Time) -> Result<()> {
    let victim = read_inode(tx, geo, ino)?;
    if victim.i_links_count != 0 {
        return Err(Error::Corrupt("evicting an inode with links"));
    }
    let is_dir = victim.file_type()? == FileType::Directory;
    check_evictable(tx, geo, &victim)?;
    // Off the orphan list first: evict() reuses i_dtime.
    super::orphan::del(tx, geo, ino)?;
    let victim = read_inode(tx, geo, ino)?;
    evict(tx, geo, ino, &victim, now, is_dir)
}

/// Whether directory `ancestor` is `dir` or above it: walks `..` from
/// `dir` to the root (bounded by the inode count, so a looping tree ends).
fn is_ancestor<T: Trans>(tx: &mut T, geo: &Geometry, ancestor: u32, dir: u32) -> Result<bool> {
    let mut cur = dir;
    for _ in 0..geo.inodes_count {
        if cur == ancestor {
            return Ok(true);
        }
        if cur == 2 {
            return Ok(false);
        }
        let d = read_inode(tx, geo, cur)?;
        cur = lookup(
            tx,
            geo,
            Dir {
                ino: cur,
                inode: &d,
            },
            b"..",
        )?
        .map(|(_, ino)| ino)
        .ok_or(Error::Corrupt("directory without .."))?;
    }
    Err(Error::Corrupt("directory tree loops"))
}

/// Points the `..` record of directory `ino` at `parent` (rename across
/// directories), with the leaf checksum.
fn set_dotdot<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32, parent: u32) -> Result<()> {
    let d = read_inode(tx, geo, ino)?;
    let (buf, _) = lookup(tx, geo, Dir { ino, inode: &d }, b"..")?
        .ok_or(Error::Corrupt("directory without .."))?;
    let seed = ext4_inode_csum_seed(geo.csum_seed, ino, d.i_generation);
    let csum = geo.has_metadata_csum();
    let indexed = d.has_flag(EXT4_INDEX_FL);
    let inodes = geo.inodes_count;
    tx.edit(&buf, |b| {
        let at = DirBlockIter::new(b, inodes)
            .filter_map(|e| e.ok())
            .find(|e| e.inode != 0 && e.name == b"..")
            .map(|e| e.offset)
            .ok_or(Error::Corrupt("directory without .."))?;
        super::super::ondisk::bytes::put_le32(b, at, parent, "dirent")?;
        // Block 0 of an indexed directory is the index root: its checksum
        // is the dx tail's.
        match (csum, indexed) {
            (true, true) => ext4_dx_csum_set(b, seed)?,
            (true, false) => ext4_dirblock_csum_set(b, seed)?,
            _ => {}
        }
        Ok::<(), Error>(())
    })?
}

/// Points the record `name` in block `buf` of directory `dir` at inode
/// `ino` of directory-entry type `ft` (an exchange), with the leaf
/// checksum.
fn set_record<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    dir: Dir<'_>,
    buf: &T::Buf,
    name: &[u8],
    (ino, ft): (u32, u8),
) -> Result<()> {
    let seed = ext4_inode_csum_seed(geo.csum_seed, dir.ino, dir.inode.i_generation);
    let csum = geo.has_metadata_csum();
    let filetype = geo.has_incompat(super::super::ondisk::features::EXT4_FEATURE_INCOMPAT_FILETYPE);
    let inodes = geo.inodes_count;
    tx.edit(buf, |b| {
        let at = DirBlockIter::new(b, inodes)
            .filter_map(|e| e.ok())
            .find(|e| e.inode != 0 && e.name == name)
            .map(|e| e.offset)
            .ok_or(Error::Corrupt("exchanged name vanished"))?;
        super::super::ondisk::bytes::put_le32(b, at, ino, "dirent")?;
        if filetype {
            *b.get_mut(at.saturating_add(7))
                .ok_or(Error::Corrupt("dirent"))? = ft;
        }
        if csum {
            ext4_dirblock_csum_set(b, seed)?;
        }
        Ok::<(), Error>(())
    })?
}

/// Exchanges `aname` in directory `adir` and `bname` in `bdir`
/// (`RENAME_EXCHANGE`, `ext4_cross_rename()`): each record then names the
/// other's inode. A directory that changes parent gets its `..` rewritten
/// and the parents' link counts follow; neither may end up below itself
/// (`Refused(Invalid)`). Returns the two inodes, `Ok(None)` if a name does
/// not exist (`ENOENT`). Everything is checked before anything changes.
pub fn exchange<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    (adir, aname): (u32, &[u8]),
    (bdir, bname): (u32, &[u8]),
    now: Time,
) -> Result<Option<(u32, u32)>> {
    for n in [aname, bname] {
        if n == b"." || n == b".." {
            return Err(Error::Refused(Errno::Invalid));
        }
    }
    let ad = read_inode(tx, geo, adir)?;
    let Some((_, aino)) = lookup(
        tx,
        geo,
        Dir {
            ino: adir,
            inode: &ad,
        },
        aname,
    )?
    else {
        return Ok(None);
    };
    let bd = read_inode(tx, geo, bdir)?;
    let Some((_, bino)) = lookup(
        tx,
        geo,
        Dir {
            ino: bdir,
            inode: &bd,
        },
        bname,
    )?
    else {
        return Ok(None);
    };
    if aino == bino {
        return Ok(Some((aino, bino)));
    }
    let (ai, bi) = (read_inode(tx, geo, aino)?, read_inode(tx, geo, bino)?);
    let a_dir = ai.file_type()? == FileType::Directory;
    let b_dir = bi.file_type()? == FileType::Directory;
    let (aft, bft) = (dirent_type(&ai)?, dirent_type(&bi)?);
    let cross = adir != bdir;
    if cross {
        if (a_dir && is_ancestor(tx, geo, aino, bdir)?)
            || (b_dir && is_ancestor(tx, geo, bino, adir)?)
        {
            return Err(Error::Refused(Errno::Invalid));
        }
        // A directory going where none comes back raises that parent's count.
        if (a_dir && !b_dir && bd.i_links_count >= EXT4_LINK_MAX)
            || (b_dir && !a_dir && ad.i_links_count >= EXT4_LINK_MAX)
        {
            return Err(Error::Refused(Errno::TooManyLinks));
        }
    }
    let (abuf, _) = lookup(
        tx,
        geo,
        Dir {
            ino: adir,
            inode: &ad,
        },
        aname,
    )?
    .ok_or(Error::Corrupt("exchanged name vanished"))?;
    set_record(
        tx,
        geo,
        Dir {
            ino: adir,
            inode: &ad,
        },
        &abuf,
        aname,
        (bino, bft),
    )?;
    let (bbuf, _) = lookup(
        tx,
        geo,
        Dir {
            ino: bdir,
            inode: &bd,
        },
        bname,
    )?
    .ok_or(Error::Corrupt("exchanged name vanished"))?;
    set_record(
        tx,
        geo,
        Dir {
            ino: bdir,
            inode: &bd,
        },
        &bbuf,
        bname,
        (aino, aft),
    )?;
    if cross {
        if a_dir {
            set_dotdot(tx, geo, aino, bdir)?;
        }
        if b_dir {
            set_dotdot(tx, geo, bino, adir)?;
        }
    }
    // Link counts: +1 for a directory arriving, -1 for one leaving (a count
    // held at 1 by dir_nlink stays).
    let delta = |gains: bool, loses: bool| i32::from(gains).saturating_sub(i32::from(loses));
    let (da, db) = match cross {
        true => (delta(b_dir, a_dir), delta(a_dir, b_dir)),
        false => (0, 0),
    };
    for (dir, d) in [(adir, da), (bdir, db)] {
        edit_inode(tx, geo, dir, |i| {
            touch(i, now, true);
            if i.i_links_count != 1 {
                i.i_links_count = match d {
                    1 => i.i_links_count.saturating_add(1),
                    -1 => i.i_links_count.saturating_sub(1),
                    _ => i.i_links_count,
                };
            }
        })?;
        if !cross {
            break;
        }
    }
    for ino in [aino, bino] {
        edit_inode(tx, geo, ino, |i| touch(i, now, false))?;
    }
    Ok(Some((aino, bino)))
}

/// Renames `oname` in directory `odir` to `nname` in `ndir`
/// (`ext4_rename()` with `RENAME_NOREPLACE`): the target name must not
/// exist (`Refused(Exists)`, `EEXIST`); a directory cannot move
/// below itself (`Refused(Invalid)`, `EINVAL`); a moved
/// directory's `..` and both parents' link counts follow. Returns the
/// renamed inode, `Ok(None)` if `oname` does not exist (`ENOENT`).
/// Everything is checked before anything changes.
pub fn rename<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    (odir, oname): (u32, &[u8]),
    (ndir, nname): (u32, &[u8]),
    now: Time,
) -> Result<Option<u32>> {
    for n in [oname, nname] {
        if n == b"." || n == b".." {
            return Err(Error::Refused(Errno::Invalid));
        }
    }
    let od = read_inode(tx, geo, odir)?;
    let Some((_, ino)) = lookup(
        tx,
        geo,
        Dir {
            ino: odir,
            inode: &od,
        },
        oname,
    )?
    else {
        return Ok(None);
    };
    if odir == ndir && oname == nname {
        return Ok(Some(ino));
    }
    let victim = read_inode(tx, geo, ino)?;
    let is_dir = victim.file_type()? == FileType::Directory;
    let ft = dirent_type(&victim)?;
    let moves_dir = is_dir && odir != ndir;
    if moves_dir && is_ancestor(tx, geo, ino, ndir)? {
        return Err(Error::Refused(Errno::Invalid));
    }
    let nd = read_inode(tx, geo, ndir)?;
    if moves_dir && nd.i_links_count >= EXT4_LINK_MAX {
        return Err(Error::Refused(Errno::TooManyLinks));
    }
    let target = find_target(
        tx,
        geo,
        Dir {
            ino: ndir,
            inode: &nd,
        },
        nname,
    )?;
    // The new record first, then the old one goes (as ext4: a crash in
    // between leaves two names, never none).
    let new_parent = Dir {
        ino: ndir,
        inode: &nd,
    };
    add_record(
        tx,
        geo,
        new_parent,
        target,
        (nname, ino, ft),
        now,
        moves_dir,
    )?;
    // The old directory may be the new one: read it again, and find the
    // old name again (a leaf split or a directory being indexed may have
    // moved its record to another block).
    let od = read_inode(tx, geo, odir)?;
    let old_parent = Dir {
        ino: odir,
        inode: &od,
    };
    let (obuf, _) =
        lookup(tx, geo, old_parent, oname)?.ok_or(Error::Corrupt("renamed name vanished"))?;
    remove_record(tx, geo, old_parent, &obuf, oname, now, moves_dir)?;
    if moves_dir {
        set_dotdot(tx, geo, ino, ndir)?;
    }
    edit_inode(tx, geo, ino, |i| touch(i, now, false))?;
    Ok(Some(ino))
}

/// Adds the name `name` in `dir` for the existing regular file `ino`
/// (`ext4_link()`): one more link; `Refused(Exists)` (`EEXIST`),
/// `Refused(TooManyLinks)` (`EMLINK`) at `EXT4_LINK_MAX`, and
/// directories refused (`EPERM`: `Refused(Perm)`).
pub fn link<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    (dir, name): (u32, &[u8]),
    now: Time,
) -> Result<()> {
    let target_inode = read_inode(tx, geo, ino)?;
    if target_inode.file_type()? == FileType::Directory {
        return Err(Error::Refused(Errno::Perm));
    }
    let ft = dirent_type(&target_inode)?;
    if target_inode.i_links_count >= EXT4_LINK_MAX {
        return Err(Error::Refused(Errno::TooManyLinks));
    }
    let d = read_inode(tx, geo, dir)?;
    let parent = Dir {
        ino: dir,
        inode: &d,
    };
    let target = find_target(tx, geo, parent, name)?;
    add_record(tx, geo, parent, target, (name, ino, ft), now, false)?;
    edit_inode(tx, geo, ino, |i| {
        i.i_links_count = i.i_links_count.saturating_add(1);
        touch(i, now, false);
    })
}
