// SPDX-License-Identifier: GPL-2.0

//! Hash-order readdir (`ondisk::dx_readdir`) on images made by mkfs.ext4 and
//! indexed by `e2fsck -D`:
//! - every directory lists each live name exactly once ('.' and '..' first
//!   in an indexed one), in (major, minor) hash order;
//! - in the big indexed directory, each entry's hash is the one `debugfs
//!   htree` prints, and its position is the cookie ext4 makes of that hash;
//! - listing in many small calls gives the same entries and positions as one
//!   call, and a listing resumed from any returned position (a seek to a
//!   `telldir()` value) goes on with exactly the entries after it;
//! - a 1 KiB-block image whose big directory needs a two-level index walks
//!   the interior nodes.
//!
//! The exact order and cookies of the in-tree ext4 driver are compared in
//! the VM (`tests/vm/read-images.sh`, `vmtools dirents`).

mod common;

use std::collections::BTreeMap;

use common::*;
use rext4_core::ondisk::dir::{ext4_dirblock_csum_verify, search_dir};
use rext4_core::ondisk::dx_readdir::{
    fill_batch, htree_eof, Cookies, DirHashing, DirReader, DxCursor, DxPath, Emitter, Fill, Fname,
    Listed, NameBatch, Probe,
};
use rext4_core::ondisk::features::EXT4_FEATURE_COMPAT_DIR_INDEX;
use rext4_core::ondisk::hash::{effective_hash_version, ext4fs_dirhash};
use rext4_core::ondisk::htree::{ext4_dx_csum_verify, DxRoot};
use rext4_core::ondisk::inode::Inode;
use rext4_core::ondisk::Error;

struct Reader<'a> {
    im: &'a Image,
    ino: u32,
    inode: Inode,
    reads: usize,
}

impl DirReader for Reader<'_> {
    type Block = Vec<u8>;
    type Error = String;

    fn index_block(&mut self, lblk: u32) -> Result<Vec<u8>, String> {
        self.reads += 1;
        let b = self.im.dir_block(self.ino, &self.inode, lblk);
        if self.im.geo.has_metadata_csum() {
            let seed = self.im.inode_seed(self.ino, &self.inode);
            ext4_dx_csum_verify(&b, seed).map_err(|e| format!("index {lblk}: {e:?}"))?;
        }
        Ok(b)
    }

    fn leaf_block(&mut self, lblk: u32) -> Result<Vec<u8>, String> {
        self.reads += 1;
        let b = self.im.dir_block(self.ino, &self.inode, lblk);
        if self.im.geo.has_metadata_csum() {
            let seed = self.im.inode_seed(self.ino, &self.inode);
            ext4_dirblock_csum_verify(&b, seed).map_err(|e| format!("leaf {lblk}: {e:?}"))?;
        }
        Ok(b)
    }

    fn corrupt(&mut self, lblk: u32, e: Error) -> String {
        format!("corrupt block {lblk}: {e:?}")
    }

    fn bad_record(&mut self, lblk: u32, e: Error) {
        panic!("bad record in valid image, block {lblk}: {e:?}");
    }

    fn check_stop(&mut self) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Default, Debug)]
struct Batch {
    fnames: Vec<Fname>,
    names: Vec<u8>,
}

impl NameBatch for Batch {
    type Error = String;
    fn clear(&mut self) {
        self.fnames.clear();
        self.names.clear();
    }
    fn push(&mut self, mut f: Fname, name: &[u8]) -> Result<(), String> {
        f.name_off = self.names.len() as u32;
        self.names.extend_from_slice(name);
        self.fnames.push(f);
        Ok(())
    }
    fn fnames(&self) -> &[Fname] {
        &self.fnames
    }
    fn fnames_mut(&mut self) -> &mut [Fname] {
        &mut self.fnames
    }
    fn names(&self) -> &[u8] {
        &self.names
    }
}

/// A `getdents` buffer that takes `room` entries per call; records what
/// `filldir` would: the name, the inode and the position it was emitted at.
struct Out {
    pos: i64,
    room: usize,
    got: Vec<(Vec<u8>, u32, i64)>,
}

impl Emitter for Out {
    fn pos(&self) -> i64 {
        self.pos
    }
    fn set_pos(&mut self, pos: i64) {
        self.pos = pos;
    }
    fn emit(&mut self, name: &[u8], inode: u32, _ft: u8) -> bool {
        if self.room == 0 {
            return false;
        }
        self.room -= 1;
        self.got.push((name.to_vec(), inode, self.pos));
        true
    }
}

/// One listed entry: name, inode, and `d_off` (where the next one is).
type Listing = Vec<(Vec<u8>, u32, i64)>;

struct Dir<'a> {
    im: &'a Image,
    ino: u32,
    inode: Inode,
    indexed: bool,
}

impl Dir<'_> {
    /// Lists from `start` (a fresh open seeked there if non-zero) with
    /// `room` entries per call, as getdents would return them.
    fn list(&self, width: Cookies, room: usize, start: i64) -> (Listing, usize) {
        let mut reader = Reader {
            im: self.im,
            ino: self.ino,
            inode: self.inode.clone(),
            reads: 0,
        };
        let how = DirHashing {
            geo: &self.im.geo,
            indexed: self.indexed,
        };
        let mut cursor = DxCursor::new(Batch::default());
        if start != 0 {
            cursor.seeked();
        }
        let mut pos = start;
        let mut all: Listing = Vec::new();
        for _ in 0..1_000_000 {
            let mut out = Out {
                pos,
                room,
                got: Vec::new(),
            };
            let r = cursor
                .readdir(&mut out, width, |s, b| fill_batch(&mut reader, how, s, b))
                .expect("readdir");
            assert_eq!(r, Listed::Done, "dir {}: fallback to linear", self.ino);
            // d_off of each entry is the position of the next one; the last
            // one's is where the call left the position.
            let n = out.got.len();
            for i in 0..n {
                let next = if i + 1 < n { out.got[i + 1].2 } else { out.pos };
                let (name, ino, _) = &out.got[i];
                all.push((name.clone(), *ino, next));
            }
            pos = out.pos;
            if n == 0 {
                assert_eq!(pos, htree_eof(width), "an empty call must be at EOF");
                return (all, reader.reads);
            }
        }
        panic!("listing does not end");
    }

    fn hash_of(&self, name: &[u8]) -> (u32, u32) {
        let geo = &self.im.geo;
        let version = if self.indexed {
            let root = self.im.dir_block(self.ino, &self.inode, 0);
            DxRoot::parse(&root, geo).unwrap().info.hash_version
        } else {
            geo.def_hash_version
        };
        let h = ext4fs_dirhash(
            name,
            effective_hash_version(version, geo.hash_unsigned),
            &geo.hash_seed,
        )
        .unwrap();
        (h.hash, h.minor_hash)
    }
}

/// (inode -> (hash, minor)) of every entry `debugfs htree` prints.
fn debugfs_hashes(tools: &Tools, img: &std::path::Path, dir: &str) -> BTreeMap<u32, (u32, u32)> {
    let out = debugfs(tools, img, &[format!("htree {dir}")], false);
    let toks: Vec<&str> = out.split_whitespace().collect();
    let mut map = BTreeMap::new();
    for w in toks.windows(3) {
        let (Ok(ino), Some(h), true) = (
            w[0].parse::<u32>(),
            w[1].strip_prefix("0x"),
            w[2].starts_with('(') && w[2].ends_with(')'),
        ) else {
            continue;
        };
        let Some((maj, min)) = h.split_once('-') else {
            continue;
        };
        let (Ok(maj), Ok(min)) = (u32::from_str_radix(maj, 16), u32::from_str_radix(min, 16))
        else {
            continue;
        };
        map.insert(ino, (maj, min));
    }
    map
}

fn check_image(tools: &Tools, img: &std::path::Path, tree: &Tree, want_levels: u8) {
    let im = Image::open(img);
    assert!(im.geo.has_compat(EXT4_FEATURE_COMPAT_DIR_INDEX));
    let mut dirs = vec!["/".to_string()];
    dirs.extend(
        walk(tree.dir.path())
            .into_iter()
            .filter(|p| tree.dir.path().join(p).is_dir())
            .map(|p| format!("/{p}")),
    );
    let bs = im.bs() as u64;
    let mut hashed = 0;
    for path in &dirs {
        let ino = im.namei(path).unwrap();
        let (_, inode) = im.inode(ino);
        let blocks = inode.size(&im.geo).unwrap() / bs;
        let indexed = im.is_htree(&inode);
        if !indexed && blocks != 1 {
            continue; // listed linearly, by byte offset
        }
        hashed += 1;
        let d = Dir {
            im: &im,
            ino,
            inode,
            indexed,
        };
        let (one, _) = d.list(Cookies::Bits64, usize::MAX, 0);
        // Each live name once.
        let mut want: Vec<(Vec<u8>, u32)> = im
            .list_dir(ino)
            .into_iter()
            .map(|(n, i, _)| (n, i))
            .collect();
        let mut got: Vec<(Vec<u8>, u32)> = one.iter().map(|(n, i, _)| (n.clone(), *i)).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{path}: names");
        // Hash order, '.' and '..' first when indexed; positions are cookies.
        let keys: Vec<(u32, u32)> = one
            .iter()
            .map(|(n, _, _)| match (indexed, n.as_slice()) {
                (true, b".") => (0, 0),
                (true, b"..") => (2, 0),
                _ => d.hash_of(n),
            })
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] <= w[1]),
            "{path}: not in hash order"
        );
        for (i, (name, _, off)) in one.iter().enumerate() {
            // ext4's hash2pos() for 64-bit cookies, spelled out here.
            let want = match keys.get(i + 1) {
                Some(&(h, m)) => (i64::from(h >> 1) << 32) | i64::from(m),
                None => i64::MAX,
            };
            assert_eq!(
                *off,
                want,
                "{path}: d_off of {}",
                String::from_utf8_lossy(name)
            );
        }
        // Small calls, and 32-bit cookies, list the same names.
        for room in [1, 2, 7] {
            let (small, _) = d.list(Cookies::Bits64, room, 0);
            assert_eq!(small, one, "{path}: {room} entries per call");
        }
        let (narrow, _) = d.list(Cookies::Bits32, 5, 0);
        let names = |l: &Listing| {
            l.iter()
                .map(|(n, i, _)| (n.clone(), *i))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&narrow), names(&one), "{path}: 32-bit cookies");
        // Resuming at any returned position lists exactly what follows.
        let step = (one.len() / 9).max(1);
        for k in (0..one.len()).step_by(step) {
            let (tail, _) = d.list(Cookies::Bits64, 3, one[k].2);
            assert_eq!(tail, one[k + 1..], "{path}: resumed after entry {k}");
        }
        if path == "/bigdir" {
            assert!(indexed, "bigdir must be indexed");
            let root = im.dir_block(ino, &d.inode, 0);
            let levels = DxRoot::parse(&root, &im.geo).unwrap().info.indirect_levels;
            assert_eq!(levels, want_levels, "index depth of bigdir");
            // Lookup through the same index walk (what dir.rs does).
            let mut reader = Reader {
                im: &im,
                ino,
                inode: d.inode.clone(),
                reads: 0,
            };
            for (name, want, _) in one.iter().skip(2) {
                assert_eq!(dx_lookup(&mut reader, name), Some(*want), "lookup");
            }
            for missing in [&b"nope"[..], b"entry_99999", b"E-1"] {
                assert_eq!(dx_lookup(&mut reader, missing), None);
            }
            let theirs = debugfs_hashes(tools, img, path);
            assert!(
                theirs.len() >= tree.bigdir_names.len(),
                "debugfs htree output"
            );
            for ((name, ino, _), key) in one.iter().zip(&keys).skip(2) {
                assert_eq!(
                    theirs.get(ino),
                    Some(key),
                    "hash of {}",
                    String::from_utf8_lossy(name)
                );
            }
        }
    }
    assert!(hashed >= 3, "too few hash-listed directories ({hashed})");
}

/// `ext4_dx_find_entry()` over `DxPath`: probe, search the leaf, follow the
/// collision run.
fn dx_lookup(reader: &mut Reader<'_>, name: &[u8]) -> Option<u32> {
    let geo = reader.im.geo.clone();
    let seed = geo.hash_seed;
    let probe = DxPath::probe(reader, &geo, |v| {
        ext4fs_dirhash(name, v, &seed).map(|h| h.hash)
    })
    .unwrap();
    let Probe::Path(mut path) = probe else {
        panic!("bad index")
    };
    loop {
        let leaf = path.leaf(reader).unwrap();
        let block = reader.leaf_block(leaf).unwrap();
        if let Some(e) = search_dir(&block, &geo, name).unwrap() {
            return Some(e.inode);
        }
        let hash = path.hash();
        // Only into a leaf that continues this hash (a collision run).
        path.next_leaf(reader, &geo, |h| h & !1 == hash).unwrap()?;
    }
}

fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(root.join(&rel)).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let p = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

fn index_dirs(tools: &Tools, img: &std::path::Path) {
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let st = std::process::Command::new(e2fsck)
        .arg("-fyD")
        .arg(img)
        .output()
        .unwrap();
    assert!(
        matches!(st.status.code(), Some(0) | Some(1)),
        "e2fsck -D: {st:?}"
    );
}

#[test]
fn hash_order_listing() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        eprintln!("skipped: no e2fsck");
        return;
    }
    let cases: [(&str, usize, &[&str], u8); 3] = [
        ("4k", 2000, &["-N", "8192"], 0),
        ("1k-two-level", 9000, &["-b", "1024", "-N", "16384"], 1),
        (
            "tea-nocsum",
            1500,
            &["-O", "^metadata_csum", "-N", "8192"],
            0,
        ),
    ];
    for (name, bigdir, args, levels) in cases {
        let t0 = std::time::Instant::now();
        let tree = build_tree(bigdir, false);
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 96 << 20, args, Some(tree.dir.path()));
        if name.starts_with("tea") {
            run(std::process::Command::new("tune2fs")
                .args(["-E", "hash_alg=tea"])
                .arg(&img));
        }
        index_dirs(&tools, &img);
        check_image(&tools, &img, &tree, levels);
        eprintln!("case {name:>14}: ok in {:?}", t0.elapsed());
    }
}

/// Fill results are what `ext4_htree_fill_tree()` gives: the start hash
/// filters names, and a start past the last name fills nothing.
#[test]
fn fill_from_the_end_is_empty() {
    let Some(tools) = tools() else { return };
    if tools.e2fsck.is_none() {
        return;
    }
    let tree = build_tree(800, false);
    let work = TempDir::new("fill-end");
    let img = work.path().join("fs.img");
    mkfs(
        &tools,
        &img,
        64 << 20,
        &["-N", "4096"],
        Some(tree.dir.path()),
    );
    index_dirs(&tools, &img);
    let im = Image::open(&img);
    let ino = im.namei("/bigdir").unwrap();
    let (_, inode) = im.inode(ino);
    let mut reader = Reader {
        im: &im,
        ino,
        inode,
        reads: 0,
    };
    let how = DirHashing {
        geo: &im.geo,
        indexed: true,
    };
    let mut batch = Batch::default();
    // mkfs picks a new hash seed each run: name it in every failure, so a
    // rare layout can be rebuilt (mkfs -E hash_seed=...).
    let seed = im.geo.hash_seed;
    let r = fill_batch(&mut reader, how, (u32::MAX - 1, u32::MAX), &mut batch).unwrap();
    assert_eq!(
        r,
        Fill::Filled {
            count: 0,
            next_hash: !0
        },
        "hash seed {seed:08x?}"
    );
    // From hash 3 on: neither '.' nor '..', and the first leaf's names.
    batch.clear();
    let r = fill_batch(&mut reader, how, (3, 0), &mut batch).unwrap();
    let Fill::Filled { count, next_hash } = r else {
        panic!("{r:?}, hash seed {seed:08x?}")
    };
    assert!(
        count > 10 && next_hash != !0 && next_hash & 1 == 0,
        "{r:?}, hash seed {seed:08x?}"
    );
    assert!(
        batch
            .fnames
            .iter()
            .all(|f| (f.hash, f.minor) >= (3, 0) && f.hash < next_hash),
        "hash seed {seed:08x?}"
    );
}
