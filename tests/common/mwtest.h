/*
 * mwtest.h - helpers shared by the runtime's Check suites (object, gc):
 * making and freeing the runtime around a test, the lock mode of a loop
 * test's index, error checks, and allocator figures.
 */
#ifndef MWRT_TEST_COMMON_H
#define MWRT_TEST_COMMON_H

#include <mwrt/mwrt.h>

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Under AddressSanitizer objects live in the C library's malloc, not in
 * the pools (see runtime/object/object.h), so the allocator's figures do
 * not move with them and checks that they grow are skipped. */
#if defined(__SANITIZE_ADDRESS__)
#define OBJECTS_IN_POOLS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OBJECTS_IN_POOLS 0
#endif
#endif
#ifndef OBJECTS_IN_POOLS
#define OBJECTS_IN_POOLS 1
#endif

/* The two lock modes, for tcase_add_loop_test(tc, fn, 0, NMODES). */
#define NMODES 2
#define MODE(i) ((i) == 0 ? MW_LOCK_GIL : MW_LOCK_FREE)
#define MODE_NAME(m) ((m) == MW_LOCK_GIL ? "gil" : "free")

/* The runtime of the running test (each test runs in its own process). */
extern mw_runtime *test_rt;

/* Create the runtime in mode (defaults otherwise) and attach the calling
 * thread; every failure is a test failure. */
void start(mw_lock_mode mode);
/* The same with a full configuration. */
void start_cfg(const mw_config *cfg);
/* Detach the calling thread (if attached) and free the runtime. */
void stop(void);

/* Called by start_cfg once the runtime is up; a suite may define it (to
 * reset its counters, say).  The default does nothing. */
void mwtest_on_start(void);

/* Blocks of the allocator in use: small blocks of every class and heap,
 * and large ones. */
size_t blocks_in_use(void);
/* The same after mw_alloc_trim(), which takes back blocks freed remotely
 * and drains the heaps of exited threads. */
size_t blocks_in_use_trimmed(void);

/*
 * An assertion for hot loops.  Under CK_FORK every passing ck_assert sends
 * a message to the parent process (a write(2) each), which makes a loop of
 * 100000 checks take seconds; REQUIRE reports only a failure.
 */
#define REQUIRE(cond)                                                       \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ck_abort_msg("failed: %s", #cond);                              \
        }                                                                   \
    } while (0)
#define REQUIREF(cond, fmt, ...)                                            \
    do {                                                                    \
        if (!(cond)) {                                                      \
            ck_abort_msg("failed: %s: " fmt, #cond, __VA_ARGS__);           \
        }                                                                   \
    } while (0)

/* The pending error is kind, with a message; then clear it. */
#define ASSERT_ERR(kind)                                                    \
    do {                                                                    \
        mw_error_kind got_ = mw_err_occurred();                             \
        REQUIREF(got_ == (kind), "error %s, expected %s (%s)",              \
                 mw_err_name(got_), mw_err_name(kind), mw_err_message());   \
        REQUIREF(mw_err_message()[0] != '\0', "no message for %s",         \
                 mw_err_name(kind));                                        \
        mw_err_clear();                                                     \
    } while (0)

/* No error is pending. */
#define ASSERT_NO_ERR()                                                     \
    do {                                                                    \
        mw_error_kind got_ = mw_err_occurred();                             \
        REQUIREF(got_ == MW_ERR_NONE, "unexpected %s: %s",                  \
                 mw_err_name(got_), mw_err_message());                      \
    } while (0)

#endif /* MWRT_TEST_COMMON_H */
