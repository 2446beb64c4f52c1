/* A warm VMM: makes its microVM, takes one request from the pool's socket, checks it, runs the job, replies. */
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
#include "vmm/run/vmm_seccomp.h"

#define REQUEST_TIMEOUT_S 10 /* a request's strings that do not fit its datagram must follow
                             * within this */

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

/* A request as it came: its head, descriptors and payload (in the datagram's buffer, or
 * allocated when larger); fds[i] -1 when absent. */
struct request_in {
    struct pool_request_head h;
    int fds[POOL_NFDS];
    char *payload;
};

/* The descriptors that came: the first POOL_NFDS kept in fds, any others closed. Returns how
 * many came. Also the sender's uid (SCM_CREDENTIALS: the socket has SO_PASSCRED). */
static int msg_take(struct msghdr *m, int fds[POOL_NFDS], uid_t *uid, bool *has_uid)
{
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level != SOL_SOCKET)
            continue;
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cr;
            memcpy(&cr, CMSG_DATA(c), sizeof cr);
            *uid = cr.uid;
            *has_uid = true;
            continue;
        }
        if (c->cmsg_type != SCM_RIGHTS)
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

/* Check the datagram taken (n bytes in buf, its control message in m) and read what is
 * missing of its strings from the connection. 0, or -errno with the reason in err. */
static int request_check(struct msghdr *m, ssize_t n, char *buf, size_t buflen,
                         struct request_in *in, int got, bool has_uid, uid_t uid, uid_t owner,
                         char *err, size_t errlen)
{
    if (!has_uid || uid != owner) {
        snprintf(err, errlen, "a request from another user (uid %ld): refused",
                 has_uid ? (long)uid : -1L);
        return -EACCES;
    }
    if (m->msg_flags & (MSG_CTRUNC | MSG_TRUNC) || got != POOL_NFDS) {
        snprintf(err, errlen, "request with %d descriptors (expected %d: stdin, stdout, stderr, "
                 "working directory, connection)%s", got, POOL_NFDS,
                 m->msg_flags & MSG_CTRUNC ? ", cut short" : m->msg_flags & MSG_TRUNC ?
                 ", a datagram too long" : "");
        return -EPROTO;
    }
    if ((size_t)n < sizeof in->h) {
        snprintf(err, errlen, "request of %zd bytes, shorter than its head", n);
        return -EPROTO;
    }
    memcpy(&in->h, buf, sizeof in->h);
    int rc = pool_head_check(&in->h, err, errlen);
    if (rc)
        return rc;
    size_t have = (size_t)n - sizeof in->h, len = in->h.payload_len;
    in->payload = buf + sizeof in->h;
    if (have > len) {
        snprintf(err, errlen, "request with %zu bytes after its strings", have - len);
        return -EPROTO;
    }
    if (have == len)
        return 0;
    if (len > buflen - sizeof in->h) { /* the rest comes on the connection */
        char *p = malloc(len);
        if (!p) {
            snprintf(err, errlen, "out of memory for a request of %zu bytes", len);
            return -ENOMEM;
        }
        memcpy(p, in->payload, have);
        in->payload = p; /* the job's environment and arguments: kept until the VMM exits */
    }
    struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S };
    setsockopt(in->fds[POOL_FD_CONN], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if ((rc = read_full(in->fds[POOL_FD_CONN], in->payload + have, len - have)))
        snprintf(err, errlen, "reading the request's strings: %s", strerror(-rc));
    return rc;
}

/* Wait for the server's word or a request. Every warm VMM waits on the same datagram socket,
 * each in an epoll of its own with EPOLLEXCLUSIVE: a request wakes one of them, once it is all
 * there. Returns the datagram's length in buf (its descriptors and sender in in and *uid), or
 * -1 when the server is gone (the VMM then exits: nothing was taken). */
static ssize_t request_wait(int sock, int link_fd, int log_fd, char *buf, size_t buflen,
                            struct msghdr *m, struct request_in *in, int *got, uid_t *uid,
                            bool *has_uid)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = sock };
    struct epoll_event lk = { .events = EPOLLIN, .data.fd = link_fd };
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev) < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, link_fd, &lk) < 0) {
        dprintf(log_fd, "isovm: pool: epoll: %s\n", strerror(errno));
        return -1;
    }
    ssize_t n = -1;
    for (;;) {
        struct epoll_event e[2];
        int k = epoll_wait(ep, e, 2, -1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            dprintf(log_fd, "isovm: pool: epoll_wait: %s\n", strerror(errno));
            break;
        }
        bool server_gone = false, request = false;
        for (int i = 0; i < k; i++) {
            server_gone |= e[i].data.fd == link_fd; /* end of file, or anything: it stopped */
            request |= e[i].data.fd == sock;
        }
        if (server_gone)
            break;
        if (!request)
            continue;
        struct iovec iov = { .iov_base = buf, .iov_len = buflen };
        m->msg_iov = &iov;
        m->msg_iovlen = 1;
        n = recvmsg(sock, m, MSG_DONTWAIT);
        if (n >= 0) {
            *got = msg_take(m, in->fds, uid, has_uid);
            break;
        }
        if (errno != EAGAIN && errno != EINTR) { /* another VMM took it: wait again */
            dprintf(log_fd, "isovm: pool: recvmsg: %s\n", strerror(errno));
            break;
        }
    }
    close(ep);
    return n;
}

/* Write all of len bytes (the link is blocking, its send timeout set). 0 or -errno. */
static int write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? -ETIMEDOUT : -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A jailed VMM's job: ask the server to bind its files into this VMM's jail (POOL_LINK_TAKEN,
 * the request as it came with the client's working directory and stderr). 0 with the working
 * directory to take in cwd, the exit status the helper gave (its message is on the client's
 * stderr), or 125 after a message on log_fd. */
static int jail_bind_ask(int link, const struct request_in *in, int log_fd, char *cwd,
                         size_t len)
{
    struct timeval tv = { .tv_sec = REQUEST_TIMEOUT_S * 3 }; /* the helper's opens and mounts */
    setsockopt(link, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(link, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char c = POOL_LINK_TAKEN;
    struct iovec iov = { .iov_base = (void *)&in->h, .iov_len = sizeof in->h };
    union {
        char b[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
    int fds[2] = { in->fds[POOL_FD_CWD], in->fds[POOL_FD_STDERR] };
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    int rc = write_full(link, &c, 1);
    if (!rc && sendmsg(link, &m, MSG_NOSIGNAL) != (ssize_t)sizeof in->h)
        rc = -errno;
    if (!rc)
        rc = write_full(link, in->payload, in->h.payload_len);
    static struct pool_bind_answer ans;
    if (!rc)
        rc = read_full(link, &ans, sizeof ans);
    if (rc == -ECONNRESET) /* the helper ended without answering: it said why, or died */
        return EXIT_ISOVM_ERROR;
    if (rc) {
        dprintf(log_fd, "isovm: pool: binding a job's files into its VMM's jail: %s\n",
                strerror(-rc));
        return EXIT_ISOVM_ERROR;
    }
    if (ans.magic != POOL_MAGIC || !memchr(ans.cwd, 0, sizeof ans.cwd) ||
        (ans.status == 0 && ans.cwd[0] != '/')) {
        dprintf(log_fd, "isovm: pool: a malformed answer from the pool's helper\n");
        return EXIT_ISOVM_ERROR;
    }
    if (ans.status == 0)
        snprintf(cwd, len, "%s", ans.cwd);
    return ans.status;
}

_Noreturn void pool_warm_main(const struct pool_warm_args *a)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_IGN);
    setsid(); /* the terminal's ^C for `isovm pool serve` is not a busy job's */
    int keep[3] = { a->sock_fd, a->link_fd, a->linux ? -1 : a->img->fd }, t, nkeep = a->linux ? 2 : 3;
    for (int i = 0; i < nkeep; i++) /* ascending */
        for (int j = i + 1; j < nkeep; j++)
            if (keep[j] < keep[i])
                t = keep[i], keep[i] = keep[j], keep[j] = t;
    fds_keep_only(keep, nkeep);
    if (a->linux ? launch_linux_warm_prepare(a->linux) < 0 : launch_warm_prepare(a->img) < 0)
        _exit(EXIT_ISOVM_ERROR); /* the reason is on the server's stderr; it sees no "R" */
    if (!a->linux)
        close(a->img->fd); /* mapped: the job's VMM holds nothing of the pool's */
    /* before anything of a client's is read: the waiting filter (the calls no VMM makes kill
     * it), on every thread made ahead; the job's allowlist is stacked on it at its start */
    if (a->wait_filter && vmm_seccomp_install_pool_wait() < 0)
        _exit(EXIT_ISOVM_ERROR);
    if (write(a->link_fd, "R", 1) != 1)
        _exit(0);
    /* the client's stdin, stdout and stderr will arrive as 0, 1 and 2 (a datagram's descriptors
     * take the lowest free numbers, in order); until then messages go to the server's stderr,
     * kept as log_fd */
    int log_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    close(0);
    close(1);
    close(2);
    static char buf[POOL_DGRAM_MAX];
    union {
        char b[CMSG_SPACE(sizeof(int) * POOL_NFDS * 4) + CMSG_SPACE(sizeof(struct ucred))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m = { .msg_control = ctl.b, .msg_controllen = sizeof ctl.b };
    struct request_in in;
    for (int i = 0; i < POOL_NFDS; i++)
        in.fds[i] = -1;
    int got = 0;
    uid_t uid = 0;
    bool has_uid = false;
    ssize_t n = request_wait(a->sock_fd, a->link_fd, log_fd, buf, sizeof buf, &m, &in, &got,
                             &uid, &has_uid);
    close(a->sock_fd);
    if (n < 0)
        _exit(0);
    struct pool_request r = { 0 };
    char err[300];
    int rc = request_check(&m, n, buf, sizeof buf, &in, got, has_uid, uid, a->owner, err,
                           sizeof err);
    if (!rc)
        rc = pool_request_parse(&in.h, in.payload, &r, err, sizeof err);
    if (!rc && !a->jailed && fchdir(in.fds[POOL_FD_CWD]) < 0) { /* the client's working
                                                                  * directory */
        rc = -errno;
        snprintf(err, sizeof err, "the request's working directory: %s", strerror(errno));
    }
    int conn = in.fds[POOL_FD_CONN];
    if (rc) {
        dprintf(log_fd, "isovm: pool: a client's request refused: %s\n", err);
        if (conn >= 0)
            reply_send(conn, POOL_REPLY_REFUSED, -rc);
        _exit(0);
    }
    if (a->jailed) { /* the job's files bound into this jail by the server's helper */
        char cwd[4096];
        int st = jail_bind_ask(a->link_fd, &in, log_fd, cwd, sizeof cwd);
        close(a->link_fd); /* (the server made another warm VMM at the request's word) */
        close(in.fds[POOL_FD_CWD]); /* a directory outside the jail: never used here */
        if (!st && chdir(cwd) < 0) {
            dprintf(in.fds[POOL_FD_STDERR], "isovm: pool: the working directory %s in the "
                    "VMM's jail: %s\n", cwd, strerror(errno));
            st = EXIT_ISOVM_ERROR;
        }
        if (st) {
            reply_send(conn, POOL_REPLY_EXIT, st);
            _exit(0);
        }
    } else {
        close(in.fds[POOL_FD_CWD]);
        /* closed once the job has started (or ended): the server then makes another VMM */
        launch_warm_link_hold(a->link_fd);
    }
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
    launch_cli_pool_job = true;
    int status = launch_cli(r.argc, r.argv, NULL, NULL);
    launch_warm_drop();
    job_done(status);
    _exit(0);
}
