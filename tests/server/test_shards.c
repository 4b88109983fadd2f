/*
 * test_shards.c - the sharded keyspace (--keyspace sharded): every key
 * lives on the worker its hash slot maps to; commands on keys of several
 * slots are split, or refused with CROSSSLOT; replies keep request order
 * across shards, pipelined or not; clients that leave while their requests
 * are with another worker do not hurt it.  The slot of a key is computed
 * here independently (CRC16-CCITT, Redis Cluster's), so a server that put
 * keys elsewhere would fail.  Run only in the suite's sharded entry.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WORKERS = 2 };

static unsigned crc16_bitwise(const char *p, size_t n)
{
    unsigned c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= (unsigned)(unsigned char)p[i] << 8;
        for (int b = 0; b < 8; b++) {
            c = (c & 0x8000) ? ((c << 1) ^ 0x1021) : (c << 1);
            c &= 0xffff;
        }
    }
    return c;
}

static unsigned key_slot(const char *k)
{
    size_t n = strlen(k);
    const char *o = strchr(k, '{');
    if (o != NULL) {
        const char *e = strchr(o + 1, '}');
        if (e != NULL && e > o + 1) {
            return crc16_bitwise(o + 1, (size_t)(e - o - 1)) % 16384;
        }
    }
    return crc16_bitwise(k, n) % 16384;
}

/* Which of WORKERS contiguous slot ranges the key is in. */
static int key_owner(const char *k)
{
    return (int)(key_slot(k) * WORKERS / 16384);
}

/* shardI:keys=N from INFO shards. */
static long long shard_keys(redisContext *rc, int shard)
{
    redisReply *r = th_cmd(rc, "INFO shards");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    char name[32];
    snprintf(name, sizeof name, "shard%d:keys=", shard);
    const char *p = strstr(r->str, name);
    ck_assert_msg(p != NULL, "INFO shards has no %s: %s", name, r->str);
    long long v = atoll(p + strlen(name));
    freeReplyObject(r);
    return v;
}

static long long int_cmd(redisContext *rc, const char *fmt, const char *a, const char *b)
{
    redisReply *r = th_cmd(rc, fmt, a, b);
    ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "%s: %s", fmt,
                  r->type == REDIS_REPLY_ERROR ? r->str : "not an integer");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

START_TEST(crc16_vectors)
{
    // The reference values of Redis Cluster's specification.
    ck_assert_uint_eq(crc16_bitwise("123456789", 9), 0x31c3);
    ck_assert_uint_eq(key_slot("foo"), 12182);
    ck_assert_uint_eq(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    ck_assert_uint_eq(key_slot("foo{}{bar}"), key_slot("foo{}{bar}"));
    ck_assert_uint_ne(key_slot("foo{}{bar}"), key_slot("bar"));  // "{}" is no tag
    ck_assert_uint_eq(key_slot("foo{{bar}}zap"), key_slot("{bar"));
}
END_TEST

/* Keys of one shard only, then of the other: INFO shards shows each set
 * where the slot table says it belongs. */
START_TEST(keys_live_with_their_slot_owner)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "INFO shards");
    ck_assert_msg(strstr(r->str, "keyspace:sharded") && strstr(r->str, "shards:2") &&
                      strstr(r->str, "shard0:keys=0,slots=0-8191") &&
                      strstr(r->str, "shard1:keys=0,slots=8192-16383"),
                  "INFO shards: %s", r->str);
    freeReplyObject(r);
    int count[WORKERS] = {0};
    char key[32];
    for (int pass = 1; pass >= 0; pass--) {
        for (int i = 0; i < 300; i++) {
            snprintf(key, sizeof key, "key:%d", i);
            if (key_owner(key) != pass) {
                continue;
            }
            freeReplyObject(th_cmd(rc, "SET %s %d", key, i));
            count[pass]++;
        }
        // Over 300 keys each shard gets some.
        ck_assert_int_gt(count[pass], 50);
        ck_assert_int_eq(shard_keys(rc, pass), count[pass]);
        ck_assert_int_eq(shard_keys(rc, 1 - pass), pass == 1 ? 0 : count[1]);
    }
    // Keys with one hash tag all land on the tag's shard.
    int tag_owner = key_owner("{tagged}");
    long long before = shard_keys(rc, tag_owner);
    for (int i = 0; i < 40; i++) {
        freeReplyObject(th_cmd(rc, "SET {tagged}:%d v", i));
    }
    ck_assert_int_eq(shard_keys(rc, tag_owner), before + 40);
    ck_assert_int_eq(shard_keys(rc, 1 - tag_owner), count[1 - tag_owner]);
    // DBSIZE, KEYS and a full SCAN see every shard, each key once.
    long long total = count[0] + count[1] + 40;
    r = th_cmd(rc, "DBSIZE");
    ck_assert_int_eq(r->integer, total);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS *");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_int_eq((long long)r->elements, total);
    freeReplyObject(r);
    long long seen = 0;
    char cursor[32] = "0";
    int guard = 0;
    do {
        r = th_cmd(rc, "SCAN %s COUNT 7", cursor);
        ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
        ck_assert_int_eq((long long)r->elements, 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        seen += (long long)r->element[1]->elements;
        freeReplyObject(r);
        REQUIRE(++guard < 10000);
    } while (strcmp(cursor, "0") != 0);
    ck_assert_int_eq(seen, total);
    // FLUSHALL empties every shard.
    freeReplyObject(th_cmd(rc, "FLUSHALL"));
    ck_assert_int_eq(shard_keys(rc, 0), 0);
    ck_assert_int_eq(shard_keys(rc, 1), 0);
    redisFree(rc);
    STOP();
}
END_TEST

/* Two keys of different shards (found by the slot function above). */
static void two_shards(char a[32], char b[32])
{
    snprintf(a, 32, "k0");
    for (int i = 1;; i++) {
        snprintf(b, 32, "k%d", i);
        if (key_owner(b) != key_owner(a)) {
            return;
        }
    }
}

START_TEST(crossslot)
{
    START();
    redisContext *rc = RCONNECT();
    char a[32], b[32];
    two_shards(a, b);
    freeReplyObject(th_cmd(rc, "SET %s va", a));
    freeReplyObject(th_cmd(rc, "SET %s vb", b));
    // A value cannot refer to a value of another slot, nor move there.
    redisReply *r = th_cmd(rc, "REF.SET %s f %s", a, b);
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    ck_assert_str_eq(r->str, "CROSSSLOT Keys in request don't hash to the same slot");
    freeReplyObject(r);
    r = th_cmd(rc, "RENAME %s %s", a, b);
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    ck_assert_str_eq(r->str, "CROSSSLOT Keys in request don't hash to the same slot");
    freeReplyObject(r);
    // Nothing was changed by the refused commands.
    r = th_cmd(rc, "MGET %s %s", a, b);
    ck_assert_int_eq((long long)r->elements, 2);
    ck_assert_str_eq(r->element[0]->str, "va");
    ck_assert_str_eq(r->element[1]->str, "vb");
    freeReplyObject(r);
    // With a common hash tag, a cycle across two keys can be made.
    ck_assert_int_eq(int_cmd(rc, "HSET %s f %s", "{c}x", "1"), 1);
    ck_assert_int_eq(int_cmd(rc, "HSET %s f %s", "{c}y", "2"), 1);
    ck_assert_int_eq(int_cmd(rc, "REF.SET %s peer %s", "{c}x", "{c}y"), 1);
    ck_assert_int_eq(int_cmd(rc, "REF.SET %s peer %s", "{c}y", "{c}x"), 1);
    // Commands that split: the answer is the whole one.
    ck_assert_int_eq(int_cmd(rc, "EXISTS %s %s", a, b), 2);
    ck_assert_int_eq(int_cmd(rc, "DEL %s %s", a, b), 2);
    ck_assert_int_eq(int_cmd(rc, "EXISTS %s %s", a, b), 0);
    ck_assert_int_eq(int_cmd(rc, "DEL %s %s", "{c}x", "{c}y"), 2);
    redisFree(rc);
    STOP();
}
END_TEST

/* One pipeline of requests over keys of both shards, some split: every
 * reply comes back in request order. */
START_TEST(pipelined_order_across_shards)
{
    enum { N = 2000 };
    START();
    redisContext *rc = RCONNECT();
    for (int i = 0; i < N; i++) {
        redisAppendCommand(rc, "SET p:%d %d", i, i);
        redisAppendCommand(rc, "INCR p:%d", i);
        redisAppendCommand(rc, "MGET p:%d p:%d nokey", i, i / 2);
        redisAppendCommand(rc, "PING");
    }
    for (int i = 0; i < N; i++) {
        void *p;
        REQUIRE(redisGetReply(rc, &p) == REDIS_OK);
        redisReply *r = p;
        REQUIREF(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0, "SET p:%d", i);
        freeReplyObject(r);
        REQUIRE(redisGetReply(rc, &p) == REDIS_OK);
        r = p;
        REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer == i + 1, "INCR p:%d", i);
        freeReplyObject(r);
        REQUIRE(redisGetReply(rc, &p) == REDIS_OK);
        r = p;
        REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements == 3, "MGET at %d", i);
        REQUIREF(atoi(r->element[0]->str) == i + 1, "MGET p:%d: %s", i, r->element[0]->str);
        int half = i / 2;
        int want = half + 1;  // p:half was set and incremented already
        REQUIREF(r->element[1]->type == REDIS_REPLY_STRING && atoi(r->element[1]->str) == want,
                 "MGET p:%d: %s", half, r->element[1]->str);
        REQUIRE(r->element[2]->type == REDIS_REPLY_NIL);
        freeReplyObject(r);
        REQUIRE(redisGetReply(rc, &p) == REDIS_OK);
        r = p;
        REQUIREF(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0, "PING at %d", i);
        freeReplyObject(r);
    }
    // MSET across shards, read back in key order.
    redisReply *r = th_cmd(rc, "MSET m:1 a m:2 b m:3 c m:4 d m:5 e");
    ck_assert_str_eq(r->str, "OK");
    freeReplyObject(r);
    r = th_cmd(rc, "MGET m:5 m:4 m:3 m:2 m:1");
    ck_assert_int_eq((long long)r->elements, 5);
    for (int i = 0; i < 5; i++) {
        char want[2] = {(char)('e' - i), 0};
        ck_assert_str_eq(r->element[i]->str, want);
    }
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

typedef struct incr_arg {
    int port;
    int n;
    int failures;
} incr_arg;

static void *incr_client(void *p)
{
    incr_arg *a = p;
    redisContext *rc = redisConnect("127.0.0.1", a->port);
    if (rc == NULL || rc->err) {
        a->failures = a->n;
        return NULL;
    }
    for (int i = 0; i < a->n; i++) {
        redisAppendCommand(rc, "INCR ctr:%d", i % 16);
        if (i % 64 == 63 || i == a->n - 1) {
            for (int j = i - (i % 64); j <= i; j++) {
                void *r;
                if (redisGetReply(rc, &r) != REDIS_OK) {
                    a->failures++;
                    continue;
                }
                if (((redisReply *)r)->type != REDIS_REPLY_INTEGER) {
                    a->failures++;
                }
                freeReplyObject(r);
            }
        }
    }
    redisFree(rc);
    return NULL;
}

/* Clients on both workers increment counters on both shards at once:
 * every increment is counted once. */
START_TEST(concurrent_cross_shard_increments)
{
    enum { CLIENTS = 6, EACH = 3200 };
    START();
    pthread_t t[CLIENTS];
    incr_arg a[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        a[i] = (incr_arg){.port = th_srv.port, .n = EACH};
        ck_assert_int_eq(pthread_create(&t[i], NULL, incr_client, &a[i]), 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(a[i].failures, 0);
    }
    redisContext *rc = RCONNECT();
    for (int k = 0; k < 16; k++) {
        redisReply *r = th_cmd(rc, "GET ctr:%d", k);
        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        ck_assert_int_eq(atoll(r->str), (long long)CLIENTS * EACH / 16);
        freeReplyObject(r);
    }
    redisFree(rc);
    STOP();
}
END_TEST

/* Clients that send a pipeline over keys of the other shard and leave at
 * once: the replies come back to connections that are gone; the server
 * stays up, frees them, and exits cleanly. */
START_TEST(client_leaves_while_other_shard_answers)
{
    START();
    char a[32], b[32];
    two_shards(a, b);
    for (int round = 0; round < 30; round++) {
        th_conn *c = CONNECT();
        char req[64];
        int n = snprintf(req, sizeof req, "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", strlen(b), b);
        for (int i = 0; i < 200; i++) {
            th_send(c, req, (size_t)n);
            n = snprintf(req, sizeof req, "*2\r\n$4\r\nINCR\r\n$%zu\r\n%s\r\n",
                         strlen(i % 2 ? a : b), i % 2 ? a : b);
        }
        th_close(c);
    }
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "PING");
    ck_assert_str_eq(r->str, "PONG");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST


/* The worker the connection rc is served by (INFO shards). */
static int conn_worker(redisContext *rc)
{
    redisReply *r = th_cmd(rc, "INFO shards");
    const char *p = strstr(r->str, "this_worker:");
    ck_assert_ptr_nonnull(p);
    int w = atoi(p + strlen("this_worker:"));
    freeReplyObject(r);
    return w;
}

/* A connection served by worker w (connections go round-robin). */
static redisContext *connect_to_worker(int w)
{
    redisContext *keep[WORKERS + 1];
    int n = 0;
    redisContext *rc = NULL;
    for (int i = 0; i <= WORKERS && rc == NULL; i++) {
        redisContext *c = RCONNECT();
        if (conn_worker(c) == w) {
            rc = c;
        } else {
            keep[n++] = c;
        }
    }
    for (int i = 0; i < n; i++) {
        redisFree(keep[i]);
    }
    ck_assert_msg(rc != NULL, "no connection to worker %d", w);
    return rc;
}

static long long info_field(redisContext *rc, const char *section, const char *name)
{
    redisReply *r = th_cmd(rc, "INFO %s", section);
    const char *p = strstr(r->str, name);
    ck_assert_msg(p != NULL, "INFO %s has no %s", section, name);
    long long v = atoll(p + strlen(name) + 1);
    freeReplyObject(r);
    return v;
}

typedef struct pinger {
    int port;
    char key[32];
    _Atomic(long long) done;
    _Atomic(int) stop;
    int failures;
} pinger;

/* The pinger's connection must be on worker 1: connections are dealt
 * round-robin, so it tries a few and keeps the others open meanwhile. */
static void *pinger_main(void *arg)
{
    pinger *p = arg;
    redisContext *spare[WORKERS + 1];
    int nspare = 0;
    redisContext *rc = NULL;
    while (rc == NULL && nspare <= WORKERS) {
        redisContext *c = redisConnect("127.0.0.1", p->port);
        if (c == NULL || c->err) {
            p->failures++;
            redisFree(c);
            break;
        }
        redisReply *r = redisCommand(c, "INFO shards");
        const char *w = r != NULL && r->type == REDIS_REPLY_STRING ? strstr(r->str, "this_worker:")
                                                                   : NULL;
        if (w != NULL && atoi(w + strlen("this_worker:")) == 1) {
            rc = c;
        } else {
            spare[nspare++] = c;
        }
        freeReplyObject(r);
    }
    for (int i = 0; i < nspare; i++) {
        redisFree(spare[i]);
    }
    if (rc == NULL) {
        p->failures++;
        atomic_store(&p->done, 1 << 30);  // let the test go on and fail
        return NULL;
    }
    while (!atomic_load(&p->stop)) {
        redisReply *r = redisCommand(rc, "INCR %s", p->key);
        if (r == NULL || r->type != REDIS_REPLY_INTEGER) {
            p->failures++;
        }
        freeReplyObject(r);
        atomic_fetch_add(&p->done, 1);
    }
    redisFree(rc);
    return NULL;
}

/* Worker 0 collects a large heap of cyclic garbage (its own, confined)
 * while a client of worker 1 keeps using worker 1's keys: that client's
 * requests are answered during the collection, and no collection stopped
 * the world. */
START_TEST(collection_on_one_worker_does_not_stop_another)
{
    enum { PAIRS = 50000 };
    START();
    // A hash tag of worker 0 for the garbage, a key of worker 1 for the pings.
    char tag[16], key[32];
    for (int i = 0;; i++) {
        snprintf(tag, sizeof tag, "{g%d}", i);
        if (key_owner(tag) == 0) {
            break;
        }
    }
    for (int i = 0;; i++) {
        snprintf(key, sizeof key, "ping:%d", i);
        if (key_owner(key) == 1) {
            break;
        }
    }
    redisContext *a = connect_to_worker(0);
    // No automatic collection while the garbage is made: it is all left
    // for the one collection below.
    redisReply *r = th_cmd(a, "GC.POLICY off");
    ck_assert_str_eq(r->str, "OK");
    freeReplyObject(r);
    for (int i = 0; i < PAIRS; i++) {
        redisAppendCommand(a, "HSET %sa:%d x 1", tag, i);
        redisAppendCommand(a, "HSET %sb:%d x 1", tag, i);
        redisAppendCommand(a, "REF.SET %sa:%d p %sb:%d", tag, i, tag, i);
        redisAppendCommand(a, "REF.SET %sb:%d p %sa:%d", tag, i, tag, i);
        redisAppendCommand(a, "DEL %sa:%d %sb:%d", tag, i, tag, i);
        if (i % 500 == 499 || i == PAIRS - 1) {
            for (int j = 0; j < 5 * (i % 500 + 1); j++) {
                void *rp;
                REQUIRE(redisGetReply(a, &rp) == REDIS_OK);
                REQUIRE(((redisReply *)rp)->type == REDIS_REPLY_INTEGER);
                freeReplyObject(rp);
            }
        }
    }
    long long stw_before = info_field(a, "gc", "gc_stw_collections");
    pinger p = {.port = th_srv.port};
    snprintf(p.key, sizeof p.key, "%s", key);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, pinger_main, &p), 0);
    while (atomic_load(&p.done) < 10) {
        th_sleep_ms(1);
    }
    long long before = atomic_load(&p.done);
    r = th_cmd(a, "GC.COLLECT");
    long long during = atomic_load(&p.done) - before;
    atomic_store(&p.stop, 1);
    pthread_join(t, NULL);
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_msg(r->integer >= 2 * PAIRS, "GC.COLLECT found %lld of %d", r->integer, 2 * PAIRS);
    freeReplyObject(r);
    ck_assert_int_eq(p.failures, 0);
    ck_assert_msg(during > 0, "worker 1 answered nothing while worker 0 collected");
    // Every collection ran on its own worker's heap: none stopped the world.
    ck_assert_int_eq(info_field(a, "gc", "gc_stw_collections"), stw_before);
    ck_assert_int_gt(info_field(a, "gc", "gc_confined_collections"), 0);
    redisFree(a);
    STOP();
}
END_TEST

TCase *tcase_shards(void)
{
    TCase *tc = tcase_create("shards");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, crc16_vectors);
    tcase_add_test(tc, keys_live_with_their_slot_owner);
    tcase_add_test(tc, crossslot);
    tcase_add_test(tc, pipelined_order_across_shards);
    tcase_add_test(tc, concurrent_cross_shard_increments);
    tcase_add_test(tc, client_leaves_while_other_shard_answers);
    tcase_add_test(tc, collection_on_one_worker_does_not_stop_another);
    return tc;
}
