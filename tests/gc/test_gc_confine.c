/*
 * test_gc_confine.c - confined heaps (mw_thread_confine, docs/sched.md).
 *
 * A confined thread's containers live in its own generations; it collects
 * them on its own, stopping nobody, and nothing else's collection looks at
 * them.  Its objects must not reach another thread: a count from another
 * thread aborts the process (tested in forked children that must die by
 * SIGABRT), a store into a foreign container is refused.  The master
 * requests its collections by policy: at a safepoint under MW_GC_STW, at
 * an idle point under MW_GC_PAUSED, never under MW_GC_OFF, and full ones
 * past the memory limit.  Detaching collects its garbage and hands what is
 * left to the shared heap.
 *
 * Most tests run one helper thread, confined, beside the main thread
 * (unconfined), and step them through phases; each records what it saw,
 * and the main thread asserts after the join where it can (Check's
 * assertions are for the test's own thread).
 */
#include "test_gc.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ======================================================================
 * Helpers
 * ====================================================================== */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void set_phase(int p)
{
    pthread_mutex_lock(&mu);
    phase = p;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Wait for phase >= want, in a blocking region if attached. */
static void wait_phase(int want)
{
    bool attached = mw_thread_is_attached();
    if (attached) {
        mw_blocking_begin();
    }
    pthread_mutex_lock(&mu);
    while (phase < want) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    if (attached) {
        mw_blocking_end();
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep ms in a blocking region. */
static void nap_ms(int ms)
{
    mw_blocking_begin();
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    mw_blocking_end();
}

/* A garbage cycle of two lists. */
static bool garbage_pair(void)
{
    mw_object *a = mw_list_new();
    mw_object *b = mw_list_new();
    bool ok = a != NULL && b != NULL && mw_list_append(a, b) == 0 && mw_list_append(b, a) == 0;
    mw_decref(a);
    mw_decref(b);
    return ok;
}

/* The calling thread's own entry of mw_gc_get_thread_stats (its id), or
 * false if there is none. */
static bool own_stats(mw_gc_thread_stats *out)
{
    mw_gc_thread_stats all[16];
    size_t n = 0;
    if (mw_gc_get_thread_stats(all, 16, &n) != 0) {
        return false;
    }
    uint64_t id = mw_thread_id();
    for (size_t i = 0; i < n && i < 16; i++) {
        if (all[i].confined && all[i].thread_id == id) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

static uint64_t collections_of(const mw_gc_stats *st)
{
    uint64_t n = 0;
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        n += st->gen[g].collections;
    }
    return n;
}

/* A helper thread: attach, confine, run body, detach. */
typedef struct helper {
    pthread_t thread;
    void (*body)(struct helper *);
    int attach_rc, confine_rc, detach_rc;
    uint64_t id;
    bool ok;             /* the body's verdict */
    char why[256];       /* what went wrong */
    intptr_t found;      /* a collection's result, for the main thread */
} helper;

#define HFAIL(h, ...)                                              \
    do {                                                           \
        if ((h)->ok) {                                             \
            snprintf((h)->why, sizeof (h)->why, __VA_ARGS__);      \
        }                                                          \
        (h)->ok = false;                                           \
    } while (0)

static void *helper_main(void *arg)
{
    helper *h = arg;
    h->attach_rc = mw_thread_attach(test_rt);
    if (h->attach_rc != 0) {
        return NULL;
    }
    h->confine_rc = mw_thread_confine();
    h->id = mw_thread_id();
    if (h->confine_rc == 0) {
        h->body(h);
    }
    h->detach_rc = mw_thread_detach();
    return NULL;
}

static void helper_start(helper *h, void (*body)(helper *))
{
    memset(h, 0, sizeof *h);
    h->body = body;
    h->ok = true;
    h->attach_rc = h->confine_rc = h->detach_rc = 1;
    ck_assert_int_eq(pthread_create(&h->thread, NULL, helper_main, h), 0);
}

/* Join (in a blocking region) and check the helper's verdict. */
static void helper_join(helper *h)
{
    mw_blocking_begin();
    pthread_join(h->thread, NULL);
    mw_blocking_end();
    ck_assert_int_eq(h->attach_rc, 0);
    ck_assert_msg(h->confine_rc == 0, "mw_thread_confine failed");
    ck_assert_int_eq(h->detach_rc, 0);
    ck_assert_msg(h->ok, "helper: %s", h->why);
}

/* ======================================================================
 * The API's errors
 * ====================================================================== */

static void *confine_unattached(void *arg)
{
    int *rc = arg;
    rc[0] = mw_thread_confine();
    rc[1] = mw_err_occurred();
    return NULL;
}

START_TEST(confine_errors)
{
    // GIL mode: refused.
    start_exact(MW_LOCK_GIL);
    ck_assert_int_eq(mw_thread_confine(), -1);
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert(!mw_thread_is_confined());
    stop();

    start_exact(MW_LOCK_FREE);
    // Not attached.
    int rc[2] = {0, 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, confine_unattached, rc), 0);
    mw_blocking_begin();
    pthread_join(th, NULL);
    mw_blocking_end();
    ck_assert_int_eq(rc[0], -1);
    ck_assert_int_eq(rc[1], MW_ERR_STATE);
    // Inside a blocking region.
    mw_blocking_begin();
    int in_blocking = mw_thread_confine();
    mw_blocking_end();
    ck_assert_int_eq(in_blocking, -1);
    ASSERT_ERR(MW_ERR_STATE);
    // Objects made before stay shared; the id changes; twice is refused.
    mw_object *before = mw_list_new();
    ck_assert_ptr_nonnull(before);
    uint64_t id0 = mw_thread_id();
    ck_assert_int_eq(mw_thread_confine(), 0);
    ASSERT_NO_ERR();
    ck_assert(mw_thread_is_confined());
    ck_assert_uint_ne(mw_thread_id(), id0);
    ck_assert_int_eq(mw_thread_confine(), -1);
    ASSERT_ERR(MW_ERR_STATE);
    // The shared object is still usable, and is not in the confined heap.
    mw_object *mine = mw_list_new();
    ck_assert_int_eq(mw_list_append(mine, before), 0);
    ck_assert_int_eq(mw_list_append(before, mw_none()), 0);
    mw_gc_thread_stats st;
    ck_assert(own_stats(&st));
    ck_assert_uint_eq(st.tracked, 1);
    ck_assert_int_eq(st.request, -1);
    int thr[3];
    mw_gc_get_threshold(thr);
    ck_assert_int_eq(thr[0], 700);   // copied from the global ones
    mw_decref(mine);
    mw_decref(before);
    stop();   // detaching ends confinement
}
END_TEST

/* ======================================================================
 * Collections of a confined heap and of the shared one
 * ====================================================================== */

#define PAIRS 300

static mw_object *shared_live;   /* the main thread's, live */

static void own_cycles_body(helper *h)
{
    mw_gc_disable();   // (global: no automatic collection anywhere)
    for (int i = 0; i < PAIRS; i++) {
        if (!garbage_pair()) {
            HFAIL(h, "garbage_pair: %s", mw_err_message());
        }
    }
    // A live cycle of its own, holding a shared object.
    mw_object *keep = mw_list_new();
    mw_list_append(keep, keep);
    if (mw_list_append(keep, shared_live) != 0) {
        HFAIL(h, "storing a shared object in a confined list: %s", mw_err_message());
    }
    int count[3];
    mw_gc_get_count(count);
    if (count[0] != 2 * PAIRS + 1) {
        HFAIL(h, "own count %d, expected %d", count[0], 2 * PAIRS + 1);
    }
    set_phase(1);
    wait_phase(2);   // the main thread collected the shared heap meanwhile
    intptr_t found = mw_gc_collect(-1);
    if (found != 2 * PAIRS) {
        HFAIL(h, "own collection found %ld, expected %d (%s)", (long)found, 2 * PAIRS,
              mw_err_message());
    }
    if (mw_list_len(keep) != 2) {
        HFAIL(h, "the live cycle was touched");
    }
    // The collection ran here and stopped nobody.
    mw_gc_thread_stats st;
    if (!own_stats(&st) || st.stats.confined_collections != 1 ||
        st.stats.explicit_collections != 1 || st.stats.stw_collections != 0 ||
        st.tracked != 1) {
        HFAIL(h, "own stats wrong (confined %llu explicit %llu tracked %zu)",
              (unsigned long long)st.stats.confined_collections,
              (unsigned long long)st.stats.explicit_collections, st.tracked);
    }
    mw_list_set(keep, 0, mw_none());   // break the cycle: keep dies here
    mw_decref(keep);
    set_phase(3);
    wait_phase(4);
}

START_TEST(confined_collects_its_own)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    shared_live = mw_list_new();
    mw_list_append(shared_live, shared_live);   // a live shared cycle
    helper h;
    helper_start(&h, own_cycles_body);
    wait_phase(1);
    // The shared heap's collection skips the confined heap: it finds only
    // the main thread's garbage, and the helper's is left alone.
    ck_assert(garbage_pair());
    ASSERT_COLLECT(-1, 2);
    // Two heaps now: the shared one and the helper's.
    mw_gc_thread_stats all[4];
    size_t n = 0;
    ck_assert_int_eq(mw_gc_get_thread_stats(all, 4, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert(!all[0].confined);
    ck_assert_uint_eq(all[0].thread_id, 0);
    ck_assert(all[1].confined);
    ck_assert_uint_eq(all[1].thread_id, h.id);
    ck_assert_int_eq(all[1].count[0], 2 * PAIRS + 1);
    ck_assert_uint_eq(all[1].tracked, 2 * PAIRS + 1);
    // Too little room: n still says how many.
    ck_assert_int_eq(mw_gc_get_thread_stats(all, 1, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(mw_gc_get_thread_stats(NULL, 0, &n), 0);
    ck_assert_int_eq(mw_gc_get_thread_stats(NULL, 1, &n), MW_EINVAL);
    set_phase(2);
    wait_phase(3);
    // The shared object the helper held is intact; the totals include
    // the helper's collection.
    ck_assert_uint_eq(mw_list_len(shared_live), 1);
    mw_gc_stats tot;
    ck_assert_int_eq(mw_gc_get_stats(&tot), 0);
    ck_assert_uint_eq(tot.confined_collections, 1);
    ck_assert_uint_eq(collections_of(&tot), 2);
    ck_assert_uint_eq(tot.gen[2].collected, 2 + 2 * PAIRS);
    set_phase(4);
    helper_join(&h);
    mw_list_set(shared_live, 0, mw_none());
    mw_decref(shared_live);
    ASSERT_COLLECT(-1, 0);
    stop();
}
END_TEST

/* ======================================================================
 * Refusals: stores (an error) and counts (fatal)
 * ====================================================================== */

static mw_object *shared_list, *shared_dict, *shared_set;
static mw_object *confined_obj;   /* the helper's list */
static mw_object *confined_str;   /* the helper's str */
static mw_object *shared_weak;    /* the main thread's, weakly referenceable */
static mw_object *confined_weak;  /* the helper's, weakly referenceable */

static void stores_body(helper *h)
{
    confined_obj = mw_list_new();
    confined_str = mw_str("confined");
    mw_object *conf_dict = mw_dict_new();
    if (confined_obj == NULL || confined_str == NULL || conf_dict == NULL) {
        HFAIL(h, "out of memory");
        return;
    }
#define REFUSED(what, call)                                                  \
    do {                                                                     \
        int rc_ = (call);                                                    \
        mw_error_kind kind_ = mw_err_occurred();                             \
        if (rc_ != -1 || kind_ != MW_ERR_STATE) {                            \
            HFAIL(h, "%s was not refused (rc %d, %s)", what, rc_,            \
                  mw_err_name(kind_));                                       \
        }                                                                    \
        mw_err_clear();                                                      \
    } while (0)
    REFUSED("list_append", mw_list_append(shared_list, confined_obj));
    REFUSED("list_append str", mw_list_append(shared_list, confined_str));
    REFUSED("list_set", mw_list_set(shared_list, 0, confined_obj));
    REFUSED("dict_set value", mw_dict_set(shared_dict, mw_int(1), confined_obj));
    REFUSED("dict_set key", mw_dict_set(shared_dict, confined_str, mw_int(1)));
    REFUSED("set_add", mw_set_add(shared_set, confined_str));
#undef REFUSED
    // Its own containers take its own objects, shared ones and immortals.
    if (mw_list_append(confined_obj, confined_str) != 0 ||
        mw_list_append(confined_obj, mw_int(7)) != 0 ||
        mw_list_append(confined_obj, shared_list) != 0 ||
        mw_dict_set(conf_dict, confined_str, confined_obj) != 0) {
        HFAIL(h, "a store into its own container failed: %s", mw_err_message());
    }
    mw_decref(conf_dict);
    // A weak reference to a shared object: refused (it may die elsewhere).
    if (mw_weakref_new(shared_weak, NULL) != NULL || mw_err_occurred() != MW_ERR_STATE) {
        HFAIL(h, "a weak reference to a shared object was not refused");
    }
    mw_err_clear();
    confined_weak = new_node(&weak_node_type, -1);
    set_phase(1);
    wait_phase(2);
    mw_decref(confined_weak);
    mw_decref(confined_obj);
    mw_decref(confined_str);
    confined_obj = confined_str = NULL;
}

START_TEST(confined_stores_refused)
{
    start_exact(MW_LOCK_FREE);
    shared_list = mw_list_new();
    mw_list_append(shared_list, mw_none());
    shared_dict = mw_dict_new();
    shared_set = mw_set_new();
    shared_weak = new_node(&weak_node_type, -1);
    helper h;
    helper_start(&h, stores_body);
    wait_phase(1);
    // The main thread may not change the helper's container, put the
    // helper's object in a tuple, or copy it.
    ck_assert_int_eq(mw_list_append(confined_obj, mw_none()), -1);
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert_int_eq(mw_list_set(confined_obj, 0, mw_none()), -1);
    ASSERT_ERR(MW_ERR_STATE);
    mw_object *items[2] = {mw_none(), confined_str};
    ck_assert_ptr_null(mw_tuple_new(2, items));
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert_ptr_null(mw_copy(confined_obj));
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert_ptr_null(mw_deepcopy(confined_obj));
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert_int_eq(mw_list_append(shared_list, confined_obj), -1);
    ASSERT_ERR(MW_ERR_STATE);
    ck_assert_ptr_null(mw_weakref_new(confined_weak, NULL));
    ASSERT_ERR(MW_ERR_STATE);
    // Nothing was stored anywhere.
    ck_assert_uint_eq(mw_list_len(shared_list), 1);
    ck_assert_int_eq(mw_dict_len(shared_dict), 0);
    set_phase(2);
    helper_join(&h);
    // The shared list the helper stored in its own list is whole again.
    ck_assert_int_eq(mw_refcnt(shared_list), 1);
    mw_decref(shared_list);
    mw_decref(shared_dict);
    mw_decref(shared_set);
    mw_decref(shared_weak);
    stop();
}
END_TEST

/* Fatal: the main thread counts the helper's object (the process must die
 * by SIGABRT, with the message on stderr). */
static void hold_body(helper *h)
{
    (void)h;
    confined_obj = mw_list_new();
    set_phase(1);
    wait_phase(2);   // never: the process dies first
}

static void cross_thread_count(bool incref)
{
    start_exact(MW_LOCK_FREE);
    helper h;
    helper_start(&h, hold_body);
    wait_phase(1);
    if (incref) {
        mw_incref(confined_obj);
    } else {
        mw_decref(confined_obj);
    }
    ck_abort_msg("a count of another thread's confined object was not refused");
}

START_TEST(cross_thread_incref_aborts)
{
    cross_thread_count(true);
}
END_TEST

START_TEST(cross_thread_decref_aborts)
{
    cross_thread_count(false);
}
END_TEST

/* The sanctioned hand-over: plain data across, objects built there. */
static char handover[256];
static size_t handover_len;

static void serialize_body(helper *h)
{
    mw_object *l = mw_list_new();
    const char *words[] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++) {
        mw_object *s = mw_str(words[i]);
        mw_list_append(l, s);
        mw_decref(s);
    }
    // Serialize: each str as its bytes and a NUL.
    handover_len = 0;
    for (size_t i = 0; i < mw_list_len(l); i++) {
        mw_object *s = mw_list_get(l, (ptrdiff_t)i);
        size_t n;
        const char *data = mw_str_data(s, &n);
        if (handover_len + n + 1 > sizeof handover) {
            HFAIL(h, "no room");
        } else {
            memcpy(handover + handover_len, data, n + 1);
            handover_len += n + 1;
        }
        mw_decref(s);
    }
    mw_decref(l);
}

START_TEST(handover_by_plain_data)
{
    start_exact(MW_LOCK_FREE);
    helper h;
    helper_start(&h, serialize_body);
    helper_join(&h);
    mw_object *mine = mw_list_new();
    for (size_t at = 0; at < handover_len;) {
        mw_object *s = mw_str(handover + at);
        ck_assert_int_eq(mw_list_append(mine, s), 0);
        at += strlen(handover + at) + 1;
        mw_decref(s);
    }
    ck_assert_uint_eq(mw_list_len(mine), 3);
    mw_object *b = mw_list_get(mine, 1);
    ck_assert_str_eq(mw_str_data(b, NULL), "beta");
    mw_decref(b);
    mw_decref(mine);
    stop();
}
END_TEST

/* ======================================================================
 * A confined collection does not stop the other threads
 * ====================================================================== */

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define BIG_PAIRS 100000   /* 200k objects: the sanitizers are 5-20x slower */
#else
#define BIG_PAIRS 500000   /* 1M objects */
#endif

static _Atomic(uint64_t) b_progress;
static _Atomic(bool) b_stop;
static _Atomic(uint64_t) a_id;
static _Atomic(uint64_t) at_start, at_stop;
static _Atomic(bool) b_moved_during;   /* B advanced while A was inside */

static void watch_callback(const char *ph, const mw_gc_info *info, void *arg)
{
    (void)info;
    (void)arg;
    if (mw_thread_id() != atomic_load(&a_id)) {
        return;
    }
    uint64_t b = atomic_load(&b_progress);
    if (strcmp(ph, "start") == 0) {
        atomic_store(&at_start, b);
        // Inside A's collection: B must go on.  A stop-the-world
        // collection would have B parked here, and this would time out.
        uint64_t until = now_ns() + 30ull * 1000000000u;
        while (atomic_load(&b_progress) < b + 1000 && now_ns() < until) {
        }
        atomic_store(&b_moved_during, atomic_load(&b_progress) >= b + 1000);
    } else {
        atomic_store(&at_stop, b);
    }
}

static void big_body(helper *h)
{
    atomic_store(&a_id, mw_thread_id());
    for (int i = 0; i < BIG_PAIRS; i++) {
        mw_object *a = new_node(&node_type, -1);
        mw_object *b = new_node(&node_type, -1);
        set_next(a, b);
        set_next(b, a);
        mw_decref(a);
        mw_decref(b);
    }
    h->found = mw_gc_collect(-1);
}

static void *b_main(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        return NULL;
    }
    // An ordinary (unconfined) worker that reaches safepoints all the
    // time: it parks at once whenever anyone stops the world.
    while (!atomic_load(&b_stop)) {
        mw_safepoint();
        atomic_fetch_add(&b_progress, 1);
    }
    mw_thread_detach();
    return NULL;
}

START_TEST(confined_collection_does_not_stop_others)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    ck_assert_int_eq(mw_gc_add_callback(watch_callback, NULL), 0);
    pthread_t b;
    ck_assert_int_eq(pthread_create(&b, NULL, b_main, NULL), 0);
    helper h;
    helper_start(&h, big_body);
    mw_blocking_begin();
    pthread_join(h.thread, NULL);
    atomic_store(&b_stop, true);
    pthread_join(b, NULL);
    mw_blocking_end();
    ck_assert_msg(h.ok, "helper: %s", h.why);
    ck_assert_int_eq(h.found, 2 * BIG_PAIRS);
    ck_assert_msg(atomic_load(&b_moved_during),
                  "thread B made no progress while A collected its confined heap");
    ck_assert_uint_gt(atomic_load(&at_stop), atomic_load(&at_start));
    // No stop of the world was recorded for it.
    mw_gc_stats tot;
    ck_assert_int_eq(mw_gc_get_stats(&tot), 0);
    ck_assert_uint_ge(tot.confined_collections, 1);
    ck_assert_uint_eq(tot.safepoint_ns.max, 0);
    stop();
}
END_TEST

/* ======================================================================
 * Finalizers, weak references, garbage, freeze, callbacks
 * ====================================================================== */

static _Atomic(int) weak_callbacks;
static void on_weak(mw_object *w)
{
    (void)w;
    atomic_fetch_add(&weak_callbacks, 1);
}

static uint64_t callback_thread;
static void where_callback(const char *ph, const mw_gc_info *info, void *arg)
{
    (void)info;
    (void)arg;
    if (strcmp(ph, "start") == 0 && mw_thread_is_confined()) {
        callback_thread = mw_thread_id();
    }
}

static mw_object *left_garbage_obj;   /* kept by SAVEALL, adopted at detach */

static void finalizers_body(helper *h)
{
    mw_gc_disable();
    // A cycle with finalizers, watched by a weak reference with a callback.
    mw_object *a = new_node(&fin_node_type, 1);
    mw_object *b = new_node(&weak_node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_object *w = mw_weakref_new(b, on_weak);
    mw_object *got = mw_weakref_get(w);
    if (got != b) {
        HFAIL(h, "weakref_get before: %p", (void *)got);
    }
    mw_decref(got);
    mw_decref(a);
    mw_decref(b);
    intptr_t found = mw_gc_collect(-1);
    if (found != 2) {
        HFAIL(h, "found %ld, expected 2", (long)found);
    }
    got = mw_weakref_get(w);
    if (got != mw_none()) {
        HFAIL(h, "the weak reference still answers");
    }
    mw_decref(got);
    mw_decref(w);
    // Freeze: frozen containers are not collected.
    mw_object *f = mw_list_new();
    mw_list_append(f, f);
    mw_gc_freeze();
    if (mw_gc_get_freeze_count() != 1) {
        HFAIL(h, "freeze count %zu", mw_gc_get_freeze_count());
    }
    mw_decref(f);
    if (mw_gc_collect(-1) != 0) {
        HFAIL(h, "a frozen cycle was collected");
    }
    mw_gc_unfreeze();
    if (mw_gc_collect(-1) != 1) {
        HFAIL(h, "the unfrozen cycle was not collected");
    }
    // SAVEALL: the garbage goes to this thread's own garbage list.
    mw_gc_set_debug(MW_GC_DEBUG_SAVEALL);
    mw_object *s = mw_list_new();
    mw_list_append(s, s);
    left_garbage_obj = s;
    mw_decref(s);
    if (mw_gc_collect(-1) != 1) {
        HFAIL(h, "SAVEALL collection");
    }
    mw_gc_set_debug(0);
    mw_object *garbage = mw_gc_garbage();
    if (garbage == NULL || mw_list_len(garbage) != 1) {
        HFAIL(h, "own garbage list has %zu", garbage ? mw_list_len(garbage) : 0);
    }
    mw_decref(garbage);
    // get_objects: its own heap (the garbage list and its item).
    mw_object *objs = mw_gc_get_objects(-1);
    if (objs == NULL || mw_list_len(objs) != 2) {
        HFAIL(h, "get_objects has %zu", objs ? mw_list_len(objs) : 0);
    }
    mw_decref(objs);
}

START_TEST(confined_finalizers_weakrefs_garbage)
{
    start_exact(MW_LOCK_FREE);
    reset_counters();
    ck_assert_int_eq(mw_gc_add_callback(where_callback, NULL), 0);
    helper h;
    helper_start(&h, finalizers_body);
    helper_join(&h);
    ck_assert_int_eq(node_finalized[1], 1);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_int_eq(atomic_load(&weak_callbacks), 1);
    ck_assert_uint_eq(callback_thread, h.id);   // callbacks ran on the worker
    // At detach its garbage list's object joined the shared one, usable
    // by any thread now.
    mw_object *garbage = mw_gc_garbage();
    ck_assert_uint_eq(mw_list_len(garbage), 1);
    mw_object *item = mw_list_get(garbage, 0);
    ck_assert_ptr_eq(item, left_garbage_obj);
    mw_list_set(item, 0, mw_none());
    mw_decref(item);
    mw_list_set(garbage, 0, mw_none());
    mw_decref(garbage);
    stop();
}
END_TEST

/* ======================================================================
 * Detaching with live objects
 * ====================================================================== */

static mw_object *survivor;   /* the helper's, live when it detaches */

static void detach_body(helper *h)
{
    mw_gc_disable();
    reset_counters();
    for (int i = 0; i < 50; i++) {
        if (!garbage_pair()) {
            HFAIL(h, "garbage_pair");
        }
    }
    mw_object *n1 = new_node(&node_type, 10);
    mw_object *n2 = new_node(&node_type, 11);
    set_next(n1, n2);
    set_next(n2, n1);
    mw_decref(n2);
    survivor = mw_list_new();   // a live cycle through a node, left behind
    mw_list_append(survivor, survivor);
    mw_list_append(survivor, n1);
    mw_decref(n1);
    mw_object *str = mw_str("left behind");
    mw_list_append(survivor, str);
    mw_decref(str);
}

START_TEST(detach_adopts_live_objects)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    helper h;
    helper_start(&h, detach_body);
    helper_join(&h);   // the thread has detached and exited
    // The detach collected its garbage (a full collection of its heap).
    mw_gc_stats tot;
    ck_assert_int_eq(mw_gc_get_stats(&tot), 0);
    ck_assert_uint_eq(tot.confined_collections, 1);
    ck_assert_uint_eq(tot.gen[2].collected, 100);
    // The heap is gone from the list; what was left is shared now: the
    // main thread counts it, changes it and collects it.
    size_t n = 0;
    ck_assert_int_eq(mw_gc_get_thread_stats(NULL, 0, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(mw_list_len(survivor), 3);
    mw_incref(survivor);
    ck_assert_int_eq(mw_list_append(survivor, mw_true()), 0);
    mw_object *s = mw_list_get(survivor, 2);
    ck_assert_str_eq(mw_str_data(s, NULL), "left behind");
    mw_decref(s);
    ck_assert_int_eq(node_destroyed[10], 0);
    mw_decref(survivor);
    mw_decref(survivor);
    ASSERT_COLLECT(-1, 3);   // the list and the two nodes
    ck_assert_int_eq(node_destroyed[10], 1);
    ck_assert_int_eq(node_destroyed[11], 1);
    stop();
}
END_TEST

/* ======================================================================
 * The master requests collections by policy
 * ====================================================================== */

static mw_gc_policy req_policy;

/* Make count 0 of this heap 2*pairs without any request (threshold high),
 * then lower the threshold so the master's next tick asks; wait (parked)
 * until the request is there.  False if it never comes. */
static bool make_due(int pairs)
{
    mw_gc_set_threshold(1000000, 10, 10);
    for (int i = 0; i < pairs; i++) {
        garbage_pair();
    }
    mw_gc_set_threshold(10, 10, 10);
    mw_gc_thread_stats st;
    uint64_t until = now_ns() + 10ull * 1000000000u;
    while (now_ns() < until) {
        if (own_stats(&st) && st.request >= 0) {
            return true;
        }
        nap_ms(1);
    }
    return false;
}

static void request_body(helper *h)
{
    mw_gc_thread_stats st;
    if (req_policy == MW_GC_OFF) {
        mw_gc_set_threshold(10, 10, 10);
        for (int i = 0; i < 20; i++) {
            garbage_pair();
        }
        nap_ms(50);   // ten ticks of the master
        mw_safepoint();
        mw_idle_begin();
        mw_idle_end();
        if (!own_stats(&st) || st.request != -1 || collections_of(&st.stats) != 0) {
            HFAIL(h, "MW_GC_OFF: a request or a collection happened");
        }
        return;
    }
    if (!make_due(20)) {
        HFAIL(h, "the master never asked for a collection");
        return;
    }
    if (req_policy == MW_GC_PAUSED) {
        // Safepoints leave it for the idle point.
        for (int i = 0; i < 100; i++) {
            mw_safepoint();
        }
        if (!own_stats(&st) || collections_of(&st.stats) != 0 || st.request < 0) {
            HFAIL(h, "MW_GC_PAUSED: collected at a safepoint");
            return;
        }
        mw_idle_begin();
        mw_idle_end();
    } else {
        mw_safepoint();
    }
    if (!own_stats(&st)) {
        HFAIL(h, "no stats");
        return;
    }
    if (st.stats.requested_collections != 1 || st.stats.confined_collections != 1 ||
        st.stats.gen[0].collected != 40 || st.count[0] != 0) {
        HFAIL(h, "after the request: requested %llu confined %llu collected %llu count %d",
              (unsigned long long)st.stats.requested_collections,
              (unsigned long long)st.stats.confined_collections,
              (unsigned long long)st.stats.gen[0].collected, st.count[0]);
    }
    uint64_t want = req_policy == MW_GC_PAUSED ? st.stats.idle_collections
                                               : st.stats.stw_collections;
    if (want != 1) {
        HFAIL(h, "the collection was not counted as the policy's");
    }
}

static void run_request_test(mw_gc_policy policy)
{
    start_exact(MW_LOCK_FREE);
    ck_assert_int_eq(mw_gc_set_policy(policy), 0);
    req_policy = policy;
    helper h;
    helper_start(&h, request_body);
    helper_join(&h);
    stop();
}

START_TEST(master_requests_at_safepoint_under_stw)
{
    run_request_test(MW_GC_STW);
}
END_TEST

START_TEST(master_requests_at_idle_under_paused)
{
    run_request_test(MW_GC_PAUSED);
}
END_TEST

START_TEST(master_requests_nothing_under_off)
{
    run_request_test(MW_GC_OFF);
}
END_TEST

/* The memory limit: past it the master asks every confined thread for a
 * full collection, whatever the policy. */
static void memory_body(helper *h)
{
    mw_gc_disable();
    for (int i = 0; i < 200; i++) {
        garbage_pair();
    }
    set_phase(1);
    wait_phase(2);   // the limit is set
    mw_gc_thread_stats st;
    uint64_t until = now_ns() + 10ull * 1000000000u;
    while (now_ns() < until && (!own_stats(&st) || st.request != MW_GC_GENERATIONS - 1)) {
        nap_ms(1);
    }
    if (st.request != MW_GC_GENERATIONS - 1) {
        HFAIL(h, "no full collection requested past the memory limit");
        return;
    }
    mw_safepoint();   // under MW_GC_OFF too
    if (!own_stats(&st) || st.stats.memory_collections != 1 ||
        st.stats.gen[2].collected != 400) {
        HFAIL(h, "memory collection: %llu, collected %llu",
              (unsigned long long)st.stats.memory_collections,
              (unsigned long long)st.stats.gen[2].collected);
    }
}

START_TEST(memory_limit_requests_full_collections)
{
    start_exact(MW_LOCK_FREE);
    ck_assert_int_eq(mw_gc_set_policy(MW_GC_OFF), 0);
    helper h;
    helper_start(&h, memory_body);
    wait_phase(1);
    // Use is past 14/16 of this limit already.
    mw_gc_set_memory_limit(mw_gc_memory_used() + 4096);
    set_phase(2);
    mw_blocking_begin();
    pthread_join(h.thread, NULL);
    mw_blocking_end();
    mw_gc_set_memory_limit(0);
    ck_assert_msg(h.ok, "helper: %s", h.why);
    stop();
}
END_TEST

/* ======================================================================
 * Many at once (for the race detector): two confined threads collect
 * their own heaps automatically while the main thread collects the shared
 * heap over and over, stopping them at their safepoints.
 * ====================================================================== */

static mw_object *shared_str;

static void churn_body(helper *h)
{
    mw_gc_set_threshold(50, 5, 5);
    for (int i = 0; i < 3000; i++) {
        mw_object *a = mw_list_new();
        mw_object *b = mw_dict_new();
        if (a == NULL || b == NULL) {
            HFAIL(h, "out of memory");
            return;
        }
        mw_list_append(a, b);
        mw_list_append(a, shared_str);   // counts a shared object: allowed
        mw_dict_set(b, shared_str, a);
        mw_decref(a);
        mw_decref(b);
        if (i % 64 == 0) {
            mw_safepoint();
        }
    }
    intptr_t left = mw_gc_collect(-1);
    if (left < 0) {
        HFAIL(h, "final collection: %s", mw_err_message());
    }
    mw_gc_thread_stats st;
    if (!own_stats(&st) || st.tracked != 0) {
        HFAIL(h, "containers left in the heap: %zu", st.tracked);
    }
}

START_TEST(confined_and_shared_collections_together)
{
    start(MW_LOCK_FREE);   // under torture too
    shared_str = mw_str("shared by everyone");
    helper h1, h2;
    helper_start(&h1, churn_body);
    helper_start(&h2, churn_body);
    for (int i = 0; i < 200; i++) {
        garbage_pair();
        ck_assert_int_ge(mw_gc_collect(i % 3), 0);
    }
    helper_join(&h1);
    helper_join(&h2);
    ck_assert_int_eq(mw_refcnt(shared_str), 1);
    mw_decref(shared_str);
    mw_gc_stats tot;
    ck_assert_int_eq(mw_gc_get_stats(&tot), 0);
    ck_assert_uint_ge(tot.confined_collections, 2);
    stop();
}
END_TEST

/* ======================================================================
 * Lazy tracking on a confined thread (docs/objects.md): its own dicts go
 * to its own heap, a shared dict it changes to the shared heap; what its
 * collections untrack leaves no trace of the confined heap; and what it
 * keeps tracked because it holds a shared container stays right after the
 * detach, when that container may come to hold it.
 * ====================================================================== */

static mw_object *shared_box;    /* the main thread's dict, untracked at first */
static mw_object *shared_items;  /* the main thread's list */
static mw_object *left_dict, *left_tuple, *left_atomic;   /* the helper's, kept */

/* The helper's own count of tracked containers, or (size_t)-1. */
static size_t own_tracked(void)
{
    mw_gc_thread_stats st;
    return own_stats(&st) ? st.tracked : (size_t)-1;
}

#define HCHECK(h, cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            HFAIL(h, "failed: %s (line %d; %s)", #cond, __LINE__, mw_err_message()); \
        }                                                                   \
    } while (0)

static void lazy_body(helper *h)
{
    HCHECK(h, own_tracked() == 0);
    // A dict of atomic objects: untracked, not counted anywhere.
    mw_object *d = mw_dict_new();
    mw_object *big = mw_int(1234567);
    HCHECK(h, d != NULL && big != NULL);
    HCHECK(h, mw_dict_set(d, mw_int(1), big) == 0 && mw_dict_set(d, big, mw_none()) == 0);
    mw_decref(big);
    HCHECK(h, !mw_gc_is_tracked(d) && own_tracked() == 0);
    // A list stored: tracked in this heap.
    mw_object *l = mw_list_new();
    HCHECK(h, mw_dict_set(d, mw_int(2), l) == 0);
    HCHECK(h, mw_gc_is_tracked(d) && own_tracked() == 2);
    int count[3];
    mw_gc_get_count(count);
    HCHECK(h, count[0] == 2);
    HCHECK(h, mw_dict_set(d, mw_int(2), mw_none()) == 0);
    mw_decref(l);
    HCHECK(h, own_tracked() == 1);
    // Its own full collection untracks it.
    HCHECK(h, mw_gc_collect(-1) == 0);
    HCHECK(h, !mw_gc_is_tracked(d) && own_tracked() == 0);
    mw_decref(d);   // dies untracked
    HCHECK(h, own_tracked() == 0);
    // A dict cycle of its own is collected by its own collection.
    mw_object *c = mw_dict_new();
    HCHECK(h, mw_dict_set(c, mw_int(0), c) == 0);
    HCHECK(h, own_tracked() == 1);
    mw_decref(c);
    HCHECK(h, mw_gc_collect(-1) == 1);
    HCHECK(h, own_tracked() == 0);
    // A shared dict changed here (an immortal key: the thread's own str
    // would be refused) goes to the shared heap.
    HCHECK(h, mw_dict_set(shared_box, mw_int(0), shared_items) == 0);
    HCHECK(h, mw_gc_is_tracked(shared_box) && own_tracked() == 0);
    // Kept past the detach: a dict and a tuple holding the shared list,
    // and a tuple of ints.  Only the last can be untracked: the shared
    // list is outside this heap, and after the detach it may come to hold
    // the other two.
    left_dict = mw_dict_new();
    left_tuple = mw_tuple_new(1, &shared_items);
    mw_object *pair[2] = {mw_int(1), mw_int(2)};
    left_atomic = mw_tuple_new(2, pair);
    HCHECK(h, left_dict != NULL && left_tuple != NULL && left_atomic != NULL);
    HCHECK(h, mw_dict_set(left_dict, mw_int(0), shared_items) == 0);
    HCHECK(h, own_tracked() == 3);
    HCHECK(h, mw_gc_collect(-1) == 0);
    HCHECK(h, mw_gc_is_tracked(left_dict) && mw_gc_is_tracked(left_tuple));
    HCHECK(h, !mw_gc_is_tracked(left_atomic) && own_tracked() == 2);
}

START_TEST(confined_lazy_tracking)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    ASSERT_COLLECT(-1, 0);
    shared_box = mw_dict_new();
    shared_items = mw_list_new();
    ck_assert(!mw_gc_is_tracked(shared_box));
    helper h;
    helper_start(&h, lazy_body);
    helper_join(&h);   // detached: what it kept is shared now
    // The shared dict it tracked is in the shared heap.
    mw_object *objs = mw_gc_get_objects(-1);
    ck_assert_ptr_nonnull(objs);
    ck_assert(list_contains(objs, shared_box));
    ck_assert(list_contains(objs, left_dict));
    ck_assert(list_contains(objs, left_tuple));
    ck_assert(!list_contains(objs, left_atomic));
    mw_decref(objs);
    // The untracked tuple dies here, off the thread that untracked it.
    mw_decref(left_atomic);
    // Cycles through what the confined heap kept tracked are found.
    ck_assert_int_eq(mw_list_append(shared_items, left_dict), 0);
    ck_assert_int_eq(mw_list_append(shared_items, left_tuple), 0);
    mw_decref(left_dict);
    mw_decref(left_tuple);
    ck_assert_int_eq(mw_dict_set(shared_box, mw_int(0), mw_none()), 0);
    mw_decref(shared_box);
    mw_decref(shared_items);
    ASSERT_COLLECT(-1, 3);   // the list, the dict and the tuple
    stop();
}
END_TEST

TCase *tcase_confine(void)
{
    TCase *tc = tcase_create("confine");
    tcase_set_timeout(tc, 240);   // the big heap, under sanitizers
    tcase_add_test(tc, confine_errors);
    tcase_add_test(tc, confined_collects_its_own);
    tcase_add_test(tc, confined_stores_refused);
    tcase_add_test_raise_signal(tc, cross_thread_incref_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, cross_thread_decref_aborts, SIGABRT);
    tcase_add_test(tc, handover_by_plain_data);
    tcase_add_test(tc, confined_collection_does_not_stop_others);
    tcase_add_test(tc, confined_finalizers_weakrefs_garbage);
    tcase_add_test(tc, detach_adopts_live_objects);
    tcase_add_test(tc, master_requests_at_safepoint_under_stw);
    tcase_add_test(tc, master_requests_at_idle_under_paused);
    tcase_add_test(tc, master_requests_nothing_under_off);
    tcase_add_test(tc, memory_limit_requests_full_collections);
    tcase_add_test(tc, confined_and_shared_collections_together);
    tcase_add_test(tc, confined_lazy_tracking);
    return tc;
}
