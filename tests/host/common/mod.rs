// SPDX-License-Identifier: GPL-2.0

//! Shared helpers for the host integration tests: locating e2fsprogs, a tiny
//! temporary-directory guard, building images with `mkfs.ext4 -d`, running
//! `debugfs`/`dumpe2fs` and parsing their output, and a minimal userspace
//! ext4 reader built only on `rext4_core::ondisk`. The reader is deliberately
//! naive (whole blocks through `pread`, no caching) so that what it decodes is
//! a direct test of the parsers, compared against e2fsprogs as the oracle.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rext4_core::ondisk::crc::ext4_inode_csum_seed;
use rext4_core::ondisk::dir::{ext4_dirblock_csum_verify, DirBlockIter};
use rext4_core::ondisk::extent::{ext4_extent_block_csum_verify, ExtentNode, LeafLookup, NodeKind};
use rext4_core::ondisk::features::EXT4_FEATURE_COMPAT_HAS_JOURNAL;
use rext4_core::ondisk::group_desc::{ext4_group_desc_csum_verify, GroupDesc};
use rext4_core::ondisk::hash::{effective_hash_version, ext4fs_dirhash};
use rext4_core::ondisk::htree::{ext4_dx_csum_verify, DxNode, DxRoot};
use rext4_core::ondisk::indirect::{block_to_path, indirect_entry};
use rext4_core::ondisk::inode::{ext4_inode_csum_verify, Inode, EXT4_EXTENTS_FL, EXT4_INDEX_FL};
use rext4_core::ondisk::superblock::{Geometry, Superblock};
use rext4_core::ondisk::system_zone::{group_zones, normalize, Zone};
use rext4_core::ondisk::Error;

/// Paths of the e2fsprogs tools the tests drive.
#[derive(Clone, Debug)]
pub struct Tools {
    pub mkfs: PathBuf,
    pub debugfs: PathBuf,
    pub dumpe2fs: PathBuf,
    pub e2fsck: Option<PathBuf>,
}

fn find_tool(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(
        ["/usr/sbin", "/sbin", "/usr/local/sbin"]
            .iter()
            .map(PathBuf::from),
    );
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The tools, or `None` after printing why the test is skipped.
pub fn tools() -> Option<Tools> {
    let mkfs = find_tool("mkfs.ext4");
    let debugfs = find_tool("debugfs");
    let dumpe2fs = find_tool("dumpe2fs");
    match (mkfs, debugfs, dumpe2fs) {
        (Some(mkfs), Some(debugfs), Some(dumpe2fs)) => Some(Tools {
            mkfs,
            debugfs,
            dumpe2fs,
            e2fsck: find_tool("e2fsck"),
        }),
        _ => {
            eprintln!("SKIPPED: mkfs.ext4/debugfs/dumpe2fs not found (install e2fsprogs)");
            None
        }
    }
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("rext4-test-{}-{}-{}", tag, std::process::id(), n));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("REXT4_KEEP_TEMP").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs a command, panicking with its output on failure.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Creates a sparse image of `size` bytes and runs `mkfs.ext4 -F -q` on it
/// with extra `args`, populated from `tree` if given.
pub fn mkfs(tools: &Tools, img: &Path, size: u64, args: &[&str], tree: Option<&Path>) {
    let f = File::create(img).expect("create image");
    f.set_len(size).expect("size image");
    drop(f);
    let mut cmd = Command::new(&tools.mkfs);
    cmd.arg("-F").arg("-q");
    // Fixed UUID and hash seed would hide seed handling bugs; leave them random
    // but make the run reproducible in time-dependent fields.
    cmd.env("E2FSPROGS_FAKE_TIME", "1700000000");
    cmd.args(args);
    if let Some(t) = tree {
        cmd.arg("-d").arg(t);
    }
    cmd.arg(img);
    run(&mut cmd);
}

/// Runs debugfs requests (one per line) on an image and returns stdout.
pub fn debugfs(tools: &Tools, img: &Path, requests: &[String], write: bool) -> String {
    let dir = img.parent().unwrap_or(Path::new("."));
    let cmdfile = dir.join(format!("debugfs-cmds-{}", std::process::id()));
    fs::write(&cmdfile, requests.join("\n") + "\n").expect("write debugfs commands");
    let mut cmd = Command::new(&tools.debugfs);
    if write {
        cmd.arg("-w");
    }
    cmd.arg("-f").arg(&cmdfile).arg(img);
    let out = run(&mut cmd);
    let _ = fs::remove_file(&cmdfile);
    out
}

/// Splits batched debugfs output into the output of each request, keyed by
/// the request text (debugfs echoes `debugfs: <request>` before each).
pub fn split_debugfs(out: &str) -> Vec<(String, String)> {
    let mut res: Vec<(String, String)> = Vec::new();
    for line in out.lines() {
        if let Some(req) = line.strip_prefix("debugfs: ") {
            res.push((req.to_string(), String::new()));
        } else if let Some(last) = res.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    res
}

/// `dumpe2fs -h` key/value pairs.
pub fn dumpe2fs_header(tools: &Tools, img: &Path) -> BTreeMap<String, String> {
    let out = run(Command::new(&tools.dumpe2fs).arg("-h").arg(img));
    parse_kv(&out)
}

pub fn parse_kv(out: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in out.lines() {
        if let Some((k, v)) = line.split_once(':') {
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    map
}

/// One group as `dumpe2fs` prints it.
#[derive(Debug, Default, Clone)]
pub struct DumpGroup {
    pub csum: Option<u16>,
    pub flags: String,
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub free_blocks: u32,
    pub free_inodes: u32,
    pub dirs: u32,
}

pub fn dumpe2fs_groups(tools: &Tools, img: &Path) -> Vec<DumpGroup> {
    let out = run(Command::new(&tools.dumpe2fs).arg(img));
    let mut groups: Vec<DumpGroup> = Vec::new();
    let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("Group ") && t.contains("(Blocks") {
            let mut g = DumpGroup::default();
            if let Some(pos) = t.find("csum 0x") {
                let v = t[pos + 5..].split_whitespace().next().unwrap();
                g.csum = Some(hex(v) as u16);
            }
            if let Some(pos) = t.find('[') {
                g.flags = t[pos..].to_string();
            }
            groups.push(g);
        } else if let Some(rest) = t.strip_prefix("Block bitmap at ") {
            groups.last_mut().unwrap().block_bitmap =
                rest.split_whitespace().next().unwrap().parse().unwrap();
        } else if let Some(rest) = t.strip_prefix("Inode bitmap at ") {
            groups.last_mut().unwrap().inode_bitmap =
                rest.split_whitespace().next().unwrap().parse().unwrap();
        } else if let Some(rest) = t.strip_prefix("Inode table at ") {
            let range = rest.split_whitespace().next().unwrap();
            groups.last_mut().unwrap().inode_table =
                range.split('-').next().unwrap().parse().unwrap();
        } else if t.contains("free blocks,") && t.contains("directories") {
            let nums: Vec<u32> = t
                .split(',')
                .map(|p| p.split_whitespace().next().unwrap().parse().unwrap())
                .collect();
            let g = groups.last_mut().unwrap();
            g.free_blocks = nums[0];
            g.free_inodes = nums[1];
            g.dirs = nums[2];
        }
    }
    groups
}

/// Minimal reader over an image file using only the ondisk parsers.
pub struct Image {
    pub file: File,
    pub sb: Superblock,
    pub geo: Geometry,
    /// Count of metadata checksums verified (to prove they were exercised).
    pub csums_checked: std::cell::Cell<u64>,
}

impl Image {
    pub fn open(path: &Path) -> Image {
        Image::from_file(File::open(path).expect("open image"))
    }

    /// A reader over an already open image file (a clone of the handle).
    pub fn open_rw(file: &File) -> Image {
        Image::from_file(file.try_clone().expect("clone image handle"))
    }

    fn from_file(file: File) -> Image {
        let mut raw = vec![0u8; 1024];
        file.read_exact_at(&mut raw, 1024).expect("read superblock");
        let sb = Superblock::parse(&raw).expect("superblock parses");
        let geo = sb.validate().expect("superblock validates");
        sb.check_features(false).expect("features supported");
        Image {
            file,
            sb,
            geo,
            csums_checked: std::cell::Cell::new(0),
        }
    }

    fn bump(&self) {
        self.csums_checked.set(self.csums_checked.get() + 1);
    }

    pub fn bs(&self) -> usize {
        self.geo.block_size as usize
    }

    pub fn read_block(&self, blk: u64) -> Vec<u8> {
        assert!(blk < self.geo.blocks_count, "block {blk} out of range");
        let mut buf = vec![0u8; self.bs()];
        self.file
            .read_exact_at(&mut buf, blk * self.geo.block_size as u64)
            .expect("read block");
        buf
    }

    /// Raw descriptor bytes and decoded descriptor; checksum verified.
    pub fn group_desc(&self, group: u32) -> (Vec<u8>, GroupDesc) {
        let loc = self.geo.group_desc_location(group).expect("gd location");
        let block = self.read_block(loc.block);
        let off = loc.offset as usize;
        let raw = block[off..off + self.geo.desc_size as usize].to_vec();
        ext4_group_desc_csum_verify(&self.geo, group, &raw).expect("gd checksum");
        self.bump();
        let gd = GroupDesc::parse(&raw, &self.geo).expect("gd parses");
        (raw, gd)
    }

    /// Raw inode bytes and decoded inode; checksum verified.
    pub fn inode(&self, ino: u32) -> (Vec<u8>, Inode) {
        let loc = self.geo.inode_location(ino).expect("inode location");
        let (_, gd) = self.group_desc(loc.group);
        let block = self.read_block(gd.inode_table() + loc.table_block as u64);
        let off = loc.offset as usize;
        let raw = block[off..off + self.geo.inode_size as usize].to_vec();
        ext4_inode_csum_verify(&raw, &self.geo, ino).expect("inode checksum");
        if self.geo.has_metadata_csum() {
            self.bump();
        }
        let inode = Inode::parse(&raw, &self.geo).expect("inode parses");
        (raw, inode)
    }

    /// Raw inode bytes as stored, nothing checked (for tests of the checks).
    pub fn raw_inode(&self, ino: u32) -> Vec<u8> {
        let loc = self.geo.inode_location(ino).expect("inode location");
        let (_, gd) = self.group_desc(loc.group);
        let block = self.read_block(gd.inode_table() + loc.table_block as u64);
        let off = loc.offset as usize;
        block[off..off + self.geo.inode_size as usize].to_vec()
    }

    /// Byte offset of inode `ino` in the image file.
    pub fn inode_offset(&self, ino: u32) -> u64 {
        let loc = self.geo.inode_location(ino).expect("inode location");
        let (_, gd) = self.group_desc(loc.group);
        (gd.inode_table() + loc.table_block as u64) * self.geo.block_size as u64 + loc.offset as u64
    }

    /// The file system's metadata zones (`block_validity`): group metadata
    /// from the descriptors, and the journal's blocks.
    pub fn system_zones(&self) -> Vec<Zone> {
        let mut zones = Vec::new();
        for g in 0..self.geo.groups_count {
            let (_, gd) = self.group_desc(g);
            zones.extend(
                group_zones(&self.geo, g, &gd)
                    .unwrap()
                    .into_iter()
                    .flatten(),
            );
        }
        let jino = self.sb.s_journal_inum;
        if self.geo.has_compat(EXT4_FEATURE_COMPAT_HAS_JOURNAL) && jino != 0 {
            let (_, inode) = self.inode(jino);
            for (_, pblk, len, _) in self.mapped_runs(jino, &inode) {
                zones.push(Zone {
                    start: pblk,
                    count: len,
                    ino: jino,
                });
            }
        }
        let n = normalize(&mut zones).unwrap();
        zones.truncate(n);
        zones
    }

    pub fn inode_seed(&self, ino: u32, inode: &Inode) -> u32 {
        ext4_inode_csum_seed(self.geo.csum_seed, ino, inode.i_generation)
    }

    /// Maps a logical block of an inode, `None` for a hole.
    pub fn bmap(&self, ino: u32, inode: &Inode, lblk: u32) -> Option<u64> {
        if inode.has_flag(EXT4_EXTENTS_FL) {
            let seed = self.inode_seed(ino, inode);
            let mut node_buf = inode.i_block.to_vec();
            let mut kind = NodeKind::Root;
            let mut parent: Option<(u16, rext4_core::ondisk::extent::ExtentIdx)> = None;
            loop {
                let node = ExtentNode::parse(&node_buf, kind, &self.geo).expect("extent node");
                if kind == NodeKind::Block && self.geo.has_metadata_csum() {
                    ext4_extent_block_csum_verify(&node_buf, seed).expect("extent block csum");
                    self.bump();
                }
                if let Some((pdepth, idx)) = parent {
                    node.check_child_of(pdepth, &idx).expect("child consistent");
                }
                if node.is_leaf() {
                    return match node.lookup_leaf(lblk).expect("leaf lookup") {
                        LeafLookup::Mapped(ext) => {
                            if ext.is_unwritten() {
                                None
                            } else {
                                ext.map(lblk)
                            }
                        }
                        LeafLookup::Hole { .. } => None,
                    };
                }
                if node.entries() == 0 {
                    return None;
                }
                let found = node.lookup_index(lblk).expect("index lookup");
                if lblk < found.child.ei_block {
                    return None;
                }
                parent = Some((node.depth(), found.child));
                node_buf = self.read_block(found.child.leaf());
                kind = NodeKind::Block;
            }
        } else {
            let path = match block_to_path(lblk, self.geo.block_size) {
                Ok(p) => p,
                Err(Error::OutOfRange(_)) => return None,
                Err(e) => panic!("{e}"),
            };
            let mut blk = inode.i_block_word(path.offsets[0] as usize).unwrap() as u64;
            for &off in &path.as_slice()[1..] {
                if blk == 0 {
                    return None;
                }
                self.geo
                    .check_block_range(blk, 1)
                    .expect("indirect block in range");
                let b = self.read_block(blk);
                blk = indirect_entry(&b, off).unwrap() as u64;
            }
            (blk != 0).then_some(blk)
        }
    }

    /// Every mapped (logical, physical, unwritten) block run of an inode,
    /// found by walking the whole extent tree or indirect map.
    pub fn mapped_runs(&self, ino: u32, inode: &Inode) -> Vec<(u64, u64, u64, bool)> {
        let mut runs = Vec::new();
        if inode.has_flag(EXT4_EXTENTS_FL) {
            let seed = self.inode_seed(ino, inode);
            self.walk_extent_node(&inode.i_block, NodeKind::Root, None, seed, &mut runs);
        } else {
            let ptrs = (self.bs() / 4) as u64;
            for slot in 0..15u32 {
                let blk = inode.i_block_word(slot as usize).unwrap() as u64;
                if blk == 0 {
                    continue;
                }
                let (base, depth) = match slot {
                    0..=11 => (slot as u64, 0),
                    12 => (12, 1),
                    13 => (12 + ptrs, 2),
                    _ => (12 + ptrs + ptrs * ptrs, 3),
                };
                self.walk_indirect(blk, depth, base, ptrs, &mut runs);
            }
        }
        runs.sort();
        runs
    }

    fn walk_indirect(
        &self,
        blk: u64,
        depth: u32,
        base: u64,
        ptrs: u64,
        runs: &mut Vec<(u64, u64, u64, bool)>,
    ) {
        self.geo
            .check_block_range(blk, 1)
            .expect("mapped block in range");
        if depth == 0 {
            runs.push((base, blk, 1, false));
            return;
        }
        let b = self.read_block(blk);
        let span = ptrs.pow(depth - 1);
        for i in 0..ptrs as u32 {
            let child = indirect_entry(&b, i).unwrap() as u64;
            if child != 0 {
                self.walk_indirect(child, depth - 1, base + i as u64 * span, ptrs, runs);
            }
        }
    }

    fn walk_extent_node(
        &self,
        buf: &[u8],
        kind: NodeKind,
        parent: Option<(u16, rext4_core::ondisk::extent::ExtentIdx)>,
        seed: u32,
        runs: &mut Vec<(u64, u64, u64, bool)>,
    ) {
        let node = ExtentNode::parse(buf, kind, &self.geo).expect("extent node");
        if kind == NodeKind::Block && self.geo.has_metadata_csum() {
            ext4_extent_block_csum_verify(buf, seed).expect("extent block csum");
            self.bump();
        }
        if let Some((pdepth, idx)) = parent {
            node.check_child_of(pdepth, &idx)
                .expect("child consistent with parent");
        }
        if node.is_leaf() {
            for e in node.extents() {
                let e = e.unwrap();
                runs.push((
                    e.ee_block as u64,
                    e.pblock(),
                    e.len() as u64,
                    e.is_unwritten(),
                ));
            }
        } else {
            for idx in node.indices() {
                let idx = idx.unwrap();
                let child = self.read_block(idx.leaf());
                self.walk_extent_node(
                    &child,
                    NodeKind::Block,
                    Some((node.depth(), idx)),
                    seed,
                    runs,
                );
            }
        }
    }

    /// Reads a whole (small) file.
    pub fn read_file(&self, ino: u32) -> Vec<u8> {
        let (_, inode) = self.inode(ino);
        let size = inode.size(&self.geo).unwrap() as usize;
        let bs = self.bs();
        let mut out = vec![0u8; size.div_ceil(bs) * bs];
        for (l, p, n, unwritten) in self.mapped_runs(ino, &inode) {
            if unwritten {
                continue;
            }
            for i in 0..n {
                let off = ((l + i) as usize) * bs;
                if off >= out.len() {
                    break;
                }
                out[off..off + bs].copy_from_slice(&self.read_block(p + i));
            }
        }
        out.truncate(size);
        out
    }

    /// Whether a directory inode uses an htree.
    pub fn is_htree(&self, inode: &Inode) -> bool {
        inode.has_flag(EXT4_INDEX_FL)
    }

    /// Reads logical directory block `lblk` and verifies its checksum.
    pub fn dir_block(&self, ino: u32, inode: &Inode, lblk: u32) -> Vec<u8> {
        let p = self.bmap(ino, inode, lblk).expect("directory block mapped");
        self.read_block(p)
    }

    /// All live entries of a directory, linear scan of every block (index
    /// blocks look like one empty entry, so they are skipped naturally).
    pub fn list_dir(&self, ino: u32) -> Vec<(Vec<u8>, u32, u8)> {
        let (_, inode) = self.inode(ino);
        let size = inode.size(&self.geo).unwrap();
        let nblocks = size / self.bs() as u64;
        let seed = self.inode_seed(ino, &inode);
        let mut out = Vec::new();
        for lblk in 0..nblocks {
            let block = self.dir_block(ino, &inode, lblk as u32);
            let is_index =
                self.is_htree(&inode) && (lblk == 0 || DxNode::parse(&block, &self.geo).is_ok());
            if self.geo.has_metadata_csum() {
                if is_index {
                    ext4_dx_csum_verify(&block, seed).expect("dx csum");
                } else {
                    ext4_dirblock_csum_verify(&block, seed).expect("dirblock csum");
                }
                self.bump();
            }
            if is_index && lblk != 0 {
                continue;
            }
            for e in DirBlockIter::for_fs(&block, &self.geo) {
                let e = e.expect("valid dir entry");
                if e.inode != 0 {
                    out.push((e.name.to_vec(), e.inode, e.file_type));
                }
            }
        }
        out
    }

    /// Looks a name up through the htree (`dx_probe` + leaf search),
    /// following hash collisions into the next leaf.
    pub fn htree_lookup(&self, dir_ino: u32, name: &[u8]) -> Option<u32> {
        let (_, inode) = self.inode(dir_ino);
        let seed = self.inode_seed(dir_ino, &inode);
        let root_block = self.dir_block(dir_ino, &inode, 0);
        let root = DxRoot::parse(&root_block, &self.geo).expect("dx_root");
        let version = effective_hash_version(root.info.hash_version, self.geo.hash_unsigned);
        let hash = ext4fs_dirhash(name, version, &self.geo.hash_seed)
            .expect("hash")
            .hash;
        // Collect (entries-block, chosen index) per level.
        let mut levels: Vec<(Vec<u8>, u16)> = Vec::new();
        let mut entries_block = root_block.clone();
        let mut is_root = true;
        let mut leaf;
        loop {
            let entries = if is_root {
                DxRoot::parse(&entries_block, &self.geo).unwrap().entries
            } else {
                DxNode::parse(&entries_block, &self.geo)
                    .expect("dx_node")
                    .entries
            };
            if self.geo.has_metadata_csum() {
                ext4_dx_csum_verify(&entries_block, seed).expect("dx csum");
            }
            let l = entries.lookup(hash).unwrap();
            levels.push((entries_block.clone(), l.index));
            if levels.len() as u8 > root.info.indirect_levels {
                leaf = l.block;
                break;
            }
            entries_block = self.dir_block(dir_ino, &inode, l.block);
            is_root = false;
        }
        loop {
            let block = self.dir_block(dir_ino, &inode, leaf);
            if self.geo.has_metadata_csum() {
                ext4_dirblock_csum_verify(&block, seed).expect("leaf csum");
            }
            for e in DirBlockIter::for_fs(&block, &self.geo) {
                let e = e.unwrap();
                if e.inode != 0 && e.name == name {
                    return Some(e.inode);
                }
            }
            // ext4_htree_next_block(): continue only if the next leaf starts
            // with the same hash (collision bit set).
            let (blk, idx) = levels.last().unwrap().clone();
            let entries = if levels.len() == 1 {
                DxRoot::parse(&blk, &self.geo).unwrap().entries
            } else {
                DxNode::parse(&blk, &self.geo).unwrap().entries
            };
            let next = idx + 1;
            if next >= entries.count() {
                // Would need to climb a level; names in these tests do not
                // collide across index nodes, so treat as not found.
                return None;
            }
            let e = entries.get(next).unwrap();
            if e.hash & !1 != hash {
                return None;
            }
            levels.last_mut().unwrap().1 = next;
            leaf = e.block;
        }
    }

    /// Resolves an absolute path by linear directory scans.
    pub fn namei(&self, path: &str) -> Option<u32> {
        let mut ino = 2;
        for comp in path.split('/').filter(|c| !c.is_empty()) {
            ino = self
                .list_dir(ino)
                .into_iter()
                .find(|(n, _, _)| n == comp.as_bytes())
                .map(|(_, i, _)| i)?;
        }
        Some(ino)
    }
}

/// What the test tree builder put in one regular file: total size and the
/// non-zero chunks (everything else is a hole or zeroes).
#[derive(Clone, Debug)]
pub struct FileSpec {
    pub rel: String,
    pub size: u64,
    pub chunks: Vec<(u64, Vec<u8>)>,
}

/// Expected extended attributes of one path: (full name, value).
#[derive(Clone, Debug)]
pub struct XattrSpec {
    pub rel: String,
    pub attrs: Vec<(String, Vec<u8>)>,
}

/// The populated source tree and what it should contain.
pub struct Tree {
    pub dir: TempDir,
    pub files: Vec<FileSpec>,
    pub xattrs: Vec<XattrSpec>,
    pub bigdir_names: Vec<String>,
}

/// Deterministic PRNG (SplitMix64): test data and mutations must be
/// reproducible without a crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn setfattr(path: &Path, name: &str, value: &[u8]) -> bool {
    // Values are passed hex-encoded so binary data survives the shell-less call.
    let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
    Command::new("setfattr")
        .arg("-n")
        .arg(name)
        .arg("-v")
        .arg(format!("0x{hex}"))
        .arg(path)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn is_root() -> bool {
    run(Command::new("id").arg("-u")).trim() == "0"
}

/// Builds the source tree every image test populates from. `bigdir` is the
/// number of entries in the htree directory (0 to leave it out); `sparse_far`
/// adds a file with data at 5 GiB (needs a triple-indirect block on ext3).
pub fn build_tree(bigdir: usize, sparse_far: bool) -> Tree {
    let dir = TempDir::new("tree");
    let root = dir.path().to_path_buf();
    let mut rng = Rng(0x5EED);
    let mut files = Vec::new();
    let mut add = |rel: &str, size: u64, chunks: Vec<(u64, Vec<u8>)>| {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let f = File::create(&p).unwrap();
        f.set_len(size).unwrap();
        for (off, data) in &chunks {
            f.write_all_at(data, *off).unwrap();
        }
        files.push(FileSpec {
            rel: rel.to_string(),
            size,
            chunks,
        });
    };
    add("empty", 0, vec![]);
    add("one", 1, vec![(0, b"x".to_vec())]);
    add(
        "small.txt",
        100,
        vec![(0, b"hello world\n".repeat(9)[..100].to_vec())],
    );
    add("exact4k", 4096, vec![(0, rng.bytes(4096))]);
    add(
        "medium.bin",
        300 * 1024 + 7,
        vec![(0, rng.bytes(300 * 1024 + 7))],
    );
    add("big.bin", 3 << 20, vec![(0, rng.bytes(3 << 20))]);
    // 1500 isolated chunks: 1500 extents, a depth-2 tree with 4 KiB blocks.
    let chunks: Vec<(u64, Vec<u8>)> = (0..1500u64)
        .map(|i| (i * 16384 + 17, rng.bytes(100)))
        .collect();
    add("sparse_many", 1500 * 16384, chunks);
    if sparse_far {
        let far = vec![
            (0, b"start".to_vec()),
            (70 << 20, rng.bytes(3000)),
            ((5u64 << 30) + 12345, rng.bytes(5000)),
        ];
        add("sparse_far", (5u64 << 30) + 20000, far);
    }
    add(
        "sub/dir/nested/deep.txt",
        9,
        vec![(0, b"deep file".to_vec())],
    );
    add("hardlink_a", 5, vec![(0, b"links".to_vec())]);
    fs::hard_link(root.join("hardlink_a"), root.join("hardlink_b")).unwrap();
    add("owned", 6, vec![(0, b"owned!".to_vec())]);
    std::os::unix::fs::symlink("small.txt", root.join("fast_link")).unwrap();
    let long_target = format!("{}/target", "a_rather_long_directory_name".repeat(8));
    std::os::unix::fs::symlink(&long_target, root.join("slow_link")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(root.join("owned"), fs::Permissions::from_mode(0o4751)).unwrap();
    }
    let root_user = is_root();
    if root_user {
        run(Command::new("chown")
            .arg("100000:200000")
            .arg(root.join("owned")));
        run(Command::new("mknod")
            .arg(root.join("char_dev"))
            .arg("c")
            .arg("1")
            .arg("3"));
        run(Command::new("mknod")
            .arg(root.join("block_dev"))
            .arg("b")
            .arg("259")
            .arg("300000"));
    }
    run(Command::new("mkfifo").arg(root.join("fifo")));

    // Extended attributes: small ones stay in the inode, a large one forces
    // an external block.
    let mut xattrs = Vec::new();
    add("xattr_small", 3, vec![(0, b"abc".to_vec())]);
    add("xattr_big", 3, vec![(0, b"def".to_vec())]);
    let mut small = vec![
        ("user.a".to_string(), b"1".to_vec()),
        ("user.hello".to_string(), b"world".to_vec()),
    ];
    let mut big = vec![
        ("user.big".to_string(), rng.bytes(700)),
        ("user.other".to_string(), b"x".repeat(40)),
    ];
    if root_user {
        small.push(("trusted.t".to_string(), b"tv".to_vec()));
        big.push(("security.s".to_string(), b"sec".to_vec()));
    }
    let mut have_setfattr = true;
    for (rel, attrs) in [("xattr_small", &small), ("xattr_big", &big)] {
        for (n, v) in attrs.iter() {
            if !setfattr(&root.join(rel), n, v) {
                have_setfattr = false;
            }
        }
    }
    if have_setfattr {
        xattrs.push(XattrSpec {
            rel: "xattr_small".into(),
            attrs: small,
        });
        xattrs.push(XattrSpec {
            rel: "xattr_big".into(),
            attrs: big,
        });
    } else {
        eprintln!("note: setfattr unavailable or failed; xattr checks skipped");
    }

    let mut bigdir_names = Vec::new();
    if bigdir > 0 {
        fs::create_dir_all(root.join("bigdir")).unwrap();
        for i in 0..bigdir {
            // Mix in non-ASCII names so signed and unsigned hashes differ.
            let name = match i % 7 {
                0 => format!("entry_{i:05}_ünïcødé"),
                1 => format!("E{i}"),
                2 => format!("{}_{i}", "long_name_component".repeat(1 + i % 11)),
                _ => format!("entry_{i:05}"),
            };
            File::create(root.join("bigdir").join(&name)).unwrap();
            bigdir_names.push(name);
        }
    }
    Tree {
        dir,
        files,
        xattrs,
        bigdir_names,
    }
}

/// The host's transaction: blocks read from the image, changed in memory,
/// written back at commit. It refuses to hand out data for a block it was
/// not asked to read, as jbd2 refuses a change without write access.
pub struct ImageTrans {
    file: File,
    bs: u64,
    blocks: BTreeMap<u64, Vec<u8>>,
    dirty: BTreeSet<u64>,
    /// Blocks freed in this transaction: not handed out again before it
    /// commits (the rule the kernel's jbd2 transaction follows).
    pub freed: BTreeSet<u64>,
}

impl ImageTrans {
    pub fn new(img: &Path, geo: &Geometry) -> ImageTrans {
        ImageTrans {
            file: OpenOptions::new().read(true).write(true).open(img).unwrap(),
            bs: u64::from(geo.block_size),
            blocks: BTreeMap::new(),
            dirty: BTreeSet::new(),
            freed: BTreeSet::new(),
        }
    }

    /// Writes the changed blocks, then the super block's free counts as
    /// the group descriptors now sum them (what `ext4_commit_super()` writes
    /// from ext4's counters, so e2fsck finds no summary to correct).
    pub fn commit(self) -> usize {
        for b in &self.dirty {
            self.file
                .write_all_at(&self.blocks[b], b * self.bs)
                .unwrap();
        }
        let im = Image::open_rw(&self.file);
        let (mut fb, mut fi) = (0u64, 0u64);
        for g in 0..im.geo.groups_count {
            let (_, gd) = im.group_desc(g);
            fb += u64::from(gd.free_blocks_count());
            fi += u64::from(gd.free_inodes_count());
        }
        let mut raw = vec![0u8; 1024];
        self.file.read_exact_at(&mut raw, 1024).unwrap();
        rext4_core::ondisk::superblock::set_free_counts(&mut raw, fb, fi as u32).unwrap();
        self.file.write_all_at(&raw, 1024).unwrap();
        self.file.sync_all().unwrap();
        self.dirty.len()
    }
}

impl rext4_core::libext4::trans::Trans for ImageTrans {
    type Buf = u64;

    fn bread(&mut self, blk: u64) -> rext4_core::ondisk::Result<u64> {
        if !self.blocks.contains_key(&blk) {
            let mut buf = vec![0u8; self.bs as usize];
            self.file
                .read_exact_at(&mut buf, blk * self.bs)
                .map_err(|_| Error::Corrupt("read"))?;
            self.blocks.insert(blk, buf);
        }
        Ok(blk)
    }

    fn new_block(&mut self, blk: u64) -> rext4_core::ondisk::Result<u64> {
        self.blocks.insert(blk, vec![0u8; self.bs as usize]);
        Ok(blk)
    }

    fn data<'a>(&'a self, b: &'a u64) -> &'a [u8] {
        &self.blocks[b]
    }

    fn edit<R>(
        &mut self,
        b: &u64,
        f: impl FnOnce(&mut [u8]) -> R,
    ) -> rext4_core::ondisk::Result<R> {
        let buf = self
            .blocks
            .get_mut(b)
            .ok_or(Error::Corrupt("edit without read"))?;
        self.dirty.insert(*b);
        Ok(f(buf))
    }

    fn freed(&mut self, start: u64, len: u64) -> rext4_core::ondisk::Result<()> {
        self.freed.extend(start..start + len);
        Ok(())
    }

    fn pending_until(&mut self, blk: u64) -> Option<u64> {
        self.freed.contains(&blk).then_some(blk + 1)
    }
}

/// e2fsck -fn's `kind` ("Block" or "Inode") bitmap differences: (marked
/// used but free, marked free but used), and its whole output.
pub fn e2fsck_bitmap_differences(
    tools: &Tools,
    img: &Path,
    kind: &str,
) -> (
    std::collections::BTreeSet<u64>,
    std::collections::BTreeSet<u64>,
    String,
) {
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let out = Command::new(e2fsck).arg("-fn").arg(img).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (mut minus, mut plus) = (
        std::collections::BTreeSet::new(),
        std::collections::BTreeSet::new(),
    );
    let heading = format!("{kind} bitmap differences:");
    if let Some(at) = text.find(&heading) {
        let list = &text[at + heading.len()..];
        let list = &list[..list.find("Fix?").unwrap_or(list.len())];
        for tok in list.split_whitespace() {
            let (set, rest) = match tok.as_bytes().first() {
                Some(b'-') => (&mut minus, &tok[1..]),
                Some(b'+') => (&mut plus, &tok[1..]),
                _ => panic!("unexpected token {tok:?} in {heading}"),
            };
            let rest = rest.trim_start_matches('(').trim_end_matches(')');
            let (a, b) = match rest.split_once("--") {
                Some((a, b)) => (a.parse::<u64>().unwrap(), b.parse::<u64>().unwrap()),
                None => (rest.parse::<u64>().unwrap(), rest.parse::<u64>().unwrap()),
            };
            set.extend(a..=b);
        }
    }
    (minus, plus, text)
}

/// e2fsck -fn finds nothing at all: exit 0 and not one question asked (a
/// "Fix? no" can still exit 0, for summary counts e2fsck may correct
/// silently in other modes).
pub fn assert_e2fsck_clean(tools: &Tools, img: &Path, what: &str) {
    let e2fsck = tools.e2fsck.as_ref().expect("e2fsck");
    let out = Command::new(e2fsck).arg("-fn").arg(img).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(0) && !text.contains("Fix?") && !text.contains("wrong"),
        "{what}: e2fsck -fn: {text}"
    );
}
