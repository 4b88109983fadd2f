/*
 * stats.c - the allocator's statistics: a walk over every heap's
 * single-writer counters plus the process-wide ones.
 */
#include "alloc/alloc.h"

#include <string.h>

int mw_alloc_get_stats(mw_alloc_stats *out)
{
    if (out == NULL) {
        return MW_EINVAL;
    }
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
        out->classes[i].block_size = mw__class_size(i);
    }
    size_t large_count = 0;
    size_t large_bytes = 0;
    // Heaps are never unlinked or unmapped, and next_all is immutable once a
    // heap is published (acquire pairs with the release in heap_new).
    for (mw__heap *h = mw__atomic_load_acquire(&mw__alloc_global.all_heaps); h != NULL;
         h = h->next_all) {
        for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
            // Out of the pools, less what waits in the heap's cache.
            size_t out_of_pools = mw__atomic_load_relaxed(&h->pool_inuse[i]);
            int64_t room = mw__atomic_load_relaxed(&h->cache_room[i]);
            size_t cached = h == &mw__heap_empty ? 0 : (size_t)((int64_t)mw__cache_limit(i) - room);
            size_t pools = mw__atomic_load_relaxed(&h->pools[i]);
            out->classes[i].blocks_in_use += out_of_pools - cached;
            out->classes[i].pools += pools;
            out->pools_in_use += pools;
        }
        out->pools_free += mw__atomic_load_relaxed(&h->free_pools);
        large_count += mw__atomic_load_relaxed(&h->large_count);
        large_bytes += mw__atomic_load_relaxed(&h->large_bytes);
        out->heaps++;
        out->heaps_abandoned += mw__atomic_load_relaxed(&h->abandoned);
    }
    // Per-heap large counts may wrap below zero (freed on another thread);
    // modular sums come out right.
    out->large_in_use = large_count - mw__atomic_load_relaxed(&mw__alloc_global.large_count_freed);
    out->large_bytes = large_bytes - mw__atomic_load_relaxed(&mw__alloc_global.large_bytes_freed);
    out->arenas_mapped = mw__atomic_load_relaxed(&mw__alloc_global.arenas_mapped);
    out->arenas_released = mw__atomic_load_relaxed(&mw__alloc_global.arenas_released);
    out->arenas_live = out->arenas_mapped - out->arenas_released;
    out->bytes_from_os = mw__atomic_load_relaxed(&mw__alloc_global.bytes_from_os);
    out->peak_bytes_from_os = mw__atomic_load_relaxed(&mw__alloc_global.peak_bytes_from_os);
    out->bytes_committed = mw__atomic_load_relaxed(&mw__alloc_global.bytes_committed);
    out->arenas_cached = mw__atomic_load_relaxed(&mw__alloc_global.arenas_cached);
    out->arenas_decommitted = mw__atomic_load_relaxed(&mw__alloc_global.arenas_decommitted);
    out->arenas_reused = mw__atomic_load_relaxed(&mw__alloc_global.arenas_reused);
    out->arenas_purged = mw__atomic_load_relaxed(&mw__alloc_global.arenas_purged);
    return MW_OK;
}

size_t mw__heap_blocks_in_use(void)
{
    mw_alloc_stats st;
    mw_alloc_get_stats(&st);
    size_t n = 0;
    for (unsigned i = 0; i < MW__NUM_CLASSES; i++) {
        n += st.classes[i].blocks_in_use;
    }
    return n;
}
