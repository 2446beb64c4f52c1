/* The keeper service (`isovm quota keeper`): one process holding the ledger for every job of a host over a Unix socket, and a launch's connection to it. */
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
#include "quota/keeper.h"
#include "quota/keeper_conn.h"

/* Jobs served at once; a connection past it is closed at once (the launch reports it). */
#define KEEPER_SERVICE_MAX_JOBS 1024

static int unix_addr(const char *path, struct sockaddr_un *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (!path[0] || strlen(path) >= sizeof a->sun_path) {
        snprintf(err, errlen, "keeper socket '%.80s': empty or longer than %zu bytes", path,
                 sizeof a->sun_path - 1);
        return -ENAMETOOLONG;
    }
    memcpy(a->sun_path, path, strlen(path));
    return 0;
}

int keeper_service_connect(const char *socket_path, const struct ledger_job *j, int *fd,
                           char *err, size_t errlen)
{
    struct sockaddr_un a;
    int rc = unix_addr(socket_path, &a, err, errlen);
    if (rc < 0)
        return rc;
    struct keeper_msg m = { .type = KEEPER_BEGIN };
    struct keeper_job_desc *d = &m.job;
    if (snprintf(d->id, sizeof d->id, "%s", j->id) >= (int)sizeof d->id ||
        snprintf(d->tenant, sizeof d->tenant, "%s", j->tenant) >= (int)sizeof d->tenant) {
        snprintf(err, errlen, "ledger: job id or tenant too long for the keeper service");
        return -ENAMETOOLONG;
    }
    snprintf(d->digest, sizeof d->digest, "%s", j->policy_digest ? j->policy_digest : "");
    snprintf(d->tier, sizeof d->tier, "%s", j->tier ? j->tier : "hypercall");
    d->cpu_limit_ns = j->cpu_limit_ns;
    d->memory_bytes = j->memory_bytes;
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        (rc = keeper_msg_send(s, &m, 0)) < 0) {
        int e = rc < 0 ? -rc : errno;
        snprintf(err, errlen, "ledger: cannot reach the keeper service at %s: %s (is `isovm "
                 "quota keeper --socket %s` running?)", socket_path, strerror(e), socket_path);
        if (s >= 0)
            close(s);
        return -e;
    }
    *fd = s;
    return 0;
}

/* The listening socket: a stale file (no one listening) is replaced; a live service is not. */
static int service_listen(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a;
    int rc = unix_addr(path, &a, err, errlen);
    if (rc < 0)
        return rc;
    int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof a) == 0) {
        close(probe);
        snprintf(err, errlen, "keeper socket %s: another keeper service is listening there",
                 path);
        return -EADDRINUSE;
    }
    if (probe >= 0)
        close(probe);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "keeper socket %s: exists and is not a socket", path);
            return -EEXIST;
        }
        unlink(path);
    }
    /* bound and listening under a temporary name, then renamed into place: a launch that finds
     * the socket file can connect (one that came between bind and listen was refused) */
    struct sockaddr_un tmp = a;
    bool renamed = snprintf(tmp.sun_path, sizeof tmp.sun_path, "%s.%d", path, (int)getpid()) <
                   (int)sizeof tmp.sun_path;
    if (!renamed)
        tmp = a; /* no room for a suffix: bound in place */
    else
        unlink(tmp.sun_path);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    mode_t old = umask(077); /* the socket file 0600: root's (or the service user's) only */
    int ok = s >= 0 && bind(s, (struct sockaddr *)&tmp, sizeof tmp) == 0 && listen(s, 128) == 0 &&
             (!renamed || rename(tmp.sun_path, path) == 0);
    umask(old);
    if (!ok) {
        int e = errno;
        snprintf(err, errlen, "keeper socket %s: %s", path, strerror(e));
        if (s >= 0) {
            close(s);
            if (renamed)
                unlink(tmp.sun_path);
        }
        return -e;
    }
    return s;
}

/* Peers: root, or the service's own user. */
static bool peer_allowed(int fd)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
        return false;
    return cr.uid == 0 || cr.uid == geteuid();
}

int keeper_service_run(const char *ledger_path, const char *socket_path)
{
    char err[KEEPER_TEXT_MAX];
    struct ledger *l;
    if (ledger_open(ledger_path, &l, err, sizeof err) < 0) {
        fprintf(stderr, "isovm: quota keeper: %s\n", err);
        return 1;
    }
    ledger_cache_statements(l);
    int n = ledger_settle_dead(l, err, sizeof err); /* a previous service's jobs, say */
    if (n < 0)
        fprintf(stderr, "isovm: quota keeper: warning: %s\n", err);
    int lfd = service_listen(socket_path, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "isovm: quota keeper: %s\n", err);
        ledger_close(l);
        return 1;
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    int owner_pid = (int)getpid();
    uint64_t owner_start = ledger_owner_start(owner_pid);
    static struct keeper_conn conns[KEEPER_SERVICE_MAX_JOBS];
    static struct pollfd pfd[KEEPER_SERVICE_MAX_JOBS + 2];
    int nconns = 0, signals = 0;
    fprintf(stderr, "isovm: quota keeper: serving the ledger %s at %s\n", ledger_path,
            socket_path);
    while (signals == 0 || (signals == 1 && nconns > 0)) {
        pfd[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
        pfd[1] = (struct pollfd){ .fd = signals ? -1 : lfd, .events = POLLIN };
        for (int i = 0; i < nconns; i++)
            pfd[2 + i] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
        if (poll(pfd, (nfds_t)(2 + nconns), -1) < 0 && errno != EINTR)
            break;
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
            if (++signals == 1)
                fprintf(stderr, "isovm: quota keeper: %s: no new jobs; serving the %d running "
                        "to their end (again to stop at once)\n", strsignal((int)si.ssi_signo),
                        nconns);
        for (int i = nconns - 1; i >= 0; i--) {
            if (!pfd[2 + i].revents)
                continue;
            char buf[sizeof(struct keeper_msg) + 1];
            ssize_t got = recv(conns[i].fd, buf, sizeof buf, MSG_DONTWAIT);
            if (got < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (keeper_conn_message(l, &conns[i], buf, got, owner_pid, owner_start)) {
                close(conns[i].fd);
                conns[i] = conns[--nconns];
            }
        }
        if (!signals && (pfd[1].revents & POLLIN)) {
            for (;;) {
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                    break;
                if (nconns == KEEPER_SERVICE_MAX_JOBS || !peer_allowed(c)) {
                    close(c); /* the launch reads no ADMIT and says so */
                    continue;
                }
                conns[nconns++] = (struct keeper_conn){ .fd = c };
            }
        }
    }
    /* at once (a second signal): the jobs still served stay running in the ledger, owned by
     * this pid; once it is gone the next ledger user settles them from their checkpoints */
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    close(lfd);
    unlink(socket_path);
    if (sfd >= 0)
        close(sfd);
    ledger_close(l);
    return 0;
}
