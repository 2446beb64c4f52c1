/* Signals: actions, masks, sending between the job's processes and threads, delivery to handlers on a Linux frame, rt_sigreturn. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "lib/log.h"
#include "lib/syscall_names.h"
#include "vmm/core/fault.h"
#include "vmm/core/sigframe.h"
#include "vmm/sys/sys.h"

#define BIT(sig)      (1ull << ((sig) - 1))
#define UNBLOCKABLE   (BIT(SIGKILL) | BIT(SIGSTOP))
#define K_SA_RESTORER 0x04000000ull
#define SS_ONSTACK_F  1
#define SS_DISABLE_F  2
#define SS_AUTODISARM_F (1u << 31)
#define MINSIGSTKSZ_K 2048
#define SI_USER_K     0
#define SI_TKILL_K    (-6)

enum sig_default { DFL_TERM, DFL_CORE, DFL_IGNORE, DFL_STOP };

static enum sig_default sig_default_of(int sig)
{
    switch (sig) {
    case SIGCHLD: case SIGURG: case SIGWINCH: case SIGCONT:
        return DFL_IGNORE;
    case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
        return DFL_STOP; /* no job control: taken as ignored */
    case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
    case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
        return DFL_CORE;
    default:
        return DFL_TERM;
    }
}

static uint64_t handler_of(const struct proc *p, int sig) { return p->sig.action[sig - 1][0]; }

/* Is sig ignored by p (its action, or its default's)? SIGKILL never is. */
static bool sig_ignored(const struct proc *p, int sig)
{
    uint64_t h = handler_of(p, sig);
    if (sig == SIGKILL)
        return false;
    if (h == (uint64_t)(uintptr_t)SIG_IGN)
        return true;
    enum sig_default d = sig_default_of(sig);
    return h == (uint64_t)(uintptr_t)SIG_DFL && (d == DFL_IGNORE || d == DFL_STOP);
}

/* Does t take a signal (bit) sent to its process: it does not block it, or it waits for it in
 * rt_sigtimedwait. */
static bool takes(const struct vthread *t, uint64_t bit)
{
    return !(t->sig_blocked & bit) || (t->sig_waiting & bit);
}

static void thread_wake(struct vthread *t)
{
    pthread_cond_broadcast(&t->wake);
    if (t != job_current_thread && t->host_started && t->state == VT_RUNNING)
        pthread_kill(t->host, SIGUSR1); /* out of the guest or a host call: it takes it */
}

/* The thread a signal to p goes through when none is named: its first live thread (Linux's
 * group leader); NULL when it has none. */
static const struct vthread *first_thread(const struct job *job, const struct proc *p)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].proc == p && job->threads[i].state == VT_RUNNING)
            return &job->threads[i];
    return NULL;
}

/* sig (1..64) to process p, or to its thread t (NULL: any thread of p that does not block it),
 * from the calling job thread's call c (NULL: from isovm, a child's end). A signal p ignores
 * goes, unless the thread it is sent through blocks it (it is pending then, as on Linux, and
 * goes when taken if still ignored); SIGKILL, and a signal whose default action ends p while
 * some thread would take it, end p at once (the first process's end is the job's); any other
 * is pending until a thread takes it (sig_deliver_*). SC_STOP when the caller's own process
 * ended, else 0. */
int64_t sig_send(struct job *job, const struct sc_call *c, struct proc *p, struct vthread *t,
                 int sig, const struct sig_rec *r)
{
    if (p->state != PROC_LIVE || atomic_load(&p->killed))
        return 0;
    uint64_t bit = BIT(sig);
    if (sig_ignored(p, sig)) { /* goes, unless blocked: the action may change meanwhile */
        const struct vthread *via = t ? t : first_thread(job, p);
        if (!via || !((via->sig_blocked | via->sig_waiting) & bit))
            return 0;
    }
    if (!t) { /* a process's signal: the caller if it is of p and takes it, else the first */
        if (c && c->self->proc == p && takes(c->self, bit)) {
            t = c->self;
        } else {
            for (unsigned i = 0; i < ISOVM_MAX_VCPUS && !t; i++) {
                struct vthread *u = &job->threads[i];
                if (u->proc == p && u->state == VT_RUNNING && takes(u, bit))
                    t = u;
            }
        }
    }
    bool dfl = handler_of(p, sig) == (uint64_t)(uintptr_t)SIG_DFL;
    if (sig == SIGKILL || (dfl && t && !(t->sig_blocked & bit) && !sig_ignored(p, sig))) {
        char msg[200];
        const char *call = c && syscall_name(c->nr) ? syscall_name(c->nr) : "kill";
        if (c && p == sc_proc(c))
            snprintf(msg, sizeof msg, "job killed by %s: sent by the job to itself (%s) at rip "
                     "0x%llx", signal_name(sig), call, (unsigned long long)c->user_rip);
        else if (c)
            snprintf(msg, sizeof msg, "job killed by %s: sent by its process %d (%s)",
                     signal_name(sig), sc_proc(c)->pid, call);
        else if (r->code == SIG_SI_TIMER || r->code == SIG_SI_KERNEL)
            snprintf(msg, sizeof msg, "job killed by %s: a timer of its own expired (%s)",
                     signal_name(sig), r->code == SIG_SI_TIMER ? "timer_create" :
                     sig == SIGALRM ? "alarm or setitimer" : "setitimer");
        else
            snprintf(msg, sizeof msg, "job killed by %s", signal_name(sig));
        proc_end(job, p, proc_status_signaled(sig), msg);
        return (c && p == sc_proc(c)) || atomic_load(&job->stop) ? SC_STOP : 0;
    }
    if (t) {
        t->sig_pending |= bit;
        t->sig_rec[sig - 1] = *r;
        thread_wake(t);
        if (job->supervisor_wake_ns > mono_ns() + SIG_REKICK_NS)
            job_notify_supervisor(job); /* to kick it again should this kick be missed */
    } else { /* every thread blocks it: the first to unblock it takes it */
        p->sig_pending |= bit;
        p->sig_rec[sig - 1] = *r;
    }
    return 0;
}

/* The sender's record for kill-like calls. */
static struct sig_rec sender_rec(const struct sc_call *c, int32_t code)
{
    return (struct sig_rec){ .code = code, .pid = sc_proc(c)->pid };
}

/* A write to a pipe with no reader: SIGPIPE to the writing thread, then EPIPE. */
int64_t sys_pipe_broken(struct job *job, struct sc_call *c)
{
    struct sig_rec r = { .code = SI_USER_K, .pid = sc_proc(c)->pid };
    return sig_send(job, c, sc_proc(c), c->self, SIGPIPE, &r) == SC_STOP ? SC_STOP : -EPIPE;
}

int64_t sys_kill(struct job *job, struct sc_call *c)
{
    int64_t pid = (int32_t)c->a[0];
    uint64_t sig = c->a[1];
    if (sig > 64)
        return -EINVAL;
    struct sig_rec r = sender_rec(c, SI_USER_K);
    if (pid > 0) {
        struct proc *p = proc_by_pid(job, (int)pid);
        if (!p)
            return -ESRCH;
        return sig ? sig_send(job, c, p, NULL, (int)sig, &r) : 0;
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
        if (sig && sig_send(job, c, p, NULL, (int)sig, &r) == SC_STOP)
            return SC_STOP;
    }
    if (self && sig)
        return sig_send(job, c, sc_proc(c), NULL, (int)sig, &r);
    return found || self ? 0 : -ESRCH;
}

static struct vthread *thread_by_tid(struct job *job, uint64_t tid)
{
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
        if (job->threads[i].state == VT_RUNNING && (uint64_t)job->threads[i].tid == tid)
            return &job->threads[i];
    return NULL;
}

static int64_t thread_kill(struct job *job, struct sc_call *c, int64_t tgid, uint64_t tid,
                           uint64_t sig)
{
    if ((int64_t)tid <= 0 || tgid == 0 || tgid < -1)
        return -EINVAL;
    struct vthread *t = thread_by_tid(job, tid);
    if (!t || (tgid > 0 && t->proc->pid != tgid))
        return -ESRCH;
    if (sig > 64)
        return -EINVAL;
    struct sig_rec r = sender_rec(c, SI_TKILL_K);
    return sig ? sig_send(job, c, t->proc, t, (int)sig, &r) : 0;
}

int64_t sys_tkill(struct job *job, struct sc_call *c) { return thread_kill(job, c, -1, c->a[0], c->a[1]); }

int64_t sys_tgkill(struct job *job, struct sc_call *c)
{
    if ((int64_t)c->a[0] <= 0)
        return -EINVAL;
    return thread_kill(job, c, (int64_t)c->a[0], c->a[1], c->a[2]);
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
    struct proc *p = sc_proc(c);
    if (c->a[2]) {
        int rc = gmem_copy_to(sc_gm(c), c->a[2], p->sig.action[sig - 1], sizeof act);
        if (rc)
            return rc;
    }
    if (c->a[1]) {
        act[3] &= ~UNBLOCKABLE;
        memcpy(p->sig.action[sig - 1], act, sizeof act);
        if (sig_ignored(p, (int)sig)) { /* pending ones go, as Linux drops them */
            p->sig_pending &= ~BIT(sig);
            for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++)
                if (job->threads[i].proc == p)
                    job->threads[i].sig_pending &= ~BIT(sig);
        }
    }
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
    if (c->a[1]) { /* a signal it unblocks that is pending runs at this call's end */
        if (how == SIG_BLOCK)
            c->self->sig_blocked |= set;
        else if (how == SIG_UNBLOCK)
            c->self->sig_blocked &= ~set;
        else
            c->self->sig_blocked = set;
        c->self->sig_blocked &= ~UNBLOCKABLE;
    }
    return 0;
}

int64_t sys_rt_sigpending(struct job *job, struct sc_call *c)
{
    (void)job;
    if (c->a[1] > 8)
        return -EINVAL;
    uint64_t set = (c->self->sig_pending | sc_proc(c)->sig_pending) & c->self->sig_blocked;
    return gmem_copy_to(sc_gm(c), c->a[0], &set, c->a[1]);
}

/* sigaltstack(ss, old_ss): stack_t is { sp, flags (int), size }. */
int64_t sys_sigaltstack(struct job *job, struct sc_call *c)
{
    (void)job;
    struct vthread *t = c->self;
    bool on = sig_on_altstack(&t->altstack, c->user_rsp);
    uint64_t in[3];
    if (c->a[0] && gmem_copy_from(sc_gm(c), in, c->a[0], sizeof in))
        return -EFAULT;
    if (c->a[1]) {
        uint64_t old[3] = { t->altstack.sp,
                            on ? SS_ONSTACK_F : (uint64_t)(uint32_t)t->altstack.flags,
                            t->altstack.size };
        if (gmem_copy_to(sc_gm(c), c->a[1], old, sizeof old))
            return -EFAULT;
    }
    if (!c->a[0])
        return 0;
    uint32_t flags = (uint32_t)in[1] & ~SS_AUTODISARM_F;
    if (flags != 0 && flags != SS_ONSTACK_F && flags != SS_DISABLE_F)
        return -EINVAL;
    if (on)
        return -EPERM;
    if (flags == SS_DISABLE_F) {
        t->altstack = (struct sig_altstack){ .flags = SS_DISABLE_F };
        return 0;
    }
    if (in[2] < MINSIGSTKSZ_K)
        return -ENOMEM;
    if (in[0] + in[2] < in[0] || !gmem_user_range(sc_gm(c), in[0], in[2]))
        return -ENOMEM; /* a stack isovm could never write a frame on */
    t->altstack = (struct sig_altstack){ .sp = in[0], .size = in[2], .flags = 0 };
    return 0;
}

/* rt_sigsuspend(mask, size) and pause: wait with the mask given until a signal's handler is to
 * run; -EINTR (the handler runs at the call's end, then the caller's mask is back). */
static int64_t wait_for_signal(struct job *job, struct sc_call *c)
{
    while (job_wait_until(job, c->self, mono_ns() + 1000000000ull) == 0)
        ;
    return -EINTR;
}

int64_t sys_rt_sigsuspend(struct job *job, struct sc_call *c)
{
    int rc = sig_wait_mask(c, c->a[0], c->a[1]);
    return rc ? rc : wait_for_signal(job, c);
}

int64_t sys_pause(struct job *job, struct sc_call *c) { return wait_for_signal(job, c); }

/* ---- delivery ---------------------------------------------------------------------------- */

/* The next signal of `allowed` pending for t (the lowest number, its own before its
 * process's), removed, with its record. 0: none. */
static int sig_take_in(struct vthread *t, uint64_t allowed, struct sig_rec *r)
{
    uint64_t mine = t->sig_pending & allowed;
    uint64_t procs = t->proc->sig_pending & allowed;
    uint64_t *set = mine ? &t->sig_pending : &t->proc->sig_pending;
    uint64_t ready = mine ? mine : procs;
    if (!ready)
        return 0;
    int sig = __builtin_ctzll(ready) + 1;
    *set &= ~BIT(sig);
    *r = (mine ? t->sig_rec : t->proc->sig_rec)[sig - 1];
    sig_timer_taken(t->job, t, r);
    return sig;
}

/* The next signal t takes (sig_take_in of what it does not block). */
static int sig_take(struct vthread *t, struct sig_rec *r) { return sig_take_in(t, ~t->sig_blocked, r); }

static bool restartable(uint64_t nr)
{
    switch (nr) {
    case SYS_read: case SYS_write: case SYS_readv: case SYS_writev: case SYS_pread64:
    case SYS_pwrite64: case SYS_wait4: case SYS_waitid: case SYS_futex: case SYS_accept:
    case SYS_accept4: case SYS_connect: case SYS_recvfrom: case SYS_sendto: case SYS_recvmsg:
    case SYS_sendmsg: case SYS_flock: case SYS_fcntl: case SYS_open: case SYS_openat:
        return true;
    default:
        return false;
    }
}

static void info_fill(uint8_t info[128], int sig, const struct sig_rec *r)
{
    memset(info, 0, 128);
    int32_t head[3] = { sig, 0, r->code };
    memcpy(info, head, sizeof head);
    if (r->code == SIG_SI_KERNEL)
        return;
    if (r->code == SIG_SI_TIMER || r->code == SIG_SI_QUEUE) { /* _timer, _rt: then the sigval */
        int32_t ids[2] = { r->pid, r->code == SIG_SI_TIMER ? r->status : 0 };
        memcpy(info + 16, ids, sizeof ids);
        memcpy(info + 24, &r->addr, 8);
        return;
    }
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP) {
        if (r->code > 0) { /* a fault's: its address */
            memcpy(info + 16, &r->addr, 8);
            return;
        }
    }
    int32_t who[3] = { r->pid, 0 /* uid */, r->status };
    memcpy(info + 16, who, sizeof who);
}

static void regs_of_ctx(struct kvm_regs *g, const struct sig_context *x)
{
    *g = (struct kvm_regs){ .rax = x->rax, .rbx = x->rbx, .rcx = x->rcx, .rdx = x->rdx,
                            .rsi = x->rsi, .rdi = x->rdi, .rsp = x->rsp, .rbp = x->rbp,
                            .r8 = x->r8, .r9 = x->r9, .r10 = x->r10, .r11 = x->r11,
                            .r12 = x->r12, .r13 = x->r13, .r14 = x->r14, .r15 = x->r15,
                            .rip = x->rip, .rflags = x->rflags };
}

static void ctx_of_regs(struct sig_context *x, const struct kvm_regs *g)
{
    memset(x, 0, offsetof(struct sig_context, xfeatures));
    x->rax = g->rax, x->rbx = g->rbx, x->rcx = g->rcx, x->rdx = g->rdx, x->rsi = g->rsi;
    x->rdi = g->rdi, x->rsp = g->rsp, x->rbp = g->rbp, x->r8 = g->r8, x->r9 = g->r9;
    x->r10 = g->r10, x->r11 = g->r11, x->r12 = g->r12, x->r13 = g->r13, x->r14 = g->r14;
    x->r15 = g->r15, x->rip = g->rip, x->rflags = g->rflags;
}

/* Run signal sig (its record r) for t at the user context ctx (the registers the job would
 * resume with; at a syscall's end, nr its number and -EINTR in rax when the call was
 * interrupted): ignored, it goes; a default action that ends the process ends it; a handler
 * gets a frame and the vCPU is sent to it. 0 (resume as is), 1 (sent), SC_STOP. */
static int64_t sig_run_one(struct job *job, struct vthread *t, struct sig_context *ctx, int64_t nr,
                           int sig, struct sig_rec r)
{
    struct proc *p = t->proc;
    const uint64_t *a = p->sig.action[sig - 1];
    if (sig_ignored(p, sig))
        return 0;
    if (a[0] == (uint64_t)(uintptr_t)SIG_DFL) {
        char msg[200], who[48];
        if (r.code == SIG_SI_TIMER || r.code == SIG_SI_KERNEL)
            snprintf(who, sizeof who, "a timer of its own");
        else if (r.pid == p->pid && r.code <= 0)
            snprintf(who, sizeof who, "the job to itself");
        else
            snprintf(who, sizeof who, "its process %d", r.pid);
        snprintf(msg, sizeof msg, "job killed by %s: sent by %s, taken once unblocked, at "
                 "rip 0x%llx", signal_name(sig), who, (unsigned long long)ctx->rip);
        proc_end(job, p, proc_status_signaled(sig), msg);
        return SC_STOP;
    }
    if (nr >= 0 && ctx->rax == (uint64_t)-EINTR && (a[1] & SA_RESTART) && restartable((uint64_t)nr)) {
        ctx->rax = (uint64_t)nr; /* the call again, once the handler returns */
        ctx->rip -= 2;
    }
    uint8_t info[128];
    info_fill(info, sig, &r);
    struct sig_frame_spec s = {
        .ctx = ctx, .sig = sig, .info = info, .restorer = a[2],
        .mask = t->sig_restore_mask ? t->sig_saved_mask : t->sig_blocked, .alt = t->altstack,
        .use_alt = (a[1] & SA_ONSTACK) && !(t->altstack.flags & SS_DISABLE_F) &&
                   t->altstack.size && !sig_on_altstack(&t->altstack, ctx->rsp),
    };
    struct sig_frame_at at;
    if (a[0] >= (1ull << 47)) { /* iretq there would fault in the firmware, not in the job */
        char msg[160];
        snprintf(msg, sizeof msg, "job killed by SIGSEGV: %s's handler 0x%llx is no user address",
                 signal_name(sig), (unsigned long long)a[0]);
        proc_end(job, p, proc_status_signaled(SIGSEGV), msg);
        return SC_STOP;
    }
    int rc = vcpu_fpstate_get(&job->vm, &t->vcpu, ctx);
    if (rc || !(a[1] & K_SA_RESTORER) || sigframe_build(p->gm, &s, &at)) {
        char msg[200];
        snprintf(msg, sizeof msg, "job killed by SIGSEGV: no room for %s's signal frame on "
                 "the stack at 0x%llx", signal_name(sig), (unsigned long long)ctx->rsp);
        proc_end(job, p, proc_status_signaled(SIGSEGV), msg);
        return SC_STOP;
    }
    struct kvm_regs g;
    regs_of_ctx(&g, ctx);
    g.rip = a[0];
    g.rsp = at.rsp;
    g.rdi = (uint64_t)sig;
    g.rsi = at.info;
    g.rdx = at.uc;
    g.rax = 0;
    g.rflags &= ~(0x400ull | 0x100 | 0x10000); /* DF, TF, RF */
    struct sig_xstate xs;
    vm_xstate(&job->vm, &xs);
    sigframe_fpstate_init(ctx, &xs); /* the handler's: built, the context's no longer needed */
    t->sig_restore_mask = false; /* the frame holds the mask to go back to */
    t->sig_blocked |= (a[3] | ((a[1] & SA_NODEFER) ? 0 : BIT(sig))) & ~UNBLOCKABLE;
    if (a[1] & SA_RESETHAND)
        memset(p->sig.action[sig - 1], 0, sizeof p->sig.action[sig - 1]);
    if ((rc = vcpu_fpstate_set(&job->vm, &t->vcpu, ctx)) ||
        (rc = vcpu_enter_user(&job->vm, &t->vcpu, &g, t->fs_base))) {
        proc_end(job, p, proc_status_signaled(SIGKILL), "job killed: its vCPU could not be "
                 "sent to a signal handler");
        return SC_STOP;
    }
    t->tlb_gen = atomic_load(&job->tlb_gen); /* the stub reloads CR3 */
    return 1;
}

/* Run t's next ready signals at the user context ctx (sig_run_one), until one is sent to a
 * handler or ends the process. 0 (nothing ran: resume as is), 1, SC_STOP. */
static int64_t sig_run(struct job *job, struct vthread *t, struct sig_context *ctx, int64_t nr)
{
    struct sig_rec r;
    int sig;
    while ((sig = sig_take(t, &r)) != 0) {
        int64_t d = sig_run_one(job, t, ctx, nr, sig, r);
        if (d)
            return d;
    }
    if (t->sig_restore_mask && nr != SYS_rt_sigsuspend) { /* nothing ran: the mask is back */
        t->sig_blocked = t->sig_saved_mask;
        t->sig_restore_mask = false;
    }
    return 0;
}

int64_t sig_deliver_syscall(struct job *job, struct vthread *t, const struct sc_call *c,
                            int64_t ret)
{
    struct kvm_regs g;
    if (ioctl(t->vcpu.fd, KVM_GET_REGS, &g) < 0)
        return 0;
    struct sig_context ctx;
    ctx_of_regs(&ctx, &g);
    /* the job's registers as the firmware would return to it */
    ctx.rax = (uint64_t)ret;
    ctx.rdx = c->a[2];
    ctx.rcx = c->user_rip;
    ctx.rip = c->user_rip;
    ctx.rsp = c->user_rsp;
    ctx.rflags = g.r11;
    if (t->sig_restore_mask && !thread_sig_ready(t)) { /* sigsuspend ended without one */
        t->sig_blocked = t->sig_saved_mask;
        t->sig_restore_mask = false;
        return 0;
    }
    return sig_run(job, t, &ctx, (int64_t)c->nr);
}

int sig_deliver_fault(struct job *job, struct vthread *t, const struct fault_info *f,
                      uint64_t rax, uint64_t rdx, int sig)
{
    const uint64_t *a = t->proc->sig.action[sig - 1];
    if (a[0] == (uint64_t)(uintptr_t)SIG_DFL || a[0] == (uint64_t)(uintptr_t)SIG_IGN ||
        (t->sig_blocked & BIT(sig)))
        return 0; /* as Linux forces it: the default action, the process ends */
    struct kvm_regs g;
    if (ioctl(t->vcpu.fd, KVM_GET_REGS, &g) < 0)
        return 0;
    struct sig_context ctx;
    ctx_of_regs(&ctx, &g);
    ctx.rax = rax; /* the firmware's stub used these two; it saved the job's */
    ctx.rdx = rdx;
    ctx.rip = f->rip;
    ctx.rsp = f->rsp;
    ctx.rflags = f->rflags;
    ctx.err = f->error_code;
    ctx.trapno = f->vector;
    ctx.cr2 = f->vector == 14 ? f->cr2 : 0;
    /* si_code and si_addr as Linux gives them for the common faults */
    struct sig_rec r = { .code = 1 /* SEGV_MAPERR, FPE_INTDIV, ILL_ILLOPC, BUS_ADRALN, TRAP_BRKPT */,
                         .addr = f->vector == 14 ? f->cr2 : f->rip };
    const struct guest_mem *gm = t->proc->gm;
    if (f->vector == 14 && gmem_user_range(gm, f->cr2, 1) && gm->perm[f->cr2 / ISOVM_PAGE_SIZE])
        r.code = 2; /* SEGV_ACCERR: mapped (PROT_NONE too), the access not allowed */
    else if (f->vector == 13 || f->vector == 12)
        r.code = SIG_SI_KERNEL, r.addr = 0; /* a general protection fault */
    else if (f->vector == 6)
        r.code = 2; /* ILL_ILLOPN */
    return sig_run_one(job, t, &ctx, -1, sig, r) == 1;
}

int64_t sig_deliver_async(struct job *job, struct vthread *t)
{
    struct kvm_regs g;
    if (vcpu_user_regs(&t->vcpu, &g) != 1)
        return 0; /* in the firmware: its next exit takes it */
    struct sig_context ctx;
    ctx_of_regs(&ctx, &g);
    return sig_run(job, t, &ctx, -1);
}

/* rt_sigtimedwait(set, info, timeout, size): take a pending signal of set (blocked or not)
 * without running its handler, waiting for one until the timeout (NULL: for ever; zero: not at
 * all). While it waits, a signal of set sent to its process comes to this thread (takes()).
 * The signal's number (its siginfo written to info), -EAGAIN at the timeout, -EINTR when another
 * signal's handler is to run first. */
int64_t sys_rt_sigtimedwait(struct job *job, struct sc_call *c)
{
    struct vthread *t = c->self;
    uint64_t set, deadline = UINT64_MAX;
    if (c->a[3] != 8)
        return -EINVAL;
    if (gmem_copy_from(sc_gm(c), &set, c->a[0], sizeof set))
        return -EFAULT;
    set &= ~UNBLOCKABLE;
    if (c->a[2]) {
        struct timespec ts;
        if (gmem_copy_from(sc_gm(c), &ts, c->a[2], sizeof ts))
            return -EFAULT;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
            return -EINVAL;
        uint64_t ns = (uint64_t)ts.tv_sec > UINT64_MAX / 4000000000ull ? UINT64_MAX / 4 : ts_ns(&ts);
        deadline = mono_ns() + ns;
    }
    struct sig_rec r;
    int64_t sig;
    t->sig_waiting = set;
    for (;;) {
        if ((sig = sig_take_in(t, set, &r)) != 0)
            break;
        if (thread_interrupted(t)) { /* the end, or another signal's handler */
            sig = -EINTR;
            break;
        }
        uint64_t now = mono_ns();
        if (now >= deadline) {
            sig = -EAGAIN;
            break;
        }
        job_wait_until(job, t, deadline - now > 1000000000ull ? now + 1000000000ull : deadline);
    }
    t->sig_waiting = 0;
    if (sig > 0 && c->a[1]) {
        uint8_t info[128];
        info_fill(info, (int)sig, &r);
        if (gmem_copy_to(sc_gm(c), c->a[1], info, sizeof info))
            return -EFAULT; /* as Linux: the signal is taken all the same */
    }
    return sig;
}

/* rt_sigqueueinfo(pid, sig, info) and rt_tgsigqueueinfo(tgid, tid, sig, info): a signal with
 * the sender's siginfo (its si_code, si_pid and sigval). To another process, only the codes a
 * user may claim (negative, not SI_TKILL): else EPERM, as Linux. */
static int64_t queue_info(struct job *job, struct sc_call *c, struct proc *p, struct vthread *t,
                          uint64_t sig, uint64_t gva)
{
    int32_t head[6];
    uint64_t value;
    if (sig > 64)
        return -EINVAL;
    if (gmem_copy_from(sc_gm(c), head, gva, sizeof head) ||
        gmem_copy_from(sc_gm(c), &value, gva + 24, sizeof value))
        return -EFAULT;
    int32_t code = head[2];
    if ((code >= 0 || code == SI_TKILL_K) && p != sc_proc(c))
        return -EPERM;
    struct sig_rec r = { .code = code, .pid = head[4], .addr = value };
    return sig ? sig_send(job, c, p, t, (int)sig, &r) : 0;
}

int64_t sys_rt_sigqueueinfo(struct job *job, struct sc_call *c)
{
    struct proc *p = proc_by_pid(job, (int)(int32_t)c->a[0]);
    if ((int32_t)c->a[0] <= 0)
        return -EINVAL;
    if (!p || p->state != PROC_LIVE)
        return -ESRCH;
    return queue_info(job, c, p, NULL, c->a[1], c->a[2]);
}

int64_t sys_rt_tgsigqueueinfo(struct job *job, struct sc_call *c)
{
    if ((int32_t)c->a[0] <= 0 || (int32_t)c->a[1] <= 0)
        return -EINVAL;
    struct vthread *t = thread_by_tid(job, (uint32_t)c->a[1]);
    if (!t || t->proc->pid != (int32_t)c->a[0])
        return -ESRCH;
    return queue_info(job, c, t->proc, t, c->a[2], c->a[3]);
}

int sig_wait_mask(struct sc_call *c, uint64_t gva, uint64_t size)
{
    uint64_t mask;
    if (size != 8)
        return -EINVAL;
    if (gmem_copy_from(sc_gm(c), &mask, gva, sizeof mask))
        return -EFAULT;
    struct vthread *t = c->self;
    t->sig_saved_mask = t->sig_blocked;
    t->sig_restore_mask = true;
    t->sig_blocked = mask & ~UNBLOCKABLE;
    return 0;
}

uint64_t sig_rekick(struct job *job, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (unsigned i = 0; i < ISOVM_MAX_VCPUS; i++) {
        struct vthread *t = &job->threads[i];
        if (t->state != VT_RUNNING || !t->host_started || !thread_sig_ready(t)) {
            t->sig_seen_ns = 0;
            continue;
        }
        if (!t->sig_seen_ns) {
            t->sig_seen_ns = now;
        } else if (now - t->sig_seen_ns >= SIG_REKICK_NS) {
            pthread_kill(t->host, SIGUSR1);
            t->sig_seen_ns = now;
        }
        if (t->sig_seen_ns + SIG_REKICK_NS < next)
            next = t->sig_seen_ns + SIG_REKICK_NS;
    }
    return next;
}

/* rt_sigreturn: the frame the handler's return left at rsp - 8, read and checked once; a frame
 * that does not hold (unreadable, a kernel or non-canonical rip or rsp, reserved FPU bits)
 * kills the process with SIGSEGV, as Linux does. */
int64_t sys_rt_sigreturn(struct job *job, struct sc_call *c)
{
    struct vthread *t = c->self;
    struct sig_context ctx;
    uint64_t mask;
    struct sig_altstack alt;
    struct sig_xstate xs;
    vm_xstate(&job->vm, &xs);
    if (sigframe_read(sc_gm(c), c->user_rsp, &xs, &ctx, &mask, &alt)) {
        char msg[160];
        snprintf(msg, sizeof msg, "job killed by SIGSEGV: rt_sigreturn found no valid frame at "
                 "0x%llx", (unsigned long long)(c->user_rsp - 8));
        proc_end(job, sc_proc(c), proc_status_signaled(SIGSEGV), msg);
        return SC_STOP;
    }
    t->sig_blocked = mask & ~UNBLOCKABLE;
    if (!sig_on_altstack(&t->altstack, c->user_rsp) && (alt.flags & SS_DISABLE_F ||
        (alt.size >= MINSIGSTKSZ_K && gmem_user_range(sc_gm(c), alt.sp, alt.size))))
        t->altstack = alt; /* as sigaltstack would take it */
    struct kvm_regs g;
    regs_of_ctx(&g, &ctx);
    if (vcpu_fpstate_set(&job->vm, &t->vcpu, &ctx) ||
        vcpu_enter_user(&job->vm, &t->vcpu, &g, t->fs_base)) {
        proc_end(job, sc_proc(c), proc_status_signaled(SIGKILL),
                 "job killed: its vCPU could not be given the signal frame's context");
        return SC_STOP;
    }
    t->tlb_gen = atomic_load(&job->tlb_gen);
    /* a signal it unblocked runs now, from the restored context */
    if (thread_sig_ready(t)) {
        int64_t d = sig_run(job, t, &ctx, -1);
        if (d == SC_STOP)
            return SC_STOP;
    }
    return SC_REDIRECT;
}
