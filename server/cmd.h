/*
 * server/cmd.h - what the command files share: the context a command runs
 * in, the command table's entry, the error texts, the helpers (commands.c)
 * and every command's entry point (one cmd_*.c file per family).
 */
#ifndef MWRT_SERVER_CMD_H
#define MWRT_SERVER_CMD_H

#include "server.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct ctx {
    srv_conn *c;
    srv_buf *out;
    size_t argc;
    const char **argv;
    const size_t *argl;
} ctx;

typedef void (*cmd_fn)(ctx *x);

#define F_WRITE   0x1u  /* may use more memory: refused past maxmemory */
#define F_NOAUTH  0x2u  /* allowed before AUTH */
#define F_PUBSUB  0x4u  /* allowed in RESP2 subscribed mode */
#define F_PUSH    0x8u  /* answers with pushes: sent even under CLIENT REPLY OFF */

typedef struct srv_cmd {
    const char *name;
    cmd_fn fn;
    int arity;
    unsigned flags;
    srv_keyspec keys;           /* where its keys are, how it is routed */
} srv_cmd;

/* Key specs of the table: no keys; one key (argv[1]); keys from argv[1]
 * on (step 1 or 2) split across shards; every shard. */
#define K_NONE {0, 0, 0, SRV_ROUTE_LOCAL}
#define K_1 {1, 1, 1, SRV_ROUTE_KEYS}
#define K_SPLIT(step, how) {1, -1, step, how}
#define K_ALL(how) {0, 0, 0, how}

static const char *const E_WRONGTYPE =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
static const char *const E_NOTINT = "ERR value is not an integer or out of range";
static const char *const E_SYNTAX = "ERR syntax error";
static const char *const E_NOMEM = "ERR out of memory";
static const char *const E_NOTFLOAT = "ERR value is not a valid float";
static const char *const E_POSITIVE = "ERR value is out of range, must be positive";


/* The table (commands.c): every command, its arity, flags and keys. */
extern const srv_cmd cmd_table[];
size_t cmd_count(void);

/* Statistics (commands.c): command i of the table's counts since the
 * last CONFIG RESETSTAT, summed over workers; error code i (its first
 * word) and its count, returning how many codes there are; all error
 * replies; and the reset.  Any thread. */
typedef struct srv_cmd_totals {
    long long calls, usec, rejected, failed;
} srv_cmd_totals;
void srv_cmdstat_get(size_t i, srv_cmd_totals *t);
size_t srv_errorstat_get(size_t i, char *code, size_t cap, long long *count);
long long srv_total_errors(void);
void srv_stats_reset(void);

/* Helpers (commands.c). */
bool arg_is(ctx *x, size_t i, const char *word);
bool arg_ll(ctx *x, size_t i, long long *v);
/* The count of SRANDMEMBER, HRANDFIELD, ZRANDMEMBER at argument i (false
 * after replying the error); a uniform random number below n (n > 0);
 * the first n of size places of all shuffled into a uniform sample. */
bool random_count_arg(ctx *x, size_t i, long long *count);
uint64_t random_below(uint64_t n);
void sample_shuffle(void **all, size_t size, size_t n);
int lookup(ctx *x, size_t i, const mw_type *type, mw_object **out);
int lookup_read(ctx *x, size_t i, const mw_type *type, mw_object **out);
mw_object *lookup_or_create(ctx *x, size_t i, const mw_type *type);
size_t agg_len(mw_object *o);
void drop_if_empty(ctx *x, size_t i, mw_object *o);
mw_object *new_str(ctx *x, const char *p, size_t n);
void reply_str(srv_buf *out, mw_object *s);
void reply_value(srv_buf *out, mw_object *o, int depth);
bool parse_mem(const char *p, size_t n, long long *out);
bool range_clamp(long long len, long long *start, long long *stop);

/* cmd_server.c */
void cmd_ping(ctx *x);
void cmd_echo(ctx *x);
void cmd_quit(ctx *x);
void cmd_select(ctx *x);
void cmd_auth(ctx *x);
void cmd_hello(ctx *x);
void cmd_command(ctx *x);
void cmd_client(ctx *x);
void cmd_config_get(ctx *x);
void cmd_config(ctx *x);
void cmd_info(ctx *x);
void cmd_gc_collect(ctx *x);
void cmd_gc_stats(ctx *x);
void cmd_gc_policy(ctx *x);

/* cmd_keys.c */
void cmd_dbsize(ctx *x);
void cmd_flushdb(ctx *x);
void cmd_keys(ctx *x);
void cmd_scan(ctx *x);
void cmd_type(ctx *x);
void cmd_exists(ctx *x);
void cmd_del(ctx *x);
void cmd_rename(ctx *x);
void cmd_expire(ctx *x);
void cmd_pexpire(ctx *x);
void cmd_ttl(ctx *x);
void cmd_pttl(ctx *x);
void cmd_persist(ctx *x);
void cmd_expireat(ctx *x);
void cmd_pexpireat(ctx *x);
void cmd_expiretime(ctx *x);
void cmd_pexpiretime(ctx *x);
void cmd_renamenx(ctx *x);
void cmd_copy(ctx *x);
void cmd_touch(ctx *x);
void cmd_randomkey(ctx *x);
void cmd_object(ctx *x);
void cmd_memory(ctx *x);

/* cmd_string.c */
void cmd_get(ctx *x);
void cmd_set(ctx *x);
void cmd_setnx(ctx *x);
void cmd_getset(ctx *x);
void cmd_mset(ctx *x);
void cmd_mget(ctx *x);
void cmd_incr(ctx *x);
void cmd_decr(ctx *x);
void cmd_incrby(ctx *x);
void cmd_decrby(ctx *x);
void cmd_append(ctx *x);
void cmd_strlen(ctx *x);
void cmd_setex(ctx *x);
void cmd_psetex(ctx *x);
void cmd_getex(ctx *x);
void cmd_getdel(ctx *x);
void cmd_msetnx(ctx *x);
void cmd_incrbyfloat(ctx *x);
void cmd_getrange(ctx *x);
void cmd_setrange(ctx *x);
/* Replace the string at argv[1] (its entry e, or a new key when e is
 * NULL) with n bytes at p, keeping e's expiry; false after replying OOM. */
bool str_store(ctx *x, srv_entry *e, const char *p, size_t n);

/* cmd_bitmap.c */
void cmd_setbit(ctx *x);
void cmd_getbit(ctx *x);
void cmd_bitcount(ctx *x);
void cmd_bitpos(ctx *x);
void cmd_bitop(ctx *x);

/* cmd_hll.c */
void cmd_pfadd(ctx *x);
void cmd_pfcount(ctx *x);
void cmd_pfmerge(ctx *x);

/* cmd_list.c */
void cmd_lpush(ctx *x);
void cmd_rpush(ctx *x);
void cmd_lpop(ctx *x);
void cmd_rpop(ctx *x);
void cmd_llen(ctx *x);
void cmd_lrange(ctx *x);
void cmd_lindex(ctx *x);
void cmd_lset(ctx *x);
void cmd_lrem(ctx *x);
void cmd_ltrim(ctx *x);
void cmd_linsert(ctx *x);
void cmd_lpos(ctx *x);
void cmd_lmove(ctx *x);
void cmd_rpoplpush(ctx *x);
void cmd_lpushx(ctx *x);
void cmd_rpushx(ctx *x);

/* cmd_hash.c */
void cmd_hset(ctx *x);
void cmd_hmset(ctx *x);
void cmd_hget(ctx *x);
void cmd_hmget(ctx *x);
void cmd_hdel(ctx *x);
void cmd_hgetall(ctx *x);
void cmd_hkeys(ctx *x);
void cmd_hvals(ctx *x);
void cmd_hlen(ctx *x);
void cmd_hexists(ctx *x);
void cmd_hincrby(ctx *x);
void cmd_hsetnx(ctx *x);
void cmd_hincrbyfloat(ctx *x);
void cmd_hstrlen(ctx *x);
void cmd_hrandfield(ctx *x);
void cmd_ref_set(ctx *x);
void cmd_ref_get(ctx *x);

/* cmd_set.c */
void cmd_sadd(ctx *x);
void cmd_srem(ctx *x);
void cmd_smembers(ctx *x);
void cmd_sismember(ctx *x);
void cmd_scard(ctx *x);
void cmd_spop(ctx *x);
void cmd_sinter(ctx *x);
void cmd_sunion(ctx *x);
void cmd_sdiff(ctx *x);
void cmd_sinterstore(ctx *x);
void cmd_sunionstore(ctx *x);
void cmd_sdiffstore(ctx *x);
void cmd_sintercard(ctx *x);
void cmd_smove(ctx *x);
void cmd_smismember(ctx *x);
void cmd_srandmember(ctx *x);

/* cmd_zset.c */
void cmd_zadd(ctx *x);
void cmd_zincrby(ctx *x);
void cmd_zrem(ctx *x);
void cmd_zscore(ctx *x);
void cmd_zcard(ctx *x);
void cmd_zrank(ctx *x);
void cmd_zrange(ctx *x);
void cmd_zpopmin(ctx *x);
void cmd_zrevrange(ctx *x);
void cmd_zrangebyscore(ctx *x);
void cmd_zrevrangebyscore(ctx *x);
void cmd_zrangebylex(ctx *x);
void cmd_zrevrangebylex(ctx *x);
void cmd_zcount(ctx *x);
void cmd_zlexcount(ctx *x);
void cmd_zremrangebyrank(ctx *x);
void cmd_zremrangebyscore(ctx *x);
void cmd_zremrangebylex(ctx *x);
void cmd_zrevrank(ctx *x);
void cmd_zpopmax(ctx *x);
void cmd_zmscore(ctx *x);
void cmd_zrandmember(ctx *x);
void cmd_zunionstore(ctx *x);
void cmd_zinterstore(ctx *x);
void cmd_zdiffstore(ctx *x);
void cmd_zunion(ctx *x);
void cmd_zinter(ctx *x);
void cmd_zdiff(ctx *x);

/* pubsub.c */
void cmd_subscribe(ctx *x);
void cmd_unsubscribe(ctx *x);
void cmd_psubscribe(ctx *x);
void cmd_punsubscribe(ctx *x);
void cmd_ssubscribe(ctx *x);
void cmd_sunsubscribe(ctx *x);
void cmd_publish(ctx *x);
void cmd_spublish(ctx *x);
void cmd_pubsub(ctx *x);
/* PING in subscribed mode ("*2 pong <arg or empty>"): true if it answered
 * so, false if PING answers as usual. */
bool srv_pubsub_ping(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                     const size_t *argl);

#endif
