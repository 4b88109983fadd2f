/*
 * bench_service.c - mwrt-bench-service: a synthetic network service, to
 * measure what the collector's scheduling does to request latency.
 *
 * What it models: a service holding a large long-lived state (a dict of
 * --keys entries, 11 objects each, so 1.1M objects at the default 100k
 * keys), served by --threads worker threads (default 2), each receiving
 * requests at a fixed rate (--rate per worker per second, default 5000).
 * Every request allocates a small object graph with a cycle in it, reads
 * and updates a few entries of the shared state, and drops its graph,
 * leaving the cycle for the collector.  service.py beside this file does
 * the same in CPython with Python threads; run.sh runs both, interleaved.
 *
 * Technique: an open-loop load, corrected for coordinated omission.
 * Worker w's i-th request is due at t0 + (i + w / threads) * interval; its
 * latency is measured from that due time to the end of its service, so a
 * pause that delays a request also counts against every request queued
 * behind it (a closed loop would wait and never see them).  Between
 * requests a worker that is early sleeps until the next due time inside
 * mw_idle_begin() ... mw_idle_end(): it holds no object there, counts as
 * stopped, and tells the master thread it is idle (under MW_GC_PAUSED the
 * master collects then).  A worker that is late goes straight on, through
 * mw_safepoint().  Latencies go into a per-worker log-linear histogram
 * (mwrt/hist.h, under 0.4% error, the same kind the runtime keeps its
 * pauses in) merged at the end; the collector's own figures come from
 * mw_gc_get_stats.
 *
 * The request, in Python terms (service.py is this, literally):
 *
 *     req = {}; items = [req]; req["items"] = items      # the cycle
 *     req["id"] = 1000000 + seq; req["name"] = "req-%d" % seq
 *     meta = {"worker": w, "seq": seq}; req["meta"] = meta
 *     items.append(meta); items.append("x%d" % seq)
 *     keys = ["k%d" % rand(keys) for _ in range(4)]
 *     with state_lock:                                     # free mode only
 *         v = state[keys[0]]; v["n"] = v["n"] + 1; v["last"] = req["id"]
 *         for k in keys[1:]: v = state[k]; sink += v["n"] + len(v["tags"])
 *     del req, items, meta                                 # garbage cycle
 *
 * and one state entry is
 *
 *     state["k%d" % i] = {"name": "user-%d" % i, "n": 0,
 *                         "tags": [i * 7 + 1000, "t%d" % i, i * 3 + 1000, "u%d" % i],
 *                         "pos": (i + 1000, "p%d" % i)}
 *
 * Lock modes: under MW_LOCK_GIL only the GIL's holder runs object code and
 * no request gives the GIL up half-way (it calls no safepoint), so the
 * state needs no lock of its own, as in CPython.  Under MW_LOCK_FREE
 * containers are not locked internally, so the state is guarded by one
 * pthread mutex.  A worker that must wait for that mutex waits inside
 * mw_blocking_begin/end: otherwise a stop-the-world request could find it
 * blocked on a mutex held by a worker already parked at a safepoint, and
 * neither would ever move (the reason CPython 3.13's PyMutex detaches the
 * thread state while it waits).
 *
 * Phases: the main thread attaches, builds the state with automatic
 * collection held off (as a service loads its data before it serves),
 * collects once so that the state sits in the oldest generation, resets
 * the collector's statistics, and detaches, so that it neither holds the
 * GIL nor has to be stopped.  The workers attach, wait for each other,
 * serve --requests requests each (default rate * --duration), and detach.
 * The main thread attaches again, reads the statistics, checks the state
 * (every update counted once: the sum of the "n" fields equals the number
 * of updates), drops it and reports.  Latencies of requests due in the
 * first --warmup seconds are not recorded; the collector's statistics
 * cover the whole serving phase.
 *
 * Output: a few human lines, then one machine-readable line for run.sh:
 *   result impl=mwrt lock=gil gc=paused ... lat_p999_us=... checksum=ok
 * Exit status 0 if the run completed and the checksum holds, 1 otherwise.
 * Timings are reported, never judged.
 *
 * The runtime is made with mw_config_default, changed only by --lock,
 * --gc, --memory-limit and --thresholds (the seed's tuning knob: lower
 * thresholds, shorter and more frequent young collections).
 *
 * Noise: each worker reads its time spent runnable but not running
 * (/proc/thread-self/schedstat) at the start and end of serving, and the
 * report carries it (runq_ms), so that a tail made by the machine's other
 * work is told from one made by the collector.
 *
 * Not handled: more than 64 workers; requests arriving in bursts (the
 * arrivals are evenly spaced, not Poisson); a saturated machine is reported
 * (busy_pct, late_pct, runq_ms), not prevented.
 */
#define _GNU_SOURCE
#include <mwrt/mwrt.h>

#include "../bench_util.h"

#include <mwrt/hist.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_WORKERS 64
#define STATE_READS 3 /* entries read per request, besides the one updated */

/* ----------------------------------------------------------------------
 * Options
 * ---------------------------------------------------------------------- */

typedef struct {
    mw_lock_mode lock;
    mw_gc_policy policy;
    int threads;
    double rate;        /* requests per second per worker */
    double duration;    /* seconds, when requests is 0 */
    long requests;      /* per worker; 0: rate * duration */
    long keys;
    double warmup;      /* seconds not recorded */
    size_t memory_limit;
    bool freeze;
    uint64_t seed;
    int threshold[3];   /* -1: the runtime's default */
} options;

static options opt = {
    .lock = MW_LOCK_GIL,
    .policy = MW_GC_STW,
    .threads = 2,
    .rate = 5000,
    .duration = 5,
    .requests = 0,
    .keys = 100000,
    .warmup = 0.5,
    .memory_limit = 0,
    .freeze = false,
    .seed = 1,
    .threshold = {-1, -1, -1},
};

static const char *const policy_names[] = {"stw", "paused", "off"};
static const char *const lock_names[] = {"gil", "free"};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mwrt-bench-service [options]\n"
            "  --lock gil|free        reference counting mode (default gil)\n"
            "  --gc stw|paused|off    collection policy (default stw)\n"
            "  --threads N            worker threads (default 2, at most %d)\n"
            "  --rate R               requests per second per worker (default 5000)\n"
            "  --duration S           seconds of requests (default 5)\n"
            "  --requests N           requests per worker (overrides --duration)\n"
            "  --keys N               entries in the long-lived state, 11 objects each\n"
            "                         (default 100000)\n"
            "  --warmup S             seconds of requests not recorded (default 0.5)\n"
            "  --memory-limit MIB     the runtime's memory limit (default 0: none)\n"
            "  --freeze               mw_gc_freeze the state after building it\n"
            "  --thresholds A,B,C     collection thresholds (default: the runtime's,\n"
            "                         700,10,10)\n"
            "  --seed N               random seed (default 1)\n",
            MAX_WORKERS);
}

static double parse_double(const char *name, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
        die("%s: '%s' is not a number in [%g, %g]", name, s, lo, hi);
    }
    return v;
}

static long parse_long(const char *name, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        die("%s: '%s' is not an integer in [%ld, %ld]", name, s, lo, hi);
    }
    return v;
}

/* "A,B,C" into opt.threshold, each 0..1000000. */
static void parse_thresholds(const char *s)
{
    char buf[64];
    if (strlen(s) >= sizeof buf) {
        die("--thresholds: '%s' is too long", s);
    }
    strcpy(buf, s);
    char *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        if (n == 3) {
            die("--thresholds: '%s' has more than three values", s);
        }
        opt.threshold[n++] = (int)parse_long("--thresholds", tok, 0, 1000000);
    }
    if (n != 3) {
        die("--thresholds: '%s' is not A,B,C", s);
    }
}

static void parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--freeze") == 0) {
            opt.freeze = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            die("%s: missing value (or unknown option)", a);
        }
        const char *v = argv[++i];
        if (strcmp(a, "--lock") == 0) {
            if (strcmp(v, "gil") == 0) {
                opt.lock = MW_LOCK_GIL;
            } else if (strcmp(v, "free") == 0) {
                opt.lock = MW_LOCK_FREE;
            } else {
                die("--lock: '%s' is not gil or free", v);
            }
        } else if (strcmp(a, "--gc") == 0) {
            if (strcmp(v, "stw") == 0) {
                opt.policy = MW_GC_STW;
            } else if (strcmp(v, "paused") == 0) {
                opt.policy = MW_GC_PAUSED;
            } else if (strcmp(v, "off") == 0) {
                opt.policy = MW_GC_OFF;
            } else {
                die("--gc: '%s' is not stw, paused or off", v);
            }
        } else if (strcmp(a, "--threads") == 0) {
            opt.threads = (int)parse_long(a, v, 1, MAX_WORKERS);
        } else if (strcmp(a, "--rate") == 0) {
            opt.rate = parse_double(a, v, 1, 1e7);
        } else if (strcmp(a, "--duration") == 0) {
            opt.duration = parse_double(a, v, 0.001, 86400);
        } else if (strcmp(a, "--requests") == 0) {
            opt.requests = parse_long(a, v, 1, LONG_MAX / 2);
        } else if (strcmp(a, "--keys") == 0) {
            opt.keys = parse_long(a, v, 1, 100000000);
        } else if (strcmp(a, "--warmup") == 0) {
            opt.warmup = parse_double(a, v, 0, 86400);
        } else if (strcmp(a, "--memory-limit") == 0) {
            opt.memory_limit = (size_t)parse_long(a, v, 0, 1L << 40) << 20;
        } else if (strcmp(a, "--thresholds") == 0) {
            parse_thresholds(v);
        } else if (strcmp(a, "--seed") == 0) {
            opt.seed = (uint64_t)parse_long(a, v, 0, LONG_MAX);
        } else {
            usage(stderr);
            die("unknown option '%s'", a);
        }
    }
    if (opt.requests == 0) {
        double n = opt.rate * opt.duration;
        opt.requests = n < 1 ? 1 : (long)n;
    }
}

/* ----------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */

/* o, or give up with the thread's error if it is NULL. */
static mw_object *check_obj(mw_object *o, const char *what)
{
    if (o == NULL) {
        die_with_mw_error(what);
    }
    return o;
}

static void check_status(int rc, const char *what)
{
    if (rc != 0) {
        die_with_mw_error(what);
    }
}

/* d[key] = value, stealing our reference to value. */
static void dict_set_steal(mw_object *d, mw_object *key, mw_object *value, const char *what)
{
    check_obj(value, what);
    check_status(mw_dict_set(d, key, value), "mw_dict_set");
    mw_decref(value);
}

static void list_append_steal(mw_object *l, mw_object *value, const char *what)
{
    check_obj(value, what);
    check_status(mw_list_append(l, value), "mw_list_append");
    mw_decref(value);
}

/* A str made printf-style (short strings only). */
__attribute__((format(printf, 1, 2))) static mw_object *str_printf(const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        die("str_printf: '%s' does not fit in %zu bytes", fmt, sizeof buf);
    }
    return check_obj(mw_str_n(buf, (size_t)n), "mw_str_n");
}

/* xorshift64*: fast, and good enough to pick keys. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* How long the calling thread has waited on a run queue, runnable but not
 * running, in ns (the second field of /proc/thread-self/schedstat), or -1
 * where that is not available.  The benchmark reports it so that a reader
 * can tell a pause of the collector from the machine's other work. */
static int64_t runqueue_wait_ns(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    if (f == NULL) {
        return -1;
    }
    unsigned long long run, wait;
    int n = fscanf(f, "%llu %llu", &run, &wait);
    fclose(f);
    return n == 2 ? (int64_t)wait : -1;
}

/* Sleep until the monotonic clock reads due_ns. */
static void sleep_until(uint64_t due_ns)
{
    struct timespec ts = {
        .tv_sec = (time_t)(due_ns / 1000000000u),
        .tv_nsec = (long)(due_ns % 1000000000u),
    };
    int rc;
    while ((rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR) {
    }
    if (rc != 0) {
        die("clock_nanosleep: %s", strerror(rc));
    }
}

/* ----------------------------------------------------------------------
 * The long-lived state
 * ---------------------------------------------------------------------- */

/* Field names, interned once (immortal, as CPython's code constants). */
static mw_object *k_items, *k_id, *k_name, *k_meta, *k_worker, *k_seq;
static mw_object *k_n, *k_last, *k_tags, *k_pos;

static mw_object *state;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

static void intern_names(void)
{
    struct {
        mw_object **slot;
        const char *s;
    } names[] = {
        {&k_items, "items"}, {&k_id, "id"},     {&k_name, "name"}, {&k_meta, "meta"},
        {&k_worker, "worker"}, {&k_seq, "seq"}, {&k_n, "n"},       {&k_last, "last"},
        {&k_tags, "tags"},   {&k_pos, "pos"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].slot = check_obj(mw_str_intern(names[i].s), "mw_str_intern");
    }
}

/* One state entry (11 objects with its key; "n": 0 is a shared small int). */
static mw_object *make_entry(long i)
{
    mw_object *v = check_obj(mw_dict_new(), "mw_dict_new");
    dict_set_steal(v, k_name, str_printf("user-%ld", i), "name");
    dict_set_steal(v, k_n, mw_int(0), "mw_int");
    mw_object *tags = check_obj(mw_list_new(), "mw_list_new");
    list_append_steal(tags, mw_int(i * 7 + 1000), "mw_int");
    list_append_steal(tags, str_printf("t%ld", i), "tag");
    list_append_steal(tags, mw_int(i * 3 + 1000), "mw_int");
    list_append_steal(tags, str_printf("u%ld", i), "tag");
    dict_set_steal(v, k_tags, tags, "tags");
    mw_object *pos[2] = {check_obj(mw_int(i + 1000), "mw_int"), str_printf("p%ld", i)};
    mw_object *tup = mw_tuple_new(2, pos);
    mw_decref(pos[0]);
    mw_decref(pos[1]);
    dict_set_steal(v, k_pos, tup, "mw_tuple_new");
    return v;
}

static void build_state(void)
{
    state = check_obj(mw_dict_new(), "mw_dict_new");
    for (long i = 0; i < opt.keys; i++) {
        mw_object *key = str_printf("k%ld", i);
        dict_set_steal(state, key, make_entry(i), "entry");
        mw_decref(key);
    }
}

/* The sum of every entry's "n" (the number of updates it has seen); -1 if
 * an entry is damaged. */
static int64_t state_checksum(void)
{
    int64_t sum = 0;
    size_t len = mw_dict_len(state);
    if (len != (size_t)opt.keys) {
        fprintf(stderr, "state has %zu entries, not %ld\n", len, opt.keys);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        mw_object *key, *v;
        check_status(mw_dict_item(state, i, &key, &v), "mw_dict_item");
        mw_object *n = mw_dict_get(v, k_n);
        mw_object *tags = mw_dict_get(v, k_tags);
        bool ok = n != NULL && tags != NULL && mw_list_len(tags) == 4;
        if (ok) {
            sum += mw_int_value(n);
        }
        mw_decref(n);
        mw_decref(tags);
        mw_decref(key);
        mw_decref(v);
        if (!ok) {
            fprintf(stderr, "state entry %zu is damaged\n", i);
            return -1;
        }
    }
    return sum;
}

/* ----------------------------------------------------------------------
 * Serving
 * ---------------------------------------------------------------------- */

typedef struct {
    int id;
    pthread_t thread;
    mw_hist hist;         /* latency of recorded requests, ns */
    uint64_t busy_ns;     /* time spent serving */
    long late;            /* requests that started after their due time */
    long updates;         /* state entries updated */
    int64_t sink;         /* what the reads add up to (kept, never judged) */
    int64_t runq_ns;      /* time spent runnable but not running (-1: unknown) */
    uint64_t rng;
} worker;

static worker workers[MAX_WORKERS];
static mw_runtime *runtime;
static pthread_barrier_t start_barrier;
static uint64_t t0_ns;            /* written before the barrier, read after */
static double interval_ns;
static uint64_t warmup_end_ns;

/* Take the state's lock (free mode), waiting as a stopped thread if it is
 * held, so that a stop-the-world request never waits for us. */
static void lock_state(void)
{
    if (opt.lock != MW_LOCK_FREE) {
        return;
    }
    int rc = pthread_mutex_trylock(&state_lock);
    if (rc == EBUSY) {
        mw_blocking_begin();
        rc = pthread_mutex_lock(&state_lock);
        mw_blocking_end();
    }
    if (rc != 0) {
        die("pthread_mutex_lock: %s", strerror(rc));
    }
}

static void unlock_state(void)
{
    if (opt.lock != MW_LOCK_FREE) {
        return;
    }
    int rc = pthread_mutex_unlock(&state_lock);
    if (rc != 0) {
        die("pthread_mutex_unlock: %s", strerror(rc));
    }
}

/* The state's entry for key (a new reference). */
static mw_object *state_get(mw_object *key)
{
    return check_obj(mw_dict_get(state, key), "mw_dict_get (state)");
}

/* Read and update the state: one entry updated, STATE_READS read. */
static void touch_state(worker *w, mw_object *req_id)
{
    mw_object *keys[1 + STATE_READS];
    for (int j = 0; j < 1 + STATE_READS; j++) {
        keys[j] = str_printf("k%ld", (long)(next_random(&w->rng) % (uint64_t)opt.keys));
    }
    lock_state();
    mw_object *v = state_get(keys[0]);
    mw_object *n = check_obj(mw_dict_get(v, k_n), "mw_dict_get (n)");
    dict_set_steal(v, k_n, mw_int(mw_int_value(n) + 1), "mw_int");
    check_status(mw_dict_set(v, k_last, req_id), "mw_dict_set (last)");
    mw_decref(n);
    mw_decref(v);
    for (int j = 1; j < 1 + STATE_READS; j++) {
        v = state_get(keys[j]);
        n = check_obj(mw_dict_get(v, k_n), "mw_dict_get (n)");
        mw_object *tags = check_obj(mw_dict_get(v, k_tags), "mw_dict_get (tags)");
        w->sink += mw_int_value(n) + (int64_t)mw_list_len(tags);
        mw_decref(tags);
        mw_decref(n);
        mw_decref(v);
    }
    unlock_state();
    w->updates++;
    for (int j = 0; j < 1 + STATE_READS; j++) {
        mw_decref(keys[j]);
    }
}

/* One request: build a graph with a cycle, use the state, drop the graph. */
static void serve(worker *w, long seq)
{
    mw_object *req = check_obj(mw_dict_new(), "mw_dict_new");
    mw_object *items = check_obj(mw_list_new(), "mw_list_new");
    check_status(mw_list_append(items, req), "mw_list_append");
    check_status(mw_dict_set(req, k_items, items), "mw_dict_set");
    mw_object *id = check_obj(mw_int(1000000 + seq), "mw_int");
    check_status(mw_dict_set(req, k_id, id), "mw_dict_set");
    dict_set_steal(req, k_name, str_printf("req-%ld", seq), "name");
    mw_object *meta = check_obj(mw_dict_new(), "mw_dict_new");
    dict_set_steal(meta, k_worker, mw_int(w->id), "mw_int");
    dict_set_steal(meta, k_seq, mw_int(seq), "mw_int");
    check_status(mw_dict_set(req, k_meta, meta), "mw_dict_set");
    check_status(mw_list_append(items, meta), "mw_list_append");
    list_append_steal(items, str_printf("x%ld", seq), "item");
    touch_state(w, id);
    mw_decref(id);
    mw_decref(meta);
    mw_decref(items);
    mw_decref(req); // req <-> items stay alive: garbage for the collector
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    int rc = mw_thread_attach(runtime);
    if (rc != 0) {
        die("worker %d: mw_thread_attach: %s", w->id, mw_strerror(rc));
    }
    // The kernel's default timer slack (50 us) would add up to that much to
    // every wake-up, and so to every latency measured; 1 ns asks for none.
    if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) != 0) {
        die("prctl(PR_SET_TIMERSLACK): %s", strerror(errno));
    }
    mw_blocking_begin(); // waiting at the barrier holds no object
    rc = pthread_barrier_wait(&start_barrier);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        die("pthread_barrier_wait: %s", strerror(rc));
    }
    mw_blocking_end();
    int64_t runq_start = runqueue_wait_ns();
    double offset = interval_ns * w->id / opt.threads;
    for (long i = 0; i < opt.requests; i++) {
        uint64_t due = t0_ns + (uint64_t)(offset + interval_ns * (double)i);
        if (read_clock_ns() < due) {
            mw_idle_begin();
            sleep_until(due);
            mw_idle_end();
        } else {
            w->late++;
            mw_safepoint();
        }
        uint64_t start = read_clock_ns();
        serve(w, i);
        uint64_t end = read_clock_ns();
        w->busy_ns += end - start;
        if (due >= warmup_end_ns) {
            mw_hist_record(&w->hist, end - due);
        }
    }
    int64_t runq_end = runqueue_wait_ns();
    w->runq_ns = runq_start < 0 || runq_end < 0 ? -1 : runq_end - runq_start;
    rc = mw_thread_detach();
    if (rc != 0) {
        die("worker %d: mw_thread_detach: %s", w->id, mw_strerror(rc));
    }
    return NULL;
}

/* ----------------------------------------------------------------------
 * Reporting
 * ---------------------------------------------------------------------- */

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void print_percentiles(const char *prefix, const mw_gc_percentiles *p)
{
    printf(" %s_n=%" PRIu64 " %s_p50_us=%.1f %s_p99_us=%.1f %s_p999_us=%.1f %s_max_us=%.1f",
           prefix, p->count, prefix, us(p->p50), prefix, us(p->p99), prefix, us(p->p999), prefix,
           us(p->max));
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return -1;
    }
    return (double)ru.ru_maxrss / 1024.0; // ru_maxrss is in KiB on Linux
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        return -1;
    }
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void report(const mw_gc_stats *st, const mw_hist *lat, double build_s, double serve_s,
                   double cpu_s, bool checksum_ok)
{
    long total = opt.requests * opt.threads;
    uint64_t busy = 0;
    long late = 0;
    int64_t runq = 0;
    for (int i = 0; i < opt.threads; i++) {
        busy += workers[i].busy_ns;
        late += workers[i].late;
        runq = runq < 0 || workers[i].runq_ns < 0 ? -1 : runq + workers[i].runq_ns;
    }
    double runq_ms = runq < 0 ? -1 : (double)runq / 1e6 / opt.threads;
    double busy_pct = 100.0 * (double)busy / 1e9 / serve_s / opt.threads;

    printf("mwrt service: lock=%s gc=%s, %d workers x %.0f req/s, %ld requests each, "
           "state %ld keys (%ld objects), built in %.2f s\n",
           lock_names[opt.lock], policy_names[opt.policy], opt.threads, opt.rate, opt.requests,
           opt.keys, opt.keys * 11, build_s);
    printf("latency (us, from due time, %" PRIu64 " recorded): p50 %.1f p99 %.1f p99.9 %.1f "
           "max %.1f\n",
           lat->count, us(mw_hist_quantile(lat, 0.5)), us(mw_hist_quantile(lat, 0.99)),
           us(mw_hist_quantile(lat, 0.999)), us(lat->max));
    printf("collections gen0/1/2: %" PRIu64 "/%" PRIu64 "/%" PRIu64 " (stw %" PRIu64
           ", idle %" PRIu64 ", memory %" PRIu64 "); pause p99 %.1f us, young pause p99 %.1f us, "
           "time-to-safepoint p99 %.1f us\n",
           st->gen[0].collections, st->gen[1].collections, st->gen[2].collections,
           st->stw_collections, st->idle_collections, st->memory_collections, us(st->pause_ns.p99),
           us(st->gen[0].pause_ns.p99), us(st->safepoint_ns.p99));
    printf("serving %.2f s, workers busy %.1f%%, late starts %.2f%%, waiting for a CPU %.1f ms "
           "per worker, process CPU %.2f s, peak RSS %.1f MiB, checksum %s\n",
           serve_s, busy_pct, 100.0 * (double)late / (double)total, runq_ms, cpu_s,
           peak_rss_mib(), checksum_ok ? "ok" : "MISMATCH");

    printf("result impl=mwrt lock=%s gc=%s threads=%d rate=%.0f requests=%ld keys=%ld "
           "build_s=%.3f serve_s=%.3f",
           lock_names[opt.lock], policy_names[opt.policy], opt.threads, opt.rate, opt.requests,
           opt.keys, build_s, serve_s);
    printf(" lat_n=%" PRIu64 " lat_p50_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f",
           lat->count, us(mw_hist_quantile(lat, 0.5)), us(mw_hist_quantile(lat, 0.99)),
           us(mw_hist_quantile(lat, 0.999)), us(lat->max));
    printf(" busy_pct=%.1f late_pct=%.2f runq_ms=%.1f cpu_s=%.2f", busy_pct,
           100.0 * (double)late / (double)total, runq_ms, cpu_s);
    printf(" gc0=%" PRIu64 " gc1=%" PRIu64 " gc2=%" PRIu64 " stw=%" PRIu64 " idle=%" PRIu64
           " memory=%" PRIu64 " explicit=%" PRIu64,
           st->gen[0].collections, st->gen[1].collections, st->gen[2].collections,
           st->stw_collections, st->idle_collections, st->memory_collections,
           st->explicit_collections);
    print_percentiles("pause", &st->pause_ns);
    print_percentiles("young", &st->gen[0].pause_ns);
    print_percentiles("tts", &st->safepoint_ns);
    printf(" rss_mib=%.1f checksum=%s\n", peak_rss_mib(), checksum_ok ? "ok" : "MISMATCH");
}

/* ----------------------------------------------------------------------
 * main: build, serve, check, report
 * ---------------------------------------------------------------------- */

static void attach_or_die(mw_runtime *rt)
{
    int rc = mw_thread_attach(rt);
    if (rc != 0) {
        die("mw_thread_attach: %s", mw_strerror(rc));
    }
}

static void detach_or_die(void)
{
    int rc = mw_thread_detach();
    if (rc != 0) {
        die("mw_thread_detach: %s", mw_strerror(rc));
    }
}

/* Build the state with automatic collection held off, then one full
 * collection so that it sits in the oldest generation.  Returns seconds. */
static double load_state(void)
{
    uint64_t start = read_clock_ns();
    bool was_enabled = mw_gc_isenabled();
    mw_gc_disable();
    intern_names();
    build_state();
    if (was_enabled) {
        mw_gc_enable();
    }
    if (mw_gc_collect(2) < 0) {
        die_with_mw_error("mw_gc_collect");
    }
    if (opt.freeze) {
        mw_gc_freeze();
    }
    mw_gc_reset_stats();
    return (double)(read_clock_ns() - start) / 1e9;
}

/* Start the workers, wait for them; returns the serving time in seconds. */
static double run_workers(void)
{
    interval_ns = 1e9 / opt.rate;
    int rc = pthread_barrier_init(&start_barrier, NULL, (unsigned)opt.threads + 1);
    if (rc != 0) {
        die("pthread_barrier_init: %s", strerror(rc));
    }
    for (int i = 0; i < opt.threads; i++) {
        workers[i].id = i;
        workers[i].rng = opt.seed * 0x9e3779b97f4a7c15ull + (uint64_t)i * 0x2545f4914f6cdd1dull + 1;
        mw_hist_reset(&workers[i].hist);
        rc = pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
        if (rc != 0) {
            die("pthread_create: %s", strerror(rc));
        }
    }
    // Every worker is attached when it reaches the barrier; the first
    // request is due 10 ms after it opens.
    t0_ns = read_clock_ns() + 10000000u;
    warmup_end_ns = t0_ns + (uint64_t)(opt.warmup * 1e9);
    rc = pthread_barrier_wait(&start_barrier);
    if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) {
        die("pthread_barrier_wait: %s", strerror(rc));
    }
    for (int i = 0; i < opt.threads; i++) {
        rc = pthread_join(workers[i].thread, NULL);
        if (rc != 0) {
            die("pthread_join: %s", strerror(rc));
        }
    }
    double s = (double)(read_clock_ns() - t0_ns) / 1e9;
    pthread_barrier_destroy(&start_barrier);
    return s;
}

int main(int argc, char **argv)
{
    parse_options(argc, argv);
    if (opt.warmup * opt.rate >= (double)opt.requests) {
        opt.warmup = 0; // a short run records everything rather than nothing
    }

    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = opt.lock;
    cfg.gc_policy = opt.policy;
    cfg.memory_limit = opt.memory_limit;
    if (opt.threshold[0] >= 0) {
        memcpy(cfg.threshold, opt.threshold, sizeof cfg.threshold);
    }
    mw_runtime *rt = mw_runtime_new(&cfg);
    runtime = rt;
    if (rt == NULL) {
        die_with_mw_error("mw_runtime_new");
    }
    attach_or_die(rt);
    double build_s = load_state();
    detach_or_die();

    double cpu_before = cpu_seconds();
    double serve_s = run_workers();
    double cpu_s = cpu_seconds() - cpu_before;

    attach_or_die(rt);
    mw_gc_stats st;
    check_status(mw_gc_get_stats(&st), "mw_gc_get_stats");
    long updates = 0;
    static mw_hist lat; // 38 KiB: not on the stack
    mw_hist_reset(&lat);
    for (int i = 0; i < opt.threads; i++) {
        updates += workers[i].updates;
        mw_hist_merge(&lat, &workers[i].hist);
    }
    int64_t sum = state_checksum();
    bool ok = sum == (int64_t)updates;
    if (!ok) {
        fprintf(stderr, "checksum: the state counts %" PRId64 " updates, the workers made %ld\n",
                sum, updates);
    }
    report(&st, &lat, build_s, serve_s, cpu_s, ok);
    fflush(stdout);

    mw_decref(state);
    state = NULL;
    mw_gc_collect(2); // the requests' last cycles; the result is not needed
    detach_or_die();
    int rc = mw_runtime_free(rt);
    if (rc != 0) {
        fprintf(stderr, "mw_runtime_free: %s\n", mw_strerror(rc));
        return 1;
    }
    return ok ? 0 : 1;
}
