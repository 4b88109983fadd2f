/*
 * test_sort.c - SORT and SORT_RO: lists, sets and sorted sets; ASC/DESC,
 * ALPHA, LIMIT, BY (a key pattern, a hash field, nosort), GET (#, keys,
 * hash fields, missing values), STORE, and Redis's errors.  Replies are
 * compared byte for byte with Redis 7.0's.  Every key shares the {s} hash
 * tag, so that BY and GET patterns name keys of the sorted key's slot and
 * the same requests run in the sharded keyspace; there, a pattern without
 * the tag is refused as Redis Cluster refuses it.
 */
#include "harness.h"

#include <string.h>

static bool sharded(void)
{
    for (int a = 0; a + 1 < th_cfg.nargs; a++) {
        if (strcmp(th_cfg.args[a], "--keyspace") == 0 &&
            strcmp(th_cfg.args[a + 1], "sharded") == 0) {
            return true;
        }
    }
    return false;
}

START_TEST(sort_basic)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":5\r\n", "RPUSH", "{s}l", "3", "10", "1", "2.5", "-4");
    EXPECT(c, "*5\r\n$2\r\n-4\r\n$1\r\n1\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n",
           "SORT", "{s}l");
    EXPECT(c, "*5\r\n$2\r\n10\r\n$1\r\n3\r\n$3\r\n2.5\r\n$1\r\n1\r\n$2\r\n-4\r\n",
           "SORT", "{s}l", "DESC");
    EXPECT(c, "*5\r\n$2\r\n-4\r\n$1\r\n1\r\n$2\r\n10\r\n$3\r\n2.5\r\n$1\r\n3\r\n",
           "SORT", "{s}l", "ALPHA");
    EXPECT(c, "*2\r\n$1\r\n1\r\n$3\r\n2.5\r\n", "SORT", "{s}l", "LIMIT", "1", "2");
    EXPECT(c, "*2\r\n$1\r\n3\r\n$3\r\n2.5\r\n", "SORT", "{s}l", "LIMIT", "1", "2", "DESC");
    EXPECT(c, "*0\r\n", "SORT", "{s}l", "LIMIT", "9", "2");
    EXPECT(c, "*4\r\n$2\r\n10\r\n$1\r\n1\r\n$3\r\n2.5\r\n$2\r\n-4\r\n",
           "SORT", "{s}l", "LIMIT", "1", "-1", "BY", "nosort");
    EXPECT(c, "*5\r\n$2\r\n-4\r\n$3\r\n2.5\r\n$1\r\n1\r\n$2\r\n10\r\n$1\r\n3\r\n",
           "SORT", "{s}l", "BY", "nosort", "DESC");
    EXPECT(c, "*5\r\n$2\r\n-4\r\n$1\r\n1\r\n$3\r\n2.5\r\n$1\r\n3\r\n$2\r\n10\r\n",
           "SORT_RO", "{s}l");
    EXPECT(c, "*0\r\n", "SORT", "{s}missing");
    // Sets and sorted sets sort their members (not a zset's scores).
    EXPECT(c, ":3\r\n", "SADD", "{s}set", "b", "c", "a");
    EXPECT(c, "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", "SORT", "{s}set", "ALPHA");
    EXPECT(c, ":3\r\n", "ZADD", "{s}z", "1", "30", "2", "10", "3", "20");
    EXPECT(c, "*3\r\n$2\r\n10\r\n$2\r\n20\r\n$2\r\n30\r\n", "SORT", "{s}z");
    EXPECT(c, "*3\r\n$2\r\n20\r\n$2\r\n10\r\n$2\r\n30\r\n",
           "SORT", "{s}z", "BY", "nosort", "DESC");
    EXPECT(c, "*2\r\n$2\r\n10\r\n$2\r\n20\r\n", "SORT", "{s}z", "BY", "nosort", "LIMIT", "1", "2");
    // Errors, in Redis's order: options first, then the key's type.
    EXPECT(c, "-ERR One or more scores can't be converted into double\r\n", "SORT", "{s}set");
    EXPECT(c, "-ERR syntax error\r\n", "SORT", "{s}l", "BOGUS");
    EXPECT(c, "-ERR syntax error\r\n", "SORT", "{s}l", "LIMIT", "1");
    EXPECT(c, "-ERR syntax error\r\n", "SORT_RO", "{s}l", "STORE", "{s}d");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "SORT", "{s}l", "LIMIT", "x", "1");
    EXPECT(c, "+OK\r\n", "SET", "{s}str", "x");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "SORT", "{s}str");
    EXPECT(c, "-ERR wrong number of arguments for 'sort' command\r\n", "SORT");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(sort_by_get_store)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":3\r\n", "RPUSH", "{s}l", "a", "b", "c");
    EXPECT(c, "+OK\r\n", "MSET", "{s}w_a", "3", "{s}w_b", "1", "{s}w_c", "2",
           "{s}v_a", "A", "{s}v_c", "C");
    EXPECT(c, ":2\r\n", "HSET", "{s}h_a", "f", "9", "g", "x");
    EXPECT(c, ":1\r\n", "HSET", "{s}h_b", "f", "7");
    EXPECT(c, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n", "SORT", "{s}l", "BY", "{s}w_*");
    EXPECT(c, "*6\r\n$1\r\nb\r\n$-1\r\n$1\r\nc\r\n$1\r\nC\r\n$1\r\na\r\n$1\r\nA\r\n",
           "SORT", "{s}l", "BY", "{s}w_*", "GET", "#", "GET", "{s}v_*");
    // A missing weight is 0; a hash field weight; ties sort by the element.
    EXPECT(c, "*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n", "SORT", "{s}l", "BY", "{s}h_*->f");
    EXPECT(c, "*3\r\n$1\r\nx\r\n$-1\r\n$-1\r\n",
           "SORT", "{s}l", "BY", "nosort", "GET", "{s}h_*->g");
    // "->" with no field name is a plain key.
    EXPECT(c, "*3\r\n$-1\r\n$-1\r\n$-1\r\n", "SORT", "{s}l", "BY", "nosort", "GET", "{s}h_*->");
    EXPECT(c, "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n",
           "SORT", "{s}l", "BY", "{s}v_*", "ALPHA", "DESC");
    EXPECT(c, "-ERR One or more scores can't be converted into double\r\n",
           "SORT", "{s}l", "BY", "{s}v_*");
    // STORE: a list, missing values as empty strings; an empty result
    // deletes the destination; SORT k STORE k reads the old value.
    EXPECT(c, ":6\r\n", "SORT", "{s}l", "BY", "{s}w_*", "GET", "#", "GET", "{s}v_*",
           "STORE", "{s}d");
    EXPECT(c, "*6\r\n$1\r\nb\r\n$0\r\n\r\n$1\r\nc\r\n$1\r\nC\r\n$1\r\na\r\n$1\r\nA\r\n",
           "LRANGE", "{s}d", "0", "-1");
    EXPECT(c, ":0\r\n", "SORT", "{s}none", "STORE", "{s}d");
    EXPECT(c, ":0\r\n", "EXISTS", "{s}d");
    EXPECT(c, ":3\r\n", "SORT", "{s}l", "BY", "{s}w_*", "STORE", "{s}l");
    EXPECT(c, "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n", "LRANGE", "{s}l", "0", "-1");
    // A set sorted with nosort into STORE is sorted ALPHA.
    EXPECT(c, ":3\r\n", "SADD", "{s}set", "z", "x", "y");
    EXPECT(c, ":3\r\n", "SORT", "{s}set", "BY", "nosort", "STORE", "{s}d");
    EXPECT(c, "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n", "LRANGE", "{s}d", "0", "-1");
    if (sharded()) {
        EXPECT(c, "-ERR BY option of SORT denied in Cluster mode when keys formed by the "
                  "pattern may be in different slots.\r\n", "SORT", "{s}l", "BY", "w_*");
        EXPECT(c, "-ERR GET option of SORT denied in Cluster mode when keys formed by the "
                  "pattern may be in different slots.\r\n", "SORT", "{s}l", "GET", "v_*");
        EXPECT(c, "-CROSSSLOT Keys in request don't hash to the same slot\r\n",
               "SORT", "{s}l", "STORE", "elsewhere");
    }
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_sort(void)
{
    TCase *tc = tcase_create("sort");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sort_basic);
    tcase_add_test(tc, sort_by_get_store);
    return tc;
}
