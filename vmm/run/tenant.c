/* A launch charged to a tenant: the keeper, the reservation and the clamp, checkpoints, the quota stop and the settlement. */
#include "vmm/run/tenant.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "vmm/run/launch.h"

void tenant_job_id(char *buf, size_t len)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = mono_ns() ^ ((uint64_t)getpid() << 32);
    snprintf(buf, len, "isovm-%d-%016llx", (int)getpid(), (unsigned long long)r);
}

/* The policy as run, hashed: the ledger's record of what the job was allowed. */
static void policy_digest(const struct policy *p, char out[65])
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    uint8_t d[32];
    struct sha256 s;
    sha256_init(&s);
    if (f) {
        policy_write_json(p, f, 0);
        fclose(f);
        sha256_update(&s, text, n);
    }
    free(text);
    sha256_final(&s, d);
    sha256_hex(d, out);
}

pid_t tenant_keeper_open(const struct launch_opts *o, const char *path, const char *socket_path,
                         const char *job_id, int *fd, char *err, size_t errlen)
{
    const struct policy *p = &o->policy;
    char digest[65];
    policy_digest(p, digest);
    struct ledger_job j = {
        .id = job_id, .tenant = p->tenant, .policy_digest = digest,
        .tier = o->rootfs ? "linux" : "hypercall",
        .cpu_limit_ns = p->cpu_time_limit_ns, .memory_bytes = p->memory_bytes,
    };
    if (socket_path) {
        int rc = keeper_service_connect(socket_path, &j, fd, err, errlen);
        return rc < 0 ? rc : 0;
    }
    return keeper_spawn(path, &j, fd, err, errlen);
}

const char *tenant_keeper_socket(const struct launch_opts *o)
{
    const char *env = getenv("ISOVM_LEDGER_SOCKET"), *ledger = getenv("ISOVM_LEDGER");
    if (o->ledger_socket)
        return o->ledger_socket;
    if (env && *env)
        return env;
    /* the default ledger, and a keeper service running for it at the default socket */
    struct stat st;
    if (!o->ledger_path && !(ledger && *ledger) && geteuid() == 0 &&
        stat(KEEPER_DEFAULT_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
        return KEEPER_DEFAULT_SOCKET;
    return NULL;
}

int tenant_start(struct launch_opts *o, struct tenant_link *t, const char *ledger_path,
                 int ledger_fd)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    struct policy *p = &o->policy;
    snprintf(t->tenant, sizeof t->tenant, "%s", p->tenant);
    char err[1024] = "";
    if (!p->job_id[0])
        tenant_job_id(p->job_id, sizeof p->job_id);
    int fd = ledger_fd;
    const char *sock = tenant_keeper_socket(o);
    if (fd < 0) {
        char path[PATH_MAX] = "";
        if (ledger_path)
            snprintf(path, sizeof path, "%s", ledger_path);
        else if (!sock && ledger_default_path(path, sizeof path) < 0) {
            log_err("ledger: no default path (set $ISOVM_LEDGER or give --ledger PATH)");
            return EXIT_ISOVM_ERROR;
        }
        if (tenant_keeper_open(o, path, sock, p->job_id, &fd, err, sizeof err) < 0) {
            log_err("%s", err);
            return EXIT_ISOVM_ERROR;
        }
    }
    t->fd = fd;
    snprintf(t->job_id, sizeof t->job_id, "%s", p->job_id);
    return 0;
}

int tenant_admit(struct launch_opts *o, struct tenant_link *t, uint64_t start_ns)
{
    if (t->fd < 0 || t->admitted)
        return 0;
    char err[1024] = "";
    uint64_t t0 = mono_ns();
    /* the supervisor's signals (blocked by now) and the job's timeout end the wait, as they end
     * the job: a ledger locked for seconds must not hold them up */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    uint64_t deadline = o->policy.timeout_ns ? start_ns + o->policy.timeout_ns : 0;
    int rc = keeper_admit_wait_until(t->fd, &t->admit, sfd, deadline, err, sizeof err);
    t->admit_wait_ns = mono_ns() - t0;
    int status = EXIT_ISOVM_ERROR;
    if (rc == -ECANCELED) {
        struct signalfd_siginfo si = { 0 };
        if (read(sfd, &si, sizeof si) != (ssize_t)sizeof si)
            si.ssi_signo = SIGTERM;
        log_err("job killed: isovm received %s while the job waited for its reservation",
                strsignal((int)si.ssi_signo));
        status = 128 + (int)si.ssi_signo;
    } else if (rc == -ETIME) {
        log_err("job killed: wall-clock timeout while the job waited for its reservation "
                "(the ledger is slow or locked)");
        status = 124;
    } else if (rc < 0) {
        log_err("%s%s", rc == -EDQUOT ? "quota: launch refused: " : "", err);
    }
    if (sfd >= 0)
        close(sfd);
    if (rc < 0) { /* the keeper settles a reservation it made as the VMM's death */
        close(t->fd);
        t->fd = -1;
        return status;
    }
    t->admitted = true;
    if (t->admit.clamped[QUOTA_CPU])
        o->policy.cpu_time_limit_ns = t->admit.cpu_limit_ns;
    t->next_ns = mono_ns() + KEEPER_CHECKPOINT_NS;
    return 0;
}

bool tenant_checkpoint_due(struct tenant_link *t, uint64_t now)
{
    if (t->fd < 0 || now < t->next_ns)
        return false;
    t->next_ns = now + KEEPER_CHECKPOINT_NS;
    return true;
}

int tenant_checkpoint(struct tenant_link *t, const struct ledger_usage *u, char *why,
                      size_t whylen)
{
    if (t->fd < 0)
        return 0;
    keeper_checkpoint_send(t->fd, u);
    const struct { int r; uint64_t used; } own[] = {
        { QUOTA_IO, u->read_bytes + u->write_bytes },
        { QUOTA_NET, u->net_rx_bytes + u->net_tx_bytes },
    };
    const uint64_t grant[QUOTA_NRES] = { [QUOTA_IO] = t->admit.io_limit_bytes,
                                         [QUOTA_NET] = t->admit.net_limit_bytes };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        int r = own[i].r;
        if (t->admit.clamped[r] && own[i].used >= grant[r]) {
            snprintf(why, whylen, "tenant %s: the %s budget's rest of %llu bytes granted to this "
                     "job is used up", t->tenant, r == QUOTA_IO ? "io" : "net",
                     (unsigned long long)grant[r]);
            return 1 + r;
        }
    }
    return 0;
}

int tenant_verdicts(struct tenant_link *t, char *why, size_t whylen)
{
    return t->fd >= 0 ? keeper_verdicts_take(t->fd, &t->warned, why, whylen) : 0;
}

bool tenant_cpu_grant_used(const struct tenant_link *t, uint64_t cpu, uint64_t limit, char *why,
                           size_t whylen)
{
    if (!t || !t->admit.clamped[QUOTA_CPU] || !limit || cpu < limit)
        return false;
    char used[32], granted[32];
    clock_secs_text(used, sizeof used, cpu);
    clock_secs_text(granted, sizeof granted, limit);
    snprintf(why, whylen, "tenant %s: the CPU budget's rest granted to this job is used up "
             "(%s of vCPU time, granted %s)", t->tenant, used, granted);
    return true;
}

int tenant_quota_status(int r)
{
    return r == QUOTA_CPU ? 128 + SIGXCPU : 128 + SIGXFSZ;
}

void tenant_end_send(struct tenant_link *t, const struct ledger_usage *u, const char *reason)
{
    if (t->fd < 0 || t->end_sent)
        return;
    if (!t->admitted) { /* the job never started: was it admitted at all? */
        struct ledger_admit a;
        char err[1024];
        if (keeper_admit_wait(t->fd, &a, err, sizeof err) < 0) { /* refused: nothing to settle */
            close(t->fd);
            t->fd = -1;
            return;
        }
        t->admitted = true;
    }
    char err[1024];
    if (keeper_end_send(t->fd, u, reason, err, sizeof err) < 0) {
        log_err("warning: %s", err);
        close(t->fd);
        t->fd = -1;
        return;
    }
    t->end_sent = true;
}

void tenant_end_wait(struct tenant_link *t)
{
    if (t->fd < 0 || !t->end_sent)
        return;
    char err[1024];
    if (keeper_settled_wait(t->fd, err, sizeof err) < 0)
        log_err("warning: %s", err);
    close(t->fd);
    t->fd = -1;
}
