/* Job threads: clone makes a thread backed by a new vCPU and host thread; exit ends one. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "vmm/sys/sys_fork.h"
#include "vmm/sys/sys_futex.h"
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/sys/sys.h"

/* The clone flags a thread must have, and the ones isovm accepts besides. */
#define THREAD_NEEDS (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND)
#define THREAD_MAY   (CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
                      CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)

struct vthread *thread_slot_find(struct job *job)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t->state == VT_FREE || t->state == VT_DONE) {
            if (t->host_started && !t->parked) {
                pthread_join(t->host, NULL); /* already past its last use of the lock */
                t->host_started = false;
            } /* a parked host thread runs the slot's next thread (vthread_start) */
            t->state = VT_FREE;
            return t;
        }
    }
    return NULL;
}

int thread_like_caller(struct job *job, const struct sc_call *c, struct vthread *t,
                       struct proc *p, int tid, uint64_t newsp, uint64_t fs)
{
    struct vthread *caller = c->self;
    if (t->vcpu.fd < 0 && vcpu_open(&job->vm, &t->vcpu, t->vcpu.index) < 0) {
        vcpu_destroy(&job->vm, &t->vcpu);
        return -EAGAIN;
    }
    /* It resumes where the caller's syscall returns, with the caller's registers except
     * rax = 0 and the new stack. */
    struct kvm_regs regs;
    struct kvm_fpu fpu;
    if (ioctl(caller->vcpu.fd, KVM_GET_REGS, &regs) < 0 ||
        ioctl(caller->vcpu.fd, KVM_GET_FPU, &fpu) < 0) {
        log_err("%s: cannot read the calling vCPU: %s", syscall_name_any((unsigned)c->nr),
                strerror(errno));
        return -EAGAIN;
    }
    regs.rax = 0;
    regs.rcx = c->user_rip;
    regs.rdx = c->a[2]; /* the firmware's `out` used rdx; this is the value the job had */
    if (newsp)
        regs.rsp = newsp;
    if (vcpu_setup(&job->vm, &t->vcpu, &regs, fs, &fpu, p->pg->pml4_gpa) < 0)
        return -EAGAIN;
    t->tid = tid;
    t->proc = p;
    atomic_store(&t->killed, false);
    t->fs_base = fs;
    t->sig_blocked = caller->sig_blocked;
    /* nothing pending for it (a reused slot keeps its last thread's); a fork's child has its
     * parent's alternate stack, a new thread none (Linux's) */
    t->sig_pending = 0;
    memset(t->sig_rec, 0, sizeof t->sig_rec);
    t->sig_restore_mask = false;
    t->sig_saved_mask = 0;
    t->sig_waiting = 0;
    t->sig_seen_ns = 0;
    t->altstack = p == caller->proc ? (struct sig_altstack){ .flags = 2 /* SS_DISABLE */ }
                                    : caller->altstack;
    memcpy(t->comm, caller->comm, sizeof t->comm);
    t->clear_child_tid = 0;
    t->robust_list = t->robust_len = 0;
    t->futex_waiting = t->futex_woken = false;
    /* A reused vCPU may hold stale translations (KVM need not flush when the CR3 it is given
     * is the value it had): flush at its first entry. */
    t->tlb_gen = 0;
    return 0;
}

int64_t thread_refuse(struct job *job, const struct sc_call *c)
{
    job->stats.threads_refused++;
    job_count_denied(job, c->nr);
    log_debug("clone refused: %u threads running, max_threads %u", job->threads_live,
              job->policy.max_threads);
    return -EAGAIN;
}

/* clone(flags, newsp, parent_tid, child_tid, tls): threads only. */
int64_t sys_clone(struct job *job, struct sc_call *c)
{
    struct vthread *parent = c->self;
    uint64_t flags = c->a[0], newsp = c->a[1], ptid = c->a[2], ctid = c->a[3], tls = c->a[4];
    uint64_t csig = flags & 0xff;
    flags &= ~0xffull;
    if (!(flags & CLONE_THREAD))
        return proc_fork(job, c, c->a[0], newsp, ptid, ctid, tls); /* a new process */
    if ((flags & THREAD_NEEDS) != THREAD_NEEDS || flags & ~(uint64_t)(THREAD_NEEDS | THREAD_MAY) ||
        csig)
        return -EINVAL;
    if ((flags & CLONE_SETTLS) && !gva_canonical_user(tls))
        return -EPERM;
    /* Check every pointer the kernel would write before creating anything. */
    if ((flags & CLONE_PARENT_SETTID) && gpa_range_check(sc_gm(c), ptid, 4, GPERM_W, NULL))
        return -EFAULT;
    if ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
        gpa_range_check(sc_gm(c), ctid, 4, GPERM_W, NULL))
        return -EFAULT;
    if (job->threads_live >= job->policy.max_threads)
        return thread_refuse(job, c);
    struct vthread *t = thread_slot_find(job);
    if (!t)
        return thread_refuse(job, c);
    int rc;
    uint64_t fs = (flags & CLONE_SETTLS) ? tls : parent->fs_base;
    if ((rc = thread_like_caller(job, c, t, parent->proc, job->next_tid + 1, newsp, fs)) < 0)
        return rc;
    int tid = ++job->next_tid;
    t->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
    uint32_t tid32 = (uint32_t)tid;
    if (flags & CLONE_PARENT_SETTID)
        gmem_copy_to(sc_gm(c), ptid, &tid32, 4);
    if (flags & CLONE_CHILD_SETTID)
        gmem_copy_to(sc_gm(c), ctid, &tid32, 4);
    if ((rc = job->thread_start(job, t)) < 0) {
        log_err("clone: cannot start a host thread: %s", strerror(-rc));
        return -EAGAIN;
    }
    job_notify_supervisor(job);
    return tid;
}

int64_t sys_exit(struct job *job, struct sc_call *c)
{
    struct vthread *t = c->self;
    if (t->clear_child_tid) {
        uint32_t zero = 0;
        if (gmem_copy_to(sc_gm(c), t->clear_child_tid, &zero, 4) == 0)
            futex_wake_addr(job, t->proc, t->clear_child_tid, 1, FUTEX_BITSET_ANY);
    }
    struct proc *p = t->proc;
    t->state = VT_EXITING;
    job->threads_live--;
    p->threads_live--;
    if (t->tid == p->pid)
        p->leader_exit = (int)(c->a[0] & 0xff);
    /* As on Linux, a process whose threads all called exit ends with its first thread's
     * status (the first process's: the job's). */
    if (p->threads_live == 0)
        proc_end(job, p, proc_status_exited(p->leader_exit), NULL);
    return SC_STOP;
}

int64_t sys_exit_group(struct job *job, struct sc_call *c)
{
    proc_end(job, sc_proc(c), proc_status_exited((int)(c->a[0] & 0xff)), NULL);
    return SC_STOP;
}

int64_t sys_gettid(struct job *job, struct sc_call *c)
{
    (void)job;
    return c->self->tid;
}

int64_t sys_set_tid_address(struct job *job, struct sc_call *c)
{
    (void)job;
    c->self->clear_child_tid = c->a[0];
    return c->self->tid;
}

int64_t sys_sched_yield(struct job *job, struct sc_call *c)
{
    (void)c;
    pthread_mutex_unlock(&job->lock);
    sched_yield();
    pthread_mutex_lock(&job->lock);
    return 0;
}
