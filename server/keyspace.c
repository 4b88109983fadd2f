/*
 * server/keyspace.c - the keyspace and the value types.
 *
 * Technique.  Every table of the server - the keyspace itself, a hash's
 * fields, a set's members and a sorted set's member index - is one kind of
 * chained hash table (srv_dict) keyed by bytes: an entry carries its key
 * inline after a small header, and entries are also linked in insertion
 * order (Redis 7.0 replies in insertion order for small hashes, and
 * clients compare), so a lookup needs no object and no
 * allocation; the request's argument bytes are hashed and compared in
 * place.  Buckets are a power of two; the table doubles when it holds as
 * many entries as buckets and halves below one entry per eight buckets, in
 * one step (no incremental rehash: a keyspace of a million keys pays about
 * ten milliseconds once when it doubles - noted as a limit in
 * docs/server.md).  The hash is a seeded multiply-xorshift over 8-byte
 * words; the seed comes from the kernel at start, so clients cannot aim
 * collisions at a bucket.  SCAN walks buckets in reverse-binary order
 * (incrementing the cursor from its top bit), which visits every key
 * present for the whole walk at least once even if the table is resized in
 * between.
 *
 * Values are runtime objects, allocated from the calling worker's heap and
 * counted by the runtime:
 *   - string: the runtime's str;
 *   - list: srv_list, a ring buffer of str (O(1) push and pop at both
 *     ends, O(1) index); not a collector container, since strs cannot
 *     refer back;
 *   - hash: srv_hash, field bytes -> value object.  Normally a str, but
 *     REF.SET stores any value there, so hashes are the one container type
 *     (MW_TYPE_GC): traverse visits the values, clear drops them;
 *   - set: srv_set, member bytes only (no objects inside);
 *   - sorted set: srv_zset, a member index (srv_dict, member -> node) and a
 *     skip list ordered by (score, member bytes) with spans, so rank and
 *     index lookups are O(log n), as Redis's zset;
 *   - stream: srv_stream, entries in nodes sorted by ID (two binary
 *     searches find one) and consumer groups with their PELs, all plain
 *     bytes (cmd_stream.c has the commands and the essay).
 *
 * Keys expire lazily - every lookup of a key that has an expiry compares it
 * with the clock and deletes the key if it passed - and actively: worker
 * 0's cron calls srv_ks_active_expire every SRV_CRON_MS, which scans a few
 * buckets from a cursor and stops after a millisecond or when few of the
 * keys it saw had expired.
 *
 * Invariants: an entry's key bytes never change; srv_ks.expires counts the
 * keyspace entries whose expire is >= 0; a zset's len equals its index's
 * count and its skip list holds exactly one node per index entry, with
 * entry->v.ptr the node and node->entry the entry.
 *
 * Eviction: past maxmemory under a policy other than noeviction,
 * srv_ks_evict (before a command, in the cron, at CONFIG SET) deletes
 * keys picked from a few random samples - the oldest access for the LRU
 * (and LFU) policies, the nearest expiry for volatile-ttl - until the
 * allocator's figure is under the limit, a bounded number per call.
 *
 * Keyspace notifications (notify.c): srv_ks_set raises "new" when it
 * adds a key, and both kinds of expiry raise "expired"; the events that
 * depend on the command are the commands' own.
 *
 * WATCH: every function here that changes what a key holds - replace
 * (and so set), remove (and so DEL, RENAME, lazy and active expiry), a TTL
 * change, flush - touches the key (srv_watch_touch, cmd_multi.c), so no
 * command can change a key through them unseen; one load when nobody
 * watches.
 *
 * Concurrency: none here.  Callers hold the keyspace (see server.h).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

__thread srv_keyspace *srv_ks_cur;
__thread srv_keyspace *srv_ks_base;

/* ======================================================================
 * Hashing and the table
 * ====================================================================== */

static inline uint64_t fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t srv_hash_bytes(const char *p, size_t n)
{
    uint64_t h = srv.hash_seed[0] ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ fmix(w ^ srv.hash_seed[1])) * 0x9e3779b97f4a7c15ull;
        h = (h << 27) | (h >> 37);
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h ^= fmix(w ^ srv.hash_seed[1] ^ n);
    return fmix(h);
}

static bool rehash(srv_dict *d, size_t size)
{
    srv_entry **nb = mw_calloc(size, sizeof *nb);
    if (nb == NULL) {
        return false;
    }
    for (size_t i = 0; i < d->size; i++) {
        srv_entry *e = d->buckets[i];
        while (e != NULL) {
            srv_entry *next = e->next;
            size_t b = e->hash & (size - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    mw_free(d->buckets);
    d->buckets = nb;
    d->size = size;
    return true;
}

srv_entry *srv_dict_find(srv_dict *d, const char *key, size_t n, uint64_t h)
{
    if (d->size == 0) {
        return NULL;
    }
    for (srv_entry *e = d->buckets[h & (d->size - 1)]; e != NULL; e = e->next) {
        if (e->hash == h && e->klen == n && memcmp(e->key, key, n) == 0) {
            return e;
        }
    }
    return NULL;
}

srv_entry *srv_dict_add(srv_dict *d, const char *key, size_t n, uint64_t h)
{
    if (n > UINT32_MAX) {
        return NULL;
    }
    if (d->count >= d->size) {
        // A failed grow only lengthens chains; go on.
        if (!rehash(d, d->size ? d->size * 2 : 4) && d->size == 0) {
            return NULL;
        }
    }
    srv_entry *e = mw_malloc(sizeof *e + n);
    if (e == NULL) {
        return NULL;
    }
    e->hash = h;
    e->v.obj = NULL;
    e->expire = -1;
    e->atime = 0;
    e->klen = (uint32_t)n;
    memcpy(e->key, key, n);
    size_t b = h & (d->size - 1);
    e->next = d->buckets[b];
    d->buckets[b] = e;
    e->onext = NULL;
    e->oprev = d->last;
    if (d->last != NULL) {
        d->last->onext = e;
    } else {
        d->first = e;
    }
    d->last = e;
    d->count++;
    return e;
}

void srv_dict_remove(srv_dict *d, srv_entry *e)
{
    srv_entry **pp = &d->buckets[e->hash & (d->size - 1)];
    while (*pp != e) {
        pp = &(*pp)->next;
    }
    *pp = e->next;
    if (e->oprev != NULL) {
        e->oprev->onext = e->onext;
    } else {
        d->first = e->onext;
    }
    if (e->onext != NULL) {
        e->onext->oprev = e->oprev;
    } else {
        d->last = e->oprev;
    }
    mw_free(e);
    d->count--;
    if (d->size > 16 && d->count < d->size / 8) {
        rehash(d, d->size / 2);
    }
}

void srv_dict_clear(srv_dict *d, void (*drop)(srv_entry *))
{
    for (size_t i = 0; i < d->size; i++) {
        srv_entry *e = d->buckets[i];
        d->buckets[i] = NULL;
        while (e != NULL) {
            srv_entry *next = e->next;
            if (drop != NULL) {
                drop(e);
            }
            mw_free(e);
            e = next;
        }
    }
    mw_free(d->buckets);
    d->buckets = NULL;
    d->size = d->count = 0;
    d->first = d->last = NULL;
}

/* One state per thread: in the sharded layout every worker holds its own
 * keyspace at the same time as the others, so a shared state would be
 * written by several threads at once. */
static __thread uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
    // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* A uniform pick by rejection: a random bucket, then a random place
 * among the first RANDOM_CHAIN of its chain (or all of a longer one); an
 * empty place means try again (a sparse table is walked instead).  Every entry of a chain no longer than
 * RANDOM_CHAIN has the same chance, 1 / (size * RANDOM_CHAIN) per try,
 * whatever the lengths of the chains (picking a bucket and then an entry
 * of it would favour entries of short chains).  Chains are short (the
 * table grows at one entry per bucket), so the tries are few. */
#define RANDOM_CHAIN 4

srv_entry *srv_dict_random(srv_dict *d)
{
    if (d->count == 0) {
        return NULL;
    }
    if (d->count * 16 < d->size) {
        // A sparse table (emptied, not shrunk): walking the entries in
        // order costs less than the expected tries.
        srv_entry *e = d->first;
        for (size_t k = (size_t)(rng() % d->count); k > 0; k--) {
            e = e->onext;
        }
        return e;
    }
    for (;;) {
        srv_entry *e = d->buckets[rng() & (d->size - 1)];
        size_t n = 0;
        for (srv_entry *x = e; x != NULL; x = x->next) {
            n++;
        }
        size_t k = (size_t)(rng() % (n > RANDOM_CHAIN ? n : RANDOM_CHAIN));
        if (k < n) {
            while (k-- > 0) {
                e = e->next;
            }
            return e;
        }
    }
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
    v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
    return __builtin_bswap64(v);
}

uint64_t srv_dict_scan(srv_dict *d, uint64_t cursor,
                       void (*fn)(srv_entry *, void *), void *arg)
{
    if (d->size == 0) {
        return 0;
    }
    uint64_t mask = d->size - 1;
    for (srv_entry *e = d->buckets[cursor & mask]; e != NULL; e = e->next) {
        fn(e, arg);
    }
    cursor |= ~mask;
    cursor = rev64(cursor);
    cursor++;
    return rev64(cursor);
}

/* ======================================================================
 * list: a ring buffer of objects
 * ====================================================================== */

static void list_clear(mw_object *self)
{
    srv_list *l = (srv_list *)self;
    while (l->len > 0) {
        mw_object *o = l->items[l->head];
        l->items[l->head] = NULL;
        l->head = (l->head + 1) & (l->cap - 1);
        l->len--;
        mw_decref(o);
    }
}

static void list_destroy(mw_object *self)
{
    srv_list *l = (srv_list *)self;
    mw_free(l->items);
    l->items = NULL;
}

const mw_type srv_list_type = {
    .name = "list", .size = sizeof(srv_list), .flags = 0,
    .clear = list_clear, .destroy = list_destroy,
};

srv_list *srv_list_new(void)
{
    return (srv_list *)mw_new(&srv_list_type);
}

static bool list_grow(srv_list *l)
{
    size_t cap = l->cap ? l->cap * 2 : 8;
    mw_object **items = mw_malloc(cap * sizeof *items);
    if (items == NULL) {
        return false;
    }
    for (size_t i = 0; i < l->len; i++) {
        items[i] = l->items[(l->head + i) & (l->cap - 1)];
    }
    mw_free(l->items);
    l->items = items;
    l->head = 0;
    l->cap = cap;
    return true;
}

bool srv_list_push(srv_list *l, mw_object *o, bool left)
{
    if (l->len == l->cap && !list_grow(l)) {
        mw_decref(o);
        return false;
    }
    if (left) {
        l->head = (l->head + l->cap - 1) & (l->cap - 1);
        l->items[l->head] = o;
    } else {
        l->items[(l->head + l->len) & (l->cap - 1)] = o;
    }
    l->len++;
    return true;
}

mw_object *srv_list_pop(srv_list *l, bool left)
{
    if (l->len == 0) {
        return NULL;
    }
    size_t at = left ? l->head : (l->head + l->len - 1) & (l->cap - 1);
    mw_object *o = l->items[at];
    l->items[at] = NULL;
    if (left) {
        l->head = (l->head + 1) & (l->cap - 1);
    }
    l->len--;
    if (l->cap > 64 && l->len < l->cap / 8) {
        // Shrink so a drained list gives its memory back; failure is fine.
        size_t cap = l->cap / 4;
        mw_object **items = mw_malloc(cap * sizeof *items);
        if (items != NULL) {
            for (size_t i = 0; i < l->len; i++) {
                items[i] = l->items[(l->head + i) & (l->cap - 1)];
            }
            mw_free(l->items);
            l->items = items;
            l->head = 0;
            l->cap = cap;
        }
    }
    return o;
}

mw_object *srv_list_at(srv_list *l, size_t i)
{
    return l->items[(l->head + i) & (l->cap - 1)];
}

void srv_list_set(srv_list *l, size_t i, mw_object *o)
{
    size_t at = (l->head + i) & (l->cap - 1);
    mw_object *old = l->items[at];
    l->items[at] = o;
    mw_decref(old);
}

void srv_list_remove_at(srv_list *l, size_t i)
{
    mw_object *o = srv_list_at(l, i);
    // Close the gap from the nearer end.
    if (i < l->len / 2) {
        for (size_t k = i; k > 0; k--) {
            l->items[(l->head + k) & (l->cap - 1)] = l->items[(l->head + k - 1) & (l->cap - 1)];
        }
        l->items[l->head] = NULL;
        l->head = (l->head + 1) & (l->cap - 1);
    } else {
        for (size_t k = i; k + 1 < l->len; k++) {
            l->items[(l->head + k) & (l->cap - 1)] = l->items[(l->head + k + 1) & (l->cap - 1)];
        }
        l->items[(l->head + l->len - 1) & (l->cap - 1)] = NULL;
    }
    l->len--;
    mw_decref(o);
}

/* ======================================================================
 * hash: the one container type (REF.SET makes cycles through hashes)
 * ====================================================================== */

static int hash_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    srv_hash *h = (srv_hash *)self;
    for (size_t i = 0; i < h->d.size; i++) {
        for (srv_entry *e = h->d.buckets[i]; e != NULL; e = e->next) {
            if (e->v.obj != NULL) {
                int r = visit(e->v.obj, arg);
                if (r != 0) {
                    return r;
                }
            }
        }
    }
    return 0;
}

static void hash_clear(mw_object *self)
{
    srv_hash *h = (srv_hash *)self;
    for (size_t i = 0; i < h->d.size; i++) {
        for (srv_entry *e = h->d.buckets[i]; e != NULL; e = e->next) {
            mw_object *o = e->v.obj;
            e->v.obj = NULL;
            mw_decref(o);
        }
    }
}

static void hash_destroy(mw_object *self)
{
    srv_dict_clear(&((srv_hash *)self)->d, NULL);
}

/* Tracked lazily: a hash of strings, the common case, can never be in a
 * cycle, and the collector never walks it; the first REF.SET of a value
 * that may be (another hash) tracks it (hash_store, cmd_hash.c), and a
 * full collection untracks it again once it holds strings only. */
const mw_type srv_hash_type = {
    .name = "hash", .size = sizeof(srv_hash), .flags = MW_TYPE_GC | MW_TYPE_GC_LAZY,
    .traverse = hash_traverse, .clear = hash_clear, .destroy = hash_destroy,
};

srv_hash *srv_hash_new(void)
{
    return (srv_hash *)mw_new(&srv_hash_type);
}

/* ======================================================================
 * set
 * ====================================================================== */

static void set_destroy(mw_object *self)
{
    srv_dict_clear(&((srv_set *)self)->d, NULL);
}

const mw_type srv_set_type = {
    .name = "set", .size = sizeof(srv_set), .flags = 0, .destroy = set_destroy,
};

srv_set *srv_set_new(void)
{
    return (srv_set *)mw_new(&srv_set_type);
}

/* ======================================================================
 * stream: nodes of entries, consumer groups (the commands: cmd_stream.c)
 * ====================================================================== */

static void pel_free(srv_spel *p, bool nacks)
{
    for (size_t i = 0; nacks && i < p->n; i++) {
        mw_free(p->v[i]);
    }
    mw_free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

void srv_stream_free_group(srv_sgroup *g)
{
    for (size_t i = 0; i < g->ncons; i++) {
        pel_free(&g->cons[i]->pel, false);  // the NACKs are the group's
        mw_free(g->cons[i]->name);
        mw_free(g->cons[i]);
    }
    mw_free(g->cons);
    pel_free(&g->pel, true);
    mw_free(g->name);
    mw_free(g);
}

static void stream_destroy(mw_object *self)
{
    srv_stream *s = (srv_stream *)self;
    for (size_t i = 0; i < s->nnodes; i++) {
        srv_snode *nd = s->nodes[i];
        for (size_t k = 0; k < nd->n; k++) {
            mw_free(nd->items[k]);
        }
        mw_free(nd->ids);
        mw_free(nd->items);
        mw_free(nd);
    }
    mw_free(s->nodes);
    for (size_t i = 0; i < s->ngroups; i++) {
        srv_stream_free_group(s->groups[i]);
    }
    mw_free(s->groups);
    s->nodes = NULL;
    s->groups = NULL;
    s->nnodes = s->ngroups = 0;
}

/* Entries and groups hold bytes only: not a collector container. */
const mw_type srv_stream_type = {
    .name = "stream", .size = sizeof(srv_stream), .flags = 0, .destroy = stream_destroy,
};

srv_stream *srv_stream_new(void)
{
    return (srv_stream *)mw_new(&srv_stream_type);
}

/* ======================================================================
 * sorted set: member index + skip list with spans
 * ====================================================================== */

static srv_znode *znode_new(int level, double score, srv_entry *e)
{
    srv_znode *n = mw_malloc(sizeof *n + (size_t)level * sizeof n->level[0]);
    if (n == NULL) {
        return NULL;
    }
    n->score = score;
    n->entry = e;
    n->back = NULL;
    for (int i = 0; i < level; i++) {
        n->level[i].fwd = NULL;
        n->level[i].span = 0;
    }
    return n;
}

static void zset_destroy(mw_object *self)
{
    srv_zset *z = (srv_zset *)self;
    if (z->header != NULL) {
        srv_znode *n = z->header->level[0].fwd;
        while (n != NULL) {
            srv_znode *next = n->level[0].fwd;
            mw_free(n);
            n = next;
        }
        mw_free(z->header);
        z->header = NULL;
    }
    srv_dict_clear(&z->d, NULL);
}

const mw_type srv_zset_type = {
    .name = "zset", .size = sizeof(srv_zset), .flags = 0, .destroy = zset_destroy,
};

srv_zset *srv_zset_new(void)
{
    srv_zset *z = (srv_zset *)mw_new(&srv_zset_type);
    if (z == NULL) {
        return NULL;
    }
    z->header = znode_new(SRV_ZSL_MAXLEVEL, 0, NULL);
    if (z->header == NULL) {
        mw_decref(&z->ob);
        mw_err_set(MW_ERR_NOMEM, "zset: out of memory");
        return NULL;
    }
    z->level = 1;
    return z;
}

/* Order of (score, member): <0, 0, >0. */
static int zcmp(const srv_znode *n, double score, const srv_entry *e)
{
    if (n->score != score) {
        return n->score < score ? -1 : 1;
    }
    size_t m = n->entry->klen < e->klen ? n->entry->klen : e->klen;
    int c = memcmp(n->entry->key, e->key, m);
    if (c != 0) {
        return c;
    }
    return n->entry->klen < e->klen ? -1 : n->entry->klen > e->klen;
}

static int random_level(void)
{
    int level = 1;
    while (level < SRV_ZSL_MAXLEVEL && (rng() & 3) == 0) {
        level++;
    }
    return level;
}

static srv_znode *zsl_insert(srv_zset *z, double score, srv_entry *e)
{
    srv_znode *update[SRV_ZSL_MAXLEVEL];
    size_t rank[SRV_ZSL_MAXLEVEL];
    srv_znode *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        rank[i] = i == z->level - 1 ? 0 : rank[i + 1];
        while (x->level[i].fwd != NULL && zcmp(x->level[i].fwd, score, e) < 0) {
            rank[i] += x->level[i].span;
            x = x->level[i].fwd;
        }
        update[i] = x;
    }
    int level = random_level();
    srv_znode *n = znode_new(level, score, e);
    if (n == NULL) {
        return NULL;
    }
    if (level > z->level) {
        for (int i = z->level; i < level; i++) {
            rank[i] = 0;
            update[i] = z->header;
            update[i]->level[i].span = z->len;
        }
        z->level = level;
    }
    for (int i = 0; i < level; i++) {
        n->level[i].fwd = update[i]->level[i].fwd;
        update[i]->level[i].fwd = n;
        n->level[i].span = update[i]->level[i].span - (rank[0] - rank[i]);
        update[i]->level[i].span = (rank[0] - rank[i]) + 1;
    }
    for (int i = level; i < z->level; i++) {
        update[i]->level[i].span++;
    }
    n->back = update[0] == z->header ? NULL : update[0];
    if (n->level[0].fwd != NULL) {
        n->level[0].fwd->back = n;
    } else {
        z->tail = n;
    }
    z->len++;
    return n;
}

static void zsl_delete(srv_zset *z, srv_znode *node)
{
    srv_znode *update[SRV_ZSL_MAXLEVEL];
    srv_znode *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].fwd != NULL && zcmp(x->level[i].fwd, node->score, node->entry) < 0) {
            x = x->level[i].fwd;
        }
        update[i] = x;
    }
    for (int i = 0; i < z->level; i++) {
        if (update[i]->level[i].fwd == node) {
            update[i]->level[i].span += node->level[i].span - 1;
            update[i]->level[i].fwd = node->level[i].fwd;
        } else {
            update[i]->level[i].span--;
        }
    }
    if (node->level[0].fwd != NULL) {
        node->level[0].fwd->back = node->back;
    } else {
        z->tail = node->back;
    }
    while (z->level > 1 && z->header->level[z->level - 1].fwd == NULL) {
        z->level--;
    }
    z->len--;
    mw_free(node);
}

srv_znode *srv_zset_find(srv_zset *z, const char *m, size_t n)
{
    srv_entry *e = srv_dict_find(&z->d, m, n, srv_hash_bytes(m, n));
    return e != NULL ? e->v.ptr : NULL;
}

int srv_zset_add(srv_zset *z, const char *m, size_t n, double score)
{
    uint64_t h = srv_hash_bytes(m, n);
    srv_entry *e = srv_dict_find(&z->d, m, n, h);
    if (e != NULL) {
        srv_znode *old = e->v.ptr;
        if (old->score == score) {
            return 0;
        }
        zsl_delete(z, old);
        e->v.ptr = NULL;
        srv_znode *nn = zsl_insert(z, score, e);
        if (nn == NULL) {
            srv_dict_remove(&z->d, e);
            return -1;
        }
        e->v.ptr = nn;
        return 0;
    }
    e = srv_dict_add(&z->d, m, n, h);
    if (e == NULL) {
        return -1;
    }
    srv_znode *nn = zsl_insert(z, score, e);
    if (nn == NULL) {
        srv_dict_remove(&z->d, e);
        return -1;
    }
    e->v.ptr = nn;
    return 1;
}

bool srv_zset_del(srv_zset *z, const char *m, size_t n)
{
    srv_entry *e = srv_dict_find(&z->d, m, n, srv_hash_bytes(m, n));
    if (e == NULL) {
        return false;
    }
    zsl_delete(z, e->v.ptr);
    srv_dict_remove(&z->d, e);
    return true;
}

long long srv_zset_rank(srv_zset *z, const char *m, size_t n)
{
    srv_znode *node = srv_zset_find(z, m, n);
    if (node == NULL) {
        return -1;
    }
    size_t rank = 0;
    srv_znode *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].fwd != NULL && zcmp(x->level[i].fwd, node->score, node->entry) <= 0) {
            rank += x->level[i].span;
            x = x->level[i].fwd;
        }
        if (x == node) {
            return (long long)rank - 1;
        }
    }
    return -1;
}

srv_znode *srv_zset_at(srv_zset *z, size_t r)
{
    size_t want = r + 1, traversed = 0;
    srv_znode *x = z->header;
    for (int i = z->level - 1; i >= 0; i--) {
        while (x->level[i].fwd != NULL && traversed + x->level[i].span <= want) {
            traversed += x->level[i].span;
            x = x->level[i].fwd;
        }
        if (traversed == want) {
            return x;
        }
    }
    return NULL;
}

/* ======================================================================
 * The keyspace
 * ====================================================================== */

/* The access clock: whole seconds of the kernel's coarse realtime clock
 * (a vDSO read of a value updated each tick, a few nanoseconds), cheap
 * enough to stamp on every lookup. */
static uint32_t access_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (uint32_t)ts.tv_sec;
}

/* Delete e, whose TTL ran out (lazy and active expiry): counted, and
 * the "expired" event raised while its key bytes are still there. */
static void expire_entry(srv_entry *e)
{
    srv_ks.expired++;
    srv_notify(SRV_NOTIFY_EXPIRED, "expired", e->key, e->klen);
    srv_ks_remove(e);
}

srv_entry *srv_ks_find_notouch(const char *key, size_t n)
{
    srv_entry *e = srv_dict_find(&srv_ks.d, key, n, srv_hash_bytes(key, n));
    if (e != NULL && e->expire >= 0 && e->expire <= srv_now_ms()) {
        expire_entry(e);
        return NULL;
    }
    return e;
}

srv_entry *srv_ks_find(const char *key, size_t n)
{
    srv_entry *e = srv_ks_find_notouch(key, n);
    if (e != NULL) {
        e->atime = access_clock();
    }
    return e;
}

long long srv_entry_idle_s(const srv_entry *e)
{
    uint32_t now = access_clock();
    return now >= e->atime ? (long long)(now - e->atime) : 0;
}

void srv_ks_remove(srv_entry *e)
{
    srv_watch_touch(e->key, e->klen, false);  // DEL, RENAME, expiry: all come here
    mw_object *o = e->v.obj;
    if (e->expire >= 0) {
        srv_ks.expires--;
    }
    srv_dict_remove(&srv_ks.d, e);
    mw_decref(o);
}

void srv_ks_replace(srv_entry *e, mw_object *val, bool keepttl)
{
    if (!keepttl) {
        srv_ks_set_expire(e, -1);
    }
    srv_watch_touch(e->key, e->klen, true);  // every srv_ks_set comes here too
    mw_object *old = e->v.obj;
    mw_incref(val);
    e->v.obj = val;
    e->atime = access_clock();   // a write is an access
    mw_decref(old);
}

bool srv_ks_set(const char *key, size_t n, mw_object *val, bool keepttl)
{
    // One hash for the lookup and, if the key is new, the insertion.
    uint64_t h = srv_hash_bytes(key, n);
    srv_entry *e = srv_dict_find(&srv_ks.d, key, n, h);
    if (e != NULL && e->expire >= 0 && e->expire <= srv_now_ms()) {
        expire_entry(e);
        e = NULL;
    }
    bool added = e == NULL;
    if (added) {
        e = srv_dict_add(&srv_ks.d, key, n, h);
        if (e == NULL) {
            return false;
        }
    }
    srv_ks_replace(e, val, keepttl);
    if (added) {
        srv_notify(SRV_NOTIFY_NEW, "new", key, n);  // Redis's dbAdd raises it
    }
    return true;
}

bool srv_ks_del(const char *key, size_t n)
{
    srv_entry *e = srv_ks_find(key, n);
    if (e == NULL) {
        return false;
    }
    srv_ks_remove(e);
    return true;
}

void srv_ks_set_expire(srv_entry *e, int64_t when_ms)
{
    if (when_ms >= 0 || e->expire >= 0) {  // PERSIST of a key without a TTL changes nothing
        srv_watch_touch(e->key, e->klen, true);
    }
    if (e->expire < 0 && when_ms >= 0) {
        srv_ks.expires++;
    } else if (e->expire >= 0 && when_ms < 0) {
        srv_ks.expires--;
    }
    e->expire = when_ms;
}

static void drop_value(srv_entry *e)
{
    mw_object *o = e->v.obj;
    e->v.obj = NULL;
    mw_decref(o);
}

void srv_ks_flush(void)
{
    srv_watch_flush();
    srv_dict_clear(&srv_ks.d, drop_value);
    srv_ks.expires = 0;
    srv_watch_sweep(true);
}

void srv_ks_flush_all(void)
{
    srv_keyspace *cur = srv_ks_cur;
    for (int db = 0; db < srv.ndb; db++) {
        srv_ks_use(db);
        srv_ks_flush();
    }
    srv_ks_cur = cur;
}

void srv_ks_publish(void)
{
    for (int db = 0; db < srv.ndb; db++) {
        srv_keyspace *k = srv_ks_base + db;
        atomic_store_explicit(&k->pub_keys, (long long)k->d.count, memory_order_relaxed);
        atomic_store_explicit(&k->pub_expires, (long long)k->expires, memory_order_relaxed);
        atomic_store_explicit(&k->pub_hits, k->hits, memory_order_relaxed);
        atomic_store_explicit(&k->pub_misses, k->misses, memory_order_relaxed);
        atomic_store_explicit(&k->pub_expired, k->expired, memory_order_relaxed);
    }
}

/* Whether k is a database of the caller's own shard, read live. */
static bool own_ks(const srv_keyspace *k)
{
    return srv_ks_base != NULL && k >= srv_ks_base && k < srv_ks_base + srv.ndb;
}

void srv_ks_get_db_totals(int db, srv_ks_totals *t)
{
    memset(t, 0, sizeof *t);
    for (int i = 0; i < srv.nshards * srv.ndb; i++) {
        srv_keyspace *k = &srv.shards[i];
        if (db >= 0 && k->db != db) {
            continue;
        }
        bool own = own_ks(k);
        t->keys += own ? (long long)k->d.count : atomic_load_explicit(&k->pub_keys, memory_order_relaxed);
        t->expires += own ? (long long)k->expires
                          : atomic_load_explicit(&k->pub_expires, memory_order_relaxed);
        t->hits += (own ? k->hits : atomic_load_explicit(&k->pub_hits, memory_order_relaxed)) -
                   atomic_load_explicit(&k->base_hits, memory_order_relaxed);
        t->misses += (own ? k->misses : atomic_load_explicit(&k->pub_misses, memory_order_relaxed)) -
                     atomic_load_explicit(&k->base_misses, memory_order_relaxed);
        t->expired += (own ? k->expired : atomic_load_explicit(&k->pub_expired, memory_order_relaxed)) -
                      atomic_load_explicit(&k->base_expired, memory_order_relaxed);
    }
}

void srv_ks_get_totals(srv_ks_totals *t)
{
    srv_ks_get_db_totals(-1, t);
}

void srv_ks_reset_stats(void)
{
    for (int i = 0; i < srv.nshards * srv.ndb; i++) {
        srv_keyspace *k = &srv.shards[i];
        bool own = own_ks(k);
        atomic_store(&k->base_hits, own ? k->hits : atomic_load(&k->pub_hits));
        atomic_store(&k->base_misses, own ? k->misses : atomic_load(&k->pub_misses));
        atomic_store(&k->base_expired, own ? k->expired : atomic_load(&k->pub_expired));
    }
}

typedef struct expire_batch {
    srv_entry *dead[128];
    size_t ndead, seen;
    int64_t now;
} expire_batch;

static void expire_visit(srv_entry *e, void *arg)
{
    expire_batch *b = arg;
    if (e->expire >= 0) {
        b->seen++;
        if (e->expire <= b->now && b->ndead < 128) {
            b->dead[b->ndead++] = e;
        }
    }
}

_Atomic(bool) srv_active_expire = true;

static void active_expire_db(void);

void srv_ks_active_expire(void)
{
    srv_keyspace *cur = srv_ks_cur;
    for (int db = 0; db < srv.ndb; db++) {
        srv_ks_use(db);
        active_expire_db();
    }
    srv_ks_cur = cur;
}

/* The active expiry of the current database. */
static void active_expire_db(void)
{
    srv_watch_sweep(false);  // the keyspace's owner, every SRV_CRON_MS
    if (srv_ks.expires == 0 ||
        !atomic_load_explicit(&srv_active_expire, memory_order_relaxed)) {
        return;
    }
    // One bucket at a time: collect its dead entries, delete them, move
    // the cursor on.  Entries of one bucket are distinct, so nothing is
    // deleted twice, whatever the scan does when the table shrinks or the
    // cursor wraps.  Stop after a millisecond, after a full pass, or once
    // fewer than a quarter of the keys with a TTL seen had expired, as
    // Redis does.
    uint64_t deadline = srv_mono_us() + 1000;
    expire_batch b = {.now = srv_now_ms()};
    size_t seen = 0, dead = 0;
    for (int steps = 0; steps < 100000; steps++) {
        b.ndead = 0;
        srv_ks.expire_cursor = srv_dict_scan(&srv_ks.d, srv_ks.expire_cursor, expire_visit, &b);
        for (size_t i = 0; i < b.ndead; i++) {
            expire_entry(b.dead[i]);
        }
        dead += b.ndead;
        seen = b.seen;
        if (srv_ks.expire_cursor == 0 || srv_ks.expires == 0) {
            break;
        }
        if ((steps & 15) == 15) {
            if (dead * 4 < seen || srv_mono_us() > deadline) {
                break;
            }
        }
    }
}

/* ======================================================================
 * Eviction (maxmemory-policy)
 * ====================================================================== */

_Atomic(int) srv_evict_policy_now = SRV_EVICT_NONE;
_Atomic(long long) srv_evicted_keys;

static const char *const policy_names[SRV_EVICT_POLICIES] = {
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction",
};

const char *srv_evict_policy_name(void)
{
    return policy_names[atomic_load_explicit(&srv_evict_policy_now, memory_order_relaxed)];
}

const char *srv_evict_policy_set(const char *v, size_t vn)
{
    for (int p = 0; p < SRV_EVICT_POLICIES; p++) {
        if (strlen(policy_names[p]) == vn && strncasecmp(policy_names[p], v, vn) == 0) {
            atomic_store(&srv_evict_policy_now, p);
            return NULL;
        }
    }
    return "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
           "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction";
}

/* Whether candidate c is a better victim than best under policy p. */
static bool evict_better(int p, const srv_entry *c, const srv_entry *best)
{
    if (best == NULL) {
        return true;
    }
    if (p == SRV_EVICT_VOLATILE_TTL) {
        return c->expire < best->expire;
    }
    return c->atime < best->atime;  // LRU (and LFU, approximated): the oldest access
}

/* The key policy p evicts next, sampled as Redis does (a few random keys,
 * the best of them), or NULL when there is none to evict. */
static srv_entry *evict_pick(int p)
{
    bool volatile_only = p <= SRV_EVICT_VOLATILE_TTL;
    if (srv_ks.d.count == 0 || (volatile_only && srv_ks.expires == 0)) {
        return NULL;
    }
    bool random = p == SRV_EVICT_ALLKEYS_RANDOM || p == SRV_EVICT_VOLATILE_RANDOM;
    int want = random ? 1 : SRV_EVICT_SAMPLES;
    srv_entry *best = NULL;
    // Keys with a TTL may be few: draw more, and give up after a while
    // (the next call samples again).
    for (int tries = 0, seen = 0; tries < 16 * SRV_EVICT_SAMPLES && seen < want; tries++) {
        srv_entry *e = srv_dict_random(&srv_ks.d);
        if (volatile_only && e->expire < 0) {
            continue;
        }
        seen++;
        if (evict_better(p, e, best)) {
            best = e;
        }
    }
    return best;
}

void srv_ks_evict(void)
{
    long long max = atomic_load_explicit(&srv.maxmemory, memory_order_relaxed);
    int p = atomic_load_explicit(&srv_evict_policy_now, memory_order_relaxed);
    if (max <= 0 || p == SRV_EVICT_NONE) {
        return;
    }
    // Database by database of this shard, each until it has no candidate.
    srv_keyspace *cur = srv_ks_cur;
    int n = 0;
    for (int db = 0; db < srv.ndb && n < SRV_EVICT_MAX_KEYS; db++) {
        srv_ks_use(db);
        for (; n < SRV_EVICT_MAX_KEYS; n++) {
            if ((long long)srv_memory_used(NULL, NULL) <= max) {
                n = SRV_EVICT_MAX_KEYS;
                break;
            }
            srv_entry *e = evict_pick(p);
            if (e == NULL) {
                break;
            }
            srv_notify(SRV_NOTIFY_EVICTED, "evicted", e->key, e->klen);
            srv_ks_remove(e);
            atomic_fetch_add_explicit(&srv_evicted_keys, 1, memory_order_relaxed);
        }
    }
    srv_ks_cur = cur;
    atomic_store(&srv.memory_used, srv_memory_used(NULL, NULL));
}

#if SRV_DEBUG >= 2
/* Check a table's invariants; abort with a message if one is broken. */
static void dict_validate(const srv_dict *d, const char *what)
{
    size_t n = 0;
    for (size_t i = 0; i < d->size; i++) {
        for (const srv_entry *e = d->buckets[i]; e != NULL; e = e->next) {
            if ((e->hash & (d->size - 1)) != i) {
                fprintf(stderr, "mwrt-server: %s: entry in bucket %zu hashes to %zu\n", what, i,
                        (size_t)(e->hash & (d->size - 1)));
                abort();
            }
            n++;
        }
    }
    size_t m = 0;
    for (const srv_entry *e = d->first; e != NULL; e = e->onext) {
        if ((e->onext == NULL) != (e == d->last) || (e->oprev == NULL) != (e == d->first)) {
            fprintf(stderr, "mwrt-server: %s: order list broken\n", what);
            abort();
        }
        m++;
    }
    if (n != d->count || m != d->count) {
        fprintf(stderr, "mwrt-server: %s: count %zu, %zu in buckets, %zu in order\n", what,
                d->count, n, m);
        abort();
    }
}

static int sid_order(const srv_sid *a, const srv_sid *b)
{
    if (a->ms != b->ms) {
        return a->ms < b->ms ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void pel_validate(const srv_spel *p, const srv_sconsumer *owner)
{
    for (size_t i = 0; i < p->n; i++) {
        if ((i > 0 && sid_order(&p->v[i - 1]->id, &p->v[i]->id) >= 0) ||
            (owner != NULL && p->v[i]->consumer != owner) || p->v[i]->consumer == NULL) {
            fprintf(stderr, "mwrt-server: stream: a PEL out of order or a NACK without its "
                            "consumer\n");
            abort();
        }
    }
}

/* Entries in ID order across nodes, no empty node, live counts that add
 * up to the length, every PEL sorted, and a group's PEL exactly the union
 * of its consumers'. */
static void stream_validate(const srv_stream *s)
{
    size_t live = 0;
    const srv_sid *prev = NULL;
    for (size_t i = 0; i < s->nnodes; i++) {
        const srv_snode *nd = s->nodes[i];
        size_t l = 0;
        for (size_t k = 0; k < nd->n; k++) {
            if (prev != NULL && sid_order(prev, &nd->ids[k]) >= 0) {
                fprintf(stderr, "mwrt-server: stream: IDs out of order\n");
                abort();
            }
            prev = &nd->ids[k];
            l += nd->items[k] != NULL;
        }
        if (l != nd->live || l == 0) {
            fprintf(stderr, "mwrt-server: stream: node of %zu live entries counts %zu\n", l,
                    nd->live);
            abort();
        }
        live += l;
    }
    if (live != s->length || (prev != NULL && sid_order(prev, &s->last_id) > 0)) {
        fprintf(stderr, "mwrt-server: stream: %zu live entries, length %zu, or an entry past "
                        "the last ID\n", live, s->length);
        abort();
    }
    for (size_t g = 0; g < s->ngroups; g++) {
        const srv_sgroup *grp = s->groups[g];
        pel_validate(&grp->pel, NULL);
        size_t sum = 0;
        for (size_t c = 0; c < grp->ncons; c++) {
            pel_validate(&grp->cons[c]->pel, grp->cons[c]);
            sum += grp->cons[c]->pel.n;
        }
        if (sum != grp->pel.n) {
            fprintf(stderr, "mwrt-server: stream: group PEL of %zu, consumers' %zu\n",
                    grp->pel.n, sum);
            abort();
        }
    }
}

void srv_ks_validate(void)
{
    if (srv_ks.d.count > 10000) {
        return;
    }
    dict_validate(&srv_ks.d, "keyspace");
    dict_validate(&srv_ks.watched, "watched keys");
    for (const srv_entry *e = srv_ks.watched.first; e != NULL; e = e->onext) {
        if (e->v.ptr == NULL) {
            fprintf(stderr, "mwrt-server: watched keys: a key nobody watches\n");
            abort();
        }
    }
    size_t expires = 0;
    for (const srv_entry *e = srv_ks.d.first; e != NULL; e = e->onext) {
        expires += e->expire >= 0;
        const mw_type *t = mw_type_of(e->v.obj);
        if (t == &srv_hash_type) {
            dict_validate(&((srv_hash *)e->v.obj)->d, "hash");
        } else if (t == &srv_set_type) {
            dict_validate(&((srv_set *)e->v.obj)->d, "set");
        } else if (t == &srv_zset_type) {
            srv_zset *z = (srv_zset *)e->v.obj;
            dict_validate(&z->d, "zset");
            size_t len = 0;
            for (srv_znode *x = z->header->level[0].fwd; x != NULL; x = x->level[0].fwd) {
                if (x->entry->v.ptr != x) {
                    fprintf(stderr, "mwrt-server: zset: node and entry disagree\n");
                    abort();
                }
                len++;
            }
            if (len != z->len || len != z->d.count) {
                fprintf(stderr, "mwrt-server: zset: %zu nodes, len %zu, %zu members\n",
                        len, z->len, z->d.count);
                abort();
            }
        } else if (t == &srv_stream_type) {
            stream_validate((const srv_stream *)e->v.obj);
        } else if (t != &mw_str_type && t != &srv_list_type) {
            fprintf(stderr, "mwrt-server: keyspace: a value of type %s\n", t ? t->name : "NULL");
            abort();
        }
    }
    if (expires != srv_ks.expires) {
        fprintf(stderr, "mwrt-server: keyspace: %zu keys with a TTL, counted %zu\n", expires,
                srv_ks.expires);
        abort();
    }
}
#endif

const char *srv_type_name(mw_object *o)
{
    const mw_type *t = mw_type_of(o);
    if (t == &mw_str_type) {
        return "string";
    }
    if (t == &srv_list_type) {
        return "list";
    }
    if (t == &srv_hash_type) {
        return "hash";
    }
    if (t == &srv_set_type) {
        return "set";
    }
    if (t == &srv_zset_type) {
        return "zset";
    }
    if (t == &srv_stream_type) {
        return "stream";
    }
    return "none";
}
