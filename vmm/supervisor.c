/* The supervisor thread: CPU governor (quota, CPU-time limit), wall-clock timeout, signals. */
#include "supervisor.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cpu_quota.h"
#include "fault.h"
#include "log.h"
#include "thread.h"
#include "vcpu_run.h"

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

static void fmt_secs(char *buf, size_t len, uint64_t ns)
{
    snprintf(buf, len, "%llu.%03llus", (unsigned long long)(ns / 1000000000ull),
             (unsigned long long)(ns / 1000000ull % 1000));
}

/* One look at the job: limits, quota. job->lock held. Returns when to look next. */
static uint64_t governor_step(struct job *job, struct cpu_quota *q, uint64_t now)
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
            fmt_secs(a, sizeof a, now - job->start_ns);
            fmt_secs(b, sizeof b, p->timeout_ns);
            snprintf(msg, sizeof msg, "job killed: wall-clock timeout after %s (limit %s)", a, b);
            job_end(job, JOB_TIMEOUT, 124, 0, msg);
            return now + RESTOP_INTERVAL_NS;
        }
        next = deadline;
    }
    if (p->cpu_time_limit_ns) {
        if (cpu >= p->cpu_time_limit_ns) {
            fmt_secs(a, sizeof a, cpu);
            fmt_secs(b, sizeof b, p->cpu_time_limit_ns);
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

void job_supervise(struct job *job)
{
    sigset_t set = supervisor_set();
    job->supervisor = pthread_self();
    job->supervised = true;
    struct cpu_quota q;
    pthread_mutex_lock(&job->lock);
    cpu_quota_init(&q, job->policy.cpu_quota_ns, job->policy.cpu_period_ns, mono_ns(), 0);
    int rc = vthread_start(job, &job->threads[0]);
    if (rc < 0) {
        char msg[120];
        snprintf(msg, sizeof msg, "internal: cannot start the job's first thread: %s",
                 strerror(-rc));
        job_end(job, JOB_INTERNAL_ERROR, 125, 0, msg);
    }
    for (;;) {
        if (job->threads_hosted == 0)
            break;
        uint64_t now = mono_ns();
        uint64_t next = governor_step(job, &q, now);
        if (atomic_load(&job->stop))
            job_kick(job, NULL);
        pthread_mutex_unlock(&job->lock);
        siginfo_t info;
        int sig;
        if (next == UINT64_MAX) {
            sig = sigwaitinfo(&set, &info);
        } else {
            uint64_t wait = next > now ? next - now : 0;
            struct timespec ts = ns_ts(wait);
            sig = sigtimedwait(&set, &info, &ts);
        }
        pthread_mutex_lock(&job->lock);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
            char msg[120];
            snprintf(msg, sizeof msg, "job killed: isovm received %s", signal_name(sig));
            job_end(job, JOB_KILLED, 128 + sig, sig, msg);
        }
    }
    uint64_t now = mono_ns();
    cpu_quota_finish(&q, now);
    job->stats.cpu_throttled_ns = q.throttled_ns;
    job->stats.cpu_throttled_periods = q.throttled_periods;
    job->stats.cpu_ns = job->cpu_ns_retired;
    pthread_mutex_unlock(&job->lock);
    vthread_join_all(job);
}
