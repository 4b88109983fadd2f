/*
 * test_script.c - EVAL, EVALSHA, EVAL_RO and SCRIPT: Lua values into
 * replies and replies into Lua values, KEYS and ARGV, redis.call against
 * redis.pcall on a failing command, the errors of a script (runtime,
 * compile, unknown and refused commands, read-only scripts, globals), the
 * cache (LOAD, EXISTS, FLUSH, NOSCRIPT), a blocking command refused,
 * SELECT inside a script leaving the caller's database alone, and a
 * WATCH broken by a script's write, and a script past the time limit
 * (-BUSY for the others, SCRIPT KILL, UNKILLABLE once it has written).  Replies are Redis 7.0's, byte for byte
 * (the suite runs against redis-server too).  Keys share one hash tag so
 * that a sharded server runs each script where all its keys are.
 */
#include "harness.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

START_TEST(values)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, ":100\r\n", "EVAL", "return 100.5", "0");
    EXPECT(c, "$5\r\nhello\r\n", "EVAL", "return 'hello'", "0");
    EXPECT(c, ":1\r\n", "EVAL", "return true", "0");
    EXPECT(c, "$-1\r\n", "EVAL", "return false", "0");
    EXPECT(c, "$-1\r\n", "EVAL", "return nil", "0");
    EXPECT(c, "+fine\r\n", "EVAL", "return {ok='fine'}", "0");
    EXPECT(c, "+fine\r\n", "EVAL", "return redis.status_reply('fine')", "0");
    EXPECT(c, "-My Error\r\n", "EVAL", "return {err='My Error'}", "0");
    EXPECT(c, "-My Error\r\n", "EVAL", "return redis.error_reply('My Error')", "0");
    EXPECT(c, "*4\r\n:1\r\n:2\r\n:3\r\n$3\r\nban\r\n", "EVAL", "return {1,2,3,'ban',nil,'ana'}", "0");
    EXPECT(c, "*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", "EVAL", "return {{1},'x'}", "0");
    EXPECT(c, "*4\r\n$4\r\n{s}a\r\n$4\r\n{s}b\r\n$1\r\nc\r\n$1\r\nd\r\n",
           "EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "{s}a", "{s}b", "c", "d");
    EXPECT(c, "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n",
           "EVAL", "return redis.sha1hex('')", "0");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(calls)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "{s}k", "v");
    EXPECT(c, "$1\r\nv\r\n", "EVAL", "return redis.call('get', KEYS[1])", "1", "{s}k");
    // Replies into Lua values, and back.
    EXPECT(c, "$6\r\nnumber\r\n", "EVAL", "return type(redis.call('incr', KEYS[1]))", "1", "{s}n");
    EXPECT(c, ":1\r\n", "EVAL", "return redis.call('get', KEYS[1]) == false", "1", "{s}none");
    EXPECT(c, "$2\r\nOK\r\n", "EVAL", "return redis.call('set', KEYS[1], 'x')['ok']", "1", "{s}k");
    EXPECT(c, "*2\r\n$1\r\na\r\n$1\r\nb\r\n",
           "EVAL", "redis.call('rpush', KEYS[1], 'a', 'b') return redis.call('lrange', KEYS[1], 0, -1)",
           "1", "{s}l");
    // Numbers as arguments are written as Redis writes them.
    EXPECT(c, "$3\r\n1.5\r\n", "EVAL", "return redis.call('incrbyfloat', KEYS[1], 1.5)", "1", "{s}f");
    // A failing command: call raises it, pcall returns it.
    EXPECT(c, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
           "EVAL", "return redis.pcall('lpush', KEYS[1], 'a')", "1", "{s}k");
    EXPECT(c, "$30\r\nWRONGTYPE Operation against a \r\n",
           "EVAL", "return string.sub(redis.pcall('lpush', KEYS[1], 'a')['err'], 1, 30)", "1", "{s}k");
    // Blocking commands are refused in a script, as Redis refuses them.
    EXPECT(c, "-ERR This Redis command is not allowed from script script: "
              "568b67191b9a419e4f4bc18c6e2081725d1dd169, on @user_script:1.\r\n",
           "EVAL", "return redis.call('brpoplpush', KEYS[1], KEYS[2], 0)", "2", "{s}empty", "{s}dst");
    // SELECT in a script is the script's own.
    EXPECT(c, "+OK\r\n", "EVAL", "redis.call('select', 5) return redis.call('set', KEYS[1], 'five')",
           "1", "{s}k5");
    EXPECT(c, ":0\r\n", "EXISTS", "{s}k5");
    EXPECT(c, "+OK\r\n", "SELECT", "5");
    EXPECT(c, "$4\r\nfive\r\n", "GET", "{s}k5");
    EXPECT(c, "+OK\r\n", "SELECT", "0");
    // A script's write breaks a WATCH like any write.
    th_conn *w = CONNECT();
    EXPECT(w, "+OK\r\n", "WATCH", "{s}k");
    EXPECT(c, "+OK\r\n", "EVAL", "return redis.call('set', KEYS[1], 'changed')", "1", "{s}k");
    EXPECT(w, "+OK\r\n", "MULTI");
    EXPECT(w, "+QUEUED\r\n", "GET", "{s}k");
    EXPECT(w, "*-1\r\n", "EXEC");
    th_close(w);
    th_close(c);
    STOP();
}
END_TEST

START_TEST(errors)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR user_script:1: boom script: 82903a0434f1503e152f89c03c9acd881a0e8150, on "
              "@user_script:1.\r\n", "EVAL", "error('boom')", "0");
    EXPECT(c, "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' "
              "script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n",
           "EVAL", "return x", "0");
    EXPECT(c, "-ERR user_script:1: Attempt to modify a readonly table script: "
              "34bce5f775de97f557a34088509c8bfe1ea17e52, on @user_script:1.\r\n", "EVAL", "x = 1", "0");
    EXPECT(c, "-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\r\n",
           "EVAL", "retur 1", "0");
    EXPECT(c, "-ERR Number of keys can't be greater than number of args\r\n", "EVAL", "return 1", "2", "a");
    EXPECT(c, "-ERR Number of keys can't be negative\r\n", "EVAL", "return 1", "-1");
    EXPECT(c, "-ERR value is not an integer or out of range\r\n", "EVAL", "return 1", "x");
    EXPECT(c, "-ERR Unknown Redis command called from script script: "
              "206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n",
           "EVAL", "return redis.call('nosuch')", "0");
    EXPECT(c, "-ERR Write commands are not allowed from read-only scripts. script: "
              "98b2b88b1aa43ae891c8e2859ad7d9cd48c1c784, on @user_script:1.\r\n",
           "EVAL_RO", "return redis.call('del', KEYS[1])", "1", "{s}a");
    EXPECT(c, "$-1\r\n", "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "{s}a");
    th_close(c);
    STOP();
}
END_TEST

START_TEST(cache)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SCRIPT", "FLUSH");
    EXPECT(c, "$40\r\nb534286061d4b9e4026607613b95c06c06015ae8\r\n", "SCRIPT", "LOAD", "return 'loaded'");
    EXPECT(c, "$6\r\nloaded\r\n", "EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0");
    EXPECT(c, "$6\r\nloaded\r\n", "EVALSHA", "B534286061D4B9E4026607613B95C06C06015AE8", "0");
    EXPECT(c, "*2\r\n:1\r\n:0\r\n", "SCRIPT", "EXISTS", "b534286061d4b9e4026607613b95c06c06015ae8",
           "ffffffffffffffffffffffffffffffffffffffff");
    // EVAL caches what it runs.
    EXPECT(c, ":7\r\n", "EVAL", "return 7", "0");
    EXPECT(c, "*1\r\n:1\r\n", "SCRIPT", "EXISTS", "59b6ab2fbe0ee4b25733de0f62e6cda4899ef8e9");
    EXPECT(c, "+OK\r\n", "SCRIPT", "FLUSH");
    EXPECT(c, "-NOSCRIPT No matching script. Please use EVAL.\r\n",
           "EVALSHA", "b534286061d4b9e4026607613b95c06c06015ae8", "0");
    EXPECT(c, "-NOSCRIPT No matching script. Please use EVAL.\r\n", "EVALSHA", "short", "0");
    EXPECT(c, "-ERR Error compiling script (new function): user_script:1: '=' expected near '1'\r\n",
           "SCRIPT", "LOAD", "retur 1");
    EXPECT(c, "-NOTBUSY No scripts in execution right now.\r\n", "SCRIPT", "KILL");
    EXPECT(c, "-ERR unknown subcommand 'bogus'. Try SCRIPT HELP.\r\n", "SCRIPT", "bogus");
    th_close(c);
    STOP();
}
END_TEST

/* Ask c for PING until the answer is -BUSY (a script on another
 * connection is past the time limit); the number of tries bounds it. */
static void wait_busy(th_conn *c)
{
    for (int i = 0; i < 2000; i++) {
        SEND(c, "PING");
        size_t n;
        char *r = th_read_reply(c, &n);
        ck_assert_ptr_nonnull(r);
        bool busy = strncmp(r, "-BUSY ", 6) == 0;
        free(r);
        if (busy) {
            return;
        }
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("the script never made the server busy");
}

START_TEST(busy)
{
    START();
    th_conn *a = CONNECT();
    th_conn *b = CONNECT();
    EXPECT(b, "+OK\r\n", "CONFIG", "SET", "busy-reply-threshold", "20");
    // Past the limit, other clients get -BUSY; SCRIPT KILL ends a script
    // that has not written, and its caller gets the error.
    SEND(a, "EVAL", "while true do end", "0");
    wait_busy(b);
    EXPECT(b, "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
              "SHUTDOWN NOSAVE.\r\n", "GET", "{s}k");
    EXPECT(b, "+OK\r\n", "SCRIPT", "KILL");
    READS(a, "-ERR Script killed by user with SCRIPT KILL... script: "
             "694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7, on @user_script:1.\r\n");
    EXPECT(a, "+PONG\r\n", "PING");
    EXPECT(b, "+PONG\r\n", "PING");
    // One that has written is not killed; it runs to its end (two to
    // three seconds of the server's clock) and its write stays.
    SEND(a, "EVAL", "redis.call('set', KEYS[1], 'w') local t = redis.call('time')[1] "
                    "while redis.call('time')[1] - t < 3 do end return 1", "1", "{s}w");
    wait_busy(b);
    EXPECT(b, "-UNKILLABLE Sorry the script already executed write commands against the "
              "dataset. You can either wait the script termination or kill the server in a "
              "hard way using the SHUTDOWN NOSAVE command.\r\n", "SCRIPT", "KILL");
    READS(a, ":1\r\n");
    EXPECT(b, "$1\r\nw\r\n", "GET", "{s}w");
    EXPECT(b, "-NOTBUSY No scripts in execution right now.\r\n", "SCRIPT", "KILL");
    EXPECT(b, "+OK\r\n", "CONFIG", "SET", "busy-reply-threshold", "5000");
    th_close(a);
    th_close(b);
    STOP();
}
END_TEST

/* The libraries Redis gives scripts beyond Lua's own (cjson, bit), and
 * the sandbox: no global, library or rawset change outlives a script. */
START_TEST(libraries)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "$13\r\n[1,2,{\"a\":3}]\r\n", "EVAL", "return cjson.encode({1,2,{a=3}})", "0");
    EXPECT(c, "$1\r\nx\r\n", "EVAL", "return cjson.decode('[1,{\"a\":\"x\"}]')[2].a", "0");
    EXPECT(c, ":31\r\n", "EVAL", "return bit.band(0xff, 0x0f) + bit.lshift(1, 4)", "0");
    EXPECT(c, "$8\r\n0000ffff\r\n", "EVAL", "return bit.tohex(65535)", "0");
    EXPECT(c, "-ERR user_script:1: Attempt to modify a readonly table script: "
              "f18cd635a4843c791eae09bf352c0edf1b386809, on @user_script:1.\r\n",
           "EVAL", "cjson = nil", "0");
    EXPECT(c, "-ERR user_script:1: Attempt to modify a readonly table script: "
              "2786c35ed73d3860851cf52e0b5dfbbc0bdb4803, on @user_script:1.\r\n",
           "EVAL", "redis.call = nil", "0");
    EXPECT(c, "-ERR user_script:1: Attempt to modify a readonly table script: "
              "16be132686e0477ac75b74cf44a508679d72ebc1, on @user_script:1.\r\n",
           "EVAL", "string.upper = nil", "0");
    // (Redis words the rawset refusal without the line: only its prefix.)
    SEND(c, "EVAL", "rawset(_G, 'x', 1)", "0");
    size_t n;
    char *r = th_read_reply(c, &n);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(strncmp(r, "-ERR ", 5) == 0 && strstr(r, "Attempt to modify a readonly table"),
                  "rawset on the globals: %s", r);
    free(r);
    EXPECT(c, "-ERR user_script:1: Script attempted to access nonexistent global variable 'x' "
              "script: 03c387736bb5cc009ff35151572cee04677aa374, on @user_script:1.\r\n",
           "EVAL", "return x", "0");
    // Still whole for the next script; own tables stay writable.
    EXPECT(c, "$13\r\n[1,2,{\"a\":3}]\r\n", "EVAL", "return cjson.encode({1,2,{a=3}})", "0");
    EXPECT(c, "$3\r\nABC\r\n", "EVAL", "return ('abc'):upper()", "0");
    EXPECT(c, ":6\r\n", "EVAL", "local t = {} rawset(t, 'a', 1) t.b = 5 return t.a + t.b", "0");
    th_close(c);
    STOP();
}
END_TEST

TCase *tcase_script(void)
{
    TCase *tc = tcase_create("script");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, values);
    tcase_add_test(tc, calls);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, cache);
    tcase_add_test(tc, busy);
    tcase_add_test(tc, libraries);
    return tc;
}
