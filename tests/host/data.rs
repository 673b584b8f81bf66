// SPDX-License-Identifier: GPL-2.0

//! Files with data through the shared write layer: `create`, then
//! `fill_empty_file` (block allocation after the previous block, the extent
//! root, `i_size`, `i_blocks`), then `unlink` freeing inode and blocks.
//! Judged by e2fsprogs on real images: e2fsck -fn clean after writing and
//! after deleting, debugfs `cat` returns exactly the bytes written, a
//! sequentially written file is one extent (debugfs `ex`), and every
//! group's free block and inode counts are back to mkfs's at the end.

mod common;

use std::process::Command;

use common::*;
use rext4_core::libext4::data::fill_empty_file;
use rext4_core::libext4::namei::{create, unlink, NewInode, Time};

#[test]
fn written_files_read_back_through_debugfs_and_free_on_unlink() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("4k-csum", &["-b", "4096"][..]),
        (
            "1k-nocsum-32bit",
            &["-b", "1024", "-O", "^metadata_csum,^64bit"][..],
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 32 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let bs = geo.block_size as usize;
        let start = dumpe2fs_groups(&tools, &img);

        let mut rng = Rng(0xDA7A);
        let sizes = [0, 1, bs - 1, bs, bs + 1, 3 * bs + 17, 40 * bs, 100_000];
        let now = Time {
            sec: 1_750_000_000,
            nsec: 0,
        };
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now,
            generation: 1,
        };
        let mut tx = ImageTrans::new(&img, &geo);
        let mut files = Vec::new();
        for (k, &size) in sizes.iter().enumerate() {
            let fname = format!("data-{k}-{size}");
            let ino = create(&mut tx, &geo, 2, fname.as_bytes(), &n)
                .unwrap()
                .unwrap();
            let bytes = rng.bytes(size);
            assert!(
                fill_empty_file(&mut tx, &geo, ino, &bytes).unwrap(),
                "{name}: ENOSPC"
            );
            files.push((fname, bytes));
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after writing"));
        for (fname, bytes) in &files {
            let out = Command::new(&tools.debugfs)
                .arg("-R")
                .arg(format!("cat /{fname}"))
                .arg(&img)
                .output()
                .unwrap();
            assert_eq!(&out.stdout, bytes, "{name}: {fname} reads back differently");
            if bytes.len() > bs {
                let ex = debugfs(&tools, &img, &[format!("ex /{fname}")], false);
                let extents = ex
                    .lines()
                    .filter(|l| l.trim_start().starts_with("0/"))
                    .count();
                assert_eq!(extents, 1, "{name}: {fname}: {ex}");
            }
        }

        let mut tx = ImageTrans::new(&img, &geo);
        for (fname, _) in &files {
            assert!(
                unlink(&mut tx, &geo, 2, fname.as_bytes(), now)
                    .unwrap()
                    .is_some(),
                "{name}: unlink {fname}"
            );
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after unlinking"));
        let end = dumpe2fs_groups(&tools, &img);
        let counts = |g: &[DumpGroup]| -> Vec<(u32, u32)> {
            g.iter().map(|g| (g.free_blocks, g.free_inodes)).collect()
        };
        assert_eq!(counts(&end), counts(&start), "{name}: free counts");
    }
}

#[test]
fn unlink_of_a_file_mapping_a_free_block_changes_nothing() {
    // A damaged bitmap must not make unlink stop half way (name gone,
    // blocks half freed): it is refused before the first change.
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let work = TempDir::new("data-badfree");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 16 << 20, &["-b", "1024"], None);
    let geo = Image::open(&img).geo.clone();
    let now = Time { sec: 1, nsec: 0 };
    let n = NewInode {
        perm: 0o600,
        uid: 0,
        gid: 0,
        now,
        generation: 3,
    };
    let mut tx = ImageTrans::new(&img, &geo);
    let ino = create(&mut tx, &geo, 2, b"victim", &n).unwrap().unwrap();
    assert!(fill_empty_file(&mut tx, &geo, ino, &vec![9u8; 5000]).unwrap());
    tx.commit();
    let ex = debugfs(&tools, &img, &["blocks /victim".to_string()], false);
    let last: u64 = ex.split_whitespace().last().unwrap().parse().unwrap();
    debugfs(&tools, &img, &[format!("freeb {last}")], true);
    let before = std::fs::read(&img).unwrap();
    let mut tx = ImageTrans::new(&img, &geo);
    assert_eq!(
        unlink(&mut tx, &geo, 2, b"victim", now),
        Err(rext4_core::ondisk::Error::Corrupt("file maps a free block"))
    );
    drop(tx);
    assert!(std::fs::read(&img).unwrap() == before, "the image changed");
    assert_eq!(Image::open(&img).namei("/victim"), Some(ino));
}
