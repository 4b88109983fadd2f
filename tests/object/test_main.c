/*
 * test_main.c - the object layer's Check suite: the shared helpers of
 * test_object.h and main, which runs every test case in its own process
 * (CK_FORK), so that each test starts with no runtime and a fresh
 * allocator, and a crash fails one test rather than the run.
 */
#include "test_object.h"

mw_runtime *test_rt;

void start_cfg(const mw_config *cfg)
{
    ck_assert_ptr_null(test_rt);
    test_rt = mw_runtime_new(cfg);
    ck_assert_msg(test_rt != NULL, "mw_runtime_new: %s", mw_err_message());
    ck_assert_int_eq(mw_runtime_lock_mode(test_rt), cfg->lock);
    ck_assert_int_eq(mw_thread_attach(test_rt), 0);
    ck_assert(mw_thread_is_attached());
    mw_err_clear();
}

void start(mw_lock_mode mode)
{
    mw_config cfg;
    mw_config_default(&cfg);
    cfg.lock = mode;
    start_cfg(&cfg);
}

void stop(void)
{
    ck_assert_ptr_nonnull(test_rt);
    if (mw_thread_is_attached()) {
        ck_assert_int_eq(mw_thread_detach(), 0);
    }
    ck_assert(!mw_thread_is_attached());
    ck_assert_int_eq(mw_runtime_free(test_rt), 0);
    test_rt = NULL;
}

size_t blocks_in_use(void)
{
    mw_alloc_stats st;
    ck_assert_int_eq(mw_alloc_get_stats(&st), 0);
    size_t n = 0;
    for (int i = 0; i < MW_ALLOC_NUM_CLASSES; i++) {
        n += st.classes[i].blocks_in_use;
    }
    return n;
}

size_t blocks_in_use_trimmed(void)
{
    ck_assert_int_eq(mw_alloc_trim(), 0);
    return blocks_in_use();
}

static Suite *object_suite(void)
{
    Suite *s = suite_create("object");
    TCase *(*const cases[])(void) = {
        tcase_seed,   tcase_types,     tcase_containers,
        tcase_errors, tcase_nomem,     tcase_copy,
        tcase_lifecycle, tcase_threads, tcase_gil, tcase_weakref,
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        suite_add_tcase(s, cases[i]());
    }
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(object_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    // The number of failed tests (capped, as an exit status is 8 bits).
    return failed < 100 ? failed : 100;
}
