/*
 * bench_alloc.c - mwrt-bench-alloc: throughput and peak RSS of malloc/free.
 *
 * What it measures: how many malloc+free pairs per second the process's
 * allocator sustains on small requests (8..512 bytes, drawn uniformly with a
 * fixed-seed splitmix64 generator, so every allocator sees the same request
 * stream), and the peak resident set size that costs (getrusage ru_maxrss).
 *
 * How: the program calls only plain malloc and free; the allocator under
 * test is chosen from outside with LD_PRELOAD (see run.sh beside this file).
 * Each workload runs a fixed number of operations, not a fixed time, and
 * prints one machine-readable line:
 *
 *   workload=single threads=1 ops=... secs=... ops_per_sec=... maxrss_kb=...
 *
 * Workloads (one op = one malloc and one free):
 *
 *   single    one thread keeps a working set of W blocks; each step frees a
 *             random slot and allocates a block of a random size into it.
 *   prodcons  T/2 producer threads allocate blocks and pass them through a
 *             lock-free single-producer single-consumer ring (one per pair)
 *             to T/2 consumer threads that free them: every free is a
 *             cross-thread free.  ops = blocks passed.
 *   larson    after Larson & Krishnan: T threads each own an array of W
 *             blocks and repeatedly replace a random one; after every round
 *             a thread swaps its array for a spare one under a lock, so
 *             blocks are freed by threads other than their allocator.  The
 *             threads are replaced G times (thread churn), each successor
 *             carrying on with its predecessor's array while the other
 *             threads keep running.
 *   burst     one thread, in rounds: allocate W blocks, then free them all,
 *             as a request handler that builds a large reply and drops it
 *             does.  An allocator that returns emptied memory to the OS at
 *             once maps and faults it in again every round; ops = blocks.
 *   xmalloc   after xmalloc-test (Lever & Boreham): T threads each allocate
 *             batches of 64 blocks and put them on one shared FIFO queue
 *             (under a lock), and take the oldest batch off it and free
 *             its blocks - mostly a batch another thread allocated, so
 *             frees are many-to-many cross-thread.  ops = blocks.
 *   cache-scratch  after Berger's cache-scratch (Hoard): the main thread
 *             allocates one small block per thread, side by side, and
 *             hands them out; each thread frees its block and then, again
 *             and again, allocates a block of the same size, writes it 64
 *             times and frees it.  An allocator that gives threads blocks
 *             on one cache line (passive false sharing) is slow here.
 *             ops = allocations.
 *
 * Every new block gets a small header (its size, and the size xor a tag) at
 * its start and a byte at its end; the header and end byte are checked when
 * the block is freed.  That touches each block the way a program would, so
 * allocators that defer work to the first touch are measured fairly, and it
 * catches an allocator that hands out overlapping blocks: the program then
 * aborts, which run.sh reports as a crash.
 *
 * Worker threads are pinned round-robin to the CPUs the process may use
 * (--no-pin turns that off): left alone, the scheduler sometimes keeps a
 * producer and its consumer on one CPU and sometimes not, which makes
 * cross-thread numbers swing by 2-3x from run to run.
 *
 * The harness's own arrays and rings come from mmap, not malloc, so they do
 * not disturb the heap being measured.  Set-up (filling the working sets)
 * and tear-down (freeing them) are not timed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define REQ_MIN 8u      /* smallest request, bytes */
#define REQ_MAX 512u    /* largest request, bytes */
#define HEADER_TAG 0x5a3cu

#define RING_CAP 4096u  /* blocks in flight per producer/consumer pair */
#define RING_BATCH 32u  /* publish ring positions every this many blocks */
#define CACHE_LINE 64

/* Options from the command line; zero means "the workload's default". */
typedef struct {
    const char *workload;
    unsigned threads;
    uint64_t ops;
    uint64_t slots;
    unsigned rounds;        /* larson: ops per thread between array swaps */
    unsigned generations;   /* larson: thread lives per thread slot */
    uint64_t seed;
    bool pin;               /* pin worker threads to CPUs */
} options_t;

/* What a workload reports. */
typedef struct {
    unsigned threads;
    uint64_t ops;
    double secs;
} result_t;

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("mwrt-bench-alloc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* splitmix64: tiny, fast, and good enough to draw sizes and slots. */
static inline uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A uniform value in [0, n) for n < 2^32, without a division. */
static inline uint32_t draw_below(uint64_t *state, uint64_t n)
{
    return (uint32_t)(((next_random(state) >> 32) * n) >> 32);
}

static inline size_t draw_size(uint64_t *state)
{
    return REQ_MIN + draw_below(state, REQ_MAX - REQ_MIN + 1);
}

/* Derive the seed of stream number i from the run's seed. */
static uint64_t derive_seed(uint64_t seed, uint64_t i)
{
    uint64_t s = seed ^ (i * 0xd1b54a32d192ed03ull);

    return next_random(&s);
}

static double read_clock(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Zeroed memory for the harness itself, kept out of the measured heap. */
static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED) {
        die("mmap(%zu): %s", bytes, strerror(errno));
    }
    return p;
}

static void unmap(void *p, size_t bytes)
{
    munmap(p, bytes);
}

/* The CPUs worker threads are pinned to; none when cpu_count is 0. */
static int cpu_list[CPU_SETSIZE];
static int cpu_count;

/* Pin worker threads round-robin on the CPUs this process may use. */
static void list_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return;
    }
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            cpu_list[cpu_count++] = c;
        }
    }
}

/* Start worker number `index`, pinned to a CPU if pinning is on. */
static void start_thread(pthread_t *t, unsigned index, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    int rc;

    pthread_attr_init(&attr);
    if (cpu_count > 0) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu_list[index % (unsigned)cpu_count], &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    rc = pthread_create(t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        die("pthread_create: %s", strerror(rc));
    }
}

/* Spin briefly, then give the core away: threads may outnumber cores. */
static void wait_a_little(unsigned *spins)
{
    if (++*spins < 32) {
#if defined(__x86_64__) || defined(__i386__)
        __asm__ volatile("pause");
#endif
    } else {
        sched_yield();
    }
}

/* ------------------------------------------------------------------------ */
/* Blocks: allocate, touch, check, free                                      */
/* ------------------------------------------------------------------------ */

static inline void *alloc_block(size_t size)
{
    unsigned char *p = malloc(size);
    uint16_t header[2] = { (uint16_t)size, (uint16_t)(size ^ HEADER_TAG) };

    if (p == NULL) {
        die("malloc(%zu) returned NULL", size);
    }
    memcpy(p, header, sizeof header);
    p[size - 1] = (unsigned char)size;
    return p;
}

static inline void free_block(void *block)
{
    unsigned char *p = block;
    uint16_t header[2];

    memcpy(header, p, sizeof header);
    if (header[0] < REQ_MIN || header[0] > REQ_MAX
        || header[1] != (uint16_t)(header[0] ^ HEADER_TAG)
        || p[header[0] - 1] != (unsigned char)header[0]) {
        fprintf(stderr, "mwrt-bench-alloc: corrupt block %p (header %04x %04x):"
                " the allocator handed out overlapping memory\n",
                block, header[0], header[1]);
        abort();
    }
    free(p);
}

/* ------------------------------------------------------------------------ */
/* single: one thread, random replacement in a working set                   */
/* ------------------------------------------------------------------------ */

static result_t run_single(const options_t *o)
{
    uint64_t rng = derive_seed(o->seed, 0);
    size_t bytes = o->slots * sizeof(void *);
    void **slot = map_zeroed(bytes);
    result_t r = { .threads = 1, .ops = o->ops };
    double t0;

    for (uint64_t i = 0; i < o->slots; i++) {
        slot[i] = alloc_block(draw_size(&rng));
    }

    t0 = read_clock();
    for (uint64_t n = 0; n < o->ops; n++) {
        uint32_t i = draw_below(&rng, o->slots);

        free_block(slot[i]);
        slot[i] = alloc_block(draw_size(&rng));
    }
    r.secs = read_clock() - t0;

    for (uint64_t i = 0; i < o->slots; i++) {
        free_block(slot[i]);
    }
    unmap(slot, bytes);
    return r;
}

/* ------------------------------------------------------------------------ */
/* prodcons: producers hand blocks to consumers through SPSC rings           */
/* ------------------------------------------------------------------------ */

/*
 * One ring per producer/consumer pair.  Each side keeps its own position
 * privately and publishes it every RING_BATCH blocks (and whenever it is
 * about to wait), so the two cores trade the index cache lines rarely.
 */
typedef struct {
    alignas(CACHE_LINE) _Atomic uint64_t head;  /* consumer's published position */
    alignas(CACHE_LINE) _Atomic uint64_t tail;  /* producer's published position */
    alignas(CACHE_LINE) uint64_t count;         /* blocks to pass */
    uint64_t seed;
    void *slot[RING_CAP];
} ring_t;

static void *produce_blocks(void *arg)
{
    ring_t *ring = arg;
    uint64_t rng = ring->seed;
    uint64_t tail = 0;
    uint64_t head_seen = 0;

    for (uint64_t n = 0; n < ring->count; n++) {
        void *p = alloc_block(draw_size(&rng));

        if (tail - head_seen == RING_CAP) {
            unsigned spins = 0;

            atomic_store_explicit(&ring->tail, tail, memory_order_release);
            while ((head_seen = atomic_load_explicit(&ring->head, memory_order_acquire))
                   + RING_CAP == tail) {
                wait_a_little(&spins);
            }
        }
        ring->slot[tail % RING_CAP] = p;
        tail++;
        if (tail % RING_BATCH == 0) {
            atomic_store_explicit(&ring->tail, tail, memory_order_release);
        }
    }
    atomic_store_explicit(&ring->tail, tail, memory_order_release);
    return NULL;
}

static void *consume_blocks(void *arg)
{
    ring_t *ring = arg;
    uint64_t head = 0;
    uint64_t tail_seen = 0;

    while (head < ring->count) {
        if (head == tail_seen) {
            unsigned spins = 0;

            atomic_store_explicit(&ring->head, head, memory_order_release);
            while ((tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire))
                   == head) {
                wait_a_little(&spins);
            }
        }
        free_block(ring->slot[head % RING_CAP]);
        head++;
        if (head % RING_BATCH == 0) {
            atomic_store_explicit(&ring->head, head, memory_order_release);
        }
    }
    return NULL;
}

static result_t run_prodcons(const options_t *o)
{
    unsigned pairs = o->threads >= 2 ? o->threads / 2 : 1;
    size_t bytes = pairs * sizeof(ring_t);
    ring_t *ring = map_zeroed(bytes);
    pthread_t *thread = map_zeroed(2 * pairs * sizeof(pthread_t));
    result_t r = { .threads = 2 * pairs, .ops = 0 };
    double t0;

    for (unsigned i = 0; i < pairs; i++) {
        ring[i].count = o->ops / pairs + (i < o->ops % pairs ? 1 : 0);
        ring[i].seed = derive_seed(o->seed, i);
        r.ops += ring[i].count;
    }

    t0 = read_clock();
    for (unsigned i = 0; i < pairs; i++) {
        start_thread(&thread[2 * i], 2 * i, consume_blocks, &ring[i]);
        start_thread(&thread[2 * i + 1], 2 * i + 1, produce_blocks, &ring[i]);
    }
    for (unsigned i = 0; i < 2 * pairs; i++) {
        pthread_join(thread[i], NULL);
    }
    r.secs = read_clock() - t0;

    unmap(thread, 2 * pairs * sizeof(pthread_t));
    unmap(ring, bytes);
    return r;
}

/* ------------------------------------------------------------------------ */
/* larson: owned arrays swapped between threads, threads replaced            */
/* ------------------------------------------------------------------------ */

typedef struct {
    pthread_mutex_t lock;
    void **spare;           /* the array no thread holds right now */
    uint64_t slots;         /* blocks per array */
    unsigned rounds;        /* ops between swaps */
} larson_shared_t;

/* One thread life.  Its successor inherits `mine`. */
typedef struct {
    larson_shared_t *shared;
    void **mine;
    uint64_t ops;
    uint64_t seed;
} larson_life_t;

static void *churn_blocks(void *arg)
{
    larson_life_t *life = arg;
    larson_shared_t *shared = life->shared;
    void **mine = life->mine;
    uint64_t rng = life->seed;
    uint64_t done = 0;

    while (done < life->ops) {
        uint64_t n = life->ops - done;

        if (n > shared->rounds) {
            n = shared->rounds;
        }
        for (uint64_t k = 0; k < n; k++) {
            uint32_t i = draw_below(&rng, shared->slots);

            free_block(mine[i]);
            mine[i] = alloc_block(draw_size(&rng));
        }
        done += n;

        pthread_mutex_lock(&shared->lock);
        void **swap = shared->spare;
        shared->spare = mine;
        mine = swap;
        pthread_mutex_unlock(&shared->lock);
    }
    life->mine = mine;
    return NULL;
}

static result_t run_larson(const options_t *o)
{
    unsigned t = o->threads >= 1 ? o->threads : 1;
    unsigned lives = o->generations >= 1 ? o->generations : 1;
    size_t array_bytes = o->slots * sizeof(void *);
    larson_shared_t shared = { .slots = o->slots, .rounds = o->rounds };
    larson_life_t *life = map_zeroed(t * sizeof(larson_life_t));
    pthread_t *thread = map_zeroed(t * sizeof(pthread_t));
    uint64_t per_life = o->ops / ((uint64_t)t * lives);
    uint64_t rng = derive_seed(o->seed, 0);
    result_t r = { .threads = t, .ops = per_life * t * lives };
    double t0;

    if (per_life == 0) {
        die("larson: --ops must be at least threads * generations");
    }
    pthread_mutex_init(&shared.lock, NULL);

    /* The main thread fills every array, as in the original benchmark: the
     * workers' first frees are already cross-thread. */
    for (unsigned i = 0; i <= t; i++) {
        void **a = map_zeroed(array_bytes);

        for (uint64_t k = 0; k < o->slots; k++) {
            a[k] = alloc_block(draw_size(&rng));
        }
        if (i < t) {
            life[i] = (larson_life_t){ .shared = &shared, .mine = a, .ops = per_life };
        } else {
            shared.spare = a;
        }
    }

    t0 = read_clock();
    for (unsigned i = 0; i < t; i++) {
        life[i].seed = derive_seed(o->seed, 1 + i);
        start_thread(&thread[i], i, churn_blocks, &life[i]);
    }
    /* Replace each thread as it ends, while the others keep running. */
    for (unsigned g = 1; g < lives; g++) {
        for (unsigned i = 0; i < t; i++) {
            pthread_join(thread[i], NULL);
            life[i].seed = derive_seed(o->seed, 1 + (uint64_t)g * t + i);
            start_thread(&thread[i], i, churn_blocks, &life[i]);
        }
    }
    for (unsigned i = 0; i < t; i++) {
        pthread_join(thread[i], NULL);
    }
    r.secs = read_clock() - t0;

    for (unsigned i = 0; i <= t; i++) {
        void **a = i < t ? life[i].mine : shared.spare;

        for (uint64_t k = 0; k < o->slots; k++) {
            free_block(a[k]);
        }
        unmap(a, array_bytes);
    }
    pthread_mutex_destroy(&shared.lock);
    unmap(thread, t * sizeof(pthread_t));
    unmap(life, t * sizeof(larson_life_t));
    return r;
}

/* ------------------------------------------------------------------------ */
/* burst: fill a working set, free all of it, again                          */
/* ------------------------------------------------------------------------ */

static result_t run_burst(const options_t *o)
{
    uint64_t rng = derive_seed(o->seed, 0);
    size_t bytes = o->slots * sizeof(void *);
    void **slot = map_zeroed(bytes);
    result_t r = { .threads = 1, .ops = 0 };
    double t0 = read_clock();

    while (r.ops < o->ops) {
        uint64_t n = o->slots;

        if (n > o->ops - r.ops) {
            n = o->ops - r.ops;
        }
        for (uint64_t i = 0; i < n; i++) {
            slot[i] = alloc_block(draw_size(&rng));
        }
        /* Free in allocation order, as a dropped reply's parts go. */
        for (uint64_t i = 0; i < n; i++) {
            free_block(slot[i]);
        }
        r.ops += n;
    }
    r.secs = read_clock() - t0;
    unmap(slot, bytes);
    return r;
}

/* ------------------------------------------------------------------------ */
/* xmalloc: batches of blocks through one shared queue, freed by any thread  */
/* ------------------------------------------------------------------------ */

#define XM_BATCH 64u    /* blocks per batch */
#define XM_QUEUE 64u    /* batches the queue holds */

typedef struct {
    void *block[XM_BATCH];
} xm_batch_t;

typedef struct {
    pthread_mutex_t lock;
    xm_batch_t *batch;      /* XM_QUEUE + threads slots */
    unsigned *free_slot;    /* stack of unused batch slots */
    unsigned nfree;
    unsigned queue[XM_QUEUE];   /* FIFO of filled slots */
    unsigned head, count;
} xm_shared_t;

typedef struct {
    xm_shared_t *shared;
    uint64_t batches;
    uint64_t seed;
} xm_worker_t;

static void xm_free_batch(xm_batch_t *b)
{
    for (unsigned i = 0; i < XM_BATCH; i++) {
        free_block(b->block[i]);
    }
}

static void *xmalloc_worker(void *arg)
{
    xm_worker_t *w = arg;
    xm_shared_t *sh = w->shared;
    uint64_t rng = w->seed;

    for (uint64_t n = 0; n < w->batches; n++) {
        unsigned slot, old = UINT32_MAX;

        pthread_mutex_lock(&sh->lock);
        slot = sh->free_slot[--sh->nfree];
        pthread_mutex_unlock(&sh->lock);
        for (unsigned i = 0; i < XM_BATCH; i++) {
            sh->batch[slot].block[i] = alloc_block(draw_size(&rng));
        }
        pthread_mutex_lock(&sh->lock);
        if (sh->count == XM_QUEUE) {
            old = sh->queue[sh->head];
            sh->head = (sh->head + 1) % XM_QUEUE;
            sh->count--;
        }
        sh->queue[(sh->head + sh->count) % XM_QUEUE] = slot;
        sh->count++;
        if (old == UINT32_MAX && sh->count > XM_QUEUE / 2) {
            old = sh->queue[sh->head];
            sh->head = (sh->head + 1) % XM_QUEUE;
            sh->count--;
        }
        pthread_mutex_unlock(&sh->lock);
        if (old != UINT32_MAX) {
            xm_free_batch(&sh->batch[old]);
            pthread_mutex_lock(&sh->lock);
            sh->free_slot[sh->nfree++] = old;
            pthread_mutex_unlock(&sh->lock);
        }
    }
    return NULL;
}

static result_t run_xmalloc(const options_t *o)
{
    unsigned t = o->threads >= 1 ? o->threads : 1;
    unsigned nslots = XM_QUEUE + t;
    xm_shared_t sh = { .nfree = nslots };
    xm_worker_t *w = map_zeroed(t * sizeof(xm_worker_t));
    pthread_t *thread = map_zeroed(t * sizeof(pthread_t));
    uint64_t per_thread = o->ops / ((uint64_t)t * XM_BATCH);
    result_t r = { .threads = t, .ops = per_thread * t * XM_BATCH };
    double t0;

    if (per_thread == 0) {
        die("xmalloc: --ops must be at least threads * %u", XM_BATCH);
    }
    pthread_mutex_init(&sh.lock, NULL);
    sh.batch = map_zeroed(nslots * sizeof(xm_batch_t));
    sh.free_slot = map_zeroed(nslots * sizeof(unsigned));
    for (unsigned i = 0; i < nslots; i++) {
        sh.free_slot[i] = i;
    }
    t0 = read_clock();
    for (unsigned i = 0; i < t; i++) {
        w[i] = (xm_worker_t){ .shared = &sh, .batches = per_thread,
                              .seed = derive_seed(o->seed, i) };
        start_thread(&thread[i], i, xmalloc_worker, &w[i]);
    }
    for (unsigned i = 0; i < t; i++) {
        pthread_join(thread[i], NULL);
    }
    /* The batches still queued are freed inside the timing: every block
     * allocated is freed once, by some thread. */
    while (sh.count > 0) {
        xm_free_batch(&sh.batch[sh.queue[sh.head]]);
        sh.head = (sh.head + 1) % XM_QUEUE;
        sh.count--;
    }
    r.secs = read_clock() - t0;
    pthread_mutex_destroy(&sh.lock);
    unmap(sh.free_slot, nslots * sizeof(unsigned));
    unmap(sh.batch, nslots * sizeof(xm_batch_t));
    unmap(thread, t * sizeof(pthread_t));
    unmap(w, t * sizeof(xm_worker_t));
    return r;
}

/* ------------------------------------------------------------------------ */
/* cache-scratch: small blocks written hard by each thread                   */
/* ------------------------------------------------------------------------ */

#define CS_SIZE 8u       /* bytes per block, as in the original */
#define CS_WRITES 64u    /* writes to each block before it is freed */

typedef struct {
    void *first;         /* the block the main thread allocated for it */
    uint64_t ops;
} cs_worker_t;

static void *scratch_worker(void *arg)
{
    cs_worker_t *w = arg;

    free(w->first);
    for (uint64_t n = 0; n < w->ops; n++) {
        volatile unsigned char *p = malloc(CS_SIZE);

        if (p == NULL) {
            die("malloc(%u) returned NULL", CS_SIZE);
        }
        for (unsigned k = 0; k < CS_WRITES; k++) {
            p[k % CS_SIZE] = (unsigned char)(p[k % CS_SIZE] + 1);
        }
        free((void *)p);
    }
    return NULL;
}

static result_t run_cache_scratch(const options_t *o)
{
    unsigned t = o->threads >= 1 ? o->threads : 1;
    cs_worker_t *w = map_zeroed(t * sizeof(cs_worker_t));
    pthread_t *thread = map_zeroed(t * sizeof(pthread_t));
    uint64_t per_thread = o->ops / t;
    result_t r = { .threads = t, .ops = per_thread * t };
    double t0;

    for (unsigned i = 0; i < t; i++) {
        w[i].first = malloc(CS_SIZE);
        w[i].ops = per_thread;
        if (w[i].first == NULL) {
            die("malloc(%u) returned NULL", CS_SIZE);
        }
    }
    t0 = read_clock();
    for (unsigned i = 0; i < t; i++) {
        start_thread(&thread[i], i, scratch_worker, &w[i]);
    }
    for (unsigned i = 0; i < t; i++) {
        pthread_join(thread[i], NULL);
    }
    r.secs = read_clock() - t0;
    unmap(thread, t * sizeof(pthread_t));
    unmap(w, t * sizeof(cs_worker_t));
    return r;
}

/* ------------------------------------------------------------------------ */
/* Command line                                                              */
/* ------------------------------------------------------------------------ */

static void print_usage(FILE *f)
{
    fputs("usage: mwrt-bench-alloc WORKLOAD [options]\n"
          "\n"
          "Measures malloc/free throughput and peak RSS on requests of 8..512\n"
          "bytes.  Choose the allocator with LD_PRELOAD.\n"
          "\n"
          "workloads:\n"
          "  single     one thread replaces random blocks of a working set\n"
          "  prodcons   producers malloc, consumers free (cross-thread free)\n"
          "  larson     threads swap block arrays and are replaced (churn)\n"
          "  burst      one thread allocates a working set and frees it, in rounds\n"
          "  xmalloc    threads pass batches of blocks through a shared queue; any\n"
          "             thread frees any batch (many-to-many cross-thread free)\n"
          "  cache-scratch  threads allocate, write hard and free small blocks\n"
          "             (false sharing between threads' blocks)\n"
          "\n"
          "options (numbers take a k, M or G suffix):\n"
          "  -t, --threads N      threads (default 2; single always uses 1;\n"
          "                       prodcons uses N/2 producer/consumer pairs)\n"
          "  -n, --ops N          malloc+free pairs to time (default:\n"
          "                       single 3M, larson 10M, xmalloc 20M,\n"
          "                       others 5M)\n"
          "  -w, --slots N        working set: single 100k blocks, larson 10k\n"
          "                       blocks per thread, burst 20k blocks per\n"
          "                       round (default)\n"
          "  -r, --rounds N       larson: ops between array swaps (default 1000)\n"
          "  -g, --generations N  larson: thread lives per thread (default 4)\n"
          "  -s, --seed N         random seed (default 1)\n"
          "      --no-pin         let the scheduler place threads (default:\n"
          "                       worker k runs on allowed CPU k mod ncpu)\n"
          "  -h, --help           this text\n"
          "\n"
          "Prints one line: workload= threads= ops= secs= ops_per_sec=\n"
          "maxrss_kb= malloc_from= (the library that provides malloc).\n", f);
}

static uint64_t parse_count(const char *opt, const char *s)
{
    char *end;
    unsigned long long v;

    if (s == NULL) {
        die("%s needs a value", opt);
    }
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || s[0] == '-') {
        die("%s: not a count: '%s'", opt, s);
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1000ull;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1000000ull;
        end++;
    } else if (*end == 'g' || *end == 'G') {
        v *= 1000000000ull;
        end++;
    }
    if (*end != '\0') {
        die("%s: not a count: '%s'", opt, s);
    }
    return v;
}

static bool match_option(const char *arg, const char *short_name, const char *long_name)
{
    return strcmp(arg, short_name) == 0 || strcmp(arg, long_name) == 0;
}

static options_t parse_args(int argc, char **argv)
{
    options_t o = { .threads = 2, .rounds = 1000, .generations = 4, .seed = 1,
                    .pin = true };

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (match_option(a, "-h", "--help")) {
            print_usage(stdout);
            exit(0);
        } else if (match_option(a, "-t", "--threads")) {
            o.threads = (unsigned)parse_count(a, v);
            i++;
        } else if (match_option(a, "-n", "--ops")) {
            o.ops = parse_count(a, v);
            i++;
        } else if (match_option(a, "-w", "--slots")) {
            o.slots = parse_count(a, v);
            i++;
        } else if (match_option(a, "-r", "--rounds")) {
            o.rounds = (unsigned)parse_count(a, v);
            i++;
        } else if (match_option(a, "-g", "--generations")) {
            o.generations = (unsigned)parse_count(a, v);
            i++;
        } else if (strcmp(a, "--no-pin") == 0) {
            o.pin = false;
        } else if (match_option(a, "-s", "--seed")) {
            o.seed = parse_count(a, v);
            i++;
        } else if (a[0] == '-') {
            print_usage(stderr);
            die("unknown option '%s'", a);
        } else if (o.workload == NULL) {
            o.workload = a;
        } else {
            print_usage(stderr);
            die("unexpected argument '%s'", a);
        }
    }
    if (o.workload == NULL) {
        print_usage(stderr);
        die("no workload given");
    }
    if (o.ops == 0) {
        /* About a second each with glibc on a 2-core machine. */
        if (strcmp(o.workload, "single") == 0) {
            o.ops = 3000000;
        } else if (strcmp(o.workload, "prodcons") == 0
                   || strcmp(o.workload, "burst") == 0
                   || strcmp(o.workload, "cache-scratch") == 0) {
            o.ops = 5000000;
        } else if (strcmp(o.workload, "xmalloc") == 0) {
            o.ops = 20000000;   /* under 0.2 s at 5M with the fastest peers */
        } else {
            o.ops = 10000000;
        }
    }
    if (o.slots == 0) {
        o.slots = strcmp(o.workload, "single") == 0  ? 100000
                : strcmp(o.workload, "burst") == 0 ? 20000
                                                    : 10000;
    }
    if (o.slots > UINT32_MAX) {
        die("--slots must be below 2^32");
    }
    if (o.threads == 0 || o.threads > 1024) {
        die("--threads must be 1..1024");
    }
    if (o.rounds == 0) {
        die("--rounds must be at least 1");
    }
    return o;
}

/* The file name of the library whose malloc this process calls. */
static const char *name_malloc_provider(void)
{
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    Dl_info info;
    const char *slash;

    if (sym == NULL || dladdr(sym, &info) == 0 || info.dli_fname == NULL) {
        return "unknown";
    }
    slash = strrchr(info.dli_fname, '/');
    return slash != NULL ? slash + 1 : info.dli_fname;
}

int main(int argc, char **argv)
{
    options_t o = parse_args(argc, argv);
    struct rusage ru;
    result_t r;

    if (o.pin) {
        list_cpus();
    }

    if (strcmp(o.workload, "single") == 0) {
        r = run_single(&o);
    } else if (strcmp(o.workload, "prodcons") == 0) {
        r = run_prodcons(&o);
    } else if (strcmp(o.workload, "larson") == 0) {
        r = run_larson(&o);
    } else if (strcmp(o.workload, "burst") == 0) {
        r = run_burst(&o);
    } else if (strcmp(o.workload, "xmalloc") == 0) {
        r = run_xmalloc(&o);
    } else if (strcmp(o.workload, "cache-scratch") == 0) {
        r = run_cache_scratch(&o);
    } else {
        print_usage(stderr);
        die("unknown workload '%s'", o.workload);
    }

    getrusage(RUSAGE_SELF, &ru);
    printf("workload=%s threads=%u ops=%" PRIu64 " secs=%.6f ops_per_sec=%.0f"
           " maxrss_kb=%ld malloc_from=%s\n",
           o.workload, r.threads, r.ops, r.secs,
           r.secs > 0 ? (double)r.ops / r.secs : 0.0,
           ru.ru_maxrss, name_malloc_provider());
    return 0;
}
