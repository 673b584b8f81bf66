# SPDX-License-Identifier: GPL-2.0
# Sourced by every VM test (tests/vm/*.sh). A test is a bash script that runs
# as root inside the guest, exits 0 on success, and says why when it fails.
# scripts/vm also fails it on any splat in the kernel log it caused.
set -euo pipefail
: "${REXT4_KO:?run VM tests through scripts/vm}"

fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "# $*"; }

WORK=$(mktemp -d /tmp/rext4-test.XXXXXX)
LOOPS=()
MOUNTS=()
LOADED=
cleanup() {
	local m l
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || true; done
	# A failed test may leave its own mounts behind: unmount every rext4.
	awk '$3 == "rext4" {print $2}' /proc/mounts | while read -r m; do umount "$m" 2>/dev/null; done
	# And whatever it mounted in its work directory (ext4 oracles included).
	awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || true; done
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
	if [ -n "$LOADED" ] && grep -qw rext4 /proc/filesystems; then rmmod rext4 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
# A command that stops the test through set -e says which one it was.
trap 'echo "FAIL: line $LINENO: \"$BASH_COMMAND\" exited $?" >&2' ERR
# The harness's time limit sends TERM: exit through the cleanup.
trap 'exit 143' TERM INT

# insmod the module under test and check the VFS sees the type.
load_module() {
	[ -f "$REXT4_KO" ] || fail "module $REXT4_KO does not exist"
	grep -qw rext4 /proc/filesystems && fail "rext4 is already registered before insmod"
	insmod "$REXT4_KO" || fail "insmod $REXT4_KO failed"
	grep -qw rext4 /proc/filesystems || fail "rext4 not in /proc/filesystems after insmod"
	LOADED=1
}

unload_module() {
	rmmod rext4 || fail "rmmod rext4 failed"
	grep -qw rext4 /proc/filesystems && fail "rext4 still in /proc/filesystems after rmmod"
	return 0
}

# new_image NAME SIZE [mkfs.ext4 args...]: a formatted image file in $WORK.
new_image() {
	local name=$1 size=$2
	shift 2
	truncate -s "$size" "$WORK/$name"
	mkfs.ext4 -F -q "$@" "$WORK/$name" >/dev/null || fail "mkfs.ext4 $* failed"
	echo "$WORK/$name"
}

# attach FILE: a loop device for it (detached at exit).
attach() {
	local dev
	dev=$(losetup -f --show "$1") || fail "losetup $1 failed"
	LOOPS+=("$dev")
	echo "$dev"
}

# mount_errno FSTYPE DEV DIR [FLAGS [DATA]]: mount(2) directly and print the
# outcome as "OK" or the errno name, so tests can assert the exact error.
mount_errno() {
	"$VMTOOLS" mount "$1" "$2" "$3" "${4:-0}" ${5:+"$5"}
}
