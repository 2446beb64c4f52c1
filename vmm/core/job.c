/* Job lifecycle shared by every thread: set-up, ending the job, kicking vCPUs, sleeping. */
#include "vmm/core/job.h"
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"

_Thread_local struct vthread *job_current_thread;

int job_init(struct job *job, const struct policy *p)
{
    job->policy = *p;
    job->vm.kvm.kvm_fd = job->vm.kvm.vm_fd = -1; /* nothing to close until vm_create */
    job->devnull_fd = -1;
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    int rc = pthread_mutex_init(&job->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    if (rc)
        return -rc;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        t->job = job;
        t->proc = &job->procs[0];
        t->vcpu.fd = -1;
        t->vcpu.index = (int)i;
        t->altstack.flags = 2; /* SS_DISABLE: no alternate signal stack */
        pthread_cond_init(&t->wake, &ca);
    }
    pthread_condattr_destroy(&ca);
    job->next_tid = 1;
    struct proc *first = &job->procs[0];
    first->state = PROC_LIVE;
    first->pid = first->pgid = first->sid = 1;
    first->gm = &job->vm.gm; /* job->vm is made in place (or moved in) before the job runs */
    first->pg = &job->vm.pg;
    first->exit_signal = SIGCHLD;
    first->umask = 022; /* FS_UMASK_DEFAULT, as a login shell's */
    strcpy(first->cwd, p->cwd[0] ? p->cwd : "/");
    job->procs_live = job->procs_held = 1;
    job->stats.procs_created = job->stats.procs_peak = 1; /* the first process */
    uint64_t now = mono_ns();
    io_throttle_init(&job->io_read, &p->io_read, now);
    io_throttle_init(&job->io_write, &p->io_write, now);
    return 0;
}

void job_fini(struct job *job)
{
    if (job->devnull_fd >= 0)
        close(job->devnull_fd);
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        pthread_cond_destroy(&job->threads[i].wake);
    pthread_mutex_destroy(&job->lock);
}

void job_kick(struct job *job, const struct vthread *self)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t != self && t->host_started && t->state != VT_DONE && t->state != VT_FREE)
            pthread_kill(t->host, SIGUSR1);
    }
}

void job_wake_all(struct job *job)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].state == VT_RUNNING || job->threads[i].parked)
            pthread_cond_broadcast(&job->threads[i].wake);
}

void job_notify_supervisor(struct job *job)
{
    if (job->supervised)
        pthread_kill(job->supervisor, SIGUSR2);
}

void job_end(struct job *job, enum job_end how, int status, int sig, const char *msg)
{
    if (job->end != JOB_RUNNING)
        return;
    if (how == JOB_SIGNALED && job->stats.enomem_total && sig != SIGSYS)
        how = JOB_OOM; /* it died after the memory limit refused it */
    job->end = how;
    job->end_ns = mono_ns();
    for (unsigned i = 1; i < ISOVM_MAX_PROCS; i++) /* the others end with it */
        if (job->procs[i].state == PROC_LIVE && !atomic_load(&job->procs[i].killed))
            job->stats.procs_killed++;
    job->exit_status = status;
    job->signal = sig;
    if (msg) {
        if (how == JOB_OOM)
            log_err("%s; memory limit reached (peak %llu of %llu bytes, %llu requests refused)",
                    msg, (unsigned long long)gmem_peak_bytes(&job->vm.gm),
                    (unsigned long long)job->vm.gm.limit_bytes,
                    (unsigned long long)job->stats.enomem_total);
        else
            log_err("%s", msg);
    }
    atomic_store(&job->stop, true);
    job_wake_all(job);
    job_kick(job, NULL);
    job_notify_supervisor(job);
}

void job_count_denied(struct job *job, uint64_t nr)
{
    if (nr < SYSCALL_TABLE_SIZE)
        job->stats.denied[nr]++;
    job->stats.denied_total++;
}

uint64_t thread_cpu_ns(const struct vthread *t)
{
    if (!t->host_started || (t->state != VT_RUNNING && t->state != VT_EXITING))
        return 0; /* no host thread, or it has finished: its time is retired */
    uint64_t now = clock_ns(t->cpu_clock);
    return now > t->cpu_base ? now - t->cpu_base : 0;
}

uint64_t job_cpu_ns(struct job *job)
{
    uint64_t sum = job->cpu_ns_retired;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        sum += thread_cpu_ns(&job->threads[i]);
    return sum;
}

uint64_t proc_cpu_ns(struct job *job, const struct proc *p)
{
    uint64_t sum = p->cpu_ns;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].proc == p)
            sum += thread_cpu_ns(&job->threads[i]);
    return sum;
}

int job_wait_until(struct job *job, struct vthread *self, uint64_t deadline_ns)
{
    if (thread_interrupted(self))
        return -EINTR;
    if (mono_ns() >= deadline_ns)
        return 0;
    struct timespec ts = ns_ts(deadline_ns);
    pthread_cond_timedwait(&self->wake, &job->lock, &ts);
    return thread_interrupted(self) ? -EINTR : 0;
}

int job_sleep_until(struct job *job, struct vthread *self, uint64_t deadline_ns)
{
    struct timespec ts = ns_ts(deadline_ns);
    for (;;) {
        if (thread_interrupted(self))
            return -EINTR;
        if (mono_ns() >= deadline_ns)
            return 0;
        int rc = pthread_cond_timedwait(&self->wake, &job->lock, &ts);
        if (rc == ETIMEDOUT)
            return thread_interrupted(self) ? -EINTR : 0;
    }
}
