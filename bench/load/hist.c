/*
 * hist.c - the latency histogram: log-linear buckets, mergeable.
 *
 * Technique: HdrHistogram's bucket layout, written small.  A value v (ns)
 * below 2 * SUB (SUB = 2^MWL_HIST_SUB_BITS = 128) has a bucket of its own.
 * Above, let e be the position of v's top bit and shift = e - SUB_BITS;
 * v >> shift is then in [SUB, 2 * SUB), and v's bucket is
 *
 *     index = shift * SUB + (v >> shift)
 *
 * so each power of two [2^e, 2^(e+1)) is cut into SUB buckets of width
 * 2^shift.  A bucket's width is at most 1/SUB of its lower bound; reporting
 * its midpoint puts the answer within 1/(2 * SUB) = 0.4% of every value in
 * it, from 1 ns up to MWL_HIST_MAX_VALUE (275 s).  The index formula is
 * the same on both sides of 2 * SUB (shift 0 gives index v), which keeps it
 * branch-light.
 *
 * Data: one flat array of uint64_t counts (4096 buckets, 32 KiB), the exact
 * min and max, and a running sum and sum of squares for the mean and
 * standard deviation.  Merging adds counts, so per-thread histograms
 * combine without losing anything.
 *
 * Invariants: count equals the sum of counts[]; min <= max when count > 0;
 * values above MWL_HIST_MAX_VALUE land in the last bucket and in overflow,
 * and max keeps their true value.
 *
 * Not handled: concurrent recording into one histogram (each thread owns
 * its own; the caller locks when another thread reads), negative values.
 */
#include "load.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

void mwl_hist_reset(mwl_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

int mwl_hist_index(uint64_t ns)
{
    if (ns > MWL_HIST_MAX_VALUE) {
        ns = MWL_HIST_MAX_VALUE;
    }
    if (ns < 2 * MWL_HIST_SUB) {
        return (int)ns;
    }
    int top = 63 - __builtin_clzll(ns);
    int shift = top - MWL_HIST_SUB_BITS;
    return shift * (int)MWL_HIST_SUB + (int)(ns >> shift);
}

uint64_t mwl_hist_bucket_low(int i)
{
    if (i < (int)(2 * MWL_HIST_SUB)) {
        return (uint64_t)i;
    }
    int shift = i / (int)MWL_HIST_SUB - 1;
    uint64_t sub = (uint64_t)(i - shift * (int)MWL_HIST_SUB);
    return sub << shift;
}

uint64_t mwl_hist_bucket_high(int i)
{
    if (i < (int)(2 * MWL_HIST_SUB)) {
        return (uint64_t)i;
    }
    int shift = i / (int)MWL_HIST_SUB - 1;
    return mwl_hist_bucket_low(i) + ((UINT64_C(1) << shift) - 1);
}

void mwl_hist_record(mwl_hist *h, uint64_t ns)
{
    if (ns > MWL_HIST_MAX_VALUE) {
        h->overflow++;
    }
    h->counts[mwl_hist_index(ns)]++;
    h->count++;
    if (ns < h->min) {
        h->min = ns;
    }
    if (ns > h->max) {
        h->max = ns;
    }
    double d = (double)ns;
    h->sum += d;
    h->sumsq += d * d;
}

void mwl_hist_merge(mwl_hist *dst, const mwl_hist *src)
{
    if (src->count == 0) {
        return;
    }
    for (int i = 0; i < MWL_HIST_BUCKETS; i++) {
        dst->counts[i] += src->counts[i];
    }
    dst->count += src->count;
    dst->overflow += src->overflow;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
    if (src->min < dst->min) {
        dst->min = src->min;
    }
    if (src->max > dst->max) {
        dst->max = src->max;
    }
}

static uint64_t clamp_to_seen(const mwl_hist *h, uint64_t v)
{
    if (v < h->min) {
        return h->min;
    }
    if (v > h->max) {
        return h->max;
    }
    return v;
}

uint64_t mwl_hist_percentile(const mwl_hist *h, double p)
{
    if (h->count == 0) {
        return 0;
    }
    if (p <= 0) {
        return h->min;
    }
    if (p >= 100) {
        return h->max;
    }
    // The rank of the value asked for, 1-based, as HdrHistogram counts it.
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (int i = 0; i < MWL_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t lo = mwl_hist_bucket_low(i), hi = mwl_hist_bucket_high(i);
            return clamp_to_seen(h, lo + (hi - lo) / 2);
        }
    }
    return h->max;
}

uint64_t mwl_hist_count_upto(const mwl_hist *h, uint64_t ns)
{
    int last = mwl_hist_index(ns);
    uint64_t seen = 0;

    for (int i = 0; i <= last; i++) {
        seen += h->counts[i];
    }
    return seen;
}

double mwl_hist_mean(const mwl_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}

double mwl_hist_stddev(const mwl_hist *h)
{
    if (h->count == 0) {
        return 0.0;
    }
    double mean = mwl_hist_mean(h);
    double var = h->sumsq / (double)h->count - mean * mean;
    return var > 0 ? sqrt(var) : 0.0;
}

int mwl_hist_write_hdr(const mwl_hist *h, FILE *f, double unit_ns)
{
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    if (h->count > 0) {
        /* HdrHistogram's percentile iteration: start at 0 and step by
         * 1 / (5 * 2^(k+1)) where k counts the halvings of the distance to
         * 100% so far, so the table gets denser towards the tail. */
        double level = 0.0;
        for (;;) {
            uint64_t v = mwl_hist_percentile(h, level);
            uint64_t cum = mwl_hist_count_upto(h, v);
            if (cum >= h->count || level >= 100.0) {
                break;
            }
            fprintf(f, "%12.3f %2.12f %10" PRIu64 " %14.2f\n", (double)v / unit_ns, level / 100.0, cum,
                    1.0 / (1.0 - level / 100.0));
            double halvings = floor(log2(100.0 / (100.0 - level))) + 1;
            double ticks = 5.0 * pow(2.0, halvings);
            level += 100.0 / ticks;
        }
        fprintf(f, "%12.3f %2.12f %10" PRIu64 "\n", (double)h->max / unit_ns, 1.0, h->count);
    }
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mwl_hist_mean(h) / unit_ns,
            mwl_hist_stddev(h) / unit_ns);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n", (double)h->max / unit_ns,
            h->count);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", MWL_HIST_MAX_SHIFT + 2,
            (int)MWL_HIST_SUB);
    return ferror(f) ? -1 : 0;
}
