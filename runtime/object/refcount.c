/*
 * refcount.c - the slow paths of reference counting: biased counting's
 * shared decrements, merges and queues, and an object's death.
 *
 * The rules (numbered) are in object.h; the comments here refer to them.
 */
#include "object/object.h"

#include <stdio.h>
#include <stdlib.h>

/* ======================================================================
 * Confinement: the refusal
 * ====================================================================== */

void mw__confine_violation(const mw_object *o, const char *what, uintptr_t owner)
{
    const mw__tstate *t = mw__tls_tstate;
    const mw__tstate *own = (const mw__tstate *)owner;
    fprintf(stderr,
            "mwrt: fatal: thread %llu %s a '%s' object (%p) that belongs to confined thread "
            "%llu.\n"
            "  An object of a thread that called mw_thread_confine must never reach another "
            "thread: it lives in that thread's own heap, which its collector examines without "
            "stopping anyone.  Hand plain data across (a C buffer) and build the object on "
            "the receiving thread.\n",
            t != NULL ? (unsigned long long)t->id : 0ull, what, o->ob_type->name,
            (const void *)o, (unsigned long long)own->id);
    fflush(stderr);
    abort();
}

/* ======================================================================
 * The public entry points
 * ====================================================================== */

void mw_incref(mw_object *o)
{
    if (o != NULL) {
        mw__incref(o);
    }
}

void mw_decref(mw_object *o)
{
    if (o != NULL) {
        mw__decref(o);
    }
}

intptr_t mw_refcnt(const mw_object *o)
{
    if (o == NULL) {
        return 0;
    }
    if (mw__is_immortal(o)) {
        return MW__IMMORTAL_REFCNT;
    }
    mw_object *m = (mw_object *)o;   // the loads are atomic; nothing is written
    // Acquire: a caller that finds the count at zero (a dying object's
    // weak-reference check) must also see everything the thread that
    // dropped the last shared reference did with the object before.
    intptr_t shared = mw__atomic_load_acquire(&m->ob_ref_shared) >> MW__SHARED_SHIFT;
    return (intptr_t)mw__atomic_load_relaxed(&m->ob_ref_local) + shared;
}

bool mw_is_immortal(const mw_object *o)
{
    return o != NULL && mw__is_immortal(o);
}

/* ======================================================================
 * Biased counting
 * ====================================================================== */

/* Merge o's counts into shared, give up ownership, and return the total
 * plus extra (rule 2).  The caller is o's owner, or holds the owner's
 * brc_lock after the owner detached. */
static intptr_t merge_counts(mw_object *o, intptr_t extra)
{
    // The owner's fields are given up before the CAS publishes the merged
    // count: once it is published, another thread may take the count to
    // zero and free o, and a store after that would land in freed memory.
    // Nobody else reads them meanwhile: o is QUEUED, so non-owners only
    // add to or subtract from the shared field.
    intptr_t local = (intptr_t)mw__atomic_load_relaxed(&o->ob_ref_local);
    mw__atomic_store_relaxed(&o->ob_ref_local, 0);
    mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)0);
    intptr_t shared = mw__atomic_load_relaxed(&o->ob_ref_shared);
    intptr_t total;
    intptr_t merged;
    do {
        total = (shared >> MW__SHARED_SHIFT) + local + extra;
        merged = (total << MW__SHARED_SHIFT) | MW__SHARED_MERGED;
    } while (!mw__atomic_cas_acq_rel(&o->ob_ref_shared, &shared, merged));
    return total;
}

/* Queue o for owner to merge, or merge it now if owner has detached
 * (rule 5).  Returns true if the caller must free o. */
static bool queue_for_owner(mw_object *o, mw__tstate *owner)
{
    pthread_mutex_lock(&owner->brc_lock);
    if (mw__atomic_load_relaxed(&owner->detached)) {
        intptr_t total = merge_counts(o, -1);
        pthread_mutex_unlock(&owner->brc_lock);
        return total == 0;
    }
    if (owner->brc_len == owner->brc_cap) {
        size_t cap = owner->brc_cap ? owner->brc_cap * 2 : 64;
        mw_object **items = realloc(owner->brc_items, cap * sizeof *items);
        if (items == NULL) {
            // No room to queue: the owner is alive, so its local count
            // cannot be merged from here.  Keeping the object alive (a
            // leak of one object) is the only safe outcome.
            pthread_mutex_unlock(&owner->brc_lock);
            return false;
        }
        owner->brc_items = items;
        owner->brc_cap = cap;
    }
    owner->brc_items[owner->brc_len++] = o;
    mw__atomic_store_relaxed(&owner->brc_pending, true);
    pthread_mutex_unlock(&owner->brc_lock);
    return false;
}

/*
 * The count of o just dropped on a path that may have been its last
 * reference: the owner's local count reached 0 (rule 3), a GIL-mode count
 * reached 0, or a non-owner must decrement the shared count (rules 1, 4).
 * Returns true if o is now dead and the caller must free it.
 */
bool mw__decref_is_last(mw_object *o, mw__tstate *t)
{
    if (!mw__free_mode) {
        return true;   // the GIL-mode count reached zero
    }
    if (mw__atomic_load_relaxed(&o->ob_owner) == (uintptr_t)t && t != NULL) {
        // Rule 3: the owner's local count is 0.
        intptr_t shared = mw__atomic_load_acquire(&o->ob_ref_shared);
        if (shared == 0) {
            return true;
        }
        // Clear the owner first: once MERGED is visible, no thread may
        // count locally any more.
        mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)0);
        intptr_t merged;
        do {
            merged = (shared & ~(intptr_t)MW__SHARED_FLAGS) | MW__SHARED_MERGED;
        } while (!mw__atomic_cas_acq_rel(&o->ob_ref_shared, &shared, merged));
        return merged == MW__SHARED_MERGED;
    }
    uintptr_t confined_owner = mw__confined_elsewhere(o, t);
    if (mw_unlikely(confined_owner != 0)) {
        mw__confine_violation(o, "dropped a reference to (decref)", confined_owner);
    }
    // Rules 1 and 4: a decrement of the shared count.  The owner is read
    // before the CAS that queues: once QUEUED is set, the owner may merge
    // the object and clear ob_owner at any time.  Read before, it is still
    // the owner when a CAS from exactly 0 succeeds, because clearing it
    // means the owner first set MERGED, and that CAS would then have failed.
    intptr_t shared = mw__atomic_load_relaxed(&o->ob_ref_shared);
    intptr_t next;
    bool queue;
    mw__tstate *owner = NULL;
    do {
        queue = shared == 0;
        if (queue) {
            owner = (mw__tstate *)mw__atomic_load_relaxed(&o->ob_owner);
        }
        next = queue ? MW__SHARED_QUEUED : shared - MW__SHARED_ONE;
    } while (!mw__atomic_cas_acq_rel(&o->ob_ref_shared, &shared, next));
    if (queue) {
        return queue_for_owner(o, owner);
    }
    return next == MW__SHARED_MERGED;
}

/*
 * Merge every object other threads queued to t (rule 2), freeing those
 * whose count comes to zero; with detach, also mark t detached once its
 * queue is empty (rule 5).  t's own thread, at a safepoint or detach.
 */
void mw__brc_merge_queue(mw__tstate *t, bool detach)
{
    for (;;) {
        pthread_mutex_lock(&t->brc_lock);
        size_t n = t->brc_len;
        mw_object **items = t->brc_items;
        t->brc_items = NULL;
        t->brc_len = t->brc_cap = 0;
        mw__atomic_store_relaxed(&t->brc_pending, false);
        if (n == 0 && detach) {
            // In the same hold as the check that the queue is empty: a
            // thread that queues after this merges by itself instead.
            mw__atomic_store_relaxed(&t->detached, true);
        }
        pthread_mutex_unlock(&t->brc_lock);
        if (n == 0) {
            free(items);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            if (merge_counts(items[i], -1) == 0) {
                mw__dealloc(items[i]);   // may queue more: hence the loop
            }
        }
        free(items);
    }
}

/* A thread is taking over the detached state t: it becomes the owner of
 * t's objects again (rule 5).  t's queue is empty (merged at detach, and
 * nobody queues to a detached owner); under the lock, so no merger is
 * half-way through one of t's objects, t stops being detached. */
void mw__brc_adopt(mw__tstate *t)
{
    pthread_mutex_lock(&t->brc_lock);
    mw__atomic_store_relaxed(&t->detached, false);
    pthread_mutex_unlock(&t->brc_lock);
}

/* ======================================================================
 * Helpers for weak references (weakref.c)
 * ====================================================================== */

/*
 * Free mode: count o in its shared field from now on, with no owner, as a
 * merged object (rule 4).  o must be new, with count 1, and not yet seen by
 * another thread.  Weakly referenceable objects and weak references are
 * counted so from birth: then "is it dying?" is one atomic read of one
 * field, and mw__rc_try_incref can refuse a dying object with a CAS,
 * without which a weak reference could hand out an object whose death was
 * already decided.
 */
void mw__rc_make_shared(mw_object *o)
{
    // A confined thread's objects are only ever counted by it, so a dying
    // one is told by its local count (mw__rc_try_incref).
    mw__tstate *t = mw__tls_tstate;
    if (mw__free_mode && !(t != NULL && mw__atomic_load_relaxed(&t->confined))) {
        o->ob_flags |= MW__OBJ_SHARED_COUNT;
        mw__atomic_store_relaxed(&o->ob_ref_local, 0);
        mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)0);
        mw__atomic_store_relaxed(&o->ob_ref_shared, MW__SHARED_ONE | MW__SHARED_MERGED);
    }
}

void mw__rc_merge_stopped(mw_object *o)
{
    if (!mw__free_mode || mw__is_immortal(o)) {
        return;
    }
    intptr_t shared = mw__atomic_load_acquire(&o->ob_ref_shared);
    if (shared & (MW__SHARED_MERGED | MW__SHARED_QUEUED)) {
        return;
    }
    intptr_t local = (intptr_t)mw__atomic_load_relaxed(&o->ob_ref_local);
    mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)0);
    mw__atomic_store_relaxed(&o->ob_ref_local, 0);
    mw__atomic_store_release(&o->ob_ref_shared,
                             (shared + local * MW__SHARED_ONE) | MW__SHARED_MERGED);
}

/*
 * Count a new reference to o unless o is already dying (count 0).  For
 * objects counted as mw__rc_make_shared makes them (free mode), or any
 * object in GIL mode.  Returns whether it counted one.
 */
bool mw__rc_try_incref(mw_object *o)
{
    if (!mw__free_mode) {
        if (mw__atomic_load_relaxed(&o->ob_ref_local) == 0) {
            return false;
        }
        mw__incref(o);
        return true;
    }
    mw__tstate *t = mw__tls_tstate;
    uintptr_t owner = mw__atomic_load_relaxed(&o->ob_owner);
    if (owner != 0 && owner == (uintptr_t)t && !(o->ob_flags & MW__OBJ_SHARED_COUNT)) {
        // The owner's own object, counted locally (a confined thread's):
        // nobody else counts it, so the local count is the whole count.
        if (mw__atomic_load_relaxed(&o->ob_ref_local) == 0) {
            return false;
        }
        mw__incref(o);
        return true;
    }
    uintptr_t confined_owner = mw__confined_elsewhere(o, t);
    if (mw_unlikely(confined_owner != 0)) {
        mw__confine_violation(o, "took a reference (weak-reference read) to", confined_owner);
    }
    intptr_t shared = mw__atomic_load_relaxed(&o->ob_ref_shared);
    do {
        if ((shared >> MW__SHARED_SHIFT) <= 0) {
            return false;
        }
    } while (!mw__atomic_cas_acq_rel(&o->ob_ref_shared, &shared, shared + MW__SHARED_ONE));
    return true;
}

/* ======================================================================
 * Death
 * ====================================================================== */

/* Give a dead object one reference again, owned by the caller (counted as
 * it was counted before: shared-only objects stay shared-only). */
static void resurrect(mw_object *o, mw__tstate *t)
{
    if (o->ob_flags & MW__OBJ_SHARED_COUNT) {
        mw__atomic_store_relaxed(&o->ob_ref_shared, MW__SHARED_ONE | MW__SHARED_MERGED);
        return;
    }
    mw__atomic_store_relaxed(&o->ob_ref_local, 1);
    if (mw__free_mode) {
        mw__atomic_store_relaxed(&o->ob_ref_shared, 0);
        mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)t);
    }
}

/* Drop the temporary reference resurrect gave; true if that was the last. */
static bool unresurrect(mw_object *o, mw__tstate *t)
{
    if (o->ob_flags & MW__OBJ_SHARED_COUNT) {
        return mw__decref_is_last(o, t);   // a merged object's decrement
    }
    uint32_t local = mw__atomic_load_relaxed(&o->ob_ref_local) - 1;
    mw__atomic_store_relaxed(&o->ob_ref_local, local);
    if (local != 0) {
        return false;
    }
    return mw__decref_is_last(o, t);
}

static void destroy(mw_object *o)
{
    const mw_type *type = o->ob_type;
    if (type->clear != NULL) {
        type->clear(o);
    }
    if (type->destroy != NULL) {
        type->destroy(o);
    }
    mw__obj_free(o);
}

/*
 * o's count reached zero: clear its weak references (calling their
 * callbacks), finalize it (once), and unless that resurrected it, clear,
 * destroy and free it.  Past MW_OBJECT_DEALLOC_DEPTH nested
 * frees, objects are put on a list and freed by the outermost call.
 * Attached thread.
 */
void mw__dealloc(mw_object *o)
{
    mw__tstate *t = mw__tls_tstate;
    const mw_type *type = o->ob_type;
    if (type->flags & MW_TYPE_WEAKREF) {
        mw__weakrefs_clear(o);
    }
    if (type->finalize != NULL && !(o->ob_flags & MW__OBJ_FINALIZED)) {
        o->ob_flags |= MW__OBJ_FINALIZED;
        resurrect(o, t);
        type->finalize(o);
        if (!unresurrect(o, t)) {
            return;   // the finalizer stored a reference somewhere
        }
    }
    if (t == NULL) {
        destroy(o);   // freed from outside the runtime (detached thread)
        return;
    }
    if (t->dealloc_depth >= MW_OBJECT_DEALLOC_DEPTH) {
        mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)t->dealloc_later);
        t->dealloc_later = o;
        return;
    }
    t->dealloc_depth++;
    destroy(o);
    if (t->dealloc_depth == 1) {
        while (t->dealloc_later != NULL) {
            mw_object *next = t->dealloc_later;
            t->dealloc_later = (mw_object *)mw__atomic_load_relaxed(&next->ob_owner);
            destroy(next);
        }
    }
    t->dealloc_depth--;
}
