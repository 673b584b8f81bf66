# SPDX-License-Identifier: GPL-2.0
# Sourced by every script: where the toolchain pieces live. Override any of
# these in the environment. Nothing here lives in the repository.
: "${REXT4_CACHE:=/var/cache/rext4}"
# Pinned kernel: Debian linux-source-7.3 from trixie-backports.
: "${REXT4_KVER_DEB:=7.3.4-1~bpo13+1}"
: "${REXT4_KVER:=7.3.4}"
REXT4_RUSTC_VER=$(rustc --version 2>/dev/null | awk '{print $2}')
: "${REXT4_RUST_LIB_SRC:=$REXT4_CACHE/rust-src-$REXT4_RUSTC_VER/usr/src/rustc-$REXT4_RUSTC_VER/library}"
: "${REXT4_SRC:=$REXT4_CACHE/linux-$REXT4_KVER}"
: "${REXT4_VENV:=$REXT4_CACHE/venv}"
: "${LIBCLANG_PATH:=$REXT4_VENV/lib/python3.11/site-packages/clang/native}"
PATH="$HOME/.cargo/bin:$REXT4_VENV/bin:$PATH"
export REXT4_CACHE REXT4_KVER REXT4_SRC REXT4_VENV REXT4_RUST_LIB_SRC LIBCLANG_PATH PATH
msg() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
