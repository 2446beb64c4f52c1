/* A jailed pool's helper: reads the request a jailed VMM forwards, binds the job's files into that VMM's jail, answers. */
#include "pool/pool_jail.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/log.h"
#include "pool/pool_wire.h"

#define HELPER_TIMEOUT_S 10 /* the request's bytes must come within this */

extern char **environ;

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void answer(int link, int status, const char *cwd)
{
    static struct pool_bind_answer a;
    a.magic = POOL_MAGIC;
    a.status = status;
    snprintf(a.cwd, sizeof a.cwd, "%s", cwd ? cwd : "");
    const char *p = (const char *)&a;
    size_t left = sizeof a;
    while (left) {
        ssize_t n = send(link, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the VMM is gone */
        p += n;
        left -= (size_t)n;
    }
}

/* The forwarded request: its head with exactly two descriptors (cwd, stderr), its payload. */
static int request_read(int link, struct pool_request_head *h, int fds[2], char **payload)
{
    union {
        char b[CMSG_SPACE(4 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { .iov_base = h, .iov_len = sizeof *h };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
                        .msg_controllen = sizeof ctl.b };
    ssize_t n;
    while ((n = recvmsg(link, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    int got = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++, got++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (got < 2)
                    fds[got] = fd;
                else
                    close(fd);
            }
    if (n < 0)
        return -errno;
    if (got != 2 || (m.msg_flags & MSG_CTRUNC))
        return -EPROTO;
    if (n < (ssize_t)sizeof *h && read_all(link, (char *)h + n, sizeof *h - (size_t)n) < 0)
        return -EPROTO;
    char err[300];
    if (pool_head_check(h, err, sizeof err) < 0) {
        log_err("pool: the helper: %s", err);
        return -EPROTO;
    }
    if (!(*payload = malloc(h->payload_len ? h->payload_len : 1)))
        return -ENOMEM;
    return read_all(link, *payload, h->payload_len);
}

_Noreturn void pool_jail_helper(int link, const struct jail_pool_vmm *v)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (link > 3)
        syscall(SYS_close_range, 3, link - 1, 0);
    syscall(SYS_close_range, link + 1, ~0u, 0);
    struct timeval tv = { .tv_sec = HELPER_TIMEOUT_S };
    setsockopt(link, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(link, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct pool_request_head h;
    int fds[2] = { -1, -1 };
    char *payload = NULL, err[300];
    struct pool_request r = { 0 };
    int rc = request_read(link, &h, fds, &payload);
    if (!rc && (rc = pool_request_parse(&h, payload, &r, err, sizeof err)) < 0)
        log_err("pool: the helper: %s", err);
    if (rc) {
        log_err("pool: the helper: a jailed VMM's request: %s", strerror(-rc));
        answer(link, EXIT_ISOVM_ERROR, NULL);
        _exit(0);
    }
    if (fchdir(fds[0]) < 0 || dup2(fds[1], 2) < 0) { /* the client's cwd, and its stderr */
        log_err("pool: the helper: the client's working directory: %s", strerror(errno));
        answer(link, EXIT_ISOVM_ERROR, NULL);
        _exit(0);
    }
    close(fds[0]);
    close(fds[1]);
    umask((mode_t)r.umask);
    environ = r.envp; /* as the VMM parses the same command line */
    static char cwd[4096];
    int status = jail_pool_bind(v, r.argc, r.argv, cwd, sizeof cwd);
    answer(link, status, status ? NULL : cwd);
    _exit(0);
}
