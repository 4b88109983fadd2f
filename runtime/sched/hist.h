/*
 * hist.h - log-linear histograms for pause times and counts.
 *
 * The layout is HdrHistogram's idea in its simplest form: values below
 * 256 have a bucket each; above, every power of two [2^e, 2^(e+1)) is cut
 * into 128 equal buckets, so a bucket is at most 1/128 of its values wide
 * and any value read back (the bucket's middle) is within 0.4% of what
 * was recorded.  Values are capped at 2^MW__HIST_MAX_BITS - 1 (4.9 hours
 * in ns).  Counts are 32-bit; a histogram is 19 KiB, mostly untouched
 * (zero pages) until long pauses occur.
 *
 * Not thread-safe: the collector records with the world stopped or the
 * GIL held, and readers take the collector's stats lock.
 */
#ifndef MW_SCHED_HIST_H
#define MW_SCHED_HIST_H

#ifndef MW_BUILD_INTERNAL
#error "runtime/sched/hist.h is internal to mwrt"
#endif

#include <mwrt/gc.h>

#include <stdint.h>

#define MW__HIST_SUB_BITS 7                      /* 128 buckets per octave */
#define MW__HIST_MAX_BITS 44
#define MW__HIST_BUCKETS  ((MW__HIST_MAX_BITS - MW__HIST_SUB_BITS + 1) << MW__HIST_SUB_BITS)

_Static_assert(MW__HIST_BUCKETS == 4864, "bucket count as documented above");

typedef struct mw__hist {
    uint64_t count;
    uint64_t max;
    uint32_t buckets[MW__HIST_BUCKETS];
} mw__hist;

/* Record one value. */
void mw__hist_record(mw__hist *h, uint64_t v);
/* The bucket of v, and the middle of bucket i (for tests). */
unsigned mw__hist_index(uint64_t v);
uint64_t mw__hist_value(unsigned i);
/* The value at quantile q (0 < q <= 1), or 0 if empty. */
uint64_t mw__hist_quantile(const mw__hist *h, double q);
/* Fill out: count, p50, p99, p99.9, max. */
void mw__hist_summary(const mw__hist *h, mw_gc_percentiles *out);

#endif /* MW_SCHED_HIST_H */
