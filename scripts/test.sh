#!/usr/bin/env bash
# Install dependencies, build, and run every test with ctest.
#   scripts/test.sh            the default build (assertions at level 2)
#   scripts/test.sh asan       ASan + UBSan
#   scripts/test.sh tsan       ThreadSanitizer
#   scripts/test.sh debug3     every invariant validator on (MWRT_DEBUG=3)
#   scripts/test.sh torture    the unit suites with a collection before every
#                              container allocation (MWRT_GC_TORTURE=1)
set -euo pipefail
cd "$(dirname "$0")/.."

flavor=${1:-default}
case "$flavor" in
    default) opts=(-DCMAKE_BUILD_TYPE=Debug -DMWRT_DEBUG=2) ;;
    asan)    opts=(-DCMAKE_BUILD_TYPE=Debug -DMWRT_DEBUG=2 -DMWRT_SANITIZE=address) ;;
    tsan)    opts=(-DCMAKE_BUILD_TYPE=Debug -DMWRT_DEBUG=2 -DMWRT_SANITIZE=thread) ;;
    debug3)  opts=(-DCMAKE_BUILD_TYPE=Debug -DMWRT_DEBUG=3) ;;
    torture) opts=(-DCMAKE_BUILD_TYPE=Debug -DMWRT_DEBUG=2) ;;
    *) echo "usage: $0 [default|asan|tsan|debug3|torture]" >&2; exit 2 ;;
esac

scripts/deps.sh
build=build/test-$flavor
cmake -S . -B "$build" "${opts[@]}" -DMWRT_BUILD_BENCH=OFF
cmake --build "$build" -j "$(nproc)"
# halt_on_error keeps a sanitizer report from scrolling past as a pass.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
if [ "$flavor" = torture ]; then
    MWRT_GC_TORTURE=1 ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -L unit
else
    ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
fi
