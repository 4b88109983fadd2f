/*
 * server/cmd_string.c - string commands: GET, SET and its options, MSET/MGET, counters,
 * APPEND, STRLEN.
 *
 * The command table that names them, and what the helpers they share do,
 * are in commands.c; cmd.h declares both.
 */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ======================================================================
 * Strings
 * ====================================================================== */

void cmd_get(ctx *x)
{
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r == 0) {
        srv_reply_null(x->out);
    } else if (r > 0) {
        reply_str(x->out, s);
    }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
void cmd_set(ctx *x)
{
    bool nx = false, xx = false, get = false, keepttl = false;
    int exp_kind = 0; // 1 EX, 2 PX, 3 EXAT, 4 PXAT
    size_t exp_arg = 0;
    for (size_t i = 3; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (arg_is(x, i, "NX") && !xx) {
            nx = true;
        } else if (arg_is(x, i, "XX") && !nx) {
            xx = true;
        } else if (arg_is(x, i, "GET")) {
            get = true;
        } else if (arg_is(x, i, "KEEPTTL") && exp_kind == 0) {
            keepttl = true;
        } else if (!keepttl && exp_kind == 0 && more &&
                   (arg_is(x, i, "EX") || arg_is(x, i, "PX") ||
                    arg_is(x, i, "EXAT") || arg_is(x, i, "PXAT"))) {
            exp_kind = arg_is(x, i, "EX") ? 1 : arg_is(x, i, "PX") ? 2 : arg_is(x, i, "EXAT") ? 3 : 4;
            exp_arg = ++i;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    int64_t when = -1;
    if (exp_kind != 0) {
        long long t;
        if (!arg_ll(x, exp_arg, &t)) {
            return;
        }
        int64_t now = srv_now_ms();
        bool secs = exp_kind == 1 || exp_kind == 3;
        bool rel = exp_kind <= 2;
        if (t <= 0 || (secs && t > INT64_MAX / 1000) ||
            (rel && (secs ? t * 1000 : t) > INT64_MAX - now)) {
            srv_reply_error(x->out, "ERR invalid expire time in 'set' command");
            return;
        }
        when = (secs ? t * 1000 : t) + (rel ? now : 0);
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (get && e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    if ((nx && e != NULL) || (xx && e == NULL)) {
        if (get) {
            if (e == NULL) {
                srv_reply_null(x->out);
            } else {
                reply_str(x->out, e->v.obj);
            }
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    if (get) {
        if (e == NULL) {
            srv_reply_null(x->out);
        } else {
            reply_str(x->out, e->v.obj); // before the value is replaced
        }
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    bool added = e == NULL;
    if (added) {
        e = srv_dict_add(&srv_ks.d, x->argv[1], x->argl[1], srv_hash_bytes(x->argv[1], x->argl[1]));
        if (e == NULL) {
            mw_decref(v);
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
    }
    srv_ks_replace(e, v, keepttl);
    mw_decref(v);
    if (added) {
        notify_key(x, SRV_NOTIFY_NEW, "new", 1);  // as srv_ks_set would
    }
    notify_key(x, SRV_NOTIFY_STRING, "set", 1);
    if (when >= 0) {
        srv_ks_set_expire(e, when);
        notify_key(x, SRV_NOTIFY_GENERIC, "expire", 1);
    }
    if (!get) {
        srv_buf_append(x->out, "+OK\r\n", 5);
    }
}

void cmd_setnx(ctx *x)
{
    if (srv_ks_find(x->argv[1], x->argl[1]) != NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], v, false);
    mw_decref(v);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    notify_key(x, SRV_NOTIFY_STRING, "set", 1);
    srv_reply_int(x->out, 1);
}

void cmd_getset(ctx *x)
{
    mw_object *old;
    int r = lookup(x, 1, &mw_str_type, &old);
    if (r < 0) {
        return;
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    if (r > 0) {
        reply_str(x->out, old);
    } else {
        srv_reply_null(x->out);
    }
    if (!srv_ks_set(x->argv[1], x->argl[1], v, false)) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        notify_key(x, SRV_NOTIFY_STRING, "set", 1);
    }
    mw_decref(v);
}

void cmd_mset(ctx *x)
{
    if (x->argc % 2 != 1) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'mset' command");
        return;
    }
    for (size_t i = 1; i < x->argc; i += 2) {
        mw_object *v = new_str(x, x->argv[i + 1], x->argl[i + 1]);
        if (v == NULL) {
            return;
        }
        bool ok = srv_ks_set(x->argv[i], x->argl[i], v, false);
        mw_decref(v);
        if (!ok) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        notify_key(x, SRV_NOTIFY_STRING, "set", i);
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

void cmd_mget(ctx *x)
{
    srv_reply_array(x->out, (long long)x->argc - 1);
    for (size_t i = 1; i < x->argc; i++) {
        srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
        if (e != NULL && mw_type_of(e->v.obj) == &mw_str_type) {
            srv_ks.hits++;
            reply_str(x->out, e->v.obj);
        } else {
            if (e == NULL) {
                srv_ks.misses++;
                notify_key(x, SRV_NOTIFY_KEY_MISS, "keymiss", i);
            }
            srv_reply_null(x->out);
        }
    }
}

static void incr_by(ctx *x, long long by)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    mw_object *s = e != NULL ? e->v.obj : NULL;
    int r = e != NULL;
    long long v = 0;
    if (r > 0) {
        size_t n;
        const char *p = mw_str_data(s, &n);
        if (!srv_str2ll(p, n, &v)) {
            srv_reply_error(x->out, E_NOTINT);
            return;
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        srv_reply_error(x->out, "ERR increment or decrement would overflow");
        return;
    }
    v += by;
    char tmp[24];
    size_t n = srv_ll2str(tmp, v);
    mw_object *ns = new_str(x, tmp, n);
    if (ns == NULL) {
        return;
    }
    bool ok = true;
    if (e != NULL) {
        srv_ks_replace(e, ns, true);
    } else {
        ok = srv_ks_set(x->argv[1], x->argl[1], ns, true);
    }
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    notify_key(x, SRV_NOTIFY_STRING, "incrby", 1);
    srv_reply_int(x->out, v);
}

void cmd_incr(ctx *x)
{
    incr_by(x, 1);
}

void cmd_decr(ctx *x)
{
    incr_by(x, -1);
}

void cmd_incrby(ctx *x)
{
    long long by;
    if (arg_ll(x, 2, &by)) {
        incr_by(x, by);
    }
}

void cmd_decrby(ctx *x)
{
    long long by;
    if (!arg_ll(x, 2, &by)) {
        return;
    }
    if (by == LLONG_MIN) {
        srv_reply_error(x->out, "ERR decrement would overflow");
        return;
    }
    incr_by(x, -by);
}

void cmd_append(ctx *x)
{
    mw_object *s;
    int r = lookup(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    size_t n = 0;
    const char *p = r > 0 ? mw_str_data(s, &n) : "";
    if ((long long)(n + x->argl[2]) > srv.cfg.bulk_max) {
        srv_reply_error(x->out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    // Strings are immutable runtime objects: APPEND builds a new one (O(n)).
    char *tmp = malloc(n + x->argl[2] + 1);
    if (tmp == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    memcpy(tmp, p, n);
    memcpy(tmp + n, x->argv[2], x->argl[2]);
    mw_object *ns = new_str(x, tmp, n + x->argl[2]);
    free(tmp);
    if (ns == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], ns, true);
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    notify_key(x, SRV_NOTIFY_STRING, "append", 1);
    srv_reply_int(x->out, (long long)(n + x->argl[2]));
}

void cmd_strlen(ctx *x)
{
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)mw_str_len(s) : 0);
    }
}

/* ======================================================================
 * Expiring writes, GETEX, GETDEL
 * ====================================================================== */

/* Redis's expire argument rule: a positive integer, in seconds or ms,
 * relative to now or absolute; an overflow is an invalid time.  *when is
 * the absolute time in ms.  False after replying the error. */
static bool expire_arg(ctx *x, size_t i, bool secs, bool rel, const char *name, int64_t *when)
{
    long long t;
    if (!arg_ll(x, i, &t)) {
        return false;
    }
    int64_t now = srv_now_ms();
    if (t <= 0 || (secs && t > INT64_MAX / 1000) ||
        (rel && (secs ? t * 1000 : t) > INT64_MAX - now)) {
        srv_reply_errorf(x->out, "ERR invalid expire time in '%s' command", name);
        return false;
    }
    *when = (secs ? t * 1000 : t) + (rel ? now : 0);
    return true;
}

/* Set key to argv[vi] with the absolute expiry when (ms). */
static void set_with_expire(ctx *x, size_t vi, int64_t when)
{
    mw_object *v = new_str(x, x->argv[vi], x->argl[vi]);
    if (v == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], v, false);
    mw_decref(v);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_ks_set_expire(srv_ks_find(x->argv[1], x->argl[1]), when);
    notify_key(x, SRV_NOTIFY_STRING, "set", 1);
    notify_key(x, SRV_NOTIFY_GENERIC, "expire", 1);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* SETEX key seconds value */
void cmd_setex(ctx *x)
{
    int64_t when;
    if (expire_arg(x, 2, true, true, "setex", &when)) {
        set_with_expire(x, 3, when);
    }
}

/* PSETEX key milliseconds value */
void cmd_psetex(ctx *x)
{
    int64_t when;
    if (expire_arg(x, 2, false, true, "psetex", &when)) {
        set_with_expire(x, 3, when);
    }
}

/* GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: GET that also sets or
 * clears the expiry.  An absolute time already past deletes the key after
 * the value is read, as Redis does. */
void cmd_getex(ctx *x)
{
    int kind = 0; // 1 EX, 2 PX, 3 EXAT, 4 PXAT, 5 PERSIST
    size_t targ = 0;
    for (size_t i = 2; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (kind == 0 && arg_is(x, i, "PERSIST")) {
            kind = 5;
        } else if (kind == 0 && more &&
                   (arg_is(x, i, "EX") || arg_is(x, i, "PX") ||
                    arg_is(x, i, "EXAT") || arg_is(x, i, "PXAT"))) {
            kind = arg_is(x, i, "EX") ? 1 : arg_is(x, i, "PX") ? 2 : arg_is(x, i, "EXAT") ? 3 : 4;
            targ = ++i;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    int64_t when = -1;
    if (kind >= 1 && kind <= 4 &&
        !expire_arg(x, targ, kind == 1 || kind == 3, kind <= 2, "getex", &when)) {
        return;
    }
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_null(x->out);
        return;
    }
    reply_str(x->out, s);
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (kind == 5) {
        if (e->expire >= 0) {
            srv_ks_set_expire(e, -1);
            notify_key(x, SRV_NOTIFY_GENERIC, "persist", 1);
        }
    } else if (kind != 0) {
        if (when <= srv_now_ms()) {
            srv_ks_remove(e);
            notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
        } else {
            srv_ks_set_expire(e, when);
            notify_key(x, SRV_NOTIFY_GENERIC, "expire", 1);
        }
    }
}

/* GETDEL key */
void cmd_getdel(ctx *x)
{
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_null(x->out);
        return;
    }
    reply_str(x->out, s);
    srv_ks_del(x->argv[1], x->argl[1]);
    notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
}

/* MSETNX key value [key value ...]: all or nothing; in sharded mode every
 * key must be in one slot (the table routes it as a one-slot command). */
void cmd_msetnx(ctx *x)
{
    if (x->argc % 2 != 1) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'msetnx' command");
        return;
    }
    for (size_t i = 1; i < x->argc; i += 2) {
        if (srv_ks_find(x->argv[i], x->argl[i]) != NULL) {
            srv_reply_int(x->out, 0);
            return;
        }
    }
    for (size_t i = 1; i < x->argc; i += 2) {
        mw_object *v = new_str(x, x->argv[i + 1], x->argl[i + 1]);
        if (v == NULL) {
            return;
        }
        bool ok = srv_ks_set(x->argv[i], x->argl[i], v, false);
        mw_decref(v);
        if (!ok) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        notify_key(x, SRV_NOTIFY_STRING, "set", i);
    }
    srv_reply_int(x->out, 1);
}

/* ======================================================================
 * INCRBYFLOAT
 * ====================================================================== */


/* INCRBYFLOAT key increment: the result is stored and replied as Redis
 * prints it, 17 digits after the point with trailing zeros dropped. */
void cmd_incrbyfloat(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    long double v = 0, by;
    if (e != NULL) {
        size_t n;
        const char *p = mw_str_data(e->v.obj, &n);
        if (!parse_long_double(p, n, &v)) {
            srv_reply_error(x->out, E_NOTFLOAT);
            return;
        }
    }
    if (!parse_long_double(x->argv[2], x->argl[2], &by)) {
        srv_reply_error(x->out, E_NOTFLOAT);
        return;
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        srv_reply_error(x->out, "ERR increment would produce NaN or Infinity");
        return;
    }
    char buf[5 * 1024 + 64];
    int len = snprintf(buf, sizeof buf, "%.17Lf", v);
    if (len <= 0 || (size_t)len >= sizeof buf) {
        srv_reply_error(x->out, E_NOTFLOAT);
        return;
    }
    if (strchr(buf, '.') != NULL) {
        while (len > 0 && buf[len - 1] == '0') {
            len--;
        }
        if (len > 0 && buf[len - 1] == '.') {
            len--;
        }
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    mw_object *ns = new_str(x, buf, (size_t)len);
    if (ns == NULL) {
        return;
    }
    bool ok = true;
    if (e != NULL) {
        srv_ks_replace(e, ns, true);
    } else {
        ok = srv_ks_set(x->argv[1], x->argl[1], ns, true);
    }
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    notify_key(x, SRV_NOTIFY_STRING, "incrbyfloat", 1);
    srv_reply_bulk(x->out, buf, (size_t)len);
}

/* ======================================================================
 * GETRANGE, SETRANGE
 * ====================================================================== */

/* GETRANGE key start end (and SUBSTR): inclusive, negative from the end. */
void cmd_getrange(ctx *x)
{
    long long start, end;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &end)) {
        return;
    }
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    size_t n = 0;
    const char *p = r > 0 ? mw_str_data(s, &n) : "";
    long long len = (long long)n;
    if (start < 0 && end < 0 && start > end) {
        srv_reply_bulk(x->out, "", 0);
        return;
    }
    if (start < 0) {
        start += len;
    }
    if (end < 0) {
        end += len;
    }
    if (start < 0) {
        start = 0;
    }
    if (end < 0) {
        end = 0;
    }
    if (end >= len) {
        end = len - 1;
    }
    if (len == 0 || start > end) {
        srv_reply_bulk(x->out, "", 0);
        return;
    }
    srv_reply_bulk(x->out, p + start, (size_t)(end - start + 1));
}

/* Replace the string at key (entry e, or a new key when NULL) with n
 * bytes from buf, keeping its expiry.  False after replying OOM. */
bool str_store(ctx *x, srv_entry *e, const char *buf, size_t n)
{
    mw_object *ns = new_str(x, buf, n);
    if (ns == NULL) {
        return false;
    }
    bool ok = true;
    if (e != NULL) {
        srv_ks_replace(e, ns, true);
    } else {
        ok = srv_ks_set(x->argv[1], x->argl[1], ns, false);
    }
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
    }
    return ok;
}

/* SETRANGE key offset value: overwrite from offset, zero-padding. */
void cmd_setrange(ctx *x)
{
    long long off;
    if (!arg_ll(x, 2, &off)) {
        return;
    }
    if (off < 0) {
        srv_reply_error(x->out, "ERR offset is out of range");
        return;
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    size_t n = 0;
    const char *p = e != NULL ? mw_str_data(e->v.obj, &n) : "";
    size_t vl = x->argl[3];
    if (vl == 0) {
        srv_reply_int(x->out, (long long)n); // nothing to write: no key made
        return;
    }
    if (off > srv.cfg.bulk_max - (long long)vl) {
        srv_reply_error(x->out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    size_t nl = (size_t)off + vl > n ? (size_t)off + vl : n;
    // Strings are immutable runtime objects: a new one is built (O(n)).
    char *tmp = malloc(nl ? nl : 1);
    if (tmp == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    memcpy(tmp, p, n);
    if ((size_t)off > n) {
        memset(tmp + n, 0, (size_t)off - n);
    }
    memcpy(tmp + off, x->argv[3], vl);
    bool ok = str_store(x, e, tmp, nl);
    free(tmp);
    if (ok) {
        notify_key(x, SRV_NOTIFY_STRING, "setrange", 1);
        srv_reply_int(x->out, (long long)nl);
    }
}

/* One match of LCS IDX: [a_start, a_end] of the first string against
 * [b_start, b_end] of the second. */
typedef struct lcs_range {
    uint32_t a0, a1, b0, b1;
} lcs_range;

/* The string value at argv[i] for LCS ("" when missing); false when it
 * holds another type. */
static bool lcs_arg(ctx *x, size_t i, const char **p, size_t *n)
{
    srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
    if (e == NULL) {
        srv_ks.misses++;
        notify_key(x, SRV_NOTIFY_KEY_MISS, "keymiss", i);
        *p = "";
        *n = 0;
        return true;
    }
    if (mw_type_of(e->v.obj) != &mw_str_type) {
        return false;
    }
    srv_ks.hits++;
    *p = mw_str_data(e->v.obj, n);
    return true;
}

/*
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
 * common subsequence, by the textbook dynamic programme over a table of
 * (alen+1)*(blen+1) lengths (refused past proto-max-bulk-len, as Redis
 * does), then one walk back from its far corner that spells the sequence
 * backwards and finds the contiguous matches, last first.
 */
void cmd_lcs(ctx *x)
{
    const char *a, *b;
    size_t alen, blen;
    if (!lcs_arg(x, 1, &a, &alen) || !lcs_arg(x, 2, &b, &blen)) {
        srv_reply_error(x->out, "ERR The specified keys must contain string values");
        return;
    }
    bool getlen = false, getidx = false, withlen = false;
    long long minlen = 0;
    for (size_t i = 3; i < x->argc; i++) {
        if (arg_is(x, i, "IDX")) {
            getidx = true;
        } else if (arg_is(x, i, "LEN")) {
            getlen = true;
        } else if (arg_is(x, i, "WITHMATCHLEN")) {
            withlen = true;
        } else if (arg_is(x, i, "MINMATCHLEN") && i + 1 < x->argc) {
            if (!arg_ll(x, ++i, &minlen)) {
                return;
            }
            if (minlen < 0) {
                minlen = 0;
            }
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if (getidx && getlen) {
        srv_reply_error(x->out, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        srv_reply_error(x->out, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells > (unsigned long long)srv.cfg.bulk_max / sizeof(uint32_t)) {
        srv_reply_error(x->out, "ERR Insufficient memory, transient memory for LCS exceeds "
                                "proto-max-bulk-len");
        return;
    }
    uint32_t *t = malloc((size_t)cells * sizeof *t);
    if (t == NULL) {
        srv_reply_error(x->out, "ERR Insufficient memory, failed allocating transient memory "
                                "for LCS");
        return;
    }
#define LCS_AT(i, j) t[(size_t)(i) * (blen + 1) + (j)]
    for (size_t i = 0; i <= alen; i++) {
        for (size_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) {
                LCS_AT(i, j) = 0;
            } else if (a[i - 1] == b[j - 1]) {
                LCS_AT(i, j) = LCS_AT(i - 1, j - 1) + 1;
            } else {
                uint32_t up = LCS_AT(i - 1, j), left = LCS_AT(i, j - 1);
                LCS_AT(i, j) = up > left ? up : left;
            }
        }
    }
    uint32_t len = LCS_AT(alen, blen);
    if (getlen) {
        srv_reply_int(x->out, len);
        free(t);
        return;
    }
    char *seq = getidx ? NULL : malloc(len + 1u);
    lcs_range *ranges = getidx ? malloc(((size_t)len + 1) * sizeof *ranges) : NULL;
    if ((getidx && ranges == NULL) || (!getidx && seq == NULL)) {
        free(t);
        free(seq);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t nranges = 0, at = len;
    bool open = false;            // a match is being extended backwards
    lcs_range cur = {0, 0, 0, 0};
    size_t i = alen, j = blen;
    while (i > 0 && j > 0) {
        bool emit = false;
        if (a[i - 1] == b[j - 1]) {
            if (seq != NULL) {
                seq[--at] = a[i - 1];
            }
            if (!open) {
                cur = (lcs_range){(uint32_t)(i - 1), (uint32_t)(i - 1), (uint32_t)(j - 1),
                                  (uint32_t)(j - 1)};
                open = true;
            } else if (cur.a0 == i && cur.b0 == j) {
                cur.a0--;
                cur.b0--;
            } else {
                emit = true;
            }
            if (cur.a0 == 0 || cur.b0 == 0) {
                emit = true;   // at the start of a string: the walk ends here
            }
            i--;
            j--;
        } else {
            if (LCS_AT(i - 1, j) > LCS_AT(i, j - 1)) {
                i--;
            } else {
                j--;
            }
            emit = open;
        }
        if (emit && open) {
            uint32_t mlen = cur.a1 - cur.a0 + 1;
            if (ranges != NULL && (minlen == 0 || mlen >= minlen)) {
                ranges[nranges++] = cur;
            }
            open = false;
        }
    }
#undef LCS_AT
    free(t);
    if (!getidx) {
        srv_reply_bulk(x->out, seq, len);
        free(seq);
        return;
    }
    srv_reply_map(x->out, 2);
    srv_reply_bulk(x->out, "matches", 7);
    srv_reply_array(x->out, (long long)nranges);
    for (size_t k = 0; k < nranges; k++) {
        srv_reply_array(x->out, withlen ? 3 : 2);
        srv_reply_array(x->out, 2);
        srv_reply_int(x->out, ranges[k].a0);
        srv_reply_int(x->out, ranges[k].a1);
        srv_reply_array(x->out, 2);
        srv_reply_int(x->out, ranges[k].b0);
        srv_reply_int(x->out, ranges[k].b1);
        if (withlen) {
            srv_reply_int(x->out, ranges[k].a1 - ranges[k].a0 + 1);
        }
    }
    srv_reply_bulk(x->out, "len", 3);
    srv_reply_int(x->out, len);
    free(ranges);
}
