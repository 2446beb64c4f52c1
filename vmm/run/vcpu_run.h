/* The vCPU run loop: enter the guest, dispatch each exit, stop when the thread or job ends. */
#ifndef ISOVM_VCPU_RUN_H
#define ISOVM_VCPU_RUN_H
#include "vmm/core/job.h"

/* Install the kick handler (SIGUSR1). Once per process, before any vCPU thread starts. */
int vcpu_signals_init(void);

/* Run thread t's vCPU until the thread exits or the job ends (job->end tells which). Called on
 * t's own host thread, with SIGUSR1 blocked; unblocks it while running. */
void vcpu_run(struct job *job, struct vthread *t);

#endif
