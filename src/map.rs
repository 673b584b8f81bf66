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
    superblock::Geometry,
    system_zone::SystemZones,
    Error as DiskError,
};
use crate::super_::Rext4Fs;
use crate::vfs::{BufferHead, Inode, NewSuperBlock};

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
    // A walk that misses the cache runs under the data lock, so no tree
    // change is seen half done and what it caches is still true.
    let _walk = info.data_lock.lock();
    {
        let es = info.es.lock();
        if let Some(e) = es.lookup(lblk) {
            return Ok((e, es.seq()));
        }
    }
    let sbi = inode.sb().info();
    let i_block = *info.root.lock();
    let e = BlockMap {
        sb: inode.sb(),
        geo: &sbi.geo,
        zones: sbi.zones(),
        ino: inode.ino() as u32,
        i_block: &i_block,
        extents: info.has_flag(EXT4_EXTENTS_FL),
        csum_seed: info.d.csum_seed,
    }
    .map(lblk)?;
    let mut es = info.es.lock();
    es.cache(e);
    Ok((e.from_block(lblk), es.seq()))
}

/// An inode's block map and what walking it needs. Built from a VFS inode
/// for file I/O, and from the raw journal inode while mounting, before the
/// per-mount state exists.
pub(crate) struct BlockMap<'a> {
    pub(crate) sb: &'a NewSuperBlock<Rext4Fs>,
    pub(crate) geo: &'a Geometry,
    /// Blocks the map must not point into (empty while they are being
    /// collected at mount, when only the range is checked, as in ext4).
    pub(crate) zones: SystemZones<'a>,
    pub(crate) ino: u32,
    pub(crate) i_block: &'a [u8; 60],
    pub(crate) extents: bool,
    /// Seed of the inode's extent block checksums.
    pub(crate) csum_seed: u32,
}

impl BlockMap<'_> {
    /// The extent (or hole) holding `lblk`, read from disk. Every block
    /// pointer on the way is checked against the system zones.
    pub(crate) fn map(&self, lblk: u32) -> Result<Es> {
        match self.extents {
            true => self.map_extent(lblk),
            false => self.map_indirect(lblk),
        }
    }

    fn bad(&self, blk: u64, e: DiskError) -> Error {
        corrupt(self.sb.id(), self.ino.into(), blk, e)
    }

    /// A parsed extent node whose pointers are all allowed
    /// (`__ext4_ext_check()` with `ext4_valid_extent_entries()`).
    fn node<'b>(&self, buf: &'b [u8], kind: NodeKind, blk: u64) -> Result<ExtentNode<'b>> {
        ExtentNode::parse(buf, kind, self.geo)
            .and_then(|n| self.zones.check_node(self.geo, &n, self.ino).map(|()| n))
            .map_err(|e| self.bad(blk, e))
    }

    fn map_extent(&self, lblk: u32) -> Result<Es> {
        let root = self.node(self.i_block, NodeKind::Root, 0)?;
        // Where the range we are in ends, from the keys of the index levels.
        let mut bound = EXT_MAX_BLOCKS;
        let mut depth = root.depth();
        let mut idx = match root.is_leaf() {
            true => return leaf_map(&root, lblk, bound).map_err(|e| self.bad(0, e)),
            false => root.lookup_index(lblk).map_err(|e| self.bad(0, e))?,
        };
        loop {
            if let Some(n) = idx.next {
                bound = bound.min(n.into());
            }
            let blk = idx.child.leaf();
            let bh = self.sb.bread(blk)?;
            if self.geo.has_metadata_csum() {
                ext4_extent_block_csum_verify(bh.data(), self.csum_seed)
                    .map_err(|e| self.bad(blk, e))?;
            }
            let node = self.node(bh.data(), NodeKind::Block, blk)?;
            node.check_child_of(depth, &idx.child)
                .map_err(|e| self.bad(blk, e))?;
            depth = node.depth();
            if node.is_leaf() {
                return leaf_map(&node, lblk, bound).map_err(|e| self.bad(blk, e));
            }
            idx = node.lookup_index(lblk).map_err(|e| self.bad(blk, e))?;
        }
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

impl BlockMap<'_> {
    /// ext2/3 block maps: follow the path, then extend the answer over the
    /// run of contiguous (or zero) entries in the last array, so a
    /// sequential read of a contiguous file maps in large pieces. Every
    /// indirect block read is checked whole, as ext4 does on first read
    /// (`ext4_check_indirect_blockref()`); `i_block` was checked by iget.
    fn map_indirect(&self, lblk: u32) -> Result<Es> {
        let geo = self.geo;
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
        let mut array: Option<BufferHead> = None;
        let ptrs = u64::from(geo.block_size / 4);
        for (level, &o) in inner.iter().enumerate() {
            let ptr = word(array.as_ref().map(|b| b.data()), self.i_block, o)
                .map_err(|e| self.bad(0, e))?;
            check_mapped_block(geo, ptr).map_err(|e| self.bad(0, e))?;
            if ptr == 0 {
                // A missing indirect block: a hole up to the end of the
                // subtree it would map (ptrs^levels below it), from where
                // lblk sits in it.
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
            let bh = self.sb.bread(ptr.into())?;
            self.zones
                .check_block_refs(geo, bh.data(), self.ino)
                .map_err(|e| self.bad(ptr.into(), e))?;
            array = Some(bh);
        }
        let data = array.as_ref().map(|b| b.data());
        // Entries left in this array (i_block has 12 direct slots).
        let limit = match data {
            Some(d) => (d.len() / 4) as u32,
            None => crate::ondisk::indirect::EXT4_NDIR_BLOCKS,
        };
        let first = word(data, self.i_block, last).map_err(|e| self.bad(0, e))?;
        check_mapped_block(geo, first).map_err(|e| self.bad(0, e))?;
        let mut len = 1u32;
        while last + len < limit {
            let next = word(data, self.i_block, last + len).map_err(|e| self.bad(0, e))?;
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
