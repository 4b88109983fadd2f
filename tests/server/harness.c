/*
 * harness.c - starting servers and talking raw RESP2 to them, for the
 * server integration suite.
 *
 * Technique.  Each Check test runs in its own forked process and starts its
 * own server: fork + execv of the configured binary with `--port P --bind
 * 127.0.0.1` (redis-server also gets `--save '' --appendonly no`, so that it
 * never writes to disk), stdout and stderr to a log file in $TMPDIR.  The
 * port is one the kernel just handed out for an ephemeral bind (port 0) on
 * 127.0.0.1; between closing the probe socket and the server binding it
 * another process may take it, so a server that exits before it answers is
 * tried again on a new port (twice).  Readiness is the first reply to PING
 * on a fresh connection, whatever it says (-NOAUTH counts), which works the
 * same for mwrt-server and redis-server; the wait is bounded.
 *
 * Nothing outlives the test.  Three layers make sure of it:
 *  - a normal stop (STOP in a test) sends SIGTERM, waits, and requires
 *    exit status 0, so a crash or a sanitizer report fails the test;
 *  - an atexit handler kills (SIGKILL) every server the process started and
 *    has not reaped: a failing ck_assert exits the test process this way;
 *  - the server's child side sets PR_SET_PDEATHSIG(SIGKILL) before exec, and
 *    the test process sets it for itself against the runner, so a test
 *    process killed by Check's timeout or ctest's takes its server along.
 *    (PDEATHSIG follows the forking thread; servers are only ever forked
 *    from a test's main thread.)
 *
 * Reading replies.  th_read_reply returns exactly one reply: th_reply_len
 * frames RESP2 (simple, error, integer, bulk, nested multibulk, nulls) and
 * whatever follows stays buffered.  So a test that compares bytes sees extra
 * or missing bytes as a mismatch in the next comparison instead of a hang.
 * Reads block with a timeout (SO_RCVTIMEO) that only bounds a hung test; no
 * test asserts on how long anything took.
 *
 * RESP3 replies (after HELLO 3) are framed too: the one-line types, the
 * verbatim string like a bulk, and maps (n pairs), sets and pushes.
 *
 * Not handled: RESP3 attributes and streamed aggregates (no server of the
 * suite sends them); servers listening elsewhere than 127.0.0.1.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

th_config th_cfg;
th_server th_srv;

/* ------------------------------------------------------------------ */
/* Servers still to be killed at exit                                  */
/* ------------------------------------------------------------------ */

#define MAX_LIVE 16
static pid_t live[MAX_LIVE];
static char live_log[MAX_LIVE][256];
static bool atexit_done;

/* At exit (a failed test): kill what is left and say where its log is. */
static void kill_live(void)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            fprintf(stderr, "harness: killed server %d; its log is %s\n", (int)live[i],
                    live_log[i]);
            live[i] = 0;
        }
    }
}

static void track(pid_t pid, const char *log)
{
    if (!atexit_done) {
        atexit(kill_live);
        atexit_done = true;
    }
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] == 0) {
            live[i] = pid;
            snprintf(live_log[i], sizeof live_log[i], "%s", log);
            return;
        }
    }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live[i] == pid) {
            live[i] = 0;
        }
    }
}

void th_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* Starting and stopping                                               */
/* ------------------------------------------------------------------ */

/* A port the kernel considers free right now, or -1. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t alen = sizeof a;
    int port = -1;

    if (fd < 0) {
        return -1;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0
        && getsockname(fd, (struct sockaddr *)&a, &alen) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

const char *th_server_log_tail(const th_server *s, size_t max)
{
    static char buf[8192];
    FILE *f;
    long size;
    size_t n;

    if (max >= sizeof buf) {
        max = sizeof buf - 1;
    }
    buf[0] = '\0';
    f = fopen(s->log, "r");
    if (f == NULL) {
        snprintf(buf, sizeof buf, "(no log at %s)", s->log);
        return buf;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)max) {
        fseek(f, size - (long)max, SEEK_SET);
    } else {
        fseek(f, 0, SEEK_SET);
    }
    n = fread(buf, 1, max, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static pid_t spawn(const th_server *s, const char *const extra[], char *err, size_t errlen)
{
    const char *argv[96];
    int n = 0;
    char port[16];
    pid_t parent = getpid();
    pid_t pid;
    int logfd;

    snprintf(port, sizeof port, "%d", s->port);
    argv[n++] = th_cfg.path;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    if (th_cfg.kind == TH_REDIS) {
        argv[n++] = "--save";
        argv[n++] = "";
        argv[n++] = "--appendonly";
        argv[n++] = "no";
        argv[n++] = "--daemonize";
        argv[n++] = "no";
    }
    for (int i = 0; i < th_cfg.nargs && n < 64; i++) {
        argv[n++] = th_cfg.args[i];
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 94; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;

    logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", s->log, strerror(errno));
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(logfd);
        return -1;
    }
    if (pid == 0) {
        // Die with the test process, even if it is SIGKILLed; and if it
        // died already, before prctl took effect, do not run at all.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(127);
        }
        if (dup2(logfd, STDOUT_FILENO) < 0 || dup2(logfd, STDERR_FILENO) < 0) {
            _exit(127);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, STDIN_FILENO);
        }
        execv(th_cfg.path, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", th_cfg.path, strerror(errno));
        _exit(127);
    }
    close(logfd);
    return pid;
}

/* One PING on a fresh connection: 1 answered, 0 not yet. */
static int answers_ping(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct timeval tv = {2, 0};
    char buf[256];
    size_t got = 0;
    int ok = 0;

    if (fd < 0) {
        return 0;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0
        && write(fd, "*1\r\n$4\r\nPING\r\n", 14) == 14) {
        while (got < sizeof buf - 1) {
            ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
            if (r <= 0) {
                break;
            }
            got += (size_t)r;
            if (memchr(buf, '\n', got) != NULL) {
                ok = 1;
                break;
            }
        }
    }
    close(fd);
    return ok;
}

int th_server_start(th_server *s, const char *const extra[], char *err, size_t errlen)
{
    static bool pdeath_set;

    // A test process dies with the runner that forked it, and so (by the
    // server's own PDEATHSIG) does its server.
    if (!pdeath_set) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pdeath_set = true;
    }
    err[0] = '\0';
    for (int attempt = 0; attempt < 3; attempt++) {
        const char *tmp = getenv("TMPDIR");
        double deadline;
        int status;

        memset(s, 0, sizeof *s);
        s->port = free_port();
        if (s->port < 0) {
            snprintf(err, errlen, "no free port: %s", strerror(errno));
            return -1;
        }
        snprintf(s->log, sizeof s->log, "%s/mwrt-srvtest-%d-%d.log",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (int)getpid(), s->port);
        s->pid = spawn(s, extra, err, errlen);
        if (s->pid < 0) {
            return -1;
        }
        track(s->pid, s->log);
        deadline = now_s() + TH_START_WAIT_S;
        for (;;) {
            pid_t w = waitpid(s->pid, &status, WNOHANG);
            if (w == s->pid) {
                untrack(s->pid);
                s->pid = 0;
                snprintf(err, errlen, "%s exited (wait status %d) before answering on "
                         "port %d; log:\n%s", th_cfg.path, status, s->port,
                         th_server_log_tail(s, 2000));
                break;
            }
            if (answers_ping(s->port)) {
                return 0;
            }
            if (now_s() > deadline) {
                snprintf(err, errlen, "%s did not answer PING on port %d within %d s; "
                         "log:\n%s", th_cfg.path, s->port, TH_START_WAIT_S,
                         th_server_log_tail(s, 2000));
                th_server_stop(s, SIGKILL);
                return -1;
            }
            th_sleep_ms(10);
        }
    }
    return -1;
}

bool th_server_alive(th_server *s)
{
    int status;

    if (s->pid <= 0) {
        return false;
    }
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        untrack(s->pid);
        s->pid = -s->pid;   // reaped
        s->status = status;
        return false;
    }
    return true;
}

int th_server_stop(th_server *s, int sig)
{
    int status = -1;
    double deadline = now_s() + TH_STOP_WAIT_S;

    if (s->pid <= 0) {
        return -1;
    }
    kill(s->pid, sig);
    for (;;) {
        pid_t w = waitpid(s->pid, &status, WNOHANG);
        if (w == s->pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (now_s() > deadline) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }
        th_sleep_ms(5);
    }
    untrack(s->pid);
    s->pid = 0;
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        unlink(s->log);
    }
    return status;
}

const char *th_describe_status(int status)
{
    static char buf[128];

    if (status == -1) {
        snprintf(buf, sizeof buf, "not running");
    } else if (WIFEXITED(status)) {
        snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        snprintf(buf, sizeof buf, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    } else {
        snprintf(buf, sizeof buf, "wait status %d", status);
    }
    return buf;
}

void th_start_or_fail(const char *const extra[])
{
    char err[4096];

    if (th_server_start(&th_srv, extra, err, sizeof err) != 0) {
        ck_abort_msg("cannot start the server: %s", err);
    }
}

long th_raise_nofile(long n)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -1;
    }
    if (rl.rlim_cur < (rlim_t)n) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)n ? rl.rlim_max : (rlim_t)n;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            return -1;
        }
    }
    return (long)rl.rlim_cur;
}

/* ------------------------------------------------------------------ */
/* Raw connections                                                     */
/* ------------------------------------------------------------------ */

th_conn *th_connect(const th_server *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct timeval tv = {TH_IO_WAIT_S, 0};
    int one = 1;
    th_conn *c;

    if (fd < 0) {
        return NULL;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)s->port);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0
        || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0
        || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0
        || setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    return c;
}

th_conn *th_connect_or_fail(const char *file, int line)
{
    th_conn *c = th_connect(&th_srv);

    if (c == NULL) {
        int e = errno;
        if (!th_server_alive(&th_srv)) {
            ck_abort_msg("%s:%d: cannot connect: the server died (%s); log:\n%s", file, line,
                         th_describe_status(th_srv.status), th_server_log_tail(&th_srv, 3000));
        }
        ck_abort_msg("%s:%d: cannot connect to port %d: %s", file, line, th_srv.port,
                     strerror(e));
    }
    return c;
}

void th_close(th_conn *c)
{
    if (c == NULL) {
        return;
    }
    close(c->fd);
    free(c->buf);
    free(c);
}

int th_send(th_conn *c, const void *p, size_t n)
{
    const char *b = p;

    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Append to a growing buffer; false when out of memory. */
static bool buf_add(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = *cap ? *cap : 256;
        while (ncap < *len + n + 1) {
            ncap *= 2;
        }
        char *nb = realloc(*buf, ncap);
        if (nb == NULL) {
            return false;
        }
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return true;
}

int th_send_cmd(th_conn *c, int argc, const char *const argv[], const size_t *lens)
{
    char *req = NULL;
    size_t len = 0, cap = 0;
    char head[48];
    int rc = -1;

    int hn = snprintf(head, sizeof head, "*%d\r\n", argc);
    if (!buf_add(&req, &len, &cap, head, (size_t)hn)) {
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        size_t n = lens != NULL ? lens[i] : strlen(argv[i]);
        hn = snprintf(head, sizeof head, "$%zu\r\n", n);
        if (!buf_add(&req, &len, &cap, head, (size_t)hn)
            || !buf_add(&req, &len, &cap, argv[i], n)
            || !buf_add(&req, &len, &cap, "\r\n", 2)) {
            goto out;
        }
    }
    rc = th_send(c, req, len);
out:
    free(req);
    return rc;
}

/* The end of the line starting at p (the index after "\r\n"), or 0 if the
 * line is incomplete. */
static size_t line_end(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\r' && p[i + 1] == '\n') {
            return i + 2;
        }
    }
    return 0;
}

/* The integer of a "$N" or "*N" line; false if it is not one. */
static bool line_int(const char *p, size_t end, long *out)
{
    char tmp[32];
    char *e;
    size_t n = end - 3;   // without the type byte and "\r\n"

    if (n == 0 || n >= sizeof tmp) {
        return false;
    }
    memcpy(tmp, p + 1, n);
    tmp[n] = '\0';
    errno = 0;
    *out = strtol(tmp, &e, 10);
    return errno == 0 && *e == '\0';
}

long th_reply_len(const char *p, size_t n)
{
    size_t end;
    long v;

    if (n == 0) {
        return 0;
    }
    end = line_end(p, n);
    if (end == 0) {
        return 0;
    }
    switch (p[0]) {
    case '+':
    case '-':
    case ':':
    case '_':   // RESP3 one-line types: null, double, boolean, big number
    case ',':
    case '#':
    case '(':
        return (long)end;
    case '=':   // RESP3 verbatim and blob error: framed like a bulk
    case '!':
    case '$':
        if (!line_int(p, end, &v) || v < -1) {
            return -1;
        }
        if (v == -1) {
            return (long)end;
        }
        if (n < end + (size_t)v + 2) {
            return 0;
        }
        if (p[end + v] != '\r' || p[end + v + 1] != '\n') {
            return -1;
        }
        return (long)(end + (size_t)v + 2);
    case '*':
    case '~':   // RESP3 set and push: n elements; map: n pairs
    case '>':
    case '%': {
        size_t at = end;
        if (!line_int(p, end, &v) || v < -1) {
            return -1;
        }
        long elems = p[0] == '%' ? v * 2 : v;
        for (long i = 0; i < elems; i++) {
            long sub = th_reply_len(p + at, n - at);
            if (sub <= 0) {
                return sub;
            }
            at += (size_t)sub;
        }
        return (long)at;
    }
    default:
        return -1;
    }
}

char *th_read_reply(th_conn *c, size_t *len)
{
    for (;;) {
        long rl = th_reply_len(c->buf, c->len);
        char chunk[65536];
        ssize_t r;

        if (rl < 0) {
            *len = c->len;
            return NULL;
        }
        if (rl > 0) {
            char *out = malloc((size_t)rl + 1);
            if (out == NULL) {
                *len = c->len;
                return NULL;
            }
            memcpy(out, c->buf, (size_t)rl);
            out[rl] = '\0';
            memmove(c->buf, c->buf + rl, c->len - (size_t)rl);
            c->len -= (size_t)rl;
            *len = (size_t)rl;
            return out;
        }
        r = recv(c->fd, chunk, sizeof chunk, 0);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || !buf_add(&c->buf, &c->len, &c->cap, chunk, (size_t)r)) {
            *len = c->len;
            return NULL;
        }
    }
}

int th_read_eof(th_conn *c)
{
    char b;
    ssize_t r;

    if (c->len > 0) {
        return 0;
    }
    do {
        r = recv(c->fd, &b, 1, 0);
    } while (r < 0 && errno == EINTR);
    // A reset (ECONNRESET) is a close too: the server may close with
    // unread request bytes still in its socket.
    return r == 0 || (r < 0 && errno == ECONNRESET);
}

char *th_escape(const char *p, size_t n, size_t max)
{
    size_t cap = (n < max ? n : max) * 4 + 32;
    char *out = malloc(cap);
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    out[o++] = '"';
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\r') {
            o += (size_t)sprintf(out + o, "\\r");
        } else if (ch == '\n') {
            o += (size_t)sprintf(out + o, "\\n");
        } else if (ch == '"' || ch == '\\') {
            o += (size_t)sprintf(out + o, "\\%c", ch);
        } else if (ch < 32 || ch > 126) {
            o += (size_t)sprintf(out + o, "\\x%02x", ch);
        } else {
            out[o++] = (char)ch;
        }
    }
    out[o++] = '"';
    if (n > max) {
        o += (size_t)sprintf(out + o, "...(%zu bytes)", n);
    }
    out[o] = '\0';
    return out;
}

/* If the test's server has died (it may take a moment after closing a
 * connection: a sanitizer report, say), how and its log; else "". */
static const char *server_death(void)
{
    static char buf[4096];

    if (th_srv.pid == 0) {
        return "";
    }
    for (int i = 0; i < 100; i++) {
        if (!th_server_alive(&th_srv)) {
            snprintf(buf, sizeof buf, "\nthe server died (%s); log:\n%s",
                     th_describe_status(th_srv.status), th_server_log_tail(&th_srv, 3000));
            return buf;
        }
        th_sleep_ms(10);
    }
    return "";
}

/* Compare the next replies with exp (as many whole replies as it takes to
 * cover explen bytes); NULL or a message naming what. */
static char *compare(th_conn *c, const char *what, const char *exp, size_t explen)
{
    char *got = NULL;
    size_t len = 0;
    bool complete = true;
    char *msg = NULL;
    char *e_exp, *e_got;

    while (len < explen || len == 0) {
        size_t n;
        char *r = th_read_reply(c, &n);
        if (r == NULL) {
            complete = false;
            // Show what was buffered of the incomplete reply as well.
            char *nb = realloc(got, len + c->len + 1);
            if (nb != NULL) {
                got = nb;
                memcpy(got + len, c->buf != NULL ? c->buf : "", c->len);
                len += c->len;
                got[len] = '\0';
            }
            break;
        }
        char *nb = realloc(got, len + n + 1);
        if (nb == NULL) {
            free(r);
            complete = false;
            break;
        }
        got = nb;
        memcpy(got + len, r, n);
        len += n;
        got[len] = '\0';
        free(r);
    }
    if (complete && len == explen && memcmp(got, exp, len) == 0) {
        free(got);
        return NULL;
    }
    e_exp = th_escape(exp, explen, 300);
    e_got = th_escape(got != NULL ? got : "", len, 300);
    if (asprintf(&msg, "%s:\n  expected %s\n  got      %s%s%s", what, e_exp, e_got,
                 complete ? "" : " (then the connection closed, timed out or the "
                                 "reply was malformed)",
                 complete ? "" : server_death()) < 0) {
        msg = strdup("reply mismatch");
    }
    free(e_exp);
    free(e_got);
    free(got);
    return msg;
}

char *th_expect(th_conn *c, const char *exp, size_t explen, int argc,
                const char *const argv[], const size_t *lens)
{
    char what[512];
    size_t o = 0;

    for (int i = 0; i < argc && o < sizeof what - 80; i++) {
        size_t n = lens != NULL ? lens[i] : strlen(argv[i]);
        o += (size_t)snprintf(what + o, sizeof what - o, "%s%.*s", i ? " " : "",
                              (int)(n > 60 ? 60 : n), argv[i]);
    }
    if (th_send_cmd(c, argc, argv, lens) != 0) {
        char *msg = NULL;
        if (asprintf(&msg, "%s: send failed: %s", what, strerror(errno)) < 0) {
            msg = strdup("send failed");
        }
        return msg;
    }
    return compare(c, what, exp, explen);
}

char *th_expect_raw(th_conn *c, const char *req, size_t reqlen, const char *exp,
                    size_t explen)
{
    char *what = th_escape(req, reqlen, 120);
    char *msg;

    if (th_send(c, req, reqlen) != 0) {
        if (asprintf(&msg, "%s: send failed: %s", what, strerror(errno)) < 0) {
            msg = strdup("send failed");
        }
        free(what);
        return msg;
    }
    msg = compare(c, what, exp, explen);
    free(what);
    return msg;
}

/* ------------------------------------------------------------------ */
/* hiredis                                                             */
/* ------------------------------------------------------------------ */

redisContext *th_redis(const th_server *s)
{
    struct timeval tv = {TH_IO_WAIT_S, 0};
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", s->port, tv);

    if (rc == NULL) {
        return NULL;
    }
    if (rc->err != 0 || redisSetTimeout(rc, tv) != REDIS_OK) {
        redisFree(rc);
        return NULL;
    }
    return rc;
}

redisContext *th_redis_or_fail(const char *file, int line)
{
    redisContext *rc = th_redis(&th_srv);

    if (rc == NULL) {
        if (!th_server_alive(&th_srv)) {
            ck_abort_msg("%s:%d: cannot connect: the server died (%s); log:\n%s", file, line,
                         th_describe_status(th_srv.status), th_server_log_tail(&th_srv, 3000));
        }
        ck_abort_msg("%s:%d: hiredis cannot connect to port %d", file, line, th_srv.port);
    }
    return rc;
}

redisReply *th_cmd(redisContext *rc, const char *fmt, ...)
{
    va_list ap;
    redisReply *r;

    va_start(ap, fmt);
    r = redisvCommand(rc, fmt, ap);
    va_end(ap);
    if (r == NULL) {
        ck_abort_msg("'%s': no reply (%s)", fmt, rc->errstr);
    }
    return r;
}

long th_blocked_clients(th_conn *c)
{
    const char *const argv[] = {"INFO", "clients"};
    ck_assert_int_eq(th_send_cmd(c, 2, argv, NULL), 0);
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_ptr_nonnull(r);
    const char *p = strstr(r, "blocked_clients:");
    ck_assert_ptr_nonnull(p);
    long v = strtol(p + strlen("blocked_clients:"), NULL, 10);
    free(r);
    return v;
}

void th_wait_blocked(th_conn *c, long n, int line)
{
    long v = -1;
    for (int i = 0; i < 3000; i++) {
        v = th_blocked_clients(c);
        if (v == n) {
            return;
        }
        th_sleep_ms(10);
    }
    ck_abort_msg("line %d: blocked_clients never became %ld (it is %ld)", line, n, v);
}

void th_reads_or_fail(th_conn *c, const char *exp, size_t n, int line)
{
    size_t len = 0;
    char *r = th_read_reply(c, &len);
    if (r == NULL) {
        ck_abort_msg("line %d: no reply (expected %s)", line, th_escape(exp, n, 200));
    }
    if (len != n || memcmp(r, exp, n) != 0) {
        ck_abort_msg("line %d: got %s, expected %s", line, th_escape(r, len, 300),
                     th_escape(exp, n, 300));
    }
    free(r);
}
