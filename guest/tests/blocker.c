/* Hostile job for issue 12: blocks in every blocking call isovm implements, and the races a
 * call must survive (its descriptor closed and reused, its capability expiring, datagrams from
 * ungranted sources). Modes (PORT: a granted tcp or udp endpoint on 127.0.0.1):
 *   block CALL [PORT]   print "blocking CALL", then block in CALL forever (the peer on PORT never
 *                       answers); if the call returns: "returned r=R errno=E" and exit 3.
 *                       CALL: stdin-read futex nanosleep clock-nanosleep poll ppoll accept
 *                       connect recv recvfrom recvmsg read-sock readv-sock send udp-recvfrom
 *                       udp-read throttled-write FILE
 *   fd-swap F1 F2       thread A writes 256 KiB to F1 (throttled by the policy) while thread B,
 *                       0.3 s in, closes F1's descriptor and opens F2, which gets the same
 *                       number: print "a-wrote=N same-fd=0|1"
 *   expire-write FILE N one write of N bytes to FILE (a grant that expires meanwhile): print
 *                       "wrote=R" and then "next errno=E" for a second write
 *   linger PORT         connect, queue 64 KiB to a peer that never reads, SO_LINGER 30 s,
 *                       close: print "closed r=R" and exit 0
 *   udp-filter PORT     udp: ask the peer on PORT for datagrams; it sends one from PORT+1
 *                       (ungranted) and one from PORT: read, readv, recvfrom and poll must see
 *                       only PORT's: prints "read=...", "readv=...", "recvfrom=...",
 *                       "poll-bad=N" (0: the ungranted datagram did not wake poll), "poll-good=N"
 *                       and exits 0 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128 /* FUTEX_WAIT | FUTEX_PRIVATE_FLAG (no linux headers under musl-gcc) */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        write(1, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    return a;
}

static int tcp_to(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = loopback(port);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        say("connect to %d failed: errno=%d\n", port, errno);
        exit(4);
    }
    return s;
}

static int udp_to(int port, const char *msg)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = loopback(port);
    if (s < 0 || sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof a) < 0) {
        say("udp to %d failed: errno=%d\n", port, errno);
        exit(4);
    }
    return s;
}

static int block(const char *call, int port, const char *file)
{
    static char buf[1 << 16];
    long r = -1;
    int s = -1;
    if (!strcmp(call, "recv") || !strcmp(call, "recvfrom") || !strcmp(call, "recvmsg") ||
        !strcmp(call, "read-sock") || !strcmp(call, "readv-sock") || !strcmp(call, "poll") ||
        !strcmp(call, "ppoll") || !strcmp(call, "send"))
        s = tcp_to(port);
    else if (!strcmp(call, "udp-recvfrom") || !strcmp(call, "udp-read"))
        s = udp_to(port, "hello?");
    else if (!strcmp(call, "accept")) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(port);
        if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
            say("listen on %d failed: errno=%d\n", port, errno);
            return 4;
        }
    } else if (!strcmp(call, "throttled-write")) {
        s = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (s < 0) {
            say("open %s failed: errno=%d\n", file, errno);
            return 4;
        }
    }
    say("blocking %s\n", call);
    struct iovec iov = { buf, sizeof buf };
    if (!strcmp(call, "stdin-read"))
        r = read(0, buf, sizeof buf);
    else if (!strcmp(call, "futex")) {
        static uint32_t word;
        r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
    } else if (!strcmp(call, "nanosleep")) {
        struct timespec ts = { 1000, 0 };
        r = nanosleep(&ts, NULL);
    } else if (!strcmp(call, "clock-nanosleep")) {
        struct timespec ts = { 1000, 0 };
        r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
        if (r) {
            errno = (int)r;
            r = -1;
        }
    } else if (!strcmp(call, "poll")) {
        struct pollfd p = { s, POLLIN, 0 };
        r = poll(&p, 1, -1);
    } else if (!strcmp(call, "ppoll")) {
        struct pollfd p = { s, POLLIN, 0 };
        r = ppoll(&p, 1, NULL, NULL);
    } else if (!strcmp(call, "accept"))
        r = accept(s, NULL, NULL);
    else if (!strcmp(call, "connect")) {
        s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = loopback(port);
        r = connect(s, (struct sockaddr *)&a, sizeof a);
    } else if (!strcmp(call, "recv"))
        r = recv(s, buf, sizeof buf, 0);
    else if (!strcmp(call, "recvfrom") || !strcmp(call, "udp-recvfrom"))
        r = recvfrom(s, buf, sizeof buf, 0, NULL, NULL);
    else if (!strcmp(call, "recvmsg")) {
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
        r = recvmsg(s, &m, 0);
    } else if (!strcmp(call, "read-sock") || !strcmp(call, "udp-read"))
        r = read(s, buf, sizeof buf);
    else if (!strcmp(call, "readv-sock"))
        r = readv(s, &iov, 1);
    else if (!strcmp(call, "send")) {
        for (;;) /* the peer never reads: the buffers fill and send blocks */
            if ((r = send(s, buf, sizeof buf, 0)) < 0)
                break;
    } else if (!strcmp(call, "throttled-write")) {
        static char big[4 << 20];
        r = write(s, big, sizeof big);
    } else {
        say("unknown call %s\n", call);
        return 2;
    }
    say("returned r=%ld errno=%d\n", r, r < 0 ? errno : 0);
    return 3;
}

/* ---- fd-swap: a call keeps the capability it started with ---- */

static int swap_fd = -1;
static const char *swap_f2;
static int swap_same = -1;

static void *swapper(void *arg)
{
    (void)arg;
    usleep(300000);
    int old = swap_fd;
    close(old);
    int f2 = open(swap_f2, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    swap_same = f2 == old;
    return NULL;
}

static int fd_swap(const char *f1, const char *f2)
{
    static char data[256 << 10];
    memset(data, 'A', sizeof data);
    swap_f2 = f2;
    swap_fd = open(f1, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (swap_fd < 0) {
        say("open %s failed: errno=%d\n", f1, errno);
        return 4;
    }
    pthread_t t;
    pthread_create(&t, NULL, swapper, NULL);
    long r = write(swap_fd, data, sizeof data);
    pthread_join(t, NULL);
    say("a-wrote=%ld same-fd=%d\n", r, swap_same);
    return 0;
}

static int expire_write(const char *file, long n)
{
    char *data = malloc((size_t)n);
    if (!data)
        return 4;
    memset(data, 'E', (size_t)n);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        say("open %s failed: errno=%d\n", file, errno);
        return 4;
    }
    long r = write(fd, data, (size_t)n);
    say("wrote=%ld errno=%d\n", r, r < 0 ? errno : 0);
    long r2 = write(fd, data, 1);
    say("next r=%ld errno=%d\n", r2, r2 < 0 ? errno : 0);
    return 0;
}

static int linger_close(int port)
{
    static char data[64 << 10];
    int s = tcp_to(port);
    int flags = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, flags | O_NONBLOCK);
    long queued = 0, r;
    while ((r = send(s, data, sizeof data, 0)) > 0) /* fill what the peer will never read */
        queued += r;
    fcntl(s, F_SETFL, flags);
    struct linger l = { 1, 30 };
    if (setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0) {
        say("SO_LINGER failed: errno=%d\n", errno);
        return 4;
    }
    say("queued=%ld\n", queued);
    r = close(s);
    say("closed r=%ld\n", r);
    return 0;
}

static int udp_filter(int port)
{
    char buf[64];
    int s = udp_to(port, "read");
    long n = read(s, buf, sizeof buf - 1);
    say("read=%.*s\n", n > 0 ? (int)n : 0, buf);
    struct sockaddr_in a = loopback(port);
    sendto(s, "readv", 5, 0, (struct sockaddr *)&a, sizeof a);
    struct iovec iov = { buf, sizeof buf - 1 };
    n = readv(s, &iov, 1);
    say("readv=%.*s\n", n > 0 ? (int)n : 0, buf);
    sendto(s, "recvfrom", 8, 0, (struct sockaddr *)&a, sizeof a);
    n = recvfrom(s, buf, sizeof buf - 1, 0, NULL, NULL);
    say("recvfrom=%.*s\n", n > 0 ? (int)n : 0, buf);
    sendto(s, "bad-only", 8, 0, (struct sockaddr *)&a, sizeof a); /* only PORT+1 answers */
    struct pollfd p = { s, POLLIN, 0 };
    n = poll(&p, 1, 1000);
    say("poll-bad=%ld\n", n);
    sendto(s, "good-only", 9, 0, (struct sockaddr *)&a, sizeof a);
    n = poll(&p, 1, 5000);
    say("poll-good=%ld\n", n);
    n = read(s, buf, sizeof buf - 1);
    say("after-poll=%.*s\n", n > 0 ? (int)n : 0, buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "block"))
        return block(argv[2], argc > 3 ? atoi(argv[3]) : 0, argc > 3 ? argv[3] : "");
    if (argc == 4 && !strcmp(argv[1], "fd-swap"))
        return fd_swap(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "expire-write"))
        return expire_write(argv[2], atol(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "linger"))
        return linger_close(atoi(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "udp-filter"))
        return udp_filter(atoi(argv[2]));
    say("usage: blocker block CALL [PORT|FILE] | fd-swap F1 F2 | expire-write FILE N | "
        "linger PORT | udp-filter PORT\n");
    return 2;
}
