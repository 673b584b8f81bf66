// SPDX-License-Identifier: GPL-2.0

//! System zones (block_validity) built from real `mkfs.ext4` images with
//! the ondisk code, compared with what e2fsprogs says the metadata is:
//! `dumpe2fs` for super block backups, descriptor blocks, reserved GDT
//! blocks, bitmaps and inode tables, and `debugfs stat <8>` for the journal's
//! data blocks. Then every file's blocks must pass the check, and metadata
//! blocks must fail it for any inode but their owner.

mod common;

use common::*;
use rext4_core::ondisk::features::EXT4_FEATURE_COMPAT_HAS_JOURNAL;
use rext4_core::ondisk::inode::FileType;
use rext4_core::ondisk::system_zone::{normalize, SystemZones, Zone};

const JOURNAL_INO: u32 = 8;

/// (name, image size, mkfs arguments)
const CASES: &[(&str, u64, &[&str])] = &[
    ("default-4k", 256 << 20, &["-b", "4096"]),
    ("default-1k", 64 << 20, &[]),
    ("2k-no-flex", 128 << 20, &["-b", "2048", "-O", "^flex_bg"]),
    ("meta-bg", 64 << 20, &["-O", "meta_bg,^resize_inode"]),
    (
        "sparse-super2",
        128 << 20,
        &["-b", "1024", "-O", "sparse_super2", "-E", "num_backup_sb=1"],
    ),
    (
        "ext3-style",
        64 << 20,
        &[
            "-O",
            "^extent,^flex_bg,^huge_file,^dir_nlink,^extra_isize,^64bit",
        ],
    ),
    ("no-journal", 64 << 20, &["-O", "^has_journal"]),
];

/// "A" or "A-B" at the start of `s` as an inclusive range.
fn range(s: &str) -> Option<(u64, u64)> {
    let tok = s.split_whitespace().next()?;
    let (a, b) = tok.split_once('-').unwrap_or((tok, tok));
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The metadata ranges dumpe2fs prints in its per-group sections.
fn dumpe2fs_zones(tools: &Tools, img: &std::path::Path) -> Vec<Zone> {
    let out = run(std::process::Command::new(&tools.dumpe2fs).arg(img));
    let mut zones = Vec::new();
    let mut in_groups = false;
    for line in out.lines() {
        in_groups |= line.starts_with("Group 0:");
        if !in_groups || line.starts_with("Group ") {
            continue;
        }
        for piece in line.trim().split(", ") {
            let Some((what, at)) = piece.split_once(" at ") else {
                continue;
            };
            let kinds = [
                "superblock",
                "Group descriptor",
                "Reserved GDT blocks",
                "Block bitmap",
                "Inode bitmap",
                "Inode table",
            ];
            if kinds.iter().any(|k| what.contains(k)) {
                let (a, b) = range(at).unwrap_or_else(|| panic!("bad dumpe2fs line {line}"));
                zones.push(Zone {
                    start: a,
                    count: b - a + 1,
                    ino: 0,
                });
            }
        }
    }
    zones
}

/// The journal's data block runs from `debugfs stat <8>`: "(L-L):P-P" or
/// "(L):P" items; index and indirect blocks ("(ETB0)", "(IND)") are not
/// data and are left out, as `ext4_map_blocks()` does.
fn debugfs_journal_zones(tools: &Tools, img: &std::path::Path) -> Vec<Zone> {
    let out = debugfs(tools, img, &["stat <8>".to_string()], false);
    let mut zones = Vec::new();
    let mut in_map = false;
    for line in out.lines() {
        if line.starts_with("EXTENTS:") || line.starts_with("BLOCKS:") {
            in_map = true;
            continue;
        }
        if !in_map || line.starts_with("TOTAL") {
            continue;
        }
        for item in line.split(", ") {
            let Some((label, phys)) = item.trim().split_once("):") else {
                continue;
            };
            if !label
                .trim_start_matches('(')
                .starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            let (a, b) = range(phys).unwrap_or_else(|| panic!("bad debugfs item {item}"));
            zones.push(Zone {
                start: a,
                count: b - a + 1,
                ino: JOURNAL_INO,
            });
        }
    }
    zones
}

/// The zones as the module builds them, from the ondisk parsers.

#[test]
fn zones_match_e2fsprogs() {
    let Some(tools) = tools() else { return };
    let tree = build_tree(50, false);
    for &(name, size, args) in CASES {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, size, args, Some(tree.dir.path()));
        let im = Image::open(&img);

        let mut want = dumpe2fs_zones(&tools, &img);
        want.extend(debugfs_journal_zones(&tools, &img));
        let n = normalize(&mut want).unwrap();
        want.truncate(n);
        let got = im.system_zones();
        assert_eq!(got, want, "{name}: zones differ from dumpe2fs/debugfs");
        let has_journal = im.geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL);
        assert_eq!(
            got.iter().any(|z| z.ino == JOURNAL_INO),
            has_journal,
            "{name}: journal zone"
        );

        let zones = SystemZones::new(&got);
        // Every block of every file, directory and symlink is allowed.
        let mut files = 0;
        let mut todo = vec![2u32];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(ino) = todo.pop() {
            if !seen.insert(ino) {
                continue;
            }
            let (_, inode) = im.inode(ino);
            if inode.file_type().ok() == Some(FileType::Directory) {
                todo.extend(im.list_dir(ino).into_iter().map(|(_, i, _)| i));
            }
            let maps = match inode.file_type() {
                Ok(FileType::Regular | FileType::Directory) => true,
                Ok(FileType::Symlink) => !inode.is_fast_symlink(&im.geo),
                _ => false,
            };
            if !maps {
                continue;
            }
            for (_, pblk, len, _) in im.mapped_runs(ino, &inode) {
                zones
                    .check(&im.geo, pblk, len, ino)
                    .unwrap_or_else(|e| panic!("{name}: inode {ino} block {pblk}+{len}: {e:?}"));
            }
            files += 1;
        }
        assert!(files > 20, "{name}: only {files} inodes checked");

        // Metadata is refused to everyone; the journal only to others.
        for z in &got {
            for blk in [z.start, z.start + z.count - 1] {
                if blk <= u64::from(im.geo.first_data_block) {
                    continue;
                }
                assert!(zones.check(&im.geo, blk, 1, 12).is_err(), "{name}: {blk}");
                let owner_ok = zones.check(&im.geo, blk, 1, JOURNAL_INO).is_ok();
                assert_eq!(
                    owner_ok,
                    z.ino == JOURNAL_INO,
                    "{name}: journal block {blk}"
                );
            }
            // A range that only starts before the zone is refused too.
            if z.start > u64::from(im.geo.first_data_block) + 1 {
                assert!(zones.check(&im.geo, z.start - 1, 2, 12).is_err());
            }
        }
        // A zone that overlaps an inode table is corruption.
        let mut bad = got.clone();
        let table = dumpe2fs_groups(&tools, &img)[0].inode_table;
        bad.push(Zone {
            start: table + 1,
            count: 1,
            ino: 0,
        });
        assert!(normalize(&mut bad).is_err(), "{name}: overlap not found");
        eprintln!("case {name:>14}: {} zones, {files} inodes ok", got.len());
    }
}
