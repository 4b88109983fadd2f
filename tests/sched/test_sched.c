/*
 * test_sched.c - the scheduler: workers and safepoints, stopping the
 * world, the policies, the memory limit, the pause histograms.
 *
 * Every test runs in both lock modes where the behaviour is meant to hold
 * in both, and in its own process (Check's fork mode).  Waits for the
 * master thread are bounded loops of short sleeps that fail the test when
 * exhausted (a behaviour that never happens), never assertions on time.
 *
 * Threads follow the runtime's rule: an attached thread that waits (a
 * lock, a condition, a join) does so inside mw_blocking_begin/end, so a
 * stop (or, under the GIL, another thread) never waits for it.
 */
#include <mwrt/gc.h>
#include <mwrt/mwrt.h>

#include "mwtest.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* ======================================================================
 * A container type that counts its deaths
 * ====================================================================== */

typedef struct snode {
    mw_object ob;
    mw_object *a, *b;   /* owned references, or NULL */
    int64_t value;
} snode;

static atomic_long made, destroyed;

static int snode_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    snode *n = (snode *)self;
    int r = n->a != NULL ? visit(n->a, arg) : 0;
    return r != 0 ? r : (n->b != NULL ? visit(n->b, arg) : 0);
}

static void snode_clear(mw_object *self)
{
    snode *n = (snode *)self;
    mw_object *a = n->a, *b = n->b;
    n->a = n->b = NULL;
    mw_decref(a);
    mw_decref(b);
}

static void snode_destroy(mw_object *self)
{
    (void)self;
    atomic_fetch_add(&destroyed, 1);
}

static const mw_type snode_type = {
    .name = "SNode",
    .size = sizeof(snode),
    .flags = MW_TYPE_GC,
    .traverse = snode_traverse,
    .clear = snode_clear,
    .destroy = snode_destroy,
};

static mw_object *snode_new(int64_t value)
{
    mw_object *o = mw_new(&snode_type);
    if (o != NULL) {
        ((snode *)o)->value = value;
        atomic_fetch_add(&made, 1);
    }
    return o;
}

static void snode_set(mw_object **slot, mw_object *o)
{
    mw_object *old = *slot;
    mw_incref(o);
    *slot = o;
    mw_decref(old);
}

/* A garbage cycle of two nodes: a <-> b, both dropped. */
static void garbage_cycle(int64_t value)
{
    mw_object *a = snode_new(value);
    mw_object *b = snode_new(value);
    REQUIRE(a != NULL && b != NULL);
    snode_set(&((snode *)a)->a, b);
    snode_set(&((snode *)b)->a, a);
    mw_decref(a);
    mw_decref(b);
}

void mwtest_on_start(void)
{
    atomic_store(&made, 0);
    atomic_store(&destroyed, 0);
}

/* Start with this policy and threshold 0.  Only the stress tests keep the
 * torture flavour (MWRT_GC_TORTURE); the others count collections. */
static void start_policy_torture(mw_lock_mode mode, mw_gc_policy policy, int t0, bool torture)
{
    if (!torture) {
        unsetenv("MWRT_GC_TORTURE");
    }
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = mode;
    cfg.gc_policy = policy;
    cfg.threshold[0] = t0;
    start_cfg(&cfg);
}

static void start_policy(mw_lock_mode mode, mw_gc_policy policy, int t0)
{
    start_policy_torture(mode, policy, t0, false);
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* Sleep in a blocking region (attached threads). */
static void blocking_sleep_us(long us)
{
    mw_blocking_begin();
    sleep_us(us);
    mw_blocking_end();
}

static mw_gc_stats stats_now(void)
{
    mw_gc_stats st;
    ck_assert_int_eq(mw_gc_get_stats(&st), 0);
    return st;
}

/* Start a helper thread running fn and wait (parked) until it says it is
 * ready (helper_ready), so the test knows it is attached. */
static atomic_int helper_ready;

static void spawn_ready(pthread_t *th, void *(*fn)(void *))
{
    atomic_store(&helper_ready, 0);
    ck_assert_int_eq(pthread_create(th, NULL, fn, NULL), 0);
    while (!atomic_load(&helper_ready)) {
        if (mw_thread_is_attached()) {
            blocking_sleep_us(100);
        } else {
            sleep_us(100);
        }
    }
}

/* Join n threads, parked while waiting. */
static void join_parked(pthread_t *th, int n)
{
    mw_blocking_begin();
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    }
    mw_blocking_end();
}

/* ======================================================================
 * Histograms
 * ====================================================================== */

START_TEST(test_hist_relative_error)
{
    srand(1);
    for (int i = 0; i < 200000; i++) {
        // Up to the cap, 2^44 - 1 (larger values are clamped to it).
        uint64_t v = (((uint64_t)rand() << 20 ^ (uint64_t)rand()) >> (rand() % 40)) &
                     MW_HIST_MAX;
        uint64_t got = mw_hist_bucket_value(mw_hist_index(v));
        double err = v == 0 ? (double)got : ((double)got - (double)v) / (double)v;
        REQUIREF(err <= 0.01 && err >= -0.01, "v=%llu read back %llu", (unsigned long long)v,
                 (unsigned long long)got);
    }
    // Indexes are monotonic and in range at the cap.
    ck_assert_uint_lt(mw_hist_index(UINT64_MAX), MW_HIST_BUCKETS);
    for (uint64_t v = 1; v < (1u << 20); v += 7) {
        REQUIRE(mw_hist_index(v) >= mw_hist_index(v - 1));
    }
}
END_TEST

START_TEST(test_hist_quantiles)
{
    static mw_hist h, half;   // 38 KiB each: not on the stack
    mw_hist_reset(&h);
    ck_assert_uint_eq(mw_hist_quantile(&h, 0.99), 0);
    ck_assert(mw_hist_mean(&h) == 0.0);
    for (uint64_t v = 1; v <= 100000; v++) {
        mw_hist_record(v <= 50000 ? &h : &half, v * 1000);   // 1 us .. 100 ms
    }
    mw_hist_merge(&h, &half);
    ck_assert_uint_eq(h.count, 100000);
    ck_assert_uint_eq(h.min, 1000);
    ck_assert_uint_eq(h.max, 100000000);
    // Within the 0.4% the layout promises, around 50, 99 and 99.9 ms.
    uint64_t p50 = mw_hist_quantile(&h, 0.50), p99 = mw_hist_quantile(&h, 0.99);
    uint64_t p999 = mw_hist_quantile(&h, 0.999);
    ck_assert_uint_ge(p50, 49800000);
    ck_assert_uint_le(p50, 50200000);
    ck_assert_uint_ge(p99, 98600000);
    ck_assert_uint_le(p99, 99400000);
    ck_assert_uint_ge(p999, 99500000);
    ck_assert_uint_le(p999, 100000000);
    ck_assert_uint_eq(mw_hist_quantile(&h, 1.0), 100000000);
    ck_assert(mw_hist_mean(&h) > 50000000.0 && mw_hist_mean(&h) < 50001000.0);
    ck_assert(mw_hist_stddev(&h) > 28800000.0 && mw_hist_stddev(&h) < 28900000.0);
    // Bucket ranges tile the values without gaps.
    uint64_t lo, hi, next = 0;
    for (unsigned i = 0; i < MW_HIST_BUCKETS; i++) {
        mw_hist_bucket_range(i, &lo, &hi);
        REQUIREF(lo == next && hi >= lo, "bucket %u: [%llu, %llu]", i, (unsigned long long)lo,
                 (unsigned long long)hi);
        next = hi + 1;
    }
    ck_assert_uint_eq(next - 1, MW_HIST_MAX);
}
END_TEST

/* ======================================================================
 * Stopping the world
 * ====================================================================== */

static atomic_int go_on;       /* helpers run while this is 1 */

/* Attached, then waiting in a blocking region until told. */
static void *blocked_helper(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    atomic_store(&helper_ready, 1);
    mw_blocking_begin();
    while (atomic_load(&go_on)) {
        sleep_us(200);
    }
    mw_blocking_end();
    mw_thread_detach();
    return NULL;
}

/* A worker blocked in a blocking region counts as parked: collections
 * with the world stopped go ahead without it, and it resumes after. */
START_TEST(test_blocked_worker_does_not_delay_stop)
{
    start_policy(MODE(_i), MW_GC_STW, 700);
    atomic_store(&go_on, 1);
    pthread_t th;
    spawn_ready(&th, blocked_helper);
    for (int i = 0; i < 50; i++) {
        garbage_cycle(i);
        ck_assert_int_eq(mw_gc_collect(0), 2);
    }
    mw_gc_stats st = stats_now();
    ck_assert_uint_eq(st.gen[0].collections, 50);
    ck_assert_uint_eq(st.explicit_collections, 50);
    ck_assert_uint_eq(st.gen[0].safepoint_ns.count, 50);
    ck_assert_uint_eq(st.pause_ns.count, 50);
    atomic_store(&go_on, 0);
    join_parked(&th, 1);
    ck_assert_int_eq(atomic_load(&destroyed), 100);
    stop();
}
END_TEST

/* Running object code (counting, container allocation) with safepoints. */
static void *busy_helper(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    mw_object *keep = snode_new(-1);
    atomic_store(&helper_ready, 1);
    long rounds = 0;
    while (atomic_load(&go_on)) {
        mw_object *x = snode_new(rounds);   // a container: a safepoint
        snode_set(&((snode *)keep)->a, x);
        mw_decref(x);
        for (int k = 0; k < 100; k++) {
            mw_incref(keep);
            mw_decref(keep);
        }
        if (++rounds % 64 == 0) {
            mw_safepoint();
        }
    }
    mw_decref(keep);
    mw_thread_detach();
    return NULL;
}

/* Busy workers are stopped at their safepoints, over and over, and the
 * time it took is recorded per collection. */
START_TEST(test_busy_workers_reach_safepoints)
{
    start_policy(MODE(_i), MW_GC_OFF, 700);
    atomic_store(&go_on, 1);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        spawn_ready(&th[i], busy_helper);
    }
    for (int i = 0; i < 200; i++) {
        garbage_cycle(i);
        intptr_t n = mw_gc_collect(i % 3);
        REQUIREF(n >= 2, "collection %d found %ld (%s)", i, (long)n, mw_err_message());
        mw_safepoint();   // GIL mode: let the helpers have their turn
    }
    atomic_store(&go_on, 0);
    join_parked(th, 2);
    mw_gc_stats st = stats_now();
    ck_assert_uint_eq(st.safepoint_ns.count, 200);
    ck_assert_uint_le(st.safepoint_ns.p50, st.safepoint_ns.max);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&destroyed), atomic_load(&made));
    stop();
}
END_TEST

static void *stuck_helper(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    atomic_store(&helper_ready, 1);
    while (atomic_load(&go_on)) {
        // Neither a safepoint nor a blocking region: a bug in the embedder.
    }
    mw_thread_detach();
    return NULL;
}

/* Free mode: a worker that never reaches a safepoint makes the stop time
 * out; the collection is refused with a message, nothing hangs, and the
 * next one, once the worker behaves, runs. */
START_TEST(test_stuck_worker_refused_not_hung)
{
    start_policy(MW_LOCK_FREE, MW_GC_OFF, 700);
    atomic_store(&go_on, 1);
    pthread_t th;
    spawn_ready(&th, stuck_helper);
    garbage_cycle(1);
    ck_assert_int_eq(mw_gc_collect(0), -1);
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(mw_err_message(), "safepoint"));
    mw_err_clear();
    atomic_store(&go_on, 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(mw_gc_collect(0), 2);
    stop();
}
END_TEST

/* Workers that attach, make garbage and leave, while collections run. */
static void *transient_helper(void *arg)
{
    long rounds = (long)(intptr_t)arg;
    for (long r = 0; r < rounds; r++) {
        if (mw_thread_attach(test_rt) != 0) {
            return NULL;
        }
        for (int k = 0; k < 20; k++) {
            garbage_cycle(k);
        }
        mw_thread_detach();   // may wait for a collection in progress
    }
    return NULL;
}

START_TEST(test_workers_exit_during_collections)
{
    start_policy(MODE(_i), MW_GC_STW, 50);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, transient_helper, (void *)(intptr_t)300), 0);
    }
    for (int i = 0; i < 300; i++) {
        garbage_cycle(i);
        REQUIREF(mw_gc_collect(i % 3) >= 0, "%s", mw_err_message());
        mw_safepoint();
    }
    join_parked(th, 2);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&made), 2 * (2 * 300 * 20 + 300));
    ck_assert_int_eq(atomic_load(&destroyed), atomic_load(&made));
    stop();
}
END_TEST

/* ======================================================================
 * Objects handed between workers through a ring
 * ====================================================================== */

/* A bounded single-producer single-consumer queue of pointers under a
 * mutex.  (Concurrency Kit's ck_ring would do, but its atomics are inline
 * assembly that ThreadSanitizer cannot see, and this test runs under it.) */
enum { RING_SLOTS = 64, HANDOFFS = 20000 };
static struct {
    pthread_mutex_t mu;
    void *slot[RING_SLOTS];
    size_t head, tail;   /* under mu; tail - head items */
} ring = {.mu = PTHREAD_MUTEX_INITIALIZER};

static bool ring_put(void *p)
{
    pthread_mutex_lock(&ring.mu);
    bool ok = ring.tail - ring.head < RING_SLOTS;
    if (ok) {
        ring.slot[ring.tail++ % RING_SLOTS] = p;
    }
    pthread_mutex_unlock(&ring.mu);
    return ok;
}

static bool ring_take(void **p)
{
    pthread_mutex_lock(&ring.mu);
    bool ok = ring.tail != ring.head;
    if (ok) {
        *p = ring.slot[ring.head++ % RING_SLOTS];
    }
    pthread_mutex_unlock(&ring.mu);
    return ok;
}

static void *consumer(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    long got = 0;
    while (got < HANDOFFS) {
        void *p;
        if (ring_take(&p)) {
            mw_object *o = p;   // the producer's reference, now ours
            REQUIRE(((snode *)o)->value == got);
            mw_decref(o);       // dropped on this side
            got++;
            if (got % 128 == 0) {
                mw_safepoint();
            }
        } else {
            blocking_sleep_us(20);
        }
    }
    mw_thread_detach();
    return NULL;
}

/* Each object is a cycle (a <-> b) with a str inside: half die by
 * counting on the consumer (their cycle is broken first), half are left
 * as garbage for the collector; all are made on the producer. */
START_TEST(test_handoff_through_ring)
{
    start_policy(MODE(_i), MW_GC_STW, 700);
    ring.head = ring.tail = 0;
    size_t baseline = blocks_in_use_trimmed();
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, consumer, NULL), 0);
    for (long i = 0; i < HANDOFFS; i++) {
        mw_object *a = snode_new(i);
        mw_object *b = snode_new(i);
        mw_object *s = mw_str("payload");
        REQUIRE(a != NULL && b != NULL && s != NULL);
        snode_set(&((snode *)a)->b, s);
        if (i % 2 == 0) {
            snode_set(&((snode *)a)->a, b);
            snode_set(&((snode *)b)->a, a);
        }
        mw_decref(s);
        mw_decref(b);
        while (!ring_put(a)) {
            blocking_sleep_us(20);
        }
        if (i % 128 == 0) {
            mw_safepoint();
        }
    }
    join_parked(&th, 1);
    mw_safepoint();   // counts the consumer passed back to this owner
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&made), 2 * HANDOFFS);
    ck_assert_int_eq(atomic_load(&destroyed), 2 * HANDOFFS);
    if (OBJECTS_IN_POOLS) {
        ck_assert_uint_eq(blocks_in_use_trimmed(), baseline);
    }
    stop();
}
END_TEST

/* ======================================================================
 * Policies
 * ====================================================================== */

/* Wait (bounded, in a blocking or idle region) for the master's work:
 * true once cond holds. */
#define WAIT_FOR(cond, idle)                                                \
    ({                                                                      \
        bool ok_ = false;                                                   \
        for (int k_ = 0; k_ < 20000 && !ok_; k_++) {                        \
            if (idle) {                                                     \
                mw_idle_begin();                                            \
            } else {                                                        \
                mw_blocking_begin();                                        \
            }                                                               \
            sleep_us(500);                                                  \
            mw_blocking_end();                                              \
            ok_ = (cond);                                                   \
        }                                                                   \
        ok_;                                                                \
    })

/* PAUSED: garbage piles up while the worker is busy (no collection at
 * all below the deferral ceiling), and is collected once it is idle. */
START_TEST(test_paused_holds_off_then_collects_at_idle)
{
    start_policy(MODE(_i), MW_GC_PAUSED, 100);
    for (int i = 0; i < 1000; i++) {   // 2000 containers: 20x threshold 0
        garbage_cycle(i);
    }
    mw_gc_stats st = stats_now();
    ck_assert_uint_eq(st.gen[0].collections, 0);
    ck_assert_int_eq(atomic_load(&destroyed), 0);
    ck_assert(WAIT_FOR(stats_now().idle_collections > 0, true));
    // Free mode: the master cleared the garbage; this thread, its owner,
    // frees it at its next safepoint.  GIL mode: the master clears it
    // while this thread stays idle (a chunk at a time, so this thread may
    // have woken in between: it is idle again in WAIT_FOR).
    mw_safepoint();
    ck_assert(WAIT_FOR((mw_safepoint(), atomic_load(&destroyed) == 2000), true));
    st = stats_now();
    ck_assert_uint_eq(st.stw_collections, 0);
    ck_assert_uint_eq(st.policy, MW_GC_PAUSED);
    stop();
}
END_TEST

/* PAUSED with a worker that is never idle: past the deferral ceiling the
 * worker collects with the world stopped anyway. */
START_TEST(test_paused_falls_back_when_never_idle)
{
    start_policy(MODE(_i), MW_GC_PAUSED, 10);
    for (int i = 0; i < 2000; i++) {   // 4000 containers, ceiling 640
        garbage_cycle(i);
    }
    mw_gc_stats st = stats_now();
    ck_assert_uint_gt(st.stw_collections, 0);
    ck_assert_int_gt(atomic_load(&destroyed), 0);
    ck_assert_int_ge(mw_gc_collect(2), 0);   // and the rest
    ck_assert_int_eq(atomic_load(&destroyed), 4000);
    stop();
}
END_TEST

/* OFF: nothing automatic; explicit collections still run.  Policies
 * change at run time and unknown ones are refused. */
START_TEST(test_policy_off_and_switch)
{
    start_policy(MODE(_i), MW_GC_OFF, 10);
    for (int i = 0; i < 500; i++) {
        garbage_cycle(i);
    }
    ck_assert_int_eq(atomic_load(&destroyed), 0);
    for (int k = 0; k < 20; k++) {   // idle: the master has nothing to do
        mw_idle_begin();
        sleep_us(1000);
        mw_idle_end();
    }
    ck_assert_int_eq(atomic_load(&destroyed), 0);
    ck_assert_uint_eq(stats_now().gen[0].collections, 0);
    ck_assert_int_eq(mw_gc_set_policy((mw_gc_policy)42), MW_EINVAL);
    ck_assert_uint_eq(mw_gc_get_policy(), MW_GC_OFF);
    ck_assert_int_eq(mw_gc_set_policy(MW_GC_STW), 0);
    garbage_cycle(-1);   // the next container allocation collects
    ck_assert_int_gt(atomic_load(&destroyed), 0);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&destroyed), 1002);
    stop();
}
END_TEST

/* ======================================================================
 * Memory limit
 * ====================================================================== */

/* Garbage beyond the limit is collected (forced collections), so the
 * worker can go on; live data beyond it gets MW_ERR_NOMEM, not a crash;
 * once it is dropped, allocation works again. */
START_TEST(test_memory_limit)
{
    start_policy(MODE(_i), MW_GC_OFF, 700);
    mw_gc_stats st = stats_now();
    size_t limit = st.memory_used + 8u * 1024 * 1024;
    mw_gc_set_memory_limit(limit);
    ck_assert_uint_eq(mw_gc_get_memory_limit(), limit);
    // 40 MiB of cyclic garbage (each cycle holds a 4 KiB str).
    char payload[4096];
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < 10000; i++) {
        mw_object *a = snode_new(i);
        mw_object *b = snode_new(i);
        mw_object *s = mw_str_n(payload, sizeof payload);
        if (a == NULL || b == NULL || s == NULL) {
            st = stats_now();
            ck_abort_msg("round %d: %s; made %ld destroyed %ld; forced %llu explicit %llu",
                         i, mw_err_message(), atomic_load(&made), atomic_load(&destroyed),
                         (unsigned long long)st.memory_collections,
                         (unsigned long long)st.explicit_collections);
        }
        snode_set(&((snode *)a)->a, b);
        snode_set(&((snode *)b)->a, a);
        snode_set(&((snode *)a)->b, s);
        mw_decref(s);
        mw_decref(a);
        mw_decref(b);
    }
    st = stats_now();
    ck_assert_uint_gt(st.memory_collections, 0);
    ck_assert_int_gt(atomic_load(&destroyed), 0);
    // Memory is looked at every 64 KiB of allocation per thread.
    ck_assert_uint_le(st.memory_used, limit + 128 * 1024);
    // Live data: a list that only grows.
    mw_object *keep = mw_list_new();
    ck_assert_ptr_nonnull(keep);
    bool refused = false;
    for (int i = 0; i < 10000 && !refused; i++) {
        mw_object *s = mw_str_n(payload, sizeof payload);
        if (s == NULL) {
            ck_assert_int_eq(mw_err_occurred(), MW_ERR_NOMEM);
            ck_assert_ptr_nonnull(strstr(mw_err_message(), "memory limit"));
            mw_err_clear();
            refused = true;
            break;
        }
        ck_assert_int_eq(mw_list_append(keep, s), 0);
        mw_decref(s);
    }
    ck_assert(refused);
    mw_decref(keep);
    mw_object *s = mw_str_n(payload, sizeof payload);
    ck_assert_ptr_nonnull(s);
    mw_decref(s);
    mw_gc_set_memory_limit(0);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&destroyed), atomic_load(&made));
    stop();
}
END_TEST

/* ======================================================================
 * Stress: workers, a shared graph under a lock, garbage, every policy
 * ====================================================================== */

enum { SLOTS = 256, WORKERS = 3 };
static mw_object *shared_graph;   /* a list of SLOTS snodes; under graph_lock */
static pthread_mutex_t graph_lock = PTHREAD_MUTEX_INITIALIZER;
static long stress_rounds;

/* Take graph_lock the runtime's way: waiting parked. */
static void graph_lock_take(void)
{
    mw_blocking_begin();
    pthread_mutex_lock(&graph_lock);
    mw_blocking_end();
}

static void *stress_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    for (long r = 0; r < stress_rounds; r++) {
        garbage_cycle(r);
        // Replace a slot by a new node of the same value: the checksum
        // (sum of values) of the live graph never changes.
        int slot = (int)(rand_r(&seed) % SLOTS);
        graph_lock_take();
        mw_object *old = mw_list_get(shared_graph, (size_t)slot);
        REQUIRE(old != NULL);
        mw_object *n = snode_new(((snode *)old)->value);
        REQUIRE(n != NULL);
        snode_set(&((snode *)n)->a, n);   // a cycle of one: garbage once replaced
        REQUIRE(mw_list_set(shared_graph, (size_t)slot, n) == 0);
        pthread_mutex_unlock(&graph_lock);
        mw_decref(n);
        mw_decref(old);
        if (r % 50 == 0) {
            mw_idle_begin();   // between "requests": the master may collect
            sleep_us(50);
            mw_idle_end();
        }
    }
    mw_thread_detach();
    return NULL;
}

static int64_t graph_checksum(void)
{
    int64_t sum = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        mw_object *o = mw_list_get(shared_graph, i);
        REQUIRE(o != NULL);
        sum += ((snode *)o)->value;
        mw_decref(o);
    }
    return sum;
}

static void stress(mw_lock_mode mode, mw_gc_policy policy)
{
    bool torture = getenv("MWRT_GC_TORTURE") != NULL;
    start_policy_torture(mode, policy, 100, true);
    size_t baseline = blocks_in_use_trimmed();
    stress_rounds = torture ? 300 : 3000;
    shared_graph = mw_list_new();
    ck_assert_ptr_nonnull(shared_graph);
    for (int i = 0; i < SLOTS; i++) {
        mw_object *n = snode_new(i * 7 + 1);
        ck_assert_int_eq(mw_list_append(shared_graph, n), 0);
        mw_decref(n);
    }
    int64_t before = graph_checksum();
    pthread_t th[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        ck_assert_int_eq(pthread_create(&th[i], NULL, stress_worker, (void *)(uintptr_t)(i + 1)),
                         0);
    }
    // The main thread collects now and then too, between waits.
    for (int i = 0; i < 20; i++) {
        blocking_sleep_us(2000);
        REQUIREF(mw_gc_collect(i % 3) >= 0, "%s", mw_err_message());
    }
    join_parked(th, WORKERS);
    ck_assert_int_eq(graph_checksum(), before);
    mw_decref(shared_graph);
    shared_graph = NULL;
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(atomic_load(&destroyed), atomic_load(&made));
    if (OBJECTS_IN_POOLS) {
        ck_assert_uint_eq(blocks_in_use_trimmed(), baseline);
    }
    mw_gc_stats st = stats_now();
    if (policy == MW_GC_OFF && !torture) {
        ck_assert_uint_eq(st.stw_collections + st.idle_collections, 0);
    } else {
        ck_assert_uint_gt(st.stw_collections + st.idle_collections, 0);
    }
    stop();
}

START_TEST(test_stress_stw)
{
    stress(MODE(_i), MW_GC_STW);
}
END_TEST

START_TEST(test_stress_paused)
{
    stress(MODE(_i), MW_GC_PAUSED);
}
END_TEST

START_TEST(test_stress_off)
{
    stress(MODE(_i), MW_GC_OFF);
}
END_TEST

/* ======================================================================
 * The suite
 * ====================================================================== */

static Suite *sched_suite(void)
{
    Suite *s = suite_create("sched");
    TCase *tc = tcase_create("hist");
    tcase_add_test(tc, test_hist_relative_error);
    tcase_add_test(tc, test_hist_quantiles);
    suite_add_tcase(s, tc);

    tc = tcase_create("stop");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_blocked_worker_does_not_delay_stop, 0, NMODES);
    tcase_add_loop_test(tc, test_busy_workers_reach_safepoints, 0, NMODES);
    tcase_add_test(tc, test_stuck_worker_refused_not_hung);
    tcase_add_loop_test(tc, test_workers_exit_during_collections, 0, NMODES);
    tcase_add_loop_test(tc, test_handoff_through_ring, 0, NMODES);
    suite_add_tcase(s, tc);

    tc = tcase_create("policy");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_paused_holds_off_then_collects_at_idle, 0, NMODES);
    tcase_add_loop_test(tc, test_paused_falls_back_when_never_idle, 0, NMODES);
    tcase_add_loop_test(tc, test_policy_off_and_switch, 0, NMODES);
    tcase_add_loop_test(tc, test_memory_limit, 0, NMODES);
    suite_add_tcase(s, tc);

    tc = tcase_create("stress");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_stress_stw, 0, NMODES);
    tcase_add_loop_test(tc, test_stress_paused, 0, NMODES);
    tcase_add_loop_test(tc, test_stress_off, 0, NMODES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sched_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
