#!/usr/bin/env bash
# Install dependencies, build an optimized mwrt, and run the main job: the
# allocator benchmark against glibc, jemalloc, mimalloc and tcmalloc.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMWRT_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)"
bench/alloc/run.sh "$build" "${REPS:-5}"
