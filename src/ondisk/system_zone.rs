// SPDX-License-Identifier: GPL-2.0

//! System zones (`fs/ext4/block_validity.c`): the blocks that hold file
//! system metadata (super block backups, descriptor and reserved descriptor
//! blocks, bitmaps, inode tables) and the journal's blocks. No inode's block
//! map may point into them; ext4 checks every extent, extent index and
//! indirect pointer against them (`ext4_inode_block_valid()`), which turns a
//! map that points at an inode table into a corruption error instead of a
//! read of metadata as file data.
//!
//! The zones are a sorted slice of non-overlapping ranges; the caller owns the
//! storage (the module keeps it in a vector built at mount), this file only
//! fills, normalises and searches it.

use super::error::{Error, Result};
use super::extent::ExtentNode;
use super::group_desc::{bg_num_gdb, GroupDesc};
use super::superblock::Geometry;

/// A run of metadata blocks. `ino` is 0 for file system metadata, or the
/// inode (the journal) whose own map may point there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    /// First block.
    pub start: u64,
    /// Number of blocks, at least 1.
    pub count: u64,
    /// The inode allowed to map these blocks, 0 for none.
    pub ino: u32,
}

impl Zone {
    fn end(&self) -> u64 {
        self.start.saturating_add(self.count)
    }
}

/// Blocks at the start of `group` holding a super block backup and
/// descriptor blocks (`ext4_num_base_meta_blocks()`).
pub fn base_meta_blocks(geo: &Geometry, group: u32) -> u32 {
    let has_super = u32::from(geo.bg_has_super(group));
    let gdb = bg_num_gdb(geo, group);
    let meta_bg = geo.has_incompat(super::features::EXT4_FEATURE_INCOMPAT_META_BG)
        && group.checked_div(geo.desc_per_block).unwrap_or(0) >= geo.first_meta_bg;
    if meta_bg || has_super == 0 {
        return has_super.saturating_add(gdb);
    }
    has_super
        .saturating_add(gdb)
        .saturating_add(geo.reserved_gdt_blocks.into())
}

/// The zones of one group, in the order `ext4_setup_system_zone()` adds
/// them: base metadata (when the group has any), block bitmap, inode
/// bitmap, inode table.
pub fn group_zones(geo: &Geometry, group: u32, gd: &GroupDesc) -> Result<[Option<Zone>; 4]> {
    let meta = base_meta_blocks(geo, group);
    let base = match meta {
        0 => None,
        n => Some(Zone {
            start: geo.group_first_block(group)?,
            count: n.into(),
            ino: 0,
        }),
    };
    let one = |start| Zone {
        start,
        count: 1,
        ino: 0,
    };
    let table = Zone {
        start: gd.inode_table(),
        count: geo.itb_per_group.into(),
        ino: 0,
    };
    Ok([
        base,
        Some(one(gd.block_bitmap())),
        Some(one(gd.inode_bitmap())),
        (table.count > 0).then_some(table),
    ])
}

/// Sorts `zones` by start, merges runs that touch and belong to the same
/// inode, and returns how many zones are kept at the front of the slice.
/// Two zones that overlap are corruption (ext4's `add_system_zone()` fails
/// the mount with `EFSCORRUPTED`); rext4 finds every overlap, ext4 only the
/// ones whose start falls inside a zone added before.
pub fn normalize(zones: &mut [Zone]) -> Result<usize> {
    zones.sort_unstable_by_key(|z| z.start);
    let mut kept = 0usize;
    for i in 0..zones.len() {
        let Some(&z) = zones.get(i) else { break };
        if z.count == 0 {
            continue;
        }
        if z.start.checked_add(z.count).is_none() {
            return Err(Error::Corrupt("system zone wraps"));
        }
        if let Some(last) = kept.checked_sub(1).and_then(|k| zones.get_mut(k)) {
            if z.start < last.end() {
                return Err(Error::Corrupt("system zones overlap"));
            }
            if z.start == last.end() && z.ino == last.ino {
                last.count = last.count.saturating_add(z.count);
                continue;
            }
        }
        if let Some(slot) = zones.get_mut(kept) {
            *slot = z;
        }
        kept = kept.saturating_add(1);
    }
    Ok(kept)
}

/// A normalised zone list ([`normalize`]), searched by block range.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemZones<'a> {
    zones: &'a [Zone],
}

impl<'a> SystemZones<'a> {
    /// `zones` must be sorted and non-overlapping, as [`normalize`] leaves
    /// them. An empty list checks ranges only (`noblock_validity`).
    pub fn new(zones: &'a [Zone]) -> Self {
        Self { zones }
    }

    /// The zones, in block order.
    pub fn zones(&self) -> &'a [Zone] {
        self.zones
    }

    /// `ext4_inode_block_valid()`: `[start, start + count)` lies inside the
    /// file system past its first data block and touches no zone, except
    /// zones that belong to `ino` itself.
    pub fn check(&self, geo: &Geometry, start: u64, count: u64, ino: u32) -> Result<()> {
        geo.check_block_range(start, count)?;
        let end = start.saturating_add(count);
        // Zones are sorted and disjoint: the ones touching the range are
        // those from the first that ends after `start` up to the last that
        // begins before `end`.
        let from = self.zones.partition_point(|z| z.end() <= start);
        let touching = self.zones.get(from..).unwrap_or(&[]);
        for z in touching.iter().take_while(|z| z.start < end) {
            if z.ino == 0 || z.ino != ino {
                return Err(Error::Corrupt("block map points at file system metadata"));
            }
        }
        Ok(())
    }

    /// Every extent, or every index, of `node` (`ext4_valid_extent()`,
    /// `ext4_valid_extent_idx()`).
    pub fn check_node(&self, geo: &Geometry, node: &ExtentNode<'_>, ino: u32) -> Result<()> {
        if node.is_leaf() {
            for ext in node.extents() {
                let ext = ext?;
                self.check(geo, ext.pblock(), ext.len().into(), ino)?;
            }
        } else {
            for idx in node.indices() {
                self.check(geo, idx?.leaf(), 1, ino)?;
            }
        }
        Ok(())
    }

    /// Every nonzero little-endian block pointer in `words`: an indirect
    /// block, or the block map in `i_block` (`ext4_check_blockref()`).
    pub fn check_block_refs(&self, geo: &Geometry, words: &[u8], ino: u32) -> Result<()> {
        for w in words.chunks_exact(4) {
            let blk = <[u8; 4]>::try_from(w).map_or(0, u32::from_le_bytes);
            if blk != 0 {
                self.check(geo, blk.into(), 1, ino)?;
            }
        }
        Ok(())
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

    fn z(start: u64, count: u64, ino: u32) -> Zone {
        Zone { start, count, ino }
    }

    #[test]
    fn normalize_sorts_and_merges_same_owner_only() {
        let mut v = [z(10, 2, 0), z(0, 0, 0), z(5, 5, 0), z(12, 3, 8), z(1, 1, 0)];
        let n = normalize(&mut v).unwrap(); // ok-panic: unit test, host only
        assert_eq!(&v[..n], &[z(1, 1, 0), z(5, 7, 0), z(12, 3, 8)]);
    }

    #[test]
    fn normalize_rejects_any_overlap() {
        let mut v = [z(10, 5, 0), z(12, 1, 0)];
        assert!(normalize(&mut v).is_err());
        // A zone that starts before another and runs into it.
        let mut v = [z(12, 1, 0), z(10, 5, 0)];
        assert!(normalize(&mut v).is_err());
        let mut v = [z(u64::MAX - 1, 5, 0)];
        assert!(normalize(&mut v).is_err());
    }
}
