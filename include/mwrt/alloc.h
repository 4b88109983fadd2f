/*
 * mwrt/alloc.h - the small-object allocator.
 *
 * Requests of 1..512 bytes are served from per-thread heaps of 4 KiB pools in
 * 256 KiB arenas, in 64 size classes of 8 bytes each (1-8 -> 8, 9-16 -> 16,
 * ..., 505-512 -> 512).  Larger requests go to the C library's allocator.
 * A 0-byte request is served as a 1-byte one.
 *
 * Alignment: every block is aligned to 8 bytes; blocks whose size is a
 * multiple of 16 (and every block above 512 bytes) are aligned to 16.
 *
 * Threads: any thread may call these functions; a thread gets its heap on its
 * first allocation and gives it up when it exits (or on mw_alloc_thread_exit).
 * A block may be freed by any thread: a block freed by a thread other than
 * its owner is handed back to the owner without a lock.
 */
#ifndef MWRT_ALLOC_H
#define MWRT_ALLOC_H

#include <mwrt/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Size classes of the small-object allocator. */
#define MW_ALLOC_ALIGNMENT     8    /* bytes between size classes */
#define MW_ALLOC_SMALL_MAX     512  /* largest request served from pools */
#define MW_ALLOC_NUM_CLASSES   (MW_ALLOC_SMALL_MAX / MW_ALLOC_ALIGNMENT)
#define MW_ALLOC_POOL_SIZE     4096         /* bytes in one pool */
#define MW_ALLOC_ARENA_SIZE    (256 * 1024) /* bytes in one arena */

/*
 * Allocate n bytes.  Returns the block, or NULL with errno = ENOMEM when
 * memory is exhausted or n is impossibly large.  Never aborts.  Any thread.
 */
MW_API void *mw_malloc(size_t n);

/*
 * Allocate an array of count elements of size bytes each, zeroed.  Returns
 * NULL with errno = ENOMEM if count * size overflows or memory is exhausted.
 */
MW_API void *mw_calloc(size_t count, size_t size);

/*
 * Resize p (from mw_malloc/mw_calloc/mw_realloc, or NULL) to n bytes,
 * keeping its contents up to the smaller size.  Returns the new block, or
 * NULL with errno = ENOMEM and p untouched.  mw_realloc(p, 0) returns a
 * minimal block and frees p, so it never returns NULL for lack of a size.
 */
MW_API void *mw_realloc(void *p, size_t n);

/*
 * Free p (NULL is a no-op).  Any thread may free any block.  A build with
 * MWRT_DEBUG >= 1 aborts with a message on a double free or on a pointer that
 * is not the start of a block.
 */
MW_API void mw_free(void *p);

/* The number of usable bytes in block p (at least what was requested). */
MW_API size_t mw_alloc_usable_size(const void *p);

/*
 * The size class of an n-byte request: returns its index 0..63 and stores
 * the block size in *block_size (if not NULL), or returns -1 if n is served
 * by the C library (n > 512).  0 is treated as 1.
 */
MW_API int mw_alloc_size_class(size_t n, size_t *block_size);

/* Per-class figures, all counted over every heap in the process. */
typedef struct mw_alloc_class_stats {
    size_t block_size;    /* bytes per block in this class */
    size_t blocks_in_use; /* allocated and not yet freed (a block freed by
                             another thread counts until its owner takes it
                             back on its next slow path) */
    size_t pools;         /* pools currently assigned to this class */
} mw_alloc_class_stats;

typedef struct mw_alloc_stats {
    mw_alloc_class_stats classes[MW_ALLOC_NUM_CLASSES];
    size_t arenas_mapped;     /* arenas ever mapped from the OS */
    size_t arenas_released;   /* arenas ever returned to the OS */
    size_t arenas_live;       /* arenas mapped now (mapped - released) */
    size_t bytes_from_os;     /* bytes of arenas mapped now */
    size_t peak_bytes_from_os;/* the most bytes_from_os has ever been */
    size_t pools_in_use;      /* pools holding at least one block */
    size_t pools_free;        /* pools in live arenas holding none */
    size_t heaps;             /* heaps created (live + abandoned) */
    size_t heaps_abandoned;   /* heaps whose thread exited, awaiting adoption */
    size_t large_in_use;      /* requests > 512 bytes not yet freed */
    size_t large_bytes;       /* bytes in those requests */
    /* The arena cache (mw_alloc_set_purge): an arena that empties is kept
     * mapped, then decommitted after the purge delay, then unmapped beyond
     * the cache bound. */
    size_t bytes_committed;   /* bytes of live arenas not decommitted: what
                                 the arenas may keep resident */
    size_t arenas_cached;     /* empty arenas kept (committed or not) */
    size_t arenas_decommitted;/* of those, decommitted (pages given back) */
    size_t arenas_reused;     /* times an empty arena was reused instead of
                                 mapping one */
    size_t arenas_purged;     /* times an empty arena was decommitted */
} mw_alloc_stats;

/*
 * Fill *out with a snapshot of the allocator's statistics.  Each figure is
 * read without stopping other threads, so figures of a busy process may be
 * mutually inconsistent by the operations in flight; on a quiet process
 * they are exact.  Returns 0, or MW_EINVAL if out is NULL.  Any thread.
 */
MW_API int mw_alloc_get_stats(mw_alloc_stats *out);

/*
 * Give memory back: the calling thread takes back blocks other threads freed
 * to it, unmaps every empty arena it keeps (whatever the purge delay), and
 * releases what it can of the heaps of exited threads.  Returns 0.  Any
 * thread.
 */
MW_API int mw_alloc_trim(void);

/*
 * The arena cache.  An arena whose last block is freed is not unmapped at
 * once: it stays mapped and resident for delay_ms milliseconds, so a burst
 * that follows reuses it without page faults; after that its pages are
 * given back to the OS (madvise), and it stays mapped, to be reused before
 * any new arena is mapped; a heap keeps at most arena_cache empty arenas,
 * unmapping the oldest beyond that.  delay_ms 0 gives pages back as soon
 * as an arena empties; a negative delay_ms never does (only the bound
 * applies).  The delay is checked on the allocator's slow paths, at
 * safepoints and by mw_alloc_purge, not by a timer.  Defaults: 500 ms, 64
 * arenas; the environment variables MWMALLOC_PURGE_DELAY (ms) and
 * MWMALLOC_ARENA_CACHE (arenas), read at the first allocation, set them
 * unless this function is called.  Any thread; applies to every heap.
 */
MW_API void mw_alloc_set_purge(int64_t delay_ms, size_t arena_cache);
MW_API void mw_alloc_get_purge(int64_t *delay_ms, size_t *arena_cache);

/*
 * Decommit the calling thread's empty arenas whose purge delay has passed,
 * as a slow path would: for an idle loop or a timer that wants RSS back on
 * time without giving up the cache.  Returns 0.  Any thread.
 */
MW_API int mw_alloc_purge(void);

/*
 * Hand the calling thread's heap over for adoption now rather than at thread
 * exit.  Blocks still in use stay valid and may be freed by any thread.  The
 * thread gets a heap again if it allocates later.  Any thread.
 */
MW_API void mw_alloc_thread_exit(void);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_ALLOC_H */
