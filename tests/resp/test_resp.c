/*
 * tests/resp/test_resp.c - the RESP2 request parser and reply encoder of
 * mwrt-server (server/resp.c), one TCase per feature: multibulk requests,
 * inline requests, requests that arrive in pieces, pipelines, each
 * protocol error with Redis's text, the limits, the reply encoder, and the
 * number and pattern helpers the commands share.
 */
#include "resp.h"

#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Helpers
 * ====================================================================== */

static srv_resp_parser P;

static void setup(void)
{
    srv_resp_parser_init(&P);
}

static void teardown(void)
{
    srv_resp_parser_free(&P);
}

/* Parse one request from a private copy of s (n bytes). */
static srv_resp_status parse_n(char *copy, const char *s, size_t n, size_t *consumed)
{
    memcpy(copy, s, n);
    size_t need;
    return srv_resp_parse(&P, copy, n, consumed, &need);
}

/* Argument i of the last parse, compared with want. */
static void check_arg(const char *buf, size_t i, const char *want, size_t wn)
{
    ck_assert_uint_gt(P.argc, i);
    ck_assert_uint_eq(P.arg_len[i], wn);
    ck_assert_mem_eq(buf + P.arg_off[i], want, wn);
}
#define ARG(buf, i, lit) check_arg((buf), (i), (lit), sizeof(lit) - 1)

/* Expect s to be a protocol error with message msg. */
static void expect_error(const char *s, size_t n, const char *msg)
{
    char *buf = malloc(n + 1);
    ck_assert_ptr_nonnull(buf);
    size_t consumed = 0;
    ck_assert_int_eq(parse_n(buf, s, n, &consumed), SRV_RESP_ERR);
    ck_assert_str_eq(P.error, msg);
    free(buf);
}
#define EXPECT_ERROR(lit, msg) expect_error((lit), sizeof(lit) - 1, (msg))

/* ======================================================================
 * Multibulk
 * ====================================================================== */

START_TEST(multibulk_simple)
{
    const char req[] = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    char buf[sizeof req];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, req, sizeof req - 1, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, sizeof req - 1);
    ck_assert_uint_eq(P.argc, 3);
    ARG(buf, 0, "SET");
    ARG(buf, 1, "key");
    ARG(buf, 2, "value");
}
END_TEST

START_TEST(multibulk_binary)
{
    // CR, LF and NUL inside a bulk are data, not delimiters.
    const char req[] = "*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\0b\n\r\n";
    char buf[sizeof req];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, req, sizeof req - 1, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, sizeof req - 1);
    check_arg(buf, 1, "a\r\n\0b\n", 6);
}
END_TEST

START_TEST(multibulk_empty)
{
    // "*0" and "*-1" are empty requests: consumed, no arguments.
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*0\r\n", 4, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 4);
    ck_assert_uint_eq(P.argc, 0);
    ck_assert_int_eq(parse_n(buf, "*-1\r\n", 5, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 5);
    ck_assert_uint_eq(P.argc, 0);
}
END_TEST

START_TEST(multibulk_empty_arg)
{
    const char req[] = "*2\r\n$3\r\nGET\r\n$0\r\n\r\n";
    char buf[sizeof req];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, req, sizeof req - 1, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 2);
    ck_assert_uint_eq(P.arg_len[1], 0);
}
END_TEST

START_TEST(multibulk_many_args)
{
    // More arguments than the initial table holds.
    char req[8192];
    size_t n = (size_t)snprintf(req, sizeof req, "*200\r\n");
    for (int i = 0; i < 200; i++) {
        n += (size_t)snprintf(req + n, sizeof req - n, "$%d\r\n%d\r\n", i < 10 ? 1 : i < 100 ? 2 : 3, i);
    }
    char *buf = malloc(n);
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, req, n, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 200);
    ARG(buf, 199, "199");
    free(buf);
}
END_TEST

/* ======================================================================
 * Inline
 * ====================================================================== */

START_TEST(inline_simple)
{
    char buf[64];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "SET  a   b\r\nGET a\r\n", 19, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 12);
    ck_assert_uint_eq(P.argc, 3);
    ARG(buf, 0, "SET");
    ARG(buf, 1, "a");
    ARG(buf, 2, "b");
}
END_TEST

START_TEST(inline_lf_only)
{
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "PING\n", 5, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 5);
    ck_assert_uint_eq(P.argc, 1);
    ARG(buf, 0, "PING");
}
END_TEST

START_TEST(inline_empty_line)
{
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "\r\n", 2, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 2);
    ck_assert_uint_eq(P.argc, 0);
    ck_assert_int_eq(parse_n(buf, "   \n", 4, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 0);
}
END_TEST

START_TEST(inline_quotes)
{
    const char req[] = "SET \"a b\\n\\x41\\\"\" 'it\\'s' x\"y z\"w\r\n";
    char buf[sizeof req];
    size_t consumed;
    // x"y z"w: a quote opens inside a word, and must close before a blank.
    ck_assert_int_eq(parse_n(buf, req, sizeof req - 1, &consumed), SRV_RESP_ERR);
    ck_assert_str_eq(P.error, "Protocol error: unbalanced quotes in request");

    const char ok[] = "SET \"a b\\n\\x41\\\"\" 'it\\'s' \"\"\r\n";
    char buf2[sizeof ok];
    ck_assert_int_eq(parse_n(buf2, ok, sizeof ok - 1, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 4);
    ARG(buf2, 1, "a b\nA\"");
    ARG(buf2, 2, "it's");
    ck_assert_uint_eq(P.arg_len[3], 0);
}
END_TEST

START_TEST(inline_nul_ends_line)
{
    // Redis splits an inline request as a C string.
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "GET a\0b c\r\n", 11, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, 11);
    ck_assert_uint_eq(P.argc, 2);
    ARG(buf, 1, "a");
    ck_assert_int_eq(parse_n(buf, "\0 x\n", 4, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 0);
}
END_TEST

START_TEST(inline_unbalanced)
{
    EXPECT_ERROR("SET \"abc\r\n", "Protocol error: unbalanced quotes in request");
    EXPECT_ERROR("SET 'abc\r\n", "Protocol error: unbalanced quotes in request");
    EXPECT_ERROR("SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request");
}
END_TEST

/* ======================================================================
 * Requests in pieces and pipelines
 * ====================================================================== */

/* Feed req one byte more at a time: AGAIN until the last byte, then OK
 * with the same arguments as in one piece. */
static void feed_bytewise(const char *req, size_t n)
{
    char *buf = malloc(n);
    ck_assert_ptr_nonnull(buf);
    size_t consumed = 0;
    for (size_t len = 1; len < n; len++) {
        memcpy(buf, req, len);
        ck_assert_int_eq(srv_resp_parse(&P, buf, len, &consumed, NULL), SRV_RESP_AGAIN);
    }
    memcpy(buf, req, n);
    ck_assert_int_eq(srv_resp_parse(&P, buf, n, &consumed, NULL), SRV_RESP_OK);
    ck_assert_uint_eq(consumed, n);
    free(buf);
}

START_TEST(pieces_multibulk)
{
    const char req[] = "*3\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n$0\r\n\r\n";
    feed_bytewise(req, sizeof req - 1);
    ck_assert_uint_eq(P.argc, 3);
    ck_assert_uint_eq(P.arg_len[1], 10);
}
END_TEST

START_TEST(pieces_inline)
{
    const char req[] = "SET a \"b c\"\r\n";
    feed_bytewise(req, sizeof req - 1);
    ck_assert_uint_eq(P.argc, 3);
}
END_TEST

START_TEST(pieces_need_hint)
{
    // Once a bulk header is read, the parser says how many bytes it needs.
    char buf[64];
    const char head[] = "*2\r\n$3\r\nSET\r\n$1000000\r\nab";
    size_t consumed, need = 0;
    memcpy(buf, head, sizeof head - 1);
    ck_assert_int_eq(srv_resp_parse(&P, buf, sizeof head - 1, &consumed, &need), SRV_RESP_AGAIN);
    ck_assert_uint_eq(need, (sizeof head - 1 - 2) + 1000000 + 2);
}
END_TEST

START_TEST(pipeline)
{
    const char req[] = "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPI";
    char buf[sizeof req];
    memcpy(buf, req, sizeof req - 1);
    size_t pos = 0, consumed, n = sizeof req - 1;
    const size_t want_argc[] = {1, 1, 2};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(srv_resp_parse(&P, buf + pos, n - pos, &consumed, NULL), SRV_RESP_OK);
        ck_assert_uint_eq(P.argc, want_argc[i]);
        pos += consumed;
    }
    ck_assert_int_eq(srv_resp_parse(&P, buf + pos, n - pos, &consumed, NULL), SRV_RESP_AGAIN);
}
END_TEST

/* ======================================================================
 * Protocol errors
 * ====================================================================== */

START_TEST(error_multibulk_length)
{
    EXPECT_ERROR("*abc\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*2147483648\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*1 \r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*01\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*99999999999999999999999\r\n", "Protocol error: invalid multibulk length");
}
END_TEST

START_TEST(error_expected_dollar)
{
    EXPECT_ERROR("*1\r\n:3\r\n", "Protocol error: expected '$', got ':'");
    EXPECT_ERROR("*2\r\n$1\r\na\r\nxx\r\n", "Protocol error: expected '$', got 'x'");
}
END_TEST

START_TEST(error_bulk_length)
{
    EXPECT_ERROR("*1\r\n$-1\r\n", "Protocol error: invalid bulk length");
    EXPECT_ERROR("*1\r\n$abc\r\n", "Protocol error: invalid bulk length");
    EXPECT_ERROR("*1\r\n$\r\n", "Protocol error: invalid bulk length");
    EXPECT_ERROR("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length");
}
END_TEST

START_TEST(error_too_big)
{
    size_t n = SRV_RESP_INLINE_MAX + 10;
    char *s = malloc(n);
    memset(s, 'a', n);
    expect_error(s, n, "Protocol error: too big inline request");
    s[0] = '*';
    expect_error(s, n, "Protocol error: too big mbulk count string");
    memcpy(s, "*1\r\n$", 5);
    expect_error(s, n, "Protocol error: too big bulk count string");
    free(s);
}
END_TEST

START_TEST(error_resets_parser)
{
    // After an error the parser starts afresh on the next buffer.
    EXPECT_ERROR("*1\r\n$x\r\n", "Protocol error: invalid bulk length");
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*1\r\n$1\r\nx\r\n", 11, &consumed), SRV_RESP_OK);
    ck_assert_uint_eq(P.argc, 1);
}
END_TEST

/* ======================================================================
 * Limits
 * ====================================================================== */

START_TEST(limit_bulk_configurable)
{
    P.bulk_max = 10;
    char buf[32];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*1\r\n$10\r\n0123456789\r\n", 21, &consumed), SRV_RESP_OK);
    EXPECT_ERROR("*1\r\n$11\r\n", "Protocol error: invalid bulk length");
}
END_TEST

START_TEST(limit_mbulk_configurable)
{
    P.mbulk_max = 3;
    char buf[8];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*3\r\n", 4, &consumed), SRV_RESP_AGAIN);
    srv_resp_parser_free(&P);
    srv_resp_parser_init(&P);
    P.mbulk_max = 3;
    EXPECT_ERROR("*4\r\n", "Protocol error: invalid multibulk length");
}
END_TEST

START_TEST(limit_unauthenticated)
{
    P.unauth = true;
    EXPECT_ERROR("*11\r\n", "Protocol error: invalid multibulk length");
    EXPECT_ERROR("*1\r\n$16385\r\n", "Protocol error: invalid bulk length");
    char buf[16];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*10\r\n", 5, &consumed), SRV_RESP_AGAIN);
}
END_TEST

START_TEST(limit_header_announces_much)
{
    // A header announcing a million arguments allocates nothing up front.
    char buf[32];
    size_t consumed;
    ck_assert_int_eq(parse_n(buf, "*1048576\r\n$1\r\na\r\n", 17, &consumed), SRV_RESP_AGAIN);
    ck_assert_uint_le(P.cap, 16);
}
END_TEST

/* ======================================================================
 * Reply encoder
 * ====================================================================== */

static srv_buf B;

static void setup_buf(void)
{
    memset(&B, 0, sizeof B);
}

static void teardown_buf(void)
{
    srv_buf_free(&B);
}

static void expect_buf(const char *want, size_t n)
{
    ck_assert(!B.oom);
    ck_assert_uint_eq(B.len, n);
    ck_assert_mem_eq(B.data, want, n);
    B.len = 0;
}
#define EXPECT_BUF(lit) expect_buf((lit), sizeof(lit) - 1)

START_TEST(reply_simple)
{
    srv_reply_status(&B, "OK");
    EXPECT_BUF("+OK\r\n");
    srv_reply_error(&B, "ERR bad\r\nthing");
    EXPECT_BUF("-ERR bad  thing\r\n");
    srv_reply_errorf(&B, "ERR unknown command '%s'", "x");
    EXPECT_BUF("-ERR unknown command 'x'\r\n");
    srv_reply_null(&B);
    EXPECT_BUF("$-1\r\n");
    srv_reply_null_array(&B);
    EXPECT_BUF("*-1\r\n");
    srv_reply_array(&B, 3);
    EXPECT_BUF("*3\r\n");
}
END_TEST

START_TEST(reply_int)
{
    srv_reply_int(&B, 0);
    EXPECT_BUF(":0\r\n");
    srv_reply_int(&B, -42);
    EXPECT_BUF(":-42\r\n");
    srv_reply_int(&B, LLONG_MAX);
    EXPECT_BUF(":9223372036854775807\r\n");
    srv_reply_int(&B, LLONG_MIN);
    EXPECT_BUF(":-9223372036854775808\r\n");
}
END_TEST

START_TEST(reply_bulk)
{
    srv_reply_bulk(&B, "", 0);
    EXPECT_BUF("$0\r\n\r\n");
    srv_reply_bulk(&B, "a\0b", 3);
    expect_buf("$3\r\na\0b\r\n", 9);
    // Growth across many appends keeps every byte.
    for (int i = 0; i < 10000; i++) {
        srv_reply_bulk(&B, "xyz", 3);
    }
    ck_assert_uint_eq(B.len, 10000 * 9);
    ck_assert_mem_eq(B.data + 9 * 9999, "$3\r\nxyz\r\n", 9);
}
END_TEST

START_TEST(reply_double)
{
    // Redis 7.0 formats scores with %.17g.
    srv_reply_double(&B, 1.5);
    EXPECT_BUF("$3\r\n1.5\r\n");
    srv_reply_double(&B, 0.1);
    EXPECT_BUF("$19\r\n0.10000000000000001\r\n");
    srv_reply_double(&B, INFINITY);
    EXPECT_BUF("$3\r\ninf\r\n");
    srv_reply_double(&B, -INFINITY);
    EXPECT_BUF("$4\r\n-inf\r\n");
    srv_reply_double(&B, 1e300);
    EXPECT_BUF("$23\r\n1.0000000000000001e+300\r\n");
}
END_TEST

START_TEST(reply_resp3)
{
    // The same calls in RESP2 and in RESP3 (the buffer's protocol).
    srv_reply_map(&B, 2);
    EXPECT_BUF("*4\r\n");
    srv_reply_set(&B, 3);
    srv_reply_push(&B, 3);
    srv_reply_pairs(&B, 2);
    srv_reply_pair(&B);
    srv_reply_bool(&B, true);
    srv_reply_verbatim(&B, "ab", 2);
    EXPECT_BUF("*3\r\n*3\r\n*4\r\n:1\r\n$2\r\nab\r\n");
    B.resp3 = true;
    srv_reply_null(&B);
    srv_reply_null_array(&B);
    EXPECT_BUF("_\r\n_\r\n");
    srv_reply_map(&B, 2);
    srv_reply_set(&B, 3);
    srv_reply_push(&B, 3);
    EXPECT_BUF("%2\r\n~3\r\n>3\r\n");
    srv_reply_pairs(&B, 2);
    srv_reply_pair(&B);
    EXPECT_BUF("*2\r\n*2\r\n");
    srv_reply_double(&B, 1.5);
    srv_reply_double(&B, 0.1);
    srv_reply_double(&B, -INFINITY);
    EXPECT_BUF(",1.5\r\n,0.10000000000000001\r\n,-inf\r\n");
    srv_reply_bool(&B, true);
    srv_reply_bool(&B, false);
    EXPECT_BUF("#t\r\n#f\r\n");
    srv_reply_verbatim(&B, "a\r\nb", 4);
    EXPECT_BUF("=8\r\ntxt:a\r\nb\r\n");
    srv_reply_verbatim(&B, "", 0);
    EXPECT_BUF("=4\r\ntxt:\r\n");
    // What does not change: integers, bulks, arrays, errors.
    srv_reply_int(&B, 7);
    srv_reply_bulk(&B, "x", 1);
    srv_reply_array(&B, 1);
    EXPECT_BUF(":7\r\n$1\r\nx\r\n*1\r\n");
    B.resp3 = false;
}
END_TEST

/* ======================================================================
 * Numbers and patterns
 * ====================================================================== */

START_TEST(numbers_str2ll)
{
    long long v;
    ck_assert(srv_str2ll("0", 1, &v) && v == 0);
    ck_assert(srv_str2ll("-1", 2, &v) && v == -1);
    ck_assert(srv_str2ll("9223372036854775807", 19, &v) && v == LLONG_MAX);
    ck_assert(srv_str2ll("-9223372036854775808", 20, &v) && v == LLONG_MIN);
    ck_assert(!srv_str2ll("9223372036854775808", 19, &v));
    ck_assert(!srv_str2ll("", 0, &v));
    ck_assert(!srv_str2ll("-", 1, &v));
    ck_assert(!srv_str2ll("01", 2, &v));
    ck_assert(!srv_str2ll("-0", 2, &v));
    ck_assert(!srv_str2ll("+1", 2, &v));
    ck_assert(!srv_str2ll(" 1", 2, &v));
    ck_assert(!srv_str2ll("1a", 2, &v));
}
END_TEST

START_TEST(numbers_str2d)
{
    double d;
    ck_assert(srv_str2d("1.5", 3, &d) && d == 1.5);
    ck_assert(srv_str2d("-inf", 4, &d) && isinf(d) && d < 0);
    ck_assert(srv_str2d("1e3", 3, &d) && d == 1000);
    ck_assert(!srv_str2d("nan", 3, &d));
    ck_assert(!srv_str2d("1e400", 5, &d));
    ck_assert(!srv_str2d(" 1", 2, &d));
    ck_assert(!srv_str2d("1 ", 2, &d));
    ck_assert(!srv_str2d("", 0, &d));
    ck_assert(!srv_str2d("1\0", 2, &d));
}
END_TEST

static bool gm(const char *p, const char *s)
{
    return srv_glob_match(p, strlen(p), s, strlen(s), false);
}

START_TEST(patterns_glob)
{
    ck_assert(gm("*", ""));
    ck_assert(gm("*", "abc"));
    ck_assert(gm("a*c", "abbbc"));
    ck_assert(!gm("a*c", "abbbd"));
    ck_assert(gm("h?llo", "hello"));
    ck_assert(!gm("h?llo", "hllo"));
    ck_assert(gm("h[ae]llo", "hallo"));
    ck_assert(!gm("h[ae]llo", "hillo"));
    ck_assert(gm("h[^e]llo", "hallo"));
    ck_assert(!gm("h[^e]llo", "hello"));
    ck_assert(gm("h[a-b]llo", "hbllo"));
    ck_assert(gm("h\\*llo", "h*llo"));
    ck_assert(!gm("h\\*llo", "hallo"));
    ck_assert(gm("key:*:x", "key:12:x"));
    ck_assert(srv_glob_match("MaxMem*", 7, "maxmemory", 9, true));
    ck_assert(!srv_glob_match("MaxMem*", 7, "maxmemory", 9, false));
}
END_TEST

START_TEST(patterns_no_blowup)
{
    // Many stars against a long non-matching string stays polynomial.
    char pat[64], s[4096];
    strcpy(pat, "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    ck_assert(!gm(pat, s));
}
END_TEST

/* ======================================================================
 * Suite
 * ====================================================================== */

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp");
    struct {
        const char *name;
        const TTest *tests[8];
    } groups[] = {
        {"multibulk", {multibulk_simple, multibulk_binary, multibulk_empty,
                       multibulk_empty_arg, multibulk_many_args}},
        {"inline", {inline_simple, inline_lf_only, inline_empty_line, inline_quotes,
                    inline_nul_ends_line, inline_unbalanced}},
        {"pieces", {pieces_multibulk, pieces_inline, pieces_need_hint, pipeline}},
        {"errors", {error_multibulk_length, error_expected_dollar, error_bulk_length,
                    error_too_big, error_resets_parser}},
        {"limits", {limit_bulk_configurable, limit_mbulk_configurable, limit_unauthenticated,
                    limit_header_announces_much}},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        TCase *tc = tcase_create(groups[g].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        for (int i = 0; i < 8 && groups[g].tests[i] != NULL; i++) {
            tcase_add_test(tc, groups[g].tests[i]);
        }
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("reply");
    tcase_add_checked_fixture(tc, setup_buf, teardown_buf);
    tcase_add_test(tc, reply_simple);
    tcase_add_test(tc, reply_int);
    tcase_add_test(tc, reply_bulk);
    tcase_add_test(tc, reply_double);
    tcase_add_test(tc, reply_resp3);
    suite_add_tcase(s, tc);
    tc = tcase_create("numbers");
    tcase_add_test(tc, numbers_str2ll);
    tcase_add_test(tc, numbers_str2d);
    suite_add_tcase(s, tc);
    tc = tcase_create("patterns");
    tcase_add_test(tc, patterns_glob);
    tcase_add_test(tc, patterns_no_blowup);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
