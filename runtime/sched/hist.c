/*
 * hist.c - log-linear histograms (the layout is described in mwrt/hist.h).
 */
#include <mwrt/hist.h>

#include <math.h>
#include <string.h>

_Static_assert(MW_HIST_BUCKETS == 4864, "bucket count as documented in mwrt/hist.h");

void mw_hist_reset(mw_hist *h)
{
    memset(h, 0, sizeof *h);
}

unsigned mw_hist_index(uint64_t v)
{
    if (v > MW_HIST_MAX) {
        v = MW_HIST_MAX;
    }
    if (v < (2u << MW_HIST_SUB_BITS)) {
        return (unsigned)v;                      // 0..255: exact
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v);   // >= 8
    unsigned shift = e - MW_HIST_SUB_BITS;
    // v >> shift is in [128, 255]: the octave of `shift` starts at
    // shift * 128, right after the one below it.
    return (shift << MW_HIST_SUB_BITS) + (unsigned)(v >> shift);
}

void mw_hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *hi)
{
    if (i < (2u << MW_HIST_SUB_BITS)) {
        *lo = *hi = i;
        return;
    }
    unsigned shift = (i >> MW_HIST_SUB_BITS) - 1;
    uint64_t m = i - (shift << MW_HIST_SUB_BITS);
    *lo = m << shift;
    *hi = *lo + ((uint64_t)1 << shift) - 1;
}

uint64_t mw_hist_bucket_value(unsigned i)
{
    uint64_t lo, hi;
    mw_hist_bucket_range(i, &lo, &hi);
    return lo + (hi - lo + 1) / 2;
}

void mw_hist_record_n(mw_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0) {
        return;
    }
    if (v > MW_HIST_MAX) {
        v = MW_HIST_MAX;
    }
    h->buckets[mw_hist_index(v)] += n;
    if (h->count == 0 || v < h->min) {
        h->min = v;
    }
    if (v > h->max) {
        h->max = v;
    }
    h->count += n;
    h->sum += (double)v * (double)n;
    h->sum_squares += (double)v * (double)v * (double)n;
}

void mw_hist_merge(mw_hist *into, const mw_hist *from)
{
    if (from->count == 0) {
        return;
    }
    for (unsigned i = 0; i < MW_HIST_BUCKETS; i++) {
        into->buckets[i] += from->buckets[i];
    }
    if (into->count == 0 || from->min < into->min) {
        into->min = from->min;
    }
    if (from->max > into->max) {
        into->max = from->max;
    }
    into->count += from->count;
    into->sum += from->sum;
    into->sum_squares += from->sum_squares;
}

uint64_t mw_hist_quantile(const mw_hist *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    if (q >= 1.0) {
        return h->max;   // exact
    }
    // The smallest value with at least q of the recorded at or below it.
    double want = q * (double)h->count;
    uint64_t rank = want <= 1.0 ? 1 : (uint64_t)ceil(want - 1e-9);
    uint64_t seen = 0;
    for (unsigned i = 0; i < MW_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = mw_hist_bucket_value(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double mw_hist_mean(const mw_hist *h)
{
    return h->count == 0 ? 0.0 : h->sum / (double)h->count;
}

double mw_hist_stddev(const mw_hist *h)
{
    if (h->count == 0) {
        return 0.0;
    }
    double mean = mw_hist_mean(h);
    double var = h->sum_squares / (double)h->count - mean * mean;
    return var > 0.0 ? sqrt(var) : 0.0;
}
