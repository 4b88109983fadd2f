/*
 * server/cmd_set.c - set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER,
 * SCARD, SPOP, SRANDMEMBER, SMOVE, and the algebra of several sets (SINTER,
 * SUNION, SDIFF, their STORE forms, SINTERCARD).
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
 * Sets
 * ====================================================================== */

void cmd_sadd(ctx *x)
{
    srv_set *s = (srv_set *)lookup_or_create(x, 1, &srv_set_type);
    if (s == NULL) {
        return;
    }
    long long added = 0;
    for (size_t i = 2; i < x->argc; i++) {
        uint64_t h = srv_hash_bytes(x->argv[i], x->argl[i]);
        if (srv_dict_find(&s->d, x->argv[i], x->argl[i], h) != NULL) {
            continue;
        }
        if (srv_dict_add(&s->d, x->argv[i], x->argl[i], h) == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            drop_if_empty(x, 1, &s->ob);
            return;
        }
        added++;
    }
    if (added > 0) {
        notify_key(x, SRV_NOTIFY_SET, "sadd", 1);
    }
    srv_reply_int(x->out, added);
}

void cmd_srem(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_set_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_set *s = (srv_set *)o;
    long long n = 0;
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = srv_dict_find(&s->d, x->argv[i], x->argl[i],
                                     srv_hash_bytes(x->argv[i], x->argl[i]));
        if (e != NULL) {
            srv_dict_remove(&s->d, e);
            n++;
        }
    }
    if (n > 0) {
        notify_key(x, SRV_NOTIFY_SET, "srem", 1);
    }
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, n);
}

typedef struct int_member {
    long long v;
    srv_entry *e;
} int_member;

static int cmp_int_member(const void *a, const void *b)
{
    long long x = ((const int_member *)a)->v, y = ((const int_member *)b)->v;
    return x < y ? -1 : x > y;
}

void cmd_smembers(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_set(x->out, 0);
        return;
    }
    srv_set *s = (srv_set *)o;
    srv_reply_set(x->out, (long long)s->d.count);
    // Redis keeps a small set of integers sorted (an intset) and replies in
    // that order; do the same so replies compare equal.
    int_member *ints = NULL;
    if (s->d.count <= 512) {
        ints = malloc(s->d.count * sizeof *ints + 1);
        size_t k = 0;
        for (srv_entry *e = s->d.first; ints != NULL && e != NULL; e = e->onext, k++) {
            if (!srv_str2ll(e->key, e->klen, &ints[k].v)) {
                free(ints);
                ints = NULL;
                break;
            }
            ints[k].e = e;
        }
    }
    if (ints != NULL) {
        qsort(ints, s->d.count, sizeof *ints, cmp_int_member);
        for (size_t k = 0; k < s->d.count; k++) {
            srv_reply_bulk(x->out, ints[k].e->key, ints[k].e->klen);
        }
        free(ints);
        return;
    }
    for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
        srv_reply_bulk(x->out, e->key, e->klen);
    }
}

void cmd_sismember(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 && srv_dict_find(&((srv_set *)o)->d, x->argv[2], x->argl[2],
                                                     srv_hash_bytes(x->argv[2], x->argl[2])) != NULL);
    }
}

void cmd_scard(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_set *)o)->d.count : 0);
    }
}

void cmd_spop(ctx *x)
{
    long long count = -1;
    if (x->argc > 3) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (x->argc == 3 && (!srv_str2ll(x->argv[2], x->argl[2], &count) || count < 0)) {
        srv_reply_error(x->out, E_POSITIVE);
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (count >= 0) {
            srv_reply_set(x->out, 0);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_set *s = (srv_set *)o;
    mw_incref(o);
    size_t n = count < 0 ? 1 : ((size_t)count < s->d.count ? (size_t)count : s->d.count);
    if (count >= 0) {
        srv_reply_set(x->out, (long long)n);
    }
    for (size_t i = 0; i < n; i++) {
        srv_entry *e = srv_dict_random(&s->d);
        srv_reply_bulk(x->out, e->key, e->klen);
        srv_dict_remove(&s->d, e);
    }
    if (n > 0) {
        notify_key(x, SRV_NOTIFY_SET, "spop", 1);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

/* ======================================================================
 * Several sets: SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD, SMOVE
 *
 * The result is built in a fresh set, then either replied or stored at
 * the destination; a missing key reads as the empty set.  Every key is
 * type-checked before any work, so a WRONGTYPE leaves nothing changed.
 * ====================================================================== */

enum { OP_INTER, OP_UNION, OP_DIFF };

/* Sharded, a command whose keys the table cannot name (SINTERCARD's
 * numkeys) still needs them in one slot; false after replying CROSSSLOT. */
static bool one_slot(ctx *x, size_t first, size_t n)
{
    if (!srv_split() || n < 2) {
        return true;
    }
    unsigned slot = srv_key_slot(x->argv[first], x->argl[first]);
    for (size_t i = first + 1; i < first + n; i++) {
        if (srv_key_slot(x->argv[i], x->argl[i]) != slot) {
            srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
            return false;
        }
    }
    return true;
}

/* The sets at arguments first..first+n-1 into sets[] (NULL: missing);
 * false after replying WRONGTYPE. */
static bool load_sets(ctx *x, size_t first, size_t n, srv_set **sets)
{
    for (size_t i = 0; i < n; i++) {
        mw_object *o;
        if (lookup_read(x, first + i, &srv_set_type, &o) < 0) {
            return false;
        }
        sets[i] = (srv_set *)o;
    }
    return true;
}

static bool set_has(srv_set *s, const char *p, size_t n)
{
    return s != NULL && srv_dict_find(&s->d, p, n, srv_hash_bytes(p, n)) != NULL;
}

static bool set_put(srv_set *s, const char *p, size_t n)
{
    uint64_t h = srv_hash_bytes(p, n);
    return srv_dict_find(&s->d, p, n, h) != NULL || srv_dict_add(&s->d, p, n, h) != NULL;
}

/* Whether e is in every set but skip (SINTER). */
static bool in_all(srv_set **sets, size_t n, size_t skip, srv_entry *e)
{
    for (size_t k = 0; k < n; k++) {
        if (k != skip && !set_has(sets[k], e->key, e->klen)) {
            return false;
        }
    }
    return true;
}

/* The result of op over n sets (new reference), or NULL after replying
 * out of memory. */
static srv_set *set_combine(ctx *x, int op, srv_set **sets, size_t n)
{
    srv_set *res = srv_set_new();
    if (res == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return NULL;
    }
    bool ok = true;
    if (op == OP_INTER) {
        // Walk the smallest set; an absent one makes the result empty.
        size_t small = 0;
        for (size_t k = 0; k < n; k++) {
            if (sets[k] == NULL) {
                return res;
            }
            if (sets[k]->d.count < sets[small]->d.count) {
                small = k;
            }
        }
        for (srv_entry *e = sets[small]->d.first; ok && e != NULL; e = e->onext) {
            if (in_all(sets, n, small, e)) {
                ok = set_put(res, e->key, e->klen);
            }
        }
    } else if (op == OP_UNION) {
        for (size_t k = 0; k < n; k++) {
            for (srv_entry *e = sets[k] ? sets[k]->d.first : NULL; ok && e != NULL;
                 e = e->onext) {
                ok = set_put(res, e->key, e->klen);
            }
        }
    } else if (sets[0] != NULL) {
        for (srv_entry *e = sets[0]->d.first; ok && e != NULL; e = e->onext) {
            bool other = false;
            for (size_t k = 1; k < n && !other; k++) {
                other = set_has(sets[k], e->key, e->klen);
            }
            if (!other) {
                ok = set_put(res, e->key, e->klen);
            }
        }
    }
    if (!ok) {
        mw_decref(&res->ob);
        srv_reply_error(x->out, E_NOMEM);
        return NULL;
    }
    return res;
}

/* SINTER/SUNION/SDIFF key... (store false) and their STORE forms
 * destination key... (store true). */
static void set_op(ctx *x, int op, bool store)
{
    size_t first = store ? 2 : 1, n = x->argc - first;
    srv_set **sets = calloc(n, sizeof *sets);   // zeroed: load_sets fills each
    if (sets == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (!load_sets(x, first, n, sets)) {
        free(sets);
        return;
    }
    srv_set *res = set_combine(x, op, sets, n);
    free(sets);
    if (res == NULL) {
        return;
    }
    if (!store) {
        srv_reply_set(x->out, (long long)res->d.count);
        for (srv_entry *e = res->d.first; e != NULL; e = e->onext) {
            srv_reply_bulk(x->out, e->key, e->klen);
        }
    } else if (res->d.count == 0) {
        if (srv_ks_del(x->argv[1], x->argl[1])) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
        }
        srv_reply_int(x->out, 0);
    } else if (!srv_ks_set(x->argv[1], x->argl[1], &res->ob, false)) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    } else {
        static const char *const events[] = {"sinterstore", "sunionstore", "sdiffstore"};
        notify_key(x, SRV_NOTIFY_SET, events[op], 1);
        srv_reply_int(x->out, (long long)res->d.count);
    }
    mw_decref(&res->ob);
}

void cmd_sinter(ctx *x)
{
    set_op(x, OP_INTER, false);
}

void cmd_sunion(ctx *x)
{
    set_op(x, OP_UNION, false);
}

void cmd_sdiff(ctx *x)
{
    set_op(x, OP_DIFF, false);
}

void cmd_sinterstore(ctx *x)
{
    set_op(x, OP_INTER, true);
}

void cmd_sunionstore(ctx *x)
{
    set_op(x, OP_UNION, true);
}

void cmd_sdiffstore(ctx *x)
{
    set_op(x, OP_DIFF, true);
}

/* SINTERCARD numkeys key [key ...] [LIMIT limit] */
void cmd_sintercard(ctx *x)
{
    long long nk;
    if (!srv_str2ll(x->argv[1], x->argl[1], &nk) || nk <= 0) {
        srv_reply_error(x->out, "ERR numkeys should be greater than 0");
        return;
    }
    if (nk > (long long)(x->argc - 2)) {
        srv_reply_error(x->out, "ERR Number of keys can't be greater than number of args");
        return;
    }
    size_t n = (size_t)nk;
    long long limit = 0;
    for (size_t i = 2 + n; i < x->argc; i += 2) {
        if (arg_is(x, i, "LIMIT") && i + 1 < x->argc) {
            if (!srv_str2ll(x->argv[i + 1], x->argl[i + 1], &limit) || limit < 0) {
                srv_reply_error(x->out, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if (!one_slot(x, 2, n)) {
        return;
    }
    srv_set **sets = calloc(n, sizeof *sets);   // zeroed: load_sets fills each
    if (sets == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (!load_sets(x, 2, n, sets)) {
        free(sets);
        return;
    }
    long long card = 0;
    size_t small = 0;
    bool empty = false;
    for (size_t k = 0; k < n; k++) {
        if (sets[k] == NULL) {
            empty = true;
        } else if (sets[small] == NULL || sets[k]->d.count < sets[small]->d.count) {
            small = k;
        }
    }
    for (srv_entry *e = empty ? NULL : sets[small]->d.first;
         e != NULL && (limit == 0 || card < limit); e = e->onext) {
        card += in_all(sets, n, small, e);
    }
    free(sets);
    srv_reply_int(x->out, card);
}

/* SMOVE source destination member */
void cmd_smove(ctx *x)
{
    mw_object *so, *dobj;
    int rs = lookup(x, 1, &srv_set_type, &so);
    if (rs < 0 || lookup(x, 2, &srv_set_type, &dobj) < 0) {
        return;
    }
    const char *m = x->argv[3];
    size_t mn = x->argl[3];
    uint64_t h = srv_hash_bytes(m, mn);
    srv_entry *e = rs > 0 ? srv_dict_find(&((srv_set *)so)->d, m, mn, h) : NULL;
    // What changes is touched (WATCH) below, and only that, as in Redis:
    // nothing when the member is not there or the sets are one.
    x->touched_keys = true;
    if (e == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    if (so == dobj) {
        srv_reply_int(x->out, 1);
        return;
    }
    srv_set *dst = (srv_set *)lookup_or_create(x, 2, &srv_set_type);
    if (dst == NULL) {
        return;
    }
    bool added = !set_has(dst, m, mn);
    if (!set_put(dst, m, mn)) {
        drop_if_empty(x, 2, &dst->ob);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_dict_remove(&((srv_set *)so)->d, e);
    // The destination changed only if the member is new there: Redis
    // neither touches it (WATCH) nor notifies it otherwise.
    srv_watch_touch(x->argv[1], x->argl[1], true);
    notify_key(x, SRV_NOTIFY_SET, "srem", 1);
    drop_if_empty(x, 1, so);
    if (added) {
        srv_watch_touch(x->argv[2], x->argl[2], true);
        notify_key(x, SRV_NOTIFY_SET, "sadd", 2);
    }
    srv_reply_int(x->out, 1);
}

/* SMISMEMBER key member [member ...] */
void cmd_smismember(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)(x->argc - 2));
    for (size_t i = 2; i < x->argc; i++) {
        srv_reply_int(x->out, set_has((srv_set *)o, x->argv[i], x->argl[i]));
    }
}

/* SRANDMEMBER key [count]: one member (or nil); with count >= 0 that many
 * distinct members (all of them if there are fewer); with count < 0,
 * -count members drawn independently, so they may repeat. */
void cmd_srandmember(ctx *x)
{
    long long count = 0;
    bool has_count = x->argc == 3;
    if (x->argc > 3) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (has_count) {
        if (!random_count_arg(x, 2, &count)) {
            return;
        }
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    srv_set *s = (srv_set *)o;
    if (!has_count) {
        if (r == 0) {
            srv_reply_null(x->out);
        } else {
            srv_entry *e = srv_dict_random(&s->d);
            srv_reply_bulk(x->out, e->key, e->klen);
        }
        return;
    }
    if (r == 0 || count == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    if (count < 0) {
        srv_reply_array(x->out, -count);
        for (long long i = 0; i < -count; i++) {
            srv_entry *e = srv_dict_random(&s->d);
            srv_reply_bulk(x->out, e->key, e->klen);
        }
        return;
    }
    size_t size = s->d.count;
    size_t n = (size_t)count < size ? (size_t)count : size;
    void **all = malloc(size * sizeof *all);
    if (all == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t k = 0;
    for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
        all[k++] = e;
    }
    sample_shuffle(all, size, n);
    srv_reply_array(x->out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        srv_entry *e = all[i];
        srv_reply_bulk(x->out, e->key, e->klen);
    }
    free(all);
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] (cmd_keys.c walks). */
void cmd_sscan(ctx *x)
{
    mw_object *o;
    if (lookup_read(x, 1, &srv_set_type, &o) < 0) {
        return;
    }
    scan_collection(x, o == NULL ? NULL : &((srv_set *)o)->d, 's');
}
