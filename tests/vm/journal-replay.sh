#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Journals the in-tree ext4 driver leaves behind are replayed by rext4 at
# mount, read-only mounts included, with the kernel's jbd2. On each image
# variant, ext4 (nodelalloc, so file data is allocated in the transaction)
# builds a tree and syncs it, then changes it (new files with data, a
# directory grown into an htree, renames, unlinks, hard and symbolic links,
# xattrs, chmod, a truncate) and is shut down with EXT4_IOC_SHUTDOWN
# LOGFLUSH, then its dm-flakey device drops every write: the changes are
# committed to the journal but not written home, and the super block says
# needs_recovery. Then, each on its own copy:
# - rext4 mounts it read-only, replays the journal, and shows exactly the
#   tree ext4 showed before the shutdown (names, types, sizes, modes, link
#   targets, xattrs, file contents by sha256); after unmount e2fsck -fn is
#   clean, needs_recovery is gone, and the in-tree ext4 reads the same tree;
# - the in-tree ext4 and e2fsck replay it too, and rext4 reads their result
#   as the same tree;
# - rext4 with noload shows a different tree (so the replay is what made it
#   right).
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"

# manifest DIR: one line per object below DIR, in name order.
manifest() {
	(cd "$1" && find . -printf '%y %m %s %n %p -> %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum &&
		getfattr -h -R -d -m - . 2>/dev/null)
}

# look FSTYPE IMG [OPTS]: the manifest of IMG mounted read-only by FSTYPE.
look() {
	local d out
	d=$(attach "$2")
	out=$(mount_errno "$1" "$d" "$mnt" 1 "${3:-}")
	[ "$out" = OK ] || fail "$1 mount of $2 failed: $out"
	manifest "$mnt"
	umount "$mnt"
	losetup -d "$d"
}

# The changes after the sync must stay in the journal only: no periodic
# writeback of the committed metadata to its home (TCG is slow enough for
# it to happen otherwise), and a journal large enough not to checkpoint.
wb=$(cat /proc/sys/vm/dirty_writeback_centisecs)
exp=$(cat /proc/sys/vm/dirty_expire_centisecs)
variants=("4k:-J size=16" "1k:-b 1024 -J size=16 -O ^metadata_csum,^64bit")
for v in "${variants[@]}"; do
	name=${v%%:*}
	args=${v#*:}
	[ "$args" = "$v" ] && args=
	# shellcheck disable=SC2086
	img=$(new_image "$name.img" 64M $args)
	d=$(attach "$img")
	sectors=$(blockdev --getsz "$d")
	dmsetup create rext4-replay --table "0 $sectors flakey $d 0 3600 0" || fail "dmsetup create failed"
	mount -t ext4 -o nodelalloc /dev/mapper/rext4-replay "$mnt" || fail "$name: ext4 mount failed"
	# Before: synced to its home locations.
	mkdir -p "$mnt/old/sub" "$mnt/gone"
	for i in $(seq 1 20); do echo "old file $i" >"$mnt/old/f$i"; done
	head -c 300000 /dev/urandom >"$mnt/old/big"
	echo doomed >"$mnt/gone/x"
	sync
	echo 0 >/proc/sys/vm/dirty_writeback_centisecs
	echo 360000 >/proc/sys/vm/dirty_expire_centisecs
	# After: only in the journal once the shutdown has committed it.
	mkdir "$mnt/new"
	for i in $(seq 1 400); do echo "entry $i" >"$mnt/new/a-longer-file-name-$i"; done
	head -c 200000 /dev/urandom >"$mnt/new/data"
	mv "$mnt/old/f1" "$mnt/new/moved"
	mv "$mnt/old/sub" "$mnt/new/sub"
	rm "$mnt/old/f2" "$mnt/gone/x"
	rmdir "$mnt/gone"
	ln "$mnt/old/f3" "$mnt/new/hard"
	ln -s ../old/f4 "$mnt/new/sym"
	setfattr -n user.note -v replayed "$mnt/new/data"
	chmod 600 "$mnt/old/f5"
	truncate -s 1000 "$mnt/old/big"
	want=$(manifest "$mnt")
	[ "$("$VMTOOLS" shutdown "$mnt" logflush)" = OK ] || fail "$name: EXT4_IOC_SHUTDOWN failed"
	# The power goes: nothing written after the shutdown reaches the disk
	# (the unmount and the device's last close would write the committed
	# metadata home).
	dmsetup suspend --nolockfs rext4-replay
	dmsetup load rext4-replay --table "0 $sectors flakey $d 0 0 3600 1 drop_writes"
	dmsetup resume rext4-replay
	umount "$mnt"
	dmsetup remove rext4-replay
	echo "$wb" >/proc/sys/vm/dirty_writeback_centisecs
	echo "$exp" >/proc/sys/vm/dirty_expire_centisecs
	losetup -d "$d"
	dumpe2fs -h "$img" 2>/dev/null | grep -q needs_recovery || fail "$name: ext4 left no journal to replay"

	for who in rext4 ext4 e2fsck noload; do cp --sparse=always "$img" "$WORK/$who.img"; done
	dmesg -C
	got=$(look rext4 "$WORK/rext4.img")
	dmesg | grep -q "rext4 (loop[0-9]*): recovery complete" || fail "$name: rext4 did not say it recovered"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") | head -20; fail "$name: rext4's replay shows another tree"; }
	e2fsck -fn "$WORK/rext4.img" >"$WORK/fsck.log" 2>&1 || { cat "$WORK/fsck.log"; fail "$name: e2fsck -fn after rext4's replay"; }
	dumpe2fs -h "$WORK/rext4.img" 2>/dev/null | grep -q needs_recovery && fail "$name: needs_recovery still set after rext4's replay"
	[ "$(look ext4 "$WORK/rext4.img")" = "$want" ] || fail "$name: in-tree ext4 reads rext4's replay as another tree"

	[ "$(look ext4 "$WORK/ext4.img")" = "$want" ] || fail "$name: in-tree ext4's own replay shows another tree (calibration)"
	# The super blocks the two replays leave agree on state (the shutdown's
	# recorded error marks both "with errors"), free counts and features.
	sbstate() { dumpe2fs -h "$1" 2>/dev/null | grep -E '^(Filesystem state|Free blocks|Free inodes|Filesystem features|FS Error count):'; }
	[ "$(sbstate "$WORK/rext4.img")" = "$(sbstate "$WORK/ext4.img")" ] ||
		{ diff <(sbstate "$WORK/ext4.img") <(sbstate "$WORK/rext4.img"); fail "$name: rext4's replay leaves another super block than ext4's"; }
	[ "$(look rext4 "$WORK/ext4.img")" = "$want" ] || fail "$name: rext4 reads ext4's replay as another tree"
	e2fsck -fy "$WORK/e2fsck.img" >"$WORK/fsck.log" 2>&1 || [ $? -le 1 ] || { cat "$WORK/fsck.log"; fail "$name: e2fsck could not replay"; }
	[ "$(look rext4 "$WORK/e2fsck.img")" = "$want" ] || fail "$name: rext4 reads e2fsck's replay as another tree"

	[ "$(look rext4 "$WORK/noload.img" noload)" != "$want" ] || fail "$name: the tree is the same without replay: the test replays nothing"
	log "$name: rext4, ext4 and e2fsck replays agree ($(echo "$want" | wc -l) manifest lines)"
done
unload_module
