// SPDX-License-Identifier: GPL-2.0

//! Extent tree changes (the counterpart of ext4's `extents.c`): lookup,
//! insertion with merging of neighbours, leaf and index splits and growth
//! in depth (`ext4_ext_insert_extent()`, `ext4_ext_create_new_leaf()`,
//! `ext4_ext_split()`, `ext4_ext_grow_indepth()`), conversion of unwritten
//! ranges to written with the splits that needs
//! (`ext4_convert_unwritten_extents()`), and removal of everything from a
//! logical block on (`ext4_ext_remove_space()`), freeing data and tree
//! blocks. Every changed tree block gets its checksum; index keys always
//! equal the first key of their child (e2fsck checks it).
//!
//! The root lives in the caller's copy of `i_block` ([`Tree::root`]); the
//! caller writes it back to the inode with the change in blocks owned
//! ([`Tree::blocks`]) for `i_blocks`. Work that may touch many blocks
//! (conversion, removal) takes a credit budget and stops, resumable, when
//! the next step might not fit, so the kernel can spread it over several
//! transactions. No allocation: a path is a fixed array of the at most six
//! levels ext4 allows, and node contents are moved in small chunks.

use super::super::ondisk::bytes::{le16, le32, put_le16, put_le32};
use super::super::ondisk::crc::ext4_chksum;
use super::super::ondisk::extent::{
    ext4_extent_block_csum_verify, Extent, ExtentHeader, ExtentNode, NodeKind,
    EXT4_EXTENT_ENTRY_SIZE, EXT4_EXT_MAGIC, EXT4_MAX_EXTENT_DEPTH, EXT_INIT_MAX_LEN,
    EXT_UNWRITTEN_MAX_LEN,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Errno, Error, Result};
use super::balloc::{alloc_block, free_credits, free_run};
use super::trans::Trans;

const W: &str = "extent node";
const E: usize = EXT4_EXTENT_ENTRY_SIZE;
/// Entries in the root (`ext4_ext_space_root()`).
const ROOT_MAX: u16 = 4;
/// Levels a path can have: the root plus `EXT4_MAX_EXTENT_DEPTH` below it.
const LEVELS: usize = EXT4_MAX_EXTENT_DEPTH as usize + 1;

/// An inode's extent tree being changed.
pub struct Tree<'a> {
    /// The inode (for messages and its tree blocks' checksum seed).
    pub ino: u32,
    /// `ext4_inode_csum_seed()` of the inode.
    pub seed: u32,
    /// The root: the inode's `i_block`, written back by the caller.
    pub root: &'a mut [u8; 60],
    /// Where new tree blocks are looked for.
    pub goal: u64,
    /// Blocks the inode gained (tree blocks made) or lost (data and tree
    /// blocks freed) through this tree, for `i_blocks`.
    pub blocks: i64,
}

/// What a logical block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Mapped by an extent: `len` blocks from `lblk` at `pblk`.
    Mapped {
        /// First logical block of the answer (the one asked for).
        lblk: u32,
        /// Blocks mapped contiguously from there.
        len: u32,
        /// Physical block of `lblk`.
        pblk: u64,
        /// Allocated but not written (reads as zeros).
        unwritten: bool,
    },
    /// Not mapped: `len` blocks from `lblk` up to the next mapping.
    Hole {
        /// The block asked for.
        lblk: u32,
        /// Blocks up to the next mapped one (to the end of the 32-bit
        /// logical space if none follows).
        len: u64,
    },
}

/// A new mapping to insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewExtent {
    /// First logical block.
    pub lblk: u32,
    /// Blocks, at most 32768 (32767 if unwritten).
    pub len: u32,
    /// First physical block.
    pub pblk: u64,
    /// Whether the blocks are unwritten.
    pub unwritten: bool,
}

impl NewExtent {
    fn end(&self) -> u64 {
        u64::from(self.lblk).saturating_add(u64::from(self.len))
    }

    fn of(e: &Extent) -> NewExtent {
        NewExtent {
            lblk: e.ee_block,
            len: e.len(),
            pblk: e.pblock(),
            unwritten: e.is_unwritten(),
        }
    }

    fn bytes(&self) -> Result<[u8; E]> {
        let max = max_len(self.unwritten);
        // EXT_MAX_BLOCKS (0xFFFFFFFF) is the first block no extent may map
        // (`ext4_valid_extent()` rejects an end that wraps).
        if self.len == 0 || self.len > max || self.end() > u64::from(u32::MAX) {
            return Err(Error::OutOfRange("extent length"));
        }
        let len = u16::try_from(self.len).map_err(|_| Error::OutOfRange("extent length"))?;
        let ee_len = match self.unwritten {
            true => len.saturating_add(EXT_INIT_MAX_LEN),
            false => len,
        };
        let hi = u16::try_from(self.pblk >> 32).map_err(|_| Error::OutOfRange("block"))?;
        let mut b = [0u8; E];
        put_le32(&mut b, 0, self.lblk, W)?;
        put_le16(&mut b, 4, ee_len, W)?;
        put_le16(&mut b, 6, hi, W)?;
        put_le32(&mut b, 8, (self.pblk & 0xFFFF_FFFF) as u32, W)?;
        Ok(b)
    }
}

fn max_len(unwritten: bool) -> u32 {
    u32::from(match unwritten {
        true => EXT_UNWRITTEN_MAX_LEN,
        false => EXT_INIT_MAX_LEN,
    })
}

/// Whether `b` continues `a` logically and physically, in the same state,
/// and the two fit in one extent (`ext4_can_extents_be_merged()`).
fn mergeable(a: &NewExtent, b: &NewExtent) -> bool {
    a.end() == u64::from(b.lblk)
        && a.pblk.checked_add(u64::from(a.len)) == Some(b.pblk)
        && a.unwritten == b.unwritten
        && a.len.saturating_add(b.len) <= max_len(a.unwritten)
}

fn index_bytes(key: u32, leaf: u64) -> Result<[u8; E]> {
    let hi = u16::try_from(leaf >> 32).map_err(|_| Error::OutOfRange("block"))?;
    let mut b = [0u8; E];
    put_le32(&mut b, 0, key, W)?;
    put_le32(&mut b, 4, (leaf & 0xFFFF_FFFF) as u32, W)?;
    put_le16(&mut b, 8, hi, W)?;
    Ok(b)
}

/// The depth of the tree whose root is `root` (0: the root is the leaf).
pub fn depth(root: &[u8; 60]) -> u16 {
    le16(root, 6, W).unwrap_or(0)
}

/// Credits one insertion may use in a tree of depth `depth`: the node on
/// each level, and a new block (with its bitmap and descriptor) for each
/// level split plus one for growth.
pub fn insert_credits(depth: u16) -> u32 {
    let d = u32::from(depth.min(EXT4_MAX_EXTENT_DEPTH));
    d.saturating_add(1).saturating_mul(4).saturating_add(7)
}

/// Credits a conversion or removal step may use (see [`mark_written`],
/// [`remove_from`]).
fn step_credits(depth: u16) -> u32 {
    insert_credits(depth.saturating_add(1))
        .saturating_mul(2)
        .saturating_add(2)
}

/// Where a node lives.
#[derive(Clone, Copy, Debug)]
enum At {
    Root,
    Block(u64),
}

/// One level of a path: the node, the entry followed (index nodes) or the
/// insertion point for the key (leaves: how many extents start at or
/// before it), and the node's counts.
#[derive(Clone, Copy, Debug)]
struct Level {
    at: At,
    pos: u16,
    entries: u16,
    max: u16,
}

struct Path {
    depth: usize,
    levels: [Level; LEVELS],
}

impl Path {
    fn level(&self, l: usize) -> Result<Level> {
        self.levels.get(l).copied().ok_or(Error::Corrupt(W))
    }
    fn leaf(&self) -> Result<Level> {
        self.level(self.depth)
    }
}

fn entry_off(i: u16) -> usize {
    usize::from(i).saturating_add(1).saturating_mul(E)
}

fn get_entry(b: &[u8], i: u16) -> Result<[u8; E]> {
    let off = entry_off(i);
    let s = b.get(off..off.saturating_add(E)).ok_or(Error::Corrupt(W))?;
    let mut e = [0u8; E];
    e.copy_from_slice(s);
    Ok(e)
}

fn put_entry(b: &mut [u8], i: u16, e: &[u8; E]) -> Result<()> {
    let off = entry_off(i);
    b.get_mut(off..off.saturating_add(E))
        .ok_or(Error::Corrupt(W))?
        .copy_from_slice(e);
    Ok(())
}

fn ext_of(e: &[u8; E]) -> Result<NewExtent> {
    let ee_len = le16(e, 4, W)?;
    let x = Extent {
        ee_block: le32(e, 0, W)?,
        ee_len,
        ee_start_hi: le16(e, 6, W)?,
        ee_start_lo: le32(e, 8, W)?,
    };
    Ok(NewExtent::of(&x))
}

fn set_entries(b: &mut [u8], n: u16) -> Result<()> {
    put_le16(b, 2, n, W)
}

/// Inserts entry `e` at `pos` of a node with room for it.
fn insert_raw(b: &mut [u8], pos: u16, e: &[u8; E]) -> Result<()> {
    let h = ExtentHeader::parse(b)?;
    if h.eh_entries >= h.eh_max || pos > h.eh_entries {
        return Err(Error::Corrupt(W));
    }
    let (from, to) = (entry_off(pos), entry_off(h.eh_entries));
    if to.saturating_add(E) > b.len() {
        return Err(Error::Corrupt(W));
    }
    b.copy_within(from..to, from.saturating_add(E));
    put_entry(b, pos, e)?;
    set_entries(b, h.eh_entries.saturating_add(1))
}

/// Removes entry `pos` of a node.
fn remove_raw(b: &mut [u8], pos: u16) -> Result<()> {
    let h = ExtentHeader::parse(b)?;
    if pos >= h.eh_entries {
        return Err(Error::Corrupt(W));
    }
    let (from, to) = (entry_off(pos.saturating_add(1)), entry_off(h.eh_entries));
    if to > b.len() {
        return Err(Error::Corrupt(W));
    }
    b.copy_within(from..to, entry_off(pos));
    let last = entry_off(h.eh_entries.saturating_sub(1));
    if let Some(s) = b.get_mut(last..last.saturating_add(E)) {
        s.fill(0);
    }
    set_entries(b, h.eh_entries.saturating_sub(1))
}

fn set_csum(b: &mut [u8], seed: u32) -> Result<()> {
    let h = ExtentHeader::parse(b)?;
    let off = entry_off(h.eh_max);
    let c = ext4_chksum(seed, b.get(..off).ok_or(Error::Corrupt(W))?);
    put_le32(b, off, c, W)
}

/// Entries a tree block holds (`ext4_ext_space_block()`).
fn block_max(geo: &Geometry) -> Result<u16> {
    let n = (geo.block_size as usize).saturating_sub(E) / E;
    u16::try_from(n).map_err(|_| Error::Corrupt("block size"))
}

fn read<T: Trans, R>(
    tx: &mut T,
    t: &Tree<'_>,
    at: At,
    f: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    match at {
        At::Root => f(&t.root[..]),
        At::Block(blk) => {
            let buf = tx.bread(blk)?;
            f(tx.data(&buf))
        }
    }
}

fn write<T: Trans, R>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    at: At,
    f: impl FnOnce(&mut [u8]) -> Result<R>,
) -> Result<R> {
    match at {
        At::Root => f(&mut t.root[..]),
        At::Block(blk) => {
            let buf = tx.bread(blk)?;
            let (csum, seed) = (geo.has_metadata_csum(), t.seed);
            tx.edit(&buf, |b| {
                let r = f(b)?;
                if csum {
                    set_csum(b, seed)?;
                }
                Ok(r)
            })?
        }
    }
}

fn entry<T: Trans>(tx: &mut T, t: &Tree<'_>, at: At, i: u16) -> Result<[u8; E]> {
    read(tx, t, at, |b| get_entry(b, i))
}

fn key_of(e: &[u8; E]) -> Result<u32> {
    le32(e, 0, W)
}

/// Walks from the root to the leaf for `key`, checking every node as the
/// read path does (structure, checksum, depth and first key against the
/// parent's index).
fn find_path<T: Trans>(tx: &mut T, geo: &Geometry, t: &Tree<'_>, key: u32) -> Result<Path> {
    let root = ExtentNode::parse(&t.root[..], NodeKind::Root, geo)?;
    let depth = usize::from(root.depth());
    let blank = Level {
        at: At::Root,
        pos: 0,
        entries: 0,
        max: 0,
    };
    let mut p = Path {
        depth,
        levels: [blank; LEVELS],
    };
    let mut at = At::Root;
    for l in 0..=depth {
        let (level, next) = read(tx, t, at, |b| {
            let kind = match at {
                At::Root => NodeKind::Root,
                At::Block(_) => NodeKind::Block,
            };
            if let (At::Block(_), true) = (at, geo.has_metadata_csum()) {
                ext4_extent_block_csum_verify(b, t.seed)?;
            }
            let node = ExtentNode::parse(b, kind, geo)?;
            if Some(usize::from(node.depth())) != depth.checked_sub(l) {
                return Err(Error::Corrupt("unexpected eh_depth"));
            }
            let h = node.header();
            if node.is_leaf() {
                let mut pos = 0u16;
                for e in node.extents() {
                    if e?.ee_block > key {
                        break;
                    }
                    pos = pos.saturating_add(1);
                }
                let level = Level {
                    at,
                    pos,
                    entries: h.eh_entries,
                    max: h.eh_max,
                };
                return Ok((level, None));
            }
            let idx = node.lookup_index(key)?;
            let level = Level {
                at,
                pos: idx.position,
                entries: h.eh_entries,
                max: h.eh_max,
            };
            Ok((level, Some(idx.child)))
        })?;
        *p.levels.get_mut(l).ok_or(Error::Corrupt(W))? = level;
        if let Some(child) = next {
            let blk = child.leaf();
            geo.check_block_range(blk, 1)?;
            // The child's first key must be the index key.
            let first = read(tx, t, At::Block(blk), |b| {
                let h = ExtentHeader::parse(b)?;
                if h.eh_magic != EXT4_EXT_MAGIC {
                    return Err(Error::Corrupt("extent header magic"));
                }
                match h.eh_entries {
                    0 => Ok(None),
                    _ => Ok(Some(key_of(&get_entry(b, 0)?)?)),
                }
            })?;
            if first.is_some_and(|f| f != child.ei_block) {
                return Err(Error::Corrupt("extent index key mismatch"));
            }
            at = At::Block(blk);
        }
    }
    Ok(p)
}

/// The first key after the path's position: the next extent of the leaf,
/// or the next index key on the way up.
fn next_key<T: Trans>(tx: &mut T, t: &Tree<'_>, p: &Path) -> Result<Option<u32>> {
    let leaf = p.leaf()?;
    if leaf.pos < leaf.entries {
        return Ok(Some(key_of(&entry(tx, t, leaf.at, leaf.pos)?)?));
    }
    for l in (0..p.depth).rev() {
        let lv = p.level(l)?;
        let next = lv.pos.saturating_add(1);
        if next < lv.entries {
            return Ok(Some(key_of(&entry(tx, t, lv.at, next)?)?));
        }
    }
    Ok(None)
}

/// The extent of the path's leaf that holds the path's key, if one does.
fn containing<T: Trans>(tx: &mut T, t: &Tree<'_>, p: &Path, key: u32) -> Result<Option<NewExtent>> {
    let leaf = p.leaf()?;
    let Some(i) = leaf.pos.checked_sub(1) else {
        return Ok(None);
    };
    let e = ext_of(&entry(tx, t, leaf.at, i)?)?;
    Ok((e.end() > u64::from(key)).then_some(e))
}

/// What logical block `lblk` is in the tree.
pub fn lookup<T: Trans>(tx: &mut T, geo: &Geometry, t: &Tree<'_>, lblk: u32) -> Result<Found> {
    let p = find_path(tx, geo, t, lblk)?;
    if let Some(e) = containing(tx, t, &p, lblk)? {
        let off = lblk.saturating_sub(e.lblk);
        return Ok(Found::Mapped {
            lblk,
            len: e.len.saturating_sub(off),
            pblk: e.pblk.saturating_add(u64::from(off)),
            unwritten: e.unwritten,
        });
    }
    let end = next_key(tx, t, &p)?.map_or(u64::from(u32::MAX), u64::from);
    Ok(Found::Hole {
        lblk,
        len: end.saturating_sub(u64::from(lblk)).max(1),
    })
}

/// Sets the index keys above level `level` after its first key became
/// `key` (`ext4_ext_correct_indexes()`).
fn fix_keys<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    p: &Path,
    level: usize,
    key: u32,
) -> Result<()> {
    for l in (0..level).rev() {
        let lv = p.level(l)?;
        write(tx, geo, t, lv.at, |b| {
            let off = entry_off(lv.pos);
            put_le32(b, off, key, W)
        })?;
        if lv.pos != 0 {
            break;
        }
    }
    Ok(())
}

/// Maps `e`, which must not overlap anything mapped. With `merge`, it is
/// joined to a neighbour in the same leaf that it continues.
pub fn insert<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    e: NewExtent,
    merge: bool,
) -> Result<()> {
    let raw = e.bytes()?;
    for _ in 0..4 * LEVELS {
        let p = find_path(tx, geo, t, e.lblk)?;
        let leaf = p.leaf()?;
        let pos = leaf.pos;
        let left = match pos.checked_sub(1) {
            Some(i) => Some(ext_of(&entry(tx, t, leaf.at, i)?)?),
            None => None,
        };
        if left.is_some_and(|l| l.end() > u64::from(e.lblk)) {
            return Err(Error::OutOfRange("block already mapped"));
        }
        if next_key(tx, t, &p)?.is_some_and(|k| u64::from(k) < e.end()) {
            return Err(Error::OutOfRange("block already mapped"));
        }
        let right = match pos < leaf.entries {
            true => Some(ext_of(&entry(tx, t, leaf.at, pos)?)?),
            false => None,
        };
        if merge {
            if let Some(l) = left.filter(|l| mergeable(l, &e)) {
                let mut joined = NewExtent {
                    len: l.len.saturating_add(e.len),
                    ..l
                };
                let absorb = right.filter(|r| mergeable(&joined, r));
                if let Some(r) = absorb {
                    joined.len = joined.len.saturating_add(r.len);
                }
                let jb = joined.bytes()?;
                return write(tx, geo, t, leaf.at, |b| {
                    put_entry(b, pos.saturating_sub(1), &jb)?;
                    match absorb {
                        Some(_) => remove_raw(b, pos),
                        None => Ok(()),
                    }
                });
            }
            if let Some(r) = right.filter(|r| mergeable(&e, r)) {
                let joined = NewExtent {
                    len: e.len.saturating_add(r.len),
                    ..e
                };
                let jb = joined.bytes()?;
                write(tx, geo, t, leaf.at, |b| put_entry(b, pos, &jb))?;
                if pos == 0 {
                    fix_keys(tx, geo, t, &p, p.depth, e.lblk)?;
                }
                return Ok(());
            }
        }
        if leaf.entries < leaf.max {
            write(tx, geo, t, leaf.at, |b| insert_raw(b, pos, &raw))?;
            if pos == 0 {
                fix_keys(tx, geo, t, &p, p.depth, e.lblk)?;
            }
            return Ok(());
        }
        make_room(tx, geo, t, &p, p.depth, pos == leaf.entries)?;
    }
    Err(Error::Corrupt("extent insertion does not converge"))
}

/// Makes room in the node at `level` of `p`: splits it (its parent having
/// room, else the parent first), or, for the root, moves the root down
/// into a new block. `append`: the key goes past everything in the node,
/// so the split leaves the node full (sequential files get full leaves).
fn make_room<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    p: &Path,
    level: usize,
    append: bool,
) -> Result<()> {
    let Some(up) = level.checked_sub(1) else {
        return grow(tx, geo, t, p);
    };
    let parent = p.level(up)?;
    if parent.entries >= parent.max {
        let last = parent.pos.saturating_add(1) == parent.entries;
        return make_room(tx, geo, t, p, up, append && last);
    }
    split(tx, geo, t, p, level, append)
}

fn new_tree_block<T: Trans>(tx: &mut T, geo: &Geometry, t: &mut Tree<'_>) -> Result<(u64, T::Buf)> {
    let blk = alloc_block(tx, geo, t.goal)?.ok_or(Error::Refused(Errno::NoSpace))?;
    t.blocks = t.blocks.saturating_add(1);
    Ok((blk, tx.new_block(blk)?))
}

/// Moves entries `from..from + n` of node `src` to the start of the new
/// block `dst`, a chunk at a time (nodes can be 64 KiB).
fn move_entries<T: Trans>(
    tx: &mut T,
    t: &Tree<'_>,
    src: At,
    from: u16,
    n: u16,
    dst: &T::Buf,
) -> Result<()> {
    const CHUNK: u16 = 32;
    let mut done = 0u16;
    while done < n {
        let k = CHUNK.min(n.saturating_sub(done));
        let mut tmp = [0u8; CHUNK as usize * E];
        let len = usize::from(k) * E;
        read(tx, t, src, |b| {
            let off = entry_off(from.saturating_add(done));
            let src = b
                .get(off..off.saturating_add(len))
                .ok_or(Error::Corrupt(W))?;
            tmp.get_mut(..len)
                .ok_or(Error::Corrupt(W))?
                .copy_from_slice(src);
            Ok(())
        })?;
        tx.edit(dst, |b| {
            let off = entry_off(done);
            let src = tmp.get(..len).ok_or(Error::Corrupt(W))?;
            b.get_mut(off..off.saturating_add(len))
                .ok_or(Error::Corrupt(W))
                .map(|d| d.copy_from_slice(src))
        })??;
        done = done.saturating_add(k);
    }
    Ok(())
}

fn init_header(b: &mut [u8], entries: u16, max: u16, depth: u16) -> Result<()> {
    put_le16(b, 0, EXT4_EXT_MAGIC, W)?;
    put_le16(b, 2, entries, W)?;
    put_le16(b, 4, max, W)?;
    put_le16(b, 6, depth, W)?;
    put_le32(b, 8, 0, W)
}

/// `ext4_ext_grow_indepth()`: the root's entries move to a new block, and
/// the root becomes an index with that block as its only child.
fn grow<T: Trans>(tx: &mut T, geo: &Geometry, t: &mut Tree<'_>, p: &Path) -> Result<()> {
    let root = p.level(0)?;
    let depth = u16::try_from(p.depth).map_err(|_| Error::Corrupt(W))?;
    if depth >= EXT4_MAX_EXTENT_DEPTH {
        return Err(Error::Unsupported("extent tree deeper than 5 levels"));
    }
    let max = block_max(geo)?;
    let (blk, buf) = new_tree_block(tx, geo, t)?;
    let n = root.entries;
    move_entries(tx, t, At::Root, 0, n, &buf)?;
    let (csum, seed) = (geo.has_metadata_csum(), t.seed);
    tx.edit(&buf, |b| {
        init_header(b, n, max, depth)?;
        match csum {
            true => set_csum(b, seed),
            false => Ok(()),
        }
    })??;
    let key = match n {
        0 => 0,
        _ => key_of(&get_entry(&t.root[..], 0)?)?,
    };
    let idx = index_bytes(key, blk)?;
    let r = &mut t.root[..];
    r.get_mut(E..).ok_or(Error::Corrupt(W))?.fill(0);
    init_header(r, 1, ROOT_MAX, depth.saturating_add(1))?;
    put_entry(r, 0, &idx)
}

/// Splits the (full, non-root) node at `level` in two: the entries from
/// the middle (or, when appending, the last one) move to a new block,
/// which the parent gets an index for.
fn split<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    p: &Path,
    level: usize,
    append: bool,
) -> Result<()> {
    let node = p.level(level)?;
    let parent = p.level(level.checked_sub(1).ok_or(Error::Corrupt(W))?)?;
    let n = node.entries;
    if n < 2 {
        return Err(Error::Corrupt("splitting a node of one entry"));
    }
    let k = if append { n.saturating_sub(1) } else { n / 2 };
    let moved = n.saturating_sub(k);
    let depth = p
        .depth
        .checked_sub(level)
        .and_then(|d| u16::try_from(d).ok())
        .ok_or(Error::Corrupt(W))?;
    let max = block_max(geo)?;
    let (blk, buf) = new_tree_block(tx, geo, t)?;
    move_entries(tx, t, node.at, k, moved, &buf)?;
    let (csum, seed) = (geo.has_metadata_csum(), t.seed);
    let key = tx.edit(&buf, |b| {
        init_header(b, moved, max, depth)?;
        if csum {
            set_csum(b, seed)?;
        }
        key_of(&get_entry(b, 0)?)
    })??;
    write(tx, geo, t, node.at, |b| {
        for i in k..n {
            let off = entry_off(i);
            if let Some(s) = b.get_mut(off..off.saturating_add(E)) {
                s.fill(0);
            }
        }
        set_entries(b, k)
    })?;
    let idx = index_bytes(key, blk)?;
    write(tx, geo, t, parent.at, |b| {
        insert_raw(b, parent.pos.saturating_add(1), &idx)
    })
}

fn take(budget: &mut u32, cost: u32) -> bool {
    match budget.checked_sub(cost) {
        Some(left) => {
            *budget = left;
            true
        }
        None => false,
    }
}

/// Marks the unwritten blocks of `lblk..lblk + len` written, splitting
/// extents at the range's ends and merging written neighbours (the
/// end-of-I/O conversion). Holes and written blocks in the range are left
/// alone. Returns `None` when done, or the block to resume from in a new
/// transaction when `budget` (credits) ran out first.
pub fn mark_written<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    lblk: u32,
    len: u32,
    budget: &mut u32,
) -> Result<Option<u32>> {
    let end = u64::from(lblk).saturating_add(u64::from(len));
    let mut cur = lblk;
    while u64::from(cur) < end {
        let p = find_path(tx, geo, t, cur)?;
        let Some(e) = containing(tx, t, &p, cur)? else {
            match next_key(tx, t, &p)? {
                Some(k) if k > cur && u64::from(k) < end => cur = k,
                _ => break,
            }
            continue;
        };
        if !e.unwritten {
            cur = u32::try_from(e.end()).unwrap_or(u32::MAX);
            if e.end() >= 1 << 32 {
                break;
            }
            continue;
        }
        if !take(
            budget,
            step_credits(u16::try_from(p.depth).unwrap_or(u16::MAX)),
        ) {
            return Ok(Some(cur));
        }
        let leaf = p.leaf()?;
        let at = leaf.pos.saturating_sub(1);
        let b = end.min(e.end());
        if cur > e.lblk {
            // Keep the part before the range unwritten, in place; the rest
            // becomes an extent of its own (found again on the next turn).
            let off = cur.saturating_sub(e.lblk);
            let head = NewExtent { len: off, ..e }.bytes()?;
            write(tx, geo, t, leaf.at, |bb| put_entry(bb, at, &head))?;
            let tail = NewExtent {
                lblk: cur,
                len: e.len.saturating_sub(off),
                pblk: e.pblk.saturating_add(u64::from(off)),
                unwritten: true,
            };
            if let Err(err) = insert(tx, geo, t, tail, false) {
                // `fix_extent_len` in ext4_split_extent_at(): the whole
                // extent again, nothing unmapped.
                restore(tx, geo, t, cur, &e)?;
                return Err(err);
            }
            continue;
        }
        // Here e starts at cur.
        if b < e.end() {
            let keep = u32::try_from(b.saturating_sub(u64::from(e.lblk)))
                .map_err(|_| Error::Corrupt(W))?;
            let head = NewExtent { len: keep, ..e }.bytes()?;
            write(tx, geo, t, leaf.at, |bb| put_entry(bb, at, &head))?;
            let tail = NewExtent {
                lblk: e.lblk.saturating_add(keep),
                len: e.len.saturating_sub(keep),
                pblk: e.pblk.saturating_add(u64::from(keep)),
                unwritten: true,
            };
            if let Err(err) = insert(tx, geo, t, tail, false) {
                restore(tx, geo, t, e.lblk, &e)?;
                return Err(err);
            }
        }
        let p = find_path(tx, geo, t, cur)?;
        let leaf = p.leaf()?;
        let at = leaf.pos.checked_sub(1).ok_or(Error::Corrupt(W))?;
        let e = ext_of(&entry(tx, t, leaf.at, at)?)?;
        if e.lblk != cur || !e.unwritten {
            return Err(Error::Corrupt("extent changed during conversion"));
        }
        let mut done = NewExtent {
            unwritten: false,
            ..e
        };
        let left = match at.checked_sub(1) {
            Some(i) => Some(ext_of(&entry(tx, t, leaf.at, i)?)?),
            None => None,
        };
        let right = match at.saturating_add(1) < leaf.entries {
            true => Some(ext_of(&entry(tx, t, leaf.at, at.saturating_add(1))?)?),
            false => None,
        };
        let mut slot = at;
        let mut drop_self = false;
        if let Some(l) = left.filter(|l| mergeable(l, &done)) {
            done = NewExtent {
                len: l.len.saturating_add(done.len),
                ..l
            };
            slot = at.saturating_sub(1);
            drop_self = true;
        }
        let drop_right = right.is_some_and(|r| mergeable(&done, &r));
        if let Some(r) = right.filter(|_| drop_right) {
            done.len = done.len.saturating_add(r.len);
        }
        let db = done.bytes()?;
        write(tx, geo, t, leaf.at, |bb| {
            put_entry(bb, slot, &db)?;
            if drop_right {
                remove_raw(bb, at.saturating_add(1))?;
            }
            if drop_self {
                remove_raw(bb, at)?;
            }
            Ok(())
        })?;
        cur = u32::try_from(b).unwrap_or(u32::MAX);
        if b >= 1 << 32 {
            break;
        }
    }
    Ok(None)
}

/// Puts extent `e` back over the shortened extent holding `lblk` (a split
/// whose second half could not be inserted).
fn restore<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    lblk: u32,
    e: &NewExtent,
) -> Result<()> {
    let p = find_path(tx, geo, t, lblk)?;
    let leaf = p.leaf()?;
    let at = leaf.pos.checked_sub(1).ok_or(Error::Corrupt(W))?;
    let cur = ext_of(&entry(tx, t, leaf.at, at)?)?;
    if cur.lblk != e.lblk {
        return Err(Error::Corrupt("extent changed during a split"));
    }
    let b = e.bytes()?;
    write(tx, geo, t, leaf.at, |bb| put_entry(bb, at, &b))
}

/// Frees the tree block at `level` of `p` (it has no entries left) and its
/// index in the parent, and so on up while parents empty; an emptied root
/// becomes an empty leaf again.
fn drop_node<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    p: &Path,
    level: usize,
) -> Result<()> {
    let mut l = level;
    while let Some(up) = l.checked_sub(1) {
        let At::Block(blk) = p.level(l)?.at else {
            return Err(Error::Corrupt(W));
        };
        free_run(tx, geo, blk, 1, true)?;
        t.blocks = t.blocks.saturating_sub(1);
        let parent = p.level(up)?;
        let left = write(tx, geo, t, parent.at, |b| {
            remove_raw(b, parent.pos)?;
            Ok(ExtentHeader::parse(b)?.eh_entries)
        })?;
        if left != 0 {
            return Ok(());
        }
        if up == 0 {
            let r = &mut t.root[..];
            r.get_mut(E..).ok_or(Error::Corrupt(W))?.fill(0);
            return init_header(r, 0, ROOT_MAX, 0);
        }
        l = up;
    }
    Ok(())
}

/// Unmaps every block from logical block `from` on, freeing data blocks
/// and the tree blocks left empty (`ext4_ext_remove_space()`, from the end
/// backwards). `metadata` says the mapped blocks are journalled
/// (a directory's) and must be revoked as they are freed. Returns `true`
/// when done, `false` when `budget` (credits) ran out first: call again in
/// a new transaction.
pub fn remove_from<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    t: &mut Tree<'_>,
    from: u32,
    metadata: bool,
    budget: &mut u32,
) -> Result<bool> {
    loop {
        let p = find_path(tx, geo, t, u32::MAX)?;
        let leaf = p.leaf()?;
        let d = u32::try_from(p.depth).map_err(|_| Error::Corrupt(W))?;
        let Some(last) = leaf.entries.checked_sub(1) else {
            if p.depth == 0 {
                return Ok(true);
            }
            if !take(budget, d.saturating_add(1).saturating_mul(3)) {
                return Ok(false);
            }
            drop_node(tx, geo, t, &p, p.depth)?;
            continue;
        };
        let e = ext_of(&entry(tx, t, leaf.at, last)?)?;
        if e.end() <= u64::from(from) {
            return Ok(true);
        }
        let keep = from.saturating_sub(e.lblk);
        let gone = e.len.saturating_sub(keep);
        let cost = free_credits(geo, u64::from(gone))
            .saturating_add(d.saturating_add(1).saturating_mul(3))
            .saturating_add(1);
        if !take(budget, cost) {
            return Ok(false);
        }
        free_run(
            tx,
            geo,
            e.pblk.saturating_add(u64::from(keep)),
            u64::from(gone),
            metadata,
        )?;
        t.blocks = t.blocks.saturating_sub(i64::from(gone));
        if keep > 0 {
            let kb = NewExtent { len: keep, ..e }.bytes()?;
            write(tx, geo, t, leaf.at, |b| put_entry(b, last, &kb))?;
            return Ok(true);
        }
        write(tx, geo, t, leaf.at, |b| remove_raw(b, last))?;
        if last == 0 && p.depth > 0 {
            drop_node(tx, geo, t, &p, p.depth)?;
        }
    }
}

/// Credits a [`remove_from`] or [`mark_written`] transaction should
/// reserve to make progress on a tree of depth `depth`: room for `steps`
/// steps.
pub fn steps_credits(depth: u16, steps: u32) -> u32 {
    step_credits(depth).saturating_mul(steps.max(1))
}

/// Every `(physical start, length)` run the root leaf maps, for freeing.
/// `Unsupported` for a tree with index levels.
pub fn root_runs<'a>(
    i_block: &'a [u8],
    geo: &Geometry,
) -> Result<impl Iterator<Item = Result<(u64, u32)>> + 'a> {
    let root = ExtentNode::parse(i_block, NodeKind::Root, geo)?;
    if !root.is_leaf() {
        return Err(Error::Unsupported("extent tree with index levels"));
    }
    Ok(root.extents().map(|e| e.map(|e| (e.pblock(), e.len()))))
}

/// Maps logical block `lblk` to physical block `pblk` in the root leaf
/// `i_block`, after everything mapped so far (directories grow this way).
/// Returns whether it was merged into the last extent.
pub fn root_append(i_block: &mut [u8; 60], geo: &Geometry, lblk: u32, pblk: u64) -> Result<bool> {
    let root = ExtentNode::parse(&i_block[..], NodeKind::Root, geo)?;
    if !root.is_leaf() {
        return Err(Error::Unsupported("extent tree with index levels"));
    }
    let n = root.entries();
    let e = NewExtent {
        lblk,
        len: 1,
        pblk,
        unwritten: false,
    };
    if let Some(i) = n.checked_sub(1) {
        let l = NewExtent::of(&root.extent(i)?);
        if l.end() > u64::from(lblk) {
            return Err(Error::OutOfRange("block already mapped"));
        }
        if mergeable(&l, &e) {
            let j = NewExtent {
                len: l.len.saturating_add(1),
                ..l
            }
            .bytes()?;
            put_entry(&mut i_block[..], i, &j)?;
            return Ok(true);
        }
    }
    if n >= root.header().eh_max {
        return Err(Error::Unsupported("extent tree growth past the inode"));
    }
    insert_raw(&mut i_block[..], n, &e.bytes()?)?;
    Ok(false)
}
