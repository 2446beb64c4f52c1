/* A process of the job: its address space, descriptors, directory, signal actions, parentage. */
#ifndef ISOVM_PROC_H
#define ISOVM_PROC_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "policy/policy.h"
#include "vmm/core/guest_mem.h"
#include "vmm/core/paging.h"

struct fd_slot;
struct vthread;

/* The most processes a job may have at once (live and unreaped): each live one runs at least
 * one vCPU, so no more than vCPUs. */
#define ISOVM_MAX_PROCS 64

struct sig_state {
    uint64_t action[64][4];   /* handler, flags, restorer, mask as the job gave them */
};

/* A pending signal's details, for its siginfo. */
struct sig_rec {
    int32_t code;             /* si_code: SI_USER, SI_TKILL, CLD_EXITED, SI_TIMER, ... */
    int32_t pid, status;      /* the sender (or the child that ended), and the child's status;
                               * SI_TIMER: the timer's id and its overrun count */
    uint64_t addr;            /* a fault's address; SI_TIMER, SI_QUEUE: the sigval */
};
#define SIG_SI_TIMER (-2)     /* si_code of a POSIX timer's signal */
#define SIG_SI_QUEUE (-1)     /* sigqueue's */
#define SIG_SI_KERNEL 0x80    /* the kernel's own: an interval timer's, a general protection fault */

/* A timer of a process (vmm/sys/sys_timer.c): one of its three interval timers (setitimer,
 * alarm: ITIMER_REAL) or a POSIX timer (timer_create). It counts CLOCK_MONOTONIC time, or CPU
 * time: the process's (ITIMER_VIRTUAL, ITIMER_PROF, CLOCK_PROCESS_CPUTIME_ID) or one thread's
 * (CLOCK_THREAD_CPUTIME_ID). The supervisor fires it (sig_timers_step). */
struct proc_timer {
    bool used;                /* a POSIX timer: created (interval timers always exist) */
    bool cpu;                 /* counts CPU time, not the clock */
    bool queued;              /* its signal is pending and not yet taken */
    int clock;                /* the clock the job named (timer_gettime's reference) */
    int sig;                  /* its signal; 0: none (SIGEV_NONE) */
    int target;               /* SIGEV_THREAD_ID's thread; 0: the process */
    int cpu_tid;              /* CLOCK_THREAD_CPUTIME_ID's thread; 0: the process's CPU time */
    uint64_t value;           /* sigev_value, in its siginfo */
    uint64_t next;            /* the next expiry: CLOCK_MONOTONIC ns, or CPU ns; 0: disarmed */
    uint64_t interval;        /* ns between expiries; 0: once */
    uint32_t overrun;         /* expiries while its signal was pending */
    uint32_t overrun_last;    /* timer_getoverrun's: the count the last taken signal carried */
};
#define PROC_ITIMERS    3     /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
#define PROC_TIMERS_MAX 32    /* POSIX timers a process may hold (ids 0..31) */

/* The program a process runs: its file, kept open for an exec of /proc/self/exe, and the path
 * readlink("/proc/self/exe") answers. Shared by the processes a fork made until they exec.
 * job->lock held for every use. */
struct proc_exe {
    int fd;          /* host descriptor, read-only */
    unsigned refs;
    char path[];
};

/* A new exe holding fd (the caller's no longer) with one reference; NULL when out of memory
 * (fd left open). */
struct proc_exe *proc_exe_new(int fd, const char *path);
static inline struct proc_exe *proc_exe_get(struct proc_exe *e)
{
    if (e)
        e->refs++;
    return e;
}
/* Drop a reference (NULL: nothing); the last closes the file. */
void proc_exe_put(struct proc_exe *e);

enum proc_state {
    PROC_FREE,      /* slot unused (or reaped) */
    PROC_LIVE,      /* has threads */
    PROC_ZOMBIE,    /* ended, its resources released, its status kept for wait4 */
};

/* An address space: a window of guest-physical space with its page tables. Space 0 is the
 * VM's own (vm.gm, vm.pg); the others are made at a fork and kept for the next one (their
 * host mapping and memslots stay; their pages and tables are given back). */
struct proc_space {
    struct guest_mem gm;
    struct paging pg;
    bool in_use;
};

struct proc {
    enum proc_state state;
    int pid, ppid, pgid, sid;
    unsigned space;              /* its address space: job->spaces[space] (0: the VM's own) */
    struct guest_mem *gm;        /* that space's memory and page tables */
    struct paging *pg;
    atomic_bool killed;          /* ending: its threads leave the guest and their calls */
    unsigned threads_live;       /* its threads that have not exited */
    unsigned threads_hosted;     /* its host threads not yet finished */
    int wait_status;             /* as wait4 reports it (set when it ends) */
    int leader_exit;             /* what its first thread passed to exit, if it did */
    int exit_signal;             /* sent to the parent when it ends (SIGCHLD, or 0) */
    struct vthread *vfork_parent;/* held in vfork until this process execs or ends */
    bool execing;                /* one of its threads is in execve past the point of no
                                  * return, waiting for the others to end */
    struct proc_exe *exe;        /* its program (NULL: the job's, job->exe_path) */
    uint64_t cpu_ns;             /* CPU time of its finished threads (wait4's rusage) */
    uint64_t brk_start, brk_cur;
    uint64_t mmap_top;           /* mmap searches down from here */
    uint64_t stack_lo, stack_hi;
    struct fd_slot *fds;         /* policy.max_capabilities slots (vmm/caps/fd.h) */
    unsigned fds_max, fds_open;
    char cwd[POLICY_GUEST_PATH_MAX]; /* guest working directory (normalized, absolute) */
    unsigned umask;              /* applied to every mode it creates with (umask(2)) */
    int pdeathsig;               /* prctl PR_SET_PDEATHSIG: recorded and read back */
    struct sig_state sig;
    uint64_t sig_pending;        /* sent to the process while every thread blocked them */
    struct sig_rec sig_rec[64];
    struct proc_timer itimer[PROC_ITIMERS]; /* kept across execve, not given to a fork's child */
    struct proc_timer timers[PROC_TIMERS_MAX]; /* POSIX timers: gone at execve, not inherited */
};

struct job;

/* Linux's wait statuses. */
static inline int proc_status_exited(int code) { return (code & 0xff) << 8; }
static inline int proc_status_signaled(int sig) { return sig & 0x7f; }

/* The live or zombie process with this pid, or NULL. */
struct proc *proc_by_pid(struct job *job, int pid);

/* Process p ends with wait status `status` (the first call wins). The first process's end is
 * the job's (job_end: exit code, or 128 + signal, with msg); another's marks it killed, makes
 * its threads leave the guest and their calls (kicked, woken); the last of them to finish
 * releases it (sys_fork.h: proc_release). msg (may be NULL) is printed for the first process
 * only, logged at debug level for others. job->lock held. */
void proc_end(struct job *job, struct proc *p, int status, const char *msg);

/* Wake every thread of p waiting on its condition (wait4 looks again, a sleep ends early);
 * with kick, also make those in the guest or in a host call leave it. job->lock held. */
void proc_wake(struct job *job, const struct proc *p, bool kick);

#endif
