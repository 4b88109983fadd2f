/*
 * server/rdb.h - persistence (rdb.c): Redis's RDB format for DUMP/RESTORE
 * payloads and for the snapshot file, what the rest of the server calls.
 */
#ifndef MWRT_SERVER_RDB_H
#define MWRT_SERVER_RDB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Redis's CRC-64 (Jones polynomial, reflected, no final xor), continued
 * from crc over n bytes at p.  Any thread. */
uint64_t srv_crc64(uint64_t crc, const void *p, size_t n);
/* LZF decompression of n bytes at in into exactly outn bytes at out:
 * false if the input is malformed or does not make outn bytes. */
bool srv_lzf_decompress(const void *in, size_t n, void *out, size_t outn);

/* The settings (config.c's table reads and writes them): the directory
 * of the snapshot (absolute), its file name, the save points, whether
 * saving writes a checksum, and refuses writes after a failed save. */
typedef struct srv_save_point {
    long long secs, changes;
} srv_save_point;
const char *srv_rdb_set_dir(const char *v, size_t n, bool at_start);
void srv_rdb_format_dir(char *buf, size_t cap);
const char *srv_rdb_set_filename(const char *v, size_t n, bool at_start);
void srv_rdb_format_filename(char *buf, size_t cap);
const char *srv_rdb_set_save(const char *v, size_t n, bool at_start);
void srv_rdb_format_save(char *buf, size_t cap);
extern _Atomic(long long) srv_rdb_compression, srv_rdb_checksum, srv_rdb_stop_writes;

/* Changes since the last successful save (rdb_changes_since_last_save):
 * commands.c counts one per write command run, in a counter of the
 * running worker's own (no cache line shared between workers on the hot
 * path); srv_rdb_changes sums them.  Any thread. */
typedef struct srv_rdb_slot {
    _Atomic(long long) n;
    char pad[64 - sizeof(long long)];
} srv_rdb_slot;
#define SRV_RDB_SLOTS 257       /* --workers is at most 256; the last: others */
extern srv_rdb_slot srv_rdb_writes[SRV_RDB_SLOTS];
static inline void srv_rdb_note_write(int worker)
{
    if (worker >= 0 && worker < SRV_RDB_SLOTS - 1) {
        _Atomic(long long) *n = &srv_rdb_writes[worker].n;   // written by its worker only
        atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&srv_rdb_writes[SRV_RDB_SLOTS - 1].n, 1, memory_order_relaxed);
    }
}
long long srv_rdb_changes(void);
/* A write is refused after a failed background save while
 * stop-writes-on-bgsave-error is on: Redis's MISCONF error, or NULL. */
const char *srv_rdb_write_refusal(void);

/* At start (main thread, before the workers): read and check the whole
 * snapshot file if there is one; false after logging why (the server then
 * refuses to start).  Each worker then builds the keys it owns
 * (srv_rdb_load_worker, on its thread, attached, before it serves), and
 * main frees the file (srv_rdb_load_done). */
bool srv_rdb_load_check(void);
bool srv_rdb_load_worker(int index);
void srv_rdb_load_done(void);

/* Per worker: its cron's part of a background save (each owner writes
 * its shard; the last one hands the file to a writer thread) and of the
 * save points (worker 0); its part of a save at shutdown.  The worker's
 * thread, holding the keyspace. */
void srv_rdb_cron(int index);
void srv_rdb_stop(int index);
/* SHUTDOWN: whether to save at the stop (SAVE, or save points and not
 * NOSAVE), set before the stop begins. */
void srv_rdb_save_at_stop(bool on);
bool srv_rdb_has_save_points(void);

/* INFO persistence's lines, into b (an srv_buf). */
struct srv_buf;
void srv_rdb_info(struct srv_buf *b);
/* LASTSAVE's answer: the unix time of the last successful save. */
long long srv_rdb_lastsave(void);

#endif
