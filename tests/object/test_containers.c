/*
 * test_containers.c - dicts and sets: set/get/del, counts, insertion order
 * after deletions and re-insertions, 100000-entry tables (many resizes),
 * equal-but-distinct keys, unhashable keys, the table inside a small dict
 * or set.
 */
#include "test_object.h"

#include <stdio.h>

/* The key and value of d's i-th item, as ints (new references dropped). */
static void item_ints(mw_object *d, size_t i, int64_t *k, int64_t *v)
{
    mw_object *key = NULL;
    mw_object *value = NULL;
    REQUIRE(mw_dict_item(d, i, &key, &value) == 0);
    *k = take_int(key);
    *v = take_int(value);
}

START_TEST(test_dict_basic)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    ck_assert_ptr_nonnull(d);
    ck_assert(mw_type_of(d) == &mw_dict_type);
    ck_assert_uint_eq(mw_dict_len(d), 0);
    mw_object *k = mw_str("key");
    mw_object *v = int_of(4242);
    ck_assert_int_eq(mw_dict_set(d, k, v), 0);
    ck_assert_int_eq(mw_refcnt(k), 2);
    ck_assert_int_eq(mw_refcnt(v), 2);
    ck_assert_uint_eq(mw_dict_len(d), 1);

    // An equal key that is another object finds the entry.
    mw_object *k2 = mw_str("key");
    mw_object *got = mw_dict_get(d, k2);
    ck_assert(mw_is(got, v));
    ck_assert_int_eq(mw_refcnt(v), 3);
    mw_decref(got);

    // Overwriting through the equal key: one entry, the old value released.
    mw_object *v2 = int_of(4343);
    ck_assert_int_eq(mw_dict_set(d, k2, v2), 0);
    ck_assert_uint_eq(mw_dict_len(d), 1);
    ck_assert_int_eq(mw_refcnt(v), 1);
    ck_assert(take_int(mw_dict_get(d, k)) == 4343);

    mw_object *missing = mw_str("missing");
    ck_assert_ptr_null(mw_dict_get(d, missing));
    ASSERT_ERR(MW_ERR_KEY);
    ck_assert_int_eq(mw_dict_del(d, missing), -1);
    ASSERT_ERR(MW_ERR_KEY);

    ck_assert_int_eq(mw_dict_del(d, k2), 0);
    ck_assert_uint_eq(mw_dict_len(d), 0);
    ck_assert_int_eq(mw_refcnt(k), 1);
    ck_assert_int_eq(mw_refcnt(v2), 1);
    ck_assert_ptr_null(mw_dict_get(d, k));
    ASSERT_ERR(MW_ERR_KEY);
    ck_assert_int_eq(mw_dict_del(d, k), -1);
    ASSERT_ERR(MW_ERR_KEY);

    // Tuples, None and bools are keys too.
    mw_object *tk = mw_tuple_new(2, (mw_object *[]){k, v});
    ck_assert_int_eq(mw_dict_set(d, tk, mw_none()), 0);
    ck_assert_int_eq(mw_dict_set(d, mw_none(), mw_true()), 0);
    ck_assert(mw_is(mw_dict_get(d, mw_none()), mw_true()));
    ck_assert(mw_is(mw_dict_get(d, tk), mw_none()));
    ck_assert_uint_eq(mw_dict_len(d), 2);

    mw_decref(d);
    ck_assert_int_eq(mw_refcnt(tk), 1);
    mw_decref(tk);
    mw_decref(missing);
    mw_decref(k);
    mw_decref(k2);
    mw_decref(v);
    mw_decref(v2);
    stop();
}
END_TEST

/* Items come back in insertion order; an overwrite keeps its place, a
 * deleted and re-inserted key goes to the end. */
START_TEST(test_dict_order)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    for (int64_t i = 0; i < 10; i++) {
        REQUIRE(mw_dict_set(d, mw_int(i), mw_int(i * 10)) == 0);
    }
    ck_assert_int_eq(mw_dict_del(d, mw_int(3)), 0);
    ck_assert_int_eq(mw_dict_del(d, mw_int(7)), 0);
    ck_assert_int_eq(mw_dict_set(d, mw_int(3), mw_int(33)), 0);
    ck_assert_int_eq(mw_dict_set(d, mw_int(5), mw_int(55)), 0);
    const int64_t keys[] = {0, 1, 2, 4, 5, 6, 8, 9, 3};
    const int64_t values[] = {0, 10, 20, 40, 55, 60, 80, 90, 33};
    ck_assert_uint_eq(mw_dict_len(d), 9);
    for (size_t i = 0; i < 9; i++) {
        int64_t k, v;
        item_ints(d, i, &k, &v);
        ck_assert_msg(k == keys[i] && v == values[i], "item %zu: %lld: %lld", i,
                      (long long)k, (long long)v);
    }
    ck_assert_int_eq(mw_dict_item(d, 9, NULL, NULL), -1);
    ASSERT_ERR(MW_ERR_INDEX);

    // Many deletions and re-insertions force rebuilds that squeeze holes.
    for (int64_t round = 0; round < 50; round++) {
        for (int64_t i = 0; i < 200; i++) {
            REQUIRE(mw_dict_set(d, mw_int(i + 20), mw_int(round)) == 0);
        }
        for (int64_t i = 0; i < 200; i += 2) {
            REQUIRE(mw_dict_del(d, mw_int(i + 20)) == 0);
        }
    }
    // The first nine keep their order.  The odd keys were inserted in round
    // 0 and only overwritten since, so they follow in their first order.
    ck_assert_uint_eq(mw_dict_len(d), 9 + 100);
    for (size_t i = 0; i < 9; i++) {
        int64_t k, v;
        item_ints(d, i, &k, &v);
        REQUIRE(k == keys[i] && v == values[i]);
    }
    for (size_t i = 0; i < 100; i++) {
        int64_t k, v;
        item_ints(d, 9 + i, &k, &v);
        ck_assert_msg(k == (int64_t)(21 + 2 * i) && v == 49, "item %zu: %lld: %lld",
                      9 + i, (long long)k, (long long)v);
    }
    mw_decref(d);
    stop();
}
END_TEST

#define BIG 100000

START_TEST(test_dict_big_int_keys)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    for (int64_t i = 0; i < BIG; i++) {
        mw_object *k = int_of(i * 7919 - 50000);   // negatives, cached, large
        mw_object *v = int_of(i);
        REQUIRE(mw_dict_set(d, k, v) == 0);
        mw_decref(k);
        mw_decref(v);
    }
    ck_assert_uint_eq(mw_dict_len(d), BIG);
    for (int64_t i = 0; i < BIG; i++) {
        mw_object *k = int_of(i * 7919 - 50000);
        REQUIRE(take_int(mw_dict_get(d, k)) == i);
        mw_decref(k);
    }
    for (int64_t i = 0; i < BIG; i += 2) {
        mw_object *k = int_of(i * 7919 - 50000);
        REQUIRE(mw_dict_del(d, k) == 0);
        mw_decref(k);
    }
    ck_assert_uint_eq(mw_dict_len(d), BIG / 2);
    for (int64_t i = 0; i < BIG; i++) {
        mw_object *k = int_of(i * 7919 - 50000);
        mw_object *v = mw_dict_get(d, k);
        if (i % 2 == 0) {
            REQUIRE(v == NULL);
            ASSERT_ERR(MW_ERR_KEY);
        } else {
            REQUIRE(take_int(v) == i);
        }
        mw_decref(k);
    }
    int64_t k0, v0;
    item_ints(d, 0, &k0, &v0);
    ck_assert(k0 == 7919 - 50000 && v0 == 1);
    mw_decref(d);
    stop();
}
END_TEST

START_TEST(test_dict_big_str_keys)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    char buf[32];
    for (int i = 0; i < BIG; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        mw_object *k = mw_str(buf);
        mw_object *v = int_of(i);
        REQUIRE(mw_dict_set(d, k, v) == 0);
        mw_decref(k);
        mw_decref(v);
    }
    ck_assert_uint_eq(mw_dict_len(d), BIG);
    for (int i = 0; i < BIG; i++) {
        snprintf(buf, sizeof buf, "key-%d", i);
        mw_object *k = mw_str(buf);
        REQUIREF(take_int(mw_dict_get(d, k)) == i, "%s", buf);
        mw_decref(k);
    }
    mw_object *k = mw_str("key-100000");
    ck_assert_ptr_null(mw_dict_get(d, k));
    ASSERT_ERR(MW_ERR_KEY);
    mw_decref(k);
    mw_object *last = NULL;
    ck_assert_int_eq(mw_dict_item(d, BIG - 1, &last, NULL), 0);
    ck_assert_str_eq(mw_str_data(last, NULL), "key-99999");
    mw_decref(last);
    mw_decref(d);
    stop();
}
END_TEST

START_TEST(test_dict_unhashable)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_dict_set(d, l, mw_none()), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_uint_eq(mw_dict_len(d), 0);
    ck_assert_int_eq(mw_refcnt(l), 1);
    ck_assert_ptr_null(mw_dict_get(d, l));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_int_eq(mw_dict_del(d, l), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    mw_object *tl = mw_tuple_new(1, &l);
    ck_assert_int_eq(mw_dict_set(d, tl, mw_none()), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    // As a value a list is fine.
    ck_assert_int_eq(mw_dict_set(d, mw_none(), l), 0);
    ck_assert_int_eq(mw_refcnt(l), 3);
    mw_decref(tl);
    mw_decref(d);
    ck_assert_int_eq(mw_refcnt(l), 1);
    mw_decref(l);
    stop();
}
END_TEST

/* The smallest table lives in the set object (as for dicts, above): a set
 * of one or two keys that keeps changing rebuilds in place, one that grew
 * and shrank moves back into it, and copies and equality see its keys. */
START_TEST(test_set_small_table)
{
    start(MODE(_i));
    mw_object *s = mw_set_new();
    mw_object *keys[100];
    for (int64_t i = 0; i < 100; i++) {
        keys[i] = int_of(1000 + i);
    }
    REQUIRE(mw_set_add(s, keys[0]) == 0);
    for (int64_t i = 1; i < 100; i++) {
        REQUIRE(mw_set_add(s, keys[i]) == 0);
        if (i >= 2) {
            REQUIRE(mw_set_discard(s, keys[i - 1]) == 1);
        }
        REQUIRE(mw_set_len(s) == 2);
    }
    ck_assert_int_eq(mw_set_contains(s, keys[0]), 1);
    ck_assert_int_eq(mw_set_contains(s, keys[99]), 1);
    ck_assert_int_eq(mw_set_contains(s, keys[50]), 0);
    for (int64_t i = 1; i < 99; i++) {
        ck_assert_int_eq(mw_refcnt(keys[i]), 1);
    }
    // Grow to 100 keys, discard all but one, churn until rebuilt small.
    for (int64_t i = 0; i < 100; i++) {
        REQUIRE(mw_set_add(s, keys[i]) == 0);
    }
    ck_assert_uint_eq(mw_set_len(s), 100);
    for (int64_t i = 0; i < 100; i++) {
        if (i != 42) {
            REQUIRE(mw_set_discard(s, keys[i]) == 1);
        }
    }
    for (int64_t round = 0; round < 300; round++) {
        mw_object *t = keys[round % 3];
        REQUIRE(mw_set_add(s, t) == 0);
        REQUIRE(mw_set_discard(s, t) == 1);
    }
    ck_assert_uint_eq(mw_set_len(s), 1);
    ck_assert_int_eq(mw_set_contains(s, keys[42]), 1);
    mw_object *c = mw_copy(s);
    ck_assert_int_eq(mw_equal(c, s), 1);
    for (int64_t i = 0; i < 5; i++) {
        REQUIRE(mw_set_add(c, keys[i]) == 0);   // past the inline table's 4
    }
    ck_assert_uint_eq(mw_set_len(c), 6);
    for (int64_t i = 0; i < 5; i++) {
        ck_assert_int_eq(mw_set_contains(c, keys[i]), 1);
    }
    ck_assert_int_eq(mw_equal(c, s), 0);
    mw_decref(c);
    mw_decref(s);
    for (int64_t i = 0; i < 100; i++) {
        ck_assert_int_eq(mw_refcnt(keys[i]), 1);
        mw_decref(keys[i]);
    }
    stop();
}
END_TEST

/* The smallest table lives in the dict object: holes squeezed out in place
 * when a dict of a few items keeps changing, a dict that grew and shrank
 * back moves into it again, and clearing and refilling it works.  Keys are
 * ints 1000+ (not cached) so that counts can be checked. */
START_TEST(test_dict_small_table)
{
    start(MODE(_i));
    mw_object *d = mw_dict_new();
    mw_object *keys[200];
    for (int64_t i = 0; i < 200; i++) {
        keys[i] = int_of(1000 + i);
    }
    // Two live items, inserted and deleted over and over: every sixth
    // insert or so finds the five entries used and rebuilds in place.
    REQUIRE(mw_dict_set(d, keys[0], keys[0]) == 0);
    for (int64_t i = 1; i < 100; i++) {
        REQUIRE(mw_dict_set(d, keys[i], keys[i]) == 0);
        if (i >= 2) {
            REQUIRE(mw_dict_del(d, keys[i - 1]) == 0);
        }
        REQUIRE(mw_dict_len(d) == 2);
    }
    int64_t k, v;
    item_ints(d, 0, &k, &v);
    ck_assert(k == 1000 && v == 1000);
    item_ints(d, 1, &k, &v);
    ck_assert(k == 1099 && v == 1099);
    for (int64_t i = 1; i < 99; i++) {
        ck_assert_int_eq(mw_refcnt(keys[i]), 1);
    }
    // Grow to 200 items (tables of their own), delete all but two, then
    // insert and delete until a rebuild brings it back to the inline table
    // (and squeezes it in place there, as above).
    for (int64_t i = 0; i < 200; i++) {
        REQUIRE(mw_dict_set(d, keys[i], keys[199 - i]) == 0);
    }
    ck_assert_uint_eq(mw_dict_len(d), 200);
    for (int64_t i = 0; i < 200; i++) {
        if (i != 50 && i != 150) {
            REQUIRE(mw_dict_del(d, keys[i]) == 0);
        }
    }
    ck_assert_uint_eq(mw_dict_len(d), 2);
    for (int64_t round = 0; round < 400; round++) {
        mw_object *t = keys[round % 5];   // 0..4: not among the two kept
        REQUIRE(mw_dict_set(d, t, t) == 0);
        REQUIRE(mw_dict_del(d, t) == 0);
    }
    const int64_t kept[] = {50, 150};
    ck_assert_uint_eq(mw_dict_len(d), 2);
    for (size_t i = 0; i < 2; i++) {
        item_ints(d, i, &k, &v);
        ck_assert(k == 1000 + kept[i] && v == 1000 + 199 - kept[i]);
        mw_object *got = mw_dict_get(d, keys[kept[i]]);
        ck_assert(mw_is(got, keys[199 - kept[i]]));
        mw_decref(got);
    }
    // A copy, equality, and filling it to five (the inline capacity) and six.
    mw_object *c = mw_copy(d);
    ck_assert_int_eq(mw_equal(c, d), 1);
    REQUIRE(mw_dict_set(c, keys[6], keys[6]) == 0);
    REQUIRE(mw_dict_set(c, keys[7], keys[7]) == 0);
    REQUIRE(mw_dict_set(c, keys[8], keys[8]) == 0);
    ck_assert_uint_eq(mw_dict_len(c), 5);
    REQUIRE(mw_dict_set(c, keys[9], keys[9]) == 0);
    ck_assert_uint_eq(mw_dict_len(c), 6);
    ck_assert_int_eq(mw_equal(c, d), 0);
    item_ints(c, 5, &k, &v);
    ck_assert(k == 1009 && v == 1009);
    mw_decref(c);
    mw_decref(d);
    for (int64_t i = 0; i < 200; i++) {
        ck_assert_int_eq(mw_refcnt(keys[i]), 1);
        mw_decref(keys[i]);
    }
    stop();
}
END_TEST

START_TEST(test_set)
{
    start(MODE(_i));
    mw_object *s = mw_set_new();
    ck_assert_ptr_nonnull(s);
    ck_assert(mw_type_of(s) == &mw_set_type);
    mw_object *a = mw_str("member");
    mw_object *a2 = mw_str("member");
    ck_assert_int_eq(mw_set_contains(s, a), 0);
    ck_assert_int_eq(mw_set_add(s, a), 0);
    ck_assert_int_eq(mw_refcnt(a), 2);
    // A duplicate (equal, another object) is not added nor counted.
    ck_assert_int_eq(mw_set_add(s, a2), 0);
    ck_assert_int_eq(mw_set_add(s, a), 0);
    ck_assert_uint_eq(mw_set_len(s), 1);
    ck_assert_int_eq(mw_refcnt(a), 2);
    ck_assert_int_eq(mw_refcnt(a2), 1);
    ck_assert_int_eq(mw_set_contains(s, a2), 1);
    ck_assert_int_eq(mw_set_discard(s, a2), 1);
    ck_assert_int_eq(mw_refcnt(a), 1);
    ck_assert_int_eq(mw_set_discard(s, a2), 0);
    ck_assert_int_eq(mw_set_contains(s, a), 0);
    ck_assert_uint_eq(mw_set_len(s), 0);
    ASSERT_NO_ERR();

    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_set_add(s, l), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_int_eq(mw_set_contains(s, l), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_int_eq(mw_set_discard(s, l), -1);
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_int_eq(mw_refcnt(l), 1);
    mw_decref(l);

    // 100000 members, each added twice; then half discarded and re-added.
    for (int64_t i = 0; i < 2 * BIG; i++) {
        mw_object *k = int_of((i % BIG) * 31 - 1000);
        REQUIRE(mw_set_add(s, k) == 0);
        mw_decref(k);
    }
    ck_assert_uint_eq(mw_set_len(s), BIG);
    for (int64_t i = 0; i < BIG; i += 2) {
        mw_object *k = int_of(i * 31 - 1000);
        REQUIRE(mw_set_discard(s, k) == 1);
        mw_decref(k);
    }
    ck_assert_uint_eq(mw_set_len(s), BIG / 2);
    for (int64_t i = 0; i < BIG; i++) {
        mw_object *k = int_of(i * 31 - 1000);
        REQUIRE(mw_set_contains(s, k) == (i % 2));
        mw_decref(k);
    }
    for (int64_t i = 0; i < BIG; i += 2) {
        mw_object *k = int_of(i * 31 - 1000);
        REQUIRE(mw_set_add(s, k) == 0);
        mw_decref(k);
    }
    ck_assert_uint_eq(mw_set_len(s), BIG);
    ck_assert_int_eq(mw_set_add(s, a), 0);
    ck_assert_int_eq(mw_set_contains(s, a2), 1);
    mw_decref(s);
    ck_assert_int_eq(mw_refcnt(a), 1);
    mw_decref(a);
    mw_decref(a2);
    stop();
}
END_TEST

TCase *tcase_containers(void)
{
    TCase *tc = tcase_create("containers");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_dict_basic, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_order, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_big_int_keys, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_big_str_keys, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_unhashable, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_small_table, 0, NMODES);
    tcase_add_loop_test(tc, test_set, 0, NMODES);
    tcase_add_loop_test(tc, test_set_small_table, 0, NMODES);
    return tc;
}
