// SPDX-License-Identifier: GPL-2.0

//! Stable-toolchain stand-in for the fuzzer: a few hundred thousand buffers,
//! made by mutating real metadata blocks from `mkfs.ext4` images (and some
//! pure random ones), are fed to every parser through
//! `rext4_core::exercise::all_parsers`. The property is simply that nothing
//! panics, overflows (overflow checks are on in the test profile) or hangs.
//! The PRNG is seeded, so a failure reproduces; set `REXT4_MUTATE_ITERS` to
//! run longer.

mod common;

use common::*;
use rext4_core::exercise::{all_parsers, sample_geometry};
use rext4_core::ondisk::extent::{ExtentNode, NodeKind};

/// Real metadata blocks: superblock, descriptor block, inode table blocks,
/// extent index/leaf blocks, linear and htree directory blocks, an xattr
/// block and the journal superblock.
fn corpus(im: &Image, out: &mut Vec<Vec<u8>>) {
    let mut sb = vec![0u8; 1024];
    std::os::unix::fs::FileExt::read_exact_at(&im.file, &mut sb, 1024).unwrap();
    out.push(sb);
    let loc = im.geo.group_desc_location(0).unwrap();
    out.push(im.read_block(loc.block));
    let (_, gd) = im.group_desc(0);
    out.push(im.read_block(gd.inode_table()));
    out.push(im.read_block(gd.inode_table() + 1));
    for path in [
        "/",
        "/sub",
        "/bigdir",
        "/sparse_many",
        "/xattr_big",
        "/xattr_small",
    ] {
        let Some(ino) = im.namei(path) else { continue };
        let (raw, inode) = im.inode(ino);
        out.push(raw);
        out.push(inode.i_block.to_vec());
        for (l, p, n, _) in im.mapped_runs(ino, &inode).into_iter().take(4) {
            let _ = (l, n);
            out.push(im.read_block(p));
        }
        if let Ok(root) = ExtentNode::parse(&inode.i_block, NodeKind::Root, &im.geo) {
            for idx in root.indices().flatten() {
                out.push(im.read_block(idx.leaf()));
            }
        }
        let acl = inode.file_acl(&im.geo);
        if acl != 0 {
            out.push(im.read_block(acl));
        }
    }
    let (_, j) = im.inode(8);
    if let Some(b) = im.bmap(8, &j, 0) {
        out.push(im.read_block(b));
    }
}

fn mutate(rng: &mut Rng, buf: &mut Vec<u8>) {
    let n = 1 + rng.below(8);
    for _ in 0..n {
        if buf.is_empty() {
            buf.push(rng.next() as u8);
        }
        let pos = rng.below(buf.len() as u64) as usize;
        match rng.below(8) {
            0 => buf[pos] ^= 1 << rng.below(8),
            1 => buf[pos] = rng.next() as u8,
            2 => {
                // An "interesting" little-endian 16- or 32-bit value.
                const V: [u32; 10] = [0, 1, 2, 3, 4, 12, 0x7fff, 0x8000, 0xffff, 0xffff_ffff];
                let v = V[rng.below(V.len() as u64) as usize].to_le_bytes();
                let w = if rng.below(2) == 0 { 2 } else { 4 };
                for (i, b) in v.iter().take(w).enumerate() {
                    if let Some(x) = buf.get_mut(pos + i) {
                        *x = *b;
                    }
                }
            }
            3 => {
                let len = rng.below(buf.len() as u64 + 1) as usize;
                buf.truncate(len);
            }
            4 => {
                // Copy a 12-byte record elsewhere (duplicate entries).
                let src = rng.below(buf.len() as u64) as usize;
                let chunk: Vec<u8> = buf[src..(src + 12).min(buf.len())].to_vec();
                for (i, b) in chunk.into_iter().enumerate() {
                    if let Some(x) = buf.get_mut(pos + i) {
                        *x = b;
                    }
                }
            }
            5 => buf[pos] = 0,
            6 => buf[pos] = 0xff,
            _ => {
                let end = (pos + 1 + rng.below(64) as usize).min(buf.len());
                for x in &mut buf[pos..end] {
                    *x = rng.next() as u8;
                }
            }
        }
    }
}

#[test]
fn mutated_metadata_never_panics() {
    let iters: u64 = std::env::var("REXT4_MUTATE_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let mut rng = Rng(0xF022_5EED);
    let mut seeds: Vec<(Vec<u8>, rext4_core::ondisk::superblock::Geometry)> = Vec::new();
    let mut _keep = Vec::new();
    if let Some(tools) = tools() {
        let tree = build_tree(400, false);
        for args in [
            &["-b", "1024", "-N", "2048"][..],
            &["-b", "4096", "-O", "^metadata_csum,^64bit", "-N", "2048"][..],
        ] {
            let work = TempDir::new("mutate");
            let img = work.path().join("fs.img");
            mkfs(&tools, &img, 32 << 20, args, Some(tree.dir.path()));
            if let Some(e2fsck) = &tools.e2fsck {
                let _ = std::process::Command::new(e2fsck)
                    .arg("-fyD")
                    .arg(&img)
                    .output();
            }
            let im = Image::open(&img);
            let mut blocks = Vec::new();
            corpus(&im, &mut blocks);
            seeds.extend(blocks.into_iter().map(|b| (b, im.geo.clone())));
            _keep.push(work);
        }
        _keep.push(tree.dir);
    } else {
        eprintln!("no e2fsprogs: mutating random buffers only");
    }
    let random_geos: Vec<_> = (0..64).map(sample_geometry).collect();
    let mut sink = 0u64;
    let start = std::time::Instant::now();
    for i in 0..iters {
        let (mut buf, geo) = if seeds.is_empty() || i % 10 == 0 {
            let len = [12, 60, 128, 256, 1024, 4096][rng.below(6) as usize];
            (rng.bytes(len), random_geos[rng.below(64) as usize].clone())
        } else {
            let (b, g) = &seeds[rng.below(seeds.len() as u64) as usize];
            // Sometimes parse under a mismatched geometry too.
            let g = if rng.below(8) == 0 {
                random_geos[rng.below(64) as usize].clone()
            } else {
                g.clone()
            };
            (b.clone(), g)
        };
        mutate(&mut rng, &mut buf);
        sink = sink.wrapping_add(all_parsers(&buf, &geo));
    }
    eprintln!(
        "{iters} mutated buffers in {:?} (sink {sink:x})",
        start.elapsed()
    );
}
