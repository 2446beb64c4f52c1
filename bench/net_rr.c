/* Socket round-trip benchmark: `net_rr serve ADDR PORT` echoes (one connection at a time,
 * forever); `net_rr client ADDR PORT N SIZE` does N request/response round trips of SIZE bytes
 * and prints the median and mean per round trip (after 100 warm-up trips). Static musl: the
 * same binary runs natively and as an isovm job (through a granted endpoint). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 100
#define MAX_SIZE 65536

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int full(int s, char *buf, size_t n, int send_it)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = send_it ? write(s, buf + done, n - done) : read(s, buf + done, n - done);
        if (r <= 0)
            return -1;
        done += (size_t)r;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: net_rr serve ADDR PORT | client ADDR PORT N SIZE\n");
        return 2;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3])) };
    if (inet_pton(AF_INET, argv[2], &a.sin_addr) != 1)
        return 2;
    int one = 1;
    static char buf[MAX_SIZE];
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        perror("socket");
        return 1;
    }
    if (!strcmp(argv[1], "serve")) {
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0) {
            perror("bind/listen");
            return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
            int c = accept(s, NULL, NULL);
            if (c < 0)
                continue;
            setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            ssize_t r;
            while ((r = read(c, buf, sizeof buf)) > 0)
                if (full(c, buf, (size_t)r, 1) < 0)
                    break;
            close(c);
        }
    }
    if (argc < 6)
        return 2;
    long n = atol(argv[4]), size = atol(argv[5]);
    if (n < 1 || size < 1 || size > MAX_SIZE)
        return 2;
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("connect");
        return 1;
    }
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long long *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return 1;
    memset(buf, 'r', (size_t)size);
    for (long i = -WARMUP; i < n; i++) {
        long long t0 = now_ns();
        if (full(s, buf, (size_t)size, 1) < 0 || full(s, buf, (size_t)size, 0) < 0) {
            fprintf(stderr, "round trip %ld failed\n", i);
            return 1;
        }
        if (i >= 0)
            t[i] = now_ns() - t0;
    }
    long long sum = 0;
    for (long i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof *t, cmp_ll);
    printf("median_ns=%lld mean_ns=%lld\n", t[n / 2], sum / n);
    return 0;
}
