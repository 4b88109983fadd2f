/*
 * server/latency.c - the latency monitor: LATENCY LATEST, HISTORY, RESET,
 * DOCTOR and HELP, as Redis's latency.c answers them.
 *
 * An event is a named kind of stall; a sample is (second, milliseconds).
 * While latency-monitor-threshold is above 0, anything that took at least
 * that many milliseconds is recorded: a command ("command", or
 * "fast-command" for one flagged fast, timed in cmd_call) and a collection
 * of the runtime ("gc-gen0", "gc-gen1", "gc-gen2", timed between the
 * collector's start and stop callbacks), which is this server's own kind
 * of stall.  Each event keeps its last LAT_SAMPLES samples in a ring (two
 * in the same second merge into their maximum, as in Redis) and its
 * all-time maximum.
 *
 * Concurrency: workers and collecting threads record at once, so the
 * table is guarded by one mutex, taken only for a sample over the
 * threshold and by LATENCY itself; the threshold is an atomic read first,
 * so with the monitor off (the default) recording costs one relaxed load.
 */
#include "cmd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LAT_EVENTS 32
#define LAT_SAMPLES 160

typedef struct lat_sample {
    int64_t time;       /* seconds */
    long long ms;
} lat_sample;

typedef struct lat_event {
    char name[32];
    lat_sample ring[LAT_SAMPLES];
    int next, count;
    long long max;
} lat_event;

_Atomic(long long) srv_latency_threshold;

static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;
static lat_event events[LAT_EVENTS];    /* guarded by lat_lock */
static int nevents;

void srv_latency_add(const char *event, long long ms)
{
    long long limit = atomic_load_explicit(&srv_latency_threshold, memory_order_relaxed);
    if (limit <= 0 || ms < limit) {
        return;
    }
    int64_t now = srv_now_ms() / 1000;
    pthread_mutex_lock(&lat_lock);
    lat_event *e = NULL;
    for (int i = 0; i < nevents && e == NULL; i++) {
        if (strcmp(events[i].name, event) == 0) {
            e = &events[i];
        }
    }
    if (e == NULL && nevents < LAT_EVENTS) {
        e = &events[nevents++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", event);
    }
    if (e != NULL) {
        int last = (e->next + LAT_SAMPLES - 1) % LAT_SAMPLES;
        if (e->count > 0 && e->ring[last].time == now) {
            if (ms > e->ring[last].ms) {
                e->ring[last].ms = ms;
            }
        } else {
            e->ring[e->next] = (lat_sample){now, ms};
            e->next = (e->next + 1) % LAT_SAMPLES;
            if (e->count < LAT_SAMPLES) {
                e->count++;
            }
        }
        if (ms > e->max) {
            e->max = ms;
        }
    }
    pthread_mutex_unlock(&lat_lock);
}

/* The collector's callbacks: a collection's pause is an event.  Start and
 * stop run on the collecting thread, so the start time is thread-local. */
static __thread uint64_t gc_started_ns;

static void on_gc(const char *phase, const mw_gc_info *info, void *arg)
{
    (void)arg;
    if (atomic_load_explicit(&srv_latency_threshold, memory_order_relaxed) <= 0) {
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (strcmp(phase, "start") == 0) {
        gc_started_ns = now;
    } else if (gc_started_ns != 0) {
        char name[16];
        snprintf(name, sizeof name, "gc-gen%d", info->generation);
        srv_latency_add(name, (long long)((now - gc_started_ns) / 1000000));
        gc_started_ns = 0;
    }
}

void srv_latency_init(void)
{
    if (mw_gc_add_callback(on_gc, NULL) != 0) {
        srv_log("latency monitor: cannot watch collections (too many callbacks)");
    }
}

static lat_event *find(const char *p, size_t n)
{
    for (int i = 0; i < nevents; i++) {
        if (strlen(events[i].name) == n && strncasecmp(events[i].name, p, n) == 0) {
            return &events[i];
        }
    }
    return NULL;
}

static const lat_sample *latest(const lat_event *e)
{
    return &e->ring[(e->next + LAT_SAMPLES - 1) % LAT_SAMPLES];
}

static const char *const latency_help[] = {
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
};

static void append_text(srv_buf *b, const char *text)
{
    srv_buf_append(b, text, strlen(text));
}

static void doctor(ctx *x)
{
    srv_buf b = {0};
    char line[512];
    long long limit = atomic_load(&srv_latency_threshold);
    if (limit <= 0) {
        append_text(&b, "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in "
                        "this server. Set latency-monitor-threshold to a number of "
                        "milliseconds (CONFIG SET latency-monitor-threshold 100) to enable "
                        "it.\n");
    } else if (nevents == 0) {
        int n = snprintf(line, sizeof line, "Dave, no latency spike was observed during the "
                         "lifetime of this server (threshold: %lld ms).\n", limit);
        srv_buf_append(&b, line, (size_t)n);
    } else {
        int n = snprintf(line, sizeof line, "Latency spikes over %lld ms were observed for "
                         "%d event(s):\n\n", limit, nevents);
        srv_buf_append(&b, line, (size_t)n);
        for (int i = 0; i < nevents; i++) {
            const lat_event *e = &events[i];
            long long sum = 0;
            int first = (e->next + LAT_SAMPLES - e->count) % LAT_SAMPLES;
            for (int k = 0; k < e->count; k++) {
                sum += e->ring[(first + k) % LAT_SAMPLES].ms;
            }
            n = snprintf(line, sizeof line, "%d. %s: %d latency spikes (average %lldms, "
                         "worst %lldms, latest %lldms).\n", i + 1, e->name, e->count,
                         e->count ? sum / e->count : 0, e->max, latest(e)->ms);
            srv_buf_append(&b, line, (size_t)n);
        }
        append_text(&b, "\nAdvice: \"command\" spikes are slow commands (see SLOWLOG); "
                        "\"gc-gen*\" spikes are collections of the runtime: a higher "
                        "gc-threshold, or gc paused, moves them out of requests.\n");
    }
    srv_reply_verbatim(x->out, b.data != NULL ? b.data : "", b.len);
    srv_buf_free(&b);
}

/* LATENCY GRAPH event: Redis's header line, then the samples as a
 * sparkline, GRAPH_COLS columns to a block: GRAPH_ROWS rows of height (a
 * sample's share of the range between the lowest and highest, in steps
 * of "_o#", "|" below the top), then each sample's age written down its
 * column ("12s", "3m", "2h", "1d").  Called with lat_lock held. */
#define GRAPH_COLS 80
#define GRAPH_ROWS 4

static void graph(ctx *x, const lat_event *e)
{
    const lat_sample *s[LAT_SAMPLES];
    long long lo = LLONG_MAX, hi = 0;
    for (int k = 0; k < e->count; k++) {
        s[k] = &e->ring[(e->next + LAT_SAMPLES - e->count + k) % LAT_SAMPLES];
        lo = s[k]->ms < lo ? s[k]->ms : lo;
        hi = s[k]->ms > hi ? s[k]->ms : hi;
    }
    srv_buf b = {0};
    char line[GRAPH_COLS + 2];
    int n = snprintf(line, sizeof line, "%s - high %lld ms, low %lld ms (all time high %lld ms)\n",
                     e->name, hi, lo, e->max);
    srv_buf_append(&b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    memset(line, '-', GRAPH_COLS);
    line[GRAPH_COLS] = '\n';
    srv_buf_append(&b, line, GRAPH_COLS + 1);
    static const char steps[] = "_o#";
    const int nsteps = 3 * GRAPH_ROWS;
    long long range = hi > lo ? hi - lo : 1;
    time_t now = time(NULL);
    for (int from = 0; from < e->count; from += GRAPH_COLS) {
        int cols = e->count - from < GRAPH_COLS ? e->count - from : GRAPH_COLS;
        char label[GRAPH_COLS][24];
        size_t longest = 0;
        for (int j = 0; j < cols; j++) {
            long long age = (long long)(now - s[from + j]->time);
            age = age < 0 ? 0 : age;
            snprintf(label[j], sizeof label[j], "%lld%c",
                     age < 60 ? age : age < 3600 ? age / 60 : age < 86400 ? age / 3600 : age / 86400,
                     age < 60 ? 's' : age < 3600 ? 'm' : age < 86400 ? 'h' : 'd');
            longest = strlen(label[j]) > longest ? strlen(label[j]) : longest;
        }
        for (int row = 0; row < GRAPH_ROWS + (int)longest; row++) {
            for (int j = 0; j < cols; j++) {
                if (row >= GRAPH_ROWS) {
                    size_t at = (size_t)(row - GRAPH_ROWS);
                    line[j] = at < strlen(label[j]) ? label[j][at] : ' ';
                    continue;
                }
                int step = (int)((s[from + j]->ms - lo) * nsteps / range);
                step = step >= nsteps ? nsteps - 1 : step;
                int c = step - (GRAPH_ROWS - 1 - row) * 3;
                line[j] = c >= 3 ? '|' : c >= 0 ? steps[c] : ' ';
            }
            line[cols] = '\n';
            srv_buf_append(&b, line, (size_t)cols + 1);
        }
        srv_buf_append(&b, "\n", 1);
    }
    if (b.oom) {
        srv_reply_error(x->out, E_NOMEM);
    } else {
        srv_reply_verbatim(x->out, b.data, b.len);
    }
    srv_buf_free(&b);
}

/* One command's entry of LATENCY HISTOGRAM: its calls, and the calls at
 * or under each power-of-two microseconds (its buckets merged by
 * doubling: 1 us is 1024 ns here), where the count grows. */
static void reply_histogram(ctx *x, size_t i)
{
    long long h[SRV_LAT_BUCKETS];
    long long total = srv_cmdstat_hist(i, h);
    srv_reply_bulk(x->out, srv_cmdstat_name(i), strlen(srv_cmdstat_name(i)));
    srv_reply_map(x->out, 2);
    srv_reply_bulk(x->out, "calls", 5);
    srv_reply_int(x->out, total);
    srv_reply_bulk(x->out, "histogram_usec", 14);
    long long upto[SRV_LAT_OCTAVES + 1], cum = 0;
    int n = 0;
    for (int o = 0; o <= SRV_LAT_OCTAVES; o++) {
        size_t from = o == 0 ? 0 : 1 + (size_t)(o - 1) * SRV_LAT_SUB;
        size_t to = o == 0 ? 1 : from + SRV_LAT_SUB;
        long long add = 0;
        for (size_t b = from; b < to; b++) {
            add += h[b];
        }
        cum += add;
        upto[o] = add > 0 ? cum : -1;
        n += add > 0;
    }
    srv_reply_map(x->out, n);
    for (int o = 0; o <= SRV_LAT_OCTAVES; o++) {
        if (upto[o] >= 0) {
            srv_reply_int(x->out, 1LL << o);
            srv_reply_int(x->out, upto[o]);
        }
    }
}

/* LATENCY HISTOGRAM [command ...]: every command (and subcommand) called
 * since the last reset, or the named ones that have been; a command with
 * subcommands ("config") stands for them, and unknown names are skipped. */
static void histogram(ctx *x)
{
    size_t n = srv_cmdstat_count(), count = 0;
    bool *pick = calloc(n, sizeof *pick);
    if (pick == NULL) {
        srv_reply_error(x->out, E_NOMEM);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = srv_cmdstat_name(i), *bar = strchr(name, '|');
        bool named = x->argc == 2;
        for (size_t j = 2; j < x->argc && !named; j++) {
            named = (x->argl[j] == strlen(name) && strncasecmp(x->argv[j], name, x->argl[j]) == 0) ||
                    (bar != NULL && x->argl[j] == (size_t)(bar - name) &&
                     strncasecmp(x->argv[j], name, x->argl[j]) == 0);
        }
        long long h[SRV_LAT_BUCKETS];
        pick[i] = named && srv_cmdstat_hist(i, h) > 0;
        count += pick[i];
    }
    srv_reply_map(x->out, (long long)count);
    for (size_t i = 0; i < n; i++) {
        if (pick[i]) {
            reply_histogram(x, i);
        }
    }
    free(pick);
}

void cmd_latency(ctx *x)
{
    if (arg_is(x, 1, "HISTOGRAM")) {
        histogram(x);  // the command figures, not this file's events
        return;
    }
    pthread_mutex_lock(&lat_lock);
    if (arg_is(x, 1, "LATEST") && x->argc == 2) {
        srv_reply_array(x->out, nevents);
        for (int i = 0; i < nevents; i++) {
            const lat_event *e = &events[i];
            srv_reply_array(x->out, 4);
            srv_reply_bulk(x->out, e->name, strlen(e->name));
            srv_reply_int(x->out, latest(e)->time);
            srv_reply_int(x->out, latest(e)->ms);
            srv_reply_int(x->out, e->max);
        }
    } else if (arg_is(x, 1, "HISTORY") && x->argc == 3) {
        const lat_event *e = find(x->argv[2], x->argl[2]);
        int n = e != NULL ? e->count : 0;
        srv_reply_array(x->out, n);
        for (int k = 0; k < n; k++) {
            const lat_sample *s = &e->ring[(e->next + LAT_SAMPLES - n + k) % LAT_SAMPLES];
            srv_reply_array(x->out, 2);
            srv_reply_int(x->out, s->time);
            srv_reply_int(x->out, s->ms);
        }
    } else if (arg_is(x, 1, "GRAPH") && x->argc == 3) {
        const lat_event *e = find(x->argv[2], x->argl[2]);
        if (e == NULL || e->count == 0) {
            srv_reply_errorf(x->out, "ERR No samples available for event '%.*s'",
                             (int)x->argl[2], x->argv[2]);
        } else {
            graph(x, e);
        }
    } else if (arg_is(x, 1, "RESET")) {
        long long reset = 0;
        if (x->argc == 2) {
            reset = nevents;
            nevents = 0;
        } else {
            for (size_t j = 2; j < x->argc; j++) {
                lat_event *e = find(x->argv[j], x->argl[j]);
                if (e != NULL) {
                    *e = events[--nevents];
                    reset++;
                }
            }
        }
        srv_reply_int(x->out, reset);
    } else if (arg_is(x, 1, "DOCTOR") && x->argc == 2) {
        doctor(x);
    } else if (arg_is(x, 1, "HELP") && x->argc == 2) {
        size_t n = sizeof latency_help / sizeof latency_help[0];
        srv_reply_array(x->out, (long long)n);
        for (size_t i = 0; i < n; i++) {
            srv_reply_status(x->out, latency_help[i]);
        }
    } else {
        cmd_unknown_subcommand(x, "LATENCY");
    }
    pthread_mutex_unlock(&lat_lock);
}
