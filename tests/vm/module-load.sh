#!/usr/bin/env bash
# The module loads, registers the "rext4" type, refuses to mount (until the
# read path lands) with EOPNOTSUPP and a message naming why, and unloads
# cleanly, repeatedly, leaking nothing kmemleak can see.
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
got=$(mount_errno rext4 "$dev" "$WORK/mnt" 1)
[ "$got" = EOPNOTSUPP ] || fail "mount -t rext4 gave $got, want EOPNOTSUPP"
dmesg | grep -q "rext4: mounting is not supported yet" || fail "no mount refusal message in dmesg"
grep -q " $WORK/mnt " /proc/mounts && fail "something got mounted"
# The in-tree driver mounts the same image: the refusal is ours, not the image's.
got=$(mount_errno ext4 "$dev" "$WORK/mnt" 1)
[ "$got" = OK ] || fail "in-tree ext4 could not mount the image: $got"
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
