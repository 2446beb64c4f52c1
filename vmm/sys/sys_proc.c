/* Process-level syscalls: identity, process groups, uname, TLS, limits, randomness. */
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

