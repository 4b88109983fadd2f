/*
 * test_threads.c - objects crossing threads, in both lock modes: handed
 * over through a queue and dropped by the receiver (in free mode, the
 * owner's merge queue), dropped after their creator detached, and counted
 * by many threads at once.  Memory coming back is checked with the
 * allocator's figures; tokens (a user type) count their destruction.
 * Every wait is inside a blocking region, so in GIL mode the waiter does
 * not hold the GIL.  Threads record failures; the main thread asserts.
 */
#include "test_object.h"

#include <pthread.h>
#include <stdio.h>

static atomic_int destroyed;

static void token_destroy(mw_object *self)
{
    atomic_fetch_add(&destroyed, 1);
}

static const mw_type token_type = {
    .name = "token",
    .size = sizeof(mw_object) + 16,
    .destroy = token_destroy,
};

/* Object number i of a mix: ints, strs, lists, tuples, dicts, tokens. */
#define KINDS 6
static mw_object *make_item(size_t i)
{
    char buf[32];
    mw_object *n = mw_int(100000 + (int64_t)i);
    if (n == NULL) {
        return NULL;
    }
    mw_object *o = NULL;
    switch (i % KINDS) {
    case 0:
        return n;
    case 1:
        snprintf(buf, sizeof buf, "item %zu", i);
        o = mw_str(buf);
        break;
    case 2:
        o = mw_list_new();
        if (o != NULL && mw_list_append(o, n) != 0) {
            mw_decref(o);
            o = NULL;
        }
        break;
    case 3:
        o = mw_tuple_new(1, &n);
        break;
    case 4:
        o = mw_dict_new();
        if (o != NULL && mw_dict_set(o, n, mw_none()) != 0) {
            mw_decref(o);
            o = NULL;
        }
        break;
    default:
        o = mw_new(&token_type);
        break;
    }
    mw_decref(n);
    return o;
}

/* How many of items 0..n-1 are tokens (kind KINDS - 1). */
static int tokens_in(size_t n)
{
    return (int)(n / KINDS);
}

static void wait_blocking(pthread_mutex_t *mu, pthread_cond_t *cv, const int *phase, int want)
{
    mw_blocking_begin();
    pthread_mutex_lock(mu);
    while (*phase < want) {
        pthread_cond_wait(cv, mu);
    }
    pthread_mutex_unlock(mu);
    mw_blocking_end();
}

static void set_phase(pthread_mutex_t *mu, pthread_cond_t *cv, int *phase, int to)
{
    pthread_mutex_lock(mu);
    *phase = to;
    pthread_cond_broadcast(cv);
    pthread_mutex_unlock(mu);
}

/* ======================================================================
 * Hand-over through a queue
 * ====================================================================== */

#define HANDOFF 30000

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mw_object *items[HANDOFF + 1];
    size_t produced, consumed;
    int receiver_done;
    int sender_errors, receiver_errors;
    int destroyed_after_safepoint;
} hq = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *handoff_sender(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        hq.sender_errors++;
        return NULL;
    }
    for (size_t i = 0; i <= HANDOFF; i++) {
        mw_object *o = i < HANDOFF ? make_item(i) : NULL;   // NULL: the end
        if (i < HANDOFF && o == NULL) {
            hq.sender_errors++;
        }
        pthread_mutex_lock(&hq.mu);
        hq.items[hq.produced++] = o;   // the receiver takes this reference
        pthread_cond_broadcast(&hq.cv);
        pthread_mutex_unlock(&hq.mu);
        if (i % 64 == 0) {
            mw_safepoint();
        }
    }
    wait_blocking(&hq.mu, &hq.cv, &hq.receiver_done, 1);
    // Settles the counts the receiver queued to this owner (free mode).
    mw_safepoint();
    hq.destroyed_after_safepoint = atomic_load(&destroyed);
    if (mw_thread_detach() != 0) {
        hq.sender_errors++;
    }
    return NULL;
}

static void *handoff_receiver(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        hq.receiver_errors++;
        return NULL;
    }
    for (size_t n = 0;; n++) {
        pthread_mutex_lock(&hq.mu);
        if (hq.consumed == hq.produced) {
            // Never take the GIL while holding the queue's lock.
            pthread_mutex_unlock(&hq.mu);
            mw_blocking_begin();
            pthread_mutex_lock(&hq.mu);
            while (hq.consumed == hq.produced) {
                pthread_cond_wait(&hq.cv, &hq.mu);
            }
            pthread_mutex_unlock(&hq.mu);
            mw_blocking_end();
            pthread_mutex_lock(&hq.mu);
        }
        size_t i = hq.consumed;
        mw_object *o = hq.items[hq.consumed++];
        pthread_mutex_unlock(&hq.mu);
        if (o == NULL) {
            break;
        }
        if (i % KINDS == 0 && mw_int_value(o) != 100000 + (int64_t)i) {
            hq.receiver_errors++;
        }
        if (mw_refcnt(o) != 1) {
            hq.receiver_errors++;
        }
        mw_decref(o);   // the sender's reference, stolen
        if (n % 64 == 0) {
            mw_safepoint();
        }
    }
    pthread_mutex_lock(&hq.mu);
    hq.receiver_done = 1;
    pthread_cond_broadcast(&hq.cv);
    pthread_mutex_unlock(&hq.mu);
    if (mw_thread_detach() != 0) {
        hq.receiver_errors++;
    }
    return NULL;
}

START_TEST(test_handoff)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    pthread_t s, r;
    mw_blocking_begin();
    ck_assert_int_eq(pthread_create(&r, NULL, handoff_receiver, NULL), 0);
    ck_assert_int_eq(pthread_create(&s, NULL, handoff_sender, NULL), 0);
    pthread_join(s, NULL);
    pthread_join(r, NULL);
    mw_blocking_end();
    ck_assert_int_eq(hq.sender_errors, 0);
    ck_assert_int_eq(hq.receiver_errors, 0);
    ck_assert_uint_eq(hq.consumed, HANDOFF + 1);
    ck_assert_int_eq(hq.destroyed_after_safepoint, tokens_in(HANDOFF));
    ck_assert_int_eq(atomic_load(&destroyed), tokens_in(HANDOFF));
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * Dropped after the creator detached
 * ====================================================================== */

#define ORPHANS 12000

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase;   /* 1 R attached, 2 made, 3 R counted, 4 S detached */
    mw_object *objs[ORPHANS];
    int errors, bad_counts;
} dq = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *orphan_maker(void *arg)
{
    pthread_mutex_lock(&dq.mu);
    while (dq.phase < 1) {
        pthread_cond_wait(&dq.cv, &dq.mu);
    }
    pthread_mutex_unlock(&dq.mu);
    if (mw_thread_attach(test_rt) != 0) {
        dq.errors++;
        return NULL;
    }
    for (size_t i = 0; i < ORPHANS; i++) {
        dq.objs[i] = make_item(i);
        if (dq.objs[i] == NULL) {
            dq.errors++;
        }
    }
    set_phase(&dq.mu, &dq.cv, &dq.phase, 2);
    wait_blocking(&dq.mu, &dq.cv, &dq.phase, 3);
    // Keep no reference to the even ones (the other thread holds its own);
    // the odd ones' references go to the other thread as they are.
    for (size_t i = 0; i < ORPHANS; i += 2) {
        mw_decref(dq.objs[i]);
    }
    if (mw_thread_detach() != 0) {
        dq.errors++;
    }
    set_phase(&dq.mu, &dq.cv, &dq.phase, 4);
    return NULL;
}

static void *orphan_dropper(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        dq.errors++;
        return NULL;
    }
    set_phase(&dq.mu, &dq.cv, &dq.phase, 1);
    wait_blocking(&dq.mu, &dq.cv, &dq.phase, 2);
    for (size_t i = 0; i < ORPHANS; i += 2) {
        mw_incref(dq.objs[i]);
    }
    set_phase(&dq.mu, &dq.cv, &dq.phase, 3);
    wait_blocking(&dq.mu, &dq.cv, &dq.phase, 4);
    for (size_t i = 0; i < ORPHANS; i++) {
        if (mw_refcnt(dq.objs[i]) != 1) {
            dq.bad_counts++;
        }
        mw_decref(dq.objs[i]);
    }
    mw_safepoint();
    if (mw_thread_detach() != 0) {
        dq.errors++;
    }
    return NULL;
}

START_TEST(test_drop_after_detach)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    pthread_t maker, dropper;
    mw_blocking_begin();
    ck_assert_int_eq(pthread_create(&dropper, NULL, orphan_dropper, NULL), 0);
    ck_assert_int_eq(pthread_create(&maker, NULL, orphan_maker, NULL), 0);
    pthread_join(maker, NULL);
    pthread_join(dropper, NULL);
    mw_blocking_end();
    ck_assert_int_eq(dq.errors, 0);
    ck_assert_int_eq(dq.bad_counts, 0);
    ck_assert_int_eq(atomic_load(&destroyed), tokens_in(ORPHANS));
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * Many threads counting one object
 * ====================================================================== */

#define COUNTERS 4
#define ROUNDS 100
#define BATCH 1000   /* ROUNDS * BATCH = 100000 increfs and decrefs */

static mw_object *shared_obj;
static atomic_int count_errors;

static void count_loop(void)
{
    for (int r = 0; r < ROUNDS; r++) {
        for (int j = 0; j < BATCH; j++) {
            mw_incref(shared_obj);
        }
        if (mw_refcnt(shared_obj) < BATCH + 1) {   // ours are all in
            atomic_fetch_add(&count_errors, 1);
        }
        for (int j = 0; j < BATCH; j++) {
            mw_decref(shared_obj);
        }
        mw_safepoint();
    }
}

static void *counter(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&count_errors, 1);
        return NULL;
    }
    count_loop();
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&count_errors, 1);
    }
    return NULL;
}

START_TEST(test_shared_counts)
{
    start(MODE(_i));
    shared_obj = mw_new(&token_type);
    ck_assert_ptr_nonnull(shared_obj);
    pthread_t t[COUNTERS];
    for (int i = 0; i < COUNTERS; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, counter, NULL), 0);
    }
    count_loop();   // the owner counts along
    mw_blocking_begin();
    for (int i = 0; i < COUNTERS; i++) {
        pthread_join(t[i], NULL);
    }
    mw_blocking_end();
    mw_safepoint();
    ck_assert_int_eq(atomic_load(&count_errors), 0);
    ck_assert_int_eq(mw_refcnt(shared_obj), 1);
    ck_assert_int_eq(atomic_load(&destroyed), 0);
    mw_decref(shared_obj);
    ck_assert_int_eq(atomic_load(&destroyed), 1);
    stop();
}
END_TEST

TCase *tcase_threads(void)
{
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_handoff, 0, NMODES);
    tcase_add_loop_test(tc, test_drop_after_detach, 0, NMODES);
    tcase_add_loop_test(tc, test_shared_counts, 0, NMODES);
    return tc;
}
