/*
 * test_concurrency.c - many clients at once: 1,000 concurrent connections
 * (each answered, each counted once), and threads that INCR, INCRBY,
 * HINCRBY and RPUSH the same keys from their own connections, whose totals
 * must add up exactly (every command atomic, no update lost).
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The value of "field:" in INFO text as a number, or -1. */
static long info_num(const char *info, const char *field)
{
    const char *p = strstr(info, field);
    size_t fl = strlen(field);

    while (p != NULL) {
        if ((p == info || p[-1] == '\n') && p[fl] == ':') {
            return atol(p + fl + 1);
        }
        p = strstr(p + 1, field);
    }
    return -1;
}

static long connected_clients(void)
{
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "INFO clients");
    ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
    long n = info_num(r->str, "connected_clients");
    freeReplyObject(r);
    redisFree(rc);
    return n;
}

START_TEST(thousand_connections)
{
    enum { N = 1000 };
    long lim = th_raise_nofile(N + 100);
    ck_assert_msg(lim >= N + 100, "RLIMIT_NOFILE is %ld; %d connections need more", lim, N);
    START();
    th_conn **c = calloc(N, sizeof *c);
    ck_assert_ptr_nonnull(c);
    for (int i = 0; i < N; i++) {
        c[i] = th_connect(&th_srv);
        REQUIREF(c[i] != NULL, "connection %d: %s", i, strerror(errno));
    }
    // All at once: every connection sends before any reads.
    for (int i = 0; i < N; i++) {
        REQUIREF(th_send(c[i], "*2\r\n$4\r\nINCR\r\n$5\r\nconns\r\n", 25) == 0,
                 "send on %d: %s", i, strerror(errno));
    }
    char *seen = calloc(N + 1, 1);
    ck_assert_ptr_nonnull(seen);
    for (int i = 0; i < N; i++) {
        size_t len;
        char *r = th_read_reply(c[i], &len);
        REQUIREF(r != NULL && r[0] == ':', "connection %d: no integer reply", i);
        long v = atol(r + 1);
        REQUIREF(v >= 1 && v <= N && !seen[v], "connection %d got %ld", i, v);
        seen[v] = 1;
        free(r);
    }
    free(seen);
    long n = connected_clients();
    ck_assert_msg(n >= N + 1, "connected_clients %ld with %d connections open", n, N + 1);
    // Each still works, in another order.
    for (int i = N - 1; i >= 0; i--) {
        char *d = th_expect(c[i], "+PONG\r\n", 7, 1, (const char *const[]){"PING"}, NULL);
        REQUIREF(d == NULL, "%s", d);
    }
    for (int i = 0; i < N; i++) {
        th_close(c[i]);
    }
    free(c);
    // The server lets go of them all (it sees the closes asynchronously).
    for (int tries = 0; tries < 500 && (n = connected_clients()) > 1; tries++) {
        th_sleep_ms(10);
    }
    ck_assert_msg(n == 1, "connected_clients %ld after all but one closed", n);
    STOP();
}
END_TEST

enum { THREADS = 8, ROUNDS = 100, BATCH = 20 };

typedef struct worker {
    int index;
    int port;
    int errors;
    char what[256];
} worker;

/* One client thread: ROUNDS batches of BATCH pipelined INCR, INCRBY 3,
 * HINCRBY 2 and RPUSH; checks that its own INCR replies increase.  Reports
 * through w (no Check calls off the main thread). */
static void *client_thread(void *arg)
{
    worker *w = arg;
    struct timeval tv = {TH_IO_WAIT_S, 0};
    redisContext *rc = redisConnectWithTimeout("127.0.0.1", w->port, tv);
    long long last = 0;

    if (rc == NULL || rc->err != 0 || redisSetTimeout(rc, tv) != REDIS_OK) {
        snprintf(w->what, sizeof w->what, "thread %d: cannot connect", w->index);
        w->errors++;
        if (rc != NULL) {
            redisFree(rc);
        }
        return NULL;
    }
    for (int round = 0; round < ROUNDS && w->errors == 0; round++) {
        for (int i = 0; i < BATCH; i++) {
            redisAppendCommand(rc, "INCR counter");
            redisAppendCommand(rc, "INCRBY by3 3");
            redisAppendCommand(rc, "HINCRBY hash field 2");
            redisAppendCommand(rc, "RPUSH list %d:%d:%d", w->index, round, i);
        }
        for (int i = 0; i < BATCH * 4; i++) {
            void *p = NULL;
            if (redisGetReply(rc, &p) != REDIS_OK || p == NULL) {
                snprintf(w->what, sizeof w->what, "thread %d: no reply (%s)", w->index,
                         rc->errstr);
                w->errors++;
                break;
            }
            redisReply *r = p;
            if (r->type != REDIS_REPLY_INTEGER) {
                snprintf(w->what, sizeof w->what, "thread %d: reply %d not an integer: %s",
                         w->index, i, r->type == REDIS_REPLY_ERROR ? r->str : "?");
                w->errors++;
            } else if (i % 4 == 0) {
                if (r->integer <= last) {
                    snprintf(w->what, sizeof w->what, "thread %d: INCR went from %lld to %lld",
                             w->index, last, r->integer);
                    w->errors++;
                }
                last = r->integer;
            }
            freeReplyObject(r);
        }
    }
    redisFree(rc);
    return NULL;
}

START_TEST(concurrent_incr)
{
    START();
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.index = i, .port = th_srv.port};
        ck_assert_int_eq(pthread_create(&t[i], NULL, client_thread, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(w[i].errors == 0, "%s", w[i].what);
    }
    long long per = (long long)ROUNDS * BATCH, all = per * THREADS;
    char exp[64];
    th_conn *c = CONNECT();
    snprintf(exp, sizeof exp, "$%d\r\n%lld\r\n", all >= 10000 ? 5 : 4, all);
    char *d = th_expect(c, exp, strlen(exp), 2, (const char *const[]){"GET", "counter"}, NULL);
    ck_assert_msg(d == NULL, "%s", d);
    snprintf(exp, sizeof exp, ":%lld\r\n", all * 3 + 3);
    d = th_expect(c, exp, strlen(exp), 3, (const char *const[]){"INCRBY", "by3", "3"}, NULL);
    ck_assert_msg(d == NULL, "%s", d);
    snprintf(exp, sizeof exp, ":%lld\r\n", all * 2);
    d = th_expect(c, exp, strlen(exp), 4,
                  (const char *const[]){"HINCRBY", "hash", "field", "0"}, NULL);
    ck_assert_msg(d == NULL, "%s", d);
    snprintf(exp, sizeof exp, ":%lld\r\n", all);
    d = th_expect(c, exp, strlen(exp), 2, (const char *const[]){"LLEN", "list"}, NULL);
    ck_assert_msg(d == NULL, "%s", d);
    th_close(c);
    // Each thread's pushes are in its own order within the list.
    redisContext *rc = RCONNECT();
    redisReply *r = th_cmd(rc, "LRANGE list 0 -1");
    ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
    ck_assert_uint_eq(r->elements, (size_t)all);
    long long next[THREADS] = {0};
    for (size_t i = 0; i < r->elements; i++) {
        int th, round, k;
        REQUIREF(sscanf(r->element[i]->str, "%d:%d:%d", &th, &round, &k) == 3 && th >= 0
                 && th < THREADS, "element %s", r->element[i]->str);
        REQUIREF((long long)round * BATCH + k == next[th], "thread %d: %s out of order", th,
                 r->element[i]->str);
        next[th]++;
    }
    freeReplyObject(r);
    redisFree(rc);
    STOP();
}
END_TEST

TCase *tcase_concurrency(void)
{
    TCase *tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, thousand_connections);
    tcase_add_test(tc, concurrent_incr);
    return tc;
}
