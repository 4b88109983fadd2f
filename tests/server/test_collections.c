/*
 * test_collections.c - lists, hashes, sets and sorted sets: every command of
 * each kind, its errors, WRONGTYPE, and that an emptied collection's key
 * disappears, compared byte for byte with Redis 7.0 where the order of the
 * reply is defined (lists, sorted sets, one-field hashes) and as sets of
 * strings where it is not (SMEMBERS, HKEYS, HGETALL of several fields).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
#define NOTINT "-ERR value is not an integer or out of range\r\n"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The string elements of an array reply joined sorted, as "a,b,c". */
static char *sorted_join(redisReply *r)
{
    static char out[4096];
    char *v[256];
    size_t o = 0;

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_le(r->elements, 256);
    for (size_t i = 0; i < r->elements; i++) {
        ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_STRING);
        v[i] = r->element[i]->str;
    }
    qsort(v, r->elements, sizeof *v, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < r->elements; i++) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "," : "", v[i]);
    }
    return out;
}

/* HGETALL's field/value pairs as sorted "f=v" strings, joined. */
static char *sorted_pairs(redisReply *r)
{
    static char out[4096];
    char *v[128];
    size_t o = 0, n;

    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements % 2, 0);
    n = r->elements / 2;
    ck_assert_uint_le(n, 128);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_ne(asprintf(&v[i], "%s=%s", r->element[2 * i]->str,
                                  r->element[2 * i + 1]->str), -1);
    }
    qsort(v, n, sizeof *v, cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "," : "", v[i]);
        free(v[i]);
    }
    return out;
}

START_TEST(lists)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "RPUSH", "l", "a", "b", "c");
    EXPECT(c, ":5\r\n", "LPUSH", "l", "y", "z");   // z y a b c
    EXPECT(c, "*5\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n",
           "LRANGE", "l", "0", "-1");
    EXPECT(c, "*2\r\n$1\r\ny\r\n$1\r\na\r\n", "LRANGE", "l", "1", "2");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "LRANGE", "l", "-2", "100");
    EXPECT(c, "*0\r\n", "LRANGE", "l", "3", "1");
    EXPECT(c, "*0\r\n", "LRANGE", "l", "10", "20");
    EXPECT(c, "*1\r\n$1\r\nz\r\n", "LRANGE", "l", "-100", "0");
    EXPECT(c, "*0\r\n", "LRANGE", "nope", "0", "-1");
    EXPECT(c, NOTINT, "LRANGE", "l", "a", "1");
    EXPECT(c, ":5\r\n", "LLEN", "l");
    EXPECT(c, ":0\r\n", "LLEN", "nope");
    EXPECT(c, "$1\r\nz\r\n", "LINDEX", "l", "0");
    EXPECT(c, "$1\r\nc\r\n", "LINDEX", "l", "-1");
    EXPECT(c, "$-1\r\n", "LINDEX", "l", "5");
    EXPECT(c, "$-1\r\n", "LINDEX", "nope", "0");
    EXPECT(c, NOTINT, "LINDEX", "l", "x");
    EXPECT(c, "+OK\r\n", "LSET", "l", "1", "Y");
    EXPECT(c, "+OK\r\n", "LSET", "l", "-1", "C");
    EXPECT(c, "-ERR index out of range\r\n", "LSET", "l", "5", "x");
    EXPECT(c, "-ERR no such key\r\n", "LSET", "nope", "0", "x");
    EXPECT(c, "*5\r\n$1\r\nz\r\n$1\r\nY\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nC\r\n",
           "LRANGE", "l", "0", "-1");
    // LPOP / RPOP, with and without a count.
    EXPECT(c, "$1\r\nz\r\n", "LPOP", "l");
    EXPECT(c, "$1\r\nC\r\n", "RPOP", "l");
    EXPECT(c, "*2\r\n$1\r\nY\r\n$1\r\na\r\n", "LPOP", "l", "2");
    EXPECT(c, "*1\r\n$1\r\nb\r\n", "RPOP", "l", "5");
    EXPECT(c, ":0\r\n", "EXISTS", "l");   // emptied: the key is gone
    EXPECT(c, "$-1\r\n", "LPOP", "l");
    EXPECT(c, "*-1\r\n", "LPOP", "l", "2");
    EXPECT(c, "*-1\r\n", "RPOP", "l", "2");
    EXPECT(c, ":3\r\n", "RPUSH", "l", "1", "2", "3");
    EXPECT(c, "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n", "RPOP", "l", "3");
    EXPECT(c, ":1\r\n", "RPUSH", "l", "x");
    EXPECT(c, "*0\r\n", "LPOP", "l", "0");
    EXPECT(c, "-ERR value is out of range, must be positive\r\n", "LPOP", "l", "-1");
    EXPECT(c, "-ERR value is out of range, must be positive\r\n", "RPOP", "l", "x");
    EXPECT(c, "-ERR wrong number of arguments for 'lpop' command\r\n", "LPOP", "l", "1",
           "2");
    // LREM: count > 0 from the head, < 0 from the tail, 0 all.
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    EXPECT(c, ":7\r\n", "RPUSH", "r", "a", "b", "a", "c", "a", "b", "a");
    EXPECT(c, ":2\r\n", "LREM", "r", "2", "a");    // b c a b a
    EXPECT(c, ":1\r\n", "LREM", "r", "-1", "b");   // b c a a
    EXPECT(c, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\na\r\n", "LRANGE", "r", "0",
           "-1");
    EXPECT(c, ":2\r\n", "LREM", "r", "0", "a");
    EXPECT(c, ":0\r\n", "LREM", "r", "0", "zzz");
    EXPECT(c, ":0\r\n", "LREM", "nope", "0", "a");
    EXPECT(c, NOTINT, "LREM", "r", "x", "a");
    EXPECT(c, ":1\r\n", "LREM", "r", "0", "b");
    // WRONGTYPE on every list command.
    EXPECT(c, "+OK\r\n", "SET", "s", "v");
    EXPECT(c, WRONGTYPE, "LPUSH", "s", "x");
    EXPECT(c, WRONGTYPE, "RPUSH", "s", "x");
    EXPECT(c, WRONGTYPE, "LPOP", "s");
    EXPECT(c, WRONGTYPE, "RPOP", "s");
    EXPECT(c, WRONGTYPE, "LRANGE", "s", "0", "-1");
    EXPECT(c, WRONGTYPE, "LLEN", "s");
    EXPECT(c, WRONGTYPE, "LINDEX", "s", "0");
    EXPECT(c, WRONGTYPE, "LSET", "s", "0", "x");
    EXPECT(c, WRONGTYPE, "LREM", "s", "0", "x");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(hashes)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":2\r\n", "HSET", "h", "f1", "v1", "f2", "v2");
    EXPECT(c, ":0\r\n", "HSET", "h", "f1", "V1");
    EXPECT(c, ":1\r\n", "HSET", "h", "f1", "x", "f3", "v3");
    EXPECT(c, "$1\r\nx\r\n", "HGET", "h", "f1");
    EXPECT(c, "$-1\r\n", "HGET", "h", "nope");
    EXPECT(c, "$-1\r\n", "HGET", "nope", "f1");
    EXPECT(c, "+OK\r\n", "HMSET", "h", "f4", "v4", "f1", "v1");
    EXPECT(c, "-ERR wrong number of arguments for 'hmset' command\r\n", "HMSET", "h", "f");
    EXPECT(c, "*3\r\n$2\r\nv1\r\n$-1\r\n$2\r\nv4\r\n", "HMGET", "h", "f1", "nope", "f4");
    EXPECT(c, "*2\r\n$-1\r\n$-1\r\n", "HMGET", "nope", "a", "b");
    EXPECT(c, ":4\r\n", "HLEN", "h");
    EXPECT(c, ":0\r\n", "HLEN", "nope");
    EXPECT(c, ":1\r\n", "HEXISTS", "h", "f2");
    EXPECT(c, ":0\r\n", "HEXISTS", "h", "nope");
    EXPECT(c, ":0\r\n", "HEXISTS", "nope", "f2");
    EXPECT(c, ":2\r\n", "HDEL", "h", "f2", "f3", "nope");
    EXPECT(c, ":0\r\n", "HDEL", "h", "f2");
    EXPECT(c, ":0\r\n", "HDEL", "nope", "f2");
    // HINCRBY
    EXPECT(c, ":5\r\n", "HINCRBY", "h", "n", "5");
    EXPECT(c, ":-2\r\n", "HINCRBY", "h", "n", "-7");
    EXPECT(c, "$2\r\n-2\r\n", "HGET", "h", "n");
    EXPECT(c, "-ERR hash value is not an integer\r\n", "HINCRBY", "h", "f1", "1");
    EXPECT(c, NOTINT, "HINCRBY", "h", "n", "x");
    EXPECT(c, ":9223372036854775807\r\n", "HINCRBY", "max", "n", "9223372036854775807");
    EXPECT(c, "-ERR increment or decrement would overflow\r\n", "HINCRBY", "max", "n", "1");
    // One field: the order is defined.
    EXPECT(c, ":1\r\n", "HSET", "one", "f", "v");
    EXPECT(c, "*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "HGETALL", "one");
    EXPECT(c, "*1\r\n$1\r\nf\r\n", "HKEYS", "one");
    EXPECT(c, "*1\r\n$1\r\nv\r\n", "HVALS", "one");
    EXPECT(c, "*0\r\n", "HGETALL", "nope");
    EXPECT(c, "*0\r\n", "HKEYS", "nope");
    EXPECT(c, "*0\r\n", "HVALS", "nope");
    EXPECT(c, ":1\r\n", "HDEL", "one", "f");
    EXPECT(c, ":0\r\n", "EXISTS", "one");   // emptied: the key is gone
    // WRONGTYPE
    EXPECT(c, "+OK\r\n", "SET", "s", "v");
    EXPECT(c, WRONGTYPE, "HSET", "s", "f", "v");
    EXPECT(c, WRONGTYPE, "HGET", "s", "f");
    EXPECT(c, WRONGTYPE, "HMSET", "s", "f", "v");
    EXPECT(c, WRONGTYPE, "HMGET", "s", "f");
    EXPECT(c, WRONGTYPE, "HDEL", "s", "f");
    EXPECT(c, WRONGTYPE, "HGETALL", "s");
    EXPECT(c, WRONGTYPE, "HLEN", "s");
    EXPECT(c, WRONGTYPE, "HEXISTS", "s", "f");
    EXPECT(c, WRONGTYPE, "HINCRBY", "s", "f", "1");
    EXPECT(c, WRONGTYPE, "HKEYS", "s");
    EXPECT(c, WRONGTYPE, "HVALS", "s");
    th_close(c);

    // Several fields: compare as sets.
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "HGETALL h");
    ck_assert_str_eq(sorted_pairs(r), "f1=v1,f4=v4,n=-2");
    freeReplyObject(r);
    r = th_cmd(rc, "HKEYS h");
    ck_assert_str_eq(sorted_join(r), "f1,f4,n");
    freeReplyObject(r);
    r = th_cmd(rc, "HVALS h");
    ck_assert_str_eq(sorted_join(r), "-2,v1,v4");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(sets)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "SADD", "s", "a", "b", "c");
    EXPECT(c, ":1\r\n", "SADD", "s", "a", "d", "d");
    EXPECT(c, ":4\r\n", "SCARD", "s");
    EXPECT(c, ":0\r\n", "SCARD", "nope");
    EXPECT(c, ":1\r\n", "SISMEMBER", "s", "a");
    EXPECT(c, ":0\r\n", "SISMEMBER", "s", "z");
    EXPECT(c, ":0\r\n", "SISMEMBER", "nope", "a");
    EXPECT(c, ":2\r\n", "SREM", "s", "a", "b", "z");
    EXPECT(c, ":0\r\n", "SREM", "nope", "a");
    EXPECT(c, "*0\r\n", "SMEMBERS", "nope");
    EXPECT(c, "$-1\r\n", "SPOP", "nope");
    EXPECT(c, "*0\r\n", "SPOP", "nope", "3");
    EXPECT(c, "-ERR value is out of range, must be positive\r\n", "SPOP", "s", "-1");
    EXPECT(c, ":1\r\n", "SADD", "one", "only");
    EXPECT(c, "*1\r\n$4\r\nonly\r\n", "SMEMBERS", "one");
    EXPECT(c, "$4\r\nonly\r\n", "SPOP", "one");
    EXPECT(c, ":0\r\n", "EXISTS", "one");
    EXPECT(c, "+OK\r\n", "SET", "str", "v");
    EXPECT(c, WRONGTYPE, "SADD", "str", "a");
    EXPECT(c, WRONGTYPE, "SREM", "str", "a");
    EXPECT(c, WRONGTYPE, "SMEMBERS", "str");
    EXPECT(c, WRONGTYPE, "SISMEMBER", "str", "a");
    EXPECT(c, WRONGTYPE, "SCARD", "str");
    EXPECT(c, WRONGTYPE, "SPOP", "str");
    th_close(c);

    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "SMEMBERS s");
    ck_assert_str_eq(sorted_join(r), "c,d");
    freeReplyObject(r);
    // SPOP takes members out one by one, then with a count.
    freeReplyObject(th_cmd(rc, "SADD p 1 2 3 4 5 6 7 8 9 10"));
    char seen[11] = {0};
    for (int i = 0; i < 3; i++) {
        r = th_cmd(rc, "SPOP p");
        ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
        int v = atoi(r->str);
        ck_assert_msg(v >= 1 && v <= 10 && !seen[v], "SPOP gave %s", r->str);
        seen[v] = 1;
        freeReplyObject(r);
    }
    r = th_cmd(rc, "SPOP p 4");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 4);
    for (size_t i = 0; i < 4; i++) {
        int v = atoi(r->element[i]->str);
        ck_assert_msg(v >= 1 && v <= 10 && !seen[v], "SPOP 4 gave %s", r->element[i]->str);
        seen[v] = 1;
    }
    freeReplyObject(r);
    r = th_cmd(rc, "SCARD p");
    ck_assert_int_eq(r->integer, 3);
    freeReplyObject(r);
    r = th_cmd(rc, "SPOP p 10");   // more than there are: all of them
    ck_assert_uint_eq(r->elements, 3);
    for (size_t i = 0; i < 3; i++) {
        int v = atoi(r->element[i]->str);
        ck_assert_msg(v >= 1 && v <= 10 && !seen[v], "SPOP 10 gave %s", r->element[i]->str);
        seen[v] = 1;
    }
    freeReplyObject(r);
    r = th_cmd(rc, "EXISTS p");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(sorted_sets)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c");
    EXPECT(c, ":1\r\n", "ZADD", "z", "2", "a", "0.5", "d");   // a moves; d is new
    EXPECT(c, ":4\r\n", "ZCARD", "z");
    EXPECT(c, ":0\r\n", "ZCARD", "nope");
    // Order: by score, then by member bytes (a and b both score 2).
    EXPECT(c, "*4\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "ZRANGE", "z", "0", "-1");
    EXPECT(c,
           "*8\r\n$1\r\nd\r\n$3\r\n0.5\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n2\r\n"
           "$1\r\nc\r\n$1\r\n3\r\n",
           "ZRANGE", "z", "0", "-1", "WITHSCORES");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "ZRANGE", "z", "-2", "-1");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "5", "10");
    EXPECT(c, "*0\r\n", "ZRANGE", "nope", "0", "-1");
    EXPECT(c, "$3\r\n0.5\r\n", "ZSCORE", "z", "d");
    EXPECT(c, "$-1\r\n", "ZSCORE", "z", "nope");
    EXPECT(c, "$-1\r\n", "ZSCORE", "nope", "a");
    EXPECT(c, ":0\r\n", "ZRANK", "z", "d");
    EXPECT(c, ":3\r\n", "ZRANK", "z", "c");
    EXPECT(c, "$-1\r\n", "ZRANK", "z", "nope");
    EXPECT(c, "$-1\r\n", "ZRANK", "nope", "a");
    EXPECT(c, "$4\r\n3.75\r\n", "ZINCRBY", "z", "3.25", "d");
    EXPECT(c, "$1\r\n5\r\n", "ZINCRBY", "fresh", "5", "m");
    EXPECT(c, "$2\r\n-1\r\n", "ZINCRBY", "fresh", "-6", "m");
    EXPECT(c, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "ZRANGE", "z", "0", "-1");
    // Scores: integers, negative, exponent, infinities, and the errors.
    EXPECT(c, ":4\r\n", "ZADD", "sc", "-1.5", "m1", "1e3", "m2", "+inf", "m3", "-inf", "m4");
    EXPECT(c, "$4\r\n1000\r\n", "ZSCORE", "sc", "m2");
    EXPECT(c, "$3\r\ninf\r\n", "ZSCORE", "sc", "m3");
    EXPECT(c, "$4\r\n-inf\r\n", "ZSCORE", "sc", "m4");
    EXPECT(c, "$4\r\n-1.5\r\n", "ZSCORE", "sc", "m1");
    // Redis formats scores with %.17g.
    EXPECT(c, "$19\r\n0.10000000000000001\r\n", "ZINCRBY", "fl", "0.1", "x");
    EXPECT(c, "$19\r\n0.30000000000000004\r\n", "ZINCRBY", "fl", "0.2", "x");
    EXPECT(c, "-ERR value is not a valid float\r\n", "ZADD", "z", "abc", "x");
    EXPECT(c, "-ERR value is not a valid float\r\n", "ZADD", "z", "nan", "x");
    EXPECT(c, "-ERR value is not a valid float\r\n", "ZINCRBY", "z", "x", "a");
    EXPECT(c, "-ERR syntax error\r\n", "ZADD", "z", "1", "a", "2");
    EXPECT(c, "-ERR syntax error\r\n", "ZRANGE", "z", "0", "-1", "BOGUS");
    EXPECT(c, NOTINT, "ZRANGE", "z", "x", "1");
    // ZREM, ZPOPMIN
    EXPECT(c, ":2\r\n", "ZREM", "z", "a", "b", "nope");
    EXPECT(c, ":0\r\n", "ZREM", "nope", "a");
    EXPECT(c, "*2\r\n$1\r\nc\r\n$1\r\n3\r\n", "ZPOPMIN", "z");
    EXPECT(c, "*2\r\n$1\r\nd\r\n$4\r\n3.75\r\n", "ZPOPMIN", "z", "5");
    EXPECT(c, ":0\r\n", "EXISTS", "z");
    EXPECT(c, "*0\r\n", "ZPOPMIN", "z");
    EXPECT(c, "*0\r\n", "ZPOPMIN", "z", "2");
    EXPECT(c, "*4\r\n$2\r\nm4\r\n$4\r\n-inf\r\n$2\r\nm1\r\n$4\r\n-1.5\r\n",
           "ZPOPMIN", "sc", "2");
    EXPECT(c, "+OK\r\n", "SET", "str", "v");
    EXPECT(c, WRONGTYPE, "ZADD", "str", "1", "a");
    EXPECT(c, WRONGTYPE, "ZREM", "str", "a");
    EXPECT(c, WRONGTYPE, "ZSCORE", "str", "a");
    EXPECT(c, WRONGTYPE, "ZCARD", "str");
    EXPECT(c, WRONGTYPE, "ZRANGE", "str", "0", "-1");
    EXPECT(c, WRONGTYPE, "ZRANK", "str", "a");
    EXPECT(c, WRONGTYPE, "ZINCRBY", "str", "1", "a");
    EXPECT(c, WRONGTYPE, "ZPOPMIN", "str");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(lists_more)
{
    START();
    th_conn *c = CONNECT();
    // LTRIM
    EXPECT(c, ":5\r\n", "RPUSH", "l", "a", "b", "c", "d", "e");
    EXPECT(c, "+OK\r\n", "LTRIM", "l", "1", "-2");
    EXPECT(c, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n", "LRANGE", "l", "0", "-1");
    EXPECT(c, "+OK\r\n", "LTRIM", "l", "-100", "100");
    EXPECT(c, ":3\r\n", "LLEN", "l");
    EXPECT(c, "+OK\r\n", "LTRIM", "l", "2", "1");
    EXPECT(c, ":0\r\n", "EXISTS", "l");
    EXPECT(c, "+OK\r\n", "LTRIM", "nope", "0", "1");
    EXPECT(c, NOTINT, "LTRIM", "l", "x", "1");
    // LINSERT
    EXPECT(c, ":3\r\n", "RPUSH", "l", "a", "b", "c");
    EXPECT(c, ":4\r\n", "LINSERT", "l", "BEFORE", "b", "x");
    EXPECT(c, ":5\r\n", "LINSERT", "l", "after", "c", "y");
    EXPECT(c, ":6\r\n", "LINSERT", "l", "BEFORE", "a", "z");
    EXPECT(c, "*6\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\ny\r\n",
           "LRANGE", "l", "0", "-1");
    EXPECT(c, ":-1\r\n", "LINSERT", "l", "BEFORE", "nope", "q");
    EXPECT(c, ":0\r\n", "LINSERT", "nope", "BEFORE", "a", "q");
    EXPECT(c, "-ERR syntax error\r\n", "LINSERT", "l", "MIDDLE", "a", "q");
    // LPOS
    EXPECT(c, "+OK\r\n", "LTRIM", "l", "1", "0");
    EXPECT(c, ":8\r\n", "RPUSH", "p", "a", "b", "c", "1", "2", "3", "c", "c");
    EXPECT(c, ":2\r\n", "LPOS", "p", "c");
    EXPECT(c, "$-1\r\n", "LPOS", "p", "zz");
    EXPECT(c, ":6\r\n", "LPOS", "p", "c", "RANK", "2");
    EXPECT(c, ":7\r\n", "LPOS", "p", "c", "RANK", "-1");
    EXPECT(c, ":6\r\n", "LPOS", "p", "c", "RANK", "-2");
    EXPECT(c, "*2\r\n:2\r\n:6\r\n", "LPOS", "p", "c", "COUNT", "2");
    EXPECT(c, "*3\r\n:2\r\n:6\r\n:7\r\n", "LPOS", "p", "c", "COUNT", "0");
    EXPECT(c, "*2\r\n:7\r\n:6\r\n", "LPOS", "p", "c", "RANK", "-1", "COUNT", "2");
    EXPECT(c, "*1\r\n:2\r\n", "LPOS", "p", "c", "COUNT", "0", "MAXLEN", "6");
    EXPECT(c, "$-1\r\n", "LPOS", "p", "c", "MAXLEN", "2");
    EXPECT(c, "*0\r\n", "LPOS", "p", "zz", "COUNT", "0");
    EXPECT(c, "*0\r\n", "LPOS", "nope", "a", "COUNT", "1");
    EXPECT(c, "$-1\r\n", "LPOS", "nope", "a");
    EXPECT(c,
           "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
           "or use negative to start from the end of the list\r\n",
           "LPOS", "p", "c", "RANK", "0");
    EXPECT(c, "-ERR COUNT can't be negative\r\n", "LPOS", "p", "c", "COUNT", "-1");
    EXPECT(c, "-ERR MAXLEN can't be negative\r\n", "LPOS", "p", "c", "MAXLEN", "-1");
    EXPECT(c, "-ERR syntax error\r\n", "LPOS", "p", "c", "BOGUS", "1");
    EXPECT(c, "-ERR syntax error\r\n", "LPOS", "p", "c", "RANK");
    EXPECT(c, NOTINT, "LPOS", "p", "c", "RANK", "x");
    // LMOVE, RPOPLPUSH (hash tags: one slot)
    EXPECT(c, ":3\r\n", "RPUSH", "{t}a", "1", "2", "3");
    EXPECT(c, "$1\r\n1\r\n", "LMOVE", "{t}a", "{t}b", "LEFT", "RIGHT");
    EXPECT(c, "$1\r\n3\r\n", "LMOVE", "{t}a", "{t}b", "right", "left");
    EXPECT(c, "*2\r\n$1\r\n3\r\n$1\r\n1\r\n", "LRANGE", "{t}b", "0", "-1");
    EXPECT(c, "$1\r\n2\r\n", "RPOPLPUSH", "{t}a", "{t}b");
    EXPECT(c, ":0\r\n", "EXISTS", "{t}a");
    EXPECT(c, "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n1\r\n", "LRANGE", "{t}b", "0", "-1");
    EXPECT(c, "$1\r\n1\r\n", "RPOPLPUSH", "{t}b", "{t}b");   // rotate
    EXPECT(c, "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n", "LRANGE", "{t}b", "0", "-1");
    EXPECT(c, "$-1\r\n", "LMOVE", "{t}a", "{t}b", "LEFT", "LEFT");
    EXPECT(c, "$-1\r\n", "RPOPLPUSH", "{t}a", "{t}b");
    EXPECT(c, "-ERR syntax error\r\n", "LMOVE", "{t}b", "{t}a", "UP", "LEFT");
    EXPECT(c, "+OK\r\n", "SET", "{t}s", "v");
    EXPECT(c, WRONGTYPE, "LMOVE", "{t}b", "{t}s", "LEFT", "LEFT");
    EXPECT(c, WRONGTYPE, "RPOPLPUSH", "{t}s", "{t}b");
    EXPECT(c, ":3\r\n", "LLEN", "{t}b");
    // LPUSHX, RPUSHX
    EXPECT(c, ":0\r\n", "LPUSHX", "nope", "a");
    EXPECT(c, ":0\r\n", "EXISTS", "nope");
    EXPECT(c, ":5\r\n", "RPUSHX", "{t}b", "4", "5");
    EXPECT(c, ":6\r\n", "LPUSHX", "{t}b", "0");
    EXPECT(c, "*6\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n",
           "LRANGE", "{t}b", "0", "-1");
    EXPECT(c, WRONGTYPE, "LPUSHX", "{t}s", "a");
    EXPECT(c, WRONGTYPE, "LTRIM", "{t}s", "0", "1");
    EXPECT(c, WRONGTYPE, "LINSERT", "{t}s", "BEFORE", "a", "b");
    EXPECT(c, WRONGTYPE, "LPOS", "{t}s", "a");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(sets_more)
{
    START();
    th_conn *c = CONNECT();
    redisContext *rc = RCONNECT();
    redisReply *r;
    EXPECT(c, ":4\r\n", "SADD", "{t}a", "a", "b", "c", "d");
    EXPECT(c, ":3\r\n", "SADD", "{t}b", "c", "d", "e");
    EXPECT(c, ":2\r\n", "SADD", "{t}c", "d", "f");
    r = th_cmd(rc, "SINTER {t}a {t}b");
    ck_assert_str_eq(sorted_join(r), "c,d");
    freeReplyObject(r);
    r = th_cmd(rc, "SINTER {t}a {t}b {t}c");
    ck_assert_str_eq(sorted_join(r), "d");
    freeReplyObject(r);
    r = th_cmd(rc, "SUNION {t}a {t}b {t}c {t}none");
    ck_assert_str_eq(sorted_join(r), "a,b,c,d,e,f");
    freeReplyObject(r);
    r = th_cmd(rc, "SDIFF {t}a {t}b {t}none");
    ck_assert_str_eq(sorted_join(r), "a,b");
    freeReplyObject(r);
    EXPECT(c, "*0\r\n", "SINTER", "{t}a", "{t}none");
    EXPECT(c, "*0\r\n", "SDIFF", "{t}none", "{t}a");
    EXPECT(c, ":2\r\n", "SINTERSTORE", "{t}d", "{t}a", "{t}b");
    r = th_cmd(rc, "SMEMBERS {t}d");
    ck_assert_str_eq(sorted_join(r), "c,d");
    freeReplyObject(r);
    EXPECT(c, ":6\r\n", "SUNIONSTORE", "{t}d", "{t}a", "{t}b", "{t}c");
    EXPECT(c, ":6\r\n", "SCARD", "{t}d");
    EXPECT(c, ":1\r\n", "SDIFFSTORE", "{t}d", "{t}b", "{t}a", "{t}c");
    r = th_cmd(rc, "SMEMBERS {t}d");
    ck_assert_str_eq(sorted_join(r), "e");
    freeReplyObject(r);
    EXPECT(c, "+OK\r\n", "SET", "{t}s", "v");
    EXPECT(c, ":2\r\n", "SINTERSTORE", "{t}s", "{t}a", "{t}b");   // overwrites a string
    EXPECT(c, "+set\r\n", "TYPE", "{t}s");
    EXPECT(c, ":0\r\n", "SINTERSTORE", "{t}d", "{t}a", "{t}none");
    EXPECT(c, ":0\r\n", "EXISTS", "{t}d");
    EXPECT(c, "+OK\r\n", "SET", "{t}str", "v");
    EXPECT(c, WRONGTYPE, "SINTER", "{t}a", "{t}str");
    EXPECT(c, WRONGTYPE, "SUNION", "{t}a", "{t}str");
    EXPECT(c, WRONGTYPE, "SDIFF", "{t}a", "{t}str");
    EXPECT(c, WRONGTYPE, "SUNIONSTORE", "{t}d", "{t}a", "{t}str");
    // SINTERCARD
    EXPECT(c, ":2\r\n", "SINTERCARD", "2", "{t}a", "{t}b");
    EXPECT(c, ":1\r\n", "SINTERCARD", "2", "{t}a", "{t}b", "LIMIT", "1");
    EXPECT(c, ":2\r\n", "SINTERCARD", "2", "{t}a", "{t}b", "LIMIT", "0");
    EXPECT(c, ":4\r\n", "SINTERCARD", "1", "{t}a");
    EXPECT(c, ":0\r\n", "SINTERCARD", "2", "{t}a", "{t}none");
    EXPECT(c, "-ERR numkeys should be greater than 0\r\n", "SINTERCARD", "0", "{t}a");
    EXPECT(c, "-ERR numkeys should be greater than 0\r\n", "SINTERCARD", "x", "{t}a");
    EXPECT(c, "-ERR Number of keys can't be greater than number of args\r\n",
           "SINTERCARD", "3", "{t}a", "{t}b");
    EXPECT(c, "-ERR LIMIT can't be negative\r\n", "SINTERCARD", "1", "{t}a", "LIMIT", "-1");
    EXPECT(c, "-ERR syntax error\r\n", "SINTERCARD", "1", "{t}a", "BOGUS", "1");
    EXPECT(c, "-ERR syntax error\r\n", "SINTERCARD", "1", "{t}a", "LIMIT");
    EXPECT(c, WRONGTYPE, "SINTERCARD", "2", "{t}a", "{t}str");
    // SMOVE
    EXPECT(c, ":1\r\n", "SMOVE", "{t}c", "{t}b", "f");
    EXPECT(c, ":1\r\n", "SISMEMBER", "{t}b", "f");
    EXPECT(c, ":0\r\n", "SMOVE", "{t}c", "{t}b", "f");
    EXPECT(c, ":1\r\n", "SMOVE", "{t}c", "{t}new", "d");
    EXPECT(c, ":0\r\n", "EXISTS", "{t}c");
    EXPECT(c, "*1\r\n$1\r\nd\r\n", "SMEMBERS", "{t}new");
    EXPECT(c, ":1\r\n", "SMOVE", "{t}new", "{t}new", "d");
    EXPECT(c, ":0\r\n", "SMOVE", "{t}none", "{t}new", "d");
    EXPECT(c, WRONGTYPE, "SMOVE", "{t}str", "{t}new", "d");
    EXPECT(c, WRONGTYPE, "SMOVE", "{t}new", "{t}str", "d");
    // SMISMEMBER
    EXPECT(c, "*3\r\n:1\r\n:0\r\n:1\r\n", "SMISMEMBER", "{t}a", "a", "x", "d");
    EXPECT(c, "*2\r\n:0\r\n:0\r\n", "SMISMEMBER", "nope", "a", "b");
    EXPECT(c, WRONGTYPE, "SMISMEMBER", "{t}str", "a");
    // SRANDMEMBER
    EXPECT(c, "$-1\r\n", "SRANDMEMBER", "nope");
    EXPECT(c, "*0\r\n", "SRANDMEMBER", "nope", "3");
    EXPECT(c, "*0\r\n", "SRANDMEMBER", "{t}a", "0");
    EXPECT(c, "*1\r\n$1\r\nd\r\n", "SRANDMEMBER", "{t}new", "1");
    EXPECT(c, "$1\r\nd\r\n", "SRANDMEMBER", "{t}new");
    EXPECT(c, "*3\r\n$1\r\nd\r\n$1\r\nd\r\n$1\r\nd\r\n", "SRANDMEMBER", "{t}new", "-3");
    r = th_cmd(rc, "SRANDMEMBER {t}a 10");
    ck_assert_str_eq(sorted_join(r), "a,b,c,d");
    freeReplyObject(r);
    for (int i = 0; i < 20; i++) {
        r = th_cmd(rc, "SRANDMEMBER {t}a 3");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
        const char *j = sorted_join(r);
        REQUIREF(strlen(j) == 5 && j[0] != j[2] && j[2] != j[4], "%s", j);
        freeReplyObject(r);
        r = th_cmd(rc, "SRANDMEMBER {t}a -6");
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 6);
        freeReplyObject(r);
    }
    EXPECT(c, ":4\r\n", "SCARD", "{t}a");
    EXPECT(c, NOTINT, "SRANDMEMBER", "{t}a", "x");
    EXPECT(c, "-ERR syntax error\r\n", "SRANDMEMBER", "{t}a", "1", "2");
    EXPECT(c, WRONGTYPE, "SRANDMEMBER", "{t}str");
    redisFree(rc);
    th_close(c);
    STOP();
}
END_TEST

#define ZS "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"

START_TEST(sorted_sets_ranges)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":5\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
    // ZRANGE by rank, reversed, and the old ZREVRANGE
    EXPECT(c, "*2\r\n$1\r\ne\r\n$1\r\nd\r\n", "ZRANGE", "z", "0", "1", "REV");
    EXPECT(c, "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n", "ZREVRANGE", "z", "0", "1",
           "WITHSCORES");
    EXPECT(c, "-ERR syntax error\r\n", "ZREVRANGE", "z", "0", "1", "REV");
    // by score
    EXPECT(c, ZS, "ZRANGE", "z", "1", "4", "BYSCORE");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "ZRANGE", "z", "(1", "(4", "BYSCORE");
    EXPECT(c, "*2\r\n$1\r\nd\r\n$1\r\nc\r\n", "ZRANGE", "z", "(5", "3", "BYSCORE", "REV");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT",
           "1", "2");
    EXPECT(c, "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n", "ZRANGE", "z", "+inf",
           "-inf", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES");
    EXPECT(c, "*4\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n", "ZRANGE", "z", "-inf", "inf",
           "BYSCORE", "LIMIT", "1", "-1");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "-1", "2");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "10", "2");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "4", "2", "BYSCORE");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "(3", "(3", "BYSCORE");
    EXPECT(c, "*1\r\n$1\r\nc\r\n", "ZRANGE", "z", "3", "3", "BYSCORE");
    EXPECT(c, "*0\r\n", "ZRANGE", "z", "6", "10", "BYSCORE");
    EXPECT(c, "*0\r\n", "ZRANGE", "nope", "0", "1", "BYSCORE");
    EXPECT(c, "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n", "ZRANGEBYSCORE", "z", "2",
           "3", "WITHSCORES");
    EXPECT(c, "*1\r\n$1\r\nc\r\n", "ZRANGEBYSCORE", "z", "2", "3", "LIMIT", "1", "5");
    EXPECT(c, "*2\r\n$1\r\nc\r\n$1\r\nb\r\n", "ZREVRANGEBYSCORE", "z", "3", "2");
    EXPECT(c, "*1\r\n$1\r\nb\r\n", "ZREVRANGEBYSCORE", "z", "(3", "-inf", "LIMIT", "0", "1");
    EXPECT(c, "-ERR syntax error\r\n", "ZRANGEBYSCORE", "z", "2", "3", "BYSCORE");
    EXPECT(c, "-ERR min or max is not a float\r\n", "ZRANGE", "z", "x", "3", "BYSCORE");
    EXPECT(c, "-ERR min or max is not a float\r\n", "ZRANGEBYSCORE", "z", "1", "((3");
    EXPECT(c, "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
              "or BYLEX\r\n", "ZRANGE", "z", "0", "1", "LIMIT", "0", "1");
    EXPECT(c, "-ERR syntax error\r\n", "ZRANGE", "z", "0", "1", "LIMIT", "0");
    EXPECT(c, NOTINT, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1");
    // by member
    EXPECT(c, ":4\r\n", "ZADD", "lx", "0", "a", "0", "b", "0", "c", "0", "d");
    EXPECT(c, ZS, "ZRANGE", "lx", "-", "+", "BYLEX");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\nc\r\n", "ZRANGE", "lx", "(a", "[c", "BYLEX");
    EXPECT(c, "*2\r\n$1\r\nc\r\n$1\r\nb\r\n", "ZRANGE", "lx", "[c", "(a", "BYLEX", "REV");
    EXPECT(c, "*1\r\n$1\r\nc\r\n", "ZRANGEBYLEX", "lx", "[b", "+", "LIMIT", "1", "1");
    EXPECT(c, "*2\r\n$1\r\nd\r\n$1\r\nc\r\n", "ZREVRANGEBYLEX", "lx", "+", "[bb");
    EXPECT(c, "*0\r\n", "ZRANGEBYLEX", "lx", "+", "-");
    EXPECT(c, "*0\r\n", "ZRANGEBYLEX", "lx", "[z", "+");
    EXPECT(c, "-ERR min or max not valid string range item\r\n", "ZRANGEBYLEX", "lx", "a", "+");
    EXPECT(c, "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n",
           "ZRANGE", "lx", "-", "+", "BYLEX", "WITHSCORES");
    // ZCOUNT, ZLEXCOUNT
    EXPECT(c, ":3\r\n", "ZCOUNT", "z", "2", "4");
    EXPECT(c, ":1\r\n", "ZCOUNT", "z", "(2", "(4");
    EXPECT(c, ":5\r\n", "ZCOUNT", "z", "-inf", "+inf");
    EXPECT(c, ":0\r\n", "ZCOUNT", "z", "4", "2");
    EXPECT(c, ":0\r\n", "ZCOUNT", "nope", "0", "1");
    EXPECT(c, "-ERR min or max is not a float\r\n", "ZCOUNT", "z", "a", "1");
    EXPECT(c, ":4\r\n", "ZLEXCOUNT", "lx", "-", "+");
    EXPECT(c, ":2\r\n", "ZLEXCOUNT", "lx", "[b", "(d");
    EXPECT(c, ":0\r\n", "ZLEXCOUNT", "nope", "-", "+");
    EXPECT(c, "-ERR min or max not valid string range item\r\n", "ZLEXCOUNT", "lx", "b", "+");
    // ZREVRANK, ZMSCORE
    EXPECT(c, ":4\r\n", "ZREVRANK", "z", "a");
    EXPECT(c, ":0\r\n", "ZREVRANK", "z", "e");
    EXPECT(c, "$-1\r\n", "ZREVRANK", "z", "nope");
    EXPECT(c, "$-1\r\n", "ZREVRANK", "nope", "a");
    EXPECT(c, "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n5\r\n", "ZMSCORE", "z", "a", "x", "e");
    EXPECT(c, "*2\r\n$-1\r\n$-1\r\n", "ZMSCORE", "nope", "a", "b");
    // ZPOPMAX
    EXPECT(c, "*2\r\n$1\r\ne\r\n$1\r\n5\r\n", "ZPOPMAX", "z");
    EXPECT(c, "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n", "ZPOPMAX", "z", "2");
    EXPECT(c, "*0\r\n", "ZPOPMAX", "nope");
    EXPECT(c, "-ERR value is out of range, must be positive\r\n", "ZPOPMAX", "z", "-1");
    EXPECT(c, "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n", "ZPOPMAX", "z", "10");
    EXPECT(c, ":0\r\n", "EXISTS", "z");
    // ZREMRANGEBYRANK / BYSCORE / BYLEX
    EXPECT(c, ":5\r\n", "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
    EXPECT(c, ":2\r\n", "ZREMRANGEBYRANK", "z", "-2", "-1");
    EXPECT(c, ":0\r\n", "ZREMRANGEBYRANK", "z", "5", "9");
    EXPECT(c, ":1\r\n", "ZREMRANGEBYSCORE", "z", "(1", "2");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nc\r\n", "ZRANGE", "z", "0", "-1");
    EXPECT(c, ":2\r\n", "ZREMRANGEBYSCORE", "z", "-inf", "+inf");
    EXPECT(c, ":0\r\n", "EXISTS", "z");
    EXPECT(c, ":2\r\n", "ZREMRANGEBYLEX", "lx", "(a", "[c");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nd\r\n", "ZRANGE", "lx", "0", "-1");
    EXPECT(c, ":0\r\n", "ZREMRANGEBYLEX", "nope", "-", "+");
    EXPECT(c, NOTINT, "ZREMRANGEBYRANK", "lx", "a", "1");
    EXPECT(c, "-ERR min or max is not a float\r\n", "ZREMRANGEBYSCORE", "lx", "a", "1");
    EXPECT(c, "-ERR min or max not valid string range item\r\n", "ZREMRANGEBYLEX", "lx", "a",
           "+");
    // ZRANDMEMBER
    EXPECT(c, "$-1\r\n", "ZRANDMEMBER", "nope");
    EXPECT(c, "*0\r\n", "ZRANDMEMBER", "nope", "2");
    EXPECT(c, ":1\r\n", "ZADD", "one", "7", "m");
    EXPECT(c, "$1\r\nm\r\n", "ZRANDMEMBER", "one");
    EXPECT(c, "*2\r\n$1\r\nm\r\n$1\r\n7\r\n", "ZRANDMEMBER", "one", "5", "WITHSCORES");
    EXPECT(c, "*4\r\n$1\r\nm\r\n$1\r\n7\r\n$1\r\nm\r\n$1\r\n7\r\n", "ZRANDMEMBER", "one", "-2",
           "WITHSCORES");
    EXPECT(c, "*0\r\n", "ZRANDMEMBER", "one", "0");
    EXPECT(c, "-ERR syntax error\r\n", "ZRANDMEMBER", "one", "1", "BOGUS");
    EXPECT(c, NOTINT, "ZRANDMEMBER", "one", "x");
    EXPECT(c, "+OK\r\n", "SET", "str", "v");
    EXPECT(c, WRONGTYPE, "ZRANGEBYSCORE", "str", "0", "1");
    EXPECT(c, WRONGTYPE, "ZCOUNT", "str", "0", "1");
    EXPECT(c, WRONGTYPE, "ZLEXCOUNT", "str", "-", "+");
    EXPECT(c, WRONGTYPE, "ZREVRANK", "str", "a");
    EXPECT(c, WRONGTYPE, "ZPOPMAX", "str");
    EXPECT(c, WRONGTYPE, "ZMSCORE", "str", "a");
    EXPECT(c, WRONGTYPE, "ZREMRANGEBYRANK", "str", "0", "1");
    EXPECT(c, WRONGTYPE, "ZRANDMEMBER", "str");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(hashes_more)
{
    START();
    th_conn *c = CONNECT();
    redisContext *rc = RCONNECT();
    redisReply *r;
    EXPECT(c, ":1\r\n", "HSETNX", "h", "f", "v");
    EXPECT(c, ":0\r\n", "HSETNX", "h", "f", "w");
    EXPECT(c, "$1\r\nv\r\n", "HGET", "h", "f");
    EXPECT(c, ":1\r\n", "HSTRLEN", "h", "f");
    EXPECT(c, ":0\r\n", "HSTRLEN", "h", "nope");
    EXPECT(c, ":0\r\n", "HSTRLEN", "nope", "f");
    EXPECT(c, "$4\r\n10.5\r\n", "HINCRBYFLOAT", "h", "n", "10.5");
    EXPECT(c, "$4\r\n10.6\r\n", "HINCRBYFLOAT", "h", "n", "0.1");
    EXPECT(c, "$3\r\n5.6\r\n", "HINCRBYFLOAT", "h", "n", "-5");
    EXPECT(c, "$3\r\n300\r\n", "HINCRBYFLOAT", "h", "e", "3e2");
    EXPECT(c, "$1\r\n0\r\n", "HINCRBYFLOAT", "h", "e", "-300");
    EXPECT(c, "$1\r\n3\r\n", "HINCRBYFLOAT", "fresh", "x", "3");
    EXPECT(c, "-ERR hash value is not a float\r\n", "HINCRBYFLOAT", "h", "f", "1");
    EXPECT(c, "-ERR value is not a valid float\r\n", "HINCRBYFLOAT", "h", "n", "x");
    EXPECT(c, "-ERR value is not a valid float\r\n", "HINCRBYFLOAT", "h", "n", " 1");
    EXPECT(c, "-ERR value is NaN or Infinity\r\n", "HINCRBYFLOAT", "h", "n", "inf");
    EXPECT(c, "$3\r\n5.6\r\n", "HGET", "h", "n");
    // HRANDFIELD
    EXPECT(c, "$-1\r\n", "HRANDFIELD", "nope");
    EXPECT(c, "*0\r\n", "HRANDFIELD", "nope", "2");
    EXPECT(c, ":1\r\n", "HSET", "one", "k", "v");
    EXPECT(c, "$1\r\nk\r\n", "HRANDFIELD", "one");
    EXPECT(c, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n", "HRANDFIELD", "one", "3", "WITHVALUES");
    EXPECT(c, "*4\r\n$1\r\nk\r\n$1\r\nv\r\n$1\r\nk\r\n$1\r\nv\r\n", "HRANDFIELD", "one", "-2",
           "WITHVALUES");
    EXPECT(c, "*2\r\n$1\r\nk\r\n$1\r\nk\r\n", "HRANDFIELD", "one", "-2");
    EXPECT(c, "*0\r\n", "HRANDFIELD", "one", "0");
    r = th_cmd(rc, "HRANDFIELD h 10");
    ck_assert_str_eq(sorted_join(r), "e,f,n");
    freeReplyObject(r);
    r = th_cmd(rc, "HRANDFIELD h 2");
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_str_ne(r->element[0]->str, r->element[1]->str);
    freeReplyObject(r);
    EXPECT(c, "-ERR syntax error\r\n", "HRANDFIELD", "one", "1", "BOGUS");
    EXPECT(c, NOTINT, "HRANDFIELD", "one", "x");
    EXPECT(c, "+OK\r\n", "SET", "str", "v");
    EXPECT(c, WRONGTYPE, "HSETNX", "str", "f", "v");
    EXPECT(c, WRONGTYPE, "HINCRBYFLOAT", "str", "f", "1");
    EXPECT(c, WRONGTYPE, "HSTRLEN", "str", "f");
    EXPECT(c, WRONGTYPE, "HRANDFIELD", "str");
    redisFree(rc);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(sorted_sets_algebra)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "ZADD", "{z}a", "1", "x", "2", "y", "3", "z");
    EXPECT(c, ":2\r\n", "ZADD", "{z}b", "10", "y", "20", "w");
    EXPECT(c, ":2\r\n", "SADD", "{z}s", "x", "w");
    EXPECT(c, ":4\r\n", "ZUNIONSTORE", "{z}d", "2", "{z}a", "{z}b");
    EXPECT(c, "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\ny\r\n$2\r\n12\r\n"
              "$1\r\nw\r\n$2\r\n20\r\n", "ZRANGE", "{z}d", "0", "-1", "WITHSCORES");
    EXPECT(c, "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n6\r\n$1\r\ny\r\n$2\r\n14\r\n"
              "$1\r\nw\r\n$2\r\n20\r\n",
           "ZUNION", "2", "{z}a", "{z}b", "WEIGHTS", "2", "1", "WITHSCORES");
    EXPECT(c, "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"
              "$1\r\nw\r\n$2\r\n20\r\n",
           "ZUNION", "2", "{z}a", "{z}b", "AGGREGATE", "MIN", "WITHSCORES");
    EXPECT(c, "*4\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\nw\r\n$2\r\n21\r\n",
           "ZINTER", "2", "{z}s", "{z}d", "WITHSCORES");
    EXPECT(c, ":1\r\n", "ZINTERSTORE", "{z}d", "2", "{z}a", "{z}b", "AGGREGATE", "MAX");
    EXPECT(c, "*2\r\n$1\r\ny\r\n$2\r\n10\r\n", "ZRANGE", "{z}d", "0", "-1", "WITHSCORES");
    EXPECT(c, "*2\r\n$1\r\nx\r\n$1\r\nz\r\n", "ZDIFF", "2", "{z}a", "{z}b");
    EXPECT(c, "*2\r\n$1\r\nz\r\n$1\r\n3\r\n", "ZDIFF", "3", "{z}a", "{z}b", "{z}s",
           "WITHSCORES");
    EXPECT(c, ":3\r\n", "ZDIFFSTORE", "{z}d", "2", "{z}a", "{z}none");
    EXPECT(c, "*2\r\n$1\r\nx\r\n$1\r\ny\r\n", "ZRANGE", "{z}d", "0", "1");
    EXPECT(c, ":0\r\n", "ZINTERSTORE", "{z}d", "2", "{z}a", "{z}none");
    EXPECT(c, ":0\r\n", "EXISTS", "{z}d");
    EXPECT(c, "*0\r\n", "ZUNION", "1", "{z}none");
    // weights times infinity, infinities summed
    EXPECT(c, ":1\r\n", "ZADD", "{z}i", "inf", "x");
    EXPECT(c, ":1\r\n", "ZADD", "{z}j", "-inf", "x");
    EXPECT(c, "*2\r\n$1\r\nx\r\n$1\r\n0\r\n", "ZUNION", "2", "{z}i", "{z}j", "WITHSCORES");
    EXPECT(c, "*2\r\n$1\r\nx\r\n$1\r\n0\r\n", "ZUNION", "1", "{z}i", "WEIGHTS", "0",
           "WITHSCORES");
    // errors
    EXPECT(c, "-ERR at least 1 input key is needed for 'zunionstore' command\r\n",
           "ZUNIONSTORE", "{z}d", "0", "{z}a");
    EXPECT(c, "-ERR at least 1 input key is needed for 'zinter' command\r\n",
           "ZINTER", "0", "{z}a");
    EXPECT(c, NOTINT, "ZUNION", "x", "{z}a");
    EXPECT(c, "-ERR syntax error\r\n", "ZUNIONSTORE", "{z}d", "2", "{z}a");
    EXPECT(c, "-ERR weight value is not a float\r\n", "ZUNIONSTORE", "{z}d", "1", "{z}a",
           "WEIGHTS", "x");
    EXPECT(c, "-ERR syntax error\r\n", "ZUNIONSTORE", "{z}d", "1", "{z}a", "WEIGHTS", "1",
           "2");
    EXPECT(c, "-ERR syntax error\r\n", "ZUNIONSTORE", "{z}d", "1", "{z}a", "AGGREGATE", "foo");
    EXPECT(c, "-ERR syntax error\r\n", "ZUNIONSTORE", "{z}d", "1", "{z}a", "WITHSCORES");
    EXPECT(c, "-ERR syntax error\r\n", "ZDIFFSTORE", "{z}d", "1", "{z}a", "WEIGHTS", "1");
    EXPECT(c, "-ERR syntax error\r\n", "ZDIFF", "1", "{z}a", "AGGREGATE", "SUM");
    // ZINTERCARD: sorted sets and sets, LIMIT, errors
    EXPECT(c, ":1\r\n", "ZINTERCARD", "2", "{z}a", "{z}b");
    EXPECT(c, ":3\r\n", "ZINTERCARD", "1", "{z}a", "LIMIT", "0");
    EXPECT(c, ":2\r\n", "ZINTERCARD", "1", "{z}a", "LIMIT", "2");
    EXPECT(c, ":1\r\n", "ZINTERCARD", "2", "{z}a", "{z}s");
    EXPECT(c, ":0\r\n", "ZINTERCARD", "2", "{z}a", "{z}none");
    EXPECT(c, "-ERR syntax error\r\n", "ZINTERCARD", "1", "{z}a", "{z}a");
    EXPECT(c, "-ERR syntax error\r\n", "ZINTERCARD", "1", "{z}a", "LIMIT");
    EXPECT(c, "-ERR syntax error\r\n", "ZINTERCARD", "3", "{z}a", "{z}b");
    EXPECT(c, "-ERR LIMIT can't be negative\r\n", "ZINTERCARD", "1", "{z}a", "LIMIT", "-1");
    EXPECT(c, "-ERR at least 1 input key is needed for 'zintercard' command\r\n",
           "ZINTERCARD", "0", "{z}a");
    // ZRANGESTORE: ZRANGE's selection stored, an empty one deletes dst
    EXPECT(c, ":3\r\n", "ZRANGESTORE", "{z}r", "{z}a", "0", "-1");
    EXPECT(c, "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n",
           "ZRANGE", "{z}r", "0", "-1", "WITHSCORES");
    EXPECT(c, ":2\r\n", "ZRANGESTORE", "{z}r", "{z}a", "5", "0", "BYSCORE", "REV", "LIMIT",
           "0", "2");
    EXPECT(c, "*2\r\n$1\r\ny\r\n$1\r\nz\r\n", "ZRANGE", "{z}r", "0", "-1");
    EXPECT(c, ":1\r\n", "ZRANGESTORE", "{z}r", "{z}a", "(x", "[y", "BYLEX");
    EXPECT(c, "*1\r\n$1\r\ny\r\n", "ZRANGE", "{z}r", "0", "-1");
    EXPECT(c, ":1\r\n", "ZRANGESTORE", "{z}r", "{z}a", "1", "1", "REV");
    EXPECT(c, "*1\r\n$1\r\ny\r\n", "ZRANGE", "{z}r", "0", "-1");
    EXPECT(c, ":0\r\n", "ZRANGESTORE", "{z}r", "{z}a", "5", "6");
    EXPECT(c, ":0\r\n", "EXISTS", "{z}r");
    EXPECT(c, ":1\r\n", "ZADD", "{z}r", "1", "q");
    EXPECT(c, ":0\r\n", "ZRANGESTORE", "{z}r", "{z}none", "0", "-1");
    EXPECT(c, ":0\r\n", "EXISTS", "{z}r");
    EXPECT(c, ":2\r\n", "ZRANGESTORE", "{z}a", "{z}a", "0", "1");  // dst is src
    EXPECT(c, "*2\r\n$1\r\nx\r\n$1\r\ny\r\n", "ZRANGE", "{z}a", "0", "-1");
    EXPECT(c, ":1\r\n", "ZADD", "{z}a", "3", "z");
    EXPECT(c, "-ERR syntax error\r\n", "ZRANGESTORE", "{z}r", "{z}a", "0", "-1", "WITHSCORES");
    EXPECT(c, "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE "
              "or BYLEX\r\n", "ZRANGESTORE", "{z}r", "{z}a", "0", "-1", "LIMIT", "1", "2");
    EXPECT(c, "-ERR min or max is not a float\r\n", "ZRANGESTORE", "{z}r", "{z}a", "x", "1",
           "BYSCORE");
    // a score written out past 255 characters still parses (DBL_MAX)
    {
        char big[400];
        int n = snprintf(big, sizeof big, "%.17f", 1.7976931348623157e308);
        ck_assert_int_gt(n, 300);
        EXPECT(c, ":1\r\n", "ZADD", "{z}big", big, "m");
        EXPECT(c, "$23\r\n1.7976931348623157e+308\r\n", "ZSCORE", "{z}big", "m");
    }
    EXPECT(c, "+OK\r\n", "SET", "{z}str", "v");
    EXPECT(c, WRONGTYPE, "ZUNIONSTORE", "{z}d", "2", "{z}a", "{z}str");
    EXPECT(c, WRONGTYPE, "ZINTERCARD", "2", "{z}a", "{z}str");
    EXPECT(c, WRONGTYPE, "ZRANGESTORE", "{z}r", "{z}str", "0", "-1");
    EXPECT(c, WRONGTYPE, "ZINTER", "2", "{z}a", "{z}str");
    EXPECT(c, WRONGTYPE, "ZDIFF", "2", "{z}str", "{z}a");
    EXPECT(c, ":3\r\n", "ZUNIONSTORE", "{z}str", "1", "{z}a");   // overwrites a string
    EXPECT(c, "+zset\r\n", "TYPE", "{z}str");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_collections(void)
{
    TCase *tc = tcase_create("collections");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, lists);
    tcase_add_test(tc, hashes);
    tcase_add_test(tc, sets);
    tcase_add_test(tc, sorted_sets);
    tcase_add_test(tc, lists_more);
    tcase_add_test(tc, sets_more);
    tcase_add_test(tc, sorted_sets_ranges);
    tcase_add_test(tc, hashes_more);
    tcase_add_test(tc, sorted_sets_algebra);
    return tc;
}
