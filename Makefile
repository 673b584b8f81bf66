# rext4: the two commands README.md promises, and the pieces they are made of.
#   make            build rext4.ko against the cached test kernel (builds it if missing)
#   make check      host tests, then VM tests; ends with "N passed, N failed"
#   make demo       boot a VM, mkfs, insmod, mount, a workload, a comparison with ext4
#   make bench      fio: rext4 beside in-tree ext4 and XFS, as ratios
#   make crash      200 power cuts (dm-flakey), each replayed by rext4, ext4, e2fsck
# FLAVOR=debug (tests, default) or bench selects the kernel; KDIR= overrides it
# with any Rust-enabled 7.3 build tree.

FLAVOR ?= debug
SHELL := /bin/bash
ENV := . scripts/env.sh;
KDIR ?= $(shell $(ENV) scripts/build-kernel --dir $(FLAVOR))
# Build output stays out of the source tree, one directory per kernel.
MO ?= $(CURDIR)/build/$(notdir $(KDIR))
KMAKE = $(ENV) $(MAKE) -C $(KDIR) M=$(CURDIR) MO=$(MO) \
	RUST_LIB_SRC="$$REXT4_RUST_LIB_SRC" BINDGEN=bindgen

.PHONY: all module kernel print-kdir check host-test vm-test demo bench crash clippy fmt clean setup

all: module

module: kernel
	@mkdir -p $(MO)
	+$(KMAKE) modules
	@echo "built $(MO)/rext4.ko"

# The kernel is built once per config and cached (scripts/build-kernel).
kernel:
	@if [ -z "$(filter command line environment,$(origin KDIR))" ]; then \
		$(ENV) scripts/build-kernel $(FLAVOR) >/dev/null; fi
	@test -f $(KDIR)/Module.symvers || { echo "KDIR=$(KDIR) is not a built kernel tree" >&2; exit 1; }

print-kdir:
	@echo $(KDIR)

setup:
	scripts/setup

# Clippy over the module, in its own output directory (the .ko it leaves is
# not the one tests load).
clippy: kernel
	@mkdir -p $(MO)-clippy
	+$(KMAKE) MO=$(MO)-clippy CLIPPY=1 modules
	$(ENV) cargo clippy --all-targets -- -D warnings

fmt:
	rustfmt --edition 2021 --check src/rext4_main.rs src/host_lib.rs

host-test:
	scripts/check --host-only

vm-test: module
	scripts/check --vm-only

check:
	scripts/check

demo:
	scripts/demo

bench:
	scripts/bench

# The long power-cut run: 200 seeded cuts (make check runs a few). Under TCG
# about 2 minutes per cut; POWERCUT_SEEDS= picks others.
POWERCUT_SEEDS ?= $(shell seq 1 200)
crash: module
	POWERCUT_SEEDS="$(POWERCUT_SEEDS)" FLAVOR=debug scripts/vm --timeout 36000 \
		--test-timeout 36000 tests/vm/power-cut.sh

clean:
	rm -rf build target
