/*
 * gc.c - the generational cycle collector.  Start reading at collect().
 *
 * ======================================================================
 * The technique (CPython's Modules/gcmodule.c)
 * ======================================================================
 *
 * Every container (MW_TYPE_GC) has a link header in front of it
 * (mw__gc_head: next, prev, refs) and sits, from creation, in one of the
 * circular lists gens[0..2] (young to old) or in the permanent generation.
 * To collect generations 0..g:
 *
 *   1. merge them into one list, "young";
 *   2. update_refs: refs = the reference count, for each object in young;
 *   3. subtract_refs: for each object, traverse it and subtract 1 from the
 *      refs of each referent that is in young: what is left is the number
 *      of references from outside young;
 *   4. move_unreachable: objects with refs > 0 are reachable from outside,
 *      and so is everything they reach; the rest move to "unreachable";
 *   5. weak references to the unreachable are cleared (callbacks called),
 *      then finalizers run, once per object ever;
 *   6. steps 2-4 again on the unreachable: whatever a finalizer or
 *      callback made reachable again survives, with all it references;
 *   7. clear each object still unreachable: that drops the references that
 *      hold the cycle together, and counting frees it.  An object whose
 *      type has no clear is uncollectable: it goes to the garbage list;
 *   8. the survivors move one generation up.
 *
 * A full collection of the shared heap does steps 2 and 3 in one walk
 * (update_subtract_full: every tracked container is in it, so a child's
 * refs can be set the first time anything meets it); step 4 skips the
 * traverse of an object step 3 found no child of in the collection (LEAF);
 * and steps 5 and 7 skip their walks over the garbage when no type in it
 * needs them (move_unreachable's kinds).
 *
 * Bits borrowed: ob_gc_bits has COLLECTING (in young, so its refs mean
 * something) and UNREACHABLE (moved to the unreachable list in step 4).
 * Invariant between collections: no object has either bit, and every
 * tracked object is in exactly one list.  TRACKED mirrors list membership
 * at all times (set exactly when the link header's next is not NULL), so
 * that a store can test it without list_lock.
 *
 * Atomicity: a collection runs with the heap standing still - under the
 * GIL in MW_LOCK_GIL mode, or with the collecting thread the only one
 * attached in MW_LOCK_FREE mode (stopping the other workers is the master
 * thread's job, not built yet).  The lists are changed only by container
 * allocation and death besides; in free mode those take list_lock, since
 * threads allocate and free containers concurrently between collections.
 * Finalizers and weak-reference callbacks run inside the collection (as in
 * CPython) but after step 4, on a consistent heap; a collection they would
 * trigger is refused (collecting).
 *
 * Untracking what cannot be in a cycle, as CPython does: tuples none of
 * whose items may be tracked are untracked as step 2 passes them; dicts
 * and sets are made untracked, tracked at the first store that needs it
 * (mw__gc_track_for, object/object.h), and untracked again by step 2 of a
 * full collection once all they hold is atomic; lists are tracked when
 * made, and untracked and re-tracked as dicts are.  See docs/objects.md.
 *
 * Heaps: the shared heap (MAIN) holds every unconfined thread's
 * containers; a thread that called mw_thread_confine has its own
 * (mw__gc_heap, t->gc_heap), which only it touches and collects, with the
 * world running (collect() with h->owner set: no stop, no list_lock, and
 * only the owner's objects looked at; see "Confined heaps" below and
 * docs/sched.md).  Its objects carry MW__GC_CONFINED so that their death
 * unlinks them from the right lists.
 */
#include "object/object.h"
#include "sched/sched.h"

#include <mwrt/gc.h>
#include <mwrt/hist.h>

#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NGENS MW_GC_GENERATIONS
#define MAX_CALLBACKS 16

/* Statistics of one heap, or of all together (under stats_lock). */
typedef struct stats_set {
    mw_gc_stats stats;
    struct {
        mw_hist pause, safepoint, examined, collected;
    } hist[NGENS];
    mw_hist pause_all, safepoint_all;
} stats_set;

/*
 * A heap of the collector: generations, counts, thresholds, the garbage
 * list and the collection in progress.  There is one shared heap (gc.main)
 * for every unconfined thread, changed under list_lock in free mode, and
 * one per confined thread (mw_thread_confine), which only that thread
 * touches, without a lock (the master reads its atomics, under heaps_lock,
 * to decide when to ask for a collection).
 */
/* Entries of a heap's young log (see update_refs): a threshold-sized
 * generation 0 fits; beyond that the log stops and the walk prefetches
 * only one object ahead, as before. */
#define YLOG_CAP 2048
/* How many objects ahead of the walk the young log is prefetched: enough
 * misses in flight to hide a memory latency that is some 20 walk steps. */
#define YLOG_AHEAD 12

typedef struct mw__gc_heap {
    mw__gc_head gens[NGENS];
    mw__gc_head permanent;
    _Atomic(int) threshold[NGENS];   /* set by any thread, read relaxed */
    _Atomic(int) count[NGENS];   /* under list_lock (or the GIL), or the
                                    owner's; read relaxed */
    _Atomic(bool) collecting;     /* read by any thread: see may_collect_here */
    _Atomic(size_t) long_lived_total;   /* survivors of the last full collection */
    _Atomic(size_t) long_lived_pending; /* survivors into gen 2 since then */
    mw_object *garbage;           /* list, or NULL until first needed */
    /* The young log: the headers linked into generation 0 since the last
     * collection, in link order (= list order; untracked ones stay in it,
     * stale, which is harmless: it is only ever prefetched).  Written with
     * count[0], under the same serialization. */
    unsigned nylog;
    mw__gc_head *ylog[YLOG_CAP];
    /* Garbage an automatic collection found and left to be cleared a few
     * objects at a time (see pending_drain); GIL mode, shared heap only,
     * so under the GIL.  draining: a drain is under way (one may release
     * the GIL inside a finalizer; another thread then leaves the list to
     * it, except a collection, which drains it all first). */
    mw__gc_head pending;
    _Atomic(bool) pending_any;    /* pending is not empty: for the master's
                                     look without the GIL (relaxed: a hint) */
    bool draining;
    stats_set st;                 /* under stats_lock */
    /* the collection in progress (shared: under collect_lock) */
    bool world_stopped;
    bool requested;               /* asked for by the master */
    uint64_t began_at, stopped_at;
    uint64_t pause_ns;            /* stopped so far */
    uint64_t safepoint_ns;        /* waited for workers to park so far */
    /* confined heaps only */
    mw__tstate *owner;            /* NULL: the shared heap */
    _Atomic(size_t) tracked;      /* containers in it */
    struct mw__gc_heap *next_heap; /* the registry, under heaps_lock */
} mw__gc_heap;

static struct {
    mw__gc_heap main;             /* the shared heap */
    _Atomic(bool) enabled;
    _Atomic(int) full_growth;     /* percent (mwrt/gc.h); any thread, relaxed */
    unsigned debug;
    long torture;                 /* collect every N allocations (0: off) */
    _Atomic(long) torture_countdown;
    struct {
        mw_gc_callback cb;
        void *arg;
    } callbacks[MAX_CALLBACKS];
    int ncallbacks;
    stats_set total;              /* every heap's collections; under stats_lock */
    /* the shared heap's collection in progress (under collect_lock) */
    _Atomic(mw__tstate *) collector;
    _Atomic(uint64_t) retry_after; /* no automatic stop before this (ns);
                                     any worker, relaxed: a hint */
} gc;

/* The confined heaps of attached threads (the master walks them). */
static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static mw__gc_heap *heaps;
static size_t nheaps;

#define MAIN (&gc.main)

/* The heap the calling thread's containers go to. */
MW_INLINE mw__gc_heap *heap_of_caller(void)
{
    mw__tstate *t = mw__tls_tstate;
    return t != NULL && t->gc_heap != NULL ? t->gc_heap : MAIN;
}

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static intptr_t collect(mw__gc_heap *h, int gen, mw__gc_reason reason);
static bool world_stop(mw__tstate *t, unsigned timeout_ms, bool try_only);
static void world_start(void);

/* ======================================================================
 * Lists
 * ====================================================================== */

static void list_init(mw__gc_head *l)
{
    l->next = l->prev = l;
}

static bool list_empty(const mw__gc_head *l)
{
    return l->next == l;
}

static void list_append(mw__gc_head *l, mw__gc_head *g)
{
    g->prev = l->prev;
    g->next = l;
    l->prev->next = g;
    l->prev = g;
}

static void list_remove(mw__gc_head *g)
{
    g->prev->next = g->next;
    g->next->prev = g->prev;
    g->next = g->prev = NULL;
}

static void list_move(mw__gc_head *g, mw__gc_head *to)
{
    g->prev->next = g->next;
    g->next->prev = g->prev;
    list_append(to, g);
}

/* Append every node of from to to; from becomes empty. */
static void list_merge(mw__gc_head *from, mw__gc_head *to)
{
    if (!list_empty(from)) {
        to->prev->next = from->next;
        from->next->prev = to->prev;
        to->prev = from->prev;
        from->prev->next = to;
        list_init(from);
    }
}

static size_t list_size(const mw__gc_head *l)
{
    size_t n = 0;
    for (const mw__gc_head *g = l->next; g != l; g = g->next) {
        n++;
    }
    return n;
}

/* ======================================================================
 * Tracking (any attached thread, between collections)
 * ====================================================================== */

static void heap_init(mw__gc_heap *h, const _Atomic(int) *thresholds, const int *values)
{
    for (int i = 0; i < NGENS; i++) {
        list_init(&h->gens[i]);
        atomic_store_explicit(&h->count[i], 0, memory_order_relaxed);
        mw__atomic_store_relaxed(&h->threshold[i], thresholds != NULL
                                     ? mw__atomic_load_relaxed(&thresholds[i]) : values[i]);
    }
    list_init(&h->permanent);
    list_init(&h->pending);
    mw__atomic_store_relaxed(&h->pending_any, false);
    h->draining = false;
    atomic_store(&h->collecting, false);
    mw__atomic_store_relaxed(&h->long_lived_total, 0);
    mw__atomic_store_relaxed(&h->long_lived_pending, 0);
    mw__atomic_store_relaxed(&h->tracked, 0);
    h->garbage = NULL;
    h->world_stopped = false;
    h->requested = false;
    h->owner = NULL;
    h->next_heap = NULL;
}

void mw__gc_runtime_init(void)
{
    const mw_config *cfg = &mw__runtime->config;
    heap_init(MAIN, NULL, cfg->threshold);
    mw__atomic_store_relaxed(&gc.enabled, true);   // the policy decides what runs
    mw__atomic_store_relaxed(&gc.full_growth, cfg->gc_full_growth);
    gc.debug = 0;
    gc.ncallbacks = 0;
    mw_gc_reset_stats();
    atomic_store(&gc.collector, (mw__tstate *)NULL);
    mw__atomic_store_relaxed(&gc.retry_after, 0);
    const char *torture = getenv("MWRT_GC_TORTURE");
    gc.torture = torture != NULL ? strtol(torture, NULL, 10) : 0;
    if (gc.torture < 0) {
        gc.torture = 0;
    }
    atomic_store(&gc.torture_countdown, gc.torture);
}

/* Untrack whatever outlives the runtime, so that its later death does not
 * write into the lists of the next runtime. */
void mw__gc_runtime_fini(void)
{
    // (Pending garbage is cleared as the threads detach, so its list is
    // empty here; were it not, its objects would outlive the runtime too.)
    mw__gc_head *lists[NGENS + 2] = {&MAIN->gens[0], &MAIN->gens[1], &MAIN->gens[2],
                                     &MAIN->permanent, &MAIN->pending};
    for (int i = 0; i <= NGENS + 1; i++) {
        while (!list_empty(lists[i])) {
            mw__gc_head *g = lists[i]->next;
            mw__gc_object_of(g)->ob_gc_bits &= (uint16_t)~MW__GC_TRACKED;
            list_remove(g);
        }
    }
    // The garbage list and its objects outlive the runtime (nothing can
    // free an uncollectable object); a process-wide array keeps them
    // reachable rather than lost, which is also what leak checkers see.
    if (MAIN->garbage != NULL) {
        static mw_object **graveyard;
        static size_t buried;
        mw_object **more = realloc(graveyard, (buried + 1) * sizeof *more);
        if (more != NULL) {
            graveyard = more;
            graveyard[buried++] = MAIN->garbage;
        }
        MAIN->garbage = NULL;
    }
}

/* Note g, just linked at the end of h's generation 0, in its young log. */
MW_INLINE void ylog_note(mw__gc_heap *h, mw__gc_head *g)
{
    unsigned n = h->nylog;
    if (n < YLOG_CAP) {
        h->ylog[n] = g;
        h->nylog = n + 1;
    }
}

/* Link o into generation 0 of h, a confined heap (the caller's; o is its
 * own), or of the shared heap (h NULL), counting it there. */
static void track_in(mw__gc_heap *h, mw_object *o)
{
    mw__gc_head *g = mw__gc_head_of(o);
    if (h != NULL) {
        // A confined thread's: its own list, no lock.
        mw_assert_internal(h->owner == mw__tls_tstate &&
                           mw__atomic_load_relaxed(&o->ob_owner) == (uintptr_t)h->owner);
        mw_assert_internal(g->next == NULL && !(o->ob_gc_bits & MW__GC_TRACKED));
        o->ob_gc_bits |= MW__GC_CONFINED | MW__GC_TRACKED;
        list_append(&h->gens[0], g);
        ylog_note(h, g);
        mw__atomic_store_relaxed(&h->count[0], mw__atomic_load_relaxed(&h->count[0]) + 1);
        mw__atomic_store_relaxed(&h->tracked, mw__atomic_load_relaxed(&h->tracked) + 1);
        return;
    }
    if (mw__free_mode) {
        pthread_mutex_lock(&list_lock);
    }
    mw_assert_internal(g->next == NULL && !(o->ob_gc_bits & (MW__GC_TRACKED | MW__GC_CONFINED)));
    o->ob_gc_bits |= MW__GC_TRACKED;
    list_append(&MAIN->gens[0], g);
    ylog_note(MAIN, g);
    // Writers are serialized (list_lock or the GIL: see mw__gc_heap), so a
    // load and a store, not a locked add; readers see one or the other.
    mw__atomic_store_relaxed(&MAIN->count[0], mw__atomic_load_relaxed(&MAIN->count[0]) + 1);
    if (mw__free_mode) {
        pthread_mutex_unlock(&list_lock);
    }
}

void mw__gc_track(mw_object *o)
{
    mw__tstate *t = mw__tls_tstate;
    // A new object is the caller's own: a confined caller's goes to its heap.
    track_in(t != NULL ? t->gc_heap : NULL, o);
}

/*
 * The first store that needs it tracks a dict or set (object.h).  The
 * container need not be the caller's: a confined thread may change a
 * shared dict, and an unconfined one a dict of a thread that has since
 * detached.  So the caller's own heap only when the caller is confined
 * and owns it (then it was made there, after confinement: runtime.c);
 * else the shared heap, as for a container made by an unconfined thread.
 * The store's confinement check ran before, so a container of another
 * confined thread never gets here.  Counted in generation 0 like a new
 * container: it is new to the collector.
 */
void mw__gc_track_lazily(mw_object *o)
{
    mw__tstate *t = mw__tls_tstate;
    mw_assert_internal(mw__gc_retrackable(o->ob_type));
    mw_assert_internal(t == NULL || mw__confined_elsewhere(o, t) == 0);
    bool own = t != NULL && t->gc_heap != NULL &&
               mw__atomic_load_relaxed(&o->ob_owner) == (uintptr_t)t;
    track_in(own ? t->gc_heap : NULL, o);
}

int mw_gc_track_for(mw_object *container, mw_object *item)
{
    if (container == NULL || !(container->ob_type->flags & MW_TYPE_GC) ||
        !mw__gc_lazy_type(container->ob_type)) {
        mw_err_set(MW_ERR_TYPE, "mw_gc_track_for: %s is not a lazily tracked container",
                   container == NULL ? "NULL" : container->ob_type->name);
        return -1;
    }
    if (!mw__confine_store_check("mw_gc_track_for", container, item)) {
        return -1;
    }
    if (item != NULL) {
        mw__gc_track_for(container, item);
    }
    return 0;
}

void mw__gc_untrack(mw_object *o)
{
    mw__gc_head *g = mw__gc_head_of(o);
    if (!(o->ob_gc_bits & MW__GC_TRACKED)) {
        // Never tracked (a dict or set that held only atomic objects), or
        // untracked by a collection: in no list, so no lock to take.  (The
        // dying object's bits are the dying thread's alone.)
        mw_assert_internal(g->next == NULL && !(o->ob_gc_bits & MW__GC_CONFINED));
        return;
    }
    o->ob_gc_bits &= (uint16_t)~MW__GC_TRACKED;
    if (mw__atomic_load_relaxed(&mw__confine_any) && (o->ob_gc_bits & MW__GC_CONFINED)) {
        // Only its owner can have dropped the last reference (any other
        // thread's count is refused), so this is the owner, confined.
        mw__gc_heap *h = mw__tls_tstate->gc_heap;
        mw_assert(h != NULL && h->owner == mw__tls_tstate);
        if (g->next != NULL) {
            list_remove(g);
            int c = mw__atomic_load_relaxed(&h->count[0]);
            if (c > 0) {
                mw__atomic_store_relaxed(&h->count[0], c - 1);
            }
            mw__atomic_store_relaxed(&h->tracked, mw__atomic_load_relaxed(&h->tracked) - 1);
        }
        return;
    }
    if (mw__free_mode) {
        pthread_mutex_lock(&list_lock);
    }
    if (g->next != NULL) {
        list_remove(g);
        int c = mw__atomic_load_relaxed(&MAIN->count[0]);
        if (c > 0) {
            mw__atomic_store_relaxed(&MAIN->count[0], c - 1);  // serialized, as above
        }
    }
    if (mw__free_mode) {
        pthread_mutex_unlock(&list_lock);
    }
}

bool mw_gc_is_tracked(mw_object *o)
{
    // The bit, not the link: that changes under list_lock as neighbours do.
    return o != NULL && (o->ob_type->flags & MW_TYPE_GC) && (o->ob_gc_bits & MW__GC_TRACKED);
}

/* ======================================================================
 * The algorithm
 * ====================================================================== */

/* The confined heap being collected on this thread, or NULL (the shared
 * heap's collection, or none).  A confined collection looks only at its
 * owner's objects: the bits and link headers of a shared object belong to
 * the shared heap's collector, which may be using them on another thread
 * at the same moment. */
static __thread mw__gc_heap *tls_confined;

/* child is a container of the collection under way on this thread. */
MW_INLINE bool in_this_collection(const mw_object *child)
{
    if (child == NULL || !(child->ob_type->flags & MW_TYPE_GC)) {
        return false;
    }
    mw__gc_heap *c = tls_confined;
    if (c != NULL &&
        mw__atomic_load_relaxed(&((mw_object *)child)->ob_owner) != (uintptr_t)c->owner) {
        return false;
    }
    return true;
}

/* A confined collection is a safepoint every 1024 objects: a stop of the
 * shared heap's collector waits for it no longer than that.  Parking
 * midway is safe: nothing the shared collector touches is in this heap. */
MW_INLINE void confined_poll(unsigned *n)
{
    mw__gc_heap *c = tls_confined;
    if (c != NULL && (++*n & 1023u) == 0) {
        mw__sched_poll(c->owner);
    }
}

/* The whole count of o (both fields in free mode), inline: update_refs
 * reads it for every object in the generations collected. */
MW_INLINE intptr_t count_of(mw_object *o)
{
    return (intptr_t)mw__atomic_load_relaxed(&o->ob_ref_local) +
           (mw__atomic_load_acquire(&o->ob_ref_shared) >> MW__SHARED_SHIFT);
}

/*
 * Untracking (CPython's): a container none of whose items, keys or values
 * may be tracked (object.h: mw__gc_may_be_tracked) can never be part of a
 * cycle, so it leaves the lists and later collections skip it.  Young is
 * in allocation order, so a tree of tuples is untracked leaves first, in
 * one pass.  An object untracked here that is garbage all the same (held
 * by a cycle) is not in the cycle, so clearing the cycle frees it.
 *
 * One test of an item, key or value for every kind of container.  An item
 * in this collection is judged by mw__gc_may_be_tracked: tracked, or a dict
 * or set, which a later store may track without its container knowing.  An
 * item outside this collection exists only in a confined one: a shared
 * object.  While the thread is confined that cannot lead back (nothing
 * shared references a confined object), but after it detaches its objects
 * are shared ones and the shared object may come to reference the
 * container; and the shared object's bits are the shared collector's to
 * read.  So it counts as may-be-tracked, except the immortal empty tuple,
 * which holds nothing.
 */
static bool child_may_be_in_cycle(mw_object *child)
{
    if (child == NULL || !(child->ob_type->flags & MW_TYPE_GC)) {
        return false;
    }
    if (!in_this_collection(child)) {
        return !(mw__is_immortal(child) && child->ob_type == &mw_tuple_type);
    }
    return mw__gc_may_be_tracked(child);
}

static int visit_may_be_in_cycle(mw_object *child, void *arg)
{
    (void)arg;
    return child_may_be_in_cycle(child) ? 1 : 0;   // the first one stops the walk
}

/* Which containers step 2 may untrack. */
typedef enum untrack_what {
    UNTRACK_NONE,     /* step 6, on what step 4 found unreachable: that
                         is in a private list and (free mode) held by the
                         collector, and a finalizer may have emptied a
                         dict of it; untracked there, the dict would leave
                         the garbage with the collector's reference */
    UNTRACK_TUPLES,   /* a collection of the young generations */
    UNTRACK_ALL,      /* a full collection: dicts and sets too */
} untrack_what;

/*
 * o cannot be in a cycle and may leave the lists.  Tuples in every
 * collection; dicts and sets only in full ones, as CPython does for dicts:
 * a dict being filled with tuples (tracked when made) would otherwise be
 * untracked by each young collection and tracked again by the next store,
 * back into generation 0, and walked whole by every young collection -
 * quadratic in its size.  A dict or set that stays tracked moves up the
 * generations and costs only what any container does.
 */
static bool untrackable(mw_object *o, untrack_what what)
{
    const mw_type *t = o->ob_type;
    if (t == &mw_tuple_type && what != UNTRACK_NONE) {
        mw__tuple *tu = (mw__tuple *)o;
        for (size_t i = 0; i < tu->len; i++) {
            if (child_may_be_in_cycle(tu->items[i])) {
                return false;
            }
        }
        return true;
    }
    if (what == UNTRACK_ALL && mw__gc_retrackable(t)) {
        return t->traverse(o, visit_may_be_in_cycle, NULL) == 0;
    }
    return false;
}

/* Ask for the next object's header (link, counts, type: the first two
 * cache lines) while this one is walked: a list of containers is a chain
 * of loads, each a likely miss in a large generation. */
MW_INLINE void prefetch_next(const mw__gc_head *g)
{
    __builtin_prefetch(g->next);
    __builtin_prefetch((const char *)g->next + 64);
}

/*
 * Step 2, with untracking folded in (one pass over young instead of two);
 * returns the number of objects left in young.
 *
 * The first pass over young meets each header cold, and a linked list
 * lets the walk ask for the next one only once it has this one: one
 * memory latency per object, in series.  In a service, whose requests'
 * objects are scattered over the heap by the time a young collection
 * runs, that was most of the pause (bench/gc's ygcold case).  So a young
 * collection is given log, the addresses of generation 0's headers in
 * list order (the young log, recorded as they were linked), and asks for
 * the header YLOG_AHEAD objects ahead: many misses in flight at once.
 * Stale entries (objects untracked since) make the log run ahead of the
 * list, a little early; prefetching freed memory is harmless.
 */
static size_t update_refs(mw__gc_head *young, untrack_what what, mw__gc_head *const *log,
                          unsigned nlog)
{
    size_t n = 0;
    unsigned polls = 0;
    unsigned ahead = 0;
    for (; ahead < YLOG_AHEAD && ahead < nlog; ahead++) {
        __builtin_prefetch(log[ahead]);
        __builtin_prefetch((const char *)log[ahead] + 64);
    }
    mw__gc_head *g = young->next;
    while (g != young) {
        confined_poll(&polls);
        mw__gc_head *next = g->next;
        mw_object *o = mw__gc_object_of(g);
        if (ahead < nlog) {
            __builtin_prefetch(log[ahead]);
            __builtin_prefetch((const char *)log[ahead] + 64);
            ahead++;
        } else {
            prefetch_next(g);
        }
        if (untrackable(o, what)) {
            // Untracked: out of the list, without the bits that say it is
            // in one (a stale CONFINED would send its death, perhaps on
            // another thread after a detach, to a confined heap's lists).
            list_remove(g);
            o->ob_gc_bits &= (uint16_t)~(MW__GC_TRACKED | MW__GC_CONFINED);
            if (tls_confined != NULL) {
                mw__atomic_sub_relaxed(&tls_confined->tracked, 1);
            }
        } else {
            // The collector's own reference (step 6, free mode) is not one
            // from outside.
            g->refs = count_of(o) - ((o->ob_gc_bits & MW__GC_HELD) ? 1 : 0);
            o->ob_gc_bits |= MW__GC_COLLECTING;
            n++;
        }
        g = next;
    }
    return n;
}

/*
 * Walk o's children with visit.  Lists and tuples, most of what a heap of
 * containers holds, are walked here directly: their traverse hooks are
 * known to be exactly this loop, and with visit a constant of an inlined
 * call the compiler makes the walk one loop with no indirect call per
 * object or per child - about a third of a young collection's time when
 * each went through traverse and mw__visit_items.  Other types use their
 * hook.
 */
MW_INLINE int traverse_children(mw_object *o, mw_visit_fn visit, void *arg)
{
    const mw_type *t = o->ob_type;
    mw_object *const *items;
    size_t n;
    if (t == &mw_list_type) {
        items = ((mw__list *)o)->items;
        n = ((mw__list *)o)->len;
    } else if (t == &mw_tuple_type) {
        items = ((mw__tuple *)o)->items;
        n = ((mw__tuple *)o)->len;
    } else {
        return t->traverse != NULL ? t->traverse(o, visit, arg) : 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i] != NULL) {
            int r = visit(items[i], arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

/* What step 3 counts: the children of the object walked that are in the
 * collection, and over the whole walk the references to containers of
 * this heap that are not (in a full collection: untracked ones, each a
 * header the walk reads for nothing; see heap_generation_due). */
typedef struct subtract {
    size_t members;
    size_t outside;
} subtract;

static int visit_decref(mw_object *child, void *arg)
{
    if (in_this_collection(child)) {
        if (child->ob_gc_bits & MW__GC_COLLECTING) {
            mw__gc_head_of(child)->refs--;
            ((subtract *)arg)->members++;
        } else {
            ((subtract *)arg)->outside++;
        }
    }
    return 0;
}

/*
 * Step 3.  An object none of whose children is in the collection - a list
 * of ints, or of dicts the collector does not track - is marked LEAF, and
 * step 4 does not traverse it again: nothing it holds has refs to raise,
 * and its children's headers (one cold load each, for their type) are not
 * read twice.  Which children are in the collection cannot change between
 * the two steps (COLLECTING is only set before step 3, only cleared in
 * step 4), so LEAF stays true until step 4 clears it with COLLECTING;
 * every place that clears COLLECTING clears LEAF.
 */
static size_t subtract_refs(mw__gc_head *young)
{
    unsigned polls = 0;
    subtract sub = {0, 0};
    for (mw__gc_head *g = young->next; g != young; g = g->next) {
        confined_poll(&polls);
        prefetch_next(g);
        mw_object *o = mw__gc_object_of(g);
        sub.members = 0;
        traverse_children(o, visit_decref, &sub);
        if (sub.members == 0) {
            o->ob_gc_bits |= MW__GC_LEAF;
        }
    }
    return sub.outside;
}

/*
 * Steps 2 and 3 in one pass, for a full collection of the shared heap
 * with an empty permanent generation (update_subtract_full's caller
 * decides).  Then every container that is tracked and not confined is in
 * young: the shared heap holds no confined container, nothing in it
 * references one (the confinement checks of every store), and the only
 * tracked containers outside its generations - the pending garbage
 * (drained at the start of collect()) and the one a drain in progress
 * holds in its own list (collect() takes the three passes while
 * h->draining) - are excluded by the caller.  So membership is a test of
 * the child's bits, with no earlier pass needed to mark it, and a child's
 * refs can be set from its count the first time anything meets it: by its
 * referrer's traverse or by the walk reaching it, whichever comes first
 * (COLLECTING says it has been).  One walk of the list instead of two: the
 * pass that only read each header (update_refs) was a third of a large
 * collection's misses.
 *
 * Invariant at the end (checked at MWRT_DEBUG): the objects first met as
 * children are exactly the ones the walk then met already COLLECTING, so
 * no object outside young was given the bit.
 */
typedef struct fused {
    size_t early;   /* objects initialized by a referrer's traverse */
    size_t met;     /* objects the walk found initialized already */
    size_t members; /* children of the object walked that are members */
    size_t outside; /* references to containers that are not (untracked) */
} fused;

/* The whole count of o less the collector's own reference. */
MW_INLINE intptr_t outside_count(mw_object *o)
{
    return count_of(o) - ((o->ob_gc_bits & MW__GC_HELD) ? 1 : 0);
}

static int visit_decref_full(mw_object *child, void *arg)
{
    if (child == NULL || !(child->ob_type->flags & MW_TYPE_GC)) {
        return 0;
    }
    uint16_t bits = child->ob_gc_bits;
    if ((bits & (MW__GC_TRACKED | MW__GC_CONFINED)) != MW__GC_TRACKED) {
        ((fused *)arg)->outside++;
        return 0;
    }
    mw__gc_head *g = mw__gc_head_of(child);
    if (!(bits & MW__GC_COLLECTING)) {
        g->refs = outside_count(child);
        child->ob_gc_bits = (uint16_t)(bits | MW__GC_COLLECTING);
        ((fused *)arg)->early++;
    }
    g->refs--;
    ((fused *)arg)->members++;
    return 0;
}

/* Steps 2-3 fused (see above), untracking as update_refs does for a full
 * collection; returns the number of objects left in young, and in
 * *outside the references to containers outside the collection. */
static size_t update_subtract_full(mw__gc_head *young, size_t *outside)
{
    fused f = {0, 0, 0, 0};
    size_t n = 0;
    mw__gc_head *g = young->next;
    while (g != young) {
        mw__gc_head *next = g->next;
        mw_object *o = mw__gc_object_of(g);
        prefetch_next(g);
        uint16_t bits = o->ob_gc_bits;
        if (untrackable(o, UNTRACK_ALL)) {
            // Out of the lists; a referrer met it first (COLLECTING) and
            // counted it early: it is not a member after all.
            list_remove(g);
            o->ob_gc_bits = (uint16_t)(bits & ~(MW__GC_TRACKED | MW__GC_CONFINED |
                                                MW__GC_COLLECTING | MW__GC_LEAF));
            if (bits & MW__GC_COLLECTING) {
                f.early--;
            }
            g = next;
            continue;
        }
        if (bits & MW__GC_COLLECTING) {
            f.met++;
        } else {
            g->refs = outside_count(o);
            o->ob_gc_bits = (uint16_t)(bits | MW__GC_COLLECTING);
        }
        f.members = 0;
        traverse_children(o, visit_decref_full, &f);
        if (f.members == 0) {
            // (A member untracked later in this walk still counted: LEAF
            // is only ever too rarely set, never wrongly.)
            o->ob_gc_bits |= MW__GC_LEAF;   // see subtract_refs
        }
        n++;
        g = next;
    }
    mw_assert_internal(f.early == f.met);
    *outside = f.outside;
    return n;
}

/* A referent of a reachable object is reachable: if it was moved to the
 * unreachable list, it comes back to the end of young (and is scanned in
 * turn); if not seen yet, it is marked so it will not be moved.  One
 * already scanned has lost COLLECTING and is left alone. */
typedef struct reach {
    mw__gc_head *young;
    size_t brought_back;
} reach;

static int visit_reachable(mw_object *child, void *arg)
{
    reach *r = arg;
    if (!in_this_collection(child) || !(child->ob_gc_bits & MW__GC_COLLECTING)) {
        return 0;
    }
    mw__gc_head *g = mw__gc_head_of(child);
    if (child->ob_gc_bits & MW__GC_UNREACHABLE) {
        child->ob_gc_bits &= (uint16_t)~MW__GC_UNREACHABLE;
        g->refs = 1;
        list_move(g, r->young);
        r->brought_back++;
    } else if (g->refs == 0) {
        g->refs = 1;
    }
    return 0;
}

/* What the types of the objects moved to unreachable may need of steps
 * 5 and 7 (a superset: an object moved there may come back): each is a
 * pass over all the garbage otherwise, one cold header per object. */
#define KIND_FINALIZE 0x1u   /* weakly referenceable, or with a finalizer */
#define KIND_NO_CLEAR 0x2u   /* a type without clear (uncollectable) */

MW_INLINE unsigned kind_of(const mw_type *t)
{
    return ((t->flags & MW_TYPE_WEAKREF) || t->finalize != NULL ? KIND_FINALIZE : 0u) |
           (t->clear == NULL ? KIND_NO_CLEAR : 0u);
}

/*
 * Step 4: split young into reachable (stays) and unreachable.  A reachable
 * object loses COLLECTING as it is scanned (CPython's trick), so the
 * survivors end with no bits and need no pass of their own.  Returns the
 * number left in unreachable; ORs into *kinds the kind_of of each type
 * moved there.
 */
static size_t move_unreachable(mw__gc_head *young, mw__gc_head *unreachable, unsigned *kinds)
{
    unsigned k = 0;
    reach r = {.young = young};
    size_t moved = 0;
    unsigned polls = 0;
    mw__gc_head *g = young->next;
    while (g != young) {
        confined_poll(&polls);
        mw__gc_head *next = g->next;
        mw_object *o = mw__gc_object_of(g);
        prefetch_next(g);
        if (g->refs > 0) {
            if (!(o->ob_gc_bits & MW__GC_LEAF)) {
                traverse_children(o, visit_reachable, &r);
            }
            o->ob_gc_bits &= (uint16_t)~(MW__GC_COLLECTING | MW__GC_LEAF);
            next = g->next;   // traverse may have appended after g
        } else {
            o->ob_gc_bits |= MW__GC_UNREACHABLE;
            k |= kind_of(o->ob_type);
            list_move(g, unreachable);
            moved++;
        }
        g = next;
    }
    *kinds |= k;
    return moved - r.brought_back;
}

/* Steps 2-4 on list: objects reachable from outside it stay in list, with
 * no bits; the others go to unreachable.  Stores the number in list before
 * in *size; returns the number that went to unreachable. */
static size_t find_unreachable(mw__gc_head *list, mw__gc_head *unreachable, size_t *size,
                               untrack_what what, mw__gc_head *const *log, unsigned nlog,
                               unsigned *kinds, size_t *outside)
{
    *size = update_refs(list, what, log, nlog);
    *outside = subtract_refs(list);
    return move_unreachable(list, unreachable, kinds);
}

/* A full collection of h may take the fused steps 2-3: the shared heap,
 * nothing frozen and no drain holding a pending object in its own list
 * (update_subtract_full says why). */
static bool may_fuse(const mw__gc_heap *h, int gen)
{
    return gen == NGENS - 1 && h->owner == NULL && list_empty(&h->permanent) &&
           !h->draining && list_empty(&h->pending);
}

static void clear_bits(mw__gc_head *list)
{
    for (mw__gc_head *g = list->next; g != list; g = g->next) {
        mw__gc_object_of(g)->ob_gc_bits &=
            (uint16_t)~(MW__GC_COLLECTING | MW__GC_UNREACHABLE | MW__GC_LEAF);
    }
}

/* Append o to the garbage list (new reference kept there). */
static void keep_as_garbage(mw__gc_heap *h, mw_object *o)
{
    if (h->garbage == NULL) {
        bool was = atomic_exchange(&h->collecting, true);   // no collection for it
        h->garbage = mw_list_new();
        atomic_store(&h->collecting, was);
    }
    if (h->garbage == NULL || mw__list_append((mw__list *)h->garbage, o) != 0) {
        mw_err_clear();   // no room: the object just stays uncollected
    }
}

/* An error left by a finalizer, weak-reference callback or collection
 * callback is reported on stderr and counted, never passed on. */
static uint64_t unraisable;

static void report_unraisable(const char *where, const mw_object *o)
{
    if (mw_err_occurred() != MW_ERR_NONE) {
        unraisable++;
        fprintf(stderr, "mwrt gc: error in %s%s%s: %s: %s\n", where, o ? " of " : "",
                o ? o->ob_type->name : "", mw_err_name(mw_err_occurred()), mw_err_message());
        mw_err_clear();
    }
}

/* Step 5a: clear the weak references to every unreachable object, so that
 * none answers any more, and gather those with callbacks.  With the world
 * stopped in free mode: a weak reference must not hand out an object of
 * the garbage to a thread that runs meanwhile. */
static struct mw__weakref *detach_weakrefs(mw__gc_head *unreachable)
{
    struct mw__weakref *calls = NULL;
    for (mw__gc_head *g = unreachable->next; g != unreachable; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if (o->ob_type->flags & MW_TYPE_WEAKREF) {
            calls = mw__weakrefs_detach(o, calls);
        }
    }
    return calls;
}

static void report_callback_error(mw_object *weakref)
{
    report_unraisable("a weak-reference callback", weakref);
}

/* Step 5b: the callbacks, then the finalizers (each object's at most
 * once): a finalizer must not find a weak reference to garbage still
 * answering.  In free mode the world runs: the garbage is held by the
 * collector (MW__GC_HELD), so no thread can free it meanwhile, and only
 * code that the callbacks and finalizers hand it to can reach it. */
static void finalize_unreachable(mw__gc_head *unreachable, struct mw__weakref *calls)
{
    // The callbacks may drop references, but the unreachable keep one
    // another alive here.
    mw__weakrefs_call(calls, report_callback_error);
    mw__gc_head done;
    list_init(&done);
    while (!list_empty(unreachable)) {
        mw__gc_head *g = unreachable->next;
        mw_object *o = mw__gc_object_of(g);
        list_move(g, &done);
        if (o->ob_type->finalize != NULL && !(o->ob_flags & MW__OBJ_FINALIZED)) {
            mw__incref(o);   // nothing here may free o under us
            o->ob_flags |= MW__OBJ_FINALIZED;
            o->ob_type->finalize(o);
            report_unraisable("the finalizer", o);
            mw__decref(o);   // if that was the last, o left `done` as it died
        }
    }
    list_merge(&done, unreachable);
}

/* Free mode, world stopped: take a reference to each unreachable object,
 * with its count folded into the shared field first, so that while the
 * world runs again (steps 5 and 7) no other thread can take it to zero
 * (and free it off this collection's private lists), and the collector's
 * own last decref frees it here. */
static void hold_unreachable(mw__gc_head *unreachable, bool confined)
{
    for (mw__gc_head *g = unreachable->next; g != unreachable; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if (!confined) {
            // (A confined heap's objects are counted by their owner alone,
            // which is the collecting thread: its reference is local.)
            mw__rc_merge_stopped(o);
        }
        mw__incref(o);
        o->ob_gc_bits |= MW__GC_HELD;
    }
}

/* Drop the collector's reference to o, if it holds one. */
static void release_held(mw_object *o)
{
    if (o->ob_gc_bits & MW__GC_HELD) {
        o->ob_gc_bits &= (uint16_t)~MW__GC_HELD;
        mw__decref(o);
    }
}

/* Move to spared what an uncollectable object (a type without clear)
 * reaches in the unreachable set: clearing it would leave the garbage list
 * holding a broken object (CPython's legacy-finalizer rule). */
static int visit_spare(mw_object *child, void *arg)
{
    if (in_this_collection(child) && (child->ob_gc_bits & MW__GC_UNREACHABLE)) {
        child->ob_gc_bits &= (uint16_t)~MW__GC_UNREACHABLE;
        list_move(mw__gc_head_of(child), arg);
    }
    return 0;
}

static void spare_uncollectable(mw__gc_head *unreachable, mw__gc_head *spared)
{
    mw__gc_head *g = unreachable->next;
    while (g != unreachable) {
        mw__gc_head *next = g->next;
        mw_object *o = mw__gc_object_of(g);
        if (o->ob_type->clear == NULL) {
            o->ob_gc_bits &= (uint16_t)~MW__GC_UNREACHABLE;
            list_move(g, spared);
        }
        g = next;
    }
    for (g = spared->next; g != spared; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if (o->ob_type->traverse != NULL) {
            o->ob_type->traverse(o, visit_spare, spared);
        }
    }
}

/* Move g from a list private to the collection to the generation old,
 * which other threads change too while the world runs (free mode). */
static void move_to_old(mw__gc_heap *h, mw__gc_head *g, mw__gc_head *old)
{
    if (mw__free_mode && h->owner == NULL && !h->world_stopped) {
        pthread_mutex_lock(&list_lock);
        list_move(g, old);
        pthread_mutex_unlock(&list_lock);
    } else {
        list_move(g, old);
    }
}

/* Clear the garbage object at g, first in the list `in`: drop the
 * references it holds, so that counting frees it and what it held.  If it
 * is still alive after that (a referrer still to be cleared holds it), it
 * joins old, and dies when that referrer is cleared. */
static void clear_one(mw__gc_heap *h, mw__gc_head *g, mw__gc_head *in, mw__gc_head *old)
{
    mw_object *o = mw__gc_object_of(g);
    bool held = (o->ob_gc_bits & MW__GC_HELD) != 0;
    if (!held) {
        mw__incref(o);   // alive through its own clear
    }
    o->ob_gc_bits &= (uint16_t)~MW__GC_HELD;
    o->ob_type->clear(o);
    if (in->next == g) {
        move_to_old(h, g, old);   // still alive after clear: its referrers go first
    }
    mw__decref(o);
}

/* Step 7: clear what is still unreachable, except what an uncollectable
 * object reaches (kept intact, the uncollectable ones in the garbage
 * list); with SAVEALL, keep everything there.  may_spare: some object in
 * unreachable may be of a type without clear (move_unreachable's kinds),
 * else the pass that looks for them is skipped.  Returns the number of
 * uncollectable objects. */
static intptr_t clear_unreachable(mw__gc_heap *h, mw__gc_head *unreachable, mw__gc_head *old,
                                  bool defer, bool may_spare)
{
    unsigned polls = 0;
    bool saveall = (gc.debug & MW_GC_DEBUG_SAVEALL) != 0;
    mw__gc_head spared;
    list_init(&spared);
    if (!saveall && may_spare) {
        spare_uncollectable(unreachable, &spared);
    }
    intptr_t uncollectable = 0;
    while (!list_empty(&spared)) {
        mw__gc_head *g = spared.next;
        mw_object *o = mw__gc_object_of(g);
        o->ob_gc_bits &= (uint16_t)~(MW__GC_COLLECTING | MW__GC_UNREACHABLE | MW__GC_LEAF);
        uncollectable++;
        if (gc.debug & MW_GC_DEBUG_UNCOLLECTABLE) {
            fprintf(stderr, "mwrt gc: uncollectable <%s %p>\n", o->ob_type->name, (void *)o);
        }
        move_to_old(h, g, old);
        if (o->ob_type->clear == NULL) {
            keep_as_garbage(h, o);
        }
        release_held(o);
    }
    while (!list_empty(unreachable)) {
        mw__gc_head *g = unreachable->next;
        mw_object *o = mw__gc_object_of(g);
        o->ob_gc_bits &= (uint16_t)~(MW__GC_COLLECTING | MW__GC_UNREACHABLE | MW__GC_LEAF);
        confined_poll(&polls);
        if (saveall) {
            move_to_old(h, g, old);
            keep_as_garbage(h, o);
            release_held(o);
            continue;
        }
        if (gc.debug & MW_GC_DEBUG_COLLECTABLE) {
            fprintf(stderr, "mwrt gc: collectable <%s %p>\n", o->ob_type->name, (void *)o);
        }
        if (defer) {
            list_move(g, &h->pending);
            mw__atomic_store_relaxed(&h->pending_any, true);
            continue;
        }
        clear_one(h, g, unreachable, old);
    }
    return uncollectable;
}

static void run_callbacks(const char *phase, const mw_gc_info *info)
{
    for (int i = 0; i < gc.ncallbacks; i++) {
        gc.callbacks[i].cb(phase, info, gc.callbacks[i].arg);
        report_unraisable("a collection callback", NULL);
    }
}

/* Any unreachable object with a weak-reference list or a finalizer still
 * to run: then step 5 has user code to run. */
static bool needs_finalizing(mw__gc_head *unreachable)
{
    for (mw__gc_head *g = unreachable->next; g != unreachable; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if ((o->ob_type->flags & MW_TYPE_WEAKREF) && *mw__weaklist_of(o) != NULL) {
            return true;
        }
        if (o->ob_type->finalize != NULL && !(o->ob_flags & MW__OBJ_FINALIZED)) {
            return true;
        }
    }
    return false;
}

/* Record one collection in one set of statistics. */
static void record_in(stats_set *ss, int gen, mw__gc_reason reason, bool confined,
                      bool requested, size_t examined, size_t found, intptr_t uncollectable,
                      uint64_t pause, uint64_t safepoint)
{
    mw_gc_gen_stats *st = &ss->stats.gen[gen];
    st->collections++;
    st->collected += (uint64_t)found - (uint64_t)uncollectable;
    st->uncollectable += (uint64_t)uncollectable;
    st->total_pause_ns += pause;
    st->examined += examined;
    if (pause > st->max_pause_ns) {
        st->max_pause_ns = pause;
    }
    mw_hist_record(&ss->hist[gen].pause, pause);
    mw_hist_record(&ss->hist[gen].safepoint, safepoint);
    mw_hist_record(&ss->hist[gen].examined, examined);
    mw_hist_record(&ss->hist[gen].collected, (uint64_t)found - (uint64_t)uncollectable);
    mw_hist_record(&ss->pause_all, pause);
    mw_hist_record(&ss->safepoint_all, safepoint);
    switch (reason) {
    case MW__GC_AUTO:
        ss->stats.stw_collections++;
        break;
    case MW__GC_IDLE:
        ss->stats.idle_collections++;
        break;
    case MW__GC_MEMORY:
        ss->stats.memory_collections++;
        break;
    case MW__GC_EXPLICIT:
        ss->stats.explicit_collections++;
        break;
    }
    if (confined) {
        ss->stats.confined_collections++;
    }
    if (requested) {
        ss->stats.requested_collections++;
    }
}

/* Record one collection of h: in h's statistics and in the totals (under
 * stats_lock, since readers do not stop the world). */
static void record_stats(mw__gc_heap *h, int gen, mw__gc_reason reason, size_t examined,
                         size_t found, intptr_t uncollectable, uint64_t pause)
{
    bool confined = h->owner != NULL;
    pthread_mutex_lock(&stats_lock);
    record_in(&h->st, gen, reason, confined, h->requested, examined, found, uncollectable,
              pause, h->safepoint_ns);
    record_in(&gc.total, gen, reason, confined, h->requested, examined, found, uncollectable,
              pause, h->safepoint_ns);
    pthread_mutex_unlock(&stats_lock);
}

/*
 * Deferred clearing (GIL mode).  Step 7 - clearing the garbage, which
 * frees it - was about half of a young collection's pause in a service
 * (bench/sched: 50-80 us of 700 request containers), and under the GIL
 * every other worker waits through it.  Nothing but other garbage can
 * reach the garbage once weak references to it are cleared and its
 * finalizers have run (steps 5-6), so an automatic collection may leave
 * it, bits cleared, on the heap's pending list, and the clearing is done
 * a few objects at a time by the allocations that follow: each container
 * allocation clears up to PENDING_PER_ALLOC of them (a collection finds
 * at most as many garbage containers as were allocated since the last
 * one, so the list is empty long before the next is due), and every
 * collection first clears what is left, so garbage never waits through
 * two.  An idle collection (MW_GC_PAUSED, the master's) leaves it too,
 * and the master clears it while no worker runs, a chunk at a time, so a
 * worker that wakes meanwhile waits one chunk for the GIL, not the whole
 * clearing (mw__gc_master_drain).  Explicit and memory-limit collections
 * clear at once (their caller wants the memory, or the count of what they
 * freed), as do free mode
 * (step 7 already runs with the world going) and confined heaps (their
 * own thread is the only one paused).  What a user sees: automatic
 * collections return memory a little later, spread over the following
 * allocations; finalizers, weak-reference callbacks and the counts are
 * as before.
 */
#define PENDING_PER_ALLOC 8

static void pending_drain(mw__gc_heap *h, size_t budget)
{
    bool was = h->draining;
    h->draining = true;
    while (budget > 0 && !list_empty(&h->pending)) {
        // Off the list first: if a finalizer this runs lets another thread
        // take the GIL and drain (a collection), neither meets the object
        // the other is clearing.
        mw__gc_head mine;
        list_init(&mine);
        mw__gc_head *g = h->pending.next;
        list_move(g, &mine);
        clear_one(h, g, &mine, &h->gens[NGENS > 1 ? 1 : 0]);
        budget--;
    }
    if (list_empty(&h->pending)) {
        mw__atomic_store_relaxed(&h->pending_any, false);
    }
    h->draining = was;
}

/* A thread detaches (GIL mode, holding it): clear every pending object,
 * so none waits for a thread that may never allocate again, and none is
 * left when the last thread goes and the runtime is freed. */
void mw__gc_detach_point(void)
{
    if (!mw__free_mode && !MAIN->draining && !atomic_load(&MAIN->collecting)) {
        pending_drain(MAIN, SIZE_MAX);
    }
}

/* Pending objects the master clears between two looks at the workers. */
#define PENDING_MASTER_CHUNK 32

/* The master, holding the GIL: clear pending garbage while no worker
 * runs. */
static void master_drain_held(void)
{
    while (!MAIN->draining && !list_empty(&MAIN->pending) && mw__sched_running() == 0) {
        pending_drain(MAIN, PENDING_MASTER_CHUNK);
    }
}

void mw__gc_master_drain(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (mw__free_mode || !mw__atomic_load_relaxed(&MAIN->pending_any) ||
        mw__sched_running() != 0 || !mw__gil_try_take(t->rt, t)) {
        return;
    }
    t->blocking = false;
    if (!atomic_load(&MAIN->collecting)) {
        master_drain_held();
    }
    mw_err_clear();
    t->blocking = true;
    mw__gil_drop(t->rt, t, false);
}

/* Before a container allocation under the GIL: clear a few pending. */
static void pending_drain_some(mw__gc_heap *h)
{
    if (!h->draining && !list_empty(&h->pending)) {
        pending_drain(h, PENDING_PER_ALLOC);
    }
}

/*
 * Collect generations 0..gen.  This is the main function: read it to see
 * the whole collection.  Returns the number of unreachable objects found.
 * The caller is the collecting thread (collection_begin): under the GIL it
 * holds the GIL throughout; in free mode the world is stopped on entry,
 * and this function lets it run again around the steps that do not need
 * it (CPython 3.13's free-threaded collector does the same):
 *
 *   stopped   1-4, 8 for the survivors, the counts;
 *   running   5: weak-reference callbacks and finalizers (user code, which
 *             may wait for other threads, so never with them parked);
 *   stopped   6: what they resurrected (only if step 5 ran any);
 *   running   7: clearing the garbage.  Nothing else can reach it, so
 *             the other threads may run beside it; the generation lists
 *             it moves objects to are taken under list_lock.
 */
static intptr_t collect(mw__gc_heap *h, int gen, mw__gc_reason reason)
{
    // A collection may start inside any container allocation: the caller's
    // pending error, if any, must come out of it as it went in.
    mw__err_state saved;
    mw__err_save(&saved);
    mw_err_clear();
    atomic_store(&h->collecting, true);
    // Garbage an earlier collection left to be cleared goes first.
    pending_drain(h, SIZE_MAX);
    bool confined = h->owner != NULL;
    mw__gc_heap *outer = tls_confined;
    tls_confined = confined ? h : NULL;
    if (mw__free_mode) {
        // Settle counts other threads passed to this one, so that every
        // count read below is the object's whole count.  (Other threads'
        // queues hold a reference each, which counts as one from outside:
        // the object is kept, never freed early.)
        mw__brc_merge_queue(mw__tls_tstate, false);
    }
    mw_gc_info info = {.generation = gen};
    run_callbacks("start", &info);
    size_t sizes[NGENS];
    for (int i = 0; i < NGENS; i++) {
        sizes[i] = (gc.debug & MW_GC_DEBUG_STATS) ? list_size(&h->gens[i]) : 0;
    }

    // 1-4: everything in generations 0..gen, split by reachability.
    mw__gc_head *young = &h->gens[gen];
    for (int i = 0; i < gen; i++) {
        list_merge(&h->gens[i], young);
    }
    mw__gc_head *old = gen < NGENS - 1 ? &h->gens[gen + 1] : &h->gens[gen];
    mw__gc_head unreachable;
    list_init(&unreachable);
    size_t examined;
    size_t found;
    unsigned kinds = 0;
    size_t outside = 0;   // references to untracked containers (full collection)
    if (may_fuse(h, gen)) {
        examined = update_subtract_full(young, &outside);
        found = move_unreachable(young, &unreachable, &kinds);
    } else {
        // The young log is in young's order only when young is generation 0
        // alone; it starts again empty with the counts.
        found = find_unreachable(young, &unreachable, &examined,
                                 gen == NGENS - 1 ? UNTRACK_ALL : UNTRACK_TUPLES, h->ylog,
                                 gen == 0 ? h->nylog : 0, &kinds, &outside);
    }
    h->nylog = 0;
    size_t survivors = examined - found;
    // 8 for the reachable: up one generation.
    if (young != old) {
        list_merge(young, old);
    }
    // Counts: from here on, allocations count towards the next collection.
    if (gen + 1 < NGENS) {
        mw__atomic_add_relaxed(&h->count[gen + 1], 1);
    }
    for (int i = 0; i <= gen; i++) {
        mw__atomic_store_relaxed(&h->count[i], 0);
    }

    if (mw__free_mode) {
        hold_unreachable(&unreachable, confined);
    }
    if ((kinds & KIND_FINALIZE) && needs_finalizing(&unreachable)) {
        // 5a with the world stopped, 5b with it running (free mode).
        struct mw__weakref *calls = detach_weakrefs(&unreachable);
        if (h->world_stopped) {
            world_start();
        }
        // 5: weak-reference callbacks and finalizers, on a consistent heap
        // (with SAVEALL too, as CPython: only step 7 differs).
        finalize_unreachable(&unreachable, calls);
        if (mw__free_mode && !confined) {
            // 6 needs the world stopped again, whatever it takes: the
            // garbage cannot be left half-decided.
            while (!world_stop(mw__tls_tstate, MW_SCHED_STOP_TIMEOUT_MS, false)) {
                fprintf(stderr, "mwrt gc: still waiting for a worker to reach a safepoint\n");
            }
        }
        // 6: what they made reachable again survives, with its referents;
        // the rest, in `garbage`, is what step 7 clears.
        mw__gc_head garbage;
        list_init(&garbage);
        clear_bits(&unreachable);
        size_t left;
        size_t ignored;
        size_t dead = find_unreachable(&unreachable, &garbage, &left, UNTRACK_NONE, NULL, 0,
                                       &kinds, &ignored);
        survivors += left - dead;
        // The resurrected were not garbage after all; those that died by
        // counting while finalizers ran were, and are gone already.
        found -= left - dead;
        while (!list_empty(&unreachable)) {
            mw__gc_head *g = unreachable.next;
            list_move(g, old);
            release_held(mw__gc_object_of(g));
        }
        list_merge(&garbage, &unreachable);
    }
    if (gen == NGENS - 1) {
        // The work of the next full collection, as the schedule weighs it:
        // its survivors, and the untracked containers they hold, whose
        // headers it reads (heap_generation_due).
        mw__atomic_store_relaxed(&h->long_lived_total, survivors + outside);
        mw__atomic_store_relaxed(&h->long_lived_pending, 0);
    } else if (gen == NGENS - 2) {
        mw__atomic_add_relaxed(&h->long_lived_pending, survivors);
    }
    if (h->world_stopped) {
        world_start();
    }

    // 7: clear; what outlives its clear joins the older generation.
    bool defer = !mw__free_mode && !confined &&
                 (reason == MW__GC_AUTO || reason == MW__GC_IDLE);
    intptr_t uncollectable = clear_unreachable(h, &unreachable, old, defer,
                                               (kinds & KIND_NO_CLEAR) != 0);

    uint64_t elapsed = mw__sched_now_ns() - h->began_at;
    // The pause: the world stopped (free mode), or the GIL held (all of
    // it); a confined collection stops only its own thread, for all of it.
    uint64_t pause = mw__free_mode && !confined ? h->pause_ns : elapsed;
    record_stats(h, gen, reason, examined, found, uncollectable, pause);
    if (gc.debug & MW_GC_DEBUG_STATS) {
        fprintf(stderr,
                "mwrt gc: collecting generation %d; objects in each generation: %zu %zu %zu; "
                "unreachable %" PRIdPTR ", uncollectable %" PRIdPTR ", %.6f s elapsed, "
                "%.6f s paused\n",
                gen, sizes[0], sizes[1], sizes[2], (intptr_t)found, uncollectable,
                (double)elapsed / 1e9, (double)pause / 1e9);
    }
    info.collected = (intptr_t)found - uncollectable;
    info.uncollectable = uncollectable;
    run_callbacks("stop", &info);
    tls_confined = outer;
    atomic_store(&h->collecting, false);
    mw__err_restore(&saved);
    return (intptr_t)found;
}

/* ======================================================================
 * Starting and ending a collection: who may, and the world standing still
 * ====================================================================== */

/*
 * One collection (or list walk) at a time: its thread holds collect_lock
 * from before the world stops until after it resumes, so at most one stop
 * is ever in force (sched.h), and gc.collector names the holder, so that
 * a collection started from inside one (a finalizer's, on the same
 * thread) is refused rather than deadlocking.
 *
 * The heap standing still: under the GIL the collecting thread holds it,
 * which is enough.  In free mode the collecting thread stops the world:
 * every other worker parks at a safepoint (sched.h).  A thread that must
 * wait for another's collection to finish waits parked, so that the other
 * collection's stops do not wait for it.
 */
static pthread_mutex_t collect_lock = PTHREAD_MUTEX_INITIALIZER;

/* Stop the world for the collection phases that need it; false if the
 * workers did not all park in time.  Free mode only. */
static bool world_stop(mw__tstate *t, unsigned timeout_ms, bool try_only)
{
    uint64_t waited = 0;
    if (!mw__sched_stop_world(t, timeout_ms, try_only, &waited)) {
        return false;
    }
    MAIN->world_stopped = true;
    MAIN->stopped_at = mw__sched_now_ns();
    MAIN->safepoint_ns += waited;
    return true;
}

static void world_start(void)
{
    MAIN->pause_ns += mw__sched_now_ns() - MAIN->stopped_at;
    MAIN->world_stopped = false;
    mw__sched_start_world();
}

/*
 * Become the collecting thread, with the heap standing still.  wait: if
 * another thread is collecting, wait for it (else give up); try_only: in
 * free mode, give up rather than stop a worker that is running.  Returns
 * false (and sets MW_ERR_STATE, with why) when it cannot.
 */
static bool collection_begin(mw__tstate *t, const char *func, bool wait, bool try_only,
                             unsigned timeout_ms)
{
    if (atomic_load(&gc.collector) == t) {
        mw_err_set(MW_ERR_STATE, "%s: a collection is already running on this thread", func);
        return false;
    }
    if (pthread_mutex_trylock(&collect_lock) != 0) {
        if (!wait) {
            mw_err_set(MW_ERR_STATE, "%s: another thread is collecting", func);
            return false;
        }
        // Parked while waiting: the other collection may stop the world.
        // Under the GIL this cannot happen (the holder collects whole).
        mw__sched_park_begin(t, false);
        pthread_mutex_lock(&collect_lock);
        mw__sched_park_end(t);
    }
    MAIN->pause_ns = 0;
    MAIN->safepoint_ns = 0;
    MAIN->began_at = mw__sched_now_ns();
    MAIN->requested = false;
    if (mw__free_mode && !world_stop(t, timeout_ms, try_only)) {
        pthread_mutex_unlock(&collect_lock);
        mw_err_set(MW_ERR_STATE,
                   "%s: a worker did not reach a safepoint within %u ms (workers must call "
                   "mw_safepoint in long loops and wrap waits in mw_blocking_begin/end)",
                   func, timeout_ms);
        return false;
    }
    atomic_store(&gc.collector, t);
    return true;
}

static void collection_end(void)
{
    if (MAIN->world_stopped) {
        world_start();
    }
    atomic_store(&gc.collector, (mw__tstate *)NULL);
    pthread_mutex_unlock(&collect_lock);
}

/* The calling thread may run a collection of the shared heap (or walk
 * its lists): attached, not blocking, not inside a collection (its own
 * confined heap's included). */
static bool may_collect_here(void)
{
    mw__tstate *t = mw__tls_tstate;
    return t != NULL && !t->blocking && !atomic_load(&MAIN->collecting) &&
           !(t->gc_heap != NULL && atomic_load(&t->gc_heap->collecting));
}

/* The generation of h to collect now that generation 0 is due: the oldest
 * whose count passed its threshold (CPython's schedule).  Any thread (the
 * master reads a confined heap's). */
static int heap_generation_due(mw__gc_heap *h)
{
    for (int g = NGENS - 1; g >= 1; g--) {
        int threshold = mw__atomic_load_relaxed(&h->threshold[g]);
        if (threshold > 0 && mw__atomic_load_relaxed(&h->count[g]) > threshold) {
            // A full collection only if enough objects await their first
            // one: the long-lived heap has grown by the full-growth share
            // since the last (CPython's rule with 25%, which keeps the work
            // of full collections linear in allocation; 100%, the default,
            // halves it again).  The last one's size is its work: its
            // survivors and the references they hold to untracked
            // containers (a list of a million untracked dicts or lists is
            // a million header loads, though one survivor).  In 64 bits:
            // total * 10000 cannot overflow.
            if (g == NGENS - 1) {
                uint64_t pending = mw__atomic_load_relaxed(&h->long_lived_pending);
                uint64_t total = mw__atomic_load_relaxed(&h->long_lived_total);
                uint64_t share = (uint64_t)mw__atomic_load_relaxed(&gc.full_growth);
                if (pending * 100 < total * share) {
                    continue;
                }
            }
            return g;
        }
    }
    return 0;
}

static int generation_due(void)
{
    return heap_generation_due(MAIN);
}

static bool heap_due(mw__gc_heap *h)
{
    int threshold = mw__atomic_load_relaxed(&h->threshold[0]);
    return mw__atomic_load_relaxed(&gc.enabled) && threshold > 0 &&
           mw__atomic_load_relaxed(&h->count[0]) >= threshold;
}

bool mw__gc_due(void)
{
    return heap_due(MAIN);
}

/* ======================================================================
 * Confined heaps
 * ====================================================================== */

/* Collect gen of the calling confined thread's own heap, on this thread,
 * stopping nobody and taking no lock but stats_lock (to record it). */
static intptr_t confined_collect(mw__tstate *t, int gen, mw__gc_reason reason, bool requested)
{
    mw__gc_heap *h = t->gc_heap;
    if (atomic_load(&h->collecting)) {
        mw_err_set(MW_ERR_STATE, "mw_gc_collect: a collection is already running on this "
                                 "thread");
        return -1;
    }
    h->pause_ns = 0;
    h->safepoint_ns = 0;
    h->began_at = mw__sched_now_ns();
    h->world_stopped = false;
    h->requested = requested;
    intptr_t found = collect(h, gen, reason);
    h->requested = false;
    return found;
}

/* An automatic collection of t's own heap; the caller's error survives. */
static void confined_collect_automatic(mw__tstate *t, int gen, mw__gc_reason reason,
                                       bool requested)
{
    mw__err_state saved;
    mw__err_save(&saved);
    confined_collect(t, gen, reason, requested);
    mw__err_restore(&saved);
}

int mw__gc_confine(mw__tstate *t)
{
    // calloc: the statistics are large (histograms) and mostly untouched.
    mw__gc_heap *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return MW_ENOMEM;
    }
    heap_init(h, MAIN->threshold, NULL);
    h->owner = t;
    t->gc_heap = h;
    mw__atomic_store_relaxed(&t->gc_request, 0);
    atomic_store(&t->confined, true);
    pthread_mutex_lock(&heaps_lock);
    h->next_heap = heaps;
    heaps = h;
    nheaps++;
    pthread_mutex_unlock(&heaps_lock);
    return MW_OK;
}

void mw__gc_request_point(mw__tstate *t, bool idle)
{
    mw__gc_heap *h = t->gc_heap;
    if (h == NULL) {
        mw__atomic_store_relaxed(&t->gc_request, 0);
        return;
    }
    if (t->blocking || atomic_load(&h->collecting)) {
        return;
    }
    int req = mw__atomic_load_relaxed(&t->gc_request);
    // MW_GC_STW: at the next safepoint; MW_GC_PAUSED: when the thread goes
    // idle; the memory limit's: at whichever comes first.
    if (!idle && !(req & MW__GC_REQ_MEMORY) && mw_gc_get_policy() != MW_GC_STW) {
        return;
    }
    req = atomic_exchange(&t->gc_request, 0);
    if (req == 0) {
        return;
    }
    int gen = (req & MW__GC_REQ_GEN_MASK) - 1;
    mw__gc_reason reason = (req & MW__GC_REQ_MEMORY) ? MW__GC_MEMORY
                           : idle                    ? MW__GC_IDLE
                                                     : MW__GC_AUTO;
    confined_collect_automatic(t, gen, reason, true);
}

/* What a confined thread finds at a container allocation: the master's
 * request (MW_GC_STW), the torture mode, or a generation 0 that overran
 * its threshold MW_SCHED_PAUSED_MAX_DEFER times over (the master has not
 * got to it, or the thread never reaches a safepoint or an idle point). */
static void confined_before_alloc(mw__tstate *t)
{
    mw__gc_heap *h = t->gc_heap;
    if (t->blocking || atomic_load(&h->collecting)) {
        return;
    }
    if (mw__atomic_load_relaxed(&t->gc_request) != 0) {
        mw__gc_request_point(t, false);
        return;
    }
    bool torture = gc.torture > 0 && atomic_fetch_sub(&gc.torture_countdown, 1) <= 1;
    if (torture) {
        atomic_store(&gc.torture_countdown, gc.torture);
    } else {
        int count = mw__atomic_load_relaxed(&h->count[0]);
        int threshold = mw__atomic_load_relaxed(&h->threshold[0]);
        if (!mw__atomic_load_relaxed(&gc.enabled) || threshold <= 0 ||
            mw_gc_get_policy() == MW_GC_OFF || count / MW_SCHED_PAUSED_MAX_DEFER < threshold) {
            return;
        }
    }
    confined_collect_automatic(t, heap_generation_due(h), MW__GC_AUTO, false);
}

void mw__gc_request_confined(bool memory)
{
    mw_gc_policy policy = mw_gc_get_policy();
    pthread_mutex_lock(&heaps_lock);
    for (mw__gc_heap *h = heaps; h != NULL; h = h->next_heap) {
        _Atomic(int) *req = &h->owner->gc_request;
        if (memory) {
            atomic_store(req, MW__GC_REQ_GEN(NGENS - 1) | MW__GC_REQ_MEMORY);
        } else if (policy != MW_GC_OFF && mw__atomic_load_relaxed(req) == 0 && heap_due(h)) {
            int want = MW__GC_REQ_GEN(heap_generation_due(h));
            int none = 0;
            atomic_compare_exchange_strong(req, &none, want);
        }
    }
    pthread_mutex_unlock(&heaps_lock);
}

void mw__gc_unconfine(mw__tstate *t)
{
    mw__gc_heap *h = t->gc_heap;
    if (h == NULL) {
        return;
    }
    // Its garbage first, on this thread, as any confined collection.
    if (!atomic_load(&h->collecting)) {
        confined_collect_automatic(t, NGENS - 1, MW__GC_EXPLICIT, false);
    }
    // The rest joins the shared heap.  Under collect_lock, so that no
    // collection of the shared heap is in progress (waiting parked, as
    // collection_begin does), and list_lock for the lists.
    if (pthread_mutex_trylock(&collect_lock) != 0) {
        mw__sched_park_begin(t, false);
        pthread_mutex_lock(&collect_lock);
        mw__sched_park_end(t);
    }
    pthread_mutex_lock(&heaps_lock);
    for (mw__gc_heap **p = &heaps; *p != NULL; p = &(*p)->next_heap) {
        if (*p == h) {
            *p = h->next_heap;
            nheaps--;
            break;
        }
    }
    pthread_mutex_unlock(&heaps_lock);
    // From here on the thread's objects are ordinary biased ones, and what
    // it allocates goes to the shared heap.
    atomic_store(&t->confined, false);
    t->gc_heap = NULL;
    mw__atomic_store_relaxed(&t->gc_request, 0);
    mw__gc_head *from[NGENS + 1] = {&h->gens[0], &h->gens[1], &h->gens[2], &h->permanent};
    mw__gc_head *to[NGENS + 1] = {&MAIN->gens[NGENS - 1], &MAIN->gens[NGENS - 1],
                                  &MAIN->gens[NGENS - 1], &MAIN->permanent};
    pthread_mutex_lock(&list_lock);
    for (int i = 0; i <= NGENS; i++) {
        for (mw__gc_head *g = from[i]->next; g != from[i]; g = g->next) {
            mw__gc_object_of(g)->ob_gc_bits &= (uint16_t)~MW__GC_CONFINED;
        }
        list_merge(from[i], to[i]);
    }
    pthread_mutex_unlock(&list_lock);
    // Its garbage list's objects join the shared one's.
    if (h->garbage != NULL) {
        mw__list *l = (mw__list *)h->garbage;
        bool was = atomic_exchange(&MAIN->collecting, true);   // no collection for it
        for (size_t i = 0; i < l->len; i++) {
            keep_as_garbage(MAIN, l->items[i]);
        }
        atomic_store(&MAIN->collecting, was);
        mw__decref(h->garbage);
        h->garbage = NULL;
    }
    pthread_mutex_unlock(&collect_lock);
    free(h);
}

/* Collect gen now on this thread for reason, if it can start; the errors
 * of a refused automatic collection are not the caller's. */
static void collect_automatic(mw__tstate *t, int gen, mw__gc_reason reason)
{
    mw__err_state saved;
    mw__err_save(&saved);
    // The memory limit's collection waits for one in progress (the
    // master's, say): the allocation depends on what it frees.
    bool wait = reason == MW__GC_MEMORY;
    if (t->gc_heap != NULL) {
        confined_collect(t, gen, reason, false);   // its own heap
    } else if (collection_begin(t, "automatic collection", wait, false,
                                MW_SCHED_STOP_TIMEOUT_MS)) {
        collect(MAIN, gen, reason);
        collection_end();
    } else if (mw__free_mode) {
        mw__atomic_store_relaxed(&gc.retry_after, mw__sched_now_ns() +
                                 (uint64_t)MW_SCHED_STOP_BACKOFF_MS * 1000000u);
    }
    mw__err_restore(&saved);
}

/*
 * Before a container is allocated: a safepoint, and the place where a
 * worker finds a collection due.  The policy decides who runs it:
 *   MW_GC_STW     this worker, at once, with the others parked (it is at
 *                 a safepoint already, so the stop costs only theirs);
 *   MW_GC_PAUSED  the master, when no worker is running (sched.c); this
 *                 worker only once generation 0 has overrun its threshold
 *                 MW_SCHED_PAUSED_MAX_DEFER times over;
 *   MW_GC_OFF     nobody.
 * The torture mode (MWRT_GC_TORTURE=N) collects here every N allocations
 * whatever the policy.  Cheap when nothing is due: a flag and a counter.
 */
void mw__gc_before_alloc(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL) {
        return;
    }
    mw__sched_poll(t);
    if (t->gc_heap != NULL) {
        confined_before_alloc(t);
        return;
    }
    if (!may_collect_here()) {
        return;
    }
    pending_drain_some(MAIN);
    bool torture = gc.torture > 0 && atomic_fetch_sub(&gc.torture_countdown, 1) <= 1;
    if (torture) {
        atomic_store(&gc.torture_countdown, gc.torture);
    } else {
        int count = mw__atomic_load_relaxed(&MAIN->count[0]);
        // count[0] net allocations so far: a threshold of 700 collects
        // before the 701st, as CPython does right after counting it.
        int threshold = mw__atomic_load_relaxed(&MAIN->threshold[0]);
        if (!mw__atomic_load_relaxed(&gc.enabled) || threshold <= 0 || count < threshold) {
            return;
        }
        mw_gc_policy policy = mw_gc_get_policy();
        if (policy == MW_GC_OFF) {
            return;
        }
        if (policy == MW_GC_PAUSED &&
            count / MW_SCHED_PAUSED_MAX_DEFER < threshold) {
            return;   // the master's, at the next idle moment
        }
    }
    uint64_t retry_after = mw__atomic_load_relaxed(&gc.retry_after);
    if (mw__free_mode && retry_after != 0 && mw__sched_now_ns() < retry_after) {
        return;
    }
    // Torture mode collects early, on the ordinary schedule of
    // generations, so older ones are collected too.
    collect_automatic(t, generation_due(), MW__GC_AUTO);
}

void mw__gc_idle_point(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL || mw__atomic_load_relaxed(&mw__sched_policy) != MW_GC_PAUSED ||
        !mw__gc_due() || !may_collect_here() || mw__sched_running() > 1) {
        return;
    }
    // This worker has finished its work for now and the others are
    // parked: collect here, rather than wake the master to do it (a
    // thread switch, by which time a worker has often woken).  The stop
    // only confirms the others are parked; it never waits for one.
    mw__err_state saved;
    mw__err_save(&saved);
    if (collection_begin(t, "idle collection", false, true, MW_SCHED_STOP_TIMEOUT_MS)) {
        collect(MAIN, generation_due(), MW__GC_IDLE);
        collection_end();
    }
    mw__err_restore(&saved);
}

/* ======================================================================
 * Memory limit
 * ====================================================================== */

bool mw__gc_memory_check(size_t total)
{
    size_t limit = mw__atomic_load_relaxed(&mw__sched_memory_limit);
    size_t used = mw__sched_memory_used();
    if (limit == 0 || used + total <= limit) {
        if (limit != 0 && used >= limit / 16 * MW_SCHED_MEMORY_APPROACH_16THS) {
            mw__sched_wake_master();   // approaching: the master collects
        }
        return true;
    }
    mw__tstate *t = mw__tls_tstate;
    // Not from inside a collection on this thread (a finalizer's
    // allocation); one running on another thread is waited for.
    if (t != NULL && !t->blocking && atomic_load(&gc.collector) != t &&
        !(t->gc_heap != NULL && atomic_load(&t->gc_heap->collecting))) {
        // First what is ours already: objects other threads (a collection
        // on the master, say) dropped and left for this owner to free, and
        // blocks freed to this heap.  Then a full collection.
        for (int attempt = 0; attempt < 2; attempt++) {
            if (attempt == 1) {
                collect_automatic(t, NGENS - 1, MW__GC_MEMORY);
            }
            if (mw__free_mode) {
                mw__brc_merge_queue(t, false);
            }
            mw__heap_take_back();
            used = mw__sched_memory_used();
            if (used + total <= limit) {
                return true;
            }
        }
    }
    mw_err_set(MW_ERR_NOMEM,
               "out of memory: the memory limit of %zu bytes is reached (%zu in use, "
               "%zu requested)",
               limit, used, total);
    return false;
}

/* ======================================================================
 * The API
 * ====================================================================== */

intptr_t mw__gc_collect_from_master(int gen, mw__gc_reason reason, bool try_only)
{
    mw__tstate *t = mw__tls_tstate;
    mw_runtime *rt = t->rt;
    uint64_t asked = mw__sched_now_ns();
    if (!mw__free_mode) {
        if (try_only) {
            if (!mw__gil_try_take(rt, t)) {
                return -1;
            }
        } else {
            mw__gil_take_urgent(rt, t);
        }
    }
    uint64_t gil_wait = mw__sched_now_ns() - asked;
    t->blocking = false;
    intptr_t found = -1;
    if (!atomic_load(&MAIN->collecting) &&
        collection_begin(t, "the master's collection", !try_only, try_only,
                         MW_SCHED_STOP_TIMEOUT_MS)) {
        if (!mw__free_mode) {
            MAIN->safepoint_ns = gil_wait;   // the GIL holder's way to a safepoint
        }
        found = collect(MAIN, gen >= 0 ? gen : generation_due(), reason);
        collection_end();
        if (!mw__free_mode) {
            master_drain_held();
        }
    }
    mw_err_clear();
    t->blocking = true;
    if (!mw__free_mode) {
        mw__gil_drop(rt, t, false);
    }
    return found;
}

void mw__gc_master_settle(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (!mw__atomic_load_relaxed(&t->brc_pending)) {
        return;
    }
    if (!mw__free_mode && !mw__gil_try_take(t->rt, t)) {
        return;
    }
    // Holding collect_lock, no stop is in force or can start.
    if (pthread_mutex_trylock(&collect_lock) == 0) {
        t->blocking = false;
        mw__brc_merge_queue(t, false);
        t->blocking = true;
        pthread_mutex_unlock(&collect_lock);
    }
    if (!mw__free_mode) {
        mw__gil_drop(t->rt, t, false);
    }
}

intptr_t mw_gc_collect(int gen)
{
    mw__tstate *t = mw__tstate_checked("mw_gc_collect");
    if (t == NULL) {
        return -1;
    }
    if (gen == -1) {
        gen = NGENS - 1;
    }
    if (gen < 0 || gen >= NGENS) {
        mw_err_set(MW_ERR_VALUE, "mw_gc_collect: generation %d out of range", gen);
        return -1;
    }
    if (t->gc_heap != NULL) {
        return confined_collect(t, gen, MW__GC_EXPLICIT, false);   // its own heap only
    }
    if (!collection_begin(t, "mw_gc_collect", true, false, MW_SCHED_STOP_TIMEOUT_MS)) {
        return -1;
    }
    intptr_t found = collect(MAIN, gen, MW__GC_EXPLICIT);
    collection_end();
    return found;
}

void mw_gc_enable(void)
{
    mw__atomic_store_relaxed(&gc.enabled, true);
}

void mw_gc_disable(void)
{
    mw__atomic_store_relaxed(&gc.enabled, false);
}

bool mw_gc_isenabled(void)
{
    return mw__atomic_load_relaxed(&gc.enabled);
}

void mw_gc_set_threshold(int t0, int t1, int t2)
{
    int t[NGENS] = {t0, t1, t2};
    for (int i = 0; i < NGENS; i++) {
        mw__atomic_store_relaxed(&heap_of_caller()->threshold[i], t[i] < 0 ? 0 : t[i]);
    }
}

void mw_gc_set_full_growth(int percent)
{
    mw__atomic_store_relaxed(&gc.full_growth, mw__gc_clamp_full_growth(percent));
}

int mw_gc_get_full_growth(void)
{
    return mw__atomic_load_relaxed(&gc.full_growth);
}

void mw_gc_get_threshold(int out[3])
{
    for (int i = 0; i < NGENS; i++) {
        out[i] = mw__atomic_load_relaxed(&heap_of_caller()->threshold[i]);
    }
}

void mw_gc_get_count(int out[3])
{
    for (int i = 0; i < NGENS; i++) {
        out[i] = mw__atomic_load_relaxed(&heap_of_caller()->count[i]);
    }
}

/* The caller's heap, its lists locked if they are shared. */
static mw__gc_heap *lists_lock(void)
{
    mw__gc_heap *h = heap_of_caller();
    if (mw__free_mode && h == MAIN) {
        pthread_mutex_lock(&list_lock);
    }
    return h;
}

static void lists_unlock(mw__gc_heap *h)
{
    if (mw__free_mode && h == MAIN) {
        pthread_mutex_unlock(&list_lock);
    }
}

void mw_gc_freeze(void)
{
    mw__gc_heap *h = lists_lock();
    for (int i = 0; i < NGENS; i++) {
        list_merge(&h->gens[i], &h->permanent);
        mw__atomic_store_relaxed(&h->count[i], 0);
    }
    lists_unlock(h);
}

void mw_gc_unfreeze(void)
{
    mw__gc_heap *h = lists_lock();
    list_merge(&h->permanent, &h->gens[NGENS - 1]);
    lists_unlock(h);
}

size_t mw_gc_get_freeze_count(void)
{
    mw__gc_heap *h = lists_lock();
    size_t n = list_size(&h->permanent);
    lists_unlock(h);
    return n;
}

void mw_gc_set_debug(unsigned flags)
{
    gc.debug = flags;
}

unsigned mw_gc_get_debug(void)
{
    return gc.debug;
}

mw_object *mw_gc_garbage(void)
{
    if (mw__tstate_checked("mw_gc_garbage") == NULL) {
        return NULL;
    }
    mw__gc_heap *h = heap_of_caller();
    if (h->garbage == NULL) {
        h->garbage = mw_list_new();
        if (h->garbage == NULL) {
            return NULL;
        }
    }
    mw__incref(h->garbage);
    return h->garbage;
}

int mw_gc_add_callback(mw_gc_callback cb, void *arg)
{
    if (cb == NULL) {
        return MW_EINVAL;
    }
    if (gc.ncallbacks == MAX_CALLBACKS) {
        return MW_ENOMEM;
    }
    gc.callbacks[gc.ncallbacks].cb = cb;
    gc.callbacks[gc.ncallbacks].arg = arg;
    gc.ncallbacks++;
    return MW_OK;
}

int mw_gc_remove_callback(mw_gc_callback cb, void *arg)
{
    for (int i = 0; i < gc.ncallbacks; i++) {
        if (gc.callbacks[i].cb == cb && gc.callbacks[i].arg == arg) {
            gc.callbacks[i] = gc.callbacks[--gc.ncallbacks];
            return MW_OK;
        }
    }
    return MW_EINVAL;
}

void mw_gc_reset_stats(void)
{
    pthread_mutex_lock(&heaps_lock);   // order: heaps_lock, then stats_lock
    pthread_mutex_lock(&stats_lock);
    memset(&gc.total, 0, sizeof gc.total);
    memset(&MAIN->st, 0, sizeof MAIN->st);
    for (mw__gc_heap *h = heaps; h != NULL; h = h->next_heap) {
        memset(&h->st, 0, sizeof h->st);
    }
    pthread_mutex_unlock(&stats_lock);
    pthread_mutex_unlock(&heaps_lock);
}

int mw_gc_set_policy(mw_gc_policy policy)
{
    if (policy != MW_GC_STW && policy != MW_GC_PAUSED && policy != MW_GC_OFF) {
        return MW_EINVAL;
    }
    mw__atomic_store_relaxed(&mw__sched_policy, (int)policy);
    if (mw__runtime != NULL) {
        mw__sched_wake_master();
    }
    return MW_OK;
}

mw_gc_policy mw_gc_get_policy(void)
{
    return (mw_gc_policy)mw__atomic_load_relaxed(&mw__sched_policy);
}

void mw_gc_set_memory_limit(size_t bytes)
{
    if (mw__runtime != NULL) {
        mw__runtime->config.memory_limit = bytes;
    }
    mw__atomic_store_relaxed(&mw__sched_memory_limit, bytes);
    mw__sched_wake_master();
}

size_t mw_gc_memory_used(void)
{
    return mw__sched_memory_used();
}

size_t mw_gc_get_memory_limit(void)
{
    return mw__runtime != NULL ? mw__runtime->config.memory_limit : 0;
}

static void hist_summary(const mw_hist *h, mw_gc_percentiles *out)
{
    out->count = h->count;
    out->p50 = mw_hist_quantile(h, 0.50);
    out->p99 = mw_hist_quantile(h, 0.99);
    out->p999 = mw_hist_quantile(h, 0.999);
    out->max = h->max;
}

/* A snapshot of ss into out, with the fields every heap shares.  Under
 * stats_lock. */
static void stats_of(const stats_set *ss, mw_gc_stats *out)
{
    *out = ss->stats;
    for (int g = 0; g < NGENS; g++) {
        hist_summary(&ss->hist[g].pause, &out->gen[g].pause_ns);
        hist_summary(&ss->hist[g].safepoint, &out->gen[g].safepoint_ns);
        hist_summary(&ss->hist[g].examined, &out->gen[g].examined_objects);
        hist_summary(&ss->hist[g].collected, &out->gen[g].collected_objects);
    }
    hist_summary(&ss->pause_all, &out->pause_ns);
    hist_summary(&ss->safepoint_all, &out->safepoint_ns);
}

static void stats_common(mw_gc_stats *out)
{
    out->policy = mw_gc_get_policy();
    out->lock = mw__free_mode ? MW_LOCK_FREE : MW_LOCK_GIL;
    out->memory_limit = mw__atomic_load_relaxed(&mw__sched_memory_limit);
    out->memory_used = mw__sched_memory_used();
}

int mw_gc_get_stats(mw_gc_stats *out)
{
    if (out == NULL) {
        return MW_EINVAL;
    }
    pthread_mutex_lock(&stats_lock);
    stats_of(&gc.total, out);
    out->callback_errors = unraisable;
    pthread_mutex_unlock(&stats_lock);
    stats_common(out);
    return MW_OK;
}

static void thread_stats_of(mw__gc_heap *h, mw_gc_thread_stats *out)
{
    memset(out, 0, sizeof *out);
    out->thread_id = h->owner != NULL ? h->owner->id : 0;
    out->confined = h->owner != NULL;
    for (int i = 0; i < NGENS; i++) {
        out->count[i] = mw__atomic_load_relaxed(&h->count[i]);
        out->threshold[i] = mw__atomic_load_relaxed(&h->threshold[i]);
    }
    int req = h->owner != NULL ? mw__atomic_load_relaxed(&h->owner->gc_request) : 0;
    out->request = req != 0 ? (req & MW__GC_REQ_GEN_MASK) - 1 : -1;
    out->tracked = h->owner != NULL ? mw__atomic_load_relaxed(&h->tracked) : 0;
    pthread_mutex_lock(&stats_lock);
    stats_of(&h->st, &out->stats);
    pthread_mutex_unlock(&stats_lock);
    stats_common(&out->stats);
}

int mw_gc_get_thread_stats(mw_gc_thread_stats *out, size_t max, size_t *n)
{
    if (out == NULL && max > 0) {
        return MW_EINVAL;
    }
    size_t i = 0;
    if (max > 0) {
        thread_stats_of(MAIN, &out[0]);
    }
    i++;
    // Under heaps_lock a heap cannot go away (its thread detaching waits).
    pthread_mutex_lock(&heaps_lock);
    for (mw__gc_heap *h = heaps; h != NULL; h = h->next_heap, i++) {
        if (i < max) {
            thread_stats_of(h, &out[i]);
        }
    }
    pthread_mutex_unlock(&heaps_lock);
    if (n != NULL) {
        *n = i;
    }
    return MW_OK;
}

/* ======================================================================
 * Leak hunting
 * ====================================================================== */

/* Append every tracked object of list to result (except result itself). */
static int append_all(mw_object *result, mw__gc_head *list)
{
    for (mw__gc_head *g = list->next; g != list; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if (o != result && mw__list_append((mw__list *)result, o) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A new list, made without letting its allocation start a collection. */
static mw_object *result_list(const char *func)
{
    if (mw__tstate_checked(func) == NULL) {
        return NULL;
    }
    mw__gc_heap *h = heap_of_caller();
    bool was = atomic_exchange(&h->collecting, true);
    mw_object *l = mw_list_new();
    atomic_store(&h->collecting, was);
    return l;
}

/* Walking the shared lists needs the world stopped, as a collection
 * does; a confined thread walks its own, which nobody else changes.
 * Returns the heap to walk, or NULL. */
static mw__gc_heap *walk_begin(const char *func)
{
    mw__tstate *t = mw__tls_tstate;
    if (t->gc_heap != NULL) {
        return t->gc_heap;
    }
    return collection_begin(t, func, true, false, MW_SCHED_STOP_TIMEOUT_MS) ? MAIN : NULL;
}

static void walk_end(mw__gc_heap *h)
{
    if (h == MAIN) {
        collection_end();
    }
}

mw_object *mw_gc_get_objects(int gen)
{
    if (gen < -1 || gen >= NGENS) {
        mw_err_set(MW_ERR_VALUE, "mw_gc_get_objects: generation %d out of range", gen);
        return NULL;
    }
    mw_object *result = result_list("mw_gc_get_objects");
    if (result == NULL) {
        return NULL;
    }
    mw__gc_heap *h = walk_begin("mw_gc_get_objects");
    if (h == NULL) {
        mw__decref(result);
        return NULL;
    }
    for (int i = 0; i < NGENS; i++) {
        if ((gen == -1 || gen == i) && append_all(result, &h->gens[i]) != 0) {
            walk_end(h);
            mw__decref(result);
            return NULL;
        }
    }
    walk_end(h);
    return result;
}

typedef struct referrer_search {
    mw_object *target;
    bool found;
} referrer_search;

static int visit_find(mw_object *child, void *arg)
{
    referrer_search *s = arg;
    if (child == s->target) {
        s->found = true;
        return 1;   // stop the walk
    }
    return 0;
}

mw_object *mw_gc_get_referrers(mw_object *o)
{
    if (o == NULL) {
        return mw__err_type("mw_gc_get_referrers", "an object", o);
    }
    mw_object *result = result_list("mw_gc_get_referrers");
    if (result == NULL) {
        return NULL;
    }
    mw__gc_heap *h = walk_begin("mw_gc_get_referrers");
    if (h == NULL) {
        mw__decref(result);
        return NULL;
    }
    mw__gc_head *lists[NGENS + 1] = {&h->gens[0], &h->gens[1], &h->gens[2], &h->permanent};
    for (int i = 0; i <= NGENS; i++) {
        for (mw__gc_head *g = lists[i]->next; g != lists[i]; g = g->next) {
            mw_object *c = mw__gc_object_of(g);
            referrer_search s = {.target = o};
            if (c != result && c->ob_type->traverse != NULL) {
                c->ob_type->traverse(c, visit_find, &s);
            }
            if (s.found && mw__list_append((mw__list *)result, c) != 0) {
                walk_end(h);
                mw__decref(result);
                return NULL;
            }
        }
    }
    walk_end(h);
    return result;
}

static int visit_append(mw_object *child, void *arg)
{
    if (child != NULL && mw__list_append((mw__list *)arg, child) != 0) {
        return -1;
    }
    return 0;
}

mw_object *mw_gc_get_referents(mw_object *o)
{
    if (o == NULL) {
        return mw__err_type("mw_gc_get_referents", "an object", o);
    }
    mw_object *result = result_list("mw_gc_get_referents");
    if (result == NULL) {
        return NULL;
    }
    if (o->ob_type->traverse != NULL && o->ob_type->traverse(o, visit_append, result) != 0) {
        mw__decref(result);
        return NULL;
    }
    return result;
}
