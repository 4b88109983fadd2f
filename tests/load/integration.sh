#!/usr/bin/env bash
# integration.sh MWRT_LOAD - run mwrt-load briefly against a redis-server it
# starts itself on a free loopback port, and check that what it writes is
# well formed and that its counts add up:
#   1. closed loop, -n: the JSON parses, sent = ok + errors + timeouts +
#      dropped = -n, the CSV rows sum to the completed requests, and the
#      HdrHistogram table ends at 100% with the same count;
#   2. open loop at a fixed rate for a fixed time: about rate * time sent;
#   3. a command the server rejects: every reply is counted as an error and
#      the first error's text is kept;
#   4. the server killed mid-run: a clear message, status server-gone, a
#      non-zero exit, and the partial results still written and consistent;
#   5. nothing listening: exit status 1 with "cannot connect";
#   6. --dbnum: the keys land in that database of redis-server;
#   7. --user and -a against a redis-server ACL user, and a wrong password
#      refused at setup (exit 1, the server's WRONGPASS);
#   8. the real mwrt-server with --requirepass: -a and --dbnum 0 work, the
#      JSON's per-command counts add up, without -a every reply is NOAUTH,
#      a wrong password is refused at setup; SIGTERM then exits 0.
# (6-8 run before 4, which stops redis-server.)
# Exit 77 (ctest SKIP_RETURN_CODE) without redis-server or python3.
set -u

load=${1:?usage: integration.sh MWRT_LOAD [MWRT_SERVER]}
server=${2:-}
for tool in redis-server redis-cli python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "SKIP: $tool not found"
        exit 77
    fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/mwrt-load-test.XXXXXX")
redis_pid=
mwrt_pid=
cleanup() {
    if [ -n "$mwrt_pid" ]; then
        kill "$mwrt_pid" 2>/dev/null
        wait "$mwrt_pid" 2>/dev/null
    fi
    if [ -n "$redis_pid" ]; then
        kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_redis() {
    local i
    for i in 1 2 3 4 5; do
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no --logfile "$dir/redis.log" &
        redis_pid=$!
        for _ in $(seq 50); do
            if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
                return 0
            fi
            if ! kill -0 "$redis_pid" 2>/dev/null; then
                break # lost the port to someone else: try another
            fi
            sleep 0.1
        done
        kill "$redis_pid" 2>/dev/null
        wait "$redis_pid" 2>/dev/null
        redis_pid=
    done
    fail "could not start redis-server"
}

# check_counts JSON [EXPECTED_SENT]: the JSON parses and its counts add up.
check_counts() {
    python3 - "$@" <<'EOF' || fail "counts in $1 do not add up"
import json, sys
j = json.load(open(sys.argv[1]))
s = j["sent"]
assert s == j["ok"] + j["errors"] + j["timeouts"] + j["dropped"], j
assert j["completed"] == j["ok"] + j["errors"], j
assert j["latency_us"]["count"] == j["completed"], j
lat = j["latency_us"]
if j["completed"]:
    keys = ["min", "p50", "p90", "p99", "p99.9", "p99.99", "max"]
    vals = [lat[k] for k in keys]
    assert vals == sorted(vals) and vals[0] > 0, lat
if len(sys.argv) > 2:
    assert s == int(sys.argv[2]), (s, sys.argv[2])
EOF
}

start_redis
echo "redis-server on port $port"

# 1. closed loop, bounded by -n
"$load" -p "$port" -t 2 -c 8 -P 4 -n 20000 --mix set:1,get:3 --keys 1000 \
    --json "$dir/a.json" --csv "$dir/a.csv" --hdr "$dir/a.hdr" >"$dir/a.out" 2>&1 ||
    fail "closed-loop run: exit $? ($(cat "$dir/a.out"))"
check_counts "$dir/a.json" 20000
python3 - "$dir/a.json" "$dir/a.csv" "$dir/a.hdr" <<'EOF' || fail "closed-loop outputs are malformed"
import csv, json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "ok" and j["ok"] == 20000 and j["errors"] == 0, j
rows = list(csv.DictReader(open(sys.argv[2])))
assert rows, "no CSV rows"
assert list(rows[0]) == ["second", "requests", "throughput", "p50_us", "p99_us", "max_us",
                         "errors", "timeouts"], list(rows[0])
assert sum(int(r["requests"]) for r in rows) == 20000
secs = [float(r["second"]) for r in rows]
assert secs == sorted(secs)
lines = [l.split() for l in open(sys.argv[3]) if l.strip() and not l.startswith("#")]
assert lines[0] == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"], lines[0]
last = lines[-1]
assert len(last) == 3 and float(last[1]) == 1.0 and int(last[2]) == 20000, last
assert abs(float(last[0]) * 1000 - j["latency_us"]["max"]) < 0.01 * j["latency_us"]["max"] + 1
EOF
grep -q "^throughput:" "$dir/a.out" || fail "no summary on stdout"
# The keys were written: SETs landed in the server.
keys=$(redis-cli -p "$port" dbsize)
[ "$keys" -gt 0 ] && [ "$keys" -le 1000 ] || fail "dbsize $keys after the run"

# 2. open loop at 2000 requests/s for 1.5 s
"$load" -p "$port" -c 4 --rate 2000 --duration 1.5 --mix get -q --json "$dir/b.json" ||
    fail "open-loop run: exit $?"
check_counts "$dir/b.json"
python3 - "$dir/b.json" <<'EOF' || fail "open loop sent the wrong number of requests"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["config"]["mode"] == "open", j["config"]
# The schedule is exact: 2000/s for 1.5 s is 3000 requests.  On a busy
# machine a few may still be due, unsent, when the time is up.
assert 2999 <= j["sent"] + j["unsent"] <= 3000, j
assert j["sent"] >= 1500 and j["status"] == "ok", j
EOF

# 3. every reply an error
"$load" -p "$port" -c 2 -n 500 --template 'NOSUCHCMD __key__' -q --json "$dir/c.json" ||
    fail "error run: exit $?"
check_counts "$dir/c.json" 500
python3 - "$dir/c.json" <<'EOF' || fail "error replies not counted"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["errors"] == 500 and j["ok"] == 0, j
assert "unknown command" in j["first_error"], j["first_error"]
EOF

# 6. SELECT: the keys land in database 3, not 0
redis-cli -p "$port" -n 3 flushdb >/dev/null
before=$(redis-cli -p "$port" -n 0 dbsize)
"$load" -p "$port" -c 2 -n 300 --dbnum 3 --mix set --keys 50 -q --json "$dir/f.json" ||
    fail "--dbnum run: exit $?"
check_counts "$dir/f.json" 300
[ "$(redis-cli -p "$port" -n 3 dbsize)" -gt 0 ] || fail "--dbnum 3 wrote nothing to database 3"
[ "$(redis-cli -p "$port" -n 0 dbsize)" -eq "$before" ] || fail "--dbnum 3 wrote to database 0"

# 7. AUTH as an ACL user, and a wrong password
redis-cli -p "$port" acl setuser loader on '>loadpw' '~*' '&*' '+@all' >/dev/null ||
    fail "ACL SETUSER failed"
"$load" -p "$port" -c 2 -n 300 --user loader -a loadpw --mix get -q --json "$dir/g.json" ||
    fail "--user run: exit $?"
check_counts "$dir/g.json" 300
python3 - "$dir/g.json" <<'EOF' || fail "--user run got errors"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] == 300 and j["config"]["auth"] is True, j
EOF
"$load" -p "$port" -c 2 -n 10 --user loader -a wrong -q >"$dir/g.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc with a wrong password, want 1"
grep -q "refused AUTH: WRONGPASS" "$dir/g.out" || fail "no clear message: $(cat "$dir/g.out")"

# 8. the real mwrt-server, with a password
if [ -n "$server" ]; then
    "$server" --port 0 --bind 127.0.0.1 --workers 1 --requirepass srvpw 2>"$dir/mwrt.log" &
    mwrt_pid=$!
    mport=
    for _ in $(seq 100); do
        mport=$(sed -n 's/^mwrt-server: ready on .*:\([0-9]*\)$/\1/p' "$dir/mwrt.log")
        [ -n "$mport" ] && break
        kill -0 "$mwrt_pid" 2>/dev/null || fail "mwrt-server exited: $(cat "$dir/mwrt.log")"
        sleep 0.1
    done
    [ -n "$mport" ] || fail "mwrt-server did not start: $(cat "$dir/mwrt.log")"
    echo "mwrt-server on port $mport"
    "$load" -p "$mport" -c 4 -P 4 -n 2000 -a srvpw --dbnum 0 --mix set:1,get:1 --keys 100 \
        --json "$dir/h.json" >"$dir/h.out" 2>&1 ||
        fail "mwrt-server run: exit $? ($(cat "$dir/h.out"))"
    check_counts "$dir/h.json" 2000
    python3 - "$dir/h.json" <<'EOF' || fail "mwrt-server run: per-command results are wrong"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] == 2000 and j["errors"] == 0, j
assert j["config"]["dbnum"] == 0 and j["config"]["auth"] is True, j["config"]
cmds = j["commands"]
assert [c["command"].split()[0] for c in cmds] == ["SET", "GET"], cmds
assert sum(c["completed"] for c in cmds) == j["completed"], cmds
assert all(c["completed"] > 0 and c["latency_us"]["count"] == c["completed"] for c in cmds)
for c in cmds:
    lat = c["latency_us"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"] <= j["latency_us"]["max"], c
EOF
    grep -q "^by command (ms):" "$dir/h.out" || fail "no per-command summary: $(cat "$dir/h.out")"
    "$load" -p "$mport" -c 2 -n 200 --mix get -q --json "$dir/i.json" || fail "no-AUTH run: exit $?"
    python3 - "$dir/i.json" <<'EOF' || fail "without -a the replies were not NOAUTH errors"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["errors"] == 200 and j["first_error"].startswith("NOAUTH"), j
EOF
    "$load" -p "$mport" -c 2 -n 10 -a wrong -q >"$dir/j.out" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || fail "exit status $rc with a wrong password to mwrt-server, want 1"
    grep -q "refused AUTH: WRONGPASS" "$dir/j.out" || fail "no clear message: $(cat "$dir/j.out")"
    kill -TERM "$mwrt_pid"
    wait "$mwrt_pid"
    rc=$?
    mwrt_pid=
    [ "$rc" -eq 0 ] || fail "mwrt-server exit status $rc after SIGTERM"
fi

# 4. the server goes away mid-run
"$load" -p "$port" -c 4 --duration 20 --mix get -q --json "$dir/d.json" --csv "$dir/d.csv" \
    >"$dir/d.out" 2>&1 &
load_pid=$!
sleep 1
kill "$redis_pid"
wait "$redis_pid" 2>/dev/null
redis_pid=
wait "$load_pid"
rc=$?
[ "$rc" -eq 3 ] || fail "exit status $rc when the server went away, want 3 ($(cat "$dir/d.out"))"
grep -q "lost" "$dir/d.out" || fail "no clear message: $(cat "$dir/d.out")"
check_counts "$dir/d.json"
python3 - "$dir/d.json" <<'EOF' || fail "partial results are wrong"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == "server-gone" and "lost" in j["message"], j
assert j["ok"] > 0 and j["elapsed_s"] < 10, j
EOF

# 5. nothing listening on the port any more
"$load" -p "$port" -c 2 -n 10 -q >"$dir/e.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc with no server, want 1"
grep -q "cannot connect" "$dir/e.out" || fail "no clear message: $(cat "$dir/e.out")"

echo "load integration: ok"
