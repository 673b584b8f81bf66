// SPDX-License-Identifier: GPL-2.0

//! Hashed directory index blocks (`fs/ext4/namei.c`). Block 0 of an indexed
//! directory is a `dx_root`: fake `.` and `..` records (the `..` one spanning
//! the rest of the block, so old code sees an empty block), a `dx_root_info`
//! and an array of `dx_entry` (hash, block) pairs whose first slot holds the
//! `limit`/`count` pair instead of a hash. Interior `dx_node` blocks are one
//! fake empty record followed by the same array. Under `metadata_csum` a
//! `dx_tail` follows the `limit` slots. [`DxRoot::parse`] and
//! [`DxNode::parse`] apply `dx_probe()`'s checks; [`DxEntries::lookup`] is its
//! binary search.

use super::bytes::{le16, le32, sub, u8_at};
use super::crc::ext4_chksum;
use super::dir::{ext4_dir_rec_len, rec_len_from_disk};
use super::error::{Error, Result};
use super::hash::{DX_HASH_HALF_MD4, DX_HASH_LEGACY, DX_HASH_SIPHASH, DX_HASH_TEA};
use super::superblock::Geometry;

/// Size of one `dx_entry` (and of the `dx_countlimit` in slot 0).
pub const DX_ENTRY_SIZE: usize = 8;
/// Size of `struct dx_tail`.
pub const DX_TAIL_SIZE: usize = 8;
/// Offset of the entry array in a `dx_root` (after `.`, `..` and the info).
pub const DX_ROOT_ENTRIES_OFFSET: usize = 32;
/// Offset of the entry array in a `dx_node`.
pub const DX_NODE_ENTRIES_OFFSET: usize = 8;
/// `dx_get_block()` keeps only the low 28 bits.
const DX_BLOCK_MASK: u32 = 0x0fff_ffff;

/// `struct dx_root_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct DxRootInfo {
    pub reserved_zero: u32,
    pub hash_version: u8,
    pub info_length: u8,
    pub indirect_levels: u8,
    pub unused_flags: u8,
}

/// One `struct dx_entry`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DxEntry {
    /// Lowest hash in the subtree (0 for slot 0, which has no stored hash).
    pub hash: u32,
    /// Logical directory block of the child (`dx_get_block()`).
    pub block: u32,
}

/// `dx_root_limit()`.
pub fn dx_root_limit(block_size: usize, metadata_csum: bool, info_length: usize) -> usize {
    let mut space = block_size
        .saturating_sub(ext4_dir_rec_len(1))
        .saturating_sub(ext4_dir_rec_len(2))
        .saturating_sub(info_length);
    if metadata_csum {
        space = space.saturating_sub(DX_TAIL_SIZE);
    }
    space / DX_ENTRY_SIZE
}

/// `dx_node_limit()`.
pub fn dx_node_limit(block_size: usize, metadata_csum: bool) -> usize {
    let mut space = block_size.saturating_sub(ext4_dir_rec_len(0));
    if metadata_csum {
        space = space.saturating_sub(DX_TAIL_SIZE);
    }
    space / DX_ENTRY_SIZE
}

/// The `dx_entry` array of a root or node, with its `count` and `limit`.
#[derive(Clone, Copy, Debug)]
pub struct DxEntries<'a> {
    raw: &'a [u8],
    offset: usize,
    count: u16,
    limit: u16,
}

/// Where the entries of a validated index block are, and how many.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DxShape {
    offset: usize,
    count: u16,
    limit: u16,
}

/// Result of [`DxEntries::lookup`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DxLookup {
    /// Slot chosen (`frame->at`).
    pub index: u16,
    /// Child block to read.
    pub block: u32,
    /// Hash of the following slot, if any. When the wanted hash equals it
    /// with the collision bit cleared, the name may continue into the next
    /// leaf (`ext4_htree_next_block()`).
    pub next_hash: Option<u32>,
}

impl<'a> DxEntries<'a> {
    /// Decodes the count/limit header at `offset` of `block` and checks
    /// `limit == expected_limit` and `1 <= count <= limit`, and that hashes
    /// are sorted.
    fn parse(block: &'a [u8], offset: usize, expected_limit: usize) -> Result<DxEntries<'a>> {
        let limit = le16(block, offset, "dx limit")?;
        let count = le16(block, offset.saturating_add(2), "dx count")?;
        if usize::from(limit) != expected_limit {
            return Err(Error::Corrupt("dx entry limit"));
        }
        if count == 0 || count > limit {
            return Err(Error::Corrupt("dx entry count beyond limit"));
        }
        let len = usize::from(limit).saturating_mul(DX_ENTRY_SIZE);
        let raw = sub(block, offset, len, "dx entries overrun")?;
        let entries = DxEntries {
            raw,
            offset,
            count,
            limit,
        };
        let mut prev = 0u32;
        for i in 1..count {
            let h = entries.get(i)?.hash;
            if h < prev {
                return Err(Error::Corrupt("dx entries not sorted"));
            }
            prev = h;
        }
        Ok(entries)
    }

    /// What [`Self::revisit`] needs to find these entries again.
    pub fn shape(&self) -> DxShape {
        DxShape {
            offset: self.offset,
            count: self.count,
            limit: self.limit,
        }
    }

    /// The entries of `block` again, as an earlier [`DxRoot::parse`] or
    /// [`DxNode::parse`] of the same block found and validated them (slots
    /// stay bounds-checked; the sort check is not repeated).
    pub fn revisit(block: &'a [u8], shape: DxShape) -> Result<DxEntries<'a>> {
        let DxShape {
            offset,
            count,
            limit,
        } = shape;
        let len = usize::from(limit).saturating_mul(DX_ENTRY_SIZE);
        let raw = sub(block, offset, len, "dx entries overrun")?;
        if count == 0 || count > limit {
            return Err(Error::Corrupt("dx entry count beyond limit"));
        }
        Ok(DxEntries {
            raw,
            offset,
            count,
            limit,
        })
    }

    /// `dx_get_count()`.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// `dx_get_limit()`.
    pub fn limit(&self) -> u16 {
        self.limit
    }

    /// Entry `i` (< count). Slot 0's hash reads as 0.
    pub fn get(&self, i: u16) -> Result<DxEntry> {
        if i >= self.count {
            return Err(Error::OutOfRange("dx entry index"));
        }
        let off = usize::from(i).saturating_mul(DX_ENTRY_SIZE);
        let hash = if i == 0 {
            0
        } else {
            le32(self.raw, off, "dx entry")?
        };
        let block = le32(self.raw, off.saturating_add(4), "dx entry")? & DX_BLOCK_MASK;
        Ok(DxEntry { hash, block })
    }

    /// All live entries.
    pub fn iter(&self) -> impl Iterator<Item = Result<DxEntry>> + '_ {
        (0..self.count).map(move |i| self.get(i))
    }

    /// `dx_probe()`'s search: the last slot whose hash is `<= hash` (slot 0
    /// if none).
    pub fn lookup(&self, hash: u32) -> Result<DxLookup> {
        let (mut lo, mut hi) = (1u16, self.count);
        while lo < hi {
            let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
            if self.get(mid)?.hash > hash {
                hi = mid;
            } else {
                lo = mid.saturating_add(1);
            }
        }
        let index = lo.saturating_sub(1);
        let next_hash = match index.checked_add(1) {
            Some(n) if n < self.count => Some(self.get(n)?.hash),
            _ => None,
        };
        Ok(DxLookup {
            index,
            block: self.get(index)?.block,
            next_hash,
        })
    }
}

/// A validated `dx_root` block.
#[derive(Clone, Copy, Debug)]
pub struct DxRoot<'a> {
    /// The root info.
    pub info: DxRootInfo,
    /// Inode number in the fake `..` record (the parent directory).
    pub dotdot_inode: u32,
    /// The entry array.
    pub entries: DxEntries<'a>,
}

impl<'a> DxRoot<'a> {
    /// Decodes block 0 of an indexed directory and applies `dx_probe()`'s
    /// checks: `.`/`..` layout, `reserved_zero`, a supported hash version
    /// (SipHash is `Unsupported`), `info_length == 8`, `indirect_levels`
    /// below [`Geometry::dir_htree_level`], no unknown flags, and the limit
    /// matching the block size.
    pub fn parse(block: &'a [u8], geo: &Geometry) -> Result<DxRoot<'a>> {
        let bs = block.len();
        let dot_rec = rec_len_from_disk(le16(block, 4, "dx_root")?, bs);
        let dot_name_len = u8_at(block, 6, "dx_root")?;
        if dot_rec != 12 || dot_name_len != 1 || u8_at(block, 8, "dx_root")? != b'.' {
            return Err(Error::Corrupt("dx_root: bad '.' entry"));
        }
        let dotdot_inode = le32(block, 12, "dx_root")?;
        let dotdot_rec = rec_len_from_disk(le16(block, 16, "dx_root")?, bs);
        let dotdot_name_len = u8_at(block, 18, "dx_root")?;
        if dotdot_rec != bs.saturating_sub(12)
            || dotdot_name_len != 2
            || sub(block, 20, 2, "dx_root")? != b".."
        {
            return Err(Error::Corrupt("dx_root: bad '..' entry"));
        }
        let info = DxRootInfo {
            reserved_zero: le32(block, 24, "dx_root_info")?,
            hash_version: u8_at(block, 28, "dx_root_info")?,
            info_length: u8_at(block, 29, "dx_root_info")?,
            indirect_levels: u8_at(block, 30, "dx_root_info")?,
            unused_flags: u8_at(block, 31, "dx_root_info")?,
        };
        if info.reserved_zero != 0 {
            return Err(Error::Corrupt("dx_root_info reserved_zero"));
        }
        match info.hash_version {
            DX_HASH_LEGACY | DX_HASH_HALF_MD4 | DX_HASH_TEA => {}
            DX_HASH_SIPHASH => return Err(Error::Unsupported("siphash directory hash")),
            _ => return Err(Error::Corrupt("unrecognised dx_root hash version")),
        }
        if info.info_length != 8 {
            return Err(Error::Corrupt("dx_root_info info_length"));
        }
        if info.unused_flags & 1 != 0 {
            return Err(Error::Unsupported("dx_root hash flags"));
        }
        if info.indirect_levels >= geo.dir_htree_level() {
            return Err(Error::Corrupt("htree depth exceeds supported value"));
        }
        let limit = dx_root_limit(bs, geo.has_metadata_csum(), usize::from(info.info_length));
        let entries = DxEntries::parse(block, DX_ROOT_ENTRIES_OFFSET, limit)?;
        Ok(DxRoot {
            info,
            dotdot_inode,
            entries,
        })
    }
}

/// A validated interior `dx_node` block.
#[derive(Clone, Copy, Debug)]
pub struct DxNode<'a> {
    /// The entry array.
    pub entries: DxEntries<'a>,
}

impl<'a> DxNode<'a> {
    /// Decodes an interior index block: an empty fake record spanning the
    /// block, then entries whose limit matches `dx_node_limit()`.
    pub fn parse(block: &'a [u8], geo: &Geometry) -> Result<DxNode<'a>> {
        let bs = block.len();
        let inode = le32(block, 0, "dx_node")?;
        let rec = rec_len_from_disk(le16(block, 4, "dx_node")?, bs);
        let name_len = u8_at(block, 6, "dx_node")?;
        if inode != 0 || rec != bs || name_len != 0 {
            return Err(Error::Corrupt("dx_node: bad fake entry"));
        }
        let limit = dx_node_limit(bs, geo.has_metadata_csum());
        let entries = DxEntries::parse(block, DX_NODE_ENTRIES_OFFSET, limit)?;
        Ok(DxNode { entries })
    }
}

/// Where the count/limit of an index block is (`get_dx_countlimit()`):
/// offset 8 for a node, 32 for a root, else the block is not an index block.
pub fn dx_countlimit_offset(block: &[u8]) -> Result<usize> {
    let bs = block.len();
    let rlen = rec_len_from_disk(le16(block, 4, "dx block")?, bs);
    if rlen == bs {
        return Ok(DX_NODE_ENTRIES_OFFSET);
    }
    if rlen == 12 {
        let dotdot = rec_len_from_disk(le16(block, 16, "dx block")?, bs);
        if dotdot != bs.saturating_sub(12) {
            return Err(Error::Corrupt("dx block: bad '..' entry"));
        }
        if le32(block, 24, "dx block")? != 0 || u8_at(block, 29, "dx block")? != 8 {
            return Err(Error::Corrupt("dx block: bad root info"));
        }
        return Ok(DX_ROOT_ENTRIES_OFFSET);
    }
    Err(Error::Corrupt("not a dx block"))
}

/// `ext4_dx_csum()`: crc32c of the block up to the last live entry, then the
/// tail's reserved word and a zero checksum.
pub fn ext4_dx_csum(block: &[u8], inode_seed: u32) -> Result<u32> {
    let (count_offset, _limit, count, tail) = dx_tail_parts(block)?;
    let size = count_offset.saturating_add(usize::from(count).saturating_mul(DX_ENTRY_SIZE));
    let mut csum = ext4_chksum(inode_seed, sub(block, 0, size, "dx entries")?);
    csum = ext4_chksum(csum, sub(block, tail, 4, "dx tail")?);
    csum = ext4_chksum(csum, &[0; 4]);
    Ok(csum)
}

/// `ext4_dx_csum_verify()` for a root or node under `metadata_csum`.
pub fn ext4_dx_csum_verify(block: &[u8], inode_seed: u32) -> Result<()> {
    let (_, _, _, tail) = dx_tail_parts(block)?;
    let stored = le32(block, tail.saturating_add(4), "dx tail")?;
    if ext4_dx_csum(block, inode_seed)? != stored {
        return Err(Error::BadChecksum("htree index block"));
    }
    Ok(())
}

/// Sets the checksum in the `dx_tail` of a root or node (`ext4_dx_csum_set()`).
pub fn ext4_dx_csum_set(block: &mut [u8], inode_seed: u32) -> Result<()> {
    let (_, _, _, tail) = dx_tail_parts(block)?;
    let csum = ext4_dx_csum(block, inode_seed)?;
    super::bytes::put_le32(block, tail.saturating_add(4), csum, "dx tail")
}

/// (count offset, limit, count, tail offset), checking the tail fits.
fn dx_tail_parts(block: &[u8]) -> Result<(usize, u16, u16, usize)> {
    let count_offset = dx_countlimit_offset(block)?;
    let limit = le16(block, count_offset, "dx limit")?;
    let count = le16(block, count_offset.saturating_add(2), "dx count")?;
    if count > limit {
        return Err(Error::Corrupt("dx entry count beyond limit"));
    }
    let tail = count_offset.saturating_add(usize::from(limit).saturating_mul(DX_ENTRY_SIZE));
    if tail > block.len().saturating_sub(DX_TAIL_SIZE) {
        return Err(Error::BadChecksum("no space for htree checksum"));
    }
    Ok((count_offset, limit, count, tail))
}
