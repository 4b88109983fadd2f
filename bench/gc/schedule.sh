#!/usr/bin/env bash
#
# schedule.sh - what the full-collection schedule costs while a live heap
# grows: n lists [i, i] built and kept (mwrt-bench-containers, workload
# lists), for each n of --sizes, with the full-growth share at 100% (the
# default: a full collection once the long-lived heap has doubled) and at
# 25% (CPython's rule), beside the collector off and CPython.
#
# What it reports, for each n and configuration: the build time (median of
# the repetitions, each a fresh process, configurations in rotating order)
# and the objects the collections examined during the build per list built
# (young generations and full collections apart; these counts do not
# depend on timing).  The work per list stays flat as n grows under either
# share - both schedules are linear - and the share sets the constant.
#
# Output: progress on stderr; a Markdown report on stdout; with --plot FILE
# (needs gnuplot), a PNG of full-collection work per list against n.
#
# Usage: bench/gc/schedule.sh [options] [BUILD_DIR [REPS]]; see --help.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${BUILD_DIR:-build}
reps=${BENCH_REPS:-3}
sizes=${BENCH_SIZES:-1000000,2000000,4000000,8000000}
run_timeout=${BENCH_TIMEOUT:-600}
python=${PYTHON:-python3}
plot=
srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
notes=()
declare -A failed=()

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]]
  -b, --build DIR     build directory (BUILD_DIR; default: build)
  -r, --reps N        repetitions (BENCH_REPS; default: 3)
  -s, --sizes LIST    comma-separated list counts (BENCH_SIZES;
                      default: 1000000,2000000,4000000,8000000)
      --timeout SECS  limit per run (BENCH_TIMEOUT; default: 600)
      --python PATH   the CPython to compare with (PYTHON; default: python3)
      --plot FILE     also draw full-collection work per list against n
  -h, --help          this text
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        -s|--sizes) sizes=$2; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        --plot) plot=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "schedule.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
bin=$build/bench/object/mwrt-bench-containers
if [ ! -x "$bin" ]; then
    echo "schedule.sh: no $bin (build target mwrt-bench-containers first)" >&2
    exit 2
fi
make_logdir schedule

configs=(g100 g25 off py-on py-off)
declare -A label=([g100]="mwrt, full growth 100% (default)" [g25]="mwrt, full growth 25%"
                  [off]="mwrt, collector off" [py-on]="CPython, gc on" [py-off]="CPython, gc off")
config_command() {
    case $1 in
        g100) cmd=("$bin" --gc on) ;;
        g25) cmd=("$bin" --gc on --full-growth 25) ;;
        off) cmd=("$bin" --gc off) ;;
        py-on) cmd=("$python" "$srcdir/../object/containers.py" --gc on) ;;
        py-off) cmd=("$python" "$srcdir/../object/containers.py" --gc off) ;;
    esac
    cmd+=(--runs 1 --workloads lists --n "$2")
}

declare -A ms=() examined=()
for n in ${sizes//,/ }; do
    require_positive size "$n"
    for ((rep = 0; rep < reps; rep++)); do
        for ((k = 0; k < ${#configs[@]}; k++)); do
            c=${configs[$(((k + rep) % ${#configs[@]}))]}
            config_command "$c" "$n"
            echo "n=$n rep=$((rep + 1)) $c" >&2
            out=$logdir/$c-$n-$rep.log
            rc=0
            timeout -k 5 "$run_timeout" "${cmd[@]}" >"$out" 2>&1 || rc=$?
            line=$(grep -m1 '^run=.* workload=lists ' "$out" || true)
            if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
                failed[$c]=1
                note "$c n=$n (repetition $((rep + 1))): $(describe_exit "$rc")"
                continue
            fi
            ms[$c|$n]="${ms[$c|$n]:-} $(field build_ms "$line")"
            examined[$c|$n]=$(field build_examined "$line")
        done
    done
done

echo "## The full-collection schedule: n lists [i, i] built and kept"
echo
echo "- machine: $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- python: $("$python" --version 2>&1); mwrt source: $(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo
echo "Build time, ms (median of $reps), and objects examined per list built during it (young = generations 0 and 1)."
echo
echo "| n | configuration | build ms | x mwrt collector off | young examined / list | full examined / list |"
echo "|---:|---|---:|---:|---:|---:|"
datafile=$logdir/work.dat
for n in ${sizes//,/ }; do
    # shellcheck disable=SC2086 # word lists of numbers
    off_ms=$(median ${ms[off|$n]:-})
    full100= full25=
    for c in "${configs[@]}"; do
        # shellcheck disable=SC2086
        m=$(median ${ms[$c|$n]:-})
        young=- full=- ratio=-
        if [ -n "$m" ] && [ -n "$off_ms" ]; then
            ratio=$(calc "%.2fx" "$m / $off_ms")
        fi
        e=${examined[$c|$n]:-}
        if [ -n "$e" ]; then
            IFS=/ read -r e0 e1 e2 <<<"$e"
            young=$(calc "%.2f" "($e0 + $e1) / $n")
            full=$(calc "%.2f" "$e2 / $n")
            [ "$c" = g100 ] && full100=$full
            [ "$c" = g25 ] && full25=$full
        fi
        echo "| $n | ${label[$c]} | ${m:--} | $ratio | $young | $full |"
    done
    echo "$n ${full100:-NaN} ${full25:-NaN}" >>"$datafile"
done
for n in "${notes[@]}"; do
    echo "- note: $n"
done

if [ -n "$plot" ]; then
    gnuplot <<EOF
set terminal pngcairo size 800,500
set output '$plot'
set title 'Full-collection work while n lists are built and kept'
set xlabel 'lists built and live (millions)'
set ylabel 'objects examined by full collections, per list'
set yrange [0:*]
set key bottom right
set grid
plot '$datafile' using (\$1/1e6):2 with linespoints title 'full growth 100% (default)', \
     '$datafile' using (\$1/1e6):3 with linespoints title 'full growth 25% (CPython)'
EOF
    echo "schedule.sh: plot in $plot" >&2
fi
