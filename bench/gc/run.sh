#!/usr/bin/env bash
#
# run.sh - the cycle collector's benchmarks: mwrt against CPython, glibc
# malloc, mimalloc and the Boehm collector.
#
# What it measures:
#
#   1. Collection cost (mwrt-bench-gc against gc_cost.py, CPython): one full
#      collection of a ring of n 2-element lists [i, next] while it is live,
#      and again once it is garbage (ns per list), for each n of --sizes;
#      and one young collection right after 700 fresh containers (µs, the
#      median of --young-reps in each run).  Automatic collection is off on
#      both sides while building; see bench_gc.c and gc_cost.py.
#   2. binary-trees (the benchmarks-game shape) at each depth of --depths,
#      in seconds: mwrt tuples with the collector on (defaults), C with glibc
#      malloc/free, C with mimalloc (mi_malloc/mi_free; without that binary,
#      the malloc one under LD_PRELOAD=libmimalloc.so.2), C with the Boehm
#      collector (GC_MALLOC, no frees), and CPython (binarytrees.py, the
#      idiomatic tuple version).
#
# How: every repetition runs each configuration once, in a fresh process,
# in an order that rotates from one repetition to the next, so machine
# noise falls on all of them alike; the report gives medians.  A run that
# crashes, hangs past the timeout or reports a wrong result (exit status 3)
# is reported in its cells and notes and the script carries on: it
# measures, it never judges timings by its exit status.
#
# Output: progress on stderr; on stdout a Markdown report: the machine,
# python3 --version, the Boehm GC and mimalloc package versions, the two
# tables and whether the goals are reached (reported, not asserted): full
# collections at least 4x faster per object than CPython, live and garbage;
# a young collection under 20 µs; binary-trees faster than Boehm GC and at
# least 10x faster than CPython.
#
# Usage: bench/gc/run.sh [options] [BUILD_DIR [REPS]]; see --help.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${BUILD_DIR:-build}
reps=${BENCH_REPS:-5}
bt_reps=${BENCH_BT_REPS:-3}
sizes=${BENCH_SIZES:-10000,100000,1000000}
depths=${BENCH_BT_DEPTHS:-16,18}
young_reps=${BENCH_YOUNG_REPS:-1000}
run_timeout=${BENCH_TIMEOUT:-900}
python=${PYTHON:-python3}
gc_bench=${BENCH_GC:-}
bt_mwrt=${BENCH_BT_MWRT:-}
bt_malloc=${BENCH_BT_MALLOC:-}
bt_mimalloc=${BENCH_BT_MIMALLOC:-}
bt_boehm=${BENCH_BT_BOEHM:-}
do_cost=1
do_bt=1

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]]

Runs mwrt-bench-gc against gc_cost.py (CPython), then binary-trees in mwrt,
C (glibc malloc, mimalloc, Boehm GC) and CPython, interleaved, and prints
Markdown tables of medians.

options (environment variable in brackets):
  -b, --build DIR        build directory (BUILD_DIR; default: build)
  -r, --reps N           repetitions of the collection cost (BENCH_REPS; default: 5)
      --bt-reps N        repetitions of binary-trees (BENCH_BT_REPS; default: 3)
      --sizes LIST       ring sizes (BENCH_SIZES; default: 10000,100000,1000000)
      --depths LIST      binary-trees depths, each >= 6 (BENCH_BT_DEPTHS; default: 16,18)
      --young-reps N     young collections per run (BENCH_YOUNG_REPS; default: 1000)
      --timeout SECS     limit per run (BENCH_TIMEOUT; default: 900)
      --gc-bench PATH    mwrt-bench-gc (BENCH_GC; default: BUILD_DIR/bench/gc/...)
      --bt-mwrt PATH     mwrt-bench-binarytrees (BENCH_BT_MWRT)
      --bt-malloc PATH   bench-binarytrees-malloc (BENCH_BT_MALLOC)
      --bt-mimalloc PATH bench-binarytrees-mimalloc (BENCH_BT_MIMALLOC)
      --bt-boehm PATH    bench-binarytrees-boehm (BENCH_BT_BOEHM)
      --python PATH      the CPython to compare with (PYTHON; default: python3)
      --no-gc-cost       skip the collection cost benchmark
      --no-binarytrees   skip binary-trees
  -h, --help             this text
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        --bt-reps) bt_reps=$2; shift 2 ;;
        --sizes) sizes=$2; shift 2 ;;
        --depths) depths=$2; shift 2 ;;
        --young-reps) young_reps=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --gc-bench) gc_bench=$2; shift 2 ;;
        --bt-mwrt) bt_mwrt=$2; shift 2 ;;
        --bt-malloc) bt_malloc=$2; shift 2 ;;
        --bt-mimalloc) bt_mimalloc=$2; shift 2 ;;
        --bt-boehm) bt_boehm=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --no-gc-cost) do_cost=0; shift ;;
        --no-binarytrees) do_bt=0; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
require_positive "binary-trees repetitions" "$bt_reps"
require_positive "young collections" "$young_reps"
require_positive timeout "$run_timeout"
IFS=, read -r -a size_list <<<"$sizes"
IFS=, read -r -a depth_list <<<"$depths"
for n in "${size_list[@]}"; do
    require_positive "a ring size" "$n"
done
for d in "${depth_list[@]}"; do
    require_positive "a depth" "$d"
    if [ "$d" -lt 6 ] || [ "$d" -gt 30 ]; then
        echo "run.sh: depths must be from 6 to 30, not $d" >&2
        exit 2
    fi
done

gc_bench=${gc_bench:-$build/bench/gc/mwrt-bench-gc}
bt_mwrt=${bt_mwrt:-$build/bench/gc/mwrt-bench-binarytrees}
bt_malloc=${bt_malloc:-$build/bench/gc/bench-binarytrees-malloc}
bt_mimalloc=${bt_mimalloc:-$build/bench/gc/bench-binarytrees-mimalloc}
bt_boehm=${bt_boehm:-$build/bench/gc/bench-binarytrees-boehm}

need_binary() {
    if [ ! -x "$2" ]; then
        echo "run.sh: no benchmark binary at $2 (build target $1 first)" >&2
        exit 2
    fi
}
if [ "$do_cost" -eq 1 ]; then
    need_binary mwrt-bench-gc "$gc_bench"
fi
if [ "$do_bt" -eq 1 ]; then
    need_binary mwrt-bench-binarytrees "$bt_mwrt"
    need_binary bench-binarytrees-malloc "$bt_malloc"
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "run.sh: $python not found" >&2
    exit 2
fi

notes=()
declare -A failed=()        # config -> number of failed runs
declare -A fail_kind=()     # config -> label for the table cells

make_logdir gc

# run_logged CONFIG LOG CMD...: run CMD with the timeout, output to LOG;
# on failure count it against CONFIG and note why.  Sets rc.
run_logged() {
    local c=$1 out=$2 why last
    shift 2

    rc=0
    timeout -k 5 "$run_timeout" "$@" >"$out" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
        return
    fi
    why=$(describe_exit "$rc")
    if [ "$rc" -eq 3 ]; then
        why="wrong result"
    fi
    last=$(grep -v '^run=' "$out" | grep -v '^$' | tail -n 1 || true)
    if [ -n "$last" ]; then
        why="$why: $last"
    fi
    failed[$c]=$(( ${failed[$c]:-0} + 1 ))
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        fail_kind[$c]=timeout
    elif [ "$rc" -eq 3 ]; then
        fail_kind[$c]="wrong result"
    else
        fail_kind[$c]=crash
    fi
    note "$c (repetition $rep): $why"
    echo "  $c: FAILED ($why)" >&2
}

# ---------------------------------------------------------------------------
# 1. Collection cost
# ---------------------------------------------------------------------------

declare -A cost=()          # "impl|case|n" -> values of the good runs

# run_cost IMPL: one run of mwrt-bench-gc or gc_cost.py; keeps every result
# line it printed (even if it failed later on).
run_cost() {
    local impl=$1 out line case n v found
    local -a cmd

    if [ "$impl" = mwrt ]; then
        cmd=("$gc_bench")
    else
        cmd=("$python" "$srcdir/gc_cost.py")
    fi
    cmd+=(--runs 1 --sizes "$sizes" --young-reps "$young_reps")
    out="$logdir/cost-$impl-$rep.log"
    run_logged "cost-$impl" "$out" "${cmd[@]}"
    while IFS= read -r line; do
        case=$(field case "$line")
        n=$(field n "$line")
        if [ "$case" = young ] || [ "$case" = ygarbage ]; then
            v=$(field median_us "$line")
        else
            v=$(field ns_per_obj "$line")
            found=$(field found "$line")
            if [ "$case" = live ] && [ "$found" != 0 ]; then
                note "$impl (repetition $rep): the live collection of $n lists found $found unreachable objects, not 0"
            elif [ "$case" = garbage ] && [ "$found" != "$n" ]; then
                note "$impl (repetition $rep): the garbage collection of $n lists found $found unreachable objects, not $n"
            fi
        fi
        cost["$impl|$case|$n"]="${cost["$impl|$case|$n"]:-} $v"
    done < <(grep '^run=' "$out" || true)
    if [ "$rc" -eq 0 ]; then
        echo "  $impl: $(grep '^run=' "$out" | sed -n 's/.*case=\([a-z]*\) n=\([0-9]*\).*\(ns_per_obj\|median_us\)=\([0-9.]*\).*/\1 \2: \4/p' | paste -sd ';' -)" >&2
    fi
}

# ---------------------------------------------------------------------------
# 2. binary-trees
# ---------------------------------------------------------------------------

declare -A bt_cmd=()        # impl -> command (words separated by \x1f)
declare -A bt_secs=()       # "impl|depth" -> seconds of the good runs
declare -A bt_extra=()      # "impl|depth" -> the gc fields of the last good run
bt_impls=(mwrt boehm malloc mimalloc cpython)
declare -A bt_label=(
    [mwrt]="mwrt (tuples, collector on)"
    [malloc]="C, glibc malloc/free"
    [mimalloc]="C, mimalloc"
    [boehm]="C, Boehm GC (GC_MALLOC, no frees)"
    [cpython]="CPython (tuples, gc on)"
)
mimalloc_how=""

set_bt_cmd() {
    local impl=$1 IFS=$'\x1f'
    shift
    bt_cmd[$impl]="$*"
}
set_bt_cmd mwrt "$bt_mwrt"
set_bt_cmd malloc "$bt_malloc"
set_bt_cmd cpython "$python" "$srcdir/binarytrees.py"
if [ -x "$bt_mimalloc" ]; then
    set_bt_cmd mimalloc "$bt_mimalloc"
    mimalloc_how="mi_malloc/mi_free, linked"
else
    mi_so=$(ldconfig -p 2>/dev/null | awk '/libmimalloc\.so\.2 / { print $NF; exit }')
    if [ -n "$mi_so" ]; then
        set_bt_cmd mimalloc env "LD_PRELOAD=$mi_so" "$bt_malloc" --name mimalloc
        mimalloc_how="the malloc binary under LD_PRELOAD=$mi_so"
    fi
fi
if [ -x "$bt_boehm" ]; then
    set_bt_cmd boehm "$bt_boehm"
fi
if [ "$do_bt" -eq 1 ]; then
    for impl in mimalloc boehm; do
        if [ -z "${bt_cmd[$impl]:-}" ]; then
            note "binary-trees with $impl: no binary (and no fallback); skipped"
        fi
    done
fi

# The check every implementation must print at depth D: the sum of the
# node counts of every tree checked.
expected_check() {
    awk -v D="$1" 'BEGIN {
        s = 2 ^ (D + 2) - 1 + 2 ^ (D + 1) - 1
        for (d = 4; d <= D; d += 2) { s += 2 ^ (D - d + 4) * (2 ^ (d + 1) - 1) }
        printf "%d", s
    }'
}

run_bt() {
    local impl=$1 d=$2 out line v chk want IFS=$'\x1f'
    local -a cmd

    read -r -a cmd <<<"${bt_cmd[$impl]}"
    IFS=$' \t\n'
    out="$logdir/bt-$impl-$d-$rep.log"
    run_logged "bt-$impl-$d" "$out" "${cmd[@]}" --depth "$d" --quiet
    line=$(grep -m1 '^run=' "$out" || true)
    if [ -z "$line" ]; then
        if [ "$rc" -eq 0 ]; then
            failed["bt-$impl-$d"]=$(( ${failed["bt-$impl-$d"]:-0} + 1 ))
            fail_kind["bt-$impl-$d"]="no result"
            note "binary-trees $impl depth $d (repetition $rep): no result line"
        fi
        return
    fi
    v=$(field seconds "$line")
    chk=$(field check "$line")
    want=$(expected_check "$d")
    if [ "$chk" != "$want" ]; then
        note "binary-trees $impl depth $d (repetition $rep): check $chk, not $want"
    fi
    bt_secs["$impl|$d"]="${bt_secs["$impl|$d"]:-} $v"
    bt_extra["$impl|$d"]=$(grep -o 'gc_[a-z_]*=[^ ]*\|heap_mb=[^ ]*' <<<"$line" | paste -sd ' ' - || true)
    printf '  %-9s depth %2d: %8.3f s %s\n' "$impl" "$d" "$v" "${bt_extra["$impl|$d"]}" >&2
}

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

start_time=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
if [ "$do_cost" -eq 1 ]; then
    echo "run.sh: collection cost, $reps repetitions (mwrt, cpython), sizes $sizes" >&2
    cost_impls=(mwrt cpython)
    for ((rep = 1; rep <= reps; rep++)); do
        echo "repetition $rep/$reps" >&2
        for ((k = 0; k < 2; k++)); do
            run_cost "${cost_impls[$(( (k + rep - 1) % 2 ))]}"
        done
    done
fi
present_impls=()
for impl in "${bt_impls[@]}"; do
    if [ -n "${bt_cmd[$impl]:-}" ]; then
        present_impls+=("$impl")
    fi
done
if [ "$do_bt" -eq 1 ]; then
    nimpl=${#present_impls[@]}
    echo "run.sh: binary-trees, $bt_reps repetitions (${present_impls[*]}), depths $depths" >&2
    for ((rep = 1; rep <= bt_reps; rep++)); do
        echo "repetition $rep/$bt_reps" >&2
        for d in "${depth_list[@]}"; do
            for ((k = 0; k < nimpl; k++)); do
                run_bt "${present_impls[$(( (k + rep - 1) % nimpl ))]}" "$d"
            done
        done
    done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
elapsed=$(( $(date +%s) - start_time ))

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

count_words() {
    # shellcheck disable=SC2086 # word splitting of the value list is wanted
    set -- $1
    echo $#
}

# med_of VALUES: the median, or nothing.
med_of() {
    # shellcheck disable=SC2086 # word splitting of the value list is wanted
    median $1
}

# cell VALUES CONFIG RUNS FORMAT: the median with FORMAT, marked if some runs
# failed, or why there is none.
cell() {
    local vals=$1 c=$2 runs=$3 fmt=$4 m k

    m=$(med_of "$vals")
    k=$(count_words "$vals")
    if [ -n "$m" ]; then
        if [ "$k" -lt "$runs" ]; then
            echo "$(calc "$fmt" "$m") ($k/$runs runs)"
        else
            calc "$fmt" "$m"
        fi
    elif [ -n "${failed[$c]:-}" ]; then
        echo "${fail_kind[$c]}"
    else
        echo "n/a"
    fi
}

# ratio NUMERATOR_VALUES DENOMINATOR_VALUES: median / median as "N.NNx".
ratio() {
    local a b

    a=$(med_of "$1")
    b=$(med_of "$2")
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "n/a"
    elif [ "$(calc '%d' "$b <= 0")" = 1 ]; then
        echo "inf"
    else
        echo "$(calc '%.2f' "$a / $b")x"
    fi
}

# spread VALUES: slowest / fastest.
spread() {
    if [ -z "${1// /}" ]; then
        echo "n/a"
        return
    fi
    # shellcheck disable=SC2086 # word splitting of the value list is wanted
    printf '%s\n' $1 | sort -g |
        awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.2fx", (lo > 0 ? hi / lo : 0); else printf "n/a" }'
}

# goal_line WHAT NUMERATOR DENOMINATOR FACTOR: met / NOT met for
# median(NUMERATOR) >= FACTOR * median(DENOMINATOR) (strictly more if
# FACTOR is "gt1").
goal_line() {
    local what=$1 a b f=$4 ok goal="${4}x"

    a=$(med_of "$2")
    b=$(med_of "$3")
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "- $what: not measured"
        return
    fi
    if [ "$f" = gt1 ]; then
        ok=$(calc '%d' "$a > $b")
        goal="above 1.00x"
    else
        ok=$(calc '%d' "$a >= $f * $b")
    fi
    if [ "$ok" = 1 ]; then
        echo "- $what: met ($(calc '%.2f' "$a / $b")x)"
    else
        echo "- $what: NOT met ($(calc '%.2f' "$a / $b")x, goal ${goal})"
    fi
}

pkg_version() {
    dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576; exit }' /proc/meminfo 2>/dev/null || true)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$srcdir" status --porcelain 2>/dev/null | head -n 1)" ]; then
    commit="$commit (uncommitted changes)"
fi

echo "## mwrt cycle collector benchmarks"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, ${mem:-unknown RAM}, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- python: $("$python" --version 2>&1) ($(command -v "$python"))"
echo "- Boehm GC: libgc-dev $(pkg_version libgc-dev), libgc1 $(pkg_version libgc1);" \
     "mimalloc: libmimalloc-dev $(pkg_version libmimalloc-dev), libmimalloc2.0 $(pkg_version libmimalloc2.0)"
echo "- mwrt source: $commit; build: $build"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after; wall time ${elapsed} s" \
     "(other work on the machine skews the numbers)"

if [ "$do_cost" -eq 1 ]; then
    echo
    echo "### Collection cost: one full collection of a ring of n lists [i, next]"
    echo
    echo "Median of $reps repetitions (mwrt and CPython alternating, each a fresh process);" \
         "automatic collection off while building (mw_gc_disable / gc.disable); CPython's own" \
         "objects frozen (gc.freeze) so both collections scan only the ring.  Ratio = CPython / mwrt" \
         "(above 1.00x: mwrt is faster)."
    echo
    echo "| n | mwrt ns/object live | CPython ns/object live | ratio | mwrt ns/object garbage | CPython ns/object garbage | ratio |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
    for n in "${size_list[@]}"; do
        ml=${cost["mwrt|live|$n"]:-}
        cl=${cost["cpython|live|$n"]:-}
        mg=${cost["mwrt|garbage|$n"]:-}
        cg=${cost["cpython|garbage|$n"]:-}
        echo "| $n | $(cell "$ml" cost-mwrt "$reps" '%.1f') | $(cell "$cl" cost-cpython "$reps" '%.1f')" \
             "| $(ratio "$cl" "$ml") | $(cell "$mg" cost-mwrt "$reps" '%.1f')" \
             "| $(cell "$cg" cost-cpython "$reps" '%.1f') | $(ratio "$cg" "$mg") |"
    done
    echo
    my=${cost["mwrt|young|700"]:-}
    cy=${cost["cpython|young|700"]:-}
    echo "Young collection right after 700 fresh containers (median of $young_reps per run, then" \
         "median of $reps runs): mwrt $(cell "$my" cost-mwrt "$reps" '%.2f') µs," \
         "CPython $(cell "$cy" cost-cpython "$reps" '%.2f') µs (ratio CPython/mwrt $(ratio "$cy" "$my"))."
    echo
    mq=${cost["mwrt|ygarbage|699"]:-}
    cq=${cost["cpython|ygarbage|699"]:-}
    echo "Young collection right after 233 requests of bench/sched's shape were dropped (699" \
         "containers, a cycle of two in each; finding and freeing): mwrt" \
         "$(cell "$mq" cost-mwrt "$reps" '%.2f') µs, CPython $(cell "$cq" cost-cpython "$reps" '%.2f') µs" \
         "(ratio CPython/mwrt $(ratio "$cq" "$mq"))."
    echo
    echo "Run-to-run spread (slowest / fastest): mwrt live $(spread "${cost["mwrt|live|${size_list[-1]}"]:-}")," \
         "garbage $(spread "${cost["mwrt|garbage|${size_list[-1]}"]:-}"), young $(spread "$my");" \
         "CPython live $(spread "${cost["cpython|live|${size_list[-1]}"]:-}")," \
         "garbage $(spread "${cost["cpython|garbage|${size_list[-1]}"]:-}"), young $(spread "$cy")" \
         "(rings of ${size_list[-1]})."
fi

if [ "$do_bt" -eq 1 ]; then
    echo
    echo "### binary-trees: seconds per run"
    echo
    echo "Median of $bt_reps repetitions (every implementation once per depth and repetition, in" \
         "rotating order, each a fresh process; the time of the whole benchmark, measured inside" \
         "the process).  \"x mwrt\" = its seconds / mwrt's (above 1.00x: mwrt is faster)."
    echo
    header="| implementation |"
    rule="|---|"
    for d in "${depth_list[@]}"; do
        header+=" depth $d s | x mwrt |"
        rule+="---:|---:|"
    done
    echo "$header"
    echo "$rule"
    for impl in "${present_impls[@]}"; do
        line="| ${bt_label[$impl]} |"
        for d in "${depth_list[@]}"; do
            v=${bt_secs["$impl|$d"]:-}
            line+=" $(cell "$v" "bt-$impl-$d" "$bt_reps" '%.3f') | $(ratio "$v" "${bt_secs["mwrt|$d"]:-}") |"
        done
        echo "$line"
    done
    echo
    if [ -n "$mimalloc_how" ]; then
        echo "mimalloc: $mimalloc_how."
    fi
    echo "Collector activity in the last good run (collections of generations 0/1/2 and" \
         "their total pause in ms, each generation's alone):"
    for d in "${depth_list[@]}"; do
        for impl in mwrt cpython boehm; do
            if [ -n "${bt_extra["$impl|$d"]:-}" ]; then
                echo "- depth $d, $impl: ${bt_extra["$impl|$d"]}"
            fi
        done
    done
    echo
    line="Run-to-run spread (slowest / fastest):"
    for impl in "${present_impls[@]}"; do
        for d in "${depth_list[@]}"; do
            line+=" $impl/$d $(spread "${bt_secs["$impl|$d"]:-}");"
        done
    done
    echo "${line%;}"
fi

echo
echo "### Goals (reported, not asserted)"
echo
if [ "$do_cost" -eq 1 ]; then
    for n in "${size_list[@]}"; do
        goal_line "full collection at least 4x faster per object than CPython, live, n=$n" \
            "${cost["cpython|live|$n"]:-}" "${cost["mwrt|live|$n"]:-}" 4
        goal_line "full collection at least 4x faster per object than CPython, garbage, n=$n" \
            "${cost["cpython|garbage|$n"]:-}" "${cost["mwrt|garbage|$n"]:-}" 4
    done
    my=$(med_of "${cost["mwrt|young|700"]:-}")
    if [ -z "$my" ]; then
        echo "- young collection under 20 µs: not measured"
    elif [ "$(calc '%d' "$my < 20")" = 1 ]; then
        echo "- young collection under 20 µs: met ($(calc '%.2f' "$my") µs)"
    else
        echo "- young collection under 20 µs: NOT met ($(calc '%.2f' "$my") µs)"
    fi
fi
if [ "$do_bt" -eq 1 ]; then
    for d in "${depth_list[@]}"; do
        goal_line "binary-trees faster than Boehm GC, depth $d" \
            "${bt_secs["boehm|$d"]:-}" "${bt_secs["mwrt|$d"]:-}" gt1
        goal_line "binary-trees at least 10x faster than CPython, depth $d" \
            "${bt_secs["cpython|$d"]:-}" "${bt_secs["mwrt|$d"]:-}" 10
    done
fi

if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for x in "${notes[@]}"; do
        echo "- $x"
    done
fi
