/* A block-device benchmark for the Linux tier (bench/linux.sh): sequential reads or writes, or random 4 KiB reads, with O_DIRECT.
 *
 *   blkbench DEVICE seqread|seqwrite MIB    MIB mebibytes in 1 MiB requests from offset 0
 *   blkbench DEVICE randread COUNT          COUNT 4 KiB reads at random 4 KiB-aligned offsets
 * DEVICE may be a file (in a grant's shared file system, say): seqwrite then creates it, and a
 * file system that refuses O_DIRECT (EINVAL) is used without it.
 *
 * Prints "bytes=N ns=T ops=K" (CLOCK_MONOTONIC around the transfers). Exit 0; 1 on an I/O
 * error (named); 2 for bad arguments. As a hypercall-tier job it only checks its arguments. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        goto usage;
    char *end;
    unsigned long n = strtoul(argv[3], &end, 10);
    int seqread = !strcmp(argv[2], "seqread"), seqwrite = !strcmp(argv[2], "seqwrite"),
        randread = !strcmp(argv[2], "randread");
    if (*end || n == 0 || n > 1000000 || !(seqread || seqwrite || randread))
        goto usage;
    size_t bs = randread ? 4096 : 1u << 20;
    void *buf;
    if (posix_memalign(&buf, 4096, bs))
        return 1;
    memset(buf, 0x5a, bs);
    int flags = seqwrite ? O_WRONLY | O_CREAT : O_RDONLY;
    int fd = open(argv[1], flags | O_DIRECT, 0644);
    if (fd < 0 && errno == EINVAL)
        fd = open(argv[1], flags, 0644);
    if (fd < 0) {
        fprintf(stderr, "blkbench: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (!seqwrite && size < (off_t)(randread ? 4096 : n * bs)) {
        fprintf(stderr, "blkbench: %s: too small (%lld bytes)\n", argv[1], (long long)size);
        return 1;
    }
    uint64_t blocks = (uint64_t)size / 4096, x = 0x9e3779b97f4a7c15ull, bytes = 0;
    uint64_t t0 = now_ns();
    for (unsigned long i = 0; i < n; i++) {
        off_t off;
        if (randread) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            off = (off_t)(x % blocks) * 4096;
        } else {
            off = (off_t)i * (off_t)bs;
        }
        ssize_t r = seqwrite ? pwrite(fd, buf, bs, off) : pread(fd, buf, bs, off);
        if (r != (ssize_t)bs) {
            fprintf(stderr, "blkbench: %s at %lld: %s\n", argv[2], (long long)off,
                    r < 0 ? strerror(errno) : "short transfer");
            return 1;
        }
        bytes += bs;
    }
    if (seqwrite && fdatasync(fd) < 0) {
        fprintf(stderr, "blkbench: fdatasync: %s\n", strerror(errno));
        return 1;
    }
    uint64_t t = now_ns() - t0;
    printf("bytes=%llu ns=%llu ops=%lu\n", (unsigned long long)bytes, (unsigned long long)t, n);
    return 0;
usage:
    fprintf(stderr, "usage: blkbench DEVICE seqread|seqwrite MIB | blkbench DEVICE randread COUNT\n");
    return 2;
}
