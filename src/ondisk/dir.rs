// SPDX-License-Identifier: GPL-2.0

//! Linear directory blocks: a chain of `struct ext4_dir_entry_2` records that
//! tile the block exactly, each `rec_len` bytes long (`inode`, `rec_len`,
//! `name_len`, `file_type`, name padded to 4 bytes). Unused space is either a
//! record with inode 0 or slack at the end of a record. With `metadata_csum`
//! the last 12 bytes are a fake record (`struct ext4_dir_entry_tail`) holding
//! the block's crc32c. [`DirBlockIter`] applies `__ext4_check_dir_entry()` to
//! every record, so a caller never sees a record that overruns the block.

use super::bytes::{le16, le32, sub, u8_at};
use super::crc::ext4_chksum;
use super::error::{Error, Result};
use super::superblock::Geometry;

/// `EXT4_NAME_LEN`.
pub const EXT4_NAME_LEN: usize = 255;
/// On-disk `rec_len` meaning "the whole 64 KiB block" (`EXT4_MAX_REC_LEN`).
pub const EXT4_MAX_REC_LEN: u16 = u16::MAX;
/// Size of the fixed part of a record.
pub const EXT4_DIR_ENTRY_HEADER: usize = 8;
/// Size of `struct ext4_dir_entry_tail`.
pub const EXT4_DIR_TAIL_SIZE: usize = 12;
/// `det_reserved_ft` of the checksum tail.
pub const EXT4_FT_DIR_CSUM: u8 = 0xDE;

/// Unknown type.
pub const EXT4_FT_UNKNOWN: u8 = 0;
/// Regular file.
pub const EXT4_FT_REG_FILE: u8 = 1;
/// Directory.
pub const EXT4_FT_DIR: u8 = 2;
/// Character device.
pub const EXT4_FT_CHRDEV: u8 = 3;
/// Block device.
pub const EXT4_FT_BLKDEV: u8 = 4;
/// FIFO.
pub const EXT4_FT_FIFO: u8 = 5;
/// Socket.
pub const EXT4_FT_SOCK: u8 = 6;
/// Symbolic link.
pub const EXT4_FT_SYMLINK: u8 = 7;

/// `ext4_dir_rec_len()`: the smallest record that holds a name of `name_len`.
pub fn ext4_dir_rec_len(name_len: usize) -> usize {
    name_len.saturating_add(EXT4_DIR_ENTRY_HEADER + 3) & !3
}

/// `ext4_rec_len_from_disk()`: 65535 or 0 mean a whole 64 KiB block, and
/// larger lengths keep bits 16-17 in the two low bits.
pub fn rec_len_from_disk(dlen: u16, block_size: usize) -> usize {
    if dlen == EXT4_MAX_REC_LEN || dlen == 0 {
        return block_size;
    }
    let len = usize::from(dlen);
    (len & 0xFFFC) | ((len & 3) << 16)
}

/// `ext4_rec_len_to_disk()`, for building test blocks. Lengths must be
/// 4-aligned and at most `block_size`.
pub fn rec_len_to_disk(len: usize, block_size: usize) -> Result<u16> {
    if len > block_size || len & 3 != 0 || block_size > (1 << 18) {
        return Err(Error::OutOfRange("rec_len"));
    }
    if let Ok(small) = u16::try_from(len) {
        return Ok(small);
    }
    if len == block_size {
        return Ok(if block_size == 65536 {
            EXT4_MAX_REC_LEN
        } else {
            0
        });
    }
    u16::try_from((len & 0xFFFC) | ((len >> 16) & 3)).map_err(|_| Error::OutOfRange("rec_len"))
}

/// One directory record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DirEntry<'a> {
    /// Byte offset of the record in its block.
    pub offset: usize,
    /// Inode number; 0 for an unused record.
    pub inode: u32,
    /// Decoded record length.
    pub rec_len: usize,
    /// `file_type` byte (meaningful only with the `filetype` feature).
    pub file_type: u8,
    /// The name (`name_len` bytes).
    pub name: &'a [u8],
}

impl DirEntry<'_> {
    /// Whether this is the `metadata_csum` tail record.
    pub fn is_csum_tail(&self) -> bool {
        self.inode == 0
            && self.rec_len == EXT4_DIR_TAIL_SIZE
            && self.name.is_empty()
            && self.file_type == EXT4_FT_DIR_CSUM
    }
}

/// Iterator over the records of one directory block. Yields every record,
/// including unused ones (inode 0) and the checksum tail; after the first
/// error it stops.
#[derive(Clone, Debug)]
pub struct DirBlockIter<'a> {
    block: &'a [u8],
    offset: usize,
    inodes_count: u32,
    failed: bool,
}

impl<'a> DirBlockIter<'a> {
    /// Iterates over `block`, which must be exactly one file system block
    /// (its length is the block size used for `rec_len` decoding).
    /// `inodes_count` bounds the inode numbers.
    pub fn new(block: &'a [u8], inodes_count: u32) -> Self {
        DirBlockIter {
            block,
            offset: 0,
            inodes_count,
            failed: false,
        }
    }

    /// Iterates over a block of a file system described by `geo`.
    pub fn for_fs(block: &'a [u8], geo: &Geometry) -> Self {
        Self::new(block, geo.inodes_count)
    }

    /// Resumes at a byte offset (for readdir positions). The offset must be
    /// a record boundary; a wrong one is caught as corruption.
    pub fn starting_at(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    fn entry_at(&self, off: usize) -> Result<DirEntry<'a>> {
        const W: &str = "directory entry overrun";
        let size = self.block.len();
        let inode = le32(self.block, off, W)?;
        let rec_len = rec_len_from_disk(le16(self.block, off.saturating_add(4), W)?, size);
        let name_len = usize::from(u8_at(self.block, off.saturating_add(6), W)?);
        let file_type = u8_at(self.block, off.saturating_add(7), W)?;
        let next = off.saturating_add(rec_len);
        if rec_len < ext4_dir_rec_len(1) {
            return Err(Error::Corrupt("rec_len is smaller than minimal"));
        }
        if !rec_len.is_multiple_of(4) {
            return Err(Error::Corrupt("rec_len % 4 != 0"));
        }
        if rec_len < ext4_dir_rec_len(name_len) {
            return Err(Error::Corrupt("rec_len is too small for name_len"));
        }
        if next > size {
            return Err(Error::Corrupt("directory entry overrun"));
        }
        if next > size.saturating_sub(ext4_dir_rec_len(1)) && next != size {
            return Err(Error::Corrupt("directory entry too close to block end"));
        }
        if inode > self.inodes_count {
            return Err(Error::Corrupt("inode out of bounds"));
        }
        let name = sub(
            self.block,
            off.saturating_add(EXT4_DIR_ENTRY_HEADER),
            name_len,
            W,
        )?;
        if next == size && name == b"." {
            return Err(Error::Corrupt(
                "'.' directory cannot be the last in data block",
            ));
        }
        Ok(DirEntry {
            offset: off,
            inode,
            rec_len,
            file_type,
            name,
        })
    }
}

impl<'a> Iterator for DirBlockIter<'a> {
    type Item = Result<DirEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.block.len() {
            return None;
        }
        match self.entry_at(self.offset) {
            Ok(entry) => {
                self.offset = self.offset.saturating_add(entry.rec_len);
                Some(Ok(entry))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Finds a live record named `name` in one block the way `ext4_search_dir()`
/// does: it hops from record to record by `rec_len` with minimal checks, and
/// only the record that matches gets the full check. So a damaged record other than the one looked up does not
/// fail the lookup, and a lookup gives the same answer as with ext4.
pub fn search_dir<'a>(
    block: &'a [u8],
    geo: &Geometry,
    name: &[u8],
) -> Result<Option<DirEntry<'a>>> {
    search_block(block, geo.inodes_count, name)
}

fn search_block<'a>(
    block: &'a [u8],
    inodes_count: u32,
    name: &[u8],
) -> Result<Option<DirEntry<'a>>> {
    const W: &str = "directory entry overrun";
    let full = DirBlockIter::new(block, inodes_count);
    // `EXT4_BASE_DIR_LEN`: the smallest record, a header with no name.
    let limit = block.len().saturating_sub(EXT4_DIR_ENTRY_HEADER);
    let mut off = 0usize;
    while off < limit {
        let inode = le32(block, off, W)?;
        let dlen = le16(block, off.saturating_add(4), W)?;
        let name_len = usize::from(u8_at(block, off.saturating_add(6), W)?);
        let here = block
            .get(off.saturating_add(EXT4_DIR_ENTRY_HEADER)..)
            .unwrap_or(&[]);
        if inode != 0 && name_len == name.len() && here.get(..name_len) == Some(name) {
            return full.entry_at(off).map(Some);
        }
        // Never 0 (a zero on disk means the whole block), so this ends.
        off = off.saturating_add(rec_len_from_disk(dlen, block.len()));
    }
    Ok(None)
}

/// Offset of the checksum tail if the block ends with a well-formed one
/// (`get_dirent_tail()`).
pub fn dirent_tail_offset(block: &[u8]) -> Option<usize> {
    let off = block.len().checked_sub(EXT4_DIR_TAIL_SIZE)?;
    let t = block.get(off..)?;
    let inode = le32(t, 0, "").ok()?;
    let rec_len = le16(t, 4, "").ok()?;
    let name_len = u8_at(t, 6, "").ok()?;
    let ft = u8_at(t, 7, "").ok()?;
    (inode == 0
        && usize::from(rec_len) == EXT4_DIR_TAIL_SIZE
        && name_len == 0
        && ft == EXT4_FT_DIR_CSUM)
        .then_some(off)
}

/// `ext4_dirblock_csum()`: crc32c of everything before the tail.
pub fn ext4_dirblock_csum(block: &[u8], inode_seed: u32) -> Result<u32> {
    let off = dirent_tail_offset(block)
        .ok_or(Error::BadChecksum("no space for directory leaf checksum"))?;
    Ok(ext4_chksum(inode_seed, sub(block, 0, off, "dirent tail")?))
}

/// `ext4_dirblock_csum_verify()` for a leaf block under `metadata_csum`. A
/// missing tail counts as a checksum failure, as in the kernel.
pub fn ext4_dirblock_csum_verify(block: &[u8], inode_seed: u32) -> Result<()> {
    let off = dirent_tail_offset(block)
        .ok_or(Error::BadChecksum("no space for directory leaf checksum"))?;
    let stored = le32(block, off.saturating_add(8), "dirent tail")?;
    if ext4_dirblock_csum(block, inode_seed)? != stored {
        return Err(Error::BadChecksum("directory block"));
    }
    Ok(())
}

/// `ext4_dirblock_csum_set()`: stores the leaf checksum in the block's tail.
pub fn ext4_dirblock_csum_set(block: &mut [u8], inode_seed: u32) -> Result<()> {
    let csum = ext4_dirblock_csum(block, inode_seed)?;
    let off = dirent_tail_offset(block)
        .ok_or(Error::BadChecksum("no space for directory leaf checksum"))?;
    super::bytes::put_le32(block, off.saturating_add(8), csum, "dirent tail")
}

/// Where a new record can go in a directory leaf block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Split the record at `offset` (keeping `used` bytes of it, 0 for an
    /// unused record) and put the new one after that, in `rec_len - used`.
    Free {
        /// The record to split or reuse.
        offset: usize,
        /// Bytes its own name keeps (0 if unused).
        used: usize,
        /// Its current length.
        rec_len: usize,
    },
    /// The block has no record with room for it.
    NoSpace,
    /// A live record already has this name (`EEXIST`).
    Exists,
}

/// Where the record `name` would go in one leaf block of a linear
/// directory (`ext4_find_dest_de()`): the first record before the checksum
/// tail whose slack (or, unused, whose whole length) holds it. Reads only.
pub fn find_slot(block: &[u8], geo: &Geometry, name: &[u8]) -> Result<Slot> {
    if name.is_empty() || name.len() > EXT4_NAME_LEN {
        return Err(Error::OutOfRange("name length"));
    }
    // Under metadata_csum the tail's 12 bytes are never handed out, tail or
    // not (ext4_add_entry() searches blocksize - csum_size).
    let top = match geo.has_metadata_csum() {
        true => block.len().saturating_sub(EXT4_DIR_TAIL_SIZE),
        false => block.len(),
    };
    let need = ext4_dir_rec_len(name.len());
    let mut slot = Slot::NoSpace;
    for e in DirBlockIter::for_fs(block, geo) {
        let e = e?;
        if e.offset >= top {
            break;
        }
        if e.inode != 0 && e.name == name {
            return Ok(Slot::Exists);
        }
        let used = match e.inode {
            0 => 0,
            _ => ext4_dir_rec_len(e.name.len()),
        };
        if slot == Slot::NoSpace && e.rec_len.saturating_sub(used) >= need {
            slot = Slot::Free {
                offset: e.offset,
                used,
                rec_len: e.rec_len,
            };
        }
    }
    Ok(slot)
}

/// Writes the record `name` -> `ino` into `slot` of `block`
/// (`ext4_insert_dentry()`); `file_type` is stored only with the `filetype`
/// feature. Returns the new record's offset. The caller recomputes the
/// checksum tail ([`ext4_dirblock_csum_set`]).
pub fn insert_entry(
    block: &mut [u8],
    geo: &Geometry,
    slot: Slot,
    name: &[u8],
    ino: u32,
    file_type: u8,
) -> Result<usize> {
    let Slot::Free {
        offset,
        used,
        rec_len,
    } = slot
    else {
        return Err(Error::OutOfRange("no slot"));
    };
    let size = block.len();
    // Every check before the first byte changes.
    let name_len = u8::try_from(name.len()).map_err(|_| Error::OutOfRange("name length"))?;
    if name.is_empty() || ext4_dir_rec_len(name.len()) > rec_len.saturating_sub(used) {
        return Err(Error::OutOfRange("name does not fit the slot"));
    }
    let new_len = rec_len_to_disk(rec_len.saturating_sub(used), size)?;
    let kept = match used {
        0 => None,
        _ => Some(rec_len_to_disk(used, size)?),
    };
    let at = offset.saturating_add(used);
    if at.saturating_add(ext4_dir_rec_len(name.len())) > size {
        return Err(Error::OutOfRange("name does not fit the slot"));
    }
    if let Some(len) = kept {
        super::bytes::put_le16(block, offset.saturating_add(4), len, "dirent")?;
    }
    let ft = match geo.has_incompat(super::features::EXT4_FEATURE_INCOMPAT_FILETYPE) {
        true => file_type,
        false => 0,
    };
    super::bytes::put_le32(block, at, ino, "dirent")?;
    super::bytes::put_le16(block, at.saturating_add(4), new_len, "dirent")?;
    block
        .get_mut(at.saturating_add(6)..at.saturating_add(EXT4_DIR_ENTRY_HEADER))
        .ok_or(Error::Corrupt("dirent"))?
        .copy_from_slice(&[name_len, ft]);
    block
        .get_mut(at.saturating_add(EXT4_DIR_ENTRY_HEADER)..)
        .and_then(|b| b.get_mut(..name.len()))
        .ok_or(Error::Corrupt("dirent"))?
        .copy_from_slice(name);
    Ok(at)
}

/// Packs the live records of leaf `block` at its start, in their order,
/// each at its minimal length, the last one taking the rest up to the
/// checksum tail (kept when `csum_tail`): `dx_pack_dirents()` after a
/// split, so the freed space is one run a long name fits in. The caller
/// then sets the checksum.
pub fn pack_leaf(block: &mut [u8], csum_tail: bool) -> Result<()> {
    let size = block.len();
    let top = match csum_tail {
        true => size.saturating_sub(EXT4_DIR_TAIL_SIZE),
        false => size,
    };
    let (mut src, mut dst, mut last) = (0usize, 0usize, None);
    while src < top {
        let rec = rec_len_from_disk(
            super::bytes::le16(block, src.saturating_add(4), "dirent")?,
            size,
        );
        let end = src.checked_add(rec).filter(|&e| rec >= 12 && e <= top);
        let Some(end) = end else {
            return Err(Error::Corrupt("directory record length"));
        };
        let ino = super::bytes::le32(block, src, "dirent")?;
        let name_len = usize::from(super::bytes::u8_at(block, src.saturating_add(6), "dirent")?);
        if ino != 0 {
            let used = 8usize.saturating_add(name_len);
            if used > rec {
                return Err(Error::Corrupt("directory name past its record"));
            }
            // Records only move left: `dst <= src`.
            block.copy_within(src..src.saturating_add(used), dst);
            let len = ext4_dir_rec_len(name_len);
            super::bytes::put_le16(
                block,
                dst.saturating_add(4),
                rec_len_to_disk(len, size)?,
                "dirent",
            )?;
            last = Some(dst);
            dst = dst.saturating_add(len);
        }
        src = end;
    }
    match last {
        Some(at) => {
            let len = top
                .checked_sub(at)
                .ok_or(Error::Corrupt("directory block"))?;
            super::bytes::put_le16(
                block,
                at.saturating_add(4),
                rec_len_to_disk(len, size)?,
                "dirent",
            )
        }
        None => {
            super::bytes::put_le32(block, 0, 0, "dirent")?;
            super::bytes::put_le16(block, 4, rec_len_to_disk(top, size)?, "dirent")?;
            super::bytes::put_le16(block, 6, 0, "dirent")
        }
    }
}

/// An empty directory leaf block (`ext4_append()` then the single unused
/// record of `ext4_add_entry()`): one record with inode 0 spanning the
/// block, and the checksum tail when `csum_tail`; the caller then sets the
/// checksum.
pub fn init_empty_dir_block(block: &mut [u8], csum_tail: bool) -> Result<()> {
    let size = block.len();
    block.fill(0);
    let tail = if csum_tail { EXT4_DIR_TAIL_SIZE } else { 0 };
    let len = size
        .checked_sub(tail)
        .filter(|&n| n >= 12)
        .ok_or(Error::OutOfRange("block too small"))?;
    super::bytes::put_le16(block, 4, rec_len_to_disk(len, size)?, "dirent")?;
    if csum_tail {
        init_dir_tail(block)?;
    }
    Ok(())
}

/// `ext4_initialize_dirent_tail()`: the empty checksum tail at the end of
/// a leaf block (inode 0, rec_len 12, name_len 0, file type 0xDE); the
/// checksum follows with [`ext4_dirblock_csum_set`].
fn init_dir_tail(block: &mut [u8]) -> Result<()> {
    let at = block.len().saturating_sub(EXT4_DIR_TAIL_SIZE);
    super::bytes::put_le16(block, at.saturating_add(4), 12, "dirent tail")?;
    block
        .get_mut(at.saturating_add(7))
        .map(|b| *b = EXT4_FT_DIR_CSUM)
        .ok_or(Error::Corrupt("dirent tail"))
}

/// Lays out the first block of a new directory (`ext4_init_dirblock()`):
/// `.` naming `ino`, `..` naming `parent` and taking the rest of the block,
/// and, with `csum_tail`, the empty checksum tail at the end (whose
/// checksum the caller then sets with [`ext4_dirblock_csum_set`]).
pub fn init_dir_block(
    block: &mut [u8],
    geo: &Geometry,
    ino: u32,
    parent: u32,
    csum_tail: bool,
) -> Result<()> {
    let size = block.len();
    block.fill(0);
    let ft = match geo.has_incompat(super::features::EXT4_FEATURE_INCOMPAT_FILETYPE) {
        true => EXT4_FT_DIR,
        false => 0,
    };
    let dot = ext4_dir_rec_len(1);
    let tail = if csum_tail { EXT4_DIR_TAIL_SIZE } else { 0 };
    let dotdot = size
        .checked_sub(dot)
        .and_then(|n| n.checked_sub(tail))
        .ok_or(Error::OutOfRange("block too small"))?;
    let put = |b: &mut [u8], at: usize, ino: u32, len: usize, name: &[u8]| -> Result<()> {
        super::bytes::put_le32(b, at, ino, "dirent")?;
        super::bytes::put_le16(
            b,
            at.saturating_add(4),
            rec_len_to_disk(len, size)?,
            "dirent",
        )?;
        let n = u8::try_from(name.len()).map_err(|_| Error::OutOfRange("name"))?;
        b.get_mut(at.saturating_add(6)..at.saturating_add(8))
            .ok_or(Error::Corrupt("dirent"))?
            .copy_from_slice(&[n, ft]);
        b.get_mut(at.saturating_add(8)..at.saturating_add(8).saturating_add(name.len()))
            .ok_or(Error::Corrupt("dirent"))?
            .copy_from_slice(name);
        Ok(())
    };
    put(block, 0, ino, dot, b".")?;
    put(block, dot, parent, dotdot, b"..")?;
    if csum_tail {
        init_dir_tail(block)?;
    }
    Ok(())
}

/// Removes the live record `name` from one leaf block
/// (`ext4_generic_delete_entry()`): the previous record in the block takes
/// over its space, or, for the first record, its inode number becomes 0.
/// Returns the inode it named, or `None` if the block has no such record.
/// The caller recomputes the checksum tail.
pub fn remove_entry(block: &mut [u8], geo: &Geometry, name: &[u8]) -> Result<Option<u32>> {
    let top = dirent_tail_offset(block).unwrap_or(block.len());
    let mut prev: Option<DirEntry<'_>> = None;
    let mut found = None;
    for e in DirBlockIter::for_fs(block, geo) {
        let e = e?;
        if e.offset >= top {
            break;
        }
        if e.inode != 0 && e.name == name {
            found = Some((
                prev.map(|p| (p.offset, p.rec_len)),
                e.offset,
                e.rec_len,
                e.inode,
            ));
            break;
        }
        prev = Some(e);
    }
    let Some((prev, off, rec_len, ino)) = found else {
        return Ok(None);
    };
    let size = block.len();
    match prev {
        Some((poff, plen)) => {
            let len = rec_len_to_disk(plen.saturating_add(rec_len), size)?;
            super::bytes::put_le16(block, poff.saturating_add(4), len, "dirent")?;
        }
        None => super::bytes::put_le32(block, off, 0, "dirent")?,
    }
    Ok(Some(ino))
}

#[cfg(test)]
// Test blocks are built with fixed, in-range offsets.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn rec_len_encoding_64k() {
        assert_eq!(rec_len_from_disk(12, 4096), 12);
        assert_eq!(rec_len_from_disk(0, 65536), 65536);
        assert_eq!(rec_len_from_disk(EXT4_MAX_REC_LEN, 65536), 65536);
        for len in [12usize, 4096, 65532, 65536] {
            let d = rec_len_to_disk(len, 65536);
            assert_eq!(d.map(|d| rec_len_from_disk(d, 65536)), Ok(len));
        }
    }

    /// One 1 KiB block: records (inode, name, rec_len) laid end to end.
    fn block(recs: &[(u32, &[u8], u16)]) -> std::vec::Vec<u8> {
        let mut b = std::vec![0u8; 1024];
        let mut off = 0;
        for &(ino, name, rec_len) in recs {
            b[off..off + 4].copy_from_slice(&ino.to_le_bytes());
            b[off + 4..off + 6].copy_from_slice(&rec_len.to_le_bytes());
            b[off + 6] = name.len() as u8;
            b[off + 8..off + 8 + name.len()].copy_from_slice(name);
            off += usize::from(rec_len);
        }
        b
    }

    #[test]
    fn search_is_lenient_like_ext4() {
        let ok = [(11, &b"aa"[..], 12), (12, b"bb", 12), (13, b"cc", 1000)];
        let b = block(&ok);
        let found = |b: &[u8], n: &[u8]| search_block(b, 100, n).map(|e| e.map(|e| e.inode));
        assert_eq!(found(&b, b"cc"), Ok(Some(13)));
        assert_eq!(found(&b, b"zz"), Ok(None));
        // A rec_len that is not a multiple of 4: a lookup of that record
        // fails; past it the hop leaves the block (its low bits are bits
        // 16-17 of the length), so later names are not found, as in ext4.
        let b = block(&[
            (11, b"aa", 12),
            (12, b"bb", 13),
            (13, b"cc", 12),
            (14, b"dd", 987),
        ]);
        assert!(found(&b, b"bb").is_err());
        assert_eq!(found(&b, b"aa"), Ok(Some(11)));
        assert_eq!(found(&b, b"cc"), Ok(None));
        // A record too short for its name fails its own lookup only.
        let mut b = block(&[(11, b"aa", 12), (12, b"bb", 12), (13, b"cc", 1000)]);
        b[18] = 5; // name_len of "bb" 5: needs 16 bytes, has 12
        assert!(found(&b, &b[20..25]).is_err());
        assert_eq!(found(&b, b"cc"), Ok(Some(13)));
        // Running past the block: fails when it is the one looked up.
        let b = block(&[(11, b"aa", 12), (12, b"bb", 12), (13, b"cc", 1100)]);
        assert!(found(&b, b"cc").is_err());
        assert_eq!(found(&b, b"zz"), Ok(None));
        // A zero rec_len means the rest of the block: no loop.
        let b = block(&[(11, b"aa", 12), (12, b"bb", 0)]);
        assert_eq!(found(&b, b"zz"), Ok(None));
        // Inode out of range, on the record looked up.
        let b = block(&[(11, b"aa", 12), (500, b"bb", 1012)]);
        assert!(found(&b, b"bb").is_err());
        assert_eq!(found(&b, b"aa"), Ok(Some(11)));
    }

    #[test]
    fn rec_len_min() {
        assert_eq!(ext4_dir_rec_len(1), 12);
        assert_eq!(ext4_dir_rec_len(4), 12);
        assert_eq!(ext4_dir_rec_len(5), 16);
        assert_eq!(ext4_dir_rec_len(255), 264);
    }
}
