#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench` (read path): fio sequential and random reads at
# 4k, 64k and 1M, cold (caches dropped, fresh mount) and cached, of the same
# file on the same ramdisk, by rext4, in-tree ext4 and XFS, interleaved, each
# repeated BENCH_REPEAT times. Raw fio JSON goes to $REXT4_OUT/bench/.
. "$(dirname "$0")/../vm/lib.sh"
: "${BENCH_REPEAT:=5}" "${BENCH_SIZE:=768M}" "${BENCH_RAND_IO:=256M}" "${BENCH_RUNTIME:=5}"
# A subset, for investigating one row: BENCH_CACHE="cold", BENCH_RW="read",
# BENCH_BS="64k", BENCH_FS="rext4 ext4" (each a list; default all).
: "${BENCH_CACHE:=cold cached}" "${BENCH_RW:=read randread}" "${BENCH_BS:=4k 64k 1M}"
: "${BENCH_FS:=rext4 ext4 xfs}"
load_module
out=$REXT4_OUT/bench
mkdir -p "$out" "$WORK/mnt"
mnt=$WORK/mnt

# The same file (BENCH_SIZE), written once by ext4 on ram0 and by XFS on ram1.
mkfs.ext4 -F -q /dev/ram0
mkfs.xfs -f -q /dev/ram1
for d in ram0:ext4 ram1:xfs; do
	mount -t "${d#*:}" "/dev/${d%:*}" "$mnt"
	fio --name=fill --filename="$mnt/data" --rw=write --bs=1M --size="$BENCH_SIZE" \
		--ioengine=psync --end_fsync=1 --output=/dev/null
	umount "$mnt"
done
e2fsck -fn /dev/ram0 >/dev/null || fail "e2fsck after fill"

run_one() { # fs rw bs cache rep
	local fs=$1 rw=$2 bs=$3 cache=$4 rep=$5 dev=/dev/ram0 opts=ro
	case $fs in
	rext4) opts=ro,buffered_iomap ;;
	xfs) dev=/dev/ram1 ;;
	esac
	sync
	echo 3 >/proc/sys/vm/drop_caches
	mount -t "$fs" -o "$opts" "$dev" "$mnt"
	local extra=(--size="$BENCH_SIZE")
	if [ "$cache" = cached ]; then
		# fio drops the file's pages before it starts unless told not to
		# (invalidate=1 is its default): without this, "cached" rows read
		# the ramdisk on their first pass.
		cat "$mnt/data" >/dev/null
		extra+=(--time_based --runtime="$BENCH_RUNTIME" --invalidate=0)
	elif [ "$rw" = randread ]; then
		extra+=(--io_size="$BENCH_RAND_IO")
	fi
	fio --name="$fs-$rw-$bs-$cache" --filename="$mnt/data" --readonly --rw="$rw" --bs="$bs" \
		--ioengine=psync --randrepeat=1 "${extra[@]}" --output-format=json \
		--output="$out/$fs.$rw.$bs.$cache.$rep.json" >/dev/null 2>&1 || fail "fio $fs $rw $bs $cache"
	umount "$mnt"
}

for rep in $(seq 1 "$BENCH_REPEAT"); do
	# Interleave: every configuration runs once per round, in an order that
	# rotates the file systems so none always goes first.
	read -ra fss <<<"$BENCH_FS"
	n=${#fss[@]} order=
	for i in "${!fss[@]}"; do order+=" ${fss[$(((i + rep) % n))]}"; done
	for cache in $BENCH_CACHE; do
		for rw in $BENCH_RW; do
			for bs in $BENCH_BS; do
				for fs in $order; do run_one "$fs" "$rw" "$bs" "$cache" "$rep"; done
			done
		done
	done
	log "round $rep done"
done
unload_module
