/*
 * server/listen.c - the main thread's loop: the listening socket, accepts,
 * and SIGINT/SIGTERM.
 *
 * An accepted socket goes to the next worker round-robin
 * (srv_worker_give_fd).  The maxclients check is made here, so a refused
 * client gets Redis's error line and is closed before any worker sees it.
 * Out of descriptors (EMFILE), accepting pauses for 100 ms instead of
 * spinning on a socket that stays readable.  A signal (or SHUTDOWN, which
 * raises SIGTERM) closes the listening socket and wakes every worker to
 * stop; the loop then ends once its handles are closed.
 */
#define _GNU_SOURCE 1 /* accept4 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int srv_listen_open(void)
{
    int port = 0;
    listen_fd = open_listener(srv.cfg.bind, (int)srv.cfg.port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "mwrt-server: cannot listen on %s:%lld: %s\n", srv.cfg.bind, srv.cfg.port,
                listen_fd == -EINVAL ? "not an IP address" : strerror(-listen_fd));
        return -1;
    }
    srv.cfg.port = port;
    return 0;
}

int srv_listen_start(uv_loop_t *loop)
{
    int r = uv_timer_init(loop, &accept_pause);
    if (r == 0) {
        r = uv_poll_init(loop, &listen_poll, listen_fd);
    }
    if (r == 0) {
        r = uv_poll_start(&listen_poll, UV_READABLE, on_listen_readable);
    }
    if (r == 0) {
        r = uv_signal_init(loop, &sig_int);
    }
    if (r == 0) {
        r = uv_signal_init(loop, &sig_term);
    }
    if (r == 0) {
        r = uv_signal_start(&sig_int, on_signal, SIGINT);
    }
    if (r == 0) {
        r = uv_signal_start(&sig_term, on_signal, SIGTERM);
    }
    return r;
}

void srv_listen_close(void)
{
    if (listen_fd >= 0) {
        close(listen_fd);
        listen_fd = -1;
    }
}
