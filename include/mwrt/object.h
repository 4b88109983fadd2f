/*
 * mwrt/object.h - objects, types and reference counts; the built-in types.
 *
 * Reference rules, as in CPython:
 *   - a function that creates or hands out an object returns a NEW
 *     reference (the caller must mw_decref it), or NULL with the calling
 *     thread's error set (see mwrt/runtime.h);
 *   - a function that stores an object takes its own reference (the
 *     caller keeps its own);
 *   - accessors that hand out an element (mw_list_get, mw_tuple_get,
 *     mw_dict_get) return a new reference, safe under free threading.
 * None, True, False, the small ints -5..256, the one-byte strings and
 * interned strings are immortal: counting them is a no-op.
 *
 * Every call here requires an attached thread (mw_thread_attach) except
 * mw_refcnt, mw_type_of and mw_is, which only read.
 */
#ifndef MWRT_OBJECT_H
#define MWRT_OBJECT_H

#include <mwrt/common.h>
#include <mwrt/runtime.h>

#include <stdatomic.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mw_type mw_type;

/*
 * The object header, the first member of every object.  A user type's
 * struct begins with an mw_object member.  All fields are private to the
 * runtime except ob_type, which is read-only.
 */
typedef struct mw_object {
    _Atomic(uintptr_t) ob_owner;      /* private: owning thread (free mode) */
    _Atomic(uint32_t) ob_ref_local;   /* private: owner's count / GIL count */
    uint16_t ob_flags;                /* private */
    uint16_t ob_gc_bits;              /* private: the collector's */
    _Atomic(intptr_t) ob_ref_shared;  /* private: other threads' count */
    const mw_type *ob_type;           /* read-only */
} mw_object;

/* Visit one referenced object; a non-zero return stops the walk. */
typedef int (*mw_visit_fn)(mw_object *child, void *arg);

/* Type flags. */
#define MW_TYPE_GC        0x1u  /* a container: may be part of a cycle */
#define MW_TYPE_WEAKREF   0x2u  /* instances may be weakly referenced */
/* With MW_TYPE_GC (and a traverse hook): a container tracked lazily, as
 * dicts and sets are.  Instances are made untracked; the type calls
 * mw_gc_track_for (gc.h) before every store of a reference, which tracks
 * the container the first time it is given an object that may be part of
 * a cycle; a full collection untracks one whose traverse finds only such
 * atomic objects (str, int, bool, None, untracked tuples).  For containers
 * that mostly hold atomic values: the collector never walks them. */
#define MW_TYPE_GC_LAZY   0x4u

/*
 * A type: a table the runtime consults.  Define one as a static const
 * object and pass it to mw_new.  Every hook may be NULL.
 */
struct mw_type {
    const char *name;       /* for messages */
    size_t size;            /* bytes per instance, >= sizeof(mw_object) */
    unsigned flags;         /* MW_TYPE_* */
    /* Call visit on each object referenced by self; return the first
     * non-zero result of visit, or 0. */
    int (*traverse)(mw_object *self, mw_visit_fn visit, void *arg);
    /* Drop every reference self holds (set the fields to NULL first, then
     * decref): how a cycle is broken, and the first step of freeing. */
    void (*clear)(mw_object *self);
    /* Like __del__: runs at most once, when self is about to die; it may
     * resurrect self by storing a new reference somewhere. */
    void (*finalize)(mw_object *self);
    /* Release non-object resources; runs once, just before the memory is
     * freed. */
    void (*destroy)(mw_object *self);
};

/* ======================================================================
 * Objects and counts
 * ====================================================================== */

/* Count a new reference to o (NULL is allowed and ignored). */
MW_API void mw_incref(mw_object *o);

/* Drop a reference to o (NULL is allowed and ignored); frees o when the
 * last reference goes: finalize (once), clear, destroy, free. */
MW_API void mw_decref(mw_object *o);

/* The reference count of o (for tests and debugging; in free mode a
 * snapshot that may be stale).  Immortal objects report a large number. */
MW_API intptr_t mw_refcnt(const mw_object *o);

/* True if o is immortal. */
MW_API bool mw_is_immortal(const mw_object *o);

/* o's type (NULL if o is NULL). */
MW_API const mw_type *mw_type_of(const mw_object *o);

/* Identity: Python's "a is b". */
static inline bool mw_is(const mw_object *a, const mw_object *b)
{
    return a == b;
}

/*
 * A new zeroed instance of a user type, count 1.  Returns NULL with
 * MW_ERR_TYPE (NULL type, size too small) or MW_ERR_NOMEM.
 */
MW_API mw_object *mw_new(const mw_type *type);

/* The singletons (immortal; no decref needed, though it is harmless). */
MW_API mw_object *mw_none(void);
MW_API mw_object *mw_true(void);
MW_API mw_object *mw_false(void);
MW_API mw_object *mw_bool(bool v);

/*
 * Hash of a hashable object (int, str, bool, None, tuple of hashables);
 * -1 with MW_ERR_TYPE for unhashable ones (list, dict, set, user types).
 */
MW_API int64_t mw_hash(mw_object *o);

/* Value equality, as Python's == for the built-in types (ints and bools
 * compare by value, so 1 == True; containers compare their members;
 * identity for user types): 1 equal, 0 not, -1 error (MW_ERR_RECURSION for
 * structures nested deeper than 1000 levels). */
MW_API int mw_equal(mw_object *a, mw_object *b);

/* ======================================================================
 * int: 64-bit signed; arithmetic that overflows is an error
 * ====================================================================== */

extern MW_API const mw_type mw_int_type;

/* An int (new reference; -5..256 are shared and immortal). */
MW_API mw_object *mw_int(int64_t v);

/* o's value; on error (o not an int) returns -1 with MW_ERR_TYPE set, so
 * check mw_err_occurred() when -1 is a possible value. */
MW_API int64_t mw_int_value(mw_object *o);

/* a + b, a - b, a * b as new ints; NULL with MW_ERR_OVERFLOW if the result
 * does not fit in 64 bits, MW_ERR_TYPE if an operand is not an int. */
MW_API mw_object *mw_int_add(mw_object *a, mw_object *b);
MW_API mw_object *mw_int_sub(mw_object *a, mw_object *b);
MW_API mw_object *mw_int_mul(mw_object *a, mw_object *b);

/* ======================================================================
 * str: immutable bytes with a length (any bytes, NUL included)
 * ====================================================================== */

extern MW_API const mw_type mw_str_type;

/* A str from a NUL-terminated C string; one-byte strings are shared. */
MW_API mw_object *mw_str(const char *s);

/* A str from n bytes at s (s may hold NULs; s may be NULL if n is 0). */
MW_API mw_object *mw_str_n(const char *s, size_t n);

/* The interned str equal to s: equal strings interned are one object,
 * immortal.  Returns a new (immortal) reference. */
MW_API mw_object *mw_str_intern(const char *s);

/* o's bytes (NUL-terminated for convenience) and length in *len (if not
 * NULL); NULL with MW_ERR_TYPE if o is not a str.  Valid while o lives. */
MW_API const char *mw_str_data(mw_object *o, size_t *len);

/* o's length; (size_t)-1 with MW_ERR_TYPE if o is not a str. */
MW_API size_t mw_str_len(mw_object *o);

/* ======================================================================
 * Containers
 * ====================================================================== */

extern MW_API const mw_type mw_tuple_type;
extern MW_API const mw_type mw_list_type;
extern MW_API const mw_type mw_dict_type;
extern MW_API const mw_type mw_set_type;

/* A tuple of the n objects items[0..n-1] (each gains a reference); n == 0
 * gives the shared empty tuple.  NULL items are an MW_ERR_TYPE error. */
MW_API mw_object *mw_tuple_new(size_t n, mw_object *const *items);
MW_API size_t mw_tuple_len(mw_object *t);          /* (size_t)-1 on error */
MW_API mw_object *mw_tuple_get(mw_object *t, size_t i); /* new reference */

/* An empty list. */
MW_API mw_object *mw_list_new(void);
/* Append o (o gains a reference).  0, or -1 with the error set. */
MW_API int mw_list_append(mw_object *list, mw_object *o);
/* Item i (negative i counts from the end): a new reference, or NULL with
 * MW_ERR_INDEX. */
MW_API mw_object *mw_list_get(mw_object *list, ptrdiff_t i);
/* Replace item i with o (o gains a reference; the old item loses one). */
MW_API int mw_list_set(mw_object *list, ptrdiff_t i, mw_object *o);
MW_API size_t mw_list_len(mw_object *list);        /* (size_t)-1 on error */

/* An empty dict (insertion-ordered). */
MW_API mw_object *mw_dict_new(void);
/* d[key] = value (both gain a reference).  0, or -1 (unhashable key...). */
MW_API int mw_dict_set(mw_object *d, mw_object *key, mw_object *value);
/* d[key] as a new reference, or NULL with MW_ERR_KEY if missing. */
MW_API mw_object *mw_dict_get(mw_object *d, mw_object *key);
/* del d[key]: 0, or -1 with MW_ERR_KEY if missing. */
MW_API int mw_dict_del(mw_object *d, mw_object *key);
MW_API size_t mw_dict_len(mw_object *d);           /* (size_t)-1 on error */
/* The i-th item in insertion order (0 <= i < len): new references to its
 * key and value in *key and *value; 0, or -1 with MW_ERR_INDEX. */
MW_API int mw_dict_item(mw_object *d, size_t i, mw_object **key, mw_object **value);

/* An empty set. */
MW_API mw_object *mw_set_new(void);
/* Add key (it gains a reference unless already present).  0 or -1. */
MW_API int mw_set_add(mw_object *s, mw_object *key);
/* 1 if key is in s, 0 if not, -1 on error. */
MW_API int mw_set_contains(mw_object *s, mw_object *key);
/* Remove key if present: 1 removed, 0 absent, -1 error. */
MW_API int mw_set_discard(mw_object *s, mw_object *key);
MW_API size_t mw_set_len(mw_object *s);            /* (size_t)-1 on error */

/* ======================================================================
 * Weak references
 * ====================================================================== */

/*
 * A weak reference does not keep its target alive.  When the target dies
 * (its last reference dropped, after its finalizer ran without resurrecting
 * it), every weak reference to it is cleared first, and then each one's
 * callback, if it has one, is called with the weak reference (which is kept
 * alive for the call).  Only instances of types with MW_TYPE_WEAKREF can be
 * weakly referenced.  A callback runs on the thread where the target died,
 * must not fail, and may not call mw_weakref_new on the dead target.
 */
typedef void (*mw_weakref_callback)(mw_object *weakref);

extern MW_API const mw_type mw_weakref_type;
extern MW_API const mw_type mw_weakproxy_type;

/* A new weak reference to target, with callback (may be NULL).  NULL with
 * MW_ERR_TYPE if target's type is not weakly referenceable. */
MW_API mw_object *mw_weakref_new(mw_object *target, mw_weakref_callback callback);

/* The target of ref as a new reference, or None (mw_none()) once it died. */
MW_API mw_object *mw_weakref_get(mw_object *ref);

/* A weak proxy: like a weak reference, but using it after its target died
 * is an error rather than None (Python's weakref.proxy). */
MW_API mw_object *mw_weakproxy_new(mw_object *target, mw_weakref_callback callback);

/* The target of proxy as a new reference, or NULL with MW_ERR_VALUE
 * ("weakly-referenced object no longer exists") once it died. */
MW_API mw_object *mw_weakproxy_get(mw_object *proxy);

/* How many weak references and proxies point at target now. */
MW_API size_t mw_weakref_count(mw_object *target);

/* ======================================================================
 * Copies
 * ====================================================================== */

/* A shallow copy: a new list/dict/set holding the same members; immutable
 * objects (int, str, tuple, None, bool) are returned themselves, as Python
 * does.  NULL with MW_ERR_TYPE for user types. */
MW_API mw_object *mw_copy(mw_object *o);

/* A deep copy: members copied recursively with a memo, so shared members
 * stay shared in the copy and cycles are reproduced.  NULL with the error
 * set (MW_ERR_TYPE for user types, MW_ERR_RECURSION if nested deeper than
 * 1000 levels, as Python's default limit, MW_ERR_NOMEM). */
MW_API mw_object *mw_deepcopy(mw_object *o);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_OBJECT_H */
