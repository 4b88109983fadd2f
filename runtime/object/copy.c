/*
 * copy.c - shallow and deep copies of the built-in types.
 *
 * Shallow (mw_copy): a new list, dict or set with the same members;
 * immutable objects are their own copy, as in Python's copy.copy.
 *
 * Deep (mw_deepcopy), as Python's copy.deepcopy: a memo maps each original
 * already copied to its copy, so an object reached twice is copied once
 * (shared structure stays shared) and a cycle closes on the copy.  A
 * mutable container is entered in the memo before its members are copied,
 * which is what lets a cycle find it.  A tuple cannot be made before its
 * members, so it is built afterwards; if copying its members already
 * produced a copy of it (a cycle through the tuple), that copy is used,
 * and a tuple whose members all copied to themselves is its own copy.
 * Immutable scalars (int, str, bool, None) are their own copy.
 */
#include "object/object.h"

#include <string.h>

/* ======================================================================
 * The memo: original -> copy (borrowed), open addressing on the address
 * ====================================================================== */

typedef struct memo {
    mw_object **keys;
    mw_object **values;
    size_t size;     /* power of two */
    size_t count;
} memo;

static size_t memo_slot(const memo *m, const mw_object *key)
{
    uintptr_t h = (uintptr_t)key;
    h ^= h >> 17;
    h *= 0xed5ad4bbu;
    size_t i = (size_t)h & (m->size - 1);
    while (m->keys[i] != NULL && m->keys[i] != key) {
        i = (i + 1) & (m->size - 1);
    }
    return i;
}

static mw_object *memo_get(const memo *m, const mw_object *key)
{
    if (m->size == 0) {
        return NULL;
    }
    size_t i = memo_slot(m, key);
    return m->keys[i] == key ? m->values[i] : NULL;
}

static int memo_put(memo *m, mw_object *key, mw_object *value)
{
    if ((m->count + 1) * 2 > m->size) {
        memo grown = {.size = m->size ? m->size * 2 : 64};
        grown.keys = mw__mem_calloc(grown.size, sizeof(mw_object *));
        grown.values = mw__mem_calloc(grown.size, sizeof(mw_object *));
        if (grown.keys == NULL || grown.values == NULL) {
            mw__mem_free(grown.keys);
            mw__mem_free(grown.values);
            mw__err_nomem();
            return -1;
        }
        for (size_t i = 0; i < m->size; i++) {
            if (m->keys[i] != NULL) {
                size_t j = memo_slot(&grown, m->keys[i]);
                grown.keys[j] = m->keys[i];
                grown.values[j] = m->values[i];
            }
        }
        grown.count = m->count;
        mw__mem_free(m->keys);
        mw__mem_free(m->values);
        *m = grown;
    }
    size_t i = memo_slot(m, key);
    m->keys[i] = key;
    m->values[i] = value;
    m->count++;
    return 0;
}

/* ======================================================================
 * Copying each container, with a per-member function
 * ====================================================================== */

typedef struct copier {
    memo memo;        /* deep copies only */
    bool deep;
    int depth;
} copier;

static mw_object *copy_any(copier *c, mw_object *o);

/* The copy of a member: itself (new reference) when shallow. */
static mw_object *member(copier *c, mw_object *o)
{
    if (!c->deep) {
        mw__incref(o);
        return o;
    }
    return copy_any(c, o);
}

/* Enter a fresh container copy in the memo (deep copies). */
static mw_object *remember(copier *c, mw_object *original, mw_object *copy)
{
    if (copy != NULL && c->deep && memo_put(&c->memo, original, copy) != 0) {
        mw__decref(copy);
        return NULL;
    }
    return copy;
}

static mw_object *copy_list(copier *c, mw_object *o)
{
    mw__list *l = (mw__list *)o;
    mw__list *r = (mw__list *)remember(c, o, mw_list_new());
    for (size_t i = 0; r != NULL && i < l->len; i++) {
        mw_object *m = member(c, l->items[i]);
        if (m == NULL || mw__list_append(r, m) != 0) {
            mw__xdecref(m);
            mw__decref(&r->ob);
            return NULL;
        }
        mw__decref(m);
    }
    return r != NULL ? &r->ob : NULL;
}

static mw_object *copy_dict(copier *c, mw_object *o)
{
    mw_object *r = remember(c, o, mw_dict_new());
    size_t pos = 0;
    mw_object *k, *v;
    while (r != NULL && mw__dict_next(o, &pos, &k, &v)) {
        mw_object *ck = member(c, k);
        mw_object *cv = ck != NULL ? member(c, v) : NULL;
        int rc = cv != NULL ? mw_dict_set(r, ck, cv) : -1;
        mw__xdecref(ck);
        mw__xdecref(cv);
        if (rc != 0) {
            mw__decref(r);
            return NULL;
        }
    }
    return r;
}

static mw_object *copy_set(copier *c, mw_object *o)
{
    mw_object *r = remember(c, o, mw_set_new());
    size_t pos = 0;
    mw_object *k;
    while (r != NULL && mw__set_next(o, &pos, &k)) {
        mw_object *ck = member(c, k);
        int rc = ck != NULL ? mw_set_add(r, ck) : -1;
        mw__xdecref(ck);
        if (rc != 0) {
            mw__decref(r);
            return NULL;
        }
    }
    return r;
}

static mw_object *copy_tuple(copier *c, mw_object *o)
{
    mw__tuple *t = (mw__tuple *)o;
    mw_object **items = mw__mem_malloc(t->len * sizeof(mw_object *));
    if (items == NULL) {
        return mw__err_nomem();
    }
    size_t n = 0;
    bool same = true;
    mw_object *r = NULL;
    for (; n < t->len; n++) {
        items[n] = member(c, t->items[n]);
        if (items[n] == NULL) {
            goto done;
        }
        same = same && items[n] == t->items[n];
    }
    r = memo_get(&c->memo, o);   // a cycle through this tuple made it already
    if (r != NULL) {
        mw__incref(r);
    } else if (same) {
        mw__incref(o);
        r = o;
    } else {
        r = remember(c, o, mw_tuple_new(t->len, items));
    }
done:
    for (size_t i = 0; i < n; i++) {
        mw__decref(items[i]);
    }
    mw__mem_free(items);
    return r;
}

/* Copy o (new reference), or NULL with the error set. */
static mw_object *copy_any(copier *c, mw_object *o)
{
    const mw_type *t = o->ob_type;
    if (t == &mw_int_type || t == &mw_str_type || t == &mw__bool_type ||
        t == &mw__none_type) {
        mw__incref(o);
        return o;
    }
    if (c->deep) {
        mw_object *seen = memo_get(&c->memo, o);
        if (seen != NULL) {
            mw__incref(seen);
            return seen;
        }
    }
    if (c->depth >= MW_OBJECT_MAX_DEPTH) {
        mw_err_set(MW_ERR_RECURSION, "mw_deepcopy: nested deeper than %d levels",
                   MW_OBJECT_MAX_DEPTH);
        return NULL;
    }
    c->depth++;
    mw_object *r;
    if (t == &mw_list_type) {
        r = copy_list(c, o);
    } else if (t == &mw_dict_type) {
        r = copy_dict(c, o);
    } else if (t == &mw_set_type) {
        r = copy_set(c, o);
    } else if (t == &mw_tuple_type) {
        r = c->deep ? copy_tuple(c, o) : (mw__incref(o), o);
    } else {
        mw_err_set(MW_ERR_TYPE, "cannot copy an object of type '%s'", t->name);
        r = NULL;
    }
    c->depth--;
    return r;
}

mw_object *mw_copy(mw_object *o)
{
    if (mw__tstate_checked("mw_copy") == NULL) {
        return NULL;
    }
    if (o == NULL) {
        return mw__err_type("mw_copy", "an object", o);
    }
    if (mw__atomic_load_relaxed(&mw__confine_any) &&
        mw__confined_elsewhere(o, mw__tls_tstate) != 0) {
        mw_err_set(MW_ERR_STATE, "mw_copy: the '%s' belongs to confined thread %llu; another "
                   "thread may not copy it (hand over plain data instead)",
                   o->ob_type->name,
                   (unsigned long long)((mw__tstate *)mw__atomic_load_relaxed(&o->ob_owner))->id);
        return NULL;
    }
    copier c = {.deep = false};
    return copy_any(&c, o);
}

mw_object *mw_deepcopy(mw_object *o)
{
    if (mw__tstate_checked("mw_deepcopy") == NULL) {
        return NULL;
    }
    if (o == NULL) {
        return mw__err_type("mw_deepcopy", "an object", o);
    }
    if (mw__atomic_load_relaxed(&mw__confine_any) &&
        mw__confined_elsewhere(o, mw__tls_tstate) != 0) {
        mw_err_set(MW_ERR_STATE, "mw_deepcopy: the '%s' belongs to confined thread %llu; another "
                   "thread may not copy it (hand over plain data instead)",
                   o->ob_type->name,
                   (unsigned long long)((mw__tstate *)mw__atomic_load_relaxed(&o->ob_owner))->id);
        return NULL;
    }
    copier c = {.deep = true};
    mw_object *r = copy_any(&c, o);
    mw__mem_free(c.memo.keys);
    mw__mem_free(c.memo.values);
    return r;
}
