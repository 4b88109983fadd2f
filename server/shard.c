/*
 * server/shard.c - the sharded keyspace: hash slots, their owners, and the
 * hand-over of requests and replies between workers.
 *
 * Technique.  With --keyspace sharded every worker owns the keys of a
 * contiguous range of Redis Cluster's 16384 hash slots (srv_slot_owner,
 * the one table that routing and the cluster protocol read) and the
 * objects stored under them; nothing else touches them, so a worker runs
 * commands on its own keys with no lock at all.  A connection lives on
 * the worker that accepted it.  When one of its requests names keys of
 * another worker, srv_route copies the request into a message for that
 * worker (the owner) and leaves a *part* in the connection's chain of
 * replies; the owner runs the request into the message's reply buffer
 * and sends the message back; the origin puts the reply into the part
 * and moves every completed part at the head of the chain to the output
 * buffer.  Requests after a handed-over one keep running (into the local
 * part at the chain's tail), so pipelining is kept and order is too.
 * Multi-key commands are split: one sub-request per owner, the
 * sub-replies combined when the last is in (DEL/EXISTS/UNLINK add their
 * integers, MSET answers +OK, MGET puts the values back in key order);
 * DBSIZE, FLUSHDB/FLUSHALL and KEYS ask every shard; SCAN's cursor names
 * the shard it is in (cursor = inner * nshards + shard).  A command whose
 * keys are in different slots and cannot be split (RENAME, REF.SET)
 * answers CROSSSLOT, as Redis Cluster does, so the answer does not depend
 * on how many workers there are (once there are two: one shard is a
 * standalone Redis, srv_split); keys with a common {hash tag} share a
 * slot, so values can still refer to each other.
 *
 * Mailboxes.  Each worker has one MPSC list of messages (a Treiber stack:
 * senders push with a compare-and-swap, the owner takes the whole list
 * with one exchange and reverses it).  During a round of its check
 * callback a worker collects what it sends into per-target chains and at
 * the end of the round pushes each chain with one compare-and-swap and
 * wakes the target once: one wake-up per batch, not per request.  A busy
 * worker looks at its mailbox between rounds without being woken.
 * Concurrency Kit's ck_ring (one bounded SPSC ring per pair) was the plan;
 * this list is used instead because (1) the receiver takes everything from
 * every sender with one atomic operation instead of polling N-1 rings,
 * (2) it is unbounded, so a sender never needs an overflow path when a
 * ring is full, and (3) it is written with C11 atomics that TSan
 * understands, where ck's inline-assembly fences are invisible to it and
 * every message handed over would be reported as a race.
 *
 * Invariants.
 *   - A message belongs to exactly one thread at a time: its sender until
 *     the push, the receiver after its exchange (release CAS / acquire
 *     exchange order every byte of it); a reply goes back the same way.
 *   - A connection's part and the connection itself stay allocated while a
 *     message names them: a connection closed while parts wait becomes a
 *     zombie, freed by its worker when the last reply is in (net.c).
 *   - The chain's last part is always a local one (never waits), so new
 *     replies have a place to go; a part is moved to out only when every
 *     part before it has been.
 *   - Objects never cross: a message carries request bytes one way and
 *     reply bytes the other; values stay with the worker that owns them.
 *   - EXEC of a queue over several workers parks them all and runs its
 *     commands one by one at their owners (Transactions across shards,
 *     below).
 *   - A blocking command that has to wait keeps its message at the owner
 *     (srv_mail_hold) until it is answered (srv_mail_release); a cancel
 *     message from the origin, whose client left, makes the owner answer
 *     it at once (blocking.c).  Either way every request gets one reply.
 */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint16_t srv_slot_owner[SRV_SLOTS];
__thread srv_worker *srv_self;
pthread_mutex_t srv_mail_lock = PTHREAD_MUTEX_INITIALIZER;

/* ======================================================================
 * Slots
 * ====================================================================== */

static uint16_t crc_table[256];

void srv_shards_init(void)
{
    // CRC16-CCITT, polynomial 0x1021, initial value 0 (the XModem variant
    // Redis Cluster uses): "123456789" gives 0x31c3.
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++) {
            c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        }
        crc_table[i] = c;
    }
    int n = srv.cfg.sharded ? srv.nworkers : 1;
    for (unsigned s = 0; s < SRV_SLOTS; s++) {
        srv_slot_owner[s] = (uint16_t)((unsigned long)s * (unsigned)n / SRV_SLOTS);
    }
}

static uint16_t crc16(const char *p, size_t n)
{
    uint16_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c = (uint16_t)((c << 8) ^ crc_table[((c >> 8) ^ (uint8_t)p[i]) & 0xff]);
    }
    return c;
}

unsigned srv_key_slot(const char *key, size_t n)
{
    const char *open = memchr(key, '{', n);
    if (open != NULL) {
        size_t at = (size_t)(open - key) + 1;
        const char *close = memchr(key + at, '}', n - at);
        if (close != NULL && close > key + at) {
            return crc16(key + at, (size_t)(close - (key + at))) & (SRV_SLOTS - 1);
        }
    }
    return crc16(key, n) & (SRV_SLOTS - 1);
}

/* ======================================================================
 * Messages and mailboxes
 * ====================================================================== */

/* Messages of a transaction across shards: park (stop running anything
 * else until the end), one request of the transaction, the end. */
typedef enum srv_txn_kind { TXN_NONE, TXN_PARK, TXN_STEP, TXN_END } srv_txn_kind;

typedef struct srv_msg {
    struct srv_msg *next;
    srv_worker *from;           /* where the reply goes */
    srv_conn *conn;             /* the connection waiting on from */
    struct srv_part *part;      /* the part of its chain */
    int sub;                    /* the answering worker's index */
    int resp;                   /* the client's protocol: the reply's shape */
    int db;                     /* the client's database (SELECT) */
    bool is_reply;
    bool is_cancel;             /* conn left: drop its held request (blocking.c) */
    srv_txn_kind txn;           /* part of a transaction across shards (below) */
    size_t argc;
    const char **argv;          /* into the message's own bytes */
    size_t *argl;
    srv_buf reply;
} srv_msg;

typedef struct srv_outq {
    srv_msg *head, *tail;       /* newest first; tail is the oldest */
} srv_outq;

static srv_msg *msg_new(size_t argc, const char *const *argv, const size_t *argl)
{
    size_t bytes = 0;
    for (size_t i = 0; i < argc; i++) {
        bytes += argl[i];
    }
    size_t head = (sizeof(srv_msg) + 7) & ~(size_t)7;
    srv_msg *m = malloc(head + argc * (sizeof(char *) + sizeof(size_t)) + bytes + 1);
    if (m == NULL) {
        return NULL;
    }
    memset(m, 0, sizeof *m);
    m->argc = argc;
    m->argv = (const char **)((char *)m + head);
    m->argl = (size_t *)(m->argv + argc);
    char *d = (char *)(m->argl + argc);
    for (size_t i = 0; i < argc; i++) {
        memcpy(d, argv[i], argl[i]);
        m->argv[i] = d;
        m->argl[i] = argl[i];
        d += argl[i];
    }
    return m;
}

static void msg_free(srv_msg *m)
{
    srv_buf_free(&m->reply);
    free(m);
}

/* A counter only its worker writes (others read it for INFO). */
static void bump(_Atomic(long long) *n)
{
    atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Queue m for worker `to`, to be pushed at the end of this round. */
static void outq_add(srv_worker *self, int to, srv_msg *m)
{
    srv_outq *q = &self->outq[to];
    m->next = q->head;
    q->head = m;
    if (q->tail == NULL) {
        q->tail = m;
    }
}

/* Push the chain head..tail (newest first) to worker `to`'s mailbox with
 * one compare-and-swap, and wake it unless it will look anyway. */
static void push_chain(srv_worker *self, srv_worker *to, srv_msg *head, srv_msg *tail)
{
    srv_msg *old = atomic_load_explicit(&to->mailbox, memory_order_relaxed);
    do {
        tail->next = old;
    } while (!atomic_compare_exchange_weak_explicit(&to->mailbox, &old, head,
                                                    memory_order_seq_cst,
                                                    memory_order_relaxed));
    bump(&self->batches);
    // A target inside its check callback reads its mailbox again before
    // it sleeps: it clears `awake` and then looks (net.c, and mail_wait
    // below), we pushed and then look at `awake`, both sequentially
    // consistent, so one of the two sees the other and no message sleeps
    // unseen.
    if (atomic_load(&to->awake)) {
        return;
    }
    // The target's mail handle is open: it closes only after every worker
    // is drained, and this one is not (it has something in flight, or it
    // is answering a worker that has).
    bump(&self->wakeups);
    srv_worker_wake(to);
}

void srv_mail_send(srv_worker *w)
{
    for (int t = 0; t < srv.nworkers; t++) {
        srv_outq *q = &w->outq[t];
        if (q->head != NULL) {
            srv_msg *head = q->head, *tail = q->tail;
            q->head = q->tail = NULL;
            push_chain(w, &srv.workers[t], head, tail);
        }
    }
}

/* ======================================================================
 * Parts: replies that wait for other workers
 * ====================================================================== */

typedef struct srv_part {
    struct srv_part *next;
    srv_buf buf;                /* the reply (a local part: replies appended) */
    int pending;                /* sub-replies still out */
    srv_route_kind kind;
    srv_buf *sub;               /* [nworkers]: each owner's reply */
    bool *involved;             /* [nworkers] */
    int *keyowner;              /* MGET: the owner of each key, in order */
    size_t nkeys;
    int shard;                  /* SCAN: the shard asked */
    bool mute;                  /* CLIENT REPLY OFF/SKIP: the reply is dropped */
} srv_part;

/* One allocation: the part, then (unless it is a local one) a reply
 * buffer and an involved flag per worker, then MGET's owner per key. */
static srv_part *part_new(srv_route_kind kind, size_t nkeys)
{
    size_t n = kind == SRV_ROUTE_LOCAL ? 0 : (size_t)srv.nworkers;
    size_t size = sizeof(srv_part) + n * sizeof(srv_buf) + nkeys * sizeof(int) + n * sizeof(bool);
    srv_part *p = calloc(1, size);
    if (p == NULL) {
        return NULL;
    }
    p->kind = kind;
    p->sub = n ? (srv_buf *)(p + 1) : NULL;
    p->keyowner = nkeys ? (int *)((char *)(p + 1) + n * sizeof(srv_buf)) : NULL;
    p->involved = n ? (bool *)((char *)(p + 1) + n * sizeof(srv_buf) + nkeys * sizeof(int))
                    : NULL;
    p->nkeys = nkeys;
    return p;
}

static void part_free(srv_part *p)
{
    if (p->sub != NULL) {
        for (int i = 0; i < srv.nworkers; i++) {
            srv_buf_free(&p->sub[i]);
        }
    }
    srv_buf_free(&p->buf);
    free(p);
}

srv_buf *srv_conn_out(srv_conn *c)
{
    srv_buf *b = c->ptail != NULL ? &c->ptail->buf : &c->out;
    b->resp3 = c->resp == 3;  // replies are written in c's protocol
    return b;
}

void srv_conn_free_parts(srv_conn *c)
{
    while (c->phead != NULL) {
        srv_part *p = c->phead;
        c->phead = p->next;
        part_free(p);
    }
    c->ptail = NULL;
}

/* Move every completed part at the head of c's chain to c->out. */
static void chain_drain(srv_conn *c)
{
    while (c->phead != NULL && c->phead->pending == 0) {
        srv_part *p = c->phead;
        if (c->out.len == 0 && !c->out.oom) {
            srv_buf t = c->out;
            c->out = p->buf;
            p->buf = t;
        } else if (p->buf.len > 0) {
            srv_buf_append(&c->out, p->buf.data, p->buf.len);
        }
        if (p->buf.oom) {
            c->out.oom = true;
        }
        c->phead = p->next;
        if (c->phead == NULL) {
            c->ptail = NULL;
        }
        part_free(p);
    }
}

/* ---------------------------------------------------------------- replies */

/* The length of the line at p (through its CRLF), or 0 if there is none. */
static size_t line_len(const char *p, size_t n)
{
    const char *lf = memchr(p, '\n', n);
    return lf == NULL ? 0 : (size_t)(lf - p) + 1;
}

/* The length of the one reply element at p (a bulk, a null, or a one-line
 * reply), or 0 if it is not complete. */
static size_t elem_len(const char *p, size_t n)
{
    size_t l = line_len(p, n);
    if (l == 0 || p[0] != '$') {
        return l;
    }
    long long bl = strtoll(p + 1, NULL, 10);
    if (bl < 0) {
        return l;
    }
    size_t all = l + (size_t)bl + 2;
    return all <= n ? all : 0;
}

/* The count of an array reply's header ("*N\r\n"), and the header's
 * length in *hl; -1 if b is not an array. */
static long long array_count(const srv_buf *b, size_t *hl)
{
    if (b->len < 4 || b->data[0] != '*') {
        return -1;
    }
    *hl = line_len(b->data, b->len);
    return strtoll(b->data + 1, NULL, 10);
}

/* The first error among the involved sub-replies, or NULL. */
static const srv_buf *first_error(const srv_part *p)
{
    for (int i = 0; i < srv.nworkers; i++) {
        if (p->involved[i] && (p->sub[i].len == 0 || p->sub[i].data[0] == '-')) {
            return &p->sub[i];
        }
    }
    return NULL;
}

static void combine_scan(srv_part *p, srv_buf *out)
{
    // "*2\r\n$L\r\n<cursor>\r\n*K\r\n..." from the shard asked; the next
    // cursor goes on in the same shard, or starts the next one, or ends.
    const srv_buf *b = &p->sub[p->shard];
    size_t hl = 0;
    if (array_count(b, &hl) != 2 || hl >= b->len) {
        srv_buf_append(out, b->data, b->len);
        return;
    }
    size_t cl = elem_len(b->data + hl, b->len - hl);
    if (cl == 0) {
        srv_buf_append(out, b->data, b->len);
        return;
    }
    const char *cur = memchr(b->data + hl, '\n', cl) + 1;
    unsigned long long inner = strtoull(cur, NULL, 10);
    unsigned long long n = (unsigned long long)srv.nworkers, next;
    if (inner != 0) {
        next = inner * n + (unsigned long long)p->shard;
    } else {
        next = (unsigned long long)p->shard + 1 < n ? (unsigned long long)p->shard + 1 : 0;
    }
    char tmp[32];
    int tl = snprintf(tmp, sizeof tmp, "%llu", next);
    srv_reply_array(out, 2);
    srv_reply_bulk(out, tmp, (size_t)tl);
    srv_buf_append(out, b->data + hl + cl, b->len - hl - cl);
}

static void combine_mget(srv_part *p, srv_buf *out)
{
    int n = srv.nworkers;
    size_t off[256];
    for (int i = 0; i < n; i++) {
        off[i] = 0;
        if (p->involved[i]) {
            size_t hl = 0;
            if (array_count(&p->sub[i], &hl) < 0) {
                srv_reply_error(out, "ERR a shard gave a malformed reply");
                return;
            }
            off[i] = hl;
        }
    }
    srv_reply_array(out, (long long)p->nkeys);
    for (size_t k = 0; k < p->nkeys; k++) {
        const srv_buf *b = &p->sub[p->keyowner[k]];
        size_t *o = &off[p->keyowner[k]];
        size_t l = *o < b->len ? elem_len(b->data + *o, b->len - *o) : 0;
        if (l == 0) {
            srv_buf_append(out, "$-1\r\n", 5);  // cannot happen: a shard answers every key
            continue;
        }
        srv_buf_append(out, b->data + *o, l);
        *o += l;
    }
}

/* Build the part's reply from its sub-replies into out. */
static void combine(srv_part *p, srv_buf *out)
{
    const srv_buf *err = p->kind == SRV_ROUTE_KEYS || p->kind == SRV_ROUTE_SCAN ? NULL
                         : first_error(p);
    if (err != NULL) {
        srv_buf_append(out, err->data, err->len);
        return;
    }
    int n = srv.nworkers;
    switch (p->kind) {
    case SRV_ROUTE_KEYS:
        for (int i = 0; i < n; i++) {
            if (p->involved[i]) {
                srv_buf_append(out, p->sub[i].data, p->sub[i].len);
            }
        }
        break;
    case SRV_ROUTE_SPLIT_SUM:
    case SRV_ROUTE_ALL_SUM: {
        long long sum = 0;
        for (int i = 0; i < n; i++) {
            if (p->involved[i]) {
                sum += strtoll(p->sub[i].data + 1, NULL, 10);
            }
        }
        srv_reply_int(out, sum);
        break;
    }
    case SRV_ROUTE_SPLIT_OK:
    case SRV_ROUTE_ALL_OK:
        srv_buf_append(out, "+OK\r\n", 5);
        break;
    case SRV_ROUTE_SPLIT_MGET:
        combine_mget(p, out);
        break;
    case SRV_ROUTE_ALL_CONCAT: {
        long long total = 0;
        size_t hl[256];
        for (int i = 0; i < n; i++) {
            long long k = p->involved[i] ? array_count(&p->sub[i], &hl[i]) : 0;
            total += k > 0 ? k : 0;
        }
        srv_reply_array(out, total);
        for (int i = 0; i < n; i++) {
            if (p->involved[i] && p->sub[i].len > hl[i]) {
                srv_buf_append(out, p->sub[i].data + hl[i], p->sub[i].len - hl[i]);
            }
        }
        break;
    }
    case SRV_ROUTE_SCAN:
        combine_scan(p, out);
        break;
    case SRV_ROUTE_LOCAL:
        break;
    }
}

/* ======================================================================
 * Routing
 * ====================================================================== */

/* A sub-request for worker o: run it here, or queue it for o.  false when
 * out of memory (nothing queued then). */
static bool part_ask(srv_conn *c, srv_part *p, int o, size_t argc, const char *const *argv,
                     const size_t *argl)
{
    srv_worker *self = srv_self;
    p->involved[o] = true;
    if (o == self->index) {
        srv_execute_routed(c, &p->sub[o], argc, (const char **)argv, argl);
        return true;
    }
    srv_msg *m = msg_new(argc, argv, argl);
    if (m == NULL) {
        p->involved[o] = false;
        return false;
    }
    m->from = self;
    m->conn = c;
    m->resp = c->resp;
    m->db = c->db;
    m->part = p;
    m->sub = o;
    p->pending++;
    self->inflight++;
    bump(&self->hops);
    outq_add(self, o, m);
    return true;
}

/* Put p in c's chain (it waits), followed by a new local part; or, if
 * nothing of p waits, its reply straight where c's replies go now. */
static void part_commit(srv_conn *c, srv_part *p)
{
    if (p->pending == 0) {
        combine(p, srv_conn_out(c));
        part_free(p);
        return;
    }
    p->mute = c->mute_routed;
    srv_part *tail = part_new(SRV_ROUTE_LOCAL, 0);
    if (tail != NULL) {
        p->next = tail;
    } else {
        // No local part for the replies after this one: the connection is
        // closed (process sees oom), and p still goes in the chain so that
        // its worker waits for its replies before freeing it.
        c->out.oom = true;
        tail = p;
    }
    if (c->ptail == NULL) {
        c->phead = p;
    } else {
        c->ptail->next = p;
    }
    c->ptail = tail;
    c->nwait++;
}

static void reply_oom(srv_conn *c)
{
    srv_reply_error(srv_conn_out(c), "ERR out of memory");
}

static bool route_one(srv_conn *c, int owner, size_t argc, const char **argv, const size_t *argl)
{
    srv_part *p = part_new(SRV_ROUTE_KEYS, 0);
    if (p == NULL || !part_ask(c, p, owner, argc, argv, argl)) {
        if (p != NULL) {
            part_free(p);
        }
        reply_oom(c);
        return true;
    }
    part_commit(c, p);
    return true;
}

static bool route_all(srv_conn *c, srv_route_kind kind, size_t argc, const char **argv,
                      const size_t *argl)
{
    srv_part *p = part_new(kind, 0);
    if (p == NULL) {
        reply_oom(c);
        return true;
    }
    // The other shards first, then this one: FLUSHALL and DBSIZE are then
    // answered after this worker's own part, as one command.
    for (int o = 0; o < srv.nworkers; o++) {
        if (o != srv_self->index && !part_ask(c, p, o, argc, argv, argl)) {
            // Sub-requests already queued will still be answered; the part
            // waits for them and then reports the error of the missing one.
            p->involved[o] = true;
            srv_reply_error(&p->sub[o], "ERR out of memory");
        }
    }
    part_ask(c, p, srv_self->index, argc, argv, argl);
    part_commit(c, p);
    return true;
}

static bool route_scan(srv_conn *c, size_t argc, const char **argv, const size_t *argl)
{
    char tmp[32];
    if (argl[1] == 0 || argl[1] >= sizeof tmp) {
        return false;  // the command itself says what is wrong
    }
    memcpy(tmp, argv[1], argl[1]);
    tmp[argl[1]] = '\0';
    char *end;
    errno = 0;
    unsigned long long cursor = strtoull(tmp, &end, 10);
    if (end != tmp + argl[1] || errno != 0 || tmp[0] == '-') {
        return false;
    }
    unsigned long long n = (unsigned long long)srv.nworkers;
    int shard = (int)(cursor % n);
    char inner[32];
    int il = snprintf(inner, sizeof inner, "%llu", cursor / n);
    const char *av[argc];
    size_t al[argc];
    for (size_t i = 0; i < argc; i++) {
        av[i] = argv[i];
        al[i] = argl[i];
    }
    av[1] = inner;
    al[1] = (size_t)il;
    srv_part *p = part_new(SRV_ROUTE_SCAN, 0);
    if (p == NULL) {
        reply_oom(c);
        return true;
    }
    p->shard = shard;
    if (!part_ask(c, p, shard, argc, av, al)) {
        part_free(p);
        reply_oom(c);
        return true;
    }
    part_commit(c, p);
    return true;
}

/* DEL, EXISTS, UNLINK, MSET, MGET: one sub-request per owner. */
static bool route_split(srv_conn *c, const srv_keyspec *ks, size_t last, const int *owner,
                        size_t nkeys, size_t argc, const char **argv, const size_t *argl)
{
    srv_part *p = part_new(ks->route, nkeys);
    const char **av = malloc(argc * sizeof *av);
    size_t *al = malloc(argc * sizeof *al);
    if (p == NULL || av == NULL || al == NULL) {
        free(av);
        free(al);
        if (p != NULL) {
            part_free(p);
        }
        reply_oom(c);
        return true;
    }
    memcpy(p->keyowner, owner, nkeys * sizeof *owner);
    size_t unit = (size_t)ks->step;
    bool ok = true;
    // Remote owners first, this worker last (see route_all).
    for (int pass = 0; pass < 2; pass++) {
        for (int o = 0; o < srv.nworkers; o++) {
            if ((o == srv_self->index) != (pass == 1)) {
                continue;
            }
            size_t n = 0;
            av[n] = argv[0];
            al[n++] = argl[0];
            size_t k = 0;
            for (size_t i = (size_t)ks->first; i <= last; i += unit, k++) {
                if (owner[k] != o) {
                    continue;
                }
                for (size_t j = 0; j < unit; j++) {
                    av[n] = argv[i + j];
                    al[n++] = argl[i + j];
                }
            }
            if (n > 1 && !part_ask(c, p, o, n, av, al)) {
                p->involved[o] = true;
                srv_reply_error(&p->sub[o], "ERR out of memory");
                ok = false;
            }
        }
    }
    (void)ok;
    free(av);
    free(al);
    part_commit(c, p);
    return true;
}

bool srv_route(srv_conn *c, const srv_keyspec *ks, size_t argc, const char **argv,
               const size_t *argl)
{
    int me = srv_self->index;
    switch (ks->route) {
    case SRV_ROUTE_LOCAL:
        return false;
    case SRV_ROUTE_ALL_SUM:
    case SRV_ROUTE_ALL_OK:
    case SRV_ROUTE_ALL_CONCAT:
        return srv.nworkers > 1 && route_all(c, ks->route, argc, argv, argl);
    case SRV_ROUTE_SCAN:
        return srv.nworkers > 1 && route_scan(c, argc, argv, argl);
    default:
        break;
    }
    if (ks->first <= 0 || (size_t)ks->first >= argc) {
        return false;
    }
    size_t last = ks->last < 0 ? argc - (size_t)(-ks->last) : (size_t)ks->last;
    if (last >= argc) {
        last = argc - 1;
    }
    size_t unit = ks->step > 0 ? (size_t)ks->step : 1;
    if (ks->last < 0 && (argc - (size_t)ks->first) % unit != 0) {
        return false;  // MSET k v k: the command itself reports the arity
    }
    if (ks->route == SRV_ROUTE_KEYS) {
        unsigned slot = srv_key_slot(argv[ks->first], argl[ks->first]);
        for (size_t i = (size_t)ks->first + unit; srv_split() && i <= last; i += unit) {
            if (srv_key_slot(argv[i], argl[i]) != slot) {
                srv_reply_error(srv_conn_out(c),
                                "CROSSSLOT Keys in request don't hash to the same slot");
                return true;
            }
        }
        int owner = srv_slot_owner[slot];
        return owner != me && route_one(c, owner, argc, argv, argl);
    }
    // Split commands.
    size_t nkeys = (last - (size_t)ks->first) / unit + 1;
    int small[64];
    int *owner = nkeys <= 64 ? small : malloc(nkeys * sizeof *owner);
    if (owner == NULL) {
        reply_oom(c);
        return true;
    }
    bool all_here = true;
    size_t k = 0;
    for (size_t i = (size_t)ks->first; i <= last; i += unit, k++) {
        owner[k] = srv_slot_owner[srv_key_slot(argv[i], argl[i])];
        all_here = all_here && owner[k] == me;
    }
    bool done = !all_here && route_split(c, ks, last, owner, nkeys, argc, argv, argl);
    if (owner != small) {
        free(owner);
    }
    return done;
}

/* ======================================================================
 * Receiving
 * ====================================================================== */

/* ---------------------------------------------------------------- held */

/* The request srv_mail_run is running on this worker, and whether the
 * command kept it (a blocking command that waits: blocking.c answers it
 * later with srv_mail_release). */
static __thread srv_msg *running;
static __thread bool held;

bool srv_mail_is_running(const char *const *argv)
{
    return running != NULL && (const char *const *)running->argv == argv;
}

srv_msg *srv_mail_hold(long long *client_id)
{
    if (running == NULL) {
        return NULL;
    }
    held = true;
    // The origin's connection is not touched here, only its id, which is
    // fixed before the request was sent (the mailbox hand-over orders it).
    *client_id = running->conn->id;
    return running;
}

void srv_mail_release(srv_msg *m, srv_buf *reply)
{
    srv_buf t = m->reply;
    m->reply = *reply;
    *reply = t;
    m->is_reply = true;
    outq_add(srv_self, m->from->index, m);
}

bool srv_mail_is_from(const srv_msg *m, const srv_conn *c)
{
    return m->conn == c;
}

void srv_mail_cancel(srv_conn *c, int owner)
{
    srv_msg *m = msg_new(0, NULL, NULL);
    if (m == NULL) {
        // The held request stays until it is served or times out; the
        // connection stays a zombie until then.
        srv_log_limited("client %lld: out of memory cancelling a blocked request", c->id);
        return;
    }
    m->is_cancel = true;
    m->from = srv_self;
    m->conn = c;
    outq_add(srv_self, owner, m);
    srv_mail_send(srv_self);
}

/* ------------------------------------------------------------ the mailbox */

/* Take everything in w's mailbox, oldest first; NULL if it is empty. */
static srv_msg *mail_take(srv_worker *w)
{
    srv_msg *m = atomic_exchange_explicit(&w->mailbox, NULL, memory_order_acquire);
    srv_msg *fifo = NULL;  // the list came newest first
    while (m != NULL) {
        srv_msg *next = m->next;
        m->next = fifo;
        fifo = m;
        m = next;
    }
    return fifo;
}

/* Wait, idle, up to timeout_ms for mail and take it all (NULL if none
 * came).  For the waits of a transaction across shards, which run inside
 * the check callback: the loop is not polling, so this polls the eventfd
 * itself (net.c's handle then reads an empty counter, which it ignores). */
static srv_msg *mail_wait(srv_worker *w, int timeout_ms)
{
    srv_msg *m = mail_take(w);
    if (m != NULL) {
        return m;
    }
    atomic_store(&w->awake, false);  // then look: see push_chain
    if (atomic_load(&w->mailbox) == NULL && w->mail_fd >= 0) {
        struct pollfd p = {.fd = w->mail_fd, .events = POLLIN};
        mw_idle_begin();
        (void)poll(&p, 1, timeout_ms);  // EINTR or a timeout: the caller looks again
        mw_idle_end();
        uint64_t n;
        (void)!read(w->mail_fd, &n, sizeof n);
    }
    atomic_store(&w->awake, true);
    return mail_take(w);
}

/* The list a followed by the list b. */
static srv_msg *concat(srv_msg *a, srv_msg *b)
{
    if (a == NULL) {
        return b;
    }
    srv_msg *t = a;
    while (t->next != NULL) {
        t = t->next;
    }
    t->next = b;
    return a;
}

/* Set the list m aside, after what is set aside already: the next
 * srv_mail_run (or a coordinator waiting for txn_lock) runs it before
 * anything newer. */
static void stash_add(srv_worker *w, srv_msg *m)
{
    if (m == NULL) {
        return;
    }
    if (w->stash == NULL) {
        w->stash = m;
    } else {
        w->stash_tail->next = m;
    }
    while (m->next != NULL) {
        m = m->next;
    }
    w->stash_tail = m;
}

static srv_msg *stash_take(srv_worker *w)
{
    srv_msg *m = w->stash;
    w->stash = w->stash_tail = NULL;
    return m;
}

bool srv_mail_waiting(srv_worker *w)
{
    // Sequentially consistent: net.c calls it after clearing `awake`.
    return w->stash != NULL || atomic_load(&w->mailbox) != NULL;
}

static srv_msg *txn_serve(srv_worker *w, srv_msg *park);

/* Run a request another worker sent: its reply goes back at the end of
 * the round, unless a blocking command keeps it (srv_mail_hold). */
static void run_request(srv_worker *w, srv_msg *m)
{
    srv_msg *was_running = running;
    bool was_held = held;
    running = m;
    held = false;
    w->proxy->resp = m->resp;
    w->proxy->db = m->db;
    srv_execute_routed(w->proxy, &m->reply, m->argc, m->argv, m->argl);
    if (!held) {
        m->is_reply = true;
        outq_add(w, m->from->index, m);
    }
    running = was_running;
    held = was_held;
}

/* A reply to a request this worker sent: into its part; the connection's
 * completed parts go out. */
static void take_reply(srv_worker *w, srv_msg *m)
{
    srv_part *p = m->part;
    srv_conn *c = m->conn;
    srv_buf t = p->sub[m->sub];
    p->sub[m->sub] = m->reply;
    m->reply = t;
    p->pending--;
    w->inflight--;
    if (p->pending == 0) {
        if (!p->mute) {
            combine(p, &p->buf);
        }
        c->nwait--;
        chain_drain(c);
        srv_conn_replied(c);
    }
    msg_free(m);
}

/* Run the list of messages in order; the number run.  inside: called from
 * within a command (a coordinator waiting for txn_lock, transactions
 * below), where replies and cancels are set aside - a reply may run its
 * connection's next requests, which must wait for the command - while
 * requests run now, in their order: a sender's requests keep theirs. */
static size_t run_list(srv_worker *w, srv_msg *list, bool inside)
{
    size_t n = 0;
    for (srv_msg *m = list, *next; m != NULL; m = next, n++) {
        next = m->next;
        m->next = NULL;
        if (m->txn == TXN_PARK && !m->is_reply) {
            // What came with the park ran before it; what came while the
            // transaction ran follows the rest of this list.
            next = concat(next, txn_serve(w, m));
        } else if (m->txn != TXN_NONE) {
            // Steps, ends and transaction replies are taken by the waits
            // below only: one here is a bug.
            srv_log("worker %d: a transaction message out of place (dropped)", w->index);
            msg_free(m);
        } else if (inside && (m->is_reply || m->is_cancel)) {
            stash_add(w, m);
        } else if (m->is_cancel) {
            srv_blk_cancel_held(m->conn);
            msg_free(m);
        } else if (!m->is_reply) {
            run_request(w, m);
            if ((n + 1) % SRV_SAFEPOINT_EVERY == 0) {
                mw_safepoint();
            }
        } else {
            take_reply(w, m);
        }
    }
    return n;
}

size_t srv_mail_run(srv_worker *w)
{
    // What was set aside came before what is in the mailbox.
    srv_msg *list = concat(stash_take(w), mail_take(w));
    return list == NULL ? 0 : run_list(w, list, false);
}

/* ======================================================================
 * Transactions across shards
 *
 * EXEC of a queue whose commands belong to two or more workers runs
 * here.  The worker of the client (the coordinator) first sends what it
 * has queued for other workers (so the client's earlier requests reach
 * their owners before the transaction), takes txn_lock, asks every other
 * worker the queue names to park and waits until all have answered; a
 * parked worker runs nothing but the transaction's requests until the end
 * message, setting every other message aside (its own clients wait too:
 * it is inside its check callback).  The coordinator then runs the queue
 * in order - its own commands here, the others one at a time at their
 * owner, waiting for each reply - and sends the end.  So from the first
 * command to the last no other request runs on any shard the transaction
 * touches: a request on one of its keys runs before the transaction or
 * after all of it.
 *
 * Invariants.
 *   - One transaction across shards at a time (txn_lock).  A coordinator
 *     waits for parked workers only, and a parked worker waits for its
 *     coordinator only, which holds the lock; so no cycle of waits forms.
 *     A worker that finds the lock taken waits for it without blocking
 *     the holder: it keeps running the requests it is sent, in order, and
 *     serves a park that comes meanwhile (run_list, inside).
 *   - Every message of a transaction is allocated before the lock is
 *     taken: once workers are parked, nothing can fail before the end
 *     message releases them.
 *   - Order.  A worker runs the messages of each sender in the order they
 *     were sent: what it sets aside (w->stash, a parked worker's list)
 *     runs before anything that arrived later; only replies and cancels,
 *     whose order against requests does not matter, are set aside while
 *     requests go on running.
 * ====================================================================== */

static pthread_mutex_t txn_lock = PTHREAD_MUTEX_INITIALIZER;

/* Send m to worker `to` now (not at the end of the round). */
static void push_now(srv_worker *self, int to, srv_msg *m)
{
    m->next = NULL;
    push_chain(self, &srv.workers[to], m, m);
}

/* Parked for the transaction whose park message this is: answer it, run
 * its steps until its end, and return everything else that came
 * meanwhile, oldest first. */
static srv_msg *txn_serve(srv_worker *w, srv_msg *park)
{
    int coord = park->from->index;
    park->is_reply = true;
    push_now(w, coord, park);
    srv_msg *aside = NULL, *aside_tail = NULL;
    bool done = false;
    while (!done) {
        for (srv_msg *m = mail_wait(w, 100), *next; m != NULL; m = next) {
            next = m->next;
            m->next = NULL;
            if (!done && !m->is_reply && m->txn == TXN_STEP) {
                // running is not this request: nothing waits inside a transaction.
                srv_msg *was_running = running;
                running = NULL;
                w->proxy->resp = m->resp;
                w->proxy->db = m->db;
                srv_execute_routed(w->proxy, &m->reply, m->argc, m->argv, m->argl);
                running = was_running;
                m->is_reply = true;
                push_now(w, coord, m);
            } else if (!done && !m->is_reply && m->txn == TXN_END) {
                msg_free(m);
                done = true;
            } else {
                // Anything else, another park included: after this one.
                if (aside == NULL) {
                    aside = m;
                } else {
                    aside_tail->next = m;
                }
                aside_tail = m;
            }
        }
    }
    return aside;
}

/* Wait for the reply of kind `kind` from a parked worker; set aside
 * everything else.  Only the lock holder waits here, so no park comes. */
static srv_msg *txn_wait_reply(srv_worker *self, srv_txn_kind kind)
{
    for (;;) {
        srv_msg *got = NULL;
        for (srv_msg *m = mail_wait(self, 100), *next; m != NULL; m = next) {
            next = m->next;
            m->next = NULL;
            if (got == NULL && m->is_reply && m->txn == kind) {
                got = m;
            } else {
                stash_add(self, m);
            }
        }
        if (got != NULL) {
            return got;
        }
    }
}

/* Take txn_lock; while another worker holds it, go on running what is
 * sent here (the holder may be waiting for this worker to park). */
static void txn_lock_take(srv_worker *self)
{
    while (pthread_mutex_trylock(&txn_lock) != 0) {
        srv_msg *list = stash_take(self);
        run_list(self, concat(list, mail_wait(self, 1)), true);
    }
}

int srv_txn_run(srv_conn *c, const srv_txn_step *steps, size_t n, const srv_txn_ops *ops,
                srv_buf *out)
{
    srv_worker *self = srv_self;
    int nw = srv.nworkers;
    srv_msg **step = calloc(n + 1, sizeof *step);
    srv_msg **park = calloc((size_t)nw, sizeof *park);
    srv_msg **end = calloc((size_t)nw, sizeof *end);
    bool ok = step != NULL && park != NULL && end != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        int o = steps[i].owner;
        if (o == self->index) {
            continue;
        }
        step[i] = msg_new(steps[i].argc, steps[i].argv, steps[i].argl);
        if (park[o] == NULL) {
            park[o] = msg_new(0, NULL, NULL);
            end[o] = msg_new(0, NULL, NULL);
        }
        ok = step[i] != NULL && park[o] != NULL && end[o] != NULL;
    }
    int result = SRV_TXN_NOMEM;
    if (ok) {
        srv_mail_send(self);  // the client's earlier requests go first
        txn_lock_take(self);
        srv_ks_use(c->db);  // requests run meanwhile chose their own
        int parked = 0;
        for (int o = 0; o < nw; o++) {
            if (park[o] != NULL) {
                park[o]->txn = TXN_PARK;
                park[o]->from = self;
                push_now(self, o, park[o]);
                parked++;
            }
        }
        for (int i = 0; i < parked; i++) {
            msg_free(txn_wait_reply(self, TXN_PARK));
        }
        result = SRV_TXN_REFUSED;
        if (ops->ready(ops->arg)) {
            result = SRV_TXN_RAN;
            for (size_t i = 0; i < n; i++) {
                if (step[i] == NULL) {
                    ops->local(ops->arg, i);
                    continue;
                }
                srv_msg *m = step[i];
                step[i] = NULL;
                m->txn = TXN_STEP;
                m->from = self;
                m->resp = c->resp;
                m->db = c->db;  // as a SELECT queued before it left it
                push_now(self, steps[i].owner, m);
                m = txn_wait_reply(self, TXN_STEP);
                srv_buf_append(out, m->reply.data, m->reply.len);
                out->oom = out->oom || m->reply.oom;
                msg_free(m);
            }
        }
        for (int o = 0; o < nw; o++) {
            if (end[o] != NULL) {
                end[o]->txn = TXN_END;
                end[o]->from = self;
                push_now(self, o, end[o]);
                end[o] = NULL;
            }
        }
        pthread_mutex_unlock(&txn_lock);
    }
    for (size_t i = 0; step != NULL && i < n; i++) {
        if (step[i] != NULL) {
            msg_free(step[i]);
        }
    }
    for (int o = 0; o < nw; o++) {
        if (!ok && park != NULL && park[o] != NULL) {
            msg_free(park[o]);
        }
        if (end != NULL && end[o] != NULL) {
            msg_free(end[o]);
        }
    }
    free(step);
    free(park);
    free(end);
    return result;
}

/* Per-worker set-up and tear-down of what is here. */
int srv_shard_worker_init(srv_worker *w)
{
    w->outq = calloc((size_t)srv.nworkers, sizeof *w->outq);
    w->proxy = calloc(1, sizeof *w->proxy);
    if (w->outq == NULL || w->proxy == NULL) {
        free(w->outq);
        free(w->proxy);
        w->outq = NULL;
        w->proxy = NULL;
        return UV_ENOMEM;
    }
    w->proxy->w = w;
    w->proxy->authed = true;
    w->proxy->id = 0;
    strcpy(w->proxy->addr, "shard");
    return 0;
}

void srv_shard_worker_fini(srv_worker *w)
{
    free(w->outq);
    w->outq = NULL;
    if (w->proxy != NULL) {
        free(w->proxy->name);
        free(w->proxy);
        w->proxy = NULL;
    }
}
