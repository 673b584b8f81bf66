#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo` (run through scripts/vm, so a kernel splat fails it).
. "$(dirname "$0")/../vm/lib.sh"
step() { echo; echo ">>> $*"; }
mnt=$WORK/mnt
mkdir -p "$mnt"

step "insmod $(basename "$REXT4_KO")"
load_module
grep -w rext4 /proc/filesystems

dev=/dev/ram0
step "mkfs.ext4 on $dev ($(( $(blockdev --getsize64 $dev) >> 20 )) MiB ramdisk), filled by the in-tree ext4 driver"
mkfs.ext4 -F -q $dev
dumpe2fs -h $dev 2>/dev/null | grep -E '^(Filesystem features|Block size|Block count):'
mount -t ext4 $dev "$mnt"
fio --name=fill --filename="$mnt/data" --rw=write --bs=1M --size=64M --ioengine=psync \
	--end_fsync=1 --output=/dev/null
mkdir -p "$mnt/dir"
for i in $(seq 1 50); do echo "file $i" >"$mnt/dir/f$i"; done
ln -s data "$mnt/link"
setfattr -n user.demo -v hello "$mnt/data"
sum_ext4=$(sha256sum <"$mnt/data")
umount "$mnt"

step "mount -t rext4 -o ro,buffered_iomap $dev $mnt"
got=$(mount_errno rext4 $dev "$mnt" 1 buffered_iomap)
[ "$got" = OK ] || fail "rext4 mount: $got"
grep " $mnt " /proc/mounts
ls -la "$mnt" | head
echo "dir/ has $(ls "$mnt/dir" | wc -l) entries; link -> $(readlink "$mnt/link"); user.demo=$(getfattr --only-values -n user.demo "$mnt/data")"
df -h "$mnt" | tail -1
sum_rext4=$(sha256sum <"$mnt/data")
[ "$sum_rext4" = "$sum_ext4" ] || fail "rext4 read different data than ext4 wrote"
echo "64 MiB file: sha256 read by rext4 == written by ext4"
umount "$mnt"

step "cold sequential 1M reads of the 64 MiB file (fio, debug kernel under TCG: compare, do not quote)"
for fs in ext4 rext4 ext4 rext4; do
	echo 3 >/proc/sys/vm/drop_caches
	mount -t $fs -o ro $dev "$mnt"
	fio --name=seq --filename="$mnt/data" --readonly --rw=read --bs=1M --ioengine=psync \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' -v fs=$fs '{ printf "%-6s seq read 1M: %7.1f MiB/s\n", fs, $7 / 1024 }'
	umount "$mnt"
done

step "ext4 writes more, then the power goes (EXT4_IOC_SHUTDOWN, then dm-flakey drops every write)"
sectors=$(blockdev --getsz $dev)
dmsetup create demo-flakey --table "0 $sectors flakey $dev 0 3600 0"
mount -t ext4 -o nodelalloc /dev/mapper/demo-flakey "$mnt"
mkdir "$mnt/after-crash"
for i in $(seq 1 100); do echo "written just before the crash: $i" >"$mnt/after-crash/f$i"; done
mv "$mnt/dir/f1" "$mnt/after-crash/moved"
sum_crash=$(cat "$mnt"/after-crash/* | sha256sum)
"$VMTOOLS" shutdown "$mnt" logflush >/dev/null
dmsetup suspend --nolockfs demo-flakey
dmsetup load demo-flakey --table "0 $sectors flakey $dev 0 0 3600 1 drop_writes"
dmsetup resume demo-flakey
umount "$mnt"
dmsetup remove demo-flakey
dumpe2fs -h $dev 2>/dev/null | grep -E '^Filesystem features:'

step "mount -t rext4 -o ro $dev: rext4 replays the journal with the kernel's jbd2"
dmesg -C
got=$(mount_errno rext4 $dev "$mnt" 1 buffered_iomap)
[ "$got" = OK ] || fail "rext4 mount after the crash: $got"
dmesg | grep -E "rext4 \(" | sed 's/^\[[ 0-9.]*\] //'
[ "$(cat "$mnt"/after-crash/* | sha256sum)" = "$sum_crash" ] || fail "rext4's replay lost what ext4 committed"
echo "after-crash/ has $(ls "$mnt/after-crash" | wc -l) entries, contents as ext4 wrote them"
umount "$mnt"
dumpe2fs -h $dev 2>/dev/null | grep -q needs_recovery && fail "needs_recovery still set"

step "mount -t rext4 -o buffered_iomap $dev $mnt: rext4 writes (namespace operations through jbd2 handles)"
mount -t rext4 -o buffered_iomap $dev "$mnt" || fail "rext4 read-write mount failed"
grep " $mnt " /proc/mounts
mkdir -p "$mnt/rw/tree/a/b" "$mnt/rw/empty"
for i in $(seq 1 200); do : >"$mnt/rw/tree/entry-$i"; done
mv "$mnt/after-crash" "$mnt/rw/tree/a/b/replayed"
mv "$mnt/dir/f2" "$mnt/rw/renamed"
ln "$mnt/rw/renamed" "$mnt/rw/hardlink"
ln -s ../data "$mnt/rw/symlink"
mkfifo "$mnt/rw/fifo"
rm "$mnt/data" "$mnt/rw/tree"/entry-1??
rmdir "$mnt/rw/empty"
chmod 700 "$mnt/rw/tree"
sync
step "rext4 writes file data through iomap: 32 MiB sequential, 4 MiB of random 4k overwrites, an append, a truncate, an mmap edit, fsync"
fio --name=seq --filename="$mnt/rw/written" --rw=write --bs=1M --size=32M --ioengine=psync \
	--end_fsync=1 --output=/dev/null
fio --name=rand --filename="$mnt/rw/written" --rw=randwrite --bs=4k --size=32M --io_size=4M \
	--randseed=7 --ioengine=psync --end_fsync=1 --output=/dev/null
head -c 100000 /dev/urandom >>"$mnt/rw/written"
truncate -s 30M "$mnt/rw/written"
python3 -c 'import mmap,os,sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 0)
m[12345:12345 + 20] = b"edited through mmap!"
m.flush(); m.close(); os.fsync(fd)' "$mnt/rw/written"
sum_written=$(sha256sum <"$mnt/rw/written")
filefrag "$mnt/rw/written" | sed "s|$mnt/||"
echo 3 >/proc/sys/vm/drop_caches
[ "$(sha256sum <"$mnt/rw/written")" = "$sum_written" ] || fail "rext4 read back other data than it wrote"
echo "30 MiB file: sha256 read back from disk by rext4 == what was written"
echo "rw/ holds $(find "$mnt/rw" | wc -l) objects; statfs: $(stat -f -c '%f free blocks, %d free inodes' "$mnt")"
tree_rext4=$(cd "$mnt" && find . -printf '%y %m %n %s %p\n' | awk '$1 == "d" { $4 = "-" } { print }' | LC_ALL=C sort | sha256sum)
umount "$mnt"
step "e2fsck -fn $dev"
e2fsck -fn $dev >/dev/null && echo "clean" || fail "e2fsck after rext4 wrote"
mount -t ext4 -o ro $dev "$mnt"
tree_ext4=$(cd "$mnt" && find . -printf '%y %m %n %s %p\n' | awk '$1 == "d" { $4 = "-" } { print }' | LC_ALL=C sort | sha256sum)
umount "$mnt"
[ "$tree_ext4" = "$tree_rext4" ] || fail "ext4 sees another tree than rext4 wrote"
echo "the in-tree ext4 driver reads the tree rext4 wrote (names, types, modes, links, sizes)"
mount -t ext4 -o ro $dev "$mnt"
[ "$(sha256sum <"$mnt/rw/written")" = "$sum_written" ] || fail "ext4 reads other data than rext4 wrote"
umount "$mnt"
echo "and the 30 MiB file's contents: sha256 read by ext4 == written by rext4"

step "sequential 1M writes of 64 MiB with fsync, rext4 (buffered_iomap) beside ext4 (debug kernel under TCG: compare, do not quote)"
for fs in ext4 rext4 ext4 rext4; do
	opts=; [ $fs = rext4 ] && opts=-obuffered_iomap
	mount -t $fs $opts $dev "$mnt"
	fio --name=seqw --filename="$mnt/bench" --rw=write --bs=1M --size=64M --ioengine=psync \
		--end_fsync=1 --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' -v fs=$fs '{ printf "%-6s seq write 1M: %7.1f MiB/s\n", fs, $48 / 1024 }'
	rm "$mnt/bench"
	umount "$mnt"
done
e2fsck -fn $dev >/dev/null 2>&1 && echo "e2fsck -fn: clean" || fail "e2fsck after the write runs"
unload_module
