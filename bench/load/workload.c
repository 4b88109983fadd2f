/*
 * workload.c - what mwrt-load sends: command templates, weighted mixes,
 * key distributions and the PRNG that drives them.
 *
 * A template is a command line such as "SET __key__ __data__", split on
 * whitespace into arguments; each argument is a run of segments, literal
 * text or a placeholder (__key__, __key2__, __data__), so placeholders may
 * sit inside an argument ("user:__key__").  Expansion writes the RESP2
 * array ("*3\r\n$3\r\nSET\r\n...") straight into the caller's buffer; the
 * connection hands it to hiredis as a formatted command, so no argv is
 * built per request.  A mix ("set:1,get:10") is a list of built-in
 * templates with weights; a request picks one by weight.
 *
 * Keys: __key__ expands to the prefix followed by the key number in 12
 * digits (redis-benchmark's key:__rand_int__ shape), so every key of a run
 * has the same length.  The number comes from a distribution over [0, n):
 * uniform; zipf with exponent s, sampled by rejection-inversion (Hörmann
 * and Derflinger, "Rejection-inversion to generate variates from monotone
 * discrete distributions", 1996), which needs no table and no O(n) setup;
 * or sequential, for loading a keyspace.
 *
 * Not handled: quoting in templates (an argument cannot contain spaces),
 * binary literals, and RESP3.
 */
#include "load.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ========================================================================
 * PRNG: xoshiro256** (Blackman and Vigna), seeded with splitmix64
 * ======================================================================== */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void mwl_rng_seed(mwl_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&seed);
    }
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t mwl_rng_next(mwl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t mwl_rng_below(mwl_rng *r, uint64_t n)
{
    // Reject the top partial copy of [0, n) so every result is equally likely.
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;

    do {
        x = mwl_rng_next(r);
    } while (x >= limit);
    return x % n;
}

double mwl_rng_double(mwl_rng *r)
{
    return (double)(mwl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ========================================================================
 * Key distributions
 * ======================================================================== */

/* log1p(x)/x and expm1(x)/x, with their limits at 0 (the formulas divide
 * by (1 - s), which vanishes at s = 1). */
static double helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1.0 - x / 2.0;
}

static double helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1.0 + x / 2.0;
}

/* H(x) = ((x^(1-s)) - 1) / (1 - s), an integral of h(x) = x^-s; log x at s = 1. */
static double zipf_H(double s, double x)
{
    double lx = log(x);
    return helper2((1.0 - s) * lx) * lx;
}

static double zipf_h(double s, double x)
{
    return exp(-s * log(x));
}

static double zipf_Hinv(double s, double x)
{
    double t = x * (1.0 - s);
    if (t < -1.0) {
        t = -1.0; // rounding; the exact value is in range
    }
    return exp(helper1(t) * x);
}

int mwl_keydist_init(mwl_keydist *d, mwl_dist_kind kind, uint64_t n, double s)
{
    memset(d, 0, sizeof *d);
    if (n < 1) {
        return -1;
    }
    d->kind = kind;
    d->n = n;
    if (kind == MWL_DIST_ZIPF) {
        if (!(s > 0.0) || !isfinite(s)) {
            return -1;
        }
        d->s = s;
        d->h_x1 = zipf_H(s, 1.5) - 1.0;
        d->h_n = zipf_H(s, (double)n + 0.5);
        d->sv = 2.0 - zipf_Hinv(s, zipf_H(s, 2.5) - zipf_h(s, 2.0));
    }
    return 0;
}

static uint64_t zipf_sample(const mwl_keydist *d, mwl_rng *r)
{
    for (;;) {
        double u = d->h_n + mwl_rng_double(r) * (d->h_x1 - d->h_n);
        double x = zipf_Hinv(d->s, u);
        double kd = floor(x + 0.5);
        if (kd < 1.0) {
            kd = 1.0;
        } else if (kd > (double)d->n) {
            kd = (double)d->n;
        }
        // Accept at once near the mode, else by comparing with the hat.
        if (kd - x <= d->sv || u >= zipf_H(d->s, kd + 0.5) - zipf_h(d->s, kd)) {
            return (uint64_t)kd - 1;
        }
    }
}

uint64_t mwl_keydist_sample(const mwl_keydist *d, mwl_rng *r, uint64_t seq)
{
    switch (d->kind) {
    case MWL_DIST_ZIPF:
        return zipf_sample(d, r);
    case MWL_DIST_SEQ:
        return seq % d->n;
    case MWL_DIST_UNIFORM:
    default:
        return mwl_rng_below(r, d->n);
    }
}

/* ========================================================================
 * Templates
 * ======================================================================== */

static const struct {
    const char *name, *command;
} builtin_mix[] = {
    {"get", "GET __key__"},
    {"set", "SET __key__ __data__"},
    {"del", "DEL __key__"},
    {"exists", "EXISTS __key__"},
    {"incr", "INCR __key__"},
    {"ping", "PING"},
    {"hset", "HSET __key__ f __data__"},
    {"hget", "HGET __key__ f"},
    {"lpush", "LPUSH __key__ __data__"},
    {"lpop", "LPOP __key__"},
};

const char *mwl_mix_command(const char *name)
{
    for (size_t i = 0; i < sizeof builtin_mix / sizeof builtin_mix[0]; i++) {
        if (strcasecmp(name, builtin_mix[i].name) == 0) {
            return builtin_mix[i].command;
        }
    }
    return NULL;
}

static const struct {
    const char *token;
    mwl_seg_kind kind;
} placeholders[] = {
    {"__key__", MWL_SEG_KEY},
    {"__key2__", MWL_SEG_KEY2},
    {"__data__", MWL_SEG_DATA},
};

static int add_seg(mwl_template *t, mwl_seg_kind kind, size_t off, size_t len, char *err,
                   size_t errlen)
{
    if (t->nsegs == MWL_TPL_MAX_SEGS) {
        snprintf(err, errlen, "template '%s' has too many pieces (at most %d)", t->text,
                 MWL_TPL_MAX_SEGS);
        return -1;
    }
    t->segs[t->nsegs++] = (mwl_seg){.kind = kind, .off = (unsigned)off, .len = (unsigned)len};
    t->uses_key |= kind == MWL_SEG_KEY;
    t->uses_key2 |= kind == MWL_SEG_KEY2;
    return 0;
}

/* Cut the argument text[start, end) into literal and placeholder segments. */
static int parse_arg(mwl_template *t, size_t start, size_t end, char *err, size_t errlen)
{
    size_t lit = start, i = start;

    while (i < end) {
        int matched = 0;
        for (size_t p = 0; p < sizeof placeholders / sizeof placeholders[0]; p++) {
            size_t plen = strlen(placeholders[p].token);
            if (end - i >= plen && memcmp(t->text + i, placeholders[p].token, plen) == 0) {
                if (i > lit && add_seg(t, MWL_SEG_TEXT, lit, i - lit, err, errlen) < 0) {
                    return -1;
                }
                if (add_seg(t, placeholders[p].kind, 0, 0, err, errlen) < 0) {
                    return -1;
                }
                i += plen;
                lit = i;
                matched = 1;
                break;
            }
        }
        if (!matched) {
            i++;
        }
    }
    if (i > lit) {
        return add_seg(t, MWL_SEG_TEXT, lit, i - lit, err, errlen);
    }
    return 0;
}

int mwl_template_parse(mwl_template *t, const char *spec, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->weight = 1;

    // An optional "WEIGHT:" in front; a command never starts with a digit.
    const char *p = spec;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (isdigit((unsigned char)*p)) {
        char *end;
        errno = 0;
        unsigned long w = strtoul(p, &end, 10);
        if (*end != ':' || errno || w == 0 || w > 1000000) {
            snprintf(err, errlen, "template '%s': a weight is a number from 1 to 1000000 then ':'",
                     spec);
            return -1;
        }
        t->weight = (unsigned)w;
        p = end + 1;
    }
    // An optional "keys=N:": this command's keys are taken modulo N, so a
    // few commands can work on a small corner of the key space.
    if (strncmp(p, "keys=", 5) == 0) {
        char *end;
        errno = 0;
        unsigned long long k = strtoull(p + 5, &end, 10);
        if (*end != ':' || errno || k == 0 || p[5] == '-') {
            snprintf(err, errlen, "template '%s': keys=N: needs a positive N then ':'", spec);
            return -1;
        }
        t->keys = k;
        p = end + 1;
    }
    size_t len = strlen(p);
    if (len >= sizeof t->text) {
        snprintf(err, errlen, "template is too long (at most %zu bytes)", sizeof t->text - 1);
        return -1;
    }
    memcpy(t->text, p, len + 1);

    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)t->text[i])) {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && !isspace((unsigned char)t->text[i])) {
            i++;
        }
        if (t->nargs == MWL_TPL_MAX_ARGS) {
            snprintf(err, errlen, "template '%s' has too many arguments (at most %d)", t->text,
                     MWL_TPL_MAX_ARGS);
            return -1;
        }
        t->arg_seg[t->nargs++] = t->nsegs;
        if (parse_arg(t, start, i, err, errlen) < 0) {
            return -1;
        }
    }
    t->arg_seg[t->nargs] = t->nsegs;
    if (t->nargs == 0) {
        snprintf(err, errlen, "empty command template");
        return -1;
    }
    return 0;
}

/* Append n bytes; false once the buffer is full (the caller gives up). */
static int put(char *buf, size_t cap, size_t *at, const void *src, size_t n)
{
    if (*at + n > cap) {
        return 0;
    }
    memcpy(buf + *at, src, n);
    *at += n;
    return 1;
}

/* prefix + key in at least 12 digits, zero-padded; by hand, because
 * snprintf showed up in profiles at a few percent of the whole run. */
static size_t key_text(const char *prefix, uint64_t key, char *out, size_t cap)
{
    char digits[24];
    int n = 0;

    do {
        digits[n++] = (char)('0' + key % 10);
        key /= 10;
    } while (key);
    while (n < 12) {
        digits[n++] = '0';
    }
    size_t plen = strlen(prefix);
    if (plen + (size_t)n >= cap) {
        return cap; // does not fit; the caller checks
    }
    memcpy(out, prefix, plen);
    for (int i = 0; i < n; i++) {
        out[plen + (size_t)i] = digits[n - 1 - i];
    }
    out[plen + (size_t)n] = '\0';
    return plen + (size_t)n;
}

long mwl_template_expand(const mwl_template *t, const char *prefix, uint64_t key, uint64_t key2,
                         const char *data, size_t dlen, char *buf, size_t cap)
{
    char k1[96], k2[96], head[32];
    size_t k1len = t->uses_key ? key_text(prefix, key, k1, sizeof k1) : 0;
    size_t k2len = t->uses_key2 ? key_text(prefix, key2, k2, sizeof k2) : 0;
    size_t at = 0;

    if (k1len >= sizeof k1 || k2len >= sizeof k2) {
        return -1;
    }
    int n = snprintf(head, sizeof head, "*%d\r\n", t->nargs);
    if (!put(buf, cap, &at, head, (size_t)n)) {
        return -1;
    }
    for (int a = 0; a < t->nargs; a++) {
        size_t alen = 0;
        for (int s = t->arg_seg[a]; s < t->arg_seg[a + 1]; s++) {
            const mwl_seg *g = &t->segs[s];
            alen += g->kind == MWL_SEG_TEXT ? g->len
                    : g->kind == MWL_SEG_KEY ? k1len
                    : g->kind == MWL_SEG_KEY2 ? k2len
                                              : dlen;
        }
        n = snprintf(head, sizeof head, "$%zu\r\n", alen);
        if (!put(buf, cap, &at, head, (size_t)n)) {
            return -1;
        }
        for (int s = t->arg_seg[a]; s < t->arg_seg[a + 1]; s++) {
            const mwl_seg *g = &t->segs[s];
            int ok = g->kind == MWL_SEG_TEXT ? put(buf, cap, &at, t->text + g->off, g->len)
                     : g->kind == MWL_SEG_KEY ? put(buf, cap, &at, k1, k1len)
                     : g->kind == MWL_SEG_KEY2 ? put(buf, cap, &at, k2, k2len)
                                               : put(buf, cap, &at, data, dlen);
            if (!ok) {
                return -1;
            }
        }
        if (!put(buf, cap, &at, "\r\n", 2)) {
            return -1;
        }
    }
    return (long)at;
}

/* ========================================================================
 * Workloads
 * ======================================================================== */

int mwl_workload_add_template(mwl_workload *w, const char *spec, char *err, size_t errlen)
{
    if (w->n == MWL_MAX_TEMPLATES) {
        snprintf(err, errlen, "too many commands in the workload (at most %d)", MWL_MAX_TEMPLATES);
        return -1;
    }
    if (mwl_template_parse(&w->t[w->n], spec, err, errlen) < 0) {
        return -1;
    }
    w->total_weight += w->t[w->n].weight;
    w->n++;
    return 0;
}

int mwl_workload_add_mix(mwl_workload *w, const char *mix, char *err, size_t errlen)
{
    char copy[512];
    char *save = NULL;

    if (strlen(mix) >= sizeof copy) {
        snprintf(err, errlen, "--mix is too long");
        return -1;
    }
    strcpy(copy, mix);
    int entries = 0;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(item, ':');
        unsigned long weight = 1;
        if (colon) {
            char *end;
            *colon = '\0';
            errno = 0;
            weight = strtoul(colon + 1, &end, 10);
            if (colon[1] == '\0' || *end != '\0' || errno || weight == 0 || weight > 1000000) {
                snprintf(err, errlen, "--mix: bad weight for '%s' (a number from 1 to 1000000)",
                         item);
                return -1;
            }
        }
        const char *command = mwl_mix_command(item);
        if (!command) {
            snprintf(err, errlen,
                     "--mix: unknown command '%s' (known: get set del exists incr ping hset hget "
                     "lpush lpop; use --template for others)",
                     item);
            return -1;
        }
        char spec[600];
        snprintf(spec, sizeof spec, "%lu:%s", weight, command);
        if (mwl_workload_add_template(w, spec, err, errlen) < 0) {
            return -1;
        }
        entries++;
    }
    if (entries == 0) {
        snprintf(err, errlen, "--mix is empty");
        return -1;
    }
    return 0;
}

const mwl_template *mwl_workload_pick(const mwl_workload *w, mwl_rng *r)
{
    if (w->n == 1) {
        return &w->t[0];
    }
    uint64_t x = mwl_rng_below(r, w->total_weight);
    for (int i = 0; i < w->n; i++) {
        if (x < w->t[i].weight) {
            return &w->t[i];
        }
        x -= w->t[i].weight;
    }
    return &w->t[w->n - 1];
}
