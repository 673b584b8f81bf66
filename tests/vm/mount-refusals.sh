#!/usr/bin/env bash
# What rext4 refuses to mount, with the exact errno and a dmesg line that
# says why: read-write (EROFS, until the write path exists), not ext4
# (EINVAL), unsupported incompat features (EINVAL, each named), a journal
# that needs recovery (EINVAL), bad options (EINVAL); and unknown ro_compat
# features allow read-only mounts only.
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
expect EROFS "read-write mounts are not supported" rext4 "$dev" 0
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

img=$(new_image recover.img 64M)
debugfs -w -R "feature needs_recovery" "$img" >/dev/null 2>&1
expect EINVAL "journal needs recovery" rext4 "$(attach "$img")" 1

# An ro_compat feature rext4 does not know (verity): read-only only.
img=$(new_image verity.img 64M -O verity)
d=$(attach "$img")
expect EROFS "" rext4 "$d" 0
expect OK "" rext4 "$d" 1

unload_module
log "every refusal had the right errno and message"
