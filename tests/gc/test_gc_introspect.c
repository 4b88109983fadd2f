/*
 * test_gc_introspect.c - leak hunting, as gc.is_tracked, get_objects,
 * get_referents and get_referrers: which objects are tracked, which
 * generation holds them, what they refer to and who refers to them, and
 * that the lists these hand out leave every count as it was.
 */
#include "test_gc.h"

/* gen's objects (new list) hold o, dropping the list. */
static bool in_generation(int gen, mw_object *o)
{
    mw_object *objs = mw_gc_get_objects(gen);
    REQUIREF(objs != NULL, "mw_gc_get_objects(%d): %s", gen, mw_err_message());
    bool in = list_contains(objs, o);
    mw_decref(objs);
    return in;
}

static const mw_type plain_type = {.name = "plain", .size = sizeof(gc_node)};

START_TEST(test_introspection)
{
    start_exact(MODE(_i));   // asserts which generation holds what
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    mw_object *l = mw_list_new();
    mw_object *x = mw_str("an item of the list");
    mw_object *n = new_node(&node_type, 1);
    ck_assert_int_eq(mw_list_append(l, x), 0);
    ck_assert_int_eq(mw_list_append(l, n), 0);
    mw_object *five = mw_int(5);
    mw_object *plain = mw_new(&plain_type);
    ck_assert(mw_gc_is_tracked(l));
    ck_assert(mw_gc_is_tracked(n));
    ck_assert(!mw_gc_is_tracked(five));
    ck_assert(!mw_gc_is_tracked(x));
    ck_assert(!mw_gc_is_tracked(plain));
    ck_assert(!mw_gc_is_tracked(mw_none()));

    // get_objects: all generations, and by generation.
    ck_assert(in_generation(-1, l));
    ck_assert(in_generation(-1, n));
    ck_assert(!in_generation(-1, x));
    ck_assert(in_generation(0, l));
    ck_assert(!in_generation(1, l));
    ASSERT_COLLECT(0, 0);   // l and n survive into generation 1
    ck_assert(!in_generation(0, l));
    ck_assert(in_generation(1, l));
    ck_assert(in_generation(-1, l));
    ck_assert_int_eq(mw_refcnt(l), 1);   // the lists' references are gone
    ck_assert_ptr_null(mw_gc_get_objects(3));
    ASSERT_ERR(MW_ERR_VALUE);

    // get_referents: what traverse visits.
    mw_object *r = mw_gc_get_referents(l);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(list_len(r), 2);
    ck_assert(list_contains(r, x));
    ck_assert(list_contains(r, n));
    mw_decref(r);
    r = mw_gc_get_referents(n);
    ck_assert_uint_eq(list_len(r), 0);
    mw_decref(r);
    r = mw_gc_get_referents(five);   // not a container: nothing
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(list_len(r), 0);
    mw_decref(r);
    set_next(n, l);   // n -> l -> n
    r = mw_gc_get_referents(n);
    ck_assert_uint_eq(list_len(r), 1);
    ck_assert(list_contains(r, l));
    mw_decref(r);

    // get_referrers: the tracked objects that refer to o.
    r = mw_gc_get_referrers(x);
    ck_assert_ptr_nonnull(r);
    ck_assert(list_contains(r, l));
    ck_assert(!list_contains(r, n));
    mw_decref(r);
    r = mw_gc_get_referrers(l);
    ck_assert(list_contains(r, n));
    ck_assert(!list_contains(r, l));
    mw_decref(r);
    r = mw_gc_get_referrers(plain);   // nobody
    ck_assert_uint_eq(list_len(r), 0);
    mw_decref(r);

    ck_assert_int_eq(mw_refcnt(l), 2);
    ck_assert_int_eq(mw_refcnt(n), 2);
    ck_assert_int_eq(mw_refcnt(x), 2);
    mw_decref(l);
    mw_decref(n);
    mw_decref(x);
    mw_decref(plain);
    ASSERT_COLLECT(2, 2);
    ck_assert_int_eq(node_destroyed[1], 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_introspect(void)
{
    TCase *tc = tcase_create("introspect");
    tcase_add_loop_test(tc, test_introspection, 0, NMODES);
    return tc;
}
