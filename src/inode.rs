// SPDX-License-Identifier: GPL-2.0

//! Reading inodes from the inode table (`__ext4_iget`), and the per-inode
//! state kept beside each VFS inode (`struct ext4_inode_info`).

use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::{new_mutex, new_spinlock, prelude::*, str::CStr, sync::Mutex, sync::SpinLock};

use crate::error::corrupt;
use crate::extent_status::EsCache;
pub(crate) use crate::ondisk::inode::{EXT4_EXTENTS_FL, EXT4_INDEX_FL};
use crate::ondisk::{
    crc::ext4_inode_csum_seed,
    group_desc::GroupDesc,
    iget::{check_inum, projid, validate, IgetKind, Refusal, RefusalClass},
    inode::{
        FileType, Inode as DiskInode, EXT4_APPEND_FL, EXT4_COMPR_FL, EXT4_DIRSYNC_FL,
        EXT4_ENCRYPT_FL, EXT4_FL_USER_VISIBLE, EXT4_IMMUTABLE_FL, EXT4_NOATIME_FL, EXT4_NODUMP_FL,
        EXT4_PROJINHERIT_FL, EXT4_SYNC_FL,
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

/// What rext4 keeps of an on-disk inode after `iget`.
pub(crate) struct DiskFields {
    /// `i_flags`, as read; [`InodeInfo::clear_flag`] may drop flags in
    /// memory later (ext4's atomic `ei->i_flags`).
    pub(crate) flags: Atomic<u32>,
    /// Project id (0 without the `project` feature, as in ext4).
    pub(crate) projid: u32,
    /// Seed of this inode's metadata checksums (extent and directory blocks).
    pub(crate) csum_seed: u32,
    /// The fast symlink target, NUL-terminated.
    link: [u8; 61],
}

impl Default for DiskFields {
    fn default() -> Self {
        Self {
            flags: Atomic::new(0),
            projid: 0,
            csum_seed: 0,
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
    /// `i_block` as the block map reads it: the extent root or block map,
    /// changed by the write path under the inode's `i_rwsem` (a directory
    /// growing) together with an extent-status invalidation.
    #[pin]
    pub(crate) root: SpinLock<[u8; 60]>,
    pub(crate) d: DiskFields,
    pub(crate) crtime: Option<(i64, u32)>,
    /// The last transaction that changed this inode (fsync waits for it;
    /// ext4's `i_sync_tid`).
    pub(crate) tid: Atomic<u32>,
    /// Orders changes to a regular file's block map against walks of it
    /// (ext4's `i_data_sem`): writers hold it inside their transaction,
    /// around the tree change and the refresh of `root` and the cache;
    /// readers hold it across a walk that misses the cache and the fill.
    #[pin]
    pub(crate) data_lock: Mutex<()>,
    /// Orders xattr changes against xattr reads (ext4's `xattr_sem`):
    /// taken before a change's transaction starts, and by readers while
    /// they copy the in-inode area or the block.
    #[pin]
    pub(crate) xattr_lock: Mutex<()>,
    /// The size on disk (`i_disksize`): the VFS size runs ahead of it
    /// until writeback completes. Changed under `data_lock`.
    pub(crate) disksize: Atomic<u64>,
}

impl InodeInfo {
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            es <- new_spinlock!(EsCache::new(), "rext4_es"),
            root <- new_spinlock!([0u8; 60], "rext4_root"),
            d: DiskFields::default(),
            crtime: None,
            tid: Atomic::new(0),
            data_lock <- new_mutex!((), "rext4_data"),
            xattr_lock <- new_mutex!((), "rext4_xattr"),
            disksize: Atomic::new(0),
        }? Error)
    }

    /// The inode's flags (`EXT4_*_FL`).
    pub(crate) fn flags(&self) -> u32 {
        self.d.flags.load(Relaxed)
    }

    pub(crate) fn has_flag(&self, f: u32) -> bool {
        self.flags() & f != 0
    }

    /// Sets flags `f` in memory (`ext4_set_inode_flag()`), after the write
    /// path set them on disk (a directory becoming indexed).
    pub(crate) fn set_flag(&self, f: u32) {
        let mut old = self.flags();
        while old & f != f {
            match self.d.flags.cmpxchg(old, old | f, Relaxed) {
                Ok(_) => return,
                Err(now) => old = now,
            }
        }
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

/// The inode `ino`, reached by a name, from the inode cache or read from
/// disk.
pub(crate) fn iget(sb: &SuperBlock<Rext4Fs>, ino: u32) -> Result<ARef<Inode<Rext4Fs>>> {
    iget_as(sb, ino, IgetKind::Normal)
}

/// An inode the file system itself asks for, such as the root at mount
/// (`EXT4_IGET_SPECIAL`).
pub(crate) fn iget_special(sb: &SuperBlock<Rext4Fs>, ino: u32) -> Result<ARef<Inode<Rext4Fs>>> {
    iget_as(sb, ino, IgetKind::Special)
}

fn iget_as(sb: &SuperBlock<Rext4Fs>, ino: u32, how: IgetKind) -> Result<ARef<Inode<Rext4Fs>>> {
    let info = sb.info();
    let geo = &info.geo;
    let dev = sb.id();
    check_inum(geo, ino, how).map_err(|r| refuse(dev, ino, 0, how, r))?;
    let mut new = match sb.iget(ino.into())? {
        Iget::Cached(i) => return Ok(i),
        Iget::New(n) => n,
    };
    let (raw, block) = read_raw_inode(sb, geo, &info.groups, ino)?;
    let di = validate(
        &raw,
        geo,
        info.zones(),
        ino,
        how,
        kernel::page::PAGE_SIZE as u32,
    )
    .map_err(|r| refuse(dev, ino, block, how, r))?;
    // validate() has checked the type, the size and a fast symlink's target.
    let ftype = di.file_type().map_err(|_| EFSCORRUPTED)?;
    let size = di.size(geo).map_err(|_| EFSCORRUPTED)?;

    let mut d = DiskFields {
        flags: Atomic::new(di.i_flags),
        projid: projid(&di, geo),
        csum_seed: ext4_inode_csum_seed(geo.csum_seed, ino, di.i_generation),
        link: [0; 61],
    };
    let kind = match ftype {
        FileType::Regular => InodeKind::Reg,
        FileType::Directory => InodeKind::Dir,
        FileType::Symlink if di.is_fast_symlink(geo) => {
            let target = di
                .fast_symlink_target(geo)
                .map_err(|e| corrupt(dev, ino.into(), block, e))?;
            d.link
                .get_mut(..target.len())
                .ok_or(EFSCORRUPTED)?
                .copy_from_slice(target);
            InodeKind::FastSymlink
        }
        FileType::Symlink => {
            // ext4 lets this inode in and fails its readlink; rext4 reads
            // the target in one block, so refuses it here.
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
        size: di.i_size(geo),
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
        *this.root.lock() = di.i_block;
        *this.d = d;
        *this.crtime = di.crtime().map(ts);
        this.disksize.store(size, Relaxed);
    }
    new.init(&params)
}

/// Reports a refused inode as ext4 does (`ext4_error_inode()`: device,
/// inode, reason) and returns ext4's errno for it. A link count of 0 is
/// ext4's `-ESTALE`, which a lookup reports as a deleted inode referenced
/// and a special iget as an unallocated special inode: both corruption.
fn refuse(dev: &CStr, ino: u32, block: u64, how: IgetKind, r: Refusal) -> Error {
    if crate::vfs::ratelimit() {
        match (r, how) {
            (Refusal::Unallocated, IgetKind::Normal) => {
                pr_err!("rext4 ({dev}): deleted inode referenced: {ino}\n")
            }
            (Refusal::Unallocated, IgetKind::Special) => {
                pr_err!("rext4 ({dev}): inode #{ino}: iget: special inode unallocated\n")
            }
            _ => pr_err!(
                "rext4 ({dev}): inode #{ino}: block {block}: {}\n",
                crate::error::Shown(&r)
            ),
        }
    }
    match r.errno() {
        RefusalClass::Corrupt => EFSCORRUPTED,
        RefusalClass::BadChecksum => EBADMSG,
        RefusalClass::Unsupported => EOPNOTSUPP,
    }
}

use kernel::sync::aref::ARef;

/// The journal inode `ino`, read before the metadata zones exist (they
/// include its blocks), as `ext4_get_journal_inode()` reads it: every
/// `__ext4_iget()` rule of a special inode, and a regular, unencrypted file.
/// Returns the decoded inode and the block it is in.
pub(crate) fn read_journal_inode(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    groups: &[GroupDesc],
    ino: u32,
) -> Result<(DiskInode, u64)> {
    let dev = sb.id();
    let (raw, block) = read_raw_inode(sb, geo, groups, ino)?;
    let how = IgetKind::Special;
    let di = validate(
        &raw,
        geo,
        SystemZones::default(),
        ino,
        how,
        kernel::page::PAGE_SIZE as u32,
    )
    .map_err(|r| refuse(dev, ino, block, how, r))?;
    if di.file_type() != Ok(FileType::Regular) || di.has_flag(EXT4_ENCRYPT_FL) {
        return Err(corrupt(
            dev,
            ino.into(),
            block,
            DiskError::Corrupt("invalid journal inode"),
        ));
    }
    Ok((di, block))
}

/// A copy of on-disk inode `ino`'s bytes, and the block they are in.
pub(crate) fn read_raw_inode(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    groups: &[GroupDesc],
    ino: u32,
) -> Result<(KVec<u8>, u64)> {
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
    let mut copy = KVec::with_capacity(raw.len(), GFP_KERNEL)?;
    copy.extend_from_slice(raw, GFP_KERNEL)?;
    Ok((copy, block))
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
