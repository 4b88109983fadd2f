/*
 * bench_refcount.c - mwrt-bench-refcount: the cost of reference counting.
 *
 * What it measures: nanoseconds per mw_incref + mw_decref pair on one
 * ordinary (not immortal) object - mw_int(1000000) by default, or an empty
 * list with --object list - in each lock mode and thread arrangement, and
 * the same loop on a plain C11 atomic counter as a baseline:
 *
 *   a   GIL mode, one thread (the owner)
 *   b   free mode, the owner thread (biased count: no atomics expected)
 *   c   free mode, one other attached thread (the object was made by the
 *       main thread, so this thread counts in the atomic shared count)
 *   d1  atomic_fetch_add/atomic_fetch_sub, seq_cst, one thread
 *   d2  the same, memory_order_relaxed
 *   e1  free mode, two non-owner threads counting the same object at once
 *   e2  free mode, the owner and one non-owner counting it at once
 *   f   GIL mode, two threads counting it; each calls mw_safepoint every
 *       --safepoint-every pairs, so they take turns holding the GIL
 *   g   a seq_cst atomic counter hammered by two threads at once
 *
 * How: each loop is `for (i = 0; i < n; i++) { inc(o); dec(o); }`.  The mw
 * calls are out-of-line functions of the static library, so the compiler
 * cannot drop them; the atomic baseline calls two noinline functions doing
 * one atomic add/sub on a cache-line-aligned _Atomic counter, so it has the
 * same loop and call shape.  Time is CLOCK_MONOTONIC.  Each case is
 * measured --reps times (default 5) and the median is reported, with the
 * fastest and slowest measurement.
 *
 * Every thread that takes part waits at a barrier (inside mw_blocking_begin
 * / mw_blocking_end, so in GIL mode no thread waits there holding the GIL),
 * notes the time, counts, and notes the time again; the measurement's wall
 * time runs from the earliest start to the latest end.  ns/pair is that
 * wall time divided by ALL pairs done (threads x pairs per thread): for two
 * threads it is the cost of a pair to the whole program (throughput); the
 * per-thread column (wall time / pairs per thread) is the latency each
 * thread sees.  Thread start-up, attach and detach are not timed.
 *
 * Every measurement runs in a child process of its own (fork before any
 * thread or runtime exists), with a fresh runtime and object; a repetition
 * measures every case once, the first case rotating from one repetition to
 * the next, so that drifts in the machine's speed fall on all cases alike
 * (on a noisy VM, a and b measured minutes apart can differ by 20%).  A case
 * that crashes or hangs (SIGALRM after --timeout seconds) is reported in its
 * row and dropped from later repetitions while the others still run.  The
 * main thread is pinned to the first CPU the process may use and worker k
 * to the (k+1)-th, wrapping around (--no-pin turns that off); the table
 * notes the CPUs each case ran on.  The exit status is 1 if a case failed
 * (never because of a time), else 0.
 *
 * Checks that are not about time (reported, never fatal to the table):
 * mw_refcnt of the object must be back to 1 after every measurement; in case f,
 * a thread must never see the other one run during its turn (the GIL must
 * exclude), and the number of GIL hand-overs observed is printed.
 *
 * The design goal it reports on (without asserting): free-mode counting on
 * the owner thread (b) within 1.1x of GIL-mode counting (a).
 */
#define _GNU_SOURCE
#include <mwrt/mwrt.h>

#include "../bench_util.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 51
#define MAX_THREADS 2
#define CACHE_LINE 64

/* What a loop counts. */
typedef enum {
    OP_MW,              /* mw_incref / mw_decref on the object */
    OP_ATOMIC_SEQ,      /* atomic add/sub, seq_cst, on the baseline counter */
    OP_ATOMIC_RELAXED   /* the same, relaxed */
} op_kind;

/* Which iteration count a case uses. */
typedef enum {
    ITERS_SINGLE,       /* --iters */
    ITERS_CONTENDED,    /* --contended-iters (two threads, per thread) */
    ITERS_GIL2          /* --gil-iters (GIL, two threads, per thread) */
} iters_kind;

typedef struct {
    const char *id;
    const char *what;
    int lock;           /* -1: no runtime; else an mw_lock_mode */
    op_kind op;
    bool owner_counts;  /* the main thread (the object's owner) counts */
    int workers;        /* other attached threads that count */
    bool safepoints;    /* call mw_safepoint every --safepoint-every pairs */
    iters_kind iters;
} bench_case;

static const bench_case cases[] = {
    {"a", "GIL mode, one thread", MW_LOCK_GIL, OP_MW, true, 0, false, ITERS_SINGLE},
    {"b", "free mode, owner thread", MW_LOCK_FREE, OP_MW, true, 0, false, ITERS_SINGLE},
    {"c", "free mode, non-owner thread (shared count)", MW_LOCK_FREE, OP_MW, false, 1,
     false, ITERS_SINGLE},
    {"d1", "plain atomic add/sub, seq_cst, one thread", -1, OP_ATOMIC_SEQ, true, 0, false,
     ITERS_SINGLE},
    {"d2", "plain atomic add/sub, relaxed, one thread", -1, OP_ATOMIC_RELAXED, true, 0,
     false, ITERS_SINGLE},
    {"e1", "free mode, 2 non-owner threads, same object", MW_LOCK_FREE, OP_MW, false, 2,
     false, ITERS_CONTENDED},
    {"e2", "free mode, owner + 1 non-owner, same object", MW_LOCK_FREE, OP_MW, true, 1,
     false, ITERS_CONTENDED},
    {"f", "GIL mode, 2 threads taking turns (mw_safepoint)", MW_LOCK_GIL, OP_MW, false, 2,
     true, ITERS_GIL2},
    {"g", "plain atomic add/sub, seq_cst, 2 threads, same counter", -1, OP_ATOMIC_SEQ,
     false, 2, false, ITERS_CONTENDED},
};
#define NCASES (sizeof cases / sizeof cases[0])

typedef struct {
    uint64_t iters;
    uint64_t contended_iters;
    uint64_t gil_iters;
    uint64_t safepoint_every;
    int reps;
    unsigned timeout;
    bool pin;
    bool use_list;
    const char *only;   /* comma-separated case ids, or NULL for all */
} options;

static options opt = {
    .iters = 50000000,
    .contended_iters = 20000000,
    .gil_iters = 10000000,
    .safepoint_every = 1000,
    .reps = 5,
    .timeout = 300,
    .pin = true,
    .use_list = false,
    .only = NULL,
};

/* What a child sends back: one measurement of its case. */
typedef struct {
    int ok;                         /* 1 if the case ran to the end */
    double ns_pair;                 /* wall / all pairs */
    double ns_thread;               /* wall / pairs per thread */
    intptr_t refcnt_after;          /* mw_refcnt at the end; -1 if n/a */
    uint64_t handovers;             /* case f: GIL hand-overs seen */
    uint64_t overlaps;              /* case f: turns another thread broke into */
    int cpus[MAX_THREADS];          /* CPU each participant started on */
    int nparticipants;
} case_result;

/* The baseline counter, alone on its cache line. */
static struct {
    alignas(CACHE_LINE) _Atomic intptr_t value;
    char pad[CACHE_LINE - sizeof(intptr_t)];
} baseline;

/* The CPUs the process may use. */
static int cpu_list[CPU_SETSIZE];
static int cpu_count;

/* ----------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */



static double find_min(const double *v, int n)
{
    double m = v[0];

    for (int i = 1; i < n; i++) {
        if (v[i] < m) {
            m = v[i];
        }
    }
    return m;
}

static double find_max(const double *v, int n)
{
    double m = v[0];

    for (int i = 1; i < n; i++) {
        if (v[i] > m) {
            m = v[i];
        }
    }
    return m;
}

static void find_cpus(void)
{
    cpu_set_t set;

    cpu_count = 0;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return;
    }
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            cpu_list[cpu_count++] = c;
        }
    }
}

/* Pin the calling thread to the slot-th usable CPU (wrapping around). */
static void pin_self(int slot)
{
    cpu_set_t set;

    if (!opt.pin || cpu_count == 0) {
        return;
    }
    CPU_ZERO(&set);
    CPU_SET(cpu_list[slot % cpu_count], &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* ----------------------------------------------------------------------
 * The loops
 * ---------------------------------------------------------------------- */

__attribute__((noinline)) static void increment_baseline_seq(void)
{
    atomic_fetch_add_explicit(&baseline.value, 1, memory_order_seq_cst);
}

__attribute__((noinline)) static void decrement_baseline_seq(void)
{
    atomic_fetch_sub_explicit(&baseline.value, 1, memory_order_seq_cst);
}

__attribute__((noinline)) static void increment_baseline_relaxed(void)
{
    atomic_fetch_add_explicit(&baseline.value, 1, memory_order_relaxed);
}

__attribute__((noinline)) static void decrement_baseline_relaxed(void)
{
    atomic_fetch_sub_explicit(&baseline.value, 1, memory_order_relaxed);
}

static void count_mw(mw_object *o, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        mw_incref(o);
        mw_decref(o);
    }
}

static void count_atomic_seq(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        increment_baseline_seq();
        decrement_baseline_seq();
    }
}

static void count_atomic_relaxed(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        increment_baseline_relaxed();
        decrement_baseline_relaxed();
    }
}

/* ----------------------------------------------------------------------
 * One measurement: every participant runs run_participant
 * ---------------------------------------------------------------------- */

/* Shared by the participants of one case (in the child process). */
static const bench_case *cur_case;
static mw_runtime *cur_rt;
static mw_object *cur_obj;
static uint64_t cur_iters;
static pthread_barrier_t start_barrier;
static _Atomic int last_runner = -1;        /* case f: who ran the last turn */
static _Atomic uint64_t handovers_seen;
static _Atomic uint64_t overlaps_seen;

typedef struct {
    int index;          /* participant number */
    int slot;           /* CPU slot to pin to */
    bool attach;        /* a worker thread that attaches to the runtime */
    uint64_t t_start;
    uint64_t t_end;
    int cpu;
    int failed;
    pthread_t thread;
} participant;

/* Count n pairs in chunks, calling mw_safepoint between chunks, and watch
 * the GIL: nobody else may run while this thread has its turn. */
static void count_with_safepoints(int me, uint64_t n)
{
    uint64_t every = opt.safepoint_every;
    int prev = atomic_exchange_explicit(&last_runner, me, memory_order_relaxed);

    if (prev != -1 && prev != me) {
        atomic_fetch_add_explicit(&handovers_seen, 1, memory_order_relaxed);
    }
    for (uint64_t done = 0; done < n;) {
        uint64_t chunk = n - done < every ? n - done : every;

        count_mw(cur_obj, chunk);
        done += chunk;
        if (atomic_load_explicit(&last_runner, memory_order_relaxed) != me) {
            atomic_fetch_add_explicit(&overlaps_seen, 1, memory_order_relaxed);
        }
        mw_safepoint();
        prev = atomic_exchange_explicit(&last_runner, me, memory_order_relaxed);
        if (prev != me) {
            atomic_fetch_add_explicit(&handovers_seen, 1, memory_order_relaxed);
        }
    }
}

/* Wait for the others, then count; notes the start and end times.  An
 * attached thread waits inside mw_blocking_begin/end, so that in GIL mode
 * it does not hold the GIL while the others try to reach the barrier. */
static void run_participant(participant *p)
{
    bool mw = cur_case->lock >= 0;

    p->cpu = sched_getcpu();
    if (mw) {
        mw_blocking_begin();
    }
    pthread_barrier_wait(&start_barrier);
    p->t_start = read_clock_ns();
    if (mw) {
        mw_blocking_end();
    }
    switch (cur_case->op) {
    case OP_MW:
        if (cur_case->safepoints) {
            count_with_safepoints(p->index, cur_iters);
        } else {
            count_mw(cur_obj, cur_iters);
        }
        break;
    case OP_ATOMIC_SEQ:
        count_atomic_seq(cur_iters);
        break;
    case OP_ATOMIC_RELAXED:
        count_atomic_relaxed(cur_iters);
        break;
    }
    p->t_end = read_clock_ns();
}

static void *run_worker(void *arg)
{
    participant *p = arg;
    int rc;

    pin_self(p->slot);
    if (p->attach) {
        rc = mw_thread_attach(cur_rt);
        if (rc != 0) {
            fprintf(stderr, "case %s: worker %d: mw_thread_attach failed: %s (%d)\n",
                    cur_case->id, p->index, mw_strerror(rc), rc);
            p->failed = 1;
            pthread_barrier_wait(&start_barrier);   /* let the others go on */
            return NULL;
        }
    }
    run_participant(p);
    if (p->attach) {
        rc = mw_thread_detach();
        if (rc != 0) {
            fprintf(stderr, "case %s: worker %d: mw_thread_detach failed: %s (%d)\n",
                    cur_case->id, p->index, mw_strerror(rc), rc);
            p->failed = 1;
        }
    }
    return NULL;
}

/* ----------------------------------------------------------------------
 * One case, in a child process
 * ---------------------------------------------------------------------- */

static uint64_t pick_iters(const bench_case *c)
{
    switch (c->iters) {
    case ITERS_CONTENDED:
        return opt.contended_iters;
    case ITERS_GIL2:
        return opt.gil_iters;
    case ITERS_SINGLE:
        break;
    }
    return opt.iters;
}

static void report_mw_error(const char *id, const char *what)
{
    fprintf(stderr, "case %s: %s failed: %s: %s\n", id, what,
            mw_err_name(mw_err_occurred()), mw_err_message());
}

/* Set up the runtime, the calling thread and the object for case c. */
static int set_up_runtime(const bench_case *c)
{
    mw_config cfg;
    int rc;

    mw_config_default(&cfg);
    cfg.lock = (mw_lock_mode)c->lock;
    cur_rt = mw_runtime_new(&cfg);
    if (cur_rt == NULL) {
        report_mw_error(c->id, "mw_runtime_new");
        return -1;
    }
    if (mw_runtime_lock_mode(cur_rt) != (mw_lock_mode)c->lock) {
        fprintf(stderr, "case %s: mw_runtime_lock_mode says %d, asked for %d\n", c->id,
                (int)mw_runtime_lock_mode(cur_rt), c->lock);
        return -1;
    }
    rc = mw_thread_attach(cur_rt);
    if (rc != 0) {
        fprintf(stderr, "case %s: mw_thread_attach failed: %s (%d)\n", c->id,
                mw_strerror(rc), rc);
        return -1;
    }
    cur_obj = opt.use_list ? mw_list_new() : mw_int(1000000);
    if (cur_obj == NULL) {
        report_mw_error(c->id, opt.use_list ? "mw_list_new" : "mw_int(1000000)");
        return -1;
    }
    if (mw_is_immortal(cur_obj)) {
        fprintf(stderr, "case %s: the object is immortal; counting it measures nothing\n",
                c->id);
        return -1;
    }
    return 0;
}

static int tear_down_runtime(const bench_case *c, case_result *res)
{
    int rc;

    res->refcnt_after = mw_refcnt(cur_obj);
    mw_decref(cur_obj);
    cur_obj = NULL;
    rc = mw_thread_detach();
    if (rc != 0) {
        fprintf(stderr, "case %s: mw_thread_detach failed: %s (%d)\n", c->id,
                mw_strerror(rc), rc);
        return -1;
    }
    rc = mw_runtime_free(cur_rt);
    if (rc != 0) {
        fprintf(stderr, "case %s: mw_runtime_free failed: %s (%d)\n", c->id,
                mw_strerror(rc), rc);
        return -1;
    }
    cur_rt = NULL;
    return 0;
}

/* One measurement of case c; fills res->ns_pair and ns_thread. */
static int measure_once(const bench_case *c, case_result *res)
{
    participant parts[MAX_THREADS];
    int nparts = c->workers + (c->owner_counts ? 1 : 0);
    bool mw = c->lock >= 0;
    uint64_t first = UINT64_MAX, last = 0;
    int failed = 0;

    memset(parts, 0, sizeof parts);
    atomic_store(&last_runner, -1);
    if (pthread_barrier_init(&start_barrier, NULL, (unsigned)nparts) != 0) {
        fprintf(stderr, "case %s: pthread_barrier_init failed\n", c->id);
        return -1;
    }
    for (int i = 0; i < nparts; i++) {
        parts[i].index = i;
        parts[i].cpu = -1;
        if (c->owner_counts && i == 0) {
            parts[i].slot = 0;              /* the main thread */
        } else {
            parts[i].slot = c->owner_counts ? i : i + 1;
            parts[i].attach = mw;
        }
    }
    for (int i = c->owner_counts ? 1 : 0; i < nparts; i++) {
        int err = pthread_create(&parts[i].thread, NULL, run_worker, &parts[i]);

        if (err != 0) {
            /* The barrier can no longer fill up: give up on this case. */
            fprintf(stderr, "case %s: pthread_create failed: %s\n", c->id, strerror(err));
            _exit(1);
        }
    }
    if (c->owner_counts) {
        run_participant(&parts[0]);
    }
    if (mw) {
        mw_blocking_begin();
    }
    for (int i = c->owner_counts ? 1 : 0; i < nparts; i++) {
        pthread_join(parts[i].thread, NULL);
    }
    if (mw) {
        mw_blocking_end();
    }
    pthread_barrier_destroy(&start_barrier);

    for (int i = 0; i < nparts; i++) {
        if (parts[i].failed) {
            failed = 1;
            continue;
        }
        if (parts[i].t_start < first) {
            first = parts[i].t_start;
        }
        if (parts[i].t_end > last) {
            last = parts[i].t_end;
        }
        res->cpus[i] = parts[i].cpu;
    }
    if (failed) {
        return -1;
    }
    res->nparticipants = nparts;
    res->ns_pair = (double)(last - first) / ((double)cur_iters * nparts);
    res->ns_thread = (double)(last - first) / (double)cur_iters;
    return 0;
}

static int run_case(const bench_case *c, case_result *res)
{
    bool mw = c->lock >= 0;

    memset(res, 0, sizeof *res);
    res->refcnt_after = -1;
    cur_case = c;
    cur_iters = pick_iters(c);
    if (mw && set_up_runtime(c) != 0) {
        return -1;
    }
    if (measure_once(c, res) != 0) {
        return -1;
    }
    res->handovers = atomic_load(&handovers_seen);
    res->overlaps = atomic_load(&overlaps_seen);
    if (mw && tear_down_runtime(c, res) != 0) {
        return -1;
    }
    res->ok = 1;
    return 0;
}

/* ----------------------------------------------------------------------
 * The parent: one child per measurement
 * ---------------------------------------------------------------------- */

/* A case's measurements so far, or why it stopped. */
typedef struct {
    int reps;                       /* measurements done */
    double ns_pair[MAX_REPS];
    double ns_thread[MAX_REPS];
    int refcnt_bad;                 /* measurements that ended with count != 1 */
    intptr_t refcnt_seen;           /* the last wrong count, else 1 */
    uint64_t handovers;             /* case f, summed */
    uint64_t overlaps;              /* case f, summed */
    int cpus[MAX_THREADS];          /* from the last measurement */
    int nparticipants;
    char failure[160];              /* empty while the case runs fine */
} case_outcome;

/* Run one measurement of c in a child process; fold it into *out. */
static void run_case_in_child(const bench_case *c, case_outcome *out)
{
    case_result res;
    int fds[2];
    pid_t pid;
    int status;
    size_t got = 0;

    memset(&res, 0, sizeof res);
    if (pipe(fds) != 0) {
        snprintf(out->failure, sizeof out->failure, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(out->failure, sizeof out->failure, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        int rc;

        close(fds[0]);
        alarm(opt.timeout);
        rc = run_case(c, &res);
        if (write(fds[1], &res, sizeof res) != (ssize_t)sizeof res) {
            _exit(3);
        }
        fflush(NULL);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fds[1]);
    while (got < sizeof res) {
        ssize_t n = read(fds[0], (char *)&res + got, sizeof res - got);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);

        if (sig == SIGALRM) {
            snprintf(out->failure, sizeof out->failure, "timed out after %us", opt.timeout);
        } else {
            snprintf(out->failure, sizeof out->failure, "crashed: %s", strsignal(sig));
        }
    } else if (got != sizeof res || !res.ok) {
        snprintf(out->failure, sizeof out->failure,
                 "failed (exit status %d; see the error above)", WEXITSTATUS(status));
    }
    if (out->failure[0] != '\0') {
        return;
    }
    out->ns_pair[out->reps] = res.ns_pair;
    out->ns_thread[out->reps] = res.ns_thread;
    out->reps++;
    if (c->lock >= 0 && res.refcnt_after != 1) {
        out->refcnt_bad++;
        out->refcnt_seen = res.refcnt_after;
    }
    out->handovers += res.handovers;
    out->overlaps += res.overlaps;
    memcpy(out->cpus, res.cpus, sizeof out->cpus);
    out->nparticipants = res.nparticipants;
}

/* ----------------------------------------------------------------------
 * Options and report
 * ---------------------------------------------------------------------- */

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "Prints a Markdown table of ns per mw_incref+mw_decref pair.\n"
            "  --iters N            pairs per single-thread measurement (default 50M)\n"
            "  --contended-iters N  pairs per thread, two-thread cases e1 e2 g (default 20M)\n"
            "  --gil-iters N        pairs per thread, GIL two-thread case f (default 10M)\n"
            "  --safepoint-every N  case f: pairs between mw_safepoint calls (default 1000)\n"
            "  --reps N             measurements per case; the median is shown (default 5)\n"
            "  --object int|list    object counted: mw_int(1000000) or an empty list\n"
            "  --cases LIST         comma-separated case ids to run (default: all)\n"
            "  --timeout SECS       limit per case (default 300)\n"
            "  --no-pin             do not pin threads to CPUs\n"
            "N takes a K or M suffix (x1000, x1000000).\n",
            argv0);
}

static int parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s) {
        return -1;
    }
    if (*end == 'K' || *end == 'k') {
        v *= 1000u;
        end++;
    } else if (*end == 'M' || *end == 'm') {
        v *= 1000000u;
        end++;
    }
    if (*end != '\0' || v == 0) {
        return -1;
    }
    *out = v;
    return 0;
}

/* Complain about ids in a --cases list that name no case. */
static int check_case_list(const char *list)
{
    const char *p = list;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        bool known = false;

        for (size_t k = 0; k < NCASES; k++) {
            if (strlen(cases[k].id) == n && strncmp(p, cases[k].id, n) == 0) {
                known = true;
            }
        }
        if (!known) {
            fprintf(stderr, "--cases: no case '%.*s' (cases: a b c d1 d2 e1 e2 f g)\n", (int)n,
                    p);
            return -1;
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return 0;
}

static int parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout, argv[0]);
            exit(0);
        }
        if (strcmp(a, "--no-pin") == 0) {
            opt.pin = false;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], a);
            return -1;
        }
        i++;
        if (strcmp(a, "--object") == 0) {
            if (strcmp(v, "int") == 0) {
                opt.use_list = false;
            } else if (strcmp(v, "list") == 0) {
                opt.use_list = true;
            } else {
                fprintf(stderr, "%s: --object takes int or list\n", argv[0]);
                return -1;
            }
            continue;
        }
        if (strcmp(a, "--cases") == 0) {
            opt.only = v;
            if (check_case_list(v) != 0) {
                return -1;
            }
            continue;
        }
        if (parse_count(v, &n) != 0) {
            fprintf(stderr, "%s: %s needs a positive number, not '%s'\n", argv[0], a, v);
            return -1;
        }
        if (strcmp(a, "--iters") == 0) {
            opt.iters = n;
        } else if (strcmp(a, "--contended-iters") == 0) {
            opt.contended_iters = n;
        } else if (strcmp(a, "--gil-iters") == 0) {
            opt.gil_iters = n;
        } else if (strcmp(a, "--safepoint-every") == 0) {
            opt.safepoint_every = n;
        } else if (strcmp(a, "--reps") == 0 && n <= MAX_REPS) {
            opt.reps = (int)n;
        } else if (strcmp(a, "--timeout") == 0 && n <= 86400) {
            opt.timeout = (unsigned)n;
        } else {
            fprintf(stderr, "%s: unknown option or value out of range: %s %s\n", argv[0], a,
                    v);
            return -1;
        }
    }
    return 0;
}

/* True if case id is selected by --cases. */
static bool is_selected(const char *id)
{
    const char *p = opt.only;
    size_t len = strlen(id);

    if (p == NULL) {
        return true;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);

        if (n == len && strncmp(p, id, n) == 0) {
            return true;
        }
        p += n;
        if (*p == ',') {
            p++;
        }
    }
    return false;
}

static void print_cpu_model(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');

                if (colon != NULL) {
                    colon++;
                    while (*colon == ' ' || *colon == '\t') {
                        colon++;
                    }
                    colon[strcspn(colon, "\n")] = '\0';
                    printf("%s", colon);
                    fclose(f);
                    return;
                }
            }
        }
        fclose(f);
    }
    printf("unknown CPU");
}

static void format_count(char *buf, size_t size, uint64_t n)
{
    if (n % 1000000 == 0) {
        snprintf(buf, size, "%" PRIu64 "M", n / 1000000);
    } else if (n % 1000 == 0) {
        snprintf(buf, size, "%" PRIu64 "K", n / 1000);
    } else {
        snprintf(buf, size, "%" PRIu64, n);
    }
}

int main(int argc, char **argv)
{
    static case_outcome outcomes[NCASES];
    double base = 0, med_a = 0, med_b = 0;
    bool have_a = false, have_b = false, any_failed = false;
    char it1[32], it2[32], it3[32];

    if (parse_options(argc, argv) != 0) {
        print_usage(stderr, argv[0]);
        return 2;
    }
    find_cpus();
    pin_self(0);

    /* Every repetition measures every case once, the starting case rotating
     * from one repetition to the next, so that drifts in the machine's
     * speed fall on all cases alike. */
    for (int rep = 0; rep < opt.reps; rep++) {
        fprintf(stderr, "repetition %d/%d\n", rep + 1, opt.reps);
        for (size_t j = 0; j < NCASES; j++) {
            size_t k = (j + (size_t)rep) % NCASES;
            case_outcome *o = &outcomes[k];

            if (!is_selected(cases[k].id) || o->failure[0] != '\0') {
                continue;
            }
            run_case_in_child(&cases[k], o);
            if (o->failure[0] != '\0') {
                fprintf(stderr, "  %-3s %s\n", cases[k].id, o->failure);
                any_failed = true;
            } else {
                fprintf(stderr, "  %-3s %8.2f ns/pair  (%s)\n", cases[k].id,
                        o->ns_pair[o->reps - 1], cases[k].what);
            }
        }
    }

    format_count(it1, sizeof it1, opt.iters);
    format_count(it2, sizeof it2, opt.contended_iters);
    format_count(it3, sizeof it3, opt.gil_iters);
    printf("## mwrt reference counting benchmark\n\n");
    printf("- machine: %ld CPUs online (%d usable), ", sysconf(_SC_NPROCESSORS_ONLN),
           cpu_count);
    print_cpu_model();
    printf("\n");
    printf("- object: %s; pairs per measurement: %s (one thread), %s per thread "
           "(e1, e2, g), %s per thread (f, mw_safepoint every %" PRIu64 " pairs)\n",
           opt.use_list ? "an empty list" : "mw_int(1000000)", it1, it2, it3,
           opt.safepoint_every);
    printf("- median of %d measurements per case, each in a fresh process and runtime, "
           "cases interleaved; threads %s\n\n",
           opt.reps, opt.pin ? "pinned (CPUs column)" : "not pinned");

    for (size_t k = 0; k < NCASES; k++) {
        if (strcmp(cases[k].id, "a") == 0 && outcomes[k].failure[0] == '\0' &&
            outcomes[k].reps > 0) {
            base = bench_median(outcomes[k].ns_pair, outcomes[k].reps);
        }
    }

    printf("| case | what | threads | CPUs | ns/pair (median) | min - max | "
           "ns/pair per thread | ratio to (a) |\n");
    printf("|---|---|---:|---|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < NCASES; k++) {
        const bench_case *c = &cases[k];
        const case_outcome *r = &outcomes[k];
        char cpus[64] = "";
        char ratio[32] = "n/a";
        double med;
        int nthreads = c->workers + (c->owner_counts ? 1 : 0);

        if (!is_selected(c->id)) {
            continue;
        }
        if (r->failure[0] != '\0') {
            printf("| %s | %s | %d | | %s in measurement %d | | | |\n", c->id, c->what,
                   nthreads, r->failure, r->reps + 1);
            continue;
        }
        for (int i = 0; i < r->nparticipants; i++) {
            size_t len = strlen(cpus);

            snprintf(cpus + len, sizeof cpus - len, "%s%d", i ? "," : "", r->cpus[i]);
        }
        med = bench_median(r->ns_pair, r->reps);
        if (base > 0) {
            snprintf(ratio, sizeof ratio, "%.2fx", med / base);
        }
        if (strcmp(c->id, "a") == 0) {
            med_a = med;
            have_a = true;
        } else if (strcmp(c->id, "b") == 0) {
            med_b = med;
            have_b = true;
        }
        printf("| %s | %s | %d | %s | %.2f | %.2f - %.2f | %.2f | %s |\n", c->id, c->what,
               nthreads, cpus, med, find_min(r->ns_pair, r->reps), find_max(r->ns_pair, r->reps),
               bench_median(r->ns_thread, r->reps), ratio);
    }
    printf("\nns/pair = wall time / all pairs done (for two threads: the program's cost "
           "per pair); per thread = wall time / pairs per thread.  The CPUs column is the "
           "CPU each thread started on (main thread first where it counts).\n\n");

    if (have_a && have_b) {
        printf("Goal: free-mode owner counting (b) within 1.10x of GIL-mode counting (a): "
               "b/a = %.2f / %.2f = %.2fx: %s\n",
               med_b, med_a, med_b / med_a, med_b <= 1.10 * med_a ? "met" : "NOT met");
    } else {
        printf("Goal: free-mode owner counting (b) within 1.10x of GIL-mode counting (a): "
               "not measured (case a or b missing or failed)\n");
    }

    printf("\nChecks (not timing):\n");
    for (size_t k = 0; k < NCASES; k++) {
        const bench_case *c = &cases[k];
        const case_outcome *r = &outcomes[k];

        if (!is_selected(c->id) || c->lock < 0) {
            continue;
        }
        if (r->failure[0] != '\0') {
            printf("- %s: %s in measurement %d\n", c->id, r->failure, r->reps + 1);
            continue;
        }
        if (r->refcnt_bad == 0) {
            printf("- %s: mw_refcnt back to 1 after every measurement (ok)", c->id);
        } else {
            printf("- %s: mw_refcnt NOT back to 1 after %d of %d measurements (last seen: "
                   "%" PRIdPTR ")",
                   c->id, r->refcnt_bad, r->reps, r->refcnt_seen);
        }
        if (c->safepoints) {
            printf("; GIL hand-overs seen: %" PRIu64 " over %d measurements; turns another "
                   "thread ran during: %" PRIu64 " (%s)",
                   r->handovers, r->reps, r->overlaps,
                   r->overlaps == 0 ? "ok" : "THE GIL DID NOT EXCLUDE");
            if (r->handovers == 0) {
                printf("; the threads never took turns (one ran to the end first)");
            }
        }
        printf("\n");
    }
    return any_failed ? 1 : 0;
}
