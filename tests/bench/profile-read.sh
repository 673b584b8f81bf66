#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where a sequential read spends its time: perf (cpu-clock, all CPUs) over
# one fio read of the same file by rext4 and by in-tree ext4, cold (after
# drop_caches and a fresh mount) or, with BENCH_CACHE=cached, from the page
# cache; the top symbols of each go to $REXT4_OUT/profile/. Run with
#   FLAVOR=bench scripts/vm tests/bench/profile-read.sh
# Not part of make check or make bench. Under VM_QEMU_OPTS="-icount ..."
# (as make bench runs) the guest clock counts instructions, so the samples
# are an instruction profile.
. "$(dirname "$0")/../vm/lib.sh"
: "${BENCH_SIZE:=768M}" "${BENCH_BS:=64k}" "${BENCH_CACHE:=cold}" "${BENCH_RW:=read}"
# PERF_PERIOD: cpu-clock sampling period in ns (under -icount: guest
# instructions per sample); the default 250000 is perf's 4 kHz.
: "${PERF_PERIOD:=250000}" "${PERF_TOP:=120}"
load_module
# Let perf sample as often as asked (it throttles to 4-25 kHz otherwise).
echo 1000000 >/proc/sys/kernel/perf_event_max_sample_rate
echo 0 >/proc/sys/kernel/perf_cpu_time_max_percent
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
	extra=(--loops=1)
	if [ "$BENCH_CACHE" = cached ]; then
		cat "$mnt/data" >/dev/null
		extra=(--loops=3 --invalidate=0)
	fi
	perf record -q -e cpu-clock -c "$PERF_PERIOD" -a -o "$WORK/$fs.data" -- \
		fio --name=r --filename="$mnt/data" --readonly --rw="$BENCH_RW" --bs="$BENCH_BS" \
		--ioengine=psync "${extra[@]}" --output-format=terse --output="$out/$fs.fio" >/dev/null 2>&1 ||
		fail "perf/fio $fs"
	# Sample counts (-n) of the fio task only: comparable across the two
	# runs (the idle CPU's samples are left out).
	perf report -i "$WORK/$fs.data" --stdio --comms fio -n --sort sym --no-children 2>/dev/null |
		awk -v top="$PERF_TOP" '!/^#/ && NF && n++ < top' >"$out/$fs.top"
	perf report -i "$WORK/$fs.data" --stdio --sort dso --no-children 2>/dev/null |
		awk '!/^#/ && NF && n++ < 20' >"$out/$fs.dso"
	umount "$mnt"
done
unload_module
log "profiles in $out"
