/*
 * test_load.c - Check suite for mwrt-load's parts without I/O: the
 * histogram (bucket bounds, the 1% error bound over 1 µs..60 s,
 * percentiles, merging, the HdrHistogram table), command templates and
 * mixes, the key distributions (uniform, zipf, seq) and the command line.
 *
 * The statistical checks use fixed seeds and tolerances several standard
 * deviations wide, so they are deterministic and still fail on a wrong
 * formula (a zipf with the wrong exponent, a weight ignored).
 */
#include "load.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ========================================================================
 * Histogram
 * ======================================================================== */

static mwl_hist *new_hist(void)
{
    mwl_hist *h = malloc(sizeof *h);

    ck_assert_ptr_nonnull(h);
    mwl_hist_reset(h);
    return h;
}

START_TEST(hist_buckets_cover_values)
{
    mwl_rng r;

    mwl_rng_seed(&r, 7);
    for (int i = 0; i < 50000; i++) {
        // log-uniform over 1 ns .. 2^38 ns
        uint64_t v = (uint64_t)exp2(mwl_rng_double(&r) * 38.0);
        int idx = mwl_hist_index(v);
        ck_assert_int_ge(idx, 0);
        ck_assert_int_lt(idx, MWL_HIST_BUCKETS);
        ck_assert_uint_le(mwl_hist_bucket_low(idx), v);
        ck_assert_uint_ge(mwl_hist_bucket_high(idx), v);
    }
    // Consecutive buckets tile the range without gaps or overlaps.
    for (int i = 1; i < MWL_HIST_BUCKETS; i++) {
        ck_assert_uint_eq(mwl_hist_bucket_low(i), mwl_hist_bucket_high(i - 1) + 1);
    }
    ck_assert_uint_eq(mwl_hist_bucket_high(MWL_HIST_BUCKETS - 1), MWL_HIST_MAX_VALUE);
}
END_TEST

START_TEST(hist_relative_error_below_one_percent)
{
    mwl_rng r;
    mwl_hist *h = new_hist();

    mwl_rng_seed(&r, 11);
    for (int i = 0; i < 200000; i++) {
        // 1 µs .. 60 s, log-uniform
        double lv = log(1e3) + mwl_rng_double(&r) * (log(60e9) - log(1e3));
        uint64_t v = (uint64_t)exp(lv);
        int idx = mwl_hist_index(v);
        uint64_t lo = mwl_hist_bucket_low(idx), hi = mwl_hist_bucket_high(idx);
        uint64_t got = lo + (hi - lo) / 2;
        if (i % 1000 == 0) {
            // Through the whole histogram: two values bracket v so the
            // answer is v's bucket's midpoint, not an exact min or max.
            mwl_hist_reset(h);
            mwl_hist_record(h, 1);
            mwl_hist_record(h, v);
            mwl_hist_record(h, MWL_HIST_MAX_VALUE);
            ck_assert_uint_eq(mwl_hist_percentile(h, 50), got);
        }
        double err = fabs((double)got - (double)v) / (double)v;
        ck_assert_msg(err <= 0.01, "value %llu reported as %llu (error %.4f)",
                      (unsigned long long)v, (unsigned long long)got, err);
    }
    free(h);
}
END_TEST

START_TEST(hist_percentiles_of_a_known_distribution)
{
    mwl_hist *h = new_hist();

    // 1..100000 µs, one each: p is at p% of 100 ms.
    for (uint64_t us = 1; us <= 100000; us++) {
        mwl_hist_record(h, us * 1000);
    }
    ck_assert_uint_eq(h->count, 100000);
    ck_assert_uint_eq(h->min, 1000);
    ck_assert_uint_eq(h->max, 100000000);
    const double ps[] = {10, 50, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double want = ps[i] / 100.0 * 100000 * 1000;
        double got = (double)mwl_hist_percentile(h, ps[i]);
        ck_assert_msg(fabs(got - want) / want <= 0.01, "p%g: %.0f, want %.0f", ps[i], got, want);
    }
    ck_assert_uint_eq(mwl_hist_percentile(h, 0), 1000);
    ck_assert_uint_eq(mwl_hist_percentile(h, 100), 100000000);
    ck_assert(fabs(mwl_hist_mean(h) - 50000.5 * 1000) < 1.0);
    // The standard deviation of 1..N is N/sqrt(12) to first order.
    ck_assert(fabs(mwl_hist_stddev(h) / (100000000 / sqrt(12.0)) - 1) < 0.001);
    free(h);
}
END_TEST

START_TEST(hist_small_values_are_exact)
{
    mwl_hist *h = new_hist();

    for (uint64_t v = 0; v < 2 * MWL_HIST_SUB; v++) {
        ck_assert_uint_eq(mwl_hist_bucket_low(mwl_hist_index(v)), v);
        ck_assert_uint_eq(mwl_hist_bucket_high(mwl_hist_index(v)), v);
    }
    mwl_hist_record(h, 5);
    mwl_hist_record(h, 5);
    mwl_hist_record(h, 9);
    ck_assert_uint_eq(mwl_hist_percentile(h, 50), 5);
    ck_assert_uint_eq(mwl_hist_percentile(h, 66), 5);
    ck_assert_uint_eq(mwl_hist_percentile(h, 67), 9);
    free(h);
}
END_TEST

START_TEST(hist_empty_and_overflow)
{
    mwl_hist *h = new_hist();

    ck_assert_uint_eq(mwl_hist_percentile(h, 50), 0);
    ck_assert(mwl_hist_mean(h) == 0.0);
    mwl_hist_record(h, UINT64_C(1) << 50); // about 13 days
    ck_assert_uint_eq(h->overflow, 1);
    ck_assert_uint_eq(h->max, UINT64_C(1) << 50);
    ck_assert_uint_eq(h->counts[MWL_HIST_BUCKETS - 1], 1);
    ck_assert_uint_eq(mwl_hist_percentile(h, 100), UINT64_C(1) << 50);
    free(h);
}
END_TEST

START_TEST(hist_merge_equals_recording_once)
{
    mwl_hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    mwl_rng r;

    mwl_rng_seed(&r, 3);
    for (int i = 0; i < 50000; i++) {
        uint64_t v = 1000 + mwl_rng_below(&r, 50000000);
        mwl_hist_record(i % 3 ? a : b, v);
        mwl_hist_record(all, v);
    }
    mwl_hist_merge(a, b);
    ck_assert_uint_eq(a->count, all->count);
    ck_assert_uint_eq(a->min, all->min);
    ck_assert_uint_eq(a->max, all->max);
    ck_assert_int_eq(memcmp(a->counts, all->counts, sizeof a->counts), 0);
    for (double p = 0; p <= 100; p += 0.5) {
        ck_assert_uint_eq(mwl_hist_percentile(a, p), mwl_hist_percentile(all, p));
    }
    // Merging an empty histogram changes nothing (its min is UINT64_MAX).
    mwl_hist_reset(b);
    mwl_hist_merge(a, b);
    ck_assert_uint_eq(a->min, all->min);
    free(a);
    free(b);
    free(all);
}
END_TEST

START_TEST(hist_hdr_table)
{
    mwl_hist *h = new_hist();
    char *text = NULL;
    size_t len = 0;

    for (uint64_t i = 1; i <= 10000; i++) {
        mwl_hist_record(h, i * 1000); // 1 µs .. 10 ms
    }
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(mwl_hist_write_hdr(h, f, 1e6), 0);
    fclose(f);

    ck_assert_ptr_nonnull(strstr(text, "       Value     Percentile TotalCount 1/(1-Percentile)\n\n"));
    ck_assert_ptr_nonnull(strstr(text, "#[Max     =       10.000, Total count    =        10000]"));
    // Rows: value, percentile and count never decrease; the last is 100%.
    double last_v = -1, last_p = -1;
    long last_c = -1;
    int rows = 0, final_seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        double v, p, inv;
        long c;
        int n = sscanf(line, "%lf %lf %ld %lf", &v, &p, &c, &inv);
        if (n < 3) {
            continue;
        }
        ck_assert(v >= last_v && p >= last_p && c >= last_c);
        if (n == 4) {
            ck_assert(fabs(inv - 1.0 / (1.0 - p)) / inv < 0.01);
        } else {
            ck_assert(p == 1.0 && c == 10000 && fabs(v - 10.0) < 1e-9);
            final_seen = 1;
        }
        last_v = v;
        last_p = p;
        last_c = c;
        rows++;
    }
    ck_assert(final_seen);
    ck_assert_int_gt(rows, 30); // five ticks per half distance down to 1/10000
    free(text);
    free(h);
}
END_TEST

/* ========================================================================
 * Templates and mixes
 * ======================================================================== */

static char err[512];

static const char *expand(const mwl_template *t, uint64_t k1, uint64_t k2, const char *data)
{
    static char buf[4096];
    long n = mwl_template_expand(t, "key:", k1, k2, data, strlen(data), buf, sizeof buf - 1);

    ck_assert_int_ge(n, 0);
    buf[n] = '\0';
    return buf;
}

START_TEST(template_expands_to_resp)
{
    mwl_template t;

    ck_assert_int_eq(mwl_template_parse(&t, "SET __key__ __data__", err, sizeof err), 0);
    ck_assert_int_eq(t.nargs, 3);
    ck_assert_uint_eq(t.weight, 1);
    ck_assert_str_eq(expand(&t, 42, 0, "abc"),
                     "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$3\r\nabc\r\n");

    ck_assert_int_eq(mwl_template_parse(&t, "  7:HSET  user:__key__:x f __data____data__ ", err,
                                        sizeof err),
                     0);
    ck_assert_uint_eq(t.weight, 7);
    ck_assert_int_eq(t.nargs, 4);
    ck_assert_str_eq(expand(&t, 5, 0, "v"),
                     "*4\r\n$4\r\nHSET\r\n$23\r\nuser:key:000000000005:x\r\n$1\r\nf\r\n$2\r\nvv\r\n");

    ck_assert_int_eq(mwl_template_parse(&t, "REF.SET __key__ __key2__", err, sizeof err), 0);
    ck_assert_str_eq(expand(&t, 1, 2, ""),
                     "*3\r\n$7\r\nREF.SET\r\n$16\r\nkey:000000000001\r\n$16\r\nkey:000000000002\r\n");

    ck_assert_int_eq(mwl_template_parse(&t, "3:keys=1000:DEL c:__key__", err, sizeof err), 0);
    ck_assert_uint_eq(t.weight, 3);
    ck_assert_uint_eq(t.keys, 1000);
    ck_assert_str_eq(t.text, "DEL c:__key__");
    ck_assert_int_eq(mwl_template_parse(&t, "keys=7:PING", err, sizeof err), 0);
    ck_assert_uint_eq(t.weight, 1);
    ck_assert_uint_eq(t.keys, 7);
    ck_assert_int_eq(t.uses_key, 0);

    // An empty __data__ is an empty bulk string.
    ck_assert_int_eq(mwl_template_parse(&t, "SET k __data__", err, sizeof err), 0);
    ck_assert_str_eq(expand(&t, 1, 2, ""), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}
END_TEST

START_TEST(template_rejects_bad_input)
{
    mwl_template t;
    char many[1024] = "MSET";

    ck_assert_int_eq(mwl_template_parse(&t, "", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "   ", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "0:GET x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "5GET x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "99999999999:GET x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "keys=0:GET x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "keys=-3:GET x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_template_parse(&t, "keys=5 GET x", err, sizeof err), -1);
    for (int i = 0; i < 40; i++) {
        strcat(many, " a");
    }
    ck_assert_int_eq(mwl_template_parse(&t, many, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "too many arguments"));
}
END_TEST

START_TEST(template_expand_checks_the_buffer)
{
    mwl_template t;
    char buf[64];
    char data[100];

    memset(data, 'x', sizeof data);
    ck_assert_int_eq(mwl_template_parse(&t, "SET __key__ __data__", err, sizeof err), 0);
    ck_assert_int_eq(mwl_template_expand(&t, "key:", 1, 1, data, sizeof data, buf, sizeof buf), -1);
    long need = mwl_template_expand(&t, "key:", 1, 1, data, 10, buf, sizeof buf);
    ck_assert_int_gt(need, 0);
    // Exactly enough room works; one byte less does not.
    ck_assert_int_eq(mwl_template_expand(&t, "key:", 1, 1, data, 10, buf, (size_t)need), need);
    ck_assert_int_eq(mwl_template_expand(&t, "key:", 1, 1, data, 10, buf, (size_t)need - 1), -1);
}
END_TEST

START_TEST(mix_parses_and_weights)
{
    mwl_workload w;
    mwl_rng r;

    memset(&w, 0, sizeof w);
    ck_assert_int_eq(mwl_workload_add_mix(&w, "set:1,get:3", err, sizeof err), 0);
    ck_assert_int_eq(w.n, 2);
    ck_assert_uint_eq(w.total_weight, 4);
    ck_assert_str_eq(w.t[0].text, "SET __key__ __data__");
    ck_assert_str_eq(w.t[1].text, "GET __key__");

    mwl_rng_seed(&r, 5);
    int sets = 0, n = 100000;
    for (int i = 0; i < n; i++) {
        sets += mwl_workload_pick(&w, &r) == &w.t[0];
    }
    // 25% +- 1% (about 7 standard deviations)
    ck_assert_msg(abs(sets - n / 4) < n / 100, "sets %d of %d", sets, n);

    memset(&w, 0, sizeof w);
    ck_assert_int_eq(mwl_workload_add_mix(&w, "PING", err, sizeof err), 0);
    ck_assert_uint_eq(w.t[0].weight, 1);
    ck_assert_int_eq(mwl_workload_add_mix(&w, "nosuch:1", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown command 'nosuch'"));
    ck_assert_int_eq(mwl_workload_add_mix(&w, "set:0", err, sizeof err), -1);
    ck_assert_int_eq(mwl_workload_add_mix(&w, "set:", err, sizeof err), -1);
    ck_assert_int_eq(mwl_workload_add_mix(&w, "set:2x", err, sizeof err), -1);
    ck_assert_int_eq(mwl_workload_add_mix(&w, ",", err, sizeof err), -1);
}
END_TEST

/* ========================================================================
 * Key distributions
 * ======================================================================== */

START_TEST(dist_uniform_and_seq)
{
    mwl_keydist d;
    mwl_rng r;
    uint64_t n = 1000;
    static int seen[1000];

    mwl_rng_seed(&r, 9);
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_UNIFORM, n, 0), 0);
    memset(seen, 0, sizeof seen);
    double sum = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t k = mwl_keydist_sample(&d, &r, 0);
        ck_assert_uint_lt(k, n);
        seen[k]++;
        sum += (double)k;
    }
    for (uint64_t k = 0; k < n; k++) {
        ck_assert_int_gt(seen[k], 100); // expect 200 each
    }
    ck_assert(fabs(sum / 200000 - 499.5) < 5);

    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_SEQ, 10, 0), 0);
    for (uint64_t s = 0; s < 25; s++) {
        ck_assert_uint_eq(mwl_keydist_sample(&d, &r, s), s % 10);
    }
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_UNIFORM, 0, 0), -1);
}
END_TEST

/* Sum of 1/k^s for k = 1..n. */
static double harmonic(uint64_t n, double s)
{
    double h = 0;

    for (uint64_t k = 1; k <= n; k++) {
        h += pow((double)k, -s);
    }
    return h;
}

static void check_zipf(uint64_t n, double s)
{
    mwl_keydist d;
    mwl_rng r;
    int draws = 400000;
    int *seen = calloc(n, sizeof *seen);

    ck_assert_ptr_nonnull(seen);
    mwl_rng_seed(&r, 13);
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_ZIPF, n, s), 0);
    for (int i = 0; i < draws; i++) {
        uint64_t k = mwl_keydist_sample(&d, &r, 0);
        ck_assert_uint_lt(k, n);
        seen[k]++;
    }
    double hn = harmonic(n, s);
    // The first few ranks, each within 5% of k^-s / H(n, s).
    for (uint64_t k = 1; k <= 4; k++) {
        double want = pow((double)k, -s) / hn * draws;
        ck_assert_msg(fabs(seen[k - 1] - want) / want < 0.05, "n %llu s %g rank %llu: %d, want %.0f",
                      (unsigned long long)n, s, (unsigned long long)k, seen[k - 1], want);
    }
    free(seen);
}

START_TEST(dist_zipf_matches_the_law)
{
    check_zipf(1000, 0.99);
    check_zipf(1000, 1.0);
    check_zipf(100000, 0.8);
    check_zipf(50, 2.0);
    mwl_keydist d;
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_ZIPF, 10, 0), -1);
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_ZIPF, 10, -1), -1);
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_ZIPF, 10, NAN), -1);
    // One key: always key 0.
    mwl_rng r;
    mwl_rng_seed(&r, 1);
    ck_assert_int_eq(mwl_keydist_init(&d, MWL_DIST_ZIPF, 1, 0.99), 0);
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_eq(mwl_keydist_sample(&d, &r, 0), 0);
    }
}
END_TEST

/* ========================================================================
 * Command line
 * ======================================================================== */

static int parse(mwl_options *o, const char *line)
{
    char copy[1024];
    char *argv[64];
    int argc = 0;
    char *save = NULL;

    snprintf(copy, sizeof copy, "mwrt-load %s", line);
    for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        argv[argc++] = tok;
    }
    argv[argc] = NULL;
    FILE *devnull = fopen("/dev/null", "w");
    int rc = mwl_options_parse(o, argc, argv, devnull, err, sizeof err);
    fclose(devnull);
    return rc;
}

START_TEST(options_defaults)
{
    static mwl_options o;

    ck_assert_int_eq(parse(&o, ""), MWL_PARSE_OK);
    ck_assert_str_eq(o.host, "127.0.0.1");
    ck_assert_int_eq(o.port, 6380); // mwrt-server's default
    ck_assert_int_eq(o.auth, 0);
    ck_assert_int_eq(o.dbnum, -1); // no SELECT
    ck_assert_int_eq(o.threads, 1);
    ck_assert_int_eq(o.connections, 50);
    ck_assert_int_eq(o.pipeline, 1);
    ck_assert(o.duration == 10.0);
    ck_assert(o.rate == 0);
    ck_assert(o.hard_cap == 10.0 + 2 * 5.0 + 5);
    ck_assert_int_eq(o.workload.n, 2);
    ck_assert_uint_eq(o.workload.total_weight, 11);
    ck_assert_uint_eq(o.keys, 100000);
    ck_assert_int_eq(o.dist, MWL_DIST_UNIFORM);
    ck_assert_uint_eq(o.data_size, 3);
}
END_TEST

START_TEST(options_everything)
{
    static mwl_options o;

    ck_assert_int_eq(parse(&o, "-h localhost -p 7300 -t 2 -c 8 -P 16 -n 5000 --rate 1000.5 "
                               "--timeout 0.5 --keys 77 --dist zipf:1.2 -d 100 --seed 9 "
                               "--template 3:GET__key__ --mix set:2 --json j --csv c --hdr h "
                               "--interval 0.1 -q --key-prefix k: --hard-cap 30"),
                     MWL_PARSE_OK);
    ck_assert_str_eq(o.host, "localhost");
    ck_assert_int_eq(o.port, 7300);
    ck_assert_int_eq(o.threads, 2);
    ck_assert_int_eq(o.connections, 8);
    ck_assert_int_eq(o.pipeline, 16);
    ck_assert_uint_eq(o.requests, 5000);
    ck_assert(o.duration == 0); // -n alone bounds the run
    ck_assert(o.rate == 1000.5);
    ck_assert(o.timeout == 0.5);
    ck_assert(o.hard_cap == 30);
    ck_assert_uint_eq(o.keys, 77);
    ck_assert_int_eq(o.dist, MWL_DIST_ZIPF);
    ck_assert(o.zipf_s == 1.2);
    ck_assert_uint_eq(o.data_size, 100);
    ck_assert_uint_eq(o.seed, 9);
    ck_assert_int_eq(o.workload.n, 2);
    ck_assert_uint_eq(o.workload.total_weight, 5);
    ck_assert_str_eq(o.json_path, "j");
    ck_assert_str_eq(o.csv_path, "c");
    ck_assert_str_eq(o.hdr_path, "h");
    ck_assert(o.interval == 0.1);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_str_eq(o.prefix, "k:");

    ck_assert_int_eq(parse(&o, "-a s3cret --user bob --dbnum 3"), MWL_PARSE_OK);
    ck_assert_int_eq(o.auth, 1);
    ck_assert_str_eq(o.password, "s3cret");
    ck_assert_str_eq(o.user, "bob");
    ck_assert_int_eq(o.dbnum, 3);
    ck_assert_int_eq(parse(&o, "--auth pw"), MWL_PARSE_OK);
    ck_assert_int_eq(o.auth, 1);
    ck_assert_str_eq(o.user, "");

    ck_assert_int_eq(parse(&o, "-n 10"), MWL_PARSE_OK);
    ck_assert(o.hard_cap == 3600); // no duration: the hard cap is an hour
    ck_assert_int_eq(parse(&o, "--dist seq"), MWL_PARSE_OK);
    ck_assert_int_eq(o.dist, MWL_DIST_SEQ);
    ck_assert_int_eq(parse(&o, "--help"), MWL_PARSE_EXIT);
    ck_assert_int_eq(parse(&o, "--version"), MWL_PARSE_EXIT);
}
END_TEST

START_TEST(options_errors)
{
    static mwl_options o;
    static const struct {
        const char *line, *message;
    } bad[] = {
        {"-p 0", "--port"},
        {"-p 65536", "--port"},
        {"-p 12x", "--port"},
        {"-c 2 -t 4", "must be at least --threads"},
        {"-c -5", "--connections"},
        {"-P 0", "--pipeline"},
        {"-n 0", "--requests"},
        {"--rate 0", "--rate"},
        {"--rate -3", "--rate"},
        {"--rate inf", "--rate"},
        {"--duration nan", "--duration"},
        {"--dist zipf:0", "zipf:S"},
        {"--dist pareto", "--dist"},
        {"--mix foo", "unknown command"},
        {"--interval 0.001", "--interval"},
        {"--bogus", "unknown option"},
        {"-p", "needs a value"},
        {"stray", "unexpected argument"},
        {"--user bob", "needs a password"},
        {"--dbnum -1", "--dbnum"},
        {"--dbnum x", "--dbnum"},
        {"-a", "needs a value"},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(parse(&o, bad[i].line) == MWL_PARSE_ERROR, "'%s' was accepted", bad[i].line);
        ck_assert_msg(strstr(err, bad[i].message) != NULL, "'%s': message '%s' lacks '%s'",
                      bad[i].line, err, bad[i].message);
    }
}
END_TEST

/* ========================================================================
 * Results
 * ======================================================================== */

START_TEST(json_summary_counts)
{
    static mwl_options o;
    mwl_hist *h = new_hist();
    char *text = NULL;
    size_t len = 0;

    ck_assert_int_eq(parse(&o, "-n 10"), MWL_PARSE_OK);
    for (int i = 1; i <= 8; i++) {
        mwl_hist_record(h, (uint64_t)i * 1000);
    }
    mwl_result r = {
        .o = &o,
        .t = {.sent = 10, .ok = 7, .errors = 1, .timeouts = 1, .dropped = 1, .elapsed = 2.0},
        .h = h,
        .status = "server-gone",
        .message = "lost: \"quoted\"\n",
        .first_error = "ERR x",
    };
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(mwl_write_json(&r, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "\"sent\": 10,"));
    ck_assert_ptr_nonnull(strstr(text, "\"completed\": 8,"));
    ck_assert_ptr_nonnull(strstr(text, "\"throughput_rps\": 4.000,"));
    ck_assert_ptr_nonnull(strstr(text, "\"message\": \"lost: \\\"quoted\\\"\\u000a\""));
    ck_assert_ptr_nonnull(strstr(text, "\"max\": 8.000}"));
    ck_assert_ptr_null(strstr(text, "\"commands\""));
    ck_assert_ptr_nonnull(strstr(text, "\"auth\": false, \"dbnum\": -1}"));
    free(text);
    free(h);
}
END_TEST

/* The latency of each command of the mix, beside the overall one, in the
 * JSON and in the human summary. */
START_TEST(summary_by_command)
{
    static mwl_options o;
    static mwl_hist cmd[2];
    uint64_t cmd_errors[2] = {0, 1};
    mwl_hist *h = new_hist();
    char *text = NULL;
    size_t len = 0;

    ck_assert_int_eq(parse(&o, "-n 10 --mix set:1,get:3 -a pw --dbnum 0"), MWL_PARSE_OK);
    ck_assert_int_eq(o.workload.n, 2);
    mwl_hist_reset(&cmd[0]);
    mwl_hist_reset(&cmd[1]);
    for (int i = 1; i <= 4; i++) {
        mwl_hist_record(&cmd[0], 1000);     // SET: 1 µs each
        mwl_hist_record(&cmd[1], 2000000);  // GET: 2 ms each
        mwl_hist_record(h, 1000);
        mwl_hist_record(h, 2000000);
    }
    mwl_result r = {
        .o = &o,
        .t = {.sent = 8, .ok = 7, .errors = 1, .elapsed = 1.0},
        .h = h,
        .status = "ok",
        .message = "",
        .first_error = "ERR x",
        .cmd_h = cmd,
        .cmd_errors = cmd_errors,
    };
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(mwl_write_json(&r, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "\"auth\": true, \"dbnum\": 0}"));
    ck_assert_ptr_null(strstr(text, "pw"));  // the password is not written
    const char *cmds = strstr(text, "\"commands\": [");
    ck_assert_ptr_nonnull(cmds);
    const char *set = strstr(cmds, "\"command\": \"SET");
    const char *get = strstr(cmds, "\"command\": \"GET");
    ck_assert_ptr_nonnull(set);
    ck_assert_ptr_nonnull(get);
    ck_assert(set < get); // in the order of the mix
    ck_assert_ptr_nonnull(strstr(set, "\"weight\": 1, \"completed\": 4, \"errors\": 0"));
    ck_assert_ptr_nonnull(strstr(get, "\"weight\": 3, \"completed\": 4, \"errors\": 1"));
    ck_assert_ptr_nonnull(strstr(set, "\"max\": 1.000}"));
    ck_assert_ptr_nonnull(strstr(get, "\"max\": 2000.000}"));
    free(text);
    text = NULL;

    f = open_memstream(&text, &len);
    mwl_write_summary(&r, f);
    fclose(f);
    const char *by = strstr(text, "by command (ms):\n");
    ck_assert_ptr_nonnull(by);
    ck_assert_ptr_nonnull(strstr(by, "SET"));
    ck_assert_ptr_nonnull(strstr(by, "max 2.000\n"));
    free(text);
    free(h);
}
END_TEST

START_TEST(help_has_examples)
{
    static mwl_options o;
    char *text = NULL;
    size_t len = 0;
    char *argv[] = {"mwrt-load", "--help", NULL};

    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(mwl_options_parse(&o, 2, argv, f, err, sizeof err), MWL_PARSE_EXIT);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "examples:"));
    ck_assert_ptr_nonnull(strstr(text, "--dbnum"));
    ck_assert_ptr_nonnull(strstr(text, "--user"));
    ck_assert_ptr_nonnull(strstr(text, "6380"));
    free(text);
}
END_TEST

static Suite *load_suite(void)
{
    Suite *s = suite_create("load");
    TCase *tc = tcase_create("hist");

    tcase_add_test(tc, hist_buckets_cover_values);
    tcase_add_test(tc, hist_relative_error_below_one_percent);
    tcase_add_test(tc, hist_percentiles_of_a_known_distribution);
    tcase_add_test(tc, hist_small_values_are_exact);
    tcase_add_test(tc, hist_empty_and_overflow);
    tcase_add_test(tc, hist_merge_equals_recording_once);
    tcase_add_test(tc, hist_hdr_table);
    tcase_set_timeout(tc, 60); // sanitizer builds on a shared machine are slow
    suite_add_tcase(s, tc);

    tc = tcase_create("workload");
    tcase_add_test(tc, template_expands_to_resp);
    tcase_add_test(tc, template_rejects_bad_input);
    tcase_add_test(tc, template_expand_checks_the_buffer);
    tcase_add_test(tc, mix_parses_and_weights);
    tcase_add_test(tc, dist_uniform_and_seq);
    tcase_add_test(tc, dist_zipf_matches_the_law);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_add_test(tc, options_defaults);
    tcase_add_test(tc, options_everything);
    tcase_add_test(tc, options_errors);
    tcase_add_test(tc, json_summary_counts);
    tcase_add_test(tc, summary_by_command);
    tcase_add_test(tc, help_has_examples);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(load_suite());

    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
