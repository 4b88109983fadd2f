/*
 * heap.c - per-thread heaps: acquiring one, the allocation slow path, remote
 * frees, abandonment at thread exit and adoption afterwards.
 *
 * ======================================================================
 * Remote frees: outboxes and per-class thread-free lists
 * ======================================================================
 *
 * The technique is mimalloc's thread-free list, with two changes that take
 * the walk out of the owner's path.  The old design (one list per heap,
 * which the owner took in one exchange and then walked, block by block,
 * into its cache) spent most of a cross-thread workload's time in that
 * walk: every block on the list was last written by another core, so each
 * step was a cache miss the next step depended on.
 *
 *   1. The lists are per heap AND per size class, and each word carries
 *      the list's length in its top 16 bits (MW__TF_COUNT_SHIFT).  When the
 *      cache of a class runs dry, the owner takes that class's list in one
 *      exchange and makes it the cache as it is: no walk, no pool header
 *      touched.  The blocks are still counted in their pools' ref, as every
 *      block out of a pool is, so nothing else changes.  The cache may then
 *      hold more than its bound (cache_room below 0); until allocations
 *      bring it back, frees of that class go straight to their pools.
 *      Each block is then touched by the owner once, when malloc hands it
 *      out - the line the program writes next anyway.
 *   2. The freeing thread does not push each block.  It keeps, per class,
 *      an outbox of the blocks it freed for one other heap (its own heap's
 *      outbox[], owner-only, so no atomics), and sends the outbox whole -
 *      one CAS - when it holds MW_ALLOC_REMOTE_BATCH blocks or when a block
 *      of the same class for another heap comes along.  Outboxes are sent
 *      at thread exit, mw_alloc_trim and at safepoints (mw__heap_take_back),
 *      so at most MW_ALLOC_REMOTE_BATCH blocks per class wait in a thread
 *      that stops freeing.
 *
 *   send (any thread):  tail->next = ptr(old);
 *                       CAS(word: old -> head | min(count(old) + n, SAT) << 48),
 *                       release
 *   take (owner only):  word = exchange(word, 0), acquire
 *
 * Why it is correct:
 *   a. Only the owner removes, and it removes a whole list at once, so a
 *      sender's CAS fails only if the word moved; then it relinks its tail
 *      to the new head and retries.  ABA is harmless: if the word holds the
 *      same value again, its head is the same block, and linking the tail to
 *      that block is exactly right whatever lies below it.
 *   b. The release CAS publishes the sender's links (written before the CAS;
 *      the blocks are the sender's until then) and everything the program
 *      did with the blocks before freeing them; the owner's acquire
 *      exchange makes those visible before it reads a link or reuses a
 *      block.
 *   c. The count saturates instead of wrapping: a taker that reads
 *      MW__TF_COUNT_SAT counts the list by walking it (never in practice:
 *      65535 blocks freed to one class of one heap between two takes).
 *   d. The owner of a heap may change (abandonment, adoption) but the heap
 *      structure never goes away, so arena->heap and an outbox's `to` are
 *      always valid targets.  A thread sends its outboxes before its heap
 *      is abandoned, so an abandoned heap's outboxes are empty, and a block
 *      in an outbox is never one of the outbox owner's own (a thread adopts
 *      a heap only while it has none, and so no outbox; a thread without a
 *      heap never makes or adopts one to free).
 *   e. The list below a head the owner has loaded never changes (sends only
 *      prepend), so the owner may walk it without taking it (debug checks).
 *   f. Before any of that, a block freed by a thread that has a heap goes
 *      into that heap's own cache if the cache has room, like a local free
 *      (tcmalloc's thread cache): the next allocation of the class on that
 *      thread hands it out again while its lines are still in this core's
 *      cache, where the owner would get it back cold.  The block stays its
 *      arena's heap's - nothing about its pool changes, it is simply still
 *      out of the pool - so a cache may hold blocks of other heaps; when it
 *      spills or is flushed, each block goes back by its pool's heap field
 *      (fixed before the block was first handed out): to its pool if it is
 *      the cache owner's, else to the outbox.  A heap's statistics then
 *      count such a block as cached while its owner counts it as out of
 *      the pool; the sums over all heaps (stats.c) come out right.
 *
 * A thread without a heap (one that has only ever freed) has no outbox and
 * sends each block alone: one CAS per free, as before outboxes.
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
        h->cache_room[i] = (int32_t)mw__cache_limit(i);
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
 * Take class idx's thread-free list of h whole; *n is its length.  NULL if
 * it is empty (checked with a plain load first, so an empty list costs no
 * read-modify-write on a line other threads write).  Owner only.
 */
static mw__block *thread_free_take(mw__heap *h, unsigned idx, uint32_t *n)
{
    if (mw__atomic_load_relaxed(&h->thread_free[idx]) == 0) {
        return NULL;
    }
    // Acquire pairs with the senders' release CAS (point b above).
    uintptr_t w = mw__atomic_exchange_acquire(&h->thread_free[idx], (uintptr_t)0);
    mw__block *list = (mw__block *)(w & MW__TF_PTR_MASK);
    uint32_t count = (uint32_t)(w >> MW__TF_COUNT_SHIFT);
    if (mw_unlikely(count == MW__TF_COUNT_SAT)) {
        count = 0;
        for (mw__block *b = list; b != NULL; b = b->next) {
            count++;
        }
    }
    *n = count;
    return list;
}

/*
 * Put list (n blocks of class idx, taken from a thread-free list) in front
 * of the class's cache.  The cache is usually empty here (the allocation
 * slow path takes a list only then); otherwise the shorter of the two is
 * walked to find a tail.  The cache may end up over its bound.  Owner only.
 */
static void cache_take_list(mw__heap *h, unsigned idx, mw__block *list, uint32_t n)
{
    int32_t room = mw__atomic_load_relaxed(&h->cache_room[idx]);
    mw__block *old = h->cache[idx];
    if (old == NULL) {
        h->cache[idx] = list;
    } else if ((int64_t)mw__cache_limit(idx) - room <= (int64_t)n) {
        mw__block *tail = old;   // the cache is the shorter: list goes first
        while (tail->next != NULL) {
            tail = tail->next;
        }
        tail->next = list;
    } else {
        mw__block *tail = list;
        while (tail->next != NULL) {
            tail = tail->next;
        }
        tail->next = old;
        h->cache[idx] = list;
    }
    mw__atomic_store_relaxed(&h->cache_room[idx], room - (int32_t)n);
}

/*
 * The cache of class idx is empty: take back the blocks other threads
 * freed of this class, if any, as the new cache; else pop a block from the
 * class's first used pool, or a fresh pool.  A thread without a heap gets
 * one first.  Returns a block, or NULL with errno = ENOMEM.  Owner only.
 */
void *mw__heap_malloc_pool(mw__heap *h, unsigned idx)
{
    if (mw_unlikely(h == &mw__heap_empty)) {
        h = heap_acquire();
        if (h == NULL) {
            errno = ENOMEM;
            return NULL;
        }
        return mw__heap_malloc_small(h, idx);
    }
    uint32_t nremote;
    mw__block *remote = thread_free_take(h, idx, &nremote);
    if (remote != NULL) {
        cache_take_list(h, idx, remote, nremote);
        return mw__heap_malloc_small(h, idx);
    }
    mw__pool *pool = h->used[idx];
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
    // The cache's blocks come from the free list first (links to follow),
    // then from beyond bump (addresses to compute: no reads of cold
    // memory).  Then the list is topped up from beyond bump so that it is
    // NULL only when the pool is full (alloc.h).
    mw__block *b = pool->freeblock;
    mw__block *next = b->next;
    int32_t room = mw__atomic_load_relaxed(&h->cache_room[idx]);
    unsigned take = room <= 0 ? 0 : room < (int32_t)MW__CACHE_REFILL ? (unsigned)room
                                                                      : MW__CACHE_REFILL;
    unsigned n = 0;
    unsigned bump = pool->bump;
    if (mw_likely(h->cache[idx] == NULL) && take > 0) {
        mw__block *head = NULL;
        mw__block **link = &head;
        for (; n < take && next != NULL; n++) {
            *link = next;
            link = &next->next;
            next = next->next;
        }
        for (; n < take && bump < pool->capacity; n++) {
            mw__block *c = mw__pool_block(pool, bump++);
            *link = c;
            link = &c->next;
        }
        *link = NULL;
        h->cache[idx] = head;
        mw__atomic_store_relaxed(&h->cache_room[idx], room - (int32_t)n);
    }
    if (next == NULL && bump < pool->capacity) {
        next = mw__pool_block(pool, bump++);
        next->next = NULL;
    }
    pool->bump = (uint16_t)bump;
    pool->freeblock = next;
    pool->ref += 1 + n;
    mw__counter_add(&h->pool_inuse[idx], 1 + n);
    if (mw_unlikely(next == NULL)) {
        mw__pool_became_full(h, pool);
        // (No take-back of other classes' remote frees here: each class's
        // list is taken before a pool of that class is used, above, so no
        // class fills fresh pools while blocks of its own wait.)
        // Let time pass for the arena cache (arena.c): a heap that
        // keeps allocating from the arenas it has decommits the empty ones
        // once their delay is over.
        if (h->cached_oldest != NULL || h->nkept != 0) {
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
    for (unsigned idx = 0; idx < MW__NUM_CLASSES; idx++) {
        uint32_t n;
        mw__block *list = thread_free_take(h, idx, &n);
        if (list != NULL) {
            cache_take_list(h, idx, list, n);
        }
    }
}

/* Blocks waiting on h's thread-free lists (their counts; a saturated one
 * counts as its saturation value).  Any thread; a snapshot. */
size_t mw__heap_thread_free_pending(const mw__heap *h)
{
    size_t n = 0;
    for (unsigned idx = 0; idx < MW__NUM_CLASSES; idx++) {
        n += mw__atomic_load_relaxed(&h->thread_free[idx]) >> MW__TF_COUNT_SHIFT;
    }
    return n;
}

/* ======================================================================
 * The cache of freed blocks
 * ====================================================================== */

static void outbox_put(mw__heap *h, mw__heap *owner, unsigned idx, mw__block *b);

/* Give back b, a block of class idx that h's owner freed and does not keep
 * in its cache: to its pool if it is h's, else to the outbox for its heap.
 * pool->heap is fixed from the pool's first use, before any of its blocks
 * was handed out, so reading it for a foreign live block is no race.
 * Owner only. */
MW_INLINE void block_give_back(mw__heap *h, unsigned idx, mw__block *b)
{
    mw__pool *pool = mw__pool_of(b);
    if (mw_likely(pool->heap == h)) {
        mw__pool_return(h, pool, b);
    } else {
        outbox_put(h, pool->heap, idx, b);
    }
}

/* Give back the blocks of class idx's cache after its first keep (their
 * own pools, or outboxes for other heaps' blocks). */
static void cache_return(mw__heap *h, unsigned idx, unsigned keep)
{
    mw__block **link = &h->cache[idx];
    for (unsigned i = 0; i < keep && *link != NULL; i++) {
        link = &(*link)->next;
    }
    mw__block *b = *link;
    *link = NULL;
    int32_t returned = 0;
    while (b != NULL) {
        mw__block *next = b->next;
        block_give_back(h, idx, b);
        returned++;
        b = next;
    }
    mw__room_add(&h->cache_room[idx], returned);
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
    if (mw__atomic_load_relaxed(&h->cache_room[idx]) < 0) {
        // Overfilled by a thread-free list taken whole: those blocks go out
        // to the program one by one, and b goes straight to its pool (its
        // line is hot; walking the cold list to return it would not be).
        block_give_back(h, idx, b);
        return;
    }
    cache_return(h, idx, 0);
    mw__heap_free_local(h, idx, b);
}

/* Return every cached block to its pool, and every kept empty pool to its
 * arena (pool.c).  Owner only. */
void mw__heap_cache_flush(mw__heap *h)
{
    for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
        cache_return(h, i, 0);
    }
    if (h->nkept != 0) {
        mw__pool_kept_release(h, true);
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
    mw__heap_outbox_flush(h);
    mw__heap_drain(h);
    if (h->cached_oldest != NULL || h->nkept != 0) {
        mw__arena_cache_purge(h, false);   // kept pools, empty arenas past their delay
    }
}

/*
 * Send n blocks of class idx, head..tail linked, to owner's thread-free
 * list in one CAS (point a above).  Lock-free; any thread that holds the
 * blocks.
 */
static void thread_free_send(mw__heap *owner, unsigned idx, mw__block *head, mw__block *tail,
                             uint32_t n)
{
    uintptr_t old = mw__atomic_load_relaxed(&owner->thread_free[idx]);
    uintptr_t w;
    do {
        tail->next = (mw__block *)(old & MW__TF_PTR_MASK);
        uint32_t count = (uint32_t)(old >> MW__TF_COUNT_SHIFT) + n;
        if (count > MW__TF_COUNT_SAT) {
            count = MW__TF_COUNT_SAT;
        }
        w = (uintptr_t)head | (uintptr_t)count << MW__TF_COUNT_SHIFT;
    } while (!mw__atomic_cas_weak_release(&owner->thread_free[idx], &old, w));
}

/* Send outbox o (class idx) and leave it empty.  Owner of o. */
static void outbox_send(mw__outbox *o, unsigned idx)
{
    if (o->n > 0) {
        thread_free_send(o->to, idx, o->head, o->tail, o->n);
        o->n = 0;
        o->head = o->tail = NULL;
    }
}

/* Send every outbox of h.  Owner only. */
void mw__heap_outbox_flush(mw__heap *h)
{
    for (unsigned idx = 0; idx < MW__NUM_CLASSES; idx++) {
        outbox_send(&h->outbox[idx], idx);
    }
}

/* Put b (class idx, owner's, not h's) in h's outbox for owner, sending the
 * outbox when it is full or held another heap's blocks.  Owner of h. */
static void outbox_put(mw__heap *h, mw__heap *owner, unsigned idx, mw__block *b)
{
    mw__outbox *o = &h->outbox[idx];
    if (o->n > 0 && o->to != owner) {
        outbox_send(o, idx);
    }
    if (o->n == 0) {
        o->to = owner;
        o->tail = b;
        b->next = NULL;
    } else {
        b->next = o->head;
    }
    o->head = b;
    if (++o->n >= MW_ALLOC_REMOTE_BATCH) {
        outbox_send(o, idx);
    }
}

/*
 * Free b, a block of class idx of owner's, from a thread that does not own
 * it (whose heap is h, or the empty heap): keep it in h's cache if there
 * is room, for h's next allocation of the class (point f above), else put
 * it in h's outbox for owner.  Lock-free; any thread.
 */
void mw__free_remote(mw__heap *h, mw__heap *owner, unsigned idx, mw__block *b)
{
#if MW_DEBUG >= 1
    // b is live, so its pool's class cannot change under us; ref can (the
    // owner is allocating), so it is not read here.
    mw__pool *pool = mw__pool_of(b);
    if (pool->szidx >= MW__NUM_CLASSES || pool->szidx != idx) {
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
    if (mw_unlikely(h == &mw__heap_empty)) {
        // No heap, so no outbox: send b alone.  (Taking a heap here would
        // take an abandoned heap away from the next new thread for a
        // thread that may only ever free.)
        b->next = NULL;
        thread_free_send(owner, idx, b, b, 1);
        return;
    }
    int32_t room = mw__atomic_load_relaxed(&h->cache_room[idx]);
    if (room > 0) {
        mw__atomic_store_relaxed(&h->cache_room[idx], room - 1);
        b->next = h->cache[idx];
        h->cache[idx] = b;
        return;
    }
    outbox_put(h, owner, idx, b);
}

/* ======================================================================
 * Abandonment and reclaiming
 * ====================================================================== */

/* Give back what an unowned heap can give: pending frees, and every empty
 * arena it keeps (unmapped, whatever the purge delay). */
static void heap_shrink(mw__heap *h)
{
    mw__heap_drain(h);
    mw__heap_cache_flush(h);        // other heaps' blocks go to the outboxes
    mw__heap_outbox_flush(h);       // and from there to their heaps
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
