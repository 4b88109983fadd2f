/*
 * server/cmd_bitmap.c - bitmap commands on strings: SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP.
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
