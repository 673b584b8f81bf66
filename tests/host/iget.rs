// SPDX-License-Identifier: GPL-2.0

//! Every refusal of `__ext4_iget()`, on real images: mkfs.ext4 builds a small
//! tree, debugfs damages one field of one inode (recomputing its checksum),
//! and `ondisk::iget::validate`, the function the module's `iget` calls,
//! must refuse that inode with ext4's reason, while every inode of the
//! undamaged images passes. e2fsck confirms each damage is real where it
//! has a rule for it.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use rext4_core::ondisk::iget::{check_inum, validate, IgetKind, Refusal, RefusalClass};
use rext4_core::ondisk::inode::{FileType, Inode};
use rext4_core::ondisk::system_zone::SystemZones;
use rext4_core::ondisk::Error;

/// A tree with one of each kind of inode the checks treat differently.
fn tree() -> TempDir {
    let t = TempDir::new("iget-tree");
    let p = t.path();
    fs::create_dir_all(p.join("d/sub")).unwrap();
    fs::write(p.join("f"), b"hello\n").unwrap();
    fs::write(p.join("d/g"), vec![7u8; 20000]).unwrap();
    // Ten one-block extents apart: more than the root's four, so depth 1.
    let frag = fs::File::create(p.join("frag")).unwrap();
    for i in 0..10u64 {
        frag.write_all_at(&[i as u8 + 1], i * 65536).unwrap();
    }
    std::os::unix::fs::symlink("fast", p.join("fl")).unwrap();
    std::os::unix::fs::symlink("s".repeat(200), p.join("sl")).unwrap();
    run(Command::new("mkfifo").arg(p.join("p")));
    // A small value: stored in the inode body of a 256-byte inode.
    run(Command::new("setfattr")
        .args(["-n", "user.a", "-v", "1"])
        .arg(p.join("f")));
    t
}

/// Builds `name.img` in `dir` with mkfs `args` from `tree`.
fn image(tools: &Tools, dir: &Path, name: &str, args: &[&str], tree: &Path) -> PathBuf {
    let img = dir.join(format!("{name}.img"));
    mkfs(tools, &img, 8 << 20, args, Some(tree));
    img
}

fn validate_at(img: &Path, ino: u32, kind: IgetKind, page_size: u32) -> Result<Inode, Refusal> {
    let im = Image::open(img);
    let zones = im.system_zones();
    let raw = im.raw_inode(ino);
    validate(
        &raw,
        &im.geo,
        SystemZones::new(&zones),
        ino,
        kind,
        page_size,
    )
}

fn ino_of(img: &Path, path: &str) -> u32 {
    Image::open(img)
        .namei(path)
        .unwrap_or_else(|| panic!("{path} not in {img:?}"))
}

fn e2fsck_finds_damage(tools: &Tools, img: &Path) -> bool {
    let Some(e2fsck) = &tools.e2fsck else {
        return true;
    };
    let st = Command::new(e2fsck).arg("-fn").arg(img).output().unwrap();
    st.status.code() != Some(0)
}

/// Every inode reachable from the root of `img` passes, the root as the
/// special inode it is at mount.
fn all_pass(img: &Path) -> usize {
    let im = Image::open(img);
    let zones = im.system_zones();
    let mut todo = vec![2u32];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(ino) = todo.pop() {
        if !seen.insert(ino) {
            continue;
        }
        let kind = if ino == 2 {
            IgetKind::Special
        } else {
            IgetKind::Normal
        };
        let raw = im.raw_inode(ino);
        let inode = validate(&raw, &im.geo, SystemZones::new(&zones), ino, kind, 4096)
            .unwrap_or_else(|r| panic!("{img:?}: inode {ino} refused: {r}"));
        if inode.file_type() == Ok(FileType::Directory) {
            todo.extend(im.list_dir(ino).into_iter().map(|(_, i, _)| i));
        }
    }
    seen.len()
}

struct Case {
    name: &'static str,
    /// Base image: "csum" (4 KiB, metadata_csum), "nocsum" (1 KiB),
    /// "ext3" (block-mapped), "nodx" (metadata_csum without dir_index).
    base: &'static str,
    path: &'static str,
    /// debugfs `set_inode_field` requests: (field, value).
    sif: &'static [(&'static str, &'static str)],
    want: fn(&Refusal) -> bool,
    /// Whether e2fsck has a rule for this damage (it is checked either way,
    /// so a new e2fsck rule shows up here).
    e2fsck: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "i_size past s_maxbytes (issue 13's 32 PiB file)",
        base: "nocsum",
        path: "/f",
        sif: &[("size", "35747322042253412")],
        want: |r| *r == Refusal::BadSize(35747322042253412),
        e2fsck: true,
    },
    Case {
        name: "i_size negative as loff_t",
        base: "csum",
        path: "/f",
        sif: &[("size_hi", "0x80000000")],
        want: |r| matches!(r, Refusal::BadSize(s) if *s < 0),
        e2fsck: true,
    },
    Case {
        name: "i_size past s_bitmap_maxbytes of a block-mapped file",
        base: "ext3",
        path: "/f",
        sif: &[("size", "17247252481")],
        want: |r| *r == Refusal::BadSize(17247252481),
        e2fsck: true,
    },
    Case {
        name: "i_extra_isize not a multiple of 4",
        base: "csum",
        path: "/f",
        sif: &[("extra_isize", "30")],
        want: |r| {
            *r == Refusal::BadExtraIsize {
                extra_isize: 30,
                inode_size: 256,
            }
        },
        e2fsck: true,
    },
    Case {
        name: "i_extra_isize past the inode",
        base: "nocsum",
        path: "/f",
        sif: &[("extra_isize", "132")],
        want: |r| {
            *r == Refusal::BadExtraIsize {
                extra_isize: 132,
                inode_size: 256,
            }
        },
        e2fsck: true,
    },
    Case {
        name: "link count 0 (a deleted inode still named)",
        base: "csum",
        path: "/d/g",
        sif: &[("links_count", "0")],
        want: |r| *r == Refusal::Unallocated,
        e2fsck: true,
    },
    Case {
        name: "inline data and extents flags together",
        base: "csum",
        path: "/f",
        sif: &[("flags", "0x10080000")],
        want: |r| *r == Refusal::InlineAndExtents,
        e2fsck: true,
    },
    Case {
        name: "htree flag without dir_index under metadata_csum",
        base: "nodx",
        path: "/d",
        sif: &[("flags", "0x81000")],
        want: |r| *r == Refusal::HtreeWithoutDirIndex,
        e2fsck: true,
    },
    Case {
        name: "xattr block outside the file system",
        base: "nocsum",
        path: "/d/g",
        sif: &[("file_acl", "0xFFFFFF00")],
        want: |r| *r == Refusal::BadXattrBlock(0xFFFF_FF00),
        e2fsck: true,
    },
    Case {
        name: "xattr block in the inode table",
        base: "csum",
        path: "/d/g",
        sif: &[("file_acl", "ITABLE")],
        want: |r| matches!(r, Refusal::BadXattrBlock(_)),
        e2fsck: true,
    },
    Case {
        name: "extent root with a bad magic",
        base: "csum",
        path: "/d/g",
        sif: &[("block[0]", "0x1234")],
        want: |r| matches!(r, Refusal::BlockMap(Error::Corrupt(_))),
        e2fsck: true,
    },
    Case {
        name: "indirect pointer outside the file system",
        base: "ext3",
        path: "/d/g",
        sif: &[("block[1]", "0xFFFFFF00")],
        want: |r| matches!(r, Refusal::BlockMap(_)),
        e2fsck: true,
    },
    Case {
        name: "immutable symlink",
        base: "csum",
        path: "/fl",
        sif: &[("flags", "0x10")],
        want: |r| *r == Refusal::SymlinkFlags,
        e2fsck: false,
    },
    Case {
        name: "append-only slow symlink",
        base: "nocsum",
        path: "/sl",
        sif: &[("flags", "0x80020")],
        want: |r| *r == Refusal::SymlinkFlags,
        e2fsck: false,
    },
    Case {
        name: "fast symlink shorter than its target",
        base: "csum",
        path: "/fl",
        sif: &[("size", "3")],
        want: |r| *r == Refusal::FastSymlinkLength(3),
        e2fsck: true,
    },
    Case {
        name: "fast symlink of size 0",
        base: "nocsum",
        path: "/fl",
        sif: &[("size", "0")],
        want: |r| *r == Refusal::FastSymlinkLength(0),
        e2fsck: true,
    },
    Case {
        name: "fast symlink longer than i_block",
        base: "csum",
        path: "/fl",
        sif: &[("size", "60")],
        want: |r| matches!(r, Refusal::FastSymlinkLength(_) | Refusal::BlockMap(_)),
        e2fsck: true,
    },
    Case {
        name: "mode with no file type",
        base: "csum",
        path: "/f",
        sif: &[("mode", "0170644")],
        want: |r| *r == Refusal::BogusMode(0o170644),
        e2fsck: true,
    },
    Case {
        name: "casefold flag without the casefold feature",
        base: "csum",
        path: "/d",
        sif: &[("flags", "0x40080000")],
        want: |r| *r == Refusal::CasefoldWithoutFeature,
        e2fsck: true,
    },
    Case {
        name: "EA_INODE flag on a named inode",
        base: "csum",
        path: "/f",
        sif: &[("flags", "0x280000")],
        want: |r| *r == Refusal::UnexpectedEaInode,
        e2fsck: false,
    },
    Case {
        name: "in-inode xattr entry naming an ea_inode without the feature",
        base: "nocsum",
        path: "/f",
        sif: &[("XATTR_VALUE_INUM", "12")],
        want: |r| *r == Refusal::Xattr("ea_inode specified without ea_inode feature enabled"),
        e2fsck: true,
    },
    Case {
        name: "in-inode xattr value out of bounds",
        base: "nocsum",
        path: "/f",
        sif: &[("XATTR_VALUE_OFFS", "4000")],
        want: |r| matches!(r, Refusal::Xattr(_)),
        e2fsck: true,
    },
];

/// Offset of the first in-inode xattr entry of a raw inode.
fn first_ibody_entry(raw: &[u8]) -> usize {
    let extra = u16::from_le_bytes([raw[0x80], raw[0x81]]) as usize;
    let magic = 128 + extra;
    assert_eq!(
        u32::from_le_bytes(raw[magic..magic + 4].try_into().unwrap()),
        0xEA02_0000,
        "no in-inode xattrs"
    );
    magic + 4
}

/// Applies one case to a copy of its base image; returns the copy.
fn damage(tools: &Tools, base: &Path, dir: &Path, i: usize, c: &Case) -> (PathBuf, u32) {
    let img = dir.join(format!("case-{i}.img"));
    fs::copy(base, &img).unwrap();
    let ino = ino_of(&img, c.path);
    let mut reqs = Vec::new();
    for &(field, value) in c.sif {
        match field {
            // Raw edits of the xattr entry, on images without
            // metadata_csum: debugfs's "checksum calc" does not give these
            // inodes a checksum e2fsck accepts.
            "XATTR_VALUE_INUM" | "XATTR_VALUE_OFFS" => {
                let im = Image::open(&img);
                let mut raw = im.raw_inode(ino);
                let e = first_ibody_entry(&raw);
                let v: u32 = value.parse().unwrap();
                if field == "XATTR_VALUE_INUM" {
                    raw[e + 4..e + 8].copy_from_slice(&v.to_le_bytes());
                } else {
                    raw[e + 2..e + 4].copy_from_slice(&(v as u16).to_le_bytes());
                }
                let f = fs::OpenOptions::new().write(true).open(&img).unwrap();
                assert!(!im.geo.has_metadata_csum(), "{}: raw edit", c.name);
                f.write_all_at(&raw, im.inode_offset(ino)).unwrap();
            }
            _ => {
                let value = if value == "ITABLE" {
                    let im = Image::open(&img);
                    let (_, gd) = im.group_desc(0);
                    (gd.inode_table() + 1).to_string()
                } else {
                    value.to_string()
                };
                reqs.push(format!("sif <{ino}> {field} {value}"));
            }
        }
    }
    debugfs(tools, &img, &reqs, true);
    (img, ino)
}

#[test]
fn every_iget_refusal() {
    let Some(tools) = tools() else { return };
    let tree = tree();
    let work = TempDir::new("iget");
    let dir = work.path();
    let bases = [
        (
            "csum",
            image(&tools, dir, "csum", &["-b", "4096"], tree.path()),
        ),
        (
            "nocsum",
            image(
                &tools,
                dir,
                "nocsum",
                &["-b", "1024", "-O", "^metadata_csum"],
                tree.path(),
            ),
        ),
        (
            "ext3",
            image(
                &tools,
                dir,
                "ext3",
                &[
                    "-b",
                    "1024",
                    "-O",
                    "^extent,^flex_bg,^huge_file,^64bit,^metadata_csum",
                ],
                tree.path(),
            ),
        ),
        (
            "nodx",
            image(&tools, dir, "nodx", &["-O", "^dir_index"], tree.path()),
        ),
    ];
    for (name, img) in &bases {
        assert!(
            !e2fsck_finds_damage(&tools, img),
            "{name}: mkfs image unclean"
        );
        assert!(all_pass(img) >= 8, "{name}: too few inodes walked");
    }
    let mut wrong = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let base = &bases.iter().find(|(n, _)| *n == c.base).unwrap().1;
        let (img, ino) = damage(&tools, base, dir, i, c);
        let got = validate_at(&img, ino, IgetKind::Normal, 4096);
        match &got {
            Err(r) => assert!((c.want)(r), "{}: refused as {r:?} ({r})", c.name),
            Ok(_) => panic!("{}: inode {ino} passed", c.name),
        }
        if c.e2fsck != e2fsck_finds_damage(&tools, &img) {
            wrong.push(c.name);
        }
    }
    assert!(
        wrong.is_empty(),
        "e2fsck's verdict is not the expected one: {wrong:?}"
    );
}

#[test]
fn checksum_and_size_limits() {
    let Some(tools) = tools() else { return };
    let tree = tree();
    let work = TempDir::new("iget-limits");
    let dir = work.path();
    let img = image(&tools, dir, "csum", &["-b", "4096"], tree.path());
    let ino = ino_of(&img, "/f");
    let im = Image::open(&img);
    // 4 KiB blocks with huge_file: 2^32 - 1 blocks for extent files, and
    // ext4's s_bitmap_maxbytes for block-mapped ones.
    assert_eq!(im.geo.max_bytes(), ((1i64 << 32) - 1) << 12);
    assert_eq!(im.geo.bitmap_max_bytes(), 4_402_345_721_856);

    // One flipped bit, checksum left stale: EFSBADCRC.
    let mut raw = im.raw_inode(ino);
    raw[0x10] ^= 1;
    let zones = im.system_zones();
    let r = validate(
        &raw,
        &im.geo,
        SystemZones::new(&zones),
        ino,
        IgetKind::Normal,
        4096,
    );
    assert_eq!(r.as_ref().err(), Some(&Refusal::BadChecksum));
    assert_eq!(r.err().unwrap().errno(), RefusalClass::BadChecksum);

    // Exactly s_maxbytes passes; one byte more does not.
    let max = im.geo.max_bytes();
    for (size, ok) in [(max, true), (max + 1, false)] {
        let copy = dir.join("max.img");
        fs::copy(&img, &copy).unwrap();
        debugfs(&tools, &copy, &[format!("sif <{ino}> size {size}")], true);
        let r = validate_at(&copy, ino, IgetKind::Normal, 4096);
        assert_eq!(r.is_ok(), ok, "size {size}: {r:?}");
    }
    // A directory's i_size_high is not part of its size without large_dir.
    let d = ino_of(&img, "/d");
    let copy = dir.join("dir.img");
    fs::copy(&img, &copy).unwrap();
    debugfs(
        &tools,
        &copy,
        &[format!("sif <{d}> size_hi 0x80000000")],
        true,
    );
    assert!(validate_at(&copy, d, IgetKind::Normal, 4096).is_ok());

    // An encrypted inode is refused only with blocks larger than a page.
    let copy = dir.join("enc.img");
    fs::copy(&img, &copy).unwrap();
    debugfs(&tools, &copy, &[format!("sif <{ino}> flags 0x80800")], true);
    assert!(validate_at(&copy, ino, IgetKind::Normal, 4096).is_ok());
    assert_eq!(
        validate_at(&copy, ino, IgetKind::Normal, 1024).err(),
        Some(Refusal::EncryptedLargeBlock)
    );

    // 1 KiB blocks without huge_file: ext3's 16 GiB limit.
    let img1k = image(
        &tools,
        dir,
        "ext3",
        &["-b", "1024", "-O", "^extent,^huge_file,^64bit"],
        tree.path(),
    );
    assert_eq!(Image::open(&img1k).geo.bitmap_max_bytes(), 17_247_252_480);
}

#[test]
fn reserved_and_special_inode_numbers() {
    let Some(tools) = tools() else { return };
    let tree = tree();
    let work = TempDir::new("iget-inum");
    let img = image(
        &tools,
        work.path(),
        "special",
        &["-O", "orphan_file"],
        tree.path(),
    );
    let im = Image::open(&img);
    let geo = &im.geo;
    let sb = &im.sb;
    let specials = [
        sb.s_usr_quota_inum,
        sb.s_grp_quota_inum,
        sb.s_prj_quota_inum,
        sb.s_orphan_file_inum,
    ];
    // mke2fs puts the orphan file (and the project quota) past
    // s_first_ino, where only is_special_ino() keeps them from a lookup.
    // (rext4 does not mount quota images yet; the rule is the same.)
    assert!(specials.iter().any(|&i| i >= geo.first_ino), "{specials:?}");
    for ino in specials.into_iter().filter(|&i| i != 0) {
        assert_eq!(
            check_inum(geo, ino, IgetKind::Normal),
            Err(Refusal::IllegalInum)
        );
        assert_eq!(check_inum(geo, ino, IgetKind::Special), Ok(()));
    }
    for ino in [0, 1, geo.inodes_count + 1, u32::MAX] {
        assert_eq!(
            check_inum(geo, ino, IgetKind::Special),
            Err(Refusal::IllegalInum)
        );
    }
    for ino in 3..geo.first_ino {
        assert_eq!(
            check_inum(geo, ino, IgetKind::Normal),
            Err(Refusal::IllegalInum)
        );
    }
    assert_eq!(check_inum(geo, 2, IgetKind::Normal), Ok(()));
    assert_eq!(check_inum(geo, geo.inodes_count, IgetKind::Normal), Ok(()));
    assert!(all_pass(&img) >= 8);
}

#[test]
fn ibody_xattr_area_too_small_is_not_looked_at() {
    // i_extra_isize leaves room for the magic but not for an entry after
    // it: EXT4_INODE_HAS_XATTR_SPACE() is false, so ext4 never reads the
    // area and serves the inode; so must rext4.
    let Some(tools) = tools() else { return };
    let tree = tree();
    let work = TempDir::new("iget-small");
    // Without metadata_csum: debugfs's checksum of such an inode is not
    // one e2fsck accepts either.
    let img = image(
        &tools,
        work.path(),
        "nocsum",
        &["-O", "^metadata_csum"],
        tree.path(),
    );
    let ino = ino_of(&img, "/d/g");
    let im = Image::open(&img);
    let mut raw = im.raw_inode(ino);
    raw[0x80..0x82].copy_from_slice(&124u16.to_le_bytes());
    raw[252..256].copy_from_slice(&0xEA02_0000u32.to_le_bytes());
    let f = fs::OpenOptions::new().write(true).open(&img).unwrap();
    f.write_all_at(&raw, im.inode_offset(ino)).unwrap();
    assert!(validate_at(&img, ino, IgetKind::Normal, 4096).is_ok());
}

#[test]
fn only_direct_pointers_and_32_levels_at_iget() {
    // ext4_ind_check_inode() checks the twelve direct pointers only, and
    // __ext4_ext_check() lets a root of up to 32 levels through: a bad
    // indirect pointer or a too-deep tree fails the read, not the lookup.
    let Some(tools) = tools() else { return };
    let tree = tree();
    let work = TempDir::new("iget-lenient");
    let dir = work.path();
    let ext3 = image(
        &tools,
        dir,
        "ext3",
        &[
            "-b",
            "1024",
            "-O",
            "^extent,^64bit,^metadata_csum,^huge_file,^flex_bg",
        ],
        tree.path(),
    );
    let g = ino_of(&ext3, "/d/g");
    debugfs(
        &tools,
        &ext3,
        &[format!("sif <{g}> block[IND] 0xFFFFFF00")],
        true,
    );
    assert!(validate_at(&ext3, g, IgetKind::Normal, 4096).is_ok());
    debugfs(
        &tools,
        &ext3,
        &[format!("sif <{g}> block[2] 0xFFFFFF00")],
        true,
    );
    assert!(matches!(
        validate_at(&ext3, g, IgetKind::Normal, 4096),
        Err(Refusal::BlockMap(_))
    ));

    let img = image(&tools, dir, "csum", &["-b", "4096"], tree.path());
    let f = ino_of(&img, "/frag");
    let im = Image::open(&img);
    let raw = im.raw_inode(f);
    assert_eq!(
        u16::from_le_bytes([raw[0x28 + 6], raw[0x28 + 7]]),
        1,
        "frag is not depth 1"
    );
    // i_block word 1 is eh_max | eh_depth << 16: set the root's depth
    // through debugfs, which keeps the inode checksum right.
    let word1 = u32::from_le_bytes(raw[0x28 + 4..0x28 + 8].try_into().unwrap());
    for (depth, ok) in [(6u32, true), (32, true), (33, false)] {
        let copy = dir.join("deep.img");
        fs::copy(&img, &copy).unwrap();
        let v = (word1 & 0xFFFF) | depth << 16;
        debugfs(&tools, &copy, &[format!("sif <{f}> block[1] {v}")], true);
        let r = validate_at(&copy, f, IgetKind::Normal, 4096);
        assert_eq!(r.is_ok(), ok, "depth {depth}: {r:?}");
    }
}
