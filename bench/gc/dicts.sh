#!/usr/bin/env bash
#
# dicts.sh - a million small dicts (and sets) of atomic values, mwrt against
# CPython: what building them costs with the collector on and off, and what
# a full collection costs with all of them live.
#
# mwrt makes dicts and sets untracked and tracks them only once they hold
# something that may be part of a cycle (docs/objects.md); CPython does the
# same for dicts (not for sets).  So {'a': i, 'b': i} should cost either
# collector nothing, and {i, i + 1} should cost CPython's.
#
# What it runs: mwrt-bench-dicts (bench_dicts.c) and dicts.py, each once
# per configuration (kind dict/set x collector on/off) and repetition, in a
# fresh process, in an order that rotates from one repetition to the next
# so that machine noise falls on all of them alike.  Each run builds n
# containers kept in one list (build_ms), then times one full collection
# with them live (collect_ms), and reports the collections that ran during
# the build and the objects tracked after it.
#
# Output: progress on stderr; on stdout a Markdown table of medians over
# the repetitions.  A run that fails is noted and left out of its cell.
#
# Usage: bench/gc/dicts.sh [options] [BUILD_DIR [REPS]]; see --help.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${BUILD_DIR:-build}
reps=${BENCH_REPS:-3}
n=${BENCH_N:-1000000}
kinds=${BENCH_KINDS:-dict,set}
run_timeout=${BENCH_TIMEOUT:-600}
python=${PYTHON:-python3}
bin=${BENCH_DICTS:-}

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]]

Builds n small dicts {'a': i, 'b': i} and sets {i, i + 1} in mwrt and in
CPython, with the collector on and off, times a full collection with them
live, and prints a Markdown table of medians.

options (environment variable in brackets):
  -b, --build DIR     build directory (BUILD_DIR; default: build)
  -r, --reps N        repetitions (BENCH_REPS; default: 3)
  -n, --n N           containers per run (BENCH_N; default: 1000000)
      --kinds LIST    dict, set or dict,set (BENCH_KINDS; default: dict,set)
      --bin PATH      mwrt-bench-dicts (BENCH_DICTS; default: BUILD_DIR/bench/gc/...)
      --python PATH   the CPython to compare with (PYTHON; default: python3)
      --timeout SECS  limit per run (BENCH_TIMEOUT; default: 600)
  -h, --help          this text

Build the binary first, optimized:
  cmake -S . -B build/rel -DCMAKE_BUILD_TYPE=Release
  cmake --build build/rel --target mwrt-bench-dicts
  bench/gc/dicts.sh -b build/rel
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        -n|--n) n=$2; shift 2 ;;
        --kinds) kinds=$2; shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "dicts.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
require_positive "n" "$n"
require_positive timeout "$run_timeout"
IFS=, read -r -a kind_list <<<"$kinds"
for k in "${kind_list[@]}"; do
    if [ "$k" != dict ] && [ "$k" != set ]; then
        echo "dicts.sh: kinds are dict and set, not '$k'" >&2
        exit 2
    fi
done
bin=${bin:-$build/bench/gc/mwrt-bench-dicts}
if [ ! -x "$bin" ]; then
    echo "dicts.sh: no benchmark binary at $bin (build target mwrt-bench-dicts first)" >&2
    exit 2
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "dicts.sh: $python not found" >&2
    exit 2
fi

notes=()
declare -A failed=()
make_logdir dicts

declare -A build_ms=() collect_ms=() tracked=() colls=()

# run_one IMPL KIND GC: one run; keeps its figures.
run_one() {
    local impl=$1 kind=$2 gcm=$3 out line rc=0 why key
    local -a cmd

    if [ "$impl" = mwrt ]; then
        cmd=("$bin")
    else
        cmd=("$python" "$srcdir/dicts.py")
    fi
    cmd+=(--kind "$kind" --gc "$gcm" --n "$n")
    # shellcheck disable=SC2154 # logdir: set by make_logdir (lib.sh)
    out="$logdir/$impl-$kind-$gcm-$rep.log"
    timeout -k 5 "$run_timeout" "${cmd[@]}" >"$out" 2>&1 || rc=$?
    line=$(grep -m1 '^impl=' "$out" || true)
    key="$impl|$kind|$gcm"
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        why=$(describe_exit "$rc")
        failed[$key]=$(( ${failed[$key]:-0} + 1 ))
        note "$impl $kind gc=$gcm (repetition $rep): $why: $(tail -n 1 "$out")"
        return
    fi
    build_ms[$key]="${build_ms[$key]:-} $(field build_ms "$line")"
    collect_ms[$key]="${collect_ms[$key]:-} $(field collect_ms "$line")"
    tracked[$key]=$(field tracked "$line")
    colls[$key]=$(field collections "$line")
    printf '  %-7s %-4s gc=%-3s build %8s ms, collect %8s ms, tracked %s, collections %s\n' \
        "$impl" "$kind" "$gcm" "$(field build_ms "$line")" "$(field collect_ms "$line")" \
        "${tracked[$key]}" "${colls[$key]}" >&2
}

configs=()
for kind in "${kind_list[@]}"; do
    for gcm in on off; do
        for impl in mwrt cpython; do
            configs+=("$impl $kind $gcm")
        done
    done
done
nconf=${#configs[@]}

start_time=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "dicts.sh: $reps repetitions of $nconf configurations, n=$n" >&2
for ((rep = 1; rep <= reps; rep++)); do
    echo "repetition $rep/$reps" >&2
    for ((k = 0; k < nconf; k++)); do
        # shellcheck disable=SC2086 # the three words of a configuration
        run_one ${configs[$(( (k + 3 * (rep - 1)) % nconf ))]}
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
elapsed=$(( $(date +%s) - start_time ))

# med VALUES FORMAT: the median, formatted, or n/a.
med() {
    local m
    # shellcheck disable=SC2086 # word splitting of the value list is wanted
    m=$(median $1)
    if [ -n "$m" ]; then
        calc "$2" "$m"
    else
        echo "n/a"
    fi
}

# ratio A B: median(A) / median(B) as N.NNx.
ratio() {
    local a b
    # shellcheck disable=SC2086
    a=$(median $1)
    # shellcheck disable=SC2086
    b=$(median $2)
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "n/a"
    elif [ "$(calc '%d' "$b <= 0")" = 1 ]; then
        echo "inf"
    else
        echo "$(calc '%.2f' "$a / $b")x"
    fi
}

commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$srcdir" status --porcelain 2>/dev/null | head -n 1)" ]; then
    commit="$commit (uncommitted changes)"
fi
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)

echo "## $n small dicts and sets of atomic values: mwrt against CPython"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- python: $("$python" --version 2>&1); mwrt source: $commit; build: $build"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after; wall time ${elapsed} s" \
     "(other work on the machine skews the numbers)"
echo
echo "Median of $reps repetitions, each configuration a fresh process.  Build: making the" \
     "containers and appending each to one list; collection: one full collection right after," \
     "with all of them live.  Tracked: objects the collector tracks after the build (the list" \
     "included); collections: those that ran during the build with the collector on."
echo
echo "| containers | implementation | build, collector on (ms) | build, collector off (ms) | full collection after build on (ms) | after build off (ms) | tracked | collections |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for kind in "${kind_list[@]}"; do
    if [ "$kind" = dict ]; then
        what="{'a': i, 'b': i}"
    else
        what="{i, i + 1}"
    fi
    for impl in mwrt cpython; do
        on="$impl|$kind|on"
        off="$impl|$kind|off"
        echo "| $what | $impl | $(med "${build_ms[$on]:-}" '%.1f') | $(med "${build_ms[$off]:-}" '%.1f')" \
             "| $(med "${collect_ms[$on]:-}" '%.2f') | $(med "${collect_ms[$off]:-}" '%.2f')" \
             "| ${tracked[$on]:-n/a} | ${colls[$on]:-n/a} |"
    done
    echo "| $what | CPython / mwrt | $(ratio "${build_ms[cpython|$kind|on]:-}" "${build_ms[mwrt|$kind|on]:-}")" \
         "| $(ratio "${build_ms[cpython|$kind|off]:-}" "${build_ms[mwrt|$kind|off]:-}")" \
         "| $(ratio "${collect_ms[cpython|$kind|on]:-}" "${collect_ms[mwrt|$kind|on]:-}")" \
         "| $(ratio "${collect_ms[cpython|$kind|off]:-}" "${collect_ms[mwrt|$kind|off]:-}") | | |"
done
if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for x in "${notes[@]}"; do
        echo "- $x"
    done
fi
