/* Host threads of the job: each runs one vCPU's run loop until its job thread is done. */
#include "vmm/run/vthread.h"
#include <pthread.h>
#include <time.h>
#include "vmm/run/vcpu_run.h"

/* The host thread only runs the VMM's hypercall handlers: a small stack is plenty. */
#define VTHREAD_STACK_SIZE (512u << 10)

static void *vthread_main(void *arg)
{
    struct vthread *t = arg;
    struct job *job = t->job;
    vcpu_run(job, t);
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    pthread_mutex_lock(&job->lock);
    if (t->state == VT_RUNNING) /* stopped by the job's end rather than by its own exit */
        job->threads_live--;
    t->cpu_ns_final = cpu;
    job->cpu_ns_retired += cpu;
    t->state = VT_DONE;
    if (--job->threads_hosted == 0)
        job->stopped_ns = mono_ns();
    job_notify_supervisor(job);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

int vthread_start(struct job *job, struct vthread *t)
{
    t->state = VT_RUNNING;
    job->threads_live++;
    job->threads_hosted++;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, VTHREAD_STACK_SIZE);
    int rc = pthread_create(&t->host, &attr, vthread_main, t);
    pthread_attr_destroy(&attr);
    if (rc) {
        t->state = VT_FREE;
        job->threads_live--;
        job->threads_hosted--;
        return -rc;
    }
    t->host_started = true;
    if (pthread_getcpuclockid(t->host, &t->cpu_clock) != 0)
        t->cpu_clock = CLOCK_MONOTONIC; /* cannot happen for a live thread */
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

