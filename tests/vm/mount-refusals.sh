#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What rext4 refuses to mount, with the exact errno and a dmesg line that
# says why: read-write mounts of images rext4 cannot change (EINVAL:
# ^extent, orphans present, noload; unknown ro_compat: EROFS), a read-only remount of a
# read-write mount (EBUSY, not supported yet), not ext4
# (EINVAL), unsupported incompat features (EINVAL, each named), a journal
# that needs recovery rext4 cannot replay (on a read-only device: EROFS;
# with fast commits: EINVAL), bad options (EINVAL); and unknown ro_compat
# features allow read-only mounts only. Damaged geometry (a truncated image,
# an empty or misplaced inode table) fails with the errno the in-tree ext4
# driver gives for the same image.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"

expect() { # expect ERRNO DMESG-PATTERN FSTYPE DEV FLAGS [DATA]
	local want=$1 pat=$2
	shift 2
	dmesg -C
	local got
	got=$(mount_errno "$1" "$2" "$mnt" "$3" "${4:-}")
	[ "$got" = "$want" ] || fail "mount $* gave $got, want $want"
	[ "$got" = OK ] && umount "$mnt"
	[ -z "$pat" ] || dmesg | grep -qE "$pat" || { dmesg | tail -n 5; fail "no dmesg line matching '$pat' for $*"; }
}

img=$(new_image ok.img 64M)
dev=$(attach "$img")
expect OK "mounted read-write" rext4 "$dev" 0
expect EINVAL "noload/norecovery needs a read-only mount" rext4 "$dev" 0 "noload"
mount -t rext4 "$dev" "$mnt" || fail "rext4 rw mount failed"
mount -o remount,ro "$mnt" 2>/dev/null && fail "remount,ro of a read-write mount was accepted"
grep " $mnt " /proc/mounts | grep -q " rw," || fail "the failed remount changed the mount"
umount "$mnt"
e2fsck -fn "$dev" >/dev/null 2>&1 || fail "e2fsck -fn not clean after a read-write mount"
img=$(new_image ext3.img 64M -O ^extent,^64bit)
d=$(attach "$img")
expect EINVAL "cannot mount read-write: block-mapped" rext4 "$d" 0
expect OK "" rext4 "$d" 1
img=$(new_image orphans.img 64M)
debugfs -w -R "feature orphan_present" "$img" >/dev/null 2>&1
d=$(attach "$img")
expect EINVAL "cannot mount read-write: orphans are present" rext4 "$d" 0
expect OK "" rext4 "$d" 1
expect OK "" rext4 "$dev" 1
expect EINVAL "" rext4 "$dev" 1 "no_such_option"
expect EINVAL "bad value for errors" rext4 "$dev" 1 "errors=sometimes"
expect OK "" rext4 "$dev" 1 "buffered_iomap,errors=continue"
mount_errno rext4 "$dev" "$mnt" 1 "buffered_iomap" >/dev/null
grep " $mnt " /proc/mounts | grep -q "ro,.*buffered_iomap" || { grep " $mnt " /proc/mounts; fail "buffered_iomap not in /proc/mounts"; }
umount "$mnt"

zero=$WORK/zero.img
truncate -s 16M "$zero"
expect EINVAL "can't find ext4 filesystem" rext4 "$(attach "$zero")" 1

img=$(new_image inline.img 64M -O inline_data)
expect EINVAL "unsupported incompat feature: inline_data" rext4 "$(attach "$img")" 1
img=$(new_image casefold.img 64M -O casefold,encrypt)
expect EINVAL "unsupported incompat feature: (casefold|encrypt)" rext4 "$(attach "$img")" 1

# needs_recovery over an empty journal: replayed (nothing to do) on a
# read-only mount, as ext4 does, and the flag is cleared so e2fsck is clean.
img=$(new_image recover.img 64M)
debugfs -w -R "feature needs_recovery" "$img" >/dev/null 2>&1
d=$(attach "$img")
expect OK "rext4 \(${d#/dev/}\): recovery complete" rext4 "$d" 1
dumpe2fs -h "$img" 2>/dev/null | grep -q "needs_recovery" && fail "needs_recovery still set after rext4's replay"
e2fsck -fn "$img" >/dev/null 2>&1 || fail "e2fsck -fn not clean after rext4's replay"
# ... but not from a read-only device (ext4: EROFS), nor with fast commits
# (rext4 cannot replay them), nor with noload on a read-write mount.
img=$(new_image recover-ro.img 64M)
debugfs -w -R "feature needs_recovery" "$img" >/dev/null 2>&1
d=$(losetup -r -f --show "$img") && LOOPS+=("$d")
like_ro() { local e; e=$(mount_errno ext4 "$d" "$mnt" 1); [ "$e" = OK ] && umount "$mnt"; echo "$e"; }
[ "$(like_ro)" = EROFS ] || fail "in-tree ext4 mounted a read-only device needing recovery"
expect EROFS "write access unavailable" rext4 "$d" 1
img=$(new_image recover-fc.img 64M -O fast_commit)
debugfs -w -R "feature needs_recovery" "$img" >/dev/null 2>&1
expect EINVAL "fast commits" rext4 "$(attach "$img")" 1

# like_ext4 WANT DMESG-PATTERN IMAGE: in-tree ext4 and rext4 both refuse
# IMAGE read-only with errno WANT, and rext4 says why in dmesg.
like_ext4() {
	local want=$1 pat=$2 d
	d=$(attach "$3")
	local ext4
	ext4=$(mount_errno ext4 "$d" "$mnt" 1)
	[ "$ext4" = OK ] && umount "$mnt"
	[ "$ext4" = "$want" ] || fail "in-tree ext4 gave $ext4 on $3, the test expects $want"
	expect "$want" "$pat" rext4 "$d" 1
}

# Truncated images: the super block promises more blocks than the device has.
img=$(new_image full.img 64M)
cut=$WORK/cut.img
cp "$img" "$cut" && truncate -s 40M "$cut"
like_ext4 EINVAL "block count [0-9]+ exceeds size of device" "$cut"
# Cut inside the group descriptors: the first block survives, nothing else.
cp "$img" "$WORK/head.img" && truncate -s 4K "$WORK/head.img"
like_ext4 EINVAL "block count [0-9]+ exceeds size of device" "$WORK/head.img"

# A zero-length inode table (no inodes per group), and an inode table that
# points at block 0 (outside its group), each with valid checksums.
img=$(new_image noipg.img 64M)
debugfs -w -R "ssv inodes_per_group 0" "$img" >/dev/null 2>&1
like_ext4 EINVAL "inodes.per.group" "$img"
img=$(new_image noitable.img 64M -b 1024)
printf 'set_bg 1 inode_table 0\nset_bg 1 checksum calc\n' | debugfs -w -f - "$img" >/dev/null 2>&1
like_ext4 EUCLEAN "group descriptor 1 .*bg_inode_table" "$img"
# Metadata that overlaps: group 1's inode bitmap is group 0's block bitmap
# (inside the file system, so only the system zones catch it).
img=$(new_image overlap.img 64M -b 1024)
bb0=$(dumpe2fs "$img" 2>/dev/null | awk '/^Group 0:/ { g = 1 } g && /Block bitmap at/ { print $4; exit }')
printf 'set_bg 1 inode_bitmap %s\nset_bg 1 checksum calc\n' "$bb0" | debugfs -w -f - "$img" >/dev/null 2>&1
like_ext4 EUCLEAN "failed to initialize system zone" "$img"

# An ro_compat feature rext4 does not know (verity): read-only only.
img=$(new_image verity.img 64M -O verity)
d=$(attach "$img")
expect EROFS "" rext4 "$d" 0
expect OK "" rext4 "$d" 1

unload_module
log "every refusal had the right errno and message"
