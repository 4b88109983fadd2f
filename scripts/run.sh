#!/usr/bin/env bash
# Install dependencies, build an optimized mwrt, and run the main job:
# mwrt-server with its defaults (127.0.0.1:6380, one worker per core, the
# GIL, stop-the-world collection), in the foreground until SIGINT/SIGTERM.
# Options are passed on to the server, e.g.:
#   scripts/run.sh --port 7000 --lock free --gc paused
# Talk to it with redis-cli -p 6380 (installed by scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMWRT_BUILD_TESTS=OFF
cmake --build "$build" -j "$(nproc)"
echo "run.sh: starting mwrt-server; stop it with Ctrl-C (try: redis-cli -p 6380 ping)" >&2
exec "$build/server/mwrt-server" "$@"
