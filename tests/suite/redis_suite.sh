#!/usr/bin/env bash
#
# redis_suite.sh - Redis 7.0's own Tcl test suite against mwrt-server, as a
# regression check.
#
# Run under srv_launch, which starts the server and sets MWRT_TEST_PORT:
#   srv_launch mwrt BUILD/server/mwrt-server --lock gil -- tests/suite/redis_suite.sh
#
# The suite is not part of this repository.  It is looked for, with its
# run.sh (which prepares a writable copy, runs each unit in external-server
# mode and restores CONFIG between units), in $REDIS_SUITE_DIR, then
# /work/shared/redis-tests, then ../shared/redis-tests beside the source
# tree; without it, or without tclsh, the check is skipped (exit 77).
#
# What it checks: every test named in tests/suite/expected.txt (the tests
# mwrt-server passes in every mode, one name per line) passes.  A test
# that passes and is not listed is printed as newly passing, so the list
# can grow; the counts per unit are printed as run.sh gives them.
# REDIS_SUITE_SAVE=FILE also writes the names of the tests that passed.  The
# flags are run.sh's: --singledb --ignore-encoding, tags -slow -needs:debug.
set -uo pipefail

port=${MWRT_TEST_PORT:?run me under srv_launch, which sets MWRT_TEST_PORT}
here=$(cd "$(dirname "$0")" && pwd)
expected=$here/expected.txt

suite=""
for d in "${REDIS_SUITE_DIR:-}" /work/shared/redis-tests "$here/../../../shared/redis-tests"; do
    if [ -n "$d" ] && [ -x "$d/run.sh" ] && [ -d "$d/redis-7.0.15/tests" ]; then
        suite=$(cd "$d" && pwd)
        break
    fi
done
if [ -z "$suite" ]; then
    echo "redis_suite.sh: Redis's test suite not found (set REDIS_SUITE_DIR); skipping" >&2
    exit 77
fi
if ! command -v tclsh >/dev/null || ! command -v redis-cli >/dev/null; then
    echo "redis_suite.sh: needs tclsh (tcl) and redis-cli (redis-tools); skipping" >&2
    exit 77
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/mwrt-suite.XXXXXX")
trap 'rm -rf "$logs"' EXIT
# The harness looks for a free port of its own from --baseport on, through
# --portcount ports: a range derived from the server's port, so that two of
# these checks running at once start apart, and kept below 65535.
base=$((20000 + port % 20000))
REDIS_SUITE_LOGDIR=$logs \
REDIS_SUITE_ARGS="--singledb --ignore-encoding --baseport $base --portcount 500" \
    timeout 1800 "$suite/run.sh" 127.0.0.1 "$port" >"$logs/summary" 2>"$logs/stderr"
rc=$?
cat "$logs/summary"
if [ "$rc" -ne 0 ] && ! grep -q " passed, " "$logs/summary"; then
    echo "redis_suite.sh: run.sh failed (status $rc):" >&2
    tail -20 "$logs/stderr" >&2
    exit 1
fi

# "[ok]: NAME (N ms)" lines of every unit's log.
sed -n 's/^\[ok\]: \(.*\) ([0-9]* ms)$/\1/p' "$logs"/*.log | sort -u >"$logs/passed"
# REDIS_SUITE_SAVE=FILE keeps the names that passed (to remake the list:
# the intersection over the layouts, of runs on a quiet machine).
if [ -n "${REDIS_SUITE_SAVE:-}" ]; then
    cp "$logs/passed" "$REDIS_SUITE_SAVE"
fi
missing=$(sort -u "$expected" | comm -23 - "$logs/passed")
new=$(comm -13 <(sort -u "$expected") "$logs/passed")
echo "expected to pass: $(sort -u "$expected" | wc -l); passed: $(wc -l <"$logs/passed")"
if [ -n "$new" ]; then
    echo "passing and not in tests/suite/expected.txt:"
    sed 's/^/  /' <<<"$new" | head -100
fi
if [ -n "$missing" ]; then
    echo "FAILED: expected to pass, did not:"
    sed 's/^/  /' <<<"$missing"
    exit 1
fi
echo "redis_suite.sh: ok"
