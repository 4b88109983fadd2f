/*
 * server/main.c - mwrt-server: start and stop.
 *
 * mwrt-server speaks Redis's protocols (RESP2 and RESP3) over TCP, keeping
 * its data as objects of the mwrt runtime, so that the runtime's reference
 * counting, cycle collector and GC policies run under a real service's
 * load and real clients (redis-cli, redis-benchmark, hiredis) drive it
 * unchanged.  docs/server.md is the design document; server/README.md maps
 * the files.  This file only starts and stops: the settings are config.c's,
 * the listening socket and signals listen.c's, the workers net.c's.
 *
 * Threads.
 *   - main: reads the settings, creates the runtime (never attaches to it
 *     while workers run), opens the listening socket, starts the workers,
 *     then runs its own libuv loop that accepts connections and handles
 *     SIGINT/SIGTERM (listen.c).
 *   - workers (--workers, default half the cores): each an attached
 *     runtime thread with its own loop (net.c).
 *   - the runtime's own master thread, if the policy uses one.
 *
 * By default the keyspace is sharded: each worker owns the keys of its hash
 * slots and runs their commands without a lock (shard.c).  With --keyspace
 * shared (or --lock alone) it is shared by every worker (keyspace.c).  In
 * GIL mode the GIL is its lock: a worker holds it only while running a
 * batch of requests, and it changes hands only between requests
 * (mw_safepoint, mw_idle_begin), so each command is atomic and sees
 * everything acknowledged before it.  In free mode a mutex (srv.ks_lock)
 * plays that role.
 *
 * Start: the ready line "mwrt-server: ready on ADDR:PORT" goes to stderr
 * only once every worker's loop is set up and the socket listens; tests wait
 * for it.  --port 0 takes a port from the kernel and the line says which.
 *
 * Stop: SIGINT, SIGTERM or SHUTDOWN closes the listening socket and wakes
 * every worker (net.c says what a worker does then); once they have all
 * ended, main attaches to the runtime, empties the keyspace, runs a full
 * collection so that cycles are freed too, detaches, frees the runtime and
 * exits 0.
 */
#include "server.h"
#include "rdb.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

/* Raise the open-file limit so that maxclients clients fit, as Redis does;
 * log when the hard limit is lower. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        srv_log("getrlimit: %s", strerror(errno));
        return;
    }
    rlim_t want = (rlim_t)atomic_load(&srv.maxclients) + 64;
    if (rl.rlim_cur >= want) {
        return;
    }
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        srv_log("setrlimit: %s", strerror(errno));
        rl.rlim_cur = old;
    }
    if (rl.rlim_cur < want) {
        srv_log("open files limited to %llu: at most about %llu clients, not maxclients %lld",
                (unsigned long long)rl.rlim_cur,
                (unsigned long long)(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0), atomic_load(&srv.maxclients));
    }
}

static const char *gc_name(mw_gc_policy p)
{
    return p == MW_GC_STW ? "stw" : p == MW_GC_PAUSED ? "paused" : "off";
}

/* Stop the workers started so far and wait for them. */
static void stop_workers(int started)
{
    atomic_store(&srv.stopping, true);
    for (int i = 0; i < started; i++) {
        if (srv.workers[i].loop_ok) {
            srv_worker_stop(&srv.workers[i]);
        }
    }
    for (int i = 0; i < started; i++) {
        uv_thread_join(&srv.workers[i].thread);
    }
}

static int shutdown_runtime(void)
{
    int r = mw_thread_attach(srv.rt);
    if (r == 0) {
        for (int i = 0; i < srv.nshards; i++) {
            srv_ks_base = srv_ks_cur = srv_ks_of(i, 0);  // sharded: emptied by their owners already
            srv_ks_flush_all();
        }
        srv_ks_base = srv_ks_cur = NULL;
        intptr_t n = mw_gc_collect(-1);
        if (n < 0) {
            mw_err_clear();
        }
        mw_thread_detach();
    }
    srv_script_fini();
    r = mw_runtime_free(srv.rt);
    if (r != 0) {
        srv_log("mw_runtime_free: %s", mw_strerror(r));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    pthread_mutex_init(&srv.pass_lock, NULL);   // requirepass's setter takes it
    srv_config_defaults();
    int st = srv_config_args(argc, argv);
    if (st >= 0) {
        return st;
    }
    if (srv.cfg.lock_given && !srv.cfg.keyspace_given) {
        srv.cfg.sharded = false;  // --lock alone names a shared layout
    }
    if (srv.cfg.sharded) {
        if (srv.cfg.lock_given && srv.cfg.lock == MW_LOCK_GIL) {
            fprintf(stderr, "mwrt-server: --keyspace sharded runs its workers at once: "
                            "it needs --lock free, not --lock gil\n");
            return 2;
        }
        srv.cfg.lock = MW_LOCK_FREE;
    }
    srv.start_ms = srv_now_ms();
    atomic_store(&srv.next_client_id, 1);
    pthread_mutex_init(&srv.ks_lock, NULL);
    if (getrandom(srv.hash_seed, sizeof srv.hash_seed, 0) != sizeof srv.hash_seed) {
        srv.hash_seed[0] = (uint64_t)srv.start_ms * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
        srv.hash_seed[1] = uv_hrtime();
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    srv_commands_init();

    if (srv_listen_open() != 0) {
        return 1;
    }

    mw_config rc;
    mw_config_default(&rc);
    rc.lock = srv.cfg.lock;
    rc.gc_policy = srv.cfg.gc;
    memcpy(rc.threshold, srv.cfg.threshold, sizeof rc.threshold);
    srv.rt = mw_runtime_new(&rc);
    if (srv.rt == NULL) {
        fprintf(stderr, "mwrt-server: cannot create the runtime: %s\n", mw_err_message());
        srv_listen_close();
        return 1;
    }
    srv_latency_init();

    srv.nworkers = srv.cfg.workers;
    srv.workers = aligned_alloc(64, sizeof(srv_worker) * (size_t)srv.nworkers);
    if (srv.workers == NULL) {
        fprintf(stderr, "mwrt-server: out of memory\n");
        srv_listen_close();
        mw_runtime_free(srv.rt);
        return 1;
    }
    memset(srv.workers, 0, sizeof(srv_worker) * (size_t)srv.nworkers);
    srv.nshards = srv.cfg.sharded ? srv.nworkers : 1;
    srv.ndb = (int)srv.cfg.databases;
    size_t nks = (size_t)srv.nshards * (size_t)srv.ndb;
    srv.shards = aligned_alloc(64, sizeof(srv_keyspace) * nks);
    if (srv.shards == NULL) {
        fprintf(stderr, "mwrt-server: out of memory\n");
        srv_listen_close();
        free(srv.workers);
        mw_runtime_free(srv.rt);
        return 1;
    }
    memset(srv.shards, 0, sizeof(srv_keyspace) * nks);
    for (size_t i = 0; i < nks; i++) {
        srv.shards[i].db = (int)(i % (size_t)srv.ndb);
    }
    srv_shards_init();
    if (!srv_rdb_load_check()) {    // a bad snapshot: refused before any key exists
        srv_listen_close();
        free(srv.shards);
        free(srv.workers);
        mw_runtime_free(srv.rt);
        return 1;
    }
    uv_sem_t started;
    uv_sem_init(&started, 0);
    int nstarted = 0;
    int err = 0;
    for (int i = 0; i < srv.nworkers && err == 0; i++) {
        err = srv_worker_start(&srv.workers[i], i, &started);
        if (err == 0) {
            nstarted++;
            uv_sem_wait(&started);
            err = srv.workers[i].start_error;
        }
    }
    srv_rdb_load_done();
    uv_loop_t loop;
    int r = err == 0 ? uv_loop_init(&loop) : err;
    if (r == 0) {
        r = srv_listen_start(&loop);
    }
    if (r != 0) {
        fprintf(stderr, "mwrt-server: cannot start: %s\n",
                r == MW_ENOMEM || r == MW_EBUSY || r == MW_EINVAL ? mw_strerror(r) : uv_strerror(r));
        stop_workers(nstarted);
        srv_listen_close();
        shutdown_runtime();
        return 1;
    }
    srv_log("mwrt-server %s starting: %d workers, keyspace %s, lock %s, gc %s, thresholds %d,%d,%d, "
            "maxclients %lld, maxmemory %lld%s", SRV_VERSION, srv.nworkers,
            srv.cfg.sharded ? "sharded" : "shared",
            srv.cfg.lock == MW_LOCK_GIL ? "gil" : "free", gc_name(srv.cfg.gc),
            srv.cfg.threshold[0], srv.cfg.threshold[1], srv.cfg.threshold[2],
            atomic_load(&srv.maxclients), atomic_load(&srv.maxmemory),
            srv.cfg.requirepass[0] ? ", password required" : "");
    if (srv_split()) {
        srv_log("keyspace split over %d shards: a request's keys must share a slot "
                "(Redis Cluster's rule; one shard answers as a standalone Redis)", srv.nshards);
    }
    fprintf(stderr, "mwrt-server: ready on %s:%lld\n", srv.cfg.bind, srv.cfg.port);
    fflush(stderr);

    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < nstarted; i++) {
        uv_thread_join(&srv.workers[i].thread);
    }
    r = uv_loop_close(&loop);
    if (r != 0) {
        srv_log("main loop close: %s", uv_strerror(r));
    }
    uv_sem_destroy(&started);
    st = shutdown_runtime();
    for (int i = 0; i < srv.nworkers; i++) {
        pthread_mutex_destroy(&srv.workers[i].qlock);
        free(srv.workers[i].fds);
    }
    free(srv.workers);
    free(srv.shards);
    srv_log("stopped");
    return st;
}
