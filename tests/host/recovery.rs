// SPDX-License-Identifier: GPL-2.0

//! The super block update that ends a journal replay at mount
//! (`ondisk::superblock::mark_recovery_complete`), on real images: mkfs
//! makes one, debugfs sets `needs_recovery` and skews the free counts, and
//! after the update dumpe2fs shows the flag gone and the counts the group
//! descriptors sum to, and e2fsck -fn (which checks the super block
//! checksum) finds the file system clean.

mod common;

use std::fs;
use std::os::unix::fs::FileExt;
use std::process::Command;

use common::*;
use rext4_core::ondisk::superblock::{mark_recovery_complete, ErrorState, Superblock};

#[test]
fn recovery_complete_clears_the_flag_and_sums_the_counts() {
    let Some(tools) = tools() else { return };
    let tree = build_tree(0, false);
    for (name, args) in [
        ("4k-csum-64bit", &["-b", "4096"][..]),
        (
            "1k-nocsum",
            &["-b", "1024", "-O", "^metadata_csum,^64bit"][..],
        ),
    ] {
        let work = TempDir::new(name);
        let img = work.path().join("fs.img");
        mkfs(&tools, &img, 32 << 20, args, Some(tree.dir.path()));
        debugfs(
            &tools,
            &img,
            &[
                "feature needs_recovery".to_string(),
                "ssv free_blocks_count 7".to_string(),
                "ssv free_inodes_count 5".to_string(),
            ],
            true,
        );
        let groups = dumpe2fs_groups(&tools, &img);
        let free_blocks: u64 = groups.iter().map(|g| u64::from(g.free_blocks)).sum();
        let free_inodes: u64 = groups.iter().map(|g| u64::from(g.free_inodes)).sum();

        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&img)
            .unwrap();
        let mut raw = vec![0u8; 1024];
        f.read_exact_at(&mut raw, 1024).unwrap();
        assert!(dumpe2fs_header(&tools, &img)["Filesystem features"].contains("needs_recovery"));
        let before = ErrorState::of(&raw).unwrap();
        assert!(!before.error_fs);
        // A replay may bring back an older copy of the error fields
        // (s_error_count here): the update puts back what was there before.
        let mut replayed = raw.clone();
        replayed[0x194..0x198].copy_from_slice(&5u32.to_le_bytes());
        let mut with_error = replayed.clone();
        mark_recovery_complete(
            &mut replayed,
            &before,
            false,
            free_blocks,
            free_inodes as u32,
        )
        .unwrap();
        assert_eq!(ErrorState::of(&replayed).unwrap(), before, "{name}");
        f.write_all_at(&replayed, 1024).unwrap();
        let raw = replayed;

        // Our own parser accepts it (checksum included) ...
        let sb = Superblock::parse(&raw).unwrap();
        assert_eq!(sb.free_blocks_count(), free_blocks, "{name}");
        // ... and so do e2fsprogs.
        let h = dumpe2fs_header(&tools, &img);
        assert!(
            !h["Filesystem features"].contains("needs_recovery"),
            "{name}"
        );
        assert_eq!(h["Free blocks"], free_blocks.to_string(), "{name}");
        assert_eq!(h["Free inodes"], free_inodes.to_string(), "{name}");
        if let Some(e2fsck) = &tools.e2fsck {
            let out = Command::new(e2fsck).arg("-fn").arg(&img).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        // An error the journal recorded marks the file system in error,
        // which e2fsprogs sees.
        mark_recovery_complete(
            &mut with_error,
            &before,
            true,
            free_blocks,
            free_inodes as u32,
        )
        .unwrap();
        assert!(ErrorState::of(&with_error).unwrap().error_fs);
        f.write_all_at(&with_error, 1024).unwrap();
        drop(f);
        let h = dumpe2fs_header(&tools, &img);
        assert!(
            h["Filesystem state"].contains("with errors"),
            "{name}: {:?}",
            h["Filesystem state"]
        );
    }
}
