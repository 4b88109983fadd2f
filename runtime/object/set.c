/*
 * set.c - hash sets: an open-addressing table of {hash, key} slots, kept at
 * most 60% full (counting deleted slots), probed with the same recurrence
 * as dict.  A deleted slot holds the DELETED marker until a rebuild.
 *
 * The smallest table (MIN_SIZE slots, up to 4 keys) is part of the set
 * object, as CPython's smalltable is: a small set is one allocation.  A
 * set that outgrows it moves to a table of its own, and back into the
 * object if a rebuild finds it small again; an empty set has no table
 * until its first add (size 0).
 *
 * In MW_LOCK_FREE mode a set is not locked internally (see list.c).
 *
 * Sets are tracked lazily, as dicts are (dict.c): only a key that may be
 * tracked - a tuple the collector has not untracked - tracks one.
 */
#include "object/object.h"

#include <string.h>

#define MIN_SIZE 8
#define MAX_SIZE ((size_t)1 << 31)   /* 32-bit counts; 32 GiB of table */

typedef struct slot {
    int64_t hash;
    mw_object *key;     /* NULL: empty; DELETED: removed */
} slot;

/*
 * Invariants: size is 0 (no table: len == fill == 0) or a power of two from
 * MIN_SIZE to MAX_SIZE; the table (table_of) is u.small exactly when size
 * == MIN_SIZE, else u.table, a block of its own (mw__mem_calloc), so the
 * size says which member of u is live; len <= fill, and fill * 5 <= size
 * * 3 (so an empty slot always ends a probe).
 */
typedef struct mw__set {
    mw_object ob;
    uint32_t len;       /* live keys */
    uint32_t fill;      /* live + deleted slots */
    uint32_t size;      /* power of two; 0 before the first add */
    union {
        slot small[MIN_SIZE];   /* the table while size == MIN_SIZE */
        slot *table;            /* while size > MIN_SIZE */
    } u;
} mw__set;

/* The table of a set that has one (size > 0). */
MW_INLINE slot *table_of(mw__set *s)
{
    return s->size == MIN_SIZE ? s->u.small : s->u.table;
}

static mw_object deleted_marker;
#define DELETED (&deleted_marker)

static int set_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw__set *s = (mw__set *)self;
    for (size_t i = 0; i < s->size; i++) {
        mw_object *k = table_of(s)[i].key;
        if (k != NULL && k != DELETED) {
            int r = visit(k, arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

/* Drop every key; the set is empty before the first decref (a finalizer
 * the decrefs run may add to it again: it finds an empty set, and does not
 * overwrite what is still to be dropped). */
static void set_clear(mw_object *self)
{
    mw__set *s = (mw__set *)self;
    if (s->size == 0) {
        return;
    }
    slot *table = table_of(s);
    size_t size = s->size;
    slot small_copy[MIN_SIZE];
    if (size == MIN_SIZE) {
        // The inline table is part of the set: take its keys out first.
        memcpy(small_copy, s->u.small, sizeof small_copy);
        table = small_copy;
    }
    s->len = s->fill = s->size = 0;
    for (size_t i = 0; i < size; i++) {
        if (table[i].key != NULL && table[i].key != DELETED) {
            mw__decref(table[i].key);
        }
    }
    if (table != small_copy) {
        mw__mem_free(table);
    }
}

const mw_type mw_set_type = {
    .name = "set",
    .size = sizeof(mw__set),
    .flags = MW_TYPE_GC,
    .traverse = set_traverse,
    .clear = set_clear,
};

/*
 * Probe for key: 1 and its slot if present; 0 and the slot to insert at
 * (the first deleted or empty one) if absent; -1 if a comparison failed.
 */
static int probe(mw__set *s, mw_object *key, int64_t hash, size_t *out)
{
    size_t mask = s->size - 1;
    slot *table = table_of(s);   // comparing built-in keys cannot change it
    uint64_t perturb = (uint64_t)hash;
    size_t i = (size_t)hash & mask;
    size_t free_slot = SIZE_MAX;
    for (;;) {
        slot *sl = &table[i];
        if (sl->key == NULL) {
            *out = free_slot != SIZE_MAX ? free_slot : i;
            return 0;
        }
        if (sl->key == DELETED) {
            if (free_slot == SIZE_MAX) {
                free_slot = i;
            }
        } else if (sl->key == key) {
            *out = i;
            return 1;
        } else if (sl->hash == hash) {
            int eq = mw__equal(sl->key, key, 0);
            if (eq != 0) {
                *out = i;
                return eq;
            }
        }
        perturb >>= 5;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
    }
}

/* Rebuild with room for need keys, dropping deleted slots: into the inline
 * table if MIN_SIZE slots are enough (from a copy if the set is there
 * already), else into a new block; an old block of its own is freed. */
static int rebuild(mw__set *s, size_t need)
{
    size_t size = MIN_SIZE;
    while (size * 3 / 5 < need) {
        if (size >= MAX_SIZE) {
            mw_err_set(MW_ERR_OVERFLOW, "set too large");
            return -1;
        }
        size *= 2;
    }
    // The old table, saved first: u.small and u.table overlap, so filling
    // the inline table overwrites the pointer, and storing the pointer
    // overwrites the inline table's first slot.
    slot *old = s->size != 0 ? table_of(s) : NULL;
    size_t old_size = s->size;
    slot small_copy[MIN_SIZE];
    if (old_size == MIN_SIZE) {
        memcpy(small_copy, s->u.small, sizeof small_copy);
        old = small_copy;
    }
    slot *table;
    if (size == MIN_SIZE) {
        table = s->u.small;
        memset(table, 0, sizeof s->u.small);
    } else {
        table = mw__mem_calloc(size, sizeof(slot));
        if (table == NULL) {
            mw__err_nomem();
            return -1;
        }
    }
    if (size > MIN_SIZE) {
        s->u.table = table;
    }
    s->size = (uint32_t)size;
    s->fill = s->len;
    size_t mask = size - 1;
    for (size_t j = 0; j < old_size; j++) {
        if (old[j].key != NULL && old[j].key != DELETED) {
            uint64_t perturb = (uint64_t)old[j].hash;
            size_t i = (size_t)old[j].hash & mask;
            while (table[i].key != NULL) {
                perturb >>= 5;
                i = (i * 5 + 1 + (size_t)perturb) & mask;
            }
            table[i] = old[j];
        }
    }
    if (old_size > MIN_SIZE) {
        mw__mem_free(old);   // a block of its own
    }
    return 0;
}

static mw__set *checked(const char *func, mw_object *s, mw_object *key)
{
    if (mw__tstate_checked(func) == NULL) {
        return NULL;
    }
    if (!mw__is_type(s, &mw_set_type)) {
        return mw__err_type(func, "set", s);
    }
    if (key == NULL) {
        mw_err_set(MW_ERR_TYPE, "%s: NULL key", func);
        return NULL;
    }
    return (mw__set *)s;
}

mw_object *mw_set_new(void)
{
    if (mw__tstate_checked("mw_set_new") == NULL) {
        return NULL;
    }
    // The inline table is zeroed by the first add before it is read.
    mw__set *s = (mw__set *)mw__obj_alloc_uninit(&mw_set_type, sizeof(mw__set));
    if (s == NULL) {
        return NULL;
    }
    s->len = s->fill = s->size = 0;
    return &s->ob;
}

int mw_set_add(mw_object *set, mw_object *key)
{
    mw__set *s = checked("mw_set_add", set, key);
    if (s == NULL) {
        return -1;
    }
    if (!mw__confine_store_ok("mw_set_add", set, key)) {
        return -1;
    }
    int64_t hash = mw__hash_key(key);
    if (hash == -1) {
        return -1;
    }
    if (s->size == 0) {
        // The first add: the inline table (zeroed, as a cleared set's may
        // still hold its old slots).
        s->size = MIN_SIZE;
        memset(s->u.small, 0, sizeof s->u.small);
    } else if (((size_t)s->fill + 1) * 5 > (size_t)s->size * 3 &&
               rebuild(s, ((size_t)s->len + 1) * 2) != 0) {
        return -1;
    }
    size_t at;
    int found = probe(s, key, hash, &at);
    if (found != 0) {
        return found < 0 ? -1 : 0;
    }
    slot *table = table_of(s);
    if (table[at].key == NULL) {
        s->fill++;
    }
    mw__gc_track_for(set, key);   // lazy tracking, as dict.c
    mw__incref(key);
    table[at] = (slot){.hash = hash, .key = key};
    s->len++;
    return 0;
}

/* Look key up for func: 1 present (its slot in *at), 0 absent, -1 error. */
static int find(const char *func, mw_object *set, mw_object *key, mw__set **out, size_t *at)
{
    mw__set *s = checked(func, set, key);
    if (s == NULL) {
        return -1;
    }
    int64_t hash = mw__hash_key(key);
    if (hash == -1) {
        return -1;
    }
    *out = s;
    return s->size == 0 ? 0 : probe(s, key, hash, at);
}

int mw_set_contains(mw_object *set, mw_object *key)
{
    mw__set *s;
    size_t at;
    return find("mw_set_contains", set, key, &s, &at);
}

int mw_set_discard(mw_object *set, mw_object *key)
{
    mw__set *s;
    size_t at;
    int found = find("mw_set_discard", set, key, &s, &at);
    if (found <= 0) {
        return found;
    }
    slot *table = table_of(s);
    mw_object *k = table[at].key;
    table[at].key = DELETED;
    s->len--;
    mw__decref(k);
    return 1;
}

size_t mw_set_len(mw_object *set)
{
    if (!mw__is_type(set, &mw_set_type)) {
        mw__err_type("mw_set_len", "set", set);
        return (size_t)-1;
    }
    return ((mw__set *)set)->len;
}

/* Walk the keys (borrowed), as mw__dict_next. */
bool mw__set_next(mw_object *set, size_t *pos, mw_object **key)
{
    mw__set *s = (mw__set *)set;
    while (*pos < s->size) {
        mw_object *k = table_of(s)[(*pos)++].key;
        if (k != NULL && k != DELETED) {
            *key = k;
            return true;
        }
    }
    return false;
}

/* Value equality of two sets (object.c's mw__equal): same length, and each
 * key of a is in b.  1, 0, or -1 with the error set. */
int mw__set_equal(mw_object *a, mw_object *b)
{
    mw__set *x = (mw__set *)a;
    mw__set *y = (mw__set *)b;
    if (x->len != y->len) {
        return 0;
    }
    for (size_t i = 0; i < x->size; i++) {
        mw_object *k = table_of(x)[i].key;
        if (k == NULL || k == DELETED) {
            continue;
        }
        size_t at;
        int found = y->size == 0 ? 0 : probe(y, k, table_of(x)[i].hash, &at);
        if (found != 1) {
            return found;
        }
    }
    return 1;
}
