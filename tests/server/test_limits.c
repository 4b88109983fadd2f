/*
 * test_limits.c - the server's safety settings: --requirepass (every command
 * but AUTH, HELLO and QUIT refused until the connection authenticates),
 * --maxclients (the connection past the limit gets an error and is closed)
 * and --maxmemory (writes refused with -OOM, reads and deletions still
 * served, writes accepted again once memory is freed).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define NOAUTH "-NOAUTH Authentication required.\r\n"
#define WRONGPASS "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
#define OOM "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

START_TEST(auth)
{
    // Without a password, AUTH is an error.
    START();
    th_conn *c = CONNECT();
    EXPECT(c,
           "-ERR AUTH <password> called without any password configured for the default "
           "user. Are you sure your configuration is correct?\r\n",
           "AUTH", "x");
    EXPECT(c, "+PONG\r\n", "PING");
    th_close(c);
    STOP();

    START_WITH("--requirepass", "s3cret");
    c = CONNECT();
    EXPECT(c, NOAUTH, "PING");
    EXPECT(c, NOAUTH, "GET", "k");
    EXPECT(c, NOAUTH, "SET", "k", "v");
    EXPECT(c, NOAUTH, "FLUSHALL");
    // An unknown command is reported as unknown, authenticated or not.
    EXPECT(c, "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: \r\n",
           "NOSUCHCOMMAND");
    EXPECT(c, "-ERR wrong number of arguments for 'auth' command\r\n", "AUTH");
    EXPECT(c, WRONGPASS, "AUTH", "wrong");
    EXPECT(c, WRONGPASS, "AUTH", "default", "wrong");
    EXPECT(c, WRONGPASS, "HELLO", "2", "AUTH", "default", "wrong");
    EXPECT(c,
           "-NOAUTH HELLO must be called with the client already authenticated, otherwise "
           "the HELLO AUTH <user> <pass> option can be used to authenticate the client and "
           "select the RESP protocol version at the same time\r\n",
           "HELLO", "2");
    EXPECT(c, NOAUTH, "GET", "k");
    EXPECT(c, "+OK\r\n", "QUIT");
    EXPECT_CLOSED(c);
    th_close(c);

    c = CONNECT();
    EXPECT(c, "+OK\r\n", "AUTH", "s3cret");
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    EXPECT(c, "$1\r\nv\r\n", "GET", "k");
    EXPECT(c, WRONGPASS, "AUTH", "wrong");   // a failed AUTH does not log out
    EXPECT(c, "$1\r\nv\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "AUTH", "default", "s3cret");
    // Authentication belongs to the connection.
    th_conn *c2 = CONNECT();
    EXPECT(c2, NOAUTH, "GET", "k");
    EXPECT(c2, "+OK\r\n", "AUTH", "default", "s3cret");
    EXPECT(c2, "$1\r\nv\r\n", "GET", "k");
    th_close(c2);
    th_close(c);

    // HELLO 2 AUTH authenticates and answers HELLO's map as an array.
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "HELLO 2 AUTH default s3cret");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 14);
    freeReplyObject(r);
    r = th_cmd(rc, "GET k");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "v");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(maxclients)
{
    enum { MAX = 5 };
    START_WITH("--maxclients", "5");
    th_conn *c[MAX];
    for (int i = 0; i < MAX; i++) {
        c[i] = CONNECT();
        EXPECT(c[i], "+PONG\r\n", "PING");
    }
    // One too many, whichever worker it lands on: the error, unasked, and
    // the connection closed.
    for (int round = 0; round < 3; round++) {
        th_conn *extra = CONNECT();
        char *d = th_expect_raw(extra, "", 0, "-ERR max number of clients reached\r\n", 36);
        ck_assert_msg(d == NULL, "%s", d);
        EXPECT_CLOSED(extra);
        th_close(extra);
    }
    for (int i = 0; i < MAX; i++) {
        EXPECT(c[i], "+PONG\r\n", "PING");
    }
    EXPECT(c[0], "*2\r\n$10\r\nmaxclients\r\n$1\r\n5\r\n", "CONFIG", "GET", "maxclients");
    // A slot freed is a slot to take again (the server sees the close
    // asynchronously: try, bounded).
    th_close(c[MAX - 1]);
    bool in = false;
    for (int tries = 0; tries < 200 && !in; tries++) {
        th_conn *n = CONNECT();
        th_send_cmd(n, 1, (const char *const[]){"PING"}, NULL);
        size_t len;
        char *r = th_read_reply(n, &len);
        in = r != NULL && strcmp(r, "+PONG\r\n") == 0;
        if (in) {
            c[MAX - 1] = n;
        } else {
            th_close(n);
            th_sleep_ms(10);
        }
        free(r);
    }
    ck_assert_msg(in, "no connection accepted after one of %d closed", MAX);
    for (int i = 0; i < MAX; i++) {
        EXPECT(c[i], "+PONG\r\n", "PING");
        th_close(c[i]);
    }
    STOP();
}
END_TEST

START_TEST(maxmemory)
{
    enum { VALUE = 64 * 1024, MAX_WRITES = 2000 };   // at most 125 MiB
    START_WITH("--maxmemory", "33554432");            // 32 MiB
    redisContext *rc = RCONNECT();
    char *v = malloc(VALUE);
    ck_assert_ptr_nonnull(v);
    memset(v, 'm', VALUE);
    int ok = 0;
    redisReply *r = NULL;
    for (int i = 0; i < MAX_WRITES; i++) {
        r = th_cmd(rc, "SET mem:%d %b", i, v, (size_t)VALUE);
        if (r->type == REDIS_REPLY_ERROR) {
            break;
        }
        ok++;
        freeReplyObject(r);
        r = NULL;
    }
    ck_assert_msg(r != NULL, "%d writes of 64 KiB and no OOM under maxmemory 32 MiB", ok);
    ck_assert_str_eq(r->str, "OOM command not allowed when used memory > 'maxmemory'.");
    freeReplyObject(r);
    ck_assert_msg(ok > 0, "the very first write was refused");
    redisFree(rc);
    free(v);

    th_conn *c = CONNECT();
    // Near the limit a small write may still fit; far above it (the data
    // is 32 MiB, the limit now 1 MiB) every kind of write is refused...
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxmemory", "1048576");
    EXPECT(c, OOM, "SET", "x", "1");
    EXPECT(c, OOM, "RPUSH", "l", "1");
    EXPECT(c, OOM, "HSET", "h", "f", "1");
    EXPECT(c, OOM, "SADD", "s", "1");
    EXPECT(c, OOM, "ZADD", "z", "1", "m");
    EXPECT(c, OOM, "INCR", "n");
    EXPECT(c, OOM, "APPEND", "mem:0", "x");
    // ...reads and deletions are not.
    EXPECT(c, ":65536\r\n", "STRLEN", "mem:0");
    EXPECT(c, "$-1\r\n", "GET", "x");
    EXPECT(c, ":1\r\n", "EXISTS", "mem:1");
    EXPECT(c, ":1\r\n", "DEL", "mem:1");
    EXPECT(c, "+PONG\r\n", "PING");
    // Lifting the limit at run time lets writes through.
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    EXPECT(c, "+OK\r\n", "SET", "x", "1");
    // At 16 MiB, half of what the data holds (the limit it was written up
    // to sits within one deleted value of the figure, so it could not
    // tell), a 1 MiB value does not fit; after FLUSHALL it does.
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxmemory", "16777216");
    v = malloc(1u << 20);
    ck_assert_ptr_nonnull(v);
    memset(v, 'M', 1u << 20);
    const char *argv[] = {"SET", "mib", v};
    size_t lens[] = {3, 3, 1u << 20};
    char *d = th_expect(c, OOM, sizeof OOM - 1, 3, argv, lens);
    ck_assert_msg(d == NULL, "%s", d);
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    bool room = false;
    for (int tries = 0; tries < 200 && !room; tries++) {
        size_t len;
        ck_assert_int_eq(th_send_cmd(c, 3, argv, lens), 0);
        char *rep = th_read_reply(c, &len);
        ck_assert_ptr_nonnull(rep);
        room = strcmp(rep, "+OK\r\n") == 0;
        free(rep);
        if (!room) {
            th_sleep_ms(10);
        }
    }
    free(v);
    if (!room) {
        redisContext *rc2 = RCONNECT();
        redisReply *mem = th_cmd(rc2, "INFO memory");
        const char *u = mem->type == REDIS_REPLY_STRING ? strstr(mem->str, "used_memory:") : NULL;
        ck_abort_msg("a 1 MiB write still refused after FLUSHALL (200 tries, 10 ms apart); "
                     "INFO memory says %.40s", u != NULL ? u : "(no used_memory)");
    }
    EXPECT(c, ":1048576\r\n", "STRLEN", "mib");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_limits(void)
{
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, auth);
    tcase_add_test(tc, maxclients);
    tcase_add_test(tc, maxmemory);
    return tc;
}
