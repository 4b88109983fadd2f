#!/usr/bin/env python3
#
# containers.py - CPython's side of mwrt-bench-containers.
#
# What it measures: the time to build, and then to drop, a list of N
# (default 1M) objects, in the same three workloads as
# mwrt-bench-containers (bench_containers.c):
#
#   ints   [i for i in range(n)]
#   strs   [str(i) for i in range(n)]
#   dicts  [{"a": i, "b": i} for i in range(n)]
#   lists  [[i, i] for i in range(n)]   (not in the default set)
#
# How: build = the list comprehension above (the idiomatic way; one object
# and one append per element, the list growing as it goes), timed with
# time.perf_counter; then an untimed check (length N, last element N-1);
# then drop = `del` of the only reference to the list, which frees it and
# every element.  One run does ints, strs and dicts in turn; --runs runs
# (default 5) are done and each prints one line per workload, in the same
# format as the C program:
#
#   run=1 impl=cpython gc=on workload=ints n=1000000 build_ms=...
#       drop_ms=... total_ms=...
#
# followed by a Markdown table of the medians.
#
# The cycle collector: --gc on (default) leaves it enabled during the
# timing, as a program would run; --gc off calls gc.disable() for the timed
# part.  Either way gc.collect() runs (untimed) before each workload, so no
# garbage from the previous one is collected inside the timing.  run.sh runs
# both and compares them with mwrt's MW_GC_STW and MW_GC_OFF.

import argparse
import gc
import statistics
import sys
import time

WORKLOADS = ("ints", "strs", "dicts", "lists")


def build_ints(n):
    return [i for i in range(n)]


def build_strs(n):
    return [str(i) for i in range(n)]


def build_dicts(n):
    return [{"a": i, "b": i} for i in range(n)]


def build_lists(n):
    return [[i, i] for i in range(n)]


BUILDERS = {"ints": build_ints, "strs": build_strs, "dicts": build_dicts,
            "lists": build_lists}


def check(workload, lst, n):
    if len(lst) != n:
        sys.exit(f"containers.py: the {workload} list has length {len(lst)}, not {n}")
    last = lst[-1]
    want = {"ints": n - 1, "strs": str(n - 1), "dicts": {"a": n - 1, "b": n - 1},
            "lists": [n - 1, n - 1]}[workload]
    if last != want:
        sys.exit(f"containers.py: the last {workload} element is {last!r}, not {want!r}")
    # lst is the caller's; this frame's reference goes when check returns.
    if sys.getrefcount(lst) > 3:  # the caller's local, ours, getrefcount's
        sys.exit(f"containers.py: the {workload} list has other references")


def run_workload(workload, n, gc_on):
    """Build and drop one list; returns (build_ms, drop_ms)."""
    build = BUILDERS[workload]
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        t0 = time.perf_counter()
        lst = build(n)
        t1 = time.perf_counter()
        check(workload, lst, n)
        t2 = time.perf_counter()
        del lst
        t3 = time.perf_counter()
    finally:
        gc.enable()
    return (t1 - t0) * 1e3, (t3 - t2) * 1e3


def main():
    ap = argparse.ArgumentParser(
        description="Build and drop lists of N ints, strs and small dicts; print the times.")
    ap.add_argument("--n", type=int, default=1000000, help="elements per list (default 1000000)")
    ap.add_argument("--runs", type=int, default=5,
                    help="runs; a table of medians ends the output (default 5)")
    ap.add_argument("--gc", choices=("on", "off"), default="on",
                    help="leave the cycle collector on during timing, or gc.disable() it")
    ap.add_argument("--workloads", default="ints,strs,dicts",
                    help="comma-separated subset of ints,strs,dicts,lists (default ints,strs,dicts)")
    args = ap.parse_args()
    workloads = args.workloads.split(",")
    for w in workloads:
        if w not in BUILDERS:
            ap.error(f"unknown workload {w!r}")
    if args.n < 1 or args.runs < 1:
        ap.error("--n and --runs must be positive")
    gc_on = args.gc == "on"

    results = {w: ([], [], []) for w in workloads}
    for run in range(1, args.runs + 1):
        for w in WORKLOADS:
            if w not in workloads:
                continue
            build_ms, drop_ms = run_workload(w, args.n, gc_on)
            total_ms = build_ms + drop_ms
            for lst, v in zip(results[w], (build_ms, drop_ms, total_ms)):
                lst.append(v)
            print(f"run={run} impl=cpython gc={args.gc} workload={w} n={args.n} "
                  f"build_ms={build_ms:.3f} drop_ms={drop_ms:.3f} total_ms={total_ms:.3f}",
                  flush=True)

    print()
    print(f"| workload | phase | CPython ms (median of {args.runs}) |")
    print("|---|---|---:|")
    for w in WORKLOADS:
        if w not in workloads:
            continue
        for phase, values in zip(("build", "drop", "total"), results[w]):
            print(f"| {w} | {phase} | {statistics.median(values):.1f} |")
    print()
    print(f"{sys.implementation.name} {sys.version.split()[0]}, gc={args.gc}, n={args.n}")


if __name__ == "__main__":
    main()
