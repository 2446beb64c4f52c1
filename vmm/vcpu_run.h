/* The vCPU run loop: enter the guest, dispatch each exit, stop when the job ends. */
#ifndef ISOVM_VCPU_RUN_H
#define ISOVM_VCPU_RUN_H
#include "job.h"

/* Run vCPU v until the job ends. Sets job->end and job->exit_status. */
void vcpu_run(struct job *job, struct vcpu *v);

#endif
