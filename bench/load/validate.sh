#!/usr/bin/env bash
# validate.sh BUILD_DIR [REPS] - mwrt-load against redis-benchmark, in the
# same run, on the same redis-server.
#
# For SET and GET, each with pipeline 1 and 16, and 50 connections on one
# thread (redis-benchmark's default shape), both tools send the same number
# of requests over the same 100000 keys (key:NNNNNNNNNNNN, 3-byte values:
# the two tools' keys are byte for byte the same).  Each repetition runs
# every case once with both tools, the tool going first alternating; the
# table shows medians and the ratio mwrt-load / redis-benchmark for
# throughput and p50, and each tool's CPU time per request (user + sys, from
# /usr/bin/time): on a small machine the client can be what limits the
# throughput, and the cheaper client then drives the server harder.  The
# goal is agreement within 15%; the script reports it and does not fail on
# it (benchmarks never assert on time).
#
# Environment: VALIDATE_N requests per run (200000), VALIDATE_CONNS (50),
# VALIDATE_PIPELINES ("1 16"), VALIDATE_TESTS ("set get").
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

build=${1:-build/release}
reps=${2:-3}
require_positive repetitions "$reps"
n=${VALIDATE_N:-200000}
conns=${VALIDATE_CONNS:-50}
pipelines=${VALIDATE_PIPELINES:-1 16}
tests=${VALIDATE_TESTS:-set get}
require_positive VALIDATE_N "$n"
require_positive VALIDATE_CONNS "$conns"

load="$build/bench/load/mwrt-load"
[ -x "$load" ] || { echo "validate.sh: no $load (build the mwrt-load target)" >&2; exit 2; }
for tool in redis-server redis-benchmark redis-cli python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "validate.sh: $tool not found (scripts/deps.sh)" >&2; exit 2; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/mwrt-load-validate.XXXXXX")
redis_pid=
cleanup() {
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port in 7300-7399 with nothing listening.
port=
for p in $(seq 7300 7399); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        port=$p
        break
    fi
done
[ -n "$port" ] || { echo "validate.sh: no free port in 7300-7399" >&2; exit 1; }
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --logfile "$dir/redis.log" &
redis_pid=$!
for _ in $(seq 50); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done
redis-cli -p "$port" ping 2>/dev/null | grep -q PONG || { echo "validate.sh: redis-server did not start" >&2; exit 1; }
# Every key the GETs ask for exists.
"$load" -p "$port" -c 50 -P 64 -n 100000 --keys 100000 --dist seq --mix set -q ||
    { echo "validate.sh: loading keys failed" >&2; exit 1; }

# cpu_us: the client's CPU time per request (µs) from the last timed run.
cpu_us() {
    awk -v n="$n" '{ printf "%.2f", ($1 + $2) * 1e6 / n }' "$dir/time"
}

# run_rb TEST P -> "rps p50_ms cpu_us_per_request"
run_rb() {
    local line
    line=$(/usr/bin/time -o "$dir/time" -f "%U %S" \
        redis-benchmark -p "$port" -c "$conns" -P "$2" -n "$n" -t "$1" -r 100000 -d 3 --csv 2>/dev/null |
        awk -F'","' -v t="${1^^}" '$1 == "\"" t { print $2, $5 }')
    [ -n "$line" ] && echo "$line $(cpu_us)"
}

# run_mw TEST P -> "rps p50_ms cpu_us_per_request"
run_mw() {
    /usr/bin/time -o "$dir/time" -f "%U %S" \
        "$load" -p "$port" -t 1 -c "$conns" -P "$2" -n "$n" --mix "$1" --keys 100000 -d 3 -q \
        --json "$dir/mw.json" || return 1
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(j["throughput_rps"], j["latency_us"]["p50"] / 1000)' "$dir/mw.json" | tr '\n' ' '
    cpu_us
    echo
}

declare -A rb_rps rb_p50 mw_rps mw_p50 rb_cpu mw_cpu
echo "validate: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on port $port," \
     "$reps repetition(s), $n requests per run, -c $conns" >&2
for rep in $(seq "$reps"); do
    for t in $tests; do
        for p in $pipelines; do
            if [ $((rep % 2)) -eq 1 ]; then order="rb mw"; else order="mw rb"; fi
            for tool in $order; do
                if [ "$tool" = rb ]; then
                    read -r rps p50 cpu < <(run_rb "$t" "$p")
                    [ -n "${rps:-}" ] || { echo "validate.sh: redis-benchmark $t -P $p failed" >&2; exit 1; }
                    rb_rps[$t/$p]+="$rps "
                    rb_p50[$t/$p]+="$p50 "
                    rb_cpu[$t/$p]+="$cpu "
                else
                    read -r rps p50 cpu < <(run_mw "$t" "$p")
                    [ -n "${rps:-}" ] || { echo "validate.sh: mwrt-load $t -P $p failed" >&2; exit 1; }
                    mw_rps[$t/$p]+="$rps "
                    mw_p50[$t/$p]+="$p50 "
                    mw_cpu[$t/$p]+="$cpu "
                fi
            done
            echo "  rep $rep $t -P $p done" >&2
        done
    done
done

echo
echo "mwrt-load against redis-benchmark (median of $reps, $n requests, -c $conns, one thread each;"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| command | pipeline | redis-benchmark req/s | mwrt-load req/s | ratio | redis-benchmark p50 ms | mwrt-load p50 ms | ratio | within 15% | client CPU µs/req (redis-benchmark / mwrt-load) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
for t in $tests; do
    for p in $pipelines; do
        k=$t/$p
        # shellcheck disable=SC2086
        r1=$(median ${rb_rps[$k]}); m1=$(median ${mw_rps[$k]})
        # shellcheck disable=SC2086
        r2=$(median ${rb_p50[$k]}); m2=$(median ${mw_p50[$k]})
        q1=$(calc %.2f "$m1 / $r1"); q2=$(calc %.2f "$m2 / $r2")
        ok=$(awk -v a="$q1" -v b="$q2" 'BEGIN { print (a >= 0.85 && a <= 1.15 && b >= 0.85 && b <= 1.15) ? "yes" : "no" }')
        # shellcheck disable=SC2086
        c1=$(median ${rb_cpu[$k]}); c2=$(median ${mw_cpu[$k]})
        printf '| %s | %s | %.0f | %.0f | %sx | %.3f | %.3f | %sx | %s | %.1f / %.1f |\n' "${t^^}" "$p" "$r1" "$m1" "$q1" "$r2" "$m2" "$q2" "$ok" "$c1" "$c2"
    done
done
