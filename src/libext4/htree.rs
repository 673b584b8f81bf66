// SPDX-License-Identifier: GPL-2.0

//! Indexed (htree) directories for the write path: where a new name goes
//! (`dx_probe()`, then `ext4_dx_add_entry()`), a full leaf split in two by
//! hash (`do_split()`), and room made for the new leaf's index entry as
//! `ext4_dx_add_entry()` makes it: a full interior node split in two under
//! a root with room, or a full root moved down into a new node (a second
//! level). A third level (`large_dir`) is not made: a directory that needs
//! one answers `Unsupported`. A one-block directory that fills up becomes
//! indexed (`make_indexed_dir()`), as in ext4 with `dir_index`.
//!
//! No allocation: the split picks its hash by bisection over the leaf's
//! names (hashing them again on each round) instead of sorting a map of
//! them, and moves the records one at a time.

use super::super::ondisk::dir::{
    ext4_dir_rec_len, ext4_dirblock_csum_set, ext4_dirblock_csum_verify, find_slot, init_dir_block,
    insert_entry, pack_leaf, rec_len_to_disk, remove_entry, search_dir, DirBlockIter, Slot,
    EXT4_NAME_LEN,
};
use super::super::ondisk::hash::{effective_hash_version, ext4fs_dirhash, DX_HASH_TEA};
use super::super::ondisk::htree::{
    dx_countlimit_offset, dx_node_limit, dx_root_limit, ext4_dx_csum_set, ext4_dx_csum_verify,
    DxNode, DxRoot, DX_ENTRY_SIZE, DX_NODE_ENTRIES_OFFSET, DX_ROOT_ENTRIES_OFFSET,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{bytes, Errno, Error, Result};
use super::extents::{lookup as lookup_extent, Found, Tree};
use super::trans::Trans;

/// The physical block of directory block `lblk` (a hole is corrupt in an
/// indexed directory: every block the index names is a leaf or a node).
fn dir_pblk<T: Trans>(tx: &mut T, geo: &Geometry, t: &Tree<'_>, lblk: u32) -> Result<u64> {
    match lookup_extent(tx, geo, t, lblk)? {
        Found::Mapped { pblk, .. } => {
            geo.check_block_range(pblk, 1)?;
            Ok(pblk)
        }
        Found::Hole { .. } => Err(Error::Corrupt("hole in an indexed directory")),
    }
}

/// An index block read and checked under `metadata_csum`.
fn read_index<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &Tree<'_>,
    lblk: u32,
) -> Result<(T::Buf, u64)> {
    let pblk = dir_pblk(tx, geo, t, lblk)?;
    let buf = tx.bread(pblk)?;
    if geo.has_metadata_csum() {
        ext4_dx_csum_verify(tx.data(&buf), t.seed)?;
    }
    Ok((buf, pblk))
}

/// What [`probe`] found for a name.
struct Probed<B> {
    /// The root and the slot taken in it.
    root: B,
    root_at: u16,
    /// The interior node under the root and the slot taken in it, in a
    /// directory with one (`indirect_levels` 1).
    node: Option<(B, u16)>,
    /// The leaf's logical block.
    leaf: u32,
    /// The name's hash and the hash version the directory uses.
    hash: u32,
    version: u8,
}

/// `dx_probe()`: from the root down the index levels to the leaf whose
/// range holds the hash of `name`. `blocks` is the directory's length.
/// Directories with more than one interior level (`large_dir`) are not
/// changed yet.
fn probe<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &Tree<'_>,
    blocks: u32,
    name: &[u8],
) -> Result<Probed<T::Buf>> {
    let (root, _) = read_index(tx, geo, t, 0)?;
    let (version, levels, hash, at0) = {
        let r = DxRoot::parse(tx.data(&root), geo)?;
        let version = effective_hash_version(r.info.hash_version, geo.hash_unsigned);
        let hash = ext4fs_dirhash(name, version, &geo.hash_seed)?.hash;
        (
            version,
            r.info.indirect_levels,
            hash,
            r.entries.lookup(hash)?,
        )
    };
    let inside = |b: u32| b != 0 && b < blocks;
    if !inside(at0.block) {
        return Err(Error::Corrupt("htree index entry past the directory"));
    }
    let (node, leaf) = match levels {
        0 => (None, at0.block),
        1 => {
            let (node, _) = read_index(tx, geo, t, at0.block)?;
            let at1 = DxNode::parse(tx.data(&node), geo)?.entries.lookup(hash)?;
            if !inside(at1.block) || at1.block == at0.block {
                return Err(Error::Corrupt("htree leaf past the directory"));
            }
            (Some((node, at1.index)), at1.block)
        }
        _ => return Err(Error::Unsupported("adding to a three-level htree")),
    };
    Ok(Probed {
        root,
        root_at: at0.index,
        node,
        leaf,
        hash,
        version,
    })
}

/// The count/limit header of index block `b`: (its offset, limit, count).
fn countlimit(b: &[u8]) -> Result<(usize, u16, u16)> {
    let off = dx_countlimit_offset(b)?;
    let limit = bytes::le16(b, off, "dx limit")?;
    let count = bytes::le16(b, off.saturating_add(2), "dx count")?;
    if count == 0 || count > limit {
        return Err(Error::Corrupt("dx entry count beyond limit"));
    }
    Ok((off, limit, count))
}

/// Entry `i` of the index block `b` whose entries start at `off`: its hash
/// (none stored for slot 0, whose bytes hold the count and limit) and
/// child block.
fn entry(b: &[u8], off: usize, i: u16) -> Result<(u32, u32)> {
    let at = off.saturating_add(usize::from(i).saturating_mul(DX_ENTRY_SIZE));
    let hash = match i {
        0 => 0,
        _ => bytes::le32(b, at, "dx entry")?,
    };
    Ok((hash, bytes::le32(b, at.saturating_add(4), "dx entry")?))
}

fn put_entry(b: &mut [u8], off: usize, i: u16, (hash, block): (u32, u32)) -> Result<()> {
    let at = off.saturating_add(usize::from(i).saturating_mul(DX_ENTRY_SIZE));
    if i != 0 {
        bytes::put_le32(b, at, hash, "dx entry")?;
    }
    bytes::put_le32(b, at.saturating_add(4), block, "dx entry")
}

/// Lays out an empty interior node in `b`: the fake record spanning the
/// block, then the count/limit header (`limit` from the block size).
fn init_node(b: &mut [u8], geo: &Geometry) -> Result<()> {
    let bs = b.len();
    b.fill(0);
    bytes::put_le16(b, 4, rec_len_to_disk(bs, bs)?, "dx node")?;
    let limit = dx_node_limit(bs, geo.has_metadata_csum());
    let limit = u16::try_from(limit).map_err(|_| Error::Corrupt("dx limit"))?;
    bytes::put_le16(b, DX_NODE_ENTRIES_OFFSET, limit, "dx limit")?;
    bytes::put_le16(b, DX_NODE_ENTRIES_OFFSET.saturating_add(2), 0, "dx count")
}

/// Copies entries `from..to` of index block `src` to the end of node
/// `dst` (one at a time: the two buffers are not borrowed together).
fn copy_entries<T: Trans>(
    tx: &mut T,
    src: &T::Buf,
    dst: &T::Buf,
    from: u16,
    to: u16,
) -> Result<()> {
    let (soff, _, _) = countlimit(tx.data(src))?;
    for i in from..to {
        let e = entry(tx.data(src), soff, i)?;
        tx.edit(dst, |b| {
            let off = DX_NODE_ENTRIES_OFFSET;
            let count = bytes::le16(b, off.saturating_add(2), "dx count")?;
            let limit = bytes::le16(b, off, "dx limit")?;
            if count >= limit {
                return Err(Error::Corrupt("dx node overflow"));
            }
            put_entry(b, off, count, e)?;
            bytes::put_le16(
                b,
                off.saturating_add(2),
                count.saturating_add(1),
                "dx count",
            )
        })??;
    }
    Ok(())
}

fn is_full<T: Trans>(tx: &T, b: &T::Buf) -> Result<bool> {
    let (_, limit, count) = countlimit(tx.data(b))?;
    Ok(count >= limit)
}

fn reseal_index<T: Trans>(tx: &mut T, b: &T::Buf, seed: Option<u32>) -> Result<()> {
    match seed {
        Some(s) => tx.edit(b, |b| ext4_dx_csum_set(b, s))?,
        None => Ok(()),
    }
}

/// The hash of every live record of `block` with the directory's version.
fn hashes<'a>(
    block: &'a [u8],
    geo: &'a Geometry,
    version: u8,
) -> impl Iterator<Item = Result<(u32, usize)>> + 'a {
    DirBlockIter::for_fs(block, geo).filter_map(move |e| match e {
        Err(err) => Some(Err(err)),
        Ok(e) if e.inode == 0 || e.is_csum_tail() => None,
        Ok(e) => Some(
            ext4fs_dirhash(e.name, version, &geo.hash_seed)
                .map(|h| (h.hash, ext4_dir_rec_len(e.name.len()))),
        ),
    })
}

/// Bytes of the live records of `block` whose hash is at least `at`.
fn bytes_from(block: &[u8], geo: &Geometry, version: u8, at: u32) -> Result<usize> {
    let mut n = 0usize;
    for h in hashes(block, geo, version) {
        let (hash, len) = h?;
        if hash >= at {
            n = n.saturating_add(len);
        }
    }
    Ok(n)
}

/// The hash the split leaf's upper half starts at (`do_split()`): about
/// half the bytes from it on, every record of one hash on the same side,
/// and at least one record on each side; `None` when all records share
/// one hash.
fn split_hash(block: &[u8], geo: &Geometry, version: u8) -> Result<Option<u32>> {
    let (mut lo, mut hi, mut total) = (u32::MAX, 0u32, 0usize);
    for h in hashes(block, geo, version) {
        let (hash, len) = h?;
        lo = lo.min(hash);
        hi = hi.max(hash);
        total = total.saturating_add(len);
    }
    if lo >= hi {
        return Ok(None);
    }
    // The smallest threshold above the lowest hash that moves at most half
    // the bytes (what moves shrinks as the threshold grows); the top hash
    // if even that group is more than half.
    let (mut a, mut b) = (lo.saturating_add(1), hi);
    while a < b {
        let mid = a.saturating_add(b.saturating_sub(a) / 2);
        if bytes_from(block, geo, version, mid)? <= total / 2 {
            b = mid;
        } else {
            a = mid.saturating_add(1);
        }
    }
    // The lowest hash that actually moves: the new index entry's hash.
    let mut first = u32::MAX;
    for h in hashes(block, geo, version) {
        let (hash, _) = h?;
        if hash >= a {
            first = first.min(hash);
        }
    }
    Ok(Some(first))
}

/// One record of a leaf, copied out so the leaf may change meanwhile.
struct Record {
    next: usize,
    live: Option<([u8; EXT4_NAME_LEN], usize, u32, u8)>,
}

fn record_at(block: &[u8], geo: &Geometry, off: usize) -> Result<Option<Record>> {
    let Some(e) = DirBlockIter::for_fs(block, geo).starting_at(off).next() else {
        return Ok(None);
    };
    let e = e?;
    let next = e
        .offset
        .checked_add(e.rec_len)
        .filter(|&n| n > off)
        .ok_or(Error::Corrupt("directory record length"))?;
    let live = match e.inode == 0 || e.is_csum_tail() {
        true => None,
        false => {
            let mut name = [0u8; EXT4_NAME_LEN];
            name.get_mut(..e.name.len())
                .ok_or(Error::Corrupt("directory name length"))?
                .copy_from_slice(e.name);
            Some((name, e.name.len(), e.inode, e.file_type))
        }
    };
    Ok(Some(Record { next, live }))
}

/// Inserts the index entry (`hash`, `lblk`) after slot `at` of the index
/// block `b` (`dx_insert_block()`), with its checksum.
fn insert_index(b: &mut [u8], at: u16, hash: u32, lblk: u32, seed: Option<u32>) -> Result<()> {
    let off = dx_countlimit_offset(b)?;
    let limit = bytes::le16(b, off, "dx limit")?;
    let count = bytes::le16(b, off.saturating_add(2), "dx count")?;
    if count >= limit || at >= count {
        return Err(Error::Corrupt("dx insert"));
    }
    let slot = |i: u16| off.saturating_add(usize::from(i).saturating_mul(DX_ENTRY_SIZE));
    let (from, end) = (slot(at.saturating_add(1)), slot(count));
    if end.saturating_add(DX_ENTRY_SIZE) > b.len() {
        return Err(Error::Corrupt("dx entries overrun"));
    }
    b.copy_within(from..end, from.saturating_add(DX_ENTRY_SIZE));
    bytes::put_le32(b, from, hash, "dx entry")?;
    bytes::put_le32(b, from.saturating_add(4), lblk, "dx entry")?;
    bytes::put_le16(
        b,
        off.saturating_add(2),
        count.saturating_add(1),
        "dx count",
    )?;
    match seed {
        Some(s) => ext4_dx_csum_set(b, s),
        None => Ok(()),
    }
}

/// The leaf of indexed directory `t` (`blocks` long) that `name` goes in,
/// and the slot in it (`ext4_dx_add_entry()`). A full leaf is split: a new
/// block from `grow` (which appends an empty leaf to the directory and
/// returns its logical block and buffer) takes the upper half of its
/// records by hash, and the index block above gets the new leaf's entry,
/// after room is made for it (a node split, or a level added: each step
/// leaves a valid index, should a later one run out of space).
/// `Refused(Exists)` if the name is there already.
pub(super) fn target<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &Tree<'_>,
    blocks: u32,
    name: &[u8],
    mut grow: impl FnMut(&mut T) -> Result<(u32, T::Buf)>,
) -> Result<(T::Buf, Slot)> {
    let csum = geo.has_metadata_csum();
    let p = probe(tx, geo, t, blocks, name)?;
    let leaf_pblk = dir_pblk(tx, geo, t, p.leaf)?;
    let leaf = tx.bread(leaf_pblk)?;
    if csum {
        ext4_dirblock_csum_verify(tx.data(&leaf), t.seed)?;
    }
    match find_slot(tx.data(&leaf), geo, name)? {
        Slot::Exists => return Err(Error::Refused(Errno::Exists)),
        Slot::NoSpace => {}
        slot => return Ok((leaf, slot)),
    }
    let Some(split) = split_hash(tx.data(&leaf), geo, p.version)? else {
        return Err(Error::Unsupported("an htree leaf of one hash"));
    };
    let seed = csum.then_some(t.seed);
    // Room in the index block above the leaf for the new leaf's entry.
    let (parent, at) = match p.node {
        // One level: a full root moves down into a new node (the root's
        // one entry then leads to it) and the tree has two levels.
        None if is_full(tx, &p.root)? => {
            if geo.dir_htree_level() < 2 {
                return Err(Error::Unsupported("a second htree level"));
            }
            let (nlblk, node) = grow(tx)?;
            tx.edit(&node, |b| init_node(b, geo))??;
            let (_, _, count) = countlimit(tx.data(&p.root))?;
            copy_entries(tx, &p.root, &node, 0, count)?;
            reseal_index(tx, &node, seed)?;
            tx.edit(&p.root, |b| {
                let (off, _, _) = countlimit(b)?;
                put_entry(b, off, 0, (0, nlblk))?;
                bytes::put_le16(b, off.saturating_add(2), 1, "dx count")?;
                // dx_root_info.indirect_levels
                *b.get_mut(30).ok_or(Error::Corrupt("dx_root_info"))? = 1;
                Ok::<(), Error>(())
            })??;
            reseal_index(tx, &p.root, seed)?;
            (node, p.root_at)
        }
        None => (p.root, p.root_at),
        // Two levels: a full node is split in two, the upper half of its
        // entries going to a new node the root then leads to as well.
        Some((node, at)) if is_full(tx, &node)? => {
            if is_full(tx, &p.root)? {
                return Err(Error::Unsupported("a third htree level"));
            }
            let (_, _, count) = countlimit(tx.data(&node))?;
            let half = count / 2;
            let (noff, _, _) = countlimit(tx.data(&node))?;
            let (hash, _) = entry(tx.data(&node), noff, half)?;
            let (n2lblk, node2) = grow(tx)?;
            tx.edit(&node2, |b| init_node(b, geo))??;
            copy_entries(tx, &node, &node2, half, count)?;
            tx.edit(&node, |b| {
                bytes::put_le16(b, noff.saturating_add(2), half, "dx count")
            })??;
            reseal_index(tx, &node, seed)?;
            reseal_index(tx, &node2, seed)?;
            tx.edit(&p.root, |b| insert_index(b, p.root_at, hash, n2lblk, seed))??;
            match at >= half {
                true => (node2, at.saturating_sub(half)),
                false => (node, at),
            }
        }
        Some((node, at)) => (node, at),
    };
    let (new_lblk, new) = grow(tx)?;
    // Move the records from `split` on, one at a time.
    let mut off = 0usize;
    while let Some(r) = record_at(tx.data(&leaf), geo, off)? {
        if let Some((name_buf, len, ino, ft)) = r.live {
            let n = name_buf.get(..len).ok_or(Error::Corrupt("name"))?;
            if ext4fs_dirhash(n, p.version, &geo.hash_seed)?.hash >= split {
                let slot = find_slot(tx.data(&new), geo, n)?;
                if !matches!(slot, Slot::Free { .. }) {
                    return Err(Error::Corrupt("htree split: no room in the new leaf"));
                }
                tx.edit(&new, |b| insert_entry(b, geo, slot, n, ino, ft))??;
                tx.edit(&leaf, |b| remove_entry(b, geo, n))??;
            }
        }
        off = r.next;
        if off >= geo.block_size as usize {
            break;
        }
    }
    // The kept half packed into one run of free space (`dx_pack_dirents()`).
    tx.edit(&leaf, |b| pack_leaf(b, csum))??;
    for b in [&leaf, &new] {
        if csum {
            tx.edit(b, |b| ext4_dirblock_csum_set(b, t.seed))??;
        }
    }
    tx.edit(&parent, |b| insert_index(b, at, split, new_lblk, seed))??;
    let buf = match p.hash >= split {
        true => new,
        false => leaf,
    };
    match find_slot(tx.data(&buf), geo, name)? {
        Slot::Exists => Err(Error::Refused(Errno::Exists)),
        Slot::NoSpace => Err(Error::Unsupported(
            "an htree leaf still full after its split",
        )),
        slot => Ok((buf, slot)),
    }
}

/// Whether directory block `b` of an indexed directory holds names: block 0
/// is the root, and an interior node is one empty record spanning the block
/// (which an emptied leaf without a checksum tail also is: it holds no
/// names either).
pub(super) fn is_leaf(b: &[u8], lblk: u32) -> Result<bool> {
    if lblk == 0 {
        return Ok(false);
    }
    let ino = bytes::le32(b, 0, "dirent")?;
    let rec = super::super::ondisk::dir::rec_len_from_disk(bytes::le16(b, 4, "dirent")?, b.len());
    Ok(!(ino == 0 && rec == b.len()))
}

/// `make_indexed_dir()`: directory `t`, one full block long, becomes
/// indexed. Its names move to a new leaf from `grow` (block 1), block 0
/// becomes the index root (`.`, `..` spanning the block, the root info
/// with the file system's default hash, one entry leading to the leaf, the
/// dx checksum), and the caller sets `EXT4_INDEX_FL` and adds the name
/// through the index, which splits the leaf if it is still too full.
/// `Ok(false)` when the default hash is one rext4 cannot index with (the
/// directory then grows linearly).
pub(super) fn make_indexed<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &Tree<'_>,
    grow: impl FnOnce(&mut T) -> Result<(u32, T::Buf)>,
) -> Result<bool> {
    if geo.def_hash_version > DX_HASH_TEA {
        return Ok(false);
    }
    let csum = geo.has_metadata_csum();
    let pblk = dir_pblk(tx, geo, t, 0)?;
    let first = tx.bread(pblk)?;
    let parent = search_dir(tx.data(&first), geo, b"..")?
        .map(|e| e.inode)
        .ok_or(Error::Corrupt("directory without .."))?;
    let (lblk, leaf) = grow(tx)?;
    let mut off = 0usize;
    while let Some(r) = record_at(tx.data(&first), geo, off)? {
        if let Some((name_buf, len, ino, ft)) = r.live {
            let n = name_buf.get(..len).ok_or(Error::Corrupt("name"))?;
            if n != b"." && n != b".." {
                let slot = find_slot(tx.data(&leaf), geo, n)?;
                if !matches!(slot, Slot::Free { .. }) {
                    return Err(Error::Corrupt("indexing: no room in the new leaf"));
                }
                tx.edit(&leaf, |b| insert_entry(b, geo, slot, n, ino, ft))??;
            }
        }
        off = r.next;
        if off >= geo.block_size as usize {
            break;
        }
    }
    if csum {
        tx.edit(&leaf, |b| ext4_dirblock_csum_set(b, t.seed))??;
    }
    let version = geo.def_hash_version;
    tx.edit(&first, |b| {
        init_dir_block(b, geo, t.ino, parent, false)?;
        // dx_root_info: reserved_zero, hash_version, info_length 8,
        // indirect_levels 0, unused_flags 0.
        b.get_mut(24..32)
            .ok_or(Error::Corrupt("dx_root"))?
            .copy_from_slice(&[0, 0, 0, 0, version, 8, 0, 0]);
        let limit = dx_root_limit(b.len(), csum, 8);
        let limit = u16::try_from(limit).map_err(|_| Error::Corrupt("dx limit"))?;
        bytes::put_le16(b, DX_ROOT_ENTRIES_OFFSET, limit, "dx limit")?;
        bytes::put_le16(b, DX_ROOT_ENTRIES_OFFSET.saturating_add(2), 1, "dx count")?;
        put_entry(b, DX_ROOT_ENTRIES_OFFSET, 0, (0, lblk))?;
        match csum {
            true => ext4_dx_csum_set(b, t.seed),
            false => Ok(()),
        }
    })??;
    Ok(true)
}
