#!/usr/bin/env bash
# Install what mwrt needs to build, test and benchmark, from Debian's
# packages.  Run as root (the set-up commands in README.md call it).
set -euo pipefail

packages=(
    # build
    build-essential cmake pkg-config
    # libraries
    libuv1-dev libck-dev check libhiredis-dev liblua5.1-0-dev
    lua-cjson-dev lua-bitop-dev libssl-dev
    # real programs the tests drive, and the benchmarks' peers
    python3 redis-server redis-tools tcl
    # the request parser's fuzz target (libFuzzer), the latency report's plots
    clang libclang-rt-14-dev gnuplot-nox time
    libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libmimalloc-dev libgc-dev
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#packages[@]} packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing ${missing[*]}; run as root to install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
