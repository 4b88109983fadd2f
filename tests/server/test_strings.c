/*
 * test_strings.c - string commands: SET (EX PX NX XX GET KEEPTTL) GET GETSET
 * MSET MGET INCR DECR INCRBY DECRBY APPEND STRLEN SETNX, their errors and
 * WRONGTYPE against other kinds, compared byte for byte with Redis 7.0.
 */
#include "harness.h"

#include <string.h>

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
#define NOTINT "-ERR value is not an integer or out of range\r\n"

START_TEST(set_get)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$-1\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "v1");
    EXPECT(c, "$2\r\nv1\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "");
    EXPECT(c, "$0\r\n\r\n", "GET", "k");
    // NX / XX
    EXPECT(c, "$-1\r\n", "SET", "k", "v2", "NX");
    EXPECT(c, "$0\r\n\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "v2", "XX");
    EXPECT(c, "$-1\r\n", "SET", "new", "v", "XX");
    EXPECT(c, "$-1\r\n", "GET", "new");
    EXPECT(c, "+OK\r\n", "SET", "new", "v", "nx");
    // GET option: the old value (nil if none), and WRONGTYPE before writing.
    EXPECT(c, "$2\r\nv2\r\n", "SET", "k", "v3", "GET");
    EXPECT(c, "$-1\r\n", "SET", "fresh", "x", "GET");
    EXPECT(c, "$2\r\nv3\r\n", "SET", "k", "v4", "XX", "GET");
    EXPECT(c, ":1\r\n", "LPUSH", "list", "a");
    EXPECT(c, WRONGTYPE, "SET", "list", "x", "GET");
    EXPECT(c, "+list\r\n", "TYPE", "list");
    // A plain SET replaces a value of any type.
    EXPECT(c, "+OK\r\n", "SET", "list", "now-a-string");
    EXPECT(c, "+string\r\n", "TYPE", "list");
    EXPECT(c, ":1\r\n", "LPUSH", "list2", "a");
    EXPECT(c, WRONGTYPE, "GET", "list2");
    // Syntax and option errors.
    EXPECT(c, "-ERR syntax error\r\n", "SET", "k", "v", "NX", "XX");
    EXPECT(c, "-ERR syntax error\r\n", "SET", "k", "v", "EX", "10", "PX", "100");
    EXPECT(c, "-ERR syntax error\r\n", "SET", "k", "v", "EX");
    EXPECT(c, "-ERR syntax error\r\n", "SET", "k", "v", "BOGUS");
    EXPECT(c, "-ERR syntax error\r\n", "SET", "k", "v", "KEEPTTL", "EX", "10");
    EXPECT(c, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "EX", "0");
    EXPECT(c, "-ERR invalid expire time in 'set' command\r\n", "SET", "k", "v", "PX", "-5");
    EXPECT(c, NOTINT, "SET", "k", "v", "EX", "ten");
    EXPECT(c, "$2\r\nv4\r\n", "GET", "k");   // no failed SET changed it
    // GETSET and SETNX
    EXPECT(c, "$2\r\nv4\r\n", "GETSET", "k", "v5");
    EXPECT(c, "$-1\r\n", "GETSET", "gs", "first");
    EXPECT(c, "$5\r\nfirst\r\n", "GET", "gs");
    EXPECT(c, WRONGTYPE, "GETSET", "list2", "x");
    EXPECT(c, ":0\r\n", "SETNX", "k", "x");
    EXPECT(c, ":1\r\n", "SETNX", "snx", "x");
    EXPECT(c, "$1\r\nx\r\n", "GET", "snx");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(mset_mget)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "MSET", "a", "1", "b", "2", "c", "3");
    EXPECT(c, "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n", "MGET", "a", "b", "nope", "c");
    EXPECT(c, "+OK\r\n", "MSET", "a", "x", "a", "y");   // the last one wins
    EXPECT(c, "$1\r\ny\r\n", "GET", "a");
    // A key of another type reads as nil in MGET, not as an error.
    EXPECT(c, ":1\r\n", "RPUSH", "l", "v");
    EXPECT(c, "*2\r\n$-1\r\n$1\r\ny\r\n", "MGET", "l", "a");
    EXPECT(c, "-ERR wrong number of arguments for 'mget' command\r\n", "MGET");
    EXPECT(c, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(counters)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":1\r\n", "INCR", "n");
    EXPECT(c, ":2\r\n", "INCR", "n");
    EXPECT(c, ":1\r\n", "DECR", "n");
    EXPECT(c, ":-1\r\n", "DECR", "fresh");
    EXPECT(c, ":11\r\n", "INCRBY", "n", "10");
    EXPECT(c, ":-89\r\n", "DECRBY", "n", "100");
    EXPECT(c, ":-89\r\n", "INCRBY", "n", "0");
    EXPECT(c, "$3\r\n-89\r\n", "GET", "n");
    EXPECT(c, "+OK\r\n", "SET", "n", "41");
    EXPECT(c, ":42\r\n", "INCR", "n");
    EXPECT(c, "+OK\r\n", "SET", "big", "9223372036854775806");
    EXPECT(c, ":9223372036854775807\r\n", "INCR", "big");
    EXPECT(c, "-ERR increment or decrement would overflow\r\n", "INCR", "big");
    EXPECT(c, "+OK\r\n", "SET", "small", "-9223372036854775807");
    EXPECT(c, ":-9223372036854775808\r\n", "DECR", "small");
    EXPECT(c, "-ERR increment or decrement would overflow\r\n", "DECR", "small");
    EXPECT(c, "-ERR increment or decrement would overflow\r\n", "INCRBY", "small",
           "-1");
    // Values and increments that are not 64-bit integers.
    EXPECT(c, "+OK\r\n", "SET", "s", "abc");
    EXPECT(c, NOTINT, "INCR", "s");
    EXPECT(c, "+OK\r\n", "SET", "s", " 1");
    EXPECT(c, NOTINT, "INCR", "s");
    EXPECT(c, "+OK\r\n", "SET", "s", "1.5");
    EXPECT(c, NOTINT, "INCR", "s");
    EXPECT(c, "+OK\r\n", "SET", "s", "9223372036854775808");
    EXPECT(c, NOTINT, "INCR", "s");
    EXPECT(c, NOTINT, "INCRBY", "n", "x");
    EXPECT(c, NOTINT, "INCRBY", "n", "1e3");
    EXPECT(c, NOTINT, "DECRBY", "n", "");
    EXPECT(c, "$2\r\n42\r\n", "GET", "n");
    EXPECT(c, ":1\r\n", "LPUSH", "l", "v");
    EXPECT(c, WRONGTYPE, "INCR", "l");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(append_strlen)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":0\r\n", "STRLEN", "k");
    EXPECT(c, ":5\r\n", "APPEND", "k", "hello");
    EXPECT(c, ":11\r\n", "APPEND", "k", " world");
    EXPECT(c, ":11\r\n", "APPEND", "k", "");
    EXPECT(c, "$11\r\nhello world\r\n", "GET", "k");
    EXPECT(c, ":11\r\n", "STRLEN", "k");
    // An integer value appends as its decimal text.
    EXPECT(c, ":7\r\n", "INCRBY", "i", "7");
    EXPECT(c, ":3\r\n", "APPEND", "i", "00");
    EXPECT(c, ":701\r\n", "INCR", "i");
    EXPECT(c, ":3\r\n", "STRLEN", "i");
    EXPECT(c, ":1\r\n", "SADD", "set", "m");
    EXPECT(c, WRONGTYPE, "APPEND", "set", "x");
    EXPECT(c, WRONGTYPE, "STRLEN", "set");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_strings(void)
{
    TCase *tc = tcase_create("strings");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, set_get);
    tcase_add_test(tc, mset_mget);
    tcase_add_test(tc, counters);
    tcase_add_test(tc, append_strlen);
    return tc;
}
