// SPDX-License-Identifier: GPL-2.0

//! cargo-fuzz target: every on-disk parser over arbitrary bytes. The first
//! byte picks one of the sample geometries (block size, checksums, 64bit,
//! inode size, large_dir, hash signedness); the rest is the structure.
//! Run with `cargo +nightly fuzz run parsers` from the repository root.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rext4_core::exercise::{all_parsers, sample_geometry};

fuzz_target!(|data: &[u8]| {
    let Some((&variant, rest)) = data.split_first() else { return };
    let geo = sample_geometry(variant);
    std::hint::black_box(all_parsers(rest, &geo));
});
