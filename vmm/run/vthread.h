/* Host threads of the job: each runs one vCPU (vmm/run/vcpu_run.c) for one job thread. */
#ifndef ISOVM_VTHREAD_H
#define ISOVM_VTHREAD_H
#include "vmm/core/job.h"

/* Each job thread's host stack: it only runs the VMM's hypercall handlers. */
#define VTHREAD_STACK_SIZE (512u << 10)

/* Start a host thread running t's (already set up) vCPU. job->lock held (or no thread running
 * yet). 0 or -errno. Launch makes it the job's thread_start, which clone calls. */
int vthread_start(struct job *job, struct vthread *t);

/* Start a host thread ahead (a pool's VMM, before its job exists): the next vthread_start hands
 * it its vthread instead of creating a thread. Every signal stays blocked in it until then.
 * 0 or -errno. */
int vthread_spare_start(void);

/* Join every host thread that was started. Call once they are all done. */
void vthread_join_all(struct job *job);

#endif
