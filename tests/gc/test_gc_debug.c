/*
 * test_gc_debug.c - watching the collector: MW_GC_DEBUG_SAVEALL and the
 * garbage list, uncollectable objects (a type without clear), callbacks,
 * statistics, errors (bad generations, unattached threads, a collection
 * from inside a finalizer, a finalizer that fails).
 */
#include "test_gc.h"

#include <stdio.h>

/* ======================================================================
 * debug
 * ====================================================================== */

typedef struct cb_record {
    char phase[8];
    mw_gc_info info;
} cb_record;

typedef struct cb_log {
    cb_record rec[64];
    int n;
} cb_log;

static void log_callback(const char *phase, const mw_gc_info *info, void *arg)
{
    cb_log *log = arg;
    REQUIRE(phase != NULL && info != NULL);
    if (log->n < 64) {
        cb_record *r = &log->rec[log->n];
        snprintf(r->phase, sizeof r->phase, "%s", phase);
        r->info = *info;
    }
    log->n++;
}

/* Replace every item of list with None (there is no del list[i]). */
static void empty_list(mw_object *list)
{
    size_t n = list_len(list);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(mw_list_set(list, (ptrdiff_t)i, mw_none()) == 0);
    }
}

START_TEST(test_saveall)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    mw_object *g = mw_gc_garbage();
    ck_assert_ptr_nonnull(g);
    ck_assert_ptr_eq(mw_type_of(g), &mw_list_type);
    ck_assert_uint_eq(list_len(g), 0);
    mw_gc_set_debug(MW_GC_DEBUG_SAVEALL);
    ck_assert_uint_eq(mw_gc_get_debug(), MW_GC_DEBUG_SAVEALL);
    mw_object *a = new_node(&node_type, 1);
    mw_object *b = new_node(&node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_object *l = mw_list_new();          // l.append(l)
    ck_assert_int_eq(mw_list_append(l, l), 0);
    mw_decref(a);
    mw_decref(b);
    mw_decref(l);

    ASSERT_COLLECT(2, 3);
    ck_assert_uint_eq(list_len(g), 3);   // everything found, kept
    ck_assert(list_contains(g, a));
    ck_assert(list_contains(g, b));
    ck_assert(list_contains(g, l));
    ck_assert_int_eq(total_destroyed, 0);
    ck_assert(((gc_node *)a)->value == node_value(1));
    ck_assert_ptr_eq(get_next(a), b);
    ck_assert_ptr_eq(get_next(b), a);
    ck_assert_uint_eq(list_len(l), 1);
    mw_object *g2 = mw_gc_garbage();      // the same list
    ck_assert_ptr_eq(g2, g);
    mw_decref(g2);
    // Held by the garbage list now, so no longer unreachable.
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(list_len(g), 3);

    // Empty the list (the caller may) and collect for real.
    mw_gc_set_debug(0);
    ck_assert_uint_eq(mw_gc_get_debug(), 0);
    empty_list(g);
    ASSERT_COLLECT(2, 3);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    mw_decref(g);
    stop();
}
END_TEST

START_TEST(test_uncollectable)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    cb_log log = {.n = 0};
    ck_assert_int_eq(mw_gc_add_callback(log_callback, &log), 0);
    mw_gc_stats s0, s1;
    ck_assert_int_eq(mw_gc_get_stats(&s0), 0);
    mw_object *a = new_node(&noclear_node_type, 1);
    mw_object *b = new_node(&noclear_node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);

    ASSERT_COLLECT(2, 2);   // found: collectable + uncollectable
    ck_assert_int_eq(total_destroyed, 0);
    mw_object *g = mw_gc_garbage();
    ck_assert_ptr_nonnull(g);
    ck_assert_uint_eq(list_len(g), 2);
    ck_assert(list_contains(g, a));
    ck_assert(list_contains(g, b));
    ck_assert_ptr_eq(get_next(a), b);   // untouched
    ck_assert(((gc_node *)b)->value == node_value(2));
    ck_assert_int_eq(log.n, 2);
    ck_assert_str_eq(log.rec[1].phase, "stop");
    ck_assert_int_eq(log.rec[1].info.collected, 0);
    ck_assert_int_eq(log.rec[1].info.uncollectable, 2);
    ck_assert_int_eq(mw_gc_get_stats(&s1), 0);
    ck_assert_uint_eq(s1.gen[2].uncollectable - s0.gen[2].uncollectable, 2);
    ck_assert_uint_eq(s1.gen[2].collected - s0.gen[2].collected, 0);
    // The garbage list holds them: not found again.
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(list_len(g), 2);
    ck_assert_int_eq(mw_gc_remove_callback(log_callback, &log), 0);
    // Break the cycle by hand (dying without clear, a node keeps its link)
    // and empty the list: counting frees them.
    set_next(a, NULL);
    set_next(b, NULL);
    empty_list(g);
    mw_decref(g);
    ck_assert_int_eq(total_destroyed, 2);
    stop();
}
END_TEST

/* What an uncollectable object reaches is uncollectable too (CPython moves
 * everything reachable from the uncollectable into gc.garbage, intact):
 * clearing it would leave a broken object that the garbage list still
 * reaches.  Here a NoClearNode and a Node form the cycle. */
START_TEST(test_uncollectable_reaches)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    cb_log log = {.n = 0};
    ck_assert_int_eq(mw_gc_add_callback(log_callback, &log), 0);
    mw_object *stuck = new_node(&noclear_node_type, 1);
    mw_object *held = new_node(&node_type, 2);
    set_next(stuck, held);
    set_next(held, stuck);
    mw_decref(stuck);
    mw_decref(held);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(total_destroyed, 0);
    ck_assert(((gc_node *)held)->value == node_value(2));
    ck_assert(mw_gc_is_tracked(stuck));   // alive containers stay tracked
    ck_assert(mw_gc_is_tracked(held));
    mw_object *g = mw_gc_garbage();
    ck_assert(list_contains(g, stuck));
    mw_decref(g);
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(mw_gc_remove_callback(log_callback, &log), 0);
    ck_assert_ptr_eq(get_next(stuck), held);
    ck_assert_ptr_eq(get_next(held), stuck);   // not cleared
    ck_assert_int_eq(log.n, 4);   // two collections, start and stop each
    ck_assert_int_eq(log.rec[1].info.collected, 0);   // nothing was freed
    ck_assert_int_eq(log.rec[1].info.uncollectable, 2);
    ck_assert_int_eq(log.rec[3].info.uncollectable, 0);   // kept alive by the list
    set_next(stuck, NULL);   // break the cycle, empty the list: all freed
    g = mw_gc_garbage();
    empty_list(g);
    mw_decref(g);
    ck_assert_int_eq(total_destroyed, 2);
    stop();
}
END_TEST

static int other_calls;
static void other_callback(const char *phase, const mw_gc_info *info, void *arg)
{
    (void)phase;
    (void)info;
    (void)arg;
    other_calls++;
}

START_TEST(test_callbacks)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    cb_log log = {.n = 0};
    other_calls = 0;
    ck_assert_int_eq(mw_gc_add_callback(log_callback, &log), 0);
    ck_assert_int_eq(mw_gc_add_callback(other_callback, NULL), 0);
    mw_object *a = new_node(&node_type, 1);
    mw_object *b = new_node(&node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
    ASSERT_COLLECT(1, 2);
    ck_assert_int_eq(log.n, 2);
    ck_assert_str_eq(log.rec[0].phase, "start");
    ck_assert_int_eq(log.rec[0].info.generation, 1);
    ck_assert_str_eq(log.rec[1].phase, "stop");
    ck_assert_int_eq(log.rec[1].info.generation, 1);
    ck_assert_int_eq(log.rec[1].info.collected, 2);
    ck_assert_int_eq(log.rec[1].info.uncollectable, 0);
    ck_assert_int_eq(other_calls, 2);
    ASSERT_COLLECT(-1, 0);
    ck_assert_int_eq(log.n, 4);
    ck_assert_int_eq(log.rec[2].info.generation, 2);   // -1 is generation 2
    ck_assert_int_eq(log.rec[3].info.collected, 0);

    // Automatic collections call them too (generation 0 first).
    mw_gc_set_threshold(10, 10, 10);
    mw_gc_enable();
    for (int i = 0; i < 40; i++) {
        mw_object *x = new_node(&node_type, -1);
        set_next(x, x);   // garbage the count does not see go
        mw_decref(x);
    }
    mw_gc_disable();
    ck_assert_int_gt(log.n, 4);
    ck_assert_str_eq(log.rec[4].phase, "start");
    ck_assert_int_eq(log.rec[4].info.generation, 0);
    ck_assert_str_eq(log.rec[5].phase, "stop");
    ck_assert_int_eq(log.rec[5].info.generation, 0);
    ck_assert_int_gt(total_destroyed, 2);   // they collected something
    ck_assert_int_ge(mw_gc_collect(2), 0);  // and this the rest
    ck_assert_int_eq(total_destroyed, 2 + 40);

    // Removing.
    ck_assert_int_eq(mw_gc_remove_callback(log_callback, &log), 0);
    ck_assert_int_eq(mw_gc_remove_callback(log_callback, &log), MW_EINVAL);
    ck_assert_int_eq(mw_gc_remove_callback(other_callback, &log), MW_EINVAL);
    int seen = log.n, other_seen = other_calls;
    ASSERT_COLLECT(0, 0);
    ck_assert_int_eq(log.n, seen);
    ck_assert_int_eq(other_calls, other_seen + 2);
    ck_assert_int_eq(mw_gc_remove_callback(other_callback, NULL), 0);

    // At most 16.
    static int args[17];
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(mw_gc_add_callback(other_callback, &args[i]), 0);
    }
    ck_assert_int_eq(mw_gc_add_callback(other_callback, &args[16]), MW_ENOMEM);
    ck_assert_int_eq(mw_gc_remove_callback(other_callback, &args[3]), 0);
    ck_assert_int_eq(mw_gc_add_callback(other_callback, &args[16]), 0);
    other_calls = 0;
    ASSERT_COLLECT(0, 0);
    ck_assert_int_eq(other_calls, 2 * 16);
    stop();
}
END_TEST

START_TEST(test_stats)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    mw_gc_stats s0, s1;
    ck_assert_int_eq(mw_gc_get_stats(NULL), MW_EINVAL);
    ck_assert_int_eq(mw_gc_get_stats(&s0), 0);
    ASSERT_COLLECT(0, 0);
    ASSERT_COLLECT(0, 0);
    ASSERT_COLLECT(1, 0);
    mw_object *a = new_node(&node_type, 1);
    set_next(a, a);   // a cycle of one
    mw_decref(a);
    ASSERT_COLLECT(2, 1);
    ck_assert_int_eq(mw_gc_get_stats(&s1), 0);
    ck_assert_uint_eq(s1.gen[0].collections - s0.gen[0].collections, 2);
    ck_assert_uint_eq(s1.gen[1].collections - s0.gen[1].collections, 1);
    ck_assert_uint_eq(s1.gen[2].collections - s0.gen[2].collections, 1);
    ck_assert_uint_eq(s1.gen[2].collected - s0.gen[2].collected, 1);
    ck_assert_uint_eq(s1.gen[0].collected - s0.gen[0].collected, 0);
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        ck_assert_uint_le(s1.gen[g].max_pause_ns, s1.gen[g].total_pause_ns);
    }
    stop();
}
END_TEST

START_TEST(test_errors)
{
    start(MODE(_i));
    mw_gc_disable();
    const int bad[] = {3, 7, -2, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(mw_gc_collect(bad[i]), -1);
        ASSERT_ERR(MW_ERR_VALUE);
    }
    // Not attached.
    ck_assert_int_eq(mw_thread_detach(), 0);
    ck_assert_int_eq(mw_gc_collect(2), -1);
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_STATE);
    mw_err_clear();
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);

    // A collection from a finalizer that a collection runs.
    mw_object *a = new_node(&fin_node_type, 1);
    mw_object *b = new_node(&fin_node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
    finalizer_collects = true;
    ASSERT_COLLECT(2, 2);
    finalizer_collects = false;
    ck_assert_int_eq(total_finalized, 2);
    ck_assert_int_eq(finalizer_collect_result, -1);
    ck_assert_int_eq(finalizer_collect_err, MW_ERR_STATE);
    ck_assert_int_eq(total_destroyed, 2);

    // A failing finalizer: reported, not propagated; the collection goes on.
    a = new_node(&fin_node_type, 3);
    b = new_node(&fin_node_type, 4);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
    finalizer_fails = true;
    ASSERT_COLLECT(2, 2);   // and no error pending afterwards
    finalizer_fails = false;
    ck_assert_int_eq(node_destroyed[3], 1);
    ck_assert_int_eq(node_destroyed[4], 1);
    // The first one's error did not reach the second finalizer.
    ck_assert_int_eq(finalizer_saw_error, 0);
    stop();
}
END_TEST

TCase *tcase_debug(void)
{
    TCase *tc = tcase_create("debug");
    tcase_add_loop_test(tc, test_saveall, 0, NMODES);
    tcase_add_loop_test(tc, test_uncollectable, 0, NMODES);
    tcase_add_loop_test(tc, test_uncollectable_reaches, 0, NMODES);
    tcase_add_loop_test(tc, test_callbacks, 0, NMODES);
    tcase_add_loop_test(tc, test_stats, 0, NMODES);
    tcase_add_loop_test(tc, test_errors, 0, NMODES);
    return tc;
}
