/*
 * heap.c - per-thread heaps: acquiring one, the allocation slow path, remote
 * frees, abandonment at thread exit and adoption afterwards.
 *
 * ======================================================================
 * Remote frees: the thread-free list
 * ======================================================================
 *
 * The technique is mimalloc's thread-free list, kept per heap (mimalloc
 * keeps one per page; per heap is one cache line for a producer to hit
 * instead of many, and the owner drains all of it in one exchange).
 *
 *   push (any thread):  b->next = head; CAS(head: b->next -> b), release
 *   drain (owner only): list = exchange(head, NULL), acquire
 *
 * 1. Only the owner removes nodes, and it removes the whole list at once, so
 *    there is no ABA: a pusher's CAS fails only if the head moved, and then
 *    it retries with the new head.
 * 2. The release CAS publishes the pusher's write of b->next (and every use
 *    the pusher made of the block before freeing it); the owner's acquire
 *    exchange makes them visible before it reads b->next or reuses b.
 * 3. The owner of a heap may change (abandonment, adoption) but the heap
 *    structure never goes away, so arena->heap is always a valid target and
 *    a push never races with a free of the heap itself.
 * 4. The list below a head the owner has loaded never changes (pushes only
 *    prepend), so the owner may walk it without taking it (debug checks).
 *
 * ======================================================================
 * Abandonment and adoption
 * ======================================================================
 *
 * A pthread key destructor abandons the heap of an exiting thread: it takes
 * back pending remote frees, unmaps its empty arenas, and puts the heap on
 * the global abandoned list under the global lock.  From then on the heap's
 * owner is whoever holds that lock.  A thread that needs a heap adopts an
 * abandoned one first; a thread about to map a new arena first drains the
 * abandoned heaps (try-lock, so it never waits on this).  fork: the global
 * and descriptor locks are taken around fork so the child gets them in a
 * consistent state; heaps of threads that do not exist in the child stay
 * where they are (their owner's state may have been mid-update at the fork,
 * so they are never adopted) and their memory is lost to the child, as
 * other threads' memory is with most allocators.
 */
#include "alloc/alloc.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

mw__alloc_globals mw__alloc_global = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .purge_delay_ms = MW_ALLOC_PURGE_DELAY_MS,
    .arena_cache_max = MW_ALLOC_ARENA_CACHE,
    .purge_advice = MADV_DONTNEED,
};
mw__heap mw__heap_empty;
__thread mw__heap *mw__tls_heap __attribute__((tls_model("initial-exec"))) = &mw__heap_empty;

/* ======================================================================
 * One-time setup: the thread-exit key and the fork handlers
 * ====================================================================== */

static pthread_key_t heap_key;
static bool heap_key_ok;
static _Atomic(int) init_state;   // 0 not started, 1 running, 2 done
static __thread bool tls_in_init;

static void on_thread_exit(void *arg)
{
    (void)arg;
    mw__heap_abandon();
}

static void atfork_prepare(void)
{
    pthread_mutex_lock(&mw__alloc_global.lock);
    pthread_mutex_lock(&mw__arena_descriptor_lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&mw__arena_descriptor_lock);
    pthread_mutex_unlock(&mw__alloc_global.lock);
}

static void atfork_child(void)
{
    pthread_mutex_init(&mw__arena_descriptor_lock, NULL);
    pthread_mutex_init(&mw__alloc_global.lock, NULL);
}

/*
 * Not pthread_once: pthread_atfork may call malloc, which must not wait on
 * the initialization it is part of.  The initializing thread marks itself,
 * and its nested calls go through; other threads wait for the end.
 */
static void ensure_init(void)
{
    if (mw_likely(mw__atomic_load_acquire(&init_state) == 2) || tls_in_init) {
        return;
    }
    int expected = 0;
    if (mw__atomic_cas_acq_rel(&init_state, &expected, 1)) {
        tls_in_init = true;
        heap_key_ok = pthread_key_create(&heap_key, on_thread_exit) == 0;
        mw__arena_settings_from_env();
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        tls_in_init = false;
        mw__atomic_store_release(&init_state, 2);   // publishes heap_key
        return;
    }
    while (mw__atomic_load_acquire(&init_state) != 2) {
        sched_yield();
    }
}

/* ======================================================================
 * Acquiring a heap
 * ====================================================================== */

/* Blocks of class idx a heap's cache may hold.  Any thread. */
unsigned mw__cache_limit(unsigned idx)
{
    size_t n = MW_ALLOC_CACHE_BYTES / mw__class_size(idx);
    return n < MW_ALLOC_CACHE_MIN ? MW_ALLOC_CACHE_MIN
         : n > MW_ALLOC_CACHE_MAX ? MW_ALLOC_CACHE_MAX
         : (unsigned)n;
}

static mw__heap *heap_new(void)
{
    if (mw__alloc_fail_hook != NULL && mw__alloc_fail_hook(sizeof(mw__heap))) {
        return NULL;
    }
    void *p = mmap(NULL, sizeof(mw__heap), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    mw__heap *h = p;   // zeroed by mmap: every list empty, every count 0
    for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
        h->cache_room[i] = (uint16_t)mw__cache_limit(i);
    }
    pthread_mutex_lock(&mw__alloc_global.lock);
    h->next_all = mw__atomic_load_relaxed(&mw__alloc_global.all_heaps);
    // Release: next_all is written before the heap becomes reachable.
    mw__atomic_store_release(&mw__alloc_global.all_heaps, h);
    pthread_mutex_unlock(&mw__alloc_global.lock);
    mw__atomic_add_relaxed(&mw__alloc_global.nheaps, 1);
    return h;
}

/* Give the calling thread a heap: an abandoned one if any, else a new one.
 * Returns NULL if the OS has no memory for a new heap. */
static mw__heap *heap_acquire(void)
{
    ensure_init();
    mw__heap *h = NULL;
    if (mw__atomic_load_relaxed(&mw__alloc_global.nabandoned) > 0) {
        pthread_mutex_lock(&mw__alloc_global.lock);
        h = mw__alloc_global.abandoned;
        if (h != NULL) {
            mw__alloc_global.abandoned = h->next_abandoned;
            h->next_abandoned = NULL;
            mw__atomic_sub_relaxed(&mw__alloc_global.nabandoned, 1);
            mw__atomic_store_relaxed(&h->abandoned, false);
        }
        pthread_mutex_unlock(&mw__alloc_global.lock);
    }
    if (h == NULL) {
        h = heap_new();
        if (h == NULL) {
            return NULL;
        }
    }
    // Publish the heap before registering it: pthread_setspecific may
    // allocate, and that allocation must find this heap, not make another.
    mw__tls_heap = h;
    mw__heap_drain(h);
    if (heap_key_ok) {
        pthread_setspecific(heap_key, h);
    }
    return h;
}

/*
 * The calling thread's heap, acquiring one on first use.  Returns NULL only
 * when there is none and the OS cannot provide one.  Owner (the caller).
 */
mw__heap *mw__heap_current(void)
{
    mw__heap *h = mw__tls_heap;
    return h != &mw__heap_empty ? h : heap_acquire();
}

/* ======================================================================
 * The allocation slow path
 * ====================================================================== */

/*
 * The cache of class idx is empty: pop a block from the class's first used
 * pool.  If there is none, get a heap if the thread has none, take back
 * blocks other threads freed, and only then take a fresh pool.  Returns a
 * block, or NULL with errno = ENOMEM.  Owner only.
 */
void *mw__heap_malloc_pool(mw__heap *h, unsigned idx)
{
    mw__pool *pool = h->used[idx];
    if (mw_unlikely(pool == NULL)) {
        if (h == &mw__heap_empty) {
            h = heap_acquire();
            if (h == NULL) {
                errno = ENOMEM;
                return NULL;
            }
            return mw__heap_malloc_small(h, idx);
        }
        if (mw__atomic_load_relaxed(&h->thread_free) != NULL) {
            mw__heap_drain(h);
            if (h->cache[idx] != NULL) {
                return mw__heap_malloc_small(h, idx);
            }
            pool = h->used[idx];
        }
    }
    if (pool == NULL) {
        pool = mw__pool_acquire(h, idx);
        if (pool == NULL) {
            errno = ENOMEM;
            return NULL;
        }
    }
    // b for the caller, and the next few blocks of the pool into the
    // cache, which is empty (the fast path came here for that): a program
    // that allocates without freeing then pops the cache on most calls
    // instead of coming here each time.  Cached blocks count in the pool's
    // ref and in pool_inuse, as freed ones do, and no more than the
    // cache's room (its bound) are taken.
    mw__block *b = pool->freeblock;
    mw__block *next = b->next;
    unsigned room = mw__atomic_load_relaxed(&h->cache_room[idx]);
    unsigned take = room < MW__CACHE_REFILL ? room : MW__CACHE_REFILL;
    unsigned n = 0;
    if (mw_likely(h->cache[idx] == NULL) && next != NULL && take > 0) {
        mw__block *last = next;
        for (n = 1; n < take && last->next != NULL; n++) {
            last = last->next;
        }
        h->cache[idx] = next;
        next = last->next;
        last->next = NULL;
        mw__atomic_store_relaxed(&h->cache_room[idx], (uint16_t)(room - n));
    }
    pool->freeblock = next;
    pool->ref += 1 + n;
    mw__counter_add(&h->pool_inuse[idx], 1 + n);
    if (mw_unlikely(next == NULL)) {
        mw__pool_became_full(h, pool);
        // Also take back remote frees each time a pool fills, not only when
        // a class runs out of pools: a heap with free blocks in some classes
        // would otherwise let blocks other threads freed to it pile up
        // while it fills fresh pools of other classes.  Once per pool keeps
        // this off the path of every allocation, where it would pull the
        // thread-free line away from the threads pushing to it.
        if (mw__atomic_load_relaxed(&h->thread_free) != NULL) {
            mw__heap_drain(h);
        }
        // And let time pass for the arena cache (arena.c): a heap that
        // keeps allocating from the arenas it has decommits the empty ones
        // once their delay is over.
        if (h->cached_oldest != NULL) {
            mw__arena_cache_purge(h, false);
        }
    }
    mw__debug_wipe_canary(b, idx);
    return b;
}

/* ======================================================================
 * Remote frees
 * ====================================================================== */

/*
 * Take back every block other threads freed to h.  Owner only (the thread
 * whose heap it is, or the holder of the global lock for an abandoned one).
 */
void mw__heap_drain(mw__heap *h)
{
    // Acquire pairs with the pushers' release CAS (point 2 above).
    mw__block *b = mw__atomic_exchange_acquire(&h->thread_free, NULL);
    while (b != NULL) {
        mw__block *next = b->next;
        mw__heap_free_local(h, mw__block_class(mw__arena_of(b), b), b);
        b = next;
    }
}

/* ======================================================================
 * The cache of freed blocks
 * ====================================================================== */

/* Return the blocks of class idx's cache after its first keep to their
 * pools. */
static void cache_return(mw__heap *h, unsigned idx, unsigned keep)
{
    mw__block **link = &h->cache[idx];
    for (unsigned i = 0; i < keep && *link != NULL; i++) {
        link = &(*link)->next;
    }
    mw__block *b = *link;
    *link = NULL;
    while (b != NULL) {
        mw__block *next = b->next;
        mw__pool_return(h, mw__pool_of(b), b);
        mw__counter16_add(&h->cache_room[idx], 1);
        b = next;
    }
}

/*
 * Free b when the cache of class idx is full: send the whole cache back to
 * the pools, then cache b.  Returning all of it walks only blocks that go
 * back: keeping the newer half (the likelier to be in the CPU cache) meant
 * walking that half first just to find where the older one began, and in
 * a burst of frees (a collection freeing its garbage) that walk was a
 * quarter of the time spent here.  A spill empties the cache, so no block
 * stays in it for ever, pinning its pool and arena.  Owner only.
 */
void mw__heap_free_spill(mw__heap *h, unsigned idx, mw__block *b)
{
    cache_return(h, idx, 0);
    mw__heap_free_local(h, idx, b);
}

/* Return every cached block to its pool.  Owner only. */
void mw__heap_cache_flush(mw__heap *h)
{
    for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
        cache_return(h, i, 0);
    }
}

/*
 * Take back what other threads freed to the calling thread's heap, if
 * anything, and decommit empty arenas whose purge delay has passed: cheap
 * enough for a safepoint.  Owner (the caller).
 */
void mw__heap_take_back(void)
{
    mw__heap *h = mw__tls_heap;
    if (h == &mw__heap_empty) {
        return;
    }
    if (mw__atomic_load_relaxed(&h->thread_free) != NULL) {
        mw__heap_drain(h);
    }
    if (h->cached_oldest != NULL) {
        mw__arena_cache_purge(h, false);   // empty arenas past their delay
    }
}

/*
 * Free b, a block of owner's, from a thread that does not own it: push it
 * on owner's thread-free list.  Lock-free; any thread.
 */
void mw__free_remote(mw__heap *owner, mw__block *b)
{
#if MW_DEBUG >= 1
    // b is live, so its pool's class cannot change under us; ref can (the
    // owner is allocating), so it is not read here.
    mw__pool *pool = mw__pool_of(b);
    if (pool->szidx >= MW__NUM_CLASSES) {
        mw__fatal("free(%p): not a live block of this allocator", (void *)b);
    }
    if (mw__class_size(pool->szidx) >= 16) {
        uintptr_t canary = mw__free_canary(b);
        if (((uintptr_t *)b)[1] == canary) {
            mw__fatal("free(%p): double free (from a thread that does not own it)", (void *)b);
        }
        ((uintptr_t *)b)[1] = canary;
    }
#endif
    mw__block *head = mw__atomic_load_relaxed(&owner->thread_free);
    do {
        b->next = head;
    } while (!mw__atomic_cas_weak_release(&owner->thread_free, &head, b));
}

/* ======================================================================
 * Abandonment and reclaiming
 * ====================================================================== */

/* Give back what an unowned heap can give: pending frees, and every empty
 * arena it keeps (unmapped, whatever the purge delay). */
static void heap_shrink(mw__heap *h)
{
    mw__heap_drain(h);
    mw__heap_cache_flush(h);
    mw__arena_cache_purge(h, true);
}

/*
 * Abandon the calling thread's heap (thread exit, or mw_alloc_thread_exit):
 * it goes on the global list for adoption with whatever blocks are still in
 * use.  The thread is left with the empty heap.  Owner only.
 */
void mw__heap_abandon(void)
{
    mw__heap *h = mw__tls_heap;
    if (h == &mw__heap_empty) {
        return;
    }
    heap_shrink(h);
    mw__tls_heap = &mw__heap_empty;
    pthread_mutex_lock(&mw__alloc_global.lock);
    h->next_abandoned = mw__alloc_global.abandoned;
    mw__alloc_global.abandoned = h;
    mw__atomic_store_relaxed(&h->abandoned, true);
    mw__atomic_add_relaxed(&mw__alloc_global.nabandoned, 1);
    pthread_mutex_unlock(&mw__alloc_global.lock);
}

/*
 * Drain the abandoned heaps, returning the arenas that empties to the OS.
 * With wait false, gives up at once if another thread holds the lock.
 * Any thread (it becomes the abandoned heaps' owner while it holds the lock).
 */
void mw__heap_reclaim_abandoned(bool wait)
{
    if (wait) {
        pthread_mutex_lock(&mw__alloc_global.lock);
    } else if (pthread_mutex_trylock(&mw__alloc_global.lock) != 0) {
        return;
    }
    for (mw__heap *h = mw__alloc_global.abandoned; h != NULL; h = h->next_abandoned) {
        heap_shrink(h);
    }
    pthread_mutex_unlock(&mw__alloc_global.lock);
}

int mw_alloc_trim(void)
{
    mw__heap *h = mw__tls_heap;
    if (h != &mw__heap_empty) {
        heap_shrink(h);
    }
    mw__heap_reclaim_abandoned(true);
    return 0;
}

void mw_alloc_thread_exit(void)
{
    mw__heap_abandon();
    if (heap_key_ok) {
        pthread_setspecific(heap_key, NULL);
    }
}
