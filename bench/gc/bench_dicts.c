/*
 * bench_dicts.c - mwrt-bench-dicts: a million small dicts (or sets) of
 * atomic values, which the collector does not track (docs/objects.md).
 *
 * What it measures, in one run (one process, one configuration):
 *
 *   build    making n dicts {"a": i, "b": i} (--kind set: n sets {i, i+1})
 *            and appending each to one list that keeps them all alive, with
 *            automatic collection on (the default thresholds) or off
 *            (mw_gc_disable): ms in all;
 *   collect  then one full collection (mw_gc_collect(2)) with all of them
 *            live: ms.
 *
 * Also reported: the collections that ran during the build, and the
 * objects tracked after it (mw_gc_get_objects(-1)), which say whether the
 * collector had to look at the dicts at all.  dicts.py beside this file
 * does the same in CPython (the list comprehension [{'a': i, 'b': i} for i
 * in range(n)]); dicts.sh runs both, in fresh processes, and prints a
 * table of medians.
 *
 * The keys "a" and "b" are interned strs made once, as CPython's
 * constants are; each i is a new int stored twice (both keep it), as in
 * the comprehension.  Checks (untimed; "WRONG RESULT: ...", exit status 3):
 * the list holds n containers, a sample of them holds what it should, and
 * the live collection finds nothing unreachable.
 *
 * Output: one line,
 *
 *   impl=mwrt kind=dict gc=on n=1000000 build_ms=... collect_ms=... found=0 tracked=1 collections=0
 */
#define _GNU_SOURCE
#include <mwrt/mwrt.h>

#include "../bench_util.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int64_t n;
    bool sets;
    bool gc_on;
} opt = {.n = 1000000, .sets = false, .gc_on = true};

__attribute__((noreturn, format(printf, 1, 2))) static void wrong(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "mwrt-bench-dicts: WRONG RESULT: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(3);
}

static uint64_t collections_so_far(void)
{
    mw_gc_stats st;
    uint64_t n = 0;

    if (mw_gc_get_stats(&st) != 0) {
        die("mw_gc_get_stats failed");
    }
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        n += st.gen[g].collections;
    }
    return n;
}

static mw_object *new_int(int64_t v)
{
    mw_object *o = mw_int(v);

    if (o == NULL) {
        die_with_mw_error("mw_int");
    }
    return o;
}

/* {"a": i, "b": i} */
static mw_object *make_dict(mw_object *ka, mw_object *kb, int64_t i)
{
    mw_object *d = mw_dict_new();
    mw_object *v = new_int(i);

    if (d == NULL) {
        die_with_mw_error("mw_dict_new");
    }
    if (mw_dict_set(d, ka, v) != 0 || mw_dict_set(d, kb, v) != 0) {
        die_with_mw_error("mw_dict_set");
    }
    mw_decref(v);
    return d;
}

/* {i, i + 1} */
static mw_object *make_set(int64_t i)
{
    mw_object *s = mw_set_new();
    mw_object *v = new_int(i);
    mw_object *w = new_int(i + 1);

    if (s == NULL) {
        die_with_mw_error("mw_set_new");
    }
    if (mw_set_add(s, v) != 0 || mw_set_add(s, w) != 0) {
        die_with_mw_error("mw_set_add");
    }
    mw_decref(v);
    mw_decref(w);
    return s;
}

/* The container at index i holds what it should. */
static void check_one(mw_object *keep, int64_t i, mw_object *ka, mw_object *kb)
{
    mw_object *c = mw_list_get(keep, (ptrdiff_t)i);

    if (c == NULL) {
        die_with_mw_error("mw_list_get");
    }
    if (opt.sets) {
        mw_object *v = new_int(i);
        mw_object *w = new_int(i + 1);

        if (mw_set_len(c) != 2 || mw_set_contains(c, v) != 1 || mw_set_contains(c, w) != 1) {
            wrong("set %" PRId64 " is not {%" PRId64 ", %" PRId64 "}", i, i, i + 1);
        }
        mw_decref(v);
        mw_decref(w);
    } else {
        mw_object *keys[2] = {ka, kb};

        if (mw_dict_len(c) != 2) {
            wrong("dict %" PRId64 " has %zu items, not 2", i, mw_dict_len(c));
        }
        for (int k = 0; k < 2; k++) {
            mw_object *v = mw_dict_get(c, keys[k]);

            if (v == NULL || mw_int_value(v) != i) {
                wrong("dict %" PRId64 " does not map its key %d to %" PRId64, i, k, i);
            }
            mw_decref(v);
        }
    }
    mw_decref(c);
}

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Builds n small dicts {'a': i, 'b': i} (or sets {i, i+1}) kept in one list, then\n"
            "runs one full collection with them live; prints one result line.\n"
            "  --kind dict|set    what to build (default dict)\n"
            "  --gc on|off        automatic collection while building (default on)\n"
            "  --n N              how many (default 1000000)\n",
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
        if (v == NULL) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], a);
            return -1;
        }
        i++;
        if (strcmp(a, "--kind") == 0 && (strcmp(v, "dict") == 0 || strcmp(v, "set") == 0)) {
            opt.sets = strcmp(v, "set") == 0;
        } else if (strcmp(a, "--gc") == 0 && (strcmp(v, "on") == 0 || strcmp(v, "off") == 0)) {
            opt.gc_on = strcmp(v, "on") == 0;
        } else if (strcmp(a, "--n") == 0) {
            char *end;
            long long n = strtoll(v, &end, 10);

            if (end == v || *end != '\0' || n < 1 || n > 100000000) {
                fprintf(stderr, "%s: --n needs a number from 1 to 1e8\n", argv[0]);
                return -1;
            }
            opt.n = n;
        } else {
            fprintf(stderr, "%s: bad option: %s %s\n", argv[0], a, v);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    mw_runtime *rt;
    mw_object *ka, *kb, *keep, *objs;
    uint64_t t0, t1, t2, t3, before;
    intptr_t found;
    size_t tracked;
    int rc;

    if (parse_options(argc, argv) != 0) {
        print_usage(stderr, argv[0]);
        return 2;
    }
    rt = mw_runtime_new(NULL);
    if (rt == NULL) {
        die_with_mw_error("mw_runtime_new");
    }
    rc = mw_thread_attach(rt);
    if (rc != 0) {
        die("mw_thread_attach failed: %s", mw_strerror(rc));
    }
    if (!opt.gc_on) {
        mw_gc_disable();
    }
    ka = mw_str_intern("a");
    kb = mw_str_intern("b");
    if (ka == NULL || kb == NULL) {
        die_with_mw_error("mw_str_intern");
    }
    if (mw_gc_collect(2) < 0) {
        die_with_mw_error("mw_gc_collect");
    }
    before = collections_so_far();

    t0 = read_clock_ns();
    keep = mw_list_new();
    if (keep == NULL) {
        die_with_mw_error("mw_list_new");
    }
    for (int64_t i = 0; i < opt.n; i++) {
        mw_object *c = opt.sets ? make_set(i) : make_dict(ka, kb, i);

        if (mw_list_append(keep, c) != 0) {
            die_with_mw_error("mw_list_append");
        }
        mw_decref(c);
    }
    t1 = read_clock_ns();
    uint64_t during = collections_so_far() - before;

    t2 = read_clock_ns();
    found = mw_gc_collect(2);
    t3 = read_clock_ns();
    if (found < 0) {
        die_with_mw_error("mw_gc_collect(2)");
    }
    if (found != 0) {
        wrong("the live collection found %" PRIdPTR " unreachable objects, not 0", found);
    }

    // Untimed: what is tracked, and whether the containers are whole.
    objs = mw_gc_get_objects(-1);
    if (objs == NULL) {
        die_with_mw_error("mw_gc_get_objects");
    }
    tracked = mw_list_len(objs);
    mw_decref(objs);
    if (mw_list_len(keep) != (size_t)opt.n) {
        wrong("the list holds %zu containers, not %" PRId64, mw_list_len(keep), opt.n);
    }
    for (int64_t i = 0; i < opt.n; i += opt.n / 97 + 1) {
        check_one(keep, i, ka, kb);
    }
    check_one(keep, opt.n - 1, ka, kb);

    printf("impl=mwrt kind=%s gc=%s n=%" PRId64 " build_ms=%.1f collect_ms=%.3f found=%" PRIdPTR
           " tracked=%zu collections=%" PRIu64 "\n",
           opt.sets ? "set" : "dict", opt.gc_on ? "on" : "off", opt.n, (double)(t1 - t0) / 1e6,
           (double)(t3 - t2) / 1e6, found, tracked, during);
    fflush(stdout);

    mw_decref(keep);
    rc = mw_thread_detach();
    if (rc != 0) {
        die("mw_thread_detach failed: %s", mw_strerror(rc));
    }
    rc = mw_runtime_free(rt);
    if (rc != 0) {
        die("mw_runtime_free failed: %s", mw_strerror(rc));
    }
    return 0;
}
