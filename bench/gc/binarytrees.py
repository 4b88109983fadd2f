#!/usr/bin/env python3
#
# binarytrees.py - the benchmarks-game binary-trees in CPython, the
# idiomatic tuple version: a node is a 2-tuple of its children, a leaf
# (None, None).  The cycle collector is left as it is (enabled, default
# thresholds), as a program would run.
#
# What it measures, as mwrt-bench-binarytrees and the C versions do: the
# seconds the whole benchmark takes at a maximum depth N (default 16): a
# stretch tree of depth N+1 built, checked and dropped; a long-lived tree of
# depth N; for d = 4, 6, ..., N, 2^(N-d+4) trees of depth d built, checked
# and dropped; the long-lived tree checked and dropped.
#
# Output: the benchmarks-game lines, then one line per run,
#
#   run=1 impl=cpython depth=16 seconds=... check=... gc_collections=a/b/c
#
# (collections of generations 0/1/2 during the run, from gc.get_stats).
# A check that is not the node count of a full tree exits with status 3.

import argparse
import gc
import sys
import time

MIN_DEPTH = 4


def make_tree(d):
    if d > 0:
        d -= 1
        return (make_tree(d), make_tree(d))
    return (None, None)


def check_tree(node):
    (left, right) = node
    if left is None:
        return 1
    return 1 + check_tree(left) + check_tree(right)


def expect(got, depth, what):
    want = 2 ** (depth + 1) - 1
    if got != want:
        print(f"binarytrees.py: WRONG RESULT: {what} of depth {depth}: check {got}, not {want}",
              file=sys.stderr)
        sys.exit(3)


def binary_trees(max_depth, quiet):
    """One run; returns the sum of the checks."""
    stretch = max_depth + 1
    c = check_tree(make_tree(stretch))
    expect(c, stretch, "stretch tree")
    total = c
    if not quiet:
        print(f"stretch tree of depth {stretch}\t check: {c}")

    long_lived = make_tree(max_depth)
    for d in range(MIN_DEPTH, max_depth + 1, 2):
        iters = 2 ** (max_depth - d + MIN_DEPTH)
        s = 0
        for _ in range(iters):
            c = check_tree(make_tree(d))
            expect(c, d, "tree")
            s += c
        total += s
        if not quiet:
            print(f"{iters}\t trees of depth {d}\t check: {s}")
    c = check_tree(long_lived)
    expect(c, max_depth, "long lived tree")
    total += c
    if not quiet:
        print(f"long lived tree of depth {max_depth}\t check: {c}")
    return total  # long_lived goes here


def main():
    ap = argparse.ArgumentParser(description="binary-trees with CPython tuples.")
    ap.add_argument("--depth", type=int, default=16, help="maximum depth (default 16)")
    ap.add_argument("--runs", type=int, default=1, help="runs in this process (default 1)")
    ap.add_argument("--quiet", action="store_true", help="only the result lines")
    args = ap.parse_args()
    if args.depth < MIN_DEPTH + 2 or args.runs < 1:
        ap.error("--depth must be at least 6 and --runs positive")

    for run in range(1, args.runs + 1):
        before = [s["collections"] for s in gc.get_stats()]
        t0 = time.perf_counter()
        total = binary_trees(args.depth, args.quiet)
        t1 = time.perf_counter()
        after = [s["collections"] for s in gc.get_stats()]
        colls = "/".join(str(a - b) for a, b in zip(after, before))
        print(f"run={run} impl=cpython depth={args.depth} seconds={t1 - t0:.4f} check={total} "
              f"gc_collections={colls}", flush=True)


if __name__ == "__main__":
    main()
