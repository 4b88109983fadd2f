/*
 * int.c - 64-bit integers, with the seed's small-int cache.
 *
 * -5..256 are preallocated once per process and immortal, so mw_int(123)
 * twice is one object and costs no allocation, while mw_int(1000) twice is
 * two objects (CPython's small_ints).  Arithmetic checks for overflow with
 * the compiler's checked builtins and reports MW_ERR_OVERFLOW instead of
 * wrapping.
 */
#include "object/object.h"

#define SMALL_MIN (-5)
#define SMALL_MAX 256

const mw_type mw_int_type = {.name = "int", .size = sizeof(mw__int)};

static mw__int small_ints[SMALL_MAX - SMALL_MIN + 1];

void mw__int_cache_init(void)
{
    for (int v = SMALL_MIN; v <= SMALL_MAX; v++) {
        mw__int *i = &small_ints[v - SMALL_MIN];
        i->ob.ob_flags = MW__OBJ_IMMORTAL;
        i->ob.ob_type = &mw_int_type;
        i->value = v;
    }
}

mw_object *mw_int(int64_t v)
{
    if (v >= SMALL_MIN && v <= SMALL_MAX) {
        return &small_ints[v - SMALL_MIN].ob;
    }
    if (mw__tstate_checked("mw_int") == NULL) {
        return NULL;
    }
    mw__int *i = (mw__int *)mw__obj_alloc_uninit(&mw_int_type, sizeof(mw__int));
    if (i == NULL) {
        return NULL;
    }
    i->value = v;
    return &i->ob;
}

int64_t mw_int_value(mw_object *o)
{
    if (!mw__is_type(o, &mw_int_type) && !mw__is_type(o, &mw__bool_type)) {
        mw__err_type("mw_int_value", "int", o);
        return -1;
    }
    return ((mw__int *)o)->value;
}

/* Both operands' values, or false with the error set. */
static bool operands(const char *func, mw_object *a, mw_object *b, int64_t *x, int64_t *y)
{
    if (!mw__is_type(a, &mw_int_type)) {
        mw__err_type(func, "int", a);
        return false;
    }
    if (!mw__is_type(b, &mw_int_type)) {
        mw__err_type(func, "int", b);
        return false;
    }
    *x = ((mw__int *)a)->value;
    *y = ((mw__int *)b)->value;
    return true;
}

static mw_object *overflow(const char *op, int64_t x, int64_t y)
{
    mw_err_set(MW_ERR_OVERFLOW, "int overflow: %lld %s %lld does not fit in 64 bits",
               (long long)x, op, (long long)y);
    return NULL;
}

mw_object *mw_int_add(mw_object *a, mw_object *b)
{
    int64_t x, y, r;
    if (!operands("mw_int_add", a, b, &x, &y)) {
        return NULL;
    }
    return __builtin_add_overflow(x, y, &r) ? overflow("+", x, y) : mw_int(r);
}

mw_object *mw_int_sub(mw_object *a, mw_object *b)
{
    int64_t x, y, r;
    if (!operands("mw_int_sub", a, b, &x, &y)) {
        return NULL;
    }
    return __builtin_sub_overflow(x, y, &r) ? overflow("-", x, y) : mw_int(r);
}

mw_object *mw_int_mul(mw_object *a, mw_object *b)
{
    int64_t x, y, r;
    if (!operands("mw_int_mul", a, b, &x, &y)) {
        return NULL;
    }
    return __builtin_mul_overflow(x, y, &r) ? overflow("*", x, y) : mw_int(r);
}
