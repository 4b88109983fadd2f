/*
 * gil.c - the global interpreter lock of MW_LOCK_GIL mode.
 *
 * The technique is CPython's "new GIL" (Antoine Pitrou, 2009): a mutex and
 * condition variable guard a `locked` flag.  A thread that wants the GIL
 * waits on the condition for one switch interval at a time; if the holder
 * has not changed in that interval, it raises drop_request.  The holder
 * polls drop_request at its safepoints (mw_safepoint); when it sees it, it
 * releases the GIL and waits until another thread has taken it (the
 * "forced switch"), so it cannot grab it straight back.  A waiter therefore
 * gets the GIL within about one switch interval of asking, provided the
 * holder reaches a safepoint, as CPython's does between bytecodes.
 *
 * Invariants (under g->mutex): locked iff holder != NULL; switch_number
 * counts takes; waiters counts threads inside mw__gil_take's wait loop.
 */
#include "object/object.h"

#include <errno.h>
#include <time.h>

void mw__gil_init(mw__gil *g)
{
    pthread_mutex_init(&g->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cond, &attr);
    pthread_cond_init(&g->switched, &attr);
    pthread_condattr_destroy(&attr);
    g->locked = false;
    g->holder = NULL;
    g->switch_number = 0;
    g->waiters = 0;
    mw__atomic_store_relaxed(&g->drop_request, false);
}

void mw__gil_destroy(mw__gil *g)
{
    pthread_cond_destroy(&g->switched);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->mutex);
}

static struct timespec deadline_after(unsigned us)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)(us % 1000000u) * 1000;
    ts.tv_sec += us / 1000000u + ts.tv_nsec / 1000000000;
    ts.tv_nsec %= 1000000000;
    return ts;
}

/* Take the GIL for t, waiting as long as it takes.  Attached thread. */
void mw__gil_take(mw_runtime *rt, mw__tstate *t)
{
    mw__gil *g = &rt->gil;
    pthread_mutex_lock(&g->mutex);
    if (g->locked) {
        g->waiters++;
        while (g->locked) {
            uint64_t seen = g->switch_number;
            struct timespec until = deadline_after(rt->config.switch_interval_us);
            int rc = pthread_cond_timedwait(&g->cond, &g->mutex, &until);
            if (rc == ETIMEDOUT && g->locked && g->switch_number == seen) {
                // A whole interval with the same holder: ask it to let go.
                mw__atomic_store_relaxed(&g->drop_request, true);
            }
        }
        g->waiters--;
    }
    g->locked = true;
    g->holder = t;
    g->switch_number++;
    mw__atomic_store_relaxed(&g->drop_request, false);
    t->holds_gil = true;
    pthread_cond_broadcast(&g->switched);
    pthread_mutex_unlock(&g->mutex);
}

/*
 * Release the GIL held by t.  With hand_over, wait until another thread
 * has taken it (if any is waiting), so the caller cannot take it straight
 * back.  Attached thread holding the GIL.
 */
void mw__gil_drop(mw_runtime *rt, mw__tstate *t, bool hand_over)
{
    mw__gil *g = &rt->gil;
    pthread_mutex_lock(&g->mutex);
    if (!t->holds_gil) {
        pthread_mutex_unlock(&g->mutex);
        return;
    }
    g->locked = false;
    g->holder = NULL;
    t->holds_gil = false;
    uint64_t released_at = g->switch_number;
    pthread_cond_signal(&g->cond);
    if (hand_over) {
        while (g->switch_number == released_at && g->waiters > 0) {
            pthread_cond_wait(&g->switched, &g->mutex);
        }
    }
    pthread_mutex_unlock(&g->mutex);
}

bool mw__gil_try_take(mw_runtime *rt, mw__tstate *t)
{
    mw__gil *g = &rt->gil;
    pthread_mutex_lock(&g->mutex);
    bool took = !g->locked;
    if (took) {
        g->locked = true;
        g->holder = t;
        g->switch_number++;
        t->holds_gil = true;
        pthread_cond_broadcast(&g->switched);
    }
    pthread_mutex_unlock(&g->mutex);
    return took;
}

void mw__gil_take_urgent(mw_runtime *rt, mw__tstate *t)
{
    mw__atomic_store_relaxed(&rt->gil.drop_request, true);
    mw__gil_take(rt, t);
}
