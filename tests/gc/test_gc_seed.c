/*
 * test_gc_seed.c - the seed's collector examples in C: the "diy gc" lists,
 * the Node cycle (mid -> left <-> right), finalizers (__del__) that run
 * once and may resurrect, and weak references: the Parent/Child pair that
 * needs no collector because the child holds a weak proxy, and a weak
 * reference into a garbage cycle, which the collection clears.
 *
 * Automatic collection is turned off wherever an exact count is asserted.
 * The torture flavour (MWRT_GC_TORTURE=1) still collects generation 0
 * before each container allocation; these tests hold under it too, as
 * nothing they count is garbage while containers are being allocated.
 */
#include "test_gc.h"

#include <string.h>

/* ======================================================================
 * seed: diy gc, the Node cycle, finalizers
 * ====================================================================== */

START_TEST(test_diy_gc)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);   // a fresh runtime holds no garbage
    size_t base = blocks_in_use_trimmed();
    // a = []; b = []; a.append(b)
    mw_object *a = mw_list_new();
    mw_object *b = mw_list_new();
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(mw_list_append(a, b), 0);
    // mwrt counts only real references: a has its name, b its name and
    // a's slot.  CPython's sys.getrefcount(a) shows 2 and (b) 3, one more
    // each for the temporary reference of the call's own argument.
    ck_assert_int_eq(mw_refcnt(a), 1);
    ck_assert_int_eq(mw_refcnt(b), 2);
    // del a; del b: counting alone frees both.
    mw_decref(a);
    ck_assert_int_eq(mw_refcnt(b), 1);
    mw_decref(b);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    ASSERT_COLLECT(2, 0);

    // b.append(a) as well: now a cycle, which only the collector frees.
    a = mw_list_new();
    b = mw_list_new();
    ck_assert_int_eq(mw_list_append(a, b), 0);
    ck_assert_int_eq(mw_list_append(b, a), 0);
    ck_assert_int_eq(mw_refcnt(a), 2);
    ck_assert_int_eq(mw_refcnt(b), 2);
    mw_decref(a);
    mw_decref(b);
    if (OBJECTS_IN_POOLS) {
        ck_assert_uint_gt(blocks_in_use_trimmed(), base);   // still there
    }
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

/* _i: the lock mode in bit 0; bit 1 selects the type with a finalizer. */
START_TEST(test_node_cycle)
{
    start(MODE(_i & 1));
    const mw_type *t = (_i & 2) ? &fin_node_type : &node_type;
    bool fin = t->finalize != NULL;
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    // mid = Node('root'); left = ...; right = ...
    mw_object *mid = new_node(t, 0);
    mw_object *left = new_node(t, 1);
    mw_object *right = new_node(t, 2);
    set_next(mid, left);     // mid(left)
    set_next(left, right);   // left.next(right)
    set_next(right, left);   // right.next(left)
    ck_assert_int_eq(mw_refcnt(mid), 1);
    ck_assert_int_eq(mw_refcnt(left), 3);
    ck_assert_int_eq(mw_refcnt(right), 2);
    // Nothing is garbage while the names exist.
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(total_destroyed, 0);
    ck_assert_int_eq(total_finalized, 0);

    // del mid: counting frees it (nothing points at mid).
    mw_decref(mid);
    ck_assert_int_eq(node_destroyed[0], 1);
    ck_assert_int_eq(node_finalized[0], fin ? 1 : 0);
    ck_assert_int_eq(total_destroyed, 1);
    ck_assert_int_eq(mw_refcnt(left), 2);
    // del left; del right: the cycle keeps both alive.
    mw_decref(left);
    mw_decref(right);
    ck_assert_int_eq(total_destroyed, 1);
    ck_assert_int_eq(total_finalized, fin ? 1 : 0);

    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_int_eq(total_destroyed, 3);
    // __del__ ran exactly once per node.
    ck_assert_int_eq(node_finalized[0], fin ? 1 : 0);
    ck_assert_int_eq(node_finalized[1], fin ? 1 : 0);
    ck_assert_int_eq(node_finalized[2], fin ? 1 : 0);
    ck_assert_int_eq(total_finalized, fin ? 3 : 0);
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(total_destroyed, 3);
    ck_assert_int_eq(total_finalized, fin ? 3 : 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

static intptr_t last_collected = -1;

static void note_collected(const char *phase, const mw_gc_info *info, void *arg)
{
    (void)arg;
    if (strcmp(phase, "stop") == 0) {
        last_collected = info->collected;
    }
}

/* A node's finalizer stores the node in a global: the collection keeps it
 * and what it reaches; once the global is dropped the cycle is garbage
 * again, and this time it is freed without running finalizers again.  A
 * second cycle (3 <-> 4) dies in the same collection. */
START_TEST(test_resurrection)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    ck_assert_int_eq(mw_gc_add_callback(note_collected, NULL), 0);
    mw_object *left = new_node(&fin_node_type, 1);
    mw_object *right = new_node(&fin_node_type, 2);
    set_next(left, right);
    set_next(right, left);
    mw_object *other = new_node(&fin_node_type, 3);
    set_next(other, new_node(&fin_node_type, 4));
    mw_decref(get_next(other));   // other.next holds 4's only reference
    set_next(get_next(other), other);
    resurrect_id = 1;
    mw_decref(left);
    mw_decref(right);
    mw_decref(other);

    // left's finalizer resurrected left, and with it right.  How many were
    // "found": 4 counts them as found unreachable (gc.h), 2 is what
    // CPython's gc.collect() returns (3.11 gives 0 for a resurrected
    // cycle alone); either way only 3 and 4 were collected.
    mw_gc_stats s0, s1;
    ck_assert_int_eq(mw_gc_get_stats(&s0), 0);
    intptr_t found = mw_gc_collect(2);
    ASSERT_NO_ERR();
    ck_assert_msg(found == 4 || found == 2, "found %ld", (long)found);
    ck_assert_int_eq(node_destroyed[3] + node_destroyed[4], 2);
    intptr_t first_collected = last_collected;   // checked at the end
    ck_assert_int_eq(mw_gc_get_stats(&s1), 0);
    ck_assert_ptr_eq(zombie, left);
    ck_assert_int_eq(node_finalized[1], 1);
    ck_assert_int_eq(node_finalized[2], 1);
    ck_assert_int_eq(node_destroyed[1] + node_destroyed[2], 0);
    // Intact: values, links and counts (zombie + right.next; left.next).
    gc_node *l = (gc_node *)left, *r = (gc_node *)right;
    ck_assert(l->value == node_value(1));
    ck_assert(r->value == node_value(2));
    ck_assert_ptr_eq(l->next, right);
    ck_assert_ptr_eq(r->next, left);
    ck_assert_int_eq(mw_refcnt(left), 2);
    ck_assert_int_eq(mw_refcnt(right), 1);
    ck_assert(mw_gc_is_tracked(left));
    ck_assert(mw_gc_is_tracked(right));
    // Still reachable from the zombie: another collection leaves it alone.
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(total_destroyed, 2);
    ck_assert_int_eq(total_finalized, 4);

    // Drop the global: the cycle is garbage again.
    mw_object *z = zombie;
    zombie = NULL;
    mw_decref(z);
    ck_assert_int_eq(total_destroyed, 2);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(last_collected, 2);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_int_eq(node_finalized[1], 1);   // not again
    ck_assert_int_eq(node_finalized[2], 1);
    ck_assert_ptr_null(zombie);
    ck_assert_int_eq(mw_gc_remove_callback(note_collected, NULL), 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    // The first collection collected 3 and 4 only: the resurrected pair
    // must not count as collected, in the callback or in the statistics.
    ck_assert_int_eq(first_collected, 2);
    ck_assert_uint_eq(s1.gen[2].collected - s0.gen[2].collected, 2);
    stop();
}
END_TEST

/* Finalizers that break the cycle (next = NULL): the other nodes die by
 * counting in the middle of the collection's finalizer pass. */
START_TEST(test_finalizer_breaks_cycle)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    mw_object *ring[5];
    for (int i = 0; i < 5; i++) {
        ring[i] = new_node(&fin_node_type, i);
    }
    for (int i = 0; i < 5; i++) {
        set_next(ring[i], ring[(i + 1) % 5]);
    }
    for (int i = 0; i < 5; i++) {
        mw_decref(ring[i]);
    }
    finalizer_breaks = true;
    ASSERT_COLLECT(2, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(node_finalized[i], 1);
        ck_assert_int_eq(node_destroyed[i], 1);
    }
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_seed(void)
{
    TCase *tc = tcase_create("seed");
    tcase_add_loop_test(tc, test_diy_gc, 0, NMODES);
    tcase_add_loop_test(tc, test_node_cycle, 0, 2 * NMODES);
    tcase_add_loop_test(tc, test_resurrection, 0, NMODES);
    tcase_add_loop_test(tc, test_finalizer_breaks_cycle, 0, NMODES);
    return tc;
}

/* ======================================================================
 * weak: Parent/Child with a weak proxy; weak references into garbage
 * ====================================================================== */

static int called;
static mw_object *called_with;

static void count_call(mw_object *ref)
{
    called++;
    called_with = ref;
}

START_TEST(test_parent_child_proxy)
{
    start_exact(MODE(_i));   // asserts that no collection ran
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    mw_gc_stats before, after;
    ck_assert_int_eq(mw_gc_get_stats(&before), 0);
    // class Parent: self.children = [Child(self)]
    // class Child: self.parent = weakref.proxy(parent)
    mw_object *parent = new_node(&weak_node_type, 0);
    mw_object *children = mw_list_new();
    set_next(parent, children);
    mw_decref(children);
    mw_object *child = new_node(&node_type, 1);
    mw_object *proxy = mw_weakproxy_new(parent, NULL);
    ck_assert_ptr_nonnull(proxy);
    set_next(child, proxy);
    mw_decref(proxy);
    ck_assert_int_eq(mw_list_append(children, child), 0);
    mw_decref(child);
    // The proxy does not count: no cycle.
    ck_assert_int_eq(mw_refcnt(parent), 1);
    mw_object *p = mw_weakproxy_get(get_next(child));
    ck_assert_ptr_eq(p, parent);
    mw_decref(p);

    // del parent: counting frees parent, list, child and proxy.
    mw_decref(parent);
    ck_assert_int_eq(node_destroyed[0], 1);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_finalized[0], 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    ck_assert_int_eq(mw_gc_get_stats(&after), 0);
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        ck_assert_uint_eq(after.gen[g].collections, before.gen[g].collections);
    }
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

START_TEST(test_weakref_into_garbage)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    called = 0;
    called_with = NULL;
    mw_object *a = new_node(&weak_node_type, 1);
    mw_object *b = new_node(&weak_node_type, 2);
    set_next(a, b);
    set_next(b, a);
    mw_object *r = mw_weakref_new(a, count_call);
    mw_object *rb = mw_weakref_new(b, NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_nonnull(rb);
    finalizer_watch[0] = r;
    finalizer_watch[1] = rb;
    mw_decref(a);
    mw_decref(b);
    // The cycle keeps a alive: the reference still yields it.
    mw_object *alive = mw_weakref_get(r);
    ck_assert_ptr_eq(alive, a);
    mw_decref(alive);
    ck_assert_int_eq(called, 0);

    ASSERT_COLLECT(2, 2);
    mw_object *gone = mw_weakref_get(r);
    ck_assert_ptr_nonnull(gone);
    ck_assert(mw_is(gone, mw_none()));
    mw_decref(gone);
    ck_assert_int_eq(called, 1);
    ck_assert_ptr_eq(called_with, r);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_int_eq(node_finalized[1], 1);
    ck_assert_int_eq(node_finalized[2], 1);
    finalizer_watch[0] = finalizer_watch[1] = NULL;
    mw_object *gone_b = mw_weakref_get(rb);
    ck_assert(mw_is(gone_b, mw_none()));
    mw_decref(rb);
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(called, 1);   // once
    mw_decref(r);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    // Weak references to all the garbage were cleared before any finalizer
    // ran (DESIGN.md: "clear weak references to the unreachable and queue
    // their callbacks; call each finalizer once"), so no finalizer can
    // reach another garbage object through one: each saw both dead.
    ck_assert_int_eq(finalizer_saw_alive, 0);
    ck_assert_int_eq(finalizer_saw_dead, 4);
    stop();
}
END_TEST

/* The weak reference (with a callback) is itself held inside the garbage
 * cycle: a -> b -> [a, weakref(a)] -> a.  It dies with the cycle; its
 * callback may run at most once, and nothing is used after it is freed. */
START_TEST(test_weakref_inside_garbage)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    called = 0;
    mw_object *a = new_node(&weak_node_type, 1);
    mw_object *b = new_node(&weak_node_type, 2);
    mw_object *l = mw_list_new();
    mw_object *r = mw_weakref_new(a, count_call);
    ck_assert_ptr_nonnull(r);
    set_next(a, b);
    set_next(b, l);
    ck_assert_int_eq(mw_list_append(l, a), 0);
    ck_assert_int_eq(mw_list_append(l, r), 0);
    mw_decref(r);
    mw_decref(l);
    mw_decref(a);
    mw_decref(b);
    ASSERT_COLLECT(2, 3);   // a, b and the list (weakrefs are not tracked)
    ck_assert_int_le(called, 1);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_int_eq(node_destroyed[2], 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

TCase *tcase_weak(void)
{
    TCase *tc = tcase_create("weak");
    tcase_add_loop_test(tc, test_parent_child_proxy, 0, NMODES);
    tcase_add_loop_test(tc, test_weakref_into_garbage, 0, NMODES);
    tcase_add_loop_test(tc, test_weakref_inside_garbage, 0, NMODES);
    return tc;
}
