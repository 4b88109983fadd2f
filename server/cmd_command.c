/*
 * server/cmd_command.c - COMMAND (COUNT, INFO, LIST, GETKEYS,
 * GETKEYSANDFLAGS, DOCS, HELP) and the small server queries TIME,
 * LASTSAVE and DEBUG.
 *
 * Technique.  Everything COMMAND says is read from the command table in
 * commands.c (cmd_table, and cmd_subtable for the subcommands of CONFIG,
 * CLIENT, OBJECT, MEMORY, COMMAND and SLOWLOG), which is the only place a
 * command is declared: its name, arity, flags (F_*), declared ACL
 * categories (C_*) and key spec.  The reply has Redis 7.0's shape: name,
 * arity, flags, first key, last key, step, ACL categories, tips (none),
 * key specs, subcommands.  ACL categories add to the declared ones those
 * Redis derives from the flags (@read, @write, @fast or @slow, @admin and
 * @dangerous, @pubsub, @blocking), printed in Redis's category order.
 *
 * Keys.  A command's keys are argv[first..last] every step-th, from its
 * key spec; a command flagged F_MOVABLE has its keys found by parsing its
 * arguments (cmd_getkeys: a count of keys, SORT's and GEORADIUS's STORE,
 * STREAMS).  For those commands COMMAND reports first/last/step as Redis's
 * legacy triple: the fixed leading key if there is one, else 0 0 0.  Key-spec
 * flags are Redis's, declared per key spec in the table (keyflags); the
 * key specs COMMAND INFO shows are index/range specs built from the
 * triple, one per flag group, which are Redis's own except for commands
 * that count their keys (docs/server.md lists this as a difference).
 *
 * COMMAND DOCS answers every command with an empty document: clients that
 * read hints from it (redis-cli) find none and carry on.
 */
#include "cmd.h"
#include "rdb.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ======================================================================
 * Flags and categories
 * ====================================================================== */

static const struct {
    unsigned bit;
    const char *name;
} flag_names[] = {
    {F_WRITE, "write"},        {F_READONLY, "readonly"},   {F_DENYOOM, "denyoom"},
    {F_ADMIN, "admin"},        {F_PUBSUB, "pubsub"},       {F_NOSCRIPT, "noscript"},
    {F_BLOCKING, "blocking"},  {F_LOADING, "loading"},     {F_STALE, "stale"},
    {F_SKIP_MONITOR, "skip_monitor"}, {F_SKIP_SLOWLOG, "skip_slowlog"},
    {F_FAST, "fast"},          {F_NOAUTH, "no_auth"},      {F_MAY_REPLICATE, "may_replicate"},
    {F_NO_MANDATORY_KEYS, "no_mandatory_keys"}, {F_NO_MULTI, "no_multi"},
    {F_MOVABLE, "movablekeys"}, {F_ALLOW_BUSY, "allow_busy"},
};

/* Redis's category order; read, write, fast and slow come from flags. */
enum { CAT_READ = 1 << 20, CAT_WRITE = 1 << 21, CAT_FAST = 1 << 22, CAT_SLOW = 1 << 23 };
static const struct {
    unsigned bit;
    const char *name;
} cat_names[] = {
    {C_KEYSPACE, "keyspace"}, {CAT_READ, "read"},       {CAT_WRITE, "write"},
    {C_SET, "set"},           {C_SORTEDSET, "sortedset"}, {C_LIST, "list"},
    {C_HASH, "hash"},         {C_STRING, "string"},     {C_BITMAP, "bitmap"},
    {C_HYPERLOGLOG, "hyperloglog"}, {C_GEO, "geo"},     {C_STREAM, "stream"},
    {C_PUBSUB, "pubsub"},     {C_ADMIN, "admin"},       {CAT_FAST, "fast"},
    {CAT_SLOW, "slow"},       {C_BLOCKING, "blocking"}, {C_DANGEROUS, "dangerous"},
    {C_CONNECTION, "connection"}, {C_TRANSACTION, "transaction"},
    {C_SCRIPTING, "scripting"},
};
_Static_assert(C_BLOCKING < CAT_READ, "derived categories above the declared ones");

/* Every category of c: declared plus derived from its flags, as Redis. */
static unsigned cmd_acl_categories(const srv_cmd *c)
{
    unsigned cats = c->cats;
    if (c->flags & F_WRITE) {
        cats |= CAT_WRITE;
    }
    if ((c->flags & F_READONLY) && !(cats & C_SCRIPTING)) {
        cats |= CAT_READ;
    }
    if (c->flags & F_ADMIN) {
        cats |= C_ADMIN | C_DANGEROUS;
    }
    if (c->flags & F_PUBSUB) {
        cats |= C_PUBSUB;
    }
    if (c->flags & F_BLOCKING) {
        cats |= C_BLOCKING;
    }
    cats |= (c->flags & F_FAST) ? CAT_FAST : CAT_SLOW;
    return cats;
}

/* The subcommands of parent (a run of cmd_subtable), count in *n. */
static const srv_cmd *subcommands(const srv_cmd *parent, size_t *n)
{
    size_t pl = strlen(parent->name);
    const srv_cmd *first = NULL;
    *n = 0;
    for (size_t i = 0; i < cmd_subcount(); i++) {
        const char *s = cmd_subtable[i].name;
        if (strncmp(s, parent->name, pl) == 0 && s[pl] == '|') {
            if (first == NULL) {
                first = &cmd_subtable[i];
            }
            (*n)++;
        }
    }
    return first;
}

/* A name, "cmd" or "cmd|sub", in any case; NULL if unknown. */
static const srv_cmd *find_any(const char *p, size_t n)
{
    const char *bar = memchr(p, '|', n);
    if (bar == NULL) {
        return cmd_find(p, n);
    }
    for (size_t i = 0; i < cmd_subcount(); i++) {
        const char *s = cmd_subtable[i].name;
        if (strlen(s) == n && strncasecmp(s, p, n) == 0) {
            return &cmd_subtable[i];
        }
    }
    return NULL;
}

/* ======================================================================
 * COMMAND INFO
 * ====================================================================== */

static void legacy_range(const srv_cmd *c, int *first, int *last, int *step)
{
    size_t nsub;
    subcommands(c, &nsub);
    *first = c->keys.first;
    *last = c->keys.last;
    *step = c->keys.step;
    if (nsub > 0 || ((c->flags & F_MOVABLE) && c->keys.first != 1)) {
        *first = *last = *step = 0;
    }
    if ((c->flags & F_MOVABLE) && *first == 1) {
        *last = 1;     // the fixed leading key; the rest are found by parsing
        *step = 1;
    }
}

/* Reply key-spec flags group g of c (see srv_cmd.keyflags) as an array;
 * variable_flags (SET's: OW without GET) is resolved when argv is given. */
static void reply_keyflags(srv_buf *o, const srv_cmd *c, size_t g, bool resolve, bool set_get)
{
    const char *p = c->keyflags;
    if (p == NULL) {
        p = (c->flags & F_WRITE) ? "RW update" : "RO access";
        g = 0;
    }
    for (size_t k = 0; k < g && strchr(p, ';') != NULL; k++) {
        p = strchr(p, ';') + 1;
    }
    const char *end = strchr(p, ';');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (resolve && n >= 14 && memcmp(p + n - 14, "variable_flags", 14) == 0) {
        p = set_get ? "RW access update" : "OW update";
        n = strlen(p);
    }
    long long words = 0;
    for (size_t i = 0; i < n; i++) {
        words += (i == 0 || p[i - 1] == ' ') && p[i] != ' ';
    }
    srv_reply_set(o, words);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p[j] != ' ') {
            j++;
        }
        char w[32];
        snprintf(w, sizeof w, "%.*s", (int)(j - i), p + i);
        srv_reply_status(o, w);
        i = j + 1;
    }
}

static void reply_spec(srv_buf *o, const srv_cmd *c, size_t g, int index, int lastkey,
                       int step)
{
    srv_reply_map(o, 3);
    srv_reply_bulk(o, "flags", 5);
    reply_keyflags(o, c, g, false, false);
    srv_reply_bulk(o, "begin_search", 12);
    srv_reply_map(o, 2);
    srv_reply_bulk(o, "type", 4);
    srv_reply_bulk(o, "index", 5);
    srv_reply_bulk(o, "spec", 4);
    srv_reply_map(o, 1);
    srv_reply_bulk(o, "index", 5);
    srv_reply_int(o, index);
    srv_reply_bulk(o, "find_keys", 9);
    srv_reply_map(o, 2);
    srv_reply_bulk(o, "type", 4);
    srv_reply_bulk(o, "range", 5);
    srv_reply_bulk(o, "spec", 4);
    srv_reply_map(o, 3);
    srv_reply_bulk(o, "lastkey", 7);
    srv_reply_int(o, lastkey);
    srv_reply_bulk(o, "keystep", 7);
    srv_reply_int(o, step);
    srv_reply_bulk(o, "limit", 5);
    srv_reply_int(o, 0);
}

static bool name_is(const srv_cmd *c, const char *a, const char *b);

/* Key specs from first/last/step: with several flag groups, one spec per
 * leading key and the last spec for the rest (RENAME, LMOVE, BITOP...);
 * a movable command shows its fixed leading key only. */
static void reply_keyspecs(srv_buf *o, const srv_cmd *c)
{
    if (name_is(c, "xread", "xreadgroup")) {
        // Redis's keyword spec: the keys start after STREAMS (searched from
        // argument 1, or 4 past GROUP g c) and are the first half of the rest.
        srv_reply_array(o, 1);
        srv_reply_map(o, 3);
        srv_reply_bulk(o, "flags", 5);
        reply_keyflags(o, c, 0, false, false);
        srv_reply_bulk(o, "begin_search", 12);
        srv_reply_map(o, 2);
        srv_reply_bulk(o, "type", 4);
        srv_reply_bulk(o, "keyword", 7);
        srv_reply_bulk(o, "spec", 4);
        srv_reply_map(o, 2);
        srv_reply_bulk(o, "keyword", 7);
        srv_reply_bulk(o, "STREAMS", 7);
        srv_reply_bulk(o, "startfrom", 9);
        srv_reply_int(o, strcmp(c->name, "xread") == 0 ? 1 : 4);
        srv_reply_bulk(o, "find_keys", 9);
        srv_reply_map(o, 2);
        srv_reply_bulk(o, "type", 4);
        srv_reply_bulk(o, "range", 5);
        srv_reply_bulk(o, "spec", 4);
        srv_reply_map(o, 3);
        srv_reply_bulk(o, "lastkey", 7);
        srv_reply_int(o, -1);
        srv_reply_bulk(o, "keystep", 7);
        srv_reply_int(o, 1);
        srv_reply_bulk(o, "limit", 5);
        srv_reply_int(o, 2);
        return;
    }
    int first, last, step;
    legacy_range(c, &first, &last, &step);
    if (first <= 0) {
        srv_reply_array(o, 0);
        return;
    }
    int groups = 1;
    for (const char *p = c->keyflags; p != NULL && (p = strchr(p, ';')) != NULL; p++) {
        groups++;
    }
    if (c->flags & F_MOVABLE) {
        groups = 1;
    }
    srv_reply_array(o, groups);
    for (int g = 0; g < groups - 1; g++) {
        reply_spec(o, c, (size_t)g, first + g * step, 0, step);
    }
    int at = first + (groups - 1) * step;
    reply_spec(o, c, (size_t)groups - 1, at, last < 0 ? last : last - at, step);
}

static void reply_info(srv_buf *o, const srv_cmd *c)
{
    size_t nsub;
    const srv_cmd *sub = c->fn != NULL ? subcommands(c, &nsub) : (nsub = 0, NULL);
    srv_reply_array(o, 10);
    srv_reply_bulk(o, c->name, strlen(c->name));
    srv_reply_int(o, c->arity);
    long long nf = 0;
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        nf += (c->flags & flag_names[i].bit) != 0;
    }
    srv_reply_set(o, nf);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (c->flags & flag_names[i].bit) {
            srv_reply_status(o, flag_names[i].name);
        }
    }
    int first, last, step;
    legacy_range(c, &first, &last, &step);
    srv_reply_int(o, first);
    srv_reply_int(o, last);
    srv_reply_int(o, step);
    unsigned cats = cmd_acl_categories(c);
    long long nc = 0;
    for (size_t i = 0; i < sizeof cat_names / sizeof cat_names[0]; i++) {
        nc += (cats & cat_names[i].bit) != 0;
    }
    srv_reply_set(o, nc);
    for (size_t i = 0; i < sizeof cat_names / sizeof cat_names[0]; i++) {
        if (cats & cat_names[i].bit) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "@%s", cat_names[i].name);
            srv_reply_status(o, tmp);
        }
    }
    srv_reply_array(o, 0);      // tips
    reply_keyspecs(o, c);
    srv_reply_array(o, (long long)nsub);
    for (size_t i = 0; i < nsub; i++) {
        reply_info(o, &sub[i]);
    }
}

/* ======================================================================
 * Keys of a request
 * ====================================================================== */

/* Keys counted by argv[at], then listed from at + 1: false if the count
 * is not a number or more than there are arguments. */
static bool numkeys_at(size_t argc, const char **argv, const size_t *argl, size_t at,
                       size_t *idx, size_t *n)
{
    long long k;
    if (at >= argc || !srv_str2ll(argv[at], argl[at], &k) || k < 0 ||
        (size_t)k > argc - at - 1) {
        return false;
    }
    for (long long i = 0; i < k; i++) {
        idx[(*n)++] = at + 1 + (size_t)i;
    }
    return true;
}

static bool name_is(const srv_cmd *c, const char *a, const char *b)
{
    return strcmp(c->name, a) == 0 || (b != NULL && strcmp(c->name, b) == 0);
}

bool cmd_movable_keys(const srv_cmd *c, size_t argc, const char **argv, const size_t *argl,
                      size_t *idx, size_t *n)
{
    const char *name = c->name;
    if (name_is(c, "sort", "sort_ro")) {
        idx[(*n)++] = 1;
        for (size_t j = 2; j < argc; j++) {
            size_t l = argl[j];
            if (l == 5 && strncasecmp(argv[j], "limit", 5) == 0) {
                j += 2;
            } else if ((l == 2 && strncasecmp(argv[j], "by", 2) == 0) ||
                       (l == 3 && strncasecmp(argv[j], "get", 3) == 0)) {
                j++;
            } else if (l == 5 && strncasecmp(argv[j], "store", 5) == 0 && j + 1 < argc &&
                       strcmp(name, "sort") == 0) {
                idx[(*n)++] = ++j;   // the last STORE wins, as the command reads it
                if (*n > 2) {
                    idx[1] = idx[2];
                    *n = 2;
                }
            }
        }
        return true;
    }
    if (name_is(c, "georadius", "georadiusbymember")) {
        // The source, then as Redis's two keyword key specs find them: the
        // key after the first STORE, then the one after the first
        // STOREDIST, looked for after the fixed arguments.
        idx[(*n)++] = 1;
        size_t from = strcmp(name, "georadius") == 0 ? 6 : 5;
        static const char *const words[2] = {"store", "storedist"};
        for (int w = 0; w < 2; w++) {
            size_t wl = strlen(words[w]);
            for (size_t j = from; j < argc; j++) {
                if (argl[j] == wl && strncasecmp(argv[j], words[w], wl) == 0) {
                    if (j + 1 < argc) {
                        idx[(*n)++] = j + 1;
                    }
                    break;
                }
            }
        }
        return true;
    }
    if (name_is(c, "zunionstore", "zinterstore") || name_is(c, "zdiffstore", NULL)) {
        idx[(*n)++] = 1;
        return numkeys_at(argc, argv, argl, 2, idx, n);
    }
    if (name_is(c, "zunion", "zinter") || name_is(c, "zdiff", "sintercard") ||
        name_is(c, "lmpop", "zmpop")) {
        return numkeys_at(argc, argv, argl, 1, idx, n);
    }
    if (name_is(c, "eval", "evalsha") || name_is(c, "eval_ro", "evalsha_ro") ||
        name_is(c, "fcall", "fcall_ro") || name_is(c, "blmpop", "bzmpop")) {
        return numkeys_at(argc, argv, argl, 2, idx, n);
    }
    if (name_is(c, "xread", "xreadgroup")) {
        for (size_t j = 1; j < argc; j++) {
            if (argl[j] == 7 && strncasecmp(argv[j], "streams", 7) == 0) {
                size_t rest = argc - j - 1;
                if (rest == 0 || rest % 2 != 0) {
                    return false;
                }
                for (size_t k = 0; k < rest / 2; k++) {
                    idx[(*n)++] = j + 1 + k;
                }
                return true;
            }
        }
        return false;
    }
    return false;
}

bool cmd_request_keyspec(const srv_cmd *c, size_t argc, const char **argv,
                         const size_t *argl, srv_keyspec *ks)
{
    size_t small[16];
    size_t *idx = argc <= 16 ? small : malloc(argc * sizeof *idx);
    size_t n = 0;
    bool ok = idx != NULL && cmd_movable_keys(c, argc, argv, argl, idx, &n) && n > 0 &&
              idx[n - 1] - idx[0] == n - 1;
    if (ok) {
        ks->first = (int)idx[0];
        ks->last = (int)idx[n - 1];
        ks->step = 1;
    }
    if (idx != small) {
        free(idx);
    }
    return ok;
}

/* The keys of request argv (argv[0] is *cp's name; *cp becomes the
 * subcommand's entry when argv names one): -2 wrong arity, -3
 * unparsable, else the count. */
static long request_keys(const srv_cmd **cp, size_t argc, const char **argv, const size_t *argl,
                         size_t *idx)
{
    const srv_cmd *c = *cp;
    size_t nsub;
    const srv_cmd *sub = subcommands(c, &nsub);
    if (nsub > 0 && argc >= 2) {
        for (size_t i = 0; i < nsub; i++) {
            const char *s = strchr(sub[i].name, '|') + 1;
            if (strlen(s) == argl[1] && strncasecmp(s, argv[1], argl[1]) == 0) {
                c = *cp = &sub[i];
                break;
            }
        }
    }
    if ((c->arity > 0 && (long)argc != c->arity) || (c->arity < 0 && (long)argc < -c->arity)) {
        return -2;
    }
    size_t n = 0;
    if (c->flags & F_MOVABLE) {
        return cmd_movable_keys(c, argc, argv, argl, idx, &n) ? (long)n : -3;
    }
    if (c->keys.first <= 0 || (size_t)c->keys.first >= argc) {
        return 0;
    }
    long last = c->keys.last < 0 ? (long)argc + c->keys.last : c->keys.last;
    if (last >= (long)argc) {
        last = (long)argc - 1;
    }
    for (long i = c->keys.first; i <= last; i += c->keys.step > 0 ? c->keys.step : 1) {
        idx[n++] = (size_t)i;
    }
    return (long)n;
}

static void command_getkeys(ctx *x, bool flags)
{
    const srv_cmd *c = cmd_find(x->argv[2], x->argl[2]);
    if (c == NULL) {
        srv_reply_error(x->out, "ERR Invalid command specified");
        return;
    }
    size_t argc = x->argc - 2;
    size_t *idx = malloc((argc + 1) * sizeof *idx);
    if (idx == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    long n = request_keys(&c, argc, x->argv + 2, x->argl + 2, idx);
    if (n == -2) {
        srv_reply_error(x->out, "ERR Invalid number of arguments specified for command");
    } else if (n == -3) {
        srv_reply_error(x->out, "ERR Invalid arguments specified for command");
    } else if (n == 0 && (c->flags & F_NO_MANDATORY_KEYS)) {
        srv_buf_append(x->out, "*0\r\n", 4);     // EVAL ... 0: no keys is an answer
    } else if (n <= 0) {
        srv_reply_error(x->out, "ERR The command has no key arguments");
    } else {
        srv_reply_array(x->out, n);
        for (long i = 0; i < n; i++) {
            const char *k = x->argv[2 + idx[i]];
            size_t kl = x->argl[2 + idx[i]];
            if (!flags) {
                srv_reply_bulk(x->out, k, kl);
                continue;
            }
            size_t ngroups = 1;
            for (const char *p = c->keyflags; p != NULL && (p = strchr(p, ';')) != NULL; p++) {
                ngroups++;
            }
            size_t g = i == 0 ? 0 : (c->flags & F_MOVABLE) ? ngroups - 1
                       : (size_t)i < ngroups ? (size_t)i : ngroups - 1;
            bool set_get = false;
            for (size_t j = 3; j < x->argc; j++) {
                set_get |= x->argl[j] == 3 && strncasecmp(x->argv[j], "GET", 3) == 0;
            }
            srv_reply_array(x->out, 2);
            srv_reply_bulk(x->out, k, kl);
            reply_keyflags(x->out, c, g, true, set_get);
        }
    }
    free(idx);
}

/* ======================================================================
 * COMMAND LIST, DOCS, HELP
 * ====================================================================== */

typedef struct list_filter {
    int kind;                   /* 0 none, 1 module, 2 aclcat, 3 pattern */
    const char *p;
    size_t n;
} list_filter;

static bool list_match(const list_filter *f, const srv_cmd *c)
{
    if (f->kind == 0) {
        return true;
    }
    if (f->kind == 1) {
        return false;           // no modules
    }
    if (f->kind == 3) {
        return srv_glob_match(f->p, f->n, c->name, strlen(c->name), true);
    }
    unsigned cats = cmd_acl_categories(c);
    for (size_t i = 0; i < sizeof cat_names / sizeof cat_names[0]; i++) {
        if (strlen(cat_names[i].name) == f->n && strncasecmp(cat_names[i].name, f->p, f->n) == 0) {
            return (cats & cat_names[i].bit) != 0;
        }
    }
    return false;
}

static void command_list(ctx *x)
{
    list_filter f = {0, NULL, 0};
    if (x->argc == 5 && arg_is(x, 2, "FILTERBY")) {
        f.kind = arg_is(x, 3, "MODULE") ? 1 : arg_is(x, 3, "ACLCAT") ? 2
                 : arg_is(x, 3, "PATTERN") ? 3 : -1;
        f.p = x->argv[4];
        f.n = x->argl[4];
    } else if (x->argc != 2) {
        f.kind = -1;
    }
    if (f.kind < 0) {
        srv_reply_error(x->out, E_SYNTAX);
        return;
    }
    long long n = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            srv_reply_array(x->out, n);
        }
        for (size_t i = 0; i < cmd_count() + cmd_subcount(); i++) {
            const srv_cmd *c = i < cmd_count() ? &cmd_table[i] : &cmd_subtable[i - cmd_count()];
            if (!list_match(&f, c)) {
                continue;
            }
            if (pass == 0) {
                n++;
            } else {
                srv_reply_bulk(x->out, c->name, strlen(c->name));
            }
        }
    }
}

static const char *const command_help[] = {
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
    "HELP",
    "    Prints this help.",
};

static void command_docs(ctx *x)
{
    if (x->argc == 2) {
        srv_reply_map(x->out, (long long)cmd_count());
        for (size_t i = 0; i < cmd_count(); i++) {
            srv_reply_bulk(x->out, cmd_table[i].name, strlen(cmd_table[i].name));
            srv_reply_map(x->out, 0);
        }
        return;
    }
    long long n = 0;
    for (size_t i = 2; i < x->argc; i++) {
        n += find_any(x->argv[i], x->argl[i]) != NULL;
    }
    srv_reply_map(x->out, n);
    for (size_t i = 2; i < x->argc; i++) {
        const srv_cmd *c = find_any(x->argv[i], x->argl[i]);
        if (c != NULL) {
            srv_reply_bulk(x->out, c->name, strlen(c->name));
            srv_reply_map(x->out, 0);
        }
    }
}

void cmd_command(ctx *x)
{
    if (x->argc == 1) {
        srv_reply_array(x->out, (long long)cmd_count());
        for (size_t i = 0; i < cmd_count(); i++) {
            reply_info(x->out, &cmd_table[i]);
        }
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        size_t n = sizeof command_help / sizeof command_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, command_help[i]);
        }
    } else if (arg_is(x, 1, "COUNT")) {
        srv_reply_int(x->out, (long long)cmd_count());
    } else if (arg_is(x, 1, "INFO")) {
        if (x->argc == 2) {
            srv_reply_array(x->out, (long long)cmd_count());
            for (size_t i = 0; i < cmd_count(); i++) {
                reply_info(x->out, &cmd_table[i]);
            }
            return;
        }
        srv_reply_array(x->out, (long long)x->argc - 2);
        for (size_t i = 2; i < x->argc; i++) {
            const srv_cmd *c = find_any(x->argv[i], x->argl[i]);
            if (c == NULL) {
                srv_reply_null(x->out);
            } else {
                reply_info(x->out, c);
            }
        }
    } else if (arg_is(x, 1, "LIST")) {
        command_list(x);
    } else if (arg_is(x, 1, "DOCS")) {
        command_docs(x);
    } else if (arg_is(x, 1, "GETKEYS")) {
        command_getkeys(x, false);
    } else if (arg_is(x, 1, "GETKEYSANDFLAGS")) {
        command_getkeys(x, true);
    } else {
        cmd_unknown_subcommand(x, "COMMAND");
    }
}

/* ======================================================================
 * TIME, LASTSAVE, DEBUG
 * ====================================================================== */

void cmd_time(ctx *x)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char s[24], us[24];
    int sn = snprintf(s, sizeof s, "%lld", (long long)ts.tv_sec);
    int un = snprintf(us, sizeof us, "%ld", ts.tv_nsec / 1000);
    srv_reply_array(x->out, 2);
    srv_reply_bulk(x->out, s, (size_t)sn);
    srv_reply_bulk(x->out, us, (size_t)un);
}

/* LOLWUT [VERSION v]: a picture, then the version, as Redis answers (its
 * pictures are its own; this one is a field of interfering ripples
 * whose wavelength the version picks), as verbatim text. */
void cmd_lolwut(ctx *x)
{
    long long v = 6;
    if (x->argc >= 3 && arg_is(x, 1, "VERSION") && !arg_ll(x, 2, &v)) {
        return;  // (other arguments are ignored, as Redis ignores them)
    }
    static const char shade[] = " .:-=+*#%@";
    srv_buf b = {0};
    double k = 0.25 + (double)((v % 7 + 7) % 7) * 0.05;
    for (int row = 0; row < 16; row++) {
        char line[67];
        for (int col = 0; col < 66; col++) {
            double dx = col / 2.0 - 8, dy = row - 4, ex = col / 2.0 - 26, ey = row - 11;
            double z = sin(sqrt(dx * dx + dy * dy) * k * 3) + sin(sqrt(ex * ex + ey * ey) * k * 3);
            int i = (int)((z + 2) / 4 * 9.99);
            line[col] = shade[i < 0 ? 0 : i > 9 ? 9 : i];
        }
        line[66] = '\n';
        srv_buf_append(&b, line, sizeof line);
    }
    char tail[128];
    int n = snprintf(tail, sizeof tail, "\nmwrt-server ver. %s, Redis ver. %s\n", SRV_VERSION,
                     SRV_REDIS_VERSION);
    srv_buf_append(&b, tail, (size_t)n);
    if (b.oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_verbatim(x->out, b.data, b.len);
    }
    srv_buf_free(&b);
}

/* The last successful save (or load); before any, the start, as Redis
 * reports. */
void cmd_lastsave(ctx *x)
{
    srv_reply_int(x->out, srv_rdb_lastsave());
}

void cmd_debug(ctx *x)
{
    if (arg_is(x, 1, "SLEEP") && x->argc == 3) {
        char tmp[64];
        size_t n = x->argl[2] < sizeof tmp - 1 ? x->argl[2] : sizeof tmp - 1;
        memcpy(tmp, x->argv[2], n);
        tmp[n] = '\0';
        double secs = strtod(tmp, NULL);
        // Sleeps holding the keyspace, as Redis blocks its one thread.
        if (secs > 0) {
            struct timespec ts = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
            nanosleep(&ts, NULL);
        }
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else if (arg_is(x, 1, "SET-ACTIVE-EXPIRE") && x->argc == 3) {
        atomic_store(&srv_active_expire, !(x->argl[2] == 1 && x->argv[2][0] == '0'));
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else if (arg_is(x, 1, "CHANGE-REPL-ID") && x->argc == 2) {
        srv_buf_append(x->out, "+OK\r\n", 5);   // no replication: nothing to change
    } else if (arg_is(x, 1, "OBJECT") && x->argc == 3) {
        srv_entry *e = srv_ks_find_notouch(x->argv[2], x->argl[2]);
        if (e == NULL) {
            srv_reply_error(x->out, "ERR no such key");
            return;
        }
        char tmp[256];
        snprintf(tmp, sizeof tmp, "Value at:%p refcount:1 encoding:%s serializedlength:0 "
                 "lru:%u lru_seconds_idle:%lld", (void *)e->v.obj, object_encoding(e->v.obj),
                 e->atime & 0xffffffu, srv_entry_idle_s(e));
        srv_reply_status(x->out, tmp);
    } else {
        srv_reply_errorf(x->out, "ERR unknown subcommand or wrong number of arguments for "
                         "'%.*s'. Try DEBUG HELP.", (int)(x->argl[1] > 128 ? 128 : x->argl[1]),
                         x->argv[1]);
    }
}
