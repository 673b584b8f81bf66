#!/usr/bin/env bash
# Corrupt images never crash the kernel: each of a few hundred mutated
# images (bit flips and overwrites in metadata blocks, found with e2image)
# either fails to mount with an error, or mounts and every file, link,
# xattr and directory can be walked, each access succeeding or failing with
# an errno. The VM harness fails the test on any oops, WARN, KFENCE report,
# lockdep splat, hang or timeout.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
mounted=0 refused=0 access_errors=0 total=0
while read -r v n; do
	for i in $(seq 0 $((n - 1))); do
		"$VMTOOLS" patch "$PREP/$v.img" "$PREP/$v.plan" "$i" "$WORK/m.img"
		dev=$(losetup -f --show "$WORK/m.img")
		total=$((total + 1))
		if [ "$(mount_errno rext4 "$dev" "$mnt" 1)" = OK ]; then
			mounted=$((mounted + 1))
			# Read everything; errors are expected, crashes are not.
			read -r _ e < <("$VMTOOLS" walk "$mnt")
			access_errors=$((access_errors + e))
			umount "$mnt" || fail "umount failed after image $v/$i"
		else
			refused=$((refused + 1))
		fi
		losetup -d "$dev"
		[ $((total % 50)) = 0 ] && log "$total images so far"
	done
done <"$PREP/variants"
unload_module
log "$total images: $refused refused at mount, $mounted mounted ($access_errors access errors)"
[ "$total" -ge 300 ] || fail "only $total images tried"
[ "$refused" -gt 0 ] && [ "$mounted" -gt 0 ] && [ "$access_errors" -gt 0 ] ||
	fail "the mutations did not exercise both mount-time and access-time checks"
