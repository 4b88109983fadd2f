/*
 * bench_containers.c - mwrt-bench-containers: building and dropping big
 * lists of objects.
 *
 * What it measures: the time to build, and then to drop, a list of N
 * (default 1M) objects, in three workloads:
 *
 *   ints   N ints 0..N-1 (all but the first 257 are fresh objects; the
 *          small ints -5..256 are shared)
 *   strs   N strs str(i) for i in 0..N-1, formatted with snprintf
 *   dicts  N dicts {"a": i, "b": i}; the keys are interned strs made once
 *          before timing (as CPython's are code constants)
 *   lists  N lists [i, i]: N containers that stay live, so the collector's
 *          schedule (how often it rescans what it has already seen) shows
 *          in the build time; not in the default set
 *
 * How: build = mw_list_new, then for each i make the element, mw_list_append
 * it and mw_decref our reference (CPython's list comprehension does the
 * same work: one object and one append per element, the list growing as it
 * goes).  drop = one mw_decref of the list, which frees the list and every
 * element.  Each phase is timed with CLOCK_MONOTONIC; between the two, an
 * untimed check makes sure the list has N elements and its last one holds
 * N-1.  One run does ints, strs and dicts in turn; --runs runs (default 5)
 * are done and each run prints one machine-readable line per workload:
 *
 *   run=1 impl=mwrt lock=gil gc=on workload=ints n=1000000 build_ms=...
 *       drop_ms=... total_ms=... build_collections=a/b/c build_examined=x/y/z
 *
 * (the collections of generations 0/1/2 during the build, and the objects
 * they examined: what the schedule costs, in work rather than time)
 *
 * followed by a Markdown table of the medians.  containers.py beside this
 * file does the same in CPython and prints the same lines; run.sh runs the
 * two interleaved and compares them.
 *
 * The runtime is made with mw_config_default, changed only by --lock
 * gil|free (default gil, which is what CPython does) and --gc on|off (on:
 * the default MW_GC_STW policy; off: MW_GC_OFF, no automatic collection,
 * like CPython's gc.disable()).  The main thread is attached for the whole
 * program, so in free mode it owns every object and counts without atomics.
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

#define MAX_RUNS 101

typedef enum {
    W_INTS,
    W_STRS,
    W_DICTS,
    W_LISTS,
    NWORKLOADS
} workload;

static const char *const workload_names[NWORKLOADS] = {"ints", "strs", "dicts", "lists"};

typedef struct {
    int64_t n;
    int runs;
    mw_lock_mode lock;
    bool gc_on;
    int full_growth;   /* -1: the runtime's default */
    bool enabled[NWORKLOADS];
} options;

static options opt = {
    .n = 1000000,
    .runs = 5,
    .lock = MW_LOCK_GIL,
    .gc_on = true,
    .full_growth = -1,
    .enabled = {true, true, true, false},
};

/* The dict keys, interned (immortal) before anything is timed. */
static mw_object *key_a;
static mw_object *key_b;

/* ms per run: [workload][phase][run], phase 0 build, 1 drop, 2 total. */
static double results[NWORKLOADS][3][MAX_RUNS];





/* ----------------------------------------------------------------------
 * Building
 * ---------------------------------------------------------------------- */

/* Append o to list and drop our reference to it. */
static void append_owned(mw_object *list, mw_object *o, const char *what)
{
    if (o == NULL) {
        die_with_mw_error(what);
    }
    if (mw_list_append(list, o) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_decref(o);
}

static mw_object *build_ints(int64_t n)
{
    mw_object *list = mw_list_new();

    if (list == NULL) {
        die_with_mw_error("mw_list_new");
    }
    for (int64_t i = 0; i < n; i++) {
        append_owned(list, mw_int(i), "mw_int");
    }
    return list;
}

static mw_object *build_strs(int64_t n)
{
    mw_object *list = mw_list_new();
    char buf[32];

    if (list == NULL) {
        die_with_mw_error("mw_list_new");
    }
    for (int64_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "%" PRId64, i);

        append_owned(list, mw_str_n(buf, (size_t)len), "mw_str_n");
    }
    return list;
}

static mw_object *make_dict(int64_t i)
{
    mw_object *d = mw_dict_new();
    mw_object *v;

    if (d == NULL) {
        die_with_mw_error("mw_dict_new");
    }
    v = mw_int(i);
    if (v == NULL) {
        die_with_mw_error("mw_int");
    }
    if (mw_dict_set(d, key_a, v) != 0 || mw_dict_set(d, key_b, v) != 0) {
        die_with_mw_error("mw_dict_set");
    }
    mw_decref(v);
    return d;
}

static mw_object *build_dicts(int64_t n)
{
    mw_object *list = mw_list_new();

    if (list == NULL) {
        die_with_mw_error("mw_list_new");
    }
    for (int64_t i = 0; i < n; i++) {
        append_owned(list, make_dict(i), "mw_dict_new");
    }
    return list;
}

static mw_object *make_pair(int64_t i)
{
    mw_object *l = mw_list_new();
    mw_object *v = mw_int(i);

    if (l == NULL || v == NULL) {
        die_with_mw_error(l == NULL ? "mw_list_new" : "mw_int");
    }
    if (mw_list_append(l, v) != 0 || mw_list_append(l, v) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_decref(v);
    return l;
}

static mw_object *build_lists(int64_t n)
{
    mw_object *list = mw_list_new();

    if (list == NULL) {
        die_with_mw_error("mw_list_new");
    }
    for (int64_t i = 0; i < n; i++) {
        append_owned(list, make_pair(i), "mw_list_new");
    }
    return list;
}

/* ----------------------------------------------------------------------
 * Checking (untimed)
 * ---------------------------------------------------------------------- */

/* Die unless o is an int holding want. */
static void check_int(mw_object *o, int64_t want, const char *where)
{
    int64_t v = mw_int_value(o);

    if (v == -1 && mw_err_occurred() != MW_ERR_NONE) {
        die_with_mw_error("mw_int_value");
    }
    if (v != want) {
        die("wrong value in %s: %" PRId64 " where %" PRId64 " was expected", where, v, want);
    }
}

static void check_list(workload w, mw_object *list, int64_t n)
{
    size_t len = mw_list_len(list);
    mw_object *last;
    char want[32];

    if (len == (size_t)-1) {
        die_with_mw_error("mw_list_len");
    }
    if (len != (size_t)n) {
        die("the %s list has length %zu, not %" PRId64, workload_names[w], len, n);
    }
    if (mw_refcnt(list) != 1) {
        die("the %s list's count is %" PRIdPTR " before the drop, not 1", workload_names[w],
            mw_refcnt(list));
    }
    last = mw_list_get(list, -1);
    if (last == NULL) {
        die_with_mw_error("mw_list_get");
    }
    switch (w) {
    case W_INTS:
        check_int(last, n - 1, "the ints list");
        break;
    case W_STRS: {
        size_t slen;
        const char *data = mw_str_data(last, &slen);

        if (data == NULL) {
            die_with_mw_error("mw_str_data");
        }
        snprintf(want, sizeof want, "%" PRId64, n - 1);
        if (slen != strlen(want) || memcmp(data, want, slen) != 0) {
            die("the last str is not %s", want);
        }
        break;
    }
    case W_DICTS: {
        mw_object *v;

        if (mw_dict_len(last) != 2) {
            die("the last dict has %zu items, not 2", mw_dict_len(last));
        }
        v = mw_dict_get(last, key_b);
        if (v == NULL) {
            die_with_mw_error("mw_dict_get");
        }
        check_int(v, n - 1, "the last dict");
        mw_decref(v);
        break;
    }
    case W_LISTS: {
        mw_object *v;

        if (mw_list_len(last) != 2) {
            die("the last list has %zu items, not 2", mw_list_len(last));
        }
        v = mw_list_get(last, 1);
        if (v == NULL) {
            die_with_mw_error("mw_list_get");
        }
        check_int(v, n - 1, "the last list");
        mw_decref(v);
        break;
    }
    case NWORKLOADS:
        break;
    }
    mw_decref(last);
}

/* ----------------------------------------------------------------------
 * Running
 * ---------------------------------------------------------------------- */

static void run_workload(workload w, int run)
{
    mw_object *list = NULL;
    uint64_t t0, t1, t2, t3;
    mw_gc_stats before, after;

    if (mw_gc_get_stats(&before) != 0) {
        die_with_mw_error("mw_gc_get_stats");
    }
    t0 = read_clock_ns();
    switch (w) {
    case W_INTS:
        list = build_ints(opt.n);
        break;
    case W_STRS:
        list = build_strs(opt.n);
        break;
    case W_DICTS:
        list = build_dicts(opt.n);
        break;
    case W_LISTS:
        list = build_lists(opt.n);
        break;
    case NWORKLOADS:
        break;
    }
    t1 = read_clock_ns();
    if (mw_gc_get_stats(&after) != 0) {
        die_with_mw_error("mw_gc_get_stats");
    }
    check_list(w, list, opt.n);
    t2 = read_clock_ns();
    mw_decref(list);
    t3 = read_clock_ns();

    results[w][0][run] = (double)(t1 - t0) / 1e6;
    results[w][1][run] = (double)(t3 - t2) / 1e6;
    results[w][2][run] = results[w][0][run] + results[w][1][run];
    printf("run=%d impl=mwrt lock=%s gc=%s workload=%s n=%" PRId64
           " build_ms=%.3f drop_ms=%.3f total_ms=%.3f"
           " build_collections=%" PRIu64 "/%" PRIu64 "/%" PRIu64
           " build_examined=%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
           run + 1, opt.lock == MW_LOCK_GIL ? "gil" : "free", opt.gc_on ? "on" : "off",
           workload_names[w], opt.n, results[w][0][run], results[w][1][run],
           results[w][2][run],
           after.gen[0].collections - before.gen[0].collections,
           after.gen[1].collections - before.gen[1].collections,
           after.gen[2].collections - before.gen[2].collections,
           after.gen[0].examined - before.gen[0].examined,
           after.gen[1].examined - before.gen[1].examined,
           after.gen[2].examined - before.gen[2].examined);
    fflush(stdout);
}

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Builds and drops lists of N ints, strs, small dicts or pairs; prints the times.\n"
            "  --n N              elements per list (default 1000000)\n"
            "  --runs N           runs; a table of medians ends the output (default 5)\n"
            "  --lock gil|free    the runtime's lock mode (default gil)\n"
            "  --gc on|off        automatic collection: MW_GC_STW or MW_GC_OFF (default on)\n"
            "  --full-growth PCT  the full-growth share (mw_config.gc_full_growth; default\n"
            "                     the runtime's, 100; CPython's rule is 25)\n"
            "  --workloads LIST   comma-separated subset of ints,strs,dicts,lists\n"
            "                     (default ints,strs,dicts)\n",
            argv0);
}

static int parse_workloads(const char *s)
{
    char buf[128];
    char *save = NULL;

    if (strlen(s) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, s);
    for (int w = 0; w < NWORKLOADS; w++) {
        opt.enabled[w] = false;
    }
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        int found = 0;

        for (int w = 0; w < NWORKLOADS; w++) {
            if (strcmp(tok, workload_names[w]) == 0) {
                opt.enabled[w] = true;
                found = 1;
            }
        }
        if (!found) {
            return -1;
        }
    }
    return 0;
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
        if (strcmp(a, "--n") == 0) {
            char *end;
            long long n;

            errno = 0;
            n = strtoll(v, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > 1000000000) {
                fprintf(stderr, "%s: --n needs a number from 1 to 1e9\n", argv[0]);
                return -1;
            }
            opt.n = n;
        } else if (strcmp(a, "--runs") == 0) {
            int n = atoi(v);

            if (n < 1 || n > MAX_RUNS) {
                fprintf(stderr, "%s: --runs needs a number from 1 to %d\n", argv[0], MAX_RUNS);
                return -1;
            }
            opt.runs = n;
        } else if (strcmp(a, "--lock") == 0) {
            if (strcmp(v, "gil") == 0) {
                opt.lock = MW_LOCK_GIL;
            } else if (strcmp(v, "free") == 0) {
                opt.lock = MW_LOCK_FREE;
            } else {
                fprintf(stderr, "%s: --lock takes gil or free\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--gc") == 0) {
            if (strcmp(v, "on") == 0) {
                opt.gc_on = true;
            } else if (strcmp(v, "off") == 0) {
                opt.gc_on = false;
            } else {
                fprintf(stderr, "%s: --gc takes on or off\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--full-growth") == 0) {
            char *end;
            long g = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || g < 0 || g > 10000) {
                fprintf(stderr, "%s: --full-growth takes a percent, 0..10000\n", argv[0]);
                return -1;
            }
            opt.full_growth = (int)g;
        } else if (strcmp(a, "--workloads") == 0) {
            if (parse_workloads(v) != 0) {
                fprintf(stderr, "%s: --workloads takes a list of ints,strs,dicts,lists\n", argv[0]);
                return -1;
            }
        } else {
            fprintf(stderr, "%s: unknown option: %s\n", argv[0], a);
            return -1;
        }
    }
    return 0;
}

static void print_summary(void)
{
    static const char *const phases[3] = {"build", "drop", "total"};

    printf("\n| workload | phase | mwrt ms (median of %d) |\n", opt.runs);
    printf("|---|---|---:|\n");
    for (int w = 0; w < NWORKLOADS; w++) {
        if (!opt.enabled[w]) {
            continue;
        }
        for (int p = 0; p < 3; p++) {
            printf("| %s | %s | %.1f |\n", workload_names[w], phases[p],
                   bench_median(results[w][p], opt.runs));
        }
    }
    printf("\nmwrt %s, lock=%s, gc=%s, n=%" PRId64 "\n", mw_version(),
           opt.lock == MW_LOCK_GIL ? "gil" : "free", opt.gc_on ? "on" : "off", opt.n);
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
    cfg.lock = opt.lock;
    cfg.gc_policy = opt.gc_on ? MW_GC_STW : MW_GC_OFF;
    if (opt.full_growth >= 0) {
        cfg.gc_full_growth = opt.full_growth;
    }
    rt = mw_runtime_new(&cfg);
    if (rt == NULL) {
        die_with_mw_error("mw_runtime_new");
    }
    rc = mw_thread_attach(rt);
    if (rc != 0) {
        die("mw_thread_attach failed: %s", mw_strerror(rc));
    }
    key_a = mw_str_intern("a");
    key_b = mw_str_intern("b");
    if (key_a == NULL || key_b == NULL) {
        die_with_mw_error("mw_str_intern");
    }

    for (int run = 0; run < opt.runs; run++) {
        for (int w = 0; w < NWORKLOADS; w++) {
            if (opt.enabled[w]) {
                run_workload((workload)w, run);
            }
        }
    }
    print_summary();

    mw_decref(key_a);
    mw_decref(key_b);
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
