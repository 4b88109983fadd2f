/*
 * server/cmd_server.c - connection and server commands: PING, AUTH, HELLO, CLIENT,
 * CONFIG, INFO and the collector's GC.*.
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
 * Connection and server commands
 * ====================================================================== */

void cmd_ping(ctx *x)
{
    if (x->argc > 2) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'ping' command");
    } else if (srv_pubsub_ping(x->c, x->out, x->argc, x->argv, x->argl)) {
        // answered in the subscribed mode's form
    } else if (x->argc == 2) {
        srv_reply_bulk(x->out, x->argv[1], x->argl[1]);
    } else {
        srv_buf_append(x->out, "+PONG\r\n", 7);
    }
}

void cmd_echo(ctx *x)
{
    srv_reply_bulk(x->out, x->argv[1], x->argl[1]);
}

void cmd_quit(ctx *x)
{
    srv_buf_append(x->out, "+OK\r\n", 5);
    x->c->close_after_write = true;
}

void cmd_select(ctx *x)
{
    long long db;
    if (!arg_ll(x, 1, &db)) {
        return;
    }
    if (db != 0) {
        srv_reply_error(x->out, "ERR DB index is out of range");
        return;
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* Compare a password with the configured one; 1 match, 0 not, -1 none set. */
static int check_pass(const char *p, size_t n)
{
    pthread_mutex_lock(&srv.pass_lock);
    int r;
    if (srv.cfg.requirepass[0] == '\0') {
        r = -1;
    } else {
        size_t m = strlen(srv.cfg.requirepass);
        r = m == n && memcmp(srv.cfg.requirepass, p, n) == 0;
    }
    pthread_mutex_unlock(&srv.pass_lock);
    return r;
}

void cmd_auth(ctx *x)
{
    if (x->argc > 3) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    size_t pi = x->argc == 3 ? 2 : 1;
    int r = check_pass(x->argv[pi], x->argl[pi]);
    if (x->argc == 2 && r < 0) {
        srv_reply_error(x->out, "ERR AUTH <password> called without any password configured "
                        "for the default user. Are you sure your configuration is correct?");
        return;
    }
    bool user_ok = x->argc == 2 || arg_is(x, 1, "default");
    if (user_ok && (r == 1 || r < 0)) {
        x->c->authed = true;
        x->c->parser.unauth = false;
        srv_buf_append(x->out, "+OK\r\n", 5);
        return;
    }
    srv_log_limited("client %lld (%s): wrong password", x->c->id, x->c->addr);
    srv_reply_error(x->out, "WRONGPASS invalid username-password pair or user is disabled.");
}

void cmd_hello(ctx *x)
{
    size_t i = 1;
    if (x->argc >= 2) {
        long long ver;
        if (!srv_str2ll(x->argv[1], x->argl[1], &ver)) {
            srv_reply_error(x->out, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver != 2) {
            srv_reply_error(x->out, "NOPROTO unsupported protocol version");
            return;
        }
        i = 2;
    }
    const char *name = NULL;
    size_t namelen = 0;
    for (; i < x->argc; i++) {
        if (arg_is(x, i, "AUTH") && i + 2 < x->argc) {
            if (!arg_is(x, i + 1, "default") || check_pass(x->argv[i + 2], x->argl[i + 2]) == 0) {
                srv_reply_error(x->out, "WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            x->c->authed = true;
            x->c->parser.unauth = false;
            i += 2;
        } else if (arg_is(x, i, "SETNAME") && i + 1 < x->argc) {
            name = x->argv[i + 1];
            namelen = x->argl[i + 1];
            i++;
        } else {
            srv_reply_errorf(x->out, "ERR Syntax error in HELLO option '%.*s'",
                             (int)(x->argl[i] > 128 ? 128 : x->argl[i]), x->argv[i]);
            return;
        }
    }
    if (atomic_load(&srv.has_pass) && !x->c->authed) {
        srv_reply_error(x->out, "NOAUTH HELLO must be called with the client already "
                        "authenticated, otherwise the HELLO AUTH <user> <pass> "
                        "option can be used to authenticate the client and select the "
                        "RESP protocol version at the same time");
        return;
    }
    if (name != NULL) {
        char *copy = malloc(namelen + 1);
        if (copy != NULL) {
            memcpy(copy, name, namelen);
            copy[namelen] = '\0';
            free(x->c->name);
            x->c->name = copy;
        }
    }
    srv_buf *o = x->out;
    srv_reply_array(o, 14);
    srv_reply_bulk(o, "server", 6);
    srv_reply_bulk(o, "mwrt", 4);
    srv_reply_bulk(o, "version", 7);
    srv_reply_bulk(o, SRV_REDIS_VERSION, strlen(SRV_REDIS_VERSION));
    srv_reply_bulk(o, "proto", 5);
    srv_reply_int(o, 2);
    srv_reply_bulk(o, "id", 2);
    srv_reply_int(o, x->c->id);
    srv_reply_bulk(o, "mode", 4);
    srv_reply_bulk(o, "standalone", 10);
    srv_reply_bulk(o, "role", 4);
    srv_reply_bulk(o, "master", 6);
    srv_reply_bulk(o, "modules", 7);
    srv_reply_array(o, 0);
}


static bool name_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '!' || p[i] > '~') {
            return false;
        }
    }
    return true;
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR] (blocking.c does it). */
static void client_unblock(ctx *x)
{
    if (x->argc < 3) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'client|unblock' command");
        return;
    }
    if (x->argc > 4) {
        srv_reply_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for "
                                 "'%.*s'. Try CLIENT HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
        return;
    }
    bool error = false;
    if (x->argc == 4) {
        if (arg_is(x, 3, "ERROR")) {
            error = true;
        } else if (!arg_is(x, 3, "TIMEOUT")) {
            srv_reply_error(x->out, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (arg_ll(x, 2, &id)) {
        srv_reply_int(x->out, srv_blk_unblock(id, error));
    }
}

void cmd_client(ctx *x)
{
    if (arg_is(x, 1, "ID")) {
        if (x->argc != 2) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'client|id' command");
            return;
        }
        srv_reply_int(x->out, x->c->id);
    } else if (arg_is(x, 1, "GETNAME")) {
        if (x->argc != 2) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'client|getname' command");
            return;
        }
        if (x->c->name == NULL) {
            srv_reply_null(x->out);
        } else {
            srv_reply_bulk(x->out, x->c->name, strlen(x->c->name));
        }
    } else if (arg_is(x, 1, "SETNAME")) {
        if (x->argc != 3) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'client|setname' command");
            return;
        }
        if (!name_ok(x->argv[2], x->argl[2])) {
            srv_reply_error(x->out, "ERR Client names cannot contain spaces, newlines or "
                            "special characters.");
            return;
        }
        free(x->c->name);
        x->c->name = NULL;
        if (x->argl[2] > 0) {
            x->c->name = malloc(x->argl[2] + 1);
            if (x->c->name == NULL) {
                srv_reply_error(x->out, E_NOMEM);
                return;
            }
            memcpy(x->c->name, x->argv[2], x->argl[2]);
            x->c->name[x->argl[2]] = '\0';
        }
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else if (arg_is(x, 1, "UNBLOCK")) {
        client_unblock(x);
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try CLIENT HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    }
}

/* ---------------------------------------------------------------- CONFIG */

static const char *const gc_names[] = {"stw", "paused", "off"};
static const char *const lock_names[] = {"gil", "free"};

/*
 * Redis's encoding settings: the sizes up to which it keeps a hash, sorted
 * set, list or set in a compact encoding.  mwrt's objects have encodings
 * of their own (small dicts and sets in one block, docs/objects.md), so
 * these change nothing here; they are kept, range-checked and answered as
 * Redis does, so that clients and test suites that tune them work.  Names
 * of one setting (Redis 7's listpack and the older ziplist) share a value.
 */
typedef struct encoding_setting {
    const char *name;
    int slot;             /* index in encoding_values */
    long long min;        /* Redis's range */
} encoding_setting;

static _Atomic(long long) encoding_values[] = {128, 64, 128, 64, -2, 0, 512, 4096, 100, 3000};

static const encoding_setting encoding_settings[] = {
    {"hash-max-listpack-entries", 0, 0}, {"hash-max-ziplist-entries", 0, 0},
    {"hash-max-listpack-value", 1, 0},   {"hash-max-ziplist-value", 1, 0},
    {"zset-max-listpack-entries", 2, 0}, {"zset-max-ziplist-entries", 2, 0},
    {"zset-max-listpack-value", 3, 0},   {"zset-max-ziplist-value", 3, 0},
    {"list-max-listpack-size", 4, -5},   {"list-max-ziplist-size", 4, -5},
    {"list-compress-depth", 5, 0},       {"set-max-intset-entries", 6, 0},
    {"stream-node-max-bytes", 7, 0},     {"stream-node-max-entries", 8, 0},
    {"hll-sparse-max-bytes", 9, 0},
};
#define NCONFIG_FIXED 17
#define NENCODING_SETTINGS (sizeof encoding_settings / sizeof encoding_settings[0])

static const encoding_setting *find_encoding_setting(const char *name, size_t n)
{
    for (size_t k = 0; k < NENCODING_SETTINGS; k++) {
        if (strlen(encoding_settings[k].name) == n &&
            strncasecmp(encoding_settings[k].name, name, n) == 0) {
            return &encoding_settings[k];
        }
    }
    return NULL;
}

/* Write the value of parameter i into buf; false past the last one. */
static bool config_param(int i, const char **name, char *buf, size_t cap)
{
    if (i >= NCONFIG_FIXED) {
        size_t k = (size_t)(i - NCONFIG_FIXED);
        if (k >= NENCODING_SETTINGS) {
            return false;
        }
        *name = encoding_settings[k].name;
        snprintf(buf, cap, "%lld", atomic_load(&encoding_values[encoding_settings[k].slot]));
        return true;
    }
    switch (i) {
    case 0: *name = "port"; snprintf(buf, cap, "%d", srv.cfg.port); return true;
    case 1: *name = "bind"; snprintf(buf, cap, "%s", srv.cfg.bind); return true;
    case 2: *name = "workers"; snprintf(buf, cap, "%d", srv.cfg.workers); return true;
    case 3: *name = "lock"; snprintf(buf, cap, "%s", lock_names[srv.cfg.lock]); return true;
    case 4: *name = "gc"; snprintf(buf, cap, "%s", gc_names[mw_gc_get_policy()]); return true;
    case 5: {
        int t[3];
        mw_gc_get_threshold(t);
        *name = "gc-threshold";
        snprintf(buf, cap, "%d,%d,%d", t[0], t[1], t[2]);
        return true;
    }
    case 6: *name = "maxmemory"; snprintf(buf, cap, "%lld", atomic_load(&srv.maxmemory)); return true;
    case 7: *name = "maxclients"; snprintf(buf, cap, "%lld", atomic_load(&srv.maxclients)); return true;
    case 8:
        *name = "requirepass";
        pthread_mutex_lock(&srv.pass_lock);
        snprintf(buf, cap, "%s", srv.cfg.requirepass);
        pthread_mutex_unlock(&srv.pass_lock);
        return true;
    case 9: *name = "save"; snprintf(buf, cap, "%s", ""); return true;
    case 10: *name = "appendonly"; snprintf(buf, cap, "%s", "no"); return true;
    case 11: *name = "client-query-buffer-limit"; snprintf(buf, cap, "%lld", srv.cfg.querybuf_max); return true;
    case 12: *name = "proto-max-bulk-len"; snprintf(buf, cap, "%lld", srv.cfg.bulk_max); return true;
    case 13: *name = "databases"; snprintf(buf, cap, "%s", "1"); return true;
    case 14: *name = "client-output-buffer-limit"; srv_obuf_limits_format(buf, cap); return true;
    case 15: *name = "slowlog-log-slower-than"; snprintf(buf, cap, "%lld", atomic_load(&slowlog_slower_than)); return true;
    case 16: *name = "slowlog-max-len"; snprintf(buf, cap, "%lld", atomic_load(&slowlog_max_len)); return true;
    default: return false;
    }
}

void cmd_config_get(ctx *x)
{
    if (x->argc < 3) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'config|get' command");
        return;
    }
    enum { MAXP = NCONFIG_FIXED + NENCODING_SETTINGS };
    char vals[MAXP][300];
    const char *names[MAXP];
    bool hit[MAXP] = {false};
    int n = 0;
    for (size_t a = 2; a < x->argc; a++) {
        for (int i = 0; i < MAXP; i++) {
            const char *name;
            char tmp[300];
            if (!config_param(i, &name, tmp, sizeof tmp)) {
                break;
            }
            if (!hit[i] && srv_glob_match(x->argv[a], x->argl[a], name, strlen(name), true)) {
                hit[i] = true;
                names[n] = name;
                memcpy(vals[n], tmp, sizeof tmp);
                n++;
            }
        }
    }
    srv_reply_array(x->out, n * 2);
    for (int i = 0; i < n; i++) {
        srv_reply_bulk(x->out, names[i], strlen(names[i]));
        srv_reply_bulk(x->out, vals[i], strlen(vals[i]));
    }
}

/* Apply one CONFIG SET pair; NULL or the reason it failed. */
static const char *config_set_one(ctx *x, size_t i, bool *unknown)
{
    const char *v = x->argv[i + 1];
    size_t vn = x->argl[i + 1];
    long long n;
    *unknown = false;
    if (arg_is(x, i, "maxmemory")) {
        if (!parse_mem(v, vn, &n)) {
            return "argument must be a memory value";
        }
        atomic_store(&srv.maxmemory, n);
        atomic_store(&srv.memory_used, srv_memory_used(NULL, NULL)); // not 100 ms old
    } else if (arg_is(x, i, "maxclients")) {
        if (!srv_str2ll(v, vn, &n)) {
            return "argument couldn't be parsed into an integer";
        }
        if (n < 1) {
            return "argument must be between 1 and 2147483647 inclusive";
        }
        atomic_store(&srv.maxclients, n);
    } else if (arg_is(x, i, "requirepass")) {
        if (vn >= sizeof srv.cfg.requirepass) {
            return "password too long";
        }
        pthread_mutex_lock(&srv.pass_lock);
        memcpy(srv.cfg.requirepass, v, vn);
        srv.cfg.requirepass[vn] = '\0';
        pthread_mutex_unlock(&srv.pass_lock);
        atomic_store(&srv.has_pass, vn > 0);
    } else if (arg_is(x, i, "gc")) {
        int p = -1;
        for (int k = 0; k < 3; k++) {
            if (vn == strlen(gc_names[k]) && strncasecmp(v, gc_names[k], vn) == 0) {
                p = k;
            }
        }
        if (p < 0 || mw_gc_set_policy((mw_gc_policy)p) != 0) {
            return "argument(s) must be one of the following: stw, paused, off";
        }
    } else if (arg_is(x, i, "gc-threshold")) {
        char tmp[64];
        int a, b, c;
        if (vn >= sizeof tmp) {
            return "argument must be A,B,C";
        }
        memcpy(tmp, v, vn);
        tmp[vn] = '\0';
        if (sscanf(tmp, "%d,%d,%d", &a, &b, &c) != 3 || a < 0 || b < 0 || c < 0) {
            return "argument must be A,B,C";
        }
        mw_gc_set_threshold(a, b, c);
    } else if (find_encoding_setting(x->argv[i], x->argl[i]) != NULL) {
        const encoding_setting *e = find_encoding_setting(x->argv[i], x->argl[i]);
        bool ok = e->min < 0 ? srv_str2ll(v, vn, &n) : parse_mem(v, vn, &n);
        if (!ok) {
            return "argument couldn't be parsed into an integer";
        }
        if (n < e->min) {
            return e->min < 0 ? "argument must be between -5 and 9223372036854775807 inclusive"
                              : "argument must be between 0 and 9223372036854775807 inclusive";
        }
        atomic_store(&encoding_values[e->slot], n);
    } else if (arg_is(x, i, "client-output-buffer-limit")) {
        return srv_obuf_limits_set(v, vn);
    } else if (arg_is(x, i, "slowlog-log-slower-than") || arg_is(x, i, "slowlog-max-len")) {
        bool len = arg_is(x, i, "slowlog-max-len");
        if (!srv_str2ll(v, vn, &n)) {
            return "argument couldn't be parsed into an integer";
        }
        if (n < (len ? 0 : -1) || n > LONG_MAX) {
            return len ? "argument must be between 0 and 9223372036854775807 inclusive"
                       : "argument must be between -1 and 9223372036854775807 inclusive";
        }
        atomic_store(len ? &slowlog_max_len : &slowlog_slower_than, n);
    } else if (arg_is(x, i, "save")) {
        // Nothing is ever saved; accepted so tools that turn saving off work.
    } else if (arg_is(x, i, "appendonly")) {
        if (!(vn == 2 && strncasecmp(v, "no", 2) == 0)) {
            return "argument must be 'no' (there is no persistence)";
        }
    } else if (arg_is(x, i, "port") || arg_is(x, i, "bind") || arg_is(x, i, "workers") ||
               arg_is(x, i, "lock") || arg_is(x, i, "client-query-buffer-limit") ||
               arg_is(x, i, "proto-max-bulk-len") || arg_is(x, i, "databases")) {
        return "can't set immutable config";
    } else {
        *unknown = true;
        return "unknown";
    }
    return NULL;
}

void cmd_config(ctx *x)
{
    if (arg_is(x, 1, "GET")) {
        cmd_config_get(x);
    } else if (arg_is(x, 1, "SET")) {
        if (x->argc < 4 || x->argc % 2 != 0) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'config|set' command");
            return;
        }
        for (size_t i = 2; i < x->argc; i += 2) {
            bool unknown;
            const char *why = config_set_one(x, i, &unknown);
            int nl = (int)(x->argl[i] > 128 ? 128 : x->argl[i]);
            if (why != NULL && unknown) {
                srv_reply_errorf(x->out, "ERR Unknown option or number of arguments for "
                                 "CONFIG SET - '%.*s'", nl, x->argv[i]);
                return;
            }
            if (why != NULL) {
                srv_reply_errorf(x->out, "ERR CONFIG SET failed (possibly related to "
                                 "argument '%.*s') - %s", nl, x->argv[i], why);
                return;
            }
        }
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else if (arg_is(x, 1, "RESETSTAT")) {
        srv_ks_reset_stats();
        mw_gc_reset_stats();
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try CONFIG HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    }
}

/* ------------------------------------------------------------------ INFO */

static void info_line(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info_line(srv_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp - 2, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return;
    }
    if ((size_t)n > sizeof tmp - 3) {
        n = (int)sizeof tmp - 3;
    }
    tmp[n] = '\r';
    tmp[n + 1] = '\n';
    srv_buf_append(b, tmp, (size_t)n + 2);
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) {
        return 0;
    }
    unsigned long size = 0, res = 0;
    if (fscanf(f, "%lu %lu", &size, &res) != 2) {
        res = 0;
    }
    fclose(f);
    return (size_t)res * 4096;
}

static void info_percentiles(srv_buf *b, const char *name, const mw_gc_percentiles *p)
{
    info_line(b, "%s:count=%llu,p50_us=%.1f,p99_us=%.1f,p999_us=%.1f,max_us=%.1f", name,
              (unsigned long long)p->count, p->p50 / 1000.0, p->p99 / 1000.0,
              p->p999 / 1000.0, p->max / 1000.0);
}

static void info_gc(srv_buf *b)
{
    mw_gc_stats st;
    if (mw_gc_get_stats(&st) != 0) {
        return;
    }
    int t[3];
    mw_gc_get_threshold(t);
    int cnt[3];
    mw_gc_get_count(cnt);
    info_line(b, "gc_policy:%s", gc_names[mw_gc_get_policy()]);
    info_line(b, "gc_lock_mode:%s", lock_names[st.lock]);
    info_line(b, "gc_enabled:%d", mw_gc_isenabled() ? 1 : 0);
    info_line(b, "gc_thresholds:%d,%d,%d", t[0], t[1], t[2]);
    info_line(b, "gc_counts:%d,%d,%d", cnt[0], cnt[1], cnt[2]);
    for (int g = 0; g < MW_GC_GENERATIONS; g++) {
        const mw_gc_gen_stats *s = &st.gen[g];
        info_line(b, "gc_gen%d:collections=%llu,collected=%llu,uncollectable=%llu,"
                  "examined=%llu,pause_total_us=%.1f,pause_max_us=%.1f", g,
                  (unsigned long long)s->collections, (unsigned long long)s->collected,
                  (unsigned long long)s->uncollectable, (unsigned long long)s->examined,
                  s->total_pause_ns / 1000.0, s->max_pause_ns / 1000.0);
        char name[32];
        snprintf(name, sizeof name, "gc_gen%d_pause", g);
        info_percentiles(b, name, &s->pause_ns);
    }
    info_percentiles(b, "gc_pause", &st.pause_ns);
    info_percentiles(b, "gc_time_to_safepoint", &st.safepoint_ns);
    info_line(b, "gc_stw_collections:%llu", (unsigned long long)st.stw_collections);
    info_line(b, "gc_idle_collections:%llu", (unsigned long long)st.idle_collections);
    info_line(b, "gc_memory_collections:%llu", (unsigned long long)st.memory_collections);
    info_line(b, "gc_explicit_collections:%llu", (unsigned long long)st.explicit_collections);
    info_line(b, "gc_callback_errors:%llu", (unsigned long long)st.callback_errors);
    info_line(b, "gc_memory_limit:%zu", st.memory_limit);
    info_line(b, "gc_memory_used:%zu", st.memory_used);
    info_line(b, "gc_confined_collections:%llu", (unsigned long long)st.confined_collections);
    info_line(b, "gc_requested_collections:%llu", (unsigned long long)st.requested_collections);
    // Every heap: the shared one, then each confined worker's (sharded).
    size_t n = 0;
    if (mw_gc_get_thread_stats(NULL, 0, &n) != 0 || n == 0) {
        return;
    }
    mw_gc_thread_stats *hs = malloc(n * sizeof *hs);
    if (hs == NULL || mw_gc_get_thread_stats(hs, n, &n) != 0) {
        free(hs);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const mw_gc_thread_stats *h = &hs[i];
        int worker = -1;
        for (int w = 0; w < srv.nworkers && h->confined; w++) {
            if (atomic_load_explicit(&srv.workers[w].thread_id, memory_order_relaxed) == h->thread_id) {
                worker = w;
            }
        }
        uint64_t colls = 0, examined = 0;
        for (int g = 0; g < MW_GC_GENERATIONS; g++) {
            colls += h->stats.gen[g].collections;
            examined += h->stats.gen[g].examined;
        }
        info_line(b, "gc_heap%zu:worker=%d,confined=%d,tracked=%zu,counts=%d/%d/%d,"
                  "collections=%llu,examined=%llu,pause_p99_us=%.1f,pause_max_us=%.1f", i,
                  worker, h->confined ? 1 : 0, h->tracked, h->count[0], h->count[1], h->count[2],
                  (unsigned long long)colls, (unsigned long long)examined,
                  h->stats.pause_ns.p99 / 1000.0, h->stats.pause_ns.max / 1000.0);
    }
    free(hs);
}

static void info_section(srv_buf *b, const char *sec)
{
    if (strcmp(sec, "server") == 0) {
        info_line(b, "# Server");
        info_line(b, "redis_version:%s", SRV_REDIS_VERSION);
        info_line(b, "mwrt_server_version:%s", SRV_VERSION);
        info_line(b, "mwrt_version:%s", mw_version());
        info_line(b, "redis_mode:standalone");
        info_line(b, "multiplexing_api:libuv %s", uv_version_string());
        info_line(b, "process_id:%ld", (long)getpid());
        info_line(b, "tcp_port:%d", srv.cfg.port);
        info_line(b, "workers:%d", srv.cfg.workers);
        int64_t up = (srv_now_ms() - srv.start_ms) / 1000;
        info_line(b, "uptime_in_seconds:%lld", (long long)up);
        info_line(b, "uptime_in_days:%lld", (long long)(up / 86400));
    } else if (strcmp(sec, "clients") == 0) {
        info_line(b, "# Clients");
        info_line(b, "connected_clients:%lld", atomic_load(&srv.clients));
        info_line(b, "maxclients:%lld", atomic_load(&srv.maxclients));
        info_line(b, "blocked_clients:%lld", srv_blocked_clients());
    } else if (strcmp(sec, "memory") == 0) {
        mw_alloc_stats a;
        size_t small;
        size_t used = srv_memory_used(&a, &small);
        info_line(b, "# Memory");
        info_line(b, "used_memory:%zu", used);
        info_line(b, "used_memory_rss:%zu", rss_bytes());
        info_line(b, "maxmemory:%lld", atomic_load(&srv.maxmemory));
        info_line(b, "maxmemory_policy:noeviction");
        info_line(b, "mem_allocator:mwrt");
        info_line(b, "alloc_small_bytes_in_use:%zu", small);
        info_line(b, "alloc_large_in_use:%zu", a.large_in_use);
        info_line(b, "alloc_large_bytes:%zu", a.large_bytes);
        info_line(b, "alloc_bytes_from_os:%zu", a.bytes_from_os);
        info_line(b, "alloc_peak_bytes_from_os:%zu", a.peak_bytes_from_os);
        info_line(b, "alloc_arenas_live:%zu", a.arenas_live);
        info_line(b, "alloc_arenas_mapped:%zu", a.arenas_mapped);
        info_line(b, "alloc_arenas_released:%zu", a.arenas_released);
        info_line(b, "alloc_pools_in_use:%zu", a.pools_in_use);
        info_line(b, "alloc_pools_free:%zu", a.pools_free);
        info_line(b, "alloc_heaps:%zu", a.heaps);
        info_line(b, "alloc_heaps_abandoned:%zu", a.heaps_abandoned);
    } else if (strcmp(sec, "stats") == 0) {
        long long cmds = 0, in = 0, out = 0;
        for (int i = 0; i < srv.nworkers; i++) {
            cmds += atomic_load_explicit(&srv.workers[i].commands, memory_order_relaxed);
            in += atomic_load_explicit(&srv.workers[i].net_in, memory_order_relaxed);
            out += atomic_load_explicit(&srv.workers[i].net_out, memory_order_relaxed);
        }
        info_line(b, "# Stats");
        info_line(b, "total_connections_received:%lld", atomic_load(&srv.total_connections));
        info_line(b, "total_commands_processed:%lld", cmds);
        info_line(b, "instantaneous_ops_per_sec:%lld", atomic_load(&srv.ops_per_sec));
        info_line(b, "total_net_input_bytes:%lld", in);
        info_line(b, "total_net_output_bytes:%lld", out);
        info_line(b, "rejected_connections:%lld", atomic_load(&srv.rejected_connections));
        srv_ks_totals t;
        srv_ks_get_totals(&t);
        info_line(b, "expired_keys:%lld", t.expired);
        info_line(b, "keyspace_hits:%lld", t.hits);
        info_line(b, "keyspace_misses:%lld", t.misses);
        long long chans, pats, shard;
        srv_pubsub_totals(&chans, &pats, &shard);
        info_line(b, "pubsub_channels:%lld", chans);
        info_line(b, "pubsub_patterns:%lld", pats);
        info_line(b, "pubsubshard_channels:%lld", shard);
    } else if (strcmp(sec, "gc") == 0) {
        info_line(b, "# GC");
        info_gc(b);
    } else if (strcmp(sec, "shards") == 0) {
        // Not a Redis section: how the keyspace is laid out, and each
        // shard's keys as its owner last published them.
        info_line(b, "# Shards");
        info_line(b, "keyspace:%s", srv.cfg.sharded ? "sharded" : "shared");
        info_line(b, "shards:%d", srv.nshards);
        info_line(b, "this_worker:%d", srv_self != NULL ? srv_self->index : -1);
        for (int i = 0; i < srv.nshards; i++) {
            srv_keyspace *k = &srv.shards[i];
            long long keys = k == srv_ks_cur ? (long long)k->d.count
                                             : atomic_load_explicit(&k->pub_keys, memory_order_relaxed);
            int lo = -1, hi = -1;
            for (int s = 0; s < SRV_SLOTS; s++) {
                if (srv_slot_owner[s] == i || !srv.cfg.sharded) {
                    hi = s;
                    if (lo < 0) {
                        lo = s;
                    }
                }
            }
            info_line(b, "shard%d:keys=%lld,slots=%d-%d", i, keys, lo, hi);
        }
        // Since start, summed over workers: what the hand-overs cost.
        long long hops = 0, batches = 0, wakeups = 0;
        for (int i = 0; i < srv.nworkers; i++) {
            srv_worker *w = &srv.workers[i];
            hops += atomic_load_explicit(&w->hops, memory_order_relaxed);
            batches += atomic_load_explicit(&w->batches, memory_order_relaxed);
            wakeups += atomic_load_explicit(&w->wakeups, memory_order_relaxed);
        }
        info_line(b, "shard_hops:%lld", hops);
        info_line(b, "shard_batches:%lld", batches);
        info_line(b, "shard_wakeups:%lld", wakeups);
    } else if (strcmp(sec, "keyspace") == 0) {
        info_line(b, "# Keyspace");
        srv_ks_totals t;
        srv_ks_get_totals(&t);
        if (t.keys > 0) {
            info_line(b, "db0:keys=%lld,expires=%lld,avg_ttl=0", t.keys, t.expires);
        }
    }
}

void cmd_info(ctx *x)
{
    // The first six are the default; "shards" only when asked for, or all.
    static const char *const all[] = {"server", "clients", "memory", "stats", "gc", "keyspace",
                                      "shards"};
    enum { NSEC = 7, NDEFAULT = 6 };
    srv_buf b = {0};
    bool want[NSEC] = {false};
    bool any = false;
    if (x->argc == 1) {
        for (int i = 0; i < NDEFAULT; i++) {
            want[i] = true;
        }
    }
    for (size_t a = 1; a < x->argc; a++) {
        bool every = arg_is(x, a, "all") || arg_is(x, a, "everything");
        if (every || arg_is(x, a, "default")) {
            for (int i = 0; i < (every ? NSEC : NDEFAULT); i++) {
                want[i] = true;
            }
        }
        for (int i = 0; i < NSEC; i++) {
            if (arg_is(x, a, all[i])) {
                want[i] = true;
            }
        }
    }
    for (int i = 0; i < NSEC; i++) {
        if (want[i]) {
            if (any) {
                srv_buf_append(&b, "\r\n", 2);
            }
            info_section(&b, all[i]);
            any = true;
        }
    }
    if (b.oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_bulk(x->out, b.data ? b.data : "", b.len);
    }
    srv_buf_free(&b);
}

/* -------------------------------------------------------------------- GC */

void cmd_gc_collect(ctx *x)
{
    long long gen = 2;
    if (x->argc > 2) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'gc.collect' command");
        return;
    }
    if (x->argc == 2 && (!srv_str2ll(x->argv[1], x->argl[1], &gen) || gen < -1 || gen > 2)) {
        srv_reply_error(x->out, "ERR generation must be 0, 1 or 2");
        return;
    }
    intptr_t n = mw_gc_collect((int)gen);
    if (n < 0) {
        srv_reply_errorf(x->out, "ERR %s", mw_err_message());
        mw_err_clear();
        return;
    }
    srv_reply_int(x->out, (long long)n);
}

void cmd_gc_stats(ctx *x)
{
    srv_buf b = {0};
    info_gc(&b);
    if (b.oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_bulk(x->out, b.data ? b.data : "", b.len);
    }
    srv_buf_free(&b);
}

void cmd_gc_policy(ctx *x)
{
    if (x->argc == 1) {
        const char *p = gc_names[mw_gc_get_policy()];
        srv_reply_bulk(x->out, p, strlen(p));
        return;
    }
    if (x->argc > 2) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'gc.policy' command");
        return;
    }
    for (int k = 0; k < 3; k++) {
        if (arg_is(x, 1, gc_names[k])) {
            if (mw_gc_set_policy((mw_gc_policy)k) != 0) {
                srv_reply_errorf(x->out, "ERR %s", mw_err_message());
                mw_err_clear();
                return;
            }
            srv_log("gc policy set to %s", gc_names[k]);
            srv_buf_append(x->out, "+OK\r\n", 5);
            return;
        }
    }
    srv_reply_error(x->out, "ERR policy must be stw, paused or off");
}
