/*
 * server/state.c - what every file of the server reaches for: the server's
 * state (srv), the clocks, the log, and the memory figure that maxmemory
 * and INFO read.
 *
 * The log: one line per call on stderr, "mwrt-server: HH:MM:SS.mmm text",
 * written with one fprintf so that lines of different threads never mix;
 * srv_log_limited drops lines past 10 a second (a flood of refused
 * clients must not become a flood of writes) and says how many it dropped.
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

srv_server srv;

int64_t srv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t srv_mono_us(void)
{
    return uv_hrtime() / 1000;
}

static void vlog(const char *fmt, va_list ap)
{
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%H:%M:%S", &tm);
    // One fprintf per line, so lines of different threads do not mix.
    fprintf(stderr, "mwrt-server: %s.%03ld %s\n", when, ts.tv_nsec / 1000000, msg);
}

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

/* At most this many rate-limited lines per second. */
#define SRV_LOG_PER_SECOND 10

static _Atomic(int64_t) log_window;
static _Atomic(int) log_count;
static _Atomic(long long) log_dropped;

void srv_log_limited(const char *fmt, ...)
{
    int64_t sec = srv_now_ms() / 1000;
    int64_t win = atomic_load(&log_window);
    if (win != sec && atomic_compare_exchange_strong(&log_window, &win, sec)) {
        atomic_store(&log_count, 0);
        long long dropped = atomic_exchange(&log_dropped, 0);
        if (dropped > 0) {
            srv_log("(%lld similar lines suppressed)", dropped);
        }
    }
    if (atomic_fetch_add(&log_count, 1) >= SRV_LOG_PER_SECOND) {
        atomic_fetch_add(&log_dropped, 1);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
}

size_t srv_memory_used(mw_alloc_stats *out, size_t *small_out)
{
    mw_alloc_stats a;
    if (mw_alloc_get_stats(&a) != 0) {
        return 0;
    }
    size_t small = 0;
    for (int i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        small += a.classes[i].blocks_in_use * a.classes[i].block_size;
    }
    if (out != NULL) {
        *out = a;
    }
    if (small_out != NULL) {
        *small_out = small;
    }
    // The runtime's own figure: the same sum, except where objects do not
    // live in its allocator (an AddressSanitizer build).
    return mw_gc_memory_used();
}

