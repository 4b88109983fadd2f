/*
 * object.c - allocating objects, the singletons, mw_new, hashing and
 * equality.
 */
#include "object/object.h"
#include "sched/sched.h"

#include <string.h>

/* ======================================================================
 * Allocation
 * ====================================================================== */

/* With a memory limit: look at memory use every MW_SCHED_MEMORY_CHECK_BYTES
 * of allocation by this thread (and at every large request). */
static bool memory_allows(size_t total)
{
    mw__tstate *t = mw__tls_tstate;
    if (t != NULL && total < MW_SCHED_MEMORY_CHECK_BYTES / 8) {
        t->mem_since_check += total;
        if (t->mem_since_check < MW_SCHED_MEMORY_CHECK_BYTES) {
            return true;
        }
        t->mem_since_check = 0;
    }
    return mw__gc_memory_check(total);
}

/* mw__obj_alloc and mw__obj_alloc_uninit: the body (what follows the
 * header) is zeroed only with zero_body.  The hidden prefix and the header
 * are written field by field, so an object whose body its type fills in
 * costs no memset call. */
MW_INLINE mw_object *obj_alloc(const mw_type *t, size_t size, bool zero_body)
{
    size_t head = mw__prefix_size(t);
    if (t->flags & MW_TYPE_GC) {
        mw__gc_before_alloc();   // may collect, before the new object exists
    }
    if (size > (size_t)PTRDIFF_MAX - head) {
        mw_err_set(MW_ERR_OVERFLOW, "object of %zu bytes is too large", size);
        return NULL;
    }
    // Objects are small as a rule: go straight to the heap's fast path.
    size_t total = head + size;
    if (mw__atomic_load_relaxed(&mw__sched_memory_limit) != 0 && !memory_allows(total)) {
        return NULL;
    }
    char *mem = total <= MW_ALLOC_SMALL_MAX && !MW__OBJECT_SYSTEM_MALLOC
                    ? mw__heap_malloc_small(mw__tls_heap, mw__size_class(total))
                    : mw__mem_malloc(total);
    if (mem == NULL) {
        return mw__err_nomem();
    }
    mw_object *o = (mw_object *)(mem + head);
    if (t->flags & MW_TYPE_WEAKREF) {
        *(struct mw__weakref **)mem = NULL;   // the weak-reference list, first
    }
    if (t->flags & MW_TYPE_GC) {
        *mw__gc_head_of(o) = (mw__gc_head){.next = NULL, .prev = NULL, .refs = 0};
    }
    memset(o, 0, sizeof *o);   // a constant size: plain stores
    if (zero_body) {
        memset(o + 1, 0, size - sizeof *o);
    }
    mw__atomic_store_relaxed(&o->ob_ref_local, 1);
    mw__atomic_store_relaxed(&o->ob_owner, (uintptr_t)mw__tls_tstate);
    o->ob_type = t;
    if (t->flags & MW_TYPE_WEAKREF) {
        mw__rc_make_shared(o);   // see weakref.c
    }
    if ((t->flags & MW_TYPE_GC) && !mw__gc_lazy_type(t)) {
        mw__gc_track(o);   // lazy ones (dicts, sets): at their first store that needs it
    }
    return o;
}

mw_object *mw__obj_alloc(const mw_type *t, size_t size)
{
    return obj_alloc(t, size, true);
}

mw_object *mw__obj_alloc_uninit(const mw_type *t, size_t size)
{
    return obj_alloc(t, size, false);
}

void mw__obj_free(mw_object *o)
{
    if (o->ob_type->flags & MW_TYPE_GC) {
        mw__gc_untrack(o);
    }
    void *mem = (char *)o - mw__prefix_size(o->ob_type);
    mw__arena *a = MW__OBJECT_SYSTEM_MALLOC ? NULL : mw__arena_of(mem);
    if (mw_likely(a != NULL)) {
        mw__free_small(a, mem);
    } else {
        mw__mem_free(mem);
    }
}

mw_object *mw_new(const mw_type *type)
{
    if (mw__tstate_checked("mw_new") == NULL) {
        return NULL;
    }
    if (type == NULL || type->size < sizeof(mw_object)) {
        mw_err_set(MW_ERR_TYPE, "mw_new: %s", type == NULL ? "NULL type"
                   : "type size is smaller than the object header");
        return NULL;
    }
    if ((type->flags & MW_TYPE_GC_LAZY) &&
        (!(type->flags & MW_TYPE_GC) || type->traverse == NULL)) {
        // A full collection untracks by walking it, and only containers
        // are ever tracked.
        mw_err_set(MW_ERR_TYPE, "mw_new: type '%s' has MW_TYPE_GC_LAZY without "
                   "MW_TYPE_GC and a traverse hook", type->name);
        return NULL;
    }
    return mw__obj_alloc(type, type->size);
}

int mw__visit_items(mw_object *const *items, size_t n, mw_visit_fn visit, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        if (items[i] != NULL) {
            int r = visit(items[i], arg);
            if (r != 0) {
                return r;
            }
        }
    }
    return 0;
}

const mw_type *mw_type_of(const mw_object *o)
{
    return o != NULL ? o->ob_type : NULL;
}

/* ======================================================================
 * None, True, False
 * ====================================================================== */

const mw_type mw__none_type = {.name = "NoneType", .size = sizeof(mw_object)};
const mw_type mw__bool_type = {.name = "bool", .size = sizeof(mw__int)};

#define IMMORTAL_HEADER(type) {.ob_flags = MW__OBJ_IMMORTAL, .ob_type = (type)}

static mw_object none_object = IMMORTAL_HEADER(&mw__none_type);
static mw__int true_object = {.ob = IMMORTAL_HEADER(&mw__bool_type), .value = 1};
static mw__int false_object = {.ob = IMMORTAL_HEADER(&mw__bool_type), .value = 0};

mw_object *mw_none(void)
{
    return &none_object;
}

mw_object *mw_true(void)
{
    return &true_object.ob;
}

mw_object *mw_false(void)
{
    return &false_object.ob;
}

mw_object *mw_bool(bool v)
{
    return v ? &true_object.ob : &false_object.ob;
}

/* The caches are built once per process, on the first runtime. */
static pthread_once_t caches_once = PTHREAD_ONCE_INIT;

static void caches_build(void)
{
    mw__int_cache_init();
    mw__str_cache_init();
}

void mw__caches_init(void)
{
    pthread_once(&caches_once, caches_build);
}

/* ======================================================================
 * Hashing and equality
 * ====================================================================== */

static int64_t hash_tuple(mw__tuple *t, int depth)
{
    // The combination CPython uses for tuples (after xxHash's rounds).
    uint64_t acc = 0x27d4eb2f165667c5ull;
    for (size_t i = 0; i < t->len; i++) {
        int64_t h = mw__hash(t->items[i], depth + 1);
        if (h == -1) {
            return -1;
        }
        acc += (uint64_t)h * 0xc2b2ae3d27d4eb4full;
        acc = (acc << 31) | (acc >> 33);
        acc *= 0x9e3779b185ebca87ull;
    }
    acc += t->len ^ (0x27d4eb2f165667c5ull ^ 3527539ull);
    return acc == (uint64_t)-1 ? 1546275796 : (int64_t)acc;
}

int64_t mw__hash(mw_object *o, int depth)
{
    if (o == NULL) {
        mw_err_set(MW_ERR_TYPE, "hash: NULL object");
        return -1;
    }
    if (depth > MW_OBJECT_MAX_DEPTH) {
        mw_err_set(MW_ERR_RECURSION, "hash: nested too deeply");
        return -1;
    }
    const mw_type *t = o->ob_type;
    if (t == &mw_str_type) {
        return mw__str_hash((mw__str *)o);
    }
    if (t == &mw_int_type || t == &mw__bool_type) {
        int64_t v = ((mw__int *)o)->value;
        return v == -1 ? -2 : v;   // -1 means "error", as in CPython
    }
    if (t == &mw_tuple_type) {
        return hash_tuple((mw__tuple *)o, depth);
    }
    if (t == &mw__none_type) {
        return 0x5bd1e995;
    }
    mw_err_set(MW_ERR_TYPE, "unhashable type: '%s'", t->name);
    return -1;
}

int64_t mw_hash(mw_object *o)
{
    return mw__hash(o, 0);
}

static int equal_items(mw_object **a, mw_object **b, size_t n, int depth)
{
    for (size_t i = 0; i < n; i++) {
        int eq = mw__equal(a[i], b[i], depth + 1);
        if (eq != 1) {
            return eq;
        }
    }
    return 1;
}

int mw__equal(mw_object *a, mw_object *b, int depth)
{
    if (a == NULL || b == NULL) {
        mw_err_set(MW_ERR_TYPE, "equal: NULL object");
        return -1;
    }
    if (a == b) {
        return 1;
    }
    if (depth > MW_OBJECT_MAX_DEPTH) {
        mw_err_set(MW_ERR_RECURSION, "equal: nested too deeply");
        return -1;
    }
    const mw_type *t = a->ob_type;
    bool a_int = t == &mw_int_type || t == &mw__bool_type;
    bool b_int = b->ob_type == &mw_int_type || b->ob_type == &mw__bool_type;
    if (a_int || b_int) {
        // bool is an int, as in Python: 1 == True, and they hash alike.
        return a_int && b_int && ((mw__int *)a)->value == ((mw__int *)b)->value;
    }
    if (t != b->ob_type) {
        return 0;
    }
    if (t == &mw_str_type) {
        return mw__str_eq((mw__str *)a, (mw__str *)b);
    }
    if (t == &mw_tuple_type) {
        mw__tuple *x = (mw__tuple *)a;
        mw__tuple *y = (mw__tuple *)b;
        return x->len == y->len ? equal_items(x->items, y->items, x->len, depth) : 0;
    }
    if (t == &mw_list_type) {
        mw__list *x = (mw__list *)a;
        mw__list *y = (mw__list *)b;
        return x->len == y->len ? equal_items(x->items, y->items, x->len, depth) : 0;
    }
    if (t == &mw_dict_type) {
        return mw__dict_equal(a, b, depth);
    }
    if (t == &mw_set_type) {
        return mw__set_equal(a, b);
    }
    return 0;   // everything else compares by identity
}

int mw_equal(mw_object *a, mw_object *b)
{
    return mw__equal(a, b, 0);
}
