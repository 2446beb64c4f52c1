/* The supervisor thread: CPU governor (quota, CPU-time limit), wall-clock timeout, signals,
 * and the control socket, all from one ppoll on a signalfd and the socket. */
#include "vmm/run/supervisor.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "limits/cpu_quota.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/core/fault.h"
#include "vmm/core/guest_mem.h"
#include "lib/log.h"
#include "vmm/run/launch_warm.h"
#include "vmm/run/vthread.h"
#include "vmm/run/vcpu_run.h"
#include "vmm/sys/sys.h"

/* After the job has ended, threads still in the guest or in a blocking host call are kicked
 * again this often until they are out. */
#define RESTOP_INTERVAL_NS 10000000ull

static sigset_t supervisor_set(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR2);
    return set;
}

int supervisor_signals_init(void)
{
    sigset_t set = supervisor_set();
    sigaddset(&set, SIGUSR1);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc)
        return -rc;
    return vcpu_signals_init();
}

void job_ledger_usage(const struct job *job, uint64_t now, struct ledger_usage *u)
{
    const struct job_stats *st = &job->stats;
    *u = (struct ledger_usage){
        .cpu_ns = job_cpu_ns((struct job *)job), .wall_ns = now - job->start_ns,
        .memory_peak_bytes = job->vm.gm.size ? gmem_peak_bytes(&job->vm.gm) : 0,
        /* bytes_* count sockets too: the ledger keeps files and network apart */
        .read_bytes = st->bytes_read - (st->net_bytes_received < st->bytes_read
                                        ? st->net_bytes_received : st->bytes_read),
        .read_ops = st->read_ops,
        .write_bytes = st->bytes_written - (st->net_bytes_sent < st->bytes_written
                                            ? st->net_bytes_sent : st->bytes_written),
        .write_ops = st->write_ops,
        .net_rx_bytes = st->net_bytes_received, .net_tx_bytes = st->net_bytes_sent,
        .hypercalls = st->hypercalls_total,
    };
}

/* Stop the job for its tenant's budget of resource r (1 + QUOTA_*, as the keeper says). */
static void quota_stop(struct job *job, int r1, const char *why)
{
    char msg[600];
    snprintf(msg, sizeof msg, "job stopped: quota: %s", why);
    job_end(job, JOB_QUOTA, tenant_quota_status(r1 - 1), 0, msg);
}

/* One look at the job: limits, quota. job->lock held. Returns when to look next. */
static uint64_t governor_step(struct job *job, struct cpu_quota *q, uint64_t now,
                              const struct tenant_link *t)
{
    const struct policy *p = &job->policy;
    uint64_t next = UINT64_MAX;
    if (atomic_load(&job->stop))
        return now + RESTOP_INTERVAL_NS;
    uint64_t cpu = job_cpu_ns(job);
    unsigned running = job->threads_live ? job->threads_live : 1;
    char a[32], b[32], msg[200];
    if (p->timeout_ns) {
        uint64_t deadline = job->start_ns + p->timeout_ns;
        if (now >= deadline) {
            clock_secs_text(a, sizeof a, now - job->start_ns);
            clock_secs_text(b, sizeof b, p->timeout_ns);
            snprintf(msg, sizeof msg, "job killed: wall-clock timeout after %s (limit %s)", a, b);
            job_end(job, JOB_TIMEOUT, 124, 0, msg);
            return now + RESTOP_INTERVAL_NS;
        }
        next = deadline;
    }
    if (p->cpu_time_limit_ns) {
        char why[300];
        if (tenant_cpu_grant_used(t, cpu, p->cpu_time_limit_ns, why, sizeof why)) {
            quota_stop(job, 1 + QUOTA_CPU, why);
            return now + RESTOP_INTERVAL_NS;
        }
        if (cpu >= p->cpu_time_limit_ns) {
            clock_secs_text(a, sizeof a, cpu);
            clock_secs_text(b, sizeof b, p->cpu_time_limit_ns);
            snprintf(msg, sizeof msg,
                     "job killed by SIGXCPU: CPU time limit reached (%s of vCPU time, limit %s)",
                     a, b);
            job_end(job, JOB_CPU_LIMIT, 128 + SIGXCPU, SIGXCPU, msg);
            return now + RESTOP_INTERVAL_NS;
        }
        uint64_t left = (p->cpu_time_limit_ns - cpu) / running;
        if (left < CPU_QUOTA_MIN_CHECK_NS)
            left = CPU_QUOTA_MIN_CHECK_NS;
        if (now + left < next)
            next = now + left;
    }
    uint64_t cnext = caps_expire_held(job, now); /* calls blocked on a capability past its deadline */
    if (cnext < next)
        next = cnext;
    uint64_t snext = sig_timers_step(job, now); /* the processes' timers */
    if (snext < next)
        next = snext;
    snext = sig_rekick(job, now); /* signals a kick missed */
    if (snext < next)
        next = snext;
    uint64_t qnext;
    bool hold = cpu_quota_step(q, now, cpu, running, &qnext);
    if (hold != atomic_load(&job->throttled)) {
        atomic_store(&job->throttled, hold);
        if (hold)
            job_kick(job, NULL);   /* out of the guest: they wait in their run loops */
        else
            job_wake_all(job);     /* a new period */
    }
    return qnext < next ? qnext : next;
}

/* SIGINT, SIGTERM or SIGHUP reached isovm: the job ends as killed by it; others are ignored.
 * job->lock held. */
static void signal_kill(struct job *job, int sig)
{
    if (sig != SIGINT && sig != SIGTERM && sig != SIGHUP)
        return;
    char msg[120];
    snprintf(msg, sizeof msg, "job killed: isovm received %s", signal_name(sig));
    job_end(job, JOB_KILLED, 128 + sig, sig, msg);
}

/* Read every signal pending on sfd (non-blocking) and act on it. Returns whether one came
 * (a wakeup that makes the governor look again, as SIGUSR2 is meant to). job->lock held. */
static bool signals_take(struct job *job, int sfd)
{
    bool any = false;
    struct signalfd_siginfo si[8];
    for (;;) {
        ssize_t n = read(sfd, si, sizeof si);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return any;
        for (size_t i = 0; i < (size_t)n / sizeof si[0]; i++) {
            int sig = (int)si[i].ssi_signo;
            any = true;
            signal_kill(job, sig);
        }
    }
}

/* The pool client's descriptor is readable (a pooled launch, launch_warm.h): each byte is a
 * signal its `isovm launch --pool` received, to act on as one isovm received; end of file is
 * the client gone, which ends the job as a hangup would. Returns whether the client is still
 * there. job->lock held. */
static bool client_take(struct job *job, int fd)
{
    for (int sig; (sig = launch_warm_client_take(fd)) != 0;) {
        if (sig < 0) {
            job_end(job, JOB_KILLED, 128 + SIGHUP, SIGHUP,
                    "job killed: its client (isovm launch --pool) disconnected");
            return false;
        }
        signal_kill(job, sig);
    }
    return true;
}

void job_supervise(struct job *job, struct control_server *ctl, struct tenant_link *t)
{
    sigset_t set = supervisor_set();
    job->supervisor = pthread_self();
    job->supervised = true;
    struct cpu_quota q;
    /* The supervisor set is blocked in every thread: its signals wait on this descriptor,
     * thread-directed ones (SIGUSR2 from job_notify_supervisor) included, as it is read by
     * this thread. */
    int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    pthread_mutex_lock(&job->lock);
    cpu_quota_init(&q, job->policy.cpu_quota_ns, job->policy.cpu_period_ns, mono_ns(), 0);
    int rc = sfd < 0 ? -errno : job->thread_start(job, &job->threads[0]);
    if (rc < 0) {
        char msg[120];
        snprintf(msg, sizeof msg, "internal: cannot start the job's first thread: %s",
                 strerror(-rc));
        job_end(job, JOB_INTERNAL_ERROR, 125, 0, msg);
    }
    /* The governor looks at the job when a signal comes or its own deadline passes, exactly as
     * when this loop waited in sigtimedwait; control-socket traffic never moves it. */
    uint64_t next = 0;
    bool look = true;
    int client_fd = launch_warm_client_fd();
    for (;;) {
        if (job->threads_hosted == 0)
            break;
        uint64_t now = mono_ns();
        if (look || now >= next) {
            next = governor_step(job, &q, now, t);
            job->supervisor_wake_ns = next;
            if (atomic_load(&job->stop))
                job_kick(job, NULL);
        }
        /* the ledger's checkpoint: the usage taken under the lock, sent after it (never
         * blocking: the keeper does the waiting on SQLite) */
        struct ledger_usage usage;
        bool checkpoint = t && !atomic_load(&job->stop) && tenant_checkpoint_due(t, now);
        if (checkpoint)
            job_ledger_usage(job, now, &usage);
        pthread_mutex_unlock(&job->lock);
        char why[KEEPER_TEXT_MAX];
        int over = checkpoint ? tenant_checkpoint(t, &usage, why, sizeof why) : 0;
        struct pollfd pfd[4] = { { .fd = sfd, .events = POLLIN },
                                 [2] = { .fd = t ? t->fd : -1, .events = POLLIN },
                                 [3] = { .fd = client_fd, .events = POLLIN } };
        uint64_t ctl_deadline;
        control_poll_setup(ctl, &pfd[1], &ctl_deadline);
        uint64_t wake = next < ctl_deadline ? next : ctl_deadline;
        if (t && t->fd >= 0 && t->next_ns < wake)
            wake = t->next_ns;
        struct timespec ts, *tsp = NULL;
        if (wake != UINT64_MAX) {
            ts = ns_ts(wake > now ? wake - now : 0);
            tsp = &ts;
        }
        int n = over ? 0 : ppoll(pfd, 4, tsp, NULL);
        uint64_t after = mono_ns();
        if (n > 0 || after >= ctl_deadline)
            control_step(ctl, job, n > 0 ? pfd[1].revents : 0, after);
        bool keeper_lost = false;
        if (!over && n > 0 && pfd[2].revents) {
            over = tenant_verdicts(t, why, sizeof why);
            keeper_lost = !over && (pfd[2].revents & (POLLHUP | POLLERR));
        }
        pthread_mutex_lock(&job->lock);
        look = n > 0 && (pfd[0].revents & POLLIN) && signals_take(job, sfd);
        if (n > 0 && pfd[3].revents) {
            if (!client_take(job, client_fd))
                client_fd = -1;
            look = true;
        }
        if (keeper_lost) {
            close(t->fd);
            t->fd = -1;
            if (!atomic_load(&job->stop))
                job_end(job, JOB_INTERNAL_ERROR, 125, 0, "internal: the ledger keeper ended "
                        "while the job ran: the job cannot be charged to its tenant");
            look = true;
        }
        if (over && !atomic_load(&job->stop)) {
            quota_stop(job, over, why);
            look = true;
        }
    }
    uint64_t now = mono_ns();
    cpu_quota_finish(&q, now);
    job->stats.cpu_throttled_ns = q.throttled_ns;
    job->stats.cpu_throttled_periods = q.throttled_periods;
    job->stats.cpu_ns = job->cpu_ns_retired;
    pthread_mutex_unlock(&job->lock);
    vthread_join_all(job);
    if (sfd >= 0)
        close(sfd);
}
