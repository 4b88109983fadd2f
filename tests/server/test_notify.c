/*
 * test_notify.c - keyspace notifications: notify-keyspace-events as
 * CONFIG GET/SET and the command line read and write it, the events of a
 * few commands of each family in Redis's order and names (both channel
 * kinds), "new" only for a created key, "expired" from the background
 * cycle, "evicted" under an evicting maxmemory-policy, and events reaching
 * subscribers on every worker (connections are handed out round-robin,
 * so several are opened, and the keys spread over the shards), and the
 * channels naming the database of the change (SELECT, MOVE).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Require that the next message on c is pmessage(pattern, channel, msg). */
#define PMSG(c, pat, ch, msg) pmsg_or_fail((c), (pat), (ch), (msg), __LINE__)
static void pmsg_or_fail(th_conn *c, const char *pat, const char *ch, const char *msg, int line)
{
    char exp[1024];
    int n = snprintf(exp, sizeof exp, "*4\r\n$8\r\npmessage\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n"
                     "$%zu\r\n%s\r\n", strlen(pat), pat, strlen(ch), ch, strlen(msg), msg);
    size_t len = 0;
    char *r = th_read_reply(c, &len);
    if (r == NULL) {
        ck_abort_msg("line %d: no message (expected %s %s)", line, ch, msg);
    }
    if (len != (size_t)n || memcmp(r, exp, len) != 0) {
        ck_abort_msg("line %d: got %s, expected %s", line, th_escape(r, len, 300),
                     th_escape(exp, (size_t)n, 300));
    }
    free(r);
}

/* Send a request on the hiredis connection and require the reply's type. */
static void ok_cmd(redisContext *rc, const char *cmd)
{
    redisReply *r = th_cmd(rc, cmd);
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", cmd, r->str);
    freeReplyObject(r);
}

static void set_events(redisContext *rc, const char *classes)
{
    redisReply *r = th_cmd(rc, "CONFIG SET notify-keyspace-events %s", classes);
    ck_assert_msg(r->type == REDIS_REPLY_STATUS, "CONFIG SET %s refused", classes);
    freeReplyObject(r);
}

/* Subscribe c to pattern and read the confirmation. */
static void psubscribe(th_conn *c, const char *pat)
{
    const char *const argv[] = {"PSUBSCRIBE", pat};
    REQUIRE(th_send_cmd(c, 2, argv, NULL) == 0);
    size_t len;
    char *r = th_read_reply(c, &len);
    REQUIRE(r != NULL && strstr(r, "psubscribe") != NULL);
    free(r);
}

START_TEST(setting)
{
    START_WITH("--notify-keyspace-events", "KEA");
    th_conn *c = CONNECT();
    EXPECT(c, "*2\r\n$22\r\nnotify-keyspace-events\r\n$3\r\nAKE\r\n",
           "CONFIG", "GET", "notify-keyspace-events");
    static const struct {
        const char *set, *get;
    } cases[] = {
        {"gKE", "gKE"}, {"$lshzxeKE", "$lshzxeKE"}, {"KA", "AK"}, {"EA", "AE"},
        {"Kn", "nK"}, {"Em", "Em"}, {"AKEn", "AKE"}, {"gdt", "gtd"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *const set[] = {"CONFIG", "SET", "notify-keyspace-events", cases[i].set};
        char *d = th_expect(c, "+OK\r\n", 5, 4, set, NULL);
        REQUIREF(d == NULL, "%s", d);
        char exp[128];
        int n = snprintf(exp, sizeof exp, "*2\r\n$22\r\nnotify-keyspace-events\r\n$%zu\r\n%s\r\n",
                         strlen(cases[i].get), cases[i].get);
        const char *const get[] = {"CONFIG", "GET", "notify-keyspace-events"};
        d = th_expect(c, exp, (size_t)n, 3, get, NULL);
        REQUIREF(d == NULL, "%s", d);
    }
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') "
              "- Invalid event class character. Use 'Ag$lshzxeKEtmdn'.\r\n",
           "CONFIG", "SET", "notify-keyspace-events", "KEZ");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(family_events)
{
    START();
    redisContext *rc = RCONNECT();
    th_conn *s = CONNECT();
    set_events(rc, "KA");
    psubscribe(s, "__keyspace@0__:*");
    ok_cmd(rc, "SET {s}str 1");
    ok_cmd(rc, "INCRBY {s}str 5");
    ok_cmd(rc, "APPEND {s}str x");
    ok_cmd(rc, "EXPIRE {s}str 100");
    ok_cmd(rc, "PERSIST {s}str");
    ok_cmd(rc, "RENAME {s}str {s}str2");
    ok_cmd(rc, "DEL {s}str2 nokey");
    ok_cmd(rc, "RPUSH list a b");
    ok_cmd(rc, "LPOP list 2");
    ok_cmd(rc, "HSET hash f 1");
    ok_cmd(rc, "HINCRBY hash f 2");
    ok_cmd(rc, "HDEL hash nofield");
    ok_cmd(rc, "SADD set a");
    ok_cmd(rc, "SADD set a");
    ok_cmd(rc, "ZADD zset 1 a");
    ok_cmd(rc, "ZINCRBY zset 1 a");
    ok_cmd(rc, "ZPOPMIN zset");
    const char *const events[][2] = {
        {"{s}str", "set"}, {"{s}str", "incrby"}, {"{s}str", "append"}, {"{s}str", "expire"},
        {"{s}str", "persist"}, {"{s}str", "rename_from"}, {"{s}str2", "rename_to"},
        {"{s}str2", "del"},
        {"list", "rpush"}, {"list", "lpop"}, {"list", "del"},
        {"hash", "hset"}, {"hash", "hincrby"}, {"set", "sadd"},
        {"zset", "zadd"}, {"zset", "zincr"}, {"zset", "zpopmin"}, {"zset", "del"},
    };
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        char ch[64];
        snprintf(ch, sizeof ch, "__keyspace@0__:%s", events[i][0]);
        PMSG(s, "__keyspace@0__:*", ch, events[i][1]);
    }
    // Both kinds, and SMOVE: the destination only when the member is new.
    set_events(rc, "KEs");
    ok_cmd(rc, "SADD {m}src a b");
    ok_cmd(rc, "SADD {m}dst a");
    th_close(s);
    s = CONNECT();
    psubscribe(s, "*");
    ok_cmd(rc, "SMOVE {m}src {m}dst a");
    ok_cmd(rc, "SMOVE {m}src {m}dst b");
    PMSG(s, "*", "__keyspace@0__:{m}src", "srem");
    PMSG(s, "*", "__keyevent@0__:srem", "{m}src");
    PMSG(s, "*", "__keyspace@0__:{m}src", "srem");
    PMSG(s, "*", "__keyevent@0__:srem", "{m}src");
    PMSG(s, "*", "__keyspace@0__:{m}dst", "sadd");
    PMSG(s, "*", "__keyevent@0__:sadd", "{m}dst");
    // The channels name the database the change was made in.
    set_events(rc, "KE$g");
    ok_cmd(rc, "SELECT 3");
    ok_cmd(rc, "SET {m}three v");
    PMSG(s, "*", "__keyspace@3__:{m}three", "set");
    PMSG(s, "*", "__keyevent@3__:set", "{m}three");
    ok_cmd(rc, "MOVE {m}three 4");
    PMSG(s, "*", "__keyspace@3__:{m}three", "move_from");
    PMSG(s, "*", "__keyevent@3__:move_from", "{m}three");
    PMSG(s, "*", "__keyspace@4__:{m}three", "move_to");
    PMSG(s, "*", "__keyevent@4__:move_to", "{m}three");
    th_close(s);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(new_expired_evicted)
{
    START();
    redisContext *rc = RCONNECT();
    th_conn *s = CONNECT();
    set_events(rc, "En");
    psubscribe(s, "__keyevent@0__:*");
    ok_cmd(rc, "SET a 1");
    ok_cmd(rc, "SET a 2");
    ok_cmd(rc, "LPUSH b x");
    PMSG(s, "__keyevent@0__:*", "__keyevent@0__:new", "a");
    PMSG(s, "__keyevent@0__:*", "__keyevent@0__:new", "b");
    // Nobody reads the key: the background cycle expires it.
    set_events(rc, "Ex");
    ok_cmd(rc, "PSETEX gone 50 v");
    PMSG(s, "__keyevent@0__:*", "__keyevent@0__:expired", "gone");
    set_events(rc, "Ee");
    ok_cmd(rc, "FLUSHALL");
    ok_cmd(rc, "SET victim v");
    ok_cmd(rc, "CONFIG SET maxmemory-policy allkeys-lru");
    ok_cmd(rc, "CONFIG SET maxmemory 1");
    PMSG(s, "__keyevent@0__:*", "__keyevent@0__:evicted", "victim");
    ok_cmd(rc, "CONFIG SET maxmemory 0");
    ok_cmd(rc, "CONFIG SET maxmemory-policy noeviction");
    th_close(s);
    redisFree(rc);
    STOP();
}
END_TEST

/* Subscribers on every worker get the events of keys of every shard. */
START_TEST(every_worker)
{
    enum { SUBS = 4, KEYS = 16 };
    START();
    redisContext *rc = RCONNECT();
    th_conn *s[SUBS];
    set_events(rc, "E$");
    for (int i = 0; i < SUBS; i++) {
        s[i] = CONNECT();
        psubscribe(s[i], "__keyevent@0__:set");
    }
    for (int k = 0; k < KEYS; k++) {
        redisReply *r = th_cmd(rc, "SET key:%d v", k);
        REQUIRE(r->type == REDIS_REPLY_STATUS);
        freeReplyObject(r);
    }
    for (int i = 0; i < SUBS; i++) {
        for (int k = 0; k < KEYS; k++) {
            char key[32];
            snprintf(key, sizeof key, "key:%d", k);
            PMSG(s[i], "__keyevent@0__:set", "__keyevent@0__:set", key);
        }
        th_close(s[i]);
    }
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_notify(void)
{
    TCase *tc = tcase_create("notify");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, setting);
    tcase_add_test(tc, family_events);
    tcase_add_test(tc, new_expired_evicted);
    tcase_add_test(tc, every_worker);
    return tc;
}
