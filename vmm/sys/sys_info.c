/* What a job may ask of its machine and tell it: sysinfo, CPU affinity, prctl (names, flags), memory locks, umask. */
#include <errno.h>
#include <linux/prctl.h>
#include <stdint.h>
#include <string.h>
#include <sys/sysinfo.h>
#include "firmware/abi.h"
#include "lib/clock.h"
#include "vmm/sys/sys.h"

/* sysinfo: the job's own machine. RAM is its memory limit, free what its pages do not use; no
 * swap; the uptime is the job's; procs its live threads; loads 0. */
int64_t sys_sysinfo(struct job *job, struct sc_call *c)
{
    struct sysinfo si;
    memset(&si, 0, sizeof si);
    uint64_t now = mono_ns();
    si.uptime = (long)((now > job->start_ns ? now - job->start_ns : 0) / 1000000000ull);
    uint64_t total = job->policy.memory_bytes;
    uint64_t used = ISOVM_USER_MIN_GPA + /* the firmware's, then the frames in use */
                    (sc_gm(c)->frames_given + sc_gm(c)->frames_tables) * (uint64_t)ISOVM_PAGE_SIZE;
    si.totalram = total;
    si.freeram = used < total ? total - used : 0;
    si.procs = (unsigned short)(job->threads_live ? job->threads_live : 1);
    si.mem_unit = 1;
    return gmem_copy_to(sc_gm(c), c->a[0], &si, sizeof si);
}

/* The CPUs a job's thread may run on: one per vCPU the job may have at once (its max_threads,
 * at most ISOVM_MAX_VCPUS): 0..n-1. Every thread of a job has the same. */
static unsigned job_cpus(const struct job *job)
{
    unsigned n = job->policy.max_threads;
    return n < 1 ? 1 : n > ISOVM_MAX_VCPUS ? ISOVM_MAX_VCPUS : n;
}

/* sched_getaffinity(pid, len, mask): pid 0 or one of the job's tids... the job's only process:
 * 0 and its own tids are the caller's view; any other pid ESRCH. Returns the bytes written (a
 * multiple of 8, as Linux: len must hold the kernel's mask, here 8 bytes). */
static int affinity_pid_check(const struct job *job, uint64_t pid)
{
    if (pid == 0)
        return 0;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].tid && (uint64_t)job->threads[i].tid == pid &&
            job->threads[i].state != VT_FREE)
            return 0;
    return -ESRCH;
}

int64_t sys_sched_getaffinity(struct job *job, struct sc_call *c)
{
    int rc = affinity_pid_check(job, c->a[0]);
    if (rc)
        return rc;
    uint64_t len = c->a[1];
    if (len < sizeof(uint64_t) || (len & (sizeof(uint64_t) - 1)))
        return -EINVAL;
    unsigned n = job_cpus(job);
    uint64_t mask = n >= 64 ? UINT64_MAX : (1ull << n) - 1;
    rc = gmem_copy_to(sc_gm(c), c->a[2], &mask, sizeof mask);
    return rc ? rc : (int64_t)sizeof mask;
}

/* sched_setaffinity: accepted when the mask names one of the job's CPUs (no effect: the host
 * schedules the vCPU threads); EINVAL when it names none, as Linux. */
int64_t sys_sched_setaffinity(struct job *job, struct sc_call *c)
{
    int rc = affinity_pid_check(job, c->a[0]);
    if (rc)
        return rc;
    uint64_t len = c->a[1], mask = 0;
    if (len == 0)
        return -EINVAL;
    if ((rc = gmem_copy_from(sc_gm(c), &mask, c->a[2], len < sizeof mask ? len : sizeof mask)))
        return rc;
    unsigned n = job_cpus(job);
    uint64_t ours = n >= 64 ? UINT64_MAX : (1ull << n) - 1;
    return (mask & ours) ? 0 : -EINVAL;
}

/* prctl: the calls real programs make of it. PR_SET_NAME / PR_GET_NAME (16 bytes, per thread);
 * PR_SET_PDEATHSIG / PR_GET_PDEATHSIG (recorded: the job's first process has no parent in it);
 * PR_SET_NO_NEW_PRIVS (1 only) / PR_GET_NO_NEW_PRIVS (always 1: a job gains nothing by exec);
 * PR_SET_DUMPABLE (0 or 1) / PR_GET_DUMPABLE; PR_GET_SECCOMP (0: the job sees no filter of its
 * own); PR_SET_TIMERSLACK / PR_GET_TIMERSLACK (recorded); PR_CAPBSET_READ (0: no capability);
 * PR_SET_CHILD_SUBREAPER / PR_GET_CHILD_SUBREAPER (recorded). Anything else EINVAL, as Linux for an
 * unknown option. */
int64_t sys_prctl(struct job *job, struct sc_call *c)
{
    struct vthread *t = c->self;
    struct guest_mem *gm = sc_gm(c);
    switch (c->a[0]) {
    case PR_SET_NAME: {
        char name[16];
        memset(name, 0, sizeof name);
        for (unsigned i = 0; i < sizeof name - 1; i++) { /* up to 15 bytes or the NUL */
            int rc = gmem_copy_from(gm, &name[i], c->a[1] + i, 1);
            if (rc)
                return rc;
            if (!name[i])
                break;
        }
        memcpy(t->comm, name, sizeof name);
        return 0;
    }
    case PR_GET_NAME: {
        char name[16];
        memset(name, 0, sizeof name);
        memcpy(name, t->comm, sizeof name - 1);
        return gmem_copy_to(gm, c->a[1], name, sizeof name);
    }
    case PR_SET_PDEATHSIG:
        if (c->a[1] > 64)
            return -EINVAL;
        sc_proc(c)->pdeathsig = (int)c->a[1];
        return 0;
    case PR_GET_PDEATHSIG: {
        int32_t sig = sc_proc(c)->pdeathsig;
        return gmem_copy_to(gm, c->a[1], &sig, sizeof sig);
    }
    case PR_SET_NO_NEW_PRIVS:
        return c->a[1] == 1 && !c->a[2] && !c->a[3] && !c->a[4] ? 0 : -EINVAL;
    case PR_GET_NO_NEW_PRIVS:
        return c->a[1] || c->a[2] || c->a[3] || c->a[4] ? -EINVAL : 1;
    case PR_SET_DUMPABLE:
        if (c->a[1] > 1)
            return -EINVAL;
        job->not_dumpable = c->a[1] == 0;
        return 0;
    case PR_GET_DUMPABLE:
        return job->not_dumpable ? 0 : 1;
    case PR_GET_SECCOMP:
        return 0;
    case PR_SET_TIMERSLACK:
        job->timerslack_ns = c->a[1] ? c->a[1] : 50000;
        return 0;
    case PR_GET_TIMERSLACK:
        return (int64_t)(job->timerslack_ns ? job->timerslack_ns : 50000);
    case PR_CAPBSET_READ:
        return c->a[1] > 63 ? -EINVAL : 0;
    case PR_SET_CHILD_SUBREAPER:
        job->child_subreaper = c->a[1] != 0;
        return 0;
    case PR_GET_CHILD_SUBREAPER: {
        int32_t v = job->child_subreaper;
        return gmem_copy_to(gm, c->a[1], &v, sizeof v);
    }
    default:
        return -EINVAL;
    }
}

/* mlock, mlock2, munlock: the range must be the job's mapped memory (ENOMEM otherwise, as
 * Linux); nothing to do on the host (guest RAM is the job's already, counted in its memory
 * limit). mlockall (MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT) and munlockall: accepted. */
static int64_t lock_range(struct job *job, const struct sc_call *c, uint64_t addr, uint64_t len)
{
    (void)job;
    uint64_t pg = ISOVM_PAGE_SIZE, lo = addr & ~(pg - 1), end;
    if (__builtin_add_overflow(addr, len, &end) || end > UINT64_MAX - pg)
        return -ENOMEM;
    end = (end + pg - 1) & ~(pg - 1);
    if (end == lo)
        return 0;
    void *host;
    if (gpa_range_check(sc_gm(c), lo, end - lo, GPERM_R, &host))
        return -ENOMEM;
    /* as Linux faults locked pages in: given now, counted against the limit */
    return gmem_give_range(sc_gm(c), lo, end - lo) ? -EAGAIN : 0;
}

int64_t sys_mlock(struct job *job, struct sc_call *c) { return lock_range(job, c, c->a[0], c->a[1]); }

int64_t sys_mlock2(struct job *job, struct sc_call *c)
{
    if (c->a[2] & ~(uint64_t)1) /* MLOCK_ONFAULT */
        return -EINVAL;
    return lock_range(job, c, c->a[0], c->a[1]);
}

int64_t sys_munlock(struct job *job, struct sc_call *c) { return lock_range(job, c, c->a[0], c->a[1]); }

int64_t sys_mlockall(struct job *job, struct sc_call *c)
{
    (void)job;
    uint64_t f = c->a[0];
    if (!f || (f & ~(uint64_t)7) || f == 4) /* MCL_ONFAULT alone */
        return -EINVAL;
    return 0;
}

int64_t sys_munlockall(struct job *job, struct sc_call *c)
{
    (void)job, (void)c;
    return 0;
}

/* umask: the job's own, applied to every file and directory it creates (the VMM's process umask
 * is 0 while the job runs: launch.c), 022 at first. */
int64_t sys_umask(struct job *job, struct sc_call *c)
{
    (void)job;
    unsigned old = sc_proc(c)->umask;
    sc_proc(c)->umask = (unsigned)(c->a[0] & 0777);
    return old;
}
