/*
 * server/cmd_bitmap.c - bitmap commands on strings: SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
 *
 * A bitmap is a string read as bits, the most significant bit of byte 0
 * being bit 0, as in Redis.  Strings are immutable runtime objects, so a
 * write (SETBIT, BITOP) builds the new string and replaces the value,
 * keeping the key's expiry for SETBIT and clearing it for BITOP's
 * destination, as Redis does.  Reads count with a byte table and skip
 * whole bytes where they can.  Offsets are checked against the largest
 * string a client may send (proto-max-bulk-len), Redis's limit too.
 *
 * The command table that names them, and what the helpers they share do,
 * are in commands.c; cmd.h declares both.
 */
#include "cmd.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SETBIT/GETBIT's offset: 0 <= offset, offset / 8 < proto-max-bulk-len. */
static bool bit_offset(ctx *x, size_t i, long long *off)
{
    long long v;
    if (!srv_str2ll(x->argv[i], x->argl[i], &v) || v < 0 || (v >> 3) >= srv.cfg.bulk_max) {
        srv_reply_error(x->out, "ERR bit offset is not an integer or out of range");
        return false;
    }
    *off = v;
    return true;
}

/* SETBIT key offset 0|1: the old bit. */
void cmd_setbit(ctx *x)
{
    long long off;
    if (!bit_offset(x, 2, &off)) {
        return;
    }
    if (x->argl[3] != 1 || (x->argv[3][0] != '0' && x->argv[3][0] != '1')) {
        srv_reply_error(x->out, "ERR bit is not an integer or out of range");
        return;
    }
    int on = x->argv[3][0] == '1';
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    size_t n = 0;
    const char *p = e != NULL ? mw_str_data(e->v.obj, &n) : "";
    size_t byte = (size_t)(off >> 3);
    unsigned mask = 1u << (7 - (off & 7));
    size_t nl = byte + 1 > n ? byte + 1 : n;
    int old = byte < n && (p[byte] & mask) != 0;
    if (old == on && byte < n) {
        srv_reply_int(x->out, old); // nothing changes
        return;
    }
    char *tmp = malloc(nl);
    if (tmp == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    memcpy(tmp, p, n);
    memset(tmp + n, 0, nl - n);
    tmp[byte] = (char)(on ? (tmp[byte] | mask) : (tmp[byte] & ~mask));
    bool ok = str_store(x, e, tmp, nl);
    free(tmp);
    if (ok) {
        notify_key(x, SRV_NOTIFY_STRING, "setbit", 1);
        srv_reply_int(x->out, old);
    }
}

/* GETBIT key offset */
void cmd_getbit(ctx *x)
{
    long long off;
    if (!bit_offset(x, 2, &off)) {
        return;
    }
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    size_t n = 0;
    const unsigned char *p = r > 0 ? (const unsigned char *)mw_str_data(s, &n) : NULL;
    size_t byte = (size_t)(off >> 3);
    srv_reply_int(x->out, byte < n && (p[byte] & (1u << (7 - (off & 7)))) != 0);
}

/* Redis's range rule for BITCOUNT and BITPOS over len units (bytes or
 * bits): negative from the end, clamped; false if it is empty. */
static bool bit_range(long long len, long long *start, long long *end)
{
    if (*start < 0 && *end < 0 && *start > *end) {
        return false;
    }
    if (*start < 0) {
        *start += len;
    }
    if (*end < 0) {
        *end += len;
    }
    if (*start < 0) {
        *start = 0;
    }
    if (*end < 0) {
        *end = 0;
    }
    if (*end >= len) {
        *end = len - 1;
    }
    return *start <= *end;
}

static int bit_at(const unsigned char *p, long long i)
{
    return (p[i >> 3] >> (7 - (i & 7))) & 1;
}

/* BITCOUNT key [start end [BYTE|BIT]] */
void cmd_bitcount(ctx *x)
{
    long long start = 0, end = -1;
    bool bits = false;
    if (x->argc == 4 || x->argc == 5) {
        if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &end)) {
            return;
        }
        if (x->argc == 5) {
            if (arg_is(x, 4, "BIT")) {
                bits = true;
            } else if (!arg_is(x, 4, "BYTE")) {
                srv_reply_error(x->out, E_SYNTAX);
                return;
            }
        }
    } else if (x->argc != 2) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    size_t n;
    const unsigned char *p = (const unsigned char *)mw_str_data(s, &n);
    long long len = bits ? (long long)n * 8 : (long long)n;
    if (!bit_range(len, &start, &end)) {
        srv_reply_int(x->out, 0);
        return;
    }
    long long first = bits ? start : start * 8, last = bits ? end : end * 8 + 7;
    long long count = 0, i = first;
    for (; i <= last && (i & 7) != 0; i++) {
        count += bit_at(p, i);
    }
    for (; i + 7 <= last; i += 8) {
        count += __builtin_popcount(p[i >> 3]);
    }
    for (; i <= last; i++) {
        count += bit_at(p, i);
    }
    srv_reply_int(x->out, count);
}

/* BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to bit.  A
 * search for 0 without an explicit end goes on past the string, whose
 * missing bytes count as zeros. */
void cmd_bitpos(ctx *x)
{
    long long start = 0, end = -1;
    bool bits = false, end_given = false;
    long long bit;
    if (!arg_ll(x, 2, &bit)) {
        return;
    }
    if (bit != 0 && bit != 1) {
        srv_reply_error(x->out, "ERR The bit argument must be 1 or 0.");
        return;
    }
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, bit ? -1 : 0);
        }
        return;
    }
    if (x->argc >= 4 && !arg_ll(x, 3, &start)) {
        return;
    }
    if (x->argc >= 5) {
        if (!arg_ll(x, 4, &end)) {
            return;
        }
        end_given = true;
    }
    if (x->argc == 6) {
        if (arg_is(x, 5, "BIT")) {
            bits = true;
        } else if (!arg_is(x, 5, "BYTE")) {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    } else if (x->argc > 6) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t n;
    const unsigned char *p = (const unsigned char *)mw_str_data(s, &n);
    long long len = bits ? (long long)n * 8 : (long long)n;
    if (!bit_range(len, &start, &end)) {
        srv_reply_int(x->out, -1);
        return;
    }
    long long first = bits ? start : start * 8, last = bits ? end : end * 8 + 7;
    unsigned char skip = bit ? 0x00 : 0xff;
    for (long long i = first; i <= last;) {
        if ((i & 7) == 0 && i + 7 <= last && p[i >> 3] == skip) {
            i += 8;
            continue;
        }
        if (bit_at(p, i) == bit) {
            srv_reply_int(x->out, i);
            return;
        }
        i++;
    }
    srv_reply_int(x->out, bit == 0 && !end_given ? last + 1 : -1);
}

/* BITOP AND|OR|XOR|NOT destkey key [key ...]: the result is as long as the
 * longest source, shorter ones read as zero-padded; an empty result
 * deletes destkey.  The reply is the result's length. */
void cmd_bitop(ctx *x)
{
    int op = arg_is(x, 1, "AND") ? 1 : arg_is(x, 1, "OR") ? 2 : arg_is(x, 1, "XOR") ? 3
           : arg_is(x, 1, "NOT") ? 4 : 0;
    if (op == 0) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t nsrc = x->argc - 3;
    if (op == 4 && nsrc != 1) {
        srv_reply_error(x->out, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    const unsigned char **src = malloc(nsrc * sizeof *src);
    size_t *len = malloc(nsrc * sizeof *len);
    if (src == NULL || len == NULL) {
        free(src);
        free(len);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t max = 0;
    for (size_t k = 0; k < nsrc; k++) {
        mw_object *s;
        int r = lookup(x, 3 + k, &mw_str_type, &s);
        if (r < 0) {
            free(src);
            free(len);
            return;
        }
        src[k] = r > 0 ? (const unsigned char *)mw_str_data(s, &len[k]) : NULL;
        if (r == 0) {
            len[k] = 0;
        }
        if (len[k] > max) {
            max = len[k];
        }
    }
    unsigned char *out = max > 0 ? malloc(max) : NULL;
    if (max > 0 && out == NULL) {
        free(src);
        free(len);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    for (size_t j = 0; j < max; j++) {
        unsigned char v = j < len[0] ? src[0][j] : 0;
        if (op == 4) {
            v = (unsigned char)~v;
        }
        for (size_t k = 1; k < nsrc; k++) {
            unsigned char b = j < len[k] ? src[k][j] : 0;
            v = op == 1 ? (v & b) : op == 2 ? (v | b) : (unsigned char)(v ^ b);
        }
        out[j] = v;
    }
    free(src);
    free(len);
    if (max == 0) {
        if (srv_ks_del(x->argv[2], x->argl[2])) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", 2);
        }
        srv_reply_int(x->out, 0);
        return;
    }
    mw_object *ns = new_str(x, (const char *)out, max);
    free(out);
    if (ns == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[2], x->argl[2], ns, false);
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    notify_key(x, SRV_NOTIFY_STRING, "set", 2);
    srv_reply_int(x->out, (long long)max);
}

/* ---------------------------------------------------------------- BITFIELD */

/* One GET, SET or INCRBY of BITFIELD, parsed before any runs. */
typedef struct bf_op {
    uint64_t offset;    /* first bit */
    long long arg;      /* SET's value, INCRBY's increment */
    int bits;           /* 1..64 signed, 1..63 unsigned */
    bool sign;
    char op;            /* 'g', 's', 'i' */
    char overflow;      /* 'w'rap, 's'at, 'f'ail: the OVERFLOW before it */
} bf_op;

/* "i16", "u8": false after replying the error. */
static bool bf_type(ctx *x, size_t i, bf_op *op)
{
    const char *p = x->argv[i];
    long long bits;
    if (x->argl[i] < 2 || (p[0] != 'i' && p[0] != 'u') ||
        !srv_str2ll(p + 1, x->argl[i] - 1, &bits) || bits < 1 || bits > (p[0] == 'i' ? 64 : 63)) {
        srv_reply_error(x->out, "ERR Invalid bitfield type. Use something like i16 u8. "
                                "Note that u64 is not supported but i64 is.");
        return false;
    }
    op->sign = p[0] == 'i';
    op->bits = (int)bits;
    return true;
}

/* A bit offset, or "#N" for the N-th field of this type's width. */
static bool bf_offset(ctx *x, size_t i, bf_op *op)
{
    const char *p = x->argv[i];
    size_t n = x->argl[i];
    bool field = n > 0 && p[0] == '#';
    long long v;
    if (!srv_str2ll(p + field, n - field, &v) || v < 0 ||
        (field && v > LLONG_MAX / op->bits) ||
        ((field ? v * op->bits : v) >> 3) >= srv.cfg.bulk_max) {
        srv_reply_error(x->out, "ERR bit offset is not an integer or out of range");
        return false;
    }
    op->offset = (uint64_t)(field ? v * op->bits : v);
    return true;
}

/* The bits [off, off+bits) of p (bit 0 the top bit of byte 0), as an
 * unsigned number; p holds every byte they touch. */
static uint64_t bf_read(const unsigned char *p, uint64_t off, int bits)
{
    uint64_t v = 0;
    for (int j = 0; j < bits; j++, off++) {
        v = (v << 1) | ((p[off >> 3] >> (7 - (off & 7))) & 1);
    }
    return v;
}

static void bf_write(unsigned char *p, uint64_t off, int bits, uint64_t v)
{
    for (int j = bits - 1; j >= 0; j--, off++) {
        unsigned mask = 1u << (7 - (off & 7));
        if ((v >> j) & 1) {
            p[off >> 3] |= (unsigned char)mask;
        } else {
            p[off >> 3] &= (unsigned char)~mask;
        }
    }
}

/* The field's bits of v read as this op's type. */
static long long bf_value(const bf_op *op, uint64_t v)
{
    if (op->sign && op->bits < 64 && (v >> (op->bits - 1)) & 1) {
        v |= UINT64_MAX << op->bits;  // sign-extend
    }
    return (long long)v;
}

/* Fit the exact result sum into the field under the op's overflow rule.
 * *stored is what to write; false when FAIL refuses it. */
static bool bf_fit(const bf_op *op, __int128 sum, uint64_t *stored)
{
    __int128 lo = op->sign ? -((__int128)1 << (op->bits - 1)) : 0;
    __int128 hi = op->sign ? ((__int128)1 << (op->bits - 1)) - 1 : ((__int128)1 << op->bits) - 1;
    uint64_t mask = op->bits == 64 ? UINT64_MAX : (UINT64_C(1) << op->bits) - 1;
    if (sum > hi || sum < lo) {
        if (op->overflow == 'f') {
            return false;
        }
        if (op->overflow == 's') {
            sum = sum > hi ? hi : lo;
        }
    }
    *stored = (uint64_t)sum & mask;  // WRAP keeps the low bits, two's complement
    return true;
}

/* Parse BITFIELD's operations from argument 2 on: the count, or -1 after
 * replying the error.  *write says whether any is a SET or INCRBY, *top
 * the highest bit a write reaches. */
static long bf_parse(ctx *x, bf_op *ops, bool *write, uint64_t *top)
{
    long n = 0;
    char overflow = 'w';
    for (size_t j = 2; j < x->argc;) {
        size_t left = x->argc - j - 1;
        bf_op *op = &ops[n];
        if (arg_is(x, j, "overflow") && left >= 1) {
            if (arg_is(x, j + 1, "wrap") || arg_is(x, j + 1, "sat") || arg_is(x, j + 1, "fail")) {
                overflow = (char)tolower((unsigned char)x->argv[j + 1][0]);
            } else {
                srv_reply_error(x->out, "ERR Invalid OVERFLOW type specified");
                return -1;
            }
            j += 2;
            continue;
        }
        if (arg_is(x, j, "get") && left >= 2) {
            op->op = 'g';
        } else if (arg_is(x, j, "set") && left >= 3) {
            op->op = 's';
        } else if (arg_is(x, j, "incrby") && left >= 3) {
            op->op = 'i';
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return -1;
        }
        if (!bf_type(x, j + 1, op) || !bf_offset(x, j + 2, op)) {
            return -1;
        }
        op->overflow = overflow;
        if (op->op != 'g') {
            if (!srv_str2ll(x->argv[j + 3], x->argl[j + 3], &op->arg)) {
                srv_reply_error(x->out, E_NOTINT);
                return -1;
            }
            *write = true;
            if (op->offset + op->bits - 1 > *top) {
                *top = op->offset + op->bits - 1;
            }
        }
        j += op->op == 'g' ? 3 : 4;
        n++;
    }
    return n;
}

/* BITFIELD key [GET type offset] [SET type offset value]
 *              [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...
 * Every operation runs on one copy of the string, in order; the copy
 * replaces the value if a write changed or grew it. */
static void bitfield(ctx *x, bool readonly)
{
    bf_op *ops = malloc(sizeof *ops * (x->argc / 3 + 1));
    bool write = false;
    uint64_t top = 0;
    long n = ops != NULL ? bf_parse(x, ops, &write, &top) : -1;
    if (ops == NULL) {
        srv_reply_error(x->out, E_NOMEM);
    }
    if (n < 0) {
        free(ops);
        return;
    }
    if (write && readonly) {
        srv_reply_error(x->out, "ERR BITFIELD_RO only supports the GET subcommand");
        free(ops);
        return;
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        free(ops);
        return;
    }
    size_t len = 0;
    const char *p = e != NULL ? mw_str_data(e->v.obj, &len) : "";
    // The copy covers every write and 8 bytes of zeros past the string,
    // so a read past its end needs no test.
    size_t need = write && (size_t)(top >> 3) + 1 > len ? (size_t)(top >> 3) + 1 : len;
    uint64_t read_top = 0;
    for (long i = 0; i < n; i++) {
        if (ops[i].offset + ops[i].bits > read_top) {
            read_top = ops[i].offset + ops[i].bits;
        }
    }
    size_t cap = ((size_t)(read_top >> 3) + 9 > need ? (size_t)(read_top >> 3) + 9 : need);
    unsigned char *buf = calloc(1, cap);
    long long *res = malloc(sizeof *res * (size_t)(n + 1));
    bool *null = malloc(sizeof *null * (size_t)(n + 1));
    if (buf == NULL || res == NULL || null == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        goto out;
    }
    memcpy(buf, p, len);
    bool changed = need > len;
    for (long i = 0; i < n; i++) {
        const bf_op *op = &ops[i];
        uint64_t old = bf_read(buf, op->offset, op->bits);
        long long oldv = bf_value(op, old);
        null[i] = false;
        if (op->op == 'g') {
            res[i] = oldv;
            continue;
        }
        __int128 sum = op->op == 'i' ? (__int128)oldv + op->arg
                       : op->sign    ? (__int128)op->arg
                                     : (__int128)(uint64_t)op->arg;
        uint64_t stored;
        if (!bf_fit(op, sum, &stored)) {
            null[i] = true;
            continue;
        }
        bf_write(buf, op->offset, op->bits, stored);
        changed |= stored != old;
        res[i] = op->op == 'i' ? bf_value(op, stored) : oldv;
    }
    if (write && (changed || e == NULL)) {
        if (!str_store(x, e, (const char *)buf, need)) {
            goto out;
        }
        if (changed) {
            notify_key(x, SRV_NOTIFY_STRING, "setbit", 1);
        }
    }
    srv_reply_array(x->out, n);
    for (long i = 0; i < n; i++) {
        if (null[i]) {
            srv_reply_null(x->out);
        } else {
            srv_reply_int(x->out, res[i]);
        }
    }
out:
    free(buf);
    free(res);
    free(null);
    free(ops);
}

void cmd_bitfield(ctx *x)
{
    bitfield(x, false);
}

void cmd_bitfield_ro(ctx *x)
{
    bitfield(x, true);
}
