/*
 * server/main.c - mwrt-server: options, start, accept, stop.
 *
 * mwrt-server speaks RESP2 (Redis's protocol) over TCP, keeping its data as
 * objects of the mwrt runtime, so that the runtime's reference counting,
 * cycle collector and GC policies run under a real service's load and real
 * clients (redis-cli, redis-benchmark, hiredis) can drive it unchanged.
 * docs/server.md is the design document; this essay is the outline.
 *
 * Threads.
 *   - main: parses the options, creates the runtime (never attaches to it
 *     while workers run), opens the listening socket, starts the workers,
 *     then runs its own libuv loop that accepts connections (accept4 on a
 *     uv_poll_t) and handles SIGINT/SIGTERM.  An accepted socket goes to the
 *     next worker round-robin (srv_worker_give_fd).  The maxclients check is
 *     made here, so a refused client gets Redis's error line and is closed
 *     before any worker sees it.
 *   - workers (--workers, default half the cores): each an attached
 *     runtime thread with its own loop (net.c).
 *   - the runtime's own master thread, if the policy uses one.
 *
 * By default the keyspace is sharded: each worker owns the keys of its hash
 * slots and runs their commands without a lock (shard.c).  With --keyspace
 * shared (or --lock alone) it is shared by every worker (keyspace.c).  In
 * GIL mode the GIL
 * is its lock: a worker holds it only while running a batch of requests,
 * and it changes hands only between requests (mw_safepoint, mw_idle_begin),
 * so each command is atomic and sees everything acknowledged before it.  In
 * free mode a mutex (srv.ks_lock) plays that role.
 *
 * Start: the ready line "mwrt-server: ready on ADDR:PORT" goes to stderr
 * only once every worker's loop is set up and the socket listens; tests wait
 * for it.  --port 0 takes a port from the kernel and the line says which.
 *
 * Stop: SIGINT or SIGTERM closes the listening socket and wakes every
 * worker (net.c says what a worker does then); once they have all ended,
 * main attaches to the runtime, empties the keyspace, runs a full
 * collection so that cycles are freed too, detaches, frees the runtime and
 * exits 0.
 *
 * Not handled: persistence, replication, pub/sub, transactions, scripting,
 * RESP3, databases other than 0, TLS, Unix sockets.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

srv_server srv;

/* ======================================================================
 * Logging and clocks
 * ====================================================================== */

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t srv_mono_us(void)
{
    return uv_hrtime() / 1000;
}

static void vlog(const char *fmt, va_list ap)
{
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    // One fprintf per line, so lines of different threads do not mix.
    fprintf(stderr, "mwrt-server: %s.%03ld %s\n", when, ts.tv_nsec / 1000000, msg);
}

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

/* At most this many rate-limited lines per second. */
#define SRV_LOG_PER_SECOND 10

static _Atomic(int64_t) log_window;
static _Atomic(int) log_count;
static _Atomic(long long) log_dropped;

void srv_log_limited(const char *fmt, ...)
{
    int64_t sec = srv_now_ms() / 1000;
    int64_t win = atomic_load(&log_window);
    if (win != sec && atomic_compare_exchange_strong(&log_window, &win, sec)) {
        atomic_store(&log_count, 0);
        long long dropped = atomic_exchange(&log_dropped, 0);
        if (dropped > 0) {
            srv_log("(%lld similar lines suppressed)", dropped);
        }
    }
    if (atomic_fetch_add(&log_count, 1) >= SRV_LOG_PER_SECOND) {
        atomic_fetch_add(&log_dropped, 1);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

size_t srv_memory_used(mw_alloc_stats *out, size_t *small_out)
{
    mw_alloc_stats a;
    if (mw_alloc_get_stats(&a) != 0) {
        return 0;
    }
    size_t small = 0;
    for (int i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        small += a.classes[i].blocks_in_use * a.classes[i].block_size;
    }
    if (out != NULL) {
        *out = a;
    }
    if (small_out != NULL) {
        *small_out = small;
    }
    // The runtime's own figure: the same sum, except where objects do not
    // live in its allocator (an AddressSanitizer build).
    return mw_gc_memory_used();
}

/* ======================================================================
 * Options
 * ====================================================================== */

static void usage(FILE *f)
{
    fprintf(f,
        "Usage: mwrt-server [options]\n"
        "  --port N              TCP port (default 6380; 0: any free port)\n"
        "  --bind ADDR           address to listen on (default 127.0.0.1)\n"
        "  --workers N           worker threads (default: half the cores, at least 1)\n"
        "  --keyspace shared|sharded  one keyspace for all workers, or a shard\n"
        "                        per worker by hash slot (default sharded;\n"
        "                        shared when only --lock is given)\n"
        "  --lock gil|free       shared keyspace: one lock for all, or free\n"
        "                        threading (default gil; sharded: free)\n"
        "  --gc stw|paused|off   automatic collection policy (default stw)\n"
        "  --gc-threshold A,B,C  collector thresholds (default 700,10,10)\n"
        "  --maxmemory BYTES     limit of memory in use (0: none; units k kb m mb g gb)\n"
        "  --maxmemory-policy P  past it: noeviction (refuse writes, default),\n"
        "                        allkeys-lru|lfu|random, volatile-lru|lfu|random|ttl\n"
        "  --maxclients N        most clients at once (default 10000)\n"
        "  --requirepass PASS    require AUTH PASS first\n"
        "  --client-query-buffer-limit BYTES  (default 1gb)\n"
        "  --proto-max-bulk-len BYTES         (default 512mb)\n"
        "  --notify-keyspace-events CLASSES  keyspace notifications (default \"\": off)\n"
        "  --config FILE         read settings from FILE, one 'name value' per line\n"
        "  --help, --version\n");
}

static bool parse_bytes(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno != 0 || v < 0) {
        return false;
    }
    long long mul = 1;
    if (strcasecmp(end, "") == 0 || strcasecmp(end, "b") == 0) {
        mul = 1;
    } else if (strcasecmp(end, "k") == 0) {
        mul = 1000;
    } else if (strcasecmp(end, "kb") == 0) {
        mul = 1024;
    } else if (strcasecmp(end, "m") == 0) {
        mul = 1000000;
    } else if (strcasecmp(end, "mb") == 0) {
        mul = 1024 * 1024;
    } else if (strcasecmp(end, "g") == 0) {
        mul = 1000000000;
    } else if (strcasecmp(end, "gb") == 0) {
        mul = 1024LL * 1024 * 1024;
    } else {
        return false;
    }
    if (v > INT64_MAX / mul) {
        return false;
    }
    *out = v * mul;
    return true;
}

static bool parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

static bool load_config(const char *path, int depth);

/* Apply one setting; NULL, or what is wrong with it. */
static const char *set_option(const char *name, const char *value, int depth)
{
    srv_config *c = &srv.cfg;
    long long v;
    if (strcmp(name, "port") == 0) {
        if (!parse_int(value, 0, 65535, &v)) {
            return "must be 0..65535";
        }
        c->port = (int)v;
    } else if (strcmp(name, "bind") == 0) {
        if (strlen(value) >= sizeof c->bind) {
            return "address too long";
        }
        strcpy(c->bind, value);
    } else if (strcmp(name, "workers") == 0) {
        if (!parse_int(value, 1, 256, &v)) {
            return "must be 1..256";
        }
        c->workers = (int)v;
    } else if (strcmp(name, "keyspace") == 0) {
        c->keyspace_given = true;
        if (strcmp(value, "shared") == 0) {
            c->sharded = false;
        } else if (strcmp(value, "sharded") == 0) {
            c->sharded = true;
        } else {
            return "must be shared or sharded";
        }
    } else if (strcmp(name, "lock") == 0) {
        c->lock_given = true;
        if (strcmp(value, "gil") == 0) {
            c->lock = MW_LOCK_GIL;
        } else if (strcmp(value, "free") == 0) {
            c->lock = MW_LOCK_FREE;
        } else {
            return "must be gil or free";
        }
    } else if (strcmp(name, "gc") == 0) {
        if (strcmp(value, "stw") == 0) {
            c->gc = MW_GC_STW;
        } else if (strcmp(value, "paused") == 0) {
            c->gc = MW_GC_PAUSED;
        } else if (strcmp(value, "off") == 0) {
            c->gc = MW_GC_OFF;
        } else {
            return "must be stw, paused or off";
        }
    } else if (strcmp(name, "gc-threshold") == 0) {
        int a, b, d;
        char extra;
        if (sscanf(value, "%d,%d,%d%c", &a, &b, &d, &extra) != 3 || a < 0 || b < 0 || d < 0) {
            return "must be A,B,C (non-negative integers)";
        }
        c->threshold[0] = a;
        c->threshold[1] = b;
        c->threshold[2] = d;
    } else if (strcmp(name, "maxmemory") == 0) {
        if (!parse_bytes(value, &v)) {
            return "must be a size in bytes (units k kb m mb g gb)";
        }
        c->maxmemory = v;
    } else if (strcmp(name, "maxclients") == 0) {
        if (!parse_int(value, 1, 1000000, &v)) {
            return "must be 1..1000000";
        }
        c->maxclients = v;
    } else if (strcmp(name, "requirepass") == 0) {
        if (strlen(value) >= sizeof c->requirepass) {
            return "too long";
        }
        strcpy(c->requirepass, value);
    } else if (strcmp(name, "client-query-buffer-limit") == 0) {
        if (!parse_bytes(value, &v) || v < 1024 * 1024) {
            return "must be a size of at least 1mb";
        }
        c->querybuf_max = v;
    } else if (strcmp(name, "proto-max-bulk-len") == 0) {
        if (!parse_bytes(value, &v) || v < 1024 || v > UINT32_MAX) {
            return "must be a size from 1kb to 4gb";
        }
        c->bulk_max = v;
    } else if (strcmp(name, "client-output-buffer-limit") == 0) {
        const char *why = srv_obuf_limits_set(value, strlen(value));
        if (why != NULL) {
            return why;
        }
    } else if (strcmp(name, "maxmemory-policy") == 0) {
        const char *why = srv_evict_policy_set(value, strlen(value));
        if (why != NULL) {
            return why;
        }
    } else if (strcmp(name, "notify-keyspace-events") == 0) {
        const char *why = srv_notify_set(value, strlen(value));
        if (why != NULL) {
            return why;
        }
    } else if (strcmp(name, "config") == 0) {
        if (depth > 4) {
            return "configuration files nested too deeply";
        }
        if (!load_config(value, depth + 1)) {
            return "cannot be read (see above)";
        }
    } else {
        return "is not a known setting";
    }
    return NULL;
}

static bool load_config(const char *path, int depth)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "mwrt-server: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    char line[1024];
    int lineno = 0;
    bool ok = true;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) {
            p++;
        }
        size_t n = strlen(p);
        while (n > 0 && isspace((unsigned char)p[n - 1])) {
            p[--n] = '\0';
        }
        if (*p == '\0' || *p == '#') {
            continue;
        }
        char *name = p;
        while (*p != '\0' && !isspace((unsigned char)*p) && *p != '=') {
            p++;
        }
        if (*p != '\0') {
            *p++ = '\0';
        }
        while (isspace((unsigned char)*p) || *p == '=') {
            p++;
        }
        // Allow "value" quoted as in redis.conf.
        size_t vn = strlen(p);
        if (vn >= 2 && (p[0] == '"' || p[0] == '\'') && p[vn - 1] == p[0]) {
            p[vn - 1] = '\0';
            p++;
        }
        const char *why = set_option(name, p, depth);
        if (why != NULL) {
            fprintf(stderr, "mwrt-server: %s:%d: %s %s\n", path, lineno, name, why);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

/* Parse argv; returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
            printf("mwrt-server %s (mwrt %s, libuv %s, RESP2 as Redis %s)\n", SRV_VERSION,
                   mw_version(), uv_version_string(), SRV_REDIS_VERSION);
            return 0;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "mwrt-server: unexpected argument '%s' (try --help)\n", a);
            return 2;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        if (eq != NULL) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) {
                fprintf(stderr, "mwrt-server: --%s needs a value (try --help)\n", name);
                return 2;
            }
            value = argv[++i];
        }
        const char *why = set_option(name, value, 0);
        if (why != NULL) {
            fprintf(stderr, "mwrt-server: --%s %s: %s\n", name, value, why);
            return 2;
        }
    }
    return -1;
}

/* ======================================================================
 * Listening and accepting
 * ====================================================================== */

static int listen_fd = -1;
static uv_poll_t listen_poll;
static uv_signal_t sig_int, sig_term;
static int next_worker;

/* Open, bind and listen; the bound port in *port.  -errno on failure. */
static int open_listener(const char *addr, int port, int *bound)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    int family;
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in6);
    } else {
        return -EINVAL;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 511) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *bound = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void refuse(int fd)
{
    static const char msg[] = "-ERR max number of clients reached\r\n";
    // Best effort, as Redis: the socket is new, so the line fits its buffer.
    ssize_t r = write(fd, msg, sizeof msg - 1);
    (void)r;
    close(fd);
}

static uv_timer_t accept_pause;

static void on_listen_readable(uv_poll_t *h, int status, int events);

static void on_accept_resume(uv_timer_t *t)
{
    if (atomic_load(&srv.stopping)) {
        return;
    }
    int r = uv_poll_start(&listen_poll, UV_READABLE, on_listen_readable);
    if (r != 0) {
        srv_log("listening socket: %s", uv_strerror(r));
    }
}

static void on_listen_readable(uv_poll_t *h, int status, int events)
{
    if (status < 0) {
        srv_log("listening socket: %s", uv_strerror(status));
        return;
    }
    for (int k = 0; k < 256; k++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE) {
                // Out of descriptors: the pending connection would keep the
                // socket readable and this callback spinning, so stop
                // watching it for a while.
                srv_log_limited("accept: %s; pausing accepts for 100 ms", strerror(errno));
                if (uv_poll_stop(h) == 0 && uv_timer_start(&accept_pause, on_accept_resume, 100, 0) != 0) {
                    uv_poll_start(h, UV_READABLE, on_listen_readable);
                }
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                srv_log_limited("accept: %s", strerror(errno));
            }
            return;
        }
        atomic_fetch_add(&srv.total_connections, 1);
        if (atomic_load(&srv.clients) >= atomic_load(&srv.maxclients)) {
            atomic_fetch_add(&srv.rejected_connections, 1);
            srv_log_limited("refused a client: max number of clients reached (%lld)",
                            atomic_load(&srv.maxclients));
            refuse(fd);
            continue;
        }
        atomic_fetch_add(&srv.clients, 1);
        srv_worker_give_fd(&srv.workers[next_worker], fd);
        next_worker = (next_worker + 1) % srv.nworkers;
    }
}

static void on_closed(uv_handle_t *h)
{
    if (h == (uv_handle_t *)&listen_poll && listen_fd >= 0) {
        close(listen_fd);
        listen_fd = -1;
    }
}

static void on_signal(uv_signal_t *h, int signum)
{
    if (atomic_load(&srv.stopping)) {
        return;
    }
    srv_log("received %s, stopping: no new clients, finishing replies in flight",
            signum == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&srv.stopping, true);
    int r = uv_poll_stop(&listen_poll);
    if (r != 0) {
        srv_log("listening socket: %s", uv_strerror(r));
    }
    uv_close((uv_handle_t *)&listen_poll, on_closed);
    uv_close((uv_handle_t *)&sig_int, on_closed);
    uv_close((uv_handle_t *)&sig_term, on_closed);
    uv_close((uv_handle_t *)&accept_pause, on_closed);
    for (int i = 0; i < srv.nworkers; i++) {
        srv_worker_stop(&srv.workers[i]);
    }
}

/* ======================================================================
 * main
 * ====================================================================== */

static void defaults(void)
{
    srv_config *c = &srv.cfg;
    c->port = 6380;
    strcpy(c->bind, "127.0.0.1");
    // Half the cores: the other half is left to the kernel's network work
    // and to clients on the same machine (docs/server.md, "Defaults and
    // why", has the measurement).
    long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
    c->workers = n < 1 ? 1 : n > 256 ? 256 : (int)n;
    c->sharded = true;
    c->lock = MW_LOCK_GIL;
    c->gc = MW_GC_STW;
    c->threshold[0] = 700;
    c->threshold[1] = 10;
    c->threshold[2] = 10;
    c->maxmemory = 0;
    c->maxclients = 10000;
    c->querybuf_max = 1024LL * 1024 * 1024;
    c->bulk_max = SRV_RESP_BULK_MAX;
    c->mbulk_max = SRV_RESP_MBULK_MAX;
}

/* Raise the open-file limit so that maxclients clients fit, as Redis does;
 * log when the hard limit is lower. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        srv_log("getrlimit: %s", strerror(errno));
        return;
    }
    rlim_t want = (rlim_t)srv.cfg.maxclients + 64;
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
                (unsigned long long)(rl.rlim_cur > 64 ? rl.rlim_cur - 64 : 0), srv.cfg.maxclients);
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
            srv_ks_cur = &srv.shards[i];  // sharded: emptied by their owners already
            srv_ks_flush();
        }
        srv_ks_cur = NULL;
        intptr_t n = mw_gc_collect(-1);
        if (n < 0) {
            mw_err_clear();
        }
        mw_thread_detach();
    }
    r = mw_runtime_free(srv.rt);
    if (r != 0) {
        srv_log("mw_runtime_free: %s", mw_strerror(r));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    defaults();
    int st = parse_args(argc, argv);
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
    atomic_store(&srv.maxmemory, srv.cfg.maxmemory);
    atomic_store(&srv.maxclients, srv.cfg.maxclients);
    atomic_store(&srv.has_pass, srv.cfg.requirepass[0] != '\0');
    atomic_store(&srv.next_client_id, 1);
    pthread_mutex_init(&srv.ks_lock, NULL);
    pthread_mutex_init(&srv.pass_lock, NULL);
    if (getrandom(srv.hash_seed, sizeof srv.hash_seed, 0) != sizeof srv.hash_seed) {
        srv.hash_seed[0] = (uint64_t)srv.start_ms * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
        srv.hash_seed[1] = uv_hrtime();
    }
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    srv_commands_init();

    int port = 0;
    listen_fd = open_listener(srv.cfg.bind, srv.cfg.port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "mwrt-server: cannot listen on %s:%d: %s\n", srv.cfg.bind, srv.cfg.port,
                listen_fd == -EINVAL ? "not an IP address" : strerror(-listen_fd));
        return 1;
    }
    srv.cfg.port = port;

    mw_config rc;
    mw_config_default(&rc);
    rc.lock = srv.cfg.lock;
    rc.gc_policy = srv.cfg.gc;
    memcpy(rc.threshold, srv.cfg.threshold, sizeof rc.threshold);
    srv.rt = mw_runtime_new(&rc);
    if (srv.rt == NULL) {
        fprintf(stderr, "mwrt-server: cannot create the runtime: %s\n", mw_err_message());
        close(listen_fd);
        return 1;
    }

    srv.nworkers = srv.cfg.workers;
    srv.workers = aligned_alloc(64, sizeof(srv_worker) * (size_t)srv.nworkers);
    if (srv.workers == NULL) {
        fprintf(stderr, "mwrt-server: out of memory\n");
        close(listen_fd);
        mw_runtime_free(srv.rt);
        return 1;
    }
    memset(srv.workers, 0, sizeof(srv_worker) * (size_t)srv.nworkers);
    srv.nshards = srv.cfg.sharded ? srv.nworkers : 1;
    srv.shards = aligned_alloc(64, sizeof(srv_keyspace) * (size_t)srv.nshards);
    if (srv.shards == NULL) {
        fprintf(stderr, "mwrt-server: out of memory\n");
        close(listen_fd);
        free(srv.workers);
        mw_runtime_free(srv.rt);
        return 1;
    }
    memset(srv.shards, 0, sizeof(srv_keyspace) * (size_t)srv.nshards);
    srv_shards_init();
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
    uv_loop_t loop;
    int r = err == 0 ? uv_loop_init(&loop) : err;
    if (r == 0) {
        r = uv_timer_init(&loop, &accept_pause);
    }
    if (r == 0) {
        r = uv_poll_init(&loop, &listen_poll, listen_fd);
    }
    if (r == 0) {
        r = uv_poll_start(&listen_poll, UV_READABLE, on_listen_readable);
    }
    if (r == 0) {
        r = uv_signal_init(&loop, &sig_int);
        if (r == 0) {
            r = uv_signal_init(&loop, &sig_term);
        }
        if (r == 0) {
            r = uv_signal_start(&sig_int, on_signal, SIGINT);
        }
        if (r == 0) {
            r = uv_signal_start(&sig_term, on_signal, SIGTERM);
        }
    }
    if (r != 0) {
        fprintf(stderr, "mwrt-server: cannot start: %s\n",
                r == MW_ENOMEM || r == MW_EBUSY || r == MW_EINVAL ? mw_strerror(r) : uv_strerror(r));
        stop_workers(nstarted);
        close(listen_fd);
        shutdown_runtime();
        return 1;
    }
    srv_log("mwrt-server %s starting: %d workers, keyspace %s, lock %s, gc %s, thresholds %d,%d,%d, "
            "maxclients %lld, maxmemory %lld%s", SRV_VERSION, srv.nworkers,
            srv.cfg.sharded ? "sharded" : "shared",
            srv.cfg.lock == MW_LOCK_GIL ? "gil" : "free", gc_name(srv.cfg.gc),
            srv.cfg.threshold[0], srv.cfg.threshold[1], srv.cfg.threshold[2],
            srv.cfg.maxclients, srv.cfg.maxmemory,
            srv.cfg.requirepass[0] ? ", password required" : "");
    fprintf(stderr, "mwrt-server: ready on %s:%d\n", srv.cfg.bind, srv.cfg.port);
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
