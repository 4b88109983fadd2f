/*
 * server/rdb.c - persistence in Redis's RDB format: DUMP and RESTORE
 * payloads, SAVE, BGSAVE, the save points, the snapshot loaded at start.
 *
 * The format is Redis 7.0's (RDB version 10), learned from its
 * documentation and sources and written here from scratch:
 *
 * - A value is a type byte and a payload.  Lengths are Redis's variable
 *   encoding (6, 14, 32 or 64 bits; the 11xxxxxx form marks a string held
 *   as an 8/16/32-bit integer or LZF-compressed).  We write strings raw or
 *   as integers, lists as quicklist-2 of listpacks, sets, hashes and sorted
 *   sets in their plain forms (RDB_TYPE_SET, RDB_TYPE_HASH,
 *   RDB_TYPE_ZSET_2), streams as stream-listpacks-2.  We read every form
 *   Redis 7.0 writes or still loads: intsets, ziplists, listpacks,
 *   quicklists 1 and 2, LZF strings, zsets with text scores.
 * - A DUMP payload is the value, the RDB version (2 bytes, little-endian)
 *   and the CRC-64 of all that (8 bytes, little-endian).
 * - A file is "REDIS0010", auxiliary fields, per database SELECTDB and
 *   RESIZEDB then its keys (each maybe after EXPIRETIME_MS), EOF, and the
 *   CRC-64 of the whole file (0 when rdbchecksum is off).
 *
 * REF values (a hash field holding another value, REF.SET) have no Redis
 * form.  A hash holding one is written as type 64 (RDB_TYPE_MWRT_HASH_REF,
 * outside Redis's range): each field's value is tagged 0 (a string), 1 (a
 * value seen for the first time: its type and payload, numbered in the
 * order seen, the written hash being 0) or 2 (a value seen before: its
 * number), so shared values and cycles come back as they were.  Redis's
 * tools refuse such a payload or file (unknown type); a snapshot without
 * REF values is plain Redis.
 *
 * Threads.  Values never leave their owner (docs/server.md): every shard's
 * owner serializes its own keys into bytes (its "part") and the bytes, not
 * the values, go to whoever writes the file.  SAVE asks every shard
 * (routed to all, as FLUSHALL) and the shard that completes the set writes
 * the file before it answers.  BGSAVE raises a generation number; each
 * owner's cron sees it within 100 ms and adds its part, and the last one
 * hands the parts to a thread that writes the file, so the disk is never
 * written on a worker (docs/decisions.md says why not fork).  At start,
 * main reads and checks the whole file (structure and checksum) before any
 * key exists, so a truncated or corrupt file is refused with its offset and
 * nothing is half loaded; each owner then builds the keys of its slots.
 */
#include "rdb.h"

#include "cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RDB_VERSION 10

enum {
    T_STRING = 0, T_LIST = 1, T_SET = 2, T_ZSET = 3, T_HASH = 4, T_ZSET_2 = 5,
    T_MODULE = 6, T_MODULE_2 = 7, T_HASH_ZIPMAP = 9, T_LIST_ZIPLIST = 10,
    T_SET_INTSET = 11, T_ZSET_ZIPLIST = 12, T_HASH_ZIPLIST = 13, T_LIST_QUICKLIST = 14,
    T_STREAM_LISTPACKS = 15, T_HASH_LISTPACK = 16, T_ZSET_LISTPACK = 17,
    T_LIST_QUICKLIST_2 = 18, T_STREAM_LISTPACKS_2 = 19,
    T_MWRT_HASH_REF = 64,
};
enum {
    OP_FUNCTION2 = 245, OP_FUNCTION = 246, OP_MODULE_AUX = 247, OP_IDLE = 248,
    OP_FREQ = 249, OP_AUX = 250, OP_RESIZEDB = 251, OP_EXPIRETIME_MS = 252,
    OP_EXPIRETIME = 253, OP_SELECTDB = 254, OP_EOF = 255,
};

/* ======================================================================
 * Settings and state
 * ====================================================================== */

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static char rdb_dir[PATH_MAX] = "";
static char rdb_file[256] = "dump.rdb";
static srv_save_point save_points[16];
static int nsave_points;
_Atomic(long long) srv_rdb_compression = 1, srv_rdb_checksum = 1, srv_rdb_stop_writes = 1;
srv_rdb_slot srv_rdb_writes[SRV_RDB_SLOTS];
static _Atomic(long long) saved_writes;         /* the sum when the last save's parts were made */

/* Write commands run so far, all workers. */
static long long writes_sum(void)
{
    long long s = 0;
    for (int i = 0; i < SRV_RDB_SLOTS; i++) {
        s += atomic_load_explicit(&srv_rdb_writes[i].n, memory_order_relaxed);
    }
    return s;
}

long long srv_rdb_changes(void)
{
    long long d = writes_sum() - atomic_load(&saved_writes);
    return d > 0 ? d : 0;
}

static _Atomic(long long) last_save_s;          // 0: none yet (the start is reported)
static _Atomic(long long) last_bgsave_try_s;
static _Atomic(bool) last_bgsave_ok = true;
static _Atomic(long long) last_bgsave_secs = -1;
static _Atomic(long long) bgsave_started_ms;
static _Atomic(bool) bgsave_running;
static _Atomic(long long) rdb_saves;
static _Atomic(long long) load_loaded, load_expired;
static _Atomic(int) stop_save = -1;       // -1: not decided (SIGTERM: the save points)

const char *srv_rdb_set_dir(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    char tmp[PATH_MAX], abs[PATH_MAX];
    if (n == 0 || n >= sizeof tmp) {
        return "No such file or directory";
    }
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    struct stat st;
    if (realpath(tmp, abs) == NULL || stat(abs, &st) != 0) {
        return strerror(errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        return strerror(ENOTDIR);
    }
    pthread_mutex_lock(&cfg_lock);
    snprintf(rdb_dir, sizeof rdb_dir, "%s", abs);
    pthread_mutex_unlock(&cfg_lock);
    return NULL;
}

void srv_rdb_format_dir(char *buf, size_t cap)
{
    pthread_mutex_lock(&cfg_lock);
    if (rdb_dir[0] == '\0' && getcwd(rdb_dir, sizeof rdb_dir) == NULL) {
        snprintf(rdb_dir, sizeof rdb_dir, ".");
    }
    snprintf(buf, cap, "%s", rdb_dir);
    pthread_mutex_unlock(&cfg_lock);
}

const char *srv_rdb_set_filename(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    if (n == 0 || n >= sizeof rdb_file || memchr(v, '/', n) != NULL) {
        return "dbfilename can't be a path, just a filename";
    }
    pthread_mutex_lock(&cfg_lock);
    memcpy(rdb_file, v, n);
    rdb_file[n] = '\0';
    pthread_mutex_unlock(&cfg_lock);
    return NULL;
}

void srv_rdb_format_filename(char *buf, size_t cap)
{
    pthread_mutex_lock(&cfg_lock);
    snprintf(buf, cap, "%s", rdb_file);
    pthread_mutex_unlock(&cfg_lock);
}

/* "secs changes [secs changes ...]", or "" for none. */
const char *srv_rdb_set_save(const char *v, size_t n, bool at_start)
{
    (void)at_start;
    srv_save_point pts[16];
    int np = 0;
    char tmp[512];
    if (n >= sizeof tmp) {
        return "Invalid save parameters";
    }
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *save = NULL;
    long long vals[32];
    int nv = 0;
    for (char *t = strtok_r(tmp, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
        char *endp;
        errno = 0;
        long long x = strtoll(t, &endp, 10);
        if (*endp != '\0' || errno != 0 || x < 0 || nv >= 32) {
            return "Invalid save parameters";
        }
        vals[nv++] = x;
    }
    if (nv % 2 != 0) {
        return "Invalid save parameters";
    }
    for (int i = 0; i < nv; i += 2) {
        pts[np].secs = vals[i];
        pts[np].changes = vals[i + 1];
        np++;
    }
    pthread_mutex_lock(&cfg_lock);
    memcpy(save_points, pts, sizeof pts);
    nsave_points = np;
    pthread_mutex_unlock(&cfg_lock);
    return NULL;
}

void srv_rdb_format_save(char *buf, size_t cap)
{
    pthread_mutex_lock(&cfg_lock);
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < nsave_points && len < cap; i++) {
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld %lld", i ? " " : "",
                                save_points[i].secs, save_points[i].changes);
    }
    pthread_mutex_unlock(&cfg_lock);
}

bool srv_rdb_has_save_points(void)
{
    pthread_mutex_lock(&cfg_lock);
    bool r = nsave_points > 0;
    pthread_mutex_unlock(&cfg_lock);
    return r;
}

/* The snapshot's path, and the directory's, into buf. */
static void rdb_path(char *buf, size_t cap, char *dir, size_t dcap)
{
    char d[PATH_MAX];
    srv_rdb_format_dir(d, sizeof d);
    pthread_mutex_lock(&cfg_lock);
    snprintf(buf, cap, "%s/%s", d, rdb_file);
    pthread_mutex_unlock(&cfg_lock);
    if (dir != NULL) {
        snprintf(dir, dcap, "%s", d);
    }
}

const char *srv_rdb_write_refusal(void)
{
    if (atomic_load_explicit(&srv_rdb_stop_writes, memory_order_relaxed) &&
        !atomic_load_explicit(&last_bgsave_ok, memory_order_relaxed) &&
        srv_rdb_has_save_points()) {
        return "MISCONF Errors writing to the disk: the last background save failed. "
               "Commands that may modify the data set are disabled, because this instance "
               "is configured to report errors during writes if RDB snapshotting fails "
               "(stop-writes-on-bgsave-error option). Please check the Redis logs for "
               "details about the RDB error.";
    }
    return NULL;
}

long long srv_rdb_lastsave(void)
{
    long long s = atomic_load(&last_save_s);
    return s ? s : srv.start_ms / 1000;
}

void srv_rdb_save_at_stop(bool on)
{
    atomic_store(&stop_save, on ? 1 : 0);
}

/* ======================================================================
 * Writing
 * ====================================================================== */

typedef struct wbuf {
    unsigned char *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void w_bytes(wbuf *b, const void *p, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) {
            cap *= 2;
        }
        unsigned char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void w_byte(wbuf *b, unsigned v)
{
    unsigned char c = (unsigned char)v;
    w_bytes(b, &c, 1);
}

static void w_le(wbuf *b, uint64_t v, int n)
{
    unsigned char t[8];
    for (int i = 0; i < n; i++) {
        t[i] = (unsigned char)(v >> (8 * i));
    }
    w_bytes(b, t, (size_t)n);
}

/* Redis's length: 00xxxxxx, 01xxxxxx xxxxxxxx, 0x80 + 32 bits or 0x81 +
 * 64 bits big-endian. */
static void w_len(wbuf *b, uint64_t v)
{
    if (v < 64) {
        w_byte(b, (unsigned)v);
    } else if (v < 16384) {
        w_byte(b, 0x40 | (unsigned)(v >> 8));
        w_byte(b, (unsigned)(v & 0xff));
    } else {
        int n = v <= UINT32_MAX ? 4 : 8;
        w_byte(b, n == 4 ? 0x80 : 0x81);
        for (int i = n - 1; i >= 0; i--) {
            w_byte(b, (unsigned)(v >> (8 * i)) & 0xff);
        }
    }
}

/* Whether n bytes at p are the canonical text of an integer (Redis keeps
 * those as integers). */
static bool canonical_ll(const char *p, size_t n, long long *v)
{
    char t[24];
    return n > 0 && n <= 20 && srv_str2ll(p, n, v) &&
           (size_t)snprintf(t, sizeof t, "%lld", *v) == n && memcmp(t, p, n) == 0;
}

static void w_string(wbuf *b, const char *p, size_t n)
{
    long long v;
    if (n <= 11 && canonical_ll(p, n, &v) && v >= INT32_MIN && v <= INT32_MAX) {
        if (v >= -128 && v <= 127) {
            w_byte(b, 0xc0);
            w_le(b, (uint64_t)v, 1);
        } else if (v >= -32768 && v <= 32767) {
            w_byte(b, 0xc1);
            w_le(b, (uint64_t)v, 2);
        } else {
            w_byte(b, 0xc2);
            w_le(b, (uint64_t)v, 4);
        }
        return;
    }
    w_len(b, n);
    w_bytes(b, p, n);
}

static void w_double(wbuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    w_le(b, u, 8);
}

/* Listpacks (lists' nodes, streams): built in lp, then written as one
 * string. */
static void lp_begin(wbuf *lp)
{
    lp->len = 0;
    lp->oom = false;
    unsigned char hdr[6] = {0};
    w_bytes(lp, hdr, 6);
}

static void lp_backlen(wbuf *lp, size_t l)
{
    unsigned char t[5];
    int n = l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
    // Read right to left: the last byte holds the low 7 bits, and each
    // byte but the first (leftmost) has its top bit set.
    for (int i = n - 1; i >= 0; i--) {
        t[i] = (unsigned char)(l & 127) | (i > 0 ? 128 : 0);
        l >>= 7;
    }
    w_bytes(lp, t, (size_t)n);
}

static void lp_int(wbuf *lp, long long v)
{
    size_t start = lp->len;
    if (v >= 0 && v <= 127) {
        w_byte(lp, (unsigned)v);
    } else if (v >= -4096 && v <= 4095) {
        uint64_t u = (uint64_t)v & 0x1fff;
        w_byte(lp, 0xc0 | (unsigned)(u >> 8));
        w_byte(lp, (unsigned)(u & 0xff));
    } else if (v >= -32768 && v <= 32767) {
        w_byte(lp, 0xf1);
        w_le(lp, (uint64_t)v, 2);
    } else if (v >= -8388608 && v <= 8388607) {
        w_byte(lp, 0xf2);
        w_le(lp, (uint64_t)v, 3);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        w_byte(lp, 0xf3);
        w_le(lp, (uint64_t)v, 4);
    } else {
        w_byte(lp, 0xf4);
        w_le(lp, (uint64_t)v, 8);
    }
    lp_backlen(lp, lp->len - start);
}

static void lp_str(wbuf *lp, const char *p, size_t n)
{
    long long v;
    if (canonical_ll(p, n, &v)) {
        lp_int(lp, v);
        return;
    }
    size_t start = lp->len;
    if (n < 64) {
        w_byte(lp, 0x80 | (unsigned)n);
    } else if (n < 4096) {
        w_byte(lp, 0xe0 | (unsigned)(n >> 8));
        w_byte(lp, (unsigned)(n & 0xff));
    } else {
        w_byte(lp, 0xf0);
        w_le(lp, n, 4);
    }
    w_bytes(lp, p, n);
    lp_backlen(lp, lp->len - start);
}

static void lp_end(wbuf *lp, size_t count)
{
    w_byte(lp, 0xff);
    if (lp->oom) {
        return;
    }
    uint32_t total = (uint32_t)lp->len;
    for (int i = 0; i < 4; i++) {
        lp->p[i] = (unsigned char)(total >> (8 * i));
    }
    uint16_t c = count < 65535 ? (uint16_t)count : 65535;
    lp->p[4] = (unsigned char)(c & 0xff);
    lp->p[5] = (unsigned char)(c >> 8);
}

/* The values already written in one REF graph: object -> its number. */
typedef struct refmap {
    const void **keys;
    uint64_t *ids;
    size_t cap, count;
} refmap;

static size_t ref_slot(const refmap *m, const void *o)
{
    size_t h = ((uintptr_t)o >> 4) * 0x9e3779b97f4a7c15ULL;
    size_t i = h & (m->cap - 1);
    while (m->keys[i] != NULL && m->keys[i] != o) {
        i = (i + 1) & (m->cap - 1);
    }
    return i;
}

/* The number of o, or -1 when not seen; add: give it the next number. */
static long long ref_find_add(refmap *m, const void *o, bool add, bool *oom)
{
    if (m->cap == 0 || (add && (m->count + 1) * 2 > m->cap)) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const void **k = calloc(cap, sizeof *k);
        uint64_t *v = calloc(cap, sizeof *v);
        if (k == NULL || v == NULL) {
            free(k);
            free(v);
            *oom = true;
            return -1;
        }
        refmap n = {k, v, cap, 0};
        for (size_t i = 0; i < m->cap; i++) {
            if (m->keys[i] != NULL) {
                size_t s = ref_slot(&n, m->keys[i]);
                n.keys[s] = m->keys[i];
                n.ids[s] = m->ids[i];
                n.count++;
            }
        }
        free(m->keys);
        free(m->ids);
        *m = n;
    }
    size_t s = ref_slot(m, o);
    if (m->keys[s] != NULL) {
        return (long long)m->ids[s];
    }
    if (add) {
        m->keys[s] = o;
        m->ids[s] = m->count++;
    }
    return -1;
}

static bool hash_has_refs(srv_hash *h)
{
    for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
        if (mw_type_of(e->v.obj) != &mw_str_type) {
            return true;
        }
    }
    return false;
}

static int value_type(mw_object *o)
{
    const mw_type *t = mw_type_of(o);
    if (t == &srv_list_type) {
        return T_LIST_QUICKLIST_2;
    }
    if (t == &srv_set_type) {
        return T_SET;
    }
    if (t == &srv_zset_type) {
        return T_ZSET_2;
    }
    if (t == &srv_hash_type) {
        return hash_has_refs((srv_hash *)o) ? T_MWRT_HASH_REF : T_HASH;
    }
    if (t == &srv_stream_type) {
        return T_STREAM_LISTPACKS_2;
    }
    return T_STRING;
}

static void w_payload(wbuf *b, mw_object *o, refmap *refs);

static void w_list(wbuf *b, srv_list *l)
{
    // Nodes of at most 128 entries or about 8 kB, as Redis's default
    // list-max-listpack-size -2 makes them.
    size_t nodes = 0;
    for (size_t i = 0, bytes = 0, cnt = 0; i < l->len; i++) {
        size_t n = mw_str_len(srv_list_at(l, i));
        if (cnt > 0 && (cnt == 128 || bytes + n > 8192)) {
            nodes++;
            cnt = bytes = 0;
        }
        cnt++;
        bytes += n + 11;
    }
    nodes += l->len > 0;
    w_len(b, nodes);
    wbuf lp = {0};
    size_t i = 0;
    while (i < l->len) {
        lp_begin(&lp);
        size_t cnt = 0, bytes = 0;
        while (i < l->len) {
            size_t n;
            const char *p = mw_str_data(srv_list_at(l, i), &n);
            if (cnt > 0 && (cnt == 128 || bytes + n > 8192)) {
                break;
            }
            lp_str(&lp, p, n);
            cnt++;
            bytes += n + 11;
            i++;
        }
        lp_end(&lp, cnt);
        b->oom |= lp.oom;
        w_len(b, 2);    // a packed node
        w_len(b, lp.len);
        w_bytes(b, lp.p, lp.len);
    }
    free(lp.p);
}

static void w_stream_id(wbuf *b, srv_sid id)
{
    unsigned char t[16];
    for (int i = 0; i < 8; i++) {
        t[i] = (unsigned char)(id.ms >> (56 - 8 * i));
        t[8 + i] = (unsigned char)(id.seq >> (56 - 8 * i));
    }
    w_bytes(b, t, 16);
}

/* A stream: one listpack per node, each with a master entry of the
 * node's first ID and no master fields (every entry carries its own), as
 * Redis's format allows; then lengths, IDs, groups and PELs. */
static void w_stream(wbuf *b, srv_stream *s)
{
    size_t nodes = 0;
    for (size_t i = 0; i < s->nnodes; i++) {
        nodes += s->nodes[i]->live > 0;
    }
    w_len(b, nodes);
    wbuf lp = {0};
    for (size_t i = 0; i < s->nnodes; i++) {
        srv_snode *nd = s->nodes[i];
        if (nd->live == 0) {
            continue;
        }
        srv_sid master = {0, 0};
        for (size_t k = 0; k < nd->n; k++) {
            if (nd->items[k] != NULL) {
                master = nd->ids[k];
                break;
            }
        }
        lp_begin(&lp);
        size_t cnt = 0;
        lp_int(&lp, (long long)nd->live);   // entries
        lp_int(&lp, 0);                     // deleted
        lp_int(&lp, 0);                     // master fields
        lp_int(&lp, 0);                     // the master entry's terminator
        cnt = 4;
        for (size_t k = 0; k < nd->n; k++) {
            srv_sitem *it = nd->items[k];
            if (it == NULL) {
                continue;
            }
            lp_int(&lp, 0);  // flags: not deleted, fields of its own
            lp_int(&lp, (long long)(nd->ids[k].ms - master.ms));
            lp_int(&lp, (long long)(nd->ids[k].seq - master.seq));
            lp_int(&lp, it->npairs);
            const char *data = (const char *)&it->len[2 * it->npairs];
            for (uint32_t f = 0; f < 2 * it->npairs; f++) {
                lp_str(&lp, data, it->len[f]);
                data += it->len[f];
            }
            lp_int(&lp, (long long)(4 + 2 * it->npairs));  // lp-count of the entry
            cnt += 5 + 2 * it->npairs;
        }
        lp_end(&lp, cnt);
        b->oom |= lp.oom;
        w_len(b, 16);
        w_stream_id(b, master);
        w_len(b, lp.len);
        w_bytes(b, lp.p, lp.len);
    }
    free(lp.p);
    w_len(b, s->length);
    w_len(b, s->last_id.ms);
    w_len(b, s->last_id.seq);
    w_len(b, s->first_id.ms);
    w_len(b, s->first_id.seq);
    w_len(b, s->max_deleted.ms);
    w_len(b, s->max_deleted.seq);
    w_len(b, s->entries_added);
    w_len(b, s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        srv_sgroup *g = s->groups[i];
        w_len(b, g->nlen);
        w_bytes(b, g->name, g->nlen);
        w_len(b, g->last_id.ms);
        w_len(b, g->last_id.seq);
        w_len(b, g->entries_read < 0 ? UINT64_MAX : (uint64_t)g->entries_read);
        w_len(b, g->pel.n);
        for (size_t k = 0; k < g->pel.n; k++) {
            w_stream_id(b, g->pel.v[k]->id);
            w_le(b, (uint64_t)g->pel.v[k]->delivery_time, 8);
            w_len(b, g->pel.v[k]->delivery_count);
        }
        w_len(b, g->ncons);
        for (size_t c = 0; c < g->ncons; c++) {
            srv_sconsumer *sc = g->cons[c];
            w_len(b, sc->nlen);
            w_bytes(b, sc->name, sc->nlen);
            w_le(b, (uint64_t)sc->seen_time, 8);
            w_len(b, sc->pel.n);
            for (size_t k = 0; k < sc->pel.n; k++) {
                w_stream_id(b, sc->pel.v[k]->id);
            }
        }
    }
}

/* A value reached through a REF: a string inline (0), a value seen in
 * this graph before (2 and its number), or a new one (1, its type and
 * payload). */
static void w_ref_value(wbuf *b, mw_object *o, refmap *refs)
{
    if (mw_type_of(o) == &mw_str_type) {
        size_t n;
        const char *p = mw_str_data(o, &n);
        w_byte(b, 0);
        w_string(b, p, n);
        return;
    }
    long long id = ref_find_add(refs, o, false, &b->oom);
    if (id >= 0) {
        w_byte(b, 2);
        w_len(b, (uint64_t)id);
        return;
    }
    ref_find_add(refs, o, true, &b->oom);
    w_byte(b, 1);
    w_byte(b, (unsigned)value_type(o));
    w_payload(b, o, refs);
}

static void w_payload(wbuf *b, mw_object *o, refmap *refs)
{
    const mw_type *t = mw_type_of(o);
    if (t == &mw_str_type) {
        size_t n;
        const char *p = mw_str_data(o, &n);
        w_string(b, p, n);
    } else if (t == &srv_list_type) {
        w_list(b, (srv_list *)o);
    } else if (t == &srv_set_type) {
        srv_set *s = (srv_set *)o;
        w_len(b, s->d.count);
        for (srv_entry *e = s->d.first; e != NULL; e = e->onext) {
            w_string(b, e->key, e->klen);
        }
    } else if (t == &srv_zset_type) {
        srv_zset *z = (srv_zset *)o;
        w_len(b, z->len);
        // From the highest score down, as Redis writes it (its loader
        // then inserts each at the head of its skip list).
        for (srv_znode *nd = z->tail; nd != NULL; nd = nd->back) {
            w_string(b, nd->entry->key, nd->entry->klen);
            w_double(b, nd->score);
        }
    } else if (t == &srv_hash_type) {
        srv_hash *h = (srv_hash *)o;
        bool refs_in = hash_has_refs(h);
        w_len(b, h->d.count);
        for (srv_entry *e = h->d.first; e != NULL; e = e->onext) {
            w_string(b, e->key, e->klen);
            if (refs_in) {
                w_ref_value(b, e->v.obj, refs);
            } else {
                size_t n;
                const char *p = mw_str_data(e->v.obj, &n);
                w_string(b, p, n);
            }
        }
    } else if (t == &srv_stream_type) {
        w_stream(b, (srv_stream *)o);
    }
}

/* Type byte, the key (when key is not NULL: a file's entry) and the
 * payload of o; false when out of memory. */
static bool w_entry(wbuf *b, const char *key, size_t klen, mw_object *o)
{
    refmap refs = {0};
    int type = value_type(o);
    w_byte(b, (unsigned)type);
    if (key != NULL) {
        w_string(b, key, klen);
    }
    if (type == T_MWRT_HASH_REF) {
        ref_find_add(&refs, o, true, &b->oom);   // the hash itself is number 0
    }
    w_payload(b, o, &refs);
    free(refs.keys);
    free(refs.ids);
    return !b->oom;
}

/* ======================================================================
 * Reading
 * ====================================================================== */

/* A reader over n bytes.  Without build it only checks the structure
 * (main, at start: no runtime object is made); with it, it makes the
 * values.  Errors keep the first message and the offset it was found at. */
typedef struct rd {
    const unsigned char *p;
    size_t n, pos;
    size_t base;                /* offset of p in the file, for messages */
    bool build;
    const char *err;
    size_t err_at;
    int rdbver;
    mw_object **ids;            /* REF graph: number -> value (borrowed) */
    size_t nids, idcap;
} rd;

static mw_object dummy_obj;
#define DUMMY (&dummy_obj)

static bool fail(rd *r, const char *why)
{
    if (r->err == NULL) {
        r->err = why;
        r->err_at = r->base + r->pos;
    }
    return false;
}

static bool r_take(rd *r, size_t k, const unsigned char **out)
{
    if (r->n - r->pos < k) {
        return fail(r, "unexpected end of data");
    }
    *out = r->p + r->pos;
    r->pos += k;
    return true;
}

static bool r_byte(rd *r, unsigned *v)
{
    const unsigned char *q;
    if (!r_take(r, 1, &q)) {
        return false;
    }
    *v = *q;
    return true;
}

static uint64_t le(const unsigned char *q, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) {
        v = (v << 8) | q[i];
    }
    return v;
}

static bool r_le(rd *r, int n, uint64_t *v)
{
    const unsigned char *q;
    if (!r_take(r, (size_t)n, &q)) {
        return false;
    }
    *v = le(q, n);
    return true;
}

/* A length; *enc set (and the low 6 bits in *v) for the 11xxxxxx forms. */
static bool r_len_enc(rd *r, uint64_t *v, bool *enc)
{
    unsigned b;
    *enc = false;
    if (!r_byte(r, &b)) {
        return false;
    }
    switch (b >> 6) {
    case 0:
        *v = b & 0x3f;
        return true;
    case 1: {
        unsigned c;
        if (!r_byte(r, &c)) {
            return false;
        }
        *v = ((uint64_t)(b & 0x3f) << 8) | c;
        return true;
    }
    case 2: {
        int n = b == 0x80 ? 4 : b == 0x81 ? 8 : 0;
        const unsigned char *q;
        if (n == 0) {
            return fail(r, "unknown length encoding");
        }
        if (!r_take(r, (size_t)n, &q)) {
            return false;
        }
        uint64_t x = 0;
        for (int i = 0; i < n; i++) {
            x = (x << 8) | q[i];
        }
        *v = x;
        return true;
    }
    default:
        *enc = true;
        *v = b & 0x3f;
        return true;
    }
}

static bool r_len(rd *r, uint64_t *v)
{
    bool enc;
    if (!r_len_enc(r, v, &enc)) {
        return false;
    }
    return enc ? fail(r, "an encoded string where a length belongs") : true;
}

/* A string: p/n point into the data, or into num (integers), or into
 * heap (LZF; the caller frees it with rs_free). */
typedef struct rstr {
    const char *p;
    size_t n;
    char *heap;
    char num[24];
} rstr;

static void rs_free(rstr *s)
{
    free(s->heap);
    s->heap = NULL;
}

static bool r_string(rd *r, rstr *s)
{
    uint64_t v;
    bool enc;
    s->heap = NULL;
    if (!r_len_enc(r, &v, &enc)) {
        return false;
    }
    if (!enc) {
        const unsigned char *q;
        if (!r_take(r, v, &q)) {
            return false;
        }
        s->p = (const char *)q;
        s->n = v;
        return true;
    }
    if (v <= 2) {
        int n = 1 << v;
        uint64_t u;
        if (!r_le(r, n, &u)) {
            return false;
        }
        long long x = n == 1 ? (int8_t)u : n == 2 ? (int16_t)u : (int32_t)u;
        s->n = (size_t)snprintf(s->num, sizeof s->num, "%lld", x);
        s->p = s->num;
        return true;
    }
    if (v != 3) {
        return fail(r, "unknown string encoding");
    }
    uint64_t clen, len;
    const unsigned char *q;
    if (!r_len(r, &clen) || !r_len(r, &len) || !r_take(r, clen, &q)) {
        return false;
    }
    if (len > (1ULL << 32) || len > clen * 300 + 64) {
        return fail(r, "LZF string longer than its data can make");    // a back reference makes at most 264 bytes
    }
    s->heap = malloc(len ? len : 1);
    if (s->heap == NULL) {
        return fail(r, "out of memory");
    }
    if (!srv_lzf_decompress(q, clen, s->heap, len)) {
        rs_free(s);
        return fail(r, "invalid LZF-compressed string");
    }
    s->p = s->heap;
    s->n = len;
    return true;
}

/* Where the elements of a compact encoding go: a list, set, hash (pairs)
 * or sorted set (member, score). */
enum { SK_LIST, SK_SET, SK_HASH, SK_ZSET };
typedef struct sink {
    rd *r;
    int kind;
    mw_object *o;               /* NULL when only checking */
    char *held;                 /* the field or member waiting for its pair */
    size_t heldn;
    bool have;
    size_t count;
} sink;

static bool add_hash_field(srv_hash *h, const char *f, size_t fn, mw_object *v)
{
    if (mw_gc_track_for(&h->ob, v) != 0) {
        mw_err_clear();
        return false;
    }
    uint64_t hv = srv_hash_bytes(f, fn);
    if (srv_dict_find(&h->d, f, fn, hv) != NULL) {
        return false;
    }
    srv_entry *e = srv_dict_add(&h->d, f, fn, hv);
    if (e == NULL) {
        return false;
    }
    mw_incref(v);
    e->v.obj = v;
    return true;
}

static bool add_set_member(srv_set *s, const char *p, size_t n)
{
    uint64_t h = srv_hash_bytes(p, n);
    return srv_dict_find(&s->d, p, n, h) == NULL && srv_dict_add(&s->d, p, n, h) != NULL;
}

static bool parse_score(const char *p, size_t n, double *d)
{
    char t[128];
    if (n == 0 || n >= sizeof t) {
        return false;
    }
    memcpy(t, p, n);
    t[n] = '\0';
    char *end;
    *d = strtod(t, &end);
    return *end == '\0' && !isnan(*d);
}

static bool sink_put(sink *s, const char *p, size_t n)
{
    rd *r = s->r;
    s->count++;
    if (s->kind == SK_LIST || s->kind == SK_SET) {
        if (s->o == NULL) {
            return true;
        }
        if (s->kind == SK_SET) {
            return add_set_member((srv_set *)s->o, p, n) || fail(r, "duplicate set member");
        }
        mw_object *str = mw_str_n(p, n);
        if (str == NULL || !srv_list_push((srv_list *)s->o, str, false)) {
            mw_err_clear();
            return fail(r, "out of memory");
        }
        return true;
    }
    if (!s->have) {
        s->have = true;
        if (s->o == NULL) {
            return true;
        }
        char *h = realloc(s->held, n ? n : 1);
        if (h == NULL) {
            return fail(r, "out of memory");
        }
        memcpy(h, p, n);
        s->held = h;
        s->heldn = n;
        return true;
    }
    s->have = false;
    if (s->kind == SK_ZSET) {
        double d;
        if (!parse_score(p, n, &d)) {
            return fail(r, "invalid sorted set score");
        }
        if (s->o == NULL) {
            return true;
        }
        int a = srv_zset_add((srv_zset *)s->o, s->held, s->heldn, d);
        return a > 0 || fail(r, a == 0 ? "duplicate sorted set member" : "out of memory");
    }
    if (s->o == NULL) {
        return true;
    }
    mw_object *v = mw_str_n(p, n);
    if (v == NULL) {
        mw_err_clear();
        return fail(r, "out of memory");
    }
    bool ok = add_hash_field((srv_hash *)s->o, s->held, s->heldn, v);
    mw_decref(v);
    return ok || fail(r, "duplicate hash field");
}

/* The elements of a listpack of n bytes at q, each given to fn. */
typedef bool (*elem_fn)(void *arg, const char *p, size_t n);

static bool lp_walk(rd *r, const unsigned char *q, size_t n, elem_fn fn, void *arg, size_t *count)
{
    if (n < 7 || le(q, 4) != n || q[n - 1] != 0xff) {
        return fail(r, "invalid listpack header");
    }
    size_t declared = le(q + 4, 2), i = 6, cnt = 0;
    while (i < n - 1) {
        unsigned b = q[i];
        size_t hdr, len = 0;
        long long v = 0;
        bool isint = true;
        size_t avail = n - 1 - i;
        if ((b & 0x80) == 0) {
            hdr = 1;
            v = b;
        } else if ((b & 0xc0) == 0x80) {
            hdr = 1;
            len = b & 0x3f;
            isint = false;
        } else if ((b & 0xe0) == 0xc0) {
            hdr = 2;
            if (avail < 2) {
                return fail(r, "truncated listpack entry");
            }
            uint64_t u = ((uint64_t)(b & 0x1f) << 8) | q[i + 1];
            v = u >= 4096 ? (long long)u - 8192 : (long long)u;
        } else if ((b & 0xf0) == 0xe0) {
            hdr = 2;
            if (avail < 2) {
                return fail(r, "truncated listpack entry");
            }
            len = ((size_t)(b & 0x0f) << 8) | q[i + 1];
            isint = false;
        } else {
            static const int sizes[5] = {4, 2, 3, 4, 8};
            if (b < 0xf0 || b > 0xf4) {
                return fail(r, "invalid listpack entry encoding");
            }
            int k = sizes[b - 0xf0];
            hdr = 1 + (size_t)k;
            if (avail < hdr) {
                return fail(r, "truncated listpack entry");
            }
            uint64_t u = le(q + i + 1, k);
            if (b == 0xf0) {
                len = u;
                isint = false;
            } else {
                int bits = 8 * k;
                v = bits == 64 ? (long long)u
                               : (u & (1ULL << (bits - 1))) ? (long long)(u - (1ULL << bits))
                                                             : (long long)u;
            }
        }
        size_t elen = hdr + len;
        size_t back = elen <= 127 ? 1 : elen < 16383 ? 2 : elen < 2097151 ? 3 : elen < 268435455 ? 4 : 5;
        if (len > avail || elen + back > avail) {
            return fail(r, "truncated listpack entry");
        }
        char num[24];
        const char *p;
        size_t pn;
        if (isint) {
            pn = (size_t)snprintf(num, sizeof num, "%lld", v);
            p = num;
        } else {
            p = (const char *)q + i + hdr;
            pn = len;
        }
        if (fn != NULL && !fn(arg, p, pn)) {
            return false;
        }
        cnt++;
        i += elen + back;
    }
    if (i != n - 1 || (declared != 65535 && declared != cnt)) {
        return fail(r, "listpack length mismatch");
    }
    if (count != NULL) {
        *count = cnt;
    }
    return true;
}

/* The elements of a ziplist (Redis before 7.0). */
static bool zl_walk(rd *r, const unsigned char *q, size_t n, elem_fn fn, void *arg, size_t *count)
{
    if (n < 11 || le(q, 4) != n || q[n - 1] != 0xff || le(q + 4, 4) > n - 1) {
        return fail(r, "invalid ziplist header");
    }
    size_t declared = le(q + 8, 2), i = 10, cnt = 0;
    while (i < n - 1) {
        size_t avail = n - 1 - i;
        size_t plen = q[i] < 254 ? 1 : 5;
        if (avail < plen + 1) {
            return fail(r, "truncated ziplist entry");
        }
        size_t e = i + plen;
        unsigned b = q[e];
        size_t hdr = 1, len = 0;
        long long v = 0;
        bool isint = true;
        switch (b >> 6) {
        case 0:
            len = b & 0x3f;
            isint = false;
            break;
        case 1:
            hdr = 2;
            if (avail < plen + 2) {
                return fail(r, "truncated ziplist entry");
            }
            len = ((size_t)(b & 0x3f) << 8) | q[e + 1];
            isint = false;
            break;
        case 2:
            hdr = 5;
            if (avail < plen + 5) {
                return fail(r, "truncated ziplist entry");
            }
            len = ((size_t)q[e + 1] << 24) | ((size_t)q[e + 2] << 16) | ((size_t)q[e + 3] << 8) | q[e + 4];
            isint = false;
            break;
        default: {
            int k;
            if (b == 0xc0) {
                k = 2;
            } else if (b == 0xd0) {
                k = 4;
            } else if (b == 0xe0) {
                k = 8;
            } else if (b == 0xf0) {
                k = 3;
            } else if (b == 0xfe) {
                k = 1;
            } else if (b >= 0xf1 && b <= 0xfd) {
                k = 0;
                v = (long long)(b & 0x0f) - 1;
            } else {
                return fail(r, "invalid ziplist entry encoding");
            }
            hdr = 1 + (size_t)k;
            if (avail < plen + hdr) {
                return fail(r, "truncated ziplist entry");
            }
            if (k > 0) {
                uint64_t u = le(q + e + 1, k);
                int bits = 8 * k;
                v = bits == 64 ? (long long)u
                               : (u & (1ULL << (bits - 1))) ? (long long)(u - (1ULL << bits))
                                                             : (long long)u;
            }
        }
        }
        if (len > avail || plen + hdr + len > avail) {
            return fail(r, "truncated ziplist entry");
        }
        char num[24];
        const char *p = (const char *)q + e + hdr;
        size_t pn = len;
        if (isint) {
            pn = (size_t)snprintf(num, sizeof num, "%lld", v);
            p = num;
        }
        if (fn != NULL && !fn(arg, p, pn)) {
            return false;
        }
        cnt++;
        i += plen + hdr + len;
    }
    if (i != n - 1 || (declared != 65535 && declared != cnt)) {
        return fail(r, "ziplist length mismatch");
    }
    if (count != NULL) {
        *count = cnt;
    }
    return true;
}

static bool sink_fn(void *arg, const char *p, size_t n)
{
    return sink_put(arg, p, n);
}

/* A compact encoding held as one RDB string, walked into s. */
/* A value that could not be made: the error the load reports. */
static mw_object *out_of_memory(rd *r)
{
    mw_err_clear();
    fail(r, "out of memory");
    return NULL;
}

static bool r_packed(rd *r, sink *s, bool ziplist)
{
    rstr str;
    if (!r_string(r, &str)) {
        return false;
    }
    bool ok = ziplist ? zl_walk(r, (const unsigned char *)str.p, str.n, sink_fn, s, NULL)
                      : lp_walk(r, (const unsigned char *)str.p, str.n, sink_fn, s, NULL);
    rs_free(&str);
    return ok;
}

static bool r_intset(rd *r, sink *s)
{
    rstr str;
    if (!r_string(r, &str)) {
        return false;
    }
    const unsigned char *q = (const unsigned char *)str.p;
    bool ok = str.n >= 8;
    uint32_t enc = ok ? (uint32_t)le(q, 4) : 0, len = ok ? (uint32_t)le(q + 4, 4) : 0;
    ok = ok && (enc == 2 || enc == 4 || enc == 8) && str.n == 8 + (size_t)enc * len;
    long long prev = 0;
    for (uint32_t i = 0; ok && i < len; i++) {
        uint64_t u = le(q + 8 + (size_t)i * enc, (int)enc);
        long long v = enc == 2 ? (int16_t)u : enc == 4 ? (int32_t)u : (long long)u;
        if (i > 0 && v <= prev) {
            ok = false;
            break;
        }
        prev = v;
        char num[24];
        int n = snprintf(num, sizeof num, "%lld", v);
        if (!sink_put(s, num, (size_t)n)) {
            rs_free(&str);
            return false;
        }
    }
    rs_free(&str);
    return ok || fail(r, "invalid intset");
}

static bool r_stream_id(rd *r, srv_sid *id)
{
    const unsigned char *q;
    if (!r_take(r, 16, &q)) {
        return false;
    }
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = (id->ms << 8) | q[i];
        id->seq = (id->seq << 8) | q[8 + i];
    }
    return true;
}

static int sid_cmp(srv_sid a, srv_sid b)
{
    return a.ms != b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq != b.seq ? (a.seq < b.seq ? -1 : 1) : 0;
}

/* A stream listpack's elements, gathered as strings (integers as text). */
typedef struct elems {
    const char **p;
    size_t *n;
    char (*num)[24];
    size_t count, cap;
} elems;

static bool elems_fn(void *arg, const char *p, size_t n)
{
    elems *e = arg;
    if (e->count == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        const char **np = realloc(e->p, cap * sizeof *np);
        if (np != NULL) {
            e->p = np;
        }
        size_t *nn = realloc(e->n, cap * sizeof *nn);
        if (nn != NULL) {
            e->n = nn;
        }
        char(*nu)[24] = realloc(e->num, cap * sizeof *nu);
        if (nu != NULL) {
            e->num = nu;
        }
        if (np == NULL || nn == NULL || nu == NULL) {
            return false;
        }
        e->cap = cap;
    }
    // Integers come in a buffer of the walk's: keep a copy of short texts.
    if (n < 24) {
        memcpy(e->num[e->count], p, n);
        p = e->num[e->count];
    }
    e->p[e->count] = p;
    e->n[e->count] = n;
    e->count++;
    return true;
}

static bool el_int(elems *e, size_t i, long long *v)
{
    return i < e->count && srv_str2ll(e->p[i], e->n[i], v);
}

/* The text pointers of short elements point into e->num, which moves
 * when it grows: fix them once the walk is over. */
static void elems_fix(elems *e)
{
    for (size_t i = 0; i < e->count; i++) {
        if (e->n[i] < 24) {
            e->p[i] = e->num[i];
        }
    }
}

/* Append an entry to stream s's last node (or a new node): its ID must
 * be above every ID before it. */
static bool stream_append(srv_stream *s, srv_sid id, elems *e, size_t from, size_t npairs,
                          const elems *mf, size_t mfrom, bool samefields)
{
    size_t bytes = 0;
    for (size_t f = 0; f < npairs; f++) {
        bytes += samefields ? mf->n[mfrom + f] + e->n[from + f] : e->n[from + 2 * f] + e->n[from + 2 * f + 1];
    }
    srv_sitem *it = mw_malloc(sizeof *it + 2 * npairs * sizeof it->len[0] + bytes);
    if (it == NULL) {
        return false;
    }
    it->npairs = (uint32_t)npairs;
    char *data = (char *)&it->len[2 * npairs];
    for (size_t f = 0; f < npairs; f++) {
        const char *fp = samefields ? mf->p[mfrom + f] : e->p[from + 2 * f];
        size_t fl = samefields ? mf->n[mfrom + f] : e->n[from + 2 * f];
        const char *vp = samefields ? e->p[from + f] : e->p[from + 2 * f + 1];
        size_t vl = samefields ? e->n[from + f] : e->n[from + 2 * f + 1];
        it->len[2 * f] = (uint32_t)fl;
        it->len[2 * f + 1] = (uint32_t)vl;
        memcpy(data, fp, fl);
        data += fl;
        memcpy(data, vp, vl);
        data += vl;
    }
    long long maxn = config_stream_node_max_entries();
    srv_snode *nd = s->nnodes ? s->nodes[s->nnodes - 1] : NULL;
    if (nd == NULL || (maxn > 0 && (long long)nd->n >= maxn)) {
        if (s->nnodes == s->ncap) {
            size_t cap = s->ncap ? s->ncap * 2 : 4;
            srv_snode **nn = mw_realloc(s->nodes, cap * sizeof *nn);
            if (nn == NULL) {
                mw_free(it);
                return false;
            }
            s->nodes = nn;
            s->ncap = cap;
        }
        nd = mw_calloc(1, sizeof *nd);
        if (nd == NULL) {
            mw_free(it);
            return false;
        }
        s->nodes[s->nnodes++] = nd;
    }
    if (nd->n == nd->cap) {
        size_t cap = nd->cap ? nd->cap * 2 : 8;
        srv_sid *ids = mw_realloc(nd->ids, cap * sizeof *ids);
        if (ids == NULL) {
            mw_free(it);
            return false;
        }
        nd->ids = ids;
        srv_sitem **items = mw_realloc(nd->items, cap * sizeof *items);
        if (items == NULL) {
            mw_free(it);
            return false;
        }
        nd->items = items;
        nd->cap = cap;
    }
    nd->ids[nd->n] = id;
    nd->items[nd->n] = it;
    nd->n++;
    nd->live++;
    nd->bytes += bytes + 4 * npairs + 8;
    return true;
}

static bool r_stream(rd *r, int type, srv_stream *s)
{
    uint64_t nodes;
    if (!r_len(r, &nodes)) {
        return false;
    }
    srv_sid last = {0, 0};
    bool any = false;
    size_t live = 0;
    elems e = {0}, mf = {0};
    bool ok = true;
    for (uint64_t i = 0; ok && i < nodes; i++) {
        rstr key, lp;
        if (!r_string(r, &key)) {
            ok = false;
            break;
        }
        if (key.n != 16) {
            rs_free(&key);
            ok = fail(r, "invalid stream node key");
            break;
        }
        srv_sid master = {0, 0};
        for (int k = 0; k < 8; k++) {
            master.ms = (master.ms << 8) | (unsigned char)key.p[k];
            master.seq = (master.seq << 8) | (unsigned char)key.p[8 + k];
        }
        rs_free(&key);
        if (!r_string(r, &lp)) {
            ok = false;
            break;
        }
        e.count = 0;
        ok = lp_walk(r, (const unsigned char *)lp.p, lp.n, elems_fn, &e, NULL);
        if (!ok) {
            rs_free(&lp);
            if (r->err == NULL) {
                fail(r, "out of memory");
            }
            break;
        }
        elems_fix(&e);
        long long count, deleted, nmf;
        size_t at = 0;
        if (!el_int(&e, 0, &count) || !el_int(&e, 1, &deleted) || !el_int(&e, 2, &nmf) ||
            count < 0 || deleted < 0 || nmf < 0 || (size_t)nmf + 4 > e.count) {
            rs_free(&lp);
            ok = fail(r, "invalid stream master entry");
            break;
        }
        at = 3 + (size_t)nmf + 1;   // the master fields, then the master's 0
        size_t mfrom = 3;
        if (count + deleted == 0) {
            rs_free(&lp);
            ok = fail(r, "empty stream node");
            break;
        }
        for (long long k = 0; ok && k < count + deleted; k++) {
            long long flags, dms, dseq, np;
            if (!el_int(&e, at, &flags) || !el_int(&e, at + 1, &dms) || !el_int(&e, at + 2, &dseq)) {
                ok = fail(r, "invalid stream entry");
                break;
            }
            at += 3;
            bool same = flags & 2;
            if (same) {
                np = nmf;
            } else if (!el_int(&e, at++, &np) || np < 0) {
                ok = fail(r, "invalid stream entry");
                break;
            }
            size_t nvals = same ? (size_t)np : 2 * (size_t)np;
            long long lpcount;
            if (at + nvals >= e.count || !el_int(&e, at + nvals, &lpcount)) {
                ok = fail(r, "invalid stream entry");
                break;
            }
            srv_sid id = {master.ms + (uint64_t)dms, master.seq + (uint64_t)dseq};
            if (any && sid_cmp(id, last) <= 0) {
                ok = fail(r, "stream IDs out of order");
                break;
            }
            last = id;
            any = true;
            if (!(flags & 1)) {
                live++;
                if (s != NULL && !stream_append(s, id, &e, at, (size_t)np, &e, mfrom, same)) {
                    ok = fail(r, "out of memory");
                }
            }
            at += nvals + 1;
        }
        if (ok && at != e.count) {
            ok = fail(r, "stream listpack has trailing elements");
        }
        rs_free(&lp);
    }
    free(e.p);
    free(e.n);
    free(e.num);
    free(mf.p);
    free(mf.n);
    free(mf.num);
    if (!ok) {
        return false;
    }
    uint64_t length, lms, lseq, fms = 0, fseq = 0, dms = 0, dseq = 0, added = 0, ngroups;
    if (!r_len(r, &length) || !r_len(r, &lms) || !r_len(r, &lseq)) {
        return false;
    }
    if (type == T_STREAM_LISTPACKS_2 &&
        (!r_len(r, &fms) || !r_len(r, &fseq) || !r_len(r, &dms) || !r_len(r, &dseq) ||
         !r_len(r, &added))) {
        return false;
    }
    if (length != live) {
        return fail(r, "stream length mismatch");
    }
    if (any && sid_cmp(last, (srv_sid){lms, lseq}) > 0) {
        return fail(r, "stream entry past the stream's last ID");
    }
    if (type != T_STREAM_LISTPACKS_2) {
        added = length;
    }
    if (s != NULL) {
        s->length = length;
        s->last_id = (srv_sid){lms, lseq};
        s->first_id = (srv_sid){fms, fseq};
        s->max_deleted = (srv_sid){dms, dseq};
        s->entries_added = added;
        if (type != T_STREAM_LISTPACKS_2 && s->nnodes > 0) {
            s->first_id = s->nodes[0]->ids[0];
        }
    }
    if (!r_len(r, &ngroups)) {
        return false;
    }
    for (uint64_t gi = 0; gi < ngroups; gi++) {
        rstr name;
        uint64_t gms, gseq, eread = UINT64_MAX, npel;
        if (!r_string(r, &name)) {
            return false;
        }
        srv_sgroup *g = NULL;
        if (s != NULL) {
            g = mw_calloc(1, sizeof *g);
            char *nm = g ? mw_malloc(name.n ? name.n : 1) : NULL;
            if (g == NULL || nm == NULL || s->ngroups == s->gcap) {
                size_t cap = s->gcap ? s->gcap * 2 : 4;
                srv_sgroup **ng = g && nm ? mw_realloc(s->groups, cap * sizeof *ng) : NULL;
                if (ng == NULL) {
                    mw_free(nm);
                    mw_free(g);
                    rs_free(&name);
                    return fail(r, "out of memory");
                }
                s->groups = ng;
                s->gcap = cap;
            }
            memcpy(nm, name.p, name.n);
            g->name = nm;
            g->nlen = name.n;
            if (s->ngroups > 0) {
                srv_sgroup *pg = s->groups[s->ngroups - 1];
                size_t m = pg->nlen < g->nlen ? pg->nlen : g->nlen;
                int c = memcmp(pg->name, g->name, m);
                if (c > 0 || (c == 0 && pg->nlen >= g->nlen)) {
                    srv_stream_free_group(g);
                    rs_free(&name);
                    return fail(r, "stream groups out of order");
                }
            }
            s->groups[s->ngroups++] = g;
        }
        rs_free(&name);
        if (!r_len(r, &gms) || !r_len(r, &gseq)) {
            return false;
        }
        if (type == T_STREAM_LISTPACKS_2 && !r_len(r, &eread)) {
            return false;
        }
        if (g != NULL) {
            g->last_id = (srv_sid){gms, gseq};
            g->entries_read = eread == UINT64_MAX ? -1 : (long long)eread;
        }
        if (!r_len(r, &npel)) {
            return false;
        }
        if (npel > (r->n - r->pos) / 25) {
            return fail(r, "stream PEL longer than the data");   // 16 + 8 + 1 bytes at least each
        }
        if (g != NULL && npel > 0) {
            g->pel.v = mw_calloc(npel, sizeof *g->pel.v);
            if (g->pel.v == NULL) {
                return fail(r, "out of memory");
            }
            g->pel.cap = npel;
        }
        for (uint64_t k = 0; k < npel; k++) {
            srv_sid id;
            uint64_t dt, dc;
            if (!r_stream_id(r, &id) || !r_le(r, 8, &dt) || !r_len(r, &dc)) {
                return false;
            }
            if (g != NULL) {
                if (k > 0 && sid_cmp(g->pel.v[k - 1]->id, id) >= 0) {
                    return fail(r, "stream PEL out of order");
                }
                srv_snack *a = mw_calloc(1, sizeof *a);
                if (a == NULL) {
                    return fail(r, "out of memory");
                }
                a->id = id;
                a->delivery_time = (int64_t)dt;
                a->delivery_count = dc;
                g->pel.v[g->pel.n++] = a;
            }
        }
        uint64_t ncons;
        if (!r_len(r, &ncons)) {
            return false;
        }
        if (ncons > (r->n - r->pos) / 10) {
            return fail(r, "stream consumers more than the data");  // 1 + 8 + 1 bytes at least each
        }
        if (g != NULL && ncons > 0) {
            g->cons = mw_calloc(ncons, sizeof *g->cons);
            if (g->cons == NULL) {
                return fail(r, "out of memory");
            }
            g->ccap = ncons;
        }
        for (uint64_t c = 0; c < ncons; c++) {
            rstr cname;
            uint64_t seen, cpel;
            if (!r_string(r, &cname)) {
                return false;
            }
            srv_sconsumer *sc = NULL;
            if (g != NULL) {
                sc = mw_calloc(1, sizeof *sc);
                char *nm = sc ? mw_malloc(cname.n ? cname.n : 1) : NULL;
                if (sc == NULL || nm == NULL) {
                    mw_free(sc);
                    rs_free(&cname);
                    return fail(r, "out of memory");
                }
                memcpy(nm, cname.p, cname.n);
                sc->name = nm;
                sc->nlen = cname.n;
                g->cons[g->ncons++] = sc;
            }
            rs_free(&cname);
            if (!r_le(r, 8, &seen) || !r_len(r, &cpel)) {
                return false;
            }
            if (cpel > (r->n - r->pos) / 16) {
                return fail(r, "consumer PEL longer than the data");
            }
            if (sc != NULL) {
                sc->seen_time = (int64_t)seen;
                if (cpel > 0) {
                    sc->pel.v = mw_calloc(cpel, sizeof *sc->pel.v);
                    if (sc->pel.v == NULL) {
                        return fail(r, "out of memory");
                    }
                    sc->pel.cap = cpel;
                }
            }
            for (uint64_t k = 0; k < cpel; k++) {
                srv_sid id;
                if (!r_stream_id(r, &id)) {
                    return false;
                }
                if (g == NULL) {
                    continue;
                }
                // Its entry in the group's PEL (sorted: binary search).
                size_t lo = 0, hi = g->pel.n;
                while (lo < hi) {
                    size_t mid = (lo + hi) / 2;
                    int cmp = sid_cmp(g->pel.v[mid]->id, id);
                    if (cmp == 0) {
                        lo = mid;
                        break;
                    }
                    if (cmp < 0) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if (lo >= g->pel.n || sid_cmp(g->pel.v[lo]->id, id) != 0 ||
                    g->pel.v[lo]->consumer != NULL) {
                    return fail(r, "stream consumer PEL entry not in its group's PEL");
                }
                g->pel.v[lo]->consumer = sc;
                sc->pel.v[sc->pel.n++] = g->pel.v[lo];
            }
        }
        if (g != NULL) {
            for (size_t k = 0; k < g->pel.n; k++) {
                if (g->pel.v[k]->consumer == NULL) {
                    return fail(r, "stream PEL entry without a consumer");
                }
            }
            // Consumers are kept sorted by name.
            for (size_t a = 1; a < g->ncons; a++) {
                for (size_t b = a; b > 0; b--) {
                    srv_sconsumer *x = g->cons[b - 1], *y = g->cons[b];
                    size_t m = x->nlen < y->nlen ? x->nlen : y->nlen;
                    int cmp = memcmp(x->name, y->name, m);
                    if (cmp == 0 && x->nlen == y->nlen) {
                        return fail(r, "duplicate stream consumer");
                    }
                    if (cmp < 0 || (cmp == 0 && x->nlen < y->nlen)) {
                        break;
                    }
                    g->cons[b - 1] = y;
                    g->cons[b] = x;
                }
            }
        }
    }
    return true;
}

static bool ref_register(rd *r, mw_object *o)
{
    if (r->nids == r->idcap) {
        size_t cap = r->idcap ? r->idcap * 2 : 16;
        mw_object **n = realloc(r->ids, cap * sizeof *n);
        if (n == NULL) {
            return fail(r, "out of memory");
        }
        r->ids = n;
        r->idcap = cap;
    }
    r->ids[r->nids++] = o;
    return true;
}

static mw_object *r_value(rd *r, int type);

static void drop(mw_object *o)
{
    if (o != NULL && o != DUMMY) {
        mw_decref(o);
    }
}


/* A value behind a REF tag (see the top of the file). */
static mw_object *r_ref_value(rd *r)
{
    unsigned tag;
    if (!r_byte(r, &tag)) {
        return NULL;
    }
    if (tag == 0) {
        return r_value(r, T_STRING);
    }
    if (tag == 2) {
        uint64_t id;
        if (!r_len(r, &id)) {
            return NULL;
        }
        if (id >= r->nids) {
            fail(r, "reference to an unknown value");
            return NULL;
        }
        mw_object *o = r->ids[id];
        if (o != DUMMY) {
            mw_incref(o);
        }
        return o;
    }
    unsigned type;
    if (tag != 1 || !r_byte(r, &type)) {
        fail(r, "invalid reference tag");
        return NULL;
    }
    mw_object *o = r_value(r, (int)type);
    // A hash of references numbered itself before its fields; any other
    // value holds none, so it is numbered once read, as the writer did.
    if (o != NULL && type != T_MWRT_HASH_REF && !ref_register(r, o)) {
        drop(o);
        return NULL;
    }
    return o;
}

/* A value of the given type (a new reference; DUMMY when only checking),
 * or NULL with r->err set. */
static mw_object *r_value(rd *r, int type)
{
    mw_object *o = NULL;
    sink s = {r, SK_LIST, NULL, NULL, 0, false, 0};
    bool ok = false;
    switch (type) {
    case T_STRING: {
        rstr str;
        if (!r_string(r, &str)) {
            return NULL;
        }
        if (!r->build) {
            rs_free(&str);
            return DUMMY;
        }
        o = mw_str_n(str.p, str.n);
        rs_free(&str);
        if (o == NULL) {
            mw_err_clear();
            fail(r, "out of memory");
        }
        return o;
    }
    case T_LIST:
    case T_LIST_ZIPLIST:
    case T_LIST_QUICKLIST:
    case T_LIST_QUICKLIST_2: {
        if (r->build && (o = (mw_object *)srv_list_new()) == NULL) {
            return out_of_memory(r);
        }
        s.kind = SK_LIST;
        s.o = r->build ? o : NULL;
        if (type == T_LIST_ZIPLIST) {
            ok = r_packed(r, &s, true);
            break;
        }
        uint64_t n;
        ok = r_len(r, &n);
        for (uint64_t i = 0; ok && i < n; i++) {
            if (type == T_LIST) {
                rstr str;
                ok = r_string(r, &str) && sink_put(&s, str.p, str.n);
                rs_free(&str);
            } else if (type == T_LIST_QUICKLIST) {
                ok = r_packed(r, &s, true);
            } else {
                uint64_t container;
                ok = r_len(r, &container);
                if (ok && container == 1) {
                    rstr str;
                    ok = r_string(r, &str) && sink_put(&s, str.p, str.n);
                    rs_free(&str);
                } else if (ok && container == 2) {
                    size_t before = s.count;
                    ok = r_packed(r, &s, false);
                    if (ok && s.count == before) {
                        ok = fail(r, "empty quicklist node");
                    }
                } else if (ok) {
                    ok = fail(r, "invalid quicklist node container");
                }
            }
        }
        break;
    }
    case T_SET:
    case T_SET_INTSET: {
        if (r->build && (o = (mw_object *)srv_set_new()) == NULL) {
            return out_of_memory(r);
        }
        s.kind = SK_SET;
        s.o = r->build ? o : NULL;
        if (type == T_SET_INTSET) {
            ok = r_intset(r, &s);
            break;
        }
        uint64_t n;
        ok = r_len(r, &n);
        for (uint64_t i = 0; ok && i < n; i++) {
            rstr str;
            ok = r_string(r, &str) && sink_put(&s, str.p, str.n);
            rs_free(&str);
        }
        break;
    }
    case T_ZSET:
    case T_ZSET_2:
    case T_ZSET_ZIPLIST:
    case T_ZSET_LISTPACK: {
        if (r->build && (o = (mw_object *)srv_zset_new()) == NULL) {
            return out_of_memory(r);
        }
        s.kind = SK_ZSET;
        s.o = r->build ? o : NULL;
        if (type == T_ZSET_ZIPLIST || type == T_ZSET_LISTPACK) {
            ok = r_packed(r, &s, type == T_ZSET_ZIPLIST) && (!s.have || fail(r, "odd element count"));
            break;
        }
        uint64_t n;
        ok = r_len(r, &n);
        for (uint64_t i = 0; ok && i < n; i++) {
            rstr str;
            double d = 0;
            ok = r_string(r, &str);
            if (!ok) {
                break;
            }
            if (type == T_ZSET_2) {
                uint64_t u;
                ok = r_le(r, 8, &u);
                memcpy(&d, &u, 8);
            } else {
                unsigned len;
                ok = r_byte(r, &len);
                if (ok && len == 253) {
                    d = NAN;
                } else if (ok && len == 254) {
                    d = INFINITY;
                } else if (ok && len == 255) {
                    d = -INFINITY;
                } else if (ok) {
                    const unsigned char *q;
                    ok = r_take(r, len, &q) &&
                         (parse_score((const char *)q, len, &d) || fail(r, "invalid sorted set score"));
                }
            }
            if (ok && isnan(d)) {
                ok = fail(r, "invalid sorted set score");
            }
            if (ok && s.o != NULL) {
                int a = srv_zset_add((srv_zset *)o, str.p, str.n, d);
                ok = a > 0 || fail(r, a == 0 ? "duplicate sorted set member" : "out of memory");
            }
            s.count++;
            rs_free(&str);
        }
        break;
    }
    case T_HASH:
    case T_HASH_ZIPLIST:
    case T_HASH_LISTPACK:
    case T_MWRT_HASH_REF: {
        if (r->build && (o = (mw_object *)srv_hash_new()) == NULL) {
            return out_of_memory(r);
        }
        s.kind = SK_HASH;
        s.o = r->build ? o : NULL;
        if (type == T_HASH_ZIPLIST || type == T_HASH_LISTPACK) {
            ok = r_packed(r, &s, type == T_HASH_ZIPLIST) && (!s.have || fail(r, "odd element count"));
            break;
        }
        if (type == T_MWRT_HASH_REF && !ref_register(r, r->build ? o : DUMMY)) {
            break;
        }
        uint64_t n;
        ok = r_len(r, &n);
        for (uint64_t i = 0; ok && i < n; i++) {
            rstr f;
            ok = r_string(r, &f);
            if (!ok) {
                break;
            }
            if (type == T_HASH) {
                rstr v;
                ok = r_string(r, &v) && sink_put(&s, f.p, f.n) && sink_put(&s, v.p, v.n);
                rs_free(&v);
            } else {
                // The field is copied: the nested value may be long.
                char *fc = malloc(f.n ? f.n : 1);
                if (fc == NULL) {
                    rs_free(&f);
                    ok = fail(r, "out of memory");
                    break;
                }
                memcpy(fc, f.p, f.n);
                size_t fn = f.n;
                mw_object *v = r_ref_value(r);
                ok = v != NULL;
                if (ok && o != NULL) {
                    ok = add_hash_field((srv_hash *)o, fc, fn, v) || fail(r, "duplicate hash field");
                }
                s.count++;
                drop(v);
                free(fc);
            }
            rs_free(&f);
        }
        break;
    }
    case T_STREAM_LISTPACKS:
    case T_STREAM_LISTPACKS_2: {
        if (r->build && (o = (mw_object *)srv_stream_new()) == NULL) {
            return out_of_memory(r);
        }
        ok = r_stream(r, type, (srv_stream *)o);
        s.count = 1;    // an empty stream is a stream
        break;
    }
    default:
        fail(r, type == T_MODULE || type == T_MODULE_2 ? "module values are not supported"
                                                       : "unknown value type");
        return NULL;
    }
    free(s.held);
    if (ok && s.count == 0) {
        ok = fail(r, "empty value");
    }
    if (!ok) {
        drop(o);
        return NULL;
    }
    if (!r->build) {
        return DUMMY;
    }
    return o;
}

/* A value read at the top of a payload or file entry. */
static mw_object *r_top_value(rd *r, int type)
{
    r->nids = 0;
    return r_value(r, type);
}

/* ======================================================================
 * DUMP and RESTORE
 * ====================================================================== */

/* DUMP key: the value's payload, or nil. */
void cmd_dump(ctx *x)
{
    srv_entry *e = srv_ks_find(x->argv[1], x->argl[1]);
    if (e == NULL) {
        srv_reply_null(x->out);
        return;
    }
    wbuf b = {0};
    if (!w_entry(&b, NULL, 0, e->v.obj)) {
        free(b.p);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    w_le(&b, RDB_VERSION, 2);
    uint64_t crc = b.oom ? 0 : srv_crc64(0, b.p, b.len);
    w_le(&b, crc, 8);
    if (b.oom) {
        free(b.p);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_reply_bulk(x->out, (const char *)b.p, b.len);
    free(b.p);
}

/* RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. */
void cmd_restore(ctx *x)
{
    bool replace = false, absttl = false;
    long long ttl, idle = -1, freq = -1;
    for (size_t i = 4; i < x->argc; i++) {
        if (arg_is(x, i, "REPLACE")) {
            replace = true;
        } else if (arg_is(x, i, "ABSTTL")) {
            absttl = true;
        } else if (arg_is(x, i, "IDLETIME") && i + 1 < x->argc && freq < 0) {
            if (!arg_ll(x, i + 1, &idle)) {
                return;
            }
            if (idle < 0) {
                srv_reply_error(x->out, "ERR Invalid IDLETIME value, must be >= 0");
                return;
            }
            i++;
        } else if (arg_is(x, i, "FREQ") && i + 1 < x->argc && idle < 0) {
            if (!arg_ll(x, i + 1, &freq)) {
                return;
            }
            if (freq < 0 || freq > 255) {
                srv_reply_error(x->out, "ERR Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            i++;
        } else {
            srv_reply_error(x->out, E_SYNTAX);
            return;
        }
    }
    if (!arg_ll(x, 2, &ttl)) {
        return;
    }
    if (ttl < 0) {
        srv_reply_error(x->out, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    if (!replace && srv_ks_find_notouch(x->argv[1], x->argl[1]) != NULL) {
        srv_reply_error(x->out, "BUSYKEY Target key name already exists.");
        return;
    }
    const unsigned char *p = (const unsigned char *)x->argv[3];
    size_t n = x->argl[3];
    if (n < 10 || le(p + n - 10, 2) > RDB_VERSION ||
        le(p + n - 8, 8) != srv_crc64(0, p, n - 8)) {
        srv_reply_error(x->out, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    rd r = {p, n - 10, 0, 0, true, NULL, 0, RDB_VERSION, NULL, 0, 0};
    unsigned type;
    mw_object *o = r_byte(&r, &type) ? r_top_value(&r, (int)type) : NULL;
    free(r.ids);
    if (o == NULL || r.pos != r.n) {
        drop(o);
        srv_reply_error(x->out, "ERR Bad data format");
        return;
    }
    int64_t when = -1;
    if (ttl > 0) {
        when = absttl ? ttl : srv_now_ms() + ttl;
    }
    if (replace) {
        srv_ks_del(x->argv[1], x->argl[1]);
    }
    if (when >= 0 && when <= srv_now_ms()) {
        // Already expired: the key is gone, as Redis deletes it at once.
        mw_decref(o);
        if (replace) {
            notify_key(x, SRV_NOTIFY_GENERIC, "del", 1);
        }
        srv_reply_status(x->out, "OK");
        return;
    }
    bool ok = srv_ks_set(x->argv[1], x->argl[1], o, false);
    mw_decref(o);
    if (!ok) {
        mw_err_clear();
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    srv_entry *e = srv_ks_find_notouch(x->argv[1], x->argl[1]);
    if (when >= 0) {
        srv_ks_set_expire(e, when);
    }
    if (idle >= 0 && e != NULL) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME_COARSE, &ts);
        e->atime = (uint32_t)((long long)ts.tv_sec > idle ? ts.tv_sec - idle : 0);
    }
    notify_key(x, SRV_NOTIFY_GENERIC, "restore", 1);
    srv_reply_status(x->out, "OK");
}

/* ======================================================================
 * Snapshot files: parts, SAVE, BGSAVE, save points, the stop
 * ====================================================================== */

/* One shard's keys, serialized by its owner: per database the bytes of
 * its entries and their counts. */
typedef struct part {
    wbuf *db;
    long long *keys, *expires;
    long long dirty;            /* writes_sum() when it was made */
} part;

static void part_free(part *p)
{
    if (p == NULL) {
        return;
    }
    for (int d = 0; p->db != NULL && d < srv.ndb; d++) {
        free(p->db[d].p);
    }
    free(p->db);
    free(p->keys);
    free(p->expires);
    free(p);
}

/* The calling owner's shard as a part, or NULL when out of memory.
 * Needs the keyspace of that shard. */
static part *part_make(int shard)
{
    part *p = calloc(1, sizeof *p);
    if (p == NULL || (p->db = calloc((size_t)srv.ndb, sizeof *p->db)) == NULL ||
        (p->keys = calloc((size_t)srv.ndb, sizeof *p->keys)) == NULL ||
        (p->expires = calloc((size_t)srv.ndb, sizeof *p->expires)) == NULL) {
        part_free(p);
        return NULL;
    }
    p->dirty = writes_sum();
    int64_t now = srv_now_ms();
    for (int d = 0; d < srv.ndb; d++) {
        srv_keyspace *k = srv_ks_of(shard, d);
        wbuf *b = &p->db[d];
        for (srv_entry *e = k->d.first; e != NULL; e = e->onext) {
            if (e->expire >= 0 && e->expire <= now) {
                continue;   // expired: it would not be loaded
            }
            if (e->expire >= 0) {
                w_byte(b, OP_EXPIRETIME_MS);
                w_le(b, (uint64_t)e->expire, 8);
                p->expires[d]++;
            }
            w_entry(b, e->key, e->klen, e->v.obj);
            p->keys[d]++;
        }
        if (b->oom) {
            part_free(p);
            return NULL;
        }
    }
    return p;
}

/* A file being written, and the CRC of what went into it. */
typedef struct wfile {
    FILE *f;
    uint64_t crc;
    bool err;
} wfile;

static void wf_put(wfile *w, const void *p, size_t n)
{
    if (!w->err && n > 0) {
        w->crc = srv_crc64(w->crc, p, n);
        w->err = fwrite(p, 1, n, w->f) != n;
    }
}

static void wf_buf(wfile *w, wbuf *b)
{
    if (b->oom) {
        w->err = true;
    }
    wf_put(w, b->p, b->len);
    b->len = 0;
}

static void aux(wbuf *b, const char *k, const char *v)
{
    w_byte(b, OP_AUX);
    w_string(b, k, strlen(k));
    w_string(b, v, strlen(v));
}

static pthread_mutex_t file_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(long long) temp_seq;

/* Write the parts (one per shard) as the snapshot: a temporary file in
 * dir, flushed to disk, then renamed over dbfilename.  false after
 * logging why.  Any thread; touches no value. */
static bool file_write(part **parts, int nparts, long long *nkeys)
{
    char path[PATH_MAX + 300], dir[PATH_MAX], tmp[PATH_MAX + 64];
    rdb_path(path, sizeof path, dir, sizeof dir);
    snprintf(tmp, sizeof tmp, "%s/temp-%d-%lld.rdb", dir, (int)getpid(),
             (long long)atomic_fetch_add(&temp_seq, 1));
    pthread_mutex_lock(&file_lock);
    wfile w = {fopen(tmp, "w"), 0, false};
    if (w.f == NULL) {
        srv_log("Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                tmp, dir, strerror(errno));
        pthread_mutex_unlock(&file_lock);
        return false;
    }
    wbuf b = {0};
    w_bytes(&b, "REDIS0010", 9);
    char num[32];
    aux(&b, "redis-ver", SRV_REDIS_VERSION);
    aux(&b, "redis-bits", sizeof(void *) == 8 ? "64" : "32");
    snprintf(num, sizeof num, "%lld", (long long)time(NULL));
    aux(&b, "ctime", num);
    snprintf(num, sizeof num, "%zu", (size_t)atomic_load(&srv.memory_used));
    aux(&b, "used-mem", num);
    aux(&b, "aof-base", "0");
    wf_buf(&w, &b);
    long long total = 0;
    for (int d = 0; d < srv.ndb; d++) {
        long long keys = 0, expires = 0;
        for (int i = 0; i < nparts; i++) {
            keys += parts[i]->keys[d];
            expires += parts[i]->expires[d];
        }
        if (keys == 0) {
            continue;
        }
        total += keys;
        w_byte(&b, OP_SELECTDB);
        w_len(&b, (uint64_t)d);
        w_byte(&b, OP_RESIZEDB);
        w_len(&b, (uint64_t)keys);
        w_len(&b, (uint64_t)expires);
        wf_buf(&w, &b);
        for (int i = 0; i < nparts; i++) {
            wf_put(&w, parts[i]->db[d].p, parts[i]->db[d].len);
        }
    }
    w_byte(&b, OP_EOF);
    wf_buf(&w, &b);
    uint64_t crc = atomic_load(&srv_rdb_checksum) ? w.crc : 0;
    w_le(&b, crc, 8);
    wf_buf(&w, &b);
    free(b.p);
    bool ok = !w.err && fflush(w.f) == 0 && fsync(fileno(w.f)) == 0;
    int e = errno;
    ok = fclose(w.f) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        srv_log("Write error saving DB on disk (%s): %s", path, strerror(e ? e : EIO));
        unlink(tmp);
    } else {
        int fd = open(dir, O_RDONLY | O_DIRECTORY);
        if (fd >= 0) {
            fsync(fd);  // the rename itself
            close(fd);
        }
    }
    pthread_mutex_unlock(&file_lock);
    if (nkeys != NULL) {
        *nkeys = total;
    }
    return ok;
}

/* A save succeeded: the changes counted until its parts were made are
 * saved. */
static void saved(part **parts, int nparts)
{
    long long dirty = LLONG_MAX;
    for (int i = 0; i < nparts; i++) {
        dirty = parts[i]->dirty < dirty ? parts[i]->dirty : dirty;
    }
    long long old = atomic_load(&saved_writes);
    while (dirty > old && !atomic_compare_exchange_weak(&saved_writes, &old, dirty)) {
    }
    atomic_store(&last_save_s, (long long)time(NULL));
    atomic_fetch_add(&rdb_saves, 1);
}

/* The shard the calling worker saves: its own (sharded), else the one
 * shared keyspace (worker 0 only saves it in the cron). */
static int my_shard(void)
{
    return srv.cfg.sharded ? srv_self->index : 0;
}

/* Parts of SAVE waiting for the other shards' (sharded): a queue per
 * shard; the part that completes a set writes the file. */
typedef struct pqueue {
    part **v;
    size_t n, cap;
} pqueue;

static pthread_mutex_t save_lock = PTHREAD_MUTEX_INITIALIZER;
static pqueue *save_q;

/* Add p as shard's part; when every shard has one, take one of each into
 * set and return true. */
static bool deposit(pqueue **qs, int shard, part *p, part **set)
{
    if (*qs == NULL) {
        *qs = calloc((size_t)srv.nshards, sizeof **qs);
        if (*qs == NULL) {
            return false;
        }
    }
    pqueue *q = &(*qs)[shard];
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;
        part **v = realloc(q->v, cap * sizeof *v);
        if (v == NULL) {
            return false;
        }
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = p;
    for (int i = 0; i < srv.nshards; i++) {
        if ((*qs)[i].n == 0) {
            return false;
        }
    }
    for (int i = 0; i < srv.nshards; i++) {
        pqueue *qi = &(*qs)[i];
        set[i] = qi->v[0];
        memmove(qi->v, qi->v + 1, (qi->n - 1) * sizeof *qi->v);
        qi->n--;
    }
    return true;
}

/* SAVE: every shard's owner serializes its keys (the command is sent to
 * every shard); the one that completes the set writes the file before
 * answering, so once the reply is in, the file is on disk. */
void cmd_save(ctx *x)
{
    if (atomic_load(&bgsave_running)) {
        srv_reply_error(x->out, "ERR Background save already in progress");
        return;
    }
    part *p = part_make(my_shard());
    if (p == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    part **set = calloc((size_t)srv.nshards, sizeof *set);
    if (set == NULL) {
        part_free(p);
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    pthread_mutex_lock(&save_lock);
    bool full = deposit(&save_q, my_shard(), p, set);
    pthread_mutex_unlock(&save_lock);
    bool ok = true;
    if (full) {
        long long keys = 0;
        ok = file_write(set, srv.nshards, &keys);
        if (ok) {
            saved(set, srv.nshards);
            srv_log("DB saved on disk (%lld keys)", keys);
        }
        for (int i = 0; i < srv.nshards; i++) {
            part_free(set[i]);
        }
    }
    free(set);
    if (ok) {
        srv_reply_status(x->out, "OK");
    } else {
        srv_reply_error(x->out, "ERR");
    }
}

/* Background saves: a generation number each owner's cron compares with
 * the last one it saved for; the parts of the current one. */
static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(long long) bg_gen;
static long long bg_done_gen[1024];     /* per worker: its own only */
static part **bg_parts;
static int bg_nparts;
static _Atomic(bool) bg_scheduled;

/* Start a background save: false if one is running. */
static bool bg_request(void)
{
    pthread_mutex_lock(&bg_lock);
    bool started = !atomic_load(&bgsave_running);
    if (started) {
        atomic_store(&bgsave_running, true);
        atomic_store(&bgsave_started_ms, srv_now_ms());
        atomic_store(&last_bgsave_try_s, (long long)time(NULL));
        bg_nparts = 0;
        atomic_fetch_add(&bg_gen, 1);
    }
    pthread_mutex_unlock(&bg_lock);
    return started;
}

static void bg_finish(bool ok, part **parts, int nparts, long long keys)
{
    if (ok) {
        saved(parts, nparts);
        srv_log("Background saving terminated with success (%lld keys)", keys);
    } else {
        srv_log("Background saving error");
    }
    for (int i = 0; i < nparts; i++) {
        part_free(parts[i]);
    }
    free(parts);
    atomic_store(&last_bgsave_ok, ok);
    atomic_store(&last_bgsave_secs, (srv_now_ms() - atomic_load(&bgsave_started_ms) + 500) / 1000);
    atomic_store(&bgsave_running, false);
}

static void *bg_writer(void *arg)
{
    part **parts = arg;
    long long keys = 0;
    bool ok = file_write(parts, srv.nshards, &keys);
    bg_finish(ok, parts, srv.nshards, keys);
    return NULL;
}

/* BGSAVE [SCHEDULE]. */
void cmd_bgsave(ctx *x)
{
    bool schedule = false;
    if (x->argc > 2 || (x->argc == 2 && !(schedule = arg_is(x, 1, "SCHEDULE")))) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    if (bg_request()) {
        srv_reply_status(x->out, "Background saving started");
    } else if (schedule) {
        atomic_store(&bg_scheduled, true);
        srv_reply_status(x->out, "Background saving scheduled");
    } else {
        srv_reply_error(x->out, "ERR Background save already in progress");
    }
}

void srv_rdb_cron(int index)
{
    if (index >= (int)(sizeof bg_done_gen / sizeof bg_done_gen[0]) || (!srv.cfg.sharded && index != 0)) {
        return;
    }
    long long gen = atomic_load(&bg_gen);
    if (gen != bg_done_gen[index]) {
        bg_done_gen[index] = gen;
        part *p = part_make(srv.cfg.sharded ? index : 0);
        pthread_mutex_lock(&bg_lock);
        part **all = NULL;
        if (bg_parts == NULL) {
            bg_parts = calloc((size_t)srv.nshards, sizeof *bg_parts);
        }
        if (bg_parts != NULL && p != NULL) {
            bg_parts[bg_nparts++] = p;
            p = NULL;
            if (bg_nparts == srv.nshards) {
                all = bg_parts;
                bg_parts = NULL;
                bg_nparts = 0;
            }
        }
        pthread_mutex_unlock(&bg_lock);
        if (p != NULL) {
            // Out of memory: this save fails (the others' parts are freed
            // when the next one starts over).
            part_free(p);
            pthread_mutex_lock(&bg_lock);
            for (int i = 0; bg_parts != NULL && i < bg_nparts; i++) {
                part_free(bg_parts[i]);
            }
            bg_nparts = 0;
            pthread_mutex_unlock(&bg_lock);
            bg_finish(false, NULL, 0, 0);
        } else if (all != NULL) {
            pthread_t t;
            pthread_attr_t a;
            pthread_attr_init(&a);
            pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
            if (pthread_create(&t, &a, bg_writer, all) != 0) {
                srv_log("Can't save in background: cannot start a thread");
                bg_finish(false, all, srv.nshards, 0);
            }
            pthread_attr_destroy(&a);
        }
    }
    if (index != 0 || atomic_load(&bgsave_running)) {
        return;
    }
    if (atomic_exchange(&bg_scheduled, false)) {
        bg_request();
        return;
    }
    // The save points: a background save once "secs" passed since the
    // last save with at least "changes" changes; after a failure, not
    // before 5 seconds (Redis's retry delay).
    long long now = (long long)time(NULL), dirty = srv_rdb_changes();
    long long since = now - srv_rdb_lastsave();
    if (!atomic_load(&last_bgsave_ok) && now - atomic_load(&last_bgsave_try_s) < 5) {
        return;
    }
    bool due = false;
    pthread_mutex_lock(&cfg_lock);
    for (int i = 0; i < nsave_points && !due; i++) {
        due = dirty >= save_points[i].changes && since >= save_points[i].secs && dirty > 0;
    }
    pthread_mutex_unlock(&cfg_lock);
    if (due) {
        srv_log("%lld changes in %lld seconds. Saving...", dirty, since);
        bg_request();
    }
}

/* The save at shutdown: each owner adds its part as it stops; the last
 * one writes the file. */
static pqueue *stop_q;

void srv_rdb_stop(int index)
{
    int want = atomic_load(&stop_save);
    if (want < 0) {
        want = srv_rdb_has_save_points();  // SIGTERM saves when save points are set, as Redis
    }
    if (!want || (!srv.cfg.sharded && index != 0)) {
        return;
    }
    for (int i = 0; i < 100 && atomic_load(&bgsave_running); i++) {
        usleep(50000);  // a background save in flight finishes first
    }
    // Shared under the free lock, other workers may still finish requests.
    bool locked = !srv.cfg.sharded && srv.cfg.lock == MW_LOCK_FREE;
    if (locked) {
        pthread_mutex_lock(&srv.ks_lock);
    }
    part *p = part_make(srv.cfg.sharded ? index : 0);
    if (locked) {
        pthread_mutex_unlock(&srv.ks_lock);
    }
    if (p == NULL) {
        srv_log("Error trying to save the DB at shutdown: out of memory");
        return;
    }
    part **set = calloc((size_t)srv.nshards, sizeof *set);
    pthread_mutex_lock(&save_lock);
    bool full = set != NULL && deposit(&stop_q, srv.cfg.sharded ? index : 0, p, set);
    pthread_mutex_unlock(&save_lock);
    if (full) {
        long long keys = 0;
        srv_log("Saving the final RDB snapshot before exiting.");
        if (file_write(set, srv.nshards, &keys)) {
            saved(set, srv.nshards);
            srv_log("DB saved on disk (%lld keys)", keys);
        }
        for (int i = 0; i < srv.nshards; i++) {
            part_free(set[i]);
        }
    }
    free(set);
}

/* ======================================================================
 * Loading at start
 * ====================================================================== */

static unsigned char *load_buf;
static size_t load_n;
static int load_ver;

/* Walk the file: check only (build false), or make the keys that worker
 * `index` owns.  false with r->err set. */
static bool load_walk(rd *r, int index, long long *keys)
{
    int db = 0;
    int64_t expire = -1;
    long long idle = -1;
    int64_t now = srv_now_ms();
    r->pos = 9;
    for (;;) {
        unsigned op;
        if (!r_byte(r, &op)) {
            return false;
        }
        if (op == OP_EOF) {
            break;
        }
        uint64_t v, v2;
        switch (op) {
        case OP_SELECTDB:
            if (!r_len(r, &v)) {
                return false;
            }
            if (v >= (uint64_t)srv.ndb) {
                return fail(r, "database number out of range (raise databases)");
            }
            db = (int)v;
            continue;
        case OP_RESIZEDB:
            if (!r_len(r, &v) || !r_len(r, &v2)) {
                return false;
            }
            continue;
        case OP_EXPIRETIME_MS:
            if (!r_le(r, 8, &v)) {
                return false;
            }
            expire = (int64_t)v;
            continue;
        case OP_EXPIRETIME:
            if (!r_le(r, 4, &v)) {
                return false;
            }
            expire = (int64_t)v * 1000;
            continue;
        case OP_IDLE:
            if (!r_len(r, &v)) {
                return false;
            }
            idle = (long long)v;
            continue;
        case OP_FREQ:
            if (!r_byte(r, (unsigned *)&op)) {
                return false;
            }
            continue;
        case OP_AUX: {
            rstr k, val;
            if (!r_string(r, &k)) {
                return false;
            }
            rs_free(&k);
            if (!r_string(r, &val)) {
                return false;
            }
            rs_free(&val);
            continue;
        }
        case OP_FUNCTION2: {
            rstr f;
            if (!r_string(r, &f)) {
                return false;
            }
            rs_free(&f);
            if (index == 0 && r->build) {
                srv_log("RDB file holds a function library: skipped (no FUNCTION support)");
            }
            continue;
        }
        case OP_FUNCTION:
        case OP_MODULE_AUX:
            return fail(r, op == OP_FUNCTION ? "pre-7.0 function data is not supported"
                                             : "module data is not supported");
        default:
            break;
        }
        // A key: type, name, value.
        rstr key;
        if (!r_string(r, &key)) {
            return false;
        }
        char kbuf[64];
        char *k = key.n <= sizeof kbuf ? kbuf : malloc(key.n);
        if (k == NULL) {
            rs_free(&key);
            return fail(r, "out of memory");
        }
        memcpy(k, key.p, key.n);
        size_t kn = key.n;
        rs_free(&key);
        bool mine = r->build &&
                    (srv.cfg.sharded ? srv_slot_owner[srv_key_slot(k, kn)] == index : index == 0);
        bool was_build = r->build;
        r->build = mine;
        mw_object *o = r_top_value(r, (int)op);
        r->build = was_build;
        if (o == NULL) {
            if (k != kbuf) {
                free(k);
            }
            return false;
        }
        if (mine) {
            srv_ks_use(db);
            if (expire >= 0 && expire <= now) {
                atomic_fetch_add(&load_expired, 1);
            } else if (srv_ks_find_notouch(k, kn) != NULL) {
                mw_decref(o);
                if (k != kbuf) {
                    free(k);
                }
                srv_ks_use(0);
                return fail(r, "duplicate key");
            } else if (!srv_ks_set(k, kn, o, false)) {
                mw_err_clear();
                mw_decref(o);
                if (k != kbuf) {
                    free(k);
                }
                srv_ks_use(0);
                return fail(r, "out of memory");
            } else {
                srv_entry *e = srv_ks_find_notouch(k, kn);
                if (expire >= 0) {
                    srv_ks_set_expire(e, expire);
                }
                if (idle >= 0) {
                    struct timespec ts;
                    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
                    e->atime = (uint32_t)(ts.tv_sec > idle ? ts.tv_sec - idle : 0);
                }
                atomic_fetch_add(&load_loaded, 1);
            }
            mw_decref(o);
            srv_ks_use(0);
        }
        if (k != kbuf) {
            free(k);
        }
        (*keys)++;
        expire = -1;
        idle = -1;
    }
    if (load_ver >= 5) {
        size_t at = r->pos;
        uint64_t want;
        if (!r_le(r, 8, &want)) {
            return false;
        }
        if (!r->build && want != 0 && atomic_load(&srv_rdb_checksum) &&
            want != srv_crc64(0, r->p, at)) {
            r->pos = at;
            return fail(r, "wrong checksum");
        }
    }
    return true;
}

bool srv_rdb_load_check(void)
{
    char path[PATH_MAX + 300];
    rdb_path(path, sizeof path, NULL, 0);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT) {
            return true;
        }
        fprintf(stderr, "mwrt-server: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || (load_buf = malloc((size_t)st.st_size + 1)) == NULL ||
        fread(load_buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, "mwrt-server: cannot read %s\n", path);
        fclose(f);
        free(load_buf);
        load_buf = NULL;
        return false;
    }
    fclose(f);
    load_n = (size_t)st.st_size;
    if (load_n < 9 || memcmp(load_buf, "REDIS", 5) != 0 ||
        (load_ver = atoi((char[5]){(char)load_buf[5], (char)load_buf[6], (char)load_buf[7],
                                   (char)load_buf[8], 0})) < 1 || load_ver > RDB_VERSION) {
        fprintf(stderr, "mwrt-server: %s is not an RDB file of version 1 to %d; refusing to start\n",
                path, RDB_VERSION);
        free(load_buf);
        load_buf = NULL;
        return false;
    }
    rd r = {load_buf, load_n, 0, 0, false, NULL, 0, load_ver, NULL, 0, 0};
    long long keys = 0;
    bool ok = load_walk(&r, -1, &keys);
    free(r.ids);
    if (!ok) {
        fprintf(stderr, "mwrt-server: %s: bad RDB file at offset %zu of %zu: %s; "
                        "refusing to start (nothing was loaded)\n",
                path, r.err_at, load_n, r.err ? r.err : "invalid data");
        free(load_buf);
        load_buf = NULL;
        return false;
    }
    srv_log("RDB file %s checked: %lld keys, version %d", path, keys, load_ver);
    return true;
}

bool srv_rdb_load_worker(int index)
{
    if (load_buf == NULL || (!srv.cfg.sharded && index != 0)) {
        return true;
    }
    bool locked = !srv.cfg.sharded && srv.cfg.lock == MW_LOCK_FREE;
    if (locked) {
        pthread_mutex_lock(&srv.ks_lock);
    }
    rd r = {load_buf, load_n, 0, 0, true, NULL, 0, load_ver, NULL, 0, 0};
    long long keys = 0;
    bool ok = load_walk(&r, index, &keys);
    free(r.ids);
    srv_ks_use(0);
    if (srv.cfg.sharded) {
        srv_ks_publish();
    }
    if (locked) {
        pthread_mutex_unlock(&srv.ks_lock);
    }
    if (!ok) {
        srv_log("worker %d: loading the RDB file failed at offset %zu: %s", index, r.err_at,
                r.err ? r.err : "invalid data");
    }
    return ok;
}

void srv_rdb_load_done(void)
{
    if (load_buf != NULL) {
        srv_log("DB loaded from disk: %lld keys (%lld already expired)",
                (long long)atomic_load(&load_loaded), (long long)atomic_load(&load_expired));
        atomic_store(&last_save_s, (long long)time(NULL));
    }
    free(load_buf);
    load_buf = NULL;
}

/* ======================================================================
 * INFO persistence, LASTSAVE
 * ====================================================================== */

void srv_rdb_info(srv_buf *b)
{
    char line[256];
    bool running = atomic_load(&bgsave_running);
    long long cur = running ? (srv_now_ms() - atomic_load(&bgsave_started_ms)) / 1000 : -1;
#define LINE(...) \
    do { \
        int n_ = snprintf(line, sizeof line, __VA_ARGS__); \
        srv_buf_append(b, line, (size_t)n_); \
    } while (0)
    LINE("loading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
         "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
         "current_save_keys_total:0\r\n");
    LINE("rdb_changes_since_last_save:%lld\r\n", srv_rdb_changes());
    LINE("rdb_bgsave_in_progress:%d\r\n", running ? 1 : 0);
    LINE("rdb_last_save_time:%lld\r\n", srv_rdb_lastsave());
    LINE("rdb_last_bgsave_status:%s\r\n", atomic_load(&last_bgsave_ok) ? "ok" : "err");
    LINE("rdb_last_bgsave_time_sec:%lld\r\n", (long long)atomic_load(&last_bgsave_secs));
    LINE("rdb_current_bgsave_time_sec:%lld\r\n", cur);
    LINE("rdb_saves:%lld\r\n", (long long)atomic_load(&rdb_saves));
    LINE("rdb_last_cow_size:0\r\n");
    LINE("rdb_last_load_keys_expired:%lld\r\n", (long long)atomic_load(&load_expired));
    LINE("rdb_last_load_keys_loaded:%lld\r\n", (long long)atomic_load(&load_loaded));
#undef LINE
}
