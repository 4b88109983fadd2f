/*
 * server/cmd_zset.c - sorted-set commands: ZADD and its options, ZINCRBY, ZREM, ZSCORE,
 * ZMSCORE, ZCARD, ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZRANDMEMBER, ZRANGE in
 * Redis 7.0's full syntax with its older forms (ZREVRANGE, ZRANGEBYSCORE,
 * ZREVRANGEBYSCORE, ZRANGEBYLEX, ZREVRANGEBYLEX) and ZRANGESTORE, ZCOUNT, ZLEXCOUNT and the
 * ZREMRANGEBY* commands, and ZUNION, ZINTER, ZDIFF with their STORE forms.
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
    if (added + changed > 0) {
        notify_key(x, SRV_NOTIFY_ZSET, incr ? "zincr" : "zadd", 1);
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
    bool changed = cur == NULL || ns != cur->score;
    if (srv_zset_add(z, x->argv[3], x->argl[3], ns) < 0) {
        srv_reply_error(x->out, E_NOMEM);
        drop_if_empty(x, 1, &z->ob);
        return;
    }
    if (changed) {
        notify_key(x, SRV_NOTIFY_ZSET, "zincr", 1);
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
    if (n > 0) {
        notify_key(x, SRV_NOTIFY_ZSET, "zrem", 1);
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

/* ZPOPMIN/ZPOPMAX key [count]: the count lowest (or highest) members,
 * with their scores, removed. */
static void zpop(ctx *x, bool max)
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
    // Redis nests the pairs in RESP3 only when a count was given.
    if (x->argc == 3) {
        srv_reply_pairs(x->out, (long long)n);
    } else {
        srv_reply_array(x->out, (long long)n * 2);
    }
    for (size_t i = 0; i < n; i++) {
        srv_znode *node = max ? z->tail : z->header->level[0].fwd;
        if (x->argc == 3) {
            srv_reply_pair(x->out);
        }
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        srv_reply_double(x->out, node->score);
        srv_zset_del(z, node->entry->key, node->entry->klen);
    }
    if (n > 0) {
        notify_key(x, SRV_NOTIFY_ZSET, max ? "zpopmax" : "zpopmin", 1);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

void cmd_zpopmin(ctx *x)
{
    zpop(x, false);
}

/* ======================================================================
 * Ranges by score and by member (lexicographic)
 *
 * A score range is two bounds, each a float or -inf/+inf, "(" before one
 * making it exclusive; a lex range is two of "[m" (inclusive), "(m"
 * (exclusive), "-" (below everything) and "+" (above everything).  The
 * first node in a range is found by descending the skiplist's levels past
 * every node below the range, the last by descending past every node not
 * above it, so a range costs O(log n) plus its length.
 * ====================================================================== */

typedef struct zrange_spec {
    bool lex;
    double min, max;            /* scores */
    bool minex, maxex;
    const char *lmin, *lmax;    /* lex: NULL with inf set for -/+ */
    size_t lminn, lmaxn;
    int lmininf, lmaxinf;       /* -1: "-", +1: "+", 0: a member */
} zrange_spec;

static bool parse_score_bound(const char *p, size_t n, double *v, bool *ex)
{
    *ex = n > 0 && p[0] == '(';
    if (*ex) {
        p++;
        n--;
    }
    return srv_str2d(p, n, v);
}

static bool parse_lex_bound(const char *p, size_t n, const char **m, size_t *mn, int *inf)
{
    if (n == 1 && p[0] == '+') {
        *inf = 1;
    } else if (n == 1 && p[0] == '-') {
        *inf = -1;
    } else if (n >= 1 && (p[0] == '[' || p[0] == '(')) {
        *inf = 0;
        *m = p + 1;
        *mn = n - 1;
    } else {
        return false;
    }
    return true;
}

/* Parse arguments imin, imax into r; false after replying Redis's error. */
static bool parse_range(ctx *x, bool lex, size_t imin, size_t imax, zrange_spec *r)
{
    memset(r, 0, sizeof *r);
    r->lex = lex;
    if (!lex) {
        if (!parse_score_bound(x->argv[imin], x->argl[imin], &r->min, &r->minex) ||
            !parse_score_bound(x->argv[imax], x->argl[imax], &r->max, &r->maxex)) {
            srv_reply_error(x->out, "ERR min or max is not a float");
            return false;
        }
        return true;
    }
    bool exmin = x->argl[imin] > 0 && x->argv[imin][0] == '(';
    bool exmax = x->argl[imax] > 0 && x->argv[imax][0] == '(';
    if (!parse_lex_bound(x->argv[imin], x->argl[imin], &r->lmin, &r->lminn, &r->lmininf) ||
        !parse_lex_bound(x->argv[imax], x->argl[imax], &r->lmax, &r->lmaxn, &r->lmaxinf)) {
        srv_reply_error(x->out, "ERR min or max not valid string range item");
        return false;
    }
    r->minex = exmin;
    r->maxex = exmax;
    return true;
}

static int lex_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : (an < bn ? -1 : an > bn);
}

/* Whether node n lies below the range's minimum / above its maximum. */
static bool below_min(const zrange_spec *r, const srv_znode *n)
{
    if (!r->lex) {
        return r->minex ? n->score <= r->min : n->score < r->min;
    }
    if (r->lmininf != 0) {
        return r->lmininf > 0;
    }
    int c = lex_cmp(n->entry->key, n->entry->klen, r->lmin, r->lminn);
    return r->minex ? c <= 0 : c < 0;
}

static bool above_max(const zrange_spec *r, const srv_znode *n)
{
    if (!r->lex) {
        return r->maxex ? n->score >= r->max : n->score > r->max;
    }
    if (r->lmaxinf != 0) {
        return r->lmaxinf < 0;
    }
    int c = lex_cmp(n->entry->key, n->entry->klen, r->lmax, r->lmaxn);
    return r->maxex ? c >= 0 : c > 0;
}

static srv_znode *first_in_range(srv_zset *z, const zrange_spec *r)
{
    srv_znode *n = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (n->level[i].fwd != NULL && below_min(r, n->level[i].fwd)) {
            n = n->level[i].fwd;
        }
    }
    n = n->level[0].fwd;
    return n != NULL && !above_max(r, n) ? n : NULL;
}

static srv_znode *last_in_range(srv_zset *z, const zrange_spec *r)
{
    srv_znode *n = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (n->level[i].fwd != NULL && !above_max(r, n->level[i].fwd)) {
            n = n->level[i].fwd;
        }
    }
    return n != z->header && !below_min(r, n) ? n : NULL;
}

/* The header of n members, with their scores or not: RESP3 nests each
 * (member, score) pair in an array of its own, RESP2 flattens them. */
static void reply_nodes_len(ctx *x, long long n, bool scores)
{
    if (scores) {
        srv_reply_pairs(x->out, n);
    } else {
        srv_reply_array(x->out, n);
    }
}

static void reply_node(ctx *x, srv_znode *n, bool scores)
{
    if (scores) {
        srv_reply_pair(x->out);
    }
    srv_reply_bulk(x->out, n->entry->key, n->entry->klen);
    if (scores) {
        srv_reply_double(x->out, n->score);
    }
}

/* A parsed ZRANGE request (or one of its older forms, or ZRANGESTORE):
 * by 0 rank, 1 score, 2 lex; rev: the range is given high to low. */
typedef struct zrange_req {
    int by;
    bool rev, scores;
    long long start, stop;      /* by rank */
    long long offset, limit;    /* LIMIT (limit -1: none) */
    zrange_spec rs;             /* by score or lex */
} zrange_req;

/* Parse the range at arguments key + 1 and key + 2 and the options after
 * them into q.  by: 0 rank, 1 score, 2 lex (-1: chosen by BYSCORE/BYLEX);
 * rev: -1 chosen by REV.  store (ZRANGESTORE) refuses WITHSCORES.  False
 * after replying Redis's error. */
static bool zrange_parse(ctx *x, size_t key, int by, int rev, bool store, zrange_req *q)
{
    bool fixed_by = by >= 0, fixed_rev = rev >= 0, has_limit = false;
    q->scores = false;
    q->offset = 0;
    q->limit = -1;
    for (size_t i = key + 3; i < x->argc; i++) {
        if (!store && arg_is(x, i, "WITHSCORES")) {
            q->scores = true;
        } else if (arg_is(x, i, "LIMIT") && i + 2 < x->argc) {
            if (!arg_ll(x, i + 1, &q->offset) || !arg_ll(x, i + 2, &q->limit)) {
                return false;
            }
            has_limit = q->limit != -1; // Redis: LIMIT x -1 is no limit at all
            i += 2;
        } else if (!fixed_rev && arg_is(x, i, "REV")) {
            rev = 1;
        } else if (!fixed_by && by < 0 && arg_is(x, i, "BYLEX")) {
            by = 2;
        } else if (!fixed_by && by < 0 && arg_is(x, i, "BYSCORE")) {
            by = 1;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return false;
        }
    }
    q->by = by < 0 ? 0 : by;
    q->rev = rev > 0;
    if (has_limit && q->by == 0) {
        srv_reply_error(x->out, "ERR syntax error, LIMIT is only supported in combination with "
                                "either BYSCORE or BYLEX");
        return false;
    }
    if (q->scores && q->by == 2) {
        srv_reply_error(x->out,
                        "ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return false;
    }
    if (q->by == 0) {
        return arg_ll(x, key + 1, &q->start) && arg_ll(x, key + 2, &q->stop);
    }
    return parse_range(x, q->by == 2, q->rev ? key + 2 : key + 1, q->rev ? key + 1 : key + 2,
                       &q->rs);
}

static srv_znode *zstep(const zrange_req *q, srv_znode *n)
{
    return q->rev ? n->back : n->level[0].fwd;
}

/* The nodes of z that q selects: the first in *first (walk on with
 * zstep), how many returned. */
static long long zrange_select(srv_zset *z, const zrange_req *q, srv_znode **first)
{
    *first = NULL;
    if (q->by == 0) {
        long long len = (long long)z->len, start = q->start, stop = q->stop;
        if (!range_clamp(len, &start, &stop)) {
            return 0;
        }
        *first = srv_zset_at(z, (size_t)(q->rev ? len - 1 - start : start));
        return stop - start + 1;
    }
    if (q->offset < 0) {
        return 0;
    }
    srv_znode *node = q->rev ? last_in_range(z, &q->rs) : first_in_range(z, &q->rs);
    for (long long k = 0; node != NULL && k < q->offset; k++) {
        node = zstep(q, node);
    }
    long long n = 0;
    for (srv_znode *p = node; p != NULL && (q->limit < 0 || n < q->limit); p = zstep(q, p)) {
        if (q->rev ? below_min(&q->rs, p) : above_max(&q->rs, p)) {
            break;
        }
        n++;
    }
    *first = node;
    return n;
}

/* ZRANGE and its older forms share one reader: by and rev as for
 * zrange_parse, the key at argv[1]. */
static void zrange_generic(ctx *x, int by, int rev)
{
    zrange_req q;
    if (!zrange_parse(x, 1, by, rev, false, &q)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_buf_append(x->out, "*0\r\n", 4);
        }
        return;
    }
    srv_znode *node;
    long long n = zrange_select((srv_zset *)o, &q, &node);
    reply_nodes_len(x, n, q.scores);
    for (long long k = 0; k < n && node != NULL; k++) {
        reply_node(x, node, q.scores);
        node = zstep(&q, node);
    }
}

/* ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
 * ZRANGE's selection stored at dst (replacing it, or deleting it when the
 * selection is empty), replying its size. */
void cmd_zrangestore(ctx *x)
{
    zrange_req q;
    if (!zrange_parse(x, 2, -1, -1, true, &q)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 2, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_znode *node = NULL;
    long long n = r > 0 ? zrange_select((srv_zset *)o, &q, &node) : 0;
    if (n == 0 || node == NULL) {
        srv_ks_del(x->argv[1], x->argl[1]);
        srv_reply_int(x->out, 0);
        return;
    }
    srv_zset *res = srv_zset_new();
    if (res == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    long long k = 0;
    for (; k < n && node != NULL; k++, node = zstep(&q, node)) {
        if (srv_zset_add(res, node->entry->key, node->entry->klen, node->score) < 0) {
            break;
        }
    }
    if (k < n && node != NULL) {
        srv_reply_error(x->out, E_NOMEM);
    } else if (!srv_ks_set(x->argv[1], x->argl[1], &res->ob, false)) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_int(x->out, (long long)res->len);
    }
    mw_decref(&res->ob);
}

/* ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] */
void cmd_zrange(ctx *x)
{
    zrange_generic(x, -1, -1);
}

void cmd_zrevrange(ctx *x)
{
    zrange_generic(x, 0, 1);
}

void cmd_zrangebyscore(ctx *x)
{
    zrange_generic(x, 1, 0);
}

void cmd_zrevrangebyscore(ctx *x)
{
    zrange_generic(x, 1, 1);
}

void cmd_zrangebylex(ctx *x)
{
    zrange_generic(x, 2, 0);
}

void cmd_zrevrangebylex(ctx *x)
{
    zrange_generic(x, 2, 1);
}

/* ZCOUNT / ZLEXCOUNT key min max: the members in the range. */
static void zcount_generic(ctx *x, bool lex)
{
    zrange_spec rs;
    if (!parse_range(x, lex, 2, 3, &rs)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_zset *z = (srv_zset *)o;
    srv_znode *a = first_in_range(z, &rs), *b = a != NULL ? last_in_range(z, &rs) : NULL;
    if (a == NULL || b == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    long long ra = srv_zset_rank(z, a->entry->key, a->entry->klen);
    long long rb = srv_zset_rank(z, b->entry->key, b->entry->klen);
    srv_reply_int(x->out, rb >= ra ? rb - ra + 1 : 0);
}

void cmd_zcount(ctx *x)
{
    zcount_generic(x, false);
}

void cmd_zlexcount(ctx *x)
{
    zcount_generic(x, true);
}

/* ZREMRANGEBYRANK/BYSCORE/BYLEX key a b: remove the range, reply how many. */
static void zremrange_generic(ctx *x, int by)
{
    long long start = 0, stop = 0;
    zrange_spec rs;
    if (by == 0) {
        if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
            return;
        }
    } else if (!parse_range(x, by == 2, 2, 3, &rs)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_zset_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_zset *z = (srv_zset *)o;
    srv_znode *node;
    long long n = -1;  // by rank: how many; else until out of range
    if (by == 0) {
        if (!range_clamp((long long)z->len, &start, &stop)) {
            srv_reply_int(x->out, 0);
            return;
        }
        node = srv_zset_at(z, (size_t)start);
        n = stop - start + 1;
    } else {
        node = first_in_range(z, &rs);
    }
    mw_incref(o);
    long long removed = 0;
    while (node != NULL && (n < 0 || removed < n) && (by == 0 || !above_max(&rs, node))) {
        srv_znode *next = node->level[0].fwd;
        srv_zset_del(z, node->entry->key, node->entry->klen);
        removed++;
        node = next;
    }
    if (removed > 0) {
        static const char *const events[] = {"zremrangebyrank", "zremrangebyscore",
                                             "zremrangebylex"};
        notify_key(x, SRV_NOTIFY_ZSET, events[by], 1);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
    srv_reply_int(x->out, removed);
}

void cmd_zremrangebyrank(ctx *x)
{
    zremrange_generic(x, 0);
}

void cmd_zremrangebyscore(ctx *x)
{
    zremrange_generic(x, 1);
}

void cmd_zremrangebylex(ctx *x)
{
    zremrange_generic(x, 2);
}

void cmd_zrevrank(ctx *x)
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
        srv_reply_int(x->out, (long long)((srv_zset *)o)->len - 1 - rank);
    }
}

/* ZPOPMAX key [count] */
void cmd_zpopmax(ctx *x)
{
    zpop(x, true);
}

/* ZMSCORE key member [member ...] */
void cmd_zmscore(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)(x->argc - 2));
    for (size_t i = 2; i < x->argc; i++) {
        srv_znode *n = r > 0 ? srv_zset_find((srv_zset *)o, x->argv[i], x->argl[i]) : NULL;
        if (n == NULL) {
            srv_reply_null(x->out);
        } else {
            srv_reply_double(x->out, n->score);
        }
    }
}

/* ZRANDMEMBER key [count [WITHSCORES]]: as SRANDMEMBER, by rank. */
void cmd_zrandmember(ctx *x)
{
    long long count = 0;
    bool has_count = x->argc >= 3, scores = false;
    if (x->argc > 4 || (x->argc == 4 && !arg_is(x, 3, "WITHSCORES"))) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    scores = x->argc == 4;
    if (has_count) {
        if (!random_count_arg(x, 2, &count)) {
            return;
        }
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    srv_zset *z = (srv_zset *)o;
    if (!has_count) {
        if (r == 0) {
            srv_reply_null(x->out);
        } else {
            reply_node(x, srv_zset_at(z, (size_t)random() % z->len), false);
        }
        return;
    }
    if (r == 0 || count == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    if (count < 0) {
        reply_nodes_len(x, -count, scores);
        for (long long i = 0; i < -count; i++) {
            size_t k = (size_t)random_below(z->len);
            reply_node(x, srv_zset_at(z, k), scores);
        }
        return;
    }
    size_t size = z->len, n = (size_t)count < size ? (size_t)count : size;
    void **all = malloc(size * sizeof *all);
    if (all == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t k = 0;
    for (srv_znode *p = z->header->level[0].fwd; p != NULL; p = p->level[0].fwd) {
        all[k++] = p;
    }
    sample_shuffle(all, size, n);
    reply_nodes_len(x, (long long)n, scores);
    for (size_t i = 0; i < n; i++) {
        reply_node(x, (srv_znode *)all[i], scores);
    }
    free(all);
}

/* ======================================================================
 * Several sorted sets: ZUNION, ZINTER, ZDIFF and their STORE forms
 *
 * Inputs may be sorted sets or plain sets (every member scoring 1); a
 * missing key is empty.  A member's score is its input score times that
 * input's weight (0 where that is NaN, as for 0 * inf), and a member found
 * in several inputs gets their SUM (NaN, from inf + -inf, taken as 0),
 * MIN or MAX.  The result is built in a fresh sorted set, then replied or
 * stored at the destination.
 * ====================================================================== */

enum { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum { AGG_SUM, AGG_MIN, AGG_MAX };

typedef struct zsrc {
    mw_object *o;               /* srv_zset, srv_set or NULL */
    double weight;
} zsrc;

static size_t zsrc_len(const zsrc *s)
{
    return s->o == NULL ? 0 : agg_len(s->o);
}

/* The score of member m in s: true if it is there. */
static bool zsrc_score(const zsrc *s, const char *m, size_t n, double *score)
{
    if (s->o == NULL) {
        return false;
    }
    if (mw_type_of(s->o) == &srv_set_type) {
        *score = 1.0;
        return srv_dict_find(&((srv_set *)s->o)->d, m, n, srv_hash_bytes(m, n)) != NULL;
    }
    srv_znode *z = srv_zset_find((srv_zset *)s->o, m, n);
    if (z != NULL) {
        *score = z->score;
    }
    return z != NULL;
}

static double weighted(double score, double w)
{
    double v = score * w;
    return isnan(v) ? 0.0 : v;
}

static double aggregate(int agg, double a, double b)
{
    if (agg == AGG_SUM) {
        double v = a + b;
        return isnan(v) ? 0.0 : v;
    }
    return agg == AGG_MIN ? (b < a ? b : a) : (b > a ? b : a);
}

/* Visit every member of s: fn(member, len, score, arg); false stops. */
typedef bool (*zvisit_fn)(const char *m, size_t n, double score, void *arg);

static bool zsrc_each(const zsrc *s, zvisit_fn fn, void *arg)
{
    if (s->o == NULL) {
        return true;
    }
    if (mw_type_of(s->o) == &srv_set_type) {
        for (srv_entry *e = ((srv_set *)s->o)->d.first; e != NULL; e = e->onext) {
            if (!fn(e->key, e->klen, 1.0, arg)) {
                return false;
            }
        }
        return true;
    }
    for (srv_znode *z = ((srv_zset *)s->o)->header->level[0].fwd; z != NULL;
         z = z->level[0].fwd) {
        if (!fn(z->entry->key, z->entry->klen, z->score, arg)) {
            return false;
        }
    }
    return true;
}

typedef struct zop_state {
    srv_zset *res;
    zsrc *src;
    size_t nsrc, cur;
    int agg;
} zop_state;

static bool visit_union(const char *m, size_t n, double score, void *arg)
{
    zop_state *st = arg;
    double v = weighted(score, st->src[st->cur].weight);
    srv_znode *have = srv_zset_find(st->res, m, n);
    if (have != NULL) {
        v = aggregate(st->agg, have->score, v);
        if (v == have->score) {
            return true;
        }
    }
    return srv_zset_add(st->res, m, n, v) >= 0;
}

static bool visit_inter(const char *m, size_t n, double score, void *arg)
{
    zop_state *st = arg;
    double v = weighted(score, st->src[st->cur].weight);
    for (size_t k = 0; k < st->nsrc; k++) {
        double s2;
        if (k == st->cur) {
            continue;
        }
        if (!zsrc_score(&st->src[k], m, n, &s2)) {
            return true;
        }
        v = aggregate(st->agg, v, weighted(s2, st->src[k].weight));
    }
    return srv_zset_add(st->res, m, n, v) >= 0;
}

static bool visit_diff(const char *m, size_t n, double score, void *arg)
{
    zop_state *st = arg;
    double s2;
    for (size_t k = 1; k < st->nsrc; k++) {
        if (zsrc_score(&st->src[k], m, n, &s2)) {
            return true;
        }
    }
    return srv_zset_add(st->res, m, n, score) >= 0;
}

/* The n sources at argv[first..] (sorted sets, sets, or missing: NULL),
 * weight 1 each, in a malloc'd array; NULL after replying CROSSSLOT (a
 * key outside argv[slotkey]'s slot, sharded), WRONGTYPE or OOM. */
static zsrc *zsrc_load(ctx *x, size_t slotkey, size_t first, size_t n)
{
    if (srv_split()) {
        unsigned slot = srv_key_slot(x->argv[slotkey], x->argl[slotkey]);
        for (size_t i = first; i < first + n; i++) {
            if (srv_key_slot(x->argv[i], x->argl[i]) != slot) {
                srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
                return NULL;
            }
        }
    }
    zsrc *src = malloc(n * sizeof *src);
    if (src == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        srv_entry *e = srv_ks_find(x->argv[first + i], x->argl[first + i]);
        src[i].weight = 1.0;
        src[i].o = e != NULL ? e->v.obj : NULL;
        if (e != NULL && mw_type_of(e->v.obj) != &srv_zset_type &&
            mw_type_of(e->v.obj) != &srv_set_type) {
            srv_reply_error(x->out, E_WRONGTYPE);
            free(src);
            return NULL;
        }
    }
    return src;
}

/* Z{UNION,INTER,DIFF}STORE destination numkeys key... [WEIGHTS w...]
 * [AGGREGATE SUM|MIN|MAX] (store), or Z{UNION,INTER,DIFF} numkeys key...
 * [WEIGHTS w...] [AGGREGATE ...] [WITHSCORES]. */
static void zsetop_generic(ctx *x, int op, bool store, const char *name)
{
    size_t ni = store ? 2 : 1;
    long long nk;
    if (!arg_ll(x, ni, &nk)) {
        return;
    }
    if (nk < 1) {
        srv_reply_errorf(x->out, "ERR at least 1 input key is needed for '%s' command", name);
        return;
    }
    if (nk > (long long)(x->argc - ni - 1)) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t n = (size_t)nk, first = ni + 1;
    zsrc *src = zsrc_load(x, store ? 1 : first, first, n);
    if (src == NULL) {
        return;
    }
    int agg = AGG_SUM;
    bool scores = false;
    for (size_t j = first + n; j < x->argc; j++) {
        size_t left = x->argc - j - 1;
        if (op != ZOP_DIFF && arg_is(x, j, "WEIGHTS") && left >= n) {
            for (size_t k = 0; k < n; k++) {
                j++;
                if (!srv_str2d(x->argv[j], x->argl[j], &src[k].weight)) {
                    srv_reply_error(x->out, "ERR weight value is not a float");
                    free(src);
                    return;
                }
            }
        } else if (op != ZOP_DIFF && arg_is(x, j, "AGGREGATE") && left >= 1) {
            j++;
            if (arg_is(x, j, "SUM")) {
                agg = AGG_SUM;
            } else if (arg_is(x, j, "MIN")) {
                agg = AGG_MIN;
            } else if (arg_is(x, j, "MAX")) {
                agg = AGG_MAX;
            } else {
                srv_reply_error(x->out, E_SYNTAX);
                free(src);
                return;
            }
        } else if (!store && arg_is(x, j, "WITHSCORES")) {
            scores = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            free(src);
            return;
        }
    }
    zop_state st = {.res = srv_zset_new(), .src = src, .nsrc = n, .agg = agg};
    if (st.res == NULL) {
        mw_err_clear();
        free(src);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    bool ok = true;
    if (op == ZOP_UNION) {
        for (st.cur = 0; ok && st.cur < n; st.cur++) {
            ok = zsrc_each(&src[st.cur], visit_union, &st);
        }
    } else if (op == ZOP_INTER) {
        size_t small = 0;
        for (size_t k = 0; k < n; k++) {
            if (zsrc_len(&src[k]) < zsrc_len(&src[small])) {
                small = k;
            }
        }
        st.cur = small;
        ok = zsrc_len(&src[small]) == 0 || zsrc_each(&src[small], visit_inter, &st);
    } else {
        ok = zsrc_each(&src[0], visit_diff, &st);
    }
    free(src);
    srv_zset *res = st.res;
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
    } else if (!store) {
        reply_nodes_len(x, (long long)res->len, scores);
        for (srv_znode *p = res->header->level[0].fwd; p != NULL; p = p->level[0].fwd) {
            reply_node(x, p, scores);
        }
    } else if (res->len == 0) {
        if (srv_ks_del(x->argv[1], x->argl[1])) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
        }
        srv_reply_int(x->out, 0);
    } else if (!srv_ks_set(x->argv[1], x->argl[1], &res->ob, false)) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    } else {
        notify_key(x, SRV_NOTIFY_ZSET, name, 1);  // "zunionstore", ...
        srv_reply_int(x->out, (long long)res->len);
    }
    mw_decref(&res->ob);
}

void cmd_zunionstore(ctx *x)
{
    zsetop_generic(x, ZOP_UNION, true, "zunionstore");
}

void cmd_zinterstore(ctx *x)
{
    zsetop_generic(x, ZOP_INTER, true, "zinterstore");
}

void cmd_zdiffstore(ctx *x)
{
    zsetop_generic(x, ZOP_DIFF, true, "zdiffstore");
}

void cmd_zunion(ctx *x)
{
    zsetop_generic(x, ZOP_UNION, false, "zunion");
}

void cmd_zinter(ctx *x)
{
    zsetop_generic(x, ZOP_INTER, false, "zinter");
}

void cmd_zdiff(ctx *x)
{
    zsetop_generic(x, ZOP_DIFF, false, "zdiff");
}

/* ZINTERCARD numkeys key [key ...] [LIMIT limit]: the size of the
 * intersection of sorted sets (or sets), counted over the smallest and
 * stopped at limit (0: none), with Redis's errors. */
void cmd_zintercard(ctx *x)
{
    long long nk;
    if (!arg_ll(x, 1, &nk)) {
        return;
    }
    if (nk < 1) {
        srv_reply_error(x->out, "ERR at least 1 input key is needed for 'zintercard' command");
        return;
    }
    if (nk > (long long)(x->argc - 2)) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t n = (size_t)nk;
    long long limit = 0;
    for (size_t j = 2 + n; j < x->argc; j++) {
        if (arg_is(x, j, "LIMIT") && j + 1 < x->argc) {
            j++;
            if (!srv_str2ll(x->argv[j], x->argl[j], &limit) || limit < 0) {
                srv_reply_error(x->out, "ERR LIMIT can't be negative");
                return;
            }
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    zsrc *src = zsrc_load(x, 2, 2, n);
    if (src == NULL) {
        return;
    }
    size_t small = 0;
    bool empty = false;
    for (size_t i = 0; i < n; i++) {
        empty |= src[i].o == NULL;
        if (zsrc_len(&src[i]) < zsrc_len(&src[small])) {
            small = i;
        }
    }
    long long card = 0;
    if (!empty) {
        srv_dict *d = mw_type_of(src[small].o) == &srv_set_type ? &((srv_set *)src[small].o)->d
                                                                 : &((srv_zset *)src[small].o)->d;
        for (srv_entry *e = d->first; e != NULL && (limit == 0 || card < limit); e = e->onext) {
            bool all = true;
            double unused;
            for (size_t k = 0; k < n && all; k++) {
                all = k == small || zsrc_score(&src[k], e->key, e->klen, &unused);
            }
            card += all;
        }
    }
    free(src);
    srv_reply_int(x->out, card);
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] (cmd_keys.c walks). */
void cmd_zscan(ctx *x)
{
    mw_object *o;
    if (lookup_read(x, 1, &srv_zset_type, &o) < 0) {
        return;
    }
    scan_collection(x, o == NULL ? NULL : &((srv_zset *)o)->d, 'z');
}

/* ======================================================================
 * Blocking pops and ZMPOP (the waits themselves are in blocking.c)
 * ====================================================================== */

void zset_serve(ctx *x, size_t i, const srv_blk_spec *s)
{
    mw_object *o;
    if (lookup(x, i, &srv_zset_type, &o) <= 0) {
        return;  // the callers looked: cannot happen
    }
    srv_zset *z = (srv_zset *)o;
    mw_incref(o); // popping the last member deletes the key
    bool nested = s->kind == SRV_BLK_ZMPOP;
    size_t n = 1;
    if (nested) {
        n = (size_t)s->count < z->len ? (size_t)s->count : z->len;
        srv_reply_array(x->out, 2);
        srv_reply_bulk(x->out, x->argv[i], x->argl[i]);
        srv_reply_array(x->out, (long long)n);
    } else {
        srv_reply_array(x->out, 3);
        srv_reply_bulk(x->out, x->argv[i], x->argl[i]);
    }
    for (size_t k = 0; k < n; k++) {
        srv_znode *node = s->left ? z->header->level[0].fwd : z->tail;
        if (nested) {
            srv_reply_array(x->out, 2);
        }
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        srv_reply_double(x->out, node->score);
        srv_zset_del(z, node->entry->key, node->entry->klen);
    }
    notify_key(x, SRV_NOTIFY_ZSET, s->left ? "zpopmin" : "zpopmax", i);
    drop_if_empty(x, i, o);
    mw_decref(o);
}

/* The first of the n keys from argument `first` on that holds a sorted
 * set: its index, 0 if none does, -1 after WRONGTYPE. */
static long first_zset(ctx *x, size_t first, size_t n)
{
    for (size_t k = first; k < first + n; k++) {
        mw_object *o;
        int r = lookup(x, k, &srv_zset_type, &o);
        if (r != 0) {
            return r < 0 ? -1 : (long)k;
        }
    }
    return 0;
}

/* BZPOPMIN/BZPOPMAX key [key ...] timeout */
static void bzpop(ctx *x, bool max)
{
    uint64_t deadline;
    if (!block_timeout_arg(x, x->argc - 1, &deadline)) {
        return;
    }
    srv_blk_spec s = {.kind = SRV_BLK_ZPOP, .left = !max, .count = 1};
    long i = first_zset(x, 1, x->argc - 2);
    if (i > 0) {
        zset_serve(x, (size_t)i, &s);
    } else if (i == 0) {
        block_on_keys(x, &s, 1, x->argc - 2, deadline);
    }
}

void cmd_bzpopmin(ctx *x)
{
    bzpop(x, false);
}

void cmd_bzpopmax(ctx *x)
{
    bzpop(x, true);
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count], and BZMPOP with a
 * timeout first. */
static void zmpop(ctx *x, bool block)
{
    size_t nk = block ? 2 : 1, n;
    srv_blk_spec s = {.kind = SRV_BLK_ZMPOP};
    if (!mpop_args(x, nk, true, &n, &s)) {
        return;
    }
    uint64_t deadline = 0;
    if (block && !block_timeout_arg(x, 1, &deadline)) {
        return;
    }
    long i = first_zset(x, nk + 1, n);
    if (i > 0) {
        zset_serve(x, (size_t)i, &s);
    } else if (i == 0) {
        if (block) {
            block_on_keys(x, &s, nk + 1, n, deadline);
        } else {
            srv_reply_null_array(x->out);
        }
    }
}

void cmd_zmpop(ctx *x)
{
    zmpop(x, false);
}

void cmd_bzmpop(ctx *x)
{
    zmpop(x, true);
}
