/*
 * test_types.c - the scalar and sequence types: int values and checked
 * arithmetic, strs with embedded NULs, hashing and equality, tuples and
 * lists (dicts and sets are in test_containers.c).
 */
#include "test_object.h"

#include <stdlib.h>
#include <string.h>

START_TEST(test_int_round_trip)
{
    start(MODE(_i));
    const int64_t values[] = {0, 1, -1, -5, -6, 256, 257, 1000, -1000,
                              INT32_MAX, INT32_MIN, (int64_t)1 << 40,
                              INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        mw_object *o = mw_int(values[i]);
        REQUIRE(o != NULL);
        REQUIRE(mw_type_of(o) == &mw_int_type);
        REQUIREF(mw_int_value(o) == values[i], "value %lld", (long long)values[i]);
        ASSERT_NO_ERR();
        mw_decref(o);
    }
    stop();
}
END_TEST

START_TEST(test_int_arithmetic)
{
    start(MODE(_i));
    mw_object *a = int_of(1000);
    mw_object *b = int_of(2000);
    ck_assert(take_int(mw_int_add(a, b)) == 3000);
    ck_assert(take_int(mw_int_sub(a, b)) == -1000);
    ck_assert(take_int(mw_int_mul(a, b)) == 2000000);
    // A result in the cache is the cached object.
    mw_object *m5 = mw_int_sub(mw_int(5), mw_int(10));
    ck_assert(mw_is(m5, mw_int(-5)));
    // The edges that still fit.
    mw_object *max = int_of(INT64_MAX);
    mw_object *min = int_of(INT64_MIN);
    ck_assert(take_int(mw_int_add(max, min)) == -1);
    ck_assert(take_int(mw_int_sub(max, mw_int(1))) == INT64_MAX - 1);
    ck_assert(take_int(mw_int_mul(min, mw_int(1))) == INT64_MIN);
    ck_assert(take_int(mw_int_add(min, mw_int(0))) == INT64_MIN);
    ASSERT_NO_ERR();
    // The operands keep their counts.
    ck_assert_int_eq(mw_refcnt(a), 1);
    ck_assert_int_eq(mw_refcnt(max), 1);
    mw_decref(a);
    mw_decref(b);
    mw_decref(max);
    mw_decref(min);
    stop();
}
END_TEST

/* Overflow is NULL with MW_ERR_OVERFLOW, readable until cleared. */
START_TEST(test_int_overflow)
{
    start(MODE(_i));
    mw_object *max = int_of(INT64_MAX);
    mw_object *min = int_of(INT64_MIN);
    mw_object *two32 = int_of((int64_t)1 << 32);
    mw_object *one = mw_int(1);
    mw_object *m1 = mw_int(-1);
    mw_object *two = mw_int(2);
    struct {
        mw_object *(*op)(mw_object *, mw_object *);
        mw_object *x, *y;
    } cases[] = {
        {mw_int_add, max, one},  {mw_int_add, min, m1},   {mw_int_add, max, max},
        {mw_int_sub, min, one},  {mw_int_sub, max, m1},   {mw_int_sub, min, max},
        {mw_int_mul, max, two},  {mw_int_mul, min, m1},   {mw_int_mul, m1, min},
        {mw_int_mul, two32, two32},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        REQUIRE(mw_err_occurred() == MW_ERR_NONE);
        mw_object *r = cases[i].op(cases[i].x, cases[i].y);
        REQUIREF(r == NULL, "case %zu did not overflow", i);
        REQUIRE(mw_err_occurred() == MW_ERR_OVERFLOW);
        ck_assert_str_ne(mw_err_message(), "");
        ck_assert_str_eq(mw_err_name(MW_ERR_OVERFLOW), "OverflowError");
        mw_err_clear();
        REQUIRE(mw_err_occurred() == MW_ERR_NONE);
        ck_assert_str_eq(mw_err_message(), "");
    }
    ck_assert_int_eq(mw_refcnt(max), 1);
    ck_assert_int_eq(mw_refcnt(min), 1);
    // Not an int: a type error, not an overflow.
    mw_object *s = mw_str("12");
    ck_assert_ptr_null(mw_int_add(one, s));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_int_mul(s, one));
    ASSERT_ERR(MW_ERR_TYPE);
    // mw_int_value's -1 is an error only when the error is set.
    ck_assert(mw_int_value(s) == -1);
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert(mw_int_value(m1) == -1);
    ASSERT_NO_ERR();
    mw_decref(s);
    mw_decref(max);
    mw_decref(min);
    mw_decref(two32);
    stop();
}
END_TEST

START_TEST(test_str_bytes)
{
    start(MODE(_i));
    static const char raw[] = "a\0b\0c";
    mw_object *s = mw_str_n(raw, 5);
    ck_assert_ptr_nonnull(s);
    ck_assert(mw_type_of(s) == &mw_str_type);
    size_t len = 0;
    const char *data = mw_str_data(s, &len);
    ck_assert_uint_eq(len, 5);
    ck_assert_uint_eq(mw_str_len(s), 5);
    ck_assert_mem_eq(data, raw, 5);
    ck_assert_int_eq(data[5], '\0');

    mw_object *same = mw_str_n(raw, 5);
    mw_object *diff = mw_str_n("a\0b\0d", 5);
    mw_object *prefix = mw_str(raw);   // stops at the first NUL: "a"
    ck_assert_uint_eq(mw_str_len(prefix), 1);
    ck_assert_int_eq(mw_equal(s, same), 1);
    ck_assert(mw_hash(s) == mw_hash(same));
    ck_assert_int_eq(mw_equal(s, diff), 0);
    ck_assert_int_eq(mw_equal(s, prefix), 0);

    // A str larger than the small-object limit.
    size_t n = 10000;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < n; i++) {
        big[i] = (char)(i * 7);
    }
    mw_object *b = mw_str_n(big, n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(mw_str_len(b), n);
    ck_assert_mem_eq(mw_str_data(b, NULL), big, n);
    free(big);
    ASSERT_NO_ERR();
    mw_decref(b);
    mw_decref(s);
    mw_decref(same);
    mw_decref(diff);
    mw_decref(prefix);
    stop();
}
END_TEST

START_TEST(test_hash)
{
    start(MODE(_i));
    mw_object *s1 = mw_str("hash me");
    mw_object *s2 = mw_str("hash me");
    ck_assert(mw_hash(s1) != -1);
    ck_assert(mw_hash(s1) == mw_hash(s2));
    ck_assert(mw_hash(mw_int(-1)) != -1);   // -1 is reserved for errors
    ASSERT_NO_ERR();
    mw_object *i1 = int_of(123456);
    mw_object *i2 = int_of(123456);
    ck_assert(mw_hash(i1) == mw_hash(i2));

    mw_object *a[] = {i1, s1, mw_none(), mw_true()};
    mw_object *b[] = {i2, s2, mw_none(), mw_true()};
    mw_object *t1 = mw_tuple_new(4, a);
    mw_object *t2 = mw_tuple_new(4, b);
    ck_assert_ptr_nonnull(t1);
    ck_assert_ptr_nonnull(t2);
    ck_assert(!mw_is(t1, t2));
    ck_assert_int_eq(mw_equal(t1, t2), 1);
    ck_assert(mw_hash(t1) != -1);
    ck_assert(mw_hash(t1) == mw_hash(t2));
    mw_object *nested1 = mw_tuple_new(1, &t1);
    mw_object *nested2 = mw_tuple_new(1, &t2);
    ck_assert(mw_hash(nested1) == mw_hash(nested2));
    ASSERT_NO_ERR();

    // Unhashable: the mutable containers, and a tuple holding one.
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    mw_object *st = mw_set_new();
    mw_object *unhashable[] = {l, d, st};
    for (size_t i = 0; i < 3; i++) {
        REQUIRE(mw_hash(unhashable[i]) == -1);
        ASSERT_ERR(MW_ERR_TYPE);
    }
    mw_object *tl = mw_tuple_new(1, &l);
    ck_assert(mw_hash(tl) == -1);
    ASSERT_ERR(MW_ERR_TYPE);

    mw_decref(tl);
    mw_decref(l);
    mw_decref(d);
    mw_decref(st);
    mw_decref(nested1);
    mw_decref(nested2);
    mw_decref(t1);
    mw_decref(t2);
    mw_decref(i1);
    mw_decref(i2);
    mw_decref(s1);
    mw_decref(s2);
    stop();
}
END_TEST

/* mw_equal is value equality for every built-in type. */
START_TEST(test_equal_values)
{
    start(MODE(_i));
    mw_object *l1 = mw_list_new();
    mw_object *l2 = mw_list_new();
    mw_object *d1 = mw_dict_new();
    mw_object *d2 = mw_dict_new();
    mw_object *s1 = mw_set_new();
    mw_object *s2 = mw_set_new();
    for (int64_t v = 1000; v < 1003; v++) {
        mw_object *x = int_of(v);
        mw_object *y = int_of(v);
        REQUIRE(mw_list_append(l1, x) == 0);
        REQUIRE(mw_list_append(l2, y) == 0);
        REQUIRE(mw_dict_set(d1, x, y) == 0);
        REQUIRE(mw_dict_set(d2, y, x) == 0);
        REQUIRE(mw_set_add(s1, x) == 0);
        REQUIRE(mw_set_add(s2, y) == 0);
        mw_decref(x);
        mw_decref(y);
    }
    ck_assert_int_eq(mw_equal(l1, l2), 1);
    ck_assert_msg(mw_equal(d1, d2) == 1, "two equal dicts compare unequal");
    ck_assert_msg(mw_equal(s1, s2) == 1, "two equal sets compare unequal");
    ck_assert_int_eq(mw_list_append(l2, mw_none()), 0);
    ck_assert_int_eq(mw_equal(l1, l2), 0);
    ck_assert_int_eq(mw_equal(l1, d1), 0);
    mw_decref(l1);
    mw_decref(l2);
    mw_decref(d1);
    mw_decref(d2);
    mw_decref(s1);
    mw_decref(s2);
    stop();
}
END_TEST

START_TEST(test_tuple)
{
    start(MODE(_i));
    mw_object *x = int_of(5000);
    mw_object *y = mw_str("tuple item");
    mw_object *items[] = {x, y, x};
    mw_object *t = mw_tuple_new(3, items);
    ck_assert_ptr_nonnull(t);
    ck_assert(mw_type_of(t) == &mw_tuple_type);
    ck_assert_uint_eq(mw_tuple_len(t), 3);
    ck_assert_int_eq(mw_refcnt(x), 3);
    ck_assert_int_eq(mw_refcnt(y), 2);
    for (size_t i = 0; i < 3; i++) {
        mw_object *got = mw_tuple_get(t, i);
        REQUIRE(mw_is(got, items[i]));
        mw_decref(got);
    }
    ck_assert_ptr_null(mw_tuple_get(t, 3));
    ASSERT_ERR(MW_ERR_INDEX);
    mw_decref(t);
    ck_assert_int_eq(mw_refcnt(x), 1);
    ck_assert_int_eq(mw_refcnt(y), 1);

    mw_object *e1 = mw_tuple_new(0, NULL);
    mw_object *e2 = mw_tuple_new(0, items);
    ck_assert_ptr_nonnull(e1);
    ck_assert(mw_is(e1, e2));
    ck_assert(mw_is_immortal(e1));
    ck_assert_uint_eq(mw_tuple_len(e1), 0);
    mw_decref(e1);
    mw_decref(e2);
    mw_decref(x);
    mw_decref(y);
    stop();
}
END_TEST

START_TEST(test_list)
{
    start(MODE(_i));
    mw_object *l = mw_list_new();
    ck_assert_ptr_nonnull(l);
    ck_assert(mw_type_of(l) == &mw_list_type);
    ck_assert_uint_eq(mw_list_len(l), 0);
    for (int64_t v = 0; v < 1000; v++) {
        mw_object *o = int_of(10000 + v);
        REQUIRE(mw_list_append(l, o) == 0);
        mw_decref(o);
    }
    ck_assert_uint_eq(mw_list_len(l), 1000);
    for (ptrdiff_t i = 0; i < 1000; i++) {
        REQUIRE(take_int(mw_list_get(l, i)) == 10000 + i);
        REQUIRE(take_int(mw_list_get(l, -1 - i)) == 10999 - i);
    }
    ck_assert_ptr_null(mw_list_get(l, 1000));
    ASSERT_ERR(MW_ERR_INDEX);
    ck_assert_ptr_null(mw_list_get(l, -1001));
    ASSERT_ERR(MW_ERR_INDEX);

    // set replaces the item and drops the old one's reference.
    mw_object *old = mw_list_get(l, 3);
    ck_assert_int_eq(mw_refcnt(old), 2);
    mw_object *nw = mw_str("replacement");
    ck_assert_int_eq(mw_list_set(l, 3, nw), 0);
    ck_assert_int_eq(mw_refcnt(old), 1);
    ck_assert_int_eq(mw_refcnt(nw), 2);
    mw_decref(old);
    ck_assert_int_eq(mw_list_set(l, -1, nw), 0);
    ck_assert_int_eq(mw_refcnt(nw), 3);
    mw_object *last = mw_list_get(l, 999);
    ck_assert(mw_is(last, nw));
    mw_decref(last);
    ck_assert_int_eq(mw_list_set(l, 1000, nw), -1);
    ASSERT_ERR(MW_ERR_INDEX);
    ck_assert_int_eq(mw_list_set(l, -1001, nw), -1);
    ASSERT_ERR(MW_ERR_INDEX);
    ck_assert_uint_eq(mw_list_len(l), 1000);
    mw_decref(l);
    ck_assert_int_eq(mw_refcnt(nw), 1);
    mw_decref(nw);
    stop();
}
END_TEST

TCase *tcase_types(void)
{
    TCase *tc = tcase_create("types");
    tcase_add_loop_test(tc, test_int_round_trip, 0, NMODES);
    tcase_add_loop_test(tc, test_int_arithmetic, 0, NMODES);
    tcase_add_loop_test(tc, test_int_overflow, 0, NMODES);
    tcase_add_loop_test(tc, test_str_bytes, 0, NMODES);
    tcase_add_loop_test(tc, test_hash, 0, NMODES);
    tcase_add_loop_test(tc, test_equal_values, 0, NMODES);
    tcase_add_loop_test(tc, test_tuple, 0, NMODES);
    tcase_add_loop_test(tc, test_list, 0, NMODES);
    return tc;
}
