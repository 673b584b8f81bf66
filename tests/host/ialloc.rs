// SPDX-License-Identifier: GPL-2.0

//! The inode allocator of the shared write layer (`libext4::ialloc`), run
//! through a host transaction over real mkfs.ext4 images, judged by
//! e2fsprogs: after allocating (files and directories, into groups with and
//! without `INODE_UNINIT`), e2fsck -fn reports exactly the allocated inodes
//! as marked in use but unused (its "-" inode bitmap differences), none the
//! other way, and no checksum or `INODE_UNINIT`/`itable_unused` complaint;
//! after freeing them all, e2fsck -fn is clean and every group's free inode
//! and directory counts are what mkfs left.

mod common;

use std::collections::BTreeSet;

use common::*;
use rext4_core::libext4::ialloc::{alloc_inode, free_inode};
use rext4_core::ondisk::group_desc::EXT4_BG_INODE_UNINIT;
use rext4_core::ondisk::Error;

#[test]
fn allocations_are_what_e2fsck_sees_and_frees_restore_the_counts() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let tree = build_tree(0, false);
    for (name, args) in [
        ("4k-csum", &["-b", "4096", "-g", "4096", "-N", "4096"][..]),
        (
            "1k-nocsum",
            &["-b", "1024", "-O", "^metadata_csum", "-N", "2048"][..],
        ),
        (
            "1k-no-gdt-csum",
            &[
                "-b",
                "1024",
                "-O",
                "^metadata_csum,^uninit_bg",
                "-N",
                "2048",
            ][..],
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 64 << 20, args, Some(tree.dir.path()));
        let before: Vec<(u32, u32)> = dumpe2fs_groups(&tools, &img)
            .iter()
            .map(|g| (g.free_inodes, g.dirs))
            .collect();
        let im = Image::open(&img);
        let geo = im.geo.clone();
        let uninit_groups = (0..geo.groups_count)
            .filter(|&g| im.group_desc(g).1.has_flag(EXT4_BG_INODE_UNINIT))
            .count();
        drop(im);

        let mut tx = ImageTrans::new(&img, &geo);
        let mut got = Vec::new();
        let mut seen = BTreeSet::new();
        for i in 0..600u32 {
            let goal = i.wrapping_mul(2654435761) % geo.groups_count;
            let is_dir = i % 5 == 0;
            let ino = alloc_inode(&mut tx, &geo, goal, is_dir)
                .unwrap()
                .expect("free inodes");
            assert!(
                ino >= geo.first_ino && ino <= geo.inodes_count,
                "{name}: {ino}"
            );
            assert!(
                seen.insert(u64::from(ino)),
                "{name}: inode {ino} handed out twice"
            );
            got.push((ino, is_dir));
        }
        tx.commit();
        let (minus, plus, text) = e2fsck_bitmap_differences(&tools, &img, "Inode");
        assert!(
            plus.is_empty(),
            "{name}: inodes in use marked free: {plus:?}\n{text}"
        );
        assert_eq!(
            minus, seen,
            "{name}: e2fsck's view of what was allocated\n{text}"
        );
        let lower = text.to_lowercase();
        assert!(!lower.contains("checksum"), "{name}: {text}");
        assert!(
            !lower.contains("uninit") && !lower.contains("unused inodes"),
            "{name}: {text}"
        );
        if name == "4k-csum" {
            assert!(
                uninit_groups > 0,
                "{name}: no INODE_UNINIT group to initialise"
            );
        }

        let mut tx = ImageTrans::new(&img, &geo);
        for &(ino, is_dir) in &got {
            free_inode(&mut tx, &geo, ino, is_dir).unwrap();
        }
        assert_eq!(
            free_inode(&mut tx, &geo, got[0].0, got[0].1),
            Err(Error::Corrupt("inode already free")),
            "{name}: double free"
        );
        assert!(
            free_inode(&mut tx, &geo, 2, true).is_err(),
            "{name}: freeing the root"
        );
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        let after: Vec<(u32, u32)> = dumpe2fs_groups(&tools, &img)
            .iter()
            .map(|g| (g.free_inodes, g.dirs))
            .collect();
        assert_eq!(after, before, "{name}: free inode and directory counts");
    }
}

#[test]
fn a_cleared_reserved_inode_is_corruption_not_a_free_inode() {
    // ext4's find_inode_bit() refuses a reserved inode found free; handing
    // it out would overwrite the resize inode (found by a review).
    let Some(tools) = tools() else { return };
    let work = TempDir::new("ialloc-reserved");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 16 << 20, &["-b", "1024"], None);
    debugfs(&tools, &img, &["freei <7>".to_string()], true);
    let geo = Image::open(&img).geo.clone();
    let mut tx = ImageTrans::new(&img, &geo);
    assert_eq!(
        alloc_inode(&mut tx, &geo, 0, false),
        Err(Error::Corrupt("reserved inode found cleared"))
    );
}
