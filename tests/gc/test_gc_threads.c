/*
 * test_gc_threads.c - collections and other attached threads.  In free
 * mode a collection stops the world: every other attached thread parks at
 * its next safepoint, and one waiting in a blocking region counts as
 * parked already, so either thread collects while the other waits there,
 * and automatic collections run too.  In GIL mode holding the GIL is
 * enough, so either thread collects while the other is attached (and
 * waiting in a blocking region).
 *
 * And a free-mode thread that attaches while a collection runs must not
 * run object code beside it (the collection needs the heap to stand
 * still): a helper attaches, makes and checks lists, and detaches, over
 * and over, while the main thread collects over and over.  Leak hunting
 * and freeze must not tear the generation lists while another thread
 * makes and frees containers.  Both races are caught by chance (most
 * runs; TSan always).
 *
 * The helper thread records what it saw; the main thread asserts.
 */
#include "test_gc.h"

#include <pthread.h>
#include <stdatomic.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

/* What the helper saw. */
static int helper_attach_rc = 1, helper_detach_rc = 1;
static intptr_t helper_collect = 12345;
static mw_error_kind helper_err = MW_ERR_NONE;

static void set_phase(int p)
{
    pthread_mutex_lock(&mu);
    phase = p;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

/* Wait for phase >= want; blocking: inside a blocking region (an attached
 * thread in GIL mode must not hold the GIL while it waits). */
static void wait_phase(int want, bool blocking)
{
    if (blocking) {
        mw_blocking_begin();
    }
    pthread_mutex_lock(&mu);
    while (phase < want) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    if (blocking) {
        mw_blocking_end();
    }
}

/* A garbage cycle of two nodes (made by whichever thread calls). */
static void garbage_pair(int64_t id1, int64_t id2)
{
    mw_object *a = mw_new(&node_type);
    mw_object *b = mw_new(&node_type);
    if (a == NULL || b == NULL) {
        return;   // the main thread sees the destroy counts wrong
    }
    ((gc_node *)a)->id = id1;
    ((gc_node *)a)->value = node_value(id1);
    ((gc_node *)b)->id = id2;
    ((gc_node *)b)->value = node_value(id2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
}

/* ======================================================================
 * free mode
 * ====================================================================== */

static void *free_helper(void *arg)
{
    (void)arg;
    helper_attach_rc = mw_thread_attach(test_rt);
    // The main thread is attached too, waiting in a blocking region: this
    // thread collects with the world stopped.
    garbage_pair(10, 11);
    helper_collect = mw_gc_collect(2);
    helper_err = mw_err_occurred();
    mw_err_clear();
    set_phase(1);
    wait_phase(2, true);   // parked while the main thread collects
    helper_detach_rc = mw_thread_detach();
    set_phase(3);
    return NULL;
}

START_TEST(test_free_mode_second_thread)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_set_threshold(10, 10, 10);
    ck_assert(mw_gc_isenabled());
    ASSERT_COLLECT(2, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, free_helper, NULL), 0);
    wait_phase(1, true);
    ck_assert_int_eq(helper_attach_rc, 0);
    ck_assert_int_eq(helper_err, MW_ERR_NONE);
    ck_assert_int_eq(helper_collect, 2);
    ck_assert_int_eq(node_destroyed[10], 1);
    ck_assert_int_eq(node_destroyed[11], 1);

    // The helper is parked in a blocking region: automatic collections
    // run (threshold 10), and so do explicit ones.
    mw_gc_stats s0, s1;
    ck_assert_int_eq(mw_gc_get_stats(&s0), 0);
    for (int i = 0; i < 100; i++) {
        garbage_pair(-1, -1);
    }
    ck_assert_int_gt(total_destroyed, 2);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ASSERT_NO_ERR();
    ck_assert_int_eq(total_destroyed, 202);
    ck_assert_int_eq(mw_gc_get_stats(&s1), 0);
    ck_assert_uint_gt(s1.gen[0].collections, s0.gen[0].collections);
    ck_assert_uint_gt(s1.stw_collections, s0.stw_collections);

    set_phase(2);
    wait_phase(3, true);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(helper_detach_rc, 0);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

/* ======================================================================
 * GIL mode
 * ====================================================================== */

static void *gil_helper(void *arg)
{
    (void)arg;
    helper_attach_rc = mw_thread_attach(test_rt);   // waits for the GIL
    if (helper_attach_rc == 0) {
        // The main thread is attached (in a blocking region): holding the
        // GIL is enough to collect.
        garbage_pair(10, 11);
        helper_collect = mw_gc_collect(2);
        helper_err = mw_err_occurred();
        mw_err_clear();
        mw_blocking_begin();
    }
    set_phase(1);
    pthread_mutex_lock(&mu);
    while (phase < 2) {
        pthread_cond_wait(&cv, &mu);
    }
    pthread_mutex_unlock(&mu);
    if (helper_attach_rc == 0) {
        mw_blocking_end();
        helper_detach_rc = mw_thread_detach();
    }
    set_phase(3);
    return NULL;
}

START_TEST(test_gil_mode_second_thread)
{
    start(MW_LOCK_GIL);
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, gil_helper, NULL), 0);
    wait_phase(1, true);   // lets the helper take the GIL and collect
    ck_assert_int_eq(helper_attach_rc, 0);
    ck_assert_int_eq(helper_collect, 2);
    ck_assert_int_eq(helper_err, MW_ERR_NONE);
    ck_assert_int_eq(node_destroyed[10], 1);
    ck_assert_int_eq(node_destroyed[11], 1);

    // The helper is attached, waiting in a blocking region; we hold the GIL.
    garbage_pair(20, 21);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(node_destroyed[20], 1);
    ck_assert_int_eq(node_destroyed[21], 1);

    set_phase(2);
    wait_phase(3, true);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(helper_detach_rc, 0);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

/* ======================================================================
 * Attaching during a collection (free mode)
 * ====================================================================== */

/* Rounds enough that, on the machine this was written on, an attach that
 * does not wait for a running collection was caught in every run (20 of
 * 20); a correct runtime takes about 1 s. */
enum { RACE_ROUNDS = 40000, RACE_HELD = 16, RACE_YOUNG = 2048 };

static atomic_int race_done;
static atomic_int race_bad;   /* checks the helper saw fail */

static void *attach_helper(void *arg)
{
    (void)arg;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        if (mw_thread_attach(test_rt) != 0) {
            atomic_fetch_add(&race_bad, 1);
            break;
        }
        mw_object *held[RACE_HELD];
        for (int i = 0; i < RACE_HELD; i++) {   // held[i] = [[]]
            held[i] = mw_list_new();
            mw_object *x = mw_list_new();
            if (held[i] == NULL || x == NULL || mw_list_append(held[i], x) != 0) {
                atomic_fetch_add(&race_bad, 1);
            }
            mw_decref(x);
        }
        for (int i = 0; i < RACE_HELD; i++) {
            mw_object *x = held[i] != NULL ? mw_list_get(held[i], 0) : NULL;
            if (x == NULL || mw_refcnt(x) != 2 || mw_list_len(x) != 0) {
                atomic_fetch_add(&race_bad, 1);   // a collection cleared it
                mw_err_clear();
            }
            mw_decref(x);
            mw_decref(held[i]);
        }
        mw_thread_detach();
        // Stay away a while (a spin, not a clock), so the main thread is
        // alone now and then and its collections run.
        for (volatile int k = 0; k < 20000; k++) {
        }
    }
    atomic_store(&race_done, 1);
    return NULL;
}

START_TEST(test_attach_during_collection)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, attach_helper, NULL), 0);
    mw_object *young[RACE_YOUNG];
    while (!atomic_load(&race_done)) {
        for (int i = 0; i < RACE_YOUNG; i++) {
            young[i] = mw_list_new();   // a long generation 0 to collect
            REQUIRE(young[i] != NULL);
        }
        // Nothing is garbage, ever: a collection either is refused (the
        // helper is attached) or finds nothing.
        intptr_t n = mw_gc_collect(0);
        if (n < 0) {
            REQUIREF(mw_err_occurred() == MW_ERR_STATE, "%s", mw_err_message());
            mw_err_clear();
        } else {
            REQUIREF(n == 0, "a collection found %ld objects in use", (long)n);
        }
        for (int i = 0; i < RACE_YOUNG; i++) {
            mw_decref(young[i]);
        }
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(atomic_load(&race_bad), 0);
    // The lists are whole: nothing is tracked any more.
    ASSERT_COLLECT(2, 0);
    mw_object *all = mw_gc_get_objects(-1);
    ck_assert_ptr_nonnull(all);
    ck_assert_uint_eq(list_len(all), 0);
    mw_decref(all);
    stop();
}
END_TEST

/* ======================================================================
 * Leak hunting and freezing while another thread works (free mode)
 * ====================================================================== */

/* Rounds enough to catch unlocked list walks in most runs (8 in 10 on
 * the machine this was written on); a correct runtime takes about 1 s. */
enum { CHURN_ROUNDS = 400000, KEPT = 100 };

static atomic_int churn_ready, churn_done;

static void *churn_helper(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&race_bad, 1);
    }
    atomic_store(&churn_ready, 1);
    for (int round = 0; round < CHURN_ROUNDS; round++) {   // [[]], dropped
        mw_object *l = mw_list_new();
        mw_object *x = mw_list_new();
        if (l == NULL || x == NULL || mw_list_append(l, x) != 0) {
            atomic_fetch_add(&race_bad, 1);
        }
        mw_decref(x);
        mw_decref(l);
    }
    mw_thread_detach();
    atomic_store(&churn_done, 1);
    return NULL;
}

/* gc.h asks the heap to stand still for collections only: these calls
 * may run beside other threads, and either work or refuse (NULL with
 * MW_ERR_STATE), but must not tear the generation lists the other thread
 * is adding to and removing from. */
START_TEST(test_introspection_beside_worker)
{
    start_exact(MW_LOCK_FREE);
    mw_gc_disable();
    mw_object *kept[KEPT];
    for (int i = 0; i < KEPT; i++) {
        kept[i] = mw_list_new();
    }
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, churn_helper, NULL), 0);
    while (!atomic_load(&churn_ready)) {
    }
    while (!atomic_load(&churn_done)) {
        mw_object *objs = mw_gc_get_objects(-1);
        mw_object *refs = mw_gc_get_referrers(kept[0]);
        if (objs == NULL || refs == NULL) {
            REQUIREF(mw_err_occurred() == MW_ERR_STATE, "%s", mw_err_message());
            mw_err_clear();
        }
        mw_decref(objs);
        mw_decref(refs);
        mw_gc_freeze();
        REQUIRE(mw_gc_is_tracked(kept[1]));
        mw_gc_unfreeze();
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(atomic_load(&race_bad), 0);
    // Whole lists: exactly the kept lists are tracked.
    ck_assert_uint_eq(mw_gc_get_freeze_count(), 0);
    mw_object *all = mw_gc_get_objects(-1);
    ck_assert_ptr_nonnull(all);
    ck_assert_uint_eq(list_len(all), KEPT);
    for (int i = 0; i < KEPT; i++) {
        ck_assert(list_contains(all, kept[i]));
        mw_decref(kept[i]);
    }
    mw_decref(all);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

TCase *tcase_threads(void)
{
    TCase *tc = tcase_create("threads");
    // Check's default is 4 s; the race tests run a fixed number of rounds,
    // which sanitizer builds make several times slower.
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_free_mode_second_thread);
    tcase_add_test(tc, test_gil_mode_second_thread);
    tcase_add_test(tc, test_attach_during_collection);
    tcase_add_test(tc, test_introspection_beside_worker);
    return tc;
}
