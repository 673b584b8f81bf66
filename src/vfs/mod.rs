// SPDX-License-Identifier: GPL-2.0

//! Safe wrappers over the kernel's VFS, block and iomap C APIs (layer 2).
//!
//! The kernel crate has no abstractions for file systems, folios, buffer heads
//! or iomap, so rext4 keeps its own here. This is the only place, with
//! `bindings`, where `unsafe` code lives: each wrapper states the invariant it
//! relies on, and the file system code above it is safe Rust.

pub(crate) mod fs_context;
pub(crate) mod fs_type;
