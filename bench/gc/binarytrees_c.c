/*
 * binarytrees_c.c - the benchmarks-game binary-trees in plain C, built
 * three times with a different allocator (chosen at compile time):
 *
 *   BT_ALLOC_MALLOC    bench-binarytrees-malloc: malloc/free (glibc, or
 *                      whatever LD_PRELOAD puts in front of it)
 *   BT_ALLOC_MIMALLOC  bench-binarytrees-mimalloc: mi_malloc/mi_free
 *   BT_ALLOC_BOEHM     bench-binarytrees-boehm: GC_MALLOC and no frees,
 *                      the Boehm collector reclaiming (GC_INIT first; its
 *                      defaults otherwise, parallel marking included)
 *
 * What it measures and how: the same work as mwrt-bench-binarytrees (see
 * binarytrees_mwrt.c): a stretch tree of depth N+1, a long-lived tree of
 * depth N, then 2^(N-d+4) trees of each depth d = 4, 6, ..., N built,
 * checked and dropped, then the long-lived tree checked and dropped.  A
 * node is a struct of two child pointers, a leaf has both NULL.  Dropping a
 * tree frees every node (malloc, mimalloc) or forgets it (Boehm).
 *
 * Output: the benchmarks-game lines, then one line per run,
 *
 *   run=1 impl=malloc depth=16 seconds=... check=...
 *
 * (--name sets impl, e.g. "mimalloc-preload" when run under LD_PRELOAD).
 * A check that is not the node count of a full tree is a WRONG RESULT
 * (exit 3).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(BT_ALLOC_MALLOC)
#define IMPL_NAME "malloc"
#define node_alloc(n) malloc(n)
#define node_free(p) free(p)
#define NODES_FREED 1
#elif defined(BT_ALLOC_MIMALLOC)
#include <mimalloc.h>
#define IMPL_NAME "mimalloc"
#define node_alloc(n) mi_malloc(n)
#define node_free(p) mi_free(p)
#define NODES_FREED 1
#elif defined(BT_ALLOC_BOEHM)
#include <gc.h>
#define IMPL_NAME "boehm"
#define node_alloc(n) GC_MALLOC(n)
#define NODES_FREED 0
#else
#error "define one of BT_ALLOC_MALLOC, BT_ALLOC_MIMALLOC, BT_ALLOC_BOEHM"
#endif

#define MIN_DEPTH 4

typedef struct node {
    struct node *left;
    struct node *right;
} node;

static struct {
    int depth;
    int runs;
    bool quiet;
    const char *name;
} opt = {.depth = 16, .runs = 1, .quiet = false, .name = IMPL_NAME};

static uint64_t read_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int status, const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "binarytrees-%s: %s", opt.name, status == 3 ? "WRONG RESULT: " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(status);
}

static node *make_tree(int d)
{
    node *n = node_alloc(sizeof *n);

    if (n == NULL) {
        fail(1, "out of memory");
    }
    if (d == 0) {
        n->left = n->right = NULL;
    } else {
        n->left = make_tree(d - 1);
        n->right = make_tree(d - 1);
    }
    return n;
}

static int64_t check_tree(const node *n)
{
    if (n->left == NULL) {
        return 1;
    }
    return 1 + check_tree(n->left) + check_tree(n->right);
}

static void drop_tree(node *n)
{
#if NODES_FREED
    if (n->left != NULL) {
        drop_tree(n->left);
        drop_tree(n->right);
    }
    node_free(n);
#else
    (void)n;   // the collector finds it unreachable
#endif
}

static void expect(int64_t got, int depth, const char *what)
{
    int64_t want = ((int64_t)1 << (depth + 1)) - 1;

    if (got != want) {
        fail(3, "%s of depth %d: check %" PRId64 ", not %" PRId64, what, depth, got, want);
    }
}

/* One run of the benchmark; returns the sum of the checks. */
static int64_t binary_trees(int max_depth)
{
    int stretch = max_depth + 1;
    int64_t total = 0;
    int64_t c;
    node *t, *long_lived;

    t = make_tree(stretch);
    c = check_tree(t);
    expect(c, stretch, "stretch tree");
    total += c;
    drop_tree(t);
    if (!opt.quiet) {
        printf("stretch tree of depth %d\t check: %" PRId64 "\n", stretch, c);
    }

    long_lived = make_tree(max_depth);
    for (int d = MIN_DEPTH; d <= max_depth; d += 2) {
        int64_t iters = (int64_t)1 << (max_depth - d + MIN_DEPTH);
        int64_t sum = 0;

        for (int64_t i = 0; i < iters; i++) {
            t = make_tree(d);
            c = check_tree(t);
            expect(c, d, "tree");
            sum += c;
            drop_tree(t);
        }
        total += sum;
        if (!opt.quiet) {
            printf("%" PRId64 "\t trees of depth %d\t check: %" PRId64 "\n", iters, d, sum);
        }
    }
    c = check_tree(long_lived);
    expect(c, max_depth, "long lived tree");
    total += c;
    if (!opt.quiet) {
        printf("long lived tree of depth %d\t check: %" PRId64 "\n", max_depth, c);
    }
    drop_tree(long_lived);
    return total;
}

static void print_usage(FILE *f, const char *argv0)
{
    fprintf(f,
            "usage: %s [options]\n"
            "binary-trees in C with %s.\n"
            "  --depth N     maximum depth (default 16; at least 6)\n"
            "  --runs N      runs in this process (default 1)\n"
            "  --name NAME   impl= in the result lines (default %s)\n"
            "  --quiet       only the result lines\n",
            argv0, IMPL_NAME, IMPL_NAME);
}

static int parse_options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_usage(stdout, argv[0]);
            exit(0);
        }
        if (strcmp(a, "--quiet") == 0) {
            opt.quiet = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "%s: unknown option or missing value: %s\n", argv[0], a);
            return -1;
        }
        i++;
        if (strcmp(a, "--depth") == 0) {
            opt.depth = atoi(v);
            if (opt.depth < MIN_DEPTH + 2 || opt.depth > 30) {
                fprintf(stderr, "%s: --depth needs a number from 6 to 30\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--runs") == 0) {
            opt.runs = atoi(v);
            if (opt.runs < 1 || opt.runs > 100) {
                fprintf(stderr, "%s: --runs needs a number from 1 to 100\n", argv[0]);
                return -1;
            }
        } else if (strcmp(a, "--name") == 0) {
            opt.name = v;
        } else {
            fprintf(stderr, "%s: unknown option: %s\n", argv[0], a);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
#if defined(BT_ALLOC_BOEHM)
    GC_INIT();
#endif
    if (parse_options(argc, argv) != 0) {
        print_usage(stderr, argv[0]);
        return 2;
    }
    for (int run = 0; run < opt.runs; run++) {
        uint64_t t0, t1;
        int64_t total;

        t0 = read_clock_ns();
        total = binary_trees(opt.depth);
        t1 = read_clock_ns();
        printf("run=%d impl=%s depth=%d seconds=%.4f check=%" PRId64, run + 1, opt.name,
               opt.depth, (double)(t1 - t0) / 1e9, total);
#if defined(BT_ALLOC_BOEHM)
        printf(" gc_collections=%lu heap_mb=%.1f", (unsigned long)GC_get_gc_no(),
               (double)GC_get_heap_size() / 1048576.0);
#endif
        printf("\n");
        fflush(stdout);
    }
    return 0;
}
