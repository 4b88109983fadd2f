/*
 * test_generic.c - connection, server and keyspace commands: PING ECHO QUIT
 * SELECT HELLO CLIENT COMMAND CONFIG INFO DBSIZE FLUSHDB FLUSHALL KEYS SCAN
 * TYPE EXISTS DEL UNLINK RENAME RENAMENX COPY TOUCH RANDOMKEY OBJECT, the
 * absolute expiries (EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME), the
 * databases (SELECT, MOVE, SWAPDB, COPY DB, FLUSHDB against FLUSHALL, INFO
 * keyspace per database, WATCH and blocked clients in another database),
 * RESET (inside MULTI, while subscribed) and ROLE, unknown commands and
 * arity errors.  Replies
 * are compared byte for byte with what Redis 7.0 sends, except where they
 * legitimately differ (ids, versions, counts, orders of unordered sets).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#define NOTINT_ERR "-ERR value is not an integer or out of range\r\n"

/* Sort the string elements of an array reply, for unordered results. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Require that an array reply holds exactly the strings of want (any
 * order, no duplicates). */
static void require_members(redisReply *r, const char *const want[], size_t n)
{
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, n);
    char **got = calloc(n + 1, sizeof *got);
    char **exp = calloc(n + 1, sizeof *exp);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(exp);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_STRING);
        got[i] = r->element[i]->str;
        exp[i] = (char *)want[i];
    }
    qsort(got, n, sizeof *got, cmp_str);
    qsort(exp, n, sizeof *exp, cmp_str);
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(got[i], exp[i]);
    }
    free(got);
    free(exp);
}

START_TEST(ping_echo_quit)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+PONG\r\n", "PING");
    EXPECT(c, "+PONG\r\n", "ping");
    EXPECT(c, "$5\r\nhello\r\n", "PING", "hello");
    EXPECT(c, "-ERR wrong number of arguments for 'ping' command\r\n", "PING", "a", "b");
    EXPECT(c, "$11\r\nhello world\r\n", "ECHO", "hello world");
    EXPECT(c, "$0\r\n\r\n", "ECHO", "");
    EXPECT(c, "-ERR wrong number of arguments for 'echo' command\r\n", "ECHO");
    EXPECT(c, "-ERR wrong number of arguments for 'echo' command\r\n", "ECHO", "a", "b");
    EXPECT(c, "+OK\r\n", "QUIT");
    EXPECT_CLOSED(c);
    th_close(c);
    // Binary-safe: NUL and CR LF inside a bulk string.
    c = CONNECT();
    const char *argv[] = {"ECHO", "a\0b\r\nc"};
    size_t lens[] = {4, 6};
    char *d = th_expect(c, "$6\r\na\0b\r\nc\r\n", 12, 2, argv, lens);
    ck_assert_msg(d == NULL, "%s", d);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(select_hello_client)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SELECT", "0");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "SELECT", "x");
    EXPECT(c, "-ERR wrong number of arguments for 'select' command\r\n", "SELECT");
    EXPECT(c, "$-1\r\n", "CLIENT", "GETNAME");
    EXPECT(c, "+OK\r\n", "CLIENT", "SETNAME", "worker-1");
    EXPECT(c, "$8\r\nworker-1\r\n", "CLIENT", "GETNAME");
    EXPECT(c, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
           "CLIENT", "SETNAME", "a b");
    th_close(c);

    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "CLIENT ID");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_gt(r->integer, 0);
    long long id = r->integer;
    freeReplyObject(r);
    r = th_cmd(rc, "CLIENT ID");
    ck_assert_int_eq(r->integer, id);   // the same connection, the same id
    freeReplyObject(r);

    // HELLO 2: a flat array of 7 field/value pairs, proto 2.
    r = th_cmd(rc, "HELLO 2");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 14);
    const char *fields[] = {"server", "version", "proto", "id", "mode", "role", "modules"};
    for (size_t i = 0; i < 7; i++) {
        ck_assert_int_eq(r->element[2 * i]->type, REDIS_REPLY_STRING);
        ck_assert_str_eq(r->element[2 * i]->str, fields[i]);
    }
    ck_assert_int_eq(r->element[5]->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(r->element[5]->integer, 2);
    ck_assert_int_eq(r->element[7]->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(r->element[7]->integer, id);
    freeReplyObject(r);
    r = th_cmd(rc, "HELLO 4");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    ck_assert_str_eq(r->str, "NOPROTO unsupported protocol version");
    freeReplyObject(r);
    redisFree(rc);

    // Another connection has another id.
    rc = RCONNECT();
    r = th_cmd(rc, "CLIENT ID");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_ne(r->integer, id);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(command_config)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "COMMAND COUNT");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_int_gt(r->integer, 50);   // far more than a handful: the table is read
    freeReplyObject(r);
    redisFree(rc);

    // redis-cli asks COMMAND DOCS at start-up for its hints; any well-formed
    // array will do (read raw: Redis's nests deeper than hiredis parses).
    th_conn *c = CONNECT();
    const char *docs[][3] = {{"COMMAND", "DOCS", NULL}, {"COMMAND", "DOCS", "get"}};
    for (int i = 0; i < 2; i++) {
        size_t len;
        ck_assert_int_eq(th_send_cmd(c, docs[i][2] ? 3 : 2, docs[i], NULL), 0);
        char *reply = th_read_reply(c, &len);
        ck_assert_msg(reply != NULL && reply[0] == '*', "COMMAND DOCS: no array reply");
        free(reply);
    }
    // What redis-benchmark asks before it starts.
    EXPECT(c, "*2\r\n$4\r\nsave\r\n$0\r\n\r\n", "CONFIG", "GET", "save");
    EXPECT(c, "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n", "CONFIG", "GET", "appendonly");
    EXPECT(c, "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxmemory", "100000000");
    EXPECT(c, "*2\r\n$9\r\nmaxmemory\r\n$9\r\n100000000\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "maxmemory", "0");
    EXPECT(c, "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", "CONFIG", "GET", "maxclients");
    // Encoding settings are kept and answered (they change nothing in
    // mwrt); the old ziplist names are the same settings.
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "hash-max-ziplist-entries", "64");
    EXPECT(c, "*2\r\n$25\r\nhash-max-listpack-entries\r\n$2\r\n64\r\n", "CONFIG", "GET",
           "hash-max-listpack-entries");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "hash-max-listpack-entries", "128");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "list-max-listpack-size", "-3");
    EXPECT(c, "*2\r\n$22\r\nlist-max-listpack-size\r\n$2\r\n-3\r\n", "CONFIG", "GET",
           "list-max-listpack-size");
    EXPECT(c, "+OK\r\n", "CONFIG", "SET", "list-max-listpack-size", "-2");
    EXPECT(c, "*2\r\n$19\r\nlist-compress-depth\r\n$1\r\n0\r\n", "CONFIG", "GET",
           "list-compress-depth");
    EXPECT(c, "*0\r\n", "CONFIG", "GET", "no-such-setting");
    EXPECT(c, "-ERR wrong number of arguments for 'config|get' command\r\n", "CONFIG", "GET");
    EXPECT(c, "-ERR wrong number of arguments for 'config' command\r\n", "CONFIG");
    th_close(c);
    STOP();
}
END_TEST

/* The value of "field:" in an INFO text, or NULL (static buffer). */
static const char *info_field(const char *info, const char *field)
{
    static char val[256];
    size_t fl = strlen(field);

    for (const char *p = info; p != NULL && *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        size_t ll = eol != NULL ? (size_t)(eol - p) : strlen(p);
        if (ll > fl && strncmp(p, field, fl) == 0 && p[fl] == ':') {
            size_t vl = ll - fl - 1 < sizeof val - 1 ? ll - fl - 1 : sizeof val - 1;
            memcpy(val, p + fl + 1, vl);
            val[vl] = '\0';
            return val;
        }
        p = eol != NULL ? eol + 2 : NULL;
    }
    return NULL;
}

START_TEST(info)
{
    START();
    redisContext *rc = RCONNECT();
    freeReplyObject(th_cmd(rc, "SET a 1"));
    freeReplyObject(th_cmd(rc, "SET b 2"));
    redisReply *r = th_cmd(rc, "INFO");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    const char *sections[] = {"# Server\r\n", "# Clients\r\n", "# Memory\r\n",
                              "# Stats\r\n", "# Keyspace\r\n"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        ck_assert_msg(strstr(r->str, sections[i]) != NULL, "INFO lacks %s", sections[i]);
    }
    // Every line is a "# Section" title, empty, or field:value; CRLF ends
    // every line.
    for (const char *p = r->str; *p != '\0';) {
        const char *eol = strstr(p, "\r\n");
        ck_assert_msg(eol != NULL, "INFO line without CRLF: %.40s", p);
        if (eol != p && p[0] != '#') {
            const char *colon = memchr(p, ':', (size_t)(eol - p));
            ck_assert_msg(colon != NULL && colon != p, "INFO line is not field:value: %.*s",
                          (int)(eol - p), p);
        }
        ck_assert_msg(memchr(p, '\n', (size_t)(eol - p)) == NULL, "bare LF in INFO");
        p = eol + 2;
    }
    const char *v = info_field(r->str, "connected_clients");
    ck_assert_msg(v != NULL && atoi(v) >= 1, "connected_clients: %s", v ? v : "(none)");
    ck_assert_ptr_nonnull(info_field(r->str, "used_memory"));
    ck_assert_ptr_nonnull(info_field(r->str, "total_commands_processed"));
    v = info_field(r->str, "db0");
    ck_assert_msg(v != NULL && strncmp(v, "keys=2,expires=0", 16) == 0, "db0: %s",
                  v ? v : "(none)");
    freeReplyObject(r);

    // One section alone.
    r = th_cmd(rc, "INFO keyspace");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_str_eq(r->str, "# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n");
    freeReplyObject(r);
    freeReplyObject(th_cmd(rc, "FLUSHALL"));
    r = th_cmd(rc, "INFO keyspace");
    ck_assert_str_eq(r->str, "# Keyspace\r\n");
    freeReplyObject(r);
    r = th_cmd(rc, "INFO stats");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_msg(strncmp(r->str, "# Stats\r\n", 9) == 0, "INFO stats: %.40s", r->str);
    ck_assert_ptr_nonnull(info_field(r->str, "keyspace_hits"));
    ck_assert_ptr_nonnull(info_field(r->str, "keyspace_misses"));
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(keyspace)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":0\r\n", "DBSIZE");
    EXPECT(c, "+OK\r\n", "SET", "a", "1");
    EXPECT(c, "+OK\r\n", "SET", "b", "2");
    EXPECT(c, ":2\r\n", "DBSIZE");
    EXPECT(c, ":2\r\n", "EXISTS", "a", "nope", "b");
    EXPECT(c, ":3\r\n", "EXISTS", "a", "a", "a");
    EXPECT(c, "-ERR wrong number of arguments for 'exists' command\r\n", "EXISTS");
    EXPECT(c, ":1\r\n", "DEL", "a", "nope");
    EXPECT(c, ":0\r\n", "DEL", "a");
    EXPECT(c, "-ERR wrong number of arguments for 'del' command\r\n", "DEL");
    EXPECT(c, ":1\r\n", "UNLINK", "b", "b");
    EXPECT(c, ":0\r\n", "DBSIZE");

    // TYPE of each kind.
    EXPECT(c, "+OK\r\n", "SET", "s", "v");
    EXPECT(c, ":1\r\n", "LPUSH", "l", "v");
    EXPECT(c, ":1\r\n", "HSET", "h", "f", "v");
    EXPECT(c, ":1\r\n", "SADD", "S", "v");
    EXPECT(c, ":1\r\n", "ZADD", "z", "1", "v");
    EXPECT(c, "+string\r\n", "TYPE", "s");
    EXPECT(c, "+list\r\n", "TYPE", "l");
    EXPECT(c, "+hash\r\n", "TYPE", "h");
    EXPECT(c, "+set\r\n", "TYPE", "S");
    EXPECT(c, "+zset\r\n", "TYPE", "z");
    EXPECT(c, "+none\r\n", "TYPE", "nope");
    EXPECT(c, ":5\r\n", "DBSIZE");
    EXPECT(c, "+OK\r\n", "FLUSHDB");
    EXPECT(c, ":0\r\n", "DBSIZE");
    EXPECT(c, "+OK\r\n", "SET", "s", "v");
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    EXPECT(c, ":0\r\n", "DBSIZE");
    EXPECT(c, "$-1\r\n", "GET", "s");

    // RENAME moves the value (of any type) and its TTL.  The keys share a
    // hash tag, so they are in one slot (one shard, when sharded).
    EXPECT(c, "-ERR no such key\r\n", "RENAME", "{k}nope", "{k}x");
    EXPECT(c, "+OK\r\n", "SET", "{k}src", "val", "EX", "1000");
    EXPECT(c, "+OK\r\n", "RENAME", "{k}src", "{k}dst");
    EXPECT(c, "$-1\r\n", "GET", "{k}src");
    EXPECT(c, "$3\r\nval\r\n", "GET", "{k}dst");
    EXPECT(c, ":1\r\n", "EXISTS", "{k}dst");
    EXPECT(c, "+OK\r\n", "RENAME", "{k}dst", "{k}dst");
    EXPECT(c, ":3\r\n", "RPUSH", "{k}list", "a", "b", "c");
    EXPECT(c, "+OK\r\n", "RENAME", "{k}list", "{k}dst");   // overwrites a string
    EXPECT(c, "+list\r\n", "TYPE", "{k}dst");
    EXPECT(c, ":-1\r\n", "TTL", "{k}dst");
    EXPECT(c, "-ERR wrong number of arguments for 'rename' command\r\n", "RENAME", "a");
    th_close(c);

    redisContext *rc = RCONNECT();
    freeReplyObject(th_cmd(rc, "SET {m}src v EX 1000"));
    freeReplyObject(th_cmd(rc, "RENAME {m}src {m}moved"));
    redisReply *r = th_cmd(rc, "TTL {m}moved");
    ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
    ck_assert_msg(r->integer > 900 && r->integer <= 1000, "TTL after RENAME: %lld",
                  r->integer);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(keys_scan)
{
    START();
    redisContext *rc = RCONNECT();
    const char *names[] = {"k1", "k2", "k3", "key", "other", "[x]"};
    for (size_t i = 0; i < 6; i++) {
        freeReplyObject(th_cmd(rc, "SET %s v", names[i]));
    }
    redisReply *r = th_cmd(rc, "KEYS *");
    require_members(r, names, 6);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS k?");
    require_members(r, (const char *[]){"k1", "k2", "k3"}, 3);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS k*");
    require_members(r, (const char *[]){"k1", "k2", "k3", "key"}, 4);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS [ko]*");
    require_members(r, (const char *[]){"k1", "k2", "k3", "key", "other"}, 5);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS k[^1]");
    require_members(r, (const char *[]){"k2", "k3"}, 2);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS \\[x\\]");
    require_members(r, (const char *[]){"[x]"}, 1);
    freeReplyObject(r);
    r = th_cmd(rc, "KEYS nomatch*");
    require_members(r, NULL, 0);
    freeReplyObject(r);
    freeReplyObject(th_cmd(rc, "FLUSHALL"));

    // SCAN visits every key that exists throughout the scan at least once.
    enum { N = 300 };
    char seen[N] = {0};
    for (int i = 0; i < N; i++) {
        freeReplyObject(th_cmd(rc, "SET scan:%d %d", i, i));
    }
    char cursor[32] = "0";
    int rounds = 0;
    do {
        r = th_cmd(rc, "SCAN %s COUNT 20", cursor);
        ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
        ck_assert_uint_eq(r->elements, 2);
        ck_assert_int_eq(r->element[0]->type, REDIS_REPLY_STRING);
        ck_assert_int_eq(r->element[1]->type, REDIS_REPLY_ARRAY);
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            int k = -1;
            REQUIREF(sscanf(r->element[1]->element[i]->str, "scan:%d", &k) == 1 && k >= 0
                    && k < N, "(%s)", r->element[1]->element[i]->str);
            seen[k] = 1;
        }
        freeReplyObject(r);
        ck_assert_int_lt(++rounds, 10 * N);   // a cursor that never ends
    } while (strcmp(cursor, "0") != 0);
    for (int i = 0; i < N; i++) {
        REQUIREF(seen[i], "scan:%d never returned", i);
    }
    r = th_cmd(rc, "SCAN 0 MATCH scan:1?? COUNT 1000");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, 2);
    ck_assert_uint_le(r->element[1]->elements, 100);
    for (size_t i = 0; i < r->element[1]->elements; i++) {
        ck_assert_msg(strncmp(r->element[1]->element[i]->str, "scan:1", 6) == 0
                      && strlen(r->element[1]->element[i]->str) == 8, "MATCH gave %s",
                      r->element[1]->element[i]->str);
    }
    freeReplyObject(r);
    redisFree(rc);

    th_conn *c = CONNECT();
    EXPECT(c, "-ERR invalid cursor\r\n", "SCAN", "abc");
    EXPECT(c, "-ERR wrong number of arguments for 'keys' command\r\n", "KEYS");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(unknown_and_arity)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n",
           "FOO", "a", "b");
    EXPECT(c, "-ERR unknown command 'nosuchcommand', with args beginning with: \r\n",
           "nosuchcommand");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command\r\n", "GET");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command\r\n", "get", "a", "b");
    EXPECT(c, "-ERR wrong number of arguments for 'set' command\r\n", "SET", "k");
    EXPECT(c, "-ERR wrong number of arguments for 'lpush' command\r\n", "LPUSH", "k");
    EXPECT(c, "-ERR wrong number of arguments for 'hset' command\r\n", "HSET", "k", "f");
    EXPECT(c, "-ERR wrong number of arguments for 'hset' command\r\n", "HSET", "k", "f",
           "v", "g");
    EXPECT(c, "-ERR wrong number of arguments for 'zadd' command\r\n", "ZADD", "k", "1");
    EXPECT(c, "-ERR wrong number of arguments for 'mset' command\r\n", "MSET", "a", "1",
           "b");
    EXPECT(c, "-ERR wrong number of arguments for 'incr' command\r\n", "INCR");
    EXPECT(c, "-ERR wrong number of arguments for 'sadd' command\r\n", "SADD", "k");
    EXPECT(c, "-ERR wrong number of arguments for 'expire' command\r\n", "EXPIRE", "k");
    // The connection is still fine after errors.
    EXPECT(c, "+PONG\r\n", "PING");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(expire_at)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    EXPECT(c, ":-1\r\n", "EXPIRETIME", "k");
    EXPECT(c, ":-2\r\n", "EXPIRETIME", "none");
    EXPECT(c, ":-2\r\n", "PEXPIRETIME", "none");
    EXPECT(c, ":0\r\n", "EXPIREAT", "none", "4102444800");
    EXPECT(c, ":1\r\n", "EXPIREAT", "k", "4102444800");
    EXPECT(c, ":4102444800\r\n", "EXPIRETIME", "k");
    EXPECT(c, ":4102444800000\r\n", "PEXPIRETIME", "k");
    EXPECT(c, ":1\r\n", "PEXPIREAT", "k", "4102444800123");
    EXPECT(c, ":4102444800123\r\n", "PEXPIRETIME", "k");
    EXPECT(c, ":4102444800\r\n", "EXPIRETIME", "k");
    // NX XX GT LT against an absolute time.
    EXPECT(c, ":0\r\n", "EXPIREAT", "k", "4102444900", "NX");
    EXPECT(c, ":1\r\n", "EXPIREAT", "k", "4102444900", "XX");
    EXPECT(c, ":0\r\n", "EXPIREAT", "k", "4102444800", "GT");
    EXPECT(c, ":1\r\n", "EXPIREAT", "k", "4102444800", "LT");
    EXPECT(c, ":1\r\n", "PEXPIREAT", "k", "4102444801000", "gt");
    EXPECT(c, ":4102444801\r\n", "EXPIRETIME", "k");
    EXPECT(c, "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n",
           "EXPIREAT", "k", "4102444800", "NX", "XX");
    EXPECT(c, "-ERR GT and LT options at the same time are not compatible\r\n",
           "PEXPIREAT", "k", "4102444800", "GT", "LT");
    EXPECT(c, "-ERR Unsupported option BOGUS\r\n", "EXPIREAT", "k", "4102444800", "BOGUS");
    EXPECT(c, NOTINT_ERR, "EXPIREAT", "k", "soon");
    EXPECT(c, "-ERR invalid expire time in 'expireat' command\r\n",
           "EXPIREAT", "k", "9223372036854775807");
    EXPECT(c, ":1\r\n", "PERSIST", "k");
    EXPECT(c, ":0\r\n", "EXPIREAT", "k", "4102444800", "XX");
    EXPECT(c, ":0\r\n", "EXPIREAT", "k", "4102444800", "GT");
    // A time in the past deletes the key.
    EXPECT(c, ":1\r\n", "EXPIREAT", "k", "1");
    EXPECT(c, ":0\r\n", "EXISTS", "k");
    EXPECT(c, "+OK\r\n", "SET", "p", "v");
    EXPECT(c, ":1\r\n", "PEXPIREAT", "p", "1000");
    EXPECT(c, ":-2\r\n", "TTL", "p");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(renamenx_copy_touch)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "{r}a", "1");
    EXPECT(c, "+OK\r\n", "SET", "{r}b", "2");
    EXPECT(c, ":0\r\n", "RENAMENX", "{r}a", "{r}b");
    EXPECT(c, "$1\r\n2\r\n", "GET", "{r}b");
    EXPECT(c, ":1\r\n", "EXPIRE", "{r}a", "100");
    EXPECT(c, ":1\r\n", "RENAMENX", "{r}a", "{r}c");
    EXPECT(c, ":0\r\n", "EXISTS", "{r}a");
    EXPECT(c, "$1\r\n1\r\n", "GET", "{r}c");
    EXPECT(c, ":100\r\n", "TTL", "{r}c");
    EXPECT(c, ":0\r\n", "RENAMENX", "{r}c", "{r}c");
    EXPECT(c, "-ERR no such key\r\n", "RENAMENX", "{r}none", "{r}x");
    // COPY: the value and its expiry; a copy of an aggregate is separate.
    EXPECT(c, "+OK\r\n", "SET", "{c}s", "v", "EX", "100");
    EXPECT(c, ":1\r\n", "COPY", "{c}s", "{c}d");
    EXPECT(c, "$1\r\nv\r\n", "GET", "{c}d");
    EXPECT(c, ":100\r\n", "TTL", "{c}d");
    EXPECT(c, "+OK\r\n", "SET", "{c}s", "w");
    EXPECT(c, ":0\r\n", "COPY", "{c}s", "{c}d");
    EXPECT(c, "$1\r\nv\r\n", "GET", "{c}d");
    EXPECT(c, ":1\r\n", "COPY", "{c}s", "{c}d", "REPLACE");
    EXPECT(c, "$1\r\nw\r\n", "GET", "{c}d");
    EXPECT(c, ":-1\r\n", "TTL", "{c}d");
    EXPECT(c, ":1\r\n", "COPY", "{c}s", "{c}d", "DB", "0", "REPLACE");
    EXPECT(c, ":0\r\n", "COPY", "{c}none", "{c}d", "REPLACE");
    EXPECT(c, "-ERR source and destination objects are the same\r\n", "COPY", "{c}s", "{c}s");
    EXPECT(c, "-ERR syntax error\r\n", "COPY", "{c}s", "{c}d", "BOGUS");
    EXPECT(c, "-ERR syntax error\r\n", "COPY", "{c}s", "{c}d", "DB");
    EXPECT(c, NOTINT_ERR, "COPY", "{c}s", "{c}d", "DB", "x");
    EXPECT(c, ":2\r\n", "RPUSH", "{c}l", "a", "b");
    EXPECT(c, ":1\r\n", "COPY", "{c}l", "{c}l2");
    EXPECT(c, ":3\r\n", "RPUSH", "{c}l2", "c");
    EXPECT(c, ":2\r\n", "LLEN", "{c}l");
    EXPECT(c, ":1\r\n", "HSET", "{c}h", "f", "v");
    EXPECT(c, ":1\r\n", "COPY", "{c}h", "{c}h2");
    EXPECT(c, ":1\r\n", "HSET", "{c}h2", "g", "w");
    EXPECT(c, ":1\r\n", "HLEN", "{c}h");
    EXPECT(c, "$1\r\nv\r\n", "HGET", "{c}h2", "f");
    EXPECT(c, ":2\r\n", "SADD", "{c}set", "x", "y");
    EXPECT(c, ":1\r\n", "COPY", "{c}set", "{c}set2");
    EXPECT(c, ":1\r\n", "SREM", "{c}set2", "x");
    EXPECT(c, ":2\r\n", "SCARD", "{c}set");
    EXPECT(c, ":1\r\n", "SISMEMBER", "{c}set2", "y");
    EXPECT(c, ":1\r\n", "ZADD", "{c}z", "1", "a");
    EXPECT(c, ":1\r\n", "COPY", "{c}z", "{c}z2");
    EXPECT(c, ":1\r\n", "ZADD", "{c}z2", "2", "b");
    EXPECT(c, ":1\r\n", "ZCARD", "{c}z");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "ZRANGE", "{c}z2", "0", "-1");
    EXPECT(c, "+zset\r\n", "TYPE", "{c}z2");
    // TOUCH counts the keys that exist.
    EXPECT(c, ":2\r\n", "TOUCH", "{c}s", "{c}d", "{c}none");
    EXPECT(c, ":0\r\n", "TOUCH", "nothing");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(randomkey_object)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$-1\r\n", "RANDOMKEY");
    EXPECT(c, "-ERR wrong number of arguments for 'randomkey' command\r\n", "RANDOMKEY", "x");
    EXPECT(c, "+OK\r\n", "SET", "only", "v");
    th_close(c);
    // Sharded, RANDOMKEY draws from the client's worker's shard: nil is a
    // right answer there when the key lives in another.
    redisContext *rc = RCONNECT();
    // MEMORY USAGE: an estimate, so only its kind and bounds are checked.
    redisReply *m = th_cmd(rc, "RPUSH mlist aaaaaaaaaa bbbbbbbbbb cccccccccc");
    freeReplyObject(m);
    const char *mkeys[] = {"only", "mlist"};
    for (int i = 0; i < 2; i++) {
        m = th_cmd(rc, "MEMORY USAGE %s", mkeys[i]);
        REQUIREF(m->type == REDIS_REPLY_INTEGER && m->integer > 0 && m->integer < 100000,
                 "MEMORY USAGE %s: type %d", mkeys[i], m->type);
        freeReplyObject(m);
    }
    m = th_cmd(rc, "MEMORY USAGE no-such-key");
    REQUIREF(m->type == REDIS_REPLY_NIL, "MEMORY USAGE of a missing key: type %d", m->type);
    freeReplyObject(m);
    m = th_cmd(rc, "DEL mlist");
    freeReplyObject(m);
    redisReply *r = th_cmd(rc, "RANDOMKEY");
    REQUIREF((r->type == REDIS_REPLY_STRING && strcmp(r->str, "only") == 0) ||
                 r->type == REDIS_REPLY_NIL,
             "RANDOMKEY: type %d", r->type);
    freeReplyObject(r);
    r = th_cmd(rc, "OBJECT HELP");
    REQUIREF(r->type == REDIS_REPLY_ARRAY && r->elements > 4, "OBJECT HELP: type %d", r->type);
    freeReplyObject(r);
    redisFree(rc);
    c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "n", "12345");
    EXPECT(c, "$3\r\nint\r\n", "OBJECT", "ENCODING", "n");
    EXPECT(c, ":1\r\n", "OBJECT", "REFCOUNT", "n");
    EXPECT(c, "+OK\r\n", "SET", "small", "100");
    EXPECT(c, ":2147483647\r\n", "OBJECT", "REFCOUNT", "small");
    EXPECT(c, "+OK\r\n", "SET", "s", "hello");
    EXPECT(c, "$6\r\nembstr\r\n", "OBJECT", "encoding", "s");
    EXPECT(c, ":1\r\n", "OBJECT", "REFCOUNT", "s");
    EXPECT(c, ":0\r\n", "OBJECT", "IDLETIME", "s");
    EXPECT(c, "+OK\r\n", "SET", "big", "0123456789012345678901234567890123456789012345678");
    EXPECT(c, "$3\r\nraw\r\n", "OBJECT", "ENCODING", "big");
    EXPECT(c, ":1\r\n", "RPUSH", "l", "a");
    EXPECT(c, "$9\r\nquicklist\r\n", "OBJECT", "ENCODING", "l");
    EXPECT(c, ":1\r\n", "HSET", "h", "f", "v");
    EXPECT(c, "$8\r\nlistpack\r\n", "OBJECT", "ENCODING", "h");
    EXPECT(c, ":2\r\n", "SADD", "si", "1", "2");
    EXPECT(c, "$6\r\nintset\r\n", "OBJECT", "ENCODING", "si");
    EXPECT(c, ":1\r\n", "SADD", "ss", "a");
    EXPECT(c, "$9\r\nhashtable\r\n", "OBJECT", "ENCODING", "ss");
    EXPECT(c, ":1\r\n", "ZADD", "z", "1", "a");
    EXPECT(c, "$8\r\nlistpack\r\n", "OBJECT", "ENCODING", "z");
    EXPECT(c, "$-1\r\n", "OBJECT", "ENCODING", "none");
    EXPECT(c, "$-1\r\n", "OBJECT", "REFCOUNT", "none");
    EXPECT(c, "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
              "Please note that when switching between policies at runtime LRU and LFU data "
              "will take some time to adjust.\r\n",
           "OBJECT", "FREQ", "s");
    EXPECT(c, "-ERR unknown subcommand 'bogus'. Try OBJECT HELP.\r\n", "OBJECT", "bogus", "s");
    EXPECT(c, "-ERR wrong number of arguments for 'object|encoding' command\r\n",
           "OBJECT", "ENCODING");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(databases)
{
    START();
    th_conn *c = CONNECT();
    th_conn *d = CONNECT();
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    EXPECT(c, "+OK\r\n", "SET", "k", "zero");
    EXPECT(c, "+OK\r\n", "SELECT", "1");
    EXPECT(c, "$-1\r\n", "GET", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "one");
    EXPECT(c, ":1\r\n", "DBSIZE");
    EXPECT(c, "-ERR DB index is out of range\r\n", "SELECT", "16");
    EXPECT(c, "-ERR DB index is out of range\r\n", "SELECT", "-1");
    EXPECT(d, "$4\r\nzero\r\n", "GET", "k");   // another client stays in 0
    // INFO keyspace: one line per database with keys.
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "INFO keyspace");
    REQUIRE(r->type == REDIS_REPLY_STRING);
    REQUIREF(strstr(r->str, "db0:keys=1,expires=0,avg_ttl=0\r\n") != NULL &&
             strstr(r->str, "db1:keys=1,expires=0,avg_ttl=0\r\n") != NULL, "%s", r->str);
    freeReplyObject(r);
    // MOVE: only into a database without the key.
    EXPECT(c, ":0\r\n", "MOVE", "k", "0");
    EXPECT(c, "+OK\r\n", "SET", "m", "v");
    EXPECT(c, ":1\r\n", "EXPIRE", "m", "100");
    EXPECT(c, ":1\r\n", "MOVE", "m", "2");
    EXPECT(c, ":0\r\n", "EXISTS", "m");
    EXPECT(c, ":0\r\n", "MOVE", "nosuch", "2");
    EXPECT(c, "-ERR source and destination objects are the same\r\n", "MOVE", "k", "1");
    EXPECT(c, "-ERR DB index is out of range\r\n", "MOVE", "k", "99");
    EXPECT(c, NOTINT_ERR, "MOVE", "k", "x");
    EXPECT(c, "+OK\r\n", "SELECT", "2");
    EXPECT(c, "$1\r\nv\r\n", "GET", "m");
    EXPECT(c, ":100\r\n", "TTL", "m");
    // COPY ... DB: the same key name may be copied to another database.
    EXPECT(c, ":1\r\n", "COPY", "m", "m", "DB", "3");
    EXPECT(c, ":0\r\n", "COPY", "m", "m", "DB", "3");
    EXPECT(c, "-ERR DB index is out of range\r\n", "COPY", "m", "m", "DB", "16");
    // SWAPDB: clients of either database see the other's keys.
    EXPECT(c, "+OK\r\n", "SWAPDB", "0", "1");
    EXPECT(d, "$3\r\none\r\n", "GET", "k");
    EXPECT(c, "-ERR invalid first DB index\r\n", "SWAPDB", "x", "1");
    EXPECT(c, "-ERR invalid second DB index\r\n", "SWAPDB", "1", "x");
    EXPECT(c, "-ERR DB index is out of range\r\n", "SWAPDB", "0", "16");
    // WATCH is per database: a write to the same name elsewhere is no change.
    EXPECT(d, "+OK\r\n", "WATCH", "k");
    EXPECT(c, "+OK\r\n", "SET", "k", "other");
    EXPECT(d, "+OK\r\n", "MULTI");
    EXPECT(d, "+QUEUED\r\n", "GET", "k");
    EXPECT(d, "*1\r\n$3\r\none\r\n", "EXEC");
    // A client blocked in database 4 is served by a push there only.
    EXPECT(d, "+OK\r\n", "SELECT", "4");
    const char *const blpop[] = {"BLPOP", "q", "10"};
    ck_assert_int_eq(th_send_cmd(d, 3, blpop, NULL), 0);
    th_sleep_ms(100);
    EXPECT(c, "+OK\r\n", "SELECT", "0");
    EXPECT(c, ":1\r\n", "RPUSH", "q", "wrong-db");
    EXPECT(c, "+OK\r\n", "SELECT", "4");
    EXPECT(c, ":1\r\n", "RPUSH", "q", "right-db");
    size_t len;
    char *got = th_read_reply(d, &len);
    ck_assert_msg(got != NULL && strcmp(got, "*2\r\n$1\r\nq\r\n$8\r\nright-db\r\n") == 0,
                  "BLPOP in db 4: %s", got != NULL ? got : "(none)");
    free(got);
    // FLUSHDB empties one database, FLUSHALL all of them.
    EXPECT(c, "+OK\r\n", "SELECT", "3");
    EXPECT(c, "+OK\r\n", "FLUSHDB");
    EXPECT(c, ":0\r\n", "DBSIZE");
    EXPECT(c, "+OK\r\n", "SELECT", "2");
    EXPECT(c, ":2\r\n", "DBSIZE");    // m, and k set there while watched in 0
    EXPECT(c, "+OK\r\n", "FLUSHALL");
    EXPECT(c, ":0\r\n", "DBSIZE");
    EXPECT(d, "+OK\r\n", "SELECT", "1");
    EXPECT(d, ":0\r\n", "DBSIZE");
    redisFree(rc);
    th_close(c);
    th_close(d);
    STOP();
}
END_TEST

START_TEST(reset_role)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SELECT", "3");
    EXPECT(c, "+OK\r\n", "CLIENT", "SETNAME", "before");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "+QUEUED\r\n", "SET", "a", "b");
    EXPECT(c, "+RESET\r\n", "RESET");     // runs at once, even inside MULTI
    EXPECT(c, "-ERR EXEC without MULTI\r\n", "EXEC");
    EXPECT(c, "$-1\r\n", "CLIENT", "GETNAME");
    EXPECT(c, "$-1\r\n", "GET", "a");
    EXPECT(c, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch");
    EXPECT(c, "+RESET\r\n", "RESET");     // allowed while subscribed, and ends it
    EXPECT(c, "+PONG\r\n", "PING");
    EXPECT(c, "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", "ROLE");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_generic(void)
{
    TCase *tc = tcase_create("generic");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, ping_echo_quit);
    tcase_add_test(tc, select_hello_client);
    tcase_add_test(tc, command_config);
    tcase_add_test(tc, info);
    tcase_add_test(tc, keyspace);
    tcase_add_test(tc, keys_scan);
    tcase_add_test(tc, unknown_and_arity);
    tcase_add_test(tc, expire_at);
    tcase_add_test(tc, renamenx_copy_touch);
    tcase_add_test(tc, databases);
    tcase_add_test(tc, reset_role);
    tcase_add_test(tc, randomkey_object);
    return tc;
}
