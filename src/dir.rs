// SPDX-License-Identifier: GPL-2.0

//! Directories: `readdir` over every block in order, and `lookup`, through
//! the htree index when the directory has one (`ext4_dx_find_entry()`),
//! linearly otherwise (`ext4_find_entry()`).
//!
//! Positions are byte offsets into the directory (`lblk * blocksize +
//! offset in block`). On a read-only mount they are stable; a seek to an
//! offset inside a record resumes at the next record.

use kernel::prelude::*;

use crate::error::corrupt;
use crate::extent_status::EsKind;
use crate::inode::{self, EXT4_INDEX_FL};
use crate::ondisk::{
    dir::{ext4_dirblock_csum_verify, search_dir, DirBlockIter, *},
    features::{EXT4_FEATURE_COMPAT_DIR_INDEX, EXT4_FEATURE_INCOMPAT_FILETYPE},
    hash::{effective_hash_version, ext4fs_dirhash},
    htree::{ext4_dx_csum_verify, DxNode, DxRoot},
    Error as DiskError,
};
use crate::super_::Rext4Fs;
use crate::vfs::{dir::dtype, BufferHead, DirEmitter, Inode};

/// What a directory block is.
enum BlockKind {
    /// Directory entries (with a checksum tail under metadata_csum).
    Leaf,
    /// An htree root or interior node (checksummed with a dx tail).
    Index,
    /// A block of an indexed directory other than the root: an interior
    /// node if it looks like one ([`is_dx_node`]), a leaf otherwise.
    LeafOrNode,
}

impl BlockKind {
    /// The kind of logical block `lblk` of a directory: in an indexed one,
    /// block 0 is the dx root.
    fn of(indexed: bool, lblk: u32) -> Self {
        match (indexed, lblk) {
            (true, 0) => BlockKind::Index,
            (true, _) => BlockKind::LeafOrNode,
            (false, _) => BlockKind::Leaf,
        }
    }
}

/// What a logical block of a directory holds.
enum DirBlock {
    /// Nothing mapped (or an unwritten extent), for `len` blocks from here.
    Hole { len: u32 },
    /// The block, its checksum checked.
    Data(BufferHead),
}

/// Reads logical block `lblk` of directory `dir` and checks its checksum,
/// or says how long the hole there is.
fn read_block_or_hole(dir: &Inode<Rext4Fs>, lblk: u32, kind: BlockKind) -> Result<DirBlock> {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let (es, _) = crate::map::map_blocks(dir, lblk)?;
    let EsKind::Written(pblk) = es.kind else {
        return Ok(DirBlock::Hole { len: es.len.max(1) });
    };
    let bh = sb.bread(pblk)?;
    if geo.has_metadata_csum() {
        let seed = dir.data().d.csum_seed;
        let index = match kind {
            BlockKind::Leaf => false,
            BlockKind::Index => true,
            BlockKind::LeafOrNode => is_dx_node(bh.data()),
        };
        let r = match index {
            false => ext4_dirblock_csum_verify(bh.data(), seed),
            true => ext4_dx_csum_verify(bh.data(), seed),
        };
        r.map_err(|e| corrupt(sb.id(), dir.ino(), pblk, e))?;
    }
    Ok(DirBlock::Data(bh))
}

/// Reads logical block `lblk` of directory `dir`, where a hole is corruption
/// (ext4: "Directory hole found", as on its htree path).
fn read_block(dir: &Inode<Rext4Fs>, lblk: u32, kind: BlockKind) -> Result<BufferHead> {
    match read_block_or_hole(dir, lblk, kind)? {
        DirBlock::Data(bh) => Ok(bh),
        DirBlock::Hole { .. } => Err(corrupt(
            dir.sb().id(),
            dir.ino(),
            0,
            DiskError::Corrupt("directory hole or unwritten block"),
        )),
    }
}

/// Whether a block of an indexed directory is an interior index node: one
/// empty record spanning the block.
fn is_dx_node(block: &[u8]) -> bool {
    let bs = block.len();
    let inode = block
        .get(0..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let rec = block
        .get(4..6)
        .map(|b| rec_len_from_disk(u16::from_le_bytes([b[0], b[1]]), bs));
    inode == Some(0) && rec == Some(bs)
}

fn is_indexed(dir: &Inode<Rext4Fs>) -> bool {
    dir.data().has_flag(EXT4_INDEX_FL)
        && dir
            .sb()
            .info()
            .geo
            .has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX)
}

fn dt_of(ft: u8, has_filetype: bool) -> u8 {
    if !has_filetype {
        return dtype::UNKNOWN;
    }
    match ft {
        EXT4_FT_REG_FILE => dtype::REG,
        EXT4_FT_DIR => dtype::DIR,
        EXT4_FT_CHRDEV => dtype::CHR,
        EXT4_FT_BLKDEV => dtype::BLK,
        EXT4_FT_FIFO => dtype::FIFO,
        EXT4_FT_SOCK => dtype::SOCK,
        EXT4_FT_SYMLINK => dtype::LNK,
        _ => dtype::UNKNOWN,
    }
}

/// Lists `dir` from the position in `out`, the way `ext4_readdir()` does on
/// damage: a hole is skipped; in a linear directory a leaf block that fails
/// its checksum is reported and skipped; a bad record is reported and the
/// rest of its block skipped. The listing goes on with the next block, so a
/// user still sees what is intact. The htree path of ext4, which it also
/// takes for a one-block directory when the file system has dir_index, fails
/// on a bad checksum or a hole instead; so does rext4 for those directories.
pub(crate) fn readdir(dir: &Inode<Rext4Fs>, out: &mut DirEmitter) -> Result {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let bs = u64::from(geo.block_size);
    let bits = geo.log_block_size;
    let size = dir.size() as u64;
    let has_ft = geo.has_incompat(EXT4_FEATURE_INCOMPAT_FILETYPE);
    let indexed = is_indexed(dir);
    // ext4 lists a one-block directory on a dir_index file system through
    // its htree path too (`is_dx_dir()`), which fails on a bad checksum.
    let strict = indexed || (geo.has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX) && size >> bits == 1);
    let mut pos = u64::try_from(out.pos()).map_err(|_| EINVAL)?;
    while pos < size {
        if crate::vfs::should_stop() {
            return Err(ERESTARTSYS);
        }
        let lblk = u32::try_from(pos >> bits).map_err(|_| EFSCORRUPTED)?;
        let in_block = (pos & bs.saturating_sub(1)) as usize;
        let next_block = (u64::from(lblk) + 1) << bits;
        // Block 0 of an indexed directory is the dx root: its '.' and '..'
        // are real entries, the rest of it is the index.
        let is_root = indexed && lblk == 0;
        let kind = BlockKind::of(indexed, lblk);
        let read = match strict {
            true => read_block(dir, lblk, kind).map(DirBlock::Data),
            false => read_block_or_hole(dir, lblk, kind),
        };
        let bh = match read {
            Ok(DirBlock::Data(bh)) => bh,
            Ok(DirBlock::Hole { len }) => {
                pos = (u64::from(lblk) + u64::from(len)) << bits;
                out.set_pos(pos.min(size) as i64);
                continue;
            }
            // Reported by read_block; the listing goes on.
            Err(e) if e == EBADMSG && !strict => {
                pos = next_block;
                out.set_pos(pos as i64);
                continue;
            }
            Err(e) => return Err(e),
        };
        let block = bh.data();
        if indexed && !is_root && is_dx_node(block) {
            pos = next_block;
            continue;
        }
        // In the dx root only the two fixed records are read: the '..'
        // record spans the index.
        for entry in DirBlockIter::for_fs(block, geo) {
            let e = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Reported; the rest of this block is skipped.
                    let _ = corrupt(sb.id(), dir.ino(), bh.blocknr(), e);
                    break;
                }
            };
            if e.offset < in_block {
                continue;
            }
            let here = (u64::from(lblk) << bits) + e.offset as u64;
            if e.inode != 0 && !e.is_csum_tail() {
                out.set_pos(here as i64);
                if !out.emit(e.name, e.inode.into(), dt_of(e.file_type, has_ft)) {
                    return Ok(());
                }
            }
            out.set_pos((here + e.rec_len as u64) as i64);
        }
        pos = next_block;
        out.set_pos(pos as i64);
    }
    out.set_pos(size as i64);
    Ok(())
}

pub(crate) fn lookup(dir: &Inode<Rext4Fs>, name: &[u8]) -> Result<Option<ARef<Inode<Rext4Fs>>>> {
    if name.len() > EXT4_NAME_LEN {
        return Err(ENAMETOOLONG);
    }
    let ino = if is_indexed(dir) {
        dx_find(dir, name)?
    } else {
        linear_find(dir, name)?
    };
    match ino {
        None => Ok(None),
        Some(ino) => {
            let inode = inode::iget(dir.sb(), ino).inspect_err(|&e| {
                if e == EFSCORRUPTED && crate::vfs::ratelimit() {
                    pr_err!(
                        "rext4 ({}): directory #{} names bad inode {ino}\n",
                        dir.sb().id(),
                        dir.ino()
                    );
                }
            })?;
            Ok(Some(inode))
        }
    }
}

fn linear_find(dir: &Inode<Rext4Fs>, name: &[u8]) -> Result<Option<u32>> {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let bs = u64::from(geo.block_size);
    let blocks = (dir.size() as u64).saturating_add(bs.saturating_sub(1)) >> geo.log_block_size;
    // Also the fallback of an htree lookup, so indexed directories come here.
    let indexed = is_indexed(dir);
    let mut lblk = 0u64;
    while lblk < blocks {
        if crate::vfs::should_stop() {
            return Err(ERESTARTSYS);
        }
        let blk = u32::try_from(lblk).map_err(|_| EFSCORRUPTED)?;
        let bh = match read_block_or_hole(dir, blk, BlockKind::of(indexed, blk))? {
            DirBlock::Data(bh) => bh,
            // A hole holds no names (`__ext4_find_entry()` skips it).
            DirBlock::Hole { len } => {
                lblk += u64::from(len);
                continue;
            }
        };
        let found = search_dir(bh.data(), geo, name)
            .map_err(|e| corrupt(sb.id(), dir.ino(), bh.blocknr(), e))?;
        if let Some(e) = found {
            return Ok(Some(e.inode));
        }
        lblk += 1;
    }
    Ok(None)
}

fn dx_find(dir: &Inode<Rext4Fs>, name: &[u8]) -> Result<Option<u32>> {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let bad = |blk: u64, e: DiskError| corrupt(sb.id(), dir.ino(), blk, e);
    // "." and ".." are in the root block, which is not hashed.
    if name == b"." || name == b".." {
        return linear_find_block(dir, 0, name);
    }
    let root_bh = read_block(dir, 0, BlockKind::Index)?;
    let root = DxRoot::parse(root_bh.data(), geo).map_err(|e| bad(root_bh.blocknr(), e))?;
    let version = effective_hash_version(root.info.hash_version, geo.hash_unsigned);
    let hash = ext4fs_dirhash(name, version, &geo.hash_seed)
        .map_err(|e| bad(root_bh.blocknr(), e))?
        .hash;
    let mut at = root
        .entries
        .lookup(hash)
        .map_err(|e| bad(root_bh.blocknr(), e))?;
    // Interior levels; `indirect_levels` is bounded by DxRoot::parse.
    let mut path_next = [at.next_hash, None, None];
    for level in 0..root.info.indirect_levels {
        let bh = read_block(dir, at.block, BlockKind::Index)?;
        let node = DxNode::parse(bh.data(), geo).map_err(|e| bad(bh.blocknr(), e))?;
        at = node
            .entries
            .lookup(hash)
            .map_err(|e| bad(bh.blocknr(), e))?;
        if let Some(slot) = path_next.get_mut(usize::from(level) + 1) {
            *slot = at.next_hash;
        }
    }
    let levels = root.info.indirect_levels;
    drop(root_bh);
    // Search the leaf, then its successors while they continue this hash
    // (a collision run, marked by the low bit of the next index hash).
    let mut leaf = at.block;
    let mut next_hash = at.next_hash;
    for _ in 0..64 {
        if let Some(ino) = linear_find_block(dir, leaf, name)? {
            return Ok(Some(ino));
        }
        match next_hash {
            Some(h) if h & !1 == hash && h & 1 == 1 => {
                // Only the common single-level continuation is followed;
                // deeper continuations fall back to a linear scan.
                if levels != 0 {
                    return linear_find(dir, name);
                }
                let root_bh = read_block(dir, 0, BlockKind::Index)?;
                let root =
                    DxRoot::parse(root_bh.data(), geo).map_err(|e| bad(root_bh.blocknr(), e))?;
                let cur = root
                    .entries
                    .lookup(h)
                    .map_err(|e| bad(root_bh.blocknr(), e))?;
                leaf = cur.block;
                next_hash = cur.next_hash;
            }
            _ => return Ok(None),
        }
    }
    Ok(None)
}

fn linear_find_block(dir: &Inode<Rext4Fs>, lblk: u32, name: &[u8]) -> Result<Option<u32>> {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let bh = read_block(dir, lblk, BlockKind::of(is_indexed(dir), lblk))?;
    let found = search_dir(bh.data(), geo, name)
        .map_err(|e| corrupt(sb.id(), dir.ino(), bh.blocknr(), e))?;
    Ok(found.map(|e| e.inode))
}

use kernel::sync::aref::ARef;
