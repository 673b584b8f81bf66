#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The module loads and registers the "rext4" type, mounts an image read-only,
# unloads cleanly, repeatedly, and leaks nothing kmemleak can see.
. "$(dirname "$0")/lib.sh"

kml=/sys/kernel/debug/kmemleak
[ -w $kml ] && { echo scan >$kml; echo clear >$kml; }

for i in 1 2 3; do
	load_module
	dmesg | grep -q "registered file system type rext4" || fail "no registration message"
	unload_module
done

load_module
img=$(new_image plain.img 64M)
dev=$(attach "$img")
mkdir -p "$WORK/mnt"
for i in 1 2; do
	got=$(mount_errno rext4 "$dev" "$WORK/mnt" 1)
	[ "$got" = OK ] || fail "mount -t rext4 -o ro gave $got"
	ls -la "$WORK/mnt" >/dev/null
	umount "$WORK/mnt"
done
# rmmod is refused while mounted.
mount_errno rext4 "$dev" "$WORK/mnt" 1 >/dev/null
rmmod rext4 2>/dev/null && fail "rmmod succeeded with a mounted rext4"
umount "$WORK/mnt"
unload_module

if [ -w $kml ]; then
	# kmemleak reports only objects older than 5 s; scan twice to settle.
	sleep 6; echo scan >$kml; echo scan >$kml
	if grep -q "unreferenced object" $kml; then
		head -n 40 $kml
		fail "kmemleak reports objects allocated by rext4"
	fi
else
	log "kmemleak not available in this kernel: leak check skipped"
fi
log "module load/mount-refusal/unload OK"
