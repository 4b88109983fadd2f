#!/usr/bin/env bash
# run.sh BUILD_DIR [OUTDIR] - the latency report in one command.
#
# Runs mwrt-server (--gc stw|paused|off x --lock gil|free), redis-server and
# the CPython peer (bench/report/pyserver.py, gc on and off) one at a time,
# each loaded with a live set, at 25/50/75% of its measured maximum rate,
# open loop, and writes OUTDIR/report.md with PNG plots (gnuplot).  See
# bench/report/report.py for the scenario and docs/load.md for the knobs:
#   QUICK=1            about 2 minutes (100k live values, short runs)
#   LIVE=N             live hashes (1000000; QUICK: 100000)
#   CYCLE_KEYS=N       keys the REF cycles churn on (10000)
#   MAX_SECONDS=S      closed-loop max throughput run (5; QUICK: 2)
#   RATE_SECONDS=S     each fixed-rate run (15; QUICK: 3)
#   RATES=25,50,75     percentages of the maximum
#   CONNS=N            connections (32); WORKERS=N mwrt-server workers (2)
#   CONFIGS=a,b        only these configurations (e.g. redis,mwrt-paused-gil)
# Needs: BUILD_DIR with mwrt-load (and mwrt-server for its rows; missing
# ones are skipped and noted), redis-server, python3, gnuplot (gnuplot-nox).
set -u

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build/release}
out=${2:-$build/report}
if [ $# -gt 2 ]; then
    echo "usage: run.sh BUILD_DIR [OUTDIR]" >&2
    exit 2
fi
if ! command -v python3 >/dev/null; then
    echo "run.sh: python3 not found" >&2
    exit 2
fi
mkdir -p "$out" || exit 1
REPORT_COMMAND="${QUICK:+QUICK=$QUICK }bench/report/run.sh $*" \
    exec python3 "$here/report.py" "$build" "$out"
