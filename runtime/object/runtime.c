/*
 * runtime.c - the runtime, thread states, safepoints and errors.
 *
 * One runtime at a time (mw__runtime).  Thread states are made on first
 * attach, kept when their thread detaches, and reused by the next thread
 * to attach, in this runtime or a later one: an object's ob_owner may
 * point at any state ever made, so states are process-wide and never freed
 * (their memory is small).  Lock order: tstate_lock, then a state's
 * brc_lock.
 */
#include "object/object.h"
#include "sched/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mw_runtime *mw__runtime;
bool mw__free_mode;
__thread mw__tstate *mw__tls_tstate __attribute__((tls_model("initial-exec")));

static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every thread state ever made, and the detached ones free for reuse. */
static pthread_mutex_t tstate_lock = PTHREAD_MUTEX_INITIALIZER;
static mw__tstate *all_tstates;
static mw__tstate *spare_tstates;
static uint64_t next_tstate_id = 1;   /* under tstate_lock */

_Atomic(bool) mw__confine_any;

/* ======================================================================
 * Errors
 * ====================================================================== */

static __thread mw__err_state tls_error;

void mw__err_save(mw__err_state *out)
{
    *out = tls_error;
}

void mw__err_restore(const mw__err_state *in)
{
    tls_error = *in;
}

void mw__err_setv(mw_error_kind kind, const char *fmt, va_list ap)
{
    tls_error.kind = kind;
    vsnprintf(tls_error.message, sizeof tls_error.message, fmt, ap);
}

void mw_err_set(mw_error_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mw__err_setv(kind, fmt, ap);
    va_end(ap);
}

mw_error_kind mw_err_occurred(void)
{
    return tls_error.kind;
}

const char *mw_err_message(void)
{
    return tls_error.kind == MW_ERR_NONE ? "" : tls_error.message;
}

void mw_err_clear(void)
{
    tls_error.kind = MW_ERR_NONE;
    tls_error.message[0] = '\0';
}

const char *mw_err_name(mw_error_kind kind)
{
    static const char *const names[] = {
        [MW_ERR_NONE] = "NoError",         [MW_ERR_NOMEM] = "MemoryError",
        [MW_ERR_TYPE] = "TypeError",       [MW_ERR_INDEX] = "IndexError",
        [MW_ERR_KEY] = "KeyError",         [MW_ERR_OVERFLOW] = "OverflowError",
        [MW_ERR_VALUE] = "ValueError",     [MW_ERR_STATE] = "StateError",
        [MW_ERR_RECURSION] = "RecursionError",
    };
    if ((unsigned)kind >= sizeof names / sizeof names[0]) {
        return "UnknownError";
    }
    return names[kind];
}

void *mw__err_type(const char *func, const char *expected, const mw_object *got)
{
    mw_err_set(MW_ERR_TYPE, "%s: expected %s, got %s", func, expected,
               got == NULL ? "NULL" : got->ob_type->name);
    return NULL;
}

void *mw__err_nomem(void)
{
    mw_err_set(MW_ERR_NOMEM, "out of memory");
    return NULL;
}

mw__tstate *mw__tstate_error(const char *func)
{
    mw_err_set(MW_ERR_STATE, "%s: the calling thread is %s", func,
               mw__tls_tstate == NULL ? "not attached to the runtime"
                                      : "inside a blocking region");
    return NULL;
}

/* ======================================================================
 * The runtime
 * ====================================================================== */

void mw_config_default(mw_config *cfg)
{
    if (cfg == NULL) {
        return;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->lock = MW_LOCK_GIL;
    cfg->gc_policy = MW_GC_STW;
    cfg->threshold[0] = 700;
    cfg->threshold[1] = 10;
    cfg->threshold[2] = 10;
    cfg->gc_full_growth = MW__GC_FULL_GROWTH_DEFAULT;
    cfg->memory_limit = 0;
    cfg->switch_interval_us = MW__SWITCH_INTERVAL_DEFAULT;
}

/* Copy cfg, clamping every field into its documented range. */
static void config_clamp(mw_config *out, const mw_config *cfg)
{
    *out = *cfg;
    if (out->lock != MW_LOCK_GIL && out->lock != MW_LOCK_FREE) {
        out->lock = MW_LOCK_GIL;
    }
    if (out->gc_policy != MW_GC_STW && out->gc_policy != MW_GC_PAUSED &&
        out->gc_policy != MW_GC_OFF) {
        out->gc_policy = MW_GC_STW;
    }
    for (int i = 0; i < 3; i++) {
        if (out->threshold[i] < 0) {
            out->threshold[i] = 0;
        }
    }
    out->gc_full_growth = mw__gc_clamp_full_growth(out->gc_full_growth);
    if (out->switch_interval_us < MW__SWITCH_INTERVAL_MIN) {
        out->switch_interval_us = MW__SWITCH_INTERVAL_MIN;
    } else if (out->switch_interval_us > MW__SWITCH_INTERVAL_MAX) {
        out->switch_interval_us = MW__SWITCH_INTERVAL_MAX;
    }
}

mw_runtime *mw_runtime_new(const mw_config *cfg)
{
    mw_config defaults;
    if (cfg == NULL) {
        mw_config_default(&defaults);
        cfg = &defaults;
    }
    pthread_mutex_lock(&runtime_lock);
    if (mw__runtime != NULL) {
        pthread_mutex_unlock(&runtime_lock);
        mw_err_set(MW_ERR_STATE, "mw_runtime_new: a runtime already exists in this process");
        return NULL;
    }
    // The runtime's own struct comes from the C library: it outlives any
    // thread's heap and is freed by whichever thread frees the runtime.
    mw_runtime *rt = calloc(1, sizeof *rt);
    if (rt == NULL) {
        pthread_mutex_unlock(&runtime_lock);
        return mw__err_nomem();
    }
    config_clamp(&rt->config, cfg);
    mw__gil_init(&rt->gil);
    mw__caches_init();
    mw__free_mode = rt->config.lock == MW_LOCK_FREE;
    mw__runtime = rt;
    mw__gc_runtime_init();
    if (mw__sched_runtime_init(rt) != MW_OK) {
        mw__gc_runtime_fini();
        mw__gil_destroy(&rt->gil);
        mw__runtime = NULL;
        pthread_mutex_unlock(&runtime_lock);
        free(rt);
        mw_err_set(MW_ERR_NOMEM, "mw_runtime_new: cannot start the master thread");
        return NULL;
    }
    pthread_mutex_unlock(&runtime_lock);
    return rt;
}

mw_lock_mode mw_runtime_lock_mode(const mw_runtime *rt)
{
    return rt != NULL ? rt->config.lock : MW_LOCK_GIL;
}

int mw_runtime_free(mw_runtime *rt)
{
    pthread_mutex_lock(&runtime_lock);
    if (rt == NULL || rt != mw__runtime) {
        pthread_mutex_unlock(&runtime_lock);
        return MW_EINVAL;
    }
    if (mw__atomic_load_relaxed(&rt->attached) != 0) {
        pthread_mutex_unlock(&runtime_lock);
        return MW_EBUSY;
    }
    // Thread states stay: objects that outlive the runtime may still name
    // them as owners.  They are detached and merged already.  The master
    // goes first: it may be collecting.
    mw__sched_runtime_fini(rt);
    mw__gc_runtime_fini();
    mw__gil_destroy(&rt->gil);
    mw__runtime = NULL;
    pthread_mutex_unlock(&runtime_lock);
    free(rt);
    return MW_OK;
}

/* ======================================================================
 * Attaching and detaching threads
 * ====================================================================== */

/* A thread state for the caller: a spare one (adopting the objects it
 * owns) or a new one.  States come from the C library and are never freed
 * (rule 5 in object.h). */
mw__tstate *mw__tstate_acquire(mw_runtime *rt, bool spare)
{
    pthread_mutex_lock(&tstate_lock);
    mw__tstate *t = spare ? spare_tstates : NULL;
    if (t != NULL) {
        spare_tstates = t->next_spare;
    }
    pthread_mutex_unlock(&tstate_lock);
    if (t != NULL) {
        mw__brc_adopt(t);
    } else {
        t = calloc(1, sizeof *t);
        if (t == NULL) {
            return NULL;
        }
        pthread_mutex_init(&t->brc_lock, NULL);
        pthread_mutex_lock(&tstate_lock);
        t->id = next_tstate_id++;
        t->next_all = all_tstates;
        all_tstates = t;
        pthread_mutex_unlock(&tstate_lock);
    }
    t->rt = rt;
    return t;
}

int mw_thread_attach(mw_runtime *rt)
{
    if (rt == NULL || rt != mw__runtime) {
        return MW_EINVAL;
    }
    if (mw__tls_tstate != NULL) {
        return MW_EBUSY;
    }
    mw__tstate *t = mw__tstate_acquire(rt, true);
    if (t == NULL) {
        return MW_ENOMEM;
    }
    t->attached = true;
    t->blocking = false;
    t->is_master = false;
    mw__atomic_add_relaxed(&rt->attached, 1);
    mw__tls_tstate = t;
    // A worker from now on; not while the world is stopped.
    mw__sched_attach(t);
    if (!mw__free_mode) {
        mw__gil_take(rt, t);
    }
    return MW_OK;
}

void mw__tstate_release(mw__tstate *t)
{
    mw__brc_merge_queue(t, true);
    t->attached = false;
    pthread_mutex_lock(&tstate_lock);
    t->next_spare = spare_tstates;
    spare_tstates = t;
    pthread_mutex_unlock(&tstate_lock);
}

int mw_thread_detach(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL) {
        return MW_EINVAL;
    }
    mw_runtime *rt = t->rt;
    if (t->blocking) {
        mw_blocking_end();
    }
    // A worker that leaves during a collection waits for its end here,
    // then settles the counts others passed to it (from then on they
    // merge for it) while still a RUNNING worker, so a stop waits for it.
    mw__sched_poll(t);
    if (mw__atomic_load_relaxed(&t->confined)) {
        // Its garbage is collected here; what is left joins the shared
        // heap, unconfined (docs/sched.md).
        mw__gc_unconfine(t);
    }
    mw__gc_detach_point();
    mw__brc_merge_queue(t, true);
    mw__sched_detach(t);
    if (!mw__free_mode) {
        mw__gil_drop(rt, t, false);
    }
    mw__tls_tstate = NULL;
    mw__tstate_release(t);
    mw__atomic_sub_relaxed(&rt->attached, 1);
    return MW_OK;
}

bool mw_thread_is_attached(void)
{
    return mw__tls_tstate != NULL;
}

uint64_t mw_thread_id(void)
{
    mw__tstate *t = mw__tls_tstate;
    return t != NULL ? t->id : 0;
}

bool mw_thread_is_confined(void)
{
    mw__tstate *t = mw__tls_tstate;
    return t != NULL && mw__atomic_load_relaxed(&t->confined);
}

/*
 * Confine the calling thread.  It takes a fresh thread state, never one
 * that owned objects before: whatever the thread made until now stays
 * with its old state (detached, so any thread may count and free those
 * objects), and only objects made from now on are confined.  That is what
 * makes the refusal sound: every object a confined state owns was made by
 * it after it was confined.
 */
int mw_thread_confine(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL) {
        mw_err_set(MW_ERR_STATE, "mw_thread_confine: the calling thread is not attached "
                                 "to the runtime");
        return -1;
    }
    if (t->blocking) {
        mw_err_set(MW_ERR_STATE, "mw_thread_confine: the calling thread is inside a "
                                 "blocking or idle region");
        return -1;
    }
    if (!mw__free_mode) {
        mw_err_set(MW_ERR_STATE, "mw_thread_confine: needs MW_LOCK_FREE (under the GIL "
                                 "every collection is atomic already, and objects are "
                                 "shared by design)");
        return -1;
    }
    if (mw__atomic_load_relaxed(&t->confined)) {
        mw_err_set(MW_ERR_STATE, "mw_thread_confine: thread %llu is confined already",
                   (unsigned long long)t->id);
        return -1;
    }
    mw_runtime *rt = t->rt;
    mw__tstate *fresh = mw__tstate_acquire(rt, false);
    if (fresh == NULL) {
        mw_err_set(MW_ERR_NOMEM, "mw_thread_confine: out of memory for a thread state");
        return -1;
    }
    fresh->attached = true;
    fresh->blocking = false;
    fresh->is_master = false;
    if (mw__gc_confine(fresh) != MW_OK) {
        mw__tstate_release(fresh);
        mw_err_set(MW_ERR_NOMEM, "mw_thread_confine: out of memory for a heap");
        return -1;
    }
    // Leave as the old state (as mw_thread_detach does), come back as the
    // fresh one; rt->attached does not change.
    mw__sched_poll(t);
    mw__brc_merge_queue(t, true);
    mw__sched_detach(t);
    mw__tstate_release(t);
    atomic_store(&mw__confine_any, true);
    mw__tls_tstate = fresh;
    mw__sched_attach(fresh);
    return 0;
}

bool mw__confine_store_check(const char *func, mw_object *container, mw_object *item)
{
    mw__tstate *t = mw__tls_tstate;
    uintptr_t c_owner = container != NULL
                            ? mw__atomic_load_relaxed(&container->ob_owner)
                            : (uintptr_t)t;
    if (container != NULL) {
        uintptr_t other = mw__confined_elsewhere(container, t);
        if (other != 0) {
            mw_err_set(MW_ERR_STATE,
                       "%s: the '%s' belongs to confined thread %llu; thread %llu may not "
                       "change it",
                       func, container->ob_type->name,
                       (unsigned long long)((mw__tstate *)other)->id,
                       (unsigned long long)(t != NULL ? t->id : 0));
            return false;
        }
    }
    if (item == NULL || mw__is_immortal(item)) {
        return true;
    }
    uintptr_t i_owner = mw__atomic_load_relaxed(&item->ob_owner);
    if (i_owner == 0 || i_owner == c_owner ||
        !mw__atomic_load_relaxed(&((mw__tstate *)i_owner)->confined)) {
        return true;
    }
    unsigned long long cid = c_owner != 0 ? (unsigned long long)((mw__tstate *)c_owner)->id : 0;
    mw_err_set(MW_ERR_STATE,
               "%s: the '%s' item belongs to confined thread %llu and may not be stored in "
               "a container of %s%llu (objects of a confined thread never reach another "
               "thread; hand over plain data instead)",
               func, item->ob_type->name, (unsigned long long)((mw__tstate *)i_owner)->id,
               c_owner != 0 ? "thread " : "no thread (shared) ", cid);
    return false;
}

/* ======================================================================
 * Safepoints and blocking regions
 * ====================================================================== */

void mw_safepoint(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL || t->blocking) {
        return;
    }
    mw__sched_poll(t);
    if (mw_unlikely(mw__atomic_load_relaxed(&t->gc_request) != 0)) {
        mw__gc_request_point(t, false);   // a confined heap's, by the master
    }
    if (mw__atomic_load_relaxed(&t->brc_pending)) {
        mw__brc_merge_queue(t, false);
    }
    mw__heap_take_back();
    if (!mw__free_mode && mw__atomic_load_relaxed(&t->rt->gil.drop_request)) {
        mw__gil_drop(t->rt, t, true);
        mw__gil_take(t->rt, t);
    }
}

/* Blocking and idle regions: the thread parks (sched.h), and in GIL mode
 * lets the GIL go. */
static void park_region_begin(bool idle)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL || t->blocking) {
        return;
    }
    t->blocking = true;
    if (!mw__free_mode) {
        mw__gil_drop(t->rt, t, false);
    }
    mw__sched_park_begin(t, idle);
}

void mw_blocking_begin(void)
{
    park_region_begin(false);
}

void mw_blocking_end(void)
{
    mw__tstate *t = mw__tls_tstate;
    if (t == NULL || !t->blocking) {
        return;
    }
    if (!mw__free_mode) {
        mw__gil_take(t->rt, t);
    }
    mw__sched_park_end(t);   // waits while the world is stopped
    t->blocking = false;
}

void mw_idle_begin(void)
{
    mw_safepoint();
    mw__tstate *t = mw__tls_tstate;
    if (t != NULL && mw__atomic_load_relaxed(&t->gc_request) != 0) {
        mw__gc_request_point(t, true);   // a confined heap's, by the master
    }
    mw__gc_idle_point();   // MW_GC_PAUSED: collect if due and nobody runs
    park_region_begin(true);
}

void mw_idle_end(void)
{
    mw_blocking_end();
}
