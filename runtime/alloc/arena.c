/*
 * arena.c - arenas: mapping them from the OS, the arena map that tells our
 * pointers from everyone else's, and each heap's usable-arena list.
 *
 * The usable list is kept sorted by nfreepools ascending, so pools are
 * taken from the fullest arena and the emptiest ones get the chance to
 * drain completely and go back to the OS (obmalloc's policy, which in
 * CPython's measurements freed far more arenas than address order did).
 * To re-sort in O(1) when one arena's count moves by one, the heap keeps
 * nfp2last[k]: the last arena in the list whose count is k, or NULL.
 * Invariants (checked by mw__heap_arenas_are_valid):
 *   - every arena on the list has 0 < nfreepools < POOLS_PER_ARENA;
 *   - counts never decrease along the list;
 *   - nfp2last[k] is the last arena with count k, or NULL if there is none.
 *
 * ======================================================================
 * The arena cache: delayed, measured return of memory
 * ======================================================================
 *
 * Unmapping an arena the moment it empties is cheap in memory and dear in
 * time: a program that frees a burst and allocates the next one moments
 * later maps the arenas again and takes a page fault on every 4 KiB of
 * them (and munmap's TLB shootdown on the way out).  So an arena that
 * empties goes through three stages:
 *
 *   cached       mapped and resident, pools formatted as they were left;
 *                stamped with the time it emptied.  Reused first (newest
 *                first: its pages are the warmest).
 *   decommitted  once it has been cached for the purge delay: madvise tells
 *                the kernel its pages may go (MADV_DONTNEED by default, so
 *                RSS drops at once; MADV_FREE on request), and its pools
 *                are reset to untouched, since their headers may read back
 *                as zeros.  Still mapped, so reusing it costs page faults
 *                but no mmap and no new map entry.
 *   unmapped     when a heap holds more than the cache bound of empty
 *                arenas (decommitted ones go first, then the oldest cached
 *                ones), on mw_alloc_trim, and when a thread exits.
 *
 * The purge delay is measured on CLOCK_MONOTONIC_COARSE in milliseconds
 * (mw__alloc_clock_hook replaces it in tests).  Time passes only where the
 * allocator looks: expired arenas are decommitted when another arena
 * empties, when a pool fills, at a safepoint (mw__heap_take_back), and on
 * mw_alloc_purge; a heap with no cached arena never reads the clock.  A
 * delay of 0 decommits an arena as soon as it empties (it is still reused
 * before a new one is mapped); a negative delay never decommits.
 *
 * Who may touch the cache (the same rule as the rest of a heap):
 *   - h->cached, h->cached_oldest, h->decommitted, h->ncached,
 *     h->ndecommitted and, for an arena on either list, its freepools,
 *     ntouched, pool_class, next, prev and emptied_ms: the heap's owner
 *     only - the thread whose mw__tls_heap it is, or, for an abandoned
 *     heap, the holder of mw__alloc_global.lock.  No lock and no atomic.
 *   - An arena on either list holds no block, so no other thread has a
 *     reason to read it: a remote free or a usable-size query needs a live
 *     block.  The arena map still points at the descriptor, so a stray
 *     pointer still finds an arena owned by a live heap.
 *   - The settings (purge delay, cache bound, advice) and the global
 *     figures (bytes_committed, arenas_cached, ...) are atomics: any thread
 *     sets or reads them, relaxed; a heap that acts on an old setting for
 *     one slow path is harmless.
 *   - fork: the cache adds no lock.  The forking thread's heap (and its
 *     cache) goes on working in the child; other threads' heaps are left
 *     as they were, like the rest of their memory (heap.c).
 */
#include "alloc/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/types.h>

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer scans only its own heap, stacks and globals for pointers.
 * A large block whose only reference sits in one of our pools would be
 * reported as leaked, so under ASan every arena is registered as a root. */
#include <sanitizer/lsan_interface.h>
#define lsan_arena_mapped(p)   __lsan_register_root_region((p), MW__ARENA_SIZE)
#define lsan_arena_unmapped(p) __lsan_unregister_root_region((p), MW__ARENA_SIZE)
#else
#define lsan_arena_mapped(p)   ((void)(p))
#define lsan_arena_unmapped(p) ((void)(p))
#endif

_Atomic(mw__map_leaf *) mw__arena_map[MW__MAP_ROOT_SIZE];
bool (*mw__alloc_fail_hook)(size_t bytes);
int64_t (*mw__alloc_clock_hook)(void);

/* ======================================================================
 * OS layer
 * ====================================================================== */

static void *os_map(size_t bytes)
{
    if (mw_unlikely(mw__alloc_fail_hook != NULL) && mw__alloc_fail_hook(bytes)) {
        return NULL;
    }
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void os_unmap(void *p, size_t bytes)
{
    if (munmap(p, bytes) != 0) {
        mw__fatal("munmap(%p, %zu) failed: errno %d", p, bytes, errno);
    }
}

/* Tell the kernel the pages of [p, p + bytes) may go.  A failure (MADV_FREE
 * on a kernel before 4.5: EINVAL) falls back to MADV_DONTNEED, which every
 * Linux has; the memory is then given back at once instead of lazily. */
static void os_decommit(void *p, size_t bytes, int advice)
{
    if (madvise(p, bytes, advice) != 0 && advice != MADV_DONTNEED) {
        mw__atomic_store_relaxed(&mw__alloc_global.purge_advice, MADV_DONTNEED);
        (void)madvise(p, bytes, MADV_DONTNEED);
    }
}

/*
 * Make the untouched pools from first_pool on resident, up to
 * MW_ALLOC_PREFAULT_POOLS of them: the heap takes untouched pools in
 * address order, so these are the next ones it writes.  One system call
 * instead of a page fault each.  A kernel without MADV_POPULATE_WRITE
 * (before 5.14: EINVAL) is asked once; any other failure (no memory now)
 * is left to the page faults, as without it.  Owner only.
 */
void mw__arena_prefault(mw__arena *a, unsigned first_pool)
{
#ifdef MADV_POPULATE_WRITE
    static _Atomic(bool) unsupported;
    if (MW_ALLOC_PREFAULT_POOLS <= 1 || mw__atomic_load_relaxed(&unsupported)) {
        return;
    }
    unsigned n = MW__POOLS_PER_ARENA - first_pool;
    if (n > MW_ALLOC_PREFAULT_POOLS) {
        n = MW_ALLOC_PREFAULT_POOLS;
    }
    void *p = (void *)(a->address + (uintptr_t)first_pool * MW__POOL_SIZE);
    if (madvise(p, (size_t)n * MW__POOL_SIZE, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
        mw__atomic_store_relaxed(&unsupported, true);
    }
#else
    (void)a;
    (void)first_pool;
#endif
}

/*
 * Map an arena-aligned arena.  mmap only promises page alignment, so first
 * try a plain mapping (usually aligned when arenas are mapped one after
 * another); otherwise map twice the size and trim both ends.
 */
static void *os_map_arena(void)
{
    void *p = os_map(MW__ARENA_SIZE);
    if (p == NULL || ((uintptr_t)p & (MW__ARENA_SIZE - 1)) == 0) {
        return p;
    }
    os_unmap(p, MW__ARENA_SIZE);
    char *raw = os_map(2 * MW__ARENA_SIZE);
    if (raw == NULL) {
        return NULL;
    }
    uintptr_t aligned = ((uintptr_t)raw + MW__ARENA_SIZE - 1) & ~(uintptr_t)(MW__ARENA_SIZE - 1);
    size_t head = aligned - (uintptr_t)raw;
    if (head > 0) {
        os_unmap(raw, head);
    }
    os_unmap((char *)aligned + MW__ARENA_SIZE, MW__ARENA_SIZE - head);
    return (void *)aligned;
}

/* ======================================================================
 * The arena map (see alloc.h for why relaxed loads are enough)
 * ====================================================================== */

/* Point the map entry of the arena at address to a (NULL to clear it).
 * Returns false if the map cannot cover it (address too high, or no memory
 * for a leaf). */
static bool arena_map_set(uintptr_t address, mw__arena *a)
{
    uintptr_t n = address >> MW_ALLOC_ARENA_BITS;
    uintptr_t root = n >> MW__MAP_LEAF_BITS;
    if (root >= MW__MAP_ROOT_SIZE) {
        return false;
    }
    mw__map_leaf *leaf = mw__atomic_load_acquire(&mw__arena_map[root]);
    if (leaf == NULL) {
        // Leaves are never freed; two threads racing to add one keep the
        // first, and the loser unmaps its own.  Acquire/release orders the
        // zeroed leaf's contents before its publication.
        mw__map_leaf *fresh = os_map(sizeof(mw__map_leaf));
        if (fresh == NULL) {
            return false;
        }
        mw__map_leaf *expected = NULL;
        if (mw__atomic_cas_acq_rel(&mw__arena_map[root], &expected, fresh)) {
            leaf = fresh;
        } else {
            os_unmap((void *)fresh, sizeof(mw__map_leaf));
            leaf = expected;
        }
    }
    // Release: a reader that finds a also finds its heap and address.
    mw__atomic_store_release(&(*leaf)[n & (MW__MAP_LEAF_SIZE - 1)], a);
    return true;
}

/* ======================================================================
 * Arena descriptors: a slab of them, never unmapped
 * ====================================================================== */

/* A lock of its own, not the global one: an arena is released (and its
 * descriptor recycled) while the global lock is held to drain an abandoned
 * heap.  Taken only around the list operations below, never with another
 * lock acquired inside it. */
pthread_mutex_t mw__arena_descriptor_lock = PTHREAD_MUTEX_INITIALIZER;
static mw__arena *free_descriptors;

static mw__arena *descriptor_new(void)
{
    pthread_mutex_lock(&mw__arena_descriptor_lock);
    if (free_descriptors == NULL) {
        // mmap's page alignment keeps every descriptor cache-line aligned.
        mw__arena *slab = os_map(MW__POOL_SIZE);
        if (slab != NULL) {
            for (size_t i = 0; i < MW__POOL_SIZE / sizeof(mw__arena); i++) {
                slab[i].next = free_descriptors;
                free_descriptors = &slab[i];
            }
        }
    }
    mw__arena *a = free_descriptors;
    if (a != NULL) {
        free_descriptors = a->next;
    }
    pthread_mutex_unlock(&mw__arena_descriptor_lock);
    return a;
}

static void descriptor_free(mw__arena *a)
{
    pthread_mutex_lock(&mw__arena_descriptor_lock);
    a->next = free_descriptors;
    free_descriptors = a;
    pthread_mutex_unlock(&mw__arena_descriptor_lock);
}

/* ======================================================================
 * Mapping and releasing arenas
 * ====================================================================== */

static mw__arena *cache_take(mw__heap *h);

static void note_bytes(ssize_t delta)
{
    size_t now = atomic_fetch_add_explicit(&mw__alloc_global.bytes_from_os, (size_t)delta,
                                           memory_order_relaxed) + (size_t)delta;
    size_t peak = mw__atomic_load_relaxed(&mw__alloc_global.peak_bytes_from_os);
    while (now > peak && !atomic_compare_exchange_weak_explicit(
                             &mw__alloc_global.peak_bytes_from_os, &peak, now,
                             memory_order_relaxed, memory_order_relaxed)) {
    }
}

/*
 * Give the heap a usable arena: its spare if it has one, else a new one from
 * the OS.  Before mapping, memory freed into the heaps of exited threads is
 * reclaimed, which may return their arenas to the OS.  The arena becomes the
 * whole usable list (the list is empty when this is called).  Returns NULL
 * if the OS has no memory.  Owner only.
 */
mw__arena *mw__arena_new(mw__heap *h)
{
    mw_assert_internal(h->usable == NULL);
    mw__arena *a = cache_take(h);
    if (a == NULL) {
        if (mw__atomic_load_relaxed(&mw__alloc_global.nabandoned) > 0) {
            mw__heap_reclaim_abandoned(false);
        }
        a = descriptor_new();
        void *address = a != NULL ? os_map_arena() : NULL;
        if (address != NULL) {
            a->heap = h;
            a->address = (uintptr_t)address;
            memset(a->pool_class, 0xff, sizeof a->pool_class);
            a->freepools = NULL;
            a->nfreepools = MW__POOLS_PER_ARENA;
            a->ntouched = 0;
        }
        if (address == NULL || !arena_map_set((uintptr_t)address, a)) {
            if (address != NULL) {
                os_unmap(address, MW__ARENA_SIZE);
            }
            if (a != NULL) {
                descriptor_free(a);
            }
            return NULL;
        }
        lsan_arena_mapped(address);
        mw__atomic_add_relaxed(&mw__alloc_global.arenas_mapped, 1);
        mw__atomic_add_relaxed(&mw__alloc_global.bytes_committed, MW__ARENA_SIZE);
        note_bytes((ssize_t)MW__ARENA_SIZE);
        mw__counter_add(&h->free_pools, MW__POOLS_PER_ARENA);
    }
    a->next = a->prev = NULL;
    h->usable = a;
    h->nfp2last[a->nfreepools] = a;
    return a;
}

/*
 * Unmap a free arena (on neither cache list) and recycle its descriptor.
 * Its pools hold no block, so nothing can point into it.  committed says
 * whether its pages still count in bytes_committed.  Owner only.
 */
static void arena_unmap(mw__heap *h, mw__arena *a, bool committed)
{
    mw_assert_internal(a->nfreepools == MW__POOLS_PER_ARENA);
    if (committed) {
        mw__atomic_sub_relaxed(&mw__alloc_global.bytes_committed, MW__ARENA_SIZE);
    }
    arena_map_set(a->address, NULL);
    lsan_arena_unmapped((void *)a->address);
    os_unmap((void *)a->address, MW__ARENA_SIZE);
    mw__counter_sub(&h->free_pools, MW__POOLS_PER_ARENA);
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_released, 1);
    note_bytes(-(ssize_t)MW__ARENA_SIZE);
    descriptor_free(a);
}

/* ======================================================================
 * The arena cache (see the top of this file)
 * ====================================================================== */

int64_t mw__alloc_clock_ms(void)
{
    if (mw_unlikely(mw__alloc_clock_hook != NULL)) {
        return mw__alloc_clock_hook();
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Take the oldest arena off h->cached.  Owner only. */
static mw__arena *cached_pop_oldest(mw__heap *h)
{
    mw__arena *a = h->cached_oldest;
    mw_assert_internal(a != NULL && a->next == NULL);
    h->cached_oldest = a->prev;
    if (a->prev != NULL) {
        a->prev->next = NULL;
    } else {
        h->cached = NULL;
    }
    h->ncached--;
    mw__atomic_sub_relaxed(&mw__alloc_global.arenas_cached, 1);
    return a;
}

/* Give back the pages of a (off the cached list) and put it on the
 * decommitted list with its pools reset to untouched.  Owner only. */
static void arena_decommit(mw__heap *h, mw__arena *a)
{
    int advice = mw__atomic_load_relaxed(&mw__alloc_global.purge_advice);
    os_decommit((void *)a->address, MW__ARENA_SIZE, advice);
    a->freepools = NULL;
    a->ntouched = 0;
    memset(a->pool_class, 0xff, sizeof a->pool_class);
    a->prev = NULL;
    a->next = h->decommitted;
    h->decommitted = a;
    h->ndecommitted++;
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_cached, 1);
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_decommitted, 1);
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_purged, 1);
    mw__atomic_sub_relaxed(&mw__alloc_global.bytes_committed, MW__ARENA_SIZE);
}

/* Unmap empty arenas until the heap holds at most max of them: the
 * decommitted ones first (they are the oldest), then the oldest cached.
 * Owner only. */
static void cache_bound(mw__heap *h, size_t max)
{
    while ((size_t)h->ncached + h->ndecommitted > max) {
        if (h->decommitted != NULL) {
            mw__arena *a = h->decommitted;
            h->decommitted = a->next;
            h->ndecommitted--;
            mw__atomic_sub_relaxed(&mw__alloc_global.arenas_cached, 1);
            mw__atomic_sub_relaxed(&mw__alloc_global.arenas_decommitted, 1);
            arena_unmap(h, a, false);
        } else {
            arena_unmap(h, cached_pop_oldest(h), true);
        }
    }
}

/*
 * Decommit the cached arenas whose purge delay has passed; with all, unmap
 * every empty arena instead.  The cached list is in the order the arenas
 * emptied, so the walk stops at the first arena still within its delay.
 * Owner only.
 */
void mw__arena_cache_purge(mw__heap *h, bool all)
{
    // Kept pools first (pool.c): giving them back may empty arenas, which
    // then join the cache stamped with when the pools were kept.
    if (h->nkept != 0) {
        mw__pool_kept_release(h, all);
    }
    if (all) {
        cache_bound(h, 0);
        return;
    }
    if (h->cached_oldest == NULL) {
        return;
    }
    int64_t delay = mw__atomic_load_relaxed(&mw__alloc_global.purge_delay_ms);
    if (delay < 0) {
        return;
    }
    int64_t now = mw__alloc_clock_ms();
    while (h->cached_oldest != NULL && now - h->cached_oldest->emptied_ms >= delay) {
        arena_decommit(h, cached_pop_oldest(h));
    }
}

/* a is wholly free and off the usable list: cache it, then decommit what
 * has expired and keep the cache within its bound.  Owner only. */
static void cache_put(mw__heap *h, mw__arena *a)
{
    // Arenas emptied by giving back kept pools carry the time the pools were
    // kept (pool.c), but never one before the newest cached arena's: the
    // list stays in emptied order, so the purge's walk may stop early.
    int64_t stamp = h->release_stamp_ms != 0 ? h->release_stamp_ms : mw__alloc_clock_ms();
    if (h->cached != NULL && stamp < h->cached->emptied_ms) {
        stamp = h->cached->emptied_ms;
    }
    a->emptied_ms = stamp;
    a->prev = NULL;
    a->next = h->cached;
    if (a->next != NULL) {
        a->next->prev = a;
    } else {
        h->cached_oldest = a;
    }
    h->cached = a;
    h->ncached++;
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_cached, 1);
    mw__arena_cache_purge(h, false);
    cache_bound(h, mw__atomic_load_relaxed(&mw__alloc_global.arena_cache_max));
}

/* An empty arena for reuse: the newest cached one, else a decommitted one
 * (whose pages fault in again as its pools are touched), else NULL.
 * Owner only. */
static mw__arena *cache_take(mw__heap *h)
{
    mw__arena *a = h->cached;
    if (a != NULL) {
        h->cached = a->next;
        if (a->next != NULL) {
            a->next->prev = NULL;
        } else {
            h->cached_oldest = NULL;
        }
        h->ncached--;
    } else if ((a = h->decommitted) != NULL) {
        h->decommitted = a->next;
        h->ndecommitted--;
        mw__atomic_sub_relaxed(&mw__alloc_global.arenas_decommitted, 1);
        mw__atomic_add_relaxed(&mw__alloc_global.bytes_committed, MW__ARENA_SIZE);
    } else {
        return NULL;
    }
    mw__atomic_sub_relaxed(&mw__alloc_global.arenas_cached, 1);
    mw__atomic_add_relaxed(&mw__alloc_global.arenas_reused, 1);
    return a;
}

/* Set once mw_alloc_set_purge has been called: its settings then win over
 * the environment, whichever comes first. */
static _Atomic(bool) purge_set_by_api;

/* Read the cache's settings from the environment (once, when the first
 * heap is made):
 *   MWMALLOC_PURGE_DELAY=MS      milliseconds an empty arena stays
 *                                committed (default 500; 0: at once;
 *                                negative: never)
 *   MWMALLOC_ARENA_CACHE=N       empty arenas a heap keeps (default 64)
 *   MWMALLOC_PURGE_ADVICE=free   decommit with MADV_FREE instead of
 *                                MADV_DONTNEED (=dontneed)
 * Unset or malformed values leave the setting as it was; so does anything
 * set through mw_alloc_set_purge before or after. */
void mw__arena_settings_from_env(void)
{
    if (mw__atomic_load_relaxed(&purge_set_by_api)) {
        return;
    }
    char *end;
    const char *v = getenv("MWMALLOC_PURGE_DELAY");
    if (v != NULL && v[0] != '\0') {
        long long ms = strtoll(v, &end, 10);
        if (*end == '\0') {
            mw__atomic_store_relaxed(&mw__alloc_global.purge_delay_ms, (int64_t)ms);
        }
    }
    v = getenv("MWMALLOC_ARENA_CACHE");
    if (v != NULL && v[0] >= '0' && v[0] <= '9') {
        unsigned long long n = strtoull(v, &end, 10);
        if (*end == '\0') {
            mw__atomic_store_relaxed(&mw__alloc_global.arena_cache_max, (size_t)n);
        }
    }
    v = getenv("MWMALLOC_PURGE_ADVICE");
    if (v != NULL) {
        if (strcmp(v, "free") == 0) {
            mw__atomic_store_relaxed(&mw__alloc_global.purge_advice, MADV_FREE);
        } else if (strcmp(v, "dontneed") == 0) {
            mw__atomic_store_relaxed(&mw__alloc_global.purge_advice, MADV_DONTNEED);
        }
    }
}

void mw_alloc_set_purge(int64_t delay_ms, size_t arena_cache)
{
    mw__atomic_store_relaxed(&purge_set_by_api, true);
    mw__atomic_store_relaxed(&mw__alloc_global.purge_delay_ms, delay_ms);
    mw__atomic_store_relaxed(&mw__alloc_global.arena_cache_max, arena_cache);
}

void mw_alloc_get_purge(int64_t *delay_ms, size_t *arena_cache)
{
    if (delay_ms != NULL) {
        *delay_ms = mw__atomic_load_relaxed(&mw__alloc_global.purge_delay_ms);
    }
    if (arena_cache != NULL) {
        *arena_cache = mw__atomic_load_relaxed(&mw__alloc_global.arena_cache_max);
    }
}

int mw_alloc_purge(void)
{
    mw__heap *h = mw__tls_heap;
    if (h != &mw__heap_empty) {
        mw__arena_cache_purge(h, false);
        cache_bound(h, mw__atomic_load_relaxed(&mw__alloc_global.arena_cache_max));
    }
    return 0;
}

/* ======================================================================
 * The usable list
 * ====================================================================== */

static void usable_unlink(mw__heap *h, mw__arena *a)
{
    if (a->prev != NULL) {
        a->prev->next = a->next;
    } else {
        h->usable = a->next;
    }
    if (a->next != NULL) {
        a->next->prev = a->prev;
    }
}

static void usable_insert_after(mw__heap *h, mw__arena *at, mw__arena *a)
{
    a->prev = at;
    a->next = at->next;
    if (at->next != NULL) {
        at->next->prev = a;
    }
    at->next = a;
}

/* a is leaving the group of arenas with count k: fix nfp2last[k]. */
static void group_leave(mw__heap *h, mw__arena *a, unsigned k)
{
    if (h->nfp2last[k] == a) {
        h->nfp2last[k] = (a->prev != NULL && a->prev->nfreepools == k) ? a->prev : NULL;
    }
}

/*
 * A pool was taken from a, the head of the usable list (the fullest).  Its
 * count drops from k to k - 1, which keeps it first; at 0 it leaves the list.
 */
void mw__arena_took_pool(mw__heap *h, mw__arena *a)
{
    mw_assert_internal(h->usable == a && a->nfreepools > 0);
    unsigned k = a->nfreepools;
    group_leave(h, a, k);
    a->nfreepools = k - 1;
    mw__counter_sub(&h->free_pools, 1);
    if (k - 1 == 0) {
        usable_unlink(h, a);
    } else if (h->nfp2last[k - 1] == NULL) {
        h->nfp2last[k - 1] = a;   // a is first, so no other arena has k - 1
    }
    mw_assert_expensive(mw__heap_arenas_are_valid(h));
}

/*
 * A pool of a became empty: its count rises from k to k + 1.  A full arena
 * rejoins the list at the head (1 is the smallest count); otherwise a moves
 * to the end of the k + 1 group, unless it was the last of group k, where
 * it already is in order.  An arena now wholly free leaves the list and
 * becomes the heap's spare, or goes back to the OS if there is one already.
 * Owner only.
 */
void mw__arena_gave_pool(mw__heap *h, mw__arena *a)
{
    unsigned k = a->nfreepools;
    mw__counter_add(&h->free_pools, 1);
    if (k == 0) {
        a->nfreepools = 1;
        a->prev = NULL;
        a->next = h->usable;
        if (a->next != NULL) {
            a->next->prev = a;
        }
        h->usable = a;
        if (h->nfp2last[1] == NULL) {
            h->nfp2last[1] = a;
        }
        mw_assert_expensive(mw__heap_arenas_are_valid(h));
        return;
    }
    mw__arena *last_k = h->nfp2last[k];
    group_leave(h, a, k);
    a->nfreepools = k + 1;
    if (k + 1 == MW__POOLS_PER_ARENA) {
        usable_unlink(h, a);
        cache_put(h, a);
    } else if (a != last_k) {
        // Move a behind the k+1 group if there is one, else behind group k.
        mw__arena *at = h->nfp2last[k + 1] != NULL ? h->nfp2last[k + 1] : last_k;
        usable_unlink(h, a);
        usable_insert_after(h, at, a);
        h->nfp2last[k + 1] = a;
    } else if (h->nfp2last[k + 1] == NULL) {
        h->nfp2last[k + 1] = a;
    }
    mw_assert_expensive(mw__heap_arenas_are_valid(h));
}

/*
 * The usable list's invariants (see the top of this file), as a check.
 * Expensive tier: walks the whole list.
 */
bool mw__heap_arenas_are_valid(const mw__heap *h)
{
    unsigned prev_count = 0;
    const mw__arena *prev = NULL;
    for (const mw__arena *a = h->usable; a != NULL; prev = a, a = a->next) {
        unsigned k = a->nfreepools;
        if (k == 0 || k >= MW__POOLS_PER_ARENA || k < prev_count || a->prev != prev ||
            a->heap != h) {
            return false;
        }
        bool last_of_group = a->next == NULL || a->next->nfreepools != k;
        if ((h->nfp2last[k] == a) != last_of_group) {
            return false;
        }
        prev_count = k;
    }
    for (unsigned k = 1; k < MW__POOLS_PER_ARENA; k++) {
        if (h->nfp2last[k] != NULL && h->nfp2last[k]->nfreepools != k) {
            return false;
        }
    }
    return true;
}
