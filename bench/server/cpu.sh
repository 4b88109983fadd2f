#!/usr/bin/env bash
#
# cpu.sh - the server's CPU time per request, beside rps and p99, for
# mwrt-server and redis-server 7 under redis-benchmark.
#
# What it measures: for each test, ONE test per redis-benchmark invocation
# (-t TEST -n N -c 50 --csv), the server process's utime + stime (all its
# threads: /proc/PID/stat fields 14 and 15) read just before and just after
# the invocation, divided by the requests: server CPU microseconds per
# request; and redis-benchmark's rps and p99.  Two runs:
#   plain: unpipelined, -n CPU_REQUESTS, tests SET GET INCR LPUSH HSET SADD
#          ZADD LRANGE_100;
#   P16:   -P 16, -n CPU_REQUESTS_P, the 13 tests of bench/server/run.sh.
# LRANGE_100 is run as `lrange mylist 0 99` on a list of 600 elements made
# beforehand, so that redis-benchmark's own LPUSH fill (which -t lrange_100
# would run in the same invocation) is not counted.
#
# Servers: redis-server (--save '' --appendonly no) and one mwrt-server per
# mode of MODES (gil, free, sharded, each optionally with -gcoff or
# -paused and then -wN for --workers N, as sharded-w1; default
# gil,free,sharded), each with MWRT_EXTRA appended (e.g.
# MWRT_EXTRA="--keyspace sharded").  All run for the whole benchmark on
# loopback ports in 7300-7399; each repetition runs every test against every
# server, in an order that rotates from one repetition to the next; the
# keyspace is flushed before each run.  Each figure is the median over REPS
# of that figure alone.
#
# It reports, never judges: a failed or timed-out run is named and left out;
# the goal lines say met or not:
#   plain: mwrt CPU/request <= redis's / 1.3; p99 <= redis's; rps >= redis's
#   P16:   rps >= 1.3x redis's
# On a 2-core machine redis-benchmark shares the cores with the server.
#
# Usage: bench/server/cpu.sh [BUILD_DIR [REPS]]   (defaults: build, 3)
# Environment: MODES, MWRT_EXTRA, CPU_REQUESTS (100000), CPU_REQUESTS_P
# (500000), CPU_CLIENTS (50), CPU_TESTS, CPU_TESTS_P (-t lists), CPU_P (16),
# CPU_TIMEOUT (seconds per invocation, 300), MWRT_SERVER, REDIS_SERVER,
# REDIS_BENCHMARK, REDIS_CLI (binaries).

set -uo pipefail

# shellcheck source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

case ${1:-} in
    -h|--help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
esac

build=build
reps=3
take_positional "$@"
requests=${CPU_REQUESTS:-100000}
requests_p=${CPU_REQUESTS_P:-500000}
clients=${CPU_CLIENTS:-50}
pipeline=${CPU_P:-16}
tests_plain=${CPU_TESTS:-SET,GET,INCR,LPUSH,HSET,SADD,ZADD,LRANGE_100}
tests_p=${CPU_TESTS_P:-SET,GET,INCR,LPUSH,RPUSH,LPOP,RPOP,SADD,HSET,SPOP,ZADD,LRANGE_100,MSET}
run_timeout=${CPU_TIMEOUT:-300}
extra=${MWRT_EXTRA:-}
IFS=, read -r -a mwrt_modes <<<"${MODES:-gil,free,sharded}"
for v in requests requests_p clients pipeline run_timeout; do
    require_positive "$v" "${!v}"
done
mwrt_server=${MWRT_SERVER:-$build/server/mwrt-server}
redis_server=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
redis_benchmark=${REDIS_BENCHMARK:-$(command -v redis-benchmark || echo /usr/bin/redis-benchmark)}
redis_cli=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
for bin in "$mwrt_server" "$redis_server" "$redis_benchmark" "$redis_cli"; do
    if [ ! -x "$bin" ]; then
        echo "cpu.sh: $bin is not an executable (build mwrt-server; apt-get install redis-server redis-tools)" >&2
        exit 2
    fi
done
hz=$(getconf CLK_TCK)
notes=()
failed=()
logdir=
make_logdir cpu

mode_flags() {
    local f
    f=$(mwrt_mode_flags "$1") || { echo "cpu.sh: unknown mode '$1'" >&2; exit 2; }
    [ -z "$extra" ] || f+=" $extra"
    echo "$f"
}
for m in "${mwrt_modes[@]}"; do
    mode_flags "$m" >/dev/null || exit 2
done

# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

names=(redis "${mwrt_modes[@]}")
declare -A port pid

pick_port() {
    local p q taken
    for p in $(seq 7300 7399); do
        taken=0
        for q in "${port[@]:-}"; do
            [ "$q" != "$p" ] || taken=1
        done
        if [ $taken = 0 ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    echo "cpu.sh: no free port in 7300-7399" >&2
    return 1
}

start_server() {
    local name=$1 p flags
    p=$(pick_port) || exit 1
    port[$name]=$p
    if [ "$name" = redis ]; then
        "$redis_server" --port "$p" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no >"$logdir/$name.log" 2>&1 &
    else
        flags=$(mode_flags "$name")
        # shellcheck disable=SC2086  # the flags are words
        "$mwrt_server" --port "$p" --bind 127.0.0.1 $flags >"$logdir/$name.log" 2>&1 &
    fi
    pid[$name]=$!
    for _ in $(seq 1 100); do
        if [ "$("$redis_cli" -h 127.0.0.1 -p "$p" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        kill -0 "${pid[$name]}" 2>/dev/null || break
        sleep 0.1
    done
    failed+=("$name: did not start")
    note "$name did not answer PING on port $p ($(tail -n 3 "$logdir/$name.log" | tr '\n' ' '))"
    return 1
}

stop_servers() {
    local name
    for name in "${!pid[@]}"; do
        if kill -0 "${pid[$name]}" 2>/dev/null; then
            kill -TERM "${pid[$name]}" 2>/dev/null
            for _ in $(seq 1 100); do
                kill -0 "${pid[$name]}" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "${pid[$name]}" 2>/dev/null
        fi
        wait "${pid[$name]}" 2>/dev/null
    done
}

finish() {
    stop_servers
    clean_up_logdir
}
trap finish EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID: utime + stime of the process (all threads), in clock ticks.
cpu_ticks() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }   # past "pid (comm) "; fields from 3 (state) on
    awk '{ print $12 + $13 }' <<<"$s"
}

cli() {
    timeout 30 "$redis_cli" -h 127.0.0.1 -p "${port[$1]}" "${@:2}"
}

# hops NAME: "hops pushes wakeups" so far: requests the server's workers
# have handed to one another, the pushes to a mailbox that carried them and
# their replies, and the wake-ups those pushes cost (INFO shards
# shard_hops, shard_batches, shard_wakeups; 0 0 0 without shards).
hops() {
    cli "$1" info shards 2>/dev/null | tr -d '\r' | awk -F: '
        $1 == "shard_hops" { h = $2 } $1 == "shard_batches" { b = $2 }
        $1 == "shard_wakeups" { w = $2 }
        END { print h + 0, b + 0, w + 0 }'
}

# run_one NAME KIND TEST REP: one redis-benchmark invocation; appends
# "rps p99 cpu_us_per_request hops_per_request pushes_per_hop
# wakeups_per_push client_cpu_share" to $logdir/res/NAME.KIND.TEST.
run_one() {
    local name=$1 kind=$2 t=$3 rep=$4 n=$requests csv rc=0 c0 c1 h0 h1 args=() line
    csv=$logdir/$name.$kind.$t.$rep.csv
    [ -z "${dead[$name]:-}" ] || return 0
    if [ "$kind" != plain ]; then
        n=$requests_p
        args=(-P "$pipeline")
    fi
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
        failed+=("$name $kind $t rep $rep: server not running")
        note "$name is not running (see $logdir/$name.log); restarting it"
        start_server "$name" || return
    fi
    cli "$name" flushall >/dev/null 2>&1
    if [ "$t" = LRANGE_100 ]; then
        # A 600-element list, as redis-benchmark's fill would make; not counted.
        timeout "$run_timeout" "$redis_benchmark" -h 127.0.0.1 -p "${port[$name]}" -c 1 -n 600 \
            -q lpush mylist xxx >/dev/null 2>&1
        args+=(-n "$n" lrange mylist 0 99)
    else
        args+=(-n "$n" -t "$t")
    fi
    read -r h0 b0 w0 <<<"$(hops "$name")"
    c0=$(cpu_ticks "${pid[$name]}")
    # The options before the command: redis-benchmark takes what follows a
    # command as its arguments.
    # The client's own CPU share (user + system over wall time, from
    # GNU time when installed): near 1 the client, not the server, is what
    # caps requests/s.
    local timer=() share=-
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%e %U %S" -o "$csv.time")
    "${timer[@]}" timeout "$run_timeout" "$redis_benchmark" -h 127.0.0.1 -p "${port[$name]}" -c "$clients" \
        --csv "${args[@]}" >"$csv" 2>"$csv.err" || rc=$?
    if [ -s "$csv.time" ]; then
        share=$(awk '$1 > 0 { printf "%.3f", ($2 + $3) / $1 }' "$csv.time")
    fi
    c1=$(cpu_ticks "${pid[$name]}")
    read -r h1 b1 w1 <<<"$(hops "$name")"
    if [ $rc -ne 0 ] || [ -z "$c0" ] || [ -z "$c1" ]; then
        failed+=("$name $kind $t rep $rep: redis-benchmark $(describe_exit $rc)")
        note "$name $kind $t rep $rep: redis-benchmark $(describe_exit $rc); excluded"
        return
    fi
    # "TEST","rps","avg","min","p50","p95","p99","max"
    line=$(tr -d '"' <"$csv" | awk -F, 'NR > 1 && $1 !~ /needed/ && NF >= 8 { print $2, $7; exit }')
    if [ -z "$line" ]; then
        failed+=("$name $kind $t rep $rep: no result line")
        note "$name $kind $t rep $rep: redis-benchmark printed no result; excluded"
        return
    fi
    local hd=$((h1 - h0)) bd=$((b1 - b0))
    echo "$line $(calc %.3f "($c1 - $c0) * 1000000 / $hz / $n") $(calc %.3f "$hd / $n")" \
        "$( ((hd > 0)) && calc %.4f "$bd / $hd" || echo 0)" \
        "$( ((bd > 0)) && calc %.3f "($w1 - $w0) / $bd" || echo 0)" "${share:--}" \
        >>"$logdir/res/$name.$kind.$t"
}

rev=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --short HEAD 2>/dev/null || echo unknown)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$SECONDS
declare -A dead   # servers that did not start: reported, their runs skipped
for name in "${names[@]}"; do
    start_server "$name" || dead[$name]=1
done
mkdir -p "$logdir/res"
IFS=, read -r -a list_plain <<<"${tests_plain^^}"
IFS=, read -r -a list_p <<<"${tests_p^^}"
nn=${#names[@]}
for rep in $(seq 1 "$reps"); do
    for kind in plain "P$pipeline"; do
        if [ "$kind" = plain ]; then list=("${list_plain[@]}"); else list=("${list_p[@]}"); fi
        echo "cpu.sh: rep $rep/$reps, $kind" >&2
        for t in "${list[@]}"; do
            for i in $(seq 0 $((nn - 1))); do
                run_one "${names[$(((i + rep - 1) % nn))]}" "$kind" "$t" "$rep"
            done
        done
    done
done
wall=$((SECONDS - t0))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

# stat NAME KIND TEST COLUMN: the median of a column (1 rps, 2 p99, 3 cpu,
# 4 hops per request, 5 pushes per hop, 6 wake-ups per push, 7 the
# client's CPU share).
stat() {
    local f=$logdir/res/$1.$2.$3
    if [ -s "$f" ]; then
        # shellcheck disable=SC2046  # one number per word
        median $(awk -v c="$4" '{ print $c }' "$f")
    fi
}

fmt() {
    if [ -z "$2" ]; then echo -; else calc "$1" "$2"; fi
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "## Server CPU per request (bench/server/cpu.sh)"
echo
echo "- command: \`${MODES:+MODES=$MODES }${MWRT_EXTRA:+MWRT_EXTRA=\"$MWRT_EXTRA\" }bench/server/cpu.sh $build $reps\`"
echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), Linux $(uname -r), shared with redis-benchmark; $started"
echo "- redis-server $("$redis_server" --version | cut -d' ' -f3 | sed 's/^v=//') (--save '' --appendonly no); redis-benchmark $("$redis_benchmark" --version | cut -d' ' -f2); mwrt-server source $rev"
for m in "${mwrt_modes[@]}"; do
    echo "- mwrt $m: \`mwrt-server $(mode_flags "$m")\`"
done
echo "- runs: redis-benchmark -c $clients, one test per invocation; plain: -n $requests; P$pipeline: -n $requests_p; median of $reps; CPU = server utime+stime (/proc/PID/stat, ${hz} Hz ticks) / requests"
echo "- load average before: $load_before, after: $load_after; wall ${wall} s"
goals=()
for kind in plain "P$pipeline"; do
    if [ "$kind" = plain ]; then list=("${list_plain[@]}"); else list=("${list_p[@]}"); fi
    echo
    echo "### $kind"
    echo
    hdr="| test | redis rps | redis p99 ms | redis CPU µs/req |"
    sep="|---|---:|---:|---:|"
    for m in "${mwrt_modes[@]}"; do
        hdr+=" $m rps | $m p99 ms | $m CPU µs/req | $m CPU vs redis |"
        sep+="---:|---:|---:|---:|"
    done
    echo "$hdr"
    echo "$sep"
    for t in "${list[@]}"; do
        r_rps=$(stat redis "$kind" "$t" 1); r_p99=$(stat redis "$kind" "$t" 2); r_cpu=$(stat redis "$kind" "$t" 3)
        row="| $t | $(fmt %.0f "$r_rps") | $(fmt %.3f "$r_p99") | $(fmt %.2f "$r_cpu") |"
        for m in "${mwrt_modes[@]}"; do
            m_rps=$(stat "$m" "$kind" "$t" 1); m_p99=$(stat "$m" "$kind" "$t" 2); m_cpu=$(stat "$m" "$kind" "$t" 3)
            ratio=-
            if [ -n "$m_cpu" ] && [ -n "$r_cpu" ] && awk -v r="$r_cpu" 'BEGIN { exit !(r > 0) }'; then
                ratio=$(calc %.2fx "$m_cpu / $r_cpu")
            fi
            row+=" $(fmt %.0f "$m_rps") | $(fmt %.3f "$m_p99") | $(fmt %.2f "$m_cpu") | $ratio |"
            if [ -z "$m_rps" ] || [ -z "$r_rps" ]; then
                goals+=("- $kind $t $m: no figures (a run failed)")
            elif [ "$kind" = plain ]; then
                c_ok=$(awk -v a="$m_cpu" -v b="$r_cpu" 'BEGIN { print (a <= b / 1.3) ? "met" : "NOT met" }')
                p_ok=$(awk -v a="$m_p99" -v b="$r_p99" 'BEGIN { print (a <= b) ? "met" : "NOT met" }')
                s_ok=$(awk -v a="$m_rps" -v b="$r_rps" 'BEGIN { print (a >= b) ? "met" : "NOT met" }')
                goals+=("- $kind $t $m: CPU/request <= redis/1.3 $c_ok ($(calc %.2f "$m_cpu") vs $(calc %.2f "$r_cpu / 1.3") µs); p99 <= redis $p_ok ($(calc %.3f "$m_p99") vs $(calc %.3f "$r_p99") ms); rps >= redis $s_ok ($(calc %.2fx "$m_rps / $r_rps"))")
            else
                s_ok=$(awk -v a="$m_rps" -v b="$r_rps" 'BEGIN { print (a >= 1.3 * b) ? "met" : "NOT met" }')
                goals+=("- $kind $t $m: rps >= 1.3x redis $s_ok ($(calc %.2fx "$m_rps / $r_rps"))")
            fi
        done
        echo "$row"
    done
done
sharded=()
for m in "${mwrt_modes[@]}"; do
    case $m in sharded*) sharded+=("$m") ;; esac
done
if [ ${#sharded[@]} -gt 0 ]; then
    # What a hand-over costs: the CPU per request of a sharded mode beside
    # the hand-overs per request it made (INFO shards shard_hops; a split
    # command counts one per other worker involved), the pushes to a
    # mailbox per hand-over (requests and replies; below 1 when a push
    # carries several) and the wake-ups per push.
    echo
    echo "### Hand-overs between workers (sharded modes)"
    echo
    hdr="| run | test |"
    sep="|---|---|"
    for m in "${sharded[@]}"; do
        hdr+=" $m hops/req | $m pushes/hop | $m wake-ups/push | $m CPU µs/req |"
        sep+="---:|---:|---:|---:|"
    done
    echo "$hdr"
    echo "$sep"
    for kind in plain "P$pipeline"; do
        if [ "$kind" = plain ]; then list=("${list_plain[@]}"); else list=("${list_p[@]}"); fi
        for t in "${list[@]}"; do
            row="| $kind | $t |"
            for m in "${sharded[@]}"; do
                row+=" $(fmt %.3f "$(stat "$m" "$kind" "$t" 4)") | $(fmt %.3f "$(stat "$m" "$kind" "$t" 5)")"
                row+=" | $(fmt %.2f "$(stat "$m" "$kind" "$t" 6)") | $(fmt %.2f "$(stat "$m" "$kind" "$t" 3)") |"
            done
            echo "$row"
        done
    done
fi
if [ -x /usr/bin/time ]; then
    # How busy the client was: at about 1 it is one saturated CPU, and
    # requests/s is the client's ceiling for every server alike.
    echo
    echo "### The client's CPU share (redis-benchmark's user + system over wall time; medians over the tests)"
    echo
    echo "| run |$(printf ' %s |' "${names[@]}")"
    echo "|---|$(printf -- '---:|%.0s' "${names[@]}")"
    for kind in plain "P$pipeline"; do
        if [ "$kind" = plain ]; then list=("${list_plain[@]}"); else list=("${list_p[@]}"); fi
        row="| $kind |"
        for name in "${names[@]}"; do
            vals=()
            for t in "${list[@]}"; do
                v=$(stat "$name" "$kind" "$t" 7)
                [ -n "$v" ] && vals+=("$v")
            done
            # shellcheck disable=SC2046
            row+=" $([ ${#vals[@]} -gt 0 ] && calc %.2f "$(median "${vals[@]}")" || echo -) |"
        done
        echo "$row"
    done
fi
echo
echo "Goals (reported, not enforced):"
printf '%s\n' "${goals[@]}"
for m in "${mwrt_modes[@]}"; do
    for kind in plain "P$pipeline"; do
        met=0 all=0
        for g in "${goals[@]}"; do
            case $g in
                "- $kind "*" $m: "*)
                    all=$((all + 1))
                    case $g in *"NOT met"*|*"no figures"*) ;; *) met=$((met + 1)) ;; esac ;;
            esac
        done
        echo "- summary $m $kind: every goal met on $met of $all tests"
    done
done
if [ ${#notes[@]} -gt 0 ]; then
    echo
    echo "Notes:"
    printf -- '- %s\n' "${notes[@]}"
fi
