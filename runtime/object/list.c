/*
 * list.c - mutable sequences: a header object and a separately allocated
 * array of item pointers, grown by about 1/8 each time (CPython's
 * over-allocation, linear amortized cost without doubling's waste).
 *
 * In MW_LOCK_FREE mode a list is not locked internally: threads that share
 * a list and mutate it must hold a lock of their own around every access.
 */
#include "object/object.h"

static int list_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw__list *l = (mw__list *)self;
    return mw__visit_items(l->items, l->len, visit, arg);
}

/* Drop every item.  The list is emptied before any item is decref'd, so a
 * finalizer that looks at the list sees it empty, never half-cleared. */
static void list_clear(mw_object *self)
{
    mw__list *l = (mw__list *)self;
    mw_object **items = l->items;
    size_t n = l->len;
    l->items = NULL;
    l->len = l->cap = 0;
    for (size_t i = 0; i < n; i++) {
        mw__xdecref(items[i]);
    }
    mw__mem_free(items);
}

const mw_type mw_list_type = {
    .name = "list",
    .size = sizeof(mw__list),
    .flags = MW_TYPE_GC,
    .traverse = list_traverse,
    .clear = list_clear,
};

mw_object *mw_list_new(void)
{
    if (mw__tstate_checked("mw_list_new") == NULL) {
        return NULL;
    }
    return mw__obj_alloc(&mw_list_type, sizeof(mw__list));
}

/* Make room for one more item.  0, or -1 with the error set. */
static int list_reserve_one(mw__list *l)
{
    if (l->len < l->cap) {
        return 0;
    }
    size_t n = l->len + 1;
    size_t cap = (n + (n >> 3) + 6) & ~(size_t)3;
    if (cap > (size_t)PTRDIFF_MAX / sizeof(mw_object *)) {
        mw_err_set(MW_ERR_OVERFLOW, "list too long");
        return -1;
    }
    mw_object **items = mw__mem_realloc(l->items, cap * sizeof *items);
    if (items == NULL) {
        mw__err_nomem();
        return -1;
    }
    l->items = items;
    l->cap = cap;
    return 0;
}

int mw__list_append(mw__list *l, mw_object *o)
{
    if (list_reserve_one(l) != 0) {
        return -1;
    }
    // A full collection may have untracked l (object.h: mw__gc_retrackable).
    mw__gc_track_for(&l->ob, o);
    mw__incref(o);
    l->items[l->len++] = o;
    return 0;
}

int mw_list_append(mw_object *list, mw_object *o)
{
    if (mw__tstate_checked("mw_list_append") == NULL) {
        return -1;
    }
    if (!mw__is_type(list, &mw_list_type)) {
        mw__err_type("mw_list_append", "list", list);
        return -1;
    }
    if (o == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_list_append: NULL item");
        return -1;
    }
    if (!mw__confine_store_ok("mw_list_append", list, o)) {
        return -1;
    }
    return mw__list_append((mw__list *)list, o);
}

/* Resolve a possibly negative index; false with MW_ERR_INDEX if out of range. */
static bool list_index(const char *func, mw__list *l, ptrdiff_t i, size_t *out)
{
    ptrdiff_t len = (ptrdiff_t)l->len;
    ptrdiff_t at = i < 0 ? i + len : i;
    if (at < 0 || at >= len) {
        mw_err_set(MW_ERR_INDEX, "%s: list index %td out of range (length %td)", func, i, len);
        return false;
    }
    *out = (size_t)at;
    return true;
}

mw_object *mw_list_get(mw_object *list, ptrdiff_t i)
{
    if (mw__tstate_checked("mw_list_get") == NULL) {
        return NULL;
    }
    if (!mw__is_type(list, &mw_list_type)) {
        return mw__err_type("mw_list_get", "list", list);
    }
    mw__list *l = (mw__list *)list;
    size_t at;
    if (!list_index("mw_list_get", l, i, &at)) {
        return NULL;
    }
    mw__incref(l->items[at]);
    return l->items[at];
}

int mw_list_set(mw_object *list, ptrdiff_t i, mw_object *o)
{
    if (mw__tstate_checked("mw_list_set") == NULL) {
        return -1;
    }
    if (!mw__is_type(list, &mw_list_type)) {
        mw__err_type("mw_list_set", "list", list);
        return -1;
    }
    if (o == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_list_set: NULL item");
        return -1;
    }
    if (!mw__confine_store_ok("mw_list_set", list, o)) {
        return -1;
    }
    mw__list *l = (mw__list *)list;
    size_t at;
    if (!list_index("mw_list_set", l, i, &at)) {
        return -1;
    }
    mw__gc_track_for(list, o);   // before the store, as mw__list_append
    mw__setref(&l->items[at], o);
    return 0;
}

size_t mw_list_len(mw_object *list)
{
    if (!mw__is_type(list, &mw_list_type)) {
        mw__err_type("mw_list_len", "list", list);
        return (size_t)-1;
    }
    return ((mw__list *)list)->len;
}
