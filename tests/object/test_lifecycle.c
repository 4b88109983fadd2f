/*
 * test_lifecycle.c - how objects die: a user type's hooks (finalize once,
 * then clear, then destroy), resurrection from a finalizer, mw_new's
 * checks, and freeing chains far deeper than the C stack would allow if
 * each free recursed.
 */
#include "test_object.h"

/* A user type: a header and one owned child. */
typedef struct node {
    mw_object ob;
    mw_object *child;
    int64_t id;
} node;

/* What the hooks saw, in order. */
static int finalize_calls, clear_calls, destroy_calls, traverse_calls;
static char events[64];
static size_t nevents;
static mw_object *resurrected;
static bool resurrect_on_finalize;

static void event(char c)
{
    if (nevents < sizeof events - 1) {
        events[nevents++] = c;
        events[nevents] = '\0';
    }
}

static int node_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    traverse_calls++;
    node *n = (node *)self;
    return n->child != NULL ? visit(n->child, arg) : 0;
}

static void node_clear(mw_object *self)
{
    node *n = (node *)self;
    clear_calls++;
    event('C');
    mw_object *child = n->child;
    n->child = NULL;
    mw_decref(child);
}

static void node_finalize(mw_object *self)
{
    finalize_calls++;
    event('F');
    if (resurrect_on_finalize) {
        mw_incref(self);
        resurrected = self;
    }
}

static void node_destroy(mw_object *self)
{
    destroy_calls++;
    event('D');
}

static const mw_type node_type = {
    .name = "node",
    .size = sizeof(node),
    .flags = MW_TYPE_GC,
    .traverse = node_traverse,
    .clear = node_clear,
    .finalize = node_finalize,
    .destroy = node_destroy,
};

/* The same without the collector's header and without a finalizer. */
static const mw_type plain_node_type = {
    .name = "plain_node",
    .size = sizeof(node),
    .clear = node_clear,
    .destroy = node_destroy,
};

static void reset_counts(void)
{
    finalize_calls = clear_calls = destroy_calls = traverse_calls = 0;
    nevents = 0;
    events[0] = '\0';
    resurrected = NULL;
    resurrect_on_finalize = false;
}

static node *new_node(const mw_type *type, mw_object *child)
{
    node *n = (node *)mw_new(type);
    REQUIREF(n != NULL, "%s", mw_err_message());
    REQUIRE(n->child == NULL && n->id == 0);   // zeroed
    n->child = child;   // the node owns this reference
    return n;
}

START_TEST(test_hooks_order)
{
    start(MODE(_i));
    reset_counts();
    size_t base = blocks_in_use_trimmed();
    mw_object *child = mw_str("the child");
    mw_incref(child);   // one for us, one for the node
    node *n = new_node(&node_type, child);
    ck_assert(mw_type_of(&n->ob) == &node_type);
    ck_assert_int_eq(mw_refcnt(&n->ob), 1);
    ck_assert(!mw_is_immortal(&n->ob));
    mw_incref(&n->ob);
    ck_assert_int_eq(mw_refcnt(&n->ob), 2);
    mw_decref(&n->ob);
    ck_assert_int_eq(finalize_calls + clear_calls + destroy_calls, 0);
    ck_assert_int_eq(mw_refcnt(child), 2);
    mw_decref(&n->ob);
    ck_assert_str_eq(events, "FCD");
    ck_assert_int_eq(finalize_calls, 1);
    ck_assert_int_eq(clear_calls, 1);
    ck_assert_int_eq(destroy_calls, 1);
    ck_assert_int_eq(mw_refcnt(child), 1);   // clear dropped the node's
    mw_decref(child);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);

    // No finalizer: clear, then destroy.
    reset_counts();
    n = new_node(&plain_node_type, NULL);
    mw_decref(&n->ob);
    ck_assert_str_eq(events, "CD");
    // No hooks at all.
    static const mw_type bare = {.name = "bare", .size = sizeof(mw_object)};
    mw_object *b = mw_new(&bare);
    ck_assert_ptr_nonnull(b);
    mw_decref(b);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* A finalizer that stores self keeps the object alive; it is not run
 * again when that last reference goes. */
START_TEST(test_resurrection)
{
    start(MODE(_i));
    reset_counts();
    size_t base = blocks_in_use_trimmed();
    resurrect_on_finalize = true;
    node *n = new_node(&node_type, mw_str("kept by the zombie"));
    n->id = 42;
    mw_decref(&n->ob);
    ck_assert_int_eq(finalize_calls, 1);
    ck_assert_int_eq(clear_calls, 0);
    ck_assert_int_eq(destroy_calls, 0);
    ck_assert_ptr_eq(resurrected, &n->ob);
    ck_assert_int_eq(mw_refcnt(resurrected), 1);
    // Still a whole object.
    ck_assert_int_eq(n->id, 42);
    ck_assert_str_eq(mw_str_data(n->child, NULL), "kept by the zombie");
    mw_incref(resurrected);
    ck_assert_int_eq(mw_refcnt(resurrected), 2);
    mw_decref(resurrected);
    ck_assert_int_eq(finalize_calls, 1);

    mw_object *last = resurrected;
    resurrected = NULL;
    mw_decref(last);
    ck_assert_int_eq(finalize_calls, 1);
    ck_assert_int_eq(clear_calls, 1);
    ck_assert_int_eq(destroy_calls, 1);
    ck_assert_str_eq(events, "FCD");
    ck_assert_ptr_null(resurrected);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

START_TEST(test_new_errors)
{
    start(MODE(_i));
    ck_assert_ptr_null(mw_new(NULL));
    ASSERT_ERR(MW_ERR_TYPE);
    static const mw_type too_small = {.name = "too_small", .size = sizeof(mw_object) - 1};
    ck_assert_ptr_null(mw_new(&too_small));
    ASSERT_ERR(MW_ERR_TYPE);
    static const mw_type empty = {.name = "empty", .size = 0};
    ck_assert_ptr_null(mw_new(&empty));
    ASSERT_ERR(MW_ERR_TYPE);
    static const mw_type exact = {.name = "exact", .size = sizeof(mw_object),
                                  .flags = MW_TYPE_GC};
    mw_object *o = mw_new(&exact);
    ck_assert_ptr_nonnull(o);
    ASSERT_NO_ERR();
    // User objects hash as unhashable and compare by identity.
    ck_assert(mw_hash(o) == -1);
    ASSERT_ERR(MW_ERR_TYPE);
    mw_object *o2 = mw_new(&exact);
    ck_assert_int_eq(mw_equal(o, o), 1);
    ck_assert_int_eq(mw_equal(o, o2), 0);
    mw_decref(o);
    mw_decref(o2);
    stop();
}
END_TEST

#define CHAIN 200000

START_TEST(test_long_list_chain)
{
    start(MODE(_i));
    size_t base = blocks_in_use_trimmed();
    mw_object *cur = mw_list_new();
    for (int i = 1; i < CHAIN; i++) {
        mw_object *outer = mw_list_new();
        REQUIRE(outer != NULL);
        REQUIRE(mw_list_append(outer, cur) == 0);
        mw_decref(cur);
        cur = outer;
    }
    ck_assert_int_eq(mw_refcnt(cur), 1);
    mw_decref(cur);   // frees all 200000 without recursing 200000 deep
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

/* A chain alternating tuples, dicts, user nodes and lists. */
START_TEST(test_long_mixed_chain)
{
    start(MODE(_i));
    reset_counts();
    size_t base = blocks_in_use_trimmed();
    mw_object *cur = mw_none();
    for (int i = 0; i < CHAIN; i++) {
        mw_object *outer;
        switch (i % 4) {
        case 0:
            outer = mw_tuple_new(1, &cur);
            break;
        case 1:
            outer = mw_dict_new();
            REQUIRE(outer != NULL && mw_dict_set(outer, mw_int(0), cur) == 0);
            break;
        case 2:
            mw_incref(cur);   // the node's reference
            outer = &new_node(&node_type, cur)->ob;
            break;
        default:
            outer = mw_list_new();
            REQUIRE(outer != NULL && mw_list_append(outer, cur) == 0);
            break;
        }
        REQUIRE(outer != NULL);
        mw_decref(cur);
        cur = outer;
    }
    mw_decref(cur);
    ck_assert_int_eq(finalize_calls, CHAIN / 4);
    ck_assert_int_eq(clear_calls, CHAIN / 4);
    ck_assert_int_eq(destroy_calls, CHAIN / 4);
    ck_assert_uint_eq(blocks_in_use_trimmed(), base);
    stop();
}
END_TEST

TCase *tcase_lifecycle(void)
{
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_hooks_order, 0, NMODES);
    tcase_add_loop_test(tc, test_resurrection, 0, NMODES);
    tcase_add_loop_test(tc, test_new_errors, 0, NMODES);
    tcase_add_loop_test(tc, test_long_list_chain, 0, NMODES);
    tcase_add_loop_test(tc, test_long_mixed_chain, 0, NMODES);
    return tc;
}
