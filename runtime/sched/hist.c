/*
 * hist.c - log-linear histograms (see hist.h).
 */
#include "sched/hist.h"

#include <string.h>

unsigned mw__hist_index(uint64_t v)
{
    const uint64_t cap = ((uint64_t)1 << MW__HIST_MAX_BITS) - 1;
    if (v > cap) {
        v = cap;
    }
    if (v < (2u << MW__HIST_SUB_BITS)) {
        return (unsigned)v;                      // 0..255: exact
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v);   // >= 8
    unsigned shift = e - MW__HIST_SUB_BITS;
    // v >> shift is in [128, 255]: octave `shift` starts at shift * 128.
    return (shift << MW__HIST_SUB_BITS) + (unsigned)(v >> shift);
}

uint64_t mw__hist_value(unsigned i)
{
    if (i < (2u << MW__HIST_SUB_BITS)) {
        return i;
    }
    unsigned shift = (i >> MW__HIST_SUB_BITS) - 1;
    uint64_t m = i - (shift << MW__HIST_SUB_BITS);
    uint64_t lo = m << shift;
    return lo + (((uint64_t)1 << shift) >> 1);   // the bucket's middle
}

void mw__hist_record(mw__hist *h, uint64_t v)
{
    h->buckets[mw__hist_index(v)]++;
    h->count++;
    if (v > h->max) {
        h->max = v;
    }
}

uint64_t mw__hist_quantile(const mw__hist *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    // The smallest value with at least q of the recorded at or below it.
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1) {
        rank = 1;
    }
    uint64_t seen = 0;
    for (unsigned i = 0; i < MW__HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = mw__hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

void mw__hist_summary(const mw__hist *h, mw_gc_percentiles *out)
{
    memset(out, 0, sizeof *out);
    out->count = h->count;
    out->p50 = mw__hist_quantile(h, 0.50);
    out->p99 = mw__hist_quantile(h, 0.99);
    out->p999 = mw__hist_quantile(h, 0.999);
    out->max = h->max;
}
