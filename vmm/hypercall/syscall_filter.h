/* The syscall filter: which numbers a job may call (profile, allow, deny) and what happens to the rest. */
#ifndef ISOVM_SYSCALL_FILTER_H
#define ISOVM_SYSCALL_FILTER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "vmm/core/job.h"

struct sc_call;

/* Compute job->filter_allow (the profile, plus policy.syscalls.allow, minus .deny) and
 * job->filter_errno (the policy's errno_value, or EPERM; ENOSYS under the default profile) from
 * job->policy (job->deterministic is set by determinism_init). 0, or -EINVAL (with a message)
 * for an errno_value outside 1..4095. */
int syscall_filter_build(struct job *job);

/* Whether syscall nr is on the job's allowlist: one bit test. Numbers >= SYSCALL_TABLE_SIZE
 * are on no allowlist. */
static inline bool syscall_filter_allows(const struct job *job, uint64_t nr)
{
    return nr < SYSCALL_TABLE_SIZE && (job->filter_allow[nr / 64] >> (nr % 64)) & 1;
}

/* What the hypercall path does with a call the allowlist does not hold. */
enum filter_verdict {
    FILTER_RUN,     /* run the handler (the "log" action, after logging) */
    FILTER_REFUSE,  /* do not run it; the call returns *ret (-filter_errno) */
    FILTER_STOP,    /* the job was ended by SIGSYS; the calling thread stops */
};

/* Apply the policy's action to call c, which syscall_filter_allows refused: count it
 * (stats.filtered, audit_deny) unless the action is "log" (audit_syscall_logged). job->lock
 * held. */
enum filter_verdict syscall_filter_refused(struct job *job, const struct sc_call *c, int64_t *ret);

/* The deterministic profile, by number (SYS_* and ISOVM_SYS_*), for docs and tests. */
extern const uint16_t syscall_profile_deterministic[];
extern const size_t syscall_profile_deterministic_count;

#endif
