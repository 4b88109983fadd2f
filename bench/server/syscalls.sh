#!/usr/bin/env bash
#
# syscalls.sh - system calls per command, mwrt-server's modes beside
# redis-server, under the same redis-benchmark load.
#
# What it measures: for each server, the system calls its threads make
# (perf's raw_syscalls:sys_enter, and epoll_wait, read and write apart)
# while redis-benchmark -c 50 runs one test unpipelined, divided by the
# commands the server counted (INFO stats, total_commands_processed).  On
# a small VM most of a server's CPU per request is spent entering and
# leaving the kernel, so this is the figure that bounds CPU per request.
#
# How: every server runs on a loopback port in 7230-7239 for the whole
# script, persistence off for redis-server; each repetition runs the test
# against every server in turn; the table gives medians over REPS.  It
# reports, never judges; it needs perf (linux-perf) and may need root
# (or kernel.perf_event_paranoid <= 1) for the tracepoints.
#
# Usage: bench/server/syscalls.sh [BUILD_DIR [REPS [TEST]]]
#   BUILD_DIR  build tree holding server/mwrt-server (default: build)
#   REPS       repetitions (default: 3)
#   TEST       redis-benchmark test name (default: get)
#   MODES      mwrt modes, space-separated, each a comma-separated flag list
#              (default: "--lock,gil --lock,free --keyspace,sharded")
#   WORKERS    --workers for mwrt-server (default: 2)
set -euo pipefail
cd "$(dirname "$0")/../.."

build=${1:-build}
reps=${2:-3}
test=${3:-get}
modes=${MODES:---lock,gil --lock,free --keyspace,sharded}
workers=${WORKERS:-2}
n=${N:-100000}
server=$build/server/mwrt-server

for tool in perf redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || { echo "syscalls.sh: $tool not found" >&2; exit 1; }
done
[ -x "$server" ] || { echo "syscalls.sh: no $server (build first)" >&2; exit 1; }

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

names=(redis)
ports=(7230)
redis-server --port 7230 --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 &
pids+=($!)
port=7231
for m in $modes; do
    # shellcheck disable=SC2086
    "$server" --port $port --workers "$workers" ${m//,/ } 2>/dev/null &
    pids+=($!)
    names+=("mwrt ${m//,/ }")
    ports+=($port)
    port=$((port + 1))
done
for p in "${ports[@]}"; do
    for _ in $(seq 50); do
        redis-cli -p "$p" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
done

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
commands() { redis-cli -p "$1" info stats | tr -d '\r' | awk -F: '/^total_commands_processed/ {print $2}'; }

for r in $(seq "$reps"); do
    for i in "${!ports[@]}"; do
        p=${ports[$i]}
        pid=${pids[$i]}
        c0=$(commands "$p")
        timeout 120 perf stat -x, -o "$tmp/stat" \
            -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_read,syscalls:sys_enter_write \
            -p "$pid" -- redis-benchmark -p "$p" -c 50 -n "$n" -t "$test" -r 100000 -q >/dev/null 2>&1 || {
            echo "round $r: ${names[$i]} failed" >&2; continue; }
        c1=$(commands "$p")
        cmds=$((c1 - c0 - 1))  # less the INFO itself
        awk -F, -v n="$cmds" -v s="$i" '/sys_enter/ {
            split($3, a, ":"); printf "%s %s %.3f\n", s, a[2], $1 / n }' "$tmp/stat" >>"$tmp/all"
    done
done

echo "system calls per command, redis-benchmark -c 50 -n $n -t $test -r 100000, median of $reps"
printf '%-28s %8s %8s %8s %8s\n' server all epoll_wait read write
for i in "${!ports[@]}"; do
    row=$(printf '%-28s' "${names[$i]}")
    for ev in sys_enter sys_enter_epoll_wait sys_enter_read sys_enter_write; do
        med=$(awk -v s="$i" -v e="$ev" '$1 == s && $2 == e {print $3}' "$tmp/all" | sort -n |
              awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}')
        row+=$(printf ' %8s' "$med")
    done
    echo "$row"
done
