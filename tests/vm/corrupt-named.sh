#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Named corruptions (built by corrupt-named.prep, each confirmed by e2fsck:
# a looping extent tree, an extent and a symlink block outside the file
# system, an overfull extent leaf, directory records with a bad rec_len or
# name_len, a flipped byte in each metadata_csum-checked structure, and
# block maps pointing at metadata: extents into the inode table and the
# journal, an xattr block in the inode table, an ext3 indirect entry into the
# inode table), and an htree root deeper than ext4 allows.
# Each image mounts; every access that meets the corruption has exactly the
# outcome the in-tree ext4 driver has on the same image (an errno; for
# readdir of a damaged linear directory, ext4 reports it and lists what is
# intact; a lookup only fails when it meets the damaged record), every
# failure comes with a rext4 dmesg line naming the device, and rext4 reports
# every image's damage. The harness fails the test on any splat.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"

# access FSTYPE DEV OP PATH [XNAME]: mount read-only, one access, unmount;
# prints the access's outcome (OK or errno name), or MOUNT:<errno>.
access() {
	local fs=$1 dev=$2 op=$3 path=$4 xname=${5:-}
	local m
	m=$(mount_errno "$fs" "$dev" "$mnt" 1)
	[ "$m" = OK ] || { echo "MOUNT:$m"; return; }
	# shellcheck disable=SC2086
	"$VMTOOLS" probe "$op" "$mnt/$path" $xname
	umount "$mnt"
}

declare -A dev_of reported
n=0 images_failing=0
declare -A failed
while read -r name op path xname; do
	[ -n "${dev_of[$name]:-}" ] || dev_of[$name]=$(attach "$PREP/$name.img")
	dev=${dev_of[$name]}
	want=$(access ext4 "$dev" "$op" "$path" "$xname")
	dmesg -C
	got=$(access rext4 "$dev" "$op" "$path" "$xname")
	log "$name: $op $path: ext4 $want, rext4 $got"
	[ "$got" = "$want" ] || fail "$name: $op $path: rext4 gave $got, in-tree ext4 $want"
	said=
	dmesg | grep -q "rext4 (${dev#/dev/})" && said=1 reported[$name]=1
	[ "$got" = OK ] || [ -n "$said" ] || fail "$name: $op $path failed ($got) with no rext4 message naming ${dev#/dev/}"
	[ "$got" = OK ] || failed[$name]=1
	n=$((n + 1))
done <"$PREP/cases"
unload_module
for name in "${!dev_of[@]}"; do
	[ -n "${reported[$name]:-}" ] || fail "$name: rext4 never reported the damage in dmesg"
	[ -z "${failed[$name]:-}" ] || images_failing=$((images_failing + 1))
done
[ "${#dev_of[@]}" -ge 16 ] || fail "only ${#dev_of[@]} images tried"
[ "$images_failing" -ge 15 ] || fail "only $images_failing images had an access fail"
log "${#dev_of[@]} corrupt images, $n accesses, all as in-tree ext4; $images_failing images with a failing access; each reported"
