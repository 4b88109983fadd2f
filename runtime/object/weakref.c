/*
 * weakref.c - weak references and weak proxies.
 *
 * Each weakly referenceable object (its type has MW_TYPE_WEAKREF) carries a
 * hidden word in front of it, the head of the list of weak references to it
 * (see mw__weaklist_of); weak references link themselves into that list.
 * One process-wide mutex, weak_lock, guards every list and every weak
 * reference's target pointer: weak references are created, read and
 * cleared rarely next to ordinary counting.
 *
 * The hard case is a thread dropping the last reference to a target while
 * another thread's mw_weakref_get reads it: the target's death is decided
 * by its count reaching zero, before the dying thread can take weak_lock
 * to clear the weak references.  So a reader counts a new reference only
 * if the count is still above zero, in one CAS (mw__rc_try_incref); for
 * that, weakly referenceable objects and weak references are counted in
 * their shared field alone in free mode (object.h).  Once the count is
 * zero every reader sees the target as gone, whether or not the dying
 * thread has cleared the reference yet.
 *
 * Order at death: weak references are cleared and their callbacks called
 * before the finalizer runs (as the cycle collector of the design does),
 * so a finalizer that resurrects its object does not bring its weak
 * references back.
 */
#include "object/object.h"

#include <stdlib.h>

typedef struct mw__weakref {
    mw_object ob;
    mw_object *target;            /* under weak_lock; NULL once it died */
    mw_weakref_callback callback; /* NULL: none (or already called) */
    struct mw__weakref *prev;     /* the target's list, under weak_lock */
    struct mw__weakref *next;
} mw__weakref;

static pthread_mutex_t weak_lock = PTHREAD_MUTEX_INITIALIZER;

/* Unlink w from its target's list.  weak_lock held, w->target != NULL. */
static void unlink_ref(mw__weakref *w)
{
    if (w->prev != NULL) {
        w->prev->next = w->next;
    } else {
        *mw__weaklist_of(w->target) = w->next;
    }
    if (w->next != NULL) {
        w->next->prev = w->prev;
    }
    w->prev = w->next = NULL;
    w->target = NULL;
}

/* A weak reference itself dies: leave its target's list. */
static void weakref_destroy(mw_object *self)
{
    mw__weakref *w = (mw__weakref *)self;
    pthread_mutex_lock(&weak_lock);
    if (w->target != NULL) {
        unlink_ref(w);
    }
    pthread_mutex_unlock(&weak_lock);
}

const mw_type mw_weakref_type = {
    .name = "weakref",
    .size = sizeof(mw__weakref),
    .destroy = weakref_destroy,
};

const mw_type mw_weakproxy_type = {
    .name = "weakproxy",
    .size = sizeof(mw__weakref),
    .destroy = weakref_destroy,
};

static mw_object *make_ref(const char *func, const mw_type *type, mw_object *target,
                           mw_weakref_callback callback)
{
    if (mw__tstate_checked(func) == NULL) {
        return NULL;
    }
    if (target == NULL || !(target->ob_type->flags & MW_TYPE_WEAKREF)) {
        mw_err_set(MW_ERR_TYPE, "%s: cannot create weak reference to '%s' object", func,
                   target == NULL ? "NULL" : target->ob_type->name);
        return NULL;
    }
    if (mw__atomic_load_relaxed(&mw__confine_any)) {
        // A weak reference and its target meet at the target's death (on
        // the target's thread, which clears the reference and calls its
        // callback) and at every read: both must be one thread's, or
        // neither confined.
        mw__tstate *t = mw__tls_tstate;
        uintptr_t owner = mw__atomic_load_relaxed(&target->ob_owner);
        if (mw__confined_elsewhere(target, t) != 0) {
            mw_err_set(MW_ERR_STATE, "%s: the '%s' belongs to confined thread %llu; another "
                       "thread may not refer to it, weakly either", func,
                       target->ob_type->name, (unsigned long long)((mw__tstate *)owner)->id);
            return NULL;
        }
        if (mw__atomic_load_relaxed(&t->confined) && owner != (uintptr_t)t) {
            mw_err_set(MW_ERR_STATE, "%s: confined thread %llu may only refer weakly to its "
                       "own objects (this '%s' is shared: it may die on another thread, "
                       "which would then touch the weak reference)",
                       func, (unsigned long long)t->id, target->ob_type->name);
            return NULL;
        }
    }
    mw__weakref *w = (mw__weakref *)mw__obj_alloc(type, sizeof(mw__weakref));
    if (w == NULL) {
        return NULL;
    }
    // Counted in the shared field from birth (free mode), so a dying
    // target can tell a live weak reference from a dying one with a CAS.
    mw__rc_make_shared(&w->ob);
    w->callback = callback;
    pthread_mutex_lock(&weak_lock);
    mw__weakref **head = mw__weaklist_of(target);
    w->target = target;
    w->next = *head;
    if (*head != NULL) {
        (*head)->prev = w;
    }
    *head = w;
    pthread_mutex_unlock(&weak_lock);
    return &w->ob;
}

mw_object *mw_weakref_new(mw_object *target, mw_weakref_callback callback)
{
    return make_ref("mw_weakref_new", &mw_weakref_type, target, callback);
}

mw_object *mw_weakproxy_new(mw_object *target, mw_weakref_callback callback)
{
    return make_ref("mw_weakproxy_new", &mw_weakproxy_type, target, callback);
}

/* The target as a new reference, or NULL if it died (or is dying). */
static mw_object *target_of(mw__weakref *w)
{
    pthread_mutex_lock(&weak_lock);
    mw_object *t = w->target;
    if (t != NULL && !mw__rc_try_incref(t)) {
        t = NULL;   // its count reached zero: it is being cleared
    }
    pthread_mutex_unlock(&weak_lock);
    return t;
}

mw_object *mw_weakref_get(mw_object *ref)
{
    if (mw__tstate_checked("mw_weakref_get") == NULL) {
        return NULL;
    }
    if (!mw__is_type(ref, &mw_weakref_type)) {
        return mw__err_type("mw_weakref_get", "weakref", ref);
    }
    mw_object *t = target_of((mw__weakref *)ref);
    return t != NULL ? t : mw_none();
}

mw_object *mw_weakproxy_get(mw_object *proxy)
{
    if (mw__tstate_checked("mw_weakproxy_get") == NULL) {
        return NULL;
    }
    if (!mw__is_type(proxy, &mw_weakproxy_type)) {
        return mw__err_type("mw_weakproxy_get", "weakproxy", proxy);
    }
    mw_object *t = target_of((mw__weakref *)proxy);
    if (t == NULL) {
        mw_err_set(MW_ERR_VALUE, "weakly-referenced object no longer exists");
    }
    return t;
}

size_t mw_weakref_count(mw_object *target)
{
    if (target == NULL || !(target->ob_type->flags & MW_TYPE_WEAKREF)) {
        return 0;
    }
    size_t n = 0;
    pthread_mutex_lock(&weak_lock);
    for (mw__weakref *w = *mw__weaklist_of(target); w != NULL; w = w->next) {
        n++;
    }
    pthread_mutex_unlock(&weak_lock);
    return n;
}

/*
 * o's count reached zero: clear its weak references and call their
 * callbacks (each weak reference kept alive for its call).  Attached
 * thread (the one o died on).
 */
struct mw__weakref *mw__weakrefs_detach(mw_object *o, struct mw__weakref *calls)
{
    pthread_mutex_lock(&weak_lock);
    // Take the whole list; each reference with a callback is kept alive
    // until its callback has run, outside the lock.
    mw__weakref *list = *mw__weaklist_of(o);
    *mw__weaklist_of(o) = NULL;
    while (list != NULL) {
        mw__weakref *w = list;
        list = w->next;
        w->target = NULL;
        w->prev = NULL;
        w->next = NULL;
        // A reference that is itself dying (count 0) gets no call.
        if (w->callback != NULL && mw__rc_try_incref(&w->ob)) {
            w->next = calls;   // reuse the link: w is off every list now
            calls = w;
        }
    }
    pthread_mutex_unlock(&weak_lock);
    return calls;
}

void mw__weakrefs_call(struct mw__weakref *calls, void (*after_each)(mw_object *target))
{
    while (calls != NULL) {
        mw__weakref *w = calls;
        calls = w->next;
        w->next = NULL;
        mw_weakref_callback cb = w->callback;
        w->callback = NULL;
        cb(&w->ob);
        if (after_each != NULL) {
            after_each(&w->ob);
        }
        mw__decref(&w->ob);
    }
}

void mw__weakrefs_clear(mw_object *o)
{
    mw__weakrefs_call(mw__weakrefs_detach(o, NULL), NULL);
}
