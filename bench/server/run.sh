#!/usr/bin/env bash
#
# run.sh - mwrt-server against redis-server 7 under redis-benchmark.
#
# What it measures: requests per second and latency (p50, p99) that Debian's
# redis-benchmark sees from mwrt-server (default flags: half the cores as workers, sharded keyspace,
# the default lock mode and collector policy) and from Debian's redis-server
# (persistence off: --save '' --appendonly no), with 50 clients and 200,000
# requests per test, unpipelined and with -P 16, for the tests SET GET INCR
# LPUSH RPUSH LPOP RPOP SADD HSET SPOP ZADD LRANGE_100 MSET.  If BENCH_FREE
# is 1 (the default) a second mwrt-server with --lock free is measured as
# an extra column.
#
# How: both (or all three) servers run for the whole benchmark on loopback
# ports in 7200-7299.  Every repetition runs each mode against every server
# in turn, the order of servers rotating from one repetition to the next so
# that machine noise falls on all alike; the keyspace is flushed before
# each run.  Each figure in the table is the median over REPS repetitions
# of that figure alone (rps, p50 and p99 separately).  redis-benchmark's
# --csv output gives rps and avg/min/p50/p95/p99/max latency in ms.
#
# It reports, never judges: a run that fails or times out is named in the
# report and left out of the medians; the goal lines (mwrt >= 1.3x redis's
# rps and p99 no higher, per test and mode) say met or not, and the exit
# status does not depend on them.  On a 2-core machine the client shares
# the cores with the server: read the numbers as what they are.
#
# Usage: bench/server/run.sh [BUILD_DIR [REPS]]
#   BUILD_DIR   build tree holding server/mwrt-server (default: build)
#   REPS        repetitions (default: 3)
# Environment: BENCH_REQUESTS (-n, default 200000), BENCH_CLIENTS (-c,
# default 50), BENCH_PIPELINE (the pipelined mode's -P, default 16),
# BENCH_TESTS (-t list), BENCH_FREE (0 to skip the --lock free column),
# BENCH_TIMEOUT (seconds per redis-benchmark run, default 900),
# MWRT_SERVER, REDIS_SERVER, REDIS_BENCHMARK, REDIS_CLI (binaries).
# Server CPU time per request, one test per run: bench/server/cpu.sh.

set -euo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

build=build
reps=${BENCH_REPS:-3}
requests=${BENCH_REQUESTS:-200000}
clients=${BENCH_CLIENTS:-50}
pipeline=${BENCH_PIPELINE:-16}
tests=${BENCH_TESTS:-SET,GET,INCR,LPUSH,RPUSH,LPOP,RPOP,SADD,HSET,SPOP,ZADD,LRANGE_100,MSET}
with_free=${BENCH_FREE:-1}
run_timeout=${BENCH_TIMEOUT:-900}
redis_server=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
redis_benchmark=${REDIS_BENCHMARK:-$(command -v redis-benchmark || echo /usr/bin/redis-benchmark)}
redis_cli=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
notes=()
failed=()
logdir=   # set by make_logdir

case ${1:-} in
    -h|--help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
esac
take_positional "$@"
require_positive requests "$requests"
require_positive clients "$clients"
require_positive pipeline "$pipeline"
mwrt_server=${MWRT_SERVER:-$build/server/mwrt-server}
for bin in "$mwrt_server" "$redis_server" "$redis_benchmark" "$redis_cli"; do
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is not an executable (build mwrt-server; apt-get install redis-server redis-tools)" >&2
        exit 2
    fi
done

make_logdir server

# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

names=(mwrt redis)
if [ "$with_free" = 1 ]; then
    names+=(mwrt-free)
fi
declare -A port pid

# A port in 7200-7299 that nothing listens on and we have not taken.
pick_port() {
    local p taken
    for p in $(seq 7200 7299); do
        taken=0
        for q in "${port[@]:-}"; do
            if [ "$q" = "$p" ]; then
                taken=1
            fi
        done
        if [ $taken = 0 ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "run.sh: no free port in 7200-7299" >&2
    exit 1
}

start_server() {
    local name=$1 p
    p=$(pick_port) || exit 1
    port[$name]=$p
    case $name in
        mwrt) "$mwrt_server" --port "$p" --bind 127.0.0.1 >"$logdir/$name.log" 2>&1 & ;;
        mwrt-free) "$mwrt_server" --port "$p" --bind 127.0.0.1 --lock free \
                       >"$logdir/$name.log" 2>&1 & ;;
        redis) "$redis_server" --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
                   --daemonize no >"$logdir/$name.log" 2>&1 & ;;
    esac
    pid[$name]=$!
    for _ in $(seq 1 300); do
        if [ "$("$redis_cli" -h 127.0.0.1 -p "$p" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        if ! kill -0 "${pid[$name]}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    failed+=("$name: did not start")
    echo "run.sh: $name did not answer PING on port $p; log:" >&2
    tail -n 20 "$logdir/$name.log" >&2
    exit 1
}

stop_servers() {
    local name
    for name in "${!pid[@]}"; do
        if kill -0 "${pid[$name]}" 2>/dev/null; then
            kill -TERM "${pid[$name]}" 2>/dev/null || true
            for _ in $(seq 1 100); do
                kill -0 "${pid[$name]}" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "${pid[$name]}" 2>/dev/null || true
        fi
        wait "${pid[$name]}" 2>/dev/null || true
    done
}

finish() {
    stop_servers
    clean_up_logdir
}
trap finish EXIT
trap 'exit 130' INT TERM

loadavg() {
    cut -d' ' -f1-3 /proc/loadavg
}

# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------

modes=(plain "P$pipeline")
# The source the binaries are taken to be built from: the checkout as the
# run starts.
rev=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$(dirname "${BASH_SOURCE[0]}")" status --porcelain --untracked-files=no 2>/dev/null | head -c 1)
load_before=$(loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$SECONDS
for name in "${names[@]}"; do
    start_server "$name"
done

# run_one NAME MODE REP: one redis-benchmark run; results appended to
# $logdir/res/NAME.MODE.TEST as "rps p50 p99" lines.
run_one() {
    local name=$1 mode=$2 rep=$3 csv rc=0 extra=()
    csv=$logdir/$name.$mode.$rep.csv
    if [ "$mode" != plain ]; then
        extra=(-P "$pipeline")
    fi
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
        failed+=("$name $mode rep $rep: server not running")
        note "$name is not running (see $logdir/$name.log); restarting it"
        start_server "$name"
    fi
    "$redis_cli" -h 127.0.0.1 -p "${port[$name]}" flushall >/dev/null 2>&1 || true
    echo "run.sh: rep $rep/$reps, $mode, $name" >&2
    timeout "$run_timeout" "$redis_benchmark" -h 127.0.0.1 -p "${port[$name]}" \
        -c "$clients" -n "$requests" "${extra[@]}" -t "$tests" --csv \
        >"$csv" 2>"$csv.err" || rc=$?
    if [ $rc -ne 0 ]; then
        failed+=("$name $mode rep $rep: redis-benchmark $(describe_exit $rc)")
        note "$name $mode rep $rep: redis-benchmark $(describe_exit $rc)"
    fi
    # "TEST (details)","rps","avg","min","p50","p95","p99","max"
    tr -d '"' <"$csv" | awk -F, -v dir="$logdir/res" -v who="$name.$mode" '
        NR > 1 && $1 !~ /needed/ && NF >= 8 {
            split($1, w, " ")
            print $2, $5, $7 >> (dir "/" who "." w[1])
        }'
}

mkdir -p "$logdir/res"
for rep in $(seq 1 "$reps"); do
    for mode in "${modes[@]}"; do
        # Rotate the order of servers from one repetition to the next.
        n=${#names[@]}
        for i in $(seq 0 $((n - 1))); do
            run_one "${names[$(((i + rep - 1) % n))]}" "$mode" "$rep"
        done
    done
done
load_after=$(loadavg)
wall=$((SECONDS - t0))

# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

# stat NAME MODE TEST COLUMN: the median of a column (1 rps, 2 p50, 3 p99);
# rps rounded to whole requests, latencies as redis-benchmark gave them.
stat() {
    local f=$logdir/res/$1.$2.$3 m
    if [ -s "$f" ]; then
        # shellcheck disable=SC2046  # one number per word
        m=$(median $(awk -v c="$4" '{ print $c }' "$f"))
        if [ "$4" = 1 ]; then
            calc "%.0f" "$m"
        else
            calc "%.3f" "$m"
        fi
    fi
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)

echo "## mwrt-server against redis-server (redis-benchmark)"
echo
echo "- machine: $(nproc) CPUs, ${cpu:-unknown CPU}, Linux $(uname -r), $started"
echo "- redis-server: $("$redis_server" --version | cut -d' ' -f3 | sed 's/^v=//') (Debian: $(dpkg-query -W -f='${Version}' redis-server 2>/dev/null || echo '?')), persistence off; redis-benchmark $("$redis_benchmark" --version | cut -d' ' -f2)"
echo "- mwrt-server: $mwrt_server (source: $rev${dirty:+, with uncommitted changes}), default flags$([ "$with_free" = 1 ] && echo "; mwrt free: the same with --lock free")"
echo "- runs: redis-benchmark -c $clients -n $requests -t $tests, unpipelined (plain) and -P $pipeline; median of $reps repetitions, servers interleaved in rotating order"
echo "- load average (1/5/15 min) before: $load_before, after: $load_after; wall time ${wall} s (the client shares the CPUs with the servers)"
echo
hdr="| test | mode | mwrt rps | redis rps | mwrt/redis | mwrt p50/p99 ms | redis p50/p99 ms |"
sep="|---|---|---:|---:|---:|---:|---:|"
if [ "$with_free" = 1 ]; then
    hdr+=" mwrt free rps | free/redis | mwrt free p50/p99 ms |"
    sep+="---:|---:|---:|"
fi
echo "$hdr"
echo "$sep"
goals=()
IFS=, read -r -a test_list <<<"$tests"
for t in "${test_list[@]}"; do
    t=${t^^}
    for mode in "${modes[@]}"; do
        m_rps=$(stat mwrt "$mode" "$t" 1); r_rps=$(stat redis "$mode" "$t" 1)
        m_p50=$(stat mwrt "$mode" "$t" 2); r_p50=$(stat redis "$mode" "$t" 2)
        m_p99=$(stat mwrt "$mode" "$t" 3); r_p99=$(stat redis "$mode" "$t" 3)
        ratio=-
        if [ -n "$m_rps" ] && [ -n "$r_rps" ]; then
            ratio=$(calc "%.2fx" "$m_rps / $r_rps")
        fi
        row="| $t | $mode | ${m_rps:--} | ${r_rps:--} | $ratio | ${m_p50:--} / ${m_p99:--} | ${r_p50:--} / ${r_p99:--} |"
        if [ "$with_free" = 1 ]; then
            f_rps=$(stat mwrt-free "$mode" "$t" 1)
            f_p50=$(stat mwrt-free "$mode" "$t" 2); f_p99=$(stat mwrt-free "$mode" "$t" 3)
            fratio=-
            if [ -n "$f_rps" ] && [ -n "$r_rps" ]; then
                fratio=$(calc "%.2fx" "$f_rps / $r_rps")
            fi
            row+=" ${f_rps:--} | $fratio | ${f_p50:--} / ${f_p99:--} |"
        fi
        echo "$row"
        if [ "$ratio" = - ] || [ -z "$m_p99" ] || [ -z "$r_p99" ]; then
            goals+=("- $t $mode: no figures (a run failed)")
        else
            rps_ok=$(awk -v a="$m_rps" -v b="$r_rps" 'BEGIN { print (a >= 1.3 * b) ? "met" : "NOT met" }')
            p99_ok=$(awk -v a="$m_p99" -v b="$r_p99" 'BEGIN { print (a <= b) ? "met" : "NOT met" }')
            goals+=("- $t $mode: rps $rps_ok ($ratio, goal 1.30x); p99 $p99_ok (mwrt $m_p99 ms, redis $r_p99 ms)")
        fi
    done
done
echo
echo "rps: requests per second; p50/p99: latency percentiles in ms as redis-benchmark"
echo "reports them; each figure the median of its own over the repetitions."
echo
echo "Goal: mwrt-server (default flags) at least 1.3x redis-server's rps on every test,"
echo "unpipelined and pipelined, with p99 no higher than redis-server's:"
printf '%s\n' "${goals[@]}"
# How much the same figure moved between repetitions: for each server, the
# largest ratio of fastest to slowest rps of one test and mode.
if [ "$reps" -gt 1 ]; then
    spreads=()
    for name in "${names[@]}"; do
        worst=$(for f in "$logdir"/res/"$name".*; do
                    [ -s "$f" ] || continue
                    awk -v w="${f##*/"$name".}" '
                        NR == 1 { lo = $1; hi = $1 }
                        { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 }
                        END {
                            split(w, mt, ".")
                            if (lo > 0) printf "%.2f %s %s\n", hi / lo, mt[2], mt[1]
                        }' "$f"
                done | sort -g | tail -n 1)
        if [ -n "$worst" ]; then
            spreads+=("$name ${worst%% *}x (${worst#* })")
        fi
    done
    echo
    echo "Run-to-run spread of rps (fastest / slowest repetition), the largest per server:"
    joined=$(printf '%s; ' "${spreads[@]}")
    echo "${joined%; }."
fi
if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    printf -- '- %s\n' "${notes[@]}"
fi
