/* One job: its VM, threads (one vCPU each), address space, descriptors, counters and its end. */
#ifndef ISOVM_JOB_H
#define ISOVM_JOB_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "firmware/abi.h"
#include "lib/clock.h"
#include "policy/policy.h"
#include "limits/io_throttle.h"
#include "vmm/core/proc.h"
#include "vmm/core/sigframe.h"
#include "vmm/core/sc_call.h"
#include "vmm/core/vm.h"

/* The job's authority is kept by vmm/caps/ (the job holds it by pointer, so core/ needs none
 * of caps/'s definitions): the capability table, the descriptors over it, the grants' roots,
 * the audit log. */
struct cap_table;
struct fd_slot;
struct grant_root;
struct audit_log;

#define SYSCALL_TABLE_SIZE 1024 /* Linux numbers and isovm's own (ISOVM_SYS_*, from 1000) */
#define UNKNOWN_TRACKED    16

/* Kinds of refusal counted in the report's "denials" and named in the audit log. */
enum deny_kind {
    DENY_SYSCALL,   /* the syscall filter */
    DENY_RIGHTS,    /* a right the capability lacks */
    DENY_AMPLIFY,   /* derive asked for a right its source lacks */
    DENY_EXPIRED,   /* use of an expired capability */
    DENY_REVOKED,   /* use of a revoked capability */
    DENY_OUTSIDE,   /* a path outside every grant (ENOENT) */
    DENY_ESCAPE,    /* resolution would leave the grant: .., symlinks out, magic links */
    DENY_LIMIT,     /* max_capabilities, max_threads */
    DENY_NETWORK,   /* a socket family, address or port no endpoint grants (sys_net.c) */
    DENY_SPECIAL,   /* an open of a FIFO, device or socket beneath a grant (ENXIO, sys_fs.c) */
    DENY_KINDS
};

/* A launch's steps, timed (mono_ns) for the report's "phases_ns" (docs/report.md). */
enum launch_phase {
    PH_LAUNCH,        /* launch_run began (the options and the policy are read) */
    PH_PROGRAM,       /* the program file read */
    PH_VM,            /* the VM made: /dev/kvm, the RAM memslot, page tables, firmware */
    PH_GRANTS,        /* the grants opened */
    PH_ELF,           /* the ELF checked and loaded */
    PH_STACK,         /* the initial stack built */
    PH_VCPU,          /* vCPU 0 made */
    PH_FILTER,        /* the VMM's seccomp filter installed (the reservation awaited before it) */
    PH_FIRST_ENTRY,   /* the first KVM_RUN: the guest's first instruction */
    PH_END,           /* the job ended */
    PH_COUNT
};

/* How the job ended. JOB_OOM is a fatal signal after a memory request failed for the limit. */
enum job_end {
    JOB_RUNNING, JOB_EXITED, JOB_SIGNALED, JOB_OOM, JOB_CPU_LIMIT, JOB_TIMEOUT, JOB_KILLED,
    JOB_INTERNAL_ERROR,
    JOB_QUOTA,      /* its tenant's budget ran out (docs/quota.md) */
};

enum vthread_state {
    VT_FREE,      /* slot never used, or used and its host thread joined */
    VT_RUNNING,   /* a live job thread */
    VT_EXITING,   /* the job thread called exit; its host thread is finishing */
    VT_DONE,      /* host thread finished; join before reuse */
};

/* One job thread: a vCPU and the host thread that runs it. */
struct exec_cache;
struct fault_info;

struct vthread {
    struct job *job;
    struct proc *proc;            /* the process it belongs to */
    struct vcpu vcpu;             /* vcpu.fd < 0 until first used; kept for reuse */
    enum vthread_state state;
    bool host_started;            /* a host thread exists and must be joined */
    atomic_bool killed;           /* it alone ends: another thread of its process execs */
    bool parked;                  /* its host thread finished a run and waits for the next one
                                   * (vthread_start hands it one: KVM_RUN from a new host thread
                                   * costs an RCU grace period, ~10 ms in the emulated host) */
    pthread_t host;
    clockid_t cpu_clock;          /* the host thread's CPU-time clock */
    uint64_t cpu_base;            /* its value when this run began (a parked thread's earlier runs) */
    int tid;                      /* guest-visible thread id (main thread: 1) */
    uint64_t fs_base;
    uint64_t clear_child_tid;     /* CLONE_CHILD_CLEARTID / set_tid_address */
    uint64_t robust_list, robust_len;
    uint64_t sig_blocked;
    uint64_t sig_pending;         /* signals for this thread (and the process's it was given) */
    struct sig_rec sig_rec[64];
    struct sig_altstack altstack; /* sigaltstack */
    uint64_t sig_seen_ns;         /* when the supervisor first saw a ready signal still
                                   * pending for it (0: none): sig_rekick */
    uint64_t sig_waiting;         /* rt_sigtimedwait's set while it waits: a signal in it is
                                   * sent to this thread though it blocks it */
    uint64_t sig_saved_mask;      /* rt_sigsuspend's caller's mask, back once a handler runs */
    bool sig_restore_mask;
    uint64_t tlb_gen;             /* page-table generation this vCPU has flushed up to */
    pthread_cond_t wake;          /* waited on with job->lock: futex, sleeps, throttling */
    uint64_t futex_addr;          /* valid while futex_waiting */
    uint32_t futex_bitset;
    bool futex_waiting, futex_woken;
    uint64_t cpu_ns_final;        /* CPU time of its last run, when it finished */
    char comm[16];                /* prctl PR_SET_NAME (the program's name at first; a new
                                   * thread gets its creator's) */
};

struct job_stats {
    uint64_t hypercalls_total;
    uint64_t syscalls[SYSCALL_TABLE_SIZE];
    uint64_t denied[SYSCALL_TABLE_SIZE];     /* refused by a limit (threads, descriptors) */
    uint64_t denied_total;
    uint64_t unknown_total;
    uint64_t unknown_nr[UNKNOWN_TRACKED];
    uint64_t unknown_count[UNKNOWN_TRACKED];
    unsigned unknown_distinct;
    uint64_t exits_io, exits_hlt, exits_shutdown, exits_intr, exits_other;
    uint64_t bytes_read, bytes_written, read_ops, write_ops;
    uint64_t read_throttled_ns, write_throttled_ns;
    uint64_t cpu_ns;                          /* final vCPU time of all threads */
    uint64_t cpu_throttled_ns, cpu_throttled_periods;
    uint64_t threads_created, threads_peak, threads_refused;
    uint64_t procs_created, procs_peak, procs_refused; /* fork/vfork/clone of a process */
    uint64_t procs_killed;                    /* still running when the first process ended */
    uint64_t caps_peak, caps_refused;
    uint64_t enomem_total;                    /* brk/mmap/mremap refused for lack of memory */
    uint64_t tlb_shootdowns;
    uint64_t denials[DENY_KINDS];
    uint64_t filtered[SYSCALL_TABLE_SIZE];   /* refused by the syscall filter, by number */
    uint64_t filtered_beyond;                /* refused by it, numbers >= SYSCALL_TABLE_SIZE */
    uint64_t filter_logged;                  /* let through by the "log" action */
    uint64_t read_cache_fills, read_cache_hits; /* read_cache.h */
    uint64_t net_connections;                /* connects and accepts that succeeded */
    uint64_t net_bytes_sent, net_bytes_received; /* through sockets (also in bytes_*) */
    uint64_t net_datagrams_dropped;          /* from ungranted sources, never seen by the job */
    uint64_t audit_lines_written, audit_bytes_written; /* the audit log (vmm/caps/audit.c) */
    uint64_t audit_lines_dropped, audit_bytes_dropped; /* past audit_max_bytes, or not written */
    uint64_t audit_denials_suppressed;       /* denials counted, not written in full */
};

/* The read cache (read_cache.h): armed for one thread's reads of one descriptor. */
struct read_cache {
    bool armed;
    struct vthread *owner;
    uint32_t slot, gen;           /* the capability read through */
    uint64_t filled;              /* bytes the armed fill read ahead */
    uint64_t ahead;               /* the next fill's size; 0: start small again */
    unsigned skip, skipped;       /* after fills nobody used: leave out `skip` chances */
};

struct job {
    struct vm vm;
    struct policy policy;
    pthread_mutex_t lock;        /* held while a hypercall runs; guards everything below */
    struct vthread threads[ISOVM_MAX_VCPUS];
    unsigned threads_live;       /* RUNNING threads */
    unsigned threads_hosted;     /* host threads started and not yet DONE */
    struct proc procs[ISOVM_MAX_PROCS]; /* procs[0]: the first process (pid 1) */
    unsigned procs_live;         /* LIVE processes */
    unsigned procs_held;         /* LIVE and ZOMBIE ones: what max_processes bounds */
    struct proc_space *spaces[ISOVM_MAX_PROCS]; /* [0] unused: the first space is the VM's */
    /* prctl's per-job settings (vmm/sys/sys_info.c): recorded and read back */
    bool not_dumpable, child_subreaper;
    uint64_t timerslack_ns;
    int next_tid;
    /* Start a host thread running t's vCPU: vmm/run/vthread.c's vthread_start, set at launch.
     * clone (vmm/sys/) starts threads through it without depending on the run loop. */
    int (*thread_start)(struct job *job, struct vthread *t);
    /* A CPU fault in ring 3 the job may handle (vmm/sys/sys_signal.c's sig_deliver_fault, set
     * at launch; NULL: none is): 1 when t's vCPU was sent to its handler, else 0 (it ends the
     * process). f is the exception frame, rax and rdx the job's (the firmware saved them). */
    int (*on_user_fault)(struct job *job, struct vthread *t, const struct fault_info *f,
                         uint64_t rax, uint64_t rdx, int sig);
    pthread_t supervisor;        /* the thread that runs the CPU governor (woken by SIGUSR2) */
    bool supervised;             /* supervisor is set */
    uint64_t supervisor_wake_ns; /* when the supervisor looks next on its own (0: unknown) */
    atomic_bool stop;            /* the job has ended: every vCPU leaves the guest */
    atomic_bool throttled;       /* CPU quota spent: vCPUs wait for the next period */
    atomic_uint_fast64_t tlb_gen;/* bumped when user page tables change */
    uint64_t cpu_ns_retired;     /* CPU time of host threads that have finished */
    uint64_t start_ns;           /* CLOCK_MONOTONIC at launch */
    uint64_t end_ns;             /* when job_end was first called (0: still running) */
    const char *start;           /* how its VM came to be: "cold", "warm" (a pool's, made
                                  * ahead), "pool-cold" (report) */
    uint64_t phase_ns[PH_COUNT]; /* enum launch_phase; PH_FIRST_ENTRY by thread 0's run loop */
    uint64_t stopped_ns;         /* when the last host thread of a vCPU had finished */
    const char *exe_path;        /* readlink("/proc/self/exe") answer */
    char *exe_path_owned;        /* exe_path when isovm allocated it */
    struct exec_cache *exec_cache; /* programs execve read (vmm/sys/exec_cache.h); NULL: none yet */
    int devnull_fd;              /* the host's /dev/null, opened before the VMM's filter: each
                                  * open of the job's /dev/null is a copy (-1: none) */
    uint64_t rlimits[16][2];
    struct cap_table *caps;      /* every capability the job holds (vmm/caps/cap.h) */
    unsigned holds_expiring;     /* calls holding an entry that can expire (vmm/caps/cap_hold.h) */
    struct read_cache rcache;
    uint32_t console_cap[3];     /* slots of stdin, stdout, stderr's entries */
    struct grant_root *grant_roots; /* policy.grants[i]'s root (vmm/caps/grants.h) */
    unsigned ngrant_roots;       /* grants opened so far */
    struct audit_log *audit;     /* audit log (vmm/caps/audit.c); NULL: none */
    char job_id[POLICY_JOB_ID_MAX];
    uint64_t filter_allow[SYSCALL_TABLE_SIZE / 64]; /* syscall filter: allowed numbers */
    int filter_errno;            /* errno for SCA_ERRNO */
    bool deterministic;          /* the deterministic profile: virtual clock, seeded random */
    uint64_t vclock_ns;          /* deterministic: virtual time, advanced by the job's progress */
    uint64_t rng_state[4];       /* deterministic: the seeded generator */
    struct io_throttle io_read, io_write;
    struct job_stats stats;
    enum job_end end;
    int exit_status;             /* the status isovm exits with */
    int signal;                  /* for JOB_SIGNALED / JOB_OOM / JOB_KILLED */
};

/* The calling thread's process, and its address space. */
static inline struct proc *sc_proc(const struct sc_call *c) { return c->self->proc; }
static inline struct guest_mem *sc_gm(const struct sc_call *c) { return c->self->proc->gm; }

/* Is thread t to leave the guest and its call: the job ends, its process does, or another of
 * its process's threads execs. */
static inline bool thread_stopping(const struct vthread *t)
{
    return atomic_load(&t->job->stop) || atomic_load(&t->proc->killed) ||
           atomic_load(&t->killed);
}

/* The signals t could take now: pending for it or its process, not blocked. */
static inline uint64_t thread_sig_ready(const struct vthread *t)
{
    return (t->sig_pending | t->proc->sig_pending) & ~t->sig_blocked;
}

/* Is t's blocking call to end: t stops, or a signal waits for it (its handler runs at the
 * call's end, which then restarts or fails with EINTR). */
static inline bool thread_interrupted(const struct vthread *t)
{
    return thread_stopping(t) || thread_sig_ready(t);
}

/* The job thread this host thread runs (set by its run loop; NULL elsewhere: the supervisor,
 * tests). */
extern _Thread_local struct vthread *job_current_thread;

/* Is the call the current host thread is making to end: the job ends, or (on a job thread) its
 * process does, or a signal waits for the thread (thread_interrupted). For the loops around host
 * calls that a kick interrupts (EINTR). */
static inline bool job_call_ending(const struct job *job)
{
    return job_current_thread ? thread_interrupted(job_current_thread) : atomic_load(&job->stop);
}

/* Is the calling job thread's call to end for good (its process or the job ends)? A signal does
 * not count: for the few calls Linux never interrupts (execve reading its program). */
static inline bool job_call_stopping(const struct job *job)
{
    return job_current_thread ? thread_stopping(job_current_thread) : atomic_load(&job->stop);
}

/* Set up the job's lock, thread slots and I/O throttles from its policy (its descriptors and
 * capabilities: vmm/caps/fd.h's fd_table_init). 0 or -errno. */
int job_init(struct job *job, const struct policy *p);
void job_fini(struct job *job);

/* End the job (the first call wins; later ones are ignored), with job->lock held: record how,
 * print `msg` (if not NULL) as one line on stderr, stop every vCPU and wake every waiter. */
void job_end(struct job *job, enum job_end how, int status, int sig, const char *msg);

/* Make every running vCPU except `self` (may be NULL) leave KVM_RUN soon. job->lock held. */
void job_kick(struct job *job, const struct vthread *self);

/* Wake every thread waiting on its condition (after stop or the end of throttling). Lock held. */
void job_wake_all(struct job *job);

/* Count syscall nr as refused by a limit (the report's denied_syscalls). job->lock held. */
void job_count_denied(struct job *job, uint64_t nr);

/* Sum of the vCPU threads' CPU time, ns. job->lock held. */
uint64_t job_cpu_ns(struct job *job);
/* The CPU time of process p (its finished threads' and its live ones'), and of one live thread
 * in its current run, ns. job->lock held. */
uint64_t proc_cpu_ns(struct job *job, const struct proc *p);
uint64_t thread_cpu_ns(const struct vthread *t);

/* Sleep the calling job thread until CLOCK_MONOTONIC deadline_ns, with job->lock held (released
 * while waiting). 0 at the deadline, -EINTR when the job stops or a signal comes first. */
int job_sleep_until(struct job *job, struct vthread *self, uint64_t deadline_ns);

/* Wait on the calling thread's condition, job->lock released meanwhile, until CLOCK_MONOTONIC
 * deadline_ns, a wake-up (job_wake_all: a new quota period, a revocation) or the job's end.
 * 0 (the caller looks again: it may be early), or -EINTR when the job is ending or a signal
 * waits for the thread (thread_interrupted). */
int job_wait_until(struct job *job, struct vthread *self, uint64_t deadline_ns);

/* Tell the supervisor to look at the job again now (threads changed, the job ended). */
void job_notify_supervisor(struct job *job);


#endif
