/*
 * test_persist.c - persistence: DUMP/RESTORE (exact payload of a string,
 * every type round-tripped, the options and Redis's errors, payloads of
 * one server restored into the other), SAVE/BGSAVE/LASTSAVE and INFO
 * persistence, a restart that keeps every key of every type with its TTL,
 * save points, SHUTDOWN SAVE; against mwrt-server also: a snapshot written
 * by redis-server loads, ours passes redis-check-rdb and loads into
 * redis-server, and a truncated or corrupt file is refused at start.
 *
 * Every server gets a --dir of its own (a fresh temporary directory), so
 * no test reads or leaves a dump.rdb anywhere else.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REDIS_BIN "/usr/bin/redis-server"
#define CHECK_RDB "/usr/bin/redis-check-rdb"

/* A fresh directory for this test's snapshot (under /tmp). */
static const char *fresh_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/mwrt-persist-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    return dir;
}

static void rm_dir(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void ok(redisContext *rc, redisReply *r)
{
    (void)rc;
    ck_assert_msg(r->type != REDIS_REPLY_ERROR, "error reply: %s", r->str);
    freeReplyObject(r);
}

/* Keys of every type, some with TTLs, in two databases when db1. */
static void populate(redisContext *rc, bool db1)
{
    ok(rc, th_cmd(rc, "SET str hello"));
    ok(rc, th_cmd(rc, "SET int 123456"));
    ok(rc, th_cmd(rc, "SET neg -7"));
    ok(rc, th_cmd(rc, "SET big %s", "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
                                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    ok(rc, th_cmd(rc, "SET ttl v PX 500000"));
    ok(rc, th_cmd(rc, "RPUSH list a b 1 -2 300 70000 9223372036854775807 9223372036854775808"));
    for (int i = 0; i < 300; i++) {
        ok(rc, th_cmd(rc, "RPUSH biglist item%d", i));
    }
    ok(rc, th_cmd(rc, "SADD iset 1 5 -3 100000"));
    ok(rc, th_cmd(rc, "SADD sset a b c"));
    ok(rc, th_cmd(rc, "HSET hash f1 v1 f2 2 f3 %s", "long value long value long value long value long value"));
    ok(rc, th_cmd(rc, "ZADD zset 1 a 2.5 b -inf c 1e100 d"));
    ok(rc, th_cmd(rc, "PEXPIRE zset 900000"));
    ok(rc, th_cmd(rc, "XADD stream 1-1 a 1 b 2"));
    ok(rc, th_cmd(rc, "XADD stream 2-0 a 3"));
    ok(rc, th_cmd(rc, "XADD stream 3-0 c 4"));
    ok(rc, th_cmd(rc, "XDEL stream 2-0"));
    ok(rc, th_cmd(rc, "XGROUP CREATE stream g1 0"));
    ok(rc, th_cmd(rc, "XREADGROUP GROUP g1 alice COUNT 1 STREAMS stream >"));
    ok(rc, th_cmd(rc, "XGROUP CREATE stream g2 $"));
    if (db1) {
        ok(rc, th_cmd(rc, "SELECT 1"));
        ok(rc, th_cmd(rc, "SET other db1"));
        ok(rc, th_cmd(rc, "SELECT 0"));
    }
}

static void append(char **s, size_t *n, const char *p, size_t len)
{
    *s = realloc(*s, *n + len + 2);
    memcpy(*s + *n, p, len);
    *n += len;
    (*s)[(*n)++] = '|';
    (*s)[*n] = '\0';
}

static void append_reply(char **s, size_t *n, redisReply *r)
{
    char t[64];
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        append(s, n, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        append(s, n, t, (size_t)snprintf(t, sizeof t, "%lld", r->integer));
        break;
    case REDIS_REPLY_ARRAY:
        append(s, n, "[", 1);
        for (size_t i = 0; i < r->elements; i++) {
            append_reply(s, n, r->element[i]);
        }
        append(s, n, "]", 1);
        break;
    default:
        append(s, n, "nil", 3);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Everything in the current database as one string: keys sorted, each
 * with its type, whether it has a TTL, and its contents (sets sorted,
 * hashes by field). */
static char *snapshot_db(redisContext *rc, const char *suffix)
{
    redisReply *keys = th_cmd(rc, "KEYS *");
    ck_assert_int_eq(keys->type, REDIS_REPLY_ARRAY);
    char **names = calloc(keys->elements + 1, sizeof *names);
    size_t nk = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        size_t l = strlen(suffix), kl = keys->element[i]->len;
        if (l == 0 || (kl > l && strcmp(keys->element[i]->str + kl - l, suffix) == 0)) {
            names[nk++] = strndup(keys->element[i]->str, kl - l);
        }
    }
    freeReplyObject(keys);
    qsort(names, nk, sizeof *names, cmp_str);
    char *s = NULL;
    size_t n = 0;
    append(&s, &n, "", 0);
    for (size_t i = 0; i < nk; i++) {
        char key[256];
        snprintf(key, sizeof key, "%s%s", names[i], suffix);
        append(&s, &n, names[i], strlen(names[i]));
        redisReply *t = th_cmd(rc, "TYPE %s", key);
        append(&s, &n, t->str, t->len);
        redisReply *ttl = th_cmd(rc, "PTTL %s", key);
        append(&s, &n, ttl->integer > 0 ? "ttl" : "-", ttl->integer > 0 ? 3 : 1);
        freeReplyObject(ttl);
        const char *type = t->str;
        redisReply *v = NULL;
        if (strcmp(type, "string") == 0) {
            v = th_cmd(rc, "GET %s", key);
        } else if (strcmp(type, "list") == 0) {
            v = th_cmd(rc, "LRANGE %s 0 -1", key);
        } else if (strcmp(type, "zset") == 0) {
            v = th_cmd(rc, "ZRANGE %s 0 -1 WITHSCORES", key);
        } else if (strcmp(type, "set") == 0 || strcmp(type, "hash") == 0) {
            bool hash = strcmp(type, "hash") == 0;
            v = hash ? th_cmd(rc, "HGETALL %s", key) : th_cmd(rc, "SMEMBERS %s", key);
            size_t step = hash ? 2 : 1, m = v->elements / step;
            char **el = calloc(m + 1, sizeof *el);
            for (size_t k = 0; k < m; k++) {
                const redisReply *a = v->element[k * step];
                const redisReply *b = hash ? v->element[k * step + 1] : NULL;
                el[k] = malloc(a->len + (b ? b->len : 0) + 2);
                sprintf(el[k], "%s=%s", a->str, b ? b->str : "");
            }
            qsort(el, m, sizeof *el, cmp_str);
            for (size_t k = 0; k < m; k++) {
                append(&s, &n, el[k], strlen(el[k]));
                free(el[k]);
            }
            free(el);
            freeReplyObject(v);
            v = NULL;
        } else if (strcmp(type, "stream") == 0) {
            v = th_cmd(rc, "XRANGE %s - +", key);
            append_reply(&s, &n, v);
            freeReplyObject(v);
            v = th_cmd(rc, "XINFO GROUPS %s", key);
            append_reply(&s, &n, v);
            freeReplyObject(v);
            v = th_cmd(rc, "XPENDING %s g1 - + 10", key);
            // The delivery time goes on: keep ID, consumer, count.
            for (size_t k = 0; v->type == REDIS_REPLY_ARRAY && k < v->elements; k++) {
                redisReply *e = v->element[k];
                append_reply(&s, &n, e->element[0]);
                append_reply(&s, &n, e->element[1]);
                append_reply(&s, &n, e->element[3]);
            }
            freeReplyObject(v);
            v = NULL;
        }
        if (v != NULL) {
            append_reply(&s, &n, v);
            freeReplyObject(v);
        }
        freeReplyObject(t);
        free(names[i]);
    }
    free(names);
    return s;
}

/* The snapshot of databases 0 and 1. */
static char *snapshot(redisContext *rc)
{
    char *a = snapshot_db(rc, "");
    ok(rc, th_cmd(rc, "SELECT 1"));
    char *b = snapshot_db(rc, "");
    ok(rc, th_cmd(rc, "SELECT 0"));
    char *s = malloc(strlen(a) + strlen(b) + 8);
    sprintf(s, "%s##%s", a, b);
    free(a);
    free(b);
    return s;
}

/* Two snapshots are equal, or the test fails naming where they part. */
#define SAME(a, b) same_at((a), (b), __LINE__)
static void same_at(const char *a, const char *b, int line)
{
    size_t i = 0;
    while (a[i] != '\0' && a[i] == b[i]) {
        i++;
    }
    if (a[i] != b[i]) {
        size_t from = i > 60 ? i - 60 : 0;
        ck_abort_msg("line %d: snapshots differ at %zu: ...%.160s\n vs ...%.160s", line, i,
                     a + from, b + from);
    }
}

/* INFO persistence's value of field, as a number. */
static long long info_field(redisContext *rc, const char *field)
{
    redisReply *r = th_cmd(rc, "INFO persistence");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    char pat[64];
    snprintf(pat, sizeof pat, "\r\n%s:", field);
    const char *p = strstr(r->str, pat);
    ck_assert_msg(p != NULL, "no %s in INFO persistence", field);
    long long v = strtoll(p + strlen(pat), NULL, 10);
    freeReplyObject(r);
    return v;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* ---------------------------------------------------------------- DUMP */

START_TEST(dump_exact_string)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "foo", "bar");
    // Redis 7.0's payload: type 0, "bar", RDB version 10, CRC-64.
    EXPECT(c, "$15\r\n\x00\x03" "bar\x0a\x00" "\xe6\xbe\x49\x60\xee\x66\xfd\x17\r\n", "DUMP", "foo");
    EXPECT(c, "+OK\r\n", "SET", "n", "12");
    EXPECT(c, "$13\r\n\x00\xc0\x0c\x0a\x00" "\x3c\x2a\xf8\x51\x5c\x04\xbc\xd5\r\n", "DUMP", "n");
    EXPECT(c, "$-1\r\n", "DUMP", "nonexisting");
    th_close(c);
    STOP();
}
END_TEST

/* Every key DUMPed and RESTOREd under "<key>:copy" reads back the same. */
static void restore_all_copies(redisContext *from, redisContext *to, const char *suffix)
{
    redisReply *keys = th_cmd(from, "KEYS *");
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        if (strchr(k, ':') != NULL) {
            continue;   // a copy made before
        }
        redisReply *d = th_cmd(from, "DUMP %s", k);
        ck_assert_int_eq(d->type, REDIS_REPLY_STRING);
        redisReply *r = th_cmd(to, "RESTORE %s%s 0 %b REPLACE", k, suffix, d->str, d->len);
        ck_assert_msg(r->type == REDIS_REPLY_STATUS, "RESTORE %s: %s", k,
                      r->type == REDIS_REPLY_ERROR ? r->str : "?");
        freeReplyObject(r);
        freeReplyObject(d);
    }
    freeReplyObject(keys);
}

START_TEST(dump_restore_every_type)
{
    START();
    redisContext *rc = RCONNECT();
    populate(rc, false);
    ok(rc, th_cmd(rc, "PERSIST ttl"));
    ok(rc, th_cmd(rc, "PERSIST zset"));
    char *before = snapshot_db(rc, "");
    restore_all_copies(rc, rc, ":copy");
    char *copies = snapshot_db(rc, ":copy");
    SAME(before, copies);
    free(before);
    free(copies);
    redisFree(rc);
    STOP();
}
END_TEST

START_TEST(restore_options_and_errors)
{
    START();
    redisContext *rc = RCONNECT();
    th_conn *c = CONNECT();
    ok(rc, th_cmd(rc, "SET foo bar"));
    redisReply *d = th_cmd(rc, "DUMP foo");
    redisReply *r = th_cmd(rc, "RESTORE foo 0 %b", d->str, d->len);
    ck_assert_str_eq(r->str, "BUSYKEY Target key name already exists.");
    freeReplyObject(r);
    r = th_cmd(rc, "RESTORE foo 0 %b REPLACE BOGUS", d->str, d->len);
    ck_assert_str_eq(r->str, "ERR syntax error");
    freeReplyObject(r);
    r = th_cmd(rc, "RESTORE foo -1 %b REPLACE", d->str, d->len);
    ck_assert_str_eq(r->str, "ERR Invalid TTL value, must be >= 0");
    freeReplyObject(r);
    // A wrong byte: the checksum no longer matches.
    char bad[64];
    memcpy(bad, d->str, d->len);
    bad[3] ^= 1;
    r = th_cmd(rc, "RESTORE x 0 %b", bad, d->len);
    ck_assert_str_eq(r->str, "ERR DUMP payload version or checksum are wrong");
    freeReplyObject(r);
    EXPECT(c, "-ERR DUMP payload version or checksum are wrong\r\n", "RESTORE", "x", "0", "...");
    // A right checksum over a wrong body: a type that does not exist.
    static const char body[] = "\x63\x00\x0a\x00" "\x6b\x89\x76\xbc\x2a\xe5\x24\x98";
    r = th_cmd(rc, "RESTORE x 0 %b", body, sizeof body - 1);
    ck_assert_str_eq(r->str, "ERR Bad data format");
    freeReplyObject(r);
    // TTL, ABSTTL, IDLETIME.
    r = th_cmd(rc, "RESTORE ttl 5000 %b", d->str, d->len);
    ok(rc, r);
    r = th_cmd(rc, "PTTL ttl");
    ck_assert(r->integer > 3000 && r->integer <= 5000);
    freeReplyObject(r);
    r = th_cmd(rc, "RESTORE abs 1000 %b ABSTTL", d->str, d->len);   // long past
    ok(rc, r);
    r = th_cmd(rc, "EXISTS abs");
    ck_assert_int_eq(r->integer, 0);
    freeReplyObject(r);
    r = th_cmd(rc, "RESTORE idle 0 %b IDLETIME 1000", d->str, d->len);
    ok(rc, r);
    r = th_cmd(rc, "OBJECT IDLETIME idle");
    ck_assert(r->integer >= 1000 && r->integer <= 1010);
    freeReplyObject(r);
    r = th_cmd(rc, "GET idle");
    ck_assert_str_eq(r->str, "bar");
    freeReplyObject(r);
    freeReplyObject(d);
    th_close(c);
    redisFree(rc);
    STOP();
}
END_TEST

/* A server of the other kind (mwrt-server when testing redis-server and
 * the reverse), started in s with extra arguments. */
static bool start_other(th_server *s, const char *const extra[], bool want_redis)
{
    th_config saved = th_cfg;
    if (want_redis) {
        if (access(REDIS_BIN, X_OK) != 0) {
            return false;
        }
        th_cfg.kind = TH_REDIS;
        th_cfg.path = REDIS_BIN;
        th_cfg.nargs = 0;
    }
    char err[4096];
    int r = th_server_start(s, extra, err, sizeof err);
    th_cfg = saved;
    ck_assert_msg(r == 0, "cannot start the other server: %s", err);
    return true;
}

START_TEST(dump_across_servers)
{
    if (!IS_MWRT()) {
        return;     // the mwrt entries cross to redis-server
    }
    START();
    th_server other;
    if (!start_other(&other, NULL, true)) {
        STOP();
        return;
    }
    redisContext *m = RCONNECT(), *r = th_redis(&other);
    ck_assert_ptr_nonnull(r);
    populate(m, false);
    populate(r, false);
    ok(m, th_cmd(m, "PERSIST ttl"));
    ok(m, th_cmd(m, "PERSIST zset"));
    char *want = snapshot_db(m, "");
    restore_all_copies(r, m, ":fromredis");     // Redis's payloads into mwrt
    char *got = snapshot_db(m, ":fromredis");
    SAME(want, got);
    free(got);
    restore_all_copies(m, r, ":frommwrt");      // and ours into Redis
    got = snapshot_db(r, ":frommwrt");
    SAME(want, got);
    free(got);
    free(want);
    redisFree(m);
    redisFree(r);
    th_server_stop(&other, SIGTERM);
    STOP();
}
END_TEST

/* ---------------------------------------------------------------- files */

START_TEST(save_and_restart)
{
    const char *dir = fresh_dir();
    char d[64];
    snprintf(d, sizeof d, "%s", dir);
    START_WITH("--dir", d);
    redisContext *rc = RCONNECT();
    populate(rc, true);
    long long t0 = info_field(rc, "rdb_last_save_time");
    ck_assert(info_field(rc, "rdb_changes_since_last_save") > 0);
    sleep(1);
    ok(rc, th_cmd(rc, "SAVE"));
    ck_assert(file_exists(d, "dump.rdb"));
    ck_assert_int_eq(info_field(rc, "rdb_changes_since_last_save"), 0);
    redisReply *ls = th_cmd(rc, "LASTSAVE");
    ck_assert(ls->integer > t0);
    ck_assert_int_eq(ls->integer, info_field(rc, "rdb_last_save_time"));
    freeReplyObject(ls);
    char *before = snapshot(rc);
    redisFree(rc);
    STOP();
    START_WITH("--dir", d);
    rc = RCONNECT();
    char *after = snapshot(rc);
    SAME(before, after);
    redisReply *r = th_cmd(rc, "PTTL ttl");
    ck_assert(r->integer > 400000 && r->integer <= 500000);
    freeReplyObject(r);
    free(before);
    free(after);
    redisFree(rc);
    STOP();
    rm_dir(d);
}
END_TEST

START_TEST(bgsave_and_save_points)
{
    const char *dir = fresh_dir();
    char d[64];
    snprintf(d, sizeof d, "%s", dir);
    START_WITH("--dir", d, "--dbfilename", "bg.rdb");
    redisContext *rc = RCONNECT();
    populate(rc, false);
    redisReply *r = th_cmd(rc, "BGSAVE");
    ck_assert_str_eq(r->str, "Background saving started");
    freeReplyObject(r);
    for (int i = 0; i < 100 && (info_field(rc, "rdb_bgsave_in_progress") != 0 ||
                                !file_exists(d, "bg.rdb")); i++) {
        th_sleep_ms(50);
    }
    ck_assert(file_exists(d, "bg.rdb"));
    r = th_cmd(rc, "INFO persistence");
    ck_assert_ptr_nonnull(strstr(r->str, "rdb_last_bgsave_status:ok"));
    freeReplyObject(r);
    // A save point of one change in one second.
    char path[128];
    snprintf(path, sizeof path, "%s/bg.rdb", d);
    ck_assert_int_eq(unlink(path), 0);
    ok(rc, th_cmd(rc, "CONFIG SET save %s", "1 1"));
    r = th_cmd(rc, "CONFIG GET save");
    ck_assert_str_eq(r->element[1]->str, "1 1");
    freeReplyObject(r);
    ok(rc, th_cmd(rc, "SET one more"));
    for (int i = 0; i < 100 && !file_exists(d, "bg.rdb"); i++) {
        th_sleep_ms(50);
    }
    ck_assert(file_exists(d, "bg.rdb"));
    ok(rc, th_cmd(rc, "CONFIG SET save %s", ""));
    r = th_cmd(rc, "CONFIG SET dir /nonexistent-dir-of-the-test");
    ck_assert_int_eq(r->type, REDIS_REPLY_ERROR);
    freeReplyObject(r);
    redisFree(rc);
    STOP();
    rm_dir(d);
}
END_TEST

START_TEST(shutdown_save)
{
    const char *dir = fresh_dir();
    char d[64];
    snprintf(d, sizeof d, "%s", dir);
    START_WITH("--dir", d);
    th_conn *c = CONNECT();
    EXPECT(c, "+OK\r\n", "SET", "kept", "yes");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-ERR Command not allowed inside a transaction\r\n", "SAVE");
    EXPECT(c, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");
    const char *const req[] = {"SHUTDOWN", "SAVE"};
    ck_assert_int_eq(th_send_cmd(c, 2, req, NULL), 0);
    EXPECT_CLOSED(c);
    th_close(c);
    int st = th_server_stop(&th_srv, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after SHUTDOWN SAVE: %s",
                  th_describe_status(st));
    ck_assert(file_exists(d, "dump.rdb"));
    START_WITH("--dir", d);
    c = CONNECT();
    EXPECT(c, "$3\r\nyes\r\n", "GET", "kept");
    th_close(c);
    STOP();
    rm_dir(d);
}
END_TEST

/* A snapshot written by redis-server loads into mwrt-server with every
 * key; ours passes redis-check-rdb and loads into redis-server. */
START_TEST(files_across_servers)
{
    if (!IS_MWRT() || access(REDIS_BIN, X_OK) != 0) {
        return;
    }
    const char *dir = fresh_dir();
    char d[64], cmd[256];
    snprintf(d, sizeof d, "%s", dir);
    const char *const extra[] = {"--dir", d, NULL};
    th_server other;
    start_other(&other, extra, true);
    redisContext *r = th_redis(&other);
    populate(r, true);
    char *want = snapshot(r);
    ok(r, th_cmd(r, "SAVE"));
    redisFree(r);
    th_server_stop(&other, SIGTERM);
    START_WITH("--dir", d);
    redisContext *m = RCONNECT();
    char *got = snapshot(m);
    SAME(want, got);
    free(got);
    ok(m, th_cmd(m, "CONFIG SET dbfilename ours.rdb"));
    ok(m, th_cmd(m, "SAVE"));
    redisFree(m);
    STOP();
    if (access(CHECK_RDB, X_OK) == 0) {
        snprintf(cmd, sizeof cmd, CHECK_RDB " %s/ours.rdb >/dev/null 2>&1", d);
        ck_assert_msg(system(cmd) == 0, "redis-check-rdb refuses %s/ours.rdb", d);
    }
    snprintf(cmd, sizeof cmd, "mv %s/ours.rdb %s/dump.rdb", d, d);
    ck_assert_int_eq(system(cmd), 0);
    start_other(&other, extra, true);
    r = th_redis(&other);
    got = snapshot(r);
    SAME(want, got);
    free(got);
    free(want);
    redisFree(r);
    th_server_stop(&other, SIGTERM);
    rm_dir(d);
}
END_TEST

/* A truncated or corrupt snapshot: the server does not start, and says
 * where the file is wrong. */
START_TEST(bad_file_refused)
{
    if (!IS_MWRT()) {
        return;
    }
    const char *dir = fresh_dir();
    char d[64], cmd[512];
    snprintf(d, sizeof d, "%s", dir);
    START_WITH("--dir", d);
    redisContext *rc = RCONNECT();
    populate(rc, true);
    ok(rc, th_cmd(rc, "SAVE"));
    redisFree(rc);
    STOP();
    const char *damage[] = {
        "head -c 300 %s/dump.rdb > %s/x && mv %s/x %s/dump.rdb",                         // truncated
        "printf 'Z' | dd of=%s/dump.rdb bs=1 seek=200 conv=notrunc 2>/dev/null; : %s %s %s", // a byte
    };
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "cp %s/dump.rdb %s/good.rdb", d, d);
        ck_assert_int_eq(system(cmd), 0);
        snprintf(cmd, sizeof cmd, damage[i], d, d, d, d);
        ck_assert_int_eq(system(cmd), 0);
        char err[4096];
        th_server s;
        const char *const extra[] = {"--dir", d, NULL};
        int r = th_server_start(&s, extra, err, sizeof err);
        ck_assert_msg(r != 0, "a damaged file (%d) was accepted", i);
        ck_assert_msg(strstr(err, "bad RDB file at offset") != NULL, "no offset named: %s", err);
        snprintf(cmd, sizeof cmd, "mv %s/good.rdb %s/dump.rdb", d, d);
        ck_assert_int_eq(system(cmd), 0);
    }
    rm_dir(d);
}
END_TEST

/* REF values survive a restart (mwrt's own type 64), cycles included. */
START_TEST(refs_survive_restart)
{
    if (!IS_MWRT()) {
        return;
    }
    const char *dir = fresh_dir();
    char d[64];
    snprintf(d, sizeof d, "%s", dir);
    START_WITH("--dir", d);
    th_conn *c = CONNECT();
    EXPECT(c, ":1\r\n", "HSET", "{r}a", "x", "1");
    EXPECT(c, ":1\r\n", "HSET", "{r}b", "y", "2");
    EXPECT(c, ":1\r\n", "REF.SET", "{r}a", "peer", "{r}b");
    EXPECT(c, ":1\r\n", "REF.SET", "{r}b", "peer", "{r}a");
    const char *const hg[] = {"HGETALL", "{r}a"};
    ck_assert_int_eq(th_send_cmd(c, 2, hg, NULL), 0);
    size_t blen;
    char *before = th_read_reply(c, &blen);
    ck_assert_ptr_nonnull(before);
    EXPECT(c, "+OK\r\n", "SAVE");
    th_close(c);
    STOP();
    START_WITH("--dir", d);
    c = CONNECT();
    char *diff = th_expect(c, before, blen, 2, hg, NULL);
    ck_assert_msg(diff == NULL, "%s", diff);
    free(before);
    // The cycle of a's own graph came back: deleting both keys leaves
    // garbage for the collector.
    EXPECT(c, ":2\r\n", "DEL", "{r}a", "{r}b");
    th_close(c);
    STOP();
    rm_dir(d);
}
END_TEST

TCase *tcase_persist(void)
{
    TCase *tc = tcase_create("persist");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, dump_exact_string);
    tcase_add_test(tc, dump_restore_every_type);
    tcase_add_test(tc, restore_options_and_errors);
    tcase_add_test(tc, dump_across_servers);
    tcase_add_test(tc, save_and_restart);
    tcase_add_test(tc, bgsave_and_save_points);
    tcase_add_test(tc, shutdown_save);
    tcase_add_test(tc, files_across_servers);
    tcase_add_test(tc, bad_file_refused);
    tcase_add_test(tc, refs_survive_restart);
    return tc;
}
