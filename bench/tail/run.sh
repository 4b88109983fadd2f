#!/usr/bin/env bash
#
# run.sh - where the tail goes: p99 / p99.9 latency at a fixed rate, and what
# the server's worker threads were doing meanwhile.
#
# For each mode (mwrt-server --lock gil|free, each with the collector on and
# with --gc off; and redis-server as the peer), one at a time on the machine:
#
#   1. start the server on a free loopback port in 7300-7399;
#   2. load a live set: LIVE hashes h:N {f: 16 bytes} and CYCLE_KEYS hashes c:N;
#   3. measure its maximum rate: mwrt-load closed loop, CONNS connections,
#      MAX_SECONDS, the mix below;
#   4. for each of LEVELS percent of that maximum, run mwrt-load open loop
#      (latency from the intended send time) for RATE_SECONDS, and during
#      PERF_SECONDS of it record the scheduler system-wide with
#      `perf sched record -g`; `perf sched timehist -p PID` then gives, per
#      thread of the server, every time it ran, how long it had been off the
#      CPU before, why it left (the kernel call chain at the switch: epoll =
#      idle, futex = waiting for the GIL / keyspace mutex / a stop-the-world,
#      exit_to_user_mode / preempt_schedule = preempted while runnable,
#      anything else = other, e.g. page faults), and its wakeup latency (sch
#      delay: from being woken to running);
#   5. around each fixed-rate run: CONFIG RESETSTAT before, INFO gc after
#      (collections, total and largest pause, time-to-safepoint);
#   6. stop the server.
#
# The mix (as bench/report): 50% HGET h:K f, 20% HSET h:K f DATA; on the c:N
# keys 10% HSET c:K v DATA, 8% REF.SET c:K self c:K, 4% REF.SET c:K r c:K2
# (cycles; redis gets HSET of the same shape) and 8% DEL c:K (garbage for the
# cycle collector).  A REF.SET to a just-deleted key is an error reply; errors
# are counted, not excluded.
#
# "Worker threads" are the server's threads that ran at least 10% of the
# process's CPU time in the recording (redis: its main thread).  Figures are
# medians over REPS rounds (modes in rotating order in each round) of each
# figure alone.  A failed run is reported and left out; nothing here judges.
#
# Usage: bench/tail/run.sh [BUILD_DIR [REPS]]     (defaults: build, 1)
# Environment:
#   MODES=gil,free,gil-gcoff,free-gcoff,sharded,sharded-gcoff,redis   the modes,
#                       in this order; also
#                       gil-paused, free-paused (--gc paused); any with
#                       -wN for --workers N (sharded-w1)
#   MWRT_EXTRA="..."    appended to every mwrt-server command line
#                       (e.g. MWRT_EXTRA="--keyspace sharded")
#   WORKERS=N           --workers N for mwrt-server (default: its own default)
#   LEVELS=25,50,75     percentages of each mode's maximum rate
#   CONNS=32 LIVE=100000 CYCLE_KEYS=10000
#   MAX_SECONDS=4 RATE_SECONDS=6 PERF_SECONDS=4 (perf starts 1 s into a run)
#   PERF=0              no perf recording (latency only, no perturbation)
#   OUT=DIR             results (default BUILD_DIR/tail): report.md, data/
#   MWRT_SERVER, MWRT_LOAD, REDIS_SERVER, REDIS_CLI, PERF_BIN (binaries)

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

case ${1:-} in
    -h|--help)
        sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
        exit 0 ;;
esac

build=build
reps=1
take_positional "$@"
modes_csv=${MODES:-gil,free,gil-gcoff,free-gcoff,sharded,sharded-gcoff,redis}
levels_csv=${LEVELS:-25,50,75}
conns=${CONNS:-32}
live=${LIVE:-100000}
cycle_keys=${CYCLE_KEYS:-10000}
max_seconds=${MAX_SECONDS:-4}
rate_seconds=${RATE_SECONDS:-6}
perf_seconds=${PERF_SECONDS:-4}
use_perf=${PERF:-1}
workers=${WORKERS:-}
extra=${MWRT_EXTRA:-}
# shellcheck disable=SC2034  # read by lib.sh's describe_exit
run_timeout=60
for v in conns live cycle_keys max_seconds rate_seconds perf_seconds; do
    require_positive "$v" "${!v}"
done
if [ "$perf_seconds" -ge "$rate_seconds" ]; then
    perf_seconds=$((rate_seconds - 1))
    [ "$perf_seconds" -ge 1 ] || perf_seconds=1
fi
mwrt_server=${MWRT_SERVER:-$build/server/mwrt-server}
mwrt_load=${MWRT_LOAD:-$build/bench/load/mwrt-load}
redis_server=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
redis_cli=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
perf_bin=${PERF_BIN:-$(command -v perf || echo /usr/bin/perf)}
out=${OUT:-$build/tail}
IFS=, read -r -a modes <<<"$modes_csv"
IFS=, read -r -a levels <<<"$levels_csv"

need=("$mwrt_load" "$redis_cli")
for m in "${modes[@]}"; do
    case $m in
        redis) need+=("$redis_server") ;;
        *) mwrt_mode_flags "$m" >/dev/null || { echo "run.sh: unknown mode '$m'" >&2; exit 2; }
           need+=("$mwrt_server") ;;
    esac
done
[ "$use_perf" = 0 ] || need+=("$perf_bin")
for bin in "${need[@]}"; do
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin is not an executable (build; apt-get install redis-server redis-tools linux-perf)" >&2
        exit 2
    fi
done
command -v jq >/dev/null || { echo "run.sh: jq not found" >&2; exit 2; }

notes=()
failed=()
mkdir -p "$out/data" || exit 1
rm -f "$out"/data/*.sum "$out"/data/*.json "$out"/data/*.gc "$out"/data/*.max

# --------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------

srv_pid=
srv_port=
load_pid=
perf_pid=

stop_server() {
    if [ -n "$srv_pid" ]; then
        if kill -0 "$srv_pid" 2>/dev/null; then
            kill -TERM "$srv_pid" 2>/dev/null
            for _ in $(seq 1 100); do
                kill -0 "$srv_pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$srv_pid" 2>/dev/null
        fi
        wait "$srv_pid" 2>/dev/null
        srv_pid=
    fi
}

cleanup() {
    local p
    for p in $load_pid $perf_pid; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    stop_server
    rm -f "$out"/data/*.perf "$out"/data/*.perf.old
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pick_port() {
    local p
    for p in $(seq 7300 7399); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# mode_flags MODE: mwrt-server's flags for a mode (MWRT_EXTRA included).
mode_flags() {
    local f
    f=$(mwrt_mode_flags "$1") || return 1
    [ -z "$workers" ] || f+=" --workers $workers"
    [ -z "$extra" ] || f+=" $extra"
    echo "$f"
}

# start_server MODE LOG: sets srv_pid and srv_port; 1 if it did not answer.
start_server() {
    local mode=$1 log=$2 flags
    srv_port=$(pick_port) || { note "no free port in 7300-7399"; return 1; }
    if [ "$mode" = redis ]; then
        "$redis_server" --port "$srv_port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no >"$log" 2>&1 &
    else
        flags=$(mode_flags "$mode")
        # shellcheck disable=SC2086  # the flags are words
        "$mwrt_server" --port "$srv_port" --bind 127.0.0.1 $flags >"$log" 2>&1 &
    fi
    srv_pid=$!
    for _ in $(seq 1 100); do
        if [ "$("$redis_cli" -h 127.0.0.1 -p "$srv_port" ping 2>/dev/null)" = PONG ]; then
            return 0
        fi
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.1
    done
    note "$mode did not start (log: $(tail -n 3 "$log" | tr '\n' ' '))"
    stop_server
    return 1
}

cli() {
    timeout 10 "$redis_cli" -h 127.0.0.1 -p "$srv_port" "$@"
}

# mix MODE: mwrt-load's workload arguments.
mix() {
    local link=REF.SET
    [ "$1" != redis ] || link=HSET
    printf '%s\n' \
        --template "50:HGET h:__key__ f" \
        --template "20:HSET h:__key__ f __data__" \
        --template "10:keys=$cycle_keys:HSET c:__key__ v __data__" \
        --template "8:keys=$cycle_keys:$link c:__key__ self c:__key__" \
        --template "4:keys=$cycle_keys:$link c:__key__ r c:__key2__" \
        --template "8:keys=$cycle_keys:DEL c:__key__" \
        --keys "$live" -d 16
}

# load_run TIMEOUT ARGS...: mwrt-load against the server; its exit status.
load_run() {
    local t=$1
    shift
    timeout "$t" "$mwrt_load" -h 127.0.0.1 -p "$srv_port" -q "$@"
}

# --------------------------------------------------------------------------
# perf sched analysis
# --------------------------------------------------------------------------

# analyse PERF_DATA PID: one line of key=value figures for the worker
# threads (in ms): runs, span_s, delay_{sum,p99,p999,max} (wakeup latency),
# lock_{n,sum,p99,p999,max} (off-CPU in futex), preempt_* (off-CPU after
# being preempted: runnable, waiting for a CPU), other_* (off-CPU for other
# reasons: page faults, blocking I/O), idle_* (off-CPU in epoll), threads,
# workers.
analyse() {
    local data=$1 pid=$2 ev
    ev=$data.ev
    # timehist: time [cpu] task[tid/pid] wait delay run callchain...; the
    # chain is why the task left the CPU at `time`, so it names the reason
    # of the wait on the task's *next* line.
    timeout 300 "$perf_bin" sched timehist -i "$data" -p "$pid" 2>/dev/null | awk '
        $3 ~ /\[[0-9]+(\/[0-9]+)?\]$/ && $4 ~ /^[0-9.]+$/ {
            t = $3; sub(/.*\[/, "", t); sub(/[\/\]].*/, "", t)
            if (first == "") first = $1
            last_t = $1
            if (t in why) r = why[t]; else r = "unknown"
            if ($4 > 0) print t, "wait_" r, $4
            print t, "delay", $5
            print t, "run", $6
            chain = ""
            for (i = 7; i <= NF; i++) chain = chain " " $i
            if (chain ~ /epoll|ep_poll|do_select|do_poll/) why[t] = "idle"
            else if (chain ~ /futex/) why[t] = "lock"
            else if (chain ~ /exit_to_user_mode|preempt_schedule/) why[t] = "preempt"
            else why[t] = "other"
        }
        END { print 0, "span", (last_t - first) * 1000 }' >"$ev"
    awk '
        NR == FNR { if ($2 == "run") { run[$1] += $3; total += $3 } ; next }
        FNR == 1 { for (t in run) { n++; if (run[t] >= 0.1 * total) { w[t] = 1; nw++ } } }
        $2 == "span" { printf "span %s\n", $3; next }
        ($1 in w) { print $2, $3 }
        END { printf "threads %d\nworkers %d\n", n, nw }' "$ev" "$ev" |
        sort -k1,1 -k2,2g | awk '
        function flush(   i) {
            if (k == "") return
            if (k == "span") { printf " span_s=%.2f", v[1] / 1000; return }
            if (k == "threads" || k == "workers") { printf " %s=%d", k, v[1]; return }
            kk = k; sub(/^wait_/, "", kk)
            if (kk == "run") { printf " runs=%d run_sum=%.1f", n, s; return }
            printf " %s_n=%d %s_sum=%.2f %s_p99=%.3f %s_p999=%.3f %s_max=%.3f", kk, n, kk, s,
                kk, v[int(n * 0.99 + 0.999)], kk, v[int(n * 0.999 + 0.999)], kk, v[n]
        }
        $1 != k { flush(); k = $1; n = 0; s = 0 }
        { v[++n] = $2; s += $2 }
        END { flush(); printf "\n" }'
    rm -f "$ev"
}

# others PERF_DATA SERVER_PID CLIENT_PID: others_ms=the CPU time (ms) in the
# recording of processes other than the server, the load generator and perf
# (other builds on a shared machine, kernel threads).
others() {
    timeout 300 "$perf_bin" sched timehist -i "$1" -s 2>/dev/null |
        awk -v s="$2" -v c="${3:-0}" '
        /Idle stats/ { done = 1 }
        !done && $1 ~ /\[[0-9]+(\/[0-9]+)?\]$/ && $4 ~ /^[0-9.]+$/ {
            p = $1; sub(/.*\[/, "", p); sub(/\]$/, "", p); sub(/.*\//, "", p)
            if (p == s || p == c || $1 ~ /^(perf|sleep|timeout|swapper)/) next
            o += $4
        }
        END { printf "others_ms=%.1f\n", o }'
}

# gc_figures INFO_FILE: key=value figures from INFO gc (ms and counts).
gc_figures() {
    tr -d '\r' <"$1" | awk -F'[:,=]' '
        /^gc_gen[0-9]:/ { for (i = 2; i < NF; i += 2) if ($i == "pause_total_us") tot += $(i + 1) }
        /^gc_pause:/ { for (i = 2; i < NF; i += 2) { if ($i == "count") n = $(i + 1);
                       if ($i == "p999_us") p = $(i + 1); if ($i == "max_us") m = $(i + 1) } }
        /^gc_time_to_safepoint:/ { for (i = 2; i < NF; i += 2) { if ($i == "p999_us") sp = $(i + 1);
                       if ($i == "max_us") sm = $(i + 1) } }
        /^gc_stw_collections:/ { stw = $2 } /^gc_idle_collections:/ { idle = $2 }
        END { if (n != "") printf "gc_n=%d gc_sum=%.2f gc_p999=%.3f gc_max=%.3f ttsp_p999=%.3f ttsp_max=%.3f gc_stw=%d gc_idle=%d\n",
              n, tot / 1000, p / 1000, m / 1000, sp / 1000, sm / 1000, stw, idle }'
}

# --------------------------------------------------------------------------
# Rounds
# --------------------------------------------------------------------------

# run_mode MODE REP
run_mode() {
    local mode=$1 rep=$2 d=$out/data max rc pct rate base client_pid lost
    local -a mixargs
    mapfile -t mixargs < <(mix "$mode")
    echo "run.sh: round $rep/$reps, $mode: start" >&2
    start_server "$mode" "$d/$mode.r$rep.log" || { failed+=("$mode round $rep: did not start"); return; }
    rc=0
    load_run 300 -c 8 -P 64 -n "$live" --keys "$live" --dist seq \
        --template "HSET h:__key__ f __data__" -d 16 || rc=$?
    [ $rc -ne 0 ] || load_run 120 -c 4 -P 64 -n "$cycle_keys" --keys "$cycle_keys" --dist seq \
        --template "HSET c:__key__ v x" || rc=$?
    if [ $rc -ne 0 ]; then
        failed+=("$mode round $rep: loading the live set: $(describe_exit $rc)")
        note "$mode round $rep: loading the live set failed ($(describe_exit $rc))"
        stop_server
        return
    fi
    rc=0
    load_run $((max_seconds + 30)) -c "$conns" --duration "$max_seconds" \
        --json "$d/$mode.r$rep.max.json" "${mixargs[@]}" || rc=$?
    max=$(jq -r '.throughput_rps // 0' "$d/$mode.r$rep.max.json" 2>/dev/null)
    if [ $rc -ne 0 ] || [ -z "$max" ] || awk -v m="$max" 'BEGIN { exit !(m <= 0) }'; then
        failed+=("$mode round $rep: max rate run: $(describe_exit $rc)")
        note "$mode round $rep: the max rate run failed ($(describe_exit $rc))"
        stop_server
        return
    fi
    echo "$max" >"$d/$mode.r$rep.max"
    echo "run.sh: $mode max $(calc %.0f "$max") req/s" >&2
    for pct in "${levels[@]}"; do
        rate=$(calc %.0f "$max * $pct / 100")
        base=$d/$mode.r$rep.p$pct
        echo "run.sh: $mode at $pct% = $rate req/s" >&2
        cli config resetstat >/dev/null 2>&1
        rc=0
        load_run $((rate_seconds + 30)) -c "$conns" -P 8 --rate "$rate" \
            --duration "$rate_seconds" --json "$base.json" "${mixargs[@]}" &
        load_pid=$!
        client_pid=
        if [ "$use_perf" != 0 ]; then
            sleep 1
            # load_pid is a subshell; below it timeout, below that mwrt-load.
            client_pid=$(pgrep -x mwrt-load -P "$(pgrep -d, -P "$load_pid")" 2>/dev/null | head -n 1)
            timeout $((perf_seconds + 30)) "$perf_bin" sched record -g -m 32M -o "$base.perf" \
                -- sleep "$perf_seconds" >"$base.perf.log" 2>&1 &
            perf_pid=$!
            wait "$perf_pid" 2>/dev/null
            perf_pid=
        fi
        wait "$load_pid" || rc=$?
        load_pid=
        if [ "$mode" != redis ]; then
            cli info gc >"$base.gc" 2>/dev/null
        fi
        if [ $rc -ne 0 ] || ! jq -e '.latency_us' "$base.json" >/dev/null 2>&1; then
            failed+=("$mode round $rep at $pct%: mwrt-load $(describe_exit $rc)")
            note "$mode round $rep at $pct%: mwrt-load $(describe_exit $rc); excluded"
            rm -f "$base.perf"
            continue
        fi
        {
            jq -r --arg rate "$rate" '"rate=\($rate) rps=\(.throughput_rps) p99=\(.latency_us.p99 / 1000) p999=\(.latency_us["p99.9"] / 1000) max=\(.latency_us.max / 1000) errors=\(.errors) timeouts=\(.timeouts) unsent=\(.unsent)"' "$base.json"
            if [ "$mode" != redis ] && [ -s "$base.gc" ]; then
                gc_figures "$base.gc"
            fi
            if [ -s "$base.perf" ]; then
                lost=$(sed -n 's/.*and lost \([0-9]*\) chunks.*/\1/p' "$base.perf.log" | head -n 1)
                echo "perf_lost=${lost:-0}"
                analyse "$base.perf" "$srv_pid"
                [ -z "$client_pid" ] || analyse "$base.perf" "$client_pid" |
                    tr ' ' '\n' | grep '^delay_\|^preempt_' | sed 's/^/client_/'
                others "$base.perf" "$srv_pid" "$client_pid"
            fi
        } | tr '\n' ' ' >"$base.sum"
        echo >>"$base.sum"
        rm -f "$base.perf" "$base.perf.old"
    done
    stop_server
}

rev=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$SECONDS
n=${#modes[@]}
for rep in $(seq 1 "$reps"); do
    for i in $(seq 0 $((n - 1))); do
        run_mode "${modes[$(((i + rep - 1) % n))]}" "$rep"
    done
done
wall=$((SECONDS - t0))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

# med MODE PCT KEY [FORMAT]: the median of KEY over the rounds ("-" if none).
med() {
    awk -v k="$3" '{
            for (i = 1; i <= NF; i++) {
                n = index($i, "=")
                if (substr($i, 1, n - 1) == k) print substr($i, n + 1)
            }
        }' "$out"/data/"$1".r*.p"$2".sum 2>/dev/null | sort -g | awk -v f="${4:-%.2f}" '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "-"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf f "\n", m
        }'
}

# largest of the worker-side figures that reach the request p99.9.
culprit() {
    awk -v w="$1" -v p="$2" -v l="$3" -v g="$4" -v o="$5" -v c="$6" 'BEGIN {
        best = "-"; b = 0
        if (w != "-" && w + 0 > b) { b = w + 0; best = "wakeup" }
        if (p != "-" && p + 0 > b) { b = p + 0; best = "preempted" }
        if (l != "-" && l + 0 > b) { b = l + 0; best = "lock" }
        if (g != "-" && g + 0 > b) { b = g + 0; best = "GC" }
        if (o != "-" && o + 0 > b) { b = o + 0; best = "other off-CPU" }
        if (c != "-" && c + 0 > b) { b = c + 0; best = "client" }
        print best }'
}

report() {
    local m pct cpu flags
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "## Where the tail goes (bench/tail/run.sh)"
    echo
    echo "- command: \`${MODES:+MODES=$MODES }${MWRT_EXTRA:+MWRT_EXTRA=\"$MWRT_EXTRA\" }bench/tail/run.sh $build $reps\`"
    echo "- machine: $(nproc) CPUs (${cpu:-unknown CPU}), Linux $(uname -r), shared by the server, mwrt-load and perf; $started"
    echo "- redis-server $("$redis_server" --version | cut -d' ' -f3 | sed 's/^v=//'); mwrt-server source $rev; perf $("$perf_bin" --version 2>/dev/null | cut -d' ' -f3)"
    echo "- load: mwrt-load -c $conns, open loop at ${levels_csv} % of each mode's max (closed loop -c $conns, ${max_seconds} s), ${rate_seconds} s per run, perf sched for ${perf_seconds} s of it; live set $live hashes + $cycle_keys cycle keys; median of $reps round(s)"
    echo "- load average before: $load_before, after: $load_after; wall ${wall} s"
    echo
    echo "| mode | flags | max rps |"
    echo "|---|---|---:|"
    for m in "${modes[@]}"; do
        local vals=() f
        for f in "$out"/data/"$m".r*.max; do
            [ -s "$f" ] && vals+=("$(cat "$f")")
        done
        if [ "$m" = redis ]; then flags="redis-server (persistence off)"; else flags="mwrt-server $(mode_flags "$m")"; fi
        local mm
        mm=$(median "${vals[@]}")
        echo "| $m | \`$flags\` | ${mm:+$(calc %.0f "$mm")} |"
    done
    echo
    echo "Latency (ms, from the intended send time) and, for the server's worker threads during the perf window: wakeup latency (sch delay p99.9 / max), off-CPU after a preemption (runnable, waiting for a CPU: p99.9 / max of one stretch), off-CPU waiting in futex (lock: GIL, keyspace mutex or a stop; % of worker time, p99.9 / max of one wait), other off-CPU (not epoll, not futex: max), GC (collections, stopped time as % of the run, largest pause, largest time-to-safepoint)."
    echo
    echo "| mode | load | rate | p99 | p99.9 | wakeup p99.9 / max | preempted p99.9 / max | lock % / p99.9 / max | other off-CPU max | GC n / stopped % / max / ttsp max | client wakeup / preempted p99.9 | others CPU % | largest suspect |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    for m in "${modes[@]}"; do
        for pct in "${levels[@]}"; do
            local rate p99 p999 dp dm pp pm ls lp lm om span cd cp cm oc ocpct gcn gcs gcm ttm lockpct gcpct runsum
            rate=$(med "$m" "$pct" rate %.0f)
            [ "$rate" != - ] || { echo "| $m | $pct% | - | failed | | | | | | | | | |"; continue; }
            p99=$(med "$m" "$pct" p99); p999=$(med "$m" "$pct" p999)
            dp=$(med "$m" "$pct" delay_p999); dm=$(med "$m" "$pct" delay_max)
            ls=$(med "$m" "$pct" lock_sum); lp=$(med "$m" "$pct" lock_p999); lm=$(med "$m" "$pct" lock_max)
            om=$(med "$m" "$pct" other_max)
            pp=$(med "$m" "$pct" preempt_p999); pm=$(med "$m" "$pct" preempt_max)
            cd=$(med "$m" "$pct" client_delay_p999); cp=$(med "$m" "$pct" client_preempt_p999)
            cm=$(awk -v a="$cd" -v b="$cp" 'BEGIN { if (a == "-" && b == "-") print "-"; else print (a + 0 > b + 0) ? a : b }')
            oc=$(med "$m" "$pct" others_ms)
            span=$(med "$m" "$pct" span_s %.3f); runsum=$(med "$m" "$pct" workers %.0f)
            lockpct=-
            if [ "$ls" != - ] && [ "$span" != - ] && [ "$runsum" != - ] && [ "$runsum" != 0 ]; then
                lockpct=$(calc %.1f "$ls / ($span * 1000 * $runsum) * 100")
            elif [ "$dp" != - ]; then
                lockpct=0; lp=0; lm=0
            fi
            ocpct=-
            if [ "$oc" != - ] && [ "$span" != - ]; then
                ocpct=$(calc %.0f "$oc / ($span * 1000 * $(nproc)) * 100")
            fi
            gcn=$(med "$m" "$pct" gc_n %.0f); gcs=$(med "$m" "$pct" gc_sum); gcm=$(med "$m" "$pct" gc_max)
            ttm=$(med "$m" "$pct" ttsp_max)
            gcpct=-
            [ "$gcs" = - ] || gcpct=$(calc %.2f "$gcs / ($rate_seconds * 1000) * 100")
            if [ "$m" = redis ]; then gcn=-; fi
            echo "| $m | $pct% | $rate | $p99 | $p999 | $dp / $dm | $pp / $pm | $lockpct / $lp / $lm | $om | $gcn / $gcpct / $gcm / $ttm | $cd / $cp | $ocpct | $(culprit "$dp" "$pp" "$lp" "$gcm" "$om" "$cm") |"
        done
    done
    echo
    echo "lock %: futex off-CPU time over (perf window x worker threads). GC stopped %: the sum of"
    echo "the collections' pauses over the run; in an open loop about that share of the requests"
    echo "arrive during a stop, so at >= 0.1% the stops alone reach the p99.9. largest suspect: the"
    echo "largest of wakeup p99.9, preempted p99.9, lock p99.9, GC max pause, other off-CPU max and"
    echo "the client's (mwrt-load's) wakeup or preempted p99.9: a late client sends late, and the"
    echo "latency counts from the intended send time. others CPU %: CPU time of every other process"
    echo "(other builds, kernel threads) over the perf window x CPUs."
    local lost
    lost=$(cat "$out"/data/*.sum 2>/dev/null | grep -o 'perf_lost=[1-9][0-9]*' | wc -l)
    if [ "$lost" -gt 0 ]; then
        note "perf lost event chunks in $lost run(s): those runs' wakeup and off-CPU figures miss some switches"
    fi
    if [ ${#notes[@]} -gt 0 ]; then
        echo
        echo "Notes:"
        printf -- '- %s\n' "${notes[@]}"
    fi
}

report | tee "$out/report.md"
echo "run.sh: report in $out/report.md, per-run figures in $out/data/*.sum" >&2
