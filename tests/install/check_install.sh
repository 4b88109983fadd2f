#!/usr/bin/env bash
# Install the build into a scratch prefix and build a consumer against it
# with pkg-config, linked dynamically and statically; both must run.
#   check_install.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -euo pipefail
build=$1
src=$2
cc=$3
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name mwrt.pc -printf '%h\n' | head -n1)/..
libdir=$(cd "$libdir" && pwd)
for f in include/mwrt/mwrt.h include/mwrt/alloc.h include/mwrt/common.h; do
    [ -f "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
for f in libmwrt.a libmwrt.so libmwmalloc.so; do
    [ -e "$libdir/$f" ] || { echo "missing $libdir/$f"; exit 1; }
done
if find "$prefix/include" -name '*.h' | xargs grep -l MW_BUILD_INTERNAL >/dev/null; then
    echo "an internal header was installed"; exit 1
fi

export PKG_CONFIG_PATH=$libdir/pkgconfig
"$cc" -o "$prefix/consumer" "$src/consumer.c" $(pkg-config --cflags --libs mwrt) \
      -Wl,-rpath,"$libdir"
"$prefix/consumer" | grep -q "hello from mwrt"
"$cc" -o "$prefix/consumer_static" "$src/consumer.c" $(pkg-config --cflags mwrt) \
      "$libdir/libmwrt.a" $(pkg-config --libs-only-other --static mwrt)
"$prefix/consumer_static" | grep -q "hello from mwrt"
echo "install: ok (headers, libmwrt.a, libmwrt.so, libmwmalloc.so, mwrt.pc)"
