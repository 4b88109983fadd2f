/*
 * test_gc_shapes.c - garbage of other shapes: cycles through the built-in
 * containers (list, tuple, dict) and a deep copy of one; rings far longer
 * than the C stack would allow if anything recursed once per object;
 * garbage made by a thread that has since detached (its counts merged by
 * biased reference counting); and a finalizer that allocates containers
 * while a collection runs.
 */
#include "test_gc.h"

#include <pthread.h>

/* ======================================================================
 * Built-in containers
 * ====================================================================== */

START_TEST(test_builtin_cycles)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    // l = []; t = (l,); l.append(t)
    mw_object *l = mw_list_new();
    mw_object *t = mw_tuple_new(1, &l);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(mw_list_append(l, t), 0);
    ck_assert(mw_gc_is_tracked(t));   // a tuple holding a container
    // d = {}; d["self"] = d; d[1] = l
    mw_object *d = mw_dict_new();
    mw_object *key = mw_str("self");
    ck_assert_int_eq(mw_dict_set(d, key, d), 0);
    ck_assert_int_eq(mw_dict_set(d, mw_int(1), l), 0);
    mw_decref(key);
    ASSERT_COLLECT(2, 0);
    mw_decref(t);
    mw_decref(l);
    mw_decref(d);
    ASSERT_COLLECT(2, 3);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // A deep copy reproduces the cycle; both are garbage once dropped.
    mw_object *a = mw_list_new();   // a = [a, 7]
    ck_assert_int_eq(mw_list_append(a, a), 0);
    ck_assert_int_eq(mw_list_append(a, mw_int(7)), 0);
    mw_object *copy = mw_deepcopy(a);
    ck_assert_ptr_nonnull(copy);
    mw_object *first = mw_list_get(copy, 0);
    ck_assert_ptr_eq(first, copy);   // the copy holds itself, not a
    mw_decref(first);
    mw_decref(a);
    mw_decref(copy);
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * Long rings
 * ====================================================================== */

/* A million links: far more than the C stack would allow if traversal,
 * clear or dealloc recursed once per object.  Smaller under sanitizers,
 * which multiply the cost of each object but not the recursion risk. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
enum { RING = 200000 };
#else
enum { RING = 1000000 };
#endif

/* _i: the lock mode in bit 0; bit 1: a ring of lists instead of nodes. */
START_TEST(test_long_ring)
{
    start(MODE(_i & 1));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    bool lists = (_i & 2) != 0;
    mw_object *head = lists ? mw_list_new() : new_node(&node_type, -1);
    mw_object *prev = head;
    for (int i = 1; i < RING; i++) {
        mw_object *o = lists ? mw_list_new() : new_node(&node_type, -1);
        REQUIRE(o != NULL);
        if (lists) {
            REQUIRE(mw_list_append(prev, o) == 0);
        } else {
            set_next(prev, o);
        }
        mw_decref(o);   // prev holds it
        prev = o;
    }
    if (lists) {
        ck_assert_int_eq(mw_list_append(prev, head), 0);
    } else {
        set_next(prev, head);
    }
    ASSERT_COLLECT(1, 0);   // held by head: all survive, to generation 2
    mw_decref(head);
    ASSERT_COLLECT(1, 0);
    ASSERT_COLLECT(2, RING);
    if (!lists) {
        ck_assert_int_eq(total_destroyed, RING);
    }
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * Garbage made by another thread
 * ====================================================================== */

enum { FOREIGN_PAIRS = 1000 };

static mw_object *handed;   /* a list the helper fills and leaves */
static int helper_failed;

static void *make_foreign(void *arg)
{
    (void)arg;
    if (mw_thread_attach(test_rt) != 0) {
        helper_failed++;
        return NULL;
    }
    for (int i = 0; i < FOREIGN_PAIRS; i++) {
        mw_object *a = mw_new(&node_type);
        mw_object *b = mw_new(&node_type);
        if (a == NULL || b == NULL) {
            helper_failed++;
            break;
        }
        ((gc_node *)a)->id = ((gc_node *)b)->id = -1;
        ((gc_node *)a)->value = ((gc_node *)b)->value = node_value(-1);
        set_next(a, b);
        set_next(b, a);
        if (i % 10 == 0 && mw_list_append(handed, a) != 0) {   // kept
            helper_failed++;
        }
        mw_decref(a);
        mw_decref(b);
    }
    mw_thread_detach();
    return NULL;
}

START_TEST(test_foreign_garbage)
{
    start_exact(MODE(_i));   // torture would collect on the helper's thread
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    handed = mw_list_new();
    helper_failed = 0;
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, make_foreign, NULL), 0);
    mw_blocking_begin();   // GIL mode: let the helper run
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    mw_blocking_end();
    ck_assert_int_eq(helper_failed, 0);
    // The helper's objects live on with merged counts; its garbage is ours
    // to collect, and what it handed over is intact.
    ASSERT_COLLECT(2, 2 * (FOREIGN_PAIRS - FOREIGN_PAIRS / 10));
    ck_assert_int_eq(total_destroyed, 2 * (FOREIGN_PAIRS - FOREIGN_PAIRS / 10));
    ck_assert_uint_eq(list_len(handed), FOREIGN_PAIRS / 10);
    for (size_t i = 0; i < FOREIGN_PAIRS / 10; i++) {
        mw_object *a = mw_list_get(handed, (ptrdiff_t)i);
        mw_object *b = get_next(a);
        REQUIRE(((gc_node *)a)->value == node_value(-1) && get_next(b) == a);
        REQUIRE(mw_refcnt(a) == 3 && mw_refcnt(b) == 1);   // handed, b, ours
        mw_decref(a);
    }
    mw_decref(handed);
    ASSERT_COLLECT(2, 2 * (FOREIGN_PAIRS / 10));
    ck_assert_int_eq(total_destroyed, 2 * FOREIGN_PAIRS);
    stop();
}
END_TEST

/* ======================================================================
 * A finalizer that allocates during a collection
 * ====================================================================== */

static mw_object *made_by_finalizer;   /* a list */

static void allocating_finalize(mw_object *self)
{
    for (int i = 0; i < 100; i++) {   // ten times threshold 0
        mw_object *x = mw_list_new();
        REQUIRE(x != NULL && mw_list_append(made_by_finalizer, x) == 0);
        mw_decref(x);
    }
    total_finalized++;
}

static int alloc_node_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    gc_node *n = (gc_node *)self;
    return n->next != NULL ? visit(n->next, arg) : 0;
}

static void alloc_node_clear(mw_object *self)
{
    set_next(self, NULL);
}

static const mw_type alloc_node_type = {
    .name = "AllocNode",
    .size = sizeof(gc_node),
    .flags = MW_TYPE_GC,
    .traverse = alloc_node_traverse,
    .clear = alloc_node_clear,
    .finalize = allocating_finalize,
};

START_TEST(test_finalizer_allocates)
{
    start(MODE(_i));
    mw_gc_set_threshold(10, 10, 10);   // enabled: it would collect if it could
    made_by_finalizer = mw_list_new();
    mw_object *a = mw_new(&alloc_node_type);
    mw_object *b = mw_new(&alloc_node_type);
    set_next(a, b);
    set_next(b, a);
    mw_decref(a);
    mw_decref(b);
    mw_gc_stats s0, s1;
    ck_assert_int_eq(mw_gc_get_stats(&s0), 0);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(mw_gc_get_stats(&s1), 0);
    ck_assert_int_eq(total_finalized, 2);
    ck_assert_uint_eq(list_len(made_by_finalizer), 200);   // all kept
    ck_assert_uint_eq(s1.gen[0].collections, s0.gen[0].collections);   // none nested
    ck_assert_uint_eq(s1.gen[2].collections, s0.gen[2].collections + 1);
    mw_decref(made_by_finalizer);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

TCase *tcase_shapes(void)
{
    TCase *tc = tcase_create("shapes");
    tcase_set_timeout(tc, 60);   // Check's default 4 s is tight under sanitizers
    tcase_add_loop_test(tc, test_builtin_cycles, 0, NMODES);
    tcase_add_loop_test(tc, test_long_ring, 0, 2 * NMODES);
    tcase_add_loop_test(tc, test_foreign_garbage, 0, NMODES);
    tcase_add_loop_test(tc, test_finalizer_allocates, 0, NMODES);
    return tc;
}
