/*
 * test_gc_soup.c - a big cycle soup: 10000 nodes pointing at random
 * objects, plus lists and dicts holding random objects, built from a fixed
 * seed, in clusters whose edges point only within the cluster or to a
 * lower one, spread over the generations; the lowest clusters are kept
 * alive from an external list.  The test keeps a model of the graph (who
 * points at whom) and predicts everything:
 *
 *   - which objects stay reachable from the kept ones (a search);
 *   - which unreachable ones counting alone frees when the test drops its
 *     references: those no cycle reaches, found by peeling objects with
 *     no remaining referrer (Kahn's algorithm); the rest is what the
 *     collector must find, exactly;
 *   - the count of each survivor: its referrers among the survivors.
 *
 * After the collection every survivor must match the model (fields, edges,
 * count), a walk of the real graph from the kept list must meet exactly the
 * predicted objects with the predicted checksum, every other node must be
 * destroyed once; dropping the kept list and collecting frees the rest.
 */
#include "test_gc.h"

#include <stdlib.h>
#include <string.h>

enum {
    SOUP_NODES = 10000,
    SOUP_LISTS = 600,
    SOUP_DICTS = 400,
    SOUP_OBJS = SOUP_NODES + SOUP_LISTS + SOUP_DICTS,
    SOUP_ROOTS = 40,
    MAX_EDGES = 6,
    SET_CAP = 1 << 15,   /* pointer set for the walk; > 2 * SOUP_OBJS */
    SOUP_CLUSTERS = 20,
    KEPT_CLUSTERS = 5,
};
_Static_assert(SOUP_NODES % SOUP_CLUSTERS == 0 && SOUP_LISTS % SOUP_CLUSTERS == 0 &&
               SOUP_DICTS % SOUP_CLUSTERS == 0 && SOUP_NODES <= MAX_NODES,
               "clusters divide each kind; node ids fit the counters");

typedef struct soup {
    mw_object *obj[SOUP_OBJS];
    int nedges[SOUP_OBJS];
    int edge[SOUP_OBJS][MAX_EDGES];
    int roots[SOUP_ROOTS];
    bool reach[SOUP_OBJS];
    int indeg[SOUP_OBJS];        /* scratch */
    bool freed_by_count[SOUP_OBJS];
    int queue[SOUP_OBJS];
} soup;

static uint64_t rng_state;

/* 0..n-1 from xorshift64. */
static int pick(int n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (int)(rng_state % (uint64_t)n);
}

/* Objects 0.. are nodes, then lists, then dicts. */
#define is_node(i) ((i) < SOUP_NODES)
#define is_list(i) ((i) >= SOUP_NODES && (i) < SOUP_NODES + SOUP_LISTS)

/* Object i's cluster: each kind is dealt round-robin over the clusters. */
static int cluster_of(int i)
{
    if (is_node(i)) {
        return i % SOUP_CLUSTERS;
    }
    if (is_list(i)) {
        return (i - SOUP_NODES) % SOUP_CLUSTERS;
    }
    return (i - SOUP_NODES - SOUP_LISTS) % SOUP_CLUSTERS;
}

/* A random object for an edge out of cluster c: mostly in c, sometimes in
 * a lower cluster (never a higher one, so the roots, all in the lowest
 * KEPT_CLUSTERS, leave the others unreachable); mostly nodes, sometimes a
 * list or a dict.  Random graphs of this density have a few large cycles
 * and many chains that end; clusters keep some of both unreachable. */
static int random_target(int c)
{
    if (c > 0 && pick(100) < 5) {
        c = pick(c);
    }
    int r = pick(10);
    if (r < 8) {
        return pick(SOUP_NODES / SOUP_CLUSTERS) * SOUP_CLUSTERS + c;
    }
    if (r == 8) {
        return SOUP_NODES + pick(SOUP_LISTS / SOUP_CLUSTERS) * SOUP_CLUSTERS + c;
    }
    return SOUP_NODES + SOUP_LISTS + pick(SOUP_DICTS / SOUP_CLUSTERS) * SOUP_CLUSTERS + c;
}

/* Build the objects and the model, collecting young generations on the way
 * so that the soup spans all three. */
static void build(soup *s, mw_object *keep)
{
    for (int i = 0; i < SOUP_NODES; i++) {
        s->obj[i] = new_node(&node_type, i);
    }
    ASSERT_COLLECT(1, 0);   // the nodes move to generation 2
    for (int i = SOUP_NODES; i < SOUP_NODES + SOUP_LISTS; i++) {
        s->obj[i] = mw_list_new();
        REQUIRE(s->obj[i] != NULL);
    }
    ASSERT_COLLECT(0, 0);   // the lists to generation 1
    for (int i = SOUP_NODES + SOUP_LISTS; i < SOUP_OBJS; i++) {
        s->obj[i] = mw_dict_new();
        REQUIRE(s->obj[i] != NULL);
    }
    for (int i = 0; i < SOUP_OBJS; i++) {
        if (is_node(i)) {
            s->nedges[i] = pick(100) < 90 ? 1 : 0;
        } else if (is_list(i)) {
            s->nedges[i] = pick(MAX_EDGES + 1);
        } else {
            s->nedges[i] = 1 + pick(MAX_EDGES);   // a dict holds a container
        }
        for (int j = 0; j < s->nedges[i]; j++) {
            int t = random_target(cluster_of(i));
            s->edge[i][j] = t;
            if (is_node(i)) {
                set_next(s->obj[i], s->obj[t]);
            } else if (is_list(i)) {
                REQUIRE(mw_list_append(s->obj[i], s->obj[t]) == 0);
            } else {
                // keys 0..5 are small ints: immortal, not containers
                REQUIRE(mw_dict_set(s->obj[i], mw_int(j), s->obj[t]) == 0);
            }
        }
    }
    for (int r = 0; r < SOUP_ROOTS; r++) {
        s->roots[r] = random_target(pick(KEPT_CLUSTERS));
        REQUIRE(mw_list_append(keep, s->obj[s->roots[r]]) == 0);
    }
}

/* The model: reach[] from the roots; freed_by_count[] for unreachable
 * objects that no cycle reaches; returns how many unreachable objects the
 * collector must find. */
static bool atomic_list(const soup *s, int i)
{
    return is_list(i) && s->nedges[i] == 0;
}

static int predict(soup *s)
{
    int head = 0, tail = 0;
    for (int r = 0; r < SOUP_ROOTS; r++) {
        if (!s->reach[s->roots[r]]) {
            s->reach[s->roots[r]] = true;
            s->queue[tail++] = s->roots[r];
        }
    }
    while (head < tail) {
        int i = s->queue[head++];
        for (int j = 0; j < s->nedges[i]; j++) {
            int t = s->edge[i][j];
            if (!s->reach[t]) {
                s->reach[t] = true;
                s->queue[tail++] = t;
            }
        }
    }
    // Peel unreachable objects with no unreachable referrer left.
    memset(s->indeg, 0, sizeof s->indeg);
    for (int i = 0; i < SOUP_OBJS; i++) {
        for (int j = 0; !s->reach[i] && j < s->nedges[i]; j++) {
            s->indeg[s->edge[i][j]]++;
        }
    }
    head = tail = 0;
    for (int i = 0; i < SOUP_OBJS; i++) {
        if (!s->reach[i] && s->indeg[i] == 0) {
            s->queue[tail++] = i;
        }
    }
    while (head < tail) {
        int i = s->queue[head++];
        s->freed_by_count[i] = true;
        for (int j = 0; j < s->nedges[i]; j++) {
            int t = s->edge[i][j];
            if (--s->indeg[t] == 0 && !s->reach[t]) {
                s->queue[tail++] = t;
            }
        }
    }
    // An empty list is atomic: the full collection untracks it rather than
    // find it (gc.c, step 2), and it dies when its referrers are cleared.
    int garbage = 0;
    for (int i = 0; i < SOUP_OBJS; i++) {
        garbage += !s->reach[i] && !s->freed_by_count[i] && !atomic_list(s, i);
    }
    return garbage;
}

/* Every survivor as the model says: fields, edges, count. */
static void check_survivors(soup *s)
{
    memset(s->indeg, 0, sizeof s->indeg);
    for (int r = 0; r < SOUP_ROOTS; r++) {
        s->indeg[s->roots[r]]++;   // the kept list's references
    }
    for (int i = 0; i < SOUP_OBJS; i++) {
        for (int j = 0; s->reach[i] && j < s->nedges[i]; j++) {
            s->indeg[s->edge[i][j]]++;
        }
    }
    for (int i = 0; i < SOUP_OBJS; i++) {
        if (!s->reach[i]) {
            continue;
        }
        mw_object *o = s->obj[i];
        REQUIREF(mw_refcnt(o) == s->indeg[i], "object %d: count %ld, expected %d", i,
                 (long)mw_refcnt(o), s->indeg[i]);
        REQUIREF(mw_gc_is_tracked(o) || atomic_list(s, i), "object %d no longer tracked", i);
        if (is_node(i)) {
            gc_node *n = (gc_node *)o;
            REQUIREF(n->id == i && n->value == node_value(i), "node %d broken", i);
            REQUIREF(node_destroyed[i] == 0, "reachable node %d destroyed", i);
            mw_object *want = s->nedges[i] ? s->obj[s->edge[i][0]] : NULL;
            REQUIREF(n->next == want, "node %d: next changed", i);
            continue;
        }
        size_t len = is_list(i) ? mw_list_len(o) : mw_dict_len(o);
        REQUIREF(len == (size_t)s->nedges[i], "object %d: %zu items, expected %d", i,
                 len, s->nedges[i]);
        for (int j = 0; j < s->nedges[i]; j++) {
            mw_object *item = is_list(i) ? mw_list_get(o, j) : mw_dict_get(o, mw_int(j));
            REQUIREF(item == s->obj[s->edge[i][j]], "object %d: item %d changed", i, j);
            mw_decref(item);
        }
    }
}

/* Each node destroyed as the model says: before the collection those
 * counting frees, after it every unreachable one; once, never twice. */
static void check_destroyed(const soup *s, bool collected)
{
    for (int i = 0; i < SOUP_NODES; i++) {
        int want = collected ? !s->reach[i] : s->freed_by_count[i];
        REQUIREF(node_destroyed[i] == want, "node %d: destroyed %d times, expected %d", i,
                 node_destroyed[i], want);
    }
}

/* ----------------------------------------------------------------------
 * The walk: the real graph from the kept list, with a pointer set
 * ---------------------------------------------------------------------- */

static bool set_add(mw_object **set, mw_object *o)
{
    size_t h = ((uintptr_t)o >> 4) * 0x9E3779B97F4A7C15ull;
    for (size_t k = h & (SET_CAP - 1);; k = (k + 1) & (SET_CAP - 1)) {
        if (set[k] == o) {
            return false;
        }
        if (set[k] == NULL) {
            set[k] = o;
            return true;
        }
    }
}

/* Visit everything reachable from keep (keep included); count the objects
 * met and sum a checksum of node values, container sizes and keys. */
static uint64_t walk(mw_object *keep, int *met)
{
    mw_object **set = calloc(SET_CAP, sizeof *set);
    mw_object **stack = malloc(sizeof *stack * (SOUP_OBJS * MAX_EDGES + SOUP_ROOTS + 1));
    REQUIRE(set != NULL && stack != NULL);
    size_t top = 0;
    uint64_t sum = 0;
    *met = 0;
    stack[top++] = keep;   // every pointer pushed is borrowed
    while (top > 0) {
        mw_object *o = stack[--top];
        if (!set_add(set, o)) {
            continue;
        }
        ++*met;
        const mw_type *t = mw_type_of(o);
        if (t == &node_type) {
            gc_node *n = (gc_node *)o;
            REQUIREF(n->value == node_value(n->id), "walk: node %lld broken", (long long)n->id);
            sum += n->value;
            if (n->next != NULL) {
                stack[top++] = n->next;
            }
        } else if (t == &mw_list_type) {
            size_t len = mw_list_len(o);
            sum += 1000003u * len;
            for (size_t j = 0; j < len; j++) {
                mw_object *item = mw_list_get(o, (ptrdiff_t)j);
                stack[top++] = item;
                mw_decref(item);
            }
        } else {
            REQUIREF(t == &mw_dict_type, "walk: a %s", t == NULL ? "NULL" : t->name);
            size_t len = mw_dict_len(o);
            sum += 7919u * len;
            for (size_t j = 0; j < len; j++) {
                mw_object *k, *v;
                REQUIRE(mw_dict_item(o, j, &k, &v) == 0);
                sum += (uint64_t)mw_int_value(k);
                stack[top++] = v;
                mw_decref(k);
                mw_decref(v);
            }
        }
    }
    free(stack);
    free(set);
    return sum;
}

/* The checksum walk() must get: the model's reachable objects and keep. */
static uint64_t model_sum(const soup *s, int *count)
{
    uint64_t sum = 1000003u * SOUP_ROOTS;
    *count = 1;
    for (int i = 0; i < SOUP_OBJS; i++) {
        if (!s->reach[i]) {
            continue;
        }
        ++*count;
        if (is_node(i)) {
            sum += node_value(i);
        } else if (is_list(i)) {
            sum += 1000003u * (uint64_t)s->nedges[i];
        } else {
            uint64_t k = (uint64_t)s->nedges[i];
            sum += 7919u * k + k * (k - 1) / 2;   // and the keys 0..k-1
        }
    }
    return sum;
}

/* _i: the lock mode in bit 0, the seed in the rest. */
START_TEST(test_cycle_soup)
{
    start(MODE(_i & 1));
    mw_gc_disable();
    ASSERT_COLLECT(2, 0);
    size_t base = blocks_in_use_trimmed();
    rng_state = 0x2545F4914F6CDD1Dull + (uint64_t)(_i >> 1) * 7777;
    soup *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    mw_object *keep = mw_list_new();
    build(s, keep);
    int garbage = predict(s);
    int reach_nodes = 0, count_nodes = 0;
    for (int i = 0; i < SOUP_NODES; i++) {
        reach_nodes += s->reach[i];
        count_nodes += s->freed_by_count[i];
    }
    // A soup worth the name: some of everything.
    ck_assert_int_gt(reach_nodes, 0);
    ck_assert_int_gt(garbage, 1000);
    ck_assert_int_gt(count_nodes, 0);

    ASSERT_COLLECT(2, 0);   // everything is still named by the test
    for (int i = 0; i < SOUP_OBJS; i++) {
        mw_decref(s->obj[i]);   // drop the names; s->obj[i] is now borrowed
    }
    // Counting alone freed exactly the unreachable nodes no cycle reaches.
    ck_assert_int_eq(total_destroyed, count_nodes);
    check_destroyed(s, false);

    // A young collection finds some (garbage entirely in generation 0);
    // the full one the rest; together exactly the prediction.
    intptr_t young = mw_gc_collect(0);
    ASSERT_NO_ERR();
    ck_assert(young >= 0 && young <= garbage);
    ASSERT_COLLECT(2, garbage - young);
    ck_assert_int_eq(total_destroyed, SOUP_NODES - reach_nodes);
    check_destroyed(s, true);
    check_survivors(s);
    int met, want_met;
    ck_assert_uint_eq(walk(keep, &met), model_sum(s, &want_met));
    ck_assert_int_eq(met, want_met);
    ASSERT_COLLECT(2, 0);

    // Drop the kept list: everything goes, by counting or by collection.
    mw_decref(keep);
    ck_assert_int_ge(mw_gc_collect(2), 0);
    ck_assert_int_eq(total_destroyed, SOUP_NODES);
    ASSERT_COLLECT(2, 0);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    free(s);
    stop();
}
END_TEST

TCase *tcase_soup(void)
{
    TCase *tc = tcase_create("soup");
    tcase_set_timeout(tc, 60);   // Check's default 4 s is tight under sanitizers
    tcase_add_loop_test(tc, test_cycle_soup, 0, 2 * NMODES);
    return tc;
}
