// SPDX-License-Identifier: GPL-2.0

//! Regular files: the iomap mapping callback behind `read_folio`,
//! `readahead`, `O_DIRECT` reads, FIEMAP, SEEK_HOLE/SEEK_DATA and `bmap`
//! (`ext4_iomap_buffered_read_begin()`, seed patch 05).

use kernel::prelude::*;

use crate::extent_status::EsKind;
use crate::inode::EXT4_EXTENTS_FL;
use crate::map::map_blocks;
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
