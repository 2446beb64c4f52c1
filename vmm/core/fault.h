/* CPU exceptions: turn a fault the firmware reports into the signal Linux would deliver. */
#ifndef ISOVM_FAULT_H
#define ISOVM_FAULT_H
#include <stdint.h>
#include "vmm/core/job.h"

struct fault_info {
    uint64_t vector, error_code, rip, cs, rflags, rsp, cr2;
};

/* Signal number Linux delivers for an exception vector (SIGSEGV for the unusual ones). */
int fault_signal(uint64_t vector);
const char *fault_name(uint64_t vector);
const char *signal_name(int sig);

/* Describe the fault in one line (no "isovm: " prefix) into buf. */
void fault_describe(const struct fault_info *f, int sig, char *buf, size_t len);

/* Handle an exception exit of thread t's vCPU: read the frame; a first touch of a page the job
 * may use is mended and the job resumes (0); anything else ends t's process (the first
 * process's end, with one line on stderr, is the job's) (1, or -errno for an internal
 * error). */
int fault_handle(struct job *job, struct vthread *t);

#endif
