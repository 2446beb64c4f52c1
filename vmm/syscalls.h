/* The Linux syscalls isovm implements for a job, each checking its guest arguments. */
#ifndef ISOVM_SYSCALLS_H
#define ISOVM_SYSCALLS_H
#include <stdint.h>
#include "job.h"

/* One forwarded syscall: number and arguments as read once from the request block. */
struct sc_call {
    uint64_t nr;
    uint64_t a[6];
    uint64_t user_rip;    /* where the job's syscall returns to (for messages) */
    uint64_t action;      /* ISOVM_ACT_* bits for the firmware */
    uint64_t fs_base;
    struct vthread *self; /* the calling thread */
};

typedef int64_t (*sc_handler)(struct job *job, struct sc_call *c);

/* The handler for nr, or NULL when isovm does not implement it (ENOSYS, counted). */
sc_handler syscall_lookup(uint64_t nr);
const char *syscall_name(uint64_t nr);

int64_t sys_read(struct job *, struct sc_call *);
int64_t sys_write(struct job *, struct sc_call *);
int64_t sys_readv(struct job *, struct sc_call *);
int64_t sys_writev(struct job *, struct sc_call *);
int64_t sys_close(struct job *, struct sc_call *);
int64_t sys_ioctl(struct job *, struct sc_call *);
int64_t sys_fstat(struct job *, struct sc_call *);
int64_t sys_newfstatat(struct job *, struct sc_call *);
int64_t sys_fcntl(struct job *, struct sc_call *);
int64_t sys_brk(struct job *, struct sc_call *);
int64_t sys_mmap(struct job *, struct sc_call *);
int64_t sys_munmap(struct job *, struct sc_call *);
int64_t sys_mprotect(struct job *, struct sc_call *);
int64_t sys_mremap(struct job *, struct sc_call *);
int64_t sys_madvise(struct job *, struct sc_call *);
int64_t sys_clock_gettime(struct job *, struct sc_call *);
int64_t sys_clock_getres(struct job *, struct sc_call *);
int64_t sys_gettimeofday(struct job *, struct sc_call *);
int64_t sys_time(struct job *, struct sc_call *);
int64_t sys_nanosleep(struct job *, struct sc_call *);
int64_t sys_clock_nanosleep(struct job *, struct sc_call *);
int64_t sys_exit(struct job *, struct sc_call *);
int64_t sys_exit_group(struct job *, struct sc_call *);
int64_t sys_arch_prctl(struct job *, struct sc_call *);
int64_t sys_set_tid_address(struct job *, struct sc_call *);
int64_t sys_set_robust_list(struct job *, struct sc_call *);
int64_t sys_uname(struct job *, struct sc_call *);
int64_t sys_getpid(struct job *, struct sc_call *);
int64_t sys_getppid(struct job *, struct sc_call *);
int64_t sys_getid(struct job *, struct sc_call *);
int64_t sys_getrandom(struct job *, struct sc_call *);
int64_t sys_rt_sigaction(struct job *, struct sc_call *);
int64_t sys_rt_sigprocmask(struct job *, struct sc_call *);
int64_t sys_sigaltstack(struct job *, struct sc_call *);
int64_t sys_prlimit64(struct job *, struct sc_call *);
int64_t sys_getrlimit(struct job *, struct sc_call *);
int64_t sys_readlink(struct job *, struct sc_call *);
int64_t sys_readlinkat(struct job *, struct sc_call *);
int64_t sys_sched_yield(struct job *, struct sc_call *);
int64_t sys_gettid(struct job *, struct sc_call *);
int64_t sys_clone(struct job *, struct sc_call *);
int64_t sys_futex(struct job *, struct sc_call *);
int64_t sys_dup(struct job *, struct sc_call *);
int64_t sys_dup2(struct job *, struct sc_call *);
int64_t sys_dup3(struct job *, struct sc_call *);
int64_t sys_kill(struct job *, struct sc_call *);
int64_t sys_tkill(struct job *, struct sc_call *);
int64_t sys_tgkill(struct job *, struct sc_call *);
int64_t sys_enosys_quiet(struct job *, struct sc_call *);

/* The calling thread is done (it exited, or the job ended): its run loop stops. */
#define SC_STOP INT64_MIN

#endif
