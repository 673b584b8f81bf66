// SPDX-License-Identifier: GPL-2.0

//! The JBD2 journal superblock (`include/linux/jbd2.h`), stored big-endian in
//! the first block of the journal inode. The mount path only needs to know
//! whether the journal is usable and whether it holds transactions that must
//! be replayed first: `s_start == 0` means the log is empty (clean). rext4
//! refuses to mount when either the ext4 `needs_recovery` flag or a non-zero
//! `s_start` says replay is pending, until its own recovery exists.

use super::bytes::{array, be32, sub, u8_at};
use super::crc::ext4_chksum;
use super::error::{Error, Result};
use super::features::EXT4_FEATURE_INCOMPAT_RECOVER;
use super::superblock::Superblock;

/// `h_magic` of every journal metadata block.
pub const JBD2_MAGIC_NUMBER: u32 = 0xC03B_3998;
/// Descriptor block.
pub const JBD2_DESCRIPTOR_BLOCK: u32 = 1;
/// Commit block.
pub const JBD2_COMMIT_BLOCK: u32 = 2;
/// Version 1 superblock.
pub const JBD2_SUPERBLOCK_V1: u32 = 3;
/// Version 2 superblock.
pub const JBD2_SUPERBLOCK_V2: u32 = 4;
/// Revoke block.
pub const JBD2_REVOKE_BLOCK: u32 = 5;

/// Commit blocks carry a checksum (v1 checksums).
pub const JBD2_FEATURE_COMPAT_CHECKSUM: u32 = 0x1;
/// Revoke records.
pub const JBD2_FEATURE_INCOMPAT_REVOKE: u32 = 0x1;
/// 64-bit block numbers.
pub const JBD2_FEATURE_INCOMPAT_64BIT: u32 = 0x2;
/// Asynchronous commit.
pub const JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT: u32 = 0x4;
/// crc32c checksums, v2.
pub const JBD2_FEATURE_INCOMPAT_CSUM_V2: u32 = 0x8;
/// crc32c checksums, v3.
pub const JBD2_FEATURE_INCOMPAT_CSUM_V3: u32 = 0x10;
/// Fast commits.
pub const JBD2_FEATURE_INCOMPAT_FAST_COMMIT: u32 = 0x20;
/// Incompat features this layer can describe (`JBD2_KNOWN_INCOMPAT_FEATURES`).
pub const JBD2_KNOWN_INCOMPAT_FEATURES: u32 = JBD2_FEATURE_INCOMPAT_REVOKE
    | JBD2_FEATURE_INCOMPAT_64BIT
    | JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT
    | JBD2_FEATURE_INCOMPAT_CSUM_V2
    | JBD2_FEATURE_INCOMPAT_CSUM_V3
    | JBD2_FEATURE_INCOMPAT_FAST_COMMIT;
/// `s_checksum_type` for crc32c.
pub const JBD2_CRC32C_CHKSUM: u8 = 4;
/// Size of `journal_superblock_t`.
pub const JBD2_SUPERBLOCK_SIZE: usize = 1024;
const S_CHECKSUM_OFFSET: usize = 0xFC;

/// `journal_header_t`, the first 12 bytes of every journal metadata block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct JournalHeader {
    pub h_magic: u32,
    pub h_blocktype: u32,
    pub h_sequence: u32,
}

impl JournalHeader {
    /// Decodes and checks the magic.
    pub fn parse(b: &[u8]) -> Result<JournalHeader> {
        let h = JournalHeader {
            h_magic: be32(b, 0, "journal header")?,
            h_blocktype: be32(b, 4, "journal header")?,
            h_sequence: be32(b, 8, "journal header")?,
        };
        if h.h_magic != JBD2_MAGIC_NUMBER {
            return Err(Error::Corrupt("journal magic"));
        }
        Ok(h)
    }
}

/// Decoded `journal_superblock_t`. v2 fields read as zero in a v1 superblock.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // C field names.
pub struct JournalSuperblock {
    pub s_header: JournalHeader,
    pub s_blocksize: u32,
    pub s_maxlen: u32,
    pub s_first: u32,
    pub s_sequence: u32,
    pub s_start: u32,
    pub s_errno: i32,
    pub s_feature_compat: u32,
    pub s_feature_incompat: u32,
    pub s_feature_ro_compat: u32,
    pub s_uuid: [u8; 16],
    pub s_nr_users: u32,
    pub s_dynsuper: u32,
    pub s_max_transaction: u32,
    pub s_max_trans_data: u32,
    pub s_checksum_type: u8,
    pub s_num_fc_blks: u32,
    pub s_head: u32,
    pub s_checksum: u32,
}

impl JournalSuperblock {
    /// Decodes the journal superblock at the start of `b` and applies the
    /// checks of `journal_load()`/`jbd2_superblock_load()`: magic, v1 or v2
    /// block type, known incompat features (others are `Unsupported`),
    /// `s_first` inside `s_maxlen`, and the crc32c when csum v2/v3 is on.
    pub fn parse(b: &[u8]) -> Result<JournalSuperblock> {
        const W: &str = "journal superblock too short";
        let b = sub(b, 0, JBD2_SUPERBLOCK_SIZE, W)?;
        let s_header = JournalHeader::parse(b)?;
        let v2 = match s_header.h_blocktype {
            JBD2_SUPERBLOCK_V1 => false,
            JBD2_SUPERBLOCK_V2 => true,
            _ => return Err(Error::Corrupt("journal superblock block type")),
        };
        let v2_field = |off: usize| -> Result<u32> {
            if v2 {
                be32(b, off, W)
            } else {
                Ok(0)
            }
        };
        let jsb = JournalSuperblock {
            s_header,
            s_blocksize: be32(b, 0x0C, W)?,
            s_maxlen: be32(b, 0x10, W)?,
            s_first: be32(b, 0x14, W)?,
            s_sequence: be32(b, 0x18, W)?,
            s_start: be32(b, 0x1C, W)?,
            s_errno: be32(b, 0x20, W)? as i32,
            s_feature_compat: v2_field(0x24)?,
            s_feature_incompat: v2_field(0x28)?,
            s_feature_ro_compat: v2_field(0x2C)?,
            s_uuid: if v2 { array(b, 0x30, W)? } else { [0; 16] },
            s_nr_users: v2_field(0x40)?,
            s_dynsuper: v2_field(0x44)?,
            s_max_transaction: v2_field(0x48)?,
            s_max_trans_data: v2_field(0x4C)?,
            s_checksum_type: if v2 { u8_at(b, 0x50, W)? } else { 0 },
            s_num_fc_blks: v2_field(0x54)?,
            s_head: v2_field(0x58)?,
            s_checksum: v2_field(S_CHECKSUM_OFFSET)?,
        };
        if jsb.s_feature_incompat & !JBD2_KNOWN_INCOMPAT_FEATURES != 0
            || jsb.s_feature_ro_compat != 0
        {
            return Err(Error::Unsupported("unknown journal feature"));
        }
        let v2csum = jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V2 != 0;
        let v3csum = jsb.s_feature_incompat & JBD2_FEATURE_INCOMPAT_CSUM_V3 != 0;
        if v2csum && v3csum {
            return Err(Error::Corrupt("journal has both csum v2 and v3"));
        }
        if (v2csum || v3csum) && jsb.s_feature_compat & JBD2_FEATURE_COMPAT_CHECKSUM != 0 {
            return Err(Error::Corrupt("journal has both csum v1 and v2/v3"));
        }
        if jsb.s_first == 0 || jsb.s_first >= jsb.s_maxlen {
            return Err(Error::Corrupt("journal s_first"));
        }
        if jsb.s_start != 0 && (jsb.s_start < jsb.s_first || jsb.s_start >= jsb.s_maxlen) {
            return Err(Error::Corrupt("journal s_start"));
        }
        if jsb.has_csum_v2or3() {
            if jsb.s_checksum_type != JBD2_CRC32C_CHKSUM {
                return Err(Error::Corrupt("journal checksum type"));
            }
            if jsb_csum(b)? != jsb.s_checksum {
                return Err(Error::BadChecksum("journal superblock"));
            }
        }
        Ok(jsb)
    }

    /// Checksum v2 or v3 in use (`jbd2_journal_has_csum_v2or3()`).
    pub fn has_csum_v2or3(&self) -> bool {
        self.s_feature_incompat & (JBD2_FEATURE_INCOMPAT_CSUM_V2 | JBD2_FEATURE_INCOMPAT_CSUM_V3)
            != 0
    }

    /// Whether the log is empty: nothing to replay.
    pub fn is_clean(&self) -> bool {
        self.s_start == 0
    }

    /// Checks the journal against the file system it belongs to: same block
    /// size, and no more blocks than the journal inode has (`inode_blocks`,
    /// in file system blocks).
    pub fn check_geometry(&self, fs_block_size: u32, inode_blocks: u64) -> Result<()> {
        if self.s_blocksize != fs_block_size {
            return Err(Error::Corrupt("journal block size"));
        }
        if u64::from(self.s_maxlen) > inode_blocks {
            return Err(Error::Corrupt(
                "journal s_maxlen larger than the journal inode",
            ));
        }
        Ok(())
    }
}

/// `jbd2_superblock_csum()`: crc32c of the 1024-byte superblock with
/// `s_checksum` taken as zero.
pub fn jsb_csum(b: &[u8]) -> Result<u32> {
    let head = sub(b, 0, S_CHECKSUM_OFFSET, "journal superblock")?;
    let tail = sub(
        b,
        S_CHECKSUM_OFFSET + 4,
        JBD2_SUPERBLOCK_SIZE - (S_CHECKSUM_OFFSET + 4),
        "journal superblock",
    )?;
    let csum = ext4_chksum(!0, head);
    let csum = ext4_chksum(csum, &[0; 4]);
    Ok(ext4_chksum(csum, tail))
}

/// Whether the journal must be replayed before the file system is usable:
/// the ext4 `needs_recovery` incompat flag, or a journal whose log is not
/// empty. Pass `None` when there is no journal (or it was not read).
pub fn needs_recovery(sb: &Superblock, journal: Option<&JournalSuperblock>) -> bool {
    sb.has_incompat(EXT4_FEATURE_INCOMPAT_RECOVER) || journal.is_some_and(|j| !j.is_clean())
}
