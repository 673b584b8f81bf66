// SPDX-License-Identifier: GPL-2.0

//! Decodes real images built by this machine's `mkfs.ext4 -d` in many
//! configurations and compares every decoded value with what e2fsprogs
//! (`dumpe2fs`, `debugfs`) reports for the same image: superblock fields,
//! every group descriptor and bitmap checksum, every inode's attributes and
//! checksum, whole file contents read through our extent/indirect walkers,
//! directory listings, htree lookups of thousands of names, symlinks, device
//! numbers, xattrs and the journal superblock.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use common::*;
use rext4_core::ondisk::features::{FeatureKind, FeatureNames};
use rext4_core::ondisk::group_desc::{
    ext4_block_bitmap_csum_verify, ext4_inode_bitmap_csum_verify, EXT4_BG_BLOCK_UNINIT,
    EXT4_BG_INODE_UNINIT,
};
use rext4_core::ondisk::inode::{FileType, Inode, EXT4_EXTENTS_FL, EXT4_JOURNAL_INO};
use rext4_core::ondisk::jbd2::{needs_recovery, JournalSuperblock};
use rext4_core::ondisk::xattr::{ext4_xattr_block_csum_verify, name_prefix, XattrList};

struct Case {
    name: &'static str,
    size: u64,
    args: &'static [&'static str],
    bigdir: usize,
    sparse_far: bool,
    /// Shell-free post-processing steps before checking.
    post: &'static [Post],
}

#[derive(Clone, Copy)]
enum Post {
    /// `e2fsck -fyD`: index every large directory.
    IndexDirs,
    /// Set `s_flags` to unsigned hashing (then re-index).
    UnsignedHash,
    /// Change the default hash algorithm (then re-index).
    HashAlg(&'static str),
    /// New random UUID (with metadata_csum_seed the seed stays).
    NewUuid,
}

const CASES: &[Case] = &[
    Case {
        name: "4k",
        size: 256 << 20,
        args: &["-b", "4096", "-N", "16384"],
        bigdir: 5000,
        sparse_far: true,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "1k",
        size: 256 << 20,
        args: &["-b", "1024", "-N", "16384"],
        bigdir: 5000,
        sparse_far: true,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "2k",
        size: 128 << 20,
        args: &["-b", "2048", "-N", "16384", "-L", "label-of-16bytes"],
        bigdir: 600,
        sparse_far: false,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "no64bit",
        size: 128 << 20,
        args: &["-O", "^64bit", "-N", "8192", "-L", "short"],
        bigdir: 600,
        sparse_far: false,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "nocsum",
        size: 128 << 20,
        args: &["-O", "^metadata_csum", "-N", "8192"],
        bigdir: 600,
        sparse_far: false,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "i128",
        size: 128 << 20,
        args: &["-I", "128", "-N", "8192"],
        bigdir: 600,
        sparse_far: false,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "ext3ish",
        size: 128 << 20,
        args: &[
            "-b",
            "1024",
            "-O",
            "^extent,^flex_bg,^huge_file,^dir_nlink,^extra_isize,^64bit",
            "-N",
            "8192",
        ],
        bigdir: 600,
        sparse_far: true,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "ext3",
        size: 128 << 20,
        args: &["-t", "ext3", "-N", "8192"],
        bigdir: 600,
        sparse_far: true,
        post: &[Post::IndexDirs],
    },
    Case {
        name: "metabg",
        size: 256 << 20,
        args: &["-b", "1024", "-O", "meta_bg,^resize_inode", "-N", "8192"],
        bigdir: 0,
        sparse_far: false,
        post: &[],
    },
    Case {
        name: "csumseed_tea_unsigned",
        size: 128 << 20,
        args: &["-O", "metadata_csum_seed", "-N", "8192"],
        bigdir: 2000,
        sparse_far: false,
        post: &[
            Post::NewUuid,
            Post::HashAlg("tea"),
            Post::UnsignedHash,
            Post::IndexDirs,
        ],
    },
    Case {
        name: "legacy_hash",
        size: 128 << 20,
        args: &["-b", "1024", "-N", "8192"],
        bigdir: 2000,
        sparse_far: false,
        post: &[Post::HashAlg("legacy"), Post::IndexDirs],
    },
    Case {
        name: "huge_2TiB",
        size: 2 << 40,
        args: &["-E", "lazy_itable_init=1,lazy_journal_init=1"],
        bigdir: 0,
        sparse_far: false,
        post: &[],
    },
];

#[test]
fn images_match_e2fsprogs() {
    let Some(tools) = tools() else { return };
    let only = std::env::var("REXT4_IMAGE_CASE").ok();
    let trees: BTreeMap<(usize, bool), Tree> = CASES
        .iter()
        .map(|c| (c.bigdir, c.sparse_far))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|k| (k, build_tree(k.0, k.1)))
        .collect();
    for case in CASES {
        if only.as_deref().is_some_and(|o| o != case.name) {
            continue;
        }
        let t0 = std::time::Instant::now();
        let tree = &trees[&(case.bigdir, case.sparse_far)];
        let work = TempDir::new(case.name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, case.size, case.args, Some(tree.dir.path()));
        for post in case.post {
            apply_post(&tools, &img, *post);
        }
        check_image(&tools, &img, tree, case);
        eprintln!("case {:>22}: ok in {:?}", case.name, t0.elapsed());
    }
}

fn apply_post(tools: &Tools, img: &Path, post: Post) {
    match post {
        Post::IndexDirs => {
            let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
            let st = Command::new(e2fsck).arg("-fyD").arg(img).output().unwrap();
            // 0 = clean, 1 = errors corrected (the re-index counts as one).
            assert!(
                matches!(st.status.code(), Some(0) | Some(1)),
                "e2fsck -D: {st:?}"
            );
        }
        Post::UnsignedHash => {
            debugfs(tools, img, &["ssv flags 2".to_string()], true);
        }
        Post::HashAlg(alg) => {
            run(Command::new("tune2fs")
                .arg("-E")
                .arg(format!("hash_alg={alg}"))
                .arg(img));
        }
        Post::NewUuid => {
            run(Command::new("tune2fs").arg("-U").arg("random").arg(img));
        }
    }
}

fn check_image(tools: &Tools, img: &Path, tree: &Tree, case: &Case) {
    let im = Image::open(img);
    check_superblock(tools, img, &im);
    check_groups(tools, img, &im, case.size > (1 << 40));
    check_inodes_and_files(tools, img, &im, tree);
    check_dirs(tools, img, &im, tree);
    check_journal(tools, img, &im);
    if im.geo.has_metadata_csum() {
        assert!(im.csums_checked.get() > 100, "checksums were not exercised");
    }
}

fn check_superblock(tools: &Tools, img: &Path, im: &Image) {
    let h = dumpe2fs_header(tools, img);
    let num = |k: &str| -> u64 {
        h.get(k)
            .unwrap_or_else(|| panic!("dumpe2fs lacks {k}"))
            .parse()
            .unwrap()
    };
    let sb = &im.sb;
    let geo = &im.geo;
    assert_eq!(num("Inode count"), sb.s_inodes_count as u64);
    assert_eq!(num("Block count"), sb.blocks_count());
    assert_eq!(num("Reserved block count"), sb.r_blocks_count());
    assert_eq!(num("Free blocks"), sb.free_blocks_count());
    assert_eq!(num("Free inodes"), sb.s_free_inodes_count as u64);
    assert_eq!(num("First block"), geo.first_data_block as u64);
    assert_eq!(num("Block size"), geo.block_size as u64);
    assert_eq!(num("Blocks per group"), geo.blocks_per_group as u64);
    assert_eq!(num("Inodes per group"), geo.inodes_per_group as u64);
    assert_eq!(num("Inode size"), geo.inode_size as u64);
    assert_eq!(num("First inode"), geo.first_ino as u64);
    assert_eq!(num("Inode blocks per group"), geo.itb_per_group as u64);
    if let Some(v) = h.get("Reserved GDT blocks") {
        assert_eq!(v.parse::<u64>().unwrap(), sb.s_reserved_gdt_blocks as u64);
    }
    if let Some(v) = h.get("Group descriptor size") {
        assert_eq!(v.parse::<u32>().unwrap(), geo.desc_size);
    }
    if let Some(v) = h.get("Flex block group size") {
        assert_eq!(v.parse::<u64>().unwrap(), 1u64 << sb.s_log_groups_per_flex);
    }
    if let Some(v) = h.get("Required extra isize") {
        assert_eq!(v.parse::<u16>().unwrap(), sb.s_min_extra_isize);
    }
    if let Some(v) = h.get("Journal inode") {
        assert_eq!(v.parse::<u32>().unwrap(), sb.s_journal_inum);
    }
    assert_eq!(h["Filesystem UUID"], uuid_str(&sb.s_uuid));
    assert_eq!(geo.uuid, sb.s_uuid);
    // The label (FS_IOC_GETFSLABEL): up to the first NUL.
    let label: String = geo
        .volume_name
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let label = if label.is_empty() {
        "<none>".to_string()
    } else {
        label
    };
    assert_eq!(h["Filesystem volume name"], label);
    let seed_bytes: Vec<u8> = sb
        .s_hash_seed
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    assert_eq!(h["Directory Hash Seed"], uuid_str(&seed_bytes));
    let hash_name = ["legacy", "half_md4", "tea"][sb.s_def_hash_version as usize];
    assert_eq!(h["Default directory hash"], hash_name);
    let flags = &h["Filesystem flags"];
    assert_eq!(
        flags.contains("unsigned_directory_hash"),
        sb.hash_unsigned()
    );
    assert_eq!(
        flags.contains("signed_directory_hash") && !flags.contains("unsigned"),
        !sb.hash_unsigned()
    );
    assert_eq!(h["Filesystem state"] == "clean", sb.s_state & 1 == 1);
    // Feature names, as a set.
    let ours: BTreeSet<&str> = FeatureNames::new(FeatureKind::Compat, sb.s_feature_compat)
        .chain(FeatureNames::new(
            FeatureKind::Incompat,
            sb.s_feature_incompat,
        ))
        .chain(FeatureNames::new(
            FeatureKind::RoCompat,
            sb.s_feature_ro_compat,
        ))
        .collect();
    let theirs: BTreeSet<&str> = h["Filesystem features"].split_whitespace().collect();
    assert_eq!(ours, theirs);
    if geo.has_metadata_csum() {
        assert_eq!(h["Checksum"], format!("0x{:08x}", sb.s_checksum));
        if let Some(seed) = h.get("Checksum seed") {
            assert_eq!(*seed, format!("0x{:08x}", geo.csum_seed));
        }
    }
    assert!(!h["Filesystem created"].is_empty());
}

fn uuid_str(b: &[u8]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn check_groups(tools: &Tools, img: &Path, im: &Image, huge: bool) {
    let geo = &im.geo;
    let dump = if huge {
        Vec::new()
    } else {
        dumpe2fs_groups(tools, img)
    };
    if !huge {
        assert_eq!(dump.len() as u32, geo.groups_count);
    }
    let (mut free_blocks, mut free_inodes) = (0u64, 0u64);
    for g in 0..geo.groups_count {
        let (_, gd) = im.group_desc(g);
        gd.check(geo, g)
            .unwrap_or_else(|e| panic!("group {g}: {e}"));
        free_blocks += gd.free_blocks_count() as u64;
        free_inodes += gd.free_inodes_count() as u64;
        if let Some(d) = dump.get(g as usize) {
            assert_eq!(gd.block_bitmap(), d.block_bitmap, "group {g}");
            assert_eq!(gd.inode_bitmap(), d.inode_bitmap, "group {g}");
            assert_eq!(gd.inode_table(), d.inode_table, "group {g}");
            assert_eq!(gd.free_blocks_count(), d.free_blocks, "group {g}");
            assert_eq!(gd.free_inodes_count(), d.free_inodes, "group {g}");
            assert_eq!(gd.used_dirs_count(), d.dirs, "group {g}");
            if let Some(c) = d.csum {
                assert_eq!(gd.bg_checksum, c, "group {g}");
            }
        }
        // Bitmap checksums (only meaningful for initialised bitmaps); for the
        // huge image sample a few groups to keep the test fast.
        if !huge || g < 4 || g % 1024 == 0 {
            if !gd.has_flag(EXT4_BG_BLOCK_UNINIT) {
                let bm = im.read_block(gd.block_bitmap());
                ext4_block_bitmap_csum_verify(geo, &gd, &bm)
                    .unwrap_or_else(|e| panic!("group {g}: {e}"));
            }
            if !gd.has_flag(EXT4_BG_INODE_UNINIT) {
                let bm = im.read_block(gd.inode_bitmap());
                ext4_inode_bitmap_csum_verify(geo, &gd, &bm)
                    .unwrap_or_else(|e| panic!("group {g}: {e}"));
            }
        }
    }
    assert_eq!(free_blocks, im.sb.free_blocks_count());
    assert_eq!(free_inodes, im.sb.s_free_inodes_count as u64);
}

/// Parsed `debugfs stat` output.
fn parse_stat(text: &str) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let l = line.trim();
        // "Inode: 13   Type: regular    Mode:  0644   Flags: 0x80000" style.
        let mut rest = l;
        while let Some(colon) = rest.find(": ") {
            let key_start = rest[..colon].rfind("  ").map(|p| p + 2).unwrap_or(0);
            let key = rest[key_start..colon].trim().to_string();
            let after = rest[colon + 2..].trim_start();
            let end = after.find("   ").unwrap_or(after.len());
            let val = after[..end].trim().to_string();
            if key.ends_with("time") {
                // " ctime: 0x6b01a64f:00000000 -- date"
                m.insert(key, val.split(" -- ").next().unwrap().to_string());
                break;
            }
            // First occurrence wins: "Fragment: ... Size: 0" must not
            // override the inode size.
            m.entry(key).or_insert(val);
            rest = &after[end..];
        }
    }
    m
}

fn collect_paths(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let is_dir = e.file_type().unwrap().is_dir();
            if rel.starts_with("bigdir/") {
                continue;
            }
            out.push(rel);
            if is_dir {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn check_inodes_and_files(tools: &Tools, img: &Path, im: &Image, tree: &Tree) {
    let geo = &im.geo;
    let paths = collect_paths(tree.dir.path());
    let mut inos = BTreeMap::new();
    for p in &paths {
        let ino = im
            .namei(&format!("/{p}"))
            .unwrap_or_else(|| panic!("{p} not found"));
        inos.insert(p.clone(), ino);
    }
    let requests: Vec<String> = inos.values().map(|i| format!("stat <{i}>")).collect();
    let out = debugfs(tools, img, &requests, false);
    let stats = split_debugfs(&out);
    assert_eq!(stats.len(), requests.len());
    for ((path, &ino), (_, text)) in inos.iter().zip(stats.iter()) {
        let s = parse_stat(text);
        let (raw, inode) = im.inode(ino);
        let ctx = format!("{path} (inode {ino})");
        assert_eq!(s["Inode"].parse::<u32>().unwrap(), ino, "{ctx}");
        let ty = match inode.file_type().unwrap() {
            FileType::Regular => "regular",
            FileType::Directory => "directory",
            FileType::Symlink => "symlink",
            FileType::CharDevice => "character special",
            FileType::BlockDevice => "block special",
            FileType::Fifo => "FIFO",
            FileType::Socket => "socket",
        };
        assert_eq!(s["Type"], ty, "{ctx}");
        assert_eq!(
            u16::from_str_radix(&s["Mode"], 8).unwrap(),
            inode.permissions(),
            "{ctx}"
        );
        assert_eq!(
            u32::from_str_radix(s["Flags"].trim_start_matches("0x"), 16).unwrap(),
            inode.i_flags,
            "{ctx}"
        );
        assert_eq!(
            s["Generation"].parse::<u32>().unwrap(),
            inode.i_generation,
            "{ctx}"
        );
        assert_eq!(s["User"].parse::<u32>().unwrap(), inode.uid(), "{ctx}");
        assert_eq!(s["Group"].parse::<u32>().unwrap(), inode.gid(), "{ctx}");
        assert_eq!(
            s["Size"].parse::<u64>().unwrap(),
            inode.size(geo).unwrap(),
            "{ctx}"
        );
        assert_eq!(
            s["Links"].parse::<u16>().unwrap(),
            inode.i_links_count,
            "{ctx}"
        );
        assert_eq!(
            s["Blockcount"].parse::<u64>().unwrap(),
            inode.blocks(geo),
            "{ctx}"
        );
        assert_eq!(
            s["File ACL"].parse::<u64>().unwrap(),
            inode.file_acl(geo),
            "{ctx}"
        );
        check_times(&s, &inode, &ctx);
        if let Some(v) = s.get("Size of extra inode fields") {
            assert_eq!(v.parse::<u16>().unwrap(), inode.i_extra_isize, "{ctx}");
        }
        if let Some(v) = s.get("Inode checksum") {
            let ours = match inode.i_checksum_hi {
                Some(hi) => (hi as u32) << 16 | inode.l_i_checksum_lo as u32,
                None => inode.l_i_checksum_lo as u32,
            };
            assert_eq!(*v, format!("0x{ours:08x}"), "{ctx}");
        }
        // Type-specific content checks against the source tree.
        let src = tree.dir.path().join(path);
        match inode.file_type().unwrap() {
            FileType::Symlink => {
                let target = fs::read_link(&src).unwrap();
                let ours = if inode.is_fast_symlink(geo) {
                    inode.fast_symlink_target(geo).unwrap().to_vec()
                } else {
                    im.read_file(ino)
                };
                assert_eq!(ours, target.as_os_str().as_encoded_bytes(), "{ctx}");
                assert_eq!(
                    inode.is_fast_symlink(geo),
                    target.as_os_str().len() < 60,
                    "{ctx}"
                );
                if let Some(fast) = s.get("Fast link dest") {
                    assert_eq!(fast.trim_matches('"').as_bytes(), &ours[..], "{ctx}");
                }
            }
            FileType::CharDevice | FileType::BlockDevice => {
                let dev = inode.device_number().unwrap();
                let line = text
                    .lines()
                    .find(|l| l.contains("Device major/minor number"))
                    .unwrap();
                let nums = line
                    .split(": ")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap();
                let (ma, mi) = nums.split_once(':').unwrap();
                assert_eq!(
                    (ma.parse::<u32>().unwrap(), mi.parse::<u32>().unwrap()),
                    (dev.major, dev.minor),
                    "{ctx}"
                );
                use std::os::unix::fs::MetadataExt;
                let rdev = fs::symlink_metadata(&src).unwrap().rdev();
                let major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & !0xfff);
                let minor = (rdev & 0xff) | ((rdev >> 12) & !0xff);
                assert_eq!(
                    (dev.major as u64, dev.minor as u64),
                    (major, minor),
                    "{ctx}"
                );
            }
            _ => {}
        }
        check_xattrs(im, ino, &raw, &inode, tree, path);
    }
    // Regular file contents, through the extent/indirect walkers.
    for spec in &tree.files {
        let ino = inos[&spec.rel];
        check_file_content(im, ino, spec);
    }
}

fn check_times(s: &BTreeMap<String, String>, inode: &Inode, ctx: &str) {
    let raw = |k: &str| -> Option<(u32, u32)> {
        let v = s.get(k)?;
        let (a, b) = v.split_once(':').unwrap_or((v, "0"));
        Some((
            u32::from_str_radix(a.trim_start_matches("0x"), 16).unwrap(),
            u32::from_str_radix(b, 16).unwrap_or(0),
        ))
    };
    for (k, base, extra) in [
        ("ctime", inode.i_ctime, inode.i_ctime_extra),
        ("atime", inode.i_atime, inode.i_atime_extra),
        ("mtime", inode.i_mtime, inode.i_mtime_extra),
    ] {
        let (b, e) = raw(k).unwrap_or_else(|| panic!("{ctx}: no {k}"));
        assert_eq!(b, base, "{ctx} {k}");
        assert_eq!(e, extra.unwrap_or(0), "{ctx} {k} extra");
    }
    if let Some((b, e)) = raw("crtime") {
        assert_eq!(Some(b), inode.i_crtime, "{ctx} crtime");
        assert_eq!(e, inode.i_crtime_extra.unwrap_or(0), "{ctx} crtime extra");
    } else {
        assert_eq!(inode.i_crtime, None, "{ctx}");
    }
}

fn check_file_content(im: &Image, ino: u32, spec: &FileSpec) {
    let (_, inode) = im.inode(ino);
    let geo = &im.geo;
    assert_eq!(inode.size(geo).unwrap(), spec.size, "{}", spec.rel);
    let bs = im.bs() as u64;
    let runs = im.mapped_runs(ino, &inode);
    // Build expected bytes per mapped block from the chunks.
    let expected_block = |lblk: u64| -> Vec<u8> {
        let mut b = vec![0u8; bs as usize];
        let start = lblk * bs;
        for (off, data) in &spec.chunks {
            let end = off + data.len() as u64;
            if end <= start || *off >= start + bs {
                continue;
            }
            let from = (*off).max(start);
            let to = end.min(start + bs);
            b[(from - start) as usize..(to - start) as usize]
                .copy_from_slice(&data[(from - off) as usize..(to - off) as usize]);
        }
        b
    };
    let mut mapped = BTreeSet::new();
    let mut prev_end = 0u64;
    for &(l, p, n, unwritten) in &runs {
        assert!(l >= prev_end, "{}: runs overlap", spec.rel);
        prev_end = l + n;
        assert!(!unwritten, "{}: unexpected unwritten extent", spec.rel);
        for i in 0..n {
            if (l + i) * bs >= spec.size {
                continue; // preallocated past EOF
            }
            let mut got = im.read_block(p + i);
            let mut want = expected_block(l + i);
            let tail = (spec.size - (l + i) * bs).min(bs) as usize;
            got.truncate(tail);
            want.truncate(tail);
            assert!(got == want, "{}: block {} differs", spec.rel, l + i);
            mapped.insert(l + i);
            // Spot-check the point lookup path against the full walk.
            if i == 0 || i == n - 1 {
                assert_eq!(
                    im.bmap(ino, &inode, (l + i) as u32),
                    Some(p + i),
                    "{}",
                    spec.rel
                );
            }
        }
    }
    for (off, data) in &spec.chunks {
        if data.iter().all(|&b| b == 0) {
            continue;
        }
        for lblk in off / bs..=(off + data.len() as u64 - 1) / bs {
            assert!(
                mapped.contains(&lblk),
                "{}: data block {lblk} unmapped",
                spec.rel
            );
        }
    }
    if spec.rel == "sparse_many" && inode.has_flag(EXT4_EXTENTS_FL) {
        let root = rext4_core::ondisk::extent::ExtentNode::parse(
            &inode.i_block,
            rext4_core::ondisk::extent::NodeKind::Root,
            geo,
        )
        .unwrap();
        assert!(root.depth() >= 1, "sparse_many should need an extent tree");
        // A hole right after the first chunk must report the next extent.
        assert_eq!(
            im.bmap(ino, &inode, (16384 * 3 / bs + 1) as u32).is_some(),
            mapped.contains(&(16384 * 3 / bs + 1))
        );
    }
}

fn check_xattrs(im: &Image, _ino: u32, raw: &[u8], inode: &Inode, tree: &Tree, path: &str) {
    let geo = &im.geo;
    let mut found: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut add = |list: XattrList<'_>| {
        for e in list.iter() {
            let e = e.unwrap();
            let Some(prefix) = name_prefix(e.e_name_index) else {
                continue;
            };
            let name = format!("{prefix}{}", String::from_utf8_lossy(e.name));
            found.insert(name, e.value().unwrap().to_vec());
        }
    };
    if let Some(list) = XattrList::parse_ibody(raw, geo, inode.i_extra_isize).unwrap() {
        add(list);
    }
    let acl = inode.file_acl(geo);
    if acl != 0 {
        let block = im.read_block(acl);
        ext4_xattr_block_csum_verify(&block, acl, geo).unwrap();
        let (_, list) = XattrList::parse_block(&block, geo).unwrap();
        add(list);
    }
    if let Some(spec) = tree.xattrs.iter().find(|x| x.rel == path) {
        for (n, v) in &spec.attrs {
            assert_eq!(found.get(n), Some(v), "{path}: xattr {n}");
        }
        if path == "xattr_big" {
            assert_ne!(acl, 0, "large xattr should use a block");
        }
    }
}

fn check_dirs(tools: &Tools, img: &Path, im: &Image, tree: &Tree) {
    let geo = &im.geo;
    let mut dirs = vec!["/".to_string()];
    for p in collect_paths(tree.dir.path()) {
        if tree.dir.path().join(&p).is_dir() {
            dirs.push(format!("/{p}"));
        }
    }
    if !tree.bigdir_names.is_empty() {
        dirs.push("/bigdir".into());
    }
    let requests: Vec<String> = dirs.iter().map(|d| format!("ls -l {d}")).collect();
    let out = debugfs(tools, img, &requests, false);
    for (dir, (_, text)) in dirs.iter().zip(split_debugfs(&out)) {
        let ino = im.namei(dir).unwrap();
        let ours: BTreeSet<(Vec<u8>, u32)> = im
            .list_dir(ino)
            .into_iter()
            .map(|(n, i, _)| (n, i))
            .collect();
        let theirs: BTreeSet<(Vec<u8>, u32)> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            // Unused records (inode 0) are listed by debugfs but are not names.
            .filter(|l| l.split_whitespace().next() != Some("0"))
            .map(parse_ls_line)
            .collect();
        let only_ours: Vec<_> = ours
            .difference(&theirs)
            .take(3)
            .map(|(n, i)| (String::from_utf8_lossy(n).into_owned(), *i))
            .collect();
        let only_theirs: Vec<_> = theirs
            .difference(&ours)
            .take(3)
            .map(|(n, i)| (String::from_utf8_lossy(n).into_owned(), *i))
            .collect();
        assert!(
            only_ours.is_empty() && only_theirs.is_empty(),
            "{dir}: only ours {only_ours:?}, only debugfs {only_theirs:?} ({} vs {})",
            ours.len(),
            theirs.len()
        );
    }
    if !tree.bigdir_names.is_empty() {
        let ino = im.namei("/bigdir").unwrap();
        let (_, inode) = im.inode(ino);
        assert!(im.is_htree(&inode), "bigdir should be indexed");
        let root_block = im.read_block(im.bmap(ino, &inode, 0).unwrap());
        let root = rext4_core::ondisk::htree::DxRoot::parse(&root_block, geo).unwrap();
        assert_eq!(
            root.info.hash_version, im.sb.s_def_hash_version,
            "e2fsck -D indexes with the default hash"
        );
        let listing: BTreeMap<Vec<u8>, u32> = im
            .list_dir(ino)
            .into_iter()
            .map(|(n, i, _)| (n, i))
            .collect();
        for name in &tree.bigdir_names {
            let want = listing[name.as_bytes()];
            assert_eq!(
                im.htree_lookup(ino, name.as_bytes()),
                Some(want),
                "htree lookup of {name}"
            );
        }
        for missing in ["nope", "entry_99999", "E-1"] {
            assert_eq!(im.htree_lookup(ino, missing.as_bytes()), None);
        }
    }
}

fn check_journal(tools: &Tools, img: &Path, im: &Image) {
    if im.sb.s_journal_inum == 0 {
        assert!(!needs_recovery(&im.sb, None));
        return;
    }
    assert_eq!(im.sb.s_journal_inum, EXT4_JOURNAL_INO);
    let (_, inode) = im.inode(EXT4_JOURNAL_INO);
    let first = im
        .bmap(EXT4_JOURNAL_INO, &inode, 0)
        .expect("journal block 0");
    let jsb = JournalSuperblock::parse(&im.read_block(first)).unwrap();
    assert!(jsb.is_clean());
    assert!(!needs_recovery(&im.sb, Some(&jsb)));
    let blocks = inode.size(&im.geo).unwrap() / im.bs() as u64;
    jsb.check_geometry(im.geo.block_size, blocks).unwrap();
    let h = dumpe2fs_header(tools, img);
    if let Some(v) = h.get("Journal sequence") {
        assert_eq!(
            u32::from_str_radix(v.trim_start_matches("0x"), 16).unwrap(),
            jsb.s_sequence
        );
    }
    if let Some(v) = h.get("Journal start") {
        assert_eq!(v.parse::<u32>().unwrap(), jsb.s_start);
    }
    if let Some(v) = h.get("Total journal blocks") {
        assert_eq!(v.parse::<u32>().unwrap(), jsb.s_maxlen);
    }
    if let Some(v) = h.get("Journal checksum") {
        assert_eq!(*v, format!("0x{:08x}", jsb.s_checksum));
    }
}

/// One `debugfs ls -l` line: (name, inode). The name follows the
/// "DD-Mon-YYYY HH:MM" date, whatever the size column looks like.
fn parse_ls_line(l: &str) -> (Vec<u8>, u32) {
    let ino = l.split_whitespace().next().unwrap().parse().unwrap();
    let toks: Vec<&str> = l.split_whitespace().collect();
    let di = toks
        .iter()
        .position(|t| {
            t.matches('-').count() == 2
                && t.len() >= 10
                && t.ends_with(|c: char| c.is_ascii_digit())
        })
        .unwrap_or_else(|| panic!("no date in {l:?}"));
    let date_pos = l.find(toks[di]).unwrap();
    let after_date = &l[date_pos + toks[di].len()..];
    let time = toks[di + 1];
    let time_pos = after_date.find(time).unwrap();
    let name = &after_date[time_pos + time.len() + 1..];
    // debugfs prints bytes >= 0x80 as "\\xNN".
    let mut out = Vec::new();
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 4 <= b.len() {
            out.push(u8::from_str_radix(&name[i + 2..i + 4], 16).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    (out, ino)
}

/// Timestamps with nanoseconds, post-2038 epochs and pre-1970 times, set
/// with `debugfs sif` (which also rewrites the inode checksum), decoded and
/// compared both raw and as (sec, nsec).
#[test]
fn timestamps_extra_fields() {
    let Some(tools) = tools() else { return };
    let work = TempDir::new("times");
    let src = TempDir::new("times-src");
    fs::write(src.path().join("f"), b"t").unwrap();
    let img = work.path().join("fs.img");
    mkfs(&tools, &img, 16 << 20, &[], Some(src.path()));
    let cmds: Vec<String> = [
        "sif /f mtime 0x7fffffff",
        "sif /f mtime_extra 0xEE6B27FD", // epoch 1, nsec 999999999
        "sif /f atime 0x80000000",
        "sif /f atime_extra 0x00000000", // 1901
        "sif /f ctime 0x12345678",
        "sif /f ctime_extra 0x00000006", // epoch 2, nsec 1
        "sif /f crtime 0x00000001",
        "sif /f crtime_extra 0x0000000f", // epoch 3, nsec 3
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    debugfs(&tools, &img, &cmds, true);
    let im = Image::open(&img);
    let ino = im.namei("/f").unwrap();
    let (_, inode) = im.inode(ino); // checksum must still verify
    let m = inode.mtime();
    assert_eq!((m.sec, m.nsec), (0x7fff_ffff + (1 << 32), 999_999_999));
    assert_eq!(inode.atime().sec, -0x8000_0000);
    let c = inode.ctime();
    assert_eq!((c.sec, c.nsec), (0x1234_5678 + (2 << 32), 1));
    let cr = inode.crtime().unwrap();
    assert_eq!((cr.sec, cr.nsec), (1 + (3 << 32), 3));
    let out = debugfs(&tools, &img, &[format!("stat <{ino}>")], false);
    check_times(&parse_stat(&out), &inode, "sif file");
}
