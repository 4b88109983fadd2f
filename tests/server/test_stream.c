/*
 * test_stream.c - the stream type: XADD (explicit, partial "ms-*" IDs,
 * NOMKSTREAM, MAXLEN/MINID exact and approximate), XLEN, XRANGE and
 * XREVRANGE (exclusive bounds, COUNT), XDEL, XTRIM, XSETID, XREAD
 * (several keys, "$", blocking, woken by XADD, timeouts), consumer groups
 * (XGROUP, XREADGROUP new and history, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM, blocked readers told of a destroyed group or deleted
 * stream), XINFO, and the generic commands on a stream (TYPE, OBJECT
 * ENCODING, COPY as a deep copy, RENAME).  Replies are compared byte for
 * byte with Redis 7.0's.
 *
 * IDs are given explicitly (the clock would make replies differ), and no
 * reply that carries an idle time is compared.  Multi-key requests share
 * a {hash tag}, so they also run sharded.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRONGTYPE "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


/* One entry [id, [f, v]] with one-byte field and value, as RESP (len:
 * the ID's length). */
#define E1(len, id, f, v) \
    "*2\r\n$" #len "\r\n" #id "\r\n*2\r\n$1\r\n" f "\r\n$1\r\n" v "\r\n"

START_TEST(add_and_range)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$3\r\n1-1\r\n", "XADD", "s", "1-1", "a", "1");
    EXPECT(c, "$3\r\n1-2\r\n", "XADD", "s", "1-*", "b", "2");
    EXPECT(c, "$3\r\n5-0\r\n", "XADD", "s", "5", "c", "3");
    EXPECT(c, "$3\r\n6-0\r\n", "XADD", "s", "6-*", "d", "4");
    EXPECT(c, ":4\r\n", "XLEN", "s");
    EXPECT(c, ":0\r\n", "XLEN", "nosuch");
    EXPECT(c, "+stream\r\n", "TYPE", "s");
    EXPECT(c, "$6\r\nstream\r\n", "OBJECT", "ENCODING", "s");
    EXPECT(c, "-ERR The ID specified in XADD is equal or smaller than the target stream top "
              "item\r\n", "XADD", "s", "3", "x", "y");
    EXPECT(c, "-ERR The ID specified in XADD is equal or smaller than the target stream top "
              "item\r\n", "XADD", "s", "2-*", "x", "y");
    EXPECT(c, "-ERR The ID specified in XADD must be greater than 0-0\r\n",
           "XADD", "new", "0-0", "x", "y");
    EXPECT(c, ":0\r\n", "EXISTS", "new");
    EXPECT(c, "-ERR Invalid stream ID specified as stream command argument\r\n",
           "XADD", "s", "1-x", "x", "y");
    EXPECT(c, "-ERR wrong number of arguments for 'xadd' command\r\n",
           "XADD", "s", "*", "x", "y", "z");
    EXPECT(c, "$-1\r\n", "XADD", "nosuch", "NOMKSTREAM", "*", "x", "y");
    EXPECT(c, ":0\r\n", "EXISTS", "nosuch");
    EXPECT(c, "*4\r\n" E1(3, 1-1, "a", "1") E1(3, 1-2, "b", "2") E1(3, 5-0, "c", "3") E1(3, 6-0, "d", "4"),
           "XRANGE", "s", "-", "+");
    EXPECT(c, "*2\r\n" E1(3, 6-0, "d", "4") E1(3, 5-0, "c", "3"), "XREVRANGE", "s", "+", "-",
           "COUNT", "2");
    EXPECT(c, "*2\r\n" E1(3, 1-2, "b", "2") E1(3, 5-0, "c", "3"), "XRANGE", "s", "(1-1", "(6-0");
    EXPECT(c, "*1\r\n" E1(3, 5-0, "c", "3"), "XRANGE", "s", "5", "5");
    EXPECT(c, "*0\r\n", "XRANGE", "s", "7", "+");
    EXPECT(c, "*-1\r\n", "XRANGE", "s", "-", "+", "COUNT", "0");
    EXPECT(c, "*0\r\n", "XRANGE", "nosuch", "-", "+");
    EXPECT(c, "-ERR Invalid stream ID specified as stream command argument\r\n",
           "XRANGE", "s", "(-", "+");
    EXPECT(c, "-ERR invalid end ID for the interval\r\n", "XRANGE", "s", "-", "(0-0");
    EXPECT(c, "-ERR syntax error\r\n", "XRANGE", "s", "-", "+", "LIMIT", "1");
    // XDEL, and what the stream remembers of it.
    EXPECT(c, ":2\r\n", "XDEL", "s", "1-2", "5", "9");
    EXPECT(c, "*2\r\n" E1(3, 1-1, "a", "1") E1(3, 6-0, "d", "4"), "XRANGE", "s", "-", "+");
    EXPECT(c, ":0\r\n", "XDEL", "nosuch", "1");
    EXPECT(c, "-ERR Invalid stream ID specified as stream command argument\r\n",
           "XDEL", "s", "1", "+");
    // XSETID.
    EXPECT(c, "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n",
           "XSETID", "s", "2");
    EXPECT(c, "+OK\r\n", "XSETID", "s", "10-5", "ENTRIESADDED", "9");
    EXPECT(c, "-ERR no such key\r\n", "XSETID", "nosuch", "1");
    EXPECT(c, "-ERR syntax error\r\n", "XSETID", "s", "11", "0");
    EXPECT(c, "$4\r\n10-6\r\n", "XADD", "s", "10-*", "e", "5");
    // Wrong types.
    EXPECT(c, "+OK\r\n", "SET", "str", "x");
    EXPECT(c, WRONGTYPE, "XADD", "str", "*", "a", "b");
    EXPECT(c, WRONGTYPE, "XRANGE", "str", "-", "+");
    EXPECT(c, WRONGTYPE, "XLEN", "str");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(trimming)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "stream-node-max-entries", "10");
    for (int i = 1; i <= 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", i);
        const char *const argv[] = {"XADD", "s", id, "f", "v"};
        ck_assert_int_eq(th_send_cmd(c, 5, argv, NULL), 0);
        size_t n;
        free(th_read_reply(c, &n));  // counted by XLEN below
    }
    EXPECT(c, ":100\r\n", "XLEN", "s");
    // '~' removes whole nodes of ten only; '=' (or nothing) exactly.
    EXPECT(c, ":40\r\n", "XTRIM", "s", "MAXLEN", "~", "55");
    EXPECT(c, ":60\r\n", "XLEN", "s");
    EXPECT(c, ":5\r\n", "XTRIM", "s", "MAXLEN", "=", "55");
    EXPECT(c, ":0\r\n", "XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "1");
    // Nodes whose last ID is below 70 go: 46..50 (41..45 went above), 51..60.
    EXPECT(c, ":15\r\n", "XTRIM", "s", "MINID", "~", "70");
    EXPECT(c, ":14\r\n", "XTRIM", "s", "MINID", "75");
    EXPECT(c, "*1\r\n" E1(4, 75-0, "f", "v"), "XRANGE", "s", "-", "75");
    EXPECT(c, "$5\r\n101-0\r\n", "XADD", "s", "MAXLEN", "3", "101", "f", "v");
    EXPECT(c, ":3\r\n", "XLEN", "s");
    EXPECT(c, ":0\r\n", "XTRIM", "nosuch", "MAXLEN", "0");
    EXPECT(c, "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n",
           "XTRIM", "s", "MAXLEN", "1", "LIMIT", "30");
    EXPECT(c, "-ERR syntax error, LIMIT cannot be used without specifying a trimming "
              "strategy\r\n", "XTRIM", "s", "LIMIT", "3");
    EXPECT(c, "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n",
           "XTRIM", "s", "LIMIT", "0");
    EXPECT(c, "-ERR The MAXLEN argument must be >= 0.\r\n", "XTRIM", "s", "MAXLEN", "-1");
    EXPECT(c, "-ERR syntax error, MAXLEN and MINID options at the same time are not "
              "compatible\r\n", "XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "b");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "stream-node-max-entries", "100");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(xread_now)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$3\r\n1-0\r\n", "XADD", "{t}a", "1", "f", "v");
    EXPECT(c, "$3\r\n2-0\r\n", "XADD", "{t}a", "2", "g", "w");
    EXPECT(c, "$3\r\n3-0\r\n", "XADD", "{t}b", "3", "h", "x");
    EXPECT(c, "*2\r\n*2\r\n$4\r\n{t}a\r\n*1\r\n" E1(3, 2-0, "g", "w")
              "*2\r\n$4\r\n{t}b\r\n*1\r\n" E1(3, 3-0, "h", "x"),
           "XREAD", "STREAMS", "{t}a", "{t}b", "1", "0");
    EXPECT(c, "*1\r\n*2\r\n$4\r\n{t}a\r\n*1\r\n" E1(3, 1-0, "f", "v"),
           "XREAD", "COUNT", "1", "STREAMS", "{t}none", "{t}a", "0", "0");
    EXPECT(c, "*-1\r\n", "XREAD", "STREAMS", "{t}a", "{t}b", "$", "$");
    EXPECT(c, "*-1\r\n", "XREAD", "STREAMS", "{t}none", "0");
    EXPECT(c, "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must "
              "be specified.\r\n", "XREAD", "STREAMS", "{t}a", "{t}b", "0");
    EXPECT(c, "-ERR syntax error\r\n", "XREAD", "COUNT", "1", "{t}a", "0");
    EXPECT(c, "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
              "<group> <consumer> option.\r\n", "XREAD", "STREAMS", "{t}a", ">");
    EXPECT(c, "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD "
              "instead.\r\n", "XREAD", "GROUP", "g", "c", "STREAMS", "{t}a", "0");
    EXPECT(c, "-ERR timeout is negative\r\n", "XREAD", "BLOCK", "-1", "STREAMS", "{t}a", "$");
    // With data, BLOCK answers at once; without, it times out.
    EXPECT(c, "*1\r\n*2\r\n$4\r\n{t}b\r\n*1\r\n" E1(3, 3-0, "h", "x"),
           "XREAD", "BLOCK", "0", "STREAMS", "{t}b", "0");
    EXPECT(c, "*-1\r\n", "XREAD", "BLOCK", "50", "STREAMS", "{t}a", "$");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(xread_blocked)
{
    START();
    th_conn *a = CONNECT(), *b = CONNECT(), *p = CONNECT();
    EXPECT(p, "$3\r\n1-0\r\n", "XADD", "{t}s", "1", "old", "x");
    SEND(a, "XREAD", "BLOCK", "0", "STREAMS", "{t}none", "{t}s", "$", "$");
    SEND(b, "XREAD", "BLOCK", "0", "STREAMS", "{t}s", "0-0");  // served at once
    READS(b, "*1\r\n*2\r\n$4\r\n{t}s\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$3\r\nold\r\n$1\r\nx\r\n");
    wait_blocked(p, 1);
    // A key of another type, or an XADD and DEL in one transaction, wake
    // nobody; the next entry does.
    EXPECT(p, "+OK\r\n", "MULTI");
    EXPECT(p, "+QUEUED\r\n", "XADD", "{t}none", "5", "f", "v");
    EXPECT(p, "+QUEUED\r\n", "DEL", "{t}none");
    EXPECT(p, "*2\r\n$3\r\n5-0\r\n:1\r\n", "EXEC");
    EXPECT(p, ":1\r\n", "LPUSH", "{t}none", "x");
    EXPECT(p, ":1\r\n", "DEL", "{t}none");
    th_sleep_ms(50);
    EXPECT(p, ":1\r\n", "EXISTS", "{t}s");
    EXPECT(p, "$3\r\n2-0\r\n", "XADD", "{t}s", "2", "new", "y");
    READS(a, "*1\r\n*2\r\n$4\r\n{t}s\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n");
    // Woken by an XADD inside a transaction, once the EXEC is done (sharded,
    // the EXEC runs at the key's owner).
    SEND(a, "XREAD", "BLOCK", "0", "STREAMS", "{t}s", "$");
    wait_blocked(p, 1);
    EXPECT(p, "+OK\r\n", "MULTI");
    EXPECT(p, "+QUEUED\r\n", "XADD", "{t}s", "3", "in", "z");
    EXPECT(p, "+QUEUED\r\n", "XADD", "{t}s", "MAXLEN", "1", "4", "in", "w");
    EXPECT(p, "*2\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n", "EXEC");
    READS(a, "*1\r\n*2\r\n$4\r\n{t}s\r\n*1\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$2\r\nin\r\n$1\r\nw\r\n");
    // XREAD BLOCK inside MULTI answers as if it timed out.
    EXPECT(p, "+OK\r\n", "MULTI");
    EXPECT(p, "+QUEUED\r\n", "XREAD", "BLOCK", "0", "STREAMS", "{t}s", "$");
    EXPECT(p, "*1\r\n*-1\r\n", "EXEC");
    th_close(a);
    th_close(b);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(groups)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you "
              "may want to use the MKSTREAM option to create an empty stream automatically.\r\n",
           "XGROUP", "CREATE", "s", "g", "$");
    EXPECT(c, "+OK\r\n", "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    EXPECT(c, "-BUSYGROUP Consumer Group name already exists\r\n",
           "XGROUP", "CREATE", "s", "g", "$");
    EXPECT(c, "$3\r\n1-0\r\n", "XADD", "s", "1", "a", "1");
    EXPECT(c, "$3\r\n2-0\r\n", "XADD", "s", "2", "b", "2");
    EXPECT(c, "$3\r\n3-0\r\n", "XADD", "s", "3", "c", "3");
    EXPECT(c, "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n" E1(3, 1-0, "a", "1") E1(3, 2-0, "b", "2"),
           "XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">");
    EXPECT(c, "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" E1(3, 3-0, "c", "3"),
           "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">");
    EXPECT(c, "*-1\r\n", "XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">");
    // History: a consumer's own pending entries after the ID given.
    EXPECT(c, "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" E1(3, 2-0, "b", "2"),
           "XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "1");
    EXPECT(c, "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n",
           "XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0");
    EXPECT(c, "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n"
              "*2\r\n$3\r\nbob\r\n$1\r\n1\r\n", "XPENDING", "s", "g");
    EXPECT(c, "*0\r\n", "XPENDING", "s", "g", "-", "+", "10", "nobody");
    EXPECT(c, ":1\r\n", "XACK", "s", "g", "1", "9");
    EXPECT(c, ":0\r\n", "XACK", "s", "g", "1");
    EXPECT(c, ":0\r\n", "XACK", "s", "nogroup", "2");
    EXPECT(c, "-ERR Invalid stream ID specified as stream command argument\r\n",
           "XACK", "s", "g", "2", "bad");
    EXPECT(c, "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP "
              "option\r\n", "XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">");
    EXPECT(c, "-NOGROUP No such key 's' or consumer group 'nog'\r\n", "XPENDING", "s", "nog");
    EXPECT(c, "-ERR Missing GROUP option for XREADGROUP\r\n",
           "XREADGROUP", "COUNT", "1", "COUNT", "1", "STREAMS", "s", ">");
    // Claims: JUSTID moves without counting a delivery.
    EXPECT(c, "*2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n",
           "XCLAIM", "s", "g", "carol", "0", "2", "3", "4", "JUSTID");
    EXPECT(c, "*4\r\n:2\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$5\r\ncarol\r\n$1\r\n2\r\n",
           "XPENDING", "s", "g");
    EXPECT(c, ":1\r\n", "XDEL", "s", "2");
    EXPECT(c, "*3\r\n$3\r\n0-0\r\n*1\r\n" E1(3, 3-0, "c", "3") "*1\r\n$3\r\n2-0\r\n",
           "XAUTOCLAIM", "s", "g", "dave", "0", "0");
    EXPECT(c, "-ERR COUNT must be > 0\r\n", "XAUTOCLAIM", "s", "g", "dave", "0", "0",
           "COUNT", "0");
    EXPECT(c, "-ERR Unrecognized XCLAIM option 'FOO'\r\n",
           "XCLAIM", "s", "g", "dave", "0", "3", "FOO");
    // Consumers.
    EXPECT(c, ":1\r\n", "XGROUP", "CREATECONSUMER", "s", "g", "erin");
    EXPECT(c, ":0\r\n", "XGROUP", "CREATECONSUMER", "s", "g", "erin");
    EXPECT(c, ":1\r\n", "XGROUP", "DELCONSUMER", "s", "g", "dave");
    EXPECT(c, "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", "XPENDING", "s", "g");
    EXPECT(c, "-NOGROUP No such consumer group 'x' for key name 's'\r\n",
           "XGROUP", "CREATECONSUMER", "s", "x", "c");
    // XINFO GROUPS (no clock in it), SETID, DESTROY.  The lag is not known
    // (a tombstone, 2-0, lies after the group's last ID): a null.
    EXPECT(c, "+OK\r\n", "XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0");
    EXPECT(c, "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:4\r\n"
              "$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n"
              "$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n$-1\r\n", "XINFO", "GROUPS", "s");
    EXPECT(c, ":1\r\n", "XGROUP", "DESTROY", "s", "g");
    EXPECT(c, ":0\r\n", "XGROUP", "DESTROY", "s", "g");
    EXPECT(c, "*0\r\n", "XINFO", "GROUPS", "s");
    EXPECT(c, "-ERR no such key\r\n", "XINFO", "STREAM", "nosuch");
    EXPECT(c, "-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n", "XGROUP", "FOO");
    EXPECT(c, "-ERR wrong number of arguments for 'xgroup|help' command\r\n",
           "XGROUP", "HELP", "x");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(groups_blocked)
{
    START();
    th_conn *a = CONNECT(), *p = CONNECT();
    EXPECT(p, "+OK\r\n", "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    // Woken by a new entry, which becomes the reader's pending entry.
    SEND(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    wait_blocked(p, 1);
    EXPECT(p, "$3\r\n7-0\r\n", "XADD", "s", "7", "f", "v");
    READS(a, "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n" E1(3, 7-0, "f", "v"));
    EXPECT(p, "*4\r\n:1\r\n$3\r\n7-0\r\n$3\r\n7-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n1\r\n",
           "XPENDING", "s", "g");
    // A destroyed group, then a deleted stream, end the wait with errors.
    SEND(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "XGROUP", "DESTROY", "s", "g");
    READS(a, "-NOGROUP the consumer group this client was blocked on no longer exists\r\n");
    EXPECT(p, "+OK\r\n", "XGROUP", "CREATE", "s", "g", "$");
    SEND(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
    wait_blocked(p, 1);
    EXPECT(p, ":1\r\n", "DEL", "s");
    READS(a, "-UNBLOCKED the stream key no longer exists\r\n");
    // A timeout answers a null array.
    EXPECT(p, "+OK\r\n", "XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    EXPECT(a, "*-1\r\n", "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "30", "STREAMS", "s", ">");
    th_close(a);
    th_close(p);
    STOP();
}
END_TEST

START_TEST(copy_and_rename)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$3\r\n1-0\r\n", "XADD", "{t}s", "1", "a", "1");
    EXPECT(c, "$3\r\n2-0\r\n", "XADD", "{t}s", "2", "b", "2");
    EXPECT(c, "+OK\r\n", "XGROUP", "CREATE", "{t}s", "g", "0");
    EXPECT(c, "*1\r\n*2\r\n$4\r\n{t}s\r\n*2\r\n" E1(3, 1-0, "a", "1") E1(3, 2-0, "b", "2"),
           "XREADGROUP", "GROUP", "g", "c", "STREAMS", "{t}s", ">");
    EXPECT(c, ":1\r\n", "COPY", "{t}s", "{t}d");
    EXPECT(c, "+stream\r\n", "TYPE", "{t}d");
    // The copy is deep: acknowledging, adding or deleting in one leaves
    // the other as it was.
    EXPECT(c, ":2\r\n", "XACK", "{t}d", "g", "1", "2");
    EXPECT(c, "$3\r\n3-0\r\n", "XADD", "{t}d", "3", "c", "3");
    EXPECT(c, ":1\r\n", "XDEL", "{t}s", "1");
    EXPECT(c, "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$1\r\nc\r\n$1\r\n2\r\n",
           "XPENDING", "{t}s", "g");
    EXPECT(c, "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n", "XPENDING", "{t}d", "g");
    EXPECT(c, "*3\r\n" E1(3, 1-0, "a", "1") E1(3, 2-0, "b", "2") E1(3, 3-0, "c", "3"),
           "XRANGE", "{t}d", "-", "+");
    EXPECT(c, ":1\r\n", "DEL", "{t}s");
    EXPECT(c, ":3\r\n", "XLEN", "{t}d");
    EXPECT(c, "+OK\r\n", "RENAME", "{t}d", "{t}r");
    EXPECT(c, "*1\r\n" E1(3, 3-0, "c", "3"), "XRANGE", "{t}r", "3", "+");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_stream(void)
{
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, add_and_range);
    tcase_add_test(tc, trimming);
    tcase_add_test(tc, xread_now);
    tcase_add_test(tc, xread_blocked);
    tcase_add_test(tc, groups);
    tcase_add_test(tc, groups_blocked);
    tcase_add_test(tc, copy_and_rename);
    return tc;
}
