/* New processes: fork, vfork, clone of a process (a copy of the caller's address space); the release of an ended one. */
#include "vmm/sys/sys_fork.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

/* What a process clone may carry besides the exit signal. CLONE_VM only with CLONE_VFORK (the
 * caller waits; the child gets a copy all the same); CLONE_FILES, CLONE_FS and CLONE_SIGHAND
 * (tables shared between processes) are not supported. */
#define PROC_MAY (CLONE_VM | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT_SETTID | \
                  CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_SYSVSEM | CLONE_DETACHED)
#define PROC_NAMESPACES (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | \
                         CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

static int64_t refuse_proc(struct job *job, const struct sc_call *c, const char *why)
{
    job->stats.procs_refused++;
    job_count_denied(job, c->nr);
    log_debug("%s refused: %s (%u processes, max_processes %u)", syscall_name_any((unsigned)c->nr), why,
              job->procs_held, job->policy.max_processes);
    return -EAGAIN;
}

/* The address space of process slot k: its window (made at the first use of the slot, kept
 * for the next process there), its page tables built. 0 or -EAGAIN. */
static int space_take(struct job *job, unsigned k, struct proc *p)
{
    struct proc_space *sp = job->spaces[k];
    if (!sp) {
        sp = calloc(1, sizeof *sp);
        if (!sp)
            return -EAGAIN;
        int rc = vm_space_make(&job->vm, &sp->gm, &sp->pg, k);
        if (rc) {
            free(sp);
            return rc;
        }
        job->spaces[k] = sp;
    }
    if (vm_space_tables(&job->vm, &sp->gm, &sp->pg)) {
        vm_space_end(&sp->gm, &sp->pg, false);
        return -EAGAIN;
    }
    sp->in_use = true;
    p->space = k;
    p->gm = &sp->gm;
    p->pg = &sp->pg;
    return 0;
}

static void space_give_back(struct job *job, struct proc *p)
{
    struct proc_space *sp = job->spaces[p->space];
    if (!sp || !sp->in_use)
        return;
    vm_space_end(&sp->gm, &sp->pg, true); /* none of its threads is left */
    sp->in_use = false;
    atomic_fetch_add(&job->tlb_gen, 1); /* the tables' pages may serve another space next */
}

static void fork_audit(struct job *job, const struct sc_call *c, const struct proc *child)
{
    if (!job->audit)
        return;
    uint32_t ids[64];
    unsigned n = 0;
    for (unsigned fd = 0; fd < child->fds_max && n < 64; fd++)
        if (child->fds[fd].open)
            ids[n++] = job->caps->caps[child->fds[fd].cap].id;
    audit_proc(job, "fork", child->pid, child->ppid, c->nr, ids, n, 0);
}

/* Undo a child made up to its address space and descriptors. */
static void child_unmake(struct job *job, struct proc *child)
{
    proc_exe_put(child->exe);
    child->exe = NULL;
    fd_table_release(job, child);
    space_give_back(job, child);
    child->state = PROC_FREE;
}

int64_t proc_fork(struct job *job, struct sc_call *c, uint64_t flags, uint64_t newsp,
                  uint64_t ptid, uint64_t ctid, uint64_t tls)
{
    struct proc *parent = sc_proc(c);
    uint64_t csig = flags & 0xff;
    flags &= ~0xffull;
    if (flags & PROC_NAMESPACES)
        return -EPERM; /* as for a process without CAP_SYS_ADMIN */
    if ((flags & ~(uint64_t)PROC_MAY) || csig > 64 ||
        ((flags & CLONE_VM) && !(flags & CLONE_VFORK)))
        return -EINVAL;
    if ((flags & CLONE_SETTLS) && !gva_canonical_user(tls))
        return -EPERM;
    if ((flags & CLONE_PARENT_SETTID) && gpa_range_check(parent->gm, ptid, 4, GPERM_W, NULL))
        return -EFAULT;
    if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
        gpa_range_check(parent->gm, ctid, 4, GPERM_R, NULL))
        return -EFAULT; /* written in the child's copy, which has the parent's rights */
    if (job->procs_held >= job->policy.max_processes)
        return refuse_proc(job, c, "max_processes");
    if (job->threads_live >= job->policy.max_threads)
        return thread_refuse(job, c);
    unsigned k = 1;
    while (k < ISOVM_MAX_PROCS && job->procs[k].state != PROC_FREE)
        k++;
    struct vthread *t = k < ISOVM_MAX_PROCS ? thread_slot_find(job) : NULL;
    if (!t)
        return refuse_proc(job, c, "no free slot");
    struct proc *child = &job->procs[k];
    memset(child, 0, sizeof *child);
    int rc = space_take(job, k, child);
    if (rc)
        return refuse_proc(job, c, "no guest-physical room for another address space");
    child->state = PROC_LIVE; /* from here on child_unmake undoes it */
    if ((rc = gmem_space_copy(child->gm, parent->gm)) < 0) {
        child_unmake(job, child);
        job->stats.enomem_total++;
        return rc;
    }
    if ((rc = fd_table_fork(job, parent, child)) < 0) {
        child_unmake(job, child);
        return rc;
    }
    child->pid = job->next_tid + 1;
    child->ppid = parent->pid;
    child->pgid = parent->pgid;
    child->sid = parent->sid;
    child->exit_signal = (int)csig;
    child->brk_start = parent->brk_start;
    child->brk_cur = parent->brk_cur;
    child->mmap_top = parent->mmap_top;
    child->stack_lo = parent->stack_lo;
    child->stack_hi = parent->stack_hi;
    memcpy(child->cwd, parent->cwd, sizeof child->cwd);
    child->umask = parent->umask;
    child->sig = parent->sig;
    child->exe = proc_exe_get(parent->exe);
    uint64_t fs = (flags & CLONE_SETTLS) ? tls : c->self->fs_base;
    if ((rc = thread_like_caller(job, c, t, child, child->pid, newsp, fs)) < 0) {
        child_unmake(job, child);
        return rc;
    }
    job->next_tid++;
    t->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
    uint32_t pid32 = (uint32_t)child->pid;
    if (flags & CLONE_PARENT_SETTID)
        gmem_copy_to(parent->gm, ptid, &pid32, 4);
    if (flags & CLONE_CHILD_SETTID)
        gmem_copy_to(child->gm, ctid, &pid32, 4);
    if ((rc = job->thread_start(job, t)) < 0) {
        log_err("fork: cannot start a host thread: %s", strerror(-rc));
        t->proc = parent;
        child_unmake(job, child);
        return -EAGAIN;
    }
    job->procs_live++;
    job->procs_held++;
    job->stats.procs_created++;
    if (job->procs_held > job->stats.procs_peak)
        job->stats.procs_peak = job->procs_held;
    fork_audit(job, c, child);
    job_notify_supervisor(job);
    if (flags & CLONE_VFORK) {
        /* The caller waits until the child execs or ends (or this job or process does). */
        child->vfork_parent = c->self;
        while (child->vfork_parent == c->self && child->pid == (int)pid32 &&
               job_wait_until(job, c->self, mono_ns() + 1000000000ull) == 0)
            ;
        if (child->vfork_parent == c->self)
            child->vfork_parent = NULL;
    }
    return (int64_t)pid32;
}

void proc_vfork_release(struct job *job, struct proc *p)
{
    (void)job;
    struct vthread *waiter = p->vfork_parent;
    p->vfork_parent = NULL;
    if (waiter)
        pthread_cond_broadcast(&waiter->wake);
}

/* Does p take no notice of its children's ends (SIGCHLD ignored, or SA_NOCLDWAIT)? Then they
 * are reaped at once, as Linux does. */
static bool children_autoreaped(const struct proc *p)
{
    const uint64_t *a = p->sig.action[SIGCHLD - 1];
    return a[0] == (uint64_t)(uintptr_t)SIG_IGN || (a[1] & SA_NOCLDWAIT);
}

void proc_release(struct job *job, struct proc *p)
{
    if (p == &job->procs[0] || p->state != PROC_LIVE)
        return;
    if (!atomic_load(&p->killed)) /* cannot happen: its threads leave through proc_end */
        p->wait_status = proc_status_exited(p->leader_exit);
    fd_table_release(job, p);
    space_give_back(job, p);
    proc_vfork_release(job, p);
    proc_exe_put(p->exe);
    p->exe = NULL;
    p->state = PROC_ZOMBIE;
    job->procs_live--;
    audit_proc(job, "exit", p->pid, p->ppid, UINT64_MAX, NULL, 0, p->wait_status);
    for (unsigned i = 1; i < ISOVM_MAX_PROCS; i++) /* orphans go to the first process */
        if (job->procs[i].state != PROC_FREE && job->procs[i].ppid == p->pid)
            job->procs[i].ppid = job->procs[0].pid;
    struct proc *parent = proc_by_pid(job, p->ppid); /* live: a parent's end reparents */
    if (!parent || parent->state != PROC_LIVE || children_autoreaped(parent)) {
        p->state = PROC_FREE; /* nobody will wait for it */
        job->procs_held--;
    } else {
        proc_wake(job, parent, false); /* a wait4 looks again */
        if (p->exit_signal) { /* SIGCHLD, as the child asked (clone's low byte) */
            int st = p->wait_status, sig = st & 0x7f;
            struct sig_rec r = { .code = sig ? (st & 0x80 ? 3 : 2) : 1, .pid = p->pid,
                                 .status = sig ? sig : (st >> 8) & 0xff };
            sig_send(job, NULL, parent, NULL, p->exit_signal, &r);
        }
    }
    job_notify_supervisor(job);
}

int64_t sys_fork(struct job *job, struct sc_call *c)
{
    return proc_fork(job, c, SIGCHLD, 0, 0, 0, 0);
}

int64_t sys_vfork(struct job *job, struct sc_call *c)
{
    return proc_fork(job, c, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}
