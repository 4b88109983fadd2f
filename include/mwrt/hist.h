/*
 * mwrt/hist.h - log-linear histograms of latencies and counts.
 *
 * The runtime keeps its pause and time-to-safepoint figures in these, and
 * they are public because a service (and a benchmark) wants the same for
 * its request latencies.  The layout is HdrHistogram's idea in its
 * simplest form: values below 256 have a bucket each; above, every power
 * of two [2^e, 2^(e+1)) is cut into 128 equal buckets, so a bucket is at
 * most 1/128 of its values wide and a value read back (the bucket's
 * middle) is within 0.4% of any value recorded in it.  Values are clamped
 * to MW_HIST_MAX (2^44 - 1: 4.9 hours in nanoseconds, 17 trillion as a
 * count).  A histogram is a plain struct of 38 KiB, zeroed to be empty;
 * histograms of different threads add up with mw_hist_merge.
 *
 * Not thread-safe: one writer at a time, and readers synchronize with it.
 * None of these calls needs the runtime or an attached thread.
 */
#ifndef MWRT_HIST_H
#define MWRT_HIST_H

#include <mwrt/common.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MW_HIST_SUB_BITS 7      /* 128 buckets per power of two */
#define MW_HIST_MAX_BITS 44
#define MW_HIST_MAX      ((UINT64_C(1) << MW_HIST_MAX_BITS) - 1)
#define MW_HIST_BUCKETS  ((MW_HIST_MAX_BITS - MW_HIST_SUB_BITS + 1) << MW_HIST_SUB_BITS)

typedef struct mw_hist {
    uint64_t count;             /* values recorded */
    uint64_t min, max;          /* exact; min is 0 while count is 0 */
    double sum, sum_squares;    /* for the mean and standard deviation */
    uint64_t buckets[MW_HIST_BUCKETS];
} mw_hist;

/* Empty h (the same as zeroing it). */
MW_API void mw_hist_reset(mw_hist *h);
/* Record v (clamped to MW_HIST_MAX), n times. */
MW_API void mw_hist_record_n(mw_hist *h, uint64_t v, uint64_t n);
static inline void mw_hist_record(mw_hist *h, uint64_t v)
{
    mw_hist_record_n(h, v, 1);
}
/* Add everything recorded in from to into. */
MW_API void mw_hist_merge(mw_hist *into, const mw_hist *from);
/* The value at quantile q (0 < q <= 1; 0.99 is p99): the middle of the
 * first bucket at which q of the values are counted, bounded by min and
 * max; 0 if h is empty. */
MW_API uint64_t mw_hist_quantile(const mw_hist *h, double q);
MW_API double mw_hist_mean(const mw_hist *h);
MW_API double mw_hist_stddev(const mw_hist *h);

/* The bucket of a value, and the range of values [*lo, *hi] that bucket i
 * (0 .. MW_HIST_BUCKETS - 1) holds; for walking the buckets (e.g. to print
 * a percentile distribution). */
MW_API unsigned mw_hist_index(uint64_t v);
MW_API void mw_hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi);
/* The value a bucket stands for: its middle. */
MW_API uint64_t mw_hist_bucket_value(unsigned i);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_HIST_H */
