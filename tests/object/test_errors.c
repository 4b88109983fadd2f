/*
 * test_errors.c - the errors the object layer reports: the per-thread
 * error state, wrong types, NULL arguments, indices and keys, sizes too
 * large, calls from threads that are not attached (or are inside a
 * blocking region), and misuse of the runtime and thread calls.  Running
 * out of memory is in test_nomem.c.
 */
#include "test_object.h"

#include <pthread.h>

/* Expect NULL with the error kind set (then cleared). */
#define EXPECT_NULL(expr, kind)                                             \
    do {                                                                    \
        mw_err_clear();                                                     \
        const void *r_ = (expr);                                            \
        REQUIREF(r_ == NULL, "%s returned an object", #expr);               \
        ASSERT_ERR(kind);                                                   \
    } while (0)

/* Expect the status (-1, (size_t)-1 ...) with the error kind set. */
#define EXPECT_STATUS(expr, status, kind)                                   \
    do {                                                                    \
        mw_err_clear();                                                     \
        REQUIREF((expr) == (status), "%s did not fail", #expr);             \
        ASSERT_ERR(kind);                                                   \
    } while (0)

START_TEST(test_wrong_type)
{
    start(MODE(_i));
    mw_object *i = int_of(777);
    mw_object *s = mw_str("text");
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    mw_object *st = mw_set_new();
    mw_object *t = mw_tuple_new(1, &i);
    EXPECT_STATUS(mw_list_append(i, s), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_append(d, s), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_int_value(s), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_str_data(i, NULL), MW_ERR_TYPE);
    EXPECT_STATUS(mw_str_len(l), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_list_get(t, 0), MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_set(t, 0, s), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_len(d), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_tuple_get(l, 0), MW_ERR_TYPE);
    EXPECT_STATUS(mw_tuple_len(l), (size_t)-1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_set(l, i, s), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_dict_get(st, i), MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_del(s, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_len(st), (size_t)-1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_item(l, 0, NULL, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_add(d, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_contains(l, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_discard(d, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_len(d), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_int_add(i, s), MW_ERR_TYPE);
    EXPECT_NULL(mw_int_sub(l, i), MW_ERR_TYPE);
    EXPECT_NULL(mw_int_mul(i, t), MW_ERR_TYPE);
    // Nothing was stored or leaked along the way.
    ck_assert_int_eq(mw_refcnt(s), 1);
    ck_assert_int_eq(mw_refcnt(i), 2);
    ck_assert_str_eq(mw_err_name(MW_ERR_TYPE), "TypeError");
    mw_decref(t);
    mw_decref(i);
    mw_decref(s);
    mw_decref(l);
    mw_decref(d);
    mw_decref(st);
    stop();
}
END_TEST

/* A NULL object argument is an error (MW_ERR_TYPE), never a crash. */
START_TEST(test_null_arguments)
{
    start(MODE(_i));
    mw_object *i = int_of(888);
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    mw_object *st = mw_set_new();
    mw_object *k = NULL;
    mw_object *v = NULL;
    EXPECT_STATUS(mw_list_append(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_append(l, NULL), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_list_get(NULL, 0), MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_set(NULL, 0, i), -1, MW_ERR_TYPE);
    ck_assert_int_eq(mw_list_append(l, i), 0);
    EXPECT_STATUS(mw_list_set(l, 0, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_list_len(NULL), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_tuple_new(1, NULL), MW_ERR_TYPE);
    mw_object *with_null[] = {i, NULL};
    EXPECT_NULL(mw_tuple_new(2, with_null), MW_ERR_TYPE);
    EXPECT_STATUS(mw_tuple_len(NULL), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_tuple_get(NULL, 0), MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_set(NULL, i, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_set(d, NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_set(d, i, NULL), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_dict_get(NULL, i), MW_ERR_TYPE);
    EXPECT_NULL(mw_dict_get(d, NULL), MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_del(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_del(d, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_len(NULL), (size_t)-1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_dict_item(NULL, 0, &k, &v), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_add(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_add(st, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_contains(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_contains(st, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_discard(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_discard(st, NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_set_len(NULL), (size_t)-1, MW_ERR_TYPE);
    EXPECT_NULL(mw_str(NULL), MW_ERR_TYPE);
    EXPECT_NULL(mw_str_n(NULL, 3), MW_ERR_TYPE);
    EXPECT_NULL(mw_str_intern(NULL), MW_ERR_TYPE);
    EXPECT_NULL(mw_str_data(NULL, NULL), MW_ERR_TYPE);
    EXPECT_STATUS(mw_str_len(NULL), (size_t)-1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_int_value(NULL), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_int_add(NULL, i), MW_ERR_TYPE);
    EXPECT_NULL(mw_int_sub(i, NULL), MW_ERR_TYPE);
    EXPECT_NULL(mw_int_mul(NULL, NULL), MW_ERR_TYPE);
    EXPECT_STATUS(mw_hash(NULL), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_equal(NULL, i), -1, MW_ERR_TYPE);
    EXPECT_STATUS(mw_equal(i, NULL), -1, MW_ERR_TYPE);
    EXPECT_NULL(mw_copy(NULL), MW_ERR_TYPE);
    EXPECT_NULL(mw_deepcopy(NULL), MW_ERR_TYPE);
    EXPECT_NULL(mw_new(NULL), MW_ERR_TYPE);
    // The calls that only read, or ignore NULL, do not fail.
    mw_incref(NULL);
    mw_decref(NULL);
    ck_assert_int_eq(mw_refcnt(NULL), 0);
    ck_assert(!mw_is_immortal(NULL));
    ck_assert_ptr_null(mw_type_of(NULL));
    ck_assert(mw_is(NULL, NULL));
    mw_config_default(NULL);
    ck_assert_int_eq(mw_runtime_lock_mode(NULL), MW_LOCK_GIL);
    ck_assert_int_eq(mw_runtime_free(NULL), MW_EINVAL);
    ck_assert_int_eq(mw_thread_attach(NULL), MW_EINVAL);
    ck_assert_int_eq(mw_refcnt(i), 2);
    mw_decref(i);
    mw_decref(l);
    mw_decref(d);
    mw_decref(st);
    stop();
}
END_TEST

START_TEST(test_index_and_key)
{
    start(MODE(_i));
    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, mw_int(1)), 0);
    ck_assert_int_eq(mw_list_append(l, mw_int(2)), 0);
    EXPECT_NULL(mw_list_get(l, 5), MW_ERR_INDEX);
    EXPECT_NULL(mw_list_get(l, 2), MW_ERR_INDEX);
    EXPECT_NULL(mw_list_get(l, -3), MW_ERR_INDEX);
    EXPECT_STATUS(mw_list_set(l, 2, mw_none()), -1, MW_ERR_INDEX);
    mw_object *empty = mw_list_new();
    EXPECT_NULL(mw_list_get(empty, 0), MW_ERR_INDEX);
    EXPECT_NULL(mw_list_get(empty, -1), MW_ERR_INDEX);
    mw_object *t = mw_tuple_new(1, &l);
    EXPECT_NULL(mw_tuple_get(t, 1), MW_ERR_INDEX);
    EXPECT_NULL(mw_tuple_get(t, (size_t)-1), MW_ERR_INDEX);
    EXPECT_NULL(mw_tuple_get(mw_tuple_new(0, NULL), 0), MW_ERR_INDEX);

    mw_object *d = mw_dict_new();
    mw_object *key = mw_str("absent");
    EXPECT_NULL(mw_dict_get(d, key), MW_ERR_KEY);
    EXPECT_STATUS(mw_dict_del(d, key), -1, MW_ERR_KEY);
    EXPECT_STATUS(mw_dict_item(d, 0, NULL, NULL), -1, MW_ERR_INDEX);
    ck_assert_int_eq(mw_dict_set(d, mw_int(1), key), 0);
    EXPECT_NULL(mw_dict_get(d, key), MW_ERR_KEY);
    EXPECT_NULL(mw_dict_get(d, mw_int(2)), MW_ERR_KEY);
    ck_assert_int_eq(mw_dict_del(d, mw_int(1)), 0);
    EXPECT_STATUS(mw_dict_del(d, mw_int(1)), -1, MW_ERR_KEY);
    ck_assert_str_eq(mw_err_name(MW_ERR_KEY), "KeyError");
    ck_assert_str_eq(mw_err_name(MW_ERR_INDEX), "IndexError");
    ck_assert_int_eq(mw_refcnt(key), 1);
    mw_decref(key);
    mw_decref(d);
    mw_decref(t);
    mw_decref(empty);
    mw_decref(l);
    stop();
}
END_TEST

/* Object calls from a thread that is not attached fail with MW_ERR_STATE;
 * the caches answer without a thread. */
START_TEST(test_not_attached)
{
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = MODE(_i);
    EXPECT_NULL(mw_list_new(), MW_ERR_STATE);   // no runtime at all
    test_rt = mw_runtime_new(&cfg);
    ck_assert_ptr_nonnull(test_rt);
    ck_assert(!mw_thread_is_attached());
    EXPECT_NULL(mw_list_new(), MW_ERR_STATE);
    EXPECT_NULL(mw_dict_new(), MW_ERR_STATE);
    EXPECT_NULL(mw_set_new(), MW_ERR_STATE);
    EXPECT_NULL(mw_int(1000), MW_ERR_STATE);
    EXPECT_NULL(mw_str("not attached"), MW_ERR_STATE);
    EXPECT_NULL(mw_str_n("ab", 2), MW_ERR_STATE);
    EXPECT_NULL(mw_str_intern("not attached"), MW_ERR_STATE);
    mw_object *five = mw_int(5);   // cached: no thread needed
    ck_assert_ptr_nonnull(five);
    ck_assert_ptr_nonnull(mw_str("x"));
    ASSERT_NO_ERR();
    EXPECT_NULL(mw_tuple_new(1, &five), MW_ERR_STATE);
    EXPECT_NULL(mw_int_add(mw_int(200), mw_int(200)), MW_ERR_STATE);
    EXPECT_NULL(mw_copy(five), MW_ERR_STATE);
    EXPECT_NULL(mw_deepcopy(five), MW_ERR_STATE);
    static const mw_type plain = {.name = "plain", .size = sizeof(mw_object)};
    EXPECT_NULL(mw_new(&plain), MW_ERR_STATE);
    ck_assert_str_eq(mw_err_name(MW_ERR_STATE), "StateError");

    // Objects made while attached, used after detaching.
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    mw_object *s = mw_set_new();
    mw_object *big = int_of(5000);
    ck_assert_int_eq(mw_list_append(l, big), 0);
    ck_assert_int_eq(mw_dict_set(d, big, big), 0);
    ck_assert_int_eq(mw_set_add(s, big), 0);
    ck_assert_int_eq(mw_thread_detach(), 0);
    EXPECT_STATUS(mw_list_append(l, big), -1, MW_ERR_STATE);
    EXPECT_NULL(mw_list_get(l, 0), MW_ERR_STATE);
    EXPECT_STATUS(mw_list_set(l, 0, five), -1, MW_ERR_STATE);
    EXPECT_STATUS(mw_dict_set(d, five, five), -1, MW_ERR_STATE);
    EXPECT_NULL(mw_dict_get(d, big), MW_ERR_STATE);
    EXPECT_STATUS(mw_dict_del(d, big), -1, MW_ERR_STATE);
    EXPECT_STATUS(mw_dict_item(d, 0, NULL, NULL), -1, MW_ERR_STATE);
    EXPECT_STATUS(mw_set_add(s, five), -1, MW_ERR_STATE);
    EXPECT_STATUS(mw_set_contains(s, big), -1, MW_ERR_STATE);
    EXPECT_STATUS(mw_set_discard(s, big), -1, MW_ERR_STATE);
    EXPECT_NULL(mw_copy(l), MW_ERR_STATE);
    EXPECT_NULL(mw_deepcopy(d), MW_ERR_STATE);
    // Reading a count needs no thread; nothing changed.
    ck_assert_int_eq(mw_refcnt(big), 5);

    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    ck_assert_uint_eq(mw_list_len(l), 1);
    ck_assert_uint_eq(mw_dict_len(d), 1);
    ck_assert_uint_eq(mw_set_len(s), 1);
    mw_decref(l);
    mw_decref(d);
    mw_decref(s);
    ck_assert_int_eq(mw_refcnt(big), 1);
    mw_decref(big);
    stop();
}
END_TEST

/* mw_tuple_get hands out a new reference, so it needs a thread too. */
START_TEST(test_not_attached_tuple_get)
{
    start(MODE(_i));
    mw_object *big = int_of(6000);
    mw_object *t = mw_tuple_new(1, &big);
    ck_assert_int_eq(mw_thread_detach(), 0);
    mw_err_clear();
    mw_object *got = mw_tuple_get(t, 0);
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    mw_decref(got);   // if it (wrongly) succeeded, balance it while attached
    ck_assert_msg(got == NULL, "mw_tuple_get worked on a thread that is not attached");
    ASSERT_ERR(MW_ERR_STATE);
    mw_decref(t);
    mw_decref(big);
    stop();
}
END_TEST

/* Inside a blocking region the thread must not touch objects. */
START_TEST(test_blocking_region)
{
    start(MODE(_i));
    mw_blocking_begin();
    ck_assert(mw_thread_is_attached());
    EXPECT_NULL(mw_list_new(), MW_ERR_STATE);
    EXPECT_NULL(mw_int(123456), MW_ERR_STATE);
    mw_blocking_end();
    mw_object *l = mw_list_new();
    ck_assert_ptr_nonnull(l);
    mw_decref(l);
    // Detaching from inside a blocking region ends it.
    mw_blocking_begin();
    ck_assert_int_eq(mw_thread_detach(), 0);
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    l = mw_list_new();
    ck_assert_ptr_nonnull(l);
    mw_decref(l);
    stop();
}
END_TEST

/* The runtime and thread calls refuse what their state does not allow. */
START_TEST(test_runtime_misuse)
{
    start(MODE(_i));
    mw_config cfg;
    mw_config_default(&cfg);
    EXPECT_NULL((mw_object *)mw_runtime_new(&cfg), MW_ERR_STATE);
    EXPECT_NULL((mw_object *)mw_runtime_new(NULL), MW_ERR_STATE);
    ck_assert_int_eq(mw_runtime_free(test_rt), MW_EBUSY);
    ck_assert_int_eq(mw_thread_attach(test_rt), MW_EBUSY);
    ck_assert(mw_thread_is_attached());
    ck_assert_int_eq(mw_thread_detach(), 0);
    ck_assert_int_eq(mw_thread_detach(), MW_EINVAL);
    ck_assert(!mw_thread_is_attached());
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    mw_object *still = mw_list_new();   // the runtime survived all that
    ck_assert_ptr_nonnull(still);
    mw_decref(still);
    stop();

    // A freed runtime can be followed by a new one, in the other mode.
    start(MODE(1 - _i));
    mw_object *o = int_of(99999);
    mw_decref(o);
    stop();
    ck_assert_int_eq(mw_thread_detach(), MW_EINVAL);
}
END_TEST

/* The error is per thread: kind and message, set, read and cleared. */
static void *other_thread_error(void *arg)
{
    *(mw_error_kind *)arg = mw_err_occurred();
    mw_err_set(MW_ERR_KEY, "set by the other thread");
    return NULL;
}

START_TEST(test_error_state)
{
    start(MODE(_i));
    ASSERT_NO_ERR();
    ck_assert_str_eq(mw_err_message(), "");
    mw_err_set(MW_ERR_VALUE, "bad value %d", 42);
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_VALUE);
    ck_assert_str_eq(mw_err_message(), "bad value 42");
    pthread_t t;
    mw_error_kind seen = MW_ERR_NOMEM;
    ck_assert_int_eq(pthread_create(&t, NULL, other_thread_error, &seen), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(seen, MW_ERR_NONE);   // not this thread's error
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_VALUE);   // nor that one ours
    ck_assert_str_eq(mw_err_message(), "bad value 42");
    mw_err_clear();
    ASSERT_NO_ERR();
    // A size too large is an overflow, reported before anything is read.
    EXPECT_NULL(mw_str_n("ab", SIZE_MAX), MW_ERR_OVERFLOW);
    EXPECT_NULL(mw_str_n("ab", (size_t)PTRDIFF_MAX), MW_ERR_OVERFLOW);
    mw_object *max = int_of(INT64_MAX);
    EXPECT_NULL(mw_int_add(max, max), MW_ERR_OVERFLOW);
    mw_decref(max);
    const char *names[] = {"NoError", "MemoryError", "TypeError", "IndexError", "KeyError",
                           "OverflowError", "ValueError", "StateError", "RecursionError"};
    for (int k = MW_ERR_NONE; k <= MW_ERR_RECURSION; k++) {
        ck_assert_str_eq(mw_err_name((mw_error_kind)k), names[k]);
    }
    ck_assert_str_eq(mw_err_name((mw_error_kind)99), "UnknownError");
    stop();
}
END_TEST

TCase *tcase_errors(void)
{
    TCase *tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_error_state, 0, NMODES);
    tcase_add_loop_test(tc, test_wrong_type, 0, NMODES);
    tcase_add_loop_test(tc, test_null_arguments, 0, NMODES);
    tcase_add_loop_test(tc, test_index_and_key, 0, NMODES);
    tcase_add_loop_test(tc, test_not_attached, 0, NMODES);
    tcase_add_loop_test(tc, test_not_attached_tuple_get, 0, NMODES);
    tcase_add_loop_test(tc, test_blocking_region, 0, NMODES);
    tcase_add_loop_test(tc, test_runtime_misuse, 0, NMODES);
    return tc;
}
