/* The ledger keeper process for one job (reserve, checkpoint, settle, or settle from the last checkpoint when the VMM dies) and the VMM's side of its socket. */
#include "quota/keeper.h"
#include "quota/keeper_conn.h"
#include "lib/clock.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How often the keeper tries to record the job's end while the ledger stays locked. */
#define KEEPER_END_TRIES 3

int64_t keeper_wall_s(void)
{
    return (int64_t)time(NULL);
}

int keeper_msg_send(int fd, struct keeper_msg *m, int flags)
{
    m->magic = KEEPER_MAGIC;
    for (;;) {
        ssize_t n = send(fd, m, sizeof *m, MSG_NOSIGNAL | flags);
        if (n == (ssize_t)sizeof *m)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return n < 0 ? -errno : -EPROTO;
    }
}

/* ---- the keeper ---- */

/* Every usage figure only grows: a VMM cannot take back what it reported. */
static void usage_merge(struct ledger_usage *last, const struct ledger_usage *u)
{
    uint64_t *a = (uint64_t *)(void *)last;
    const uint64_t *b = (const uint64_t *)(const void *)u;
    for (size_t i = 0; i < sizeof *u / sizeof(uint64_t); i++)
        if (b[i] > a[i])
            a[i] = b[i];
}

static void keeper_log(const char *id, const char *what)
{
    fprintf(stderr, "isovm: ledger keeper of job %s: %s\n", id[0] ? id : "(none yet)", what);
}

bool keeper_conn_begin(struct ledger *l, struct keeper_conn *c, const struct ledger_job *j,
                       int open_rc, const char *open_err)
{
    struct keeper_msg out = { .type = KEEPER_ADMIT, .rc = open_rc };
    snprintf(out.text, sizeof out.text, "%s", open_err ? open_err : "");
    struct ledger_admit a;
    if (out.rc == 0)
        out.rc = ledger_job_begin(l, j, keeper_wall_s(), &a, out.text, sizeof out.text);
    if (out.rc == 0) {
        out.grant[0] = a.cpu_limit_ns;
        out.grant[1] = a.io_limit_bytes;
        out.grant[2] = a.net_limit_bytes;
        for (int r = 0; r < QUOTA_NRES; r++)
            if (a.clamped[r])
                out.clamped |= 1u << r;
        snprintf(c->id, sizeof c->id, "%s", j->id);
        c->begun = true;
    }
    if (keeper_msg_send(c->fd, &out, MSG_DONTWAIT) < 0 && out.rc == 0) { /* the VMM is gone already */
        char err[KEEPER_TEXT_MAX];
        if (ledger_job_abandon(l, c->id, "vmm-died", err, sizeof err) < 0)
            keeper_log(c->id, err);
        return false;
    }
    c->failed = out.rc != 0;
    return out.rc == 0;
}

bool keeper_conn_message(struct ledger *l, struct keeper_conn *c, const void *buf, ssize_t n,
                         int owner_pid, uint64_t owner_start)
{
    struct keeper_msg in, out;
    char err[KEEPER_TEXT_MAX];
    if (n <= 0) { /* the VMM is gone without its END: settle from the last checkpoint */
        if (c->begun && ledger_job_abandon(l, c->id, "vmm-died", err, sizeof err) < 0)
            keeper_log(c->id, err);
        return true;
    }
    int rc = keeper_msg_from_vmm(buf, (size_t)n, &in, err, sizeof err);
    if (rc == 0 && (in.type == KEEPER_BEGIN) == c->begun) {
        snprintf(err, sizeof err, c->begun ? "a second BEGIN" : "a message before BEGIN");
        rc = -EPROTO;
    }
    if (rc < 0) {
        char what[KEEPER_TEXT_MAX + 128];
        snprintf(what, sizeof what, "the VMM broke the protocol (%s)%s", err,
                 c->begun ? "; the job is settled from its last checkpoint" : "");
        keeper_log(c->id, what);
        if (c->begun && ledger_job_abandon(l, c->id, "protocol-error", err, sizeof err) < 0)
            keeper_log(c->id, err);
        c->failed = true;
        return true;
    }
    if (in.type == KEEPER_BEGIN) {
        struct ledger_job j = {
            .id = in.job.id, .tenant = in.job.tenant, .policy_digest = in.job.digest,
            .tier = in.job.tier, .cpu_limit_ns = in.job.cpu_limit_ns,
            .memory_bytes = in.job.memory_bytes, .owner_pid = owner_pid,
            .owner_start = owner_start,
        };
        return !keeper_conn_begin(l, c, &j, 0, NULL);
    }
    usage_merge(&c->last, &in.usage);
    memset(&out, 0, sizeof out);
    if (in.type == KEEPER_CHECKPOINT) {
        int exhausted = 0;
        out.type = KEEPER_VERDICT;
        out.rc = ledger_job_checkpoint(l, c->id, &c->last, keeper_wall_s(), &exhausted, out.text,
                                       sizeof out.text);
        out.exhausted = (uint32_t)exhausted;
        keeper_msg_send(c->fd, &out, MSG_DONTWAIT); /* a VMM that stops reading loses verdicts only */
        return false;
    }
    out.type = KEEPER_SETTLED;
    for (int i = 0; i < KEEPER_END_TRIES; i++) {
        out.rc = ledger_job_end(l, c->id, &c->last, keeper_wall_s(), in.reason, out.text,
                                sizeof out.text);
        if (out.rc != -EBUSY)
            break;
    }
    if (keeper_msg_send(c->fd, &out, MSG_DONTWAIT) < 0 && out.rc < 0)
        keeper_log(c->id, out.text);
    c->ended = true;
    c->failed = out.rc < 0;
    return true;
}

static int keeper_main(const char *path, const struct ledger_job *j, int fd)
{
    struct sigaction ign = { .sa_handler = SIG_IGN };
    sigaction(SIGINT, &ign, NULL);  /* a terminal's ^C reaches the whole group: the VMM ends */
    sigaction(SIGTERM, &ign, NULL); /* the job and says so; the keeper records it */
    sigaction(SIGHUP, &ign, NULL);
    sigaction(SIGPIPE, &ign, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* nothing of the launcher's but the socket and stderr: a pipe on the job's stdout must see
     * its end when the VMM exits, not when the keeper does */
    int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul >= 0) {
        dup2(nul, 0);
        dup2(nul, 1);
    }
    if (fd != 3 && dup2(fd, 3) == 3)
        fd = 3;
    if (syscall(SYS_close_range, 4, ~0u, 0) < 0)
        for (int i = 4; i < 1024; i++)
            close(i);
    struct ledger_job job = *j;
    job.owner_pid = (int)getpid();
    job.owner_start = ledger_owner_start(job.owner_pid);
    struct ledger *l = NULL;
    char err[KEEPER_TEXT_MAX];
    int orc = ledger_open(path, &l, err, sizeof err);
    struct keeper_conn c = { .fd = fd };
    if (!keeper_conn_begin(l, &c, &job, orc, orc < 0 ? err : NULL)) {
        ledger_close(l);
        return 1;
    }
    for (;;) {
        char buf[sizeof(struct keeper_msg) + 1];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (keeper_conn_message(l, &c, buf, n, job.owner_pid, job.owner_start))
            break;
    }
    ledger_close(l);
    return c.failed ? 1 : 0;
}

pid_t keeper_spawn(const char *path, const struct ledger_job *j, int *vmm_fd, char *err,
                   size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        int e = errno;
        snprintf(err, errlen, "ledger: cannot make the keeper's socket: %s", strerror(e));
        return -e;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        snprintf(err, errlen, "ledger: cannot start the keeper: %s", strerror(e));
        close(sv[0]);
        close(sv[1]);
        return -e;
    }
    if (pid == 0) {
        close(sv[0]);
        _exit(keeper_main(path, j, sv[1]));
    }
    close(sv[1]);
    *vmm_fd = sv[0];
    return pid;
}

/* ---- the VMM's side ---- */

/* Wait up to KEEPER_REPLY_TIMEOUT_MS for a message of the given type; sooner -ECANCELED when
 * stop_fd (>= 0) becomes readable, -ETIME at deadline_ns (mono_ns; 0: none). */
static int reply_wait(int fd, uint32_t type, struct keeper_msg *m, int stop_fd,
                      uint64_t deadline_ns, char *err, size_t errlen)
{
    uint64_t t0 = mono_ns();
    for (;;) {
        uint64_t now = mono_ns();
        long spent = (long)((now - t0) / 1000000);
        if (spent >= KEEPER_REPLY_TIMEOUT_MS) {
            snprintf(err, errlen, "ledger: no answer from the ledger keeper within %d s",
                     KEEPER_REPLY_TIMEOUT_MS / 1000);
            return -ETIMEDOUT;
        }
        long wait = KEEPER_REPLY_TIMEOUT_MS - spent;
        if (deadline_ns) {
            if (now >= deadline_ns)
                return -ETIME;
            long left = (long)((deadline_ns - now + 999999) / 1000000);
            if (left < wait)
                wait = left;
        }
        struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = stop_fd, .events = POLLIN } };
        int r = poll(p, 2, (int)wait);
        if (r < 0 && errno != EINTR) {
            int e = errno;
            snprintf(err, errlen, "ledger: waiting for the keeper: %s", strerror(e));
            return -e;
        }
        if (r > 0 && (p[1].revents & POLLIN))
            return -ECANCELED;
        if (r <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = recv(fd, m, sizeof *m, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n != (ssize_t)sizeof *m || m->magic != KEEPER_MAGIC) {
            snprintf(err, errlen, "ledger: the keeper ended without an answer (see its message "
                     "above)");
            return -EPIPE;
        }
        m->text[sizeof m->text - 1] = '\0';
        if (m->type == type)
            return 0;
        /* a verdict still in flight before the END's answer: passed over */
    }
}

int keeper_admit_wait(int fd, struct ledger_admit *a, char *err, size_t errlen)
{
    return keeper_admit_wait_until(fd, a, -1, 0, err, errlen);
}

int keeper_admit_wait_until(int fd, struct ledger_admit *a, int stop_fd, uint64_t deadline_ns,
                            char *err, size_t errlen)
{
    struct keeper_msg m;
    memset(a, 0, sizeof *a);
    int rc = reply_wait(fd, KEEPER_ADMIT, &m, stop_fd, deadline_ns, err, errlen);
    if (rc < 0)
        return rc;
    if (m.rc < 0) {
        snprintf(err, errlen, "%s", m.text);
        return m.rc;
    }
    a->cpu_limit_ns = m.grant[0];
    a->io_limit_bytes = m.grant[1];
    a->net_limit_bytes = m.grant[2];
    for (int r = 0; r < QUOTA_NRES; r++)
        a->clamped[r] = (m.clamped >> r) & 1;
    return 0;
}

int keeper_checkpoint_send(int fd, const struct ledger_usage *u)
{
    struct keeper_msg m = { .type = KEEPER_CHECKPOINT, .usage = *u };
    return keeper_msg_send(fd, &m, MSG_DONTWAIT);
}

int keeper_verdicts_take(int fd, bool *warned, char *why, size_t whylen)
{
    struct keeper_msg m;
    int stop = 0;
    for (;;) {
        ssize_t n = recv(fd, &m, sizeof m, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof m || m.magic != KEEPER_MAGIC || m.type != KEEPER_VERDICT)
            return stop;
        m.text[sizeof m.text - 1] = '\0';
        if (m.rc < 0 && !*warned) {
            *warned = true;
            fprintf(stderr, "isovm: warning: ledger: a checkpoint was not recorded (%s); the "
                    "next one carries the totals\n", m.text);
        }
        if (m.rc == 0 && m.exhausted && m.exhausted <= QUOTA_NRES && !stop) {
            stop = (int)m.exhausted;
            snprintf(why, whylen, "%s", m.text);
        }
    }
}

int keeper_end_send(int fd, const struct ledger_usage *u, const char *reason, char *err,
                    size_t errlen)
{
    struct keeper_msg m = { .type = KEEPER_END, .usage = *u };
    snprintf(m.reason, sizeof m.reason, "%s", reason);
    int rc = keeper_msg_send(fd, &m, 0);
    if (rc < 0)
        snprintf(err, errlen, "ledger: cannot reach the keeper to record the job's end: %s",
                 strerror(-rc));
    return rc;
}

int keeper_settled_wait(int fd, char *err, size_t errlen)
{
    struct keeper_msg m;
    int rc = reply_wait(fd, KEEPER_SETTLED, &m, -1, 0, err, errlen);
    if (rc == 0 && m.rc < 0) {
        snprintf(err, errlen, "%s", m.text);
        rc = m.rc;
    }
    return rc;
}

int keeper_end(int fd, const struct ledger_usage *u, const char *reason, char *err,
               size_t errlen)
{
    int rc = keeper_end_send(fd, u, reason, err, errlen);
    return rc < 0 ? rc : keeper_settled_wait(fd, err, errlen);
}
