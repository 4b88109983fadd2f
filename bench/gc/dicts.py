#!/usr/bin/env python3
#
# dicts.py - CPython's side of mwrt-bench-dicts (bench_dicts.c).
#
# What it measures, in one run, as the C program does:
#
#   build    [{'a': i, 'b': i} for i in range(n)] (--kind set:
#            [{i, i + 1} for i in range(n)]), with automatic collection on
#            (gc.enable(), the default thresholds) or off (gc.disable()): ms;
#   collect  then one gc.collect() (a full collection) with all of them
#            live: ms.
#
# Before building, gc.collect() then gc.freeze() moves the interpreter's
# own objects into the permanent generation, so the collections (automatic
# ones and the timed one) look at what was built and not at them, as
# gc_cost.py does.  Also reported: the collections that ran during the
# build (gc.get_stats()) and the objects tracked after it
# (len(gc.get_objects())).
#
# Output: one line, as mwrt-bench-dicts prints with impl=cpython, e.g.
#
#   impl=cpython kind=dict gc=on n=1000000 build_ms=... collect_ms=... found=0 tracked=1 collections=...

import argparse
import gc
import sys
import time


def collections_so_far():
    return sum(g["collections"] for g in gc.get_stats())


def main():
    ap = argparse.ArgumentParser(
        description="Build n small dicts (or sets) kept in one list, then run one full "
                    "collection with them live; prints one result line.")
    ap.add_argument("--kind", choices=["dict", "set"], default="dict")
    ap.add_argument("--gc", choices=["on", "off"], default="on")
    ap.add_argument("--n", type=int, default=1000000)
    args = ap.parse_args()
    if args.n < 1:
        ap.error("--n must be positive")
    n = args.n

    gc.disable()
    gc.collect()
    gc.freeze()
    if args.gc == "on":
        gc.enable()
    before = collections_so_far()

    if args.kind == "dict":
        t0 = time.perf_counter_ns()
        keep = [{'a': i, 'b': i} for i in range(n)]
        t1 = time.perf_counter_ns()
    else:
        t0 = time.perf_counter_ns()
        keep = [{i, i + 1} for i in range(n)]
        t1 = time.perf_counter_ns()
    during = collections_so_far() - before

    t2 = time.perf_counter_ns()
    found = gc.collect()
    t3 = time.perf_counter_ns()

    gc.disable()
    tracked = len(gc.get_objects())
    if len(keep) != n or found != 0:
        sys.exit(f"dicts.py: WRONG RESULT: {len(keep)} containers, {found} found")
    for i in list(range(0, n, n // 97 + 1)) + [n - 1]:
        want = {'a': i, 'b': i} if args.kind == "dict" else {i, i + 1}
        if keep[i] != want:
            sys.exit(f"dicts.py: WRONG RESULT: container {i} is {keep[i]!r}")

    print(f"impl=cpython kind={args.kind} gc={args.gc} n={n} build_ms={(t1 - t0) / 1e6:.1f} "
          f"collect_ms={(t3 - t2) / 1e6:.3f} found={found} tracked={tracked} "
          f"collections={during}", flush=True)


if __name__ == "__main__":
    main()
