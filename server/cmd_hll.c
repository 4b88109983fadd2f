/*
 * server/cmd_hll.c - HyperLogLog: PFADD, PFCOUNT, PFMERGE.
 *
 * A HyperLogLog estimates how many distinct elements were added to it
 * from m = 16384 registers: an element's 64-bit hash picks a register
 * with its low 14 bits, and the register keeps the longest run seen of
 * trailing zero bits (plus one) in the other 50.  The estimate, from the
 * histogram of register values, is the improved estimator of O. Ertl
 * ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017), which needs no bias table and no switch to linear counting for
 * small sets; its standard error is 1.04 / sqrt(m), about 0.81%, what
 * Redis promises.
 *
 * As in Redis, the value is a string (TYPE says "string", GET returns its
 * bytes, and DEL, RENAME, COPY and expiry apply): a 16-byte header,
 * "HYLL" then the encoding byte (0, dense) and 11 unused bytes, then the
 * 16384 registers of 6 bits packed little-endian (register i occupies
 * bits 6i .. 6i+5 of the array), 12288 bytes; 12304 in all.  Only this
 * dense form is written or read (Redis's sparse form, and so the bytes of
 * a Redis HyperLogLog, are not), so a string of any other shape is
 * refused with Redis's WRONGTYPE text for it.  Strings are immutable
 * runtime objects: a PFADD that changes a register builds the new string.
 *
 * The hash is FNV-1a over the element followed by a 64-bit avalanche
 * finalizer, fixed (unseeded) so that a HyperLogLog's bytes mean the same
 * in every run.
 *
 * The command table that names them, and what the helpers they share do,
 * are in commands.c; cmd.h declares both.
 */
#include "cmd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HLL_P 14
#define HLL_Q (64 - HLL_P)          /* hash bits that feed the zero runs */
#define HLL_M (1u << HLL_P)         /* registers */
#define HLL_HDR 16
#define HLL_REGBYTES (HLL_M * 6 / 8)
#define HLL_SIZE (HLL_HDR + HLL_REGBYTES)

static const char *const E_NOTHLL = "WRONGTYPE Key is not a valid HyperLogLog string value.";

static uint64_t hll_hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static unsigned reg_get(const unsigned char *r, unsigned i)
{
    size_t bit = (size_t)i * 6, b = bit >> 3;
    unsigned sh = bit & 7;
    unsigned v = r[b] >> sh;
    if (sh > 2) {
        v |= (unsigned)r[b + 1] << (8 - sh);
    }
    return v & 63;
}

static void reg_set(unsigned char *r, unsigned i, unsigned v)
{
    size_t bit = (size_t)i * 6, b = bit >> 3;
    unsigned sh = bit & 7;
    r[b] = (unsigned char)((r[b] & ~(63u << sh)) | (v << sh));
    if (sh > 2) {
        unsigned hi = 8 - sh;
        r[b + 1] = (unsigned char)((r[b + 1] & ~(63u >> hi)) | (v >> hi));
    }
}

/* The register an element goes to and the value it offers it. */
static unsigned hll_pos(const char *p, size_t n, unsigned *value)
{
    uint64_t h = hll_hash(p, n);
    unsigned idx = (unsigned)(h & (HLL_M - 1));
    h >>= HLL_P;
    h |= 1ull << HLL_Q; // a run stops at bit Q at the latest: value <= Q + 1
    *value = (unsigned)__builtin_ctzll(h) + 1;
    return idx;
}

/* The string at argv[i] as registers: 1 (copied into regs), 0 missing
 * (regs untouched), -1 after replying WRONGTYPE. */
static int hll_load(ctx *x, size_t i, unsigned char *regs)
{
    mw_object *s;
    int r = lookup(x, i, &mw_str_type, &s);
    if (r <= 0) {
        return r;
    }
    size_t n;
    const char *p = mw_str_data(s, &n);
    if (n != HLL_SIZE || memcmp(p, "HYLL", 4) != 0 || p[4] != 0) {
        srv_reply_error(x->out, E_NOTHLL);
        return -1;
    }
    memcpy(regs, p + HLL_HDR, HLL_REGBYTES);
    return 1;
}

/* Store registers at argv[i] (a new string, the key's expiry kept). */
static bool hll_store(ctx *x, size_t i, const unsigned char *regs)
{
    char *buf = calloc(1, HLL_SIZE);
    if (buf == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return false;
    }
    memcpy(buf, "HYLL", 4);
    memcpy(buf + HLL_HDR, regs, HLL_REGBYTES);
    mw_object *ns = new_str(x, buf, HLL_SIZE);
    free(buf);
    if (ns == NULL) {
        return false;
    }
    srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
    bool ok = true;
    if (e != NULL) {
        srv_ks_replace(e, ns, true);
    } else {
        ok = srv_ks_set(x->argv[i], x->argl[i], ns, false);
    }
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
    }
    return ok;
}

static double hll_sigma(double x)
{
    if (x == 1.0) {
        return INFINITY;
    }
    double y = 1, z = x, zp;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x)
{
    if (x == 0.0 || x == 1.0) {
        return 0.0;
    }
    double y = 1, z = 1 - x, zp;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (zp != z);
    return z / 3;
}

static long long hll_estimate(const unsigned char *regs)
{
    unsigned hist[HLL_Q + 2] = {0};
    for (unsigned i = 0; i < HLL_M; i++) {
        unsigned v = reg_get(regs, i);
        hist[v > HLL_Q + 1 ? HLL_Q + 1 : v]++;
    }
    double m = HLL_M;
    double z = m * hll_tau((m - hist[HLL_Q + 1]) / m);
    for (int k = HLL_Q; k >= 1; k--) {
        z = 0.5 * (z + hist[k]);
    }
    z += m * hll_sigma(hist[0] / m);
    double alpha = 0.5 / log(2.0);
    return llround(alpha * m * m / z);
}

/* PFADD key [element ...]: 1 if an estimate may have changed (a register
 * grew, or the key was created), else 0. */
void cmd_pfadd(ctx *x)
{
    unsigned char *regs = calloc(1, HLL_REGBYTES);
    if (regs == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    int r = hll_load(x, 1, regs);
    if (r < 0) {
        free(regs);
        return;
    }
    bool changed = r == 0;
    for (size_t i = 2; i < x->argc; i++) {
        unsigned v;
        unsigned idx = hll_pos(x->argv[i], x->argl[i], &v);
        if (reg_get(regs, idx) < v) {
            reg_set(regs, idx, v);
            changed = true;
        }
    }
    if (changed && !hll_store(x, 1, regs)) {
        free(regs);
        return;
    }
    free(regs);
    if (changed) {
        notify_key(x, SRV_NOTIFY_STRING, "pfadd", 1);
    }
    srv_reply_int(x->out, changed);
}

/* Merge the registers of src into dst (the larger of each pair). */
static void hll_union(unsigned char *dst, const unsigned char *src)
{
    for (unsigned i = 0; i < HLL_M; i++) {
        unsigned a = reg_get(dst, i), b = reg_get(src, i);
        if (b > a) {
            reg_set(dst, i, b);
        }
    }
}

/* Load the union of the HyperLogLogs at argv[from..] into acc (zeroed);
 * false after replying an error. */
static bool hll_load_union(ctx *x, size_t from, unsigned char *acc, unsigned char *tmp)
{
    for (size_t i = from; i < x->argc; i++) {
        int r = hll_load(x, i, tmp);
        if (r < 0) {
            return false;
        }
        if (r > 0) {
            hll_union(acc, tmp);
        }
    }
    return true;
}

/* PFCOUNT key [key ...]: the estimated cardinality of their union;
 * missing keys count as empty.  Multi-key calls need one slot (sharded). */
void cmd_pfcount(ctx *x)
{
    unsigned char *acc = calloc(2, HLL_REGBYTES);
    if (acc == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (hll_load_union(x, 1, acc, acc + HLL_REGBYTES)) {
        srv_reply_int(x->out, hll_estimate(acc));
    }
    free(acc);
}

/* PFMERGE destkey [sourcekey ...]: destkey becomes the union of itself
 * and the sources (created if missing). */
void cmd_pfmerge(ctx *x)
{
    unsigned char *acc = calloc(2, HLL_REGBYTES);
    if (acc == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (hll_load_union(x, 1, acc, acc + HLL_REGBYTES) && hll_store(x, 1, acc)) {
        notify_key(x, SRV_NOTIFY_STRING, "pfadd", 1);  // Redis's name for a merge too
        srv_buf_append(x->out, "+OK\r\n", 5);
    }
    free(acc);
}
