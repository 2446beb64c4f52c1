/* Hypercall exits: one port-I/O exit per forwarded syscall. */
#ifndef ISOVM_HYPERCALL_H
#define ISOVM_HYPERCALL_H
#include <stdint.h>
#include "vmm/core/job.h"

/* Handle the hypercall of thread t whose `out` carried value, with job->lock held. 0: resume
 * the vCPU; 1: the thread or the job ended; negative: protocol violation. */
int hypercall_handle(struct job *job, struct vthread *t, uint32_t value);

#endif
