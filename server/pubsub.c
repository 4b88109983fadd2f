/*
 * server/pubsub.c - the publish/subscribe registry and the delivery of
 * messages to subscribers on every worker.
 *
 * Technique.  One registry for the whole server, guarded by one mutex
 * (ps_lock): three tables (channels, patterns, shard channels) from a name
 * to its subscriptions, and per connection the list of its own.  A
 * subscription (ps_sub) is one record linked from both sides, each side
 * keeping its index in the other's array, so that removing it is O(1)
 * (swap with the last); whether a connection is subscribed to a name is
 * found by scanning the shorter of the two arrays.
 *
 * A connection lives on one worker and only that worker's thread touches
 * its output.  PUBLISH, on any worker, takes ps_lock, finds the receivers
 * (the channel's subscribers, then every pattern that matches, as Redis's
 * pubsubPublishMessage does) and puts one entry per receiver in the inbox
 * of the receiver's worker: a list in publication order, whose entries
 * share one reference-counted, already encoded body per channel or
 * pattern.  A worker other than the publisher's is woken with its
 * uv_async_t (which every mode has); the publisher's own inbox is emptied
 * at the end of the batch of commands it is in (net.c, on_check).  The
 * owner empties its inbox (srv_pubsub_drain) at the start and end of its
 * check callback, in its async callback, and in UNSUBSCRIBE before it
 * answers, so that a message published before an unsubscription reaches
 * the subscriber before the confirmation, as in Redis's serial order.
 *
 * Why one global lock and not a registry per worker: PUBLISH must answer
 * how many clients received the message and PUBSUB NUMSUB/CHANNELS must
 * see every worker's subscribers, which with per-worker tables means
 * asking every worker (a round trip through all loops per PUBLISH) or
 * locking them all anyway.  The lock is held only for table work and a
 * few mallocs per receiver, never for I/O, and ordinary commands never
 * take it; pub/sub traffic is the only thing that contends on it.  The
 * inboxes share the same lock, which makes the lifetime rules below
 * simple.
 *
 * Invariants (all under ps_lock unless said otherwise).
 *   - Every ps_sub is in exactly one chan's subs and one connection's
 *     list, at the indexes it records; a chan with no subscription is
 *     not in its table.
 *   - Only a connection's own worker subscribes or unsubscribes it, so
 *     that thread may read its counts (ps->n) without the lock.
 *     Publishers read only sub->conn and conn->w (fixed for life).
 *   - An entry naming connection c is put in c's worker's inbox only
 *     while c is registered and under ps_lock.  c unregisters, and drops
 *     its entries from the inbox, under ps_lock when it is closed
 *     (srv_pubsub_conn_gone, from net.c's close callback, before the
 *     connection is freed); so no entry outlives its connection.
 *   - A worker's async handle is closed only after its last connection
 *     is (net.c); since a wake-up is sent under ps_lock to a worker that
 *     has a registered connection, none reaches a closed handle.
 *   - Entries are taken out of an inbox only by its worker, which alone
 *     then writes them to the connection's output (srv_conn_out: in
 *     sharded mode after replies still awaited from other workers).
 *
 * Slow subscribers.  After each delivery the subscriber's unwritten bytes
 * are compared with client-output-buffer-limit's pubsub class: past the
 * hard limit, or past the soft one for longer than its seconds, the
 * connection is closed (Redis's rule), so a subscriber that never reads
 * costs at most the hard limit plus what one drain adds.  The normal and
 * replica classes are kept and answered but not applied.
 *
 * RESP3: messages and confirmations are pushes (">n", pubsub_header), and
 * a RESP3 client may run any command while subscribed
 * (srv_pubsub_restricted).
 *
 * MONITOR uses the same machinery: every command run (but admin ones) is
 * formatted once as Redis's monitor line and queued for each monitor, so
 * a monitor that does not read is bounded by the pubsub output limit too.
 * With no monitor the cost per command is one relaxed load.
 *
 * Keyspace notifications (notify.c) are published through the same path
 * (srv_pubsub_publish), from whichever worker owns the key.
 *
 * RESET ends every subscription of its connection (srv_pubsub_conn_gone).
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Workers an inbox is kept for: main.c accepts 1..256. */
#define PS_MAX_WORKERS 256

/* The three kinds of subscription, then MONITOR's: a monitor is a
 * subscriber of the one channel "" of its own table, so that it shares
 * the delivery, the output limit and the clean-up of subscribers, but it
 * is not counted as subscribed (no RESP2 subscribed mode). */
enum { PS_CHAN, PS_PAT, PS_SHARD, PS_KINDS, PS_MON = PS_KINDS, PS_ALL };

typedef struct ps_chan ps_chan;

typedef struct ps_sub {
    ps_chan *chan;
    srv_conn *conn;
    size_t at_chan, at_conn;    /* indexes in chan->subs and in the conn's list */
} ps_sub;

struct ps_chan {
    ps_chan *next;              /* bucket chain */
    uint64_t hash;
    ps_sub **subs;
    size_t nsubs, cap;
    size_t len;
    char name[];
};

typedef struct ps_table {
    ps_chan **b;
    size_t size, count;         /* size a power of two, or 0 */
} ps_table;

/* A connection's side; allocated at its first subscription, freed when
 * it closes. */
struct srv_pubsub {
    ps_sub **subs[PS_ALL];
    size_t n[PS_ALL], cap[PS_ALL];
    int64_t soft_since;         /* ms when it went past the soft limit; 0 not */
    bool touched;               /* on its worker's list of outputs to flush */
    srv_conn *tnext;
};

/* An encoded message body (the bulks after the header), shared by the
 * entries of one publication; freed by whichever worker drops the last. */
typedef struct ps_body {
    _Atomic(long) refs;
    int n;                      /* elements of the array it completes */
    size_t len;
    char data[];
} ps_body;

typedef struct ps_msg {
    struct ps_msg *next;
    srv_conn *conn;
    ps_body *body;
} ps_msg;

typedef struct ps_inbox {
    ps_msg *head, *tail;        /* oldest first; under ps_lock */
    _Atomic(bool) any;          /* head != NULL, read without the lock */
} __attribute__((aligned(64))) ps_inbox;

static pthread_mutex_t ps_lock = PTHREAD_MUTEX_INITIALIZER;
static ps_table tables[PS_ALL];
/* Monitors connected; read without the lock before every command. */
static _Atomic(long) n_monitors;
static ps_inbox inboxes[PS_MAX_WORKERS];

/* The worker's outputs written by a drain and not flushed yet. */
static __thread srv_conn *touched;

/* client-output-buffer-limit: normal, replica, pubsub; bytes and seconds. */
static _Atomic(long long) limit_hard[3] = {0, 256LL << 20, 32LL << 20};
static _Atomic(long long) limit_soft[3] = {0, 64LL << 20, 8LL << 20};
static _Atomic(long long) limit_secs[3] = {0, 60, 60};

/* ======================================================================
 * Tables
 * ====================================================================== */

static ps_chan *table_find(ps_table *t, const char *p, size_t n, uint64_t h)
{
    if (t->size == 0) {
        return NULL;
    }
    for (ps_chan *c = t->b[h & (t->size - 1)]; c != NULL; c = c->next) {
        if (c->hash == h && c->len == n && memcmp(c->name, p, n) == 0) {
            return c;
        }
    }
    return NULL;
}

static ps_chan *table_add(ps_table *t, const char *p, size_t n, uint64_t h)
{
    if (t->count >= t->size) {
        size_t size = t->size ? t->size * 2 : 16;
        ps_chan **b = calloc(size, sizeof *b);
        if (b != NULL) {
            for (size_t i = 0; i < t->size; i++) {
                for (ps_chan *c = t->b[i], *next; c != NULL; c = next) {
                    next = c->next;
                    c->next = b[c->hash & (size - 1)];
                    b[c->hash & (size - 1)] = c;
                }
            }
            free(t->b);
            t->b = b;
            t->size = size;
        } else if (t->size == 0) {
            return NULL;  // a failed grow otherwise only lengthens chains
        }
    }
    ps_chan *c = calloc(1, sizeof *c + n + 1);
    if (c == NULL) {
        return NULL;
    }
    c->hash = h;
    c->len = n;
    memcpy(c->name, p, n);
    c->next = t->b[h & (t->size - 1)];
    t->b[h & (t->size - 1)] = c;
    t->count++;
    return c;
}

static void table_remove(ps_table *t, ps_chan *c)
{
    for (ps_chan **pp = &t->b[c->hash & (t->size - 1)]; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            t->count--;
            free(c->subs);
            free(c);
            return;
        }
    }
}

/* ======================================================================
 * Subscriptions (under ps_lock, on the connection's own worker)
 * ====================================================================== */

static bool grow(ps_sub ***v, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return true;
    }
    size_t nc = *cap ? *cap * 2 : 4;
    ps_sub **nv = realloc(*v, nc * sizeof *nv);
    if (nv == NULL) {
        return false;
    }
    *v = nv;
    *cap = nc;
    return true;
}

static ps_sub *find_sub(srv_conn *conn, int kind, ps_chan *ch)
{
    struct srv_pubsub *ps = conn->ps;
    if (ps->n[kind] <= ch->nsubs) {
        for (size_t i = 0; i < ps->n[kind]; i++) {
            if (ps->subs[kind][i]->chan == ch) {
                return ps->subs[kind][i];
            }
        }
    } else {
        for (size_t i = 0; i < ch->nsubs; i++) {
            if (ch->subs[i]->conn == conn) {
                return ch->subs[i];
            }
        }
    }
    return NULL;
}

/* Subscribe conn to name: 1 added, 0 already there, -1 out of memory. */
static int subscribe(srv_conn *conn, int kind, const char *p, size_t n)
{
    struct srv_pubsub *ps = conn->ps;
    uint64_t h = srv_hash_bytes(p, n);
    ps_chan *ch = table_find(&tables[kind], p, n, h);
    if (ch != NULL && find_sub(conn, kind, ch) != NULL) {
        return 0;
    }
    if (ch == NULL && (ch = table_add(&tables[kind], p, n, h)) == NULL) {
        return -1;
    }
    ps_sub *s = malloc(sizeof *s);
    if (s == NULL || !grow(&ch->subs, &ch->cap, ch->nsubs + 1) ||
        !grow(&ps->subs[kind], &ps->cap[kind], ps->n[kind] + 1)) {
        free(s);
        if (ch->nsubs == 0) {
            table_remove(&tables[kind], ch);
        }
        return -1;
    }
    s->chan = ch;
    s->conn = conn;
    s->at_chan = ch->nsubs;
    ch->subs[ch->nsubs++] = s;
    s->at_conn = ps->n[kind];
    ps->subs[kind][ps->n[kind]++] = s;
    if (kind == PS_MON) {
        atomic_fetch_add(&n_monitors, 1);
    }
    return 1;
}

static void unlink_sub(int kind, ps_sub *s)
{
    ps_chan *ch = s->chan;
    struct srv_pubsub *ps = s->conn->ps;
    ps_sub *last = ch->subs[--ch->nsubs];
    ch->subs[s->at_chan] = last;
    last->at_chan = s->at_chan;
    last = ps->subs[kind][--ps->n[kind]];
    ps->subs[kind][s->at_conn] = last;
    last->at_conn = s->at_conn;
    if (ch->nsubs == 0) {
        table_remove(&tables[kind], ch);
    }
    if (kind == PS_MON) {
        atomic_fetch_sub(&n_monitors, 1);
    }
    free(s);
}

/* ======================================================================
 * Replies
 * ====================================================================== */

/* The header of every pub/sub message and confirmation: an array of n in
 * RESP2; a push (">n") once RESP3 is spoken on the connection. */
static void pubsub_header(srv_buf *out, srv_conn *conn, int n)
{
    srv_reply_push_len(out, conn, n);
}

static const char *const sub_word[PS_KINDS] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_word[PS_KINDS] = {"unsubscribe", "punsubscribe", "sunsubscribe"};
static const char *const msg_word[PS_KINDS] = {"message", "pmessage", "smessage"};

/* What the confirmations count: channels and patterns together, shard
 * channels apart (Redis's clientSubscriptionsCount and its shard twin). */
static long long sub_count(srv_conn *conn, int kind)
{
    struct srv_pubsub *ps = conn->ps;
    if (ps == NULL) {
        return 0;
    }
    return kind == PS_SHARD ? (long long)ps->n[PS_SHARD]
                            : (long long)(ps->n[PS_CHAN] + ps->n[PS_PAT]);
}

static void confirm(srv_buf *out, srv_conn *conn, const char *word, const char *p, size_t n,
                    long long count)
{
    pubsub_header(out, conn, 3);
    srv_reply_bulk(out, word, strlen(word));
    if (p != NULL) {
        srv_reply_bulk(out, p, n);
    } else {
        srv_reply_null(out);
    }
    srv_reply_int(out, count);
}

long long srv_pubsub_count(srv_conn *conn)
{
    struct srv_pubsub *ps = conn->ps;
    return ps == NULL ? 0 : (long long)(ps->n[PS_CHAN] + ps->n[PS_PAT] + ps->n[PS_SHARD]);
}

void srv_pubsub_counts(srv_conn *conn, long long n[3])
{
    struct srv_pubsub *ps = conn->ps;
    for (int k = 0; k < PS_KINDS; k++) {
        n[k] = ps == NULL ? 0 : (long long)ps->n[k];
    }
}

bool srv_pubsub_restricted(srv_conn *conn)
{
    // RESP3 lifts the restriction: its messages are pushes, which a client
    // tells apart from replies.
    return conn->resp != 3 && srv_pubsub_count(conn) > 0;
}

bool srv_pubsub_ping(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                     const size_t *argl)
{
    if (!srv_pubsub_restricted(conn)) {
        return false;
    }
    srv_reply_array(out, 2);
    srv_reply_bulk(out, "pong", 4);
    if (argc > 1) {
        srv_reply_bulk(out, argv[1], argl[1]);
    } else {
        srv_reply_bulk(out, "", 0);
    }
    return true;
}

/* ======================================================================
 * The commands
 * ====================================================================== */

static void do_subscribe(ctx *x, int kind)
{
    srv_conn *conn = x->c;
    if (conn->ps == NULL && (conn->ps = calloc(1, sizeof *conn->ps)) == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    for (size_t i = 1; i < x->argc; i++) {
        pthread_mutex_lock(&ps_lock);
        int r = subscribe(conn, kind, x->argv[i], x->argl[i]);
        pthread_mutex_unlock(&ps_lock);
        if (r < 0) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        confirm(x->out, conn, sub_word[kind], x->argv[i], x->argl[i], sub_count(conn, kind));
    }
}

static void do_unsubscribe(ctx *x, int kind)
{
    srv_conn *conn = x->c;
    srv_pubsub_drain(conn->w);  // what was published before goes first
    if (x->argc == 1) {
        // Every subscription of the kind, newest first; one reply each, or
        // one with a null name when there was none.
        bool any = false;
        while (conn->ps != NULL && conn->ps->n[kind] > 0) {
            pthread_mutex_lock(&ps_lock);
            ps_sub *s = conn->ps->subs[kind][conn->ps->n[kind] - 1];
            ps_chan *ch = s->chan;
            char *name = malloc(ch->len + 1);
            size_t len = ch->len;
            if (name != NULL) {
                memcpy(name, ch->name, len);
            }
            unlink_sub(kind, s);
            pthread_mutex_unlock(&ps_lock);
            if (name == NULL) {
                srv_reply_error(x->out, E_NOMEM);
                return;
            }
            confirm(x->out, conn, unsub_word[kind], name, len, sub_count(conn, kind));
            free(name);
            any = true;
        }
        if (!any) {
            confirm(x->out, conn, unsub_word[kind], NULL, 0, sub_count(conn, kind));
        }
        return;
    }
    for (size_t i = 1; i < x->argc; i++) {
        if (conn->ps != NULL) {
            pthread_mutex_lock(&ps_lock);
            ps_chan *ch = table_find(&tables[kind], x->argv[i], x->argl[i],
                                     srv_hash_bytes(x->argv[i], x->argl[i]));
            ps_sub *s = ch != NULL ? find_sub(conn, kind, ch) : NULL;
            if (s != NULL) {
                unlink_sub(kind, s);
            }
            pthread_mutex_unlock(&ps_lock);
        }
        confirm(x->out, conn, unsub_word[kind], x->argv[i], x->argl[i], sub_count(conn, kind));
    }
}

void cmd_subscribe(ctx *x) { do_subscribe(x, PS_CHAN); }
void cmd_psubscribe(ctx *x) { do_subscribe(x, PS_PAT); }
void cmd_ssubscribe(ctx *x) { do_subscribe(x, PS_SHARD); }
void cmd_unsubscribe(ctx *x) { do_unsubscribe(x, PS_CHAN); }
void cmd_punsubscribe(ctx *x) { do_unsubscribe(x, PS_PAT); }
void cmd_sunsubscribe(ctx *x) { do_unsubscribe(x, PS_SHARD); }

/* ======================================================================
 * Publishing and delivery
 * ====================================================================== */

static void bulk_into(char **d, const char *p, size_t n)
{
    char num[32];
    int k = snprintf(num, sizeof num, "$%zu\r\n", n);
    memcpy(*d, num, (size_t)k);
    *d += k;
    memcpy(*d, p, n);
    *d += n;
    memcpy(*d, "\r\n", 2);
    *d += 2;
}

/* The bulks of a message: word, [pattern,] channel, payload. */
static ps_body *body_new(const char *word, const ps_chan *pat, const char *ch, size_t chn,
                         const char *msg, size_t msgn)
{
    size_t len = strlen(word) + chn + msgn + (pat ? pat->len : 0) + 4 * 26;
    ps_body *b = malloc(sizeof *b + len);
    if (b == NULL) {
        return NULL;
    }
    atomic_init(&b->refs, 1);  // the publisher's, dropped when it is done
    b->n = pat ? 4 : 3;
    char *d = b->data;
    bulk_into(&d, word, strlen(word));
    if (pat != NULL) {
        bulk_into(&d, pat->name, pat->len);
    }
    bulk_into(&d, ch, chn);
    bulk_into(&d, msg, msgn);
    b->len = (size_t)(d - b->data);
    return b;
}

static void body_drop(ps_body *b)
{
    // acq_rel: the last dropper must see every write of the others' uses.
    if (b != NULL && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        free(b);
    }
}

/* Queue b for every subscriber of ch; the number queued.  Under ps_lock. */
static long long fan_out(ps_chan *ch, ps_body *b, bool *wake)
{
    long long n = 0;
    for (size_t i = 0; i < ch->nsubs; i++) {
        srv_conn *c = ch->subs[i]->conn;
        ps_msg *m = malloc(sizeof *m);
        if (m == NULL) {
            srv_log_limited("out of memory for a message to client %lld", c->id);
            continue;
        }
        m->next = NULL;
        m->conn = c;
        m->body = b;
        atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
        ps_inbox *in = &inboxes[c->w->index];
        if (in->tail != NULL) {
            in->tail->next = m;
        } else {
            in->head = m;
        }
        in->tail = m;
        atomic_store_explicit(&in->any, true, memory_order_relaxed);
        wake[c->w->index] = true;
        n++;
    }
    return n;
}

/* Wake the receivers' workers, while still holding ps_lock: a worker with
 * a registered connection has not closed its async handle.  The sender's
 * own worker empties its inbox after this batch anyway. */
static void wake_receivers(const bool *wake)
{
    for (int i = 0; i < srv.nworkers && i < PS_MAX_WORKERS; i++) {
        if (wake[i] && &srv.workers[i] != srv_self) {
            int r = uv_async_send(&srv.workers[i].async);
            if (r != 0) {
                srv_log_limited("cannot wake worker %d for messages: %s", i, uv_strerror(r));
            }
        }
    }
}

static long long publish(int kind, const char *ch, size_t chn, const char *msg, size_t msgn)
{
    bool wake[PS_MAX_WORKERS] = {false};
    long long receivers = 0;
    pthread_mutex_lock(&ps_lock);
    ps_chan *c = table_find(&tables[kind], ch, chn, srv_hash_bytes(ch, chn));
    if (c != NULL) {
        ps_body *b = body_new(msg_word[kind], NULL, ch, chn, msg, msgn);
        if (b != NULL) {
            receivers += fan_out(c, b, wake);
        }
        body_drop(b);
    }
    ps_table *pt = &tables[PS_PAT];
    for (size_t i = 0; kind == PS_CHAN && i < pt->size; i++) {
        for (ps_chan *p = pt->b[i]; p != NULL; p = p->next) {
            if (srv_glob_match(p->name, p->len, ch, chn, false)) {
                ps_body *b = body_new(msg_word[PS_PAT], p, ch, chn, msg, msgn);
                if (b != NULL) {
                    receivers += fan_out(p, b, wake);
                }
                body_drop(b);
            }
        }
    }
    wake_receivers(wake);
    pthread_mutex_unlock(&ps_lock);
    return receivers;
}

long long srv_pubsub_publish(const char *ch, size_t chn, const char *msg, size_t msgn)
{
    return publish(PS_CHAN, ch, chn, msg, msgn);
}

void cmd_publish(ctx *x)
{
    srv_reply_int(x->out, publish(PS_CHAN, x->argv[1], x->argl[1], x->argv[2], x->argl[2]));
}

void cmd_spublish(ctx *x)
{
    srv_reply_int(x->out, publish(PS_SHARD, x->argv[1], x->argl[1], x->argv[2], x->argl[2]));
}

/* ======================================================================
 * MONITOR
 * ====================================================================== */

bool srv_monitoring(void)
{
    return atomic_load_explicit(&n_monitors, memory_order_relaxed) > 0;
}

/* Append p as Redis's sdscatrepr quotes it: "...", with \\ \" \n \r \t
 * \a \b escaped and other unprintable bytes as \xHH. */
static void quote_into(srv_buf *b, const char *p, size_t n)
{
    srv_buf_append(b, " \"", 2);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char esc[5];
        const char *e = NULL;
        switch (ch) {
        case '\\': e = "\\\\"; break;
        case '"': e = "\\\""; break;
        case '\n': e = "\\n"; break;
        case '\r': e = "\\r"; break;
        case '\t': e = "\\t"; break;
        case '\a': e = "\\a"; break;
        case '\b': e = "\\b"; break;
        default:
            if (ch < 32 || ch >= 127) {
                snprintf(esc, sizeof esc, "\\x%02x", ch);
                e = esc;
            }
        }
        if (e != NULL) {
            srv_buf_append(b, e, strlen(e));
        } else {
            srv_buf_append(b, (const char *)&ch, 1);
        }
    }
    srv_buf_append(b, "\"", 1);
}

void srv_monitor_feed(ctx *x)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    srv_buf line = {0};
    char head[160];
    int hn = snprintf(head, sizeof head, "+%lld.%06ld [%d %s]", (long long)ts.tv_sec,
                      ts.tv_nsec / 1000, 0, x->c->addr);
    srv_buf_append(&line, head, (size_t)hn);
    for (size_t i = 0; i < x->argc; i++) {
        if (cmd_arg_redacted(x, i)) {
            srv_buf_append(&line, " \"(redacted)\"", 13);
        } else {
            quote_into(&line, x->argv[i], x->argl[i]);
        }
    }
    srv_buf_append(&line, "\r\n", 2);
    ps_body *b = line.oom ? NULL : malloc(sizeof *b + line.len);
    if (b != NULL) {
        atomic_init(&b->refs, 1);
        b->n = 0;     // a whole line, no header
        b->len = line.len;
        memcpy(b->data, line.data, line.len);
        bool wake[PS_MAX_WORKERS] = {false};
        pthread_mutex_lock(&ps_lock);
        ps_chan *ch = table_find(&tables[PS_MON], "", 0, srv_hash_bytes("", 0));
        if (ch != NULL) {
            fan_out(ch, b, wake);
            wake_receivers(wake);
        }
        pthread_mutex_unlock(&ps_lock);
        body_drop(b);
    }
    srv_buf_free(&line);
}

void cmd_monitor(ctx *x)
{
    srv_conn *conn = x->c;
    if (conn->multi != NULL) {
        // Inside EXEC (which runs with multi set): a client that expects
        // one reply per command, Redis's CLIENT_DENY_BLOCKING.
        srv_reply_error(x->out, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (conn->ps == NULL && (conn->ps = calloc(1, sizeof *conn->ps)) == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    pthread_mutex_lock(&ps_lock);
    int r = subscribe(conn, PS_MON, "", 0);
    pthread_mutex_unlock(&ps_lock);
    if (r < 0) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_status(x->out, "OK");
}

/* Redis's checkClientOutputBufferLimits for the pubsub class: true if c
 * must be closed. */
static bool over_limit(srv_conn *c)
{
    long long used = (long long)(c->out.len + c->inflight.len);
    long long hard = atomic_load_explicit(&limit_hard[2], memory_order_relaxed);
    long long soft = atomic_load_explicit(&limit_soft[2], memory_order_relaxed);
    if (hard > 0 && used >= hard) {
        return true;
    }
    if (soft > 0 && used >= soft) {
        int64_t now = srv_now_ms();
        if (c->ps->soft_since == 0) {
            c->ps->soft_since = now;
            return false;
        }
        return (now - c->ps->soft_since) / 1000 >
               atomic_load_explicit(&limit_secs[2], memory_order_relaxed);
    }
    c->ps->soft_since = 0;
    return false;
}

void srv_pubsub_drain(srv_worker *w)
{
    ps_inbox *in = &inboxes[w->index];
    if (!atomic_load_explicit(&in->any, memory_order_relaxed)) {
        return;  // a message queued just now comes with its own wake-up
    }
    pthread_mutex_lock(&ps_lock);
    ps_msg *m = in->head;
    in->head = in->tail = NULL;
    atomic_store_explicit(&in->any, false, memory_order_relaxed);
    pthread_mutex_unlock(&ps_lock);
    while (m != NULL) {
        ps_msg *next = m->next;
        srv_conn *c = m->conn;  // registered when queued, not freed before this
        if (!c->closing) {
            srv_buf *out = srv_conn_out(c);
            if (m->body->n > 0) {
                pubsub_header(out, c, m->body->n);  // else a whole line (MONITOR)
            }
            srv_buf_append(out, m->body->data, m->body->len);
            if (over_limit(c)) {
                srv_log_limited("client %lld (%s): closed for overcoming of output buffer "
                                "limits (pubsub)", c->id, c->addr);
                srv_conn_close(c);
            } else if (!c->ps->touched) {
                c->ps->touched = true;
                c->ps->tnext = touched;
                touched = c;
            }
        }
        body_drop(m->body);
        free(m);
        m = next;
    }
}

void srv_pubsub_flush(srv_worker *w)
{
    srv_pubsub_drain(w);
    srv_conn *c = touched;
    touched = NULL;
    while (c != NULL) {
        srv_conn *next = c->ps->tnext;
        c->ps->touched = false;
        srv_conn_flush(c);
        c = next;
    }
}

void srv_pubsub_conn_gone(srv_conn *c)
{
    struct srv_pubsub *ps = c->ps;
    if (ps == NULL) {
        return;
    }
    if (ps->touched) {
        for (srv_conn **pp = &touched; *pp != NULL; pp = &(*pp)->ps->tnext) {
            if (*pp == c) {
                *pp = ps->tnext;
                break;
            }
        }
    }
    ps_msg *drop = NULL;
    pthread_mutex_lock(&ps_lock);
    for (int k = 0; k < PS_ALL; k++) {
        while (ps->n[k] > 0) {
            unlink_sub(k, ps->subs[k][ps->n[k] - 1]);
        }
    }
    ps_inbox *in = &inboxes[c->w->index];
    ps_msg **pp = &in->head;
    in->tail = NULL;
    while (*pp != NULL) {
        ps_msg *m = *pp;
        if (m->conn == c) {
            *pp = m->next;
            m->next = drop;
            drop = m;
        } else {
            in->tail = m;
            pp = &m->next;
        }
    }
    atomic_store_explicit(&in->any, in->head != NULL, memory_order_relaxed);
    pthread_mutex_unlock(&ps_lock);
    while (drop != NULL) {
        ps_msg *next = drop->next;
        body_drop(drop->body);
        free(drop);
        drop = next;
    }
    for (int k = 0; k < PS_ALL; k++) {
        free(ps->subs[k]);
    }
    free(ps);
    c->ps = NULL;
}

/* ======================================================================
 * PUBSUB introspection
 * ====================================================================== */

static void channel_list(ctx *x, int kind)
{
    const char *pat = x->argc == 3 ? x->argv[2] : NULL;
    size_t patn = x->argc == 3 ? x->argl[2] : 0;
    srv_buf tmp = {0};
    long long n = 0;
    pthread_mutex_lock(&ps_lock);
    ps_table *t = &tables[kind];
    for (size_t i = 0; i < t->size; i++) {
        for (ps_chan *c = t->b[i]; c != NULL; c = c->next) {
            if (pat == NULL || srv_glob_match(pat, patn, c->name, c->len, false)) {
                srv_reply_bulk(&tmp, c->name, c->len);
                n++;
            }
        }
    }
    pthread_mutex_unlock(&ps_lock);
    if (tmp.oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_array(x->out, n);
        srv_buf_append(x->out, tmp.data, tmp.len);
    }
    srv_buf_free(&tmp);
}

static void numsub(ctx *x, int kind)
{
    srv_reply_array(x->out, (long long)(x->argc - 2) * 2);
    for (size_t i = 2; i < x->argc; i++) {
        pthread_mutex_lock(&ps_lock);
        ps_chan *c = table_find(&tables[kind], x->argv[i], x->argl[i],
                                srv_hash_bytes(x->argv[i], x->argl[i]));
        long long n = c != NULL ? (long long)c->nsubs : 0;
        pthread_mutex_unlock(&ps_lock);
        srv_reply_bulk(x->out, x->argv[i], x->argl[i]);
        srv_reply_int(x->out, n);
    }
}

void srv_pubsub_totals(long long *channels, long long *patterns, long long *shard)
{
    pthread_mutex_lock(&ps_lock);
    *channels = (long long)tables[PS_CHAN].count;
    *patterns = (long long)tables[PS_PAT].count;
    *shard = (long long)tables[PS_SHARD].count;
    pthread_mutex_unlock(&ps_lock);
}

static const char *const pubsub_help[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
};

void cmd_pubsub(ctx *x)
{
    if (x->argc == 2 && arg_is(x, 1, "help")) {
        size_t n = sizeof pubsub_help / sizeof pubsub_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, pubsub_help[i]);
        }
    } else if (arg_is(x, 1, "help") || arg_is(x, 1, "numpat")) {
        // Subcommands of arity 2, checked as Redis checks a subcommand.
        if (x->argc != 2) {
            srv_reply_errorf(x->out, "ERR wrong number of arguments for 'pubsub|%s' command",
                             arg_is(x, 1, "help") ? "help" : "numpat");
            return;
        }
        pthread_mutex_lock(&ps_lock);
        long long n = (long long)tables[PS_PAT].count;
        pthread_mutex_unlock(&ps_lock);
        srv_reply_int(x->out, n);
    } else if (arg_is(x, 1, "channels") && x->argc <= 3) {
        channel_list(x, PS_CHAN);
    } else if (arg_is(x, 1, "numsub")) {
        numsub(x, PS_CHAN);
    } else if (arg_is(x, 1, "shardchannels") && x->argc <= 3) {
        channel_list(x, PS_SHARD);
    } else if (arg_is(x, 1, "shardnumsub")) {
        numsub(x, PS_SHARD);
    } else if (arg_is(x, 1, "channels") || arg_is(x, 1, "shardchannels")) {
        srv_reply_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for "
                         "'%.*s'. Try PUBSUB HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand '%.*s'. Try PUBSUB HELP.",
                         (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1]);
    }
}

/* ======================================================================
 * client-output-buffer-limit
 * ====================================================================== */

static const char *const class_names[3] = {"normal", "slave", "pubsub"};

void srv_obuf_limits_format(char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < 3 && at < cap; i++) {
        int n = snprintf(buf + at, cap - at, "%s%s %lld %lld %lld", i ? " " : "",
                         class_names[i], atomic_load(&limit_hard[i]),
                         atomic_load(&limit_soft[i]), atomic_load(&limit_secs[i]));
        if (n < 0) {
            break;
        }
        at += (size_t)n;
    }
}

const char *srv_obuf_limits_set(const char *v, size_t vn)
{
    // Groups of four words: class, hard, soft, soft seconds.  Every group
    // is checked before any is applied, as Redis does.
    const char *w[64];
    size_t wl[64];
    size_t nw = 0;
    for (size_t i = 0; i < vn;) {
        while (i < vn && v[i] == ' ') {
            i++;
        }
        if (i == vn) {
            break;
        }
        size_t start = i;
        while (i < vn && v[i] != ' ') {
            i++;
        }
        if (nw == 64) {
            return "Wrong number of arguments in buffer limit configuration.";
        }
        w[nw] = v + start;
        wl[nw++] = i - start;
    }
    if (nw == 0 || nw % 4 != 0) {
        return "Wrong number of arguments in buffer limit configuration.";
    }
    int cls[16];
    long long hard[16], soft[16], secs[16];
    for (size_t g = 0; g < nw / 4; g++) {
        const char *name = w[g * 4];
        size_t nl = wl[g * 4];
        cls[g] = -1;
        if (nl == 6 && strncasecmp(name, "normal", 6) == 0) {
            cls[g] = 0;
        } else if ((nl == 5 && strncasecmp(name, "slave", 5) == 0) ||
                   (nl == 7 && strncasecmp(name, "replica", 7) == 0)) {
            cls[g] = 1;
        } else if (nl == 6 && strncasecmp(name, "pubsub", 6) == 0) {
            cls[g] = 2;
        }
        if (cls[g] < 0) {
            return "Invalid client class specified in buffer limit configuration.";
        }
        if (!parse_mem(w[g * 4 + 1], wl[g * 4 + 1], &hard[g]) ||
            !parse_mem(w[g * 4 + 2], wl[g * 4 + 2], &soft[g]) ||
            !srv_str2ll(w[g * 4 + 3], wl[g * 4 + 3], &secs[g]) || secs[g] < 0) {
            return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        }
    }
    for (size_t g = 0; g < nw / 4; g++) {
        atomic_store(&limit_hard[cls[g]], hard[g]);
        atomic_store(&limit_soft[cls[g]], soft[g]);
        atomic_store(&limit_secs[cls[g]], secs[g]);
    }
    return NULL;
}
