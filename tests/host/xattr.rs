// SPDX-License-Identifier: GPL-2.0

//! Extended attribute writes (`libext4::xattr`), judged by e2fsprogs:
//! - thousands of random sets, replaces and removals (names of every
//!   length in three namespaces, values from empty to larger than a block)
//!   on files and directories, with a model of what each inode must hold:
//!   after every batch `e2fsck -fn` is clean and debugfs (`ea_list`,
//!   `ea_get`) reads exactly the model; `XATTR_CREATE` / `XATTR_REPLACE`
//!   give `EEXIST` / `ENODATA`, and `ENOSPC` comes only when the
//!   attributes cannot fit the inode and a block, changing nothing;
//! - on 4k/256-byte inodes (in-inode area, then the block), 1k without
//!   metadata_csum, and 128-byte inodes (block only);
//! - a block two inodes share (as ext4's mbcache leaves them, refcount 2)
//!   is copied when one of them changes, and released one owner at a time;
//! - removing the last attribute and deleting the inode free the block:
//!   the free counts come back exactly.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use common::*;
use rext4_core::libext4::inode::{edit_inode, inode_slot, read_inode};
use rext4_core::libext4::namei::{create, mkdir, unlink, NewInode, Time};
use rext4_core::libext4::trans::Trans;
use rext4_core::libext4::xattr::{set, Change, Mode};
use rext4_core::ondisk::superblock::Geometry;
use rext4_core::ondisk::xattr::{ext4_xattr_block_csum, xattr_entry_len, XattrList};
use rext4_core::ondisk::{Errno, Error};

type Model = BTreeMap<u32, BTreeMap<(u8, Vec<u8>), Vec<u8>>>;

const NOW: Time = Time {
    sec: 1_760_000_000,
    nsec: 5,
};

fn prefix(index: u8) -> &'static str {
    match index {
        1 => "user.",
        4 => "trusted.",
        6 => "security.",
        _ => unreachable!(),
    }
}

fn new_inode() -> NewInode {
    NewInode {
        perm: 0o644,
        uid: 0,
        gid: 0,
        now: NOW,
        generation: 9,
    }
}

/// Every inode's attributes as debugfs reads them.
fn debugfs_view(tools: &Tools, img: &Path, inos: &[u32], work: &Path) -> Model {
    let reqs: Vec<String> = inos.iter().map(|i| format!("ea_list <{i}>")).collect();
    let out = debugfs(tools, img, &reqs, false);
    let mut names: Vec<(u32, String)> = Vec::new();
    for ((_, text), &ino) in split_debugfs(&out).iter().zip(inos) {
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("  ") {
                let name = rest.split(" (").next().unwrap().to_string();
                names.push((ino, name));
            }
        }
    }
    let reqs: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(k, (ino, name))| format!("ea_get -f {}/v{k} <{ino}> {name}", work.display()))
        .collect();
    if !reqs.is_empty() {
        debugfs(tools, img, &reqs, false);
    }
    let mut m = Model::new();
    for (k, (ino, name)) in names.iter().enumerate() {
        let (index, rest) = [1u8, 4, 6]
            .into_iter()
            .find_map(|i| name.strip_prefix(prefix(i)).map(|r| (i, r)))
            .unwrap_or_else(|| panic!("unexpected name {name}"));
        let path = work.join(format!("v{k}"));
        let v = fs::read(&path).unwrap_or_default();
        let _ = fs::remove_file(&path);
        m.entry(*ino)
            .or_default()
            .insert((index, rest.as_bytes().to_vec()), v);
    }
    m
}

/// Bytes of entries and padded values in inode `ino`'s area and block,
/// not counting attribute `skip`.
fn used(tx: &mut ImageTrans, geo: &Geometry, ino: u32, skip: &(u8, Vec<u8>)) -> (usize, usize) {
    let sum = |l: &XattrList<'_>| -> usize {
        l.iter()
            .map(|e| e.unwrap())
            .filter(|e| (e.e_name_index, e.name.to_vec()) != *skip)
            .map(|e| xattr_entry_len(e.name.len()) + ((e.e_value_size as usize + 3) & !3))
            .sum()
    };
    let i = read_inode(tx, geo, ino).unwrap();
    let (buf, off) = inode_slot(tx, geo, ino).unwrap();
    let raw = tx.data(&buf)[off..].to_vec();
    let ib = XattrList::parse_ibody(&raw, geo, i.i_extra_isize)
        .unwrap()
        .map_or(0, |l| sum(&l));
    let blk = match i.file_acl(geo) {
        0 => 0,
        b => {
            let buf = tx.bread(b).unwrap();
            let data = tx.data(&buf).to_vec();
            sum(&XattrList::parse_block(&data, geo).unwrap().1)
        }
    };
    (ib, blk)
}

/// What the in-inode area and a block can hold (entries and values, less
/// the terminating word).
fn capacity(geo: &Geometry) -> (usize, usize) {
    let ibody = match geo.inode_size {
        128 => 0,
        s => usize::from(s) - 128 - 32 - 4 - 4,
    };
    (ibody, geo.block_size as usize - 32 - 4)
}

fn random_ops(tools: &Tools, name: &str, args: &[&str]) {
    let work = TempDir::new(name);
    let img = work.path().join("fs.img");
    mkfs(tools, &img, 16 << 20, args, None);
    let geo = Image::open(&img).geo.clone();
    let bs = geo.block_size as usize;
    let before = dumpe2fs_groups(tools, &img);
    let n = new_inode();
    let mut tx = ImageTrans::new(&img, &geo);
    let mut inos = Vec::new();
    for k in 0..10 {
        inos.push(
            create(&mut tx, &geo, 2, format!("f{k}").as_bytes(), &n)
                .unwrap()
                .unwrap(),
        );
    }
    for k in 0..2 {
        inos.push(
            mkdir(&mut tx, &geo, 2, format!("d{k}").as_bytes(), &n)
                .unwrap()
                .unwrap(),
        );
    }
    tx.commit();
    let names: Vec<(u8, Vec<u8>)> = [
        (1u8, "a"),
        (1, "bb"),
        (1, "mime_type"),
        (1, "a-rather-long-attribute-name-for-alignment-x"),
        (1, "c"),
        (4, "overlay.origin"),
        (4, "t"),
        (6, "selinux"),
        (6, "capability"),
    ]
    .into_iter()
    .map(|(i, s)| (i, s.as_bytes().to_vec()))
    .chain(std::iter::once((1u8, vec![b'n'; 255])))
    .collect();
    let mut model = Model::new();
    let mut rng = Rng(0x5EA7 ^ bs as u64);
    let mut scratch = vec![0u8; bs];
    let (mut sets, mut removes, mut nospace) = (0, 0, 0);
    for batch in 0..8 {
        let mut tx = ImageTrans::new(&img, &geo);
        for _ in 0..150 {
            let ino = inos[rng.below(inos.len() as u64) as usize];
            let (index, nm) = names[rng.below(names.len() as u64) as usize].clone();
            let mode = match rng.below(6) {
                0 => Mode::Create,
                1 => Mode::Replace,
                _ => Mode::Any,
            };
            let len = match rng.below(10) {
                0..=2 => None,
                3 => Some(0),
                4 => Some(bs / 2 + rng.below(bs as u64) as usize),
                5 | 6 => Some(rng.below(200) as usize),
                _ => Some(rng.below(24) as usize),
            };
            let value = len.map(|l| rng.bytes(l));
            let c = Change {
                index,
                name: &nm,
                value: value.as_deref(),
                mode,
            };
            let attrs = model.entry(ino).or_default();
            let key = (index, nm.clone());
            let exists = attrs.contains_key(&key);
            let r = set(&mut tx, &geo, ino, &c, NOW, &mut scratch);
            match (mode, exists, &value) {
                (Mode::Create, true, _) => {
                    assert_eq!(r, Err(Error::Refused(Errno::Exists)), "{name}: create");
                    continue;
                }
                (Mode::Replace, false, _) => {
                    assert_eq!(r, Err(Error::Refused(Errno::NoData)), "{name}: replace");
                    continue;
                }
                (_, _, None) => {
                    assert_eq!(r, Ok(exists), "{name}: remove");
                    attrs.remove(&key);
                    removes += 1;
                }
                (_, _, Some(v)) => {
                    let mut after = attrs.clone();
                    after.insert(key.clone(), v.clone());
                    match r {
                        Ok(_) => {
                            *attrs = after;
                            sets += 1;
                        }
                        Err(Error::Refused(Errno::NoSpace)) => {
                            // Legitimate only if it fits neither the
                            // inode's area nor the block beside what the
                            // other attributes use there now.
                            let one = xattr_entry_len(nm.len()) + ((v.len() + 3) & !3);
                            let (ib, blk) = used(&mut tx, &geo, ino, &key);
                            let (ib_cap, blk_cap) = capacity(&geo);
                            assert!(
                                ib + one > ib_cap && blk + one > blk_cap,
                                "{name}: ENOSPC for {one} bytes, inode {ib}/{ib_cap}, block {blk}/{blk_cap}"
                            );
                            nospace += 1;
                        }
                        Err(e) => panic!("{name}: set: {e:?}"),
                    }
                }
            }
        }
        tx.commit();
        assert_e2fsck_clean(tools, &img, &format!("{name}: batch {batch}"));
        let seen = debugfs_view(tools, &img, &inos, work.path());
        let want: Model = model
            .iter()
            .filter(|(_, a)| !a.is_empty())
            .map(|(i, a)| (*i, a.clone()))
            .collect();
        assert_eq!(seen, want, "{name}: batch {batch}: debugfs reads the model");
    }
    assert!(
        sets > 300 && removes > 100,
        "{name}: {sets} sets, {removes} removals"
    );
    eprintln!("{name}: {sets} sets, {removes} removals, {nospace} ENOSPC");
    // Removing everything, then deleting the files: every block comes back.
    let mut tx = ImageTrans::new(&img, &geo);
    for (ino, attrs) in &model {
        for (index, nm) in attrs.keys() {
            let c = Change {
                index: *index,
                name: nm,
                value: None,
                mode: Mode::Replace,
            };
            assert_eq!(set(&mut tx, &geo, *ino, &c, NOW, &mut scratch), Ok(true));
        }
        let i = read_inode(&mut tx, &geo, *ino).unwrap();
        assert_eq!(
            i.file_acl(&geo),
            0,
            "{name}: block released with the last attribute"
        );
    }
    tx.commit();
    assert_e2fsck_clean(tools, &img, &format!("{name}: all removed"));
    // Sets again, then the inodes go with their blocks.
    let mut tx = ImageTrans::new(&img, &geo);
    let big = vec![7u8; bs / 2];
    for &ino in &inos {
        let c = Change {
            index: 1,
            name: b"big",
            value: Some(&big),
            mode: Mode::Create,
        };
        assert_eq!(set(&mut tx, &geo, ino, &c, NOW, &mut scratch), Ok(true));
    }
    tx.commit();
    let mut tx = ImageTrans::new(&img, &geo);
    for k in 0..10 {
        unlink(&mut tx, &geo, 2, format!("f{k}").as_bytes(), NOW)
            .unwrap()
            .unwrap();
    }
    for k in 0..2 {
        rext4_core::libext4::namei::rmdir(&mut tx, &geo, 2, format!("d{k}").as_bytes(), NOW)
            .unwrap()
            .unwrap();
    }
    tx.commit();
    assert_e2fsck_clean(tools, &img, &format!("{name}: deleted"));
    let after = dumpe2fs_groups(tools, &img);
    let counts = |g: &[DumpGroup]| -> Vec<(u32, u32)> {
        g.iter().map(|g| (g.free_blocks, g.free_inodes)).collect()
    };
    assert_eq!(
        counts(&after),
        counts(&before),
        "{name}: free counts restored"
    );
}

#[test]
fn random_xattr_ops_match_debugfs() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    random_ops(&tools, "xattr-4k", &["-b", "4096"]);
    random_ops(&tools, "xattr-1k", &["-b", "1024", "-O", "^metadata_csum"]);
    random_ops(&tools, "xattr-i128", &["-b", "4096", "-I", "128"]);
}

/// Makes inode `b` a second owner of inode `a`'s xattr block, as ext4's
/// mbcache sharing leaves it: the same `i_file_acl`, the block counted in
/// `i_blocks`, `h_refcount` 2.
fn share(tx: &mut ImageTrans, geo: &Geometry, a: u32, b: u32) -> u64 {
    let blk = read_inode(tx, geo, a).unwrap().file_acl(geo);
    assert_ne!(blk, 0);
    let buf = tx.bread(blk).unwrap();
    tx.edit(&buf, |d| {
        d[4..8].copy_from_slice(&2u32.to_le_bytes());
        if geo.has_metadata_csum() {
            let c = ext4_xattr_block_csum(d, blk, geo).unwrap();
            d[16..20].copy_from_slice(&c.to_le_bytes());
        }
    })
    .unwrap();
    let sectors = geo.block_size >> 9;
    edit_inode(tx, geo, b, |i| {
        i.i_file_acl_lo = blk as u32;
        i.i_blocks_lo += sectors;
    })
    .unwrap();
    blk
}

fn refcount(img: &Path, blk: u64) -> u32 {
    let b = Image::open(img).read_block(blk);
    u32::from_le_bytes(b[4..8].try_into().unwrap())
}

#[test]
fn shared_blocks_are_copied_on_write() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args) in [
        ("share-i128", &["-b", "4096", "-I", "128"][..]),
        (
            "share-1k",
            &["-b", "1024", "-I", "128", "-O", "^metadata_csum"][..],
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 16 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let mut scratch = vec![0u8; geo.block_size as usize];
        let before = dumpe2fs_groups(&tools, &img);
        let n = new_inode();
        let mut tx = ImageTrans::new(&img, &geo);
        let a = create(&mut tx, &geo, 2, b"a", &n).unwrap().unwrap();
        let b = create(&mut tx, &geo, 2, b"b", &n).unwrap().unwrap();
        let c = create(&mut tx, &geo, 2, b"c", &n).unwrap().unwrap();
        let sel = Change {
            index: 6,
            name: b"selinux",
            value: Some(b"system_u:object_r:etc_t:s0\0"),
            mode: Mode::Any,
        };
        set(&mut tx, &geo, a, &sel, NOW, &mut scratch).unwrap();
        tx.commit();
        let mut tx = ImageTrans::new(&img, &geo);
        let shared = share(&mut tx, &geo, a, b);
        tx.commit();
        let mut tx = ImageTrans::new(&img, &geo);
        share(&mut tx, &geo, a, c);
        let buf = tx.bread(shared).unwrap();
        tx.edit(&buf, |d| {
            d[4..8].copy_from_slice(&3u32.to_le_bytes());
            if geo.has_metadata_csum() {
                let cs = ext4_xattr_block_csum(d, shared, &geo).unwrap();
                d[16..20].copy_from_slice(&cs.to_le_bytes());
            }
        })
        .unwrap();
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: shared by three"));
        assert_eq!(refcount(&img, shared), 3);

        // b changes: b gets a copy, the shared block one owner less.
        let mut tx = ImageTrans::new(&img, &geo);
        let more = Change {
            index: 1,
            name: b"comment",
            value: Some(b"only b"),
            mode: Mode::Create,
        };
        assert_eq!(set(&mut tx, &geo, b, &more, NOW, &mut scratch), Ok(true));
        let bblk = read_inode(&mut tx, &geo, b).unwrap().file_acl(&geo);
        tx.commit();
        assert_ne!(bblk, shared, "{name}: b has its own block");
        assert_eq!(refcount(&img, shared), 2);
        assert_eq!(refcount(&img, bblk), 1);
        assert_e2fsck_clean(&tools, &img, &format!("{name}: b copied"));
        let seen = debugfs_view(&tools, &img, &[a, b, c], work.path());
        assert_eq!(seen[&b].len(), 2, "{name}: b has both");
        assert_eq!(seen[&a].len(), 1, "{name}: a unchanged");
        assert_eq!(seen[&c], seen[&a], "{name}: c unchanged");

        // c removes its only attribute: it lets go of the shared block.
        let mut tx = ImageTrans::new(&img, &geo);
        let gone = Change {
            value: None,
            mode: Mode::Replace,
            ..sel
        };
        assert_eq!(set(&mut tx, &geo, c, &gone, NOW, &mut scratch), Ok(true));
        tx.commit();
        assert_eq!(refcount(&img, shared), 1);
        assert_e2fsck_clean(&tools, &img, &format!("{name}: c let go"));

        // a is deleted: the block goes with its last owner; b too.
        let mut tx = ImageTrans::new(&img, &geo);
        unlink(&mut tx, &geo, 2, b"a", NOW).unwrap().unwrap();
        unlink(&mut tx, &geo, 2, b"b", NOW).unwrap().unwrap();
        unlink(&mut tx, &geo, 2, b"c", NOW).unwrap().unwrap();
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{name}: deleted"));
        let after = dumpe2fs_groups(&tools, &img);
        assert_eq!(
            after.iter().map(|g| g.free_blocks).collect::<Vec<_>>(),
            before.iter().map(|g| g.free_blocks).collect::<Vec<_>>(),
            "{name}: blocks restored"
        );
    }
}
