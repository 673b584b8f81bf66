// SPDX-License-Identifier: GPL-2.0

//! Targeted corruption of every structure taken from a real `mkfs.ext4`
//! image: a flipped bit must surface as `BadChecksum`, and a semantic error
//! whose checksum has been recomputed must surface as the specific `Corrupt`
//! or `Unsupported` error, never as a panic or a silent success.

mod common;

use common::*;
use rext4_core::ondisk::crc::ext4_chksum;
use rext4_core::ondisk::dir::{ext4_dirblock_csum, ext4_dirblock_csum_verify, DirBlockIter};
use rext4_core::ondisk::extent::{
    ext4_extent_block_csum, ext4_extent_block_csum_verify, ExtentNode, NodeKind,
};
use rext4_core::ondisk::features::*;
use rext4_core::ondisk::group_desc::{
    ext4_group_desc_csum, ext4_group_desc_csum_verify, GroupDesc,
};
use rext4_core::ondisk::htree::{ext4_dx_csum, ext4_dx_csum_verify, DxNode, DxRoot};
use rext4_core::ondisk::inode::{ext4_inode_csum_verify, Inode};
use rext4_core::ondisk::jbd2::{jsb_csum, needs_recovery, JournalSuperblock};
use rext4_core::ondisk::superblock::{ext4_superblock_csum, Superblock};
use rext4_core::ondisk::xattr::{ext4_xattr_block_csum, ext4_xattr_block_csum_verify, XattrList};
use rext4_core::ondisk::Error;

fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

struct Fixture {
    _work: TempDir,
    _tree: Tree,
    im: Image,
}

fn fixture() -> Option<Fixture> {
    let tools = tools()?;
    let tree = build_tree(600, false);
    let work = TempDir::new("corrupt");
    let img = work.path().join("fs.img");
    mkfs(
        &tools,
        &img,
        64 << 20,
        &["-b", "1024", "-N", "4096"],
        Some(tree.dir.path()),
    );
    let st = std::process::Command::new(tools.e2fsck.as_ref()?)
        .arg("-fyD")
        .arg(&img)
        .output()
        .ok()?;
    assert!(matches!(st.status.code(), Some(0) | Some(1)));
    let im = Image::open(&img);
    Some(Fixture {
        _work: work,
        _tree: tree,
        im,
    })
}

#[test]
fn corruptions_are_reported() {
    let Some(f) = fixture() else { return };
    let im = &f.im;
    let geo = &im.geo;
    assert!(geo.has_metadata_csum());

    // --- superblock -------------------------------------------------------
    let mut raw = vec![0u8; 1024];
    std::os::unix::fs::FileExt::read_exact_at(&im.file, &mut raw, 1024).unwrap();
    let resum = |b: &mut Vec<u8>| {
        let c = ext4_superblock_csum(b).unwrap();
        put32(b, 0x3FC, c);
    };
    let mut b = raw.clone();
    b[0] ^= 1;
    assert_eq!(Superblock::parse(&b), Err(Error::BadChecksum("superblock")));
    let mut b = raw.clone();
    put16(&mut b, 0x38, 0xEF54);
    assert_eq!(Superblock::parse(&b), Err(Error::Corrupt("s_magic")));
    assert!(matches!(
        Superblock::parse(&raw[..1000]),
        Err(Error::Corrupt(_))
    ));
    let cases: &[(usize, u32, &str)] = &[
        (0x18, 7, "s_log_block_size"),
        (0x20, 0, "s_blocks_per_group"),
        (0x20, 1024 * 8 + 1, "s_blocks_per_group"),
        (0x28, 0, "s_inodes_per_group"),
        (0x00, 12345, "s_inodes_count"),
        (0x14, 0, "s_first_data_block"),
        (0x54, 5, "s_first_ino"),
    ];
    for &(off, v, what) in cases {
        let mut b = raw.clone();
        put32(&mut b, off, v);
        resum(&mut b);
        let sb = Superblock::parse(&b).unwrap();
        assert_eq!(
            sb.validate().err(),
            Some(Error::Corrupt(what)),
            "{what}={v}"
        );
    }
    for (v, what) in [
        (100u16, "s_inode_size"),
        (384, "s_inode_size"),
        (2048, "s_inode_size"),
    ] {
        let mut b = raw.clone();
        put16(&mut b, 0x58, v);
        resum(&mut b);
        assert_eq!(
            Superblock::parse(&b).unwrap().validate().err(),
            Some(Error::Corrupt(what)),
            "{v}"
        );
    }
    for (v, what) in [
        (48u16, "s_desc_size"),
        (96, "s_desc_size"),
        (2048, "s_desc_size"),
    ] {
        let mut b = raw.clone();
        put16(&mut b, 0xFE, v);
        resum(&mut b);
        assert_eq!(
            Superblock::parse(&b).unwrap().validate().err(),
            Some(Error::Corrupt(what)),
            "{v}"
        );
    }
    // Group count overflow: blocks_count huge with 64bit.
    let mut b = raw.clone();
    put32(&mut b, 0x150, 0xFFFF_FFFF);
    resum(&mut b);
    assert!(matches!(
        Superblock::parse(&b).unwrap().validate(),
        Err(Error::Corrupt(_))
    ));
    // Unsupported incompat features are named; RECOVER is not unsupported.
    let sb = Superblock::parse(&raw).unwrap();
    for (bit, name) in [
        (EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data"),
        (EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold"),
        (EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt"),
        (EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode"),
        (EXT4_FEATURE_INCOMPAT_MMP, "mmp"),
        (EXT4_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev"),
        (EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata"),
        (1 << 30, "FEATURE_I30"),
    ] {
        let mut s = sb.clone();
        s.s_feature_incompat |= bit;
        assert_eq!(s.check_features(true), Err(Error::Unsupported(name)));
        assert_eq!(
            s.unsupported_incompat(EXT4_FEATURE_INCOMPAT_SUPP)
                .collect::<Vec<_>>(),
            vec![name]
        );
    }
    let mut s = sb.clone();
    s.s_feature_ro_compat |= EXT4_FEATURE_RO_COMPAT_VERITY;
    assert_eq!(s.check_features(false), Err(Error::Unsupported("verity")));
    assert_eq!(s.check_features(true), Ok(()));
    let mut s = sb.clone();
    s.s_feature_incompat |= EXT4_FEATURE_INCOMPAT_RECOVER;
    assert_eq!(s.check_features(false), Ok(()));
    assert!(needs_recovery(&s, None));
    let mut s = sb.clone();
    s.s_feature_ro_compat |= EXT4_FEATURE_RO_COMPAT_BIGALLOC;
    assert_eq!(s.validate().err(), Some(Error::Unsupported("bigalloc")));

    // --- group descriptors --------------------------------------------------
    let (gd_raw, _) = im.group_desc(1);
    let mut b = gd_raw.clone();
    b[0] ^= 0x10;
    assert_eq!(
        ext4_group_desc_csum_verify(geo, 1, &b),
        Err(Error::BadChecksum("group descriptor"))
    );
    assert_eq!(
        ext4_group_desc_csum_verify(geo, 2, &gd_raw),
        Err(Error::BadChecksum("group descriptor"))
    );
    for (off, v, what) in [
        (0x00usize, 0u32, "bg_block_bitmap"),
        (0x04, u32::MAX, "bg_inode_bitmap"),
        (0x08, (geo.blocks_count - 2) as u32, "bg_inode_table"),
    ] {
        let mut b = gd_raw.clone();
        put32(&mut b, off, v);
        let c = ext4_group_desc_csum(geo, 1, &b).unwrap().unwrap();
        put16(&mut b, 0x1E, c);
        ext4_group_desc_csum_verify(geo, 1, &b).unwrap();
        let gd = GroupDesc::parse(&b, geo).unwrap();
        assert_eq!(gd.check(geo, 1), Err(Error::Corrupt(what)));
    }
    assert!(GroupDesc::parse(&gd_raw[..40], geo).is_err());

    // --- inodes -------------------------------------------------------------
    let ino = im.namei("/small.txt").unwrap();
    let (iraw, _) = im.inode(ino);
    let mut b = iraw.clone();
    b[4] ^= 1; // i_size_lo
    assert_eq!(
        ext4_inode_csum_verify(&b, geo, ino),
        Err(Error::BadChecksum("inode"))
    );
    assert_eq!(
        ext4_inode_csum_verify(&iraw, geo, ino + 1),
        Err(Error::BadChecksum("inode"))
    );
    for v in [3u16, 130, 200] {
        let mut b = iraw.clone();
        put16(&mut b, 0x80, v);
        assert_eq!(
            Inode::parse(&b, geo).err(),
            Some(Error::Corrupt("i_extra_isize")),
            "{v}"
        );
    }
    let mut b = iraw.clone();
    put16(&mut b, 0, 0o170644); // invalid type
    assert!(Inode::parse(&b, geo).unwrap().file_type().is_err());
    assert!(Inode::parse(&iraw[..100], geo).is_err());

    // --- extent tree ----------------------------------------------------------
    let ino = im.namei("/sparse_many").unwrap();
    let (_, inode) = im.inode(ino);
    let seed = im.inode_seed(ino, &inode);
    let root = ExtentNode::parse(&inode.i_block, NodeKind::Root, geo).unwrap();
    assert!(root.depth() >= 1);
    let mut r = inode.i_block;
    put16(&mut r, 0, 0xF30B);
    assert_eq!(
        ExtentNode::parse(&r, NodeKind::Root, geo).err(),
        Some(Error::Corrupt("extent header magic"))
    );
    let mut r = inode.i_block;
    put16(&mut r, 4, 5);
    assert_eq!(
        ExtentNode::parse(&r, NodeKind::Root, geo).err(),
        Some(Error::Corrupt("too large eh_max"))
    );
    let mut r = inode.i_block;
    put16(&mut r, 2, 5);
    assert_eq!(
        ExtentNode::parse(&r, NodeKind::Root, geo).err(),
        Some(Error::Corrupt("invalid eh_entries"))
    );
    let mut r = inode.i_block;
    put16(&mut r, 6, 6);
    assert_eq!(
        ExtentNode::parse(&r, NodeKind::Root, geo).err(),
        Some(Error::Corrupt("extent tree too deep"))
    );
    let mut r = inode.i_block;
    put16(&mut r, 2, 0);
    assert!(matches!(
        ExtentNode::parse(&r, NodeKind::Root, geo),
        Err(Error::Corrupt(_))
    ));
    let first_child = root.index(0).unwrap();
    let mut node = im.read_block(first_child.leaf());
    ext4_extent_block_csum_verify(&node, seed).unwrap();
    let mut b = node.clone();
    b[20] ^= 4;
    assert_eq!(
        ext4_extent_block_csum_verify(&b, seed),
        Err(Error::BadChecksum("extent block"))
    );
    // Descend to a leaf.
    let mut depth = root.depth();
    while depth > 1 {
        let n = ExtentNode::parse(&node, NodeKind::Block, geo).unwrap();
        node = im.read_block(n.index(0).unwrap().leaf());
        depth -= 1;
    }
    let leaf = ExtentNode::parse(&node, NodeKind::Block, geo).unwrap();
    assert!(leaf.is_leaf() && leaf.entries() >= 2);
    let recsum = |b: &mut Vec<u8>| {
        let max = u16::from_le_bytes([b[4], b[5]]) as usize;
        let c = ext4_extent_block_csum(b, seed).unwrap();
        put32(b, 12 + max * 12, c);
    };
    // Overlap: second extent starts inside the first.
    let mut b = node.clone();
    let first_start = u32::from_le_bytes(b[12..16].try_into().unwrap());
    put32(&mut b, 24, first_start);
    recsum(&mut b);
    ext4_extent_block_csum_verify(&b, seed).unwrap();
    assert_eq!(
        ExtentNode::parse(&b, NodeKind::Block, geo).err(),
        Some(Error::Corrupt("overlapping extents"))
    );
    // Physical block past the end of the file system.
    let mut b = node.clone();
    put32(&mut b, 20, geo.blocks_count as u32);
    recsum(&mut b);
    assert_eq!(
        ExtentNode::parse(&b, NodeKind::Block, geo).err(),
        Some(Error::Corrupt("extent physical block out of range"))
    );
    // Zero length, and a logical range that wraps.
    let mut b = node.clone();
    put16(&mut b, 16, 0);
    assert_eq!(
        ExtentNode::parse(&b, NodeKind::Block, geo).err(),
        Some(Error::Corrupt("invalid extent length"))
    );
    let mut b = node.clone();
    let n = u16::from_le_bytes([b[2], b[3]]) as usize;
    put32(&mut b, 12 + (n - 1) * 12, u32::MAX);
    assert_eq!(
        ExtentNode::parse(&b, NodeKind::Block, geo).err(),
        Some(Error::Corrupt("invalid extent length"))
    );
    // Child/parent consistency is the walker's check.
    assert_eq!(
        leaf.check_child_of(5, &first_child),
        Err(Error::Corrupt("unexpected eh_depth"))
    );

    // --- directories --------------------------------------------------------
    let dir = im.namei("/sub").unwrap();
    let (_, dinode) = im.inode(dir);
    let dseed = im.inode_seed(dir, &dinode);
    let block = im.dir_block(dir, &dinode, 0);
    ext4_dirblock_csum_verify(&block, dseed).unwrap();
    let mut b = block.clone();
    b[8] ^= 1;
    assert_eq!(
        ext4_dirblock_csum_verify(&b, dseed),
        Err(Error::BadChecksum("directory block"))
    );
    let last = block.len() - 12;
    let mut b = block.clone();
    b[last + 7] = 0;
    assert!(matches!(
        ext4_dirblock_csum_verify(&b, dseed),
        Err(Error::BadChecksum(_))
    ));
    let dir_err = |b: &[u8]| DirBlockIter::for_fs(b, geo).find_map(|e| e.err());
    assert_eq!(dir_err(&block), None);
    for (rec_len, what) in [
        (8u16, "rec_len is smaller than minimal"),
        // The two low bits of an on-disk rec_len are bits 16-17 of the real
        // length (64 KiB blocks), so a misaligned value decodes as huge.
        (14, "directory entry overrun"),
        (4000, "directory entry overrun"),
    ] {
        let mut b = block.clone();
        put16(&mut b, 4, rec_len);
        assert_eq!(dir_err(&b), Some(Error::Corrupt(what)), "{rec_len}");
    }
    let mut b = block.clone();
    b[6] = 9; // name_len of '.' larger than its 12-byte record
    assert_eq!(
        dir_err(&b),
        Some(Error::Corrupt("rec_len is too small for name_len"))
    );
    let mut b = block.clone();
    put32(&mut b, 0, geo.inodes_count + 1);
    assert_eq!(dir_err(&b), Some(Error::Corrupt("inode out of bounds")));
    let mut b = block.clone();
    let dotdot_len = u16::from_le_bytes([b[16], b[17]]);
    put16(&mut b, 16, dotdot_len - 4); // leave a hole too small for a record
    assert!(dir_err(&b).is_some());

    // --- htree ----------------------------------------------------------------
    let bd = im.namei("/bigdir").unwrap();
    let (_, binode) = im.inode(bd);
    let bseed = im.inode_seed(bd, &binode);
    let root_blk = im.dir_block(bd, &binode, 0);
    DxRoot::parse(&root_blk, geo).unwrap();
    ext4_dx_csum_verify(&root_blk, bseed).unwrap();
    let mut b = root_blk.clone();
    b[40] ^= 1;
    assert_eq!(
        ext4_dx_csum_verify(&b, bseed),
        Err(Error::BadChecksum("htree index block"))
    );
    let redx = |b: &mut Vec<u8>| {
        let limit = u16::from_le_bytes([b[32], b[33]]) as usize;
        let c = ext4_dx_csum(b, bseed).unwrap();
        put32(b, 32 + limit * 8 + 4, c);
    };
    for (off, v, err) in [
        (28usize, 6u8, Error::Unsupported("siphash directory hash")),
        (28, 9, Error::Corrupt("unrecognised dx_root hash version")),
        (29, 12, Error::Corrupt("dx_root_info info_length")),
        (30, 2, Error::Corrupt("htree depth exceeds supported value")),
        (31, 1, Error::Unsupported("dx_root hash flags")),
    ] {
        let mut b = root_blk.clone();
        b[off] = v;
        assert_eq!(DxRoot::parse(&b, geo).err(), Some(err), "byte {off} = {v}");
    }
    let mut b = root_blk.clone();
    put16(&mut b, 34, 0); // count
    redx(&mut b);
    assert_eq!(
        DxRoot::parse(&b, geo).err(),
        Some(Error::Corrupt("dx entry count beyond limit"))
    );
    let mut b = root_blk.clone();
    put16(&mut b, 32, 3); // limit
    assert!(matches!(DxRoot::parse(&b, geo), Err(Error::Corrupt(_))));
    let count = u16::from_le_bytes([root_blk[34], root_blk[35]]);
    if count >= 3 {
        let mut b = root_blk.clone();
        put32(&mut b, 32 + 8, u32::MAX); // hash of slot 1 above slot 2
        redx(&mut b);
        assert_eq!(
            DxRoot::parse(&b, geo).err(),
            Some(Error::Corrupt("dx entries not sorted"))
        );
    }
    assert!(DxNode::parse(&root_blk, geo).is_err());

    // --- xattrs ---------------------------------------------------------------
    let xi = im.namei("/xattr_big").unwrap();
    let (xraw, xinode) = im.inode(xi);
    let acl = xinode.file_acl(geo);
    assert_ne!(acl, 0);
    let xb = im.read_block(acl);
    ext4_xattr_block_csum_verify(&xb, acl, geo).unwrap();
    assert_eq!(
        ext4_xattr_block_csum_verify(&xb, acl + 1, geo),
        Err(Error::BadChecksum("xattr block"))
    );
    let mut b = xb.clone();
    b[40] ^= 1;
    assert_eq!(
        ext4_xattr_block_csum_verify(&b, acl, geo),
        Err(Error::BadChecksum("xattr block"))
    );
    let rexs = |b: &mut Vec<u8>| {
        let c = ext4_xattr_block_csum(b, acl, geo).unwrap();
        put32(b, 16, c);
    };
    let mut b = xb.clone();
    put32(&mut b, 0, 0xEA02_0001);
    assert_eq!(
        XattrList::parse_block(&b, geo).err(),
        Some(Error::Corrupt("xattr block: invalid header"))
    );
    let mut b = xb.clone();
    put32(&mut b, 8, 2);
    assert_eq!(
        XattrList::parse_block(&b, geo).err(),
        Some(Error::Corrupt("xattr block: invalid header"))
    );
    // First entry at 32: value offset past the block, value overlapping the
    // entry table, name running off the block, a value inode without ea_inode.
    let mut b = xb.clone();
    put16(&mut b, 32 + 2, 0xFFF0);
    rexs(&mut b);
    assert!(matches!(
        XattrList::parse_block(&b, geo),
        Err(Error::Corrupt("e_value out of bounds"))
    ));
    let mut b = xb.clone();
    put16(&mut b, 32 + 2, 32);
    assert_eq!(
        XattrList::parse_block(&b, geo).err(),
        Some(Error::Corrupt("overlapping e_value"))
    );
    let mut b = xb.clone();
    put32(&mut b, 32 + 8, 0x10_0000);
    assert!(matches!(
        XattrList::parse_block(&b, geo),
        Err(Error::Corrupt(_))
    ));
    let mut b = xb.clone();
    put32(&mut b, 32 + 4, 12);
    assert_eq!(
        XattrList::parse_block(&b, geo).err(),
        Some(Error::Corrupt(
            "ea_inode specified without ea_inode feature enabled"
        ))
    );
    let mut b = xb.clone();
    for x in &mut b[32..] {
        *x = 0xAA; // no terminator anywhere
    }
    assert!(matches!(
        XattrList::parse_block(&b, geo),
        Err(Error::Corrupt(_))
    ));
    // In-inode area.
    let xs = im.namei("/xattr_small").unwrap();
    let (sraw, sinode) = im.inode(xs);
    let start = 128 + sinode.i_extra_isize as usize;
    let list = XattrList::parse_ibody(&sraw, geo, sinode.i_extra_isize)
        .unwrap()
        .unwrap();
    assert!(list.iter().count() >= 2);
    let mut b = sraw.clone();
    put16(&mut b, start + 4 + 2, 0); // value at the entry table
    assert_eq!(
        XattrList::parse_ibody(&b, geo, sinode.i_extra_isize).err(),
        Some(Error::Corrupt("overlapping e_value"))
    );
    let mut b = sraw.clone();
    b[start + 4] = 200; // name runs past the inode
    assert_eq!(
        XattrList::parse_ibody(&b, geo, sinode.i_extra_isize).err(),
        Some(Error::Corrupt("xattr e_name out of bounds"))
    );
    let mut b = sraw.clone();
    put32(&mut b, start, 0);
    assert!(XattrList::parse_ibody(&b, geo, sinode.i_extra_isize)
        .unwrap()
        .is_none());
    let _ = xraw;

    // --- journal superblock ---------------------------------------------------
    let (_, jinode) = im.inode(8);
    let jblk = im.bmap(8, &jinode, 0).unwrap();
    let jraw = im.read_block(jblk);
    let plain = JournalSuperblock::parse(&jraw).unwrap();
    assert!(plain.is_clean());
    let rej = |b: &mut Vec<u8>| {
        let c = jsb_csum(b).unwrap();
        b[0xFC..0x100].copy_from_slice(&c.to_be_bytes());
    };
    // mkfs leaves journal checksums to the kernel; turn csum v3 on by hand.
    let mut jraw = jraw.clone();
    let inc = u32::from_be_bytes(jraw[0x28..0x2C].try_into().unwrap()) | 0x10;
    jraw[0x28..0x2C].copy_from_slice(&inc.to_be_bytes());
    jraw[0x50] = 4;
    rej(&mut jraw);
    let jsb = JournalSuperblock::parse(&jraw).unwrap();
    assert!(jsb.has_csum_v2or3());
    let mut b = jraw.clone();
    b[0x20] ^= 1;
    assert_eq!(
        JournalSuperblock::parse(&b).err(),
        Some(Error::BadChecksum("journal superblock"))
    );
    let mut b = jraw.clone();
    b[0] = 0;
    assert_eq!(
        JournalSuperblock::parse(&b).err(),
        Some(Error::Corrupt("journal magic"))
    );
    let mut b = jraw.clone();
    b[0x1C..0x20].copy_from_slice(&(jsb.s_first + 3).to_be_bytes()); // s_start
    rej(&mut b);
    let dirty = JournalSuperblock::parse(&b).unwrap();
    assert!(!dirty.is_clean());
    assert!(needs_recovery(&im.sb, Some(&dirty)));
    assert!(!needs_recovery(&im.sb, Some(&jsb)));
    let mut b = jraw.clone();
    b[0x28..0x2C].copy_from_slice(&0x8000_0000u32.to_be_bytes()); // unknown incompat
    rej(&mut b);
    assert_eq!(
        JournalSuperblock::parse(&b).err(),
        Some(Error::Unsupported("unknown journal feature"))
    );
    let mut b = jraw.clone();
    b[0x14..0x18].copy_from_slice(&0u32.to_be_bytes()); // s_first
    rej(&mut b);
    assert_eq!(
        JournalSuperblock::parse(&b).err(),
        Some(Error::Corrupt("journal s_first"))
    );
    assert_eq!(
        jsb.check_geometry(4096, u64::MAX),
        Err(Error::Corrupt("journal block size"))
    );
    let _ = ext4_chksum(0, &[]);
    let _ = ext4_dirblock_csum;
}
