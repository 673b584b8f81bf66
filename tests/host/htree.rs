// SPDX-License-Identifier: GPL-2.0

//! Changing indexed (htree) directories through the shared write layer.
//! A directory filled through the layer is indexed by `e2fsck -fyD` (one
//! level of index on 4 KiB blocks, two on 1 KiB), then thousands of names
//! are created in it (leaves split by hash, the index growing), some
//! removed, renamed in and out, a subdirectory made and moved (its `..`
//! rewritten in an indexed root) and removed; a directory that starts
//! empty and outgrows its one block is indexed by rext4 itself
//! (`make_indexed_dir()`). Judged by e2fsprogs and the
//! on-disk index: `e2fsck -fn` clean after each round (its pass 2 checks
//! every leaf's hash range and the index order), every name the model
//! holds is found through the index (`dx_probe`-style lookup) and the
//! linear listing equals the model.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use rext4_core::libext4::namei::{create, mkdir, rename, rmdir, unlink, NewInode, Time};

fn index_dirs(tools: &Tools, img: &Path) {
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let st = std::process::Command::new(e2fsck)
        .arg("-fyD")
        .arg(img)
        .output()
        .unwrap();
    assert!(matches!(st.status.code(), Some(0 | 1)), "e2fsck -D: {st:?}");
}

/// A name for the k-th file: short mostly, a long one (up to the 255-byte
/// limit) every 50th, which needs a leaf's free space in one piece.
fn name(rng: &mut Rng, k: usize) -> String {
    let len = match k % 50 {
        0 => 200 + rng.below(56) as usize,
        _ => 4 + rng.below(40) as usize,
    };
    let mut s = format!("n{k}-");
    while s.len() < len {
        s.push(char::from(b'a' + rng.below(26) as u8));
    }
    s
}

#[test]
fn names_go_through_the_index_and_leaves_split() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    // (image, names before indexing, names added, index levels before and
    // after: a full root moves down into a node, full nodes split).
    for (label, args, before, after, levels, levels_after) in [
        (
            "4k-csum",
            &["-b", "4096"][..],
            400usize,
            3000usize,
            0u8,
            0u8,
        ),
        ("1k-csum", &["-b", "1024"][..], 100, 3000, 0, 1),
        (
            "1k-nocsum",
            &["-b", "1024", "-O", "^metadata_csum"][..],
            4000,
            1500,
            1,
            1,
        ),
    ] {
        let work = TempDir::new(label);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 64 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now: Time {
                sec: 1_770_000_000,
                nsec: 0,
            },
            generation: 5,
        };
        let now = n.now;
        let mut rng = Rng(0x47EE);
        let mut tx = ImageTrans::new(&img, &geo);
        let big = mkdir(&mut tx, &geo, 2, b"big", &n).unwrap().unwrap();
        let other = mkdir(&mut tx, &geo, 2, b"other", &n).unwrap().unwrap();
        let mut model: BTreeMap<String, u32> = BTreeMap::new();
        for k in 0..before {
            let f = name(&mut rng, k);
            let ino = create(&mut tx, &geo, big, f.as_bytes(), &n)
                .unwrap()
                .unwrap();
            model.insert(f, ino);
        }
        tx.commit();
        index_dirs(&tools, &img);
        {
            let im = Image::open(&img);
            let (_, inode) = im.inode(big);
            assert!(
                im.is_htree(&inode),
                "{label}: e2fsck -D indexed the directory"
            );
            let root = im.dir_block(big, &inode, 0);
            let root = rext4_core::ondisk::htree::DxRoot::parse(&root, &geo).unwrap();
            assert_eq!(root.info.indirect_levels, levels, "{label}: index levels");
        }

        // Round 1: many creates (leaves split), some unlinks.
        let mut tx = ImageTrans::new(&img, &geo);
        for k in before..before + after {
            let f = name(&mut rng, k);
            let ino = create(&mut tx, &geo, big, f.as_bytes(), &n)
                .unwrap()
                .unwrap();
            model.insert(f, ino);
            if k % 7 == 0 {
                let victim = model
                    .keys()
                    .nth(rng.below(model.len() as u64) as usize)
                    .unwrap()
                    .clone();
                unlink(&mut tx, &geo, big, victim.as_bytes(), now)
                    .unwrap()
                    .unwrap();
                model.remove(&victim);
            }
        }
        // An existing name is refused.
        let some = model.keys().next().unwrap().clone();
        assert!(create(&mut tx, &geo, big, some.as_bytes(), &n).is_err());
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{label}: after creates"));

        // Round 2: renames in and out, a subdirectory moved in and out (its
        // `..` rewritten), removed.
        let mut tx = ImageTrans::new(&img, &geo);
        for k in 0..200 {
            let f = model
                .keys()
                .nth(rng.below(model.len() as u64) as usize)
                .unwrap()
                .clone();
            let g = format!("moved-{k}-{f}");
            let g = &g[..g.len().min(255)];
            rename(
                &mut tx,
                &geo,
                (big, f.as_bytes()),
                (other, g.as_bytes()),
                now,
            )
            .unwrap()
            .unwrap();
            let ino = model.remove(&f).unwrap();
            if k % 2 == 0 {
                let back = format!("back-{k}");
                rename(
                    &mut tx,
                    &geo,
                    (other, g.as_bytes()),
                    (big, back.as_bytes()),
                    now,
                )
                .unwrap()
                .unwrap();
                model.insert(back, ino);
            }
        }
        // Renames inside the indexed directory: the new name's leaf may
        // split and carry the old name's record elsewhere.
        for k in 0..300 {
            let f = model
                .keys()
                .nth(rng.below(model.len() as u64) as usize)
                .unwrap()
                .clone();
            let g = format!("{f}-renamed-in-place-{k}");
            let g = g[..g.len().min(255)].to_string();
            rename(&mut tx, &geo, (big, f.as_bytes()), (big, g.as_bytes()), now)
                .unwrap()
                .unwrap();
            let ino = model.remove(&f).unwrap();
            model.insert(g, ino);
        }
        let sub = mkdir(&mut tx, &geo, other, b"sub", &n).unwrap().unwrap();
        rename(&mut tx, &geo, (other, b"sub"), (big, b"sub-in-big"), now)
            .unwrap()
            .unwrap();
        model.insert("sub-in-big".into(), sub);
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{label}: after renames"));
        let mut tx = ImageTrans::new(&img, &geo);
        rename(&mut tx, &geo, (big, b"sub-in-big"), (2, b"sub-out"), now)
            .unwrap()
            .unwrap();
        model.remove("sub-in-big");
        rmdir(&mut tx, &geo, 2, b"sub-out", now).unwrap().unwrap();
        tx.commit();
        assert_e2fsck_clean(&tools, &img, &format!("{label}: after rmdir"));

        let im = Image::open(&img);
        for (f, &ino) in &model {
            assert_eq!(
                im.htree_lookup(big, f.as_bytes()),
                Some(ino),
                "{label}: {f} through the index"
            );
        }
        let mut listed: Vec<(String, u32)> = im
            .list_dir(big)
            .into_iter()
            .filter(|(nm, _, _)| nm != b"." && nm != b"..")
            .map(|(nm, ino, _)| (String::from_utf8(nm).unwrap(), ino))
            .collect();
        listed.sort();
        let want: Vec<(String, u32)> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
        assert_eq!(
            listed, want,
            "{label}: the directory holds the model's names"
        );
        let (_, inode) = im.inode(big);
        assert!(im.is_htree(&inode), "{label}: still indexed");
        let root = im.dir_block(big, &inode, 0);
        let root = rext4_core::ondisk::htree::DxRoot::parse(&root, &geo).unwrap();
        assert_eq!(
            root.info.indirect_levels, levels_after,
            "{label}: index levels at the end"
        );
        // `other` began empty and outgrew its one block: rext4 indexed it
        // (make_indexed_dir), and its names are found through the index.
        let (_, inode) = im.inode(other);
        assert!(
            im.is_htree(&inode),
            "{label}: a full one-block directory became indexed"
        );
        let moved: Vec<(Vec<u8>, u32, u8)> = im.list_dir(other);
        assert!(moved.len() > 50, "{label}: {} names in other", moved.len());
        for (nm, ino, _) in moved.iter().filter(|(nm, _, _)| nm != b"." && nm != b"..") {
            assert_eq!(
                im.htree_lookup(other, nm),
                Some(*ino),
                "{label}: other/{}",
                String::from_utf8_lossy(nm)
            );
        }
    }
}
