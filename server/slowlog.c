/*
 * server/slowlog.c - SLOWLOG: the commands that ran longer than
 * slowlog-log-slower-than microseconds, newest first, at most
 * slowlog-max-len of them.
 *
 * Technique.  commands.c times each command at one point (cmd_call), and
 * only while the log is on (the threshold is not negative): one relaxed
 * atomic load per command otherwise.  Two clocks: when the threshold is
 * at least two ticks of the kernel's coarse monotonic clock (8 ms at
 * HZ=250, so Redis's default of 10 ms), that clock is read - a load from
 * the vDSO page, about 8 ns, where the precise one costs about 37 ns on
 * this kind of machine, which is a sixth of a pipelined GET - and a
 * logged duration is a whole number of ticks (exact to one tick); below
 * that the precise monotonic clock is read, so small thresholds (0, 1 ms)
 * log exact microseconds.  A command
 * that took at least the threshold is copied into an entry as Redis 7.0
 * keeps it - id, start time (s), duration (us), at most 32 arguments (the
 * last replaced by "... (N more arguments)"), each at most 128 bytes
 * ("... (N more bytes)" appended), the client's address and name - and
 * pushed at the head of a doubly linked list; the tail is dropped while
 * the list is longer than slowlog-max-len.
 *
 * Concurrency.  Workers run commands on several threads (free and sharded
 * modes), so the list, its length and the next id are guarded by one
 * mutex, taken only for a slow command and by SLOWLOG itself.  The two
 * settings are atomics read without the lock; a change of max-len takes
 * effect at the next push (as in Redis).
 */
#include "cmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

typedef struct slow_entry {
    struct slow_entry *prev, *next;
    long long id, time, duration;
    int argc;
    char **argv;                /* malloc'd, trimmed copies */
    size_t *argl;
    char *addr, *name;
} slow_entry;

static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static slow_entry *slow_head, *slow_tail;   /* guarded by slow_lock */
static long long slow_len, slow_next_id;    /* guarded by slow_lock */

_Atomic(long long) slowlog_slower_than = 10000;
_Atomic(long long) slowlog_max_len = 128;
/* Thresholds from which the coarse clock is used (us): two of its ticks.
 * Written once by slowlog_init before the workers start. */
long long slowlog_coarse_min_us = LLONG_MAX;

void slowlog_init(void)
{
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0) {
        long long tick = (long long)res.tv_sec * 1000000 + res.tv_nsec / 1000;
        slowlog_coarse_min_us = tick > 0 ? 2 * tick : LLONG_MAX;
    }
}

uint64_t slowlog_now(int clock)
{
    struct timespec ts;
    clock_gettime(clock ? CLOCK_MONOTONIC_COARSE : CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void entry_free(slow_entry *e)
{
    for (int i = 0; i < e->argc; i++) {
        free(e->argv[i]);
    }
    free(e->argv);
    free(e->argl);
    free(e->addr);
    free(e->name);
    free(e);
}

static char *copy_bytes(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* A trimmed copy of the request; NULL when out of memory. */
static slow_entry *entry_new(ctx *x, uint64_t us)
{
    slow_entry *e = calloc(1, sizeof *e);
    int argc = x->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : (int)x->argc;
    if (e == NULL || (e->argv = calloc((size_t)argc, sizeof *e->argv)) == NULL ||
        (e->argl = calloc((size_t)argc, sizeof *e->argl)) == NULL) {
        if (e != NULL) {
            free(e->argv);
            free(e);
        }
        return NULL;
    }
    e->argc = argc;
    e->time = (long long)(srv_now_ms() / 1000);
    e->duration = (long long)us;
    bool ok = true;
    for (int i = 0; i < argc && ok; i++) {
        char tmp[SLOWLOG_MAX_ARGLEN + 64];
        int n;
        if (argc != (int)x->argc && i == argc - 1) {
            n = snprintf(tmp, sizeof tmp, "... (%d more arguments)", (int)x->argc - argc + 1);
        } else if (cmd_arg_redacted(x, (size_t)i)) {
            n = snprintf(tmp, sizeof tmp, "(redacted)");
        } else if (x->argl[i] > SLOWLOG_MAX_ARGLEN) {
            n = snprintf(tmp, sizeof tmp, "%.*s... (%zu more bytes)", SLOWLOG_MAX_ARGLEN,
                         x->argv[i], x->argl[i] - SLOWLOG_MAX_ARGLEN);
        } else {
            e->argv[i] = copy_bytes(x->argv[i], x->argl[i]);
            e->argl[i] = x->argl[i];
            ok = e->argv[i] != NULL;
            continue;
        }
        e->argv[i] = copy_bytes(tmp, (size_t)n);
        e->argl[i] = (size_t)n;
        ok = e->argv[i] != NULL;
    }
    e->addr = copy_bytes(x->c->addr, strlen(x->c->addr));
    e->name = copy_bytes(x->c->name ? x->c->name : "", x->c->name ? strlen(x->c->name) : 0);
    if (!ok || e->addr == NULL || e->name == NULL) {
        entry_free(e);
        return NULL;
    }
    return e;
}

/* Push e (taking it) if its duration reaches the threshold; else free it. */
static void push(slow_entry *e)
{
    long long limit = atomic_load_explicit(&slowlog_slower_than, memory_order_relaxed);
    if (limit < 0 || e->duration < limit) {
        entry_free(e);
        return;
    }
    long long max = atomic_load_explicit(&slowlog_max_len, memory_order_relaxed);
    pthread_mutex_lock(&slow_lock);
    e->id = slow_next_id++;
    e->next = slow_head;
    if (slow_head != NULL) {
        slow_head->prev = e;
    } else {
        slow_tail = e;
    }
    slow_head = e;
    slow_len++;
    while (slow_len > max && slow_tail != NULL) {
        slow_entry *t = slow_tail;
        slow_tail = t->prev;
        if (slow_tail != NULL) {
            slow_tail->next = NULL;
        } else {
            slow_head = NULL;
        }
        slow_len--;
        entry_free(t);
    }
    pthread_mutex_unlock(&slow_lock);
}

void slowlog_note(ctx *x, const srv_cmd *c, uint64_t us)
{
    long long limit = atomic_load_explicit(&slowlog_slower_than, memory_order_relaxed);
    if (limit < 0 || (long long)us < limit || (c->flags & F_SKIP_SLOWLOG)) {
        return;
    }
    slow_entry *e = entry_new(x, us);
    if (e != NULL) {
        push(e);    // out of memory: the log misses one entry
    }
}

void *slowlog_defer(ctx *x, const srv_cmd *c, uint64_t us)
{
    if (atomic_load_explicit(&slowlog_slower_than, memory_order_relaxed) < 0 ||
        (c->flags & F_SKIP_SLOWLOG)) {
        return NULL;
    }
    return entry_new(x, us);
}

void slowlog_finish(void *entry, uint64_t us)
{
    slow_entry *e = entry;
    if (e != NULL) {
        e->duration += (long long)us;
        e->time = (long long)(srv_now_ms() / 1000);
        push(e);
    }
}

void slowlog_drop(void *entry)
{
    if (entry != NULL) {
        entry_free(entry);
    }
}

static const char *const slowlog_help[] = {
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
};

static void slowlog_get(ctx *x)
{
    long long count = 10;
    if (x->argc == 3) {
        if (!srv_str2ll(x->argv[2], x->argl[2], &count)) {
            srv_reply_error(x->out, E_NOTINT);
            return;
        }
        if (count < -1) {
            srv_reply_error(x->out, "ERR count should be greater than or equal to -1");
            return;
        }
    }
    pthread_mutex_lock(&slow_lock);
    long long n = count < 0 || count > slow_len ? slow_len : count;
    srv_reply_array(x->out, n);
    slow_entry *e = slow_head;
    for (long long k = 0; k < n; k++, e = e->next) {
        srv_reply_array(x->out, 6);
        srv_reply_int(x->out, e->id);
        srv_reply_int(x->out, e->time);
        srv_reply_int(x->out, e->duration);
        srv_reply_array(x->out, e->argc);
        for (int i = 0; i < e->argc; i++) {
            srv_reply_bulk(x->out, e->argv[i], e->argl[i]);
        }
        srv_reply_bulk(x->out, e->addr, strlen(e->addr));
        srv_reply_bulk(x->out, e->name, strlen(e->name));
    }
    pthread_mutex_unlock(&slow_lock);
}

void cmd_slowlog(ctx *x)
{
    if (x->argc == 2 && arg_is(x, 1, "HELP")) {
        size_t n = sizeof slowlog_help / sizeof slowlog_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, slowlog_help[i]);
        }
    } else if (x->argc == 2 && arg_is(x, 1, "RESET")) {
        pthread_mutex_lock(&slow_lock);
        while (slow_head != NULL) {
            slow_entry *e = slow_head;
            slow_head = e->next;
            entry_free(e);
        }
        slow_tail = NULL;
        slow_len = 0;
        pthread_mutex_unlock(&slow_lock);
        srv_buf_append(x->out, "+OK\r\n", 5);
    } else if (x->argc == 2 && arg_is(x, 1, "LEN")) {
        pthread_mutex_lock(&slow_lock);
        long long n = slow_len;
        pthread_mutex_unlock(&slow_lock);
        srv_reply_int(x->out, n);
    } else if ((x->argc == 2 || x->argc == 3) && arg_is(x, 1, "GET")) {
        slowlog_get(x);
    } else {
        cmd_unknown_subcommand(x, "SLOWLOG");
    }
}
