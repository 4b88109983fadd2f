/*
 * server/cmd_sort.c - SORT and SORT_RO.
 *
 * Technique.  SORT key [BY pattern] [LIMIT offset count] [GET pattern ...]
 * [ASC|DESC] [ALPHA] [STORE destination] works as Redis 7.0's: the
 * elements of a list, set or sorted set are copied into a vector of
 * (element bytes, weight) pairs, the weights are read (the element itself,
 * or the string at the key the BY pattern names, or a hash field with
 * `*->field`), the vector is sorted with qsort, and the LIMIT window is
 * either replied (each element, or for each GET pattern the value it
 * names: `#` is the element itself, a missing value is a nil) or stored as
 * a list at the STORE key (missing values become empty strings; an empty
 * result deletes the destination).
 *
 * Order.  Numeric weights are parsed with strtod over the whole string; a
 * weight that is not a number fails the command with "One or more scores
 * can't be converted into double".  Equal numeric weights, and ALPHA
 * without BY, compare the element bytes (binary, as Redis in the C
 * locale).  ALPHA with BY compares the weights' bytes, a missing weight
 * first.  A BY pattern without '*' ("nosort") keeps the native order of
 * lists and sorted sets (reversed by DESC, LIMIT applied to it); a set
 * with nosort and STORE is sorted ALPHA instead, so the stored list does
 * not depend on the set's layout, as Redis does.
 *
 * Lifetimes.  Element bytes are borrowed from the source value, on which
 * the command holds a reference for its whole run (a BY or GET lookup may
 * delete an expired key, possibly the source itself).  ALPHA weights are
 * borrowed from value objects the command holds references to as well.
 * The stored list is built from fresh strings before the destination is
 * replaced, so `SORT k STORE k` reads the old value only.
 *
 * Sharded keyspace.  BY and GET patterns name other keys, which may be on
 * another worker.  As Redis Cluster does, a BY pattern with '*' or a GET
 * pattern other than '#' is refused unless the pattern fixes a {hash tag}
 * whose slot is the sorted key's (then every key it names is on this
 * worker), and a STORE key in another slot is CROSSSLOT.
 */
#include "cmd.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sort_item {
    const char *p;              /* element bytes (borrowed, see the top) */
    size_t n;
    double score;               /* numeric weight */
    const char *cp;             /* ALPHA BY weight, NULL when missing */
    size_t cn;
} sort_item;

typedef struct sort_opts {
    bool desc, alpha, by_pattern;
} sort_opts;

/* qsort has no context argument in C11; each worker sorts on its own. */
static __thread const sort_opts *sort_cur;

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c != 0) {
        return c;
    }
    return an < bn ? -1 : an > bn;
}

static int item_cmp(const void *va, const void *vb)
{
    const sort_item *a = va, *b = vb;
    const sort_opts *o = sort_cur;
    int c;
    if (!o->alpha) {
        c = a->score > b->score ? 1 : a->score < b->score ? -1 : bytes_cmp(a->p, a->n, b->p, b->n);
    } else if (o->by_pattern) {
        if (a->cp == NULL || b->cp == NULL) {
            c = a->cp == b->cp ? 0 : a->cp == NULL ? -1 : 1;
        } else {
            c = bytes_cmp(a->cp, a->cn, b->cp, b->cn);
        }
    } else {
        c = bytes_cmp(a->p, a->n, b->p, b->n);
    }
    return o->desc ? -c : c;
}

/* The slot a pattern's keys all share (a {tag} before any wildcard), or
 * -1 when they may be anywhere: Redis Cluster's rule. */
static int pattern_slot(const char *p, size_t n)
{
    long open = -1;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\') {
            return -1;
        }
        if (open < 0 && p[i] == '{') {
            open = (long)i;
        } else if (open >= 0 && p[i] == '}') {
            if (i == (size_t)open + 1) {
                return -1;
            }
            return (int)srv_key_slot(p + open + 1, i - (size_t)open - 1);
        }
    }
    return -1;
}

/* The string value the pattern names for element (p, n): "#" is the
 * element; "pre*post" the string at that key; "pre*post->field" a field
 * of the hash at that key.  Borrowed (the keyspace holds it), or NULL when
 * there is none; *self set when it is the element itself. */
static mw_object *pattern_value(const char *pat, size_t pn, const char *p, size_t n, bool *self)
{
    *self = false;
    if (pn == 1 && pat[0] == '#') {
        *self = true;
        return NULL;
    }
    const char *star = memchr(pat, '*', pn);
    if (star == NULL) {
        return NULL;
    }
    size_t pre = (size_t)(star - pat);
    size_t rest = pn - pre - 1;           // after the '*'
    const char *field = NULL;
    size_t fn = 0;
    const char *after = star + 1;
    for (size_t i = 0; i + 1 < rest; i++) {
        if (after[i] == '-' && after[i + 1] == '>') {
            if (i + 2 < rest) {           // "->" at the very end is no field
                field = after + i + 2;
                fn = rest - i - 2;
                rest = i;
            }
            break;
        }
    }
    char small[256];
    size_t kn = pre + n + rest;
    char *key = kn <= sizeof small ? small : malloc(kn);
    if (key == NULL) {
        return NULL;
    }
    memcpy(key, pat, pre);
    memcpy(key + pre, p, n);
    memcpy(key + pre + n, star + 1, rest);
    srv_entry *e = srv_ks_find(key, kn);
    if (key != small) {
        free(key);
    }
    if (e == NULL) {
        return NULL;
    }
    mw_object *v = e->v.obj;
    if (field != NULL) {
        if (mw_type_of(v) != &srv_hash_type) {
            return NULL;
        }
        srv_dict *d = &((srv_hash *)v)->d;
        srv_entry *f = srv_dict_find(d, field, fn, srv_hash_bytes(field, fn));
        v = f == NULL ? NULL : f->v.obj;
    }
    return v != NULL && mw_type_of(v) == &mw_str_type ? v : NULL;
}

/* ======================================================================
 * Loading the vector
 * ====================================================================== */

/* The elements of src into a new vector (count in *len); with nosort the
 * native order, only the window [start, end] (then *start is 0). */
static sort_item *load_items(mw_object *src, bool nosort, bool desc, long *start, long *end,
                             size_t *len)
{
    const mw_type *t = src == NULL ? NULL : mw_type_of(src);
    size_t total = src == NULL ? 0 : agg_len(src);
    bool window = nosort && (t == &srv_list_type || t == &srv_zset_type);
    size_t n = window ? (size_t)(*end - *start + 1) : total;
    sort_item *v = calloc(n ? n : 1, sizeof *v);
    if (v == NULL) {
        return NULL;
    }
    size_t k = 0;
    if (t == &srv_list_type) {
        srv_list *l = (srv_list *)src;
        for (size_t i = 0; i < n; i++) {
            size_t at = !window ? i : desc ? total - 1 - (size_t)*start - i : (size_t)*start + i;
            v[k].p = mw_str_data(srv_list_at(l, at), &v[k].n);
            k++;
        }
    } else if (t == &srv_set_type) {
        for (srv_entry *e = ((srv_set *)src)->d.first; e != NULL; e = e->onext) {
            v[k].p = e->key;
            v[k++].n = e->klen;
        }
    } else if (t == &srv_zset_type && window) {
        srv_zset *z = (srv_zset *)src;
        srv_znode *x = n == 0 ? NULL
                       : srv_zset_at(z, desc ? total - 1 - (size_t)*start : (size_t)*start);
        for (; k < n && x != NULL; x = desc ? x->back : x->level[0].fwd) {
            v[k].p = x->entry->key;
            v[k++].n = x->entry->klen;
        }
    } else if (t == &srv_zset_type) {
        for (srv_entry *e = ((srv_zset *)src)->d.first; e != NULL; e = e->onext) {
            v[k].p = e->key;
            v[k++].n = e->klen;
        }
    }
    if (window) {
        *end -= *start;
        *start = 0;
    }
    *len = k;
    return v;
}

/* Read every weight; false if one is not a number (numeric sort).  held
 * collects references to ALPHA weights (one per item at most). */
static bool load_weights(sort_item *v, size_t n, const char *by, size_t byn, bool alpha,
                         mw_object **held, size_t *nheld)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const char *p = v[i].p;
        size_t len = v[i].n;
        if (by != NULL) {
            bool self;
            mw_object *w = pattern_value(by, byn, v[i].p, v[i].n, &self);
            if (w == NULL && !self) {
                continue;
            }
            if (w != NULL) {
                p = mw_str_data(w, &len);
                if (alpha) {
                    mw_incref(w);
                    held[(*nheld)++] = w;
                }
            }
            if (alpha) {
                v[i].cp = p;
                v[i].cn = len;
                continue;
            }
        }
        if (alpha) {
            continue;
        }
        char small[128];
        char *tmp = len < sizeof small ? small : malloc(len + 1);
        if (tmp == NULL) {
            return false;
        }
        memcpy(tmp, p, len);
        tmp[len] = '\0';
        char *endp;
        errno = 0;
        v[i].score = strtod(tmp, &endp);
        if (*endp != '\0' || errno == ERANGE || isnan(v[i].score)) {
            ok = false;
        }
        if (tmp != small) {
            free(tmp);
        }
    }
    return ok;
}

/* ======================================================================
 * Output
 * ====================================================================== */

typedef struct sort_get {
    const char *p;
    size_t n;
} sort_get;

static void reply_items(ctx *x, sort_item *v, long start, long end, const sort_get *gets,
                        size_t ngets)
{
    long count = end - start + 1;
    srv_reply_array(x->out, ngets ? (long long)ngets * count : count);
    for (long j = start; j <= end; j++) {
        if (ngets == 0) {
            srv_reply_bulk(x->out, v[j].p, v[j].n);
        }
        for (size_t g = 0; g < ngets; g++) {
            bool self;
            mw_object *val = pattern_value(gets[g].p, gets[g].n, v[j].p, v[j].n, &self);
            if (self) {
                srv_reply_bulk(x->out, v[j].p, v[j].n);
            } else if (val == NULL) {
                srv_reply_null(x->out);
            } else {
                reply_str(x->out, val);
            }
        }
    }
}

static bool push_copy(srv_list *l, const char *p, size_t n)
{
    mw_object *s = mw_str_n(p, n);
    if (s == NULL) {
        mw_err_clear();
        return false;
    }
    return srv_list_push(l, s, false);
}

static void store_items(ctx *x, size_t di, sort_item *v, long start, long end,
                        const sort_get *gets, size_t ngets)
{
    long count = end - start + 1;
    long long outlen = ngets ? (long long)ngets * count : count;
    if (outlen == 0) {
        if (srv_ks_del(x->argv[di], x->argl[di])) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", di);
        }
        srv_reply_int(x->out, 0);
        return;
    }
    srv_list *l = srv_list_new();
    bool ok = l != NULL;
    for (long j = start; ok && j <= end; j++) {
        if (ngets == 0) {
            ok = push_copy(l, v[j].p, v[j].n);
        }
        for (size_t g = 0; ok && g < ngets; g++) {
            bool self;
            mw_object *val = pattern_value(gets[g].p, gets[g].n, v[j].p, v[j].n, &self);
            size_t n = 0;
            const char *p = self ? v[j].p : val == NULL ? "" : mw_str_data(val, &n);
            ok = push_copy(l, p, self ? v[j].n : n);
        }
    }
    if (!ok || !srv_ks_set(x->argv[di], x->argl[di], (mw_object *)l, false)) {
        mw_decref((mw_object *)l);
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    mw_decref((mw_object *)l); // the keyspace holds it now
    notify_key(x, SRV_NOTIFY_LIST, "sortstore", di);
    srv_reply_int(x->out, outlen);
}

/* ======================================================================
 * The command
 * ====================================================================== */

/* Refuse, in the sharded keyspace, a pattern whose keys may be on another
 * worker (see the top); true after replying the error. */
static bool pattern_refused(ctx *x, size_t i, const char *what)
{
    if (!srv_split()) {
        return false;
    }
    if (pattern_slot(x->argv[i], x->argl[i]) == (int)srv_key_slot(x->argv[1], x->argl[1])) {
        return false;
    }
    srv_reply_errorf(x->out, "ERR %s option of SORT denied in Cluster mode when keys formed "
                     "by the pattern may be in different slots.", what);
    return true;
}

static void sort_generic(ctx *x, bool readonly)
{
    sort_opts o = {false, false, false};
    long long lstart = 0, lcount = -1;
    bool nosort = false;
    size_t by = 0, store = 0, ngets = 0;
    sort_get *gets = malloc(x->argc * sizeof *gets);
    if (gets == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    for (size_t j = 2; j < x->argc; j++) {
        size_t left = x->argc - j - 1;
        if (arg_is(x, j, "ASC")) {
            o.desc = false;
        } else if (arg_is(x, j, "DESC")) {
            o.desc = true;
        } else if (arg_is(x, j, "ALPHA")) {
            o.alpha = true;
        } else if (arg_is(x, j, "LIMIT") && left >= 2) {
            if (!arg_ll(x, j + 1, &lstart) || !arg_ll(x, j + 2, &lcount)) {
                goto out;
            }
            j += 2;
        } else if (!readonly && arg_is(x, j, "STORE") && left >= 1) {
            store = ++j;
        } else if (arg_is(x, j, "BY") && left >= 1) {
            by = ++j;
            nosort = memchr(x->argv[j], '*', x->argl[j]) == NULL;
            if (!nosort && pattern_refused(x, j, "BY")) {
                goto out;
            }
        } else if (arg_is(x, j, "GET") && left >= 1) {
            j++;
            bool hash = x->argl[j] == 1 && x->argv[j][0] == '#';
            if (!hash && pattern_refused(x, j, "GET")) {
                goto out;
            }
            gets[ngets].p = x->argv[j];
            gets[ngets++].n = x->argl[j];
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            goto out;
        }
    }
    if (store != 0 && srv_split() &&
        srv_key_slot(x->argv[store], x->argl[store]) != srv_key_slot(x->argv[1], x->argl[1])) {
        srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
        goto out;
    }
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    mw_object *src = e == NULL ? NULL : e->v.obj;
    if (src == NULL) {
        srv_ks.misses++;
        notify_key(x, SRV_NOTIFY_KEY_MISS, "keymiss", 1);
    } else {
        srv_ks.hits++;
        const mw_type *t = mw_type_of(src);
        if (t != &srv_list_type && t != &srv_set_type && t != &srv_zset_type) {
            srv_reply_error(x->out, E_WRONGTYPE);
            goto out;
        }
        mw_incref(src);
    }
    if (nosort && src != NULL && mw_type_of(src) == &srv_set_type && store != 0) {
        nosort = false;     // a stored set is sorted, whatever its layout
        o.alpha = true;
        by = 0;
    }
    long len = src == NULL ? 0 : (long)agg_len(src);
    long start = lstart < 0 ? 0 : lstart > len ? len : (long)lstart;
    long count = lcount < -1 ? -1 : lcount > len ? len : (long)lcount;
    long end = count < 0 ? len - 1 : start + count - 1;
    if (start >= len) {
        start = len - 1;
        end = len - 2;
    }
    if (end >= len) {
        end = len - 1;
    }
    size_t n;
    sort_item *v = load_items(src, nosort, o.desc, &start, &end, &n);
    mw_object **held = v == NULL ? NULL : malloc((n ? n : 1) * sizeof *held);
    size_t nheld = 0;
    if (v == NULL || held == NULL) {
        srv_reply_error(x->out, E_NOMEM);
    } else if (!nosort && !load_weights(v, n, by ? x->argv[by] : NULL, by ? x->argl[by] : 0,
                                        o.alpha, held, &nheld)) {
        srv_reply_error(x->out, "ERR One or more scores can't be converted into double");
    } else {
        if (!nosort) {
            o.by_pattern = by != 0;
            sort_cur = &o;
            qsort(v, n, sizeof *v, item_cmp);
        }
        if (store != 0) {
            store_items(x, store, v, start, end, gets, ngets);
        } else {
            reply_items(x, v, start, end, gets, ngets);
        }
    }
    for (size_t i = 0; i < nheld; i++) {
        mw_decref(held[i]);
    }
    free(held);
    free(v);
    mw_decref(src);
out:
    free(gets);
}

void cmd_sort(ctx *x)
{
    sort_generic(x, false);
}

void cmd_sort_ro(ctx *x)
{
    sort_generic(x, true);
}
