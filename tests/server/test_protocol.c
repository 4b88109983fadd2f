/*
 * test_protocol.c - RESP2 framing: inline commands, requests split at every
 * byte, 10,000 pipelined commands, values of 1 and 4 MiB, malformed and
 * truncated requests (`-ERR Protocol error: ...` and the connection closed,
 * every other connection unaffected) and clients that go away in the middle
 * of a command or with replies still unread.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Send a string literal, without its NUL. */
#define SEND_LIT(c, lit) th_send((c), (lit), sizeof(lit) - 1)

/* Send req while reading replies, until n replies arrived; returns their
 * bytes concatenated (malloc'd) in *out.  Non-blocking, so that neither
 * side's socket buffer can stall the other.  0 or -1. */
static int pipeline(th_conn *c, const char *req, size_t reqlen, size_t n, char **out,
                    size_t *outlen)
{
    size_t sent = 0, got = 0, len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    size_t parsed = 0;
    int fl = fcntl(c->fd, F_GETFL);

    if (buf == NULL || fl < 0 || fcntl(c->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        free(buf);
        return -1;
    }
    while (got < n) {
        struct pollfd p = {c->fd, POLLIN | (sent < reqlen ? POLLOUT : 0), 0};
        int pr = poll(&p, 1, TH_IO_WAIT_S * 1000);
        if (pr <= 0) {
            break;   // timed out: the caller reports how many replies came
        }
        if ((p.revents & POLLOUT) && sent < reqlen) {
            ssize_t w = send(c->fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                break;
            }
            sent += w > 0 ? (size_t)w : 0;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (cap - len < 65536) {
                char *nb = realloc(buf, cap * 2);
                if (nb == NULL) {
                    break;
                }
                buf = nb;
                cap *= 2;
            }
            ssize_t r = recv(c->fd, buf + len, cap - len, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                break;
            }
            len += r > 0 ? (size_t)r : 0;
            for (;;) {
                long rl = th_reply_len(buf + parsed, len - parsed);
                if (rl <= 0) {
                    break;
                }
                parsed += (size_t)rl;
                got++;
            }
        }
    }
    fcntl(c->fd, F_SETFL, fl);
    *out = buf;
    *outlen = len;
    return got == n ? 0 : -1;
}

START_TEST(inline_commands)
{
    START();
    th_conn *c = CONNECT();
    EXPECT_RAW(c, "PING\r\n", "+PONG\r\n");
    EXPECT_RAW(c, "PING\n", "+PONG\r\n");          // a bare LF ends an inline line
    EXPECT_RAW(c, "\r\n\r\nPING\r\n", "+PONG\r\n"); // empty lines are skipped
    EXPECT_RAW(c, "set k v\r\n", "+OK\r\n");
    EXPECT_RAW(c, "GET k\r\n", "$1\r\nv\r\n");
    EXPECT_RAW(c, "SET k \"a b\\r\\n\"\r\n", "+OK\r\n");
    EXPECT_RAW(c, "GET k\r\n", "$5\r\na b\r\n\r\n");
    EXPECT_RAW(c, "SET k 'x y'\r\n", "+OK\r\n");
    EXPECT_RAW(c, "GET k\r\n", "$3\r\nx y\r\n");
    EXPECT_RAW(c, "SET   k2    spaced   \r\n", "+OK\r\n");
    EXPECT_RAW(c, "GET k2\r\n", "$6\r\nspaced\r\n");
    EXPECT_RAW(c, "ECHO \"\\x41\\x42\"\r\n", "$2\r\nAB\r\n");
    EXPECT_RAW(c, "GET\r\n", "-ERR wrong number of arguments for 'get' command\r\n");
    // Inline and multibulk mixed in one packet.
    EXPECT_RAW(c, "PING\r\n*2\r\n$3\r\nGET\r\n$2\r\nk2\r\nPING x\r\n",
               "+PONG\r\n");
    EXPECT_RAW(c, "", "$6\r\nspaced\r\n");
    EXPECT_RAW(c, "", "$1\r\nx\r\n");
    // Multibulk corner cases Redis accepts: a zero or negative count is an
    // empty request and skipped.
    EXPECT_RAW(c, "*0\r\n*-1\r\nPING\r\n", "+PONG\r\n");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(split_at_every_byte)
{
    static const char req[] =
        "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$12\r\nhello\r\nworld\r\n"
        "*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n"
        "INCR n\r\n"
        "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
        "*1\r\n$4\r\nPING\r\n";
    static const char exp[] = "+OK\r\n$12\r\nhello\r\nworld\r\n:1\r\n:2\r\n+PONG\r\n";

    START();
    th_conn *c = CONNECT();
    for (size_t i = 0; i < sizeof req - 1; i++) {
        REQUIREF(th_send(c, req + i, 1) == 0, "byte %zu", i);
        if (i % 8 == 0) {
            th_sleep_ms(1);   // let the server see partial requests
        }
    }
    EXPECT_RAW(c, "", exp);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(pipeline_10k)
{
    enum { N = 10000 };
    START();
    th_conn *c = CONNECT();
    char *req = NULL;
    size_t reqlen = 0;
    FILE *f = open_memstream(&req, &reqlen);
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < N; i++) {
        char key[32], val[32];
        int kl = snprintf(key, sizeof key, "p:%d", i / 2);
        int vl = snprintf(val, sizeof val, "v%d", i / 2);
        if (i % 2 == 0) {
            fprintf(f, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", kl, key, vl, val);
        } else {
            fprintf(f, "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
        }
    }
    fclose(f);
    char *out;
    size_t outlen;
    int rc = pipeline(c, req, reqlen, N, &out, &outlen);
    ck_assert_msg(rc == 0, "not all %d replies came (%zu bytes)", N, outlen);
    // The replies, in order.
    size_t at = 0;
    for (int i = 0; i < N; i++) {
        char exp[32];
        int el = i % 2 == 0 ? snprintf(exp, sizeof exp, "+OK\r\n")
                            : snprintf(exp, sizeof exp, ":%d\r\n", i / 2 + 1);
        REQUIREF(at + (size_t)el <= outlen && memcmp(out + at, exp, (size_t)el) == 0,
                 "reply %d: expected %s got %s", i, th_escape(exp, (size_t)el, 40),
                 th_escape(out + at, outlen - at < 40 ? outlen - at : 40, 40));
        at += (size_t)el;
    }
    ck_assert_uint_eq(at, outlen);
    free(out);
    free(req);
    EXPECT(c, "$4\r\n5000\r\n", "GET", "counter");
    th_close(c);
    STOP();
}
END_TEST

/* A value of n bytes that is not all one byte: every position tells its
 * offset, so a lost or repeated chunk shows. */
static char *pattern(size_t n, unsigned seed)
{
    char *v = malloc(n);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++) {
        v[i] = (char)((i * 131 + seed + (i >> 12)) & 0xff);
    }
    return v;
}

START_TEST(big_values)
{
    const size_t sizes[] = {1u << 20, 4u << 20};
    START();
    redisContext *rc = RCONNECT();
    for (size_t s = 0; s < 2; s++) {
        size_t n = sizes[s];
        char *v = pattern(n, (unsigned)s);
        redisReply *r = th_cmd(rc, "SET big%d %b", (int)s, v, n);
        ck_assert_msg(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0,
                      "SET %zu bytes: %s", n, r->str);
        freeReplyObject(r);
        r = th_cmd(rc, "GET big%d", (int)s);
        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        ck_assert_uint_eq(r->len, n);
        ck_assert_msg(memcmp(r->str, v, n) == 0, "GET of %zu bytes differs", n);
        freeReplyObject(r);
        r = th_cmd(rc, "STRLEN big%d", (int)s);
        ck_assert_int_eq(r->integer, (long long)n);
        freeReplyObject(r);
        // In the other kinds of value, too.
        r = th_cmd(rc, "RPUSH list%d %b small", (int)s, v, n);
        ck_assert_int_eq(r->integer, 2);
        freeReplyObject(r);
        r = th_cmd(rc, "LINDEX list%d 0", (int)s);
        ck_assert_uint_eq(r->len, n);
        ck_assert(memcmp(r->str, v, n) == 0);
        freeReplyObject(r);
        r = th_cmd(rc, "HSET hash%d f %b", (int)s, v, n);
        ck_assert_int_eq(r->integer, 1);
        freeReplyObject(r);
        r = th_cmd(rc, "HGET hash%d f", (int)s);
        ck_assert_uint_eq(r->len, n);
        ck_assert(memcmp(r->str, v, n) == 0);
        freeReplyObject(r);
        free(v);
    }
    // APPEND grows a large value.
    char *v = pattern(1u << 20, 7);
    for (int i = 0; i < 4; i++) {
        redisReply *r = th_cmd(rc, "APPEND grow %b", v, (size_t)1 << 20);
        ck_assert_int_eq(r->integer, (long long)(i + 1) << 20);
        freeReplyObject(r);
    }
    redisReply *r = th_cmd(rc, "GET grow");
    ck_assert_uint_eq(r->len, 4u << 20);
    for (int i = 0; i < 4; i++) {
        ck_assert(memcmp(r->str + ((size_t)i << 20), v, 1u << 20) == 0);
    }
    freeReplyObject(r);
    // Several big values pipelined.
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(redisAppendCommand(rc, "SET pb%d %b", i, v, (size_t)1 << 20),
                         REDIS_OK);
        ck_assert_int_eq(redisAppendCommand(rc, "GET pb%d", i), REDIS_OK);
    }
    for (int i = 0; i < 16; i++) {
        void *p = NULL;
        ck_assert_int_eq(redisGetReply(rc, &p), REDIS_OK);
        r = p;
        if (i % 2 == 0) {
            ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
        } else {
            ck_assert_uint_eq(r->len, 1u << 20);
            ck_assert(memcmp(r->str, v, 1u << 20) == 0);
        }
        freeReplyObject(r);
    }
    free(v);
    redisFree(rc);
    STOP();
}
END_TEST

/* One malformed request on its own connection: the exact error, then the
 * connection closes. */
static void expect_protocol_error(const char *req, size_t reqlen, const char *exp)
{
    th_conn *c = CONNECT();
    char *d = th_expect_raw(c, req, reqlen, exp, strlen(exp));
    ck_assert_msg(d == NULL, "%s", d);
    ck_assert_msg(th_read_eof(c) == 1, "connection not closed after %s",
                  th_escape(req, reqlen, 60));
    th_close(c);
}

START_TEST(malformed)
{
    START();
    // A bystander, connected before and used after every bad client.
    th_conn *other = CONNECT();
    EXPECT(other, "+OK\r\n", "SET", "keep", "me");

    static const char *const cases[][2] = {
        {"*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
        {"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
        {"*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"*1\r\n$600000000\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"},
        {"*2\r\n$3\r\nGET\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
        {"SET k \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
        {"SET k 'x\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
        // Good commands before the bad one are answered first.
        {"PING\r\n*x\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        expect_protocol_error(cases[i][0], strlen(cases[i][0]), cases[i][1]);
        EXPECT(other, "$2\r\nme\r\n", "GET", "keep");
    }
    // An inline line or a multibulk count line of 64 KiB without its end.
    size_t n = 70000;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', n);
    expect_protocol_error(big, n, "-ERR Protocol error: too big inline request\r\n");
    EXPECT(other, "$2\r\nme\r\n", "GET", "keep");
    memset(big, '1', n);
    big[0] = '*';
    expect_protocol_error(big, n, "-ERR Protocol error: too big mbulk count string\r\n");
    free(big);
    EXPECT(other, "$2\r\nme\r\n", "GET", "keep");
    EXPECT(other, ":1\r\n", "DBSIZE");
    th_close(other);
    STOP();
}
END_TEST

START_TEST(truncated)
{
    START();
    th_conn *c = CONNECT();
    th_conn *other = CONNECT();
    // A request cut anywhere waits for its rest; the server answers others
    // meanwhile and the cut request once it is whole.
    ck_assert_int_eq(SEND_LIT(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel"), 0);
    EXPECT(other, "+PONG\r\n", "PING");
    EXPECT(other, "$-1\r\n", "GET", "k");
    EXPECT_RAW(c, "lo\r\n", "+OK\r\n");
    EXPECT(other, "$5\r\nhello\r\n", "GET", "k");
    ck_assert_int_eq(SEND_LIT(c, "*2\r\n$3\r\nGE"), 0);
    EXPECT(other, "+PONG\r\n", "PING");
    EXPECT_RAW(c, "T\r\n$1\r\nk\r\n", "$5\r\nhello\r\n");
    ck_assert_int_eq(SEND_LIT(c, "GET"), 0);   // an inline command, no end yet
    EXPECT(other, "+PONG\r\n", "PING");
    EXPECT_RAW(c, " k\r\n", "$5\r\nhello\r\n");
    // Truncated and then abandoned: shutting down the write side leaves the
    // request incomplete for good; the server gives no reply and closes.
    ck_assert_int_eq(SEND_LIT(c, "*2\r\n$3\r\nGET\r\n$1"), 0);
    ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
    EXPECT_CLOSED(c);
    th_close(c);
    EXPECT(other, "$5\r\nhello\r\n", "GET", "k");
    th_close(other);
    STOP();
}
END_TEST

/* Close c at once with a reset (SO_LINGER 0) rather than a FIN. */
static void reset_close(th_conn *c)
{
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    th_close(c);
}

START_TEST(disconnect_mid_command)
{
    START();
    th_conn *other = CONNECT();
    EXPECT(other, "+OK\r\n", "SET", "keep", "me");
    char *v = pattern(1u << 20, 3);

    for (int round = 0; round < 3; round++) {
        // In the middle of a multibulk header, of an argument, of a 1 MiB
        // argument; closed by FIN and by reset.
        th_conn *c = CONNECT();
        ck_assert_int_eq(SEND_LIT(c, "*3\r\n$3\r\nSE"), 0);
        th_close(c);
        c = CONNECT();
        ck_assert_int_eq(SEND_LIT(c, "*3\r\n$3\r\nSET\r\n$4\r\nkeep\r\n$1048576\r\n"), 0);
        ck_assert_int_eq(th_send(c, v, 300000), 0);
        reset_close(c);
        c = CONNECT();
        ck_assert_int_eq(SEND_LIT(c, "*2\r\n$3\r\nGET\r\n$4\r\nke"), 0);
        reset_close(c);
        EXPECT(other, "$2\r\nme\r\n", "GET", "keep");
    }
    // Replies never read: a 1 MiB value asked for 64 times, then gone.
    const char *argv[] = {"SET", "big", v};
    size_t lens[] = {3, 3, 1u << 20};
    char *d = th_expect(other, "+OK\r\n", 5, 3, argv, lens);
    ck_assert_msg(d == NULL, "%s", d);
    for (int round = 0; round < 2; round++) {
        th_conn *c = CONNECT();
        for (int i = 0; i < 64; i++) {
            ck_assert_int_eq(SEND_LIT(c, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"), 0);
        }
        th_sleep_ms(20);
        if (round == 0) {
            th_close(c);
        } else {
            reset_close(c);
        }
    }
    // A client that sends a request and closes before the reply.
    for (int i = 0; i < 50; i++) {
        th_conn *c = CONNECT();
        ck_assert_int_eq(SEND_LIT(c, "*2\r\n$4\r\nINCR\r\n$5\r\nhits!\r\n"), 0);
        th_close(c);
    }
    free(v);
    EXPECT(other, "$2\r\nme\r\n", "GET", "keep");
    EXPECT(other, "+PONG\r\n", "PING");
    // Every INCR of the departed clients was a whole command: none was lost
    // halfway or run twice (they may still be arriving; wait, bounded).
    int hits = 0;
    for (int tries = 0; tries < 500 && hits != 50; tries++) {
        redisContext *rc = RCONNECT();
        redisReply *r = th_cmd(rc, "GET hits!");
        hits = r->type == REDIS_REPLY_STRING ? atoi(r->str) : 0;
        freeReplyObject(r);
        redisFree(rc);
        if (hits != 50) {
            th_sleep_ms(10);
        }
    }
    ck_assert_int_eq(hits, 50);
    th_close(other);
    STOP();
}
END_TEST

TCase *tcase_protocol(void)
{
    TCase *tc = tcase_create("protocol");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, inline_commands);
    tcase_add_test(tc, split_at_every_byte);
    tcase_add_test(tc, pipeline_10k);
    tcase_add_test(tc, big_values);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, disconnect_mid_command);
    return tc;
}
