#!/usr/bin/env bash
#
# run.sh - the object layer's benchmarks: mwrt containers against CPython,
# then mwrt's reference counting.
#
# What it measures: for each workload of mwrt-bench-containers (a list of 1M
# ints, of 1M strs, of 1M small dicts), the median build time, drop time and
# their total, in mwrt and in CPython (containers.py beside this file), and
# the ratio CPython/mwrt.  mwrt runs in GIL mode (the column compared with
# CPython, which has a GIL) and in free mode; both sides run once with their
# cycle collector on (mwrt MW_GC_STW, CPython's default) and once with it
# off (mwrt MW_GC_OFF, CPython gc.disable()).  Then mwrt-bench-refcount runs
# once (it takes its own medians) and its table is printed as it is.
#
# How: every repetition runs each of the six configurations (mwrt gil/free x
# gc on/off, CPython gc on/off) once, each in a fresh process doing one run of
# every workload; the order rotates from one repetition to the next, so
# machine noise falls on all of them alike.  A run that crashes or hangs past
# the timeout is reported in its cells and the script carries on: it
# measures, it never judges timings by its exit status.
#
# Output: progress on stderr; on stdout a Markdown report: the machine,
# python3 --version, the tables, whether mwrt reaches the goal (containers
# at least 10x faster than CPython: reported, not asserted), and the
# reference counting table.
#
# Usage: bench/object/run.sh [options] [BUILD_DIR [REPS]] [-- REFCOUNT_ARGS...]
#   see --help.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${BUILD_DIR:-build}
reps=${BENCH_REPS:-5}
n=${BENCH_N:-1000000}
workloads=${BENCH_WORKLOADS:-ints strs dicts}
run_timeout=${BENCH_TIMEOUT:-300}
containers=${BENCH_CONTAINERS:-}
refcount=${BENCH_REFCOUNT:-}
python=${PYTHON:-python3}
do_refcount=1
refcount_args=()

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]] [-- REFCOUNT_ARGS...]

Runs mwrt-bench-containers and containers.py (CPython), interleaved, then
mwrt-bench-refcount, and prints Markdown tables of medians.

options (environment variable in brackets):
  -b, --build DIR       build directory (BUILD_DIR; default: build)
  -r, --reps N          repetitions (BENCH_REPS; default: 5)
  -n, --n N             elements per list (BENCH_N; default: 1000000)
  -w, --workloads LIST  comma-separated, of ints,strs,dicts,lists (lists: N
                        pairs [i, i], which stay live; BENCH_WORKLOADS;
                        default: ints,strs,dicts)
      --timeout SECS    limit per run (BENCH_TIMEOUT; default: 300)
      --containers PATH mwrt-bench-containers (BENCH_CONTAINERS; default:
                        BUILD_DIR/bench/object/mwrt-bench-containers)
      --refcount PATH   mwrt-bench-refcount (BENCH_REFCOUNT; default:
                        BUILD_DIR/bench/object/mwrt-bench-refcount)
      --python PATH     the CPython to compare with (PYTHON; default: python3)
      --no-refcount     skip the reference counting benchmark
  -h, --help            this text
Arguments after -- go to mwrt-bench-refcount (e.g. -- --iters 10M).
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        -n|--n) n=$2; shift 2 ;;
        -w|--workloads) workloads=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --containers) containers=$2; shift 2 ;;
        --refcount) refcount=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --no-refcount) do_refcount=0; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; refcount_args=("$@"); break ;;
        -*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
require_positive n "$n"
workloads=${workloads//,/ }
containers=${containers:-$build/bench/object/mwrt-bench-containers}
refcount=${refcount:-$build/bench/object/mwrt-bench-refcount}

if [ ! -x "$containers" ]; then
    echo "run.sh: no benchmark binary at $containers (build target mwrt-bench-containers first)" >&2
    exit 2
fi
if [ "$do_refcount" -eq 1 ] && [ ! -x "$refcount" ]; then
    echo "run.sh: no benchmark binary at $refcount (build target mwrt-bench-refcount first)" >&2
    exit 2
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "run.sh: $python not found" >&2
    exit 2
fi

notes=()


# ---------------------------------------------------------------------------
# The configurations: a name and the command that runs it once
# ---------------------------------------------------------------------------

configs=(mwrt-gil-gcon mwrt-free-gcon cpython-gcon mwrt-gil-gcoff mwrt-free-gcoff cpython-gcoff)
nconfigs=${#configs[@]}
phases="build drop total"

# config_command CONFIG: print nothing; fill the array cmd with its command.
config_command() {
    case $1 in
        mwrt-gil-gcon) cmd=("$containers" --lock gil --gc on) ;;
        mwrt-free-gcon) cmd=("$containers" --lock free --gc on) ;;
        mwrt-gil-gcoff) cmd=("$containers" --lock gil --gc off) ;;
        mwrt-free-gcoff) cmd=("$containers" --lock free --gc off) ;;
        cpython-gcon) cmd=("$python" "$srcdir/containers.py" --gc on) ;;
        cpython-gcoff) cmd=("$python" "$srcdir/containers.py" --gc off) ;;
    esac
    cmd+=(--runs 1 --n "$n" --workloads "${workloads// /,}")
}

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

declare -A ms_runs=()       # "config|workload|phase" -> ms of each good run
declare -A failed=()        # config -> number of failed runs
declare -A fail_kind=()     # config -> label for the table cells

make_logdir object



run_one() {
    local c=$1 out rc line w p got=0 why last
    local -a cmd

    config_command "$c"
    out="$logdir/$c-$rep.log"
    rc=0
    timeout -k 5 "$run_timeout" "${cmd[@]}" >"$out" 2>&1 || rc=$?
    for w in $workloads; do
        line=$(grep -m1 "^run=.* workload=$w " "$out" || true)
        if [ -n "$line" ]; then
            got=$((got + 1))
        fi
    done
    if [ "$rc" -ne 0 ] || [ "$got" -ne "$(wc -w <<<"$workloads")" ]; then
        why=$(describe_exit "$rc")
        if [ "$rc" -eq 0 ]; then
            why="missing result lines"
        fi
        last=$(grep -v '^run=' "$out" | grep -v '^$' | tail -n 1 || true)
        if [ -n "$last" ]; then
            why="$why: $last"
        fi
        failed[$c]=$(( ${failed[$c]:-0} + 1 ))
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            fail_kind[$c]=timeout
        else
            fail_kind[$c]=crash
        fi
        note "$c (repetition $rep): $why"
        echo "  $c: FAILED ($why)" >&2
        return
    fi
    for w in $workloads; do
        line=$(grep -m1 "^run=.* workload=$w " "$out")
        for p in $phases; do
            ms_runs["$c|$w|$p"]="${ms_runs["$c|$w|$p"]:-} $(field "${p}_ms" "$line")"
        done
    done
    printf '  %-16s ints %8.1f  strs %8.1f  dicts %8.1f ms (total)\n' "$c" \
        "$(field total_ms "$(grep -m1 '^run=.* workload=ints ' "$out")")" \
        "$(field total_ms "$(grep -m1 '^run=.* workload=strs ' "$out")")" \
        "$(field total_ms "$(grep -m1 '^run=.* workload=dicts ' "$out")")" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "run.sh: $reps repetitions x configurations (${configs[*]}), n=$n" >&2
for ((rep = 1; rep <= reps; rep++)); do
    echo "repetition $rep/$reps" >&2
    for ((k = 0; k < nconfigs; k++)); do
        i=$(( (k + rep - 1) % nconfigs ))
        run_one "${configs[$i]}"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

refcount_out=""
refcount_rc=0
if [ "$do_refcount" -eq 1 ]; then
    echo "run.sh: mwrt-bench-refcount ${refcount_args[*]}" >&2
    refcount_out=$("$refcount" --reps "$reps" "${refcount_args[@]}") || refcount_rc=$?
    if [ "$refcount_rc" -ne 0 ]; then
        note "mwrt-bench-refcount: $(describe_exit "$refcount_rc") (a case failed; see its table)"
    fi
fi

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------



declare -A med=()
for c in "${configs[@]}"; do
    if [ -n "${failed[$c]:-}" ]; then
        continue
    fi
    for w in $workloads; do
        for p in $phases; do
            # shellcheck disable=SC2086 # word splitting of the value list is wanted
            med["$c|$w|$p"]=$(median ${ms_runs["$c|$w|$p"]})
        done
    done
done

# cell CONFIG WORKLOAD PHASE: the median in ms, or why there is none.
cell() {
    local c=$1 key="$1|$2|$3"

    if [ -n "${failed[$c]:-}" ]; then
        if [ "${failed[$c]}" -lt "$reps" ]; then
            echo "${fail_kind[$c]} (${failed[$c]}/$reps runs)"
        else
            echo "${fail_kind[$c]}"
        fi
    elif [ -n "${med[$key]:-}" ]; then
        calc '%.1f' "${med[$key]}"
    else
        echo "n/a"
    fi
}

# ratio CPYTHON_CONFIG MWRT_CONFIG WORKLOAD PHASE: CPython ms / mwrt ms.
ratio() {
    local cp=${med["$1|$3|$4"]:-} mw=${med["$2|$3|$4"]:-}

    if [ -z "$cp" ] || [ -z "$mw" ]; then
        echo "n/a"
    elif [ "$(calc '%d' "$mw <= 0")" = 1 ]; then
        echo "inf"
    else
        echo "$(calc '%.2f' "$cp / $mw")x"
    fi
}

# table GC_SUFFIX: the table for one collector setting.
table() {
    local g=$1 w p

    echo "| workload | mwrt ms (GIL) | mwrt ms (free) | CPython ms | ratio CPython/mwrt (GIL) | ratio CPython/mwrt (free) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for w in $workloads; do
        for p in $phases; do
            echo "| $w $p | $(cell "mwrt-gil-$g" "$w" "$p") | $(cell "mwrt-free-$g" "$w" "$p")" \
                 "| $(cell "cpython-$g" "$w" "$p")" \
                 "| $(ratio "cpython-$g" "mwrt-gil-$g" "$w" "$p") | $(ratio "cpython-$g" "mwrt-free-$g" "$w" "$p") |"
        done
    done
}

# goal GC_SUFFIX MODE: one line per workload on the 10x goal (total time).
goal() {
    local g=$1 m=$2 w cp mw r

    for w in $workloads; do
        cp=${med["cpython-$g|$w|total"]:-}
        mw=${med["mwrt-$m-$g|$w|total"]:-}
        if [ -z "$cp" ] || [ -z "$mw" ]; then
            echo "- $w ($m mode): not measured"
            continue
        fi
        r=$(calc '%.2f' "$cp / $mw")
        if [ "$(calc '%d' "$cp >= 10 * $mw")" = 1 ]; then
            echo "- $w ($m mode): met: CPython $(calc '%.1f' "$cp") ms / mwrt $(calc '%.1f' "$mw") ms = ${r}x"
        else
            echo "- $w ($m mode): NOT met: CPython $(calc '%.1f' "$cp") ms / mwrt $(calc '%.1f' "$mw") ms = ${r}x (goal 10x)"
        fi
    done
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$srcdir" status --porcelain 2>/dev/null | head -n 1)" ]; then
    commit="$commit (uncommitted changes)"
fi

echo "## mwrt object benchmark: containers vs CPython"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- python: $("$python" --version 2>&1) ($(command -v "$python"))"
echo "- mwrt: $containers (source: $commit)"
echo "- runs: median of $reps repetitions; each repetition runs every configuration once," \
     "in a fresh process (one run of ints, strs, dicts in turn), in rotating order; n = $n"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after" \
     "(other work on the machine skews the numbers)"
echo
echo "### Collector on (mwrt MW_GC_STW, the default; CPython gc enabled, the default)"
echo
table gcon
echo
echo "### Collector off (mwrt MW_GC_OFF; CPython gc.disable() while timing)"
echo
table gcoff
echo
echo "build: make every element and append it to a growing list; drop: one decref of the list"
echo "(mwrt) / \`del\` (CPython), freeing all of it; total = build + drop (per run, then median)."
echo "Ratio CPython/mwrt above 1.00x: mwrt is faster."
echo
echo "Run-to-run spread of the total time (slowest / fastest repetition; the medians"
echo "above are only as steady as this):"
for c in "${configs[@]}"; do
    line="- $c:"
    for w in $workloads; do
        if [ -n "${failed[$c]:-}" ] || [ -z "${ms_runs["$c|$w|total"]:-}" ]; then
            line+=" $w n/a;"
            continue
        fi
        # shellcheck disable=SC2086 # word splitting of the value list is wanted
        line+=" $w $(printf '%s\n' ${ms_runs["$c|$w|total"]} | sort -g |
            awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2fx", (lo > 0 ? hi / lo : 0) }');"
    done
    echo "${line%;}"
done
echo
echo "Goal: containers at least 10x faster than CPython (total time, collector on):"
goal gcon gil
goal gcon free
echo
echo "Same, collector off:"
goal gcoff gil
goal gcoff free

if [ "$do_refcount" -eq 1 ]; then
    echo
    if [ -n "$refcount_out" ]; then
        # Its report, one heading level down.
        # shellcheck disable=SC2001 # per-line anchoring needs sed
        sed 's/^## /### /' <<<"$refcount_out"
    else
        echo "### mwrt reference counting benchmark"
        echo
        echo "mwrt-bench-refcount printed nothing ($(describe_exit "$refcount_rc"))."
    fi
fi

if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for x in "${notes[@]}"; do
        echo "- $x"
    done
fi
