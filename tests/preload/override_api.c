/*
 * override_api.c - the C malloc family as libmwmalloc.so provides it.
 *
 * Built as an ordinary program and run by ctest with LD_PRELOAD set to
 * libmwmalloc.so; it first checks that the preload is in force (the pools'
 * blocks lie in 256 KiB arenas: malloc_usable_size of a 1-byte block is 16,
 * where glibc says 24), then exercises every entry point, the alignments,
 * the boundary at 512 bytes, bad input, and threads that never set anything
 * up.  Prints "override_api: ok" and exits 0 on success.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

/* Impossible sizes, through a volatile so the compiler cannot fold the
 * calls that use them. */
static volatile size_t huge = SIZE_MAX;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "override_api: %s:%d: check failed: %s\n", __FILE__,  \
                    __LINE__, #cond);                                             \
            failures++;                                                           \
        }                                                                         \
    } while (0)

static void check_sizes(void)
{
    for (size_t n = 0; n <= 600; n++) {
        unsigned char *p = malloc(n);
        CHECK(p != NULL);
        CHECK((uintptr_t)p % 16 == 0);   // alignof(max_align_t)
        size_t usable = malloc_usable_size(p);
        CHECK(usable >= n);
        if (n >= 1 && n <= 512) {
            CHECK(usable == (n + 15) / 16 * 16);   // 16-byte classes
        }
        memset(p, 0x5a, usable);
        free(p);
    }
}

static void check_calloc_realloc(void)
{
    for (size_t n = 1; n <= 1024; n += 7) {
        unsigned char *p = calloc(n, 1);
        CHECK(p != NULL);
        for (size_t i = 0; i < n; i++) {
            CHECK(p[i] == 0);
        }
        memset(p, 0xff, n);
        free(p);
    }
    errno = 0;
    CHECK(calloc(huge / 2, 3) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(huge) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(NULL, huge / 2, 3) == NULL && errno == ENOMEM);

    // Grow from a pool block into the next allocator and back, keeping data.
    size_t steps[] = {1, 16, 17, 500, 512, 513, 5000, 100, 8, 70000, 3};
    char *p = NULL;
    size_t have = 0;
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        char *q = realloc(p, steps[s]);
        CHECK(q != NULL);
        for (size_t i = 0; i < (have < steps[s] ? have : steps[s]); i++) {
            CHECK(q[i] == (char)(i * 7));
        }
        for (size_t i = 0; i < steps[s]; i++) {
            q[i] = (char)(i * 7);
        }
        p = q;
        have = steps[s];
    }
    char *keep = p;
    errno = 0;
    CHECK(realloc(p, huge - 64) == NULL && errno == ENOMEM);
    CHECK(keep[0] == 0 && keep[2] == 14);   // untouched by the failed realloc
    free(keep);
    free(NULL);
}

static void check_aligned(void)
{
    size_t aligns[] = {8, 16, 32, 64, 256, 4096};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        for (size_t n = 1; n <= 1000; n += 111) {
            void *p = NULL;
            CHECK(posix_memalign(&p, aligns[a], n) == 0);
            CHECK((uintptr_t)p % aligns[a] == 0);
            memset(p, 1, n);
            free(p);
            p = aligned_alloc(aligns[a], n);
            CHECK(p != NULL && (uintptr_t)p % aligns[a] == 0);
            free(p);
            p = memalign(aligns[a], n);
            CHECK(p != NULL && (uintptr_t)p % aligns[a] == 0);
            free(p);
        }
    }
    void *p = NULL;
    CHECK(posix_memalign(&p, 24, 10) == EINVAL);   // not a power of two
    CHECK(posix_memalign(&p, 4, 10) == EINVAL);    // not a multiple of sizeof(void *)
    errno = 0;
    CHECK(aligned_alloc(24, 10) == NULL && errno == EINVAL);
    long page = sysconf(_SC_PAGESIZE);
    p = valloc(100);
    CHECK(p != NULL && (uintptr_t)p % (uintptr_t)page == 0);
    free(p);
    p = pvalloc(100);
    CHECK(p != NULL && (uintptr_t)p % (uintptr_t)page == 0);
    CHECK(malloc_usable_size(p) >= (size_t)page);
    free(p);
}

/* Threads that never set anything up allocate, and free each other's blocks. */
enum { PER_THREAD = 20000 };
static void *blocks[4][PER_THREAD];

static void *fill_blocks(void *arg)
{
    void **mine = arg;
    for (size_t i = 0; i < PER_THREAD; i++) {
        mine[i] = malloc(1 + i % 512);
        memset(mine[i], (int)(i & 0xff), 1 + i % 512);
    }
    return NULL;
}

static void *free_blocks(void *arg)
{
    void **theirs = arg;
    for (size_t i = 0; i < PER_THREAD; i++) {
        unsigned char *b = theirs[i];
        CHECK(b[0] == (unsigned char)(i & 0xff) && b[i % 512] == (unsigned char)(i & 0xff));
        free(b);
    }
    return NULL;
}

static void check_threads(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, fill_blocks, blocks[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);   // the allocating threads have exited
    }
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, free_blocks, blocks[(i + 1) % 4]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
}

int main(void)
{
    void *probe = malloc(1);
    if (malloc_usable_size(probe) != 16) {
        fprintf(stderr, "override_api: libmwmalloc.so is not in force "
                        "(malloc_usable_size(malloc(1)) = %zu)\n", malloc_usable_size(probe));
        return 1;
    }
    free(probe);
    check_sizes();
    check_calloc_realloc();
    check_aligned();
    check_threads();
    if (failures != 0) {
        fprintf(stderr, "override_api: %d checks failed\n", failures);
        return 1;
    }
    puts("override_api: ok");
    return 0;
}
