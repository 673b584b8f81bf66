// SPDX-License-Identifier: GPL-2.0

//! Raw bindings to the C headers listed in `bindings_helper.h`, generated at
//! build time by bindgen with the kernel's flags (see `Kbuild`).
//!
//! Nothing outside `src/vfs/` uses this module: the safe wrappers there are
//! the only place where raw pointers and `unsafe` appear.

#![allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    unnecessary_transmutes,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    clippy::restriction
)]

// The kernel's bindgen parameters blocklist these so they map to Rust's own
// pointer-sized integers; every crate that binds kernel headers defines them.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

use kernel::ffi;

include!(env!("REXT4_BINDINGS_RS"));
