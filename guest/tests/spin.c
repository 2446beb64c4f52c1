/* A CPU-bound job whose progress can be measured (CPU quota and time-limit tests, benchmarks).
 *
 *   spin SECONDS [ITERS]    busy-loops in chunks of ITERS iterations of fixed work (default
 *                           DEFAULT_ITERS, about 1 ms natively on a current x86 core), reading
 *                           CLOCK_MONOTONIC between chunks, until SECONDS (may be fractional, or
 *                           0) of wall time have passed; then prints
 *                           "chunks=N wall_ns=W iters=ITERS". W is measured at the end of the last
 *                           chunk, so N / W is the job's rate of progress, not rounded to chunks.
 *   spin --forever [ITERS]  prints "spinning" and never stops (killed by a limit).
 *   spin --calibrate [MS]   spins for at least MS (default 200) ms, in steps of 10 ms or more,
 *                           and prints "iters_per_ms=K", the ITERS that make a chunk about 1 ms
 *                           here. Run it unthrottled.
 *
 * The work is a chain of dependent multiply-adds: no memory traffic, no syscalls, the same
 * instructions whatever the libc. Exit status 0; 2 for bad arguments. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_ITERS 500000ul

static uint64_t state = 0x243f6a8885a308d3ull;

static void work(unsigned long iters)
{
    uint64_t x = state;
    for (unsigned long i = 0; i < iters; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : "+r"(x)); /* keep every iteration */
    }
    state = x;
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr, "usage: spin SECONDS [ITERS] | spin --forever [ITERS] | spin --calibrate [MS]\n");
    return 2;
}

static int parse_ul(const char *s, unsigned long *v)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -1;
    *v = strtoul(s, &end, 10);
    return *end ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned long iters = DEFAULT_ITERS;
    if (argc < 2 || argc > 3)
        return usage();
    if (strcmp(argv[1], "--calibrate") == 0) {
        unsigned long ms = 200, n = 0, step = 1000;
        if (argc == 3 && (parse_ul(argv[2], &ms) < 0 || ms == 0))
            return usage();
        /* steps of at least 10 ms, so reading the clock (a hypercall under isovm, tens of
         * microseconds in an emulated host) costs well under 1% */
        int64_t t0, t;
        for (;;) {
            t0 = now_ns();
            work(step);
            if (now_ns() - t0 >= 10000000ll || step >= (1ul << 40))
                break;
            step *= 2;
        }
        t0 = now_ns();
        do {
            work(step);
            n += step;
            t = now_ns();
        } while (t - t0 < (int64_t)ms * 1000000ll);
        unsigned long k = (unsigned long)((double)n * 1e6 / (double)(t - t0));
        printf("iters_per_ms=%lu\n", k ? k : 1);
        return 0;
    }
    if (argc == 3 && (parse_ul(argv[2], &iters) < 0 || iters == 0))
        return usage();
    if (strcmp(argv[1], "--forever") == 0) {
        printf("spinning\n");
        fflush(stdout);
        for (;;) {
            work(iters);
            now_ns();
        }
    }
    char *end;
    double secs = strtod(argv[1], &end);
    if (end == argv[1] || *end || !(secs >= 0) || secs > 1e6)
        return usage();
    int64_t limit = (int64_t)(secs * 1e9), t0 = now_ns(), t = t0;
    unsigned long chunks = 0;
    while (t - t0 < limit) {
        work(iters);
        chunks++;
        t = now_ns();
    }
    printf("chunks=%lu wall_ns=%lld iters=%lu\n", chunks, (long long)(t - t0), iters);
    return 0;
}
