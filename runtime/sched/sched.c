/*
 * sched.c - workers, safepoints and stopping the world; the master
 * thread.  The protocol is described in sched.h; this file carries it out.
 *
 * Invariants, under S.lock:
 *   - S.workers lists exactly the attached threads' states (not the
 *     master's), S.nworkers counts them;
 *   - S.running counts the listed states whose sched_state is RUNNING
 *     (updated with the state, so it may lag by one transition in
 *     flight; the master uses it only as a hint and stops the world
 *     before it trusts anything);
 *   - while mw__sched_stop is true, exactly one thread (the stopper, which
 *     holds the collect lock) runs object code once all listed states
 *     other than its own are PARKED.
 */
#include "sched/sched.h"

#if MW__OBJECT_SYSTEM_MALLOC
/* The sanitizer runtime's count of bytes allocated and not freed (its
 * allocator interface; gcc ships no header for it). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include <mwrt/gc.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

_Atomic(bool) mw__sched_stop;
_Atomic(int) mw__sched_policy;
_Atomic(size_t) mw__sched_memory_limit;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t parked;       /* a worker parked or left: stopper re-checks */
    pthread_cond_t resumed;      /* the stop is over: parked workers go on */
    mw__tstate *workers;         /* attached states, through sched_next/prev */
    size_t nworkers;
    _Atomic(size_t) running;     /* see the invariants above */
    _Atomic(mw__tstate *) stopper; /* who stopped the world; written under
                                    lock, read relaxed by its own thread */
    /* the master thread */
    pthread_t master;
    bool master_started;
    bool master_stop;            /* under lock: asked to exit */
    bool master_wake;            /* under lock: something to look at */
    pthread_cond_t master_cond;
    size_t memory_after_forced;  /* master only: use after its last forced
                                    collection */
} S = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

uint64_t mw__sched_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct timespec deadline_in_ns(uint64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec += (long)(ns % 1000000000u);
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* ======================================================================
 * States
 * ====================================================================== */

static void set_running(mw__tstate *t)
{
    atomic_store(&t->sched_state, MW__TS_RUNNING);   // seq_cst: Dekker, sched.h
    if (t->sched_listed) {
        mw__atomic_add_relaxed(&S.running, 1);
    }
}

static void set_parked(mw__tstate *t)
{
    if (t->sched_listed) {
        mw__atomic_sub_relaxed(&S.running, 1);
    }
    atomic_store(&t->sched_state, MW__TS_PARKED);    // seq_cst: Dekker, sched.h
}

/* Park t until no stop is in force, then run again.  t is RUNNING or
 * PARKED on entry, RUNNING on return. */
static void wait_out_stop(mw__tstate *t)
{
    pthread_mutex_lock(&S.lock);
    if (atomic_load(&t->sched_state) == MW__TS_RUNNING) {
        set_parked(t);
    }
    while (atomic_load(&mw__sched_stop) && mw__atomic_load_relaxed(&S.stopper) != t) {
        pthread_cond_broadcast(&S.parked);   // the stopper may be counting us
        pthread_cond_wait(&S.resumed, &S.lock);
    }
    set_running(t);
    pthread_mutex_unlock(&S.lock);
}

void mw__sched_wait_at_safepoint(mw__tstate *t)
{
    if (t == NULL || atomic_load(&t->sched_state) != MW__TS_RUNNING ||
        mw__atomic_load_relaxed(&S.stopper) == t) {
        return;
    }
    wait_out_stop(t);
}

void mw__sched_park_begin(mw__tstate *t, bool idle)
{
    t->sched_idle = idle;
    set_parked(t);
    // Dekker (sched.h): a stopper that read our state before the store
    // above is waiting on `parked`; tell it.
    if (atomic_load(&mw__sched_stop)) {
        pthread_mutex_lock(&S.lock);
        pthread_cond_broadcast(&S.parked);
        pthread_mutex_unlock(&S.lock);
    }
}

void mw__sched_park_end(mw__tstate *t)
{
    set_running(t);
    t->sched_idle = false;
    // Dekker (sched.h): if a stop was requested before our store, it may
    // have counted us as parked; wait it out.
    if (mw_unlikely(atomic_load(&mw__sched_stop))) {
        wait_out_stop(t);
    }
}

void mw__sched_attach(mw__tstate *t)
{
    pthread_mutex_lock(&S.lock);
    atomic_store(&t->sched_state, MW__TS_PARKED);
    t->sched_listed = true;
    t->sched_prev = NULL;
    t->sched_next = S.workers;
    if (S.workers != NULL) {
        S.workers->sched_prev = t;
    }
    S.workers = t;
    S.nworkers++;
    // Wait for a stop in force to end before touching anything.
    while (atomic_load(&mw__sched_stop)) {
        pthread_cond_wait(&S.resumed, &S.lock);
    }
    set_running(t);
    pthread_mutex_unlock(&S.lock);
}

void mw__sched_detach(mw__tstate *t)
{
    pthread_mutex_lock(&S.lock);
    if (atomic_load(&t->sched_state) == MW__TS_RUNNING) {
        mw__atomic_sub_relaxed(&S.running, 1);
    }
    atomic_store(&t->sched_state, MW__TS_PARKED);
    if (t->sched_prev != NULL) {
        t->sched_prev->sched_next = t->sched_next;
    } else {
        S.workers = t->sched_next;
    }
    if (t->sched_next != NULL) {
        t->sched_next->sched_prev = t->sched_prev;
    }
    t->sched_next = t->sched_prev = NULL;
    t->sched_listed = false;
    S.nworkers--;
    pthread_cond_broadcast(&S.parked);   // one fewer to wait for
    pthread_mutex_unlock(&S.lock);
}

size_t mw__sched_workers(void)
{
    pthread_mutex_lock(&S.lock);
    size_t n = S.nworkers;
    pthread_mutex_unlock(&S.lock);
    return n;
}

size_t mw__sched_running(void)
{
    return mw__atomic_load_relaxed(&S.running);
}

/* ======================================================================
 * Stopping the world
 * ====================================================================== */

/* Under S.lock: is any listed worker other than self RUNNING? */
static bool anyone_running(const mw__tstate *self)
{
    for (mw__tstate *w = S.workers; w != NULL; w = w->sched_next) {
        if (w != self && atomic_load(&w->sched_state) == MW__TS_RUNNING) {
            return true;
        }
    }
    return false;
}

bool mw__sched_stop_world(mw__tstate *self, unsigned timeout_ms, bool try_only,
                          uint64_t *waited_ns)
{
    uint64_t start = mw__sched_now_ns();
    pthread_mutex_lock(&S.lock);
    mw_assert(!atomic_load(&mw__sched_stop));
    if (try_only && anyone_running(self)) {
        pthread_mutex_unlock(&S.lock);
        return false;
    }
    mw__atomic_store_relaxed(&S.stopper, self);
    atomic_store(&mw__sched_stop, true);   // seq_cst: Dekker, sched.h
    struct timespec until = deadline_in_ns((uint64_t)timeout_ms * 1000000u);
    bool stopped = true;
    while (anyone_running(self)) {
        if (pthread_cond_timedwait(&S.parked, &S.lock, &until) == ETIMEDOUT &&
            anyone_running(self)) {
            stopped = false;
            break;
        }
    }
    if (!stopped) {
        atomic_store(&mw__sched_stop, false);
        mw__atomic_store_relaxed(&S.stopper, (mw__tstate *)NULL);
        pthread_cond_broadcast(&S.resumed);
    }
    pthread_mutex_unlock(&S.lock);
    *waited_ns = mw__sched_now_ns() - start;
    return stopped;
}

void mw__sched_start_world(void)
{
    pthread_mutex_lock(&S.lock);
    // seq_cst (release): what the stopper wrote is seen by a worker that
    // finds the flag clear on its fast path (sched.h, orderings).
    atomic_store(&mw__sched_stop, false);
    mw__atomic_store_relaxed(&S.stopper, (mw__tstate *)NULL);
    pthread_cond_broadcast(&S.resumed);
    pthread_mutex_unlock(&S.lock);
}

/* ======================================================================
 * Memory use
 * ====================================================================== */

size_t mw__sched_memory_used(void)
{
#if MW__OBJECT_SYSTEM_MALLOC
    // Objects live in the sanitizer's malloc (object.h): count its bytes.
    return __sanitizer_get_current_allocated_bytes();
#endif
    mw_alloc_stats st;
    mw_alloc_get_stats(&st);
    size_t used = st.large_bytes;
    for (unsigned i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        used += st.classes[i].blocks_in_use * st.classes[i].block_size;
    }
    return used;
}

/* ======================================================================
 * The master thread
 * ====================================================================== */

void mw__sched_wake_master(void)
{
    pthread_mutex_lock(&S.lock);
    S.master_wake = true;
    pthread_cond_signal(&S.master_cond);
    pthread_mutex_unlock(&S.lock);
}

/*
 * One look at the world: is a collection due that the master should run?
 *   - the memory limit is being approached: a full collection, with the
 *     world stopped whatever the policy (again only once use has grown by
 *     another sixteenth of the limit, so a large live set does not make
 *     it collect on every tick);
 *   - MW_GC_PAUSED and a threshold has tripped: collect if no worker is
 *     running, else wait for the next idle moment.
 */
static void master_decide(mw_runtime *rt)
{
    size_t limit = mw__atomic_load_relaxed(&mw__sched_memory_limit);
    if (limit != 0) {
        size_t used = mw__sched_memory_used();
        size_t approach = limit / 16 * MW_SCHED_MEMORY_APPROACH_16THS;
        if (used < approach) {
            S.memory_after_forced = 0;
        } else if (used >= S.memory_after_forced + limit / 16) {
            // Confined heaps too: each thread collects its own at its next
            // safepoint or idle point; the shared heap here.
            mw__gc_request_confined(true);
            mw__gc_collect_from_master(MW_GC_GENERATIONS - 1, MW__GC_MEMORY, false);
            S.memory_after_forced = mw__sched_memory_used();
            return;
        }
    }
    (void)rt;
    mw__gc_request_confined(false);
    if (mw__atomic_load_relaxed(&mw__sched_policy) == MW_GC_PAUSED &&
        mw__sched_running() == 0 && mw__gc_due()) {
        mw__gc_collect_from_master(-1, MW__GC_IDLE, true);
    } else {
        mw__gc_master_drain();   // what a collection left to clear, while idle
    }
}

static void *master_main(void *arg)
{
    mw_runtime *rt = arg;
    // A new state, never a spare: adopting a spare would make the master
    // the owner of a departed thread's objects, and counts other threads
    // pass to an owner wait for its safepoints, which the master has few of.
    mw__tstate *t = mw__tstate_acquire(rt, false);
    if (t == NULL) {
        fprintf(stderr, "mwrt: the master thread has no memory for its state; "
                        "collections run on the workers only\n");
        return NULL;
    }
    // The master is attached but not a listed worker: stoppers never wait
    // for it, because between its collections it holds no object
    // (blocking), and during them it is the stopper (or the GIL holder).
    t->attached = true;
    t->blocking = true;
    t->is_master = true;
    mw__tls_tstate = t;
    pthread_mutex_lock(&S.lock);
    while (!S.master_stop) {
        if (!S.master_wake) {
            struct timespec until = deadline_in_ns((uint64_t)MW_SCHED_TICK_MS * 1000000u);
            pthread_cond_timedwait(&S.master_cond, &S.lock, &until);
        }
        S.master_wake = false;
        if (S.master_stop) {
            break;
        }
        pthread_mutex_unlock(&S.lock);
        master_decide(rt);
        mw__gc_master_settle();
        pthread_mutex_lock(&S.lock);
    }
    pthread_mutex_unlock(&S.lock);
    mw__tls_tstate = NULL;
    mw__tstate_release(t);
    return NULL;
}

int mw__sched_runtime_init(mw_runtime *rt)
{
    atomic_store(&mw__sched_stop, false);
    mw__atomic_store_relaxed(&mw__sched_memory_limit, rt->config.memory_limit);
    mw__atomic_store_relaxed(&mw__sched_policy, (int)rt->config.gc_policy);
    S.workers = NULL;
    S.nworkers = 0;
    mw__atomic_store_relaxed(&S.running, 0);
    mw__atomic_store_relaxed(&S.stopper, (mw__tstate *)NULL);
    S.master_stop = false;
    S.master_wake = false;
    S.memory_after_forced = 0;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&S.parked, &attr);
    pthread_cond_init(&S.resumed, &attr);
    pthread_cond_init(&S.master_cond, &attr);
    pthread_condattr_destroy(&attr);
    S.master_started = pthread_create(&S.master, NULL, master_main, rt) == 0;
    if (!S.master_started) {
        pthread_cond_destroy(&S.master_cond);
        pthread_cond_destroy(&S.resumed);
        pthread_cond_destroy(&S.parked);
        return MW_ENOMEM;
    }
    return MW_OK;
}

void mw__sched_runtime_fini(mw_runtime *rt)
{
    (void)rt;
    if (S.master_started) {
        pthread_mutex_lock(&S.lock);
        S.master_stop = true;
        pthread_cond_signal(&S.master_cond);
        pthread_mutex_unlock(&S.lock);
        pthread_join(S.master, NULL);
        S.master_started = false;
    }
    pthread_cond_destroy(&S.master_cond);
    pthread_cond_destroy(&S.resumed);
    pthread_cond_destroy(&S.parked);
}
