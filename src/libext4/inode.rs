// SPDX-License-Identifier: GPL-2.0

//! Inodes through a [`Trans`]: where one lives in its inode table, reading
//! it, and changing it with its checksum rewritten (`ext4_mark_iloc_dirty()`
//! with `ext4_inode_csum_set()`), and ext4's time encoding.

use super::super::ondisk::inode::{ext4_inode_csum_set, ext4_inode_csum_verify, Inode};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};
use super::desc::read_desc;
use super::trans::Trans;

/// A time as ext4 stores it: seconds since the epoch and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// Seconds since 1970 (negative before).
    pub sec: i64,
    /// Nanoseconds, below 10^9.
    pub nsec: u32,
}

impl Time {
    /// `ext4_encode_extra_time()`: the low 32 bits of the seconds, and the
    /// extra word with the epoch bits and the nanoseconds.
    pub fn encode(self) -> (u32, u32) {
        let base = self.sec as i32;
        let epoch = (self.sec.wrapping_sub(i64::from(base)) >> 32) & 3;
        (
            u32::from_ne_bytes(base.to_ne_bytes()),
            (epoch as u32) | ((self.nsec & 0x3FFF_FFFF) << 2),
        )
    }
}

/// Where an inode's bytes are: its inode table block and offset.
pub fn inode_slot<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<(T::Buf, usize)> {
    let loc = geo.inode_location(ino)?;
    let gd = read_desc(tx, geo, loc.group)?.gd;
    let blk = gd
        .inode_table()
        .checked_add(u64::from(loc.table_block))
        .ok_or(Error::Corrupt("inode table"))?;
    geo.check_block_range(blk, 1)?;
    let buf = tx.bread(blk)?;
    let off = usize::try_from(loc.offset).map_err(|_| Error::Corrupt("inode offset"))?;
    Ok((buf, off))
}

/// Reads inode `ino`, its checksum verified.
pub fn read_inode<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32) -> Result<Inode> {
    let (buf, off) = inode_slot(tx, geo, ino)?;
    let raw = tx
        .data(&buf)
        .get(off..)
        .ok_or(Error::Corrupt("inode offset"))?;
    ext4_inode_csum_verify(raw, geo, ino)?;
    Inode::parse(raw, geo)
}

/// Changes inode `ino` with `f` and rewrites its checksum.
pub fn edit_inode<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    f: impl FnOnce(&mut Inode),
) -> Result<()> {
    let (buf, off) = inode_slot(tx, geo, ino)?;
    tx.edit(&buf, |b| {
        let raw = b.get_mut(off..).ok_or(Error::Corrupt("inode offset"))?;
        let mut inode = Inode::parse(raw, geo)?;
        f(&mut inode);
        inode.encode(raw, geo)?;
        ext4_inode_csum_set(raw, geo, ino)
    })?
}

/// The attributes `setattr` and time updates change: permission bits,
/// owner and the three times.
#[derive(Clone, Copy, Debug)]
pub struct Attrs {
    /// Permission bits (the file type is kept).
    pub perm: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Access time.
    pub atime: Time,
    /// Modification time.
    pub mtime: Time,
    /// Change time.
    pub ctime: Time,
}

/// Writes `a` into inode `ino` (`ext4_do_update_inode()` for these
/// fields): 32-bit owners split in halves, times with their extra words
/// where the inode has room for them.
pub fn set_attrs<T: Trans>(tx: &mut T, geo: &Geometry, ino: u32, a: &Attrs) -> Result<()> {
    use super::super::ondisk::inode::S_IFMT;
    edit_inode(tx, geo, ino, |i| {
        i.i_mode = (i.i_mode & S_IFMT) | (a.perm & !S_IFMT);
        i.i_uid = (a.uid & 0xFFFF) as u16;
        i.l_i_uid_high = (a.uid >> 16) as u16;
        i.i_gid = (a.gid & 0xFFFF) as u16;
        i.l_i_gid_high = (a.gid >> 16) as u16;
        for (t, base, extra) in [
            (a.atime, &mut i.i_atime, &mut i.i_atime_extra),
            (a.mtime, &mut i.i_mtime, &mut i.i_mtime_extra),
            (a.ctime, &mut i.i_ctime, &mut i.i_ctime_extra),
        ] {
            let (lo, hi) = t.encode();
            *base = lo;
            if extra.is_some() {
                *extra = Some(hi);
            }
        }
    })
}
