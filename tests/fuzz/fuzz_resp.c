/*
 * tests/fuzz/fuzz_resp.c - libFuzzer target for mwrt-server's request
 * parser (server/resp.c).
 *
 * The input is split into the pieces a socket might deliver: the first
 * byte seeds the piece sizes, the rest is the byte stream.  The stream is
 * fed to the parser the way the server feeds its query buffer - bytes are
 * appended piece by piece, every complete request is consumed, and a
 * protocol error ends the connection - and every answer is checked: a
 * complete request's arguments lie inside the bytes it consumed, and the
 * consumed size is not zero.  Each request's arguments are encoded back
 * as replies in RESP2 or RESP3 (a seed bit picks) and the framing checked.
 * The input is also run through the number and pattern helpers.  AddressSanitizer catches any read outside the
 * buffer (each piece is copied into a buffer of exactly its size).
 */
#include "resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_request(const srv_resp_parser *p, size_t consumed)
{
    if (consumed == 0) {
        abort();
    }
    for (size_t i = 0; i < p->argc; i++) {
        if (p->arg_off[i] > consumed || p->arg_len[i] > consumed - p->arg_off[i]) {
            abort();
        }
    }
}

/* Encode a request's arguments back as replies, in the protocol the seed
 * picks, and check the framing: each bulk or verbatim string's header
 * gives the length that follows, each double parses back to itself. */
static void check_replies(const srv_resp_parser *p, const char *req, bool resp3)
{
    srv_buf b = {0};
    b.resp3 = resp3;
    for (size_t i = 0; i < p->argc; i++) {
        const char *a = req + p->arg_off[i];
        size_t n = p->arg_len[i];
        size_t at = b.len;
        srv_reply_verbatim(&b, a, n);
        if (b.oom) {
            break;
        }
        char *end;
        long long hl = strtoll(b.data + at + 1, &end, 10);
        size_t extra = resp3 ? 4 : 0;  // "txt:"
        if (hl != (long long)(n + extra) || end[0] != '\r' || end[1] != '\n' ||
            b.data[at] != (resp3 ? '=' : '$') ||
            memcmp(end + 2 + extra, a, n) != 0 || memcmp(end + 2 + extra + n, "\r\n", 2) != 0) {
            abort();
        }
        double d, back;
        if (srv_str2d(a, n, &d)) {
            at = b.len;
            srv_reply_double(&b, d);
            if (b.oom) {
                break;
            }
            const char *num = resp3 ? b.data + at + 1 : memchr(b.data + at, '\n', b.len - at) + 1;
            size_t nl = (size_t)(b.data + b.len - 2 - num);
            if (!srv_str2d(num, nl, &back) || back != d) {
                abort();
            }
        }
    }
    srv_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    unsigned seed = data[0];
    data++;
    size--;

    srv_resp_parser p;
    srv_resp_parser_init(&p);
    p.unauth = (seed & 0x80) != 0;
    if (seed & 0x40) {
        p.bulk_max = 64;       // small limits reach the limit paths
        p.mbulk_max = 8;
    }
    char *buf = NULL;
    size_t len = 0, start = 0, fed = 0;
    bool dead = false;
    while (fed < size && !dead) {
        size_t piece = 1 + (seed * 7 + fed) % 17;
        if (seed & 0x20) {
            piece = size - fed;  // everything at once
        }
        if (piece > size - fed) {
            piece = size - fed;
        }
        // A buffer of exactly the unparsed bytes, so ASan sees overreads.
        size_t keep = len - start;
        char *nb = malloc(keep + piece);
        if (nb == NULL) {
            break;
        }
        if (keep > 0) {
            memcpy(nb, buf + start, keep);
        }
        memcpy(nb + keep, data + fed, piece);
        free(buf);
        buf = nb;
        len = keep + piece;
        start = 0;
        fed += piece;
        for (;;) {
            size_t consumed = 0, need = 0;
            srv_resp_status st = srv_resp_parse(&p, buf + start, len - start, &consumed, &need);
            if (st == SRV_RESP_AGAIN) {
                if (need != 0 && need <= len - start) {
                    abort();   // it said it needs bytes it already has
                }
                break;
            }
            if (st == SRV_RESP_ERR) {
                if (p.error == NULL || strncmp(p.error, "Protocol error: ", 16) != 0) {
                    abort();
                }
                dead = true;
                break;
            }
            check_request(&p, consumed);
            check_replies(&p, buf + start, (seed & 0x10) != 0);
            if (consumed > len - start) {
                abort();
            }
            start += consumed;
        }
    }
    free(buf);
    srv_resp_parser_free(&p);

    long long v;
    double d;
    (void)srv_str2ll((const char *)data, size, &v);
    (void)srv_str2d((const char *)data, size, &d);
    size_t half = size / 2;
    (void)srv_glob_match((const char *)data, half, (const char *)data + half, size - half,
                         (seed & 1) != 0);
    return 0;
}
