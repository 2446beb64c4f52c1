/* TCP send throughput and round trips from the guest (bench/linux_io.sh), against tests/tools/net_peer.py's sink and echo.
 *
 *   netbench send HOST PORT MIB   connect, write MIB mebibytes in 64 KiB writes, half-close, wait
 *                                 for the peer's close (net_peer.py sink closes at EOF, after
 *                                 counting it all): "bytes=N ns=T", connect to close
 *   netbench rr HOST PORT N       connect (TCP_NODELAY), 100 unmeasured 1-byte request/response
 *                                 round trips, then N measured: "trips=N ns=T median_ns=M"
 *                                 (T: all N; M: the median trip)
 * HOST is a dotted IPv4 address or a name in /etc/hosts. Times: CLOCK_MONOTONIC. Exit 0, 1 on an
 * error (named), 2 for bad arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "hosts_addr.h"

#define WARMUP 100

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int die(const char *what)
{
    fprintf(stderr, "netbench: %s: %s\n", what, strerror(errno));
    return 1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int send_timed(int fd, unsigned long mib)
{
    static uint8_t buf[65536];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)i;
    uint64_t want = (uint64_t)mib << 20, sent = 0, t0 = now_ns();
    while (sent < want) {
        size_t k = want - sent < sizeof buf ? (size_t)(want - sent) : sizeof buf;
        ssize_t w = write(fd, buf, k);
        if (w <= 0)
            return die("write");
        sent += (uint64_t)w;
    }
    if (shutdown(fd, SHUT_WR) < 0)
        return die("shutdown");
    for (;;) { /* the peer closes once it has read everything */
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0)
            return die("read");
        if (r == 0)
            break;
    }
    uint64_t t = now_ns() - t0;
    printf("bytes=%llu ns=%llu\n", (unsigned long long)sent, (unsigned long long)t);
    return 0;
}

static int rr(int fd, unsigned long n)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint64_t *trip = malloc(n * sizeof *trip), t0 = 0;
    if (!trip)
        return die("malloc");
    for (unsigned long i = 0; i < WARMUP + n; i++) {
        if (i == WARMUP)
            t0 = now_ns();
        uint64_t s = now_ns();
        char c = 'x';
        if (write(fd, &c, 1) != 1)
            return die("write");
        ssize_t r = read(fd, &c, 1);
        if (r != 1) {
            if (r == 0)
                errno = ECONNRESET;
            return die("read");
        }
        if (i >= WARMUP)
            trip[i - WARMUP] = now_ns() - s;
    }
    uint64_t t = now_ns() - t0;
    qsort(trip, n, sizeof *trip, cmp_u64);
    printf("trips=%lu ns=%llu median_ns=%llu\n", n, (unsigned long long)t,
           (unsigned long long)trip[(n - 1) / 2]);
    free(trip);
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    char *end;
    if (argc != 5 || (strcmp(argv[1], "send") && strcmp(argv[1], "rr")))
        goto usage;
    unsigned long n = strtoul(argv[4], &end, 10);
    if (*end || n == 0 || n > 10000000 || hosts_addr("netbench", argv[2], argv[3], &sa) < 0)
        goto usage;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return die("socket");
    struct timeval tv = { 120, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        return die("connect");
    return !strcmp(argv[1], "send") ? send_timed(fd, n) : rr(fd, n);
usage:
    fprintf(stderr, "usage: netbench send HOST PORT MIB | netbench rr HOST PORT N\n");
    return 2;
}
