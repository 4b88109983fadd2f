/*
 * bench_util.h - small helpers shared by the C benchmarks.
 */
#ifndef MWRT_BENCH_UTIL_H
#define MWRT_BENCH_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The monotonic clock in nanoseconds. */
static inline uint64_t read_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Print a printf-style message, prefixed with the program's name, and give
 * up. */
__attribute__((noreturn, format(printf, 1, 2), unused)) static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", program_invocation_short_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

#ifdef MWRT_OBJECT_H
/* Print what failed with the thread's mwrt error, and give up. */
__attribute__((noreturn, unused)) static void die_with_mw_error(const char *what)
{
    die("%s failed: %s: %s", what, mw_err_name(mw_err_occurred()), mw_err_message());
}
#endif

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
