/* Process-level syscalls: exit, identity, uname, TLS, signals recorded, limits, randomness. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h> /* GRND_* */
#include <sys/resource.h>
#include <sys/utsname.h>
#include "firmware/abi.h"
#include "vmm/core/determinism.h"
#include "vmm/core/fault.h"
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/sys/sys.h"

#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004

int64_t sys_arch_prctl(struct job *job, struct sc_call *c)
{
    switch (c->a[0]) {
    case ARCH_SET_FS:
        if (!gva_canonical_user(c->a[1]))
            return -EPERM;
        c->self->fs_base = c->a[1];
        c->fs_base = c->a[1];
        c->action |= ISOVM_ACT_SET_FS;
        return 0;
    case ARCH_GET_FS:
        return gmem_copy_to(&job->vm.gm, c->a[1], &c->self->fs_base, sizeof c->self->fs_base);
    case ARCH_SET_GS:
    case ARCH_GET_GS:
        return -EPERM; /* GS belongs to the firmware's syscall path */
    default:
        return -EINVAL;
    }
}

int64_t sys_set_robust_list(struct job *job, struct sc_call *c)
{
    if (c->a[1] != 24) /* sizeof(struct robust_list_head) */
        return -EINVAL;
    (void)job;
    c->self->robust_list = c->a[0];
    c->self->robust_len = c->a[1];
    return 0;
}

int64_t sys_uname(struct job *job, struct sc_call *c)
{
    struct utsname u;
    memset(&u, 0, sizeof u);
    strcpy(u.sysname, "Linux");
    strcpy(u.nodename, "isovm");
    strcpy(u.release, "6.1.0-isovm");
    strcpy(u.version, "#1 SMP isovm");
    strcpy(u.machine, "x86_64");
    strcpy(u.domainname, "(none)");
    return gmem_copy_to(&job->vm.gm, c->a[0], &u, sizeof u);
}

int64_t sys_getpid(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return 1;
}

int64_t sys_getppid(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return 0;
}

int64_t sys_getid(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return 0;
}

int64_t sys_getrandom(struct job *job, struct sc_call *c)
{
    const uint64_t known = GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE;
    if (c->a[2] & ~known || (c->a[2] & (GRND_RANDOM | GRND_INSECURE)) == (GRND_RANDOM | GRND_INSECURE))
        return -EINVAL;
    uint64_t len = c->a[1] > 0x1ffffff ? 0x1ffffff : c->a[1]; /* Linux returns at most 32 MiB */
    void *buf;
    int rc = gpa_range_check(&job->vm.gm, c->a[0], len, GPERM_W, &buf);
    if (rc)
        return rc;
    /* the host's randomness, or the seeded stream of a deterministic job */
    rc = job_random_bytes(job, buf, len);
    return rc ? rc : (int64_t)len;
}

int64_t sys_rt_sigaction(struct job *job, struct sc_call *c)
{
    uint64_t sig = c->a[0];
    if (c->a[3] != 8 || sig < 1 || sig > 64)
        return -EINVAL;
    if (c->a[1] && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    uint64_t act[4];
    if (c->a[1]) {
        int rc = gmem_copy_from(&job->vm.gm, act, c->a[1], sizeof act);
        if (rc)
            return rc;
    }
    if (c->a[2]) {
        int rc = gmem_copy_to(&job->vm.gm, c->a[2], job->sig.action[sig - 1], sizeof act);
        if (rc)
            return rc;
    }
    if (c->a[1])
        memcpy(job->sig.action[sig - 1], act, sizeof act); /* recorded; not delivered yet */
    return 0;
}

int64_t sys_rt_sigprocmask(struct job *job, struct sc_call *c)
{
    uint64_t how = c->a[0], set;
    if (c->a[3] != 8)
        return -EINVAL;
    if (c->a[1]) {
        if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
            return -EINVAL;
        int rc = gmem_copy_from(&job->vm.gm, &set, c->a[1], sizeof set);
        if (rc)
            return rc;
    }
    if (c->a[2]) {
        int rc = gmem_copy_to(&job->vm.gm, c->a[2], &c->self->sig_blocked, sizeof set);
        if (rc)
            return rc;
    }
    if (c->a[1]) {
        const uint64_t unblockable = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));
        if (how == SIG_BLOCK)
            c->self->sig_blocked |= set;
        else if (how == SIG_UNBLOCK)
            c->self->sig_blocked &= ~set;
        else
            c->self->sig_blocked = set;
        c->self->sig_blocked &= ~unblockable;
    }
    return 0;
}

int64_t sys_sigaltstack(struct job *job, struct sc_call *c)
{
    uint64_t ss[3] = { 0, 2 /* SS_DISABLE */, 0 };
    if (c->a[0]) {
        uint64_t in[3];
        int rc = gmem_copy_from(&job->vm.gm, in, c->a[0], sizeof in);
        if (rc)
            return rc;
    }
    if (c->a[1])
        return gmem_copy_to(&job->vm.gm, c->a[1], ss, sizeof ss);
    return 0;
}

static int64_t rlimit_get_set(struct job *job, uint64_t res, uint64_t new_gva, uint64_t old_gva)
{
    if (res >= 16)
        return -EINVAL;
    uint64_t lim[2];
    if (new_gva) {
        int rc = gmem_copy_from(&job->vm.gm, lim, new_gva, sizeof lim);
        if (rc)
            return rc;
        if (lim[0] > lim[1])
            return -EINVAL;
        if (lim[1] > job->rlimits[res][1])
            return -EPERM; /* a job may lower its limits, never raise them */
    }
    if (old_gva) {
        int rc = gmem_copy_to(&job->vm.gm, old_gva, job->rlimits[res], sizeof lim);
        if (rc)
            return rc;
    }
    if (new_gva)
        memcpy(job->rlimits[res], lim, sizeof lim);
    return 0;
}

int64_t sys_prlimit64(struct job *job, struct sc_call *c)
{
    if (c->a[0] != 0 && c->a[0] != 1)
        return -ESRCH;
    return rlimit_get_set(job, c->a[1], c->a[2], c->a[3]);
}

int64_t sys_getrlimit(struct job *job, struct sc_call *c)
{
    return rlimit_get_set(job, c->a[0], 0, c->a[1]);
}

int64_t sys_enosys_quiet(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS;
}

/* A signal the job sends itself. Handlers are recorded but not run yet, so a signal whose
 * disposition is not "ignore" ends the job the way its default action would. */
static bool thread_by_tid(const struct job *job, uint64_t tid)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].state == VT_RUNNING && (uint64_t)job->threads[i].tid == tid)
            return true;
    return false;
}

static int64_t signal_self(struct job *job, const struct sc_call *c, uint64_t sig)
{
    if (sig > 64)
        return -EINVAL;
    if (sig == 0)
        return 0; /* existence check */
    const uint64_t ignored_by_default = (1ull << (SIGCHLD - 1)) | (1ull << (SIGURG - 1)) |
                                        (1ull << (SIGWINCH - 1)) | (1ull << (SIGCONT - 1));
    uint64_t handler = job->sig.action[sig - 1][0];
    if (sig != SIGKILL && sig != SIGSTOP &&
        (handler == (uint64_t)(uintptr_t)SIG_IGN ||
         (handler == (uint64_t)(uintptr_t)SIG_DFL && (ignored_by_default >> (sig - 1)) & 1)))
        return 0;
    if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
        return 0; /* nothing to stop the job for */
    char msg[200];
    snprintf(msg, sizeof msg, "job killed by %s: sent by the job to itself (%s) at rip 0x%llx",
             signal_name((int)sig), syscall_name(c->nr) ? syscall_name(c->nr) : "kill",
             (unsigned long long)c->user_rip);
    job_end(job, JOB_SIGNALED, 128 + (int)sig, (int)sig, msg);
    return SC_STOP;
}

int64_t sys_kill(struct job *job, struct sc_call *c)
{
    int64_t pid = (int64_t)c->a[0];
    if (pid != 1 && pid != 0 && pid != -1)
        return -ESRCH;
    return signal_self(job, c, c->a[1]);
}

int64_t sys_tkill(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[0] <= 0)
        return -EINVAL;
    if (!thread_by_tid(job, c->a[0]))
        return -ESRCH;
    return signal_self(job, c, c->a[1]);
}

int64_t sys_tgkill(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[0] <= 0 || (int64_t)c->a[1] <= 0)
        return -EINVAL;
    if (c->a[0] != 1 || !thread_by_tid(job, c->a[1]))
        return -ESRCH;
    return signal_self(job, c, c->a[2]);
}
