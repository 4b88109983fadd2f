/*
 * bench_util.h - small helpers shared by the C benchmarks.
 */
#ifndef MWRT_BENCH_UTIL_H
#define MWRT_BENCH_UTIL_H

#include <stdlib.h>
#include <string.h>

static inline int bench_compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa;
    double b = *(const double *)pb;

    if (a < b) {
        return -1;
    }
    return a > b;
}

/* The median of v[0..n-1] (n >= 1); sorts a copy, v is left as it is. */
static inline double bench_median(const double *v, int n)
{
    double tmp[n];

    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, bench_compare_doubles);
    if (n % 2) {
        return tmp[n / 2];
    }
    return (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

#endif /* MWRT_BENCH_UTIL_H */
