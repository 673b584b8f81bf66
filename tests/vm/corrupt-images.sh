#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Corrupt images never crash the kernel, and rext4 hands out no inode the
# in-tree ext4 driver refuses: each of several hundred mutated images (bit
# flips and overwrites in metadata blocks, found with e2image) is mounted
# read-only and walked, first by ext4, recording every path whose lstat
# fails, then by rext4 on a fresh copy. rext4 either refuses the mount or
# walks it, each access succeeding or failing with an errno, and must fail
# every lstat ext4 failed (a corrupt i_size, link count or mode ext4's iget
# refuses, rext4 must refuse too). An image whose two walks take over 60 s
# fails the run (a corrupt image must not make an access crawl), and the VM
# harness fails the test on any oops, WARN, KFENCE report, lockdep splat,
# hang or timeout. The loop runs inside `vmtools fuzz`: one process for all
# images, as process starts are slow under TCG.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
total=0 refused=0 mounted=0 errors=0 ref_refused=0 served=0
while read -r v n; do
	out=$("$VMTOOLS" fuzz "$PREP/$v.img" "$PREP/$v.plan" ext4 rext4 "$mnt" "$WORK/m.img" 2>"$WORK/$v.err") || {
		cat "$WORK/$v.err" >&2
		fail "vmtools fuzz failed on $v${out:+ ($out)}"
	}
	read -r i r m e rr s <<<"$out"
	[ "$i" = "$n" ] || fail "$v: $i of $n images tried"
	log "$v: $i images, $r refused at mount, $m mounted ($e access errors); ext4 refused $rr paths, rext4 served $s of them"
	[ "$s" = 0 ] || { grep "serves it" "$WORK/$v.err" >&2; fail "$v: rext4 served $s paths the in-tree ext4 refuses"; }
	total=$((total + i)) refused=$((refused + r)) mounted=$((mounted + m)) errors=$((errors + e))
	ref_refused=$((ref_refused + rr)) served=$((served + s))
done <"$PREP/variants"
unload_module
log "$total images: $refused refused at mount, $mounted mounted ($errors access errors); ext4 refused $ref_refused paths, rext4 served $served"
[ "$total" -ge 180 ] || fail "only $total images tried"
[ "$refused" -gt 0 ] && [ "$mounted" -gt 0 ] && [ "$errors" -gt 0 ] ||
	fail "the mutations did not exercise both mount-time and access-time checks"
[ "$ref_refused" -gt 0 ] || fail "ext4 refused no path: the comparison compared nothing"
