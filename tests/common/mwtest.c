/*
 * mwtest.c - the shared helpers of mwtest.h.
 */
#include "mwtest.h"

__attribute__((weak)) void mwtest_on_start(void)
{
}

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
    mwtest_on_start();
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
    return n + st.large_in_use;
}

size_t blocks_in_use_trimmed(void)
{
    ck_assert_int_eq(mw_alloc_trim(), 0);
    return blocks_in_use();
}
