#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Power cuts: a writer (the in-tree ext4 driver, then rext4 with
# buffered_iomap) runs a seeded workload on a dm-flakey device (appends,
# overwrites, truncates, renames, unlinks, a directory grown past one block
# (into an htree under ext4), xattrs (ext4 only: rext4 does not write them
# yet), shared-mmap writes, files written and fsynced), and at a random moment
# the device starts dropping every write (dm-flakey drop_writes, switched
# without freezing the file system, as fstests' _flakey_drop_and_remount).
# What the device holds then is a crash image, replayed in turn by rext4
# (read-only mount), by the in-tree ext4 and by e2fsck, each on its own copy.
# After each replay: e2fsck -fn is clean, every file fsynced before the cut
# has the contents it had when its fsync returned, and no file shows the
# pattern laid down and deleted before the workload (zeros at worst, never
# stale data). rext4's and ext4's replays must show the same tree.
# POWERCUT_SEEDS picks the seeds (make check: a few; make crash: 200) and
# POWERCUT_WRITERS the writers (default: "ext4 rext4", each seed under each);
# each failure names its seed and writer. A seed fixes the workload and the delay before the
# cut; under TCG the point the workload has reached by then varies a little
# from run to run, so a rerun of a seed cuts near, not exactly at, the same
# operation.
. "$(dirname "$0")/lib.sh"
load_module
mnt=$WORK/mnt
mkdir -p "$mnt"
seeds=${POWERCUT_SEEDS:-1 2 3}
writers=${POWERCUT_WRITERS:-ext4 rext4}
STALE=STALE-DATA-MUST-NEVER-BE-SEEN

manifest() { # the tree below $1: names, types, sizes, links, targets, contents
	(cd "$1" && find . -printf '%y %m %s %n %p -> %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
}

# check WHO IMG FSTYPE: mount IMG read-only with FSTYPE and check it.
check() {
	local who=$1 img=$2 fs=$3 d out f sum
	d=$(attach "$img")
	out=$(mount_errno "$fs" "$d" "$mnt" 1)
	[ "$out" = OK ] || fail "$tag: $who: $fs mount failed: $out"
	while read -r f sum; do
		[ -f "$mnt/$f" ] || fail "$tag: $who: fsynced file $f is missing"
		[ "$(sha256sum <"$mnt/$f" | cut -d' ' -f1)" = "$sum" ] || fail "$tag: $who: fsynced file $f differs"
	done <"$WORK/durable"
	if grep -rlaF "$STALE" "$mnt" >"$WORK/stale"; then
		cat "$WORK/stale"
		fail "$tag: $who: stale data in the files above"
	fi
	manifest "$mnt" >"$WORK/$who.tree"
	umount "$mnt"
	losetup -d "$d"
	e2fsck -fn "$img" >"$WORK/fsck.log" 2>&1 || { cat "$WORK/fsck.log"; fail "$tag: $who: e2fsck -fn after the replay"; }
}

# fill N: N bytes of text naming the file (bash builtins: no processes).
fill() {
	local s="$1 $RANDOM "
	while ((${#s} < $2)); do s+=$s; done
	printf '%s' "${s:0:$2}"
}

workload() {
	local i j f n
	# Any command that fails is a finding (writes dropped by the cut still
	# succeed): it is named and fails the seed.
	trap 'echo "$BASH_COMMAND (exit $?)" >"$WORK/workload-failed"' ERR
	RANDOM=$seed
	mkdir -p "$mnt/w/big" "$mnt/w/dur"
	local after=0
	for ((i = 0; i < 60; i++)); do
		# A few operations run into the dropped writes, then it stops:
		# nothing after the cut reaches the disk anyway.
		if [ -e "$WORK/cutting" ]; then
			after=$((after + 1))
			[ $after -le 3 ] || break
		fi
		n=$((RANDOM % 20000 + 1))
		case $((RANDOM % 10)) in
		0 | 1) # a file written once and fsynced: it must survive the cut
			f=w/dur/f$i
			fill "durable $i" "$n" >"$mnt/$f"
			sync "$mnt/$f"
			[ -e "$WORK/cutting" ] || echo "$f $(sha256sum <"$mnt/$f" | cut -d' ' -f1)" >>"$WORK/durable" ;;
		2) fill "log $i" "$((n % 3000 + 1))" >>"$mnt/w/log" ;;
		3) fill "scratch $i" "$n" >"$mnt/w/s$((RANDOM % 8))" ;;
		4) [ -e "$mnt/w/s$((i % 8))" ] && truncate -s "$((n / 3))" "$mnt/w/s$((i % 8))" ;;
		5) [ -e "$mnt/w/s$((i % 8))" ] && mv "$mnt/w/s$((i % 8))" "$mnt/w/s$((RANDOM % 8))" ;;
		6) rm -f "$mnt/w/s$((RANDOM % 8))" ;;
		7) for ((j = 0; j < 40; j++)); do : >"$mnt/w/big/entry-with-a-long-name-$i-$j"; done ;;
		8) [ -e "$mnt/w/log" ] && [ "$writer" = ext4 ] && setfattr -n "user.a$((i % 4))" -v "$n" "$mnt/w/log" ;;
		9) [ -e "$mnt/w/log" ] && "$VMTOOLS" mmapwrite "$mnt/w/log" "$n" ;;
		esac
	done
}

ran=0
for writer in $writers; do
for seed in $seeds; do
	t0=$SECONDS
	tag="seed $seed, writer $writer"
	wopts=
	[ "$writer" = rext4 ] && wopts=-obuffered_iomap
	: >"$WORK/durable"
	rm -f "$WORK/cutting" "$WORK/workload-failed"
	args=
	((seed % 2)) && args="-b 1024 -O ^metadata_csum"
	# shellcheck disable=SC2086
	img=$(new_image "cut.img" 64M $args)
	d=$(attach "$img")
	sectors=$(blockdev --getsz "$d")
	# Stale data: written, synced home, deleted; no file may show it again.
	mount -t ext4 "$d" "$mnt" || fail "seed $seed: ext4 mount failed"
	fill "$STALE" 20000000 >"$mnt/stale"
	sync
	rm "$mnt/stale"
	umount "$mnt"
	dmsetup create rext4-flakey --table "0 $sectors flakey $d 0 3600 0" || fail "dmsetup create failed"
	mount -t "$writer" $wopts /dev/mapper/rext4-flakey "$mnt" || fail "$tag: mount on flakey failed"
	workload &
	wl=$!
	# The cut: 3 to 40 s in (the workload takes longer under TCG).
	sleep $((3 + seed * 7 % 38))
	: >"$WORK/cutting"
	dmsetup suspend --nolockfs rext4-flakey
	dmsetup load rext4-flakey --table "0 $sectors flakey $d 0 0 3600 1 drop_writes"
	dmsetup resume rext4-flakey
	wait "$wl" || true
	if [ -s "$WORK/workload-failed" ]; then
		fail "$tag: the workload failed: $(cat "$WORK/workload-failed")"
	fi
	tw=$((SECONDS - t0))
	umount "$mnt"
	dmsetup remove rext4-flakey
	losetup -d "$d"
	for who in rext4 ext4 e2fsck; do cp --sparse=always "$img" "$WORK/$who.img"; done

	dmesg -C
	check rext4 "$WORK/rext4.img" rext4
	check ext4 "$WORK/ext4.img" ext4
	e2fsck -fy "$WORK/e2fsck.img" >"$WORK/fsck.log" 2>&1 || [ $? -le 1 ] || { cat "$WORK/fsck.log"; fail "$tag: e2fsck could not replay"; }
	check e2fsck "$WORK/e2fsck.img" rext4
	diff "$WORK/ext4.tree" "$WORK/rext4.tree" >"$WORK/tree.diff" || { head -20 "$WORK/tree.diff"; fail "$tag: rext4's replay shows another tree than ext4's"; }
	log "$tag: $(wc -l <"$WORK/durable") fsynced files survived, no stale data, rext4 = ext4 = e2fsck replay ($(wc -l <"$WORK/rext4.tree") tree lines; workload ${tw}s, all $((SECONDS - t0))s)"
	ran=$((ran + 1))
done
done
unload_module
log "$ran power cuts (seeds: $seeds; writers: $writers), each replayed by rext4, ext4 and e2fsck"
