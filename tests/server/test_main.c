/*
 * test_main.c - the server integration suite's runner.
 *
 *   test_server --kind mwrt|redis --server PATH [-- SERVER_ARGS...]
 *
 * Every test starts its own server (PATH, on a free loopback port, with
 * SERVER_ARGS, e.g. `--lock gil --workers 2`) and stops it, requiring a
 * clean exit.  With --kind redis the suite runs against Debian's
 * redis-server, which proves that the expected replies are Redis's own;
 * tests of mwrt-only commands (REF.*, GC.*) are then left out.  If the
 * server binary does not exist the suite exits 77, which ctest counts as
 * skipped (SKIP_RETURN_CODE).  Check's CK_RUN_CASE / CK_RUN_TEST select
 * tests as usual.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --kind mwrt|redis --server PATH [-- SERVER_ARGS...]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *kind = NULL;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
            kind = argv[++i];
        } else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
            th_cfg.path = argv[++i];
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else {
            return usage(argv[0]);
        }
    }
    th_cfg.args = (const char *const *)argv + i;
    th_cfg.nargs = argc - i;
    if (kind == NULL || th_cfg.path == NULL) {
        return usage(argv[0]);
    }
    if (strcmp(kind, "mwrt") == 0) {
        th_cfg.kind = TH_MWRT;
    } else if (strcmp(kind, "redis") == 0) {
        th_cfg.kind = TH_REDIS;
    } else {
        return usage(argv[0]);
    }
    if (access(th_cfg.path, X_OK) != 0) {
        fprintf(stderr, "test_server: %s is not an executable; skipping\n", th_cfg.path);
        return 77;
    }

    Suite *s = suite_create(th_cfg.kind == TH_MWRT ? "mwrt-server" : "redis-server");
    suite_add_tcase(s, tcase_generic());
    suite_add_tcase(s, tcase_strings());
    suite_add_tcase(s, tcase_collections());
    suite_add_tcase(s, tcase_protocol());
    suite_add_tcase(s, tcase_limits());
    suite_add_tcase(s, tcase_expiry());
    suite_add_tcase(s, tcase_concurrency());
    suite_add_tcase(s, tcase_lifecycle());
    suite_add_tcase(s, tcase_pubsub());
    suite_add_tcase(s, tcase_notify());
    suite_add_tcase(s, tcase_multi());
    suite_add_tcase(s, tcase_sort());
    suite_add_tcase(s, tcase_geo());
    suite_add_tcase(s, tcase_introspect());
    suite_add_tcase(s, tcase_blocking());
    suite_add_tcase(s, tcase_stream());
    suite_add_tcase(s, tcase_resp3());
    suite_add_tcase(s, tcase_script());
    suite_add_tcase(s, tcase_persist());
    if (th_cfg.kind == TH_MWRT) {
        suite_add_tcase(s, tcase_mwrt());
        for (int a = 0; a + 1 < th_cfg.nargs; a++) {
            if (strcmp(th_cfg.args[a], "--keyspace") == 0 &&
                strcmp(th_cfg.args[a + 1], "sharded") == 0) {
                suite_add_tcase(s, tcase_shards());  // the sharded entry only
                suite_add_tcase(s, tcase_multi_sharded());
            }
        }
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
