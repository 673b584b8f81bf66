/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for kernel static inline functions and macros that Rust cannot
 * call directly. Every function here is a one-liner over the kernel API of
 * the same name; the Rust side reaches them as bindings::rext4_<name>.
 */
#ifndef REXT4_HELPERS_H
#define REXT4_HELPERS_H

struct super_block;
struct fs_context;

/* errorf(fc, "%s", msg): log a mount error where mount(8)/fsconfig see it. */
void rext4_fc_error(struct fs_context *fc, const char *msg);

#endif
