// SPDX-License-Identifier: GPL-2.0

//! Regular files: the iomap mapping callback behind `read_folio`,
//! `readahead`, `O_DIRECT` reads, FIEMAP, SEEK_HOLE/SEEK_DATA and `bmap`
//! (`ext4_iomap_buffered_read_begin()`, seed patch 05); and the target of
//! a slow symlink.

use kernel::prelude::*;

use crate::error::corrupt;
use crate::extent_status::EsKind;
use crate::inode::EXT4_EXTENTS_FL;
use crate::map::map_blocks;
use crate::ondisk::Error as DiskError;
use crate::super_::Rext4Fs;
use crate::vfs::{Inode, Mapping, MappingKind};

/// `EXT4_MAX_LOGICAL_BLOCK`.
const EXT4_MAX_LOGICAL_BLOCK: u64 = 0xFFFF_FFFE;

pub(crate) fn iomap_begin(
    inode: &Inode<Rext4Fs>,
    pos: i64,
    len: i64,
    _flags: u32,
) -> Result<Mapping> {
    let bits = inode.sb().info().geo.log_block_size;
    let pos = u64::try_from(pos).map_err(|_| EINVAL)?;
    let len = u64::try_from(len).map_err(|_| EINVAL)?;
    let first = pos >> bits;
    if first > EXT4_MAX_LOGICAL_BLOCK || len == 0 {
        return Err(EINVAL);
    }
    let last = (pos.saturating_add(len - 1) >> bits).min(EXT4_MAX_LOGICAL_BLOCK);
    let want = last - first + 1;
    let (es, cookie) = map_blocks(inode, first as u32)?;
    let blocks = u64::from(es.len).min(want);
    let merged = matches!(es.kind, EsKind::Written(_)) && !inode.data().has_flag(EXT4_EXTENTS_FL);
    let kind = match es.kind {
        EsKind::Written(p) => MappingKind::Mapped(p << bits),
        EsKind::Unwritten(p) => MappingKind::Unwritten(p << bits),
        EsKind::Hole | EsKind::Delayed => MappingKind::Hole,
    };
    Ok(Mapping {
        kind,
        offset: (first << bits) as i64,
        length: blocks << bits,
        cookie,
        merged,
        new: false,
    })
}

/// A slow symlink's target, as `ext4_get_link()` reads it: logical block 0
/// through the buffer cache (where a target just written through the
/// journal already is, before it reaches its home block), cut at the size
/// and at the first NUL (`nd_terminate_link()`), then NUL-terminated. A
/// symlink without its block is corrupt (`EFSCORRUPTED`, as ext4's "bad
/// symlink").
pub(crate) fn slow_link(inode: &Inode<Rext4Fs>) -> Result<KVec<u8>> {
    let sb = inode.sb();
    let bs = sb.info().geo.block_size as usize;
    let (es, _) = map_blocks(inode, 0)?;
    let blk = match es.kind {
        EsKind::Written(p) | EsKind::Unwritten(p) => p,
        EsKind::Hole | EsKind::Delayed => {
            return Err(corrupt(
                sb.id(),
                inode.ino(),
                0,
                DiskError::Corrupt("symlink without its block"),
            ))
        }
    };
    let bh = sb.bread(blk)?;
    let data = bh.data();
    let size = usize::try_from(inode.size())
        .unwrap_or(0)
        .min(bs.saturating_sub(1))
        .min(data.len());
    let head = data.get(..size).unwrap_or(&[]);
    let head = head
        .iter()
        .position(|&b| b == 0)
        .and_then(|n| head.get(..n))
        .unwrap_or(head);
    let mut v = KVec::with_capacity(head.len() + 1, GFP_KERNEL)?;
    v.extend_from_slice(head, GFP_KERNEL)?;
    v.push(0, GFP_KERNEL)?;
    Ok(v)
}
