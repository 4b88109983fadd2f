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
    {"ping", cmd_ping, -1, F_PUBSUB, K_NONE},
    {"echo", cmd_echo, 2, 0, K_NONE},
    {"quit", cmd_quit, -1, F_NOAUTH | F_PUBSUB, K_NONE},
    {"select", cmd_select, 2, 0, K_NONE},
    {"auth", cmd_auth, -2, F_NOAUTH, K_NONE},
    {"hello", cmd_hello, -1, F_NOAUTH, K_NONE},
    {"command", cmd_command, -1, 0, K_NONE},
    {"client", cmd_client, -2, 0, K_NONE},
    {"config", cmd_config, -2, 0, K_NONE},
    {"info", cmd_info, -1, 0, K_NONE},
    {"dbsize", cmd_dbsize, 1, 0, K_ALL(SRV_ROUTE_ALL_SUM)},
    {"flushdb", cmd_flushdb, -1, 0, K_ALL(SRV_ROUTE_ALL_OK)},
    {"flushall", cmd_flushdb, -1, 0, K_ALL(SRV_ROUTE_ALL_OK)},
    {"keys", cmd_keys, 2, 0, K_ALL(SRV_ROUTE_ALL_CONCAT)},
    {"scan", cmd_scan, -2, 0, K_ALL(SRV_ROUTE_SCAN)},
    {"type", cmd_type, 2, 0, K_1},
    {"exists", cmd_exists, -2, 0, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM)},
    {"del", cmd_del, -2, 0, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM)},
    {"unlink", cmd_del, -2, 0, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM)},
    {"rename", cmd_rename, 3, 0, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"expire", cmd_expire, -3, 0, K_1},
    {"pexpire", cmd_pexpire, -3, 0, K_1},
    {"ttl", cmd_ttl, 2, 0, K_1},
    {"pttl", cmd_pttl, 2, 0, K_1},
    {"persist", cmd_persist, 2, 0, K_1},
    {"set", cmd_set, -3, F_WRITE, K_1},
    {"get", cmd_get, 2, 0, K_1},
    {"getset", cmd_getset, 3, F_WRITE, K_1},
    {"mset", cmd_mset, -3, F_WRITE, K_SPLIT(2, SRV_ROUTE_SPLIT_OK)},
    {"mget", cmd_mget, -2, 0, K_SPLIT(1, SRV_ROUTE_SPLIT_MGET)},
    {"incr", cmd_incr, 2, F_WRITE, K_1},
    {"decr", cmd_decr, 2, F_WRITE, K_1},
    {"incrby", cmd_incrby, 3, F_WRITE, K_1},
    {"decrby", cmd_decrby, 3, F_WRITE, K_1},
    {"append", cmd_append, 3, F_WRITE, K_1},
    {"strlen", cmd_strlen, 2, 0, K_1},
    {"setnx", cmd_setnx, 3, F_WRITE, K_1},
    {"setex", cmd_setex, 4, F_WRITE, K_1},
    {"psetex", cmd_psetex, 4, F_WRITE, K_1},
    {"getex", cmd_getex, -2, 0, K_1},
    {"getdel", cmd_getdel, 2, 0, K_1},
    {"msetnx", cmd_msetnx, -3, F_WRITE, {1, -1, 2, SRV_ROUTE_KEYS}},
    {"incrbyfloat", cmd_incrbyfloat, 3, F_WRITE, K_1},
    {"getrange", cmd_getrange, 4, 0, K_1},
    {"substr", cmd_getrange, 4, 0, K_1},
    {"setrange", cmd_setrange, 4, F_WRITE, K_1},
    {"expireat", cmd_expireat, -3, 0, K_1},
    {"pexpireat", cmd_pexpireat, -3, 0, K_1},
    {"expiretime", cmd_expiretime, 2, 0, K_1},
    {"pexpiretime", cmd_pexpiretime, 2, 0, K_1},
    {"renamenx", cmd_renamenx, 3, 0, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"copy", cmd_copy, -3, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"touch", cmd_touch, -2, 0, K_SPLIT(1, SRV_ROUTE_SPLIT_SUM)},
    {"randomkey", cmd_randomkey, 1, 0, K_NONE},
    {"object", cmd_object, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"memory", cmd_memory, -2, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"setbit", cmd_setbit, 4, F_WRITE, K_1},
    {"getbit", cmd_getbit, 3, 0, K_1},
    {"bitcount", cmd_bitcount, -2, 0, K_1},
    {"bitpos", cmd_bitpos, -3, 0, K_1},
    {"bitop", cmd_bitop, -4, F_WRITE, {2, -1, 1, SRV_ROUTE_KEYS}},
    {"pfadd", cmd_pfadd, -2, F_WRITE, K_1},
    {"pfcount", cmd_pfcount, -2, 0, {1, -1, 1, SRV_ROUTE_KEYS}},
    {"pfmerge", cmd_pfmerge, -2, F_WRITE, {1, -1, 1, SRV_ROUTE_KEYS}},
    {"lpush", cmd_lpush, -3, F_WRITE, K_1},
    {"rpush", cmd_rpush, -3, F_WRITE, K_1},
    {"lpop", cmd_lpop, -2, 0, K_1},
    {"rpop", cmd_rpop, -2, 0, K_1},
    {"lrange", cmd_lrange, 4, 0, K_1},
    {"llen", cmd_llen, 2, 0, K_1},
    {"lindex", cmd_lindex, 3, 0, K_1},
    {"lset", cmd_lset, 4, F_WRITE, K_1},
    {"lrem", cmd_lrem, 4, 0, K_1},
    {"ltrim", cmd_ltrim, 4, 0, K_1},
    {"linsert", cmd_linsert, 5, F_WRITE, K_1},
    {"lpos", cmd_lpos, -3, 0, K_1},
    {"lmove", cmd_lmove, 5, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"rpoplpush", cmd_rpoplpush, 3, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"lpushx", cmd_lpushx, -3, F_WRITE, K_1},
    {"rpushx", cmd_rpushx, -3, F_WRITE, K_1},
    {"hset", cmd_hset, -4, F_WRITE, K_1},
    {"hget", cmd_hget, 3, 0, K_1},
    {"hmset", cmd_hmset, -4, F_WRITE, K_1},
    {"hmget", cmd_hmget, -3, 0, K_1},
    {"hdel", cmd_hdel, -3, 0, K_1},
    {"hgetall", cmd_hgetall, 2, 0, K_1},
    {"hlen", cmd_hlen, 2, 0, K_1},
    {"hexists", cmd_hexists, 3, 0, K_1},
    {"hincrby", cmd_hincrby, 4, F_WRITE, K_1},
    {"hkeys", cmd_hkeys, 2, 0, K_1},
    {"hvals", cmd_hvals, 2, 0, K_1},
    {"hsetnx", cmd_hsetnx, 4, F_WRITE, K_1},
    {"hincrbyfloat", cmd_hincrbyfloat, 4, F_WRITE, K_1},
    {"hstrlen", cmd_hstrlen, 3, 0, K_1},
    {"hrandfield", cmd_hrandfield, -2, 0, K_1},
    {"sadd", cmd_sadd, -3, F_WRITE, K_1},
    {"srem", cmd_srem, -3, 0, K_1},
    {"smembers", cmd_smembers, 2, 0, K_1},
    {"sismember", cmd_sismember, 3, 0, K_1},
    {"scard", cmd_scard, 2, 0, K_1},
    {"spop", cmd_spop, -2, 0, K_1},
    {"sinter", cmd_sinter, -2, 0, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sunion", cmd_sunion, -2, 0, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sdiff", cmd_sdiff, -2, 0, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sinterstore", cmd_sinterstore, -3, F_WRITE, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sunionstore", cmd_sunionstore, -3, F_WRITE, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sdiffstore", cmd_sdiffstore, -3, F_WRITE, K_SPLIT(1, SRV_ROUTE_KEYS)},
    {"sintercard", cmd_sintercard, -3, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"smove", cmd_smove, 4, F_WRITE, {1, 2, 1, SRV_ROUTE_KEYS}},
    {"smismember", cmd_smismember, -3, 0, K_1},
    {"srandmember", cmd_srandmember, -2, 0, K_1},
    {"zadd", cmd_zadd, -4, F_WRITE, K_1},
    {"zrem", cmd_zrem, -3, 0, K_1},
    {"zscore", cmd_zscore, 3, 0, K_1},
    {"zcard", cmd_zcard, 2, 0, K_1},
    {"zrange", cmd_zrange, -4, 0, K_1},
    {"zrank", cmd_zrank, 3, 0, K_1},
    {"zincrby", cmd_zincrby, 4, F_WRITE, K_1},
    {"zpopmin", cmd_zpopmin, -2, 0, K_1},
    {"zrevrange", cmd_zrevrange, -4, 0, K_1},
    {"zrangebyscore", cmd_zrangebyscore, -4, 0, K_1},
    {"zrevrangebyscore", cmd_zrevrangebyscore, -4, 0, K_1},
    {"zrangebylex", cmd_zrangebylex, -4, 0, K_1},
    {"zrevrangebylex", cmd_zrevrangebylex, -4, 0, K_1},
    {"zcount", cmd_zcount, 4, 0, K_1},
    {"zlexcount", cmd_zlexcount, 4, 0, K_1},
    {"zremrangebyrank", cmd_zremrangebyrank, 4, 0, K_1},
    {"zremrangebyscore", cmd_zremrangebyscore, 4, 0, K_1},
    {"zremrangebylex", cmd_zremrangebylex, 4, 0, K_1},
    {"zrevrank", cmd_zrevrank, 3, 0, K_1},
    {"zpopmax", cmd_zpopmax, -2, 0, K_1},
    {"zmscore", cmd_zmscore, -3, 0, K_1},
    {"zrandmember", cmd_zrandmember, -2, 0, K_1},
    {"zunionstore", cmd_zunionstore, -4, F_WRITE, K_1},
    {"zinterstore", cmd_zinterstore, -4, F_WRITE, K_1},
    {"zdiffstore", cmd_zdiffstore, -4, F_WRITE, K_1},
    {"zunion", cmd_zunion, -3, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"zinter", cmd_zinter, -3, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"zdiff", cmd_zdiff, -3, 0, {2, 2, 1, SRV_ROUTE_KEYS}},
    {"ref.set", cmd_ref_set, 4, F_WRITE, {1, 3, 2, SRV_ROUTE_KEYS}},
    {"ref.get", cmd_ref_get, 3, 0, K_1},
    {"gc.collect", cmd_gc_collect, -1, 0, K_ALL(SRV_ROUTE_ALL_SUM)},
    {"gc.stats", cmd_gc_stats, 1, 0, K_NONE},
    {"gc.policy", cmd_gc_policy, -1, 0, K_NONE},
    {"subscribe", cmd_subscribe, -2, F_PUBSUB | F_PUSH, K_NONE},
    {"unsubscribe", cmd_unsubscribe, -1, F_PUBSUB | F_PUSH, K_NONE},
    {"psubscribe", cmd_psubscribe, -2, F_PUBSUB | F_PUSH, K_NONE},
    {"punsubscribe", cmd_punsubscribe, -1, F_PUBSUB | F_PUSH, K_NONE},
    {"ssubscribe", cmd_ssubscribe, -2, F_PUBSUB | F_PUSH, K_NONE},
    {"sunsubscribe", cmd_sunsubscribe, -1, F_PUBSUB | F_PUSH, K_NONE},
    {"publish", cmd_publish, 3, 0, K_NONE},
    {"spublish", cmd_spublish, 3, 0, K_NONE},
    {"pubsub", cmd_pubsub, -2, 0, K_NONE},
};

size_t cmd_count(void)
{
    return sizeof cmd_table / sizeof cmd_table[0];
}

#define CMD_SLOTS 512
_Static_assert(sizeof cmd_table / sizeof cmd_table[0] < CMD_SLOTS / 2,
               "keep the command table at most half full");
static const srv_cmd *cmd_slots[CMD_SLOTS];

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

typedef struct cmd_stat {
    _Atomic(long long) calls, usec, rejected, failed;
} cmd_stat;

#define ERRORSTATS_MAX 128      /* distinct error codes kept, as Redis */

static cmd_stat *cmd_stats;     /* [(workers + 1) * table size]; NULL: no memory */
static srv_cmd_totals *cmd_stats_base;
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

/* The calling thread's row: its worker's, or the last for other threads. */
static cmd_stat *stat_row(void)
{
    int row = srv_self != NULL ? srv_self->index : srv.cfg.workers;
    return cmd_stats + (size_t)row * cmd_count();
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

void srv_cmdstat_get(size_t i, srv_cmd_totals *t)
{
    memset(t, 0, sizeof *t);
    if (cmd_stats == NULL) {
        return;
    }
    for (int w = 0; w <= srv.cfg.workers; w++) {
        cmd_stat *s = &cmd_stats[(size_t)w * cmd_count() + i];
        t->calls += atomic_load_explicit(&s->calls, memory_order_relaxed);
        t->usec += atomic_load_explicit(&s->usec, memory_order_relaxed);
        t->rejected += atomic_load_explicit(&s->rejected, memory_order_relaxed);
        t->failed += atomic_load_explicit(&s->failed, memory_order_relaxed);
    }
    pthread_mutex_lock(&stats_lock);
    t->calls -= cmd_stats_base[i].calls;
    t->usec -= cmd_stats_base[i].usec;
    t->rejected -= cmd_stats_base[i].rejected;
    t->failed -= cmd_stats_base[i].failed;
    pthread_mutex_unlock(&stats_lock);
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
    srv_cmd_totals now[sizeof cmd_table / sizeof cmd_table[0]];
    for (size_t i = 0; i < cmd_count(); i++) {
        srv_cmdstat_get(i, &now[i]);  // relative to the old baseline
    }
    pthread_mutex_lock(&stats_lock);
    for (size_t i = 0; cmd_stats_base != NULL && i < cmd_count(); i++) {
        cmd_stats_base[i].calls += now[i].calls;
        cmd_stats_base[i].usec += now[i].usec;
        cmd_stats_base[i].rejected += now[i].rejected;
        cmd_stats_base[i].failed += now[i].failed;
    }
    nerror_codes = 0;
    total_errors = 0;
    pthread_mutex_unlock(&stats_lock);
}

void srv_commands_init(void)
{
    cmd_stats = calloc((size_t)(srv.cfg.workers + 1) * cmd_count(), sizeof *cmd_stats);
    cmd_stats_base = calloc(cmd_count(), sizeof *cmd_stats_base);
    if (cmd_stats == NULL || cmd_stats_base == NULL) {
        free(cmd_stats);
        free(cmd_stats_base);
        cmd_stats = NULL;  // no statistics, and no crash
        cmd_stats_base = NULL;
    }
    for (size_t i = 0; i < cmd_count(); i++) {
        const char *name = cmd_table[i].name;
        uint32_t h = name_hash(name, strlen(name));
        while (cmd_slots[h % CMD_SLOTS] != NULL) {
            h++;
        }
        cmd_slots[h % CMD_SLOTS] = &cmd_table[i];
    }
}

static const srv_cmd *find_cmd(const char *p, size_t n)
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
    // Commands that change the keyspace without growing it (so without
    // F_WRITE) also wait in WRITE mode.
    static const char *const writers[] = {
        "del", "unlink", "flushdb", "flushall", "rename", "renamenx", "expire", "pexpire",
        "expireat", "pexpireat", "persist", "getex", "getdel", "lpop", "rpop", "lrem", "ltrim",
        "hdel", "srem", "spop", "zrem", "zpopmin", "zpopmax", "zremrangebyrank",
        "zremrangebyscore", "zremrangebylex"};
    const srv_cmd *c = find_cmd(argv0, len);
    if (all || c == NULL || (c->flags & F_WRITE)) {
        return true;
    }
    for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
        if (strcmp(c->name, writers[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The checks before a command runs, in Redis's order; false after
 * replying why it may not. */
static bool may_run(ctx *x, const srv_cmd *c)
{
    if ((c->arity > 0 && (long)x->argc != c->arity) ||
        (c->arity < 0 && (long)x->argc < -c->arity)) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command", c->name);
        return false;
    }
    if (!x->c->authed && !(c->flags & F_NOAUTH) && atomic_load(&srv.has_pass)) {
        srv_reply_error(x->out, "NOAUTH Authentication required.");
        return false;
    }
    if (c->flags & F_WRITE) {
        long long maxmem = atomic_load_explicit(&srv.maxmemory, memory_order_relaxed);
        if (maxmem > 0 &&
            (long long)atomic_load_explicit(&srv.memory_used, memory_order_relaxed) > maxmem) {
            srv_reply_error(x->out, "OOM command not allowed when used memory > 'maxmemory'.");
            return false;
        }
    }
    if (!(c->flags & F_PUBSUB) && srv_pubsub_restricted(x->c)) {
        srv_reply_errorf(x->out, "ERR Can't execute '%s': only (P|S)SUBSCRIBE / "
                         "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                         c->name);
        return false;
    }
    return true;
}

void srv_execute(srv_conn *conn, size_t argc, const char **argv, const size_t *argl)
{
    ctx x = {.c = conn, .out = srv_conn_out(conn), .argc = argc, .argv = argv, .argl = argl};
    size_t from = x.out->len;
    // CLIENT REPLY SKIP before this one (reply_skip, which CLIENT REPLY ON
    // clears) or OFF: this reply is dropped.
    conn->mute_routed = conn->reply_skip || conn->reply_off;
    const srv_cmd *c = find_cmd(argv[0], argl[0]);
    cmd_stat *st = c != NULL && cmd_stats != NULL ? &stat_row()[c - cmd_table] : NULL;
    if (c == NULL) {
        unknown_command(&x);
        note_error(x.out, from);
    } else if (!may_run(&x, c)) {
        note_error(x.out, from);
        if (st != NULL) {
            bump(&st->rejected, 1);
        }
    } else {
        atomic_store_explicit(&conn->last_cmd, c->name, memory_order_relaxed);
        uint64_t t0 = srv_mono_us();
        bool routed = srv.cfg.sharded && c->keys.route != SRV_ROUTE_LOCAL &&
                      srv_route(conn, &c->keys, argc, argv, argl);
        if (!routed) {
            c->fn(&x);
#if SRV_DEBUG >= 2
            srv_ks_validate();
#endif
        }
        if (st != NULL) {
            bump(&st->calls, 1);
            bump(&st->usec, (long long)(srv_mono_us() - t0));
            // A routed reply is written later, elsewhere: not seen here.
            if (!routed && x.out == srv_conn_out(conn) && note_error(x.out, from)) {
                bump(&st->failed, 1);
            }
        }
    }
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
    const srv_cmd *c = find_cmd(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);  // cannot happen: the sender looked it up
        return;
    }
    size_t from = out->len;
    c->fn(&x);
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
    // The origin counted the call; the failure is seen here, in this
    // worker's row (INFO adds the rows up).
    if (note_error(out, from) && cmd_stats != NULL) {
        bump(&stat_row()[c - cmd_table].failed, 1);
    }
}
