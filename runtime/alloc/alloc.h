/*
 * alloc.h - the per-thread small-object allocator: layout, invariants, fast
 * paths.  Start reading here.
 *
 * ======================================================================
 * The technique
 * ======================================================================
 *
 * This is CPython's obmalloc (size-class pools carved from arenas) made
 * per-thread the way mimalloc is: every thread owns a heap, and a heap owns
 * its arenas and pools outright, so the owner allocates and frees without a
 * lock or an atomic read-modify-write.  A block freed by another thread goes
 * on its owner heap's lock-free "thread-free" list and is taken back by the
 * owner on its next slow path (mimalloc's thread-free list).
 *
 *     heap (one per thread)
 *      |-- used[class] --> pool <-> pool <-> pool   (pools with free blocks)
 *      |-- usable -------> arena <-> arena          (arenas with free pools,
 *      |                                             fullest first)
 *      |-- spare --------> arena                    (one empty arena kept)
 *      `-- thread_free --> block -> block -> ...    (remote frees, atomic)
 *
 *     arena: 256 KiB from mmap, aligned to 256 KiB, carved into 64 pools;
 *            its descriptor lives outside it (see arena.c).
 *     pool:  4 KiB, one size class, a 48-byte header at its start, so the
 *            pool of a block is (block & ~4095).
 *
 * Size classes, exactly the seed's table: a request of n bytes (1..512) is
 * served by class (n - 1) >> 3, whose blocks are ((n - 1) >> 3) * 8 + 8
 * bytes: 1-8 -> 8 (0), 9-16 -> 16 (1), ..., 505-512 -> 512 (63).  The
 * drop-in malloc must give 16-byte alignment, so it rounds requests up to a
 * multiple of 16 and uses only the odd classes; the pool header is 48 bytes
 * so that those blocks are 16-byte aligned.
 *
 * Is a pointer ours?  A process-wide radix map has one bit per possible
 * arena (addresses are 48 bits, arenas 2^18 bytes, so 2^30 bits, in 4 KiB
 * leaves mapped on demand).  mw_free and the drop-in free test the bit
 * before reading any pool header, so a pointer from another allocator is
 * never dereferenced.
 *
 * ======================================================================
 * Pool states and transitions (per pool, owner thread only)
 * ======================================================================
 *
 *   untouched --first use--> used <--alloc/free--> full
 *                              |  ^
 *                    last free |  | taken for a class
 *                              v  |
 *                             empty (on its arena's freepools list)
 *
 *   used:  0 < ref < capacity; freeblock != NULL; linked in used[szidx].
 *   full:  ref == capacity;    freeblock == NULL; on no list.
 *   empty: ref == 0; on arena->freepools; its free list still threads all
 *          its blocks, so taking it again for the same class is O(1).
 *   untouched: beyond arena->ntouched; never written (not resident).
 *
 * Key invariant (a pool of class c in state used or full):
 *     ref + length(freeblock list) == capacity(c)
 * Blocks on the heap's thread-free list still count in ref until drained.
 *
 * Arena states (per heap):
 *   usable:  0 < nfreepools < 64, on heap->usable, sorted by nfreepools
 *            ascending so the fullest arena is used first and the emptiest
 *            can drain and go back to the OS (obmalloc's usable_arenas);
 *            heap->nfp2last[k] is the last usable arena with k free pools,
 *            so re-sorting after a pool changes hands is O(1).
 *   full:    nfreepools == 0, on no list.
 *   free:    nfreepools == 64: kept as heap->spare if there is none, else
 *            unmapped.
 *
 * ======================================================================
 * Heaps and threads
 * ======================================================================
 *
 * A thread's heap is mw__tls_heap.  Until the thread's first allocation it
 * points at mw__heap_empty, whose used[] lists are all NULL, so the fast
 * path needs no "have a heap?" branch: it falls into the slow path, which
 * acquires a heap.  When a thread exits (a pthread key destructor) or calls
 * mw_alloc_thread_exit, its heap is abandoned: put on a global list with
 * its arenas and any blocks still in use.  Remote frees into it keep going
 * to its thread-free list.  A new thread adopts an abandoned heap before it
 * maps a fresh one, and threads that need a new arena (and mw_alloc_trim)
 * first drain abandoned heaps under the global lock, so memory freed after
 * its owner exited is reused or returned, never leaked.  A heap structure is
 * never unmapped, so pool->heap is always a valid pointer to free into.
 *
 * Ownership rule: a heap's non-atomic fields are touched only by its owner:
 * the thread whose mw__tls_heap it is, or, for an abandoned heap, whoever
 * holds mw__alloc_global.lock.  The stats counters are single-writer
 * atomics, so any thread may read them.
 *
 * Not handled, deliberately: alignment above 16 in the pools (the drop-in
 * malloc passes such requests to the next allocator); giving back the pages
 * of empty pools inside a live arena (madvise) - an arena goes back whole.
 */
#ifndef MW_ALLOC_INTERNAL_H
#define MW_ALLOC_INTERNAL_H

#ifndef MW_BUILD_INTERNAL
#error "runtime/alloc/alloc.h is internal to mwrt; include <mwrt/alloc.h>"
#endif

#include <mwrt/alloc.h>

#include "base/base.h"

#include <pthread.h>

/* ======================================================================
 * Tunables
 * ====================================================================== */

/* Bytes in a pool: one OS page, so a pool is resident exactly when used. */
#ifndef MW_ALLOC_POOL_BITS
#define MW_ALLOC_POOL_BITS 12
#endif
/* Bytes in an arena: 256 KiB as in obmalloc; the unit of mmap/munmap. */
#ifndef MW_ALLOC_ARENA_BITS
#define MW_ALLOC_ARENA_BITS 18
#endif
/* Bits of virtual address covered by the arena map (x86-64/arm64 user
 * space without 5-level paging).  An arena mapped above is given back. */
#ifndef MW_ALLOC_ADDRESS_BITS
#define MW_ALLOC_ADDRESS_BITS 48
#endif

#define MW__POOL_SIZE       ((size_t)1 << MW_ALLOC_POOL_BITS)
#define MW__POOL_MASK       (~(uintptr_t)(MW__POOL_SIZE - 1))
#define MW__ARENA_SIZE      ((size_t)1 << MW_ALLOC_ARENA_BITS)
#define MW__POOLS_PER_ARENA ((unsigned)(MW__ARENA_SIZE / MW__POOL_SIZE))
#define MW__NUM_CLASSES     MW_ALLOC_NUM_CLASSES
#define MW__NO_CLASS        0xffffu

_Static_assert(MW__POOL_SIZE == MW_ALLOC_POOL_SIZE, "pool size mismatch");
_Static_assert(MW__ARENA_SIZE == MW_ALLOC_ARENA_SIZE, "arena size mismatch");
_Static_assert(MW_ALLOC_ARENA_BITS > MW_ALLOC_POOL_BITS,
               "an arena must hold more than one pool");
_Static_assert(MW__POOLS_PER_ARENA <= 4096, "nfp2last table would be too big");
_Static_assert(MW_ALLOC_SMALL_MAX % MW_ALLOC_ALIGNMENT == 0,
               "SMALL_MAX must be a multiple of the class step");

/* ======================================================================
 * Structures
 * ====================================================================== */

typedef struct mw__block {
    struct mw__block *next;
} mw__block;

struct mw__arena;
struct mw__heap;

/*
 * The pool header, at the start of every touched pool.  48 bytes, a multiple
 * of 16, so the blocks of classes that are multiples of 16 are 16-aligned.
 * Hot fields (freeblock, ref) first: alloc and free touch only the first
 * 16 bytes, plus heap in free.
 */
typedef struct mw__pool {
    mw__block *freeblock;      /* free blocks; NULL iff the pool is full */
    uint32_t ref;              /* blocks in use (including remote-pending) */
    uint16_t szidx;            /* size class, MW__NO_CLASS before first use */
    uint16_t capacity;         /* blocks in the pool for szidx */
    struct mw__pool *nextpool; /* used[] list, or the arena's freepools */
    struct mw__pool *prevpool; /* used[] list only */
    struct mw__arena *arena;   /* the arena this pool is carved from */
    struct mw__heap *heap;     /* owner heap: fixed for the arena's life */
} mw__pool;

#define MW__POOL_HEADER_SIZE sizeof(mw__pool)
_Static_assert(sizeof(mw__pool) == 48, "pool header must stay 48 bytes");
_Static_assert(sizeof(mw__pool) % 16 == 0,
               "pool header must keep 16-byte classes 16-byte aligned");

/*
 * An arena descriptor.  Descriptors live in their own slab (arena.c), not in
 * the arena, so all 64 pools of an arena hold blocks.
 */
typedef struct mw__arena {
    uintptr_t address;         /* 256 KiB-aligned base */
    mw__pool *freepools;       /* empty pools, linked through nextpool */
    uint32_t nfreepools;       /* empty + untouched pools */
    uint32_t ntouched;         /* pools [0, ntouched) have been initialized */
    struct mw__arena *next;    /* usable list (or the descriptor free list) */
    struct mw__arena *prev;
    struct mw__heap *heap;     /* owner */
} mw__arena;

/*
 * A heap.  The owner-only part comes first; thread_free, which other
 * threads write, has a cache line to itself so remote frees do not bounce
 * the owner's hot lines.
 */
typedef struct mw__heap {
    /* --- owner only --- */
    mw__pool *used[MW__NUM_CLASSES];   /* pools with a free block, per class */
    mw__arena *usable;                 /* arenas with free pools, fullest first */
    mw__arena *nfp2last[MW__POOLS_PER_ARENA + 1];
    mw__arena *spare;                  /* one fully free arena kept mapped */
    /* --- single-writer statistics (owner writes, anyone reads) --- */
    mw__counter inuse[MW__NUM_CLASSES];  /* blocks in use per class */
    mw__counter pools[MW__NUM_CLASSES];  /* pools assigned per class */
    mw__counter free_pools;             /* empty+untouched pools in arenas */
    mw__counter large_count;            /* large blocks allocated - freed here */
    mw__counter large_bytes;
    /* --- global bookkeeping, under mw__alloc_global.lock --- */
    struct mw__heap *next_all;          /* all heaps; immutable once linked */
    struct mw__heap *next_abandoned;
    _Atomic(bool) abandoned;
    /* --- written by any thread --- */
    _Alignas(MW_CACHE_LINE) _Atomic(mw__block *) thread_free;
} mw__heap;

/* Process-wide state.  lock guards the abandoned list (and so owns the
 * abandoned heaps) and linking into the all-heaps list. */
typedef struct mw__alloc_globals {
    pthread_mutex_t lock;
    _Atomic(mw__heap *) all_heaps;       /* push-only list */
    mw__heap *abandoned;                 /* under lock */
    _Atomic(size_t) nabandoned;          /* length of abandoned, for peeking */
    _Atomic(size_t) arenas_mapped;
    _Atomic(size_t) arenas_released;
    _Atomic(size_t) bytes_from_os;
    _Atomic(size_t) peak_bytes_from_os;
    _Atomic(size_t) nheaps;
    /* large blocks freed by threads that have no heap */
    _Atomic(size_t) large_count_freed;
    _Atomic(size_t) large_bytes_freed;
} mw__alloc_globals;

extern mw__alloc_globals mw__alloc_global;
extern pthread_mutex_t mw__arena_descriptor_lock;
extern mw__heap mw__heap_empty;
extern __thread mw__heap *mw__tls_heap __attribute__((tls_model("initial-exec")));

/* Test hook: when set and it returns true, mapping memory from the OS fails
 * as if the OS were out of memory.  Tests only; NULL in production. */
extern bool (*mw__alloc_fail_hook)(size_t bytes);

/* ======================================================================
 * Size classes
 * ====================================================================== */

/* Class of an n-byte request, 1 <= n <= 512. */
MW_INLINE unsigned mw__size_class(size_t n)
{
    return (unsigned)((n - 1) >> 3);
}
/* Class of an n-byte request rounded up to 16 bytes (the drop-in malloc):
 * setting bit 3 of n - 1 selects the odd class of the same 16-byte step. */
MW_INLINE unsigned mw__size_class16(size_t n)
{
    return (unsigned)(((n - 1) | 8) >> 3);
}
MW_INLINE size_t mw__class_size(unsigned idx)
{
    return ((size_t)idx + 1) << 3;
}

/* ======================================================================
 * The arena map: is this pointer inside one of our arenas?
 * ====================================================================== */

#define MW__MAP_LEAF_BITS  15
#define MW__MAP_ROOT_BITS  (MW_ALLOC_ADDRESS_BITS - MW_ALLOC_ARENA_BITS - MW__MAP_LEAF_BITS)
#define MW__MAP_ROOT_SIZE  ((size_t)1 << MW__MAP_ROOT_BITS)
#define MW__MAP_LEAF_WORDS (((size_t)1 << MW__MAP_LEAF_BITS) / 64)

extern _Atomic(_Atomic(uint64_t) *) mw__arena_map[MW__MAP_ROOT_SIZE];

/*
 * True iff p lies in a live arena.  Relaxed loads suffice: if p is a live
 * block of ours, its arena's bit was set before the block was handed out,
 * and the block reached this thread through some synchronization that
 * carries that write along; if p is someone else's live memory, no arena
 * can be mapped over it, so the bit is clear and stays clear.
 */
MW_INLINE bool mw__arena_map_contains(const void *p)
{
    uintptr_t a = (uintptr_t)p >> MW_ALLOC_ARENA_BITS;
    uintptr_t root = a >> MW__MAP_LEAF_BITS;
    if (mw_unlikely(root >= MW__MAP_ROOT_SIZE)) {
        return false;
    }
    _Atomic(uint64_t) *leaf = mw__atomic_load_relaxed(&mw__arena_map[root]);
    if (leaf == NULL) {
        return false;
    }
    uintptr_t bit = a & (((uintptr_t)1 << MW__MAP_LEAF_BITS) - 1);
    return (mw__atomic_load_relaxed(&leaf[bit >> 6]) >> (bit & 63)) & 1;
}

MW_INLINE mw__pool *mw__pool_of(const void *p)
{
    return (mw__pool *)((uintptr_t)p & MW__POOL_MASK);
}

/* ======================================================================
 * Slow paths and internals shared across the alloc module
 * ====================================================================== */

/* heap.c */
void *mw__heap_malloc_slow(mw__heap *h, unsigned idx);
mw__heap *mw__heap_current(void);   /* the caller's heap, acquiring one */
void mw__heap_drain(mw__heap *h);
void mw__heap_abandon(void);
void mw__heap_reclaim_abandoned(bool wait);
void mw__free_remote(mw__heap *owner, mw__block *b);
/* pool.c */
mw__pool *mw__pool_acquire(mw__heap *h, unsigned idx);
void mw__pool_free_slow(mw__heap *h, mw__pool *pool, bool was_full);
void mw__pool_became_full(mw__heap *h, mw__pool *pool);
void mw__pool_check_free(mw__heap *h, mw__pool *pool, mw__block *b);
bool mw__pool_is_valid(const mw__pool *pool);
/* arena.c */
mw__arena *mw__arena_new(mw__heap *h);
void mw__arena_took_pool(mw__heap *h, mw__arena *a);
void mw__arena_gave_pool(mw__heap *h, mw__arena *a);
void mw__arena_release(mw__heap *h, mw__arena *a);
bool mw__heap_arenas_are_valid(const mw__heap *h);
/* stats.c */
size_t mw__heap_blocks_in_use(void);

/* ======================================================================
 * Fast paths
 * ====================================================================== */

/*
 * Pop a block of class idx from heap h.  The whole fast path: one load of
 * the class's first used pool, pop its free list, count.  A pool that has
 * just given its last block leaves the used list out of line; anything else
 * (no pool, no heap yet, remote frees to take back) is the slow path.
 * Owner thread only.
 */
MW_INLINE void *mw__heap_malloc_small(mw__heap *h, unsigned idx)
{
    mw__pool *pool = h->used[idx];
    if (mw_unlikely(pool == NULL)) {
        return mw__heap_malloc_slow(h, idx);
    }
    mw__block *b = pool->freeblock;
    mw__block *next = b->next;
    pool->freeblock = next;
    pool->ref++;
    mw__counter_add(&h->inuse[idx], 1);
    if (mw_unlikely(next == NULL)) {
        mw__pool_became_full(h, pool);
    }
#if MW_DEBUG >= 1
    if (mw__class_size(idx) >= 16) {
        ((uintptr_t *)b)[1] = 0;   // wipe the double-free canary
    }
#endif
    return b;
}

/*
 * Free block b of pool, owned by heap h, on h's owner thread.  Push it on
 * the pool's free list; a pool that was full goes back on its used list, a
 * pool that is now empty goes back to its arena - both out of line.
 */
MW_INLINE void mw__pool_free_local(mw__heap *h, mw__pool *pool, mw__block *b)
{
#if MW_DEBUG >= 1
    mw__pool_check_free(h, pool, b);
#endif
    mw__block *old = pool->freeblock;
    b->next = old;
    pool->freeblock = b;
    mw__counter_sub(&h->inuse[pool->szidx], 1);
    if (mw_unlikely(--pool->ref == 0 || old == NULL)) {
        mw__pool_free_slow(h, pool, old == NULL);
    }
}

/*
 * Free a block known to be in one of our arenas, from any thread: locally if
 * the caller owns its heap, else onto the owner's thread-free list.
 */
MW_INLINE void mw__free_small(void *p)
{
    mw__pool *pool = mw__pool_of(p);
    mw__heap *h = mw__tls_heap;
    if (mw_likely(pool->heap == h)) {
        mw__pool_free_local(h, pool, (mw__block *)p);
    } else {
        mw__free_remote(pool->heap, (mw__block *)p);
    }
}

#endif /* MW_ALLOC_INTERNAL_H */
