#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# xattr and POSIX ACL writes on a read-write rext4 (-o buffered_iomap), with
# the in-tree ext4 as the oracle. On each image variant (4k with 256-byte
# inodes: in-inode area, then the block; 1k with 128-byte inodes and no
# metadata_csum: block only; no journal):
# - a seeded workload (tests/vm/xattrops.py: set with XATTR_CREATE,
#   XATTR_REPLACE or neither, values from empty to past a block and past
#   the VFS limit, removals, gets and lists in user., trusted. and
#   security., on files, directories and a symlink; names of 255 and 256
#   bytes; setfacl of access and default ACLs, ACLs inherited by a file, a
#   directory and a FIFO created below a default ACL, chmod rewriting an
#   ACL's mask, setfacl -x/-b) runs on ext4 and on rext4 from the same
#   fresh image: every outcome (errno, value digest, listing, getfacl) and
#   the final dump must be the same;
# - after unmount e2fsck -fn is clean, and the in-tree ext4 mounting what
#   rext4 wrote dumps exactly what rext4 showed;
# - the reverse: ext4 gives twenty files the same attributes on 128-byte
#   inodes, which it shares in one block (its mbcache; checked with
#   debugfs); rext4 changes some, removes some, deletes some files and
#   adds to others: e2fsck -fn clean (refcounts included), ext4 dumps
#   what rext4 showed, and deleting everything gives back the free blocks.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
PY=${PY:-python3}
OPS=${XATTR_OPS:-500}
ops=$(dirname "$0")/xattrops.py

for v in "4k:-b 4096" "1k-i128:-b 1024 -I 128 -O ^metadata_csum" "nojournal:-O ^has_journal"; do
	name=${v%%:*}
	read -ra args <<<"${v#*:}"
	img=$(new_image "$name.img" 64M "${args[@]}")
	cp "$img" "$WORK/$name.ext4.img"
	log "$name: the workload on ext4"
	dev=$(attach "$WORK/$name.ext4.img")
	mount -t ext4 "$dev" "$mnt"
	"$PY" "$ops" run "$mnt" 7 "$OPS" >"$WORK/$name.ext4.out" || fail "$name: workload on ext4"
	umount "$mnt"
	log "$name: the workload on rext4"
	dev=$(attach "$img")
	mount -t rext4 -o buffered_iomap "$dev" "$mnt"
	"$PY" "$ops" run "$mnt" 7 "$OPS" >"$WORK/$name.rext4.out" || fail "$name: workload on rext4"
	"$PY" "$ops" dump "$mnt" >"$WORK/$name.rext4.dump"
	umount "$mnt"
	if ! diff -u "$WORK/$name.ext4.out" "$WORK/$name.rext4.out" >"$WORK/diff"; then
		head -n 40 "$WORK/diff"
		fail "$name: rext4's outcomes differ from ext4's"
	fi
	grep -q "set .* OK$" "$WORK/$name.rext4.out" || fail "$name: no set succeeded"
	grep -q "ENOSPC$" "$WORK/$name.rext4.out" || fail "$name: no value was too large"
	grep -q "acl acl/inherited .*user:1001" "$WORK/$name.rext4.out" || fail "$name: no ACL inherited"
	log "$name: $(grep -c ' OK$' "$WORK/$name.rext4.out") operations succeeded, $(grep -c ' E[A-Z0-9]*$' "$WORK/$name.rext4.out") failed as ext4's did"
	e2fsck -fn "$dev" >"$WORK/fsck" 2>&1 || { cat "$WORK/fsck"; fail "$name: e2fsck after rext4"; }
	mount -t ext4 -o ro "$dev" "$mnt"
	"$PY" "$ops" dump "$mnt" >"$WORK/$name.ext4.dump"
	umount "$mnt"
	if ! diff -u "$WORK/$name.rext4.dump" "$WORK/$name.ext4.dump" >"$WORK/diff"; then
		head -n 40 "$WORK/diff"
		fail "$name: ext4 reads other attributes than rext4 showed"
	fi
done

log "shared blocks: ext4 shares, rext4 changes"
img=$(new_image shared.img 32M -b 4096 -I 128)
dev=$(attach "$img")
mount -t ext4 "$dev" "$mnt"
big=$(printf 'v%.0s' $(seq 1 300))
for k in $(seq 1 20); do
	echo "$k" >"$mnt/f$k"
	setfattr -n user.shared -v "$big" "$mnt/f$k"
	setfattr -n security.selinux -v "system_u:object_r:etc_t:s0" "$mnt/f$k"
done
umount "$mnt"
free0=$(dumpe2fs -h "$dev" 2>/dev/null | awk -F: '/^Free blocks/ {print $2+0}')
acl1=$(debugfs -R "stat /f1" "$dev" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
acl2=$(debugfs -R "stat /f2" "$dev" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
[ -n "$acl1" ] && [ "$acl1" != 0 ] && [ "$acl1" = "$acl2" ] || fail "ext4 did not share the block ($acl1, $acl2)"
mount -t rext4 -o buffered_iomap "$dev" "$mnt"
setfattr -n user.shared -v changed "$mnt/f3"
setfattr -x user.shared "$mnt/f5"
setfattr -x security.selinux "$mnt/f5"
setfattr -n user.extra -v more "$mnt/f12"
rm "$mnt/f7" "$mnt/f8" "$mnt/f9" "$mnt/f10"
"$PY" "$ops" dump "$mnt" >"$WORK/shared.rext4.dump"
umount "$mnt"
e2fsck -fn "$dev" >"$WORK/fsck" 2>&1 || { cat "$WORK/fsck"; fail "shared: e2fsck after rext4"; }
acl3=$(debugfs -R "stat /f3" "$dev" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
acl1b=$(debugfs -R "stat /f1" "$dev" 2>/dev/null | sed -n 's/.*File ACL: \([0-9]*\).*/\1/p')
[ "$acl3" != "$acl1b" ] || fail "shared: f3 still has the shared block"
mount -t ext4 -o ro "$dev" "$mnt"
"$PY" "$ops" dump "$mnt" >"$WORK/shared.ext4.dump"
umount "$mnt"
diff -u "$WORK/shared.rext4.dump" "$WORK/shared.ext4.dump" || fail "shared: ext4 reads other attributes"
grep -q "^f3 .*user.shared=7:" "$WORK/shared.ext4.dump" || fail "shared: f3's new value missing"
grep -q "^f1 .*user.shared=300:" "$WORK/shared.ext4.dump" || fail "shared: f1 lost its value"
mount -t rext4 -o buffered_iomap "$dev" "$mnt"
rm -f "$mnt"/f*
umount "$mnt"
e2fsck -fn "$dev" >"$WORK/fsck" 2>&1 || { cat "$WORK/fsck"; fail "shared: e2fsck after deleting all"; }
free1=$(dumpe2fs -h "$dev" 2>/dev/null | awk -F: '/^Free blocks/ {print $2+0}')
# mkfs's count: the data blocks and xattr blocks of the twenty files are back.
fresh=$(new_image fresh.img 32M -b 4096 -I 128)
mkfs_free=$(dumpe2fs -h "$fresh" 2>/dev/null | awk -F: '/^Free blocks/ {print $2+0}')
[ "$free1" = "$mkfs_free" ] || fail "shared: $free1 blocks free after deleting all, mkfs left $mkfs_free"
log "shared: free blocks $free0 with the files, $free1 after rext4 deleted them (as mkfs left)"
echo "rw-xattr: ok"
