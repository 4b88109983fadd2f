/*
 * harness.h - what the server integration suite stands on: starting a real
 * server (mwrt-server or redis-server) on a free loopback port and killing
 * it again, raw RESP2 connections that read one whole reply at a time, and
 * checks that compare reply bytes exactly.
 *
 * Every function here runs in the test's own process (Check forks one per
 * test); a server started by a test is that process's child and dies with
 * it (see harness.c).
 */
#ifndef MWRT_TEST_SERVER_HARNESS_H
#define MWRT_TEST_SERVER_HARNESS_H

#include <hiredis/hiredis.h>

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Which server the suite drives: the command line of test_server says. */
typedef enum th_kind { TH_MWRT, TH_REDIS } th_kind;

typedef struct th_config {
    th_kind kind;
    const char *path;          /* the server binary */
    const char *const *args;   /* extra arguments for every start */
    int nargs;
} th_config;

/* Set once by main before the runner forks; read-only in tests. */
extern th_config th_cfg;

/* A running server: its process, port and log file (stdout + stderr). */
typedef struct th_server {
    pid_t pid;      /* > 0 running; < 0 reaped by th_server_alive */
    int port;
    int status;     /* the wait status once reaped */
    char log[256];
} th_server;

/* The server of the running test, started by START and stopped by STOP. */
extern th_server th_srv;

/*
 * Start the configured server on a free loopback port with the suite's
 * arguments and then `extra` (NULL-terminated, may be NULL), and wait until
 * it answers PING (any reply: with --requirepass it is -NOAUTH).  Returns 0,
 * or -1 with a message in err (including the tail of the server's log).
 * The wait is bounded (TH_START_WAIT_S); a server that exits before it
 * answers is retried on another port twice (the port may have been taken
 * between probing and binding).  Any thread of the test process.
 */
int th_server_start(th_server *s, const char *const extra[], char *err, size_t errlen);

/*
 * Send sig to the server and wait for it to exit (bounded: after
 * TH_STOP_WAIT_S it is killed with SIGKILL).  Returns the wait status, or
 * -1 if the server was not running.  Removes the log if the exit was clean.
 */
int th_server_stop(th_server *s, int sig);

/* Whether the server process is still running; if it has exited, reap it
 * and keep its wait status in s->status. */
bool th_server_alive(th_server *s);

/* Words for a wait status: "exit status 1", "killed by signal 11 (...)". */
const char *th_describe_status(int status);

/* The last `max` bytes of the server's log, for a failure message (static
 * buffer; one caller at a time). */
const char *th_server_log_tail(const th_server *s, size_t max);

/* A raw connection: a socket and the bytes read past the last reply. */
typedef struct th_conn {
    int fd;
    char *buf;
    size_t len, cap;
} th_conn;

/* Connect to the server on 127.0.0.1 (blocking socket, TCP_NODELAY, reads
 * time out after TH_IO_WAIT_S so that a silent server fails the test rather
 * than hanging it).  NULL on failure (errno set). */
th_conn *th_connect(const th_server *s);
/* Close and free (NULL is fine). */
void th_close(th_conn *c);
/* Write all n bytes; 0 or -1 (errno set). */
int th_send(th_conn *c, const void *p, size_t n);
/* Write one multibulk request; lens may be NULL (then strlen). 0 or -1. */
int th_send_cmd(th_conn *c, int argc, const char *const argv[], const size_t *lens);
/*
 * Read exactly one complete RESP2 reply and return its bytes (malloc'd,
 * NUL-terminated, length in *len); bytes after it stay buffered for the
 * next call.  NULL on end of stream, timeout, error or a malformed reply
 * (then *len is the number of bytes that were buffered).
 */
char *th_read_reply(th_conn *c, size_t *len);
/* Whether the peer closes the connection with no further bytes: 1 closed,
 * 0 more bytes came (or the read timed out). */
int th_read_eof(th_conn *c);
/* Length of one complete reply at p: >0 complete, 0 incomplete, -1 bad. */
long th_reply_len(const char *p, size_t n);

/*
 * Send argv (NULL lens = strlen) and compare the reply with the expected
 * bytes.  NULL if equal, else a malloc'd message naming the request and
 * both byte strings, escaped.
 */
char *th_expect(th_conn *c, const char *exp, size_t explen, int argc,
                const char *const argv[], const size_t *lens);
/* The same for a raw request (sent as is). */
char *th_expect_raw(th_conn *c, const char *req, size_t reqlen, const char *exp,
                    size_t explen);
/* A printable, escaped copy of at most max bytes of p (malloc'd). */
char *th_escape(const char *p, size_t n, size_t max);

/* A hiredis connection to the server, with a read timeout; NULL on
 * failure. */
redisContext *th_redis(const th_server *s);
/* redisCommand that fails the test if there is no reply at all (I/O error);
 * the reply may still be an error reply. */
redisReply *th_cmd(redisContext *rc, const char *fmt, ...);

/* Raise RLIMIT_NOFILE's soft limit to at least n (up to the hard limit).
 * Returns the resulting soft limit. */
long th_raise_nofile(long n);

/* blocked_clients of INFO clients, asked on c (fails the test without
 * it); wait_blocked(c, n): poll it (bounded) until it is n. */
long th_blocked_clients(th_conn *c);
#define wait_blocked(c, n) th_wait_blocked((c), (n), __LINE__)
void th_wait_blocked(th_conn *c, long n, int line);

/* Sleep for ms milliseconds. */
void th_sleep_ms(long ms);

/* Bounds: never assertions on speed, only how long to wait before a test
 * gives up on something that should have happened. */
#define TH_START_WAIT_S 30
#define TH_STOP_WAIT_S 30
#define TH_IO_WAIT_S 30

/* ---- macros for tests ---- */

/* Start th_srv with the suite's arguments (START) or more
 * (START_WITH("--requirepass", "pw")); fail the test if it cannot. */
#define START_WITH(...) th_start_or_fail((const char *const[]){__VA_ARGS__, NULL})
#define START() th_start_or_fail(NULL)
void th_start_or_fail(const char *const extra[]);

/* Stop th_srv with SIGTERM and require a clean exit (status 0): a server
 * that crashed during the test, or a sanitizer report, fails it here. */
#define STOP()                                                              \
    do {                                                                    \
        if (!th_server_alive(&th_srv)) {                                    \
            ck_abort_msg("the server died during the test (%s); log:\n%s", \
                         th_describe_status(th_srv.status),                 \
                         th_server_log_tail(&th_srv, 3000));                \
        }                                                                   \
        int st_ = th_server_stop(&th_srv, SIGTERM);                         \
        if (!(WIFEXITED(st_) && WEXITSTATUS(st_) == 0)) {                   \
            ck_abort_msg("the server did not exit cleanly on SIGTERM "      \
                         "(%s); log:\n%s", th_describe_status(st_),         \
                         th_server_log_tail(&th_srv, 3000));                \
        }                                                                   \
    } while (0)

/* A connection to th_srv, or the test fails. */
#define CONNECT() th_connect_or_fail(__FILE__, __LINE__)
th_conn *th_connect_or_fail(const char *file, int line);
#define RCONNECT() th_redis_or_fail(__FILE__, __LINE__)
redisContext *th_redis_or_fail(const char *file, int line);

/* SEND(conn, "CMD", "arg", ...): write one request, read nothing. */
#define SEND(c, ...)                                                        \
    do {                                                                    \
        const char *const argv_[] = {__VA_ARGS__};                          \
        ck_assert_int_eq(th_send_cmd((c), (int)(sizeof argv_ / sizeof argv_[0]), \
                                     argv_, NULL), 0);                      \
    } while (0)

/* READS(conn, "expected reply bytes"): read one reply and compare. */
#define READS(c, exp) th_reads_or_fail((c), (exp), sizeof(exp) - 1, __LINE__)
void th_reads_or_fail(th_conn *c, const char *exp, size_t n, int line);

/* EXPECT(conn, "expected reply bytes", "CMD", "arg", ...) */
#define EXPECT(c, exp, ...)                                                 \
    do {                                                                    \
        const char *const argv_[] = {__VA_ARGS__};                          \
        char *d_ = th_expect((c), (exp), sizeof(exp) - 1,                   \
                             (int)(sizeof argv_ / sizeof argv_[0]), argv_,  \
                             NULL);                                         \
        if (d_ != NULL) {                                                   \
            ck_abort_msg("%s", d_);                                         \
        }                                                                   \
    } while (0)

/* EXPECT_RAW(conn, "raw request", "expected reply bytes") */
#define EXPECT_RAW(c, req, exp)                                             \
    do {                                                                    \
        char *d_ = th_expect_raw((c), (req), sizeof(req) - 1, (exp),        \
                                 sizeof(exp) - 1);                          \
        if (d_ != NULL) {                                                   \
            ck_abort_msg("%s", d_);                                         \
        }                                                                   \
    } while (0)

/* Require that the server closes c now (after whatever was read). */
#define EXPECT_CLOSED(c)                                                    \
    ck_assert_msg(th_read_eof(c) == 1,                                      \
                  "expected the server to close the connection")

/* Assertions for loops: they report only failures (each passing ck_assert
 * under CK_FORK costs a write to the runner). */
#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ck_abort_msg("failed: %s", #cond);                              \
        }                                                                   \
    } while (0)
#define REQUIREF(cond, fmt, ...)                                            \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ck_abort_msg("failed: %s: " fmt, #cond, __VA_ARGS__);           \
        }                                                                   \
    } while (0)

/* Whether the suite runs against mwrt-server (mwrt-only commands). */
#define IS_MWRT() (th_cfg.kind == TH_MWRT)

/* The test cases, one function per file. */
TCase *tcase_generic(void);
TCase *tcase_notify(void);
TCase *tcase_strings(void);
TCase *tcase_collections(void);
TCase *tcase_protocol(void);
TCase *tcase_limits(void);
TCase *tcase_resp3(void);
TCase *tcase_script(void);
TCase *tcase_expiry(void);
TCase *tcase_concurrency(void);
TCase *tcase_lifecycle(void);
TCase *tcase_mwrt(void);
TCase *tcase_shards(void);
TCase *tcase_pubsub(void);
TCase *tcase_multi(void);
TCase *tcase_multi_sharded(void);
TCase *tcase_sort(void);
TCase *tcase_geo(void);
TCase *tcase_introspect(void);
TCase *tcase_persist(void);
TCase *tcase_blocking(void);
TCase *tcase_stream(void);

#endif
