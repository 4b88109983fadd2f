/*
 * test_mwrt.c - what only mwrt-server has: REF.SET / REF.GET (values that
 * refer to other values), cycles of them left to the collector after DEL
 * and found by GC.COLLECT, GC.STATS, GC.POLICY and INFO's gc section.  Left
 * out when the suite runs against redis-server.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static long long int_reply(redisContext *rc, const char *cmd)
{
    redisReply *r = th_cmd(rc, cmd);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "%s: not an integer reply (%s)", cmd,
                  r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ? r->str
                                                                                 : "?");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

START_TEST(ref_set_get)
{
    START();
    th_conn *c = CONNECT();
    // The keys share a hash tag: a value refers only to values of its slot.
    EXPECT(c, "+OK\r\n", "SET", "{r}s", "hello");
    EXPECT(c, ":1\r\n", "REF.SET", "{r}h", "f", "{r}s");     // creates hash h, as HSET
    EXPECT(c, ":0\r\n", "REF.SET", "{r}h", "f", "{r}s");
    EXPECT(c, "$5\r\nhello\r\n", "REF.GET", "{r}h", "f");
    EXPECT(c, "+hash\r\n", "TYPE", "{r}h");
    EXPECT(c, ":1\r\n", "HLEN", "{r}h");
    // The reference is to the value, not to the key: replacing the key's
    // value leaves the referenced one as it was.
    EXPECT(c, "+OK\r\n", "SET", "{r}s", "replaced");
    EXPECT(c, "$5\r\nhello\r\n", "REF.GET", "{r}h", "f");
    EXPECT(c, ":1\r\n", "DEL", "{r}s");
    EXPECT(c, "$5\r\nhello\r\n", "REF.GET", "{r}h", "f");
    EXPECT(c, "$-1\r\n", "REF.GET", "{r}h", "nope");
    EXPECT(c, "$-1\r\n", "REF.GET", "{r}nokey", "f");
    EXPECT(c, "-ERR wrong number of arguments for 'ref.set' command\r\n", "REF.SET", "{r}h", "f");
    EXPECT(c, "-ERR wrong number of arguments for 'ref.get' command\r\n", "REF.GET", "{r}h");
    // A target that does not exist is an error and creates nothing.
    th_send_cmd(c, 4, (const char *const[]){"REF.SET", "{r}h2", "f", "{r}missing"}, NULL);
    size_t len;
    char *r = th_read_reply(c, &len);
    ck_assert_msg(r != NULL && r[0] == '-', "REF.SET to a missing key: %s",
                  r ? th_escape(r, len, 80) : "(none)");
    free(r);
    EXPECT(c, ":0\r\n", "EXISTS", "{r}h2");
    // REF.SET into a value that is not a hash.
    EXPECT(c, "+OK\r\n", "SET", "{r}str", "v");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "REF.SET", "{r}str", "f", "{r}h");
    // A list referred to is seen whole through the reference.
    EXPECT(c, ":2\r\n", "RPUSH", "{r}l", "a", "b");
    EXPECT(c, ":1\r\n", "REF.SET", "{r}h", "list", "{r}l");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "REF.GET", "{r}h", "list");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(ref_cycles_collected)
{
    enum { CYCLES = 100 };
    START();
    redisContext *rc = RCONNECT();
    // Drain what start-up left for the collector.
    (void)int_reply(rc, "GC.COLLECT");
    // CYCLES pairs of hashes that refer to each other, and a self-loop.
    for (int i = 0; i < CYCLES; i++) {
        freeReplyObject(th_cmd(rc, "HSET {%d}a x %d", i, i));
        freeReplyObject(th_cmd(rc, "HSET {%d}b x %d", i, i));
        redisReply *r = th_cmd(rc, "REF.SET {%d}a peer {%d}b", i, i);
        REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer == 1, "REF.SET a:%d: %s", i,
                 r->type == REDIS_REPLY_ERROR ? r->str : "not :1");
        freeReplyObject(r);
        r = th_cmd(rc, "REF.SET {%d}b peer {%d}a", i, i);
        REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer == 1, "REF.SET b:%d: %s", i,
                 r->type == REDIS_REPLY_ERROR ? r->str : "not :1");
        freeReplyObject(r);
    }
    freeReplyObject(th_cmd(rc, "HSET self x 1"));
    ck_assert_int_eq(int_reply(rc, "REF.SET self me self"), 1);
    // Reachable from keys: nothing to find.
    ck_assert_int_eq(int_reply(rc, "GC.COLLECT"), 0);
    redisReply *r = th_cmd(rc, "REF.GET {7}a peer");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);   // hash b:7, through the reference
    freeReplyObject(r);
    // Delete the keys: counting cannot free the cycles; the collector can.
    for (int i = 0; i < CYCLES; i++) {
        ck_assert_int_eq(int_reply(rc, "DBSIZE"), 2 * (CYCLES - i) + 1);
        freeReplyObject(th_cmd(rc, "DEL {%d}a {%d}b", i, i));
    }
    freeReplyObject(th_cmd(rc, "DEL self"));
    ck_assert_int_eq(int_reply(rc, "DBSIZE"), 0);
    long long found = int_reply(rc, "GC.COLLECT");
    ck_assert_msg(found >= 2 * CYCLES + 1, "GC.COLLECT found %lld unreachable objects after "
                  "deleting %d cycles of two and a self-loop", found, CYCLES);
    // They were freed, not just found: a second collection finds nothing.
    ck_assert_int_eq(int_reply(rc, "GC.COLLECT"), 0);
    // A generation argument, and its errors.
    ck_assert_int_ge(int_reply(rc, "GC.COLLECT 0"), 0);
    r = th_cmd(rc, "GC.COLLECT 7");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    r = th_cmd(rc, "GC.COLLECT x");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    // A cycle still held by one key survives the collection whole.
    freeReplyObject(th_cmd(rc, "HSET {pq}p x 1"));
    freeReplyObject(th_cmd(rc, "HSET {pq}q x 2"));
    freeReplyObject(th_cmd(rc, "REF.SET {pq}p peer {pq}q"));
    freeReplyObject(th_cmd(rc, "REF.SET {pq}q peer {pq}p"));
    freeReplyObject(th_cmd(rc, "DEL {pq}q"));
    ck_assert_int_eq(int_reply(rc, "GC.COLLECT"), 0);
    r = th_cmd(rc, "REF.GET {pq}p peer");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_ge(r->elements, 2);
    ck_assert_str_eq(r->element[0]->str, "x");
    ck_assert_str_eq(r->element[1]->str, "2");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

/* Cycles made and dropped by several clients at once while the collector
 * runs on its own (default policy): the server stays consistent. */
START_TEST(ref_cycles_under_load)
{
    START();
    redisContext *rc = RCONNECT();
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 50; i++) {
            redisAppendCommand(rc, "HSET {%d}c x %d", i, i);
            redisAppendCommand(rc, "HSET {%d}d x %d", i, i);
            redisAppendCommand(rc, "REF.SET {%d}c peer {%d}d", i, i);
            redisAppendCommand(rc, "REF.SET {%d}d peer {%d}c", i, i);
            redisAppendCommand(rc, "DEL {%d}c {%d}d", i, i);
        }
        for (int i = 0; i < 250; i++) {
            void *p = NULL;
            ck_assert_int_eq(redisGetReply(rc, &p), REDIS_OK);
            redisReply *r = p;
            REQUIREF(r->type == REDIS_REPLY_INTEGER, "reply %d: %s", i,
                     r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
            freeReplyObject(r);
        }
    }
    ck_assert_int_eq(int_reply(rc, "DBSIZE"), 0);
    ck_assert_int_ge(int_reply(rc, "GC.COLLECT"), 0);
    ck_assert_int_eq(int_reply(rc, "GC.COLLECT"), 0);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(gc_policy_stats_info)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "GC.POLICY", "off");
    EXPECT(c, "$3\r\noff\r\n", "GC.POLICY");
    EXPECT(c, "+OK\r\n", "GC.POLICY", "paused");
    EXPECT(c, "$6\r\npaused\r\n", "GC.POLICY");
    EXPECT(c, "+OK\r\n", "GC.POLICY", "stw");
    EXPECT(c, "$3\r\nstw\r\n", "GC.POLICY");
    th_send_cmd(c, 2, (const char *const[]){"GC.POLICY", "bogus"}, NULL);
    size_t len;
    char *r = th_read_reply(c, &len);
    ck_assert_msg(r != NULL && r[0] == '-', "GC.POLICY bogus: %s",
                  r ? th_escape(r, len, 80) : "(none)");
    free(r);
    th_close(c);

    redisContext *rc = RCONNECT();
    redisReply *rep = th_cmd(rc, "GC.STATS");
    ck_assert_msg(rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_ARRAY,
                  "GC.STATS reply type %d", rep->type);
    freeReplyObject(rep);
    // INFO has a gc section naming the lock mode the server runs in.
    const char *lock = NULL;
    for (int i = 0; i + 1 < th_cfg.nargs; i++) {
        if (strcmp(th_cfg.args[i], "--lock") == 0) {
            lock = th_cfg.args[i + 1];
        }
    }
    rep = th_cmd(rc, "INFO");
    ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
    const char *gc = strcasestr(rep->str, "# gc\r\n");
    ck_assert_msg(gc != NULL, "INFO has no gc section");
    if (lock != NULL) {
        char want[64];
        snprintf(want, sizeof want, ":%s\r\n", lock);
        ck_assert_msg(strstr(gc, want) != NULL, "INFO gc does not say %s", want);
    }
    freeReplyObject(rep);
    rep = th_cmd(rc, "INFO gc");
    ck_assert_int_eq(rep->type, REDIS_REPLY_STRING);
    ck_assert_msg(strncasecmp(rep->str, "# gc\r\n", 6) == 0, "INFO gc: %.40s", rep->str);
    freeReplyObject(rep);
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_mwrt(void)
{
    TCase *tc = tcase_create("mwrt");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, ref_set_get);
    tcase_add_test(tc, ref_cycles_collected);
    tcase_add_test(tc, ref_cycles_under_load);
    tcase_add_test(tc, gc_policy_stats_info);
    return tc;
}
