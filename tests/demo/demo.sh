#!/usr/bin/env bash
# Guest side of `make demo` (run through scripts/vm, so a kernel splat fails it).
. "$(dirname "$0")/../vm/lib.sh"
step() { echo; echo ">>> $*"; }

step "insmod $(basename "$REXT4_KO")"
load_module
grep -w rext4 /proc/filesystems

dev=/dev/ram0
step "mkfs.ext4 on $dev ($(( $(blockdev --getsize64 $dev) >> 20 )) MiB ramdisk)"
mkfs.ext4 -F -q $dev
dumpe2fs -h $dev 2>/dev/null | grep -E '^(Filesystem features|Block size|Block count):'

mkdir -p "$WORK/mnt"
step "mount -t rext4 -o ro,buffered_iomap $dev"
if mount -t rext4 -o ro,buffered_iomap $dev "$WORK/mnt" 2>"$WORK/err"; then
	MOUNTS+=("$WORK/mnt")
	rext4_mounted=1
	grep " $WORK/mnt " /proc/mounts
else
	rext4_mounted=
	echo "mount refused: $(cat "$WORK/err")"
	echo "kernel says: $(dmesg | grep 'rext4:' | tail -n 1)"
fi
if [ -n "$rext4_mounted" ]; then umount "$WORK/mnt"; fi

step "in-tree ext4 on the same device: 64 MiB sequential write + read (fio)"
mount -t ext4 $dev "$WORK/mnt"
for rw in write read; do
	fio --name=seq-$rw --directory="$WORK/mnt" --rw=$rw --bs=1M --size=64M \
		--ioengine=psync --end_fsync=1 --output-format=terse --minimal 2>/dev/null |
		awk -F';' -v rw=$rw '{ bw = (rw == "write") ? $48 : $7; printf "ext4  seq %-5s 1M: %6.1f MiB/s\n", rw, bw / 1024 }'
done
umount "$WORK/mnt"
echo "rext4 seq write/read: not yet (rext4 does not mount yet)"

step "e2fsck -fn $dev"
e2fsck -fn $dev >/dev/null && echo "clean"
unload_module
