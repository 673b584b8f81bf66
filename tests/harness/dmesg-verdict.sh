#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The VM harness must fail a test on every kind of kernel splat and pass a
# clean log. Feeds scripts/dmesg-verdict real-looking samples of each.
set -u
v="$(dirname "$0")/../../scripts/dmesg-verdict"
bad=0
clean='[    1.234567] rext4: registered file system type rext4
[    2.000000] EXT4-fs (loop0): mounted filesystem 1234 r/w with ordered data mode.
[    3.000000] loop0: detected capacity change from 0 to 131072'
echo "$clean" | "$v" >/dev/null || { echo "clean log judged bad"; bad=1; }
while IFS= read -r line; do
	[ -z "$line" ] && continue
	if printf '%s\n%s\n' "$clean" "$line" | "$v" >/dev/null; then
		echo "missed: $line"; bad=1
	fi
done <<'EOF2'
[   10.1] BUG: kernel NULL pointer dereference, address: 0000000000000008
[   10.1] WARNING: CPU: 1 PID: 345 at fs/iomap/buffered-io.c:123 iomap_foo+0x12/0x40
[   10.1] Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP
[   10.1] BUG: KASAN: slab-use-after-free in rext4_foo+0x10/0x20 [rext4]
[   10.1] BUG: KFENCE: out-of-bounds read in rext4_bar+0x1/0x2 [rext4]
[   10.1] WARNING: possible circular locking dependency detected
[   10.1] WARNING: possible recursive locking detected
[   10.1] INFO: task fio:123 blocked for more than 60 seconds.
[   10.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [fio:12]
[   10.1] BUG kmalloc-64 (Not tainted): Redzone overwritten
[   10.1] unreferenced object 0xffff888003a1b000 (size 64):
[   10.1] rust_kernel: panicked at src/ondisk/extent.rs:10:5:
[   10.1] list_add corruption. prev->next should be next (ffff888), but was 0000.
[   10.1] UBSAN: shift-out-of-bounds in fs/ext4/hash.c:42:1
[   10.1] Kernel panic - not syncing: Fatal exception
EOF2
exit $bad
