// SPDX-License-Identifier: GPL-2.0

//! Directories through the shared write layer: `mkdir` builds a tree three
//! levels deep with files in it, `rmdir` refuses a non-empty directory and
//! takes the tree down again. Judged by e2fsprogs on real images: e2fsck
//! -fn clean after building and after every teardown step (link counts of
//! parents, `.`/`..`, directory counts per group, leaf checksums), debugfs
//! sees every directory with its `..`, and at the end every group's free
//! block, free inode and directory counts are what mkfs left.

mod common;

use common::*;
use rext4_core::libext4::namei::{create, mkdir, rmdir, unlink, NewInode, Time};
use rext4_core::ondisk::{Errno, Error};

#[test]
fn mkdir_and_rmdir_keep_e2fsck_clean() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("4k-csum", &["-b", "4096"][..]),
        ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"][..]),
        ("2k-128-inodes", &["-b", "2048", "-I", "128"][..]),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 32 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let start = dumpe2fs_groups(&tools, &img);
        let n = NewInode {
            perm: 0o755,
            uid: 0,
            gid: 0,
            now: Time {
                sec: 1_760_000_000,
                nsec: 42,
            },
            generation: 9,
        };
        let now = n.now;

        // /a{0..4}/b{0..2}/c, each c holding two files.
        let mut tx = ImageTrans::new(&img, &geo);
        let mut dirs = Vec::new();
        for i in 0..5 {
            let a = mkdir(&mut tx, &geo, 2, format!("a{i}").as_bytes(), &n)
                .unwrap()
                .unwrap();
            for j in 0..3 {
                let b = mkdir(&mut tx, &geo, a, format!("b{j}").as_bytes(), &n)
                    .unwrap()
                    .unwrap();
                let c = mkdir(&mut tx, &geo, b, b"c", &n).unwrap().unwrap();
                for f in ["f1", "f2"] {
                    create(&mut tx, &geo, c, f.as_bytes(), &n).unwrap().unwrap();
                }
                dirs.push((a, b, c, format!("/a{i}/b{j}/c")));
            }
        }
        assert_eq!(
            mkdir(&mut tx, &geo, 2, b"a0", &n),
            Err(Error::Refused(Errno::Exists)),
            "{name}"
        );
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after mkdir"));
        let im = Image::open(&img);
        for (_, b, c, path) in &dirs {
            assert_eq!(im.namei(path), Some(*c), "{name}: {path}");
            assert_eq!(
                im.namei(&format!("{path}/..")),
                Some(*b),
                "{name}: {path}/.."
            );
        }
        let stat = debugfs(&tools, &img, &["stat /a0".to_string()], false);
        assert!(
            stat.contains("Links: 5"),
            "{name}: /a0 has 3 subdirectories: {stat}"
        );
        drop(im);

        // Teardown, judged after each level.
        let mut tx = ImageTrans::new(&img, &geo);
        for (_, b, c, path) in &dirs {
            assert_eq!(
                rmdir(&mut tx, &geo, *b, b"c", now),
                Err(Error::Refused(Errno::NotEmpty)),
                "{name}: {path}"
            );
            for f in ["f1", "f2"] {
                unlink(&mut tx, &geo, *c, f.as_bytes(), now)
                    .unwrap()
                    .unwrap();
            }
            assert_eq!(
                rmdir(&mut tx, &geo, *b, b"c", now),
                Ok(Some(*c)),
                "{name}: {path}"
            );
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after removing the c level"));
        let mut tx = ImageTrans::new(&img, &geo);
        for (a, b, _, path) in &dirs {
            let bname = path.split('/').nth(2).unwrap();
            assert_eq!(
                rmdir(&mut tx, &geo, *a, bname.as_bytes(), now),
                Ok(Some(*b))
            );
        }
        for i in 0..5 {
            assert!(rmdir(&mut tx, &geo, 2, format!("a{i}").as_bytes(), now)
                .unwrap()
                .is_some());
        }
        assert_eq!(rmdir(&mut tx, &geo, 2, b"a0", now), Ok(None), "{name}");
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after removing everything"));
        let end = dumpe2fs_groups(&tools, &img);
        let counts = |g: &[DumpGroup]| -> Vec<(u32, u32, u32)> {
            g.iter()
                .map(|g| (g.free_blocks, g.free_inodes, g.dirs))
                .collect()
        };
        assert_eq!(counts(&end), counts(&start), "{name}: group counts");
        let stat = debugfs(&tools, &img, &["stat /".to_string()], false);
        assert!(
            stat.contains("Links: 3"),
            "{name}: root links back to 3: {stat}"
        );
    }
}

#[test]
fn a_fragmented_directory_grows_an_extent_tree_and_goes_again() {
    // Directory blocks interleaved with file blocks: every new directory
    // block is an extent of its own, so past four the root must grow an
    // index level (ext4 does the same). e2fsck -fn judges the tree, debugfs
    // finds every name, and unlinking everything and the rmdir give the
    // free counts mkfs left.
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let work = TempDir::new("dirs-frag");
    let img = work.path().join("fs.img");
    mkfs(
        &tools,
        &img,
        16 << 20,
        &["-b", "1024", "-O", "^dir_index"],
        None,
    );
    let geo = Image::open(&img).geo.clone();
    let start = dumpe2fs_groups(&tools, &img);
    // A real time: a small dtime reads as an orphan-list link to e2fsck.
    let now = Time {
        sec: 1_750_000_000,
        nsec: 0,
    };
    let n = NewInode {
        perm: 0o755,
        uid: 0,
        gid: 0,
        now,
        generation: 5,
    };
    let mut tx = ImageTrans::new(&img, &geo);
    let d = mkdir(&mut tx, &geo, 2, b"d", &n).unwrap().unwrap();
    let p = mkdir(&mut tx, &geo, 2, b"p", &n).unwrap().unwrap();
    let mut names = Vec::new();
    for k in 0..400 {
        // About 4 names of 200 bytes per 1 KiB block.
        let name = format!("{k:04}-{}", "n".repeat(195));
        create(&mut tx, &geo, d, name.as_bytes(), &n)
            .unwrap()
            .unwrap();
        names.push(name);
        if k % 4 == 3 {
            let f = format!("pad-{k}");
            let ino = create(&mut tx, &geo, p, f.as_bytes(), &n).unwrap().unwrap();
            assert!(
                rext4_core::libext4::data::fill_empty_file(&mut tx, &geo, ino, &[1u8; 1024])
                    .unwrap()
            );
            names.push(String::new());
            tx.commit();
            tx = ImageTrans::new(&img, &geo);
        }
    }
    tx.commit();
    assert_e2fsck_clean(&tools, &img, "after growing the directory");
    let ex = debugfs(&tools, &img, &["ex /d".to_string()], false);
    assert!(
        ex.lines().any(|l| l.trim_start().starts_with("1/")),
        "no index level: {ex}"
    );
    let ls = debugfs(&tools, &img, &["ls -l /d".to_string()], false);
    for name in names.iter().filter(|n| !n.is_empty()) {
        assert!(ls.contains(name.as_str()), "debugfs misses {name}");
    }
    let mut tx = ImageTrans::new(&img, &geo);
    for name in names.iter().filter(|n| !n.is_empty()) {
        unlink(&mut tx, &geo, d, name.as_bytes(), now)
            .unwrap()
            .unwrap();
    }
    for k in (3..400).step_by(4) {
        unlink(&mut tx, &geo, p, format!("pad-{k}").as_bytes(), now)
            .unwrap()
            .unwrap();
    }
    rmdir(&mut tx, &geo, 2, b"d", now).unwrap().unwrap();
    rmdir(&mut tx, &geo, 2, b"p", now).unwrap().unwrap();
    tx.commit();
    assert_e2fsck_clean(&tools, &img, "after removing everything");
    let end = dumpe2fs_groups(&tools, &img);
    let counts = |g: &[DumpGroup]| -> Vec<(u32, u32, u32)> {
        g.iter()
            .map(|g| (g.free_blocks, g.free_inodes, g.dirs))
            .collect()
    };
    assert_eq!(counts(&end), counts(&start), "free counts");
}
