/*
 * server/net.c - worker threads, their libuv loops, and connections.
 *
 * Technique.  Each worker is a thread attached to the runtime with its own
 * uv_loop_t.  The main thread accepts connections and hands each socket to
 * a worker, round-robin, through a mutex-guarded queue and a uv_async_t.
 *
 * A worker is *idle* (mw_idle_begin: in GIL mode the GIL is released, and
 * under MW_GC_PAUSED the master may collect) except while it runs
 * commands.  libuv runs I/O callbacks (reads, write completions, the async
 * handle) inside its poll phase, so none of them may touch an object:
 * they only move bytes.  A read callback appends to the connection's query
 * buffer and puts the connection on the worker's pending list; the check
 * callback, which libuv runs right after each poll, leaves the idle state
 * once (taking the GIL, or in free mode the keyspace lock first), parses
 * and runs every complete request of every pending connection, goes idle
 * again, and only then writes the replies.  So one GIL hand-over serves a
 * whole batch of requests from many clients, and the writes happen without
 * the GIL.  Each worker's cron timer (a safepoint; on worker 0 also active
 * expiry and statistics) brackets its
 * work the same way.
 *
 * Pipelining: all complete requests in the query buffer are run in one go
 * and their replies appended to one output buffer, which is written with
 * one uv_try_write; what the kernel does not take is handed to uv_write
 * (the buffer is swapped, not copied) and replies produced meanwhile wait
 * in the other buffer.  A client whose unwritten replies pass
 * SRV_OUT_SOFT_MAX gets no more requests run until it reads.
 *
 * Pub/sub messages other workers queued for this worker's connections
 * (pubsub.c) are written to their output at the start of each check
 * callback, before the batch runs, and again after it (for what the batch
 * itself published); a wake-up for them is the async handle's.
 *
 * Connection states: reading -> (eof | error | QUIT | protocol error:
 * close_after_write) -> closing (uv_close called) -> freed in the close
 * callback.  A connection is on the pending list at most once
 * (in_pending).
 *
 * The client registry (CLIENT LIST, CLIENT KILL, INFO clients).  Every
 * connection is also on one global list, guarded by srv_clients_lock, so
 * any worker can walk every client.  Invariants: a connection is linked
 * from the end of conn_new until the start of its close callback, and is
 * not freed while linked, so a walker holding the lock may read it; what
 * a walker reads is fixed at the start (id, addresses, fd, created_ms),
 * guarded by the lock (name), or an atomic its owner writes (last command,
 * protocol).  A walker never closes another worker's connection: it sets
 * the connection's kill flag and wakes the owner's loop (its async handle
 * is open, since the owner still has this connection), which closes it
 * there (on_async).  No lock is taken on the command path.
 *
 * Stopping (SIGINT/SIGTERM): the main thread stops accepting and wakes each
 * worker; a worker stops reading, runs the requests already received,
 * sends the replies, closes each connection once its replies are out, and
 * after five seconds closes whatever is left.  When its last connection is
 * closed it closes its handles and its loop ends.
 */
#include "server.h"
#include "rdb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void close_conn(srv_conn *c);
static void flush(srv_conn *c);
static void close_worker_handles(srv_worker *w);

pthread_mutex_t srv_clients_lock = PTHREAD_MUTEX_INITIALIZER;
/* CLIENT PAUSE: until when (ms since the epoch; 0 none), and whether every
 * command waits or only writes.  Relaxed: a worker that sees the pause a
 * moment late runs one more batch, as a command racing PAUSE would. */
static _Atomic(int64_t) pause_until;
static _Atomic(bool) pause_all;
static srv_conn *clients_head, *clients_tail;   /* guarded by srv_clients_lock */

/* ======================================================================
 * Entering and leaving the object world
 * ====================================================================== */

/* Start running object code: in free mode take the keyspace lock while
 * still idle (so a collection that stops the world is not held up by a
 * thread waiting for the lock), then leave the idle state. */
static bool keyspace_lock_needed(void)
{
    return srv.cfg.lock == MW_LOCK_FREE && !srv.cfg.sharded;
}

static void enter(void)
{
    if (keyspace_lock_needed()) {
        pthread_mutex_lock(&srv.ks_lock);
    }
    mw_idle_end();
}

static void leave(void)
{
    mw_idle_begin();
    if (keyspace_lock_needed()) {
        pthread_mutex_unlock(&srv.ks_lock);
    }
}

void srv_enter(void)
{
    enter();
}

void srv_leave(void)
{
    leave();
}

/* ======================================================================
 * Reading and running requests
 * ====================================================================== */

static void mark_pending(srv_conn *c)
{
    if (c->in_pending || c->closing) {
        return;
    }
    c->in_pending = true;
    c->pnext = c->w->pending;
    c->w->pending = c;
}

void srv_conn_mark_pending(srv_conn *c)
{
    mark_pending(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    srv_conn *c = h->data;
    if (c->qstart == c->qlen) {
        c->qstart = c->qlen = 0;
    } else if (c->qstart > 0 && (c->qstart >= c->qcap / 2 || c->qcap - c->qlen < 4096)) {
        // The parser keeps offsets from the request start, so moving the
        // unparsed bytes down keeps it valid.
        memmove(c->qbuf, c->qbuf + c->qstart, c->qlen - c->qstart);
        c->qlen -= c->qstart;
        if (c->qneed > 0) {
            c->qneed -= c->qstart;
        }
        c->qstart = 0;
    }
    size_t want = SRV_READ_CHUNK;
    if (c->qneed > c->qlen && c->qneed - c->qlen > want) {
        want = c->qneed - c->qlen;  // a large bulk is coming: room for all of it
    }
    if (c->qcap - c->qlen < want) {
        size_t cap = c->qcap ? c->qcap * 2 : SRV_READ_CHUNK;
        if (cap < c->qlen + want) {
            cap = c->qlen + want;
        }
        char *q = realloc(c->qbuf, cap);
        if (q == NULL) {
            buf->base = NULL;
            buf->len = 0;  // libuv reports UV_ENOBUFS to on_read
            return;
        }
        c->qbuf = q;
        c->qcap = cap;
    }
    buf->base = c->qbuf + c->qlen;
    buf->len = c->qcap - c->qlen;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    srv_conn *c = s->data;
    if (nread > 0) {
        c->qlen += (size_t)nread;
        atomic_fetch_add_explicit(&c->w->net_in, nread, memory_order_relaxed);
        if ((long long)(c->qlen - c->qstart) > srv.cfg.querybuf_max) {
            srv_log_limited("client %lld (%s): closed, query buffer over %lld bytes",
                            c->id, c->addr, srv.cfg.querybuf_max);
            close_conn(c);
            return;
        }
        mark_pending(c);
    } else if (nread < 0) {
        if (nread != UV_EOF) {
            srv_log_limited("client %lld (%s): read error: %s", c->id, c->addr,
                            uv_strerror((int)nread));
        }
        uv_read_stop(s);
        c->eof = true;
        mark_pending(c);
    }
}

static bool grow_args(srv_conn *c, size_t n)
{
    if (n <= c->argcap) {
        return true;
    }
    size_t cap = c->argcap ? c->argcap : 16;
    while (cap < n) {
        cap *= 2;
    }
    const char **v = realloc(c->argv, cap * sizeof *v);
    if (v == NULL) {
        return false;
    }
    c->argv = v;
    size_t *l = realloc(c->argl, cap * sizeof *l);
    if (l == NULL) {
        return false;
    }
    c->argl = l;
    c->argcap = cap;
    return true;
}

/* Whether c's further requests wait: it is blocked here, or (sharded) a
 * blocking command of it went to another worker and not every reply is
 * in yet. */
static bool held_back(srv_conn *c)
{
    if (c->blk_routed && c->nwait == 0) {
        c->blk_routed = false;
    }
    return c->blk != NULL || c->blk_routed;
}

static void pause_release(srv_worker *w);

void srv_pause(long long ms, bool all)
{
    if (ms == 0) {
        // Other workers release what waits at their next cron (within
        // SRV_CRON_MS): waking them here could reach a worker that is
        // closing its handles at shutdown.
        atomic_store(&pause_until, 0);
        if (srv_self != NULL) {
            pause_release(srv_self);
        }
        return;
    }
    int64_t until = srv_now_ms() + ms;
    // As Redis: a pause never gets shorter, nor weaker, by a new one.
    if (atomic_load(&pause_until) > until) {
        until = atomic_load(&pause_until);
    }
    if (atomic_load(&pause_until) == 0 || !atomic_load(&pause_all)) {
        atomic_store(&pause_all, all);
    }
    atomic_store(&pause_until, until);
}

/* Whether c's next request (parsed into c->argv) waits for a pause. */
static bool pause_holds(srv_conn *c)
{
    int64_t until = atomic_load_explicit(&pause_until, memory_order_relaxed);
    if (until == 0 || srv_now_ms() >= until) {
        return false;
    }
    // An inline request was unquoted in place and cannot be parsed again:
    // it runs.
    return c->qbuf[c->qstart] == '*' &&
           srv_command_paused(c->argv[0], c->argl[0], atomic_load(&pause_all));
}

/* Let requests that waited for a pause run, once it is over.  On w's
 * thread (on_async, on_cron). */
static void pause_release(srv_worker *w)
{
    int64_t until = atomic_load_explicit(&pause_until, memory_order_relaxed);
    if (until != 0 && srv_now_ms() < until) {
        return;
    }
    for (srv_conn *c = w->conns; c != NULL; c = c->next) {
        if (c->held) {
            c->held = false;
            mark_pending(c);
        }
    }
}

/* Run the complete requests in c's query buffer.  Needs the keyspace. */
static void process(srv_conn *c)
{
    unsigned ran = 0;
    // A blocked client (c->blk) runs nothing more until it is served; one
    // whose request waits for CLIENT PAUSE (c->held) neither.
    while (!c->closing && !c->close_after_write && c->qstart < c->qlen && !c->held &&
           c->out.len <= SRV_OUT_SOFT_MAX && c->nwait < SRV_MAX_WAIT && !held_back(c)) {
        size_t consumed = 0, need = 0;
        srv_resp_status st = srv_resp_parse(&c->parser, c->qbuf + c->qstart,
                                            c->qlen - c->qstart, &consumed, &need);
        if (st == SRV_RESP_AGAIN) {
            c->qneed = need ? c->qstart + need : 0;
            break;
        }
        if (st == SRV_RESP_ERR) {
            srv_log_limited("client %lld (%s): %s", c->id, c->addr, c->parser.error);
            srv_reply_errorf(srv_conn_out(c), "ERR %s", c->parser.error);
            c->close_after_write = true;
            break;
        }
        c->qneed = 0;
        size_t argc = c->parser.argc;
        if (argc > 0) {
            if (!grow_args(c, argc)) {
                srv_log_limited("client %lld (%s): out of memory", c->id, c->addr);
                close_conn(c);
                return;
            }
            char *base = c->qbuf + c->qstart;
            for (size_t i = 0; i < argc; i++) {
                c->argv[i] = base + c->parser.arg_off[i];
                c->argl[i] = c->parser.arg_len[i];
            }
            if (pause_holds(c)) {
                c->held = true;  // parsed again when the pause is over
                break;
            }
            srv_execute(c, argc, c->argv, c->argl);
            atomic_store_explicit(&c->w->commands,
                                  atomic_load_explicit(&c->w->commands, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            if (++ran % SRV_SAFEPOINT_EVERY == 0) {
                mw_safepoint();
            }
        }
        c->qstart += consumed;
    }
    if (c->qstart == c->qlen && c->qcap > 4 * SRV_READ_CHUNK) {
        // The buffer that held a large request is not kept.
        free(c->qbuf);
        c->qbuf = NULL;
        c->qcap = c->qlen = c->qstart = 0;
    }
    if (c->eof && c->blk != NULL) {
        srv_blk_cancel(c);  // it went away while blocked: nothing is popped for it
    }
    if (c->eof && c->blk_routed && c->nwait > 0) {
        c->blk_routed = false;
        srv_mail_cancel(c, c->blk_owner);  // the same at the owner; its answer lets c close
    }
    if (c->eof && c->qstart == c->qlen) {
        c->close_after_write = true;
    }
    if (c->eof && c->qstart < c->qlen && c->out.len <= SRV_OUT_SOFT_MAX && !c->held) {
        c->close_after_write = true;  // a truncated request that cannot complete
    }
    if (c->out.oom || srv_conn_out(c)->oom) {
        srv_log_limited("client %lld (%s): out of memory for replies", c->id, c->addr);
        close_conn(c);
    }
}

/* ---------------------------------------------------------------- busy */

/* Read what c's socket holds now, as libuv's read callback would. */
static void read_now(srv_conn *c)
{
    uv_os_fd_t fd;
    if (c->eof || uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        return;
    }
    for (int i = 0; i < 4 && !c->closing && !c->eof; i++) {
        uv_buf_t b;
        on_alloc((uv_handle_t *)&c->tcp, SRV_READ_CHUNK, &b);
        if (b.base == NULL) {
            return;
        }
        ssize_t n = recv(fd, b.base, b.len, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return;  // EAGAIN, or an error libuv's own read will report
        }
        on_read((uv_stream_t *)&c->tcp, n > 0 ? n : UV_EOF, &b);
        if ((size_t)n < b.len) {
            return;
        }
    }
}

static void adopt_sockets(srv_worker *w);

void srv_busy_poll(srv_conn *running)
{
    static __thread bool polling;
    if (polling) {
        return;
    }
    polling = true;
    srv_keyspace *ks = srv_ks_cur;  // the script's database, whatever runs now
    if (!srv.cfg.sharded) {
        // Other workers' turn: they answer -BUSY, or run SCRIPT KILL.
        leave();
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
        enter();
    }
    srv_worker *w = srv_self;
    adopt_sockets(w);  // a new client may be the one sending SCRIPT KILL
    for (srv_conn *c = w->conns; c != NULL; c = c->next) {
        if (c == running || c->closing || c->in_script) {
            continue;
        }
        read_now(c);
        if (c->qstart < c->qlen || c->eof) {
            process(c);
        }
        if (!c->closing) {
            flush(c);
        }
    }
    srv_ks_cur = ks;
    polling = false;
}

static void check_drained(srv_worker *w);

/* Rounds of one check callback before the loop polls for I/O again. */
#define CHECK_ROUNDS 64

/* The check callback: run what was read (and, sharded, what other workers
 * sent), in rounds, until a round finds nothing new; then write.  One
 * round hands everything it produced for another worker over at once. */
static void on_check(uv_check_t *h)
{
    srv_worker *w = h->data;
    bool sharded = srv.cfg.sharded;
    srv_pubsub_flush(w);  // messages published elsewhere go before what runs now
    if (w->pending == NULL && (!sharded || !srv_mail_waiting(w))) {
        if (sharded) {
            check_drained(w);
        }
        return;  // nothing read: stay idle, do not touch the GIL
    }
    srv_conn *flushes = NULL;
    if (sharded) {
        atomic_store(&w->awake, true);
    }
    enter();
    for (int round = 0; round < CHECK_ROUNDS; round++) {
        size_t mail = sharded ? srv_mail_run(w) : 0;
        // The list was pushed newest first; run it in the order the
        // clients became ready, as Redis's event loop does, so a request
        // read before another one on a second connection runs first.
        srv_conn *list = NULL;
        for (srv_conn *c = w->pending, *next; c != NULL; c = next) {
            next = c->pnext;
            c->pnext = list;
            list = c;
        }
        w->pending = NULL;
        for (srv_conn *c = list, *next; c != NULL; c = next) {
            next = c->pnext;  // c may be marked pending again while it runs
            c->in_pending = false;
            if (!c->closing) {
                process(c);
            }
            if (!c->in_flush) {
                c->in_flush = true;
                c->fnext = flushes;
                flushes = c;
            }
        }
        if (!sharded) {
            break;  // only reads add to the list, and none ran meanwhile
        }
        srv_ks_publish();  // before the replies go: INFO after a write sees it
        srv_mail_send(w);
        if (mail == 0 && list == NULL) {
            break;
        }
    }
    leave();
    // Replies go out without the GIL.  Closed connections are freed only in
    // a later loop phase, so walking the list is safe.
    for (srv_conn *c = flushes; c != NULL;) {
        srv_conn *next = c->fnext;
        c->in_flush = false;
        flush(c);
        c = next;
    }
    srv_pubsub_flush(w);  // what this batch published to this worker's clients
    if (sharded) {
        atomic_store(&w->awake, false);  // then look: see srv_mail_send
        if (w->pending != NULL || srv_mail_waiting(w)) {
            srv_worker_wake(w);  // more than CHECK_ROUNDS worth: come back at once
        }
        check_drained(w);
    }
}

/* ======================================================================
 * Writing
 * ====================================================================== */

static void on_write(uv_write_t *req, int status)
{
    srv_conn *c = req->data;
    c->writing = false;
    if (c->closing) {
        return;
    }
    if (status < 0) {
        srv_log_limited("client %lld (%s): write error: %s", c->id, c->addr, uv_strerror(status));
        close_conn(c);
        return;
    }
    c->inflight.len = 0;
    if (c->inflight.cap > 4 * SRV_READ_CHUNK) {
        srv_buf_free(&c->inflight);
    }
    if (c->qstart < c->qlen) {
        mark_pending(c);  // requests held back while replies were queued
    }
    flush(c);
}

static void flush(srv_conn *c)
{
    if (c->closing || c->writing) {
        return;
    }
    if (c->out.len == 0) {
        if (c->close_after_write && c->phead == NULL) {
            close_conn(c);
        }
        return;
    }
    uv_buf_t b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == UV_EAGAIN || n == UV_ENOSYS) {
        n = 0;
    }
    if (n < 0) {
        srv_log_limited("client %lld (%s): write error: %s", c->id, c->addr, uv_strerror(n));
        close_conn(c);
        return;
    }
    atomic_fetch_add_explicit(&c->w->net_out, n, memory_order_relaxed);
    if ((size_t)n == c->out.len) {
        c->out.len = 0;
        if (c->out.cap > 4 * SRV_READ_CHUNK) {
            srv_buf_free(&c->out);  // a huge reply's buffer is not kept
        }
        if (c->close_after_write && c->phead == NULL) {
            close_conn(c);
        }
        return;
    }
    srv_buf t = c->inflight;
    c->inflight = c->out;
    c->out = t;
    c->out.len = 0;
    b = uv_buf_init(c->inflight.data + n, (unsigned)(c->inflight.len - (size_t)n));
    c->wreq.data = c;
    int r = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (r < 0) {
        srv_log_limited("client %lld (%s): write error: %s", c->id, c->addr, uv_strerror(r));
        close_conn(c);
        return;
    }
    atomic_fetch_add_explicit(&c->w->net_out, (long long)(c->inflight.len - (size_t)n),
                              memory_order_relaxed);
    c->writing = true;
}

/* ======================================================================
 * Connections
 * ====================================================================== */

static void conn_free(srv_conn *c)
{
    srv_multi_conn_free(c);  // the queued transaction, and watches (needs no keyspace)
    srv_conn_free_parts(c);
    free(c->qbuf);
    srv_buf_free(&c->out);
    srv_buf_free(&c->inflight);
    srv_resp_parser_free(&c->parser);
    free(c->argv);
    free(c->argl);
    free(c->name);
    free(c);
}

/* ======================================================================
 * The client registry
 * ====================================================================== */

static void registry_add(srv_conn *c)
{
    pthread_mutex_lock(&srv_clients_lock);
    c->rprev = clients_tail;
    c->rnext = NULL;
    if (clients_tail != NULL) {
        clients_tail->rnext = c;
    } else {
        clients_head = c;
    }
    clients_tail = c;
    c->registered = true;
    pthread_mutex_unlock(&srv_clients_lock);
}

static void registry_remove(srv_conn *c)
{
    if (!c->registered) {
        return;
    }
    pthread_mutex_lock(&srv_clients_lock);
    if (c->rprev != NULL) {
        c->rprev->rnext = c->rnext;
    } else {
        clients_head = c->rnext;
    }
    if (c->rnext != NULL) {
        c->rnext->rprev = c->rprev;
    } else {
        clients_tail = c->rprev;
    }
    c->registered = false;
    pthread_mutex_unlock(&srv_clients_lock);
}

void srv_clients_each(void (*fn)(srv_conn *c, void *arg), void *arg)
{
    pthread_mutex_lock(&srv_clients_lock);
    for (srv_conn *c = clients_head; c != NULL; c = c->rnext) {
        fn(c, arg);
    }
    pthread_mutex_unlock(&srv_clients_lock);
}

bool srv_conn_set_name(srv_conn *c, const char *p, size_t n)
{
    char *copy = NULL;
    if (n > 0) {
        copy = malloc(n + 1);
        if (copy == NULL) {
            return false;
        }
        memcpy(copy, p, n);
        copy[n] = '\0';
    }
    pthread_mutex_lock(&srv_clients_lock);
    char *old = c->name;
    c->name = copy;
    pthread_mutex_unlock(&srv_clients_lock);
    free(old);
    return true;
}

void srv_conn_kill(srv_conn *c, srv_conn *self)
{
    if (c == self) {
        c->close_after_write = true;  // after the reply to CLIENT KILL
    } else if (c->w == srv_self) {
        close_conn(c);
    } else if (!atomic_exchange(&c->kill, true)) {
        // The owner still has c (it is linked), so its async handle is open.
        int r = uv_async_send(&c->w->async);
        if (r != 0) {
            srv_log("worker %d: cannot be woken to kill a client: %s", c->w->index,
                    uv_strerror(r));
        }
    }
}

void srv_conn_buffers(srv_conn *c, size_t *qbuf, size_t *qfree, size_t *obl, size_t *omem)
{
    *qbuf = *qfree = *obl = *omem = 0;
    if (c->w != srv_self) {
        return;  // another worker's: not ours to read
    }
    *qbuf = c->qlen - c->qstart;
    *qfree = c->qcap - c->qlen;
    *obl = c->out.len;
    *omem = c->inflight.len;
}

static void on_close(uv_handle_t *h)
{
    srv_conn *c = h->data;
    srv_worker *w = c->w;
    registry_remove(c);
    srv_pubsub_conn_gone(c);  // no message or subscription names c after this
    if (c->in_pending) {
        for (srv_conn **pp = &w->pending; *pp != NULL; pp = &(*pp)->pnext) {
            if (*pp == c) {
                *pp = c->pnext;
                break;
            }
        }
        c->in_pending = false;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        w->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    w->nconns--;
    atomic_fetch_sub(&srv.clients, 1);
    if (c->blk != NULL) {
        srv_blk_conn_closed(c);  // before the worker may close its handles
    }
    if (c->blk_routed && c->nwait > 0) {
        srv_mail_cancel(c, c->blk_owner);  // a request held at the owner is dropped
    }
    if (c->nwait > 0) {
        c->zombie = true;  // other workers still answer it: freed at the last reply
    } else {
        conn_free(c);
    }
    if (w->stopping && w->nconns == 0) {
        if (srv.cfg.sharded) {
            check_drained(w);
        } else {
            close_worker_handles(w);
        }
    }
}

void srv_conn_replied(srv_conn *c)
{
    if (c->zombie) {
        if (c->nwait == 0) {
            conn_free(c);
        }
        return;
    }
    mark_pending(c);  // replies to write, and requests that waited behind them
}

static void close_conn(srv_conn *c)
{
    if (c->closing) {
        return;
    }
    c->closing = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

void srv_conn_flush(srv_conn *c)
{
    flush(c);
}

void srv_conn_close(srv_conn *c)
{
    close_conn(c);
}

/* "ip:port" of ss into dst, or "?" (ss NULL: the name was not known). */
static void format_addr(char *dst, size_t cap, const struct sockaddr_storage *ss)
{
    char ip[48] = "?";
    int port = 0;
    if (ss == NULL) {
        snprintf(dst, cap, "?");
        return;
    }
    if (ss->ss_family == AF_INET) {
        uv_ip4_name((const struct sockaddr_in *)ss, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)ss, ip, sizeof ip);
        port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
    }
    snprintf(dst, cap, "%s:%d", ip, port);
}

static void conn_new(srv_worker *w, int fd)
{
    srv_conn *c = calloc(1, sizeof *c);
    if (c == NULL) {
        srv_log_limited("out of memory for a new client");
        close(fd);
        atomic_fetch_sub(&srv.clients, 1);
        return;
    }
    c->w = w;
    c->tcp.data = c;
    int r = uv_tcp_init(&w->loop, &c->tcp);
    if (r < 0) {
        srv_log_limited("uv_tcp_init: %s", uv_strerror(r));
        close(fd);
        free(c);
        atomic_fetch_sub(&srv.clients, 1);
        return;
    }
    c->next = w->conns;
    if (w->conns != NULL) {
        w->conns->prev = c;
    }
    w->conns = c;
    w->nconns++;
    c->id = atomic_fetch_add(&srv.next_client_id, 1);
    c->created_ms = srv_now_ms();
    c->resp = 2;
    c->fd = fd;
    atomic_store_explicit(&c->pub_resp, 2, memory_order_relaxed);
    atomic_store_explicit(&c->last_ms, c->created_ms, memory_order_relaxed);
    atomic_store_explicit(&c->last_cmd, "NULL", memory_order_relaxed);
    srv_resp_parser_init(&c->parser);
    c->parser.bulk_max = srv.cfg.bulk_max;
    c->parser.mbulk_max = srv.cfg.mbulk_max;
    c->authed = !atomic_load(&srv.has_pass);
    c->parser.unauth = !c->authed;
    r = uv_tcp_open(&c->tcp, fd);
    if (r < 0) {
        srv_log_limited("uv_tcp_open: %s", uv_strerror(r));
        close(fd);
        close_conn(c);
        return;
    }
    r = uv_tcp_nodelay(&c->tcp, 1);
    if (r < 0) {
        srv_log_limited("client %lld: TCP_NODELAY: %s", c->id, uv_strerror(r));
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    format_addr(c->addr, sizeof c->addr,
                uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0 ? &ss : NULL);
    len = sizeof ss;
    format_addr(c->laddr, sizeof c->laddr,
                uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&ss, &len) == 0 ? &ss : NULL);
    registry_add(c);
    if (w->stopping) {
        close_conn(c);
        return;
    }
    r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r < 0) {
        srv_log_limited("uv_read_start: %s", uv_strerror(r));
        close_conn(c);
    }
}

/* ======================================================================
 * The worker
 * ====================================================================== */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

/* Sharded shutdown.  A worker is drained once it is stopping, has no
 * connection and nothing in flight; from then on it sends no request,
 * only replies to workers that have something in flight (so are not
 * drained, so keep their mail handles open).  It keeps its own mail
 * handle open, to answer the others, until every worker is drained: the
 * last to get there wakes them all, under srv_mail_lock, and each closes
 * its handles.  No wake-up can then reach a closed handle. */
static _Atomic(int) ndrained;

static void check_drained(srv_worker *w)
{
    if (!w->stopping) {
        return;
    }
    if (!w->drained && w->nconns == 0 && w->inflight == 0) {
        w->drained = true;
        if (atomic_fetch_add(&ndrained, 1) + 1 == srv.nworkers) {
            pthread_mutex_lock(&srv_mail_lock);
            for (int i = 0; i < srv.nworkers; i++) {
                if (srv.workers[i].mail_open) {
                    srv_worker_wake(&srv.workers[i]);
                }
            }
            pthread_mutex_unlock(&srv_mail_lock);
        }
    }
    if (w->drained && atomic_load(&ndrained) == srv.nworkers) {
        close_worker_handles(w);
    }
}

void srv_worker_wake(srv_worker *w)
{
    uint64_t one = 1;
    // Fails only if the counter would overflow (it is read at every
    // wake-up) or on a bad descriptor (a closed handle: a bug, logged).
    while (write(w->mail_fd, &one, sizeof one) < 0) {
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN) {
            srv_log_limited("cannot wake worker %d: %s", w->index, strerror(errno));
        }
        break;
    }
}

/* The mail handle only wakes the loop: the check callback that follows
 * reads the mailbox.  Reading the eventfd resets it. */
static void on_mail(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    srv_worker *w = h->data;
    uint64_t n;
    while (read(w->mail_fd, &n, sizeof n) < 0 && errno == EINTR) {
    }
    check_drained(w);
}

/* The eventfd outlives its poll handle until the handle is closed. */
static void on_mail_closed(uv_handle_t *h)
{
    srv_worker *w = h->data;
    close(w->mail_fd);
    w->mail_fd = -1;
}

static void close_worker_handles(srv_worker *w)
{
    if (srv.cfg.sharded) {
        pthread_mutex_lock(&srv_mail_lock);
        if (w->mail_open) {
            w->mail_open = false;
            uv_close((uv_handle_t *)&w->mail, on_mail_closed);
        }
        pthread_mutex_unlock(&srv_mail_lock);
    }
    if (!uv_is_closing((uv_handle_t *)&w->async)) {
        pthread_mutex_lock(&w->qlock);
        w->async_open = false;      // no sender reaches it from now on
        pthread_mutex_unlock(&w->qlock);
        uv_close((uv_handle_t *)&w->async, on_handle_closed);
    }
    if (!uv_is_closing((uv_handle_t *)&w->check)) {
        uv_close((uv_handle_t *)&w->check, on_handle_closed);
    }
    if (w->cron_on && !uv_is_closing((uv_handle_t *)&w->cron)) {
        uv_close((uv_handle_t *)&w->cron, on_handle_closed);
    }
    if (w->stop_timer_on && !uv_is_closing((uv_handle_t *)&w->stop_timer)) {
        uv_close((uv_handle_t *)&w->stop_timer, on_handle_closed);
    }
    srv_blk_worker_fini(w);
}

static void on_stop_timeout(uv_timer_t *t)
{
    srv_worker *w = t->data;
    if (w->nconns > 0) {
        srv_log("worker %d: closing %lld clients that did not finish in time", w->index, w->nconns);
    }
    for (srv_conn *c = w->conns; c != NULL; c = c->next) {
        close_conn(c);
    }
}

static void begin_stop(srv_worker *w)
{
    w->stopping = true;
    if (w->cron_on) {
        uv_timer_stop(&w->cron);
    }
    if (w->nconns == 0) {
        if (srv.cfg.sharded) {
            check_drained(w);
        } else {
            close_worker_handles(w);
        }
        return;
    }
    if (uv_timer_init(&w->loop, &w->stop_timer) == 0) {
        w->stop_timer_on = true;
        w->stop_timer.data = w;
        int r = uv_timer_start(&w->stop_timer, on_stop_timeout, 5000, 0);
        if (r != 0) {
            srv_log("worker %d: no shutdown timer (%s): waiting for every client",
                    w->index, uv_strerror(r));
        }
    }
    for (srv_conn *c = w->conns; c != NULL; c = c->next) {
        if (!c->closing) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->eof = true;  // run what was received, reply, then close
            mark_pending(c);
        }
    }
}

/* Take the sockets the main thread handed this worker. */
static void adopt_sockets(srv_worker *w)
{
    pthread_mutex_lock(&w->qlock);
    int *fds = w->fds;
    size_t n = w->nfds;
    w->fds = NULL;
    w->nfds = w->capfds = 0;
    pthread_mutex_unlock(&w->qlock);
    for (size_t i = 0; i < n; i++) {
        conn_new(w, fds[i]);
    }
    free(fds);
}

static void on_async(uv_async_t *h)
{
    srv_worker *w = h->data;
    srv_blk_deliver(w);  // replies for blocked clients, served by any worker
    adopt_sockets(w);
    pause_release(w);
    // CLIENT KILL from other workers: they flag, the owner closes.
    for (srv_conn *c = w->conns; c != NULL; c = c->next) {
        if (atomic_load_explicit(&c->kill, memory_order_relaxed) && !c->closing) {
            close_conn(c);
        }
    }
    if (atomic_load(&srv.stopping) && !w->stopping) {
        begin_stop(w);
    }
}

/* Every worker's cron: a safepoint at least every SRV_CRON_MS, even on a
 * worker with no clients (leaving the idle state and going back runs
 * mw_safepoint, which frees the objects other workers dropped that this
 * one made: under --lock free, FLUSHALL on one worker frees values made
 * on another only then).  Worker 0 also expires keys and keeps the
 * figures. */
static void on_cron(uv_timer_t *t)
{
    srv_worker *w = t->data;
    pause_release(w);
    enter();
    if ((w->index == 0 || srv.cfg.sharded) && !srv_script_busy()) {
        // (not while a script is half done: it let the others in)
        uint64_t t0 = srv_latency_on() ? srv_mono_us() : 0;
        srv_ks_active_expire();  // each shard's owner expires its own keys
        if (t0 != 0) {
            srv_latency_add("expire-cycle", (long long)((srv_mono_us() - t0) / 1000));
        }
        srv_ks_evict();          // and evicts its own past maxmemory
    }
    srv_rdb_cron(w->index);      // its part of a background save (rdb.c)
    if (srv.cfg.sharded) {
        srv_ks_publish();
    }
    leave();
    srv_pubsub_flush(w);  // "expired" events of the keys it expired, to its own clients
    if (w->index != 0) {
        return;
    }
    atomic_store(&srv.memory_used, srv_memory_used(NULL, NULL));
    long long cmds = 0;
    for (int i = 0; i < srv.nworkers; i++) {
        cmds += atomic_load_explicit(&srv.workers[i].commands, memory_order_relaxed);
    }
    uint64_t now = srv_mono_us();
    if (w->last_cron_us != 0 && now > w->last_cron_us) {
        atomic_store(&srv.ops_per_sec,
                     (long long)((cmds - w->last_commands) * 1000000.0 / (double)(now - w->last_cron_us)));
    }
    w->last_commands = cmds;
    w->last_cron_us = now;
}

static void worker_main(void *arg)
{
    srv_worker *w = arg;
    srv_self = w;
    srv_ks_base = srv_ks_of(srv.cfg.sharded ? w->index : 0, 0);
    srv_ks_cur = srv_ks_base;
    int r = mw_thread_attach(srv.rt);
    if (r != 0) {
        w->start_error = r;
        uv_sem_post(w->started);
        return;
    }
    if (srv.cfg.sharded) {
        // The shard's objects are this worker's alone: its heap is
        // confined, so it collects it without stopping the others, and the
        // runtime refuses any object of it that would reach another thread.
        if (mw_thread_confine() != 0) {
            srv_log("worker %d: cannot confine its heap: %s", w->index, mw_err_message());
            mw_err_clear();
            mw_thread_detach();
            w->start_error = UV_EINVAL;
            uv_sem_post(w->started);
            return;
        }
        atomic_store(&w->thread_id, mw_thread_id());
    }
    if (!srv_rdb_load_worker(w->index)) {   // the keys it owns, from the snapshot
        w->start_error = UV_EINVAL;
        uv_sem_post(w->started);
        mw_thread_detach();
        return;
    }
    r = uv_loop_init(&w->loop);
    if (r == 0 && srv.cfg.sharded) {
        r = srv_shard_worker_init(w);
        if (r == 0) {
            w->mail_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            r = w->mail_fd < 0 ? uv_translate_sys_error(errno)
                               : uv_poll_init(&w->loop, &w->mail, w->mail_fd);
            if (r == 0) {
                w->mail.data = w;
                r = uv_poll_start(&w->mail, UV_READABLE, on_mail);
                w->mail_open = true;   // closed by close_worker_handles
            } else if (w->mail_fd >= 0) {
                close(w->mail_fd);
                w->mail_fd = -1;
            }
        }
        if (r != 0) {
            uv_loop_close(&w->loop);
        }
    }
    if (r == 0) {
        r = uv_async_init(&w->loop, &w->async, on_async);
        w->async.data = w;
        pthread_mutex_lock(&w->qlock);
        w->async_open = r == 0;
        pthread_mutex_unlock(&w->qlock);
        if (r != 0) {
            uv_loop_close(&w->loop);
        }
    }
    if (r == 0) {
        r = uv_check_init(&w->loop, &w->check);  // cannot fail in libuv 1.x
        w->check.data = w;
        if (r == 0) {
            r = uv_check_start(&w->check, on_check);
        }
    }
    if (r == 0) {
        r = srv_blk_worker_init(w);
    }
    if (r == 0) {
        r = uv_timer_init(&w->loop, &w->cron);
        w->cron.data = w;
        if (r == 0) {
            w->cron_on = true;
            r = uv_timer_start(&w->cron, on_cron, SRV_CRON_MS, SRV_CRON_MS);
        }
    }
    if (r != 0) {
        srv_log("worker %d: cannot set up its loop: %s", w->index, uv_strerror(r));
    }
    w->start_error = r;
    w->loop_ok = r == 0;
    uv_sem_post(w->started);
    if (r != 0) {
        mw_thread_detach();
        return;
    }
    mw_idle_begin();
    r = uv_run(&w->loop, UV_RUN_DEFAULT);
    mw_idle_end();
    srv_rdb_stop(w->index);     // SHUTDOWN SAVE: its part of the snapshot
    if (srv.cfg.sharded) {
        srv_ks_flush_all();  // the shard's values die with their owner, not elsewhere
        srv_ks_publish();
        srv_shard_worker_fini(w);
    }
    r = uv_loop_close(&w->loop);
    if (r != 0) {
        srv_log("worker %d: loop close: %s", w->index, uv_strerror(r));
    }
    srv_script_thread_end();
    mw_thread_detach();
}

int srv_worker_start(srv_worker *w, int index, uv_sem_t *started)
{
    w->index = index;
    w->started = started;
    pthread_mutex_init(&w->qlock, NULL);
    return uv_thread_create(&w->thread, worker_main, w);
}

void srv_worker_give_fd(srv_worker *w, int fd)
{
    pthread_mutex_lock(&w->qlock);
    if (!w->async_open) {
        pthread_mutex_unlock(&w->qlock);    // it is stopping: nobody would take fd
        close(fd);
        atomic_fetch_sub(&srv.clients, 1);
        return;
    }
    if (w->nfds == w->capfds) {
        size_t cap = w->capfds ? w->capfds * 2 : 16;
        int *f = realloc(w->fds, cap * sizeof *f);
        if (f == NULL) {
            pthread_mutex_unlock(&w->qlock);
            srv_log_limited("out of memory handing a client to worker %d", w->index);
            close(fd);
            atomic_fetch_sub(&srv.clients, 1);
            return;
        }
        w->fds = f;
        w->capfds = cap;
    }
    w->fds[w->nfds++] = fd;
    int r = uv_async_send(&w->async);
    pthread_mutex_unlock(&w->qlock);
    if (r != 0) {
        srv_log("uv_async_send: %s", uv_strerror(r));
    }
}

void srv_worker_stop(srv_worker *w)
{
    // A worker woken by something else may already have seen srv.stopping,
    // stopped and closed its async handle: then there is nothing to wake.
    pthread_mutex_lock(&w->qlock);
    int r = w->async_open ? uv_async_send(&w->async) : 0;
    pthread_mutex_unlock(&w->qlock);
    if (r != 0) {
        srv_log("worker %d: cannot be woken to stop: %s", w->index, uv_strerror(r));
    }
}
