// SPDX-License-Identifier: GPL-2.0

//! The block allocator of the shared write layer (`libext4::balloc`), run
//! through a host transaction over a real mkfs.ext4 image, judged by
//! e2fsprogs: after allocating, e2fsck -fn reports exactly the allocated
//! blocks as marked in use but owned by nothing (its "-" bitmap
//! differences), never a block marked free that is in use ("+"), and no
//! checksum error; after freeing them all, e2fsck -fn is clean and every
//! group's free count is what mkfs left. Allocating until ENOSPC hands out
//! exactly the free blocks of the initialised groups.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use rext4_core::libext4::balloc::{alloc_block, free_block};
use rext4_core::ondisk::group_desc::EXT4_BG_BLOCK_UNINIT;
use rext4_core::ondisk::Error;

fn bitmap_differences(tools: &Tools, img: &Path) -> (BTreeSet<u64>, BTreeSet<u64>, String) {
    e2fsck_bitmap_differences(tools, img, "Block")
}

fn free_per_group(tools: &Tools, img: &Path) -> Vec<u32> {
    dumpe2fs_groups(tools, img)
        .iter()
        .map(|g| g.free_blocks)
        .collect()
}

#[test]
fn allocations_are_what_e2fsck_sees_and_frees_restore_the_counts() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let tree = build_tree(50, false);
    for (name, args) in [
        ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"][..]),
        ("4k-csum-small-groups", &["-b", "4096", "-g", "4096"][..]),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 64 << 20, args, Some(tree.dir.path()));
        let before = free_per_group(&tools, &img);
        let geo = Image::open(&img).geo.clone();
        assert!(geo.groups_count >= 4, "{name}: too few groups");

        let mut rng = Rng(0xB10C);
        let mut tx = ImageTrans::new(&img, &geo);
        let mut got = BTreeSet::new();
        for _ in 0..3000 {
            let goal = rng.below(geo.blocks_count);
            let b = alloc_block(&mut tx, &geo, goal).unwrap().expect("space");
            assert!(b < geo.blocks_count);
            assert!(got.insert(b), "{name}: block {b} handed out twice");
        }
        tx.commit();
        let (minus, plus, text) = bitmap_differences(&tools, &img);
        assert!(
            plus.is_empty(),
            "{name}: blocks in use marked free: {plus:?}\n{text}"
        );
        assert_eq!(
            minus, got,
            "{name}: e2fsck's view of what was allocated\n{text}"
        );
        assert!(!text.to_lowercase().contains("checksum"), "{name}: {text}");

        let mut tx = ImageTrans::new(&img, &geo);
        let first = *got.iter().next().unwrap();
        for &b in &got {
            free_block(&mut tx, &geo, b).unwrap();
        }
        assert_eq!(
            free_block(&mut tx, &geo, first),
            Err(Error::Corrupt("block already free")),
            "{name}: double free"
        );
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        assert_eq!(free_per_group(&tools, &img), before, "{name}: free counts");
    }
}

#[test]
fn allocation_until_enospc_takes_every_free_block_of_initialised_groups() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let work = TempDir::new("balloc-full");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 16 << 20, &["-b", "1024"], None);
    let im = Image::open(&img);
    let geo = im.geo.clone();
    let free: u64 = (0..geo.groups_count)
        .map(|g| im.group_desc(g).1)
        .filter(|gd| !gd.has_flag(EXT4_BG_BLOCK_UNINIT))
        .map(|gd| u64::from(gd.free_blocks_count()))
        .sum();
    drop(im);
    let mut tx = ImageTrans::new(&img, &geo);
    let mut n = 0u64;
    while alloc_block(&mut tx, &geo, n.wrapping_mul(7919))
        .unwrap()
        .is_some()
    {
        n += 1;
        assert!(n <= geo.blocks_count, "allocation does not stop");
    }
    tx.commit();
    assert_eq!(n, free, "blocks handed out before ENOSPC");
    let (minus, plus, text) = bitmap_differences(&tools, &img);
    assert!(plus.is_empty(), "{text}");
    assert_eq!(minus.len() as u64, free, "{text}");
}
