// SPDX-License-Identifier: GPL-2.0

//! Building the system zones at mount (`ext4_setup_system_zone()`): every
//! group's metadata blocks and the journal inode's blocks, which no other
//! inode's block map may point into. The zone logic itself is pure and lives
//! in [`crate::ondisk::system_zone`]; this file does the reading.

use kernel::prelude::*;

use crate::error::{corrupt, describe};
use crate::extent_status::EsKind;
use crate::inode::{read_journal_inode, EXT4_EXTENTS_FL};
use crate::map::BlockMap;
use crate::ondisk::{
    crc::ext4_inode_csum_seed,
    features::EXT4_FEATURE_COMPAT_HAS_JOURNAL,
    group_desc::GroupDesc,
    inode::EXT4_ROOT_INO,
    superblock::{Geometry, Superblock},
    system_zone::{group_zones, normalize, SystemZones, Zone},
};
use crate::super_::Rext4Fs;
use crate::vfs::NewSuperBlock;

/// The normalised zones of a file system whose descriptors are `groups`.
/// Overlapping metadata fails the mount with `EFSCORRUPTED`, a journal inode
/// number out of range with `EINVAL`, as in ext4.
pub(crate) fn system_zones(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    disk: &Superblock,
    groups: &[GroupDesc],
) -> Result<KVVec<Zone>> {
    let id = sb.id();
    let mut zones = KVVec::with_capacity(groups.len().saturating_mul(4), GFP_KERNEL)?;
    for (g, gd) in (0u32..).zip(groups) {
        let group = group_zones(geo, g, gd).map_err(|e| corrupt(id, 0, 0, e))?;
        for z in group.into_iter().flatten() {
            zones.push(z, GFP_KERNEL)?;
        }
    }
    if geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) && disk.s_journal_inum != 0 {
        journal_zones(sb, geo, groups, disk.s_journal_inum, &mut zones).inspect_err(|e| {
            pr_err!(
                "rext4 ({id}): failed to initialize system zone: journal inode {}: error {}\n",
                disk.s_journal_inum,
                e.to_errno()
            );
        })?;
    }
    let kept = normalize(&mut zones).map_err(|e| {
        let (kind, what) = describe(&e);
        pr_err!("rext4 ({id}): failed to initialize system zone: {kind}: {what}\n");
        EFSCORRUPTED
    })?;
    zones.truncate(kept);
    Ok(zones)
}

/// The blocks of the journal inode `ino`, owned by it
/// (`ext4_protect_reserved_inode()`).
fn journal_zones(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    groups: &[GroupDesc],
    ino: u32,
    zones: &mut KVVec<Zone>,
) -> Result {
    for run in journal_runs(sb, geo, groups, ino)?.iter() {
        zones.push(
            Zone {
                start: run.pblk,
                count: run.len,
                ino,
            },
            GFP_KERNEL,
        )?;
    }
    Ok(())
}

/// One mapped stretch of the journal inode: `len` blocks from logical block
/// `lblk` at physical block `pblk`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JournalRun {
    pub(crate) lblk: u64,
    pub(crate) pblk: u64,
    pub(crate) len: u64,
}

/// The mapped blocks of the journal inode `ino`, in logical order, and its
/// size in blocks. The inode passes ext4's rules for a journal inode; its
/// map is checked for range only: the zones it would be checked against are
/// still being built.
pub(crate) fn journal_runs(
    sb: &NewSuperBlock<Rext4Fs>,
    geo: &Geometry,
    groups: &[GroupDesc],
    ino: u32,
) -> Result<KVVec<JournalRun>> {
    if ino < EXT4_ROOT_INO || ino > geo.inodes_count {
        return Err(EINVAL);
    }
    let (di, block) = read_journal_inode(sb, geo, groups, ino)?;
    let size = di
        .size(geo)
        .map_err(|e| corrupt(sb.id(), ino.into(), block, e))?;
    let bs = u64::from(geo.block_size);
    let blocks = (size.saturating_add(bs - 1) >> geo.log_block_size).min(u32::MAX.into());
    let map = BlockMap {
        sb,
        geo,
        zones: SystemZones::default(),
        ino,
        i_block: &di.i_block,
        extents: di.has_flag(EXT4_EXTENTS_FL),
        csum_seed: ext4_inode_csum_seed(geo.csum_seed, ino, di.i_generation),
    };
    let mut runs = KVVec::new();
    let mut lblk = 0u64;
    while lblk < blocks {
        // `lblk < blocks <= u32::MAX`, so the cast is exact.
        let es = map.map(lblk as u32)?.from_block(lblk as u32);
        let len = u64::from(es.len).clamp(1, blocks - lblk);
        if let EsKind::Written(p) | EsKind::Unwritten(p) = es.kind {
            runs.push(JournalRun { lblk, pblk: p, len }, GFP_KERNEL)?;
        }
        lblk += len;
    }
    Ok(runs)
}

/// The journal's runs as jbd2's block map (`j_bmap`).
pub(crate) struct JournalRuns<'a>(pub(crate) &'a [JournalRun]);

impl JournalRuns<'_> {
    /// Where the journal's super block (logical block 0) is.
    pub(crate) fn first_block(&self) -> Option<u64> {
        self.0.first().filter(|r| r.lblk == 0).map(|r| r.pblk)
    }
}

impl crate::vfs::jbd2::JournalMap for JournalRuns<'_> {
    fn map(&self, lblk: u64) -> Option<u64> {
        // Runs are sorted and disjoint: the one starting at or before lblk.
        let i = self.0.partition_point(|r| r.lblk <= lblk).checked_sub(1)?;
        let r = self.0.get(i)?;
        let off = lblk.checked_sub(r.lblk).filter(|&o| o < r.len)?;
        r.pblk.checked_add(off)
    }
}

/// The journal's runs, owned, for a journal kept open by a read-write
/// mount.
pub(crate) struct OwnedJournalRuns(pub(crate) KVVec<JournalRun>);

impl crate::vfs::jbd2::JournalMap for OwnedJournalRuns {
    fn map(&self, lblk: u64) -> Option<u64> {
        JournalRuns(&self.0).map(lblk)
    }
}
