/* The syscall filter: builds a job's allowlist from its policy and applies the action to the rest. */
#include "vmm/hypercall/syscall_filter.h"
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include "firmware/abi.h"
#include "vmm/caps/audit.h"
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/core/sc_call.h"
#include "vmm/hypercall/syscall_table.h"

/* Memory, I/O on granted objects, exit, process bookkeeping, the clocks (virtual in
 * deterministic mode), getrandom (seeded), the isovm cap syscalls, futex and sched_yield.
 * Not clone/clone3 (threads make scheduling nondeterministic), not kill/tkill/tgkill. */
const uint16_t syscall_profile_deterministic[] = {
    /* memory */
    SYS_brk, SYS_mmap, SYS_munmap, SYS_mprotect, SYS_mremap, SYS_madvise, SYS_msync,
    /* I/O on granted objects */
    SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_lseek, SYS_open,
    SYS_openat, SYS_close, SYS_fstat, SYS_newfstatat, SYS_stat, SYS_lstat, SYS_getdents64,
    SYS_access, SYS_faccessat, SYS_faccessat2, SYS_dup, SYS_dup2, SYS_dup3, SYS_fcntl, SYS_ioctl,
    SYS_readlink, SYS_readlinkat, SYS_getcwd, SYS_chdir, SYS_fchdir, SYS_mkdir, SYS_mkdirat,
    SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_rename, SYS_renameat, SYS_renameat2, SYS_ftruncate,
    SYS_fsync, SYS_fdatasync, SYS_symlink, SYS_symlinkat, SYS_fadvise64,
    /* exit */
    SYS_exit, SYS_exit_group,
    /* process set-up and bookkeeping */
    SYS_arch_prctl, SYS_set_tid_address, SYS_set_robust_list, SYS_rt_sigaction,
    SYS_rt_sigprocmask, SYS_sigaltstack, SYS_prlimit64, SYS_getrlimit, SYS_uname, SYS_getpid,
    SYS_gettid, SYS_getppid, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid, SYS_rseq,
    /* time (the virtual clock) and randomness (seeded) */
    SYS_clock_gettime, SYS_clock_getres, SYS_gettimeofday, SYS_time, SYS_nanosleep,
    SYS_clock_nanosleep, SYS_getrandom,
    /* isovm's capability syscalls */
    ISOVM_SYS_CAP_DERIVE, ISOVM_SYS_CAP_REVOKE, ISOVM_SYS_CAP_INFO,
    /* a single thread's futex and yield */
    SYS_futex, SYS_sched_yield,
};
const size_t syscall_profile_deterministic_count =
    sizeof syscall_profile_deterministic / sizeof syscall_profile_deterministic[0];

_Static_assert(ISOVM_SYS_CAP_INFO < SYSCALL_TABLE_SIZE, "isovm syscalls inside the filter");
_Static_assert(POLICY_SYSCALL_NR_MAX == SYSCALL_TABLE_SIZE, "policy lists cover the table");

static void bit_set(uint64_t *map, unsigned nr)
{
    map[nr / 64] |= 1ull << (nr % 64);
}

int syscall_filter_build(struct job *job)
{
    const struct syscall_policy *sp = &job->policy.syscalls;
    uint64_t *allow = job->filter_allow;
    memset(job->filter_allow, 0, sizeof job->filter_allow);
    switch (sp->profile) {
    case SCP_DEFAULT:
        for (unsigned nr = 0; nr < SYSCALL_TABLE_SIZE; nr++)
            if (syscall_lookup(nr))
                bit_set(allow, nr);
        break;
    case SCP_DETERMINISTIC:
        for (size_t i = 0; i < syscall_profile_deterministic_count; i++)
            bit_set(allow, syscall_profile_deterministic[i]);
        break;
    case SCP_NONE:
        break;
    default:
        log_err("internal: unknown syscall profile %d", (int)sp->profile);
        return -EINVAL;
    }
    for (unsigned w = 0; w < SYSCALL_TABLE_SIZE / 64; w++)
        allow[w] = (allow[w] | sp->allow[w]) & ~sp->deny[w];

    if (sp->errno_value < 0 || sp->errno_value > 4095) {
        log_err("syscalls.errno: %d is not an errno (1..4095)", sp->errno_value);
        return -EINVAL;
    }
    job->filter_errno = syscall_policy_errno(sp);
    if (sp->action != SCA_ERRNO && sp->action != SCA_KILL && sp->action != SCA_LOG) {
        log_err("internal: unknown syscall filter action %d", (int)sp->action);
        return -EINVAL;
    }
    return 0;
}

enum filter_verdict syscall_filter_refused(struct job *job, const struct sc_call *c, int64_t *ret)
{
    uint64_t nr = c->nr;
    if (job->policy.syscalls.action == SCA_LOG) {
        audit_syscall_logged(job, nr);
        return FILTER_RUN;
    }
    if (nr < SYSCALL_TABLE_SIZE)
        job->stats.filtered[nr]++;
    else
        job->stats.filtered_beyond++;
    if (job->policy.syscalls.action == SCA_KILL) {
        audit_deny(job, DENY_SYSCALL, nr, 0, CAP_NONE, NULL);
        char what[48];
        const char *name = syscall_name(nr);
        if (name)
            snprintf(what, sizeof what, "%s (%" PRIu64 ")", name, nr);
        else
            snprintf(what, sizeof what, "%" PRId64, (int64_t)nr); /* syscall(-1) reads -1 */
        char msg[160];
        snprintf(msg, sizeof msg,
                 "job killed by SIGSYS: syscall %s blocked by the syscall filter at rip 0x%" PRIx64,
                 what, c->user_rip);
        job_end(job, JOB_SIGNALED, 128 + SIGSYS, SIGSYS, msg);
        return FILTER_STOP;
    }
    audit_deny(job, DENY_SYSCALL, nr, job->filter_errno, CAP_NONE, NULL);
    *ret = -(int64_t)job->filter_errno;
    return FILTER_REFUSE;
}
