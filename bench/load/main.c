/*
 * main.c - mwrt-load: a RESP load generator on libuv and hiredis.
 *
 * Technique.  Each of --threads worker threads runs its own libuv loop and
 * owns a share of the connections, each a hiredis async context attached
 * to that loop through hiredis's libuv adapter.  Requests are expanded from
 * the workload's templates straight into RESP (workload.c) and queued with
 * redisAsyncFormattedCommand; hiredis writes whatever is queued when the
 * socket is writable, so a connection with several requests in flight
 * pipelines them.
 *
 *   Closed loop (default): each connection keeps --pipeline requests in
 *   flight and sends a new one as each reply arrives.  Latency is measured
 *   from the actual send.
 *
 *   Open loop (--rate R): each worker follows a fixed schedule of R/threads
 *   requests per second, request j intended at t0 + j * I and assigned to
 *   connection j mod nconns (so each connection has its own evenly spaced
 *   schedule, phase-shifted from its neighbours).  A timerfd, armed at the
 *   next intended time with 1 ns timer slack and watched through uv_poll,
 *   wakes the loop on time (libuv's own timers have millisecond
 *   resolution, which would add up to a millisecond to every latency).
 *   A request that is due while its connection already has --pipeline
 *   requests in flight waits, and its latency is still measured from its
 *   intended time: this is the coordinated-omission correction wrk2 makes,
 *   so a server stall shows up in the latency of every request that should
 *   have been sent during it, not just the one that was stuck.
 *
 * Data structures.  Per connection, a ring of --pipeline pending entries
 * (intended and actual send time); replies come back in order, so the
 * head of the ring is the request a reply answers.  Per worker, the
 * histogram and counters of the current interval, under a mutex the main
 * thread takes once per --interval to move them into the time series and
 * the run's totals.  Recording a reply is one uncontended lock.
 *
 * Ending.  A worker stops sending when its share of -n is sent or its
 * --duration is up, waits up to --timeout for the replies still in flight
 * (those that never come are timeouts), then closes its connections and
 * its loop ends.  A connection whose oldest request has waited --timeout
 * is dropped (its requests counted as timeouts) and reopened.  A
 * connection lost without being asked to (the server went away) stops the
 * whole run: the main thread sets a stop flag that every worker polls
 * every 20 ms, the requests in flight are counted as dropped, and the
 * partial results are written with a non-zero exit status.  A hard cap
 * (--hard-cap) ends the run whatever else happens, and SIGINT/SIGTERM end
 * it early with partial results.
 *
 * Invariants.  For every worker, outstanding == the sum of its
 * connections' ring counts; sent == ok + errors + timeouts + dropped once
 * every loop has ended.  A callback whose context is no longer its
 * connection's current one (we freed it) does nothing, so nothing is
 * counted twice.  Only the owning worker touches a connection.
 *
 * Not handled: RESP3, AUTH/SELECT, TLS, Unix sockets, cluster redirects;
 * the open loop's schedule does not adapt (by design).
 */
#define _GNU_SOURCE
#include "load.h"
#include "../bench_util.h"

#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

/* How often a worker looks at the stop flag, its deadline and its
 * connections' timeouts (ms). */
#define CHECK_MS 20

enum {
    STOP_NONE = 0,
    STOP_GONE,     /* a connection was lost: the server went away */
    STOP_CONNECT,  /* could not connect at all */
    STOP_SIGNAL,
    STOP_HARDCAP,
};

typedef struct run run;
typedef struct worker worker;

typedef struct pending {
    uint64_t intended, sent;
    int cmd; /* which template of the workload */
} pending;

typedef struct conn {
    worker *w;
    int idx;
    redisAsyncContext *ac; /* NULL while closed */
    pending *ring;
    unsigned head, count;
    unsigned unwritten; /* the newest ring entries, queued but not yet written */
    int flush_pending;  /* on the worker's flush list */
    struct conn *next_flush;
    uint64_t due; /* open loop: requests due but not yet sent */
    uint64_t seq; /* open loop: requests of this connection's schedule sent */
    int setup;    /* AUTH / SELECT replies still to come; no requests before */
} conn;

struct worker {
    run *r;
    int id;
    uv_loop_t loop;
    uv_timer_t check, finish;
    int tfd;
    uv_poll_t tpoll;
    conn *conns;
    int nconns;
    mwl_rng rng;
    mwl_keydist kd;
    char *buf;
    size_t bufcap;

    uint64_t budget;  /* requests this worker may send or schedule */
    uint64_t issued;  /* closed: requests sent; open: next schedule index */
    uint64_t due_total;
    uint64_t seq;     /* requests made, for --dist seq */
    uint64_t t0, deadline, drain_deadline;
    double interval_ns;
    uint64_t outstanding;
    conn *flush_head;   /* connections with requests to write (flush_writes) */
    int flushing;
    int stopping, finishing;
    int got_reply; /* a reply came: a failed connect now means the server went away */
    uint64_t sent, unsent; /* read by the main thread only after join */
    pthread_t thread;

    pthread_mutex_t lock; /* guards everything below */
    mwl_hist iv;
    uint64_t iv_ok, iv_errors, iv_timeouts, iv_dropped;
    uint64_t first_send, last_reply;
    char first_error[200];
    /* Per command (template) of the workload, for the whole run: read by
     * the main thread only after join. */
    mwl_hist *cmd_h;
    uint64_t *cmd_errors;
};

struct run {
    const mwl_options *o;
    uint64_t start;
    atomic_int stop;
    pthread_mutex_t msg_lock;
    char message[300];
    worker *workers;
    char *data;

    uv_loop_t loop;
    uv_timer_t tick, hardcap;
    uv_async_t done;
    uv_signal_t sigint, sigterm;
    atomic_int workers_done;
    int closing;

    mwl_hist total, scratch, progress;
    mwl_totals t;
    uint64_t last_tick, last_progress;
    uint64_t progress_errors, progress_timeouts;
    int tty;
    FILE *csv;
    int csv_failed;
    char first_error[200];
};

static void request_stop(run *r, int why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record why the run stops (the first reason wins). */
static void request_stop(run *r, int why, const char *fmt, ...)
{
    int expected = STOP_NONE;

    if (atomic_compare_exchange_strong(&r->stop, &expected, why)) {
        va_list ap;
        pthread_mutex_lock(&r->msg_lock);
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
        pthread_mutex_unlock(&r->msg_lock);
    }
}

/* ========================================================================
 * Worker: sending and receiving
 * ======================================================================== */

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);
static void conn_open(conn *c);
static void schedule_finish(worker *w);
static void flush_writes(worker *w);

static uint64_t intended_time(const worker *w, const conn *c)
{
    double j = (double)(c->seq * (uint64_t)w->nconns + (uint64_t)c->idx);
    return w->t0 + (uint64_t)(j * w->interval_ns);
}

/* Expand the next request into w->buf, growing it if needed.  Returns the
 * length, or -1 (out of memory: the request is not made). */
static long build_request(worker *w, int *cmd)
{
    const mwl_options *o = w->r->o;
    const mwl_template *t = mwl_workload_pick(&o->workload, &w->rng);
    *cmd = (int)(t - o->workload.t);
    uint64_t seq = w->seq * (uint64_t)o->threads + (uint64_t)w->id;
    // Draw only the keys the command uses (a zipf draw costs a log and an exp).
    uint64_t k1 = t->uses_key ? mwl_keydist_sample(&w->kd, &w->rng, seq) : 0;
    uint64_t k2 = t->uses_key2 ? mwl_keydist_sample(&w->kd, &w->rng, seq + 1) : 0;
    if (t->keys) {
        k1 %= t->keys;
        k2 %= t->keys;
    }

    w->seq++;
    for (;;) {
        long n = mwl_template_expand(t, o->prefix, k1, k2, w->r->data, o->data_size, w->buf,
                                     w->bufcap);
        if (n >= 0) {
            return n;
        }
        char *bigger = realloc(w->buf, w->bufcap * 2);
        if (!bigger) {
            return -1;
        }
        w->buf = bigger;
        w->bufcap *= 2;
    }
}

static int more_to_send(const worker *w)
{
    if (w->stopping) {
        return 0;
    }
    return w->issued < w->budget || w->due_total > 0;
}

/* Send what this connection may send now: up to --pipeline in flight;
 * closed loop while the budget and duration last, open loop what is due. */
static void try_send(conn *c)
{
    worker *w = c->w;
    const mwl_options *o = w->r->o;
    int open_loop = o->rate > 0;

    while (c->ac && c->setup == 0 && c->count < (unsigned)o->pipeline && !w->stopping) {
        uint64_t now = read_clock_ns(), intended;
        if (open_loop) {
            if (c->due == 0) {
                break;
            }
            intended = intended_time(w, c);
        } else {
            if (w->issued >= w->budget || now >= w->deadline) {
                break;
            }
            intended = now;
        }
        int cmd;
        long len = build_request(w, &cmd);
        if (len < 0) {
            request_stop(w->r, STOP_GONE, "out of memory building a request");
            break;
        }
        if (redisAsyncFormattedCommand(c->ac, on_reply, c, w->buf, (size_t)len) != REDIS_OK) {
            break; // the context is going away; its disconnect callback says why
        }
        c->ring[(c->head + c->count) % (unsigned)o->pipeline] = (pending){intended, now, cmd};
        c->count++;
        c->unwritten++;
        w->outstanding++;
        w->sent++;
        if (w->sent == 1) {
            pthread_mutex_lock(&w->lock);
            w->first_send = now;
            pthread_mutex_unlock(&w->lock);
        }
        if (open_loop) {
            c->due--;
            c->seq++;
            w->due_total--;
        } else {
            w->issued++;
        }
    }
}

static void on_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
    conn *c = privdata;
    worker *w = c->w;
    redisReply *reply = reply_;
    unsigned cap = (unsigned)w->r->o->pipeline;

    if (ac != c->ac || c->count == 0) {
        return; // a context we abandoned: its requests are already counted
    }
    pending p = c->ring[c->head];
    c->head = (c->head + 1) % cap;
    c->count--;
    if (c->unwritten > c->count) {
        c->unwritten = c->count; // answered before we saw the write: keep the queue time
    }
    w->outstanding--;

    uint64_t now = read_clock_ns();
    pthread_mutex_lock(&w->lock);
    if (!reply) {
        w->iv_dropped++;
    } else {
        uint64_t lat = now > p.intended ? now - p.intended : 0;
        mwl_hist_record(&w->iv, lat);
        mwl_hist_record(&w->cmd_h[p.cmd], lat);
        if (reply->type == REDIS_REPLY_ERROR) {
            w->iv_errors++;
            w->cmd_errors[p.cmd]++;
            if (!w->first_error[0]) {
                snprintf(w->first_error, sizeof w->first_error, "%.*s", (int)reply->len,
                         reply->str ? reply->str : "");
            }
        } else {
            w->iv_ok++;
        }
        w->last_reply = now;
        w->got_reply = 1;
    }
    pthread_mutex_unlock(&w->lock);
    if (!reply) {
        return; // the connection is going away
    }
    try_send(c);
    if (!more_to_send(w) && w->outstanding == 0) {
        schedule_finish(w);
    }
}

/* ========================================================================
 * Worker: connections
 * ======================================================================== */

/* The reply to AUTH or SELECT, sent first on every connection (-a, --user,
 * --dbnum).  An error reply stops the run: every request would fail the
 * same way.  The connection sends requests once the last one is in. */
static void on_setup_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
    conn *c = privdata;
    worker *w = c->w;
    redisReply *reply = reply_;

    if (ac != c->ac || !reply || c->setup == 0) {
        return; // abandoned, or going away: the disconnect callback says why
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        const mwl_options *o = w->r->o;
        // With both, AUTH's reply comes while two are due.
        const char *what = o->auth && (o->dbnum < 0 || c->setup == 2) ? "AUTH" : "SELECT";
        request_stop(w->r, STOP_CONNECT, "%s:%d refused %s: %.*s", o->host, o->port, what,
                     (int)reply->len, reply->str ? reply->str : "");
        return; // on_check sees the stop and ends the worker
    }
    w->got_reply = 1;
    if (--c->setup == 0) {
        try_send(c);
        if (!more_to_send(w) && w->outstanding == 0) {
            schedule_finish(w);
        }
    }
}

/* Queue AUTH and SELECT on a new connection; they go out before anything
 * else and their replies come first. */
static void conn_setup(conn *c)
{
    const mwl_options *o = c->w->r->o;

    c->setup = 0;
    if (o->auth) {
        int rc = o->user[0] ? redisAsyncCommand(c->ac, on_setup_reply, c, "AUTH %s %s", o->user,
                                                o->password)
                            : redisAsyncCommand(c->ac, on_setup_reply, c, "AUTH %s", o->password);
        if (rc == REDIS_OK) {
            c->setup++;
        }
    }
    if (o->dbnum >= 0 &&
        redisAsyncCommand(c->ac, on_setup_reply, c, "SELECT %d", o->dbnum) == REDIS_OK) {
        c->setup++;
    }
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    conn *c = ac->data;

    if (status != REDIS_OK && c && c->ac == ac) {
        request_stop(c->w->r, c->w->got_reply ? STOP_GONE : STOP_CONNECT,
                     "cannot connect to %s:%d: %s", c->w->r->o->host,
                     c->w->r->o->port, ac->errstr);
        c->ac = NULL; // hiredis frees the context after this callback
        c->w->outstanding -= c->count;
        pthread_mutex_lock(&c->w->lock);
        c->w->iv_dropped += c->count;
        pthread_mutex_unlock(&c->w->lock);
        c->count = 0;
        c->unwritten = 0;
    }
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    conn *c = ac->data;

    if (!c || c->ac != ac) {
        return; // we closed it
    }
    c->ac = NULL;
    // The pending callbacks ran with NULL replies before this one.
    if (!c->w->finishing) {
        request_stop(c->w->r, STOP_GONE, "connection to %s:%d lost: %s", c->w->r->o->host,
                     c->w->r->o->port,
                     status == REDIS_OK ? "closed" : (ac->errstr[0] ? ac->errstr : "closed by the server"));
    }
}

/* ------------------------------------------------------------------------
 * Event hooks.  hiredis's libuv adapter attaches the context and cleans it
 * up; these replace its four event hooks and its poll callback, for three
 * reasons found by measuring:
 *   - the adapter restarts the uv_poll handle on every queued command, and
 *     uv_poll_start drops the fd from epoll and adds it back: two epoll_ctl
 *     calls per request, 15% of the run in profiles; here the handle is
 *     restarted only when the set of events changes;
 *   - the adapter ignores the error status libuv reports for a refused
 *     connect or a reset connection (libuv has stopped the handle by then),
 *     so hiredis would never hear of it; here hiredis is told to read, finds
 *     the error and disconnects;
 *   - a closed-loop request's send time is taken when hiredis writes it,
 *     not when it is queued, as redis-benchmark does, so the client's own
 *     queueing is not counted as server latency.
 * ------------------------------------------------------------------------ */

/* Requests queued on c since the last write are being written now. */
static void stamp_written(conn *c, uint64_t now)
{
    unsigned cap = (unsigned)c->w->r->o->pipeline;
    int closed_loop = c->w->r->o->rate <= 0;

    for (unsigned i = c->count - c->unwritten; i < c->count; i++) {
        pending *p = &c->ring[(c->head + i) % cap];
        p->sent = now;
        if (closed_loop) {
            p->intended = now;
        }
    }
    c->unwritten = 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    redisLibuvEvents *p = h->data;
    redisAsyncContext *ac = p->context;

    if (!ac) {
        return;
    }
    conn *c = ac->data;
    worker *w = c->w;
    if (status < 0) {
        p->events = 0; // libuv has stopped the handle
        redisAsyncHandleRead(ac);
        flush_writes(w);
        return;
    }
    if (events & UV_READABLE) {
        redisAsyncHandleRead(ac);
    }
    if (p->context && (events & UV_WRITABLE)) {
        if (c->ac == ac) {
            stamp_written(c, read_clock_ns());
        }
        redisAsyncHandleWrite(ac);
    }
    flush_writes(w);
}

static void set_events(redisLibuvEvents *p, int events)
{
    if (events == p->events) {
        return;
    }
    p->events = events;
    if (events) {
        uv_poll_start(&p->handle, events, on_poll);
    } else {
        uv_poll_stop(&p->handle);
    }
}

static void ev_add_read(void *privdata)
{
    redisLibuvEvents *p = privdata;
    set_events(p, p->events | UV_READABLE);
}

static void ev_del_read(void *privdata)
{
    redisLibuvEvents *p = privdata;
    set_events(p, p->events & ~UV_READABLE);
}

/* hiredis asks to be told when it may write: a connected context's
 * requests are instead written at the end of the current callback
 * (flush_writes), saving the round trip through epoll for writability and
 * the two epoll_ctl calls around it; only what a write leaves behind waits
 * for the socket to become writable. */
static void ev_add_write(void *privdata)
{
    redisLibuvEvents *p = privdata;
    redisAsyncContext *ac = p->context;
    conn *c = ac ? ac->data : NULL;

    if (c && c->ac == ac && !c->w->flushing && (ac->c.flags & REDIS_CONNECTED)) {
        if (!c->flush_pending) {
            c->flush_pending = 1;
            c->next_flush = c->w->flush_head;
            c->w->flush_head = c;
        }
        return;
    }
    set_events(p, p->events | UV_WRITABLE);
}

/* Write what the connections queued during this callback. */
static void flush_writes(worker *w)
{
    uint64_t now = read_clock_ns();

    w->flushing = 1;
    while (w->flush_head) {
        conn *c = w->flush_head;
        w->flush_head = c->next_flush;
        c->flush_pending = 0;
        if (c->ac && (c->ac->c.flags & REDIS_CONNECTED)) {
            stamp_written(c, now);
            redisAsyncHandleWrite(c->ac);
        }
    }
    w->flushing = 0;
}

static void ev_del_write(void *privdata)
{
    redisLibuvEvents *p = privdata;
    set_events(p, p->events & ~UV_WRITABLE);
}

static void conn_open(conn *c)
{
    worker *w = c->w;
    const mwl_options *o = w->r->o;
    redisAsyncContext *ac = redisAsyncConnect(o->host, o->port);

    c->head = 0;
    c->count = 0;
    c->unwritten = 0;
    if (!ac) {
        request_stop(w->r, STOP_CONNECT, "cannot connect to %s:%d: out of memory", o->host, o->port);
        return;
    }
    if (ac->err) {
        request_stop(w->r, STOP_CONNECT, "cannot connect to %s:%d: %s", o->host, o->port,
                     ac->errstr);
        redisAsyncFree(ac);
        return;
    }
    ac->data = c;
    if (redisLibuvAttach(ac, &w->loop) != REDIS_OK) {
        request_stop(w->r, STOP_CONNECT, "cannot attach a connection to the event loop");
        redisAsyncFree(ac);
        return;
    }
    ac->ev.addRead = ev_add_read; // see "Event hooks" above
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    c->ac = ac;
    conn_setup(c);
}

/* Close c's context now; its requests in flight count as timeouts (or as
 * dropped), and its callbacks are ignored from here on. */
static void conn_abandon(conn *c, int as_timeouts)
{
    worker *w = c->w;
    redisAsyncContext *ac = c->ac;

    if (!ac) {
        return;
    }
    c->ac = NULL;
    w->outstanding -= c->count;
    pthread_mutex_lock(&w->lock);
    if (as_timeouts) {
        w->iv_timeouts += c->count;
    } else {
        w->iv_dropped += c->count;
    }
    pthread_mutex_unlock(&w->lock);
    c->count = 0;
    c->head = 0;
    c->unwritten = 0;
    redisAsyncFree(ac);
}

/* ========================================================================
 * Worker: schedule, checks and the end
 * ======================================================================== */

static void arm_schedule(worker *w);

/* Open loop: hand every request whose time has come to its connection. */
static void dispatch_due(worker *w, uint64_t now)
{
    while (!w->stopping && w->issued < w->budget) {
        uint64_t at = w->t0 + (uint64_t)((double)w->issued * w->interval_ns);
        if (at > now) {
            break;
        }
        if (at >= w->deadline) {
            w->budget = w->issued; // the duration is up: schedule no more
            break;
        }
        conn *c = &w->conns[w->issued % (uint64_t)w->nconns];
        c->due++;
        w->due_total++;
        w->issued++;
        try_send(c);
    }
}

static void on_timerfd(uv_poll_t *h, int status, int events)
{
    worker *w = h->data;
    uint64_t expirations;

    if (status < 0) {
        request_stop(w->r, STOP_GONE, "timer poll failed: %s", uv_strerror(status));
        return;
    }
    if (read(w->tfd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) {
        request_stop(w->r, STOP_GONE, "timerfd read failed: %s", strerror(errno));
        return;
    }
    dispatch_due(w, read_clock_ns());
    arm_schedule(w);
    flush_writes(w);
}

/* Arm the timerfd for the next intended send, or stop watching it. */
static void arm_schedule(worker *w)
{
    if (w->stopping || w->issued >= w->budget) {
        uv_poll_stop(&w->tpoll);
        if (!more_to_send(w) && w->outstanding == 0) {
            schedule_finish(w);
        }
        return;
    }
    uint64_t at = w->t0 + (uint64_t)((double)w->issued * w->interval_ns);
    struct itimerspec its = {0};
    its.it_value.tv_sec = (time_t)(at / 1000000000u);
    its.it_value.tv_nsec = (long)(at % 1000000000u);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) {
        its.it_value.tv_nsec = 1; // zero would disarm
    }
    if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
        request_stop(w->r, STOP_GONE, "timerfd_settime failed: %s", strerror(errno));
    }
}

static void begin_stop(worker *w, uint64_t now)
{
    if (w->stopping) {
        return;
    }
    w->stopping = 1;
    w->drain_deadline = now + (uint64_t)(w->r->o->timeout * 1e9);
    if (w->tfd >= 0) {
        uv_poll_stop(&w->tpoll);
    }
    if (w->outstanding == 0) {
        schedule_finish(w);
    }
}

static void on_close_tpoll(uv_handle_t *h)
{
    worker *w = h->data;

    if (w->tfd >= 0) {
        close(w->tfd);
        w->tfd = -1;
    }
}

static void on_finish(uv_timer_t *t)
{
    worker *w = t->data;

    if (w->finishing) {
        return;
    }
    w->finishing = 1;
    for (int i = 0; i < w->nconns; i++) {
        conn_abandon(&w->conns[i], 0);
        w->unsent += w->conns[i].due;
    }
    if (w->r->o->rate > 0 && w->budget != UINT64_MAX && w->issued < w->budget &&
        w->r->o->duration == 0) {
        w->unsent += w->budget - w->issued; // -n not reached before the stop
    }
    uv_close((uv_handle_t *)&w->check, NULL);
    uv_close((uv_handle_t *)&w->finish, NULL);
    if (w->tfd >= 0) {
        uv_close((uv_handle_t *)&w->tpoll, on_close_tpoll);
    }
}

/* End the worker from the loop, not from inside a hiredis callback (where
 * freeing the context would pull it from under hiredis). */
static void schedule_finish(worker *w)
{
    if (!w->finishing) {
        uv_timer_start(&w->finish, on_finish, 0, 0);
    }
}

/* Whether c's connect has failed, which then stops the run.  hiredis 0.14's
 * libuv adapter ignores the error status libuv reports for a refused
 * connect (and libuv stops the poll handle), so hiredis would never hear of
 * it; the socket's pending error tells us instead. */
static int conn_failed(conn *c)
{
    worker *w = c->w;
    int soerr = 0;
    socklen_t len = sizeof soerr;

    if (getsockopt(c->ac->c.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0) {
        soerr = errno;
    }
    if (soerr == 0) {
        return 0;
    }
    request_stop(w->r, w->got_reply ? STOP_GONE : STOP_CONNECT, "cannot connect to %s:%d: %s",
                 w->r->o->host, w->r->o->port, strerror(soerr));
    conn_abandon(c, 0);
    return 1;
}

static void on_check(uv_timer_t *t)
{
    worker *w = t->data;
    const mwl_options *o = w->r->o;
    uint64_t now = read_clock_ns();

    if (w->finishing) {
        return;
    }
    if (atomic_load(&w->r->stop) != STOP_NONE) {
        w->stopping = 1;
        schedule_finish(w);
        return;
    }
    if (!w->stopping && now >= w->deadline) {
        begin_stop(w, now);
    }
    if (w->stopping && w->outstanding > 0 && now >= w->drain_deadline) {
        for (int i = 0; i < w->nconns; i++) {
            conn_abandon(&w->conns[i], 1);
        }
        schedule_finish(w);
        return;
    }
    uint64_t limit = (uint64_t)(o->timeout * 1e9);
    for (int i = 0; i < w->nconns; i++) {
        conn *c = &w->conns[i];
        if (c->ac && !(c->ac->c.flags & REDIS_CONNECTED) && conn_failed(c)) {
            continue;
        }
        if (c->ac && c->count > 0 && now - c->ring[c->head].sent > limit) {
            conn_abandon(c, 1);
            if (!w->stopping) {
                conn_open(c);
                try_send(c);
            }
        }
    }
    if (!more_to_send(w) && w->outstanding == 0) {
        schedule_finish(w);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    run *r = w->r;
    const mwl_options *o = r->o;

    // Wake-ups for the open loop's schedule on time, not 50 µs late.
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    w->t0 = read_clock_ns();
    w->deadline = o->duration > 0 ? w->t0 + (uint64_t)(o->duration * 1e9) : UINT64_MAX;
    for (int i = 0; i < w->nconns; i++) {
        conn_open(&w->conns[i]);
    }
    if (o->rate > 0) {
        if (uv_poll_start(&w->tpoll, UV_READABLE, on_timerfd) < 0) {
            request_stop(r, STOP_CONNECT, "cannot watch the timerfd");
        }
        dispatch_due(w, w->t0);
        arm_schedule(w);
    } else {
        for (int i = 0; i < w->nconns; i++) {
            try_send(&w->conns[i]);
        }
    }
    int rc = uv_timer_start(&w->check, on_check, CHECK_MS, CHECK_MS);
    if (rc < 0) {
        request_stop(r, STOP_CONNECT, "uv_timer_start: %s", uv_strerror(rc));
        schedule_finish(w);
    }
    rc = uv_run(&w->loop, UV_RUN_DEFAULT);
    if (rc != 0) {
        fprintf(stderr, "mwrt-load: worker %d: loop ended with handles open\n", w->id);
    }
    atomic_fetch_add(&r->workers_done, 1);
    uv_async_send(&r->done);
    return NULL;
}

/* ========================================================================
 * Main thread: the time series, progress and the end of the run
 * ======================================================================== */

/* Move every worker's interval into the run's totals and one CSV row. */
static void collect(run *r, uint64_t now)
{
    uint64_t ok = 0, errors = 0, timeouts = 0, dropped = 0;

    mwl_hist_reset(&r->scratch);
    for (int i = 0; i < r->o->threads; i++) {
        worker *w = &r->workers[i];
        pthread_mutex_lock(&w->lock);
        mwl_hist_merge(&r->scratch, &w->iv);
        mwl_hist_reset(&w->iv);
        ok += w->iv_ok;
        errors += w->iv_errors;
        timeouts += w->iv_timeouts;
        dropped += w->iv_dropped;
        w->iv_ok = w->iv_errors = w->iv_timeouts = w->iv_dropped = 0;
        if (!r->first_error[0] && w->first_error[0]) {
            snprintf(r->first_error, sizeof r->first_error, "%s", w->first_error);
        }
        pthread_mutex_unlock(&w->lock);
    }
    mwl_hist_merge(&r->total, &r->scratch);
    mwl_hist_merge(&r->progress, &r->scratch);
    r->t.ok += ok;
    r->t.errors += errors;
    r->t.timeouts += timeouts;
    r->t.dropped += dropped;
    r->progress_errors += errors;
    r->progress_timeouts += timeouts;
    // The last collections at the end may find nothing in a sliver of time.
    int empty_sliver = ok + errors + timeouts + dropped == 0 &&
                       (double)(now - r->last_tick) < r->o->interval * 0.5e9;
    if (r->csv && !r->csv_failed && !empty_sliver) {
        if (mwl_csv_row(r->csv, (double)(now - r->start) / 1e9, (double)(now - r->last_tick) / 1e9,
                        ok + errors, &r->scratch, errors, timeouts) < 0) {
            r->csv_failed = 1;
        }
        fflush(r->csv);
    }
    r->last_tick = now;
}

static void show_progress(run *r, uint64_t now, int force)
{
    double span = (double)(now - r->last_progress) / 1e9;

    if (!r->tty || (!force && span < 1.0)) {
        return;
    }
    fprintf(stderr, "\r[%7.1fs] %10.0f req/s  p99 %8.3f ms  errors %llu  timeouts %llu\033[K",
            (double)(now - r->start) / 1e9, span > 0 ? (double)r->progress.count / span : 0.0,
            (double)mwl_hist_percentile(&r->progress, 99) / 1e6,
            (unsigned long long)r->progress_errors, (unsigned long long)r->progress_timeouts);
    mwl_hist_reset(&r->progress);
    r->last_progress = now;
}

static void on_tick(uv_timer_t *t)
{
    run *r = t->data;
    uint64_t now = read_clock_ns();

    collect(r, now);
    show_progress(r, now, 0);
}

static void close_main(run *r)
{
    if (r->closing) {
        return;
    }
    r->closing = 1;
    uint64_t now = read_clock_ns();
    collect(r, now);
    if (r->tty) {
        show_progress(r, now, 1);
        fputc('\n', stderr);
    }
    uv_close((uv_handle_t *)&r->tick, NULL);
    uv_close((uv_handle_t *)&r->hardcap, NULL);
    uv_close((uv_handle_t *)&r->done, NULL);
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static void on_done(uv_async_t *a)
{
    run *r = a->data;

    if (atomic_load(&r->workers_done) == r->o->threads) {
        close_main(r);
    }
}

static void on_hardcap(uv_timer_t *t)
{
    run *r = t->data;

    if (atomic_load(&r->stop) == STOP_HARDCAP) {
        // The workers had 5 s to notice; something is stuck.
        fprintf(stderr, "mwrt-load: hard cap reached and the workers did not stop; exiting\n");
        _exit(5);
    }
    request_stop(r, STOP_HARDCAP, "hard cap of %g s reached", r->o->hard_cap);
    uv_timer_start(t, on_hardcap, 5000, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
    run *r = s->data;

    if (atomic_load(&r->stop) == STOP_SIGNAL) {
        _exit(4); // asked twice: stop waiting
    }
    request_stop(r, STOP_SIGNAL, "interrupted by %s", strsignal(signum));
}

/* ========================================================================
 * Setup
 * ======================================================================== */

static int init_worker(run *r, worker *w, int id, int nconns, uint64_t budget)
{
    const mwl_options *o = r->o;

    w->r = r;
    w->id = id;
    w->nconns = nconns;
    w->budget = budget;
    w->tfd = -1;
    w->interval_ns = o->rate > 0 ? 1e9 * (double)o->threads / o->rate : 0;
    mwl_rng_seed(&w->rng, o->seed * 1000003u + (uint64_t)id);
    mwl_keydist_init(&w->kd, o->dist, o->keys, o->zipf_s);
    mwl_hist_reset(&w->iv);
    w->cmd_h = malloc((size_t)o->workload.n * sizeof *w->cmd_h);
    w->cmd_errors = calloc((size_t)o->workload.n, sizeof *w->cmd_errors);
    if (!w->cmd_h || !w->cmd_errors) {
        return -1;
    }
    for (int i = 0; i < o->workload.n; i++) {
        mwl_hist_reset(&w->cmd_h[i]);
    }
    w->bufcap = o->data_size + 4096;
    w->buf = malloc(w->bufcap);
    w->conns = calloc((size_t)nconns, sizeof *w->conns);
    if (!w->buf || !w->conns) {
        return -1;
    }
    for (int i = 0; i < nconns; i++) {
        conn *c = &w->conns[i];
        c->w = w;
        c->idx = i;
        c->ring = calloc((size_t)o->pipeline, sizeof *c->ring);
        if (!c->ring) {
            return -1;
        }
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        return -1;
    }
    int rc = uv_loop_init(&w->loop);
    if (rc < 0) {
        fprintf(stderr, "mwrt-load: uv_loop_init: %s\n", uv_strerror(rc));
        return -1;
    }
    if (uv_timer_init(&w->loop, &w->check) < 0 || uv_timer_init(&w->loop, &w->finish) < 0) {
        return -1;
    }
    w->check.data = w;
    w->finish.data = w;
    if (o->rate > 0) {
        w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (w->tfd < 0) {
            fprintf(stderr, "mwrt-load: timerfd_create: %s\n", strerror(errno));
            return -1;
        }
        rc = uv_poll_init(&w->loop, &w->tpoll, w->tfd);
        if (rc < 0) {
            fprintf(stderr, "mwrt-load: uv_poll_init: %s\n", uv_strerror(rc));
            return -1;
        }
        w->tpoll.data = w;
    }
    return 0;
}

static void free_worker(worker *w)
{
    if (w->conns) {
        for (int i = 0; i < w->nconns; i++) {
            free(w->conns[i].ring);
        }
    }
    free(w->conns);
    free(w->buf);
    free(w->cmd_h);
    free(w->cmd_errors);
}

static int init_main_loop(run *r)
{
    int rc;

    if ((rc = uv_loop_init(&r->loop)) < 0 || (rc = uv_timer_init(&r->loop, &r->tick)) < 0 ||
        (rc = uv_timer_init(&r->loop, &r->hardcap)) < 0 ||
        (rc = uv_async_init(&r->loop, &r->done, on_done)) < 0 ||
        (rc = uv_signal_init(&r->loop, &r->sigint)) < 0 ||
        (rc = uv_signal_init(&r->loop, &r->sigterm)) < 0) {
        fprintf(stderr, "mwrt-load: cannot set up the main loop: %s\n", uv_strerror(rc));
        return -1;
    }
    r->tick.data = r->hardcap.data = r->done.data = r->sigint.data = r->sigterm.data = r;
    uint64_t tick_ms = (uint64_t)(r->o->interval * 1000 + 0.5);
    if ((rc = uv_timer_start(&r->tick, on_tick, tick_ms, tick_ms)) < 0 ||
        (rc = uv_timer_start(&r->hardcap, on_hardcap, (uint64_t)(r->o->hard_cap * 1000), 0)) < 0 ||
        (rc = uv_signal_start(&r->sigint, on_signal, SIGINT)) < 0 ||
        (rc = uv_signal_start(&r->sigterm, on_signal, SIGTERM)) < 0) {
        fprintf(stderr, "mwrt-load: cannot start the main loop's handles: %s\n", uv_strerror(rc));
        return -1;
    }
    return 0;
}

static FILE *open_output(const char *path)
{
    FILE *f = fopen(path, "w");

    if (!f) {
        fprintf(stderr, "mwrt-load: cannot write %s: %s\n", path, strerror(errno));
    }
    return f;
}

/* Write --hdr and --json; 0, or -1 if a file could not be written. */
static int write_outputs(const mwl_result *res)
{
    const mwl_options *o = res->o;
    int failed = 0;

    if (o->hdr_path) {
        FILE *f = open_output(o->hdr_path);
        if (!f || mwl_hist_write_hdr(res->h, f, 1e6) < 0 || fclose(f) != 0) {
            failed = 1;
        }
    }
    if (o->json_path) {
        FILE *f = open_output(o->json_path);
        if (!f || mwl_write_json(res, f) < 0 || fclose(f) != 0) {
            failed = 1;
        }
    }
    return failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    static mwl_options o;
    static run r;
    char err[512];

    int prc = mwl_options_parse(&o, argc, argv, stdout, err, sizeof err);
    if (prc == MWL_PARSE_EXIT) {
        return 0;
    }
    if (prc != MWL_PARSE_OK) {
        fprintf(stderr, "mwrt-load: %s\n", err);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN); // a server that goes away must not kill us mid-write

    r.o = &o;
    atomic_init(&r.stop, STOP_NONE);
    atomic_init(&r.workers_done, 0);
    pthread_mutex_init(&r.msg_lock, NULL);
    mwl_hist_reset(&r.total);
    mwl_hist_reset(&r.progress);
    r.tty = !o.quiet && isatty(STDERR_FILENO);
    r.data = malloc(o.data_size + 1);
    r.workers = calloc((size_t)o.threads, sizeof *r.workers);
    if (!r.data || !r.workers) {
        fprintf(stderr, "mwrt-load: out of memory\n");
        return 1;
    }
    memset(r.data, 'x', o.data_size);
    if (o.csv_path) {
        if (!(r.csv = open_output(o.csv_path)) || mwl_csv_header(r.csv) < 0) {
            return 1;
        }
    }
    for (int i = 0; i < o.threads; i++) {
        int nconns = o.connections / o.threads + (i < o.connections % o.threads);
        uint64_t budget = UINT64_MAX;
        if (o.requests) {
            budget = o.requests / (uint64_t)o.threads + ((uint64_t)i < o.requests % (uint64_t)o.threads);
        }
        if (init_worker(&r, &r.workers[i], i, nconns, budget) < 0) {
            fprintf(stderr, "mwrt-load: cannot set up worker %d\n", i);
            return 1;
        }
    }
    if (init_main_loop(&r) < 0) {
        return 1;
    }
    r.start = r.last_tick = r.last_progress = read_clock_ns();
    int started = 0;
    for (; started < o.threads; started++) {
        int rc = pthread_create(&r.workers[started].thread, NULL, worker_main, &r.workers[started]);
        if (rc != 0) {
            request_stop(&r, STOP_CONNECT, "pthread_create: %s", strerror(rc));
            break;
        }
    }
    if (started < o.threads) {
        // The started workers see the stop flag; count the others as done.
        atomic_fetch_add(&r.workers_done, o.threads - started);
        uv_async_send(&r.done);
    }
    uv_run(&r.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < started; i++) {
        pthread_join(r.workers[i].thread, NULL);
    }
    collect(&r, read_clock_ns()); // anything recorded after the last tick

    uint64_t first = UINT64_MAX, last = 0;
    static mwl_hist cmd_h[MWL_MAX_TEMPLATES];
    uint64_t cmd_errors[MWL_MAX_TEMPLATES] = {0};
    for (int k = 0; k < o.workload.n; k++) {
        mwl_hist_reset(&cmd_h[k]);
    }
    for (int i = 0; i < o.threads; i++) {
        worker *w = &r.workers[i];
        for (int k = 0; k < o.workload.n; k++) {
            mwl_hist_merge(&cmd_h[k], &w->cmd_h[k]);
            cmd_errors[k] += w->cmd_errors[k];
        }
        r.t.sent += w->sent;
        r.t.unsent += w->unsent;
        if (w->sent && w->first_send < first) {
            first = w->first_send;
        }
        if (w->last_reply > last) {
            last = w->last_reply;
        }
        uv_loop_close(&w->loop);
        free_worker(w);
    }
    uv_loop_close(&r.loop);
    r.t.elapsed = last > first ? (double)(last - first) / 1e9 : 0.0;

    int why = atomic_load(&r.stop);
    static const char *const status[] = {"ok", "server-gone", "connect-failed", "interrupted",
                                         "hard-cap"};
    static const int exit_code[] = {0, 3, 1, 4, 5};
    mwl_result res = {
        .o = &o,
        .t = r.t,
        .h = &r.total,
        .status = status[why],
        .message = r.message,
        .first_error = r.first_error,
        .start = (double)r.start / 1e9,
        .cmd_h = cmd_h,
        .cmd_errors = cmd_errors,
    };
    if (!o.quiet) {
        mwl_write_summary(&res, stdout);
    }
    if (why != STOP_NONE) {
        fprintf(stderr, "mwrt-load: %s%s\n", r.message,
                why == STOP_GONE || why == STOP_SIGNAL || why == STOP_HARDCAP
                    ? " (partial results written)"
                    : "");
    }
    int rc = write_outputs(&res);
    if (r.csv && (fclose(r.csv) != 0 || r.csv_failed)) {
        fprintf(stderr, "mwrt-load: error writing %s\n", o.csv_path);
        rc = -1;
    }
    free(r.data);
    free(r.workers);
    if (exit_code[why] != 0) {
        return exit_code[why];
    }
    return rc < 0 ? 1 : 0;
}
