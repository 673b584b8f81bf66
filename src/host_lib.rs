// SPDX-License-Identifier: GPL-2.0

//! Host build of rext4's on-disk format layer.
//!
//! The kernel module includes the very same `src/ondisk/` files as one of its
//! modules; this thin crate root lets `cargo test`, `cargo clippy` and
//! `cargo fuzz` exercise them in userspace. The lints below turn the layer's
//! hard rules (no panics, no unchecked indexing, no unchecked arithmetic on
//! on-disk values) into compile errors so they cannot quietly regress.

#![no_std]
#![deny(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented,
    clippy::cast_lossless,
    missing_docs,
    rust_2018_idioms,
    unsafe_code
)]

#[cfg(test)]
extern crate std;

#[path = "ondisk/mod.rs"]
pub mod ondisk;

/// ext4 logic over a transaction (the write path's shared layer).
#[path = "libext4/mod.rs"]
pub mod libext4;

/// Runs a byte string through every parser; for the fuzz target and the
/// stable mutation test only.
#[doc(hidden)]
pub mod exercise;

/// The per-inode extent-status cache (pure logic shared with the module).
#[path = "extent_status.rs"]
pub mod extent_status;
