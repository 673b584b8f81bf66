// SPDX-License-Identifier: GPL-2.0

//! The on-disk inode (`struct ext4_inode`): 128 bytes of base fields plus, in
//! larger inodes, `i_extra_isize` bytes of extended fields (checksum high half,
//! nanosecond timestamps, creation time, version, project). The extended fields
//! are only decoded when `i_extra_isize` covers them, mirroring
//! `EXT4_FITS_IN_INODE()`; the rest of the inode body after them holds
//! in-inode xattrs (see [`super::xattr`]). This file also holds the
//! inode-level rules the kernel applies on `iget`: checksum, 64-bit size,
//! huge_file block counts, device number encodings and fast symlinks.

use super::bytes::{array, le16, le32, lo_hi, put_le16, put_le32, sub};
use super::crc::ext4_chksum;
use super::error::{Error, Result};
use super::features::{
    EXT4_FEATURE_INCOMPAT_64BIT, EXT4_FEATURE_INCOMPAT_EA_INODE, EXT4_FEATURE_INCOMPAT_LARGEDIR,
    EXT4_FEATURE_RO_COMPAT_HUGE_FILE,
};
use super::superblock::{Geometry, EXT4_GOOD_OLD_INODE_SIZE, EXT4_OS_LINUX};

/// Bad blocks inode.
pub const EXT4_BAD_INO: u32 = 1;
/// Root directory.
pub const EXT4_ROOT_INO: u32 = 2;
/// User quota.
pub const EXT4_USR_QUOTA_INO: u32 = 3;
/// Group quota.
pub const EXT4_GRP_QUOTA_INO: u32 = 4;
/// Boot loader.
pub const EXT4_BOOT_LOADER_INO: u32 = 5;
/// Undelete directory.
pub const EXT4_UNDEL_DIR_INO: u32 = 6;
/// Reserved GDT blocks (resize inode).
pub const EXT4_RESIZE_INO: u32 = 7;
/// Journal.
pub const EXT4_JOURNAL_INO: u32 = 8;

/// Number of `i_block` words.
pub const EXT4_N_BLOCKS: usize = 15;
/// Size of `i_block` in bytes.
pub const EXT4_I_BLOCK_SIZE: usize = 60;

/// Secure deletion.
pub const EXT4_SECRM_FL: u32 = 0x0000_0001;
/// Undelete.
pub const EXT4_UNRM_FL: u32 = 0x0000_0002;
/// Compressed file.
pub const EXT4_COMPR_FL: u32 = 0x0000_0004;
/// Synchronous updates.
pub const EXT4_SYNC_FL: u32 = 0x0000_0008;
/// Immutable file.
pub const EXT4_IMMUTABLE_FL: u32 = 0x0000_0010;
/// Append only.
pub const EXT4_APPEND_FL: u32 = 0x0000_0020;
/// Do not dump.
pub const EXT4_NODUMP_FL: u32 = 0x0000_0040;
/// Do not update atime.
pub const EXT4_NOATIME_FL: u32 = 0x0000_0080;
/// Compression: dirty (unused by ext4, still shown).
pub const EXT4_DIRTY_FL: u32 = 0x0000_0100;
/// Compression: one or more compressed clusters.
pub const EXT4_COMPRBLK_FL: u32 = 0x0000_0200;
/// Compression: do not compress.
pub const EXT4_NOCOMPR_FL: u32 = 0x0000_0400;
/// Encrypted inode.
pub const EXT4_ENCRYPT_FL: u32 = 0x0000_0800;
/// Hash-indexed directory.
pub const EXT4_INDEX_FL: u32 = 0x0000_1000;
/// AFS directory.
pub const EXT4_IMAGIC_FL: u32 = 0x0000_2000;
/// Journal file data.
pub const EXT4_JOURNAL_DATA_FL: u32 = 0x0000_4000;
/// No tail merging.
pub const EXT4_NOTAIL_FL: u32 = 0x0000_8000;
/// Synchronous directory updates.
pub const EXT4_DIRSYNC_FL: u32 = 0x0001_0000;
/// Top of directory hierarchy.
pub const EXT4_TOPDIR_FL: u32 = 0x0002_0000;
/// `i_blocks` counts file system blocks, not sectors.
pub const EXT4_HUGE_FILE_FL: u32 = 0x0004_0000;
/// `i_block` holds an extent tree.
pub const EXT4_EXTENTS_FL: u32 = 0x0008_0000;
/// fs-verity.
pub const EXT4_VERITY_FL: u32 = 0x0010_0000;
/// Inode holds a large xattr value.
pub const EXT4_EA_INODE_FL: u32 = 0x0020_0000;
/// DAX.
pub const EXT4_DAX_FL: u32 = 0x0200_0000;
/// Data stored inline in the inode.
pub const EXT4_INLINE_DATA_FL: u32 = 0x1000_0000;
/// Project id inheritance.
pub const EXT4_PROJINHERIT_FL: u32 = 0x2000_0000;
/// Case-insensitive directory.
pub const EXT4_CASEFOLD_FL: u32 = 0x4000_0000;
/// Formerly `EXT4_EOFBLOCKS_FL`, still user-modifiable.
const EXT4_EOFBLOCKS_FL: u32 = 0x0040_0000;

/// `EXT4_FL_USER_MODIFIABLE`.
pub const EXT4_FL_USER_MODIFIABLE: u32 = EXT4_SECRM_FL
    | EXT4_UNRM_FL
    | EXT4_COMPR_FL
    | EXT4_SYNC_FL
    | EXT4_IMMUTABLE_FL
    | EXT4_APPEND_FL
    | EXT4_NODUMP_FL
    | EXT4_NOATIME_FL
    | EXT4_JOURNAL_DATA_FL
    | EXT4_NOTAIL_FL
    | EXT4_DIRSYNC_FL
    | EXT4_TOPDIR_FL
    | EXT4_EXTENTS_FL
    | EXT4_EOFBLOCKS_FL
    | EXT4_DAX_FL
    | EXT4_PROJINHERIT_FL
    | EXT4_CASEFOLD_FL;

/// `EXT4_FL_USER_VISIBLE`: the flags `FS_IOC_GETFLAGS` (lsattr) shows.
pub const EXT4_FL_USER_VISIBLE: u32 = EXT4_FL_USER_MODIFIABLE
    | EXT4_DIRTY_FL
    | EXT4_COMPRBLK_FL
    | EXT4_NOCOMPR_FL
    | EXT4_ENCRYPT_FL
    | EXT4_INDEX_FL
    | EXT4_VERITY_FL
    | EXT4_INLINE_DATA_FL;

/// `S_IFMT`.
pub const S_IFMT: u16 = 0o170000;
/// Socket.
pub const S_IFSOCK: u16 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u16 = 0o120000;
/// Regular file.
pub const S_IFREG: u16 = 0o100000;
/// Block device.
pub const S_IFBLK: u16 = 0o060000;
/// Directory.
pub const S_IFDIR: u16 = 0o040000;
/// Character device.
pub const S_IFCHR: u16 = 0o020000;
/// FIFO.
pub const S_IFIFO: u16 = 0o010000;

const I_CHECKSUM_LO_OFFSET: usize = 0x7C;
/// `sizeof(struct ext4_inode) - EXT4_GOOD_OLD_INODE_SIZE`.
const EXT4_KNOWN_EXTRA_ISIZE: u16 = 32;
const I_EXTRA_ISIZE_OFFSET: usize = 0x80;
const I_CHECKSUM_HI_OFFSET: usize = 0x82;
/// `EXT4_EPOCH_MASK`: the two low bits of an `_extra` time word.
const EXT4_EPOCH_MASK: u32 = 3;

/// File type from the `S_IFMT` bits of `i_mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// Regular file.
    Regular,
    /// Directory.
    Directory,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// FIFO.
    Fifo,
    /// Socket.
    Socket,
    /// Symbolic link.
    Symlink,
}

impl FileType {
    /// Decodes the type bits of a mode; anything else is corruption.
    pub fn from_mode(mode: u16) -> Result<FileType> {
        Ok(match mode & S_IFMT {
            S_IFREG => FileType::Regular,
            S_IFDIR => FileType::Directory,
            S_IFCHR => FileType::CharDevice,
            S_IFBLK => FileType::BlockDevice,
            S_IFIFO => FileType::Fifo,
            S_IFSOCK => FileType::Socket,
            S_IFLNK => FileType::Symlink,
            _ => return Err(Error::Corrupt("i_mode file type")),
        })
    }
}

/// A decoded timestamp (`struct timespec64`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    /// Seconds since the epoch (may be negative).
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: u32,
}

impl Timestamp {
    /// `ext4_decode_extra_time()`: the base is a signed 32-bit time; the two
    /// epoch bits of `extra` add multiples of 2^32 seconds, the other 30
    /// bits are nanoseconds. Without `extra` only the base is used.
    pub fn decode(base: u32, extra: Option<u32>) -> Timestamp {
        // The base field is a signed 32-bit quantity on disk.
        let mut sec = i64::from(base as i32);
        let mut nsec = 0;
        if let Some(extra) = extra {
            sec = sec.wrapping_add(i64::from(extra & EXT4_EPOCH_MASK) << 32);
            nsec = extra >> 2;
        }
        Timestamp { sec, nsec }
    }
}

/// Major and minor device numbers of a special file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceNumber {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

/// A decoded inode. Base fields always exist; extended fields are `None` when
/// `i_extra_isize` does not reach them. Field names are the C names (`l_i_*`
/// for the Linux members of the `osd1`/`osd2` unions).
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Every field is the identically named C field.
pub struct Inode {
    pub i_mode: u16,
    pub i_uid: u16,
    pub i_size_lo: u32,
    pub i_atime: u32,
    pub i_ctime: u32,
    pub i_mtime: u32,
    pub i_dtime: u32,
    pub i_gid: u16,
    pub i_links_count: u16,
    pub i_blocks_lo: u32,
    pub i_flags: u32,
    pub l_i_version: u32,
    /// Raw `i_block`: block map, extent tree root, symlink target or device.
    pub i_block: [u8; EXT4_I_BLOCK_SIZE],
    pub i_generation: u32,
    pub i_file_acl_lo: u32,
    pub i_size_high: u32,
    pub i_obso_faddr: u32,
    pub l_i_blocks_high: u16,
    pub l_i_file_acl_high: u16,
    pub l_i_uid_high: u16,
    pub l_i_gid_high: u16,
    pub l_i_checksum_lo: u16,
    /// 0 for 128-byte inodes.
    pub i_extra_isize: u16,
    pub i_checksum_hi: Option<u16>,
    pub i_ctime_extra: Option<u32>,
    pub i_mtime_extra: Option<u32>,
    pub i_atime_extra: Option<u32>,
    pub i_crtime: Option<u32>,
    pub i_crtime_extra: Option<u32>,
    pub i_version_hi: Option<u32>,
    pub i_projid: Option<u32>,
}

const W: &str = "inode too short";

impl Inode {
    /// Decodes one inode from the first `geo.inode_size` bytes of `raw`.
    /// Checks `i_extra_isize` (4-aligned, inside the inode), without which
    /// nothing past the base fields can be located. The checksum and the
    /// rest of `__ext4_iget()`'s rules are separate:
    /// [`ext4_inode_csum_verify`], [`super::iget::validate`].
    pub fn parse(raw: &[u8], geo: &Geometry) -> Result<Inode> {
        let inode_size = usize::from(geo.inode_size);
        let b = sub(raw, 0, inode_size, W)?;
        let i_extra_isize = if geo.inode_size > EXT4_GOOD_OLD_INODE_SIZE {
            let extra = le16(b, I_EXTRA_ISIZE_OFFSET, W)?;
            let end = usize::from(EXT4_GOOD_OLD_INODE_SIZE).saturating_add(usize::from(extra));
            if end > inode_size || extra & 3 != 0 {
                return Err(Error::Corrupt("i_extra_isize"));
            }
            extra
        } else {
            0
        };
        // A large inode with i_extra_isize 0 is read as if it were 32, the
        // size of the fields ext4 knows (__ext4_iget() sets it so before
        // decoding times, crtime and i_version_hi); xattrs still see 0.
        let decoded_isize = match (geo.inode_size > EXT4_GOOD_OLD_INODE_SIZE, i_extra_isize) {
            (true, 0) => {
                EXT4_KNOWN_EXTRA_ISIZE.min(geo.inode_size.saturating_sub(EXT4_GOOD_OLD_INODE_SIZE))
            }
            _ => i_extra_isize,
        };
        let fits_end =
            usize::from(EXT4_GOOD_OLD_INODE_SIZE).saturating_add(usize::from(decoded_isize));
        // EXT4_FITS_IN_INODE(): a field is present if it ends inside the
        // extended area that i_extra_isize declares.
        let extra16 = |off: usize| -> Result<Option<u16>> {
            if off.saturating_add(2) <= fits_end {
                le16(b, off, W).map(Some)
            } else {
                Ok(None)
            }
        };
        let extra32 = |off: usize| -> Result<Option<u32>> {
            if off.saturating_add(4) <= fits_end {
                le32(b, off, W).map(Some)
            } else {
                Ok(None)
            }
        };
        let inode = Inode {
            i_mode: le16(b, 0x00, W)?,
            i_uid: le16(b, 0x02, W)?,
            i_size_lo: le32(b, 0x04, W)?,
            i_atime: le32(b, 0x08, W)?,
            i_ctime: le32(b, 0x0C, W)?,
            i_mtime: le32(b, 0x10, W)?,
            i_dtime: le32(b, 0x14, W)?,
            i_gid: le16(b, 0x18, W)?,
            i_links_count: le16(b, 0x1A, W)?,
            i_blocks_lo: le32(b, 0x1C, W)?,
            i_flags: le32(b, 0x20, W)?,
            l_i_version: le32(b, 0x24, W)?,
            i_block: array(b, 0x28, W)?,
            i_generation: le32(b, 0x64, W)?,
            i_file_acl_lo: le32(b, 0x68, W)?,
            i_size_high: le32(b, 0x6C, W)?,
            i_obso_faddr: le32(b, 0x70, W)?,
            l_i_blocks_high: le16(b, 0x74, W)?,
            l_i_file_acl_high: le16(b, 0x76, W)?,
            l_i_uid_high: le16(b, 0x78, W)?,
            l_i_gid_high: le16(b, 0x7A, W)?,
            l_i_checksum_lo: le16(b, I_CHECKSUM_LO_OFFSET, W)?,
            i_extra_isize,
            // The checksum is verified before ext4 widens i_extra_isize: its
            // high half exists only if the stored i_extra_isize covers it.
            i_checksum_hi: match i_extra_isize {
                0 => None,
                _ => extra16(I_CHECKSUM_HI_OFFSET)?,
            },
            i_ctime_extra: extra32(0x84)?,
            i_mtime_extra: extra32(0x88)?,
            i_atime_extra: extra32(0x8C)?,
            i_crtime: extra32(0x90)?,
            i_crtime_extra: extra32(0x94)?,
            i_version_hi: extra32(0x98)?,
            i_projid: extra32(0x9C)?,
        };
        Ok(inode)
    }

    /// Whether an `i_flags` bit is set.
    pub fn has_flag(&self, flag: u32) -> bool {
        self.i_flags & flag != 0
    }

    /// File type of `i_mode`.
    pub fn file_type(&self) -> Result<FileType> {
        FileType::from_mode(self.i_mode)
    }

    /// Permission and set-id bits of `i_mode`.
    pub fn permissions(&self) -> u16 {
        self.i_mode & !S_IFMT
    }

    /// 32-bit owner (`i_uid | l_i_uid_high << 16`).
    pub fn uid(&self) -> u32 {
        (u32::from(self.l_i_uid_high) << 16) | u32::from(self.i_uid)
    }

    /// 32-bit group.
    pub fn gid(&self) -> u32 {
        (u32::from(self.l_i_gid_high) << 16) | u32::from(self.i_gid)
    }

    /// `ext4_isize()`: `i_size_high` counts for regular files and, with
    /// `large_dir`, for everything else. Sizes that do not fit `loff_t` are
    /// corruption.
    pub fn size(&self, geo: &Geometry) -> Result<u64> {
        u64::try_from(self.i_size(geo)).map_err(|_| Error::Corrupt("i_size"))
    }

    /// `ext4_isize()` as the kernel's `loff_t`: negative when the stored
    /// 64-bit size has its top bit set.
    pub fn i_size(&self, geo: &Geometry) -> i64 {
        let is_reg = self.i_mode & S_IFMT == S_IFREG;
        let size = if is_reg || geo.has_incompat(EXT4_FEATURE_INCOMPAT_LARGEDIR) {
            lo_hi(self.i_size_lo, self.i_size_high)
        } else {
            u64::from(self.i_size_lo)
        };
        i64::from_ne_bytes(size.to_ne_bytes())
    }

    /// `ext4_inode_blocks()`: the block count in 512-byte units. With
    /// `huge_file`, `i_blocks_high` extends it to 48 bits and
    /// `EXT4_HUGE_FILE_FL` means it counts file system blocks.
    pub fn blocks(&self, geo: &Geometry) -> u64 {
        if !geo.has_ro_compat(EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
            return u64::from(self.i_blocks_lo);
        }
        let blocks = lo_hi(self.i_blocks_lo, u32::from(self.l_i_blocks_high));
        if self.has_flag(EXT4_HUGE_FILE_FL) {
            // At most 48 bits shifted by at most 7: cannot overflow.
            blocks << geo.log_block_size.saturating_sub(9)
        } else {
            blocks
        }
    }

    /// Extended attribute block (`i_file_acl`); the high half only with `64bit`.
    pub fn file_acl(&self, geo: &Geometry) -> u64 {
        if geo.has_incompat(EXT4_FEATURE_INCOMPAT_64BIT) {
            lo_hi(self.i_file_acl_lo, u32::from(self.l_i_file_acl_high))
        } else {
            u64::from(self.i_file_acl_lo)
        }
    }

    /// Access time.
    pub fn atime(&self) -> Timestamp {
        Timestamp::decode(self.i_atime, self.i_atime_extra)
    }

    /// Inode change time.
    pub fn ctime(&self) -> Timestamp {
        Timestamp::decode(self.i_ctime, self.i_ctime_extra)
    }

    /// Modification time.
    pub fn mtime(&self) -> Timestamp {
        Timestamp::decode(self.i_mtime, self.i_mtime_extra)
    }

    /// Creation time, if the inode has room for it.
    pub fn crtime(&self) -> Option<Timestamp> {
        self.i_crtime
            .map(|base| Timestamp::decode(base, self.i_crtime_extra))
    }

    /// 64-bit `i_version` (`l_i_version | i_version_hi << 32`).
    pub fn version(&self) -> u64 {
        lo_hi(self.l_i_version, self.i_version_hi.unwrap_or(0))
    }

    /// `i_block` word `n` (a block number in block-mapped files).
    pub fn i_block_word(&self, n: usize) -> Result<u32> {
        le32(
            &self.i_block,
            n.checked_mul(4).ok_or(Error::OutOfRange("i_block"))?,
            "i_block",
        )
    }

    /// Device number of a character or block special file, from `i_block`:
    /// the old 8:8 encoding in word 0 if non-zero, else the new 12:20 one in
    /// word 1 (`old_decode_dev()`/`new_decode_dev()`).
    pub fn device_number(&self) -> Result<DeviceNumber> {
        let old = self.i_block_word(0)?;
        if old != 0 {
            return Ok(DeviceNumber {
                major: (old >> 8) & 0xff,
                minor: old & 0xff,
            });
        }
        let new = self.i_block_word(1)?;
        Ok(DeviceNumber {
            major: (new & 0xfff00) >> 8,
            minor: (new & 0xff) | ((new >> 12) & 0xfff00),
        })
    }

    /// `ext4_inode_is_fast_symlink()`: a symlink whose target lives in
    /// `i_block`. Without `ea_inode`, that is one that owns no blocks except
    /// possibly its xattr block; with it, one shorter than `i_block`.
    pub fn is_fast_symlink(&self, geo: &Geometry) -> bool {
        if self.i_mode & S_IFMT != S_IFLNK {
            return false;
        }
        let size = u64::from(self.i_size_lo);
        if geo.has_incompat(EXT4_FEATURE_INCOMPAT_EA_INODE) {
            return size != 0 && size < EXT4_I_BLOCK_SIZE as u64;
        }
        if self.has_flag(EXT4_INLINE_DATA_FL) {
            return false;
        }
        let ea_blocks = if self.file_acl(geo) != 0 {
            u64::from(geo.block_size >> 9)
        } else {
            0
        };
        self.blocks(geo) == ea_blocks
    }

    /// Target of a fast symlink: the first `i_size` bytes of `i_block`.
    pub fn fast_symlink_target(&self, geo: &Geometry) -> Result<&[u8]> {
        let size = self.size(geo)?;
        let len = usize::try_from(size).map_err(|_| Error::Corrupt("symlink size"))?;
        if len >= EXT4_I_BLOCK_SIZE {
            return Err(Error::Corrupt("fast symlink size"));
        }
        let target = sub(&self.i_block, 0, len, "fast symlink size")?;
        if target.contains(&0) {
            return Err(Error::Corrupt("fast symlink contains NUL"));
        }
        Ok(target)
    }
}

impl Inode {
    /// Stores the inode into the first `geo.inode_size` bytes of `raw` (the
    /// encoder of [`Inode::parse`]): the base fields, and each extended
    /// field that is present (`Some`); the bytes after them (in-inode
    /// xattrs) are left as they are. The checksum fields are stored as
    /// held: recompute them with [`ext4_inode_csum_set`] after a change.
    pub fn encode(&self, raw: &mut [u8], geo: &Geometry) -> Result<()> {
        let inode_size = usize::from(geo.inode_size);
        let b = raw.get_mut(..inode_size).ok_or(Error::Corrupt(W))?;
        let p16 = |b: &mut [u8], off, v| put_le16(b, off, v, W);
        let p32 = |b: &mut [u8], off, v| put_le32(b, off, v, W);
        p16(b, 0x00, self.i_mode)?;
        p16(b, 0x02, self.i_uid)?;
        p32(b, 0x04, self.i_size_lo)?;
        p32(b, 0x08, self.i_atime)?;
        p32(b, 0x0C, self.i_ctime)?;
        p32(b, 0x10, self.i_mtime)?;
        p32(b, 0x14, self.i_dtime)?;
        p16(b, 0x18, self.i_gid)?;
        p16(b, 0x1A, self.i_links_count)?;
        p32(b, 0x1C, self.i_blocks_lo)?;
        p32(b, 0x20, self.i_flags)?;
        p32(b, 0x24, self.l_i_version)?;
        b.get_mut(0x28..0x28 + EXT4_I_BLOCK_SIZE)
            .ok_or(Error::Corrupt(W))?
            .copy_from_slice(&self.i_block);
        p32(b, 0x64, self.i_generation)?;
        p32(b, 0x68, self.i_file_acl_lo)?;
        p32(b, 0x6C, self.i_size_high)?;
        p32(b, 0x70, self.i_obso_faddr)?;
        p16(b, 0x74, self.l_i_blocks_high)?;
        p16(b, 0x76, self.l_i_file_acl_high)?;
        p16(b, 0x78, self.l_i_uid_high)?;
        p16(b, 0x7A, self.l_i_gid_high)?;
        p16(b, I_CHECKSUM_LO_OFFSET, self.l_i_checksum_lo)?;
        if geo.inode_size > EXT4_GOOD_OLD_INODE_SIZE {
            p16(b, I_EXTRA_ISIZE_OFFSET, self.i_extra_isize)?;
        }
        let extra16 = [(I_CHECKSUM_HI_OFFSET, self.i_checksum_hi)];
        for (off, v) in extra16 {
            if let Some(v) = v {
                p16(b, off, v)?;
            }
        }
        let extra32 = [
            (0x84, self.i_ctime_extra),
            (0x88, self.i_mtime_extra),
            (0x8C, self.i_atime_extra),
            (0x90, self.i_crtime),
            (0x94, self.i_crtime_extra),
            (0x98, self.i_version_hi),
            (0x9C, self.i_projid),
        ];
        for (off, v) in extra32 {
            if let Some(v) = v {
                p32(b, off, v)?;
            }
        }
        Ok(())
    }
}

/// `ext4_inode_csum_set()`: stores the checksum of inode `ino` (`raw`, as
/// encoded) into `i_checksum_lo` and, where the inode has it,
/// `i_checksum_hi`; a no-op without `metadata_csum` or for non-Linux
/// creators, as in the kernel.
pub fn ext4_inode_csum_set(raw: &mut [u8], geo: &Geometry, ino: u32) -> Result<()> {
    if geo.creator_os != EXT4_OS_LINUX || !geo.has_metadata_csum() {
        return Ok(());
    }
    let inode = Inode::parse(raw, geo)?;
    let seed = super::crc::ext4_inode_csum_seed(geo.csum_seed, ino, inode.i_generation);
    let csum = ext4_inode_csum(raw, geo, inode.i_extra_isize, seed)?;
    put_le16(raw, I_CHECKSUM_LO_OFFSET, (csum & 0xFFFF) as u16, W)?;
    if inode.i_checksum_hi.is_some() {
        put_le16(raw, I_CHECKSUM_HI_OFFSET, (csum >> 16) as u16, W)?;
    }
    Ok(())
}

/// The inode checksum (`ext4_inode_csum()`) over the first `geo.inode_size`
/// bytes of `raw`, with `i_checksum_lo` and (if present) `i_checksum_hi`
/// taken as zero. `seed` is the per-inode seed
/// ([`super::crc::ext4_inode_csum_seed`]).
pub fn ext4_inode_csum(raw: &[u8], geo: &Geometry, extra_isize: u16, seed: u32) -> Result<u32> {
    let inode_size = usize::from(geo.inode_size);
    let b = sub(raw, 0, inode_size, W)?;
    let old = usize::from(EXT4_GOOD_OLD_INODE_SIZE);
    let mut csum = ext4_chksum(seed, sub(b, 0, I_CHECKSUM_LO_OFFSET, W)?);
    csum = ext4_chksum(csum, &[0, 0]);
    csum = ext4_chksum(
        csum,
        sub(
            b,
            I_CHECKSUM_LO_OFFSET + 2,
            old.saturating_sub(I_CHECKSUM_LO_OFFSET + 2),
            W,
        )?,
    );
    if inode_size > old {
        csum = ext4_chksum(
            csum,
            sub(b, old, I_CHECKSUM_HI_OFFSET.saturating_sub(old), W)?,
        );
        let mut offset = I_CHECKSUM_HI_OFFSET;
        if old.saturating_add(usize::from(extra_isize)) >= I_CHECKSUM_HI_OFFSET + 2 {
            csum = ext4_chksum(csum, &[0, 0]);
            offset = I_CHECKSUM_HI_OFFSET + 2;
        }
        csum = ext4_chksum(csum, b.get(offset..).unwrap_or(&[]));
    }
    Ok(csum)
}

/// `ext4_inode_csum_verify()`: a no-op without `metadata_csum` or for
/// non-Linux creators; otherwise compares the stored checksum (16 bits in a
/// 128-byte inode or when `i_checksum_hi` is absent, else 32) with the
/// computed one seeded by the fs seed, the inode number and `i_generation`.
pub fn ext4_inode_csum_verify(raw: &[u8], geo: &Geometry, ino: u32) -> Result<()> {
    if geo.creator_os != EXT4_OS_LINUX || !geo.has_metadata_csum() {
        return Ok(());
    }
    let inode = Inode::parse(raw, geo)?;
    let seed = super::crc::ext4_inode_csum_seed(geo.csum_seed, ino, inode.i_generation);
    let calculated = ext4_inode_csum(raw, geo, inode.i_extra_isize, seed)?;
    let (provided, calculated) = match inode.i_checksum_hi {
        Some(hi) => (
            (u32::from(hi) << 16) | u32::from(inode.l_i_checksum_lo),
            calculated,
        ),
        None => (u32::from(inode.l_i_checksum_lo), calculated & 0xFFFF),
    };
    if provided != calculated {
        return Err(Error::BadChecksum("inode"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_time_epochs() {
        // Table in fs/ext4/ext4.h: epoch bits 00 keep the signed 32-bit range.
        assert_eq!(Timestamp::decode(0xFFFF_FFFF, Some(0)).sec, -1);
        assert_eq!(Timestamp::decode(0x8000_0000, Some(1)).sec, 0x8000_0000);
        assert_eq!(Timestamp::decode(0x0000_0000, Some(1)).sec, 0x1_0000_0000);
        assert_eq!(Timestamp::decode(0x7FFF_FFFF, Some(3)).sec, 0x3_7FFF_FFFF);
        let t = Timestamp::decode(5, Some(999_999_999 << 2));
        assert_eq!((t.sec, t.nsec), (5, 999_999_999));
        assert_eq!(Timestamp::decode(0x8000_0000, None).sec, -0x8000_0000);
    }
}
