/* The Linux tier's supervision of a running guest: signals, the pool client, the wall-clock timeout, the CPU time limit and quota, the tenant's checkpoints and verdicts, the guest's end. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "lib/clock.h"
#include "limits/cpu_quota.h"
#include "vmm/run/launch_warm.h"
#include "vmm/run/lx_end.h"
#include "vmm/run/tenant.h"

uint64_t lx_cpu_ns(struct lx *x)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < x->nvcpus; i++)
        t += lvcpu_cpu_ns(&x->vcpu[i]);
    return t - x->cpu_base_ns; /* a machine made ahead: not what its making took */
}

static void lx_hold(struct lx *x, bool held)
{
    if (atomic_load(&x->sh.held) == held)
        return;
    atomic_store(&x->sh.held, held);
    if (held)
        for (unsigned i = 0; i < x->nvcpus; i++)
            lvcpu_kick(&x->vcpu[i]);
    else {
        pthread_mutex_lock(&x->sh.hold_lock);
        pthread_cond_broadcast(&x->sh.wake);
        pthread_mutex_unlock(&x->sh.hold_lock);
    }
}

/* A signal waiting on sig_fd ends the run (LX_KILLED): true, x->end and x->signo set. */
bool lx_take_signal(struct lx *x)
{
    struct signalfd_siginfo si;
    if (read(x->sig_fd, &si, sizeof si) != (ssize_t)sizeof si)
        return false;
    x->signo = (int)si.ssi_signo;
    x->end = LX_KILLED;
    return true;
}

/* The pool client's descriptor is readable (a pooled launch, launch_warm.h): each byte is a
 * signal its `isovm launch --pool` received, acted on as one isovm received; end of file is the
 * client gone, which ends the run as a hangup would. true, x->end and x->signo set, when the
 * run ends. */
static bool lx_take_client(struct lx *x, int fd)
{
    int sig = launch_warm_client_take(fd);
    if (sig == 0)
        return false;
    x->client_gone = sig < 0;
    x->signo = sig < 0 ? SIGHUP : sig;
    x->end = LX_KILLED;
    return true;
}

/* The job's usage so far, for the ledger: the vCPUs' time, guest RAM, the disks', the shared
 * file system's and the network's bytes. */
void lx_ledger_usage(struct lx *x, uint64_t now, struct ledger_usage *u)
{
    *u = (struct ledger_usage){ .cpu_ns = lx_cpu_ns(x), .wall_ns = now - x->t0,
                                .memory_peak_bytes = x->m.mem_size,
                                .hypercalls = 0 };
    for (unsigned i = 0; i < x->d.ndisks; i++) {
        const struct vblk_stats *s = &x->d.disk[i].stats;
        u->read_bytes += s->read_bytes;
        u->read_ops += s->read_ops;
        u->write_bytes += s->write_bytes;
        u->write_ops += s->write_ops;
    }
    lx_grants_usage(&x->g, &u->read_bytes, &u->read_ops, &u->write_bytes, &u->write_ops,
                    &u->net_rx_bytes, &u->net_tx_bytes);
}

/* A checkpoint to the tenant's keeper when one is due, and its verdicts: true, with x->end set
 * to LX_QUOTA, when a budget ran out. */
static bool lx_tenant_step(struct lx *x, uint64_t now, bool verdicts)
{
    struct tenant_link *t = x->o->tenant;
    if (!t || t->fd < 0)
        return false;
    int over = 0;
    if (tenant_checkpoint_due(t, now)) {
        struct ledger_usage u;
        lx_ledger_usage(x, now, &u);
        over = tenant_checkpoint(t, &u, x->quota_why, sizeof x->quota_why);
    }
    if (!over && verdicts)
        over = tenant_verdicts(t, x->quota_why, sizeof x->quota_why);
    if (!over)
        return false;
    x->quota_res = over - 1;
    x->end = LX_QUOTA;
    return true;
}

void lx_supervise(struct lx *x, int sig_fd)
{
    launch_warm_started(); /* an adopted machine runs: a pool's server may make its next */
    const struct policy *p = &x->o->policy;
    const struct tenant_link *t = x->o->tenant;
    uint64_t deadline = p->timeout_ns ? x->t0 + p->timeout_ns : 0;
    for (;;) {
        uint64_t now = mono_ns(), next = deadline;
        if (deadline && now >= deadline) {
            x->end = LX_TIMEOUT;
            return;
        }
        uint64_t cpu = lx_cpu_ns(x);
        if (p->cpu_time_limit_ns) {
            if (tenant_cpu_grant_used(t, cpu, p->cpu_time_limit_ns, x->quota_why,
                                      sizeof x->quota_why)) {
                x->quota_res = QUOTA_CPU;
                x->end = LX_QUOTA;
                return;
            }
            if (cpu >= p->cpu_time_limit_ns) {
                x->end = LX_CPU_LIMIT;
                return;
            }
            uint64_t left = (p->cpu_time_limit_ns - cpu) / x->nvcpus;
            uint64_t at = now + (left > CPU_QUOTA_MIN_CHECK_NS ? left : CPU_QUOTA_MIN_CHECK_NS);
            if (!next || at < next)
                next = at;
        }
        if (p->cpu_quota_ns) {
            uint64_t qnext = 0;
            lx_hold(x, cpu_quota_step(&x->quota, now, cpu, x->nvcpus, &qnext));
            if (qnext && (!next || qnext < next))
                next = qnext;
        }
        if (lx_tenant_step(x, now, false))
            return;
        if (t && t->fd >= 0 && (!next || t->next_ns < next))
            next = t->next_ns;
        int timeout_ms = -1;
        if (next) {
            uint64_t d = next > now ? next - now : 0;
            timeout_ms = (int)((d + 999999) / 1000000);
            if (timeout_ms == 0 && d)
                timeout_ms = 1;
        }
        struct pollfd pf[6] = { { .fd = x->end_fd, .events = POLLIN }, { .fd = sig_fd, .events = POLLIN },
                                { .fd = x->ready_fd, .events = POLLIN },
                                [4] = { .fd = t ? t->fd : -1, .events = POLLIN },
                                [5] = { .fd = x->warm || x->client_gone ? -1 : launch_warm_client_fd(),
                                        .events = POLLIN } };
        uint64_t ctl_deadline;
        lx_grants_poll_setup(&x->g, &pf[3], &ctl_deadline);
        if (ctl_deadline != UINT64_MAX) {
            int ms = (int)((ctl_deadline > now ? ctl_deadline - now : 0) / 1000000 + 1);
            if (timeout_ms < 0 || ms < timeout_ms)
                timeout_ms = ms;
        }
        /* a sub-millisecond wait is a busy check: poll's granularity is fine here */
        int r = poll(pf, 6, timeout_ms);
        if (r < 0 && errno != EINTR) {
            x->end = LX_FAILED;
            return;
        }
        uint64_t after = mono_ns();
        if ((r > 0 && pf[3].revents) || after >= ctl_deadline)
            lx_grants_step(&x->g, r > 0 ? pf[3].revents : 0, after);
        if (r > 0 && (pf[1].revents & POLLIN) && lx_take_signal(x))
            return;
        if (r > 0 && pf[5].revents && lx_take_client(x, pf[5].fd))
            return;
        if (r > 0 && pf[4].revents) {
            if (lx_tenant_step(x, after, true))
                return;
            if (pf[4].revents & (POLLHUP | POLLERR)) { /* the keeper is gone */
                x->end = LX_KEEPER_LOST;
                return;
            }
        }
        if (r > 0 && (pf[2].revents & POLLIN)) {
            uint64_t n;
            if (read(x->ready_fd, &n, sizeof n) == (ssize_t)sizeof n && !(pf[0].revents & POLLIN)) {
                x->end = LX_READY;
                return;
            }
        }
        if (r > 0 && (pf[0].revents & POLLIN)) {
            if (atomic_load(&x->sh.failed))
                x->end = LX_FAILED;
            else if (x->d.status.ended)
                x->end = LX_GUEST;
            else if (atomic_load(&x->d.panicked))
                x->end = LX_PANIC;
            else
                x->end = LX_RESET;
            return;
        }
    }
}

