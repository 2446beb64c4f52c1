/* Several threads spin at once (CPU quota and time limit over all of a job's vCPUs).
 *   spin_threads N SECONDS   N threads (main included) busy-loop for SECONDS of wall time;
 *                            prints "threads=N chunks=C wall_ns=W" and each thread's chunks.
 *   spin_threads N --forever N threads spin until a limit ends the job.
 * Exit status 0; 2 for bad arguments; 3 if a thread could not be created. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16
#define CHUNK_ITERS 200000ul

static uint64_t deadline_ns;
static int forever;
static atomic_ulong chunks[MAX_THREADS];

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *spinner(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t x = 0x243f6a8885a308d3ull + (uint64_t)id;
    for (;;) {
        for (unsigned long i = 0; i < CHUNK_ITERS; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        __asm__ volatile("" : : "r"(x));
        atomic_fetch_add(&chunks[id], 1);
        if (!forever && now_ns() >= deadline_ns)
            return NULL;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int n = atoi(argv[1]);
    if (n < 1 || n > MAX_THREADS)
        return 2;
    forever = strcmp(argv[2], "--forever") == 0;
    uint64_t t0 = now_ns();
    deadline_ns = t0 + (uint64_t)(atof(argv[2]) * 1e9);
    if (forever) {
        printf("spinning\n");
        fflush(stdout);
    }
    pthread_t t[MAX_THREADS];
    for (int i = 1; i < n; i++)
        if (pthread_create(&t[i], NULL, spinner, (void *)(intptr_t)i)) {
            printf("pthread_create failed\n");
            return 3;
        }
    spinner(0);
    for (int i = 1; i < n; i++)
        pthread_join(t[i], NULL);
    uint64_t wall = now_ns() - t0;
    unsigned long total = 0;
    for (int i = 0; i < n; i++)
        total += atomic_load(&chunks[i]);
    printf("threads=%d chunks=%lu wall_ns=%llu\n", n, total, (unsigned long long)wall);
    for (int i = 0; i < n; i++)
        printf("thread%d=%lu\n", i, atomic_load(&chunks[i]));
    return 0;
}
