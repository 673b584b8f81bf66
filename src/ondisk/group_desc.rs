// SPDX-License-Identifier: GPL-2.0

//! Block group descriptors (`struct ext4_group_desc`, 32 bytes, or 64 and more
//! with `64bit`) and the block/inode bitmap checksums they carry. Where each
//! descriptor lives is [`super::superblock::Geometry::group_desc_location`];
//! this file decodes one, verifies `bg_checksum` (crc16 for `uninit_bg`, the
//! low half of crc32c for `metadata_csum`) and checks that the bitmaps and
//! inode table it points at are inside the file system, as
//! `ext4_check_descriptors()` does before the kernel trusts them.

use super::bytes::{le16, le32, lo_hi, put_le16, put_le32, sub};
use super::crc::{crc16, ext4_chksum};
use super::error::{Error, Result};
use super::features::{EXT4_FEATURE_INCOMPAT_FLEX_BG, EXT4_FEATURE_INCOMPAT_META_BG};
use super::superblock::Geometry;

/// `bg_flags`: inode table and bitmap are not initialised.
pub const EXT4_BG_INODE_UNINIT: u16 = 0x0001;
/// `bg_flags`: block bitmap is not initialised.
pub const EXT4_BG_BLOCK_UNINIT: u16 = 0x0002;
/// `bg_flags`: the inode table is zeroed.
pub const EXT4_BG_INODE_ZEROED: u16 = 0x0004;

const BG_CHECKSUM_OFFSET: usize = 0x1E;
/// End of `bg_block_bitmap_csum_hi`: descriptors shorter than this have none.
const EXT4_BG_BLOCK_BITMAP_CSUM_HI_END: u32 = 0x3A;
/// End of `bg_inode_bitmap_csum_hi`.
const EXT4_BG_INODE_BITMAP_CSUM_HI_END: u32 = 0x3C;

/// A decoded group descriptor. The `_hi` fields are zero for 32-byte
/// descriptors, exactly as the kernel treats them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // Every field is the identically named C field.
pub struct GroupDesc {
    pub bg_block_bitmap_lo: u32,
    pub bg_inode_bitmap_lo: u32,
    pub bg_inode_table_lo: u32,
    pub bg_free_blocks_count_lo: u16,
    pub bg_free_inodes_count_lo: u16,
    pub bg_used_dirs_count_lo: u16,
    pub bg_flags: u16,
    pub bg_exclude_bitmap_lo: u32,
    pub bg_block_bitmap_csum_lo: u16,
    pub bg_inode_bitmap_csum_lo: u16,
    pub bg_itable_unused_lo: u16,
    pub bg_checksum: u16,
    pub bg_block_bitmap_hi: u32,
    pub bg_inode_bitmap_hi: u32,
    pub bg_inode_table_hi: u32,
    pub bg_free_blocks_count_hi: u16,
    pub bg_free_inodes_count_hi: u16,
    pub bg_used_dirs_count_hi: u16,
    pub bg_itable_unused_hi: u16,
    pub bg_exclude_bitmap_hi: u32,
    pub bg_block_bitmap_csum_hi: u16,
    pub bg_inode_bitmap_csum_hi: u16,
}

const W: &str = "group descriptor too short";

impl GroupDesc {
    /// Decodes the descriptor at the start of `raw` (`geo.desc_size` bytes).
    /// Does not verify the checksum: see [`ext4_group_desc_csum_verify`].
    pub fn parse(raw: &[u8], geo: &Geometry) -> Result<GroupDesc> {
        let size = usize::try_from(geo.desc_size).map_err(|_| Error::Corrupt(W))?;
        let b = sub(raw, 0, size, W)?;
        let mut gd = GroupDesc {
            bg_block_bitmap_lo: le32(b, 0x00, W)?,
            bg_inode_bitmap_lo: le32(b, 0x04, W)?,
            bg_inode_table_lo: le32(b, 0x08, W)?,
            bg_free_blocks_count_lo: le16(b, 0x0C, W)?,
            bg_free_inodes_count_lo: le16(b, 0x0E, W)?,
            bg_used_dirs_count_lo: le16(b, 0x10, W)?,
            bg_flags: le16(b, 0x12, W)?,
            bg_exclude_bitmap_lo: le32(b, 0x14, W)?,
            bg_block_bitmap_csum_lo: le16(b, 0x18, W)?,
            bg_inode_bitmap_csum_lo: le16(b, 0x1A, W)?,
            bg_itable_unused_lo: le16(b, 0x1C, W)?,
            bg_checksum: le16(b, BG_CHECKSUM_OFFSET, W)?,
            ..GroupDesc::default()
        };
        if geo.desc_size >= 64 {
            gd.bg_block_bitmap_hi = le32(b, 0x20, W)?;
            gd.bg_inode_bitmap_hi = le32(b, 0x24, W)?;
            gd.bg_inode_table_hi = le32(b, 0x28, W)?;
            gd.bg_free_blocks_count_hi = le16(b, 0x2C, W)?;
            gd.bg_free_inodes_count_hi = le16(b, 0x2E, W)?;
            gd.bg_used_dirs_count_hi = le16(b, 0x30, W)?;
            gd.bg_itable_unused_hi = le16(b, 0x32, W)?;
            gd.bg_exclude_bitmap_hi = le32(b, 0x34, W)?;
            gd.bg_block_bitmap_csum_hi = le16(b, 0x38, W)?;
            gd.bg_inode_bitmap_csum_hi = le16(b, 0x3A, W)?;
        }
        Ok(gd)
    }

    /// Stores the descriptor into the first `geo.desc_size` bytes of `raw`
    /// (the encoder of [`GroupDesc::parse`]); bytes it has no field for are
    /// left as they are. `bg_checksum` is stored as held: recompute it with
    /// [`ext4_group_desc_csum_set`] after a change.
    pub fn encode(&self, raw: &mut [u8], geo: &Geometry) -> Result<()> {
        let size = usize::try_from(geo.desc_size).map_err(|_| Error::Corrupt(W))?;
        let b = raw.get_mut(..size).ok_or(Error::Corrupt(W))?;
        put_le32(b, 0x00, self.bg_block_bitmap_lo, W)?;
        put_le32(b, 0x04, self.bg_inode_bitmap_lo, W)?;
        put_le32(b, 0x08, self.bg_inode_table_lo, W)?;
        put_le16(b, 0x0C, self.bg_free_blocks_count_lo, W)?;
        put_le16(b, 0x0E, self.bg_free_inodes_count_lo, W)?;
        put_le16(b, 0x10, self.bg_used_dirs_count_lo, W)?;
        put_le16(b, 0x12, self.bg_flags, W)?;
        put_le32(b, 0x14, self.bg_exclude_bitmap_lo, W)?;
        put_le16(b, 0x18, self.bg_block_bitmap_csum_lo, W)?;
        put_le16(b, 0x1A, self.bg_inode_bitmap_csum_lo, W)?;
        put_le16(b, 0x1C, self.bg_itable_unused_lo, W)?;
        put_le16(b, BG_CHECKSUM_OFFSET, self.bg_checksum, W)?;
        if geo.desc_size >= 64 {
            put_le32(b, 0x20, self.bg_block_bitmap_hi, W)?;
            put_le32(b, 0x24, self.bg_inode_bitmap_hi, W)?;
            put_le32(b, 0x28, self.bg_inode_table_hi, W)?;
            put_le16(b, 0x2C, self.bg_free_blocks_count_hi, W)?;
            put_le16(b, 0x2E, self.bg_free_inodes_count_hi, W)?;
            put_le16(b, 0x30, self.bg_used_dirs_count_hi, W)?;
            put_le16(b, 0x32, self.bg_itable_unused_hi, W)?;
            put_le32(b, 0x34, self.bg_exclude_bitmap_hi, W)?;
            put_le16(b, 0x38, self.bg_block_bitmap_csum_hi, W)?;
            put_le16(b, 0x3A, self.bg_inode_bitmap_csum_hi, W)?;
        }
        Ok(())
    }

    /// `ext4_free_group_clusters_set()`: the low half, and the high half
    /// only where the descriptor has one.
    pub fn set_free_blocks_count(&mut self, geo: &Geometry, n: u32) {
        self.bg_free_blocks_count_lo = (n & 0xFFFF) as u16;
        if geo.desc_size >= 64 {
            self.bg_free_blocks_count_hi = (n >> 16) as u16;
        }
    }

    /// `ext4_free_inodes_set()`.
    pub fn set_free_inodes_count(&mut self, geo: &Geometry, n: u32) {
        self.bg_free_inodes_count_lo = (n & 0xFFFF) as u16;
        if geo.desc_size >= 64 {
            self.bg_free_inodes_count_hi = (n >> 16) as u16;
        }
    }

    /// `ext4_used_dirs_set()`.
    pub fn set_used_dirs_count(&mut self, geo: &Geometry, n: u32) {
        self.bg_used_dirs_count_lo = (n & 0xFFFF) as u16;
        if geo.desc_size >= 64 {
            self.bg_used_dirs_count_hi = (n >> 16) as u16;
        }
    }

    /// `ext4_itable_unused_set()`.
    pub fn set_itable_unused(&mut self, geo: &Geometry, n: u32) {
        self.bg_itable_unused_lo = (n & 0xFFFF) as u16;
        if geo.desc_size >= 64 {
            self.bg_itable_unused_hi = (n >> 16) as u16;
        }
    }

    /// `ext4_block_bitmap_csum_set()`: stores the checksum of `bitmap`
    /// (no-op without `metadata_csum`; the high half only where the
    /// descriptor has one).
    pub fn set_block_bitmap_csum(&mut self, geo: &Geometry, bitmap: &[u8]) -> Result<()> {
        let len =
            usize::try_from(geo.blocks_per_group / 8).map_err(|_| Error::Corrupt("bitmap"))?;
        if let Some(c) = bitmap_csum(geo, bitmap, len)? {
            self.bg_block_bitmap_csum_lo = (c & 0xFFFF) as u16;
            if geo.desc_size >= EXT4_BG_BLOCK_BITMAP_CSUM_HI_END {
                self.bg_block_bitmap_csum_hi = (c >> 16) as u16;
            }
        }
        Ok(())
    }

    /// `ext4_inode_bitmap_csum_set()`.
    pub fn set_inode_bitmap_csum(&mut self, geo: &Geometry, bitmap: &[u8]) -> Result<()> {
        let len =
            usize::try_from(geo.inodes_per_group / 8).map_err(|_| Error::Corrupt("bitmap"))?;
        if let Some(c) = bitmap_csum(geo, bitmap, len)? {
            self.bg_inode_bitmap_csum_lo = (c & 0xFFFF) as u16;
            if geo.desc_size >= EXT4_BG_INODE_BITMAP_CSUM_HI_END {
                self.bg_inode_bitmap_csum_hi = (c >> 16) as u16;
            }
        }
        Ok(())
    }

    /// `ext4_block_bitmap()`.
    pub fn block_bitmap(&self) -> u64 {
        lo_hi(self.bg_block_bitmap_lo, self.bg_block_bitmap_hi)
    }

    /// `ext4_inode_bitmap()`.
    pub fn inode_bitmap(&self) -> u64 {
        lo_hi(self.bg_inode_bitmap_lo, self.bg_inode_bitmap_hi)
    }

    /// `ext4_inode_table()`.
    pub fn inode_table(&self) -> u64 {
        lo_hi(self.bg_inode_table_lo, self.bg_inode_table_hi)
    }

    /// `ext4_free_group_clusters()`.
    pub fn free_blocks_count(&self) -> u32 {
        join16(self.bg_free_blocks_count_lo, self.bg_free_blocks_count_hi)
    }

    /// `ext4_free_inodes_count()`.
    pub fn free_inodes_count(&self) -> u32 {
        join16(self.bg_free_inodes_count_lo, self.bg_free_inodes_count_hi)
    }

    /// `ext4_used_dirs_count()`.
    pub fn used_dirs_count(&self) -> u32 {
        join16(self.bg_used_dirs_count_lo, self.bg_used_dirs_count_hi)
    }

    /// `ext4_itable_unused_count()`.
    pub fn itable_unused(&self) -> u32 {
        join16(self.bg_itable_unused_lo, self.bg_itable_unused_hi)
    }

    /// Stored block bitmap checksum (high half only in long descriptors).
    pub fn block_bitmap_csum(&self) -> u32 {
        join16(self.bg_block_bitmap_csum_lo, self.bg_block_bitmap_csum_hi)
    }

    /// Stored inode bitmap checksum.
    pub fn inode_bitmap_csum(&self) -> u32 {
        join16(self.bg_inode_bitmap_csum_lo, self.bg_inode_bitmap_csum_hi)
    }

    /// Whether a `bg_flags` bit is set.
    pub fn has_flag(&self, flag: u16) -> bool {
        self.bg_flags & flag != 0
    }

    /// `ext4_check_descriptors()` for one group: the bitmaps and inode table
    /// must lie inside the group (anywhere in the file system with
    /// `flex_bg`) and must not overlap the superblock or the primary
    /// descriptor table.
    pub fn check(&self, geo: &Geometry, group: u32) -> Result<()> {
        let flex = geo.has_incompat(EXT4_FEATURE_INCOMPAT_FLEX_BG);
        let sb_block = u64::from(geo.first_data_block);
        let last_bg_block = sb_block
            .checked_add(u64::from(bg_num_gdb(geo, 0)))
            .ok_or(Error::Corrupt("descriptor table"))?;
        let (first_block, last_block) = if flex {
            (sb_block, geo.blocks_count.saturating_sub(1))
        } else {
            let first = geo.group_first_block(group)?;
            let last = first
                .checked_add(u64::from(geo.blocks_per_group).saturating_sub(1))
                .ok_or(Error::Corrupt("group"))?
                .min(geo.blocks_count.saturating_sub(1));
            (first, last)
        };
        let in_place = |blk: u64, what: &'static str| -> Result<()> {
            if blk == sb_block
                || (blk > sb_block && blk <= last_bg_block)
                || blk < first_block
                || blk > last_block
            {
                return Err(Error::Corrupt(what));
            }
            Ok(())
        };
        in_place(self.block_bitmap(), "bg_block_bitmap")?;
        in_place(self.inode_bitmap(), "bg_inode_bitmap")?;
        let table = self.inode_table();
        in_place(table, "bg_inode_table")?;
        let table_end = table
            .checked_add(u64::from(geo.itb_per_group).saturating_sub(1))
            .ok_or(Error::Corrupt("bg_inode_table"))?;
        if table_end > last_block {
            return Err(Error::Corrupt("bg_inode_table"));
        }
        if self.free_blocks_count() > geo.blocks_per_group {
            return Err(Error::Corrupt("bg_free_blocks_count"));
        }
        if self.free_inodes_count() > geo.inodes_per_group {
            return Err(Error::Corrupt("bg_free_inodes_count"));
        }
        Ok(())
    }
}

fn join16(lo: u16, hi: u16) -> u32 {
    (u32::from(hi) << 16) | u32::from(lo)
}

/// Number of descriptor-table blocks stored at the start of `group`
/// (`ext4_bg_num_gdb()`), 0 if the group carries no backup.
pub fn bg_num_gdb(geo: &Geometry, group: u32) -> u32 {
    let metagroup = group.checked_div(geo.desc_per_block).unwrap_or(0);
    if !geo.has_incompat(EXT4_FEATURE_INCOMPAT_META_BG) || metagroup < geo.first_meta_bg {
        if !geo.bg_has_super(group) {
            return 0;
        }
        return if geo.has_incompat(EXT4_FEATURE_INCOMPAT_META_BG) {
            geo.first_meta_bg
        } else {
            geo.gdb_count
        };
    }
    let first = metagroup.saturating_mul(geo.desc_per_block);
    let last = first.saturating_add(geo.desc_per_block.saturating_sub(1));
    u32::from(group == first || group == first.saturating_add(1) || group == last)
}

/// The checksum `bg_checksum` should hold (`ext4_group_desc_csum()`), or
/// `None` when the file system has no descriptor checksums. `raw` is the
/// descriptor as stored; its own `bg_checksum` is skipped.
pub fn ext4_group_desc_csum(geo: &Geometry, group: u32, raw: &[u8]) -> Result<Option<u16>> {
    let size = usize::try_from(geo.desc_size).map_err(|_| Error::Corrupt(W))?;
    let desc = sub(raw, 0, size, W)?;
    let head = sub(desc, 0, BG_CHECKSUM_OFFSET, W)?;
    let tail = desc
        .get(BG_CHECKSUM_OFFSET.saturating_add(2)..)
        .unwrap_or(&[]);
    let le_group = group.to_le_bytes();
    if geo.has_metadata_csum() {
        let mut csum = ext4_chksum(geo.csum_seed, &le_group);
        csum = ext4_chksum(csum, head);
        csum = ext4_chksum(csum, &[0, 0]);
        csum = ext4_chksum(csum, tail);
        return Ok(Some((csum & 0xFFFF) as u16));
    }
    if !geo.has_group_desc_csum() {
        return Ok(None);
    }
    let mut crc = crc16(!0, &geo.uuid);
    crc = crc16(crc, &le_group);
    crc = crc16(crc, head);
    // The old algorithm only covers the long descriptor's upper half with 64bit.
    if geo.is_64bit() {
        crc = crc16(crc, tail);
    }
    Ok(Some(crc))
}

/// `ext4_group_desc_csum_set()`: stores the checksum of the descriptor in
/// `raw` (as encoded) into its `bg_checksum`; a no-op without descriptor
/// checksums.
pub fn ext4_group_desc_csum_set(geo: &Geometry, group: u32, raw: &mut [u8]) -> Result<()> {
    if let Some(c) = ext4_group_desc_csum(geo, group, raw)? {
        put_le16(raw, BG_CHECKSUM_OFFSET, c, W)?;
    }
    Ok(())
}

/// `ext4_group_desc_csum_verify()`.
pub fn ext4_group_desc_csum_verify(geo: &Geometry, group: u32, raw: &[u8]) -> Result<()> {
    let stored = le16(raw, BG_CHECKSUM_OFFSET, W)?;
    match ext4_group_desc_csum(geo, group, raw)? {
        Some(expected) if expected != stored => Err(Error::BadChecksum("group descriptor")),
        _ => Ok(()),
    }
}

/// `ext4_block_bitmap_csum_verify()`: crc32c of the first
/// `blocks_per_group / 8` bytes of the bitmap. A no-op without
/// `metadata_csum`; callers skip `BLOCK_UNINIT` groups as the kernel does.
pub fn ext4_block_bitmap_csum_verify(geo: &Geometry, gd: &GroupDesc, bitmap: &[u8]) -> Result<()> {
    let len = usize::try_from(geo.blocks_per_group / 8).map_err(|_| Error::Corrupt("bitmap"))?;
    bitmap_csum_verify(
        geo,
        bitmap,
        len,
        gd.block_bitmap_csum(),
        EXT4_BG_BLOCK_BITMAP_CSUM_HI_END,
        "block bitmap",
    )
}

/// `ext4_inode_bitmap_csum_verify()`: crc32c of the first
/// `inodes_per_group / 8` bytes of the bitmap.
pub fn ext4_inode_bitmap_csum_verify(geo: &Geometry, gd: &GroupDesc, bitmap: &[u8]) -> Result<()> {
    let len = usize::try_from(geo.inodes_per_group / 8).map_err(|_| Error::Corrupt("bitmap"))?;
    bitmap_csum_verify(
        geo,
        bitmap,
        len,
        gd.inode_bitmap_csum(),
        EXT4_BG_INODE_BITMAP_CSUM_HI_END,
        "inode bitmap",
    )
}

/// The crc32c of the first `len` bytes of a bitmap, or `None` without
/// `metadata_csum`.
fn bitmap_csum(geo: &Geometry, bitmap: &[u8], len: usize) -> Result<Option<u32>> {
    if !geo.has_metadata_csum() {
        return Ok(None);
    }
    let data = sub(bitmap, 0, len, "bitmap too short")?;
    Ok(Some(ext4_chksum(geo.csum_seed, data)))
}

fn bitmap_csum_verify(
    geo: &Geometry,
    bitmap: &[u8],
    len: usize,
    stored: u32,
    hi_end: u32,
    what: &'static str,
) -> Result<()> {
    let Some(mut csum) = bitmap_csum(geo, bitmap, len)? else {
        return Ok(());
    };
    if geo.desc_size < hi_end {
        csum &= 0xFFFF;
    }
    if csum != stored {
        return Err(Error::BadChecksum(what));
    }
    Ok(())
}
