/*
 * server/cmd_multi.c - transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH,
 * with Redis 7.0's semantics.
 *
 * Queuing.  After MULTI, srv_execute still runs its checks (unknown
 * command, arity, NOAUTH, OOM) and then hands every command except EXEC,
 * DISCARD, MULTI, WATCH and QUIT to multi_queue, which copies its
 * arguments into one malloc'd block and answers +QUEUED (F_NO_MULTI
 * commands are refused instead, as Redis's "no-multi").  A refused
 * command flags the transaction (multi_reject), and its EXEC answers
 * EXECABORT; a refused EXEC itself aborts with the refusal's text, as
 * Redis's execCommandAbort.  EXEC answers an array of the queued
 * commands' replies, errors included; it runs them one after the other
 * without giving up the keyspace (the GIL, the keyspace lock, or - sharded
 * - the worker that owns the transaction's keys), so nothing else runs
 * between them.  Past maxmemory an EXEC whose queue holds an F_DENYOOM
 * command is refused as the command would be.
 *
 * Watching.  A connection that watches gets a token (srv_watch): a dirty
 * flag, the earliest expiry among its watched keys, a dead flag and a
 * reference count.  Each keyspace (shard) has a table key -> list of
 * registrations, each naming a token; the table is touched only by the
 * keyspace's holder, the token's fields are atomics, so a write on any
 * worker can mark the token of a client on any other.  A change to a key
 * marks the tokens registered for it dirty; EXEC fails (null array) if
 * its token is dirty or the earliest expiry has passed (Redis 7.0: a
 * watched key that expires fails the EXEC).  A key already expired when
 * it was watched is "stale": its deletion by expiry, or by FLUSHALL,
 * changes nothing logically and does not dirty the token, as in Redis
 * 7.0.  Registering reads the key's TTL; a later TTL change is a change
 * of the key, so the earliest expiry recorded stays right.
 *
 * Why no change is missed.  A key changes in one of two ways: through the
 * keyspace functions (srv_ks_replace, which srv_ks_set uses; srv_ks_remove,
 * which DEL, RENAME, lazy and active expiry use; srv_ks_set_expire;
 * srv_ks_flush), each of which touches the key itself (keyspace.c), or in
 * place, when a command changes the list, hash, set or sorted set it
 * looked up.  Strings are never changed in place (str_store replaces
 * them).  So after every command with F_WRITE that did not
 * answer an error, cmd_run touches those of its keys (from its key spec)
 * that now hold an aggregate, unless the command touched what it changed
 * itself (ctx.touched_keys: SMOVE).  The cost when nothing is watched is one
 * load of the table's count.  A write command that changes nothing in an
 * aggregate (SADD of a member already there) still touches it: Redis does
 * not, and an EXEC may fail where Redis's would not (docs/server.md).
 *
 * Lifetimes.  The token lives while the connection or a registration
 * holds it.  UNWATCH, EXEC, DISCARD and closing kill it (dead flag) and a
 * later WATCH takes a new one.  Registrations in a keyspace the caller
 * holds are removed at once; others (a key on another shard, or a
 * connection closed outside the keyspace) stay as garbage, counted in
 * watch_garbage, and are freed by the keyspace's owner: at the next touch
 * of the key or the next cron sweep.  A queued transaction and the watched
 * key list are plain malloc'd memory of the connection, freed with it.
 *
 * Sharded keyspace.  WATCH sends each owner the keys it owns (one
 * sub-request per owner, "\x01watch <token>", through srv_route); the
 * message holds one token reference per key, which the registration keeps
 * or drops.  At EXEC each queued command must keep Redis Cluster's rule
 * for a single request (its keys in one slot), and none may span shards
 * (FLUSHALL, DBSIZE, KEYS, SCAN): otherwise EXEC answers CROSSSLOT and
 * discards the transaction, so the answer does not depend on the number
 * of workers.  The transaction as a whole may name any slots.  When all
 * its commands have keys of one other worker, the whole queue goes there
 * as one request ("\x01exec <token>", one of its keys, then per command
 * "<table index>:<argc>" and its arguments), which checks the token and
 * runs the queue as one unit on its proxy connection.  When it names
 * several workers, or mixes in commands without keys, srv_txn_run
 * (shard.c) parks every other worker it names and runs the commands one
 * by one at their owners, the keyless ones here: atomic across shards.
 * The token is checked once all are parked (a watched key on a shard the
 * queue does not touch may change after that: the EXEC is then ordered
 * before that write).
 */
#include "cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * State
 * ====================================================================== */

typedef struct srv_watch {
    _Atomic(bool) dirty;        /* a watched key changed */
    _Atomic(bool) dead;         /* unwatched: its registrations are garbage */
    _Atomic(int64_t) expire_min;  /* earliest TTL of a watched key, INT64_MAX none */
    _Atomic(long) refs;         /* the connection's, one per registration or message */
} srv_watch;

/* A registration: one token watching one key of this keyspace. */
typedef struct watch_reg {
    struct watch_reg *next;
    srv_watch *w;
    bool stale;                 /* the key had expired when it was watched */
} watch_reg;

/* A key the connection watches, and the keyspace (the database of its
 * shard, srv_ks_index) it is in. */
typedef struct srv_wkey {
    struct srv_wkey *next;
    int ks;
    size_t klen;
    char key[];
} srv_wkey;

typedef struct queued {
    const srv_cmd *cmd;
    size_t argc;
    const char **argv;          /* into the block's own bytes */
    const size_t *argl;
} queued;

typedef struct srv_multi {
    queued **q;
    size_t count, cap;
    bool aborted;               /* a command was refused while queuing */
    bool denyoom;               /* an F_DENYOOM command is queued */
    bool writes;                /* an F_WRITE command is queued */
} srv_multi;

static const char *const E_EXECABORT =
    "EXECABORT Transaction discarded because of previous errors.";
static const char *const E_CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot";

static void watch_unref(srv_watch *w)
{
    if (atomic_fetch_sub(&w->refs, 1) == 1) {
        free(w);
    }
}

/* The index of the keyspace the caller holds (srv_ks_index). */
static int own_ks(void)
{
    return srv_ks_index(srv_ks_cur);
}

/* ======================================================================
 * The keyspace's table of watched keys (needs the keyspace)
 * ====================================================================== */

/* Unlink the registrations of dead tokens from e; remove e once empty. */
static void entry_prune(srv_entry *e)
{
    watch_reg *keep = NULL;
    for (watch_reg *r = e->v.ptr, *next; r != NULL; r = next) {
        next = r->next;
        if (atomic_load(&r->w->dead)) {
            watch_unref(r->w);
            free(r);
        } else {
            r->next = keep;  // the order of registrations does not matter
            keep = r;
        }
    }
    e->v.ptr = keep;
    if (keep == NULL) {
        srv_dict_remove(&srv_ks.watched, e);
    }
}

void srv_watch_touch_slow(const char *key, size_t n, bool exists)
{
    srv_entry *e = srv_dict_find(&srv_ks.watched, key, n, srv_hash_bytes(key, n));
    if (e == NULL) {
        return;
    }
    bool garbage = false;
    for (watch_reg *r = e->v.ptr; r != NULL; r = r->next) {
        if (r->stale) {
            if (!exists) {
                r->stale = false;  // the expired key was deleted: logically no change
                continue;
            }
            r->stale = false;
        }
        // Marked even when dead: an EXEC in flight to another shard reads it.
        atomic_store(&r->w->dirty, true);
        garbage = garbage || atomic_load(&r->w->dead);
    }
    if (garbage) {
        entry_prune(e);
    }
}

void srv_watch_flush(void)
{
    for (srv_entry *e = srv_ks.watched.first; e != NULL; e = e->onext) {
        if (srv_dict_find(&srv_ks.d, e->key, e->klen, e->hash) == NULL) {
            continue;  // only keys the flush deletes are touched
        }
        for (watch_reg *r = e->v.ptr; r != NULL; r = r->next) {
            if (r->stale) {
                r->stale = false;  // an expired key deleted: no change
            } else {
                atomic_store(&r->w->dirty, true);
            }
        }
    }
}

void srv_watch_sweep(bool all)
{
    if (!all && atomic_load_explicit(&srv_ks.watch_garbage, memory_order_relaxed) == 0) {
        return;
    }
    atomic_store(&srv_ks.watch_garbage, 0);
    for (srv_entry *e = srv_ks.watched.first; e != NULL;) {
        srv_entry *next = e->onext;  // the order list survives removals
        entry_prune(e);
        e = next;
    }
    if (all && srv_ks.watched.count == 0) {
        srv_dict_clear(&srv_ks.watched, NULL);
    }
}

/* Register w for key in the current keyspace, using one reference to w
 * that the caller took (kept by the registration, or dropped). */
static void watch_register(srv_watch *w, const char *key, size_t n)
{
    uint64_t h = srv_hash_bytes(key, n);
    srv_entry *e = srv_dict_find(&srv_ks.watched, key, n, h);
    if (e != NULL) {
        for (watch_reg *r = e->v.ptr; r != NULL; r = r->next) {
            if (r->w == w) {
                watch_unref(w);  // watched already
                return;
            }
        }
    }
    if (atomic_load(&w->dead)) {
        watch_unref(w);  // unwatched before this message arrived
        return;
    }
    watch_reg *r = malloc(sizeof *r);
    if (e == NULL && r != NULL) {
        e = srv_dict_add(&srv_ks.watched, key, n, h);
    }
    if (r == NULL || e == NULL) {
        // Out of memory: the key cannot be watched, so the EXEC must fail
        // rather than run unprotected.
        free(r);
        atomic_store(&w->dirty, true);
        watch_unref(w);
        return;
    }
    srv_entry *k = srv_dict_find(&srv_ks.d, key, n, h);
    int64_t now = srv_now_ms();
    r->w = w;
    r->stale = k != NULL && k->expire >= 0 && k->expire <= now;
    r->next = e->v.ptr;
    e->v.ptr = r;
    if (k != NULL && k->expire > now) {
        int64_t cur = atomic_load(&w->expire_min);
        while (k->expire < cur &&
               !atomic_compare_exchange_weak(&w->expire_min, &cur, k->expire)) {
        }
    }
}

/* Remove w's registration for key from the current keyspace. */
static void watch_unregister(srv_watch *w, const char *key, size_t n)
{
    srv_entry *e = srv_dict_find(&srv_ks.watched, key, n, srv_hash_bytes(key, n));
    if (e == NULL) {
        return;  // a registration that failed, or was never made
    }
    for (watch_reg *r = e->v.ptr, *prev = NULL; r != NULL; prev = r, r = r->next) {
        if (r->w == w) {
            if (prev != NULL) {
                prev->next = r->next;
            } else {
                e->v.ptr = r->next;
            }
            watch_unref(w);
            free(r);
            break;
        }
    }
    if (e->v.ptr == NULL) {
        srv_dict_remove(&srv_ks.watched, e);
    }
}

/* ======================================================================
 * The connection's side
 * ====================================================================== */

static bool watch_failed(srv_watch *w)
{
    if (w == NULL) {
        return false;
    }
    int64_t exp = atomic_load(&w->expire_min);
    return atomic_load(&w->dirty) || (exp != INT64_MAX && exp <= srv_now_ms());
}

/* Forget every watched key.  held: the caller holds the keyspace, so
 * registrations there are removed now; the rest become garbage for the
 * owners to sweep. */
static void unwatch_all(srv_conn *conn, bool held)
{
    srv_watch *w = conn->watch;
    if (w == NULL) {
        return;
    }
    atomic_store(&w->dead, true);
    int me = held ? own_ks() : -1;
    while (conn->wkeys != NULL) {
        srv_wkey *k = conn->wkeys;
        conn->wkeys = k->next;
        if (k->ks == me) {
            watch_unregister(w, k->key, k->klen);
        } else {
            atomic_fetch_add(&srv.shards[k->ks].watch_garbage, 1);   // its owner sweeps it
        }
        free(k);
    }
    conn->watch = NULL;
    watch_unref(w);
}

static void multi_free(srv_multi *m)
{
    if (m == NULL) {
        return;
    }
    for (size_t i = 0; i < m->count; i++) {
        free(m->q[i]);
    }
    free(m->q);
    free(m);
}

/* End the transaction (EXEC, DISCARD, an abort): the queue and every
 * watched key go. */
static void discard(srv_conn *conn)
{
    multi_free(conn->multi);
    conn->multi = NULL;
    unwatch_all(conn, true);
}

void srv_multi_conn_free(srv_conn *conn)
{
    multi_free(conn->multi);
    conn->multi = NULL;
    unwatch_all(conn, false);
}

void multi_flag(srv_conn *conn)
{
    if (conn->multi != NULL) {
        conn->multi->aborted = true;
    }
}

void multi_reject(ctx *x, const srv_cmd *c, const char *err)
{
    multi_flag(x->c);
    if (c->fn == cmd_exec) {
        // Redis quotes the refusal without the generic "ERR " (its arity
        // error has none at that point); OOM and NOAUTH keep their codes.
        if (strncmp(err, "ERR ", 4) == 0) {
            err += 4;
        }
        discard(x->c);
        srv_reply_errorf(x->out, "EXECABORT Transaction discarded because of: %s", err);
        return;
    }
    srv_reply_error(x->out, err);
}

bool multi_denyoom(srv_conn *conn, const srv_cmd *c)
{
    return c->fn == cmd_exec && conn->multi != NULL && conn->multi->denyoom;
}

bool multi_writes(srv_conn *conn, const srv_cmd *c)
{
    return c->fn == cmd_exec && conn->multi != NULL && conn->multi->writes;
}

bool multi_queue(ctx *x, const srv_cmd *c)
{
    if (c->fn == cmd_exec || c->fn == cmd_discard || c->fn == cmd_multi ||
        c->fn == cmd_watch || c->fn == cmd_quit || c->fn == cmd_reset) {
        return false;
    }
    if (c->flags & F_NO_MULTI) {
        multi_reject(x, c, "ERR Command not allowed inside a transaction");
        return true;
    }
    srv_multi *m = x->c->multi;
    if (m->aborted) {
        // It will not run: Redis does not keep it either.
        srv_reply_status(x->out, "QUEUED");
        return true;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < x->argc; i++) {
        bytes += x->argl[i];
    }
    size_t head = (sizeof(queued) + 7) & ~(size_t)7;
    queued *q = NULL;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        queued **nq = realloc(m->q, cap * sizeof *nq);
        if (nq != NULL) {
            m->q = nq;
            m->cap = cap;
        }
    }
    if (m->count < m->cap) {
        q = malloc(head + x->argc * (sizeof(char *) + sizeof(size_t)) + bytes + 1);
    }
    if (q == NULL) {
        m->aborted = true;
        srv_reply_error(x->out, E_NOMEM);
        return true;
    }
    q->cmd = c;
    q->argc = x->argc;
    q->argv = (const char **)((char *)q + head);
    size_t *al = (size_t *)(q->argv + x->argc);
    q->argl = al;
    char *d = (char *)(al + x->argc);
    for (size_t i = 0; i < x->argc; i++) {
        memcpy(d, x->argv[i], x->argl[i]);
        q->argv[i] = d;
        al[i] = x->argl[i];
        d += x->argl[i];
    }
    m->q[m->count++] = q;
    if (c->flags & F_DENYOOM) {
        m->denyoom = true;
    }
    if (c->flags & F_WRITE) {
        m->writes = true;
    }
    srv_reply_status(x->out, "QUEUED");
    return true;
}

/* The range of a command's keys in argv (srv_route's rule): false if it
 * has none there. */
static bool key_range(const srv_keyspec *ks, size_t argc, size_t *first, size_t *last,
                      size_t *step)
{
    if (ks->first <= 0 || (size_t)ks->first >= argc) {
        return false;
    }
    size_t l = ks->last < 0 ? argc - (size_t)(-ks->last) : (size_t)ks->last;
    *first = (size_t)ks->first;
    *last = l >= argc ? argc - 1 : l;
    *step = ks->step > 0 ? (size_t)ks->step : 1;
    return *first <= *last;
}

/* c's key spec for this request: the declared one, or for XREAD and
 * XREADGROUP (movable, no fixed key) the keys found after STREAMS. */
static srv_keyspec request_keys(const srv_cmd *c, size_t argc, const char **argv,
                                const size_t *argl)
{
    srv_keyspec ks = c->keys;
    if ((c->flags & F_MOVABLE) && ks.first == 0 && ks.route == SRV_ROUTE_KEYS) {
        cmd_request_keyspec(c, argc, argv, argl, &ks);
    }
    return ks;
}

void cmd_run(ctx *x, const srv_cmd *c)
{
    size_t at = x->out->len;
    cmd_call(x, c);
    if (!(c->flags & F_WRITE) || srv_ks.watched.count == 0 || x->touched_keys ||
        (x->out->len > at && x->out->data[at] == '-')) {
        return;
    }
    size_t first, last, step;
    srv_keyspec ks = request_keys(c, x->argc, x->argv, x->argl);
    if (!key_range(&ks, x->argc, &first, &last, &step)) {
        return;
    }
    for (size_t i = first; i <= last; i += step) {
        srv_entry *e = srv_dict_find(&srv_ks.d, x->argv[i], x->argl[i],
                                     srv_hash_bytes(x->argv[i], x->argl[i]));
        if (e != NULL && mw_type_of(e->v.obj) != &mw_str_type) {
            srv_watch_touch(x->argv[i], x->argl[i], true);  // changed in place, maybe
        }
    }
}

/* Run the n queued commands into out as one array, for conn. */
static void run_queue(srv_conn *conn, srv_buf *out, queued *const *q, size_t n)
{
    srv_reply_array(out, (long long)n);
    for (size_t i = 0; i < n; i++) {
        ctx y = {.c = conn, .out = out, .argc = q[i]->argc, .argv = q[i]->argv,
                 .argl = q[i]->argl};
        size_t at = out->len;
        cmd_run(&y, q[i]->cmd);
        // Each queued command counts as a call of its own (commandstats).
        cmd_note_call(q[i]->cmd, out->len > at && out->data[at] == '-');
#if SRV_DEBUG >= 2
        srv_ks_validate();
#endif
    }
}

/* ======================================================================
 * Commands
 * ====================================================================== */

void cmd_multi(ctx *x)
{
    if (x->c->multi != NULL) {
        srv_reply_error(x->out, "ERR MULTI calls can not be nested");
        return;
    }
    x->c->multi = calloc(1, sizeof(srv_multi));
    if (x->c->multi == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_buf_append(x->out, "+OK\r\n", 5);
}

void cmd_discard(ctx *x)
{
    if (x->c->multi == NULL) {
        srv_reply_error(x->out, "ERR DISCARD without MULTI");
        return;
    }
    discard(x->c);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

void cmd_unwatch(ctx *x)
{
    unwatch_all(x->c, true);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* EXEC's queue across shards (srv_txn_run's callbacks). */
typedef struct exec_run {
    ctx *x;
    srv_multi *m;
} exec_run;

static bool exec_ready(void *arg)
{
    exec_run *r = arg;
    srv_conn *conn = r->x->c;
    bool failed = watch_failed(conn->watch);
    unwatch_all(conn, true);
    if (failed) {
        srv_reply_null_array(r->x->out);
        return false;
    }
    srv_reply_array(r->x->out, (long long)r->m->count);
    return true;
}

static void exec_local(void *arg, size_t i)
{
    exec_run *r = arg;
    queued *q = r->m->q[i];
    ctx y = {.c = r->x->c, .out = r->x->out, .argc = q->argc, .argv = q->argv, .argl = q->argl};
    size_t at = y.out->len;
    cmd_run(&y, q->cmd);
    cmd_note_call(q->cmd, y.out->len > at && y.out->data[at] == '-');
}

/* Send the whole queue to worker `owner` as one request, which runs it
 * there as one unit (multi_routed); key0 is one of its keys. */
static void exec_send(ctx *x, const char *key0, size_t key0l)
{
    srv_multi *m = x->c->multi;
    size_t nargs = 2;
    for (size_t i = 0; i < m->count; i++) {
        nargs += 1 + m->q[i]->argc;
    }
    const char **av = malloc(nargs * sizeof *av);
    size_t *al = malloc(nargs * sizeof *al);
    char *nums = malloc(m->count * 48 + 48);
    if (av == NULL || al == NULL || nums == NULL) {
        free(av);
        free(al);
        free(nums);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_watch *w = x->c->watch;
    if (w != NULL) {
        atomic_fetch_add(&w->refs, 1);  // the message's, dropped by the owner
    }
    char *p = nums;
    size_t n = 0;
    av[n] = p;
    al[n++] = (size_t)sprintf(p, "%cexec %" PRIxPTR, MULTI_ROUTED, (uintptr_t)w);
    p += al[n - 1] + 1;
    av[n] = key0;
    al[n++] = key0l;
    for (size_t i = 0; i < m->count; i++) {
        const queued *q = m->q[i];
        av[n] = p;
        al[n++] = (size_t)sprintf(p, "%zu:%zu", (size_t)(q->cmd - cmd_table), q->argc);
        p += al[n - 1] + 1;
        for (size_t k = 0; k < q->argc; k++) {
            av[n] = q->argv[k];
            al[n++] = q->argl[k];
        }
    }
    static const srv_keyspec spec = {1, 1, 1, SRV_ROUTE_KEYS};
    srv_route(x->c, &spec, n, av, al);  // the message copies the bytes
    free(av);
    free(al);
    free(nums);
}

/* Sharded EXEC with two or more workers: false if the queue is to run
 * here as it would unsharded.  Each queued command keeps Redis Cluster's
 * rule for one request (its keys in one slot), and none may ask every
 * shard (FLUSHALL, DBSIZE, KEYS, SCAN): else CROSSSLOT, and nothing runs.
 * A queue whose commands all have keys of one other worker goes there
 * as one request; one that names several workers, or mixes in commands
 * without keys (run here, on the client's connection: SELECT, CLIENT
 * SETNAME), runs through srv_txn_run, atomic across the shards. */
static bool exec_route(ctx *x)
{
    srv_multi *m = x->c->multi;
    int me = srv_self->index;
    srv_txn_step *steps = malloc((m->count + 1) * sizeof *steps);
    if (steps == NULL) {
        discard(x->c);
        srv_reply_error(x->out, E_NOMEM);
        return true;
    }
    int one = -1;              // the owner of the keys, while there is one
    bool several = false, keyless = false, crossslot = false;
    const char *key0 = NULL;
    size_t key0l = 0;
    for (size_t i = 0; i < m->count && !crossslot; i++) {
        const queued *q = m->q[i];
        srv_route_kind r = q->cmd->keys.route;
        crossslot = r == SRV_ROUTE_ALL_SUM || r == SRV_ROUTE_ALL_OK || r == SRV_ROUTE_ALL_CONCAT ||
                    r == SRV_ROUTE_SCAN;
        steps[i] = (srv_txn_step){me, q->argc, q->argv, q->argl};
        size_t first, last, step;
        srv_keyspec ks = request_keys(q->cmd, q->argc, (const char **)q->argv, q->argl);
        if (crossslot || !key_range(&ks, q->argc, &first, &last, &step)) {
            keyless = true;
            continue;
        }
        unsigned slot = srv_key_slot(q->argv[first], q->argl[first]);
        for (size_t k = first + step; k <= last && !crossslot; k += step) {
            crossslot = srv_key_slot(q->argv[k], q->argl[k]) != slot;
        }
        steps[i].owner = srv_slot_owner[slot];
        if (one == -1) {
            one = steps[i].owner;
            key0 = q->argv[first];
            key0l = q->argl[first];
        } else if (one != steps[i].owner) {
            several = true;
        }
    }
    bool here = false;
    if (crossslot) {
        srv_reply_error(x->out, E_CROSSSLOT);
    } else if (!several && (one == -1 || one == me)) {
        here = true;
    } else if (!several && !keyless) {
        exec_send(x, key0, key0l);
    } else {
        exec_run r = {x, m};
        srv_txn_ops ops = {exec_ready, exec_local, &r};
        int done = srv_txn_run(x->c, steps, m->count, &ops, x->out);
        if (done == SRV_TXN_NOMEM) {
            srv_reply_error(x->out, E_NOMEM);
        }
        for (size_t i = 0; done == SRV_TXN_RAN && i < m->count; i++) {
            if (steps[i].owner != me) {
                cmd_note_call(m->q[i]->cmd, false);  // a failure is counted where it ran
            }
        }
    }
    free(steps);
    if (!here) {
        discard(x->c);
    }
    return !here;
}

void cmd_exec(ctx *x)
{
    srv_multi *m = x->c->multi;
    if (m == NULL) {
        srv_reply_error(x->out, "ERR EXEC without MULTI");
        return;
    }
    if (m->aborted) {
        discard(x->c);
        srv_reply_error(x->out, E_EXECABORT);
        return;
    }
    if (srv.cfg.sharded && srv.nworkers > 1 && exec_route(x)) {
        return;
    }
    bool failed = watch_failed(x->c->watch);
    unwatch_all(x->c, true);
    if (failed) {
        srv_reply_null_array(x->out);
    } else {
        run_queue(x->c, x->out, m->q, m->count);
    }
    discard(x->c);
}

void cmd_watch(ctx *x)
{
    srv_conn *conn = x->c;
    if (conn->multi != NULL) {
        srv_reply_error(x->out, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    if (conn->watch == NULL) {
        srv_watch *w = calloc(1, sizeof *w);
        if (w == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        atomic_init(&w->refs, 1);
        atomic_init(&w->expire_min, INT64_MAX);
        conn->watch = w;
    }
    srv_watch *w = conn->watch;
    // The keys not watched yet; argv[0] becomes the routed request's name.
    const char **av = malloc(x->argc * sizeof *av);
    size_t *al = malloc(x->argc * sizeof *al);
    if (av == NULL || al == NULL) {
        free(av);
        free(al);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    char name[40];
    size_t n = 1;
    av[0] = name;
    al[0] = (size_t)snprintf(name, sizeof name, "%cwatch %" PRIxPTR, MULTI_ROUTED, (uintptr_t)w);
    for (size_t i = 1; i < x->argc; i++) {
        int ks = srv_ks_index(srv_ks_of(
            srv.cfg.sharded ? srv_slot_owner[srv_key_slot(x->argv[i], x->argl[i])] : 0, conn->db));
        bool seen = false;
        for (srv_wkey *k = conn->wkeys; k != NULL && !seen; k = k->next) {
            seen = k->ks == ks && k->klen == x->argl[i] && memcmp(k->key, x->argv[i], k->klen) == 0;
        }
        if (seen) {
            continue;
        }
        srv_wkey *k = malloc(sizeof *k + x->argl[i]);
        if (k == NULL) {
            atomic_store(&w->dirty, true);  // unwatchable: the EXEC fails
            continue;
        }
        k->klen = x->argl[i];
        memcpy(k->key, x->argv[i], k->klen);
        k->ks = ks;
        k->next = conn->wkeys;
        conn->wkeys = k;
        av[n] = k->key;
        al[n++] = k->klen;
    }
    if (n > 1) {
        atomic_fetch_add(&w->refs, (long)(n - 1));  // one per key, for its registration
        static const srv_keyspec spec = {1, -1, 1, SRV_ROUTE_SPLIT_OK};
        if (srv.cfg.sharded && srv.nworkers > 1 && srv_route(conn, &spec, n, av, al)) {
            free(av);
            free(al);
            return;  // each owner registers its keys; the replies make +OK
        }
        for (size_t i = 1; i < n; i++) {
            watch_register(w, av[i], al[i]);
        }
    }
    free(av);
    free(al);
    srv_buf_append(x->out, "+OK\r\n", 5);
}

/* ======================================================================
 * Requests from other workers (sharded)
 * ====================================================================== */

bool multi_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                  const size_t *argl)
{
    char name[40];
    if (argl[0] >= sizeof name) {
        return false;
    }
    memcpy(name, argv[0] + 1, argl[0] - 1);
    name[argl[0] - 1] = '\0';
    char *sp = strchr(name, ' ');
    if (sp == NULL) {
        return false;
    }
    *sp = '\0';
    srv_watch *w = (srv_watch *)(uintptr_t)strtoull(sp + 1, NULL, 16);
    if (strcmp(name, "watch") == 0) {
        for (size_t i = 1; i < argc; i++) {
            watch_register(w, argv[i], argl[i]);
        }
        srv_buf_append(out, "+OK\r\n", 5);
        return true;
    }
    if (strcmp(name, "exec") != 0) {
        return false;
    }
    bool failed = watch_failed(w);
    if (w != NULL) {
        watch_unref(w);
    }
    if (failed) {
        srv_reply_null_array(out);
        return true;
    }
    // argv: name, the slot's key, then per command "<index>:<argc>" and
    // its arguments.  Parsed into a table first, so that the reply's
    // array length is known.
    size_t count = 0;
    for (size_t i = 2; i < argc; count++) {
        size_t nc = (size_t)strtoull(memchr(argv[i], ':', argl[i]) + 1, NULL, 10);
        i += 1 + nc;
    }
    queued *qs = malloc(count * sizeof *qs + 1);
    queued **qp = malloc(count * sizeof *qp + 1);
    if (qs == NULL || qp == NULL) {
        free(qs);
        free(qp);
        srv_reply_error(out, E_NOMEM);
        return true;
    }
    size_t k = 0;
    for (size_t i = 2; i < argc; k++) {
        char tmp[48];
        size_t l = argl[i] < sizeof tmp ? argl[i] : sizeof tmp - 1;
        memcpy(tmp, argv[i], l);
        tmp[l] = '\0';
        char *colon;
        size_t idx = (size_t)strtoull(tmp, &colon, 10);
        size_t nc = (size_t)strtoull(colon + 1, NULL, 10);
        qs[k].cmd = &cmd_table[idx];
        qs[k].argc = nc;
        qs[k].argv = argv + i + 1;
        qs[k].argl = argl + i + 1;
        qp[k] = &qs[k];
        i += 1 + nc;
    }
    run_queue(conn, out, qp, count);
    free(qs);
    free(qp);
    return true;
}
