/*
 * test_copy.c - mw_copy against mw_deepcopy: what is shared and what is
 * copied, shared substructure and cycles in deep copies, tuples, user
 * types, and nesting too deep to copy.  There is no cycle collector yet,
 * so every cycle made here is broken before it is dropped.
 */
#include "test_object.h"

/* Borrowed-style access for checks: item i of list l (reference dropped;
 * l keeps the item alive). */
static mw_object *item(mw_object *l, ptrdiff_t i)
{
    mw_object *o = mw_list_get(l, i);
    REQUIREF(o != NULL, "%s", mw_err_message());
    mw_decref(o);
    return o;
}

static mw_object *value(mw_object *d, mw_object *key)
{
    mw_object *o = mw_dict_get(d, key);
    REQUIREF(o != NULL, "%s", mw_err_message());
    mw_decref(o);
    return o;
}

/* [[1000, "inner"], {"k": [2000]}, 3000, "text", (5000, "t"), {7000}] */
static mw_object *sample(void)
{
    mw_object *inner = mw_list_new();
    mw_object *n1000 = int_of(1000);
    mw_object *s_inner = mw_str("inner");
    ck_assert_int_eq(mw_list_append(inner, n1000), 0);
    ck_assert_int_eq(mw_list_append(inner, s_inner), 0);
    mw_object *d = mw_dict_new();
    mw_object *k = mw_str("k");
    mw_object *dl = mw_list_new();
    mw_object *n2000 = int_of(2000);
    ck_assert_int_eq(mw_list_append(dl, n2000), 0);
    ck_assert_int_eq(mw_dict_set(d, k, dl), 0);
    mw_object *n3000 = int_of(3000);
    mw_object *text = mw_str("text");
    mw_object *n5000 = int_of(5000);
    mw_object *t_items[] = {n5000, mw_str("t")};
    mw_object *t = mw_tuple_new(2, t_items);
    mw_object *s = mw_set_new();
    mw_object *n7000 = int_of(7000);
    ck_assert_int_eq(mw_set_add(s, n7000), 0);
    mw_object *members[] = {inner, d, n3000, text, t, s};
    mw_object *l = mw_list_new();
    for (size_t i = 0; i < 6; i++) {
        ck_assert_int_eq(mw_list_append(l, members[i]), 0);
        mw_decref(members[i]);
    }
    mw_object *rest[] = {n1000, s_inner, k, dl, n2000, n5000, n7000};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
        mw_decref(rest[i]);
    }
    return l;
}

START_TEST(test_shallow_vs_deep)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *orig = sample();
    mw_object *k = mw_str("k");

    mw_object *shallow = mw_copy(orig);
    ck_assert_ptr_nonnull(shallow);
    ck_assert(!mw_is(shallow, orig));
    ck_assert(mw_type_of(shallow) == &mw_list_type);
    ck_assert_uint_eq(mw_list_len(shallow), 6);
    for (ptrdiff_t i = 0; i < 6; i++) {
        ck_assert_msg(mw_is(item(shallow, i), item(orig, i)), "shallow member %td", i);
        ck_assert_int_eq(mw_refcnt(item(orig, i)), 2);
    }
    ck_assert_int_eq(mw_equal(shallow, orig), 1);

    mw_object *deep = mw_deepcopy(orig);
    ck_assert_ptr_nonnull(deep);
    ck_assert(!mw_is(deep, orig));
    ck_assert_uint_eq(mw_list_len(deep), 6);
    // The mutable members are new objects, equal to the originals.
    for (ptrdiff_t i = 0; i < 6; i++) {
        const mw_type *t = mw_type_of(item(orig, i));
        ck_assert(mw_type_of(item(deep, i)) == t);
        if (t == &mw_list_type || t == &mw_dict_type || t == &mw_set_type) {
            ck_assert_msg(!mw_is(item(deep, i), item(orig, i)), "deep member %td shared", i);
        }
    }
    ck_assert_int_eq(mw_equal(item(deep, 0), item(orig, 0)), 1);
    mw_object *dl_orig = value(item(orig, 1), k);
    mw_object *dl_deep = value(item(deep, 1), k);
    ck_assert(!mw_is(dl_orig, dl_deep));
    ck_assert_int_eq(mw_equal(dl_orig, dl_deep), 1);
    ck_assert_uint_eq(mw_set_len(item(deep, 5)), 1);
    mw_object *n7000 = int_of(7000);
    ck_assert_int_eq(mw_set_contains(item(deep, 5), n7000), 1);
    mw_decref(n7000);
    // Immutable members may be the same objects; they are equal in value.
    ck_assert(take_int(mw_list_get(deep, 2)) == 3000);
    ck_assert_str_eq(mw_str_data(item(deep, 3), NULL), "text");
    // A tuple of immutables is its own deep copy.
    ck_assert(mw_is(item(deep, 4), item(orig, 4)));

    // Mutating through the shallow copy shows in the original; through the
    // deep copy it does not.
    ck_assert_int_eq(mw_list_append(item(shallow, 0), mw_none()), 0);
    ck_assert_uint_eq(mw_list_len(item(orig, 0)), 3);
    ck_assert_int_eq(mw_list_append(item(deep, 0), mw_none()), 0);
    ck_assert_int_eq(mw_list_append(item(deep, 0), mw_none()), 0);
    ck_assert_uint_eq(mw_list_len(item(orig, 0)), 3);
    ck_assert_uint_eq(mw_list_len(item(deep, 0)), 4);
    ck_assert_int_eq(mw_list_append(dl_deep, mw_none()), 0);
    ck_assert_uint_eq(mw_list_len(dl_orig), 1);

    mw_decref(deep);
    mw_decref(shallow);
    for (ptrdiff_t i = 0; i < 6; i++) {
        ck_assert_int_eq(mw_refcnt(item(orig, i)), 1);
    }
    mw_decref(k);
    mw_decref(orig);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

START_TEST(test_copy_each_type)
{
    start(MODE(_i));
    mw_object *orig = sample();
    mw_object *d = item(orig, 1);
    mw_object *s = item(orig, 5);
    mw_object *dc = mw_copy(d);
    ck_assert(!mw_is(dc, d));
    ck_assert_uint_eq(mw_dict_len(dc), 1);
    mw_object *k = mw_str("k");
    ck_assert(mw_is(value(dc, k), value(d, k)));
    mw_object *sc = mw_copy(s);
    ck_assert(!mw_is(sc, s));
    ck_assert_uint_eq(mw_set_len(sc), 1);
    // Immutable objects are their own copies, shallow and deep.
    mw_object *immutables[] = {item(orig, 2), item(orig, 3), item(orig, 4),
                               mw_none(), mw_true(), mw_int(5)};
    for (size_t i = 0; i < sizeof immutables / sizeof immutables[0]; i++) {
        mw_object *c = mw_copy(immutables[i]);
        ck_assert_msg(mw_is(c, immutables[i]), "copy of immutable %zu", i);
        mw_decref(c);
        c = mw_deepcopy(immutables[i]);
        ck_assert_msg(mw_is(c, immutables[i]), "deep copy of immutable %zu", i);
        mw_decref(c);
    }
    ck_assert_int_eq(mw_refcnt(item(orig, 3)), 1);
    mw_decref(dc);
    mw_decref(sc);
    mw_decref(k);
    mw_decref(orig);
    stop();
}
END_TEST

/* A list appearing twice in the original is one copied list, twice. */
START_TEST(test_deepcopy_shared)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *a = mw_list_new();
    ck_assert_int_eq(mw_list_append(a, mw_int(1)), 0);
    mw_object *d = mw_dict_new();
    ck_assert_int_eq(mw_dict_set(d, mw_none(), a), 0);
    mw_object *orig = mw_list_new();
    ck_assert_int_eq(mw_list_append(orig, a), 0);
    ck_assert_int_eq(mw_list_append(orig, a), 0);
    ck_assert_int_eq(mw_list_append(orig, d), 0);
    mw_object *c = mw_deepcopy(orig);
    ck_assert_ptr_nonnull(c);
    mw_object *a2 = item(c, 0);
    ck_assert(!mw_is(a2, a));
    ck_assert(mw_is(item(c, 1), a2));
    ck_assert(mw_is(value(item(c, 2), mw_none()), a2));
    ck_assert_int_eq(mw_refcnt(a2), 3);   // two slots of c, one of its dict
    ck_assert_int_eq(mw_list_append(a2, mw_none()), 0);
    ck_assert_uint_eq(mw_list_len(item(c, 1)), 2);
    ck_assert_uint_eq(mw_list_len(a), 1);
    mw_decref(c);
    mw_decref(orig);
    mw_decref(d);
    ck_assert_int_eq(mw_refcnt(a), 1);
    mw_decref(a);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

/* Self-references deep-copy into a cycle of the copies. */
START_TEST(test_deepcopy_cycles)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, mw_int(7)), 0);
    ck_assert_int_eq(mw_list_append(l, l), 0);
    mw_object *lc = mw_deepcopy(l);
    ck_assert_ptr_nonnull(lc);
    ck_assert(!mw_is(lc, l));
    ck_assert(mw_is(item(lc, 1), lc));
    ck_assert_int_eq(mw_refcnt(lc), 2);

    mw_object *d = mw_dict_new();
    mw_object *key = mw_str("self");
    ck_assert_int_eq(mw_dict_set(d, key, d), 0);
    mw_object *dc = mw_deepcopy(d);
    ck_assert_ptr_nonnull(dc);
    ck_assert(!mw_is(dc, d));
    ck_assert(mw_is(value(dc, key), dc));

    // A cycle through a tuple: t = (l2,), l2 = [t].
    mw_object *l2 = mw_list_new();
    mw_object *t = mw_tuple_new(1, &l2);
    ck_assert_int_eq(mw_list_append(l2, t), 0);
    mw_object *tc = mw_deepcopy(t);
    ck_assert_ptr_nonnull(tc);
    ck_assert(!mw_is(tc, t));
    mw_object *l2c = mw_tuple_get(tc, 0);
    ck_assert(!mw_is(l2c, l2));
    ck_assert(mw_is(item(l2c, 0), tc));

    // Break every cycle, then nothing is left.
    ck_assert_int_eq(mw_list_set(l, 1, mw_none()), 0);
    ck_assert_int_eq(mw_list_set(lc, 1, mw_none()), 0);
    ck_assert_int_eq(mw_refcnt(lc), 1);
    ck_assert_int_eq(mw_dict_set(d, key, mw_none()), 0);
    ck_assert_int_eq(mw_dict_set(dc, key, mw_none()), 0);
    ck_assert_int_eq(mw_refcnt(dc), 1);
    ck_assert_int_eq(mw_list_set(l2, 0, mw_none()), 0);
    ck_assert_int_eq(mw_list_set(l2c, 0, mw_none()), 0);
    ck_assert_int_eq(mw_refcnt(tc), 1);
    mw_decref(l2c);
    mw_decref(tc);
    mw_decref(t);
    mw_decref(l2);
    mw_decref(dc);
    mw_decref(d);
    mw_decref(lc);
    mw_decref(l);
    mw_decref(key);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

START_TEST(test_deepcopy_tuples)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *n = int_of(1000);
    mw_object *s = mw_str("immutable");
    mw_object *inner = mw_tuple_new(1, &n);
    mw_object *imm_items[] = {n, s, mw_none(), inner};
    mw_object *imm = mw_tuple_new(4, imm_items);
    mw_object *c = mw_deepcopy(imm);
    ck_assert(mw_is(c, imm));
    mw_decref(c);

    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, n), 0);
    mw_object *mut_items[] = {n, l};
    mw_object *mut = mw_tuple_new(2, mut_items);
    c = mw_deepcopy(mut);
    ck_assert_ptr_nonnull(c);
    ck_assert(!mw_is(c, mut));
    ck_assert(mw_type_of(c) == &mw_tuple_type);
    ck_assert_uint_eq(mw_tuple_len(c), 2);
    mw_object *c1 = mw_tuple_get(c, 1);
    ck_assert(!mw_is(c1, l));
    ck_assert_int_eq(mw_equal(c1, l), 1);
    ck_assert(take_int(mw_tuple_get(c, 0)) == 1000);
    mw_decref(c1);
    mw_decref(c);
    // A shallow copy of a tuple is the tuple.
    c = mw_copy(mut);
    ck_assert(mw_is(c, mut));
    mw_decref(c);
    mw_decref(mut);
    mw_decref(l);
    mw_decref(imm);
    mw_decref(inner);
    mw_decref(s);
    ck_assert_int_eq(mw_refcnt(n), 1);
    mw_decref(n);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

static const mw_type opaque_type = {.name = "opaque", .size = sizeof(mw_object)};

START_TEST(test_copy_user_type)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *u = mw_new(&opaque_type);
    ck_assert_ptr_nonnull(u);
    ck_assert_ptr_null(mw_copy(u));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_deepcopy(u));
    ASSERT_ERR(MW_ERR_TYPE);
    // Inside a container: a shallow copy shares it, a deep one fails.
    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, mw_int(1)), 0);
    ck_assert_int_eq(mw_list_append(l, u), 0);
    mw_object *c = mw_copy(l);
    ck_assert_ptr_nonnull(c);
    ck_assert(mw_is(item(c, 1), u));
    mw_decref(c);
    ck_assert_ptr_null(mw_deepcopy(l));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_int_eq(mw_refcnt(u), 2);
    mw_decref(l);
    mw_decref(u);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

/* [[[...]]] nested n deep. */
static mw_object *chain(size_t n)
{
    mw_object *cur = mw_list_new();
    for (size_t i = 1; i < n; i++) {
        mw_object *outer = mw_list_new();
        REQUIRE(outer != NULL);
        REQUIRE(mw_list_append(outer, cur) == 0);
        mw_decref(cur);
        cur = outer;
    }
    return cur;
}

START_TEST(test_deepcopy_too_deep)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *deep = chain(20000);
    ck_assert_ptr_null(mw_deepcopy(deep));
    ASSERT_ERR(MW_ERR_RECURSION);
    ck_assert_str_eq(mw_err_name(MW_ERR_RECURSION), "RecursionError");
    ck_assert_int_eq(mw_refcnt(deep), 1);
    ck_assert_uint_eq(mw_list_len(deep), 1);
    mw_object *deep2 = chain(20000);
    ck_assert_int_eq(mw_equal(deep, deep2), -1);
    ASSERT_ERR(MW_ERR_RECURSION);
    mw_decref(deep2);
    // Within the limit the copy works and has the same depth.
    mw_object *ok = chain(500);
    mw_object *c = mw_deepcopy(ok);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(mw_equal(c, ok), 1);
    size_t depth = 1;
    for (mw_object *cur = c; mw_list_len(cur) == 1; depth++) {
        cur = item(cur, 0);
    }
    ck_assert_uint_eq(depth, 500);
    mw_decref(c);
    mw_decref(ok);
    mw_decref(deep);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);   // nothing leaked
    stop();
}
END_TEST

TCase *tcase_copy(void)
{
    TCase *tc = tcase_create("copy");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_shallow_vs_deep, 0, NMODES);
    tcase_add_loop_test(tc, test_copy_each_type, 0, NMODES);
    tcase_add_loop_test(tc, test_deepcopy_shared, 0, NMODES);
    tcase_add_loop_test(tc, test_deepcopy_cycles, 0, NMODES);
    tcase_add_loop_test(tc, test_deepcopy_tuples, 0, NMODES);
    tcase_add_loop_test(tc, test_copy_user_type, 0, NMODES);
    tcase_add_loop_test(tc, test_deepcopy_too_deep, 0, NMODES);
    return tc;
}
