/*
 * test_gc_api.c - controlling the collector: enable/disable, thresholds
 * (from the configuration and set at run time, clamped), the generation
 * counts, generations (survivors move up; a young collection leaves older
 * garbage alone), freeze/unfreeze, and automatic collection: bounded live
 * objects under a stream of cycles when enabled, accumulation when
 * disabled, when threshold 0 is 0, or under the MW_GC_OFF policy.
 */
#include "test_gc.h"

#include <stdlib.h>

/* A garbage cycle of two plain nodes (ids as given, -1: not counted by id). */
static void make_garbage_pair(int64_t id1, int64_t id2)
{
    mw_object *a = new_node(&node_type, id1);
    mw_object *b = new_node(&node_type, id2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
}

static void get_counts(int out[3])
{
    out[0] = out[1] = out[2] = -1;
    mw_gc_get_count(out);
}

/* ======================================================================
 * control
 * ====================================================================== */

START_TEST(test_enable_disable)
{
    start(MODE(_i));
    ck_assert(mw_gc_isenabled());   // on by default
    mw_gc_disable();
    ck_assert(!mw_gc_isenabled());
    mw_gc_disable();                // not counted: one enable undoes both
    ck_assert(!mw_gc_isenabled());
    // Explicit collections run while automatic ones are off.
    make_garbage_pair(1, 2);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(total_destroyed, 2);
    mw_gc_enable();
    ck_assert(mw_gc_isenabled());
    mw_gc_enable();
    ck_assert(mw_gc_isenabled());
    stop();
}
END_TEST

START_TEST(test_thresholds)
{
    start(MODE(_i));
    int t[3] = {-1, -1, -1};
    mw_gc_get_threshold(t);
    ck_assert_int_eq(t[0], 700);
    ck_assert_int_eq(t[1], 10);
    ck_assert_int_eq(t[2], 10);
    mw_gc_set_threshold(100, 5, 3);   // the seed's gc.set_threshold
    mw_gc_get_threshold(t);
    ck_assert_int_eq(t[0], 100);
    ck_assert_int_eq(t[1], 5);
    ck_assert_int_eq(t[2], 3);
    mw_gc_set_threshold(-5, 3, -1);   // negative values clamp to 0
    mw_gc_get_threshold(t);
    ck_assert_int_eq(t[0], 0);
    ck_assert_int_eq(t[1], 3);
    ck_assert_int_eq(t[2], 0);
    stop();
}
END_TEST

/* mw_config.threshold is where the collector's thresholds start. */
START_TEST(test_thresholds_from_config)
{
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = MODE(_i);
    cfg.threshold[0] = 50;
    cfg.threshold[1] = 4;
    cfg.threshold[2] = 2;
    start_cfg(&cfg);
    int t[3] = {-1, -1, -1};
    mw_gc_get_threshold(t);
    ck_assert_int_eq(t[0], 50);
    ck_assert_int_eq(t[1], 4);
    ck_assert_int_eq(t[2], 2);
    stop();
}
END_TEST

START_TEST(test_counts)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    int c[3];
    ASSERT_COLLECT(2, 0);
    get_counts(c);   // a full collection resets every count
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 0);
    ck_assert_int_eq(c[2], 0);
    // Generation 0 counts container allocations minus deallocations.
    mw_object *keep[8];
    for (int i = 0; i < 5; i++) {
        keep[i] = mw_list_new();
        ck_assert_int_eq(gc_count0(), i + 1);
    }
    mw_decref(keep[3]);
    mw_decref(keep[4]);
    ck_assert_int_eq(gc_count0(), 3);
    mw_object *s = mw_str("not a container");
    mw_object *n = mw_int(123456789);
    ck_assert_int_eq(gc_count0(), 3);   // strs and ints are not counted
    mw_decref(s);
    mw_decref(n);
    for (int i = 3; i < 6; i++) {
        keep[i] = new_node(&node_type, i);   // user containers are
    }
    ck_assert_int_eq(gc_count0(), 6);
    // A collection of generation 0 resets its count; like CPython, the
    // next generation's count is the number of collections of the younger.
    ASSERT_COLLECT(0, 0);
    get_counts(c);
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 1);
    ASSERT_COLLECT(0, 0);
    get_counts(c);
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 2);
    ck_assert_int_eq(c[2], 0);
    ASSERT_COLLECT(1, 0);
    get_counts(c);
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 0);
    ck_assert_int_eq(c[2], 1);
    ASSERT_COLLECT(2, 0);
    get_counts(c);
    ck_assert_int_eq(c[0], 0);
    ck_assert_int_eq(c[1], 0);
    ck_assert_int_eq(c[2], 0);
    for (int i = 0; i < 6; i++) {
        mw_decref(keep[i]);
    }
    ck_assert_int_eq(total_destroyed, 3);
    stop();
}
END_TEST

/* Survivors move one generation up; a collection of generation g leaves
 * garbage in older generations alone. */
START_TEST(test_generations)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    mw_object *a = new_node(&node_type, 1);
    mw_object *b = new_node(&node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_decref(b);
    ASSERT_COLLECT(0, 0);     // reachable through a: both move to gen 1
    mw_decref(a);             // now garbage, in generation 1
    ASSERT_COLLECT(0, 0);
    ck_assert_int_eq(total_destroyed, 0);
    ASSERT_COLLECT(1, 2);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);

    mw_object *c = new_node(&node_type, 3);
    mw_object *d = new_node(&node_type, 4);
    set_next(c, d);
    set_next(d, c);
    mw_decref(d);
    ASSERT_COLLECT(1, 0);     // gens 0-1 collected: c and d move to gen 2
    mw_decref(c);
    ASSERT_COLLECT(0, 0);
    ASSERT_COLLECT(1, 0);
    ck_assert_int_eq(total_destroyed, 2);
    ASSERT_COLLECT(-1, 2);    // -1 is a full collection, as 2 is
    ck_assert_int_eq(node_destroyed[3], 1);
    ck_assert_int_eq(node_destroyed[4], 1);
    stop();
}
END_TEST

START_TEST(test_freeze)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    ck_assert_uint_eq(mw_gc_get_freeze_count(), 0);
    make_garbage_pair(1, 2);   // garbage before the freeze
    mw_gc_freeze();
    ck_assert_uint_ge(mw_gc_get_freeze_count(), 2);
    size_t frozen = mw_gc_get_freeze_count();
    // The permanent generation is never collected.
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(total_destroyed, 0);
    // Garbage made after the freeze is collected as usual.
    make_garbage_pair(3, 4);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(node_destroyed[3], 1);
    ck_assert_int_eq(node_destroyed[4], 1);
    ck_assert_int_eq(node_destroyed[1] + node_destroyed[2], 0);
    ck_assert_uint_eq(mw_gc_get_freeze_count(), frozen);
    // Unfreeze: back to the oldest generation, collected by a full one.
    mw_gc_unfreeze();
    ck_assert_uint_eq(mw_gc_get_freeze_count(), 0);
    ASSERT_COLLECT(0, 0);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_control(void)
{
    TCase *tc = tcase_create("control");
    tcase_add_loop_test(tc, test_enable_disable, 0, NMODES);
    tcase_add_loop_test(tc, test_thresholds, 0, NMODES);
    tcase_add_loop_test(tc, test_thresholds_from_config, 0, NMODES);
    tcase_add_loop_test(tc, test_counts, 0, NMODES);
    tcase_add_loop_test(tc, test_generations, 0, NMODES);
    tcase_add_loop_test(tc, test_freeze, 0, NMODES);
    return tc;
}

/* ======================================================================
 * automatic
 * ====================================================================== */

enum { STREAM_CYCLES = 20000, LIVE_BOUND = 2000 };

/* Make cycles of two nodes and drop them, STREAM_CYCLES times; returns the
 * most nodes alive at once (created - destroyed). */
static long stream_of_cycles(size_t *max_blocks_growth)
{
    size_t base = blocks_in_use();
    long made = 0, max_live = 0;
    *max_blocks_growth = 0;
    for (int i = 0; i < STREAM_CYCLES; i++) {
        make_garbage_pair(-1, -1);
        made += 2;
        long live = made - total_destroyed;
        if (live > max_live) {
            max_live = live;
        }
        if (i % 128 == 0) {
            size_t now = blocks_in_use();
            if (now > base && now - base > *max_blocks_growth) {
                *max_blocks_growth = now - base;
            }
        }
    }
    return max_live;
}

static uint64_t all_collections(void)
{
    mw_gc_stats st;
    ck_assert_int_eq(mw_gc_get_stats(&st), 0);
    return st.gen[0].collections + st.gen[1].collections + st.gen[2].collections;
}

START_TEST(test_automatic_bounded)
{
    start_exact(MODE(_i));
    ck_assert(mw_gc_isenabled());
    mw_gc_set_threshold(10, 10, 10);
    size_t growth;
    long max_live = stream_of_cycles(&growth);
    ck_assert_msg(max_live <= LIVE_BOUND, "%ld nodes alive at once", max_live);
    ck_assert_int_ge(total_destroyed, 2L * STREAM_CYCLES - LIVE_BOUND);
    if (OBJECTS_IN_POOLS) {
        ck_assert_msg(growth <= 2 * LIVE_BOUND, "%zu blocks more", growth);
    }
    // Each generation was collected automatically.
    mw_gc_stats st;
    ck_assert_int_eq(mw_gc_get_stats(&st), 0);
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        ck_assert_msg(st.gen[g].collections > 0, "gen %d: no collection", g);
    }
    ck_assert_uint_ge(st.gen[0].collections, 1000);   // ~40000 / 10
    mw_gc_collect(2);
    ASSERT_NO_ERR();
    ck_assert_int_eq(total_destroyed, 2L * STREAM_CYCLES);
    stop();
}
END_TEST

/* _i: the lock mode in bit 0; the rest says how automatic collection is
 * off: mw_gc_disable, threshold 0 of 0, or the configuration's MW_GC_OFF
 * policy ("only explicit mw_gc_collect()", DESIGN.md). */
START_TEST(test_automatic_off)
{
    int how = _i >> 1;
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = MODE(_i & 1);
    cfg.threshold[0] = cfg.threshold[1] = cfg.threshold[2] = 10;
    cfg.gc_policy = how == 2 ? MW_GC_OFF : MW_GC_STW;
    unsetenv("MWRT_GC_TORTURE");   // as start_exact
    start_cfg(&cfg);
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    if (how == 0) {
        mw_gc_disable();
    } else if (how == 1) {
        mw_gc_set_threshold(0, 10, 10);   // threshold 0 of 0: off
        ck_assert(mw_gc_isenabled());
    }
    uint64_t before = all_collections();
    size_t growth;
    long max_live = stream_of_cycles(&growth);
    ck_assert_int_eq(max_live, 2L * STREAM_CYCLES);   // everything piles up
    ck_assert_int_eq(total_destroyed, 0);
    ck_assert_uint_eq(all_collections(), before);
    if (OBJECTS_IN_POOLS) {
        ck_assert_uint_ge(growth, 2 * STREAM_CYCLES - 2 * 128);
    }
    ASSERT_COLLECT(2, 2 * STREAM_CYCLES);
    ck_assert_int_eq(total_destroyed, 2L * STREAM_CYCLES);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* Append n fresh empty lists to keep (all stay live). */
static void grow_live(mw_object *keep, int n)
{
    for (int i = 0; i < n; i++) {
        mw_object *l = mw_list_new();
        ck_assert_ptr_nonnull(l);
        ck_assert_int_eq(mw_list_append(keep, l), 0);
        mw_decref(l);
    }
}

static uint64_t full_collections(void)
{
    mw_gc_stats st;
    ck_assert_int_eq(mw_gc_get_stats(&st), 0);
    return st.gen[2].collections;
}

/* The full-growth share decides when a growing live heap is collected
 * whole: with thresholds 10/1/1 every second collection of generation 1
 * would be a full one; the share holds them back until the long-lived
 * heap has grown by it. */
START_TEST(test_full_growth)
{
    start_exact(MODE(_i));
    ck_assert_int_eq(mw_gc_get_full_growth(), 100);   // the default
    mw_gc_set_full_growth(-5);
    ck_assert_int_eq(mw_gc_get_full_growth(), 0);
    mw_gc_set_full_growth(1 << 30);
    ck_assert_int_eq(mw_gc_get_full_growth(), 10000);
    mw_gc_set_full_growth(100);
    mw_gc_set_threshold(10, 1, 1);
    mw_object *keep = mw_list_new();
    ck_assert_ptr_nonnull(keep);
    grow_live(keep, 4000);
    mw_gc_collect(2);   // 4001 long-lived
    ASSERT_NO_ERR();
    uint64_t before = full_collections();
    grow_live(keep, 2000);   // +50%: not yet
    ck_assert_uint_eq(full_collections(), before);
    grow_live(keep, 2200);   // past +100%
    ck_assert_uint_gt(full_collections(), before);
    // CPython's 25%: a quarter more is enough.
    mw_gc_set_full_growth(25);
    mw_gc_collect(2);
    ASSERT_NO_ERR();
    before = full_collections();
    grow_live(keep, 2500);   // +30% of 8201
    ck_assert_uint_gt(full_collections(), before);
    mw_decref(keep);
    mw_gc_set_full_growth(100);
    stop();
}
END_TEST

/* Under the GIL an automatic collection leaves its garbage to be cleared
 * by the container allocations that follow (gc.c, "Deferred clearing"):
 * found and counted at once, freed within the next allocation, at the
 * latest by the next collection, an explicit one, or the thread's
 * detach.  In free mode it is freed within the collection. */
START_TEST(test_deferred_clearing)
{
    bool gil = MODE(_i) == MW_LOCK_GIL;
    start_exact(MODE(_i));
    mw_gc_set_threshold(10, 1000, 1000);
    for (int i = 0; i < 5; i++) {
        make_garbage_pair(-1, -1);   // 10 containers: gen 0 is due
    }
    ck_assert_int_eq(total_destroyed, 0);
    mw_object *keep = new_node(&node_type, -1);   // collects first
    mw_gc_stats st;
    ck_assert_int_eq(mw_gc_get_stats(&st), 0);
    ck_assert_uint_eq(st.gen[0].collections, 1);
    ck_assert_uint_eq(st.gen[0].collected, 10);
    ck_assert_int_eq(total_destroyed, gil ? 0 : 10);
    mw_object *more = new_node(&node_type, -1);   // clears up to 8 pairs
    ck_assert_int_eq(total_destroyed, 10);
    mw_decref(more);
    mw_decref(keep);
    total_destroyed = 0;

    // An explicit collection clears what is pending first.
    for (int i = 0; i < 5; i++) {
        make_garbage_pair(-1, -1);
    }
    keep = new_node(&node_type, -1);
    ck_assert_int_eq(total_destroyed, gil ? 0 : 10);
    ck_assert_int_eq(mw_gc_collect(0), 0);   // found by the automatic one
    ck_assert_int_eq(total_destroyed, 10);
    mw_decref(keep);
    total_destroyed = 0;

    // So does the thread's detach.
    for (int i = 0; i < 5; i++) {
        make_garbage_pair(-1, -1);
    }
    keep = new_node(&node_type, -1);
    mw_decref(keep);
    ck_assert_int_eq(total_destroyed, gil ? 1 : 11);
    stop();
    ck_assert_int_eq(total_destroyed, 11);
}
END_TEST

TCase *tcase_automatic(void)
{
    TCase *tc = tcase_create("automatic");
    tcase_set_timeout(tc, 60);   // Check's default 4 s is tight under sanitizers
    tcase_add_loop_test(tc, test_automatic_bounded, 0, NMODES);
    tcase_add_loop_test(tc, test_automatic_off, 0, 3 * NMODES);
    tcase_add_loop_test(tc, test_full_growth, 0, NMODES);
    tcase_add_loop_test(tc, test_deferred_clearing, 0, NMODES);
    return tc;
}
