/*
 * test_histogram.c - Check suite for the scheduler benchmark's latency
 * histogram (histogram.h): the bucket mapping round-trips within its
 * promised error, quantiles of known distributions come out right, and
 * merging adds.
 */
#include "histogram.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

/* Every value maps to a bucket whose representative is within 1% (0.4% by
 * construction) and which is monotone in the value. */
START_TEST(test_bucket_error)
{
    // Plain checks in the loops, ck_abort_msg on failure: Check's assertion
    // macros record a mark point each, which is slow under sanitizers.
    unsigned prev = 0;
    for (uint64_t v = 0; v < 200000; v++) {
        unsigned idx = sb_hist_index(v);
        uint64_t r = sb_hist_value(idx);
        double err = v == 0 ? (double)r : ((double)r - (double)v) / (double)v;
        if (idx >= SB_HIST_BUCKETS || idx < prev || !(err < 0.01 && err > -0.01)) {
            ck_abort_msg("v=%llu idx=%u prev=%u r=%llu", (unsigned long long)v, idx, prev,
                         (unsigned long long)r);
        }
        prev = idx;
    }
    // Large values, up to the top of the range.
    for (uint64_t v = 1000; v < UINT64_MAX / 3; v = v * 3 + 7) {
        uint64_t r = sb_hist_value(sb_hist_index(v));
        double err = ((double)r - (double)v) / (double)v;
        if (!(err < 0.01 && err > -0.01)) {
            ck_abort_msg("v=%llu r=%llu", (unsigned long long)v, (unsigned long long)r);
        }
    }
    ck_assert_uint_eq(sb_hist_index(UINT64_MAX), SB_HIST_BUCKETS - 1);
}
END_TEST

/* Values below 128 are exact. */
START_TEST(test_small_exact)
{
    for (uint64_t v = 0; v < 128; v++) {
        ck_assert_uint_eq(sb_hist_value(sb_hist_index(v)), v);
    }
}
END_TEST

/* 1..100000 recorded once each: each quantile within 1% of the true one. */
START_TEST(test_quantiles_uniform)
{
    sb_hist *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    sb_hist_init(h);
    ck_assert_uint_eq(sb_hist_quantile(h, 0.5), 0);
    for (uint64_t v = 1; v <= 100000; v++) {
        sb_hist_record(h, v);
    }
    ck_assert_uint_eq(h->count, 100000);
    ck_assert_uint_eq(h->max, 100000);
    const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        double want = qs[i] * 100000;
        double got = (double)sb_hist_quantile(h, qs[i]);
        ck_assert_msg(got > want * 0.99 && got < want * 1.01, "q=%g got %g want %g", qs[i], got,
                      want);
    }
    ck_assert_uint_eq(sb_hist_quantile(h, 1.0), 100000);
    free(h);
}
END_TEST

/* A tail: 999 fast values and one slow one; p99.9 is fast, the max slow. */
START_TEST(test_quantiles_tail)
{
    sb_hist *h = malloc(sizeof *h);
    ck_assert_ptr_nonnull(h);
    sb_hist_init(h);
    for (int i = 0; i < 999; i++) {
        sb_hist_record(h, 20000);
    }
    sb_hist_record(h, 5000000);
    uint64_t p999 = sb_hist_quantile(h, 0.999);
    ck_assert_uint_ge(p999, 19800);
    ck_assert_uint_le(p999, 20200);
    ck_assert_uint_eq(h->max, 5000000);
    uint64_t p9999 = sb_hist_quantile(h, 0.9999);
    ck_assert_uint_ge(p9999, 4950000);
    ck_assert_uint_le(p9999, 5000000);
    free(h);
}
END_TEST

START_TEST(test_merge)
{
    sb_hist *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    sb_hist_init(a);
    sb_hist_init(b);
    for (int i = 0; i < 100; i++) {
        sb_hist_record(a, 1000);
        sb_hist_record(b, 3000);
    }
    sb_hist_record(b, 70000);
    sb_hist_merge(a, b);
    ck_assert_uint_eq(a->count, 201);
    ck_assert_uint_eq(a->max, 70000);
    uint64_t p50 = sb_hist_quantile(a, 0.5);
    ck_assert_uint_ge(p50, 2970);
    ck_assert_uint_le(p50, 3030);
    uint64_t p25 = sb_hist_quantile(a, 0.25);
    ck_assert_uint_ge(p25, 990);
    ck_assert_uint_le(p25, 1010);
    free(a);
    free(b);
}
END_TEST

static Suite *histogram_suite(void)
{
    Suite *s = suite_create("sched-bench-histogram");
    TCase *tc = tcase_create("buckets");
    tcase_add_test(tc, test_bucket_error);
    tcase_add_test(tc, test_small_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("quantiles");
    tcase_add_test(tc, test_quantiles_uniform);
    tcase_add_test(tc, test_quantiles_tail);
    tcase_add_test(tc, test_merge);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(histogram_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
