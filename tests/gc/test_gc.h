/*
 * test_gc.h - helpers of the cycle collector's Check suite (the runtime
 * around a test, error checks and allocator figures come from
 * tests/common/mwtest.h), and the Node user type every file builds its
 * cycles from.
 *
 * Node is the seed's "class Node" in C: an mw_object header, one owned
 * child (next), an id, and a value derived from the id that walks check to
 * see that a survivor is intact.  Its hooks count what happens to each
 * node (by id) and in total, so a test can say exactly which nodes a
 * collection finalized and freed.
 */
#ifndef MWRT_TEST_GC_H
#define MWRT_TEST_GC_H

#include <mwrt/gc.h>
#include <mwrt/mwrt.h>

#include "mwtest.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* start(mode) without the torture flavour: scripts/test.sh torture sets
 * MWRT_GC_TORTURE=1, which collects generation 0 before every container
 * allocation whatever the settings.  Tests that count collections or rely
 * on when automatic ones run use this; the others run under torture too. */
void start_exact(mw_lock_mode mode);


/* mw_gc_collect(gen) returned want, with no error pending. */
#define ASSERT_COLLECT(gen, want)                                           \
    do {                                                                    \
        intptr_t got_n_ = mw_gc_collect(gen);                               \
        REQUIREF(got_n_ == (intptr_t)(want),                                \
                 "mw_gc_collect(%d) = %ld, expected %ld (%s)", (int)(gen),  \
                 (long)got_n_, (long)(want), mw_err_message());             \
        ASSERT_NO_ERR();                                                    \
    } while (0)

/* ======================================================================
 * Node
 * ====================================================================== */

typedef struct gc_node {
    mw_object ob;
    mw_object *next;   /* an owned reference, or NULL */
    int64_t id;        /* 0..MAX_NODES-1 counts per node; -1 only in total */
    uint64_t value;    /* node_value(id) while the node lives */
} gc_node;

#define MAX_NODES 16384

/* What the hooks saw, per id and in total (reset_counters zeroes them). */
extern int node_finalized[MAX_NODES];
extern int node_destroyed[MAX_NODES];
extern long total_finalized, total_destroyed;
/* The finalizer of the node with this id (-1: none) resurrects it once, by
 * storing a new reference to it in zombie. */
extern int64_t resurrect_id;
extern mw_object *zombie;
/* Each finalizer reads the weak references here (NULL: none) and counts
 * those that already yielded None and those that did not. */
#define WATCHED 2
extern mw_object *finalizer_watch[WATCHED];
extern int finalizer_saw_dead, finalizer_saw_alive;
/* If set, each finalizer breaks its node's link (next = NULL). */
extern bool finalizer_breaks;
/* If set, each finalizer calls mw_gc_collect(0) and records the result and
 * error kind here (then clears the error). */
extern bool finalizer_collects;
extern intptr_t finalizer_collect_result;
extern mw_error_kind finalizer_collect_err;
/* If set, each finalizer leaves an error pending (MW_ERR_VALUE).  Finalizers
 * that found an error already pending when called are counted. */
extern bool finalizer_fails;
extern int finalizer_saw_error;

/* MW_TYPE_GC with traverse, clear and destroy; no finalizer. */
extern const mw_type node_type;
/* The same with a finalizer (the seed's __del__). */
extern const mw_type fin_node_type;
/* The same, weakly referenceable (MW_TYPE_GC | MW_TYPE_WEAKREF). */
extern const mw_type weak_node_type;
/* MW_TYPE_GC with traverse and destroy but no clear: uncollectable. */
extern const mw_type noclear_node_type;

/* The value a live node with this id holds. */
static inline uint64_t node_value(int64_t id)
{
    return (uint64_t)id * 0x9E3779B97F4A7C15ull + 0x5bd1e995ull;
}

void reset_counters(void);
/* A new node (count 1) of type t with this id, next NULL. */
mw_object *new_node(const mw_type *t, int64_t id);
/* n.next = next: next gains a reference, the old one loses one. */
void set_next(mw_object *n, mw_object *next);
/* The node's next, borrowed. */
static inline mw_object *get_next(mw_object *n)
{
    return ((gc_node *)n)->next;
}
/* True if list holds o (by identity). */
bool list_contains(mw_object *list, mw_object *o);
/* mw_list_len, checked. */
size_t list_len(mw_object *list);
/* mw_gc_get_count's generation 0. */
int gc_count0(void);

/* ======================================================================
 * The test cases, one or more per file
 * ====================================================================== */

TCase *tcase_seed(void);        /* test_gc_seed.c */
TCase *tcase_weak(void);        /* test_gc_seed.c */
TCase *tcase_control(void);     /* test_gc_api.c */
TCase *tcase_automatic(void);   /* test_gc_api.c */
TCase *tcase_debug(void);       /* test_gc_debug.c */
TCase *tcase_introspect(void);  /* test_gc_introspect.c */
TCase *tcase_threads(void);     /* test_gc_threads.c */
TCase *tcase_soup(void);        /* test_gc_soup.c */
TCase *tcase_shapes(void);      /* test_gc_shapes.c */
TCase *tcase_confine(void);     /* test_gc_confine.c */
TCase *tcase_untrack(void);     /* test_gc_untrack.c */

#endif /* MWRT_TEST_GC_H */
