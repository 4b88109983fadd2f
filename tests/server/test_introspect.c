/*
 * test_introspect.c - HSCAN, SSCAN, ZSCAN (MATCH, COUNT, cursors, and the
 * guarantee that a scan returns every element present for its whole run
 * even when the table grows under it), SCAN's TYPE, SLOWLOG (settings,
 * entries, trimming, RESET, errors), COMMAND (COUNT, INFO, GETKEYS,
 * LIST), TIME, LASTSAVE, LOLWUT and MODULE, CONFIG SET (several at once, all or nothing,
 * duplicate and immutable settings, min-replicas-to-write refusing writes)
 * and CONFIG REWRITE (mwrt: the file it started with, round trip), and
 * the latency monitor (LATEST, HISTORY, DOCTOR, RESET of a slow script),
 * MEMORY STATS, DOCTOR, MALLOC-STATS and PURGE.  Fixed replies are compared byte for byte
 * with Redis 7.0's; COMMAND COUNT is checked against the table's size for
 * mwrt only (Redis has more commands).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Scan key with cmd (HSCAN, SSCAN, ZSCAN) to the end, COUNT count,
 * marking seen[i] for each element "m<i>" returned; between calls add
 * grow new elements (to make the table resize mid-scan). */
static void full_scan(redisContext *rc, const char *cmd, const char *key, bool *seen, int n,
                      int grow, int *next_new)
{
    char cursor[32] = "0";
    int rounds = 0;
    do {
        redisReply *r = th_cmd(rc, "%s %s %s COUNT 7", cmd, key, cursor);
        REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "%s reply", cmd);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        redisReply *items = r->element[1];
        size_t step = strcmp(cmd, "SSCAN") == 0 ? 1 : 2;
        for (size_t i = 0; i < items->elements; i += step) {
            int k = atoi(items->element[i]->str + 1);
            if (k >= 0 && k < n) {
                seen[k] = true;
            }
        }
        freeReplyObject(r);
        for (int g = 0; g < grow; g++) {
            int k = (*next_new)++;
            redisReply *a = strcmp(cmd, "HSCAN") == 0 ? th_cmd(rc, "HSET %s n%d v", key, k)
                            : strcmp(cmd, "SSCAN") == 0 ? th_cmd(rc, "SADD %s n%d", key, k)
                            : th_cmd(rc, "ZADD %s %d n%d", key, k, k);
            freeReplyObject(a);
        }
        REQUIRE(++rounds < 100000);
    } while (strcmp(cursor, "0") != 0);
}

START_TEST(collection_scans)
{
    START();
    redisContext *rc = RCONNECT();
    enum { N = 300 };
    const char *cmds[3] = {"HSCAN", "SSCAN", "ZSCAN"};
    const char *keys[3] = {"h", "s", "z"};
    for (int t = 0; t < 3; t++) {
        for (int i = 0; i < N; i++) {
            redisReply *r = t == 0 ? th_cmd(rc, "HSET h m%d v%d", i, i)
                            : t == 1 ? th_cmd(rc, "SADD s m%d", i)
                            : th_cmd(rc, "ZADD z %d m%d", i, i);
            freeReplyObject(r);
        }
        // A scan with the table still, then one while it grows to about
        // eight times its size: every first element is returned.
        for (int grow = 0; grow <= 16; grow += 16) {
            bool seen[N] = {false};
            int next_new = grow * 1000;
            full_scan(rc, cmds[t], keys[t], seen, N, grow, &next_new);
            for (int i = 0; i < N; i++) {
                REQUIREF(seen[i], "%s (grow %d) missed m%d", cmds[t], grow, i);
            }
        }
    }
    redisFree(rc);

    th_conn *c = CONNECT();
    EXPECT(c, ":1\r\n", "DEL", "z");
    EXPECT(c, ":2\r\n", "ZADD", "z", "1.5", "a", "-2", "b");
    EXPECT(c, "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$3\r\n1.5\r\n", "ZSCAN", "z", "0", "MATCH", "a");
    EXPECT(c, "*2\r\n$1\r\n0\r\n*0\r\n", "ZSCAN", "none", "0");
    EXPECT(c, "*2\r\n$1\r\n0\r\n*0\r\n", "SSCAN", "none", "0", "COUNT", "5");
    EXPECT(c, "-ERR invalid cursor\r\n", "HSCAN", "h", "x");
    EXPECT(c, "-ERR invalid cursor\r\n", "SSCAN", "s", " 1");
    EXPECT(c, "-ERR invalid cursor\r\n", "SSCAN", "s", "99999999999999999999");
    EXPECT(c, "-ERR syntax error\r\n", "HSCAN", "h", "0", "COUNT", "0");
    EXPECT(c, "-ERR syntax error\r\n", "HSCAN", "h", "0", "TYPE", "string");
    EXPECT(c, "-ERR syntax error\r\n", "ZSCAN", "z", "0", "MATCH");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "SSCAN", "s", "0", "COUNT", "x");
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "HSCAN", "s", "0");
    EXPECT(c, "-ERR wrong number of arguments for 'sscan' command\r\n", "SSCAN", "s");
    th_close(c);
    STOP();
}
END_TEST

/* The keys a whole SCAN with these options returns, one per line. */
static char *scan_all(redisContext *rc, const char *opts)
{
    static char out[4096];
    char cursor[32] = "0";
    out[0] = '\0';
    do {
        char fmt[128];
        snprintf(fmt, sizeof fmt, "SCAN %s %s", cursor, opts);
        redisReply *r = th_cmd(rc, fmt);
        REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            strncat(out, r->element[1]->element[i]->str, sizeof out - strlen(out) - 2);
            strcat(out, "\n");
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    return out;
}

START_TEST(scan_type)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "str", "v");
    EXPECT(c, ":1\r\n", "RPUSH", "lst", "v");
    EXPECT(c, "-ERR invalid cursor\r\n", "SCAN", "abc");
    EXPECT(c, "-ERR syntax error\r\n", "SCAN", "0", "TYPE");
    th_close(c);
    redisContext *rc = RCONNECT();
    ck_assert_str_eq(scan_all(rc, "TYPE list COUNT 100"), "lst\n");
    ck_assert_str_eq(scan_all(rc, "TYPE string"), "str\n");
    ck_assert_str_eq(scan_all(rc, "TYPE zset"), "");
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(slowlog)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "*2\r\n$23\r\nslowlog-log-slower-than\r\n$5\r\n10000\r\n",
           "CONFIG", "GET", "slowlog-log-slower-than");
    EXPECT(c, "*2\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n", "CONFIG", "GET", "slowlog-max-len");
    EXPECT(c, "+OK\r\n", "SLOWLOG", "RESET");
    EXPECT(c, ":0\r\n", "SLOWLOG", "LEN");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "0");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "slowlog-max-len", "3");
    for (int i = 0; i < 10; i++) {
        EXPECT(c, "+PONG\r\n", "PING");
    }
    EXPECT(c, ":3\r\n", "SLOWLOG", "LEN");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "slowlog-max-len", "128");
    EXPECT(c, "+OK\r\n", "SLOWLOG", "RESET");
    EXPECT(c, "+OK\r\n", "CLIENT", "SETNAME", "slowpoke");
    // 33 arguments: 31 kept and "... (2 more arguments)"; 129 bytes: 128
    // kept and "... (1 more bytes)".
    const char *argv[33];
    char nums[33][8];
    argv[0] = "SADD";
    argv[1] = "set";
    for (int i = 2; i < 33; i++) {
        snprintf(nums[i], sizeof nums[i], "%d", i + 1);
        argv[i] = nums[i];
    }
    size_t len;
    ck_assert_int_eq(th_send_cmd(c, 33, argv, NULL), 0);
    free(th_read_reply(c, &len));
    char big[130];
    memset(big, 'A', 129);
    big[129] = '\0';
    ck_assert_int_eq(th_send_cmd(c, 3, (const char *[]){"SADD", "set", big}, NULL), 0);
    free(th_read_reply(c, &len));
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "slowlog-log-slower-than", "-1");
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "SLOWLOG GET -1");
    // Newest first: SADD big, SADD of 33 arguments, CLIENT SETNAME, and
    // the SLOWLOG RESET that emptied the log (logged after it ran).
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 4);
    redisReply *e = r->element[1];
    REQUIRE(e->elements == 6);
    REQUIRE(e->element[3]->elements == 32);
    ck_assert_str_eq(e->element[3]->element[30]->str, "31");
    ck_assert_str_eq(e->element[3]->element[31]->str, "... (2 more arguments)");
    REQUIRE(e->element[2]->type == REDIS_REPLY_INTEGER && e->element[2]->integer >= 0);
    REQUIRE(r->element[0]->element[0]->integer == e->element[0]->integer + 1);
    redisReply *a = r->element[0]->element[3];
    REQUIRE(a->elements == 3 && a->element[2]->len == 128 + strlen("... (1 more bytes)"));
    REQUIRE(strcmp(a->element[2]->str + 128, "... (1 more bytes)") == 0);
    ck_assert_str_eq(r->element[2]->element[5]->str, "slowpoke");
    ck_assert_str_eq(r->element[3]->element[3]->element[0]->str, "SLOWLOG");
    freeReplyObject(r);
    r = th_cmd(rc, "SLOWLOG GET 1");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    freeReplyObject(r);
    redisFree(rc);
    EXPECT(c, "*0\r\n", "SLOWLOG", "GET", "0");
    EXPECT(c, "-ERR count should be greater than or equal to -1\r\n", "SLOWLOG", "GET", "-2");
    EXPECT(c, "-ERR unknown subcommand 'bogus'. Try SLOWLOG HELP.\r\n", "SLOWLOG", "bogus");
    EXPECT(c, "-ERR wrong number of arguments for 'slowlog|len' command\r\n",
           "SLOWLOG", "LEN", "x");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - "
              "argument must be between 0 and 9223372036854775807 inclusive\r\n",
           "CONFIG", "SET", "slowlog-max-len", "-1");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(command_introspection)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
              "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n"
              "+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
              "$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n"
              "$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n"
              "$5\r\nlimit\r\n:0\r\n*0\r\n",
           "COMMAND", "INFO", "get");
    EXPECT(c, "*2\r\n$-1\r\n$-1\r\n", "COMMAND", "INFO", "nosuch", "get|key");
    EXPECT(c, "*1\r\n$3\r\nkey\r\n", "COMMAND", "GETKEYS", "get", "key");
    EXPECT(c, "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n", "COMMAND", "GETKEYS", "mset", "k1", "v", "k2", "v");
    EXPECT(c, "*3\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nb\r\n",
           "COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "COMMAND", "GETKEYS", "sintercard", "2", "a", "b");
    EXPECT(c, "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n",
           "COMMAND", "GETKEYS", "sort", "k1", "limit", "0", "1", "store", "k2");
    EXPECT(c, "*1\r\n$3\r\nkey\r\n", "COMMAND", "GETKEYS", "memory", "usage", "key");
    EXPECT(c, "*2\r\n*2\r\n$2\r\nk1\r\n*2\r\n+RO\r\n+access\r\n*2\r\n$2\r\nk2\r\n*2\r\n+OW\r\n"
              "+update\r\n",
           "COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2");
    EXPECT(c, "*1\r\n*2\r\n$2\r\nk1\r\n*2\r\n+OW\r\n+update\r\n",
           "COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1");
    EXPECT(c, "*1\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+update\r\n",
           "COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET");
    EXPECT(c, "*2\r\n*2\r\n$2\r\nk1\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n*2\r\n$2\r\nk2\r\n"
              "*2\r\n+RW\r\n+insert\r\n",
           "COMMAND", "GETKEYSANDFLAGS", "lmove", "k1", "k2", "left", "right");
    EXPECT(c, "-ERR Invalid command specified\r\n", "COMMAND", "GETKEYS", "nosuch", "a");
    EXPECT(c, "-ERR The command has no key arguments\r\n", "COMMAND", "GETKEYS", "ping", "x");
    EXPECT(c, "-ERR Invalid number of arguments specified for command\r\n",
           "COMMAND", "GETKEYS", "set", "a");
    EXPECT(c, "-ERR Invalid arguments specified for command\r\n",
           "COMMAND", "GETKEYS", "zunionstore", "d", "2", "a");
    EXPECT(c, "-ERR wrong number of arguments for 'command|getkeys' command\r\n",
           "COMMAND", "GETKEYS", "get");
    EXPECT(c, "*1\r\n$3\r\nset\r\n", "COMMAND", "LIST", "FILTERBY", "PATTERN", "set");
    EXPECT(c, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch");
    EXPECT(c, "*0\r\n", "COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch");
    EXPECT(c, "-ERR syntax error\r\n", "COMMAND", "LIST", "FILTERBY", "bogus", "x");
    EXPECT(c, "-ERR unknown subcommand 'bogus'. Try COMMAND HELP.\r\n", "COMMAND", "bogus");
    th_close(c);

    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "COMMAND COUNT");
    REQUIRE(r->type == REDIS_REPLY_INTEGER);
    long long count = r->integer;
    freeReplyObject(r);
    r = th_cmd(rc, "COMMAND");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && (long long)r->elements == count);
    freeReplyObject(r);
    if (IS_MWRT()) {
        // mwrt's table: COUNT, COMMAND and LIST agree on it.
        r = th_cmd(rc, "COMMAND LIST FILTERBY PATTERN *");
        REQUIRE(r->type == REDIS_REPLY_ARRAY);
        size_t top = 0;
        for (size_t i = 0; i < r->elements; i++) {
            top += strchr(r->element[i]->str, '|') == NULL;
        }
        REQUIRE((long long)top == count);
        freeReplyObject(r);
    }
    // movablekeys, as Redis marks it.
    r = th_cmd(rc, "COMMAND INFO sort zunionstore set");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 3);
    for (size_t i = 0; i < 3; i++) {
        redisReply *flags = r->element[i]->element[2];
        bool movable = false;
        for (size_t f = 0; f < flags->elements; f++) {
            movable |= strcmp(flags->element[f]->str, "movablekeys") == 0;
        }
        REQUIREF(movable == (i < 2), "command %zu", i);
    }
    freeReplyObject(r);
    r = th_cmd(rc, "TIME");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && atoll(r->element[0]->str) > 0);
    freeReplyObject(r);
    r = th_cmd(rc, "LASTSAVE");
    REQUIRE(r->type == REDIS_REPLY_INTEGER && r->integer > 0);
    freeReplyObject(r);
    // LOLWUT: some picture, then a line naming the Redis version.
    const char *lolwut[] = {"LOLWUT", "LOLWUT VERSION 5", "LOLWUT VERSION 6 10 10"};
    for (int i = 0; i < 3; i++) {
        r = th_cmd(rc, lolwut[i]);
        REQUIREF(r->type == REDIS_REPLY_STRING && strstr(r->str, "Redis ver. 7.") != NULL,
                 "%s: type %d", lolwut[i], r->type);
        freeReplyObject(r);
    }
    // MODULE: none loaded, and loading refused as Redis refuses it by default.
    r = th_cmd(rc, "MODULE LIST");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "MODULE LOAD /nonexistent/module.so");
    REQUIRE(r->type == REDIS_REPLY_ERROR &&
            strncmp(r->str, "ERR MODULE command not allowed.", 31) == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "LOLWUT VERSION x");
    REQUIRE(r->type == REDIS_REPLY_ERROR &&
            strcmp(r->str, "ERR value is not an integer or out of range") == 0);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(config_settings)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "slowlog-max-len", "77", "slowlog-log-slower-than", "5");
    // A refused pair changes nothing, not even the pairs before it.
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - "
              "argument must be between 0 and 9223372036854775807 inclusive\r\n",
           "CONFIG", "SET", "slowlog-log-slower-than", "9", "slowlog-max-len", "-3");
    EXPECT(c, "*2\r\n$23\r\nslowlog-log-slower-than\r\n$1\r\n5\r\n",
           "CONFIG", "GET", "slowlog-log-slower-than");
    EXPECT(c, "*2\r\n$15\r\nslowlog-max-len\r\n$2\r\n77\r\n", "CONFIG", "GET", "slowlog-max-len");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - "
              "duplicate parameter\r\n",
           "CONFIG", "SET", "slowlog-max-len", "1", "slowlog-max-len", "2");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'databases') - "
              "can't set immutable config\r\n",
           "CONFIG", "SET", "databases", "3");
    EXPECT(c, "-ERR Unknown option or number of arguments for CONFIG SET - 'no-such-thing'\r\n",
           "CONFIG", "SET", "no-such-thing", "1");
    // An old name is the same setting.
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "hash-max-ziplist-entries", "33");
    EXPECT(c, "*2\r\n$25\r\nhash-max-listpack-entries\r\n$2\r\n33\r\n",
           "CONFIG", "GET", "hash-max-listpack-entries");
    // No replica ever connects: min-replicas-to-write refuses writes only.
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "min-replicas-to-write", "1");
    EXPECT(c, "-NOREPLICAS Not enough good replicas to write.\r\n", "SET", "k", "v");
    EXPECT(c, "$-1\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-NOREPLICAS Not enough good replicas to write.\r\n", "INCR", "n");
    EXPECT(c, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");
    // Set while the transaction was open: EXEC is refused for it.
    th_conn *other = CONNECT();
    EXPECT(other, "+OK\r\n", "CONFIG", "SET", "min-replicas-to-write", "0");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "INCR", "n");
    EXPECT(other, "+OK\r\n", "CONFIG", "SET", "min-replicas-to-write", "2");
    EXPECT(c, "-EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas "
              "to write.\r\n", "EXEC");
    EXPECT(c, "$-1\r\n", "GET", "n");
    th_close(other);
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "min-replicas-to-write", "0");
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    EXPECT(c, "-ERR The server is running without a config file\r\n", "CONFIG", "REWRITE");
    th_close(c);
    STOP();
    if (!IS_MWRT()) {
        return;
    }
    // REWRITE keeps comments and other lines, updates the settings the file
    // names, appends the changed ones it lacks; the server reads it back.
    char path[] = "/tmp/mwrt-config-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    const char text[] = "# kept\nmaxclients 500\nmaxclients 501\ngc-threshold 700,10,10\n";
    REQUIRE(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1));
    close(fd);
    START_WITH("--config", path);
    c = CONNECT();
    EXPECT(c, "*2\r\n$10\r\nmaxclients\r\n$3\r\n501\r\n", "CONFIG", "GET", "maxclients");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxclients", "600", "slowlog-max-len", "9");
    EXPECT(c, "+OK\r\n", "CONFIG", "REWRITE");
    th_close(c);
    STOP();
    FILE *f = fopen(path, "r");
    REQUIRE(f != NULL);
    char got[512];
    size_t n = fread(got, 1, sizeof got - 1, f);
    fclose(f);
    got[n] = '\0';
    ck_assert_str_eq(got, "# kept\nmaxclients 600\ngc-threshold 700,10,10\n# Generated by CONFIG REWRITE\n"
                          "slowlog-max-len 9\n");
    START_WITH("--config", path);
    c = CONNECT();
    EXPECT(c, "*2\r\n$15\r\nslowlog-max-len\r\n$1\r\n9\r\n", "CONFIG", "GET", "slowlog-max-len");
    th_close(c);
    STOP();
    unlink(path);
}
END_TEST

START_TEST(latency_monitor)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "LATENCY RESET");
    REQUIRE(r->type == REDIS_REPLY_INTEGER);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY LATEST");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET latency-monitor-threshold 5");
    REQUIRE(r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    // A script that loops for a while: a slow command on any machine.
    r = th_cmd(rc, "EVAL %s 0", "local i = 0 while i < 30000000 do i = i + 1 end return i");
    REQUIREF(r->type == REDIS_REPLY_INTEGER && r->integer == 30000000, "EVAL: %d", r->type);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY LATEST");
    REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements == 1, "LATEST: %zu events", r->elements);
    redisReply *ev = r->element[0];
    REQUIRE(ev->type == REDIS_REPLY_ARRAY && ev->elements == 4);
    ck_assert_str_eq(ev->element[0]->str, "command");
    REQUIRE(ev->element[1]->integer > 0 && ev->element[2]->integer >= 5 &&
            ev->element[3]->integer >= ev->element[2]->integer);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY HISTORY command");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY DOCTOR");
    REQUIRE(r->type == REDIS_REPLY_STRING);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY GRAPH command");
    REQUIREF(r->type == REDIS_REPLY_STRING && strncmp(r->str, "command - high ", 15) == 0 &&
                 strstr(r->str, "\n----------") != NULL,
             "GRAPH: %s", r->type == REDIS_REPLY_STRING ? r->str : "?");
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY GRAPH nosuch");
    REQUIRE(r->type == REDIS_REPLY_ERROR &&
            strcmp(r->str, "ERR No samples available for event 'nosuch'") == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY RESET command");
    REQUIRE(r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    freeReplyObject(r);
    r = th_cmd(rc, "LATENCY HISTORY command");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET latency-monitor-threshold 0");
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

/* Per-command latency histograms: LATENCY HISTOGRAM's shape (calls, and
 * cumulative counts at doubling microseconds), INFO latencystats'
 * percentiles as configured, latency-tracking off stopping the count,
 * CONFIG RESETSTAT clearing it. */
START_TEST(latency_histogram)
{
    START();
    redisContext *rc = RCONNECT();
    freeReplyObject(th_cmd(rc, "CONFIG RESETSTAT"));
    for (int i = 0; i < 3; i++) {
        freeReplyObject(th_cmd(rc, "SET {h}k v"));
    }
    redisReply *r = th_cmd(rc, "LATENCY HISTOGRAM set nosuchcommand");
    REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "type %d, %zu", r->type,
             r->elements);
    ck_assert_str_eq(r->element[0]->str, "set");
    redisReply *m = r->element[1];
    REQUIRE(m->type == REDIS_REPLY_ARRAY && m->elements == 4);
    ck_assert_str_eq(m->element[0]->str, "calls");
    ck_assert_int_eq(m->element[1]->integer, 3);
    ck_assert_str_eq(m->element[2]->str, "histogram_usec");
    redisReply *h = m->element[3];
    REQUIRE(h->type == REDIS_REPLY_ARRAY && h->elements >= 2 && h->elements % 2 == 0);
    long long last_key = 0, last_count = 0;
    for (size_t i = 0; i < h->elements; i += 2) {
        long long key = h->element[i]->integer, count = h->element[i + 1]->integer;
        REQUIREF(key > last_key && (key & (key - 1)) == 0, "bucket %lld after %lld", key,
                 last_key);
        REQUIREF(count > last_count, "cumulative %lld after %lld", count, last_count);
        last_key = key;
        last_count = count;
    }
    ck_assert_int_eq(last_count, 3);
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET latency-tracking-info-percentiles %s", "50 99.9");
    REQUIRE(r->type == REDIS_REPLY_STATUS);
    freeReplyObject(r);
    r = th_cmd(rc, "INFO latencystats");
    REQUIRE(r->type == REDIS_REPLY_STRING);
    const char *line = strstr(r->str, "latency_percentiles_usec_set:p50=");
    REQUIREF(line != NULL, "no line for SET in %s", r->str);
    REQUIRE(strstr(line, ",p99.9=") != NULL && strstr(line, ",p99.9=") < strchr(line, '\n'));
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG SET latency-tracking-info-percentiles %s", "50 101");
    REQUIRE(r->type == REDIS_REPLY_ERROR &&
            strstr(r->str, "should sit between [0.0,100.0]") != NULL);
    freeReplyObject(r);
    freeReplyObject(th_cmd(rc, "CONFIG SET latency-tracking-info-percentiles %s", "50 99 99.9"));
    // Off: calls are not counted in the histogram.
    freeReplyObject(th_cmd(rc, "CONFIG SET latency-tracking no"));
    freeReplyObject(th_cmd(rc, "SET {h}k v"));
    freeReplyObject(th_cmd(rc, "CONFIG SET latency-tracking yes"));
    r = th_cmd(rc, "LATENCY HISTOGRAM set");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    ck_assert_int_eq(r->element[1]->element[1]->integer, 3);
    freeReplyObject(r);
    freeReplyObject(th_cmd(rc, "CONFIG RESETSTAT"));
    r = th_cmd(rc, "LATENCY HISTOGRAM set");
    REQUIRE(r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(memory_commands)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "SET memkey v");
    freeReplyObject(r);
    r = th_cmd(rc, "MEMORY STATS");
    REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements % 2 == 0, "MEMORY STATS: %d", r->type);
    bool keys = false, peak = false, db0 = false;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str;
        keys |= strcmp(k, "keys.count") == 0 && r->element[i + 1]->integer >= 1;
        peak |= strcmp(k, "peak.allocated") == 0 && r->element[i + 1]->integer > 0;
        db0 |= strcmp(k, "db.0") == 0 && r->element[i + 1]->type == REDIS_REPLY_ARRAY;
    }
    REQUIRE(keys && peak && db0);
    freeReplyObject(r);
    r = th_cmd(rc, "MEMORY DOCTOR");
    REQUIRE(r->type == REDIS_REPLY_STRING && strstr(r->str, "Sam") != NULL);
    freeReplyObject(r);
    r = th_cmd(rc, "MEMORY MALLOC-STATS");
    REQUIRE(r->type == REDIS_REPLY_STRING && r->len > 0);
    freeReplyObject(r);
    r = th_cmd(rc, "MEMORY PURGE");
    REQUIRE(r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0);
    freeReplyObject(r);
    r = th_cmd(rc, "MEMORY STATS extra");
    REQUIRE(r->type == REDIS_REPLY_ERROR &&
            strcmp(r->str, "ERR wrong number of arguments for 'memory|stats' command") == 0);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_introspect(void)
{
    TCase *tc = tcase_create("introspect");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, collection_scans);
    tcase_add_test(tc, scan_type);
    tcase_add_test(tc, slowlog);
    tcase_add_test(tc, command_introspection);
    tcase_add_test(tc, config_settings);
    tcase_add_test(tc, latency_monitor);
    tcase_add_test(tc, latency_histogram);
    tcase_add_test(tc, memory_commands);
    return tc;
}
