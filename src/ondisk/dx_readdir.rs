// SPDX-License-Identifier: GPL-2.0

//! Listing a directory in hash order, as `ext4_dx_readdir()` does for every
//! directory that is indexed, or could become indexed (one block long on a
//! `dir_index` file system).
//!
//! The position of an entry (`d_off`, `telldir()`) is then a cookie made of
//! its hash, not a byte offset, so it stays valid when the directory's blocks
//! are split or rearranged ([`hash2pos`]). One listing step
//! ([`fill_batch`], `ext4_htree_fill_tree()`) reads the leaf that holds a
//! start hash and its successors up to a leaf boundary that is not a hash
//! collision, keeping the names at or after that hash; [`DxCursor`], the
//! per-open-file state (`struct dir_private_info`), hands them out sorted by
//! hash and remembers where a full user buffer stopped.
//!
//! I/O stays with the caller, through [`DirReader`]; names are kept in a
//! caller-provided [`NameBatch`], so this file allocates nothing itself.

use super::dir::{DirBlockIter, DirEntry};
use super::error::{Error, Result};
use super::hash::{effective_hash_version, ext4fs_dirhash, EXT4_HTREE_EOF_32BIT};
use super::htree::{DxEntries, DxNode, DxRoot, DxShape};
use super::superblock::Geometry;

/// `EXT4_HTREE_EOF_64BIT`: the position after the last entry with 64-bit
/// cookies.
pub const EXT4_HTREE_EOF_64BIT: i64 = i64::MAX;

/// The `next_hash` of a fill step after the last leaf: nothing follows.
const NO_MORE: u32 = !0;

/// Which cookies the reader of an open directory gets (`hash2pos()`): NFS
/// asks for one width explicitly; otherwise a 32-bit (compat) system call
/// gets 32-bit ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cookies {
    /// The major hash without its collision bit.
    Bits32,
    /// Major hash (without the collision bit) and minor hash.
    Bits64,
}

/// The position of an entry with hashes `major`/`minor`.
pub fn hash2pos(width: Cookies, major: u32, minor: u32) -> i64 {
    let major = i64::from(major >> 1);
    match width {
        Cookies::Bits32 => major,
        // major < 2^31, so the shift stays below 2^63.
        Cookies::Bits64 => (major << 32) | i64::from(minor),
    }
}

/// The hashes a listing restarts from at position `pos` (`pos2maj_hash()`,
/// `pos2min_hash()`).
pub fn pos2hash(width: Cookies, pos: i64) -> (u32, u32) {
    let pos = pos as u64;
    match width {
        Cookies::Bits32 => ((pos << 1) as u32, 0),
        Cookies::Bits64 => (((pos >> 32) << 1) as u32, pos as u32),
    }
}

/// The end-of-directory position (`ext4_get_htree_eof()`); also the
/// largest offset `llseek` accepts.
pub fn htree_eof(width: Cookies) -> i64 {
    match width {
        Cookies::Bits32 => i64::from(EXT4_HTREE_EOF_32BIT),
        Cookies::Bits64 => EXT4_HTREE_EOF_64BIT,
    }
}

/// Block reads for the fill step, with the checks of `ext4_read_dirblock()`.
pub trait DirReader {
    /// A block that has been read; its bytes are one file system block.
    type Block: AsRef<[u8]>;
    /// The caller's error type.
    type Error;
    /// Logical block `lblk` as an index block (root or node): a hole, a
    /// read error or a bad `dx_tail` checksum is an error.
    fn index_block(&mut self, lblk: u32) -> core::result::Result<Self::Block, Self::Error>;
    /// Logical block `lblk` as a leaf: a hole, a read error or a bad
    /// directory-block checksum is an error.
    fn leaf_block(&mut self, lblk: u32) -> core::result::Result<Self::Block, Self::Error>;
    /// Turns a format error found in block `lblk` into the caller's error
    /// (reporting it).
    fn corrupt(&mut self, lblk: u32, e: Error) -> Self::Error;
    /// Reports a bad record in leaf `lblk`; the rest of that leaf is skipped
    /// and the listing goes on (`htree_dirblock_to_tree()`).
    fn bad_record(&mut self, lblk: u32, e: Error);
    /// Checked between leaves: `Err` stops the listing (a fatal signal).
    fn check_stop(&mut self) -> core::result::Result<(), Self::Error>;
}

/// One name kept by a fill step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fname {
    /// Major hash.
    pub hash: u32,
    /// Minor hash.
    pub minor: u32,
    /// Inode number.
    pub inode: u32,
    /// Raw `file_type` byte.
    pub file_type: u8,
    /// Order in which the fill step found it (ties between equal hashes).
    pub seq: u32,
    /// Where the name is in [`NameBatch::names`].
    pub name_off: u32,
    /// Name length.
    pub name_len: u8,
}

impl Fname {
    fn key(&self) -> (u32, u32) {
        (self.hash, self.minor)
    }
}

/// Storage for the names of one fill step (the C code's red-black tree).
pub trait NameBatch {
    /// The caller's error type (allocation failure).
    type Error;
    /// Forgets every name.
    fn clear(&mut self);
    /// Appends `name` to the name bytes and `fname` (whose `name_off` is
    /// set to where it went) to the list.
    fn push(&mut self, fname: Fname, name: &[u8]) -> core::result::Result<(), Self::Error>;
    /// The list.
    fn fnames(&self) -> &[Fname];
    /// The list, to sort it.
    fn fnames_mut(&mut self) -> &mut [Fname];
    /// All name bytes.
    fn names(&self) -> &[u8];
}

/// What a fill step found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// `count` names were kept; `next_hash` is where the next step starts
    /// (`!0`: nothing follows).
    Filled {
        /// Names kept.
        count: usize,
        /// The hash of the leaf after the ones read.
        next_hash: u32,
    },
    /// The index is malformed (`ERR_BAD_DX_DIR`): list the directory
    /// linearly instead.
    BadIndex(Error),
}

/// How names of one directory are hashed.
#[derive(Clone, Copy, Debug)]
pub struct DirHashing<'g> {
    /// The file system.
    pub geo: &'g Geometry,
    /// Whether the directory has the index flag (else it is one block long
    /// and its names are hashed with the file system's default hash).
    pub indexed: bool,
}

/// The index blocks on the path from the root to the current leaf: one per
/// level, with the slot taken in each (ext4's `struct dx_frame` array).
/// Shared by hash-order listing and by name lookup.
pub struct DxPath<B> {
    blocks: [Option<B>; 3],
    lblk: [u32; 3],
    at: [u16; 3],
    /// Where each block's entries are (offset, count, limit), as validated
    /// when it was read: later visits do not parse and sort-check it again.
    shape: [DxShape; 3],
    levels: usize,
    version: u8,
    hash: u32,
}

/// What [`DxPath::probe`] found.
pub enum Probe<B> {
    /// The path to the leaf that holds the hash.
    Path(DxPath<B>),
    /// The index is malformed (`ERR_BAD_DX_DIR`): ext4 falls back to a
    /// linear scan of the directory.
    BadIndex(Error),
}

impl<B: AsRef<[u8]>> DxPath<B> {
    /// `dx_probe()`: reads the root of an indexed directory, hashes with
    /// `hash_of` (given the root's hash version, made unsigned per the
    /// super block), and descends to the leaf for that hash, reading the
    /// interior nodes on the way.
    pub fn probe<R: DirReader<Block = B>>(
        reader: &mut R,
        geo: &Geometry,
        hash_of: impl FnOnce(u8) -> Result<u32>,
    ) -> core::result::Result<Probe<B>, R::Error> {
        let root = reader.index_block(0)?;
        let (version, levels, root_shape) = match DxRoot::parse(root.as_ref(), geo) {
            Ok(r) => (
                effective_hash_version(r.info.hash_version, geo.hash_unsigned),
                usize::from(r.info.indirect_levels),
                r.entries.shape(),
            ),
            Err(e) => return Ok(Probe::BadIndex(e)),
        };
        let hash = hash_of(version).map_err(|e| reader.corrupt(0, e))?;
        let mut path = DxPath {
            blocks: [Some(root), None, None],
            lblk: [0; 3],
            at: [0; 3],
            shape: [root_shape, DxShape::default(), DxShape::default()],
            levels,
            version,
            hash,
        };
        for level in 0..=levels {
            let found = path
                .entries(level)
                .and_then(|e| e.lookup(hash))
                .map(|l| (l.index, l.block));
            let (at, child) = match found {
                Ok(f) => f,
                Err(e) => return Ok(Probe::BadIndex(e)),
            };
            if let Some(a) = path.at.get_mut(level) {
                *a = at;
            }
            // A child equal to a block above it is a cycle.
            if path
                .lblk
                .iter()
                .take(level.saturating_add(1))
                .any(|&b| b == child)
            {
                return Ok(Probe::BadIndex(Error::Corrupt("dx entry: tree cycle")));
            }
            if level == levels {
                break;
            }
            let node = reader.index_block(child)?;
            let shape = match DxNode::parse(node.as_ref(), geo) {
                Ok(n) => n.entries.shape(),
                Err(e) => return Ok(Probe::BadIndex(e)),
            };
            path.set(level.saturating_add(1), child, node, shape)
                .map_err(|e| reader.corrupt(child, e))?;
        }
        Ok(Probe::Path(path))
    }

    /// The hash the path was probed for.
    pub fn hash(&self) -> u32 {
        self.hash
    }

    /// The hash version names of this directory are hashed with.
    pub fn hash_version(&self) -> u8 {
        self.version
    }

    /// The root block.
    pub fn root(&self) -> &[u8] {
        self.blocks
            .first()
            .and_then(Option::as_ref)
            .map_or(&[], |b| b.as_ref())
    }

    fn entries(&self, level: usize) -> Result<DxEntries<'_>> {
        let block = self
            .blocks
            .get(level)
            .and_then(Option::as_ref)
            .ok_or(Error::OutOfRange("dx frame"))?
            .as_ref();
        let &shape = self.shape.get(level).ok_or(Error::OutOfRange("dx frame"))?;
        DxEntries::revisit(block, shape)
    }

    fn at(&self, level: usize) -> u16 {
        self.at.get(level).copied().unwrap_or(0)
    }

    /// The logical block of `level` (for error reports).
    fn lblk(&self, level: usize) -> u32 {
        self.lblk.get(level).copied().unwrap_or(0)
    }

    /// The child block the slot of `level` points to.
    fn child(&self, level: usize) -> Result<u32> {
        Ok(self.entries(level)?.get(self.at(level))?.block)
    }

    /// Makes `block` (logical `lblk`, entries of `shape`) the node of
    /// `level`, at its first slot.
    fn set(&mut self, level: usize, lblk: u32, block: B, shape: DxShape) -> Result<()> {
        let (Some(b), Some(l), Some(a), Some(s)) = (
            self.blocks.get_mut(level),
            self.lblk.get_mut(level),
            self.at.get_mut(level),
            self.shape.get_mut(level),
        ) else {
            return Err(Error::OutOfRange("dx frame"));
        };
        *b = Some(block);
        *l = lblk;
        *a = 0;
        *s = shape;
        Ok(())
    }

    /// The leaf the path leads to.
    pub fn leaf<R: DirReader<Block = B>>(
        &self,
        reader: &mut R,
    ) -> core::result::Result<u32, R::Error> {
        self.child(self.levels)
            .map_err(|e| reader.corrupt(self.lblk(self.levels), e))
    }

    /// Moves to the next leaf (`ext4_htree_next_block()`) if `go_on`
    /// accepts the hash its index slot starts at (with the collision bit),
    /// reading the index nodes on the way down only then; returns that
    /// hash, or `None` after the last leaf or when `go_on` declined.
    pub fn next_leaf<R: DirReader<Block = B>>(
        &mut self,
        reader: &mut R,
        geo: &Geometry,
        go_on: impl FnOnce(u32) -> bool,
    ) -> core::result::Result<Option<u32>, R::Error> {
        let mut level = self.levels;
        loop {
            let count = self
                .entries(level)
                .map_err(|e| reader.corrupt(self.lblk(level), e))?
                .count();
            let next = self.at(level).saturating_add(1);
            if next < count {
                if let Some(a) = self.at.get_mut(level) {
                    *a = next;
                }
                break;
            }
            if level == 0 {
                return Ok(None);
            }
            level = level.saturating_sub(1);
        }
        let hash = self
            .entries(level)
            .and_then(|e| e.get(self.at(level)))
            .map_err(|e| reader.corrupt(self.lblk(level), e))?
            .hash;
        if !go_on(hash) {
            return Ok(None);
        }
        while level < self.levels {
            let child = self
                .child(level)
                .map_err(|e| reader.corrupt(self.lblk(level), e))?;
            let node = reader.index_block(child)?;
            // The new node must parse before its slots are used.
            let shape = DxNode::parse(node.as_ref(), geo)
                .map(|n| n.entries.shape())
                .map_err(|e| reader.corrupt(child, e))?;
            level = level.saturating_add(1);
            self.set(level, child, node, shape)
                .map_err(|e| reader.corrupt(child, e))?;
        }
        Ok(Some(hash))
    }
}

/// One fill step (`ext4_htree_fill_tree()`): keeps, in `batch`, every name
/// whose (major, minor) hash is at or after `start`, from the leaf holding
/// `start` and the leaves after it, stopping at the first leaf boundary
/// that is not a hash collision once a name was kept. In an indexed
/// directory, `.` and `..` count as hashes (0, 0) and (2, 0).
pub fn fill_batch<R: DirReader, N: NameBatch<Error = R::Error>>(
    reader: &mut R,
    how: DirHashing<'_>,
    start: (u32, u32),
    batch: &mut N,
) -> core::result::Result<Fill, R::Error> {
    let geo = how.geo;
    let mut kept = Kept { batch, count: 0 };
    if !how.indexed {
        let version = effective_hash_version(geo.def_hash_version, geo.hash_unsigned);
        leaf_to_batch(reader, geo, version, 0, start, &mut kept)?;
        return Ok(Fill::Filled {
            count: kept.count,
            next_hash: NO_MORE,
        });
    }
    let mut path = match DxPath::probe(reader, geo, |_| Ok(start.0))? {
        Probe::Path(p) => p,
        Probe::BadIndex(e) => return Ok(Fill::BadIndex(e)),
    };
    // '.' and '..' are the first two records of the root.
    if start.0 < 2 || start == (2, 0) {
        let mut dots = DirBlockIter::for_fs(path.root(), geo);
        let dot = dots.next().transpose().map_err(|e| reader.corrupt(0, e))?;
        let dotdot = dots.next().transpose().map_err(|e| reader.corrupt(0, e))?;
        if let (Some(d), (0, 0)) = (dot, start) {
            kept.keep((0, 0), &d)?;
        }
        if let Some(d) = dotdot {
            kept.keep((2, 0), &d)?;
        }
    }
    loop {
        reader.check_stop()?;
        let leaf = path.leaf(reader)?;
        leaf_to_batch(reader, geo, path.hash_version(), leaf, start, &mut kept)?;
        let Some(next_hash) = path.next_leaf(reader, geo, |_| true)? else {
            return Ok(Fill::Filled {
                count: kept.count,
                next_hash: NO_MORE,
            });
        };
        // A set low bit means the next leaf continues a hash of this one.
        if kept.count != 0 && next_hash & 1 == 0 {
            return Ok(Fill::Filled {
                count: kept.count,
                next_hash,
            });
        }
    }
}

/// The names kept so far by one fill step.
struct Kept<'b, N> {
    batch: &'b mut N,
    count: usize,
}

impl<N: NameBatch> Kept<'_, N> {
    fn keep(
        &mut self,
        (hash, minor): (u32, u32),
        e: &DirEntry<'_>,
    ) -> core::result::Result<(), N::Error> {
        let fname = Fname {
            hash,
            minor,
            inode: e.inode,
            file_type: e.file_type,
            seq: u32::try_from(self.count).unwrap_or(u32::MAX),
            name_off: 0,
            name_len: u8::try_from(e.name.len()).unwrap_or(u8::MAX),
        };
        self.batch.push(fname, e.name)?;
        self.count = self.count.saturating_add(1);
        Ok(())
    }
}

/// Keeps the live names of leaf `lblk` hashed at or after `start`
/// (`htree_dirblock_to_tree()`).
fn leaf_to_batch<R: DirReader, N: NameBatch<Error = R::Error>>(
    reader: &mut R,
    geo: &Geometry,
    version: u8,
    lblk: u32,
    start: (u32, u32),
    kept: &mut Kept<'_, N>,
) -> core::result::Result<(), R::Error> {
    let block = reader.leaf_block(lblk)?;
    for rec in DirBlockIter::for_fs(block.as_ref(), geo) {
        let e = match rec {
            Ok(e) => e,
            Err(err) => {
                reader.bad_record(lblk, err);
                break;
            }
        };
        if e.inode == 0 {
            continue;
        }
        let h =
            ext4fs_dirhash(e.name, version, &geo.hash_seed).map_err(|x| reader.corrupt(lblk, x))?;
        if (h.hash, h.minor_hash) < start {
            continue;
        }
        kept.keep((h.hash, h.minor_hash), &e)?;
    }
    Ok(())
}

/// Sorts a filled batch into listing order: by hash, then, among names with
/// the same major and minor hash, the first one found followed by the
/// others newest first (the C code chains later ones right after the
/// first).
pub fn sort_batch(fnames: &mut [Fname]) {
    fnames.sort_unstable_by_key(|f| (f.hash, f.minor, f.seq));
    let mut i = 0;
    while i < fnames.len() {
        let end = group_end(fnames, i);
        if let Some(rest) = fnames.get_mut(i.saturating_add(1)..end) {
            rest.reverse();
        }
        i = end;
    }
}

/// The index after the run of equal hashes that `i` is in.
fn group_end(fnames: &[Fname], i: usize) -> usize {
    let Some(key) = fnames.get(i).map(Fname::key) else {
        return fnames.len();
    };
    let mut end = i;
    while fnames.get(end).map(Fname::key) == Some(key) {
        end = end.saturating_add(1);
    }
    end
}

/// Where listed entries go (`struct dir_context`).
pub trait Emitter {
    /// Position the next listing resumes at.
    fn pos(&self) -> i64;
    /// Sets it.
    fn set_pos(&mut self, pos: i64);
    /// Hands one entry over; `false` when the user's buffer is full.
    fn emit(&mut self, name: &[u8], inode: u32, file_type: u8) -> bool;
}

/// What one [`DxCursor::readdir`] call ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    /// Done for this call (a full buffer or the end of the directory).
    Done,
    /// The index is malformed: list linearly from the same position.
    Linear(Error),
}

/// The per-open-file listing state (`struct dir_private_info`).
#[derive(Debug)]
pub struct DxCursor<N> {
    batch: N,
    initialized: bool,
    last_pos: i64,
    curr: (u32, u32),
    next_hash: u32,
    /// Start of the run of the current name in the batch (`curr_node`).
    node: Option<usize>,
    /// A name inside that run not yet handed over (`extra_fname`).
    extra: Option<usize>,
    /// The batch must be read again before use (the directory was seeked).
    stale: bool,
}

impl<N: NameBatch> DxCursor<N> {
    /// The state of a directory just opened.
    pub fn new(batch: N) -> Self {
        DxCursor {
            batch,
            initialized: false,
            last_pos: 0,
            curr: (0, 0),
            next_hash: 0,
            node: None,
            extra: None,
            stale: false,
        }
    }

    /// After an `llseek`: the next listing reads the directory again.
    pub fn seeked(&mut self) {
        self.stale = true;
    }

    /// Lists entries from `out.pos()` until the buffer is full or the
    /// directory ends (`ext4_dx_readdir()`); `fill` runs one fill step
    /// ([`fill_batch`]) from a hash into the batch.
    pub fn readdir<E, F>(
        &mut self,
        out: &mut E,
        width: Cookies,
        mut fill: F,
    ) -> core::result::Result<Listed, N::Error>
    where
        E: Emitter,
        F: FnMut((u32, u32), &mut N) -> core::result::Result<Fill, N::Error>,
    {
        let eof = htree_eof(width);
        let pos = out.pos();
        if !self.initialized {
            self.curr = pos2hash(width, pos);
            self.initialized = true;
        }
        if pos == eof {
            return Ok(Listed::Done);
        }
        // Someone moved the position: start over from it.
        if self.last_pos != pos {
            self.batch.clear();
            self.node = None;
            self.extra = None;
            self.curr = pos2hash(width, pos);
        }
        let result = self.list(out, width, eof, &mut fill);
        self.last_pos = out.pos();
        result
    }

    fn list<E, F>(
        &mut self,
        out: &mut E,
        width: Cookies,
        eof: i64,
        fill: &mut F,
    ) -> core::result::Result<Listed, N::Error>
    where
        E: Emitter,
        F: FnMut((u32, u32), &mut N) -> core::result::Result<Fill, N::Error>,
    {
        // Names left over from a run of equal hashes go first.
        let mut resume = false;
        if let Some(x) = self.extra {
            if !self.hand_over(out, width, x) {
                return Ok(Listed::Done);
            }
            self.extra = None;
            resume = true;
        } else if self.node.is_none() && !self.batch.fnames().is_empty() {
            self.node = Some(0);
        }
        loop {
            if !resume {
                if self.node.is_none() || self.stale {
                    self.node = None;
                    self.stale = false;
                    self.batch.clear();
                    let filled = fill(self.curr, &mut self.batch);
                    // A step cut short leaves no half-read batch behind.
                    let filled = filled.inspect_err(|_| self.batch.clear())?;
                    match filled {
                        Fill::BadIndex(e) => return Ok(Listed::Linear(e)),
                        Fill::Filled { count: 0, .. } => {
                            out.set_pos(eof);
                            return Ok(Listed::Done);
                        }
                        Fill::Filled { next_hash, .. } => {
                            self.next_hash = next_hash;
                            sort_batch(self.batch.fnames_mut());
                            self.node = Some(0);
                        }
                    }
                }
                let n = self.node.unwrap_or(0);
                if let Some(f) = self.batch.fnames().get(n) {
                    self.curr = f.key();
                }
                if !self.hand_over(out, width, n) {
                    return Ok(Listed::Done);
                }
            }
            resume = false;
            // The next run of the batch, or the next fill step.
            let next = group_end(self.batch.fnames(), self.node.unwrap_or(0));
            match self.batch.fnames().get(next) {
                Some(f) => {
                    self.curr = f.key();
                    self.node = Some(next);
                }
                None => {
                    self.node = None;
                    if self.next_hash == NO_MORE {
                        out.set_pos(eof);
                        return Ok(Listed::Done);
                    }
                    self.curr = (self.next_hash, 0);
                }
            }
        }
    }

    /// Emits the names of the run at index `i` from `i` on
    /// (`call_filldir()`); `false` when the buffer filled up.
    fn hand_over<E: Emitter>(&mut self, out: &mut E, width: Cookies, i: usize) -> bool {
        let fnames = self.batch.fnames();
        let Some(first) = fnames.get(i) else {
            return true;
        };
        out.set_pos(hash2pos(width, first.hash, first.minor));
        let end = group_end(fnames, i);
        for j in i..end {
            let Some(f) = fnames.get(j) else { break };
            let start = f.name_off as usize;
            let name = self
                .batch
                .names()
                .get(start..start.saturating_add(usize::from(f.name_len)))
                .unwrap_or(&[]);
            if !out.emit(name, f.inode, f.file_type) {
                self.extra = Some(j);
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used
)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn f(hash: u32, minor: u32, seq: u32) -> Fname {
        Fname {
            hash,
            minor,
            inode: seq + 100,
            file_type: 1,
            seq,
            name_off: 0,
            name_len: 0,
        }
    }

    #[test]
    fn cookies() {
        assert_eq!(hash2pos(Cookies::Bits64, 2, 0), 1 << 32);
        assert_eq!(
            hash2pos(Cookies::Bits64, 0xffff_fffe, 7),
            (0x7fff_ffff << 32) | 7
        );
        assert_eq!(hash2pos(Cookies::Bits32, 0xffff_fffe, 7), 0x7fff_ffff);
        for (h, m) in [
            (0, 0),
            (2, 0),
            (0x1234_5678, 0x9abc_def0),
            (0xffff_fffe, !0),
        ] {
            assert_eq!(
                pos2hash(Cookies::Bits64, hash2pos(Cookies::Bits64, h, m)),
                (h, m)
            );
            assert_eq!(
                pos2hash(Cookies::Bits32, hash2pos(Cookies::Bits32, h, m)),
                (h, 0)
            );
        }
        // ext4fs_dirhash() never returns a major hash of 0xffff_fffe.
        assert!(hash2pos(Cookies::Bits64, 0xffff_fffc, !0) < htree_eof(Cookies::Bits64));
        assert_eq!(htree_eof(Cookies::Bits32), 0x7fff_ffff);
    }

    /// Equal hashes come out as ext4's chain does: first found, then the
    /// others newest first.
    #[test]
    fn collision_order() {
        let mut v = Vec::from([f(9, 1, 0), f(5, 0, 1), f(9, 1, 2), f(9, 0, 3), f(9, 1, 4)]);
        sort_batch(&mut v);
        let seqs: Vec<u32> = v.iter().map(|x| x.seq).collect();
        assert_eq!(seqs, [1, 3, 0, 4, 2]);
        assert_eq!(group_end(&v, 2), 5);
        assert_eq!(group_end(&v, 3), 5);
        assert_eq!(group_end(&v, 0), 1);
    }
}
