/*
 * bench_gc.c - mwrt-bench-gc: what a cycle collection costs.
 *
 * What it measures:
 *
 *   live     one full collection (mw_gc_collect(2)) with a ring of n
 *            2-element lists [i, next] in the heap (the last list's next is
 *            the first), all of it reachable through the one reference the
 *            program keeps to the first list: ns per list;
 *   garbage  that reference dropped, one more full collection, which finds
 *            the ring unreachable and frees it: ns per list;
 *   young    one young collection (mw_gc_collect(0)) right after creating
 *            700 fresh containers (a holder list and 699 lists [i] in it,
 *            all live): the median over --young-reps repetitions, in µs;
 *   ygarbage one young collection right after 233 requests of the service
 *            benchmark's shape (bench/sched) were made and dropped: per
 *            request a dict req, a list items = [req, meta, str] with
 *            req["items"] = items, a dict meta of two ints, three ints and
 *            two strs: 699 containers, 466 of them in the cycles the young
 *            collection finds (meta holds atomic values only, so it is not
 *            tracked, as in CPython; it is freed with the cycle), all of it
 *            garbage: what a young collection of a service costs, finding
 *            and freeing (µs);
 *   ygcold   the same with one write to each of 1M random cache lines of a
 *            64 MiB buffer between building and collecting (--cold-reps
 *            repetitions), so the objects are out of the caches and the
 *            TLB, as in a service (bench/sched), where a young
 *            collection's time is mostly memory latency.
 *
 * How: automatic collection is off (mw_gc_disable()) for the whole program,
 * so building is never interrupted and nothing but the timed calls
 * collects; a full collection (untimed) runs before each ring is built, so
 * only the ring is in the generations.  The ints of the ring are not
 * containers (the collector does not track them, as CPython does not), but
 * the garbage collection frees them with their lists.  Each call is timed
 * with CLOCK_MONOTONIC.
 *
 * Checks (untimed; a failure is printed as "WRONG RESULT: ..." and the
 * program exits with status 3): the ring is whole before and after the
 * live collection; the live collection finds 0 unreachable objects; the
 * garbage collection finds n; afterwards the allocator's blocks in use
 * (mw_alloc_get_stats) are back where they were before the ring was built;
 * a young collection finds 0.
 *
 * Output: one machine-readable line per measurement,
 *
 *   run=1 impl=mwrt case=live n=10000 ms=... ns_per_obj=... found=0 build_ms=...
 *   run=1 impl=mwrt case=garbage n=10000 ms=... ns_per_obj=... found=10000
 *   run=1 impl=mwrt case=young n=700 reps=1000 median_us=... min_us=... max_us=...
 *   run=1 impl=mwrt case=ygarbage n=699 reps=1000 median_us=... min_us=... max_us=...
 *   run=1 impl=mwrt case=ygcold n=699 reps=200 median_us=... min_us=... max_us=...
 *
 * then a Markdown table of medians over --runs runs.  gc_cost.py beside this
 * file prints the same lines for CPython; run.sh runs both and compares.
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
#define MAX_SIZES 16

static struct {
    int64_t sizes[MAX_SIZES];
    int nsizes;
    int runs;
    int young_reps;
    int young_n;
    int cold_reps;
    bool ring;
    bool young;
} opt = {
    .sizes = {10000, 100000, 1000000},
    .nsizes = 3,
    .runs = 5,
    .young_reps = 1000,
    .young_n = 700,
    .cold_reps = 200,
    .ring = true,
    .young = true,
};

/* ns per object of each run: [size][0 live, 1 garbage][run]; young µs. */
static double ring_results[MAX_SIZES][2][MAX_RUNS];
static double young_results[MAX_RUNS];
static double ygarbage_results[2][MAX_RUNS];   /* [0 warm, 1 cold][run] */




/* A result the runtime got wrong (not a benchmark problem): exit 3. */
__attribute__((noreturn, format(printf, 1, 2))) static void wrong(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "mwrt-bench-gc: WRONG RESULT: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(3);
}

/* mw_gc_collect(gen), dying if it fails. */
static intptr_t collect(int gen)
{
    intptr_t found = mw_gc_collect(gen);

    if (found < 0) {
        die_with_mw_error(gen == 0 ? "mw_gc_collect(0)" : "mw_gc_collect(2)");
    }
    return found;
}

/* Blocks the allocator has handed out and not had back, all classes plus
 * the large requests. */
static size_t blocks_in_use(void)
{
    mw_alloc_stats st;
    size_t total = 0;
    int rc = mw_alloc_get_stats(&st);

    if (rc != 0) {
        die("mw_alloc_get_stats failed: %s", mw_strerror(rc));
    }
    for (int c = 0; c < MW_ALLOC_NUM_CLASSES; c++) {
        total += st.classes[c].blocks_in_use;
    }
    return total + st.large_in_use;
}

/* ----------------------------------------------------------------------
 * The ring
 * ---------------------------------------------------------------------- */

/* A new list [i, None]. */
static mw_object *make_node(int64_t i)
{
    mw_object *l = mw_list_new();
    mw_object *v;

    if (l == NULL) {
        die_with_mw_error("mw_list_new");
    }
    v = mw_int(i);
    if (v == NULL) {
        die_with_mw_error("mw_int");
    }
    if (mw_list_append(l, v) != 0 || mw_list_append(l, mw_none()) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_decref(v);
    return l;
}

/* The ring of n lists; returns the only reference the caller has (to the
 * first list, [0, next]). */
static mw_object *build_ring(int64_t n)
{
    mw_object *first = make_node(0);
    mw_object *prev = first;   // borrowed: its predecessor (or we) hold it

    for (int64_t i = 1; i < n; i++) {
        mw_object *cur = make_node(i);

        if (mw_list_set(prev, 1, cur) != 0) {
            die_with_mw_error("mw_list_set");
        }
        mw_decref(cur);   // prev holds it now
        prev = cur;
    }
    if (mw_list_set(prev, 1, first) != 0) {
        die_with_mw_error("mw_list_set");
    }
    return first;
}

/* Walk the ring from first: n lists holding 0..n-1, then first again. */
static void check_ring(mw_object *first, int64_t n, const char *when)
{
    mw_object *cur = first;

    mw_incref(cur);
    for (int64_t i = 0; i < n; i++) {
        mw_object *v, *next;
        int64_t got;

        if (mw_list_len(cur) != 2) {
            wrong("%s: list %" PRId64 " of the ring has %zu items, not 2", when, i,
                  mw_list_len(cur));
        }
        v = mw_list_get(cur, 0);
        if (v == NULL) {
            die_with_mw_error("mw_list_get");
        }
        got = mw_int_value(v);
        if (got == -1 && mw_err_occurred() != MW_ERR_NONE) {
            die_with_mw_error("mw_int_value");
        }
        if (got != i) {
            wrong("%s: list %" PRId64 " of the ring holds %" PRId64, when, i, got);
        }
        mw_decref(v);
        next = mw_list_get(cur, 1);
        if (next == NULL) {
            die_with_mw_error("mw_list_get");
        }
        mw_decref(cur);
        cur = next;
    }
    if (cur != first) {
        wrong("%s: the ring does not close after %" PRId64 " lists", when, n);
    }
    mw_decref(cur);
}

static void run_ring(int s, int run)
{
    int64_t n = opt.sizes[s];
    size_t base, after;
    intptr_t found_live, found_garbage;
    uint64_t t0, t1, t2, t3, t4;
    mw_object *first;

    collect(2);   // nothing left over from the last size
    base = blocks_in_use();
    t0 = read_clock_ns();
    first = build_ring(n);
    t1 = read_clock_ns();
    check_ring(first, n, "before the live collection");

    t2 = read_clock_ns();
    found_live = collect(2);
    t3 = read_clock_ns();
    ring_results[s][0][run] = (double)(t3 - t2) / (double)n;
    if (found_live != 0) {
        wrong("the live collection (n=%" PRId64 ") found %" PRIdPTR " unreachable objects, not 0",
              n, found_live);
    }
    check_ring(first, n, "after the live collection");
    printf("run=%d impl=mwrt case=live n=%" PRId64 " ms=%.3f ns_per_obj=%.2f found=%" PRIdPTR
           " build_ms=%.1f\n",
           run + 1, n, (double)(t3 - t2) / 1e6, ring_results[s][0][run], found_live,
           (double)(t1 - t0) / 1e6);
    fflush(stdout);

    mw_decref(first);   // the ring keeps itself alive now
    t3 = read_clock_ns();
    found_garbage = collect(2);
    t4 = read_clock_ns();
    ring_results[s][1][run] = (double)(t4 - t3) / (double)n;
    after = blocks_in_use();
    printf("run=%d impl=mwrt case=garbage n=%" PRId64 " ms=%.3f ns_per_obj=%.2f found=%" PRIdPTR
           " leaked_blocks=%zd\n",
           run + 1, n, (double)(t4 - t3) / 1e6, ring_results[s][1][run], found_garbage,
           (ssize_t)(after - base));
    fflush(stdout);
    if (found_garbage != (intptr_t)n) {
        wrong("the garbage collection (n=%" PRId64 ") found %" PRIdPTR " unreachable objects, "
              "not %" PRId64, n, found_garbage, n);
    }
    if (after != base) {
        wrong("after the garbage collection (n=%" PRId64 ") %zu blocks are in use, %zu before "
              "the ring was built (%+zd)", n, after, base, (ssize_t)(after - base));
    }
}

/* ----------------------------------------------------------------------
 * Young collections
 * ---------------------------------------------------------------------- */

static void run_young(int run)
{
    double us[opt.young_reps];
    double lo = 0, hi = 0;

    for (int r = 0; r < opt.young_reps; r++) {
        mw_object *holder;
        intptr_t found;
        uint64_t t0, t1;

        collect(0);   // generation 0 empty: only the fresh containers below
        holder = mw_list_new();
        if (holder == NULL) {
            die_with_mw_error("mw_list_new");
        }
        for (int i = 1; i < opt.young_n; i++) {
            mw_object *l = mw_list_new();
            mw_object *v = mw_int(i);

            if (l == NULL || v == NULL) {
                die_with_mw_error(l == NULL ? "mw_list_new" : "mw_int");
            }
            if (mw_list_append(l, v) != 0 || mw_list_append(holder, l) != 0) {
                die_with_mw_error("mw_list_append");
            }
            mw_decref(v);
            mw_decref(l);
        }
        t0 = read_clock_ns();
        found = collect(0);
        t1 = read_clock_ns();
        if (found != 0) {
            wrong("a young collection of %d live containers found %" PRIdPTR
                  " unreachable objects", opt.young_n, found);
        }
        mw_decref(holder);
        us[r] = (double)(t1 - t0) / 1e3;
        lo = r == 0 || us[r] < lo ? us[r] : lo;
        hi = r == 0 || us[r] > hi ? us[r] : hi;
    }
    young_results[run] = bench_median(us, opt.young_reps);
    printf("run=%d impl=mwrt case=young n=%d reps=%d median_us=%.2f min_us=%.2f max_us=%.2f\n",
           run + 1, opt.young_n, opt.young_reps, young_results[run], lo, hi);
    fflush(stdout);
}

/* Requests made and dropped before each young-garbage collection. */
#define YG_REQUESTS 233

static mw_object *str_or_die(const char *s)
{
    mw_object *o = mw_str(s);

    if (o == NULL) {
        die_with_mw_error("mw_str");
    }
    return o;
}

static void set_or_die(mw_object *d, mw_object *k, mw_object *v)
{
    if (v == NULL) {
        die_with_mw_error("a value for mw_dict_set");
    }
    if (mw_dict_set(d, k, v) != 0) {
        die_with_mw_error("mw_dict_set");
    }
    mw_decref(v);
}

/* One request of bench/sched's shape, left as a garbage cycle. */
static void make_request(long seq, mw_object *const keys[5])
{
    char buf[32];
    mw_object *req = mw_dict_new(), *items = mw_list_new(), *meta = mw_dict_new();

    if (req == NULL || items == NULL || meta == NULL) {
        die_with_mw_error("a container");
    }
    if (mw_list_append(items, req) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_incref(items);
    set_or_die(req, keys[0], items);
    set_or_die(req, keys[1], mw_int(1000000 + seq));
    snprintf(buf, sizeof buf, "req-%ld", seq);
    set_or_die(req, keys[2], str_or_die(buf));
    set_or_die(meta, keys[3], mw_int(0));
    set_or_die(meta, keys[4], mw_int(seq));
    mw_incref(meta);
    set_or_die(req, keys[3], meta);
    snprintf(buf, sizeof buf, "x%ld", seq);
    if (mw_list_append(items, meta) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_object *x = str_or_die(buf);
    if (mw_list_append(items, x) != 0) {
        die_with_mw_error("mw_list_append");
    }
    mw_decref(x);
    mw_decref(meta);
    mw_decref(items);
    mw_decref(req);
}

/* The buffer written at random between building and collecting in the
 * cold case: more than the last-level cache and than the TLB reaches, so
 * the requests' objects are evicted, as in a service whose requests
 * arrive over tens of ms while it touches a large state in between
 * (bench/sched).  At random: a sequential sweep is prefetched, leaves the
 * TLB warm for the heap and evicted too little to matter. */
#define COLD_BYTES (64u << 20)
static unsigned char *cold_buf;

static void evict_caches(void)
{
    if (cold_buf == NULL) {
        cold_buf = malloc(COLD_BYTES);
        if (cold_buf == NULL) {
            die("out of memory for the cache-evicting buffer");
        }
        memset(cold_buf, 1, COLD_BYTES);
    }
    uint64_t x = 88172645463325252ull;   // xorshift64
    for (size_t i = 0; i < COLD_BYTES / 64; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        cold_buf[(x % (COLD_BYTES / 64)) * 64]++;
    }
}

static void run_ygarbage(int run, bool cold)
{
    static const char *names[5] = {"items", "id", "name", "meta", "seq"};
    mw_object *keys[5];
    int reps = cold ? opt.cold_reps : opt.young_reps;
    double us[reps];
    double lo = 0, hi = 0;
    long seq = 0;

    for (int k = 0; k < 5; k++) {
        keys[k] = str_or_die(names[k]);
    }
    for (int r = 0; r < reps; r++) {
        intptr_t found;
        uint64_t t0, t1;

        collect(0);
        for (int i = 0; i < YG_REQUESTS; i++) {
            make_request(seq++, keys);
        }
        if (cold) {
            evict_caches();
        }
        t0 = read_clock_ns();
        found = collect(0);
        t1 = read_clock_ns();
        if (found != 2 * YG_REQUESTS) {
            wrong("a young collection of %d dropped requests found %" PRIdPTR
                  " unreachable containers, not %d", YG_REQUESTS, found, 2 * YG_REQUESTS);
        }
        us[r] = (double)(t1 - t0) / 1e3;
        lo = r == 0 || us[r] < lo ? us[r] : lo;
        hi = r == 0 || us[r] > hi ? us[r] : hi;
    }
    for (int k = 0; k < 5; k++) {
        mw_decref(keys[k]);
    }
    ygarbage_results[cold][run] = bench_median(us, reps);
    printf("run=%d impl=mwrt case=%s n=%d reps=%d median_us=%.2f min_us=%.2f "
           "max_us=%.2f\n",
           run + 1, cold ? "ygcold" : "ygarbage", 3 * YG_REQUESTS, reps,
           ygarbage_results[cold][run], lo, hi);
    fflush(stdout);
}

/* ----------------------------------------------------------------------
 * Options, summary, main
 * ---------------------------------------------------------------------- */

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Times full collections of a live and a garbage ring of n lists, and young\n"
            "collections after 700 fresh containers.\n"
            "  --sizes LIST       comma-separated ring sizes (default 10000,100000,1000000)\n"
            "  --runs N           runs; a table of medians ends the output (default 5)\n"
            "  --young-reps N     young collections per run (default 1000)\n"
            "  --young-n N        containers created before each (default 700)\n"
            "  --cold-reps N      young collections with cold caches per run (default 200)\n"
            "  --no-ring          skip the ring collections\n"
            "  --no-young         skip the young collections\n",
            argv0);
}

/* A number from lo to hi, or -1. */
static long long parse_number(const char *s, long long lo, long long hi)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    return v;
}

static int parse_sizes(const char *s)
{
    char buf[256];
    char *save = NULL;

    if (strlen(s) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, s);
    opt.nsizes = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        long long n = parse_number(tok, 1, 100000000);

        if (n < 0 || opt.nsizes == MAX_SIZES) {
            return -1;
        }
        opt.sizes[opt.nsizes++] = n;
    }
    return opt.nsizes > 0 ? 0 : -1;
}

static int parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout, argv[0]);
            exit(0);
        }
        if (strcmp(a, "--no-ring") == 0) {
            opt.ring = false;
            continue;
        }
        if (strcmp(a, "--no-young") == 0) {
            opt.young = false;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], a);
            return -1;
        }
        i++;
        if (strcmp(a, "--sizes") == 0) {
            if (parse_sizes(v) != 0) {
                fprintf(stderr, "%s: --sizes takes up to %d numbers from 1 to 1e8\n", argv[0],
                        MAX_SIZES);
                return -1;
            }
        } else if (strcmp(a, "--runs") == 0) {
            if ((n = parse_number(v, 1, MAX_RUNS)) < 0) {
                fprintf(stderr, "%s: --runs needs a number from 1 to %d\n", argv[0], MAX_RUNS);
                return -1;
            }
            opt.runs = (int)n;
        } else if (strcmp(a, "--young-reps") == 0) {
            if ((n = parse_number(v, 1, 100000)) < 0) {
                fprintf(stderr, "%s: --young-reps needs a number from 1 to 100000\n", argv[0]);
                return -1;
            }
            opt.young_reps = (int)n;
        } else if (strcmp(a, "--cold-reps") == 0) {
            if ((n = parse_number(v, 1, 100000)) < 0) {
                fprintf(stderr, "%s: --cold-reps needs a number from 1 to 100000\n", argv[0]);
                return -1;
            }
            opt.cold_reps = (int)n;
        } else if (strcmp(a, "--young-n") == 0) {
            if ((n = parse_number(v, 1, 1000000)) < 0) {
                fprintf(stderr, "%s: --young-n needs a number from 1 to 1000000\n", argv[0]);
                return -1;
            }
            opt.young_n = (int)n;
        } else {
            fprintf(stderr, "%s: unknown option: %s\n", argv[0], a);
            return -1;
        }
    }
    return 0;
}

static void print_summary(void)
{
    printf("\n| case | n | mwrt (median of %d) |\n", opt.runs);
    printf("|---|---:|---:|\n");
    if (opt.ring) {
        for (int s = 0; s < opt.nsizes; s++) {
            printf("| full collection, live | %" PRId64 " | %.2f ns/object |\n", opt.sizes[s],
                   bench_median(ring_results[s][0], opt.runs));
            printf("| full collection, garbage | %" PRId64 " | %.2f ns/object |\n",
                   opt.sizes[s], bench_median(ring_results[s][1], opt.runs));
        }
    }
    if (opt.young) {
        printf("| young collection | %d | %.2f µs |\n", opt.young_n,
               bench_median(young_results, opt.runs));
        printf("| young collection, request garbage | %d | %.2f µs |\n", 3 * YG_REQUESTS,
               bench_median(ygarbage_results[0], opt.runs));
        printf("| young collection, request garbage, cold caches | %d | %.2f µs |\n",
               3 * YG_REQUESTS, bench_median(ygarbage_results[1], opt.runs));
    }
    printf("\nmwrt %s, automatic collection off (mw_gc_disable)\n", mw_version());
}

int main(int argc, char **argv)
{
    mw_runtime *rt;
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
    mw_gc_disable();
    if (mw_gc_isenabled()) {
        die("mw_gc_disable left automatic collection on");
    }

    for (int run = 0; run < opt.runs; run++) {
        if (opt.ring) {
            for (int s = 0; s < opt.nsizes; s++) {
                run_ring(s, run);
            }
        }
        if (opt.young) {
            run_young(run);
            run_ygarbage(run, false);
            run_ygarbage(run, true);
        }
    }
    print_summary();

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
