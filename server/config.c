/*
 * server/config.c - the one table of settings.
 *
 * Every setting is declared once, in `settings` below: its name (and the
 * older name Redis still accepts for it), its type, its default, its
 * range, where its value lives, and whether it may change while the
 * server runs.  The command line (--name value), the config file (name
 * value, as redis.conf), CONFIG GET/SET/REWRITE and --help all read this
 * table, so a setting cannot be known in one place and missing in another.
 *
 * Where values live: a setting read only at start lives in srv.cfg (plain
 * fields, written before any worker starts); one that CONFIG SET changes
 * lives in an atomic the workers load relaxed (a stale read for one
 * request is harmless: nothing is derived from two settings at once).
 * The command line and config files are read here too (srv_config_args),
 * each line or option going through the same srv_config_set.
 *
 * Settings with a shape of their own (gc-threshold, client-output-buffer-
 * limit, requirepass) have a parse and a format function instead.
 *
 * CONFIG SET of several settings is all or nothing: the old values are
 * kept in their text form, and restored if a later one is refused.
 */
#include "cmd.h"
#include "rdb.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef enum {
    SET_INT,        /* an integer in [lo, hi] */
    SET_MEM,        /* a size in bytes, with Redis's units, in [lo, hi] */
    SET_FN,         /* parsed and formatted by the entry's own functions */
} setting_kind;

#define S_IMMUTABLE 1u  /* read at start only: CONFIG SET refuses it */
#define S_SENSITIVE 2u  /* its value is redacted in SLOWLOG */

typedef struct setting {
    const char *name;
    const char *alias;              /* the older name, or NULL */
    setting_kind kind;
    unsigned flags;                 /* S_* */
    const char *dflt;               /* in the form it is given; NULL: set by main */
    long long lo, hi;               /* INT, MEM */
    long long *fixed;               /* INT, MEM read at start only */
    _Atomic(long long) *live;       /* INT, MEM changed at run time */
    /* FN: apply v (NUL-terminated, n bytes); NULL or why it is refused. */
    const char *(*parse)(const char *v, size_t n, bool at_start);
    /* FN: the value as CONFIG GET shows it. */
    void (*format)(char *buf, size_t cap);
    /* Called after the value changed (any kind). */
    void (*changed)(void);
    const char *help;               /* --help's line, NULL: not listed */
} setting;

const char *srv_config_file = NULL;

/* --------------------------------------------------- the special ones */

static const char *const gc_words[] = {"stw", "paused", "off"};

static const char *parse_bind(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    if (n == 0 || n >= sizeof srv.cfg.bind) {
        return "must be one address, at most 63 bytes";
    }
    memcpy(srv.cfg.bind, v, n + 1);
    return NULL;
}

static void format_bind(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", srv.cfg.bind);
}

static const char *parse_keyspace(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    if (n == 6 && strcasecmp(v, "shared") == 0) {
        srv.cfg.sharded = false;
    } else if (n == 7 && strcasecmp(v, "sharded") == 0) {
        srv.cfg.sharded = true;
    } else {
        return "must be shared or sharded";
    }
    srv.cfg.keyspace_given = true;
    return NULL;
}

static void format_keyspace(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", srv.cfg.sharded ? "sharded" : "shared");
}

static const char *parse_lock(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    if (n == 3 && strcasecmp(v, "gil") == 0) {
        srv.cfg.lock = MW_LOCK_GIL;
    } else if (n == 4 && strcasecmp(v, "free") == 0) {
        srv.cfg.lock = MW_LOCK_FREE;
    } else {
        return "must be gil or free";
    }
    srv.cfg.lock_given = true;
    return NULL;
}

static void format_lock(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", srv.cfg.lock == MW_LOCK_GIL ? "gil" : "free");
}

static const char *parse_gc(const char *v, size_t n, bool at_start)
{
    for (int k = 0; k < 3; k++) {
        if (n == strlen(gc_words[k]) && strcasecmp(v, gc_words[k]) == 0) {
            if (at_start) {
                srv.cfg.gc = (mw_gc_policy)k;   // the runtime is not up yet
                return NULL;
            }
            return mw_gc_set_policy((mw_gc_policy)k) == 0 ? NULL : "cannot change the policy now";
        }
    }
    return "argument(s) must be one of the following: stw, paused, off";
}

static void format_gc(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", gc_words[srv.rt != NULL ? (int)mw_gc_get_policy() : (int)srv.cfg.gc]);
}

static const char *parse_threshold(const char *v, size_t n, bool at_start)
{
    (void)n;
    int a, b, c;
    char extra;
    if (sscanf(v, "%d,%d,%d%c", &a, &b, &c, &extra) != 3 || a < 0 || b < 0 || c < 0) {
        return "must be A,B,C (non-negative integers)";
    }
    if (at_start) {
        srv.cfg.threshold[0] = a;
        srv.cfg.threshold[1] = b;
        srv.cfg.threshold[2] = c;
    } else {
        mw_gc_set_threshold(a, b, c);
    }
    return NULL;
}

static void format_threshold(char *buf, size_t cap)
{
    int t[3];
    if (srv.rt != NULL) {
        mw_gc_get_threshold(t);
    } else {
        memcpy(t, srv.cfg.threshold, sizeof t);
    }
    snprintf(buf, cap, "%d,%d,%d", t[0], t[1], t[2]);
}

static const char *parse_pass(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    if (n >= sizeof srv.cfg.requirepass) {
        return "password too long";
    }
    pthread_mutex_lock(&srv.pass_lock);
    memcpy(srv.cfg.requirepass, v, n + 1);
    pthread_mutex_unlock(&srv.pass_lock);
    atomic_store(&srv.has_pass, n > 0);
    return NULL;
}

static void format_pass(char *buf, size_t cap)
{
    pthread_mutex_lock(&srv.pass_lock);
    snprintf(buf, cap, "%s", srv.cfg.requirepass);
    pthread_mutex_unlock(&srv.pass_lock);
}

static const char *parse_obuf(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    return srv_obuf_limits_set(v, n);
}

/* Persistence's yes/no settings (rdb.c reads them). */
static const char *parse_yesno(_Atomic(long long) *to, const char *v, size_t n)
{
    if (n == 3 && strncasecmp(v, "yes", 3) == 0) {
        atomic_store(to, 1);
    } else if (n == 2 && strncasecmp(v, "no", 2) == 0) {
        atomic_store(to, 0);
    } else {
        return "argument must be 'yes' or 'no'";
    }
    return NULL;
}

#define YESNO(fn, var) \
    static const char *parse_##fn(const char *v, size_t n, bool at_start) \
    { \
        (void)at_start; \
        return parse_yesno(&(var), v, n); \
    } \
    static void format_##fn(char *buf, size_t cap) \
    { \
        snprintf(buf, cap, "%s", atomic_load(&(var)) ? "yes" : "no"); \
    }
YESNO(rdbcompression, srv_rdb_compression)
YESNO(rdbchecksum, srv_rdb_checksum)
YESNO(stop_writes, srv_rdb_stop_writes)
YESNO(latency_tracking, srv_latency_tracking)

/* latency-tracking-info-percentiles: INFO latencystats' list, replaced
 * whole under its lock. */
static pthread_mutex_t pct_lock = PTHREAD_MUTEX_INITIALIZER;
static double pct[16] = {50, 99, 99.9};
static size_t npct = 3;

size_t srv_latency_percentiles(double *out, size_t cap)
{
    pthread_mutex_lock(&pct_lock);
    size_t n = npct < cap ? npct : cap;
    memcpy(out, pct, n * sizeof *out);
    pthread_mutex_unlock(&pct_lock);
    return n;
}

static const char *parse_percentiles(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    double got[16];
    size_t k = 0;
    const char *p = v, *end = v + n;
    while (p < end) {
        while (p < end && *p == ' ') {
            p++;
        }
        if (p == end) {
            break;
        }
        const char *w = p;
        while (p < end && *p != ' ') {
            p++;
        }
        char word[64];
        char *rest;
        snprintf(word, sizeof word, "%.*s", (int)(p - w), w);
        double d = strtod(word, &rest);
        if ((size_t)(p - w) >= sizeof word || *rest != '\0' || !(d >= 0 && d <= 100) ||
            k == sizeof got / sizeof got[0]) {
            return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        }
        got[k++] = d;
    }
    pthread_mutex_lock(&pct_lock);
    memcpy(pct, got, k * sizeof *got);
    npct = k;
    pthread_mutex_unlock(&pct_lock);
    return NULL;
}

static void format_percentiles(char *buf, size_t cap)
{
    double d[16];
    size_t n = srv_latency_percentiles(d, 16), len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%g", i ? " " : "", d[i]);
    }
}

static const char *parse_appendonly(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    return n == 2 && strcasecmp(v, "no") == 0 ? NULL
                                              : "argument must be 'no' (there is no persistence)";
}

static void format_no(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", "no");
}

static void maxmemory_changed(void)
{
    if (srv.rt != NULL) {
        atomic_store(&srv.memory_used, srv_memory_used(NULL, NULL)); // not 100 ms old
        srv_ks_evict();  // at once, as Redis (other shards: at their next command or cron)
    }
}

static const char *parse_policy(const char *v, size_t n, bool at_start)
{
    const char *why = srv_evict_policy_set(v, n);
    if (why == NULL && !at_start) {
        srv_ks_evict();
    }
    return why;
}

static void format_policy(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", srv_evict_policy_name());
}

static const char *parse_notify(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    return srv_notify_set(v, n);
}

/* Redis's encoding settings: the sizes up to which it keeps a hash,
 * sorted set, list or set in a compact encoding.  mwrt's objects have
 * encodings of their own (small dicts and sets in one block,
 * docs/objects.md), so these change nothing here; they are kept,
 * range-checked and answered as Redis does, so that clients and test
 * suites that tune them work.  Redis 7's listpack name and the older
 * ziplist one are one setting. */
static _Atomic(long long) enc_hash_entries, enc_hash_value, enc_zset_entries, enc_zset_value,
    enc_list_size, enc_list_compress, enc_set_entries, enc_stream_bytes, enc_stream_entries,
    enc_hll_bytes;

long long config_stream_node_max_entries(void)
{
    return atomic_load_explicit(&enc_stream_entries, memory_order_relaxed);
}

long long config_stream_node_max_bytes(void)
{
    return atomic_load_explicit(&enc_stream_bytes, memory_order_relaxed);
}

_Atomic(long long) srv_min_replicas_to_write;
_Atomic(long long) srv_min_replicas_max_lag;

#define FIXED_INT(n, d, l, h, p, hl) {n, NULL, SET_INT, S_IMMUTABLE, d, l, h, p, NULL, NULL, NULL, NULL, hl}
#define FIXED_MEM(n, d, l, h, p, hl) {n, NULL, SET_MEM, S_IMMUTABLE, d, l, h, p, NULL, NULL, NULL, NULL, hl}
#define LIVE_INT(n, a, d, l, h, p) {n, a, SET_INT, 0, d, l, h, NULL, p, NULL, NULL, NULL, NULL}
#define LIVE_MEM(n, a, d, l, h, p) {n, a, SET_MEM, 0, d, l, h, NULL, p, NULL, NULL, NULL, NULL}
#define FN(n, fl, d, pa, fo, hl) {n, NULL, SET_FN, fl, d, 0, 0, NULL, NULL, pa, fo, NULL, hl}

static const setting settings[] = {
    FIXED_INT("port", "6380", 0, 65535, &srv.cfg.port,
              "TCP port (default 6380; 0: any free port)"),
    FN("bind", S_IMMUTABLE, "127.0.0.1", parse_bind, format_bind,
       "address to listen on (default 127.0.0.1)"),
    FIXED_INT("workers", NULL, 1, 256, &srv.cfg.workers,
              "worker threads (default: half the cores, at least 1)"),
    FN("keyspace", S_IMMUTABLE, "sharded", parse_keyspace, format_keyspace,
       "shared|sharded: one keyspace for all workers, or a shard per worker\n"
       "                        by hash slot (default sharded; shared when only --lock is given)"),
    FN("lock", S_IMMUTABLE, "gil", parse_lock, format_lock,
       "gil|free: shared keyspace under one lock, or free threading (default gil)"),
    FN("gc", 0, "stw", parse_gc, format_gc, "stw|paused|off: automatic collection (default stw)"),
    FN("gc-threshold", 0, "700,10,10", parse_threshold, format_threshold,
       "A,B,C: collector thresholds (default 700,10,10)"),
    {"maxmemory", NULL, SET_MEM, 0, "0", 0, LLONG_MAX, NULL, &srv.maxmemory, NULL, NULL,
     maxmemory_changed, "refuse writes above this many bytes (0: no limit; k kb m mb g gb)"},
    FN("maxmemory-policy", 0, "noeviction", parse_policy, format_policy,
       "past maxmemory: noeviction (refuse writes), allkeys-lru|lfu|random,\n"
       "                        volatile-lru|lfu|random|ttl (default noeviction)"),
    {"maxclients", NULL, SET_INT, 0, "10000", 1, 1000000, NULL, &srv.maxclients, NULL,
     NULL, NULL, "most clients at once (default 10000)"},
    FN("requirepass", S_SENSITIVE, "", parse_pass, format_pass, "require AUTH with this password"),
    FIXED_MEM("client-query-buffer-limit", "1gb", 1024 * 1024, LLONG_MAX, &srv.cfg.querybuf_max,
              "largest request being read, in bytes (default 1gb)"),
    FIXED_MEM("proto-max-bulk-len", "512mb", 1024, UINT32_MAX, &srv.cfg.bulk_max,
              "largest string argument, in bytes (default 512mb)"),
    FN("client-output-buffer-limit", 0, NULL, parse_obuf, srv_obuf_limits_format, NULL),
    LIVE_INT("slowlog-log-slower-than", NULL, "10000", -1, LLONG_MAX, &slowlog_slower_than),
    LIVE_INT("slowlog-max-len", NULL, "128", 0, LONG_MAX, &slowlog_max_len),
    LIVE_INT("latency-monitor-threshold", NULL, "0", 0, LLONG_MAX, &srv_latency_threshold),
    LIVE_INT("busy-reply-threshold", "lua-time-limit", "5000", 0, LLONG_MAX,
             &srv_script_time_limit),
    LIVE_INT("min-replicas-to-write", "min-slaves-to-write", "0", 0, INT_MAX,
             &srv_min_replicas_to_write),
    LIVE_INT("min-replicas-max-lag", "min-slaves-max-lag", "10", 0, INT_MAX,
             &srv_min_replicas_max_lag),
    FN("notify-keyspace-events", 0, "", parse_notify, srv_notify_format,
       "classes of keyspace notifications, Redis's letters (default \"\": off)"),
    FN("save", 0, "", srv_rdb_set_save, srv_rdb_format_save,
       "\"secs changes ...\": background save after secs with that many writes (default \"\": never)"),
    FN("dir", 0, ".", srv_rdb_set_dir, srv_rdb_format_dir, "directory of the RDB file (default: the current one)"),
    FN("dbfilename", 0, "dump.rdb", srv_rdb_set_filename, srv_rdb_format_filename,
       "RDB file name, loaded at start if present (default dump.rdb)"),
    FN("latency-tracking", 0, "yes", parse_latency_tracking, format_latency_tracking, NULL),
    FN("latency-tracking-info-percentiles", 0, "50 99 99.9", parse_percentiles,
       format_percentiles, NULL),
    FN("rdbcompression", 0, "yes", parse_rdbcompression, format_rdbcompression, NULL),
    FN("rdbchecksum", 0, "yes", parse_rdbchecksum, format_rdbchecksum, NULL),
    FN("stop-writes-on-bgsave-error", 0, "yes", parse_stop_writes, format_stop_writes, NULL),
    FN("appendonly", 0, "no", parse_appendonly, format_no, NULL),
    FIXED_INT("databases", "16", 1, 16384, &srv.cfg.databases,
              "number of databases, SELECT 0 to N-1 (default 16)"),
    LIVE_MEM("hash-max-listpack-entries", "hash-max-ziplist-entries", "128", 0, LLONG_MAX,
             &enc_hash_entries),
    LIVE_MEM("hash-max-listpack-value", "hash-max-ziplist-value", "64", 0, LLONG_MAX,
             &enc_hash_value),
    LIVE_MEM("zset-max-listpack-entries", "zset-max-ziplist-entries", "128", 0, LLONG_MAX,
             &enc_zset_entries),
    LIVE_MEM("zset-max-listpack-value", "zset-max-ziplist-value", "64", 0, LLONG_MAX,
             &enc_zset_value),
    LIVE_INT("list-max-listpack-size", "list-max-ziplist-size", "-2", -5, LLONG_MAX,
             &enc_list_size),
    LIVE_INT("list-compress-depth", NULL, "0", 0, LLONG_MAX, &enc_list_compress),
    LIVE_MEM("set-max-intset-entries", NULL, "512", 0, LLONG_MAX, &enc_set_entries),
    LIVE_MEM("stream-node-max-bytes", NULL, "4096", 0, LLONG_MAX, &enc_stream_bytes),
    LIVE_INT("stream-node-max-entries", NULL, "100", 0, LLONG_MAX, &enc_stream_entries),
    LIVE_MEM("hll-sparse-max-bytes", NULL, "3000", 0, LLONG_MAX, &enc_hll_bytes),
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* The defaults in CONFIG GET's form, for CONFIG REWRITE (set at start). */
static char *default_text[NSETTINGS];

static bool named(const setting *s, const char *p, size_t n)
{
    return (strlen(s->name) == n && strncasecmp(s->name, p, n) == 0) ||
           (s->alias != NULL && strlen(s->alias) == n && strncasecmp(s->alias, p, n) == 0);
}

static const setting *find(const char *p, size_t n)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (named(&settings[i], p, n)) {
            return &settings[i];
        }
    }
    return NULL;
}

static void format(const setting *s, char *buf, size_t cap)
{
    switch (s->kind) {
    case SET_FN:
        s->format(buf, cap);
        return;
    case SET_INT:
    case SET_MEM:
        snprintf(buf, cap, "%lld", s->fixed != NULL ? *s->fixed : atomic_load(s->live));
        return;
    }
}

/* Apply v (NUL-terminated) to s: NULL, or Redis's reason for refusing. */
static const char *apply(const setting *s, const char *v, size_t n, bool at_start)
{
    if (!at_start && (s->flags & S_IMMUTABLE)) {
        return "can't set immutable config";
    }
    long long x;
    const char *why = NULL;
    switch (s->kind) {
    case SET_FN:
        why = s->parse(v, n, at_start);
        break;
    case SET_INT:
    case SET_MEM:
        if (!(s->kind == SET_MEM ? parse_mem(v, n, &x) : srv_str2ll(v, n, &x))) {
            return s->kind == SET_MEM ? "argument must be a memory value"
                                      : "argument couldn't be parsed into an integer";
        }
        if (x < s->lo || x > s->hi) {
            static __thread char msg[96];
            snprintf(msg, sizeof msg, "argument must be between %lld and %lld inclusive", s->lo,
                     s->hi);
            return msg;
        }
        if (s->fixed != NULL) {
            *s->fixed = x;
        } else {
            atomic_store(s->live, x);
        }
        break;
    }
    if (why == NULL && s->changed != NULL) {
        s->changed();
    }
    return why;
}

void srv_config_defaults(void)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        if (s->dflt != NULL) {
            const char *why = apply(s, s->dflt, strlen(s->dflt), true);
            if (why != NULL) {
                srv_log("setting %s: its default is refused (%s)", s->name, why);
            }
        }
        char buf[512];
        format(s, buf, sizeof buf);
        default_text[i] = strdup(buf);
    }
    // Half the cores: the other half is left to the kernel's network work
    // and to clients on the same machine (docs/server.md, "Defaults and
    // why", has the measurement).
    long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
    srv.cfg.workers = n < 1 ? 1 : n > 256 ? 256 : n;
    srv.cfg.mbulk_max = SRV_RESP_MBULK_MAX;
    // Only what the command line or the config file says counts as given.
    srv.cfg.lock_given = false;
    srv.cfg.keyspace_given = false;
}

const char *srv_config_set(const char *name, const char *value, bool at_start)
{
    const setting *s = find(name, strlen(name));
    if (s == NULL) {
        return "is not a known setting";
    }
    return apply(s, value, strlen(value), at_start);
}

bool srv_config_sensitive(const char *name, size_t n)
{
    const setting *s = find(name, n);
    return s != NULL && (s->flags & S_SENSITIVE);
}

void srv_config_usage(FILE *f)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        if (s->help == NULL) {
            continue;
        }
        char left[64];
        snprintf(left, sizeof left, "--%s %s", s->name,
                 s->kind == SET_MEM ? "BYTES" : s->kind == SET_INT ? "N" : "VALUE");
        if (strlen(left) >= 22) {
            fprintf(f, "  %s\n  %-22s%s\n", left, "", s->help);
            continue;
        }
        fprintf(f, "  %-22s%s\n", left, s->help);
    }
}

/* ------------------------------------------------------------ CONFIG */

void cmd_config_get(ctx *x)
{
    if (x->argc < 3) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'config|get' command");
        return;
    }
    // A name (or alias) matched by any pattern, once, in table order; an
    // alias is reported under the name it was matched by, as Redis does.
    bool hit[NSETTINGS][2] = {{false}};
    size_t n = 0;
    for (size_t a = 2; a < x->argc; a++) {
        for (size_t i = 0; i < NSETTINGS; i++) {
            const char *names[2] = {settings[i].name, settings[i].alias};
            for (int k = 0; k < 2; k++) {
                if (names[k] != NULL && !hit[i][k] &&
                    srv_glob_match(x->argv[a], x->argl[a], names[k], strlen(names[k]), true)) {
                    hit[i][k] = true;
                    n++;
                }
            }
        }
    }
    srv_reply_map(x->out, (long long)n);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *names[2] = {settings[i].name, settings[i].alias};
        for (int k = 0; k < 2; k++) {
            if (hit[i][k]) {
                char buf[512];
                format(&settings[i], buf, sizeof buf);
                srv_reply_bulk(x->out, names[k], strlen(names[k]));
                srv_reply_bulk(x->out, buf, strlen(buf));
            }
        }
    }
}

void cmd_config_set(ctx *x)
{
    if (x->argc < 4 || x->argc % 2 != 0) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'config|set' command");
        return;
    }
    size_t npairs = (x->argc - 2) / 2;
    const setting **which = calloc(npairs, sizeof *which);
    char **old = calloc(npairs, sizeof *old);
    if (which == NULL || old == NULL) {
        free(which);
        free(old);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    const char *why = NULL;
    size_t bad = 0, done = 0;
    // Every name first: unknown or repeated settings change nothing.
    for (size_t p = 0; p < npairs && why == NULL; p++) {
        size_t i = 2 + 2 * p;
        which[p] = find(x->argv[i], x->argl[i]);
        if (which[p] == NULL) {
            int nl = (int)(x->argl[i] > 128 ? 128 : x->argl[i]);
            srv_reply_errorf(x->out, "ERR Unknown option or number of arguments for "
                             "CONFIG SET - '%.*s'", nl, x->argv[i]);
            goto out;
        }
        for (size_t q = 0; q < p; q++) {
            if (which[q] == which[p]) {
                why = "duplicate parameter";
                bad = i;
            }
        }
    }
    for (size_t p = 0; p < npairs && why == NULL; p++) {
        char buf[512];
        format(which[p], buf, sizeof buf);
        old[p] = strdup(buf);
        size_t i = 3 + 2 * p;
        why = apply(which[p], x->argv[i], x->argl[i], false);
        if (why != NULL) {
            bad = i - 1;
        } else {
            done = p + 1;
        }
    }
    if (why != NULL) {
        for (size_t p = done; p-- > 0;) {
            if (old[p] != NULL) {
                apply(which[p], old[p], strlen(old[p]), false);   // it held before
            }
        }
        int nl = (int)(x->argl[bad] > 128 ? 128 : x->argl[bad]);
        srv_reply_errorf(x->out, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                         nl, x->argv[bad], why);
        goto out;
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
out:
    for (size_t p = 0; p < npairs; p++) {
        free(old[p]);
    }
    free(old);
    free(which);
}

/* ---------------------------------------------------- CONFIG REWRITE */

/* A line's setting name (its first word), or NULL for a comment/blank. */
static const setting *line_setting(const char *line)
{
    const char *p = line;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '#' || *p == '\0') {
        return NULL;
    }
    const char *e = p;
    while (*e != '\0' && !isspace((unsigned char)*e) && *e != '=') {
        e++;
    }
    return find(p, (size_t)(e - p));
}

static void write_setting(FILE *f, const setting *s)
{
    char buf[512];
    format(s, buf, sizeof buf);
    bool quote = buf[0] == '\0' || strpbrk(buf, " \t\"'#") != NULL;
    if (quote) {
        fprintf(f, "%s \"%s\"\n", s->name, buf);
    } else {
        fprintf(f, "%s %s\n", s->name, buf);
    }
}

/* Rewrite the config file the server started with: each setting's first
 * line takes its current value, later lines for it are dropped, comments
 * and other lines are kept, and settings changed from their default that
 * the file lacks are appended.  Written to a temporary file, flushed to
 * disk, then renamed over the old one. */
static const char *config_rewrite(void)
{
    if (srv_config_file == NULL) {
        return "The server is running without a config file";
    }
    FILE *in = fopen(srv_config_file, "r");
    if (in == NULL && errno != ENOENT) {
        return strerror(errno);
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.rewrite.%d", srv_config_file, (int)getpid());
    FILE *out = fopen(tmp, "w");
    if (out == NULL) {
        if (in != NULL) {
            fclose(in);
        }
        return strerror(errno);
    }
    bool seen[NSETTINGS] = {false};
    char line[4096];
    while (in != NULL && fgets(line, sizeof line, in) != NULL) {
        const setting *s = line_setting(line);
        if (s == NULL) {
            fputs(line, out);
            continue;
        }
        size_t i = (size_t)(s - settings);
        if (!seen[i]) {
            write_setting(out, s);
            seen[i] = true;
        }
    }
    if (in != NULL) {
        fclose(in);
    }
    bool marker = false;
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (seen[i] || (settings[i].flags & S_IMMUTABLE)) {
            continue;
        }
        char buf[512];
        format(&settings[i], buf, sizeof buf);
        if (default_text[i] != NULL && strcmp(buf, default_text[i]) == 0) {
            continue;
        }
        if (!marker) {
            fputs("# Generated by CONFIG REWRITE\n", out);
            marker = true;
        }
        write_setting(out, &settings[i]);
    }
    if (fflush(out) != 0 || fsync(fileno(out)) != 0) {
        int e = errno;
        fclose(out);
        unlink(tmp);
        return strerror(e);
    }
    fclose(out);
    if (rename(tmp, srv_config_file) != 0) {
        int e = errno;
        unlink(tmp);
        return strerror(e);
    }
    return NULL;
}

void cmd_config_rewrite(ctx *x)
{
    const char *why = config_rewrite();
    if (why != NULL) {
        srv_log("CONFIG REWRITE failed: %s", why);
        srv_reply_errorf(x->out, "ERR %s", why);
        return;
    }
    srv_log("CONFIG REWRITE executed with success.");
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* ------------------------------------------ command line, config files */

static void usage(FILE *f)
{
    fprintf(f, "Usage: mwrt-server [options]\n"
               "  Every setting of the config file is an option: --name value or\n"
               "  --name=value.  The main ones:\n");
    srv_config_usage(f);
    fprintf(f, "  --config FILE         read settings from FILE, one 'name value' per line\n"
               "  --help, --version\n");
}

static bool load_config(const char *path, int depth);

/* Apply one setting from the command line or a config file: `config`
 * includes a file; NULL, or what is wrong with it. */
static const char *set_option(const char *name, const char *value, int depth)
{
    if (strcmp(name, "config") != 0 && strcmp(name, "include") != 0) {
        return srv_config_set(name, value, true);
    }
    if (depth > 4) {
        return "configuration files nested too deeply";
    }
    if (srv_config_file == NULL && strcmp(name, "config") == 0) {
        // The file CONFIG REWRITE writes back: the first one given.
        char *abs = realpath(value, NULL);
        srv_config_file = abs != NULL ? abs : strdup(value);
    }
    if (!load_config(value, depth + 1)) {
        return "cannot be read (see above)";
    }
    return NULL;
}

static bool load_config(const char *path, int depth)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "mwrt-server: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    char line[1024];
    int lineno = 0;
    bool ok = true;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        size_t n = strlen(p);
        while (n > 0 && isspace((unsigned char)p[n - 1])) {
            p[--n] = '\0';
        }
        if (*p == '\0' || *p == '#') {
            continue;
        }
        char *name = p;
        while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=') {
            p++;
        }
        if (*p != '\0') {
            *p++ = '\0';
        }
        while (isspace((unsigned char)*p) || *p == '=') {
            p++;
        }
        // Allow "value" quoted as in redis.conf.
        size_t vn = strlen(p);
        if (vn >= 2 && (p[0] == '"' || p[0] == '\'') && p[vn - 1] == p[0]) {
            p[vn - 1] = '\0';
            p++;
        }
        const char *why = set_option(name, p, depth);
        if (why != NULL) {
            fprintf(stderr, "mwrt-server: %s:%d: %s %s\n", path, lineno, name, why);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

int srv_config_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            printf("mwrt-server %s (mwrt %s, libuv %s, RESP2 as Redis %s)\n", SRV_VERSION,
                   mw_version(), uv_version_string(), SRV_REDIS_VERSION);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "mwrt-server: unexpected argument '%s' (try --help)\n", a);
            return 2;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        if (eq != NULL) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "mwrt-server: --%s needs a value (try --help)\n", name);
                return 2;
            }
            value = argv[++i];
        }
        const char *why = set_option(name, value, 0);
        if (why != NULL) {
            fprintf(stderr, "mwrt-server: --%s %s: %s\n", name, value, why);
            return 2;
        }
    }
    return -1;
}

