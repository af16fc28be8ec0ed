#!/usr/bin/env bash
# meson test's runner for the Rust example: builds it offline with cargo against
# the library of this meson build (its meson-uninstalled/closs-uninstalled.pc),
# then runs it. Exits 77 (meson's "skipped") when cargo or pkg-config is missing.
set -euo pipefail
build=${1:?usage: run.sh MESON_BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
for tool in cargo pkg-config; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool not found"
        exit 77
    fi
done
export PKG_CONFIG_PATH="$build/meson-uninstalled${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CARGO_TARGET_DIR="$build/examples/rust-target"
cargo run --offline --quiet --manifest-path "$here/Cargo.toml"
