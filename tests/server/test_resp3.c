/*
 * test_resp3.c - the RESP3 protocol (HELLO 3) and the introspection
 * commands: CLIENT and INFO.
 *
 * Technique.  Each RESP3 check switches a raw connection to protocol 3 and
 * compares the reply bytes of a command whose Redis reply differs between
 * the protocols (nulls "_", maps "%", sets "~", doubles ",", nested
 * WITHSCORES pairs, verbatim text "="), byte for byte, so the same test
 * passing against redis-server proves the bytes are Redis 7.0's.  Sets and
 * maps are checked with one or two members whose order both servers agree
 * on (a small integer set is sorted; a small hash keeps insertion order).
 * CLIENT and INFO replies hold figures that vary (ids, ports, times), so
 * they are parsed with hiredis and checked field by field.
 *
 * With --workers 2 the connections of one test land on different workers,
 * so CLIENT LIST and CLIENT KILL reach across workers here.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Switch c to RESP3 and check HELLO's reply is a map of seven pairs with
 * proto 3 (the server's name and version differ between servers). */
static void hello3(th_conn *c)
{
    const char *const argv[] = {"HELLO", "3"};
    ck_assert_int_eq(th_send_cmd(c, 2, argv, NULL), 0);
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(strncmp(r, "%7\r\n$6\r\nserver\r\n", 16) == 0, "HELLO 3: %s", r);
    ck_assert_ptr_nonnull(strstr(r, "$5\r\nproto\r\n:3\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "$4\r\nmode\r\n$10\r\nstandalone\r\n"));
    ck_assert_ptr_nonnull(strstr(r, "$7\r\nmodules\r\n*0\r\n"));
    free(r);
}

/* Send a command and return its whole reply (malloc'd). */
static char *ask(th_conn *c, int argc, const char *const argv[])
{
    ck_assert_int_eq(th_send_cmd(c, argc, argv, NULL), 0);
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_msg(r != NULL, "no reply to %s", argv[0]);
    return r;
}
#define ASK(c, ...) ask((c), (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)), \
                        (const char *const[]){__VA_ARGS__})

START_TEST(hello_versions)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-NOPROTO unsupported protocol version\r\n", "HELLO", "4");
    EXPECT(c, "-NOPROTO unsupported protocol version\r\n", "HELLO", "1");
    EXPECT(c, "-ERR Protocol version is not an integer or out of range\r\n", "HELLO", "x");
    EXPECT(c, "-ERR Syntax error in HELLO option 'foo'\r\n", "HELLO", "3", "foo");
    EXPECT(c, "-ERR Syntax error in HELLO option 'AUTH'\r\n", "HELLO", "3", "AUTH", "x");
    EXPECT(c, "-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
           "HELLO", "3", "SETNAME", "a b");
    EXPECT(c, "$-1\r\n", "GET", "nokey");  // still RESP2 after the errors
    char *r = ASK(c, "HELLO", "2");
    ck_assert_msg(strncmp(r, "*14\r\n", 5) == 0, "%s", r);
    ck_assert_ptr_nonnull(strstr(r, "$5\r\nproto\r\n:2\r\n"));
    free(r);
    hello3(c);
    EXPECT(c, "_\r\n", "GET", "nokey");
    r = ASK(c, "HELLO");  // no version: the current one
    ck_assert_ptr_nonnull(strstr(r, "$5\r\nproto\r\n:3\r\n"));
    free(r);
    r = ASK(c, "HELLO", "3", "AUTH", "default", "any", "SETNAME", "named");
    ck_assert_msg(r[0] == '%', "%s", r);  // no password set: any password works
    free(r);
    EXPECT(c, "$5\r\nnamed\r\n", "CLIENT", "GETNAME");
    r = ASK(c, "HELLO", "2");
    free(r);
    EXPECT(c, "$-1\r\n", "GET", "nokey");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(hello_auth)
{
    START_WITH("--requirepass", "pw");
    th_conn *c = CONNECT();
    EXPECT(c, "-NOAUTH HELLO must be called with the client already authenticated, "
              "otherwise the HELLO AUTH <user> <pass> option can be used to authenticate "
              "the client and select the RESP protocol version at the same time\r\n",
           "HELLO", "3");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
           "HELLO", "3", "AUTH", "default", "bad");
    char *r = ASK(c, "HELLO", "3", "AUTH", "default", "pw");
    ck_assert_msg(r[0] == '%', "%s", r);
    free(r);
    EXPECT(c, "_\r\n", "GET", "nokey");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(resp3_nulls)
{
    START();
    th_conn *c = CONNECT();
    hello3(c);
    EXPECT(c, "+OK\r\n", "SET", "s", "v");
    EXPECT(c, "*2\r\n$1\r\nv\r\n_\r\n", "MGET", "s", "nokey");
    EXPECT(c, "_\r\n", "GETDEL", "nokey");
    EXPECT(c, "_\r\n", "GETSET", "gs", "1");
    EXPECT(c, "_\r\n", "SET", "new", "1", "GET");
    EXPECT(c, "_\r\n", "SET", "absent", "x", "XX");
    EXPECT(c, "_\r\n", "LPOP", "nokey");
    EXPECT(c, "_\r\n", "LPOP", "nokey", "2");
    EXPECT(c, "_\r\n", "RPOPLPUSH", "{t}nokey", "{t}l2");
    EXPECT(c, ":1\r\n", "RPUSH", "l", "a");
    EXPECT(c, "_\r\n", "LINDEX", "l", "5");
    EXPECT(c, "_\r\n", "LPOS", "l", "z");
    EXPECT(c, ":1\r\n", "HSET", "h", "f", "1");
    EXPECT(c, "_\r\n", "HGET", "h", "nofield");
    EXPECT(c, "*2\r\n$1\r\n1\r\n_\r\n", "HMGET", "h", "f", "nofield");
    EXPECT(c, "_\r\n", "HRANDFIELD", "nokey");
    EXPECT(c, "_\r\n", "SRANDMEMBER", "nokey");
    EXPECT(c, "_\r\n", "SPOP", "nokey");
    EXPECT(c, ":1\r\n", "ZADD", "z", "1", "a");
    EXPECT(c, "_\r\n", "ZSCORE", "z", "nomember");
    EXPECT(c, "_\r\n", "ZRANK", "z", "nomember");
    EXPECT(c, "_\r\n", "ZREVRANK", "z", "nomember");
    EXPECT(c, "_\r\n", "ZRANDMEMBER", "nokey");
    EXPECT(c, "_\r\n", "ZADD", "z", "XX", "INCR", "1", "nomember");
    EXPECT(c, "_\r\n", "ZADD", "nokey", "XX", "INCR", "1", "m");
    EXPECT(c, "_\r\n", "CLIENT", "GETNAME");
    EXPECT(c, "_\r\n", "OBJECT", "ENCODING", "nokey");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(resp3_maps_and_sets)
{
    START();
    th_conn *c = CONNECT();
    hello3(c);
    EXPECT(c, ":2\r\n", "HSET", "h", "a", "1", "b", "2");
    EXPECT(c, "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n", "HGETALL", "h");
    EXPECT(c, "%0\r\n", "HGETALL", "{t}nokey");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n", "HKEYS", "h");
    EXPECT(c, "*0\r\n", "HKEYS", "{t}nokey");
    EXPECT(c, "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n", "CONFIG", "GET", "maxmemory");
    EXPECT(c, "%0\r\n", "CONFIG", "GET", "no-such-setting");
    EXPECT(c, ":2\r\n", "SADD", "{t}s", "2", "1");
    EXPECT(c, "~2\r\n$1\r\n1\r\n$1\r\n2\r\n", "SMEMBERS", "{t}s");
    EXPECT(c, "~0\r\n", "SMEMBERS", "{t}nokey");
    EXPECT(c, "~0\r\n", "SINTER", "{t}s", "{t}nokey");
    EXPECT(c, "~0\r\n", "SDIFF", "{t}nokey", "{t}s");
    EXPECT(c, ":1\r\n", "SADD", "{t}one", "x");
    EXPECT(c, "~1\r\n$1\r\nx\r\n", "SINTER", "{t}one");
    EXPECT(c, "~1\r\n$1\r\nx\r\n", "SUNION", "{t}one", "{t}nokey");
    EXPECT(c, "~1\r\n$1\r\nx\r\n", "SDIFF", "{t}one", "{t}nokey");
    EXPECT(c, "*1\r\n$1\r\nx\r\n", "SRANDMEMBER", "{t}one", "2");  // an array, not a set
    EXPECT(c, "*0\r\n", "SRANDMEMBER", "{t}nokey", "2");
    EXPECT(c, "~0\r\n", "SPOP", "{t}nokey", "1");
    EXPECT(c, "~1\r\n$1\r\nx\r\n", "SPOP", "{t}one", "3");
    EXPECT(c, "*2\r\n:1\r\n:0\r\n", "SMISMEMBER", "{t}s", "1", "9");  // integers, not booleans
    EXPECT(c, ":1\r\n", "SISMEMBER", "{t}s", "1");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(resp3_doubles_and_pairs)
{
    START();
    th_conn *c = CONNECT();
    hello3(c);
    EXPECT(c, ":2\r\n", "ZADD", "z", "1", "a", "2.5", "b");
    EXPECT(c, ",2.5\r\n", "ZSCORE", "z", "b");
    EXPECT(c, "*2\r\n,1\r\n_\r\n", "ZMSCORE", "z", "a", "nomember");
    EXPECT(c, ",3\r\n", "ZINCRBY", "z", "2", "a");
    EXPECT(c, ",4\r\n", "ZADD", "z", "INCR", "1", "a");
    EXPECT(c, "*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,4\r\n",
           "ZRANGE", "z", "0", "-1", "WITHSCORES");
    EXPECT(c, "*2\r\n$1\r\nb\r\n$1\r\na\r\n", "ZRANGE", "z", "0", "-1");
    EXPECT(c, "*2\r\n*2\r\n$1\r\na\r\n,4\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
           "ZREVRANGE", "z", "0", "-1", "WITHSCORES");
    EXPECT(c, "*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n",
           "ZRANGEBYSCORE", "z", "-inf", "3", "WITHSCORES");
    EXPECT(c, "*1\r\n*2\r\n$1\r\na\r\n,4\r\n",
           "ZREVRANGEBYSCORE", "z", "+inf", "3", "WITHSCORES");
    EXPECT(c, "*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,4\r\n",
           "ZUNION", "1", "z", "WITHSCORES");
    EXPECT(c, "*2\r\n*2\r\n$1\r\nb\r\n,5\r\n*2\r\n$1\r\na\r\n,8\r\n",
           "ZINTER", "1", "z", "WEIGHTS", "2", "WITHSCORES");
    EXPECT(c, "*0\r\n", "ZDIFF", "2", "z", "z", "WITHSCORES");
    EXPECT(c, ":1\r\n", "ZADD", "inf", "+inf", "m");
    EXPECT(c, ",inf\r\n", "ZSCORE", "inf", "m");
    EXPECT(c, ",-inf\r\n", "ZINCRBY", "ninf", "-inf", "n");
    EXPECT(c, "*1\r\n*2\r\n$1\r\nm\r\n,inf\r\n", "ZRANDMEMBER", "inf", "-1", "WITHSCORES");
    // ZPOPMIN without a count answers one flat pair; with a count, pairs.
    EXPECT(c, "*2\r\n$1\r\nb\r\n,2.5\r\n", "ZPOPMIN", "z");
    EXPECT(c, "*1\r\n*2\r\n$1\r\na\r\n,4\r\n", "ZPOPMAX", "z", "5");
    EXPECT(c, "*0\r\n", "ZPOPMIN", "nokey");
    EXPECT(c, "*0\r\n", "ZPOPMIN", "nokey", "2");
    // What stays a bulk string in RESP3.
    EXPECT(c, "+OK\r\n", "SET", "f", "1");
    EXPECT(c, "$3\r\n1.5\r\n", "INCRBYFLOAT", "f", "0.5");
    EXPECT(c, ":1\r\n", "HSET", "h", "f", "x");
    EXPECT(c, "*1\r\n*2\r\n$1\r\nf\r\n$1\r\nx\r\n", "HRANDFIELD", "h", "3", "WITHVALUES");
    EXPECT(c, "*2\r\n*2\r\n$1\r\nf\r\n$1\r\nx\r\n*2\r\n$1\r\nf\r\n$1\r\nx\r\n",
           "HRANDFIELD", "h", "-2", "WITHVALUES");
    EXPECT(c, "*0\r\n", "HRANDFIELD", "nokey", "2", "WITHVALUES");
    EXPECT(c, ":1\r\n", "HSET", "h", "n", "1");
    EXPECT(c, "$3\r\n2.5\r\n", "HINCRBYFLOAT", "h", "n", "1.5");
    // The same replies in RESP2 again.
    char *r = ASK(c, "HELLO", "2");
    free(r);
    EXPECT(c, "$3\r\ninf\r\n", "ZSCORE", "inf", "m");
    EXPECT(c, "*2\r\n$1\r\nm\r\n$3\r\ninf\r\n", "ZRANGE", "inf", "-1", "-1", "WITHSCORES");
    EXPECT(c, ":1\r\n", "HDEL", "h", "n");
    EXPECT(c, "*2\r\n$1\r\nf\r\n$1\r\nx\r\n", "HRANDFIELD", "h", "-1", "WITHVALUES");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(resp3_verbatim)
{
    START();
    th_conn *c = CONNECT();
    hello3(c);
    char *r = ASK(c, "INFO", "server");
    ck_assert_msg(r[0] == '=' && strstr(r, "\r\ntxt:# Server\r\n") != NULL, "%.60s", r);
    free(r);
    r = ASK(c, "CLIENT", "INFO");
    ck_assert_msg(r[0] == '=' && strstr(r, "\r\ntxt:id=") != NULL, "%.60s", r);
    ck_assert_ptr_nonnull(strstr(r, " resp=3\n\r\n"));
    free(r);
    r = ASK(c, "CLIENT", "LIST");
    ck_assert_msg(r[0] == '=' && strstr(r, "cmd=client|list") != NULL, "%.80s", r);
    free(r);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(resp3_pubsub)
{
    START();
    th_conn *sub = CONNECT(), *pub = CONNECT();
    hello3(sub);
    EXPECT(sub, ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch");
    // Any command while subscribed, in RESP3 (PING answers as usual).
    EXPECT(sub, "+PONG\r\n", "PING");
    EXPECT(sub, "_\r\n", "GET", "nokey");
    char *r = ASK(sub, "CLIENT", "INFO");
    ck_assert_ptr_nonnull(strstr(r, " flags=P "));
    ck_assert_ptr_nonnull(strstr(r, " sub=1 psub=0 ssub=0 "));
    free(r);
    r = ASK(sub, "CLIENT", "LIST", "TYPE", "pubsub");
    ck_assert_ptr_nonnull(strstr(r, "cmd=client|list"));
    free(r);
    EXPECT(pub, ":1\r\n", "PUBLISH", "ch", "m");
    size_t n;
    r = th_read_reply(sub, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n");
    free(r);
    EXPECT(sub, ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:0\r\n", "UNSUBSCRIBE");
    EXPECT(sub, ">3\r\n$12\r\npunsubscribe\r\n_\r\n:0\r\n", "PUNSUBSCRIBE");
    // In RESP2 a subscriber's messages are arrays and other commands refused.
    EXPECT(pub, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch");
    EXPECT(pub, "*2\r\n$4\r\npong\r\n$0\r\n\r\n", "PING");
    th_close(pub);
    th_close(sub);
    STOP();
}
END_TEST

/* The value of field `name` in a CLIENT LIST line (static buffer), or
 * NULL. */
static const char *field(const char *line, const char *name)
{
    static char val[256];
    char key[64];
    snprintf(key, sizeof key, " %s=", name);
    const char *p = strncmp(line, key + 1, strlen(key) - 1) == 0 ? line : strstr(line, key);
    if (p == NULL) {
        return NULL;
    }
    p = strchr(p, '=') + 1;
    size_t n = strcspn(p, " \n");
    snprintf(val, sizeof val, "%.*s", (int)n, p);
    return val;
}

START_TEST(client_list_and_info)
{
    START();
    redisContext *a = RCONNECT(), *b = RCONNECT();
    redisReply *r = th_cmd(a, "CLIENT SETNAME alpha");
    ck_assert_str_eq(r->str, "OK");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT GETNAME");
    ck_assert_str_eq(r->str, "alpha");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT SETNAME %s", "bad name");
    ck_assert_str_eq(r->str, "ERR Client names cannot contain spaces, newlines or special characters.");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT ID");
    long long ida = r->integer;
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT ID");
    long long idb = r->integer;
    freeReplyObject(r);
    ck_assert_int_ne(ida, idb);
    // b sees a (maybe on another worker), with Redis's fields.
    r = th_cmd(b, "CLIENT LIST");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    char *line = strstr(r->str, "name=alpha");
    ck_assert_ptr_nonnull(line);
    while (line > r->str && line[-1] != '\n') {
        line--;
    }
    char want[32];
    snprintf(want, sizeof want, "%lld", ida);
    ck_assert_str_eq(field(line, "id"), want);
    static const char *const names[] = {
        "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub",
        "ssub", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl",
        "oll", "omem", "tot-mem", "events", "cmd", "user", "redir", "resp"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        REQUIREF(field(line, names[i]) != NULL, "%s", names[i]);
    }
    ck_assert_str_eq(field(line, "flags"), "N");
    ck_assert_str_eq(field(line, "db"), "0");
    ck_assert_str_eq(field(line, "cmd"), "client|id");
    ck_assert_str_eq(field(line, "user"), "default");
    ck_assert_str_eq(field(line, "resp"), "2");
    freeReplyObject(r);
    // Filters.
    r = th_cmd(b, "CLIENT LIST ID %lld", ida);
    ck_assert_ptr_nonnull(strstr(r->str, "name=alpha"));
    ck_assert_ptr_null(strstr(r->str, "cmd=client|list"));
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT LIST TYPE normal");
    ck_assert_ptr_nonnull(strstr(r->str, "name=alpha"));
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT LIST TYPE pubsub");
    ck_assert_str_eq(r->str, "");
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT LIST TYPE foo");
    ck_assert_str_eq(r->str, "ERR Unknown client type 'foo'");
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT LIST ID x");
    ck_assert_str_eq(r->str, "ERR Invalid client ID");
    freeReplyObject(r);
    r = th_cmd(b, "CLIENT LIST foo");
    ck_assert_str_eq(r->str, "ERR syntax error");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT INFO");
    ck_assert_str_eq(field(r->str, "name"), "alpha");
    ck_assert_str_eq(field(r->str, "cmd"), "client|info");
    ck_assert_int_eq(r->str[r->len - 1], '\n');
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT NO-EVICT on");
    ck_assert_str_eq(r->str, "OK");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT NO-EVICT maybe");
    ck_assert_str_eq(r->str, "ERR syntax error");
    freeReplyObject(r);
    r = th_cmd(a, "CLIENT NOSUCH");
    ck_assert_str_eq(r->str, "ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP.");
    freeReplyObject(r);
    redisFree(a);
    redisFree(b);
    STOP();
}
END_TEST

START_TEST(client_kill)
{
    START();
    th_conn *victim = CONNECT(), *v2 = CONNECT();
    redisContext *k = RCONNECT();
    EXPECT(victim, "+OK\r\n", "CLIENT", "SETNAME", "victim");
    char *r = ASK(victim, "CLIENT", "ID");
    long long id = strtoll(r + 1, NULL, 10);
    free(r);
    r = ASK(v2, "CLIENT", "INFO");
    char addr[64];
    snprintf(addr, sizeof addr, "%s", field(strstr(r, "id="), "addr"));
    free(r);
    redisReply *rr = th_cmd(k, "CLIENT KILL ID 0");
    ck_assert_str_eq(rr->str, "ERR client-id should be greater than 0");
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL ID 999999");
    ck_assert_int_eq(rr->integer, 0);
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL 1.2.3.4:5");
    ck_assert_str_eq(rr->str, "ERR No such client");
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL TYPE foo");
    ck_assert_str_eq(rr->str, "ERR Unknown client type 'foo'");
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL USER nobody");
    ck_assert_str_eq(rr->str, "ERR No such user 'nobody'");
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL SKIPME maybe");
    ck_assert_str_eq(rr->str, "ERR syntax error");
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL ID");
    ck_assert_str_eq(rr->str, "ERR No such client");  // the old form, an address "ID"
    freeReplyObject(rr);
    // The new form, by id: the count; the victim's connection is closed.
    rr = th_cmd(k, "CLIENT KILL ID %lld", id);
    ck_assert_int_eq(rr->type, REDIS_REPLY_INTEGER);
    ck_assert_int_eq(rr->integer, 1);
    freeReplyObject(rr);
    EXPECT_CLOSED(victim);
    // The old form, by address.
    rr = th_cmd(k, "CLIENT KILL %s", addr);
    ck_assert_str_eq(rr->str, "OK");
    freeReplyObject(rr);
    EXPECT_CLOSED(v2);
    // SKIPME (default yes): the asker survives a kill of every normal client.
    rr = th_cmd(k, "CLIENT KILL TYPE normal");
    ck_assert_int_eq(rr->type, REDIS_REPLY_INTEGER);
    freeReplyObject(rr);
    rr = th_cmd(k, "PING");
    ck_assert_str_eq(rr->str, "PONG");
    freeReplyObject(rr);
    // Gone from the list.
    rr = th_cmd(k, "CLIENT LIST");
    ck_assert_ptr_null(strstr(rr->str, "name=victim"));
    freeReplyObject(rr);
    rr = th_cmd(k, "CLIENT KILL TYPE normal SKIPME no");
    freeReplyObject(rr);
    redisFree(k);
    th_close(victim);
    th_close(v2);
    STOP();
}
END_TEST

START_TEST(client_reply)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR syntax error\r\n", "CLIENT", "REPLY", "maybe");
    // OFF: nothing until ON; SKIP: the next command's reply only.
    const char *const off[] = {"CLIENT", "REPLY", "OFF"};
    const char *const set[] = {"SET", "k", "1"};
    const char *const bad[] = {"NOSUCHCMD"};
    ck_assert_int_eq(th_send_cmd(c, 3, off, NULL), 0);
    ck_assert_int_eq(th_send_cmd(c, 3, set, NULL), 0);
    ck_assert_int_eq(th_send_cmd(c, 1, bad, NULL), 0);
    EXPECT(c, "+OK\r\n", "CLIENT", "REPLY", "ON");
    const char *const skip[] = {"CLIENT", "REPLY", "SKIP"};
    const char *const incr[] = {"INCR", "k"};
    ck_assert_int_eq(th_send_cmd(c, 3, skip, NULL), 0);
    ck_assert_int_eq(th_send_cmd(c, 2, incr, NULL), 0);
    EXPECT(c, ":3\r\n", "INCR", "k");
    // ON after SKIP answers, and the skip is gone.
    ck_assert_int_eq(th_send_cmd(c, 3, skip, NULL), 0);
    EXPECT(c, "+OK\r\n", "CLIENT", "REPLY", "ON");
    EXPECT(c, ":4\r\n", "INCR", "k");
    // Pub/sub confirmations are pushes: sent even with replies off.
    ck_assert_int_eq(th_send_cmd(c, 3, off, NULL), 0);
    EXPECT(c, "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", "SUBSCRIBE", "ch");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(client_pause)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR timeout is not an integer or out of range\r\n", "CLIENT", "PAUSE", "x");
    EXPECT(c, "-ERR timeout is negative\r\n", "CLIENT", "PAUSE", "-1");
    EXPECT(c, "-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n", "CLIENT", "PAUSE", "10", "foo");
    // A write pause lets reads and UNPAUSE through; a write waits for it.
    EXPECT(c, "+OK\r\n", "CLIENT", "PAUSE", "100000", "WRITE");
    EXPECT(c, "$-1\r\n", "GET", "k");
    th_conn *w = CONNECT();
    const char *const set[] = {"SET", "k", "v"};
    ck_assert_int_eq(th_send_cmd(w, 3, set, NULL), 0);
    EXPECT(c, "$-1\r\n", "GET", "k");  // not yet: the pause holds it
    EXPECT(c, "+OK\r\n", "CLIENT", "UNPAUSE");
    size_t n;
    char *r = th_read_reply(w, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r, "+OK\r\n");
    free(r);
    EXPECT(c, "$1\r\nv\r\n", "GET", "k");
    th_close(w);
    th_close(c);
    STOP();
}
END_TEST

/* The line of INFO text that starts with prefix (static), or NULL. */
static const char *info_line(const char *info, const char *prefix)
{
    static char out[512];
    for (const char *p = info; p != NULL && *p != '\0';) {
        if (strncmp(p, prefix, strlen(prefix)) == 0) {
            size_t n = strcspn(p, "\r\n");
            snprintf(out, sizeof out, "%.*s", (int)n, p);
            return out;
        }
        p = strchr(p, '\n');
        p = p != NULL ? p + 1 : NULL;
    }
    return NULL;
}

START_TEST(info_sections)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "INFO");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    static const char *const dflt[] = {"# Server", "# Clients", "# Memory", "# Persistence",
                                       "# Stats", "# Replication", "# CPU", "# Modules",
                                       "# Errorstats", "# Cluster", "# Keyspace"};
    const char *at = r->str;
    for (size_t i = 0; i < sizeof dflt / sizeof dflt[0]; i++) {
        const char *p = strstr(at, dflt[i]);
        REQUIREF(p != NULL, "%s (in order)", dflt[i]);
        at = p;
    }
    ck_assert_ptr_null(strstr(r->str, "# Commandstats"));
    ck_assert_ptr_null(strstr(r->str, "rejected_calls"));
    static const char *const fields[] = {
        "redis_version:", "redis_mode:standalone", "process_id:", "run_id:", "tcp_port:",
        "uptime_in_seconds:", "connected_clients:", "blocked_clients:0", "tracking_clients:0",
        "maxclients:", "client_recent_max_input_buffer:", "used_memory:",
        "used_memory_human:", "maxmemory_policy:", "loading:0", "rdb_bgsave_in_progress:0",
        "rdb_last_bgsave_status:ok", "aof_enabled:0", "total_connections_received:",
        "total_commands_processed:", "keyspace_hits:", "total_error_replies:",
        "role:master", "connected_slaves:0", "master_repl_offset:", "used_cpu_sys:",
        "used_cpu_user:", "used_cpu_user_children:", "cluster_enabled:0"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        REQUIREF(info_line(r->str, fields[i]) != NULL, "%s", fields[i]);
    }
    freeReplyObject(r);
    // One section, any case; several at once, each once, in the fixed order.
    r = th_cmd(rc, "INFO CPU");
    ck_assert_ptr_nonnull(strstr(r->str, "used_cpu_user"));
    ck_assert_ptr_null(strstr(r->str, "used_memory"));
    freeReplyObject(r);
    r = th_cmd(rc, "INFO cpu server");
    const char *srv = strstr(r->str, "# Server"), *cpu = strstr(r->str, "# CPU");
    ck_assert(srv != NULL && cpu != NULL && srv < cpu);
    ck_assert_ptr_null(strstr(r->str, "used_memory"));
    freeReplyObject(r);
    r = th_cmd(rc, "INFO cpu all");
    ck_assert_ptr_nonnull(strstr(r->str, "rejected_calls"));
    ck_assert_ptr_nonnull(strstr(r->str, "master_repl_offset"));
    const char *first = strstr(r->str, "used_cpu_user_children");
    ck_assert_ptr_null(strstr(first + 1, "used_cpu_user_children"));
    freeReplyObject(r);
    r = th_cmd(rc, "INFO everything");
    ck_assert_ptr_nonnull(strstr(r->str, "# Commandstats"));
    freeReplyObject(r);
    r = th_cmd(rc, "INFO nosuchsection");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    ck_assert_int_eq((int)r->len, 0);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(info_stats)
{
    START();
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "CONFIG RESETSTAT");
    freeReplyObject(r);
    freeReplyObject(th_cmd(rc, "SET k v"));
    freeReplyObject(th_cmd(rc, "GET k"));
    freeReplyObject(th_cmd(rc, "GET k"));
    freeReplyObject(th_cmd(rc, "LPUSH k x"));      // WRONGTYPE: a failed call
    freeReplyObject(th_cmd(rc, "SET onlykey"));    // arity: a rejected call
    freeReplyObject(th_cmd(rc, "NOSUCHCOMMAND"));  // unknown: an error only
    r = th_cmd(rc, "INFO commandstats");
    const char *l = info_line(r->str, "cmdstat_get:");
    ck_assert_ptr_nonnull(l);
    ck_assert_msg(strncmp(l, "cmdstat_get:calls=2,usec=", 25) == 0, "%s", l);
    ck_assert_msg(strstr(l, ",usec_per_call=") != NULL, "%s", l);
    ck_assert_msg(strstr(l, ",rejected_calls=0,failed_calls=0") != NULL, "%s", l);
    l = info_line(r->str, "cmdstat_set:");
    ck_assert_msg(l != NULL && strncmp(l, "cmdstat_set:calls=1,", 20) == 0, "%s", l);
    ck_assert_msg(strstr(l, ",rejected_calls=1,failed_calls=0") != NULL, "%s", l);
    l = info_line(r->str, "cmdstat_lpush:");
    ck_assert_msg(l != NULL && strstr(l, "calls=1,") != NULL, "%s", l);
    ck_assert_msg(strstr(l, ",rejected_calls=0,failed_calls=1") != NULL, "%s", l);
    freeReplyObject(r);
    r = th_cmd(rc, "INFO errorstats");
    l = info_line(r->str, "errorstat_ERR:");
    ck_assert_msg(l != NULL && strcmp(l, "errorstat_ERR:count=2") == 0, "%s", l);
    l = info_line(r->str, "errorstat_WRONGTYPE:");
    ck_assert_msg(l != NULL && strcmp(l, "errorstat_WRONGTYPE:count=1") == 0, "%s", l);
    freeReplyObject(r);
    r = th_cmd(rc, "INFO stats");
    l = info_line(r->str, "total_error_replies:");
    ck_assert_msg(l != NULL && strcmp(l, "total_error_replies:3") == 0, "%s", l);
    freeReplyObject(r);
    r = th_cmd(rc, "CONFIG RESETSTAT");
    freeReplyObject(r);
    r = th_cmd(rc, "INFO errorstats");
    ck_assert_ptr_null(info_line(r->str, "errorstat_"));
    freeReplyObject(r);
    r = th_cmd(rc, "INFO commandstats");
    ck_assert_ptr_null(info_line(r->str, "cmdstat_get:"));
    ck_assert_ptr_null(info_line(r->str, "cmdstat_lpush:"));
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_resp3(void)
{
    TCase *tc = tcase_create("resp3");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hello_versions);
    tcase_add_test(tc, hello_auth);
    tcase_add_test(tc, resp3_nulls);
    tcase_add_test(tc, resp3_maps_and_sets);
    tcase_add_test(tc, resp3_doubles_and_pairs);
    tcase_add_test(tc, resp3_verbatim);
    tcase_add_test(tc, resp3_pubsub);
    tcase_add_test(tc, client_list_and_info);
    tcase_add_test(tc, client_kill);
    tcase_add_test(tc, client_reply);
    tcase_add_test(tc, client_pause);
    tcase_add_test(tc, info_sections);
    tcase_add_test(tc, info_stats);
    return tc;
}
