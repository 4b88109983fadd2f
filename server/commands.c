/*
 * server/commands.c - the command table, dispatch, and the helpers the
 * commands share.  The commands themselves are in one file per family
 * (cmd_server.c, cmd_keys.c, cmd_string.c, cmd_list.c, cmd_hash.c,
 * cmd_set.c, cmd_zset.c, cmd_stream.c); cmd.h declares them.  The table below is the only
 * place a command is declared: its name, arity, flags and where its keys
 * are, which COMMAND and the shard routing (shard.c) read.
 *
 * Technique.  A request arrives as (pointer, length) pairs into the
 * connection's query buffer.  The command name is folded to lower case in
 * a small stack buffer and looked up in an open-addressed table built once
 * at start (srv_commands_init); each entry has Redis's arity convention
 * (n: exactly n arguments, -n: at least n), Redis's flags (F_*, cmd.h:
 * denyoom is refused past maxmemory, no_auth allowed before AUTH), the ACL
 * categories the flags do not imply, and Redis's key-spec flags.  The
 * subcommands of container commands are declared in cmd_subtable with
 * their own arities.  The checks run in Redis 7.0's order, so the first
 * error a client sees is Redis's: unknown command, wrong number of
 * arguments (of the command, then of its subcommand), NOAUTH, OOM.  Replies go straight
 * into the connection's output buffer; no command allocates for its reply
 * beyond growing that buffer.
 *
 * Every command runs while the caller holds the keyspace (the GIL, or the
 * keyspace lock in free mode; sharded, on the worker that owns its keys),
 * so each is atomic and sees every write acknowledged before it.
 *
 * Error texts and reply shapes are Redis 7.0's, checked against
 * redis-server 7.0 (see docs/server.md for what differs: HELLO names the
 * server "mwrt", SELECT knows database 0 only).
 */
#include "cmd.h"
#include "rdb.h"

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
 * Helpers
 * ====================================================================== */

bool arg_is(ctx *x, size_t i, const char *word)
{
    size_t n = strlen(word);
    return x->argl[i] == n && strncasecmp(x->argv[i], word, n) == 0;
}

bool arg_ll(ctx *x, size_t i, long long *v)
{
    if (!srv_str2ll(x->argv[i], x->argl[i], v)) {
        srv_reply_error(x->out, E_NOTINT);
        return false;
    }
    return true;
}

/* The value at key with the given type: 1 found, 0 missing, -1 wrong type
 * (WRONGTYPE replied).  *out is borrowed. */
int lookup(ctx *x, size_t i, const mw_type *type, mw_object **out)
{
    srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
    if (e == NULL) {
        *out = NULL;
        return 0;
    }
    if (mw_type_of(e->v.obj) != type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return -1;
    }
    *out = e->v.obj;
    return 1;
}

/* lookup counting keyspace hits and misses, for reads. */
int lookup_read(ctx *x, size_t i, const mw_type *type, mw_object **out)
{
    int r = lookup(x, i, type, out);
    if (r == 0) {
        srv_ks.misses++;
        notify_key(x, SRV_NOTIFY_KEY_MISS, "keymiss", i);
    } else if (r > 0) {
        srv_ks.hits++;
    }
    return r;
}

/* Find or create the aggregate at key; NULL after replying an error. */
mw_object *lookup_or_create(ctx *x, size_t i, const mw_type *type)
{
    mw_object *o;
    int r = lookup(x, i, type, &o);
    if (r < 0) {
        return NULL;
    }
    if (r > 0) {
        return o;
    }
    if (type == &srv_list_type) {
        o = (mw_object *)srv_list_new();
    } else if (type == &srv_hash_type) {
        o = (mw_object *)srv_hash_new();
    } else if (type == &srv_set_type) {
        o = (mw_object *)srv_set_new();
    } else {
        o = (mw_object *)srv_zset_new();
    }
    if (o == NULL || !srv_ks_set(x->argv[i], x->argl[i], o, false)) {
        mw_decref(o);
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return NULL;
    }
    mw_decref(o); // the keyspace holds it now
    return o;
}

size_t agg_len(mw_object *o)
{
    const mw_type *t = mw_type_of(o);
    if (t == &srv_list_type) {
        return ((srv_list *)o)->len;
    }
    if (t == &srv_hash_type) {
        return ((srv_hash *)o)->d.count;
    }
    if (t == &srv_set_type) {
        return ((srv_set *)o)->d.count;
    }
    if (t == &srv_zset_type) {
        return ((srv_zset *)o)->len;
    }
    return 1;
}

/* Redis deletes an aggregate that became empty. */
void drop_if_empty(ctx *x, size_t i, mw_object *o)
{
    if (agg_len(o) == 0) {
        srv_ks_del(x->argv[i], x->argl[i]);
        notify_key(x, SRV_NOTIFY_GENERIC, "del", i);
    }
}

mw_object *new_str(ctx *x, const char *p, size_t n)
{
    mw_object *s = mw_str_n(p, n);
    if (s == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    }
    return s;
}

void reply_str(srv_buf *out, mw_object *s)
{
    size_t n;
    const char *p = mw_str_data(s, &n);
    srv_reply_bulk(out, p, n);
}

/* A RESP rendering of any value (REF.GET, and HGET of a referenced value).
 * A container nested two levels down is shown as "+..." rather than
 * expanded: that cuts cycles short and keeps the reply to at most
 * (members)^2 elements, where deeper expansion would grow as a power of
 * the depth. */
void reply_value(srv_buf *out, mw_object *o, int depth)
{
    const mw_type *t = mw_type_of(o);
    if (o == NULL) {
        srv_reply_null(out);
    } else if (t == &mw_str_type) {
        reply_str(out, o);
    } else if (depth >= 2) {
        srv_reply_status(out, "...");
    } else if (t == &srv_list_type) {
        srv_list *l = (srv_list *)o;
        srv_reply_array(out, (long long)l->len);
        for (size_t i = 0; i < l->len; i++) {
            reply_value(out, srv_list_at(l, i), depth + 1);
        }
    } else if (t == &srv_hash_type) {
        srv_hash *h = (srv_hash *)o;
        srv_reply_map(out, (long long)h->d.count);
        for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
            srv_reply_bulk(out, e->key, e->klen);
            reply_value(out, e->v.obj, depth + 1);
        }
    } else if (t == &srv_set_type) {
        srv_set *s = (srv_set *)o;
        srv_reply_set(out, (long long)s->d.count);
        for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
            srv_reply_bulk(out, e->key, e->klen);
        }
    } else if (t == &srv_zset_type) {
        srv_zset *z = (srv_zset *)o;
        srv_reply_pairs(out, (long long)z->len);
        for (srv_znode *n = z->header->level[0].fwd; n != NULL; n = n->level[0].fwd) {
            srv_reply_pair(out);
            srv_reply_bulk(out, n->entry->key, n->entry->klen);
            srv_reply_double(out, n->score);
        }
    } else {
        srv_reply_null(out);
    }
}

/* Parse "<n>" with unit suffix (b, k, kb, m, mb, g, gb) as Redis memtoull. */
bool parse_mem(const char *p, size_t n, long long *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) {
        return false;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++) {
        tmp[i] = (char)tolower((unsigned char)tmp[i]);
    }
    size_t digits = 0;
    while (digits < n && isdigit((unsigned char)tmp[digits])) {
        digits++;
    }
    long long mul;
    const char *u = tmp + digits;
    if (*u == '\0' || strcmp(u, "b") == 0) {
        mul = 1;
    } else if (strcmp(u, "k") == 0) {
        mul = 1000;
    } else if (strcmp(u, "kb") == 0) {
        mul = 1024;
    } else if (strcmp(u, "m") == 0) {
        mul = 1000 * 1000;
    } else if (strcmp(u, "mb") == 0) {
        mul = 1024 * 1024;
    } else if (strcmp(u, "g") == 0) {
        mul = 1000LL * 1000 * 1000;
    } else if (strcmp(u, "gb") == 0) {
        mul = 1024LL * 1024 * 1024;
    } else {
        return false;
    }
    long long v;
    if (digits == 0 || !srv_str2ll(tmp, digits, &v) || v < 0 || v > INT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

bool parse_long_double(const char *p, size_t n, long double *out)
{
    char tmp[5 * 1024 + 1];
    if (n == 0 || n >= sizeof tmp || isspace((unsigned char)p[0])) {
        return false;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(tmp, &end);
    if ((size_t)(end - tmp) != n || (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) ||
        isnan(v)) {
        return false;
    }
    *out = v;
    return true;
}

bool random_count_arg(ctx *x, size_t i, long long *count)
{
    if (!arg_ll(x, i, count)) {
        return false;
    }
    if (*count < -LLONG_MAX / 2) {   // -count is replied as a length
        srv_reply_error(x->out, "ERR value is out of range, value must between "
                                "-9223372036854775807 and 9223372036854775807");
        return false;
    }
    return true;
}

uint64_t random_below(uint64_t n)
{
    return ((((uint64_t)random() << 31) ^ (uint64_t)random())) % n;
}

/* A partial Fisher-Yates shuffle: only the first n places are drawn. */
void sample_shuffle(void **all, size_t size, size_t n)
{
    for (size_t i = 0; i < n && n < size; i++) {
        size_t j = i + (size_t)random_below(size - i);
        void *t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
}

/* Redis's index range rule (LRANGE, ZRANGE): negative indexes count from
 * the end, the range is clamped to [0, len - 1]; false if it is empty. */
bool range_clamp(long long len, long long *start, long long *stop)
{
    if (*start < 0) {
        *start += len;
    }
    if (*stop < 0) {
        *stop += len;
    }
    if (*start < 0) {
        *start = 0;
    }
    if (*start > *stop || *start >= len) {
        return false;
    }
    if (*stop >= len) {
        *stop = len - 1;
    }
    return true;
}

/* ======================================================================
 * The table and dispatch
 * ====================================================================== */

const srv_cmd cmd_table[] = {
    {"ping", cmd_ping, -1, F_FAST|F_SUBOK, K_NONE, C_CONNECTION, NULL},
    {"echo", cmd_echo, 2, F_LOADING|F_STALE|F_FAST, K_NONE, C_CONNECTION, NULL},
    {"reset", cmd_reset, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY|F_SUBOK,
     K_NONE, C_CONNECTION, NULL},
    {"wait", cmd_wait, 3, F_NOSCRIPT, K_NONE, C_CONNECTION, NULL},
    {"module", cmd_module, -2, F_ADMIN|F_NOSCRIPT, K_NONE, C_ADMIN|C_DANGEROUS, NULL},
    {"role", cmd_role, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST, K_NONE, C_ADMIN|C_DANGEROUS, NULL},
    {"quit", cmd_quit, -1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY|F_SUBOK, K_NONE, C_CONNECTION, NULL},
    {"eval", cmd_eval, -3, F_NOSCRIPT|F_SKIP_MONITOR|F_MAY_REPLICATE|F_NO_MANDATORY_KEYS|F_STALE|F_MOVABLE,
     {3, 3, 1, SRV_ROUTE_KEYS}, C_SCRIPTING, "RW access update"},
    {"evalsha", cmd_evalsha, -3, F_NOSCRIPT|F_SKIP_MONITOR|F_MAY_REPLICATE|F_NO_MANDATORY_KEYS|F_STALE|F_MOVABLE,
     {3, 3, 1, SRV_ROUTE_KEYS}, C_SCRIPTING, "RW access update"},
    {"eval_ro", cmd_eval_ro, -3, F_NOSCRIPT|F_SKIP_MONITOR|F_NO_MANDATORY_KEYS|F_STALE|F_READONLY|F_MOVABLE,
     {3, 3, 1, SRV_ROUTE_KEYS}, C_SCRIPTING, "RO access"},
    {"evalsha_ro", cmd_evalsha_ro, -3, F_NOSCRIPT|F_SKIP_MONITOR|F_NO_MANDATORY_KEYS|F_STALE|F_READONLY|F_MOVABLE,
     {3, 3, 1, SRV_ROUTE_KEYS}, C_SCRIPTING, "RO access"},
    {"script", cmd_script, -2, 0, K_NONE, 0, NULL},
    {"latency", cmd_latency, -2, 0, K_NONE, 0, NULL},
    {"monitor", cmd_monitor, 1, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"shutdown", cmd_shutdown, -1, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE|F_NO_MULTI|F_ALLOW_BUSY,
     K_NONE, 0, NULL},
    {"select", cmd_select, 2, F_LOADING|F_STALE|F_FAST, K_NONE, C_CONNECTION, NULL},
    {"auth", cmd_auth, -2, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY, K_NONE, C_CONNECTION, NULL},
    {"hello", cmd_hello, -1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY, K_NONE, C_CONNECTION, NULL},
    {"command", cmd_command, -1, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client", cmd_client, -2, 0, K_NONE, 0, NULL},
    {"config", cmd_config, -2, 0, K_NONE, 0, NULL},
    {"info", cmd_info, -1, F_LOADING|F_STALE, K_NONE, C_DANGEROUS, NULL},
    {"dbsize", cmd_dbsize, 1, F_READONLY|F_FAST, K_ALL(SRV_ROUTE_ALL_SUM), C_KEYSPACE, NULL},
    {"flushdb", cmd_flushdb, -1, F_WRITE, K_ALL(SRV_ROUTE_ALL_OK), C_KEYSPACE|C_DANGEROUS, NULL},
    {"flushall", cmd_flushall, -1, F_WRITE, K_ALL(SRV_ROUTE_ALL_OK), C_KEYSPACE|C_DANGEROUS, NULL},
    {"keys", cmd_keys, 2, F_READONLY, K_ALL(SRV_ROUTE_ALL_CONCAT), C_KEYSPACE|C_DANGEROUS, NULL},
    {"scan", cmd_scan, -2, F_READONLY, K_ALL(SRV_ROUTE_SCAN), C_KEYSPACE, NULL},
    {"type", cmd_type, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE, "RO"},
    {"exists", cmd_exists, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE, "RO"},
    {"del", cmd_del, -2, F_WRITE, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE, "RM delete"},
    {"unlink", cmd_del, -2, F_WRITE|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE, "RM delete"},
    {"rename", cmd_rename, 3, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RW access delete;OW update"},
    {"expire", cmd_expire, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW update"},
    {"pexpire", cmd_pexpire, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW update"},
    {"ttl", cmd_ttl, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE, "RO access"},
    {"pttl", cmd_pttl, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE, "RO access"},
    {"persist", cmd_persist, 2, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW update"},
    {"set", cmd_set, -3, F_WRITE|F_DENYOOM, K_1, C_STRING, "RW access update variable_flags"},
    {"get", cmd_get, 2, F_READONLY|F_FAST, K_1, C_STRING, "RO access"},
    {"getset", cmd_getset, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"mset", cmd_mset, -3, F_WRITE|F_DENYOOM, K_SPLIT(2, SRV_ROUTE_SPLIT_OK), C_STRING, "OW update"},
    {"mget", cmd_mget, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_MGET), C_STRING, "RO access"},
    {"incr", cmd_incr, 2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"decr", cmd_decr, 2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"incrby", cmd_incrby, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"decrby", cmd_decrby, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"append", cmd_append, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW insert"},
    {"strlen", cmd_strlen, 2, F_READONLY|F_FAST, K_1, C_STRING, "RO"},
    {"setnx", cmd_setnx, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "OW insert"},
    {"setex", cmd_setex, 4, F_WRITE|F_DENYOOM, K_1, C_STRING, "OW update"},
    {"psetex", cmd_psetex, 4, F_WRITE|F_DENYOOM, K_1, C_STRING, "OW update"},
    {"getex", cmd_getex, -2, F_WRITE|F_FAST, K_1, C_STRING, "RW access update"},
    {"getdel", cmd_getdel, 2, F_WRITE|F_FAST, K_1, C_STRING, "RW access delete"},
    {"msetnx", cmd_msetnx, -3, F_WRITE|F_DENYOOM, {1, -1, 2, SRV_ROUTE_KEYS}, C_STRING, "OW insert"},
    {"incrbyfloat", cmd_incrbyfloat, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING, "RW access update"},
    {"getrange", cmd_getrange, 4, F_READONLY, K_1, C_STRING, "RO access"},
    {"substr", cmd_getrange, 4, F_READONLY, K_1, C_STRING, "RO access"},
    {"setrange", cmd_setrange, 4, F_WRITE|F_DENYOOM, K_1, C_STRING, "RW update"},
    {"lcs", cmd_lcs, -3, F_READONLY, {1, 2, 1, SRV_ROUTE_KEYS}, C_STRING, "RO access"},
    {"expireat", cmd_expireat, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW update"},
    {"pexpireat", cmd_pexpireat, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW update"},
    {"expiretime", cmd_expiretime, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE, "RO access"},
    {"pexpiretime", cmd_pexpiretime, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE, "RO access"},
    {"renamenx", cmd_renamenx, 3, F_WRITE|F_FAST, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RW access delete;OW insert"},
    {"move", cmd_move, 3, F_WRITE|F_FAST, K_1, C_KEYSPACE, "RW access delete"},
    {"swapdb", cmd_swapdb, 3, F_WRITE|F_FAST, K_ALL(SRV_ROUTE_ALL_OK), C_KEYSPACE|C_DANGEROUS, NULL},
    {"copy", cmd_copy, -3, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RO access;OW update"},
    {"touch", cmd_touch, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE, "RO"},
    {"randomkey", cmd_randomkey, 1, F_READONLY, K_NONE, C_KEYSPACE, NULL},
    {"object", cmd_object, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0, NULL},
    {"memory", cmd_memory, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0, NULL},
    {"setbit", cmd_setbit, 4, F_WRITE|F_DENYOOM, K_1, C_BITMAP, "RW access update"},
    {"getbit", cmd_getbit, 3, F_READONLY|F_FAST, K_1, C_BITMAP, "RO access"},
    {"bitcount", cmd_bitcount, -2, F_READONLY, K_1, C_BITMAP, "RO access"},
    {"bitpos", cmd_bitpos, -3, F_READONLY, K_1, C_BITMAP, "RO access"},
    {"bitfield", cmd_bitfield, -2, F_WRITE|F_DENYOOM, K_1, C_BITMAP, "RW access update"},
    {"bitfield_ro", cmd_bitfield_ro, -2, F_READONLY|F_FAST, K_1, C_BITMAP, "RO access"},
    {"bitop", cmd_bitop, -4, F_WRITE|F_DENYOOM, {2, -1, 1, SRV_ROUTE_KEYS}, C_BITMAP, "OW update;RO access"},
    {"pfadd", cmd_pfadd, -2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HYPERLOGLOG, "RW insert"},
    {"pfcount", cmd_pfcount, -2, F_READONLY, {1, -1, 1, SRV_ROUTE_KEYS}, C_HYPERLOGLOG, "RW access"},
    {"pfmerge", cmd_pfmerge, -2, F_WRITE|F_DENYOOM, {1, -1, 1, SRV_ROUTE_KEYS}, C_HYPERLOGLOG, "RW access insert;RO access"},
    {"lpush", cmd_lpush, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST, "RW insert"},
    {"rpush", cmd_rpush, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST, "RW insert"},
    {"lpop", cmd_lpop, -2, F_WRITE|F_FAST, K_1, C_LIST, "RW access delete"},
    {"rpop", cmd_rpop, -2, F_WRITE|F_FAST, K_1, C_LIST, "RW access delete"},
    {"lrange", cmd_lrange, 4, F_READONLY, K_1, C_LIST, "RO access"},
    {"llen", cmd_llen, 2, F_READONLY|F_FAST, K_1, C_LIST, "RO"},
    {"lindex", cmd_lindex, 3, F_READONLY, K_1, C_LIST, "RO access"},
    {"lset", cmd_lset, 4, F_WRITE|F_DENYOOM, K_1, C_LIST, "RW update"},
    {"lrem", cmd_lrem, 4, F_WRITE, K_1, C_LIST, "RW delete"},
    {"ltrim", cmd_ltrim, 4, F_WRITE, K_1, C_LIST, "RW delete"},
    {"linsert", cmd_linsert, 5, F_WRITE|F_DENYOOM, K_1, C_LIST, "RW insert"},
    {"lpos", cmd_lpos, -3, F_READONLY, K_1, C_LIST, "RO access"},
    {"lmove", cmd_lmove, 5, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete;RW insert"},
    {"rpoplpush", cmd_rpoplpush, 3, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete;RW insert"},
    {"lpushx", cmd_lpushx, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST, "RW insert"},
    {"rpushx", cmd_rpushx, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST, "RW insert"},
    {"blpop", cmd_blpop, -3, F_WRITE|F_NOSCRIPT|F_BLOCKING, {1, -2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete"},
    {"brpop", cmd_brpop, -3, F_WRITE|F_NOSCRIPT|F_BLOCKING, {1, -2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete"},
    {"blmove", cmd_blmove, 6, F_WRITE|F_DENYOOM|F_NOSCRIPT|F_BLOCKING, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete;RW insert"},
    {"brpoplpush", cmd_brpoplpush, 4, F_WRITE|F_DENYOOM|F_NOSCRIPT|F_BLOCKING, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete;RW insert"},
    // Routed by the first key; mpop_args requires the others in its slot.
    {"lmpop", cmd_lmpop, -4, F_WRITE|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete"},
    {"blmpop", cmd_blmpop, -5, F_WRITE|F_BLOCKING|F_MOVABLE, {3, 3, 1, SRV_ROUTE_KEYS}, C_LIST, "RW access delete"},
    {"hset", cmd_hset, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH, "RW update"},
    {"hget", cmd_hget, 3, F_READONLY|F_FAST, K_1, C_HASH, "RO access"},
    {"hmset", cmd_hmset, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH, "RW update"},
    {"hmget", cmd_hmget, -3, F_READONLY|F_FAST, K_1, C_HASH, "RO access"},
    {"hdel", cmd_hdel, -3, F_WRITE|F_FAST, K_1, C_HASH, "RW delete"},
    {"hgetall", cmd_hgetall, 2, F_READONLY, K_1, C_HASH, "RO access"},
    {"hlen", cmd_hlen, 2, F_READONLY|F_FAST, K_1, C_HASH, "RO"},
    {"hexists", cmd_hexists, 3, F_READONLY|F_FAST, K_1, C_HASH, "RO"},
    {"hincrby", cmd_hincrby, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH, "RW access update"},
    {"hkeys", cmd_hkeys, 2, F_READONLY, K_1, C_HASH, "RO access"},
    {"hvals", cmd_hvals, 2, F_READONLY, K_1, C_HASH, "RO access"},
    {"hsetnx", cmd_hsetnx, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH, "RW insert"},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH, "RW access update"},
    {"hstrlen", cmd_hstrlen, 3, F_READONLY|F_FAST, K_1, C_HASH, "RO"},
    {"hrandfield", cmd_hrandfield, -2, F_READONLY, K_1, C_HASH, "RO access"},
    {"sadd", cmd_sadd, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SET, "RW insert"},
    {"srem", cmd_srem, -3, F_WRITE|F_FAST, K_1, C_SET, "RW delete"},
    {"smembers", cmd_smembers, 2, F_READONLY, K_1, C_SET, "RO access"},
    {"sismember", cmd_sismember, 3, F_READONLY|F_FAST, K_1, C_SET, "RO"},
    {"scard", cmd_scard, 2, F_READONLY|F_FAST, K_1, C_SET, "RO"},
    {"spop", cmd_spop, -2, F_WRITE|F_FAST, K_1, C_SET, "RW access delete"},
    {"sinter", cmd_sinter, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "RO access"},
    {"sunion", cmd_sunion, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "RO access"},
    {"sdiff", cmd_sdiff, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "RO access"},
    {"sinterstore", cmd_sinterstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "RW update;RO access"},
    {"sunionstore", cmd_sunionstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "OW update;RO access"},
    {"sdiffstore", cmd_sdiffstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET, "OW update;RO access"},
    {"sintercard", cmd_sintercard, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SET, "RO access"},
    {"smove", cmd_smove, 4, F_WRITE|F_FAST, {1, 2, 1, SRV_ROUTE_KEYS}, C_SET, "RW access delete;RW insert"},
    {"smismember", cmd_smismember, -3, F_READONLY|F_FAST, K_1, C_SET, "RO access"},
    {"srandmember", cmd_srandmember, -2, F_READONLY, K_1, C_SET, "RO access"},
    {"zadd", cmd_zadd, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SORTEDSET, "RW update"},
    {"zrem", cmd_zrem, -3, F_WRITE|F_FAST, K_1, C_SORTEDSET, "RW delete"},
    {"zscore", cmd_zscore, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zcard", cmd_zcard, 2, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO"},
    {"zrange", cmd_zrange, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zrangestore", cmd_zrangestore, -5, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "OW update;RO access"},
    {"zrank", cmd_zrank, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zincrby", cmd_zincrby, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SORTEDSET, "RW access update"},
    {"zpopmin", cmd_zpopmin, -2, F_WRITE|F_FAST, K_1, C_SORTEDSET, "RW access delete"},
    {"zrevrange", cmd_zrevrange, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zrangebyscore", cmd_zrangebyscore, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zrangebylex", cmd_zrangebylex, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zcount", cmd_zcount, 4, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zlexcount", cmd_zlexcount, 4, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, F_WRITE, K_1, C_SORTEDSET, "RW delete"},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, F_WRITE, K_1, C_SORTEDSET, "RW delete"},
    {"zremrangebylex", cmd_zremrangebylex, 4, F_WRITE, K_1, C_SORTEDSET, "RW delete"},
    {"zrevrank", cmd_zrevrank, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zpopmax", cmd_zpopmax, -2, F_WRITE|F_FAST, K_1, C_SORTEDSET, "RW access delete"},
    {"zmscore", cmd_zmscore, -3, F_READONLY|F_FAST, K_1, C_SORTEDSET, "RO access"},
    {"zrandmember", cmd_zrandmember, -2, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    {"zunionstore", cmd_zunionstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET, "OW update;RO access"},
    {"zinterstore", cmd_zinterstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET, "OW update;RO access"},
    {"zdiffstore", cmd_zdiffstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET, "OW update;RO access"},
    {"zunion", cmd_zunion, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RO access"},
    {"zinter", cmd_zinter, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RO access"},
    {"zdiff", cmd_zdiff, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RO access"},
    {"zintercard", cmd_zintercard, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RO access"},
    {"bzpopmin", cmd_bzpopmin, -3, F_WRITE|F_NOSCRIPT|F_FAST|F_BLOCKING, {1, -2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RW access delete"},
    {"bzpopmax", cmd_bzpopmax, -3, F_WRITE|F_NOSCRIPT|F_FAST|F_BLOCKING, {1, -2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RW access delete"},
    {"zmpop", cmd_zmpop, -4, F_WRITE|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RW access delete"},
    {"bzmpop", cmd_bzmpop, -5, F_WRITE|F_BLOCKING|F_MOVABLE, {3, 3, 1, SRV_ROUTE_KEYS}, C_SORTEDSET, "RW access delete"},
    // GEO (cmd_geo.c): sorted sets of geohash scores.  GEORADIUS and
    // GEORADIUSBYMEMBER find their STORE/STOREDIST key by parsing (routed
    // by the source; geo_search requires the destination in its slot).
    {"geoadd", cmd_geoadd, -5, F_WRITE|F_DENYOOM, K_1, C_GEO, "RW update"},
    {"geodist", cmd_geodist, -4, F_READONLY, K_1, C_GEO, "RO access"},
    {"geohash", cmd_geohash, -2, F_READONLY, K_1, C_GEO, "RO access"},
    {"geopos", cmd_geopos, -2, F_READONLY, K_1, C_GEO, "RO access"},
    {"georadius", cmd_georadius, -6, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_GEO, "RO access;OW update"},
    {"georadius_ro", cmd_georadius_ro, -6, F_READONLY, K_1, C_GEO, "RO access"},
    {"georadiusbymember", cmd_georadiusbymember, -5, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_GEO, "RO access;OW update"},
    {"georadiusbymember_ro", cmd_georadiusbymember_ro, -5, F_READONLY, K_1, C_GEO, "RO access"},
    {"geosearch", cmd_geosearch, -7, F_READONLY, K_1, C_GEO, "RO access"},
    {"geosearchstore", cmd_geosearchstore, -8, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_GEO, "OW update;RO access"},
    {"sort", cmd_sort, -2, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SET|C_SORTEDSET|C_LIST|C_DANGEROUS, "RO access;RO access;OW update"},
    {"sort_ro", cmd_sort_ro, -2, F_READONLY|F_MOVABLE, K_1, C_SET|C_SORTEDSET|C_LIST|C_DANGEROUS, "RO access;RO access"},
    {"hscan", cmd_hscan, -3, F_READONLY, K_1, C_HASH, "RO access"},
    {"sscan", cmd_sscan, -3, F_READONLY, K_1, C_SET, "RO access"},
    {"zscan", cmd_zscan, -3, F_READONLY, K_1, C_SORTEDSET, "RO access"},
    // Streams (cmd_stream.c).  XREAD and XREADGROUP find their keys after
    // STREAMS (cmd_request_keyspec routes them); the keys must share a slot.
    {"xadd", cmd_xadd, -5, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STREAM, "RW update"},
    {"xlen", cmd_xlen, 2, F_READONLY|F_FAST, K_1, C_STREAM, "RO"},
    {"xrange", cmd_xrange, -4, F_READONLY, K_1, C_STREAM, "RO access"},
    {"xrevrange", cmd_xrevrange, -4, F_READONLY, K_1, C_STREAM, "RO access"},
    {"xdel", cmd_xdel, -3, F_WRITE|F_FAST, K_1, C_STREAM, "RW delete"},
    {"xtrim", cmd_xtrim, -4, F_WRITE, K_1, C_STREAM, "RW delete"},
    {"xread", cmd_xread, -4, F_READONLY|F_BLOCKING|F_MOVABLE, {0, 0, 0, SRV_ROUTE_KEYS}, C_STREAM, "RO access"},
    {"xreadgroup", cmd_xreadgroup, -7, F_WRITE|F_BLOCKING|F_MOVABLE, {0, 0, 0, SRV_ROUTE_KEYS}, C_STREAM, "RO access"},
    {"xsetid", cmd_xsetid, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STREAM, "RW update"},
    {"xgroup", cmd_xgroup, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0, NULL},
    {"xack", cmd_xack, -4, F_WRITE|F_FAST, K_1, C_STREAM, "RW update"},
    {"xpending", cmd_xpending, -3, F_READONLY, K_1, C_STREAM, "RO access"},
    {"xclaim", cmd_xclaim, -6, F_WRITE|F_FAST, K_1, C_STREAM, "RW update"},
    {"xautoclaim", cmd_xautoclaim, -6, F_WRITE|F_FAST, K_1, C_STREAM, "RW delete"},
    {"xinfo", cmd_xinfo, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0, NULL},
    {"slowlog", cmd_slowlog, -2, 0, K_NONE, 0, NULL},
    {"time", cmd_time, 1, F_LOADING|F_STALE|F_FAST, K_NONE, 0, NULL},
    {"lolwut", cmd_lolwut, -1, F_READONLY|F_FAST, K_NONE, 0, NULL},
    {"lastsave", cmd_lastsave, 1, F_LOADING|F_STALE|F_FAST, K_NONE, C_ADMIN|C_DANGEROUS, NULL},
    {"save", cmd_save, 1, F_ADMIN|F_NOSCRIPT|F_NO_MULTI, K_ALL(SRV_ROUTE_ALL_OK), C_DANGEROUS, NULL},
    {"bgsave", cmd_bgsave, -1, F_ADMIN|F_NOSCRIPT, K_NONE, C_DANGEROUS, NULL},
    {"dump", cmd_dump, 2, F_READONLY, K_1, C_KEYSPACE, "RO access"},
    {"restore", cmd_restore, -4, F_WRITE|F_DENYOOM, K_1, C_KEYSPACE|C_DANGEROUS, "OW update"},
    {"debug", cmd_debug, -2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"ref.set", cmd_ref_set, 4, F_WRITE|F_DENYOOM, {1, 3, 2, SRV_ROUTE_KEYS}, 0, NULL},
    {"ref.get", cmd_ref_get, 3, F_READONLY|F_FAST, K_1, 0, NULL},
    {"gc.collect", cmd_gc_collect, -1, F_ADMIN|F_NOSCRIPT, K_ALL(SRV_ROUTE_ALL_SUM), 0, NULL},
    {"gc.stats", cmd_gc_stats, 1, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"gc.policy", cmd_gc_policy, -1, F_ADMIN|F_NOSCRIPT, K_NONE, 0, NULL},
    // Transactions (cmd_multi.c).
    {"multi", cmd_multi, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_ALLOW_BUSY, K_NONE, C_TRANSACTION, NULL},
    {"exec", cmd_exec, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_SKIP_SLOWLOG, K_NONE, C_TRANSACTION, NULL},
    {"discard", cmd_discard, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_ALLOW_BUSY, K_NONE, C_TRANSACTION, NULL},
    {"watch", cmd_watch, -2, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_ALLOW_BUSY, {1, -1, 1, SRV_ROUTE_LOCAL}, C_TRANSACTION, "RO"},  // routed by cmd_watch
    {"unwatch", cmd_unwatch, 1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_ALLOW_BUSY, K_NONE, C_TRANSACTION, NULL},
    // Pub/sub (pubsub.c).
    {"subscribe", cmd_subscribe, -2, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, K_NONE, 0, NULL},
    {"unsubscribe", cmd_unsubscribe, -1, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, K_NONE, 0, NULL},
    {"psubscribe", cmd_psubscribe, -2, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, K_NONE, 0, NULL},
    {"punsubscribe", cmd_punsubscribe, -1, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, K_NONE, 0, NULL},
    {"ssubscribe", cmd_ssubscribe, -2, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, {1, -1, 1, SRV_ROUTE_LOCAL}, 0, "not_key"},
    {"sunsubscribe", cmd_sunsubscribe, -1, F_PUBSUB|F_PUSH|F_NOSCRIPT|F_LOADING|F_STALE|F_SUBOK, {1, -1, 1, SRV_ROUTE_LOCAL}, 0, "not_key"},
    {"publish", cmd_publish, 3, F_PUBSUB|F_LOADING|F_STALE|F_FAST, K_NONE, 0, NULL},
    {"spublish", cmd_spublish, 3, F_PUBSUB|F_LOADING|F_STALE|F_FAST, {1, 1, 1, SRV_ROUTE_LOCAL}, 0, "not_key"},
    {"pubsub", cmd_pubsub, -2, 0, K_NONE, 0, NULL},
};

size_t cmd_count(void)
{
    return sizeof cmd_table / sizeof cmd_table[0];
}

const srv_cmd cmd_subtable[] = {
    {"client|getname", NULL, 2, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|id", NULL, 2, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|info", NULL, 2, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|kill", NULL, -3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|list", NULL, -2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|no-evict", NULL, 3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|pause", NULL, -3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|reply", NULL, 3, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|setname", NULL, 3, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|unblock", NULL, -3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"client|unpause", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|count", NULL, 2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|docs", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|getkeys", NULL, -4, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|getkeysandflags", NULL, -4, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|info", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"command|list", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION, NULL},
    {"config|get", NULL, -3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"config|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"config|resetstat", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"config|rewrite", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"config|set", NULL, -4, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"latency|doctor", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"latency|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"latency|history", NULL, 3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"latency|latest", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"latency|reset", NULL, -2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"memory|doctor", NULL, 2, 0, K_NONE, 0, NULL},
    {"memory|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"memory|malloc-stats", NULL, 2, 0, K_NONE, 0, NULL},
    {"memory|purge", NULL, 2, 0, K_NONE, 0, NULL},
    {"memory|stats", NULL, 2, 0, K_NONE, 0, NULL},
    {"memory|usage", NULL, -3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, 0, "RO"},
    {"object|encoding", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RO"},
    {"object|freq", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RO"},
    {"object|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_KEYSPACE, NULL},
    {"object|idletime", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RO"},
    {"object|refcount", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE, "RO"},
    {"pubsub|channels", NULL, -2, F_PUBSUB|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"pubsub|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"pubsub|numpat", NULL, 2, F_PUBSUB|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"pubsub|numsub", NULL, -2, F_PUBSUB|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"pubsub|shardchannels", NULL, -2, F_PUBSUB|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"pubsub|shardnumsub", NULL, -2, F_PUBSUB|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"script|exists", NULL, -3, F_NOSCRIPT, K_NONE, C_SCRIPTING, NULL},
    {"script|flush", NULL, -2, F_NOSCRIPT, K_NONE, C_SCRIPTING, NULL},
    {"script|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_SCRIPTING, NULL},
    {"script|kill", NULL, 2, F_NOSCRIPT|F_ALLOW_BUSY, K_NONE, C_SCRIPTING, NULL},
    {"script|load", NULL, 3, F_NOSCRIPT|F_STALE, K_NONE, C_SCRIPTING, NULL},
    {"slowlog|get", NULL, -2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"slowlog|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"slowlog|len", NULL, 2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"slowlog|reset", NULL, 2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0, NULL},
    {"xgroup|create", NULL, -5, F_WRITE|F_DENYOOM, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RW insert"},
    {"xgroup|createconsumer", NULL, 5, F_WRITE|F_DENYOOM, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RW insert"},
    {"xgroup|delconsumer", NULL, 5, F_WRITE, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RW delete"},
    {"xgroup|destroy", NULL, 4, F_WRITE, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RW delete"},
    {"xgroup|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_STREAM, NULL},
    {"xgroup|setid", NULL, -5, F_WRITE, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RW update"},
    {"xinfo|consumers", NULL, 4, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RO access"},
    {"xinfo|groups", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RO access"},
    {"xinfo|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_STREAM, NULL},
    {"xinfo|stream", NULL, -3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_STREAM, "RO access"},
};

size_t cmd_subcount(void)
{
    return sizeof cmd_subtable / sizeof cmd_subtable[0];
}

#define CMD_SLOTS 1024
_Static_assert(sizeof cmd_table / sizeof cmd_table[0] < CMD_SLOTS / 2,
               "keep the command table at most half full");
static const srv_cmd *cmd_slots[CMD_SLOTS];
/* Whether cmd_table[i] has declared subcommands (set at start). */
static bool cmd_has_sub[CMD_SLOTS / 2];

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ (uint8_t)p[i]) * 16777619u;
    }
    return h;
}

/* ----------------------------------------------------------- statistics
 *
 * INFO commandstats and errorstats.  Each worker counts its own commands
 * in its own row of cmd_stats (indexed by the command's place in the
 * table): one relaxed load and store per counter, no lock and no shared
 * cache line on the command path; INFO sums the rows.  CONFIG RESETSTAT
 * cannot write another worker's counters, so it moves a baseline that
 * INFO subtracts (guarded by stats_lock, which only INFO and RESETSTAT
 * take).  Error replies are rarer: they are counted by their first word
 * (ERR, WRONGTYPE, ...) in one table under stats_lock, at the one place
 * where a command's reply is known to be an error (srv_execute). */

/* One worker's figures for one command.  nsec is the time in commands;
 * hist counts calls by duration (srv_lat_bucket), unless latency-tracking
 * is off.  Each row is written by its worker only (bump: a relaxed load
 * and store, no read-modify-write), read by any thread. */
typedef struct cmd_stat {
    _Atomic(long long) calls, nsec, rejected, failed;
    _Atomic(long long) hist[SRV_LAT_BUCKETS];
} cmd_stat;

#define ERRORSTATS_MAX 128      /* distinct error codes kept, as Redis */

static cmd_stat *cmd_stats;     /* [(workers + 1) * table size]; NULL: no memory */
static srv_cmd_totals *cmd_stats_base;
static long long (*hist_base)[SRV_LAT_BUCKETS];  /* at the last CONFIG RESETSTAT */
_Atomic(long long) srv_latency_tracking = 1;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char code[32];
    long long count;
} error_codes[ERRORSTATS_MAX];
static size_t nerror_codes;
static long long total_errors;

static void bump(_Atomic(long long) *n, long long by)
{
    atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

/* Figures are kept per command and, as Redis keeps them, per declared
 * subcommand: index i < cmd_count() is cmd_table[i], the rest
 * cmd_subtable[i - cmd_count()]. */
size_t srv_cmdstat_count(void)
{
    return cmd_count() + cmd_subcount();
}

const char *srv_cmdstat_name(size_t i)
{
    return i < cmd_count() ? cmd_table[i].name : cmd_subtable[i - cmd_count()].name;
}

/* The index c's call with these arguments counts at: its subcommand's,
 * if it has that one declared. */
static size_t stat_index(const srv_cmd *c, size_t argc, const char **argv, const size_t *argl)
{
    const srv_cmd *s = argc >= 2 && cmd_has_sub[c - cmd_table] ? cmd_sub_entry(c, argv[1], argl[1])
                                                                : NULL;
    return s != NULL ? cmd_count() + (size_t)(s - cmd_subtable) : (size_t)(c - cmd_table);
}

/* The calling thread's row: its worker's, or the last for other threads. */
static cmd_stat *stat_row(void)
{
    int row = srv_self != NULL ? srv_self->index : srv.cfg.workers;
    return cmd_stats + (size_t)row * srv_cmdstat_count();
}

static void count_error(const char *p, size_t n)
{
    size_t k = 0;
    while (k < n && k < sizeof error_codes[0].code - 1 && p[k] != ' ' && p[k] != '\r') {
        k++;
    }
    pthread_mutex_lock(&stats_lock);
    total_errors++;
    size_t i = 0;
    while (i < nerror_codes &&
           !(strlen(error_codes[i].code) == k && memcmp(error_codes[i].code, p, k) == 0)) {
        i++;
    }
    if (i == nerror_codes && nerror_codes < ERRORSTATS_MAX) {
        memcpy(error_codes[i].code, p, k);
        error_codes[i].code[k] = '\0';
        error_codes[i].count = 0;
        nerror_codes++;
    }
    if (i < nerror_codes) {
        error_codes[i].count++;
    }
    pthread_mutex_unlock(&stats_lock);
}

/* After a reply was written at out[from..]: count it if it is an error;
 * true if it was. */
static bool note_error(srv_buf *out, size_t from)
{
    if (out->len <= from || out->data[from] != '-') {
        return false;
    }
    count_error(out->data + from + 1, out->len - from - 1);
    return true;
}

void cmd_note_reply_error(const srv_cmd *c, srv_buf *reply, size_t from)
{
    if (note_error(reply, from) && c != NULL && c->fn != NULL && cmd_stats != NULL) {
        bump(&stat_row()[c - cmd_table].failed, 1);
    }
}

void srv_cmdstat_get(size_t i, srv_cmd_totals *t)
{
    memset(t, 0, sizeof *t);
    if (cmd_stats == NULL) {
        return;
    }
    for (int w = 0; w <= srv.cfg.workers; w++) {
        cmd_stat *s = &cmd_stats[(size_t)w * srv_cmdstat_count() + i];
        t->calls += atomic_load_explicit(&s->calls, memory_order_relaxed);
        t->usec += atomic_load_explicit(&s->nsec, memory_order_relaxed);
        t->rejected += atomic_load_explicit(&s->rejected, memory_order_relaxed);
        t->failed += atomic_load_explicit(&s->failed, memory_order_relaxed);
    }
    t->usec /= 1000;  // summed in nanoseconds
    pthread_mutex_lock(&stats_lock);
    t->calls -= cmd_stats_base[i].calls;
    t->usec -= cmd_stats_base[i].usec;
    t->rejected -= cmd_stats_base[i].rejected;
    t->failed -= cmd_stats_base[i].failed;
    pthread_mutex_unlock(&stats_lock);
}

size_t srv_lat_bucket(uint64_t ns)
{
    if (ns < 1024) {
        return 0;
    }
    int o = 63 - __builtin_clzll(ns) - 10;  // octave above 1024 ns
    size_t b = 1 + (size_t)o * SRV_LAT_SUB + ((ns >> (o + 8)) & (SRV_LAT_SUB - 1));
    return b < SRV_LAT_BUCKETS ? b : SRV_LAT_BUCKETS - 1;
}

uint64_t srv_lat_bucket_top(size_t b)
{
    if (b == 0) {
        return 1023;
    }
    size_t o = (b - 1) / SRV_LAT_SUB, sub = (b - 1) % SRV_LAT_SUB;
    return ((uint64_t)(SRV_LAT_SUB + sub + 1) << (o + 8)) - 1;
}

long long srv_cmdstat_hist(size_t i, long long hist[SRV_LAT_BUCKETS])
{
    memset(hist, 0, sizeof(long long) * SRV_LAT_BUCKETS);
    if (cmd_stats == NULL) {
        return 0;
    }
    for (int w = 0; w <= srv.cfg.workers; w++) {
        cmd_stat *s = &cmd_stats[(size_t)w * srv_cmdstat_count() + i];
        for (size_t b = 0; b < SRV_LAT_BUCKETS; b++) {
            hist[b] += atomic_load_explicit(&s->hist[b], memory_order_relaxed);
        }
    }
    long long total = 0;
    pthread_mutex_lock(&stats_lock);
    for (size_t b = 0; b < SRV_LAT_BUCKETS; b++) {
        hist[b] -= hist_base[i][b];
        total += hist[b];
    }
    pthread_mutex_unlock(&stats_lock);
    return total;
}

size_t srv_errorstat_get(size_t i, char *code, size_t cap, long long *count)
{
    pthread_mutex_lock(&stats_lock);
    size_t n = nerror_codes;
    if (i < n) {
        snprintf(code, cap, "%s", error_codes[i].code);
        *count = error_codes[i].count;
    }
    pthread_mutex_unlock(&stats_lock);
    return n;
}

long long srv_total_errors(void)
{
    pthread_mutex_lock(&stats_lock);
    long long n = total_errors;
    pthread_mutex_unlock(&stats_lock);
    return n;
}

void srv_stats_reset(void)
{
    srv_cmd_totals now[sizeof cmd_table / sizeof cmd_table[0] +
                       sizeof cmd_subtable / sizeof cmd_subtable[0]];
    for (size_t i = 0; i < srv_cmdstat_count(); i++) {
        srv_cmdstat_get(i, &now[i]);  // relative to the old baseline
        long long h[SRV_LAT_BUCKETS];
        srv_cmdstat_hist(i, h);
        pthread_mutex_lock(&stats_lock);
        for (size_t b = 0; cmd_stats != NULL && b < SRV_LAT_BUCKETS; b++) {
            hist_base[i][b] += h[b];
        }
        pthread_mutex_unlock(&stats_lock);
    }
    pthread_mutex_lock(&stats_lock);
    for (size_t i = 0; cmd_stats_base != NULL && i < srv_cmdstat_count(); i++) {
        cmd_stats_base[i].calls += now[i].calls;
        cmd_stats_base[i].usec += now[i].usec * 1000;  // kept in nanoseconds
        cmd_stats_base[i].rejected += now[i].rejected;
        cmd_stats_base[i].failed += now[i].failed;
    }
    nerror_codes = 0;
    total_errors = 0;
    pthread_mutex_unlock(&stats_lock);
}

void srv_commands_init(void)
{
    slowlog_init();
    cmd_stats = calloc((size_t)(srv.cfg.workers + 1) * srv_cmdstat_count(), sizeof *cmd_stats);
    cmd_stats_base = calloc(srv_cmdstat_count(), sizeof *cmd_stats_base);
    hist_base = calloc(srv_cmdstat_count(), sizeof *hist_base);
    if (cmd_stats == NULL || cmd_stats_base == NULL || hist_base == NULL) {
        free(cmd_stats);
        free(cmd_stats_base);
        free(hist_base);
        cmd_stats = NULL;  // no statistics, and no crash
        cmd_stats_base = NULL;
        hist_base = NULL;
    }
    for (size_t i = 0; i < cmd_count(); i++) {
        const char *name = cmd_table[i].name;
        uint32_t h = name_hash(name, strlen(name));
        while (cmd_slots[h % CMD_SLOTS] != NULL) {
            h++;
        }
        cmd_slots[h % CMD_SLOTS] = &cmd_table[i];
    }
    for (size_t i = 0; i < cmd_subcount(); i++) {
        const char *name = cmd_subtable[i].name;
        const srv_cmd *parent = cmd_find(name, (size_t)(strchr(name, '|') - name));
        if (parent != NULL) {
            cmd_has_sub[parent - cmd_table] = true;
        }
    }
}

const srv_cmd *cmd_find(const char *p, size_t n)
{
    char low[24];
    if (n == 0 || n >= sizeof low) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    uint32_t h = name_hash(low, n);
    for (;;) {
        const srv_cmd *c = cmd_slots[h % CMD_SLOTS];
        if (c == NULL) {
            return NULL;
        }
        if (strncmp(c->name, low, n) == 0 && c->name[n] == '\0') {
            return c;
        }
        h++;
    }
}

void cmd_unknown_subcommand(ctx *x, const char *parent)
{
    int n = (int)(x->argl[1] > 128 ? 128 : x->argl[1]);
    char name[160];
    snprintf(name, sizeof name, "%s|%.*s", parent, n, x->argv[1]);
    for (char *p = name; *p != '\0'; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    for (size_t i = 0; i < cmd_subcount(); i++) {
        if (strcmp(cmd_subtable[i].name, name) == 0) {
            srv_reply_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for "
                             "'%.*s'. Try %s HELP.", n, x->argv[1], parent);
            return;
        }
    }
    srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try %s HELP.", n, x->argv[1], parent);
}

/* A declared subcommand's arity, as Redis checks it before the parent
 * runs: false after replying the error. */
const srv_cmd *cmd_sub_entry(const srv_cmd *c, const char *arg, size_t n)
{
    size_t pl = strlen(c->name);
    for (size_t i = 0; i < cmd_subcount(); i++) {
        const srv_cmd *s = &cmd_subtable[i];
        if (strncmp(s->name, c->name, pl) == 0 && s->name[pl] == '|' &&
            strlen(s->name + pl + 1) == n && strncasecmp(s->name + pl + 1, arg, n) == 0) {
            return s;
        }
    }
    return NULL;
}

static bool sub_arity_ok(ctx *x, const srv_cmd *c)
{
    const srv_cmd *s = cmd_sub_entry(c, x->argv[1], x->argl[1]);
    if (s != NULL && ((s->arity > 0 && (long)x->argc != s->arity) ||
                      (s->arity < 0 && (long)x->argc < -s->arity))) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command", s->name);
        return false;
    }
    return true;
}

/* Whether c (or its subcommand: SCRIPT KILL) may run while a script is busy. */
static bool allow_busy(ctx *x, const srv_cmd *c)
{
    if (c->flags & F_ALLOW_BUSY) {
        return true;
    }
    const srv_cmd *s = x->argc >= 2 && cmd_has_sub[c - cmd_table]
                       ? cmd_sub_entry(c, x->argv[1], x->argl[1]) : NULL;
    return s != NULL && (s->flags & F_ALLOW_BUSY);
}

static bool word_at(const ctx *x, size_t i, const char *w)
{
    return i < x->argc && x->argl[i] == strlen(w) && strncasecmp(x->argv[i], w, x->argl[i]) == 0;
}

bool cmd_arg_redacted(const ctx *x, size_t i)
{
    if (i == 0) {
        return false;
    }
    if (word_at(x, 0, "auth")) {
        return true;
    }
    if (word_at(x, 0, "hello")) {
        for (size_t j = 2; j + 2 < x->argc; j++) {
            if (word_at(x, j, "auth")) {
                return i == j + 1 || i == j + 2;
            }
        }
        return false;
    }
    if (word_at(x, 0, "config") && word_at(x, 1, "set")) {
        return i >= 3 && (i - 3) % 2 == 0 && srv_config_sensitive(x->argv[i - 1], x->argl[i - 1]);
    }
    return false;
}

/* Note the keys c may have given blocked clients something: they are
 * served after the request (srv_blk_serve), so EXEC is served as one
 * command.  A movable command's keys (SORT ... STORE dst) are found by
 * parsing, only for a write while someone waits. */
static void touch_keys(ctx *x, const srv_cmd *c)
{
    if (!(c->flags & F_MOVABLE)) {
        srv_blk_touch_keys(&c->keys, x->argc, x->argv, x->argl);
        return;
    }
    if (!(c->flags & F_WRITE) || !srv_blk_waiting()) {
        return;
    }
    size_t local[16], n = 0;
    size_t *idx = x->argc <= 16 ? local : malloc(x->argc * sizeof *idx);
    if (idx != NULL && cmd_movable_keys(c, x->argc, x->argv, x->argl, idx, &n)) {
        for (size_t i = 0; i < n; i++) {
            srv_blk_touch(x->argv[idx[i]], x->argl[idx[i]]);
        }
    }
    if (idx != local) {
        free(idx);
    }
}

/* Run c for x: the one place a handler is called, and so the one place a
 * command is timed.  The clock is read only when something wants the
 * duration (now the slow log, when on; slowlog.c says which clock);
 * per-command statistics belong here too, sharing the same two readings. */
void cmd_call(ctx *x, const srv_cmd *c)
{
    if (c->flags & F_WRITE) {
        srv_rdb_note_write(srv_self != NULL ? srv_self->index : -1);  // one change per write
    }
    if (srv_monitoring() && !(c->flags & (F_SKIP_MONITOR | F_ADMIN)) &&
        !(srv.cfg.sharded && x->c == srv_self->proxy)) {
        srv_monitor_feed(x);    // a routed request was fed where its client is
    }
    int clock = slowlog_clock();
    bool latency = srv_latency_on();
    if (clock < 0 && !latency) {
        c->fn(x);
        touch_keys(x, c);
        return;
    }
    if (clock < 0) {
        clock = 0;      // the precise clock, for the latency monitor alone
    }
    uint64_t t0 = slowlog_now(clock);
    bool was_blocked = x->c->blk != NULL;
    c->fn(x);
    uint64_t us = slowlog_now(clock) - t0;
    if (!was_blocked && x->c->blk != NULL) {
        srv_blk_defer_slowlog(x, c, us);    // logged when it is answered
    } else {
        slowlog_note(x, c, us);
    }
    if (latency) {
        srv_latency_add((c->flags & F_FAST) ? "fast-command" : "command", (long long)(us / 1000));
    }
    touch_keys(x, c);
}

static void unknown_command(ctx *x)
{
    // Redis: the name (128 bytes at most), then quoted arguments while the
    // list is under 128 bytes.
    char args[400];
    size_t len = 0;
    args[0] = '\0';
    for (size_t i = 1; i < x->argc && len < 128; i++) {
        int room = 128 - (int)len;
        int n = snprintf(args + len, sizeof args - len, "'%.*s' ",
                         (int)(x->argl[i] < (size_t)room ? x->argl[i] : (size_t)room), x->argv[i]);
        if (n < 0) {
            break;
        }
        len += (size_t)n;
        if (len >= sizeof args) {
            len = sizeof args - 1;
        }
    }
    srv_reply_errorf(x->out, "ERR unknown command '%.*s', with args beginning with: %s",
                     (int)(x->argl[0] > 128 ? 128 : x->argl[0]), x->argv[0], args);
}

bool srv_command_paused(const char *argv0, size_t len, bool all)
{
    // WRITE mode holds what may change the keyspace: Redis's "write" flag.
    const srv_cmd *c = cmd_find(argv0, len);
    return all || c == NULL || (c->flags & F_WRITE);
}

/* Whether writes need more good replicas than there are (none). */
static bool srv_min_replicas_to_write_now(void)
{
    return atomic_load_explicit(&srv_min_replicas_to_write, memory_order_relaxed) > 0 &&
           atomic_load_explicit(&srv_min_replicas_max_lag, memory_order_relaxed) > 0;
}

/* Run request x of command c (NULL: unknown) for conn: the checks in
 * Redis's order, queuing inside MULTI, routing to the owner (sharded),
 * or the command, then the clients blocked on the keys it touched.
 * Counts the command's calls, time and failures in st, if not NULL. */
static void dispatch(srv_conn *conn, ctx *x, const srv_cmd *c, size_t from, cmd_stat *st)
{
    if (c == NULL) {
        multi_flag(conn);
        unknown_command(x);
        note_error(x->out, from);
        return;
    }
    if ((c->arity > 0 && (long)x->argc != c->arity) ||
        (c->arity < 0 && (long)x->argc < -c->arity)) {
        char err[96];
        snprintf(err, sizeof err, "ERR wrong number of arguments for '%s' command", c->name);
        multi_reject(x, c, err);
        goto rejected;
    }
    if (x->argc >= 2 && cmd_has_sub[c - cmd_table] && !sub_arity_ok(x, c)) {
        goto rejected;
    }
    if (!conn->authed && !(c->flags & F_NOAUTH) && atomic_load(&srv.has_pass)) {
        multi_reject(x, c, "NOAUTH Authentication required.");
        goto rejected;
    }
    if (srv_script_busy() && !conn->in_script && !allow_busy(x, c)) {
        multi_reject(x, c, "BUSY Redis is busy running a script. You can only call SCRIPT KILL "
                           "or SHUTDOWN NOSAVE.");
        goto rejected;
    }
    long long maxmem = atomic_load_explicit(&srv.maxmemory, memory_order_relaxed);
    if (maxmem > 0 &&
        (long long)atomic_load_explicit(&srv.memory_used, memory_order_relaxed) > maxmem) {
        srv_ks_evict();  // as Redis, before any command; a no-op under noeviction
    }
    if ((c->flags & F_DENYOOM) || multi_denyoom(conn, c)) {
        if (maxmem > 0 &&
            (long long)atomic_load_explicit(&srv.memory_used, memory_order_relaxed) > maxmem) {
            multi_reject(x, c, "OOM command not allowed when used memory > 'maxmemory'.");
            goto rejected;
        }
    }
    const char *misconf = (c->flags & F_WRITE) || multi_writes(conn, c) ? srv_rdb_write_refusal() : NULL;
    if (misconf != NULL) {
        multi_reject(x, c, misconf);    // a failed background save (rdb.c)
        goto rejected;
    }
    if (srv_min_replicas_to_write_now() && ((c->flags & F_WRITE) || multi_writes(conn, c))) {
        // No replica ever connects: with min-replicas-to-write set (and
        // the lag check on), writes are refused as Redis refuses them.
        multi_reject(x, c, "NOREPLICAS Not enough good replicas to write.");
        goto rejected;
    }
    if (!(c->flags & F_SUBOK) && srv_pubsub_restricted(conn)) {
        srv_reply_errorf(x->out, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / "
                         "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                         c->name);
        goto rejected;
    }
    if (conn->multi != NULL && multi_queue(x, c)) {
        return;
    }
    atomic_store_explicit(&conn->last_cmd, c->name, memory_order_relaxed);
    uint64_t t0 = uv_hrtime();
    srv_keyspec ks = c->keys;
    if (srv.cfg.sharded && (c->flags & F_MOVABLE) && ks.first == 0 &&
        ks.route == SRV_ROUTE_KEYS) {
        cmd_request_keyspec(c, x->argc, x->argv, x->argl, &ks);  // XREAD's STREAMS
    }
    bool routed = srv.cfg.sharded && ks.route != SRV_ROUTE_LOCAL &&
                  srv_route(conn, &ks, x->argc, x->argv, x->argl);
    if (routed) {
        if (srv_monitoring() && !(c->flags & (F_SKIP_MONITOR | F_ADMIN))) {
            srv_monitor_feed(x);
        }
        if ((c->flags & F_BLOCKING) && ks.first > 0) {
            // It may wait at the owner: what follows waits for its answer.
            conn->blk_routed = true;
            conn->blk_owner = srv_slot_owner[srv_key_slot(x->argv[ks.first],
                                                          x->argl[ks.first])];
        }
    } else {
        cmd_run(x, c);
        srv_blk_serve();  // the clients blocked on keys it (or EXEC's queue) touched
#if SRV_DEBUG >= 2
        srv_ks_validate();
#endif
    }
    if (st != NULL) {
        uint64_t ns = uv_hrtime() - t0;
        bump(&st->calls, 1);
        bump(&st->nsec, (long long)ns);
        if (atomic_load_explicit(&srv_latency_tracking, memory_order_relaxed)) {
            bump(&st->hist[srv_lat_bucket(ns)], 1);
        }
        // A routed reply is written later, elsewhere: not seen here.
        if (!routed && x->out == srv_conn_out(conn) && note_error(x->out, from)) {
            bump(&st->failed, 1);
        }
    }
    return;
rejected:
    note_error(x->out, from);
    if (st != NULL) {
        bump(&st->rejected, 1);
    }
}

void cmd_note_call(const srv_cmd *c, bool failed)
{
    if (cmd_stats == NULL || c < cmd_table || c >= cmd_table + cmd_count()) {
        return;
    }
    cmd_stat *st = &stat_row()[c - cmd_table];
    bump(&st->calls, 1);
    if (failed) {
        bump(&st->failed, 1);
    }
}

void srv_execute(srv_conn *conn, size_t argc, const char **argv, const size_t *argl)
{
    ctx x = {.c = conn, .out = srv_conn_out(conn), .argc = argc, .argv = argv, .argl = argl};
    size_t from = x.out->len;
    srv_ks_use(conn->db);
    // CLIENT REPLY SKIP before this one (reply_skip, which CLIENT REPLY ON
    // clears) or OFF: this reply is dropped.
    conn->mute_routed = conn->reply_skip || conn->reply_off;
    const srv_cmd *c = cmd_find(argv[0], argl[0]);
    cmd_stat *st = c != NULL && cmd_stats != NULL ? &stat_row()[stat_index(c, argc, argv, argl)]
                                                  : NULL;
    dispatch(conn, &x, c, from, st);
    atomic_store_explicit(&conn->last_ms, srv_now_ms(), memory_order_relaxed);
    bool skip = conn->reply_skip;
    conn->reply_skip = false;
    if (conn->reply_skip_next) {
        conn->reply_skip_next = false;
        conn->reply_skip = true;
    }
    // CLIENT REPLY OFF (still off after this command: ON answers) or SKIP;
    // pub/sub confirmations are pushes, which Redis sends regardless.
    bool pushes = c != NULL && (c->flags & F_PUSH);
    if ((skip || conn->reply_off) && !pushes && x.out == srv_conn_out(conn) &&
        x.out->len >= from) {
        x.out->len = from;
    }
}

void srv_execute_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                        const size_t *argl)
{
    ctx x = {.c = conn, .out = out, .argc = argc, .argv = argv, .argl = argl};
    out->resp3 = conn->resp == 3;  // the reply goes to a client of that protocol
    srv_ks_use(conn->db);
    if (argl[0] > 0 && argv[0][0] == MULTI_ROUTED && multi_routed(conn, out, argc, argv, argl)) {
        srv_blk_serve();  // an EXEC run here: the clients blocked on keys its queue touched
        return;
    }
    const srv_cmd *c = cmd_find(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);  // cannot happen: the sender looked it up
        return;
    }
    size_t from = out->len;
    cmd_run(&x, c);
    srv_blk_serve();  // the clients blocked on keys it (or EXEC's queue) touched
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
    // The origin counted the call; the failure is seen here, in this
    // worker's row (INFO adds the rows up).
    if (note_error(out, from) && cmd_stats != NULL) {
        bump(&stat_row()[stat_index(c, argc, argv, argl)].failed, 1);
    }
}
