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
    } else {
        size_t n = (size_t)count < l->len ? (size_t)count : l->len;
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            mw_object *v = srv_list_pop(l, left);
            reply_str(x->out, v);
            mw_decref(v);
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
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, removed);
}
