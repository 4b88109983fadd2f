#!/bin/sh
# Build the RESP parser's libFuzzer target with clang and run it briefly on
# the committed seed corpus.  Used when the project's compiler is not clang
# (with clang, CMake builds the target itself and calls this with "run").
#
#   run_fuzz.sh build CLANG SOURCE_DIR OUT_DIR SECONDS
#   run_fuzz.sh run   BINARY SOURCE_DIR OUT_DIR SECONDS
#
# Exits 77 (ctest: skipped) with a message when clang or its libFuzzer
# runtime is missing.
set -u
mode=$1 tool=$2 src=$3 out=$4 secs=$5
mkdir -p "$out/corpus" || exit 1
bin=$tool
if [ "$mode" = build ]; then
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "fuzz_resp: skipped: clang not found (apt-get install clang libclang-rt-14-dev)"
        exit 77
    fi
    bin=$out/fuzz_resp
    if ! "$tool" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
            -I"$src/server" "$src/tests/fuzz/fuzz_resp.c" "$src/server/resp.c" \
            -o "$bin" -lm 2>"$out/build.log"; then
        if grep -q -i -e "libclang_rt.fuzzer" -e "cannot find.*fuzzer" "$out/build.log"; then
            echo "fuzz_resp: skipped: clang has no libFuzzer runtime (apt-get install libclang-rt-14-dev)"
            exit 77
        fi
        cat "$out/build.log"
        echo "fuzz_resp: FAILED to build"
        exit 1
    fi
fi
# New inputs go to the build tree's corpus; the committed seeds are read only.
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$out/" "$out/corpus" "$src/tests/fuzz/corpus"
rc=$?
if [ $rc -ne 0 ]; then
    echo "fuzz_resp: FAILED (crash input saved under $out/)"
    exit $rc
fi
echo "fuzz_resp: ok"
