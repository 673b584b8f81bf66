#!/usr/bin/env bash
# Corrupt images never crash the kernel: each of several hundred mutated
# images (bit flips and overwrites in metadata blocks, found with e2image)
# either fails to mount with an error, or mounts and every file, link,
# xattr and directory can be walked, each access succeeding or failing with
# an errno. The VM harness fails the test on any oops, WARN, KFENCE report,
# lockdep splat, hang or timeout. The loop runs inside `vmtools fuzz`: one
# process for all images, as process starts are slow under TCG.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
total=0 refused=0 mounted=0 errors=0
while read -r v n; do
	out=$("$VMTOOLS" fuzz "$PREP/$v.img" "$PREP/$v.plan" rext4 "$mnt" "$WORK/m.img") ||
		fail "vmtools fuzz failed on $v${out:+ ($out)}"
	read -r i r m e <<<"$out"
	[ "$i" = "$n" ] || fail "$v: $i of $n images tried"
	log "$v: $i images, $r refused at mount, $m mounted ($e access errors)"
	total=$((total + i)) refused=$((refused + r)) mounted=$((mounted + m)) errors=$((errors + e))
done <"$PREP/variants"
unload_module
log "$total images: $refused refused at mount, $mounted mounted ($errors access errors)"
[ "$total" -ge 300 ] || fail "only $total images tried"
[ "$refused" -gt 0 ] && [ "$mounted" -gt 0 ] && [ "$errors" -gt 0 ] ||
	fail "the mutations did not exercise both mount-time and access-time checks"
