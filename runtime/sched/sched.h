/*
 * sched.h - workers, safepoints, stopping the world, and the master
 * thread.  Start reading here for the scheduler.
 *
 * ======================================================================
 * Workers and their two states
 * ======================================================================
 *
 * Every attached thread is a worker.  Besides, the runtime starts one
 * master thread (master.c) that decides when to collect and collects
 * itself when nobody is serving a request.  A worker is in one of two
 * states, kept in its thread state (sched_state):
 *
 *     RUNNING  it may touch objects at any moment;
 *     PARKED   it promises not to touch any: it is inside a blocking
 *              region (mw_blocking_begin/end), an idle region
 *              (mw_idle_begin/end), or waiting at a safepoint.
 *
 * RUNNING -> PARKED happens only on the worker's own thread, at a
 * blocking or idle begin, or at a safepoint that sees a stop request.
 * PARKED -> RUNNING also happens only on its own thread, and never while a
 * stop is in force: a worker leaving a parked state re-checks the request
 * after publishing RUNNING, and parks again if it finds one.
 *
 * ======================================================================
 * Stopping the world (MW_LOCK_FREE)
 * ======================================================================
 *
 * A stopper sets mw__sched_stop and waits until every other worker is
 * PARKED; from then until it clears the flag, it is the only thread that
 * touches objects.  Workers notice the flag at their safepoints: every
 * container allocation (mw__gc_before_alloc), mw_safepoint, mw_idle_begin;
 * a worker that is already parked is not disturbed at all, and one that
 * leaves a blocking or idle region while the flag is up waits at the end
 * of the region (this is how a worker blocked in I/O does not delay a
 * stop).  The protocol is Dekker's: the worker stores its state, then
 * loads the flag; the stopper stores the flag, then loads the states; all
 * four are sequentially consistent, so at least one side sees the other's
 * store - either the stopper sees RUNNING and waits, or the worker sees
 * the flag and parks.  Waiting on either side is on sched.lock with two
 * condition variables, so no wake-up is lost: a worker that parks (or
 * detaches) while a stop is requested signals `parked` under the lock.
 *
 * Only one stop is in force at a time: every stopper holds the
 * collector's collect lock (gc.c) from before the stop until after the
 * world resumes.
 *
 * A worker that never reaches a safepoint would hold the world up for
 * ever.  Stops therefore wait a bounded time (MW_SCHED_STOP_TIMEOUT_MS,
 * or the caller's); when it runs out the stop is cancelled, the parked
 * workers resume, and the collection is refused with MW_ERR_STATE.
 *
 * Under MW_LOCK_GIL there is nothing to stop: only the GIL holder runs
 * object code, so a collection that holds the GIL is atomic by
 * construction (CPython's guarantee).  The states are still kept, for the
 * master's idle test.
 *
 * ======================================================================
 * Memory orderings
 * ======================================================================
 *
 * The Dekker pair above is seq_cst on both sides; nothing weaker works.
 * What the stopped world wrote reaches the resumed workers through
 * sched.lock (the stopper clears the flag under it, a waiting worker
 * re-reads it under it), or, for a worker that saw the flag clear on its
 * fast path, through the seq_cst flag itself (a release store by the
 * stopper, an acquire load by the worker).  What a worker wrote before it
 * parked reaches the stopper the same way, through its seq_cst state
 * store and the stopper's seq_cst load.  The safepoint poll is a relaxed
 * load: it only decides whether to take the locked slow path.
 */
#ifndef MW_SCHED_INTERNAL_H
#define MW_SCHED_INTERNAL_H

#ifndef MW_BUILD_INTERNAL
#error "runtime/sched/sched.h is internal to mwrt; include <mwrt/mwrt.h>"
#endif

#include "object/object.h"

/* ======================================================================
 * Tunables
 * ====================================================================== */

/* How long a stop waits for every worker to park before it is cancelled,
 * in milliseconds.  A worker that goes this long without a safepoint or a
 * blocking region is a bug in the embedding program; the collection that
 * needed the stop is refused rather than hanging the process. */
#ifndef MW_SCHED_STOP_TIMEOUT_MS
#define MW_SCHED_STOP_TIMEOUT_MS 2000
#endif
/* After an automatic stop timed out, automatic collections that need one
 * are not tried again for this long (ms): each try stalls every worker
 * that did park. */
#ifndef MW_SCHED_STOP_BACKOFF_MS
#define MW_SCHED_STOP_BACKOFF_MS 100
#endif
/* The master thread's tick (ms): how often it looks at memory use and at
 * deferred collections when nothing wakes it sooner. */
#ifndef MW_SCHED_TICK_MS
#define MW_SCHED_TICK_MS 5
#endif
/* MW_GC_PAUSED with no memory limit: how far generation 0 may overrun its
 * threshold, as a multiple of it, while workers stay busy, before a worker
 * collects with the world stopped anyway.  Garbage must not grow without
 * bound in a service that is never idle. */
#ifndef MW_SCHED_PAUSED_MAX_DEFER
#define MW_SCHED_PAUSED_MAX_DEFER 64
#endif
/* The memory limit is approached at this fraction (in 1/16ths): from
 * there, full collections are forced. */
#ifndef MW_SCHED_MEMORY_APPROACH_16THS
#define MW_SCHED_MEMORY_APPROACH_16THS 14
#endif
/* Each thread looks at memory use after this many bytes of object
 * allocation (the look walks every heap's counters). */
#ifndef MW_SCHED_MEMORY_CHECK_BYTES
#define MW_SCHED_MEMORY_CHECK_BYTES (64 * 1024)
#endif

_Static_assert(MW_SCHED_STOP_TIMEOUT_MS > 0, "a stop must be allowed some time");
_Static_assert(MW_SCHED_TICK_MS > 0 && MW_SCHED_TICK_MS <= 1000, "tick in 1 ms .. 1 s");
_Static_assert(MW_SCHED_PAUSED_MAX_DEFER >= 2, "a deferral of less than 2x is no deferral");
_Static_assert(MW_SCHED_MEMORY_APPROACH_16THS > 0 && MW_SCHED_MEMORY_APPROACH_16THS <= 16,
               "the approach is a fraction of the limit");

#define MW__TS_RUNNING 0
#define MW__TS_PARKED  1

/* Raised while a stop is requested or in force (see the top). */
extern _Atomic(bool) mw__sched_stop;
/* The gc policy now (mw_gc_policy; set at run time by mw_gc_set_policy). */
extern _Atomic(int) mw__sched_policy;
/* The memory limit in bytes (0: none), read on allocation paths. */
extern _Atomic(size_t) mw__sched_memory_limit;

/* ======================================================================
 * Workers (sched.c)
 * ====================================================================== */

/* Set up / tear down with the runtime; init starts the master thread and
 * returns 0 or MW_ENOMEM; fini stops it.  Under runtime_lock. */
int mw__sched_runtime_init(mw_runtime *rt);
void mw__sched_runtime_fini(mw_runtime *rt);

/* Register t, the calling thread's state, as a worker, RUNNING (waits
 * while a stop is in force).  Called by mw_thread_attach. */
void mw__sched_attach(mw__tstate *t);
/* Unregister t (RUNNING, about to detach).  A stopper waiting for it is
 * told.  Called by mw_thread_detach after it has settled its counts. */
void mw__sched_detach(mw__tstate *t);

/* RUNNING -> PARKED (blocking or idle begin) and back (end: waits while a
 * stop is in force).  The calling thread's own state only. */
void mw__sched_park_begin(mw__tstate *t, bool idle);
void mw__sched_park_end(mw__tstate *t);

/* The safepoint's slow path: park until the stop is over. */
void mw__sched_wait_at_safepoint(mw__tstate *t);

/* The poll every safepoint makes: cheap unless a stop is requested. */
MW_INLINE void mw__sched_poll(mw__tstate *t)
{
    if (mw_unlikely(mw__atomic_load_relaxed(&mw__sched_stop))) {
        mw__sched_wait_at_safepoint(t);
    }
}

/*
 * Stop every other worker (free mode; see the top).  Waits at most
 * timeout_ms; with try_only, gives up at once if any worker is RUNNING
 * (the master's idle collections, which must not delay a request).
 * Returns true with the world stopped and the time it took in *waited_ns,
 * or false with it running.  The caller holds the collect lock and is a
 * RUNNING worker (or the master, with its state RUNNING).
 */
bool mw__sched_stop_world(mw__tstate *self, unsigned timeout_ms, bool try_only,
                          uint64_t *waited_ns);
/* Let the stopped workers run again.  The stopper only. */
void mw__sched_start_world(void);

/* Number of workers attached (the master not counted), and of those
 * RUNNING.  A snapshot. */
size_t mw__sched_workers(void);
size_t mw__sched_running(void);

/* Bytes the allocator holds for live blocks now: small blocks in use
 * times their size plus large requests.  Any thread; a snapshot. */
size_t mw__sched_memory_used(void);

/* Wake the master thread: something it decides on changed (a collection
 * became due under MW_GC_PAUSED, the last worker went idle).  Any thread. */
void mw__sched_wake_master(void);

/* Monotonic clock, ns. */
uint64_t mw__sched_now_ns(void);

/* ======================================================================
 * The collector's side (gc.c), called by the master
 * ====================================================================== */

/* Why a collection runs (for the statistics). */
typedef enum mw__gc_reason {
    MW__GC_AUTO = 0,     /* a threshold tripped on a worker */
    MW__GC_IDLE = 1,     /* the master, with every worker idle */
    MW__GC_MEMORY = 2,   /* the memory limit */
    MW__GC_EXPLICIT = 3  /* mw_gc_collect */
} mw__gc_reason;

/* Generation 0 has reached its threshold (automatic collection on). */
bool mw__gc_due(void);
/* Run a collection of gen (-1: the generation due, decided once the
 * collection has begun) from the master thread (attached as master,
 * holding nothing): takes the GIL or stops the world (try_only: only if
 * no worker is running), collects, and lets go.  Returns the number
 * found, or -1 if it could not start. */
intptr_t mw__gc_collect_from_master(int gen, mw__gc_reason reason, bool try_only);
/* Confined heaps (docs/sched.md): ask each confined thread whose
 * generation 0 is due (by the policy; none under MW_GC_OFF) to collect
 * the generation due at its next safepoint (MW_GC_STW) or idle point
 * (MW_GC_PAUSED); with memory, ask every one for a full collection,
 * whatever the policy (the memory limit). */
void mw__gc_request_confined(bool memory);
/* The master's safepoint: settle the counts other threads passed to it
 * (objects its collections made, dropped elsewhere), when it can without
 * waiting (no collection running, and the GIL free). */
void mw__gc_master_settle(void);

#endif /* MW_SCHED_INTERNAL_H */
