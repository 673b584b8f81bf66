#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# EXT4_IOC_SHUTDOWN (FS_IOC_SHUTDOWN), which fstests' shutdown tests and much
# of its crash coverage need. For each flag (default, logflush,
# nologflush), on rext4 -o buffered_iomap and, as calibration, on the
# in-tree ext4 on the same kind of image:
# - before it: the ioctl answers EPERM to an unprivileged caller and
#   EINVAL to an unknown flag, and changes nothing;
# - after it: reads, writes, fsync, mmap, creating, removing and renaming
#   answer EIO (stat still works), a store to a shared mapping made
#   before it, over written blocks, goes through as in ext4 (writeback
#   drops it), a second shutdown is a no-op,
#   and the errnos are ext4's for every one of them;
# - after unmount (the journal replayed by the in-tree ext4): a file that
#   was fsynced before the shutdown has its contents, one written but not
#   synced is whole too after "default" (the device is frozen, so synced,
#   first), and e2fsck -fn is clean.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
PY=${PY:-python3}

# probe OP PATH...: the errno name OP fails with, or OK.
probe() {
	"$PY" - "$@" <<'EOF'
import errno, fcntl, mmap, os, signal, struct, sys
op, p, *rest = sys.argv[1:]
SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
def shut(flag, uid=None):
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    if uid is not None:
        os.setuid(uid)
    fcntl.ioctl(fd, SHUTDOWN, struct.pack("I", flag))
def fault():
    fd = os.open(p, os.O_RDWR)
    m = mmap.mmap(fd, 4096)
    pid = os.fork()
    if pid == 0:
        m[0:1] = b"x"
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        raise OSError(errno.EFAULT, signal.Signals(os.WTERMSIG(st)).name)
def shut_mapped(flag):
    # A shared mapping made before the shutdown, its page read in: the
    # first store after it is a write fault, which must fail.
    fd = os.open(rest[1], os.O_RDWR)
    m = mmap.mmap(fd, 4096)
    m[0]
    shut(flag)
    pid = os.fork()
    if pid == 0:
        m[0:1] = b"x"
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    sig = signal.Signals(os.WTERMSIG(st)).name if os.WIFSIGNALED(st) else "no signal"
    print("OK; store to an earlier mapping:", sig)
    sys.exit(0)
def fsync():
    fd = os.open(p, os.O_RDONLY)
    os.fsync(fd)
ops = {
    "read": lambda: os.read(os.open(p, os.O_RDONLY), 10),
    "write": lambda: os.write(os.open(p, os.O_WRONLY), b"late"),
    "fsync": fsync,
    "create": lambda: os.open(p, os.O_CREAT | os.O_WRONLY, 0o644),
    "mkdir": lambda: os.mkdir(p),
    "unlink": lambda: os.unlink(p),
    "rename": lambda: os.rename(p, rest[0]),
    "stat": lambda: os.stat(p),
    "fault": fault,
    "shutdown": lambda: shut(int(rest[0])),
    "shutdown-mapped": lambda: shut_mapped(int(rest[0])),
    "shutdown-nobody": lambda: shut(int(rest[0]), 65534),
}
try:
    ops[op]()
    print("OK")
except OSError as e:
    # A signal (fault) is named by the signal, an errno by its name.
    print(e.strerror if e.errno == errno.EFAULT and e.strerror.startswith("SIG") else errno.errorcode[e.errno])
EOF
}

# run FSTYPE FLAG: the sequence above; prints one "op: result" per line.
run() {
	local fs=$1 flag=$2 img d opts=
	[ "$fs" = rext4 ] && opts=buffered_iomap
	img=$(new_image "$fs-$flag.img" 64M)
	d=$(attach "$img")
	mount -t "$fs" ${opts:+-o $opts} "$d" "$mnt" || fail "$fs: mount failed"
	mkdir "$mnt/dir"
	head -c 300000 /dev/urandom >"$mnt/synced"
	sync "$mnt/synced"
	head -c 5000 /dev/urandom >"$mnt/dir/late"
	head -c 8192 /dev/urandom >"$mnt/mapped"
	sync "$mnt/mapped"
	sha256sum <"$mnt/synced" >"$WORK/synced.sum"
	sha256sum <"$mnt/dir/late" >"$WORK/late.sum"
	echo "nobody: $(probe shutdown-nobody "$mnt" "$flag")"
	echo "bad flag: $(probe shutdown "$mnt" 3)"
	echo "read before: $(probe read "$mnt/synced")"
	echo "shutdown: $(probe shutdown-mapped "$mnt" "$flag" "$mnt/mapped")"
	echo "again: $(probe shutdown "$mnt" "$flag")"
	for op in read write fsync fault; do
		echo "$op: $(probe $op "$mnt/mapped")"
	done
	echo "create: $(probe create "$mnt/new")"
	echo "mkdir: $(probe mkdir "$mnt/newdir")"
	echo "unlink: $(probe unlink "$mnt/synced")"
	echo "rename: $(probe rename "$mnt/synced" "$mnt/moved")"
	echo "stat: $(probe stat "$mnt/synced")"
	umount "$mnt" || fail "$fs $flag: umount after the shutdown failed"
	# What the device kept, read by the in-tree ext4 after its replay.
	mount -t ext4 -o ro "$d" "$mnt" || fail "$fs $flag: ext4 cannot mount what is left"
	sha256sum <"$mnt/synced" | cmp -s - "$WORK/synced.sum" || fail "$fs $flag: the fsynced file changed"
	if [ "$flag" = 0 ]; then
		sha256sum <"$mnt/dir/late" | cmp -s - "$WORK/late.sum" || fail "$fs $flag: a file written before the freeze changed"
	fi
	umount "$mnt"
	e2fsck -fn "$d" >"$WORK/fsck.out" 2>&1 || { cat "$WORK/fsck.out"; fail "$fs $flag: e2fsck -fn after the shutdown"; }
	losetup -d "$d"
}

for flag in 0 1 2; do
	run ext4 $flag >"$WORK/ext4.out"
	run rext4 $flag >"$WORK/rext4.out"
	grep -q "^shutdown: OK" "$WORK/rext4.out" || { cat "$WORK/rext4.out"; fail "flag $flag: rext4's shutdown failed"; }
	diff "$WORK/ext4.out" "$WORK/rext4.out" >"$WORK/diff" || {
		cat "$WORK/diff"
		fail "flag $flag: rext4 answers otherwise than ext4 (< ext4, > rext4)"
	}
	log "flag $flag: $(tr '\n' ';' <"$WORK/rext4.out" | sed 's/;/; /g')fsynced data kept, e2fsck clean (as ext4)"
done
unload_module
echo PASS
