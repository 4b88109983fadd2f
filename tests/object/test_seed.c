/*
 * test_seed.c - the seed's identity and reference-count examples in C:
 * which ints and strs are shared, what a rebinding, an append, a "del" and
 * a function call do to counts, and the immortal caches.
 */
#include "test_object.h"

/* x = 123; y = 123; x is y  -> True (small-int cache)
 * x = 1000; y = 1000; x is y -> False */
START_TEST(test_int_identity)
{
    start(MODE(_i));
    mw_object *a = mw_int(123);
    mw_object *b = mw_int(123);
    ck_assert(mw_is(a, b));
    mw_decref(a);
    mw_decref(b);

    mw_object *c = int_of(1000);
    mw_object *d = int_of(1000);
    ck_assert(!mw_is(c, d));
    ck_assert_int_eq(mw_equal(c, d), 1);
    ck_assert_int_eq(mw_refcnt(c), 1);
    ck_assert_int_eq(mw_refcnt(d), 1);
    mw_decref(c);
    mw_decref(d);
    stop();
}
END_TEST

/* 'n' is 'n' -> True; interned 'python' is 'python' -> True; two strs
 * built at run time are distinct but equal. */
START_TEST(test_str_identity)
{
    start(MODE(_i));
    mw_object *n1 = mw_str("n");
    mw_object *n2 = mw_str("n");
    ck_assert(mw_is(n1, n2));

    mw_object *p1 = mw_str_intern("python");
    mw_object *p2 = mw_str_intern("python");
    ck_assert_ptr_nonnull(p1);
    ck_assert(mw_is(p1, p2));
    ck_assert(mw_is_immortal(p1));

    mw_object *q1 = mw_str("python");
    mw_object *q2 = mw_str("python");
    ck_assert_ptr_nonnull(q1);
    ck_assert_ptr_nonnull(q2);
    ck_assert(!mw_is(q1, q2));
    ck_assert(!mw_is(q1, p1));
    ck_assert_int_eq(mw_equal(q1, q2), 1);
    ck_assert_int_eq(mw_equal(q1, p1), 1);
    ck_assert(mw_hash(q1) == mw_hash(q2));
    ck_assert(mw_hash(q1) == mw_hash(p1));
    ck_assert(!mw_is_immortal(q1));

    mw_object *other = mw_str_intern("pythons");
    ck_assert(!mw_is(other, p1));
    ck_assert_int_eq(mw_equal(other, p1), 0);

    mw_decref(q1);
    mw_decref(q2);
    mw_decref(p1);
    mw_decref(p2);
    mw_decref(n1);
    mw_decref(n2);
    stop();
}
END_TEST

/* a = b = 'nima'; b = 'other': a is untouched and has one reference less. */
START_TEST(test_rebind)
{
    start(MODE(_i));
    mw_object *a = mw_str("nima");
    ck_assert_int_eq(mw_refcnt(a), 1);
    mw_object *b = a;
    mw_incref(b);
    ck_assert(mw_is(a, b));
    ck_assert_int_eq(mw_refcnt(a), 2);

    mw_object *old = b;
    b = mw_str("something else");
    mw_decref(old);
    ck_assert(!mw_is(a, b));
    ck_assert_int_eq(mw_refcnt(a), 1);
    size_t len;
    ck_assert_str_eq(mw_str_data(a, &len), "nima");
    ck_assert_uint_eq(len, 4);
    ck_assert_str_eq(mw_str_data(b, NULL), "something else");
    mw_decref(a);
    mw_decref(b);
    stop();
}
END_TEST

/* l.append(b) takes exactly one reference to b. */
START_TEST(test_append_counts)
{
    start(MODE(_i));
    mw_object *b = mw_str("appended");
    mw_object *l = mw_list_new();
    ck_assert_ptr_nonnull(l);
    intptr_t before = mw_refcnt(b);
    ck_assert_int_eq(mw_list_append(l, b), 0);
    ck_assert_int_eq(mw_refcnt(b), before + 1);
    ck_assert_int_eq(mw_list_append(l, b), 0);
    ck_assert_int_eq(mw_refcnt(b), before + 2);
    mw_decref(l);   // the list's two references go with it
    ck_assert_int_eq(mw_refcnt(b), before);
    mw_decref(b);
    stop();
}
END_TEST

/* x = 300; y = x; z = [x, y]; del x; z[0] is still 300. */
START_TEST(test_del_keeps_list_item)
{
    start(MODE(_i));
    mw_object *x = int_of(300);
    mw_object *y = x;
    mw_incref(y);
    mw_object *z = mw_list_new();
    ck_assert_ptr_nonnull(z);
    ck_assert_int_eq(mw_list_append(z, x), 0);
    ck_assert_int_eq(mw_list_append(z, y), 0);
    ck_assert_int_eq(mw_refcnt(x), 4);   // x, y and two list slots

    mw_decref(x);   // del x
    x = NULL;
    ck_assert_int_eq(mw_refcnt(y), 3);
    mw_object *item = mw_list_get(z, 0);
    ck_assert(mw_is(item, y));
    ck_assert_int_eq(mw_refcnt(item), 4);   // plus the reference get gave
    ck_assert_int_eq(mw_int_value(item), 300);
    mw_decref(item);
    ck_assert_int_eq(mw_refcnt(y), 3);

    mw_decref(y);   // del y
    ck_assert_int_eq(take_int(mw_list_get(z, 1)), 300);
    mw_decref(z);
    stop();
}
END_TEST

/* A callee receives the caller's object itself, not a copy. */
static mw_object *stash(mw_object *into, mw_object *arg)
{
    mw_list_append(into, arg);
    return arg;
}

START_TEST(test_call_passes_object)
{
    start(MODE(_i));
    mw_object *arg = mw_str("argument");
    mw_object *into = mw_list_new();
    ck_assert_ptr_nonnull(into);
    mw_object *ret = stash(into, arg);
    ck_assert(mw_is(ret, arg));
    mw_object *stored = mw_list_get(into, 0);
    ck_assert(mw_is(stored, arg));
    ck_assert_int_eq(mw_refcnt(arg), 3);   // arg, the list, stored
    mw_decref(stored);
    mw_decref(into);
    ck_assert_int_eq(mw_refcnt(arg), 1);
    mw_decref(arg);
    stop();
}
END_TEST

/* -5..256 are cached and immortal; -6 and 257 are made fresh. */
START_TEST(test_small_int_cache)
{
    start(MODE(_i));
    for (int64_t v = -5; v <= 256; v++) {
        mw_object *a = mw_int(v);
        mw_object *b = mw_int(v);
        REQUIREF(mw_is(a, b), "mw_int(%lld) not shared", (long long)v);
        REQUIREF(mw_is_immortal(a), "mw_int(%lld) not immortal", (long long)v);
        REQUIRE(mw_int_value(a) == v);
        intptr_t rc = mw_refcnt(a);
        mw_decref(a);   // a no-op for immortals
        mw_decref(a);
        REQUIRE(mw_refcnt(a) == rc);
    }
    const int64_t outside[] = {-6, 257, -1000, 100000};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        mw_object *a = int_of(outside[i]);
        mw_object *b = int_of(outside[i]);
        REQUIREF(!mw_is(a, b), "mw_int(%lld) shared", (long long)outside[i]);
        REQUIRE(!mw_is_immortal(a));
        REQUIRE(mw_refcnt(a) == 1);
        mw_decref(a);
        mw_decref(b);
    }
    stop();
}
END_TEST

/* Every one-byte string, "\0" included, and the empty string are shared. */
START_TEST(test_one_byte_strs)
{
    start(MODE(_i));
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        mw_object *a = mw_str_n(&ch, 1);
        mw_object *b = mw_str_n(&ch, 1);
        REQUIRE(a != NULL);
        REQUIREF(mw_is(a, b), "byte %d not shared", c);
        REQUIREF(mw_is_immortal(a), "byte %d not immortal", c);
        size_t len = 0;
        const char *data = mw_str_data(a, &len);
        REQUIRE(len == 1);
        REQUIRE((unsigned char)data[0] == c);
        REQUIRE(data[1] == '\0');
        if (c != 0) {
            char s[2] = {ch, '\0'};
            REQUIRE(mw_is(mw_str(s), a));
            REQUIRE(mw_is(mw_str_intern(s), a));
        }
        mw_decref(a);
        mw_decref(b);
    }
    mw_object *e1 = mw_str("");
    mw_object *e2 = mw_str_n(NULL, 0);
    ck_assert_ptr_nonnull(e1);
    ck_assert(mw_is(e1, e2));
    ck_assert(mw_is_immortal(e1));
    ck_assert_uint_eq(mw_str_len(e1), 0);
    // Two bytes are not cached.
    mw_object *t1 = mw_str("ab");
    mw_object *t2 = mw_str("ab");
    ck_assert(!mw_is(t1, t2));
    mw_decref(t1);
    mw_decref(t2);
    stop();
}
END_TEST

/* None, True, False are immortal singletons. */
START_TEST(test_singletons)
{
    start(MODE(_i));
    ck_assert(mw_is(mw_none(), mw_none()));
    ck_assert(mw_is(mw_bool(true), mw_true()));
    ck_assert(mw_is(mw_bool(false), mw_false()));
    ck_assert(!mw_is(mw_true(), mw_false()));
    ck_assert(mw_is_immortal(mw_none()));
    ck_assert(mw_is_immortal(mw_true()));
    ck_assert(mw_is_immortal(mw_false()));
    intptr_t rc = mw_refcnt(mw_none());
    mw_incref(mw_none());
    mw_decref(mw_none());
    mw_decref(mw_none());
    ck_assert_int_eq(mw_refcnt(mw_none()), rc);
    ck_assert_int_eq(mw_int_value(mw_true()), 1);
    ck_assert_int_eq(mw_int_value(mw_false()), 0);
    stop();
}
END_TEST

TCase *tcase_seed(void)
{
    TCase *tc = tcase_create("seed");
    tcase_add_loop_test(tc, test_int_identity, 0, NMODES);
    tcase_add_loop_test(tc, test_str_identity, 0, NMODES);
    tcase_add_loop_test(tc, test_rebind, 0, NMODES);
    tcase_add_loop_test(tc, test_append_counts, 0, NMODES);
    tcase_add_loop_test(tc, test_del_keeps_list_item, 0, NMODES);
    tcase_add_loop_test(tc, test_call_passes_object, 0, NMODES);
    tcase_add_loop_test(tc, test_small_int_cache, 0, NMODES);
    tcase_add_loop_test(tc, test_one_byte_strs, 0, NMODES);
    tcase_add_loop_test(tc, test_singletons, 0, NMODES);
    return tc;
}
