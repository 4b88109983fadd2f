#!/usr/bin/env python3
#
# gc_cost.py - CPython's side of mwrt-bench-gc (bench_gc.c).
#
# What it measures, as the C program does:
#
#   live     one gc.collect() (a full collection) with a ring of n
#            2-element lists [i, next] in the heap, the last list's next
#            being the first, all reachable through one local: ns per list;
#   garbage  that local deleted, one more gc.collect(), which finds the
#            ring unreachable and frees it: ns per list;
#   young    one gc.collect(0) right after creating 700 fresh lists (a
#            holder and 699 lists [i] in it, all live): the median over
#            --young-reps repetitions, in µs;
#   ygarbage one gc.collect(0) right after 233 requests of the service
#            benchmark's shape (bench/sched) were made and dropped: per
#            request a dict, a list, a dict of two ints, ints and strs, the
#            first two in a cycle (bench_gc.c has the same): µs.
#
# How: gc.disable() for the whole program (automatic collection off, as
# mw_gc_disable() in the C program), so building is not interrupted.  After
# the imports, gc.collect() then gc.freeze() moves the interpreter's own
# objects (modules, functions, classes: tens of thousands) into the
# permanent generation, so a full collection scans the ring and not them -
# the mwrt program has no such objects.  --no-freeze leaves them in.  A
# gc.collect() before each ring is built clears what the last one left.
# Each call is timed with time.perf_counter_ns.
#
# Output: the same lines as mwrt-bench-gc with impl=cpython, e.g.
#
#   run=1 impl=cpython case=live n=10000 ms=... ns_per_obj=... found=0 build_ms=...
#
# then a Markdown table of medians.  "found" is what gc.collect returned
# (the unreachable objects it found); run.sh notes any that is not 0 (live)
# or n (garbage).

import argparse
import gc
import statistics
import sys
import time


# Requests made and dropped before each young-garbage collection (the
# shape of bench/sched's requests; bench_gc.c has the same).
YG_REQUESTS = 233


def build_ring(n):
    first = [0, None]
    prev = first
    for i in range(1, n):
        cur = [i, None]
        prev[1] = cur
        prev = cur
    prev[1] = first
    return first


def check_ring(first, n, when):
    cur = first
    for i in range(n):
        if len(cur) != 2 or cur[0] != i:
            sys.exit(f"gc_cost.py: {when}: list {i} of the ring is {cur[:1]!r}...")
        cur = cur[1]
    if cur is not first:
        sys.exit(f"gc_cost.py: {when}: the ring does not close after {n} lists")


def run_ring(n, run):
    """Returns (live ns/object, garbage ns/object)."""
    gc.collect()
    t0 = time.perf_counter_ns()
    first = build_ring(n)
    t1 = time.perf_counter_ns()
    check_ring(first, n, "before the live collection")

    t2 = time.perf_counter_ns()
    found_live = gc.collect()
    t3 = time.perf_counter_ns()
    check_ring(first, n, "after the live collection")
    live = (t3 - t2) / n
    print(f"run={run} impl=cpython case=live n={n} ms={(t3 - t2) / 1e6:.3f} "
          f"ns_per_obj={live:.2f} found={found_live} build_ms={(t1 - t0) / 1e6:.1f}", flush=True)

    del first
    t3 = time.perf_counter_ns()
    found_garbage = gc.collect()
    t4 = time.perf_counter_ns()
    garbage = (t4 - t3) / n
    print(f"run={run} impl=cpython case=garbage n={n} ms={(t4 - t3) / 1e6:.3f} "
          f"ns_per_obj={garbage:.2f} found={found_garbage}", flush=True)
    return live, garbage


def run_young(young_n, reps, run):
    times = []
    for _ in range(reps):
        gc.collect(0)
        keep = [[i] for i in range(1, young_n)]
        t0 = time.perf_counter_ns()
        found = gc.collect(0)
        t1 = time.perf_counter_ns()
        if found != 0:
            print(f"gc_cost.py: a young collection found {found} unreachable objects",
                  file=sys.stderr)
        del keep
        times.append((t1 - t0) / 1e3)
    med = statistics.median(times)
    print(f"run={run} impl=cpython case=young n={young_n} reps={reps} median_us={med:.2f} "
          f"min_us={min(times):.2f} max_us={max(times):.2f}", flush=True)
    return med


def make_request(seq):
    req = {}
    items = [req]
    req["items"] = items
    req["id"] = 1000000 + seq
    req["name"] = "req-%d" % seq
    meta = {"worker": 0, "seq": seq}
    req["meta"] = meta
    items.append(meta)
    items.append("x%d" % seq)


def run_ygarbage(reps, run):
    times = []
    seq = 0
    for _ in range(reps):
        gc.collect(0)
        for _ in range(YG_REQUESTS):
            make_request(seq)
            seq += 1
        t0 = time.perf_counter_ns()
        gc.collect(0)
        t1 = time.perf_counter_ns()
        times.append((t1 - t0) / 1e3)
    med = statistics.median(times)
    print(f"run={run} impl=cpython case=ygarbage n={3 * YG_REQUESTS} reps={reps} "
          f"median_us={med:.2f} min_us={min(times):.2f} max_us={max(times):.2f}", flush=True)
    return med


def main():
    ap = argparse.ArgumentParser(
        description="Time full collections of a live and a garbage ring of n lists, "
                    "and young collections after 700 fresh lists.")
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="comma-separated ring sizes (default 10000,100000,1000000)")
    ap.add_argument("--runs", type=int, default=5,
                    help="runs; a table of medians ends the output (default 5)")
    ap.add_argument("--young-reps", type=int, default=1000,
                    help="young collections per run (default 1000)")
    ap.add_argument("--young-n", type=int, default=700,
                    help="lists created before each (default 700)")
    ap.add_argument("--no-ring", action="store_true", help="skip the ring collections")
    ap.add_argument("--no-young", action="store_true", help="skip the young collections")
    ap.add_argument("--no-freeze", action="store_true",
                    help="leave the interpreter's objects in the collected generations")
    args = ap.parse_args()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        ap.error("--sizes takes comma-separated numbers")
    if any(s < 1 for s in sizes) or args.runs < 1 or args.young_reps < 1 or args.young_n < 1:
        ap.error("sizes, --runs, --young-reps and --young-n must be positive")

    gc.disable()
    gc.collect()
    if not args.no_freeze:
        gc.freeze()

    ring = {n: ([], []) for n in sizes}
    young = []
    ygarbage = []
    for run in range(1, args.runs + 1):
        if not args.no_ring:
            for n in sizes:
                live, garbage = run_ring(n, run)
                ring[n][0].append(live)
                ring[n][1].append(garbage)
        if not args.no_young:
            young.append(run_young(args.young_n, args.young_reps, run))
            ygarbage.append(run_ygarbage(args.young_reps, run))

    print()
    print(f"| case | n | CPython (median of {args.runs}) |")
    print("|---|---:|---:|")
    if not args.no_ring:
        for n in sizes:
            print(f"| full collection, live | {n} | {statistics.median(ring[n][0]):.2f} ns/object |")
            print(f"| full collection, garbage | {n} | "
                  f"{statistics.median(ring[n][1]):.2f} ns/object |")
    if not args.no_young:
        print(f"| young collection | {args.young_n} | {statistics.median(young):.2f} µs |")
        print(f"| young collection, request garbage | {3 * YG_REQUESTS} | "
              f"{statistics.median(ygarbage):.2f} µs |")
    print()
    print(f"{sys.implementation.name} {sys.version.split()[0]}, gc.disable(), "
          f"frozen objects: {gc.get_freeze_count()}")


if __name__ == "__main__":
    main()
