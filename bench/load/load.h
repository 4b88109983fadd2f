/*
 * load.h - mwrt-load's internal interfaces: the latency histogram, the
 * workload (command templates, weighted mixes, key distributions, a PRNG),
 * the command-line options and the result writers.
 *
 * These pieces have no I/O of their own (the writers take a FILE *), so the
 * Check suite in tests/load exercises them directly; main.c ties them to
 * libuv and hiredis.  Names carry the mwl_ prefix ("mwrt load").
 *
 * Threads: nothing here has hidden shared state; every function may be
 * called from any thread on objects that thread owns (a histogram, an rng)
 * or only reads (a parsed workload, the options).  mwl_options_parse uses
 * getopt and so is for the main thread only.  Errors are returned (0 / -1
 * with a message), never fatal; nothing here exits or aborts.
 */
#ifndef MWRT_LOAD_H
#define MWRT_LOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------------------
 * Tunables
 * ------------------------------------------------------------------------ */

/* Sub-buckets per power of two, as a bit count.  2^7 = 128 sub-buckets make
 * a bucket at most 1/128 of its lower bound wide, so the midpoint we report
 * is within 1/256 (0.4%) of any value in it: the 1% goal with room. */
#ifndef MWL_HIST_SUB_BITS
#define MWL_HIST_SUB_BITS 7
#endif
/* Largest shift: values up to 2^(MWL_HIST_MAX_SHIFT + SUB_BITS + 1) - 1 ns
 * are kept exactly to a bucket; 30 gives 2^38 ns = 275 s, past the 60 s the
 * histogram must cover.  Larger values are clamped to the top and counted
 * as overflow. */
#ifndef MWL_HIST_MAX_SHIFT
#define MWL_HIST_MAX_SHIFT 30
#endif
#define MWL_HIST_SUB (1u << MWL_HIST_SUB_BITS)
#define MWL_HIST_BUCKETS ((int)((MWL_HIST_MAX_SHIFT + 2) * MWL_HIST_SUB))
#define MWL_HIST_MAX_VALUE ((UINT64_C(1) << (MWL_HIST_MAX_SHIFT + MWL_HIST_SUB_BITS + 1)) - 1)
_Static_assert(MWL_HIST_SUB_BITS >= 7, "fewer sub-buckets break the 1% error bound");
_Static_assert(MWL_HIST_MAX_SHIFT + MWL_HIST_SUB_BITS + 1 <= 63, "values must fit in 63 bits");
_Static_assert(MWL_HIST_MAX_VALUE >= UINT64_C(60000000000), "must cover 60 s in ns");

/* Most arguments in one command template, and most pieces (literal text or
 * placeholders) in one template. */
#define MWL_TPL_MAX_ARGS 32
#define MWL_TPL_MAX_SEGS 96
/* Most templates in a workload. */
#define MWL_MAX_TEMPLATES 16

/* ------------------------------------------------------------------------
 * Histogram (hist.c)
 * ------------------------------------------------------------------------ */

/* A log-linear histogram of nanosecond values, HdrHistogram's layout: the
 * values below 2 * MWL_HIST_SUB each have a bucket; above, every power of
 * two is split into MWL_HIST_SUB equal buckets.  Plain counts, so two
 * histograms merge by adding them. */
typedef struct mwl_hist {
    uint64_t count;     /* values recorded */
    uint64_t min, max;  /* exact; min is UINT64_MAX while empty */
    uint64_t overflow;  /* values above MWL_HIST_MAX_VALUE (kept as the max bucket) */
    double sum, sumsq;  /* for the mean and standard deviation */
    uint64_t counts[MWL_HIST_BUCKETS];
} mwl_hist;

/* Empty h.  Any thread, on a histogram it owns. */
void mwl_hist_reset(mwl_hist *h);
/* Count one value (ns). */
void mwl_hist_record(mwl_hist *h, uint64_t ns);
/* Add every count of src to dst (dst and src may not be the same). */
void mwl_hist_merge(mwl_hist *dst, const mwl_hist *src);
/* The bucket index of a value (values above the range: the last bucket). */
int mwl_hist_index(uint64_t ns);
/* The smallest and largest value that fall in bucket i. */
uint64_t mwl_hist_bucket_low(int i);
uint64_t mwl_hist_bucket_high(int i);
/* The value at percentile p (0..100): the midpoint of the bucket holding
 * the ceil(p% of count)-th smallest value, clamped to [min, max]; p = 0
 * gives min and p = 100 max.  0 for an empty histogram. */
uint64_t mwl_hist_percentile(const mwl_hist *h, double p);
/* How many values are in buckets up to and including the one holding ns. */
uint64_t mwl_hist_count_upto(const mwl_hist *h, uint64_t ns);
double mwl_hist_mean(const mwl_hist *h);
double mwl_hist_stddev(const mwl_hist *h);
/* Write the percentile distribution in HdrHistogram's text format
 * ("Value Percentile TotalCount 1/(1-Percentile)", five ticks per half
 * distance, and the Mean/Max/Buckets footer), values divided by unit_ns
 * (1e6 writes milliseconds, as wrk2 does).  Returns 0, or -1 on an I/O
 * error. */
int mwl_hist_write_hdr(const mwl_hist *h, FILE *f, double unit_ns);

/* ------------------------------------------------------------------------
 * Random numbers and key distributions (workload.c)
 * ------------------------------------------------------------------------ */

/* xoshiro256**, seeded through splitmix64: fast, and good enough for
 * choosing keys.  One per thread. */
typedef struct mwl_rng {
    uint64_t s[4];
} mwl_rng;

void mwl_rng_seed(mwl_rng *r, uint64_t seed);
uint64_t mwl_rng_next(mwl_rng *r);
/* Uniform in [0, n) (n >= 1), without modulo bias. */
uint64_t mwl_rng_below(mwl_rng *r, uint64_t n);
/* Uniform in [0, 1). */
double mwl_rng_double(mwl_rng *r);

typedef enum mwl_dist_kind { MWL_DIST_UNIFORM, MWL_DIST_ZIPF, MWL_DIST_SEQ } mwl_dist_kind;

/* Which key of [0, n) each request uses.  Zipf: key k-1 has weight 1/k^s,
 * sampled by rejection-inversion (Hörmann and Derflinger, 1996) in O(1)
 * per key with no table, so any n works; key 0 is the most popular.  Seq:
 * keys in order, for loading a keyspace. */
typedef struct mwl_keydist {
    mwl_dist_kind kind;
    uint64_t n;
    double s;
    /* zipf constants */
    double h_x1, h_n, sv;
} mwl_keydist;

/* Set up a distribution over n >= 1 keys; s > 0 for zipf (ignored
 * otherwise).  Returns 0, or -1 if the parameters are out of range. */
int mwl_keydist_init(mwl_keydist *d, mwl_dist_kind kind, uint64_t n, double s);
/* Draw a key; seq is the caller's running count (used by MWL_DIST_SEQ). */
uint64_t mwl_keydist_sample(const mwl_keydist *d, mwl_rng *r, uint64_t seq);

/* ------------------------------------------------------------------------
 * Command templates and mixes (workload.c)
 * ------------------------------------------------------------------------ */

typedef enum mwl_seg_kind {
    MWL_SEG_TEXT,  /* literal bytes of the template */
    MWL_SEG_KEY,   /* __key__: prefix + the key, 12 digits */
    MWL_SEG_KEY2,  /* __key2__: a second, independent key */
    MWL_SEG_DATA,  /* __data__: the value, -d bytes */
} mwl_seg_kind;

typedef struct mwl_seg {
    mwl_seg_kind kind;
    unsigned off, len; /* MWL_SEG_TEXT: the bytes in the template's text */
} mwl_seg;

/* One command: whitespace-separated arguments, each a run of segments. */
typedef struct mwl_template {
    char text[512];                    /* the command as given (no weight) */
    unsigned weight;
    int uses_key, uses_key2;           /* which keys the expansion needs */
    uint64_t keys;                     /* keys=N: keys modulo N (0: all keys) */
    int nargs;
    int arg_seg[MWL_TPL_MAX_ARGS + 1]; /* arg i is segs[arg_seg[i] .. arg_seg[i+1]) */
    int nsegs;
    mwl_seg segs[MWL_TPL_MAX_SEGS];
} mwl_template;

/* Parse "[WEIGHT:][keys=N:]COMMAND ARG..." (e.g. "10:GET __key__", or
 * "2:keys=1000:DEL c:__key__" for a command confined to keys 0..999).
 * Returns 0, or -1 with a message in err. */
int mwl_template_parse(mwl_template *t, const char *spec, char *err, size_t errlen);
/* The RESP2 encoding of t with its placeholders filled in, into buf of
 * cap bytes.  Returns the length, or -1 if it does not fit. */
long mwl_template_expand(const mwl_template *t, const char *prefix, uint64_t key, uint64_t key2,
                         const char *data, size_t dlen, char *buf, size_t cap);
/* The built-in command for a --mix name (get, set, ...), or NULL. */
const char *mwl_mix_command(const char *name);

typedef struct mwl_workload {
    int n;
    unsigned total_weight;
    mwl_template t[MWL_MAX_TEMPLATES];
} mwl_workload;

/* Add the entries of a mix ("set:1,get:10"; a missing weight is 1).
 * Returns 0, or -1 with a message in err. */
int mwl_workload_add_mix(mwl_workload *w, const char *mix, char *err, size_t errlen);
/* Add one template (see mwl_template_parse). */
int mwl_workload_add_template(mwl_workload *w, const char *spec, char *err, size_t errlen);
/* Choose a template by weight. */
const mwl_template *mwl_workload_pick(const mwl_workload *w, mwl_rng *r);

/* ------------------------------------------------------------------------
 * Options (options.c)
 * ------------------------------------------------------------------------ */

typedef struct mwl_options {
    char host[256];
    int port;
    int auth;              /* send AUTH [user] password first */
    char user[128];        /* "": AUTH password alone */
    char password[256];
    int dbnum;             /* SELECT dbnum first; -1: no SELECT */
    int threads;
    int connections;
    int pipeline;
    uint64_t requests;     /* 0: bounded by duration only */
    double duration;       /* s; 0: bounded by requests only */
    double rate;           /* requests/s overall; 0: closed loop */
    double timeout;        /* s a request may wait for its reply */
    double hard_cap;       /* s: the run ends here whatever else happens */
    double interval;       /* s between rows of the time series */
    mwl_workload workload;
    char prefix[64];       /* what __key__ starts with */
    uint64_t keys;
    mwl_dist_kind dist;
    double zipf_s;
    size_t data_size;
    uint64_t seed;
    int quiet;
    const char *hdr_path, *json_path, *csv_path;
    char mix_text[512];    /* what was asked for, for the JSON summary */
} mwl_options;

enum { MWL_PARSE_OK = 0, MWL_PARSE_EXIT = 1, MWL_PARSE_ERROR = -1 };

/* Fill o from the command line.  Returns MWL_PARSE_OK, MWL_PARSE_EXIT
 * after printing --help or --version to out, or MWL_PARSE_ERROR with a
 * message in err.  Resets getopt, so it may be called again. */
int mwl_options_parse(mwl_options *o, int argc, char **argv, FILE *out, char *err, size_t errlen);

/* ------------------------------------------------------------------------
 * Results (report.c)
 * ------------------------------------------------------------------------ */

typedef struct mwl_totals {
    uint64_t sent;      /* requests written to a connection */
    uint64_t ok;        /* replies that were not errors */
    uint64_t errors;    /* error replies */
    uint64_t timeouts;  /* no reply within the timeout (or by the end) */
    uint64_t dropped;   /* lost with a connection that went away */
    uint64_t unsent;    /* open loop: scheduled, never sent before the end */
    double elapsed;     /* s from the first request to the last reply */
} mwl_totals;

typedef struct mwl_result {
    const mwl_options *o;
    mwl_totals t;
    const mwl_hist *h;
    const char *status;      /* "ok", "server-gone", "interrupted", "hard-cap" */
    const char *message;     /* why, or "" */
    const char *first_error; /* the first error reply's text, or "" */
    double start;            /* CLOCK_MONOTONIC s when the run started */
    /* Per command of the workload (o->workload.t[i]), or NULL: latencies
     * of the completed requests and how many were error replies. */
    const mwl_hist *cmd_h;
    const uint64_t *cmd_errors;
} mwl_result;

/* The JSON summary.  Returns 0, or -1 on an I/O error. */
int mwl_write_json(const mwl_result *r, FILE *f);
/* The human summary (stdout). */
void mwl_write_summary(const mwl_result *r, FILE *f);
/* The time series: header, then one row per interval. */
int mwl_csv_header(FILE *f);
int mwl_csv_row(FILE *f, double second, double span, uint64_t requests, const mwl_hist *h,
                uint64_t errors, uint64_t timeouts);

#endif /* MWRT_LOAD_H */
