/*
 * bench_confine.c - mwrt-bench-confine: what confinement (mw_thread_confine)
 * costs the owner thread, and what it buys the other threads.
 *
 * The owner's loops, in ns per operation, free mode, one thread:
 *
 *   incref   mw_incref + mw_decref pair on a list the thread made
 *   append   mw_list_append of an int the thread made into its own list
 *            (every 1024 appends the list is dropped and a new one made)
 *   alloc    mw_list_new + mw_decref (a container's birth and death: the
 *            generation list link and unlink)
 *
 * each in three arrangements:
 *
 *   shared     the runtime never saw a confined thread (mw__confine_any
 *              false: the store checks cost one load)
 *   neighbour  the thread is unconfined, another thread is confined (the
 *              store checks run in full, and find nothing)
 *   confined   the thread itself is confined
 *
 * And the other side: a worker that calls mw_safepoint in a loop while
 * another thread collects a heap of --objects cyclic garbage, its longest
 * gap between two iterations (µs), with the collector a confined thread
 * collecting its own heap (no stop) and an unconfined one collecting the
 * shared heap (a stop of the world).
 *
 * Every measurement runs in a child process of its own with a fresh
 * runtime; a repetition measures every case once, and the median of
 * --reps repetitions (default 5) is printed, with min and max.  With
 * -DBENCH_NO_CONFINE (the build of a revision before mw_thread_confine
 * existed) only the shared arrangement and the shared collection run,
 * for a comparison across revisions.
 *
 *   mwrt-bench-confine [--reps N] [--iters N] [--objects N]
 *   mwrt-bench-confine --only list_append confined --iters N
 *       one owner loop, in process (instructions per operation: run it
 *       under valgrind --tool=callgrind with two --iters, subtract)
 */
#define _GNU_SOURCE
#include <mwrt/mwrt.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t iters = 10000000;
static uint64_t objects = 1000000;
static int reps = 5;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum { ARR_SHARED, ARR_NEIGHBOUR, ARR_CONFINED, NARR };
static const char *const arr_name[NARR] = {"shared", "neighbour", "confined"};
enum { OP_INCREF, OP_APPEND, OP_ALLOC, NOPS };
static const char *const op_name[NOPS] = {"incref+decref", "list_append", "list_new+decref"};

static mw_runtime *rt;

static void fail(const char *what)
{
    fprintf(stderr, "mwrt-bench-confine: %s: %s\n", what, mw_err_message());
    exit(2);
}

/* A confined thread that just waits (the neighbour). */
static pthread_mutex_t nb_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nb_cv = PTHREAD_COND_INITIALIZER;
static int nb_state;   /* 1: confined, 2: may leave */

static void *neighbour_main(void *arg)
{
    (void)arg;
    if (mw_thread_attach(rt) != 0) {
        fail("attach");
    }
#ifndef BENCH_NO_CONFINE
    if (mw_thread_confine() != 0) {
        fail("confine");
    }
#endif
    mw_blocking_begin();
    pthread_mutex_lock(&nb_mu);
    nb_state = 1;
    pthread_cond_broadcast(&nb_cv);
    while (nb_state != 2) {
        pthread_cond_wait(&nb_cv, &nb_mu);
    }
    pthread_mutex_unlock(&nb_mu);
    mw_blocking_end();
    mw_thread_detach();
    return NULL;
}

static void start_runtime(void)
{
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = MW_LOCK_FREE;
    rt = mw_runtime_new(&cfg);
    if (rt == NULL || mw_thread_attach(rt) != 0) {
        fail("runtime");
    }
}

/* One owner-loop measurement in this (child) process: ns per op. */
static double measure_op(int arr, int op)
{
    start_runtime();
    pthread_t nb;
    if (arr == ARR_NEIGHBOUR) {
        pthread_create(&nb, NULL, neighbour_main, NULL);
        mw_blocking_begin();
        pthread_mutex_lock(&nb_mu);
        while (nb_state != 1) {
            pthread_cond_wait(&nb_cv, &nb_mu);
        }
        pthread_mutex_unlock(&nb_mu);
        mw_blocking_end();
    }
#ifndef BENCH_NO_CONFINE
    if (arr == ARR_CONFINED && mw_thread_confine() != 0) {
        fail("confine");
    }
#endif
    mw_gc_disable();   // the loops, not collections
    mw_object *l = mw_list_new();
    mw_object *item = mw_int(1000000007);
    uint64_t t0 = now_ns();
    switch (op) {
    case OP_INCREF:
        for (uint64_t i = 0; i < iters; i++) {
            mw_incref(l);
            mw_decref(l);
        }
        break;
    case OP_APPEND:
        for (uint64_t i = 0; i < iters; i++) {
            if (mw_list_append(l, item) != 0) {
                fail("append");
            }
            if ((i & 1023) == 1023) {
                mw_decref(l);
                l = mw_list_new();
            }
        }
        break;
    case OP_ALLOC:
        for (uint64_t i = 0; i < iters; i++) {
            mw_object *x = mw_list_new();
            mw_decref(x);
        }
        break;
    }
    uint64_t t1 = now_ns();
    mw_decref(l);
    mw_decref(item);
    if (arr == ARR_NEIGHBOUR) {
        pthread_mutex_lock(&nb_mu);
        nb_state = 2;
        pthread_cond_broadcast(&nb_cv);
        pthread_mutex_unlock(&nb_mu);
        mw_blocking_begin();
        pthread_join(nb, NULL);
        mw_blocking_end();
    }
    return (double)(t1 - t0) / (double)iters;
}

/* The other side: the worst gap of a safepoint loop while a collector
 * thread collects `objects` cyclic garbage (confined: its own heap). */
static _Atomic(bool) gap_stop;
static _Atomic(bool) gap_ready;
static _Atomic(uint64_t) gap_max;
static _Atomic(uint64_t) gap_iters;
static _Atomic(bool) in_collect;

static void *gap_main(void *arg)
{
    (void)arg;
    mw_thread_attach(rt);
    atomic_store(&gap_ready, true);
    uint64_t last = now_ns(), worst = 0;
    while (!atomic_load(&gap_stop)) {
        mw_safepoint();
        atomic_fetch_add_explicit(&gap_iters, 1, memory_order_relaxed);
        uint64_t t = now_ns();
        // The worst gap that overlaps the collection.
        if (t - last > worst && atomic_load_explicit(&in_collect, memory_order_relaxed)) {
            worst = t - last;
        }
        last = t;
    }
    atomic_store(&gap_max, worst);
    mw_thread_detach();
    return NULL;
}

static bool collector_confined;
static double collect_ms;
static double rate_ratio;   /* the loop's speed during the collection / before */

static void *collector_main(void *arg)
{
    (void)arg;
    mw_thread_attach(rt);
#ifndef BENCH_NO_CONFINE
    if (collector_confined && mw_thread_confine() != 0) {
        fail("confine");
    }
#endif
    mw_gc_disable();
    for (uint64_t i = 0; i < objects / 2; i++) {
        mw_object *a = mw_list_new();
        mw_object *b = mw_list_new();
        mw_list_append(a, b);
        mw_list_append(b, a);
        mw_decref(a);
        mw_decref(b);
    }
    // The loop's speed with nothing going on, over 100 ms.
    uint64_t i0 = atomic_load(&gap_iters), s0 = now_ns();
    mw_blocking_begin();
    struct timespec nap = {.tv_nsec = 100000000L};
    nanosleep(&nap, NULL);
    mw_blocking_end();
    double idle_rate = (double)(atomic_load(&gap_iters) - i0) / (double)(now_ns() - s0);
    atomic_store(&in_collect, true);
    uint64_t i1 = atomic_load(&gap_iters), t0 = now_ns();
    intptr_t found = mw_gc_collect(-1);
    uint64_t t1 = now_ns();
    atomic_store(&in_collect, false);
    double during_rate = (double)(atomic_load(&gap_iters) - i1) / (double)(t1 - t0);
    rate_ratio = during_rate / idle_rate;
    collect_ms = (double)(t1 - t0) / 1e6;
    if (found != (intptr_t)(objects / 2 * 2)) {
        fail("collect");
    }
    mw_thread_detach();
    return NULL;
}

/* Returns the gap worker's worst gap in µs; *ms: the collection's time,
 * *ratio: the worker's loop speed during it relative to before. */
static double measure_gap(bool confined, double *ms, double *ratio)
{
    start_runtime();
    mw_thread_detach();   // the main thread only waits
    collector_confined = confined;
    pthread_t g, c;
    pthread_create(&g, NULL, gap_main, NULL);
    while (!atomic_load(&gap_ready)) {
    }
    pthread_create(&c, NULL, collector_main, NULL);
    pthread_join(c, NULL);
    atomic_store(&gap_stop, true);
    pthread_join(g, NULL);
    *ms = collect_ms;
    *ratio = rate_ratio;
    return (double)atomic_load(&gap_max) / 1e3;
}

/* Run fn in a child; its double result through a pipe. */
typedef struct job {
    int kind;   /* 0: op, 1: gap */
    int arr, op;
    bool confined;
} job;

static bool run_child(const job *j, double out[3])
{
    int fd[2];
    if (pipe(fd) != 0) {
        return false;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        double r[3] = {0, 0, 0};
        if (j->kind == 0) {
            r[0] = measure_op(j->arr, j->op);
        } else {
            r[0] = measure_gap(j->confined, &r[1], &r[2]);
        }
        if (write(fd[1], r, sizeof r) != (ssize_t)sizeof r) {
            _exit(3);
        }
        _exit(0);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, 3 * sizeof(double));
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)(3 * sizeof(double)) && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int only_op = -1, only_arr = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--only") == 0 && i + 2 < argc) {
            // One owner loop in this process, no fork (for valgrind: run
            // it with two --iters and take the difference of instructions).
            for (int k = 0; k < NOPS; k++) {
                if (strcmp(argv[i + 1], op_name[k]) == 0) {
                    only_op = k;
                }
            }
            for (int k = 0; k < NARR; k++) {
                if (strcmp(argv[i + 2], arr_name[k]) == 0) {
                    only_arr = k;
                }
            }
            i++;
        } else if (strcmp(argv[i], "--reps") == 0) {
            reps = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--iters") == 0) {
            iters = strtoull(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--objects") == 0) {
            objects = strtoull(argv[i + 1], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--reps N] [--iters N] [--objects N] "
                            "[--only OPERATION ARRANGEMENT]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 99 || iters == 0 || objects < 2) {
        fprintf(stderr, "%s: bad arguments\n", argv[0]);
        return 2;
    }
    if (only_op >= 0 && only_arr >= 0) {
        printf("%s %s: %.2f ns\n", op_name[only_op], arr_name[only_arr],
               measure_op(only_arr, only_op));
        return 0;
    }
#ifdef BENCH_NO_CONFINE
    const int narr = 1;
    const int ngap = 1;
#else
    const int narr = NARR;
    const int ngap = 2;
#endif
    static double res[NOPS][NARR][100];
    static double gap[2][100], gap_ms[2][100], gap_ratio[2][100];
    for (int r = 0; r < reps; r++) {
        for (int op = 0; op < NOPS; op++) {
            for (int k = 0; k < narr; k++) {
                int a = (k + r) % narr;   // rotate the order across repetitions
                job j = {.kind = 0, .arr = a, .op = op};
                double out[3];
                if (!run_child(&j, out)) {
                    fprintf(stderr, "case %s/%s failed\n", op_name[op], arr_name[a]);
                    return 1;
                }
                res[op][a][r] = out[0];
            }
        }
        for (int k = 0; k < ngap; k++) {
            job j = {.kind = 1, .confined = k == 1};
            double out[3];
            if (!run_child(&j, out)) {
                fprintf(stderr, "gap case failed\n");
                return 1;
            }
            gap[k][r] = out[0];
            gap_ms[k][r] = out[1];
            gap_ratio[k][r] = out[2];
        }
    }
    printf("## Owner loops, ns per operation (median of %d; min-max), %llu iterations\n\n",
           reps, (unsigned long long)iters);
    printf("| operation |");
    for (int a = 0; a < narr; a++) {
        printf(" %s |", arr_name[a]);
    }
    printf("\n|---|");
    for (int a = 0; a < narr; a++) {
        printf("---|");
    }
    printf("\n");
    for (int op = 0; op < NOPS; op++) {
        printf("| %s |", op_name[op]);
        for (int a = 0; a < narr; a++) {
            qsort(res[op][a], (size_t)reps, sizeof(double), cmp_double);
            printf(" %.2f (%.2f-%.2f) |", res[op][a][reps / 2], res[op][a][0],
                   res[op][a][reps - 1]);
        }
        printf("\n");
    }
    printf("\n## A worker's safepoint loop while another thread collects %llu objects "
           "of cyclic garbage (median of %d): its worst gap overlapping the collection, "
           "and its loop speed during the collection relative to the 100 ms before\n\n"
           "| collector | worst gap, µs | speed during | collection, ms |\n"
           "|---|---|---|---|\n",
           (unsigned long long)objects, reps);
    const char *gname[2] = {"unconfined (shared heap, world stopped)",
                            "confined (own heap, nobody stopped)"};
    for (int k = 0; k < ngap; k++) {
        qsort(gap[k], (size_t)reps, sizeof(double), cmp_double);
        qsort(gap_ms[k], (size_t)reps, sizeof(double), cmp_double);
        qsort(gap_ratio[k], (size_t)reps, sizeof(double), cmp_double);
        printf("| %s | %.0f | %.2f | %.1f |\n", gname[k], gap[k][reps / 2],
               gap_ratio[k][reps / 2], gap_ms[k][reps / 2]);
    }
    return 0;
}
