/*
 * test_alloc.c - the small-object allocator: size classes, alignment, pool
 * and arena bookkeeping, cross-thread frees, thread exit, statistics, bad
 * input and out of memory.
 *
 * Each test runs in a fresh forked process (Check's default), so it starts
 * with no heap and no arena, and its statistics are its own.
 */
#include <mwrt/mwrt.h>

#include "alloc/alloc.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ======================================================================
 * Helpers
 * ====================================================================== */

static mw_alloc_stats stats(void)
{
    mw_alloc_stats st;
    ck_assert_int_eq(mw_alloc_get_stats(&st), 0);
    return st;
}

static size_t blocks_in_use(void)
{
    mw_alloc_stats st = stats();
    size_t n = 0;
    for (int i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        n += st.classes[i].blocks_in_use;
    }
    return n;
}

/* Blocks of a class per pool: what fits after the 48-byte header. */
static size_t capacity(size_t block_size)
{
    return (MW_ALLOC_POOL_SIZE - 48) / block_size;
}

/* A fixed-seed generator so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill(void *p, size_t n, unsigned char tag)
{
    memset(p, tag, n);
}

static bool filled(const void *p, size_t n, unsigned char tag)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        if (c[i] != tag) {
            return false;
        }
    }
    return true;
}

/* ======================================================================
 * Size classes and alignment
 * ====================================================================== */

START_TEST(size_class_table)
{
    // The seed's table: 1-8 -> 8 idx 0, 9-16 -> 16 idx 1, ..., 505-512 -> 512 idx 63.
    for (size_t n = 1; n <= 512; n++) {
        size_t expect_idx = (n + 7) / 8 - 1;
        size_t bs = 0;
        ck_assert_int_eq(mw_alloc_size_class(n, &bs), (int)expect_idx);
        ck_assert_uint_eq(bs, (expect_idx + 1) * 8);
    }
    size_t bs = 0;
    ck_assert_int_eq(mw_alloc_size_class(0, &bs), 0);
    ck_assert_uint_eq(bs, 8);
    ck_assert_int_eq(mw_alloc_size_class(8, NULL), 0);
    ck_assert_int_eq(mw_alloc_size_class(9, NULL), 1);
    ck_assert_int_eq(mw_alloc_size_class(504, NULL), 62);
    ck_assert_int_eq(mw_alloc_size_class(505, NULL), 63);
    ck_assert_int_eq(mw_alloc_size_class(513, NULL), -1);
    ck_assert_int_eq(mw_alloc_size_class(SIZE_MAX, NULL), -1);
}
END_TEST

START_TEST(size_class_of_real_blocks)
{
    // Every request size lands in its class: usable size and the per-class
    // statistics both say so.
    for (size_t n = 0; n <= 512; n++) {
        size_t bs;
        int idx = mw_alloc_size_class(n, &bs);
        size_t before = stats().classes[idx].blocks_in_use;
        void *p = mw_malloc(n);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(mw_alloc_usable_size(p), bs);
        ck_assert_uint_eq(stats().classes[idx].blocks_in_use, before + 1);
        fill(p, bs, 0xab);   // the whole block is usable
        mw_free(p);
        ck_assert_uint_eq(stats().classes[idx].blocks_in_use, before);
    }
    void *big = mw_malloc(513);
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_ge(mw_alloc_usable_size(big), 513);
    ck_assert_uint_eq(stats().large_in_use, 1);
    ck_assert_uint_eq(stats().large_bytes, 513);
    mw_free(big);
    ck_assert_uint_eq(stats().large_in_use, 0);
}
END_TEST

START_TEST(alignment)
{
    void *keep[4096];
    size_t k = 0;
    for (size_t n = 1; n <= 1024 && k < 4096; n++) {
        for (int rep = 0; rep < 3; rep++) {
            void *p = mw_malloc(n);
            ck_assert_ptr_nonnull(p);
            size_t bs = n <= 512 ? (n + 7) / 8 * 8 : 0;
            ck_assert_uint_eq((uintptr_t)p % 8, 0);
            if (bs % 16 == 0) {
                ck_assert_uint_eq((uintptr_t)p % 16, 0);   // 16-byte classes, and large
            }
            keep[k++] = p;
        }
    }
    for (size_t i = 0; i < k; i++) {
        mw_free(keep[i]);
    }
    ck_assert_uint_eq(blocks_in_use(), 0);
}
END_TEST

/* ======================================================================
 * Pools and arenas
 * ====================================================================== */

START_TEST(pools_return_to_free_list)
{
    const size_t bs = 64;
    const int idx = 7;
    size_t cap = capacity(bs);
    size_t n = 3 * cap;   // exactly three full pools
    void **blocks = malloc(n * sizeof *blocks);
    for (size_t i = 0; i < n; i++) {
        blocks[i] = mw_malloc(bs);
        ck_assert_ptr_nonnull(blocks[i]);
    }
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.classes[idx].pools, 3);
    ck_assert_uint_eq(st.classes[idx].blocks_in_use, n);
    ck_assert_uint_eq(st.pools_in_use, 3);
    ck_assert_uint_eq(st.pools_free, MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE - 3);
    // Blocks of one pool share its 4 KiB page.
    ck_assert_ptr_eq((void *)((uintptr_t)blocks[0] & ~(uintptr_t)4095),
                     (void *)((uintptr_t)blocks[cap - 1] & ~(uintptr_t)4095));
    // Empty the second pool: it goes back to the arena's free pools once the
    // heap's cache of freed blocks has handed its blocks back (trim).
    for (size_t i = cap; i < 2 * cap; i++) {
        mw_free(blocks[i]);
    }
    ck_assert_uint_eq(stats().classes[idx].blocks_in_use, 2 * cap);
    ck_assert_int_eq(mw_alloc_trim(), 0);
    st = stats();
    ck_assert_uint_eq(st.classes[idx].pools, 2);
    ck_assert_uint_eq(st.pools_free, MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE - 2);
    // A different class reuses that free pool instead of touching a new one.
    void *other = mw_malloc(100);
    ck_assert_ptr_eq((void *)((uintptr_t)other & ~(uintptr_t)4095),
                     (void *)((uintptr_t)blocks[cap] & ~(uintptr_t)4095));
    mw_free(other);
    for (size_t i = 0; i < n; i++) {
        if (i < cap || i >= 2 * cap) {
            mw_free(blocks[i]);
        }
    }
    mw_alloc_trim();
    st = stats();
    ck_assert_uint_eq(st.classes[idx].pools, 0);
    ck_assert_uint_eq(st.pools_in_use, 0);
    ck_assert_uint_eq(blocks_in_use(), 0);
    free(blocks);
}
END_TEST

/* The arena cache's clock, stepped by the tests (mw__alloc_clock_hook). */
static int64_t test_clock_ms;
static int64_t test_clock(void)
{
    return test_clock_ms;
}

/* Resident bytes of the process, from /proc/self/statm. */
static size_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(f);
    unsigned long size = 0, resident = 0;
    ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Blocks of 512 bytes that fill n arenas. */
static size_t arenas_worth(size_t n)
{
    return n * capacity(512) * (MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE);
}

static void **burst_alloc(size_t n)
{
    void **blocks = malloc(n * sizeof *blocks);
    ck_assert_ptr_nonnull(blocks);
    for (size_t i = 0; i < n; i++) {
        blocks[i] = mw_malloc(512);
        ck_assert_ptr_nonnull(blocks[i]);
        memset(blocks[i], 0x5a, 512);   // resident, as a program's data is
    }
    return blocks;
}

static void burst_free(void **blocks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mw_free(blocks[i]);
    }
    // Past the heap's cache of freed blocks, every arena is empty.
    mw__heap_cache_flush(mw__tls_heap);
    free(blocks);
}

START_TEST(empty_arenas_are_cached)
{
    mw__alloc_clock_hook = test_clock;
    mw_alloc_set_purge(1000, 64);
    size_t n = arenas_worth(3);   // three full arenas
    void **blocks = burst_alloc(n);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.arenas_mapped, 3);
    ck_assert_uint_eq(st.arenas_live, 3);
    ck_assert_uint_eq(st.bytes_from_os, 3 * MW_ALLOC_ARENA_SIZE);
    ck_assert_uint_eq(st.bytes_committed, 3 * MW_ALLOC_ARENA_SIZE);
    burst_free(blocks, n);
    // Within the delay all three stay mapped and committed.
    st = stats();
    ck_assert_uint_eq(st.arenas_released, 0);
    ck_assert_uint_eq(st.arenas_live, 3);
    ck_assert_uint_eq(st.arenas_cached, 3);
    ck_assert_uint_eq(st.arenas_decommitted, 0);
    ck_assert_uint_eq(st.bytes_committed, 3 * MW_ALLOC_ARENA_SIZE);
    ck_assert_uint_eq(st.pools_in_use, 0);
    // The next burst reuses them and maps nothing.
    blocks = burst_alloc(n);
    st = stats();
    ck_assert_uint_eq(st.arenas_mapped, 3);
    ck_assert_uint_eq(st.arenas_reused, 3);
    ck_assert_uint_eq(st.arenas_cached, 0);
    burst_free(blocks, n);
    // Trimming returns every arena, whatever the delay.
    ck_assert_int_eq(mw_alloc_trim(), 0);
    st = stats();
    ck_assert_uint_eq(st.arenas_live, 0);
    ck_assert_uint_eq(st.arenas_cached, 0);
    ck_assert_uint_eq(st.bytes_from_os, 0);
    ck_assert_uint_eq(st.bytes_committed, 0);
    ck_assert_uint_eq(st.peak_bytes_from_os, 3 * MW_ALLOC_ARENA_SIZE);
}
END_TEST

START_TEST(burst_is_given_back_after_the_delay)
{
    // A burst of 32 arenas (8 MiB), freed: the memory stays committed for
    // the delay and is given back once the clock passes it.
    mw__alloc_clock_hook = test_clock;
    mw_alloc_set_purge(1000, 64);
    const size_t narenas = 32;
    test_clock_ms = 5000;
    size_t n = arenas_worth(narenas);
    void **blocks = burst_alloc(n);
    size_t rss_full = resident_bytes();
    burst_free(blocks, n);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.arenas_cached, narenas);
    ck_assert_uint_eq(st.bytes_committed, narenas * MW_ALLOC_ARENA_SIZE);
    // One millisecond short of the delay: nothing is given back.
    test_clock_ms += 999;
    ck_assert_int_eq(mw_alloc_purge(), 0);
    st = stats();
    ck_assert_uint_eq(st.arenas_decommitted, 0);
    ck_assert_uint_eq(st.bytes_committed, narenas * MW_ALLOC_ARENA_SIZE);
    // Past it (a safepoint would do the same as mw_alloc_purge).
    test_clock_ms += 1;
    mw__heap_take_back();
    st = stats();
    ck_assert_uint_eq(st.arenas_cached, narenas);
    ck_assert_uint_eq(st.arenas_decommitted, narenas);
    ck_assert_uint_eq(st.arenas_purged, narenas);
    ck_assert_uint_eq(st.bytes_committed, 0);
    ck_assert_uint_eq(st.arenas_live, narenas);   // still mapped, for reuse
    // MADV_DONTNEED drops the pages at once: RSS falls by at least half
    // the burst (the rest is slack for the harness's own pages).
    size_t rss_after = resident_bytes();
    ck_assert_uint_lt(rss_after + narenas * MW_ALLOC_ARENA_SIZE / 2, rss_full);
    // Decommitted arenas are reused before new ones are mapped, with their
    // pools formatted afresh.
    blocks = burst_alloc(n);
    st = stats();
    ck_assert_uint_eq(st.arenas_mapped, narenas);
    ck_assert_uint_eq(st.arenas_reused, narenas);
    ck_assert_uint_eq(st.bytes_committed, narenas * MW_ALLOC_ARENA_SIZE);
    ck_assert_uint_eq(blocks_in_use(), n);
    burst_free(blocks, n);
    ck_assert(mw__heap_arenas_are_valid(mw__tls_heap));
}
END_TEST

START_TEST(kept_pools_go_back_after_the_delay)
{
    // Emptied pools are kept for their class: the next burst reuses them
    // without touching another arena.  Once the delay has passed since they
    // were kept they go back to their arenas, and the arenas that empties
    // are decommitted at once (they carry the time the pools were kept).
    mw__alloc_clock_hook = test_clock;
    mw_alloc_set_purge(1000, 64);
    test_clock_ms = 10000;
    size_t n = arenas_worth(2);
    void **blocks = burst_alloc(n);
    size_t pools = stats().pools_in_use;
    for (size_t i = 0; i < n; i++) {
        mw_free(blocks[i]);
    }
    free(blocks);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.pools_in_use, pools);   // kept, still of their class
    ck_assert_uint_eq(st.arenas_cached, 0);
    ck_assert_uint_eq(blocks_in_use(), 0);
    blocks = burst_alloc(n);
    st = stats();
    ck_assert_uint_eq(st.arenas_mapped, 2);
    ck_assert_uint_eq(st.pools_in_use, pools);
    for (size_t i = 0; i < n; i++) {
        mw_free(blocks[i]);
    }
    free(blocks);
    test_clock_ms += 999;
    ck_assert_int_eq(mw_alloc_purge(), 0);
    ck_assert_uint_eq(stats().pools_in_use, pools);
    test_clock_ms += 1;
    ck_assert_int_eq(mw_alloc_purge(), 0);
    st = stats();
    // Only the pools of the few blocks the heap's cache holds stay.
    size_t held = mw__cache_limit(mw__size_class(512));
    ck_assert_uint_le(st.pools_in_use, held / capacity(512) + 2);
    ck_assert_uint_ge(st.arenas_decommitted, 1);
    ck_assert_uint_le(st.bytes_committed, MW_ALLOC_ARENA_SIZE);
    ck_assert(mw__heap_arenas_are_valid(mw__tls_heap));
}
END_TEST

START_TEST(arena_cache_is_bounded)
{
    mw__alloc_clock_hook = test_clock;
    // Delay 0: an arena is decommitted as soon as it empties; at most two
    // empty arenas are kept.
    mw_alloc_set_purge(0, 2);
    int64_t delay;
    size_t bound;
    mw_alloc_get_purge(&delay, &bound);
    ck_assert_int_eq(delay, 0);
    ck_assert_uint_eq(bound, 2);
    size_t n = arenas_worth(5);
    void **blocks = burst_alloc(n);
    burst_free(blocks, n);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.arenas_live, 2);
    ck_assert_uint_eq(st.arenas_released, 3);
    ck_assert_uint_eq(st.arenas_cached, 2);
    ck_assert_uint_eq(st.arenas_decommitted, 2);
    ck_assert_uint_eq(st.bytes_committed, 0);
    // A negative delay never decommits; the bound still holds.
    mw_alloc_set_purge(-1, 3);
    blocks = burst_alloc(n);
    burst_free(blocks, n);
    test_clock_ms += 1000000;
    mw_alloc_purge();
    st = stats();
    ck_assert_uint_eq(st.arenas_live, 3);
    ck_assert_uint_eq(st.arenas_cached, 3);
    ck_assert_uint_eq(st.arenas_decommitted, 0);
    ck_assert_uint_eq(st.bytes_committed, 3 * MW_ALLOC_ARENA_SIZE);
    // Lowering the bound takes effect at the next look.
    mw_alloc_set_purge(-1, 1);
    mw_alloc_purge();
    ck_assert_uint_eq(stats().arenas_live, 1);
    mw_alloc_trim();
    ck_assert_uint_eq(stats().arenas_live, 0);
}
END_TEST

static void *burst_and_exit(void *arg)
{
    (void)arg;
    size_t n = arenas_worth(2);
    burst_free(burst_alloc(n), n);
    return NULL;   // the heap is abandoned with its empty arenas
}

START_TEST(exiting_thread_unmaps_its_cache)
{
    mw_alloc_set_purge(100000, 64);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, burst_and_exit, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.arenas_mapped, 2);
    ck_assert_uint_eq(st.arenas_live, 0);
    ck_assert_uint_eq(st.arenas_cached, 0);
    ck_assert_uint_eq(st.bytes_committed, 0);
}
END_TEST

START_TEST(fullest_arena_first)
{
    // Fill two arenas, then free most of the first: the next pool must come
    // from the second (fuller) arena, so the first can drain.
    const size_t bs = 512;
    size_t cap = capacity(bs);
    size_t pools = MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE;
    size_t n = 2 * pools * cap;
    void **blocks = malloc(n * sizeof *blocks);
    for (size_t i = 0; i < n; i++) {
        blocks[i] = mw_malloc(bs);
    }
    uintptr_t arena0 = (uintptr_t)blocks[0] & ~(uintptr_t)(MW_ALLOC_ARENA_SIZE - 1);
    uintptr_t arena1 = (uintptr_t)blocks[n - 1] & ~(uintptr_t)(MW_ALLOC_ARENA_SIZE - 1);
    ck_assert(arena0 != arena1);
    size_t freed_in_0 = 0;
    size_t freed_in_1 = 0;
    for (size_t i = 0; i < n; i++) {
        uintptr_t a = (uintptr_t)blocks[i] & ~(uintptr_t)(MW_ALLOC_ARENA_SIZE - 1);
        size_t pool_no = ((uintptr_t)blocks[i] - a) / MW_ALLOC_POOL_SIZE;
        // empty 10 pools of arena0, 2 pools of arena1
        if ((a == arena0 && pool_no < 10) || (a == arena1 && pool_no < 2)) {
            freed_in_0 += a == arena0;
            freed_in_1 += a == arena1;
            mw_free(blocks[i]);
            blocks[i] = NULL;
        }
    }
    ck_assert_uint_eq(freed_in_0, 10 * cap);
    ck_assert_uint_eq(freed_in_1, 2 * cap);
    mw_alloc_trim();   // the freed blocks' pools are empty only past the cache
    ck_assert(mw__heap_arenas_are_valid(mw__tls_heap));
    void *p = mw_malloc(24);   // a class with no pool yet: takes a pool
    ck_assert_uint_eq((uintptr_t)p & ~(uintptr_t)(MW_ALLOC_ARENA_SIZE - 1), arena1);
    mw_free(p);
    for (size_t i = 0; i < n; i++) {
        mw_free(blocks[i]);
    }
    free(blocks);
}
END_TEST

START_TEST(random_workload_keeps_invariants)
{
    enum { SLOTS = 20000, STEPS = 400000 };
    void **slot = calloc(SLOTS, sizeof *slot);
    size_t *size = calloc(SLOTS, sizeof *size);
    size_t live[MW_ALLOC_NUM_CLASSES] = {0};
    for (int step = 0; step < STEPS; step++) {
        size_t i = rng() % SLOTS;
        if (slot[i] != NULL) {
            ck_assert(filled(slot[i], size[i], (unsigned char)i));
            live[mw_alloc_size_class(size[i], NULL)]--;
            mw_free(slot[i]);
            slot[i] = NULL;
        } else {
            size[i] = 1 + rng() % 512;
            slot[i] = mw_malloc(size[i]);
            ck_assert_ptr_nonnull(slot[i]);
            fill(slot[i], size[i], (unsigned char)i);
            live[mw_alloc_size_class(size[i], NULL)]++;
        }
    }
    mw_alloc_stats st = stats();
    for (int c = 0; c < MW_ALLOC_NUM_CLASSES; c++) {
        ck_assert_uint_eq(st.classes[c].blocks_in_use, live[c]);
        // Every pool of the class is accounted for by its blocks.
        ck_assert_uint_le(st.classes[c].blocks_in_use,
                          st.classes[c].pools * capacity(st.classes[c].block_size));
    }
    ck_assert_uint_eq(st.bytes_from_os, st.arenas_live * MW_ALLOC_ARENA_SIZE);
    ck_assert_uint_ge(st.peak_bytes_from_os, st.bytes_from_os);
    ck_assert_uint_eq(st.pools_in_use + st.pools_free,
                      st.arenas_live * (MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE));
    ck_assert(mw__heap_arenas_are_valid(mw__tls_heap));
    for (int c = 0; c < MW_ALLOC_NUM_CLASSES; c++) {
        for (mw__pool *p = mw__tls_heap->used[c]; p != NULL; p = p->nextpool) {
            ck_assert(mw__pool_is_valid(p));
        }
    }
    for (size_t i = 0; i < SLOTS; i++) {
        mw_free(slot[i]);
    }
    ck_assert_uint_eq(blocks_in_use(), 0);
    free(slot);
    free(size);
}
END_TEST

/* ======================================================================
 * Threads: cross-thread frees, thread exit, adoption
 * ====================================================================== */

/* A mutex-protected queue of blocks handed from one thread to another. */
typedef struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void **items;
    size_t cap, head, tail;
    bool done;
} handoff;

static void handoff_init(handoff *q, size_t cap)
{
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->items = malloc(cap * sizeof *q->items);
    q->cap = cap;
    q->head = q->tail = 0;
    q->done = false;
}

static void handoff_put(handoff *q, void *p)
{
    pthread_mutex_lock(&q->lock);
    ck_assert_uint_lt(q->tail, q->cap);
    q->items[q->tail++] = p;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* Returns NULL once the queue is closed and empty. */
static void *handoff_get(handoff *q)
{
    pthread_mutex_lock(&q->lock);
    while (q->head == q->tail && !q->done) {
        pthread_cond_wait(&q->cond, &q->lock);
    }
    void *p = q->head < q->tail ? q->items[q->head++] : NULL;
    pthread_mutex_unlock(&q->lock);
    return p;
}

static void handoff_close(handoff *q)
{
    pthread_mutex_lock(&q->lock);
    q->done = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

enum { HANDOFF_BLOCKS = 50000 };

static void *producer(void *arg)
{
    handoff *q = arg;
    for (size_t i = 0; i < HANDOFF_BLOCKS; i++) {
        size_t n = 16 + (i * 7) % 497;
        unsigned char *p = mw_malloc(n);
        ck_assert_ptr_nonnull(p);
        p[0] = (unsigned char)n;
        p[n - 1] = (unsigned char)(n >> 1);
        memcpy(p + 1, &n, sizeof n);
        handoff_put(q, p);
    }
    handoff_close(q);
    return NULL;
}

static void *consumer(void *arg)
{
    handoff *q = arg;
    unsigned char *p;
    while ((p = handoff_get(q)) != NULL) {
        size_t n;
        memcpy(&n, p + 1, sizeof n);
        ck_assert_uint_eq(p[0], (unsigned char)n);
        ck_assert_uint_eq(p[n - 1], (unsigned char)(n >> 1));
        mw_free(p);
    }
    return NULL;
}

START_TEST(cross_thread_free)
{
    // Two producer/consumer pairs: every block is freed by a thread other
    // than the one that allocated it.
    handoff q[2];
    pthread_t prod[2], cons[2];
    for (int i = 0; i < 2; i++) {
        handoff_init(&q[i], HANDOFF_BLOCKS);
        pthread_create(&cons[i], NULL, consumer, &q[i]);
        pthread_create(&prod[i], NULL, producer, &q[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(prod[i], NULL);
        pthread_join(cons[i], NULL);
        free(q[i].items);
    }
    // The producers exited with their blocks freed remotely; trimming takes
    // every pending free back and returns every arena.
    ck_assert_int_eq(mw_alloc_trim(), 0);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(blocks_in_use(), 0);
    ck_assert_uint_eq(st.arenas_live, 0);
}
END_TEST

typedef struct owned_blocks {
    void *blocks[1000];
    size_t n;
} owned_blocks;

static void *allocate_and_exit(void *arg)
{
    owned_blocks *ob = arg;
    for (size_t i = 0; i < ob->n; i++) {
        ob->blocks[i] = mw_malloc(1 + i % 512);
        fill(ob->blocks[i], 1 + i % 512, (unsigned char)i);
    }
    return NULL;   // the thread exits with its blocks still in use
}

START_TEST(thread_exit_with_blocks_in_use)
{
    owned_blocks ob = {.n = 1000};
    pthread_t t;
    pthread_create(&t, NULL, allocate_and_exit, &ob);
    pthread_join(t, NULL);
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.heaps, 1);
    ck_assert_uint_eq(st.heaps_abandoned, 1);
    ck_assert_uint_eq(blocks_in_use(), 1000);
    ck_assert_uint_ge(st.arenas_live, 1);
    // The blocks are intact: nothing was freed under them.
    for (size_t i = 0; i < ob.n; i++) {
        ck_assert(filled(ob.blocks[i], 1 + i % 512, (unsigned char)i));
    }
    // Freed by this thread, they go to the abandoned heap, which trimming
    // drains; then its arenas go back to the OS.
    for (size_t i = 0; i < ob.n; i++) {
        mw_free(ob.blocks[i]);
    }
    ck_assert_int_eq(mw_alloc_trim(), 0);
    st = stats();
    ck_assert_uint_eq(blocks_in_use(), 0);
    ck_assert_uint_eq(st.arenas_live, 0);
}
END_TEST

static void *allocate_one(void *arg)
{
    *(void **)arg = mw_malloc(32);
    return NULL;
}

static void *allocate_64_and_exit(void *arg)
{
    owned_blocks *ob = arg;
    for (size_t i = 0; i < ob->n; i++) {
        ob->blocks[i] = mw_malloc(64);
        fill(ob->blocks[i], 64, (unsigned char)i);
    }
    return NULL;
}

START_TEST(remote_frees_are_reused_then_sent)
{
    // A thread with a heap that frees another heap's blocks keeps the
    // first ones in its own cache and hands them out again; the rest go,
    // in batches, to the owner's thread-free list, with their count.
    mw_free(mw_malloc(8));   // this thread has a heap
    owned_blocks ob = {.n = 1000};
    pthread_t t;
    pthread_create(&t, NULL, allocate_64_and_exit, &ob);
    pthread_join(t, NULL);
    mw__heap *owner = mw__arena_of(ob.blocks[0])->heap;
    ck_assert_ptr_ne(owner, mw__tls_heap);
    for (size_t i = 0; i < ob.n; i++) {
        ck_assert(filled(ob.blocks[i], 64, (unsigned char)i));
        mw_free(ob.blocks[i]);
    }
    size_t room = mw__cache_limit(mw__size_class(64));
    size_t pending = mw__heap_thread_free_pending(owner);
    ck_assert_uint_le(pending, ob.n - room);
    ck_assert_uint_ge(pending, ob.n - room - MW_ALLOC_REMOTE_BATCH);
    // The next allocation of the class is the block freed last into the
    // cache, still the other heap's.
    void *p = mw_malloc(64);
    ck_assert_ptr_eq(p, ob.blocks[room - 1]);
    ck_assert_ptr_eq(mw__arena_of(p)->heap, owner);
    mw_free(p);
    // Trimming sends the cache's and outboxes' blocks home and drains the
    // abandoned heap: every arena goes back.
    ck_assert_int_eq(mw_alloc_trim(), 0);
    ck_assert_uint_eq(mw__heap_thread_free_pending(owner), 0);
    ck_assert_uint_eq(blocks_in_use(), 0);
    ck_assert_uint_eq(stats().arenas_live, 0);
}
END_TEST

START_TEST(exited_heap_is_adopted)
{
    // Threads that come and go reuse the heaps of those that went.
    for (int i = 0; i < 20; i++) {
        void *p = NULL;
        pthread_t t;
        pthread_create(&t, NULL, allocate_one, &p);
        pthread_join(t, NULL);
        ck_assert_ptr_nonnull(p);
        mw_free(p);
    }
    mw_alloc_stats st = stats();
    ck_assert_uint_eq(st.heaps, 1);
    ck_assert_uint_eq(st.heaps_abandoned, 1);
    // The main thread adopts it too, and hands it over again on request.
    void *p = mw_malloc(8);
    st = stats();
    ck_assert_uint_eq(st.heaps, 1);
    ck_assert_uint_eq(st.heaps_abandoned, 0);
    mw_alloc_thread_exit();
    ck_assert_uint_eq(stats().heaps_abandoned, 1);
    ck_assert_uint_eq(blocks_in_use(), 1);   // p stays valid in the abandoned heap
    mw_free(p);
    p = mw_malloc(8);   // and the thread gets a heap back on its next allocation
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(stats().heaps, 1);
    mw_free(p);
    ck_assert_uint_eq(blocks_in_use(), 0);
}
END_TEST

typedef struct ring_worker {
    int id;
    handoff *in, *out;
    uint64_t seed;
} ring_worker;

/* Each worker allocates, passes blocks to the next worker in the ring and
 * frees what it receives from the previous one. */
static void *ring_run(void *arg)
{
    ring_worker *w = arg;
    uint64_t s = w->seed;
    for (int i = 0; i < 20000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        size_t n = 16 + s % 497;
        unsigned char *p = mw_malloc(n);
        ck_assert_ptr_nonnull(p);
        memset(p, w->id, n);
        memcpy(p, &n, sizeof n);
        handoff_put(w->out, p);
        if (i % 4 == 3) {
            void *keep = mw_malloc(n);   // some local churn too
            mw_free(keep);
        }
    }
    handoff_close(w->out);
    unsigned char *p;
    while ((p = handoff_get(w->in)) != NULL) {
        size_t n;
        memcpy(&n, p, sizeof n);
        ck_assert(n >= 16 && n <= 512);
        ck_assert_uint_eq(p[n - 1], (unsigned char)((w->id + 3) % 4));
        mw_free(p);
    }
    return NULL;
}

START_TEST(four_thread_ring)
{
    handoff q[4];
    ring_worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        handoff_init(&q[i], 20000);
    }
    for (int i = 0; i < 4; i++) {
        w[i] = (ring_worker){.id = i, .in = &q[(i + 3) % 4], .out = &q[i],
                             .seed = 0x1234567ull * (uint64_t)(i + 1)};
        pthread_create(&t[i], NULL, ring_run, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    for (int i = 0; i < 4; i++) {
        free(q[i].items);
    }
    ck_assert_int_eq(mw_alloc_trim(), 0);
    ck_assert_uint_eq(blocks_in_use(), 0);
    ck_assert_uint_eq(stats().arenas_live, 0);
}
END_TEST

/* ======================================================================
 * Bad input and out of memory
 * ====================================================================== */

START_TEST(bad_input)
{
    mw_free(NULL);   // no-op
    errno = 0;
    ck_assert_ptr_null(mw_calloc(SIZE_MAX / 2, 3));
    ck_assert_int_eq(errno, ENOMEM);
    errno = 0;
    ck_assert_ptr_null(mw_malloc(SIZE_MAX));
    ck_assert_int_eq(errno, ENOMEM);
    errno = 0;
    ck_assert_ptr_null(mw_malloc(SIZE_MAX - 8));
    ck_assert_int_eq(errno, ENOMEM);
    char *p = mw_malloc(40);
    strcpy(p, "still here");
    errno = 0;
    ck_assert_ptr_null(mw_realloc(p, SIZE_MAX - 4));
    ck_assert_int_eq(errno, ENOMEM);
    ck_assert_str_eq(p, "still here");   // realloc failure leaves p alone
    mw_free(p);
    ck_assert_int_eq(mw_alloc_get_stats(NULL), MW_EINVAL);
    ck_assert_uint_eq(mw_alloc_usable_size(NULL), 0);
    // calloc(0, n) and malloc(0) give distinct minimal blocks.
    void *a = mw_calloc(0, 16);
    void *b = mw_malloc(0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    mw_free(a);
    mw_free(b);
}
END_TEST

START_TEST(calloc_zeroes)
{
    for (size_t n = 1; n <= 700; n += 13) {
        unsigned char *p = mw_malloc(n);
        memset(p, 0xff, n);
        mw_free(p);
        unsigned char *z = mw_calloc(n, 1);   // likely the block just freed
        ck_assert(filled(z, n, 0));
        mw_free(z);
    }
}
END_TEST

START_TEST(realloc_keeps_contents)
{
    size_t sizes[] = {1, 8, 9, 100, 500, 512, 513, 4000, 100000, 600, 200, 7, 0};
    char *p = NULL;
    size_t have = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        char *q = mw_realloc(p, n);
        ck_assert_ptr_nonnull(q);
        size_t keep = have < n ? have : n;
        for (size_t j = 0; j < keep; j++) {
            ck_assert_int_eq(q[j], (char)(j * 31));
        }
        for (size_t j = 0; j < n; j++) {
            q[j] = (char)(j * 31);
        }
        ck_assert_uint_ge(mw_alloc_usable_size(q), n);
        p = q;
        have = n;
    }
    mw_free(p);
    ck_assert_uint_eq(blocks_in_use(), 0);
    ck_assert_uint_eq(stats().large_in_use, 0);
}
END_TEST

static bool fail_everything(size_t bytes)
{
    (void)bytes;
    return true;
}

/* The OS has memory for bookkeeping and for one arena, no more. */
static bool fail_after_one_arena(size_t bytes)
{
    return bytes >= MW_ALLOC_ARENA_SIZE && stats().arenas_mapped >= 1;
}

START_TEST(oom_from_hook)
{
    // No memory at all: the first allocation fails cleanly.
    mw__alloc_fail_hook = fail_everything;
    errno = 0;
    ck_assert_ptr_null(mw_malloc(16));
    ck_assert_int_eq(errno, ENOMEM);
    // Memory for a heap and one arena only: allocation runs until the arena
    // is full, then fails, and everything already given out stays valid.
    mw__alloc_fail_hook = fail_after_one_arena;
    size_t n = 0;
    static void *blocks[70000];
    while (n < 70000 && (blocks[n] = mw_malloc(8)) != NULL) {
        *(size_t *)blocks[n] = n;
        n++;
    }
    size_t per_arena = capacity(8) * (MW_ALLOC_ARENA_SIZE / MW_ALLOC_POOL_SIZE);
    ck_assert_uint_eq(n, per_arena);
    ck_assert_int_eq(errno, ENOMEM);
    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_eq(*(size_t *)blocks[i], i);
        mw_free(blocks[i]);
    }
    mw__alloc_fail_hook = NULL;
    void *p = mw_malloc(16);   // memory is back
    ck_assert_ptr_nonnull(p);
    mw_free(p);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
/* Not under sanitizers: they reserve terabytes of shadow address space. */
START_TEST(oom_from_rlimit)
{
    // A real out-of-memory: cap the address space and allocate until it is
    // gone.  The allocator must return NULL, never crash.
    struct rlimit rl = {.rlim_cur = 256u << 20, .rlim_max = 256u << 20};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
    size_t cap = 1u << 22;
    void **list = NULL;
    size_t n = 0;
    for (;;) {
        void *p = mw_malloc(256);
        if (p == NULL) {
            ck_assert_int_eq(errno, ENOMEM);
            break;
        }
        if (list == NULL) {
            list = mw_malloc(513 * 1024);   // large: from the C library
            ck_assert_ptr_nonnull(list);
            cap = (513 * 1024) / sizeof *list;
        }
        if (n == cap) {
            mw_free(p);
            break;   // the cap is not the point; stop bounded
        }
        list[n++] = p;
    }
    ck_assert_uint_gt(n, 1000);
    for (size_t i = 0; i < n; i++) {
        mw_free(list[i]);
    }
    mw_free(list);
    ck_assert_uint_eq(blocks_in_use(), 0);
}
END_TEST
#endif

/* ======================================================================
 * Debug-build detection of misuse (MW_DEBUG >= 1): aborts with a message
 * ====================================================================== */

#if MW_DEBUG >= 1
START_TEST(double_free_aborts)
{
    void *keep = mw_malloc(32);
    void *p = mw_malloc(32);
    mw_free(p);
    mw_free(p);
    mw_free(keep);
}
END_TEST

START_TEST(double_free_small_class_aborts)
{
    void *keep = mw_malloc(8);
    void *p = mw_malloc(8);
    mw_free(p);
    mw_free(p);
    mw_free(keep);
}
END_TEST

static void *free_it(void *arg)
{
    mw_free(arg);
    return NULL;
}

START_TEST(remote_double_free_aborts)
{
    void *keep = mw_malloc(64);
    void *p = mw_malloc(64);
    pthread_t t;
    pthread_create(&t, NULL, free_it, p);
    pthread_join(t, NULL);
    mw_free(p);   // pending on the thread-free list: still a double free
    mw_free(keep);
}
END_TEST

START_TEST(interior_pointer_aborts)
{
    char *p = mw_malloc(64);
    mw_free(p + 8);
}
END_TEST

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
START_TEST(foreign_pointer_aborts)
{
    char *p = malloc(100);   // the C library's, not ours
    mw_free(p);
}
END_TEST
#endif
#endif

/* ======================================================================
 * Suite
 * ====================================================================== */

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("size_classes");
    tcase_add_test(tc, size_class_table);
    tcase_add_test(tc, size_class_of_real_blocks);
    tcase_add_test(tc, alignment);
    suite_add_tcase(s, tc);

    tc = tcase_create("pools_arenas");
    tcase_add_test(tc, pools_return_to_free_list);
    tcase_add_test(tc, empty_arenas_are_cached);
    tcase_add_test(tc, burst_is_given_back_after_the_delay);
    tcase_add_test(tc, kept_pools_go_back_after_the_delay);
    tcase_add_test(tc, arena_cache_is_bounded);
    tcase_add_test(tc, exiting_thread_unmaps_its_cache);
    tcase_add_test(tc, fullest_arena_first);
    tcase_add_test(tc, random_workload_keeps_invariants);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_add_test(tc, cross_thread_free);
    tcase_add_test(tc, thread_exit_with_blocks_in_use);
    tcase_add_test(tc, remote_frees_are_reused_then_sent);
    tcase_add_test(tc, exited_heap_is_adopted);
    tcase_add_test(tc, four_thread_ring);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_input");
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, calloc_zeroes);
    tcase_add_test(tc, realloc_keeps_contents);
    tcase_add_test(tc, oom_from_hook);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    tcase_add_test(tc, oom_from_rlimit);
#endif
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

#if MW_DEBUG >= 1
    tc = tcase_create("debug_checks");
    tcase_add_test_raise_signal(tc, double_free_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, double_free_small_class_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, remote_double_free_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, interior_pointer_aborts, SIGABRT);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    // Sanitizer allocators put no readable header before a block: the
    // check itself would fault before it could report.
    tcase_add_test_raise_signal(tc, foreign_pointer_aborts, SIGABRT);
#endif
    suite_add_tcase(s, tc);
#endif
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(alloc_suite());
    srunner_set_fork_status(sr, CK_FORK);   // each test starts with no heap
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
