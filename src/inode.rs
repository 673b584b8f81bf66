// SPDX-License-Identifier: GPL-2.0

//! Reading inodes from the inode table (`__ext4_iget`), and the per-inode
//! state kept beside each VFS inode (`struct ext4_inode_info`).

use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::{new_spinlock, prelude::*, str::CStr, sync::SpinLock};

use crate::error::corrupt;
use crate::extent_status::EsCache;
use crate::ondisk::{
    crc::ext4_inode_csum_seed,
    extent::{ExtentNode, NodeKind},
    features::EXT4_FEATURE_RO_COMPAT_PROJECT,
    group_desc::GroupDesc,
    inode::{
        ext4_inode_csum_verify, FileType, Inode as DiskInode, EXT4_APPEND_FL, EXT4_COMPR_FL,
        EXT4_DIRSYNC_FL, EXT4_ENCRYPT_FL, EXT4_FL_USER_VISIBLE, EXT4_IMMUTABLE_FL, EXT4_NOATIME_FL,
        EXT4_NODUMP_FL, EXT4_PROJINHERIT_FL, EXT4_ROOT_INO, EXT4_SYNC_FL,
    },
    superblock::Geometry,
    system_zone::SystemZones,
    Error as DiskError,
};
use crate::super_::Rext4Fs;
use crate::vfs::{
    FileAttr, Iget, Inode, InodeAttrs, InodeKind, InodeParams, NewSuperBlock, StatxAttrs,
    SuperBlock,
};

/// `EXT4_EXTENTS_FL`: the block map is an extent tree.
pub(crate) const EXT4_EXTENTS_FL: u32 = 0x0008_0000;
/// `EXT4_INDEX_FL`: the directory has an htree index.
pub(crate) const EXT4_INDEX_FL: u32 = 0x0000_1000;
/// `EXT4_INLINE_DATA_FL`: data in the inode (not supported).
const EXT4_INLINE_DATA_FL: u32 = 0x1000_0000;

/// What rext4 keeps of an on-disk inode after `iget`.
pub(crate) struct DiskFields {
    /// `i_block`: extent tree root, block map, or fast symlink target.
    pub(crate) i_block: [u8; 60],
    /// `i_flags`, as read; [`InodeInfo::clear_flag`] may drop flags in
    /// memory later (ext4's atomic `ei->i_flags`).
    pub(crate) flags: Atomic<u32>,
    /// Project id (0 without the `project` feature, as in ext4).
    pub(crate) projid: u32,
    pub(crate) file_acl: u64,
    /// Seed of this inode's metadata checksums (extent and directory blocks).
    pub(crate) csum_seed: u32,
    /// The on-disk inode (`inode_size` bytes), for in-inode xattrs.
    pub(crate) raw: KVec<u8>,
    pub(crate) extra_isize: u16,
    /// The fast symlink target, NUL-terminated.
    link: [u8; 61],
}

impl Default for DiskFields {
    fn default() -> Self {
        Self {
            i_block: [0; 60],
            flags: Atomic::new(0),
            projid: 0,
            file_acl: 0,
            csum_seed: 0,
            raw: KVec::new(),
            extra_isize: 0,
            link: [0; 61],
        }
    }
}

/// `struct ext4_inode_info`.
#[pin_data]
pub(crate) struct InodeInfo {
    /// Extent status cache and mapping sequence (`i_es_tree`, `i_es_seq`).
    #[pin]
    pub(crate) es: SpinLock<EsCache>,
    pub(crate) d: DiskFields,
    pub(crate) crtime: Option<(i64, u32)>,
}

impl InodeInfo {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            es <- new_spinlock!(EsCache::new(), "rext4_es"),
            d: DiskFields::default(),
            crtime: None,
        }? Error)
    }

    /// The inode's flags (`EXT4_*_FL`).
    pub(crate) fn flags(&self) -> u32 {
        self.d.flags.load(Relaxed)
    }

    pub(crate) fn has_flag(&self, f: u32) -> bool {
        self.flags() & f != 0
    }

    /// Clears flags `f` in memory only (`ext4_clear_inode_flag()`); the
    /// disk keeps them.
    pub(crate) fn clear_flag(&self, f: u32) {
        let mut old = self.flags();
        while old & f != 0 {
            match self.d.flags.cmpxchg(old, old & !f, Relaxed) {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
    }

    pub(crate) fn fast_link(&self) -> Result<&CStr> {
        CStr::from_bytes_with_nul(self.d.link.get(..=self.link_len()).ok_or(EFSCORRUPTED)?)
            .map_err(|_| EFSCORRUPTED)
    }

    fn link_len(&self) -> usize {
        self.d.link.iter().position(|&b| b == 0).unwrap_or(0)
    }
}

/// The largest file size (`ext4_max_size()` for extent files): 2^32 - 1
/// blocks, limited to 2^32 512-byte sectors without `huge_file`.
pub(crate) fn max_file_bytes(geo: &Geometry) -> i64 {
    let bits = geo.log_block_size;
    let mut res: i64 = ((1i64 << 32) - 1) << bits;
    if !geo.has_ro_compat(crate::ondisk::features::EXT4_FEATURE_RO_COMPAT_HUGE_FILE) {
        let upper = (((1i64 << 32) - 1) >> (bits - 9)) << bits;
        res = res.min(upper);
    }
    res
}

/// The inode `ino`, from the inode cache or read from disk.
pub(crate) fn iget(sb: &SuperBlock<Rext4Fs>, ino: u32) -> Result<ARef<Inode<Rext4Fs>>> {
    let info = sb.info();
    let geo = &info.geo;
    let dev = sb.id();
    // Reserved inodes other than the root are never reachable by name.
    if !geo.valid_inum(ino) || (ino < geo.first_ino && ino != EXT4_ROOT_INO) {
        return Err(corrupt(
            dev,
            ino.into(),
            0,
            DiskError::Corrupt("invalid inode number"),
        ));
    }
    let mut new = match sb.iget(ino.into())? {
        Iget::Cached(i) => return Ok(i),
        Iget::New(n) => n,
    };
    let (di, raw, block) = read_disk_inode(sb, geo, &info.groups, ino)?;
    if di.i_links_count == 0 && di.i_mode == 0 {
        return Err(corrupt(
            dev,
            ino.into(),
            block,
            DiskError::Corrupt("deleted inode referenced"),
        ));
    }
    if di.has_flag(EXT4_INLINE_DATA_FL) {
        return Err(corrupt(
            dev,
            ino.into(),
            block,
            DiskError::Unsupported("inline_data"),
        ));
    }
    let ftype = di
        .file_type()
        .map_err(|e| corrupt(dev, ino.into(), block, e))?;
    let size = di
        .size(geo)
        .map_err(|e| corrupt(dev, ino.into(), block, e))?;

    let mut d = DiskFields {
        i_block: di.i_block,
        flags: Atomic::new(di.i_flags),
        projid: match geo.has_ro_compat(EXT4_FEATURE_RO_COMPAT_PROJECT) {
            true => di.i_projid.unwrap_or(0),
            false => 0,
        },
        file_acl: di.file_acl(geo),
        csum_seed: ext4_inode_csum_seed(geo.csum_seed, ino, di.i_generation),
        raw,
        extra_isize: di.i_extra_isize,
        link: [0; 61],
    };
    if d.file_acl != 0 {
        info.zones().check(geo, d.file_acl, 1, ino).map_err(|_| {
            corrupt(
                dev,
                ino.into(),
                block,
                DiskError::Corrupt("bad extended attribute block"),
            )
        })?;
    }

    // Like `__ext4_iget()`: the block map held in the inode (extent tree
    // root, or the direct and indirect pointers) is checked here, so a
    // damaged one fails the lookup, not a later read.
    let maps_blocks = match ftype {
        FileType::Regular | FileType::Directory => true,
        FileType::Symlink => !di.is_fast_symlink(geo),
        _ => false,
    };
    if maps_blocks {
        check_block_map(&d, geo, info.zones(), ino)
            .map_err(|e| corrupt(dev, ino.into(), block, e))?;
    }

    let kind = match ftype {
        FileType::Regular => InodeKind::Reg,
        FileType::Directory => InodeKind::Dir,
        FileType::Symlink if di.is_fast_symlink(geo) => {
            let target = di
                .fast_symlink_target(geo)
                .map_err(|e| corrupt(dev, ino.into(), block, e))?;
            if target.is_empty() {
                return Err(corrupt(
                    dev,
                    ino.into(),
                    block,
                    DiskError::Corrupt("empty symlink"),
                ));
            }
            d.link
                .get_mut(..target.len())
                .ok_or(EFSCORRUPTED)?
                .copy_from_slice(target);
            InodeKind::FastSymlink
        }
        FileType::Symlink => {
            if size == 0 || size >= u64::from(geo.block_size) {
                return Err(corrupt(
                    dev,
                    ino.into(),
                    block,
                    DiskError::Corrupt("symlink size"),
                ));
            }
            InodeKind::Symlink
        }
        FileType::CharDevice | FileType::BlockDevice | FileType::Fifo | FileType::Socket => {
            let dn = di
                .device_number()
                .map_err(|e| corrupt(dev, ino.into(), block, e))?;
            InodeKind::Special {
                major: dn.major,
                minor: dn.minor,
            }
        }
    };
    let ts = |t: crate::ondisk::inode::Timestamp| (t.sec, t.nsec);
    let params = InodeParams {
        kind,
        mode: di.i_mode,
        uid: di.uid(),
        gid: di.gid(),
        nlink: di.i_links_count.into(),
        size: size as i64,
        blocks: di.blocks(geo),
        atime: ts(di.atime()),
        mtime: ts(di.mtime()),
        ctime: ts(di.ctime()),
        generation: di.i_generation,
        attrs: inode_attrs(di.i_flags),
    };
    {
        let this = new.data_mut();
        let this = this.project();
        *this.d = d;
        *this.crtime = di.crtime().map(ts);
    }
    new.init(&params)
}

use kernel::sync::aref::ARef;

/// `ext4_ext_check_inode()` / `ext4_ind_check_inode()`: the extent root in
/// `i_block` parses (header, counts, sorted entries) and, like every nonzero
/// block pointer of an indirect map, points inside the file system and at
/// no metadata.
fn check_block_map(
    d: &DiskFields,
    geo: &Geometry,
    zones: SystemZones<'_>,
    ino: u32,
) -> core::result::Result<(), DiskError> {
    if d.flags.load(Relaxed) & EXT4_EXTENTS_FL != 0 {
        let root = ExtentNode::parse(&d.i_block, NodeKind::Root, geo)?;
        return zones.check_node(geo, &root, ino);
    }
    zones.check_block_refs(geo, &d.i_block, ino)
}

/// Reads on-disk inode `ino` from its inode table block, checksum checked:
/// the decoded inode, a copy of its bytes, and the block it is in.
pub(crate) fn read_disk_inode(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    groups: &[GroupDesc],
    ino: u32,
) -> Result<(DiskInode, KVec<u8>, u64)> {
    let dev = sb.id();
    let loc = geo
        .inode_location(ino)
        .map_err(|e| corrupt(dev, ino.into(), 0, e))?;
    let gd = groups.get(loc.group as usize).ok_or(EFSCORRUPTED)?;
    let block = gd
        .inode_table()
        .checked_add(loc.table_block.into())
        .filter(|&b| geo.check_block_range(b, 1).is_ok())
        .ok_or_else(|| {
            corrupt(
                dev,
                ino.into(),
                0,
                DiskError::Corrupt("inode table outside the file system"),
            )
        })?;
    let bh = sb.bread(block)?;
    let off = loc.offset as usize;
    let raw = off
        .checked_add(usize::from(geo.inode_size))
        .and_then(|end| bh.data().get(off..end))
        .ok_or_else(|| {
            corrupt(
                dev,
                ino.into(),
                block,
                DiskError::Corrupt("inode beyond its block"),
            )
        })?;
    if geo.has_metadata_csum() {
        ext4_inode_csum_verify(raw, geo, ino).map_err(|e| corrupt(dev, ino.into(), block, e))?;
    }
    let di = DiskInode::parse(raw, geo).map_err(|e| corrupt(dev, ino.into(), block, e))?;
    let mut copy = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    copy.extend_from_slice(raw, GFP_KERNEL)?;
    Ok((di, copy, block))
}

/// `ext4_set_inode_flags()`: what the VFS enforces, from the disk flags.
fn inode_attrs(flags: u32) -> InodeAttrs {
    InodeAttrs {
        sync: flags & EXT4_SYNC_FL != 0,
        append: flags & EXT4_APPEND_FL != 0,
        immutable: flags & EXT4_IMMUTABLE_FL != 0,
        noatime: flags & EXT4_NOATIME_FL != 0,
        dirsync: flags & EXT4_DIRSYNC_FL != 0,
    }
}

/// The `statx` attributes of `ext4_getattr()`.
pub(crate) fn statx_attributes(inode: &Inode<Rext4Fs>) -> StatxAttrs {
    let flags = inode.data().flags() & EXT4_FL_USER_VISIBLE;
    StatxAttrs {
        append: flags & EXT4_APPEND_FL != 0,
        compressed: flags & EXT4_COMPR_FL != 0,
        encrypted: flags & EXT4_ENCRYPT_FL != 0,
        immutable: flags & EXT4_IMMUTABLE_FL != 0,
        nodump: flags & EXT4_NODUMP_FL != 0,
    }
}

/// `ext4_fileattr_get()`: the user-visible flags (a regular file does not
/// show project inheritance) and the project id.
pub(crate) fn fileattr(inode: &Inode<Rext4Fs>) -> FileAttr {
    let data = inode.data();
    let mut flags = data.flags() & EXT4_FL_USER_VISIBLE;
    if inode.is_reg() {
        flags &= !EXT4_PROJINHERIT_FL;
    }
    FileAttr {
        flags,
        projid: data.d.projid,
    }
}
