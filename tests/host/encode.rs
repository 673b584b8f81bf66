// SPDX-License-Identifier: GPL-2.0

//! The encoders beside the decoders, for the write path: every group
//! descriptor of real mkfs.ext4 images re-encodes to its stored bytes, its
//! checksum and its bitmaps' checksums are recomputed to the stored values,
//! and a descriptor changed through the setters is read back by e2fsprogs
//! with the new value and a valid checksum.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::process::Command;

use common::*;
use rext4_core::ondisk::group_desc::{
    ext4_group_desc_csum_set, EXT4_BG_BLOCK_UNINIT, EXT4_BG_INODE_UNINIT,
};
use rext4_core::ondisk::inode::{ext4_inode_csum_set, Inode};

const VARIANTS: &[(&str, &[&str])] = &[
    ("4k-csum-64bit", &["-b", "4096"]),
    ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"]),
    ("2k-32bit-desc", &["-b", "2048", "-O", "^64bit"]),
];

#[test]
fn group_descriptors_and_bitmap_checksums_round_trip() {
    let Some(tools) = tools() else { return };
    let tree = build_tree(50, false);
    for &(name, args) in VARIANTS {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 48 << 20, args, Some(tree.dir.path()));
        let im = Image::open(&img);
        let geo = &im.geo;
        let mut bitmaps = 0;
        for g in 0..geo.groups_count {
            let (raw, gd) = im.group_desc(g);
            let mut enc = vec![0u8; raw.len()];
            gd.encode(&mut enc, geo).unwrap();
            assert_eq!(enc, raw, "{name}: group {g} re-encodes differently");
            enc[0x1E..0x20].fill(0);
            ext4_group_desc_csum_set(geo, g, &mut enc).unwrap();
            assert_eq!(enc, raw, "{name}: group {g} checksum");

            let mut again = gd;
            if !gd.has_flag(EXT4_BG_BLOCK_UNINIT) {
                again.bg_block_bitmap_csum_lo = 0;
                again.bg_block_bitmap_csum_hi = 0;
                again
                    .set_block_bitmap_csum(geo, &im.read_block(gd.block_bitmap()))
                    .unwrap();
                bitmaps += 1;
            }
            if !gd.has_flag(EXT4_BG_INODE_UNINIT) {
                again.bg_inode_bitmap_csum_lo = 0;
                again.bg_inode_bitmap_csum_hi = 0;
                again
                    .set_inode_bitmap_csum(geo, &im.read_block(gd.inode_bitmap()))
                    .unwrap();
            }
            if geo.has_metadata_csum() {
                assert_eq!(again, gd, "{name}: group {g} bitmap checksums");
            }
        }
        assert!(bitmaps > 0, "{name}: no initialised block bitmap");

        // A changed count, encoded and checksummed: e2fsprogs reads the new
        // value and finds the descriptor's checksum right (e2fsck complains
        // only about the count, which no longer matches the bitmap).
        let g = (0..geo.groups_count)
            .find(|&g| im.group_desc(g).1.free_blocks_count() > 0)
            .expect("a group with free blocks");
        let (raw, mut gd) = im.group_desc(g);
        let want = gd.free_blocks_count() - 1;
        gd.set_free_blocks_count(geo, want);
        let mut enc = raw.clone();
        gd.encode(&mut enc, geo).unwrap();
        ext4_group_desc_csum_set(geo, g, &mut enc).unwrap();
        let loc = geo.group_desc_location(g).unwrap();
        let f = fs::OpenOptions::new().write(true).open(&img).unwrap();
        f.write_all_at(
            &enc,
            loc.block * u64::from(geo.block_size) + u64::from(loc.offset),
        )
        .unwrap();
        drop(f);
        let groups = dumpe2fs_groups(&tools, &img);
        assert_eq!(groups[g as usize].free_blocks, want, "{name}: dumpe2fs");
        if let Some(e2fsck) = &tools.e2fsck {
            let out = Command::new(e2fsck).arg("-fn").arg(&img).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(&format!("Free blocks count wrong for group #{g}")),
                "{name}: {text}"
            );
            assert!(!text.to_lowercase().contains("checksum"), "{name}: {text}");
        }
    }
}

#[test]
fn inodes_round_trip() {
    let Some(tools) = tools() else { return };
    let tree = build_tree(50, false);
    for &(name, args) in VARIANTS
        .iter()
        .chain([("128-byte", &["-b", "1024", "-I", "128"][..])].iter())
    {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 48 << 20, args, Some(tree.dir.path()));
        let im = Image::open(&img);
        let geo = &im.geo;
        let mut checked = 0;
        // Every inode of the first group's table, used or not.
        for ino in 1..=geo.inodes_per_group {
            let raw = im.raw_inode(ino);
            let inode = Inode::parse(&raw, geo).unwrap();
            let mut enc = raw.clone();
            enc[..128].fill(0);
            if geo.inode_size > 128 {
                let extra = usize::from(inode.i_extra_isize);
                let covered = 128 + if extra == 0 { 32 } else { extra };
                enc[0x80..0x82].fill(0);
                if extra != 0 {
                    enc[0x82..covered.max(0x84)].fill(0);
                } else {
                    enc[0x84..covered].fill(0);
                }
            }
            inode.encode(&mut enc, geo).unwrap();
            assert_eq!(enc, raw, "{name}: inode {ino} re-encodes differently");
            if geo.has_metadata_csum() && inode.i_mode != 0 {
                let mut c = raw.clone();
                c[0x7C..0x7E].fill(0);
                if inode.i_checksum_hi.is_some() {
                    c[0x82..0x84].fill(0);
                }
                ext4_inode_csum_set(&mut c, geo, ino).unwrap();
                assert_eq!(c, raw, "{name}: inode {ino} checksum");
                checked += 1;
            }
        }
        assert!(
            !geo.has_metadata_csum() || checked >= 10,
            "{name}: {checked} checksums"
        );
    }
}
