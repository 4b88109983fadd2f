/*
 * test_expiry.c - EXPIRE PEXPIRE TTL PTTL PERSIST and SET EX/PX/KEEPTTL:
 * the replies, which commands keep or clear a time to live, and that keys
 * expire both lazily (a command touching an expired key finds nothing) and
 * actively (keys nobody touches leave the keyspace by themselves).  Waits
 * for expiry are bounded; no test asserts on how fast anything is.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

/* The integer reply of a command, or fail. */
static long long int_of(redisContext *rc, const char *cmd)
{
    redisReply *r = th_cmd(rc, cmd);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "%s: not an integer reply (%s)", cmd,
                  r->type == REDIS_REPLY_ERROR ? r->str : "?");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

START_TEST(ttl_replies)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":-2\r\n", "TTL", "k");
    EXPECT(c, ":-2\r\n", "PTTL", "k");
    EXPECT(c, ":0\r\n", "EXPIRE", "k", "100");
    EXPECT(c, ":0\r\n", "PEXPIRE", "k", "100");
    EXPECT(c, ":0\r\n", "PERSIST", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    EXPECT(c, ":-1\r\n", "TTL", "k");
    EXPECT(c, ":-1\r\n", "PTTL", "k");
    EXPECT(c, ":0\r\n", "PERSIST", "k");
    EXPECT(c, ":1\r\n", "EXPIRE", "k", "100");
    EXPECT(c, ":1\r\n", "PERSIST", "k");
    EXPECT(c, ":-1\r\n", "TTL", "k");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "EXPIRE", "k", "soon");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "PEXPIRE", "k", "1.5");
    EXPECT(c, "-ERR invalid expire time in 'expire' command\r\n", "EXPIRE", "k",
           "9223372036854775807");
    EXPECT(c, "-ERR wrong number of arguments for 'ttl' command\r\n", "TTL");
    EXPECT(c, "-ERR wrong number of arguments for 'persist' command\r\n", "PERSIST");
    // A time in the past deletes the key at once.
    EXPECT(c, ":1\r\n", "EXPIRE", "k", "-1");
    EXPECT(c, ":0\r\n", "EXISTS", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    EXPECT(c, ":1\r\n", "PEXPIRE", "k", "0");
    EXPECT(c, "$-1\r\n", "GET", "k");
    // Any kind of value can expire.
    EXPECT(c, ":1\r\n", "RPUSH", "l", "a");
    EXPECT(c, ":1\r\n", "EXPIRE", "l", "100");
    EXPECT(c, ":1\r\n", "HSET", "h", "f", "v");
    EXPECT(c, ":1\r\n", "PEXPIRE", "h", "100000");
    EXPECT(c, "*1\r\n$1\r\na\r\n", "LRANGE", "l", "0", "-1");
    th_close(c);

    redisContext *rc = RCONNECT();
    long long t = int_of(rc, "TTL l");
    ck_assert_msg(t > 90 && t <= 100, "TTL %lld", t);
    t = int_of(rc, "PTTL h");
    ck_assert_msg(t > 90000 && t <= 100000, "PTTL %lld", t);
    // SET EX / PX
    freeReplyObject(th_cmd(rc, "SET s v EX 1000"));
    t = int_of(rc, "TTL s");
    ck_assert_msg(t > 990 && t <= 1000, "TTL after SET EX %lld", t);
    freeReplyObject(th_cmd(rc, "SET s v PX 50000"));
    t = int_of(rc, "PTTL s");
    ck_assert_msg(t > 40000 && t <= 50000, "PTTL after SET PX %lld", t);
    // Writes that keep the TTL: SET KEEPTTL, APPEND, INCR, RPUSH; writes
    // that clear it: a plain SET, GETSET.
    freeReplyObject(th_cmd(rc, "SET s w KEEPTTL"));
    t = int_of(rc, "PTTL s");
    ck_assert_msg(t > 40000 && t <= 50000, "PTTL after SET KEEPTTL %lld", t);
    freeReplyObject(th_cmd(rc, "APPEND s x"));
    ck_assert_int_gt(int_of(rc, "PTTL s"), 40000);
    freeReplyObject(th_cmd(rc, "SET n 1 EX 1000"));
    freeReplyObject(th_cmd(rc, "INCR n"));
    ck_assert_int_gt(int_of(rc, "TTL n"), 990);
    freeReplyObject(th_cmd(rc, "RPUSH l b"));
    ck_assert_int_gt(int_of(rc, "TTL l"), 90);
    freeReplyObject(th_cmd(rc, "SET s plain"));
    ck_assert_int_eq(int_of(rc, "TTL s"), -1);
    freeReplyObject(th_cmd(rc, "EXPIRE n 1000"));
    freeReplyObject(th_cmd(rc, "GETSET n 5"));
    ck_assert_int_eq(int_of(rc, "TTL n"), -1);
    // EXPIRE again replaces the time.
    freeReplyObject(th_cmd(rc, "EXPIRE l 5000"));
    ck_assert_int_gt(int_of(rc, "TTL l"), 4000);
    // The keyspace counts keys with a TTL.
    freeReplyObject(th_cmd(rc, "FLUSHALL"));
    freeReplyObject(th_cmd(rc, "SET a 1 EX 1000"));
    freeReplyObject(th_cmd(rc, "SET b 1"));
    redisReply *r = th_cmd(rc, "INFO keyspace");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(strstr(r->str, "db0:keys=2,expires=1,") != NULL, "INFO keyspace: %s",
                  r->str);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(lazy_expiry)
{
    START();
    redisContext *rc = RCONNECT();
    freeReplyObject(th_cmd(rc, "SET s v PX 100"));
    freeReplyObject(th_cmd(rc, "RPUSH l a b"));
    freeReplyObject(th_cmd(rc, "PEXPIRE l 100"));
    freeReplyObject(th_cmd(rc, "HSET h f v"));
    freeReplyObject(th_cmd(rc, "PEXPIRE h 100"));
    freeReplyObject(th_cmd(rc, "SET n 10 PX 100"));
    freeReplyObject(th_cmd(rc, "SET keep v"));
    th_sleep_ms(300);
    redisFree(rc);

    th_conn *c = CONNECT();
    EXPECT(c, "$-1\r\n", "GET", "s");
    EXPECT(c, ":-2\r\n", "TTL", "s");
    EXPECT(c, ":0\r\n", "EXISTS", "l");
    EXPECT(c, "+none\r\n", "TYPE", "h");
    EXPECT(c, ":1\r\n", "INCR", "n");       // a fresh counter, not 11
    EXPECT(c, ":-1\r\n", "TTL", "n");
    EXPECT(c, ":1\r\n", "LPUSH", "l", "x");   // a fresh list
    EXPECT(c, "*1\r\n$1\r\nx\r\n", "LRANGE", "l", "0", "-1");
    EXPECT(c, "$1\r\nv\r\n", "GET", "keep");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(active_expiry)
{
    enum { N = 200 };
    START();
    redisContext *rc = RCONNECT();
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(redisAppendCommand(rc, "SET tmp:%d v PX 100", i), REDIS_OK);
    }
    for (int i = 0; i < N; i++) {
        void *p;
        ck_assert_int_eq(redisGetReply(rc, &p), REDIS_OK);
        freeReplyObject(p);
    }
    freeReplyObject(th_cmd(rc, "SET keep v"));
    ck_assert_int_eq(int_of(rc, "DBSIZE"), N + 1);
    // Nobody touches the keys; the server must drop them by itself.  DBSIZE
    // counts keys not yet reclaimed, and does not reclaim them.
    long long n = N + 1;
    for (int tries = 0; tries < 300 && n != 1; tries++) {
        th_sleep_ms(50);
        n = int_of(rc, "DBSIZE");
    }
    ck_assert_msg(n == 1, "%lld keys left of %d that expired, after 15 s", n - 1, N);
    redisReply *r = th_cmd(rc, "GET keep");
    ck_assert_str_eq(r->str, "v");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_expiry(void)
{
    TCase *tc = tcase_create("expiry");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ttl_replies);
    tcase_add_test(tc, lazy_expiry);
    tcase_add_test(tc, active_expiry);
    return tc;
}
