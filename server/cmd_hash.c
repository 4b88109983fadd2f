/*
 * server/cmd_hash.c - hash commands (HINCRBYFLOAT in Redis's long double
 * arithmetic and format among them), and REF.SET/REF.GET, the references between values
 * that let values form cycles.
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
 * Hashes (and references between values)
 * ====================================================================== */

/* Store value (a new reference is taken) in field; 1 new, 0 updated, -1 OOM. */
static int hash_store(srv_hash *h, const char *f, size_t n, mw_object *value)
{
    // Lazy tracking (keyspace.c): told before the store.  It cannot fail
    // here: the hash and the value are this thread's.
    if (mw_gc_track_for((mw_object *)h, value) != 0) {
        return -1;
    }
    uint64_t hv = srv_hash_bytes(f, n);
    srv_entry *e = srv_dict_find(&h->d, f, n, hv);
    int isnew = 0;
    if (e == NULL) {
        e = srv_dict_add(&h->d, f, n, hv);
        if (e == NULL) {
            return -1;
        }
        isnew = 1;
    }
    mw_object *old = e->v.obj;
    mw_incref(value);
    e->v.obj = value;
    mw_decref(old);
    return isnew;
}

/* Store value (stolen: the caller's reference passes to this call) in
 * the field named by argument field_arg of hash h, which is the key at
 * argument 1; on OOM reply the error and drop h if it is empty.  1 new,
 * 0 updated, -1 OOM. */
static int hash_put(ctx *x, srv_hash *h, size_t field_arg, mw_object *value)
{
    int r = hash_store(h, x->argv[field_arg], x->argl[field_arg], value);
    mw_decref(value);
    if (r < 0) {
        srv_reply_error(x->out, E_NOMEM);
        drop_if_empty(x, 1, &h->ob);
    }
    return r;
}

static srv_entry *hash_field(srv_hash *h, const char *f, size_t n)
{
    return srv_dict_find(&h->d, f, n, srv_hash_bytes(f, n));
}

static bool hset_common(ctx *x, long long *added)
{
    if (x->argc % 2 != 0) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command",
                         arg_is(x, 0, "hmset") ? "hmset" : "hset");
        return false;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return false;
    }
    *added = 0;
    for (size_t i = 2; i < x->argc; i += 2) {
        mw_object *v = new_str(x, x->argv[i + 1], x->argl[i + 1]);
        if (v == NULL) {
            drop_if_empty(x, 1, &h->ob);
            return false;
        }
        int r = hash_put(x, h, i, v);
        if (r < 0) {
            return false;
        }
        *added += r;
    }
    notify_key(x, SRV_NOTIFY_HASH, "hset", 1);
    return true;
}

void cmd_hset(ctx *x)
{
    long long added;
    if (hset_common(x, &added)) {
        srv_reply_int(x->out, added);
    }
}

void cmd_hmset(ctx *x)
{
    long long added;
    if (hset_common(x, &added)) {
        srv_buf_append(x->out, "+OK\r\n", 5);
    }
}

void cmd_hget(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_entry *e = r > 0 ? hash_field((srv_hash *)o, x->argv[2], x->argl[2]) : NULL;
    reply_value(x->out, e != NULL ? e->v.obj : NULL, 0);
}

void cmd_hmget(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)x->argc - 2);
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = r > 0 ? hash_field((srv_hash *)o, x->argv[i], x->argl[i]) : NULL;
        reply_value(x->out, e != NULL ? e->v.obj : NULL, 0);
    }
}

void cmd_hdel(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_hash_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_hash *h = (srv_hash *)o;
    long long n = 0;
    mw_incref(o);
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = hash_field(h, x->argv[i], x->argl[i]);
        if (e != NULL) {
            mw_object *v = e->v.obj;
            srv_dict_remove(&h->d, e);
            mw_decref(v);
            n++;
        }
    }
    if (n > 0) {
        notify_key(x, SRV_NOTIFY_HASH, "hdel", 1);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
    srv_reply_int(x->out, n);
}

/* HGETALL (what 3), HKEYS (1), HVALS (2) */
static void hash_walk(ctx *x, int what)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    long long n = r == 0 ? 0 : (long long)((srv_hash *)o)->d.count;
    if (what == 3) {
        srv_reply_map(x->out, n);
    } else {
        srv_reply_array(x->out, n);
    }
    if (r == 0) {
        return;
    }
    srv_hash *h = (srv_hash *)o;
    for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
        if (what & 1) {
            srv_reply_bulk(x->out, e->key, e->klen);
        }
        if (what & 2) {
            reply_value(x->out, e->v.obj, 0);
        }
    }
}

void cmd_hgetall(ctx *x)
{
    hash_walk(x, 3);
}

void cmd_hkeys(ctx *x)
{
    hash_walk(x, 1);
}

void cmd_hvals(ctx *x)
{
    hash_walk(x, 2);
}

void cmd_hlen(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_hash *)o)->d.count : 0);
    }
}

void cmd_hexists(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 && hash_field((srv_hash *)o, x->argv[2], x->argl[2]) != NULL);
    }
}

void cmd_hincrby(ctx *x)
{
    long long by;
    if (!arg_ll(x, 3, &by)) {
        return;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return;
    }
    long long v = 0;
    srv_entry *e = hash_field(h, x->argv[2], x->argl[2]);
    if (e != NULL) {
        size_t n;
        const char *p = mw_type_of(e->v.obj) == &mw_str_type ? mw_str_data(e->v.obj, &n) : NULL;
        if (p == NULL || !srv_str2ll(p, n, &v)) {
            srv_reply_error(x->out, "ERR hash value is not an integer");
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
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    if (hash_put(x, h, 2, ns) >= 0) {
        notify_key(x, SRV_NOTIFY_HASH, "hincrby", 1);
        srv_reply_int(x->out, v);
    }
}

/* REF.SET key field target: hash `key`'s field now refers to the value
 * object at `target` itself (not a copy); replies as HSET. */
void cmd_ref_set(ctx *x)
{
    srv_entry *t = srv_ks_find(x->argv[3], x->argl[3]);
    if (t == NULL) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    mw_object *target = t->v.obj;
    mw_incref(target); // creating the hash may not move it, but be safe
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        mw_decref(target);
        return;
    }
    int r = hash_put(x, h, 2, target);
    if (r >= 0) {
        notify_key(x, SRV_NOTIFY_HASH, "hset", 1);
        srv_reply_int(x->out, r);
    }
}

void cmd_ref_get(ctx *x)
{
    cmd_hget(x);
}

/* HSETNX key field value: set the field only if it is not there. */
void cmd_hsetnx(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    if (r > 0 && hash_field((srv_hash *)o, x->argv[2], x->argl[2]) != NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return;
    }
    mw_object *v = new_str(x, x->argv[3], x->argl[3]);
    if (v == NULL) {
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    if (hash_put(x, h, 2, v) >= 0) {
        notify_key(x, SRV_NOTIFY_HASH, "hset", 1);
        srv_reply_int(x->out, 1);
    }
}

/* HINCRBYFLOAT key field increment: the sum in long double precision,
 * written as Redis does (17 decimals, trailing zeros cut). */
void cmd_hincrbyfloat(ctx *x)
{
    long double by, v = 0;
    if (!parse_long_double(x->argv[3], x->argl[3], &by)) {
        srv_reply_error(x->out, E_NOTFLOAT);
        return;
    }
    if (isinf(by)) {
        srv_reply_error(x->out, "ERR value is NaN or Infinity");
        return;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return;
    }
    srv_entry *e = hash_field(h, x->argv[2], x->argl[2]);
    if (e != NULL) {
        size_t n;
        const char *p = mw_type_of(e->v.obj) == &mw_str_type ? mw_str_data(e->v.obj, &n) : NULL;
        if (p == NULL || !parse_long_double(p, n, &v)) {
            srv_reply_error(x->out, "ERR hash value is not a float");
            return;
        }
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        srv_reply_error(x->out, "ERR increment would produce NaN or Infinity");
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    char buf[5120];
    int len = snprintf(buf, sizeof buf, "%.17Lf", v);
    if (len < 0 || (size_t)len >= sizeof buf) {
        srv_reply_error(x->out, E_NOTFLOAT);
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    if (strchr(buf, '.') != NULL) {
        while (buf[len - 1] == '0') {
            len--;
        }
        if (buf[len - 1] == '.') {
            len--;
        }
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    mw_object *ns = new_str(x, buf, (size_t)len);
    if (ns == NULL) {
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    if (hash_put(x, h, 2, ns) >= 0) {
        notify_key(x, SRV_NOTIFY_HASH, "hincrbyfloat", 1);
        srv_reply_bulk(x->out, buf, (size_t)len);
    }
}

/* HSTRLEN key field: the value's length, 0 when there is none. */
void cmd_hstrlen(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_entry *e = r > 0 ? hash_field((srv_hash *)o, x->argv[2], x->argl[2]) : NULL;
    size_t n = 0;
    if (e != NULL && mw_type_of(e->v.obj) == &mw_str_type) {
        mw_str_data(e->v.obj, &n);
    }
    srv_reply_int(x->out, (long long)n);
}

/* One field, or a (field, value) pair: nested in RESP3, as Redis does. */
static void reply_field(ctx *x, srv_entry *e, bool values)
{
    if (values) {
        srv_reply_pair(x->out);
    }
    srv_reply_bulk(x->out, e->key, e->klen);
    if (values) {
        reply_value(x->out, e->v.obj, 0);
    }
}

/* HRANDFIELD key [count [WITHVALUES]]: as SRANDMEMBER. */
void cmd_hrandfield(ctx *x)
{
    long long count = 0;
    bool has_count = x->argc >= 3;
    if (x->argc > 4 || (x->argc == 4 && !arg_is(x, 3, "WITHVALUES"))) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    bool values = x->argc == 4;
    if (has_count) {
        if (!random_count_arg(x, 2, &count)) {
            return;
        }
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_hash *h = (srv_hash *)o;
    if (!has_count) {
        if (r == 0) {
            srv_reply_null(x->out);
        } else {
            reply_field(x, srv_dict_random(&h->d), false);
        }
        return;
    }
    if (r == 0 || count == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    if (count < 0) {
        if (values) {
            srv_reply_pairs(x->out, -count);
        } else {
            srv_reply_array(x->out, -count);
        }
        for (long long i = 0; i < -count; i++) {
            reply_field(x, srv_dict_random(&h->d), values);
        }
        return;
    }
    size_t size = h->d.count, n = (size_t)count < size ? (size_t)count : size;
    void **all = malloc(size * sizeof *all);
    if (all == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t k = 0;
    for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
        all[k++] = e;
    }
    sample_shuffle(all, size, n);
    if (values) {
        srv_reply_pairs(x->out, (long long)n);
    } else {
        srv_reply_array(x->out, (long long)n);
    }
    for (size_t i = 0; i < n; i++) {
        reply_field(x, (srv_entry *)all[i], values);
    }
    free(all);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] (cmd_keys.c walks). */
void cmd_hscan(ctx *x)
{
    mw_object *o;
    if (lookup_read(x, 1, &srv_hash_type, &o) < 0) {
        return;
    }
    scan_collection(x, o == NULL ? NULL : &((srv_hash *)o)->d, 'h');
}
