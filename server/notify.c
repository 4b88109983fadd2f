/*
 * server/notify.c - keyspace notifications: what changed, published on
 * pub/sub channels, as Redis's notify-keyspace-events does.
 *
 * Technique.  The setting is one word of class bits (SRV_NOTIFY_*,
 * server.h).  Every place that changes a key calls srv_notify(class,
 * event, key) right after the change; srv_notify is inline and tests the
 * word, so with notifications off (the default, "") an event costs one
 * relaxed load and a branch.  When the class is on, srv_notify_slow
 * builds the two channels Redis uses,
 *
 *     __keyspace@<db>__:<key>    with the event name as the message (K)
 *     __keyevent@<db>__:<event>  with the key as the message (E)
 *
 * and publishes each through srv_pubsub_publish, the path of PUBLISH: the
 * registry is global, so a subscriber on any worker receives events of
 * keys of every shard, in the order the owning worker made them.  <db> is
 * the database of the current keyspace (the one the change was made in).
 *
 * Where the events come from.  The keyspace functions raise those that
 * do not depend on the command: "new" when srv_ks_set adds a key,
 * "expired" for lazy and active expiry, "evicted" (srv_ks_evict,
 * keyspace.c), "del" when
 * drop_if_empty removes an emptied aggregate (commands.c).  Each write
 * command raises its own event (Redis's names: "set", "lpush", "zincr",
 * ...) after it changed its key, through notify_key (cmd.h).  Order
 * within one command follows Redis (e.g. LMOVE: the push on the
 * destination, then the pop on the source, then "del" of an emptied
 * source).
 *
 * "expired" and "evicted" raised by a cron are delivered by that worker's
 * srv_pubsub_flush after the cron (net.c), not at the next request.
 *
 * Not handled: stream events (no streams), the module class (no
 * modules), loaded (no persistence).
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Atomic(int) srv_notify_flags;

/* ======================================================================
 * Publishing
 * ====================================================================== */

/* Publish "__<kind>@<db>__:" + name on the channel, msg as the message.
 * Channels of ordinary keys fit the stack buffer; a huge key takes one
 * malloc. */
static void publish_on(const char *kind, const char *name, size_t nn, const char *msg,
                       size_t mn)
{
    char prefix[48];
    int pl = snprintf(prefix, sizeof prefix, "__%s@%d__:", kind,
                      srv_ks_cur != NULL ? srv_ks_cur->db : 0);
    size_t pn = pl > 0 ? (size_t)pl : 0;
    char local[256];
    char *ch = pn + nn <= sizeof local ? local : malloc(pn + nn);
    if (ch == NULL) {
        srv_log_limited("out of memory for a keyspace notification");
        return;
    }
    memcpy(ch, prefix, pn);
    memcpy(ch + pn, name, nn);
    srv_pubsub_publish(ch, pn + nn, msg, mn);
    if (ch != local) {
        free(ch);
    }
}

void srv_notify_slow(int cls, const char *event, const char *key, size_t n)
{
    (void)cls;  // tested by srv_notify
    int flags = atomic_load_explicit(&srv_notify_flags, memory_order_relaxed);
    size_t en = strlen(event);
    if (flags & SRV_NOTIFY_KEYSPACE) {
        publish_on("keyspace", key, n, event, en);
    }
    if (flags & SRV_NOTIFY_KEYEVENT) {
        publish_on("keyevent", event, en, key, n);
    }
}

/* ======================================================================
 * The setting
 * ====================================================================== */

/* The letters, in the order CONFIG GET writes the event classes. */
static const struct {
    char letter;
    int bit;
} classes[] = {
    {'g', SRV_NOTIFY_GENERIC}, {'$', SRV_NOTIFY_STRING},  {'l', SRV_NOTIFY_LIST},
    {'s', SRV_NOTIFY_SET},     {'h', SRV_NOTIFY_HASH},    {'z', SRV_NOTIFY_ZSET},
    {'x', SRV_NOTIFY_EXPIRED}, {'e', SRV_NOTIFY_EVICTED}, {'t', SRV_NOTIFY_STREAM},
    {'d', SRV_NOTIFY_MODULE},  {'n', SRV_NOTIFY_NEW},
};
#define NCLASSES (sizeof classes / sizeof classes[0])

/* The bits of a string of class letters, or -1 at a letter that names
 * none (Redis's keyspaceEventsStringToFlags). */
static int parse(const char *p, size_t n)
{
    int flags = 0;
    for (size_t i = 0; i < n; i++) {
        int bit = 0;
        switch (p[i]) {
        case 'A': bit = SRV_NOTIFY_ALL; break;
        case 'K': bit = SRV_NOTIFY_KEYSPACE; break;
        case 'E': bit = SRV_NOTIFY_KEYEVENT; break;
        case 'm': bit = SRV_NOTIFY_KEY_MISS; break;
        default:
            for (size_t k = 0; k < NCLASSES; k++) {
                if (classes[k].letter == p[i]) {
                    bit = classes[k].bit;
                }
            }
            if (bit == 0) {
                return -1;
            }
        }
        flags |= bit;
    }
    return flags;
}

void srv_notify_format(char *buf, size_t cap)
{
    int flags = atomic_load_explicit(&srv_notify_flags, memory_order_relaxed);
    char tmp[NCLASSES + 4];
    size_t k = 0;
    // "A" stands for its classes; like Redis, it then hides "n" too.
    if ((flags & SRV_NOTIFY_ALL) == SRV_NOTIFY_ALL) {
        tmp[k++] = 'A';
    } else {
        for (size_t i = 0; i < NCLASSES; i++) {
            if (flags & classes[i].bit) {
                tmp[k++] = classes[i].letter;
            }
        }
    }
    if (flags & SRV_NOTIFY_KEYSPACE) {
        tmp[k++] = 'K';
    }
    if (flags & SRV_NOTIFY_KEYEVENT) {
        tmp[k++] = 'E';
    }
    if (flags & SRV_NOTIFY_KEY_MISS) {
        tmp[k++] = 'm';
    }
    tmp[k] = '\0';
    if (cap > 0) {
        size_t m = k < cap - 1 ? k : cap - 1;
        memcpy(buf, tmp, m);
        buf[m] = '\0';
    }
}

const char *srv_notify_set(const char *p, size_t n)
{
    int flags = parse(p, n);
    if (flags < 0) {
        return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    }
    atomic_store_explicit(&srv_notify_flags, flags, memory_order_relaxed);
    return NULL;
}
