// SPDX-License-Identifier: GPL-2.0

//! Extent tree nodes (`fs/ext4/ext4_extents.h`): a 12-byte header followed by
//! either index entries (interior nodes) or extents (leaves), in the inode's
//! 60-byte `i_block` (the root) or in whole blocks ending with a crc32c tail.
//! [`ExtentNode::parse`] performs every check `__ext4_ext_check()` makes on a
//! single node (magic, `eh_max` against the room available, entries within
//! max, sorted non-overlapping entries, physical blocks inside the file
//! system); the lookups return the entry that covers a logical block or the
//! next one, which is what a walker needs to map blocks and size holes.
//! Checking that a child's depth and first key match its parent's index is the
//! walker's business, helped by [`ExtentNode::check_child_of`].

use super::bytes::{le16, le32, lo_hi, sub};
use super::crc::ext4_chksum;
use super::error::{Error, Result};
use super::superblock::Geometry;

/// `eh_magic`.
pub const EXT4_EXT_MAGIC: u16 = 0xF30A;
/// Deepest tree the kernel builds.
pub const EXT4_MAX_EXTENT_DEPTH: u16 = 5;
/// Largest initialized extent; `ee_len` above it marks an unwritten extent.
pub const EXT_INIT_MAX_LEN: u16 = 1 << 15;
/// Largest unwritten extent.
pub const EXT_UNWRITTEN_MAX_LEN: u16 = EXT_INIT_MAX_LEN - 1;
/// Size of the header and of each entry.
pub const EXT4_EXTENT_ENTRY_SIZE: usize = 12;
/// Size of `struct ext4_extent_tail`.
pub const EXT4_EXTENT_TAIL_SIZE: usize = 4;

/// `struct ext4_extent_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct ExtentHeader {
    pub eh_magic: u16,
    pub eh_entries: u16,
    pub eh_max: u16,
    pub eh_depth: u16,
    pub eh_generation: u32,
}

impl ExtentHeader {
    /// Decodes the header at the start of `b` (no validation).
    pub fn parse(b: &[u8]) -> Result<ExtentHeader> {
        const W: &str = "extent header too short";
        Ok(ExtentHeader {
            eh_magic: le16(b, 0, W)?,
            eh_entries: le16(b, 2, W)?,
            eh_max: le16(b, 4, W)?,
            eh_depth: le16(b, 6, W)?,
            eh_generation: le32(b, 8, W)?,
        })
    }
}

/// `struct ext4_extent`: a run of logical blocks mapped to physical ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct Extent {
    pub ee_block: u32,
    pub ee_len: u16,
    pub ee_start_hi: u16,
    pub ee_start_lo: u32,
}

impl Extent {
    fn parse(b: &[u8]) -> Result<Extent> {
        const W: &str = "extent too short";
        Ok(Extent {
            ee_block: le32(b, 0, W)?,
            ee_len: le16(b, 4, W)?,
            ee_start_hi: le16(b, 6, W)?,
            ee_start_lo: le32(b, 8, W)?,
        })
    }

    /// `ext4_ext_pblock()`.
    pub fn pblock(&self) -> u64 {
        lo_hi(self.ee_start_lo, u32::from(self.ee_start_hi))
    }

    /// `ext4_ext_is_unwritten()`: `ee_len` of exactly 32768 is a full
    /// initialized extent, anything larger is unwritten.
    pub fn is_unwritten(&self) -> bool {
        self.ee_len > EXT_INIT_MAX_LEN
    }

    /// `ext4_ext_get_actual_len()`.
    pub fn len(&self) -> u32 {
        if self.ee_len <= EXT_INIT_MAX_LEN {
            u32::from(self.ee_len)
        } else {
            u32::from(self.ee_len.wrapping_sub(EXT_INIT_MAX_LEN))
        }
    }

    /// Whether the extent covers no blocks (always corruption on disk).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One past the last logical block, as u64 so it cannot wrap.
    pub fn end(&self) -> u64 {
        u64::from(self.ee_block).saturating_add(u64::from(self.len()))
    }

    /// Physical block mapped to logical block `lblk`, if covered.
    pub fn map(&self, lblk: u32) -> Option<u64> {
        if lblk < self.ee_block || u64::from(lblk) >= self.end() {
            return None;
        }
        self.pblock()
            .checked_add(u64::from(lblk.wrapping_sub(self.ee_block)))
    }
}

/// `struct ext4_extent_idx`: points at the node covering logical blocks from
/// `ei_block` up to the next index's `ei_block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct ExtentIdx {
    pub ei_block: u32,
    pub ei_leaf_lo: u32,
    pub ei_leaf_hi: u16,
}

impl ExtentIdx {
    fn parse(b: &[u8]) -> Result<ExtentIdx> {
        const W: &str = "extent index too short";
        Ok(ExtentIdx {
            ei_block: le32(b, 0, W)?,
            ei_leaf_lo: le32(b, 4, W)?,
            ei_leaf_hi: le16(b, 8, W)?,
        })
    }

    /// `ext4_idx_pblock()`.
    pub fn leaf(&self) -> u64 {
        lo_hi(self.ei_leaf_lo, u32::from(self.ei_leaf_hi))
    }
}

/// Whether a node is the root in `i_block` or a separate tree block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    /// The 60-byte root inside the inode.
    Root,
    /// A full block (with a checksum tail).
    Block,
}

/// Result of looking a logical block up in a leaf.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafLookup {
    /// The block is mapped by this extent.
    Mapped(Extent),
    /// The block is in a hole that ends where `next` starts (or, if `None`,
    /// at least at the end of this leaf's range).
    Hole {
        /// First logical block of the next extent in this leaf.
        next: Option<u32>,
    },
}

/// Result of looking a logical block up in an index node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexLookup {
    /// The child to descend into (`ext4_ext_binsearch_idx()`); for a block
    /// before the first key this is the first child, as in the kernel.
    pub child: ExtentIdx,
    /// Position of `child` in this node.
    pub position: u16,
    /// `ei_block` of the next index, where the child's range ends.
    pub next: Option<u32>,
}

/// A validated extent tree node.
#[derive(Clone, Copy, Debug)]
pub struct ExtentNode<'a> {
    header: ExtentHeader,
    entries: &'a [u8],
}

impl<'a> ExtentNode<'a> {
    /// Decodes and validates one node: `buf` is `i_block` for
    /// [`NodeKind::Root`] or the whole block for [`NodeKind::Block`]. Entries
    /// must be sorted and non-overlapping, extents non-empty and not wrapping
    /// the 32-bit logical space, and every physical block must pass
    /// [`Geometry::check_block_range`]. The checksum is separate
    /// ([`ext4_extent_block_csum_verify`]) because it needs the inode's seed.
    pub fn parse(buf: &'a [u8], kind: NodeKind, geo: &Geometry) -> Result<ExtentNode<'a>> {
        Self::parse_with_depth(buf, kind, geo, EXT4_MAX_EXTENT_DEPTH)
    }

    /// The root as `__ext4_ext_check()` checks it at `iget`: trees up to 32
    /// levels pass there (ext4 refuses deeper than
    /// [`EXT4_MAX_EXTENT_DEPTH`] only when a lookup walks the tree).
    pub fn parse_root_at_iget(i_block: &'a [u8], geo: &Geometry) -> Result<ExtentNode<'a>> {
        Self::parse_with_depth(i_block, NodeKind::Root, geo, 32)
    }

    fn parse_with_depth(
        buf: &'a [u8],
        kind: NodeKind,
        geo: &Geometry,
        max_depth: u16,
    ) -> Result<ExtentNode<'a>> {
        let header = ExtentHeader::parse(buf)?;
        if header.eh_magic != EXT4_EXT_MAGIC {
            return Err(Error::Corrupt("extent header magic"));
        }
        if header.eh_depth > max_depth {
            return Err(Error::Corrupt("extent tree too deep"));
        }
        if header.eh_max == 0 {
            return Err(Error::Corrupt("invalid eh_max"));
        }
        // ext4_ext_max_entries(): whatever fits after the header (the tail
        // of a block node is what is left over, not reserved room).
        let room = match kind {
            NodeKind::Root => buf.len().min(super::inode::EXT4_I_BLOCK_SIZE),
            NodeKind::Block => buf.len(),
        }
        .saturating_sub(EXT4_EXTENT_ENTRY_SIZE)
            / EXT4_EXTENT_ENTRY_SIZE;
        if usize::from(header.eh_max) > room {
            return Err(Error::Corrupt("too large eh_max"));
        }
        if header.eh_entries > header.eh_max {
            return Err(Error::Corrupt("invalid eh_entries"));
        }
        if header.eh_entries == 0 && header.eh_depth > 0 {
            return Err(Error::Corrupt("eh_entries is 0 but eh_depth is > 0"));
        }
        let len = usize::from(header.eh_entries).saturating_mul(EXT4_EXTENT_ENTRY_SIZE);
        let entries = sub(buf, EXT4_EXTENT_ENTRY_SIZE, len, "extent entries")?;
        let node = ExtentNode { header, entries };
        node.check_entries(geo)?;
        Ok(node)
    }

    fn check_entries(&self, geo: &Geometry) -> Result<()> {
        // `cur` is the first logical block the next entry may start at.
        let mut cur: u64 = 0;
        if self.is_leaf() {
            for ext in self.extents() {
                let ext = ext?;
                let len = ext.len();
                if len == 0
                    || u64::from(ext.ee_block).saturating_add(u64::from(len)) > u64::from(u32::MAX)
                {
                    return Err(Error::Corrupt("invalid extent length"));
                }
                geo.check_block_range(ext.pblock(), u64::from(len))
                    .map_err(|_| Error::Corrupt("extent physical block out of range"))?;
                if u64::from(ext.ee_block) < cur {
                    return Err(Error::Corrupt("overlapping extents"));
                }
                cur = ext.end();
            }
        } else {
            for idx in self.indices() {
                let idx = idx?;
                geo.check_block_range(idx.leaf(), 1)
                    .map_err(|_| Error::Corrupt("extent index block out of range"))?;
                if u64::from(idx.ei_block) < cur {
                    return Err(Error::Corrupt("unsorted extent index"));
                }
                cur = u64::from(idx.ei_block).saturating_add(1);
            }
        }
        Ok(())
    }

    /// The node's header.
    pub fn header(&self) -> ExtentHeader {
        self.header
    }

    /// `eh_depth`: 0 for leaves.
    pub fn depth(&self) -> u16 {
        self.header.eh_depth
    }

    /// Whether this node holds extents rather than indices.
    pub fn is_leaf(&self) -> bool {
        self.header.eh_depth == 0
    }

    /// Number of entries.
    pub fn entries(&self) -> u16 {
        self.header.eh_entries
    }

    /// The extents of a leaf (empty for an index node).
    pub fn extents(&self) -> impl Iterator<Item = Result<Extent>> + 'a {
        let raw = if self.is_leaf() { self.entries } else { &[] };
        raw.chunks_exact(EXT4_EXTENT_ENTRY_SIZE).map(Extent::parse)
    }

    /// The indices of an interior node (empty for a leaf).
    pub fn indices(&self) -> impl Iterator<Item = Result<ExtentIdx>> + 'a {
        let raw = if self.is_leaf() { &[] } else { self.entries };
        raw.chunks_exact(EXT4_EXTENT_ENTRY_SIZE)
            .map(ExtentIdx::parse)
    }

    /// Extent number `i` of a leaf.
    pub fn extent(&self, i: u16) -> Result<Extent> {
        if !self.is_leaf() {
            return Err(Error::OutOfRange("not a leaf"));
        }
        let off = usize::from(i).saturating_mul(EXT4_EXTENT_ENTRY_SIZE);
        Extent::parse(sub(
            self.entries,
            off,
            EXT4_EXTENT_ENTRY_SIZE,
            "extent index",
        )?)
    }

    /// Index number `i` of an interior node.
    pub fn index(&self, i: u16) -> Result<ExtentIdx> {
        if self.is_leaf() {
            return Err(Error::OutOfRange("not an index node"));
        }
        let off = usize::from(i).saturating_mul(EXT4_EXTENT_ENTRY_SIZE);
        ExtentIdx::parse(sub(
            self.entries,
            off,
            EXT4_EXTENT_ENTRY_SIZE,
            "extent index",
        )?)
    }

    /// First logical block this node claims (first entry's key), if any.
    pub fn first_block(&self) -> Result<Option<u32>> {
        if self.header.eh_entries == 0 {
            return Ok(None);
        }
        let b = le32(self.entries, 0, "extent entries")?;
        Ok(Some(b))
    }

    /// Finds the child of an index node covering `lblk`
    /// (`ext4_ext_binsearch_idx()`).
    pub fn lookup_index(&self, lblk: u32) -> Result<IndexLookup> {
        if self.is_leaf() || self.header.eh_entries == 0 {
            return Err(Error::OutOfRange("not an index node"));
        }
        // Last index whose key is <= lblk; the first one if none is.
        let (mut lo, mut hi) = (1u16, self.header.eh_entries);
        while lo < hi {
            let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
            if self.index(mid)?.ei_block <= lblk {
                lo = mid.saturating_add(1);
            } else {
                hi = mid;
            }
        }
        let position = lo.saturating_sub(1);
        let next = match position.checked_add(1) {
            Some(n) if n < self.header.eh_entries => Some(self.index(n)?.ei_block),
            _ => None,
        };
        Ok(IndexLookup {
            child: self.index(position)?,
            position,
            next,
        })
    }

    /// Finds the extent of a leaf covering `lblk`
    /// (`ext4_ext_binsearch()` plus the coverage test), or the start of the
    /// next extent when `lblk` is in a hole.
    pub fn lookup_leaf(&self, lblk: u32) -> Result<LeafLookup> {
        if !self.is_leaf() {
            return Err(Error::OutOfRange("not a leaf"));
        }
        // First extent whose start is > lblk.
        let (mut lo, mut hi) = (0u16, self.header.eh_entries);
        while lo < hi {
            let mid = lo.saturating_add(hi.saturating_sub(lo) / 2);
            if self.extent(mid)?.ee_block <= lblk {
                lo = mid.saturating_add(1);
            } else {
                hi = mid;
            }
        }
        if let Some(prev) = lo.checked_sub(1) {
            let ext = self.extent(prev)?;
            if ext.map(lblk).is_some() {
                return Ok(LeafLookup::Mapped(ext));
            }
        }
        let next = if lo < self.header.eh_entries {
            Some(self.extent(lo)?.ee_block)
        } else {
            None
        };
        Ok(LeafLookup::Hole { next })
    }

    /// The consistency a walker checks when it descends from `parent` through
    /// index `idx`: the child's depth is one less, and its first key equals
    /// the index key (`ext4_valid_extent_entries()` with `lblk`).
    pub fn check_child_of(&self, parent_depth: u16, idx: &ExtentIdx) -> Result<()> {
        if parent_depth.checked_sub(1) != Some(self.header.eh_depth) {
            return Err(Error::Corrupt("unexpected eh_depth"));
        }
        match self.first_block()? {
            Some(first) if first != idx.ei_block => {
                Err(Error::Corrupt("extent index key mismatch"))
            }
            _ => Ok(()),
        }
    }
}

/// crc32c of an extent block up to its tail (`ext4_extent_block_csum()`).
pub fn ext4_extent_block_csum(block: &[u8], inode_seed: u32) -> Result<u32> {
    let header = ExtentHeader::parse(block)?;
    let len = usize::from(header.eh_max)
        .saturating_add(1)
        .saturating_mul(EXT4_EXTENT_ENTRY_SIZE);
    Ok(ext4_chksum(inode_seed, sub(block, 0, len, "extent tail")?))
}

/// Checks the `ext4_extent_tail` of a non-root node, found right after
/// `eh_max` entries. Callers skip this without `metadata_csum`.
pub fn ext4_extent_block_csum_verify(block: &[u8], inode_seed: u32) -> Result<()> {
    let header = ExtentHeader::parse(block)?;
    let off = usize::from(header.eh_max)
        .saturating_add(1)
        .saturating_mul(EXT4_EXTENT_ENTRY_SIZE);
    let stored = le32(block, off, "extent tail")?;
    if ext4_extent_block_csum(block, inode_seed)? != stored {
        return Err(Error::BadChecksum("extent block"));
    }
    Ok(())
}
