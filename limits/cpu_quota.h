/* CPU quota bookkeeping: vCPU time allowed per period, as cgroup cpu.max does it. Pure logic. */
#ifndef ISOVM_CPU_QUOTA_H
#define ISOVM_CPU_QUOTA_H
#include <stdbool.h>
#include <stdint.h>

/* Earliest re-check of a running job (quota or CPU time limit): a wake-up costs more than
 * this much overshoot. */
#define CPU_QUOTA_MIN_CHECK_NS 100000ull

struct cpu_quota {
    uint64_t quota_ns, period_ns;   /* quota 0: unlimited */
    uint64_t period_end;            /* monotonic time the current period ends */
    uint64_t cpu_at_start;          /* job CPU time when the current period began */
    uint64_t debt;                  /* overshoot of the last period, taken off this one */
    bool throttled;
    uint64_t throttle_start;
    uint64_t throttled_ns, throttled_periods;
};

void cpu_quota_init(struct cpu_quota *q, uint64_t quota_ns, uint64_t period_ns, uint64_t now,
                    uint64_t cpu);

/* Account up to `now`, when the job has used `cpu` ns in all and `running` vCPUs may be using
 * more. Returns whether the job must be held (throttled) now; *next is the monotonic time to
 * look again (the period's end, or the earliest moment the quota could run out). */
bool cpu_quota_step(struct cpu_quota *q, uint64_t now, uint64_t cpu, unsigned running,
                    uint64_t *next);

/* Close the books at the job's end (a throttle still running counts up to now). */
void cpu_quota_finish(struct cpu_quota *q, uint64_t now);

#endif
