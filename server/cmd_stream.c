/*
 * server/cmd_stream.c - the stream type's commands: XADD, XLEN, XRANGE,
 * XREVRANGE, XDEL, XTRIM, XSETID, XREAD, the consumer groups (XGROUP,
 * XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO, with Redis
 * 7.0's replies and errors.
 *
 * Technique.  A stream (srv_stream, server.h) is an append-mostly log of
 * entries keyed by 128-bit IDs (ms-seq), kept in *nodes* the way Redis
 * keeps them in listpacks under a radix tree: the nodes are an array
 * sorted by their first ID, each node holds up to stream-node-max-entries
 * entries (fewer once its estimated listpack size passes
 * stream-node-max-bytes) in an array sorted by ID.  Finding an ID is a
 * binary search over the nodes, then one inside the node: O(log n).  An
 * XADD appends at the tail (a new node when the last is full).  A
 * deleted entry stays in its node as a tombstone (items[i] NULL) and the
 * node goes when its last live entry does, as in Redis; so approximate
 * trimming ('~'), which removes whole nodes only, and XINFO's node count
 * come out as Redis's.  Entry bytes (fields, values) are one mw_malloc
 * block each: no runtime objects inside, so a stream is not a collector
 * container.
 *
 * Consumer groups are a sorted array per stream (XINFO lists them by
 * name, as Redis's radix tree does); each has a sorted array of
 * consumers and a PEL, an array of NACKs sorted by ID; each consumer's
 * PEL points at the same NACKs.  Lookups are binary searches; an insert
 * moves pointers, which for the usual delivery order (increasing IDs) is
 * an append.
 *
 * Blocking XREAD/XREADGROUP go through blocking.c (block_on_keys, kind
 * SRV_BLK_XREAD): the waiter keeps, per key, the ID it waits after;
 * stream_serve below decides, when a key was touched, whether it now has
 * something past that ID, and replies as the command would.
 *
 * Not handled: nothing is propagated (no replication or AOF here), and
 * keyspace notifications do not exist in this server.
 */
#include "cmd.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ======================================================================
 * IDs
 * ====================================================================== */

static const srv_sid SID_MIN = {0, 0};
static const srv_sid SID_MAX = {UINT64_MAX, UINT64_MAX};

static int sid_cmp(const srv_sid *a, const srv_sid *b)
{
    if (a->ms != b->ms) {
        return a->ms < b->ms ? -1 : 1;
    }
    if (a->seq != b->seq) {
        return a->seq < b->seq ? -1 : 1;
    }
    return 0;
}

static bool sid_is_zero(const srv_sid *a)
{
    return a->ms == 0 && a->seq == 0;
}

/* The next ID; false at the last one. */
static bool sid_incr(srv_sid *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            return false;
        }
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return true;
}

static bool sid_decr(srv_sid *id)
{
    if (id->seq == 0) {
        if (id->ms == 0) {
            return false;
        }
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return true;
}

static void reply_sid(srv_buf *out, const srv_sid *id)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%llu-%llu", (unsigned long long)id->ms,
                     (unsigned long long)id->seq);
    srv_reply_bulk(out, buf, (size_t)n);
}

static bool parse_u64(const char *p, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20) {
        return false;
    }
    uint64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        unsigned d = (unsigned)(p[i] - '0');
        if (r > (UINT64_MAX - d) / 10) {
            return false;
        }
        r = r * 10 + d;
    }
    *v = r;
    return true;
}

static const char *const E_BADID = "ERR Invalid stream ID specified as stream command argument";

/* Redis's ID grammar: "-", "+" (not when strict), "ms" (seq missing_seq),
 * "ms-seq", and for XADD (seq_given not NULL) "ms-*".  Replies the error
 * when x is not NULL; false if invalid. */
static bool parse_sid(ctx *x, const char *p, size_t n, srv_sid *id, uint64_t missing_seq,
                      bool strict, bool *seq_given)
{
    if (seq_given != NULL) {
        *seq_given = true;
    }
    if (n == 1 && (p[0] == '-' || p[0] == '+')) {
        if (strict) {
            goto invalid;
        }
        *id = p[0] == '-' ? SID_MIN : SID_MAX;
        return true;
    }
    const char *dash = memchr(p, '-', n);
    size_t msn = dash != NULL ? (size_t)(dash - p) : n;
    if (!parse_u64(p, msn, &id->ms)) {
        goto invalid;
    }
    if (dash == NULL) {
        id->seq = missing_seq;
        return true;
    }
    const char *sq = dash + 1;
    size_t sn = n - msn - 1;
    if (seq_given != NULL && sn == 1 && sq[0] == '*') {
        id->seq = 0;
        *seq_given = false;
        return true;
    }
    if (!parse_u64(sq, sn, &id->seq)) {
        goto invalid;
    }
    return true;
invalid:
    if (x != NULL) {
        srv_reply_error(x->out, E_BADID);
    }
    return false;
}

static bool arg_sid(ctx *x, size_t i, srv_sid *id, bool strict)
{
    return parse_sid(x, x->argv[i], x->argl[i], id, 0, strict, NULL);
}

/* An interval bound: "(" makes it exclusive (then strict). */
static bool arg_interval(ctx *x, size_t i, srv_sid *id, bool *excl, uint64_t missing_seq)
{
    const char *p = x->argv[i];
    size_t n = x->argl[i];
    *excl = n > 1 && p[0] == '(';
    if (*excl) {
        return parse_sid(x, p + 1, n - 1, id, missing_seq, true, NULL);
    }
    return parse_sid(x, p, n, id, missing_seq, false, NULL);
}

/* Start and end of a range ("(" bounds moved inward); false after the
 * error. */
static bool arg_range(ctx *x, size_t si, size_t ei, srv_sid *start, srv_sid *end)
{
    bool ex;
    if (!arg_interval(x, si, start, &ex, 0)) {
        return false;
    }
    if (ex && !sid_incr(start)) {
        srv_reply_error(x->out, "ERR invalid start ID for the interval");
        return false;
    }
    if (!arg_interval(x, ei, end, &ex, UINT64_MAX)) {
        return false;
    }
    if (ex && !sid_decr(end)) {
        srv_reply_error(x->out, "ERR invalid end ID for the interval");
        return false;
    }
    return true;
}

/* ======================================================================
 * Entries and nodes
 * ====================================================================== */

static const char *item_bytes(const srv_sitem *it)
{
    return (const char *)&it->len[2 * it->npairs];
}

static srv_sitem *item_new(ctx *x, size_t from, size_t npairs, size_t *total)
{
    size_t bytes = 0;
    for (size_t k = 0; k < 2 * npairs; k++) {
        bytes += x->argl[from + k];
    }
    srv_sitem *it = mw_malloc(sizeof *it + 2 * npairs * sizeof it->len[0] + bytes);
    if (it == NULL) {
        return NULL;
    }
    it->npairs = (uint32_t)npairs;
    char *p = (char *)item_bytes(it);
    for (size_t k = 0; k < 2 * npairs; k++) {
        it->len[k] = (uint32_t)x->argl[from + k];
        memcpy(p, x->argv[from + k], x->argl[from + k]);
        p += x->argl[from + k];
    }
    *total = bytes;
    return it;
}

static srv_sitem *item_dup(const srv_sitem *it)
{
    size_t bytes = 0;
    for (size_t k = 0; k < 2 * it->npairs; k++) {
        bytes += it->len[k];
    }
    size_t sz = sizeof *it + 2 * it->npairs * sizeof it->len[0] + bytes;
    srv_sitem *c = mw_malloc(sz);
    if (c != NULL) {
        memcpy(c, it, sz);
    }
    return c;
}

/* [id, [field, value, ...]] */
static void reply_entry(srv_buf *out, const srv_sid *id, const srv_sitem *it)
{
    srv_reply_array(out, 2);
    reply_sid(out, id);
    srv_reply_array(out, 2 * (long long)it->npairs);
    const char *p = item_bytes(it);
    for (size_t k = 0; k < 2 * it->npairs; k++) {
        srv_reply_bulk(out, p, it->len[k]);
        p += it->len[k];
    }
}

/* A place in the stream: node ni, slot pi. */
typedef struct spos {
    size_t ni, pi;
} spos;

/* The first slot (live or not) with an ID >= id: ni == nnodes at the end. */
static spos seek_ge(const srv_stream *s, const srv_sid *id)
{
    // The last node whose first ID is <= id, then the slot in it.
    size_t lo = 0, hi = s->nnodes;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sid_cmp(&s->nodes[mid]->ids[0], id) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    spos p = {lo == 0 ? 0 : lo - 1, 0};
    if (p.ni >= s->nnodes) {
        return (spos){s->nnodes, 0};
    }
    const srv_snode *nd = s->nodes[p.ni];
    lo = 0;
    hi = nd->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sid_cmp(&nd->ids[mid], id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    p.pi = lo;
    if (p.pi == nd->n) {
        p.ni++;
        p.pi = 0;
    }
    return p;
}

/* Move to the next live entry from p (p included); false at the end. */
static bool live_fwd(const srv_stream *s, spos *p)
{
    while (p->ni < s->nnodes) {
        const srv_snode *nd = s->nodes[p->ni];
        while (p->pi < nd->n) {
            if (nd->items[p->pi] != NULL) {
                return true;
            }
            p->pi++;
        }
        p->ni++;
        p->pi = 0;
    }
    return false;
}

static void step_fwd(spos *p)
{
    p->pi++;
}

/* The last live entry at or before the slot before p... for reverse walks:
 * p names the slot after the wanted one; on true, p is the entry. */
static bool live_back(const srv_stream *s, spos *p)
{
    for (;;) {
        if (p->pi == 0) {
            if (p->ni == 0) {
                return false;
            }
            p->ni--;
            p->pi = s->nodes[p->ni]->n;
            continue;
        }
        p->pi--;
        if (s->nodes[p->ni]->items[p->pi] != NULL) {
            return true;
        }
    }
}

/* The live entry with this ID, or NULL (sets *at when found). */
static srv_sitem *entry_find(const srv_stream *s, const srv_sid *id, spos *at)
{
    spos p = seek_ge(s, id);
    if (p.ni >= s->nnodes) {
        return NULL;
    }
    const srv_snode *nd = s->nodes[p.ni];
    if (sid_cmp(&nd->ids[p.pi], id) != 0 || nd->items[p.pi] == NULL) {
        return NULL;
    }
    if (at != NULL) {
        *at = p;
    }
    return nd->items[p.pi];
}

/* The last live entry's ID (0-0 when empty). */
static srv_sid last_valid_id(const srv_stream *s)
{
    spos p = {s->nnodes, 0};
    if (live_back(s, &p)) {
        return s->nodes[p.ni]->ids[p.pi];
    }
    return SID_MIN;
}

/* The first live entry's ID, or SID_MAX if none (Redis's edge ID). */
static srv_sid first_valid_id(const srv_stream *s)
{
    spos p = {0, 0};
    if (live_fwd(s, &p)) {
        return s->nodes[p.ni]->ids[p.pi];
    }
    return SID_MAX;
}

static void node_free(srv_snode *nd)
{
    for (size_t k = 0; k < nd->n; k++) {
        mw_free(nd->items[k]);
    }
    mw_free(nd->ids);
    mw_free(nd->items);
    mw_free(nd);
}

static void node_remove(srv_stream *s, size_t ni)
{
    node_free(s->nodes[ni]);
    memmove(&s->nodes[ni], &s->nodes[ni + 1], (s->nnodes - ni - 1) * sizeof s->nodes[0]);
    s->nnodes--;
}

/* Listpack bytes Redis would spend on an entry of this size: a few small
 * integers (flags, ID deltas, counts) and each string with its header. */
static size_t entry_lp_bytes(const srv_sitem *it, size_t data)
{
    return 10 + data + 4 * (size_t)it->npairs;
}

/* Append the entry it with ID id (greater than every ID in s), stealing
 * it; false when out of memory (it freed). */
static bool stream_append(srv_stream *s, const srv_sid *id, srv_sitem *it, size_t data)
{
    long long max_entries = config_stream_node_max_entries();
    long long max_bytes = config_stream_node_max_bytes();
    if (max_bytes <= 0 || max_bytes > (1LL << 30)) {
        max_bytes = 1LL << 30;
    }
    srv_snode *nd = s->nnodes > 0 ? s->nodes[s->nnodes - 1] : NULL;
    if (nd != NULL && ((long long)(nd->bytes + data) >= max_bytes ||
                       (max_entries > 0 && (long long)nd->n >= max_entries))) {
        nd = NULL;
    }
    if (nd == NULL) {
        if (s->nnodes == s->ncap) {
            size_t cap = s->ncap ? s->ncap * 2 : 4;
            srv_snode **v = mw_realloc(s->nodes, cap * sizeof *v);
            if (v == NULL) {
                mw_free(it);
                return false;
            }
            s->nodes = v;
            s->ncap = cap;
        }
        nd = mw_calloc(1, sizeof *nd);
        if (nd == NULL) {
            mw_free(it);
            return false;
        }
        nd->bytes = 7 + 8 + data;  // header, end, master entry
        s->nodes[s->nnodes++] = nd;
    }
    if (nd->n == nd->cap) {
        size_t cap = nd->cap ? nd->cap * 2 : 4;
        srv_sid *ids = mw_realloc(nd->ids, cap * sizeof *ids);
        if (ids != NULL) {
            nd->ids = ids;
        }
        srv_sitem **items = ids != NULL ? mw_realloc(nd->items, cap * sizeof *items) : NULL;
        if (items == NULL) {
            if (nd->n == 0) {
                node_remove(s, s->nnodes - 1);
            }
            mw_free(it);
            return false;
        }
        nd->items = items;
        nd->cap = cap;
    }
    nd->ids[nd->n] = *id;
    nd->items[nd->n] = it;
    nd->n++;
    nd->live++;
    nd->bytes += entry_lp_bytes(it, data);
    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1) {
        s->first_id = *id;
    }
    return true;
}

/* Delete the live entry at p; its node goes when it was its last. */
static void entry_delete_at(srv_stream *s, spos p)
{
    srv_snode *nd = s->nodes[p.ni];
    mw_free(nd->items[p.pi]);
    nd->items[p.pi] = NULL;
    nd->live--;
    s->length--;
    if (nd->live == 0) {
        node_remove(s, p.ni);
    }
}

/* ======================================================================
 * Trimming (XADD's MAXLEN/MINID, XTRIM)
 * ====================================================================== */

enum { TRIM_NONE, TRIM_MAXLEN, TRIM_MINID };

typedef struct trim_args {
    int strategy;
    bool approx;
    long long maxlen, limit;
    srv_sid minid;
    bool nomkstream, id_given, seq_given;
    srv_sid id;
} trim_args;

/* Redis's streamTrim: whole nodes from the head while they may all go,
 * then (exact trimming only) entries of the first node left. */
static long long stream_trim(srv_stream *s, const trim_args *a)
{
    long long deleted = 0;
    while (a->strategy != TRIM_NONE && s->nnodes > 0) {
        if (a->strategy == TRIM_MAXLEN && (long long)s->length <= a->maxlen) {
            break;
        }
        srv_snode *nd = s->nodes[0];
        long long entries = (long long)nd->live;
        if (a->limit && deleted + entries > a->limit) {
            break;
        }
        bool whole = a->strategy == TRIM_MAXLEN
                         ? (long long)s->length - entries >= a->maxlen
                         : sid_cmp(&nd->ids[nd->n - 1], &a->minid) < 0;
        if (whole) {
            s->length -= (size_t)entries;
            deleted += entries;
            node_remove(s, 0);
            continue;
        }
        if (a->approx) {
            break;
        }
        for (size_t k = 0; k < nd->n; k++) {
            bool stop = a->strategy == TRIM_MAXLEN ? (long long)s->length <= a->maxlen
                                                   : sid_cmp(&nd->ids[k], &a->minid) >= 0;
            if (stop) {
                break;
            }
            if (nd->items[k] != NULL) {
                mw_free(nd->items[k]);
                nd->items[k] = NULL;
                nd->live--;
                s->length--;
                deleted++;
            }
        }
        break;
    }
    if (deleted > 0) {
        s->first_id = first_valid_id(s);
    }
    return deleted;
}

/* The options of XADD (xadd) or XTRIM from argument 2: returns the index
 * of XADD's ID argument (or argc for XTRIM), 0 after replying an error. */
static size_t trim_args_parse(ctx *x, trim_args *a, bool xadd)
{
    memset(a, 0, sizeof *a);
    bool limit_given = false;
    size_t i = 2;
    for (; i < x->argc; i++) {
        size_t more = x->argc - 1 - i;
        const char *o = x->argv[i];
        if (xadd && x->argl[i] == 1 && o[0] == '*') {
            break;
        }
        bool maxlen = arg_is(x, i, "MAXLEN"), minid = arg_is(x, i, "MINID");
        if ((maxlen || minid) && more) {
            if (a->strategy != TRIM_NONE) {
                srv_reply_error(x->out, "ERR syntax error, MAXLEN and MINID options at the same "
                                        "time are not compatible");
                return 0;
            }
            a->approx = false;
            const char *nx = x->argv[i + 1];
            if (more >= 2 && x->argl[i + 1] == 1 && (nx[0] == '~' || nx[0] == '=')) {
                a->approx = nx[0] == '~';
                i++;
            }
            if (maxlen) {
                if (!arg_ll(x, i + 1, &a->maxlen)) {
                    return 0;
                }
                if (a->maxlen < 0) {
                    srv_reply_error(x->out, "ERR The MAXLEN argument must be >= 0.");
                    return 0;
                }
                a->strategy = TRIM_MAXLEN;
            } else {
                if (!arg_sid(x, i + 1, &a->minid, true)) {
                    return 0;
                }
                a->strategy = TRIM_MINID;
            }
            i++;
        } else if (arg_is(x, i, "LIMIT") && more) {
            if (!arg_ll(x, i + 1, &a->limit)) {
                return 0;
            }
            if (a->limit < 0) {
                srv_reply_error(x->out, "ERR The LIMIT argument must be >= 0.");
                return 0;
            }
            limit_given = true;
            i++;
        } else if (xadd && arg_is(x, i, "NOMKSTREAM")) {
            a->nomkstream = true;
        } else if (xadd) {
            if (!parse_sid(x, x->argv[i], x->argl[i], &a->id, 0, true, &a->seq_given)) {
                return 0;
            }
            a->id_given = true;
            break;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return 0;
        }
    }
    if (a->limit && a->strategy == TRIM_NONE) {
        srv_reply_error(x->out, "ERR syntax error, LIMIT cannot be used without specifying a "
                                "trimming strategy");
        return 0;
    }
    if (!xadd && a->strategy == TRIM_NONE) {
        srv_reply_error(x->out, "ERR syntax error, XTRIM must be called with a trimming strategy");
        return 0;
    }
    if (limit_given) {
        if (!a->approx) {
            srv_reply_error(x->out, "ERR syntax error, LIMIT cannot be used without the special "
                                    "~ option");
            return 0;
        }
    } else if (a->approx) {
        a->limit = 100 * config_stream_node_max_entries();
        if (a->limit <= 0) {
            a->limit = 10000;
        }
        if (a->limit > 1000000) {
            a->limit = 1000000;
        }
    } else {
        a->limit = 0;
    }
    return i;
}

/* ======================================================================
 * Lookups
 * ====================================================================== */

/* The stream at argument i: 1 found, 0 missing, -1 WRONGTYPE replied. */
static int stream_lookup(ctx *x, size_t i, srv_stream **s)
{
    mw_object *o;
    int r = lookup(x, i, &srv_stream_type, &o);
    *s = (srv_stream *)o;
    return r;
}

/* A new stream at argument i; NULL after replying OOM. */
static srv_stream *stream_create(ctx *x, size_t i)
{
    srv_stream *s = srv_stream_new();
    if (s == NULL || !srv_ks_set(x->argv[i], x->argl[i], &s->ob, false)) {
        mw_decref(&s->ob);
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return NULL;
    }
    mw_decref(&s->ob);  // the keyspace holds it
    return s;
}

static int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c != 0 ? c : (an < bn ? -1 : an > bn);
}

/* Index of the group named so, or where it would go (*found false). */
/* Binary search of v, count records sorted by the name (and length) at
 * those offsets in each, for name: the index of the match (*found), or
 * where it would go.  Groups and consumers are both kept so. */
static size_t name_search(void *const *v, size_t count, size_t name_at, size_t len_at,
                          const char *name, size_t n, bool *found)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *rec = v[mid];
        int c = name_cmp(*(char *const *)(rec + name_at), *(const size_t *)(rec + len_at), name, n);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

static size_t group_index(const srv_stream *s, const char *name, size_t n, bool *found)
{
    return name_search((void *const *)s->groups, s->ngroups, offsetof(srv_sgroup, name),
                       offsetof(srv_sgroup, nlen), name, n, found);
}

static srv_sgroup *group_find(const srv_stream *s, const char *name, size_t n)
{
    bool found;
    size_t i = group_index(s, name, n, &found);
    return found ? s->groups[i] : NULL;
}

static char *bytes_dup(const char *p, size_t n)
{
    char *d = mw_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* Insert g at place i of s's groups; false when out of memory. */
static bool group_insert(srv_stream *s, size_t i, srv_sgroup *g)
{
    if (s->ngroups == s->gcap) {
        size_t cap = s->gcap ? s->gcap * 2 : 2;
        srv_sgroup **v = mw_realloc(s->groups, cap * sizeof *v);
        if (v == NULL) {
            return false;
        }
        s->groups = v;
        s->gcap = cap;
    }
    memmove(&s->groups[i + 1], &s->groups[i], (s->ngroups - i) * sizeof s->groups[0]);
    s->groups[i] = g;
    s->ngroups++;
    return true;
}

static srv_sgroup *group_new(const char *name, size_t n, const srv_sid *last, long long read)
{
    srv_sgroup *g = mw_calloc(1, sizeof *g);
    if (g == NULL) {
        return NULL;
    }
    g->name = bytes_dup(name, n);
    if (g->name == NULL) {
        mw_free(g);
        return NULL;
    }
    g->nlen = n;
    g->last_id = *last;
    g->entries_read = read;
    return g;
}

static size_t consumer_index(const srv_sgroup *g, const char *name, size_t n, bool *found)
{
    return name_search((void *const *)g->cons, g->ncons, offsetof(srv_sconsumer, name),
                       offsetof(srv_sconsumer, nlen), name, n, found);
}

/* The consumer named so, created if missing (*created, and the
 * "xgroup-createconsumer" event on the stream at argument key of x), seen
 * now when `seen`; NULL when out of memory. */
static srv_sconsumer *consumer_get(ctx *x, size_t key, srv_sgroup *g, const char *name, size_t n,
                                   bool create, bool seen, bool *created)
{
    bool found;
    size_t i = consumer_index(g, name, n, &found);
    if (created != NULL) {
        *created = false;
    }
    if (found) {
        if (seen) {
            g->cons[i]->seen_time = srv_now_ms();
        }
        return g->cons[i];
    }
    if (!create) {
        return NULL;
    }
    if (g->ncons == g->ccap) {
        size_t cap = g->ccap ? g->ccap * 2 : 4;
        srv_sconsumer **v = mw_realloc(g->cons, cap * sizeof *v);
        if (v == NULL) {
            return NULL;
        }
        g->cons = v;
        g->ccap = cap;
    }
    srv_sconsumer *c = mw_calloc(1, sizeof *c);
    if (c == NULL || (c->name = bytes_dup(name, n)) == NULL) {
        mw_free(c);
        return NULL;
    }
    c->nlen = n;
    c->seen_time = srv_now_ms();
    memmove(&g->cons[i + 1], &g->cons[i], (g->ncons - i) * sizeof g->cons[0]);
    g->cons[i] = c;
    g->ncons++;
    if (created != NULL) {
        *created = true;
    }
    notify_key(x, SRV_NOTIFY_STREAM, "xgroup-createconsumer", key);
    return c;
}

/* ---------------------------------------------------------------- PELs */

/* Index of the first NACK with an ID >= id; *found if equal. */
static size_t pel_index(const srv_spel *p, const srv_sid *id, bool *found)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sid_cmp(&p->v[mid]->id, id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < p->n && sid_cmp(&p->v[lo]->id, id) == 0;
    return lo;
}

static srv_snack *pel_find(const srv_spel *p, const srv_sid *id)
{
    bool found;
    size_t i = pel_index(p, id, &found);
    return found ? p->v[i] : NULL;
}

static bool pel_insert(srv_spel *p, srv_snack *nk)
{
    bool found;
    size_t i = pel_index(p, &nk->id, &found);
    if (found) {
        p->v[i] = nk;
        return true;
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        srv_snack **v = mw_realloc(p->v, cap * sizeof *v);
        if (v == NULL) {
            return false;
        }
        p->v = v;
        p->cap = cap;
    }
    memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof p->v[0]);
    p->v[i] = nk;
    p->n++;
    return true;
}

static void pel_remove(srv_spel *p, const srv_sid *id)
{
    bool found;
    size_t i = pel_index(p, id, &found);
    if (found) {
        memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof p->v[0]);
        p->n--;
    }
}

/* Drop NACK nk from its group (and its consumer's PEL) and free it. */
static void nack_drop(srv_sgroup *g, srv_snack *nk)
{
    srv_sid id = nk->id;
    pel_remove(&g->pel, &id);
    if (nk->consumer != NULL) {
        pel_remove(&nk->consumer->pel, &id);
    }
    mw_free(nk);
}

/* Give nk to consumer c (from whoever had it). */
static bool nack_move(srv_snack *nk, srv_sconsumer *c)
{
    if (nk->consumer == c) {
        return true;
    }
    if (!pel_insert(&c->pel, nk)) {
        return false;
    }
    if (nk->consumer != NULL) {
        pel_remove(&nk->consumer->pel, &nk->id);
    }
    nk->consumer = c;
    return true;
}

/* ======================================================================
 * Lag and read counters (Redis 7.0's estimates)
 * ====================================================================== */

static bool range_has_tombstones(const srv_stream *s, const srv_sid *start)
{
    if (s->length == 0 || sid_is_zero(&s->max_deleted)) {
        return false;
    }
    if (sid_cmp(&s->first_id, &s->max_deleted) > 0) {
        return false;
    }
    const srv_sid *from = start != NULL ? start : &SID_MIN;
    return sid_cmp(from, &s->max_deleted) <= 0;
}

static long long estimate_distance(const srv_stream *s, const srv_sid *id)
{
    if (s->entries_added == 0) {
        return 0;
    }
    if (s->length == 0 && sid_cmp(id, &s->last_id) < 1) {
        return (long long)s->entries_added;
    }
    int cmp_last = sid_cmp(id, &s->last_id);
    if (cmp_last == 0) {
        return (long long)s->entries_added;
    }
    if (cmp_last > 0) {
        return -1;
    }
    int cmp_first = sid_cmp(id, &s->first_id);
    if (sid_is_zero(&s->max_deleted) || sid_cmp(&s->max_deleted, &s->first_id) < 0) {
        if (cmp_first < 0) {
            return (long long)(s->entries_added - s->length);
        }
        if (cmp_first == 0) {
            return (long long)(s->entries_added - s->length + 1);
        }
    }
    return -1;
}

static void reply_lag(srv_buf *out, const srv_stream *s, const srv_sgroup *g)
{
    if (s->entries_added == 0) {
        srv_reply_int(out, 0);
    } else if (g->entries_read != -1 && !range_has_tombstones(s, &g->last_id)) {
        srv_reply_int(out, (long long)s->entries_added - g->entries_read);
    } else {
        long long read = estimate_distance(s, &g->last_id);
        if (read != -1) {
            srv_reply_int(out, (long long)s->entries_added - read);
        } else {
            srv_reply_null(out);
        }
    }
}

/* ======================================================================
 * Replying ranges
 * ====================================================================== */

/* A reply whose length is known only at its end: the elements are
 * written to tmp, then the header and tmp to out. */
static void deferred_begin(srv_buf *tmp, const srv_buf *out)
{
    memset(tmp, 0, sizeof *tmp);
    tmp->resp3 = out->resp3;
}

static void deferred_end_array(srv_buf *out, srv_buf *tmp, long long n)
{
    srv_reply_array(out, n);
    srv_buf_append(out, tmp->data, tmp->len);
    if (tmp->oom) {
        out->oom = true;
    }
    srv_buf_free(tmp);
}

/* Reply the entries from start to end (rev: from end down to start), at
 * most count (0: all); with a group (g, c), deliver them: a NACK each
 * unless noack, and the group's last ID and read counter moved.  Returns
 * how many were replied. */
static long long reply_range(srv_buf *out, srv_stream *s, const srv_sid *start,
                             const srv_sid *end, long long count, bool rev, srv_sgroup *g,
                             srv_sconsumer *c, bool noack)
{
    srv_buf tmp;
    deferred_begin(&tmp, out);
    long long n = 0;
    int64_t now = g != NULL ? srv_now_ms() : 0;
    if (sid_cmp(start, end) <= 0) {
        spos p;
        if (rev) {
            p = seek_ge(s, end);
            // seek_ge gives the first >= end: include it if equal.
            if (p.ni < s->nnodes && sid_cmp(&s->nodes[p.ni]->ids[p.pi], end) == 0) {
                p.pi++;
            }
        } else {
            p = seek_ge(s, start);
        }
        while (count == 0 || n < count) {
            if (rev ? !live_back(s, &p) : !live_fwd(s, &p)) {
                break;
            }
            const srv_sid *id = &s->nodes[p.ni]->ids[p.pi];
            if (rev ? sid_cmp(id, start) < 0 : sid_cmp(id, end) > 0) {
                break;
            }
            srv_sid cur = *id;
            const srv_sitem *it = s->nodes[p.ni]->items[p.pi];
            if (g != NULL && sid_cmp(&cur, &g->last_id) > 0) {
                if (g->entries_read != -1 && !range_has_tombstones(s, &cur)) {
                    g->entries_read++;
                } else if (s->entries_added) {
                    g->entries_read = estimate_distance(s, &cur);
                }
                g->last_id = cur;
            }
            if (g != NULL && !noack) {
                srv_snack *nk = pel_find(&g->pel, &cur);
                if (nk == NULL) {
                    nk = mw_calloc(1, sizeof *nk);
                    if (nk != NULL) {
                        nk->id = cur;
                        if (!pel_insert(&g->pel, nk)) {
                            mw_free(nk);
                            nk = NULL;
                        }
                    }
                }
                if (nk != NULL) {
                    nk->delivery_time = now;
                    nk->delivery_count = 1;
                    if (!nack_move(nk, c)) {
                        nack_drop(g, nk);
                    }
                }
            }
            reply_entry(&tmp, &cur, it);
            n++;
            if (!rev) {
                step_fwd(&p);
            }
        }
    }
    deferred_end_array(out, &tmp, n);
    return n;
}

/* XREADGROUP with an ID: the consumer's own pending entries after start
 * (an entry deleted since shows as [id, nil]). */
static void reply_history(srv_buf *out, srv_stream *s, srv_sconsumer *c, const srv_sid *start,
                          long long count)
{
    bool found;
    size_t i = pel_index(&c->pel, start, &found);
    size_t total = c->pel.n - i;
    if (count > 0 && (size_t)count < total) {
        total = (size_t)count;
    }
    srv_reply_array(out, (long long)total);
    int64_t now = srv_now_ms();
    for (size_t k = 0; k < total; k++) {
        srv_snack *nk = c->pel.v[i + k];
        srv_sitem *it = entry_find(s, &nk->id, NULL);
        if (it == NULL) {
            srv_reply_array(out, 2);
            reply_sid(out, &nk->id);
            srv_reply_null_array(out);
        } else {
            reply_entry(out, &nk->id, it);
            nk->delivery_time = now;
            nk->delivery_count++;
        }
    }
}

/* The one entry with this ID, or a null (XCLAIM, XAUTOCLAIM, XINFO). */
static void reply_one(srv_buf *out, const srv_stream *s, const srv_sid *id)
{
    srv_sitem *it = entry_find(s, id, NULL);
    if (it == NULL) {
        srv_reply_null(out);
    } else {
        reply_entry(out, id, it);
    }
}

/* ======================================================================
 * XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID
 * ====================================================================== */

/* XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]
 * *|id field value [field value ...] */
void cmd_xadd(ctx *x)
{
    trim_args a;
    size_t i = trim_args_parse(x, &a, true);
    if (i == 0) {
        return;
    }
    size_t fp = i + 1;
    if (x->argc < fp + 2 || (x->argc - fp) % 2 == 1) {
        srv_reply_error(x->out, "ERR wrong number of arguments for 'xadd' command");
        return;
    }
    if (a.id_given && a.seq_given && a.id.ms == 0 && a.id.seq == 0) {
        srv_reply_error(x->out, "ERR The ID specified in XADD must be greater than 0-0");
        return;
    }
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        if (a.nomkstream) {
            srv_reply_null(x->out);
            return;
        }
        // Made only once the ID is known to be valid (below), so that a
        // failed XADD leaves no empty key: check against an empty stream.
        s = NULL;
    }
    srv_sid last = s != NULL ? s->last_id : SID_MIN;
    if (last.ms == UINT64_MAX && last.seq == UINT64_MAX) {
        srv_reply_error(x->out, "ERR The stream has exhausted the last possible ID, unable to "
                                "add more items");
        return;
    }
    srv_sid id;
    bool ok = true;
    if (!a.id_given) {
        uint64_t ms = (uint64_t)srv_now_ms();
        if (ms > last.ms) {
            id = (srv_sid){ms, 0};
        } else {
            id = last;
            ok = sid_incr(&id);
        }
    } else if (!a.seq_given) {
        if (a.id.ms == last.ms) {
            ok = last.seq != UINT64_MAX;
            id = (srv_sid){last.ms, last.seq + 1};
        } else {
            ok = a.id.ms > last.ms;
            id = (srv_sid){a.id.ms, 0};
        }
    } else {
        id = a.id;
        ok = sid_cmp(&id, &last) > 0;
    }
    if (!ok) {
        srv_reply_error(x->out, "ERR The ID specified in XADD is equal or smaller than the "
                                "target stream top item");
        return;
    }
    if (s == NULL && (s = stream_create(x, 1)) == NULL) {
        return;
    }
    size_t data;
    srv_sitem *it = item_new(x, fp, (x->argc - fp) / 2, &data);
    if (it == NULL || !stream_append(s, &id, it, data)) {  // stream_append freed it
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    reply_sid(x->out, &id);
    notify_key(x, SRV_NOTIFY_STREAM, "xadd", 1);
    if (stream_trim(s, &a) > 0) {
        notify_key(x, SRV_NOTIFY_STREAM, "xtrim", 1);
    }
}

void cmd_xlen(ctx *x)
{
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r >= 0) {
        srv_reply_int(x->out, r > 0 ? (long long)s->length : 0);
    }
}

/* XRANGE key start end [COUNT n]; XREVRANGE key end start [COUNT n]. */
static void xrange(ctx *x, bool rev)
{
    srv_sid start, end;
    if (!arg_range(x, rev ? 3 : 2, rev ? 2 : 3, &start, &end)) {
        return;
    }
    long long count = -1;
    for (size_t j = 4; j < x->argc; j++) {
        if (arg_is(x, j, "COUNT") && j + 1 < x->argc) {
            if (!arg_ll(x, j + 1, &count)) {
                return;
            }
            if (count < 0) {
                count = 0;
            }
            j++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r < 0) {
        return;
    }
    if (r == 0) {
        srv_reply_array(x->out, 0);
    } else if (count == 0) {
        srv_reply_null_array(x->out);
    } else {
        reply_range(x->out, s, &start, &end, count < 0 ? 0 : count, rev, NULL, NULL, false);
    }
}

void cmd_xrange(ctx *x)
{
    xrange(x, false);
}

void cmd_xrevrange(ctx *x)
{
    xrange(x, true);
}

/* XDEL key id [id ...] */
void cmd_xdel(ctx *x)
{
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    for (size_t j = 2; j < x->argc; j++) {
        srv_sid id;
        if (!arg_sid(x, j, &id, true)) {
            return;
        }
    }
    long long deleted = 0;
    bool first = false;
    for (size_t j = 2; j < x->argc; j++) {
        srv_sid id;
        arg_sid(x, j, &id, true);
        spos p;
        if (entry_find(s, &id, &p) == NULL) {
            continue;
        }
        entry_delete_at(s, p);
        first |= sid_cmp(&id, &s->first_id) == 0;
        if (sid_cmp(&id, &s->max_deleted) > 0) {
            s->max_deleted = id;
        }
        deleted++;
    }
    if (deleted > 0) {
        if (s->length == 0) {
            s->first_id = SID_MIN;
        } else if (first) {
            s->first_id = first_valid_id(s);
        }
        notify_key(x, SRV_NOTIFY_STREAM, "xdel", 1);
    }
    srv_reply_int(x->out, deleted);
}

/* XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
void cmd_xtrim(ctx *x)
{
    trim_args a;
    if (trim_args_parse(x, &a, false) == 0) {
        return;
    }
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_int(x->out, 0);
        }
        return;
    }
    long long trimmed = stream_trim(s, &a);
    srv_reply_int(x->out, trimmed);
    if (trimmed > 0) {
        notify_key(x, SRV_NOTIFY_STREAM, "xtrim", 1);
    }
}

/* XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] */
void cmd_xsetid(ctx *x)
{
    srv_sid id, maxdel = SID_MIN;
    long long added = -1;
    if (!arg_sid(x, 2, &id, true)) {
        return;
    }
    for (size_t i = 3; i < x->argc; i++) {
        bool more = i + 1 < x->argc;
        if (arg_is(x, i, "ENTRIESADDED") && more) {
            if (!arg_ll(x, i + 1, &added)) {
                return;
            }
            if (added < 0) {
                srv_reply_error(x->out, "ERR entries_added must be positive");
                return;
            }
            i++;
        } else if (arg_is(x, i, "MAXDELETEDID") && more) {
            if (!arg_sid(x, i + 1, &maxdel, true)) {
                return;
            }
            if (sid_cmp(&id, &maxdel) < 0) {
                srv_reply_error(x->out, "ERR The ID specified in XSETID is smaller than the "
                                        "provided max_deleted_entry_id");
                return;
            }
            i++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_error(x->out, "ERR no such key");
        }
        return;
    }
    if (s->length > 0) {
        srv_sid top = last_valid_id(s);
        if (sid_cmp(&id, &top) < 0) {
            srv_reply_error(x->out, "ERR The ID specified in XSETID is smaller than the target "
                                    "stream top item");
            return;
        }
        if (added != -1 && (long long)s->length > added) {
            srv_reply_error(x->out, "ERR The entries_added specified in XSETID is smaller than "
                                    "the target stream length");
            return;
        }
    }
    // Redis 7.0.15 checks the top item and length first, then this.
    if (sid_cmp(&id, &s->max_deleted) < 0) {
        srv_reply_error(x->out, "ERR The ID specified in XSETID is smaller than current "
                                "max_deleted_entry_id");
        return;
    }
    s->last_id = id;
    if (added != -1) {
        s->entries_added = (uint64_t)added;
    }
    if (!sid_is_zero(&maxdel)) {
        s->max_deleted = maxdel;
    }
    srv_reply_status(x->out, "OK");
    notify_key(x, SRV_NOTIFY_STREAM, "xsetid", 1);
}

/* ======================================================================
 * XREAD, XREADGROUP
 * ====================================================================== */

#define XREAD_BLOCKED_DEFAULT_COUNT 1000

/* BLOCK's milliseconds as a deadline on srv_mono_us's clock (0: for
 * ever); false after the error. */
static bool block_ms_arg(ctx *x, size_t i, uint64_t *deadline)
{
    long long ms;
    if (!srv_str2ll(x->argv[i], x->argl[i], &ms)) {
        srv_reply_error(x->out, "ERR timeout is not an integer or out of range");
        return false;
    }
    if (ms < 0) {
        srv_reply_error(x->out, "ERR timeout is negative");
        return false;
    }
    if (ms > LLONG_MAX - srv_now_ms()) {
        srv_reply_error(x->out, "ERR timeout is out of range");
        return false;
    }
    *deadline = 0;
    if (ms > 0) {
        uint64_t us = srv_mono_us();
        *deadline = (uint64_t)ms > (UINT64_MAX - us) / 1000 ? UINT64_MAX : us + (uint64_t)ms * 1000;
    }
    return true;
}

/* The [key, entries] of one key of an XREAD reply: RESP2 nests each in
 * an array of two, RESP3 makes them the pairs of a map. */
static void reply_key_header(srv_buf *out, const char *key, size_t n)
{
    if (!out->resp3) {
        srv_reply_array(out, 2);
    }
    srv_reply_bulk(out, key, n);
}

static void xread(ctx *x, bool group_mode)
{
    long long count = 0;
    bool block = false, noack = false;
    uint64_t deadline = 0;
    size_t sa = 0, nkeys = 0, gi = 0;
    for (size_t i = 1; i < x->argc; i++) {
        size_t more = x->argc - i - 1;
        if (arg_is(x, i, "BLOCK") && more) {
            i++;
            if (!block_ms_arg(x, i, &deadline)) {
                return;
            }
            block = true;
        } else if (arg_is(x, i, "COUNT") && more) {
            i++;
            if (!arg_ll(x, i, &count)) {
                return;
            }
            if (count < 0) {
                count = 0;
            }
        } else if (arg_is(x, i, "STREAMS") && more) {
            sa = i + 1;
            if ((x->argc - sa) % 2 != 0) {
                srv_reply_errorf(x->out, "ERR Unbalanced %s list of streams: for each stream "
                                 "key an ID or '%c' must be specified.",
                                 group_mode ? "XREADGROUP" : "XREAD", group_mode ? '>' : '$');
                return;
            }
            nkeys = (x->argc - sa) / 2;
            break;
        } else if (arg_is(x, i, "GROUP") && more >= 2) {
            if (!group_mode) {
                srv_reply_error(x->out, "ERR The GROUP option is only supported by XREADGROUP. "
                                        "You called XREAD instead.");
                return;
            }
            gi = i + 1;
            i += 2;
        } else if (arg_is(x, i, "NOACK")) {
            if (!group_mode) {
                srv_reply_error(x->out, "ERR The NOACK option is only supported by XREADGROUP. "
                                        "You called XREAD instead.");
                return;
            }
            noack = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if (sa == 0) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (group_mode && gi == 0) {
        srv_reply_error(x->out, "ERR Missing GROUP option for XREADGROUP");
        return;
    }
    if (srv_split()) {
        unsigned slot = srv_key_slot(x->argv[sa], x->argl[sa]);
        for (size_t k = 1; k < nkeys; k++) {
            if (srv_key_slot(x->argv[sa + k], x->argl[sa + k]) != slot) {
                srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
                return;
            }
        }
    }
    srv_sid small[16];
    srv_sgroup *gsmall[16];
    srv_sid *ids = nkeys <= 16 ? small : malloc(nkeys * sizeof *ids);
    srv_sgroup **groups = nkeys <= 16 ? gsmall : malloc(nkeys * sizeof *groups);
    if (ids == NULL || groups == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        goto done;
    }
    for (size_t k = 0; k < nkeys; k++) {
        size_t ki = sa + k, ii = sa + nkeys + k;
        srv_stream *s;
        int r = stream_lookup(x, ki, &s);
        if (r < 0) {
            goto done;
        }
        groups[k] = NULL;
        if (group_mode) {
            if (r == 0 || (groups[k] = group_find(s, x->argv[gi], x->argl[gi])) == NULL) {
                srv_reply_errorf(x->out, "NOGROUP No such key '%.*s' or consumer group '%.*s' "
                                 "in XREADGROUP with GROUP option",
                                 (int)x->argl[ki], x->argv[ki], (int)x->argl[gi], x->argv[gi]);
                goto done;
            }
        }
        if (x->argl[ii] == 1 && x->argv[ii][0] == '$') {
            if (group_mode) {
                srv_reply_error(x->out, "ERR The $ ID is meaningless in the context of "
                                        "XREADGROUP: you want to read the history of this "
                                        "consumer by specifying a proper ID, or use the > ID to "
                                        "get new messages. The $ ID would just return an empty "
                                        "result set.");
                goto done;
            }
            ids[k] = r > 0 ? s->last_id : SID_MIN;
        } else if (x->argl[ii] == 1 && x->argv[ii][0] == '>') {
            if (!group_mode) {
                srv_reply_error(x->out, "ERR The > ID can be specified only when calling "
                                        "XREADGROUP using the GROUP <group> <consumer> option.");
                goto done;
            }
            ids[k] = SID_MAX;
        } else if (!arg_sid(x, ii, &ids[k], true)) {
            goto done;
        }
    }
    // What can be served now: keys with entries past their ID (a group's
    // history always).
    srv_buf tmp;
    deferred_begin(&tmp, x->out);
    long long served = 0;
    for (size_t k = 0; k < nkeys; k++) {
        size_t ki = sa + k;
        srv_stream *s;
        if (stream_lookup(x, ki, &s) <= 0) {
            continue;
        }
        srv_sid gt = ids[k];
        bool now = false, history = false;
        srv_sconsumer *c = NULL;
        if (group_mode) {
            if (gt.ms != UINT64_MAX || gt.seq != UINT64_MAX) {
                now = history = true;
            } else if (s->length) {
                srv_sid top = last_valid_id(s);
                if (sid_cmp(&top, &groups[k]->last_id) > 0) {
                    now = true;
                    gt = groups[k]->last_id;
                }
            }
            c = consumer_get(x, ki, groups[k], x->argv[gi + 1], x->argl[gi + 1], true, true, NULL);
            if (c == NULL) {
                srv_buf_free(&tmp);
                srv_reply_error(x->out, E_NOMEM);
                goto done;
            }
        } else if (s->length) {
            srv_sid top = last_valid_id(s);
            now = sid_cmp(&top, &gt) > 0;
        }
        if (!now) {
            continue;
        }
        served++;
        reply_key_header(&tmp, x->argv[ki], x->argl[ki]);
        srv_sid start = gt;  // both serve the entries after gt
        sid_incr(&start);
        if (history) {
            reply_history(&tmp, s, c, &start, count);
        } else {
            reply_range(&tmp, s, &start, &SID_MAX, count, false, groups[k], c, noack);
        }
    }
    if (served > 0) {
        if (x->out->resp3) {
            srv_reply_map(x->out, served);
        } else {
            srv_reply_array(x->out, served);
        }
        srv_buf_append(x->out, tmp.data, tmp.len);
        srv_buf_free(&tmp);
        goto done;
    }
    srv_buf_free(&tmp);
    if (block) {
        srv_blk_spec spec = {.kind = SRV_BLK_XREAD, .count = count ? count
                                                                   : XREAD_BLOCKED_DEFAULT_COUNT,
                             .ids = ids, .noack = noack};
        if (group_mode) {
            spec.group = x->argv[gi];
            spec.grouplen = x->argl[gi];
            spec.consumer = x->argv[gi + 1];
            spec.consumerlen = x->argl[gi + 1];
        }
        block_on_keys(x, &spec, sa, nkeys, deadline);
        goto done;
    }
    srv_reply_null_array(x->out);
done:
    if (ids != small) {
        free(ids);
    }
    if (groups != gsmall) {
        free(groups);
    }
}

/* XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...] */
void cmd_xread(ctx *x)
{
    xread(x, false);
}

/* XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS
 * key [key ...] id [id ...] */
void cmd_xreadgroup(ctx *x)
{
    xread(x, true);
}

bool stream_serve(ctx *x, size_t i, const srv_blk_spec *sp, srv_sid *after)
{
    srv_entry *e = srv_ks_find(x->argv[i], x->argl[i]);
    bool group_mode = sp->group != NULL;
    if (e == NULL || mw_type_of(e->v.obj) != &srv_stream_type) {
        if (!group_mode) {
            return false;  // XREAD waits on for a stream to come back
        }
        srv_reply_error(x->out, "UNBLOCKED the stream key no longer exists");
        return true;
    }
    srv_stream *s = (srv_stream *)e->v.obj;
    srv_sgroup *g = NULL;
    srv_sconsumer *c = NULL;
    if (group_mode) {
        g = group_find(s, x->argv[i + 1], x->argl[i + 1]);
        if (g == NULL) {
            srv_reply_error(x->out, "NOGROUP the consumer group this client was blocked on no "
                                    "longer exists");
            return true;
        }
        *after = g->last_id;
    }
    if (sid_cmp(&s->last_id, after) <= 0) {
        return false;
    }
    if (group_mode) {
        c = consumer_get(x, 1, g, x->argv[i + 2], x->argl[i + 2], true, true, NULL);
        if (c == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            return true;
        }
    }
    srv_sid start = *after;
    sid_incr(&start);
    if (x->out->resp3) {
        srv_reply_map(x->out, 1);
    } else {
        srv_reply_array(x->out, 1);
    }
    reply_key_header(x->out, x->argv[i], x->argl[i]);
    reply_range(x->out, s, &start, &SID_MAX, sp->count, false, g, c, sp->noack);
    return true;
}

/* ======================================================================
 * XGROUP
 * ====================================================================== */

static void subcommand_syntax(ctx *x, const char *parent)
{
    srv_reply_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for '%.*s'. "
                     "Try %s HELP.", (int)(x->argl[1] > 128 ? 128 : x->argl[1]), x->argv[1],
                     parent);
}

static void reply_help(ctx *x, const char *parent, const char *const *lines, size_t n)
{
    srv_reply_array(x->out, (long long)n + 3);
    char head[96];
    snprintf(head, sizeof head, "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             parent);
    srv_reply_status(x->out, head);
    for (size_t i = 0; i < n; i++) {
        srv_reply_status(x->out, lines[i]);
    }
    srv_reply_status(x->out, "HELP");
    srv_reply_status(x->out, "    Prints this help.");
}

static const char *const xgroup_help[] = {
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
};

/* XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP, in Redis's
 * order of checks: options, the key, the group, then the subcommand. */
void cmd_xgroup(ctx *x)
{
    bool create = arg_is(x, 1, "CREATE"), setid = arg_is(x, 1, "SETID");
    bool destroy = arg_is(x, 1, "DESTROY"), mkcons = arg_is(x, 1, "CREATECONSUMER");
    bool delcons = arg_is(x, 1, "DELCONSUMER"), help = arg_is(x, 1, "HELP");
    if (!create && !setid && !destroy && !mkcons && !delcons && !help) {
        cmd_unknown_subcommand(x, "XGROUP");
        return;
    }
    srv_stream *s = NULL;
    srv_sgroup *g = NULL;
    bool mkstream = false;
    long long entries_read = -1;
    if (x->argc >= 4) {
        for (size_t i = 5; i < x->argc;) {
            if (create && arg_is(x, i, "MKSTREAM")) {
                mkstream = true;
                i++;
            } else if ((create || setid) && arg_is(x, i, "ENTRIESREAD") && i + 1 < x->argc) {
                if (!arg_ll(x, i + 1, &entries_read)) {
                    return;
                }
                if (entries_read < 0 && entries_read != -1) {
                    srv_reply_error(x->out, "ERR value for ENTRIESREAD must be positive or -1");
                    return;
                }
                i += 2;
            } else {
                subcommand_syntax(x, "XGROUP");
                return;
            }
        }
        if (stream_lookup(x, 2, &s) < 0) {
            return;
        }
        if (!mkstream) {
            if (s == NULL) {
                srv_reply_error(x->out, "ERR The XGROUP subcommand requires the key to exist. "
                                        "Note that for CREATE you may want to use the MKSTREAM "
                                        "option to create an empty stream automatically.");
                return;
            }
            g = group_find(s, x->argv[3], x->argl[3]);
            if (g == NULL && (setid || mkcons || delcons)) {
                srv_reply_errorf(x->out, "NOGROUP No such consumer group '%.*s' for key name "
                                 "'%.*s'", (int)x->argl[3], x->argv[3], (int)x->argl[2],
                                 x->argv[2]);
                return;
            }
        }
    }
    if (help && x->argc == 2) {
        reply_help(x, "XGROUP", xgroup_help, sizeof xgroup_help / sizeof xgroup_help[0]);
    } else if (create && x->argc >= 5 && x->argc <= 8) {
        srv_sid id;
        if (x->argl[4] == 1 && x->argv[4][0] == '$') {
            id = s != NULL ? s->last_id : SID_MIN;
        } else if (!arg_sid(x, 4, &id, true)) {
            return;
        }
        if (s != NULL && group_find(s, x->argv[3], x->argl[3]) != NULL) {
            srv_reply_error(x->out, "BUSYGROUP Consumer Group name already exists");
            return;
        }
        if (s == NULL && (s = stream_create(x, 2)) == NULL) {
            return;
        }
        bool found;
        size_t at = group_index(s, x->argv[3], x->argl[3], &found);
        srv_sgroup *ng = group_new(x->argv[3], x->argl[3], &id, entries_read);
        if (ng == NULL || !group_insert(s, at, ng)) {
            if (ng != NULL) {
                srv_stream_free_group(ng);
            }
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        srv_reply_status(x->out, "OK");
        notify_key(x, SRV_NOTIFY_STREAM, "xgroup-create", 2);
    } else if (setid && (x->argc == 5 || x->argc == 7)) {
        srv_sid id;
        if (x->argl[4] == 1 && x->argv[4][0] == '$') {
            id = s->last_id;
        } else if (!arg_sid(x, 4, &id, false)) {
            return;
        }
        g->last_id = id;
        g->entries_read = entries_read;
        srv_reply_status(x->out, "OK");
        notify_key(x, SRV_NOTIFY_STREAM, "xgroup-setid", 2);
    } else if (destroy && x->argc == 4) {
        if (g == NULL) {
            srv_reply_int(x->out, 0);
            return;
        }
        bool found;
        size_t at = group_index(s, x->argv[3], x->argl[3], &found);
        memmove(&s->groups[at], &s->groups[at + 1], (s->ngroups - at - 1) * sizeof s->groups[0]);
        s->ngroups--;
        srv_stream_free_group(g);
        srv_reply_int(x->out, 1);
        notify_key(x, SRV_NOTIFY_STREAM, "xgroup-destroy", 2);
        // Its blocked readers learn of it (stream_serve): the key is
        // touched by cmd_call after every command naming it.
    } else if (mkcons && x->argc == 5) {
        bool created;
        if (consumer_get(x, 2, g, x->argv[4], x->argl[4], true, false, &created) == NULL) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        srv_reply_int(x->out, created ? 1 : 0);
    } else if (delcons && x->argc == 5) {
        bool found;
        size_t at = consumer_index(g, x->argv[4], x->argl[4], &found);
        long long pending = 0;
        if (found) {
            srv_sconsumer *c = g->cons[at];
            pending = (long long)c->pel.n;
            for (size_t k = 0; k < c->pel.n; k++) {
                srv_snack *nk = c->pel.v[k];
                pel_remove(&g->pel, &nk->id);
                mw_free(nk);
            }
            mw_free(c->pel.v);
            mw_free(c->name);
            mw_free(c);
            memmove(&g->cons[at], &g->cons[at + 1], (g->ncons - at - 1) * sizeof g->cons[0]);
            g->ncons--;
            notify_key(x, SRV_NOTIFY_STREAM, "xgroup-delconsumer", 2);
        }
        srv_reply_int(x->out, pending);
    } else {
        subcommand_syntax(x, "XGROUP");
    }
}

/* ======================================================================
 * XACK, XPENDING, XCLAIM, XAUTOCLAIM
 * ====================================================================== */

/* The stream and group of argv[1], argv[2], or NULL after NOGROUP (or
 * WRONGTYPE). */
static srv_sgroup *group_or_nogroup(ctx *x, srv_stream **sp, bool lookup_first)
{
    (void)lookup_first;
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r < 0) {
        return NULL;
    }
    srv_sgroup *g = r > 0 ? group_find(s, x->argv[2], x->argl[2]) : NULL;
    if (g == NULL) {
        srv_reply_errorf(x->out, "NOGROUP No such key '%.*s' or consumer group '%.*s'",
                         (int)x->argl[1], x->argv[1], (int)x->argl[2], x->argv[2]);
        return NULL;
    }
    *sp = s;
    return g;
}

/* XACK key group id [id ...] */
void cmd_xack(ctx *x)
{
    srv_stream *s;
    int r = stream_lookup(x, 1, &s);
    if (r < 0) {
        return;
    }
    srv_sgroup *g = r > 0 ? group_find(s, x->argv[2], x->argl[2]) : NULL;
    if (g == NULL) {
        srv_reply_int(x->out, 0);
        return;
    }
    for (size_t j = 3; j < x->argc; j++) {
        srv_sid id;
        if (!arg_sid(x, j, &id, true)) {
            return;
        }
    }
    long long acked = 0;
    for (size_t j = 3; j < x->argc; j++) {
        srv_sid id;
        arg_sid(x, j, &id, true);
        srv_snack *nk = pel_find(&g->pel, &id);
        if (nk != NULL) {
            nack_drop(g, nk);
            acked++;
        }
    }
    srv_reply_int(x->out, acked);
}

/* XPENDING key group [[IDLE min-idle] start end count [consumer]] */
void cmd_xpending(ctx *x)
{
    bool info = x->argc == 3;
    srv_sid start, end;
    long long count = 0, minidle = 0;
    size_t cons = 0;
    if (x->argc != 3 && (x->argc < 6 || x->argc > 9)) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (x->argc >= 6) {
        size_t si = 3;
        if (arg_is(x, 3, "IDLE")) {
            if (!arg_ll(x, 4, &minidle)) {
                return;
            }
            if (x->argc < 8) {
                srv_reply_error(x->out, E_SYNTAX);
                return;
            }
            si += 2;
        }
        if (!arg_ll(x, si + 2, &count)) {
            return;
        }
        if (count < 0) {
            count = 0;
        }
        if (!arg_range(x, si, si + 1, &start, &end)) {
            return;
        }
        if (si + 3 < x->argc) {
            cons = si + 3;
        }
    }
    srv_stream *s;
    srv_sgroup *g = group_or_nogroup(x, &s, false);
    if (g == NULL) {
        return;
    }
    if (info) {
        srv_reply_array(x->out, 4);
        srv_reply_int(x->out, (long long)g->pel.n);
        if (g->pel.n == 0) {
            srv_reply_null(x->out);
            srv_reply_null(x->out);
            srv_reply_null_array(x->out);
            return;
        }
        reply_sid(x->out, &g->pel.v[0]->id);
        reply_sid(x->out, &g->pel.v[g->pel.n - 1]->id);
        long long with = 0;
        for (size_t k = 0; k < g->ncons; k++) {
            with += g->cons[k]->pel.n > 0;
        }
        srv_reply_array(x->out, with);
        for (size_t k = 0; k < g->ncons; k++) {
            srv_sconsumer *c = g->cons[k];
            if (c->pel.n == 0) {
                continue;
            }
            char num[24];
            size_t nl = srv_ll2str(num, (long long)c->pel.n);
            srv_reply_array(x->out, 2);
            srv_reply_bulk(x->out, c->name, c->nlen);
            srv_reply_bulk(x->out, num, nl);
        }
        return;
    }
    srv_spel *pel = &g->pel;
    if (cons != 0) {
        srv_sconsumer *c = consumer_get(x, 1, g, x->argv[cons], x->argl[cons], false, false, NULL);
        if (c == NULL) {
            srv_reply_array(x->out, 0);
            return;
        }
        pel = &c->pel;
    }
    bool found;
    int64_t now = srv_now_ms();
    srv_buf tmp;
    deferred_begin(&tmp, x->out);
    long long n = 0;
    for (size_t k = pel_index(pel, &start, &found); count && k < pel->n; k++) {
        srv_snack *nk = pel->v[k];
        if (sid_cmp(&nk->id, &end) > 0) {
            break;
        }
        if (minidle && now - nk->delivery_time < minidle) {
            continue;
        }
        n++;
        count--;
        srv_reply_array(&tmp, 4);
        reply_sid(&tmp, &nk->id);
        srv_reply_bulk(&tmp, nk->consumer->name, nk->consumer->nlen);
        int64_t elapsed = now - nk->delivery_time;
        srv_reply_int(&tmp, elapsed < 0 ? 0 : elapsed);
        srv_reply_int(&tmp, (long long)nk->delivery_count);
    }
    deferred_end_array(x->out, &tmp, n);
}

/* Claim nk for consumer c as XCLAIM and XAUTOCLAIM do. */
static bool claim(srv_snack *nk, srv_sconsumer *c, int64_t when, long long retry, bool justid)
{
    if (!nack_move(nk, c)) {
        return false;
    }
    nk->delivery_time = when;
    if (retry >= 0) {
        nk->delivery_count = (uint64_t)retry;
    } else if (!justid) {
        nk->delivery_count++;
    }
    return true;
}

static bool ll_arg_msg(ctx *x, size_t i, long long *v, const char *msg)
{
    if (!srv_str2ll(x->argv[i], x->argl[i], v)) {
        srv_reply_error(x->out, msg);
        return false;
    }
    return true;
}

/* XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms]
 * [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id] */
void cmd_xclaim(ctx *x)
{
    srv_stream *s;
    srv_sgroup *g = group_or_nogroup(x, &s, true);
    if (g == NULL) {
        return;
    }
    long long minidle, retry = -1, when = -1;
    bool force = false, justid = false;
    if (!ll_arg_msg(x, 4, &minidle, "ERR Invalid min-idle-time argument for XCLAIM")) {
        return;
    }
    if (minidle < 0) {
        minidle = 0;
    }
    size_t j = 5;
    for (; j < x->argc; j++) {
        srv_sid id;
        if (!parse_sid(NULL, x->argv[j], x->argl[j], &id, 0, true, NULL)) {
            break;
        }
    }
    size_t last_id_arg = j;
    int64_t now = srv_now_ms();
    srv_sid lastid = SID_MIN;
    for (; j < x->argc; j++) {
        bool more = j + 1 < x->argc;
        if (arg_is(x, j, "FORCE")) {
            force = true;
        } else if (arg_is(x, j, "JUSTID")) {
            justid = true;
        } else if (arg_is(x, j, "IDLE") && more) {
            j++;
            if (!ll_arg_msg(x, j, &when, "ERR Invalid IDLE option argument for XCLAIM")) {
                return;
            }
            when = now - when;
        } else if (arg_is(x, j, "TIME") && more) {
            j++;
            if (!ll_arg_msg(x, j, &when, "ERR Invalid TIME option argument for XCLAIM")) {
                return;
            }
        } else if (arg_is(x, j, "RETRYCOUNT") && more) {
            j++;
            if (!ll_arg_msg(x, j, &retry, "ERR Invalid RETRYCOUNT option argument for XCLAIM")) {
                return;
            }
        } else if (arg_is(x, j, "LASTID") && more) {
            j++;
            if (!arg_sid(x, j, &lastid, true)) {
                return;
            }
        } else {
            srv_reply_errorf(x->out, "ERR Unrecognized XCLAIM option '%.*s'", (int)x->argl[j],
                             x->argv[j]);
            return;
        }
    }
    if (sid_cmp(&lastid, &g->last_id) > 0) {
        g->last_id = lastid;
    }
    if (when != -1) {
        if (when < 0 || when > now) {
            when = now;
        }
    } else {
        when = now;
    }
    srv_sconsumer *c = NULL;
    srv_buf tmp;
    deferred_begin(&tmp, x->out);
    long long n = 0;
    for (size_t k = 5; k < last_id_arg; k++) {
        srv_sid id;
        arg_sid(x, k, &id, true);
        srv_snack *nk = pel_find(&g->pel, &id);
        if (entry_find(s, &id, NULL) == NULL) {
            if (nk != NULL) {
                nack_drop(g, nk);
            }
            continue;
        }
        if (force && nk == NULL) {
            nk = mw_calloc(1, sizeof *nk);
            if (nk != NULL) {
                nk->id = id;
                nk->delivery_time = now;
                nk->delivery_count = 1;
                if (!pel_insert(&g->pel, nk)) {
                    mw_free(nk);
                    nk = NULL;
                }
            }
        }
        if (nk == NULL) {
            continue;
        }
        if (nk->consumer != NULL && minidle && now - nk->delivery_time < minidle) {
            continue;
        }
        if (c == NULL) {
            c = consumer_get(x, 1, g, x->argv[3], x->argl[3], true, true, NULL);
        }
        if (c == NULL || !claim(nk, c, when, retry, justid)) {
            srv_buf_free(&tmp);
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        if (justid) {
            reply_sid(&tmp, &id);
        } else {
            reply_one(&tmp, s, &id);
        }
        n++;
    }
    deferred_end_array(x->out, &tmp, n);
}

/* XAUTOCLAIM key group consumer min-idle-time start [COUNT n] [JUSTID] */
void cmd_xautoclaim(ctx *x)
{
    long long minidle, count = 100;
    bool justid = false;
    if (!ll_arg_msg(x, 4, &minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) {
        return;
    }
    if (minidle < 0) {
        minidle = 0;
    }
    srv_sid start;
    bool ex;
    if (!arg_interval(x, 5, &start, &ex, 0)) {
        return;
    }
    if (ex && !sid_incr(&start)) {
        srv_reply_error(x->out, "ERR invalid start ID for the interval");
        return;
    }
    for (size_t j = 6; j < x->argc; j++) {
        if (arg_is(x, j, "COUNT") && j + 1 < x->argc) {
            long long max = LONG_MAX / 16;
            if (!srv_str2ll(x->argv[j + 1], x->argl[j + 1], &count) || count < 1 || count > max) {
                srv_reply_error(x->out, "ERR COUNT must be > 0");
                return;
            }
            j++;
        } else if (arg_is(x, j, "JUSTID")) {
            justid = true;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    srv_stream *s;
    srv_sgroup *g = group_or_nogroup(x, &s, false);
    if (g == NULL) {
        return;
    }
    srv_sid *gone = malloc((size_t)count * sizeof *gone);
    if (gone == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    size_t ngone = 0;
    long long attempts = count * 10;
    int64_t now = srv_now_ms();
    srv_sconsumer *c = NULL;
    srv_buf tmp;
    deferred_begin(&tmp, x->out);
    long long n = 0;
    bool found;
    size_t k = pel_index(&g->pel, &start, &found);
    while (attempts-- && count && k < g->pel.n) {
        srv_snack *nk = g->pel.v[k];
        srv_sid id = nk->id;
        if (entry_find(s, &id, NULL) == NULL) {
            nack_drop(g, nk);  // k now names the next NACK
            gone[ngone++] = id;
            count--;
            continue;
        }
        if (minidle && now - nk->delivery_time < minidle) {
            k++;
            continue;
        }
        if (c == NULL) {
            c = consumer_get(x, 1, g, x->argv[3], x->argl[3], true, true, NULL);
        }
        if (c == NULL || !claim(nk, c, now, -1, justid)) {
            free(gone);
            srv_buf_free(&tmp);
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        if (justid) {
            reply_sid(&tmp, &id);
        } else {
            reply_one(&tmp, s, &id);
        }
        n++;
        count--;
        k++;
    }
    srv_reply_array(x->out, 3);
    reply_sid(x->out, k < g->pel.n ? &g->pel.v[k]->id : &SID_MIN);
    deferred_end_array(x->out, &tmp, n);
    srv_reply_array(x->out, (long long)ngone);
    for (size_t i = 0; i < ngone; i++) {
        reply_sid(x->out, &gone[i]);
    }
    free(gone);
}

/* ======================================================================
 * XINFO
 * ====================================================================== */

static const char *const xinfo_help[] = {
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
};

static void reply_cstr(srv_buf *out, const char *s)
{
    srv_reply_bulk(out, s, strlen(s));
}

/* Redis counts the nodes of its radix tree; this is the figure a tree
 * of this many keys has about (keys plus their inner nodes). */
static long long radix_nodes(const srv_stream *s)
{
    return s->nnodes == 0 ? 1 : (long long)s->nnodes * 2;
}

static void reply_stream_head(srv_buf *out, const srv_stream *s)
{
    reply_cstr(out, "length");
    srv_reply_int(out, (long long)s->length);
    reply_cstr(out, "radix-tree-keys");
    srv_reply_int(out, (long long)s->nnodes);
    reply_cstr(out, "radix-tree-nodes");
    srv_reply_int(out, radix_nodes(s));
    reply_cstr(out, "last-generated-id");
    reply_sid(out, &s->last_id);
    reply_cstr(out, "max-deleted-entry-id");
    reply_sid(out, &s->max_deleted);
    reply_cstr(out, "entries-added");
    srv_reply_int(out, (long long)s->entries_added);
    reply_cstr(out, "recorded-first-entry-id");
    reply_sid(out, &s->first_id);
}

static void reply_group_full(srv_buf *out, const srv_stream *s, const srv_sgroup *g,
                             long long count)
{
    srv_reply_map(out, 7);
    reply_cstr(out, "name");
    srv_reply_bulk(out, g->name, g->nlen);
    reply_cstr(out, "last-delivered-id");
    reply_sid(out, &g->last_id);
    reply_cstr(out, "entries-read");
    if (g->entries_read != -1) {
        srv_reply_int(out, g->entries_read);
    } else {
        srv_reply_null(out);
    }
    reply_cstr(out, "lag");
    reply_lag(out, s, g);
    reply_cstr(out, "pel-count");
    srv_reply_int(out, (long long)g->pel.n);
    reply_cstr(out, "pending");
    size_t np = count && (size_t)count < g->pel.n ? (size_t)count : g->pel.n;
    srv_reply_array(out, (long long)np);
    for (size_t k = 0; k < np; k++) {
        srv_snack *nk = g->pel.v[k];
        srv_reply_array(out, 4);
        reply_sid(out, &nk->id);
        srv_reply_bulk(out, nk->consumer->name, nk->consumer->nlen);
        srv_reply_int(out, nk->delivery_time);
        srv_reply_int(out, (long long)nk->delivery_count);
    }
    reply_cstr(out, "consumers");
    srv_reply_array(out, (long long)g->ncons);
    for (size_t i = 0; i < g->ncons; i++) {
        srv_sconsumer *c = g->cons[i];
        srv_reply_map(out, 4);
        reply_cstr(out, "name");
        srv_reply_bulk(out, c->name, c->nlen);
        reply_cstr(out, "seen-time");
        srv_reply_int(out, c->seen_time);
        reply_cstr(out, "pel-count");
        srv_reply_int(out, (long long)c->pel.n);
        reply_cstr(out, "pending");
        size_t nc = count && (size_t)count < c->pel.n ? (size_t)count : c->pel.n;
        srv_reply_array(out, (long long)nc);
        for (size_t k = 0; k < nc; k++) {
            srv_snack *nk = c->pel.v[k];
            srv_reply_array(out, 3);
            reply_sid(out, &nk->id);
            srv_reply_int(out, nk->delivery_time);
            srv_reply_int(out, (long long)nk->delivery_count);
        }
    }
}

static void xinfo_stream(ctx *x, srv_stream *s)
{
    bool full = x->argc > 3;
    long long count = 10;
    if (full) {
        size_t optc = x->argc - 3;
        if ((optc != 1 && optc != 3) || !arg_is(x, 3, "FULL") ||
            (optc == 3 && !arg_is(x, 4, "COUNT"))) {
            subcommand_syntax(x, "XINFO");
            return;
        }
        if (optc == 3) {
            if (!arg_ll(x, 5, &count)) {
                return;
            }
            if (count < 0) {
                count = 10;
            }
        }
    }
    if (!full) {
        srv_reply_map(x->out, 10);
        reply_stream_head(x->out, s);
        reply_cstr(x->out, "groups");
        srv_reply_int(x->out, (long long)s->ngroups);
        spos p = {0, 0};
        reply_cstr(x->out, "first-entry");
        if (live_fwd(s, &p)) {
            reply_entry(x->out, &s->nodes[p.ni]->ids[p.pi], s->nodes[p.ni]->items[p.pi]);
        } else {
            srv_reply_null(x->out);
        }
        p = (spos){s->nnodes, 0};
        reply_cstr(x->out, "last-entry");
        if (live_back(s, &p)) {
            reply_entry(x->out, &s->nodes[p.ni]->ids[p.pi], s->nodes[p.ni]->items[p.pi]);
        } else {
            srv_reply_null(x->out);
        }
        return;
    }
    srv_reply_map(x->out, 9);
    reply_stream_head(x->out, s);
    reply_cstr(x->out, "entries");
    reply_range(x->out, s, &SID_MIN, &SID_MAX, count, false, NULL, NULL, false);
    reply_cstr(x->out, "groups");
    srv_reply_array(x->out, (long long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        reply_group_full(x->out, s, s->groups[i], count);
    }
}

/* XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group |
 * HELP */
void cmd_xinfo(ctx *x)
{
    if (arg_is(x, 1, "HELP")) {
        if (x->argc != 2) {
            subcommand_syntax(x, "XINFO");
            return;
        }
        reply_help(x, "XINFO", xinfo_help, sizeof xinfo_help / sizeof xinfo_help[0]);
        return;
    }
    bool stream = arg_is(x, 1, "STREAM"), groups = arg_is(x, 1, "GROUPS");
    bool consumers = arg_is(x, 1, "CONSUMERS");
    if (!stream && !groups && !consumers) {
        cmd_unknown_subcommand(x, "XINFO");
        return;
    }
    if (x->argc < 3) {
        subcommand_syntax(x, "XINFO");
        return;
    }
    srv_stream *s;
    int r = stream_lookup(x, 2, &s);
    if (r <= 0) {
        if (r == 0) {
            srv_reply_error(x->out, "ERR no such key");
        }
        return;
    }
    if (consumers && x->argc == 4) {
        srv_sgroup *g = group_find(s, x->argv[3], x->argl[3]);
        if (g == NULL) {
            srv_reply_errorf(x->out, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                             (int)x->argl[3], x->argv[3], (int)x->argl[2], x->argv[2]);
            return;
        }
        int64_t now = srv_now_ms();
        srv_reply_array(x->out, (long long)g->ncons);
        for (size_t i = 0; i < g->ncons; i++) {
            srv_sconsumer *c = g->cons[i];
            int64_t idle = now - c->seen_time;
            srv_reply_map(x->out, 3);
            reply_cstr(x->out, "name");
            srv_reply_bulk(x->out, c->name, c->nlen);
            reply_cstr(x->out, "pending");
            srv_reply_int(x->out, (long long)c->pel.n);
            reply_cstr(x->out, "idle");
            srv_reply_int(x->out, idle < 0 ? 0 : idle);
        }
    } else if (groups && x->argc == 3) {
        srv_reply_array(x->out, (long long)s->ngroups);
        for (size_t i = 0; i < s->ngroups; i++) {
            srv_sgroup *g = s->groups[i];
            srv_reply_map(x->out, 6);
            reply_cstr(x->out, "name");
            srv_reply_bulk(x->out, g->name, g->nlen);
            reply_cstr(x->out, "consumers");
            srv_reply_int(x->out, (long long)g->ncons);
            reply_cstr(x->out, "pending");
            srv_reply_int(x->out, (long long)g->pel.n);
            reply_cstr(x->out, "last-delivered-id");
            reply_sid(x->out, &g->last_id);
            reply_cstr(x->out, "entries-read");
            if (g->entries_read != -1) {
                srv_reply_int(x->out, g->entries_read);
            } else {
                srv_reply_null(x->out);
            }
            reply_cstr(x->out, "lag");
            reply_lag(x->out, s, g);
        }
    } else if (stream) {
        xinfo_stream(x, s);
    } else {
        subcommand_syntax(x, "XINFO");
    }
}

/* ======================================================================
 * COPY and MEMORY USAGE
 * ====================================================================== */

static bool pel_reserve(srv_spel *p, size_t n)
{
    if (n == 0) {
        return true;
    }
    p->v = mw_malloc(n * sizeof *p->v);
    p->cap = p->v != NULL ? n : 0;
    return p->v != NULL;
}

static srv_sgroup *group_dup(const srv_sgroup *from)
{
    srv_sgroup *g = group_new(from->name, from->nlen, &from->last_id, from->entries_read);
    if (g == NULL) {
        return NULL;
    }
    if (!pel_reserve(&g->pel, from->pel.n) ||
        (from->ncons > 0 && (g->cons = mw_calloc(from->ncons, sizeof *g->cons)) == NULL)) {
        srv_stream_free_group(g);
        return NULL;
    }
    g->ccap = from->ncons;
    for (size_t i = 0; i < from->ncons; i++) {
        const srv_sconsumer *fc = from->cons[i];
        srv_sconsumer *c = mw_calloc(1, sizeof *c);
        if (c == NULL || (c->name = bytes_dup(fc->name, fc->nlen)) == NULL ||
            !pel_reserve(&c->pel, fc->pel.n)) {
            if (c != NULL) {
                mw_free(c->name);
            }
            mw_free(c);
            srv_stream_free_group(g);
            return NULL;
        }
        c->nlen = fc->nlen;
        c->seen_time = fc->seen_time;
        g->cons[g->ncons++] = c;
    }
    // The NACKs, each once, then each consumer's PEL pointing at the copies
    // (both arrays are sorted by ID, so one pass per consumer).
    for (size_t k = 0; k < from->pel.n; k++) {
        const srv_snack *fn = from->pel.v[k];
        srv_snack *nk = mw_malloc(sizeof *nk);
        if (nk == NULL) {
            srv_stream_free_group(g);
            return NULL;
        }
        *nk = *fn;
        bool found;
        size_t ci = consumer_index(from, fn->consumer->name, fn->consumer->nlen, &found);
        nk->consumer = g->cons[ci];  // the same place in the copy's array
        nk->consumer->pel.v[nk->consumer->pel.n++] = nk;
        g->pel.v[g->pel.n++] = nk;
    }
    return g;
}

mw_object *stream_dup(mw_object *o)
{
    const srv_stream *from = (const srv_stream *)o;
    srv_stream *s = srv_stream_new();
    if (s == NULL) {
        return NULL;
    }
    s->nodes = from->nnodes ? mw_calloc(from->nnodes, sizeof *s->nodes) : NULL;
    s->groups = from->ngroups ? mw_calloc(from->ngroups, sizeof *s->groups) : NULL;
    if ((from->nnodes && s->nodes == NULL) || (from->ngroups && s->groups == NULL)) {
        goto oom;
    }
    s->ncap = from->nnodes;
    s->gcap = from->ngroups;
    for (size_t i = 0; i < from->nnodes; i++) {
        const srv_snode *fn = from->nodes[i];
        srv_snode *nd = mw_calloc(1, sizeof *nd);
        if (nd == NULL) {
            goto oom;
        }
        s->nodes[s->nnodes++] = nd;
        nd->ids = mw_malloc(fn->n * sizeof *nd->ids);
        nd->items = mw_calloc(fn->n, sizeof *nd->items);
        if (nd->ids == NULL || nd->items == NULL) {
            goto oom;
        }
        nd->cap = nd->n = fn->n;
        nd->live = fn->live;
        nd->bytes = fn->bytes;
        memcpy(nd->ids, fn->ids, fn->n * sizeof *nd->ids);
        for (size_t k = 0; k < fn->n; k++) {
            if (fn->items[k] != NULL && (nd->items[k] = item_dup(fn->items[k])) == NULL) {
                goto oom;
            }
        }
    }
    s->length = from->length;
    s->last_id = from->last_id;
    s->first_id = from->first_id;
    s->max_deleted = from->max_deleted;
    s->entries_added = from->entries_added;
    for (size_t i = 0; i < from->ngroups; i++) {
        if ((s->groups[s->ngroups] = group_dup(from->groups[i])) == NULL) {
            goto oom;
        }
        s->ngroups++;
    }
    return &s->ob;
oom:
    mw_decref(&s->ob);
    mw_err_set(MW_ERR_NOMEM, "stream: out of memory");
    return NULL;
}

size_t stream_bytes(mw_object *o)
{
    const srv_stream *s = (const srv_stream *)o;
    size_t bytes = sizeof *s + s->ncap * sizeof s->nodes[0];
    for (size_t i = 0; i < s->nnodes; i++) {
        const srv_snode *nd = s->nodes[i];
        bytes += sizeof *nd + nd->cap * (sizeof nd->ids[0] + sizeof nd->items[0]) + nd->bytes;
    }
    for (size_t i = 0; i < s->ngroups; i++) {
        const srv_sgroup *g = s->groups[i];
        bytes += sizeof *g + g->nlen + g->pel.cap * sizeof g->pel.v[0] +
                 g->pel.n * sizeof(srv_snack);
        for (size_t k = 0; k < g->ncons; k++) {
            bytes += sizeof *g->cons[k] + g->cons[k]->nlen +
                     g->cons[k]->pel.cap * sizeof g->cons[k]->pel.v[0];
        }
    }
    return bytes;
}
