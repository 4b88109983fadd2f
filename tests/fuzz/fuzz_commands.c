/*
 * fuzz_commands.c - every command of the server, with random arguments,
 * in RESP2 and RESP3, against the real binary.
 *
 *   fuzz_commands mwrt|redis SERVER [--seed N] [--requests N] [-- SERVER_ARGS...]
 *
 * The server says what its commands are (COMMAND: names, arities, flags);
 * the fuzzer then sends N requests, each a random command with a random
 * number of arguments around its arity, drawn from values that commands
 * read (a few keys, some sharing a hash tag; integers, floats, infinities,
 * stream IDs, ranges, glob patterns, the option words of every family,
 * empty and binary strings), on a few connections at once, some of which
 * switch to RESP3 with HELLO 3 and back.  Every request must get exactly
 * one well-formed reply within the harness's timeout (a reply is framed by
 * th_reply_len, which knows RESP3), the server must still answer PING at
 * the end, and it must then exit with status 0 on SIGTERM: a crash, a
 * hang, a protocol error or a sanitizer report (the ASan and TSan builds
 * run this too) fails the run, which prints the seed and the request.
 *
 * Left out: commands that wait or change the connection's mode
 * (blocking ones, SUBSCRIBE and its kin, MONITOR), that end the server or
 * the connection (SHUTDOWN, QUIT, RESET, CLIENT), that sleep or change
 * settings (DEBUG, CONFIG), and scripts (a random body may loop).  The
 * same program runs against redis-server for comparison runs by hand.
 */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NCONN 4
#define MAXARGS 12

static uint64_t rng_state;

static uint64_t next_rand(void)
{
    // xorshift64*: enough for choosing arguments, reproducible from a seed.
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t pick(size_t n)
{
    return (size_t)(next_rand() % n);
}

typedef struct command {
    char name[48];
    long arity;
} command;

static const char *const words[] = {
    // keys: a few, so that commands meet each other's values
    "k1", "k2", "k3", "{t}a", "{t}b", "{t}c", "list", "hash", "set", "zset", "stream",
    // numbers
    "0", "1", "-1", "2", "3", "10", "100", "-100", "1.5", "-2.5", "1e10", "inf", "-inf",
    "+inf", "nan", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
    "0.0000001", "(1", "(5", "[a", "(z", "-", "+", "$", "*", ">", "0-1", "1-0", "5-*",
    // strings and patterns
    "", "a", "b", "c", "hello", "*", "k*", "?", "[a-z]", "\\", "\x01\x02\xff", "field",
    "member", "#", "weight_*", "obj_*->f", "group", "consumer", "ch",
    // options of every family
    "NX", "XX", "GT", "LT", "CH", "INCR", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET",
    "PERSIST", "WITHSCORES", "WITHSCORE", "LIMIT", "BYSCORE", "BYLEX", "REV", "COUNT",
    "MATCH", "TYPE", "STORE", "STOREDIST", "BY", "ALPHA", "ASC", "DESC", "LEFT", "RIGHT",
    "BEFORE", "AFTER", "MIN", "MAX", "AGGREGATE", "SUM", "WEIGHTS", "IDX", "LEN",
    "MINMATCHLEN", "WITHMATCHLEN", "RANK", "MAXLEN", "MINID", "~", "=", "NOMKSTREAM",
    "STREAMS", "GROUP", "NOACK", "IDLE", "FORCE", "JUSTID", "MKSTREAM", "ENTRIESREAD",
    "CREATE", "SETID", "DESTROY", "FULL", "DB", "REPLACE", "ABSTTL", "FREQ", "USAGE",
    "SAMPLES", "ENCODING", "REFCOUNT", "IDLETIME", "FROMMEMBER", "FROMLONLAT", "BYRADIUS",
    "BYBOX", "m", "km", "WITHCOORD", "WITHDIST", "WITHHASH", "ANY", "OVERFLOW", "WRAP",
    "SAT", "FAIL", "INCRBY", "u8", "i16", "#1", "AND", "OR", "XOR", "NOT", "BIT", "BYTE",
    "LOAD", "EXISTS", "FLUSH", "HELP", "LATEST", "HISTORY", "DOCTOR", "LIST", "INFO",
    "GETKEYS", "FILTERBY", "PATTERN",
};
#define NWORDS (sizeof words / sizeof words[0])

/* Commands the fuzzer leaves out (see the header). */
static bool left_out(const char *name)
{
    static const char *const skip[] = {
        "shutdown", "quit", "reset", "client", "debug", "config", "monitor", "subscribe",
        "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
        "eval", "evalsha", "eval_ro", "evalsha_ro", "script", "hello", "auth", "sync",
        "psync", "replicaof", "slaveof", "failover", "save", "bgsave", "bgrewriteaof",
        "function", "fcall", "fcall_ro", "module", "acl", "cluster", "readonly",
        "readwrite", "asking", "migrate", "wait", "waitaof", "lolwut", "gc.collect",
        "select", "swapdb", "flushall", "multi", "exec", "discard", "watch", "unwatch",
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++) {
        if (strcasecmp(name, skip[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* The server's commands: COMMAND's names, arities and flags. */
static size_t load_commands(th_conn *c, command **out)
{
    const char *const req[] = {"COMMAND"};
    if (th_send_cmd(c, 1, req, NULL) != 0) {
        return 0;
    }
    redisReader *rd = redisReaderCreate();
    size_t len;
    char *raw = th_read_reply(c, &len);
    if (raw == NULL) {
        redisReaderFree(rd);
        return 0;
    }
    redisReaderFeed(rd, raw, len);
    redisReply *r = NULL;
    size_t n = 0;
    if (redisReaderGetReply(rd, (void **)&r) == REDIS_OK && r != NULL &&
        r->type == REDIS_REPLY_ARRAY) {
        *out = calloc(r->elements, sizeof **out);
        for (size_t i = 0; *out != NULL && i < r->elements; i++) {
            redisReply *e = r->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
                e->element[0]->type != REDIS_REPLY_STRING) {
                continue;
            }
            bool blocking = false;
            for (size_t f = 0; f < e->element[2]->elements; f++) {
                const redisReply *fl = e->element[2]->element[f];
                blocking |= fl->type == REDIS_REPLY_STATUS && strcmp(fl->str, "blocking") == 0;
            }
            if (blocking || left_out(e->element[0]->str)) {
                continue;
            }
            snprintf((*out)[n].name, sizeof (*out)[n].name, "%s", e->element[0]->str);
            (*out)[n].arity = (long)e->element[1]->integer;
            n++;
        }
    }
    freeReplyObject(r);
    redisReaderFree(rd);
    free(raw);
    return n;
}

int main(int argc, char **argv)
{
    int sep = argc;
    long long seed = 1, requests = 20000;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            sep = i;
            break;
        }
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = atoll(argv[++i]);
        } else if (strcmp(argv[i], "--requests") == 0 && i + 1 < argc) {
            requests = atoll(argv[++i]);
        }
    }
    if (argc < 3 || (strcmp(argv[1], "mwrt") != 0 && strcmp(argv[1], "redis") != 0)) {
        fprintf(stderr, "usage: %s mwrt|redis SERVER [--seed N] [--requests N] [-- ARGS...]\n",
                argv[0]);
        return 2;
    }
    th_cfg.kind = strcmp(argv[1], "mwrt") == 0 ? TH_MWRT : TH_REDIS;
    th_cfg.path = argv[2];
    th_cfg.args = sep < argc ? (const char *const *)argv + sep + 1 : NULL;
    th_cfg.nargs = sep < argc ? argc - sep - 1 : 0;
    if (access(th_cfg.path, X_OK) != 0) {
        fprintf(stderr, "fuzz_commands: %s is not an executable; skipping\n", th_cfg.path);
        return 77;
    }
    char err[4096];
    if (th_server_start(&th_srv, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_commands: %s\n", err);
        return 1;
    }
    rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
    th_conn *conns[NCONN];
    bool resp3[NCONN] = {false};
    for (int i = 0; i < NCONN; i++) {
        conns[i] = th_connect(&th_srv);
        if (conns[i] == NULL) {
            fprintf(stderr, "fuzz_commands: cannot connect\n");
            th_server_stop(&th_srv, SIGKILL);
            return 1;
        }
    }
    command *cmds = NULL;
    size_t ncmds = load_commands(conns[0], &cmds);
    if (ncmds == 0) {
        fprintf(stderr, "fuzz_commands: COMMAND gave no commands\n");
        th_server_stop(&th_srv, SIGKILL);
        return 1;
    }
    int rc = 0;
    long long errors = 0;
    for (long long n = 0; n < requests && rc == 0; n++) {
        int ci = (int)pick(NCONN);
        th_conn *c = conns[ci];
        const char *av[MAXARGS];
        size_t al[MAXARGS];
        int ac;
        if (pick(200) == 0) {
            // Switch protocols now and then: RESP3 replies for everything.
            resp3[ci] = !resp3[ci];
            av[0] = "HELLO";
            av[1] = resp3[ci] ? "3" : "2";
            ac = 2;
        } else {
            const command *k = &cmds[pick(ncmds)];
            long want = k->arity > 0 ? k->arity : -k->arity + (long)pick(5);
            if (pick(20) == 0) {
                want = 1 + (long)pick(MAXARGS);   // the wrong number, sometimes
            }
            ac = (int)(want > MAXARGS ? MAXARGS : want < 1 ? 1 : want);
            av[0] = k->name;
            for (int a = 1; a < ac; a++) {
                av[a] = words[pick(NWORDS)];
            }
        }
        for (int a = 0; a < ac; a++) {
            al[a] = strlen(av[a]);
        }
        if (th_send_cmd(c, ac, av, al) != 0) {
            rc = 1;
        }
        size_t len;
        char *reply = rc == 0 ? th_read_reply(c, &len) : NULL;
        if (reply == NULL) {
            fprintf(stderr, "fuzz_commands: seed %lld, request %lld: no well-formed reply to",
                    seed, n);
            for (int a = 0; a < ac; a++) {
                fprintf(stderr, " '%s'", av[a]);
            }
            fprintf(stderr, "\n");
            rc = 1;
            break;
        }
        errors += reply[0] == '-' || reply[0] == '!';
        free(reply);
    }
    if (rc == 0) {
        const char *const ping[] = {"PING"};
        size_t len;
        char *r = th_send_cmd(conns[0], 1, ping, NULL) == 0 ? th_read_reply(conns[0], &len) : NULL;
        if (r == NULL) {
            fprintf(stderr, "fuzz_commands: no PING reply at the end\n");
            rc = 1;
        }
        free(r);
    }
    for (int i = 0; i < NCONN; i++) {
        th_close(conns[i]);
    }
    free(cmds);
    if (!th_server_alive(&th_srv)) {
        fprintf(stderr, "fuzz_commands: the server died (%s); log:\n%s\n",
                th_describe_status(th_srv.status), th_server_log_tail(&th_srv, 3000));
        return 1;
    }
    int st = th_server_stop(&th_srv, SIGTERM);
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fprintf(stderr, "fuzz_commands: the server did not exit cleanly (%s); log:\n%s\n",
                th_describe_status(st), th_server_log_tail(&th_srv, 3000));
        return 1;
    }
    printf("fuzz_commands: seed %lld: %lld requests over %zu commands, %lld error replies, "
           "server exited cleanly\n", seed, requests, ncmds, errors);
    return rc;
}
