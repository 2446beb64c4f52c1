/* How the job ended, as the status port tells it: EXIT, SIGNAL or OOM, and the detail. */
#ifndef ISOVM_INIT_OUTCOME_H
#define ISOVM_INIT_OUTCOME_H
#include "init/abi.h"

struct outcome {
    enum isovm_status_kind kind;
    unsigned detail;
};

/* From the job's wait status and its cgroup's oom_kill count before it started and after it
 * ended (-1: unknown): OOM (with the status a shell would report) when the count went up, else
 * SIGNAL with the signal, else EXIT with the exit status. */
struct outcome outcome_of(int wstatus, long long oom_before, long long oom_after);

#endif
