/* The Linux syscalls isovm implements for a job (one handler each, grouped by topic in
 * vmm/sys/sys_*.c), each checking its guest arguments. */
#ifndef ISOVM_SYS_H
#define ISOVM_SYS_H
#include <stdint.h>
#include "vmm/core/job.h"
#include "vmm/core/sc_call.h"

/* I/O and descriptors (sys_io.c) */
int64_t sys_read(struct job *, struct sc_call *);
int64_t sys_write(struct job *, struct sc_call *);
int64_t sys_readv(struct job *, struct sc_call *);
int64_t sys_writev(struct job *, struct sc_call *);
int64_t sys_pread64(struct job *, struct sc_call *);
int64_t sys_pwrite64(struct job *, struct sc_call *);
int64_t sys_close(struct job *, struct sc_call *);
int64_t sys_ioctl(struct job *, struct sc_call *);
int64_t sys_fcntl(struct job *, struct sc_call *);
int64_t sys_dup(struct job *, struct sc_call *);
int64_t sys_dup2(struct job *, struct sc_call *);
int64_t sys_dup3(struct job *, struct sc_call *);

/* memory (sys_mem.c) */
int64_t sys_brk(struct job *, struct sc_call *);
int64_t sys_mmap(struct job *, struct sc_call *);
int64_t sys_munmap(struct job *, struct sc_call *);
int64_t sys_mprotect(struct job *, struct sc_call *);
int64_t sys_mremap(struct job *, struct sc_call *);
int64_t sys_madvise(struct job *, struct sc_call *);
int64_t sys_msync(struct job *, struct sc_call *);

/* time and sleeping (sys_time.c) */
int64_t sys_clock_gettime(struct job *, struct sc_call *);
int64_t sys_clock_getres(struct job *, struct sc_call *);
int64_t sys_gettimeofday(struct job *, struct sc_call *);
int64_t sys_time(struct job *, struct sc_call *);
int64_t sys_nanosleep(struct job *, struct sc_call *);
int64_t sys_clock_nanosleep(struct job *, struct sc_call *);

/* process identity, signals, limits (sys_proc.c) */
int64_t sys_arch_prctl(struct job *, struct sc_call *);
int64_t sys_set_robust_list(struct job *, struct sc_call *);
int64_t sys_uname(struct job *, struct sc_call *);
int64_t sys_getpid(struct job *, struct sc_call *);
int64_t sys_getppid(struct job *, struct sc_call *);
int64_t sys_setpgid(struct job *, struct sc_call *);
int64_t sys_getpgid(struct job *, struct sc_call *);
int64_t sys_getpgrp(struct job *, struct sc_call *);
int64_t sys_setsid(struct job *, struct sc_call *);
int64_t sys_getsid(struct job *, struct sc_call *);
int64_t sys_getid(struct job *, struct sc_call *);
int64_t sys_getrandom(struct job *, struct sc_call *);
int64_t sys_prlimit64(struct job *, struct sc_call *);
int64_t sys_getrlimit(struct job *, struct sc_call *);
int64_t sys_enosys_quiet(struct job *, struct sc_call *);

/* signals (sys_signal.c) */
int64_t sys_rt_sigaction(struct job *, struct sc_call *);
int64_t sys_rt_sigprocmask(struct job *, struct sc_call *);
int64_t sys_rt_sigpending(struct job *, struct sc_call *);
int64_t sys_sigaltstack(struct job *, struct sc_call *);
int64_t sys_rt_sigsuspend(struct job *, struct sc_call *);
int64_t sys_pause(struct job *, struct sc_call *);
int64_t sys_rt_sigreturn(struct job *, struct sc_call *);
int64_t sys_kill(struct job *, struct sc_call *);
int64_t sys_tkill(struct job *, struct sc_call *);
int64_t sys_tgkill(struct job *, struct sc_call *);
int64_t sys_rt_sigtimedwait(struct job *, struct sc_call *);
int64_t sys_rt_sigqueueinfo(struct job *, struct sc_call *);
int64_t sys_rt_tgsigqueueinfo(struct job *, struct sc_call *);
/* ppoll, pselect6, epoll_pwait, rt_sigsuspend: the signal mask at gva (size bytes: 8) is the
 * caller's while its call waits, and the one it had is back at the call's end (once a handler
 * that ran for it returns). 0, -EINVAL (the size), -EFAULT. */
int sig_wait_mask(struct sc_call *c, uint64_t gva, uint64_t size);
/* The supervisor's look at signals a kick missed: a thread whose ready signal is still there
 * SIG_REKICK_NS after it was first seen (its vCPU was in the firmware's few instructions, or a
 * host call had not begun yet) is kicked again. When to look next. job->lock held. */
#define SIG_REKICK_NS 2000000ull
uint64_t sig_rekick(struct job *job, uint64_t now);

/* timers that signal (sys_timer.c) */
int64_t sys_alarm(struct job *, struct sc_call *);
int64_t sys_setitimer(struct job *, struct sc_call *);
int64_t sys_getitimer(struct job *, struct sc_call *);
int64_t sys_timer_create(struct job *, struct sc_call *);
int64_t sys_timer_settime(struct job *, struct sc_call *);
int64_t sys_timer_gettime(struct job *, struct sc_call *);
int64_t sys_timer_getoverrun(struct job *, struct sc_call *);
int64_t sys_timer_delete(struct job *, struct sc_call *);
/* The supervisor's look at every process's armed timers at CLOCK_MONOTONIC mono: each one due
 * sends its signal (or counts an overrun while its last is pending) and is armed again for its
 * interval. When to look next (UINT64_MAX: no timer is armed). job->lock held. */
uint64_t sig_timers_step(struct job *job, uint64_t mono);
/* A POSIX timer's signal (r) is taken by t: its overrun count goes in r and is what
 * timer_getoverrun answers; the timer may queue its signal again. */
void sig_timer_taken(struct job *job, struct vthread *t, struct sig_rec *r);
/* execve: the process's POSIX timers are deleted (its interval timers stay). */
void sig_timers_exec(struct proc *p);
/* sig (1..64) to process p, or its thread t (NULL: a thread of p that takes it), from call c
 * (NULL: from isovm): ignored, ends p (SIGKILL, or a default action with a thread to take it),
 * or pending until a thread takes it. SC_STOP when the caller's own process ended. */
int64_t sig_send(struct job *job, const struct sc_call *c, struct proc *p, struct vthread *t,
                 int sig, const struct sig_rec *r);
/* Run the calling thread's ready signals at its syscall's end (ret: the call's answer) or after
 * a kick out of the guest (ring 3 only): 0 (none ran: resume as is), 1 (the vCPU was sent to a
 * handler), SC_STOP (its process ended). job->lock held. */
int64_t sig_deliver_syscall(struct job *job, struct vthread *t, const struct sc_call *c,
                            int64_t ret);
int64_t sig_deliver_async(struct job *job, struct vthread *t);
/* A CPU fault in ring 3 (job->on_user_fault): its handler runs when the process has one for
 * sig and the thread does not block it. 1 when the vCPU was sent there, else 0. */
int sig_deliver_fault(struct job *job, struct vthread *t, const struct fault_info *f,
                      uint64_t rax, uint64_t rdx, int sig);

/* threads (sys_thread.c) */
int64_t sys_exit(struct job *, struct sc_call *);
int64_t sys_exit_group(struct job *, struct sc_call *);
int64_t sys_set_tid_address(struct job *, struct sc_call *);
int64_t sys_sched_yield(struct job *, struct sc_call *);
int64_t sys_gettid(struct job *, struct sc_call *);
int64_t sys_clone(struct job *, struct sc_call *);

/* processes (sys_fork.c, sys_wait.c) */
int64_t sys_fork(struct job *, struct sc_call *);
int64_t sys_vfork(struct job *, struct sc_call *);
int64_t sys_wait4(struct job *, struct sc_call *);
int64_t sys_waitid(struct job *, struct sc_call *);

/* execve (sys_exec.c) */
int64_t sys_execve(struct job *, struct sc_call *);
int64_t sys_execveat(struct job *, struct sc_call *);

/* epoll and eventfd (sys_epoll.c, sys_eventfd.c) */
int64_t sys_epoll_create(struct job *, struct sc_call *);
int64_t sys_epoll_create1(struct job *, struct sc_call *);
int64_t sys_epoll_ctl(struct job *, struct sc_call *);
int64_t sys_epoll_wait(struct job *, struct sc_call *);
int64_t sys_epoll_pwait(struct job *, struct sc_call *);
int64_t sys_eventfd(struct job *, struct sc_call *);
int64_t sys_eventfd2(struct job *, struct sc_call *);

/* pipes (sys_pipe.c) */
int64_t sys_pipe(struct job *, struct sc_call *);
int64_t sys_pipe2(struct job *, struct sc_call *);
/* A write found no reader (EPIPE): SIGPIPE to the caller's process unless it ignores it (then,
 * or if it survives, -EPIPE). */
int64_t sys_pipe_broken(struct job *, struct sc_call *);

/* futexes (sys_futex.c) */
int64_t sys_futex(struct job *, struct sc_call *);

/* network: sockets on the policy's endpoint grants (sys_net.c) */
int64_t sys_socket(struct job *, struct sc_call *);
int64_t sys_connect(struct job *, struct sc_call *);
int64_t sys_bind(struct job *, struct sc_call *);
int64_t sys_listen(struct job *, struct sc_call *);
int64_t sys_accept(struct job *, struct sc_call *);
int64_t sys_accept4(struct job *, struct sc_call *);
int64_t sys_sendto(struct job *, struct sc_call *);
int64_t sys_recvfrom(struct job *, struct sc_call *);
int64_t sys_sendmsg(struct job *, struct sc_call *);
int64_t sys_recvmsg(struct job *, struct sc_call *);
int64_t sys_shutdown(struct job *, struct sc_call *);
int64_t sys_getsockname(struct job *, struct sc_call *);
int64_t sys_getpeername(struct job *, struct sc_call *);
int64_t sys_setsockopt(struct job *, struct sc_call *);
int64_t sys_getsockopt(struct job *, struct sc_call *);

/* readiness (sys_poll.c) */
int64_t sys_poll(struct job *, struct sc_call *);
int64_t sys_ppoll(struct job *, struct sc_call *);
int64_t sys_select(struct job *, struct sc_call *);
int64_t sys_pselect6(struct job *, struct sc_call *);

/* file-system view: paths resolve only through the policy's grants (sys_fs.c) */
/* Open /proc/self/fd as a directory descriptor, so that reopening a descriptor through it names
 * no path from the cwd (the VMM's seccomp filter refuses AT_FDCWD: docs/security.md). Before
 * it, or if it fails, "/proc/self/fd/N" is used. 0 or -errno. */
int sys_fs_proc_dir_open(void);
int64_t sys_fstat(struct job *, struct sc_call *);
int64_t sys_newfstatat(struct job *, struct sc_call *);
int64_t sys_readlink(struct job *, struct sc_call *);
int64_t sys_readlinkat(struct job *, struct sc_call *);
int64_t sys_open(struct job *, struct sc_call *);
int64_t sys_openat(struct job *, struct sc_call *);
int64_t sys_stat(struct job *, struct sc_call *);
int64_t sys_lstat(struct job *, struct sc_call *);
int64_t sys_access(struct job *, struct sc_call *);
int64_t sys_faccessat(struct job *, struct sc_call *);
int64_t sys_faccessat2(struct job *, struct sc_call *);
int64_t sys_getdents64(struct job *, struct sc_call *);
int64_t sys_lseek(struct job *, struct sc_call *);
int64_t sys_mkdir(struct job *, struct sc_call *);
int64_t sys_mkdirat(struct job *, struct sc_call *);
int64_t sys_unlink(struct job *, struct sc_call *);
int64_t sys_unlinkat(struct job *, struct sc_call *);
int64_t sys_rmdir(struct job *, struct sc_call *);
int64_t sys_rename(struct job *, struct sc_call *);
int64_t sys_renameat(struct job *, struct sc_call *);
int64_t sys_renameat2(struct job *, struct sc_call *);
int64_t sys_ftruncate(struct job *, struct sc_call *);
int64_t sys_truncate(struct job *, struct sc_call *);
int64_t sys_fsync(struct job *, struct sc_call *);
int64_t sys_fdatasync(struct job *, struct sc_call *);
int64_t sys_chdir(struct job *, struct sc_call *);
int64_t sys_fchdir(struct job *, struct sc_call *);
int64_t sys_getcwd(struct job *, struct sc_call *);
int64_t sys_symlink(struct job *, struct sc_call *);
int64_t sys_symlinkat(struct job *, struct sc_call *);
int64_t sys_fchmod(struct job *, struct sc_call *);
int64_t sys_fchmodat(struct job *, struct sc_call *);
int64_t sys_chmod(struct job *, struct sc_call *);
int64_t sys_utimensat(struct job *, struct sc_call *);
int64_t sys_fchown(struct job *, struct sc_call *);
int64_t sys_creat(struct job *, struct sc_call *);
int64_t sys_link(struct job *, struct sc_call *);
int64_t sys_linkat(struct job *, struct sc_call *);
int64_t sys_statfs(struct job *, struct sc_call *);
int64_t sys_fstatfs(struct job *, struct sc_call *);
int64_t sys_fallocate(struct job *, struct sc_call *);
/* sys_info.c: sysinfo, CPU affinity, prctl, memory locks */
int64_t sys_sysinfo(struct job *, struct sc_call *);
int64_t sys_sched_getaffinity(struct job *, struct sc_call *);
int64_t sys_sched_setaffinity(struct job *, struct sc_call *);
int64_t sys_prctl(struct job *, struct sc_call *);
int64_t sys_mlock(struct job *, struct sc_call *);
int64_t sys_mlock2(struct job *, struct sc_call *);
int64_t sys_munlock(struct job *, struct sc_call *);
int64_t sys_mlockall(struct job *, struct sc_call *);
int64_t sys_munlockall(struct job *, struct sc_call *);
int64_t sys_umask(struct job *, struct sc_call *);
/* sys_lock.c: flock (fcntl's locks come through sys_fcntl) */
int64_t sys_flock(struct job *, struct sc_call *);
int64_t sys_fchownat(struct job *, struct sc_call *);
int64_t sys_fadvise64(struct job *, struct sc_call *);

/* isovm's own: ISOVM_SYS_CAP_* (sys_cap.c) */
int64_t sys_isovm_cap_derive(struct job *, struct sc_call *);
int64_t sys_isovm_cap_revoke(struct job *, struct sc_call *);
int64_t sys_isovm_cap_info(struct job *, struct sc_call *);

#endif
