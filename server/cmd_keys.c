/*
 * server/cmd_keys.c - commands on keys of any type: DBSIZE, FLUSHDB, KEYS, SCAN (and the
 * scan of a collection that HSCAN, SSCAN, ZSCAN share), TYPE,
 * EXISTS, DEL, RENAME, RENAMENX, COPY, TOUCH, RANDOMKEY, OBJECT, expiry
 * (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT and their NX/XX/GT/LT, TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME, PERSIST).
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
    srv_blk_touch_all();  // XREADGROUP's waiters learn their streams are gone
    srv_buf_append(x->out, "+OK\r\n", 5);
}

void cmd_flushall(ctx *x)
{
    if (x->argc > 2 || (x->argc == 2 && !arg_is(x, 1, "ASYNC") && !arg_is(x, 1, "SYNC"))) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    srv_ks_flush_all();
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* The database number at argument i into *db; false after replying
 * Redis's error (not an integer, or out of range). */
static bool db_arg(ctx *x, size_t i, int *db)
{
    long long v;
    if (!arg_ll(x, i, &v)) {
        return false;
    }
    if (v < 0 || v >= srv.ndb) {
        srv_reply_error(x->out, "ERR DB index is out of range");
        return false;
    }
    *db = (int)v;
    return true;
}

/* MOVE key db: into the same shard's database db (a key's slot, so its
 * shard, does not depend on the database), unless it exists there. */
void cmd_move(ctx *x)
{
    int db;
    if (!db_arg(x, 2, &db)) {
        return;
    }
    srv_keyspace *src = srv_ks_cur;
    if (db == src->db) {
        srv_reply_error(x->out, "ERR source and destination objects are the same");
        return;
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    mw_object *v = e->v.obj;
    int64_t when = e->expire;
    srv_ks_use(db);
    bool moved = false;
    if (srv_ks_find(x->argv[1], x->argl[1]) == NULL) {
        moved = srv_ks_set(x->argv[1], x->argl[1], v, false);
        if (moved && when >= 0) {
            srv_ks_set_expire(srv_ks_find(x->argv[1], x->argl[1]), when);
        }
        if (moved) {
            srv_blk_touch(x->argv[1], x->argl[1]);   // served with this database's waiters
        }
    }
    srv_ks_cur = src;
    if (moved) {
        srv_ks_remove(srv_ks_find(x->argv[1], x->argl[1]));
        notify_key(x, SRV_NOTIFY_GENERIC, "move_from", 1);
    }
    srv_reply_int(x->out, moved);
    if (moved) {
        // Clients blocked on the key in db wait on that database's table.
        srv_ks_use(db);
        notify_key(x, SRV_NOTIFY_GENERIC, "move_to", 1);
        srv_blk_serve();
        srv_ks_cur = src;
    }
}

/* SWAPDB a b, on every shard: the two databases exchange their keys.
 * Watchers of a key that exists in either before or after are touched,
 * and clients blocked in either are served from what is there now, as
 * Redis does (touchAllWatchedKeysInDb, scanDatabaseForReadyKeys). */
void cmd_swapdb(ctx *x)
{
    int a, b;
    long long v;
    if (!srv_str2ll(x->argv[1], x->argl[1], &v)) {
        srv_reply_error(x->out, "ERR invalid first DB index");
        return;
    }
    if (!srv_str2ll(x->argv[2], x->argl[2], &v)) {
        srv_reply_error(x->out, "ERR invalid second DB index");
        return;
    }
    if (!db_arg(x, 1, &a) || !db_arg(x, 2, &b)) {
        return;
    }
    srv_keyspace *cur = srv_ks_cur;
    srv_keyspace *ka = srv_ks_base + a, *kb = srv_ks_base + b;
    if (a != b) {
        srv_ks_use(a);
        srv_watch_flush();
        srv_ks_use(b);
        srv_watch_flush();
        srv_dict d = ka->d;
        ka->d = kb->d;
        kb->d = d;
        size_t ex = ka->expires;
        ka->expires = kb->expires;
        kb->expires = ex;
        ka->expire_cursor = kb->expire_cursor = 0;
        for (int i = 0; i < 2; i++) {
            srv_ks_use(i == 0 ? a : b);
            srv_watch_flush();
            srv_blk_touch_all();
            srv_blk_serve();
        }
    }
    srv_ks_cur = cur;
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

bool scan_cursor_arg(ctx *x, size_t i, uint64_t *cursor)
{
    char *end;
    char tmp[32];
    if (x->argl[i] == 0 || x->argl[i] >= sizeof tmp) {
        srv_reply_error(x->out, "ERR invalid cursor");
        return false;
    }
    memcpy(tmp, x->argv[i], x->argl[i]);
    tmp[x->argl[i]] = '\0';
    errno = 0;
    unsigned long long c = strtoull(tmp, &end, 10);
    // Redis reads the cursor with strtoul: "-1" wraps, a leading space
    // or trailing bytes or an overflow are refused.
    if (end != tmp + x->argl[i] || errno != 0 || isspace((unsigned char)tmp[0])) {
        srv_reply_error(x->out, "ERR invalid cursor");
        return false;
    }
    *cursor = c;
    return true;
}

bool scan_opts_args(ctx *x, size_t from, bool type_ok, scan_opts *o)
{
    *o = (scan_opts){.count = 10};
    for (size_t i = from; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (arg_is(x, i, "COUNT") && more) {
            if (!arg_ll(x, i + 1, &o->count)) {
                return false;
            }
            if (o->count < 1) {
                srv_reply_error(x->out, E_SYNTAX);
                return false;
            }
            i++;
        } else if (arg_is(x, i, "MATCH") && more) {
            o->pat = x->argv[i + 1];
            o->patlen = x->argl[i + 1];
            i++;
        } else if (type_ok && arg_is(x, i, "TYPE") && more) {
            o->type = x->argv[i + 1];
            o->typelen = x->argl[i + 1];
            i++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return false;
        }
    }
    return true;
}

/* Walk d from cursor until about count entries are collected (at most
 * count * 10 buckets, as Redis bounds its work): the next cursor, or
 * UINT64_MAX when out of memory (acc freed, error replied). */
static uint64_t scan_walk(ctx *x, srv_dict *d, uint64_t cursor, long long count, scan_acc *acc)
{
    long long budget = count * 10;
    do {
        cursor = srv_dict_scan(d, cursor, scan_collect, acc);
    } while (cursor != 0 && budget-- > 0 && (long long)acc->n < count && !acc->oom);
    if (acc->oom) {
        free(acc->keys);
        srv_reply_error(x->out, E_NOMEM);
        return UINT64_MAX;
    }
    return cursor;
}

static void reply_cursor(ctx *x, uint64_t cursor)
{
    char cur[24];
    size_t cn = (size_t)snprintf(cur, sizeof cur, "%llu", (unsigned long long)cursor);
    srv_reply_array(x->out, 2);
    srv_reply_bulk(x->out, cur, cn);
}

void cmd_scan(ctx *x)
{
    uint64_t cursor;
    scan_opts o;
    if (!scan_cursor_arg(x, 1, &cursor) || !scan_opts_args(x, 2, true, &o)) {
        return;
    }
    scan_acc acc = {0};
    cursor = scan_walk(x, &srv_ks.d, cursor, o.count, &acc);
    if (cursor == UINT64_MAX) {
        return;
    }
    int64_t now = srv_now_ms();
    size_t keep = 0;
    for (size_t i = 0; i < acc.n; i++) {
        srv_entry *e = acc.keys[i];
        if (!live(e, now)) {
            continue;
        }
        if (o.pat != NULL && !srv_glob_match(o.pat, o.patlen, e->key, e->klen, false)) {
            continue;
        }
        if (o.type != NULL) {
            const char *t = srv_type_name(e->v.obj);
            if (strlen(t) != o.typelen || strncasecmp(t, o.type, o.typelen) != 0) {
                continue;
            }
        }
        acc.keys[keep++] = e;
    }
    reply_cursor(x, cursor);
    srv_reply_array(x->out, (long long)keep);
    for (size_t i = 0; i < keep; i++) {
        srv_reply_bulk(x->out, acc.keys[i]->key, acc.keys[i]->klen);
    }
    free(acc.keys);
}

/* HSCAN, SSCAN, ZSCAN (kind: 'h', 's', 'z') over the collection's table,
 * with the same cursor as SCAN: fields with their values, members, or
 * members with their scores.  d is NULL for a missing key (an empty
 * reply with cursor 0). */
void scan_collection(ctx *x, srv_dict *d, int kind)
{
    uint64_t cursor;
    scan_opts o;
    if (!scan_cursor_arg(x, 2, &cursor) || !scan_opts_args(x, 3, false, &o)) {
        return;
    }
    scan_acc acc = {0};
    cursor = d == NULL ? 0 : scan_walk(x, d, cursor, o.count, &acc);
    if (cursor == UINT64_MAX) {
        return;
    }
    size_t keep = 0;
    for (size_t i = 0; i < acc.n; i++) {
        srv_entry *e = acc.keys[i];
        if (o.pat == NULL || srv_glob_match(o.pat, o.patlen, e->key, e->klen, false)) {
            acc.keys[keep++] = e;
        }
    }
    reply_cursor(x, cursor);
    srv_reply_array(x->out, (long long)(kind == 's' ? keep : keep * 2));
    for (size_t i = 0; i < keep; i++) {
        srv_entry *e = acc.keys[i];
        srv_reply_bulk(x->out, e->key, e->klen);
        if (kind == 'h') {
            reply_value(x->out, e->v.obj, 0);
        } else if (kind == 'z') {
            srv_reply_double(x->out, ((srv_znode *)e->v.ptr)->score);
        }
    }
    free(acc.keys);
}

void cmd_type(ctx *x)
{
    srv_entry *e = srv_ks_find_notouch(x->argv[1], x->argl[1]);
    srv_reply_status(x->out, e == NULL ? "none" : srv_type_name(e->v.obj));
}

void cmd_exists(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_find_notouch(x->argv[i], x->argl[i]) != NULL;
    }
    srv_reply_int(x->out, n);
}

void cmd_del(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        if (srv_ks_del(x->argv[i], x->argl[i])) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", i);
            n++;
        }
    }
    srv_reply_int(x->out, n);
}

/* The events of RENAME and RENAMENX: the source, then the destination. */
static void notify_renamed(ctx *x)
{
    notify_key(x, SRV_NOTIFY_GENERIC, "rename_from", 1);
    notify_key(x, SRV_NOTIFY_GENERIC, "rename_to", 2);
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
    // The destination is deleted and added again, as Redis does: "new".
    srv_ks_del(x->argv[2], x->argl[2]);
    if (!srv_ks_set(x->argv[2], x->argl[2], v, false)) {
        mw_decref(v);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    mw_decref(v);
    if (when >= 0) {
        srv_ks_set_expire(srv_ks_find(x->argv[2], x->argl[2]), when);
    }
    notify_renamed(x);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* EXPIRE/PEXPIRE key time [NX|XX|GT|LT], and EXPIREAT/PEXPIREAT (at:
 * the time counts from the epoch rather than from now). */
static void generic_expire(ctx *x, long long unit, bool at, const char *name)
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
    int64_t base = at ? 0 : now;
    if (t > INT64_MAX / unit || t < INT64_MIN / unit ||
        (t * unit > 0 && t * unit > INT64_MAX - base)) {
        srv_reply_errorf(x->out, "ERR invalid expire time in '%s' command", name);
        return;
    }
    int64_t when = t * unit + base;
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
        notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
    } else {
        srv_ks_set_expire(e, when);
        notify_key(x, SRV_NOTIFY_GENERIC, "expire", 1);
    }
    srv_reply_int(x->out, 1);
}

void cmd_expire(ctx *x)
{
    generic_expire(x, 1000, false, "expire");
}

void cmd_pexpire(ctx *x)
{
    generic_expire(x, 1, false, "pexpire");
}

void cmd_expireat(ctx *x)
{
    generic_expire(x, 1000, true, "expireat");
}

void cmd_pexpireat(ctx *x)
{
    generic_expire(x, 1, true, "pexpireat");
}

/* TTL/PTTL (time left) and EXPIRETIME/PEXPIRETIME (at: the time itself);
 * seconds are rounded to the nearest, as Redis does for both. */
static void generic_ttl(ctx *x, bool ms, bool at)
{
    srv_entry *e = srv_ks_find_notouch(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_int(x->out, -2);
        return;
    }
    if (e->expire < 0) {
        srv_reply_int(x->out, -1);
        return;
    }
    int64_t left = at ? e->expire : e->expire - srv_now_ms();
    if (left < 0) {
        left = 0;
    }
    srv_reply_int(x->out, ms ? left : (left + 500) / 1000);
}

void cmd_ttl(ctx *x)
{
    generic_ttl(x, false, false);
}

void cmd_pttl(ctx *x)
{
    generic_ttl(x, true, false);
}

void cmd_expiretime(ctx *x)
{
    generic_ttl(x, false, true);
}

void cmd_pexpiretime(ctx *x)
{
    generic_ttl(x, true, true);
}

void cmd_persist(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL || e->expire < 0) {
        srv_reply_int(x->out, 0);
        return;
    }
    srv_ks_set_expire(e, -1);
    notify_key(x, SRV_NOTIFY_GENERIC, "persist", 1);
    srv_reply_int(x->out, 1);
}

/* ======================================================================
 * RENAMENX, COPY, TOUCH, RANDOMKEY
 * ====================================================================== */

void cmd_renamenx(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    if ((x->argl[1] == x->argl[2] && memcmp(x->argv[1], x->argv[2], x->argl[1]) == 0) ||
        srv_ks_find(x->argv[2], x->argl[2]) != NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    mw_object *v = e->v.obj;
    int64_t when = e->expire;
    mw_incref(v);
    srv_ks_remove(e);
    bool ok = srv_ks_set(x->argv[2], x->argl[2], v, false);
    mw_decref(v);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (when >= 0) {
        srv_ks_set_expire(srv_ks_find(x->argv[2], x->argl[2]), when);
    }
    notify_renamed(x);
    srv_reply_int(x->out, 1);
}

/* A copy of value o that shares nothing mutable with it (new reference),
 * or NULL when out of memory.  Strings are immutable and are shared; the
 * members of aggregates are strings (or, in hashes, referenced values
 * that the copy references too, as the original does). */
static mw_object *copy_value(mw_object *o)
{
    const mw_type *t = mw_type_of(o);
    if (t == &srv_list_type) {
        srv_list *src = (srv_list *)o, *l = srv_list_new();
        for (size_t i = 0; l != NULL && i < src->len; i++) {
            mw_object *it = srv_list_at(src, i);
            mw_incref(it);
            if (!srv_list_push(l, it, false)) {
                mw_decref((mw_object *)l);
                l = NULL;
            }
        }
        return (mw_object *)l;
    }
    if (t == &srv_hash_type || t == &srv_set_type) {
        srv_dict *from = t == &srv_hash_type ? &((srv_hash *)o)->d : &((srv_set *)o)->d;
        mw_object *n = t == &srv_hash_type ? (mw_object *)srv_hash_new() : (mw_object *)srv_set_new();
        if (n == NULL) {
            return NULL;
        }
        srv_dict *to = t == &srv_hash_type ? &((srv_hash *)n)->d : &((srv_set *)n)->d;
        for (srv_entry *e = from->first; e != NULL; e = e->onext) {
            if (e->v.obj != NULL && mw_gc_track_for(n, e->v.obj) != 0) {
                mw_decref(n);
                return NULL;
            }
            srv_entry *ne = srv_dict_add(to, e->key, e->klen, e->hash);
            if (ne == NULL) {
                mw_decref(n);
                return NULL;
            }
            if (e->v.obj != NULL) {
                mw_incref(e->v.obj);
            }
            ne->v.obj = e->v.obj;
        }
        return n;
    }
    if (t == &srv_zset_type) {
        srv_zset *src = (srv_zset *)o, *z = srv_zset_new();
        for (srv_znode *nd = z != NULL ? src->header->level[0].fwd : NULL; nd != NULL;
             nd = nd->level[0].fwd) {
            if (srv_zset_add(z, nd->entry->key, nd->entry->klen, nd->score) < 0) {
                mw_decref((mw_object *)z);
                return NULL;
            }
        }
        return (mw_object *)z;
    }
    if (t == &srv_stream_type) {
        return stream_dup(o);
    }
    mw_incref(o);
    return o;
}

/* COPY source destination [DB destination-db] [REPLACE]: only database 0
 * exists, so DB 0 is the one destination database accepted. */
void cmd_copy(ctx *x)
{
    bool replace = false;
    srv_keyspace *src = srv_ks_cur;
    int db = src->db;
    for (size_t i = 3; i < x->argc; i++) {
        if (arg_is(x, i, "REPLACE")) {
            replace = true;
        } else if (arg_is(x, i, "DB") && i + 1 < x->argc) {
            if (!db_arg(x, i + 1, &db)) {
                return;
            }
            i++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if (db == src->db && x->argl[1] == x->argl[2] &&
        memcmp(x->argv[1], x->argv[2], x->argl[1]) == 0) {
        srv_reply_error(x->out, "ERR source and destination objects are the same");
        return;
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    int64_t when = e->expire;
    mw_object *v = copy_value(e->v.obj);
    if (v == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_ks_use(db);     // the destination's database (the same shard: same slot)
    long long r = 0;
    if (replace || srv_ks_find(x->argv[2], x->argl[2]) == NULL) {
        srv_ks_del(x->argv[2], x->argl[2]);  // REPLACE: deleted and added ("new"), as in Redis
        r = srv_ks_set(x->argv[2], x->argl[2], v, false) ? 1 : -1;
        if (r > 0 && when >= 0) {
            srv_ks_set_expire(srv_ks_find(x->argv[2], x->argl[2]), when);
        }
        if (r > 0) {
            notify_key(x, SRV_NOTIFY_GENERIC, "copy_to", 2);    // in the destination's database
        }
        if (r > 0 && db != src->db) {
            srv_blk_touch(x->argv[2], x->argl[2]);
            srv_blk_serve();    // its waiters are in that database's table
        }
    }
    srv_ks_cur = src;
    mw_decref(v);
    if (r < 0) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_int(x->out, r);
}

/* TOUCH key [key ...]: keys carry no access time here, so touching is
 * counting the keys that exist. */
/* TOUCH: EXISTS that counts as an access (srv_ks_find stamps the key). */
void cmd_touch(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_find(x->argv[i], x->argl[i]) != NULL;
    }
    srv_reply_int(x->out, n);
}

/* RANDOMKEY: a random live key.  In sharded mode it is one of the keys of
 * the shard of the worker that runs it (the client's), not of the whole
 * keyspace. */
void cmd_randomkey(ctx *x)
{
    for (int tries = 0; tries < 100 && srv_ks.d.count > 0; tries++) {
        srv_entry *e = srv_dict_random(&srv_ks.d);
        if (e == NULL) {
            break;
        }
        if (e->expire >= 0 && e->expire <= srv_now_ms()) {
            srv_ks_find(e->key, e->klen); // deletes it
            continue;
        }
        srv_reply_bulk(x->out, e->key, e->klen);
        return;
    }
    if (srv_ks.d.count > 0) {
        // Only expired keys were drawn: answer one anyway, as Redis does
        // when it gives up.
        srv_entry *e = srv_dict_random(&srv_ks.d);
        srv_reply_bulk(x->out, e->key, e->klen);
        return;
    }
    srv_reply_null(x->out);
}

/* ======================================================================
 * OBJECT
 * ====================================================================== */

static bool all_ints(srv_dict *d, size_t *maxlen)
{
    bool ints = true;
    *maxlen = 0;
    for (srv_entry *e = d->first; e != NULL; e = e->onext) {
        long long v;
        if (e->klen > *maxlen) {
            *maxlen = e->klen;
        }
        if (ints && !srv_str2ll(e->key, e->klen, &v)) {
            ints = false;
        }
    }
    return ints;
}

/* The encoding Redis 7.0 would give a value of this shape created by the
 * usual commands with the default thresholds (values here have one
 * representation each; the name says what Redis would use). */
const char *object_encoding(mw_object *o)
{
    const mw_type *t = mw_type_of(o);
    size_t maxlen;
    if (t == &mw_str_type) {
        size_t n;
        const char *p = mw_str_data(o, &n);
        long long v;
        if (n <= 20 && srv_str2ll(p, n, &v)) {
            return "int";
        }
        return n <= 44 ? "embstr" : "raw";
    }
    if (t == &srv_list_type) {
        return "quicklist"; // Redis 7.0 has no other list encoding
    }
    if (t == &srv_set_type) {
        srv_dict *d = &((srv_set *)o)->d;
        return d->count <= 512 && all_ints(d, &maxlen) ? "intset" : "hashtable";
    }
    if (t == &srv_hash_type) {
        srv_dict *d = &((srv_hash *)o)->d;
        if (d->count > 128) {
            return "hashtable";
        }
        for (srv_entry *e = d->first; e != NULL; e = e->onext) {
            if (e->klen > 64 || mw_type_of(e->v.obj) != &mw_str_type || mw_str_len(e->v.obj) > 64) {
                return "hashtable";
            }
        }
        return "listpack";
    }
    if (t == &srv_zset_type) {
        srv_zset *z = (srv_zset *)o;
        if (z->len > 128) {
            return "skiplist";
        }
        all_ints(&z->d, &maxlen);
        return maxlen <= 64 ? "listpack" : "skiplist";
    }
    if (t == &srv_stream_type) {
        return "stream";
    }
    return "raw";
}

static const char *const object_help[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Print this help.",
};

/* OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP.  IDLETIME is
 * the seconds since the key's last access (srv_entry_idle_s); OBJECT
 * itself, like TYPE, EXISTS and TTL, does not count as one.  FREQ answers
 * as Redis does without an LFU policy (none exists here). */
void cmd_object(ctx *x)
{
    if (x->argc == 2 && arg_is(x, 1, "HELP")) {
        size_t n = sizeof object_help / sizeof object_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, object_help[i]);
        }
        return;
    }
    bool known = arg_is(x, 1, "ENCODING") || arg_is(x, 1, "REFCOUNT") ||
                 arg_is(x, 1, "IDLETIME") || arg_is(x, 1, "FREQ");
    if (!known) {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try OBJECT HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
        return;
    }
    if (x->argc != 3) {
        char low[16];
        size_t n = x->argl[1];
        for (size_t i = 0; i < n; i++) {
            low[i] = (char)tolower((unsigned char)x->argv[1][i]);
        }
        srv_reply_errorf(x->out, "ERR wrong number of arguments for 'object|%.*s' command",
                         (int)n, low);
        return;
    }
    srv_entry *e = srv_ks_find_notouch(x->argv[2], x->argl[2]);
    if (e == NULL) {
        srv_reply_null(x->out);
        return;
    }
    if (arg_is(x, 1, "ENCODING")) {
        srv_reply_bulk(x->out, object_encoding(e->v.obj), strlen(object_encoding(e->v.obj)));
    } else if (arg_is(x, 1, "REFCOUNT")) {
        // Redis shares the integers 0..9999 among keys: those report
        // INT_MAX; every other value has the one reference of its key.
        long long v;
        size_t n;
        const char *p = mw_type_of(e->v.obj) == &mw_str_type ? mw_str_data(e->v.obj, &n) : NULL;
        bool shared = p != NULL && n <= 20 && srv_str2ll(p, n, &v) && v >= 0 && v < 10000;
        srv_reply_int(x->out, shared ? INT_MAX : 1);
    } else if (arg_is(x, 1, "IDLETIME")) {
        srv_reply_int(x->out, srv_entry_idle_s(e));
    } else {
        srv_reply_error(x->out,
                        "ERR An LFU maxmemory policy is not selected, access frequency not "
                        "tracked. Please note that when switching between policies at runtime "
                        "LRU and LFU data will take some time to adjust.");
    }
}

/* ---------------------------------------------------------------- MEMORY */

/* One level of a value's walk: every referent's header and, for a string,
 * its bytes. */
static int add_child_bytes(mw_object *child, void *arg)
{
    size_t *bytes = arg;
    size_t n = 0;
    if (mw_type_of(child) == &mw_str_type) {
        mw_str_data(child, &n);
    }
    *bytes += 64 + n;
    return 0;
}

/* MEMORY USAGE key [SAMPLES n], MEMORY HELP.  The figure is an estimate,
 * as Redis's is: the key and its entry, the value's header and bytes, and
 * each object the value refers to directly (64 bytes of header each, plus
 * a string's bytes).  Sorted sets keep their members outside objects and
 * are estimated by their length. */
void cmd_memory(ctx *x)
{
    if (x->argc == 2 && arg_is(x, 1, "HELP")) {
        static const char *const help[] = {
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    estimated, as mwrt keeps no per-value size.",
            "HELP",
            "    Print this help.",
        };
        size_t n = sizeof help / sizeof help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, help[i]);
        }
        return;
    }
    if (srv_memory_command(x)) {
        return;     // STATS, DOCTOR, MALLOC-STATS, PURGE (cmd_server.c)
    }
    if (!arg_is(x, 1, "USAGE")) {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try MEMORY HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
        return;
    }
    if (x->argc != 3 && !(x->argc == 5 && arg_is(x, 3, "SAMPLES"))) {
        srv_reply_error(x->out, x->argc < 3
                        ? "ERR wrong number of arguments for 'memory|usage' command"
                        : "ERR syntax error");
        return;
    }
    if (x->argc == 5) {
        long long samples;
        if (!arg_ll(x, 4, &samples)) {
            return;
        }
        if (samples < 0) {
            srv_reply_error(x->out, "ERR syntax error");
            return;
        }
    }
    srv_entry *e = srv_ks_find(x->argv[2], x->argl[2]);
    if (e == NULL) {
        srv_reply_null(x->out);
        return;
    }
    size_t bytes = sizeof *e + e->klen + 64;
    mw_object *v = e->v.obj;
    const mw_type *t = mw_type_of(v);
    if (t == &mw_str_type) {
        size_t n;
        mw_str_data(v, &n);
        bytes += n;
    } else if (t == &srv_stream_type) {
        bytes += stream_bytes(v);
    } else if (t->traverse != NULL) {
        t->traverse(v, add_child_bytes, &bytes);
    }
    srv_reply_int(x->out, (long long)bytes);
}
