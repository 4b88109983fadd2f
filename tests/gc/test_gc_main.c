/*
 * test_gc_main.c - the cycle collector's Check suite: the helpers of
 * test_gc.h, the Node types, and main, which runs every test in its own
 * process (CK_FORK), so each starts with no runtime, default collector
 * settings and a fresh allocator, and a crash fails one test only.
 */
#include "test_gc.h"

#include <stdlib.h>

/* ======================================================================
 * The runtime around a test (the rest is in tests/common)
 * ====================================================================== */

void mwtest_on_start(void)
{
    reset_counters();
}

void start_exact(mw_lock_mode mode)
{
    // Read when the runtime is made; each test runs in its own process, so
    // this does not reach the next test.
    unsetenv("MWRT_GC_TORTURE");
    start(mode);
}

/* ======================================================================
 * Node
 * ====================================================================== */

int node_finalized[MAX_NODES];
int node_destroyed[MAX_NODES];
long total_finalized, total_destroyed;
int64_t resurrect_id = -1;
mw_object *zombie;
mw_object *finalizer_watch[WATCHED];
int finalizer_saw_dead, finalizer_saw_alive;
bool finalizer_breaks;
bool finalizer_collects;
intptr_t finalizer_collect_result;
mw_error_kind finalizer_collect_err;
bool finalizer_fails;
int finalizer_saw_error;

void reset_counters(void)
{
    for (int i = 0; i < MAX_NODES; i++) {
        node_finalized[i] = 0;
        node_destroyed[i] = 0;
    }
    total_finalized = total_destroyed = 0;
    resurrect_id = -1;
    zombie = NULL;
    for (int i = 0; i < WATCHED; i++) {
        finalizer_watch[i] = NULL;
    }
    finalizer_saw_dead = finalizer_saw_alive = 0;
    finalizer_breaks = false;
    finalizer_collects = false;
    finalizer_collect_result = 0;
    finalizer_collect_err = MW_ERR_NONE;
    finalizer_fails = false;
    finalizer_saw_error = 0;
}

static int node_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    gc_node *n = (gc_node *)self;
    return n->next != NULL ? visit(n->next, arg) : 0;
}

static void node_clear(mw_object *self)
{
    gc_node *n = (gc_node *)self;
    mw_object *next = n->next;
    n->next = NULL;
    mw_decref(next);
}

static void node_finalize(mw_object *self)
{
    gc_node *n = (gc_node *)self;
    REQUIREF(n->value == node_value(n->id), "finalizing a broken node %lld",
             (long long)n->id);
    total_finalized++;
    if (mw_err_occurred() != MW_ERR_NONE) {
        finalizer_saw_error++;   // someone else's error leaked in here
    }
    if (n->id >= 0 && n->id < MAX_NODES) {
        node_finalized[n->id]++;
    }
    for (int i = 0; i < WATCHED; i++) {
        if (finalizer_watch[i] == NULL) {
            continue;
        }
        mw_object *t = mw_weakref_get(finalizer_watch[i]);
        REQUIREF(t != NULL, "mw_weakref_get in a finalizer: %s", mw_err_message());
        if (mw_is(t, mw_none())) {
            finalizer_saw_dead++;
        } else {
            finalizer_saw_alive++;
        }
        mw_decref(t);
    }
    if (finalizer_breaks) {
        mw_object *next = n->next;
        n->next = NULL;
        mw_decref(next);   // may free the rest of the cycle, right here
    }
    if (finalizer_collects) {
        finalizer_collect_result = mw_gc_collect(0);
        finalizer_collect_err = mw_err_occurred();
        mw_err_clear();
    }
    if (resurrect_id >= 0 && n->id == resurrect_id) {
        resurrect_id = -1;   // once
        mw_incref(self);
        zombie = self;
    }
    if (finalizer_fails) {
        mw_err_set(MW_ERR_VALUE, "finalizer of node %lld failed", (long long)n->id);
    }
}

static void node_destroy(mw_object *self)
{
    gc_node *n = (gc_node *)self;
    // Destroyed once, and only after clear dropped the child (types with
    // a clear hook).
    REQUIREF(n->value == node_value(n->id), "destroying node %lld twice or broken",
             (long long)n->id);
    if (self->ob_type->clear != NULL) {
        REQUIREF(n->next == NULL, "node %lld destroyed before clear", (long long)n->id);
    }
    n->value = 0;   // poison: a later use of this node shows up in checks
    total_destroyed++;
    if (n->id >= 0 && n->id < MAX_NODES) {
        node_destroyed[n->id]++;
    }
}

const mw_type node_type = {
    .name = "Node",
    .size = sizeof(gc_node),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .destroy = node_destroy,
};

const mw_type fin_node_type = {
    .name = "FinNode",
    .size = sizeof(gc_node),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .destroy = node_destroy,
};

const mw_type weak_node_type = {
    .name = "WeakNode",
    .size = sizeof(gc_node),
    .flags = MW_TYPE_GC | MW_TYPE_WEAKREF,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .destroy = node_destroy,
};

const mw_type noclear_node_type = {
    .name = "NoClearNode",
    .size = sizeof(gc_node),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .destroy = node_destroy,
};

mw_object *new_node(const mw_type *t, int64_t id)
{
    REQUIRE(id >= -1 && id < MAX_NODES);
    gc_node *n = (gc_node *)mw_new(t);
    REQUIREF(n != NULL, "mw_new(%s): %s", t->name, mw_err_message());
    n->id = id;
    n->value = node_value(id);
    return &n->ob;
}

void set_next(mw_object *n, mw_object *next)
{
    gc_node *g = (gc_node *)n;
    mw_object *old = g->next;
    mw_incref(next);
    g->next = next;
    mw_decref(old);
}

bool list_contains(mw_object *list, mw_object *o)
{
    size_t n = list_len(list);
    for (size_t i = 0; i < n; i++) {
        mw_object *item = mw_list_get(list, (ptrdiff_t)i);
        REQUIREF(item != NULL, "mw_list_get: %s", mw_err_message());
        bool same = mw_is(item, o);
        mw_decref(item);
        if (same) {
            return true;
        }
    }
    return false;
}

size_t list_len(mw_object *list)
{
    REQUIRE(list != NULL);
    size_t n = mw_list_len(list);
    REQUIREF(n != (size_t)-1, "mw_list_len: %s", mw_err_message());
    return n;
}

int gc_count0(void)
{
    int c[3] = {-1, -1, -1};
    mw_gc_get_count(c);
    return c[0];
}

/* ======================================================================
 * main
 * ====================================================================== */

static Suite *gc_suite(void)
{
    Suite *s = suite_create("gc");
    TCase *(*const cases[])(void) = {
        tcase_seed,  tcase_weak,       tcase_control, tcase_automatic,
        tcase_debug, tcase_introspect, tcase_threads, tcase_soup,
        tcase_shapes, tcase_confine, tcase_untrack,
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        suite_add_tcase(s, cases[i]());
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gc_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    // The number of failed tests (capped, as an exit status is 8 bits).
    return failed < 100 ? failed : 100;
}
