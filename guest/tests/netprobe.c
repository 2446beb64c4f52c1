/* A network probe for the Linux tier's tests (tests/integration/linux_net_cases.sh): TCP exchanges, refusals, UDP, a listener, a timed receive.
 *
 *   netprobe tcp-echo HOST PORT N   send N bytes (byte i = (7*i + 3) & 255), half-close, read the
 *                                   reply to its end: "sent=N received=M fnv=HEX" (FNV-1a of it)
 *   netprobe connect HOST PORT      one connect, 5 s at most: "connect=ok" or "connect=ERRNO-NAME"
 *   netprobe udp HOST PORT TEXT     one datagram, 3 s for a reply: "reply=TEXT", "udp=timeout" or
 *                                   "udp=ERRNO-NAME"
 *   netprobe recv HOST PORT MIB     connect, read MIB mebibytes: "bytes=N ns=T" (CLOCK_MONOTONIC)
 *   netprobe listen PORT            accept one connection on 0.0.0.0:PORT ("listening" first),
 *                                   read one line, answer "guest got: LINE": "served"
 * HOST is a dotted IPv4 address or a name in /etc/hosts. Exit 0, or 1 (with a message). As a
 * hypercall-tier job it only checks its arguments. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "hosts_addr.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *errname(int e)
{
    switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNRESET: return "ECONNRESET";
    default: return strerror(e);
    }
}

/* A TCP connection with a timeout of ms, blocking once made; the fd, or -errno. */
static int tcp_connect(const struct sockaddr_in *sa, int ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    if (poll(&p, 1, ms) != 1) {
        close(fd);
        return -ETIMEDOUT;
    }
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        close(fd);
        return -err;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = { 60, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int die(const char *what)
{
    fprintf(stderr, "netprobe: %s: %s\n", what, strerror(errno));
    return 1;
}

static int tcp_echo(const struct sockaddr_in *sa, unsigned long n)
{
    int fd = tcp_connect(sa, 5000);
    if (fd < 0) {
        printf("connect=%s\n", errname(-fd));
        return 1;
    }
    static uint8_t buf[65536];
    for (unsigned long sent = 0; sent < n;) {
        size_t k = n - sent < sizeof buf ? n - sent : sizeof buf;
        for (size_t i = 0; i < k; i++)
            buf[i] = (uint8_t)((7 * (sent + i) + 3) & 255);
        ssize_t w = write(fd, buf, k);
        if (w <= 0)
            return die("write");
        sent += (unsigned long)w;
    }
    shutdown(fd, SHUT_WR);
    uint64_t fnv = 0xcbf29ce484222325ull, got = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0)
            return die("read");
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++)
            fnv = (fnv ^ buf[i]) * 0x100000001b3ull;
        got += (uint64_t)r;
    }
    printf("sent=%lu received=%llu fnv=%016llx\n", n, (unsigned long long)got, (unsigned long long)fnv);
    return 0;
}

static int udp(const struct sockaddr_in *sa, const char *text)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof *sa) < 0)
        return die("udp socket");
    if (send(fd, text, strlen(text), 0) < 0) {
        printf("udp=%s\n", errname(errno));
        return 0;
    }
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, 3000) != 1) {
        printf("udp=timeout\n");
        return 0;
    }
    char buf[2048];
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    if (r < 0) {
        printf("udp=%s\n", errname(errno));
        return 0;
    }
    buf[r] = 0;
    printf("reply=%s\n", buf);
    return 0;
}

static int recv_timed(const struct sockaddr_in *sa, unsigned long mib)
{
    int fd = tcp_connect(sa, 5000);
    if (fd < 0) {
        printf("connect=%s\n", errname(-fd));
        return 1;
    }
    static uint8_t buf[65536];
    uint64_t want = (uint64_t)mib << 20, got = 0, t0 = now_ns();
    while (got < want) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        got += (uint64_t)r;
    }
    uint64_t t = now_ns() - t0;
    printf("bytes=%llu ns=%llu\n", (unsigned long long)got, (unsigned long long)t);
    return got == want ? 0 : 1;
}

static int listen_once(const char *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0)
        return die("listen");
    printf("listening\n");
    fflush(stdout);
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return die("accept");
    char line[512];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(c, line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    dprintf(c, "guest got: %s\n", line);
    close(c);
    printf("served\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    if (argc == 3 && !strcmp(argv[1], "listen"))
        return listen_once(argv[2]);
    if (argc < 4 || hosts_addr("netprobe", argv[2], argv[3], &sa) < 0)
        goto usage;
    if (argc == 5 && !strcmp(argv[1], "tcp-echo"))
        return tcp_echo(&sa, strtoul(argv[4], NULL, 10));
    if (argc == 4 && !strcmp(argv[1], "connect")) {
        int fd = tcp_connect(&sa, 5000);
        printf("connect=%s\n", fd >= 0 ? "ok" : errname(-fd));
        return 0;
    }
    if (argc == 5 && !strcmp(argv[1], "udp"))
        return udp(&sa, argv[4]);
    if (argc == 5 && !strcmp(argv[1], "recv"))
        return recv_timed(&sa, strtoul(argv[4], NULL, 10));
usage:
    fprintf(stderr, "usage: netprobe tcp-echo|connect|udp|recv HOST PORT [ARG] | netprobe listen PORT\n");
    return 2;
}
