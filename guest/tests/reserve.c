/* Address space apart from memory (issue 17 part 6): reservations and untouched mappings cost no RAM.
 *
 *   reserve   reserve 8 GiB PROT_NONE, map three 16 MiB read-write blocks (48 MiB: more than a
 *             32 MiB limit) and touch 4 pages of each, open 1 MiB of the reservation read-write
 *             and fill it, check every touched byte, unmap; prints "reserve ok" and exits 0
 *   touchall  map the three blocks and write every page: the job runs out of frames at a first
 *             touch (killed under isovm; natively, under `ulimit -v` it cannot even map them)
 *   touch MIB map MIB MiB and write one byte per page in order; prints "touch_ns=N" (the
 *             first-touch benchmark: bench/first_touch.sh)
 *
 * Exit status 1 with a message when a call fails or a byte reads back wrong, 2 for bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define MIB (1ul << 20)
#define PAGE 4096ul
#define BLOCK (16 * MIB)

static unsigned char *map(size_t len, int prot)
{
    void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "touch") == 0) {
        size_t len = strtoul(argv[2], NULL, 10) * MIB;
        unsigned char *p = map(len ? len : MIB, PROT_READ | PROT_WRITE);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (size_t off = 0; off < len; off += PAGE)
            p[off] = 1;
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("touch_ns=%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000ll +
                                       (b.tv_nsec - a.tv_nsec));
        return 0;
    }
    if (argc != 2 || (strcmp(argv[1], "reserve") && strcmp(argv[1], "touchall"))) {
        fprintf(stderr, "usage: reserve reserve|touchall|touch MIB\n");
        return 2;
    }
    unsigned char *blk[3];
    for (int i = 0; i < 3; i++)
        blk[i] = map(BLOCK, PROT_READ | PROT_WRITE);
    if (strcmp(argv[1], "touchall") == 0) {
        for (int i = 0; i < 3; i++) {
            for (size_t off = 0; off < BLOCK; off += PAGE)
                blk[i][off] = 1;
            printf("block %d touched\n", i);
            fflush(stdout);
        }
        printf("all touched\n");
        return 0;
    }
    unsigned char *res = map(8192 * MIB, PROT_NONE);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            blk[i][(size_t)k * 4 * MIB + 123] = (unsigned char)(i * 16 + k + 1);
    unsigned char *win = res + 4096 * MIB;
    if (mprotect(win, MIB, PROT_READ | PROT_WRITE)) {
        perror("mprotect");
        return 1;
    }
    memset(win, 0x5a, MIB);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++)
            if (blk[i][(size_t)k * 4 * MIB + 123] != (unsigned char)(i * 16 + k + 1) ||
                blk[i][(size_t)k * 4 * MIB + 124] != 0) {
                fprintf(stderr, "block %d page %d reads back wrong\n", i, k);
                return 1;
            }
    for (size_t off = 0; off < MIB; off += 511)
        if (win[off] != 0x5a) {
            fprintf(stderr, "reservation window reads back wrong at %zu\n", off);
            return 1;
        }
    /* unmapped and mapped again: zero */
    if (munmap(win, MIB) || mmap(win, MIB, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != win) {
        perror("remap");
        return 1;
    }
    for (size_t off = 0; off < MIB; off += 4093)
        if (win[off]) {
            fprintf(stderr, "a page mapped again is not zero at %zu\n", off);
            return 1;
        }
    if (munmap(res, 8192 * MIB)) {
        perror("munmap");
        return 1;
    }
    printf("reserve ok\n");
    return 0;
}
