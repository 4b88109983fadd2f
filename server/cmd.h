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
    /* Set by a command that touched the watched keys it changed in place
     * itself (srv_watch_touch), so that cmd_run does not touch the others
     * (SMOVE of a member the destination has already). */
    bool touched_keys;
} ctx;

typedef void (*cmd_fn)(ctx *x);

/* Command flags, Redis's (COMMAND reports them by these names, in this
 * order; ACL categories and shard routing read them).  F_DENYOOM is the
 * one srv_execute acts on: refused past maxmemory. */
#define F_WRITE         (1u << 0)   /* "write": may change the keyspace */
#define F_READONLY      (1u << 1)   /* "readonly": reads keys only */
#define F_DENYOOM       (1u << 2)   /* "denyoom": may use more memory */
#define F_ADMIN         (1u << 3)   /* "admin" */
#define F_PUBSUB        (1u << 4)   /* "pubsub" */
#define F_NOSCRIPT      (1u << 5)   /* "noscript" */
#define F_BLOCKING      (1u << 6)   /* "blocking": may block the client */
#define F_LOADING       (1u << 7)   /* "loading": allowed while loading */
#define F_STALE         (1u << 8)   /* "stale": allowed on a stale replica */
#define F_SKIP_MONITOR  (1u << 9)   /* "skip_monitor" */
#define F_SKIP_SLOWLOG  (1u << 10)  /* "skip_slowlog": never in SLOWLOG */
#define F_FAST          (1u << 11)  /* "fast": O(1) or O(log n) */
#define F_NOAUTH        (1u << 12)  /* "no_auth": allowed before AUTH */
#define F_MAY_REPLICATE (1u << 13)  /* "may_replicate" */
#define F_NO_MULTI      (1u << 14)  /* "no_multi": refused inside MULTI */
#define F_MOVABLE       (1u << 15)  /* "movablekeys": keys found by parsing
                                       (cmd_getkeys), not by the key spec */
#define F_ALLOW_BUSY    (1u << 16)  /* "allow_busy" */
#define F_NO_MANDATORY_KEYS (1u << 17) /* "no_mandatory_keys" */
/* Ours, not reported by COMMAND: allowed in RESP2 subscribed mode
 * ((P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET). */
#define F_SUBOK         (1u << 24)
/* Ours too: answers with pushes, sent even under CLIENT REPLY OFF. */
#define F_PUSH          (1u << 25)

/* ACL categories a command declares (COMMAND, ACL).  @read, @write,
 * @fast, @slow, @admin, @dangerous, @pubsub and @blocking also follow from
 * the flags, as Redis derives them (cmd_acl_categories). */
#define C_KEYSPACE      (1u << 0)
#define C_SET           (1u << 1)
#define C_SORTEDSET     (1u << 2)
#define C_LIST          (1u << 3)
#define C_HASH          (1u << 4)
#define C_STRING        (1u << 5)
#define C_BITMAP        (1u << 6)
#define C_HYPERLOGLOG   (1u << 7)
#define C_GEO           (1u << 8)
#define C_STREAM        (1u << 9)
#define C_ADMIN         (1u << 10)
#define C_DANGEROUS     (1u << 11)
#define C_CONNECTION    (1u << 12)
#define C_TRANSACTION   (1u << 13)
#define C_SCRIPTING     (1u << 14)
#define C_PUBSUB        (1u << 15)
#define C_BLOCKING      (1u << 16)

/* Commands that change an aggregate in place must carry F_WRITE, or WATCH
 * misses the change (cmd_run in cmd_multi.c); changes made through the
 * keyspace functions are seen whatever the flags. */

typedef struct srv_cmd {
    const char *name;           /* lower case; "parent|sub" for subcommands */
    cmd_fn fn;                  /* NULL for a subcommand: its parent runs it */
    int arity;
    unsigned flags;             /* F_* */
    srv_keyspec keys;           /* where its keys are, how it is routed */
    unsigned cats;              /* C_*: the categories flags do not imply */
    /* Redis's key-spec flags, one group per key spec separated by ';'
     * (e.g. "RW access delete;RW insert"): key 0 has the first group, key
     * i the i-th (the last for the rest, and for every later key of a
     * movable command).  NULL: RO access for reads, RW update else. */
    const char *keyflags;
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
/* Subcommands of the container commands (CONFIG GET, OBJECT ENCODING...),
 * declared only: their parent parses and runs them.  Sorted by parent. */
extern const srv_cmd cmd_subtable[];
size_t cmd_subcount(void);
/* The entry for a command name (any case), or NULL.  Any thread. */
const srv_cmd *cmd_find(const char *p, size_t n);

/* Statistics (commands.c): command i of the table's counts since the
 * last CONFIG RESETSTAT, summed over workers; error code i (its first
 * word) and its count, returning how many codes there are; all error
 * replies; and the reset.  Any thread. */
typedef struct srv_cmd_totals {
    long long calls, usec, rejected, failed;
} srv_cmd_totals;
/* Commands and declared subcommands (config|get) have figures each:
 * i from 0 to srv_cmdstat_count(), named srv_cmdstat_name(i). */
size_t srv_cmdstat_count(void);
const char *srv_cmdstat_name(size_t i);
void srv_cmdstat_get(size_t i, srv_cmd_totals *t);
/* Latency histograms (latency-tracking): bucket 0 is under 1024 ns, then
 * SRV_LAT_SUB buckets per doubling up to 2^(10+SRV_LAT_OCTAVES) ns (about
 * 17 s; longer calls count in the last).  srv_lat_bucket maps a duration
 * to its bucket, srv_lat_bucket_top gives a bucket's largest duration;
 * srv_cmdstat_hist fills command i's counts since the last reset and
 * returns their sum.  Any thread. */
#define SRV_LAT_SUB 4
#define SRV_LAT_OCTAVES 24
#define SRV_LAT_BUCKETS (1 + SRV_LAT_SUB * SRV_LAT_OCTAVES)
extern _Atomic(long long) srv_latency_tracking;
size_t srv_lat_bucket(uint64_t ns);
uint64_t srv_lat_bucket_top(size_t b);
long long srv_cmdstat_hist(size_t i, long long hist[SRV_LAT_BUCKETS]);
/* latency-tracking-info-percentiles into out (at most cap): how many. */
size_t srv_latency_percentiles(double *out, size_t cap);
size_t srv_errorstat_get(size_t i, char *code, size_t cap, long long *count);
long long srv_total_errors(void);
void srv_stats_reset(void);

/* The argument indexes of movable command c's keys (F_MOVABLE: a count
 * of keys, SORT's STORE, STREAMS) into idx (room for argc), count in *n;
 * false if the arguments cannot be parsed (cmd_command.c). */
bool cmd_movable_keys(const srv_cmd *c, size_t argc, const char **argv, const size_t *argl,
                      size_t *idx, size_t *n);

/* MONITOR (pubsub.c): whether a monitor is connected (one relaxed load),
 * and sending request x to every monitor as Redis's line. */
bool srv_monitoring(void);
void srv_monitor_feed(ctx *x);
void cmd_monitor(ctx *x);

/* Whether argument i of request x is a secret that SLOWLOG and MONITOR
 * show as "(redacted)": AUTH's, HELLO's AUTH pair, CONFIG SET's value of a
 * sensitive setting (commands.c). */
bool cmd_arg_redacted(const ctx *x, size_t i);

/* Helpers (commands.c). */
bool arg_is(ctx *x, size_t i, const char *word);
/* Reply Redis's error for argv[1], an unknown subcommand of parent (named
 * in upper case, as HELP is), or a known one with arguments it refuses. */
void cmd_unknown_subcommand(ctx *x, const char *parent);
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
/* Keyspace notification of event (class cls, SRV_NOTIFY_*) on the key at
 * argument i (notify.c): one flag test when notifications are off. */
static inline void notify_key(ctx *x, int cls, const char *event, size_t i)
{
    srv_notify(cls, event, x->argv[i], x->argl[i]);
}
void reply_str(srv_buf *out, mw_object *s);
void reply_value(srv_buf *out, mw_object *o, int depth);
bool parse_mem(const char *p, size_t n, long long *out);
/* Redis's long double parse (INCRBYFLOAT, HINCRBYFLOAT): the whole text,
 * no leading space, not NaN, no overflow. */
bool parse_long_double(const char *p, size_t n, long double *out);
bool range_clamp(long long len, long long *start, long long *stop);

/* Blocking pops (blocking.c keeps the waits; the pops are in cmd_list.c
 * and cmd_zset.c).  What a blocked request does once its key is ready:
 * its reply shape, which end it pops, and how many. */
typedef enum srv_blk_kind {
    SRV_BLK_POP,        /* BLPOP, BRPOP: [key, element] */
    SRV_BLK_MPOP,       /* BLMPOP: [key, [elements]] */
    SRV_BLK_MOVE,       /* BLMOVE, BRPOPLPUSH: the element, pushed to argv[2] */
    SRV_BLK_ZPOP,       /* BZPOPMIN, BZPOPMAX: [key, member, score] */
    SRV_BLK_ZMPOP,      /* BZMPOP: [key, [[member, score], ...]] */
    SRV_BLK_XREAD,      /* XREAD, XREADGROUP: [[key, [entries]]] once an
                           entry past the waiter's ID arrives */
    SRV_BLK_WAIT,       /* WAIT: no keys; the replica count (0) at the timeout */
} srv_blk_kind;

typedef struct srv_blk_spec {
    srv_blk_kind kind;
    bool left;          /* lists: pop the head; sorted sets: the minimum */
    bool to_left;       /* MOVE: push at the head of the destination */
    long long count;    /* MPOP, ZMPOP: at most this many; XREAD: COUNT */
    /* XREAD, XREADGROUP: the ID after which each key (in order) waits,
     * read by block_on_keys only; the group and consumer (XREADGROUP,
     * else group NULL), copied by block_on_keys; NOACK. */
    const srv_sid *ids;
    const char *group, *consumer;
    size_t grouplen, consumerlen;
    bool noack;
} srv_blk_spec;

/* The timeout argument i (seconds, a double; 0: forever) as a deadline on
 * srv_mono_us's clock, 0 for none; false after replying the error. */
bool block_timeout_arg(ctx *x, size_t i, uint64_t *deadline);
/* Block x's client on the n keys from argument `first` on (the
 * destination of a MOVE is argv[2]) until one of them can serve s, or
 * the deadline; inside EXEC answer as the non-blocking form instead. */
void block_on_keys(ctx *x, const srv_blk_spec *s, size_t first, size_t n, uint64_t deadline);
/* Pop from the non-empty value at argument i for s, replying as s's
 * command does (a MOVE pushes to argument i + 1).  lists: cmd_list.c,
 * sorted sets: cmd_zset.c. */
void list_serve(ctx *x, size_t i, const srv_blk_spec *s);
void zset_serve(ctx *x, size_t i, const srv_blk_spec *s);
/* Serve a client blocked by XREAD/XREADGROUP on the key at argument i
 * (argv[i + 1], argv[i + 2]: group and consumer, for XREADGROUP) waiting
 * for entries after *after: true if it replied (entries, or the error of
 * a group or stream gone), false if it waits on.  cmd_stream.c. */
bool stream_serve(ctx *x, size_t i, const srv_blk_spec *s, srv_sid *after);
/* FLUSHALL/FLUSHDB emptied the keyspace: every key with blocked clients
 * is looked at again (XREADGROUP's waiters learn their stream is gone). */
void srv_blk_touch_all(void);
/* LMPOP, BLMPOP, ZMPOP, BZMPOP: numkeys at argument nk, then the keys,
 * LEFT|RIGHT (or MIN|MAX), [COUNT n]; false after replying the error.
 * Sharded, keys of different slots answer CROSSSLOT. */
bool mpop_args(ctx *x, size_t nk, bool zset, size_t *nkeys, srv_blk_spec *s);
/* For a movable command declared without a fixed key (keys.first 0):
 * its keys in this request as a span (first..last, step 1) in *ks, for
 * routing; false (ks untouched) if they cannot be found.  cmd_command.c. */
bool cmd_request_keyspec(const srv_cmd *c, size_t argc, const char **argv,
                         const size_t *argl, srv_keyspec *ks);
/* cmd_multi.c */
void cmd_multi(ctx *x);
void cmd_exec(ctx *x);
void cmd_discard(ctx *x);
void cmd_watch(ctx *x);
void cmd_unwatch(ctx *x);
/* Run command c (checked, and on the shard of its keys) and touch the
 * watched keys it changed in place. */
void cmd_run(ctx *x, const srv_cmd *c);
/* The declared subcommand of container command c named arg, or NULL. */
const srv_cmd *cmd_sub_entry(const srv_cmd *c, const char *arg, size_t n);
/* Count a call of c made from a script or EXEC (commandstats), failed or
 * not. */
void cmd_note_call(const srv_cmd *c, bool failed);
/* latency.c: LATENCY (the monitor itself is in server.h). */
void cmd_latency(ctx *x);
/* script.c */
void cmd_eval(ctx *x);
void cmd_evalsha(ctx *x);
void cmd_eval_ro(ctx *x);
void cmd_evalsha_ro(ctx *x);
void cmd_script(ctx *x);
/* A blocked client's reply (reply[from..]) is ready: if it is an error,
 * count it in the error statistics and as a failed call of c (Redis
 * counts a blocked command when it is answered).  commands.c. */
void cmd_note_reply_error(const srv_cmd *c, srv_buf *reply, size_t from);
/* Run command c's handler, timed for SLOWLOG (commands.c). */
void cmd_call(ctx *x, const srv_cmd *c);
/* srv_execute's hooks.  multi_reject: a check refused c with err (no
 * "-"): flags the open transaction, and for EXEC aborts it as Redis does
 * (EXECABORT ... because of: err).  multi_denyoom: c is EXEC of a
 * transaction with an F_DENYOOM command (so refused past maxmemory).
 * multi_queue: true if c was queued (the connection is in MULTI and c is
 * not one of the commands that run at once). */
void multi_flag(srv_conn *conn);
void multi_reject(ctx *x, const srv_cmd *c, const char *err);
bool multi_denyoom(srv_conn *conn, const srv_cmd *c);
/* c is EXEC of a transaction with an F_WRITE command (refused while
 * min-replicas-to-write is not met). */
bool multi_writes(srv_conn *conn, const srv_cmd *c);
bool multi_queue(ctx *x, const srv_cmd *c);
/* A request of the transaction machinery from another worker (argv[0]
 * starts with MULTI_ROUTED): true if it was one, run into out. */
#define MULTI_ROUTED '\x01'
bool multi_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                  const size_t *argl);

/* cmd_server.c */
void cmd_ping(ctx *x);
void cmd_echo(ctx *x);
void cmd_quit(ctx *x);
void cmd_shutdown(ctx *x);
void cmd_reset(ctx *x);
/* MEMORY STATS, DOCTOR, MALLOC-STATS, PURGE; false for another subcommand. */
bool srv_memory_command(ctx *x);
void cmd_role(ctx *x);
void cmd_wait(ctx *x);
void cmd_module(ctx *x);
void cmd_select(ctx *x);
void cmd_auth(ctx *x);
void cmd_hello(ctx *x);
void cmd_client(ctx *x);
/* config.c: CONFIG GET, SET (all or nothing) and REWRITE. */
void cmd_config_get(ctx *x);
void cmd_config_set(ctx *x);
void cmd_config_rewrite(ctx *x);
void cmd_config(ctx *x);
void cmd_info(ctx *x);
void cmd_gc_collect(ctx *x);
void cmd_gc_stats(ctx *x);
void cmd_gc_policy(ctx *x);

/* cmd_command.c */
void cmd_command(ctx *x);
void cmd_time(ctx *x);
void cmd_lastsave(ctx *x);
void cmd_lolwut(ctx *x);
void cmd_debug(ctx *x);

/* rdb.c: DUMP, RESTORE, SAVE, BGSAVE */
void cmd_dump(ctx *x);
void cmd_restore(ctx *x);
void cmd_save(ctx *x);
void cmd_bgsave(ctx *x);

/* cmd_sort.c */
void cmd_sort(ctx *x);
void cmd_sort_ro(ctx *x);

/* slowlog.c: the two settings (CONFIG GET/SET read and write them), the
 * clock commands.c times a command with (slowlog_clock: -1 when the log
 * is off, else which clock slowlog_now reads), the entry point it calls
 * after the command with its duration, and the command. */
extern _Atomic(long long) slowlog_slower_than;
extern _Atomic(long long) slowlog_max_len;
extern long long slowlog_coarse_min_us;
void slowlog_init(void);
static inline int slowlog_clock(void)
{
    long long limit = atomic_load_explicit(&slowlog_slower_than, memory_order_relaxed);
    return limit < 0 ? -1 : limit >= slowlog_coarse_min_us;
}
uint64_t slowlog_now(int clock);
void slowlog_note(ctx *x, const srv_cmd *c, uint64_t us);
/* A command that blocked is logged when it is answered, as in Redis:
 * slowlog_defer copies the request (NULL: the log is off or the command
 * is never logged), slowlog_finish adds the time of the final run and
 * logs it if slow enough (taking the entry), slowlog_drop forgets it. */
void *slowlog_defer(ctx *x, const srv_cmd *c, uint64_t us);
void slowlog_finish(void *entry, uint64_t us);
void slowlog_drop(void *entry);
/* x's command blocked its client: keep its slow-log entry for the answer
 * (blocking.c). */
void srv_blk_defer_slowlog(ctx *x, const srv_cmd *c, uint64_t us);
void cmd_slowlog(ctx *x);

/* cmd_keys.c */
/* Redis's encoding name for a value (OBJECT ENCODING, DEBUG OBJECT). */
const char *object_encoding(mw_object *o);
void cmd_dbsize(ctx *x);
void cmd_flushdb(ctx *x);
void cmd_flushall(ctx *x);
void cmd_move(ctx *x);
void cmd_swapdb(ctx *x);
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
void cmd_lcs(ctx *x);
/* Replace the string at argv[1] (its entry e, or a new key when e is
 * NULL) with n bytes at p, keeping e's expiry; false after replying OOM. */
bool str_store(ctx *x, srv_entry *e, const char *p, size_t n);

/* cmd_bitmap.c */
void cmd_setbit(ctx *x);
void cmd_getbit(ctx *x);
void cmd_bitcount(ctx *x);
void cmd_bitpos(ctx *x);
void cmd_bitop(ctx *x);
void cmd_bitfield(ctx *x);
void cmd_bitfield_ro(ctx *x);

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
void cmd_blpop(ctx *x);
void cmd_brpop(ctx *x);
void cmd_blmove(ctx *x);
void cmd_brpoplpush(ctx *x);
void cmd_lmpop(ctx *x);
void cmd_blmpop(ctx *x);

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
void cmd_hscan(ctx *x);
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
void cmd_sscan(ctx *x);

/* cmd_zset.c */
void cmd_zadd(ctx *x);
void cmd_zincrby(ctx *x);
void cmd_zrem(ctx *x);
void cmd_zscore(ctx *x);
void cmd_zcard(ctx *x);
void cmd_zrank(ctx *x);
void cmd_zrange(ctx *x);
void cmd_zrangestore(ctx *x);
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
void cmd_zintercard(ctx *x);
void cmd_bzpopmin(ctx *x);
void cmd_bzpopmax(ctx *x);
void cmd_zmpop(ctx *x);
void cmd_bzmpop(ctx *x);
void cmd_zscan(ctx *x);

/* cmd_geo.c */
void cmd_geoadd(ctx *x);
void cmd_geopos(ctx *x);
void cmd_geodist(ctx *x);
void cmd_geohash(ctx *x);
void cmd_georadius(ctx *x);
void cmd_georadius_ro(ctx *x);
void cmd_georadiusbymember(ctx *x);
void cmd_georadiusbymember_ro(ctx *x);
void cmd_geosearch(ctx *x);
void cmd_geosearchstore(ctx *x);

/* SCAN's cursor at argument i (false after replying "invalid cursor"),
 * and the MATCH/COUNT (and TYPE when type_ok) options from argument from
 * on (false after replying the error).  cmd_keys.c. */
typedef struct scan_opts {
    long long count;
    const char *pat, *type;
    size_t patlen, typelen;
} scan_opts;
bool scan_cursor_arg(ctx *x, size_t i, uint64_t *cursor);
bool scan_opts_args(ctx *x, size_t from, bool type_ok, scan_opts *o);
/* HSCAN, SSCAN, ZSCAN over d from the cursor at argv[2]: reply the next
 * cursor and the entries (with their values: hash fields, zset scores). */
void scan_collection(ctx *x, srv_dict *d, int kind);

/* cmd_stream.c */
void cmd_xadd(ctx *x);
void cmd_xlen(ctx *x);
void cmd_xrange(ctx *x);
void cmd_xrevrange(ctx *x);
void cmd_xdel(ctx *x);
void cmd_xtrim(ctx *x);
void cmd_xread(ctx *x);
void cmd_xreadgroup(ctx *x);
void cmd_xsetid(ctx *x);
void cmd_xgroup(ctx *x);
void cmd_xack(ctx *x);
void cmd_xpending(ctx *x);
void cmd_xclaim(ctx *x);
void cmd_xautoclaim(ctx *x);
void cmd_xinfo(ctx *x);
/* A deep copy of stream o, groups, consumers and PELs included (new
 * reference), or NULL when out of memory (COPY); an estimate of its bytes
 * (MEMORY USAGE). */
mw_object *stream_dup(mw_object *o);
size_t stream_bytes(mw_object *o);
/* stream-node-max-entries and stream-node-max-bytes (cmd_server.c). */
long long config_stream_node_max_entries(void);
long long config_stream_node_max_bytes(void);

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
