/*
 * histogram.h - a small log-linear latency histogram for the scheduler
 * benchmark.
 *
 * Technique: the idea of HDR histograms, cut down to what the benchmark
 * needs.  A value v (nanoseconds, up to 2^64 - 1) falls in a bucket found
 * from its top eight significant bits: values below 128 get one bucket each
 * (exact); for larger values, with e = floor(log2 v) >= 7, the bucket is
 * (e - 6) * 128 + ((v >> (e - 7)) - 128), i.e. every power of two
 * [2^e, 2^(e+1)) is cut into 128 equal sub-buckets of width 2^(e-7).  A
 * bucket is therefore at most 1/128 of its lower bound wide, and reporting
 * its midpoint is off by at most 1/256 (0.4%) of the true value: within
 * the 1% the benchmark promises.
 *
 * Data: a flat array of 7424 counts (the last bucket is e = 63), the total,
 * and the exact maximum.  About 58 KiB; one per worker, merged at the end,
 * so recording takes no lock and no atomic.
 *
 * Invariants: count == sum of buckets; max is the largest value recorded
 * (0 while empty).  Not handled: concurrent recording into one histogram
 * (each thread owns its own), and resizing (the range is all of uint64).
 */
#ifndef MWRT_BENCH_SCHED_HISTOGRAM_H
#define MWRT_BENCH_SCHED_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#define SB_HIST_SUB_BITS 7                       /* 128 sub-buckets per octave */
#define SB_HIST_SUB (1u << SB_HIST_SUB_BITS)
#define SB_HIST_BUCKETS ((64 - SB_HIST_SUB_BITS + 1) * SB_HIST_SUB)

_Static_assert(SB_HIST_BUCKETS == 7424, "one bucket row per octave 7..63, plus the exact row");

typedef struct sb_hist {
    uint64_t count;
    uint64_t max;
    uint64_t buckets[SB_HIST_BUCKETS];
} sb_hist;

/* The bucket index of v. */
static inline unsigned sb_hist_index(uint64_t v)
{
    if (v < SB_HIST_SUB) {
        return (unsigned)v;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned sub = (unsigned)(v >> (e - SB_HIST_SUB_BITS)) - SB_HIST_SUB;
    return (e - SB_HIST_SUB_BITS + 1) * SB_HIST_SUB + sub;
}

/* The value a bucket stands for: its midpoint (exact below 128). */
static inline uint64_t sb_hist_value(unsigned idx)
{
    if (idx < SB_HIST_SUB) {
        return idx;
    }
    unsigned e = idx / SB_HIST_SUB + SB_HIST_SUB_BITS - 1;
    uint64_t sub = idx % SB_HIST_SUB;
    uint64_t low = (SB_HIST_SUB + sub) << (e - SB_HIST_SUB_BITS);
    uint64_t width = (uint64_t)1 << (e - SB_HIST_SUB_BITS);
    return low + width / 2;
}

static inline void sb_hist_init(sb_hist *h)
{
    memset(h, 0, sizeof *h);
}

/* Record one value.  Owner thread only. */
static inline void sb_hist_record(sb_hist *h, uint64_t v)
{
    h->buckets[sb_hist_index(v)]++;
    h->count++;
    if (v > h->max) {
        h->max = v;
    }
}

/* Add every value of src to dst. */
static inline void sb_hist_merge(sb_hist *dst, const sb_hist *src)
{
    for (unsigned i = 0; i < SB_HIST_BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
    dst->count += src->count;
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

/* The q-quantile (0 < q <= 1): the smallest bucket value such that at least
 * ceil(q * count) values are at or below it, never above the exact max.
 * 0 while empty. */
static inline uint64_t sb_hist_quantile(const sb_hist *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < SB_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = sb_hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

#endif /* MWRT_BENCH_SCHED_HISTOGRAM_H */
