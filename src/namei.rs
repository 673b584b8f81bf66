// SPDX-License-Identifier: GPL-2.0

//! Namespace changes and inode updates of a read-write mount (the kernel
//! half of ext4's `namei.c`, `ext4_setattr()`, `ext4_dirty_inode()` and
//! `ext4_evict_inode()`): each is one transaction ([`crate::journal`])
//! running the shared ext4 logic of [`crate::libext4`], after which the
//! VFS inodes it changed are set from their on-disk copies.
//!
//! The on-disk inode, in its journalled buffer, is the authority; the VFS
//! inode mirrors it. A name's last link going leaves the inode allocated
//! with a link count of 0 until eviction frees it, so an open file stays
//! readable and its number cannot be reused while the VFS still has it.

use kernel::prelude::*;
use kernel::sync::atomic::Relaxed;

use crate::journal::{credits, run, Failure, Tx};
use crate::libext4::inode::{read_inode, set_attrs, Attrs, Time};
use crate::libext4::namei::{self, Last, NewInode, Special};
use crate::ondisk::{superblock::Geometry, Error as DiskError, Result as DiskResult};
use crate::super_::{now, Rext4Fs};
use crate::vfs::{Inode, NewKind, NewOwner, SuperBlock};
use kernel::sync::aref::ARef;

/// The longest name ext4 stores (`EXT4_NAME_LEN`).
const EXT4_NAME_LEN: usize = 255;

/// Sets the VFS inode from its on-disk copy (inside the transaction that
/// changed it, so the two agree when the transaction ends).
pub(crate) fn refresh(tx: &mut Tx<'_>, geo: &Geometry, inode: &Inode<Rext4Fs>) -> DiskResult<()> {
    let ino = u32::try_from(inode.ino()).map_err(|_| DiskError::Corrupt("inode number"))?;
    let di = read_inode(tx, geo, ino)?;
    let t = |t: crate::ondisk::inode::Timestamp| (t.sec, t.nsec);
    let old_size = inode.size();
    // A regular file's size is the VFS's: writes raise it before the
    // disk hears of it (at writeback), and truncate sets both.
    let size = match inode.is_reg() {
        true => None,
        false => Some(di.i_size(geo)),
    };
    inode.set_from_disk(
        di.i_links_count.into(),
        size,
        di.blocks(geo),
        [t(di.atime()), t(di.mtime()), t(di.ctime())],
    );
    let data = inode.data();
    // A directory that became indexed is read through its index from now
    // on (the read path takes the flag from memory).
    if di.has_flag(crate::inode::EXT4_INDEX_FL) && !data.has_flag(crate::inode::EXT4_INDEX_FL) {
        data.set_flag(crate::inode::EXT4_INDEX_FL);
    }
    let mut root = data.root.lock();
    let grew = !inode.is_reg() && old_size != di.i_size(geo);
    if *root != di.i_block || grew {
        // A directory grew (in the root, or in a leaf block of a deeper
        // tree): the cached mappings are stale, and so are iomap cookies
        // taken under the old sequence number.
        *root = di.i_block;
        drop(root);
        data.es.lock().changed(0, u64::MAX);
    }
    Ok(())
}

/// Records that transaction `tid` changed `inode` (fsync waits for it).
///
/// The handle has stopped by now, so tasks changing one inode can record
/// their tids out of order (a write fault's after the completion work's
/// later one): a tid replaces the recorded one only if it is later, in
/// jbd2's wrapping order (`tid_gt()`), so fsync never waits for too early
/// a transaction.
pub(crate) fn changed_in(inode: &Inode<Rext4Fs>, tid: Option<u32>) {
    let Some(tid) = tid else { return };
    let cell = &inode.data().tid;
    let mut old = cell.load(Relaxed);
    // `tid_gt(tid, old)`; 0 is what iget leaves: none yet.
    while old == 0 || (tid.wrapping_sub(old) as i32) > 0 {
        match cell.cmpxchg(old, tid, Relaxed) {
            Ok(_) => return,
            Err(now) => old = now,
        }
    }
}

/// The errno for a failed transaction, reporting what needs reporting:
/// corruption follows `errors=` ([`crate::super_::fs_error`]), a layout
/// rext4 cannot change yet is named once in a while.
pub(crate) fn failed(inode: &Inode<Rext4Fs>, f: Failure) -> Error {
    let sb = inode.sb();
    match f.err {
        DiskError::Corrupt(_) | DiskError::BadChecksum(_) => {
            crate::super_::fs_error(sb, inode.ino(), f.err);
        }
        DiskError::Unsupported(what) => {
            if crate::vfs::ratelimit() {
                pr_warn!(
                    "rext4 ({}): inode #{}: not supported yet: {what}\n",
                    sb.id(),
                    inode.ino()
                );
            }
        }
        // The layer below failed (I/O, jbd2, no memory) after buffers
        // were changed: the transaction is half done, and must not commit
        // quietly (under errors=remount-ro the journal is aborted).
        DiskError::Io if f.errno != EROFS && (f.changed || f.errno == EIO) => {
            crate::super_::fs_error(sb, inode.ino(), f.err);
        }
        _ => {}
    }
    f.errno
}

pub(crate) fn ino32(inode: &Inode<Rext4Fs>) -> Result<u32> {
    u32::try_from(inode.ino()).map_err(|_| EINVAL)
}

fn check_name(name: &[u8]) -> Result {
    match name.len() {
        0 => Err(ENOENT),
        n if n > EXT4_NAME_LEN => Err(ENAMETOOLONG),
        _ => Ok(()),
    }
}

/// `ext4_create()`, `ext4_mkdir()`, `ext4_mknod()`, `ext4_symlink()`,
/// with the ACLs the directory's default ACL gives the new inode stored in
/// the same transaction.
pub(crate) fn create(
    dir: &Inode<Rext4Fs>,
    name: &[u8],
    owner: NewOwner,
    acls: crate::vfs::acl::NewAcls,
    what: NewKind<'_>,
) -> Result<ARef<Inode<Rext4Fs>>> {
    check_name(name)?;
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let dino = ino32(dir)?;
    if let NewKind::Symlink(t) = what {
        // The longest target ext4 takes is a block (`ENAMETOOLONG`).
        if t.len() >= geo.block_size as usize {
            return Err(ENAMETOOLONG);
        }
    }
    let n = NewInode {
        perm: owner.perm,
        uid: owner.uid,
        gid: owner.gid,
        now: now(),
        generation: crate::vfs::random_u32(),
    };
    let mut init = crate::xattr::InitXattrs::new(&acls, geo)?;
    let credits = match init.any() {
        true => credits::CREATE.saturating_add(crate::libext4::xattr::SET_CREDITS),
        false => credits::CREATE,
    };
    let mut attempt = || {
        run(sb, credits, |tx| {
            let ino = match what {
                NewKind::Reg => namei::create(tx, geo, dino, name, &n),
                NewKind::Dir => namei::mkdir(tx, geo, dino, name, &n),
                NewKind::Fifo => namei::create_special(tx, geo, dino, name, &n, Special::Fifo),
                NewKind::Socket => namei::create_special(tx, geo, dino, name, &n, Special::Socket),
                NewKind::Char(ma, mi) => {
                    namei::create_special(tx, geo, dino, name, &n, Special::Char(ma, mi))
                }
                NewKind::Block(ma, mi) => {
                    namei::create_special(tx, geo, dino, name, &n, Special::Block(ma, mi))
                }
                NewKind::Symlink(t) if t.len() < crate::ondisk::inode::EXT4_I_BLOCK_SIZE => {
                    namei::create_special(tx, geo, dino, name, &n, Special::FastSymlink(t))
                }
                NewKind::Symlink(t) => namei::create_slow_symlink(tx, geo, dino, name, &n, t),
            };
            // Also after a failure: a split or a new directory block may
            // have committed before it (the handle commits what changed),
            // and the VFS inode must map what the disk now holds.
            let fresh = refresh(tx, geo, dir);
            let ino = ino?;
            fresh?;
            let Some(new) = ino else { return Ok(None) };
            if !init.any() || init.store(tx, geo, new, n.now)? {
                return Ok(Some(new));
            }
            // No room for its ACLs: the inode goes again, as ext4's
            // create fails then, and the caller reports ENOSPC.
            match what {
                NewKind::Dir => namei::rmdir(tx, geo, dino, name, n.now)?,
                _ => namei::unlink(tx, geo, dino, name, n.now)?,
            };
            refresh(tx, geo, dir)?;
            Ok(None)
        })
    };
    let mut r = attempt();
    let full = |r: &core::result::Result<(Option<u32>, Option<u32>), Failure>| match r {
        Ok((None, _)) => true,
        Err(f) => f.errno == ENOSPC,
        _ => false,
    };
    if full(&r) && crate::journal::commit_frees(sb) {
        r = attempt();
    }
    let (ino, tid) = r.map_err(|f| failed(dir, f))?;
    let ino = ino.ok_or(ENOSPC)?;
    changed_in(dir, tid);
    let inode = crate::inode::iget(sb, ino)?;
    changed_in(&inode, tid);
    Ok(inode)
}

/// `ext4_link()`.
pub(crate) fn link(old: &Inode<Rext4Fs>, dir: &Inode<Rext4Fs>, name: &[u8]) -> Result {
    check_name(name)?;
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let (ino, dino) = (ino32(old)?, ino32(dir)?);
    let t = now();
    let attempt = || {
        run(sb, credits::LINK, |tx| {
            let r = namei::link(tx, geo, ino, (dino, name), t);
            // As in create: the directory may have changed before a failure.
            let fresh = refresh(tx, geo, dir);
            r?;
            fresh?;
            refresh(tx, geo, old)
        })
    };
    let mut r = attempt();
    if matches!(&r, Err(f) if f.errno == ENOSPC) && crate::journal::commit_frees(sb) {
        r = attempt();
    }
    let ((), tid) = r.map_err(|f| failed(dir, f))?;
    changed_in(dir, tid);
    changed_in(old, tid);
    Ok(())
}

/// Removes `name` from `dir` in `tx`, leaving the inode for eviction.
fn remove(
    tx: &mut Tx<'_>,
    geo: &Geometry,
    dino: u32,
    name: &[u8],
    is_dir: bool,
    t: Time,
) -> DiskResult<()> {
    let gone = match is_dir {
        true => namei::rmdir_as(tx, geo, dino, name, t, Last::Keep)?,
        false => namei::unlink_as(tx, geo, dino, name, t, Last::Keep)?,
    };
    // The VFS holds a positive dentry for the name: a directory that does
    // not have it is corrupt.
    gone.map(|_| ())
        .ok_or(DiskError::Corrupt("directory entry missing"))
}

/// `ext4_unlink()`, `ext4_rmdir()`.
pub(crate) fn unlink(
    dir: &Inode<Rext4Fs>,
    name: &[u8],
    victim: &Inode<Rext4Fs>,
    is_dir: bool,
) -> Result {
    let sb = dir.sb();
    let geo = &sb.info().geo;
    let dino = ino32(dir)?;
    let t = now();
    let r = run(sb, credits::UNLINK, |tx| {
        remove(tx, geo, dino, name, is_dir, t)?;
        refresh(tx, geo, dir)?;
        refresh(tx, geo, victim)
    });
    let ((), tid) = r.map_err(|f| failed(dir, f))?;
    changed_in(dir, tid);
    changed_in(victim, tid);
    Ok(())
}

/// `ext4_rename()`: plain, `RENAME_NOREPLACE` (the VFS checks that the
/// target is absent for the latter), `RENAME_WHITEOUT` (the old name then
/// names a new character device 0:0, in the same transaction, as
/// overlayfs needs) and `RENAME_EXCHANGE` (`ext4_cross_rename()`).
pub(crate) fn rename(
    (odir, oname): (&Inode<Rext4Fs>, &[u8]),
    (ndir, nname): (&Inode<Rext4Fs>, &[u8]),
    victim: &Inode<Rext4Fs>,
    target: Option<&Inode<Rext4Fs>>,
    flags: u32,
    whiteout: Option<NewOwner>,
) -> Result {
    use crate::bindings::{RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT};
    let exchange = flags == RENAME_EXCHANGE;
    if !exchange && flags & !(RENAME_NOREPLACE | RENAME_WHITEOUT) != 0 {
        return Err(EINVAL);
    }
    let whiteout = match (flags & RENAME_WHITEOUT != 0, whiteout) {
        (false, _) => None,
        (true, Some(o)) => Some(NewInode {
            perm: o.perm,
            uid: o.uid,
            gid: o.gid,
            now: now(),
            generation: crate::vfs::random_u32(),
        }),
        (true, None) => return Err(EINVAL),
    };
    check_name(nname)?;
    let sb = odir.sb();
    let geo = &sb.info().geo;
    let (od, nd) = (ino32(odir)?, ino32(ndir)?);
    let t = now();
    if exchange {
        // The VFS passes both inodes (it checked that both names exist).
        let other = target.ok_or(ENOENT)?;
        let r = run(sb, credits::RENAME, |tx| {
            namei::exchange(tx, geo, (od, oname), (nd, nname), t)?
                .ok_or(DiskError::Corrupt("directory entry missing"))?;
            refresh(tx, geo, odir)?;
            refresh(tx, geo, ndir)?;
            refresh(tx, geo, victim)?;
            refresh(tx, geo, other)
        });
        let ((), tid) = r.map_err(|f| failed(odir, f))?;
        for i in [odir, ndir, victim, other] {
            changed_in(i, tid);
        }
        return Ok(());
    }
    let credits = match whiteout {
        Some(_) => credits::RENAME.saturating_add(credits::CREATE),
        None => credits::RENAME,
    };
    let r = run(sb, credits, |tx| {
        if let Some(target) = target {
            let is_dir = target.mode() & 0o170000 == 0o040000;
            remove(tx, geo, nd, nname, is_dir, t)?;
            refresh(tx, geo, target)?;
        }
        let r = namei::rename(tx, geo, (od, oname), (nd, nname), t);
        // As in create: the new directory may have changed before a failure.
        let fresh = refresh(tx, geo, ndir);
        r?.ok_or(DiskError::Corrupt("directory entry missing"))?;
        fresh?;
        // The whiteout takes the old name (`ext4_whiteout_for_rename()`).
        if let Some(n) = &whiteout {
            let w = namei::create_special(tx, geo, od, oname, n, Special::Char(0, 0));
            let fresh = refresh(tx, geo, odir);
            w?.ok_or(DiskError::Refused(crate::ondisk::Errno::NoSpace))?;
            fresh?;
        }
        refresh(tx, geo, odir)?;
        refresh(tx, geo, ndir)?;
        refresh(tx, geo, victim)
    });
    let ((), tid) = r.map_err(|f| failed(odir, f))?;
    for i in [Some(odir), Some(ndir), Some(victim), target]
        .into_iter()
        .flatten()
    {
        changed_in(i, tid);
    }
    Ok(())
}

/// A size change through `setattr`: only to the size the file has, until
/// truncate exists (`EOPNOTSUPP` otherwise).
pub(crate) fn set_size(inode: &Inode<Rext4Fs>, size: i64) -> Result {
    if size == inode.size() {
        return Ok(());
    }
    if crate::vfs::ratelimit() {
        pr_warn!(
            "rext4 ({}): inode #{}: not supported yet: changing a file's size\n",
            inode.sb().id(),
            inode.ino()
        );
    }
    Err(EOPNOTSUPP)
}

/// Writes the VFS inode's mode, owner and times to disk.
pub(crate) fn write_inode(inode: &Inode<Rext4Fs>) -> Result {
    let sb = inode.sb();
    if sb.rdonly() || inode.nlink() == 0 {
        return Ok(());
    }
    let geo = &sb.info().geo;
    let ino = ino32(inode)?;
    let (mode, uid, gid, [a, m, c]) = inode.vfs_attrs();
    let time = |(sec, nsec): (i64, u32)| Time { sec, nsec };
    let attrs = Attrs {
        perm: mode & 0o7777,
        uid,
        gid,
        atime: time(a),
        mtime: time(m),
        ctime: time(c),
    };
    let r = run(sb, credits::INODE, |tx| set_attrs(tx, geo, ino, &attrs));
    let ((), tid) = r.map_err(|f| failed(inode, f))?;
    changed_in(inode, tid);
    Ok(())
}

/// The mount's orphan processing (`ext4_orphan_cleanup()`), before the
/// root is handed out: every inode on the classic orphan list a crash
/// left (by rext4 or by ext4) is freed if it has no link, or truncated to
/// its size if it has, a few tree steps per transaction. A failure is
/// reported and stops the processing; the rest stays listed for e2fsck or
/// the next mount, and the mount goes on.
pub(crate) fn orphan_cleanup(sb: &SuperBlock<Rext4Fs>) {
    use crate::libext4::orphan::{cleanup_step, Cleaned};
    let info = sb.info();
    if !info.writable || info.journal.is_none() {
        return;
    }
    let geo = &info.geo;
    let credits = crate::journal::budget(sb, crate::libext4::extents::steps_credits(4, 16));
    let (mut freed, mut truncated) = (0u32, 0u32);
    // Each step finishes an orphan or frees a budget's worth of its tree:
    // bounded by the inode count times a generous number of steps.
    for _ in 0..geo.inodes_count.saturating_mul(64) {
        let t = now();
        let r = sb.intwrite(|| {
            run(sb, credits, |tx| {
                let mut budget = credits.saturating_sub(8);
                cleanup_step(tx, geo, t, &mut budget)
            })
        });
        match r {
            Ok((Cleaned::Empty, _)) => break,
            Ok((Cleaned::Partial, _)) => {}
            Ok((Cleaned::Freed(_), _)) => freed += 1,
            Ok((Cleaned::Truncated(..), _)) => truncated += 1,
            Err(f) => {
                let e = f.errno;
                let damaged = matches!(f.err, DiskError::Corrupt(_) | DiskError::BadChecksum(_));
                // As failed(): damage, or a failure after buffers changed.
                if damaged
                    || (matches!(f.err, DiskError::Io)
                        && f.errno != EROFS
                        && (f.changed || f.errno == EIO))
                {
                    crate::super_::fs_error(sb, 0, f.err);
                }
                // A damaged list is emptied (`ext4_orphan_cleanup()`): what
                // it named is left for e2fsck, and changes that need the
                // list can go on.
                if damaged {
                    let _ = sb.intwrite(|| run(sb, 1, |tx| crate::libext4::orphan::clear(tx, geo)));
                }
                pr_err!(
                    "rext4 ({}): orphan cleanup stopped ({}){}; e2fsck will finish it\n",
                    sb.id(),
                    e.to_errno(),
                    if damaged {
                        ", the orphan list cleared"
                    } else {
                        ""
                    }
                );
                break;
            }
        }
    }
    if freed + truncated > 0 {
        pr_info!(
            "rext4 ({}): orphan cleanup: {freed} deleted, {truncated} truncated\n",
            sb.id()
        );
    }
}

/// Eviction: an inode without links is freed with its blocks.
pub(crate) fn evict(inode: &Inode<Rext4Fs>) {
    let sb = inode.sb();
    if inode.nlink() != 0 || !sb.info().writable || sb.info().is_shut_down() {
        return;
    }
    let info = sb.info();
    let geo = &info.geo;
    let Ok(ino) = ino32(inode) else { return };
    let t = now();
    let disk = || {
        crate::inode::read_raw_inode(sb, geo, &info.groups, ino)
            .ok()
            .and_then(|(raw, _)| crate::ondisk::inode::Inode::parse(&raw, geo).ok())
            .filter(|di| di.has_flag(crate::ondisk::inode::EXT4_EXTENTS_FL))
    };
    // A tree with index levels is cut down a few steps per transaction
    // first (`ext4_truncate()` restarting its handle), leaving an empty
    // root for the final transaction.
    if let Some(d) = disk().map(|di| crate::libext4::extents::depth(&di.i_block)) {
        if d > 0 {
            // Directories' and symlinks' blocks are revoked as they go.
            let is_dir = matches!(inode.mode() & 0o170000, 0o040000 | 0o120000);
            let credits = crate::journal::budget(sb, crate::libext4::extents::steps_credits(d, 16));
            loop {
                let r = sb.intwrite(|| {
                    run(sb, credits, |tx| {
                        let mut budget = credits;
                        crate::libext4::data::release_blocks(tx, geo, ino, is_dir, &mut budget)
                    })
                });
                match r {
                    Ok((true, _)) => break,
                    Ok((false, _)) => continue,
                    Err(f) => {
                        let e = failed(inode, f);
                        if crate::vfs::ratelimit() {
                            pr_warn!(
                                "rext4 ({}): inode #{ino}: blocks not freed at eviction ({}); e2fsck will find them\n",
                                sb.id(),
                                e.to_errno()
                            );
                        }
                        return;
                    }
                }
            }
        }
    }
    // Credits for the groups the inode's extents touch, read before the
    // handle starts (the inode is being freed: nothing else changes it).
    let credits = disk()
        .and_then(|di| {
            let runs = crate::libext4::extents::root_runs(&di.i_block, geo).ok()?;
            Some(credits::evict(
                geo.blocks_per_group,
                runs.filter_map(|r| r.ok()),
            ))
        })
        .unwrap_or(credits::evict(geo.blocks_per_group, core::iter::empty()));
    let r = sb.intwrite(|| run(sb, credits, |tx| namei::free_unlinked(tx, geo, ino, t)));
    if let Err(f) = r {
        let e = failed(inode, f);
        if crate::vfs::ratelimit() {
            pr_warn!(
                "rext4 ({}): inode #{ino}: not freed at eviction ({}); e2fsck will find it\n",
                sb.id(),
                e.to_errno()
            );
        }
    }
}
