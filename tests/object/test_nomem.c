/*
 * test_nomem.c - running out of memory: with the allocator's test hook
 * refusing every new arena, each kind of object is made until the layer
 * says MW_ERR_NOMEM (a NULL or -1, never a crash); failed calls leave no
 * half-made object behind, and once the hook is gone everything works.
 * Requests above 512 bytes go to the C library and cannot be failed here.
 */
#include "test_object.h"

#include "alloc/alloc.h"

#include <stdio.h>
#include <stdlib.h>

#if !defined(__SANITIZE_ADDRESS__)
static bool refuse_arenas(size_t bytes)
{
    return bytes >= MW_ALLOC_ARENA_SIZE;
}

typedef struct counted {
    mw_object ob;
    int64_t payload;
} counted;

static const mw_type counted_type = {.name = "counted", .size = sizeof(counted)};

/* Kinds of object to make until memory runs out; NULL with the error set
 * when it does. */
static mw_object *make(int kind, size_t n)
{
    char buf[48];
    switch (kind) {
    case 0:
        return mw_int(1000000 + (int64_t)n);
    case 1:
        snprintf(buf, sizeof buf, "string number %zu, long enough", n);
        return mw_str(buf);
    case 2: {
        mw_object *l = mw_list_new();
        if (l != NULL && mw_list_append(l, mw_int(1)) != 0) {
            mw_decref(l);
            return NULL;
        }
        return l;
    }
    case 3: {
        mw_object *d = mw_dict_new();
        if (d != NULL && mw_dict_set(d, mw_int(2), mw_none()) != 0) {
            mw_decref(d);
            return NULL;
        }
        return d;
    }
    case 4: {
        mw_object *s = mw_set_new();
        if (s != NULL && mw_set_add(s, mw_int(3)) != 0) {
            mw_decref(s);
            return NULL;
        }
        return s;
    }
    case 5: {
        mw_object *items[] = {mw_int(4), mw_none(), mw_true()};
        return mw_tuple_new(3, items);
    }
    default:
        return mw_new(&counted_type);
    }
}

#define NKINDS 7
#define KEEP_MAX ((size_t)1 << 21)

START_TEST(test_nomem)
{
    start(MODE(_i));
    // An original to deep-copy under pressure: 3000 lists of 4 ints.
    mw_object *orig = mw_list_new();
    for (int64_t i = 0; i < 3000; i++) {
        mw_object *inner = mw_list_new();
        for (int64_t j = 0; j < 4; j++) {
            mw_object *v = int_of(500 + i * 4 + j);
            REQUIRE(mw_list_append(inner, v) == 0);
            mw_decref(v);
        }
        REQUIRE(mw_list_append(orig, inner) == 0);
        mw_decref(inner);
    }
    mw_object *first = mw_list_get(orig, 0);
    mw_decref(first);
    size_t base = blocks_in_use_trimmed();

    mw_object **keep = malloc(KEEP_MAX * sizeof *keep);
    ck_assert_ptr_nonnull(keep);
    size_t kept = 0;
    mw__alloc_fail_hook = refuse_arenas;
    for (int kind = 0; kind < NKINDS; kind++) {
        mw_err_clear();
        size_t made = 0;
        for (;;) {
            REQUIREF(kept < KEEP_MAX, "kind %d never ran out of memory", kind);
            mw_object *o = make(kind, kept);
            if (o == NULL) {
                break;
            }
            keep[kept++] = o;
            made++;
        }
        ck_assert_msg(mw_err_occurred() == MW_ERR_NOMEM, "kind %d after %zu: %s: %s", kind,
                      made, mw_err_name(mw_err_occurred()), mw_err_message());
        ck_assert_str_ne(mw_err_message(), "");
        mw_err_clear();
    }
    ck_assert_msg(kept > 1000, "only %zu objects before running out", kept);

    // A deep copy that runs out half-way fails cleanly.
    mw_object *copy = mw_deepcopy(orig);
    ck_assert_ptr_null(copy);
    ASSERT_ERR(MW_ERR_NOMEM);
    ck_assert_int_eq(mw_refcnt(first), 1);
    ck_assert_uint_eq(mw_list_len(orig), 3000);
    // A str or an int sum fails the same way, leaving the operands alone.
    ck_assert_ptr_null(mw_str("yet another string that needs a block"));
    ASSERT_ERR(MW_ERR_NOMEM);
    mw_object *big = keep[0];
    ck_assert_ptr_null(mw_int_add(big, big));
    ASSERT_ERR(MW_ERR_NOMEM);
    ck_assert_int_eq(mw_refcnt(big), 1);

    // Drop everything: the blocks in use are what they were before.
    mw__alloc_fail_hook = NULL;
    for (size_t i = 0; i < kept; i++) {
        mw_decref(keep[i]);
    }
    free(keep);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // And everything works again.
    copy = mw_deepcopy(orig);
    ck_assert_ptr_nonnull(copy);
    ASSERT_NO_ERR();
    for (int kind = 0; kind < NKINDS; kind++) {
        for (size_t n = 0; n < 2000; n++) {
            mw_object *o = make(kind, n);
            REQUIREF(o != NULL, "kind %d: %s", kind, mw_err_message());
            mw_decref(o);
        }
    }
    ASSERT_NO_ERR();
    mw_decref(copy);
    mw_decref(orig);
    stop();
}
END_TEST
#endif

TCase *tcase_nomem(void)
{
    TCase *tc = tcase_create("nomem");
    tcase_set_timeout(tc, 60);
#if !defined(__SANITIZE_ADDRESS__)
    // Not under ASan: objects live in the C library's malloc there (so
    // ASan sees them), where the allocator's failure hook has no say.
    tcase_add_loop_test(tc, test_nomem, 0, NMODES);
#endif
    return tc;
}
