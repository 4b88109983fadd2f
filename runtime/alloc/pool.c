/*
 * pool.c - pools: taking one for a size class, the used lists, giving an
 * empty pool back to its arena, and the debug checks on free.
 *
 * The pool states and their invariant are in alloc.h.  Everything here runs
 * on the owner of the heap (see the ownership rule there).
 */
#include "alloc/alloc.h"

/* ======================================================================
 * Used lists: doubly linked, NULL-terminated, head in heap->used[class]
 * ====================================================================== */

static void used_push(mw__heap *h, mw__pool *pool)
{
    mw__pool *head = h->used[pool->szidx];
    pool->prevpool = NULL;
    pool->nextpool = head;
    if (head != NULL) {
        head->prevpool = pool;
    }
    h->used[pool->szidx] = pool;
}

static void used_unlink(mw__heap *h, mw__pool *pool)
{
    if (pool->prevpool != NULL) {
        pool->prevpool->nextpool = pool->nextpool;
    } else {
        mw_assert_internal(h->used[pool->szidx] == pool);
        h->used[pool->szidx] = pool->nextpool;
    }
    if (pool->nextpool != NULL) {
        pool->nextpool->prevpool = pool->prevpool;
    }
    pool->nextpool = pool->prevpool = NULL;
}

/* ======================================================================
 * Taking a pool for a class
 * ====================================================================== */

/*
 * Make every block of an empty pool free: the first is the free list, the
 * rest lie beyond bump (alloc.h), so nothing but the first block is
 * written; they are handed out in address order.  Owner only.
 */
static void pool_reset(mw__pool *pool)
{
    mw__block *first = mw__pool_block(pool, 0);
    first->next = NULL;
    pool->freeblock = first;
    pool->bump = 1;
}

/* Assign a pool to class idx, all its blocks free.  Owner only. */
static void format_pool(mw__pool *pool, unsigned idx)
{
    size_t size = mw__class_size(idx);
    pool->szidx = (uint16_t)idx;
    pool->capacity = (uint16_t)((MW__POOL_SIZE - MW__POOL_HEADER_SIZE) / size);
    pool_reset(pool);
}

/*
 * Take an empty (or untouched) pool from the heap's fullest usable arena,
 * mapping an arena if there is none, and put it at the head of used[idx].
 * Returns the pool, or NULL if the OS has no memory.  Owner only.
 */
mw__pool *mw__pool_acquire(mw__heap *h, unsigned idx)
{
    mw__pool *kept = h->kept[idx];
    if (kept != NULL) {
        // Formatted for idx, every block free, still counted in pools[idx].
        h->kept[idx] = kept->nextpool;
        h->nkept--;
        mw_assert_internal(kept->szidx == idx && kept->ref == 0 && kept->freeblock != NULL);
        used_push(h, kept);
        return kept;
    }
    mw__arena *a = h->usable;
    if (h->nkept != 0 && (a == NULL || a->freepools == NULL)) {
        // No empty pool in the arenas, only untouched ones or a new arena:
        // take a kept pool of another class instead, so that keeping pools
        // never makes the heap touch more memory than giving them back
        // would have.  Its arena's pool count does not change (it was
        // never given back); only its class does.
        for (unsigned c = 0; c < MW__NUM_CLASSES; c++) {
            mw__pool *p = h->kept[c];
            if (p != NULL) {
                h->kept[c] = p->nextpool;
                h->nkept--;
                mw__counter_sub(&h->pools[c], 1);
                format_pool(p, idx);
                mw__arena *pa = p->arena;
                pa->pool_class[((uintptr_t)p - pa->address) >> MW_ALLOC_POOL_BITS] = (uint8_t)idx;
                p->ref = 0;
                used_push(h, p);
                mw__counter_add(&h->pools[idx], 1);
                return p;
            }
        }
    }
    if (a == NULL) {
        a = mw__arena_new(h);
        if (a == NULL) {
            return NULL;
        }
    }
    mw__pool *pool = a->freepools;
    if (pool != NULL) {
        a->freepools = pool->nextpool;
    } else {
        mw_assert_internal(a->ntouched < MW__POOLS_PER_ARENA);
        if (MW_ALLOC_PREFAULT_POOLS > 1 && a->ntouched % MW__PREFAULT_STEP == 0) {
            mw__arena_prefault(a, a->ntouched);
        }
        pool = (mw__pool *)(a->address + (uintptr_t)a->ntouched * MW__POOL_SIZE);
        a->ntouched++;
        pool->szidx = MW__NO_CLASS;
        pool->arena = a;
        pool->heap = h;
    }
    mw__arena_took_pool(h, a);

    // An empty pool that last held this class was reset when it emptied
    // (obmalloc's "luckily" case): reuse it as it is.
    if (pool->szidx != idx) {
        format_pool(pool, idx);
    }
    a->pool_class[((uintptr_t)pool - a->address) >> MW_ALLOC_POOL_BITS] = (uint8_t)idx;
    mw_assert_internal(pool->freeblock != NULL);
    pool->ref = 0;
    used_push(h, pool);
    mw__counter_add(&h->pools[idx], 1);
    mw_assert_expensive(mw__pool_is_valid(pool));
    return pool;
}

/* ======================================================================
 * Transitions on free
 * ====================================================================== */

/*
 * The pool just gave out its last free block: it is full, so it leaves the
 * used list until a block comes back.  Owner only.
 */
void mw__pool_became_full(mw__heap *h, mw__pool *pool)
{
    mw_assert_internal(pool->ref == pool->capacity);
    used_unlink(h, pool);
}

/* Give empty pool (on no list) back to its arena.  Owner only. */
static void pool_release(mw__heap *h, mw__pool *pool)
{
    mw__counter_sub(&h->pools[pool->szidx], 1);
    mw_assert_expensive(mw__pool_is_valid(pool));
    mw__arena *a = pool->arena;
    pool->nextpool = a->freepools;
    a->freepools = pool;
    mw__arena_gave_pool(h, a);
}

/*
 * A free made the pool leave the full state (was_full) or become empty
 * (ref == 0), or both.  A full pool goes back on its used list, at the head,
 * so the next allocation of its class fills it again; an empty pool is kept
 * for its class (below), or goes back to its arena, which may then be free
 * as a whole.  Owner only.
 */
void mw__pool_free_slow(mw__heap *h, mw__pool *pool, bool was_full)
{
    if (was_full) {
        used_push(h, pool);
    }
    if (pool->ref != 0) {
        return;
    }
    used_unlink(h, pool);
    pool_reset(pool);   // its blocks are all free: hand them out in order again
    int64_t delay = mw__atomic_load_relaxed(&mw__alloc_global.purge_delay_ms);
    if (delay == 0 || h->nkept >= MW_ALLOC_KEEP_POOLS) {
        pool_release(h, pool);
        return;
    }
    int64_t now = mw__alloc_clock_ms();
    if (h->nkept == 0) {
        h->kept_since_ms = now;
    }
    pool->nextpool = h->kept[pool->szidx];
    h->kept[pool->szidx] = pool;
    h->nkept++;
    // A heap that only frees still sees the delay pass.
    if (delay > 0 && now - h->kept_since_ms >= delay) {
        mw__pool_kept_release(h, true);
    }
}

/* ======================================================================
 * Kept pools
 * ======================================================================
 *
 * A program that frees a burst of blocks and allocates the next burst
 * moments later (a request handler dropping a reply, a collection freeing
 * its garbage) empties pools and then needs as many again, mostly of the
 * same classes.  Giving each empty pool to its arena at once meant taking
 * it again from the arena's free list (a cold header to read) and, when
 * the next class differs, threading its page again.  So an empty pool is
 * kept on its heap's kept[class] list, formatted, and the next pool of the
 * class is taken from there first.  The memory cost is bounded twice over:
 * at most MW_ALLOC_KEEP_POOLS pools per heap, and all of them go back to
 * their arenas once the purge delay has passed since the first of them was
 * kept - the arenas that empties then enter the arena cache stamped with
 * that time, so they are decommitted on the same schedule as if the pools
 * had gone back at once.  Time is read where the arena cache reads it
 * (mw__arena_cache_purge) and when a pool is kept.  A delay of 0 keeps
 * nothing.  Owner only, like the rest of the heap.
 */

/* Give back the kept pools: all of them if all, else only if the delay
 * has passed since the oldest was kept.  Owner only. */
void mw__pool_kept_release(mw__heap *h, bool all)
{
    if (h->nkept == 0) {
        return;
    }
    if (!all) {
        int64_t delay = mw__atomic_load_relaxed(&mw__alloc_global.purge_delay_ms);
        if (delay < 0 || mw__alloc_clock_ms() - h->kept_since_ms < delay) {
            return;
        }
    }
    // Detach everything first: giving a pool back may empty its arena,
    // whose caching calls back into the purge (and so here).
    h->nkept = 0;
    h->release_stamp_ms = h->kept_since_ms != 0 ? h->kept_since_ms : 1;
    for (unsigned idx = 0; idx < MW__NUM_CLASSES; idx++) {
        mw__pool *p = h->kept[idx];
        h->kept[idx] = NULL;
        while (p != NULL) {
            mw__pool *next = p->nextpool;
            p->nextpool = p->prevpool = NULL;
            pool_release(h, p);
            p = next;
        }
    }
    h->release_stamp_ms = 0;
}

/* ======================================================================
 * Validation and debug checks
 * ====================================================================== */

/*
 * The pool's invariants, as a checkable statement: every free block lies on
 * a block boundary inside the pool, there is no cycle, and
 * ref + free blocks == capacity.  Walks the free list: expensive tier.
 */
bool mw__pool_is_valid(const mw__pool *pool)
{
    if (pool->szidx >= MW__NUM_CLASSES || pool->heap == NULL || pool->arena == NULL) {
        return false;
    }
    size_t size = mw__class_size(pool->szidx);
    uintptr_t first = (uintptr_t)pool + MW__POOL_HEADER_SIZE;
    size_t nfree = 0;
    if (pool->bump > pool->capacity || (pool->freeblock == NULL && pool->bump != pool->capacity)) {
        return false;
    }
    for (const mw__block *b = pool->freeblock; b != NULL; b = b->next) {
        uintptr_t at = (uintptr_t)b;
        if (at < first || (at - first) % size != 0 || (at - first) / size >= pool->bump) {
            return false;
        }
        if (++nfree > pool->capacity) {
            return false;   // a cycle: some block was freed twice
        }
    }
    return pool->ref + nfree + (pool->capacity - pool->bump) == pool->capacity;
}

static bool list_contains(const mw__block *list, const mw__block *b)
{
    for (; list != NULL; list = list->next) {
        if (list == b) {
            return true;
        }
    }
    return false;
}

/*
 * Debug builds (MW_DEBUG >= 1): before b is freed by its heap's owner,
 * check that it is the start of a block in a pool that is in use, and that
 * it is not already free.  Freed blocks of 16 bytes and more carry a canary
 * in their second word (the block address mixed with a constant); a match
 * (or any 8-byte block) is confirmed against the pool's free list, the
 * heap's cache and its thread-free list, where the first free may still be
 * waiting.
 * Aborts with a message on misuse.  Owner only.
 */
void mw__pool_check_free(mw__heap *h, mw__pool *pool, mw__block *b)
{
    uintptr_t at = (uintptr_t)b;
    uintptr_t first = (uintptr_t)pool + MW__POOL_HEADER_SIZE;
    if (pool->szidx >= MW__NUM_CLASSES || at < first) {
        mw__fatal("free(%p): not a block of this allocator (foreign or interior pointer)", (void *)b);
    }
    size_t size = mw__class_size(pool->szidx);
    if ((at - first) % size != 0 || (at - first) / size >= pool->capacity) {
        mw__fatal("free(%p): not the start of a %zu-byte block (interior pointer)", (void *)b, size);
    }
    if ((at - first) / size >= pool->bump) {
        mw__fatal("free(%p): double free (not handed out since its pool was emptied)", (void *)b);
    }
    if (pool->ref == 0) {
        mw__fatal("free(%p): double free (its pool has no block in use)", (void *)b);
    }
    uintptr_t canary = mw__free_canary(b);
    if (size < 16 || ((uintptr_t *)b)[1] == canary) {
        if (list_contains(pool->freeblock, b) || list_contains(h->cache[pool->szidx], b)) {
            mw__fatal("free(%p): double free", (void *)b);
        }
        // The first free may still wait on the thread-free list.  Walking it
        // is safe for the owner: only the owner removes nodes, and sends
        // only prepend, so the list below a loaded head never changes.  (A
        // first free still in another thread's outbox is not seen here; the
        // canary check on the remote side catches a second free there.)
        uintptr_t w = mw__atomic_load_acquire(&h->thread_free[pool->szidx]);
        if (list_contains((const mw__block *)(w & MW__TF_PTR_MASK), b)) {
            mw__fatal("free(%p): double free (first freed by another thread)", (void *)b);
        }
    }
    if (size < 16) {
        return;   // no room for a canary beside the free-list link
    }
    ((uintptr_t *)b)[1] = canary;
}
