/*
 * override.c - libmwmalloc.so: the small-object allocator as a drop-in
 * malloc, for LD_PRELOAD.
 *
 * Requests of 1..512 bytes with alignment up to 16 are served from the pools,
 * rounded up to a multiple of 16 so every block honours
 * alignof(max_align_t) as glibc's do (the odd size classes, see alloc.h).
 * Everything else - larger requests, stricter alignments - goes to the next
 * allocator in the chain (dlsym(RTLD_NEXT), normally glibc's malloc), and
 * free, realloc and malloc_usable_size send a pointer back there whenever
 * the arena map says it is not ours.
 *
 * Until the constructor has looked up the next allocator, large requests go
 * to glibc's __libc_malloc family, which is what RTLD_NEXT finds when this
 * library is the only allocator preloaded.  dlsym may itself allocate; those
 * requests are served by whichever path is in force at that moment.
 *
 * Set MWMALLOC_STATS=1 to get one line of statistics on stderr at exit.
 * MWMALLOC_PURGE_DELAY, MWMALLOC_ARENA_CACHE and MWMALLOC_PURGE_ADVICE tune
 * how empty arenas are given back (arena.c).
 */
#define _GNU_SOURCE
#include "alloc/alloc.h"

#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MW_EXPORT __attribute__((visibility("default")))

/* ======================================================================
 * The next allocator
 * ====================================================================== */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static size_t libc_usable_size(void *p);

static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    void *(*memalign)(size_t, size_t);
    size_t (*usable_size)(void *);
} next = {__libc_malloc, __libc_calloc, __libc_realloc, __libc_free, __libc_memalign,
          libc_usable_size};

/* Before the constructor ran there is no way to ask glibc for the usable
 * size other than the symbol we override; answer conservatively. */
static size_t libc_usable_size(void *p)
{
    (void)p;
    return 0;
}

/* Where the stats line goes: a duplicate of stderr taken at start-up,
 * because programs may close stderr in their own atexit handlers (GNU
 * coreutils' close_stdout does) before ours runs. */
static int stats_fd = -1;

static void print_stats(void)
{
    mw_alloc_stats st;
    mw_alloc_get_stats(&st);
    size_t blocks = 0;
    for (unsigned i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        blocks += st.classes[i].blocks_in_use;
    }
    char line[256];
    int n = snprintf(line, sizeof line,
                     "mwmalloc: arenas_mapped=%zu arenas_live=%zu peak_bytes_from_os=%zu "
                     "heaps=%zu blocks_in_use=%zu pools_in_use=%zu pools_free=%zu "
                     "arenas_reused=%zu arenas_purged=%zu\n",
                     st.arenas_mapped, st.arenas_live, st.peak_bytes_from_os, st.heaps, blocks,
                     st.pools_in_use, st.pools_free, st.arenas_reused, st.arenas_purged);
    if (n > 0) {
        ssize_t unused = write(stats_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)unused;
    }
}

__attribute__((constructor)) static void resolve_next(void)
{
    // Only switch if the whole family resolves, so a block is never freed
    // by an allocator other than the one that made it.
    void *m = dlsym(RTLD_NEXT, "malloc");
    void *c = dlsym(RTLD_NEXT, "calloc");
    void *r = dlsym(RTLD_NEXT, "realloc");
    void *f = dlsym(RTLD_NEXT, "free");
    void *a = dlsym(RTLD_NEXT, "memalign");
    void *u = dlsym(RTLD_NEXT, "malloc_usable_size");
    if (m != NULL && c != NULL && r != NULL && f != NULL && a != NULL && u != NULL) {
        // Blocks handed out by __libc_malloc before this point are glibc's;
        // RTLD_NEXT is glibc too unless another allocator is preloaded after
        // this one, which is documented as unsupported.
        next.malloc = (void *(*)(size_t))m;
        next.calloc = (void *(*)(size_t, size_t))c;
        next.realloc = (void *(*)(void *, size_t))r;
        next.free = (void (*)(void *))f;
        next.memalign = (void *(*)(size_t, size_t))a;
        next.usable_size = (size_t (*)(void *))u;
    }
    const char *stats = getenv("MWMALLOC_STATS");
    if (stats != NULL && stats[0] != '\0' && stats[0] != '0') {
        stats_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 100);
        if (stats_fd >= 0) {
            atexit(print_stats);
        }
    }
}

/* ======================================================================
 * The malloc family
 * ====================================================================== */

MW_INLINE void *small_malloc(size_t n)
{
    return mw__heap_malloc_small(mw__tls_heap, mw__size_class16(n));
}

MW_EXPORT void *malloc(size_t n)
{
    if (mw_likely(n - 1 < MW_ALLOC_SMALL_MAX)) {
        return small_malloc(n);
    }
    return n == 0 ? small_malloc(1) : next.malloc(n);
}

MW_EXPORT void free(void *p)
{
    mw__arena *a = mw__arena_of(p);
    if (mw_likely(a != NULL)) {
        mw__free_small(a, p);
    } else if (p != NULL) {
        next.free(p);
    }
}

MW_EXPORT void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    if (n > MW_ALLOC_SMALL_MAX) {
        return next.calloc(count, size);
    }
    void *p = small_malloc(n == 0 ? 1 : n);
    if (p != NULL) {
        memset(p, 0, n);
    }
    return p;
}

MW_EXPORT size_t malloc_usable_size(void *p)
{
    if (p == NULL) {
        return 0;
    }
    mw__arena *a = mw__arena_of(p);
    if (a != NULL) {
        return mw__class_size(mw__block_class(a, p));
    }
    return next.usable_size(p);
}

MW_EXPORT void *realloc(void *p, size_t n)
{
    if (p == NULL) {
        return malloc(n);
    }
    mw__arena *a = mw__arena_of(p);
    if (a == NULL) {
        if (n - 1 < MW_ALLOC_SMALL_MAX || n == 0) {
            // Shrinking a foreign block into our pools would need its size;
            // the next allocator knows it, so let it keep the block.
            return next.realloc(p, n == 0 ? 1 : n);
        }
        return next.realloc(p, n);
    }
    size_t old = mw__class_size(mw__block_class(a, p));
    if (n <= old && n + 16 > old) {
        return p;   // same 16-byte class: nothing to do
    }
    void *q = malloc(n);
    if (q == NULL) {
        return NULL;   // errno set; p untouched, as C requires
    }
    memcpy(q, p, n < old ? n : old);
    mw__free_small(a, p);
    return q;
}

MW_EXPORT void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n);
}

static bool is_power_of_two(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Aligned requests: alignments up to 16 are what every pool block has. */
static void *aligned_malloc(size_t align, size_t n)
{
    if (align <= 16 && n - 1 < MW_ALLOC_SMALL_MAX) {
        return small_malloc(n);
    }
    return next.memalign(align, n);
}

MW_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!is_power_of_two(align) || align % sizeof(void *) != 0) {
        return EINVAL;
    }
    int saved = errno;
    void *p = aligned_malloc(align, n == 0 ? 1 : n);
    if (p == NULL) {
        return ENOMEM;
    }
    errno = saved;
    *out = p;
    return 0;
}

MW_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (!is_power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_malloc(align, n == 0 ? 1 : n);
}

MW_EXPORT void *memalign(size_t align, size_t n)
{
    if (!is_power_of_two(align)) {
        errno = EINVAL;
        return NULL;
    }
    return aligned_malloc(align, n == 0 ? 1 : n);
}

MW_EXPORT void *valloc(size_t n)
{
    return next.memalign((size_t)sysconf(_SC_PAGESIZE), n == 0 ? 1 : n);
}

MW_EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t rounded;
    if (__builtin_add_overflow(n, page - 1, &rounded)) {
        errno = ENOMEM;
        return NULL;
    }
    rounded &= ~(page - 1);
    return next.memalign(page, rounded == 0 ? page : rounded);
}
