/*
 * server/script.c - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with
 * Lua 5.1 (Debian's liblua5.1, the language version Redis embeds).
 *
 * Scripts.  A script's body is known by its SHA1 (OpenSSL's, in hex).
 * The cache of bodies is one table for the server, under cache_lock, so
 * that SCRIPT LOAD on one worker serves EVALSHA on any.  Each worker
 * thread has its own interpreter (lua_State is not thread-safe, and in
 * sharded mode workers run scripts at once), created at its first script;
 * a body becomes the global function f_<sha> of an interpreter the first
 * time that interpreter runs it.  SCRIPT FLUSH empties the cache and
 * bumps an epoch; an interpreter older than the epoch is closed and made
 * again before its next script, so a flushed script is gone everywhere.
 *
 * Running.  A script runs inside the command that called it: under the
 * GIL, the keyspace lock, or on its shard's own worker, so it is atomic
 * like any command.  redis.call runs a command as EXEC runs a queued one
 * (cmd_run: the same handler, WATCH and blocked clients see its writes)
 * into a buffer of its own, in RESP2, and the reply is read back into Lua
 * values with Redis's conversions.  Blocking commands answer at once, as
 * inside EXEC.  Commands flagged noscript, and writes from EVAL_RO, are
 * refused with Redis's errors.  SELECT in a script changes the script's
 * database only: the caller's is put back afterwards.  Sharded with
 * several workers, a script runs at the owner of its first key, every key
 * it declares must be in one slot (CROSSSLOT otherwise), and a command it
 * runs on a key of another shard is refused, as Redis Cluster refuses a
 * non-local key: a script never reads or writes a shard it is not on.
 *
 * The sandbox is Redis's: the base, table, string, math and debug
 * libraries, cjson and bit (Debian's lua-cjson and lua-bitop, the
 * libraries Redis bundles copies of), no loadfile or dofile, and the globals table read-only once
 * set up (a script cannot create globals; reading an undefined one is an
 * error).  Errors have Redis 7.0's shapes: "ERR user_script:1: ... script:
 * <sha>, on @user_script:1." for a runtime error, the command's own
 * error for a failed redis.call, "ERR Error compiling script (new
 * function): ..." for a body that does not compile.
 *
 * Time limit.  A count hook runs every HOOK_EVERY Lua instructions.
 * Once a script has run for busy-reply-threshold milliseconds (Redis's
 * lua-time-limit) it is *busy*: it is logged once, and from then on each
 * hook lets the rest of the server in (srv_busy_poll, net.c): other
 * workers get the GIL or the keyspace lock for a moment, and this
 * worker's other connections are read and run.  Meanwhile every command
 * except those flagged allow-busy (SCRIPT KILL, SHUTDOWN, MULTI, DISCARD,
 * WATCH, AUTH, HELLO, RESET, QUIT...) answers -BUSY (srv_execute), so no
 * key is read or written while the script is half done, and crons skip
 * their keyspace work.  SCRIPT KILL asks a busy script that has not
 * written to stop: its next hook raises "Script killed by user with
 * SCRIPT KILL..."; one that has written answers -UNKILLABLE.  A server
 * told to stop kills a busy script the same way, written or not.
 *
 * Not done: the cmsgpack and struct libraries Redis also bundles (Debian
 * packages neither for Lua 5.1), FUNCTION, and RESP3 inside scripts
 * (redis.setresp(3) is refused).
 */
#include "cmd.h"

#include <lauxlib.h>
#include <lua-bitop.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>
#include <openssl/evp.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ======================================================================
 * The cache of bodies
 * ====================================================================== */

#define CACHE_BUCKETS 1024

typedef struct script {
    struct script *next;
    char sha[41];
    size_t len;
    char body[];
} script;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static script *cache[CACHE_BUCKETS];
static _Atomic(long) cache_epoch;

static unsigned sha_bucket(const char *sha)
{
    return (unsigned)srv_hash_bytes(sha, 40) & (CACHE_BUCKETS - 1);
}

static void sha1_hex(const char *p, size_t n, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(p, n, md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
        memset(md, 0, sizeof md);
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

/* Whether sha (40 hex digits, any case) is cached; its body copied into
 * *body (malloc'd, *len) if body is not NULL. */
static bool cache_get(const char *sha, char **body, size_t *len)
{
    bool found = false;
    pthread_mutex_lock(&cache_lock);
    for (script *s = cache[sha_bucket(sha)]; s != NULL; s = s->next) {
        if (memcmp(s->sha, sha, 40) == 0) {
            found = true;
            if (body != NULL && (*body = malloc(s->len + 1)) != NULL) {
                memcpy(*body, s->body, s->len + 1);
                *len = s->len;
            } else if (body != NULL) {
                found = false;
            }
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

static bool cache_put(const char *sha, const char *body, size_t len)
{
    if (cache_get(sha, NULL, NULL)) {
        return true;
    }
    script *s = malloc(sizeof *s + len + 1);
    if (s == NULL) {
        return false;
    }
    memcpy(s->sha, sha, 41);
    s->len = len;
    memcpy(s->body, body, len);
    s->body[len] = '\0';
    pthread_mutex_lock(&cache_lock);
    unsigned b = sha_bucket(sha);
    s->next = cache[b];
    cache[b] = s;
    pthread_mutex_unlock(&cache_lock);
    return true;
}

static void cache_flush(void)
{
    pthread_mutex_lock(&cache_lock);
    for (unsigned b = 0; b < CACHE_BUCKETS; b++) {
        while (cache[b] != NULL) {
            script *s = cache[b];
            cache[b] = s->next;
            free(s);
        }
    }
    atomic_fetch_add(&cache_epoch, 1);
    pthread_mutex_unlock(&cache_lock);
}

/* ======================================================================
 * The interpreter of this thread
 * ====================================================================== */

/* What redis.call needs while a script runs on this thread. */
typedef struct run_ctx {
    ctx *caller;
    bool readonly;              /* EVAL_RO, EVALSHA_RO */
    bool busy;                  /* past the time limit (counted in busy_total) */
    bool wrote;                 /* ran a write command: SCRIPT KILL may not stop it */
    bool killed;                /* every hook raises from now on (a Lua pcall may catch one) */
    uint64_t start_us;
    char funcname[43];          /* f_<sha>: the global it is defined as */
} run_ctx;

/* The time limit (busy-reply-threshold, ms), the scripts now busy (any
 * worker; those of them that wrote), and a SCRIPT KILL not yet taken by
 * a busy script's hook. */
_Atomic(long long) srv_script_time_limit = 5000;
static _Atomic(int) busy_total, busy_written;
static _Atomic(bool) kill_asked;

/* Lua instructions between two runs of the hook. */
#define HOOK_EVERY 100000

bool srv_script_busy(void)
{
    return atomic_load_explicit(&busy_total, memory_order_relaxed) > 0;
}

static __thread lua_State *lua;
static __thread long lua_epoch;
static __thread run_ctx *running;

static int raise_error(lua_State *L, const char *err);

/* The count hook: see "Time limit" above. */
static void hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    run_ctx *r = running;
    if (r == NULL) {
        return;
    }
    if (!r->busy) {
        uint64_t ms = (srv_mono_us() - r->start_us) / 1000;
        if ((long long)ms < atomic_load_explicit(&srv_script_time_limit, memory_order_relaxed)) {
            return;
        }
        r->busy = true;
        atomic_fetch_add(&busy_total, 1);
        if (r->wrote) {
            atomic_fetch_add(&busy_written, 1);
        }
        srv_log("Slow script detected: still in execution after %llu milliseconds. You can "
                "try killing the script using the SCRIPT KILL command. Script name is: %s.",
                (unsigned long long)ms, r->funcname + 2);
    }
    srv_busy_poll(r->caller->c);
    if (atomic_load(&srv.stopping)) {
        raise_error(L, "ERR Script killed because the server is shutting down");
    }
    if (r->killed || (!r->wrote && atomic_exchange(&kill_asked, false))) {
        r->killed = true;
        raise_error(L, "ERR Script killed by user with SCRIPT KILL...");
    }
}

/* The script on this thread is over: it is no longer busy. */
static void run_end(run_ctx *r)
{
    if (!r->busy) {
        return;
    }
    if (r->wrote) {
        atomic_fetch_sub(&busy_written, 1);
    }
    if (atomic_fetch_sub(&busy_total, 1) == 1) {
        atomic_store(&kill_asked, false);  // asked of a script that ended first
    }
}

static const char *const error_handler =
    "local dbg = debug\n"
    "__redis__err__handler = function(err)\n"
    "  local i = dbg.getinfo(2, 'nSl')\n"
    "  if i and i.what == 'C' then\n"
    "    i = dbg.getinfo(3, 'nSl')\n"
    "  end\n"
    "  if type(err) ~= 'table' then\n"
    "    err = {err = 'ERR ' .. tostring(err)}\n"
    "  end\n"
    "  if i then\n"
    "    err['source'] = i.source\n"
    "    err['line'] = i.currentline\n"
    "  end\n"
    "  return err\n"
    "end\n";

/* Globals are read-only once the interpreter is set up: a script cannot
 * leave state behind for the next one, change a library another script
 * uses, or read an undefined global (an error, as in Redis).  Stock Lua
 * 5.1 has no read-only tables, so each protected table is reached through
 * an empty proxy whose metatable reads from it (__index, a table: the
 * fast path), refuses every store (__newindex) and is itself hidden
 * (__metatable).  The thread's globals are such a proxy over the real
 * globals, whose own __index raises the undefined-global error; the
 * library tables inside are proxies too, and rawset refuses a proxy.  The
 * server sets f_<sha>, KEYS and ARGV in the real table (raw_set_global).
 * The errors are C functions, so that the error handler (which skips a C
 * frame) reports the script's line, and the message carries the script's
 * position (luaL_where of the caller, level 1). */
static int globals_newindex(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushstring(L, "Attempt to modify a readonly table");
    lua_concat(L, 2);
    return lua_error(L);
}

static int globals_index(lua_State *L)
{
    luaL_where(L, 1);
    lua_pushfstring(L, "Script attempted to access nonexistent global variable '%s'",
                    lua_tostring(L, 2) != NULL ? lua_tostring(L, 2) : "?");
    lua_concat(L, 2);
    return lua_error(L);
}

static const char proxy_mark;    /* registry key: the proxies' metatable set */
static const char real_globals;  /* registry key: the real globals table */

/* Replace the table on top of the stack by a read-only proxy of it. */
static void make_proxy(lua_State *L)
{
    lua_newtable(L);               // table proxy
    lua_newtable(L);               // table proxy mt
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, globals_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushlightuserdata(L, (void *)&proxy_mark);
    lua_rawget(L, LUA_REGISTRYINDEX);  // table proxy mt marks
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);             // marks[mt] = true
    lua_pop(L, 1);
    lua_setmetatable(L, -2);       // table proxy
    lua_remove(L, -2);             // proxy
}

/* rawset, except on a proxy. */
static int safe_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1)) {
        lua_pushlightuserdata(L, (void *)&proxy_mark);
        lua_rawget(L, LUA_REGISTRYINDEX);
        lua_insert(L, -2);
        lua_rawget(L, -2);
        if (lua_toboolean(L, -1)) {
            return globals_newindex(L);
        }
        lua_pop(L, 2);
    }
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static void protect_globals(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&proxy_mark);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, safe_rawset);
    lua_setglobal(L, "rawset");
    static const char *const libs[] = {"redis", "string", "table", "math", "debug", "cjson",
                                       "bit", "coroutine"};
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        lua_getglobal(L, libs[i]);
        if (lua_istable(L, -1)) {
            make_proxy(L);
            lua_setglobal(L, libs[i]);
        } else {
            lua_pop(L, 1);
        }
    }
    // Method calls on strings ("x"):upper() read the string table itself;
    // hide the strings' metatable so that it cannot reach it either.
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, LUA_GLOBALSINDEX);  // the real globals: undefined is an error
    lua_newtable(L);
    lua_pushcfunction(L, globals_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, (void *)&real_globals);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    make_proxy(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_GLOBALSINDEX, "_G");  // _G is the proxy too
    lua_replace(L, LUA_GLOBALSINDEX);
}

/* Set key = value (the two values on top of the stack, popped) in the
 * real globals, past the proxy. */
static void raw_set_global(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&real_globals);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_insert(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static int lua_redis_call(lua_State *L);
static int lua_redis_pcall(lua_State *L);

/* {err = msg} or {ok = msg}, as Redis's reply helpers make them. */
static void push_reply_table(lua_State *L, const char *field, const char *msg, size_t n)
{
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushlstring(L, msg, n);
    lua_settable(L, -3);
}

static int lua_error_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "wrong number or type of arguments");
    }
    size_t n;
    const char *p = lua_tolstring(L, 1, &n);
    if (n > 0 && p[0] == '-') {
        p++, n--;
    }
    push_reply_table(L, "err", p, n);
    return 1;
}

static int lua_status_reply(lua_State *L)
{
    if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
        return luaL_error(L, "wrong number or type of arguments");
    }
    size_t n;
    const char *p = lua_tolstring(L, 1, &n);
    push_reply_table(L, "ok", p, n);
    return 1;
}

static int lua_sha1hex(lua_State *L)
{
    if (lua_gettop(L) != 1) {
        return luaL_error(L, "wrong number of arguments");
    }
    size_t n;
    const char *p = lua_tolstring(L, 1, &n);
    char sha[41];
    sha1_hex(p != NULL ? p : "", p != NULL ? n : 0, sha);
    lua_pushstring(L, sha);
    return 1;
}

static int lua_log(lua_State *L)
{
    int argc = lua_gettop(L);
    if (argc < 2) {
        return luaL_error(L, "redis.log() requires two arguments or more.");
    }
    if (!lua_isnumber(L, 1)) {
        return luaL_error(L, "First argument must be a number (log level).");
    }
    char line[1024];
    size_t len = 0;
    for (int i = 2; i <= argc && len < sizeof line - 1; i++) {
        size_t n;
        const char *p = lua_tolstring(L, i, &n);
        if (p == NULL) {
            continue;
        }
        int w = snprintf(line + len, sizeof line - len, "%s%.*s", i > 2 ? " " : "", (int)n, p);
        len += w > 0 ? (size_t)w : 0;
    }
    srv_log("script: %s", line);
    return 0;
}

static int lua_setresp(lua_State *L)
{
    if (lua_gettop(L) != 1 || !lua_isnumber(L, 1)) {
        return luaL_error(L, "redis.setresp() requires one argument.");
    }
    int v = (int)lua_tonumber(L, 1);
    if (v != 2) {
        return luaL_error(L, "RESP version must be 2 (RESP3 is not supported in scripts here).");
    }
    return 0;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushstring(L, name);
    lua_pushcfunction(L, fn);
    lua_settable(L, -3);
}

static void set_num(lua_State *L, const char *name, int v)
{
    lua_pushstring(L, name);
    lua_pushnumber(L, v);
    lua_settable(L, -3);
}

static lua_State *interpreter(void)
{
    long epoch = atomic_load(&cache_epoch);
    if (lua != NULL && lua_epoch == epoch) {
        return lua;
    }
    if (lua != NULL) {
        lua_close(lua);
    }
    lua = luaL_newstate();
    lua_epoch = epoch;
    if (lua == NULL) {
        return NULL;
    }
    open_lib(lua, "", luaopen_base);
    open_lib(lua, LUA_TABLIBNAME, luaopen_table);
    open_lib(lua, LUA_STRLIBNAME, luaopen_string);
    open_lib(lua, LUA_MATHLIBNAME, luaopen_math);
    open_lib(lua, LUA_DBLIBNAME, luaopen_debug);
    open_lib(lua, "bit", luaopen_bit);  // registers the global itself
    lua_pushcfunction(lua, luaopen_cjson);
    lua_call(lua, 0, 1);  // returns the module, which Redis makes a global
    lua_setglobal(lua, "cjson");
    lua_pushnil(lua);
    lua_setglobal(lua, "loadfile");
    lua_pushnil(lua);
    lua_setglobal(lua, "dofile");
    lua_newtable(lua);
    set_fn(lua, "call", lua_redis_call);
    set_fn(lua, "pcall", lua_redis_pcall);
    set_fn(lua, "error_reply", lua_error_reply);
    set_fn(lua, "status_reply", lua_status_reply);
    set_fn(lua, "sha1hex", lua_sha1hex);
    set_fn(lua, "log", lua_log);
    set_fn(lua, "setresp", lua_setresp);
    set_num(lua, "LOG_DEBUG", 0);
    set_num(lua, "LOG_VERBOSE", 1);
    set_num(lua, "LOG_NOTICE", 2);
    set_num(lua, "LOG_WARNING", 3);
    lua_setglobal(lua, "redis");
    if (luaL_dostring(lua, error_handler) != 0) {
        srv_log("script: setting up the interpreter failed: %s", lua_tostring(lua, -1));
        lua_close(lua);
        lua = NULL;
        return NULL;
    }
    protect_globals(lua);
    lua_sethook(lua, hook, LUA_MASKCOUNT, HOOK_EVERY);
    return lua;
}

void srv_script_thread_end(void)
{
    if (lua != NULL) {
        lua_close(lua);
        lua = NULL;
    }
}

void srv_script_fini(void)
{
    cache_flush();
}

/* ======================================================================
 * RESP replies into Lua values
 * ====================================================================== */

/* The line at p (up to CRLF) as a number; *next after it. */
static long long line_ll(const char *p, const char *end, const char **next)
{
    long long v = 0;
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
    }
    while (p < end && *p != '\n') {
        p++;
    }
    *next = p < end ? p + 1 : end;
    return neg ? -v : v;
}

static const char *line_end(const char *p, const char *end)
{
    const char *q = memchr(p, '\r', (size_t)(end - p));
    return q != NULL ? q : end;
}

/* Push the reply at p as a Lua value; returns the byte after it. */
static const char *push_reply(lua_State *L, const char *p, const char *end)
{
    if (p >= end) {
        lua_pushboolean(L, 0);
        return end;
    }
    char type = *p++;
    const char *next;
    switch (type) {
    case ':':
        lua_pushnumber(L, (lua_Number)line_ll(p, end, &next));
        return next;
    case '$': {
        long long n = line_ll(p, end, &next);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        if (n > end - next) {
            n = end - next;
        }
        lua_pushlstring(L, next, (size_t)n);
        next += n;
        return next + 2 <= end ? next + 2 : end;
    }
    case '+':
    case '-': {
        const char *e = line_end(p, end);
        push_reply_table(L, type == '+' ? "ok" : "err", p, (size_t)(e - p));
        return e + 2 <= end ? e + 2 : end;
    }
    case '*': {
        long long n = line_ll(p, end, &next);
        if (n < 0) {
            lua_pushboolean(L, 0);
            return next;
        }
        lua_newtable(L);
        for (long long i = 0; i < n; i++) {
            lua_pushnumber(L, (lua_Number)(i + 1));
            next = push_reply(L, next, end);
            lua_settable(L, -3);
        }
        return next;
    }
    default:
        lua_pushboolean(L, 0);
        return end;
    }
}

/* ======================================================================
 * redis.call and redis.pcall
 * ====================================================================== */

/* Raise err (a C string without the leading '-') as Redis's error table. */
static int raise_error(lua_State *L, const char *err)
{
    push_reply_table(L, "err", err, strlen(err));
    return lua_error(L);
}

/* Whether every key of c's request (x) is in a slot this worker owns. */
static bool keys_local(const srv_cmd *c, ctx *x)
{
    if (!srv_split()) {
        return true;
    }
    size_t local[16], n = 0;
    size_t *idx = x->argc <= 16 ? local : malloc(x->argc * sizeof *idx);
    bool ok = idx != NULL;
    if (ok && (c->flags & F_MOVABLE)) {
        ok = cmd_movable_keys(c, x->argc, x->argv, x->argl, idx, &n);
    } else if (ok && c->keys.first > 0 && (size_t)c->keys.first < x->argc) {
        size_t last = c->keys.last < 0 ? x->argc - (size_t)(-c->keys.last) : (size_t)c->keys.last;
        last = last >= x->argc ? x->argc - 1 : last;
        for (size_t i = (size_t)c->keys.first; i <= last; i += c->keys.step > 0 ? (size_t)c->keys.step : 1) {
            idx[n++] = i;
        }
    }
    for (size_t i = 0; ok && i < n; i++) {
        ok = srv_slot_owner[srv_key_slot(x->argv[idx[i]], x->argl[idx[i]])] == srv_self->index;
    }
    if (idx != local) {
        free(idx);
    }
    return ok;
}

/* Run the command of the Lua arguments; push its reply.  raise: a
 * command error is raised (redis.call) rather than returned (pcall). */
static int call_command(lua_State *L, bool raise)
{
    run_ctx *r = running;
    int argc = lua_gettop(L);
    if (r == NULL) {
        return luaL_error(L, "redis.call() may only be called from a script");
    }
    if (argc == 0) {
        return raise_error(L, "ERR Please specify at least one argument for this redis lib call");
    }
    const char **argv = malloc((size_t)argc * sizeof *argv);
    size_t *argl = malloc((size_t)argc * sizeof *argl);
    char (*nums)[32] = malloc((size_t)argc * sizeof *nums);
    if (argv == NULL || argl == NULL || nums == NULL) {
        free(argv), free(argl), free(nums);
        return raise_error(L, "ERR out of memory");
    }
    for (int i = 0; i < argc; i++) {
        int t = lua_type(L, i + 1);
        if (t == LUA_TNUMBER) {
            // Redis writes a number the shortest way that reads back.
            double d = (double)lua_tonumber(L, i + 1);
            int n = snprintf(nums[i], sizeof nums[i], "%.15g", d);
            if (strtod(nums[i], NULL) != d) {
                n = snprintf(nums[i], sizeof nums[i], "%.17g", d);
            }
            argv[i] = nums[i];
            argl[i] = (size_t)n;
        } else if (t == LUA_TSTRING) {
            argv[i] = lua_tolstring(L, i + 1, &argl[i]);
        } else {
            free(argv), free(argl), free(nums);
            return raise_error(L, "ERR Lua redis lib command arguments must be strings or integers");
        }
    }
    const char *err = NULL;
    const srv_cmd *c = cmd_find(argv[0], argl[0]);
    ctx y = {.c = r->caller->c, .argc = (size_t)argc, .argv = argv, .argl = argl};
    if (c == NULL) {
        err = "ERR Unknown Redis command called from script";
    } else if ((c->arity > 0 && argc != c->arity) || (c->arity < 0 && argc < -c->arity)) {
        err = "ERR Wrong number of args calling Redis command from script";
    } else if (c->flags & F_NOSCRIPT) {
        err = "ERR This Redis command is not allowed from script";
    } else if (r->readonly && (c->flags & F_WRITE)) {
        err = "ERR Write commands are not allowed from read-only scripts.";
    } else if (!keys_local(c, &y)) {
        err = "ERR Script attempted to access a non local key in a cluster node";
    }
    if (err != NULL) {
        free(argv), free(argl), free(nums);
        return raise_error(L, err);
    }
    srv_buf out = {0};
    y.out = &out;
    if ((c->flags & F_WRITE) && !r->wrote) {
        r->wrote = true;  // from now on SCRIPT KILL answers UNKILLABLE
        if (r->busy) {
            atomic_fetch_add(&busy_written, 1);
        }
    }
    cmd_run(&y, c);
    cmd_note_call(c, out.len > 0 && out.data[0] == '-');
    free(argv), free(argl), free(nums);
    if (out.oom) {
        srv_buf_free(&out);
        return raise_error(L, "ERR out of memory");
    }
    push_reply(L, out.data, out.data + out.len);
    bool failed = out.len > 0 && out.data[0] == '-';
    srv_buf_free(&out);
    if (failed && raise) {
        return lua_error(L);   // the {err=...} table just pushed
    }
    return 1;
}

static int lua_redis_call(lua_State *L)
{
    return call_command(L, true);
}

static int lua_redis_pcall(lua_State *L)
{
    return call_command(L, false);
}

/* ======================================================================
 * Lua values into RESP replies
 * ====================================================================== */

static void reply_value_lua(lua_State *L, srv_buf *out, int depth)
{
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *p = lua_tolstring(L, -1, &n);
        srv_reply_bulk(out, p, n);
        break;
    }
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, -1)) {
            srv_reply_int(out, 1);
        } else {
            srv_reply_null(out);
        }
        break;
    case LUA_TNUMBER: {
        lua_Number d = lua_tonumber(L, -1);
        // Redis truncates to an integer; out of range saturates here.
        long long v = d != d ? 0 : d >= 9.2233720368547758e18 ? LLONG_MAX
                      : d <= -9.2233720368547758e18 ? LLONG_MIN : (long long)d;
        srv_reply_int(out, v);
        break;
    }
    case LUA_TTABLE: {
        if (depth > 64) {
            srv_reply_error(out, "ERR reached lua stack limit");
            break;
        }
        lua_pushstring(L, "err");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t n;
            const char *p = lua_tolstring(L, -1, &n);
            srv_reply_errorf(out, "%.*s", (int)n, p);
            lua_pop(L, 1);
            break;
        }
        lua_pop(L, 1);
        lua_pushstring(L, "ok");
        lua_rawget(L, -2);
        if (lua_type(L, -1) == LUA_TSTRING) {
            size_t n;
            const char *p = lua_tolstring(L, -1, &n);
            char *line = malloc(n + 1);
            if (line != NULL) {
                for (size_t i = 0; i < n; i++) {
                    line[i] = p[i] == '\r' || p[i] == '\n' ? ' ' : p[i];
                }
                line[n] = '\0';
                srv_reply_status(out, line);
                free(line);
            }
            lua_pop(L, 1);
            break;
        }
        lua_pop(L, 1);
        // An array: elements 1, 2, ... up to the first nil.
        long long n = 0;
        for (;;) {
            lua_pushnumber(L, (lua_Number)(n + 1));
            lua_rawget(L, -2);
            bool nil = lua_isnil(L, -1);
            lua_pop(L, 1);
            if (nil) {
                break;
            }
            n++;
        }
        srv_reply_array(out, n);
        for (long long i = 1; i <= n; i++) {
            lua_pushnumber(L, (lua_Number)i);
            lua_rawget(L, -2);
            reply_value_lua(L, out, depth + 1);
            lua_pop(L, 1);
        }
        break;
    }
    default:
        srv_reply_null(out);
    }
}

/* The error table on the stack as Redis 7.0 replies it. */
static void reply_error_table(lua_State *L, srv_buf *out, const char *sha)
{
    if (!lua_istable(L, -1)) {
        srv_reply_errorf(out, "ERR Error running script (call to %s): @user_script: %s",
                         sha, lua_tostring(L, -1) != NULL ? lua_tostring(L, -1) : "error");
        return;
    }
    lua_getfield(L, -1, "err");
    const char *msg = lua_tostring(L, -1);
    lua_getfield(L, -2, "source");
    const char *source = lua_tostring(L, -1);
    lua_getfield(L, -3, "line");
    const char *line = lua_tostring(L, -1);
    if (msg == NULL) {
        msg = "ERR unknown error";
    }
    if (source != NULL && line != NULL) {
        srv_reply_errorf(out, "%s script: %s, on %s:%s.", msg, sha, source, line);
    } else {
        srv_reply_error(out, msg);
    }
    lua_pop(L, 3);
}

/* ======================================================================
 * The commands
 * ====================================================================== */

/* Define the global function f_<sha> from body in L (set raw, past the
 * guard of globals); NULL, or the compile error (the message is left on
 * the stack, valid until popped). */
static const char *compile(lua_State *L, const char *sha, const char *body, size_t len)
{
    srv_buf src = {0};
    srv_buf_append(&src, "return function() ", 18);
    srv_buf_append(&src, body, len);
    srv_buf_append(&src, "\nend", 4);
    if (src.oom) {
        srv_buf_free(&src);
        lua_pushstring(L, "out of memory");
        return lua_tostring(L, -1);
    }
    int r = luaL_loadbuffer(L, src.data, src.len, "@user_script");
    srv_buf_free(&src);
    if (r != 0 || lua_pcall(L, 0, 1, 0) != 0) {
        return lua_tostring(L, -1);
    }
    char name[43];
    snprintf(name, sizeof name, "f_%s", sha);
    lua_pushstring(L, name);
    lua_insert(L, -2);
    raw_set_global(L);
    return NULL;
}

/* Push the global function f_<sha>, or nil (a raw read: past the guard). */
static void get_function(lua_State *L, const char *funcname)
{
    lua_pushlightuserdata(L, (void *)&real_globals);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushstring(L, funcname);
    lua_rawget(L, -2);
    lua_remove(L, -2);
}

/* KEYS or ARGV: n strings from argv. */
static void set_array(lua_State *L, const char *name, const char **argv, const size_t *argl,
                      size_t n)
{
    lua_newtable(L);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, (lua_Number)(i + 1));
        lua_pushlstring(L, argv[i], argl[i]);
        lua_rawset(L, -3);
    }
    lua_pushstring(L, name);
    lua_insert(L, -2);
    raw_set_global(L);
}

static void eval_generic(ctx *x, bool by_sha, bool readonly)
{
    long long numkeys;
    if (!arg_ll(x, 2, &numkeys)) {
        return;
    }
    if (numkeys > (long long)x->argc - 3) {
        srv_reply_error(x->out, "ERR Number of keys can't be greater than number of args");
        return;
    }
    if (numkeys < 0) {
        srv_reply_error(x->out, "ERR Number of keys can't be negative");
        return;
    }
    if (srv_split()) {
        for (long long i = 1; i < numkeys; i++) {
            if (srv_key_slot(x->argv[3 + i], x->argl[3 + i]) != srv_key_slot(x->argv[3], x->argl[3])) {
                srv_reply_error(x->out, "CROSSSLOT Keys in request don't hash to the same slot");
                return;
            }
        }
    }
    char sha[41];
    char *body = NULL;
    size_t len = 0;
    if (by_sha) {
        if (x->argl[1] != 40) {
            srv_reply_error(x->out, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        for (int i = 0; i < 40; i++) {
            char ch = x->argv[1][i];
            sha[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        sha[40] = '\0';
        if (!cache_get(sha, &body, &len)) {
            srv_reply_error(x->out, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        sha1_hex(x->argv[1], x->argl[1], sha);
        if (!cache_put(sha, x->argv[1], x->argl[1])) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
    }
    lua_State *L = interpreter();
    if (L == NULL) {
        free(body);
        srv_reply_error(x->out, "ERR cannot start the script interpreter");
        return;
    }
    run_ctx r = {.caller = x, .readonly = readonly, .start_us = srv_mono_us()};
    snprintf(r.funcname, sizeof r.funcname, "f_%s", sha);
    get_function(L, "__redis__err__handler");
    get_function(L, r.funcname);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        const char *why = compile(L, sha, by_sha ? body : x->argv[1], by_sha ? len : x->argl[1]);
        if (why != NULL) {
            srv_reply_errorf(x->out, "ERR Error compiling script (new function): %s", why);
            lua_pop(L, 2);
            free(body);
            return;
        }
        get_function(L, r.funcname);
    }
    free(body);
    set_array(L, "KEYS", x->argv + 3, x->argl + 3, (size_t)numkeys);
    set_array(L, "ARGV", x->argv + 3 + numkeys, x->argl + 3 + numkeys,
              x->argc - 3 - (size_t)numkeys);
    srv_conn *conn = x->c;
    int db = conn->db;
    bool was = conn->in_script;
    run_ctx *outer = running;
    conn->in_script = true;
    running = &r;
    int rc = lua_pcall(L, 0, 1, -2);
    run_end(&r);
    running = outer;
    conn->in_script = was;
    if (conn->db != db) {
        conn->db = db;      // SELECT in the script: the caller's database stays
        atomic_store_explicit(&conn->pub_db, db, memory_order_relaxed);
    }
    srv_ks_use(db);
    if (rc != 0) {
        reply_error_table(L, x->out, r.funcname + 2);   // Redis names the sha
    } else {
        reply_value_lua(L, x->out, 0);
    }
    lua_pop(L, 2);      // the result (or error) and the handler
    lua_gc(L, LUA_GCSTEP, 1);
}

void cmd_eval(ctx *x) { eval_generic(x, false, false); }
void cmd_evalsha(ctx *x) { eval_generic(x, true, false); }
void cmd_eval_ro(ctx *x) { eval_generic(x, false, true); }
void cmd_evalsha_ro(ctx *x) { eval_generic(x, true, true); }

static const char *const script_help[] = {
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Print this help.",
};

void cmd_script(ctx *x)
{
    if (arg_is(x, 1, "LOAD") && x->argc == 3) {
        char sha[41];
        sha1_hex(x->argv[2], x->argl[2], sha);
        lua_State *L = interpreter();
        if (L == NULL) {
            srv_reply_error(x->out, "ERR cannot start the script interpreter");
            return;
        }
        const char *why = compile(L, sha, x->argv[2], x->argl[2]);
        if (why != NULL) {
            srv_reply_errorf(x->out, "ERR Error compiling script (new function): %s", why);
            lua_pop(L, 1);
            return;
        }
        if (!cache_put(sha, x->argv[2], x->argl[2])) {
            srv_reply_error(x->out, E_NOMEM);
            return;
        }
        srv_reply_bulk(x->out, sha, 40);
    } else if (arg_is(x, 1, "EXISTS") && x->argc >= 3) {
        srv_reply_array(x->out, (long long)(x->argc - 2));
        for (size_t i = 2; i < x->argc; i++) {
            char sha[41];
            bool ok = x->argl[i] == 40;
            for (int k = 0; ok && k < 40; k++) {
                char ch = x->argv[i][k];
                sha[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
            }
            sha[40] = '\0';
            srv_reply_int(x->out, ok && cache_get(sha, NULL, NULL));
        }
    } else if (arg_is(x, 1, "FLUSH") && x->argc <= 3) {
        if (x->argc == 3 && !arg_is(x, 2, "ASYNC") && !arg_is(x, 2, "SYNC")) {
            srv_reply_error(x->out, "ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        cache_flush();
        srv_reply_status(x->out, "OK");
    } else if (arg_is(x, 1, "KILL") && x->argc == 2) {
        int busy = atomic_load(&busy_total);
        if (busy == 0) {
            srv_reply_error(x->out, "NOTBUSY No scripts in execution right now.");
        } else if (atomic_load(&busy_written) >= busy) {
            srv_reply_error(x->out,
                            "UNKILLABLE Sorry the script already executed write commands against "
                            "the dataset. You can either wait the script termination or kill the "
                            "server in a hard way using the SHUTDOWN NOSAVE command.");
        } else {
            atomic_store(&kill_asked, true);
            srv_buf_append(x->out, "+OK\r\n", 5);
        }
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        size_t n = sizeof script_help / sizeof script_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, script_help[i]);
        }
    } else {
        cmd_unknown_subcommand(x, "SCRIPT");
    }
}
