/*
 * tuple.c - immutable sequences.  The empty tuple is one immortal object.
 */
#include "object/object.h"

static int tuple_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw__tuple *t = (mw__tuple *)self;
    return mw__visit_items(t->items, t->len, visit, arg);
}

static void tuple_clear(mw_object *self)
{
    mw__tuple *t = (mw__tuple *)self;
    for (size_t i = 0; i < t->len; i++) {
        mw_object *item = t->items[i];
        t->items[i] = NULL;
        mw__xdecref(item);
    }
}

const mw_type mw_tuple_type = {
    .name = "tuple",
    .size = sizeof(mw__tuple),
    .flags = MW_TYPE_GC,
    .traverse = tuple_traverse,
    .clear = tuple_clear,
};

static struct {
    mw__gc_head head;
    mw__tuple tuple;
} empty_tuple = {.tuple = {.ob = {.ob_flags = MW__OBJ_IMMORTAL, .ob_type = &mw_tuple_type}}};

mw_object *mw_tuple_new(size_t n, mw_object *const *items)
{
    if (n == 0) {
        return &empty_tuple.tuple.ob;
    }
    if (items == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_tuple_new: NULL items");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            mw_err_set(MW_ERR_TYPE, "mw_tuple_new: item %zu is NULL", i);
            return NULL;
        }
    }
    if (mw__tstate_checked("mw_tuple_new") == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!mw__confine_store_ok("mw_tuple_new", NULL, items[i])) {
            return NULL;
        }
    }
    if (n > ((size_t)PTRDIFF_MAX - sizeof(mw__tuple)) / sizeof(mw_object *)) {
        mw_err_set(MW_ERR_OVERFLOW, "mw_tuple_new: %zu items is too many", n);
        return NULL;
    }
    mw__tuple *t = (mw__tuple *)mw__obj_alloc(&mw_tuple_type,
                                              sizeof(mw__tuple) + n * sizeof(mw_object *));
    if (t == NULL) {
        return NULL;
    }
    t->len = n;
    for (size_t i = 0; i < n; i++) {
        mw__incref(items[i]);
        t->items[i] = items[i];
    }
    return &t->ob;
}

size_t mw_tuple_len(mw_object *t)
{
    if (!mw__is_type(t, &mw_tuple_type)) {
        mw__err_type("mw_tuple_len", "tuple", t);
        return (size_t)-1;
    }
    return ((mw__tuple *)t)->len;
}

mw_object *mw_tuple_get(mw_object *t, size_t i)
{
    if (mw__tstate_checked("mw_tuple_get") == NULL) {
        return NULL;
    }
    if (!mw__is_type(t, &mw_tuple_type)) {
        return mw__err_type("mw_tuple_get", "tuple", t);
    }
    mw__tuple *tu = (mw__tuple *)t;
    if (i >= tu->len) {
        mw_err_set(MW_ERR_INDEX, "tuple index %zu out of range (length %zu)", i, tu->len);
        return NULL;
    }
    mw__incref(tu->items[i]);
    return tu->items[i];
}
