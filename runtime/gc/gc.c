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
 * Bits borrowed: ob_gc_bits has COLLECTING (in young, so its refs mean
 * something) and UNREACHABLE (moved to the unreachable list in step 4).
 * Invariant between collections: no object has either bit, and every
 * tracked object is in exactly one list.
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
 * Deliberately not handled yet: collections that stop other threads in
 * free mode; per-thread young generations (every container allocation
 * takes list_lock in free mode); untracking containers that cannot hold
 * references.
 */
#include "object/object.h"

#include <mwrt/gc.h>

#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NGENS MW_GC_GENERATIONS
#define MAX_CALLBACKS 16

static struct {
    mw__gc_head gens[NGENS];
    mw__gc_head permanent;
    int threshold[NGENS];
    int count[NGENS];
    bool enabled;
    _Atomic(bool) collecting;     /* read by any thread: see heap_stands_still */
    unsigned debug;
    long torture;                 /* collect every N allocations (0: off) */
    long torture_countdown;
    size_t long_lived_total;      /* survivors of the last full collection */
    size_t long_lived_pending;    /* survivors into gen 2 since then */
    mw_object *garbage;           /* list, or NULL until first needed */
    struct {
        mw_gc_callback cb;
        void *arg;
    } callbacks[MAX_CALLBACKS];
    int ncallbacks;
    mw_gc_stats stats;
} gc;

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;

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

void mw__gc_runtime_init(void)
{
    for (int i = 0; i < NGENS; i++) {
        list_init(&gc.gens[i]);
        gc.count[i] = 0;
    }
    list_init(&gc.permanent);
    const mw_config *cfg = &mw__runtime->config;
    for (int i = 0; i < NGENS; i++) {
        gc.threshold[i] = cfg->threshold[i];
    }
    gc.enabled = cfg->gc_policy != MW_GC_OFF;
    atomic_store(&gc.collecting, false);
    gc.debug = 0;
    gc.long_lived_total = gc.long_lived_pending = 0;
    gc.garbage = NULL;
    gc.ncallbacks = 0;
    memset(&gc.stats, 0, sizeof gc.stats);
    const char *torture = getenv("MWRT_GC_TORTURE");
    gc.torture = torture != NULL ? strtol(torture, NULL, 10) : 0;
    if (gc.torture < 0) {
        gc.torture = 0;
    }
    gc.torture_countdown = gc.torture;
}

/* Untrack whatever outlives the runtime, so that its later death does not
 * write into the lists of the next runtime. */
void mw__gc_runtime_fini(void)
{
    mw__gc_head *lists[NGENS + 1] = {&gc.gens[0], &gc.gens[1], &gc.gens[2], &gc.permanent};
    for (int i = 0; i <= NGENS; i++) {
        while (!list_empty(lists[i])) {
            list_remove(lists[i]->next);
        }
    }
    gc.garbage = NULL;   // its objects stay alive, untracked
}

void mw__gc_track(mw_object *o)
{
    mw__gc_head *g = mw__gc_head_of(o);
    if (mw__free_mode) {
        pthread_mutex_lock(&list_lock);
    }
    list_append(&gc.gens[0], g);
    gc.count[0]++;
    if (mw__free_mode) {
        pthread_mutex_unlock(&list_lock);
    }
}

void mw__gc_untrack(mw_object *o)
{
    mw__gc_head *g = mw__gc_head_of(o);
    if (mw__free_mode) {
        pthread_mutex_lock(&list_lock);
    }
    if (g->next != NULL) {
        list_remove(g);
        if (gc.count[0] > 0) {
            gc.count[0]--;
        }
    }
    if (mw__free_mode) {
        pthread_mutex_unlock(&list_lock);
    }
}

bool mw_gc_is_tracked(mw_object *o)
{
    return o != NULL && (o->ob_type->flags & MW_TYPE_GC) && mw__gc_head_of(o)->next != NULL;
}

/* ======================================================================
 * The algorithm
 * ====================================================================== */

static void update_refs(mw__gc_head *young)
{
    for (mw__gc_head *g = young->next; g != young; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        g->refs = mw_refcnt(o);
        o->ob_gc_bits |= MW__GC_COLLECTING;
    }
}

static int visit_decref(mw_object *child, void *arg)
{
    (void)arg;
    if (child != NULL && (child->ob_type->flags & MW_TYPE_GC) &&
        (child->ob_gc_bits & MW__GC_COLLECTING)) {
        mw__gc_head_of(child)->refs--;
    }
    return 0;
}

static void subtract_refs(mw__gc_head *young)
{
    for (mw__gc_head *g = young->next; g != young; g = g->next) {
        mw_object *o = mw__gc_object_of(g);
        if (o->ob_type->traverse != NULL) {
            o->ob_type->traverse(o, visit_decref, NULL);
        }
    }
}

/* A referent of a reachable object is reachable: if it was moved to the
 * unreachable list, it comes back to the end of young (and is scanned in
 * turn); if not seen yet, it is marked so it will not be moved. */
static int visit_reachable(mw_object *child, void *arg)
{
    mw__gc_head *young = arg;
    if (child == NULL || !(child->ob_type->flags & MW_TYPE_GC) ||
        !(child->ob_gc_bits & MW__GC_COLLECTING)) {
        return 0;
    }
    mw__gc_head *g = mw__gc_head_of(child);
    if (child->ob_gc_bits & MW__GC_UNREACHABLE) {
        child->ob_gc_bits &= (uint16_t)~MW__GC_UNREACHABLE;
        g->refs = 1;
        list_move(g, young);
    } else if (g->refs == 0) {
        g->refs = 1;
    }
    return 0;
}

/* Step 4: split young into reachable (stays) and unreachable. */
static void move_unreachable(mw__gc_head *young, mw__gc_head *unreachable)
{
    mw__gc_head *g = young->next;
    while (g != young) {
        mw__gc_head *next = g->next;
        mw_object *o = mw__gc_object_of(g);
        if (g->refs > 0) {
            if (o->ob_type->traverse != NULL) {
                o->ob_type->traverse(o, visit_reachable, young);
            }
            next = g->next;   // traverse may have appended after g
        } else {
            o->ob_gc_bits |= MW__GC_UNREACHABLE;
            list_move(g, unreachable);
        }
        g = next;
    }
}

/* Steps 2-4 on list: objects reachable from outside it stay in list. */
static void find_unreachable(mw__gc_head *list, mw__gc_head *unreachable)
{
    update_refs(list);
    subtract_refs(list);
    move_unreachable(list, unreachable);
}

static void clear_bits(mw__gc_head *list)
{
    for (mw__gc_head *g = list->next; g != list; g = g->next) {
        mw__gc_object_of(g)->ob_gc_bits &=
            (uint16_t)~(MW__GC_COLLECTING | MW__GC_UNREACHABLE);
    }
}

/* Append o to the garbage list (new reference kept there). */
static void keep_as_garbage(mw_object *o)
{
    if (gc.garbage == NULL) {
        bool was = atomic_exchange(&gc.collecting, true);   // no collection for it
        gc.garbage = mw_list_new();
        atomic_store(&gc.collecting, was);
    }
    if (gc.garbage == NULL || mw__list_append((mw__list *)gc.garbage, o) != 0) {
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

/* Step 5: weak references, then finalizers, each object at most once. */
static void finalize_unreachable(mw__gc_head *unreachable)
{
    mw__gc_head done;
    list_init(&done);
    while (!list_empty(unreachable)) {
        mw__gc_head *g = unreachable->next;
        mw_object *o = mw__gc_object_of(g);
        list_move(g, &done);
        mw__incref(o);   // nothing here may free o under us
        if (o->ob_type->flags & MW_TYPE_WEAKREF) {
            mw__weakrefs_clear(o);
            report_unraisable("a weak-reference callback", o);
        }
        if (o->ob_type->finalize != NULL && !(o->ob_flags & MW__OBJ_FINALIZED)) {
            o->ob_flags |= MW__OBJ_FINALIZED;
            o->ob_type->finalize(o);
            report_unraisable("the finalizer", o);
        }
        mw__decref(o);   // if that was the last, o left `done` as it died
    }
    list_merge(&done, unreachable);
}

/* Step 7: clear (or keep) what is still unreachable.  Returns the number
 * of uncollectable objects. */
static intptr_t clear_unreachable(mw__gc_head *unreachable, mw__gc_head *old)
{
    intptr_t uncollectable = 0;
    while (!list_empty(unreachable)) {
        mw__gc_head *g = unreachable->next;
        mw_object *o = mw__gc_object_of(g);
        o->ob_gc_bits &= (uint16_t)~(MW__GC_COLLECTING | MW__GC_UNREACHABLE);
        bool saveall = (gc.debug & MW_GC_DEBUG_SAVEALL) != 0;
        if (saveall || o->ob_type->clear == NULL) {
            if (!saveall) {
                uncollectable++;
                if (gc.debug & MW_GC_DEBUG_UNCOLLECTABLE) {
                    fprintf(stderr, "mwrt gc: uncollectable <%s %p>\n", o->ob_type->name,
                            (void *)o);
                }
            }
            list_move(g, old);
            keep_as_garbage(o);
            continue;
        }
        if (gc.debug & MW_GC_DEBUG_COLLECTABLE) {
            fprintf(stderr, "mwrt gc: collectable <%s %p>\n", o->ob_type->name, (void *)o);
        }
        mw__incref(o);
        o->ob_type->clear(o);
        if (unreachable->next == g) {
            list_move(g, old);   // still alive after clear: its referrers go first
        }
        mw__decref(o);
    }
    return uncollectable;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_callbacks(const char *phase, const mw_gc_info *info)
{
    for (int i = 0; i < gc.ncallbacks; i++) {
        gc.callbacks[i].cb(phase, info, gc.callbacks[i].arg);
        report_unraisable("a collection callback", NULL);
    }
}

/*
 * Collect generations 0..gen.  This is the main function: read it to see
 * the whole collection.  Returns the number of unreachable objects found.
 * The caller checked that the heap stands still.
 */
static intptr_t collect(int gen)
{
    // A collection may start inside any container allocation: the caller's
    // pending error, if any, must come out of it as it went in.
    mw__err_state saved;
    mw__err_save(&saved);
    mw_err_clear();
    uint64_t start = now_ns();
    atomic_store(&gc.collecting, true);
    if (mw__free_mode) {
        // Settle counts other threads passed to this one, so that every
        // count read below is the object's whole count.
        mw__brc_merge_queue(mw__tls_tstate, false);
    }
    mw_gc_info info = {.generation = gen};
    run_callbacks("start", &info);
    size_t sizes[NGENS];
    for (int i = 0; i < NGENS; i++) {
        sizes[i] = (gc.debug & MW_GC_DEBUG_STATS) ? list_size(&gc.gens[i]) : 0;
    }

    // 1-4: everything in generations 0..gen, split by reachability.
    mw__gc_head *young = &gc.gens[gen];
    for (int i = 0; i < gen; i++) {
        list_merge(&gc.gens[i], young);
    }
    mw__gc_head *old = gen < NGENS - 1 ? &gc.gens[gen + 1] : &gc.gens[gen];
    mw__gc_head unreachable;
    list_init(&unreachable);
    find_unreachable(young, &unreachable);
    clear_bits(young);
    intptr_t found = (intptr_t)list_size(&unreachable);

    if (!(gc.debug & MW_GC_DEBUG_SAVEALL)) {
        // 5: weak references and finalizers, on a consistent heap.
        finalize_unreachable(&unreachable);
        // 6: what they made reachable again survives, with its referents;
        // the rest, in `garbage`, is what step 7 clears.
        mw__gc_head garbage;
        list_init(&garbage);
        clear_bits(&unreachable);
        find_unreachable(&unreachable, &garbage);
        clear_bits(&unreachable);
        list_merge(&unreachable, young);
        list_merge(&garbage, &unreachable);
    }

    // 8, then 7: survivors move up first, so that objects cleared in 7
    // that outlive their clear join them in the older generation.
    size_t survivors = list_size(young);
    if (young != old) {
        list_merge(young, old);
    }
    intptr_t uncollectable = clear_unreachable(&unreachable, old);

    // Counts and the bookkeeping of the full-collection rule.
    if (gen + 1 < NGENS) {
        gc.count[gen + 1]++;
    }
    for (int i = 0; i <= gen; i++) {
        gc.count[i] = 0;
    }
    if (gen == NGENS - 1) {
        gc.long_lived_total = survivors;
        gc.long_lived_pending = 0;
    } else if (gen == NGENS - 2) {
        gc.long_lived_pending += survivors;
    }

    uint64_t pause = now_ns() - start;
    mw_gc_gen_stats *st = &gc.stats.gen[gen];
    st->collections++;
    st->collected += (uint64_t)(found - uncollectable);
    st->uncollectable += (uint64_t)uncollectable;
    st->total_pause_ns += pause;
    if (pause > st->max_pause_ns) {
        st->max_pause_ns = pause;
    }
    if (gc.debug & MW_GC_DEBUG_STATS) {
        fprintf(stderr,
                "mwrt gc: collecting generation %d; objects in each generation: %zu %zu %zu; "
                "unreachable %" PRIdPTR ", uncollectable %" PRIdPTR ", %.6f s elapsed\n",
                gen, sizes[0], sizes[1], sizes[2], found, uncollectable, (double)pause / 1e9);
    }
    info.collected = found - uncollectable;
    info.uncollectable = uncollectable;
    run_callbacks("stop", &info);
    atomic_store(&gc.collecting, false);
    mw__err_restore(&saved);
    return found;
}

/* ======================================================================
 * When to collect
 * ====================================================================== */

/* Can a collection run now, on this thread?  (See "Atomicity" above.) */
static bool heap_stands_still(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL || t->blocking) {
        return false;
    }
    if (mw__free_mode && mw__atomic_load_relaxed(&mw__runtime->attached) != 1) {
        return false;
    }
    return !atomic_load(&gc.collecting);
}

/* The generation to collect now that generation 0 is due: the oldest
 * whose count passed its threshold (CPython's schedule). */
static int generation_due(void)
{
    for (int g = NGENS - 1; g >= 1; g--) {
        if (gc.threshold[g] > 0 && gc.count[g] > gc.threshold[g]) {
            // A full collection only if enough objects await their first
            // one (CPython's rule, which keeps full collections linear).
            if (g == NGENS - 1 && gc.long_lived_pending < gc.long_lived_total / 4) {
                continue;
            }
            return g;
        }
    }
    return 0;
}

/*
 * Before a container is allocated: collect if a threshold (or the torture
 * countdown) says so and the heap stands still.  Nothing else is read
 * until the latter is known: in free mode with other threads running, the
 * counts belong to list_lock.
 */
void mw__gc_before_alloc(void)
{
    if (!heap_stands_still()) {
        return;
    }
    if (mw_unlikely(gc.torture > 0) && --gc.torture_countdown <= 0) {
        gc.torture_countdown = gc.torture;
        collect(0);
        return;
    }
    // count[0] net allocations so far; this one would make count[0] + 1,
    // so a threshold of 700 collects before the 701st, as CPython does
    // right after counting it.
    if (!gc.enabled || gc.threshold[0] <= 0 || gc.count[0] < gc.threshold[0]) {
        return;
    }
    collect(generation_due());
}

/* ======================================================================
 * The API
 * ====================================================================== */

intptr_t mw_gc_collect(int gen)
{
    if (mw__tstate_checked("mw_gc_collect") == NULL) {
        return -1;
    }
    if (gen == -1) {
        gen = NGENS - 1;
    }
    if (gen < 0 || gen >= NGENS) {
        mw_err_set(MW_ERR_VALUE, "mw_gc_collect: generation %d out of range", gen);
        return -1;
    }
    if (!heap_stands_still()) {
        mw_err_set(MW_ERR_STATE, "mw_gc_collect: %s",
                   atomic_load(&gc.collecting) ? "a collection is already running"
                                 : "other threads are attached (free mode needs them stopped)");
        return -1;
    }
    return collect(gen);
}

void mw_gc_enable(void)
{
    gc.enabled = true;
}

void mw_gc_disable(void)
{
    gc.enabled = false;
}

bool mw_gc_isenabled(void)
{
    return gc.enabled;
}

void mw_gc_set_threshold(int t0, int t1, int t2)
{
    int t[NGENS] = {t0, t1, t2};
    for (int i = 0; i < NGENS; i++) {
        gc.threshold[i] = t[i] < 0 ? 0 : t[i];
    }
}

void mw_gc_get_threshold(int out[3])
{
    for (int i = 0; i < NGENS; i++) {
        out[i] = gc.threshold[i];
    }
}

void mw_gc_get_count(int out[3])
{
    for (int i = 0; i < NGENS; i++) {
        out[i] = gc.count[i];
    }
}

void mw_gc_freeze(void)
{
    for (int i = 0; i < NGENS; i++) {
        list_merge(&gc.gens[i], &gc.permanent);
        gc.count[i] = 0;
    }
}

void mw_gc_unfreeze(void)
{
    list_merge(&gc.permanent, &gc.gens[NGENS - 1]);
}

size_t mw_gc_get_freeze_count(void)
{
    return list_size(&gc.permanent);
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
    if (gc.garbage == NULL) {
        gc.garbage = mw_list_new();
        if (gc.garbage == NULL) {
            return NULL;
        }
    }
    mw__incref(gc.garbage);
    return gc.garbage;
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

int mw_gc_get_stats(mw_gc_stats *out)
{
    if (out == NULL) {
        return MW_EINVAL;
    }
    *out = gc.stats;
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
    bool was = atomic_exchange(&gc.collecting, true);
    mw_object *l = mw_list_new();
    atomic_store(&gc.collecting, was);
    return l;
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
    for (int i = 0; i < NGENS; i++) {
        if ((gen == -1 || gen == i) && append_all(result, &gc.gens[i]) != 0) {
            mw__decref(result);
            return NULL;
        }
    }
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
    mw__gc_head *lists[NGENS + 1] = {&gc.gens[0], &gc.gens[1], &gc.gens[2], &gc.permanent};
    for (int i = 0; i <= NGENS; i++) {
        for (mw__gc_head *g = lists[i]->next; g != lists[i]; g = g->next) {
            mw_object *c = mw__gc_object_of(g);
            referrer_search s = {.target = o};
            if (c != result && c->ob_type->traverse != NULL) {
                c->ob_type->traverse(c, visit_find, &s);
            }
            if (s.found && mw__list_append((mw__list *)result, c) != 0) {
                mw__decref(result);
                return NULL;
            }
        }
    }
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
