/* Host threads of the job: each runs one vCPU's run loop until its job thread is done. */
#include "vmm/run/vthread.h"
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include "vmm/run/vcpu_run.h"
#include "vmm/sys/sys_fork.h"

/* Runs of job threads on one host thread: after each, the thread parks until vthread_start
 * hands it the slot's next run (the same vCPU, so KVM sees the same task) or the job ends. */
static void *vthread_main(void *arg)
{
    struct vthread *t = arg;
    struct job *job = t->job;
    for (;;) {
        vcpu_run(job, t);
        uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        pthread_mutex_lock(&job->lock);
        struct proc *p = t->proc;
        if (t->state == VT_RUNNING) { /* stopped by the job's or process's end, not its exit */
            job->threads_live--;
            p->threads_live--;
        }
        cpu = cpu > t->cpu_base ? cpu - t->cpu_base : 0;
        t->cpu_ns_final = cpu;
        job->cpu_ns_retired += cpu;
        p->cpu_ns += cpu;
        t->state = VT_DONE;
        if (p->execing) /* the thread in execve waits for its process's others to end */
            proc_wake(job, p, false);
        if (--p->threads_hosted == 0 && !atomic_load(&job->stop))
            proc_release(job, p); /* its last thread: no vCPU runs its space any more */
        if (--job->threads_hosted == 0)
            job->stopped_ns = mono_ns();
        job_notify_supervisor(job);
        t->parked = true;
        while (t->parked && !atomic_load(&job->stop))
            pthread_cond_wait(&t->wake, &job->lock);
        bool again = !t->parked; /* handed another run */
        t->parked = false;
        pthread_mutex_unlock(&job->lock);
        if (!again)
            return NULL;
    }
}

/* A host thread started ahead (a pool's VMM, before its job came), waiting for its vthread. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t handed;
    bool waiting;       /* started, not yet handed a vthread */
    pthread_t host;
    struct vthread *t;  /* handed */
    sigset_t mask;      /* the signal mask a thread started now would inherit */
} spare = { .lock = PTHREAD_MUTEX_INITIALIZER, .handed = PTHREAD_COND_INITIALIZER };

static void *spare_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&spare.lock);
    while (!spare.t)
        pthread_cond_wait(&spare.handed, &spare.lock);
    struct vthread *t = spare.t;
    sigset_t mask = spare.mask;
    pthread_mutex_unlock(&spare.lock);
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
    return vthread_main(t);
}

static int thread_create(pthread_t *host, void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, VTHREAD_STACK_SIZE);
    int rc = pthread_create(host, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc;
}

int vthread_spare_start(void)
{
    if (spare.waiting)
        return 0;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* no signal reaches it before its job */
    int rc = thread_create(&spare.host, spare_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    spare.waiting = rc == 0;
    return -rc;
}

/* Hand t to the spare thread, which runs it with the caller's signal mask. */
static void spare_hand(struct vthread *t)
{
    pthread_mutex_lock(&spare.lock);
    pthread_sigmask(SIG_SETMASK, NULL, &spare.mask);
    spare.t = t;
    spare.waiting = false;
    t->host = spare.host;
    pthread_cond_signal(&spare.handed);
    pthread_mutex_unlock(&spare.lock);
}

int vthread_start(struct job *job, struct vthread *t)
{
    t->state = VT_RUNNING;
    job->threads_live++;
    job->threads_hosted++;
    t->proc->threads_live++;
    t->proc->threads_hosted++;
    int rc = 0;
    if (t->host_started && t->parked) { /* its host thread waits for this run */
        t->parked = false;
        t->cpu_base = clock_ns(t->cpu_clock);
        pthread_cond_signal(&t->wake);
        goto started;
    }
    t->cpu_base = 0;
    if (spare.waiting)
        spare_hand(t);
    else
        rc = thread_create(&t->host, vthread_main, t);
    if (rc) {
        t->state = VT_FREE;
        job->threads_live--;
        job->threads_hosted--;
        t->proc->threads_live--;
        t->proc->threads_hosted--;
        return -rc;
    }
    t->host_started = true;
    if (pthread_getcpuclockid(t->host, &t->cpu_clock) != 0)
        t->cpu_clock = CLOCK_MONOTONIC; /* cannot happen for a live thread */
started:
    job->stats.threads_created++;
    if (job->threads_live > job->stats.threads_peak)
        job->stats.threads_peak = job->threads_live;
    return 0;
}

void vthread_join_all(struct job *job)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t->host_started) {
            pthread_join(t->host, NULL);
            t->host_started = false;
        }
    }
}

