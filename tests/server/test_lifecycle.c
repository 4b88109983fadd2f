/*
 * test_lifecycle.c - stopping: SIGTERM and SIGINT with clients connected
 * (idle, in the middle of a request, with replies pending) make the server
 * exit with status 0 and close every connection; so does SHUTDOWN, which
 * is refused inside MULTI and answers ABORT and bad arguments with errors.
 */
#include "harness.h"

#include <string.h>
#include <unistd.h>

static void stop_with_clients(int sig)
{
    enum { N = 20 };
    START();
    th_conn *c[N];
    for (int i = 0; i < N; i++) {
        c[i] = CONNECT();
        EXPECT(c[i], "+OK\r\n", "SET", "k", "v");
    }
    // Some mid-request, some with a pipeline of work in flight.
    for (int i = 0; i < N; i += 4) {
        ck_assert_int_eq(th_send(c[i], "*2\r\n$3\r\nGET\r\n$1", 15), 0);
    }
    for (int i = 1; i < N; i += 4) {
        for (int j = 0; j < 200; j++) {
            ck_assert_int_eq(th_send(c[i], "*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n", 21), 0);
        }
    }
    int st = th_server_stop(&th_srv, sig);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "exit on signal %d with %d clients: %s; log:\n%s", sig, N,
                  th_describe_status(st),
                  th_server_log_tail(&th_srv, 3000));
    // Every connection is closed: after whatever replies were sent, the
    // stream ends.
    for (int i = 0; i < N; i++) {
        size_t len;
        char *r;
        int replies = 0;
        while ((r = th_read_reply(c[i], &len)) != NULL) {
            free(r);
            replies++;
        }
        REQUIREF(c[i]->len == 0 || i % 4 == 0, "connection %d: a partial reply", i);
        REQUIREF(replies <= 200, "connection %d: %d replies", i, replies);
        th_close(c[i]);
    }
}

START_TEST(sigterm_with_clients)
{
    stop_with_clients(SIGTERM);
}
END_TEST

START_TEST(sigint_with_clients)
{
    stop_with_clients(SIGINT);
}
END_TEST

START_TEST(shutdown_command)
{
    START();
    th_conn *c = CONNECT();
    EXPECT(c, "-ERR No shutdown in progress.\r\n", "SHUTDOWN", "ABORT");
    EXPECT(c, "-ERR syntax error\r\n", "SHUTDOWN", "BOGUS");
    EXPECT(c, "+OK\r\n", "MULTI");
    EXPECT(c, "-ERR Command not allowed inside a transaction\r\n", "SHUTDOWN");
    EXPECT(c, "-EXECABORT Transaction discarded because of previous errors.\r\n", "EXEC");
    EXPECT(c, "+OK\r\n", "SET", "k", "v");
    const char *const req[] = {"SHUTDOWN", "NOSAVE"};
    ck_assert_int_eq(th_send_cmd(c, 2, req, NULL), 0);
    EXPECT_CLOSED(c);
    th_close(c);
    int st = th_server_stop(&th_srv, 0);     // signal 0: only wait for it
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "after SHUTDOWN: %s",
                  th_describe_status(st));
}
END_TEST

TCase *tcase_lifecycle(void)
{
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sigterm_with_clients);
    tcase_add_test(tc, sigint_with_clients);
    tcase_add_test(tc, shutdown_command);
    return tc;
}
