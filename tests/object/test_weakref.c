/*
 * test_weakref.c - weak references and proxies: the seed's Parent/Child
 * (a child holds a weak proxy to its parent, so there is no cycle and
 * dropping the parent frees both without a collector) and Expensive (an
 * object with a finalizer and a weak reference: after the last reference
 * goes, the finalizer ran once and the reference yields None); callbacks;
 * errors; and a race between a dying target and a thread reading it.
 */
#include "test_object.h"

#include <pthread.h>
#include <stdatomic.h>

/* ======================================================================
 * Types: Node (weakly referenceable, with a finalizer), Child
 * ====================================================================== */

typedef struct node {
    mw_object ob;
    mw_object *children;   /* a list, or NULL */
} node;

static int finalized;
static int destroyed;

static int node_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    node *n = (node *)self;
    return n->children != NULL ? visit(n->children, arg) : 0;
}

static void node_clear(mw_object *self)
{
    node *n = (node *)self;
    mw_object *c = n->children;
    n->children = NULL;
    mw_decref(c);
}

static void node_finalize(mw_object *self)
{
    (void)self;
    finalized++;
}

static void node_destroy(mw_object *self)
{
    (void)self;
    destroyed++;
}

static const mw_type node_type = {
    .name = "Node",
    .size = sizeof(node),
    .flags = MW_TYPE_GC | MW_TYPE_WEAKREF,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .destroy = node_destroy,
};

typedef struct child {
    mw_object ob;
    mw_object *parent;     /* a weak proxy */
} child;

static void child_clear(mw_object *self)
{
    child *c = (child *)self;
    mw_object *p = c->parent;
    c->parent = NULL;
    mw_decref(p);
}

static void child_destroy(mw_object *self)
{
    (void)self;
    destroyed++;
}

static const mw_type child_type = {
    .name = "Child",
    .size = sizeof(child),
    .clear = child_clear,
    .destroy = child_destroy,
};

static int called;
static mw_object *called_with;

static void count_call(mw_object *ref)
{
    called++;
    called_with = ref;
}

/* ======================================================================
 * The seed's examples
 * ====================================================================== */

START_TEST(test_parent_child)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    finalized = destroyed = 0;
    // class Parent: self.children = [Child(self)]; the child holds
    // weakref.proxy(parent).
    node *parent = (node *)mw_new(&node_type);
    ck_assert_ptr_nonnull(parent);
    parent->children = mw_list_new();
    child *c = (child *)mw_new(&child_type);
    c->parent = mw_weakproxy_new(&parent->ob, NULL);
    ck_assert_ptr_nonnull(c->parent);
    ck_assert_int_eq(mw_list_append(parent->children, &c->ob), 0);
    mw_object *via_proxy = mw_weakproxy_get(c->parent);
    ck_assert(mw_is(via_proxy, &parent->ob));
    mw_decref(via_proxy);
    // The proxy does not count: the parent's only reference is ours.
    ck_assert_int_eq(mw_refcnt(&parent->ob), 1);
    ck_assert_uint_eq(mw_weakref_count(&parent->ob), 1);
    mw_object *proxy = c->parent;
    mw_incref(proxy);   // keep the proxy to try it after the parent is gone
    mw_decref(&c->ob);  // the list holds the child
    // No cycle: dropping the parent frees parent and child by counting.
    mw_decref(&parent->ob);
    ck_assert_int_eq(finalized, 1);
    ck_assert_int_eq(destroyed, 2);
    ck_assert_ptr_null(mw_weakproxy_get(proxy));
    ASSERT_ERR(MW_ERR_VALUE);
    mw_decref(proxy);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

START_TEST(test_expensive)
{
    start(MODE(_i));
    finalized = destroyed = called = 0;
    // obj = Expensive(); r = weakref.ref(obj); del obj; r() is None
    mw_object *obj = mw_new(&node_type);
    mw_object *r = mw_weakref_new(obj, count_call);
    ck_assert_ptr_nonnull(r);
    mw_object *alive = mw_weakref_get(r);
    ck_assert(mw_is(alive, obj));
    mw_decref(alive);
    mw_decref(obj);
    ck_assert_int_eq(finalized, 1);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_int_eq(called, 1);
    ck_assert(mw_is(called_with, r));
    mw_object *gone = mw_weakref_get(r);
    ck_assert(mw_is(gone, mw_none()));
    mw_decref(r);
    ck_assert_int_eq(finalized, 1);   // never twice
    stop();
}
END_TEST

/* ======================================================================
 * Callbacks, lifetimes, errors
 * ====================================================================== */

static mw_object *held_ref;

static void drop_self(mw_object *ref)
{
    // The callback drops the last outside reference to its weakref: the
    // runtime keeps it alive until the call returns.
    ck_assert(mw_is(ref, held_ref));
    mw_decref(held_ref);
    held_ref = NULL;
    called++;
}

START_TEST(test_callbacks_and_lifetimes)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    called = 0;
    mw_object *obj = mw_new(&node_type);
    // A weakref that dies first gets no call, and leaves the target's list.
    mw_object *early = mw_weakref_new(obj, count_call);
    mw_object *plain = mw_weakref_new(obj, NULL);
    held_ref = mw_weakref_new(obj, drop_self);
    ck_assert_uint_eq(mw_weakref_count(obj), 3);
    mw_decref(early);
    ck_assert_uint_eq(mw_weakref_count(obj), 2);
    mw_decref(obj);
    ck_assert_int_eq(called, 1);        // drop_self only
    ck_assert_ptr_null(held_ref);
    mw_object *none = mw_weakref_get(plain);
    ck_assert(mw_is(none, mw_none()));
    mw_decref(plain);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

START_TEST(test_weakref_errors)
{
    start(MODE(_i));
    mw_object *i = mw_int(100000);
    mw_object *l = mw_list_new();
    ck_assert_ptr_null(mw_weakref_new(i, NULL));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_weakref_new(l, NULL));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_weakproxy_new(NULL, NULL));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_weakref_get(l));
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_ptr_null(mw_weakref_get(NULL));
    ASSERT_ERR(MW_ERR_TYPE);
    mw_object *obj = mw_new(&node_type);
    mw_object *r = mw_weakref_new(obj, NULL);
    ck_assert_ptr_null(mw_weakproxy_get(r));   // a ref is not a proxy
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert_uint_eq(mw_weakref_count(i), 0);
    mw_decref(r);
    mw_decref(obj);
    mw_decref(l);
    mw_decref(i);
    stop();
}
END_TEST

/* ======================================================================
 * A target dying on one thread while another reads it
 * ====================================================================== */

enum { RACE_ROUNDS = 2000 };

typedef struct race {
    pthread_mutex_t lock;
    mw_object *ref;          /* the weakref of this round, under lock */
    atomic_int round;        /* the round the reader should read */
    atomic_int done;         /* rounds the reader finished */
    int seen_alive;
    int seen_dead;
} race;

static void *race_reader(void *arg)
{
    race *r = arg;
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        while (atomic_load(&r->round) <= round) {
            mw_blocking_begin();
            mw_blocking_end();
        }
        pthread_mutex_lock(&r->lock);
        mw_object *ref = r->ref;
        mw_incref(ref);
        pthread_mutex_unlock(&r->lock);
        for (int k = 0; k < 20; k++) {
            mw_object *t = mw_weakref_get(ref);
            REQUIRE(t != NULL);
            if (mw_is(t, mw_none())) {
                r->seen_dead++;
            } else {
                REQUIRE(mw_type_of(t) == &node_type);
                r->seen_alive++;
            }
            mw_decref(t);
            mw_safepoint();
        }
        mw_decref(ref);
        atomic_store(&r->done, round + 1);
    }
    mw_thread_detach();
    return NULL;
}

START_TEST(test_target_dies_while_read)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    race r = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pthread_t t;
    pthread_create(&t, NULL, race_reader, &r);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        mw_object *obj = mw_new(&node_type);
        mw_object *ref = mw_weakref_new(obj, NULL);
        pthread_mutex_lock(&r.lock);
        mw_object *old = r.ref;
        r.ref = ref;
        pthread_mutex_unlock(&r.lock);
        mw_decref(old);
        atomic_store(&r.round, round + 1);
        mw_decref(obj);   // dies while the reader may be reading it
        while (atomic_load(&r.done) <= round) {
            mw_blocking_begin();
            mw_blocking_end();
            mw_safepoint();
        }
    }
    mw_blocking_begin();
    pthread_join(t, NULL);
    mw_blocking_end();
    mw_decref(r.ref);
    ck_assert_int_eq(r.seen_alive + r.seen_dead, RACE_ROUNDS * 20);
    ck_assert_int_gt(r.seen_dead, 0);
    mw_safepoint();
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_weakref(void)
{
    TCase *tc = tcase_create("weakref");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_parent_child, 0, NMODES);
    tcase_add_loop_test(tc, test_expensive, 0, NMODES);
    tcase_add_loop_test(tc, test_callbacks_and_lifetimes, 0, NMODES);
    tcase_add_loop_test(tc, test_weakref_errors, 0, NMODES);
    tcase_add_loop_test(tc, test_target_dies_while_read, 0, NMODES);
    return tc;
}
