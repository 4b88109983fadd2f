/*
 * server/cmd_set.c - set commands: SADD, SREM, SMEMBERS, SISMEMBER, SCARD, SPOP.
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
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_set *s = (srv_set *)o;
    srv_reply_array(x->out, (long long)s->d.count);
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
            srv_buf_append(x->out, "*0\r\n", 4);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_set *s = (srv_set *)o;
    mw_incref(o);
    size_t n = count < 0 ? 1 : ((size_t)count < s->d.count ? (size_t)count : s->d.count);
    if (count >= 0) {
        srv_reply_array(x->out, (long long)n);
    }
    for (size_t i = 0; i < n; i++) {
        srv_entry *e = srv_dict_random(&s->d);
        srv_reply_bulk(x->out, e->key, e->klen);
        srv_dict_remove(&s->d, e);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}
