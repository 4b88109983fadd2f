/*
 * server/resp.c - the RESP request parser and the RESP2/RESP3 reply
 * encoder.
 *
 * Technique.  A request is parsed in place, in the connection's query
 * buffer: an argument is an (offset, length) pair into that buffer, so a
 * pipelined batch of commands costs no copy and no allocation per command.
 * Offsets rather than pointers, because the buffer may be reallocated
 * while a large request is still arriving.
 *
 * Two request forms, as Redis 7.0 reads them (networking.c):
 *   - multibulk: "*<n>\r\n" then n times "$<len>\r\n<len bytes>\r\n".  The
 *     parser is resumable: a multibulk request that arrives in many reads
 *     is not re-scanned from its start; p->pos, p->mbulk_left and
 *     p->bulk_len record how far it got.  As in Redis, the two bytes after
 *     a header's '\r' and after a bulk's payload are skipped unchecked.
 *     A count <= 0 is an empty request (skipped, no reply).
 *   - inline: one line ended by '\n' (a '\r' before it is dropped), split
 *     into words like sdssplitargs: blanks separate words, "..." takes the
 *     escapes \n \r \t \b \a \\ \" \xHH, '...' takes \', and a closing
 *     quote must be followed by a blank or the end; a NUL ends the line, as
 *     the C string Redis splits.  Unquoting happens in
 *     place: the write cursor never passes the read cursor.
 *
 * Limits (the error texts are Redis's): an inline request or a header line
 * longer than SRV_RESP_INLINE_MAX ("too big inline request", "too big mbulk
 * count string", "too big bulk count string"); a count above mbulk_max or
 * unparsable ("invalid multibulk length"); a bulk length above bulk_max,
 * negative or unparsable ("invalid bulk length"); for a client that has not
 * authenticated yet, at most 10 arguments of at most 16 KiB each.  The
 * argument tables grow as arguments actually arrive, never to the count
 * announced in a header, so a lying header costs nothing.
 *
 * Invariants between calls: pos <= the bytes seen; while mbulk_left >= 0,
 * argc + mbulk_left is the announced count and the argc recorded arguments
 * lie wholly inside buf[0..pos).
 *
 * The encoder appends replies to a growable buffer (srv_buf); a failed
 * allocation sets a sticky oom flag and drops the append, and the caller
 * closes the connection, so a reply is never silently truncated.
 *
 * RESP3.  Requests are the same in both protocols; only replies differ.
 * The buffer carries the protocol of the client it is for (b->resp3), so a
 * command says what a reply *is* (a null, a map, a set, a double, text)
 * and the encoder picks the bytes: "_" or "$-1"/"*-1", "%n" or "*2n", "~n"
 * or "*n", ",d" or a bulk, "=n txt:" or a bulk, ">n" or "*n".  Whoever
 * hands a buffer to a command sets the flag from the connection
 * (srv_conn_out, srv_execute_routed), so command code never looks at the
 * protocol except for the nesting of WITHSCORES pairs (srv_reply_pairs).
 * Big numbers and attributes are not produced: no command here needs them.
 *
 * Not handled: the trailing "\r\n" checks Redis does not do either.
 */
#include "resp.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * Number parsing
 * ====================================================================== */

bool srv_str2ll(const char *p, size_t n, long long *out)
{
    if (n == 0 || n > 20) {
        return false;
    }
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    bool neg = false;
    size_t i = 0;
    if (p[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1) {
            return false;
        }
    }
    if (p[i] < '1' || p[i] > '9') {
        return false;
    }
    unsigned long long v = 0;
    for (; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (ULLONG_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) {
            return false;
        }
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) {
            return false;
        }
        *out = (long long)v;
    }
    return true;
}

bool srv_str2d(const char *p, size_t n, double *out)
{
    // strtod wants a terminated string: a copy on the stack, or on the heap
    // for the rare long one (Redis takes any length: a 309-digit DBL_MAX
    // written out with its decimals must parse).
    char small[256];
    if (n == 0 || isspace((unsigned char)p[0]) || memchr(p, '\0', n) != NULL) {
        return false;
    }
    char *tmp = n < sizeof small ? small : malloc(n + 1);
    if (tmp == NULL) {
        return false;
    }
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    bool ok = end == tmp + n && !isnan(v) &&
              !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0));
    if (tmp != small) {
        free(tmp);
    }
    if (ok) {
        *out = v;
    }
    return ok;
}

size_t srv_ll2str(char *dst, long long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    size_t len = 0;
    if (v < 0) {
        dst[len++] = '-';
    }
    while (n > 0) {
        dst[len++] = tmp[--n];
    }
    dst[len] = '\0';
    return len;
}

size_t srv_d2str(char *dst, double d)
{
    if (isinf(d)) {
        strcpy(dst, d > 0 ? "inf" : "-inf");
        return strlen(dst);
    }
    // Redis 7.0's addReplyDouble: "%.17g" (7.2 moved to shortest form).
    int n = snprintf(dst, 32, "%.17g", d);
    return n < 0 ? 0 : (size_t)n;
}

/* ======================================================================
 * Parser
 * ====================================================================== */

void srv_resp_parser_init(srv_resp_parser *p)
{
    memset(p, 0, sizeof *p);
    p->bulk_max = SRV_RESP_BULK_MAX;
    p->mbulk_max = SRV_RESP_MBULK_MAX;
    p->mbulk_left = -1;
    p->bulk_len = -1;
}

void srv_resp_parser_free(srv_resp_parser *p)
{
    free(p->arg_off);
    free(p->arg_len);
    p->arg_off = p->arg_len = NULL;
    p->cap = p->argc = 0;
}

static void reset(srv_resp_parser *p)
{
    p->pos = 0;
    p->mbulk_left = -1;
    p->bulk_len = -1;
}

static srv_resp_status fail(srv_resp_parser *p, const char *msg)
{
    p->error = msg;
    reset(p);
    p->argc = 0;
    return SRV_RESP_ERR;
}

/* Room for one more argument. */
static bool push_arg(srv_resp_parser *p, size_t off, size_t len)
{
    if (p->argc == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        size_t *o = realloc(p->arg_off, cap * sizeof *o);
        if (o == NULL) {
            return false;
        }
        p->arg_off = o;
        size_t *l = realloc(p->arg_len, cap * sizeof *l);
        if (l == NULL) {
            return false;
        }
        p->arg_len = l;
        p->cap = cap;
    }
    p->arg_off[p->argc] = off;
    p->arg_len[p->argc] = len;
    p->argc++;
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static bool is_sep(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0';
}

/* Split line[0..n) into words in place (sdssplitargs); false on
 * unbalanced quotes.  Offsets are relative to base. */
static int split_inline(srv_resp_parser *p, char *line, size_t n, size_t base)
{
    size_t r = 0;
    for (;;) {
        while (r < n && isspace((unsigned char)line[r])) {
            r++;
        }
        if (r == n) {
            return 1;
        }
        size_t start = r, w = r;
        bool inq = false, insq = false, done = false;
        while (!done) {
            if (inq) {
                if (r == n) {
                    return 0;
                }
                if (line[r] == '\\' && r + 3 < n && line[r + 1] == 'x' &&
                    hexval(line[r + 2]) >= 0 && hexval(line[r + 3]) >= 0) {
                    line[w++] = (char)(hexval(line[r + 2]) * 16 + hexval(line[r + 3]));
                    r += 4;
                } else if (line[r] == '\\' && r + 1 < n) {
                    char c = line[r + 1];
                    switch (c) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: break;
                    }
                    line[w++] = c;
                    r += 2;
                } else if (line[r] == '"') {
                    if (r + 1 < n && !isspace((unsigned char)line[r + 1])) {
                        return 0;
                    }
                    done = true;
                    r++;
                } else {
                    line[w++] = line[r++];
                }
            } else if (insq) {
                if (r == n) {
                    return 0;
                }
                if (line[r] == '\\' && r + 1 < n && line[r + 1] == '\'') {
                    line[w++] = '\'';
                    r += 2;
                } else if (line[r] == '\'') {
                    if (r + 1 < n && !isspace((unsigned char)line[r + 1])) {
                        return 0;
                    }
                    done = true;
                    r++;
                } else {
                    line[w++] = line[r++];
                }
            } else if (r == n || is_sep(line[r])) {
                done = true;
            } else if (line[r] == '"') {
                inq = true;
                r++;
            } else if (line[r] == '\'') {
                insq = true;
                r++;
            } else {
                line[w++] = line[r++];
            }
        }
        if (!push_arg(p, base + start, w - start)) {
            return -1;
        }
    }
}

static srv_resp_status parse_inline(srv_resp_parser *p, char *buf, size_t len,
                                    size_t *consumed)
{
    char *nl = memchr(buf, '\n', len);
    if (nl == NULL) {
        if (len > SRV_RESP_INLINE_MAX) {
            return fail(p, "Protocol error: too big inline request");
        }
        return SRV_RESP_AGAIN;
    }
    size_t n = (size_t)(nl - buf);
    if (n > 0 && buf[n - 1] == '\r') {
        n--;
    }
    // Redis splits the line as a C string: a NUL ends it.  (Found by the
    // fuzzer: a NUL here used to make an endless run of empty words.)
    char *nul = memchr(buf, '\0', n);
    if (nul != NULL) {
        n = (size_t)(nul - buf);
    }
    p->argc = 0;
    int r = split_inline(p, buf, n, 0);
    if (r == 0) {
        return fail(p, "Protocol error: unbalanced quotes in request");
    }
    if (r < 0) {
        p->oom = true;
        return fail(p, "Protocol error: out of memory");
    }
    *consumed = (size_t)(nl - buf) + 1;
    reset(p);
    return SRV_RESP_OK;
}

srv_resp_status srv_resp_parse(srv_resp_parser *p, char *buf, size_t len,
                               size_t *consumed, size_t *need)
{
    if (need != NULL) {
        *need = 0;
    }
    p->error = NULL;
    if (p->mbulk_left < 0) {
        if (len == 0) {
            return SRV_RESP_AGAIN;
        }
        if (buf[0] != '*') {
            return parse_inline(p, buf, len, consumed);
        }
        char *cr = memchr(buf, '\r', len);
        if (cr == NULL) {
            if (len > SRV_RESP_INLINE_MAX) {
                return fail(p, "Protocol error: too big mbulk count string");
            }
            return SRV_RESP_AGAIN;
        }
        size_t at = (size_t)(cr - buf);
        if (at + 1 >= len) {
            return SRV_RESP_AGAIN; // the '\n' after it has not arrived
        }
        long long n;
        if (!srv_str2ll(buf + 1, at - 1, &n) || n > INT_MAX || n > p->mbulk_max ||
            (p->unauth && n > SRV_RESP_UNAUTH_MBULK_MAX)) {
            return fail(p, "Protocol error: invalid multibulk length");
        }
        p->argc = 0;
        if (n <= 0) {
            *consumed = at + 2;
            reset(p);
            return SRV_RESP_OK;
        }
        p->pos = at + 2;
        p->mbulk_left = n;
        p->bulk_len = -1;
    }
    while (p->mbulk_left > 0) {
        if (p->bulk_len < 0) {
            if (p->pos >= len) {
                return SRV_RESP_AGAIN;
            }
            char *cr = memchr(buf + p->pos, '\r', len - p->pos);
            if (cr == NULL) {
                if (len - p->pos > SRV_RESP_INLINE_MAX) {
                    return fail(p, "Protocol error: too big bulk count string");
                }
                return SRV_RESP_AGAIN;
            }
            size_t at = (size_t)(cr - buf);
            if (at + 1 >= len) {
                return SRV_RESP_AGAIN;
            }
            if (buf[p->pos] != '$') {
                snprintf(p->errbuf, sizeof p->errbuf,
                         "Protocol error: expected '$', got '%c'", buf[p->pos]);
                return fail(p, p->errbuf);
            }
            long long n;
            if (!srv_str2ll(buf + p->pos + 1, at - p->pos - 1, &n) || n < 0 ||
                n > p->bulk_max || (p->unauth && n > SRV_RESP_UNAUTH_BULK_MAX)) {
                return fail(p, "Protocol error: invalid bulk length");
            }
            p->pos = at + 2;
            p->bulk_len = n;
        }
        size_t want = p->pos + (size_t)p->bulk_len + 2;
        if (len < want) {
            if (need != NULL) {
                *need = want;
            }
            return SRV_RESP_AGAIN;
        }
        if (!push_arg(p, p->pos, (size_t)p->bulk_len)) {
            p->oom = true;
            return fail(p, "Protocol error: out of memory");
        }
        p->pos = want;
        p->bulk_len = -1;
        p->mbulk_left--;
    }
    *consumed = p->pos;
    reset(p);
    return SRV_RESP_OK;
}

/* ======================================================================
 * Reply encoder
 * ====================================================================== */

bool srv_buf_reserve(srv_buf *b, size_t n)
{
    if (b->oom) {
        return false;
    }
    if (b->cap - b->len >= n) {
        return true;
    }
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->oom = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void srv_buf_free(srv_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void srv_buf_append(srv_buf *b, const void *p, size_t n)
{
    if (!srv_buf_reserve(b, n)) {
        return;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
}

/* "<c><v>\r\n" */
static void prefixed_ll(srv_buf *b, char c, long long v)
{
    if (!srv_buf_reserve(b, 24)) {
        return;
    }
    char *d = b->data + b->len;
    d[0] = c;
    size_t n = srv_ll2str(d + 1, v);
    d[n + 1] = '\r';
    d[n + 2] = '\n';
    b->len += n + 3;
}

/* A one-line reply: kind ('+' or '-'), then s with any CR or LF turned
 * into a space (a line must not end early), then CRLF. */
static void reply_line(srv_buf *b, char kind, const char *s)
{
    size_t n = strlen(s);
    if (!srv_buf_reserve(b, n + 3)) {
        return;
    }
    char *d = b->data + b->len;
    d[0] = kind;
    for (size_t i = 0; i < n; i++) {
        d[i + 1] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    }
    d[n + 1] = '\r';
    d[n + 2] = '\n';
    b->len += n + 3;
}

void srv_reply_status(srv_buf *b, const char *s)
{
    reply_line(b, '+', s);
}

void srv_reply_error(srv_buf *b, const char *msg)
{
    reply_line(b, '-', msg);
}

void srv_reply_errorf(srv_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    srv_reply_error(b, tmp);
}

void srv_reply_int(srv_buf *b, long long v)
{
    prefixed_ll(b, ':', v);
}

void srv_reply_bulk(srv_buf *b, const char *p, size_t n)
{
    if (!srv_buf_reserve(b, n + 26)) {
        return;
    }
    prefixed_ll(b, '$', (long long)n);
    memcpy(b->data + b->len, p, n);
    b->data[b->len + n] = '\r';
    b->data[b->len + n + 1] = '\n';
    b->len += n + 2;
}

void srv_reply_null(srv_buf *b)
{
    if (b->resp3) {
        srv_buf_append(b, "_\r\n", 3);
    } else {
        srv_buf_append(b, "$-1\r\n", 5);
    }
}

void srv_reply_null_array(srv_buf *b)
{
    if (b->resp3) {
        srv_buf_append(b, "_\r\n", 3);
    } else {
        srv_buf_append(b, "*-1\r\n", 5);
    }
}

void srv_reply_array(srv_buf *b, long long n)
{
    prefixed_ll(b, '*', n);
}

void srv_reply_map(srv_buf *b, long long n)
{
    if (b->resp3) {
        prefixed_ll(b, '%', n);
    } else {
        prefixed_ll(b, '*', n * 2);
    }
}

void srv_reply_set(srv_buf *b, long long n)
{
    prefixed_ll(b, b->resp3 ? '~' : '*', n);
}

void srv_reply_push(srv_buf *b, long long n)
{
    prefixed_ll(b, b->resp3 ? '>' : '*', n);
}

void srv_reply_pairs(srv_buf *b, long long n)
{
    prefixed_ll(b, '*', b->resp3 ? n : n * 2);
}

void srv_reply_pair(srv_buf *b)
{
    if (b->resp3) {
        srv_buf_append(b, "*2\r\n", 4);
    }
}

void srv_reply_double(srv_buf *b, double d)
{
    char tmp[40];
    size_t n = srv_d2str(tmp, d);
    if (!b->resp3) {
        srv_reply_bulk(b, tmp, n);
        return;
    }
    if (!srv_buf_reserve(b, n + 3)) {
        return;
    }
    b->data[b->len] = ',';
    memcpy(b->data + b->len + 1, tmp, n);
    b->data[b->len + n + 1] = '\r';
    b->data[b->len + n + 2] = '\n';
    b->len += n + 3;
}

void srv_reply_bool(srv_buf *b, bool v)
{
    if (b->resp3) {
        srv_buf_append(b, v ? "#t\r\n" : "#f\r\n", 4);
    } else {
        srv_buf_append(b, v ? ":1\r\n" : ":0\r\n", 4);
    }
}

void srv_reply_verbatim(srv_buf *b, const char *p, size_t n)
{
    if (!b->resp3) {
        srv_reply_bulk(b, p, n);
        return;
    }
    if (!srv_buf_reserve(b, n + 30)) {
        return;
    }
    prefixed_ll(b, '=', (long long)n + 4);
    memcpy(b->data + b->len, "txt:", 4);
    memcpy(b->data + b->len + 4, p, n);
    b->data[b->len + n + 4] = '\r';
    b->data[b->len + n + 5] = '\n';
    b->len += n + 6;
}

/* ======================================================================
 * Glob matching (the semantics of Redis's stringmatchlen)
 * ====================================================================== */

static char fold(char c, bool nocase)
{
    return nocase ? (char)tolower((unsigned char)c) : c;
}

/* Match a [...] class at pat (after the '['); advances *pp past it. */
static bool match_class(const char **pp, const char *pend, char c, bool nocase)
{
    const char *pat = *pp;
    bool neg = false, match = false;
    if (pat < pend && *pat == '^') {
        neg = true;
        pat++;
    }
    for (;;) {
        if (pat >= pend) {
            pat--; // unterminated: as Redis, treat the end as ']'
            break;
        }
        if (*pat == '\\' && pat + 1 < pend) {
            pat++;
            if (*pat == c) {
                match = true;
            }
        } else if (*pat == ']') {
            break;
        } else if (pat + 2 < pend && pat[1] == '-') {
            char lo = fold(pat[0], nocase), hi = fold(pat[2], nocase);
            if (lo > hi) {
                char t = lo;
                lo = hi;
                hi = t;
            }
            char f = fold(c, nocase);
            if (f >= lo && f <= hi) {
                match = true;
            }
            pat += 2;
        } else if (fold(*pat, nocase) == fold(c, nocase)) {
            match = true;
        }
        pat++;
    }
    *pp = pat + 1;
    return neg ? !match : match;
}

/* Does the one-character token at pat match c?  Sets *next past it. */
static bool token_match(const char *pat, const char *pend, char c, bool nocase,
                        const char **next)
{
    switch (*pat) {
    case '?':
        *next = pat + 1;
        return true;
    case '[': {
        const char *p2 = pat + 1;
        bool ok = match_class(&p2, pend, c, nocase);
        *next = p2;
        return ok;
    }
    case '\\':
        if (pat + 1 < pend) {
            pat++;
        }
        /* fall through */
    default:
        *next = pat + 1;
        return fold(*pat, nocase) == fold(c, nocase);
    }
}

/* Iterative matching with one backtrack point, the last '*': every other
 * token matches exactly one character, so retrying from the last star is
 * enough, and the time is O(pattern * string) rather than exponential. */
static bool glob(const char *pat, const char *pend, const char *s, const char *send,
                 bool nocase)
{
    const char *star_p = NULL, *star_s = NULL;
    while (s < send) {
        if (pat < pend && *pat == '*') {
            while (pat < pend && *pat == '*') {
                pat++;
            }
            star_p = pat;
            star_s = s;
            continue;
        }
        const char *next;
        if (pat < pend && token_match(pat, pend, *s, nocase, &next)) {
            pat = next;
            s++;
            continue;
        }
        if (star_p == NULL) {
            return false;
        }
        pat = star_p;
        s = ++star_s;
    }
    while (pat < pend && *pat == '*') {
        pat++;
    }
    return pat == pend;
}

bool srv_glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                    bool nocase)
{
    return glob(pat, pat + plen, s, s + slen, nocase);
}
