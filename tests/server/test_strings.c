/*
 * test_strings.c - string commands: SET (EX PX NX XX GET KEEPTTL) GET GETSET
 * MSET MGET INCR DECR INCRBY DECRBY APPEND STRLEN SETNX SETEX PSETEX GETEX
 * GETDEL MSETNX INCRBYFLOAT GETRANGE SUBSTR SETRANGE LCS, the bitmap commands
 * (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) and HyperLogLog (PFADD PFCOUNT
 * PFMERGE), their errors and
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

START_TEST(expiring_sets)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SETEX", "k", "100", "v");
    EXPECT(c, ":100\r\n", "TTL", "k");
    EXPECT(c, "$1\r\nv\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "PSETEX", "p", "100000", "w");
    EXPECT(c, ":100\r\n", "TTL", "p");
    EXPECT(c, "-ERR invalid expire time in 'setex' command\r\n", "SETEX", "k", "0", "v");
    EXPECT(c, "-ERR invalid expire time in 'psetex' command\r\n", "PSETEX", "k", "-1", "v");
    EXPECT(c, NOTINT, "SETEX", "k", "x", "v");
    EXPECT(c, "-ERR wrong number of arguments for 'setex' command\r\n", "SETEX", "k", "1");
    // SET's absolute and kept expiries.
    EXPECT(c, "+OK\r\n", "SET", "a", "1", "EXAT", "4102444800");
    EXPECT(c, ":4102444800\r\n", "EXPIRETIME", "a");
    EXPECT(c, "+OK\r\n", "SET", "a", "2", "PXAT", "4102444800000");
    EXPECT(c, ":4102444800000\r\n", "PEXPIRETIME", "a");
    EXPECT(c, "+OK\r\n", "SET", "a", "3", "KEEPTTL");
    EXPECT(c, ":4102444800\r\n", "EXPIRETIME", "a");
    EXPECT(c, "+OK\r\n", "SET", "a", "4");
    EXPECT(c, ":-1\r\n", "EXPIRETIME", "a");
    // GETEX
    EXPECT(c, "$-1\r\n", "GETEX", "none", "EX", "10");
    EXPECT(c, "$1\r\n4\r\n", "GETEX", "a");
    EXPECT(c, ":-1\r\n", "TTL", "a");
    EXPECT(c, "$1\r\n4\r\n", "GETEX", "a", "EX", "50");
    EXPECT(c, ":50\r\n", "TTL", "a");
    EXPECT(c, "$1\r\n4\r\n", "GETEX", "a", "PXAT", "4102444800000");
    EXPECT(c, ":4102444800\r\n", "EXPIRETIME", "a");
    EXPECT(c, "$1\r\n4\r\n", "GETEX", "a", "persist");
    EXPECT(c, ":-1\r\n", "TTL", "a");
    EXPECT(c, "-ERR syntax error\r\n", "GETEX", "a", "EX", "10", "PX", "100");
    EXPECT(c, "-ERR syntax error\r\n", "GETEX", "a", "PERSIST", "EX", "10");
    EXPECT(c, "-ERR syntax error\r\n", "GETEX", "a", "EX");
    EXPECT(c, "-ERR syntax error\r\n", "GETEX", "a", "BOGUS");
    EXPECT(c, "-ERR invalid expire time in 'getex' command\r\n", "GETEX", "a", "EX", "0");
    EXPECT(c, NOTINT, "GETEX", "a", "PX", "soon");
    // An absolute time in the past deletes the key once it is read.
    EXPECT(c, "$1\r\n4\r\n", "GETEX", "a", "EXAT", "1");
    EXPECT(c, ":0\r\n", "EXISTS", "a");
    EXPECT(c, ":1\r\n", "LPUSH", "l", "x");
    EXPECT(c, WRONGTYPE, "GETEX", "l");
    // GETDEL
    EXPECT(c, "+OK\r\n", "SET", "d", "gone");
    EXPECT(c, "$4\r\ngone\r\n", "GETDEL", "d");
    EXPECT(c, "$-1\r\n", "GETDEL", "d");
    EXPECT(c, ":0\r\n", "EXISTS", "d");
    EXPECT(c, WRONGTYPE, "GETDEL", "l");
    EXPECT(c, ":1\r\n", "EXISTS", "l");
    // MSETNX: all keys or none (one slot, for the sharded server).
    EXPECT(c, ":1\r\n", "MSETNX", "{t}a", "1", "{t}b", "2");
    EXPECT(c, ":0\r\n", "MSETNX", "{t}c", "3", "{t}a", "x");
    EXPECT(c, ":0\r\n", "EXISTS", "{t}c");
    EXPECT(c, "$1\r\n1\r\n", "GET", "{t}a");
    EXPECT(c, "-ERR wrong number of arguments for 'msetnx' command\r\n", "MSETNX", "{t}a", "1", "{t}b");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(incrbyfloat)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$4\r\n10.5\r\n", "INCRBYFLOAT", "f", "10.5");
    EXPECT(c, "$4\r\n10.6\r\n", "INCRBYFLOAT", "f", "0.1");
    EXPECT(c, "$3\r\n5.6\r\n", "INCRBYFLOAT", "f", "-5");
    EXPECT(c, "+OK\r\n", "SET", "f", "5.0e3");
    EXPECT(c, "$4\r\n5200\r\n", "INCRBYFLOAT", "f", "2.0e2");
    EXPECT(c, "$1\r\n0\r\n", "INCRBYFLOAT", "f", "-5200");
    EXPECT(c, "+OK\r\n", "SET", "i", "17");
    EXPECT(c, "$4\r\n17.5\r\n", "INCRBYFLOAT", "i", ".5");
    EXPECT(c, ":1\r\n", "EXPIRE", "i", "100");
    EXPECT(c, "$2\r\n18\r\n", "INCRBYFLOAT", "i", "0.5");
    EXPECT(c, ":100\r\n", "TTL", "i");   // the expiry is kept
    EXPECT(c, "-ERR value is not a valid float\r\n", "INCRBYFLOAT", "i", "abc");
    EXPECT(c, "-ERR value is not a valid float\r\n", "INCRBYFLOAT", "i", " 1");
    EXPECT(c, "-ERR value is not a valid float\r\n", "INCRBYFLOAT", "i", "nan");
    EXPECT(c, "+OK\r\n", "SET", "s", "hello");
    EXPECT(c, "-ERR value is not a valid float\r\n", "INCRBYFLOAT", "s", "1");
    EXPECT(c, "-ERR increment would produce NaN or Infinity\r\n", "INCRBYFLOAT", "i", "inf");
    EXPECT(c, "$2\r\n18\r\n", "GET", "i");
    EXPECT(c, ":1\r\n", "SADD", "set", "m");
    EXPECT(c, WRONGTYPE, "INCRBYFLOAT", "set", "1");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(ranges)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "k", "This is a string");
    EXPECT(c, "$4\r\nThis\r\n", "GETRANGE", "k", "0", "3");
    EXPECT(c, "$3\r\ning\r\n", "GETRANGE", "k", "-3", "-1");
    EXPECT(c, "$16\r\nThis is a string\r\n", "GETRANGE", "k", "0", "-1");
    EXPECT(c, "$6\r\nstring\r\n", "GETRANGE", "k", "10", "100");
    EXPECT(c, "$0\r\n\r\n", "GETRANGE", "k", "5", "3");
    EXPECT(c, "$0\r\n\r\n", "GETRANGE", "k", "-1", "-5");
    EXPECT(c, "$1\r\nT\r\n", "GETRANGE", "k", "-100", "-16");
    EXPECT(c, "$0\r\n\r\n", "GETRANGE", "k", "100", "200");
    EXPECT(c, "$2\r\nis\r\n", "SUBSTR", "k", "5", "6");
    EXPECT(c, "$0\r\n\r\n", "GETRANGE", "none", "0", "-1");
    EXPECT(c, NOTINT, "GETRANGE", "k", "a", "1");
    // SETRANGE
    EXPECT(c, "+OK\r\n", "SET", "w", "Hello World");
    EXPECT(c, ":11\r\n", "SETRANGE", "w", "6", "Redis");
    EXPECT(c, "$11\r\nHello Redis\r\n", "GET", "w");
    EXPECT(c, ":11\r\n", "SETRANGE", "w", "0", "");
    EXPECT(c, ":8\r\n", "SETRANGE", "pad", "5", "abc");
    EXPECT(c, "$8\r\n\0\0\0\0\0abc\r\n", "GET", "pad");
    EXPECT(c, ":0\r\n", "SETRANGE", "empty", "3", "");
    EXPECT(c, ":0\r\n", "EXISTS", "empty");
    EXPECT(c, "-ERR offset is out of range\r\n", "SETRANGE", "w", "-1", "x");
    EXPECT(c, NOTINT, "SETRANGE", "w", "x", "x");
    EXPECT(c, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n",
           "SETRANGE", "w", "536870911", "xy");
    EXPECT(c, ":1\r\n", "EXPIRE", "w", "100");
    EXPECT(c, ":11\r\n", "SETRANGE", "w", "0", "J");
    EXPECT(c, ":100\r\n", "TTL", "w");
    EXPECT(c, ":1\r\n", "RPUSH", "l", "x");
    EXPECT(c, WRONGTYPE, "SETRANGE", "l", "0", "x");
    EXPECT(c, WRONGTYPE, "GETRANGE", "l", "0", "1");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(bitfield)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "*1\r\n:0\r\n", "BITFIELD", "bf", "GET", "u8", "0");
    EXPECT(c, "*2\r\n:0\r\n:255\r\n", "BITFIELD", "bf", "SET", "u8", "0", "255", "GET", "u8", "0");
    EXPECT(c, "$1\r\n\xff\r\n", "GET", "bf");
    // Overflow: WRAP (the default), SAT, FAIL (a null, nothing written).
    EXPECT(c, "*2\r\n:127\r\n:-128\r\n", "BITFIELD", "bf", "INCRBY", "i8", "8", "127",
           "INCRBY", "i8", "8", "1");
    EXPECT(c, "*3\r\n:-128\r\n$-1\r\n:-128\r\n", "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY",
           "i8", "8", "-300", "OVERFLOW", "FAIL", "INCRBY", "i8", "8", "-1", "GET", "i8", "8");
    EXPECT(c, "*2\r\n:1\r\n:3\r\n", "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u2", "100",
           "1", "INCRBY", "u2", "100", "7");
    EXPECT(c, "*3\r\n:-36028797018963968\r\n:9223372036854775807\r\n:-9223372036854775808\r\n",
           "BITFIELD", "bf",
           "SET", "i64", "0", "-1", "GET", "u63", "1", "INCRBY", "i64", "0", "-9223372036854775807");
    // #N: the N-th field of the type's width; unsigned SET of a negative wraps.
    EXPECT(c, "*3\r\n:50331648\r\n:9223372036854775803\r\n:0\r\n", "BITFIELD", "bf", "SET", "u63", "#1",
           "-5", "GET", "u63", "#1", "GET", "i5", "#30");
    // A write creates the key, even when FAIL refuses it; growth is zeros.
    EXPECT(c, "*1\r\n$-1\r\n", "BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u2", "0", "9");
    EXPECT(c, "$1\r\n\0\r\n", "GET", "new");
    EXPECT(c, "*1\r\n:0\r\n", "BITFIELD", "new2", "SET", "u1", "17", "1");
    EXPECT(c, "$3\r\n\0\0@\r\n", "GET", "new2");
    EXPECT(c, "*2\r\n:0\r\n:2\r\n", "BITFIELD_RO", "new2", "GET", "u8", "0", "GET", "i16", "3");
    EXPECT(c, "*0\r\n", "BITFIELD", "bf");
    EXPECT(c, "*1\r\n:0\r\n", "BITFIELD_RO", "none", "GET", "i8", "0");
    // Errors.
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
              "supported but i64 is.\r\n", "BITFIELD", "bf", "GET", "u64", "0");
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not "
              "supported but i64 is.\r\n", "BITFIELD", "bf", "GET", "i65", "0");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "BITFIELD", "bf", "GET",
           "u8", "-1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "BITFIELD", "bf", "GET",
           "u8", "#-1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "BITFIELD", "bf", "GET",
           "u8", "4294967296");
    EXPECT(c, "-ERR Invalid OVERFLOW type specified\r\n", "BITFIELD", "bf", "OVERFLOW", "foo");
    EXPECT(c, "-ERR syntax error\r\n", "BITFIELD", "bf", "FOO", "u8", "0");
    EXPECT(c, "-ERR syntax error\r\n", "BITFIELD", "bf", "SET", "u8", "0");
    EXPECT(c, NOTINT, "BITFIELD", "bf", "SET", "u8", "0", "x");
    EXPECT(c, "-ERR BITFIELD_RO only supports the GET subcommand\r\n", "BITFIELD_RO", "bf", "SET",
           "u8", "0", "1");
    EXPECT(c, ":1\r\n", "LPUSH", "l", "a");
    EXPECT(c, WRONGTYPE, "BITFIELD", "l", "GET", "u8", "0");
    EXPECT(c, WRONGTYPE, "BITFIELD_RO", "l", "GET", "u8", "0");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(bitmaps)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":0\r\n", "SETBIT", "b", "7", "1");
    EXPECT(c, ":1\r\n", "SETBIT", "b", "7", "0");
    EXPECT(c, ":0\r\n", "SETBIT", "b", "1", "1");
    EXPECT(c, "$1\r\n@\r\n", "GET", "b");
    EXPECT(c, ":0\r\n", "SETBIT", "b", "23", "1");
    EXPECT(c, "$3\r\n@\0\1\r\n", "GET", "b");
    EXPECT(c, ":1\r\n", "GETBIT", "b", "1");
    EXPECT(c, ":0\r\n", "GETBIT", "b", "0");
    EXPECT(c, ":0\r\n", "GETBIT", "b", "100000");
    EXPECT(c, ":0\r\n", "GETBIT", "none", "3");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "SETBIT", "b", "-1", "1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "SETBIT", "b", "4294967296", "1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range\r\n", "GETBIT", "b", "x");
    EXPECT(c, "-ERR bit is not an integer or out of range\r\n", "SETBIT", "b", "1", "2");
    EXPECT(c, "-ERR bit is not an integer or out of range\r\n", "SETBIT", "b", "1", "-1");
    // BITCOUNT over bytes and bits.
    EXPECT(c, "+OK\r\n", "SET", "s", "foobar");
    EXPECT(c, ":26\r\n", "BITCOUNT", "s");
    EXPECT(c, ":4\r\n", "BITCOUNT", "s", "0", "0");
    EXPECT(c, ":6\r\n", "BITCOUNT", "s", "1", "1");
    EXPECT(c, ":6\r\n", "BITCOUNT", "s", "1", "1", "BYTE");
    EXPECT(c, ":17\r\n", "BITCOUNT", "s", "5", "30", "BIT");
    EXPECT(c, ":0\r\n", "BITCOUNT", "s", "-1", "-1", "bit");
    EXPECT(c, ":1\r\n", "BITCOUNT", "s", "-2", "-2", "bit");
    EXPECT(c, ":7\r\n", "BITCOUNT", "s", "-2", "-1");
    EXPECT(c, ":0\r\n", "BITCOUNT", "s", "3", "1");
    EXPECT(c, ":0\r\n", "BITCOUNT", "none");
    EXPECT(c, "-ERR syntax error\r\n", "BITCOUNT", "s", "0");
    EXPECT(c, "-ERR syntax error\r\n", "BITCOUNT", "s", "0", "1", "WORD");
    EXPECT(c, NOTINT, "BITCOUNT", "s", "a", "1");
    // BITPOS
    EXPECT(c, "+OK\r\n", "SET", "p", "\xff\xf0");
    EXPECT(c, ":12\r\n", "BITPOS", "p", "0");
    EXPECT(c, ":0\r\n", "BITPOS", "p", "1");
    EXPECT(c, ":12\r\n", "BITPOS", "p", "0", "1");
    EXPECT(c, ":-1\r\n", "BITPOS", "p", "0", "2");
    EXPECT(c, ":-1\r\n", "BITPOS", "p", "1", "2");
    EXPECT(c, ":8\r\n", "BITPOS", "p", "1", "1", "-1");
    EXPECT(c, ":12\r\n", "BITPOS", "p", "0", "7", "15", "BIT");
    EXPECT(c, ":-1\r\n", "BITPOS", "p", "1", "12", "15", "BIT");
    EXPECT(c, "+OK\r\n", "SET", "ones", "\xff\xff");
    EXPECT(c, ":16\r\n", "BITPOS", "ones", "0");
    EXPECT(c, ":-1\r\n", "BITPOS", "ones", "0", "0", "-1");
    EXPECT(c, ":0\r\n", "BITPOS", "none", "0");
    EXPECT(c, ":-1\r\n", "BITPOS", "none", "1");
    EXPECT(c, "-ERR The bit argument must be 1 or 0.\r\n", "BITPOS", "p", "2");
    EXPECT(c, "-ERR syntax error\r\n", "BITPOS", "p", "1", "0", "1", "WORD");
    // BITOP, one slot for the sharded server.
    EXPECT(c, "+OK\r\n", "SET", "{b}x", "\xf0\x0f");
    EXPECT(c, "+OK\r\n", "SET", "{b}y", "\x3c");
    EXPECT(c, ":2\r\n", "BITOP", "AND", "{b}d", "{b}x", "{b}y");
    EXPECT(c, "$2\r\n0\0\r\n", "GET", "{b}d");
    EXPECT(c, ":2\r\n", "BITOP", "or", "{b}d", "{b}x", "{b}y");
    EXPECT(c, "$2\r\n\xfc\x0f\r\n", "GET", "{b}d");
    EXPECT(c, ":2\r\n", "BITOP", "XOR", "{b}d", "{b}x", "{b}y", "{b}none");
    EXPECT(c, "$2\r\n\xcc\x0f\r\n", "GET", "{b}d");
    EXPECT(c, ":2\r\n", "BITOP", "NOT", "{b}d", "{b}x");
    EXPECT(c, "$2\r\n\x0f\xf0\r\n", "GET", "{b}d");
    EXPECT(c, ":0\r\n", "BITOP", "AND", "{b}d", "{b}none");
    EXPECT(c, ":0\r\n", "EXISTS", "{b}d");
    EXPECT(c, "-ERR BITOP NOT must be called with a single source key.\r\n",
           "BITOP", "NOT", "{b}d", "{b}x", "{b}y");
    EXPECT(c, "-ERR syntax error\r\n", "BITOP", "NAND", "{b}d", "{b}x");
    EXPECT(c, ":1\r\n", "LPUSH", "{b}l", "x");
    EXPECT(c, WRONGTYPE, "BITOP", "AND", "{b}d", "{b}x", "{b}l");
    EXPECT(c, WRONGTYPE, "SETBIT", "{b}l", "0", "1");
    EXPECT(c, WRONGTYPE, "BITCOUNT", "{b}l");
    th_close(c);
    STOP();
}
END_TEST

/* PFADD key prefix:0 .. prefix:n-1, a hundred elements a call. */
static void pf_fill(redisContext *rc, const char *key, const char *prefix, int n)
{
    for (int i = 0; i < n; i += 100) {
        char names[100][24];
        const char *argv[102] = {"PFADD", key};
        int argc = 2;
        for (int j = i; j < i + 100 && j < n; j++, argc++) {
            snprintf(names[argc - 2], sizeof names[0], "%s:%d", prefix, j);
            argv[argc] = names[argc - 2];
        }
        redisReply *r = redisCommandArgv(rc, argc, argv, NULL);
        REQUIREF(r != NULL && r->type == REDIS_REPLY_INTEGER, "PFADD: reply %p", (void *)r);
        freeReplyObject(r);
    }
}

START_TEST(hyperloglog)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":1\r\n", "PFADD", "{h}a", "x", "y", "z");
    EXPECT(c, ":0\r\n", "PFADD", "{h}a", "x", "y");
    EXPECT(c, ":3\r\n", "PFCOUNT", "{h}a");
    EXPECT(c, ":1\r\n", "PFADD", "{h}e");
    EXPECT(c, ":0\r\n", "PFADD", "{h}e");
    EXPECT(c, ":0\r\n", "PFCOUNT", "{h}e");
    EXPECT(c, ":0\r\n", "PFCOUNT", "{h}none");
    EXPECT(c, "+string\r\n", "TYPE", "{h}a");
    EXPECT(c, ":1\r\n", "PFADD", "{h}b", "z", "w");
    EXPECT(c, ":4\r\n", "PFCOUNT", "{h}a", "{h}b", "{h}none");
    EXPECT(c, "+OK\r\n", "PFMERGE", "{h}m", "{h}a", "{h}b");
    EXPECT(c, ":4\r\n", "PFCOUNT", "{h}m");
    EXPECT(c, "+OK\r\n", "PFMERGE", "{h}m2");
    EXPECT(c, ":0\r\n", "PFCOUNT", "{h}m2");
    EXPECT(c, "+OK\r\n", "SET", "{h}s", "not a hll");
    EXPECT(c, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", "PFADD", "{h}s", "x");
    EXPECT(c, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", "PFCOUNT", "{h}a", "{h}s");
    EXPECT(c, "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n", "PFMERGE", "{h}m", "{h}s");
    EXPECT(c, ":1\r\n", "SADD", "{h}set", "x");
    EXPECT(c, WRONGTYPE, "PFADD", "{h}set", "x");
    EXPECT(c, "-ERR wrong number of arguments for 'pfcount' command\r\n", "PFCOUNT");
    th_close(c);
    // 10000 distinct elements in batches: the estimate within 2%.
    redisContext *rc = RCONNECT();
    pf_fill(rc, "{h}big", "el", 10000);
    redisReply *r = th_cmd(rc, "PFCOUNT {h}big");
    REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer >= 9800 && r->integer <= 10200,
             "PFCOUNT of 10000: %lld", r->integer);
    freeReplyObject(r);
    // Merging with a copy of itself changes nothing; with a disjoint set adds.
    pf_fill(rc, "{h}other", "o", 5000);
    freeReplyObject(th_cmd(rc, "PFMERGE {h}all {h}big {h}other {h}big"));
    r = th_cmd(rc, "PFCOUNT {h}all");
    REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer >= 14700 && r->integer <= 15300,
             "PFCOUNT of 15000: %lld", r->integer);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

/* LCS: the sequence, its length, the matches (last first) with and without
 * their lengths and a minimum, and Redis's errors. */
START_TEST(lcs)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "MSET", "{l}a", "ohmytext", "{l}b", "mynewtext");
    EXPECT(c, "$6\r\nmytext\r\n", "LCS", "{l}a", "{l}b");
    EXPECT(c, ":6\r\n", "LCS", "{l}a", "{l}b", "LEN");
    EXPECT(c, "*4\r\n$7\r\nmatches\r\n*2\r\n"
              "*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n"
              "*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n"
              "$3\r\nlen\r\n:6\r\n",
           "LCS", "{l}a", "{l}b", "IDX");
    EXPECT(c, "*4\r\n$7\r\nmatches\r\n*1\r\n"
              "*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n"
              "$3\r\nlen\r\n:6\r\n",
           "LCS", "{l}a", "{l}b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN");
    EXPECT(c, "$0\r\n\r\n", "LCS", "{l}a", "{l}missing");
    EXPECT(c, ":0\r\n", "LCS", "{l}missing", "{l}a", "LEN");
    EXPECT(c, "-ERR If you want both the length and indexes, please just use IDX.\r\n",
           "LCS", "{l}a", "{l}b", "LEN", "IDX");
    EXPECT(c, "-ERR syntax error\r\n", "LCS", "{l}a", "{l}b", "FOO");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "LCS", "{l}a", "{l}b",
           "MINMATCHLEN", "x");
    EXPECT(c, ":1\r\n", "RPUSH", "{l}list", "x");
    EXPECT(c, "-ERR The specified keys must contain string values\r\n", "LCS", "{l}a",
           "{l}list");
    EXPECT(c, "-ERR wrong number of arguments for 'lcs' command\r\n", "LCS", "{l}a");
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
    tcase_add_test(tc, expiring_sets);
    tcase_add_test(tc, incrbyfloat);
    tcase_add_test(tc, ranges);
    tcase_add_test(tc, bitmaps);
    tcase_add_test(tc, bitfield);
    tcase_add_test(tc, hyperloglog);
    tcase_add_test(tc, lcs);
    return tc;
}
