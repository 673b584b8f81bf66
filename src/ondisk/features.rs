// SPDX-License-Identifier: GPL-2.0

//! ext4 feature flags (compat, ro_compat, incompat): the bit values from
//! `fs/ext4/ext4.h`, their e2fsprogs names (so messages and tests line up with
//! `dumpe2fs` and `mke2fs -O`), and the sets this implementation supports. An
//! unknown incompat bit must refuse the mount; an unknown ro_compat bit must
//! refuse a read-write mount; compat bits are always safe to ignore.

/// Which of the three feature words a mask belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureKind {
    /// `s_feature_compat`.
    Compat,
    /// `s_feature_ro_compat`.
    RoCompat,
    /// `s_feature_incompat`.
    Incompat,
}

/// Directory preallocation.
pub const EXT4_FEATURE_COMPAT_DIR_PREALLOC: u32 = 0x0001;
/// AFS magic inodes.
pub const EXT4_FEATURE_COMPAT_IMAGIC_INODES: u32 = 0x0002;
/// The file system has a journal (`s_journal_inum` or `s_journal_dev`).
pub const EXT4_FEATURE_COMPAT_HAS_JOURNAL: u32 = 0x0004;
/// Extended attributes.
pub const EXT4_FEATURE_COMPAT_EXT_ATTR: u32 = 0x0008;
/// Reserved GDT blocks for online resize (inode 7).
pub const EXT4_FEATURE_COMPAT_RESIZE_INODE: u32 = 0x0010;
/// Hashed (htree) directories.
pub const EXT4_FEATURE_COMPAT_DIR_INDEX: u32 = 0x0020;
/// Lazy block groups (obsolete).
pub const EXT4_FEATURE_COMPAT_LAZY_BG: u32 = 0x0040;
/// Snapshot exclude bitmap (never merged).
pub const EXT4_FEATURE_COMPAT_EXCLUDE_BITMAP: u32 = 0x0100;
/// Superblock backups only in `s_backup_bgs`.
pub const EXT4_FEATURE_COMPAT_SPARSE_SUPER2: u32 = 0x0200;
/// Fast commits in the journal.
pub const EXT4_FEATURE_COMPAT_FAST_COMMIT: u32 = 0x0400;
/// Inode numbers never change (for encryption policies).
pub const EXT4_FEATURE_COMPAT_STABLE_INODES: u32 = 0x0800;
/// An orphan file (`s_orphan_file_inum`) exists.
pub const EXT4_FEATURE_COMPAT_ORPHAN_FILE: u32 = 0x1000;

/// Superblock backups only in groups 0, 1 and powers of 3, 5, 7.
pub const EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER: u32 = 0x0001;
/// Files may exceed 2 GiB (`i_size_high` is used).
pub const EXT4_FEATURE_RO_COMPAT_LARGE_FILE: u32 = 0x0002;
/// Binary-tree directories (never implemented).
pub const EXT4_FEATURE_RO_COMPAT_BTREE_DIR: u32 = 0x0004;
/// `i_blocks_hi` and `EXT4_HUGE_FILE_FL` are honoured.
pub const EXT4_FEATURE_RO_COMPAT_HUGE_FILE: u32 = 0x0008;
/// crc16 group descriptor checksums (`uninit_bg`).
pub const EXT4_FEATURE_RO_COMPAT_GDT_CSUM: u32 = 0x0010;
/// Directories may have more than 65000 links.
pub const EXT4_FEATURE_RO_COMPAT_DIR_NLINK: u32 = 0x0020;
/// `s_min_extra_isize`/`s_want_extra_isize` are meaningful.
pub const EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE: u32 = 0x0040;
/// Snapshots (never merged).
pub const EXT4_FEATURE_RO_COMPAT_HAS_SNAPSHOT: u32 = 0x0080;
/// Quota inodes.
pub const EXT4_FEATURE_RO_COMPAT_QUOTA: u32 = 0x0100;
/// Allocation in clusters of blocks.
pub const EXT4_FEATURE_RO_COMPAT_BIGALLOC: u32 = 0x0200;
/// crc32c checksums on all metadata.
pub const EXT4_FEATURE_RO_COMPAT_METADATA_CSUM: u32 = 0x0400;
/// Replicas (never merged).
pub const EXT4_FEATURE_RO_COMPAT_REPLICA: u32 = 0x0800;
/// The file system may only be mounted read-only.
pub const EXT4_FEATURE_RO_COMPAT_READONLY: u32 = 0x1000;
/// Project quota.
pub const EXT4_FEATURE_RO_COMPAT_PROJECT: u32 = 0x2000;
/// Shared (deduplicated) blocks.
pub const EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS: u32 = 0x4000;
/// fs-verity.
pub const EXT4_FEATURE_RO_COMPAT_VERITY: u32 = 0x8000;
/// The orphan file may have entries.
pub const EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT: u32 = 0x10000;

/// Compression (never merged).
pub const EXT4_FEATURE_INCOMPAT_COMPRESSION: u32 = 0x0001;
/// Directory entries carry a file type.
pub const EXT4_FEATURE_INCOMPAT_FILETYPE: u32 = 0x0002;
/// The journal needs replaying.
pub const EXT4_FEATURE_INCOMPAT_RECOVER: u32 = 0x0004;
/// This is an external journal device.
pub const EXT4_FEATURE_INCOMPAT_JOURNAL_DEV: u32 = 0x0008;
/// Group descriptors are spread over meta block groups.
pub const EXT4_FEATURE_INCOMPAT_META_BG: u32 = 0x0010;
/// Extent-mapped files.
pub const EXT4_FEATURE_INCOMPAT_EXTENTS: u32 = 0x0040;
/// 64-bit block numbers and 64-byte (or larger) group descriptors.
pub const EXT4_FEATURE_INCOMPAT_64BIT: u32 = 0x0080;
/// Multiple mount protection.
pub const EXT4_FEATURE_INCOMPAT_MMP: u32 = 0x0100;
/// Flexible block groups.
pub const EXT4_FEATURE_INCOMPAT_FLEX_BG: u32 = 0x0200;
/// Large xattr values stored in inodes.
pub const EXT4_FEATURE_INCOMPAT_EA_INODE: u32 = 0x0400;
/// Data in directory entries (Lustre).
pub const EXT4_FEATURE_INCOMPAT_DIRDATA: u32 = 0x1000;
/// `s_checksum_seed` holds the checksum seed.
pub const EXT4_FEATURE_INCOMPAT_CSUM_SEED: u32 = 0x2000;
/// Directories larger than 2 GiB and 3-level htrees.
pub const EXT4_FEATURE_INCOMPAT_LARGEDIR: u32 = 0x4000;
/// Small files and directories stored in the inode.
pub const EXT4_FEATURE_INCOMPAT_INLINE_DATA: u32 = 0x8000;
/// Encrypted files.
pub const EXT4_FEATURE_INCOMPAT_ENCRYPT: u32 = 0x10000;
/// Case-insensitive directories.
pub const EXT4_FEATURE_INCOMPAT_CASEFOLD: u32 = 0x20000;

/// incompat features rext4 can mount. `RECOVER` is listed because it is not a
/// format feature but a state: the mount path reports it through
/// [`super::jbd2::needs_recovery`] instead of calling it unsupported.
pub const EXT4_FEATURE_INCOMPAT_SUPP: u32 = EXT4_FEATURE_INCOMPAT_FILETYPE
    | EXT4_FEATURE_INCOMPAT_RECOVER
    | EXT4_FEATURE_INCOMPAT_META_BG
    | EXT4_FEATURE_INCOMPAT_EXTENTS
    | EXT4_FEATURE_INCOMPAT_64BIT
    | EXT4_FEATURE_INCOMPAT_FLEX_BG
    | EXT4_FEATURE_INCOMPAT_CSUM_SEED
    | EXT4_FEATURE_INCOMPAT_LARGEDIR;

/// ro_compat features rext4 can mount read-write. Anything else may still be
/// mounted read-only.
pub const EXT4_FEATURE_RO_COMPAT_SUPP: u32 = EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER
    | EXT4_FEATURE_RO_COMPAT_LARGE_FILE
    | EXT4_FEATURE_RO_COMPAT_HUGE_FILE
    | EXT4_FEATURE_RO_COMPAT_GDT_CSUM
    | EXT4_FEATURE_RO_COMPAT_DIR_NLINK
    | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE
    | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM
    | EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT;

/// Bit value and e2fsprogs name of one feature.
#[derive(Clone, Copy, Debug)]
struct Named {
    mask: u32,
    name: &'static str,
}

const fn n(mask: u32, name: &'static str) -> Named {
    Named { mask, name }
}

static COMPAT_NAMES: [Named; 12] = [
    n(EXT4_FEATURE_COMPAT_DIR_PREALLOC, "dir_prealloc"),
    n(EXT4_FEATURE_COMPAT_IMAGIC_INODES, "imagic_inodes"),
    n(EXT4_FEATURE_COMPAT_HAS_JOURNAL, "has_journal"),
    n(EXT4_FEATURE_COMPAT_EXT_ATTR, "ext_attr"),
    n(EXT4_FEATURE_COMPAT_RESIZE_INODE, "resize_inode"),
    n(EXT4_FEATURE_COMPAT_DIR_INDEX, "dir_index"),
    n(EXT4_FEATURE_COMPAT_LAZY_BG, "lazy_bg"),
    n(EXT4_FEATURE_COMPAT_EXCLUDE_BITMAP, "snapshot_bitmap"),
    n(EXT4_FEATURE_COMPAT_SPARSE_SUPER2, "sparse_super2"),
    n(EXT4_FEATURE_COMPAT_FAST_COMMIT, "fast_commit"),
    n(EXT4_FEATURE_COMPAT_STABLE_INODES, "stable_inodes"),
    n(EXT4_FEATURE_COMPAT_ORPHAN_FILE, "orphan_file"),
];

static RO_COMPAT_NAMES: [Named; 16] = [
    n(EXT4_FEATURE_RO_COMPAT_SPARSE_SUPER, "sparse_super"),
    n(EXT4_FEATURE_RO_COMPAT_LARGE_FILE, "large_file"),
    n(EXT4_FEATURE_RO_COMPAT_BTREE_DIR, "btree_dir"),
    n(EXT4_FEATURE_RO_COMPAT_HUGE_FILE, "huge_file"),
    n(EXT4_FEATURE_RO_COMPAT_GDT_CSUM, "uninit_bg"),
    n(EXT4_FEATURE_RO_COMPAT_DIR_NLINK, "dir_nlink"),
    n(EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE, "extra_isize"),
    n(EXT4_FEATURE_RO_COMPAT_HAS_SNAPSHOT, "snapshot"),
    n(EXT4_FEATURE_RO_COMPAT_QUOTA, "quota"),
    n(EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc"),
    n(EXT4_FEATURE_RO_COMPAT_METADATA_CSUM, "metadata_csum"),
    n(EXT4_FEATURE_RO_COMPAT_REPLICA, "replica"),
    n(EXT4_FEATURE_RO_COMPAT_READONLY, "read-only"),
    n(EXT4_FEATURE_RO_COMPAT_PROJECT, "project"),
    n(EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks"),
    n(EXT4_FEATURE_RO_COMPAT_VERITY, "verity"),
];

static RO_COMPAT_NAMES_HI: [Named; 1] =
    [n(EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT, "orphan_present")];

static INCOMPAT_NAMES: [Named; 16] = [
    n(EXT4_FEATURE_INCOMPAT_COMPRESSION, "compression"),
    n(EXT4_FEATURE_INCOMPAT_FILETYPE, "filetype"),
    n(EXT4_FEATURE_INCOMPAT_RECOVER, "needs_recovery"),
    n(EXT4_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev"),
    n(EXT4_FEATURE_INCOMPAT_META_BG, "meta_bg"),
    n(EXT4_FEATURE_INCOMPAT_EXTENTS, "extent"),
    n(EXT4_FEATURE_INCOMPAT_64BIT, "64bit"),
    n(EXT4_FEATURE_INCOMPAT_MMP, "mmp"),
    n(EXT4_FEATURE_INCOMPAT_FLEX_BG, "flex_bg"),
    n(EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode"),
    n(EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata"),
    n(EXT4_FEATURE_INCOMPAT_CSUM_SEED, "metadata_csum_seed"),
    n(EXT4_FEATURE_INCOMPAT_LARGEDIR, "large_dir"),
    n(EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data"),
    n(EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt"),
    n(EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold"),
];

/// e2fsprogs' names for feature bits it does not know, `FEATURE_<kind><bit>`.
static UNKNOWN_COMPAT: [&str; 32] = [
    "FEATURE_C0",
    "FEATURE_C1",
    "FEATURE_C2",
    "FEATURE_C3",
    "FEATURE_C4",
    "FEATURE_C5",
    "FEATURE_C6",
    "FEATURE_C7",
    "FEATURE_C8",
    "FEATURE_C9",
    "FEATURE_C10",
    "FEATURE_C11",
    "FEATURE_C12",
    "FEATURE_C13",
    "FEATURE_C14",
    "FEATURE_C15",
    "FEATURE_C16",
    "FEATURE_C17",
    "FEATURE_C18",
    "FEATURE_C19",
    "FEATURE_C20",
    "FEATURE_C21",
    "FEATURE_C22",
    "FEATURE_C23",
    "FEATURE_C24",
    "FEATURE_C25",
    "FEATURE_C26",
    "FEATURE_C27",
    "FEATURE_C28",
    "FEATURE_C29",
    "FEATURE_C30",
    "FEATURE_C31",
];
static UNKNOWN_RO_COMPAT: [&str; 32] = [
    "FEATURE_R0",
    "FEATURE_R1",
    "FEATURE_R2",
    "FEATURE_R3",
    "FEATURE_R4",
    "FEATURE_R5",
    "FEATURE_R6",
    "FEATURE_R7",
    "FEATURE_R8",
    "FEATURE_R9",
    "FEATURE_R10",
    "FEATURE_R11",
    "FEATURE_R12",
    "FEATURE_R13",
    "FEATURE_R14",
    "FEATURE_R15",
    "FEATURE_R16",
    "FEATURE_R17",
    "FEATURE_R18",
    "FEATURE_R19",
    "FEATURE_R20",
    "FEATURE_R21",
    "FEATURE_R22",
    "FEATURE_R23",
    "FEATURE_R24",
    "FEATURE_R25",
    "FEATURE_R26",
    "FEATURE_R27",
    "FEATURE_R28",
    "FEATURE_R29",
    "FEATURE_R30",
    "FEATURE_R31",
];
static UNKNOWN_INCOMPAT: [&str; 32] = [
    "FEATURE_I0",
    "FEATURE_I1",
    "FEATURE_I2",
    "FEATURE_I3",
    "FEATURE_I4",
    "FEATURE_I5",
    "FEATURE_I6",
    "FEATURE_I7",
    "FEATURE_I8",
    "FEATURE_I9",
    "FEATURE_I10",
    "FEATURE_I11",
    "FEATURE_I12",
    "FEATURE_I13",
    "FEATURE_I14",
    "FEATURE_I15",
    "FEATURE_I16",
    "FEATURE_I17",
    "FEATURE_I18",
    "FEATURE_I19",
    "FEATURE_I20",
    "FEATURE_I21",
    "FEATURE_I22",
    "FEATURE_I23",
    "FEATURE_I24",
    "FEATURE_I25",
    "FEATURE_I26",
    "FEATURE_I27",
    "FEATURE_I28",
    "FEATURE_I29",
    "FEATURE_I30",
    "FEATURE_I31",
];

/// The e2fsprogs name of a single feature bit (`mask` must have one bit set;
/// for anything else the name of its lowest set bit is returned). Unknown bits
/// are named the way e2fsprogs does, e.g. `FEATURE_I31`.
pub fn feature_name(kind: FeatureKind, mask: u32) -> &'static str {
    let bit = mask.trailing_zeros();
    let single = 1u32.checked_shl(bit).unwrap_or(0);
    let (known, extra, unknown): (&[Named], &[Named], &[&'static str; 32]) = match kind {
        FeatureKind::Compat => (&COMPAT_NAMES, &[], &UNKNOWN_COMPAT),
        FeatureKind::RoCompat => (&RO_COMPAT_NAMES, &RO_COMPAT_NAMES_HI, &UNKNOWN_RO_COMPAT),
        FeatureKind::Incompat => (&INCOMPAT_NAMES, &[], &UNKNOWN_INCOMPAT),
    };
    known
        .iter()
        .chain(extra.iter())
        .find(|f| f.mask == single)
        .map(|f| f.name)
        .or_else(|| unknown.get(usize::try_from(bit).ok()?).copied())
        .unwrap_or("FEATURE_NONE")
}

/// Iterator over the names of the bits set in a feature mask, lowest first.
#[derive(Clone, Debug)]
pub struct FeatureNames {
    kind: FeatureKind,
    remaining: u32,
}

impl FeatureNames {
    /// Names of every bit set in `mask`.
    pub fn new(kind: FeatureKind, mask: u32) -> Self {
        FeatureNames {
            kind,
            remaining: mask,
        }
    }
}

impl Iterator for FeatureNames {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        if self.remaining == 0 {
            return None;
        }
        let low = self.remaining & self.remaining.wrapping_neg();
        self.remaining &= !low;
        Some(feature_name(self.kind, low))
    }
}

/// Names of the incompat features in `incompat` that are not in `supported`
/// (pass [`EXT4_FEATURE_INCOMPAT_SUPP`] for what rext4 mounts).
pub fn unsupported_incompat(incompat: u32, supported: u32) -> FeatureNames {
    FeatureNames::new(FeatureKind::Incompat, incompat & !supported)
}

/// Names of the ro_compat features in `ro_compat` that are not in `supported`.
pub fn unsupported_ro_compat(ro_compat: u32, supported: u32) -> FeatureNames {
    FeatureNames::new(FeatureKind::RoCompat, ro_compat & !supported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            feature_name(FeatureKind::Incompat, EXT4_FEATURE_INCOMPAT_64BIT),
            "64bit"
        );
        assert_eq!(feature_name(FeatureKind::Incompat, 1 << 31), "FEATURE_I31");
        assert_eq!(
            feature_name(FeatureKind::RoCompat, EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT),
            "orphan_present"
        );
        let mut it = unsupported_incompat(
            EXT4_FEATURE_INCOMPAT_EXTENTS
                | EXT4_FEATURE_INCOMPAT_INLINE_DATA
                | EXT4_FEATURE_INCOMPAT_CASEFOLD,
            EXT4_FEATURE_INCOMPAT_SUPP,
        );
        assert_eq!(it.next(), Some("inline_data"));
        assert_eq!(it.next(), Some("casefold"));
        assert_eq!(it.next(), None);
    }
}
