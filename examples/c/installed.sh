#!/usr/bin/env bash
# meson test's check of examples/README.md: installs this build into a scratch
# DESTDIR and compiles fit_line.c against the installed library as a user would,
# with pkg-config (PKG_CONFIG_SYSROOT_DIR maps the install's paths into DESTDIR):
# shared with a run path (it runs without LD_LIBRARY_PATH), and static with
# `pkg-config --static`. Also checks the run path of the installed fit_line.
#   installed.sh BUILD_DIR fit_line.c CC
set -euo pipefail
build=$1 src=$2 cc=$3
meson=$(command -v meson || true)
if [ -z "$meson" ] || ! command -v pkg-config >/dev/null || ! command -v readelf >/dev/null; then
    echo "SKIP: meson, pkg-config and readelf are needed"
    exit 77
fi
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
"$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet
pc=$(find "$dest" -name closs.pc)
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$dest
prefix_libdir=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=libdir closs)
libdir=$dest$prefix_libdir
echo "pkg-config --cflags --libs closs: $(pkg-config --cflags --libs closs)"
echo "pkg-config --static --libs closs: $(pkg-config --static --libs closs)"

# Shared: the run path is what lets it start.
"$cc" "$src" $(pkg-config --cflags --libs closs) -o "$dest/no_rpath"
if env -u LD_LIBRARY_PATH "$dest/no_rpath" >/dev/null 2>&1; then
    echo "note: libcloss.so was found without a run path (installed system-wide?)"
fi
"$cc" "$src" $(pkg-config --cflags --libs closs) -Wl,-rpath,"$libdir" -o "$dest/fit_line"
env -u LD_LIBRARY_PATH "$dest/fit_line"

# Static: --static adds what libcloss.a needs (OpenMP, libm, threads, the BLAS);
# -l:libcloss.a (GNU ld) takes the archive where -lcloss would take the shared
# library. A BLAS outside the install (the scipy-openblas32 wheel's) got the
# sysroot prefix too: its -L is mapped back, with a run path for its library.
static_libs=()
for flag in $(pkg-config --static --libs closs | sed 's/-lcloss\b/-l:libcloss.a/'); do
    if [[ $flag == -L"$dest"* && ! -d ${flag#-L} ]]; then
        flag=-L${flag#-L"$dest"}
        static_libs+=("-Wl,-rpath,${flag#-L}")
    fi
    static_libs+=("$flag")
done
"$cc" "$src" $(pkg-config --cflags closs) "${static_libs[@]}" -o "$dest/fit_line_static"
if readelf -d "$dest/fit_line_static" | grep -q 'libcloss'; then
    echo "the static build still needs libcloss.so"; exit 1
fi
env -u LD_LIBRARY_PATH "$dest/fit_line_static"

# The installed example carries the install's libdir as its run path.
installed=$(find "$dest" -path '*libexec*' -name fit_line -type f)
readelf -d "$installed" | grep -E 'RUNPATH|RPATH' | tee /dev/stderr | grep -qF "$prefix_libdir"
echo "installed example: run path $prefix_libdir"
