// SPDX-License-Identifier: GPL-2.0

//! The rules an inode must pass before the kernel hands it out: every
//! refusal of `__ext4_iget()` and `check_igot_inode()` (`fs/ext4/inode.c`,
//! 7.3), in the order ext4 applies them, so the same damaged inode meets the
//! same outcome. [`validate`] takes the raw on-disk inode and the file
//! system's metadata zones and either returns the decoded [`Inode`] or the
//! [`Refusal`] ext4 would report; the module's `iget` and the host tests call
//! the same function. A size, count or pointer that passes here is one the
//! rest of rext4 may trust, and, once it writes, write back.

use core::fmt;

use super::error::Error;
use super::features::{
    EXT4_FEATURE_COMPAT_DIR_INDEX, EXT4_FEATURE_INCOMPAT_CASEFOLD, EXT4_FEATURE_RO_COMPAT_PROJECT,
};
use super::inode::{
    ext4_inode_csum_verify, FileType, Inode, EXT4_APPEND_FL, EXT4_BOOT_LOADER_INO,
    EXT4_CASEFOLD_FL, EXT4_EA_INODE_FL, EXT4_ENCRYPT_FL, EXT4_EXTENTS_FL, EXT4_IMMUTABLE_FL,
    EXT4_INDEX_FL, EXT4_INLINE_DATA_FL, EXT4_I_BLOCK_SIZE, EXT4_ROOT_INO,
};
use super::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE};
use super::system_zone::SystemZones;
use super::xattr::XattrList;
use super::{bytes::le16, extent::ExtentNode};

/// How an inode is asked for (`ext4_iget_flags`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IgetKind {
    /// By a name in a directory (`EXT4_IGET_NORMAL`): reserved, quota and
    /// orphan-file inodes are refused.
    Normal,
    /// By the file system itself, such as the root at mount
    /// (`EXT4_IGET_SPECIAL`).
    Special,
}

/// Why ext4 refuses an inode. [`fmt::Display`] gives ext4's message text;
/// [`Refusal::errno`] the error class the caller maps to an errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A number outside the table, or a reserved inode asked for by name.
    IllegalInum,
    /// `i_extra_isize` past the inode or not a multiple of 4.
    BadExtraIsize {
        /// The stored `i_extra_isize`.
        extra_isize: u16,
        /// The file system's inode size.
        inode_size: u16,
    },
    /// The inode checksum does not match.
    BadChecksum,
    /// Link count 0: deleted or never allocated (ext4's `-ESTALE`, which its
    /// lookup reports as "deleted inode referenced").
    Unallocated,
    /// Both `INLINE_DATA` and `EXTENTS` flags.
    InlineAndExtents,
    /// `i_size` negative as a `loff_t`, or past the inode's maximum bytes.
    BadSize(i64),
    /// An htree directory on a `metadata_csum` file system without
    /// `dir_index`.
    HtreeWithoutDirIndex,
    /// The in-inode xattr area is damaged.
    Xattr(&'static str),
    /// `i_file_acl` outside the file system or in its metadata.
    BadXattrBlock(u64),
    /// The block map in `i_block` (extent root or indirect pointers).
    BlockMap(Error),
    /// A symlink with the immutable or append flag.
    SymlinkFlags,
    /// A fast symlink whose size does not match its NUL-terminated target.
    FastSymlinkLength(u64),
    /// `i_mode` names no file type.
    BogusMode(u16),
    /// `CASEFOLD` flag without the `casefold` feature.
    CasefoldWithoutFeature,
    /// An encrypted inode with blocks larger than a page.
    EncryptedLargeBlock,
    /// The `EA_INODE` flag on an inode reached by name.
    UnexpectedEaInode,
    /// An inode rext4 cannot serve yet (its data is inline).
    Unsupported(&'static str),
    /// The inode could not be decoded at all.
    Decode(Error),
}

/// The error class of a [`Refusal`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalClass {
    /// `EFSCORRUPTED`.
    Corrupt,
    /// `EFSBADCRC`.
    BadChecksum,
    /// `EOPNOTSUPP`: not damage, a limit of rext4.
    Unsupported,
}

impl Refusal {
    /// The error class ext4 returns for this refusal (for
    /// [`Refusal::Unallocated`], what its callers turn `-ESTALE` into).
    pub fn errno(&self) -> RefusalClass {
        match self {
            Refusal::BadChecksum => RefusalClass::BadChecksum,
            Refusal::BlockMap(Error::BadChecksum(_)) | Refusal::Decode(Error::BadChecksum(_)) => {
                RefusalClass::BadChecksum
            }
            Refusal::Unsupported(_) => RefusalClass::Unsupported,
            _ => RefusalClass::Corrupt,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Refusal::IllegalInum => write!(f, "iget: illegal inode #"),
            Refusal::BadExtraIsize {
                extra_isize,
                inode_size,
            } => write!(
                f,
                "iget: bad extra_isize {extra_isize} (inode size {inode_size})"
            ),
            Refusal::BadChecksum => write!(f, "iget: checksum invalid"),
            Refusal::Unallocated => write!(f, "iget: inode unallocated (link count 0)"),
            Refusal::InlineAndExtents => {
                write!(f, "inode has both inline data and extents flags")
            }
            Refusal::BadSize(size) => write!(f, "iget: bad i_size value: {size}"),
            Refusal::HtreeWithoutDirIndex => write!(
                f,
                "iget: Dir with htree data on filesystem without dir_index feature."
            ),
            Refusal::Xattr(what) => write!(f, "corrupted in-inode xattr: {what}"),
            Refusal::BadXattrBlock(b) => write!(f, "iget: bad extended attribute block {b}"),
            Refusal::BlockMap(e) => write!(f, "iget: block map: {e}"),
            Refusal::SymlinkFlags => {
                write!(f, "iget: immutable or append flags not allowed on symlinks")
            }
            Refusal::FastSymlinkLength(size) => {
                write!(f, "invalid fast symlink length {size}")
            }
            Refusal::BogusMode(mode) => write!(f, "iget: bogus i_mode ({mode:o})"),
            Refusal::CasefoldWithoutFeature => {
                write!(f, "casefold flag without casefold feature")
            }
            Refusal::EncryptedLargeBlock => {
                write!(f, "encrypted inode with block size larger than page size")
            }
            Refusal::UnexpectedEaInode => write!(f, "unexpected EA_INODE flag"),
            Refusal::Unsupported(what) => write!(f, "unsupported: {what}"),
            Refusal::Decode(e) => write!(f, "iget: {e}"),
        }
    }
}

/// The inode-number rule of `__ext4_iget()`: 1 and numbers past
/// `s_inodes_count` are never inodes; by name, neither are the reserved
/// inodes below `s_first_ino` (but the root), the quota inodes and the
/// orphan file (`is_special_ino()`).
pub fn check_inum(geo: &Geometry, ino: u32, kind: IgetKind) -> Result<(), Refusal> {
    let special = (ino < geo.first_ino && ino != EXT4_ROOT_INO)
        || geo.special_inums.iter().any(|&s| s != 0 && s == ino);
    if (kind == IgetKind::Normal && special) || ino < EXT4_ROOT_INO || ino > geo.inodes_count {
        return Err(Refusal::IllegalInum);
    }
    Ok(())
}

/// Checks on-disk inode `ino` (`raw`: its `inode_size` bytes) the way
/// `__ext4_iget()` does, in ext4's order, and decodes it. `zones` are the
/// metadata blocks no inode may map (`block_validity`); `page_size` is the
/// kernel's. Checks that need more than the inode (a directory's blocks, the
/// xattr block's contents) stay with the readers that load them, as in ext4.
pub fn validate(
    raw: &[u8],
    geo: &Geometry,
    zones: SystemZones<'_>,
    ino: u32,
    kind: IgetKind,
    page_size: u32,
) -> Result<Inode, Refusal> {
    check_inum(geo, ino, kind)?;
    if geo.inode_size > EXT4_GOOD_OLD_INODE_SIZE {
        let extra_isize = le16(raw, 0x80, "inode too short").map_err(Refusal::Decode)?;
        let end = u32::from(EXT4_GOOD_OLD_INODE_SIZE).saturating_add(u32::from(extra_isize));
        if end > u32::from(geo.inode_size) || extra_isize & 3 != 0 {
            return Err(Refusal::BadExtraIsize {
                extra_isize,
                inode_size: geo.inode_size,
            });
        }
    }
    ext4_inode_csum_verify(raw, geo, ino).map_err(|e| match e {
        Error::BadChecksum(_) => Refusal::BadChecksum,
        e => Refusal::Decode(e),
    })?;
    let inode = Inode::parse(raw, geo).map_err(Refusal::Decode)?;

    // Only orphan processing may see an inode with no links (rext4 has none
    // yet), and the boot loader inode is never reached by name.
    if inode.i_links_count == 0 && ino != EXT4_BOOT_LOADER_INO {
        return Err(Refusal::Unallocated);
    }
    if inode.has_flag(EXT4_INLINE_DATA_FL) && inode.has_flag(EXT4_EXTENTS_FL) {
        return Err(Refusal::InlineAndExtents);
    }
    let size = inode.i_size(geo);
    let max = if inode.has_flag(EXT4_EXTENTS_FL) {
        geo.max_bytes()
    } else {
        geo.bitmap_max_bytes()
    };
    if size < 0 || size > max {
        return Err(Refusal::BadSize(size));
    }
    if !geo.has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX)
        && geo.has_metadata_csum()
        && inode.has_flag(EXT4_INDEX_FL)
    {
        return Err(Refusal::HtreeWithoutDirIndex);
    }
    // ext4_iget_extra_inode(): with room for xattrs and their magic there,
    // the in-inode entries must pass check_xattrs().
    if inode.i_extra_isize != 0 {
        XattrList::parse_ibody(raw, geo, inode.i_extra_isize).map_err(|e| match e {
            Error::Corrupt(what) => Refusal::Xattr(what),
            e => Refusal::Decode(e),
        })?;
    }

    let file_acl = inode.file_acl(geo);
    if file_acl != 0 && zones.check(geo, file_acl, 1, ino).is_err() {
        return Err(Refusal::BadXattrBlock(file_acl));
    }
    let ftype = FileType::from_mode(inode.i_mode);
    let is_fast_symlink = inode.is_fast_symlink(geo);
    if !inode.has_flag(EXT4_INLINE_DATA_FL) {
        let maps_blocks = match ftype {
            Ok(FileType::Regular | FileType::Directory) => true,
            Ok(FileType::Symlink) => !is_fast_symlink,
            _ => false,
        };
        if maps_blocks {
            check_block_map(&inode, geo, zones, ino).map_err(Refusal::BlockMap)?;
        }
    }

    match ftype {
        Ok(FileType::Symlink) => {
            if inode.has_flag(EXT4_IMMUTABLE_FL) || inode.has_flag(EXT4_APPEND_FL) {
                return Err(Refusal::SymlinkFlags);
            }
            if !inode.has_flag(EXT4_ENCRYPT_FL) && is_fast_symlink {
                check_fast_symlink(&inode, size)?;
            }
        }
        Ok(_) => {}
        // The boot loader inode is made a bad inode, never served by name.
        Err(_) if ino == EXT4_BOOT_LOADER_INO => {}
        Err(_) => return Err(Refusal::BogusMode(inode.i_mode)),
    }
    if inode.has_flag(EXT4_CASEFOLD_FL) && !geo.has_incompat(EXT4_FEATURE_INCOMPAT_CASEFOLD) {
        return Err(Refusal::CasefoldWithoutFeature);
    }
    if inode.has_flag(EXT4_ENCRYPT_FL) && geo.block_size > page_size {
        return Err(Refusal::EncryptedLargeBlock);
    }
    // check_igot_inode(): ea_inodes are only reached through an xattr.
    if inode.has_flag(EXT4_EA_INODE_FL) {
        return Err(Refusal::UnexpectedEaInode);
    }
    if inode.has_flag(EXT4_INLINE_DATA_FL) {
        return Err(Refusal::Unsupported("inline_data"));
    }
    Ok(inode)
}

/// The project id `__ext4_iget()` reads: 0 without the `project` feature or
/// when the inode has no room for it.
pub fn projid(inode: &Inode, geo: &Geometry) -> u32 {
    if geo.has_ro_compat(EXT4_FEATURE_RO_COMPAT_PROJECT) {
        inode.i_projid.unwrap_or(0)
    } else {
        0
    }
}

/// `ext4_ext_check_inode()` / `ext4_ind_check_inode()`: the extent root in
/// `i_block` parses (header, counts, sorted entries, at most 32 levels) and,
/// like the direct block pointers of an indirect map, points inside the file
/// system and at no metadata.
fn check_block_map(
    inode: &Inode,
    geo: &Geometry,
    zones: SystemZones<'_>,
    ino: u32,
) -> Result<(), Error> {
    if inode.has_flag(EXT4_EXTENTS_FL) {
        let root = ExtentNode::parse_root_at_iget(&inode.i_block, geo)?;
        return zones.check_node(geo, &root, ino);
    }
    // Only the twelve direct pointers (EXT4_NDIR_BLOCKS): the indirect
    // ones are checked when a read reaches them.
    let direct = inode
        .i_block
        .get(..12 * 4)
        .ok_or(Error::Corrupt("i_block"))?;
    zones.check_block_refs(geo, direct, ino)
}

/// A fast symlink's size is that of its target: not 0, shorter than
/// `i_block`, and the target is NUL-terminated right there (ext4's
/// `strnlen(i_data, i_size + 1) == i_size`).
fn check_fast_symlink(inode: &Inode, size: i64) -> Result<(), Refusal> {
    let bad = Refusal::FastSymlinkLength(size as u64);
    let len = usize::try_from(size).map_err(|_| bad)?;
    if len == 0 || len >= EXT4_I_BLOCK_SIZE {
        return Err(bad);
    }
    let nul = inode.i_block.iter().position(|&b| b == 0);
    if nul != Some(len) {
        return Err(bad);
    }
    Ok(())
}
