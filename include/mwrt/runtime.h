/*
 * mwrt/runtime.h - creating the runtime, attaching threads, errors.
 *
 * One runtime exists in a process at a time.  A thread that works with
 * objects first attaches to it (mw_thread_attach) and detaches when done;
 * the calling thread is implicit, as in CPython.  Object calls on a thread
 * that is not attached fail with MW_ERR_STATE.
 */
#ifndef MWRT_RUNTIME_H
#define MWRT_RUNTIME_H

#include <mwrt/common.h>

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mw_runtime mw_runtime;

/* How reference counts are kept (fixed for the runtime's life). */
typedef enum mw_lock_mode {
    MW_LOCK_GIL = 0,  /* one global lock; only its holder runs object code;
                         counts are plain integers */
    MW_LOCK_FREE = 1  /* no global lock; biased reference counting: the
                         owning thread counts without atomics, others with */
} mw_lock_mode;

/* When the cycle collector runs automatically (see mwrt/gc.h for the
 * whole schedule; changeable at run time with mw_gc_set_policy). */
typedef enum mw_gc_policy {
    MW_GC_STW = 0,    /* collect as soon as a threshold trips, with every
                         other worker parked at a safepoint */
    MW_GC_PAUSED = 1, /* hold automatic collection while workers are busy;
                         the master thread collects when they are all idle
                         (mw_idle_begin), and stops the world anyway when
                         memory passes the ceiling */
    MW_GC_OFF = 2     /* only explicit collections (and the memory limit) */
} mw_gc_policy;

typedef struct mw_config {
    mw_lock_mode lock;            /* default MW_LOCK_GIL */
    mw_gc_policy gc_policy;       /* default MW_GC_STW */
    int threshold[3];             /* default 700, 10, 10; clamped to >= 0 */
    int gc_full_growth;           /* percent the long-lived heap grows by
                                     before a full collection (mwrt/gc.h);
                                     default 100; CPython's rule is 25;
                                     clamped to 0 .. 10000 */
    size_t memory_limit;          /* bytes of allocator memory (arenas and
                                     large blocks); 0 (default) = none.
                                     Full collections are forced as it is
                                     approached; past it, allocations fail
                                     with MW_ERR_NOMEM after a collection */
    unsigned switch_interval_us;  /* GIL switch interval; default 5000 us,
                                     clamped to 100 us .. 1 s */
} mw_config;

/* Fill *cfg with the defaults above.  Any thread. */
MW_API void mw_config_default(mw_config *cfg);

/*
 * Create the runtime (cfg NULL = defaults) and start its master thread,
 * which decides when to collect (see mwrt/gc.h).  Returns it, or NULL
 * with an error set (MW_ERR_STATE if a runtime already exists,
 * MW_ERR_NOMEM, also when the master thread cannot be started).  The
 * calling thread is not attached by this call.  Any thread.
 */
MW_API mw_runtime *mw_runtime_new(const mw_config *cfg);

/*
 * Destroy the runtime, stopping its master thread.  Every thread must
 * have detached first: returns
 * MW_EBUSY (and does nothing) otherwise, MW_EINVAL for a NULL or foreign
 * runtime, 0 on success.  Objects still alive stay valid memory but must
 * not be used with a later runtime.  Any thread that is not attached.
 */
MW_API int mw_runtime_free(mw_runtime *rt);

/* The lock mode of rt.  Any thread. */
MW_API mw_lock_mode mw_runtime_lock_mode(const mw_runtime *rt);

/*
 * Attach the calling thread to rt: it gets its own thread state (and, in
 * GIL mode, takes the GIL).  Returns 0, MW_EINVAL (rt NULL or not the
 * current runtime), MW_EBUSY (already attached) or MW_ENOMEM.
 */
MW_API int mw_thread_attach(mw_runtime *rt);

/*
 * Detach the calling thread: objects it owns stay alive and valid for the
 * other threads (their counts are merged so any thread can free them).  In
 * GIL mode releases the GIL.  Returns 0, or MW_EINVAL if not attached.
 */
MW_API int mw_thread_detach(void);

/* True if the calling thread is attached.  Any thread. */
MW_API bool mw_thread_is_attached(void);

/* The calling thread's id in the runtime (1, 2, ...; 0 if not attached):
 * the number messages and mw_gc_get_thread_stats name it by.  A thread
 * gets a new id when it confines itself. */
MW_API uint64_t mw_thread_id(void);

/*
 * Confine the calling thread (MW_LOCK_FREE only): from now on, every
 * object it makes belongs to it alone, and the containers among them live
 * in the thread's own generations, with its own counts and thresholds
 * (copied from the global ones now; mw_gc_set_threshold on this thread
 * changes its own).  The thread collects its own heap, at the master's
 * request or explicitly, without stopping any other thread; no other
 * thread's or the master's collection ever looks at it.  See
 * docs/sched.md, "Confined heaps".
 *
 * In exchange, its objects must never reach another thread:
 *   - another thread that counts one of them (incref, decref, a weak
 *     reference read) is a programming error; the process aborts with a
 *     message naming both threads (as CPython's Py_FatalError);
 *   - storing one into a container of another thread or a shared one,
 *     or changing a confined container from another thread, is refused
 *     with -1 and MW_ERR_STATE by mw_list_append/set, mw_dict_set,
 *     mw_set_add, mw_tuple_new; mw_copy/mw_deepcopy of another confined
 *     thread's object is refused likewise.
 * To hand a value across, pass plain data (a C buffer) and build the
 * object on the receiving thread.  The thread may still use shared
 * (unconfined) objects, as any thread does.
 *
 * Call it right after mw_thread_attach.  Objects the thread made before
 * stay shared (they keep the thread's previous id).  mw_thread_detach ends
 * confinement: it collects the thread's garbage and the shared heap adopts
 * what is left, unconfined.
 *
 * Returns 0, or -1 with MW_ERR_STATE (not attached, inside a blocking or
 * idle region, MW_LOCK_GIL, already confined) or MW_ERR_NOMEM.
 */
MW_API int mw_thread_confine(void);

/* True if the calling thread is confined.  Any thread. */
MW_API bool mw_thread_is_confined(void);

/*
 * A point where the calling thread may yield: it parks here while another
 * thread has the world stopped for a collection (free mode); in GIL mode
 * it hands the GIL over if another thread has waited a switch interval;
 * it also settles
 * reference counts other threads passed to it and takes back memory other
 * threads freed to its heap.  Call it now and then in long loops.
 * Attached threads only.
 */
MW_API void mw_safepoint(void);

/*
 * Bracket a blocking call (I/O, sleeping, waiting for a lock or another
 * thread).  In between, the thread holds no object and must not touch
 * one; in GIL mode the GIL is released; in free mode the thread counts as
 * stopped, so collections go ahead without it, and mw_blocking_end waits
 * while one has the world stopped.  Every wait of an attached thread
 * belongs in such a region: a thread that waits outside one holds up
 * other threads (under the GIL) and collections (in free mode).  Nests
 * are not allowed.  Attached threads only.
 */
MW_API void mw_blocking_begin(void);
MW_API void mw_blocking_end(void);

/*
 * Bracket the time a worker waits for work (e.g. a libuv loop's poll).
 * Like a blocking region - the thread holds no object, counts as stopped,
 * and in GIL mode releases the GIL - and more: it tells the master thread
 * that this worker is idle, so that under MW_GC_PAUSED a due collection
 * runs now, while no request is being served.  mw_idle_begin is also a
 * safepoint.  mw_idle_end waits while a collection runs.  Attached
 * threads only; not nested with mw_blocking_begin.
 */
MW_API void mw_idle_begin(void);
MW_API void mw_idle_end(void);

/* ======================================================================
 * Errors: one per thread, kind + message
 * ====================================================================== */

typedef enum mw_error_kind {
    MW_ERR_NONE = 0,
    MW_ERR_NOMEM,     /* out of memory */
    MW_ERR_TYPE,      /* wrong type, NULL argument, unhashable key */
    MW_ERR_INDEX,     /* index out of range */
    MW_ERR_KEY,       /* key missing */
    MW_ERR_OVERFLOW,  /* integer overflow, size too large */
    MW_ERR_VALUE,     /* bad value (e.g. a dead weak proxy) */
    MW_ERR_STATE,     /* runtime or thread in the wrong state */
    MW_ERR_RECURSION  /* structure nested too deeply (deepcopy) */
} mw_error_kind;

/* The calling thread's pending error kind (MW_ERR_NONE if none).  Any thread. */
MW_API mw_error_kind mw_err_occurred(void);

/* Its message ("" if none); valid until the next error or clear. */
MW_API const char *mw_err_message(void);

/* Clear the calling thread's error. */
MW_API void mw_err_clear(void);

/* Set the calling thread's error (for user types' code), printf-style. */
MW_API void mw_err_set(mw_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A static name for an error kind, e.g. "TypeError". */
MW_API const char *mw_err_name(mw_error_kind kind);

#ifdef __cplusplus
}
#endif
#endif /* MWRT_RUNTIME_H */
