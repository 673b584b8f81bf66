// SPDX-License-Identifier: GPL-2.0

//! Mounting: options, the super block and group descriptors, `statfs` and
//! `/proc/mounts`. `Rext4Fs` is the [`FileSystem`] the VFS talks to; each of
//! its callbacks lives in the file named after its C counterpart (`inode`,
//! `namei`/`dir`, `file`, `xattr`) and is wired here.
//!
//! What is refused, and why:
//! - incompat features we cannot read: `EINVAL`, one dmesg line per feature;
//! - unknown ro_compat features: read-only mounts only;
//! - a journal that needs recovery is replayed by jbd2 before anything else
//!   is read, read-only mounts included, as ext4 does; `EINVAL` when it has
//!   fast commits or is external, `EROFS` on a read-only device;
//! - read-write mounts of images rext4 cannot change correctly: `EINVAL`
//!   with a message naming why ([`check_writable`]); they stay mountable
//!   read-only.

use kernel::sync::atomic::{Atomic, Relaxed};
use kernel::{new_mutex, prelude::*, str::CStr, sync::Mutex, uaccess::UserPtr};

use crate::ondisk::{
    features::*,
    group_desc::{ext4_group_desc_csum_verify, GroupDesc},
    jbd2::{JournalSuperblock, JBD2_FEATURE_INCOMPAT_FAST_COMMIT},
    superblock::{
        mark_recovery_complete, ErrorState, Geometry, Superblock, EXT4_SUPERBLOCK_OFFSET,
        EXT4_SUPER_MAGIC,
    },
    system_zone::{SystemZones, Zone},
    Error as DiskError,
};
use crate::vfs::{
    self, DirEmitter, FileAttr, FileSystem, Inode, Mapping, NewSuperBlock, OpenFile, SeqFile,
    StatFs, StatxAttrs, SuperBlock, WbQueue,
};
use crate::{dir, error::describe, error::to_kernel, inode, xattr};

pub(crate) struct Rext4Fs;

/// `errors=` behaviour.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Errors {
    Continue,
    #[default]
    RemountRo,
    Panic,
}

/// Mount options (ext4 names).
#[derive(Clone, Copy, Default)]
pub(crate) struct MountOptions {
    /// Regular-file buffered I/O through iomap (`buffered_iomap`), off by
    /// default as in the series (R7).
    pub(crate) buffered_iomap: bool,
    pub(crate) errors: Option<Errors>,
    /// `noload`/`norecovery`: do not look at the journal.
    pub(crate) noload: bool,
    pub(crate) nodelalloc: bool,
    /// `noacl`: ignore POSIX ACLs (ext4 enables them by default).
    pub(crate) noacl: bool,
    /// `noblock_validity`: check block pointers for range only, not
    /// against the system zones (ext4's `block_validity` is on by default).
    pub(crate) noblock_validity: bool,
    /// `nobarrier`: commits do not flush the device cache.
    pub(crate) nobarrier: bool,
}

/// Per-mount state (`struct ext4_sb_info`).
pub(crate) struct SbInfo {
    pub(crate) geo: Geometry,
    pub(crate) opts: MountOptions,
    pub(crate) groups: KVec<GroupDesc>,
    /// Metadata and journal blocks, sorted (`s_system_blks`); empty with
    /// `noblock_validity`.
    zones: KVVec<Zone>,
    /// Free blocks and inodes (ext4's per-cpu counters): the descriptors'
    /// sum at mount, then changed by every transaction.
    pub(crate) free_blocks: Atomic<i64>,
    pub(crate) free_inodes: Atomic<i64>,
    /// The open journal of a read-write mount with `has_journal`.
    pub(crate) journal: Option<crate::vfs::jbd2::Journal<crate::block_validity::OwnedJournalRuns>>,
    /// Orders every change to bitmaps, descriptors and inode tables
    /// (taken inside a handle: [`crate::journal`]).
    pub(crate) alloc_lock: Pin<KBox<Mutex<crate::journal::Pending>>>,
    /// `s_state` at mount, written back at a clean unmount.
    pub(crate) mount_state: u16,
    /// Whether this mount went read-write (it keeps the super block's
    /// mount marks to undo at unmount).
    pub(crate) writable: bool,
    pub(crate) r_blocks: u64,
    /// Blocks held back for metadata growth, as ext4 does on extent file
    /// systems (`ext4_calculate_resv_clusters()`: 2%, at most 4096).
    pub(crate) resv_blocks: u64,
    pub(crate) overhead: u64,
    journal_inum: u32,
    /// What an error does: `errors=`, or the super block's `s_errors`.
    pub(crate) errors: Errors,
    /// Writeback completions that convert extents and raise sizes (a
    /// read-write mount's).
    pub(crate) wbq: Option<crate::vfs::WbQueue>,
    /// Set by `EXT4_IOC_SHUTDOWN` (ext4's `EXT4_FLAGS_SHUTDOWN`): from then
    /// on file I/O and every change fail with `EIO` and nothing more is
    /// written, as if the power had gone.
    pub(crate) shutdown: Atomic<u32>,
}

impl SbInfo {
    /// Whether the file system was shut down (`ext4_forced_shutdown()`).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shutdown.load(Relaxed) != 0
    }
}

/// `ext4_force_shutdown()`: `flags` 0 (`EXT4_GOING_FLAGS_DEFAULT`) freezes
/// the device first, so everything written so far reaches it; 1
/// (`LOGFLUSH`) commits the running transaction, then aborts the journal;
/// 2 (`NOLOGFLUSH`) aborts it at once. Shutting down twice is a no-op.
pub(crate) fn shutdown(sb: &SuperBlock<Rext4Fs>, flags: u32) -> Result {
    const DEFAULT: u32 = 0;
    const LOGFLUSH: u32 = 1;
    const NOLOGFLUSH: u32 = 2;
    if flags > NOLOGFLUSH {
        return Err(EINVAL);
    }
    let info = sb.info();
    if info.is_shut_down() {
        return Ok(());
    }
    pr_alert!("rext4 ({}): shut down requested ({flags})\n", sb.id());
    match flags {
        DEFAULT => {
            sb.freeze_device()?;
            info.shutdown.store(1, Relaxed);
            sb.thaw_device();
        }
        LOGFLUSH => {
            if let Some(j) = &info.journal {
                let _ = j.force_commit();
            }
            info.shutdown.store(1, Relaxed);
            if let Some(j) = &info.journal {
                j.abort(ESHUTDOWN);
            }
        }
        _ => {
            info.shutdown.store(1, Relaxed);
            if let Some(j) = &info.journal {
                j.abort(ESHUTDOWN);
            }
        }
    }
    Ok(())
}

/// The errno for a super block that fails its checks. ext4's fill_super
/// answers `EINVAL` for a bad super block (it is not a file system it can
/// mount), and `EFSBADCRC` for a checksum mismatch; rext4 does the same.
fn sb_errno(e: DiskError) -> Error {
    match e {
        DiskError::Corrupt(_) => EINVAL,
        e => to_kernel(e),
    }
}

/// Byte offset of the super block inside block `sb_block` of `bs` bytes.
fn sb_location(bs: u32) -> (u64, usize) {
    let off = EXT4_SUPERBLOCK_OFFSET;
    let bs = u64::from(bs);
    match (off.checked_div(bs), off.checked_rem(bs)) {
        (Some(blk), Some(rem)) => (blk, rem as usize),
        _ => (0, 0),
    }
}

impl SbInfo {
    /// Reads the super block and group descriptors. A journal that needs
    /// recovery is replayed first (`replayed` is `None`) and everything is
    /// read again (`replayed` says what the replay found): nothing read
    /// before the replay is trusted after it.
    fn read(
        sb: &NewSuperBlock<Rext4Fs>,
        opts: &MountOptions,
        replayed: Option<&Replayed>,
    ) -> Result<Self> {
        let id = sb.id();
        // Read the super block with the smallest block size, then switch.
        sb.set_blocksize(1024)
            .inspect_err(|_| pr_err!("rext4 ({id}): unable to set blocksize 1024\n"))?;
        let bh = sb.bread(1)?;
        let raw = bh.data();
        let disk = match Superblock::parse(raw) {
            Ok(s) => s,
            Err(e) => {
                // Say "not ext4" plainly for a wrong magic: it is not corruption
                // of a file system we know.
                if raw.get(0x38..0x3a) != Some(&EXT4_SUPER_MAGIC.to_le_bytes()[..]) {
                    pr_err!("rext4 ({id}): VFS: can't find ext4 filesystem\n");
                    return Err(EINVAL);
                }
                pr_err!(
                    "rext4 ({id}): super block: {}: {}\n",
                    describe(&e).0,
                    describe(&e).1
                );
                return Err(sb_errno(e));
            }
        };
        // The error fields as they are before any replay (ext4_load_journal()).
        let errors_before = ErrorState::of(raw).map_err(sb_errno)?;
        drop(bh);

        // Every incompat feature we cannot read, by name (ext4_feature_set_ok).
        let mut refused = false;
        for name in disk.unsupported_incompat(EXT4_FEATURE_INCOMPAT_SUPP) {
            pr_err!("rext4 ({id}): unsupported incompat feature: {name}\n");
            refused = true;
        }
        if refused {
            return Err(EINVAL);
        }
        if !sb.rdonly() {
            for name in unsupported_ro_compat(disk.s_feature_ro_compat, EXT4_FEATURE_RO_COMPAT_SUPP)
            {
                pr_err!("rext4 ({id}): unsupported ro_compat feature {name}: mount read-only\n");
                refused = true;
            }
            if refused {
                return Err(EROFS);
            }
        }
        let geo = disk.validate().map_err(|e| {
            pr_err!(
                "rext4 ({id}): super block: {}: {}\n",
                describe(&e).0,
                describe(&e).1
            );
            sb_errno(e)
        })?;

        let needs_recovery =
            geo.has_incompat(EXT4_FEATURE_INCOMPAT_RECOVER) && !opts.noload && replayed.is_none();
        if needs_recovery {
            check_recoverable(sb, &geo, &disk)?;
        }
        if !sb.rdonly() {
            check_writable(sb, opts, &geo, &disk)?;
        }

        let fs_bytes = geo
            .blocks_count
            .checked_mul(geo.block_size.into())
            .ok_or(EFSCORRUPTED)?;
        if fs_bytes > sb.device_bytes() {
            pr_err!(
                "rext4 ({id}): bad geometry: block count {} exceeds size of device ({} blocks)\n",
                geo.blocks_count,
                sb.device_bytes() >> geo.log_block_size
            );
            return Err(EINVAL);
        }
        if geo.block_size != 1024 {
            sb.set_blocksize(geo.block_size).inspect_err(|_| {
                pr_err!("rext4 ({id}): bad block size {}\n", geo.block_size);
            })?;
        }
        // The super block was validated with 1 KiB reads; reread it at the
        // real block size to make sure both views agree.
        let (blk, off) = sb_location(geo.block_size);
        let bh = sb.bread(blk)?;
        let again = bh.data().get(off..).map(Superblock::parse);
        if !matches!(again, Some(Ok(ref s)) if *s == disk) {
            pr_err!("rext4 ({id}): super block changed under us\n");
            return Err(EFSCORRUPTED);
        }
        drop(bh);

        let mut groups = KVec::with_capacity(geo.groups_count as usize, GFP_KERNEL)?;
        let (mut free_blocks, mut free_inodes) = (0u64, 0u64);
        let mut cur: Option<vfs::BufferHead> = None;
        for g in 0..geo.groups_count {
            let loc = geo.group_desc_location(g).map_err(to_kernel)?;
            if cur.as_ref().map(|b| b.blocknr()) != Some(loc.block) {
                cur = Some(sb.bread(loc.block)?);
            }
            let data = cur.as_ref().map(|b| b.data()).ok_or(EIO)?;
            let raw = data.get(loc.offset as usize..).ok_or(EFSCORRUPTED)?;
            let gd = GroupDesc::parse(raw, &geo)
                .and_then(|gd| ext4_group_desc_csum_verify(&geo, g, raw).map(|()| gd))
                .and_then(|gd| gd.check(&geo, g).map(|()| gd))
                .map_err(|e| {
                    pr_err!(
                        "rext4 ({id}): group descriptor {g} (block {}): {}: {}\n",
                        loc.block,
                        describe(&e).0,
                        describe(&e).1
                    );
                    to_kernel(e)
                })?;
            free_blocks = free_blocks.saturating_add(gd.free_blocks_count().into());
            free_inodes = free_inodes.saturating_add(gd.free_inodes_count().into());
            groups.push(gd, GFP_KERNEL)?;
        }
        if needs_recovery {
            // ext4_load_journal(): replay, then read it all again.
            let runs = crate::block_validity::journal_runs(sb, &geo, &groups, disk.s_journal_inum)?;
            let journal_errno = recover_journal(sb, &geo, &runs)?;
            drop((cur, groups, runs));
            let replayed = Replayed {
                errors_before,
                journal_errno,
            };
            return Self::read(sb, opts, Some(&replayed));
        }
        if let Some(r) = replayed {
            // ext4_clear_journal_err() and ext4_mark_recovery_complete():
            // the super block keeps its error state, says the journal is
            // clean, and has the counts the descriptors sum to.
            if r.journal_errno != 0 {
                pr_warn!(
                    "rext4 ({id}): Filesystem error recorded from previous mount: {}\n",
                    r.journal_errno
                );
                pr_warn!("rext4 ({id}): Marked fs in need of filesystem check.\n");
            }
            let free_inodes = u32::try_from(free_inodes).map_err(|_| EFSCORRUPTED)?;
            let (blk, off) = sb_location(geo.block_size);
            let mut bh = sb.bread(blk)?;
            let mut res = Ok(());
            bh.write_sync(|b| {
                res = b
                    .get_mut(off..)
                    .ok_or(DiskError::Corrupt("super block"))
                    .and_then(|raw| {
                        mark_recovery_complete(
                            raw,
                            &r.errors_before,
                            r.journal_errno != 0,
                            free_blocks,
                            free_inodes,
                        )
                    });
            })?;
            res.map_err(to_kernel)?;
            pr_info!("rext4 ({id}): recovery complete\n");
        }
        let zones = match opts.noblock_validity {
            true => KVVec::new(),
            false => crate::block_validity::system_zones(sb, &geo, &disk, &groups)?,
        };
        let overhead = match disk.s_overhead_clusters {
            0 => fs_overhead(&geo, journal_blocks(&disk)),
            n => n.into(),
        };
        let resv_blocks = match geo.has_incompat(EXT4_FEATURE_INCOMPAT_EXTENTS) {
            true => (geo.blocks_count / 50).min(4096),
            false => 0,
        };
        let free_blocks = i64::try_from(free_blocks).map_err(|_| EFSCORRUPTED)?;
        let free_inodes = i64::try_from(free_inodes).map_err(|_| EFSCORRUPTED)?;
        Ok(Self {
            r_blocks: disk.r_blocks_count(),
            resv_blocks,
            opts: *opts,
            groups,
            zones,
            free_blocks: Atomic::new(free_blocks),
            free_inodes: Atomic::new(free_inodes),
            overhead,
            journal: None,
            alloc_lock: KBox::pin_init(new_mutex!(crate::journal::Pending::default()), GFP_KERNEL)?,
            mount_state: disk.s_state,
            writable: false,
            wbq: None,
            shutdown: Atomic::new(0),
            journal_inum: disk.s_journal_inum,
            errors: opts.errors.unwrap_or(match disk.s_errors {
                1 => Errors::Continue,
                3 => Errors::Panic,
                _ => Errors::RemountRo,
            }),
            geo,
        })
    }

    /// What block maps are checked against (`ext4_inode_block_valid()`).
    pub(crate) fn zones(&self) -> SystemZones<'_> {
        SystemZones::new(&self.zones)
    }
}

/// Whether rext4 can change this file system correctly: every feature it
/// would have to write and does not is a refusal naming it (`EINVAL`; the
/// image stays mountable read-only).
fn check_writable(
    sb: &NewSuperBlock<Rext4Fs>,
    opts: &MountOptions,
    geo: &Geometry,
    disk: &Superblock,
) -> Result {
    let id = sb.id();
    let refuse = |why: &str| {
        pr_err!("rext4 ({id}): cannot mount read-write: {why}; mount with -o ro\n");
        EINVAL
    };
    if opts.noload {
        return Err(refuse("noload/norecovery needs a read-only mount"));
    }
    for (incompat, name) in [
        (
            EXT4_FEATURE_INCOMPAT_INLINE_DATA,
            "inline_data is not written by rext4",
        ),
        (
            EXT4_FEATURE_INCOMPAT_EA_INODE,
            "ea_inode is not written by rext4",
        ),
        (EXT4_FEATURE_INCOMPAT_MMP, "mmp is not supported"),
        (
            EXT4_FEATURE_INCOMPAT_CASEFOLD,
            "casefold names are not written by rext4",
        ),
        (EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt is not supported"),
        (
            EXT4_FEATURE_INCOMPAT_JOURNAL_DEV,
            "a journal device is not a file system",
        ),
    ] {
        if geo.has_incompat(incompat) {
            return Err(refuse(name));
        }
    }
    if !geo.has_incompat(EXT4_FEATURE_INCOMPAT_EXTENTS) {
        return Err(refuse(
            "block-mapped (^extent) images need the buffer_head write path, which rext4 does not have yet",
        ));
    }
    for (ro, name) in [
        (
            EXT4_FEATURE_RO_COMPAT_BIGALLOC,
            "bigalloc is not written by rext4",
        ),
        (
            EXT4_FEATURE_RO_COMPAT_QUOTA,
            "quota is not written by rext4",
        ),
        (
            EXT4_FEATURE_RO_COMPAT_PROJECT,
            "project quota is not written by rext4",
        ),
        (
            EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT,
            "orphans are present: mount once with ext4 or run e2fsck",
        ),
    ] {
        if disk.s_feature_ro_compat & ro != 0 {
            return Err(refuse(name));
        }
    }
    // With a journal the mount finishes a listed orphan; without one
    // rext4 keeps no list (as ext4), so cannot.
    if disk.s_last_orphan != 0 && !geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
        return Err(refuse(
            "orphans are present: mount once with ext4 or run e2fsck",
        ));
    }
    if geo.has_compat(EXT4_FEATURE_COMPAT_FAST_COMMIT) {
        return Err(refuse("fast_commit is not written by rext4"));
    }
    if geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) && disk.s_journal_inum == 0 {
        return Err(refuse("external journals are not supported"));
    }
    if sb.device_read_only() {
        pr_err!("rext4 ({id}): write access unavailable: the device is read-only\n");
        return Err(EROFS);
    }
    Ok(())
}

/// The current time, seconds and nanoseconds.
pub(crate) fn now() -> crate::libext4::inode::Time {
    let (sec, nsec) = crate::vfs::now();
    crate::libext4::inode::Time { sec, nsec }
}

impl SbInfo {
    /// Makes a read-write mount of `sb` ready to change it: opens the
    /// journal (with the features ext4 sets) and marks the super block
    /// mounted (`ext4_setup_super()`): one more mount, `needs_recovery`.
    fn open_for_write(&mut self, sb: &NewSuperBlock<Rext4Fs>) -> Result {
        let id = sb.id();
        self.wbq = Some(crate::vfs::WbQueue::new::<Rext4Fs>(id)?);
        let geo = &self.geo;
        if geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) {
            let runs =
                crate::block_validity::journal_runs(sb, geo, &self.groups, self.journal_inum)?;
            let map = crate::block_validity::JournalRuns(&runs);
            let blocks = runs
                .last()
                .and_then(|r| r.lblk.checked_add(r.len))
                .and_then(|n| u32::try_from(n).ok());
            let (Some(start), Some(blocks)) = (map.first_block(), blocks) else {
                pr_err!("rext4 ({id}): journal inode has no block 0\n");
                return Err(EFSCORRUPTED);
            };
            let owned = KBox::new(crate::block_validity::OwnedJournalRuns(runs), GFP_KERNEL)?;
            let j = crate::vfs::jbd2::Journal::open(
                sb,
                owned,
                (start, blocks, geo.block_size),
                !self.opts.nobarrier,
                (
                    geo.has_metadata_csum(),
                    geo.has_incompat(EXT4_FEATURE_INCOMPAT_64BIT),
                ),
            )
            .inspect_err(|e| {
                pr_err!("rext4 ({id}): error loading journal: {}\n", e.to_errno());
            })?;
            self.journal = Some(j);
        }
        let journal = self.journal.is_some();
        let t = now().sec;
        let (blk, off) = sb_location(geo.block_size);
        let mut bh = sb.bread(blk)?;
        let mut res = Ok(0);
        bh.write_sync(|b| {
            res = b
                .get_mut(off..)
                .ok_or(DiskError::Corrupt("super block"))
                .and_then(|raw| crate::ondisk::superblock::mark_mounted(raw, t, journal));
        })?;
        self.mount_state = res.map_err(to_kernel)?;
        self.writable = true;
        pr_info!(
            "rext4 ({id}): mounted read-write{}\n",
            if journal {
                " with ordered metadata journal (jbd2)"
            } else {
                " without a journal"
            }
        );
        Ok(())
    }

    /// Writes the super block as a clean unmount leaves it (after the
    /// journal is destroyed): `ext4_put_super()` with `ext4_commit_super()`.
    fn write_clean_super(&self, sb: &SuperBlock<Rext4Fs>) -> Result {
        let (blk, off) = sb_location(self.geo.block_size);
        let fb = u64::try_from(self.free_blocks.load(Relaxed)).unwrap_or(0);
        let fi = u32::try_from(self.free_inodes.load(Relaxed)).unwrap_or(0);
        let t = now().sec;
        let mut bh = sb.bread(blk)?;
        let mut res = Ok(());
        let state = self.mount_state;
        bh.write_sync(|b| {
            res = b
                .get_mut(off..)
                .ok_or(DiskError::Corrupt("super block"))
                .and_then(|raw| crate::ondisk::superblock::mark_unmounted(raw, t, state, fb, fi));
        })?;
        res.map_err(to_kernel)
    }
}

/// An error found while changing the file system (`ext4_handle_error()`
/// with `ext4_commit_super()`'s error fields): reported with device and
/// inode, recorded in the super block for e2fsck, and then what `errors=`
/// says: go on, abort the journal and make the mount read-only, or panic.
pub(crate) fn fs_error(sb: &SuperBlock<Rext4Fs>, ino: u64, e: DiskError) {
    let info = sb.info();
    // After a shutdown nothing is recorded (`__ext4_error()`).
    if info.is_shut_down() {
        return;
    }
    let id = sb.id();
    let (kind, what) = describe(&e);
    if vfs::ratelimit() {
        pr_crit!("rext4 ({id}): error: inode #{ino}: {kind}: {what}\n");
    }
    let site = crate::ondisk::superblock::ErrorSite {
        time: now().sec,
        ino: u32::try_from(ino).unwrap_or(0),
        block: 0,
        func: "rext4_write_path",
        line: 0,
        // ext4's EXT4_ERR_* codes (ext4_errno_to_code()).
        errcode: match e {
            DiskError::Io => 2,
            DiskError::BadChecksum(_) => 4,
            _ => 5,
        },
    };
    let (blk, off) = sb_location(info.geo.block_size);
    let record = |b: &mut [u8]| {
        b.get_mut(off..)
            .ok_or(DiskError::Corrupt("super block offset"))
            .and_then(|raw| crate::ondisk::superblock::record_error(raw, &site))
    };
    // Under a live journal the super block goes through it (ext4's
    // update_super_work()): it is journalled metadata now (the orphan
    // list's head), and a direct write would put a change of a transaction
    // not yet committed on disk. Otherwise (no journal, or one about to be
    // aborted by errors=remount-ro/panic, which goes first) it is written
    // in place.
    let journalled = matches!(info.errors, Errors::Continue)
        && info.journal.is_some()
        && !sb.rdonly()
        && crate::journal::run(sb, 1, |tx| {
            use crate::libext4::trans::Trans;
            let buf = tx.bread(blk)?;
            tx.edit(&buf, record)?
        })
        .is_ok();
    if !journalled {
        if !matches!(info.errors, Errors::Continue) {
            if let Some(j) = &info.journal {
                j.abort(EIO);
            }
        }
        if let Ok(mut bh) = sb.bread(blk) {
            let _ = bh.write_sync(|b| {
                let _ = record(b);
            });
        }
    }
    match info.errors {
        Errors::Continue => {}
        Errors::RemountRo => {
            if let Some(j) = &info.journal {
                j.abort(EIO);
            }
            if !sb.rdonly() {
                pr_crit!("rext4 ({id}): Remounting filesystem read-only\n");
                sb.force_rdonly();
            }
        }
        Errors::Panic => {
            if let Some(j) = &info.journal {
                j.abort(EIO);
            }
            sb.panic();
        }
    }
}

/// Whether rext4 can replay this file system's journal, as
/// `ext4_load_journal()` decides: an internal journal (rext4 has no
/// external-journal support) without fast commits (rext4 has no fast-commit
/// replay), on a device it may write to, even for a read-only mount.
fn check_recoverable(sb: &NewSuperBlock<Rext4Fs>, geo: &Geometry, disk: &Superblock) -> Result {
    let id = sb.id();
    if !geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) || disk.s_journal_inum == 0 {
        pr_err!("rext4 ({id}): needs_recovery without an internal journal: external journals are not supported\n");
        return Err(EINVAL);
    }
    if geo.has_compat(EXT4_FEATURE_COMPAT_FAST_COMMIT) {
        pr_err!("rext4 ({id}): the journal needs recovery with fast commits, which rext4 cannot replay: mount once with ext4 or run e2fsck\n");
        return Err(EINVAL);
    }
    if sb.rdonly() {
        pr_info!("rext4 ({id}): INFO: recovery required on readonly filesystem\n");
        if sb.device_read_only() {
            pr_err!("rext4 ({id}): write access unavailable, cannot proceed (try mounting with noload)\n");
            return Err(EROFS);
        }
        pr_info!("rext4 ({id}): write access will be enabled during recovery\n");
    }
    Ok(())
}

/// What a journal replay leaves for the second reading of the super block.
struct Replayed {
    /// The super block's error state before the replay.
    errors_before: ErrorState,
    /// The error the journal had recorded (0: none).
    journal_errno: i32,
}

/// Replays the journal whose blocks are `runs` (jbd2 does the replay) and
/// leaves it empty; returns the error the journal had recorded. A journal
/// with fast commits is refused: jbd2 would skip them without ext4's
/// replay callback, losing what they hold.
fn recover_journal(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    runs: &[crate::block_validity::JournalRun],
) -> Result<i32> {
    let id = sb.id();
    let map = crate::block_validity::JournalRuns(runs);
    let blocks = runs
        .last()
        .and_then(|r| r.lblk.checked_add(r.len))
        .and_then(|n| u32::try_from(n).ok());
    let (Some(start), Some(blocks)) = (map.first_block(), blocks) else {
        pr_err!("rext4 ({id}): journal inode has no block 0: cannot recover\n");
        return Err(EFSCORRUPTED);
    };
    let jsb = sb.bread(start)?;
    let incompat = JournalSuperblock::parse(jsb.data())
        .map(|j| j.s_feature_incompat)
        .map_err(|e| {
            pr_err!("rext4 ({id}): journal super block: {}\n", describe(&e).1);
            to_kernel(e)
        })?;
    drop(jsb);
    if incompat & JBD2_FEATURE_INCOMPAT_FAST_COMMIT != 0 {
        pr_err!("rext4 ({id}): the journal has fast commits, which rext4 cannot replay: mount once with ext4 or run e2fsck\n");
        return Err(EINVAL);
    }
    vfs::jbd2::recover(sb, &map, start, blocks, geo.block_size).inspect_err(|e| {
        pr_err!("rext4 ({id}): error loading journal: {}\n", e.to_errno());
    })
}

/// Blocks of the internal journal, from the super block's backup of the
/// journal inode (`s_jnl_blocks[15..17]` hold its `i_size_high`, `i_size`
/// when `s_jnl_backup_type` is `EXT3_JNL_BACKUP_BLOCKS`, as mke2fs writes).
fn journal_blocks(disk: &Superblock) -> u64 {
    const EXT3_JNL_BACKUP_BLOCKS: u8 = 1;
    if disk.s_journal_inum == 0 || disk.s_jnl_backup_type != EXT3_JNL_BACKUP_BLOCKS {
        return 0;
    }
    let size = (u64::from(disk.s_jnl_blocks[15]) << 32) | u64::from(disk.s_jnl_blocks[16]);
    size >> (10 + disk.s_log_block_size.min(6))
}

/// Blocks of file system metadata, which `statfs` leaves out of `f_blocks`
/// (ext4's default "bsddf" behaviour, `ext4_calculate_overhead()`): what
/// precedes the first group, each group's super block backup, descriptor
/// blocks, bitmaps and inode table, and the journal.
fn fs_overhead(geo: &Geometry, journal: u64) -> u64 {
    let mut total = u64::from(geo.first_data_block);
    for g in 0..geo.groups_count {
        let sb = u64::from(geo.bg_has_super(g));
        let gdb = u64::from(crate::ondisk::group_desc::bg_num_gdb(geo, g));
        total = total.saturating_add(sb + gdb + u64::from(geo.itb_per_group) + 2);
    }
    total.saturating_add(journal)
}

impl FileSystem for Rext4Fs {
    const NAME: &'static CStr = c"rext4";
    type Options = MountOptions;
    type Info = SbInfo;
    type InodeData = inode::InodeInfo;

    fn parse_param(opts: &mut MountOptions, key: &[u8], value: Option<&[u8]>) -> Result {
        match (key, value) {
            (b"buffered_iomap", None) => opts.buffered_iomap = true,
            (b"nobuffered_iomap", None) => opts.buffered_iomap = false,
            (b"noload" | b"norecovery", None) => opts.noload = true,
            (b"delalloc", None) => opts.nodelalloc = false,
            (b"nodelalloc", None) => opts.nodelalloc = true,
            (b"errors", Some(v)) => {
                opts.errors = Some(match v {
                    b"continue" => Errors::Continue,
                    b"remount-ro" => Errors::RemountRo,
                    b"panic" => Errors::Panic,
                    _ => {
                        pr_err!("rext4: bad value for errors=\n");
                        return Err(EINVAL);
                    }
                })
            }
            // Accepted as ext4 does, with no effect on a read-only mount.
            (b"acl", None) => opts.noacl = false,
            (b"noacl", None) => opts.noacl = true,
            (b"block_validity", None) => opts.noblock_validity = false,
            (b"noblock_validity", None) => opts.noblock_validity = true,
            (b"barrier", None) => opts.nobarrier = false,
            (b"nobarrier", None) => opts.nobarrier = true,
            (b"user_xattr" | b"relatime" | b"noatime", None) => {}
            _ => return Err(ENOPARAM),
        }
        Ok(())
    }

    fn fill_super(sb: &NewSuperBlock<Self>, opts: &MountOptions) -> Result<SbInfo> {
        let mut info = SbInfo::read(sb, opts, None)?;
        if !sb.rdonly() {
            info.open_for_write(sb)?;
        }
        sb.set_params(&vfs::super_block::SuperParams {
            magic: EXT4_SUPER_MAGIC.into(),
            maxbytes: info.geo.max_bytes(),
            // ext4 with 256-byte inodes stores times up to 2446; 128-byte
            // inodes are limited to the 32-bit range.
            time_min: i32::MIN.into(),
            // As ext4: nanoseconds need the inode's i_atime_extra word.
            time_max: if info.geo.inode_size >= 144 {
                0x3_7fff_ffff
            } else {
                i32::MAX.into()
            },
            time_gran: if info.geo.inode_size >= 144 {
                1
            } else {
                1_000_000_000
            },
            posix_acl: !info.opts.noacl,
            uuid: info.geo.uuid,
        });
        Ok(info)
    }

    fn root(sb: &SuperBlock<Self>) -> Result<ARef<Inode<Self>>> {
        // Orphans a crash left on the classic list are finished first.
        crate::namei::orphan_cleanup(sb);
        let root =
            inode::iget_special(sb, crate::ondisk::inode::EXT4_ROOT_INO).inspect_err(|_| {
                pr_err!("rext4 ({}): get root inode failed\n", sb.id());
            })?;
        // As ext4_fill_super(): a root that is not a directory, or one with
        // no blocks or no size, is corrupt.
        if root.mode() & 0o170000 != 0o040000 || root.blocks() == 0 || root.size() == 0 {
            pr_err!("rext4 ({}): corrupt root inode, run e2fsck\n", sb.id());
            return Err(EFSCORRUPTED);
        }
        Ok(root)
    }

    fn new_inode_data() -> impl PinInit<inode::InodeInfo, Error> {
        inode::InodeInfo::new()
    }

    fn statfs(sb: &SuperBlock<Self>) -> Result<StatFs> {
        let i = sb.info();
        let uuid = i.geo.uuid;
        let lo = u64::from_le_bytes([
            uuid[0], uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7],
        ]);
        let hi = u64::from_le_bytes([
            uuid[8], uuid[9], uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15],
        ]);
        Ok(StatFs {
            magic: EXT4_SUPER_MAGIC.into(),
            bsize: i.geo.block_size,
            blocks: i.geo.blocks_count.saturating_sub(i.overhead),
            bfree: u64::try_from(i.free_blocks.load(Relaxed)).unwrap_or(0),
            bavail: u64::try_from(i.free_blocks.load(Relaxed))
                .unwrap_or(0)
                .saturating_sub(i.r_blocks.saturating_add(i.resv_blocks)),
            files: i.geo.inodes_count.into(),
            ffree: u64::try_from(i.free_inodes.load(Relaxed)).unwrap_or(0),
            fsid: lo ^ hi,
            namelen: 255,
        })
    }

    fn show_options(sb: &SuperBlock<Self>, seq: &SeqFile) -> Result {
        let o = &sb.info().opts;
        if o.buffered_iomap {
            seq.puts(c",buffered_iomap");
        }
        if o.noload {
            seq.puts(c",norecovery");
        }
        // Until delayed allocation exists, writes allocate at once.
        if o.nodelalloc || sb.info().writable {
            seq.puts(c",nodelalloc");
        }
        if o.noacl {
            seq.puts(c",noacl");
        }
        if o.noblock_validity {
            seq.puts(c",noblock_validity");
        }
        if o.nobarrier {
            seq.puts(c",nobarrier");
        }
        match o.errors {
            Some(Errors::Continue) => seq.puts(c",errors=continue"),
            Some(Errors::Panic) => seq.puts(c",errors=panic"),
            Some(Errors::RemountRo) => seq.puts(c",errors=remount-ro"),
            None => {}
        }
        Ok(())
    }

    fn lookup(d: &Inode<Self>, name: &[u8]) -> Result<Option<ARef<Inode<Self>>>> {
        dir::lookup(d, name)
    }

    type DirCursor = dir::DirCursor;

    fn new_dir_cursor() -> impl PinInit<dir::DirCursor, Error> {
        dir::DirCursor::new()
    }

    fn readdir(d: &Inode<Self>, cursor: &dir::DirCursor, emitter: &mut DirEmitter) -> Result {
        dir::readdir(d, cursor, emitter)
    }

    fn dir_llseek(d: &Inode<Self>, cursor: &dir::DirCursor, cookies_32bit: bool) -> Option<i64> {
        dir::llseek(d, cursor, cookies_32bit)
    }

    fn statx_attributes(i: &Inode<Self>) -> StatxAttrs {
        inode::statx_attributes(i)
    }

    fn fileattr(i: &Inode<Self>) -> FileAttr {
        inode::fileattr(i)
    }

    fn ioctl(file: &OpenFile<'_, Self>, cmd: u32, arg: UserPtr, compat: bool) -> Result<i64> {
        crate::ioctl::ioctl(file, cmd, arg, compat)
    }

    fn fast_link(i: &Inode<Self>) -> Result<&CStr> {
        i.data().fast_link()
    }

    fn slow_link(i: &Inode<Self>) -> Result<KVec<u8>> {
        crate::file::slow_link(i)
    }

    fn btime(i: &Inode<Self>) -> Option<(i64, u32)> {
        i.data().crtime
    }

    fn iomap_begin(i: &Inode<Self>, pos: i64, len: i64, flags: u32) -> Result<Mapping> {
        crate::write::iomap_begin(i, pos, len, flags)
    }

    fn iomap_valid(i: &Inode<Self>, cookie: u64) -> bool {
        i.data().es.lock().seq() == cookie
    }

    fn writeback_map(i: &Inode<Self>, pos: i64, len: i64) -> Result<Mapping> {
        crate::write::writeback_map(i, pos, len)
    }

    fn ioend_queue(i: &Inode<Self>, pos: i64, size: u64, unwritten: bool) -> Option<&WbQueue> {
        crate::write::ioend_queue(i, pos, size, unwritten)
    }

    fn ioend_done(i: &Inode<Self>, pos: i64, size: u64, unwritten: bool, io: Result) -> Result {
        crate::write::ioend_done(i, pos, size, unwritten, io)
    }

    fn getxattr(i: &Inode<Self>, index: u8, name: &[u8], buf: &mut [u8]) -> Result<usize> {
        xattr::get(i, index, name, buf)
    }

    fn get_acl(i: &Inode<Self>, default: bool) -> Result<Option<vfs::acl::PosixAcl>> {
        xattr::get_acl(i, default)
    }

    fn listxattr(i: &Inode<Self>, buf: &mut [u8]) -> Result<usize> {
        xattr::list(i, buf)
    }

    fn setxattr(
        i: &Inode<Self>,
        index: u8,
        name: &[u8],
        value: Option<&[u8]>,
        flags: i32,
    ) -> Result {
        xattr::set(i, index, name, value, flags)
    }

    fn set_acl(
        i: &Inode<Self>,
        acl: Option<&vfs::acl::AclRef>,
        default: bool,
        mode: Option<u16>,
    ) -> Result {
        xattr::set_acl(i, acl, default, mode)
    }

    fn create(
        dir: &Inode<Self>,
        name: &[u8],
        owner: vfs::NewOwner,
        acls: vfs::acl::NewAcls,
        what: vfs::NewKind<'_>,
    ) -> Result<ARef<Inode<Self>>> {
        crate::namei::create(dir, name, owner, acls, what)
    }

    fn link(old: &Inode<Self>, dir: &Inode<Self>, name: &[u8]) -> Result {
        crate::namei::link(old, dir, name)
    }

    fn unlink(dir: &Inode<Self>, name: &[u8], victim: &Inode<Self>, is_dir: bool) -> Result {
        crate::namei::unlink(dir, name, victim, is_dir)
    }

    fn rename(
        old: (&Inode<Self>, &[u8]),
        new: (&Inode<Self>, &[u8]),
        victim: &Inode<Self>,
        target: Option<&Inode<Self>>,
        flags: u32,
        whiteout: Option<vfs::NewOwner>,
    ) -> Result {
        crate::namei::rename(old, new, victim, target, flags, whiteout)
    }

    fn set_size(i: &Inode<Self>, size: i64) -> Result {
        crate::write::set_size(i, size)
    }

    fn write_inode(i: &Inode<Self>) -> Result {
        crate::namei::write_inode(i)
    }

    fn evict(i: &Inode<Self>) {
        crate::namei::evict(i)
    }

    fn fsync(i: &Inode<Self>) -> Result {
        let sb = i.sb();
        if sb.info().is_shut_down() {
            return Err(EIO);
        }
        match &sb.info().journal {
            // The data is on the device (the caller waited for it): the
            // transaction that mapped it, then the device's cache (data
            // overwritten in place has no transaction to flush it).
            Some(j) => {
                j.complete(i.data().tid.load(Relaxed))?;
                match sb.info().opts.nobarrier {
                    true => Ok(()),
                    false => sb.flush_device(),
                }
            }
            None if sb.info().writable => sb.sync_device(),
            None => Ok(()),
        }
    }

    fn shut_down(sb: &SuperBlock<Self>) -> bool {
        sb.info().is_shut_down()
    }

    fn sync_fs(sb: &SuperBlock<Self>, wait: bool) -> Result {
        if sb.info().is_shut_down() {
            return Err(EIO);
        }
        match &sb.info().journal {
            Some(j) if wait => j.force_commit(),
            _ => Ok(()),
        }
    }

    fn put_super(sb: &SuperBlock<Self>, unmounting: &vfs::super_block::Unmounting) {
        let info = sb.info();
        if !info.writable {
            return;
        }
        let id = sb.id();
        // Every writeback completion has ended before the journal goes.
        if let Some(q) = &info.wbq {
            q.flush();
        }
        let journal = info.journal.as_ref().map(|j| j.destroy(unmounting));
        if let Some(Err(e)) = journal {
            pr_err!(
                "rext4 ({id}): the journal was aborted ({}): it needs recovery\n",
                e.to_errno()
            );
            return;
        }
        if sb.rdonly() || info.is_shut_down() {
            // Made read-only by an error: the super block keeps its marks;
            // shut down: nothing more is written (`ext4_put_super()`).
            return;
        }
        if let Err(e) = info.write_clean_super(sb) {
            pr_err!(
                "rext4 ({id}): writing the super block failed: {}\n",
                e.to_errno()
            );
        }
    }
}

use kernel::sync::aref::ARef;
