/* A thread keeps reading a page that main unmaps: the reader must fault at once (TLB shootdown),
 * not go on through a stale translation. Expected: killed by SIGSEGV at the page's address. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t *page;
static atomic_ulong reads;

static void *reader(void *arg)
{
    (void)arg;
    for (;;) {
        (void)*page;
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int mode_mprotect = argc > 1 && argv[1][0] == 'p';
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 2;
    *page = 42;
    pthread_t t;
    if (pthread_create(&t, NULL, reader, NULL))
        return 3;
    while (atomic_load(&reads) < 1000)
        sched_yield();
    printf("reader running; %s %p\n", mode_mprotect ? "mprotect PROT_NONE" : "munmap",
           (void *)page);
    fflush(stdout);
    if (mode_mprotect ? mprotect((void *)page, 4096, PROT_NONE) : munmap((void *)page, 4096))
        return 4;
    unsigned long before = atomic_load(&reads);
    struct timespec ts = { 0, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    printf("FAIL: reader still running after the change (%lu reads since)\n",
           atomic_load(&reads) - before);
    return 1;
}
