/*
 * mwrt/gc.h - the generational cycle collector.
 *
 * Reference counting frees everything except cycles; the collector finds
 * groups of containers (types with MW_TYPE_GC) that only reference each
 * other and frees them, as CPython's gc module does.  Containers are
 * tracked from creation in the youngest of three generations, except what
 * cannot be in a cycle (docs/objects.md): dicts and sets are made
 * untracked and tracked at the first store of a container (or a tuple
 * still tracked), full collections untrack them again once they hold only
 * atomic objects, and any collection untracks tuples that do.  Survivors
 * of a collection move one generation up; mw_gc_freeze moves everything
 * tracked into a permanent generation that is never collected.
 *
 * When collections happen: the count of generation 0 is containers
 * tracked (at allocation, or for a dict or set when it becomes tracked)
 * minus tracked containers freed since its last collection; above
 * threshold 0 (default 700) generation 0 is collected; every threshold 1
 * (10) collections of generation 0, generation 1 is too; every threshold 2
 * (10) of those, a full collection - but only if the objects that survived
 * since the last full collection are at least the full-growth share of the
 * long-lived ones: 100% by default (a full collection once the long-lived
 * heap has doubled, as Go's GOGC=100), so building a live heap of n
 * containers costs about 2n object visits in full collections; CPython's
 * 25% costs about 5n (mw_gc_set_full_growth, docs/objects.md).
 * With MWRT_GC_TORTURE=N in the environment (read when the runtime is
 * made), a collection runs before every Nth container allocation:
 * generation 0, or an older one when its count is due.
 *
 * Who collects, and when, is the policy's (mw_gc_set_policy): MW_GC_STW
 * collects on the worker whose allocation trips threshold 0, MW_GC_PAUSED
 * leaves it to the runtime's master thread at a moment when no worker is
 * running object code (all idle or blocked), MW_GC_OFF runs only explicit
 * collections.  A memory limit (mw_gc_set_memory_limit) forces full
 * collections as it is approached, whatever the policy.
 *
 * A collection needs the heap to stand still.  In MW_LOCK_GIL mode the
 * collecting thread holds the GIL throughout, which is enough; finalizers
 * and callbacks run under it too.  In MW_LOCK_FREE mode the collecting
 * thread stops the world: every other worker parks at its next safepoint
 * (a container allocation, mw_safepoint, mw_idle_begin; a thread in a
 * blocking or idle region is parked already).  The world runs again while
 * weak-reference callbacks and finalizers run and while the garbage is
 * cleared; see docs/sched.md for the exact guarantee.  A worker that does
 * not reach a safepoint within 2 s makes the collection fail with
 * MW_ERR_STATE instead of hanging.
 *
 * All calls require an attached thread.
 */
#ifndef MWRT_GC_H
#define MWRT_GC_H

#include <mwrt/object.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MW_GC_GENERATIONS 3

/* Debug flags for mw_gc_set_debug. */
#define MW_GC_DEBUG_STATS         0x01u /* one report line per collection, stderr */
#define MW_GC_DEBUG_COLLECTABLE   0x02u /* print each collectable object found */
#define MW_GC_DEBUG_UNCOLLECTABLE 0x04u /* print each uncollectable object found */
#define MW_GC_DEBUG_SAVEALL       0x20u /* keep unreachable objects in the
                                           garbage list instead of clearing
                                           them (finalizers still run) */
#define MW_GC_DEBUG_LEAK (MW_GC_DEBUG_COLLECTABLE | MW_GC_DEBUG_UNCOLLECTABLE | \
                          MW_GC_DEBUG_SAVEALL)

/*
 * Collect generations 0..gen (gen -1 or 2: a full collection).  Returns the
 * number of unreachable objects found (collectable and uncollectable; not
 * those a finalizer resurrected, which were not garbage after all), or
 * -1 with MW_ERR_STATE (a collection already running on this thread,
 * e.g. from a finalizer, or, in free mode, a worker that did not reach a
 * safepoint in time) or MW_ERR_VALUE (gen out of range).  Waits for a
 * collection running on another thread to finish first.
 */
MW_API intptr_t mw_gc_collect(int gen);
/*
 * On a confined thread (mw_thread_confine) it collects that thread's own
 * heap, on that thread, stopping nobody.  On any other thread it collects
 * the shared heap, stopping the workers (confined ones too, at their next
 * safepoint: they may hold shared objects) but never looking at a
 * confined heap: nothing shared can reference a confined object, since
 * every way to store one there is refused.  The same split holds for
 * mw_gc_set_threshold / get_threshold / get_count, freeze / unfreeze /
 * get_freeze_count, mw_gc_garbage and mw_gc_get_objects: on a confined
 * thread they concern its own heap.
 */

/* Automatic collection on (default) or off; explicit ones always run. */
MW_API void mw_gc_enable(void);
MW_API void mw_gc_disable(void);
MW_API bool mw_gc_isenabled(void);

/* Thresholds (see the top); negative values are clamped to 0, and a
 * threshold 0 of 0 turns automatic collection off. */
MW_API void mw_gc_set_threshold(int t0, int t1, int t2);
MW_API void mw_gc_get_threshold(int out[3]);
/* The full-growth share, in percent (see the top; mw_config's
 * gc_full_growth); clamped to 0 .. 10000.  0 lets every third-threshold
 * trip run a full collection.  For every heap; any thread. */
MW_API void mw_gc_set_full_growth(int percent);
MW_API int mw_gc_get_full_growth(void);
/* The counts of the three generations (see the top). */
MW_API void mw_gc_get_count(int out[3]);

/* Move every tracked object to the permanent generation / back to the
 * oldest one; the number of objects there. */
MW_API void mw_gc_freeze(void);
MW_API void mw_gc_unfreeze(void);
MW_API size_t mw_gc_get_freeze_count(void);

MW_API void mw_gc_set_debug(unsigned flags);
MW_API unsigned mw_gc_get_debug(void);

/* The garbage list: uncollectable objects (a type without clear), and with
 * MW_GC_DEBUG_SAVEALL everything unreachable.  A new reference to the list
 * itself, which the caller may empty. */
MW_API mw_object *mw_gc_garbage(void);

/* Called before ("start") and after ("stop") every collection. */
typedef struct mw_gc_info {
    int generation;
    intptr_t collected;      /* stop only */
    intptr_t uncollectable;  /* stop only */
} mw_gc_info;
typedef void (*mw_gc_callback)(const char *phase, const mw_gc_info *info, void *arg);
/* Register a callback (at most 16); 0, or MW_ENOMEM when full. */
MW_API int mw_gc_add_callback(mw_gc_callback cb, void *arg);
/* Remove it again; 0, or MW_EINVAL if it was not registered. */
MW_API int mw_gc_remove_callback(mw_gc_callback cb, void *arg);

/* Percentiles of a log-linear histogram (mwrt/hist.h: within 0.4% of the
 * values recorded); all zero while count is 0. */
typedef struct mw_gc_percentiles {
    uint64_t count;
    uint64_t p50, p99, p999, max;
} mw_gc_percentiles;

typedef struct mw_gc_gen_stats {
    uint64_t collections;
    uint64_t collected;
    uint64_t uncollectable;
    uint64_t total_pause_ns;
    uint64_t max_pause_ns;
    uint64_t examined;                   /* objects examined, in total */
    mw_gc_percentiles pause_ns;          /* the world stopped (or the GIL
                                            held) for the collection */
    mw_gc_percentiles safepoint_ns;      /* time-to-safepoint: from the stop
                                            request to the last worker parked */
    mw_gc_percentiles examined_objects;  /* per collection */
    mw_gc_percentiles collected_objects; /* per collection */
} mw_gc_gen_stats;

typedef struct mw_gc_stats {
    mw_gc_gen_stats gen[MW_GC_GENERATIONS];
    mw_gc_percentiles pause_ns;          /* every generation together */
    mw_gc_percentiles safepoint_ns;
    uint64_t stw_collections;            /* ran with other workers parked */
    uint64_t idle_collections;           /* run by the master, all idle */
    uint64_t memory_collections;         /* forced by the memory limit */
    uint64_t explicit_collections;       /* mw_gc_collect */
    uint64_t callback_errors;            /* errors raised by finalizers,
                                            weakref and gc callbacks */
    mw_gc_policy policy;
    mw_lock_mode lock;
    size_t memory_limit;
    size_t memory_used;                  /* allocator bytes now */
    uint64_t confined_collections;       /* ran on a confined thread's own
                                            heap, stopping nobody (counted in
                                            the causes above too) */
    uint64_t requested_collections;      /* of those, run at the master's
                                            request (safepoint or idle) */
} mw_gc_stats;
/* A snapshot; 0, or MW_EINVAL if out is NULL.  Any attached thread. */
MW_API int mw_gc_get_stats(mw_gc_stats *out);
/* Forget the histograms and counters above (not the collector's state),
 * the totals and every thread's. */
MW_API void mw_gc_reset_stats(void);

/* One heap's figures: the shared heap (thread_id 0: every unconfined
 * thread's containers) or a confined thread's. */
typedef struct mw_gc_thread_stats {
    uint64_t thread_id;   /* mw_thread_id() of the confined thread; 0: shared */
    bool confined;
    int count[MW_GC_GENERATIONS];      /* as mw_gc_get_count, for this heap */
    int threshold[MW_GC_GENERATIONS];
    int request;          /* a collection the master asked for and the thread
                             has not run yet: its generation, or -1 */
    size_t tracked;       /* containers tracked in the heap (confined only:
                             the thread's own figure, read without a stop) */
    mw_gc_stats stats;    /* this heap's collections (the memory and policy
                             fields as mw_gc_get_stats) */
} mw_gc_thread_stats;
/*
 * The figures of every heap: the shared one first, then each attached
 * confined thread's, up to max of them in out[]; *n (if not NULL) gets how
 * many there are in all (more than max: call again with more room).  A
 * confined thread's collections are also in mw_gc_get_stats's totals,
 * which keep them after it detaches.  0, or MW_EINVAL (out NULL with
 * max > 0).  Any attached thread; no thread is stopped.
 */
MW_API int mw_gc_get_thread_stats(mw_gc_thread_stats *out, size_t max, size_t *n);

/* The automatic-collection policy (see mwrt/runtime.h); 0, or MW_EINVAL
 * for an unknown policy.  Takes effect at the next decision. */
MW_API int mw_gc_set_policy(mw_gc_policy policy);
MW_API mw_gc_policy mw_gc_get_policy(void);
/* The memory limit in bytes (0: none). */
MW_API void mw_gc_set_memory_limit(size_t bytes);
MW_API size_t mw_gc_get_memory_limit(void);
/* The memory in use as the limit counts it: the allocator's small blocks
 * in use times their size, plus its large blocks (in an AddressSanitizer
 * build, where objects live in the sanitizer's malloc: its figure).  A
 * snapshot; any thread, attached or not. */
MW_API size_t mw_gc_memory_used(void);

/* Leak hunting, as gc.get_objects / get_referrers / get_referents /
 * is_tracked.  Each returns a new list (new references), or NULL.  As in
 * CPython, get_objects and get_referrers see tracked objects only: not
 * an untracked dict, set or tuple (mw_gc_is_tracked false). */
MW_API mw_object *mw_gc_get_objects(int gen);   /* -1: all generations */
MW_API mw_object *mw_gc_get_referrers(mw_object *o);
MW_API mw_object *mw_gc_get_referents(mw_object *o);
MW_API bool mw_gc_is_tracked(mw_object *o);

/* Before a store of item (NULL: nothing) into container, whose type has
 * MW_TYPE_GC_LAZY (object.h): track container now if item may be part of a
 * cycle.  One bit test once the container is tracked.  0; or -1 with
 * MW_ERR_TYPE if container is NULL or its type is not lazily tracked, or
 * MW_ERR_STATE if the store would let an object of a confined thread reach
 * another thread (then do not store).  Attached threads. */
MW_API int mw_gc_track_for(mw_object *container, mw_object *item);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_GC_H */
