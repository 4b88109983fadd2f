/*
 * test_object.h - helpers shared by the object layer's Check suite: making
 * and freeing the runtime around a test, the lock mode of a loop test's
 * index, error checks, allocator figures, and the test cases of each file.
 */
#ifndef MWRT_TEST_OBJECT_H
#define MWRT_TEST_OBJECT_H

#include <mwrt/mwrt.h>

#include "mwtest.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An int object holding v (checks the value, returns the object). */
static inline mw_object *int_of(int64_t v)
{
    mw_object *o = mw_int(v);
    REQUIREF(o != NULL, "mw_int(%lld): %s", (long long)v, mw_err_message());
    REQUIRE(mw_int_value(o) == v);
    return o;
}

/* The value of a new reference to an int, dropping the reference. */
static inline int64_t take_int(mw_object *o)
{
    REQUIREF(o != NULL, "%s", mw_err_message());
    int64_t v = mw_int_value(o);
    ASSERT_NO_ERR();
    mw_decref(o);
    return v;
}

/* The test cases, one or more per file. */
TCase *tcase_seed(void);
TCase *tcase_types(void);
TCase *tcase_containers(void);
TCase *tcase_errors(void);
TCase *tcase_nomem(void);
TCase *tcase_copy(void);
TCase *tcase_lifecycle(void);
TCase *tcase_threads(void);
TCase *tcase_gil(void);
TCase *tcase_weakref(void);

#endif /* MWRT_TEST_OBJECT_H */
