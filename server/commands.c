/*
 * server/commands.c - the command table and the commands.
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
 * keyspace lock in free mode), so each is atomic and sees every write
 * acknowledged before it.
 *
 * Error texts and reply shapes are Redis 7.0's, checked against
 * redis-server 7.0 (see docs/server.md for what differs: HELLO names the
 * server "mwrt", COMMAND answers briefly, SELECT knows database 0 only).
 */
#include "server.h"

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

/* ======================================================================
 * Helpers
 * ====================================================================== */

static bool arg_is(ctx *x, size_t i, const char *word)
{
    size_t n = strlen(word);
    return x->argl[i] == n && strncasecmp(x->argv[i], word, n) == 0;
}

static bool arg_ll(ctx *x, size_t i, long long *v)
{
    if (!srv_str2ll(x->argv[i], x->argl[i], v)) {
        srv_reply_error(x->out, E_NOTINT);
        return false;
    }
    return true;
}

/* The value at key with the given type: 1 found, 0 missing, -1 wrong type
 * (WRONGTYPE replied).  *out is borrowed. */
static int lookup(ctx *x, size_t i, const mw_type *type, mw_object **out)
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
static int lookup_read(ctx *x, size_t i, const mw_type *type, mw_object **out)
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
static mw_object *lookup_or_create(ctx *x, size_t i, const mw_type *type)
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

static size_t agg_len(mw_object *o)
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
static void drop_if_empty(ctx *x, size_t i, mw_object *o)
{
    if (agg_len(o) == 0) {
        srv_ks_del(x->argv[i], x->argl[i]);
    }
}

static mw_object *new_str(ctx *x, const char *p, size_t n)
{
    mw_object *s = mw_str_n(p, n);
    if (s == NULL) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
    }
    return s;
}

static void reply_str(srv_buf *out, mw_object *s)
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
static void reply_value(srv_buf *out, mw_object *o, int depth)
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
static bool parse_mem(const char *p, size_t n, long long *out)
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

/* ======================================================================
 * Connection and server commands
 * ====================================================================== */

static void cmd_ping(ctx *x)
{
    if (x->argc > 2) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'ping' command");
    } else if (x->argc == 2) {
        srv_reply_bulk(x->out, x->argv[1], x->argl[1]);
    } else {
        srv_buf_append(x->out, "+PONG\r\n", 7);
    }
}

static void cmd_echo(ctx *x)
{
    srv_reply_bulk(x->out, x->argv[1], x->argl[1]);
}

static void cmd_quit(ctx *x)
{
    srv_buf_append(x->out, "+OK\r\n", 5);
    x->c->close_after_write = true;
}

static void cmd_select(ctx *x)
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

static void cmd_auth(ctx *x)
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

static void cmd_hello(ctx *x)
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

static const srv_cmd cmd_table[];
static size_t cmd_count(void);

static void cmd_command(ctx *x)
{
    if (x->argc == 1) {
        size_t n = cmd_count();
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            const srv_cmd *c = &cmd_table[i];
            srv_reply_array(x->out, 6);
            srv_reply_bulk(x->out, c->name, strlen(c->name));
            srv_reply_int(x->out, c->arity);
            srv_reply_array(x->out, 0);
            srv_reply_int(x->out, c->keys.first);
            srv_reply_int(x->out, c->keys.last);
            srv_reply_int(x->out, c->keys.step);
        }
    } else if (arg_is(x, 1, "COUNT")) {
        if (x->argc != 2) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'command|count' command");
            return;
        }
        srv_reply_int(x->out, (long long)cmd_count());
    } else if (arg_is(x, 1, "DOCS")) {
        srv_reply_array(x->out, 0);
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try COMMAND HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    }
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

static void cmd_client(ctx *x)
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
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try CLIENT HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    }
}

/* ---------------------------------------------------------------- CONFIG */

static const char *const gc_names[] = {"stw", "paused", "off"};
static const char *const lock_names[] = {"gil", "free"};

/* Write the value of parameter i into buf; false past the last one. */
static bool config_param(int i, const char **name, char *buf, size_t cap)
{
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
    default: return false;
    }
}

static void cmd_config_get(ctx *x)
{
    if (x->argc < 3) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'config|get' command");
        return;
    }
    char vals[16][300];
    const char *names[16];
    bool hit[16] = {false};
    int n = 0;
    for (size_t a = 2; a < x->argc; a++) {
        for (int i = 0; i < 16; i++) {
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

static void cmd_config(ctx *x)
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

static void cmd_info(ctx *x)
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

static void cmd_gc_collect(ctx *x)
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

static void cmd_gc_stats(ctx *x)
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

static void cmd_gc_policy(ctx *x)
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

/* ======================================================================
 * Keys
 * ====================================================================== */

static void cmd_dbsize(ctx *x)
{
    srv_reply_int(x->out, (long long)srv_ks.d.count);
}

static void cmd_flushdb(ctx *x)
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

static void cmd_keys(ctx *x)
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

static void cmd_scan(ctx *x)
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

static void cmd_type(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    srv_reply_status(x->out, e == NULL ? "none" : srv_type_name(e->v.obj));
}

static void cmd_exists(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_find(x->argv[i], x->argl[i]) != NULL;
    }
    srv_reply_int(x->out, n);
}

static void cmd_del(ctx *x)
{
    long long n = 0;
    for (size_t i = 1; i < x->argc; i++) {
        n += srv_ks_del(x->argv[i], x->argl[i]);
    }
    srv_reply_int(x->out, n);
}

static void cmd_rename(ctx *x)
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

static void cmd_expire(ctx *x)
{
    generic_expire(x, 1000, "expire");
}

static void cmd_pexpire(ctx *x)
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

static void cmd_ttl(ctx *x)
{
    generic_ttl(x, false);
}

static void cmd_pttl(ctx *x)
{
    generic_ttl(x, true);
}

static void cmd_persist(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL || e->expire < 0) {
        srv_reply_int(x->out, 0);
        return;
    }
    srv_ks_set_expire(e, -1);
    srv_reply_int(x->out, 1);
}

/* ======================================================================
 * Strings
 * ====================================================================== */

static void cmd_get(ctx *x)
{
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r == 0) {
        srv_reply_null(x->out);
    } else if (r > 0) {
        reply_str(x->out, s);
    }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
static void cmd_set(ctx *x)
{
    bool nx = false, xx = false, get = false, keepttl = false;
    int exp_kind = 0; // 1 EX, 2 PX, 3 EXAT, 4 PXAT
    size_t exp_arg = 0;
    for (size_t i = 3; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (arg_is(x, i, "NX") && !xx) {
            nx = true;
        } else if (arg_is(x, i, "XX") && !nx) {
            xx = true;
        } else if (arg_is(x, i, "GET")) {
            get = true;
        } else if (arg_is(x, i, "KEEPTTL") && exp_kind == 0) {
            keepttl = true;
        } else if (!keepttl && exp_kind == 0 && more &&
                   (arg_is(x, i, "EX") || arg_is(x, i, "PX") ||
                    arg_is(x, i, "EXAT") || arg_is(x, i, "PXAT"))) {
            exp_kind = arg_is(x, i, "EX") ? 1 : arg_is(x, i, "PX") ? 2 : arg_is(x, i, "EXAT") ? 3 : 4;
            exp_arg = ++i;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    int64_t when = -1;
    if (exp_kind != 0) {
        long long t;
        if (!arg_ll(x, exp_arg, &t)) {
            return;
        }
        int64_t now = srv_now_ms();
        bool secs = exp_kind == 1 || exp_kind == 3;
        bool rel = exp_kind <= 2;
        if (t <= 0 || (secs && t > INT64_MAX / 1000) ||
            (rel && (secs ? t * 1000 : t) > INT64_MAX - now)) {
            srv_reply_error(x->out, "ERR invalid expire time in 'set' command");
            return;
        }
        when = (secs ? t * 1000 : t) + (rel ? now : 0);
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (get && e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    if ((nx && e != NULL) || (xx && e == NULL)) {
        if (get) {
            if (e == NULL) {
                srv_reply_null(x->out);
            } else {
                reply_str(x->out, e->v.obj);
            }
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    if (get) {
        if (e == NULL) {
            srv_reply_null(x->out);
        } else {
            reply_str(x->out, e->v.obj); // before the value is replaced
        }
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    if (e == NULL) {
        e = srv_dict_add(&srv_ks.d, x->argv[1], x->argl[1], srv_hash_bytes(x->argv[1], x->argl[1]));
        if (e == NULL) {
            mw_decref(v);
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
    }
    srv_ks_replace(e, v, keepttl);
    mw_decref(v);
    if (when >= 0) {
        srv_ks_set_expire(e, when);
    }
    if (!get) {
        srv_buf_append(x->out, "+OK\r\n", 5);
    }
}

static void cmd_setnx(ctx *x)
{
    if (srv_ks_find(x->argv[1], x->argl[1]) != NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], v, false);
    mw_decref(v);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_int(x->out, 1);
}

static void cmd_getset(ctx *x)
{
    mw_object *old;
    int r = lookup(x, 1, &mw_str_type, &old);
    if (r < 0) {
        return;
    }
    mw_object *v = new_str(x, x->argv[2], x->argl[2]);
    if (v == NULL) {
        return;
    }
    if (r > 0) {
        reply_str(x->out, old);
    } else {
        srv_reply_null(x->out);
    }
    if (!srv_ks_set(x->argv[1], x->argl[1], v, false)) {
        srv_reply_error(x->out, E_NOMEM);
    }
    mw_decref(v);
}

static void cmd_mset(ctx *x)
{
    if (x->argc % 2 != 1) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'mset' command");
        return;
    }
    for (size_t i = 1; i < x->argc; i += 2) {
        mw_object *v = new_str(x, x->argv[i + 1], x->argl[i + 1]);
        if (v == NULL) {
            return;
        }
        bool ok = srv_ks_set(x->argv[i], x->argl[i], v, false);
        mw_decref(v);
        if (!ok) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

static void cmd_mget(ctx *x)
{
    srv_reply_array(x->out, (long long)x->argc - 1);
    for (size_t i = 1; i < x->argc; i++) {
        srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
        if (e != NULL && mw_type_of(e->v.obj) == &mw_str_type) {
            srv_ks.hits++;
            reply_str(x->out, e->v.obj);
        } else {
            srv_ks.misses += e == NULL;
            srv_reply_null(x->out);
        }
    }
}

static void incr_by(ctx *x, long long by)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
        srv_reply_error(x->out, E_WRONGTYPE);
        return;
    }
    mw_object *s = e != NULL ? e->v.obj : NULL;
    int r = e != NULL;
    long long v = 0;
    if (r > 0) {
        size_t n;
        const char *p = mw_str_data(s, &n);
        if (!srv_str2ll(p, n, &v)) {
            srv_reply_error(x->out, E_NOTINT);
            return;
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        srv_reply_error(x->out, "ERR increment or decrement would overflow");
        return;
    }
    v += by;
    char tmp[24];
    size_t n = srv_ll2str(tmp, v);
    mw_object *ns = new_str(x, tmp, n);
    if (ns == NULL) {
        return;
    }
    bool ok = true;
    if (e != NULL) {
        srv_ks_replace(e, ns, true);
    } else {
        ok = srv_ks_set(x->argv[1], x->argl[1], ns, true);
    }
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_int(x->out, v);
}

static void cmd_incr(ctx *x)
{
    incr_by(x, 1);
}

static void cmd_decr(ctx *x)
{
    incr_by(x, -1);
}

static void cmd_incrby(ctx *x)
{
    long long by;
    if (arg_ll(x, 2, &by)) {
        incr_by(x, by);
    }
}

static void cmd_decrby(ctx *x)
{
    long long by;
    if (!arg_ll(x, 2, &by)) {
        return;
    }
    if (by == LLONG_MIN) {
        srv_reply_error(x->out, "ERR decrement would overflow");
        return;
    }
    incr_by(x, -by);
}

static void cmd_append(ctx *x)
{
    mw_object *s;
    int r = lookup(x, 1, &mw_str_type, &s);
    if (r < 0) {
        return;
    }
    size_t n = 0;
    const char *p = r > 0 ? mw_str_data(s, &n) : "";
    if ((long long)(n + x->argl[2]) > srv.cfg.bulk_max) {
        srv_reply_error(x->out, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    // Strings are immutable runtime objects: APPEND builds a new one (O(n)).
    char *tmp = malloc(n + x->argl[2] + 1);
    if (tmp == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    memcpy(tmp, p, n);
    memcpy(tmp + n, x->argv[2], x->argl[2]);
    mw_object *ns = new_str(x, tmp, n + x->argl[2]);
    free(tmp);
    if (ns == NULL) {
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], ns, true);
    mw_decref(ns);
    if (!ok) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_int(x->out, (long long)(n + x->argl[2]));
}

static void cmd_strlen(ctx *x)
{
    mw_object *s;
    int r = lookup_read(x, 1, &mw_str_type, &s);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)mw_str_len(s) : 0);
    }
}

/* ======================================================================
 * Lists
 * ====================================================================== */

static void push(ctx *x, bool left)
{
    srv_list *l = (srv_list *)lookup_or_create(x, 1, &srv_list_type);
    if (l == NULL) {
        return;
    }
    for (size_t i = 2; i < x->argc; i++) {
        mw_object *v = new_str(x, x->argv[i], x->argl[i]);
        if (v == NULL) {
            drop_if_empty(x, 1, &l->ob);
            return;
        }
        if (!srv_list_push(l, v, left)) {
            srv_reply_error(x->out, E_NOMEM);
            drop_if_empty(x, 1, &l->ob);
            return;
        }
    }
    srv_reply_int(x->out, (long long)l->len);
}

static void cmd_lpush(ctx *x)
{
    push(x, true);
}

static void cmd_rpush(ctx *x)
{
    push(x, false);
}

static void pop(ctx *x, bool left)
{
    long long count = -1;
    if (x->argc > 3) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command",
                         left ? "lpop" : "rpop");
        return;
    }
    if (x->argc == 3) {
        if (!srv_str2ll(x->argv[2], x->argl[2], &count) || count < 0) {
            srv_reply_error(x->out, E_POSITIVE);
            return;
        }
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (count >= 0) {
            srv_reply_null_array(x->out);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    mw_incref(o); // popping the last element deletes the key
    if (count < 0) {
        mw_object *v = srv_list_pop(l, left);
        reply_str(x->out, v);
        mw_decref(v);
    } else {
        size_t n = (size_t)count < l->len ? (size_t)count : l->len;
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            mw_object *v = srv_list_pop(l, left);
            reply_str(x->out, v);
            mw_decref(v);
        }
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

static void cmd_lpop(ctx *x)
{
    pop(x, true);
}

static void cmd_rpop(ctx *x)
{
    pop(x, false);
}

static void cmd_llen(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_list *)o)->len : 0);
    }
}

/* Redis's index range rule (LRANGE, ZRANGE): negative indexes count from
 * the end, the range is clamped to [0, len - 1]; false if it is empty. */
static bool range_clamp(long long len, long long *start, long long *stop)
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

static void cmd_lrange(ctx *x)
{
    long long start, stop;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_list *l = (srv_list *)o;
    if (!range_clamp((long long)l->len, &start, &stop)) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_reply_array(x->out, stop - start + 1);
    for (long long i = start; i <= stop; i++) {
        reply_str(x->out, srv_list_at(l, (size_t)i));
    }
}

static void cmd_lindex(ctx *x)
{
    long long i;
    if (!arg_ll(x, 2, &i)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    srv_list *l = (srv_list *)o;
    if (r > 0 && i < 0) {
        i += (long long)l->len;
    }
    if (r == 0 || i < 0 || i >= (long long)l->len) {
        srv_reply_null(x->out);
        return;
    }
    reply_str(x->out, srv_list_at(l, (size_t)i));
}

static void cmd_lset(ctx *x)
{
    long long i;
    if (!arg_ll(x, 2, &i)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    srv_list *l = (srv_list *)o;
    if (i < 0) {
        i += (long long)l->len;
    }
    if (i < 0 || i >= (long long)l->len) {
        srv_reply_error(x->out, "ERR index out of range");
        return;
    }
    mw_object *v = new_str(x, x->argv[3], x->argl[3]);
    if (v == NULL) {
        return;
    }
    srv_list_set(l, (size_t)i, v);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

static bool str_eq(mw_object *s, const char *p, size_t n)
{
    size_t m;
    const char *d = mw_str_data(s, &m);
    return d != NULL && m == n && memcmp(d, p, n) == 0;
}

static void cmd_lrem(ctx *x)
{
    long long count;
    if (!arg_ll(x, 2, &count)) {
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_list_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_list *l = (srv_list *)o;
    long long removed = 0;
    if (count >= 0) {
        for (size_t i = 0; i < l->len && (count == 0 || removed < count);) {
            if (str_eq(srv_list_at(l, i), x->argv[3], x->argl[3])) {
                srv_list_remove_at(l, i);
                removed++;
            } else {
                i++;
            }
        }
    } else {
        for (size_t i = l->len; i > 0 && removed < -count; i--) {
            if (str_eq(srv_list_at(l, i - 1), x->argv[3], x->argl[3])) {
                srv_list_remove_at(l, i - 1);
                removed++;
            }
        }
    }
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, removed);
}

/* ======================================================================
 * Hashes (and references between values)
 * ====================================================================== */

/* Store value (a new reference is taken) in field; 1 new, 0 updated, -1 OOM. */
static int hash_store(srv_hash *h, const char *f, size_t n, mw_object *value)
{
    uint64_t hv = srv_hash_bytes(f, n);
    srv_entry *e = srv_dict_find(&h->d, f, n, hv);
    int isnew = 0;
    if (e == NULL) {
        e = srv_dict_add(&h->d, f, n, hv);
        if (e == NULL) {
            return -1;
        }
        isnew = 1;
    }
    mw_object *old = e->v.obj;
    mw_incref(value);
    e->v.obj = value;
    mw_decref(old);
    return isnew;
}

/* Store value (stolen: the caller's reference passes to this call) in
 * the field named by argument field_arg of hash h, which is the key at
 * argument 1; on OOM reply the error and drop h if it is empty.  1 new,
 * 0 updated, -1 OOM. */
static int hash_put(ctx *x, srv_hash *h, size_t field_arg, mw_object *value)
{
    int r = hash_store(h, x->argv[field_arg], x->argl[field_arg], value);
    mw_decref(value);
    if (r < 0) {
        srv_reply_error(x->out, E_NOMEM);
        drop_if_empty(x, 1, &h->ob);
    }
    return r;
}

static srv_entry *hash_field(srv_hash *h, const char *f, size_t n)
{
    return srv_dict_find(&h->d, f, n, srv_hash_bytes(f, n));
}

static bool hset_common(ctx *x, long long *added)
{
    if (x->argc % 2 != 0) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for '%s' command",
                         arg_is(x, 0, "hmset") ? "hmset" : "hset");
        return false;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return false;
    }
    *added = 0;
    for (size_t i = 2; i < x->argc; i += 2) {
        mw_object *v = new_str(x, x->argv[i + 1], x->argl[i + 1]);
        if (v == NULL) {
            drop_if_empty(x, 1, &h->ob);
            return false;
        }
        int r = hash_put(x, h, i, v);
        if (r < 0) {
            return false;
        }
        *added += r;
    }
    return true;
}

static void cmd_hset(ctx *x)
{
    long long added;
    if (hset_common(x, &added)) {
        srv_reply_int(x->out, added);
    }
}

static void cmd_hmset(ctx *x)
{
    long long added;
    if (hset_common(x, &added)) {
        srv_buf_append(x->out, "+OK\r\n", 5);
    }
}

static void cmd_hget(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_entry *e = r > 0 ? hash_field((srv_hash *)o, x->argv[2], x->argl[2]) : NULL;
    reply_value(x->out, e != NULL ? e->v.obj : NULL, 0);
}

static void cmd_hmget(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    srv_reply_array(x->out, (long long)x->argc - 2);
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = r > 0 ? hash_field((srv_hash *)o, x->argv[i], x->argl[i]) : NULL;
        reply_value(x->out, e != NULL ? e->v.obj : NULL, 0);
    }
}

static void cmd_hdel(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_hash_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_hash *h = (srv_hash *)o;
    long long n = 0;
    mw_incref(o);
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = hash_field(h, x->argv[i], x->argl[i]);
        if (e != NULL) {
            mw_object *v = e->v.obj;
            srv_dict_remove(&h->d, e);
            mw_decref(v);
            n++;
        }
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
    srv_reply_int(x->out, n);
}

/* HGETALL (what 3), HKEYS (1), HVALS (2) */
static void hash_walk(ctx *x, int what)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_hash *h = (srv_hash *)o;
    srv_reply_array(x->out, (long long)h->d.count * (what == 3 ? 2 : 1));
    for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
        if (what & 1) {
            srv_reply_bulk(x->out, e->key, e->klen);
        }
        if (what & 2) {
            reply_value(x->out, e->v.obj, 0);
        }
    }
}

static void cmd_hgetall(ctx *x)
{
    hash_walk(x, 3);
}

static void cmd_hkeys(ctx *x)
{
    hash_walk(x, 1);
}

static void cmd_hvals(ctx *x)
{
    hash_walk(x, 2);
}

static void cmd_hlen(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_hash *)o)->d.count : 0);
    }
}

static void cmd_hexists(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_hash_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 && hash_field((srv_hash *)o, x->argv[2], x->argl[2]) != NULL);
    }
}

static void cmd_hincrby(ctx *x)
{
    long long by;
    if (!arg_ll(x, 3, &by)) {
        return;
    }
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        return;
    }
    long long v = 0;
    srv_entry *e = hash_field(h, x->argv[2], x->argl[2]);
    if (e != NULL) {
        size_t n;
        const char *p = mw_type_of(e->v.obj) == &mw_str_type ? mw_str_data(e->v.obj, &n) : NULL;
        if (p == NULL || !srv_str2ll(p, n, &v)) {
            srv_reply_error(x->out, "ERR hash value is not an integer");
            return;
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        srv_reply_error(x->out, "ERR increment or decrement would overflow");
        return;
    }
    v += by;
    char tmp[24];
    size_t n = srv_ll2str(tmp, v);
    mw_object *ns = new_str(x, tmp, n);
    if (ns == NULL) {
        drop_if_empty(x, 1, &h->ob);
        return;
    }
    if (hash_put(x, h, 2, ns) >= 0) {
        srv_reply_int(x->out, v);
    }
}

/* REF.SET key field target: hash `key`'s field now refers to the value
 * object at `target` itself (not a copy); replies as HSET. */
static void cmd_ref_set(ctx *x)
{
    srv_entry *t = srv_ks_find(x->argv[3], x->argl[3]);
    if (t == NULL) {
        srv_reply_error(x->out, "ERR no such key");
        return;
    }
    mw_object *target = t->v.obj;
    mw_incref(target); // creating the hash may not move it, but be safe
    srv_hash *h = (srv_hash *)lookup_or_create(x, 1, &srv_hash_type);
    if (h == NULL) {
        mw_decref(target);
        return;
    }
    int r = hash_put(x, h, 2, target);
    if (r >= 0) {
        srv_reply_int(x->out, r);
    }
}

static void cmd_ref_get(ctx *x)
{
    cmd_hget(x);
}

/* ======================================================================
 * Sets
 * ====================================================================== */

static void cmd_sadd(ctx *x)
{
    srv_set *s = (srv_set *)lookup_or_create(x, 1, &srv_set_type);
    if (s == NULL) {
        return;
    }
    long long added = 0;
    for (size_t i = 2; i < x->argc; i++) {
        uint64_t h = srv_hash_bytes(x->argv[i], x->argl[i]);
        if (srv_dict_find(&s->d, x->argv[i], x->argl[i], h) != NULL) {
            continue;
        }
        if (srv_dict_add(&s->d, x->argv[i], x->argl[i], h) == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            drop_if_empty(x, 1, &s->ob);
            return;
        }
        added++;
    }
    srv_reply_int(x->out, added);
}

static void cmd_srem(ctx *x)
{
    mw_object *o;
    int r = lookup(x, 1, &srv_set_type, &o);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    srv_set *s = (srv_set *)o;
    long long n = 0;
    for (size_t i = 2; i < x->argc; i++) {
        srv_entry *e = srv_dict_find(&s->d, x->argv[i], x->argl[i],
                                     srv_hash_bytes(x->argv[i], x->argl[i]));
        if (e != NULL) {
            srv_dict_remove(&s->d, e);
            n++;
        }
    }
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, n);
}

typedef struct int_member {
    long long v;
    srv_entry *e;
} int_member;

static int cmp_int_member(const void *a, const void *b)
{
    long long x = ((const int_member *)a)->v, y = ((const int_member *)b)->v;
    return x < y ? -1 : x > y;
}

static void cmd_smembers(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_set *s = (srv_set *)o;
    srv_reply_array(x->out, (long long)s->d.count);
    // Redis keeps a small set of integers sorted (an intset) and replies in
    // that order; do the same so replies compare equal.
    int_member *ints = NULL;
    if (s->d.count <= 512) {
        ints = malloc(s->d.count * sizeof *ints + 1);
        size_t k = 0;
        for (srv_entry *e = s->d.first; ints != NULL && e != NULL; e = e->onext, k++) {
            if (!srv_str2ll(e->key, e->klen, &ints[k].v)) {
                free(ints);
                ints = NULL;
                break;
            }
            ints[k].e = e;
        }
    }
    if (ints != NULL) {
        qsort(ints, s->d.count, sizeof *ints, cmp_int_member);
        for (size_t k = 0; k < s->d.count; k++) {
            srv_reply_bulk(x->out, ints[k].e->key, ints[k].e->klen);
        }
        free(ints);
        return;
    }
    for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
        srv_reply_bulk(x->out, e->key, e->klen);
    }
}

static void cmd_sismember(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 && srv_dict_find(&((srv_set *)o)->d, x->argv[2], x->argl[2],
                                                     srv_hash_bytes(x->argv[2], x->argl[2])) != NULL);
    }
}

static void cmd_scard(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_set_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_set *)o)->d.count : 0);
    }
}

static void cmd_spop(ctx *x)
{
    long long count = -1;
    if (x->argc > 3) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (x->argc == 3 && (!srv_str2ll(x->argv[2], x->argl[2], &count) || count < 0)) {
        srv_reply_error(x->out, E_POSITIVE);
        return;
    }
    mw_object *o;
    int r = lookup(x, 1, &srv_set_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (count >= 0) {
            srv_buf_append(x->out, "*0\r\n", 4);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_set *s = (srv_set *)o;
    mw_incref(o);
    size_t n = count < 0 ? 1 : ((size_t)count < s->d.count ? (size_t)count : s->d.count);
    if (count >= 0) {
        srv_reply_array(x->out, (long long)n);
    }
    for (size_t i = 0; i < n; i++) {
        srv_entry *e = srv_dict_random(&s->d);
        srv_reply_bulk(x->out, e->key, e->klen);
        srv_dict_remove(&s->d, e);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

/* ======================================================================
 * Sorted sets
 * ====================================================================== */

static void cmd_zadd(ctx *x)
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

static void cmd_zincrby(ctx *x)
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
    if (srv_zset_add(z, x->argv[3], x->argl[3], ns) < 0) {
        srv_reply_error(x->out, E_NOMEM);
        drop_if_empty(x, 1, &z->ob);
        return;
    }
    srv_reply_double(x->out, ns);
}

static void cmd_zrem(ctx *x)
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
    drop_if_empty(x, 1, o);
    srv_reply_int(x->out, n);
}

static void cmd_zscore(ctx *x)
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

static void cmd_zcard(ctx *x)
{
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)((srv_zset *)o)->len : 0);
    }
}

static void cmd_zrank(ctx *x)
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

/* ZRANGE key start stop [REV] [WITHSCORES] (index ranges only) */
static void cmd_zrange(ctx *x)
{
    bool scores = false, rev = false;
    for (size_t i = 4; i < x->argc; i++) {
        if (arg_is(x, i, "WITHSCORES")) {
            scores = true;
        } else if (arg_is(x, i, "REV")) {
            rev = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    long long start, stop;
    if (!arg_ll(x, 2, &start) || !arg_ll(x, 3, &stop)) {
        return;
    }
    mw_object *o;
    int r = lookup_read(x, 1, &srv_zset_type, &o);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    srv_zset *z = (srv_zset *)o;
    long long len = (long long)z->len;
    if (!range_clamp(len, &start, &stop)) {
        srv_buf_append(x->out, "*0\r\n", 4);
        return;
    }
    long long n = stop - start + 1;
    srv_reply_array(x->out, scores ? n * 2 : n);
    srv_znode *node = srv_zset_at(z, (size_t)(rev ? len - 1 - start : start));
    for (long long k = 0; k < n && node != NULL; k++) {
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        if (scores) {
            srv_reply_double(x->out, node->score);
        }
        node = rev ? node->back : node->level[0].fwd;
    }
}

static void cmd_zpopmin(ctx *x)
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
    srv_reply_array(x->out, (long long)n * 2);
    for (size_t i = 0; i < n; i++) {
        srv_znode *node = z->header->level[0].fwd;
        srv_reply_bulk(x->out, node->entry->key, node->entry->klen);
        srv_reply_double(x->out, node->score);
        srv_zset_del(z, node->entry->key, node->entry->klen);
    }
    drop_if_empty(x, 1, o);
    mw_decref(o);
}

/* ======================================================================
 * The table and dispatch
 * ====================================================================== */

static const srv_cmd cmd_table[] = {
    {"ping", cmd_ping, -1, 0, K_NONE},
    {"echo", cmd_echo, 2, 0, K_NONE},
    {"quit", cmd_quit, -1, F_NOAUTH, K_NONE},
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
    {"lpush", cmd_lpush, -3, F_WRITE, K_1},
    {"rpush", cmd_rpush, -3, F_WRITE, K_1},
    {"lpop", cmd_lpop, -2, 0, K_1},
    {"rpop", cmd_rpop, -2, 0, K_1},
    {"lrange", cmd_lrange, 4, 0, K_1},
    {"llen", cmd_llen, 2, 0, K_1},
    {"lindex", cmd_lindex, 3, 0, K_1},
    {"lset", cmd_lset, 4, F_WRITE, K_1},
    {"lrem", cmd_lrem, 4, 0, K_1},
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
    {"sadd", cmd_sadd, -3, F_WRITE, K_1},
    {"srem", cmd_srem, -3, 0, K_1},
    {"smembers", cmd_smembers, 2, 0, K_1},
    {"sismember", cmd_sismember, 3, 0, K_1},
    {"scard", cmd_scard, 2, 0, K_1},
    {"spop", cmd_spop, -2, 0, K_1},
    {"zadd", cmd_zadd, -4, F_WRITE, K_1},
    {"zrem", cmd_zrem, -3, 0, K_1},
    {"zscore", cmd_zscore, 3, 0, K_1},
    {"zcard", cmd_zcard, 2, 0, K_1},
    {"zrange", cmd_zrange, -4, 0, K_1},
    {"zrank", cmd_zrank, 3, 0, K_1},
    {"zincrby", cmd_zincrby, 4, F_WRITE, K_1},
    {"zpopmin", cmd_zpopmin, -2, 0, K_1},
    {"ref.set", cmd_ref_set, 4, F_WRITE, {1, 3, 2, SRV_ROUTE_KEYS}},
    {"ref.get", cmd_ref_get, 3, 0, K_1},
    {"gc.collect", cmd_gc_collect, -1, 0, K_ALL(SRV_ROUTE_ALL_SUM)},
    {"gc.stats", cmd_gc_stats, 1, 0, K_NONE},
    {"gc.policy", cmd_gc_policy, -1, 0, K_NONE},
};

static size_t cmd_count(void)
{
    return sizeof cmd_table / sizeof cmd_table[0];
}

#define CMD_SLOTS 256
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

void srv_execute(srv_conn *conn, size_t argc, const char **argv, const size_t *argl)
{
    ctx x = {.c = conn, .out = srv_conn_out(conn), .argc = argc, .argv = argv, .argl = argl};
    const srv_cmd *c = find_cmd(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);
        return;
    }
    if ((c->arity > 0 && (long)argc != c->arity) || (c->arity < 0 && (long)argc < -c->arity)) {
        srv_reply_errorf(x.out, "ERR wrong number of arguments for '%s' command", c->name);
        return;
    }
    if (!conn->authed && !(c->flags & F_NOAUTH) && atomic_load(&srv.has_pass)) {
        srv_reply_error(x.out, "NOAUTH Authentication required.");
        return;
    }
    if (c->flags & F_WRITE) {
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
    c->fn(&x);
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
}

void srv_execute_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                        const size_t *argl)
{
    ctx x = {.c = conn, .out = out, .argc = argc, .argv = argv, .argl = argl};
    const srv_cmd *c = find_cmd(argv[0], argl[0]);
    if (c == NULL) {
        unknown_command(&x);  // cannot happen: the sender looked it up
        return;
    }
    c->fn(&x);
#if SRV_DEBUG >= 2
    srv_ks_validate();
#endif
}
