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

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;

use common::*;
use rext4_core::libext4::balloc::{alloc_block, free_block};
use rext4_core::libext4::trans::Trans;
use rext4_core::ondisk::group_desc::EXT4_BG_BLOCK_UNINIT;
use rext4_core::ondisk::superblock::Geometry;
use rext4_core::ondisk::{Error, Result};

/// The host's transaction: blocks read from the image, changed in memory,
/// written back at commit. It refuses to hand out data for a block it was
/// not asked to read, as jbd2 refuses a change without write access.
struct ImageTrans {
    file: File,
    bs: u64,
    blocks: BTreeMap<u64, Vec<u8>>,
    dirty: BTreeSet<u64>,
}

impl ImageTrans {
    fn new(img: &Path, geo: &Geometry) -> ImageTrans {
        ImageTrans {
            file: OpenOptions::new().read(true).write(true).open(img).unwrap(),
            bs: u64::from(geo.block_size),
            blocks: BTreeMap::new(),
            dirty: BTreeSet::new(),
        }
    }

    fn commit(self) -> usize {
        for b in &self.dirty {
            self.file
                .write_all_at(&self.blocks[b], b * self.bs)
                .unwrap();
        }
        self.file.sync_all().unwrap();
        self.dirty.len()
    }
}

impl Trans for ImageTrans {
    type Buf = u64;

    fn bread(&mut self, blk: u64) -> Result<u64> {
        if !self.blocks.contains_key(&blk) {
            let mut buf = vec![0u8; self.bs as usize];
            self.file
                .read_exact_at(&mut buf, blk * self.bs)
                .map_err(|_| Error::Corrupt("read"))?;
            self.blocks.insert(blk, buf);
        }
        Ok(blk)
    }

    fn data<'a>(&'a self, b: &'a u64) -> &'a [u8] {
        &self.blocks[b]
    }

    fn edit<R>(&mut self, b: &u64, f: impl FnOnce(&mut [u8]) -> R) -> Result<R> {
        let buf = self
            .blocks
            .get_mut(b)
            .ok_or(Error::Corrupt("edit without read"))?;
        self.dirty.insert(*b);
        Ok(f(buf))
    }
}

/// e2fsck -fn's block bitmap differences: (marked used but free, marked
/// free but used), and its whole output.
fn bitmap_differences(tools: &Tools, img: &Path) -> (BTreeSet<u64>, BTreeSet<u64>, String) {
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let out = Command::new(e2fsck).arg("-fn").arg(img).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (mut minus, mut plus) = (BTreeSet::new(), BTreeSet::new());
    let mut in_diff = false;
    for tok in text.split_whitespace() {
        if tok == "differences:" {
            in_diff = true;
            continue;
        }
        if !in_diff {
            continue;
        }
        let (set, rest) = match tok.as_bytes().first() {
            Some(b'-') => (&mut minus, &tok[1..]),
            Some(b'+') => (&mut plus, &tok[1..]),
            _ => {
                in_diff = false;
                continue;
            }
        };
        let rest = rest.trim_start_matches('(').trim_end_matches(')');
        let (a, b) = match rest.split_once("--") {
            Some((a, b)) => (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()),
            None => (rest.parse::<u64>().unwrap(), rest.parse::<u64>().unwrap()),
        };
        set.extend(a..=b);
    }
    (minus, plus, text)
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
        let out = Command::new(tools.e2fsck.as_ref().unwrap())
            .arg("-fn")
            .arg(&img)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
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
