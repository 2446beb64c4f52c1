/* CPU quota bookkeeping: when the job's vCPUs have used their quota in this period, hold them. */
#include "limits/cpu_quota.h"

void cpu_quota_init(struct cpu_quota *q, uint64_t quota_ns, uint64_t period_ns, uint64_t now,
                    uint64_t cpu)
{
    *q = (struct cpu_quota){ .quota_ns = quota_ns, .period_ns = period_ns,
                             .period_end = now + period_ns, .cpu_at_start = cpu };
}

bool cpu_quota_step(struct cpu_quota *q, uint64_t now, uint64_t cpu, unsigned running,
                    uint64_t *next)
{
    *next = UINT64_MAX;
    if (!q->quota_ns)
        return false;
    if (now >= q->period_end) {
        if (q->throttled) {
            q->throttled_ns += q->period_end - q->throttle_start;
            q->throttled = false;
        }
        /* What the last period overran (a check comes a little late) is paid back now, so the
         * share over many periods is the quota exactly. */
        uint64_t used = cpu - q->cpu_at_start, allowed = q->quota_ns - q->debt;
        uint64_t over = used > allowed ? used - allowed : 0;
        q->debt = over < q->quota_ns ? over : q->quota_ns - 1;
        q->cpu_at_start = cpu;
        /* Stay on the period grid; if the VMM was not scheduled for whole periods, restart it. */
        q->period_end += q->period_ns;
        if (q->period_end <= now)
            q->period_end = now + q->period_ns;
    }
    uint64_t used = cpu - q->cpu_at_start, allowed = q->quota_ns - q->debt;
    if (!q->throttled && used >= allowed) {
        q->throttled = true;
        q->throttle_start = now;
        q->throttled_periods++;
    }
    if (q->throttled) {
        *next = q->period_end;
        return true;
    }
    uint64_t left = (allowed - used) / (running ? running : 1);
    if (left < CPU_QUOTA_MIN_CHECK_NS)
        left = CPU_QUOTA_MIN_CHECK_NS;
    *next = now + left < q->period_end ? now + left : q->period_end;
    return false;
}

void cpu_quota_finish(struct cpu_quota *q, uint64_t now)
{
    if (q->throttled && now > q->throttle_start) {
        q->throttled_ns += now - q->throttle_start;
        q->throttled = false;
    }
}
