/* Network endpoints from inside a job: a tcp client, udp, a listener, refusals and hostile calls.
 * Modes (ADDR is IPv4 or IPv6, numeric):
 *   client ADDR PORT MSG     connect, send MSG, expect it echoed back exactly
 *   udp ADDR PORT MSG        sendto, recvfrom: expect the echo from ADDR:PORT
 *   listen ADDR PORT         bind, listen, print "listening", accept one, echo one message
 *   refused ADDR PORT        a tcp connect to ADDR:PORT fails with EACCES
 *   nosocket                 socket() fails with EACCES for every family and type
 *   hold ADDR PORT           connect, print "connected", block in recv until it fails or
 *                            ends: print "recv r=R errno=E", then try a send: "send errno=E"
 *   send ADDR PORT N         connect, send N bytes, print "sent=N"
 *   hostile ADDR PORT        bad pointers, lengths, families and options on a granted endpoint
 *   many ADDR PORT           sockets until refused: print "sockets=N" and the errno
 *   poll ADDR PORT           poll and ppoll on a connection to an echo server */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "check.h"

#define BAD_PTR ((void *)0x10) /* never mapped */

static int family_of(const char *addr) { return strchr(addr, ':') ? AF_INET6 : AF_INET; }

static socklen_t make_addr(const char *addr, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family_of(addr) == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &s6->sin6_addr);
        return sizeof *s6;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, addr, &sin->sin_addr);
    return sizeof *sin;
}

static int tcp_connect(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl = make_addr(addr, port, &ss);
    int s = socket(family_of(addr), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        printf("socket errno=%d\n", errno);
        return -1;
    }
    if (connect(s, (struct sockaddr *)&ss, sl) < 0) {
        printf("connect errno=%d\n", errno);
        close(s);
        return -1;
    }
    return s;
}

static int read_all(int s, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(s, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int mode_client(const char *addr, int port, const char *msg)
{
    int s = tcp_connect(addr, port);
    CHECK("connect", s >= 0, "no connection");
    if (s < 0)
        return check_done();
    size_t n = strlen(msg);
    CHECK("send", send(s, msg, n, 0) == (ssize_t)n, "errno %d", errno);
    char buf[4096] = "";
    CHECK("echo", n < sizeof buf && read_all(s, buf, n) == 0 && memcmp(buf, msg, n) == 0,
          "got \"%s\"", buf);
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    CHECK("getpeername", getpeername(s, (struct sockaddr *)&peer, &pl) == 0 &&
          ntohs(((struct sockaddr_in *)&peer)->sin_port) == port, "errno %d", errno);
    int one = 1;
    CHECK("TCP_NODELAY", setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0,
          "errno %d", errno);
    int type = 0;
    socklen_t tl = sizeof type;
    CHECK("SO_TYPE", getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM,
          "type %d errno %d", type, errno);
    CHECK("shutdown", shutdown(s, SHUT_WR) == 0, "errno %d", errno);
    CHECK("eof", recv(s, buf, sizeof buf, 0) == 0, "errno %d", errno);
    CHECK("close", close(s) == 0, "errno %d", errno);
    printf("got=%s\n", msg);
    return check_done();
}

static int mode_udp(const char *addr, int port, const char *msg)
{
    struct sockaddr_storage ss, from;
    socklen_t sl = make_addr(addr, port, &ss), fl = sizeof from;
    int s = socket(family_of(addr), SOCK_DGRAM, 0);
    CHECK("udp socket", s >= 0, "errno %d", errno);
    size_t n = strlen(msg);
    CHECK("sendto", sendto(s, msg, n, 0, (struct sockaddr *)&ss, sl) == (ssize_t)n, "errno %d",
          errno);
    char buf[2048] = "";
    ssize_t r = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
    CHECK("recvfrom", r == (ssize_t)n && memcmp(buf, msg, n) == 0, "r=%zd errno %d", r, errno);
    CHECK("from", fl == sl && !memcmp(&from, &ss, sl), "fl=%u", (unsigned)fl);
    /* sendmsg/recvmsg on a connected socket */
    CHECK("udp connect", connect(s, (struct sockaddr *)&ss, sl) == 0, "errno %d", errno);
    struct iovec iov[2] = { { (void *)msg, 1 }, { (void *)(msg + 1), n - 1 } };
    struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
    CHECK("sendmsg", sendmsg(s, &m, 0) == (ssize_t)n, "errno %d", errno);
    memset(buf, 0, sizeof buf);
    struct iovec riov = { buf, sizeof buf - 1 };
    struct msghdr rm = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &riov,
                         .msg_iovlen = 1 };
    r = recvmsg(s, &rm, 0);
    CHECK("recvmsg", r == (ssize_t)n && memcmp(buf, msg, n) == 0 && rm.msg_controllen == 0,
          "r=%zd errno %d", r, errno);
    printf("got=%s\n", buf);
    return check_done();
}

static int mode_listen(const char *addr, int port)
{
    struct sockaddr_storage ss, peer;
    socklen_t sl = make_addr(addr, port, &ss), pl = sizeof peer;
    int s = socket(family_of(addr), SOCK_STREAM, 0), one = 1;
    CHECK("listen socket", s >= 0, "errno %d", errno);
    CHECK("SO_REUSEADDR", setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0,
          "errno %d", errno);
    struct sockaddr_storage other;
    socklen_t ol = make_addr(addr, port + 1, &other);
    CHECK_ERRNO("bind to another port", bind(s, (struct sockaddr *)&other, ol), EACCES);
    CHECK("bind", bind(s, (struct sockaddr *)&ss, sl) == 0, "errno %d", errno);
    CHECK("listen", listen(s, 4) == 0, "errno %d", errno);
    printf("listening\n");
    fflush(stdout);
    int c = accept4(s, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
    CHECK("accept", c >= 0 && pl > 0, "errno %d", errno);
    char buf[256] = "";
    ssize_t r = read(c, buf, sizeof buf - 1);
    CHECK("read", r > 0, "errno %d", errno);
    CHECK("write", r > 0 && write(c, buf, (size_t)r) == r, "errno %d", errno);
    close(c);
    close(s);
    printf("served=%s\n", buf);
    return check_done();
}

static int mode_refused(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl = make_addr(addr, port, &ss);
    int s = socket(family_of(addr), SOCK_STREAM, 0);
    CHECK("socket", s >= 0, "errno %d", errno);
    CHECK_ERRNO("connect refused", connect(s, (struct sockaddr *)&ss, sl), EACCES);
    return check_done();
}

static int mode_nosocket(void)
{
    static const struct { int domain, type; const char *name; } tries[] = {
        { AF_INET, SOCK_STREAM, "inet stream" }, { AF_INET, SOCK_DGRAM, "inet dgram" },
        { AF_INET6, SOCK_STREAM, "inet6 stream" }, { AF_UNIX, SOCK_STREAM, "unix" },
        { AF_NETLINK, SOCK_RAW, "netlink" }, { 17 /* AF_PACKET */, SOCK_RAW, "packet" },
        { AF_INET, SOCK_RAW, "inet raw" },
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++)
        CHECK_ERRNO(tries[i].name, socket(tries[i].domain, tries[i].type, 0), EACCES);
    return check_done();
}

static int mode_hold(const char *addr, int port)
{
    int s = tcp_connect(addr, port);
    if (s < 0)
        return 1;
    printf("connected\n");
    fflush(stdout);
    char buf[256];
    ssize_t r;
    do
        r = recv(s, buf, sizeof buf, 0);
    while (r > 0);
    printf("recv r=%zd errno=%d\n", r, r < 0 ? errno : 0);
    r = send(s, "x", 1, MSG_NOSIGNAL);
    printf("send r=%zd errno=%d\n", r, r < 0 ? errno : 0);
    fflush(stdout);
    return 0;
}

static int mode_send(const char *addr, int port, long n)
{
    int s = tcp_connect(addr, port);
    if (s < 0)
        return 1;
    static char chunk[65536];
    memset(chunk, 'x', sizeof chunk);
    long sent = 0;
    while (sent < n) {
        size_t want = (size_t)(n - sent) < sizeof chunk ? (size_t)(n - sent) : sizeof chunk;
        ssize_t r = write(s, chunk, want);
        if (r <= 0) {
            printf("write errno=%d\n", errno);
            return 1;
        }
        sent += r;
    }
    close(s);
    printf("sent=%ld\n", sent);
    return 0;
}

static int mode_hostile(const char *addr, int port)
{
    struct sockaddr_storage ss;
    socklen_t sl = make_addr(addr, port, &ss);
    int fam = family_of(addr);
    int s = socket(fam, SOCK_STREAM, 0);
    CHECK("socket", s >= 0, "errno %d", errno);
    CHECK_ERRNO("bad socket flags", socket(fam, SOCK_STREAM | 0x100000, 0), EINVAL);
    CHECK_ERRNO("bad protocol", socket(fam, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    CHECK_ERRNO("connect bad pointer", connect(s, BAD_PTR, sl), EFAULT);
    CHECK_ERRNO("connect addrlen 0", connect(s, (struct sockaddr *)&ss, 0), EINVAL);
    CHECK_ERRNO("connect addrlen huge", connect(s, (struct sockaddr *)&ss, 100000), EINVAL);
    CHECK_ERRNO("connect addrlen negative",
                syscall(SYS_connect, s, &ss, (long)(uint32_t)-8), EINVAL);
    CHECK_ERRNO("connect addrlen short", connect(s, (struct sockaddr *)&ss, 8), EINVAL);
    struct sockaddr_storage wrong = ss;
    wrong.ss_family = fam == AF_INET ? AF_INET6 : AF_INET;
    CHECK_ERRNO("family mismatch", connect(s, (struct sockaddr *)&wrong, sizeof wrong),
                EAFNOSUPPORT);
    struct sockaddr_storage other;
    socklen_t ol = make_addr(addr, port + 1, &other);
    CHECK_ERRNO("connect other port", connect(s, (struct sockaddr *)&other, ol), EACCES);
    if (fam == AF_INET) {
        ol = make_addr("127.0.0.2", port, &other);
        CHECK_ERRNO("connect other address", connect(s, (struct sockaddr *)&other, ol), EACCES);
    }
    CHECK_ERRNO("bind ungranted", bind(s, (struct sockaddr *)&ss, sl), EACCES);
    CHECK_ERRNO("listen unbound", listen(s, 1), EACCES);
    CHECK_ERRNO("accept not listening", accept(s, NULL, NULL), EINVAL);
    CHECK_ERRNO("sendto bad buffer", sendto(s, BAD_PTR, 10, 0, NULL, 0), EFAULT);
    CHECK_ERRNO("recvfrom bad buffer", recvfrom(s, BAD_PTR, 10, MSG_DONTWAIT, NULL, NULL),
                EFAULT);
    CHECK_ERRNO("sendmsg bad msghdr", syscall(SYS_sendmsg, s, BAD_PTR, 0), EFAULT);
    struct iovec iov = { (void *)"x", 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 100000 };
    CHECK_ERRNO("sendmsg iovlen huge", syscall(SYS_sendmsg, s, &m, 0), EMSGSIZE);
    char ctl[64] = { 0 };
    m = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
                         .msg_controllen = sizeof ctl };
    CHECK_ERRNO("sendmsg ancillary data", syscall(SYS_sendmsg, s, &m, 0), EINVAL);
    int v = 1;
    CHECK_ERRNO("SO_BINDTODEVICE", setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3),
                ENOPROTOOPT);
    CHECK_ERRNO("IP_TTL", setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof v), ENOPROTOOPT);
    CHECK_ERRNO("setsockopt short", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, 2), EINVAL);
    CHECK_ERRNO("setsockopt bad pointer", setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, BAD_PTR, 4),
                EFAULT);
    socklen_t bad_len = (socklen_t)-1;
    CHECK_ERRNO("getsockopt negative len", getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &bad_len),
                EINVAL);
    CHECK_ERRNO("getsockname bad pointer", getsockname(s, BAD_PTR, &sl), EFAULT);
    CHECK_ERRNO("not a socket", connect(1, (struct sockaddr *)&ss, sl), ENOTSOCK);
    CHECK_ERRNO("bad descriptor", connect(999, (struct sockaddr *)&ss, sl), EBADF);
    CHECK_ERRNO("shutdown bad how", shutdown(s, 7), EINVAL);
    /* after all that, the socket still works */
    CHECK("connect after", connect(s, (struct sockaddr *)&ss, sl) == 0, "errno %d", errno);
    CHECK_ERRNO("connect again", connect(s, (struct sockaddr *)&ss, sl), EISCONN);
    close(s);
    return check_done();
}

static int mode_poll(const char *addr, int port)
{
    int s = tcp_connect(addr, port);
    CHECK("connect", s >= 0, "no connection");
    if (s < 0)
        return check_done();
    struct pollfd p[3] = { { .fd = s, .events = POLLOUT }, { .fd = -1, .events = POLLIN },
                           { .fd = 999, .events = POLLIN } };
    int r = poll(p, 1, 1000);
    CHECK("writable", r == 1 && (p[0].revents & POLLOUT), "r=%d revents=%x", r, p[0].revents);
    p[0].events = POLLIN;
    r = poll(p, 2, 100);
    CHECK("nothing to read yet (timeout)", r == 0 && p[0].revents == 0, "r=%d revents=%x", r,
          p[0].revents);
    CHECK("send", send(s, "ping", 4, 0) == 4, "errno %d", errno);
    r = poll(p, 2, 5000);
    CHECK("readable", r == 1 && (p[0].revents & POLLIN) && p[1].revents == 0, "r=%d", r);
    char buf[8] = "";
    CHECK("echo", read_all(s, buf, 4) == 0 && !memcmp(buf, "ping", 4), "got %s", buf);
    r = poll(p, 3, 0);
    CHECK("POLLNVAL for a closed descriptor", r == 1 && p[2].revents == POLLNVAL,
          "r=%d revents=%x", r, p[2].revents);
    struct timespec ts = { 0, 50000000 };
    r = ppoll(p, 1, &ts, NULL);
    CHECK("ppoll timeout", r == 0, "r=%d errno %d", r, errno);
    ts.tv_nsec = 2000000000L;
    CHECK_ERRNO("ppoll bad timespec", ppoll(p, 1, &ts, NULL), EINVAL);
    CHECK_ERRNO("poll bad pointer", syscall(SYS_poll, BAD_PTR, 1, 0), EFAULT);
    CHECK_ERRNO("poll too many", syscall(SYS_poll, p, 1u << 20, 0), EINVAL);
    CHECK("console writable", ({ struct pollfd o = { .fd = 1, .events = POLLOUT };
                                 poll(&o, 1, 0) == 1 && (o.revents & POLLOUT); }), "errno %d", errno);
    close(s);
    /* a non-blocking connect: EINPROGRESS (or done at once), then writable with no error */
    struct sockaddr_storage ss;
    socklen_t sl = make_addr(addr, port, &ss);
    s = socket(family_of(addr), SOCK_STREAM | SOCK_NONBLOCK, 0);
    r = connect(s, (struct sockaddr *)&ss, sl);
    CHECK("non-blocking connect", r == 0 || errno == EINPROGRESS, "errno %d", errno);
    struct pollfd w = { .fd = s, .events = POLLOUT };
    int err = -1;
    socklen_t el = sizeof err;
    CHECK("connected", poll(&w, 1, 5000) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
          err == 0, "err %d errno %d", err, errno);
    close(s);
    return check_done();
}

static int mode_many(const char *addr)
{
    int n = 0, e = 0;
    for (;;) {
        int s = socket(family_of(addr), SOCK_STREAM, 0);
        if (s < 0) {
            e = errno;
            break;
        }
        n++;
    }
    printf("sockets=%d errno=%d\n", n, e);
    return e == EMFILE ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *m = argv[1];
    if (!strcmp(m, "nosocket"))
        return mode_nosocket();
    if (argc < 4)
        return 2;
    const char *addr = argv[2];
    int port = atoi(argv[3]);
    if (!strcmp(m, "client") && argc > 4)
        return mode_client(addr, port, argv[4]);
    if (!strcmp(m, "udp") && argc > 4)
        return mode_udp(addr, port, argv[4]);
    if (!strcmp(m, "listen"))
        return mode_listen(addr, port);
    if (!strcmp(m, "refused"))
        return mode_refused(addr, port);
    if (!strcmp(m, "hold"))
        return mode_hold(addr, port);
    if (!strcmp(m, "send") && argc > 4)
        return mode_send(addr, port, atol(argv[4]));
    if (!strcmp(m, "hostile"))
        return mode_hostile(addr, port);
    if (!strcmp(m, "poll"))
        return mode_poll(addr, port);
    if (!strcmp(m, "many"))
        return mode_many(addr);
    return 2;
}
