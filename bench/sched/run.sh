#!/usr/bin/env bash
#
# run.sh - the scheduler benchmark: a synthetic service under every
# collection policy and lock mode of mwrt, and CPython doing the same.
#
# What it measures: mwrt-bench-service (bench_service.c; its opening
# comment describes the service) in six configurations, lock mode GIL /
# FREE x collection policy STW / PAUSED / OFF, and service.py (CPython
# threads) with its collector on and off, all at the same rate, duration,
# number of workers and state size.  For each: request latency p50, p99,
# p99.9 and max (open loop, from each request's due time), how busy the
# workers were and how many requests started late, peak RSS, and the
# collector's figures (collections per generation; pause and young-
# collection pause p50/p99/p99.9/max; time-to-safepoint, mwrt only).
#
# How: every repetition runs each configuration once, each in a fresh
# process, in an order that rotates from one repetition to the next, so
# that machine noise falls on all of them alike; each cell is the median
# over the repetitions of that run's figure.  A run that fails or hangs
# past the timeout is reported in its cells and the script carries on.
#
# Output: progress on stderr; on stdout a Markdown report: the machine,
# python3 --version, the mwrt revision, load averages, two tables, the
# goals (PAUSED p99.9 within 1.2x of OFF in each lock mode, young pause
# p99 under 100 us, time-to-safepoint p99 under 50 us; reported, never
# asserted) with CPython's p99.9 beside them.
#
# Usage: bench/sched/run.sh [options] [BUILD_DIR [REPS]]   (see --help)

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=${BUILD_DIR:-build/release}
reps=${BENCH_REPS:-3}
rate=${BENCH_RATE:-5000}
duration=${BENCH_DURATION:-5}
keys=${BENCH_KEYS:-100000}
threads=${BENCH_THREADS:-2}
thresholds=${BENCH_THRESHOLDS:-}
run_timeout=${BENCH_TIMEOUT:-300}
service=${BENCH_SERVICE:-}
python=${PYTHON:-python3}
configs=(mwrt-gil-stw mwrt-gil-paused mwrt-gil-off mwrt-free-stw mwrt-free-paused mwrt-free-off
         cpython-gcon cpython-gcoff)

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<EOF
usage: $0 [options] [BUILD_DIR [REPS]]

Runs mwrt-bench-service (lock gil/free x gc stw/paused/off) and service.py
(CPython, gc on/off), interleaved, and prints Markdown tables of medians.

options (environment variable in brackets):
  -b, --build DIR       build directory (BUILD_DIR; default: build/release)
  -r, --reps N          repetitions (BENCH_REPS; default: 3)
      --rate R          requests per second per worker (BENCH_RATE; default: 5000)
      --duration S      seconds of requests per run (BENCH_DURATION; default: 5)
      --keys N          entries in the long-lived state, 11 objects each
                        (BENCH_KEYS; default: 100000, i.e. 1.1M objects)
      --threads N       workers (BENCH_THREADS; default: 2)
      --thresholds A,B,C  collection thresholds for mwrt and CPython alike
                        (BENCH_THRESHOLDS; default: each one's own, 700,10,10)
      --configs LIST    comma-separated subset of: ${configs[*]}
      --timeout SECS    limit per run (BENCH_TIMEOUT; default: 300)
      --service PATH    mwrt-bench-service (BENCH_SERVICE; default:
                        BUILD_DIR/bench/sched/mwrt-bench-service)
      --python PATH     the CPython to compare with (PYTHON; default: python3)
  -h, --help            this text
EOF
}

positional=()
while [ $# -gt 0 ]; do
    case $1 in
        -b|--build) build=$2; shift 2 ;;
        -r|--reps) reps=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --keys) keys=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --thresholds) thresholds=$2; shift 2 ;;
        --configs) IFS=, read -r -a configs <<<"$2"; shift 2 ;;
        --timeout) run_timeout=$2; shift 2 ;;
        --service) service=$2; shift 2 ;;
        --python) python=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
        *) positional+=("$1"); shift ;;
    esac
done
take_positional "${positional[@]}"
require_positive rate "$rate"
require_positive keys "$keys"
require_positive threads "$threads"
require_positive timeout "$run_timeout"
if ! [[ $duration =~ ^[0-9]+(\.[0-9]+)?$ ]] || [ "$(calc '%d' "$duration <= 0")" = 1 ]; then
    echo "run.sh: duration must be a positive number of seconds, not '$duration'" >&2
    exit 2
fi
if [ -n "$thresholds" ] && ! [[ $thresholds =~ ^[0-9]+,[0-9]+,[0-9]+$ ]]; then
    echo "run.sh: thresholds must be A,B,C, not '$thresholds'" >&2
    exit 2
fi
for c in "${configs[@]}"; do
    case $c in
        mwrt-gil-stw|mwrt-gil-paused|mwrt-gil-off|mwrt-free-stw|mwrt-free-paused|mwrt-free-off) ;;
        cpython-gcon|cpython-gcoff) ;;
        *) echo "run.sh: unknown configuration '$c'" >&2; exit 2 ;;
    esac
done
service=${service:-$build/bench/sched/mwrt-bench-service}
if [ ! -x "$service" ]; then
    echo "run.sh: no benchmark binary at $service (build target mwrt-bench-service first)" >&2
    exit 2
fi
if ! command -v "$python" >/dev/null 2>&1; then
    echo "run.sh: $python not found" >&2
    exit 2
fi

notes=()
nconfigs=${#configs[@]}
# The figures each run reports that the tables use.
metrics="lat_p50_us lat_p99_us lat_p999_us lat_max_us busy_pct late_pct runq_ms cpu_s rss_mib
         gc0 gc1 gc2 stw idle memory
         pause_n pause_p50_us pause_p99_us pause_p999_us pause_max_us
         young_n young_p50_us young_p99_us young_p999_us young_max_us
         tts_n tts_p50_us tts_p99_us tts_p999_us tts_max_us"

# config_command CONFIG: fill the array cmd with the command that runs it once.
config_command() {
    local common=(--threads "$threads" --rate "$rate" --duration "$duration" --keys "$keys")
    if [ -n "$thresholds" ]; then
        common+=(--thresholds "$thresholds")
    fi

    case $1 in
        mwrt-*)
            local rest=${1#mwrt-}
            cmd=("$service" --lock "${rest%-*}" --gc "${rest#*-}" "${common[@]}")
            ;;
        cpython-gcon) cmd=("$python" "$srcdir/service.py" --gc on "${common[@]}") ;;
        cpython-gcoff) cmd=("$python" "$srcdir/service.py" --gc off "${common[@]}") ;;
    esac
}

# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

declare -A runs=()          # "config|metric" -> the value of each good run
declare -A failed=()        # config -> number of failed runs
declare -A fail_kind=()     # config -> label for the table cells

make_logdir sched

run_one() {
    local c=$1 out rc line why last m
    local -a cmd

    config_command "$c"
    out="$logdir/$c-$rep.log"
    rc=0
    timeout -k 5 "$run_timeout" "${cmd[@]}" >"$out" 2>&1 || rc=$?
    line=$(grep -m1 '^result ' "$out" || true)
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        why=$(describe_exit "$rc")
        if [ "$rc" -eq 0 ]; then
            why="no result line"
        fi
        last=$(grep -v '^result ' "$out" | grep -v '^$' | tail -n 1 || true)
        if [ -n "$last" ]; then
            why="$why: $last"
        fi
        failed[$c]=$(( ${failed[$c]:-0} + 1 ))
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            fail_kind[$c]=timeout
        else
            fail_kind[$c]=failed
        fi
        note "$c (repetition $rep): $why"
        echo "  $c: FAILED ($why)" >&2
        return
    fi
    # Split the key=value words in the shell: a process per figure would
    # cost more than the runs on a busy machine.
    local -A got=()
    local kv
    for kv in $line; do
        if [[ $kv == *=* ]]; then
            got[${kv%%=*}]=${kv#*=}
        fi
    done
    for m in $metrics; do
        runs["$c|$m"]="${runs["$c|$m"]:-} ${got[$m]:-na}"
    done
    printf '  %-17s p50 %8s  p99 %8s  p99.9 %8s  max %8s us  busy %5s%%  collections %s/%s/%s\n' "$c" \
        "${got[lat_p50_us]:-?}" "${got[lat_p99_us]:-?}" "${got[lat_p999_us]:-?}" \
        "${got[lat_max_us]:-?}" "${got[busy_pct]:-?}" "${got[gc0]:-?}" "${got[gc1]:-?}" \
        "${got[gc2]:-?}" >&2
}

started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
echo "run.sh: $reps repetitions x ${nconfigs} configurations (${configs[*]})," \
     "$threads workers x $rate req/s for $duration s, $keys keys" >&2
for ((rep = 1; rep <= reps; rep++)); do
    echo "repetition $rep/$reps" >&2
    for ((k = 0; k < nconfigs; k++)); do
        i=$(( (k + rep - 1) % nconfigs ))
        run_one "${configs[$i]}"
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
wall=$(( $(date +%s) - started ))

# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

# Every median in one awk pass: "config|metric value" lines in, "config|metric
# median" lines out; "na" (CPython has no time-to-safepoint) is left out.
declare -A med=()
while read -r key value; do
    med[$key]=$value
done < <(
    for key in "${!runs[@]}"; do
        for v in ${runs[$key]}; do
            echo "$key $v"
        done
    done | awk '
        $2 ~ /^-?[0-9.]+$/ { n[$1]++; v[$1, n[$1]] = $2 + 0 }
        END {
            for (k in n) {
                m = n[k]
                for (i = 1; i <= m; i++) { a[i] = v[k, i] }
                for (i = 2; i <= m; i++) {          # insertion sort: m is small
                    x = a[i]
                    for (j = i - 1; j >= 1 && a[j] > x; j--) { a[j + 1] = a[j] }
                    a[j + 1] = x
                }
                if (m % 2) { print k, a[(m + 1) / 2] } else { print k, (a[m / 2] + a[m / 2 + 1]) / 2 }
            }
        }')

# cell CONFIG METRIC [FORMAT]: the median, or why there is none.
cell() {
    local c=$1 m=$2 fmt=${3:-%.1f}

    if [ -n "${failed[$c]:-}" ] && [ "${failed[$c]}" -ge "$reps" ]; then
        echo "${fail_kind[$c]}"
    elif [ -n "${med["$c|$m"]:-}" ]; then
        # shellcheck disable=SC2059 # the format is the caller's
        printf "$fmt\n" "${med["$c|$m"]}"
    else
        echo "n/a"
    fi
}

# four CONFIG PREFIX: "p50 / p99 / p99.9 / max" of a percentile family, or
# "-" when it saw nothing (no collection, or no safepoint in CPython).
four() {
    local c=$1 p=$2

    if [ -z "${med["$c|${p}_n"]:-}" ] || [ "${med["$c|${p}_n"]}" = 0 ]; then
        echo "-"
        return
    fi
    echo "$(cell "$c" "${p}_p50_us") / $(cell "$c" "${p}_p99_us") / $(cell "$c" "${p}_p999_us") / $(cell "$c" "${p}_max_us")"
}

label() {
    case $1 in
        mwrt-gil-stw) echo "mwrt GIL, STW" ;;
        mwrt-gil-paused) echo "mwrt GIL, PAUSED" ;;
        mwrt-gil-off) echo "mwrt GIL, OFF" ;;
        mwrt-free-stw) echo "mwrt FREE, STW" ;;
        mwrt-free-paused) echo "mwrt FREE, PAUSED" ;;
        mwrt-free-off) echo "mwrt FREE, OFF" ;;
        cpython-gcon) echo "CPython threads, gc on" ;;
        cpython-gcoff) echo "CPython threads, gc off" ;;
    esac
}

failnote() {
    if [ -n "${failed[$1]:-}" ] && [ "${failed[$1]}" -lt "$reps" ]; then
        echo " (${failed[$1]}/$reps runs ${fail_kind[$1]})"
    fi
}

cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
commit=$(git -C "$srcdir" rev-parse --short HEAD 2>/dev/null || echo "no commit")
if [ -n "$(git -C "$srcdir" status --porcelain 2>/dev/null | head -n 1)" ]; then
    commit="$commit (uncommitted changes)"
fi
objects=$(( keys * 11 ))

echo "## mwrt scheduler benchmark: a synthetic service, collection policies and CPython"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, ${mem:-? RAM}, Linux $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- python: $("$python" --version 2>&1) ($(command -v "$python"))"
echo "- mwrt source: $commit; binary: $service"
echo "- service: $threads workers x $rate requests/s each (open loop, evenly spaced), $duration s per run" \
     "(first 0.5 s not recorded), state of $keys keys = $objects objects; each request allocates" \
     "3 containers with a cycle and 5 other objects, reads 3 and updates 1 state entry;" \
     "collection thresholds ${thresholds:-700,10,10 (the defaults)}"
echo "- runs: median of $reps repetitions; each repetition runs every configuration once, in a fresh" \
     "process, in rotating order; wall time $wall s"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after (other work on the machine skews the numbers)"
echo
echo "### Request latency (µs, from each request's due time)"
echo
echo "| configuration | p50 | p99 | p99.9 | max | workers busy % | late starts % | waiting for a CPU, ms/worker | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
    echo "| $(label "$c")$(failnote "$c") | $(cell "$c" lat_p50_us) | $(cell "$c" lat_p99_us)" \
         "| $(cell "$c" lat_p999_us) | $(cell "$c" lat_max_us) | $(cell "$c" busy_pct)" \
         "| $(cell "$c" late_pct %.2f) | $(cell "$c" runq_ms) | $(cell "$c" rss_mib) |"
done
echo
echo "### Collector (pauses and time-to-safepoint in µs: p50 / p99 / p99.9 / max)"
echo
echo "| configuration | collections gen 0/1/2 | stw / idle / memory | pause, all generations | young (gen 0) pause | time-to-safepoint |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
    if [[ $c == cpython-* ]]; then
        kinds="-"
    else
        kinds="$(cell "$c" stw %.0f) / $(cell "$c" idle %.0f) / $(cell "$c" memory %.0f)"
    fi
    echo "| $(label "$c") | $(cell "$c" gc0 %.0f) / $(cell "$c" gc1 %.0f) / $(cell "$c" gc2 %.0f)" \
         "| $kinds | $(four "$c" pause) | $(four "$c" young) | $(four "$c" tts) |"
done
echo
echo "Busy: the share of the serving time the workers spent serving (the rest they slept, idle);"
echo "late starts: requests that began after their due time (a worker behind, or waiting for the"
echo "GIL or a collection); waiting for a CPU: how long each worker was runnable but not running"
echo "(/proc/thread-self/schedstat), i.e. what the machine's other work took from the service."
echo "CPython's pauses are timed with gc.callbacks; it has no safepoints."
echo
echo "Run-to-run spread of request p99.9 (slowest / fastest repetition):"
spread=""
for c in "${configs[@]}"; do
    # shellcheck disable=SC2086
    s=$(printf '%s\n' ${runs["$c|lat_p999_us"]:-} | sort -g |
        awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%.2fx", (lo > 0 ? hi / lo : 0); else printf "n/a" }')
    spread+="$c $s; "
done
echo "${spread%; }"
echo

# goal_paused LOCK: PAUSED's p99.9 against OFF's.
goal_paused() {
    local l=$1 p off
    p=${med["mwrt-$l-paused|lat_p999_us"]:-}
    off=${med["mwrt-$l-off|lat_p999_us"]:-}
    if [ -z "$p" ] || [ -z "$off" ]; then
        echo "- PAUSED p99.9 within 1.2x of OFF (${l^^}): not measured"
        return
    fi
    local r verdict=met
    r=$(calc '%.2f' "($off > 0) ? $p / $off : 0")
    if [ "$(calc '%d' "$p <= 1.2 * $off")" != 1 ]; then
        verdict="NOT met"
    fi
    echo "- PAUSED p99.9 within 1.2x of OFF (${l^^}): $verdict: $(calc '%.1f' "$p") µs vs $(calc '%.1f' "$off") µs = ${r}x"
}

# goal_below CONFIG PREFIX LIMIT WHAT: a p99 against a limit in µs.
goal_below() {
    local c=$1 p=$2 lim=$3 what=$4 v n
    n=${med["$c|${p}_n"]:-}
    v=${med["$c|${p}_p99_us"]:-}
    if [ -z "$n" ] || [ -z "$v" ] || [ "$(calc '%d' "$n == 0")" = 1 ]; then
        echo "- $what p99 under $lim µs, $(label "$c"): none measured"
        return
    fi
    if [ "$(calc '%d' "$v < $lim")" = 1 ]; then
        echo "- $what p99 under $lim µs, $(label "$c"): met: $(calc '%.1f' "$v") µs"
    else
        echo "- $what p99 under $lim µs, $(label "$c"): NOT met: $(calc '%.1f' "$v") µs"
    fi
}

echo "Goals (reported, not asserted):"
goal_paused gil
goal_paused free
for c in mwrt-gil-stw mwrt-gil-paused mwrt-free-stw mwrt-free-paused; do
    goal_below "$c" young 100 "young-collection pause"
done
for c in mwrt-free-stw mwrt-free-paused; do
    goal_below "$c" tts 50 "time-to-safepoint"
done
echo "- time-to-safepoint under the GIL: nothing is stopped (a collection holds the GIL, which is" \
     "atomic by construction); reported p99: STW $(cell mwrt-gil-stw tts_p99_us) µs," \
     "PAUSED $(cell mwrt-gil-paused tts_p99_us) µs"
# with_unit VALUE: "VALUE µs", or VALUE alone when it is not a number.
with_unit() {
    if [[ $1 =~ ^[0-9.]+$ ]]; then
        echo "$1 µs"
    else
        echo "$1"
    fi
}
echo "- beside them, CPython's p99.9: gc on $(with_unit "$(cell cpython-gcon lat_p999_us)")," \
     "gc off $(with_unit "$(cell cpython-gcoff lat_p999_us)")"

if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    for x in "${notes[@]}"; do
        echo "- $x"
    done
fi
