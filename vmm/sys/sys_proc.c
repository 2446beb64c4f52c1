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
    (void)job;
    switch (c->a[0]) {
    case ARCH_SET_FS:
        if (!gva_canonical_user(c->a[1]))
            return -EPERM;
        c->self->fs_base = c->a[1];
        c->fs_base = c->a[1];
        c->action |= ISOVM_ACT_SET_FS;
        return 0;
    case ARCH_GET_FS:
        return gmem_copy_to(sc_gm(c), c->a[1], &c->self->fs_base, sizeof c->self->fs_base);
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
    (void)job;
    struct utsname u;
    memset(&u, 0, sizeof u);
    strcpy(u.sysname, "Linux");
    strcpy(u.nodename, "isovm");
    strcpy(u.release, "6.1.0-isovm");
    strcpy(u.version, "#1 SMP isovm");
    strcpy(u.machine, "x86_64");
    strcpy(u.domainname, "(none)");
    return gmem_copy_to(sc_gm(c), c->a[0], &u, sizeof u);
}

int64_t sys_getpid(struct job *job, struct sc_call *c)
{
    (void)job;
    return sc_proc(c)->pid;
}

int64_t sys_getppid(struct job *job, struct sc_call *c)
{
    (void)job;
    return sc_proc(c) == &job->procs[0] ? 0 : sc_proc(c)->ppid; /* the first: as PID 1's */
}

/* The process a pid argument names: 0 the caller, else a live or zombie one (NULL: none). */
static struct proc *proc_arg(struct job *job, const struct sc_call *c, int64_t pid)
{
    if (pid == 0)
        return sc_proc(c);
    if (pid < 0 || pid > INT32_MAX)
        return NULL;
    return proc_by_pid(job, (int)pid);
}

int64_t sys_setpgid(struct job *job, struct sc_call *c)
{
    int64_t pid = (int32_t)c->a[0], pgid = (int32_t)c->a[1];
    struct proc *self = sc_proc(c), *p = proc_arg(job, c, pid);
    if (pgid < 0)
        return -EINVAL;
    if (!p || (p != self && p->ppid != self->pid))
        return -ESRCH; /* only the caller or its children */
    if (p->sid == p->pid || p->sid != self->sid)
        return -EPERM; /* a session leader, or a child in another session */
    if (pgid == 0)
        pgid = p->pid;
    if (pgid != p->pid) { /* joining a group: it must exist in the same session */
        bool found = false;
        for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++)
            found |= job->procs[i].state == PROC_LIVE && job->procs[i].pgid == pgid &&
                     job->procs[i].sid == self->sid;
        if (!found)
            return -EPERM;
    }
    p->pgid = (int)pgid;
    return 0;
}

int64_t sys_getpgid(struct job *job, struct sc_call *c)
{
    struct proc *p = proc_arg(job, c, (int32_t)c->a[0]);
    return p ? p->pgid : -ESRCH;
}

int64_t sys_getpgrp(struct job *job, struct sc_call *c)
{
    (void)job;
    return sc_proc(c)->pgid;
}

int64_t sys_setsid(struct job *job, struct sc_call *c)
{
    struct proc *self = sc_proc(c);
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++)
        if (job->procs[i].state != PROC_FREE && job->procs[i].pgid == self->pid)
            return -EPERM; /* a group leader, or its pid names a group */
    self->sid = self->pgid = self->pid;
    return self->sid;
}

int64_t sys_getsid(struct job *job, struct sc_call *c)
{
    struct proc *p = proc_arg(job, c, (int32_t)c->a[0]);
    return p ? p->sid : -ESRCH;
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
    int rc = gpa_range_check(sc_gm(c), c->a[0], len, GPERM_W, &buf);
    if (rc)
        return rc;
    /* the host's randomness, or the seeded stream of a deterministic job */
    rc = job_random_bytes(job, buf, len);
    return rc ? rc : (int64_t)len;
}

int64_t sys_rt_sigaction(struct job *job, struct sc_call *c)
{
    (void)job;
    uint64_t sig = c->a[0];
    if (c->a[3] != 8 || sig < 1 || sig > 64)
        return -EINVAL;
    if (c->a[1] && (sig == SIGKILL || sig == SIGSTOP))
        return -EINVAL;
    uint64_t act[4];
    if (c->a[1]) {
        int rc = gmem_copy_from(sc_gm(c), act, c->a[1], sizeof act);
        if (rc)
            return rc;
    }
    if (c->a[2]) {
        int rc = gmem_copy_to(sc_gm(c), c->a[2], sc_proc(c)->sig.action[sig - 1], sizeof act);
        if (rc)
            return rc;
    }
    if (c->a[1])
        memcpy(sc_proc(c)->sig.action[sig - 1], act, sizeof act); /* recorded; not delivered yet */
    return 0;
}

int64_t sys_rt_sigprocmask(struct job *job, struct sc_call *c)
{
    (void)job;
    uint64_t how = c->a[0], set;
    if (c->a[3] != 8)
        return -EINVAL;
    if (c->a[1]) {
        if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK)
            return -EINVAL;
        int rc = gmem_copy_from(sc_gm(c), &set, c->a[1], sizeof set);
        if (rc)
            return rc;
    }
    if (c->a[2]) {
        int rc = gmem_copy_to(sc_gm(c), c->a[2], &c->self->sig_blocked, sizeof set);
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
    (void)job;
    uint64_t ss[3] = { 0, 2 /* SS_DISABLE */, 0 };
    if (c->a[0]) {
        uint64_t in[3];
        int rc = gmem_copy_from(sc_gm(c), in, c->a[0], sizeof in);
        if (rc)
            return rc;
    }
    if (c->a[1])
        return gmem_copy_to(sc_gm(c), c->a[1], ss, sizeof ss);
    return 0;
}

static int64_t rlimit_get_set(struct job *job, const struct sc_call *c, uint64_t res, uint64_t new_gva, uint64_t old_gva)
{
    if (res >= 16)
        return -EINVAL;
    uint64_t lim[2];
    if (new_gva) {
        int rc = gmem_copy_from(sc_gm(c), lim, new_gva, sizeof lim);
        if (rc)
            return rc;
        if (lim[0] > lim[1])
            return -EINVAL;
        if (lim[1] > job->rlimits[res][1])
            return -EPERM; /* a job may lower its limits, never raise them */
    }
    if (old_gva) {
        int rc = gmem_copy_to(sc_gm(c), old_gva, job->rlimits[res], sizeof lim);
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
    return rlimit_get_set(job, c, c->a[1], c->a[2], c->a[3]);
}

int64_t sys_getrlimit(struct job *job, struct sc_call *c)
{
    return rlimit_get_set(job, c, c->a[0], 0, c->a[1]);
}

int64_t sys_enosys_quiet(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return -ENOSYS;
}

/* Signals between the job's processes and threads. Handlers are recorded but not run yet, so a
 * signal whose disposition is not "ignore" ends the receiving process the way its default
 * action would (the first process's end is the job's). */
static const struct vthread *thread_by_tid(const struct job *job, uint64_t tid)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].state == VT_RUNNING && (uint64_t)job->threads[i].tid == tid)
            return &job->threads[i];
    return NULL;
}

/* Does sig end p? Not when p ignores it (by its action or by default) or it would stop p. */
static bool signal_ends(const struct proc *p, uint64_t sig)
{
    const uint64_t ignored_by_default = (1ull << (SIGCHLD - 1)) | (1ull << (SIGURG - 1)) |
                                        (1ull << (SIGWINCH - 1)) | (1ull << (SIGCONT - 1));
    uint64_t handler = p->sig.action[sig - 1][0];
    if (sig != SIGKILL && sig != SIGSTOP &&
        (handler == (uint64_t)(uintptr_t)SIG_IGN ||
         (handler == (uint64_t)(uintptr_t)SIG_DFL && (ignored_by_default >> (sig - 1)) & 1)))
        return false;
    return !(sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU);
}

/* sig (1..64) from the caller to live process p: SC_STOP when the caller's own process ends. */
int64_t sys_signal_proc(struct job *job, const struct sc_call *c, struct proc *p,
                           uint64_t sig)
{
    if (p->state != PROC_LIVE || !signal_ends(p, sig))
        return 0;
    char msg[200];
    const char *call = syscall_name(c->nr) ? syscall_name(c->nr) : "kill";
    if (p == sc_proc(c))
        snprintf(msg, sizeof msg, "job killed by %s: sent by the job to itself (%s) at rip 0x%llx",
                 signal_name((int)sig), call, (unsigned long long)c->user_rip);
    else
        snprintf(msg, sizeof msg, "job killed by %s: sent by its process %d (%s)",
                 signal_name((int)sig), sc_proc(c)->pid, call);
    proc_end(job, p, proc_status_signaled((int)sig), msg);
    return p == sc_proc(c) || atomic_load(&job->stop) ? SC_STOP : 0;
}

int64_t sys_kill(struct job *job, struct sc_call *c)
{
    int64_t pid = (int32_t)c->a[0];
    uint64_t sig = c->a[1];
    if (sig > 64)
        return -EINVAL;
    if (pid > 0) {
        struct proc *p = proc_by_pid(job, (int)pid);
        if (!p)
            return -ESRCH;
        return sig ? sys_signal_proc(job, c, p, sig) : 0;
    }
    /* a group (0: the caller's), or -1: every process but the first and the caller (Linux) */
    int group = pid == 0 ? sc_proc(c)->pgid : (int)-pid;
    bool found = false, self = false;
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++) {
        struct proc *p = &job->procs[i];
        if (p->state != PROC_LIVE || (pid == -1 ? i == 0 || p == sc_proc(c) : p->pgid != group))
            continue;
        found = true;
        if (p == sc_proc(c)) {
            self = true; /* last: the caller's own end stops it */
            continue;
        }
        if (sig && sys_signal_proc(job, c, p, sig) == SC_STOP)
            return SC_STOP;
    }
    if (self && sig)
        return sys_signal_proc(job, c, sc_proc(c), sig);
    return found || self ? 0 : -ESRCH;
}

int64_t sys_tkill(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[0] <= 0)
        return -EINVAL;
    const struct vthread *t = thread_by_tid(job, c->a[0]);
    if (!t)
        return -ESRCH;
    if (c->a[1] > 64)
        return -EINVAL;
    return c->a[1] ? sys_signal_proc(job, c, t->proc, c->a[1]) : 0;
}

int64_t sys_tgkill(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[0] <= 0 || (int64_t)c->a[1] <= 0)
        return -EINVAL;
    const struct vthread *t = thread_by_tid(job, c->a[1]);
    if (!t || (uint64_t)t->proc->pid != c->a[0])
        return -ESRCH;
    if (c->a[2] > 64)
        return -EINVAL;
    return c->a[2] ? sys_signal_proc(job, c, t->proc, c->a[2]) : 0;
}
