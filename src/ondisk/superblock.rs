// SPDX-License-Identifier: GPL-2.0

//! The ext4 superblock (`struct ext4_super_block`, 1024 bytes at byte offset
//! 1024 of the device) and the validated geometry derived from it. Decoding is
//! split in two on purpose: [`Superblock::parse`] only checks the magic and the
//! crc32c so that tools can still look at a damaged superblock, while
//! [`Superblock::validate`] applies the sanity rules of the kernel's
//! `ext4_fill_super()` and returns a [`Geometry`] whose derived values (block
//! size, group count, descriptor size, ...) every other parser can trust.

use super::bytes::{array, le16, le32, le32_array, le64, lo_hi, put_le16, put_le32, u8_at};
use super::crc::{ext4_chksum, ext4_csum_seed};
use super::error::{Error, Result};
use super::features::*;

/// Byte offset of the primary superblock on the device.
pub const EXT4_SUPERBLOCK_OFFSET: u64 = 1024;
/// Size of the on-disk superblock.
pub const EXT4_SUPERBLOCK_SIZE: usize = 1024;
/// `s_magic`.
pub const EXT4_SUPER_MAGIC: u16 = 0xEF53;
/// Original revision: 128-byte inodes, first inode 11, no feature words.
pub const EXT4_GOOD_OLD_REV: u32 = 0;
/// Revision with variable inode sizes and feature words.
pub const EXT4_DYNAMIC_REV: u32 = 1;
/// Inode size of revision 0 file systems.
pub const EXT4_GOOD_OLD_INODE_SIZE: u16 = 128;
/// First non-reserved inode of revision 0 file systems.
pub const EXT4_GOOD_OLD_FIRST_INO: u32 = 11;
/// Smallest block size.
pub const EXT4_MIN_BLOCK_SIZE: u32 = 1024;
/// Largest block size.
pub const EXT4_MAX_BLOCK_SIZE: u32 = 65536;
/// `s_log_block_size` of the largest block size.
pub const EXT4_MAX_BLOCK_LOG_SIZE: u32 = 16;
/// Group descriptor size without `64bit`.
pub const EXT4_MIN_DESC_SIZE: u32 = 32;
/// Smallest group descriptor size with `64bit`.
pub const EXT4_MIN_DESC_SIZE_64BIT: u32 = 64;
/// Largest group descriptor size.
pub const EXT4_MAX_DESC_SIZE: u32 = EXT4_MIN_BLOCK_SIZE;
/// `s_checksum_type` for crc32c, the only one defined.
pub const EXT4_CRC32C_CHKSUM: u8 = 1;
/// `s_state`: cleanly unmounted.
pub const EXT4_VALID_FS: u16 = 0x0001;
/// `s_state`: errors detected.
pub const EXT4_ERROR_FS: u16 = 0x0002;
/// `s_state`: orphans being recovered.
pub const EXT4_ORPHAN_FS: u16 = 0x0004;
/// `s_errors`: continue.
pub const EXT4_ERRORS_CONTINUE: u16 = 1;
/// `s_errors`: remount read-only.
pub const EXT4_ERRORS_RO: u16 = 2;
/// `s_errors`: panic.
pub const EXT4_ERRORS_PANIC: u16 = 3;
/// `s_flags`: directory hashes treat name bytes as signed chars.
pub const EXT2_FLAGS_SIGNED_HASH: u32 = 0x0001;
/// `s_flags`: directory hashes treat name bytes as unsigned chars.
pub const EXT2_FLAGS_UNSIGNED_HASH: u32 = 0x0002;
/// `s_flags`: test file system.
pub const EXT2_FLAGS_TEST_FILESYS: u32 = 0x0004;
/// `s_creator_os` of Linux; inode checksums are only defined for it.
pub const EXT4_OS_LINUX: u32 = 0;
/// Offset of `s_checksum`, the last field.
const S_CHECKSUM_OFFSET: usize = 0x3FC;

/// The decoded superblock. Field names are the C names; `_lo`/`_hi` halves are
/// kept apart and joined by the accessor methods.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Every field is the identically named C field.
pub struct Superblock {
    pub s_inodes_count: u32,
    pub s_blocks_count_lo: u32,
    pub s_r_blocks_count_lo: u32,
    pub s_free_blocks_count_lo: u32,
    pub s_free_inodes_count: u32,
    pub s_first_data_block: u32,
    pub s_log_block_size: u32,
    pub s_log_cluster_size: u32,
    pub s_blocks_per_group: u32,
    pub s_clusters_per_group: u32,
    pub s_inodes_per_group: u32,
    pub s_mtime: u32,
    pub s_wtime: u32,
    pub s_mnt_count: u16,
    pub s_max_mnt_count: u16,
    pub s_magic: u16,
    pub s_state: u16,
    pub s_errors: u16,
    pub s_minor_rev_level: u16,
    pub s_lastcheck: u32,
    pub s_checkinterval: u32,
    pub s_creator_os: u32,
    pub s_rev_level: u32,
    pub s_def_resuid: u16,
    pub s_def_resgid: u16,
    pub s_first_ino: u32,
    pub s_inode_size: u16,
    pub s_block_group_nr: u16,
    pub s_feature_compat: u32,
    pub s_feature_incompat: u32,
    pub s_feature_ro_compat: u32,
    pub s_uuid: [u8; 16],
    pub s_volume_name: [u8; 16],
    pub s_last_mounted: [u8; 64],
    pub s_algorithm_usage_bitmap: u32,
    pub s_prealloc_blocks: u8,
    pub s_prealloc_dir_blocks: u8,
    pub s_reserved_gdt_blocks: u16,
    pub s_journal_uuid: [u8; 16],
    pub s_journal_inum: u32,
    pub s_journal_dev: u32,
    pub s_last_orphan: u32,
    pub s_hash_seed: [u32; 4],
    pub s_def_hash_version: u8,
    pub s_jnl_backup_type: u8,
    pub s_desc_size: u16,
    pub s_default_mount_opts: u32,
    pub s_first_meta_bg: u32,
    pub s_mkfs_time: u32,
    pub s_jnl_blocks: [u32; 17],
    pub s_blocks_count_hi: u32,
    pub s_r_blocks_count_hi: u32,
    pub s_free_blocks_count_hi: u32,
    pub s_min_extra_isize: u16,
    pub s_want_extra_isize: u16,
    pub s_flags: u32,
    pub s_raid_stride: u16,
    pub s_mmp_update_interval: u16,
    pub s_mmp_block: u64,
    pub s_raid_stripe_width: u32,
    pub s_log_groups_per_flex: u8,
    pub s_checksum_type: u8,
    pub s_encryption_level: u8,
    pub s_kbytes_written: u64,
    pub s_snapshot_inum: u32,
    pub s_snapshot_id: u32,
    pub s_snapshot_r_blocks_count: u64,
    pub s_snapshot_list: u32,
    pub s_error_count: u32,
    pub s_first_error_time: u32,
    pub s_first_error_ino: u32,
    pub s_first_error_block: u64,
    pub s_first_error_line: u32,
    pub s_last_error_time: u32,
    pub s_last_error_ino: u32,
    pub s_last_error_line: u32,
    pub s_last_error_block: u64,
    pub s_usr_quota_inum: u32,
    pub s_grp_quota_inum: u32,
    pub s_overhead_clusters: u32,
    pub s_backup_bgs: [u32; 2],
    pub s_encrypt_algos: [u8; 4],
    pub s_lpf_ino: u32,
    pub s_prj_quota_inum: u32,
    pub s_checksum_seed: u32,
    pub s_wtime_hi: u8,
    pub s_mtime_hi: u8,
    pub s_mkfs_time_hi: u8,
    pub s_lastcheck_hi: u8,
    pub s_first_error_time_hi: u8,
    pub s_last_error_time_hi: u8,
    pub s_first_error_errcode: u8,
    pub s_last_error_errcode: u8,
    pub s_encoding: u16,
    pub s_encoding_flags: u16,
    pub s_orphan_file_inum: u32,
    pub s_def_resuid_hi: u16,
    pub s_def_resgid_hi: u16,
    pub s_checksum: u32,
}

/// crc32c of a raw superblock as stored in `s_checksum` (`ext4_superblock_csum`).
pub fn ext4_superblock_csum(raw: &[u8]) -> Result<u32> {
    let body = raw
        .get(..S_CHECKSUM_OFFSET)
        .ok_or(Error::Corrupt("superblock too short"))?;
    Ok(ext4_chksum(!0, body))
}

const W: &str = "superblock too short";

/// The error-tracking bytes of the super block, `s_error_count` to
/// `s_mount_opts` (`EXT4_S_ERR_START..EXT4_S_ERR_END`): written outside
/// the journal, so a replay may bring back an older copy of them.
pub const S_ERR_RANGE: core::ops::Range<usize> = 0x194..0x200;
const S_STATE_OFFSET: usize = 0x3A;

/// What the super block said about errors before a journal replay, to be
/// kept across it (`ext4_load_journal()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorState {
    /// The bytes of [`S_ERR_RANGE`].
    pub area: [u8; 0x200 - 0x194],
    /// Whether `s_state` had `EXT4_ERROR_FS`.
    pub error_fs: bool,
}

impl ErrorState {
    /// The error state of the 1024 super block bytes `raw`.
    pub fn of(raw: &[u8]) -> Result<ErrorState> {
        Ok(ErrorState {
            area: array(raw, S_ERR_RANGE.start, W)?,
            error_fs: le16(raw, S_STATE_OFFSET, W)? & EXT4_ERROR_FS != 0,
        })
    }
}

/// The super block update that ends a journal recovery at mount
/// (`ext4_load_journal()`, `ext4_clear_journal_err()` and
/// `ext4_mark_recovery_complete()` with `ext4_commit_super()`'s summary
/// counts), on the 1024 bytes of `raw` as the replay left them: the error
/// fields and `EXT4_ERROR_FS` as they were before the replay (`before`),
/// `EXT4_ERROR_FS` also when the journal recorded an error, `needs_recovery`
/// cleared, the free block and inode counts summed from the group
/// descriptors, and `s_checksum` recomputed under `metadata_csum`.
pub fn mark_recovery_complete(
    raw: &mut [u8],
    before: &ErrorState,
    journal_error: bool,
    free_blocks: u64,
    free_inodes: u32,
) -> Result<()> {
    raw.get_mut(S_ERR_RANGE)
        .ok_or(Error::Corrupt(W))?
        .copy_from_slice(&before.area);
    let mut state = le16(raw, S_STATE_OFFSET, W)?;
    if before.error_fs || journal_error {
        state |= EXT4_ERROR_FS;
    }
    raw.get_mut(S_STATE_OFFSET..S_STATE_OFFSET + 2)
        .ok_or(Error::Corrupt(W))?
        .copy_from_slice(&state.to_le_bytes());
    let incompat = le32(raw, 0x60, W)? & !EXT4_FEATURE_INCOMPAT_RECOVER;
    put_le32(raw, 0x60, incompat, W)?;
    set_free_counts(raw, free_blocks, free_inodes)
}

/// `ext4_commit_super()`'s summary counts: stores the free block and inode
/// counts (as summed from the group descriptors) in the 1024 super block
/// bytes of `raw`, and recomputes `s_checksum` under `metadata_csum`.
pub fn set_free_counts(raw: &mut [u8], free_blocks: u64, free_inodes: u32) -> Result<()> {
    let incompat = le32(raw, 0x60, W)?;
    // Low and high halves of the 64-bit count: the casts keep 32 bits each.
    put_le32(raw, 0x0C, free_blocks as u32, W)?;
    if incompat & EXT4_FEATURE_INCOMPAT_64BIT != 0 {
        put_le32(raw, 0x158, (free_blocks >> 32) as u32, W)?;
    }
    put_le32(raw, 0x10, free_inodes, W)?;
    if le32(raw, 0x64, W)? & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM != 0 {
        let csum = ext4_superblock_csum(raw)?;
        put_le32(raw, S_CHECKSUM_OFFSET, csum, W)?;
    }
    Ok(())
}

/// Stores a 64-bit time as a 32-bit field at `lo` and its high byte at
/// `hi` (`ext4_update_tstamp()`).
fn put_time(raw: &mut [u8], lo: usize, hi: usize, t: i64) -> Result<()> {
    // The low 32 bits and the next 8, as ext4 splits them.
    put_le32(raw, lo, t as u32, W)?;
    *raw.get_mut(hi).ok_or(Error::Corrupt(W))? = (t >> 32) as u8;
    Ok(())
}

/// Offset of `s_last_orphan` in the super block.
const S_LAST_ORPHAN_OFFSET: usize = 0xE8;

/// `s_last_orphan` of the 1024 super block bytes `raw`: the head of the
/// classic orphan list.
pub fn last_orphan(raw: &[u8]) -> Result<u32> {
    le32(raw, S_LAST_ORPHAN_OFFSET, W)
}

/// Sets `s_last_orphan` in the 1024 super block bytes `raw` and recomputes
/// `s_checksum` under `metadata_csum`.
pub fn set_last_orphan(raw: &mut [u8], ino: u32) -> Result<()> {
    put_le32(raw, S_LAST_ORPHAN_OFFSET, ino, W)?;
    reseal(raw)
}

/// Sets the `s_feature_compat` bits `mask` in the 1024 super block bytes
/// `raw` and recomputes `s_checksum` under `metadata_csum`.
pub fn set_compat(raw: &mut [u8], mask: u32) -> Result<()> {
    let f = le32(raw, 0x5C, W)?;
    put_le32(raw, 0x5C, f | mask, W)?;
    reseal(raw)
}

/// Recomputes `s_checksum` under `metadata_csum`.
fn reseal(raw: &mut [u8]) -> Result<()> {
    if le32(raw, 0x64, W)? & EXT4_FEATURE_RO_COMPAT_METADATA_CSUM != 0 {
        let csum = ext4_superblock_csum(raw)?;
        put_le32(raw, S_CHECKSUM_OFFSET, csum, W)?;
    }
    Ok(())
}

/// `ext4_setup_super()` for a read-write mount, on the 1024 super block
/// bytes `raw`: one more mount, the mount time `now`, and then either
/// `needs_recovery` (with a journal: a crash from here on needs a replay;
/// `orphan_present` too with `orphan_file`) or, without a journal,
/// `EXT4_VALID_FS` cleared until a clean unmount. Returns `s_state` as it
/// was, which the unmount writes back (`sbi->s_mount_state`).
pub fn mark_mounted(raw: &mut [u8], now: i64, journal: bool) -> Result<u16> {
    const EXT4_DFL_MAX_MNT_COUNT: u16 = 20;
    let state = le16(raw, S_STATE_OFFSET, W)?;
    if !journal {
        put_le16(raw, S_STATE_OFFSET, state & !EXT4_VALID_FS, W)?;
    }
    if le16(raw, 0x36, W)? == 0 {
        put_le16(raw, 0x36, EXT4_DFL_MAX_MNT_COUNT, W)?;
    }
    let mounts = le16(raw, 0x34, W)?.wrapping_add(1);
    put_le16(raw, 0x34, mounts, W)?;
    put_time(raw, 0x2C, 0x275, now)?;
    if journal {
        let incompat = le32(raw, 0x60, W)? | EXT4_FEATURE_INCOMPAT_RECOVER;
        put_le32(raw, 0x60, incompat, W)?;
        if le32(raw, 0x5C, W)? & EXT4_FEATURE_COMPAT_ORPHAN_FILE != 0 {
            let ro = le32(raw, 0x64, W)? | EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT;
            put_le32(raw, 0x64, ro, W)?;
        }
    }
    reseal(raw)?;
    Ok(state)
}

/// `ext4_put_super()` with `ext4_commit_super()`: the journal is empty,
/// so `needs_recovery` and `orphan_present` go, `s_state` is what it was
/// at mount (`mount_state`) plus `EXT4_ERROR_FS` if an error was recorded
/// since, the write time is `now`, and the free counts are the ones kept
/// in memory.
pub fn mark_unmounted(
    raw: &mut [u8],
    now: i64,
    mount_state: u16,
    free_blocks: u64,
    free_inodes: u32,
) -> Result<()> {
    let incompat = le32(raw, 0x60, W)? & !EXT4_FEATURE_INCOMPAT_RECOVER;
    put_le32(raw, 0x60, incompat, W)?;
    let ro = le32(raw, 0x64, W)? & !EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT;
    put_le32(raw, 0x64, ro, W)?;
    let errored = le16(raw, S_STATE_OFFSET, W)? & EXT4_ERROR_FS;
    put_le16(raw, S_STATE_OFFSET, mount_state | errored, W)?;
    put_time(raw, 0x30, 0x274, now)?;
    set_free_counts(raw, free_blocks, free_inodes)
}

/// Where an error was found, for the super block's error fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorSite {
    /// When (seconds since the epoch).
    pub time: i64,
    /// The inode, 0 if none.
    pub ino: u32,
    /// The block, 0 if none.
    pub block: u64,
    /// The function (at most 32 bytes are kept).
    pub func: &'static str,
    /// A line number (rext4 has no C lines: 0).
    pub line: u32,
    /// The errno's ext4 code (`EXT4_ERR_EIO` 2, `EXT4_ERR_EFSBADCRC` 4,
    /// `EXT4_ERR_EFSCORRUPTED` 5).
    pub errcode: u8,
}

/// `ext4_update_super()`'s error part: `EXT4_ERROR_FS`, one more error,
/// the first error's fields if there was none before, and the last
/// error's fields, with the checksum.
pub fn record_error(raw: &mut [u8], e: &ErrorSite) -> Result<()> {
    let state = le16(raw, S_STATE_OFFSET, W)? | EXT4_ERROR_FS;
    put_le16(raw, S_STATE_OFFSET, state, W)?;
    let count = le32(raw, 0x194, W)?.saturating_add(1);
    put_le32(raw, 0x194, count, W)?;
    let mut func = [0u8; 32];
    let name = e.func.as_bytes();
    let n = name.len().min(32);
    if let (Some(d), Some(s)) = (func.get_mut(..n), name.get(..n)) {
        d.copy_from_slice(s);
    }
    let put_func = |raw: &mut [u8], at: usize| -> Result<()> {
        raw.get_mut(at..)
            .and_then(|r| r.get_mut(..32))
            .ok_or(Error::Corrupt(W))?
            .copy_from_slice(&func);
        Ok(())
    };
    if le32(raw, 0x198, W)? == 0 && u8_at(raw, 0x278, W)? == 0 {
        put_time(raw, 0x198, 0x278, e.time)?;
        put_le32(raw, 0x19C, e.ino, W)?;
        put_le32(raw, 0x1A0, e.block as u32, W)?;
        put_le32(raw, 0x1A4, (e.block >> 32) as u32, W)?;
        put_func(raw, 0x1A8)?;
        put_le32(raw, 0x1C8, e.line, W)?;
        *raw.get_mut(0x27A).ok_or(Error::Corrupt(W))? = e.errcode;
    }
    put_time(raw, 0x1CC, 0x279, e.time)?;
    put_le32(raw, 0x1D0, e.ino, W)?;
    put_le32(raw, 0x1D4, e.line, W)?;
    put_le32(raw, 0x1D8, e.block as u32, W)?;
    put_le32(raw, 0x1DC, (e.block >> 32) as u32, W)?;
    put_func(raw, 0x1E0)?;
    *raw.get_mut(0x27B).ok_or(Error::Corrupt(W))? = e.errcode;
    reseal(raw)
}

impl Superblock {
    /// Decodes the 1024 bytes of a superblock (`raw` may be longer). Checks
    /// the magic, and, under `metadata_csum`, the checksum type and
    /// `s_checksum`. Geometry is not checked: call [`Superblock::validate`].
    pub fn parse(raw: &[u8]) -> Result<Superblock> {
        let raw = raw
            .get(..EXT4_SUPERBLOCK_SIZE)
            .ok_or(Error::Corrupt("superblock too short"))?;
        let sb = Self::decode(raw)?;
        if sb.s_magic != EXT4_SUPER_MAGIC {
            return Err(Error::Corrupt("s_magic"));
        }
        if sb.has_ro_compat(EXT4_FEATURE_RO_COMPAT_METADATA_CSUM) {
            if sb.s_checksum_type != EXT4_CRC32C_CHKSUM {
                return Err(Error::Corrupt("s_checksum_type"));
            }
            if ext4_superblock_csum(raw)? != sb.s_checksum {
                return Err(Error::BadChecksum("superblock"));
            }
        }
        Ok(sb)
    }

    fn decode(b: &[u8]) -> Result<Superblock> {
        Ok(Superblock {
            s_inodes_count: le32(b, 0x00, W)?,
            s_blocks_count_lo: le32(b, 0x04, W)?,
            s_r_blocks_count_lo: le32(b, 0x08, W)?,
            s_free_blocks_count_lo: le32(b, 0x0C, W)?,
            s_free_inodes_count: le32(b, 0x10, W)?,
            s_first_data_block: le32(b, 0x14, W)?,
            s_log_block_size: le32(b, 0x18, W)?,
            s_log_cluster_size: le32(b, 0x1C, W)?,
            s_blocks_per_group: le32(b, 0x20, W)?,
            s_clusters_per_group: le32(b, 0x24, W)?,
            s_inodes_per_group: le32(b, 0x28, W)?,
            s_mtime: le32(b, 0x2C, W)?,
            s_wtime: le32(b, 0x30, W)?,
            s_mnt_count: le16(b, 0x34, W)?,
            s_max_mnt_count: le16(b, 0x36, W)?,
            s_magic: le16(b, 0x38, W)?,
            s_state: le16(b, 0x3A, W)?,
            s_errors: le16(b, 0x3C, W)?,
            s_minor_rev_level: le16(b, 0x3E, W)?,
            s_lastcheck: le32(b, 0x40, W)?,
            s_checkinterval: le32(b, 0x44, W)?,
            s_creator_os: le32(b, 0x48, W)?,
            s_rev_level: le32(b, 0x4C, W)?,
            s_def_resuid: le16(b, 0x50, W)?,
            s_def_resgid: le16(b, 0x52, W)?,
            s_first_ino: le32(b, 0x54, W)?,
            s_inode_size: le16(b, 0x58, W)?,
            s_block_group_nr: le16(b, 0x5A, W)?,
            s_feature_compat: le32(b, 0x5C, W)?,
            s_feature_incompat: le32(b, 0x60, W)?,
            s_feature_ro_compat: le32(b, 0x64, W)?,
            s_uuid: array(b, 0x68, W)?,
            s_volume_name: array(b, 0x78, W)?,
            s_last_mounted: array(b, 0x88, W)?,
            s_algorithm_usage_bitmap: le32(b, 0xC8, W)?,
            s_prealloc_blocks: u8_at(b, 0xCC, W)?,
            s_prealloc_dir_blocks: u8_at(b, 0xCD, W)?,
            s_reserved_gdt_blocks: le16(b, 0xCE, W)?,
            s_journal_uuid: array(b, 0xD0, W)?,
            s_journal_inum: le32(b, 0xE0, W)?,
            s_journal_dev: le32(b, 0xE4, W)?,
            s_last_orphan: le32(b, 0xE8, W)?,
            s_hash_seed: le32_array(b, 0xEC, W)?,
            s_def_hash_version: u8_at(b, 0xFC, W)?,
            s_jnl_backup_type: u8_at(b, 0xFD, W)?,
            s_desc_size: le16(b, 0xFE, W)?,
            s_default_mount_opts: le32(b, 0x100, W)?,
            s_first_meta_bg: le32(b, 0x104, W)?,
            s_mkfs_time: le32(b, 0x108, W)?,
            s_jnl_blocks: le32_array(b, 0x10C, W)?,
            s_blocks_count_hi: le32(b, 0x150, W)?,
            s_r_blocks_count_hi: le32(b, 0x154, W)?,
            s_free_blocks_count_hi: le32(b, 0x158, W)?,
            s_min_extra_isize: le16(b, 0x15C, W)?,
            s_want_extra_isize: le16(b, 0x15E, W)?,
            s_flags: le32(b, 0x160, W)?,
            s_raid_stride: le16(b, 0x164, W)?,
            s_mmp_update_interval: le16(b, 0x166, W)?,
            s_mmp_block: le64(b, 0x168, W)?,
            s_raid_stripe_width: le32(b, 0x170, W)?,
            s_log_groups_per_flex: u8_at(b, 0x174, W)?,
            s_checksum_type: u8_at(b, 0x175, W)?,
            s_encryption_level: u8_at(b, 0x176, W)?,
            s_kbytes_written: le64(b, 0x178, W)?,
            s_snapshot_inum: le32(b, 0x180, W)?,
            s_snapshot_id: le32(b, 0x184, W)?,
            s_snapshot_r_blocks_count: le64(b, 0x188, W)?,
            s_snapshot_list: le32(b, 0x190, W)?,
            s_error_count: le32(b, 0x194, W)?,
            s_first_error_time: le32(b, 0x198, W)?,
            s_first_error_ino: le32(b, 0x19C, W)?,
            s_first_error_block: le64(b, 0x1A0, W)?,
            s_first_error_line: le32(b, 0x1C8, W)?,
            s_last_error_time: le32(b, 0x1CC, W)?,
            s_last_error_ino: le32(b, 0x1D0, W)?,
            s_last_error_line: le32(b, 0x1D4, W)?,
            s_last_error_block: le64(b, 0x1D8, W)?,
            s_usr_quota_inum: le32(b, 0x240, W)?,
            s_grp_quota_inum: le32(b, 0x244, W)?,
            s_overhead_clusters: le32(b, 0x248, W)?,
            s_backup_bgs: le32_array(b, 0x24C, W)?,
            s_encrypt_algos: array(b, 0x254, W)?,
            s_lpf_ino: le32(b, 0x268, W)?,
            s_prj_quota_inum: le32(b, 0x26C, W)?,
            s_checksum_seed: le32(b, 0x270, W)?,
            s_wtime_hi: u8_at(b, 0x274, W)?,
            s_mtime_hi: u8_at(b, 0x275, W)?,
            s_mkfs_time_hi: u8_at(b, 0x276, W)?,
            s_lastcheck_hi: u8_at(b, 0x277, W)?,
            s_first_error_time_hi: u8_at(b, 0x278, W)?,
            s_last_error_time_hi: u8_at(b, 0x279, W)?,
            s_first_error_errcode: u8_at(b, 0x27A, W)?,
            s_last_error_errcode: u8_at(b, 0x27B, W)?,
            s_encoding: le16(b, 0x27C, W)?,
            s_encoding_flags: le16(b, 0x27E, W)?,
            s_orphan_file_inum: le32(b, 0x280, W)?,
            s_def_resuid_hi: le16(b, 0x284, W)?,
            s_def_resgid_hi: le16(b, 0x286, W)?,
            s_checksum: le32(b, S_CHECKSUM_OFFSET, W)?,
        })
    }

    /// Whether all bits of `mask` are set in `s_feature_compat`.
    pub fn has_compat(&self, mask: u32) -> bool {
        self.s_feature_compat & mask == mask
    }

    /// Whether all bits of `mask` are set in `s_feature_ro_compat`.
    pub fn has_ro_compat(&self, mask: u32) -> bool {
        self.s_feature_ro_compat & mask == mask
    }

    /// Whether all bits of `mask` are set in `s_feature_incompat`.
    pub fn has_incompat(&self, mask: u32) -> bool {
        self.s_feature_incompat & mask == mask
    }

    /// `ext4_blocks_count()`: the high half only counts under `64bit`.
    pub fn blocks_count(&self) -> u64 {
        self.join64(self.s_blocks_count_lo, self.s_blocks_count_hi)
    }

    /// Reserved blocks count (`ext4_r_blocks_count()`).
    pub fn r_blocks_count(&self) -> u64 {
        self.join64(self.s_r_blocks_count_lo, self.s_r_blocks_count_hi)
    }

    /// Free blocks count (`ext4_free_blocks_count()`).
    pub fn free_blocks_count(&self) -> u64 {
        self.join64(self.s_free_blocks_count_lo, self.s_free_blocks_count_hi)
    }

    fn join64(&self, lo: u32, hi: u32) -> u64 {
        if self.has_incompat(EXT4_FEATURE_INCOMPAT_64BIT) {
            lo_hi(lo, hi)
        } else {
            u64::from(lo)
        }
    }

    /// The metadata checksum seed (`sbi->s_csum_seed`): `s_checksum_seed`
    /// under `metadata_csum_seed`, otherwise crc32c of `s_uuid`.
    pub fn csum_seed(&self) -> u32 {
        let stored = self
            .has_incompat(EXT4_FEATURE_INCOMPAT_CSUM_SEED)
            .then_some(self.s_checksum_seed);
        ext4_csum_seed(&self.s_uuid, stored)
    }

    /// Whether directory hashes use unsigned chars (`sbi->s_hash_unsigned`).
    /// Neither flag set means the signedness of the creating machine's `char`;
    /// the kernel then assumes signed, as on x86.
    pub fn hash_unsigned(&self) -> bool {
        self.s_flags & EXT2_FLAGS_UNSIGNED_HASH != 0
    }

    /// Last write time with the `_hi` byte (seconds since the epoch).
    pub fn wtime(&self) -> i64 {
        time_hi(self.s_wtime, self.s_wtime_hi)
    }

    /// Last mount time with the `_hi` byte.
    pub fn mtime(&self) -> i64 {
        time_hi(self.s_mtime, self.s_mtime_hi)
    }

    /// Creation time with the `_hi` byte.
    pub fn mkfs_time(&self) -> i64 {
        time_hi(self.s_mkfs_time, self.s_mkfs_time_hi)
    }

    /// Last check time with the `_hi` byte.
    pub fn lastcheck(&self) -> i64 {
        time_hi(self.s_lastcheck, self.s_lastcheck_hi)
    }

    /// Names of incompat features set here but not in `supported`.
    pub fn unsupported_incompat(&self, supported: u32) -> FeatureNames {
        unsupported_incompat(self.s_feature_incompat, supported)
    }

    /// The mount-time feature check (`ext4_feature_set_ok()`): any incompat
    /// feature outside [`EXT4_FEATURE_INCOMPAT_SUPP`] refuses the mount, and
    /// for a read-write mount so does any ro_compat feature outside
    /// [`EXT4_FEATURE_RO_COMPAT_SUPP`] (and `read-only`). The error names the
    /// first offending feature.
    pub fn check_features(&self, read_only: bool) -> Result<()> {
        if let Some(name) = self.unsupported_incompat(EXT4_FEATURE_INCOMPAT_SUPP).next() {
            return Err(Error::Unsupported(name));
        }
        if !read_only {
            if let Some(name) =
                unsupported_ro_compat(self.s_feature_ro_compat, EXT4_FEATURE_RO_COMPAT_SUPP).next()
            {
                return Err(Error::Unsupported(name));
            }
        }
        Ok(())
    }

    /// Applies the kernel's mount-time sanity checks and derives the geometry.
    /// Everything returned is consistent: non-zero sizes, a group count that
    /// fits, descriptor and inode sizes that divide the block size.
    pub fn validate(&self) -> Result<Geometry> {
        if self.s_rev_level > EXT4_DYNAMIC_REV {
            return Err(Error::Unsupported("s_rev_level"));
        }
        // 1 KiB << 6 = 64 KiB is the largest block size ext4 defines.
        if self.s_log_block_size > EXT4_MAX_BLOCK_LOG_SIZE - 10 {
            return Err(Error::Corrupt("s_log_block_size"));
        }
        let log_block_size = self.s_log_block_size;
        let block_size = EXT4_MIN_BLOCK_SIZE << log_block_size;
        if self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_BIGALLOC) {
            return Err(Error::Unsupported("bigalloc"));
        }
        if self.s_log_cluster_size != self.s_log_block_size {
            return Err(Error::Corrupt("s_log_cluster_size"));
        }
        if self.s_blocks_per_group == 0 {
            return Err(Error::Corrupt("s_blocks_per_group"));
        }
        // Block and inode bitmaps are one block each.
        let bits_per_block = block_size.saturating_mul(8);
        if self.s_blocks_per_group > bits_per_block {
            return Err(Error::Corrupt("s_blocks_per_group"));
        }
        if self.s_clusters_per_group != self.s_blocks_per_group {
            return Err(Error::Corrupt("s_clusters_per_group"));
        }

        let (inode_size, first_ino) = if self.s_rev_level == EXT4_GOOD_OLD_REV {
            (EXT4_GOOD_OLD_INODE_SIZE, EXT4_GOOD_OLD_FIRST_INO)
        } else {
            (self.s_inode_size, self.s_first_ino)
        };
        if first_ino < EXT4_GOOD_OLD_FIRST_INO {
            return Err(Error::Corrupt("s_first_ino"));
        }
        let inode_size32 = u32::from(inode_size);
        if inode_size < EXT4_GOOD_OLD_INODE_SIZE
            || !inode_size.is_power_of_two()
            || inode_size32 > block_size
        {
            return Err(Error::Corrupt("s_inode_size"));
        }
        let max_extra = inode_size.saturating_sub(EXT4_GOOD_OLD_INODE_SIZE);
        if self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE)
            && (self.s_min_extra_isize > max_extra || self.s_want_extra_isize > max_extra)
        {
            return Err(Error::Corrupt("s_min_extra_isize"));
        }

        let is_64bit = self.has_incompat(EXT4_FEATURE_INCOMPAT_64BIT);
        let desc_size = if is_64bit {
            let d = u32::from(self.s_desc_size);
            if !(EXT4_MIN_DESC_SIZE_64BIT..=EXT4_MAX_DESC_SIZE).contains(&d) || !d.is_power_of_two()
            {
                return Err(Error::Corrupt("s_desc_size"));
            }
            d
        } else {
            EXT4_MIN_DESC_SIZE
        };
        let desc_per_block = div(block_size, desc_size)?;

        let inodes_per_block = div(block_size, inode_size32)?;
        let ipg = self.s_inodes_per_group;
        if ipg < inodes_per_block || ipg > bits_per_block {
            return Err(Error::Corrupt("s_inodes_per_group"));
        }
        let itb_per_group = div(ipg, inodes_per_block)?;

        if u32::from(self.s_reserved_gdt_blocks) > block_size / 4 {
            return Err(Error::Corrupt("s_reserved_gdt_blocks"));
        }

        let blocks_count = self.blocks_count();
        let first_data_block = self.s_first_data_block;
        if u64::from(first_data_block) >= blocks_count {
            return Err(Error::Corrupt("s_first_data_block"));
        }
        if first_data_block == 0 && block_size == EXT4_MIN_BLOCK_SIZE {
            // With 1 KiB blocks the superblock itself lives in block 1.
            return Err(Error::Corrupt("s_first_data_block"));
        }
        if first_data_block > 1 {
            return Err(Error::Corrupt("s_first_data_block"));
        }
        let bpg = u64::from(self.s_blocks_per_group);
        // blocks_count > first_data_block, so this cannot underflow, and the
        // sum cannot overflow: both terms are below 2^64 - 2^32.
        let data_blocks = blocks_count.saturating_sub(u64::from(first_data_block));
        let groups = data_blocks
            .checked_add(bpg.saturating_sub(1))
            .and_then(|v| v.checked_div(bpg))
            .ok_or(Error::Corrupt("groups count"))?;
        if groups > (1u64 << 32).saturating_sub(u64::from(desc_per_block)) {
            return Err(Error::Corrupt("groups count"));
        }
        let groups_count = u32::try_from(groups).map_err(|_| Error::Corrupt("groups count"))?;
        if u64::from(groups_count).checked_mul(u64::from(ipg))
            != Some(u64::from(self.s_inodes_count))
        {
            return Err(Error::Corrupt("s_inodes_count"));
        }
        let gdb_count = groups_count.div_ceil(desc_per_block);
        if self.has_incompat(EXT4_FEATURE_INCOMPAT_META_BG) && self.s_first_meta_bg > gdb_count {
            return Err(Error::Corrupt("s_first_meta_bg"));
        }
        if self.has_incompat(EXT4_FEATURE_INCOMPAT_FLEX_BG) && self.s_log_groups_per_flex > 31 {
            return Err(Error::Corrupt("s_log_groups_per_flex"));
        }
        if self.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL)
            && self.s_journal_inum != 0
            && (self.s_journal_inum > self.s_inodes_count)
        {
            return Err(Error::Corrupt("s_journal_inum"));
        }
        if self.has_compat(EXT4_FEATURE_COMPAT_ORPHAN_FILE)
            && (self.s_orphan_file_inum == 0 || self.s_orphan_file_inum > self.s_inodes_count)
        {
            return Err(Error::Corrupt("s_orphan_file_inum"));
        }

        Ok(Geometry {
            block_size,
            log_block_size: log_block_size.saturating_add(10),
            blocks_count,
            first_data_block,
            blocks_per_group: self.s_blocks_per_group,
            inodes_per_group: ipg,
            inodes_count: self.s_inodes_count,
            inode_size,
            first_ino,
            groups_count,
            desc_size,
            desc_per_block,
            gdb_count,
            inodes_per_block,
            itb_per_group,
            reserved_gdt_blocks: self.s_reserved_gdt_blocks,
            first_meta_bg: self.s_first_meta_bg,
            backup_bgs: self.s_backup_bgs,
            feature_compat: self.s_feature_compat,
            feature_ro_compat: self.s_feature_ro_compat,
            feature_incompat: self.s_feature_incompat,
            csum_seed: self.csum_seed(),
            uuid: self.s_uuid,
            volume_name: self.s_volume_name,
            hash_seed: self.s_hash_seed,
            def_hash_version: self.s_def_hash_version,
            hash_unsigned: self.hash_unsigned(),
            creator_os: self.s_creator_os,
            log_groups_per_flex: self.s_log_groups_per_flex,
            min_extra_isize: self.s_min_extra_isize,
            special_inums: [
                self.s_usr_quota_inum,
                self.s_grp_quota_inum,
                self.s_prj_quota_inum,
                self.s_orphan_file_inum,
            ],
        })
    }
}

/// `DIV_ROUND_UP` for the positive values of [`Geometry::bitmap_max_bytes`].
#[allow(clippy::arithmetic_side_effects)] // n < 2^48, d >= 256
fn div_round_up(n: i64, d: i64) -> i64 {
    (n + d - 1) / d
}

/// A 32-bit timestamp extended by an 8-bit high part (superblock times).
fn time_hi(lo: u32, hi: u8) -> i64 {
    (i64::from(hi) << 32) | i64::from(lo)
}

/// Values derived from a validated superblock: what the rest of this layer
/// (and the kernel's `ext4_sb_info`) needs. Only [`Superblock::validate`]
/// constructs one, so its sizes are non-zero and mutually consistent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Block size in bytes, 1024..=65536.
    pub block_size: u32,
    /// log2 of the block size (`s_blocksize_bits`), 10..=16.
    pub log_block_size: u32,
    /// Number of blocks.
    pub blocks_count: u64,
    /// First block of group 0 (1 for 1 KiB blocks, else 0).
    pub first_data_block: u32,
    /// Blocks per group.
    pub blocks_per_group: u32,
    /// Inodes per group.
    pub inodes_per_group: u32,
    /// Number of inodes.
    pub inodes_count: u32,
    /// On-disk inode size (`EXT4_INODE_SIZE()`).
    pub inode_size: u16,
    /// First non-reserved inode.
    pub first_ino: u32,
    /// Number of block groups.
    pub groups_count: u32,
    /// Group descriptor size actually used (`EXT4_DESC_SIZE()`).
    pub desc_size: u32,
    /// Descriptors per block.
    pub desc_per_block: u32,
    /// Blocks holding the whole descriptor table (`s_gdb_count`).
    pub gdb_count: u32,
    /// Inodes per block.
    pub inodes_per_block: u32,
    /// Inode table blocks per group (`s_itb_per_group`).
    pub itb_per_group: u32,
    /// `s_reserved_gdt_blocks`.
    pub reserved_gdt_blocks: u16,
    /// `s_first_meta_bg`.
    pub first_meta_bg: u32,
    /// `s_backup_bgs` (only meaningful with `sparse_super2`).
    pub backup_bgs: [u32; 2],
    /// `s_feature_compat`.
    pub feature_compat: u32,
    /// `s_feature_ro_compat`.
    pub feature_ro_compat: u32,
    /// `s_feature_incompat`.
    pub feature_incompat: u32,
    /// Metadata checksum seed (`sbi->s_csum_seed`).
    pub csum_seed: u32,
    /// `s_uuid`.
    pub uuid: [u8; 16],
    /// `s_volume_name`: the label, NUL-padded (all 16 bytes may be used).
    pub volume_name: [u8; 16],
    /// `s_hash_seed`.
    pub hash_seed: [u32; 4],
    /// `s_def_hash_version`.
    pub def_hash_version: u8,
    /// `sbi->s_hash_unsigned != 0`.
    pub hash_unsigned: bool,
    /// `s_creator_os`.
    pub creator_os: u32,
    /// `s_log_groups_per_flex`.
    pub log_groups_per_flex: u8,
    /// `s_min_extra_isize`.
    pub min_extra_isize: u16,
    /// Inodes `is_special_ino()` hides from lookups beyond the reserved
    /// range: user, group and project quota, and the orphan file (0: none).
    pub special_inums: [u32; 4],
}

/// Where one group descriptor lives on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DescLocation {
    /// Block holding the descriptor.
    pub block: u64,
    /// Byte offset of the descriptor inside that block.
    pub offset: u32,
}

/// Where one inode lives on disk, relative to its group's inode table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InodeLocation {
    /// Block group of the inode.
    pub group: u32,
    /// Index of the inode within its group.
    pub index: u32,
    /// Block within the group's inode table (add `bg_inode_table`).
    pub table_block: u32,
    /// Byte offset of the inode inside that block.
    pub offset: u32,
}

impl Geometry {
    /// Whether all bits of `mask` are set in the compat word.
    pub fn has_compat(&self, mask: u32) -> bool {
        self.feature_compat & mask == mask
    }

    /// Whether all bits of `mask` are set in the ro_compat word.
    pub fn has_ro_compat(&self, mask: u32) -> bool {
        self.feature_ro_compat & mask == mask
    }

    /// Whether all bits of `mask` are set in the incompat word.
    pub fn has_incompat(&self, mask: u32) -> bool {
        self.feature_incompat & mask == mask
    }

    /// `s_maxbytes` (`ext4_max_size()`): the largest size of an extent-mapped
    /// file, 2^32 - 1 blocks, and without `huge_file` no more than 2^32 - 1
    /// sectors in whole blocks.
    #[allow(clippy::arithmetic_side_effects)] // bits is 10..=16: no overflow
    pub fn max_bytes(&self) -> i64 {
        let bits = self.log_block_size.clamp(10, 16);
        let mut upper = i64::MAX;
        if !self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
            upper = (((1i64 << 32) - 1) >> (bits - 9)) << bits;
        }
        (((1i64 << 32) - 1) << bits).min(upper)
    }

    /// `s_bitmap_maxbytes` (`ext4_max_bitmap_size()`): the largest size of a
    /// block-mapped file, limited by the three levels of indirection and by
    /// `i_blocks` (2^32 - 1 sectors, or 2^48 - 1 blocks with `huge_file`)
    /// counting the indirect blocks too.
    #[allow(clippy::arithmetic_side_effects)] // bits is 10..=16: no overflow
    pub fn bitmap_max_bytes(&self) -> i64 {
        let bits = self.log_block_size.clamp(10, 16);
        // At most 2^14 pointers per block: every product below fits in i64.
        let ppb: i64 = 1 << (bits - 2);
        let upper_limit: i64 = if self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
            (1i64 << 48) - 1
        } else {
            ((1i64 << 32) - 1) >> (bits - 9)
        };
        let tree = 12 + ppb + ppb * ppb + ppb * ppb * ppb;
        let tree_meta = 1 + (1 + ppb) + (1 + ppb + ppb * ppb);
        let blocks = if tree + tree_meta <= upper_limit {
            tree
        } else {
            // How many indirect blocks addressing upper_limit takes.
            let mut left = upper_limit - 12 - ppb;
            let mut meta = 1;
            if left < ppb * ppb {
                meta += 1 + div_round_up(left, ppb);
            } else {
                meta += 1 + ppb;
                left -= ppb * ppb;
                meta += 1 + div_round_up(left, ppb) + div_round_up(left, ppb * ppb);
            }
            upper_limit - meta
        };
        blocks
            .checked_shl(bits)
            .filter(|&b| b >> bits == blocks)
            .unwrap_or(i64::MAX)
    }

    /// `ext4_has_metadata_csum()`.
    pub fn has_metadata_csum(&self) -> bool {
        self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)
    }

    /// `ext4_has_group_desc_csum()`: crc16 or crc32c descriptor checksums.
    pub fn has_group_desc_csum(&self) -> bool {
        self.has_metadata_csum() || self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_GDT_CSUM)
    }

    /// `64bit` feature.
    pub fn is_64bit(&self) -> bool {
        self.has_incompat(EXT4_FEATURE_INCOMPAT_64BIT)
    }

    /// Maximum htree depth (`ext4_dir_htree_level()`): 3 with `large_dir`.
    pub fn dir_htree_level(&self) -> u8 {
        if self.has_incompat(EXT4_FEATURE_INCOMPAT_LARGEDIR) {
            3
        } else {
            2
        }
    }

    /// First block of a group (`ext4_group_first_block_no()`).
    pub fn group_first_block(&self, group: u32) -> Result<u64> {
        u64::from(group)
            .checked_mul(u64::from(self.blocks_per_group))
            .and_then(|b| b.checked_add(u64::from(self.first_data_block)))
            .ok_or(Error::OutOfRange("group"))
    }

    /// Whether a group holds a superblock backup (`ext4_bg_has_super()`).
    pub fn bg_has_super(&self, group: u32) -> bool {
        if group == 0 {
            return true;
        }
        if self.has_compat(EXT4_FEATURE_COMPAT_SPARSE_SUPER2) {
            return group == self.backup_bgs[0] || group == self.backup_bgs[1];
        }
        if group <= 1 || !self.has_ro_compat(EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER) {
            return true;
        }
        if group & 1 == 0 {
            return false;
        }
        is_power_of(group, 3) || is_power_of(group, 5) || is_power_of(group, 7)
    }

    /// Block of the `nr`-th descriptor block of the primary table
    /// (`descriptor_loc()`), following `meta_bg` when it applies.
    pub fn descriptor_block(&self, nr: u32) -> Result<u64> {
        if nr >= self.gdb_count {
            return Err(Error::OutOfRange("descriptor block"));
        }
        // The superblock sits in block 1 with 1 KiB blocks, else in block 0.
        let logical_sb_block = u64::from(self.first_data_block);
        if !self.has_incompat(EXT4_FEATURE_INCOMPAT_META_BG) || nr < self.first_meta_bg {
            return logical_sb_block
                .checked_add(u64::from(nr))
                .and_then(|b| b.checked_add(1))
                .ok_or(Error::OutOfRange("descriptor block"));
        }
        // A meta group's descriptors live in its first group, after that
        // group's superblock backup if it has one.
        let bg = nr
            .checked_mul(self.desc_per_block)
            .ok_or(Error::OutOfRange("descriptor block"))?;
        let has_super = u64::from(self.bg_has_super(bg));
        self.group_first_block(bg)?
            .checked_add(has_super)
            .ok_or(Error::OutOfRange("descriptor block"))
    }

    /// Block and offset of a group's descriptor.
    pub fn group_desc_location(&self, group: u32) -> Result<DescLocation> {
        if group >= self.groups_count {
            return Err(Error::OutOfRange("group"));
        }
        let nr = div(group, self.desc_per_block)?;
        let offset = rem(group, self.desc_per_block)?.saturating_mul(self.desc_size);
        Ok(DescLocation {
            block: self.descriptor_block(nr)?,
            offset,
        })
    }

    /// Whether `ino` is a possible inode number (`ext4_valid_inum()` without
    /// the reserved-inode exceptions).
    pub fn valid_inum(&self, ino: u32) -> bool {
        ino >= 1 && ino <= self.inodes_count
    }

    /// Group, table block and offset of an inode (`__ext4_get_inode_loc()`).
    pub fn inode_location(&self, ino: u32) -> Result<InodeLocation> {
        if !self.valid_inum(ino) {
            return Err(Error::OutOfRange("inode number"));
        }
        let zero_based = ino.saturating_sub(1);
        let group = div(zero_based, self.inodes_per_group)?;
        let index = rem(zero_based, self.inodes_per_group)?;
        let table_block = div(index, self.inodes_per_block)?;
        let offset = rem(index, self.inodes_per_block)?.saturating_mul(u32::from(self.inode_size));
        Ok(InodeLocation {
            group,
            index,
            table_block,
            offset,
        })
    }

    /// Checks that `[start, start + len)` is a plausible data or metadata
    /// range (`ext4_sb_block_valid()` without the system-zone tree): past the
    /// superblock's first data block and inside the file system.
    pub fn check_block_range(&self, start: u64, len: u64) -> Result<()> {
        let end = start
            .checked_add(len)
            .ok_or(Error::Corrupt("block range wraps"))?;
        if start <= u64::from(self.first_data_block) || end > self.blocks_count || len == 0 {
            return Err(Error::Corrupt("block number out of range"));
        }
        Ok(())
    }
}

/// Division by a geometry value. [`Superblock::validate`] never produces a
/// zero divisor, but `Geometry` has public fields, so a hand-built one must
/// not be able to cause a panic.
fn div(a: u32, b: u32) -> Result<u32> {
    a.checked_div(b)
        .ok_or(Error::Corrupt("zero geometry divisor"))
}

fn rem(a: u32, b: u32) -> Result<u32> {
    a.checked_rem(b)
        .ok_or(Error::Corrupt("zero geometry divisor"))
}

/// Whether `n` is a power of `base` (`test_root()`).
fn is_power_of(n: u32, base: u32) -> bool {
    let mut num = base;
    while num < n {
        match num.checked_mul(base) {
            Some(v) => num = v,
            None => return false,
        }
    }
    num == n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_super_groups() {
        let backups: [u32; 7] = [3, 5, 7, 9, 25, 27, 49];
        for g in 2..60u32 {
            let expect = backups.contains(&g);
            let got = is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
            assert_eq!(got, expect, "{g}");
        }
    }
}
