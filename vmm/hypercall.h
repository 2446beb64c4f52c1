/* Hypercall exits: one port-I/O exit per forwarded syscall. */
#ifndef ISOVM_HYPERCALL_H
#define ISOVM_HYPERCALL_H
#include <stdint.h>
#include "job.h"

/* Handle the hypercall whose `out` carried value. 0: resume the vCPU; 1: the job ended;
 * negative: protocol violation (the job is stopped as an internal error). */
int hypercall_handle(struct job *job, struct vcpu *v, uint32_t value);

#endif
