/*
 * test_main.c - the object layer's Check suite: the shared helpers of
 * test_object.h and main, which runs every test case in its own process
 * (CK_FORK), so that each test starts with no runtime and a fresh
 * allocator, and a crash fails one test rather than the run.
 */
#include "test_object.h"

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
