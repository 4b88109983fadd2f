/*
 * test_gc_untrack.c - what the collector does not track (docs/objects.md):
 * dicts and sets are made untracked and tracked at the first store of an
 * object that may be tracked; a full collection untracks those that hold
 * only atomic objects again (young ones leave them); tuples are untracked
 * by any collection; a user type with MW_TYPE_GC_LAZY is treated as
 * they are.  And the cycles through them are still collected,
 * including the ones that an untracked container could hide: a dict that
 * holds an untracked dict or set stays tracked, since a later store may
 * track the inner one behind its back.
 *
 * The tests that assert what a given collection untracks use start_exact:
 * the torture mode's collections before every allocation would untrack
 * tuples earlier and reorder the generations.  The cycle tests run under
 * torture too.
 */
#include "test_gc.h"

/* gen's objects (new list) hold o, dropping the list. */
static bool in_generation(int gen, mw_object *o)
{
    mw_object *objs = mw_gc_get_objects(gen);
    REQUIREF(objs != NULL, "mw_gc_get_objects(%d): %s", gen, mw_err_message());
    bool in = list_contains(objs, o);
    mw_decref(objs);
    return in;
}

/* d[key] = value with a C string key. */
static void dset(mw_object *d, const char *key, mw_object *value)
{
    mw_object *k = mw_str(key);
    REQUIRE(k != NULL);
    REQUIREF(mw_dict_set(d, k, value) == 0, "mw_dict_set: %s", mw_err_message());
    mw_decref(k);
}

/* A new tuple of two small ints: tracked when made, as every tuple. */
static mw_object *int_pair(int64_t a, int64_t b)
{
    mw_object *items[2] = {mw_int(a), mw_int(b)};
    mw_object *t = mw_tuple_new(2, items);
    REQUIRE(t != NULL);
    mw_decref(items[0]);
    mw_decref(items[1]);
    return t;
}

/* ======================================================================
 * Dicts
 * ====================================================================== */

START_TEST(test_dict_of_atomics_is_untracked)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    int count = gc_count0();
    mw_object *d = mw_dict_new();
    ck_assert_ptr_nonnull(d);
    ck_assert(!mw_gc_is_tracked(d));   // made untracked
    ck_assert_int_eq(gc_count0(), count);   // and not counted
    mw_object *big = mw_int(123456789);
    mw_object *s = mw_str("a str value");
    dset(d, "int", big);
    dset(d, "str", s);
    dset(d, "none", mw_none());
    dset(d, "bool", mw_true());
    dset(d, "empty tuple", mw_tuple_new(0, NULL));   // immortal, never tracked
    ck_assert_int_eq(mw_dict_set(d, big, s), 0);     // non-str keys too
    ck_assert(!mw_gc_is_tracked(d));
    ck_assert(!in_generation(-1, d));
    ck_assert_int_eq(gc_count0(), count);
    // Replacing a value with another atomic one keeps it untracked.
    dset(d, "int", mw_int(7));
    ck_assert(!mw_gc_is_tracked(d));
    ck_assert_uint_eq(mw_dict_len(d), 6);
    // Nothing the collector can do about it, and it dies by counting.
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(d));
    mw_decref(big);
    mw_decref(s);
    mw_decref(d);
    ck_assert_int_eq(gc_count0(), count);
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

START_TEST(test_dict_store_tracks)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    int count = gc_count0();
    // A new value that may be tracked: a list.
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    dset(d, "n", mw_int(1));
    ck_assert(!mw_gc_is_tracked(d));
    dset(d, "list", l);
    ck_assert(mw_gc_is_tracked(d));
    ck_assert(in_generation(0, d));   // new to the collector: generation 0
    ck_assert_int_eq(gc_count0(), count + 2);   // the list and now the dict
    // Replacing a value (the other store path) with a container.
    mw_object *d2 = mw_dict_new();
    dset(d2, "x", mw_int(1));
    dset(d2, "x", l);
    ck_assert(mw_gc_is_tracked(d2));
    // A tuple key the collector has not untracked yet.
    mw_object *d3 = mw_dict_new();
    mw_object *t = int_pair(1, 2);
    ck_assert(mw_gc_is_tracked(t));
    ck_assert_int_eq(mw_dict_set(d3, t, mw_int(0)), 0);
    ck_assert(mw_gc_is_tracked(d3));
    // An untracked dict as a value: it may be tracked later.
    mw_object *inner = mw_dict_new();
    mw_object *d4 = mw_dict_new();
    dset(d4, "inner", inner);
    ck_assert(!mw_gc_is_tracked(inner));
    ck_assert(mw_gc_is_tracked(d4));
    // A user container too.
    mw_object *n = new_node(&node_type, 1);
    mw_object *d5 = mw_dict_new();
    dset(d5, "node", n);
    ck_assert(mw_gc_is_tracked(d5));
    // A failed store tracks nothing.
    mw_object *d6 = mw_dict_new();
    ck_assert_int_eq(mw_dict_set(d6, l, l), -1);   // unhashable key
    ASSERT_ERR(MW_ERR_TYPE);
    ck_assert(!mw_gc_is_tracked(d6));
    // Death of a tracked dict uncounts it.
    int before = gc_count0();
    mw_decref(d5);
    ck_assert_int_eq(gc_count0(), before - 1);
    mw_object *all[] = {l, d, d2, d3, t, inner, d4, n, d6};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        mw_decref(all[i]);
    }
    ASSERT_COLLECT(2, 0);
    ck_assert_int_eq(node_destroyed[1], 1);
    stop();
}
END_TEST

START_TEST(test_dict_untracked_by_full_collection)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    mw_object *d = mw_dict_new();
    mw_object *l = mw_list_new();
    dset(d, "v", l);
    ck_assert(mw_gc_is_tracked(d));
    dset(d, "v", mw_int(1));   // all atomic again
    mw_decref(l);
    ck_assert(mw_gc_is_tracked(d));   // stores never untrack
    // Young collections leave dicts alone; it moves up as any survivor.
    ASSERT_COLLECT(0, 0);
    ck_assert(mw_gc_is_tracked(d));
    ck_assert(in_generation(1, d));
    ASSERT_COLLECT(1, 0);
    ck_assert(in_generation(2, d));
    // A full collection untracks it.
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(d));
    ck_assert(!in_generation(-1, d));
    // And the next store of a container tracks it again, in generation 0.
    l = mw_list_new();
    dset(d, "w", l);
    ck_assert(mw_gc_is_tracked(d));
    ck_assert(in_generation(0, d));
    mw_decref(l);
    dset(d, "w", mw_none());
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(d));

    // Tuples are untracked by any collection; a dict holding one that was
    // tracked when stored goes in the same full collection (the tuple is
    // earlier in the generation, so it is judged first).
    mw_object *t = int_pair(3, 4);
    mw_object *e = mw_dict_new();
    dset(e, "t", t);
    ck_assert(mw_gc_is_tracked(e));
    ASSERT_COLLECT(0, 0);
    ck_assert(!mw_gc_is_tracked(t));
    ck_assert(mw_gc_is_tracked(e));
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(e));
    // An untracked tuple tracks nothing.
    mw_object *f = mw_dict_new();
    dset(f, "t", t);
    ck_assert_int_eq(mw_dict_set(f, t, t), 0);
    ck_assert(!mw_gc_is_tracked(f));

    // A dict that holds a container stays tracked.
    mw_object *g = mw_dict_new();
    mw_object *inner = mw_list_new();
    dset(g, "l", inner);
    ASSERT_COLLECT(2, 0);
    ck_assert(mw_gc_is_tracked(g));
    mw_decref(inner);   // g still holds it
    ASSERT_COLLECT(2, 0);
    ck_assert(mw_gc_is_tracked(g));

    mw_decref(d);
    mw_decref(t);
    mw_decref(e);
    mw_decref(f);
    mw_decref(g);
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

START_TEST(test_dict_cycles_collected)
{
    start(MODE(_i));   // under torture too
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    // d = {}; d["self"] = d
    mw_object *d = mw_dict_new();
    dset(d, "n", mw_int(1));
    dset(d, "self", d);
    ck_assert(mw_gc_is_tracked(d));
    mw_decref(d);
    ASSERT_COLLECT(2, 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // A value replaced by the dict itself (the replacing store path).
    d = mw_dict_new();
    dset(d, "x", mw_int(1));
    dset(d, "x", d);
    mw_decref(d);
    ASSERT_COLLECT(2, 1);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // A dict untracked by a full collection, in a cycle later.
    d = mw_dict_new();
    mw_object *l = mw_list_new();
    dset(d, "v", l);
    dset(d, "v", mw_int(0));
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(d));
    ck_assert_int_eq(mw_list_append(l, d), 0);
    dset(d, "l", l);   // l -> d -> l
    ck_assert(mw_gc_is_tracked(d));
    mw_decref(l);
    mw_decref(d);
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // The hidden cycle: outer holds inner, an untracked dict, so outer
    // stays tracked through full collections; then a store tracks inner
    // and closes outer -> inner -> list -> outer.
    mw_object *outer = mw_dict_new();
    mw_object *inner = mw_dict_new();
    dset(inner, "n", mw_int(5));
    dset(outer, "inner", inner);
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(inner));
    ck_assert(mw_gc_is_tracked(outer));
    l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, outer), 0);
    dset(inner, "l", l);
    ck_assert(mw_gc_is_tracked(inner));
    mw_decref(l);
    mw_decref(inner);
    mw_decref(outer);
    ASSERT_COLLECT(2, 3);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // The same through a tuple: (inner,) stays tracked while inner is an
    // untracked dict, then inner["t"] = t closes the cycle.
    inner = mw_dict_new();
    mw_object *t = mw_tuple_new(1, &inner);
    ASSERT_COLLECT(2, 0);
    ck_assert(mw_gc_is_tracked(t));
    dset(inner, "t", t);
    mw_decref(t);
    mw_decref(inner);
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // A deep copy of a dict cycle is a cycle too.
    d = mw_dict_new();
    dset(d, "self", d);
    mw_object *c = mw_deepcopy(d);
    ck_assert_ptr_nonnull(c);
    ck_assert(mw_gc_is_tracked(c));
    mw_decref(c);
    mw_decref(d);
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

START_TEST(test_dict_copies)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    mw_object *d = mw_dict_new();
    dset(d, "a", mw_int(1));
    dset(d, "b", mw_int(2));
    mw_object *c = mw_copy(d);
    mw_object *dc = mw_deepcopy(d);
    ck_assert(!mw_gc_is_tracked(c));
    ck_assert(!mw_gc_is_tracked(dc));
    mw_object *l = mw_list_new();
    dset(d, "l", l);
    mw_object *c2 = mw_copy(d);
    mw_object *dc2 = mw_deepcopy(d);
    ck_assert(mw_gc_is_tracked(c2));
    ck_assert(mw_gc_is_tracked(dc2));
    mw_object *all[] = {d, c, dc, l, c2, dc2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        mw_decref(all[i]);
    }
    ASSERT_COLLECT(2, 0);
    stop();
}
END_TEST

/* A container with a finalizer that replaces emptier_dict[0] by None. */
static mw_object *emptier_dict;

static int emptier_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    (void)self;
    (void)visit;
    (void)arg;
    return 0;
}

static void emptier_clear(mw_object *self)
{
    (void)self;   // nothing to drop; without a clear it would be uncollectable
}

static void emptier_finalize(mw_object *self)
{
    (void)self;
    if (emptier_dict != NULL) {
        REQUIRE(mw_dict_set(emptier_dict, mw_int(0), mw_none()) == 0);
        emptier_dict = NULL;
    }
}

static const mw_type emptier_type = {
    .name = "Emptier",
    .size = sizeof(mw_object),
    .flags = MW_TYPE_GC,
    .traverse = emptier_traverse,
    .clear = emptier_clear,
    .finalize = emptier_finalize,
};

/* A dict among the garbage that a finalizer leaves holding only atomic
 * objects: the second look at the garbage (after the finalizers) must not
 * untrack it - in free mode the collector holds a reference to each
 * object of the garbage, which would go with it - so it is cleared with
 * the rest.  l = [l, d]; d = {0: e}; e's finalizer sets d[0] = None. */
START_TEST(test_dict_emptied_by_finalizer)
{
    start(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    mw_object *l = mw_list_new();
    mw_object *d = mw_dict_new();
    mw_object *e = mw_new(&emptier_type);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(mw_dict_set(d, mw_int(0), e), 0);
    ck_assert_int_eq(mw_list_append(l, l), 0);
    ck_assert_int_eq(mw_list_append(l, d), 0);
    emptier_dict = d;
    mw_decref(e);
    mw_decref(d);
    mw_decref(l);
    ASSERT_COLLECT(2, 3);
    ck_assert_ptr_null(emptier_dict);   // the finalizer ran
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * Sets
 * ====================================================================== */

START_TEST(test_sets)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    int count = gc_count0();
    mw_object *s = mw_set_new();
    ck_assert(!mw_gc_is_tracked(s));
    for (int64_t i = 0; i < 100; i++) {
        mw_object *v = mw_int(i * 1000003);
        ck_assert_int_eq(mw_set_add(s, v), 0);
        mw_decref(v);
    }
    mw_object *str = mw_str("in a set");
    ck_assert_int_eq(mw_set_add(s, str), 0);
    ck_assert_int_eq(mw_set_add(s, mw_none()), 0);
    mw_decref(str);
    ck_assert(!mw_gc_is_tracked(s));
    ck_assert_int_eq(gc_count0(), count);
    // A tuple the collector has not untracked tracks it; a full
    // collection untracks both (the tuple is judged first).
    mw_object *t = int_pair(1, 2);
    ck_assert_int_eq(mw_set_add(s, t), 0);
    ck_assert(mw_gc_is_tracked(s));
    ck_assert(in_generation(0, s));
    ASSERT_COLLECT(0, 0);
    ck_assert(!mw_gc_is_tracked(t));
    ck_assert(mw_gc_is_tracked(s));   // young collections leave sets
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(s));
    // A present key added again stores nothing; an untracked tuple tracks
    // nothing.
    ck_assert_int_eq(mw_set_add(s, t), 0);
    mw_object *t2 = mw_tuple_new(1, &t);   // (t,): tracked when made
    ck_assert_int_eq(mw_set_add(s, t2), 0);
    ck_assert(mw_gc_is_tracked(s));
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(t2));
    ck_assert(!mw_gc_is_tracked(s));
    // Copies of an untracked set are untracked.
    mw_object *c = mw_copy(s);
    ck_assert(!mw_gc_is_tracked(c));
    mw_decref(c);
    // A set cannot be in a cycle (it holds only hashable objects, none of
    // them mutable), but it can hang off one, and dies with it.
    mw_object *l = mw_list_new();
    ck_assert_int_eq(mw_list_append(l, l), 0);
    ck_assert_int_eq(mw_list_append(l, s), 0);
    mw_decref(s);
    mw_decref(t);
    mw_decref(t2);
    mw_decref(l);
    ASSERT_COLLECT(2, 1);   // the list; the set and its tuples by counting
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* ======================================================================
 * A user type tracked lazily (MW_TYPE_GC_LAZY)
 * ====================================================================== */

/* A box of one reference, told to the collector before each store. */
typedef struct box {
    mw_object ob;
    mw_object *item;
} box;

static int box_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    box *b = (box *)self;
    return b->item != NULL ? visit(b->item, arg) : 0;
}

static void box_clear(mw_object *self)
{
    box *b = (box *)self;
    mw_object *o = b->item;
    b->item = NULL;
    mw_decref(o);
}

static const mw_type lazy_box_type = {
    .name = "lazy_box", .size = sizeof(box), .flags = MW_TYPE_GC | MW_TYPE_GC_LAZY,
    .traverse = box_traverse, .clear = box_clear, .destroy = box_clear,
};

static void box_put(mw_object *b, mw_object *item)
{
    REQUIREF(mw_gc_track_for(b, item) == 0, "mw_gc_track_for: %s", mw_err_message());
    mw_object *old = ((box *)b)->item;
    mw_incref(item);
    ((box *)b)->item = item;
    mw_decref(old);
}

START_TEST(test_user_lazy_type)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    int count = gc_count0();
    mw_object *b = mw_new(&lazy_box_type);
    ck_assert_ptr_nonnull(b);
    ck_assert(!mw_gc_is_tracked(b));   // made untracked, not counted
    ck_assert_int_eq(gc_count0(), count);
    mw_object *s = mw_str("atomic");
    box_put(b, s);
    mw_decref(s);
    ck_assert(!mw_gc_is_tracked(b));
    mw_object *l = mw_list_new();
    box_put(b, l);   // a container: tracked now
    ck_assert(mw_gc_is_tracked(b));
    ck_assert(in_generation(0, b));
    // b -> l -> b is found.
    ck_assert_int_eq(mw_list_append(l, b), 0);
    mw_decref(l);
    mw_decref(b);
    ASSERT_COLLECT(2, 2);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // All atomic again: a full collection untracks it.
    b = mw_new(&lazy_box_type);
    l = mw_list_new();
    box_put(b, l);
    mw_decref(l);
    box_put(b, mw_none());
    ASSERT_COLLECT(0, 0);
    ck_assert(mw_gc_is_tracked(b));   // young ones leave it
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(b));
    mw_decref(b);

    // Misuse is refused with a clear error, nothing tracked.
    mw_object *d = mw_list_new();
    ck_assert_int_eq(mw_gc_track_for(d, mw_none()), -1);
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(mw_err_message(), "not a lazily tracked container"));
    mw_err_clear();
    ck_assert_int_eq(mw_gc_track_for(NULL, mw_none()), -1);
    mw_err_clear();
    mw_decref(d);
    static const mw_type bad_type = {
        .name = "bad_lazy", .size = sizeof(box), .flags = MW_TYPE_GC_LAZY,
    };
    ck_assert_ptr_null(mw_new(&bad_type));
    ck_assert_int_eq(mw_err_occurred(), MW_ERR_TYPE);
    mw_err_clear();
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* A new empty list (a container: tracked when made). */
static mw_object *new_list(void);
static void lappend(mw_object *l, mw_object *item);

/* ======================================================================
 * Lists
 * ====================================================================== */

/* Lists are tracked when made and stay tracked through young collections;
 * a full collection untracks one that holds only atomic objects, and the
 * next store of something that may be tracked (append or set) tracks it
 * again, in generation 0.  A cycle closed through a list untracked that
 * way is still collected. */
START_TEST(test_lists)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    int count = gc_count0();
    mw_object *l = new_list();
    ck_assert(mw_gc_is_tracked(l));   // when made, as in CPython
    ck_assert_int_eq(gc_count0(), count + 1);
    mw_object *i = mw_int(123456789);
    lappend(l, i);
    lappend(l, mw_none());
    mw_decref(i);
    ASSERT_COLLECT(0, 0);
    ck_assert(mw_gc_is_tracked(l));   // young collections leave it
    ASSERT_COLLECT(1, 0);
    ck_assert(mw_gc_is_tracked(l));
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(l));   // all atomic: untracked
    ck_assert(!in_generation(-1, l));
    // More atomic items keep it untracked; a container tracks it again.
    ck_assert_int_eq(mw_list_set(l, 0, mw_true()), 0);
    lappend(l, mw_int(3));
    ck_assert(!mw_gc_is_tracked(l));
    mw_object *inner = mw_dict_new();   // untracked, but may be tracked later
    lappend(l, inner);
    ck_assert(mw_gc_is_tracked(l));
    ck_assert(in_generation(0, l));
    ASSERT_COLLECT(2, 0);
    ck_assert(mw_gc_is_tracked(l));   // holds a dict: stays tracked
    // mw_list_set is a store too.
    mw_object *m = new_list();
    lappend(m, mw_none());
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(m));
    ck_assert_int_eq(mw_list_set(m, 0, l), 0);
    ck_assert(mw_gc_is_tracked(m));
    // A cycle through a list that had been untracked: m -> l -> inner -> m.
    ck_assert_int_eq(mw_list_set(m, 0, mw_none()), 0);
    ASSERT_COLLECT(2, 0);
    ck_assert(!mw_gc_is_tracked(m));
    dset(inner, "m", m);
    ck_assert(mw_gc_is_tracked(inner));
    ck_assert(!mw_gc_is_tracked(m));   // m holds None: nothing leads back
    lappend(m, l);
    ck_assert(mw_gc_is_tracked(m));
    mw_decref(inner);
    mw_decref(l);
    mw_decref(m);
    ASSERT_COLLECT(2, 3);
    // A deep copy of an atomic list is a new list: tracked when made.
    mw_object *a = new_list();
    lappend(a, mw_none());
    ASSERT_COLLECT(2, 0);
    mw_object *c = mw_deepcopy(a);
    ck_assert_ptr_nonnull(c);
    ck_assert(mw_gc_is_tracked(c));
    mw_decref(a);
    mw_decref(c);
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

static mw_object *new_list(void)
{
    mw_object *l = mw_list_new();
    REQUIRE(l != NULL);
    return l;
}

/* l.append(item), keeping the caller's reference. */
static void lappend(mw_object *l, mw_object *item)
{
    REQUIREF(mw_list_append(l, item) == 0, "mw_list_append: %s", mw_err_message());
}

/*
 * A full collection of the shared heap counts a child's references the
 * first time anything meets it: its referrer's traverse, if that comes
 * first in the generation, or the walk (gc.c, update_subtract_full).
 * Each order, in one generation: children made after their referrers, a
 * tuple and a dict met early and then untracked, an object reachable
 * only through one made after it, and a cycle whose second half is met
 * early; then the same with a frozen object (the three passes), and again
 * after unfreezing.  Every figure must come out as if counted in order.
 */
START_TEST(test_full_collection_meets_children_early)
{
    start_exact(MODE(_i));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    for (int round = 0; round < 3; round++) {
        mw_object *frozen = NULL;
        if (round == 1) {
            frozen = new_list();
            mw_gc_freeze();
        }
        // holder (made first) -> tuple of atomics, dict of atomics made
        // after it: both met early, both untracked when the walk gets there.
        mw_object *holder = new_list();
        mw_object *t = int_pair(5, 6);
        mw_object *d = mw_dict_new();
        mw_object *l = new_list();
        dset(d, "l", l);   // tracked ...
        dset(d, "l", mw_int(1));   // ... and atomic again
        mw_decref(l);
        lappend(holder, t);
        lappend(holder, d);
        mw_decref(t);
        mw_decref(d);
        // first (made first) is reachable only through later, made after.
        mw_object *first = new_list();
        mw_object *later = new_list();
        lappend(later, first);
        mw_decref(first);
        lappend(first, mw_none());
        // a cycle a <-> b, b met early through a, then garbage.
        mw_object *a = new_list();
        mw_object *b = new_list();
        lappend(a, b);
        lappend(b, a);
        mw_decref(b);
        mw_decref(a);
        ASSERT_COLLECT(2, 2);
        ck_assert(mw_gc_is_tracked(holder));
        ck_assert(!mw_gc_is_tracked(t));
        ck_assert(!mw_gc_is_tracked(d));
        ck_assert(mw_gc_is_tracked(later));
        ck_assert(!mw_gc_is_tracked(first));   // [None]: atomic, untracked
        ck_assert_uint_eq(mw_list_len(later), 1);
        // Nothing is left marked: young and full collections find nothing
        // more, and what they keep is intact.
        ASSERT_COLLECT(0, 0);
        ASSERT_COLLECT(2, 0);
        ck_assert_uint_eq(mw_list_len(first), 1);
        mw_decref(holder);
        mw_decref(later);
        ASSERT_COLLECT(2, 0);
        if (round == 1) {
            ck_assert(in_generation(-1, frozen) == false);
            mw_gc_unfreeze();
            ck_assert(in_generation(2, frozen));
            mw_decref(frozen);
        }
    }
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_untrack(void)
{
    TCase *tc = tcase_create("untrack");
    tcase_add_loop_test(tc, test_dict_of_atomics_is_untracked, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_store_tracks, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_untracked_by_full_collection, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_cycles_collected, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_copies, 0, NMODES);
    tcase_add_loop_test(tc, test_dict_emptied_by_finalizer, 0, NMODES);
    tcase_add_loop_test(tc, test_sets, 0, NMODES);
    tcase_add_loop_test(tc, test_user_lazy_type, 0, NMODES);
    tcase_add_loop_test(tc, test_full_collection_meets_children_early, 0, NMODES);
    tcase_add_loop_test(tc, test_lists, 0, NMODES);
    return tc;
}
