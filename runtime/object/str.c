/*
 * str.c - immutable byte strings with a cached hash; the one-byte cache and
 * the intern table.
 *
 * The seed's string examples: every one-byte string (and the empty one) is
 * preallocated and shared, so mw_str("n") twice is one object; equal
 * strings passed through mw_str_intern are one immortal object, as
 * CPython's interned identifiers are ("python" is "python").  Other strings
 * are made fresh each time.
 *
 * The hash is a 64-bit multiply-xorshift over 8-byte words, keyed by a
 * per-process random seed so that colliding keys cannot be precomputed
 * offline; it is not a cryptographic PRF (SipHash would be the next step
 * if that matters for a deployment).
 */
#include "object/object.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

const mw_type mw_str_type = {.name = "str", .size = sizeof(mw__str)};

static mw__str *one_byte[256];
static mw__str *empty;
static uint64_t hash_seed;

/* ======================================================================
 * Allocation, hashing, equality
 * ====================================================================== */

mw__str *mw__str_alloc(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX - sizeof(mw__str) - 1) {
        mw_err_set(MW_ERR_OVERFLOW, "str of %zu bytes is too large", n);
        return NULL;
    }
    mw__str *s = (mw__str *)mw__obj_alloc(&mw_str_type, sizeof(mw__str) + n + 1);
    if (s == NULL) {
        return NULL;
    }
    s->len = n;
    mw__atomic_store_relaxed(&s->hash, -1);
    s->data[n] = '\0';
    return s;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

static int64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = hash_seed ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w) * 0xbf58476d1ce4e5b9ull;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = mix(h ^ w ^ ((uint64_t)n << 56));
    int64_t r = (int64_t)(h >> 1);   // non-negative, so never -1
    return r;
}

int64_t mw__str_hash(mw__str *s)
{
    // Racing threads compute the same value; relaxed is enough.
    int64_t h = mw__atomic_load_relaxed(&s->hash);
    if (h == -1) {
        h = hash_bytes(s->data, s->len);
        mw__atomic_store_relaxed(&s->hash, h);
    }
    return h;
}

bool mw__str_eq(const mw__str *a, const mw__str *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* ======================================================================
 * The one-byte cache (process-wide, immortal, from the C library)
 * ====================================================================== */

static mw__str *static_str(const char *data, size_t n)
{
    mw__str *s = calloc(1, sizeof(mw__str) + n + 1);
    if (s == NULL) {
        mw__fatal("cannot allocate the string cache at start-up");
    }
    s->ob.ob_flags = MW__OBJ_IMMORTAL;
    s->ob.ob_type = &mw_str_type;
    s->len = n;
    memcpy(s->data, data, n);
    mw__atomic_store_relaxed(&s->hash, -1);
    return s;
}

void mw__str_cache_init(void)
{
    if (getrandom(&hash_seed, sizeof hash_seed, GRND_NONBLOCK) != sizeof hash_seed) {
        hash_seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uintptr_t)&hash_seed;
    }
    empty = static_str("", 0);
    for (int c = 0; c < 256; c++) {
        char ch = (char)c;
        one_byte[c] = static_str(&ch, 1);
    }
}

/* ======================================================================
 * Construction and access
 * ====================================================================== */

mw_object *mw_str_n(const char *s, size_t n)
{
    if (s == NULL && n > 0) {
        mw_err_set(MW_ERR_TYPE, "mw_str_n: NULL data");
        return NULL;
    }
    if (n <= 1) {
        return n == 0 ? &empty->ob : &one_byte[(unsigned char)s[0]]->ob;
    }
    if (mw__tstate_checked("mw_str_n") == NULL) {
        return NULL;
    }
    mw__str *r = mw__str_alloc(n);
    if (r == NULL) {
        return NULL;
    }
    memcpy(r->data, s, n);
    return &r->ob;
}

mw_object *mw_str(const char *s)
{
    if (s == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_str: NULL string");
        return NULL;
    }
    return mw_str_n(s, strlen(s));
}

const char *mw_str_data(mw_object *o, size_t *len)
{
    if (!mw__is_type(o, &mw_str_type)) {
        return mw__err_type("mw_str_data", "str", o);
    }
    mw__str *s = (mw__str *)o;
    if (len != NULL) {
        *len = s->len;
    }
    return s->data;
}

size_t mw_str_len(mw_object *o)
{
    if (!mw__is_type(o, &mw_str_type)) {
        mw__err_type("mw_str_len", "str", o);
        return (size_t)-1;
    }
    return ((mw__str *)o)->len;
}

/* ======================================================================
 * Interning: one process-wide open-addressing table under a mutex
 * ====================================================================== */

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static mw__str **intern_slots;   // power-of-two size, NULL = empty
static size_t intern_size, intern_count;

/* The slot of a string equal to (data, n, hash), or the empty slot where
 * it would go.  intern_lock held. */
static mw__str **intern_find(const char *data, size_t n, int64_t h)
{
    size_t mask = intern_size - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        mw__str *s = intern_slots[i];
        if (s == NULL || (s->len == n && memcmp(s->data, data, n) == 0)) {
            return &intern_slots[i];
        }
    }
}

/* Double the table (or make the first one).  intern_lock held. */
static bool intern_grow(void)
{
    size_t size = intern_size ? intern_size * 2 : 1024;
    mw__str **old = intern_slots;
    size_t old_size = intern_size;
    intern_slots = calloc(size, sizeof *intern_slots);
    if (intern_slots == NULL) {
        intern_slots = old;
        return false;
    }
    intern_size = size;
    for (size_t i = 0; i < old_size; i++) {
        if (old[i] != NULL) {
            *intern_find(old[i]->data, old[i]->len, mw__str_hash(old[i])) = old[i];
        }
    }
    free(old);
    return true;
}

mw_object *mw_str_intern(const char *s)
{
    if (s == NULL) {
        mw_err_set(MW_ERR_TYPE, "mw_str_intern: NULL string");
        return NULL;
    }
    size_t n = strlen(s);
    if (n <= 1) {
        return mw_str_n(s, n);
    }
    if (mw__tstate_checked("mw_str_intern") == NULL) {
        return NULL;
    }
    int64_t h = hash_bytes(s, n);
    pthread_mutex_lock(&intern_lock);
    if ((intern_count + 1) * 3 >= intern_size * 2 && !intern_grow()) {
        pthread_mutex_unlock(&intern_lock);
        return mw__err_nomem();
    }
    mw__str **slot = intern_find(s, n, h);
    if (*slot == NULL) {
        mw__str *r = mw__str_alloc(n);
        if (r == NULL) {
            pthread_mutex_unlock(&intern_lock);
            return NULL;
        }
        memcpy(r->data, s, n);
        mw__atomic_store_relaxed(&r->hash, h);
        mw__make_immortal(&r->ob);
        *slot = r;
        intern_count++;
    }
    mw_object *found = &(*slot)->ob;
    pthread_mutex_unlock(&intern_lock);
    return found;
}
