// SPDX-License-Identifier: GPL-2.0

//! The first namespace operation of the shared write layer
//! (`libext4::namei::create`), run through a host transaction on real
//! mkfs.ext4 images and judged by e2fsprogs: after creating files in the
//! root and in a subdirectory, e2fsck -fn is clean (exit 0: bitmaps,
//! counts, inode and directory checksums, link counts all agree), debugfs
//! lists every name with its inode number, type and mode, and a second
//! create of the same name is refused. Unlinking them again (in an order
//! that removes first, middle and last records of blocks) leaves e2fsck -fn
//! clean after each batch and every group's counts as mkfs left them.

mod common;

use common::*;
use rext4_core::libext4::namei::{create, unlink, NewInode, Time};
use rext4_core::ondisk::{Errno, Error};

#[test]
fn created_files_are_what_e2fsck_and_debugfs_see() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let tree = TempDir::new("namei-tree");
    std::fs::create_dir(tree.path().join("sub")).unwrap();
    std::fs::write(tree.path().join("sub/existing"), b"x").unwrap();
    for (name, args) in [
        ("4k-csum", &["-b", "4096"][..]),
        ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"][..]),
        ("1k-128-byte-inodes", &["-b", "1024", "-I", "128"][..]),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 32 << 20, args, Some(tree.path()));
        let im = Image::open(&img);
        let geo = im.geo.clone();
        let sub = im.namei("/sub").unwrap();
        drop(im);

        let mut tx = ImageTrans::new(&img, &geo);
        let mut made = Vec::new();
        for (dir, dname, count) in [(2u32, "", 20u32), (sub, "/sub", 15)] {
            for i in 0..count {
                let fname = format!("created-{i}-{}", "n".repeat(i as usize % 7));
                let n = NewInode {
                    perm: 0o640,
                    uid: 1000 + i,
                    gid: 100,
                    now: Time {
                        sec: 1_800_000_000 + i64::from(i),
                        nsec: 123_456_789,
                    },
                    generation: 77 + i,
                };
                let ino = create(&mut tx, &geo, dir, fname.as_bytes(), &n)
                    .unwrap()
                    .expect("free inode");
                made.push((format!("{dname}/{fname}"), ino, 1000 + i));
            }
        }
        let dup = NewInode {
            perm: 0o600,
            uid: 0,
            gid: 0,
            now: Time { sec: 0, nsec: 0 },
            generation: 0,
        };
        assert_eq!(
            create(&mut tx, &geo, sub, b"existing", &dup),
            Err(Error::Refused(Errno::Exists)),
            "{name}"
        );
        tx.commit();

        assert_e2fsck_clean(&tools, &img, name);
        let im = Image::open(&img);
        for (path, ino, uid) in &made {
            assert_eq!(im.namei(path), Some(*ino), "{name}: {path}");
            let stat = debugfs(&tools, &img, &[format!("stat <{ino}>")], false);
            assert!(stat.contains("Type: regular"), "{name}: {path}: {stat}");
            assert!(stat.contains("Mode:  0640"), "{name}: {path}: {stat}");
            assert!(
                stat.contains(&format!("User:  {uid}")),
                "{name}: {path}: {stat}"
            );
            assert!(stat.contains("Links: 1"), "{name}: {path}: {stat}");
            if geo.inode_size > 128 {
                // debugfs shows the extra word: nanoseconds << 2, epoch 0.
                let extra = format!(":{:08x}", 123_456_789u32 << 2);
                assert!(stat.contains(&extra), "{name}: {path}: nanoseconds: {stat}");
            }
        }
        drop(im);
        let before = dumpe2fs_groups(&tools, &img);
        // Unlink in two batches, odd-numbered first, judged after each.
        for batch in [1, 0] {
            let mut tx = ImageTrans::new(&img, &geo);
            for (k, (path, ino, _)) in made.iter().enumerate() {
                if k % 2 != batch {
                    continue;
                }
                let (dir, fname) = match path.rsplit_once('/') {
                    Some(("", f)) => (2, f),
                    Some((_, f)) => (sub, f),
                    None => unreachable!(),
                };
                let now = Time {
                    sec: 1_900_000_000,
                    nsec: 5,
                };
                assert_eq!(
                    unlink(&mut tx, &geo, dir, fname.as_bytes(), now),
                    Ok(Some(*ino)),
                    "{name}: unlink {path}"
                );
                assert_eq!(
                    unlink(&mut tx, &geo, dir, fname.as_bytes(), now),
                    Ok(None),
                    "{name}: second unlink of {path}"
                );
            }
            tx.commit();
            assert_e2fsck_clean(&tools, &img, &format!("{name}: after unlink batch {batch}"));
        }
        let after = dumpe2fs_groups(&tools, &img);
        let freed: u32 = after.iter().map(|g| g.free_inodes).sum::<u32>()
            - before.iter().map(|g| g.free_inodes).sum::<u32>();
        assert_eq!(freed as usize, made.len(), "{name}: inodes freed");
        let im = Image::open(&img);
        for (path, _, _) in &made {
            assert_eq!(im.namei(path), None, "{name}: {path} still named");
        }
        assert!(
            im.namei("/sub/existing").is_some(),
            "{name}: the untouched file"
        );
        let ls = debugfs(&tools, &img, &["ls -l /sub".to_string()], false);
        assert!(!ls.contains("created-"), "{name}: {ls}");
    }
}

/// FIFOs, sockets, devices and fast symlinks made by `create_special` are
/// what e2fsck and debugfs expect (type, device numbers in both encodings,
/// the target in the inode); they can be renamed and hard-linked; and an
/// unlink that keeps the inode (the kernel's way: freed at eviction) leaves
/// an image e2fsck -fn passes once `free_unlinked` has run, with every
/// count back where mkfs left it.
#[test]
fn special_inodes_and_deferred_freeing() {
    use rext4_core::libext4::namei::{
        create_slow_symlink, create_special, free_unlinked, link, mkdir, rename, rmdir_as,
        unlink_as, Last, Special,
    };
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("4k-csum", &["-b", "4096"][..]),
        (
            "1k-nocsum-128",
            &["-b", "1024", "-O", "^metadata_csum", "-I", "128"][..],
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 16 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let before = dumpe2fs_groups(&tools, &img);
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now: Time {
                sec: 1_800_000_000,
                nsec: 0,
            },
            generation: 9,
        };
        let mut tx = ImageTrans::new(&img, &geo);
        let made = [
            ("fifo", Special::Fifo, "Type: FIFO"),
            ("sock", Special::Socket, "Type: socket"),
            (
                "tty",
                Special::Char(4, 1),
                "Device major/minor number: 04:01",
            ),
            (
                "big",
                Special::Block(259, 70000),
                "Device major/minor number: 259:70000",
            ),
            (
                "link",
                Special::FastSymlink(b"some/target/path"),
                "Fast link dest: \"some/target/path\"",
            ),
        ];
        for (f, what, _) in made {
            create_special(&mut tx, &geo, 2, f.as_bytes(), &n, what)
                .unwrap()
                .expect("free inode");
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        let im = Image::open(&img);
        for (f, _, expect) in made {
            let ino = im.namei(&format!("/{f}")).expect(f);
            let stat = debugfs(&tools, &img, [format!("stat <{ino}>")].as_slice(), false);
            assert!(stat.contains(expect), "{name}: {f}: {stat}");
        }
        let fifo = im.namei("/fifo").unwrap();
        let dev = im.namei("/big").unwrap();
        drop(im);

        // Slow symlinks: the shortest that does not fit in the inode, a
        // middling one and the longest a block takes; e2fsck checks each
        // target's length against the size, debugfs dumps the block.
        let longest = geo.block_size as usize - 1;
        let slow: Vec<(String, Vec<u8>)> = [60usize, 333, longest]
            .iter()
            .map(|&len| {
                let t = (0..len).map(|i| b"abcdefghij/"[i % 11]).collect();
                (format!("slow{len}"), t)
            })
            .collect();
        let mut tx = ImageTrans::new(&img, &geo);
        for (f, t) in &slow {
            create_slow_symlink(&mut tx, &geo, 2, f.as_bytes(), &n, t)
                .unwrap()
                .expect("free inode and block");
        }
        // Targets the inode would hold, or a block would not, are refused.
        assert!(create_slow_symlink(&mut tx, &geo, 2, b"x", &n, &vec![b'a'; longest + 1]).is_err());
        assert!(create_slow_symlink(&mut tx, &geo, 2, b"x", &n, b"a\0b").is_err());
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        let im = Image::open(&img);
        for (f, t) in &slow {
            let ino = im.namei(&format!("/{f}")).expect(f);
            let stat = debugfs(&tools, &img, [format!("stat <{ino}>")].as_slice(), false);
            assert!(
                stat.contains("Type: symlink") && !stat.contains("Fast link"),
                "{name}: {f}: {stat}"
            );
            let out = work.path().join(format!("{f}.dump"));
            debugfs(
                &tools,
                &img,
                [format!("dump <{ino}> {}", out.display())].as_slice(),
                false,
            );
            assert_eq!(&std::fs::read(&out).unwrap(), t, "{name}: {f}: target");
        }
        drop(im);

        let mut tx = ImageTrans::new(&img, &geo);
        link(&mut tx, &geo, fifo, (2, b"fifo2"), n.now).unwrap();
        rename(&mut tx, &geo, (2, b"big"), (2, b"big2"), n.now)
            .unwrap()
            .unwrap();
        mkdir(&mut tx, &geo, 2, b"d", &n).unwrap().unwrap();
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        assert_eq!(Image::open(&img).namei("/big2"), Some(dev));

        // The kernel's order: names go first, inodes when evicted.
        let mut tx = ImageTrans::new(&img, &geo);
        let mut kept = Vec::new();
        for f in ["fifo", "fifo2", "sock", "tty", "big2", "link"]
            .into_iter()
            .chain(slow.iter().map(|(f, _)| f.as_str()))
        {
            kept.push(
                unlink_as(&mut tx, &geo, 2, f.as_bytes(), n.now, Last::Keep)
                    .unwrap()
                    .unwrap(),
            );
        }
        kept.push(
            rmdir_as(&mut tx, &geo, 2, b"d", n.now, Last::Keep)
                .unwrap()
                .unwrap(),
        );
        assert_eq!(kept.iter().filter(|&&i| i == fifo).count(), 2);
        kept.sort_unstable();
        kept.dedup();
        // A kept inode that still has a link is not freed.
        assert!(free_unlinked(&mut tx, &geo, 2, n.now).is_err());
        for ino in &kept {
            free_unlinked(&mut tx, &geo, *ino, n.now).unwrap();
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        let counts = |g: &[DumpGroup]| -> Vec<(u32, u32)> {
            g.iter().map(|g| (g.free_blocks, g.free_inodes)).collect()
        };
        assert_eq!(
            counts(&dumpe2fs_groups(&tools, &img)),
            counts(&before),
            "{name}: counts restored"
        );
        assert_eq!(Image::open(&img).namei("/fifo"), None);
    }
}

/// A linear directory grows a block at a time as names arrive
/// (`ext4_append()`), on 1k blocks with and without checksums: 600 names
/// need a dozen blocks; e2fsck -fn is clean, every name resolves, and
/// removing them all leaves the grown directory valid and empty.
#[test]
fn directories_grow_by_blocks() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("1k-csum", &["-b", "1024", "-O", "^dir_index"][..]),
        ("1k-nocsum", &["-b", "1024", "-O", "^metadata_csum"][..]),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 16 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now: Time {
                sec: 1_800_000_000,
                nsec: 0,
            },
            generation: 1,
        };
        let mut tx = ImageTrans::new(&img, &geo);
        let d = rext4_core::libext4::namei::mkdir(&mut tx, &geo, 2, b"big", &n)
            .unwrap()
            .unwrap();
        for i in 0..600 {
            create(
                &mut tx,
                &geo,
                d,
                format!("entry-number-{i:04}").as_bytes(),
                &n,
            )
            .unwrap()
            .expect("free inode");
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
        let stat = debugfs(&tools, &img, &["stat /big".to_string()], false);
        assert!(
            !stat.contains("Size: 1024\n"),
            "{name}: directory did not grow: {stat}"
        );
        let im = Image::open(&img);
        for i in [0, 299, 599] {
            assert!(
                im.namei(&format!("/big/entry-number-{i:04}")).is_some(),
                "{name}: {i}"
            );
        }
        drop(im);
        let mut tx = ImageTrans::new(&img, &geo);
        for i in 0..600 {
            unlink(
                &mut tx,
                &geo,
                d,
                format!("entry-number-{i:04}").as_bytes(),
                n.now,
            )
            .unwrap()
            .unwrap();
        }
        tx.commit();
        assert_e2fsck_clean(&tools, &img, name);
    }
}

/// A block freed in a transaction is not handed out again in it (jbd2
/// would refuse it, and a crash before the commit would give it two
/// owners): a directory made, removed and made again in one transaction
/// gets another block; after the commit the freed block is usable again.
#[test]
fn freed_blocks_wait_for_the_commit() {
    use rext4_core::libext4::namei::{mkdir, rmdir};
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let work = TempDir::new("reuse");
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 8 << 20, &["-b", "1024"], None);
    let geo = Image::open(&img).geo.clone();
    let n = NewInode {
        perm: 0o755,
        uid: 0,
        gid: 0,
        now: Time {
            sec: 1_800_000_000,
            nsec: 0,
        },
        generation: 3,
    };
    let first_block = |img: &std::path::Path, path: &str| {
        let out = debugfs(&tools, img, &[format!("blocks {path}")], false);
        out.split_whitespace()
            .last()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let mut tx = ImageTrans::new(&img, &geo);
    mkdir(&mut tx, &geo, 2, b"one", &n).unwrap().unwrap();
    tx.commit();
    let b1 = first_block(&img, "/one");
    let mut tx = ImageTrans::new(&img, &geo);
    rmdir(&mut tx, &geo, 2, b"one", n.now).unwrap().unwrap();
    assert!(tx.freed.contains(&b1));
    mkdir(&mut tx, &geo, 2, b"two", &n).unwrap().unwrap();
    tx.commit();
    let b2 = first_block(&img, "/two");
    assert_ne!(b1, b2, "a block freed in the transaction was reused in it");
    assert_e2fsck_clean(&tools, &img, "reuse");
    let mut tx = ImageTrans::new(&img, &geo);
    mkdir(&mut tx, &geo, 2, b"three", &n).unwrap().unwrap();
    tx.commit();
    assert_eq!(
        first_block(&img, "/three"),
        b1,
        "the freed block is usable after the commit"
    );
    assert_e2fsck_clean(&tools, &img, "reuse");
}

/// `RENAME_EXCHANGE`: two files in one directory, a file and a directory
/// across directories (the directory's `..` and both parents' link counts
/// follow), two directories across; a directory cannot be exchanged below
/// itself. e2fsck -fn (which checks `..` and link counts) is clean after.
#[test]
fn exchange_swaps_names() {
    use rext4_core::libext4::namei::{create, exchange, mkdir, NewInode, Time};
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
        mkfs(&tools, &img, 16 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let now = Time {
            sec: 1_780_000_000,
            nsec: 0,
        };
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now,
            generation: 7,
        };
        let mut tx = ImageTrans::new(&img, &geo);
        let a = mkdir(&mut tx, &geo, 2, b"a", &n).unwrap().unwrap();
        let b = mkdir(&mut tx, &geo, 2, b"b", &n).unwrap().unwrap();
        let f1 = create(&mut tx, &geo, a, b"f1", &n).unwrap().unwrap();
        let f2 = create(&mut tx, &geo, a, b"f2", &n).unwrap().unwrap();
        let d1 = mkdir(&mut tx, &geo, b, b"d1", &n).unwrap().unwrap();
        let d2 = mkdir(&mut tx, &geo, 2, b"d2", &n).unwrap().unwrap();
        tx.commit();
        let mut tx = ImageTrans::new(&img, &geo);
        // Two files, one directory.
        assert_eq!(
            exchange(&mut tx, &geo, (a, b"f1"), (a, b"f2"), now).unwrap(),
            Some((f1, f2))
        );
        // A file in a and a directory in b: d1 moves to a, f2 to b.
        exchange(&mut tx, &geo, (a, b"f1"), (b, b"d1"), now)
            .unwrap()
            .unwrap();
        // Two directories across: d1 (now a/f1) and d2 (/d2).
        exchange(&mut tx, &geo, (a, b"f1"), (2, b"d2"), now)
            .unwrap()
            .unwrap();
        // A directory below itself: a into a's child.
        assert!(exchange(&mut tx, &geo, (2, b"a"), (a, b"f1"), now).is_err());
        assert_eq!(
            exchange(&mut tx, &geo, (a, b"nope"), (a, b"f2"), now).unwrap(),
            None
        );
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after exchanges"));
        let im = Image::open(&img);
        assert_eq!(im.namei("/a/f2"), Some(f1), "{name}");
        assert_eq!(im.namei("/b/d1"), Some(f2), "{name}");
        assert_eq!(im.namei("/a/f1"), Some(d2), "{name}");
        assert_eq!(im.namei("/d2"), Some(d1), "{name}");
        assert_eq!(im.namei("/d2/.."), Some(2), "{name}: d1's .. follows it");
        assert_eq!(im.namei("/a/f1/.."), Some(a), "{name}: d2's .. follows it");
    }
}
