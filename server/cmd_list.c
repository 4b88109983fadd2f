/*
 * server/cmd_list.c - list commands: pushes, pops, ranges, LINDEX, LSET, LREM.
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
 * Lists
 * ====================================================================== */

/* Keyspace notifications of a push or a pop at one end of the list at
 * argument i (Redis's event names). */
static void notify_push(ctx *x, size_t i, bool left)
{
    notify_key(x, SRV_NOTIFY_LIST, left ? "lpush" : "rpush", i);
}

static void notify_pop(ctx *x, size_t i, bool left)
{
    notify_key(x, SRV_NOTIFY_LIST, left ? "lpop" : "rpop", i);
}

static void push(ctx *x, bool left)
{
    srv_list *l = (srv_list *)lookup_or_create(x, 1, &srv_list_type);
    if (l == NULL) {
        return;
    }
    for (size_t i = 2; i < x->argc; i++) {
        mw_object *v = new_str(x, x->argv[i], x->argl[i]);
        if (v == NULL) {
            drop_if_empty(x, 1, &l->ob);
            return;
        }
        if (!srv_list_push(l, v, left)) {
            srv_reply_error(x->out, E_NOMEM);
            drop_if_empty(x, 1, &l->ob);
            return;
        }
    }
    notify_push(x, 1, left);
    srv_reply_int(x->out, (long long)l->len);
}

void cmd_lpush(ctx *x)
{
    push(x, true);
}

void cmd_rpush(ctx *x)
{
    push(x, false);
}

static void pop(ctx *x, bool left)
{
    long long count = -1;
    if (x->argc > 3) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command",
                         left ? "lpop" : "rpop");
        return;
    }
    if (x->argc == 3) {
        if (!srv_str2ll(x->argv[2], x->argl[2], &count) || count < 0) {
            srv_reply_error(x->out, E_POSITIVE);
            return;
        }
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (count >= 0) {
            srv_reply_null_array(x->out);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    mw_incref(o); // popping the last element deletes the key
    if (count < 0) {
        mw_object *v = srv_list_pop(l, left);
        reply_str(x->out, v);
        mw_decref(v);
        notify_pop(x, 1, left);
    } else {
        size_t n = (size_t)count < l->len ? (size_t)count : l->len;
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            mw_object *v = srv_list_pop(l, left);
            reply_str(x->out, v);
            mw_decref(v);
        }
        if (n > 0) {
            notify_pop(x, 1, left);
        }
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

void cmd_lpop(ctx *x)
{
    pop(x, true);
}

void cmd_rpop(ctx *x)
{
    pop(x, false);
}

void cmd_llen(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_list *)o)->len : 0);
    }
}

void cmd_lrange(ctx *x)
{
    long long start, stop;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_list *l = (srv_list *)o;
    if (!range_clamp((long long)l->len, &start, &stop)) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_reply_array(x->out, stop - start + 1);
    for (long long i = start; i <= stop; i++) {
        reply_str(x->out, srv_list_at(l, (size_t)i));
    }
}

void cmd_lindex(ctx *x)
{
    long long i;
    if (!arg_ll(x, 2, &i)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    srv_list *l = (srv_list *)o;
    if (r > 0 && i < 0) {
        i += (long long)l->len;
    }
    if (r == 0 || i < 0 || i >= (long long)l->len) {
        srv_reply_null(x->out);
        return;
    }
    reply_str(x->out, srv_list_at(l, (size_t)i));
}

void cmd_lset(ctx *x)
{
    long long i;
    if (!arg_ll(x, 2, &i)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    srv_list *l = (srv_list *)o;
    if (i < 0) {
        i += (long long)l->len;
    }
    if (i < 0 || i >= (long long)l->len) {
        srv_reply_error(x->out, "ERR index out of range");
        return;
    }
    mw_object *v = new_str(x, x->argv[3], x->argl[3]);
    if (v == NULL) {
        return;
    }
    srv_list_set(l, (size_t)i, v);
    notify_key(x, SRV_NOTIFY_LIST, "lset", 1);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

static bool str_eq(mw_object *s, const char *p, size_t n)
{
    size_t m;
    const char *d = mw_str_data(s, &m);
    return d != NULL && m == n && memcmp(d, p, n) == 0;
}

void cmd_lrem(ctx *x)
{
    long long count;
    if (!arg_ll(x, 2, &count)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    long long removed = 0;
    if (count >= 0) {
        for (size_t i = 0; i < l->len && (count == 0 || removed < count);) {
            if (str_eq(srv_list_at(l, i), x->argv[3], x->argl[3])) {
                srv_list_remove_at(l, i);
                removed++;
            } else {
                i++;
            }
        }
    } else {
        for (size_t i = l->len; i > 0 && removed < -count; i--) {
            if (str_eq(srv_list_at(l, i - 1), x->argv[3], x->argl[3])) {
                srv_list_remove_at(l, i - 1);
                removed++;
            }
        }
    }
    if (removed > 0) {
        notify_key(x, SRV_NOTIFY_LIST, "lrem", 1);
    }
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, removed);
}

/* LTRIM key start stop: keep the range (LRANGE's clamping), drop the rest;
 * an empty range deletes the key. */
void cmd_ltrim(ctx *x)
{
    long long start, stop;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r > 0) {
        srv_list *l = (srv_list *)o;
        long long len = (long long)l->len;
        long long ltrim, rtrim;
        if (!range_clamp(len, &start, &stop)) {
            ltrim = len;
            rtrim = 0;
        } else {
            ltrim = start;
            rtrim = len - 1 - stop;
        }
        mw_incref(o);
        for (long long i = 0; i < ltrim; i++) {
            mw_decref(srv_list_pop(l, true));
        }
        for (long long i = 0; i < rtrim; i++) {
            mw_decref(srv_list_pop(l, false));
        }
        notify_key(x, SRV_NOTIFY_LIST, "ltrim", 1);
        drop_if_empty(x, 1, o);
        mw_decref(o);
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* Insert v (stolen) before item i (0 <= i <= len): push it at the tail and
 * rotate it into place; false when out of memory. */
static bool list_insert(srv_list *l, size_t i, mw_object *v)
{
    if (!srv_list_push(l, v, false)) {
        return false;
    }
    size_t mask = l->cap - 1;
    for (size_t k = l->len - 1; k > i; k--) {
        l->items[(l->head + k) & mask] = l->items[(l->head + k - 1) & mask];
    }
    l->items[(l->head + i) & mask] = v;
    return true;
}

/* LINSERT key BEFORE|AFTER pivot element: the new length, -1 if the pivot
 * is not there, 0 if the key is not. */
void cmd_linsert(ctx *x)
{
    bool after;
    if (arg_is(x, 2, "AFTER")) {
        after = true;
    } else if (arg_is(x, 2, "BEFORE")) {
        after = false;
    } else {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    for (size_t i = 0; i < l->len; i++) {
        if (str_eq(srv_list_at(l, i), x->argv[3], x->argl[3])) {
            mw_object *v = new_str(x, x->argv[4], x->argl[4]);
            if (v == NULL) {
                return;
            }
            if (!list_insert(l, after ? i + 1 : i, v)) {
                srv_reply_error(x->out, E_NOMEM);
                return;
            }
            notify_key(x, SRV_NOTIFY_LIST, "linsert", 1);
            srv_reply_int(x->out, (long long)l->len);
            return;
        }
    }
    srv_reply_int(x->out, -1);
}

/* LPOS key element [RANK rank] [COUNT num] [MAXLEN len] */
void cmd_lpos(ctx *x)
{
    long long rank = 1, count = -1, maxlen = 0;
    for (size_t i = 3; i < x->argc; i += 2) {
        if (i + 1 >= x->argc) {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
        long long v;
        if (arg_is(x, i, "RANK")) {
            if (!arg_ll(x, i + 1, &v)) {
                return;
            }
            if (v == 0 || v == LLONG_MIN) {
                srv_reply_error(x->out,
                                "ERR RANK can't be zero: use 1 to start from the first match, "
                                "2 from the second ... or use negative to start from the end "
                                "of the list");
                return;
            }
            rank = v;
        } else if (arg_is(x, i, "COUNT")) {
            if (!arg_ll(x, i + 1, &v)) {
                return;
            }
            if (v < 0) {
                srv_reply_error(x->out, "ERR COUNT can't be negative");
                return;
            }
            count = v;
        } else if (arg_is(x, i, "MAXLEN")) {
            if (!arg_ll(x, i + 1, &v)) {
                return;
            }
            if (v < 0) {
                srv_reply_error(x->out, "ERR MAXLEN can't be negative");
                return;
            }
            maxlen = v;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (count >= 0) {
            srv_buf_append(x->out, "*0\r\n", 4);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    size_t len = l->len;
    long long skip = (rank > 0 ? rank : -rank) - 1;
    long long want = count < 0 ? 1 : (count == 0 ? LLONG_MAX : count);
    // Positions found go into the reply once their number is known: collect
    // them first (at most want of them, at most len).
    size_t cap = 0, n = 0;
    long long *found = NULL;
    size_t scanned = 0;
    for (size_t k = 0; k < len && (long long)n < want; k++) {
        if (maxlen != 0 && (long long)scanned >= maxlen) {
            break;
        }
        scanned++;
        size_t idx = rank > 0 ? k : len - 1 - k;
        if (!str_eq(srv_list_at(l, idx), x->argv[2], x->argl[2])) {
            continue;
        }
        if (skip > 0) {
            skip--;
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            long long *p = realloc(found, nc * sizeof *p);
            if (p == NULL) {
                free(found);
                srv_reply_error(x->out, E_NOMEM);
                return;
            }
            found = p;
            cap = nc;
        }
        found[n++] = (long long)idx;
    }
    if (count < 0) {
        if (n == 0) {
            srv_reply_null(x->out);
        } else {
            srv_reply_int(x->out, found[0]);
        }
    } else {
        srv_reply_array(x->out, (long long)n);
        for (size_t k = 0; k < n; k++) {
            srv_reply_int(x->out, found[k]);
        }
    }
    free(found);
}

/* Move one item from the src end of the list at argument 1 to the dst end
 * of the list at argument 2 (LMOVE, RPOPLPUSH): reply the item, or nil. */
static void list_move(ctx *x, bool from_left, bool to_left)
{
    mw_object *so, *dobj;
    int r = lookup(x, 1, &srv_list_type, &so);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_null(x->out);
        }
        return;
    }
    if (lookup(x, 2, &srv_list_type, &dobj) < 0) {
        return;
    }
    srv_list *src = (srv_list *)so;
    mw_incref(so);
    srv_list *dst = (srv_list *)lookup_or_create(x, 2, &srv_list_type);
    if (dst == NULL) {
        mw_decref(so);
        return;
    }
    mw_object *v = srv_list_pop(src, from_left);
    mw_incref(v); // one for the reply, one the push steals
    if (!srv_list_push(dst, v, to_left)) {
        // push dropped its reference; put the item back where it was
        srv_list_push(src, v, from_left);
        drop_if_empty(x, 2, &dst->ob);
        srv_reply_error(x->out, E_NOMEM);
        mw_decref(so);
        return;
    }
    reply_str(x->out, v);
    mw_decref(v);
    notify_push(x, 2, to_left);  // Redis's order: the push, the pop, "del"
    notify_pop(x, 1, from_left);
    drop_if_empty(x, 1, so);
    mw_decref(so);
}

static bool where_arg(ctx *x, size_t i, bool *left)
{
    if (arg_is(x, i, "LEFT")) {
        *left = true;
    } else if (arg_is(x, i, "RIGHT")) {
        *left = false;
    } else {
        srv_reply_error(x->out, E_SYNTAX);
        return false;
    }
    return true;
}

/* LMOVE source destination LEFT|RIGHT LEFT|RIGHT */
void cmd_lmove(ctx *x)
{
    bool from, to;
    if (where_arg(x, 3, &from) && where_arg(x, 4, &to)) {
        list_move(x, from, to);
    }
}

void cmd_rpoplpush(ctx *x)
{
    list_move(x, false, true);
}

/* LPUSHX/RPUSHX: push only onto an existing list; 0 when there is none. */
static void pushx(ctx *x, bool left)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    push(x, left);
}

void cmd_lpushx(ctx *x)
{
    pushx(x, true);
}

void cmd_rpushx(ctx *x)
{
    pushx(x, false);
}

/* ======================================================================
 * Blocking pops and LMPOP (the waits themselves are in blocking.c)
 * ====================================================================== */

void list_serve(ctx *x, size_t i, const srv_blk_spec *s)
{
    if (s->kind == SRV_BLK_MOVE) {
        list_move(x, s->left, s->to_left);
        return;
    }
    mw_object *o;
    if (lookup(x, i, &srv_list_type, &o) <= 0) {
        return;  // the callers looked: cannot happen
    }
    srv_list *l = (srv_list *)o;
    mw_incref(o); // popping the last element deletes the key
    srv_reply_array(x->out, 2);
    srv_reply_bulk(x->out, x->argv[i], x->argl[i]);
    size_t n = 1;
    if (s->kind == SRV_BLK_MPOP) {
        n = (size_t)s->count < l->len ? (size_t)s->count : l->len;
        srv_reply_array(x->out, (long long)n);
    }
    for (size_t k = 0; k < n; k++) {
        mw_object *v = srv_list_pop(l, s->left);
        reply_str(x->out, v);
        mw_decref(v);
    }
    notify_pop(x, i, s->left);
    drop_if_empty(x, i, o);
    mw_decref(o);
}

/* The first of the n keys from argument `first` on that holds a list:
 * its index, 0 if none does, -1 after WRONGTYPE (Redis looks at them in
 * order and stops at the first that is not a list). */
static long first_list(ctx *x, size_t first, size_t n)
{
    for (size_t k = first; k < first + n; k++) {
        mw_object *o;
        int r = lookup(x, k, &srv_list_type, &o);
        if (r != 0) {
            return r < 0 ? -1 : (long)k;
        }
    }
    return 0;
}

/* BLPOP/BRPOP key [key ...] timeout */
static void bpop(ctx *x, bool left)
{
    uint64_t deadline;
    if (!block_timeout_arg(x, x->argc - 1, &deadline)) {
        return;
    }
    srv_blk_spec s = {.kind = SRV_BLK_POP, .left = left, .count = 1};
    long i = first_list(x, 1, x->argc - 2);
    if (i > 0) {
        list_serve(x, (size_t)i, &s);
    } else if (i == 0) {
        block_on_keys(x, &s, 1, x->argc - 2, deadline);
    }
}

void cmd_blpop(ctx *x)
{
    bpop(x, true);
}

void cmd_brpop(ctx *x)
{
    bpop(x, false);
}

static void bmove(ctx *x, bool from, bool to, size_t ti)
{
    uint64_t deadline;
    if (!block_timeout_arg(x, ti, &deadline)) {
        return;
    }
    srv_blk_spec s = {.kind = SRV_BLK_MOVE, .left = from, .to_left = to, .count = 1};
    long i = first_list(x, 1, 1);
    if (i > 0) {
        list_serve(x, 1, &s);
    } else if (i == 0) {
        block_on_keys(x, &s, 1, 1, deadline);
    }
}

/* BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
void cmd_blmove(ctx *x)
{
    bool from, to;
    if (where_arg(x, 3, &from) && where_arg(x, 4, &to)) {
        bmove(x, from, to, 5);
    }
}

/* BRPOPLPUSH source destination timeout */
void cmd_brpoplpush(ctx *x)
{
    bmove(x, false, true, 3);
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], and BLMPOP with a
 * timeout first. */
static void lmpop(ctx *x, bool block)
{
    size_t nk = block ? 2 : 1, n;
    srv_blk_spec s = {.kind = SRV_BLK_MPOP};
    if (!mpop_args(x, nk, false, &n, &s)) {
        return;
    }
    uint64_t deadline = 0;
    if (block && !block_timeout_arg(x, 1, &deadline)) {
        return;
    }
    long i = first_list(x, nk + 1, n);
    if (i > 0) {
        list_serve(x, (size_t)i, &s);
    } else if (i == 0) {
        if (block) {
            block_on_keys(x, &s, nk + 1, n, deadline);
        } else {
            srv_reply_null_array(x->out);
        }
    }
}

void cmd_lmpop(ctx *x)
{
    lmpop(x, false);
}

void cmd_blmpop(ctx *x)
{
    lmpop(x, true);
}
