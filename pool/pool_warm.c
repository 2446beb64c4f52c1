/* A warm VMM: makes its microVM, accepts one client, checks its request, runs the job, replies. */
#include "pool/pool_warm.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "pool/pool_wire.h"
#include "vmm/run/launch.h"
#include "vmm/run/launch_cli.h"
#include "vmm/run/launch_warm.h"

#define REQUEST_TIMEOUT_S 10 /* a client that connects must send its request within this */

extern char **environ;

/* Keep descriptors 0-2 and keep[0..n) (ascending); close every other one (the server's other
 * links above all: a copy of another warm VMM's link would hide the server's end from it). */
static void fds_keep_only(const int *keep, int n)
{
    int from = 3;
    for (int i = 0; i < n; i++) {
        if (keep[i] > from)
            syscall(SYS_close_range, from, keep[i] - 1, 0);
        from = keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0u, 0);
}

static void reply_send(int conn, int type, int value)
{
    struct pool_reply r = { .magic = POOL_MAGIC, .type = type, .value = value };
    const char *p = (const char *)&r;
    size_t left = sizeof r;
    while (left) {
        ssize_t n = write(conn, p, left);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            struct pollfd w = { .fd = conn, .events = POLLOUT };
            poll(&w, 1, 1000);
            continue;
        }
        if (n <= 0)
            return; /* the client is gone: nobody to tell */
        p += n;
        left -= (size_t)n;
    }
}

static int job_conn = -1; /* the client of the job this VMM runs */

/* The job is over (launch_warm_done, before the VM's teardown; or after launch_cli when the
 * launch never got that far): let go of the client's stdio, then send it the status. */
static void job_done(int status)
{
    if (job_conn < 0)
        return;
    fflush(NULL);
    for (int i = 0; i < 3; i++) /* the VMM's filter allows close, not dup2: nothing is opened
                                 * after this, only torn down */
        close(i);
    reply_send(job_conn, POOL_REPLY_EXIT, status);
    close(job_conn);
    job_conn = -1;
}

/* Read exactly len bytes, each wait bounded by the socket's receive timeout. 0 or -errno. */
static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        if (n == 0)
            return -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The receive timeout, set only when the request is not all there at once. */
static void request_timeout(int conn, bool *set)
{
    if (*set)
        return;
    struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S };
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    *set = true;
}

/* A request as it came: its head, descriptors and payload (in the caller's buffer, or
 * allocated when larger). */
struct request_in {
    struct pool_request_head h;
    int fds[POOL_NFDS];
    char *payload;
};

/* The descriptors of the first message: the first POOL_NFDS kept in fds, any others closed.
 * Returns how many came. */
static int fds_take(struct msghdr *m, int fds[POOL_NFDS])
{
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++, got++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (got < POOL_NFDS)
                fds[got] = fd;
            else
                close(fd);
        }
    }
    return got;
}

/* Receive the request: the first message (head, descriptors, and nearly always every string)
 * into buf, then whatever is missing, each wait at most REQUEST_TIMEOUT_S. With descriptors
 * 0-2 free, the client's stdio lands there. 0, or -errno with the reason in err; on failure
 * every descriptor that came is closed. */
static int request_recv(int conn, char *buf, size_t buflen, struct request_in *in, char *err,
                        size_t errlen)
{
    union {
        char b[CMSG_SPACE(sizeof(int) * POOL_NFDS * 4)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { .iov_base = buf, .iov_len = buflen };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b };
    bool timeout_set = false;
    ssize_t n = recvmsg(conn, &m, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) {
        request_timeout(conn, &timeout_set);
        do
            n = recvmsg(conn, &m, 0);
        while (n < 0 && errno == EINTR);
    }
    int got = n >= 0 ? fds_take(&m, in->fds) : 0, rc = 0;
    size_t have = n > 0 ? (size_t)n : 0;
    if (n < 0) {
        rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
        snprintf(err, errlen, "reading the request: %s", strerror(-rc));
    } else if (n == 0) {
        snprintf(err, errlen, "the client closed the connection before its request");
        rc = -ECONNRESET;
    } else if (m.msg_flags & MSG_CTRUNC || got != POOL_NFDS) {
        snprintf(err, errlen, "request with %d descriptors (expected %d: stdin, stdout, stderr, "
                 "working directory)%s", got, POOL_NFDS, m.msg_flags & MSG_CTRUNC ? ", truncated" : "");
        rc = -EPROTO;
    } else if (have < sizeof in->h) {
        request_timeout(conn, &timeout_set);
        if ((rc = read_full(conn, buf + have, sizeof in->h - have)))
            snprintf(err, errlen, "reading the request's head: %s", strerror(-rc));
        have = sizeof in->h;
    }
    if (!rc) {
        memcpy(&in->h, buf, sizeof in->h);
        have -= sizeof in->h; /* the strings already here */
        rc = pool_head_check(&in->h, err, errlen);
    }
    size_t len = rc ? 0 : in->h.payload_len;
    in->payload = buf + sizeof in->h;
    if (!rc && have > len) {
        snprintf(err, errlen, "request with %zu bytes after its strings", have - len);
        rc = -EPROTO;
    }
    if (!rc && len > buflen - sizeof in->h) { /* larger than the first message can be */
        char *p = malloc(len);
        if (!p) {
            snprintf(err, errlen, "out of memory for a request of %zu bytes", len);
            rc = -ENOMEM;
        } else {
            memcpy(p, in->payload, have);
            in->payload = p; /* the job's environment and arguments: kept until the VMM exits */
        }
    }
    if (!rc && have < len) {
        request_timeout(conn, &timeout_set);
        if ((rc = read_full(conn, in->payload + have, len - have)))
            snprintf(err, errlen, "reading the request's arguments: %s", strerror(-rc));
    }
    if (rc)
        for (int i = 0; i < got && i < POOL_NFDS; i++)
            close(in->fds[i]);
    return rc;
}

/* Wait for the server's word or a client. Returns the connection, or -1 when the server is
 * gone (the VMM then exits: nothing was accepted). Every warm VMM waits on the same socket, each
 * in an epoll of its own with EPOLLEXCLUSIVE: a connection wakes one of them, not all. */
static int client_wait(int listen_fd, int link_fd)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd };
    struct epoll_event lk = { .events = EPOLLIN, .data.fd = link_fd };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, link_fd, &lk) < 0) {
        log_err("pool: epoll: %s", strerror(errno));
        return -1;
    }
    int conn = -1;
    while (conn < 0) {
        struct epoll_event got[2];
        int n = epoll_wait(ep, got, 2, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_err("pool: epoll_wait: %s", strerror(errno));
            break;
        }
        bool server_gone = false, client = false;
        for (int i = 0; i < n; i++) {
            server_gone |= got[i].data.fd == link_fd; /* end of file, or anything: it stopped */
            client |= got[i].data.fd == listen_fd;
        }
        if (server_gone)
            break;
        if (!client)
            continue;
        conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
            log_err("pool: accept: %s", strerror(errno));
            break;
        }
    }
    close(ep);
    return conn;
}

_Noreturn void pool_warm_main(const struct pool_warm_args *a)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    setsid(); /* the terminal's ^C for `isovm pool serve` is not a busy job's */
    int keep[3] = { a->listen_fd, a->link_fd, a->img->fd }, t;
    for (int i = 0; i < 3; i++) /* ascending */
        for (int j = i + 1; j < 3; j++)
            if (keep[j] < keep[i])
                t = keep[i], keep[i] = keep[j], keep[j] = t;
    fds_keep_only(keep, 3);
    if (launch_warm_prepare(a->img) < 0)
        _exit(EXIT_ISOVM_ERROR); /* the reason is on the server's stderr; it sees no "R" */
    close(a->img->fd); /* mapped: the job's VMM holds nothing of the pool's */
    if (write(a->link_fd, "R", 1) != 1)
        _exit(0);
    int log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3); /* the server's stderr, for refusals */
    int conn = client_wait(a->listen_fd, a->link_fd);
    close(a->listen_fd);
    close(a->link_fd); /* the server makes another warm VMM */
    if (conn < 0)
        _exit(0);
    struct ucred cred;
    socklen_t cl = sizeof cred;
    if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != geteuid()) {
        reply_send(conn, POOL_REPLY_REFUSED, EACCES);
        _exit(0);
    }
    /* the client's stdin, stdout and stderr arrive as 0, 1 and 2 (the lowest free descriptors,
     * installed in order); refusals go to the server's stderr, kept as log_fd */
    close(0);
    close(1);
    close(2);
    static char buf[64 << 10];
    struct request_in in;
    struct pool_request r = { 0 };
    char err[300];
    int rc = request_recv(conn, buf, sizeof buf, &in, err, sizeof err);
    if (!rc && (rc = pool_request_parse(&in.h, in.payload, &r, err, sizeof err)))
        for (int i = 0; i < POOL_NFDS; i++)
            close(in.fds[i]);
    if (!rc && fchdir(in.fds[3]) < 0) { /* the client's working directory (not a directory?) */
        rc = -errno;
        snprintf(err, sizeof err, "the request's working directory: %s", strerror(errno));
        for (int i = 0; i < POOL_NFDS; i++)
            close(in.fds[i]);
    }
    if (rc) {
        dup2(log_fd, 2);
        log_err("pool: a client's request refused: %s", err);
        reply_send(conn, POOL_REPLY_REFUSED, -rc);
        _exit(0);
    }
    close(in.fds[3]);
    close(log_fd);
    if (in.fds[0] != 0 || in.fds[1] != 1 || in.fds[2] != 2) { /* not as isovm sends them */
        int tmp[3];
        for (int i = 0; i < 3; i++)
            tmp[i] = fcntl(in.fds[i], F_DUPFD_CLOEXEC, 3);
        for (int i = 0; i < 3; i++)
            close(in.fds[i]);
        for (int i = 0; i < 3; i++) {
            dup2(tmp[i], i);
            close(tmp[i]);
        }
    }
    umask((mode_t)r.umask);
    environ = r.envp;
    uint64_t now = mono_ns();
    if (r.client_mono_ns && r.client_mono_ns <= now) {
        clock_main_mono_ns = r.client_mono_ns;
        clock_main_real_ns = r.client_real_ns;
    } else {
        clock_main_mark();
    }
    launch_warm_offer(conn);
    job_conn = conn;
    launch_warm_on_done(job_done);
    launch_cli_pool_client = NULL; /* this VMM is the pool's: --pool is not followed again */
    int status = launch_cli(r.argc, r.argv, NULL, NULL);
    launch_warm_drop();
    job_done(status);
    _exit(0);
}
