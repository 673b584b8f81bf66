// SPDX-License-Identifier: GPL-2.0

//! Logical to physical block mapping (`ext4_map_blocks()` for lookups):
//! through the extent-status cache, then the extent tree or, for ext2/3
//! style inodes, the indirect block map.
//!
//! Every block number read from disk is range-checked before it is read, the
//! extent tree's depth must decrease by one per level (so a looping tree
//! cannot loop), and extent blocks are checksummed under metadata_csum.

use kernel::prelude::*;

use crate::error::corrupt;
use crate::extent_status::{Es, EsKind};
use crate::inode::EXT4_EXTENTS_FL;
use crate::ondisk::{
    extent::{ext4_extent_block_csum_verify, ExtentNode, LeafLookup, NodeKind},
    indirect::{block_to_path, check_mapped_block, indirect_entry},
    Error as DiskError,
};
use crate::super_::Rext4Fs;
use crate::vfs::Inode;

/// One past the last logical block ext4 can address.
const EXT_MAX_BLOCKS: u64 = 1 << 32;

/// The mapping of logical block `lblk`: a range starting there, and the
/// extent-status sequence number it was read under (iomap's cookie).
pub(crate) fn map_blocks(inode: &Inode<Rext4Fs>, lblk: u32) -> Result<(Es, u64)> {
    let info = inode.data();
    {
        let es = info.es.lock();
        if let Some(e) = es.lookup(lblk) {
            return Ok((e, es.seq()));
        }
    }
    let e = if info.has_flag(EXT4_EXTENTS_FL) {
        map_extent(inode, lblk)?
    } else {
        map_indirect(inode, lblk)?
    };
    let mut es = info.es.lock();
    es.cache(e);
    Ok((e.from_block(lblk), es.seq()))
}

fn map_extent(inode: &Inode<Rext4Fs>, lblk: u32) -> Result<Es> {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let info = inode.data();
    let ino = inode.ino();
    let bad = |blk: u64, e: DiskError| corrupt(sb.id(), ino, blk, e);

    let root = ExtentNode::parse(&info.d.i_block, NodeKind::Root, geo).map_err(|e| bad(0, e))?;
    // Where the range we are in ends, from the keys of the index levels.
    let mut bound = EXT_MAX_BLOCKS;
    let mut depth = root.depth();
    let mut idx = match root.is_leaf() {
        true => return leaf_map(&root, lblk, bound).map_err(|e| bad(0, e)),
        false => root.lookup_index(lblk).map_err(|e| bad(0, e))?,
    };
    loop {
        if let Some(n) = idx.next {
            bound = bound.min(n.into());
        }
        let blk = idx.child.leaf();
        let bh = sb.bread(blk)?;
        if geo.has_metadata_csum() {
            ext4_extent_block_csum_verify(bh.data(), info.d.csum_seed).map_err(|e| bad(blk, e))?;
        }
        let node = ExtentNode::parse(bh.data(), NodeKind::Block, geo).map_err(|e| bad(blk, e))?;
        node.check_child_of(depth, &idx.child)
            .map_err(|e| bad(blk, e))?;
        depth = node.depth();
        if node.is_leaf() {
            return leaf_map(&node, lblk, bound).map_err(|e| bad(blk, e));
        }
        idx = node.lookup_index(lblk).map_err(|e| bad(blk, e))?;
    }
}

fn leaf_map(leaf: &ExtentNode<'_>, lblk: u32, bound: u64) -> core::result::Result<Es, DiskError> {
    Ok(match leaf.lookup_leaf(lblk)? {
        LeafLookup::Mapped(ext) => Es {
            lblk: ext.ee_block,
            len: ext.len(),
            kind: if ext.is_unwritten() {
                EsKind::Unwritten(ext.pblock())
            } else {
                EsKind::Written(ext.pblock())
            },
        },
        LeafLookup::Hole { next } => {
            let end = next.map_or(bound, |n| bound.min(n.into()));
            let len = end
                .checked_sub(lblk.into())
                .filter(|&l| l > 0)
                .ok_or(DiskError::Corrupt("extent hole"))?;
            Es {
                lblk,
                len: u32::try_from(len).unwrap_or(u32::MAX),
                kind: EsKind::Hole,
            }
        }
    })
}

/// ext2/3 block maps: follow the path, then extend the answer over the
/// run of contiguous (or zero) entries in the last array, so a sequential
/// read of a contiguous file maps in large pieces.
fn map_indirect(inode: &Inode<Rext4Fs>, lblk: u32) -> Result<Es> {
    let sb = inode.sb();
    let geo = &sb.info().geo;
    let info = inode.data();
    let bad = |blk: u64, e: DiskError| corrupt(sb.id(), inode.ino(), blk, e);

    let Ok(path) = block_to_path(lblk, geo.block_size) else {
        // Past the triple-indirect range: nothing can be mapped there.
        return Ok(Es {
            lblk,
            len: u32::try_from(EXT_MAX_BLOCKS - u64::from(lblk)).unwrap_or(u32::MAX),
            kind: EsKind::Hole,
        });
    };
    let offs = path.as_slice();
    let (&last, inner) = offs.split_last().ok_or(EFSCORRUPTED)?;
    // Walk to the array holding the data pointer: i_block, or a block.
    let mut array: Option<crate::vfs::BufferHead> = None;
    let ptrs = u64::from(geo.block_size / 4);
    for (level, &o) in inner.iter().enumerate() {
        let ptr =
            word(array.as_ref().map(|b| b.data()), &info.d.i_block, o).map_err(|e| bad(0, e))?;
        check_mapped_block(geo, ptr).map_err(|e| bad(0, e))?;
        if ptr == 0 {
            // A missing indirect block: a hole up to the end of the subtree
            // it would map (ptrs^levels below it), from where lblk sits in it.
            let below = offs.get(level + 1..).unwrap_or(&[]);
            let (span, at) = below.iter().fold((1u64, 0u64), |(span, at), &off| {
                (
                    span.saturating_mul(ptrs),
                    at.saturating_mul(ptrs).saturating_add(off.into()),
                )
            });
            let len = u32::try_from(span.saturating_sub(at))
                .unwrap_or(u32::MAX)
                .max(1);
            return Ok(Es {
                lblk,
                len,
                kind: EsKind::Hole,
            });
        }
        array = Some(sb.bread(ptr.into())?);
    }
    let data = array.as_ref().map(|b| b.data());
    // Entries left in this array (i_block has 12 direct slots).
    let limit = match data {
        Some(d) => (d.len() / 4) as u32,
        None => crate::ondisk::indirect::EXT4_NDIR_BLOCKS,
    };
    let first = word(data, &info.d.i_block, last).map_err(|e| bad(0, e))?;
    check_mapped_block(geo, first).map_err(|e| bad(0, e))?;
    let mut len = 1u32;
    while last + len < limit {
        let next = word(data, &info.d.i_block, last + len).map_err(|e| bad(0, e))?;
        let contiguous = if first == 0 {
            next == 0
        } else {
            Some(next) == first.checked_add(len)
        };
        if !contiguous || check_mapped_block(geo, next).is_err() {
            break;
        }
        len += 1;
    }
    Ok(Es {
        lblk,
        len,
        kind: if first == 0 {
            EsKind::Hole
        } else {
            EsKind::Written(first.into())
        },
    })
}

/// Entry `i` of an indirect array, or of `i_block` when `block` is `None`.
fn word(block: Option<&[u8]>, i_block: &[u8; 60], i: u32) -> core::result::Result<u32, DiskError> {
    match block {
        Some(b) => indirect_entry(b, i),
        None => {
            let o = (i as usize)
                .checked_mul(4)
                .ok_or(DiskError::Corrupt("i_block index"))?;
            let w = i_block
                .get(o..o + 4)
                .ok_or(DiskError::Corrupt("i_block index"))?;
            Ok(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
        }
    }
}
