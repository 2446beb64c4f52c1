/* The support table: for each syscall isovm answers, how much of it, and notes; test_syscall_doc keeps it, the handlers and docs/syscalls.md in step. */
#include "vmm/hypercall/syscall_support.h"
#include <sys/syscall.h>
#include "firmware/abi.h"

#define Y(sys, ...) { SYS_##sys, SC_FULL, "" __VA_ARGS__ }
#define P(sys, note) { SYS_##sys, SC_PARTIAL, note }
#define R(sys, note) { SYS_##sys, SC_REFUSED, note }
#define N(sys, note) { SYS_##sys, SC_NO, note }

const struct sc_support_row syscall_support[] = {
    /* I/O on descriptors */
    Y(read, "throttled by the policy's I/O buckets"),
    Y(write, "throttled by the policy's I/O buckets"),
    Y(readv),
    Y(writev),
    Y(pread64),
    Y(pwrite64),
    Y(lseek),
    Y(close),
    Y(dup),
    Y(dup2),
    P(dup3, "O_CLOEXEC only"),
    P(fcntl, "F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL (O_APPEND, O_NONBLOCK); "
             "record locks F_GETLK, F_SETLK, F_SETLKW and the OFD ones on files; others EINVAL"),
    P(ioctl, "TCGETS and TIOCGWINSZ on the console; ENOTTY otherwise"),
    P(poll, "any descriptor: files and the console ready, sockets as the host says"),
    P(ppoll, "as poll; the signal mask applies while it waits"),
    /* memory */
    Y(brk),
    P(mmap, "anonymous, and regular files of the job's (MAP_PRIVATE; MAP_SHARED, writable with the write right); frames given at first touch; writable maps larger than the frames left: ENOMEM"),
    Y(munmap),
    Y(mprotect),
    P(mremap, "anonymous mappings; a file's mapping is not moved or grown (EINVAL)"),
    P(msync, "MS_SYNC writes a shared file mapping back; MS_ASYNC, anonymous memory: nothing to do"),
    P(madvise, "MADV_DONTNEED and MADV_FREE free the frames at once; other advice accepted"),
    P(mlock, "the range must be mapped; its pages are given (counted) at once; nothing is swapped"),
    P(mlock2, "as mlock; MLOCK_ONFAULT accepted"),
    P(munlock, "as mlock"),
    P(mlockall, "accepted, no effect"),
    P(munlockall, "accepted, no effect"),
    /* threads and the process */
    P(clone, "threads, and processes (a copy of the address space; CLONE_VM only with "
             "CLONE_VFORK; CLONE_FILES, CLONE_FS, CLONE_SIGHAND without CLONE_THREAD: EINVAL; "
             "namespaces: EPERM)"),
    R(clone3, "ENOSYS: C libraries fall back to clone"),
    P(futex, "WAIT, WAIT_BITSET, WAKE, WAKE_BITSET, REQUEUE, CMP_REQUEUE, WAKE_OP; no PI operations"),
    Y(set_tid_address),
    P(set_robust_list, "recorded, never walked"),
    R(rseq, "ENOSYS: C libraries go on without it"),
    Y(exit),
    Y(exit_group),
    Y(gettid),
    Y(getpid),
    P(getppid, "the first process: 0 (as PID 1's)"),
    P(getuid, "0"),
    P(geteuid, "0"),
    P(getgid, "0"),
    P(getegid, "0"),
    Y(sched_yield),
    P(sched_getaffinity, "CPUs 0..n-1, n the job's max_threads (at most 64)"),
    P(sched_setaffinity, "accepted when the mask names one of the job's CPUs; no effect"),
    P(arch_prctl, "ARCH_SET_FS and ARCH_GET_FS, per thread; GS is the firmware's (EPERM)"),
    P(prctl, "PR_SET_NAME, PR_GET_NAME; PDEATHSIG, DUMPABLE, TIMERSLACK, CHILD_SUBREAPER recorded; "
             "NO_NEW_PRIVS always on; PR_GET_SECCOMP 0; others EINVAL"),
    P(prlimit64, "recorded, not enforced; a hard limit is never raised"),
    P(getrlimit, "as prlimit64"),
    P(uname, "a fixed answer: Linux 6.1.0-isovm, x86_64, node isovm"),
    P(sysinfo, "the job's machine: RAM its memory limit, no swap, its uptime and threads"),
    Y(umask, "the job's, inherited from isovm launch"),
    /* signals */
    P(rt_sigaction, "handlers run on a Linux frame, CPU faults' too (x87/SSE state: AVX's upper "
                    "halves are not saved); SA_RESTART, NODEFER, RESETHAND, ONSTACK; SA_RESTORER needed"),
    Y(rt_sigprocmask),
    Y(rt_sigpending),
    P(sigaltstack, "SS_AUTODISARM accepted and not applied"),
    P(kill, "to the job's processes (pid, group, -1); no job control: stop signals are ignored"),
    P(tkill, "as kill, to one thread"),
    P(tgkill, "as kill, to one thread"),
    P(rt_sigreturn, "the frame is checked: a kernel or non-canonical rip or rsp, or reserved "
                    "MXCSR bits, kill with SIGSEGV; cs, ss never read"),
    P(rt_sigsuspend, "a signal taken in the firmware's few instructions waits for the next exit"),
    Y(pause),
    /* time and randomness */
    P(clock_gettime, "the host's clocks, or the virtual clock in deterministic mode"),
    Y(clock_getres),
    Y(gettimeofday),
    Y(time),
    Y(nanosleep),
    Y(clock_nanosleep),
    P(getrandom, "the host's, or the policy's seed in deterministic mode"),
    /* the file system: only through grants (docs/filesystem.md) */
    P(open, "beneath the grants; FIFOs, devices and sockets ENXIO"),
    P(openat, "as open"),
    Y(creat),
    R(openat2, "ENOSYS: C libraries fall back to openat"),
    P(stat, "a file's own mode; uid and gid 0; st_dev the grant"),
    P(lstat, "as stat"),
    P(fstat, "as stat"),
    P(newfstatat, "as stat"),
    R(statx, "ENOSYS: C libraries fall back to fstatat"),
    P(statfs, "the grant's file system, its identity left out; read-only without write rights"),
    P(fstatfs, "as statfs"),
    Y(access),
    Y(faccessat),
    Y(faccessat2),
    Y(getdents64),
    Y(getcwd),
    Y(chdir),
    Y(fchdir),
    P(readlink, "also /proc/self/exe"),
    P(readlinkat, "as readlink"),
    Y(mkdir),
    Y(mkdirat),
    Y(unlink),
    Y(unlinkat),
    Y(rmdir),
    P(rename, "within one grant (EXDEV across grants)"),
    P(renameat, "as rename"),
    P(renameat2, "as rename; RENAME_NOREPLACE only"),
    P(link, "within one grant (EXDEV across grants); a climbing host symlink is refused"),
    P(linkat, "as link; AT_SYMLINK_FOLLOW needs /proc (EPERM in a jailed VMM), AT_EMPTY_PATH ENOENT"),
    P(symlink, "downward targets only (EPERM for .. or absolute ones)"),
    P(symlinkat, "as symlink"),
    Y(truncate),
    Y(ftruncate),
    P(fallocate, "modes 0 and FALLOC_FL_KEEP_SIZE; others EOPNOTSUPP"),
    Y(fsync),
    Y(fdatasync),
    P(chmod, "no set-user-ID or set-group-ID bits"),
    P(fchmod, "as chmod"),
    P(fchmodat, "as chmod"),
    Y(utimensat),
    P(fchown, "only to the owner every file shows (0) or unchanged (-1)"),
    P(fchownat, "as fchown"),
    P(fadvise64, "accepted, no effect"),
    P(flock, "on files and directories (the console, sockets: EINVAL)"),
    R(sendfile, "ENOSYS: callers fall back to read and write"),
    /* the network: only the policy's endpoints (docs/network.md) */
    P(socket, "IPv4 and IPv6 TCP and UDP, for the policy's endpoints only"),
    P(connect, "to a granted endpoint"),
    P(bind, "to a granted listening endpoint"),
    P(listen, "on a granted listening endpoint"),
    Y(accept),
    Y(accept4),
    Y(sendto),
    Y(recvfrom),
    P(sendmsg, "no ancillary data"),
    P(recvmsg, "no ancillary data"),
    Y(shutdown),
    Y(getsockname),
    Y(getpeername),
    P(setsockopt, "the options network.md lists"),
    P(getsockopt, "the options network.md lists"),
    /* not yet: what issue 17 brings to the hypercall tier */
    P(fork, "the child's address space is a copy (not copy-on-write), counted in the one "
            "memory limit; max_processes"),
    P(vfork, "as fork (a copy), the caller held until the child execs or ends"),
    P(execve, "static x86-64 programs (ELF, static-PIE) and #! scripts, beneath a grant with "
              "the read and exec rights, or /proc/self/exe; a dynamically linked program: ENOEXEC"),
    P(execveat, "as execve; AT_EMPTY_PATH on a descriptor opened for reading (not O_PATH)"),
    P(wait4, "ends only (WUNTRACED, WCONTINUED: nothing stops); rusage: user time only"),
    P(waitid, "P_ALL, P_PID, P_PGID (no P_PIDFD); WEXITED only reports"),
    Y(pipe),
    P(pipe2, "O_CLOEXEC, O_NONBLOCK; O_DIRECT (packet mode): EINVAL"),
    P(select, "as poll: each descriptor in a set polled for what the set asks (Linux's sets); "
              "the time left written back"),
    P(pselect6, "as select; the signal mask applies while it waits"),
    P(epoll_create1, "a host epoll held as a capability (EPOLL_CLOEXEC)"),
    P(epoll_create, "as epoll_create1(0) (size must be positive)"),
    P(epoll_ctl, "the host object is registered (ET, ONESHOT, EXCLUSIVE the kernel's); "
                 "a dup's second ADD: EEXIST; ungranted datagrams may report EPOLLIN"),
    Y(epoll_wait),
    Y(epoll_pwait, "the signal mask applies while it waits"),
    P(eventfd2, "a host eventfd held as a capability: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC"),
    P(eventfd, "as eventfd2 with no flags"),
    Y(rt_sigtimedwait),
    P(rt_sigqueueinfo, "one pending signal per number (real-time signals are not queued "
                       "twice); si_code, si_pid and the sigval kept"),
    P(rt_tgsigqueueinfo, "as rt_sigqueueinfo"),
    Y(alarm),
    P(setitimer, "ITIMER_VIRTUAL and ITIMER_PROF both count the process's vCPU time (the "
                 "job's code and isovm's handling of its calls)"),
    P(getitimer, "as setitimer"),
    P(timer_create, "CLOCK_REALTIME, MONOTONIC, BOOTTIME, PROCESS_CPUTIME_ID (the vCPU time) "
                    "and THREAD_CPUTIME_ID; SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID; 32 a "
                    "process; the *_ALARM clocks and TAI: EOPNOTSUPP"),
    P(timer_settime, "TIMER_ABSTIME on CLOCK_REALTIME is taken as of the call (a later change "
                     "of the host's clock does not move it)"),
    Y(timer_gettime),
    Y(timer_getoverrun),
    Y(timer_delete),
    Y(setpgid),
    Y(getpgid),
    Y(getpgrp),
    Y(setsid),
    Y(getsid),
};

const size_t syscall_support_count = sizeof syscall_support / sizeof syscall_support[0];

const struct sc_support_row *syscall_support_of(unsigned nr)
{
    for (size_t i = 0; i < syscall_support_count; i++)
        if (syscall_support[i].nr == nr)
            return &syscall_support[i];
    return NULL;
}

const char *syscall_support_name(enum sc_support level)
{
    return level == SC_FULL ? "yes" : level == SC_PARTIAL ? "partial" : "no";
}
