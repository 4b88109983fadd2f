/*
 * server/cmd_server.c - connection and server commands: PING, AUTH, HELLO, CLIENT,
 * CONFIG, INFO and the collector's GC.*.
 *
 * The command table that names them, and what the helpers they share do,
 * are in commands.c; cmd.h declares both.
 *
 * HELLO switches the connection's protocol (conn->resp); from the next
 * reply on, the encoder writes RESP3 for it (resp.c).  CLIENT LIST, INFO
 * and KILL reach the clients of every worker through net.c's registry,
 * under its lock, reading only what the registry lets other threads read.
 * INFO writes Redis 7.0's sections in Redis's order, then mwrt's own (gc,
 * shards); its figures come from atomics and per-worker counters, so INFO
 * takes no lock that a command holds (the statistics' lock of commands.c
 * and the registry's are held for a copy only).
 */
#include "cmd.h"
#include "rdb.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/utsname.h>

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

/* RESET: the connection as a new one would be (Redis 7.0's list): the
 * transaction and watched keys dropped, every subscription and MONITOR
 * ended (messages already published are delivered first), database 0,
 * RESP2, CLIENT REPLY ON, no name, NO-EVICT off, and not authenticated
 * when a password is set. */
void cmd_reset(ctx *x)
{
    srv_conn *c = x->c;
    srv_multi_conn_free(c);
    if (c->ps != NULL) {
        srv_pubsub_drain(c->w);
        srv_pubsub_conn_gone(c);
    }
    c->db = 0;
    atomic_store_explicit(&c->pub_db, 0, memory_order_relaxed);
    srv_ks_use(0);
    c->resp = 2;
    atomic_store_explicit(&c->pub_resp, 2, memory_order_relaxed);
    x->out->resp3 = false;
    c->reply_off = c->reply_skip = c->reply_skip_next = false;
    c->no_evict = false;
    srv_conn_set_name(c, NULL, 0);
    c->authed = !atomic_load(&srv.has_pass);
    srv_reply_status(x->out, "RESET");
}

/* ROLE: always a master without replicas (there is no replication). */
void cmd_role(ctx *x)
{
    srv_reply_array(x->out, 3);
    srv_reply_bulk(x->out, "master", 6);
    srv_reply_int(x->out, 0);
    srv_reply_array(x->out, 0);
}

/* A timeout in milliseconds at argument i, Redis's texts for a bad one;
 * false after replying. */
static bool ms_arg(ctx *x, size_t i, long long *ms)
{
    if (!srv_str2ll(x->argv[i], x->argl[i], ms)) {
        srv_reply_error(x->out, "ERR timeout is not an integer or out of range");
        return false;
    }
    if (*ms < 0) {
        srv_reply_error(x->out, "ERR timeout is negative");
        return false;
    }
    return true;
}

/* WAIT numreplicas timeout: how many replicas acknowledged this client's
 * writes, which with no replication is 0.  As in Redis, 0 wanted (or
 * inside MULTI) answers at once; more waits out the timeout
 * (milliseconds, 0: for ever), a blocked client that CLIENT UNBLOCK
 * ends too. */
void cmd_wait(ctx *x)
{
    long long want, ms;
    if (!arg_ll(x, 1, &want)) {
        return;
    }
    if (!ms_arg(x, 2, &ms)) {
        return;
    }
    if (ms > LLONG_MAX - srv_now_ms()) {
        srv_reply_error(x->out, "ERR timeout is out of range");
        return;
    }
    if (want <= 0) {
        srv_reply_int(x->out, 0);
        return;
    }
    uint64_t now = srv_mono_us();
    uint64_t deadline = ms == 0 ? 0
                        : (uint64_t)ms > (UINT64_MAX - now) / 1000 ? UINT64_MAX
                                                                    : now + (uint64_t)ms * 1000;
    srv_blk_spec spec = {.kind = SRV_BLK_WAIT};
    block_on_keys(x, &spec, 1, 0, deadline);
}

/* MODULE LIST | LOAD | LOADEX | UNLOAD | HELP: Redis's modules are built
 * against Redis's own module API, which this server does not offer, so
 * none is ever loaded: LIST is empty, and LOAD and UNLOAD answer what
 * Redis answers by default (enable-module-command no). */
void cmd_module(ctx *x)
{
    static const char *const help[] = {
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LIST",
        "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and optional arguments.",
        "UNLOAD <name>",
        "    Unload a module.",
        "HELP",
        "    Prints this help.",
    };
    if (arg_is(x, 1, "LIST") && x->argc == 2) {
        srv_reply_array(x->out, 0);
    } else if (((arg_is(x, 1, "LOAD") || arg_is(x, 1, "LOADEX")) && x->argc >= 3) ||
               (arg_is(x, 1, "UNLOAD") && x->argc == 3)) {
        srv_reply_error(x->out, "ERR MODULE command not allowed. If the enable-module-command "
                                "option is set to \"local\", you can run it from a local "
                                "connection, otherwise you need to set this option in the "
                                "configuration file, and then restart the server.");
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        srv_reply_array(x->out, (long long)(sizeof help / sizeof help[0]));
        for (size_t i = 0; i < sizeof help / sizeof help[0]; i++) {
            srv_reply_status(x->out, help[i]);
        }
    } else {
        cmd_unknown_subcommand(x, "MODULE");
    }
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stop as SIGTERM does (no
 * new clients, replies in flight finished, the runtime freed), without a
 * reply to this client, whose connection closes.  With SAVE, or with save
 * points and no NOSAVE, the snapshot is written as the workers stop; a
 * shutdown is never in progress for ABORT to cancel. */
void cmd_shutdown(ctx *x)
{
    bool save = false, nosave = false, abort = false;
    for (size_t i = 1; i < x->argc; i++) {
        if (arg_is(x, i, "NOSAVE")) {
            nosave = true;
        } else if (arg_is(x, i, "SAVE")) {
            save = true;
        } else if (arg_is(x, i, "NOW") || arg_is(x, i, "FORCE")) {
            // No replicas to wait for, no save to force past.
        } else if (arg_is(x, i, "ABORT")) {
            abort = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if ((abort && x->argc != 2) || (save && nosave)) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (abort) {
        srv_reply_error(x->out, "ERR No shutdown in progress.");
        return;
    }
    // SAVE, or save points without NOSAVE: every shard's owner adds its
    // part as it stops and the last writes the file (rdb.c).
    srv_rdb_save_at_stop(save || (!nosave && srv_rdb_has_save_points()));
    srv_log("SHUTDOWN from client id=%llu", (unsigned long long)x->c->id);
    x->c->close_after_write = true;
    kill(getpid(), SIGTERM);    // the main loop's handler stops the server
}

void cmd_select(ctx *x)
{
    long long db;
    if (!arg_ll(x, 1, &db)) {
        return;
    }
    if (db < 0 || db >= srv.ndb) {
        srv_reply_error(x->out, "ERR DB index is out of range");
        return;
    }
    if (srv.cfg.sharded && srv_self != NULL && x->c == srv_self->proxy && !x->c->in_script) {
        // Run for another worker: the client's own connection would not
        // follow.  Transactions never send it (keyless commands of a queue
        // run on the client's worker, cmd_multi.c); this is a safety net.
        srv_reply_error(x->out, "ERR SELECT inside MULTI is not supported by the sharded keyspace");
        return;
    }
    x->c->db = (int)db;
    atomic_store_explicit(&x->c->pub_db, (int)db, memory_order_relaxed);
    srv_ks_use((int)db);     // the rest of a transaction runs there too
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

static bool name_ok(const char *p, size_t n);
static const char *const E_BADNAME =
    "ERR Client names cannot contain spaces, newlines or special characters.";

/* HELLO [protover [AUTH user pass] [SETNAME name]]: switch the protocol
 * (2 or 3), authenticate, name the connection, and describe the server as
 * a map.  Redis's order: the version, then every option is checked, then
 * AUTH, then the name is set, and the protocol switched last. */
void cmd_hello(ctx *x)
{
    size_t i = 1;
    long long ver = 0;
    if (x->argc >= 2) {
        if (!srv_str2ll(x->argv[1], x->argl[1], &ver)) {
            srv_reply_error(x->out, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            srv_reply_error(x->out, "NOPROTO unsupported protocol version");
            return;
        }
        i = 2;
    }
    const char *name = NULL, *user = NULL, *pass = NULL;
    size_t namelen = 0, userlen = 0, passlen = 0;
    for (; i < x->argc; i++) {
        size_t more = x->argc - 1 - i;
        if (arg_is(x, i, "AUTH") && more >= 2) {
            user = x->argv[i + 1];
            userlen = x->argl[i + 1];
            pass = x->argv[i + 2];
            passlen = x->argl[i + 2];
            i += 2;
        } else if (arg_is(x, i, "SETNAME") && more >= 1) {
            name = x->argv[i + 1];
            namelen = x->argl[i + 1];
            if (!name_ok(name, namelen)) {
                srv_reply_error(x->out, E_BADNAME);
                return;
            }
            i++;
        } else {
            srv_reply_errorf(x->out, "ERR Syntax error in HELLO option '%.*s'",
                             (int)(x->argl[i] > 128 ? 128 : x->argl[i]), x->argv[i]);
            return;
        }
    }
    if (user != NULL) {
        if (!(userlen == 7 && strncasecmp(user, "default", 7) == 0) ||
            check_pass(pass, passlen) == 0) {
            srv_log_limited("client %lld (%s): wrong password", x->c->id, x->c->addr);
            srv_reply_error(x->out, "WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        x->c->authed = true;
        x->c->parser.unauth = false;
    }
    if (atomic_load(&srv.has_pass) && !x->c->authed) {
        srv_reply_error(x->out, "NOAUTH HELLO must be called with the client already "
                        "authenticated, otherwise the HELLO AUTH <user> <pass> "
                        "option can be used to authenticate the client and select the "
                        "RESP protocol version at the same time");
        return;
    }
    if (name != NULL && !srv_conn_set_name(x->c, name, namelen)) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    if (ver != 0) {
        x->c->resp = (int)ver;
        atomic_store_explicit(&x->c->pub_resp, (int)ver, memory_order_relaxed);
        x->out->resp3 = ver == 3;  // this reply is the first in the new protocol
    }
    srv_buf *o = x->out;
    srv_reply_map(o, 7);
    srv_reply_bulk(o, "server", 6);
    srv_reply_bulk(o, "mwrt", 4);
    srv_reply_bulk(o, "version", 7);
    srv_reply_bulk(o, SRV_REDIS_VERSION, strlen(SRV_REDIS_VERSION));
    srv_reply_bulk(o, "proto", 5);
    srv_reply_int(o, x->c->resp);
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

/* ---------------------------------------------------------------- CLIENT
 *
 * Clients live on several workers; CLIENT LIST, INFO and KILL reach them
 * through the registry (net.c: srv_clients_each, under its lock), reading
 * only what the registry says may be read from another thread, and
 * killing through the owner's loop (srv_conn_kill). */

static const char *const client_help[] = {
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
};

/* Client types of LIST and KILL: normal or pubsub (no replication). */
enum { CT_ANY = -1, CT_NORMAL, CT_MASTER, CT_REPLICA, CT_PUBSUB };

static int client_type(ctx *x, size_t i)
{
    if (arg_is(x, i, "normal")) {
        return CT_NORMAL;
    }
    if (arg_is(x, i, "master")) {
        return CT_MASTER;
    }
    if (arg_is(x, i, "replica") || arg_is(x, i, "slave")) {
        return CT_REPLICA;
    }
    if (arg_is(x, i, "pubsub")) {
        return CT_PUBSUB;
    }
    srv_reply_errorf(x->out, "ERR Unknown client type '%.*s'",
                     (int)(x->argl[i] > 128 ? 128 : x->argl[i]), x->argv[i]);
    return -2;
}

/* One CLIENT LIST line for c (Redis 7.0's fields), ended by "\n".  Runs
 * under the registry lock; self is the connection asking. */
static void client_line(srv_buf *b, srv_conn *c, ctx *self)
{
    int64_t now = srv_now_ms();
    size_t qbuf, qfree, obl, omem, argvmem = 0;
    srv_conn_buffers(c, &qbuf, &qfree, &obl, &omem);
    const char *cmd = atomic_load_explicit(&c->last_cmd, memory_order_relaxed);
    for (size_t i = 0; c == self->c && i < self->argc; i++) {
        argvmem += self->argl[i];  // the request running now
    }
    // Subscriptions and flags are the owner's to read: shown for the
    // asking worker's clients (others show none).
    long long subs[3] = {0, 0, 0};
    char flags[8], *f = flags;
    if (c->w == srv_self) {
        srv_pubsub_counts(c, subs);
        if (subs[0] + subs[1] + subs[2] > 0) {
            *f++ = 'P';
        }
        if (c->no_evict) {
            *f++ = 'e';
        }
    }
    if (f == flags) {
        *f++ = 'N';
    }
    *f = '\0';
    char line[1024];
    int n = snprintf(line, sizeof line,
        "id=%lld addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%lld "
        "psub=%lld ssub=%lld multi=-1 qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=0 "
        "obl=%zu oll=0 omem=%zu tot-mem=%zu events=r cmd=%s user=default redir=-1 resp=%d\n",
        c->id, c->addr, c->laddr, c->fd, c->name != NULL ? c->name : "",
        (long long)((now - c->created_ms) / 1000),
        (long long)((now - atomic_load_explicit(&c->last_ms, memory_order_relaxed)) / 1000),
        flags, atomic_load_explicit(&c->pub_db, memory_order_relaxed), subs[0], subs[1], subs[2],
        qbuf, qfree, argvmem, qbuf + qfree, obl, omem,
        sizeof *c + qbuf + qfree + obl + omem + argvmem, cmd,
        atomic_load_explicit(&c->pub_resp, memory_order_relaxed));
    if (n > 0) {
        srv_buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
}

typedef struct client_filter {
    ctx *x;
    srv_buf *b;                 /* LIST: the text */
    int type;                   /* CT_ANY or one */
    const long long *ids;       /* LIST ID / KILL ID: NULL for any */
    size_t nids;
    const char *addr, *laddr;   /* KILL ADDR / LADDR, NUL-ended; NULL any */
    bool skipme;
    long long killed;
} client_filter;

static bool client_matches(client_filter *f, srv_conn *c)
{
    // A subscriber is of type pubsub, any other client normal (only the
    // asking worker's subscribers are known: others count as normal).
    int type = c->w == srv_self && srv_pubsub_count(c) > 0 ? CT_PUBSUB : CT_NORMAL;
    if (f->type != CT_ANY && f->type != type) {
        return false;
    }
    if (f->ids != NULL) {
        bool hit = false;
        for (size_t i = 0; i < f->nids; i++) {
            hit = hit || f->ids[i] == c->id;
        }
        if (!hit) {
            return false;
        }
    }
    return (f->addr == NULL || strcmp(f->addr, c->addr) == 0) &&
           (f->laddr == NULL || strcmp(f->laddr, c->laddr) == 0);
}

static void client_list_one(srv_conn *c, void *arg)
{
    client_filter *f = arg;
    if (client_matches(f, c)) {
        client_line(f->b, c, f->x);
    }
}

static void client_kill_one(srv_conn *c, void *arg)
{
    client_filter *f = arg;
    if (client_matches(f, c) && !(f->skipme && c == f->x->c)) {
        srv_conn_kill(c, f->x->c);
        f->killed++;
    }
}

static void reply_text(ctx *x, srv_buf *b)
{
    if (b->oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_verbatim(x->out, b->data != NULL ? b->data : "", b->len);
    }
    srv_buf_free(b);
}

static void client_list(ctx *x)
{
    client_filter f = {.x = x, .type = CT_ANY};
    long long *ids = NULL;
    size_t i = 2;
    if (x->argc >= 4 && arg_is(x, 2, "TYPE") && x->argc == 4) {
        if ((f.type = client_type(x, 3)) == -2) {
            return;
        }
        i = 4;
    } else if (x->argc >= 4 && arg_is(x, 2, "ID")) {
        ids = malloc((x->argc - 3) * sizeof *ids);
        if (ids == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        for (size_t k = 3; k < x->argc; k++) {
            if (!srv_str2ll(x->argv[k], x->argl[k], &ids[k - 3]) || ids[k - 3] < 0) {
                free(ids);
                srv_reply_error(x->out, "ERR Invalid client ID");
                return;
            }
        }
        f.ids = ids;
        f.nids = x->argc - 3;
        i = x->argc;
    }
    if (i != x->argc) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    srv_buf b = {0};
    f.b = &b;
    srv_clients_each(client_list_one, &f);
    free(ids);
    reply_text(x, &b);
}

/* CLIENT KILL addr (the old form: +OK or no such client), or CLIENT KILL
 * with filters (how many were killed). */
static void client_kill(ctx *x)
{
    char addr[64], laddr[64];
    long long id = 0;
    client_filter f = {.x = x, .type = CT_ANY, .skipme = true};
    if (x->argc == 3) {
        snprintf(addr, sizeof addr, "%.*s", (int)(x->argl[2] > 63 ? 63 : x->argl[2]), x->argv[2]);
        f.addr = addr;
        f.skipme = false;
        srv_clients_each(client_kill_one, &f);
        if (f.killed == 0) {
            srv_reply_error(x->out, "ERR No such client");
        } else {
            srv_buf_append(x->out, "+OK\r\n", 5);
        }
        return;
    }
    if (x->argc % 2 != 0) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    for (size_t i = 2; i < x->argc; i += 2) {
        size_t vi = i + 1;
        int vn = (int)(x->argl[vi] > 63 ? 63 : x->argl[vi]);
        if (arg_is(x, i, "ID")) {
            if (!srv_str2ll(x->argv[vi], x->argl[vi], &id) || id <= 0) {
                srv_reply_error(x->out, "ERR client-id should be greater than 0");
                return;
            }
            f.ids = &id;
            f.nids = 1;
        } else if (arg_is(x, i, "TYPE")) {
            if ((f.type = client_type(x, vi)) == -2) {
                return;
            }
        } else if (arg_is(x, i, "ADDR")) {
            snprintf(addr, sizeof addr, "%.*s", vn, x->argv[vi]);
            f.addr = addr;
        } else if (arg_is(x, i, "LADDR")) {
            snprintf(laddr, sizeof laddr, "%.*s", vn, x->argv[vi]);
            f.laddr = laddr;
        } else if (arg_is(x, i, "USER")) {
            if (!arg_is(x, vi, "default")) {
                srv_reply_errorf(x->out, "ERR No such user '%.*s'", vn, x->argv[vi]);
                return;
            }
        } else if (arg_is(x, i, "SKIPME")) {
            if (arg_is(x, vi, "yes")) {
                f.skipme = true;
            } else if (arg_is(x, vi, "no")) {
                f.skipme = false;
            } else {
                srv_reply_error(x->out, E_SYNTAX);
                return;
            }
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    srv_clients_each(client_kill_one, &f);
    srv_reply_int(x->out, f.killed);
}

static bool client_arity(ctx *x, size_t want, const char *sub)
{
    if (x->argc != want) {
        srv_reply_errorf(x->out, "ERR wrong number of arguments for 'client|%s' command", sub);
        return false;
    }
    return true;
}

/* CLIENT PAUSE timeout [WRITE|ALL] and UNPAUSE (client_pause.c-like
 * state is in net.c: srv_pause). */
static void client_pause(ctx *x)
{
    long long ms;
    if (x->argc < 3 || x->argc > 4) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'client|pause' command");
        return;
    }
    if (!ms_arg(x, 2, &ms)) {
        return;
    }
    bool all = true;
    if (x->argc == 4) {
        if (arg_is(x, 3, "WRITE")) {
            all = false;
        } else if (!arg_is(x, 3, "ALL")) {
            srv_reply_error(x->out, "ERR CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    srv_pause(ms, all);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* Record the full name of a container's subcommand ("client|list") as
 * the connection's last command, as CLIENT LIST shows it; names is the
 * container's list of full names (static). */
static void note_subcommand(ctx *x, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n && x->argc >= 2; i++) {
        const char *sub = strchr(names[i], '|') + 1;
        if (arg_is(x, 1, sub)) {
            atomic_store_explicit(&x->c->last_cmd, names[i], memory_order_relaxed);
            return;
        }
    }
}

static const char *const client_subs[] = {
    "client|id", "client|getname", "client|setname", "client|list", "client|info",
    "client|kill", "client|reply", "client|no-evict", "client|pause", "client|unpause",
    "client|tracking", "client|caching", "client|trackinginfo", "client|getredir",
    "client|unblock", "client|help"};

void cmd_client(ctx *x)
{
    srv_conn *c = x->c;
    note_subcommand(x, client_subs, sizeof client_subs / sizeof client_subs[0]);
    if (arg_is(x, 1, "ID")) {
        if (client_arity(x, 2, "id")) {
            srv_reply_int(x->out, c->id);
        }
    } else if (arg_is(x, 1, "GETNAME")) {
        if (!client_arity(x, 2, "getname")) {
            return;
        }
        if (c->name == NULL) {
            srv_reply_null(x->out);
        } else {
            srv_reply_bulk(x->out, c->name, strlen(c->name));
        }
    } else if (arg_is(x, 1, "SETNAME")) {
        if (!client_arity(x, 3, "setname")) {
            return;
        }
        if (!name_ok(x->argv[2], x->argl[2])) {
            srv_reply_error(x->out, E_BADNAME);
        } else if (!srv_conn_set_name(c, x->argv[2], x->argl[2])) {
            srv_reply_error(x->out, E_NOMEM);
        } else {
            srv_buf_append(x->out, "+OK\r\n", 5);
        }
    } else if (arg_is(x, 1, "LIST")) {
        client_list(x);
    } else if (arg_is(x, 1, "INFO")) {
        if (!client_arity(x, 2, "info")) {
            return;
        }
        srv_buf b = {0};
        pthread_mutex_lock(&srv_clients_lock);  // client_line reads the name
        client_line(&b, c, x);
        pthread_mutex_unlock(&srv_clients_lock);
        reply_text(x, &b);
    } else if (arg_is(x, 1, "KILL")) {
        if (x->argc < 3) {
            srv_reply_error(x->out, "ERR wrong number of arguments for 'client|kill' command");
            return;
        }
        client_kill(x);
    } else if (arg_is(x, 1, "REPLY")) {
        if (!client_arity(x, 3, "reply")) {
            return;
        }
        if (arg_is(x, 2, "ON")) {
            c->reply_off = false;
            c->reply_skip = false;
            c->reply_skip_next = false;
            srv_buf_append(x->out, "+OK\r\n", 5);
        } else if (arg_is(x, 2, "OFF")) {
            c->reply_off = true;   // no reply, from this one on
        } else if (arg_is(x, 2, "SKIP")) {
            if (!c->reply_off) {
                c->reply_skip_next = true;
            }
        } else {
            srv_reply_error(x->out, E_SYNTAX);
        }
    } else if (arg_is(x, 1, "NO-EVICT")) {
        if (!client_arity(x, 3, "no-evict")) {
            return;
        }
        if (arg_is(x, 2, "ON") || arg_is(x, 2, "OFF")) {
            c->no_evict = arg_is(x, 2, "ON");
            srv_buf_append(x->out, "+OK\r\n", 5);
        } else {
            srv_reply_error(x->out, E_SYNTAX);
        }
    } else if (arg_is(x, 1, "PAUSE")) {
        client_pause(x);
    } else if (arg_is(x, 1, "UNPAUSE")) {
        if (client_arity(x, 2, "unpause")) {
            srv_pause(0, false);
            srv_buf_append(x->out, "+OK\r\n", 5);
        }
    } else if (arg_is(x, 1, "TRACKING") || arg_is(x, 1, "CACHING") ||
               arg_is(x, 1, "TRACKINGINFO") || arg_is(x, 1, "GETREDIR")) {
        srv_reply_error(x->out, "ERR client-side caching (CLIENT TRACKING) is not supported");
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        size_t n = sizeof client_help / sizeof client_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, client_help[i]);
        }
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

static const char *const config_help[] = {
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Print this help.",
};

void cmd_config(ctx *x)
{
    static const char *const subs[] = {"config|get", "config|set", "config|resetstat",
                                       "config|rewrite", "config|help"};
    note_subcommand(x, subs, sizeof subs / sizeof subs[0]);
    if (arg_is(x, 1, "GET")) {
        cmd_config_get(x);
    } else if (arg_is(x, 1, "SET")) {
        cmd_config_set(x);
    } else if (arg_is(x, 1, "REWRITE") && x->argc == 2) {
        cmd_config_rewrite(x);
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        size_t n = sizeof config_help / sizeof config_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, config_help[i]);
        }
    } else if (arg_is(x, 1, "RESETSTAT") && x->argc == 2) {
        srv_ks_reset_stats();
        srv_stats_reset();
        atomic_store(&srv_evicted_keys, 0);
        mw_gc_reset_stats();
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else {
        cmd_unknown_subcommand(x, "CONFIG");
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

/* "1.23M" as Redis's bytesToHuman. */
static void human(char *dst, size_t cap, double n)
{
    static const char units[] = "BKMGTPE";
    int u = 0;
    while (n >= 1024 && u < 6) {
        n /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(dst, cap, "%.0fB", n);
    } else {
        snprintf(dst, cap, "%.2f%c", n, units[u]);
    }
}

/* A run id for INFO: 40 hex digits drawn once from the hash seed. */
static char run_id_text[41];
static pthread_once_t run_id_once = PTHREAD_ONCE_INIT;

static void run_id_fill(void)
{
    uint64_t h = srv.hash_seed[0] ^ (uint64_t)srv.start_ms;
    for (int i = 0; i < 40; i++) {
        h = h * 6364136223846793005ull + (srv.hash_seed[1] | 1);
        run_id_text[i] = "0123456789abcdef"[(h >> 59) & 15];
    }
    run_id_text[40] = '\0';
}

static const char *run_id(void)
{
    pthread_once(&run_id_once, run_id_fill);
    return run_id_text;
}

static void info_server(srv_buf *b)
{
    struct utsname u;
    if (uname(&u) != 0) {
        memset(&u, 0, sizeof u);
    }
    char exe[512] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    int64_t now = srv_now_ms();
    int64_t up = (now - srv.start_ms) / 1000;
    info_line(b, "# Server");
    info_line(b, "redis_version:%s", SRV_REDIS_VERSION);
    info_line(b, "redis_git_sha1:00000000");
    info_line(b, "redis_git_dirty:0");
    info_line(b, "redis_build_id:0");
    info_line(b, "redis_mode:standalone");
    info_line(b, "os:%s %s %s", u.sysname, u.release, u.machine);
    info_line(b, "arch_bits:%d", (int)(sizeof(void *) * 8));
    info_line(b, "monotonic_clock:POSIX clock_gettime");
    info_line(b, "multiplexing_api:libuv %s", uv_version_string());
    info_line(b, "atomicvar_api:c11-builtin");
#ifdef __VERSION__
    info_line(b, "gcc_version:%d.%d.%d", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    info_line(b, "process_id:%ld", (long)getpid());
    info_line(b, "process_supervised:no");
    info_line(b, "run_id:%s", run_id());
    info_line(b, "tcp_port:%lld", srv.cfg.port);
    info_line(b, "server_time_usec:%lld", (long long)now * 1000);
    info_line(b, "uptime_in_seconds:%lld", (long long)up);
    info_line(b, "uptime_in_days:%lld", (long long)(up / 86400));
    info_line(b, "hz:10");
    info_line(b, "configured_hz:10");
    info_line(b, "lru_clock:%lld", (long long)((now / 1000) & ((1 << 24) - 1)));
    info_line(b, "executable:%s", exe);
    info_line(b, "config_file:");
    info_line(b, "io_threads_active:0");
    info_line(b, "mwrt_server_version:%s", SRV_VERSION);
    info_line(b, "mwrt_version:%s", mw_version());
    info_line(b, "workers:%lld", srv.cfg.workers);
}

/* The peak of srv_memory_used seen by INFO and MEMORY (any thread). */
static _Atomic(size_t) memory_peak;

static size_t note_peak(size_t used)
{
    size_t p = atomic_load(&memory_peak);
    while (used > p && !atomic_compare_exchange_weak(&memory_peak, &p, used)) {
    }
    return used > p ? used : p;
}

static void stat_int(srv_buf *b, const char *name, long long v)
{
    srv_reply_bulk(b, name, strlen(name));
    srv_reply_int(b, v);
}

static void stat_double(srv_buf *b, const char *name, double v)
{
    srv_reply_bulk(b, name, strlen(name));
    srv_reply_double(b, v);
}

/* MEMORY STATS: Redis's fields, from the runtime's allocator.  The
 * per-database overheads are the keyspace entries' own bytes (the table
 * and its entries), the dataset what the allocator holds beyond them. */
static void memory_stats(ctx *x)
{
    mw_alloc_stats a;
    size_t small;
    size_t used = srv_memory_used(&a, &small);
    size_t peak = note_peak(used);
    size_t rss = rss_bytes();
    int withkeys = 0;
    long long keys = 0, overhead = 0;
    for (int db = 0; db < srv.ndb; db++) {
        srv_ks_totals t;
        srv_ks_get_db_totals(db, &t);
        if (t.keys > 0) {
            withkeys++;
            keys += t.keys;
        }
    }
    overhead = keys * (long long)sizeof(srv_entry);
    long long dataset = (long long)used > overhead ? (long long)used - overhead : 0;
    srv_reply_map(x->out, 27 + withkeys);
    stat_int(x->out, "peak.allocated", (long long)peak);
    stat_int(x->out, "total.allocated", (long long)used);
    stat_int(x->out, "startup.allocated", 0);
    stat_int(x->out, "replication.backlog", 0);
    stat_int(x->out, "clients.slaves", 0);
    stat_int(x->out, "clients.normal", 0);
    stat_int(x->out, "cluster.links", 0);
    stat_int(x->out, "aof.buffer", 0);
    stat_int(x->out, "lua.caches", 0);
    stat_int(x->out, "functions.caches", 0);
    for (int db = 0; db < srv.ndb; db++) {
        srv_ks_totals t;
        srv_ks_get_db_totals(db, &t);
        if (t.keys == 0) {
            continue;
        }
        char name[32];
        int n = snprintf(name, sizeof name, "db.%d", db);
        srv_reply_bulk(x->out, name, (size_t)n);
        srv_reply_map(x->out, 2);
        stat_int(x->out, "overhead.hashtable.main", t.keys * (long long)sizeof(srv_entry));
        stat_int(x->out, "overhead.hashtable.expires", 0);
    }
    stat_int(x->out, "overhead.total", overhead);
    stat_int(x->out, "keys.count", keys);
    stat_int(x->out, "keys.bytes-per-key", keys > 0 ? (long long)used / keys : 0);
    stat_int(x->out, "dataset.bytes", dataset);
    stat_double(x->out, "dataset.percentage", used ? 100.0 * (double)dataset / (double)used : 0);
    stat_double(x->out, "peak.percentage", peak ? 100.0 * (double)used / (double)peak : 0);
    stat_int(x->out, "allocator.allocated", (long long)used);
    stat_int(x->out, "allocator.active", (long long)a.bytes_committed);
    stat_int(x->out, "allocator.resident", (long long)a.bytes_from_os);
    double afrag = used ? (double)a.bytes_committed / (double)used : 0;
    stat_double(x->out, "allocator-fragmentation.ratio", afrag);
    stat_int(x->out, "allocator-fragmentation.bytes", (long long)a.bytes_committed - (long long)used);
    double arss = a.bytes_from_os ? (double)rss / (double)a.bytes_from_os : 0;
    stat_double(x->out, "allocator.rss-ratio", arss);
    stat_int(x->out, "allocator.rss-bytes", (long long)rss - (long long)a.bytes_from_os);
    stat_double(x->out, "rss-overhead.ratio", used ? (double)rss / (double)used : 0);
    stat_int(x->out, "rss-overhead.bytes", (long long)rss - (long long)used);
    stat_double(x->out, "fragmentation", used ? (double)rss / (double)used : 0);
    stat_int(x->out, "fragmentation.bytes", (long long)rss - (long long)used);
}

/* MEMORY DOCTOR: Redis's report, on the runtime's figures. */
static void memory_doctor(ctx *x)
{
    mw_alloc_stats a;
    size_t small;
    size_t used = srv_memory_used(&a, &small);
    size_t peak = note_peak(used);
    size_t rss = rss_bytes();
    char text[1024];
    if (used < 5 * 1024 * 1024) {
        snprintf(text, sizeof text, "Hi Sam, this instance is empty or is using very little "
                 "memory, my issues detector can't be used in these conditions. Please, leave "
                 "for your mission on Earth and fill it with some data. The new Sam and I will "
                 "be back to our programming as soon as I finished rebooting.");
    } else {
        double frag = (double)rss / (double)used;
        bool high_peak = peak > used + used / 2;
        bool high_frag = frag > 1.4;
        if (!high_peak && !high_frag) {
            snprintf(text, sizeof text, "Hi Sam, I can't find any memory issue in your "
                     "instance. I can only account for what occurs on this base.");
        } else {
            snprintf(text, sizeof text, "Sam, I detected a few issues in this instance memory "
                     "implants:\n\n%s%s\nI'm here to keep you safe, Sam. I want to help you.",
                     high_peak ? " * Peak memory: in the past this instance used more than "
                                 "150% the memory that is currently using. The allocator is "
                                 "normally not able to release memory after a peak, so you "
                                 "can expect to see a big fragmentation ratio.\n" : "",
                     high_frag ? " * High fragmentation: the resident set is more than 1.4 "
                                 "times the memory in use; MEMORY PURGE gives empty arenas "
                                 "back.\n" : "");
        }
    }
    srv_reply_verbatim(x->out, text, strlen(text));
}

/* MEMORY MALLOC-STATS: the runtime allocator's figures, as text. */
static void memory_malloc_stats(ctx *x)
{
    mw_alloc_stats a;
    size_t small;
    srv_memory_used(&a, &small);
    srv_buf b = {0};
    char line[400];
    int n = snprintf(line, sizeof line, "mwrt allocator: %zu arenas live (%zu bytes from the "
                     "OS, %zu committed), %zu pools in use, %zu free, %zu large blocks (%zu "
                     "bytes), %zu heaps\nclass block_size blocks_in_use pools\n", a.arenas_live,
                     a.bytes_from_os, a.bytes_committed, a.pools_in_use, a.pools_free,
                     a.large_in_use, a.large_bytes, a.heaps);
    srv_buf_append(&b, line, (size_t)n);
    for (int i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        const mw_alloc_class_stats *c = &a.classes[i];
        if (c->pools == 0 && c->blocks_in_use == 0) {
            continue;
        }
        n = snprintf(line, sizeof line, "%d %zu %zu %zu\n", i, c->block_size, c->blocks_in_use,
                     c->pools);
        srv_buf_append(&b, line, (size_t)n);
    }
    srv_reply_verbatim(x->out, b.data, b.len);
    srv_buf_free(&b);
}

bool srv_memory_command(ctx *x)
{
    if (arg_is(x, 1, "STATS") && x->argc == 2) {
        memory_stats(x);
    } else if (arg_is(x, 1, "DOCTOR") && x->argc == 2) {
        memory_doctor(x);
    } else if (arg_is(x, 1, "MALLOC-STATS") && x->argc == 2) {
        memory_malloc_stats(x);
    } else if (arg_is(x, 1, "PURGE") && x->argc == 2) {
        int r = mw_alloc_purge();
        (void)r;
        srv_reply_status(x->out, "OK");
    } else {
        return false;
    }
    return true;
}

static void info_memory(srv_buf *b)
{
    mw_alloc_stats a;
    size_t small;
    size_t used = srv_memory_used(&a, &small);
    size_t rss = rss_bytes();
    size_t p = note_peak(used);
    long long maxmem = atomic_load(&srv.maxmemory);
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    size_t total = pages > 0 && psize > 0 ? (size_t)pages * (size_t)psize : 0;
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    human(h1, sizeof h1, (double)used);
    human(h2, sizeof h2, (double)rss);
    human(h3, sizeof h3, (double)p);
    human(h4, sizeof h4, (double)total);
    human(h5, sizeof h5, (double)maxmem);
    info_line(b, "# Memory");
    info_line(b, "used_memory:%zu", used);
    info_line(b, "used_memory_human:%s", h1);
    info_line(b, "used_memory_rss:%zu", rss);
    info_line(b, "used_memory_rss_human:%s", h2);
    info_line(b, "used_memory_peak:%zu", p);
    info_line(b, "used_memory_peak_human:%s", h3);
    info_line(b, "used_memory_peak_perc:%.2f%%", p ? 100.0 * (double)used / (double)p : 100.0);
    info_line(b, "used_memory_overhead:0");
    info_line(b, "used_memory_startup:0");
    info_line(b, "used_memory_dataset:%zu", used);
    info_line(b, "used_memory_dataset_perc:100.00%%");
    info_line(b, "allocator_allocated:%zu", used);
    info_line(b, "allocator_active:%zu", a.bytes_from_os);
    info_line(b, "allocator_resident:%zu", a.bytes_from_os);
    info_line(b, "total_system_memory:%zu", total);
    info_line(b, "total_system_memory_human:%s", h4);
    info_line(b, "used_memory_lua:0");
    info_line(b, "used_memory_scripts:0");
    info_line(b, "number_of_cached_scripts:0");
    info_line(b, "maxmemory:%lld", maxmem);
    info_line(b, "maxmemory_human:%s", h5);
    info_line(b, "maxmemory_policy:%s", srv_evict_policy_name());
    info_line(b, "mem_fragmentation_ratio:%.2f", used ? (double)rss / (double)used : 0.0);
    info_line(b, "mem_fragmentation_bytes:%lld", (long long)rss - (long long)used);
    info_line(b, "mem_not_counted_for_evict:0");
    info_line(b, "mem_replication_backlog:0");
    info_line(b, "mem_clients_slaves:0");
    info_line(b, "mem_clients_normal:0");
    info_line(b, "mem_aof_buffer:0");
    info_line(b, "mem_allocator:mwrt");
    info_line(b, "active_defrag_running:0");
    info_line(b, "lazyfree_pending_objects:0");
    info_line(b, "lazyfreed_objects:0");
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
}

static void info_persistence(srv_buf *b)
{
    info_line(b, "# Persistence");
    srv_rdb_info(b);    // rdb.c; no AOF
    info_line(b, "aof_enabled:0");
    info_line(b, "aof_rewrite_in_progress:0");
    info_line(b, "aof_rewrite_scheduled:0");
    info_line(b, "aof_last_rewrite_time_sec:-1");
    info_line(b, "aof_current_rewrite_time_sec:-1");
    info_line(b, "aof_last_bgrewrite_status:ok");
    info_line(b, "aof_rewrites:0");
    info_line(b, "aof_rewrites_consecutive_failures:0");
    info_line(b, "aof_last_write_status:ok");
    info_line(b, "aof_last_cow_size:0");
    info_line(b, "module_fork_in_progress:0");
    info_line(b, "module_fork_last_cow_size:0");
}

static void info_stats(srv_buf *b)
{
    long long cmds = 0, in = 0, out = 0;
    for (int i = 0; i < srv.nworkers; i++) {
        cmds += atomic_load_explicit(&srv.workers[i].commands, memory_order_relaxed);
        in += atomic_load_explicit(&srv.workers[i].net_in, memory_order_relaxed);
        out += atomic_load_explicit(&srv.workers[i].net_out, memory_order_relaxed);
    }
    srv_ks_totals t;
    srv_ks_get_totals(&t);
    info_line(b, "# Stats");
    info_line(b, "total_connections_received:%lld", atomic_load(&srv.total_connections));
    info_line(b, "total_commands_processed:%lld", cmds);
    info_line(b, "instantaneous_ops_per_sec:%lld", atomic_load(&srv.ops_per_sec));
    info_line(b, "total_net_input_bytes:%lld", in);
    info_line(b, "total_net_output_bytes:%lld", out);
    info_line(b, "total_net_repl_input_bytes:0");
    info_line(b, "total_net_repl_output_bytes:0");
    info_line(b, "instantaneous_input_kbps:0.00");
    info_line(b, "instantaneous_output_kbps:0.00");
    info_line(b, "instantaneous_input_repl_kbps:0.00");
    info_line(b, "instantaneous_output_repl_kbps:0.00");
    info_line(b, "rejected_connections:%lld", atomic_load(&srv.rejected_connections));
    info_line(b, "sync_full:0");
    info_line(b, "sync_partial_ok:0");
    info_line(b, "sync_partial_err:0");
    info_line(b, "expired_keys:%lld", t.expired);
    info_line(b, "expired_stale_perc:0.00");
    info_line(b, "expired_time_cap_reached_count:0");
    info_line(b, "expire_cycle_cpu_milliseconds:0");
    info_line(b, "evicted_keys:%lld", atomic_load(&srv_evicted_keys));
    info_line(b, "evicted_clients:0");
    info_line(b, "total_eviction_exceeded_time:0");
    info_line(b, "current_eviction_exceeded_time:0");
    info_line(b, "keyspace_hits:%lld", t.hits);
    info_line(b, "keyspace_misses:%lld", t.misses);
    long long chans, pats, shard;
    srv_pubsub_totals(&chans, &pats, &shard);
    info_line(b, "pubsub_channels:%lld", chans);
    info_line(b, "pubsub_patterns:%lld", pats);
    info_line(b, "pubsubshard_channels:%lld", shard);
    info_line(b, "latest_fork_usec:0");
    info_line(b, "total_forks:0");
    info_line(b, "migrate_cached_sockets:0");
    info_line(b, "slave_expires_tracked_keys:0");
    info_line(b, "active_defrag_hits:0");
    info_line(b, "active_defrag_misses:0");
    info_line(b, "active_defrag_key_hits:0");
    info_line(b, "active_defrag_key_misses:0");
    info_line(b, "total_active_defrag_time:0");
    info_line(b, "current_active_defrag_time:0");
    info_line(b, "tracking_total_keys:0");
    info_line(b, "tracking_total_items:0");
    info_line(b, "tracking_total_prefixes:0");
    info_line(b, "unexpected_error_replies:0");
    info_line(b, "total_error_replies:%lld", srv_total_errors());
    info_line(b, "dump_payload_sanitizations:0");
    info_line(b, "total_reads_processed:0");
    info_line(b, "total_writes_processed:0");
    info_line(b, "io_threaded_reads_processed:0");
    info_line(b, "io_threaded_writes_processed:0");
    info_line(b, "reply_buffer_shrinks:0");
    info_line(b, "reply_buffer_expands:0");
}

static void info_replication(srv_buf *b)
{
    info_line(b, "# Replication");
    info_line(b, "role:master");
    info_line(b, "connected_slaves:0");
    info_line(b, "master_failover_state:no-failover");
    info_line(b, "master_replid:%s", run_id());
    info_line(b, "master_replid2:0000000000000000000000000000000000000000");
    info_line(b, "master_repl_offset:0");
    info_line(b, "second_repl_offset:-1");
    info_line(b, "repl_backlog_active:0");
    info_line(b, "repl_backlog_size:1048576");
    info_line(b, "repl_backlog_first_byte_offset:0");
    info_line(b, "repl_backlog_histlen:0");
}

static double tv_sec(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void info_cpu(srv_buf *b)
{
    struct rusage self, children, thread;
    memset(&self, 0, sizeof self);
    memset(&children, 0, sizeof children);
    memset(&thread, 0, sizeof thread);
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
    getrusage(RUSAGE_THREAD, &thread);  // this worker's thread
#endif
    info_line(b, "# CPU");
    info_line(b, "used_cpu_sys:%.6f", tv_sec(self.ru_stime));
    info_line(b, "used_cpu_user:%.6f", tv_sec(self.ru_utime));
    info_line(b, "used_cpu_sys_children:%.6f", tv_sec(children.ru_stime));
    info_line(b, "used_cpu_user_children:%.6f", tv_sec(children.ru_utime));
    info_line(b, "used_cpu_sys_main_thread:%.6f", tv_sec(thread.ru_stime));
    info_line(b, "used_cpu_user_main_thread:%.6f", tv_sec(thread.ru_utime));
}

static void info_clients(srv_buf *b)
{
    info_line(b, "# Clients");
    info_line(b, "connected_clients:%lld", atomic_load(&srv.clients));
    info_line(b, "cluster_connections:0");
    info_line(b, "maxclients:%lld", atomic_load(&srv.maxclients));
    info_line(b, "client_recent_max_input_buffer:0");
    info_line(b, "client_recent_max_output_buffer:0");
    info_line(b, "blocked_clients:%lld", srv_blocked_clients());
    info_line(b, "tracking_clients:0");
    info_line(b, "clients_in_timeout_table:0");
}

static void info_commandstats(srv_buf *b)
{
    info_line(b, "# Commandstats");
    for (size_t i = 0; i < srv_cmdstat_count(); i++) {
        srv_cmd_totals t;
        srv_cmdstat_get(i, &t);
        if (t.calls == 0 && t.rejected == 0 && t.failed == 0) {
            continue;
        }
        info_line(b, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,"
                  "failed_calls=%lld", srv_cmdstat_name(i), t.calls, t.usec,
                  t.calls ? (double)t.usec / (double)t.calls : 0.0, t.rejected, t.failed);
    }
}

static void info_errorstats(srv_buf *b)
{
    info_line(b, "# Errorstats");
    char code[32];
    long long count = 0;
    for (size_t i = 0; i < srv_errorstat_get(i, code, sizeof code, &count); i++) {
        info_line(b, "errorstat_%s:count=%lld", code, count);
    }
}

static void info_shards(srv_buf *b)
{
        // Not a Redis section: how the keyspace is laid out, and each
        // shard's keys as its owner last published them.
        info_line(b, "# Shards");
        info_line(b, "keyspace:%s", srv.cfg.sharded ? "sharded" : "shared");
        info_line(b, "shards:%d", srv.nshards);
        info_line(b, "this_worker:%d", srv_self != NULL ? srv_self->index : -1);
        for (int i = 0; i < srv.nshards; i++) {
            long long keys = 0;
            for (int db = 0; db < srv.ndb; db++) {
                srv_keyspace *k = srv_ks_of(i, db);
                keys += k == srv_ks_cur ? (long long)k->d.count
                                        : atomic_load_explicit(&k->pub_keys, memory_order_relaxed);
            }
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
}

static void info_keyspace(srv_buf *b)
{
    info_line(b, "# Keyspace");
    for (int db = 0; db < srv.ndb; db++) {
        srv_ks_totals t;
        srv_ks_get_db_totals(db, &t);
        if (t.keys > 0) {
            info_line(b, "db%d:keys=%lld,expires=%lld,avg_ttl=0", db, t.keys, t.expires);
        }
    }
}

static void info_gc_section(srv_buf *b)
{
    info_line(b, "# GC");
    info_gc(b);
}

static void info_modules(srv_buf *b)
{
    info_line(b, "# Modules");
}

/* The smallest duration (in microseconds) at or under which p percent of
 * the total calls of h fall: its bucket's largest value. */
static double hist_percentile(const long long *h, long long total, double p)
{
    long long rank = (long long)ceil(p / 100.0 * (double)total), cum = 0;
    rank = rank < 1 ? 1 : rank;
    for (size_t b = 0; b < SRV_LAT_BUCKETS; b++) {
        cum += h[b];
        if (cum >= rank) {
            return (double)srv_lat_bucket_top(b) / 1000.0;
        }
    }
    return (double)srv_lat_bucket_top(SRV_LAT_BUCKETS - 1) / 1000.0;
}

static void info_latencystats(srv_buf *b)
{
    info_line(b, "# Latencystats");
    double pct[16];
    size_t npct = srv_latency_percentiles(pct, 16);
    for (size_t i = 0; i < srv_cmdstat_count(); i++) {
        long long h[SRV_LAT_BUCKETS];
        long long total = srv_cmdstat_hist(i, h);
        if (total == 0) {
            continue;
        }
        char line[512];
        size_t len = 0;
        for (size_t k = 0; k < npct && len < sizeof line; k++) {
            len += (size_t)snprintf(line + len, sizeof line - len, "%sp%g=%.3f", k ? "," : "",
                                    pct[k], hist_percentile(h, total, pct[k]));
        }
        info_line(b, "latency_percentiles_usec_%s:%s", srv_cmdstat_name(i), npct ? line : "");
    }
}

static void info_cluster(srv_buf *b)
{
    info_line(b, "# Cluster");
    info_line(b, "cluster_enabled:0");
}

/* INFO's sections in Redis 7.0's order (ours, gc and shards, last); the
 * default ones are what INFO and INFO default give, "all" adds the rest
 * but shards, "everything" adds shards too. */
static const struct info_sec {
    const char *name;
    void (*fn)(srv_buf *b);
    int level;                  /* 0 default, 1 all, 2 everything */
} info_secs[] = {
    {"server", info_server, 0},           {"clients", info_clients, 0},
    {"memory", info_memory, 0},           {"persistence", info_persistence, 0},
    {"stats", info_stats, 0},             {"replication", info_replication, 0},
    {"cpu", info_cpu, 0},                 {"modules", info_modules, 0},
    {"commandstats", info_commandstats, 1}, {"errorstats", info_errorstats, 0},
    {"latencystats", info_latencystats, 1}, {"cluster", info_cluster, 0},
    {"keyspace", info_keyspace, 0},       {"gc", info_gc_section, 0},
    {"shards", info_shards, 2},
};
#define NINFO_SECS (sizeof info_secs / sizeof info_secs[0])

/* INFO [section ...]: the named sections (case-insensitive, several at
 * once as in Redis 7.0), "default", "all", "everything"; each at most
 * once, in the fixed order; unknown names add nothing. */
void cmd_info(ctx *x)
{
    bool want[NINFO_SECS] = {false};
    for (size_t a = 1; a <= x->argc; a++) {
        int level = -1;
        if (a == x->argc) {
            level = x->argc == 1 ? 0 : -1;
        } else if (arg_is(x, a, "default")) {
            level = 0;
        } else if (arg_is(x, a, "all")) {
            level = 1;
        } else if (arg_is(x, a, "everything")) {
            level = 2;
        }
        for (size_t i = 0; i < NINFO_SECS; i++) {
            if ((level >= 0 && info_secs[i].level <= level) ||
                (level < 0 && a < x->argc && arg_is(x, a, info_secs[i].name))) {
                want[i] = true;
            }
        }
    }
    srv_buf b = {0};
    bool any = false;
    for (size_t i = 0; i < NINFO_SECS; i++) {
        if (want[i]) {
            if (any) {
                srv_buf_append(&b, "\r\n", 2);
            }
            info_secs[i].fn(&b);
            any = true;
        }
    }
    reply_text(x, &b);
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
