// SPDX-License-Identifier: GPL-2.0

//! Host-only harness that runs one byte string through every parser of the
//! on-disk layer and every accessor of what they return. Shared by the
//! stable mutation test (`tests/host/mutate.rs`) and the cargo-fuzz target
//! (`fuzz/`), so both check the same property: no input panics. It is not
//! part of the kernel build.

// Only constant geometry arithmetic lives here, never values from `data`.
#![allow(clippy::arithmetic_side_effects)]

use crate::ondisk::dir::{dirent_tail_offset, ext4_dirblock_csum_verify, search_dir, DirBlockIter};
use crate::ondisk::dx_readdir::{
    fill_batch, Cookies, DirHashing, DirReader, DxCursor, Emitter, Fname, NameBatch,
};
use crate::ondisk::error::Error;
use crate::ondisk::extent::{ext4_extent_block_csum_verify, ExtentNode, LeafLookup, NodeKind};
use crate::ondisk::features::EXT4_FEATURE_INCOMPAT_SUPP;
use crate::ondisk::group_desc::{
    bg_num_gdb, ext4_block_bitmap_csum_verify, ext4_group_desc_csum_verify,
    ext4_inode_bitmap_csum_verify, GroupDesc,
};
use crate::ondisk::hash::{effective_hash_version, ext4fs_dirhash};
use crate::ondisk::htree::{ext4_dx_csum_verify, DxEntries, DxNode, DxRoot};
use crate::ondisk::iget::{validate, IgetKind};
use crate::ondisk::indirect::{block_to_path, indirect_entry};
use crate::ondisk::inode::{ext4_inode_csum_verify, Inode};
use crate::ondisk::jbd2::{needs_recovery, JournalHeader, JournalSuperblock};
use crate::ondisk::superblock::{Geometry, Superblock};
use crate::ondisk::system_zone::{group_zones, normalize, SystemZones, Zone};
use crate::ondisk::xattr::{ext4_xattr_block_csum_verify, XattrList};

/// A hand-built geometry (1 KiB or 4 KiB blocks, with or without
/// `metadata_csum` and `64bit`) for feeding parsers without a superblock.
pub fn sample_geometry(variant: u8) -> Geometry {
    let big = variant & 1 != 0;
    let csum = variant & 2 != 0;
    let is64 = variant & 4 != 0;
    let block_size: u32 = if big { 4096 } else { 1024 };
    let inode_size: u16 = if variant & 8 != 0 { 128 } else { 256 };
    let desc_size: u32 = if is64 { 64 } else { 32 };
    let ipg = 2048;
    let groups = 16;
    Geometry {
        block_size,
        log_block_size: if big { 12 } else { 10 },
        blocks_count: u64::from(groups) * 8192,
        first_data_block: u32::from(!big),
        blocks_per_group: 8192,
        inodes_per_group: ipg,
        inodes_count: ipg * groups,
        inode_size,
        first_ino: 11,
        groups_count: groups,
        desc_size,
        desc_per_block: block_size / desc_size,
        gdb_count: 1,
        inodes_per_block: block_size / u32::from(inode_size),
        itb_per_group: ipg / (block_size / u32::from(inode_size)),
        reserved_gdt_blocks: 7,
        first_meta_bg: 0,
        backup_bgs: [1, 15],
        feature_compat: 0x3c,
        feature_ro_compat: if csum { 0x46b } else { 0x7b },
        feature_incompat: 0x2c2
            | if is64 { 0x80 } else { 0 }
            | if variant & 16 != 0 { 0x4010 } else { 0 },
        csum_seed: 0x1234_5678,
        uuid: [7; 16],
        volume_name: *b"exercise\0\0\0\0\0\0\0\0",
        hash_seed: [1, 2, 3, 4],
        def_hash_version: 1,
        hash_unsigned: variant & 32 != 0,
        creator_os: 0,
        log_groups_per_flex: 4,
        min_extra_isize: 32,
        special_inums: [3, 4, 0, 12],
    }
}

/// Feeds `data` to every parser under `geo`; returns a value derived from the
/// results so the optimiser cannot drop the work.
pub fn all_parsers(data: &[u8], geo: &Geometry) -> u64 {
    let mut acc = 0u64;
    let mut note = |x: u64| acc = acc.wrapping_mul(31).wrapping_add(x);

    if let Ok(sb) = Superblock::parse(data) {
        note(sb.blocks_count());
        note(u64::from(sb.csum_seed()));
        note(sb.wtime() as u64);
        note(sb.unsupported_incompat(EXT4_FEATURE_INCOMPAT_SUPP).count() as u64);
        note(u64::from(sb.check_features(false).is_ok()));
        note(u64::from(needs_recovery(&sb, None)));
        if let Ok(g) = sb.validate() {
            for group in [0, 1, g.groups_count.saturating_sub(1), g.groups_count] {
                if let Ok(loc) = g.group_desc_location(group) {
                    note(loc.block);
                }
                note(u64::from(bg_num_gdb(&g, group)));
            }
            for ino in [1, 2, 11, g.inodes_count, g.inodes_count.saturating_add(1)] {
                if let Ok(loc) = g.inode_location(ino) {
                    note(u64::from(loc.table_block));
                }
            }
        }
    }

    if let Ok(gd) = GroupDesc::parse(data, geo) {
        note(gd.block_bitmap() ^ gd.inode_table());
        note(u64::from(gd.check(geo, 1).is_ok()));
        note(u64::from(
            ext4_block_bitmap_csum_verify(geo, &gd, data).is_ok(),
        ));
        note(u64::from(
            ext4_inode_bitmap_csum_verify(geo, &gd, data).is_ok(),
        ));
        // System zones from this descriptor standing for two groups, then
        // the block maps in `data` checked against them.
        let none = Zone {
            start: 0,
            count: 0,
            ino: 0,
        };
        let mut zones = [none; 12];
        let groups = [0, 1, geo.groups_count.saturating_sub(1)];
        let found = groups
            .into_iter()
            .filter_map(|g| group_zones(geo, g, &gd).ok())
            .flat_map(|z| z.into_iter().flatten());
        for (slot, z) in zones.iter_mut().zip(found) {
            *slot = z;
        }
        if let Ok(n) = normalize(&mut zones) {
            let zones = SystemZones::new(zones.get(..n).unwrap_or(&[]));
            for kind in [NodeKind::Root, NodeKind::Block] {
                if let Ok(node) = ExtentNode::parse(data, kind, geo) {
                    note(u64::from(zones.check_node(geo, &node, 8).is_ok()));
                }
            }
            note(u64::from(zones.check_block_refs(geo, data, 12).is_ok()));
            note(u64::from(zones.check(geo, gd.inode_table(), 3, 0).is_ok()));
        }
    }
    note(u64::from(ext4_group_desc_csum_verify(geo, 3, data).is_ok()));

    for chunk in [data, data.get(usize::from(geo.inode_size)..).unwrap_or(&[])] {
        if let Ok(inode) = Inode::parse(chunk, geo) {
            note(inode.size(geo).unwrap_or(0));
            note(inode.blocks(geo));
            note(inode.file_acl(geo));
            note(inode.mtime().sec as u64);
            note(inode.crtime().map_or(0, |t| u64::from(t.nsec)));
            note(u64::from(inode.uid()) ^ u64::from(inode.gid()));
            note(u64::from(inode.is_fast_symlink(geo)));
            note(inode.fast_symlink_target(geo).map_or(0, |t| t.len() as u64));
            note(inode.device_number().map_or(0, |d| u64::from(d.major)));
            note(u64::from(inode.file_type().is_ok()));
            note(inode.version());
            if let Ok(Some(list)) = XattrList::parse_ibody(chunk, geo, inode.i_extra_isize) {
                for e in list.iter().flatten() {
                    note(e.value().map_or(1, |v| v.len() as u64));
                    note(u64::from(e.name_matches(b"user.a")));
                }
            }
            if let Ok(root) = ExtentNode::parse(&inode.i_block, NodeKind::Root, geo) {
                note(extent_node(&root));
            }
        }
        note(u64::from(ext4_inode_csum_verify(chunk, geo, 12).is_ok()));
        let zones = SystemZones::new(&[]);
        for kind in [IgetKind::Normal, IgetKind::Special] {
            note(u64::from(
                validate(chunk, geo, zones, 12, kind, 4096).is_ok(),
            ));
        }
    }

    for kind in [NodeKind::Root, NodeKind::Block] {
        if let Ok(node) = ExtentNode::parse(data, kind, geo) {
            note(extent_node(&node));
        }
    }
    note(u64::from(ext4_extent_block_csum_verify(data, 7).is_ok()));

    for e in DirBlockIter::for_fs(data, geo) {
        match e {
            Ok(e) => note(u64::from(e.inode) ^ e.rec_len as u64 ^ u64::from(e.is_csum_tail())),
            Err(_) => note(1),
        }
    }
    note(search_dir(data, geo, b"lost+found").map_or(2, |e| u64::from(e.is_some())));
    note(dirent_tail_offset(data).unwrap_or(0) as u64);
    note(u64::from(ext4_dirblock_csum_verify(data, 9).is_ok()));

    if let Ok(root) = DxRoot::parse(data, geo) {
        note(u64::from(root.info.indirect_levels));
        note(dx_entries(&root.entries));
        let v = effective_hash_version(root.info.hash_version, geo.hash_unsigned);
        note(ext4fs_dirhash(b"name", v, &geo.hash_seed).map_or(0, |h| u64::from(h.hash)));
    }
    if let Ok(node) = DxNode::parse(data, geo) {
        note(dx_entries(&node.entries));
    }
    note(u64::from(ext4_dx_csum_verify(data, 11).is_ok()));

    if let Ok((h, list)) = XattrList::parse_block(data, geo) {
        note(u64::from(h.h_refcount));
        for e in list.iter() {
            match e {
                Ok(e) => note(e.value().map_or(3, |v| v.len() as u64)),
                Err(_) => note(4),
            }
        }
        note(list.find(1, b"a").map_or(5, |e| u64::from(e.is_some())));
    }
    note(u64::from(
        ext4_xattr_block_csum_verify(data, 100, geo).is_ok(),
    ));

    if let Ok(j) = JournalSuperblock::parse(data) {
        note(u64::from(j.s_start));
        note(u64::from(j.check_geometry(geo.block_size, 1 << 20).is_ok()));
    }
    note(JournalHeader::parse(data).map_or(0, |h| u64::from(h.h_blocktype)));

    for indexed in [true, false] {
        note(hash_order_listing(data, geo, indexed));
    }

    let name = data.get(..data.len().min(255)).unwrap_or(&[]);
    for v in 0..8 {
        note(ext4fs_dirhash(name, v, &geo.hash_seed).map_or(0, |h| u64::from(h.minor_hash)));
    }
    let word = |i: usize| {
        data.get(i..i.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    for lblk in [word(0), word(4), word(8)] {
        if let Ok(p) = block_to_path(lblk, geo.block_size) {
            for &off in p.as_slice() {
                note(u64::from(indirect_entry(data, off).unwrap_or(0)));
            }
        }
    }
    acc
}

fn extent_node(node: &ExtentNode<'_>) -> u64 {
    let mut acc = u64::from(node.entries());
    for lblk in [0u32, 1, 100, 4096, u32::MAX] {
        if node.is_leaf() {
            match node.lookup_leaf(lblk) {
                Ok(LeafLookup::Mapped(e)) => {
                    acc ^= e.map(lblk).unwrap_or(0) ^ u64::from(e.is_unwritten())
                }
                Ok(LeafLookup::Hole { next }) => acc ^= u64::from(next.unwrap_or(0)),
                Err(_) => acc ^= 1,
            }
        } else if let Ok(found) = node.lookup_index(lblk) {
            acc ^= found.child.leaf() ^ u64::from(found.next.unwrap_or(0));
            acc ^= u64::from(node.check_child_of(node.depth(), &found.child).is_ok());
        }
    }
    for e in node.extents().flatten() {
        acc ^= e.pblock() ^ e.end();
    }
    for i in node.indices().flatten() {
        acc ^= i.leaf();
    }
    acc
}

fn dx_entries(entries: &DxEntries<'_>) -> u64 {
    let mut acc = u64::from(entries.count()) ^ u64::from(entries.limit());
    for hash in [0u32, 0x7fff_fffe, u32::MAX] {
        if let Ok(l) = entries.lookup(hash) {
            acc ^= u64::from(l.block) ^ u64::from(l.next_hash.unwrap_or(0));
        }
    }
    for e in entries.iter().flatten() {
        acc ^= u64::from(e.hash);
    }
    acc
}

/// `data` as the blocks of a directory: block `i` is the `i`-th block-sized
/// piece; past the end is a read error.
struct FuzzBlocks<'a> {
    data: &'a [u8],
    bs: usize,
    reads: u32,
}

impl<'a> FuzzBlocks<'a> {
    fn block(&mut self, lblk: u32) -> Result<&'a [u8], ()> {
        self.reads += 1;
        let start = (lblk as usize).checked_mul(self.bs).ok_or(())?;
        self.data
            .get(start..start.checked_add(self.bs).ok_or(())?)
            .ok_or(())
    }
}

impl<'a> DirReader for FuzzBlocks<'a> {
    type Block = &'a [u8];
    type Error = ();
    fn index_block(&mut self, lblk: u32) -> Result<&'a [u8], ()> {
        self.block(lblk)
    }
    fn leaf_block(&mut self, lblk: u32) -> Result<&'a [u8], ()> {
        self.block(lblk)
    }
    fn corrupt(&mut self, _lblk: u32, _e: Error) {}
    fn bad_record(&mut self, _lblk: u32, _e: Error) {}
    fn check_stop(&mut self) -> Result<(), ()> {
        // Stands for a fatal signal: bounds the work on looping input.
        if self.reads > 4096 {
            return Err(());
        }
        Ok(())
    }
}

/// Fixed-capacity name storage (no allocation in this crate).
struct FixedBatch {
    fnames: [Fname; 64],
    len: usize,
    names: [u8; 4096],
    used: usize,
}

impl NameBatch for FixedBatch {
    type Error = ();
    fn clear(&mut self) {
        self.len = 0;
        self.used = 0;
    }
    fn push(&mut self, mut fname: Fname, name: &[u8]) -> Result<(), ()> {
        let end = self.used.checked_add(name.len()).ok_or(())?;
        self.names
            .get_mut(self.used..end)
            .ok_or(())?
            .copy_from_slice(name);
        fname.name_off = u32::try_from(self.used).map_err(|_| ())?;
        *self.fnames.get_mut(self.len).ok_or(())? = fname;
        self.len += 1;
        self.used = end;
        Ok(())
    }
    fn fnames(&self) -> &[Fname] {
        self.fnames.get(..self.len).unwrap_or(&[])
    }
    fn fnames_mut(&mut self) -> &mut [Fname] {
        self.fnames.get_mut(..self.len).unwrap_or(&mut [])
    }
    fn names(&self) -> &[u8] {
        self.names.get(..self.used).unwrap_or(&[])
    }
}

/// Takes three entries per call and sums what it is given.
struct Taker {
    pos: i64,
    room: u32,
    acc: u64,
}

impl Emitter for Taker {
    fn pos(&self) -> i64 {
        self.pos
    }
    fn set_pos(&mut self, pos: i64) {
        self.pos = pos;
    }
    fn emit(&mut self, name: &[u8], inode: u32, file_type: u8) -> bool {
        if self.room == 0 {
            return false;
        }
        self.room -= 1;
        self.acc = self
            .acc
            .wrapping_add(name.len() as u64 ^ u64::from(inode) ^ u64::from(file_type));
        true
    }
}

/// Lists `data` as a hash-ordered directory (`ondisk::dx_readdir`) in
/// small calls, with a seek half way.
fn hash_order_listing(data: &[u8], geo: &Geometry, indexed: bool) -> u64 {
    let mut blocks = FuzzBlocks {
        data,
        bs: geo.block_size as usize,
        reads: 0,
    };
    let how = DirHashing { geo, indexed };
    let zero = Fname {
        hash: 0,
        minor: 0,
        inode: 0,
        file_type: 0,
        seq: 0,
        name_off: 0,
        name_len: 0,
    };
    let batch = FixedBatch {
        fnames: [zero; 64],
        len: 0,
        names: [0; 4096],
        used: 0,
    };
    let mut cursor = DxCursor::new(batch);
    let mut out = Taker {
        pos: 0,
        room: 0,
        acc: 0,
    };
    for call in 0..40 {
        out.room = 3;
        if call == 5 {
            cursor.seeked();
            out.pos = out.pos.wrapping_sub(1);
        }
        let r = cursor.readdir(&mut out, Cookies::Bits64, |start, b| {
            fill_batch(&mut blocks, how, start, b)
        });
        match r {
            Ok(_) if out.room == 3 => break,
            Ok(_) => {}
            Err(()) => break,
        }
    }
    out.acc ^ out.pos as u64
}
