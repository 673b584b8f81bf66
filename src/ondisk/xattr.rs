// SPDX-License-Identifier: GPL-2.0

//! Extended attributes (`fs/ext4/xattr.h`). They live in two places with the
//! same entry format: in the inode body after `i_extra_isize` (a 4-byte magic,
//! then entries, values addressed from the first entry) and in one external
//! block (`i_file_acl`: a 32-byte header with magic, refcount, `h_blocks == 1`
//! and a crc32c seeded with the block number, then entries, values addressed
//! from the block start). Entries are 4-byte aligned, the list ends with four
//! zero bytes, and values are packed from the end of the area backwards.
//! [`XattrList`] validates the whole area up front the way `check_xattrs()`
//! does, so iteration afterwards only hands out in-bounds slices.

use super::bytes::{le16, le32, sub, u8_at};
use super::crc::ext4_chksum;
use super::error::{Error, Result};
use super::features::EXT4_FEATURE_INCOMPAT_EA_INODE;
use super::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE};

/// `h_magic` of blocks and the in-inode area.
pub const EXT4_XATTR_MAGIC: u32 = 0xEA02_0000;
/// Size of `struct ext4_xattr_header` (block).
pub const EXT4_XATTR_HEADER_SIZE: usize = 32;
/// Size of `struct ext4_xattr_ibody_header`.
pub const EXT4_XATTR_IBODY_HEADER_SIZE: usize = 4;
/// Fixed part of `struct ext4_xattr_entry`.
pub const EXT4_XATTR_ENTRY_SIZE: usize = 16;
/// Largest value the kernel accepts (`EXT4_XATTR_SIZE_MAX`).
pub const EXT4_XATTR_SIZE_MAX: u32 = 1 << 24;
/// Offset of `h_checksum` in the block header.
const H_CHECKSUM_OFFSET: usize = 16;

/// `user.`
pub const EXT4_XATTR_INDEX_USER: u8 = 1;
/// `system.posix_acl_access`
pub const EXT4_XATTR_INDEX_POSIX_ACL_ACCESS: u8 = 2;
/// `system.posix_acl_default`
pub const EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT: u8 = 3;
/// `trusted.`
pub const EXT4_XATTR_INDEX_TRUSTED: u8 = 4;
/// Lustre (no prefix exposed).
pub const EXT4_XATTR_INDEX_LUSTRE: u8 = 5;
/// `security.`
pub const EXT4_XATTR_INDEX_SECURITY: u8 = 6;
/// `system.`
pub const EXT4_XATTR_INDEX_SYSTEM: u8 = 7;
/// `system.richacl`
pub const EXT4_XATTR_INDEX_RICHACL: u8 = 8;
/// Encryption context (`c`, not visible to users).
pub const EXT4_XATTR_INDEX_ENCRYPTION: u8 = 9;

/// The user-visible prefix of a name index. For the ACL and richacl indices
/// the prefix is the whole name and the stored name is empty.
pub fn name_prefix(index: u8) -> Option<&'static str> {
    Some(match index {
        EXT4_XATTR_INDEX_USER => "user.",
        EXT4_XATTR_INDEX_POSIX_ACL_ACCESS => "system.posix_acl_access",
        EXT4_XATTR_INDEX_POSIX_ACL_DEFAULT => "system.posix_acl_default",
        EXT4_XATTR_INDEX_TRUSTED => "trusted.",
        EXT4_XATTR_INDEX_SECURITY => "security.",
        EXT4_XATTR_INDEX_SYSTEM => "system.",
        EXT4_XATTR_INDEX_RICHACL => "system.richacl",
        _ => return None,
    })
}

/// `EXT4_XATTR_LEN()`: bytes an entry with a `name_len` name occupies.
pub fn xattr_entry_len(name_len: usize) -> usize {
    name_len.saturating_add(EXT4_XATTR_ENTRY_SIZE + 3) & !3
}

/// `EXT4_XATTR_SIZE()`: a value's size rounded up to 4.
fn xattr_value_len(size: usize) -> Option<usize> {
    size.checked_add(3).map(|s| s & !3)
}

/// One `struct ext4_xattr_entry` with its name and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct XattrEntry<'a> {
    pub e_name_len: u8,
    pub e_name_index: u8,
    pub e_value_offs: u16,
    pub e_value_inum: u32,
    pub e_value_size: u32,
    pub e_hash: u32,
    /// The stored name (without the index prefix).
    pub name: &'a [u8],
    /// Inline value; `None` when it lives in an EA inode.
    value: Option<&'a [u8]>,
}

impl<'a> XattrEntry<'a> {
    /// The value bytes; values stored in an EA inode (`ea_inode`) are
    /// `Unsupported`.
    pub fn value(&self) -> Result<&'a [u8]> {
        self.value.ok_or(Error::Unsupported("ea_inode"))
    }

    /// Whether the full user-visible name (prefix + stored name) equals `full`.
    pub fn name_matches(&self, full: &[u8]) -> bool {
        match name_prefix(self.e_name_index) {
            Some(prefix) => full
                .strip_prefix(prefix.as_bytes())
                .is_some_and(|rest| rest == self.name),
            None => false,
        }
    }
}

/// A validated xattr area (in-inode or block).
#[derive(Clone, Copy, Debug)]
pub struct XattrList<'a> {
    /// From the first entry to the end of the area.
    entries: &'a [u8],
    /// What `e_value_offs` is relative to: the first entry (in-inode) or the
    /// block start; extends to the end of the area.
    value_base: &'a [u8],
    ea_inode_feature: bool,
}

/// Validated `struct ext4_xattr_header` of an xattr block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct XattrHeader {
    pub h_magic: u32,
    pub h_refcount: u32,
    pub h_blocks: u32,
    pub h_hash: u32,
    pub h_checksum: u32,
}

impl<'a> XattrList<'a> {
    /// The in-inode area of a raw inode whose `i_extra_isize` is
    /// `extra_isize`. `Ok(None)` if the inode has no room for xattrs or no
    /// magic there (`EXT4_INODE_HAS_XATTR_SPACE()` and the magic test in
    /// `ext4_iget_extra_inode()`).
    pub fn parse_ibody(
        raw_inode: &'a [u8],
        geo: &Geometry,
        extra_isize: u16,
    ) -> Result<Option<Self>> {
        let inode_size = usize::from(geo.inode_size);
        let area = sub(raw_inode, 0, inode_size, "inode too short")?;
        let start = usize::from(EXT4_GOOD_OLD_INODE_SIZE).saturating_add(usize::from(extra_isize));
        // EXT4_INODE_HAS_XATTR_SPACE(): room for the magic and the
        // terminating entry, or ext4 does not look at the area at all.
        if extra_isize == 0 || start.saturating_add(EXT4_XATTR_IBODY_HEADER_SIZE + 4) > inode_size {
            return Ok(None);
        }
        if le32(area, start, "xattr ibody")? != EXT4_XATTR_MAGIC {
            return Ok(None);
        }
        let first = start.saturating_add(EXT4_XATTR_IBODY_HEADER_SIZE);
        let entries = area
            .get(first..)
            .ok_or(Error::Corrupt("in-inode xattr block too small"))?;
        let list = XattrList {
            entries,
            value_base: entries,
            ea_inode_feature: geo.has_incompat(EXT4_FEATURE_INCOMPAT_EA_INODE),
        };
        list.check(geo)?;
        Ok(Some(list))
    }

    /// An external xattr block: checks the header (`h_magic`, `h_blocks ==
    /// 1`) and the entries. The checksum is separate
    /// ([`ext4_xattr_block_csum_verify`]) because it needs the block number.
    pub fn parse_block(block: &'a [u8], geo: &Geometry) -> Result<(XattrHeader, Self)> {
        let header = XattrHeader {
            h_magic: le32(block, 0, "xattr header")?,
            h_refcount: le32(block, 4, "xattr header")?,
            h_blocks: le32(block, 8, "xattr header")?,
            h_hash: le32(block, 12, "xattr header")?,
            h_checksum: le32(block, H_CHECKSUM_OFFSET, "xattr header")?,
        };
        if header.h_magic != EXT4_XATTR_MAGIC || header.h_blocks != 1 {
            return Err(Error::Corrupt("xattr block: invalid header"));
        }
        let entries = block
            .get(EXT4_XATTR_HEADER_SIZE..)
            .filter(|e| e.len() >= 4)
            .ok_or(Error::Corrupt("xattr block too small"))?;
        let list = XattrList {
            entries,
            value_base: block,
            ea_inode_feature: geo.has_incompat(EXT4_FEATURE_INCOMPAT_EA_INODE),
        };
        list.check(geo)?;
        Ok((header, list))
    }

    /// `check_xattrs()`: names stay inside the area and contain no NUL;
    /// values are in bounds and do not overlap the entry table.
    fn check(&self, geo: &Geometry) -> Result<()> {
        let end = self.entries.len();
        let mut pos = 0usize;
        // First pass: find the end of the entry table.
        while !is_last_entry(self.entries, pos)? {
            let name_len = usize::from(u8_at(self.entries, pos, "xattr entry")?);
            let next = pos.saturating_add(xattr_entry_len(name_len));
            if next.saturating_add(4) > end {
                return Err(Error::Corrupt("xattr e_name out of bounds"));
            }
            let name = sub(
                self.entries,
                pos.saturating_add(EXT4_XATTR_ENTRY_SIZE),
                name_len,
                "xattr name",
            )?;
            if name.contains(&0) {
                return Err(Error::Corrupt("xattr bad e_name length"));
            }
            pos = next;
        }
        // Values must start past the terminating word of the table, in
        // value_base coordinates.
        let table_end_in_base = self
            .base_offset_of_entries()
            .saturating_add(pos)
            .saturating_add(4);
        let base_len = self.value_base.len();
        for entry in self.iter_raw() {
            let e = entry?;
            let size = e.e_value_size;
            if e.e_value_inum != 0 {
                if !self.ea_inode_feature {
                    return Err(Error::Corrupt(
                        "ea_inode specified without ea_inode feature enabled",
                    ));
                }
                if e.e_value_inum == super::inode::EXT4_ROOT_INO || !geo.valid_inum(e.e_value_inum)
                {
                    return Err(Error::Corrupt("invalid ea_ino"));
                }
                if size == 0 {
                    return Err(Error::Corrupt("invalid size in ea xattr"));
                }
            }
            if size > EXT4_XATTR_SIZE_MAX {
                return Err(Error::Corrupt("e_value size too large"));
            }
            if size != 0 && e.e_value_inum == 0 {
                let offs = usize::from(e.e_value_offs);
                let size = usize::try_from(size).map_err(|_| Error::Corrupt("e_value size"))?;
                if offs > base_len {
                    return Err(Error::Corrupt("e_value out of bounds"));
                }
                let room = base_len.saturating_sub(offs);
                let padded = xattr_value_len(size).ok_or(Error::Corrupt("e_value size"))?;
                if offs < table_end_in_base || size > room || padded > room {
                    return Err(Error::Corrupt("overlapping e_value"));
                }
            }
        }
        Ok(())
    }

    /// Offset of the entry table inside `value_base`.
    fn base_offset_of_entries(&self) -> usize {
        self.value_base.len().saturating_sub(self.entries.len())
    }

    fn iter_raw(&self) -> XattrIter<'a> {
        XattrIter {
            list: *self,
            pos: 0,
            done: false,
        }
    }

    /// The entries, in on-disk order.
    pub fn iter(&self) -> XattrIter<'a> {
        self.iter_raw()
    }

    /// Finds an attribute by index and stored name (`ext4_xattr_find_entry()`).
    pub fn find(&self, index: u8, name: &[u8]) -> Result<Option<XattrEntry<'a>>> {
        for e in self.iter() {
            let e = e?;
            if e.e_name_index == index && e.name == name {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }
}

fn is_last_entry(entries: &[u8], pos: usize) -> Result<bool> {
    Ok(le32(entries, pos, "xattr entry table not terminated")? == 0)
}

/// Iterator over the entries of an [`XattrList`].
#[derive(Clone, Debug)]
pub struct XattrIter<'a> {
    list: XattrList<'a>,
    pos: usize,
    done: bool,
}

impl<'a> XattrIter<'a> {
    fn decode(&self) -> Result<Option<XattrEntry<'a>>> {
        let b = self.list.entries;
        let pos = self.pos;
        if is_last_entry(b, pos)? {
            return Ok(None);
        }
        const W: &str = "xattr entry";
        let e_name_len = u8_at(b, pos, W)?;
        let e_value_offs = le16(b, pos.saturating_add(2), W)?;
        let e_value_inum = le32(b, pos.saturating_add(4), W)?;
        let e_value_size = le32(b, pos.saturating_add(8), W)?;
        let name = sub(
            b,
            pos.saturating_add(EXT4_XATTR_ENTRY_SIZE),
            usize::from(e_name_len),
            W,
        )?;
        let value = if e_value_inum != 0 {
            None
        } else if e_value_size == 0 {
            Some(&[][..])
        } else {
            let size = usize::try_from(e_value_size).map_err(|_| Error::Corrupt(W))?;
            Some(sub(
                self.list.value_base,
                usize::from(e_value_offs),
                size,
                "e_value out of bounds",
            )?)
        };
        Ok(Some(XattrEntry {
            e_name_len,
            e_name_index: u8_at(b, pos.saturating_add(1), W)?,
            e_value_offs,
            e_value_inum,
            e_value_size,
            e_hash: le32(b, pos.saturating_add(12), W)?,
            name,
            value,
        }))
    }
}

impl<'a> Iterator for XattrIter<'a> {
    type Item = Result<XattrEntry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.decode() {
            Ok(Some(e)) => {
                self.pos = self
                    .pos
                    .saturating_add(xattr_entry_len(usize::from(e.e_name_len)));
                Some(Ok(e))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(err) => {
                self.done = true;
                Some(Err(err))
            }
        }
    }
}

/// `ext4_xattr_block_csum()`: crc32c from the fs seed over the 64-bit block
/// number and the whole block with `h_checksum` taken as zero.
pub fn ext4_xattr_block_csum(block: &[u8], block_nr: u64, geo: &Geometry) -> Result<u32> {
    let mut csum = ext4_chksum(geo.csum_seed, &block_nr.to_le_bytes());
    csum = ext4_chksum(csum, sub(block, 0, H_CHECKSUM_OFFSET, "xattr header")?);
    csum = ext4_chksum(csum, &[0; 4]);
    let rest = block
        .get(H_CHECKSUM_OFFSET.saturating_add(4)..)
        .ok_or(Error::Corrupt("xattr header"))?;
    Ok(ext4_chksum(csum, rest))
}

/// `ext4_xattr_block_csum_verify()`: a no-op without `metadata_csum`.
pub fn ext4_xattr_block_csum_verify(block: &[u8], block_nr: u64, geo: &Geometry) -> Result<()> {
    if !geo.has_metadata_csum() {
        return Ok(());
    }
    let stored = le32(block, H_CHECKSUM_OFFSET, "xattr header")?;
    if ext4_xattr_block_csum(block, block_nr, geo)? != stored {
        return Err(Error::BadChecksum("xattr block"));
    }
    Ok(())
}
