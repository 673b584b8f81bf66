#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The read path on real mkfs.ext4 images: every variant mounts read-only with
# rext4, and everything a user can observe (contents, holes, sizes, modes,
# owners, times incl. btime, link counts, xattrs, directory entries, symlink
# targets, device numbers, statfs) matches the source tree and the in-tree
# ext4 driver reading the same image; so do inode flags (lsattr, statx
# attributes, project ids; the prep sets some with debugfs) and O_DIRECT
# reads, which must return the bytes buffered reads return. Directories list in exactly ext4's order
# with ext4's getdents d_off cookies (hash order and hash cookies for indexed
# and, with dir_index, one-block directories), and listings resumed from those
# cookies (small getdents buffers, lseek) agree (`vmtools dirents`, run under
# both drivers and diffed); a 32-bit process (`dirents32`, compat syscalls)
# gets ext4's 32-bit cookies and end position. e2fsck -fn stays clean.
. "$(dirname "$0")/lib.sh"
tc="$PY $REXT4_REPO/tests/tools/treecmp.py"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
src_keys="--source --no-root mode uid gid size nlink mtime_s sha256 target entries rdev xattrs links"
failed=0
# dirents DRIVER: every directory's entries as getdents returns them, with
# vmtools' own resume checks, into $WORK/$name.DRIVER.dirents.
dirents() {
	"$VMTOOLS" dirents "$mnt" >"$WORK/$name.$1.dirents" && return
	echo "FAIL $name: vmtools dirents on $1 (exit $?)"
	awk '/^(MISMATCH|ERROR) / && n++ < 10' "$WORK/$name.$1.dirents"
	failed=1
}
# dirents32 DRIVER: the same from a 32-bit process (compat getdents64 and
# _llseek), which must get 32-bit positions: hash cookies major_hash >> 1 and
# 0x7fffffff as the end of an indexed directory, as ext4 gives them.
dirents32() {
	local out=$WORK/$name.$1.dirents32
	"$DIRENTS32" "$mnt" >"$out" || {
		echo "FAIL $name: dirents32 on $1 (exit $?)"
		awk '/^(MISMATCH|ERROR) / && n++ < 10' "$out"
		failed=1
	}
	# Entry lines start with d_off, "E" lines give lseek(0, SEEK_END).
	awk '/^(D|MISMATCH|ERROR) / { next } { v = ($1 == "E" ? $2 : $1) + 0 }
		v > 2147483647 { print; bad = 1; exit } END { exit bad }' "$out" >"$WORK/big" || {
		echo "FAIL $name: a 32-bit reader got a position above 2^31 - 1 from $1: $(cat "$WORK/big")"
		failed=1
	}
}
while read -r name tree; do
	img=$PREP/$name.img
	dev=$(losetup -r -f --show "$img")
	LOOPS+=("$dev")
	log "== $name ($tree)"
	got=$(mount_errno rext4 "$dev" "$mnt" 1)
	if [ "$got" != OK ]; then
		echo "FAIL $name: rext4 mount: $got"; dmesg | tail -n 5; failed=1; continue
	fi
	grep -q "^$dev $mnt rext4 ro" /proc/mounts || { echo "FAIL $name: /proc/mounts"; grep " $mnt " /proc/mounts; failed=1; }
	dirents rext4
	dirents32 rext4
	$tc manifest "$mnt" --direct >"$WORK/$name.rext4.json"
	sf_r=$(stat -f -c '%b %f %a %c %d %l %s %i %t' "$mnt")
	umount "$mnt"
	mount -t ext4 -o ro,noload "$dev" "$mnt"
	dirents ext4
	dirents32 ext4
	$tc manifest "$mnt" --direct >"$WORK/$name.ext4.json"
	sf_e=$(stat -f -c '%b %f %a %c %d %l %s %i %t' "$mnt")
	umount "$mnt"
	$tc diff "$WORK/$name.rext4.json" "$WORK/$name.ext4.json" all || { echo "FAIL $name: rext4 != ext4"; failed=1; }
	# shellcheck disable=SC2086
	$tc diff "$WORK/$name.rext4.json" "$PREP/$tree.json" $src_keys || { echo "FAIL $name: rext4 != source tree"; failed=1; }
	if ! diff "$WORK/$name.rext4.dirents" "$WORK/$name.ext4.dirents" >"$WORK/dirents.diff"; then
		echo "FAIL $name: directory listings differ (order, d_off, d_type, d_ino or names; < rext4, > ext4):"
		awk 'NR<=10' "$WORK/dirents.diff"
		failed=1
	fi
	if ! diff "$WORK/$name.rext4.dirents32" "$WORK/$name.ext4.dirents32" >"$WORK/dirents.diff"; then
		echo "FAIL $name: 32-bit directory listings differ (< rext4, > ext4):"
		awk 'NR<=10' "$WORK/dirents.diff"
		failed=1
	fi
	[ "$sf_r" = "$sf_e" ] || { echo "FAIL $name: statfs rext4 [$sf_r] ext4 [$sf_e]"; failed=1; }
	e2fsck -fn "$dev" >"$WORK/fsck.log" 2>&1 || { echo "FAIL $name: e2fsck"; tail "$WORK/fsck.log"; failed=1; }
done <"$PREP/variants"
unload_module
# Valid images: rext4 must not have reported any corruption on them.
if dmesg | grep -E "rext4: rext4 \(loop[0-9]+\): "; then
	echo "FAIL: rext4 reported corruption on a valid image (above)"
	failed=1
fi
[ $failed = 0 ] || fail "some variants differ (see above)"
log "all variants read identically by rext4 and ext4"
