// SPDX-License-Identifier: GPL-2.0

//! The extent tree under random writes and truncates, through the shared
//! write layer the module runs (`map_for_write`, `written`, `truncate`,
//! `unlink`). Writes land at odd offsets and sizes, often one block in
//! two, so files get hundreds of extents: leaf splits, index splits and
//! depth growth on 1 KiB blocks, unwritten extents split when only part of
//! a mapping is converted, and conversions and removals cut into small
//! transactions by their credit budget. A model holds what every file must
//! contain. The judges are e2fsprogs: e2fsck -fn clean after every batch,
//! debugfs `cat` returns the model's bytes (holes and unwritten blocks read
//! as zeros), debugfs `stat` shows the depth reached, and after unlinking
//! everything each group's free counts are mkfs's again.

mod common;

use std::process::Command;

use common::*;
use rext4_core::libext4::data::{map_for_write, truncate, written};
use rext4_core::libext4::namei::{create, unlink, NewInode, Time};
use rext4_core::libext4::trans::Trans;
use rext4_core::ondisk::superblock::Geometry;

/// Writes `data` at `pos` of `ino` as a buffered write and a writeback
/// that converts in two pieces would: map (allocating unwritten), copy,
/// then convert the first part and the rest in separate transactions of
/// `budget` credits each (at least one step's, `steps_credits`).
/// Returns false on ENOSPC.
#[allow(clippy::too_many_arguments)]
fn write(
    img: &std::path::Path,
    geo: &Geometry,
    ino: u32,
    pos: u64,
    data: &[u8],
    size: u64,
    budget: u32,
    rng: &mut Rng,
) -> bool {
    let bs = u64::from(geo.block_size);
    let end = pos + data.len() as u64;
    let mut cur = pos;
    while cur < end {
        let mut tx = ImageTrans::new(img, geo);
        let lblk = (cur / bs) as u32;
        let want = ((end - 1) / bs - u64::from(lblk) + 1) as u32;
        let m = match map_for_write(&mut tx, geo, ino, lblk, want) {
            Ok(m) => m,
            Err(rext4_core::ondisk::Error::Refused(rext4_core::ondisk::Errno::NoSpace)) => {
                tx.commit();
                return false;
            }
            Err(e) => panic!("map_for_write: {e:?}"),
        };
        assert!(m.lblk <= lblk && lblk < m.lblk + m.len, "{m:?} for {lblk}");
        let stop = end.min((u64::from(m.lblk) + u64::from(m.len)) * bs);
        let mut b = lblk;
        while u64::from(b) * bs < stop {
            let pblk = m.pblk + u64::from(b - m.lblk);
            let buf = match m.unwritten {
                true => tx.new_block(pblk).unwrap(),
                false => tx.bread(pblk).unwrap(),
            };
            let bstart = u64::from(b) * bs;
            let lo = cur.max(bstart);
            let hi = stop.min(bstart + bs);
            let src = &data[(lo - pos) as usize..(hi - pos) as usize];
            let off = (lo - bstart) as usize;
            tx.edit(&buf, |d| d[off..off + src.len()].copy_from_slice(src))
                .unwrap();
            b += 1;
        }
        tx.commit();
        // Writeback converts the written blocks; a random cut splits the
        // unwritten extent, and each piece may take several transactions.
        let first = lblk;
        let n = b - lblk;
        let cut = 1 + rng.below(u64::from(n)) as u32;
        for (l, len) in [(first, cut), (first + cut, n - cut)] {
            if len == 0 {
                continue;
            }
            let piece_end = ((u64::from(l) + u64::from(len)) * bs).min(stop);
            let mut from = l;
            for turn in 0.. {
                assert!(turn < 10_000, "conversion makes no progress");
                let mut tx = ImageTrans::new(img, geo);
                let mut left = budget;
                let r = written(
                    &mut tx,
                    geo,
                    ino,
                    (from, l + len - from),
                    piece_end.min(size.max(stop)),
                    &mut left,
                )
                .unwrap();
                tx.commit();
                match r {
                    None => break,
                    Some(next) => {
                        assert!(next >= from, "no progress");
                        from = next;
                    }
                }
            }
        }
        cur = stop;
    }
    true
}

/// Truncates `ino` to `size` as the kernel's setattr does: the tail of
/// the block holding the new EOF zeroed first, then blocks freed in
/// transactions of `budget` credits.
fn truncate_to(img: &std::path::Path, geo: &Geometry, ino: u32, old: u64, size: u64, budget: u32) {
    let bs = u64::from(geo.block_size);
    if size < old && !size.is_multiple_of(bs) {
        let mut tx = ImageTrans::new(img, geo);
        let lblk = (size / bs) as u32;
        let m = map_for_write(&mut tx, geo, ino, lblk, 1).unwrap();
        if !m.unwritten {
            let buf = tx.bread(m.pblk + u64::from(lblk - m.lblk)).unwrap();
            let off = (size % bs) as usize;
            tx.edit(&buf, |d| d[off..].fill(0)).unwrap();
        }
        tx.commit();
    }
    for turn in 0.. {
        assert!(turn < 10_000, "truncate makes no progress");
        let mut tx = ImageTrans::new(img, geo);
        let mut left = budget;
        let done = truncate(&mut tx, geo, ino, size, &mut left).unwrap();
        tx.commit();
        if done {
            break;
        }
    }
}

fn cat(tools: &Tools, img: &std::path::Path, name: &str) -> Vec<u8> {
    Command::new(&tools.debugfs)
        .arg("-R")
        .arg(format!("cat /{name}"))
        .arg(img)
        .output()
        .unwrap()
        .stdout
}

fn tree_depth(tools: &Tools, img: &std::path::Path, name: &str) -> usize {
    // debugfs `ex` prints "level/max" in its first column.
    let ex = debugfs(tools, img, &[format!("ex /{name}")], false);
    ex.lines()
        .filter_map(|l| {
            l.trim_start()
                .split('/')
                .next()?
                .trim()
                .parse::<usize>()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn random_writes_and_truncates_match_a_model_and_e2fsck() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    for (name, args, span_blocks, budget) in [
        (
            "1k-nocsum-32bit",
            &["-b", "1024", "-O", "^metadata_csum,^64bit"][..],
            1200u64,
            70u32,
        ),
        ("4k-csum", &["-b", "4096"][..], 700, 150),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 64 << 20, args, None);
        let geo = Image::open(&img).geo.clone();
        let bs = u64::from(geo.block_size);
        let start = dumpe2fs_groups(&tools, &img);
        let now = Time {
            sec: 1_750_000_000,
            nsec: 0,
        };
        let n = NewInode {
            perm: 0o644,
            uid: 0,
            gid: 0,
            now,
            generation: 7,
        };
        let mut rng = Rng(0xE47E ^ bs);
        let mut files: Vec<(String, u32, Vec<u8>)> = Vec::new();
        for k in 0..3 {
            let fname = format!("f{k}");
            let mut tx = ImageTrans::new(&img, &geo);
            let ino = create(&mut tx, &geo, 2, fname.as_bytes(), &n)
                .unwrap()
                .unwrap();
            tx.commit();
            files.push((fname, ino, Vec::new()));
        }
        // File 0 first gets every other block of its span: hundreds of
        // one-block extents, so the tree must grow index levels.
        {
            let (_, ino, model) = &mut files[0];
            for b in (0..span_blocks).step_by(2) {
                let pos = b * bs;
                let data = rng.bytes(bs as usize);
                let size = (model.len() as u64).max(pos + bs);
                assert!(write(&img, &geo, *ino, pos, &data, size, budget, &mut rng));
                model.resize(size as usize, 0);
                model[pos as usize..(pos + bs) as usize].copy_from_slice(&data);
            }
        }
        assert_e2fsck_clean(&tools, &img, &format!("{name}: after the sparse fill"));
        assert!(
            tree_depth(&tools, &img, "f0") >= 1,
            "{name}: f0 stayed in the inode"
        );
        let mut deepest = 0;
        for batch in 0..6 {
            for _ in 0..40 {
                let f = rng.below(files.len() as u64) as usize;
                let (_, ino, model) = &mut files[f];
                let ino = *ino;
                let old = model.len() as u64;
                match rng.below(10) {
                    0 | 1 => {
                        let size = match rng.below(3) {
                            0 => rng.below(old + 1),
                            1 => old + rng.below(20 * bs),
                            _ => rng.below(span_blocks * bs),
                        };
                        truncate_to(&img, &geo, ino, old, size, budget);
                        model.resize(size as usize, 0);
                    }
                    _ => {
                        let pos = rng.below(span_blocks * bs);
                        let len = match rng.below(4) {
                            0 => 1 + rng.below(16),
                            1 => 1 + rng.below(3 * bs),
                            2 => bs * (1 + rng.below(8)),
                            _ => 1 + rng.below(60 * bs),
                        };
                        let data = rng.bytes(len as usize);
                        let size = old.max(pos + len);
                        assert!(
                            write(&img, &geo, ino, pos, &data, size, budget, &mut rng),
                            "{name}: ENOSPC"
                        );
                        model.resize(size as usize, 0);
                        model[pos as usize..(pos + len) as usize].copy_from_slice(&data);
                    }
                }
            }
            let what = format!("{name}: batch {batch}");
            assert_e2fsck_clean(&tools, &img, &what);
            for (fname, _, model) in &files {
                let got = cat(&tools, &img, fname);
                assert!(
                    got.len() == model.len() && &got == model,
                    "{what}: {fname}: {} bytes read, {} expected",
                    got.len(),
                    model.len()
                );
                deepest = deepest.max(tree_depth(&tools, &img, fname));
            }
        }
        // 600 one-block extents: 1 KiB blocks hold 84 per leaf and the
        // root 4 indexes, so the tree reached depth 2; 4 KiB leaves hold
        // 340, so depth 1.
        let want = if bs == 1024 { 2 } else { 1 };
        eprintln!("{name}: deepest tree {deepest}");
        assert!(
            deepest >= want,
            "{name}: the tree only reached depth {deepest}"
        );

        let mut tx = ImageTrans::new(&img, &geo);
        for (fname, _, _) in &files {
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
fn a_fragmented_file_fills_the_disk_to_enospc_and_stays_consistent() {
    // One block in two until the allocator gives up: tree blocks and data
    // blocks run out together, so ENOSPC lands inside splits and depth
    // growth. Whatever was done stays consistent (e2fsck -fn clean, debugfs
    // reads the model back), and unlink gives every block back.
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let work = TempDir::new("extents-enospc");
    let img = work.path().join("fs.img");
    mkfs(
        &tools,
        &img,
        3 << 20,
        &["-b", "1024", "-O", "^has_journal,^resize_inode", "-m", "0"],
        None,
    );
    let geo = Image::open(&img).geo.clone();
    let bs = u64::from(geo.block_size);
    let start = dumpe2fs_groups(&tools, &img);
    let now = Time {
        sec: 1_750_000_000,
        nsec: 0,
    };
    let n = NewInode {
        perm: 0o644,
        uid: 0,
        gid: 0,
        now,
        generation: 9,
    };
    let mut tx = ImageTrans::new(&img, &geo);
    let ino = create(&mut tx, &geo, 2, b"full", &n).unwrap().unwrap();
    tx.commit();
    let mut rng = Rng(0xF011);
    let mut model = Vec::new();
    let mut b = 0u64;
    loop {
        let pos = b * bs;
        let data = rng.bytes(bs as usize);
        let size = (model.len() as u64).max(pos + bs);
        if !write(&img, &geo, ino, pos, &data, size, 200, &mut rng) {
            break;
        }
        model.resize(size as usize, 0);
        model[pos as usize..(pos + bs) as usize].copy_from_slice(&data);
        b += 2;
        assert!(b < 1 << 20, "never ran out of space");
    }
    assert_e2fsck_clean(&tools, &img, "at ENOSPC");
    assert!(tree_depth(&tools, &img, "full") >= 1);
    assert_eq!(cat(&tools, &img, "full"), model, "contents at ENOSPC");
    let mut tx = ImageTrans::new(&img, &geo);
    unlink(&mut tx, &geo, 2, b"full", now).unwrap().unwrap();
    tx.commit();
    assert_e2fsck_clean(&tools, &img, "after unlink");
    let end = dumpe2fs_groups(&tools, &img);
    let counts = |g: &[DumpGroup]| -> Vec<(u32, u32)> {
        g.iter().map(|g| (g.free_blocks, g.free_inodes)).collect()
    };
    assert_eq!(counts(&end), counts(&start), "free counts");
}
