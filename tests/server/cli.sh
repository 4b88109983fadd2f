#!/usr/bin/env bash
#
# cli.sh - redis-cli, unchanged, against a running server.
#
# Run under srv_launch, which starts the server and sets MWRT_TEST_PORT:
#   srv_launch mwrt BUILD/server/mwrt-server --workers 2 -- tests/server/cli.sh
#   srv_launch redis /usr/bin/redis-server -- tests/server/cli.sh
#
# Checks what a person or a script does with redis-cli: one-shot commands
# (raw output when stdout is not a terminal, and --no-raw's typed output),
# INFO, commands read from stdin, -x, -r, --pipe (mass insertion, which ends
# with an ECHO of a random marker), --scan and --bigkeys, -n, -3 (RESP3),
# --latency, --stat and monitor; and every test
# redis-benchmark runs by default, briefly.  Every check is
# bounded (timeout) and the script stops at the first failure, printing
# what was expected and what came.  Exit 77 (skipped) without redis-cli.
set -euo pipefail

port=${MWRT_TEST_PORT:?run me under srv_launch, which sets MWRT_TEST_PORT}
if ! command -v redis-cli >/dev/null; then
    echo "cli.sh: redis-cli not installed; skipping" >&2
    exit 77
fi

checks=0
cli() {
    timeout 60 redis-cli -h 127.0.0.1 -p "$port" "$@"
}

# expect WHAT EXPECTED ACTUAL
expect() {
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        echo "cli.sh: FAIL: $1" >&2
        echo "--- expected" >&2
        printf '%s\n' "$2" >&2
        echo "--- got" >&2
        printf '%s\n' "$3" >&2
        exit 1
    fi
}

expect "ping" "PONG" "$(cli ping)"
expect "set" "OK" "$(cli set k v)"
expect "get" "v" "$(cli get k)"
expect "get missing (raw: empty)" "" "$(cli get nope)"
expect "--no-raw get" '"v"' "$(cli --no-raw get k)"
expect "--no-raw get missing" "(nil)" "$(cli --no-raw get nope)"
expect "--no-raw incr" "(integer) 1" "$(cli --no-raw incr n)"
expect "--no-raw incrby" "(integer) 11" "$(cli --no-raw incrby n 10)"
expect "rpush" "3" "$(cli rpush l a 'b c' d)"
expect "--no-raw lrange" $'1) "a"\n2) "b c"\n3) "d"' "$(cli --no-raw lrange l 0 -1)"
expect "raw lrange" $'a\nb c\nd' "$(cli lrange l 0 -1)"
expect "--no-raw empty array" "(empty array)" "$(cli --no-raw lrange nope 0 -1)"
expect "--no-raw hgetall" $'1) "f"\n2) "v"' "$(cli hset h f v >/dev/null; cli --no-raw hgetall h)"
expect "--no-raw error" "(error) WRONGTYPE Operation against a key holding the wrong kind of value" \
    "$(cli --no-raw get l)"
expect "raw error" "WRONGTYPE Operation against a key holding the wrong kind of value" \
    "$(cli get l 2>&1)"
expect "unknown command" "ERR unknown command 'nosuch', with args beginning with: 'x' " \
    "$(cli nosuch x 2>&1)"
expect "--no-raw zrange withscores" $'1) "a"\n2) "1.5"\n3) "b"\n4) "2"' \
    "$(cli zadd z 1.5 a 2 b >/dev/null; cli --no-raw zrange z 0 -1 withscores)"
expect "binary value through -x" "$(printf 'line1\nline2')" \
    "$(printf 'line1\nline2' | cli -x set fromstdin >/dev/null; cli get fromstdin)"
expect "--no-raw escapes" '"line1\nline2"' "$(cli --no-raw get fromstdin)"

# INFO: sections and field:value lines, as scripts parse them.
info=$(cli info)
for section in Server Clients Memory Stats Keyspace; do
    expect "INFO has # $section" "yes" "$(grep -q "^# $section" <<<"$info" && echo yes || echo no)"
done
bad=$(tr -d '\r' <<<"$info" | grep -v -e '^#' -e '^$' -e '^[A-Za-z0-9_.-]*:' || true)
expect "INFO lines are field:value" "" "$bad"
expect "INFO keyspace" "db0:keys=6,expires=0,avg_ttl=0" \
    "$(cli info keyspace | tr -d '\r' | grep '^db0:')"

# Commands from stdin, one per line.
expect "commands from stdin" $'OK\n1\n2' "$(printf 'set a 1\nget a\nincr a\n' | cli)"
# -r repeats a command.
cli -r 100 incr rep >/dev/null
expect "-r 100 incr" "100" "$(cli get rep)"

# --pipe: mass insertion of RESP; redis-cli ends it with an ECHO marker.
{
    for i in $(seq 1 2000); do
        # shellcheck disable=SC2016  # the $ are RESP's, not the shell's
        printf '*3\r\n$3\r\nSET\r\n$%d\r\npipe:%d\r\n$%d\r\n%d\r\n' \
            $((5 + ${#i})) "$i" "${#i}" "$i"
    done
} >"${TMPDIR:-/tmp}/cli-pipe.$$"
out=$(cli --pipe <"${TMPDIR:-/tmp}/cli-pipe.$$" 2>&1)
rm -f "${TMPDIR:-/tmp}/cli-pipe.$$"
expect "--pipe summary" "errors: 0, replies: 2000" "$(tail -n 1 <<<"$out")"
expect "after --pipe" "2000" "$(cli get pipe:2000)"
expect "dbsize after --pipe" "2008" "$(cli dbsize)"

# --scan walks the keyspace with SCAN.
expect "--scan --pattern" "2000" "$(cli --scan --pattern 'pipe:*' | wc -l)"
expect "--scan --pattern (one)" "pipe:1999" "$(cli --scan --pattern 'pipe:1999')"
# --bigkeys: SCAN, TYPE and a size command per type.
big=$(cli --bigkeys 2>&1)
expect "--bigkeys finds the list" "yes" \
    "$(grep -q "Biggest   list found '\"l\"' has 3 items" <<<"$big" && echo yes || echo "no: $big")"

# Every test redis-benchmark runs by default works (a few requests each):
# each prints its rate and none an error.
if command -v redis-benchmark >/dev/null; then
    bench=$(timeout 120 redis-benchmark -h 127.0.0.1 -p "$port" -c 4 -n 300 -q --csv 2>&1 || true)
    for t in PING_INLINE PING_MBULK SET GET INCR LPUSH RPUSH LPOP RPOP SADD HSET SPOP \
             ZADD ZPOPMIN LRANGE_100 LRANGE_300 LRANGE_500 LRANGE_600 MSET; do
        expect "redis-benchmark runs $t" "yes" \
            "$(grep -q "^\"${t}[\" ]" <<<"$bench" && echo yes || echo "no: $bench")"
    done
    expect "redis-benchmark errors" "" "$(grep -i 'error' <<<"$bench" || true)"
fi

# -n: another database (redis-cli sends SELECT first).
expect "-n 1 set" "OK" "$(cli -n 1 set indb1 v)"
expect "not in db 0" "" "$(cli get indb1)"
expect "-n 1 get" "v" "$(cli -n 1 get indb1)"
expect "-n 1 del" "1" "$(cli -n 1 del indb1)"

# -3: RESP3 replies as redis-cli shows them.
cli hset h3 f v >/dev/null
expect "-3 --no-raw hgetall (a map)" '1# "f" => "v"' "$(cli -3 --no-raw hgetall h3)"
expect "-3 hgetall" "f v" "$(cli -3 hgetall h3 | tr '\n' ' ' | sed 's/ $//')"
# --latency: without a terminal it prints "min max avg samples" once.
expect "--latency" "yes" \
    "$(cli --latency | grep -Eq '^[0-9]+ [0-9]+ [0-9.]+ [0-9]+$' && echo yes || echo no)"
# --stat: one line a second (here a fifth) under its header, from INFO's
# fields; stdbuf makes its lines come out as they are printed.
if command -v stdbuf >/dev/null; then
    stat=$(timeout 2 stdbuf -oL redis-cli -h 127.0.0.1 -p "$port" --stat -i 0.2 2>&1 || true)
    expect "--stat header" "yes" \
        "$(grep -q '^keys  *mem  *clients blocked requests  *connections' <<<"$stat" && echo yes || echo "no: $stat")"
    expect "--stat rows" "yes" \
        "$(grep -Eq '^[0-9]+ +[0-9.]+[BKMG]? +[0-9]+ +[0-9]+ +[0-9]+ \(\+[0-9]+\) +[0-9]+' <<<"$stat" && echo yes || echo "no: $stat")"
fi
# monitor: the commands of other clients, as they run.
mon="${TMPDIR:-/tmp}/cli-monitor.$$"
timeout 3 redis-cli -h 127.0.0.1 -p "$port" monitor >"$mon" 2>&1 &
monpid=$!
for _ in $(seq 1 50); do
    [ -s "$mon" ] && break
    sleep 0.05
done
cli set monitored 1 >/dev/null
for _ in $(seq 1 50); do
    grep -q '"set" "monitored" "1"' "$mon" && break
    sleep 0.05
done
kill "$monpid" 2>/dev/null || true
wait "$monpid" 2>/dev/null || true
expect "monitor sees set" "yes" \
    "$(grep -Eq '^[0-9]+\.[0-9]{6} \[0 127\.0\.0\.1:[0-9]+\] "set" "monitored" "1"$' "$mon" && echo yes || echo "no: $(cat "$mon")")"
rm -f "$mon"

expect "flushall" "OK" "$(cli flushall)"
expect "dbsize" "0" "$(cli dbsize)"
echo "cli.sh: $checks checks passed on port $port"
