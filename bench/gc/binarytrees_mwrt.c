/*
 * binarytrees_mwrt.c - mwrt-bench-binarytrees: the benchmarks-game
 * binary-trees with mwrt objects.
 *
 * What it measures: the seconds the whole benchmark takes at a maximum
 * depth N (default 16): a "stretch" tree of depth N+1 built, checked and
 * dropped; a long-lived tree of depth N built; for d = 4, 6, ..., N,
 * 2^(N-d+4) trees of depth d each built, checked (its node count) and
 * dropped; the long-lived tree checked and dropped.
 *
 * How: a node is a 2-tuple of its children (mw_tuple_new), a leaf the
 * tuple (None, None) - the same objects as the idiomatic CPython version,
 * binarytrees.py beside this file.  Checking reads the children with
 * mw_tuple_get (a new reference each, as Python's unpacking takes one).
 * The runtime has the default configuration: GIL mode and the cycle
 * collector on, so the young collections triggered by allocation (every
 * 700 containers) and the older ones they lead to are part of the time.
 * --gc off (MW_GC_OFF, no automatic collection) is there for comparison.
 *
 * Every check is compared with the node count of a full tree,
 * 2^(depth+1) - 1; a mismatch is printed as "WRONG RESULT" (exit 3).
 *
 * Output: the benchmarks-game lines, then one machine-readable line per
 * run,
 *
 *   run=1 impl=mwrt depth=16 seconds=... check=... gc_collections=a/b/c gc_pause_ms=x/y/z
 *
 * where check is the sum of every check printed and gc_* come from
 * mw_gc_get_stats: the collections of generations 0/1/2 during the run and
 * their total pauses (ms), each generation's alone.
 */
#define _GNU_SOURCE
#include <mwrt/mwrt.h>

#include "../bench_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MIN_DEPTH 4

static struct {
    int depth;
    int runs;
    bool gc_on;
    bool quiet;
} opt = {.depth = 16, .runs = 1, .gc_on = true, .quiet = false};



__attribute__((noreturn, format(printf, 2, 3))) static void fail(int status, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "mwrt-bench-binarytrees: %s", status == 3 ? "WRONG RESULT: " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(status);
}

/* A new tree of depth d: (left, right), a leaf (None, None). */
static mw_object *make_tree(int d)
{
    mw_object *items[2];
    mw_object *t;

    if (d == 0) {
        items[0] = items[1] = mw_none();
        t = mw_tuple_new(2, items);
        if (t == NULL) {
            die_with_mw_error("mw_tuple_new");
        }
        return t;
    }
    items[0] = make_tree(d - 1);
    items[1] = make_tree(d - 1);
    t = mw_tuple_new(2, items);
    if (t == NULL) {
        die_with_mw_error("mw_tuple_new");
    }
    mw_decref(items[0]);
    mw_decref(items[1]);
    return t;
}

/* The number of nodes of tree t. */
static int64_t check_tree(mw_object *t)
{
    mw_object *l = mw_tuple_get(t, 0);
    mw_object *r;
    int64_t c;

    if (l == NULL) {
        die_with_mw_error("mw_tuple_get");
    }
    if (mw_is(l, mw_none())) {
        mw_decref(l);
        return 1;
    }
    r = mw_tuple_get(t, 1);
    if (r == NULL) {
        die_with_mw_error("mw_tuple_get");
    }
    c = 1 + check_tree(l) + check_tree(r);
    mw_decref(l);
    mw_decref(r);
    return c;
}

static void expect(int64_t got, int depth, const char *what)
{
    int64_t want = ((int64_t)1 << (depth + 1)) - 1;

    if (got != want) {
        fail(3, "%s of depth %d: check %" PRId64 ", not %" PRId64, what, depth, got, want);
    }
}

/* One run of the benchmark; returns the sum of the checks. */
static int64_t binary_trees(int max_depth)
{
    int stretch = max_depth + 1;
    int64_t total = 0;
    int64_t c;
    mw_object *t, *long_lived;

    t = make_tree(stretch);
    c = check_tree(t);
    expect(c, stretch, "stretch tree");
    total += c;
    mw_decref(t);
    if (!opt.quiet) {
        printf("stretch tree of depth %d\t check: %" PRId64 "\n", stretch, c);
    }

    long_lived = make_tree(max_depth);
    for (int d = MIN_DEPTH; d <= max_depth; d += 2) {
        int64_t iters = (int64_t)1 << (max_depth - d + MIN_DEPTH);
        int64_t sum = 0;

        for (int64_t i = 0; i < iters; i++) {
            t = make_tree(d);
            c = check_tree(t);
            expect(c, d, "tree");
            sum += c;
            mw_decref(t);
        }
        total += sum;
        if (!opt.quiet) {
            printf("%" PRId64 "\t trees of depth %d\t check: %" PRId64 "\n", iters, d, sum);
        }
    }
    c = check_tree(long_lived);
    expect(c, max_depth, "long lived tree");
    total += c;
    if (!opt.quiet) {
        printf("long lived tree of depth %d\t check: %" PRId64 "\n", max_depth, c);
    }
    mw_decref(long_lived);
    return total;
}

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "binary-trees with mwrt tuples.\n"
            "  --depth N     maximum depth (default 16; at least 6)\n"
            "  --runs N      runs in this process (default 1)\n"
            "  --gc on|off   automatic collection: the default MW_GC_STW, or MW_GC_OFF\n"
            "  --quiet       only the result lines\n",
            argv0);
}

static int parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout, argv[0]);
            exit(0);
        }
        if (strcmp(a, "--quiet") == 0) {
            opt.quiet = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], a);
            return -1;
        }
        i++;
        if (strcmp(a, "--depth") == 0) {
            opt.depth = atoi(v);
            if (opt.depth < MIN_DEPTH + 2 || opt.depth > 30) {
                fprintf(stderr, "%s: --depth needs a number from 6 to 30\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--runs") == 0) {
            opt.runs = atoi(v);
            if (opt.runs < 1 || opt.runs > 100) {
                fprintf(stderr, "%s: --runs needs a number from 1 to 100\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--gc") == 0 && (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)) {
            opt.gc_on = strcmp(v, "on") == 0;
        } else {
            fprintf(stderr, "%s: unknown option or bad value: %s %s\n", argv[0], a, v);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    mw_config cfg;
    mw_runtime *rt;
    int rc;

    if (parse_options(argc, argv) != 0) {
        print_usage(stderr, argv[0]);
        return 2;
    }
    mw_config_default(&cfg);
    cfg.gc_policy = opt.gc_on ? MW_GC_STW : MW_GC_OFF;
    rt = mw_runtime_new(&cfg);
    if (rt == NULL) {
        die_with_mw_error("mw_runtime_new");
    }
    rc = mw_thread_attach(rt);
    if (rc != 0) {
        fail(1, "mw_thread_attach failed: %s", mw_strerror(rc));
    }
    if (mw_gc_isenabled() != opt.gc_on) {
        fail(1, "automatic collection is %s, not %s", mw_gc_isenabled() ? "on" : "off",
             opt.gc_on ? "on" : "off");
    }

    for (int run = 0; run < opt.runs; run++) {
        mw_gc_stats before, after;
        uint64_t t0, t1, pause[MW_GC_GENERATIONS];
        int64_t total;

        if (mw_gc_get_stats(&before) != 0) {
            fail(1, "mw_gc_get_stats failed");
        }
        t0 = read_clock_ns();
        total = binary_trees(opt.depth);
        t1 = read_clock_ns();
        if (mw_gc_get_stats(&after) != 0) {
            fail(1, "mw_gc_get_stats failed");
        }
        for (int g = 0; g < MW_GC_GENERATIONS; g++) {
            pause[g] = after.gen[g].total_pause_ns - before.gen[g].total_pause_ns;
        }
        printf("run=%d impl=mwrt depth=%d seconds=%.4f check=%" PRId64
               " gc=%s gc_collections=%" PRIu64 "/%" PRIu64 "/%" PRIu64
               " gc_pause_ms=%.1f/%.1f/%.1f\n",
               run + 1, opt.depth, (double)(t1 - t0) / 1e9, total, opt.gc_on ? "on" : "off",
               after.gen[0].collections - before.gen[0].collections,
               after.gen[1].collections - before.gen[1].collections,
               after.gen[2].collections - before.gen[2].collections, (double)pause[0] / 1e6,
               (double)pause[1] / 1e6, (double)pause[2] / 1e6);
        fflush(stdout);
    }

    rc = mw_thread_detach();
    if (rc != 0) {
        fail(1, "mw_thread_detach failed: %s", mw_strerror(rc));
    }
    rc = mw_runtime_free(rt);
    if (rc != 0) {
        fail(1, "mw_runtime_free failed: %s", mw_strerror(rc));
    }
    return 0;
}
