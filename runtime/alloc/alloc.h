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
 * lock or an atomic read-modify-write.  A block freed by another thread is
 * kept in the freeing thread's cache for its own next allocation if there
 * is room (it stays its arena's heap's); otherwise it goes, batched by the
 * freeing thread, on one of its owner heap's lock-free "thread-free" lists,
 * one per size class, and the owner takes a whole list back into its cache
 * in one exchange, without walking it, when that class runs dry (heap.c
 * has the whole story).
 *
 *     heap (one per thread)
 *      |-- used[class] --> pool <-> pool <-> pool   (pools with free blocks)
 *      |-- usable -------> arena <-> arena          (arenas with free pools,
 *      |                                             fullest first)
 *      |-- cached -------> arena <-> arena          (empty arenas, committed,
 *      |                                             newest first)
 *      |-- decommitted --> arena -> arena           (empty arenas, pages given
 *      |                                             back, still mapped)
 *      |-- outbox[class] -> block -> block         (blocks this thread
 *      |                                             freed for another heap,
 *      |                                             not yet sent)
 *      `-- thread_free[class] --> block -> ...       (remote frees, atomic,
 *                                                    with their count)
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
 * Is a pointer ours?  A process-wide radix map has one entry per possible
 * arena (addresses are 48 bits, arenas 2^18 bytes, so 2^30 entries, in
 * leaves of 2^15 mapped on demand; untouched parts of a leaf are never
 * resident), pointing at the arena's descriptor.  mw_free and the drop-in
 * free look the pointer up before reading anything else, so a pointer from
 * another allocator is never dereferenced; and the descriptor tells them
 * the block's owner heap and size class, so a free does not read the pool
 * header at all (only pool-level operations do).
 *
 * ======================================================================
 * Pool states and transitions (per pool, owner thread only)
 * ======================================================================
 *
 *   untouched --first use--> used <--alloc/free--> full
 *                              |  ^ ^
 *                    last free |  | | taken again for its class
 *                              v  | |
 *                              |  | kept (on heap->kept[class])
 *                              |  |   | delay passed / bound / trim
 *                              v  |   v
 *                             empty (on its arena's freepools list)
 *
 *   used:  0 < ref < capacity; freeblock != NULL; linked in used[szidx].
 *   full:  ref == capacity;    freeblock == NULL; on no list.
 *   kept:  ref == 0; on heap->kept[szidx], still assigned to its class
 *          (counted in pools[szidx]) and its free list threading all its
 *          blocks, so the next pool of that class costs no arena work and
 *          no formatting.  Given back (-> empty) once the purge delay has
 *          passed since the heap's oldest kept pool was kept, beyond
 *          MW_ALLOC_KEEP_POOLS, and on trim, flush and thread exit.
 *   empty: ref == 0; on arena->freepools; its free list still threads all
 *          its blocks, so taking it again for the same class is O(1).
 *   untouched: beyond arena->ntouched; never written, and not resident
 *          except for the rest of the group of MW_ALLOC_PREFAULT_POOLS
 *          that the last pool taken was in (made resident together).
 *
 * Key invariant (a pool of class c in state used or full):
 *     ref + length(freeblock list) + (capacity(c) - bump) == capacity(c)
 * ref counts blocks the heap holds in its cache, blocks waiting on its
 * thread-free lists or in another thread's outbox, as well as blocks the
 * program holds.
 *
 * Above the pools, each heap keeps a small cache of freed blocks per class
 * (a LIFO list, bounded; see the tunables; a thread-free list taken back
 * whole may overfill it, and then frees go straight to their pools until
 * allocations bring it back within its bound): free pushes there and malloc
 * pops there first, so a program that frees and allocates in turn reuses
 * the block it just freed without touching any pool header's state.  When
 * the cache of a class is empty, malloc's slow path fills it with the next
 * few blocks of the pool it takes from (MW__CACHE_REFILL), so a program
 * that only allocates takes the slow path once every few blocks.
 *
 * Arena states (per heap):
 *   usable:  0 < nfreepools < 64, on heap->usable, sorted by nfreepools
 *            ascending so the fullest arena is used first and the emptiest
 *            can drain and go back to the OS (obmalloc's usable_arenas);
 *            heap->nfp2last[k] is the last usable arena with k free pools,
 *            so re-sorting after a pool changes hands is O(1).
 *   full:    nfreepools == 0, on no list.
 *   cached:  nfreepools == 64, on heap->cached, its pages still resident
 *            and its pools still formatted, stamped with when it emptied.
 *   decommitted: nfreepools == 64, on heap->decommitted, its pages given
 *            back with madvise and its pools reset to untouched.
 *   (then unmapped.)
 *
 * The arena cache (arena.c has the whole story): an arena that empties is
 * not unmapped but cached; one cached for longer than the purge delay is
 * decommitted; beyond the cache bound the oldest empty arenas are unmapped.
 * A heap that needs an arena takes a cached one, then a decommitted one,
 * and maps only when both lists are empty.
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
 * never unmapped, so arena->heap is always a valid pointer to free into.
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

/* Bytes in a pool: one OS page, so a pool is resident when used (and up to
 * MW_ALLOC_PREFAULT_POOLS - 1 untouched ones after it). */
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

/* The heap's cache of freed blocks: per class, at most CACHE_BYTES worth,
 * and between CACHE_MIN and CACHE_MAX blocks.  It absorbs alloc/free churn
 * so that pools change state (full <-> used <-> empty) rarely: with 4 KiB
 * pools a 512-byte class holds only 7 blocks per pool, and without the
 * cache a steady churn flips a pool between full and used on almost every
 * call.  Bounded, so at most 64 * 16 KiB per heap is held back from the
 * pools, and mw_alloc_trim and thread exit give all of it back.  16 KiB
 * rather than 4: the cache also keeps blocks this thread freed for other
 * heaps (heap.c, "Remote frees", point f), and with 4 KiB most of those
 * overflowed to the owners; in the same-run A/B of docs/alloc.md larson
 * ran 10-20% faster in every pair with 16 KiB, and single ~7%, with no
 * change in the object runtime's binary-trees or young collections. */
#ifndef MW_ALLOC_CACHE_BYTES
#define MW_ALLOC_CACHE_BYTES 16384
#endif
#ifndef MW_ALLOC_CACHE_MIN
#define MW_ALLOC_CACHE_MIN 8
#endif
#ifndef MW_ALLOC_CACHE_MAX
#define MW_ALLOC_CACHE_MAX 256
#endif

/* The arena cache's defaults (arena.c; MWMALLOC_PURGE_DELAY,
 * MWMALLOC_ARENA_CACHE and mw_alloc_set_purge change them at run time):
 * an empty arena stays committed this many milliseconds, and a heap keeps
 * at most this many empty arenas, committed or not. */
#ifndef MW_ALLOC_PURGE_DELAY_MS
#define MW_ALLOC_PURGE_DELAY_MS 500
#endif
#ifndef MW_ALLOC_ARENA_CACHE
#define MW_ALLOC_ARENA_CACHE 64
#endif
/* Empty pools a heap keeps formatted for their class (pool.c, "Kept
 * pools") before it gives them back to their arenas; they go back anyway
 * once the purge delay has passed since the first of them was kept. */
#ifndef MW_ALLOC_KEEP_POOLS
#define MW_ALLOC_KEEP_POOLS 2048
#endif
/* Untouched pools are made resident this many at a time (arena.c: one
 * madvise(MADV_POPULATE_WRITE) instead of a page fault per pool, which is
 * several times dearer, the more so in a virtual machine); 1 or 0 leaves
 * each page to its first write.  So at most this many pools minus one of
 * a heap are resident before their first use. */
#ifndef MW_ALLOC_PREFAULT_POOLS
#define MW_ALLOC_PREFAULT_POOLS 16
#endif
#define MW__PREFAULT_STEP (MW_ALLOC_PREFAULT_POOLS > 1 ? MW_ALLOC_PREFAULT_POOLS : 1)
/* Blocks the slow path of malloc moves from a pool into the empty cache of
 * their class, besides the one it returns (heap.c). */
#define MW__CACHE_REFILL 8u
_Static_assert(MW_ALLOC_CACHE_MIN >= 2 && MW_ALLOC_CACHE_MIN <= MW_ALLOC_CACHE_MAX,
               "the cache spills half of itself, so it must hold at least 2");
_Static_assert(MW_ALLOC_CACHE_MAX <= 65535, "a cache's bound must fit its count");

/* Blocks a thread frees for one other heap and class before it sends them
 * (heap.c, "Remote frees"): one CAS per this many cross-thread frees. */
#ifndef MW_ALLOC_REMOTE_BATCH
#define MW_ALLOC_REMOTE_BATCH 16
#endif
_Static_assert(MW_ALLOC_REMOTE_BATCH >= 1 && MW_ALLOC_REMOTE_BATCH < 0xffff,
               "a batch's count must fit a thread-free word's count");

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

/* Blocks of one class freed by this thread for one other heap, waiting to
 * be sent to its thread-free list in one CAS (heap.c).  Owner only. */
typedef struct mw__outbox {
    struct mw__heap *to;   /* the blocks' heap; meaningful when n > 0 */
    mw__block *head;       /* newest first, NULL-terminated at tail */
    mw__block *tail;
    uint32_t n;
} mw__outbox;

/* A thread-free word: the head of a list of blocks (below 2^48, as every
 * arena is: arena.c gives back any mapped above) in its low bits and the
 * list's length in its top 16, saturated at MW__TF_COUNT_SAT ("count it").
 * 0 is the empty list. */
#define MW__TF_COUNT_SHIFT 48
#define MW__TF_PTR_MASK    (((uintptr_t)1 << MW__TF_COUNT_SHIFT) - 1)
#define MW__TF_COUNT_SAT   0xffffu
_Static_assert(MW_ALLOC_ADDRESS_BITS <= MW__TF_COUNT_SHIFT,
               "a block address must fit below a thread-free word's count");

/*
 * The pool header, at the start of every touched pool.  48 bytes, a multiple
 * of 16, so the blocks of classes that are multiples of 16 are 16-aligned.
 * Hot fields (freeblock, ref) first: alloc and free touch only the first
 * 16 bytes, plus heap in free.
 */
typedef struct mw__pool {
    mw__block *freeblock;      /* free blocks; NULL iff the pool is full */
    uint16_t ref;              /* blocks in use (including remote-pending) */
    uint16_t bump;             /* blocks [bump, capacity) were never handed
                                  out since the pool was last empty: free,
                                  but on no list (see below) */
    uint16_t szidx;            /* size class, MW__NO_CLASS before first use */
    uint16_t capacity;         /* blocks in the pool for szidx */
    struct mw__pool *nextpool; /* used[] list, or the arena's freepools */
    struct mw__pool *prevpool; /* used[] list only */
    struct mw__arena *arena;   /* the arena this pool is carved from */
    struct mw__heap *heap;     /* owner heap, as arena->heap */
} mw__pool;

/* Blocks of a pool can be free in two ways: on the freeblock list, or
 * beyond bump, never handed out since the pool was formatted or last
 * emptied (obmalloc's nextoffset).  Handing out from beyond bump computes
 * addresses instead of following links through cold memory, so a fresh or
 * emptied pool fills without a cache miss per block.  freeblock == NULL
 * still means full: when the list runs out and blocks remain beyond bump,
 * the next one becomes the list (one block long).  Owner only. */
_Static_assert(MW__POOL_SIZE / 8 <= 0xffff, "ref and bump are 16 bits");
#define MW__POOL_HEADER_SIZE sizeof(mw__pool)
_Static_assert(sizeof(mw__pool) == 48, "pool header must stay 48 bytes");
_Static_assert(sizeof(mw__pool) % 16 == 0,
               "pool header must keep 16-byte classes 16-byte aligned");

/*
 * An arena descriptor.  Descriptors live in their own slab (arena.c), not in
 * the arena, so all 64 pools of an arena hold blocks, and so that free can
 * learn a block's owner and class from this small, densely packed record
 * instead of the block's pool header: a random free then touches the block
 * and nothing else on its page.  The first cache line is read by any thread
 * and written only when a pool changes class; the list fields, which the
 * owner updates, are on the second line so remote frees never contend with
 * them.
 */
typedef struct mw__arena {
    /* --- read by any thread --- */
    struct mw__heap *heap;     /* owner: fixed from mapping to release */
    uintptr_t address;         /* 256 KiB-aligned base */
    uint8_t pool_class[MW__POOLS_PER_ARENA]; /* size class of each pool in use */
    /* --- owner only --- */
    _Alignas(MW_CACHE_LINE) mw__pool *freepools; /* empty pools, via nextpool */
    uint32_t nfreepools;       /* empty + untouched pools */
    uint32_t ntouched;         /* pools [0, ntouched) have been initialized */
    struct mw__arena *next;    /* usable list, cached/decommitted lists, or
                                  the descriptor free list */
    struct mw__arena *prev;
    int64_t emptied_ms;        /* cached: when it went on the cache */
} mw__arena;

_Static_assert(MW__NUM_CLASSES <= 255, "pool_class is a byte");

/*
 * A heap.  The owner-only part comes first; the thread-free words, which
 * other threads write, start on a cache line of their own (eight classes
 * to a line) so remote frees do not bounce the owner's hot lines.
 */
typedef struct mw__heap {
    /* --- owner only --- */
    mw__block *cache[MW__NUM_CLASSES];  /* recently freed blocks, per class */
    mw__pool *used[MW__NUM_CLASSES];   /* pools with a free block, per class */
    mw__arena *usable;                 /* arenas with free pools, fullest first */
    mw__arena *nfp2last[MW__POOLS_PER_ARENA + 1];
    mw__arena *cached;                 /* empty arenas, committed; newest first */
    mw__arena *cached_oldest;          /* the tail of cached */
    mw__arena *decommitted;            /* empty arenas, pages given back */
    mw__pool *kept[MW__NUM_CLASSES];   /* kept empty pools, via nextpool */
    uint32_t nkept;                    /* pools on kept[], all classes */
    int64_t kept_since_ms;             /* when the oldest of them was kept */
    int64_t release_stamp_ms;          /* nonzero while kept pools go back:
                                          the emptied time their arenas get */
    uint32_t ncached;                  /* length of cached */
    uint32_t ndecommitted;             /* length of decommitted */
    mw__outbox outbox[MW__NUM_CLASSES]; /* remote frees not yet sent */
    /* --- single-writer counters (owner writes, anyone reads) --- */
    _Atomic(int32_t) cache_room[MW__NUM_CLASSES]; /* blocks each cache may
                                                    still take; below 0
                                                    when a drained thread-
                                                    free list overfilled it */
    mw__counter pool_inuse[MW__NUM_CLASSES]; /* blocks out of pools: held by
                                               the program or the cache */
    mw__counter pools[MW__NUM_CLASSES];  /* pools assigned per class */
    mw__counter free_pools;             /* empty+untouched pools in arenas */
    mw__counter large_count;            /* large blocks allocated - freed here */
    mw__counter large_bytes;
    /* --- global bookkeeping, under mw__alloc_global.lock --- */
    struct mw__heap *next_all;          /* all heaps; immutable once linked */
    struct mw__heap *next_abandoned;
    _Atomic(bool) abandoned;
    /* --- written by any thread (heap.c, "Remote frees") --- */
    _Alignas(MW_CACHE_LINE) _Atomic(uintptr_t) thread_free[MW__NUM_CLASSES];
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
    /* the arena cache: bytes of arenas not decommitted, empty arenas kept
     * (committed or not) and of those decommitted, and events */
    _Atomic(size_t) bytes_committed;
    _Atomic(size_t) arenas_cached;
    _Atomic(size_t) arenas_decommitted;
    _Atomic(size_t) arenas_reused;
    _Atomic(size_t) arenas_purged;
    /* the arena cache's settings: any thread may set them, owners read them
     * on their slow paths (relaxed: a heap acting on the old value for a
     * while is harmless) */
    _Atomic(int64_t) purge_delay_ms;     /* < 0: never decommit */
    _Atomic(size_t) arena_cache_max;
    _Atomic(int) purge_advice;           /* MADV_DONTNEED or MADV_FREE */
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

/* Test hook: when set, the arena cache's clock (milliseconds) reads this
 * instead of CLOCK_MONOTONIC, so tests step past the purge delay without
 * sleeping.  Set it before other threads allocate.  NULL in production. */
extern int64_t (*mw__alloc_clock_hook)(void);

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

/* Debug builds: the word a freed block of 16+ bytes carries in its second
 * word, so that a second free of it is noticed ("mwfree!" mixed with its
 * address, so a copied block does not carry a valid canary). */
MW_INLINE uintptr_t mw__free_canary(const void *b)
{
    return (uintptr_t)b ^ (uintptr_t)0x6d77667265656421ull;
}

/* ======================================================================
 * The arena map: is this pointer inside one of our arenas?
 * ====================================================================== */

#define MW__MAP_LEAF_BITS  15
#define MW__MAP_ROOT_BITS  (MW_ALLOC_ADDRESS_BITS - MW_ALLOC_ARENA_BITS - MW__MAP_LEAF_BITS)
#define MW__MAP_ROOT_SIZE  ((size_t)1 << MW__MAP_ROOT_BITS)
#define MW__MAP_LEAF_SIZE  ((size_t)1 << MW__MAP_LEAF_BITS)

typedef _Atomic(mw__arena *) mw__map_leaf[MW__MAP_LEAF_SIZE];
extern _Atomic(mw__map_leaf *) mw__arena_map[MW__MAP_ROOT_SIZE];

/*
 * The arena holding p, or NULL if p is not in one of our arenas.  Relaxed
 * loads suffice: if p is a live block of ours, its arena's entry was set
 * (after its descriptor was filled in) before the block was handed out, and
 * the block reached this thread through some synchronization that carries
 * those writes along; if p is someone else's live memory, no arena can be
 * mapped over it, so its entry is NULL and stays NULL.
 */
MW_INLINE mw__arena *mw__arena_of(const void *p)
{
    uintptr_t a = (uintptr_t)p >> MW_ALLOC_ARENA_BITS;
    uintptr_t root = a >> MW__MAP_LEAF_BITS;
    if (mw_unlikely(root >= MW__MAP_ROOT_SIZE)) {
        return NULL;
    }
    mw__map_leaf *leaf = mw__atomic_load_relaxed(&mw__arena_map[root]);
    if (leaf == NULL) {
        return NULL;
    }
    return mw__atomic_load_relaxed(&(*leaf)[a & (MW__MAP_LEAF_SIZE - 1)]);
}

/* The size class of p, a live block of arena a. */
MW_INLINE unsigned mw__block_class(const mw__arena *a, const void *p)
{
    return a->pool_class[((uintptr_t)p >> MW_ALLOC_POOL_BITS) & (MW__POOLS_PER_ARENA - 1)];
}

MW_INLINE mw__pool *mw__pool_of(const void *p)
{
    return (mw__pool *)((uintptr_t)p & MW__POOL_MASK);
}

/* ======================================================================
 * Slow paths and internals shared across the alloc module
 * ====================================================================== */

/* heap.c */
void *mw__heap_malloc_pool(mw__heap *h, unsigned idx);
void mw__heap_free_spill(mw__heap *h, unsigned idx, mw__block *b);
unsigned mw__cache_limit(unsigned idx);
void mw__heap_cache_flush(mw__heap *h);
mw__heap *mw__heap_current(void);   /* the caller's heap, acquiring one */
void mw__heap_drain(mw__heap *h);
void mw__heap_abandon(void);
void mw__heap_reclaim_abandoned(bool wait);
void mw__heap_take_back(void);
void mw__free_remote(mw__heap *h, mw__heap *owner, unsigned idx, mw__block *b);
void mw__heap_outbox_flush(mw__heap *h);
size_t mw__heap_thread_free_pending(const mw__heap *h);
/* pool.c */
mw__pool *mw__pool_acquire(mw__heap *h, unsigned idx);
void mw__pool_kept_release(mw__heap *h, bool all);
void mw__pool_free_slow(mw__heap *h, mw__pool *pool, bool was_full);
void mw__pool_became_full(mw__heap *h, mw__pool *pool);
void mw__pool_check_free(mw__heap *h, mw__pool *pool, mw__block *b);
bool mw__pool_is_valid(const mw__pool *pool);
/* arena.c */
mw__arena *mw__arena_new(mw__heap *h);
void mw__arena_took_pool(mw__heap *h, mw__arena *a);
void mw__arena_prefault(mw__arena *a, unsigned first_pool);
void mw__arena_gave_pool(mw__heap *h, mw__arena *a);
void mw__arena_cache_purge(mw__heap *h, bool all);
void mw__arena_settings_from_env(void);
int64_t mw__alloc_clock_ms(void);
bool mw__heap_arenas_are_valid(const mw__heap *h);
/* stats.c */
size_t mw__heap_blocks_in_use(void);

/* ======================================================================
 * Fast paths
 * ====================================================================== */

/* Block i of pool (of class szidx). */
MW_INLINE mw__block *mw__pool_block(mw__pool *pool, unsigned i)
{
    return (mw__block *)((char *)pool + MW__POOL_HEADER_SIZE + (size_t)i * mw__class_size(pool->szidx));
}

/*
 * Return block b to its pool (the pool level below the heap's cache).
 * Push it on the pool's free list; a pool that was full goes back on its
 * used list, a pool that is now empty goes back to its arena - both out of
 * line.  Owner only.
 */
MW_INLINE void mw__pool_return(mw__heap *h, mw__pool *pool, mw__block *b)
{
    mw__counter_sub(&h->pool_inuse[pool->szidx], 1);
    mw__block *old = pool->freeblock;
    b->next = old;
    pool->freeblock = b;
    if (mw_unlikely(--pool->ref == 0 || old == NULL)) {
        mw__pool_free_slow(h, pool, old == NULL);
    }
}

/* cache_room is a single-writer counter (the owner writes, stats read). */
MW_INLINE void mw__room_add(_Atomic(int32_t) *c, int32_t v)
{
    mw__atomic_store_relaxed(c, mw__atomic_load_relaxed(c) + v);
}

/* Debug builds: wipe the double-free canary of a block being handed out. */
MW_INLINE void mw__debug_wipe_canary(mw__block *b, unsigned idx)
{
#if MW_DEBUG >= 1
    if (mw__class_size(idx) >= 16) {
        ((uintptr_t *)b)[1] = 0;
    }
#else
    (void)b;
    (void)idx;
#endif
}

/*
 * Pop a block of class idx from heap h.  The whole fast path: take the most
 * recently freed block of the class from the heap's cache.  Everything else
 * - the pools, a heap for a new thread, remote frees to take back - is one
 * out-of-line call, so this stays a leaf with no stack frame.  Owner only.
 */
MW_INLINE void *mw__heap_malloc_small(mw__heap *h, unsigned idx)
{
    mw__block *b = h->cache[idx];
    if (mw_unlikely(b == NULL)) {
        return mw__heap_malloc_pool(h, idx);
    }
    h->cache[idx] = b->next;
    mw__room_add(&h->cache_room[idx], 1);
    mw__debug_wipe_canary(b, idx);
    return b;
}

/*
 * Free block b of class idx, owned by heap h, on h's owner thread: keep it
 * in the heap's cache for the next allocation of its class (LIFO, so that
 * block is still in the CPU cache).  A full cache spills half of itself
 * back to the pools, out of line.  The pool header is not touched.
 */
MW_INLINE void mw__heap_free_local(mw__heap *h, unsigned idx, mw__block *b)
{
#if MW_DEBUG >= 1
    mw__pool_check_free(h, mw__pool_of(b), b);
#endif
    int32_t room = mw__atomic_load_relaxed(&h->cache_room[idx]);
    if (mw_unlikely(room <= 0)) {
        mw__heap_free_spill(h, idx, b);
        return;
    }
    mw__atomic_store_relaxed(&h->cache_room[idx], room - 1);
    b->next = h->cache[idx];
    h->cache[idx] = b;
}

/*
 * Free p, a block of arena a, from any thread: locally if the caller owns
 * its heap, else into the caller's outbox for the owner (out of line).
 */
MW_INLINE void mw__free_small(mw__arena *a, void *p)
{
    mw__heap *h = mw__tls_heap;
    mw__heap *owner = a->heap;
    unsigned idx = mw__block_class(a, p);
    if (mw_likely(owner == h)) {
        mw__heap_free_local(h, idx, (mw__block *)p);
    } else {
        mw__free_remote(h, owner, idx, (mw__block *)p);
    }
}

#endif /* MW_ALLOC_INTERNAL_H */
