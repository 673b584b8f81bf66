// SPDX-License-Identifier: GPL-2.0

//! The classic orphan list (`libext4::orphan`), judged by e2fsprogs:
//! - files and a directory whose last name goes while "open" (kept for
//!   eviction) are on the list dumpe2fs shows (`First orphan inode`), and
//!   e2fsck's own orphan processing (`-fy` on a copy) frees them, leaving
//!   an image `e2fsck -fn` finds clean with every count back to before
//!   they were made;
//! - taking one off the middle of the list relinks it (e2fsck walks the
//!   rest the same way);
//! - a truncate cut short (the new size set, the blocks past it still
//!   mapped, the file listed) is finished by e2fsck, and by rext4's mount
//!   processing (`cleanup_step`), after which the image is clean, the file
//!   has its size and no block past it, and the free counts are back;
//! - without a journal nothing is listed (as ext4).

mod common;

use std::fs;
use std::path::Path;

use common::*;
use rext4_core::libext4::data::{fill_empty_file, truncate};
use rext4_core::libext4::namei::{
    create, free_unlinked, mkdir, rmdir_as, unlink_as, Last, NewInode, Time,
};
use rext4_core::libext4::orphan::{add, cleanup_step, head, Cleaned};

fn first_orphan(tools: &Tools, img: &Path) -> u32 {
    dumpe2fs_header(tools, img)
        .get("First orphan inode")
        .map_or(0, |v| v.trim().parse().expect("orphan number"))
}

/// e2fsck's own orphan processing on a copy, then `-fn` clean.
fn e2fsck_replays(tools: &Tools, img: &Path, what: &str) -> Vec<DumpGroup> {
    let copy = img.with_extension("e2fsck");
    fs::copy(img, &copy).unwrap();
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let out = std::process::Command::new(e2fsck)
        .arg("-fy")
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{what}: e2fsck -fy: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_e2fsck_clean(
        tools,
        &copy,
        &format!("{what}: after e2fsck's orphan processing"),
    );
    let groups = dumpe2fs_groups(tools, &copy);
    let _ = fs::remove_file(&copy);
    groups
}

fn counts(g: &[DumpGroup]) -> Vec<(u32, u32)> {
    g.iter().map(|g| (g.free_blocks, g.free_inodes)).collect()
}

/// Runs rext4's mount processing to the end, one transaction per step.
fn cleanup(img: &Path, geo: &rext4_core::ondisk::superblock::Geometry, now: Time) -> Vec<Cleaned> {
    let mut done = Vec::new();
    for _ in 0..10_000 {
        let mut tx = ImageTrans::new(img, geo);
        // The kernel's budget for a step.
        let mut budget = rext4_core::libext4::extents::steps_credits(4, 16) - 8;
        let c = cleanup_step(&mut tx, geo, now, &mut budget).unwrap();
        tx.commit();
        if c == Cleaned::Empty {
            return done;
        }
        done.push(c);
    }
    panic!("orphan cleanup does not end");
}

#[test]
fn orphans_are_listed_and_processed_as_e2fsck_does() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("4k-csum", &["-b", "4096"][..]),
        ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"][..]),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 32 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let bs = geo.block_size as usize;
        let before = dumpe2fs_groups(&tools, &img);
        let now = Time {
            sec: 1_760_000_000,
            nsec: 0,
        };
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now,
            generation: 3,
        };
        let mut rng = Rng(0x0F7A);

        // Three files with data and a directory, their names removed while
        // they are "open": four orphans.
        let mut tx = ImageTrans::new(&img, &geo);
        let mut inos = Vec::new();
        for (k, size) in [5 * bs + 3, 1, 64 * bs].into_iter().enumerate() {
            let f = format!("f{k}");
            let ino = create(&mut tx, &geo, 2, f.as_bytes(), &n).unwrap().unwrap();
            assert!(fill_empty_file(&mut tx, &geo, ino, &rng.bytes(size)).unwrap());
            inos.push(ino);
        }
        inos.push(mkdir(&mut tx, &geo, 2, b"d", &n).unwrap().unwrap());
        tx.commit();
        let mut tx = ImageTrans::new(&img, &geo);
        for k in 0..3 {
            unlink_as(
                &mut tx,
                &geo,
                2,
                format!("f{k}").as_bytes(),
                now,
                Last::Keep,
            )
            .unwrap()
            .unwrap();
        }
        rmdir_as(&mut tx, &geo, 2, b"d", now, Last::Keep)
            .unwrap()
            .unwrap();
        tx.commit();
        // The last one listed is the head.
        assert_eq!(first_orphan(&tools, &img), inos[3], "{name}: list head");
        let e = e2fsck_replays(&tools, &img, name);
        assert_eq!(
            counts(&e),
            counts(&before),
            "{name}: e2fsck freed the orphans"
        );

        // One off the middle (evicted normally), then the mount's
        // processing frees the rest.
        let mut tx = ImageTrans::new(&img, &geo);
        free_unlinked(&mut tx, &geo, inos[1], now).unwrap();
        tx.commit();
        assert_eq!(first_orphan(&tools, &img), inos[3], "{name}: head kept");
        let e = e2fsck_replays(&tools, &img, &format!("{name}: a middle orphan gone"));
        assert_eq!(counts(&e), counts(&before), "{name}: the rest relinked");
        let done = cleanup(&img, &geo, now);
        let freed = done
            .iter()
            .filter(|c| matches!(c, Cleaned::Freed(_)))
            .count();
        assert_eq!(freed, 3, "{name}: {done:?}");
        assert_eq!(first_orphan(&tools, &img), 0, "{name}: list empty");
        assert_e2fsck_clean(
            &tools,
            &img,
            &format!("{name}: after rext4's orphan processing"),
        );
        assert_eq!(
            counts(&dumpe2fs_groups(&tools, &img)),
            counts(&before),
            "{name}: counts"
        );

        // A truncate cut short: the size set, no block freed yet, listed.
        let mut tx = ImageTrans::new(&img, &geo);
        let ino = create(&mut tx, &geo, 2, b"big", &n).unwrap().unwrap();
        let data = rng.bytes(200 * bs);
        assert!(fill_empty_file(&mut tx, &geo, ino, &data).unwrap());
        tx.commit();
        let with_file = dumpe2fs_groups(&tools, &img);
        let keep = 3 * bs as u64 + 100;
        let mut tx = ImageTrans::new(&img, &geo);
        let mut budget = 0;
        assert!(
            !truncate(&mut tx, &geo, ino, keep, &mut budget).unwrap(),
            "{name}: stops"
        );
        assert!(add(&mut tx, &geo, ino).unwrap());
        assert!(!add(&mut tx, &geo, ino).unwrap(), "{name}: listed once");
        tx.commit();
        assert_eq!(first_orphan(&tools, &img), ino);
        let e = e2fsck_replays(&tools, &img, &format!("{name}: truncate cut short"));
        assert_ne!(
            counts(&e),
            counts(&with_file),
            "{name}: e2fsck freed the tail"
        );
        let done = cleanup(&img, &geo, now);
        assert!(
            done.contains(&Cleaned::Truncated(ino, keep)),
            "{name}: {done:?}"
        );
        assert_e2fsck_clean(&tools, &img, &format!("{name}: truncate finished"));
        assert_eq!(
            counts(&dumpe2fs_groups(&tools, &img)),
            counts(&e),
            "{name}: as e2fsck left it"
        );
        let im = Image::open(&img);
        assert_eq!(
            im.read_file(ino),
            data[..keep as usize],
            "{name}: the head of the file stays"
        );
        let (_, i) = im.inode(ino);
        assert_eq!(i.i_dtime, 0, "{name}: off the list");
    }

    // No journal, no list.
    let work = TempDir::new("nojournal");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 16 << 20, &["-O", "^has_journal"], None);
    let geo = Image::open(&img).geo.clone();
    let now = Time {
        sec: 1_760_000_000,
        nsec: 0,
    };
    let n = NewInode {
        perm: 0o644,
        uid: 0,
        gid: 0,
        now,
        generation: 4,
    };
    let mut tx = ImageTrans::new(&img, &geo);
    let ino = create(&mut tx, &geo, 2, b"f", &n).unwrap().unwrap();
    unlink_as(&mut tx, &geo, 2, b"f", now, Last::Keep)
        .unwrap()
        .unwrap();
    assert_eq!(head(&mut tx, &geo).unwrap(), 0);
    free_unlinked(&mut tx, &geo, ino, now).unwrap();
    tx.commit();
    assert_e2fsck_clean(&tools, &img, "nojournal");
}
