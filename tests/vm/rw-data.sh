#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# File data through rext4's iomap write path (mount -o buffered_iomap). On
# each image variant:
# - a seeded random workload (dataops.py: pwrite at odd offsets and lengths
#   with holes, appends, truncates down and up, shared-mmap writes, O_DIRECT
#   writes read back, fsync/fdatasync) runs on rext4 and on a tmpfs model op
#   for op; a 6 MiB file is copied in, a log grows by small O_APPEND writes,
#   40 small files are written;
# - every file's sha256 equals the model's: while mounted, after the page
#   cache is dropped (so read from disk), after a rext4 remount, and through
#   the in-tree ext4; e2fsck -fn is clean after the workload, after the
#   files are deleted, and the free block count mkfs left is back;
# - the reverse: ext4 writes files, rext4 overwrites, appends and truncates
#   them, ext4 reads back what the model says;
# - ENOSPC: a small image filled by one writer gets ENOSPC (not another
#   errno), e2fsck is clean when full, deleting gives the space back;
# - crash: files are written and fsynced, then the device drops every write
#   (dm-flakey) while more is written; the in-tree ext4's replay shows every
#   fsynced file with the contents it had, no stale data, e2fsck clean.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
model=$WORK/model
mkdir -p "$mnt" "$model"
PY=${PY:-python3}
ops=${DATAOPS:-250}
here=$(dirname "$0")

sums() { (cd "$1" && find . -path ./lost+found -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
free_blocks() { dumpe2fs -h "$1" 2>/dev/null | sed -n 's/^Free blocks: *//p'; }
fsck() { # fsck DEV WHAT
	e2fsck -fn "$1" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "$2: e2fsck -fn"; }
}
clear() { find "$1" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} +; }
same() { # same WHAT: the mount's files equal the model's
	local a b
	a=$(sums "$mnt")
	b=$(sums "$model")
	[ "$a" = "$b" ] || { diff <(echo "$b") <(echo "$a") | head -20; fail "$1: contents differ from the model"; }
}

# past_eof FILE HOW: bytes stored through mmap past EOF (in the EOF page)
# read as zeros once a truncate up or a write past them moves EOF there.
past_eof() {
	"$PY" - "$1" "$2" <<'EOF'
import ctypes, mmap, os, sys
p, how = sys.argv[1:]
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"a" * 1000)
os.fsync(fd)
# Python's mmap will not map past EOF; libc's maps the whole EOF page.
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
addr = libc.mmap(None, 4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0)
if addr in (None, ctypes.c_void_p(-1).value):
    sys.exit(f"mmap: errno {ctypes.get_errno()}")
ctypes.memset(addr + 1000, ord("Z"), 200)
libc.munmap(ctypes.c_void_p(addr), ctypes.c_size_t(4096))
if how == "truncate":
    os.ftruncate(fd, 8192)
else:
    os.pwrite(fd, b"end", 6000)
got = os.pread(fd, 300, 1000)
os.unlink(p)
sys.exit(0 if got == bytes(300) else f"{how}: past EOF reads {got[:24]!r}...")
EOF
}

variants=("4k:" "1k:-b 1024 -O ^metadata_csum,^64bit" "nojournal:-O ^has_journal")
for v in "${variants[@]}"; do
	name=${v%%:*}
	img=$(new_image "$name.img" 96M ${v#*:})
	fresh=$(free_blocks "$img")
	d=$(attach "$img")
	clear "$model"
	mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "$name: mount failed"
	grep -q " $mnt rext4 rw," /proc/mounts || fail "$name: not mounted read-write"

	head -c 6M /dev/urandom >"$WORK/src"
	cp "$WORK/src" "$mnt/copied"
	cp "$WORK/src" "$model/copied"
	mkdir "$mnt/small" "$model/small"
	for i in $(seq 1 40); do
		head -c $((i * 997)) "$WORK/src" | tee "$mnt/small/$i" >"$model/small/$i"
	done
	for i in $(seq 1 60); do
		echo "line $i of the log, appended one write at a time" | tee -a "$mnt/log" >>"$model/log"
	done
	"$PY" "$here/dataops.py" 1 "$ops" "$mnt" "$model" || fail "$name: workload"
	same "$name: mounted"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	same "$name: after drop_caches"
	umount "$mnt"
	fsck "$d" "$name: after the workload"
	mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "$name: remount failed"
	same "$name: after remount"
	umount "$mnt"
	mount -t ext4 -o ro "$d" "$mnt" || fail "$name: ext4 mount failed"
	same "$name: read by ext4"
	umount "$mnt"
	log "$name: $ops random ops, a copy, small files, a log: contents match the model (cache, disk, remount, ext4); e2fsck clean"

	# The reverse: ext4 writes, rext4 changes, ext4 reads.
	mount -t ext4 "$d" "$mnt" || fail "$name: ext4 rw mount failed"
	clear "$mnt"; clear "$model"
	for f in a b c; do head -c 300000 /dev/urandom | tee "$mnt/$f" >"$model/$f"; done
	for how in truncate write; do past_eof "$mnt/eof" $how || fail "$name: ext4 (calibration)"; done
	umount "$mnt"
	mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "$name: rext4 mount after ext4 failed"
	"$PY" "$here/dataops.py" 2 60 "$mnt" "$model" || fail "$name: workload over ext4's files"
	for how in truncate write; do past_eof "$mnt/eof" $how || fail "$name: mmap stores past EOF"; done
	printf 'over' | dd of="$mnt/a" bs=1 seek=12345 conv=notrunc status=none
	printf 'over' | dd of="$model/a" bs=1 seek=12345 conv=notrunc status=none
	truncate -s 1000 "$mnt/b" "$model/b"
	head -c 5000 "$WORK/src" | tee -a "$mnt/c" >>"$model/c"
	umount "$mnt"
	fsck "$d" "$name: rext4 over ext4's files"
	mount -t ext4 -o ro "$d" "$mnt" || fail "$name: ext4 mount failed"
	same "$name: rext4's changes read by ext4"
	umount "$mnt"

	mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "$name: mount failed"
	clear "$mnt"
	umount "$mnt"
	fsck "$d" "$name: after deleting everything"
	[ "$(free_blocks "$d")" = "$fresh" ] || fail "$name: free blocks $(free_blocks "$d"), mkfs left $fresh"
	log "$name: ext4's files changed by rext4 read back by ext4; deleting gives back every block"
	losetup -d "$d"
done

# ENOSPC: one writer fills a small image.
img=$(new_image enospc.img 16M -b 1024)
fresh=$(free_blocks "$img")
d=$(attach "$img")
mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "enospc: mount failed"
r=$("$PY" -c '
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
try:
    while True:
        os.write(fd, b"x" * 65536)
except OSError as e:
    print(errno.errorcode[e.errno])
' "$mnt/fill")
[ "$r" = ENOSPC ] || fail "enospc: writing failed with $r, want ENOSPC"
sync
umount "$mnt"
fsck "$d" "enospc: full"
mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "enospc: remount failed"
size=$(stat -c %s "$mnt/fill")
[ "$(tr -d x <"$mnt/fill" | wc -c)" = 0 ] || fail "enospc: the file holds more than what was written"
rm "$mnt/fill"
umount "$mnt"
fsck "$d" "enospc: after deleting"
[ "$(free_blocks "$d")" = "$fresh" ] || fail "enospc: free blocks not restored"
losetup -d "$d"
log "enospc: $size bytes written, then ENOSPC; e2fsck clean; space back after rm"

# Crash: fsynced data survives, nothing stale shows.
img=$(new_image crash.img 64M -J size=8)
d=$(attach "$img")
# Blocks that held a pattern, freed before the workload: no file may show it.
mount -t ext4 "$d" "$mnt"
(yes STALE-DATA-MUST-NEVER-BE-SEEN || true) | head -c 20M >"$mnt/stale"
rm "$mnt/stale"
umount "$mnt"
sectors=$(blockdev --getsz "$d")
dmsetup create rext4-data --table "0 $sectors flakey $d 0 3600 0" || fail "dmsetup create failed"
mount -t rext4 -o buffered_iomap /dev/mapper/rext4-data "$mnt" || fail "crash: mount failed"
clear "$model"
"$PY" "$here/dataops.py" 3 80 "$mnt" "$model" || fail "crash: workload"
for f in "$mnt"/f*; do "$PY" -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)' "$f"; done
want=$(sums "$mnt")
dmsetup suspend rext4-data
dmsetup load rext4-data --table "0 $sectors flakey $d 0 0 3600 1 drop_writes"
dmsetup resume rext4-data
"$PY" "$here/dataops.py" 4 40 "$mnt" "$model" >/dev/null 2>&1 || true
head -c 3M /dev/urandom >"$mnt/lost" || true
umount "$mnt"
dmsetup remove rext4-data
losetup -d "$d"
cp --sparse=always "$img" "$WORK/replay.img"
r=$(attach "$WORK/replay.img")
mount -t ext4 -o ro "$r" "$mnt" || fail "crash: ext4 replay mount failed"
got=$(sums "$mnt" | grep -v ' ./lost$' || true)
grep -rlq STALE-DATA "$mnt" && fail "crash: a file shows stale data"
umount "$mnt"
# The second workload may have changed the files after their fsync only
# if its writes reached the device before the cut; they did not.
[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); fail "crash: fsynced files differ after ext4's replay"; }
fsck "$r" "crash: after ext4's replay"
log "crash: ext4 replays rext4's journal; every fsynced file intact, nothing stale, e2fsck clean"
echo PASS
