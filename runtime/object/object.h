/*
 * object.h - objects, reference counts and thread states.  Start reading
 * here for the object layer.
 *
 * ======================================================================
 * The object header and the two counting modes
 * ======================================================================
 *
 * Every object begins with mw_object (include/mwrt/object.h):
 *
 *     ob_owner       the thread state that owns ob_ref_local (free mode)
 *     ob_ref_local   GIL mode: the count; free mode: the owner's count
 *     ob_flags       MW__OBJ_IMMORTAL, MW__OBJ_FINALIZED
 *     ob_gc_bits     reserved for the cycle collector
 *     ob_ref_shared  free mode: other threads' count, shifted left by 2,
 *                    with two state bits below (QUEUED, MERGED)
 *     ob_type
 *
 * MW_LOCK_GIL: only the thread holding the global lock runs object code,
 * so ob_ref_local is the whole count, updated with plain loads and stores
 * (relaxed atomics, which compile to the same instructions and keep the
 * race detector informed; the GIL's mutex orders one holder's updates
 * before the next holder's).
 *
 * MW_LOCK_FREE: biased reference counting (Choi, Shull and Torrellas,
 * "Biased Reference Counting", PACT 2018; the scheme CPython 3.13 uses
 * without the GIL).  Most objects are only ever counted by the thread that
 * made them, so that thread - the owner - counts in ob_ref_local with no
 * atomic instruction; any other thread counts in ob_ref_shared with atomic
 * adds.  The true count is local + shared.
 *
 *   1. Non-owner decref: subtract from shared.  If shared is exactly 0
 *      (the reference being dropped was counted locally, e.g. handed over
 *      without an incref) it would go negative; instead the thread marks
 *      the object QUEUED and puts it on the owner's merge queue, which
 *      then holds that reference.  Later non-owner decrefs may take shared
 *      below zero; that is fine once queued.
 *   2. The owner, at its next safepoint (or detach), merges each queued
 *      object: count = local + shared - 1 (the queue's reference), stored
 *      in shared with the MERGED bit, owner cleared; zero means free it.
 *   3. Owner decref to local 0: if shared is 0 the object is dead; else the
 *      owner gives it up: owner cleared, shared marked MERGED.
 *   4. MERGED objects have no owner: every thread counts in shared, and the
 *      one that takes it to zero frees it.
 *   5. A detached thread's state is kept (and reused by the next thread to
 *      attach), never freed, so ob_owner always points at a valid state.  A
 *      thread that would queue an object to a detached owner merges it
 *      itself, under the owner's queue lock, which serializes all mergers
 *      of that owner's objects with each other and with a thread adopting
 *      the state.
 *
 * Immortal objects (MW__OBJ_IMMORTAL) skip counting in both modes.
 * Weakly referenceable objects and weak references are counted as merged
 * objects from birth (MW__OBJ_SHARED_COUNT, free mode): a weak reference
 * may only hand out its target while the target's count is above zero,
 * and with the whole count in one field that is a single CAS
 * (mw__rc_try_incref).
 *
 * ======================================================================
 * Death
 * ======================================================================
 *
 * When the count reaches zero (mw__dealloc): finalize runs once (the
 * object is given a temporary reference around it; if the count is still
 * above zero afterwards, the finalizer resurrected it and it lives on),
 * then clear drops its references, destroy releases the rest, and the
 * memory goes back to the allocator.  Freeing a long chain (a list of a
 * list of ...) would recurse once per link, so past a depth the thread
 * defers objects to a list and frees them iteratively (CPython's
 * trashcan).
 *
 * Containers (MW_TYPE_GC) have a 16-byte link header in front of the
 * object, reserved for the cycle collector.
 */
#ifndef MW_OBJECT_INTERNAL_H
#define MW_OBJECT_INTERNAL_H

#ifndef MW_BUILD_INTERNAL
#error "runtime/object/object.h is internal to mwrt; include <mwrt/mwrt.h>"
#endif

#include <mwrt/mwrt.h>

#include "alloc/alloc.h"
#include "base/base.h"

#include <pthread.h>
#include <stdarg.h>

/* ======================================================================
 * Tunables
 * ====================================================================== */

/* Depth of nested frees before the rest are deferred (trashcan). */
#ifndef MW_OBJECT_DEALLOC_DEPTH
#define MW_OBJECT_DEALLOC_DEPTH 64
#endif
/* Nesting depth at which deepcopy, equality and hashing give up. */
#ifndef MW_OBJECT_MAX_DEPTH
#define MW_OBJECT_MAX_DEPTH 1000   /* Python's default recursion limit; at
                                      about 0.5 KiB of stack per level in a
                                      debug build (more under ASan), this
                                      fits the smallest thread stacks */
#endif
/* Default GIL switch interval and its clamps, in microseconds. */
#define MW__SWITCH_INTERVAL_DEFAULT 5000u
#define MW__SWITCH_INTERVAL_MIN     100u
#define MW__SWITCH_INTERVAL_MAX     1000000u

_Static_assert(MW_OBJECT_DEALLOC_DEPTH >= 8, "trashcan depth too small to matter");

/* ======================================================================
 * Header bits
 * ====================================================================== */

#define MW__OBJ_IMMORTAL  0x1u   /* never counted, never freed */
#define MW__OBJ_FINALIZED 0x2u   /* finalize has run */
#define MW__OBJ_SHARED_COUNT 0x4u /* free mode: counted in ob_ref_shared only */

#define MW__SHARED_QUEUED 0x1
#define MW__SHARED_MERGED 0x2
#define MW__SHARED_FLAGS  0x3
#define MW__SHARED_SHIFT  2
#define MW__SHARED_ONE    ((intptr_t)1 << MW__SHARED_SHIFT)

/* The count mw_refcnt reports for immortal objects. */
#define MW__IMMORTAL_REFCNT ((intptr_t)1 << 30)

/* The collector's link header in front of every container: its place in
 * a generation's list (next == NULL: not tracked) and, during a
 * collection, its count of references from outside the generation. */
typedef struct mw__gc_head {
    struct mw__gc_head *next;
    struct mw__gc_head *prev;
    intptr_t refs;
} mw__gc_head;

/* The collector's bits in ob_gc_bits.  Invariants (gc.c keeps them):
 * TRACKED is set exactly when the link header is in a list (next != NULL);
 * CONFINED implies TRACKED, in the owner's confined heap. */
#define MW__GC_COLLECTING  0x1u  /* in the generations being collected */
#define MW__GC_UNREACHABLE 0x2u  /* tentatively unreachable */
#define MW__GC_HELD        0x4u  /* the collector holds a reference (free mode) */
#define MW__GC_CONFINED    0x8u  /* tracked in its owner's confined heap (gc.c) */
#define MW__GC_TRACKED     0x10u /* in a list of the collector: what a store
                                    reads, without list_lock, to know whether
                                    a container is tracked (the link words
                                    change under list_lock as neighbours come
                                    and go; this bit only when o itself does) */
#define MW__GC_LEAF        0x20u /* during steps 3-4 of a collection: none of
                                    its children is in the collection, so
                                    step 4 need not traverse it (gc.c) */

MW_INLINE mw__gc_head *mw__gc_head_of(const mw_object *o)
{
    return (mw__gc_head *)o - 1;
}
MW_INLINE mw_object *mw__gc_object_of(mw__gc_head *g)
{
    return (mw_object *)(g + 1);
}

/* gc/gc.c: track a new container / untrack a dying one; the automatic
 * collection check before a container is allocated; set up and tear down
 * with the runtime. */
void mw__gc_track(mw_object *o);
/* The full-growth share (mwrt/gc.h): its default and its range. */
#define MW__GC_FULL_GROWTH_DEFAULT 100
#define MW__GC_FULL_GROWTH_MAX 10000
MW_INLINE int mw__gc_clamp_full_growth(int percent)
{
    return percent < 0 ? 0 : percent > MW__GC_FULL_GROWTH_MAX ? MW__GC_FULL_GROWTH_MAX : percent;
}
void mw__gc_untrack(mw_object *o);
void mw__gc_before_alloc(void);
/* At mw_idle_begin, before the thread parks: under MW_GC_PAUSED, collect
 * now if a collection is due and no other worker is running. */
void mw__gc_idle_point(void);
/* At mw_thread_detach, holding the GIL: clear the garbage automatic
 * collections left to be cleared (GIL mode; gc.c, "Deferred clearing"). */
void mw__gc_detach_point(void);
/* The master at an idle moment (GIL mode): clear that garbage while no
 * worker runs. */
void mw__gc_master_drain(void);
void mw__gc_runtime_init(void);
void mw__gc_runtime_fini(void);
/* Confined heaps (gc.c; see docs/sched.md): make the calling thread's
 * heap (0 or MW_ENOMEM), the confined thread's safepoint and idle-point
 * look at a collection the master requested, and the end of a confined
 * thread (its garbage collected, the rest adopted by the shared heap). */
struct mw__tstate;
int mw__gc_confine(struct mw__tstate *t);
void mw__gc_request_point(struct mw__tstate *t, bool idle);
void mw__gc_unconfine(struct mw__tstate *t);
/* Before an object of total bytes is made, with a memory limit set:
 * true if it may be, else false with MW_ERR_NOMEM (after a collection). */
bool mw__gc_memory_check(size_t total);

/*
 * Lazy tracking (CPython's, for dicts; here for sets too).  A dict or set
 * is made untracked: while it holds only objects that can never be part
 * of a cycle (str, int, bool, None, a tuple the collector has untracked)
 * it cannot be in one either, and the collector need not look at it.
 * Every store into one (mw_dict_set, mw_set_add, and so the copies, which
 * use them) calls mw__gc_track_for first, which tracks the container the
 * first time it is given an object that may be tracked.  A full
 * collection untracks those whose contents are all atomic again (gc.c),
 * and lists too, which are tracked when made but re-tracked the same way
 * (mw__gc_retrackable).
 *
 * Invariant: an untracked dict, set, list or tuple holds nothing for which
 * mw__gc_may_be_tracked is true, so nothing that is, or could later
 * become, part of a cycle through it (what it holds can only lose that
 * property: an untracked tuple is never tracked again).
 */
MW_INLINE bool mw__gc_lazy_type(const mw_type *t)
{
    // The built-in ones by identity, a user type by its flag.
    return t == &mw_dict_type || t == &mw_set_type || (t->flags & MW_TYPE_GC_LAZY) != 0;
}

/* A full collection may untrack t's instances that hold only atomic
 * objects, and the next store that needs it tracks one again
 * (mw__gc_track_for): the lazy types, and lists.  A list, unlike a dict,
 * is tracked when made (as in CPython; a new list is counted, and young
 * collections see it); only a full collection untracks one.  Every store
 * into a list goes through mw__list_append or mw_list_set (list.c), and
 * both call mw__gc_track_for first: that is what keeps the invariant
 * below true for lists. */
MW_INLINE bool mw__gc_retrackable(const mw_type *t)
{
    return t == &mw_list_type || mw__gc_lazy_type(t);
}

/* o may be tracked, now or later: any container, except a tuple that is
 * untracked (a tuple cannot change, so it is never tracked again).  An
 * untracked dict or set counts too: a later store may track it without
 * its referrers knowing.  (CPython's _PyObject_GC_MAY_BE_TRACKED.) */
MW_INLINE bool mw__gc_may_be_tracked(const mw_object *o)
{
    if (!(o->ob_type->flags & MW_TYPE_GC)) {
        return false;
    }
    if (o->ob_type == &mw_tuple_type) {
        return (o->ob_gc_bits & MW__GC_TRACKED) != 0;
    }
    return true;
}

/* gc.c: track container, an untracked dict, set or list, in generation 0 of the
 * calling thread's confined heap if the caller is confined and owns it,
 * else of the shared heap. */
void mw__gc_track_lazily(mw_object *container);

/* Before item is stored in container (a dict or set, the store's checks
 * passed): track container if item may be tracked.  One bit test when the
 * container is tracked already. */
MW_INLINE void mw__gc_track_for(mw_object *container, const mw_object *item)
{
    if (!(container->ob_gc_bits & MW__GC_TRACKED) && mw__gc_may_be_tracked(item)) {
        mw__gc_track_lazily(container);
    }
}

/* ======================================================================
 * Runtime and thread states
 * ====================================================================== */

/* The global interpreter lock, fair in the way CPython's is: a waiter that
 * has waited one switch interval asks the holder to drop it, and the holder
 * does not take it back until someone else has had it. */
typedef struct mw__gil {
    pthread_mutex_t mutex;
    pthread_cond_t cond;          /* signalled when the GIL is released */
    pthread_cond_t switched;      /* signalled when a new holder took it */
    bool locked;                  /* under mutex */
    uint64_t switch_number;       /* under mutex: bumps on every take */
    unsigned waiters;             /* under mutex: threads waiting to take */
    struct mw__tstate *holder;    /* under mutex */
    _Atomic(bool) drop_request;   /* a waiter wants it (read by the holder) */
} mw__gil;

struct mw_runtime {
    mw_config config;
    mw__gil gil;
    _Atomic(size_t) attached;      /* threads attached now */
};

typedef struct mw__tstate {
    mw_runtime *rt;
    bool attached;
    bool holds_gil;
    bool blocking;                 /* inside mw_blocking_begin/end */
    /* objects other threads queued for this owner to merge (biased counting) */
    pthread_mutex_t brc_lock;
    mw_object **brc_items;         /* under brc_lock */
    size_t brc_len, brc_cap;       /* under brc_lock */
    _Atomic(bool) brc_pending;     /* brc_len > 0, readable without the lock */
    _Atomic(bool) detached;        /* the owning thread left (rule 5) */
    /* deferred frees (trashcan) */
    int dealloc_depth;
    mw_object *dealloc_later;      /* linked through ob_owner */
    struct mw__tstate *next_all;
    struct mw__tstate *next_spare;
    /* the scheduler's (sched/sched.h) */
    _Atomic(int) sched_state;      /* MW__TS_RUNNING / MW__TS_PARKED */
    bool sched_listed;             /* a registered worker (not the master) */
    bool sched_idle;               /* parked in mw_idle_begin */
    bool is_master;                /* the master thread's state */
    struct mw__tstate *sched_next, *sched_prev;   /* under the sched lock */
    size_t mem_since_check;        /* bytes allocated since the last look at
                                      the memory limit */
    /* confinement (mw_thread_confine; gc.c) */
    uint64_t id;                   /* 1, 2, ...: names the thread in messages */
    _Atomic(bool) confined;        /* its objects must not reach another
                                      thread; read by any thread that
                                      counts one of them (the refusal) */
    struct mw__gc_heap *gc_heap;   /* its own generations, while confined */
    _Atomic(int) gc_request;       /* set by the master: 0 none, else
                                      MW__GC_REQ_GEN(gen) | MW__GC_REQ_MEMORY */
} mw__tstate;

#define MW__GC_REQ_GEN(gen) ((gen) + 1)
#define MW__GC_REQ_GEN_MASK 0xf
#define MW__GC_REQ_MEMORY   0x10


/* A thread state for the calling thread (with spare, a spare one,
 * adopting the objects it owns, if there is one; else a new one), not yet
 * attached; NULL when out of memory.  And back to the spares, after its
 * counts are settled (runtime.c). */
mw__tstate *mw__tstate_acquire(mw_runtime *rt, bool spare);
void mw__tstate_release(mw__tstate *t);

extern mw_runtime *mw__runtime;            /* the one runtime, or NULL */
extern bool mw__free_mode;                  /* fixed while a runtime exists */
extern __thread mw__tstate *mw__tls_tstate __attribute__((tls_model("initial-exec")));

/* Any thread has ever confined itself in this runtime: the store checks
 * (mw__confine_store_ok) cost one load until then. */
extern _Atomic(bool) mw__confine_any;

/* Another thread counted o, which belongs to the confined thread owner:
 * a programming error that would corrupt the owner's heap.  Prints both
 * threads and aborts (refcount.c). */
_Noreturn void mw__confine_violation(const mw_object *o, const char *what, uintptr_t owner);

/* The owner of o if it is a confined thread other than the caller's, else
 * 0.  Any attached thread. */
MW_INLINE uintptr_t mw__confined_elsewhere(const mw_object *o, const struct mw__tstate *t)
{
    uintptr_t owner = mw__atomic_load_relaxed(&((mw_object *)o)->ob_owner);
    if (owner == 0 || owner == (uintptr_t)t) {
        return 0;
    }
    return mw__atomic_load_relaxed(&((struct mw__tstate *)owner)->confined) ? owner : 0;
}

/* The entry points that store item into container (or into a new one,
 * container NULL): false with MW_ERR_STATE if that would let an object of
 * a confined thread reach another thread (runtime.c). */
bool mw__confine_store_check(const char *func, mw_object *container, mw_object *item);
MW_INLINE bool mw__confine_store_ok(const char *func, mw_object *container, mw_object *item)
{
    if (mw_likely(!mw__atomic_load_relaxed(&mw__confine_any))) {
        return true;
    }
    // The common case inline: the caller stores its own object (or an
    // immortal one) into its own container.
    uintptr_t t = (uintptr_t)mw__tls_tstate;
    bool own_container =
        container == NULL || mw__atomic_load_relaxed(&container->ob_owner) == t;
    bool own_item = mw__atomic_load_relaxed(&item->ob_owner) == t ||
                    (item->ob_flags & MW__OBJ_IMMORTAL) != 0;
    if (mw_likely(own_container && own_item)) {
        return true;
    }
    return mw__confine_store_check(func, container, item);
}

/* ======================================================================
 * Errors (runtime.c)
 * ====================================================================== */

typedef struct mw__err_state {
    mw_error_kind kind;
    char message[256];
} mw__err_state;

/* Save and restore the calling thread's error (around a collection). */
void mw__err_save(mw__err_state *out);
void mw__err_restore(const mw__err_state *in);
void mw__err_setv(mw_error_kind kind, const char *fmt, va_list ap);
#define mw__err_set mw_err_set
/* Report a NULL or wrongly typed argument: sets MW_ERR_TYPE, returns NULL. */
void *mw__err_type(const char *func, const char *expected, const mw_object *got);
/* Out of memory: sets MW_ERR_NOMEM, returns NULL. */
void *mw__err_nomem(void);
/* Report a call from a thread that is not attached (or is inside a
 * blocking region): sets MW_ERR_STATE, returns NULL. */
mw__tstate *mw__tstate_error(const char *func);

/* The calling thread's state, or NULL with MW_ERR_STATE set. */
MW_INLINE mw__tstate *mw__tstate_checked(const char *func)
{
    mw__tstate *t = mw__tls_tstate;
    if (mw_likely(t != NULL && !t->blocking)) {
        return t;
    }
    return mw__tstate_error(func);
}

/* ======================================================================
 * Reference counting (refcount.c)
 * ====================================================================== */

void mw__dealloc(mw_object *o);
bool mw__decref_is_last(mw_object *o, mw__tstate *t);
void mw__brc_merge_queue(mw__tstate *t, bool detach);
void mw__brc_adopt(mw__tstate *t);
void mw__rc_make_shared(mw_object *o);
/* Fold o's owner count into its shared count (MERGED, no owner) while its
 * owner cannot run (the world stopped): from then on any thread counts it
 * atomically and the one that takes it to zero frees it.  Objects queued
 * for their owner are left as they are. */
void mw__rc_merge_stopped(mw_object *o);
bool mw__rc_try_incref(mw_object *o);
/* weakref.c: clear o's weak references at its death and call callbacks. */
void mw__weakrefs_clear(mw_object *o);
/* The same in two steps (the collector's, in free mode: the first with the
 * world stopped, the second after it resumes): clear o's weak references,
 * pushing those with a callback (each holding a new reference to itself)
 * onto calls, which is returned; then call them, each followed by
 * after_each (if not NULL) on the weak reference, and drop them. */
struct mw__weakref *mw__weakrefs_detach(mw_object *o, struct mw__weakref *calls);
void mw__weakrefs_call(struct mw__weakref *calls, void (*after_each)(mw_object *weakref));

MW_INLINE bool mw__is_immortal(const mw_object *o)
{
    return (o->ob_flags & MW__OBJ_IMMORTAL) != 0;
}

/* Make o immortal (it must not be shared with other threads yet). */
MW_INLINE void mw__make_immortal(mw_object *o)
{
    o->ob_flags |= MW__OBJ_IMMORTAL;
}

/* Count a new reference.  Attached thread only. */
MW_INLINE void mw__incref(mw_object *o)
{
    if (mw__is_immortal(o)) {
        return;
    }
    if (!mw__free_mode ||
        mw__atomic_load_relaxed(&o->ob_owner) == (uintptr_t)mw__tls_tstate) {
        mw__atomic_store_relaxed(&o->ob_ref_local,
                                 mw__atomic_load_relaxed(&o->ob_ref_local) + 1);
    } else {
        // The non-owner's path: refuse an object of a confined thread
        // (tstates are never freed, so the owner's flag can be read).  The
        // owner's path above is the same instructions as without it.
        uintptr_t owner = mw__atomic_load_relaxed(&o->ob_owner);
        if (mw_unlikely(owner != 0 &&
                        mw__atomic_load_relaxed(&((mw__tstate *)owner)->confined))) {
            mw__confine_violation(o, "counted a reference to (incref)", owner);
        }
        mw__atomic_add_relaxed(&o->ob_ref_shared, MW__SHARED_ONE);
    }
}

/* Drop a reference; free o if it was the last.  Attached thread only. */
MW_INLINE void mw__decref(mw_object *o)
{
    if (mw__is_immortal(o)) {
        return;
    }
    if (!mw__free_mode ||
        mw__atomic_load_relaxed(&o->ob_owner) == (uintptr_t)mw__tls_tstate) {
        uint32_t local = mw__atomic_load_relaxed(&o->ob_ref_local) - 1;
        mw__atomic_store_relaxed(&o->ob_ref_local, local);
        if (mw_likely(local != 0)) {
            return;
        }
        if (!mw__free_mode) {
            mw__dealloc(o);   // the GIL-mode count is the whole count
            return;
        }
    }
    if (mw__decref_is_last(o, mw__tls_tstate)) {
        mw__dealloc(o);
    }
}

MW_INLINE void mw__xdecref(mw_object *o)
{
    if (o != NULL) {
        mw__decref(o);
    }
}

/* Store a new reference in *slot, dropping the old one after the store (so
 * a finalizer that runs on the old one sees a consistent container). */
MW_INLINE void mw__setref(mw_object **slot, mw_object *o)
{
    mw_object *old = *slot;
    mw__incref(o);
    *slot = o;
    mw__xdecref(old);
}

/* ======================================================================
 * Allocation of objects (object.c)
 * ====================================================================== */

/*
 * Memory for objects and their arrays: the heap's pools, except in an
 * AddressSanitizer build, where it is the C library's malloc, which ASan
 * instruments: ASan cannot see inside the pools, and a use after free or an
 * overflow in object code (the classic collector bug) must be caught where
 * it happens.  The allocator's own suite still runs its pools under ASan.
 */
#if defined(__SANITIZE_ADDRESS__)
#define MW__OBJECT_SYSTEM_MALLOC 1
#include <stdlib.h>
#define mw__mem_malloc(n)      malloc(n)
#define mw__mem_calloc(n, s)   calloc((n), (s))
#define mw__mem_realloc(p, n)  realloc((p), (n))
#define mw__mem_free(p)        free(p)
#else
#define MW__OBJECT_SYSTEM_MALLOC 0
#define mw__mem_malloc(n)      mw_malloc(n)
#define mw__mem_calloc(n, s)   mw_calloc((n), (s))
#define mw__mem_realloc(p, n)  mw_realloc((p), (n))
#define mw__mem_free(p)        mw_free(p)
#endif

/* Allocate and initialize an object of type t with size bytes (>= t->size
 * for variable-size objects), count 1, owned by the calling thread.  The
 * rest is zeroed.  NULL with MW_ERR_NOMEM. */
mw_object *mw__obj_alloc(const mw_type *t, size_t size);
/* The same with the body (the bytes after the header) left as the
 * allocator gave them: for types that set every field of it before the
 * object can be seen (ints), or that keep to what they did set (a dict's
 * or set's inline table, read only once its first insert wrote it). */
mw_object *mw__obj_alloc_uninit(const mw_type *t, size_t size);
/* Give an object's memory back (after clear/destroy). */
void mw__obj_free(mw_object *o);

/* The hidden words in front of an object: the head of its weak-reference
 * list (types with MW_TYPE_WEAKREF), then the collector's link header
 * (MW_TYPE_GC), then the object. */
MW_INLINE size_t mw__gc_prefix(const mw_type *t)
{
    return (t->flags & MW_TYPE_GC) ? sizeof(mw__gc_head) : 0;
}
MW_INLINE size_t mw__prefix_size(const mw_type *t)
{
    return mw__gc_prefix(t) + ((t->flags & MW_TYPE_WEAKREF) ? sizeof(void *) : 0);
}
struct mw__weakref;
MW_INLINE struct mw__weakref **mw__weaklist_of(mw_object *o)
{
    return (struct mw__weakref **)((char *)o - mw__gc_prefix(o->ob_type) - sizeof(void *));
}

/* ======================================================================
 * Types' internals shared across files
 * ====================================================================== */

typedef struct mw__int {
    mw_object ob;
    int64_t value;
} mw__int;

typedef struct mw__str {
    mw_object ob;
    size_t len;
    _Atomic(int64_t) hash;   /* -1 until computed; racing writers agree */
    char data[];             /* len bytes and a NUL */
} mw__str;

typedef struct mw__tuple {
    mw_object ob;
    size_t len;
    mw_object *items[];
} mw__tuple;

typedef struct mw__list {
    mw_object ob;
    size_t len;
    size_t cap;
    mw_object **items;
} mw__list;

extern const mw_type mw__none_type;
extern const mw_type mw__bool_type;

MW_INLINE bool mw__is_type(const mw_object *o, const mw_type *t)
{
    return o != NULL && o->ob_type == t;
}

/* Visit each non-NULL object of items[0..n-1]; the first non-zero result
 * of visit, or 0 (the traverse of tuple and list). */
int mw__visit_items(mw_object *const *items, size_t n, mw_visit_fn visit, void *arg);

/* str.c: a new str of n bytes (uninitialized data, NUL-terminated). */
mw__str *mw__str_alloc(size_t n);
int64_t mw__str_hash(mw__str *s);
bool mw__str_eq(const mw__str *a, const mw__str *b);
/* list.c: append without the argument checks; 0 or -1 (nomem). */
int mw__list_append(mw__list *l, mw_object *o);
/* dict.c, set.c: walk the members (borrowed); the container must not change
 * during the walk.  Start with *pos = 0; false at the end. */
bool mw__dict_next(mw_object *d, size_t *pos, mw_object **key, mw_object **value);
bool mw__set_next(mw_object *s, size_t *pos, mw_object **key);
int mw__dict_equal(mw_object *a, mw_object *b, int depth);
int mw__set_equal(mw_object *a, mw_object *b);
/* The runtime-wide caches (object.c, str.c, int.c), built once per process. */
void mw__caches_init(void);
void mw__str_cache_init(void);
void mw__int_cache_init(void);

/* Hash and equality with a depth bound (object.c). */
int64_t mw__hash(mw_object *o, int depth);
int mw__equal(mw_object *a, mw_object *b, int depth);

/* mw__hash(o, 0) with the common keys inline (dict.c, set.c): a str whose
 * hash is cached, an int.  The same values as mw__hash. */
MW_INLINE int64_t mw__hash_key(mw_object *o)
{
    if (mw_likely(o != NULL)) {
        if (o->ob_type == &mw_str_type) {
            int64_t h = mw__atomic_load_relaxed(&((mw__str *)o)->hash);
            if (mw_likely(h != -1)) {
                return h;
            }
        } else if (o->ob_type == &mw_int_type) {
            int64_t v = ((mw__int *)o)->value;
            return v == -1 ? -2 : v;   // as mw__hash
        }
    }
    return mw__hash(o, 0);
}

/* The GIL (gil.c). */
void mw__gil_init(mw__gil *g);
void mw__gil_destroy(mw__gil *g);
void mw__gil_take(mw_runtime *rt, mw__tstate *t);
void mw__gil_drop(mw_runtime *rt, mw__tstate *t, bool hand_over);
/* Take the GIL only if it is free now (true), else false at once. */
bool mw__gil_try_take(mw_runtime *rt, mw__tstate *t);
/* Take the GIL, asking the holder to let go at once rather than after a
 * switch interval (the master's collections). */
void mw__gil_take_urgent(mw_runtime *rt, mw__tstate *t);

#endif /* MW_OBJECT_INTERNAL_H */
