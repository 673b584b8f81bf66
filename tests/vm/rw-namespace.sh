#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Read-write rext4, namespace operations through the kernel's jbd2 (or the
# buffer cache on ^has_journal). On each image variant:
# - rext4 mounts read-write with -o buffered_iomap (/proc/mounts says rw
#   and nodelalloc), builds a tree (one directory grown to several blocks,
#   one grown to an extent tree with an index level, its blocks
#   interleaved with other directories') with mkdir, create, mknod (FIFO,
#   socket, char and block devices), fast and slow symlinks (up to a block
#   less one byte; a block's worth is ENAMETOOLONG), hard links, renames
#   (in a directory, across directories, a directory moved, a rename over
#   an existing file, RENAME_NOREPLACE, RENAME_EXCHANGE of files and of a
#   file with a directory across directories, RENAME_WHITEOUT), unlink,
#   rmdir, chmod, chown and
#   touch; errnos are ext4's (EEXIST, ENOTEMPTY, ENAMETOOLONG, EINVAL for a
#   directory moved below itself, EPERM for a link to a directory); a file
#   unlinked while open stays readable with a link count of 0;
# - after unmount e2fsck -fn is clean, the super block is clean (no
#   needs_recovery, state clean, one more mount), and the in-tree ext4
#   shows exactly the tree rext4 showed (names, types, modes, owners,
#   link counts, sizes, mtimes, link targets, device numbers);
# - the reverse: ext4 writes files with data, rext4 renames and deletes
#   them (freeing their extents, one file with a tree of index levels cut
#   down over several transactions); e2fsck -fn clean; deleting everything
#   gives back exactly the free blocks and inodes mkfs left; a small image
#   filled to ENOSPC (inodes) gives ENOSPC and nothing else;
# - crash: rext4 syncs a tree (and a file unlinked while open, so on the
#   orphan list), then every later write is dropped (dm-flakey) and rext4
#   unmounts: the journal rext4 leaves is replayed by the in-tree ext4, by
#   e2fsck and by rext4 (a read-write mount, which processes orphans), each
#   giving the synced tree with the orphan freed: e2fsck -fn is clean after
#   each.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
PY=${PY:-python3}

# manifest DIR: one line per object (type, mode, owner, links, size, mtime,
# device, target), in name order; directory sizes are left out (ext4 and
# rext4 may lay directories out differently).
manifest() {
	(cd "$1" && find . -path ./lost+found -prune -o \
		-printf '%y %m %U:%G %n %s %T@ %p -> %l\n' | LC_ALL=C sort |
		awk '$1 == "d" { $5 = "-" } { print }' &&
		find . -type c -o -type b | LC_ALL=C sort | xargs -r stat -c '%n %t:%T')
}

# errno_of CMD...: the errno name a command fails with (via strace-free
# python), or OK.
errno_of() {
	"$PY" - "$@" <<'EOF'
import errno, os, sys
op, *a = sys.argv[1:]
try:
    {"mkdir": lambda p: os.mkdir(p), "rmdir": lambda p: os.rmdir(p),
     "rename": lambda a, b: os.rename(a, b), "link": lambda a, b: os.link(a, b),
     "symlink": lambda t, p: os.symlink(t, p),
     "creat": lambda p: os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY)),
     "noreplace": lambda a, b: __import__("ctypes").CDLL(None, use_errno=True).renameat2(
         -100, a.encode(), -100, b.encode(), 1) == 0 or (_ for _ in ()).throw(
         OSError(__import__("ctypes").get_errno(), "renameat2")),
     "exchange": lambda a, b: __import__("ctypes").CDLL(None, use_errno=True).renameat2(
         -100, a.encode(), -100, b.encode(), 2) == 0 or (_ for _ in ()).throw(
         OSError(__import__("ctypes").get_errno(), "renameat2")),
     "whiteout": lambda a, b: __import__("ctypes").CDLL(None, use_errno=True).renameat2(
         -100, a.encode(), -100, b.encode(), 4) == 0 or (_ for _ in ()).throw(
         OSError(__import__("ctypes").get_errno(), "renameat2")),
     }[op](*a)
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
EOF
}

expect() { # expect WANT CMD...
	local want=$1 got
	shift
	got=$(errno_of "$@")
	[ "$got" = "$want" ] || fail "$name: $*: got $got, want $want"
}

sb_field() { dumpe2fs -h "$1" 2>/dev/null | sed -n "s/^$2: *//p"; }

free_counts() { dumpe2fs -h "$1" 2>/dev/null | grep -E '^Free (blocks|inodes):'; }

workload() {
	local m=$1
	mkdir -p "$m/a/b/c" "$m/d" "$m/e/f"
	for i in $(seq 1 30); do : >"$m/a/file-$i"; done
	for i in $(seq 1 10); do : >"$m/a/b/c/deep-$i"; done
	# A directory grown past one block (a dozen on 1k blocks).
	mkdir "$m/wide"
	(cd "$m/wide" && for i in $(seq 1 400); do : >"a-longer-file-name-$i"; done)
	# A directory whose blocks alternate with other directories' blocks:
	# past four extents its tree grows an index level.
	mkdir "$m/frag" "$m/spacers"
	local long
	long=$(printf 'n%.0s' $(seq 1 200))
	for i in $(seq 1 40); do
		for j in 1 2 3 4 5; do : >"$m/frag/$i-$j-$long"; done
		mkdir "$m/spacers/s$i"
	done
	rm "$m/wide"/a-longer-file-name-1?? 
	mkfifo "$m/d/fifo"
	mknod "$m/d/tty" c 4 1
	mknod "$m/d/blk" b 259 70000
	"$PY" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$m/d/sock"
	ln -s ../a/file-1 "$m/d/sym"
	ln -s /some/absolute/target/that/is/rather/long/but/fits "$m/d/sym2"
	# Slow symlinks (the target in a block): 60 bytes, 300, and the
	# longest a block takes; one is deleted again (its block freed).
	local bs slow
	bs=$(stat -f -c %S "$m")
	for n in 60 300 $((bs - 1)); do
		slow=$(printf 'p%.0s' $(seq 1 "$n"))
		ln -s "${slow:0:$((n - 7))}/target" "$m/d/slow-$n"
		[ "$(readlink "$m/d/slow-$n")" = "${slow:0:$((n - 7))}/target" ] || fail "$name: slow symlink of $n bytes reads back wrong"
	done
	ln -s "$slow" "$m/d/slow-gone"
	rm "$m/d/slow-gone"
	expect ENAMETOOLONG symlink "${slow}x" "$m/d/too-long"
	ln "$m/a/file-2" "$m/d/hard"
	ln "$m/a/file-2" "$m/e/hard2"
	mv "$m/a/file-3" "$m/a/file-3-renamed"
	mv "$m/a/file-4" "$m/e/f/moved"
	mv "$m/a/b" "$m/e/b-moved"
	mv "$m/a/file-5" "$m/a/file-6"
	rm "$m/a/file-7" "$m/a/file-8"
	rmdir "$m/e/b-moved/c" 2>/dev/null && fail "$name: rmdir of a non-empty directory worked"
	rm "$m/e/b-moved/c"/deep-*
	rmdir "$m/e/b-moved/c"
	chmod 0751 "$m/a/file-9"
	chown 1234:5678 "$m/a/file-10"
	touch -d '2030-01-02 03:04:05.123456789' "$m/a/file-11"
	touch -h -d '1999-12-31 23:59:59' "$m/d/sym"
	chmod 1777 "$m/d"
	expect EEXIST mkdir "$m/a"
	expect EEXIST creat "$m/a/file-1"
	expect ENOTEMPTY rmdir "$m/e"
	expect EINVAL rename "$m/e" "$m/e/f/inside"
	expect EPERM link "$m/e" "$m/e-link"
	expect ENAMETOOLONG creat "$m/a/$(printf 'n%.0s' $(seq 1 256))"
	expect EEXIST noreplace "$m/a/file-1" "$m/a/file-9"
	expect OK noreplace "$m/a/file-12" "$m/a/file-12-nr"
	# RENAME_EXCHANGE: two files, then a file and a directory across
	# directories (the directory's .. and both link counts follow).
	expect OK exchange "$m/a/file-13" "$m/a/file-14"
	mkdir "$m/e/swap-dir"
	expect OK exchange "$m/a/file-15" "$m/e/swap-dir"
	[ -d "$m/a/file-15" ] && [ -f "$m/e/swap-dir" ] || fail "$name: exchange did not swap"
	[ "$(stat -c %i "$m/a/file-15/..")" = "$(stat -c %i "$m/a")" ] || fail "$name: exchanged directory's .. is wrong"
	expect ENOENT exchange "$m/a/file-15" "$m/a/no-such"
	# RENAME_WHITEOUT (overlayfs): the old name becomes a 0:0 character
	# device.
	expect OK whiteout "$m/a/file-16" "$m/e/whited"
	[ "$(stat -c '%F %t:%T' "$m/a/file-16")" = "character special file 0:0" ] ||
		fail "$name: no whiteout at the old name: $(stat -c '%F %t:%T' "$m/a/file-16")"
	[ -f "$m/e/whited" ] || fail "$name: the whited-out file did not move"
	# Blocks freed and allocated again across commits (a background sync
	# keeps commits coming): jbd2 must never see a block reused while its
	# committing transaction still holds it.
	for i in $(seq 1 20); do
		mkdir "$m/loop-$i"
		rmdir "$m/loop-$i"
		[ $((i % 5)) = 0 ] && sync &
	done
	wait
	# A file unlinked while open stays, with no links, until closed.
	exec 3<"$m/a/file-13"
	rm "$m/a/file-13"
	[ "$(stat -L -c %h /proc/self/fd/3)" = 0 ] || fail "$name: open unlinked file has links"
	exec 3<&-
}

variants=("4k:" "1k:-b 1024 -O ^metadata_csum,^64bit" "nojournal:-O ^has_journal" "128:-I 128 -b 2048")
for v in "${variants[@]}"; do
	name=${v%%:*}
	args=${v#*:}
	# shellcheck disable=SC2086
	img=$(new_image "$name.img" 64M $args)
	fresh=$(free_counts "$img")
	mounts0=$(sb_field "$img" "Mount count")
	d=$(attach "$img")
	mount -t rext4 -o buffered_iomap "$d" "$mnt" || fail "$name: rext4 rw mount failed"
	opts=$(awk -v m="$mnt" '$2 == m {print $4}' /proc/mounts)
	case ",$opts," in *,rw,*nodelalloc*) ;; *) fail "$name: /proc/mounts options: $opts" ;; esac
	workload "$mnt"
	want=$(manifest "$mnt")
	umount "$mnt"
	e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "$name: e2fsck after rext4 writes"; }
	debugfs -R "ex /frag" "$d" 2>/dev/null | grep -q '^ *1/' ||
		fail "$name: /frag has no index level"
	[ "$(sb_field "$d" "Filesystem state")" = clean ] || fail "$name: state not clean"
	sb_field "$d" "Filesystem features" | grep -qw needs_recovery && fail "$name: needs_recovery after unmount"
	[ "$(sb_field "$d" "Mount count")" = $((mounts0 + 1)) ] || fail "$name: mount count not raised"
	mount -t ext4 -o ro "$d" "$mnt" || fail "$name: ext4 mount failed"
	got=$(manifest "$mnt")
	umount "$mnt"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); fail "$name: ext4 sees another tree"; }
	log "$name: rext4 wrote $(echo "$want" | wc -l) objects; e2fsck and ext4 agree"

	# The reverse: ext4 writes data, rext4 moves and frees it.
	mount -t ext4 "$d" "$mnt" || fail "$name: ext4 rw mount failed"
	mkdir "$mnt/data"
	for i in 1 2 3 4; do head -c $((i * 70000)) /dev/urandom >"$mnt/data/blob-$i"; done
	head -c 24M /dev/zero >"$mnt/data/huge"
	# One byte in every other block: 300 extents, a tree with index levels.
	"$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_CREAT | os.O_WRONLY, 0o644)
bs = os.statvfs(sys.argv[1]).f_bsize
for i in range(300):
    os.pwrite(fd, b"x", 2 * i * bs)
os.fsync(fd)' "$mnt/data/frag"
	# A directory ext4 indexes (an htree), for rext4 to add to and remove
	# from: its leaves split, its index grows.
	"$PY" -c '
import os, sys
for i in range(1500):
    os.close(os.open(os.path.join(sys.argv[1], f"ext4-made-name-{i:05d}"), os.O_CREAT | os.O_WRONLY, 0o644))
' "$(mkdir -p "$mnt/data/idx" && echo "$mnt/data/idx")"
	umount "$mnt"
	debugfs -R "htree /data/idx" "$d" 2>/dev/null | grep -q "Number of entries" ||
		fail "$name: ext4 did not index /data/idx"
	debugfs -R "ex /data/frag" "$d" 2>/dev/null | grep -q '^ *1/' ||
		fail "$name: ext4 left /data/frag without index levels"
	mount -t rext4 "$d" "$mnt" || fail "$name: rext4 remount failed"
	[ "$(tr -d '\0' <"$mnt/data/frag" | wc -c)" = 300 ] || fail "$name: rext4 reads /data/frag wrong"
	rm "$mnt/data/frag"
	"$PY" -c '
import os, sys
d = sys.argv[1]
names = set(os.listdir(d))
for i in range(2500):
    n = f"rext4-added-{i}-" + "x" * (i % 50)
    os.close(os.open(os.path.join(d, n), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    names.add(n)
for i in range(0, 1500, 3):
    n = f"ext4-made-name-{i:05d}"
    os.unlink(os.path.join(d, n))
    names.discard(n)
for i in range(1, 1500, 30):
    a, b = f"ext4-made-name-{i:05d}", f"renamed-{i}"
    os.rename(os.path.join(d, a), os.path.join(d, b))
    names.discard(a)
    names.add(b)
os.mkdir(os.path.join(d, "subdir"))
os.rename(os.path.join(d, "subdir"), os.path.join(d, "..", "moved-out-of-idx"))
with open(sys.argv[2], "w") as f:
    f.write("\n".join(sorted(names)) + "\n")
if set(os.listdir(d)) != names:
    sys.exit("rext4 lists /data/idx otherwise than it changed it")
' "$mnt/data/idx" "$WORK/idx.want" || fail "$name: changing ext4's indexed directory"
	sums=$(cd "$mnt/data" && sha256sum blob-1 blob-2)
	mv "$mnt/data/blob-1" "$mnt/a/blob-1"
	mv "$mnt/data/blob-2" "$mnt/data/blob-3" # replaces blob-3, freeing it
	rm "$mnt/data/blob-4"
	# A large delete, then allocations at once: the freed stretch waits
	# for its commit and is skipped as a whole.
	rm "$mnt/data/huge"
	for i in 1 2 3 4 5; do mkdir "$mnt/data/after-huge-$i"; done
	[ "$(cd "$mnt" && sha256sum a/blob-1 data/blob-3 | awk '{print $1}')" = "$(echo "$sums" | awk '{print $1}')" ] ||
		fail "$name: renamed files changed"
	df_free=$(stat -f -c '%f %a %d' "$mnt")
	umount "$mnt"
	e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "$name: e2fsck after rext4 freed data"; }
	mount -t ext4 -o ro "$d" "$mnt" || fail "$name: ext4 mount failed"
	ls -1 "$mnt/data/idx" | LC_ALL=C sort | cmp -s - <(LC_ALL=C sort "$WORK/idx.want") ||
		fail "$name: ext4 lists /data/idx otherwise than rext4 left it"
	for f in renamed-1 rext4-added-2499-$(printf 'x%.0s' $(seq 1 49)); do
		[ -e "$mnt/data/idx/$f" ] || fail "$name: ext4's index lookup misses $f"
	done
	umount "$mnt"
	log "$name: ext4's indexed directory changed by rext4 (2500 names added, 500 removed, 50 renamed): ext4 lists and finds them"
	# Everything goes: the counts are what mkfs left.
	mount -t rext4 "$d" "$mnt" || fail "$name: rext4 mount for cleanup failed"
	find "$mnt" -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf {} +
	free_now=$(stat -f -c '%f %d' "$mnt")
	umount "$mnt"
	e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "$name: e2fsck after deleting everything"; }
	[ "$(free_counts "$d")" = "$fresh" ] || { echo "$fresh"; free_counts "$d"; fail "$name: free counts not restored"; }
	[ "$free_now" = "$(sb_field "$d" "Free blocks") $(sb_field "$d" "Free inodes")" ] ||
		fail "$name: statfs said $free_now, dumpe2fs $(free_counts "$d")"
	log "$name: reverse direction and cleanup: e2fsck clean, counts restored ($df_free)"
	losetup -d "$d"
done

# ENOSPC: a small image runs out of inodes; nothing else fails, e2fsck is
# clean, statfs says 0 free inodes, and deleting it all gives back what
# mkfs left.
name=enospc
img=$(new_image enospc.img 8M -b 1024 -N 64)
fresh=$(free_counts "$img")
d=$(attach "$img")
mount -t rext4 "$d" "$mnt" || fail "enospc: mount failed"
n=0
while :; do
	r=$(errno_of creat "$mnt/f-$n")
	[ "$r" = OK ] || break
	n=$((n + 1))
	[ $n -lt 1000 ] || fail "enospc: no end to free inodes"
done
[ "$r" = ENOSPC ] || fail "enospc: creat failed with $r, want ENOSPC"
[ "$(stat -f -c %d "$mnt")" = 0 ] || fail "enospc: statfs free inodes $(stat -f -c %d "$mnt")"
expect ENOSPC mkdir "$mnt/dir"
umount "$mnt"
e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "enospc: e2fsck when full"; }
mount -t rext4 "$d" "$mnt" || fail "enospc: remount failed"
rm -f "$mnt"/f-*
umount "$mnt"
e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "enospc: e2fsck after deleting"; }
[ "$(free_counts "$d")" = "$fresh" ] || fail "enospc: free counts not restored"
losetup -d "$d"
log "enospc: $n files filled the inode table; ENOSPC, e2fsck clean, counts restored"

# Crash: the journal rext4 leaves is replayed by ext4, e2fsck and rext4.
img=$(new_image crash.img 64M -J size=8)
d=$(attach "$img")
sectors=$(blockdev --getsz "$d")
dmsetup create rext4-rw --table "0 $sectors flakey $d 0 3600 0" || fail "dmsetup create failed"
mount -t rext4 -o buffered_iomap /dev/mapper/rext4-rw "$mnt" || fail "crash: rext4 mount failed"
name=crash
workload "$mnt"
# Unlinked while open at the cut: on the orphan list in the journal, so
# every replay must free it (e2fsck -fn finds it otherwise).
head -c 200000 /dev/urandom >"$mnt/open-unlinked"
exec 7<"$mnt/open-unlinked"
rm "$mnt/open-unlinked"
sync
want=$(manifest "$mnt")
dmsetup suspend rext4-rw
dmsetup load rext4-rw --table "0 $sectors flakey $d 0 0 3600 1 drop_writes"
dmsetup resume rext4-rw
mkdir "$mnt/lost-after-sync"
: >"$mnt/a/lost-file"
exec 7<&-
umount "$mnt"
dmsetup remove rext4-rw
losetup -d "$d"
sb_field "$img" "Filesystem features" | grep -qw needs_recovery || fail "crash: no needs_recovery left"
for who in ext4 e2fsck rext4; do
	cp --sparse=always "$img" "$WORK/replay.img"
	r=$(attach "$WORK/replay.img")
	case $who in
	e2fsck) e2fsck -fy "$r" >/dev/null 2>&1; mount -t ext4 -o ro "$r" "$mnt" ;;
	# ext4 processes orphans on a read-only mount too; rext4 only on a
	# read-write one.
	rext4) mount -t rext4 -o buffered_iomap "$r" "$mnt" ;;
	*) mount -t "$who" -o ro "$r" "$mnt" ;;
	esac || fail "crash: $who replay mount failed"
	got=$(manifest "$mnt")
	umount "$mnt"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got"); fail "crash: $who replay gives another tree"; }
	e2fsck -fn "$r" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "crash: e2fsck after $who replay"; }
	losetup -d "$r"
	log "crash: $who replayed rext4's journal to the synced tree, freed the open unlinked file; e2fsck clean"
done
echo PASS
