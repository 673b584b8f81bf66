// SPDX-License-Identifier: GPL-2.0

//! Setting and removing extended attributes (`ext4_xattr_set_handle()`):
//! the in-inode area first, the xattr block (`i_file_acl`) when the inode
//! has no room, as ext4 chooses; an attribute lives in one of the two.
//!
//! An area is rewritten whole from its old entries and the change, into a
//! scratch buffer the caller lends (the layer does not allocate), then
//! copied over the old bytes: entries from the front, values packed from
//! the end, padding zero, every `e_hash` and the block's `h_hash` and
//! checksum recomputed. The in-inode list keeps its order with a new name
//! last; the block's stays sorted by (index, name length, name), which
//! ext4's block search relies on. A block another inode shares (ext4
//! shares identical blocks through its mbcache; `h_refcount` counts the
//! owners) is never changed in place: the inode gets a copy and the old
//! block one owner less. A block left empty is freed (revoked in the
//! journal) or dropped to one owner less. rext4 does not share blocks
//! itself.

use super::super::ondisk::bytes::{le32, put_le16, put_le32};
use super::super::ondisk::features::EXT4_FEATURE_COMPAT_EXT_ATTR;
use super::super::ondisk::inode::{ext4_inode_csum_set, Inode};
use super::super::ondisk::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE};
use super::super::ondisk::xattr::{
    ext4_xattr_block_csum, ext4_xattr_block_csum_verify, xattr_entry_len, XattrList,
    EXT4_XATTR_ENTRY_SIZE, EXT4_XATTR_HEADER_SIZE, EXT4_XATTR_IBODY_HEADER_SIZE, EXT4_XATTR_MAGIC,
};
use super::super::ondisk::{Errno, Error, Result};
use super::balloc::{alloc_block, free_block, is_allocated};
use super::inode::{edit_inode, inode_slot, read_inode, Time};
use super::trans::Trans;

/// Journal credits of one set or removal (`__ext4_xattr_set_credits()`
/// without quota or `ea_inode`): the inode, the old block's refcount, a
/// new block with its bitmap and descriptor, the old block's bitmap and
/// descriptor, and the super block for the `ext_attr` feature.
pub const SET_CREDITS: u32 = 8;

/// How a set treats an existing attribute (`XATTR_CREATE`,
/// `XATTR_REPLACE`, neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Create or replace.
    Any,
    /// Only create: `EEXIST` if it exists.
    Create,
    /// Only replace: `ENODATA` if it does not exist.
    Replace,
}

/// One change: the attribute (name index and the name after its prefix)
/// and its new value, `None` to remove it.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// `EXT4_XATTR_INDEX_*`.
    pub index: u8,
    /// The stored name (at most 255 bytes, no NUL).
    pub name: &'a [u8],
    /// The value, or `None` to remove.
    pub value: Option<&'a [u8]>,
    /// `XATTR_CREATE` / `XATTR_REPLACE`.
    pub mode: Mode,
}

/// `ext4_xattr_hash_entry()`: the name's bytes, then the value's
/// little-endian words (the value padded with zeros to a word).
fn entry_hash(name: &[u8], value: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        h = (h << 5) ^ (h >> 27) ^ u32::from(c);
    }
    for w in value.chunks(4) {
        let mut word = [0u8; 4];
        for (d, s) in word.iter_mut().zip(w) {
            *d = *s;
        }
        h = (h << 16) ^ (h >> 16) ^ u32::from_le_bytes(word);
    }
    h
}

/// `EXT4_XATTR_SIZE()`.
fn padded(len: usize) -> usize {
    len.saturating_add(3) & !3
}

/// ext4's block order (`ext4_xattr_find_entry()` sorted): index, then name
/// length, then the name's bytes.
fn order(a: (u8, &[u8]), b: (u8, &[u8])) -> core::cmp::Ordering {
    a.0.cmp(&b.0)
        .then(a.1.len().cmp(&b.1.len()))
        .then(a.1.cmp(b.1))
}

/// An area being rebuilt in the scratch buffer: entries grow from `next`,
/// values down from `values`.
struct Builder<'a> {
    out: &'a mut [u8],
    next: usize,
    values: usize,
    count: usize,
    /// Whether every entry has a nonzero hash (`ext4_xattr_rehash()`
    /// makes the block hash 0 otherwise).
    hashes: u32,
    all_hashed: bool,
}

impl<'a> Builder<'a> {
    fn new(out: &'a mut [u8], first: usize) -> Self {
        out.fill(0);
        let values = out.len();
        Builder {
            out,
            next: first,
            values,
            count: 0,
            hashes: 0,
            all_hashed: true,
        }
    }

    /// Appends one entry with an inline value; `Refused(NoSpace)` if the
    /// area cannot hold it with the terminating word.
    fn push(&mut self, index: u8, name: &[u8], value: &[u8]) -> Result<()> {
        let name_len = u8::try_from(name.len()).map_err(|_| Error::OutOfRange("xattr name"))?;
        let elen = xattr_entry_len(name.len());
        let vlen = padded(value.len());
        let full = Error::Refused(Errno::NoSpace);
        let values = self.values.checked_sub(vlen).ok_or(full)?;
        let end = self.next.saturating_add(elen).saturating_add(4);
        if end > values {
            return Err(full);
        }
        let offs = match value.is_empty() {
            true => 0,
            false => u16::try_from(values).map_err(|_| Error::OutOfRange("xattr value"))?,
        };
        let size = u32::try_from(value.len()).map_err(|_| Error::OutOfRange("xattr value"))?;
        let hash = entry_hash(name, value);
        let at = self.next;
        let e = self.out.get_mut(at..at.saturating_add(elen)).ok_or(full)?;
        e.get_mut(..2)
            .ok_or(full)?
            .copy_from_slice(&[name_len, index]);
        put_le16(e, 2, offs, "xattr entry")?;
        put_le32(e, 4, 0, "xattr entry")?;
        put_le32(e, 8, size, "xattr entry")?;
        put_le32(e, 12, hash, "xattr entry")?;
        e.get_mut(EXT4_XATTR_ENTRY_SIZE..EXT4_XATTR_ENTRY_SIZE.saturating_add(name.len()))
            .ok_or(full)?
            .copy_from_slice(name);
        self.out
            .get_mut(values..values.saturating_add(value.len()))
            .ok_or(full)?
            .copy_from_slice(value);
        self.next = at.saturating_add(elen);
        self.values = values;
        self.count = self.count.saturating_add(1);
        if hash == 0 {
            self.all_hashed = false;
        }
        self.hashes = (self.hashes << 16) ^ (self.hashes >> 16) ^ hash;
        Ok(())
    }

    /// `h_hash` of a block with these entries.
    fn block_hash(&self) -> u32 {
        match self.all_hashed {
            true => self.hashes,
            false => 0,
        }
    }
}

/// Rebuilds `old` (or an empty area) with `c` applied into `b`. `sorted`
/// keeps the block order; otherwise a new name goes last.
fn rebuild(
    old: Option<&XattrList<'_>>,
    c: &Change<'_>,
    sorted: bool,
    b: &mut Builder<'_>,
) -> Result<()> {
    let mut pending = c.value;
    if let Some(list) = old {
        for e in list.iter() {
            let e = e?;
            let target = e.e_name_index == c.index && e.name == c.name;
            if target {
                if let Some(v) = pending.take() {
                    b.push(c.index, c.name, v)?;
                }
                continue;
            }
            if sorted && order((c.index, c.name), (e.e_name_index, e.name)).is_lt() {
                if let Some(v) = pending.take() {
                    b.push(c.index, c.name, v)?;
                }
            }
            b.push(e.e_name_index, e.name, e.value()?)?;
        }
    }
    if let Some(v) = pending {
        b.push(c.index, c.name, v)?;
    }
    Ok(())
}

/// Where the in-inode area of an inode is: its start in the inode (the
/// magic) and whether there is room for one (`EXT4_INODE_HAS_XATTR_SPACE()`).
fn ibody_start(geo: &Geometry, i: &Inode) -> Option<usize> {
    let isize = usize::from(geo.inode_size);
    let start = usize::from(EXT4_GOOD_OLD_INODE_SIZE).saturating_add(usize::from(i.i_extra_isize));
    let room =
        i.i_extra_isize != 0 && start.saturating_add(EXT4_XATTR_IBODY_HEADER_SIZE + 4) <= isize;
    room.then_some(start)
}

/// The attribute `c` names in a list: `Some(value equal)` if present.
fn find(list: Option<&XattrList<'_>>, c: &Change<'_>) -> Result<Option<bool>> {
    let Some(list) = list else { return Ok(None) };
    Ok(list
        .find(c.index, c.name)?
        .map(|e| c.value.is_some_and(|v| e.value().is_ok_and(|old| old == v))))
}

/// Rewrites the in-inode area of `ino` with `c` applied. `Refused(NoSpace)`
/// (nothing changed) if the result does not fit or there is no area.
fn ibody_set<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    c: &Change<'_>,
    scratch: &mut [u8],
) -> Result<()> {
    let (buf, off) = inode_slot(tx, geo, ino)?;
    let isize = usize::from(geo.inode_size);
    let raw = tx
        .data(&buf)
        .get(off..off.saturating_add(isize))
        .ok_or(Error::Corrupt("inode offset"))?;
    let inode = Inode::parse(raw, geo)?;
    let start = ibody_start(geo, &inode).ok_or(Error::Refused(Errno::NoSpace))?;
    let first = start.saturating_add(EXT4_XATTR_IBODY_HEADER_SIZE);
    let len = isize.saturating_sub(first);
    let out = scratch
        .get_mut(..len)
        .ok_or(Error::OutOfRange("xattr scratch"))?;
    let mut b = Builder::new(out, 0);
    let old = XattrList::parse_ibody(raw, geo, inode.i_extra_isize)?;
    rebuild(old.as_ref(), c, false, &mut b)?;
    let any = b.count > 0;
    tx.edit(&buf, |blk| {
        let raw = blk
            .get_mut(off..off.saturating_add(isize))
            .ok_or(Error::Corrupt("inode offset"))?;
        // An empty area loses its magic, as ext4 leaves it.
        let magic = if any { EXT4_XATTR_MAGIC } else { 0 };
        put_le32(raw, start, magic, "xattr ibody")?;
        raw.get_mut(first..)
            .ok_or(Error::Corrupt("xattr ibody"))?
            .copy_from_slice(b.out);
        ext4_inode_csum_set(raw, geo, ino)
    })?
}

/// The inode's xattr block, checked: number, header and entries.
struct Block<'a> {
    refcount: u32,
    list: XattrList<'a>,
}

fn read_block<'a, T: Trans>(
    tx: &'a T,
    geo: &Geometry,
    blk: u64,
    buf: &'a T::Buf,
) -> Result<Block<'a>> {
    let data = tx.data(buf);
    ext4_xattr_block_csum_verify(data, blk, geo)?;
    let (h, list) = XattrList::parse_block(data, geo)?;
    if h.h_refcount == 0 {
        return Err(Error::Corrupt("xattr block refcount"));
    }
    Ok(Block {
        refcount: h.h_refcount,
        list,
    })
}

/// Writes header, entries and checksum of a block from `b`.
fn seal_block(out: &mut [u8], blk: u64, refcount: u32, hash: u32, geo: &Geometry) -> Result<()> {
    put_le32(out, 0, EXT4_XATTR_MAGIC, "xattr header")?;
    put_le32(out, 4, refcount, "xattr header")?;
    put_le32(out, 8, 1, "xattr header")?;
    put_le32(out, 12, hash, "xattr header")?;
    if geo.has_metadata_csum() {
        let csum = ext4_xattr_block_csum(out, blk, geo)?;
        put_le32(out, 16, csum, "xattr header")?;
    }
    Ok(())
}

/// Sets the block's `h_refcount` and checksum.
fn set_refcount<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    buf: &T::Buf,
    blk: u64,
    n: u32,
) -> Result<()> {
    tx.edit(buf, |b| {
        put_le32(b, 4, n, "xattr header")?;
        if geo.has_metadata_csum() {
            let csum = ext4_xattr_block_csum(b, blk, geo)?;
            put_le32(b, 16, csum, "xattr header")?;
        }
        Ok::<(), Error>(())
    })?
}

/// Points inode `ino` at xattr block `blk` (0: none) and adds `delta`
/// blocks to `i_blocks`.
fn set_file_acl<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    blk: u64,
    delta: i64,
) -> Result<()> {
    let mut r = Ok(());
    edit_inode(tx, geo, ino, |i| {
        i.i_file_acl_lo = (blk & 0xFFFF_FFFF) as u32;
        i.l_i_file_acl_high = (blk >> 32) as u16;
        if delta != 0 {
            r = super::data::add_blocks(i, geo, delta);
        }
    })?;
    r
}

/// Gives up inode `ino`'s hold on xattr block `blk`
/// (`ext4_xattr_release_block()`): the block is freed if this was its
/// only owner, else it keeps one owner less. The inode's `i_file_acl`
/// and `i_blocks` are the caller's.
pub fn release_block<T: Trans>(tx: &mut T, geo: &Geometry, blk: u64) -> Result<()> {
    geo.check_block_range(blk, 1)?;
    let buf = tx.bread(blk)?;
    let refcount = read_block(tx, geo, blk, &buf)?.refcount;
    if refcount > 1 {
        return set_refcount(tx, geo, &buf, blk, refcount.saturating_sub(1));
    }
    if !is_allocated(tx, geo, blk)? {
        return Err(Error::Corrupt("xattr block not in use"));
    }
    // Revoked as it is freed: a replay must not write it back over the
    // block's next owner.
    free_block(tx, geo, blk)
}

/// Checks that `release_block` can release `blk`, before anything changes
/// (an eviction must not stop half way).
pub fn check_block<T: Trans>(tx: &mut T, geo: &Geometry, blk: u64) -> Result<()> {
    geo.check_block_range(blk, 1)?;
    let buf = tx.bread(blk)?;
    let refcount = read_block(tx, geo, blk, &buf)?.refcount;
    if refcount == 1 && !is_allocated(tx, geo, blk)? {
        return Err(Error::Corrupt("xattr block not in use"));
    }
    Ok(())
}

/// Applies `c` to inode `ino`'s block, making or freeing it as needed
/// (`ext4_xattr_block_set()`). `Refused(NoSpace)` when the result does not
/// fit a block or no block is free; nothing changed then.
fn block_set<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    c: &Change<'_>,
    scratch: &mut [u8],
) -> Result<()> {
    let inode = read_inode(tx, geo, ino)?;
    let old_blk = inode.file_acl(geo);
    let bs = usize::try_from(geo.block_size).map_err(|_| Error::Corrupt("block size"))?;
    let out = scratch
        .get_mut(..bs)
        .ok_or(Error::OutOfRange("xattr scratch"))?;
    let mut b = Builder::new(out, EXT4_XATTR_HEADER_SIZE);
    let old_buf = match old_blk {
        0 => None,
        blk => {
            geo.check_block_range(blk, 1)?;
            Some(tx.bread(blk)?)
        }
    };
    let refcount = match &old_buf {
        Some(buf) => {
            let old = read_block(tx, geo, old_blk, buf)?;
            rebuild(Some(&old.list), c, true, &mut b)?;
            old.refcount
        }
        None => {
            rebuild(None, c, true, &mut b)?;
            0
        }
    };
    let hash = b.block_hash();
    match (old_buf, b.count) {
        // Nothing to store and nothing stored.
        (None, 0) => Ok(()),
        // The last attribute went: the inode lets go of the block.
        (Some(_), 0) => {
            release_block(tx, geo, old_blk)?;
            set_file_acl(tx, geo, ino, 0, -1)
        }
        // Ours alone: rewritten in place.
        (Some(buf), _) if refcount == 1 => {
            seal_block(b.out, old_blk, 1, hash, geo)?;
            tx.edit(&buf, |blk| blk.copy_from_slice(b.out))
        }
        // Shared, or none yet: a block of its own, near the inode.
        (old, _) => {
            let group = geo.inode_location(ino)?.group;
            let goal = geo.group_first_block(group)?;
            let blk = alloc_block(tx, geo, goal)?.ok_or(Error::Refused(Errno::NoSpace))?;
            seal_block(b.out, blk, 1, hash, geo)?;
            let nbuf = tx.new_block(blk)?;
            tx.edit(&nbuf, |d| d.copy_from_slice(b.out))?;
            match old {
                Some(obuf) => {
                    set_refcount(tx, geo, &obuf, old_blk, refcount.saturating_sub(1))?;
                    set_file_acl(tx, geo, ino, blk, 0)
                }
                None => set_file_acl(tx, geo, ino, blk, 1),
            }
        }
    }
}

/// Sets `s_feature_compat`'s `ext_attr` if it is not set yet
/// (`ext4_xattr_update_super_block()`).
fn note_feature<T: Trans>(tx: &mut T, geo: &Geometry) -> Result<()> {
    let (blk, off) = super::orphan::sb_slot(geo)?;
    let buf = tx.bread(blk)?;
    let raw = tx
        .data(&buf)
        .get(off..)
        .ok_or(Error::Corrupt("super block"))?;
    if le32(raw, 0x5C, "super block")? & EXT4_FEATURE_COMPAT_EXT_ATTR != 0 {
        return Ok(());
    }
    tx.edit(&buf, |b| {
        let raw = b.get_mut(off..).ok_or(Error::Corrupt("super block"))?;
        super::super::ondisk::superblock::set_compat(raw, EXT4_FEATURE_COMPAT_EXT_ATTR)
    })?
}

/// `ext4_xattr_set_handle()` for inode `ino`: applies `c` and sets the
/// change time to `now`. Returns whether anything changed (a value set to
/// what it was, or removing an absent name without [`Mode::Replace`],
/// changes nothing, as in ext4). `scratch` is at least a block. Errors:
/// `Refused(Exists)` / `Refused(NoData)` for the modes,
/// `Refused(NoSpace)` when the attribute fits neither the inode nor a
/// block or no block is free (nothing changed then).
pub fn set<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    c: &Change<'_>,
    now: Time,
    scratch: &mut [u8],
) -> Result<bool> {
    if c.name.len() > 255 || c.name.contains(&0) {
        return Err(Error::OutOfRange("xattr name"));
    }
    if scratch.len() < geo.block_size as usize {
        return Err(Error::OutOfRange("xattr scratch"));
    }
    // Where the name is now: the inode, else the block.
    let (buf, off) = inode_slot(tx, geo, ino)?;
    let isize = usize::from(geo.inode_size);
    let raw = tx
        .data(&buf)
        .get(off..off.saturating_add(isize))
        .ok_or(Error::Corrupt("inode offset"))?;
    let inode = Inode::parse(raw, geo)?;
    let ibody = XattrList::parse_ibody(raw, geo, inode.i_extra_isize)?;
    let in_ibody = find(ibody.as_ref(), c)?;
    let blk = inode.file_acl(geo);
    let in_block = match (in_ibody, blk) {
        (None, b) if b != 0 => {
            geo.check_block_range(b, 1)?;
            let bbuf = tx.bread(b)?;
            let block = read_block(tx, geo, b, &bbuf)?;
            find(Some(&block.list), c)?
        }
        _ => None,
    };
    let found = in_ibody.or(in_block);
    match (found, c.mode) {
        (Some(_), Mode::Create) => return Err(Error::Refused(Errno::Exists)),
        (None, Mode::Replace) => return Err(Error::Refused(Errno::NoData)),
        (None, _) if c.value.is_none() => return Ok(false),
        (Some(true), _) => return Ok(false),
        _ => {}
    }
    let removal = Change { value: None, ..*c };
    match c.value {
        None if in_ibody.is_some() => ibody_set(tx, geo, ino, c, scratch)?,
        None => block_set(tx, geo, ino, c, scratch)?,
        Some(_) => match ibody_set(tx, geo, ino, c, scratch) {
            Ok(()) => {
                if in_block.is_some() {
                    block_set(tx, geo, ino, &removal, scratch)?;
                }
            }
            Err(Error::Refused(Errno::NoSpace)) => {
                block_set(tx, geo, ino, c, scratch)?;
                if in_ibody.is_some() {
                    ibody_set(tx, geo, ino, &removal, scratch)?;
                }
            }
            Err(e) => return Err(e),
        },
    }
    note_feature(tx, geo)?;
    let (t, extra) = now.encode();
    edit_inode(tx, geo, ino, |i| {
        i.i_ctime = t;
        if i.i_ctime_extra.is_some() {
            i.i_ctime_extra = Some(extra);
        }
    })?;
    Ok(true)
}
