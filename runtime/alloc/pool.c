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
 * Thread every block of the pool onto its free list, in address order so a
 * fresh pool hands out ascending addresses.  The pool is one page, and it
 * is resident once its header is written (if its group was not made so
 * already: mw__arena_prefault), so touching all of it here costs no extra
 * memory.
 */
static void format_pool(mw__pool *pool, unsigned idx)
{
    size_t size = mw__class_size(idx);
    unsigned capacity = (unsigned)((MW__POOL_SIZE - MW__POOL_HEADER_SIZE) / size);
    char *first = (char *)pool + MW__POOL_HEADER_SIZE;
    for (unsigned i = 0; i + 1 < capacity; i++) {
        ((mw__block *)(first + i * size))->next = (mw__block *)(first + (i + 1) * size);
    }
    ((mw__block *)(first + (capacity - 1) * size))->next = NULL;
    pool->freeblock = (mw__block *)first;
    pool->szidx = (uint16_t)idx;
    pool->capacity = (uint16_t)capacity;
}

/*
 * Take an empty (or untouched) pool from the heap's fullest usable arena,
 * mapping an arena if there is none, and put it at the head of used[idx].
 * Returns the pool, or NULL if the OS has no memory.  Owner only.
 */
mw__pool *mw__pool_acquire(mw__heap *h, unsigned idx)
{
    mw__arena *a = h->usable;
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

    // An empty pool that last held this class still threads all its blocks
    // (obmalloc's "luckily" case): reuse the list as it is.
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

/*
 * A free made the pool leave the full state (was_full) or become empty
 * (ref == 0), or both.  A full pool goes back on its used list, at the head,
 * so the next allocation of its class fills it again; an empty pool goes
 * back to its arena, which may then be free as a whole.  Owner only.
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
    mw__counter_sub(&h->pools[pool->szidx], 1);
    mw_assert_expensive(mw__pool_is_valid(pool));
    mw__arena *a = pool->arena;
    pool->nextpool = a->freepools;
    a->freepools = pool;
    mw__arena_gave_pool(h, a);
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
    for (const mw__block *b = pool->freeblock; b != NULL; b = b->next) {
        uintptr_t at = (uintptr_t)b;
        if (at < first || (at - first) % size != 0 || (at - first) / size >= pool->capacity) {
            return false;
        }
        if (++nfree > pool->capacity) {
            return false;   // a cycle: some block was freed twice
        }
    }
    return pool->ref + nfree == pool->capacity;
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
    if (pool->ref == 0) {
        mw__fatal("free(%p): double free (its pool has no block in use)", (void *)b);
    }
    uintptr_t canary = mw__free_canary(b);
    if (size < 16 || ((uintptr_t *)b)[1] == canary) {
        if (list_contains(pool->freeblock, b) || list_contains(h->cache[pool->szidx], b)) {
            mw__fatal("free(%p): double free", (void *)b);
        }
        // The first free may still wait on the thread-free list.  Walking it
        // is safe for the owner: only the owner removes nodes, and pushes
        // only prepend, so the list below a loaded head never changes.
        if (list_contains(mw__atomic_load_acquire(&h->thread_free), b)) {
            mw__fatal("free(%p): double free (first freed by another thread)", (void *)b);
        }
    }
    if (size < 16) {
        return;   // no room for a canary beside the free-list link
    }
    ((uintptr_t *)b)[1] = canary;
}
