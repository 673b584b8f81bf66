// SPDX-License-Identifier: GPL-2.0

//! File data through a [`Trans`], for the host tests of the allocation and
//! extent paths: filling an empty regular file with bytes, block by block,
//! each new block placed right after the previous one when it is free (so
//! a sequential write gets one extent, as ext4's allocator aims for), the
//! extent root, `i_size` and `i_blocks` updated as `ext4_map_blocks()` and
//! `ext4_update_i_disksize()` leave them. In the kernel, data goes through
//! the page cache and iomap instead; this is the metadata side of it.

use super::super::ondisk::inode::{EXT4_EXTENTS_FL, EXT4_HUGE_FILE_FL};
use super::super::ondisk::superblock::Geometry;
use super::super::ondisk::{Error, Result};
use super::balloc::alloc_block;
use super::extents::root_append;
use super::inode::{edit_inode, read_inode};
use super::trans::Trans;

/// Writes `data` into the empty regular file `ino`. `Ok(false)` if the file
/// system ran out of blocks part way (`ENOSPC`): what was written stays
/// mapped and counted, as after a short write.
pub fn fill_empty_file<T: Trans>(
    tx: &mut T,
    geo: &Geometry,
    ino: u32,
    data: &[u8],
) -> Result<bool> {
    let inode = read_inode(tx, geo, ino)?;
    if inode.size(geo)? != 0 || inode.i_blocks_lo != 0 || inode.has_flag(EXT4_HUGE_FILE_FL) {
        return Err(Error::OutOfRange("not an empty file"));
    }
    if !inode.has_flag(EXT4_EXTENTS_FL) {
        return Err(Error::Unsupported("writing a block-mapped file"));
    }
    let bs = usize::try_from(geo.block_size).map_err(|_| Error::Corrupt("block size"))?;
    let loc = geo.inode_location(ino)?;
    let mut goal = geo.group_first_block(loc.group)?;
    let mut i_block = inode.i_block;
    let mut written = 0usize;
    let mut blocks = 0u32;
    let mut complete = true;
    for (lblk, chunk) in (0u32..).zip(data.chunks(bs)) {
        let Some(pblk) = alloc_block(tx, geo, goal)? else {
            complete = false;
            break;
        };
        let buf = tx.new_block(pblk)?;
        tx.edit(&buf, |b| {
            if let Some(dst) = b.get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
        })?;
        root_append(&mut i_block, geo, lblk, pblk)?;
        goal = pblk.saturating_add(1);
        written = written.saturating_add(chunk.len());
        blocks = blocks.saturating_add(1);
    }
    let size = u64::try_from(written).map_err(|_| Error::OutOfRange("size"))?;
    // i_blocks counts 512-byte sectors (no huge_file flag is set here).
    let sectors = u64::from(blocks).saturating_mul(u64::from(geo.block_size >> 9));
    let sectors = u32::try_from(sectors).map_err(|_| Error::OutOfRange("i_blocks"))?;
    edit_inode(tx, geo, ino, |i| {
        i.i_block = i_block;
        i.i_size_lo = (size & 0xFFFF_FFFF) as u32;
        i.i_size_high = (size >> 32) as u32;
        i.i_blocks_lo = sectors;
    })?;
    Ok(complete)
}
