/*
 * server/cmd_keys.c - commands on keys of any type: DBSIZE, FLUSHDB, KEYS, SCAN, TYPE,
 * EXISTS, DEL, RENAME, expiry.
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
 * Keys
 * ====================================================================== */

void cmd_dbsize(ctx *x)
{
    srv_reply_int(x->out, (long long)srv_ks.d.count);
}

void cmd_flushdb(ctx *x)
{
    if (x->argc > 2 || (x->argc == 2 && !arg_is(x, 1, "ASYNC") && !arg_is(x, 1, "SYNC"))) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    srv_ks_flush();
    srv_buf_append(x->out, "+OK\r\n", 5);
}

static bool live(srv_entry *e, int64_t now)
{
    return e->expire < 0 || e->expire > now;
}

void cmd_keys(ctx *x)
{
    int64_t now = srv_now_ms();
    size_t n = 0;
    bool all = x->argl[1] == 1 && x->argv[1][0] == '*';
    for (srv_entry *e = srv_ks.d.first; e != NULL; e = e->onext) {
        if (live(e, now) && (all || srv_glob_match(x->argv[1], x->argl[1], e->key, e->klen, false))) {
            n++;
        }
    }
    srv_reply_array(x->out, (long long)n);
    for (srv_entry *e = srv_ks.d.first; e != NULL; e = e->onext) {
        if (live(e, now) && (all || srv_glob_match(x->argv[1], x->argl[1], e->key, e->klen, false))) {
            srv_reply_bulk(x->out, e->key, e->klen);
        }
    }
}

typedef struct scan_acc {
    srv_entry **keys;
    size_t n, cap;
    bool oom;
} scan_acc;

static void scan_collect(srv_entry *e, void *arg)
{
    scan_acc *a = arg;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        srv_entry **k = realloc(a->keys, cap * sizeof *k);
        if (k == NULL) {
            a->oom = true;
            return;
        }
        a->keys = k;
        a->cap = cap;
    }
    a->keys[a->n++] = e;
}

void cmd_scan(ctx *x)
{
    char *end;
    char tmp[32];
    if (x->argl[1] == 0 || x->argl[1] >= sizeof tmp) {
        srv_reply_error(x->out, "ERR invalid cursor");
        return;
    }
    memcpy(tmp, x->argv[1], x->argl[1]);
    tmp[x->argl[1]] = '\0';
    errno = 0;
    unsigned long long cursor = strtoull(tmp, &end, 10);
    if (*end != '\0' || errno != 0 || tmp[0] == '-') {
        srv_reply_error(x->out, "ERR invalid cursor");
        return;
    }
    long long count = 10;
    const char *pat = NULL, *type = NULL;
    size_t patlen = 0, typelen = 0;
    for (size_t i = 2; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (arg_is(x, i, "COUNT") && more) {
            if (!arg_ll(x, i + 1, &count)) {
                return;
            }
            if (count < 1) {
                srv_reply_error(x->out, E_SYNTAX);
                return;
            }
            i++;
        } else if (arg_is(x, i, "MATCH") && more) {
            pat = x->argv[i + 1];
            patlen = x->argl[i + 1];
            i++;
        } else if (arg_is(x, i, "TYPE") && more) {
            type = x->argv[i + 1];
            typelen = x->argl[i + 1];
            i++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    scan_acc acc = {0};
    long long budget = count * 10;
    do {
        cursor = srv_dict_scan(&srv_ks.d, cursor, scan_collect, &acc);
    } while (cursor != 0 && budget-- > 0 && (long long)acc.n < count && !acc.oom);
    if (acc.oom) {
        free(acc.keys);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    int64_t now = srv_now_ms();
    size_t keep = 0;
    for (size_t i = 0; i < acc.n; i++) {
        srv_entry *e = acc.keys[i];
        if (!live(e, now)) {
            continue;
        }
        if (pat != NULL && !srv_glob_match(pat, patlen, e->key, e->klen, false)) {
            continue;
        }
        if (type != NULL) {
            const char *t = srv_type_name(e->v.obj);
            if (strlen(t) != typelen || strncasecmp(t, type, typelen) != 0) {
                continue;
            }
        }
        acc.keys[keep++] = e;
    }
    char cur[24];
    size_t cn = (size_t)snprintf(cur, sizeof cur, "%llu", cursor);
    srv_reply_array(x->out, 2);
    srv_reply_bulk(x->out, cur, cn);
    srv_reply_array(x->out, (long long)keep);
    for (size_t i = 0; i < keep; i++) {
        srv_reply_bulk(x->out, acc.keys[i]->key, acc.keys[i]->klen);
    }
    free(acc.keys);
}

void cmd_type(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    srv_reply_status(x->out, e == NULL ? "none" : srv_type_name(e->v.obj));
}

void cmd_exists(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_find(x->argv[i], x->argl[i]) != NULL;
    }
    srv_reply_int(x->out, n);
}

void cmd_del(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_del(x->argv[i], x->argl[i]);
    }
    srv_reply_int(x->out, n);
}

void cmd_rename(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    if (x->argl[1] == x->argl[2] && memcmp(x->argv[1], x->argv[2], x->argl[1]) == 0) {
        srv_buf_append(x->out, "+OK\r\n", 5);
        return;
    }
    mw_object *v = e->v.obj;
    int64_t when = e->expire;
    mw_incref(v);
    srv_ks_remove(e);
    if (!srv_ks_set(x->argv[2], x->argl[2], v, false)) {
        mw_decref(v);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    mw_decref(v);
    if (when >= 0) {
        srv_ks_set_expire(srv_ks_find(x->argv[2], x->argl[2]), when);
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* EXPIRE/PEXPIRE key time [NX|XX|GT|LT] */
static void generic_expire(ctx *x, long long unit, const char *name)
{
    long long t;
    if (!arg_ll(x, 2, &t)) {
        return;
    }
    bool nx = false, xx = false, gt = false, lt = false;
    for (size_t i = 3; i < x->argc; i++) {
        if (arg_is(x, i, "NX")) {
            nx = true;
        } else if (arg_is(x, i, "XX")) {
            xx = true;
        } else if (arg_is(x, i, "GT")) {
            gt = true;
        } else if (arg_is(x, i, "LT")) {
            lt = true;
        } else {
            srv_reply_errorf(x->out, "ERR Unsupported option %.*s",
                             (int)(x->argl[i] > 128 ? 128 : x->argl[i]), x->argv[i]);
            return;
        }
    }
    if (nx && (xx || gt || lt)) {
        srv_reply_error(x->out, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if (gt && lt) {
        srv_reply_error(x->out, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    int64_t now = srv_now_ms();
    if (t > INT64_MAX / unit || t < INT64_MIN / unit ||
        (t * unit > 0 && t * unit > INT64_MAX - now)) {
        srv_reply_errorf(x->out, "ERR invalid expire time in '%s' command", name);
        return;
    }
    int64_t when = t * unit + now;
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    // A key without expiry counts as an infinite TTL for GT and LT.
    if ((nx && e->expire >= 0) || (xx && e->expire < 0) ||
        (gt && (e->expire < 0 || when <= e->expire)) ||
        (lt && e->expire >= 0 && when >= e->expire)) {
        srv_reply_int(x->out, 0);
        return;
    }
    if (when <= now) {
        srv_ks_remove(e);
    } else {
        srv_ks_set_expire(e, when);
    }
    srv_reply_int(x->out, 1);
}

void cmd_expire(ctx *x)
{
    generic_expire(x, 1000, "expire");
}

void cmd_pexpire(ctx *x)
{
    generic_expire(x, 1, "pexpire");
}

static void generic_ttl(ctx *x, bool ms)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_int(x->out, -2);
        return;
    }
    if (e->expire < 0) {
        srv_reply_int(x->out, -1);
        return;
    }
    int64_t left = e->expire - srv_now_ms();
    if (left < 0) {
        left = 0;
    }
    srv_reply_int(x->out, ms ? left : (left + 500) / 1000);
}

void cmd_ttl(ctx *x)
{
    generic_ttl(x, false);
}

void cmd_pttl(ctx *x)
{
    generic_ttl(x, true);
}

void cmd_persist(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL || e->expire < 0) {
        srv_reply_int(x->out, 0);
        return;
    }
    srv_ks_set_expire(e, -1);
    srv_reply_int(x->out, 1);
}
