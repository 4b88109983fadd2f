/*
 * server/resp.h - the RESP request parser and the RESP2/RESP3 reply encoder.
 *
 * Neither touches the runtime nor libuv: they work on byte buffers, so the
 * unit suite (tests/resp) and the fuzz target (tests/fuzz) drive them
 * directly.  See resp.c for the essay.
 */
#ifndef MWRT_SERVER_RESP_H
#define MWRT_SERVER_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ======================================================================
 * Tunables
 * ====================================================================== */

/* Longest inline request, and longest '*'/'$' header line, as Redis's
 * PROTO_INLINE_MAX_SIZE (bytes). */
#ifndef SRV_RESP_INLINE_MAX
#define SRV_RESP_INLINE_MAX (64 * 1024)
#endif
/* Default bound of one bulk argument (bytes), Redis's proto-max-bulk-len. */
#ifndef SRV_RESP_BULK_MAX
#define SRV_RESP_BULK_MAX (512LL * 1024 * 1024)
#endif
/* Default bound of the argument count of one multibulk request.  Redis
 * allows INT_MAX; we bound it lower so that argument tables cannot
 * outgrow the query buffer limit by much. */
#ifndef SRV_RESP_MBULK_MAX
#define SRV_RESP_MBULK_MAX (1024LL * 1024)
#endif
/* Bounds for clients that have not authenticated yet (Redis's). */
#define SRV_RESP_UNAUTH_MBULK_MAX 10
#define SRV_RESP_UNAUTH_BULK_MAX  16384

_Static_assert(SRV_RESP_INLINE_MAX >= 256, "header lines need room");
_Static_assert(SRV_RESP_MBULK_MAX >= 1, "a command has at least one argument");

/* ======================================================================
 * Parser
 * ====================================================================== */

typedef enum srv_resp_status {
    SRV_RESP_OK = 0,    /* one request complete (argc may be 0: skip it) */
    SRV_RESP_AGAIN = 1, /* incomplete: call again with more bytes */
    SRV_RESP_ERR = 2    /* malformed: p->error says why; close the client */
} srv_resp_status;

typedef struct srv_resp_parser {
    /* public, read-only after SRV_RESP_OK */
    size_t argc;
    size_t *arg_off;       /* argument i is buf[arg_off[i] .. +arg_len[i]] */
    size_t *arg_len;
    const char *error;     /* after SRV_RESP_ERR: "Protocol error: ..." */
    /* configuration (set by srv_resp_parser_init; may be changed) */
    long long bulk_max;
    long long mbulk_max;
    bool unauth;           /* apply the unauthenticated bounds */
    /* private: progress through a partly received multibulk request */
    size_t cap;
    size_t pos;            /* bytes of the request examined so far */
    long long mbulk_left;  /* arguments still to read; -1: header not read */
    long long bulk_len;    /* length of the argument being read; -1: its
                              "$" line not read yet */
    bool oom;
    char errbuf[48];       /* for errors that quote a byte */
} srv_resp_parser;

/* Set up p with the default limits.  Any thread. */
void srv_resp_parser_init(srv_resp_parser *p);

/* Release p's argument tables. */
void srv_resp_parser_free(srv_resp_parser *p);

/*
 * Parse one request at the start of buf[0..len).  buf must hold the same
 * bytes from one call to the next until SRV_RESP_OK or SRV_RESP_ERR (more
 * may be appended; the buffer may move).  Returns:
 *   SRV_RESP_OK: *consumed = the request's size in bytes, p->argc and the
 *     argument offsets describe it (inline arguments are unquoted in place,
 *     so buf is modified); the parser is ready for the next request.
 *   SRV_RESP_AGAIN: need more bytes; *need (if not NULL) is a lower bound
 *     of the total bytes of buf the request needs (0 when unknown).
 *   SRV_RESP_ERR: p->error is set (a static string without "-ERR ").
 * Out of memory for the argument tables is reported as SRV_RESP_ERR with
 * p->oom set.  Never reads outside buf[0..len).
 */
srv_resp_status srv_resp_parse(srv_resp_parser *p, char *buf, size_t len,
                               size_t *consumed, size_t *need);

/* ======================================================================
 * Reply encoder: an append-only, growable byte buffer
 * ====================================================================== */

typedef struct srv_buf {
    char *data;
    size_t len;
    size_t cap;
    bool oom;      /* an append failed for lack of memory (sticky) */
    bool resp3;    /* replies are written in RESP3: the protocol of the
                      client they are for, set by whoever hands the buffer
                      out (srv_conn_out, srv_execute_routed) */
} srv_buf;

/* Make room for n more bytes; false (and oom set) if memory ran out. */
bool srv_buf_reserve(srv_buf *b, size_t n);
/* Release the storage. */
void srv_buf_free(srv_buf *b);
/* Append raw bytes. */
void srv_buf_append(srv_buf *b, const void *p, size_t n);

/* "+s\r\n" (s must not hold CR or LF). */
void srv_reply_status(srv_buf *b, const char *s);
/* "-msg\r\n"; CR and LF in msg become spaces, as Redis does. */
void srv_reply_error(srv_buf *b, const char *msg);
/* srv_reply_error with printf formatting. */
void srv_reply_errorf(srv_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* ":v\r\n" */
void srv_reply_int(srv_buf *b, long long v);
/* "$n\r\n<bytes>\r\n" */
void srv_reply_bulk(srv_buf *b, const char *p, size_t n);
/* A null: "$-1\r\n" (RESP2), "_\r\n" (RESP3). */
void srv_reply_null(srv_buf *b);
/* A null array: "*-1\r\n" (RESP2), "_\r\n" (RESP3). */
void srv_reply_null_array(srv_buf *b);
/* "*n\r\n" */
void srv_reply_array(srv_buf *b, long long n);
/* A map of n pairs (2n elements follow): "%n" (RESP3), "*2n" (RESP2). */
void srv_reply_map(srv_buf *b, long long n);
/* A set of n members: "~n" (RESP3), "*n" (RESP2). */
void srv_reply_set(srv_buf *b, long long n);
/* An out-of-band push of n elements (pub/sub messages): ">n" (RESP3),
 * "*n" (RESP2). */
void srv_reply_push(srv_buf *b, long long n);
/* n (member, score) pairs of a WITHSCORES reply: RESP2 flattens them to
 * "*2n", RESP3 nests them ("*n", then "*2" before each pair, written by
 * srv_reply_pair). */
void srv_reply_pairs(srv_buf *b, long long n);
/* The header of one pair of srv_reply_pairs: "*2" in RESP3, nothing in
 * RESP2. */
void srv_reply_pair(srv_buf *b);
/* A double as Redis formats scores ("%.17g", "inf"): a bulk string in
 * RESP2, ",<d>" in RESP3. */
void srv_reply_double(srv_buf *b, double d);
/* A boolean: ":1"/":0" (RESP2), "#t"/"#f" (RESP3). */
void srv_reply_bool(srv_buf *b, bool v);
/* Text for humans (INFO, CLIENT LIST): a bulk string in RESP2, a
 * verbatim string "=<n+4>\r\ntxt:<text>\r\n" in RESP3. */
void srv_reply_verbatim(srv_buf *b, const char *p, size_t n);
/* Write v in decimal to dst (at least 21 bytes); returns the length. */
size_t srv_ll2str(char *dst, long long v);
/* Format a double as Redis 7.0 does for replies; returns the length
 * written to dst (at least 32 bytes). */
size_t srv_d2str(char *dst, double d);

/* ======================================================================
 * Helpers shared with the commands
 * ====================================================================== */

/* Parse the whole of p[0..n) as a signed 64-bit decimal the way Redis's
 * string2ll does (no spaces, no '+', no leading zeros).  True on success. */
bool srv_str2ll(const char *p, size_t n, long long *out);
/* Parse a double as Redis's getDoubleFromObject ("inf", "-inf" accepted;
 * NaN, spaces and trailing garbage refused).  True on success. */
bool srv_str2d(const char *p, size_t n, double *out);
/* Glob-style match of string against pattern (*, ?, [a-z], [^x], \x), as
 * Redis's stringmatchlen; nocase folds ASCII case. */
bool srv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                    bool nocase);

#endif /* MWRT_SERVER_RESP_H */
