#!/usr/bin/env bash
#
# profile.sh - where a server's CPU time per request goes: perf's samples
# of the server process, split into the kernel, the server's own code, the
# C library, libuv and the rest, and the hottest symbols, for mwrt-server's
# modes beside redis-server under the same redis-benchmark load.
#
# How: each server in turn on a loopback port in 7240-7249 (persistence off
# for redis-server), `perf record -F FREQ -g -p PID` for the whole of one
# `redis-benchmark -c 50 -n N -t TEST -r 100000` run, then `perf report`
# by shared object and by symbol.  It reports, never judges; it needs perf
# (linux-perf) and may need root (or kernel.perf_event_paranoid <= 1).
#
# Usage: bench/server/profile.sh [BUILD_DIR [TEST]]
#   BUILD_DIR  build tree holding server/mwrt-server (default: build)
#   TEST       redis-benchmark test name (default: get)
#   MODES      mwrt modes of bench/lib.sh (default: gil,free,sharded)
#   N          requests (default: 200000); FREQ sampling rate (default: 2999)
#   TOP        symbols listed per server (default: 12)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

case ${1:-} in
    -h|--help)
        sed -n '2,/^set /p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        exit 0 ;;
esac

build=${1:-build}
test=${2:-get}
n=${N:-200000}
freq=${FREQ:-2999}
top=${TOP:-12}
IFS=, read -r -a modes <<<"${MODES:-gil,free,sharded}"
server=$build/server/mwrt-server
for tool in perf redis-server redis-benchmark redis-cli; do
    command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found" >&2; exit 2; }
done
[ -x "$server" ] || { echo "profile.sh: no $server (build first)" >&2; exit 2; }
for m in "${modes[@]}"; do
    mwrt_mode_flags "$m" >/dev/null || { echo "profile.sh: unknown mode '$m'" >&2; exit 2; }
done
require_positive N "$n"
require_positive FREQ "$freq"

work=$(mktemp -d "${TMPDIR:-/tmp}/mwrt-profile.XXXXXX")
pid=
finish() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap finish EXIT
trap 'exit 130' INT TERM

port=
pick_port() {
    local p
    for p in $(seq 7240 7249); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            port=$p
            return 0
        fi
    done
    echo "profile.sh: no free port in 7240-7249" >&2
    exit 1
}

# start NAME: the server for NAME on a free port; pid and port set.
start() {
    pick_port
    if [ "$1" = redis ]; then
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            >"$work/$1.log" 2>&1 &
    else
        # shellcheck disable=SC2046  # the flags are words
        "$server" --port "$port" --bind 127.0.0.1 $(mwrt_mode_flags "$1") >"$work/$1.log" 2>&1 &
    fi
    pid=$!
    for _ in $(seq 1 100); do
        [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    echo "profile.sh: $1 did not start: $(tail -n 3 "$work/$1.log")" >&2
    exit 1
}

stop() {
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    pid=
}

# profile NAME: record the server under load, print its section.
profile() {
    local name=$1 data=$work/$1.data
    start "$name"
    if [ "$test" = get ]; then
        # Keys to find: GET of missing keys is a shorter path in both.
        redis-benchmark -p "$port" -c 50 -n 100000 -r 100000 -t set -q >/dev/null 2>&1
    fi
    perf record -q -F "$freq" -g -p "$pid" -o "$data" 2>"$work/$name.perf.err" &
    local ppid=$!
    sleep 0.5
    redis-benchmark -p "$port" -c 50 -n "$n" -r 100000 -t "$test" -q 2>/dev/null \
        | tr '\r' '\n' | grep -a 'requests per second' | tail -n 1 >"$work/$name.rps"
    kill -INT "$ppid" 2>/dev/null
    wait "$ppid" 2>/dev/null
    stop
    echo "### $name"
    echo
    echo "- $(cat "$work/$name.rps" 2>/dev/null)"
    echo
    # Share by shared object (kernel = [kernel.kallsyms]), self time.
    perf report -i "$data" --no-children --sort dso --stdio -q 2>/dev/null |
        awk -v name="$name" '
            /%/ { p = $1; sub(/%/, "", p); d = $2
                  if (d ~ /kernel/) k += p
                  else if (d ~ /mwrt-server|redis-server|redis-check/) own += p
                  else if (d ~ /libc[.-]/) libc += p
                  else if (d ~ /libuv/) uv += p
                  else if (d ~ /libmw/) own += p
                  else other += p }
            END { printf "| kernel | own code | libc | libuv | other |\n|---:|---:|---:|---:|---:|\n"
                  printf "| %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", k, own, libc, uv, other }'
    echo
    echo "Hottest symbols (self):"
    echo
    echo '```'
    perf report -i "$data" --no-children --sort dso,sym --stdio -q -g none 2>/dev/null |
        grep '%' | head -n "$top" | sed 's/[[:space:]]\+$//'
    echo '```'
    echo
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "## Where the CPU goes (bench/server/profile.sh)"
echo
echo "- command: \`${MODES:+MODES=$MODES }bench/server/profile.sh $build $test\`"
echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), Linux $(uname -r), shared with redis-benchmark; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- redis-server $(redis-server --version | cut -d' ' -f3 | sed 's/^v=//'); mwrt-server source $rev; perf $(perf --version | cut -d' ' -f3)"
echo "- load: redis-benchmark -c 50 -n $n -r 100000 -t $test; perf record -F $freq -g -p PID for the whole run; shares are of the server's own samples"
echo
for m in redis "${modes[@]}"; do
    profile "$m"
done
