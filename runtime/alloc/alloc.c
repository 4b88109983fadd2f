/*
 * alloc.c - the public allocator API of libmwrt: mw_malloc and friends.
 *
 * Small requests (1..512 bytes) are the pools' (alloc.h).  Larger ones go to
 * the C library with a 16-byte header in front that records the size and a
 * check word, so that mw_free can tell a large block of ours from a foreign
 * pointer, mw_realloc and mw_alloc_usable_size know the size, and the
 * statistics can count large blocks.  The header keeps the C library's
 * 16-byte alignment.
 */
#include "alloc/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Large blocks
 * ====================================================================== */

typedef struct large_header {
    size_t size;      /* bytes requested */
    uint64_t check;   /* LARGE_MAGIC ^ size */
} large_header;

#define LARGE_MAGIC 0x6d776c61726765ull   /* "mwlarge" */
_Static_assert(sizeof(large_header) == 16, "large header must keep 16-byte alignment");

static large_header *large_header_of(const void *p)
{
    large_header *hdr = (large_header *)p - 1;
#if MW_DEBUG >= 1
    if (hdr->check != (LARGE_MAGIC ^ hdr->size)) {
        mw__fatal("free(%p): not allocated by mw_malloc, or already freed", p);
    }
#endif
    return hdr;
}

/* Count a large block allocated (sign +1) or freed (-1) on this thread's heap,
 * or in the global fallback if this thread has none. */
static void large_count(size_t size, int sign)
{
    mw__heap *h = mw__tls_heap;
    if (h != &mw__heap_empty) {
        if (sign > 0) {
            mw__counter_add(&h->large_count, 1);
            mw__counter_add(&h->large_bytes, size);
        } else {
            mw__counter_sub(&h->large_count, 1);
            mw__counter_sub(&h->large_bytes, size);
        }
    } else {
        mw__atomic_add_relaxed(&mw__alloc_global.large_count_freed, 1);
        mw__atomic_add_relaxed(&mw__alloc_global.large_bytes_freed, size);
    }
}

static void *large_malloc(size_t n)
{
    if (n > (size_t)PTRDIFF_MAX - sizeof(large_header)) {
        errno = ENOMEM;
        return NULL;
    }
    large_header *hdr = malloc(sizeof(large_header) + n);
    if (hdr == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    hdr->size = n;
    hdr->check = LARGE_MAGIC ^ n;
    mw__heap_current();   // count on this thread's heap from the start
    large_count(n, +1);
    return hdr + 1;
}

static void large_free(void *p)
{
    large_header *hdr = large_header_of(p);
    large_count(hdr->size, -1);
    hdr->check = 0;   // a second free is caught by the check in debug builds
    free(hdr);
}

/* ======================================================================
 * The API
 * ====================================================================== */

void *mw_malloc(size_t n)
{
    // n - 1 < 512 also sends n == 0 (which wraps) to the out-of-line path.
    if (mw_likely(n - 1 < MW_ALLOC_SMALL_MAX)) {
        return mw__heap_malloc_small(mw__tls_heap, mw__size_class(n));
    }
    if (n == 0) {
        return mw__heap_malloc_small(mw__tls_heap, 0);
    }
    return large_malloc(n);
}

void mw_free(void *p)
{
    mw__arena *a = mw__arena_of(p);
    if (mw_likely(a != NULL)) {
        mw__free_small(a, p);
    } else if (p != NULL) {
        large_free(p);
    }
}

void *mw_calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = mw_malloc(n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

size_t mw_alloc_usable_size(const void *p)
{
    if (p == NULL) {
        return 0;
    }
    mw__arena *a = mw__arena_of(p);
    if (a != NULL) {
        return mw__class_size(mw__block_class(a, p));
    }
    return large_header_of(p)->size;
}

void *mw_realloc(void *p, size_t n)
{
    if (p == NULL) {
        return mw_malloc(n);
    }
    size_t old = mw_alloc_usable_size(p);
    // Keep the block if the new size still fits and wastes at most a quarter
    // of it (obmalloc's rule: shrinking a little is not worth a copy).
    if (n <= old && n >= old - old / 4) {
        return p;
    }
    if (mw__arena_of(p) == NULL && n > MW_ALLOC_SMALL_MAX) {
        // Large to large: let the C library move (or grow in place).
        large_header *hdr = large_header_of(p);
        size_t before = hdr->size;
        if (n > (size_t)PTRDIFF_MAX - sizeof(large_header)) {
            errno = ENOMEM;
            return NULL;
        }
        large_header *moved = realloc(hdr, sizeof(large_header) + n);
        if (moved == NULL) {
            errno = ENOMEM;
            return NULL;
        }
        large_count(before, -1);
        moved->size = n;
        moved->check = LARGE_MAGIC ^ n;
        large_count(n, +1);
        return moved + 1;
    }
    void *q = mw_malloc(n);
    if (q == NULL) {
        return NULL;
    }
    memcpy(q, p, n < old ? n : old);
    mw_free(p);
    return q;
}

int mw_alloc_size_class(size_t n, size_t *block_size)
{
    if (n == 0) {
        n = 1;
    }
    if (n > MW_ALLOC_SMALL_MAX) {
        return -1;
    }
    unsigned idx = mw__size_class(n);
    if (block_size != NULL) {
        *block_size = mw__class_size(idx);
    }
    return (int)idx;
}
