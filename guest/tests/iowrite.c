/* I/O volume with the job's own timing (I/O throttle tests and benchmarks).
 *
 *   iowrite MIB [CHUNK_KIB]   writes MIB MiB (may be 0) of a byte pattern to stdout with write(2)
 *                             in chunks of CHUNK_KIB KiB (default 64), short writes continued;
 *                             then prints "wrote=BYTES elapsed_ns=NS" on stderr, NS from just
 *                             before the first write to just after the last.
 *   iowrite read [CHUNK_KIB]  reads stdin to EOF with read(2) in chunks of CHUNK_KIB KiB; prints
 *                             "read=BYTES elapsed_ns=NS" on stderr, NS from just before the first
 *                             read to the end-of-file read.
 *
 * Exit status 0; 1 on an I/O error (named on stderr); 2 for bad arguments. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000ll + t.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr, "usage: iowrite MIB [CHUNK_KIB] | iowrite read [CHUNK_KIB]\n");
    return 2;
}

static int parse(const char *s, unsigned long max, unsigned long *v)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    *v = strtoul(s, &end, 10);
    return *end || *v > max ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned long chunk_kib = 64, mib = 0;
    if (argc < 2 || argc > 3)
        return usage();
    int reading = strcmp(argv[1], "read") == 0;
    if ((!reading && parse(argv[1], 1ul << 20, &mib)) ||
        (argc == 3 && (parse(argv[2], 1ul << 20, &chunk_kib) || chunk_kib == 0)))
        return usage();
    size_t chunk = chunk_kib << 10;
    char *buf = malloc(chunk);
    if (!buf) {
        fprintf(stderr, "iowrite: cannot allocate %zu bytes\n", chunk);
        return 1;
    }
    for (size_t i = 0; i < chunk; i++)
        buf[i] = (char)('a' + i % 26);

    unsigned long long done = 0;
    long long t0 = now_ns();
    if (reading) {
        for (;;) {
            ssize_t n = read(0, buf, chunk);
            if (n == 0)
                break;
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                fprintf(stderr, "iowrite: read: %s\n", strerror(errno));
                return 1;
            }
            done += (unsigned long long)n;
        }
        long long t1 = now_ns();
        fprintf(stderr, "read=%llu elapsed_ns=%lld\n", done, t1 - t0);
        return 0;
    }
    unsigned long long total = (unsigned long long)mib << 20;
    while (done < total) {
        size_t want = total - done < chunk ? (size_t)(total - done) : chunk;
        ssize_t n = write(1, buf, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "iowrite: write: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0) {
            fprintf(stderr, "iowrite: write returned 0\n");
            return 1;
        }
        done += (unsigned long long)n;
    }
    long long t1 = now_ns();
    fprintf(stderr, "wrote=%llu elapsed_ns=%lld\n", done, t1 - t0);
    return 0;
}
