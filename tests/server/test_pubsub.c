/*
 * test_pubsub.c - publish/subscribe: the confirmations, messages and
 * pattern messages byte for byte, UNSUBSCRIBE and PUNSUBSCRIBE with no
 * argument, PUBSUB CHANNELS/NUMSUB/NUMPAT, the commands a subscribed
 * RESP2 client may run, shard channels, PUBLISH between connections that
 * land on different workers (the server hands connections out
 * round-robin, so several are opened), a subscriber that never reads
 * being closed under client-output-buffer-limit, and the registry being
 * emptied when subscribers disconnect; MONITOR's lines (the quoting,
 * AUTH redacted) from clients on every worker.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long long int_cmd(redisContext *rc, const char *fmt, const char *a, const char *b)
{
    redisReply *r = th_cmd(rc, fmt, a, b);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "not an integer reply: %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "?");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* Read and drop whatever c receives until the server closes it; false if
 * it did not (a read error or timeout) within `max` bytes. */
static bool drains_to_eof(th_conn *c, size_t max)
{
    char buf[65536];
    size_t total = 0;
    while (total <= max) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            return false;
        }
        total += (size_t)n;
    }
    return false;
}

START_TEST(subscribe_basics)
{
    START();
    th_conn *s = CONNECT(), *p = CONNECT();
    SEND(s, "SUBSCRIBE", "chan1", "chan2");
    READS(s, "*3\r\n$9\r\nsubscribe\r\n$5\r\nchan1\r\n:1\r\n");
    READS(s, "*3\r\n$9\r\nsubscribe\r\n$5\r\nchan2\r\n:2\r\n");
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$5\r\nchan1\r\n:2\r\n", "SUBSCRIBE", "chan1");
    EXPECT(p, ":1\r\n", "PUBLISH", "chan1", "hello");
    READS(s, "*3\r\n$7\r\nmessage\r\n$5\r\nchan1\r\n$5\r\nhello\r\n");
    EXPECT(p, ":1\r\n", "PUBLISH", "chan2", "");
    READS(s, "*3\r\n$7\r\nmessage\r\n$5\r\nchan2\r\n$0\r\n\r\n");
    EXPECT(p, ":0\r\n", "PUBLISH", "chan3", "hello");
    // Unsubscribing from a channel one is not subscribed to is confirmed.
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$3\r\nfoo\r\n:2\r\n", "UNSUBSCRIBE", "foo");
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$5\r\nchan1\r\n:1\r\n", "UNSUBSCRIBE", "chan1");
    EXPECT(p, ":0\r\n", "PUBLISH", "chan1", "hello");
    EXPECT(p, ":1\r\n", "PUBLISH", "chan2", "x");
    READS(s, "*3\r\n$7\r\nmessage\r\n$5\r\nchan2\r\n$1\r\nx\r\n");
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$5\r\nchan2\r\n:0\r\n", "UNSUBSCRIBE", "chan2");
    // Out of subscribed mode: every command again.
    EXPECT(s, "$-1\r\n", "GET", "k");
    EXPECT(s, "+PONG\r\n", "PING");

    // Two subscribers: both receive, the count says two.
    th_conn *s2 = CONNECT();
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c");
    EXPECT(s2, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c");
    EXPECT(p, ":2\r\n", "PUBLISH", "c", "m");
    READS(s, "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n");
    READS(s2, "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n");
    th_close(s2);
    th_close(s);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(patterns)
{
    START();
    th_conn *s = CONNECT(), *p = CONNECT();
    SEND(s, "PSUBSCRIBE", "foo.*", "bar.*");
    READS(s, "*3\r\n$10\r\npsubscribe\r\n$5\r\nfoo.*\r\n:1\r\n");
    READS(s, "*3\r\n$10\r\npsubscribe\r\n$5\r\nbar.*\r\n:2\r\n");
    EXPECT(p, ":1\r\n", "PUBLISH", "foo.1", "hello");
    EXPECT(p, ":1\r\n", "PUBLISH", "bar.1", "hello");
    EXPECT(p, ":0\r\n", "PUBLISH", "foo1", "hello");
    EXPECT(p, ":0\r\n", "PUBLISH", "barfoo.1", "hello");
    READS(s, "*4\r\n$8\r\npmessage\r\n$5\r\nfoo.*\r\n$5\r\nfoo.1\r\n$5\r\nhello\r\n");
    READS(s, "*4\r\n$8\r\npmessage\r\n$5\r\nbar.*\r\n$5\r\nbar.1\r\n$5\r\nhello\r\n");
    // Glob classes and escapes, as Redis's stringmatchlen.
    EXPECT(s, "*3\r\n$10\r\npsubscribe\r\n$9\r\nq[a-c]\\?x\r\n:3\r\n", "PSUBSCRIBE", "q[a-c]\\?x");
    EXPECT(p, ":1\r\n", "PUBLISH", "qb?x", "1");
    EXPECT(p, ":0\r\n", "PUBLISH", "qbzx", "2");
    READS(s, "*4\r\n$8\r\npmessage\r\n$9\r\nq[a-c]\\?x\r\n$4\r\nqb?x\r\n$1\r\n1\r\n");
    // A channel subscription and a matching pattern: two messages, the
    // channel's first.
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$7\r\nfoo.bar\r\n:4\r\n", "SUBSCRIBE", "foo.bar");
    EXPECT(p, ":2\r\n", "PUBLISH", "foo.bar", "hi");
    READS(s, "*3\r\n$7\r\nmessage\r\n$7\r\nfoo.bar\r\n$2\r\nhi\r\n");
    READS(s, "*4\r\n$8\r\npmessage\r\n$5\r\nfoo.*\r\n$7\r\nfoo.bar\r\n$2\r\nhi\r\n");
    EXPECT(s, "*3\r\n$12\r\npunsubscribe\r\n$5\r\nfoo.*\r\n:3\r\n", "PUNSUBSCRIBE", "foo.*");
    EXPECT(s, "*3\r\n$12\r\npunsubscribe\r\n$3\r\nnop\r\n:3\r\n", "PUNSUBSCRIBE", "nop");
    EXPECT(p, ":0\r\n", "PUBLISH", "foo.1", "hello");
    EXPECT(p, ":1\r\n", "PUBLISH", "bar.1", "hello");
    READS(s, "*4\r\n$8\r\npmessage\r\n$5\r\nbar.*\r\n$5\r\nbar.1\r\n$5\r\nhello\r\n");
    th_close(s);
    th_close(p);
    STOP();
}
END_TEST

/* Read n unsubscribe-style confirmations of word; each names one of
 * names (in any order: Redis walks a hash table) and the counts go down
 * from n - 1 + rest to rest. */
static void read_unsubs(th_conn *c, const char *word, int n, const char *const names[], int rest)
{
    char *seen = calloc((size_t)n, 1);
    for (int i = 0; i < n; i++) {
        size_t len;
        char *r = th_read_reply(c, &len);
        REQUIREF(r != NULL, "confirmation %d missing", i);
        bool ok = false;
        for (int k = 0; k < n && !ok; k++) {
            char exp[256];
            int el = snprintf(exp, sizeof exp, "*3\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n:%d\r\n",
                              strlen(word), word, strlen(names[k]), names[k], n - 1 - i + rest);
            if (!seen[k] && (size_t)el == len && memcmp(r, exp, len) == 0) {
                seen[k] = 1;
                ok = true;
            }
        }
        REQUIREF(ok, "unexpected confirmation %s", th_escape(r, len, 200));
        free(r);
    }
    free(seen);
}

START_TEST(unsubscribe_all)
{
    START();
    th_conn *s = CONNECT(), *p = CONNECT();
    // None: one confirmation with a null name.
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE");
    EXPECT(s, "*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n", "PUNSUBSCRIBE");
    EXPECT(s, "+PONG\r\n", "PING");  // not in subscribed mode by that
    SEND(s, "SUBSCRIBE", "chan1", "chan2", "chan3");
    SEND(s, "PSUBSCRIBE", "p1.*", "p2.*");
    for (int i = 0; i < 5; i++) {
        free(th_read_reply(s, &(size_t){0}));
    }
    SEND(s, "UNSUBSCRIBE");
    read_unsubs(s, "unsubscribe", 3, (const char *const[]){"chan1", "chan2", "chan3"}, 2);
    EXPECT(p, ":0\r\n", "PUBLISH", "chan1", "hello");
    EXPECT(p, ":0\r\n", "PUBLISH", "chan3", "hello");
    EXPECT(p, ":1\r\n", "PUBLISH", "p1.x", "hello");
    READS(s, "*4\r\n$8\r\npmessage\r\n$4\r\np1.*\r\n$4\r\np1.x\r\n$5\r\nhello\r\n");
    SEND(s, "PUNSUBSCRIBE");
    read_unsubs(s, "punsubscribe", 2, (const char *const[]){"p1.*", "p2.*"}, 0);
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n", "UNSUBSCRIBE");
    EXPECT(p, ":0\r\n", "PUBLISH", "p1.x", "hello");
    EXPECT(s, "$-1\r\n", "GET", "k");
    th_close(s);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(introspection)
{
    START();
    th_conn *s1 = CONNECT(), *s2 = CONNECT();
    redisContext *rc = RCONNECT();
    EXPECT(s1, "*0\r\n", "PUBSUB", "CHANNELS");
    EXPECT(s1, ":0\r\n", "PUBSUB", "NUMPAT");
    EXPECT(s1, "*0\r\n", "PUBSUB", "NUMSUB");
    SEND(s1, "SUBSCRIBE", "news.a", "news.b", "other");
    for (int i = 0; i < 3; i++) {
        free(th_read_reply(s1, &(size_t){0}));
    }
    EXPECT(s2, "*3\r\n$9\r\nsubscribe\r\n$6\r\nnews.a\r\n:1\r\n", "SUBSCRIBE", "news.a");
    EXPECT(s2, "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:2\r\n", "PSUBSCRIBE", "*");
    EXPECT(s1, "*3\r\n$10\r\npsubscribe\r\n$1\r\n*\r\n:4\r\n", "PSUBSCRIBE", "*");
    EXPECT(s1, "*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:5\r\n", "PSUBSCRIBE", "x*");
    // NUMSUB counts channel subscribers only, in argument order, as integers.
    th_conn *q = CONNECT();
    EXPECT(q, "*6\r\n$6\r\nnews.a\r\n:2\r\n$6\r\nnews.b\r\n:1\r\n$4\r\nnone\r\n:0\r\n",
           "PUBSUB", "NUMSUB", "news.a", "news.b", "none");
    // NUMPAT counts unique patterns; INFO stats says the same.
    EXPECT(q, ":2\r\n", "PUBSUB", "NUMPAT");
    redisReply *info = th_cmd(rc, "INFO stats");
    ck_assert_int_eq(info->type, REDIS_REPLY_STRING);
    ck_assert_ptr_nonnull(strstr(info->str, "\r\npubsub_channels:3\r\n"));
    ck_assert_ptr_nonnull(strstr(info->str, "\r\npubsub_patterns:2\r\n"));
    freeReplyObject(info);
    redisReply *r = th_cmd(rc, "PUBSUB CHANNELS");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 3);
    freeReplyObject(r);
    r = th_cmd(rc, "PUBSUB CHANNELS news.*");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert(strcmp(r->element[i]->str, "news.a") == 0 ||
                  strcmp(r->element[i]->str, "news.b") == 0);
    }
    ck_assert_str_ne(r->element[0]->str, r->element[1]->str);
    freeReplyObject(r);
    EXPECT(q, "*1\r\n$5\r\nother\r\n", "PUBSUB", "CHANNELS", "o*");
    EXPECT(q, "-ERR unknown subcommand 'nope'. Try PUBSUB HELP.\r\n", "PUBSUB", "nope");
    EXPECT(q, "-ERR wrong number of arguments for 'pubsub|numpat' command\r\n", "PUBSUB",
           "NUMPAT", "x");
    EXPECT(q, "-ERR wrong number of arguments for 'pubsub' command\r\n", "PUBSUB");
    EXPECT(q, "-ERR wrong number of arguments for 'publish' command\r\n", "PUBLISH", "a");
    // A publication to a channel and a pattern that both match counts both.
    EXPECT(q, ":4\r\n", "PUBLISH", "news.a", "m");
    // Subscribers leave: the counts follow.
    th_close(s1);
    th_close(s2);
    for (int i = 0; i < 1000 && int_cmd(rc, "PUBSUB NUMPAT", NULL, NULL) != 0; i++) {
        th_sleep_ms(10);
    }
    EXPECT(q, ":0\r\n", "PUBSUB", "NUMPAT");
    EXPECT(q, "*0\r\n", "PUBSUB", "CHANNELS");
    EXPECT(q, "*2\r\n$6\r\nnews.a\r\n:0\r\n", "PUBSUB", "NUMSUB", "news.a");
    EXPECT(q, ":0\r\n", "PUBLISH", "news.a", "m");
    th_close(q);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(subscribed_mode)
{
    START();
    th_conn *s = CONNECT();
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n", "SUBSCRIBE", "c");
    EXPECT(s,
           "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
           "RESET are allowed in this context\r\n",
           "GET", "k");
    EXPECT(s,
           "-ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
           "QUIT / RESET are allowed in this context\r\n",
           "PUBLISH", "c", "m");
    // Unknown commands and wrong arity are reported first.
    EXPECT(s, "-ERR unknown command 'nosuch', with args beginning with: \r\n", "nosuch");
    EXPECT(s, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    EXPECT(s, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING");
    EXPECT(s, "*2\r\n$4\r\npong\r\n$3\r\nabc\r\n", "PING", "abc");
    EXPECT(s, "*3\r\n$10\r\npsubscribe\r\n$1\r\np\r\n:2\r\n", "PSUBSCRIBE", "p");
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:1\r\n", "UNSUBSCRIBE", "c");
    // Still subscribed to a pattern.
    EXPECT(s,
           "-ERR Can't execute 'set': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
           "RESET are allowed in this context\r\n",
           "SET", "k", "v");
    EXPECT(s, "+OK\r\n", "QUIT");
    EXPECT_CLOSED(s);
    th_close(s);
    STOP();
}
END_TEST

START_TEST(shard_channels)
{
    START();
    th_conn *s = CONNECT(), *p = CONNECT();
    EXPECT(s, "*3\r\n$10\r\nssubscribe\r\n$2\r\nsc\r\n:1\r\n", "SSUBSCRIBE", "sc");
    // Shard channels are counted apart from channels and patterns.
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$2\r\nsc\r\n:1\r\n", "SUBSCRIBE", "sc");
    EXPECT(p, ":1\r\n", "SPUBLISH", "sc", "m1");
    READS(s, "*3\r\n$8\r\nsmessage\r\n$2\r\nsc\r\n$2\r\nm1\r\n");
    EXPECT(p, ":1\r\n", "PUBLISH", "sc", "m2");
    READS(s, "*3\r\n$7\r\nmessage\r\n$2\r\nsc\r\n$2\r\nm2\r\n");
    EXPECT(p, "*1\r\n$2\r\nsc\r\n", "PUBSUB", "SHARDCHANNELS");
    EXPECT(p, "*2\r\n$2\r\nsc\r\n:1\r\n", "PUBSUB", "SHARDNUMSUB", "sc");
    EXPECT(s, "*3\r\n$11\r\nunsubscribe\r\n$2\r\nsc\r\n:0\r\n", "UNSUBSCRIBE", "sc");
    EXPECT(s,
           "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
           "RESET are allowed in this context\r\n",
           "GET", "k");
    EXPECT(s, "*3\r\n$12\r\nsunsubscribe\r\n$2\r\nsc\r\n:0\r\n", "SUNSUBSCRIBE");
    EXPECT(s, "*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n", "SUNSUBSCRIBE");
    EXPECT(p, ":0\r\n", "SPUBLISH", "sc", "m3");
    EXPECT(s, "$-1\r\n", "GET", "k");
    th_close(s);
    th_close(p);
    STOP();
}
END_TEST

/* Subscribers and publishers spread over the workers: every message
 * reaches every subscriber, each publisher's in the order it sent them,
 * and PUBLISH counts them all. */
START_TEST(across_workers)
{
    enum { SUBS = 5, PUBS = 3, MSGS = 300 };
    START();
    th_conn *s[SUBS], *p[PUBS];
    for (int i = 0; i < SUBS; i++) {
        s[i] = CONNECT();
        EXPECT(s[i], "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch");
    }
    for (int i = 0; i < PUBS; i++) {
        p[i] = CONNECT();
    }
    for (int m = 0; m < MSGS; m++) {
        for (int i = 0; i < PUBS; i++) {
            char msg[32];
            snprintf(msg, sizeof msg, "%d:%d", i, m);
            char *d = th_expect(p[i], ":5\r\n", 4, 3, (const char *const[]){"PUBLISH", "ch", msg},
                                NULL);
            REQUIREF(d == NULL, "%s", d);
        }
    }
    for (int k = 0; k < SUBS; k++) {
        int next[PUBS] = {0};
        for (int n = 0; n < MSGS * PUBS; n++) {
            size_t len;
            char *r = th_read_reply(s[k], &len);
            REQUIREF(r != NULL, "subscriber %d: message %d missing", k, n);
            int i, m;
            REQUIREF(sscanf(r, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$%*d\r\n%d:%d", &i, &m) == 2,
                     "subscriber %d: %s", k, th_escape(r, len, 100));
            REQUIREF(i >= 0 && i < PUBS && m == next[i], "subscriber %d: %d:%d after %d", k, i,
                     m, next[i] - 1);
            next[i]++;
            free(r);
        }
    }
    for (int i = 0; i < SUBS; i++) {
        th_close(s[i]);
    }
    for (int i = 0; i < PUBS; i++) {
        th_close(p[i]);
    }
    STOP();
}
END_TEST

START_TEST(output_limit)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "CONFIG GET client-output-buffer-limit");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_str_eq(r->element[1]->str,
                     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET client-output-buffer-limit %s", "pubsub 1mb");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    ck_assert_str_eq(r->str, "ERR CONFIG SET failed (possibly related to argument "
                             "'client-output-buffer-limit') - Wrong number of arguments in "
                             "buffer limit configuration.");
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET client-output-buffer-limit %s", "other 1mb 1mb 1");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    ck_assert_str_eq(r->str, "ERR CONFIG SET failed (possibly related to argument "
                             "'client-output-buffer-limit') - Invalid client class specified "
                             "in buffer limit configuration.");
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET client-output-buffer-limit %s", "pubsub 1mb 512kb 1");
    ck_assert_int_eq(r->type, REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG GET client-output-buffer-limit");
    ck_assert_str_eq(r->element[1]->str,
                     "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 1");
    freeReplyObject(r);

    // A subscriber that never reads: past the hard limit it is closed,
    // and PUBLISH stops counting it.
    th_conn *s = CONNECT();
    EXPECT(s, "*3\r\n$9\r\nsubscribe\r\n$4\r\nslow\r\n:1\r\n", "SUBSCRIBE", "slow");
    enum { MSG = 64 * 1024, MAX = 4000 };
    char *payload = malloc(MSG);
    memset(payload, 'x', MSG);
    long long n = 1;
    int sent = 0;
    for (; sent < MAX && n != 0; sent++) {
        redisReply *pr = redisCommand(rc, "PUBLISH slow %b", payload, (size_t)MSG);
        ck_assert_ptr_nonnull(pr);
        ck_assert_int_eq(pr->type, REDIS_REPLY_INTEGER);
        n = pr->integer;
        freeReplyObject(pr);
    }
    free(payload);
    ck_assert_msg(n == 0, "the subscriber still counted after %d messages of 64 KiB", sent);
    ck_assert_msg(drains_to_eof(s, (size_t)sent * MSG + 4096), "the subscriber was not closed");
    th_close(s);
    r = th_cmd(rc, "PUBSUB NUMSUB slow");
    ck_assert_int_eq(r->element[1]->integer, 0);
    freeReplyObject(r);
    // A reading subscriber under the same limit is not closed.
    th_conn *s2 = CONNECT();
    EXPECT(s2, "*3\r\n$9\r\nsubscribe\r\n$4\r\nfast\r\n:1\r\n", "SUBSCRIBE", "fast");
    for (int i = 0; i < 200; i++) {
        REQUIRE(int_cmd(rc, "PUBLISH fast %s", "0123456789", NULL) == 1);
        READS(s2, "*3\r\n$7\r\nmessage\r\n$4\r\nfast\r\n$10\r\n0123456789\r\n");
    }
    th_close(s2);
    redisFree(rc);
    STOP();
}
END_TEST

/* Subscribers that vanish, with messages queued for them, leave nothing
 * behind: every channel and pattern goes, and the server stays well. */
START_TEST(disconnect_cleanup)
{
    enum { ROUNDS = 20, CONNS = 6 };
    START();
    redisContext *rc = RCONNECT();
    for (int round = 0; round < ROUNDS; round++) {
        th_conn *s[CONNS];
        for (int i = 0; i < CONNS; i++) {
            s[i] = CONNECT();
            SEND(s[i], "SUBSCRIBE", "a", "b", "c");
            SEND(s[i], "PSUBSCRIBE", "a*", "*");
            SEND(s[i], "SSUBSCRIBE", "a");
            for (int k = 0; k < 6; k++) {
                free(th_read_reply(s[i], &(size_t){0}));
            }
        }
        for (int m = 0; m < 20; m++) {
            REQUIRE(int_cmd(rc, "PUBLISH a %s", "message", NULL) == 3 * CONNS);
        }
        for (int i = 0; i < CONNS; i++) {
            th_close(s[i]);  // with messages unread
        }
        for (int i = 0; i < 1000 && int_cmd(rc, "PUBLISH a %s", "x", NULL) != 0; i++) {
            th_sleep_ms(5);
        }
        REQUIRE(int_cmd(rc, "PUBSUB NUMPAT", NULL, NULL) == 0);
        redisReply *r = th_cmd(rc, "PUBSUB CHANNELS");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
        freeReplyObject(r);
        r = th_cmd(rc, "PUBSUB SHARDCHANNELS");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
        freeReplyObject(r);
    }
    redisFree(rc);
    STOP();
}
END_TEST

/* Require that the next reply on c is a monitor line whose part after
 * "+SECONDS.MICROS [0 ADDR]" is tail. */
static void monitor_line(th_conn *c, const char *tail, int line)
{
    size_t len;
    char *r = th_read_reply(c, &len);
    ck_assert_msg(r != NULL, "line %d: no monitor line", line);
    long long sec;
    int us = -1, n = 0;
    char *end = strstr(r, "] ");
    ck_assert_msg(sscanf(r, "+%lld.%6d [0 %*[0-9.:]%n", &sec, &us, &n) == 2 && end != NULL &&
                  sec > 0 && us >= 0, "line %d: %s", line, r);
    ck_assert_msg(strcmp(end + 2, tail) == 0, "line %d: got %s, expected ...%s", line, r, tail);
    free(r);
}

START_TEST(monitor)
{
    START();
    th_conn *mon = CONNECT();
    EXPECT(mon, "+OK\r\n", "MONITOR");
    // Connections are handed out round-robin: some land on other workers.
    for (int i = 0; i < 3; i++) {
        th_conn *c = CONNECT();
        EXPECT(c, "+OK\r\n", "SET", "k", "a\"b\n\x01");
        monitor_line(mon, "\"SET\" \"k\" \"a\\\"b\\n\\x01\"\r\n", __LINE__);
        th_close(c);
    }
    th_conn *c = CONNECT();
    const char *const auth[] = {"AUTH", "secret"};
    ck_assert_int_eq(th_send_cmd(c, 2, auth, NULL), 0);
    free(th_read_reply(c, &(size_t){0}));
    monitor_line(mon, "\"AUTH\" \"(redacted)\"\r\n", __LINE__);
    EXPECT(c, "$1\r\na\r\n", "ECHO", "a");
    monitor_line(mon, "\"ECHO\" \"a\"\r\n", __LINE__);
    th_close(c);
    th_close(mon);
    STOP();
}
END_TEST

TCase *tcase_pubsub(void)
{
    TCase *tc = tcase_create("pubsub");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, subscribe_basics);
    tcase_add_test(tc, patterns);
    tcase_add_test(tc, unsubscribe_all);
    tcase_add_test(tc, introspection);
    tcase_add_test(tc, subscribed_mode);
    tcase_add_test(tc, shard_channels);
    tcase_add_test(tc, across_workers);
    tcase_add_test(tc, output_limit);
    tcase_add_test(tc, disconnect_cleanup);
    tcase_add_test(tc, monitor);
    return tc;
}
