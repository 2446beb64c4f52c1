/* The launch client of a pool: request with descriptors out, signals forwarded, status back. */
#include "pool/pool_client.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "pool/pool_wire.h"
#include "vmm/run/launch.h"

extern char **environ;

static int write_full(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* A closed stdin, stdout or stderr goes to the job as /dev/null. */
static void stdio_fill(int fds[3])
{
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0)
            fds[i] = open("/dev/null", i ? O_WRONLY | O_CLOEXEC : O_RDONLY | O_CLOEXEC);
}

/* The request: one datagram to the pool (head, the strings or as many as fit, and the
 * descriptors: stdio, working directory, the pool's end of the connection), the rest of the
 * strings on the connection. 0, or -errno after a message. */
static int request_send(const char *path, int conn_theirs, int conn, int argc, char **argv)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        log_err("--pool %s: path too long for a Unix socket (at most %zu bytes)", path,
                sizeof a.sun_path - 1);
        return -ENAMETOOLONG;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    size_t len = 0;
    uint32_t envc = 0;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    for (char **e = environ; e && *e; e++, envc++)
        len += strlen(*e) + 1;
    if (len > POOL_PAYLOAD_MAX || (uint32_t)argc > POOL_STRINGS_MAX || envc > POOL_STRINGS_MAX) {
        log_err("--pool: arguments and environment of %zu bytes: a pool takes at most %u", len,
                POOL_PAYLOAD_MAX);
        return -E2BIG;
    }
    struct pool_request_head h = {
        .magic = POOL_MAGIC, .version = POOL_VERSION, .argc = (uint32_t)argc, .envc = envc,
        .payload_len = (uint32_t)len,
        .client_mono_ns = clock_main_mono_ns, .client_real_ns = clock_main_real_ns,
    };
    mode_t um = umask(0);
    umask(um);
    h.umask = um;
    size_t total = sizeof h + len;
    char *msg = malloc(total), *p;
    if (!msg)
        return -ENOMEM;
    memcpy(msg, &h, sizeof h);
    p = msg + sizeof h;
    for (int i = 0; i < argc; i++)
        p = stpcpy(p, argv[i]) + 1;
    for (uint32_t i = 0; i < envc; i++)
        p = stpcpy(p, environ[i]) + 1;
    int fds[POOL_NFDS] = { 0, 1, 2, open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), conn_theirs };
    int rc = 0, sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool retried = false;
    if (fds[POOL_FD_CWD] >= 0 && fds[POOL_FD_CWD] < 3) { /* it took a closed stdio slot */
        int hi = fcntl(fds[POOL_FD_CWD], F_DUPFD_CLOEXEC, 3);
        close(fds[POOL_FD_CWD]);
        fds[POOL_FD_CWD] = hi;
        stdio_fill(fds);
        retried = true;
    }
    size_t first = total < POOL_DGRAM_MAX ? total : POOL_DGRAM_MAX;
again:
    if (sock < 0 || fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || fds[POOL_FD_CWD] < 0) {
        rc = -errno;
        log_err("--pool: cannot open a socket, the working directory or /dev/null: %s",
                strerror(errno));
    } else {
        union {
            char buf[CMSG_SPACE(sizeof fds)];
            struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct iovec iov = { .iov_base = msg, .iov_len = first };
        struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov,
                            .msg_iovlen = 1, .msg_control = ctl.buf,
                            .msg_controllen = sizeof ctl.buf };
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof fds);
        memcpy(CMSG_DATA(c), fds, sizeof fds);
        ssize_t n;
        do /* a full queue (every VMM busy) blocks here until one takes a request */
            n = sendmsg(sock, &m, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EBADF && !retried) { /* a closed stdio descriptor: /dev/null */
            retried = true;
            stdio_fill(fds);
            goto again;
        }
        if (n < 0) {
            rc = -errno;
            log_err("--pool %s: %s%s", path, strerror(errno),
                    errno == ENOENT || errno == ECONNREFUSED
                        ? " (no pool is serving there: isovm pool serve --socket PATH)" : "");
        } else if (first < total && (rc = write_full(conn, msg + first, total - first))) {
            log_err("--pool %s: sending the request: %s", path, strerror(-rc));
        }
    }
    for (int i = 0; i < POOL_FD_CONN; i++)
        if (fds[i] >= 3)
            close(fds[i]);
    if (sock >= 0)
        close(sock);
    free(msg);
    return rc;
}

int pool_client_run(const char *path, int argc, char **argv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL); /* forwarded to the job, as isovm itself would act */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int sv[2] = { -1, -1 };
    if (sfd < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        log_err("--pool: %s: %s", sfd < 0 ? "signalfd" : "socketpair", strerror(errno));
        return EXIT_ISOVM_ERROR;
    }
    int fd = sv[0];
    int rc = request_send(path, sv[1], fd, argc, argv);
    close(sv[1]); /* the VMM's now: its end of file is the VMM gone */
    if (rc < 0)
        return EXIT_ISOVM_ERROR;
    struct pool_reply r;
    size_t got = 0;
    while (got < sizeof r) {
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_err("--pool: poll: %s", strerror(errno));
            return EXIT_ISOVM_ERROR;
        }
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
                unsigned char b = (unsigned char)si.ssi_signo;
                if (send(fd, &b, 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
                    log_err("--pool: forwarding %s: %s", strsignal((int)si.ssi_signo),
                            strerror(errno));
            }
        }
        if (!p[0].revents)
            continue;
        ssize_t n = read(fd, (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("--pool %s: the job's VMM ended without an exit status (%s)", path,
                    n < 0 ? strerror(errno) : "killed, or the pool stopped before it took the job");
            return EXIT_ISOVM_ERROR;
        }
        got += (size_t)n;
    }
    close(fd);
    close(sfd);
    if (r.magic != POOL_MAGIC || (r.type != POOL_REPLY_EXIT && r.type != POOL_REPLY_REFUSED)) {
        log_err("--pool %s: a reply that is not the pool's", path);
        return EXIT_ISOVM_ERROR;
    }
    if (r.type == POOL_REPLY_REFUSED) {
        log_err("--pool %s: the pool refused the request: %s%s", path, strerror(r.value),
                r.value == EACCES ? " (the pool serves its own user only)" : "");
        return EXIT_ISOVM_ERROR;
    }
    return r.value >= 0 && r.value <= 255 ? r.value : EXIT_ISOVM_ERROR;
}
