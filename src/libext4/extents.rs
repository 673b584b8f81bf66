// SPDX-License-Identifier: GPL-2.0

//! Extent tree changes (the counterpart of ext4's `extents.c`), so far on
//! trees that are a single leaf in the inode (`i_block`, up to four
//! extents): mapping the next logical block, merged into the last extent
//! when it continues it physically (`ext4_can_extents_be_merged()`), and
//! listing what a tree maps so it can be freed. Splitting the root into a
//! leaf block, index levels, holes and removal of ranges come with the rest
//! of the write path; until then those cases answer `Unsupported`.

use super::super::ondisk::bytes::{put_le16, put_le32};
use super::super::ondisk::extent::{
    Extent, ExtentNode, NodeKind, EXT4_EXTENT_ENTRY_SIZE, EXT_INIT_MAX_LEN,
};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};

const W: &str = "extent root";

fn put_extent(i_block: &mut [u8], slot: u16, e: &Extent) -> Result<()> {
    let off = usize::from(slot)
        .checked_add(1)
        .and_then(|n| n.checked_mul(EXT4_EXTENT_ENTRY_SIZE))
        .ok_or(Error::Corrupt(W))?;
    put_le32(i_block, off, e.ee_block, W)?;
    put_le16(i_block, off.saturating_add(4), e.ee_len, W)?;
    put_le16(i_block, off.saturating_add(6), e.ee_start_hi, W)?;
    put_le32(i_block, off.saturating_add(8), e.ee_start_lo, W)
}

/// Maps logical block `lblk` to physical block `pblk` in the root leaf
/// `i_block`: it must come after everything mapped so far. Returns whether
/// it was merged into the last extent (true) or took a new one (false).
pub fn root_append(i_block: &mut [u8], geo: &Geometry, lblk: u32, pblk: u64) -> Result<bool> {
    let root = ExtentNode::parse(i_block, NodeKind::Root, geo)?;
    if !root.is_leaf() {
        return Err(Error::Unsupported("extent tree with index levels"));
    }
    let n = root.entries();
    let max = root.header().eh_max;
    let last = match n {
        0 => None,
        _ => Some(root.extent(n.saturating_sub(1))?),
    };
    if let Some(l) = last {
        let end = l.end();
        if u64::from(lblk) < end {
            return Err(Error::OutOfRange("block already mapped"));
        }
        let contiguous = u64::from(lblk) == end
            && l.pblock().checked_add(u64::from(l.len())) == Some(pblk)
            && !l.is_unwritten()
            && l.ee_len < EXT_INIT_MAX_LEN;
        if contiguous {
            let grown = Extent {
                ee_len: l.ee_len.saturating_add(1),
                ..l
            };
            put_extent(i_block, n.saturating_sub(1), &grown)?;
            return Ok(true);
        }
    }
    if n >= max {
        return Err(Error::Unsupported("extent tree growth past the inode"));
    }
    let e = Extent {
        ee_block: lblk,
        ee_len: 1,
        ee_start_hi: u16::try_from(pblk >> 32).map_err(|_| Error::OutOfRange("block"))?,
        ee_start_lo: (pblk & 0xFFFF_FFFF) as u32,
    };
    put_extent(i_block, n, &e)?;
    put_le16(i_block, 2, n.saturating_add(1), W)?;
    Ok(false)
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
