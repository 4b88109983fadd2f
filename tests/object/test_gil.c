/*
 * test_gil.c - the GIL lets others in: a thread waiting to attach gets the
 * GIL while the holder is still looping (the holder yields at safepoints
 * once a waiter has waited a switch interval), two busy threads take
 * turns, and a thread in a blocking region does not keep others out.
 * No assertion depends on wall-clock time; the loops only give up after
 * 10 s so that a broken GIL fails instead of hanging.
 */
#include "test_object.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define GIVE_UP_NS (10LL * 1000000000LL)

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void start_gil(void)
{
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = MW_LOCK_GIL;
    cfg.switch_interval_us = 5000;
    start_cfg(&cfg);
}

/* Some object work: make and drop an int that is not cached. */
static bool object_work(long i)
{
    mw_object *o = mw_int(1000 + i % 1000);
    if (o == NULL) {
        return false;
    }
    mw_decref(o);
    return true;
}

/* ======================================================================
 * A waiter gets in while the holder loops
 * ====================================================================== */

static atomic_long a_iters;
static atomic_int a_started, b_done;
static long b_saw, a_final;
static atomic_int gil_errors;

static void *busy_holder(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&gil_errors, 1);
        return NULL;
    }
    long long t0 = now_ns();
    for (long i = 0;; i++) {
        if (!object_work(i)) {
            atomic_fetch_add(&gil_errors, 1);
        }
        atomic_store(&a_started, 1);
        mw_safepoint();   // where a waiter gets the GIL
        atomic_fetch_add(&a_iters, 1);
        if (atomic_load(&b_done)) {
            break;
        }
        if ((i & 1023) == 0 && now_ns() - t0 > GIVE_UP_NS) {
            break;   // the waiter never got in: the assertion will say so
        }
    }
    a_final = atomic_load(&a_iters);
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&gil_errors, 1);
    }
    return NULL;
}

static void *late_attacher(void *arg)
{
    while (!atomic_load(&a_started)) {
        usleep(1000);
    }
    if (mw_thread_attach(test_rt) != 0) {   // blocks until it has the GIL
        atomic_fetch_add(&gil_errors, 1);
        return NULL;
    }
    b_saw = atomic_load(&a_iters);
    if (!object_work(7)) {
        atomic_fetch_add(&gil_errors, 1);
    }
    atomic_store(&b_done, 1);
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&gil_errors, 1);
    }
    return NULL;
}

START_TEST(test_waiter_gets_in)
{
    start_gil();
    pthread_t a, b;
    mw_blocking_begin();   // the main thread lets go of the GIL
    ck_assert_int_eq(pthread_create(&a, NULL, busy_holder, NULL), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, late_attacher, NULL), 0);
    pthread_join(b, NULL);
    pthread_join(a, NULL);
    mw_blocking_end();
    ck_assert_int_eq(atomic_load(&gil_errors), 0);
    ck_assert_int_eq(atomic_load(&b_done), 1);
    ck_assert_msg(b_saw < a_final, "the waiter got in only after the holder stopped "
                  "(saw %ld of %ld iterations)", b_saw, a_final);
    stop();
}
END_TEST

/* ======================================================================
 * Two busy threads take turns
 * ====================================================================== */

static atomic_long turns_iters[2];
static atomic_long turns_seen[2];

static void *taking_turns(void *arg)
{
    int me = (int)(intptr_t)arg;
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&gil_errors, 1);
        return NULL;
    }
    long long t0 = now_ns();
    long other_last = atomic_load(&turns_iters[1 - me]);
    for (long i = 0;; i++) {
        if (!object_work(i)) {
            atomic_fetch_add(&gil_errors, 1);
        }
        mw_safepoint();
        atomic_fetch_add(&turns_iters[me], 1);
        long other = atomic_load(&turns_iters[1 - me]);
        if (other != other_last) {   // the other ran since our last look
            turns_seen[me]++;
            other_last = other;
        }
        if (turns_seen[me] >= 5 && (i & 255) == 0) {
            // Keep going a little so the other can see us too.
            if (atomic_load(&turns_iters[1 - me]) > 0 && turns_seen[1 - me] >= 5) {
                break;
            }
        }
        if ((i & 1023) == 0 && now_ns() - t0 > GIVE_UP_NS) {
            break;
        }
    }
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&gil_errors, 1);
    }
    return NULL;
}

START_TEST(test_taking_turns)
{
    start_gil();
    pthread_t t[2];
    mw_blocking_begin();
    for (intptr_t i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, taking_turns, (void *)i), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    mw_blocking_end();
    ck_assert_int_eq(atomic_load(&gil_errors), 0);
    ck_assert_msg(turns_seen[0] >= 5 && turns_seen[1] >= 5,
                  "turns seen: %ld and %ld", atomic_load(&turns_seen[0]),
                  atomic_load(&turns_seen[1]));
    stop();
}
END_TEST

/* ======================================================================
 * A blocking region does not keep others out (both modes)
 * ====================================================================== */

static atomic_int in_blocking, other_done, blocked_saw_other;

static void *blocker(void *arg)
{
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&gil_errors, 1);
        return NULL;
    }
    static const char text[] = "held across the blocking call";
    mw_object *mine = mw_str(text);
    mw_blocking_begin();
    atomic_store(&in_blocking, 1);
    for (int i = 0; i < 200 && !atomic_load(&other_done); i++) {
        usleep(50 * 1000);   // "I/O": 50 ms at a time, at most 10 s
    }
    mw_blocking_end();
    atomic_store(&blocked_saw_other, atomic_load(&other_done));
    if (mine == NULL || mw_str_len(mine) != sizeof text - 1) {
        atomic_fetch_add(&gil_errors, 1);
    }
    mw_decref(mine);
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&gil_errors, 1);
    }
    return NULL;
}

static void *worker_meanwhile(void *arg)
{
    while (!atomic_load(&in_blocking)) {
        usleep(1000);
    }
    if (mw_thread_attach(test_rt) != 0) {
        atomic_fetch_add(&gil_errors, 1);
        return NULL;
    }
    mw_object *l = mw_list_new();
    for (int i = 0; i < 100; i++) {
        if (!object_work(i) || mw_list_append(l, mw_int(i)) != 0) {
            atomic_fetch_add(&gil_errors, 1);
        }
    }
    if (mw_list_len(l) != 100) {
        atomic_fetch_add(&gil_errors, 1);
    }
    mw_decref(l);
    atomic_store(&other_done, 1);
    if (mw_thread_detach() != 0) {
        atomic_fetch_add(&gil_errors, 1);
    }
    return NULL;
}

START_TEST(test_blocking_lets_others_in)
{
    start(MODE(_i));
    pthread_t a, b;
    mw_blocking_begin();
    ck_assert_int_eq(pthread_create(&a, NULL, blocker, NULL), 0);
    ck_assert_int_eq(pthread_create(&b, NULL, worker_meanwhile, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    mw_blocking_end();
    ck_assert_int_eq(atomic_load(&gil_errors), 0);
    ck_assert_msg(atomic_load(&blocked_saw_other),
                  "the other thread could not work during the blocking region");
    stop();
}
END_TEST

TCase *tcase_gil(void)
{
    TCase *tc = tcase_create("gil");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_waiter_gets_in);
    tcase_add_test(tc, test_taking_turns);
    tcase_add_loop_test(tc, test_blocking_lets_others_in, 0, NMODES);
    return tc;
}
