/*
 * test_multi.c - transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, byte
 * for byte against Redis 7.0.  Queued commands answer +QUEUED; a command
 * refused while queuing (unknown, wrong arity, OOM) makes EXEC answer
 * EXECABORT; errors at run time stay in EXEC's array and the rest run.
 * A watched key changed by anyone - another connection, the same one
 * before MULTI, an expiry, FLUSHALL, DEL, RENAME, a list pushed in place -
 * makes EXEC answer a null array; reads do not; after EXEC or DISCARD
 * nothing is watched.  A client that leaves in the middle of a transaction
 * leaves nothing behind (the server's debug build checks its tables after
 * every command, and STOP requires a clean exit).  Transactions over keys
 * of several slots are atomic in every layout (sharded: across workers);
 * the sharded entry also checks mwrt's rule that each queued command keeps
 * its keys in one slot (CROSSSLOT).
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXECABORT "-EXECABORT Transaction discarded because of previous errors.\r\n"
#define OOM "-OOM command not allowed when used memory > 'maxmemory'.\r\n"

START_TEST(basics)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    EXPECT(c, "-ERR DISCARD without MULTI\r\n", "DISCARD");
    EXPECT(c, "+OK\r\n", "UNWATCH");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "*0\r\n", "EXEC");
    EXPECT(c, ":3\r\n", "RPUSH", "{t}l", "a", "b", "c");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "LRANGE", "{t}l", "0", "-1");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "+QUEUED\r\n", "SET", "{t}s", "1");
    // Errors at run time are replies in the array; the rest still runs.
    EXPECT(c, "+QUEUED\r\n", "INCR", "{t}l");
    EXPECT(c, "+QUEUED\r\n", "INCR", "{t}s");
    EXPECT(c, "+QUEUED\r\n", "LPOP", "{t}l");
    EXPECT(c,
           "*6\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n+PONG\r\n+OK\r\n"
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
           ":2\r\n$1\r\na\r\n",
           "EXEC");
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    // Nested MULTI and WATCH inside MULTI are errors that do not abort.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-ERR MULTI calls can not be nested\r\n", "MULTI");
    EXPECT(c, "-ERR WATCH inside MULTI is not allowed\r\n", "WATCH", "{t}s");
    EXPECT(c, "+QUEUED\r\n", "INCR", "{t}s");
    EXPECT(c, "*1\r\n:3\r\n", "EXEC");
    // DISCARD drops the queue.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "DEL", "{t}l");
    EXPECT(c, "+QUEUED\r\n", "SET", "{t}s", "x");
    EXPECT(c, "+OK\r\n", "DISCARD");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "LRANGE", "{t}l", "0", "-1");
    EXPECT(c, "$1\r\n3\r\n", "GET", "{t}s");
    EXPECT(c, "-ERR DISCARD without MULTI\r\n", "DISCARD");
    // A command that changes its arguments (SPOP) runs as queued.
    EXPECT(c, ":1\r\n", "SADD", "set", "a");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SPOP", "set");
    EXPECT(c, "+QUEUED\r\n", "EXISTS", "set");
    EXPECT(c, "*2\r\n$1\r\na\r\n:0\r\n", "EXEC");
    // UNWATCH is queued like any command.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "UNWATCH");
    EXPECT(c, "*1\r\n+OK\r\n", "EXEC");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(queue_errors)
{
    START();
    th_conn *c = CONNECT();
    // An unknown command.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "1");
    EXPECT(c, "-ERR unknown command 'nosuch', with args beginning with: 'x' \r\n", "nosuch", "x");
    EXPECT(c, "+QUEUED\r\n", "SET", "b", "1");
    EXPECT(c, EXECABORT, "EXEC");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    EXPECT(c, ":0\r\n", "EXISTS", "b");
    EXPECT(c, "+PONG\r\n", "PING");    // out of MULTI again
    // Wrong number of arguments, including MULTI's own.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "1");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    EXPECT(c, EXECABORT, "EXEC");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-ERR wrong number of arguments for 'multi' command\r\n", "MULTI", "x");
    EXPECT(c, EXECABORT, "EXEC");
    // DISCARD of an aborted transaction is fine.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    EXPECT(c, "+OK\r\n", "DISCARD");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    // EXEC refused by a check aborts with the check's text, in MULTI or not.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "1");
    EXPECT(c,
           "-EXECABORT Transaction discarded because of: wrong number of arguments for "
           "'exec' command\r\n",
           "EXEC", "x");
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    EXPECT(c,
           "-EXECABORT Transaction discarded because of: wrong number of arguments for "
           "'exec' command\r\n",
           "EXEC", "x");
    th_close(c);
    STOP();
}
END_TEST

/* Set maxmemory 1 and wait (bounded) until writes are refused: mwrt
 * refreshes its memory figure in the background. */
static void enter_oom(th_conn *admin)
{
    EXPECT(admin, "+OK\r\n", "CONFIG", "SET", "maxmemory", "1");
    for (int i = 0; i < 500; i++) {
        size_t len;
        const char *const argv[] = {"SET", "probe", "1"};
        ck_assert_int_eq(th_send_cmd(admin, 3, argv, NULL), 0);
        char *r = th_read_reply(admin, &len);
        ck_assert_ptr_nonnull(r);
        bool oom = r[0] == '-';
        free(r);
        if (oom) {
            return;
        }
        th_sleep_ms(10);
    }
    ck_abort_msg("writes still accepted under maxmemory 1");
}

START_TEST(oom)
{
    START();
    th_conn *c = CONNECT();
    th_conn *admin = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "x", "value");
    // Refused while queuing: the transaction is aborted.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "1");
    enter_oom(admin);
    EXPECT(c, OOM, "LPUSH", "l", "v");
    EXPECT(admin, "+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    EXPECT(c, "+QUEUED\r\n", "SET", "b", "1");
    EXPECT(c, EXECABORT, "EXEC");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    // Reads only: EXEC runs past maxmemory.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "GET", "x");
    EXPECT(c, "+QUEUED\r\n", "PING");
    enter_oom(admin);
    EXPECT(c, "*2\r\n$5\r\nvalue\r\n+PONG\r\n", "EXEC");
    // DISCARD works past maxmemory.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, OOM, "SET", "a", "1");
    EXPECT(c, "+OK\r\n", "DISCARD");
    EXPECT(admin, "+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    // A write queued, then memory runs out: EXEC itself is refused.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "1");
    EXPECT(c, "+QUEUED\r\n", "GET", "x");
    enter_oom(admin);
    EXPECT(c,
           "-EXECABORT Transaction discarded because of: OOM command not allowed when used "
           "memory > 'maxmemory'.\r\n",
           "EXEC");
    EXPECT(admin, "+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    th_close(admin);
    th_close(c);
    STOP();
}
END_TEST

/* WATCH key, have `change` run (on other, or c itself before MULTI), then
 * MULTI PING EXEC on c: the EXEC's reply. */
static void expect_watch(th_conn *c, th_conn *other, const char *key, bool fails, int argc,
                         const char *const argv[])
{
    EXPECT(c, "+OK\r\n", "WATCH", key);
    size_t len;
    ck_assert_int_eq(th_send_cmd(other, argc, argv, NULL), 0);
    free(th_read_reply(other, &len));
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    size_t elen;
    const char *exp = fails ? "*-1\r\n" : "*1\r\n+PONG\r\n";
    elen = strlen(exp);
    const char *const exec[] = {"EXEC"};
    char *d = th_expect(c, exp, elen, 1, exec, NULL);
    if (d != NULL) {
        ck_abort_msg("after %s %s: %s", argv[0], argc > 1 ? argv[1] : "", d);
    }
}

#define WATCHED(c, o, key, fails, ...)                                                  \
    do {                                                                                \
        const char *const av_[] = {__VA_ARGS__};                                        \
        expect_watch((c), (o), (key), (fails), (int)(sizeof av_ / sizeof av_[0]), av_); \
    } while (0)

START_TEST(watch)
{
    START();
    th_conn *c = CONNECT();
    th_conn *o = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "x", "30");
    // Not modified: EXEC runs.
    EXPECT(c, "+OK\r\n", "WATCH", "x", "y", "z");
    EXPECT(c, "+OK\r\n", "WATCH", "x");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    // Modified by the same connection before MULTI.
    EXPECT(c, "+OK\r\n", "WATCH", "a", "b", "x", "k", "z");
    EXPECT(c, "+OK\r\n", "SET", "x", "40");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "y", "1");
    EXPECT(c, "*-1\r\n", "EXEC");
    EXPECT(c, ":0\r\n", "EXISTS", "y");
    // After a failed or a successful EXEC nothing is watched.
    EXPECT(c, "+OK\r\n", "SET", "x", "50");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    // UNWATCH, and DISCARD, forget the keys and the dirty flag.
    EXPECT(c, "+OK\r\n", "WATCH", "x");
    EXPECT(c, "+OK\r\n", "SET", "x", "10");
    EXPECT(c, "+OK\r\n", "UNWATCH");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    EXPECT(c, "+OK\r\n", "WATCH", "x");
    EXPECT(c, "+OK\r\n", "SET", "x", "10");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+OK\r\n", "DISCARD");
    EXPECT(c, "+OK\r\n", "SET", "x", "10");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "x");
    EXPECT(c, "*1\r\n:11\r\n", "EXEC");

    // Changes by another connection, of every kind.
    WATCHED(c, o, "x", true, "SET", "x", "1");
    WATCHED(c, o, "x", true, "SET", "x", "1");     // even to the same value
    WATCHED(c, o, "x", true, "INCR", "x");
    WATCHED(c, o, "x", true, "APPEND", "x", "z");
    WATCHED(c, o, "x", true, "EXPIRE", "x", "100");
    WATCHED(c, o, "x", true, "PERSIST", "x");
    WATCHED(c, o, "x", true, "RENAME", "x", "{x}2");
    WATCHED(c, o, "x", true, "RENAME", "{x}2", "x");  // the target too
    WATCHED(c, o, "x", true, "DEL", "x");
    WATCHED(c, o, "x", true, "SET", "x", "1");     // created
    WATCHED(c, o, "l", true, "RPUSH", "l", "a", "b");
    WATCHED(c, o, "l", true, "LPUSH", "l", "c");   // changed in place
    WATCHED(c, o, "l", true, "LPOP", "l");
    WATCHED(c, o, "l", true, "LSET", "l", "0", "z");
    WATCHED(c, o, "h", true, "HSET", "h", "f", "v");
    WATCHED(c, o, "h", true, "HSET", "h", "g", "v");
    WATCHED(c, o, "h", true, "HDEL", "h", "f");
    WATCHED(c, o, "s", true, "SADD", "s", "m");
    WATCHED(c, o, "s", true, "SADD", "s", "n");
    WATCHED(c, o, "s", true, "SREM", "s", "m");
    WATCHED(c, o, "z", true, "ZADD", "z", "1", "m");
    WATCHED(c, o, "z", true, "ZINCRBY", "z", "1", "m");
    WATCHED(c, o, "z", true, "ZREM", "z", "m");    // the last member: deleted
    WATCHED(c, o, "{s}d", true, "SUNIONSTORE", "{s}d", "s");
    WATCHED(c, o, "s", true, "SMOVE", "s", "{s}d", "n");
    // Reads, and changes of other keys, do not count; nor do commands
    // that change nothing or fail.
    WATCHED(c, o, "x", false, "GET", "x");
    WATCHED(c, o, "l", false, "LRANGE", "l", "0", "-1");
    WATCHED(c, o, "h", false, "HGETALL", "h");
    WATCHED(c, o, "x", false, "SET", "other", "1");
    WATCHED(c, o, "x", false, "EXPIRE", "missing", "10");
    WATCHED(c, o, "nokey", false, "DEL", "nokey");
    WATCHED(c, o, "nokey", false, "LPOP", "nokey");
    WATCHED(c, o, "x", false, "SETNX", "x", "2");
    WATCHED(c, o, "x", false, "PERSIST", "x");
    WATCHED(c, o, "x", false, "LPUSH", "x", "a");  // WRONGTYPE
    th_close(o);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(watch_flush)
{
    START();
    th_conn *c = CONNECT();
    th_conn *o = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "x", "30");
    WATCHED(c, o, "x", true, "FLUSHALL");
    WATCHED(c, o, "x", false, "FLUSHALL");         // x is not there: untouched
    EXPECT(c, "+OK\r\n", "SET", "x", "30");
    WATCHED(c, o, "x", true, "FLUSHDB");
    WATCHED(c, o, "x", false, "FLUSHDB");
    // FLUSHALL of the same connection, several keys watched.
    EXPECT(c, "+OK\r\n", "MSET", "a", "a", "b", "b");
    EXPECT(c, "+OK\r\n", "WATCH", "b", "a");
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    EXPECT(c, "+PONG\r\n", "PING");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*-1\r\n", "EXEC");
    th_close(o);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(watch_expiry)
{
    START();
    th_conn *c = CONNECT();
    // A watched key that expires before EXEC makes it fail, deleted or not.
    EXPECT(c, "+OK\r\n", "SET", "k", "1", "PX", "50");
    EXPECT(c, "+OK\r\n", "WATCH", "k");
    th_sleep_ms(120);
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "k");
    EXPECT(c, "*-1\r\n", "EXEC");
    EXPECT(c, ":0\r\n", "EXISTS", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "1", "PX", "50");
    EXPECT(c, "+OK\r\n", "WATCH", "k");
    th_sleep_ms(120);
    EXPECT(c, ":0\r\n", "EXISTS", "k");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*-1\r\n", "EXEC");
    // A key already expired when watched: its deletion is no change.
    EXPECT(c, "+OK\r\n", "SET", "s", "foo", "PX", "1");
    th_sleep_ms(20);
    EXPECT(c, "+OK\r\n", "WATCH", "s");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    EXPECT(c, "+OK\r\n", "SET", "s", "foo", "PX", "1");
    th_sleep_ms(20);
    EXPECT(c, "+OK\r\n", "WATCH", "s");
    EXPECT(c, ":0\r\n", "EXISTS", "s");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    EXPECT(c, "+OK\r\n", "SET", "s", "foo", "PX", "1");
    th_sleep_ms(20);
    EXPECT(c, "+OK\r\n", "WATCH", "s");
    EXPECT(c, "+OK\r\n", "FLUSHDB");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*1\r\n+PONG\r\n", "EXEC");
    // ... but writing it again is.
    EXPECT(c, "+OK\r\n", "SET", "s", "foo", "PX", "1");
    th_sleep_ms(20);
    EXPECT(c, "+OK\r\n", "WATCH", "s");
    EXPECT(c, "+OK\r\n", "SET", "s", "bar");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "*-1\r\n", "EXEC");
    // A TTL far away does not fail it.
    EXPECT(c, "+OK\r\n", "SET", "t", "1", "EX", "1000");
    EXPECT(c, "+OK\r\n", "WATCH", "t");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "t");
    EXPECT(c, "*1\r\n:2\r\n", "EXEC");
    th_close(c);
    STOP();
}
END_TEST

/* Optimistic locking between two connections, step by step: the second
 * to EXEC after both read loses, every time. */
START_TEST(watch_cas)
{
    enum { ROUNDS = 50 };
    START();
    th_conn *a = CONNECT();
    th_conn *b = CONNECT();
    EXPECT(a, "+OK\r\n", "SET", "n", "0");
    for (int i = 0; i < ROUNDS; i++) {
        th_conn *first = i % 2 ? a : b, *second = i % 2 ? b : a;
        char now[32], next[32], exp[64];
        snprintf(now, sizeof now, "%d", i);
        snprintf(next, sizeof next, "%d", i + 1);
        snprintf(exp, sizeof exp, "$%zu\r\n%s\r\n", strlen(now), now);
        const char *const get[] = {"GET", "n"};
        EXPECT(first, "+OK\r\n", "WATCH", "n");
        char *d = th_expect(first, exp, strlen(exp), 2, get, NULL);
        REQUIREF(d == NULL, "%s", d);
        EXPECT(second, "+OK\r\n", "WATCH", "n");
        d = th_expect(second, exp, strlen(exp), 2, get, NULL);
        REQUIREF(d == NULL, "%s", d);
        EXPECT(first, "+OK\r\n", "MULTI");
        EXPECT(first, "+QUEUED\r\n", "SET", "n", next);
        EXPECT(second, "+OK\r\n", "MULTI");
        EXPECT(second, "+QUEUED\r\n", "SET", "n", "lost");
        EXPECT(first, "*1\r\n+OK\r\n", "EXEC");
        EXPECT(second, "*-1\r\n", "EXEC");
    }
    char exp[64];
    snprintf(exp, sizeof exp, "$%zu\r\n%d\r\n", strlen("50"), ROUNDS);
    const char *const get[] = {"GET", "n"};
    char *d = th_expect(a, exp, strlen(exp), 2, get, NULL);
    REQUIREF(d == NULL, "%s", d);
    th_close(a);
    th_close(b);
    STOP();
}
END_TEST

/* The end of a writers-and-readers test: join the writer threads (each
 * returns NULL or what went wrong), check that mget finds both counters at
 * 1000, close the readers' connections and stop the server. */
static void finish_writers(pthread_t *t, int n, redisContext *rc[2], const char *mget)
{
    for (int i = 0; i < n; i++) {
        void *err;
        pthread_join(t[i], &err);
        ck_assert_msg(err == NULL, "writer: %s", (const char *)err);
    }
    redisReply *r = th_cmd(rc[0], mget);
    ck_assert_str_eq(r->element[0]->str, "1000");
    ck_assert_str_eq(r->element[1]->str, "1000");
    freeReplyObject(r);
    redisFree(rc[0]);
    redisFree(rc[1]);
    STOP();
}

/* EXEC is atomic: while one connection increments two counters in
 * transactions, readers on other connections (other workers) never see
 * them differ. */
enum { ATOMIC_ROUNDS = 1000 };

static void *atomic_writer(void *arg)
{
    redisContext *rc = th_redis(arg);
    if (rc == NULL) {
        return "no connection";
    }
    const char *bad = NULL;
    for (int i = 0; i < ATOMIC_ROUNDS && bad == NULL; i++) {
        redisAppendCommand(rc, "MULTI");
        redisAppendCommand(rc, "INCR {t}a");
        redisAppendCommand(rc, "INCR {t}b");
        redisAppendCommand(rc, "EXEC");
        for (int k = 0; k < 4; k++) {
            redisReply *r;
            if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
                bad = "I/O error";
                break;
            }
            if (k == 3 && (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
                           r->element[0]->integer != r->element[1]->integer)) {
                bad = "EXEC's two INCRs disagree";
            }
            freeReplyObject(r);
        }
    }
    redisFree(rc);
    return (void *)bad;
}

START_TEST(exec_atomic)
{
    START();
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, atomic_writer, &th_srv), 0);
    redisContext *rc[2] = {RCONNECT(), RCONNECT()};
    long long seen = 0;
    for (int i = 0; i < 2 * ATOMIC_ROUNDS && seen < ATOMIC_ROUNDS; i++) {
        redisReply *r = th_cmd(rc[i % 2], "MGET {t}a {t}b");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        long long a = r->element[0]->str ? atoll(r->element[0]->str) : 0;
        long long b = r->element[1]->str ? atoll(r->element[1]->str) : 0;
        REQUIREF(a == b, "read a=%lld b=%lld in the middle of a transaction", a, b);
        seen = a;
        freeReplyObject(r);
    }
    finish_writers(&t, 1, rc, "MGET {t}a {t}b");
}
END_TEST

/* The same across slots: {foo} and {bar} are on different workers when
 * the keyspace is sharded.  Two writers, whose connections may be on
 * different workers, run transactions that increment {foo}a and {bar}a,
 * pause (a busy script, on the client's worker), then increment {foo}b and
 * {bar}b; readers read each pair with one MGET.  Were a transaction
 * seen half done, some MGET would find a pair unequal; and a transaction
 * reading all four sees them equal. */
static void *slots_writer(void *arg)
{
    redisContext *rc = th_redis(arg);
    if (rc == NULL) {
        return "no connection";
    }
    const char *bad = NULL;
    for (int i = 0; i < ATOMIC_ROUNDS / 2 && bad == NULL; i++) {
        redisAppendCommand(rc, "MULTI");
        redisAppendCommand(rc, "INCR {foo}a");
        redisAppendCommand(rc, "INCR {bar}a");
        // A wider window to see into: a keyless script, run on the client's worker.
        redisAppendCommand(rc, "EVAL %s 0", "for i = 1, 20000 do end return 1");
        redisAppendCommand(rc, "INCR {foo}b");
        redisAppendCommand(rc, "INCR {bar}b");
        redisAppendCommand(rc, "EXEC");
        for (int k = 0; k < 7; k++) {
            redisReply *r;
            if (redisGetReply(rc, (void **)&r) != REDIS_OK) {
                bad = "I/O error";
                break;
            }
            if (k == 6 && (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
                           r->element[0]->integer != r->element[3]->integer ||
                           r->element[1]->integer != r->element[4]->integer)) {
                bad = "EXEC's INCRs disagree";
            }
            freeReplyObject(r);
        }
    }
    redisFree(rc);
    return (void *)bad;
}

/* The integer values of a reply's elements (nil: 0). */
static void pair_of(redisReply *r, long long *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = r->element[i]->str ? atoll(r->element[i]->str) : 0;
    }
}

START_TEST(exec_atomic_slots)
{
    START();
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, slots_writer, &th_srv), 0);
    }
    redisContext *rc[2] = {RCONNECT(), RCONNECT()};
    long long seen = 0, v[4];
    for (int i = 0; i < 4 * ATOMIC_ROUNDS && seen < ATOMIC_ROUNDS; i++) {
        redisContext *r1 = rc[i % 2];
        redisReply *r = th_cmd(r1, i % 4 < 2 ? "MGET {foo}a {foo}b" : "MGET {bar}a {bar}b");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        pair_of(r, v, 2);
        REQUIREF(v[0] == v[1], "%s: a=%lld b=%lld, a transaction half done",
                 i % 4 < 2 ? "{foo}" : "{bar}", v[0], v[1]);
        freeReplyObject(r);
        if (i % 8 == 0) {
            freeReplyObject(th_cmd(r1, "MULTI"));
            freeReplyObject(th_cmd(r1, "MGET {foo}a {foo}b"));
            freeReplyObject(th_cmd(r1, "MGET {bar}a {bar}b"));
            r = th_cmd(r1, "EXEC");
            REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
            pair_of(r->element[0], v, 2);
            pair_of(r->element[1], v + 2, 2);
            REQUIREF(v[0] == v[1] && v[1] == v[2] && v[2] == v[3],
                     "EXEC read %lld %lld %lld %lld", v[0], v[1], v[2], v[3]);
            seen = v[0];
            freeReplyObject(r);
        }
    }
    finish_writers(t, 2, rc, "MGET {foo}a {bar}b");
}
END_TEST

/* Clients that leave mid-transaction, or while watching: nothing queued
 * runs, and the server keeps going (and exits cleanly). */
START_TEST(disconnect)
{
    enum { CLIENTS = 100 };
    START();
    th_conn *o = CONNECT();
    for (int i = 0; i < CLIENTS; i++) {
        th_conn *c = CONNECT();
        char key[32];
        snprintf(key, sizeof key, "w%d", i % 10);
        EXPECT(c, "+OK\r\n", "WATCH", key, "x", "y", "z");
        if (i % 2 == 0) {
            EXPECT(c, "+OK\r\n", "MULTI");
            EXPECT(c, "+QUEUED\r\n", "SET", "x", "lost");
            EXPECT(c, "+QUEUED\r\n", "RPUSH", "l", "lost");
        }
        if (i % 3 == 0) {
            // The request half sent.
            const char part[] = "*3\r\n$3\r\nSET\r\n$1\r\nx\r\n";
            ck_assert_int_eq(th_send(c, part, sizeof part - 1), 0);
        }
        th_close(c);
        EXPECT(o, "+OK\r\n", "SET", key, "v");    // touches the dead watchers
    }
    EXPECT(o, ":0\r\n", "EXISTS", "x");
    EXPECT(o, ":0\r\n", "EXISTS", "l");
    // QUIT inside MULTI closes the connection; the queue never runs.
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "WATCH", "x");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "x", "lost");
    EXPECT(c, "+OK\r\n", "QUIT");
    EXPECT_CLOSED(c);
    th_close(c);
    EXPECT(o, ":0\r\n", "EXISTS", "x");
    // The watchers are gone: writes to their keys still work, and a new
    // watcher of the same key sees only its own.
    c = CONNECT();
    EXPECT(c, "+OK\r\n", "WATCH", "x", "w1");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "x", "1");
    EXPECT(c, "*1\r\n+OK\r\n", "EXEC");
    th_close(c);
    th_close(o);
    STOP();
}
END_TEST

/* Sharded (mwrt only, two workers): a transaction may span slots and
 * workers, each queued command keeps the one-slot rule, WATCH sees writes
 * made on any worker, and a transaction on keys of the other worker runs
 * there as a whole. */
START_TEST(sharded)
{
    START();
    th_conn *c = CONNECT();
    th_conn *o = CONNECT();
    // "foo" (slot 12182) and "bar" (slot 5061) are on different workers.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "foo", "1");
    EXPECT(c, "+QUEUED\r\n", "RPUSH", "bar", "a");
    EXPECT(c, "+QUEUED\r\n", "PING");
    EXPECT(c, "+QUEUED\r\n", "INCR", "bar");
    EXPECT(c, "+QUEUED\r\n", "SELECT", "1");
    EXPECT(c, "+QUEUED\r\n", "SET", "bar", "db1");
    EXPECT(c, "+QUEUED\r\n", "GET", "foo");
    EXPECT(c,
           "*7\r\n+OK\r\n:1\r\n+PONG\r\n"
           "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
           "+OK\r\n+OK\r\n$-1\r\n",
           "EXEC");
    // SELECT in the transaction stays, as in Redis.
    EXPECT(c, "$3\r\ndb1\r\n", "GET", "bar");
    EXPECT(c, "+OK\r\n", "SELECT", "0");
    EXPECT(c, "$1\r\n1\r\n", "GET", "foo");
    EXPECT(c, "*1\r\n$1\r\na\r\n", "LRANGE", "bar", "0", "-1");
    // One queued command over two slots, or over every shard: refused.
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "foo", "2");
    EXPECT(c, "+QUEUED\r\n", "MGET", "foo", "bar");
    EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", "EXEC");
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    EXPECT(c, "$1\r\n1\r\n", "GET", "foo");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "DBSIZE");
    EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n", "EXEC");
    // Watched keys on both workers, a transaction on both.
    EXPECT(c, "+OK\r\n", "WATCH", "foo", "bar");
    EXPECT(o, "+OK\r\n", "SET", "foo", "3");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "foo");
    EXPECT(c, "+QUEUED\r\n", "LPUSH", "bar", "b");
    EXPECT(c, "*-1\r\n", "EXEC");
    EXPECT(c, "+OK\r\n", "WATCH", "foo", "bar");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "foo");
    EXPECT(c, "+QUEUED\r\n", "LPUSH", "bar", "b");
    EXPECT(c, "*2\r\n:4\r\n:2\r\n", "EXEC");
    EXPECT(c, ":2\r\n", "DEL", "foo", "bar");
    // One slot each, on either worker: runs as one unit where the keys are.
    const char *tags[] = {"{foo}", "{bar}"};
    for (int t = 0; t < 2; t++) {
        char k1[32], k2[32];
        snprintf(k1, sizeof k1, "%sa", tags[t]);
        snprintf(k2, sizeof k2, "%sb", tags[t]);
        EXPECT(c, "+OK\r\n", "MULTI");
        EXPECT(c, "+QUEUED\r\n", "SET", k1, "1");
        EXPECT(c, "+QUEUED\r\n", "INCR", k1);
        EXPECT(c, "+QUEUED\r\n", "RPUSH", k2, "x", "y");
        EXPECT(c, "+QUEUED\r\n", "LPUSH", k1, "x");
        EXPECT(c, "+QUEUED\r\n", "PING");
        EXPECT(c, "+QUEUED\r\n", "MGET", k1, k2);
        EXPECT(c,
               "*6\r\n+OK\r\n:2\r\n:2\r\n"
               "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
               "+PONG\r\n*2\r\n$1\r\n2\r\n$-1\r\n",
               "EXEC");
        // Watched keys on both workers, changed by another connection.
        EXPECT(c, "+OK\r\n", "WATCH", "foo", "bar");
        EXPECT(o, "+OK\r\n", "SET", t ? "foo" : "bar", "2");
        EXPECT(c, "+OK\r\n", "MULTI");
        EXPECT(c, "+QUEUED\r\n", "INCR", k1);
        EXPECT(c, "*-1\r\n", "EXEC");
        EXPECT(c, "+OK\r\n", "WATCH", "foo", "bar");
        EXPECT(o, "+OK\r\n", "SET", "other", "2");
        EXPECT(c, "+OK\r\n", "MULTI");
        EXPECT(c, "+QUEUED\r\n", "INCR", k1);
        EXPECT(c, "*1\r\n:3\r\n", "EXEC");
    }
    th_close(o);
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_multi(void)
{
    TCase *tc = tcase_create("multi");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, basics);
    tcase_add_test(tc, queue_errors);
    tcase_add_test(tc, oom);
    tcase_add_test(tc, watch);
    tcase_add_test(tc, watch_flush);
    tcase_add_test(tc, watch_expiry);
    tcase_add_test(tc, watch_cas);
    tcase_add_test(tc, exec_atomic);
    tcase_add_test(tc, exec_atomic_slots);
    tcase_add_test(tc, disconnect);
    return tc;
}

TCase *tcase_multi_sharded(void)
{
    TCase *tc = tcase_create("multi_sharded");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sharded);
    return tc;
}
