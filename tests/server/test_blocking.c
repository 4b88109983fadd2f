/*
 * test_blocking.c - blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
 * BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP) and their non-blocking siblings
 * LMPOP and ZMPOP: served at once when a key has data, woken by a push
 * from another connection in the order the clients blocked, timeouts,
 * wrong types, several keys, CLIENT UNBLOCK, a client that leaves while
 * blocked (nothing is popped for it), and requests pipelined behind a
 * blocked one (they wait, and replies keep request order).  Replies are
 * compared byte for byte with Redis 7.0's.
 *
 * Whether a client is blocked yet is read from INFO's blocked_clients
 * (polled a bounded number of times), so a push never races the block.
 * Multi-key requests use one {hash tag}, so they also run sharded, where
 * the keys are often another worker's than the client's.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


/* READS for an expected reply built at run time. */
static void reads_str(th_conn *c, const char *exp)
{
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_msg(r != NULL, "no reply where %s was expected", exp);
    if (n != strlen(exp) || memcmp(r, exp, n) != 0) {
        char *e = th_escape(r, n, 400);
        ck_abort_msg("got \"%s\", expected \"%s\"", e, exp);
    }
    free(r);
}

START_TEST(ready_at_once)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "RPUSH", "l", "a", "b", "c");
    EXPECT(c, "*2\r\n$1\r\nl\r\n$1\r\na\r\n", "BLPOP", "l", "0");
    EXPECT(c, "*2\r\n$1\r\nl\r\n$1\r\nc\r\n", "BRPOP", "l", "1.5");
    EXPECT(c, "*2\r\n$1\r\nl\r\n$1\r\nb\r\n", "BLPOP", "l", "0");
    EXPECT(c, ":0\r\n", "EXISTS", "l");  // the emptied list is gone
    // Several keys: the first that is not empty, in argument order.
    EXPECT(c, ":2\r\n", "RPUSH", "{t}b", "x", "y");
    EXPECT(c, ":1\r\n", "RPUSH", "{t}c", "z");
    EXPECT(c, "*2\r\n$4\r\n{t}b\r\n$1\r\nx\r\n", "BLPOP", "{t}a", "{t}b", "{t}c", "0");
    EXPECT(c, "*2\r\n$4\r\n{t}b\r\n$1\r\ny\r\n", "BRPOP", "{t}a", "{t}b", "{t}c", "0");
    EXPECT(c, "*2\r\n$4\r\n{t}c\r\n$1\r\nz\r\n", "BRPOP", "{t}a", "{t}b", "{t}c", "0");
    // BLMOVE and BRPOPLPUSH with data act as LMOVE and RPOPLPUSH.
    EXPECT(c, ":2\r\n", "RPUSH", "{m}s", "1", "2");
    EXPECT(c, "$1\r\n1\r\n", "BLMOVE", "{m}s", "{m}d", "LEFT", "RIGHT", "0");
    EXPECT(c, "$1\r\n2\r\n", "BRPOPLPUSH", "{m}s", "{m}d", "0");
    EXPECT(c, "*2\r\n$1\r\n2\r\n$1\r\n1\r\n", "LRANGE", "{m}d", "0", "-1");
    EXPECT(c, "-ERR syntax error\r\n", "BLMOVE", "{m}s", "{m}d", "UP", "RIGHT", "0");
    // Sorted sets.
    EXPECT(c, ":3\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c");
    EXPECT(c, "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n", "BZPOPMIN", "z", "0");
    EXPECT(c, "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n", "BZPOPMAX", "z", "0");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(errors_and_timeouts)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "s", "x");
    EXPECT(c, "+OK\r\n", "SET", "{s}s", "x");
    EXPECT(c, WRONGTYPE, "BLPOP", "s", "0");
    EXPECT(c, WRONGTYPE, "BRPOP", "{s}none", "{s}s", "0");
    EXPECT(c, WRONGTYPE, "BZPOPMIN", "s", "0");
    EXPECT(c, WRONGTYPE, "BLMOVE", "{s}s", "{s}d", "LEFT", "LEFT", "0");
    EXPECT(c, WRONGTYPE, "LMPOP", "1", "s", "LEFT");
    EXPECT(c, WRONGTYPE, "ZMPOP", "1", "s", "MIN");
    EXPECT(c, "-ERR timeout is negative\r\n", "BLPOP", "l", "-1");
    EXPECT(c, "-ERR timeout is not a float or out of range\r\n", "BLPOP", "l", "abc");
    EXPECT(c, "-ERR timeout is not a float or out of range\r\n", "BZPOPMAX", "l", " 1");
    EXPECT(c, "-ERR timeout is negative\r\n", "BRPOP", "l", "0x7FFFFFFFFFFFFF");
    EXPECT(c, "-ERR timeout is negative\r\n", "BLMOVE", "{m}a", "{m}b", "LEFT", "LEFT", "-0.5");
    EXPECT(c, "-ERR timeout is not a float or out of range\r\n", "BRPOPLPUSH", "{m}a", "{m}b", "x");
    EXPECT(c, "-ERR wrong number of arguments for 'blpop' command\r\n", "BLPOP", "l");
    // The non-blocking forms answer a null array for nothing.
    EXPECT(c, "*-1\r\n", "LMPOP", "2", "{t}a", "{t}b", "RIGHT");
    EXPECT(c, "*-1\r\n", "ZMPOP", "1", "z", "MAX", "COUNT", "10");
    {
        // A short timeout: a null array, for lists and sorted sets alike.
        EXPECT(c, "*-1\r\n", "BLPOP", "l", "0.1");
        EXPECT(c, "*-1\r\n", "BLPOP", "l", "0.001");  // a millisecond, not for ever
        EXPECT(c, "*-1\r\n", "BRPOP", "{t}a", "{t}b", "0.05");
        EXPECT(c, "*-1\r\n", "BZPOPMIN", "z", "0.1");
        EXPECT(c, "*-1\r\n", "BLMOVE", "{m}a", "{m}b", "LEFT", "LEFT", "0.1");
        EXPECT(c, "*-1\r\n", "BLMPOP", "0.1", "1", "l", "LEFT");
        EXPECT(c, "*-1\r\n", "BZMPOP", "0.1", "1", "z", "MIN", "COUNT", "2");
        EXPECT(c, "+PONG\r\n", "PING");
    }
    th_close(c);
    STOP();
}
END_TEST

START_TEST(mpop)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":4\r\n", "RPUSH", "{t}l", "a", "b", "c", "d");
    EXPECT(c, "*2\r\n$4\r\n{t}l\r\n*1\r\n$1\r\na\r\n", "LMPOP", "2", "{t}x", "{t}l", "LEFT");
    EXPECT(c, "*2\r\n$4\r\n{t}l\r\n*2\r\n$1\r\nd\r\n$1\r\nc\r\n",
           "LMPOP", "2", "{t}x", "{t}l", "RIGHT", "COUNT", "2");
    EXPECT(c, "*2\r\n$4\r\n{t}l\r\n*1\r\n$1\r\nb\r\n",
           "BLMPOP", "0", "1", "{t}l", "LEFT", "COUNT", "10");
    EXPECT(c, ":0\r\n", "EXISTS", "{t}l");
    EXPECT(c, ":3\r\n", "ZADD", "{t}z", "1", "a", "2", "b", "3", "c");
    EXPECT(c, "*2\r\n$4\r\n{t}z\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n",
           "ZMPOP", "2", "{t}y", "{t}z", "MIN", "COUNT", "2");
    EXPECT(c, "*2\r\n$4\r\n{t}z\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n",
           "BZMPOP", "0", "1", "{t}z", "MAX");
    // Argument errors, in Redis's order.
    EXPECT(c, "-ERR numkeys should be greater than 0\r\n", "LMPOP", "0", "l", "LEFT");
    EXPECT(c, "-ERR numkeys should be greater than 0\r\n", "ZMPOP", "x", "l", "MIN");
    EXPECT(c, "-ERR syntax error\r\n", "LMPOP", "2", "l", "LEFT");
    EXPECT(c, "-ERR syntax error\r\n", "LMPOP", "1", "l", "MIN");
    EXPECT(c, "-ERR syntax error\r\n", "ZMPOP", "1", "l", "LEFT");
    EXPECT(c, "-ERR count should be greater than 0\r\n", "LMPOP", "1", "l", "LEFT", "COUNT", "0");
    EXPECT(c, "-ERR syntax error\r\n", "LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "1");
    EXPECT(c, "-ERR syntax error\r\n", "ZMPOP", "1", "l", "MIN", "COUNT");
    EXPECT(c, "-ERR count should be greater than 0\r\n", "BZMPOP", "x", "1", "l", "MIN", "COUNT", "-1");
    EXPECT(c, "-ERR timeout is not a float or out of range\r\n", "BLMPOP", "x", "1", "l", "LEFT");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(woken_by_push)
{
    START();
    th_conn *a = CONNECT(), *b = CONNECT(), *p = CONNECT();
    // One waiter, woken by a push from another connection.
    SEND(a, "BLPOP", "k", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "RPUSH", "k", "x");
    READS(a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n");
    EXPECT(p, ":0\r\n", "EXISTS", "k");
    // Two waiters on one key are served in the order they blocked.
    SEND(a, "BRPOP", "k", "0");
    wait_blocked(p, 1);
    SEND(b, "BRPOP", "k", "0");
    wait_blocked(p, 2);
    EXPECT(p, ":2\r\n", "RPUSH", "k", "1", "2");
    READS(a, "*2\r\n$1\r\nk\r\n$1\r\n2\r\n");
    READS(b, "*2\r\n$1\r\nk\r\n$1\r\n1\r\n");
    // A waiter on several keys is served from the key pushed to.
    SEND(a, "BLPOP", "{t}1", "{t}2", "{t}3", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "LPUSH", "{t}3", "v");
    READS(a, "*2\r\n$4\r\n{t}3\r\n$1\r\nv\r\n");
    EXPECT(p, ":0\r\n", "EXISTS", "{t}3");
    // A key made another type serves nobody; a list moved in does.
    SEND(a, "BLPOP", "{r}k", "0");
    wait_blocked(p, 1);
    EXPECT(p, "+OK\r\n", "SET", "{r}k", "str");
    EXPECT(p, ":1\r\n", "DEL", "{r}k");
    EXPECT(p, ":2\r\n", "RPUSH", "{r}src", "m", "n");
    EXPECT(p, "+OK\r\n", "RENAME", "{r}src", "{r}k");
    READS(a, "*2\r\n$4\r\n{r}k\r\n$1\r\nm\r\n");
    EXPECT(p, "*1\r\n$1\r\nn\r\n", "LRANGE", "{r}k", "0", "-1");
    // The waiter gets what a push adds before anyone else's next command.
    SEND(a, "BLPOP", "q", "0");
    wait_blocked(p, 1);
    EXPECT_RAW(p, "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\ne\r\n*2\r\n$4\r\nLPOP\r\n$1\r\nq\r\n",
               ":1\r\n$-1\r\n");
    READS(a, "*2\r\n$1\r\nq\r\n$1\r\ne\r\n");
    EXPECT(p, "+PONG\r\n", "PING");
    th_close(a);
    th_close(b);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(woken_move_and_zset)
{
    START();
    th_conn *a = CONNECT(), *b = CONNECT(), *p = CONNECT();
    // BLMOVE woken by a push; what it moves can wake a BLPOP on the target.
    SEND(a, "BLMOVE", "{m}s", "{m}d", "RIGHT", "LEFT", "0");
    wait_blocked(p, 1);
    SEND(b, "BLPOP", "{m}d", "0");
    wait_blocked(p, 2);
    EXPECT(p, ":2\r\n", "RPUSH", "{m}s", "x", "y");
    READS(a, "$1\r\ny\r\n");
    READS(b, "*2\r\n$4\r\n{m}d\r\n$1\r\ny\r\n");
    EXPECT(p, "*1\r\n$1\r\nx\r\n", "LRANGE", "{m}s", "0", "-1");
    EXPECT(p, ":0\r\n", "EXISTS", "{m}d");
    // BRPOPLPUSH woken by LINSERT cannot happen (no list), so by LPUSH.
    SEND(a, "BRPOPLPUSH", "{m}e", "{m}f", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "LPUSH", "{m}e", "w");
    READS(a, "$1\r\nw\r\n");
    EXPECT(p, "*1\r\n$1\r\nw\r\n", "LRANGE", "{m}f", "0", "-1");
    // BZPOPMIN and BZPOPMAX woken by ZADD.
    SEND(a, "BZPOPMIN", "{z}1", "{z}2", "0");
    wait_blocked(p, 1);
    SEND(b, "BZPOPMAX", "{z}2", "0");
    wait_blocked(p, 2);
    EXPECT(p, ":3\r\n", "ZADD", "{z}2", "1", "a", "2", "b", "3.5", "c");
    READS(a, "*3\r\n$4\r\n{z}2\r\n$1\r\na\r\n$1\r\n1\r\n");
    READS(b, "*3\r\n$4\r\n{z}2\r\n$1\r\nc\r\n$3\r\n3.5\r\n");
    // BLMPOP and BZMPOP with COUNT.
    SEND(a, "BLMPOP", "0", "2", "{t}a", "{t}b", "RIGHT", "COUNT", "2");
    wait_blocked(p, 1);
    EXPECT(p, ":3\r\n", "RPUSH", "{t}b", "1", "2", "3");
    READS(a, "*2\r\n$4\r\n{t}b\r\n*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
    SEND(a, "BZMPOP", "0", "1", "{z}3", "MIN", "COUNT", "5");
    wait_blocked(p, 1);
    EXPECT(p, ":2\r\n", "ZADD", "{z}3", "5", "e", "4", "d");
    READS(a, "*2\r\n$4\r\n{z}3\r\n*2\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n");
    // A list waiter is not woken by a sorted set, nor the other way.
    SEND(a, "BLPOP", "{x}k", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "ZADD", "{x}k", "1", "m");
    EXPECT(p, ":1\r\n", "ZCARD", "{x}k");
    EXPECT(p, ":1\r\n", "DEL", "{x}k");
    EXPECT(p, ":1\r\n", "RPUSH", "{x}k", "l");
    READS(a, "*2\r\n$4\r\n{x}k\r\n$1\r\nl\r\n");
    // BZPOPMIN woken by GEORADIUS's STORE, a key outside its key spec.
    EXPECT(p, ":1\r\n", "GEOADD", "{z}g", "13.361389", "38.115556", "Palermo");
    SEND(a, "BZPOPMIN", "{z}gd", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "GEORADIUS", "{z}g", "13", "38", "100", "km", "STORE", "{z}gd");
    READS(a, "*3\r\n$5\r\n{z}gd\r\n$7\r\nPalermo\r\n$16\r\n3479099956230698\r\n");
    th_close(a);
    th_close(b);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(disconnect_while_blocked)
{
    START();
    th_conn *a = CONNECT(), *p = CONNECT();
    SEND(a, "BLPOP", "k", "0");
    wait_blocked(p, 1);
    th_close(a);
    wait_blocked(p, 0);
    EXPECT(p, ":1\r\n", "RPUSH", "k", "x");
    EXPECT(p, "*1\r\n$1\r\nx\r\n", "LRANGE", "k", "0", "-1");
    // The same with a timeout and several keys.
    a = CONNECT();
    SEND(a, "BZPOPMIN", "{t}a", "{t}b", "100");
    wait_blocked(p, 1);
    th_close(a);
    wait_blocked(p, 0);
    EXPECT(p, ":1\r\n", "ZADD", "{t}b", "1", "m");
    EXPECT(p, ":1\r\n", "ZCARD", "{t}b");
    th_close(p);
    STOP();
}
END_TEST

START_TEST(client_unblock)
{
    START();
    th_conn *a = CONNECT(), *p = CONNECT();
    const char *const idv[] = {"CLIENT", "ID"};
    ck_assert_int_eq(th_send_cmd(a, 2, idv, NULL), 0);
    size_t n;
    char *r = th_read_reply(a, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r[0], ':');
    char id[32];
    snprintf(id, sizeof id, "%lld", strtoll(r + 1, NULL, 10));
    free(r);
    EXPECT(p, ":0\r\n", "CLIENT", "UNBLOCK", id);  // not blocked
    SEND(a, "BLPOP", "k", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "CLIENT", "UNBLOCK", id);
    READS(a, "*-1\r\n");
    SEND(a, "BZPOPMAX", "k", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "CLIENT", "UNBLOCK", id, "TIMEOUT");
    READS(a, "*-1\r\n");
    SEND(a, "BLMOVE", "k", "{k}d", "LEFT", "LEFT", "0");
    wait_blocked(p, 1);
    EXPECT(p, "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n",
           "CLIENT", "UNBLOCK", id, "LATER");
    EXPECT(p, ":1\r\n", "CLIENT", "UNBLOCK", id, "ERROR");
    READS(a, "-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n");
    EXPECT(p, ":0\r\n", "CLIENT", "UNBLOCK", id, "ERROR");
    EXPECT(p, "-ERR value is not an integer or out of range\r\n", "CLIENT", "UNBLOCK", "x");
    // WAIT for a replica there is none of: blocked until its timeout, or
    // until CLIENT UNBLOCK; the count it answers is 0.
    EXPECT(a, ":0\r\n", "WAIT", "0", "0");
    EXPECT(a, ":0\r\n", "WAIT", "1", "20");
    SEND(a, "WAIT", "1", "0");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "CLIENT", "UNBLOCK", id);
    READS(a, ":0\r\n");
    EXPECT(a, "-ERR timeout is negative\r\n", "WAIT", "1", "-1");
    EXPECT(a, "-ERR timeout is not an integer or out of range\r\n", "WAIT", "1", "0.5");
    EXPECT(a, "+OK\r\n", "MULTI");
    EXPECT(a, "+QUEUED\r\n", "WAIT", "1", "0");
    EXPECT(a, "*1\r\n:0\r\n", "EXEC");
    EXPECT(a, "+PONG\r\n", "PING");
    // The client is no longer on the key's queue.
    EXPECT(p, ":1\r\n", "RPUSH", "k", "v");
    EXPECT(p, ":1\r\n", "LLEN", "k");
    th_close(a);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(pipelined_behind_blocked)
{
    START();
    th_conn *a = CONNECT(), *p = CONNECT();
    static const char req[] = "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n"
                              "*1\r\n$4\r\nPING\r\n"
                              "*3\r\n$5\r\nRPUSH\r\n$2\r\nk2\r\n$1\r\nz\r\n";
    ck_assert_int_eq(th_send(a, req, sizeof req - 1), 0);
    wait_blocked(p, 1);
    EXPECT(p, ":0\r\n", "EXISTS", "k2");  // it waits behind the BLPOP
    EXPECT(p, ":1\r\n", "RPUSH", "k", "x");
    READS(a, "*2\r\n$1\r\nk\r\n$1\r\nx\r\n");
    READS(a, "+PONG\r\n");
    READS(a, ":1\r\n");
    // A blocked request pipelined behind another one blocks in its turn.
    static const char req2[] = "*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n"
                               "*3\r\n$5\r\nBRPOP\r\n$1\r\nj\r\n$1\r\n0\r\n"
                               "*1\r\n$4\r\nPING\r\n";
    ck_assert_int_eq(th_send(a, req2, sizeof req2 - 1), 0);
    wait_blocked(p, 1);
    EXPECT(p, ":2\r\n", "RPUSH", "k", "1", "2");
    READS(a, "*2\r\n$1\r\nk\r\n$1\r\n1\r\n");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "RPUSH", "j", "3");
    READS(a, "*2\r\n$1\r\nj\r\n$1\r\n3\r\n");
    READS(a, "+PONG\r\n");
    EXPECT(p, "*1\r\n$1\r\n2\r\n", "LRANGE", "k", "0", "-1");
    th_close(a);
    th_close(p);
    STOP();
}
END_TEST

/* Keys of both halves of the slot space ("k" is slot 7629, "a" 15495):
 * sharded over two workers, one of them is the client's worker's and the
 * other is not, so a wait happens once locally and once at another
 * worker, which holds the request until it is served. */
START_TEST(each_owner)
{
    static const char *const keys[] = {"k", "a"};
    START();
    for (int i = 0; i < 2; i++) {
        const char *k = keys[i];
        char exp[64];
        th_conn *a = CONNECT(), *b = CONNECT(), *p = CONNECT();
        // FIFO across both waiters, whichever worker each is on.
        SEND(a, "BLPOP", k, "0");
        wait_blocked(p, 1);
        SEND(b, "BLPOP", k, "0");
        wait_blocked(p, 2);
        EXPECT(p, ":2\r\n", "RPUSH", k, "1", "2");
        snprintf(exp, sizeof exp, "*2\r\n$1\r\n%s\r\n$1\r\n1\r\n", k);
        reads_str(a, exp);
        snprintf(exp, sizeof exp, "*2\r\n$1\r\n%s\r\n$1\r\n2\r\n", k);
        reads_str(b, exp);
        // A timeout, then requests pipelined behind a wait.
        EXPECT(a, "*-1\r\n", "BRPOP", k, "0.05");
        SEND(a, "BLPOP", k, "0");
        SEND(a, "PING");
        wait_blocked(p, 1);
        EXPECT(p, ":1\r\n", "LPUSH", k, "v");
        snprintf(exp, sizeof exp, "*2\r\n$1\r\n%s\r\n$1\r\nv\r\n", k);
        reads_str(a, exp);
        READS(a, "+PONG\r\n");
        // A client that leaves while blocked: nothing is popped for it.
        SEND(b, "BLPOP", k, "0");
        wait_blocked(p, 1);
        th_close(b);
        wait_blocked(p, 0);
        EXPECT(p, ":1\r\n", "RPUSH", k, "w");
        EXPECT(p, ":1\r\n", "LLEN", k);
        EXPECT(p, ":1\r\n", "DEL", k);
        th_close(a);
        th_close(p);
    }
    STOP();
}
END_TEST

/* Pipelined waiters on several connections (so on every worker) and
 * pushes from two others: every element is popped exactly once, whatever
 * worker pushes and whatever worker waits. */
START_TEST(many_waiters)
{
    enum { WAITERS = 4, EACH = 50, TOTAL = WAITERS * EACH };
    START();
    th_conn *w[WAITERS], *push[2];
    for (int i = 0; i < WAITERS; i++) {
        w[i] = CONNECT();
        for (int j = 0; j < EACH; j++) {
            SEND(w[i], j % 2 ? "BLPOP" : "BRPOP", "{q}a", "{q}b", "0");
        }
    }
    push[0] = CONNECT();
    push[1] = CONNECT();
    for (int e = 0; e < TOTAL; e++) {
        char v[16];
        snprintf(v, sizeof v, "e%d", e);
        SEND(push[e % 2], e % 3 ? "RPUSH" : "LPUSH", e % 5 ? "{q}a" : "{q}b", v);
    }
    for (int e = 0; e < TOTAL; e++) {
        size_t n;
        char *r = th_read_reply(push[e % 2], &n);
        REQUIRE(r != NULL && r[0] == ':');
        free(r);
    }
    static bool seen[TOTAL];
    for (int i = 0; i < WAITERS; i++) {
        for (int j = 0; j < EACH; j++) {
            size_t n;
            char *r = th_read_reply(w[i], &n);
            REQUIREF(r != NULL, "waiter %d got %d replies", i, j);
            // *2\r\n$4\r\n{q}?\r\n$N\r\neNNN\r\n
            const char *e = strstr(r + 4, "\r\ne");
            REQUIREF(strncmp(r, "*2\r\n$4\r\n{q}", 11) == 0 && e != NULL, "%s", r);
            int k = atoi(e + 3);
            REQUIREF(k >= 0 && k < TOTAL && !seen[k], "element %d twice", k);
            seen[k] = true;
            free(r);
        }
    }
    EXPECT(push[0], ":0\r\n", "EXISTS", "{q}a", "{q}b");
    EXPECT(push[0], ":0\r\n", "DBSIZE");
    for (int i = 0; i < WAITERS; i++) {
        th_close(w[i]);
    }
    th_close(push[0]);
    th_close(push[1]);
    STOP();
}
END_TEST

/* Inside EXEC nothing waits: the blocking forms answer as a timeout
 * (BLMOVE a null bulk); and a transaction serves a waiter only once it
 * has run whole. */
START_TEST(in_transactions)
{
    START();
    th_conn *a = CONNECT(), *p = CONNECT();
    EXPECT(a, "+OK\r\n", "MULTI");
    EXPECT(a, "+QUEUED\r\n", "BLPOP", "k", "0");
    EXPECT(a, "+QUEUED\r\n", "BZPOPMAX", "k", "0");
    EXPECT(a, "+QUEUED\r\n", "BLMOVE", "k", "{k}d", "LEFT", "LEFT", "0");
    EXPECT(a, "+QUEUED\r\n", "BLMPOP", "0", "1", "k", "LEFT");
    EXPECT(a, "*4\r\n*-1\r\n*-1\r\n$-1\r\n*-1\r\n", "EXEC");
    EXPECT(a, ":1\r\n", "RPUSH", "k", "v");
    EXPECT(a, "+OK\r\n", "MULTI");
    EXPECT(a, "+QUEUED\r\n", "BLPOP", "k", "0");
    EXPECT(a, "*1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n", "EXEC");
    // The waiter sees the end of the transaction, not its middle.
    SEND(a, "BLPOP", "k", "0");
    wait_blocked(p, 1);
    EXPECT(p, "+OK\r\n", "MULTI");
    EXPECT(p, "+QUEUED\r\n", "LPUSH", "k", "x");
    EXPECT(p, "+QUEUED\r\n", "LPUSH", "k", "y");
    EXPECT(p, "+QUEUED\r\n", "LPUSH", "k", "z");
    EXPECT(p, "*3\r\n:1\r\n:2\r\n:3\r\n", "EXEC");
    READS(a, "*2\r\n$1\r\nk\r\n$1\r\nz\r\n");
    EXPECT(p, "*2\r\n$1\r\ny\r\n$1\r\nx\r\n", "LRANGE", "k", "0", "-1");
    // Nor does it see a push undone within the transaction.
    SEND(a, "BLPOP", "q", "0");
    wait_blocked(p, 1);
    EXPECT(p, "+OK\r\n", "MULTI");
    EXPECT(p, "+QUEUED\r\n", "LPUSH", "q", "x");
    EXPECT(p, "+QUEUED\r\n", "DEL", "q");
    EXPECT(p, "*2\r\n:1\r\n:1\r\n", "EXEC");
    EXPECT(p, ":1\r\n", "RPUSH", "q", "w");
    READS(a, "*2\r\n$1\r\nq\r\n$1\r\nw\r\n");
    th_close(a);
    th_close(p);
    STOP();
}
END_TEST

/* The server stops cleanly with clients blocked, here and (sharded) at
 * another worker, with and without a timeout. */
START_TEST(stop_while_blocked)
{
    START();
    th_conn *a = CONNECT(), *b = CONNECT(), *c = CONNECT(), *p = CONNECT();
    SEND(a, "BLPOP", "k", "0");
    SEND(b, "BZPOPMIN", "a", "100");
    SEND(c, "BLMOVE", "{x}1", "{x}2", "LEFT", "LEFT", "0");
    wait_blocked(p, 3);
    STOP();
    th_close(a);
    th_close(b);
    th_close(c);
    th_close(p);
}
END_TEST

TCase *tcase_blocking(void)
{
    TCase *tc = tcase_create("blocking");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ready_at_once);
    tcase_add_test(tc, errors_and_timeouts);
    tcase_add_test(tc, mpop);
    tcase_add_test(tc, woken_by_push);
    tcase_add_test(tc, woken_move_and_zset);
    tcase_add_test(tc, disconnect_while_blocked);
    tcase_add_test(tc, client_unblock);
    tcase_add_test(tc, pipelined_behind_blocked);
    tcase_add_test(tc, each_owner);
    tcase_add_test(tc, stop_while_blocked);
    tcase_add_test(tc, many_waiters);
    tcase_add_test(tc, in_transactions);
    return tc;
}
