// SPDX-License-Identifier: GPL-2.0

//! Directories: `readdir` and `lookup`, as ext4 does them.
//!
//! A directory that has an htree index, or is one block long on a
//! `dir_index` file system (`is_dx_dir()`), is listed in hash order and its
//! positions are hash cookies (`ext4_dx_readdir()`; the walk is
//! [`crate::ondisk::dx_readdir`], its state lives in the open file as a
//! [`DirCursor`]). Other directories are listed block by block and their
//! positions are byte offsets (`lblk * blocksize + offset in block`); a seek
//! to an offset inside a record resumes at the next record.
//!
//! Lookups go through the htree index when there is one
//! (`ext4_dx_find_entry()`), linearly otherwise (`ext4_find_entry()`).

use kernel::{new_mutex, prelude::*, sync::Mutex};

use crate::error::corrupt;
use crate::extent_status::EsKind;
use crate::inode::{self, EXT4_INDEX_FL};
use crate::ondisk::{
    dir::{ext4_dirblock_csum_verify, search_dir, DirBlockIter, *},
    dx_readdir::{
        self, Cookies, DirHashing, DirReader, DxCursor, DxPath, Fname, Listed, NameBatch, Probe,
    },
    features::{EXT4_FEATURE_COMPAT_DIR_INDEX, EXT4_FEATURE_INCOMPAT_FILETYPE},
    hash::ext4fs_dirhash,
    htree::ext4_dx_csum_verify,
    inode::EXT4_ROOT_INO,
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
    /// A leaf reached through the index (`DIRENT_HTREE`): ext4 checks its
    /// checksum unless it looks like an interior node.
    HtreeLeaf,
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
            BlockKind::Leaf => Some(false),
            BlockKind::Index => Some(true),
            BlockKind::LeafOrNode => Some(is_dx_node(bh.data())),
            BlockKind::HtreeLeaf => (!is_dx_node(bh.data())).then_some(false),
        };
        let r = match index {
            Some(false) => ext4_dirblock_csum_verify(bh.data(), seed),
            Some(true) => ext4_dx_csum_verify(bh.data(), seed),
            None => Ok(()),
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

/// Whether `dir` is listed in hash order (`is_dx_dir()`): it has an index,
/// or is one block long (and could get one), on a dir_index file system.
fn is_dx_dir(dir: &Inode<Rext4Fs>) -> bool {
    let geo = &dir.sb().info().geo;
    geo.has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX)
        && (dir.data().has_flag(EXT4_INDEX_FL) || (dir.size() as u64) >> geo.log_block_size == 1)
}

/// The names of one fill step, in kernel memory.
pub(crate) struct Batch {
    fnames: KVVec<Fname>,
    names: KVVec<u8>,
}

impl NameBatch for Batch {
    type Error = Error;

    fn clear(&mut self) {
        self.fnames.clear();
        self.names.clear();
    }

    fn push(&mut self, mut fname: Fname, name: &[u8]) -> Result {
        fname.name_off = u32::try_from(self.names.len()).map_err(|_| ENOMEM)?;
        self.names.extend_from_slice(name, GFP_KERNEL)?;
        self.fnames.push(fname, GFP_KERNEL)?;
        Ok(())
    }

    fn fnames(&self) -> &[Fname] {
        &self.fnames
    }

    fn fnames_mut(&mut self) -> &mut [Fname] {
        &mut self.fnames
    }

    fn names(&self) -> &[u8] {
        &self.names
    }
}

/// What an open directory remembers between `getdents` calls
/// (`struct dir_private_info`). The VFS serialises calls on one open file
/// (`f_pos_lock`); the mutex makes that a property of this type.
#[pin_data]
pub(crate) struct DirCursor {
    #[pin]
    dx: Mutex<DxCursor<Batch>>,
}

impl DirCursor {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            dx <- new_mutex!(DxCursor::new(Batch { fnames: KVVec::new(), names: KVVec::new() }), "rext4_dir_cursor"),
        }? Error)
    }
}

/// The cookie width of a reader (`hash2pos()`).
fn cookies(cookies_32bit: bool) -> Cookies {
    match cookies_32bit {
        true => Cookies::Bits32,
        false => Cookies::Bits64,
    }
}

/// Before an `llseek` of an open directory (`ext4_dir_llseek()`): the next
/// listing reads the directory again; hash-listed directories take
/// positions up to the end cookie.
pub(crate) fn llseek(dir: &Inode<Rext4Fs>, cursor: &DirCursor, cookies_32bit: bool) -> Option<i64> {
    cursor.dx.lock().seeked();
    is_dx_dir(dir).then(|| dx_readdir::htree_eof(cookies(cookies_32bit)))
}

/// Block reads of the hash-order walk: the checks of `ext4_read_dirblock()`.
struct Blocks<'a> {
    dir: &'a Inode<Rext4Fs>,
}

impl DirReader for Blocks<'_> {
    type Block = BufferHead;
    type Error = Error;

    fn index_block(&mut self, lblk: u32) -> Result<BufferHead> {
        read_block(self.dir, lblk, BlockKind::Index)
    }

    fn leaf_block(&mut self, lblk: u32) -> Result<BufferHead> {
        let kind = match self.dir.data().has_flag(EXT4_INDEX_FL) {
            true => BlockKind::HtreeLeaf,
            false => BlockKind::Leaf,
        };
        read_block(self.dir, lblk, kind)
    }

    fn corrupt(&mut self, lblk: u32, e: DiskError) -> Error {
        corrupt(self.dir.sb().id(), self.dir.ino(), u64::from(lblk), e)
    }

    fn bad_record(&mut self, lblk: u32, e: DiskError) {
        let _ = self.corrupt(lblk, e);
    }

    fn check_stop(&mut self) -> Result {
        match crate::vfs::should_stop() {
            true => Err(ERESTARTSYS),
            false => Ok(()),
        }
    }
}

/// A [`DirEmitter`] as the hash-order walk sees it.
struct Emit<'a> {
    out: &'a mut DirEmitter,
    has_ft: bool,
}

impl dx_readdir::Emitter for Emit<'_> {
    fn pos(&self) -> i64 {
        self.out.pos()
    }

    fn set_pos(&mut self, pos: i64) {
        self.out.set_pos(pos);
    }

    fn emit(&mut self, name: &[u8], inode: u32, file_type: u8) -> bool {
        self.out
            .emit(name, inode.into(), dt_of(file_type, self.has_ft))
    }
}

/// Lists `dir` from the position in `out` (`ext4_readdir()`): in hash order
/// when it is a dx directory, unless its index is malformed, in which case
/// ext4 (and rext4) falls back to the block-by-block listing.
pub(crate) fn readdir(dir: &Inode<Rext4Fs>, cursor: &DirCursor, out: &mut DirEmitter) -> Result {
    if is_dx_dir(dir) {
        let geo = &dir.sb().info().geo;
        let how = DirHashing {
            geo,
            indexed: dir.data().has_flag(EXT4_INDEX_FL),
        };
        let width = cookies(out.cookies_32bit());
        let has_ft = geo.has_incompat(EXT4_FEATURE_INCOMPAT_FILETYPE);
        let mut blocks = Blocks { dir };
        let mut emit = Emit { out, has_ft };
        let listed = cursor.dx.lock().readdir(&mut emit, width, |start, batch| {
            dx_readdir::fill_batch(&mut blocks, how, start, batch)
        })?;
        match listed {
            Listed::Done => return Ok(()),
            Listed::Linear(e) => {
                // ext4: "Corrupt directory, running e2fsck is recommended".
                let _ = corrupt(dir.sb().id(), dir.ino(), 0, e);
                // Without checksums nothing stops ext4 from ignoring the
                // index from now on: it clears the flag in memory, so later
                // listings and lookups go block by block without probing
                // (and reporting) the index again.
                if !geo.has_metadata_csum() {
                    dir.data().clear_flag(EXT4_INDEX_FL);
                }
            }
        }
    }
    linear_readdir(dir, out)
}

/// Lists `dir` block by block from the byte position in `out`, the way
/// `ext4_readdir()` does on damage: a hole is skipped; a leaf block that
/// fails its checksum is reported and skipped; a bad record is reported and
/// the rest of its block skipped. The listing goes on with the next block,
/// so a user still sees what is intact. A dx directory comes here only when
/// its index is malformed.
fn linear_readdir(dir: &Inode<Rext4Fs>, out: &mut DirEmitter) -> Result {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let bs = u64::from(geo.block_size);
    let bits = geo.log_block_size;
    let size = dir.size() as u64;
    let has_ft = geo.has_incompat(EXT4_FEATURE_INCOMPAT_FILETYPE);
    let indexed = is_indexed(dir);
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
        let bh = match read_block_or_hole(dir, lblk, kind) {
            Ok(DirBlock::Data(bh)) => bh,
            Ok(DirBlock::Hole { len }) => {
                pos = (u64::from(lblk) + u64::from(len)) << bits;
                out.set_pos(pos.min(size) as i64);
                continue;
            }
            // Reported by read_block; the listing goes on.
            Err(e) if e == EBADMSG => {
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
            let sb = dir.sb();
            let geo = &sb.info().geo;
            // ext4_lookup(): a name of a reserved inode, or of the directory
            // itself, is corruption of the directory.
            if !(ino == EXT4_ROOT_INO || (ino >= geo.first_ino && ino <= geo.inodes_count)) {
                return Err(dir_corrupt(dir, format_args!("bad inode number: {ino}")));
            }
            if u64::from(ino) == dir.ino() {
                return Err(dir_corrupt(dir, format_args!("entry linked to parent dir")));
            }
            Ok(Some(inode::iget(sb, ino)?))
        }
    }
}

/// Reports corruption of directory `dir` (`EXT4_ERROR_INODE(dir, ...)`).
fn dir_corrupt(dir: &Inode<Rext4Fs>, what: core::fmt::Arguments<'_>) -> Error {
    if crate::vfs::ratelimit() {
        pr_err!("rext4 ({}): inode #{}: {what}\n", dir.sb().id(), dir.ino());
    }
    EFSCORRUPTED
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

/// `ext4_dx_find_entry()`: hash the name, descend the index to its leaf,
/// search it, and go on into the following leaves while their index slot
/// continues the same hash (a collision run, at any depth). A malformed
/// index is reported and the directory searched linearly, as ext4 does.
fn dx_find(dir: &Inode<Rext4Fs>, name: &[u8]) -> Result<Option<u32>> {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    // "." and ".." are in the root block, which is not hashed.
    if name == b"." || name == b".." {
        return linear_find_block(dir, 0, name);
    }
    let mut blocks = Blocks { dir };
    let hash_of = |v| ext4fs_dirhash(name, v, &geo.hash_seed).map(|h| h.hash);
    let mut path = match DxPath::probe(&mut blocks, geo, hash_of)? {
        Probe::Path(p) => p,
        Probe::BadIndex(e) => {
            let _ = corrupt(sb.id(), dir.ino(), 0, e);
            return linear_find(dir, name);
        }
    };
    let hash = path.hash();
    loop {
        if crate::vfs::should_stop() {
            return Err(ERESTARTSYS);
        }
        let leaf = path.leaf(&mut blocks)?;
        let bh = blocks.leaf_block(leaf)?;
        let found = search_dir(bh.data(), geo, name)
            .map_err(|e| corrupt(sb.id(), dir.ino(), bh.blocknr(), e))?;
        if let Some(e) = found {
            return Ok(Some(e.inode));
        }
        // Only into a leaf that continues this hash (a collision run).
        if path
            .next_leaf(&mut blocks, geo, |h| h & !1 == hash)?
            .is_none()
        {
            return Ok(None);
        }
    }
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
