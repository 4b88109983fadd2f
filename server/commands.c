/*
 * server/commands.c - the command table, dispatch, and the helpers the
 * commands share.  The commands themselves are in one file per family
 * (cmd_server.c, cmd_keys.c, cmd_string.c, cmd_list.c, cmd_hash.c,
 * cmd_set.c, cmd_zset.c); cmd.h declares them.  The table below is the only
 * place a command is declared: its name, arity, flags and where its keys
 * are, which COMMAND and the shard routing (shard.c) read.
 *
 * Technique.  A request arrives as (pointer, length) pairs into the
 * connection's query buffer.  The command name is folded to lower case in
 * a small stack buffer and looked up in an open-addressed table built once
 * at start (srv_commands_init); each entry has Redis's arity convention
 * (n: exactly n arguments, -n: at least n) and flags (may grow memory, so
 * refused past maxmemory; allowed before AUTH).  The checks run in Redis
 * 7.0's order, so the first error a client sees is Redis's: unknown
 * command, wrong number of arguments, NOAUTH, OOM.  Replies go straight
 * into the connection's output buffer; no command allocates for its reply
 * beyond growing that buffer.
 *
 * Every command runs while the caller holds the keyspace (the GIL, or the
 * keyspace lock in free mode; sharded, on the worker that owns its keys),
 * so each is atomic and sees every write acknowledged before it.
 *
 * Error texts and reply shapes are Redis 7.0's, checked against
 * redis-server 7.0 (see docs/server.md for what differs: HELLO names the
 * server "mwrt", COMMAND answers briefly, SELECT knows database 0 only).
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
        srv_reply_array(out, (long long)h->d.count * 2);
        for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
            srv_reply_bulk(out, e->key, e->klen);
            reply_value(out, e->v.obj, depth + 1);
        }
    } else if (t == &srv_set_type) {
        srv_set *s = (srv_set *)o;
        srv_reply_array(out, (long long)s->d.count);
        for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
            srv_reply_bulk(out, e->key, e->klen);
        }
    } else if (t == &srv_zset_type) {
        srv_zset *z = (srv_zset *)o;
        srv_reply_array(out, (long long)z->len * 2);
        for (srv_znode *n = z->header->level[0].fwd; n != NULL; n = n->level[0].fwd) {
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
    {"ping", cmd_ping, -1, F_FAST, K_NONE, C_CONNECTION},
    {"echo", cmd_echo, 2, F_LOADING|F_STALE|F_FAST, K_NONE, C_CONNECTION},
    {"quit", cmd_quit, -1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY, K_NONE, C_CONNECTION},
    {"select", cmd_select, 2, F_LOADING|F_STALE|F_FAST, K_NONE, C_CONNECTION},
    {"auth", cmd_auth, -2, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY, K_NONE, C_CONNECTION},
    {"hello", cmd_hello, -1, F_NOSCRIPT|F_LOADING|F_STALE|F_FAST|F_NOAUTH|F_ALLOW_BUSY, K_NONE, C_CONNECTION},
    {"command", cmd_command, -1, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"client", cmd_client, -2, 0, K_NONE, 0},
    {"config", cmd_config, -2, 0, K_NONE, 0},
    {"info", cmd_info, -1, F_LOADING|F_STALE, K_NONE, C_DANGEROUS},
    {"dbsize", cmd_dbsize, 1, F_READONLY|F_FAST, K_ALL(SRV_ROUTE_ALL_SUM), C_KEYSPACE},
    {"flushdb", cmd_flushdb, -1, F_WRITE, K_ALL(SRV_ROUTE_ALL_OK), C_KEYSPACE|C_DANGEROUS},
    {"flushall", cmd_flushdb, -1, F_WRITE, K_ALL(SRV_ROUTE_ALL_OK), C_KEYSPACE|C_DANGEROUS},
    {"keys", cmd_keys, 2, F_READONLY, K_ALL(SRV_ROUTE_ALL_CONCAT), C_KEYSPACE|C_DANGEROUS},
    {"scan", cmd_scan, -2, F_READONLY, K_ALL(SRV_ROUTE_SCAN), C_KEYSPACE},
    {"type", cmd_type, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE},
    {"exists", cmd_exists, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE},
    {"del", cmd_del, -2, F_WRITE, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE},
    {"unlink", cmd_del, -2, F_WRITE|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE},
    {"rename", cmd_rename, 3, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"expire", cmd_expire, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE},
    {"pexpire", cmd_pexpire, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE},
    {"ttl", cmd_ttl, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE},
    {"pttl", cmd_pttl, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE},
    {"persist", cmd_persist, 2, F_WRITE|F_FAST, K_1, C_KEYSPACE},
    {"set", cmd_set, -3, F_WRITE|F_DENYOOM, K_1, C_STRING},
    {"get", cmd_get, 2, F_READONLY|F_FAST, K_1, C_STRING},
    {"getset", cmd_getset, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"mset", cmd_mset, -3, F_WRITE|F_DENYOOM, K_SPLIT(2, SRV_ROUTE_SPLIT_OK), C_STRING},
    {"mget", cmd_mget, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_MGET), C_STRING},
    {"incr", cmd_incr, 2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"decr", cmd_decr, 2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"incrby", cmd_incrby, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"decrby", cmd_decrby, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"append", cmd_append, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"strlen", cmd_strlen, 2, F_READONLY|F_FAST, K_1, C_STRING},
    {"setnx", cmd_setnx, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"setex", cmd_setex, 4, F_WRITE|F_DENYOOM, K_1, C_STRING},
    {"psetex", cmd_psetex, 4, F_WRITE|F_DENYOOM, K_1, C_STRING},
    {"getex", cmd_getex, -2, F_WRITE|F_FAST, K_1, C_STRING},
    {"getdel", cmd_getdel, 2, F_WRITE|F_FAST, K_1, C_STRING},
    {"msetnx", cmd_msetnx, -3, F_WRITE|F_DENYOOM, {1, -1, 2, SRV_ROUTE_KEYS}, C_STRING},
    {"incrbyfloat", cmd_incrbyfloat, 3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_STRING},
    {"getrange", cmd_getrange, 4, F_READONLY, K_1, C_STRING},
    {"substr", cmd_getrange, 4, F_READONLY, K_1, C_STRING},
    {"setrange", cmd_setrange, 4, F_WRITE|F_DENYOOM, K_1, C_STRING},
    {"expireat", cmd_expireat, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE},
    {"pexpireat", cmd_pexpireat, -3, F_WRITE|F_FAST, K_1, C_KEYSPACE},
    {"expiretime", cmd_expiretime, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE},
    {"pexpiretime", cmd_pexpiretime, 2, F_READONLY|F_FAST, K_1, C_KEYSPACE},
    {"renamenx", cmd_renamenx, 3, F_WRITE|F_FAST, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"copy", cmd_copy, -3, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"touch", cmd_touch, -2, F_READONLY|F_FAST, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM), C_KEYSPACE},
    {"randomkey", cmd_randomkey, 1, F_READONLY, K_NONE, C_KEYSPACE},
    {"object", cmd_object, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0},
    {"memory", cmd_memory, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}, 0},
    {"setbit", cmd_setbit, 4, F_WRITE|F_DENYOOM, K_1, C_BITMAP},
    {"getbit", cmd_getbit, 3, F_READONLY|F_FAST, K_1, C_BITMAP},
    {"bitcount", cmd_bitcount, -2, F_READONLY, K_1, C_BITMAP},
    {"bitpos", cmd_bitpos, -3, F_READONLY, K_1, C_BITMAP},
    {"bitop", cmd_bitop, -4, F_WRITE|F_DENYOOM, {2, -1, 1, SRV_ROUTE_KEYS}, C_BITMAP},
    {"pfadd", cmd_pfadd, -2, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HYPERLOGLOG},
    {"pfcount", cmd_pfcount, -2, F_READONLY, {1, -1, 1, SRV_ROUTE_KEYS}, C_HYPERLOGLOG},
    {"pfmerge", cmd_pfmerge, -2, F_WRITE|F_DENYOOM, {1, -1, 1, SRV_ROUTE_KEYS}, C_HYPERLOGLOG},
    {"lpush", cmd_lpush, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST},
    {"rpush", cmd_rpush, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST},
    {"lpop", cmd_lpop, -2, F_WRITE|F_FAST, K_1, C_LIST},
    {"rpop", cmd_rpop, -2, F_WRITE|F_FAST, K_1, C_LIST},
    {"lrange", cmd_lrange, 4, F_READONLY, K_1, C_LIST},
    {"llen", cmd_llen, 2, F_READONLY|F_FAST, K_1, C_LIST},
    {"lindex", cmd_lindex, 3, F_READONLY, K_1, C_LIST},
    {"lset", cmd_lset, 4, F_WRITE|F_DENYOOM, K_1, C_LIST},
    {"lrem", cmd_lrem, 4, F_WRITE, K_1, C_LIST},
    {"ltrim", cmd_ltrim, 4, F_WRITE, K_1, C_LIST},
    {"linsert", cmd_linsert, 5, F_WRITE|F_DENYOOM, K_1, C_LIST},
    {"lpos", cmd_lpos, -3, F_READONLY, K_1, C_LIST},
    {"lmove", cmd_lmove, 5, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST},
    {"rpoplpush", cmd_rpoplpush, 3, F_WRITE|F_DENYOOM, {1, 2, 1, SRV_ROUTE_KEYS}, C_LIST},
    {"lpushx", cmd_lpushx, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST},
    {"rpushx", cmd_rpushx, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_LIST},
    {"hset", cmd_hset, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH},
    {"hget", cmd_hget, 3, F_READONLY|F_FAST, K_1, C_HASH},
    {"hmset", cmd_hmset, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH},
    {"hmget", cmd_hmget, -3, F_READONLY|F_FAST, K_1, C_HASH},
    {"hdel", cmd_hdel, -3, F_WRITE|F_FAST, K_1, C_HASH},
    {"hgetall", cmd_hgetall, 2, F_READONLY, K_1, C_HASH},
    {"hlen", cmd_hlen, 2, F_READONLY|F_FAST, K_1, C_HASH},
    {"hexists", cmd_hexists, 3, F_READONLY|F_FAST, K_1, C_HASH},
    {"hincrby", cmd_hincrby, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH},
    {"hkeys", cmd_hkeys, 2, F_READONLY, K_1, C_HASH},
    {"hvals", cmd_hvals, 2, F_READONLY, K_1, C_HASH},
    {"hsetnx", cmd_hsetnx, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_HASH},
    {"hstrlen", cmd_hstrlen, 3, F_READONLY|F_FAST, K_1, C_HASH},
    {"hrandfield", cmd_hrandfield, -2, F_READONLY, K_1, C_HASH},
    {"sadd", cmd_sadd, -3, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SET},
    {"srem", cmd_srem, -3, F_WRITE|F_FAST, K_1, C_SET},
    {"smembers", cmd_smembers, 2, F_READONLY, K_1, C_SET},
    {"sismember", cmd_sismember, 3, F_READONLY|F_FAST, K_1, C_SET},
    {"scard", cmd_scard, 2, F_READONLY|F_FAST, K_1, C_SET},
    {"spop", cmd_spop, -2, F_WRITE|F_FAST, K_1, C_SET},
    {"sinter", cmd_sinter, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sunion", cmd_sunion, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sdiff", cmd_sdiff, -2, F_READONLY, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sinterstore", cmd_sinterstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sunionstore", cmd_sunionstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sdiffstore", cmd_sdiffstore, -3, F_WRITE|F_DENYOOM, K_SPLIT(1, SRV_ROUTE_KEYS), C_SET},
    {"sintercard", cmd_sintercard, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SET},
    {"smove", cmd_smove, 4, F_WRITE|F_FAST, {1, 2, 1, SRV_ROUTE_KEYS}, C_SET},
    {"smismember", cmd_smismember, -3, F_READONLY|F_FAST, K_1, C_SET},
    {"srandmember", cmd_srandmember, -2, F_READONLY, K_1, C_SET},
    {"zadd", cmd_zadd, -4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SORTEDSET},
    {"zrem", cmd_zrem, -3, F_WRITE|F_FAST, K_1, C_SORTEDSET},
    {"zscore", cmd_zscore, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zcard", cmd_zcard, 2, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zrange", cmd_zrange, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zrank", cmd_zrank, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zincrby", cmd_zincrby, 4, F_WRITE|F_DENYOOM|F_FAST, K_1, C_SORTEDSET},
    {"zpopmin", cmd_zpopmin, -2, F_WRITE|F_FAST, K_1, C_SORTEDSET},
    {"zrevrange", cmd_zrevrange, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zrangebyscore", cmd_zrangebyscore, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zrangebylex", cmd_zrangebylex, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, F_READONLY, K_1, C_SORTEDSET},
    {"zcount", cmd_zcount, 4, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zlexcount", cmd_zlexcount, 4, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, F_WRITE, K_1, C_SORTEDSET},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, F_WRITE, K_1, C_SORTEDSET},
    {"zremrangebylex", cmd_zremrangebylex, 4, F_WRITE, K_1, C_SORTEDSET},
    {"zrevrank", cmd_zrevrank, 3, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zpopmax", cmd_zpopmax, -2, F_WRITE|F_FAST, K_1, C_SORTEDSET},
    {"zmscore", cmd_zmscore, -3, F_READONLY|F_FAST, K_1, C_SORTEDSET},
    {"zrandmember", cmd_zrandmember, -2, F_READONLY, K_1, C_SORTEDSET},
    {"zunionstore", cmd_zunionstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET},
    {"zinterstore", cmd_zinterstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET},
    {"zdiffstore", cmd_zdiffstore, -4, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SORTEDSET},
    {"zunion", cmd_zunion, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET},
    {"zinter", cmd_zinter, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET},
    {"zdiff", cmd_zdiff, -3, F_READONLY|F_MOVABLE, {2, 2, 1, SRV_ROUTE_KEYS}, C_SORTEDSET},
    {"sort", cmd_sort, -2, F_WRITE|F_DENYOOM|F_MOVABLE, K_1, C_SET|C_SORTEDSET|C_LIST|C_DANGEROUS},
    {"sort_ro", cmd_sort_ro, -2, F_READONLY|F_MOVABLE, K_1, C_SET|C_SORTEDSET|C_LIST|C_DANGEROUS},
    {"hscan", cmd_hscan, -3, F_READONLY, K_1, C_HASH},
    {"sscan", cmd_sscan, -3, F_READONLY, K_1, C_SET},
    {"zscan", cmd_zscan, -3, F_READONLY, K_1, C_SORTEDSET},
    {"slowlog", cmd_slowlog, -2, 0, K_NONE, 0},
    {"time", cmd_time, 1, F_LOADING|F_STALE|F_FAST, K_NONE, 0},
    {"lastsave", cmd_lastsave, 1, F_LOADING|F_STALE|F_FAST, K_NONE, C_ADMIN|C_DANGEROUS},
    {"debug", cmd_debug, -2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0},
    {"ref.set", cmd_ref_set, 4, F_WRITE|F_DENYOOM, {1, 3, 2, SRV_ROUTE_KEYS}, 0},
    {"ref.get", cmd_ref_get, 3, F_READONLY|F_FAST, K_1, 0},
    {"gc.collect", cmd_gc_collect, -1, F_ADMIN|F_NOSCRIPT, K_ALL(SRV_ROUTE_ALL_SUM), 0},
    {"gc.stats", cmd_gc_stats, 1, F_LOADING|F_STALE, K_NONE, 0},
    {"gc.policy", cmd_gc_policy, -1, F_ADMIN|F_NOSCRIPT, K_NONE, 0},
};

size_t cmd_count(void)
{
    return sizeof cmd_table / sizeof cmd_table[0];
}

const srv_cmd cmd_subtable[] = {
    {"client|getname", NULL, 2, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"client|id", NULL, 2, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"client|setname", NULL, 3, F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|count", NULL, 2, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|docs", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|getkeys", NULL, -4, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|getkeysandflags", NULL, -4, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|info", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"command|list", NULL, -2, F_LOADING|F_STALE, K_NONE, C_CONNECTION},
    {"config|get", NULL, -3, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0},
    {"config|resetstat", NULL, 2, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0},
    {"config|set", NULL, -4, F_ADMIN|F_NOSCRIPT|F_LOADING|F_STALE, K_NONE, 0},
    {"memory|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0},
    {"memory|usage", NULL, -3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, 0},
    {"object|encoding", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"object|freq", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"object|help", NULL, 2, F_LOADING|F_STALE, K_NONE, C_KEYSPACE},
    {"object|idletime", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"object|refcount", NULL, 3, F_READONLY, {2, 2, 1, SRV_ROUTE_KEYS}, C_KEYSPACE},
    {"slowlog|get", NULL, -2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0},
    {"slowlog|help", NULL, 2, F_LOADING|F_STALE, K_NONE, 0},
    {"slowlog|len", NULL, 2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0},
    {"slowlog|reset", NULL, 2, F_ADMIN|F_LOADING|F_STALE, K_NONE, 0},
};

size_t cmd_subcount(void)
{
    return sizeof cmd_subtable / sizeof cmd_subtable[0];
}

#define CMD_SLOTS 512
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

void srv_commands_init(void)
{
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
static bool sub_arity_ok(ctx *x, const srv_cmd *c)
{
    size_t pl = strlen(c->name);
    for (size_t i = 0; i < cmd_subcount(); i++) {
        const srv_cmd *s = &cmd_subtable[i];
        if (strncmp(s->name, c->name, pl) != 0 || s->name[pl] != '|' ||
            strlen(s->name + pl + 1) != x->argl[1] ||
            strncasecmp(s->name + pl + 1, x->argv[1], x->argl[1]) != 0) {
            continue;
        }
        if ((s->arity > 0 && (long)x->argc != s->arity) ||
            (s->arity < 0 && (long)x->argc < -s->arity)) {
            srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command", s->name);
            return false;
        }
        return true;
    }
    return true;
}

/* Run c for x: the one place a handler is called, and so the one place a
 * command is timed.  The clock is read only when something wants the
 * duration (now the slow log, when on); per-command statistics belong
 * here too, sharing the same two readings. */
static void cmd_call(ctx *x, const srv_cmd *c)
{
    if (atomic_load_explicit(&slowlog_slower_than, memory_order_relaxed) < 0) {
        c->fn(x);
        return;
    }
    uint64_t t0 = srv_mono_us();
    c->fn(x);
    slowlog_note(x, c, srv_mono_us() - t0);
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

void srv_execute(srv_conn *conn, size_t argc, const char **argv, const size_t *argl)
{
    ctx x = {.c = conn, .out = srv_conn_out(conn), .argc = argc, .argv = argv, .argl = argl};
    const srv_cmd *c = cmd_find(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);
        return;
    }
    if ((c->arity > 0 && (long)argc != c->arity) || (c->arity < 0 && (long)argc < -c->arity)) {
        srv_reply_errorf(x.out, "ERR wrong number of arguments for '%s' command", c->name);
        return;
    }
    if (x.argc >= 2 && cmd_has_sub[c - cmd_table] && !sub_arity_ok(&x, c)) {
        return;
    }
    if (!conn->authed && !(c->flags & F_NOAUTH) && atomic_load(&srv.has_pass)) {
        srv_reply_error(x.out, "NOAUTH Authentication required.");
        return;
    }
    if (c->flags & F_DENYOOM) {
        long long maxmem = atomic_load_explicit(&srv.maxmemory, memory_order_relaxed);
        if (maxmem > 0 &&
            (long long)atomic_load_explicit(&srv.memory_used, memory_order_relaxed) > maxmem) {
            srv_reply_error(x.out, "OOM command not allowed when used memory > 'maxmemory'.");
            return;
        }
    }
    if (srv.cfg.sharded && c->keys.route != SRV_ROUTE_LOCAL &&
        srv_route(conn, &c->keys, argc, argv, argl)) {
        return;
    }
    cmd_call(&x, c);
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
}

void srv_execute_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                        const size_t *argl)
{
    ctx x = {.c = conn, .out = out, .argc = argc, .argv = argv, .argl = argl};
    const srv_cmd *c = cmd_find(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);  // cannot happen: the sender looked it up
        return;
    }
    cmd_call(&x, c);
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
}
