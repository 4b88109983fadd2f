/*
 * dict.c - insertion-ordered hash tables, laid out as CPython's compact
 * dict (Raymond Hettinger's design, CPython 3.6+).
 *
 *     indices: int8/16/32_t[size]   EMPTY, DUMMY or an entry number
 *     entries: entry[cap]           {hash, key, value} in insertion order
 *
 * One block holds both, the entries right after the index.  size is a
 * power of two and cap = 2/3 of it, so the index stays at most 2/3 full
 * and probing stays short; entries are dense, so iterating is a walk along
 * an array, and memory per item is 24 bytes plus 1.5 to 6 of index rather
 * than a sparse table of 24-byte slots.  The index is as narrow as its
 * entry numbers allow, as in CPython: int8_t up to 128 slots, int16_t up
 * to 32768, int32_t above.  Probing follows CPython's recurrence (i = 5i +
 * 1 + perturb, with perturb shifting in the high bits of the hash), which
 * visits every slot.  Deleting leaves DUMMY in the index and a hole (key
 * NULL) in the entries; holes are squeezed out when the table is rebuilt.
 * Inserts only use EMPTY index slots, so a rebuild happens when the
 * entries run out.
 *
 * The smallest table (MIN_SIZE slots, MIN_CAP entries: 128 bytes) is part
 * of the dict object itself, so a small dict - most dicts are small - is
 * one allocation, not two, and its items sit next to its header.  A dict
 * that outgrows it moves to a table of its own (and back into the object
 * if a rebuild finds it small again); an empty dict has no table at all
 * until its first insert (size 0).
 *
 * In MW_LOCK_FREE mode a dict is not locked internally (see list.c).
 *
 * A dict is made untracked (out of the collector's lists) and tracked at
 * the first store of a key or value that may be tracked (mw__gc_track_for,
 * object.h); a full collection untracks it again once all it holds is
 * atomic (gc.c).
 */
#include "object/object.h"

#include <stddef.h>
#include <string.h>

#define EMPTY (-1)
#define DUMMY (-2)
#define MIN_SIZE 8
#define MIN_CAP 5            /* capacity(MIN_SIZE) */
#define MAX_SIZE ((size_t)1 << 30)   /* int32 entry numbers */

typedef struct entry {
    int64_t hash;
    mw_object *key;      /* NULL: a deleted entry */
    mw_object *value;
} entry;

/*
 * Invariants: size is 0 (no table: len == used == 0) or a power of two
 * from MIN_SIZE to MAX_SIZE; the table (table_of) is u.small exactly when
 * size == MIN_SIZE, else u.table, a block of its own (mw__mem_malloc), so
 * the size says which member of u is live; used <= capacity(size); the
 * entries are entries_of(d)[0..used-1], len of them live.  Counts fit 32
 * bits because size <= 2^30.
 */
typedef struct mw__dict {
    mw_object ob;
    uint32_t len;        /* live items */
    uint32_t used;       /* entries consumed, holes included */
    uint32_t size;       /* index slots (power of two), 0 before the first insert */
    union {
        struct {
            int8_t indices[MIN_SIZE];
            entry entries[MIN_CAP];
        } small;         /* the table while size == MIN_SIZE */
        void *table;     /* while size > MIN_SIZE: index, then entries */
    } u;
} mw__dict;

static size_t capacity(size_t size)
{
    return size * 2 / 3;
}

_Static_assert(MIN_CAP == MIN_SIZE * 2 / 3, "the inline table is the smallest one");
_Static_assert(offsetof(mw__dict, u.small.entries) - offsetof(mw__dict, u.small.indices) ==
                   MIN_SIZE * sizeof(int8_t),
               "the inline entries follow its index as in any table");

/* Bytes per index slot of a table of size slots (the entry numbers of
 * cap < 2^7, 2^15, 2^31 fit int8, int16, int32 with EMPTY and DUMMY). */
MW_INLINE size_t index_width(size_t size)
{
    return size <= 0x80 ? 1 : size <= 0x8000 ? 2 : 4;
}

/* The table of a dict that has one (size > 0): its index, then entries. */
MW_INLINE void *table_of(mw__dict *d)
{
    return d->size == MIN_SIZE ? (void *)d->u.small.indices : d->u.table;
}

MW_INLINE entry *entries_of(mw__dict *d)
{
    if (d->size == MIN_SIZE) {
        return d->u.small.entries;
    }
    return (entry *)((char *)d->u.table + d->size * index_width(d->size));
}

MW_INLINE int32_t ix_get(mw__dict *d, size_t i)
{
    if (d->size <= 0x80) {
        return ((const int8_t *)table_of(d))[i];
    }
    if (d->size <= 0x8000) {
        return ((const int16_t *)d->u.table)[i];
    }
    return ((const int32_t *)d->u.table)[i];
}

MW_INLINE void ix_set(mw__dict *d, size_t i, int32_t v)
{
    if (d->size <= 0x80) {
        ((int8_t *)table_of(d))[i] = (int8_t)v;
    } else if (d->size <= 0x8000) {
        ((int16_t *)d->u.table)[i] = (int16_t)v;
    } else {
        ((int32_t *)d->u.table)[i] = v;
    }
}

/* ======================================================================
 * Type hooks
 * ====================================================================== */

static int dict_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw__dict *d = (mw__dict *)self;
    if (d->size == 0) {
        return 0;
    }
    entry *entries = entries_of(d);
    for (size_t i = 0; i < d->used; i++) {
        entry *e = &entries[i];
        if (e->key != NULL) {
            int r = visit(e->key, arg);
            if (r == 0 && e->value != NULL) {
                r = visit(e->value, arg);
            }
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

/* Drop every item; the dict is empty before the first decref (a finalizer
 * the decrefs run may store into it again: it finds an empty dict, and
 * does not overwrite what is still to be dropped). */
static void dict_clear(mw_object *self)
{
    mw__dict *d = (mw__dict *)self;
    if (d->size == 0) {
        return;
    }
    entry *entries = entries_of(d);
    void *table = table_of(d);
    size_t used = d->used;
    mw_object *small_items[2 * MIN_CAP];
    if (d->size == MIN_SIZE) {
        // The inline table is part of the dict: take its items out first.
        for (size_t i = 0; i < used; i++) {
            small_items[2 * i] = entries[i].key;
            small_items[2 * i + 1] = entries[i].value;
        }
        table = NULL;
    }
    d->len = d->used = d->size = 0;
    for (size_t i = 0; i < used; i++) {
        mw__xdecref(table == NULL ? small_items[2 * i] : entries[i].key);
        mw__xdecref(table == NULL ? small_items[2 * i + 1] : entries[i].value);
    }
    mw__mem_free(table);
}

const mw_type mw_dict_type = {
    .name = "dict",
    .size = sizeof(mw__dict),
    .flags = MW_TYPE_GC,
    .traverse = dict_traverse,
    .clear = dict_clear,
};

/* ======================================================================
 * The table
 * ====================================================================== */

/*
 * Find key.  Returns 1 and the entry number in *ix if present, 0 and the
 * first EMPTY index slot in *slot if absent, -1 if comparing keys failed.
 * The dict has a table (size > 0).
 */
static int lookup(mw__dict *d, mw_object *key, int64_t hash, size_t *slot, size_t *ix)
{
    size_t mask = d->size - 1;
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & mask;
    for (;;) {
        int32_t at = ix_get(d, i);
        if (at == EMPTY) {
            *slot = i;
            return 0;
        }
        if (at >= 0) {
            entry *e = &entries_of(d)[at];
            if (e->key == key) {
                *ix = (size_t)at;
                return 1;
            }
            if (e->hash == hash) {
                // Equality of built-in types runs no code of the caller's,
                // so the table cannot change under the comparison.
                int eq = mw__equal(e->key, key, 0);
                if (eq != 0) {
                    *ix = (size_t)at;
                    return eq;   // 1 found, -1 error
                }
            }
        }
        perturb >>= 5;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
}

/* The first EMPTY slot for hash (the key is known to be absent). */
static size_t empty_slot(mw__dict *d, int64_t hash)
{
    size_t mask = d->size - 1;
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & mask;
    while (ix_get(d, i) != EMPTY) {
        perturb >>= 5;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
    return i;
}

/*
 * Rebuild with room for at least need items, squeezing out holes: into
 * the inline table if MIN_SIZE slots are enough (in place if the dict is
 * there already: entries only move towards the front), else into a new
 * block; an old block of its own is freed.
 */
static int rebuild(mw__dict *d, size_t need)
{
    size_t size = MIN_SIZE;
    while (capacity(size) < need) {
        if (size >= MAX_SIZE) {
            mw_err_set(MW_ERR_OVERFLOW, "dict too large");
            return -1;
        }
        size *= 2;
    }
    size_t width = index_width(size);
    // The old table's entries, and its block to free if it has one: saved
    // first, as filling the inline table overwrites u.table.
    entry *old = d->size != 0 ? entries_of(d) : NULL;
    void *old_block = d->size > MIN_SIZE ? d->u.table : NULL;
    void *table;
    if (size == MIN_SIZE) {
        table = d->u.small.indices;
    } else {
        table = mw__mem_malloc(size * width + capacity(size) * sizeof(entry));
        if (table == NULL) {
            mw__err_nomem();
            return -1;
        }
    }
    entry *entries = (entry *)((char *)table + size * width);
    size_t n = 0;
    for (size_t i = 0; i < d->used; i++) {
        if (old[i].key != NULL) {
            entries[n++] = old[i];
        }
    }
    mw__mem_free(old_block);
    memset(table, 0xff, size * width);   // all EMPTY (-1)
    if (size > MIN_SIZE) {
        d->u.table = table;
    }
    d->size = (uint32_t)size;
    d->used = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        ix_set(d, empty_slot(d, entries[i].hash), (int32_t)i);
    }
    return 0;
}

/* ======================================================================
 * The API
 * ====================================================================== */

static mw__dict *checked(const char *func, mw_object *d)
{
    if (mw__tstate_checked(func) == NULL) {
        return NULL;
    }
    if (!mw__is_type(d, &mw_dict_type)) {
        return mw__err_type(func, "dict", d);
    }
    return (mw__dict *)d;
}

mw_object *mw_dict_new(void)
{
    if (mw__tstate_checked("mw_dict_new") == NULL) {
        return NULL;
    }
    // The inline table is written by the first insert before it is read.
    mw__dict *d = (mw__dict *)mw__obj_alloc_uninit(&mw_dict_type, sizeof(mw__dict));
    if (d == NULL) {
        return NULL;
    }
    d->len = d->used = d->size = 0;
    return &d->ob;
}

int mw_dict_set(mw_object *dict, mw_object *key, mw_object *value)
{
    mw__dict *d = checked("mw_dict_set", dict);
    if (d == NULL) {
        return -1;
    }
    if (key == NULL || value == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_dict_set: NULL %s", key == NULL ? "key" : "value");
        return -1;
    }
    if (!mw__confine_store_ok("mw_dict_set", dict, key) ||
        !mw__confine_store_ok("mw_dict_set", dict, value)) {
        return -1;
    }
    int64_t hash = mw__hash_key(key);
    if (hash == -1) {
        return -1;
    }
    size_t slot = 0;
    size_t ix = 0;
    int found = d->size == 0 ? 0 : lookup(d, key, hash, &slot, &ix);
    if (found < 0) {
        return -1;
    }
    if (found) {
        // Tracked before the store (lazy tracking, object.h): the old
        // value's death may run a finalizer, which may collect.
        mw__gc_track_for(dict, value);
        mw__setref(&entries_of(d)[ix].value, value);
        return 0;
    }
    if (d->size == 0) {
        // The first insert: the inline table, whose one slot in use is
        // the first one probed.
        d->size = MIN_SIZE;
        memset(d->u.small.indices, 0xff, sizeof d->u.small.indices);   // all EMPTY
        slot = (size_t)hash & (MIN_SIZE - 1);
    } else if (d->used == capacity(d->size)) {
        if (rebuild(d, ((size_t)d->len + 1) * 3 / 2 + 1) != 0) {
            return -1;
        }
        slot = empty_slot(d, hash);
    }
    mw__gc_track_for(dict, key);
    mw__gc_track_for(dict, value);
    mw__incref(key);
    mw__incref(value);
    entries_of(d)[d->used] = (entry){.hash = hash, .key = key, .value = value};
    ix_set(d, slot, (int32_t)d->used);
    d->used++;
    d->len++;
    return 0;
}

/* The entry for key, or NULL (with MW_ERR_KEY, or the comparison's error). */
static entry *find(const char *func, mw__dict *d, mw_object *key, size_t *slot_out)
{
    if (key == NULL) {
        mw_err_set(MW_ERR_TYPE, "%s: NULL key", func);
        return NULL;
    }
    int64_t hash = mw__hash_key(key);
    if (hash == -1) {
        return NULL;
    }
    size_t slot = 0;
    size_t ix = 0;
    int found = d->size == 0 ? 0 : lookup(d, key, hash, &slot, &ix);
    if (found <= 0) {
        if (found == 0) {
            mw_err_set(MW_ERR_KEY, "%s: key not found", func);
        }
        return NULL;
    }
    if (slot_out != NULL) {
        // The index slot that holds ix, for deletion.
        size_t mask = d->size - 1;
        uint64_t perturb = (uint64_t)hash;
        size_t i = (size_t)hash & mask;
        while (ix_get(d, i) != (int32_t)ix) {
            perturb >>= 5;
            i = (i * 5 + 1 + (size_t)perturb) & mask;
        }
        *slot_out = i;
    }
    return &entries_of(d)[ix];
}

mw_object *mw_dict_get(mw_object *dict, mw_object *key)
{
    mw__dict *d = checked("mw_dict_get", dict);
    if (d == NULL) {
        return NULL;
    }
    entry *e = find("mw_dict_get", d, key, NULL);
    if (e == NULL) {
        return NULL;
    }
    mw__incref(e->value);
    return e->value;
}

int mw_dict_del(mw_object *dict, mw_object *key)
{
    mw__dict *d = checked("mw_dict_del", dict);
    if (d == NULL) {
        return -1;
    }
    size_t slot;
    entry *e = find("mw_dict_del", d, key, &slot);
    if (e == NULL) {
        return -1;
    }
    mw_object *k = e->key;
    mw_object *v = e->value;
    ix_set(d, slot, DUMMY);
    e->key = NULL;
    e->value = NULL;
    d->len--;
    mw__decref(k);
    mw__decref(v);
    return 0;
}

size_t mw_dict_len(mw_object *dict)
{
    if (!mw__is_type(dict, &mw_dict_type)) {
        mw__err_type("mw_dict_len", "dict", dict);
        return (size_t)-1;
    }
    return ((mw__dict *)dict)->len;
}

int mw_dict_item(mw_object *dict, size_t i, mw_object **key, mw_object **value)
{
    mw__dict *d = checked("mw_dict_item", dict);
    if (d == NULL) {
        return -1;
    }
    if (i >= d->len) {
        mw_err_set(MW_ERR_INDEX, "mw_dict_item: index %zu out of range (length %zu)", i, (size_t)d->len);
        return -1;
    }
    // Without holes the i-th item is entry i; with holes, count live ones.
    entry *entries = entries_of(d);
    size_t at = i;
    if (d->used != d->len) {
        for (at = 0;; at++) {
            if (entries[at].key != NULL && i-- == 0) {
                break;
            }
        }
    }
    entry *e = &entries[at];
    if (key != NULL) {
        mw__incref(e->key);
        *key = e->key;
    }
    if (value != NULL) {
        mw__incref(e->value);
        *value = e->value;
    }
    return 0;
}

/* Walk the items: borrowed key and value of the next live entry at or after
 * *pos, advancing *pos; false at the end.  For the layer's own iteration
 * (copies); the dict must not change during the walk. */
bool mw__dict_next(mw_object *dict, size_t *pos, mw_object **key, mw_object **value)
{
    mw__dict *d = (mw__dict *)dict;
    while (*pos < d->used) {
        entry *e = &entries_of(d)[(*pos)++];
        if (e->key != NULL) {
            *key = e->key;
            *value = e->value;
            return true;
        }
    }
    return false;
}

/* Value equality of two dicts (object.c's mw__equal): same length, and each
 * key of a maps to an equal value in b.  1, 0, or -1 with the error set. */
int mw__dict_equal(mw_object *a, mw_object *b, int depth)
{
    mw__dict *x = (mw__dict *)a;
    mw__dict *y = (mw__dict *)b;
    if (x->len != y->len) {
        return 0;
    }
    for (size_t i = 0; i < x->used; i++) {
        entry *e = &entries_of(x)[i];
        if (e->key == NULL) {
            continue;
        }
        size_t slot = 0;
        size_t ix = 0;
        int found = y->size == 0 ? 0 : lookup(y, e->key, e->hash, &slot, &ix);
        if (found <= 0) {
            return found;
        }
        int eq = mw__equal(e->value, entries_of(y)[ix].value, depth + 1);
        if (eq != 1) {
            return eq;
        }
    }
    return 1;
}
