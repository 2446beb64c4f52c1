/* Allocates until memory runs out (memory limit and OOM tests).
 *
 *   oom handle   malloc + touch 256 KiB blocks until malloc fails; prints "allocated_kib=N" and
 *                exits 3 (a job that handles ENOMEM and ends with its own status)
 *   oom crash    the same, but then stores through the NULL malloc returned: dies of SIGSEGV
 *   oom abort    the same, but calls abort(): dies of SIGABRT
 *   oom mmap     raw anonymous mmap of 256 KiB blocks (touched) until MAP_FAILED; prints
 *                "allocated_kib=N errno=ENOMEM" (the errno name) and exits 4
 *
 * Every page of every block is written, so the memory is really in use. Nothing is freed.
 * Natively, run it under `ulimit -v` (the tests do). Exit status 2 for bad arguments, 1 if the
 * failure is not ENOMEM. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK (256u << 10)
#define PAGE 4096u

static void touch(unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += PAGE)
        p[i] = (unsigned char)(i / PAGE + 1);
    p[n - 1] = 1;
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    default: return "other";
    }
}

int main(int argc, char **argv)
{
    if (argc != 2)
        goto usage;
    const char *mode = argv[1];
    int crash = strcmp(mode, "crash") == 0, do_abort = strcmp(mode, "abort") == 0;
    if (!crash && !do_abort && strcmp(mode, "handle") != 0 && strcmp(mode, "mmap") != 0)
        goto usage;
    unsigned long kib = 0;
    /* first output now: stdio sets up stdout's buffer while there is still memory */
    printf("allocating 256 KiB blocks (%s)\n", mode);
    fflush(stdout);

    if (strcmp(mode, "mmap") == 0) {
        for (;;) {
            void *p = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) {
                int e = errno;
                printf("allocated_kib=%lu errno=%s\n", kib, errno_name(e));
                return e == ENOMEM ? 4 : 1;
            }
            touch(p, BLOCK);
            kib += BLOCK >> 10;
        }
    }

    unsigned char *p;
    while ((p = malloc(BLOCK)) != NULL) {
        touch(p, BLOCK);
        kib += BLOCK >> 10;
    }
    int e = errno;
    printf("allocated_kib=%lu\n", kib);
    fflush(stdout);
    if (crash) {
        unsigned char *volatile q = p; /* NULL, but the compiler may not assume it */
        printf("writing through the NULL from malloc\n");
        fflush(stdout);
        __asm__ volatile("movb $1, (%0)" : : "r"(q) : "memory");
        printf("still alive\n");
        return 0;
    }
    if (do_abort) {
        printf("calling abort\n");
        fflush(stdout);
        abort();
    }
    if (e != ENOMEM) {
        printf("malloc failed with errno %d, not ENOMEM\n", e);
        return 1;
    }
    return 3;

usage:
    fprintf(stderr, "usage: oom handle|crash|abort|mmap\n");
    return 2;
}
