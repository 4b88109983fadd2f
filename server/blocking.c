/*
 * server/blocking.c - clients blocked by BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
 * BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP, XREAD, XREADGROUP and WAIT (which
 * waits on no key, only for its timeout): their wait
 * queues, how they are served, their timeouts, CLIENT UNBLOCK.  The pops
 * themselves are in cmd_list.c and cmd_zset.c (list_serve, zset_serve),
 * the stream reads in cmd_stream.c (stream_serve).
 *
 * Streams differ in what "ready" means: a stream reader waits, per key,
 * for an entry past an ID (kept in its node of that key's queue; for
 * XREADGROUP the group's last delivered ID, read again when served), so
 * a touched stream key may leave its readers waiting; stream_serve says.
 * An XREADGROUP reader whose stream is deleted or replaced by another
 * type, or whose group is destroyed, is answered with an error, as in
 * Redis 7.0; FLUSHALL/FLUSHDB touch every key with waiters for that.
 *
 * Technique.  Redis 7.0's: a blocking command that finds nothing to pop
 * leaves a *waiter* on a FIFO queue per key it names (one table per
 * keyspace: key -> queue), and its connection runs no further request
 * (net.c's process stops at c->blk), so replies stay in request order.
 * After every command, srv_blk_touch_keys looks at the command's keys
 * (its key spec in the command table): a key with a queue becomes
 * *ready*.  After the request (EXEC's queue as a whole), srv_blk_serve
 * serves every ready key: its waiters, oldest first, are given what they
 * wait for while the key holds a value of their type (a list for the list
 * commands, a sorted set for the others), the pop running right there,
 * atomically after the request that made the key ready, as Redis does in
 * handleClientsBlockedOnKeys.  A served BLMOVE pushed to its
 * destination, which may make that key ready in turn.  Looking at the
 * keys a command names, rather than at each place that writes a list,
 * covers LPUSH, LINSERT, LMOVE, ZADD, ZUNIONSTORE, RENAME, COPY... alike;
 * a key made of another type (SET) serves nobody and the waiters stay, as
 * in Redis 7.0.
 *
 * Threads.  A connection's buffers are touched by its own worker only,
 * but the push that serves a waiter may run on any worker.  So a waiter
 * is served into a reply buffer of its own, under the keyspace (the GIL,
 * or the keyspace lock in free mode), and handed to its connection's
 * worker: put on that worker's served list (under its qlock) and the
 * worker woken with its async handle.  The worker's async callback moves
 * the reply into the connection's output and lets its held requests run.
 * Timeouts are a libuv timer per worker, armed for the soonest deadline of
 * its waiters (kept sorted, soonest first); the timer is started only by
 * its worker, so when another worker serves the soonest waiter the timer
 * merely fires early, finds nothing due and is armed again.
 *
 * States of a waiter: WAITING (on its queues, its worker's timeout list
 * and its table's list of all waiters; guarded by the keyspace) ->
 * SERVED (its reply made, the element popped; on its worker's served list,
 * guarded by qlock) -> delivered and freed by its worker.  A WAITING
 * waiter whose client closes is taken off every list and freed, nothing
 * popped (srv_blk_cancel in process, srv_blk_conn_closed in the close
 * callback); a SERVED one is taken off the served list and freed.
 *
 * Invariants.
 *   - c->blk != NULL exactly while c has a waiter on its own worker; only
 *     c's worker sets or clears it.  A waiter stands for a client (c) or
 *     for a request held for another worker's client (msg), never both.
 *   - A queue is never empty except while it is ready or being served;
 *     it is freed when the last waiter leaves (and the table when the
 *     last queue goes, so an idle server holds nothing here).
 *   - The WAITING -> SERVED step happens under the keyspace, so the close
 *     path, which also takes it, sees one state or the other.
 *
 * Sharded keyspace.  A shard is its worker's alone, so there "the
 * keyspace" above is simply that worker's thread, and each shard has its
 * table.  A blocking request on the client's own worker's keys waits as
 * above.  One on another worker's keys runs there on the proxy connection,
 * as the reply to a message (shard.c): if it has to wait, the owner keeps
 * the message (srv_mail_hold) and the waiter stands for it; once served,
 * timed out or unblocked, the reply goes back in the message
 * (srv_mail_release), and the client's part of its reply chain completes.
 * The serving then happens at the key's owner, which holds the client's
 * reply part open until then; the client's own buffers stay its worker's.
 * Its worker runs none of the client's later requests while a blocking
 * one is out (c->blk_routed, net.c), as it would not while it waits here.
 * A client that closes sends the owner a cancel message
 * (srv_mail_cancel): the held request is answered with nothing popped,
 * which lets its worker free the connection.  CLIENT UNBLOCK finds a
 * waiter of any worker through a registry under its own mutex; for
 * another worker's waiter it marks it and wakes that worker, which
 * unblocks it in its async callback.
 */
#include "cmd.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Data
 * ====================================================================== */

typedef struct blk_queue blk_queue;

/* A waiter's place in the queue of one of its keys. */
typedef struct blk_node {
    struct blk_node *prev, *next;
    blk_queue *q;
    srv_waiter *wt;
    srv_sid after;              /* XREAD: entries after this ID are wanted */
} blk_node;

struct blk_queue {
    blk_node *head, *tail;      /* oldest first */
    blk_queue *rnext;           /* the table's ready list */
    bool ready, serving;
    srv_entry *e;               /* its entry in the table (the key) */
};

typedef struct srv_blk_table {
    srv_dict d;                 /* key -> queue (v.ptr) */
    blk_queue *rhead, *rtail;   /* ready keys, in the order they became so */
    srv_waiter *all;            /* its WAITING waiters (unblock requests, cancels) */
    srv_keyspace *ks;           /* the database it belongs to */
} srv_blk_table;

enum { W_WAITING, W_SERVED };

struct srv_waiter {
    srv_conn *c;                /* the client, or NULL for a held request */
    srv_msg *msg;               /* sharded: the request held for another worker */
    long long id;               /* the client's id (CLIENT UNBLOCK) */
    srv_worker *w;              /* the worker it waits on (c's, or msg's owner) */
    srv_waiter *rprev, *rnext;  /* the registry (guarded by reg_lock) */
    bool in_reg;
    _Atomic(int) unblock;       /* CLIENT UNBLOCK from another worker: 1 timeout, 2 error */
    srv_blk_spec spec;
    const srv_cmd *cmd;         /* the command that blocked (its statistics) */
    int state;
    uint64_t deadline;          /* srv_mono_us; 0: none */
    srv_waiter *tprev, *tnext;  /* w's timeout list (deadline != 0) */
    srv_waiter *aprev, *anext;  /* the table's list of all */
    srv_waiter *dnext;          /* w's served list */
    srv_blk_table *t;
    srv_buf reply;
    char *dst;                  /* MOVE: the destination key */
    size_t dstlen;
    char *grp;                  /* XREADGROUP: group then consumer bytes */
    size_t nkeys;
    void *slow;                 /* its slow-log entry, logged when answered */
    blk_node nodes[];           /* the key of node i is nodes[i].q->e */
};

static _Atomic(long long) nblocked;

/* Every WAITING waiter of every worker, for CLIENT UNBLOCK, which may run
 * on any worker (sharded, the waiter's shard is another thread's).  Taken
 * after the keyspace, never before it. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static srv_waiter *reg_head;

static void reg_add(srv_waiter *wt)
{
    pthread_mutex_lock(&reg_lock);
    wt->rprev = NULL;
    wt->rnext = reg_head;
    if (reg_head != NULL) {
        reg_head->rprev = wt;
    }
    reg_head = wt;
    wt->in_reg = true;
    pthread_mutex_unlock(&reg_lock);
}

/* Under reg_lock. */
static void reg_remove_locked(srv_waiter *wt)
{
    if (!wt->in_reg) {
        return;
    }
    if (wt->rprev != NULL) {
        wt->rprev->rnext = wt->rnext;
    } else {
        reg_head = wt->rnext;
    }
    if (wt->rnext != NULL) {
        wt->rnext->rprev = wt->rprev;
    }
    wt->in_reg = false;
}

long long srv_blocked_clients(void)
{
    return atomic_load_explicit(&nblocked, memory_order_relaxed);
}

static srv_blk_table *table_get(bool create)
{
    if (srv_ks.blk == NULL && create) {
        srv_ks.blk = calloc(1, sizeof *srv_ks.blk);
        if (srv_ks.blk != NULL) {
            srv_ks.blk->ks = srv_ks_cur;
        }
    }
    return srv_ks.blk;
}

/* Free the table when nothing waits any more. */
static void table_maybe_free(srv_blk_table *t)
{
    if (t->d.count == 0 && t->rhead == NULL && t->all == NULL && t->ks->blk == t) {
        t->ks->blk = NULL;
        srv_dict_clear(&t->d, NULL);
        free(t);
    }
}

static blk_queue *queue_find(srv_blk_table *t, const char *k, size_t n)
{
    srv_entry *e = srv_dict_find(&t->d, k, n, srv_hash_bytes(k, n));
    return e != NULL ? e->v.ptr : NULL;
}

static void queue_maybe_free(srv_blk_table *t, blk_queue *q)
{
    if (q->head == NULL && !q->ready && !q->serving) {
        srv_dict_remove(&t->d, q->e);
        free(q);
    }
}

static void ready_add(srv_blk_table *t, blk_queue *q)
{
    if (q->ready) {
        return;
    }
    q->ready = true;
    q->rnext = NULL;
    if (t->rtail != NULL) {
        t->rtail->rnext = q;
    } else {
        t->rhead = q;
    }
    t->rtail = q;
}

/* ======================================================================
 * Timeouts (the waiter's worker's list, guarded by the keyspace)
 * ====================================================================== */

static void on_timer(uv_timer_t *h);

/* Arm w's timer for its soonest deadline.  w's thread only. */
static void timer_arm(srv_worker *w)
{
    srv_waiter *first = w->blk_timeouts;
    if (!w->blk_timer_on || first == NULL || (w->blk_armed != 0 && w->blk_armed <= first->deadline)) {
        return;
    }
    uint64_t now = srv_mono_us();
    uint64_t ms = first->deadline > now ? (first->deadline - now + 999) / 1000 : 0;
    if (uv_timer_start(&w->blk_timer, on_timer, ms, 0) == 0) {
        w->blk_armed = first->deadline;
    }
}

static void timeout_add(srv_waiter *wt)
{
    srv_worker *w = wt->w;
    srv_waiter **pp = &w->blk_timeouts, *prev = NULL;
    while (*pp != NULL && (*pp)->deadline <= wt->deadline) {
        prev = *pp;
        pp = &(*pp)->tnext;
    }
    wt->tnext = *pp;
    wt->tprev = prev;
    if (*pp != NULL) {
        (*pp)->tprev = wt;
    }
    *pp = wt;
}

static void timeout_remove(srv_waiter *wt)
{
    if (wt->deadline == 0) {
        return;
    }
    if (wt->tprev != NULL) {
        wt->tprev->tnext = wt->tnext;
    } else {
        wt->w->blk_timeouts = wt->tnext;
    }
    if (wt->tnext != NULL) {
        wt->tnext->tprev = wt->tprev;
    }
    wt->tprev = wt->tnext = NULL;
}

/* ======================================================================
 * Waiters
 * ====================================================================== */

static void waiter_free(srv_waiter *wt)
{
    slowlog_drop(wt->slow);
    srv_buf_free(&wt->reply);
    free(wt->dst);
    free(wt->grp);
    free(wt);
}

/* Take the waiter's nodes off their queues. */
static void nodes_unlink(srv_waiter *wt)
{
    for (size_t i = 0; i < wt->nkeys; i++) {
        blk_node *n = &wt->nodes[i];
        blk_queue *q = n->q;
        if (n->prev != NULL) {
            n->prev->next = n->next;
        } else {
            q->head = n->next;
        }
        if (n->next != NULL) {
            n->next->prev = n->prev;
        } else {
            q->tail = n->prev;
        }
        queue_maybe_free(wt->t, q);
    }
    wt->nkeys = 0;
}

/* Take a WAITING waiter off its queues and lists.  Needs the keyspace. */
static void waiter_unlink(srv_waiter *wt)
{
    srv_blk_table *t = wt->t;
    nodes_unlink(wt);
    timeout_remove(wt);
    if (wt->aprev != NULL) {
        wt->aprev->anext = wt->anext;
    } else {
        t->all = wt->anext;
    }
    if (wt->anext != NULL) {
        wt->anext->aprev = wt->aprev;
    }
    pthread_mutex_lock(&reg_lock);
    reg_remove_locked(wt);
    pthread_mutex_unlock(&reg_lock);
    atomic_fetch_sub_explicit(&nblocked, 1, memory_order_relaxed);
}

/* The waiter's reply is made: hand it to its worker.  Needs the keyspace
 * (so that its close path sees SERVED and finds it on the list).  A held
 * request is answered instead (on its owner's thread, which serves it):
 * the reply goes back at the end of the round, or srv_mail_send. */
static void hand_over(srv_waiter *wt)
{
    cmd_note_reply_error(wt->cmd, &wt->reply, 0);
    slowlog_finish(wt->slow, 0);     // answered now: Redis logs a blocked command here
    wt->slow = NULL;
    if (wt->msg != NULL) {
        srv_mail_release(wt->msg, &wt->reply);
        waiter_free(wt);
        return;
    }
    srv_worker *w = wt->w;
    wt->state = W_SERVED;
    pthread_mutex_lock(&w->qlock);
    wt->dnext = w->blk_served;
    w->blk_served = wt;
    pthread_mutex_unlock(&w->qlock);
    // The async handle is open: w closes it only with no connection left,
    // and wt's connection cannot be freed before it takes the keyspace,
    // which this thread holds.
    int r = uv_async_send(&w->async);
    if (r != 0) {
        srv_log_limited("cannot wake worker %d for a blocked client: %s", w->index,
                        uv_strerror(r));
    }
}

static void serve_unblock_requests(srv_worker *w);

void srv_blk_deliver(srv_worker *w)
{
    if (atomic_exchange(&w->blk_unblock, false)) {
        serve_unblock_requests(w);
    }
    pthread_mutex_lock(&w->qlock);
    srv_waiter *list = w->blk_served;
    w->blk_served = NULL;
    pthread_mutex_unlock(&w->qlock);
    while (list != NULL) {
        srv_waiter *wt = list;
        list = wt->dnext;
        srv_conn *c = wt->c;
        srv_buf *out = srv_conn_out(c);
        srv_buf_append(out, wt->reply.data, wt->reply.len);
        if (wt->reply.oom) {
            out->oom = true;
        }
        c->blk = NULL;
        waiter_free(wt);
        srv_conn_mark_pending(c);  // the check callback after this poll runs it
    }
}

/* ======================================================================
 * Blocking
 * ====================================================================== */

bool block_timeout_arg(ctx *x, size_t i, uint64_t *deadline)
{
    // Redis's getTimeoutFromObjectOrReply: a long double in seconds, made
    // milliseconds, which must fit with the clock added.
    char tmp[512];
    size_t n = x->argl[i];
    const char *p = x->argv[i];
    if (n == 0 || n >= sizeof tmp || p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r')) {
        srv_reply_error(x->out, "ERR timeout is not a float or out of range");
        return false;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(tmp, &end);
    if (end != tmp + n || isnan(v) || (errno == ERANGE && (isinf(v) || v == 0))) {
        srv_reply_error(x->out, "ERR timeout is not a float or out of range");
        return false;
    }
    // Redis 7.0 rounds up to milliseconds (0.001 is a millisecond, not 0:
    // for ever) and casts, which on this architecture makes a value past
    // the range LLONG_MIN: negative.
    v = ceill(v * 1000.0L);
    long long ms = v >= 9223372036854775807.0L || v < -9223372036854775807.0L
                       ? LLONG_MIN
                       : (long long)v;
    if (ms < 0) {
        srv_reply_error(x->out, "ERR timeout is negative");
        return false;
    }
    if (ms > LLONG_MAX - srv_now_ms()) {
        srv_reply_error(x->out, "ERR timeout is out of range");
        return false;
    }
    *deadline = 0;
    if (ms > 0) {
        uint64_t us = srv_mono_us();
        // Saturate: a deadline past the clock's range is never reached.
        *deadline = (uint64_t)ms > (UINT64_MAX - us) / 1000 ? UINT64_MAX : us + (uint64_t)ms * 1000;
    }
    return true;
}

/* What a blocking command answers where it may not wait (inside EXEC),
 * and at its timeout: WAIT its replica count (always 0), the rest
 * nothing. */
static void reply_none(srv_buf *out, srv_blk_kind kind)
{
    if (kind == SRV_BLK_WAIT) {
        srv_reply_int(out, 0);
    } else if (kind == SRV_BLK_MOVE) {
        srv_reply_null(out);
    } else {
        srv_reply_null_array(out);
    }
}

static void reply_no_wait(ctx *x, const srv_blk_spec *s)
{
    reply_none(x->out, s->kind);
}

static bool same_key(ctx *x, size_t a, size_t b)
{
    return x->argl[a] == x->argl[b] && memcmp(x->argv[a], x->argv[b], x->argl[a]) == 0;
}

void block_on_keys(ctx *x, const srv_blk_spec *s, size_t first, size_t n, uint64_t deadline)
{
    srv_conn *c = x->c;
    // Inside EXEC or a script nothing waits (Redis's CLIENT_DENY_BLOCKING): EXEC runs
    // with c->multi set, or, routed, as a request other than this command.
    bool held = srv.cfg.sharded && c == srv_self->proxy;
    if (c->multi != NULL || c->in_script || (held && !srv_mail_is_running(x->argv))) {
        reply_no_wait(x, s);
        return;
    }
    srv_blk_table *t = table_get(true);
    srv_waiter *wt = t != NULL ? calloc(1, sizeof *wt + n * sizeof wt->nodes[0]) : NULL;
    if (wt == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    wt->w = srv_self;
    // The reply is made in the client's protocol: the buffer's settings
    // are x->out's, its bytes its own.
    wt->reply = *x->out;
    wt->reply.data = NULL;
    wt->reply.len = wt->reply.cap = 0;
    wt->reply.oom = false;
    if (held) {
        wt->msg = srv_mail_hold(&wt->id);  // the request running now: x's
    } else {
        wt->c = c;
        wt->id = c->id;
    }
    wt->cmd = cmd_find(x->argv[0], x->argl[0]);
    wt->spec = *s;
    wt->spec.ids = NULL;  // the caller's; copied into the nodes below
    if (s->kind == SRV_BLK_XREAD && s->group != NULL) {
        wt->grp = malloc(s->grouplen + s->consumerlen + 1);
        if (wt->grp == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            waiter_free(wt);
            table_maybe_free(t);
            return;
        }
        memcpy(wt->grp, s->group, s->grouplen);
        memcpy(wt->grp + s->grouplen, s->consumer, s->consumerlen);
        wt->spec.group = wt->grp;
        wt->spec.consumer = wt->grp + s->grouplen;
    }
    wt->state = W_WAITING;
    wt->deadline = deadline;
    wt->t = t;
    if (s->kind == SRV_BLK_MOVE) {
        wt->dstlen = x->argl[2];
        wt->dst = malloc(wt->dstlen + 1);
        if (wt->dst == NULL) {
            if (wt->msg != NULL) {
                srv_reply_error(&wt->reply, E_NOMEM);
                srv_mail_release(wt->msg, &wt->reply);
            } else {
                srv_reply_error(x->out, E_NOMEM);
            }
            waiter_free(wt);
            table_maybe_free(t);
            return;
        }
        memcpy(wt->dst, x->argv[2], wt->dstlen);
    }
    // One node per distinct key (BLPOP k k waits once on k), each at the
    // tail of its key's queue.
    for (size_t i = first; i < first + n; i++) {
        bool dup = false;
        for (size_t j = first; j < i && !dup; j++) {
            dup = same_key(x, i, j);
        }
        if (dup) {
            continue;
        }
        blk_queue *q = queue_find(t, x->argv[i], x->argl[i]);
        if (q == NULL) {
            q = calloc(1, sizeof *q);
            srv_entry *e = q != NULL ? srv_dict_add(&t->d, x->argv[i], x->argl[i],
                                                    srv_hash_bytes(x->argv[i], x->argl[i]))
                                     : NULL;
            if (e == NULL) {
                free(q);
                mw_err_clear();
                nodes_unlink(wt);
                if (wt->msg != NULL) {
                    srv_reply_error(&wt->reply, E_NOMEM);
                    srv_mail_release(wt->msg, &wt->reply);
                    waiter_free(wt);
                    table_maybe_free(t);
                    return;
                }
                waiter_free(wt);
                srv_reply_error(x->out, E_NOMEM);
                table_maybe_free(t);
                return;
            }
            e->v.ptr = q;
            q->e = e;
        }
        blk_node *node = &wt->nodes[wt->nkeys++];
        node->q = q;
        node->wt = wt;
        if (s->ids != NULL) {
            node->after = s->ids[i - first];
        }
        node->prev = q->tail;
        if (q->tail != NULL) {
            q->tail->next = node;
        } else {
            q->head = node;
        }
        q->tail = node;
    }
    wt->anext = t->all;
    if (t->all != NULL) {
        t->all->aprev = wt;
    }
    t->all = wt;
    atomic_fetch_add_explicit(&nblocked, 1, memory_order_relaxed);
    reg_add(wt);
    if (deadline != 0) {
        timeout_add(wt);
        timer_arm(wt->w);
    }
    if (wt->c != NULL) {
        c->blk = wt;
    }
}

/* ======================================================================
 * Serving
 * ====================================================================== */

static const mw_type *wanted_type(const srv_waiter *wt)
{
    return wt->spec.kind == SRV_BLK_ZPOP || wt->spec.kind == SRV_BLK_ZMPOP ? &srv_zset_type
                                                                           : &srv_list_type;
}

/* Serve the waiters of q, oldest first, while its key holds something
 * they wait for. */
static void serve_queue(srv_blk_table *t, blk_queue *q)
{
    const char *key = q->e->key;
    size_t klen = q->e->klen;
    blk_node *n = q->head;
    while (n != NULL) {
        srv_entry *e = srv_ks_find(key, klen);
        srv_waiter *wt = n->wt;
        blk_node *node = n;
        n = n->next;
        if (wt->spec.kind == SRV_BLK_XREAD) {
            // Streams decide themselves: new entries, or (XREADGROUP) a
            // stream or group gone, which ends the wait with an error.
            const char *av[4] = {"", key, wt->spec.group, wt->spec.consumer};
            size_t al[4] = {0, klen, wt->spec.grouplen, wt->spec.consumerlen};
            ctx sx = {.c = wt->c != NULL ? wt->c : wt->w->proxy, .out = &wt->reply,
                      .argc = wt->spec.group != NULL ? 4 : 2, .argv = av, .argl = al};
            if (!stream_serve(&sx, 1, &wt->spec, &node->after)) {
                continue;
            }
            waiter_unlink(wt);
            hand_over(wt);
            continue;
        }
        if (e == NULL || mw_type_of(e->v.obj) != wanted_type(wt)) {
            continue;  // Redis 7.0: a waiter of another type keeps waiting
        }
        const char *av[3] = {"", key, wt->dst};
        size_t al[3] = {0, klen, wt->dstlen};
        ctx sx = {.c = wt->c != NULL ? wt->c : wt->w->proxy, .out = &wt->reply,
                  .argc = wt->dst ? 3 : 2, .argv = av, .argl = al};
        if (wt->spec.kind == SRV_BLK_ZPOP || wt->spec.kind == SRV_BLK_ZMPOP) {
            zset_serve(&sx, 1, &wt->spec);
        } else {
            list_serve(&sx, 1, &wt->spec);
        }
        // The node after this waiter's may be the next one of the same
        // waiter only if it waited on the key twice, which it does not.
        waiter_unlink(wt);
        if (wt->dst != NULL) {
            srv_blk_touch(wt->dst, wt->dstlen);  // before hand_over, which may free wt
        }
        hand_over(wt);
    }
}

void srv_blk_touch(const char *key, size_t n)
{
    srv_blk_table *t = srv_ks.blk;
    if (t == NULL) {
        return;
    }
    blk_queue *q = queue_find(t, key, n);
    if (q != NULL) {
        ready_add(t, q);
    }
}

void srv_blk_touch_all(void)
{
    srv_blk_table *t = srv_ks.blk;
    if (t == NULL) {
        return;
    }
    for (srv_entry *e = t->d.first; e != NULL; e = e->onext) {
        ready_add(t, e->v.ptr);
    }
}

void srv_blk_serve(void)
{
    srv_blk_table *t = srv_ks.blk;
    if (t == NULL) {
        return;
    }
    while (t->rhead != NULL) {
        blk_queue *q = t->rhead;
        t->rhead = q->rnext;
        if (t->rhead == NULL) {
            t->rtail = NULL;
        }
        q->ready = false;
        q->serving = true;
        serve_queue(t, q);
        q->serving = false;
        queue_maybe_free(t, q);
    }
    table_maybe_free(t);
}

void srv_blk_defer_slowlog(ctx *x, const srv_cmd *c, uint64_t us)
{
    srv_waiter *wt = x->c->blk;
    if (wt != NULL && wt->slow == NULL) {
        wt->slow = slowlog_defer(x, c, us);
    }
}

bool srv_blk_waiting(void)
{
    return srv_ks.blk != NULL;
}

void srv_blk_touch_keys(const srv_keyspec *ks, size_t argc, const char **argv,
                        const size_t *argl)
{
    if (srv_ks.blk == NULL || ks->first <= 0 || (size_t)ks->first >= argc) {
        return;
    }
    size_t last = ks->last < 0 ? argc - (size_t)(-ks->last) : (size_t)ks->last;
    if (last >= argc) {
        last = argc - 1;
    }
    size_t step = ks->step > 0 ? (size_t)ks->step : 1;
    for (size_t i = (size_t)ks->first; i <= last; i += step) {
        srv_blk_touch(argv[i], argl[i]);
    }
}

/* ======================================================================
 * Leaving the wait: timeouts, CLIENT UNBLOCK, closed clients
 * ====================================================================== */

static void on_timer(uv_timer_t *h)
{
    srv_worker *w = h->data;
    w->blk_armed = 0;
    srv_enter();
    uint64_t now = srv_mono_us();
    while (w->blk_timeouts != NULL && w->blk_timeouts->deadline <= now) {
        srv_waiter *wt = w->blk_timeouts;
        srv_blk_table *t = wt->t;
        waiter_unlink(wt);
        reply_none(&wt->reply, wt->spec.kind == SRV_BLK_MOVE ? SRV_BLK_POP : wt->spec.kind);
        hand_over(wt);
        table_maybe_free(t);
    }
    timer_arm(w);
    srv_leave();
    if (srv.cfg.sharded) {
        srv_mail_send(w);  // answers to held requests
    }
}

/* Unblock wt now, with a null array or the -UNBLOCKED error.  Needs the
 * keyspace wt waits in. */
static void unblock_now(srv_waiter *wt, bool error)
{
    srv_blk_table *t = wt->t;
    waiter_unlink(wt);
    if (error) {
        srv_reply_error(&wt->reply, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    } else {
        reply_none(&wt->reply, wt->spec.kind == SRV_BLK_MOVE ? SRV_BLK_POP : wt->spec.kind);
    }
    hand_over(wt);
    table_maybe_free(t);
}

int srv_blk_unblock(long long id, bool error)
{
    pthread_mutex_lock(&reg_lock);
    srv_waiter *wt = reg_head;
    while (wt != NULL && wt->id != id) {
        wt = wt->rnext;
    }
    if (wt == NULL) {
        pthread_mutex_unlock(&reg_lock);
        return 0;
    }
    if (!srv.cfg.sharded || wt->w == srv_self) {
        // Its keyspace is the one this thread holds: nothing else can
        // change the waiter meanwhile.
        pthread_mutex_unlock(&reg_lock);
        unblock_now(wt, error);
        if (srv.cfg.sharded) {
            srv_mail_send(srv_self);
        }
        return 1;
    }
    // Another worker's shard: ask it.  Off the registry, so that a second
    // CLIENT UNBLOCK answers 0; woken under reg_lock, while the waiter,
    // hence its worker's handles, still exist.
    reg_remove_locked(wt);
    atomic_store(&wt->unblock, error ? 2 : 1);
    atomic_store(&wt->w->blk_unblock, true);
    int r = uv_async_send(&wt->w->async);
    pthread_mutex_unlock(&reg_lock);
    if (r != 0) {
        srv_log_limited("cannot wake worker %d for CLIENT UNBLOCK: %s", wt->w->index,
                        uv_strerror(r));
    }
    return 1;
}

/* The unblock requests other workers left for this one's waiters. */
static void serve_unblock_requests(srv_worker *w)
{
    srv_enter();
    bool any = false;
    for (int db = 0; db < srv.ndb; db++) {
        srv_blk_table *t = srv_ks_base[db].blk;
        srv_waiter *wt = t != NULL ? t->all : NULL;
        while (wt != NULL) {
            srv_waiter *next = wt->anext;
            int how = atomic_load(&wt->unblock);
            if (how != 0 && wt->w == w) {
                unblock_now(wt, how == 2);  // may free t: the last waiter
                any = true;
            }
            wt = next;
        }
    }
    srv_leave();
    if (any) {
        srv_mail_send(w);
    }
}

void srv_blk_cancel_held(srv_conn *c)
{
    for (int db = 0; db < srv.ndb; db++) {
        srv_blk_table *t = srv_ks_base[db].blk;
        for (srv_waiter *wt = t != NULL ? t->all : NULL; wt != NULL; wt = wt->anext) {
            if (wt->msg != NULL && srv_mail_is_from(wt->msg, c)) {
                waiter_unlink(wt);
                srv_reply_null_array(&wt->reply);
                hand_over(wt);  // the reply lets c's worker free it
                table_maybe_free(t);
                return;
            }
        }
    }
}

void srv_blk_cancel(srv_conn *c)
{
    srv_waiter *wt = c->blk;
    if (wt == NULL || wt->state != W_WAITING) {
        return;  // served: its reply is on the way, and the close path frees it
    }
    srv_blk_table *t = wt->t;
    waiter_unlink(wt);
    waiter_free(wt);
    c->blk = NULL;
    table_maybe_free(t);
}

void srv_blk_conn_closed(srv_conn *c)
{
    srv_enter();
    srv_waiter *wt = c->blk;
    if (wt->state == W_WAITING) {
        srv_blk_cancel(c);
    } else {
        srv_worker *w = c->w;
        pthread_mutex_lock(&w->qlock);
        for (srv_waiter **pp = &w->blk_served; *pp != NULL; pp = &(*pp)->dnext) {
            if (*pp == wt) {
                *pp = wt->dnext;
                break;
            }
        }
        pthread_mutex_unlock(&w->qlock);
        waiter_free(wt);
        c->blk = NULL;
    }
    srv_leave();
}

/* ======================================================================
 * Per worker
 * ====================================================================== */

int srv_blk_worker_init(srv_worker *w)
{
    int r = uv_timer_init(&w->loop, &w->blk_timer);
    if (r == 0) {
        w->blk_timer.data = w;
        w->blk_timer_on = true;
    }
    return r;
}

static void on_timer_closed(uv_handle_t *h)
{
    (void)h;
}

void srv_blk_worker_fini(srv_worker *w)
{
    if (w->blk_timer_on && !uv_is_closing((uv_handle_t *)&w->blk_timer)) {
        uv_close((uv_handle_t *)&w->blk_timer, on_timer_closed);
    }
}

/* ======================================================================
 * LMPOP, BLMPOP, ZMPOP, BZMPOP arguments
 * ====================================================================== */

bool mpop_args(ctx *x, size_t nk, bool zset, size_t *nkeys, srv_blk_spec *s)
{
    long long numkeys;
    if (!srv_str2ll(x->argv[nk], x->argl[nk], &numkeys) || numkeys < 1 || numkeys > LONG_MAX) {
        srv_reply_error(x->out, "ERR numkeys should be greater than 0");
        return false;
    }
    if ((unsigned long long)numkeys >= x->argc - nk - 1) {
        srv_reply_error(x->out, E_SYNTAX);
        return false;
    }
    size_t where = nk + (size_t)numkeys + 1;
    if (arg_is(x, where, zset ? "MIN" : "LEFT")) {
        s->left = true;
    } else if (arg_is(x, where, zset ? "MAX" : "RIGHT")) {
        s->left = false;
    } else {
        srv_reply_error(x->out, E_SYNTAX);
        return false;
    }
    s->count = -1;
    for (size_t j = where + 1; j < x->argc; j++) {
        if (s->count == -1 && arg_is(x, j, "COUNT") && j + 1 < x->argc) {
            j++;
            long long v;
            if (!srv_str2ll(x->argv[j], x->argl[j], &v) || v < 1 || v > LONG_MAX) {
                srv_reply_error(x->out, "ERR count should be greater than 0");
                return false;
            }
            s->count = v;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return false;
        }
    }
    if (s->count == -1) {
        s->count = 1;
    }
    if (srv_split()) {
        unsigned slot = srv_key_slot(x->argv[nk + 1], x->argl[nk + 1]);
        for (size_t k = nk + 2; k < where; k++) {
            if (srv_key_slot(x->argv[k], x->argl[k]) != slot) {
                srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
                return false;
            }
        }
    }
    *nkeys = (size_t)numkeys;
    return true;
}
