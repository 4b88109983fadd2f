/*
 * base.h - what every runtime module uses: branch hints, the three assertion
 * tiers, the one fatal-error exit, and atomics whose memory order is in the
 * name.
 *
 * Atomics.  We use C11 <stdatomic.h> rather than Concurrency Kit's ck_pr_*
 * for the allocator's few atomic operations: ThreadSanitizer understands C11
 * atomics and does not understand ck's inline assembly, and the allocator's
 * lock-free lists must be checked under TSan.  Each wrapper names its order
 * (mw__atomic_load_acquire), as the house style asks, so a reader never has
 * to look up which order a call site meant.
 */
#ifndef MW_BASE_H
#define MW_BASE_H

#ifndef MW_BUILD_INTERNAL
#error "runtime/base/base.h is internal to mwrt; include <mwrt/mwrt.h>"
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define mw_likely(x)   __builtin_expect(!!(x), 1)
#define mw_unlikely(x) __builtin_expect(!!(x), 0)
#define MW_NOINLINE    __attribute__((noinline))
#define MW_INLINE      static inline __attribute__((always_inline))
#define MW_COLD        __attribute__((cold, noinline))
#define MW_CACHE_LINE  64

/* ======================================================================
 * Fatal errors and assertions
 * ====================================================================== */

/*
 * Report detected corruption of internal state (or a caller's double free,
 * in a debug build) on stderr and abort.  The only place mwrt aborts.
 * Any thread; never returns.  Formats with a small stack buffer and write(2),
 * never with malloc, so it works from inside the allocator.
 */
__attribute__((noreturn, format(printf, 1, 2), cold))
void mw__fatal(const char *fmt, ...);

#ifndef MW_DEBUG
#define MW_DEBUG 0
#endif

#define mw__assert_at(cond)                                                  \
    (mw_likely(cond) ? (void)0                                               \
                     : mw__fatal("assertion failed: %s (%s:%d)", #cond,     \
                                 __FILE__, __LINE__))

/* Tier 1: cheap checks of caller misuse (double free, foreign pointer). */
#if MW_DEBUG >= 1
#define mw_assert(cond) mw__assert_at(cond)
#else
#define mw_assert(cond) ((void)0)
#endif
/* Tier 2: internal consistency, O(1) each. */
#if MW_DEBUG >= 2
#define mw_assert_internal(cond) mw__assert_at(cond)
#else
#define mw_assert_internal(cond) ((void)0)
#endif
/* Tier 3: expensive full walks (validators). */
#if MW_DEBUG >= 3
#define mw_assert_expensive(cond) mw__assert_at(cond)
#else
#define mw_assert_expensive(cond) ((void)0)
#endif

/* ======================================================================
 * Atomics: the order is part of the name
 * ====================================================================== */

#define mw__atomic_load_relaxed(p)     atomic_load_explicit((p), memory_order_relaxed)
#define mw__atomic_load_acquire(p)     atomic_load_explicit((p), memory_order_acquire)
#define mw__atomic_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define mw__atomic_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
#define mw__atomic_exchange_acquire(p, v) \
    atomic_exchange_explicit((p), (v), memory_order_acquire)
#define mw__atomic_add_relaxed(p, v)   atomic_fetch_add_explicit((p), (v), memory_order_relaxed)
#define mw__atomic_sub_relaxed(p, v)   atomic_fetch_sub_explicit((p), (v), memory_order_relaxed)
#define mw__atomic_or_relaxed(p, v)    atomic_fetch_or_explicit((p), (v), memory_order_relaxed)
#define mw__atomic_and_relaxed(p, v)   atomic_fetch_and_explicit((p), (v), memory_order_relaxed)
/* Weak CAS: release on success, relaxed on failure (the retry reloads). */
#define mw__atomic_cas_weak_release(p, expected, desired)                    \
    atomic_compare_exchange_weak_explicit((p), (expected), (desired),        \
                                          memory_order_release,              \
                                          memory_order_relaxed)
/* Strong CAS: acquire-release on success, acquire on failure. */
#define mw__atomic_cas_acq_rel(p, expected, desired)                         \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired),      \
                                            memory_order_acq_rel,            \
                                            memory_order_acquire)

/*
 * A counter written by one thread and read by any: the owner bumps it with a
 * plain (non-locked) add, readers load it relaxed.  Being atomic makes the
 * concurrent read well defined; being single-writer makes a locked
 * read-modify-write unnecessary.
 */
typedef _Atomic(size_t) mw__counter;
MW_INLINE void mw__counter_add(mw__counter *c, size_t v)
{
    mw__atomic_store_relaxed(c, mw__atomic_load_relaxed(c) + v);
}
MW_INLINE void mw__counter_sub(mw__counter *c, size_t v)
{
    mw__atomic_store_relaxed(c, mw__atomic_load_relaxed(c) - v);
}
MW_INLINE void mw__counter16_add(_Atomic(uint16_t) *c, uint16_t v)
{
    mw__atomic_store_relaxed(c, (uint16_t)(mw__atomic_load_relaxed(c) + v));
}

#endif /* MW_BASE_H */
