#!/usr/bin/env bash
# Where a cold sequential read spends its time: perf (cpu-clock, all CPUs)
# over one fio read of the same file by rext4 and by in-tree ext4; the top
# kernel symbols of each go to $REXT4_OUT/profile/. Run with
#   FLAVOR=bench scripts/vm tests/bench/profile-read.sh
# Not part of make check or make bench. Under VM_QEMU_OPTS="-icount ..."
# (as make bench runs) the guest clock counts instructions, so the samples
# are an instruction profile.
. "$(dirname "$0")/../vm/lib.sh"
: "${BENCH_SIZE:=768M}" "${BENCH_BS:=64k}"
load_module
out=$REXT4_OUT/profile
mkdir -p "$out" "$WORK/mnt"
mnt=$WORK/mnt
mkfs.ext4 -F -q /dev/ram0
mount -t ext4 /dev/ram0 "$mnt"
fio --name=fill --filename="$mnt/data" --rw=write --bs=1M --size="$BENCH_SIZE" \
	--ioengine=psync --end_fsync=1 --output=/dev/null
umount "$mnt"
for fs in rext4 ext4; do
	opts=ro
	[ $fs = rext4 ] && opts=ro,buffered_iomap
	sync
	echo 3 >/proc/sys/vm/drop_caches
	mount -t $fs -o $opts /dev/ram0 "$mnt"
	perf record -q -e cpu-clock -a -o "$WORK/$fs.data" -- \
		fio --name=r --filename="$mnt/data" --readonly --rw=read --bs="$BENCH_BS" \
		--ioengine=psync --output-format=terse --output="$out/$fs.fio" >/dev/null 2>&1 ||
		fail "perf/fio $fs"
	perf report -i "$WORK/$fs.data" --stdio --sort sym --no-children 2>/dev/null |
		awk '!/^#/ && NF && n++ < 80' >"$out/$fs.top"
	perf report -i "$WORK/$fs.data" --stdio --sort dso --no-children 2>/dev/null |
		awk '!/^#/ && NF && n++ < 20' >"$out/$fs.dso"
	umount "$mnt"
done
unload_module
log "profiles in $out"
