/*
 * server/cmd_zset.c - sorted-set commands: ZADD and its options, ZINCRBY, ZREM, ZSCORE,
 * ZCARD, ZRANK, ZRANGE, ZPOPMIN.
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
 * Sorted sets
 * ====================================================================== */

void cmd_zadd(ctx *x)
{
    bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
    size_t i = 2;
    for (; i < x->argc; i++) {
        if (arg_is(x, i, "NX")) {
            nx = true;
        } else if (arg_is(x, i, "XX")) {
            xx = true;
        } else if (arg_is(x, i, "GT")) {
            gt = true;
        } else if (arg_is(x, i, "LT")) {
            lt = true;
        } else if (arg_is(x, i, "CH")) {
            ch = true;
        } else if (arg_is(x, i, "INCR")) {
            incr = true;
        } else {
            break;
        }
    }
    size_t pairs = x->argc - i;
    if (pairs == 0 || pairs % 2 != 0) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (nx && xx) {
        srv_reply_error(x->out, "ERR XX and NX options at the same time are not compatible");
        return;
    }
    if ((gt && nx) || (lt && nx) || (gt && lt)) {
        srv_reply_error(x->out, "ERR GT, LT, and/or NX options at the same time are not compatible");
        return;
    }
    if (incr && pairs > 2) {
        srv_reply_error(x->out, "ERR INCR option supports a single increment-element pair");
        return;
    }
    for (size_t k = i; k < x->argc; k += 2) {
        double d;
        if (!srv_str2d(x->argv[k], x->argl[k], &d)) {
            srv_reply_error(x->out, E_NOTFLOAT);
            return;
        }
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0 && xx) {
        if (incr) {
            srv_reply_null(x->out);
        } else {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_zset *z = (srv_zset *)lookup_or_create(x, 1, &srv_zset_type);
    if (z == NULL) {
        return;
    }
    long long added = 0, changed = 0;
    double last = 0;
    bool skipped = false;
    for (size_t k = i; k < x->argc; k += 2) {
        double score;
        srv_str2d(x->argv[k], x->argl[k], &score);
        const char *m = x->argv[k + 1];
        size_t mn = x->argl[k + 1];
        srv_znode *cur = srv_zset_find(z, m, mn);
        if ((cur != NULL && nx) || (cur == NULL && xx)) {
            skipped = true;
            continue;
        }
        if (cur != NULL) {
            double ns = incr ? cur->score + score : score;
            if (isnan(ns)) {
                srv_reply_error(x->out, "ERR resulting score is not a number (NaN)");
                drop_if_empty(x, 1, &z->ob);
                return;
            }
            if ((gt && ns <= cur->score) || (lt && ns >= cur->score)) {
                skipped = true;
                continue;
            }
            if (ns != cur->score) {
                if (srv_zset_add(z, m, mn, ns) < 0) {
                    srv_reply_error(x->out, E_NOMEM);
                    return;
                }
                changed++;
            }
            last = ns;
        } else {
            if (srv_zset_add(z, m, mn, score) < 0) {
                srv_reply_error(x->out, E_NOMEM);
                drop_if_empty(x, 1, &z->ob);
                return;
            }
            added++;
            last = score;
        }
    }
    drop_if_empty(x, 1, &z->ob);
    if (incr) {
        if (skipped) {
            srv_reply_null(x->out);
        } else {
            srv_reply_double(x->out, last);
        }
    } else {
        srv_reply_int(x->out, ch ? added + changed : added);
    }
}

void cmd_zincrby(ctx *x)
{
    double by;
    if (!srv_str2d(x->argv[2], x->argl[2], &by)) {
        srv_reply_error(x->out, E_NOTFLOAT);
        return;
    }
    srv_zset *z = (srv_zset *)lookup_or_create(x, 1, &srv_zset_type);
    if (z == NULL) {
        return;
    }
    srv_znode *cur = srv_zset_find(z, x->argv[3], x->argl[3]);
    double ns = cur != NULL ? cur->score + by : by;
    if (isnan(ns)) {
        srv_reply_error(x->out, "ERR resulting score is not a number (NaN)");
        drop_if_empty(x, 1, &z->ob);
        return;
    }
    if (srv_zset_add(z, x->argv[3], x->argl[3], ns) < 0) {
        srv_reply_error(x->out, E_NOMEM);
        drop_if_empty(x, 1, &z->ob);
        return;
    }
    srv_reply_double(x->out, ns);
}

void cmd_zrem(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_zset_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    long long n = 0;
    for (size_t i = 2; i < x->argc; i++) {
        n += srv_zset_del((srv_zset *)o, x->argv[i], x->argl[i]);
    }
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, n);
}

void cmd_zscore(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_znode *n = r > 0 ? srv_zset_find((srv_zset *)o, x->argv[2], x->argl[2]) : NULL;
    if (n == NULL) {
        srv_reply_null(x->out);
    } else {
        srv_reply_double(x->out, n->score);
    }
}

void cmd_zcard(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_zset *)o)->len : 0);
    }
}

void cmd_zrank(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    long long rank = r > 0 ? srv_zset_rank((srv_zset *)o, x->argv[2], x->argl[2]) : -1;
    if (rank < 0) {
        srv_reply_null(x->out);
    } else {
        srv_reply_int(x->out, rank);
    }
}

/* ZRANGE key start stop [REV] [WITHSCORES] (index ranges only) */
void cmd_zrange(ctx *x)
{
    bool scores = false, rev = false;
    for (size_t i = 4; i < x->argc; i++) {
        if (arg_is(x, i, "WITHSCORES")) {
            scores = true;
        } else if (arg_is(x, i, "REV")) {
            rev = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    long long start, stop;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_zset *z = (srv_zset *)o;
    long long len = (long long)z->len;
    if (!range_clamp(len, &start, &stop)) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    long long n = stop - start + 1;
    srv_reply_array(x->out, scores ? n * 2 : n);
    srv_znode *node = srv_zset_at(z, (size_t)(rev ? len - 1 - start : start));
    for (long long k = 0; k < n && node != NULL; k++) {
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        if (scores) {
            srv_reply_double(x->out, node->score);
        }
        node = rev ? node->back : node->level[0].fwd;
    }
}

void cmd_zpopmin(ctx *x)
{
    long long count = 1;
    if (x->argc > 3) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (x->argc == 3) {
        if (!arg_ll(x, 2, &count)) {
            return;
        }
        if (count < 0) {
            srv_reply_error(x->out, E_POSITIVE);
            return;
        }
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_zset *z = (srv_zset *)o;
    mw_incref(o);
    size_t n = (size_t)count < z->len ? (size_t)count : z->len;
    srv_reply_array(x->out, (long long)n * 2);
    for (size_t i = 0; i < n; i++) {
        srv_znode *node = z->header->level[0].fwd;
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        srv_reply_double(x->out, node->score);
        srv_zset_del(z, node->entry->key, node->entry->klen);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}
