/*
 * server/server.h - what the files of mwrt-server share.
 *
 * main.c      options, configuration file, start and stop (the essay on
 *             threads and shutdown is there)
 * net.c       worker threads, libuv loops, connections, reading and writing
 * keyspace.c  the keyspace and the value types (list, hash, set, zset,
 *             stream), expiry and eviction
 * notify.c    keyspace notifications (notify-keyspace-events)
 * shard.c     hash slots, which worker owns which, and the hand-over of
 *             requests and replies between workers (sharded keyspace)
 * commands.c  the command table and every command
 * resp.c      the RESP2 parser and reply encoder (no runtime, no libuv)
 */
#ifndef MWRT_SERVER_SERVER_H
#define MWRT_SERVER_SERVER_H

#include <mwrt/mwrt.h>
#include <uv.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp.h"

#define SRV_VERSION "0.1.0"
#ifndef SRV_DEBUG
#define SRV_DEBUG 0   /* the build's MWRT_DEBUG (server/CMakeLists.txt) */
#endif
/* What INFO and HELLO report as the Redis version we speak. */
#define SRV_REDIS_VERSION "7.0.0"

/* ======================================================================
 * Tunables
 * ====================================================================== */

/* Bytes asked of the kernel per read when nothing bigger is expected. */
#ifndef SRV_READ_CHUNK
#define SRV_READ_CHUNK (64 * 1024)
#endif
/* Replies queued for one client above which its further requests wait
 * until the client has read some (bytes). */
#ifndef SRV_OUT_SOFT_MAX
#define SRV_OUT_SOFT_MAX (32 * 1024 * 1024)
#endif
/* Commands run between two mw_safepoint calls. */
#ifndef SRV_SAFEPOINT_EVERY
#define SRV_SAFEPOINT_EVERY 64
#endif
/* Most keys one srv_ks_evict call deletes: memory freed by another
 * worker's objects is given back only at that worker's next safepoint,
 * so the figure may lag and a call must not empty the keyspace on a stale
 * reading; the next command or cron goes on. */
#ifndef SRV_EVICT_MAX_KEYS
#define SRV_EVICT_MAX_KEYS 64
#endif
/* Keys sampled to choose one victim under the LRU and TTL policies
 * (Redis's maxmemory-samples default). */
#ifndef SRV_EVICT_SAMPLES
#define SRV_EVICT_SAMPLES 5
#endif
/* Period of the background task (active expiry, statistics), ms. */
#ifndef SRV_CRON_MS
#define SRV_CRON_MS 100
#endif

_Static_assert(SRV_READ_CHUNK >= 4096, "reads must not be tiny");
_Static_assert(SRV_EVICT_MAX_KEYS >= 1 && SRV_EVICT_SAMPLES >= 1, "eviction must make progress");
_Static_assert(SRV_SAFEPOINT_EVERY >= 1, "at least one command per turn");

/* ======================================================================
 * Configuration and global state
 * ====================================================================== */

typedef struct srv_config {
    long long port;
    char bind[64];
    long long workers;
    bool sharded;               /* --keyspace sharded: one shard per worker */
    bool lock_given;            /* --lock was set explicitly */
    bool keyspace_given;        /* --keyspace was set explicitly */
    mw_lock_mode lock;
    mw_gc_policy gc;
    int threshold[3];
    char requirepass[256];      /* "" = none */
    long long querybuf_max;     /* bytes */
    long long bulk_max;         /* bytes */
    long long mbulk_max;        /* arguments */
    long long databases;        /* SELECT 0..databases-1 */
} srv_config;

/* Settings (config.c, the one table of them).  srv_config_defaults sets
 * every default (before the command line and config file; needs
 * srv.pass_lock); srv_config_set applies one by name (or older alias),
 * at_start for the command line and config file, NULL or why it is
 * refused; whether a setting's value is kept out of SLOWLOG; --help's
 * lines.  srv_config_file: the config file given at start (absolute), for
 * CONFIG REWRITE, or NULL. */
void srv_config_defaults(void);
/* The command line (--name value, --name=value, --config FILE, --help,
 * --version): -1 to go on, or the status to exit with. */
int srv_config_args(int argc, char **argv);
const char *srv_config_set(const char *name, const char *value, bool at_start);
bool srv_config_sensitive(const char *name, size_t n);
void srv_config_usage(FILE *f);
extern const char *srv_config_file;
/* Settings workers read (config.c). */
extern _Atomic(long long) srv_min_replicas_to_write;
extern _Atomic(long long) srv_min_replicas_max_lag;

struct srv_conn;

/* Scripts (script.c): close the calling worker's interpreter (at the end
 * of its thread); free the cache of bodies (at exit). */
void srv_script_thread_end(void);
void srv_script_fini(void);
/* Whether a script somewhere has run past the time limit (then commands
 * not flagged allow-busy answer -BUSY); the limit in ms
 * (busy-reply-threshold).  Any thread. */
bool srv_script_busy(void);
extern _Atomic(long long) srv_script_time_limit;
/* net.c: while a busy script runs on this worker for `running` (its
 * connection, or the proxy), let the rest of the server in for a moment:
 * other workers (the GIL or the keyspace lock is let go and taken back)
 * and this worker's other connections (read and run now; everything they
 * send but the allow-busy commands answers -BUSY). */
void srv_busy_poll(struct srv_conn *running);

/* The latency monitor watches the collector (latency.c): once, at start,
 * after the runtime exists. */
void srv_latency_init(void);

/* The listening socket (listen.c, main thread): open it on bind:port (the
 * port the kernel gave for 0 goes back into srv.cfg.port; -1 after
 * printing why not); start accepting and handling SIGINT/SIGTERM on loop;
 * close it if still open. */
int srv_listen_open(void);
int srv_listen_start(uv_loop_t *loop);
void srv_listen_close(void);

typedef struct srv_worker srv_worker;

typedef struct srv_server {
    srv_config cfg;
    mw_runtime *rt;
    srv_worker *workers;
    int nworkers;
    /* Shards of the keyspace: nworkers of them in sharded mode (shard i
     * is worker i's), else one, shared by every worker; each has ndb
     * databases, one srv_keyspace each: database d of shard i is
     * shards[i * ndb + d] (srv_ks_of). */
    struct srv_keyspace *shards;
    int nshards;
    int ndb;
    /* The keyspace lock, taken around command batches in free mode only
     * (in GIL mode the GIL is the lock). */
    pthread_mutex_t ks_lock;
    /* Settings that CONFIG SET changes while workers read them. */
    _Atomic(long long) maxmemory;
    _Atomic(long long) maxclients;
    _Atomic(size_t) memory_used;         /* refreshed by the cron */
    pthread_mutex_t pass_lock;           /* guards cfg.requirepass */
    _Atomic(bool) has_pass;
    /* Statistics. */
    _Atomic(long long) clients;
    _Atomic(long long) total_connections;
    _Atomic(long long) rejected_connections;
    _Atomic(long long) next_client_id;
    _Atomic(long long) ops_per_sec;
    _Atomic(bool) stopping;
    int64_t start_ms;
    uint64_t hash_seed[2];
} srv_server;

extern srv_server srv;

/* Whether the keyspace is split over two or more shards.  Only then do
 * Redis Cluster's rules apply (the keys of one request in one slot, SORT
 * patterns that name keys of the sorted key's slot): a keyspace of one
 * shard, sharded or shared, is a standalone Redis's (docs/decisions.md). */
static inline bool srv_split(void)
{
    return srv.cfg.sharded && srv.nshards > 1;
}

/* Log a line to stderr: "mwrt-server: <pid> <time> <message>".  Any thread. */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like srv_log, but at most a few lines per second (client errors). */
void srv_log_limited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Bytes of values and tables in use: the allocator's small blocks in use
 * plus its large blocks (Redis's used_memory); maxmemory compares with it.
 * Fills *a and *small when not NULL.  Any thread. */
size_t srv_memory_used(mw_alloc_stats *a, size_t *small);
/* Milliseconds since the epoch (wall clock).  Any thread. */
int64_t srv_now_ms(void);
/* Microseconds of a monotonic clock.  Any thread. */
uint64_t srv_mono_us(void);

/* ======================================================================
 * Connections and workers (net.c)
 * ====================================================================== */

typedef struct srv_conn srv_conn;

/* One client connection, owned by one worker; only that worker's thread
 * touches it.  It holds no runtime object, so its I/O callbacks may run
 * while the worker is idle. */
struct srv_conn {
    uv_tcp_t tcp;               /* first: handle->data is the conn */
    srv_worker *w;
    srv_conn *prev, *next;      /* the worker's list of connections */
    srv_conn *pnext;            /* the worker's list of pending ones */
    bool in_pending;
    char *qbuf;                 /* query buffer: qbuf[qstart..qlen) unparsed */
    size_t qlen, qcap, qstart, qneed;
    srv_resp_parser parser;
    srv_buf out;                /* replies not yet handed to the kernel */
    srv_buf inflight;           /* replies a uv_write is sending */
    uv_write_t wreq;
    bool writing;
    bool closing;
    bool close_after_write;     /* QUIT, protocol error, shutdown */
    bool eof;                   /* the client closed its side */
    bool authed;
    int db;                     /* SELECT: the database its commands use */
    bool in_script;             /* a script of its runs: nothing blocks */
    _Atomic(int) pub_db;        /* the same, for CLIENT LIST on other workers */
    /* Replies that wait for other workers (sharded mode): the chain of
     * parts, oldest first, and how many of them still wait.  While the
     * chain is not empty, replies produced here are appended to its last
     * part (always a local one) instead of to out, so that every reply
     * reaches out in request order (srv_conn_out, shard.c). */
    struct srv_part *phead, *ptail;
    int nwait;
    bool zombie;                /* closed while parts wait: freed at the last */
    srv_conn *fnext;            /* the check callback's list of conns to flush */
    bool in_flush;
    const char **argv;          /* argument table handed to srv_execute */
    size_t *argl;
    size_t argcap;
    long long id;
    char *name;                 /* CLIENT SETNAME (malloc'd) or NULL; its
                                   owner reads it freely, changes it only
                                   under srv_clients_lock (srv_conn_set_name),
                                   other threads read it under that lock */
    char addr[64];
    char laddr[64];
    int fd;
    int64_t created_ms;
    struct srv_pubsub *ps;      /* subscriptions (pubsub.c), or NULL */
    /* MULTI/EXEC and WATCH (cmd_multi.c): the queued transaction (NULL
     * outside MULTI), the token that writes to watched keys mark (NULL
     * when nothing is watched) and the keys watched, each with its shard.
     * Plain malloc'd, so they are freed at close without the keyspace. */
    struct srv_multi *multi;
    struct srv_watch *watch;
    struct srv_wkey *wkeys;
    /* Blocked by BLPOP and the like (blocking.c): its waiter, or NULL.
     * Set and cleared by this worker only; while set, no further request
     * of the connection runs. */
    struct srv_waiter *blk;
    /* Sharded: a blocking command went to worker blk_owner; the requests
     * after it wait until every reply is in (process, net.c). */
    bool blk_routed;
    int blk_owner;
    int resp;                   /* protocol: 2, or 3 after HELLO 3 */
    bool reply_off;             /* CLIENT REPLY OFF */
    bool reply_skip;            /* CLIENT REPLY SKIP: the current command's reply */
    bool reply_skip_next;       /* ... set by SKIP, for the command after it */
    bool mute_routed;           /* the request being routed is not answered */
    bool no_evict;              /* CLIENT NO-EVICT (kept and shown) */
    bool held;                  /* a request waits for CLIENT PAUSE to end */
    /* The registry of every client (CLIENT LIST, KILL, INFO), for any
     * worker to walk: the links are guarded by srv_clients_lock, and a
     * connection stays allocated while it is linked.  What others read of
     * it beyond the fields fixed at its start (id, addr, laddr, fd,
     * created_ms) are these atomics, written by its owner only. */
    srv_conn *rprev, *rnext;
    bool registered;
    _Atomic(int64_t) last_ms;          /* when its last command ran */
    _Atomic(const char *) last_cmd;    /* that command's name (static) */
    _Atomic(int) pub_resp;             /* resp, as others see it */
    _Atomic(bool) kill;                /* CLIENT KILL from another worker */
};

/* The registry's lock (see srv_conn) and its walk: fn runs for every
 * registered connection, in the order they connected, with the lock held
 * (fn must not take it again, nor close or free anything).  Any thread. */
extern pthread_mutex_t srv_clients_lock;
void srv_clients_each(void (*fn)(srv_conn *c, void *arg), void *arg);
/* Replace c's name with n bytes at p (n 0: no name); false when out of
 * memory.  c's worker. */
bool srv_conn_set_name(srv_conn *c, const char *p, size_t n);
/* Close c as CLIENT KILL does: at once if it is the caller's worker's
 * (after its current reply if it is `self`), else through its worker's
 * loop, soon.  Call with srv_clients_lock held (from srv_clients_each). */
void srv_conn_kill(srv_conn *c, srv_conn *self);
/* Bytes waiting in c's query buffer and output buffers, for CLIENT LIST
 * (only for connections of the calling worker: 0 for others). */
void srv_conn_buffers(srv_conn *c, size_t *qbuf, size_t *qfree, size_t *obl, size_t *omem);
/* CLIENT PAUSE for ms milliseconds (0: UNPAUSE); all: every command
 * waits, else only those that write.  Any thread. */
void srv_pause(long long ms, bool all);
/* The header of an out-of-band push of n elements for c (pub/sub
 * messages): ">n" in RESP3, "*n" in RESP2.  out is where c's replies go
 * (srv_conn_out). */
static inline void srv_reply_push_len(srv_buf *out, const srv_conn *c, long long n)
{
    out->resp3 = c->resp == 3;
    srv_reply_push(out, n);
}

struct srv_worker {
    int index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t async;           /* new connections, stop */
    uv_check_t check;           /* runs the commands read in this turn */
    uv_timer_t cron;            /* worker 0: active expiry, statistics */
    uv_timer_t stop_timer;      /* closes what is left when stopping */
    bool cron_on, stop_timer_on;
    long long last_commands;
    uint64_t last_cron_us;
    pthread_mutex_t qlock;      /* guards the fds below and async_open */
    /* Whether async may be sent to: set once it is initialized, cleared
     * (under qlock) just before the worker closes it, so that a wake-up
     * from another thread (srv_worker_stop, srv_worker_give_fd) never
     * reaches a closed handle or loop. */
    bool async_open;
    int *fds;
    size_t nfds, capfds;
    srv_conn *conns;
    long long nconns;
    srv_conn *pending;
    bool stopping;
    bool drained;               /* stopping, no connection, nothing in flight */
    bool loop_ok;
    /* Sharded mode: requests and replies from other workers (an MPSC
     * list, shard.c), the eventfd that wakes this worker for them (watched
     * by `mail`; srv_worker_wake writes it), and what this worker will
     * hand to each other worker at the end of its current round.  An
     * eventfd of its own rather than a uv_async_t: libuv's async handle
     * makes the woken loop spin (then sched_yield) until the waking
     * thread has finished its send, which on a small machine, where that
     * thread may be descheduled, was a tenth of a sharded server's CPU. */
    _Atomic(struct srv_msg *) mailbox;
    uv_poll_t mail;
    int mail_fd;
    bool mail_open;             /* guarded by srv_mail_lock once stopping */
    /* In its check callback, so it will look at its mailbox again before
     * it sleeps: senders need not wake it (shard.c, srv_mail_send). */
    _Atomic(bool) awake;
    _Atomic(uint64_t) thread_id;  /* mw_thread_id once confined (INFO gc) */
    struct srv_outq *outq;      /* [nworkers]: newest first */
    /* Messages set aside while a transaction across shards ran (oldest
     * first; run by the next srv_mail_run).  This worker's only. */
    struct srv_msg *stash, *stash_tail;
    long long inflight;         /* requests sent, replies not yet back */
    srv_conn *proxy;            /* runs requests on behalf of other workers */
    uv_sem_t *started;
    int start_error;
    /* Counters, written by this worker only. */
    _Atomic(long long) commands;
    _Atomic(long long) net_in, net_out;
    /* Sharded mode (INFO shards): sub-requests handed to another worker,
     * pushes of a chain to a mailbox, and wake-ups those pushes cost. */
    _Atomic(long long) hops, batches, wakeups;
    /* Blocked clients of this worker (blocking.c): the timer for the
     * earliest timeout and the deadline it is armed for (0: not armed),
     * touched by this worker only; the waiters with a timeout, soonest
     * first (guarded by the keyspace); and the waiters served by any
     * worker whose replies this one has to deliver (guarded by qlock). */
    uv_timer_t blk_timer;
    bool blk_timer_on;
    uint64_t blk_armed;
    struct srv_waiter *blk_timeouts;
    struct srv_waiter *blk_served;
    _Atomic(bool) blk_unblock;  /* a CLIENT UNBLOCK from another worker waits */
} __attribute__((aligned(64)));

/* Start worker w's thread; 0 or a negative libuv code.  Main thread. */
int srv_worker_start(srv_worker *w, int index, uv_sem_t *started);
/* Hand an accepted socket to worker w.  Main thread. */
void srv_worker_give_fd(srv_worker *w, int fd);
/* Ask worker w to finish: stop reading, send what is queued, close.  Any
 * thread. */
void srv_worker_stop(srv_worker *w);
/* Take the keyspace for object code (the GIL, or the keyspace lock in free
 * mode) and give it back: for callbacks outside the check callback (timers,
 * close callbacks).  The worker's thread, while idle / not idle. */
void srv_enter(void);
void srv_leave(void);
/* Run c's held requests and write its replies at the next check callback
 * (a blocked client that was served or timed out).  c's worker only; the
 * caller makes sure the loop comes round (it is in the poll phase, or it
 * wakes the worker). */
void srv_conn_mark_pending(srv_conn *c);

/* net.c, for pubsub.c: write what conn has queued, or close it.  On
 * conn's worker. */
void srv_conn_flush(srv_conn *conn);
void srv_conn_close(srv_conn *conn);

/* ======================================================================
 * Publish/subscribe (pubsub.c)
 * ====================================================================== */

/* Write the messages other workers (or this one) queued for w's
 * connections into their output (drain), and also write those outputs to
 * the sockets (flush).  On w's thread; no keyspace needed. */
void srv_pubsub_drain(srv_worker *w);
void srv_pubsub_flush(srv_worker *w);
/* conn is being closed: drop its subscriptions and queued messages.  On
 * conn's worker, before conn is freed. */
void srv_pubsub_conn_gone(srv_conn *conn);
/* Channels, patterns and shard channels conn is subscribed to; whether it
 * is in the subscribed mode that allows only a few commands (RESP2). */
long long srv_pubsub_count(srv_conn *conn);
bool srv_pubsub_restricted(srv_conn *conn);
/* Each of the three counts of conn's subscriptions (CLIENT LIST).  conn's
 * worker. */
void srv_pubsub_counts(srv_conn *conn, long long n[3]);
/* Channels, patterns and shard channels with a subscriber (INFO stats).
 * Any thread. */
void srv_pubsub_totals(long long *channels, long long *patterns, long long *shard);
/* client-output-buffer-limit as CONFIG GET shows it ("normal 0 0 0 slave
 * ... pubsub ..."), and setting it from that form (any of the classes):
 * NULL, or Redis's reason for refusing it.  Any thread. */
void srv_obuf_limits_format(char *buf, size_t cap);
const char *srv_obuf_limits_set(const char *v, size_t vn);
/* Publish msg on channel ch as PUBLISH does (subscribers of ch and of
 * every matching pattern, on any worker); the number of receivers.  Any
 * thread, with or without the keyspace. */
long long srv_pubsub_publish(const char *ch, size_t chn, const char *msg, size_t msgn);

/* ======================================================================
 * Keyspace notifications (notify.c)
 * ====================================================================== */

/* The classes of notify-keyspace-events, Redis's bits and letters: the
 * two channel kinds, then the event classes. */
#define SRV_NOTIFY_KEYSPACE (1 << 0)    /* K: __keyspace@0__:<key> <event> */
#define SRV_NOTIFY_KEYEVENT (1 << 1)    /* E: __keyevent@0__:<event> <key> */
#define SRV_NOTIFY_GENERIC  (1 << 2)    /* g: del, expire, rename_*, ... */
#define SRV_NOTIFY_STRING   (1 << 3)    /* $ */
#define SRV_NOTIFY_LIST     (1 << 4)    /* l */
#define SRV_NOTIFY_SET      (1 << 5)    /* s */
#define SRV_NOTIFY_HASH     (1 << 6)    /* h */
#define SRV_NOTIFY_ZSET     (1 << 7)    /* z */
#define SRV_NOTIFY_EXPIRED  (1 << 8)    /* x: a key's TTL ran out */
#define SRV_NOTIFY_EVICTED  (1 << 9)    /* e: maxmemory removed a key */
#define SRV_NOTIFY_STREAM   (1 << 10)   /* t */
#define SRV_NOTIFY_KEY_MISS (1 << 11)   /* m: a read found no key */
#define SRV_NOTIFY_LOADED   (1 << 12)   /* (modules only) */
#define SRV_NOTIFY_MODULE   (1 << 13)   /* d */
#define SRV_NOTIFY_NEW      (1 << 14)   /* n: a key was created */
/* A: g$lshzxetd, every event class but m and n, as in Redis. */
#define SRV_NOTIFY_ALL (SRV_NOTIFY_GENERIC | SRV_NOTIFY_STRING | SRV_NOTIFY_LIST | \
                        SRV_NOTIFY_SET | SRV_NOTIFY_HASH | SRV_NOTIFY_ZSET | \
                        SRV_NOTIFY_EXPIRED | SRV_NOTIFY_EVICTED | SRV_NOTIFY_STREAM | \
                        SRV_NOTIFY_MODULE)

/* The setting now; any thread reads it (relaxed: a command that runs
 * while CONFIG SET changes it may go either way, as in Redis). */
extern _Atomic(int) srv_notify_flags;
/* Publish event of class cls on key (n bytes) in both channel kinds the
 * setting asks for.  srv_notify is the one test that costs anything when
 * notifications are off; the slow part builds the channel names and
 * publishes (srv_pubsub_publish).  Any thread that holds the key's
 * keyspace (the key bytes are only read). */
void srv_notify_slow(int cls, const char *event, const char *key, size_t n);
static inline void srv_notify(int cls, const char *event, const char *key, size_t n)
{
    if (__builtin_expect(atomic_load_explicit(&srv_notify_flags, memory_order_relaxed) & cls, 0)) {
        srv_notify_slow(cls, event, key, n);
    }
}
/* The setting as CONFIG GET shows it (Redis's order: "A" or the event
 * letters, then K, E, m), into buf of at least 16 bytes; setting it from
 * a string of letters: NULL, or Redis's reason for refusing it (the
 * setting is unchanged then).  Any thread. */
void srv_notify_format(char *buf, size_t cap);
const char *srv_notify_set(const char *p, size_t n);

/* ======================================================================
 * Keyspace (keyspace.c); every call here needs the keyspace (the GIL in
 * GIL mode, srv.ks_lock in free mode) and an attached, non-idle thread
 * ====================================================================== */

/* A chained hash table of byte keys; the keyspace, hashes, sets and the
 * member index of sorted sets are all one of these. */
typedef struct srv_entry {
    struct srv_entry *next;     /* bucket chain */
    struct srv_entry *onext, *oprev; /* insertion order (Redis's small
                                    hashes reply in insertion order) */
    uint64_t hash;
    union {
        mw_object *obj;         /* keyspace and hash: the value (owned) */
        void *ptr;              /* zset: the skiplist node */
    } v;
    int64_t expire;             /* keyspace: ms since the epoch, -1 none */
    uint32_t atime;             /* keyspace: last access, coarse seconds */
    uint32_t klen;
    char key[];
} srv_entry;

typedef struct srv_dict {
    srv_entry **buckets;
    size_t size;                /* a power of two, or 0 */
    size_t count;
    srv_entry *first, *last;    /* insertion order */
} srv_dict;

/* The seeded hash of n bytes at p.  Any thread, after main seeded it. */
uint64_t srv_hash_bytes(const char *p, size_t n);
/* The entry for key (h = srv_hash_bytes(key, n)), or NULL. */
srv_entry *srv_dict_find(srv_dict *d, const char *key, size_t n, uint64_t h);
/* Add an entry for key (not present yet); NULL when out of memory. */
srv_entry *srv_dict_add(srv_dict *d, const char *key, size_t n, uint64_t h);
/* Unlink e and free it (its value is the caller's business). */
void srv_dict_remove(srv_dict *d, srv_entry *e);
/* Free every entry, calling drop on each first (may be NULL). */
void srv_dict_clear(srv_dict *d, void (*drop)(srv_entry *));
/* A random entry, or NULL if empty. */
srv_entry *srv_dict_random(srv_dict *d);
/* Visit bucket (cursor & mask) and return the next cursor (0: done): the
 * reverse-binary scan, which returns every entry present for a whole walk
 * at least once even if the table doubles or halves between calls. */
uint64_t srv_dict_scan(srv_dict *d, uint64_t cursor,
                       void (*fn)(srv_entry *, void *), void *arg);

/* Value types. */
extern const mw_type srv_list_type;
extern const mw_type srv_hash_type;
extern const mw_type srv_set_type;
extern const mw_type srv_zset_type;
extern const mw_type srv_stream_type;

typedef struct srv_list {
    mw_object ob;
    mw_object **items;          /* ring buffer */
    size_t head, len, cap;
} srv_list;

typedef struct srv_hash {
    mw_object ob;
    srv_dict d;                 /* field -> value (str, or any value by REF.SET) */
} srv_hash;

typedef struct srv_set {
    mw_object ob;
    srv_dict d;                 /* member -> nothing */
} srv_set;

#define SRV_ZSL_MAXLEVEL 32
typedef struct srv_znode {
    double score;
    srv_entry *entry;           /* its entry in the member index: the name */
    struct srv_znode *back;
    struct srv_zlevel {
        struct srv_znode *fwd;
        size_t span;
    } level[];
} srv_znode;

typedef struct srv_zset {
    mw_object ob;
    srv_dict d;                 /* member -> node */
    srv_znode *header, *tail;
    size_t len;
    int level;
} srv_zset;

/* A new empty list (new reference), or NULL with the runtime's error set. */
srv_list *srv_list_new(void);
/* Push o at the head (left) or tail, stealing the caller's reference to o;
 * false when out of memory (o's reference is dropped then). */
bool srv_list_push(srv_list *l, mw_object *o, bool left);
/* Pop from the head or tail: the caller gets the list's reference (a new
 * reference for it), or NULL if the list is empty. */
mw_object *srv_list_pop(srv_list *l, bool left);
/* Item i (0 <= i < len), borrowed. */
mw_object *srv_list_at(srv_list *l, size_t i);
/* Replace item i (0 <= i < len) with o, stealing o; the old item loses
 * the list's reference. */
void srv_list_set(srv_list *l, size_t i, mw_object *o);
/* Remove item i (0 <= i < len), dropping the list's reference to it. */
void srv_list_remove_at(srv_list *l, size_t i);

/* New empty hash, set and sorted set (new references), or NULL with the
 * runtime's error set. */
srv_hash *srv_hash_new(void);
srv_set *srv_set_new(void);
srv_zset *srv_zset_new(void);

/* A stream (cmd_stream.c has the commands and the essay).  Entries are
 * kept in nodes of at most stream-node-max-entries entries (and about
 * stream-node-max-bytes bytes), as Redis keeps them in listpacks under a
 * radix tree: the nodes are an array sorted by ID, each node an array of
 * IDs sorted too, so finding an ID is two binary searches.  A deleted
 * entry keeps its place in its node (items[i] NULL) until the node is
 * empty, which is what makes approximate trimming (whole nodes only) and
 * the node counts of XINFO behave as Redis's. */
typedef struct srv_sid {
    uint64_t ms, seq;
} srv_sid;

/* One entry's fields and values: npairs, then 2 * npairs lengths, then
 * the bytes one after the other (one mw_malloc block). */
typedef struct srv_sitem {
    uint32_t npairs;
    uint32_t len[];
} srv_sitem;

typedef struct srv_snode {
    size_t n, live, cap;        /* slots used (live + deleted), live, room */
    size_t bytes;               /* Redis's listpack size, estimated */
    srv_sid *ids;
    srv_sitem **items;          /* NULL: deleted */
} srv_snode;

struct srv_sconsumer;

/* A pending entry: in its group's PEL and its consumer's, both sorted by
 * ID (one struct, two arrays of pointers to it). */
typedef struct srv_snack {
    srv_sid id;
    int64_t delivery_time;      /* ms, wall clock */
    uint64_t delivery_count;
    struct srv_sconsumer *consumer;
} srv_snack;

typedef struct srv_spel {
    srv_snack **v;
    size_t n, cap;
} srv_spel;

typedef struct srv_sconsumer {
    char *name;
    size_t nlen;
    int64_t seen_time;
    srv_spel pel;
} srv_sconsumer;

typedef struct srv_sgroup {
    char *name;
    size_t nlen;
    srv_sid last_id;
    long long entries_read;     /* -1: not known */
    srv_spel pel;
    srv_sconsumer **cons;       /* sorted by name, as Redis lists them */
    size_t ncons, ccap;
} srv_sgroup;

typedef struct srv_stream {
    mw_object ob;
    srv_snode **nodes;          /* sorted by their first ID */
    size_t nnodes, ncap;
    size_t length;              /* live entries */
    srv_sid last_id, first_id, max_deleted;
    uint64_t entries_added;
    srv_sgroup **groups;        /* sorted by name */
    size_t ngroups, gcap;
} srv_stream;

/* A new empty stream (new reference), or NULL with the runtime's error
 * set.  Its parts are freed by its type's destroy: srv_stream_free_group
 * frees one group with its consumers and PEL. */
srv_stream *srv_stream_new(void);
void srv_stream_free_group(srv_sgroup *g);

/* Sorted set: insert or update member (1 added, 0 updated, -1 OOM). */
int srv_zset_add(srv_zset *z, const char *m, size_t n, double score);
/* Remove member: true if it was there. */
bool srv_zset_del(srv_zset *z, const char *m, size_t n);
/* The node of member, or NULL. */
srv_znode *srv_zset_find(srv_zset *z, const char *m, size_t n);
/* 0-based rank of member, or -1. */
long long srv_zset_rank(srv_zset *z, const char *m, size_t n);
/* Node at 0-based rank, or NULL. */
srv_znode *srv_zset_at(srv_zset *z, size_t rank);

/* The keyspace (database 0), or one shard of it.  Only the thread that
 * holds it touches d and the plain counters; other threads read the
 * published copies (srv_ks_publish), and CONFIG RESETSTAT moves the
 * baselines that INFO subtracts. */
typedef struct srv_keyspace {
    srv_dict d;
    size_t expires;             /* keys with an expiry */
    long long hits, misses, expired;
    uint64_t expire_cursor;
    /* WATCH: key -> the registrations of the clients watching it
     * (cmd_multi.c; v.ptr of each entry), and how many tokens with a
     * registration here died since the last sweep (set by any worker). */
    srv_dict watched;
    _Atomic(long long) watch_garbage;
    _Atomic(long long) pub_keys, pub_expires, pub_hits, pub_misses, pub_expired;
    _Atomic(long long) base_hits, base_misses, base_expired;
    struct srv_blk_table *blk;  /* the clients blocked on its keys, or NULL */
    int db;                     /* its database number */
} __attribute__((aligned(64))) srv_keyspace;

/* The keyspace the calling thread works on: a database of its own shard
 * in sharded mode, of the one shared keyspace otherwise.  srv_ks_base is
 * that shard's database 0 (set once per thread); srv_ks_use(db) makes
 * database db current (before each command, for the client's SELECT). */
extern __thread srv_keyspace *srv_ks_cur;
extern __thread srv_keyspace *srv_ks_base;
#define srv_ks (*srv_ks_cur)
static inline void srv_ks_use(int db)
{
    srv_ks_cur = srv_ks_base + db;
}
/* Database db of shard i; the index of keyspace k in srv.shards. */
static inline struct srv_keyspace *srv_ks_of(int shard, int db)
{
    return &srv.shards[shard * srv.ndb + db];
}
static inline int srv_ks_index(const struct srv_keyspace *k)
{
    return (int)(k - srv.shards);
}

/* Keyspace figures for INFO, summed over shards. */
typedef struct srv_ks_totals {
    long long keys, expires, hits, misses, expired;
} srv_ks_totals;
void srv_ks_get_totals(srv_ks_totals *t);
/* The same for database db only (INFO keyspace). */
void srv_ks_get_db_totals(int db, srv_ks_totals *t);
/* CONFIG RESETSTAT: hits, misses and expired start again from zero. */
void srv_ks_reset_stats(void);
/* Copy this shard's figures (every database's) where other threads read
 * them. */
void srv_ks_publish(void);

/* Look key up, deleting it first if it expired; NULL if absent.  A found
 * key's access time is stamped (OBJECT IDLETIME); the _notouch form is
 * for the commands that do not count as an access (TYPE, EXISTS, TTL,
 * OBJECT), as Redis's LOOKUP_NOTOUCH. */
srv_entry *srv_ks_find(const char *key, size_t n);
srv_entry *srv_ks_find_notouch(const char *key, size_t n);
/* Seconds since e's last access. */
long long srv_entry_idle_s(const srv_entry *e);
/* Set key to val (takes a new reference), keeping or clearing the
 * expiry; false when out of memory. */
bool srv_ks_set(const char *key, size_t n, mw_object *val, bool keepttl);
/* Replace the value of the live entry e (takes a new reference to val),
 * clearing its expiry unless keepttl. */
void srv_ks_replace(srv_entry *e, mw_object *val, bool keepttl);
/* Delete key if present (expired keys count as absent). */
bool srv_ks_del(const char *key, size_t n);
/* Delete the entry e. */
void srv_ks_remove(srv_entry *e);
/* Set or clear (-1) e's expiry. */
void srv_ks_set_expire(srv_entry *e, int64_t when_ms);
/* Remove every key of the current database; of every database of the
 * current shard. */
void srv_ks_flush(void);
void srv_ks_flush_all(void);
/* Spend a little time deleting expired keys, unless DEBUG
 * SET-ACTIVE-EXPIRE 0 turned active expiry off (any thread writes it). */
void srv_ks_active_expire(void);
extern _Atomic(bool) srv_active_expire;
/* maxmemory-policy: which keys go when the memory in use is past
 * maxmemory (Redis's names, in Redis's order).  The LFU policies choose
 * as the LRU ones do: no access frequency is kept. */
typedef enum srv_evict_policy {
    SRV_EVICT_VOLATILE_LRU, SRV_EVICT_VOLATILE_LFU, SRV_EVICT_VOLATILE_RANDOM,
    SRV_EVICT_VOLATILE_TTL, SRV_EVICT_ALLKEYS_LRU, SRV_EVICT_ALLKEYS_LFU,
    SRV_EVICT_ALLKEYS_RANDOM, SRV_EVICT_NONE, SRV_EVICT_POLICIES
} srv_evict_policy;
extern _Atomic(int) srv_evict_policy_now;
/* Keys evicted since the last CONFIG RESETSTAT (INFO evicted_keys). */
extern _Atomic(long long) srv_evicted_keys;
/* The policy's name; setting it by name: NULL, or Redis's reason.  Any
 * thread. */
const char *srv_evict_policy_name(void);
const char *srv_evict_policy_set(const char *v, size_t vn);
/* Past maxmemory under a policy that evicts: delete keys of this
 * keyspace that the policy picks (raising "evicted") until the memory in
 * use is below maxmemory, nothing is left to pick, or SRV_EVICT_MAX_KEYS
 * went in this call; then refresh srv.memory_used.  Needs the keyspace;
 * returns at once when there is no limit or the policy is noeviction. */
void srv_ks_evict(void);
#if SRV_DEBUG >= 2
/* Check every table of the keyspace (debug builds, after each command
 * while the keyspace is small); aborts with a message on a broken one. */
void srv_ks_validate(void);
#endif
/* WATCH (cmd_multi.c).  Every change of a key of this keyspace touches
 * it: the watchers' tokens are marked dirty, and their EXEC fails.
 * keyspace.c calls srv_watch_touch from each function that changes what a
 * key holds (replace, remove - so DEL, RENAME and expiry too - and a TTL
 * change); srv_execute touches the keys of F_WRITE commands
 * that hold an aggregate, which commands change in place.  exists: 1 the
 * key is there after the change, 0 it is not.  One load when nobody
 * watches anything. */
void srv_watch_touch_slow(const char *key, size_t n, bool exists);
static inline void srv_watch_touch(const char *key, size_t n, bool exists)
{
    if (srv_ks.watched.count > 0) {
        srv_watch_touch_slow(key, n, exists);
    }
}
/* FLUSHDB/FLUSHALL is about to empty this keyspace: touch every watched
 * key that is in it. */
void srv_watch_flush(void);
/* Free the registrations of dead tokens (after UNWATCH of a key on
 * another shard, or a client closed); cheap when there are none, unless
 * all (FLUSHALL, shutdown: the table's memory too once it is empty). */
void srv_watch_sweep(bool all);
/* Free conn's transaction and watches.  Needs no keyspace (net.c calls it
 * when the connection is freed): registrations become garbage that the
 * keyspace's owner sweeps. */
void srv_multi_conn_free(srv_conn *conn);

/* A static name for a value's type, as TYPE replies. */
const char *srv_type_name(mw_object *o);

/* ======================================================================
 * Commands (commands.c)
 * ====================================================================== */

/* Build the command table.  Main thread, before the workers start. */
void srv_commands_init(void);
/* Run the request of argc arguments argv/argl for conn, replying into
 * srv_conn_out(conn); in sharded mode a request on keys of other workers
 * is handed to them (srv_route).  Needs the keyspace. */
void srv_execute(srv_conn *conn, size_t argc, const char **argv, const size_t *argl);
/* Whether a request naming command argv0 waits during a CLIENT PAUSE
 * (every command in ALL mode, those that write in WRITE mode).  Any
 * thread. */
bool srv_command_paused(const char *argv0, size_t len, bool all);
/* Run a request that was checked and routed already (by the worker it
 * came from), replying into out.  Needs the keyspace. */
void srv_execute_routed(srv_conn *conn, srv_buf *out, size_t argc, const char **argv,
                        const size_t *argl);

/* How a command's keys decide where it runs (sharded mode). */
typedef enum srv_route_kind {
    SRV_ROUTE_LOCAL,            /* no keys: runs where the client is */
    SRV_ROUTE_KEYS,             /* every key in one slot: runs at its owner */
    SRV_ROUTE_SPLIT_SUM,        /* DEL, EXISTS, UNLINK: per owner, integers added */
    SRV_ROUTE_SPLIT_OK,         /* MSET: per owner, +OK if all are */
    SRV_ROUTE_SPLIT_MGET,       /* MGET: per owner, values put back in key order */
    SRV_ROUTE_ALL_SUM,          /* DBSIZE: every shard, integers added */
    SRV_ROUTE_ALL_OK,           /* FLUSHDB, FLUSHALL: every shard */
    SRV_ROUTE_ALL_CONCAT,       /* KEYS: every shard, arrays joined */
    SRV_ROUTE_SCAN,             /* SCAN: the shard the cursor names */
} srv_route_kind;

/* Where a command's keys are: argv[first..last] every step-th (last < 0
 * counts from the end: -1 is the last argument); first 0: no keys. */
typedef struct srv_keyspec {
    int first, last, step;
    srv_route_kind route;
} srv_keyspec;

/* ======================================================================
 * Blocked clients (blocking.c)
 * ====================================================================== */

typedef struct srv_waiter srv_waiter;

/* Note that key, or the keys of a command per its spec ks, may now hold
 * what blocked clients wait for, without serving them yet (cmd_call does
 * it for every command it runs); srv_blk_serve, after each request (so
 * after EXEC as a whole, Redis's MULTI isolation), serves the clients
 * blocked on the keys so noted, oldest first, while a key holds a value
 * of the type they wait for.  Needs the keyspace. */
/* The latency monitor (latency.c): latency-monitor-threshold (ms, 0 off);
 * record a stall of event, kept when at least the threshold (cheap when
 * off). */
extern _Atomic(long long) srv_latency_threshold;
static inline bool srv_latency_on(void)
{
    return atomic_load_explicit(&srv_latency_threshold, memory_order_relaxed) > 0;
}
void srv_latency_add(const char *event, long long ms);
void srv_blk_touch(const char *key, size_t n);
void srv_blk_touch_keys(const srv_keyspec *ks, size_t argc, const char **argv,
                        const size_t *argl);
void srv_blk_serve(void);
/* Note every key of the current database that clients wait on (SWAPDB). */
void srv_blk_touch_all(void);
/* Whether any client of this keyspace is blocked on a key (cheap). */
bool srv_blk_waiting(void);
/* c, which is blocked, closed its side: forget its wait (needs the
 * keyspace), or its connection is gone (takes the keyspace itself).  c's
 * worker only. */
void srv_blk_cancel(srv_conn *c);
void srv_blk_conn_closed(srv_conn *c);
/* Sharded: the request of c (another worker's client) held here has to
 * go: answer it with a null array, popping nothing.  The owner's thread. */
void srv_blk_cancel_held(srv_conn *c);
/* CLIENT UNBLOCK: unblock the client with this id as if it timed out, or
 * with an -UNBLOCKED error; 1 if it was blocked, else 0.  Needs the
 * keyspace. */
int srv_blk_unblock(long long id, bool error);
/* Clients blocked now (INFO blocked_clients).  Any thread. */
long long srv_blocked_clients(void);
/* Per worker: the timeout timer (0 or a negative libuv code), and closing
 * it; delivering the replies other workers produced for this worker's
 * blocked clients (its async callback).  The worker's thread. */
int srv_blk_worker_init(srv_worker *w);
void srv_blk_worker_fini(srv_worker *w);
void srv_blk_deliver(srv_worker *w);

/* ======================================================================
 * Shards (shard.c)
 * ====================================================================== */

#define SRV_SLOTS 16384
/* Replies a connection may wait for before its further requests wait too. */
#ifndef SRV_MAX_WAIT
#define SRV_MAX_WAIT 1024
#endif

/* The hash slot of a key, as Redis Cluster computes it: CRC16-CCITT
 * (XModem) of the key, or of the part between the first '{' and the next
 * '}' when that part is not empty, modulo 16384. */
unsigned srv_key_slot(const char *key, size_t n);
/* The worker that owns each slot: the one table that routing, and the
 * cluster protocol, read.  Filled before the workers start. */
extern uint16_t srv_slot_owner[SRV_SLOTS];
void srv_shards_init(void);

/* Route a checked request for conn (sharded mode): true if it was handed
 * over or answered here (CROSSSLOT), false if it runs on this worker. */
bool srv_route(srv_conn *conn, const srv_keyspec *ks, size_t argc, const char **argv,
               const size_t *argl);
/* Where replies for conn go now: the last part of its chain, or conn->out. */
srv_buf *srv_conn_out(srv_conn *conn);
/* The calling worker. */
extern __thread srv_worker *srv_self;

/* Shard plumbing for net.c: run or deliver what other workers sent
 * (returns how many messages), hand over what this worker produced
 * (one push and one wake per target), and free what a closed connection
 * still holds. */
size_t srv_mail_run(srv_worker *w);
void srv_mail_send(srv_worker *w);
/* Whether w has mail to run (in its mailbox, or set aside). */
bool srv_mail_waiting(srv_worker *w);
void srv_conn_free_parts(srv_conn *c);
/* net.c: a part of conn's chain completed; run what waited behind it, or
 * free conn if it was closed meanwhile and nothing else waits. */
void srv_conn_replied(srv_conn *c);
/* A worker's routing state (outgoing chains, proxy connection): 0 or a
 * negative libuv code.  On the worker's thread. */
int srv_shard_worker_init(srv_worker *w);
void srv_shard_worker_fini(srv_worker *w);
/* Wake worker w for its mailbox (sharded): one write to its eventfd.  Its
 * mail handle must be open (shard.c and net.c say why it is). */
void srv_worker_wake(srv_worker *w);

/* Blocking commands on another worker's keys (blocking.c): whether argv
 * is the request now running for another worker (not a command inside
 * it, as EXEC runs); keep that request (NULL if none runs), and the id
 * of the client it is for; answer it later with the reply (taken; sent at
 * the end of the round or by srv_mail_send); whether it is c's; tell the
 * owner that c, blocked there, has gone (a cancel message, sent now).
 * The worker's thread. */
typedef struct srv_msg srv_msg;
bool srv_mail_is_running(const char *const *argv);
srv_msg *srv_mail_hold(long long *client_id);
void srv_mail_release(srv_msg *m, srv_buf *reply);
bool srv_mail_is_from(const srv_msg *m, const srv_conn *c);
void srv_mail_cancel(srv_conn *c, int owner);

/* A transaction across shards (shard.c): run n requests as one unit, in
 * order, request i on worker steps[i].owner (this worker's index: by
 * ops->local, which appends its reply to out itself).  Every other owner
 * named is parked from before the first request until after the last,
 * so nothing else runs on those shards in between.  ops->ready is called
 * once they are all parked: false, and nothing runs.  The replies of the
 * other owners' requests are appended to out in order.  Returns
 * SRV_TXN_RAN, SRV_TXN_REFUSED (ready said no) or SRV_TXN_NOMEM (nothing
 * ran).  Needs the keyspace; runs inside the check callback. */
typedef struct srv_txn_step {
    int owner;
    size_t argc;
    const char *const *argv;
    const size_t *argl;
} srv_txn_step;
typedef struct srv_txn_ops {
    bool (*ready)(void *arg);
    void (*local)(void *arg, size_t i);
    void *arg;
} srv_txn_ops;
enum { SRV_TXN_RAN, SRV_TXN_REFUSED, SRV_TXN_NOMEM };
int srv_txn_run(srv_conn *c, const srv_txn_step *steps, size_t n, const srv_txn_ops *ops,
                srv_buf *out);

/* The lock that orders closing of mail handles against the last wake-up. */
extern pthread_mutex_t srv_mail_lock;

#endif /* MWRT_SERVER_SERVER_H */
