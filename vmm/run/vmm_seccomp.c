/* The VMM's own seccomp filter (docs/security.md): the allowlist table, its builder and installer. */
#include "vmm/run/vmm_seccomp.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lib/log.h"
#include "lib/test_hooks.h"

/* Row shorthands: ROW(syscall, [ARGS(conditions...),] .reason = ...); a row without ARGS allows
 * any arguments. */
#define ROW(sys, ...) { .nr = SYS_##sys, .name = #sys, __VA_ARGS__ }
#define ARGS(...) .nargs = sizeof((struct vsc_arg[]){ __VA_ARGS__ }) / sizeof(struct vsc_arg), \
                  .args = { __VA_ARGS__ }
#define VALS(...) .nvalues = sizeof((uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t), \
                  .values = { __VA_ARGS__ }
/* argument i is a descriptor: 0 <= a[i] < 2^31 (AT_FDCWD and any other negative value kill) */
#define FD_ARG(i) { .index = (i), .op = VSC_BELOW, VALS(0x80000000ull) }
/* argument i has none of the bits of m */
#define NO_BITS(i, m) { .index = (i), .op = VSC_IN, .mask = (m), VALS(0) }
/* argument i (all 64 bits) is one of the values */
#define ONE_OF(i, ...) { .index = (i), .op = VSC_IN, VALS(__VA_ARGS__) }
/* the low 32 bits of argument i (an int in the kernel) are one of the values */
#define INT_OF(i, ...) { .index = (i), .op = VSC_IN, .mask = 0xffffffffull, VALS(__VA_ARGS__) }

/* glibc's pthread_create (the clone fallback after clone3's ENOSYS): exactly these flags. */
#define PTHREAD_CLONE_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_SIGHAND | \
                             CLONE_THREAD | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define OWN_PID VSC_OWN_PID

const struct vsc_rule vsc_rules[] = {
    /* memory */
    ROW(mmap, ARGS(NO_BITS(2, PROT_EXEC)),
        .reason = "malloc, thread stacks, a new vCPU's kvm_run area; never executable"),
    ROW(mprotect, ARGS(NO_BITS(2, PROT_EXEC)),
        .reason = "glibc thread stack guards and malloc arenas; never executable"),
    ROW(munmap, .reason = "free, thread stacks, a vCPU's kvm_run area"),
    ROW(mremap, .reason = "realloc of large blocks (cannot add PROT_EXEC)"),
    ROW(msync, ARGS(INT_OF(2, MS_SYNC)), .reason = "a guest msync(MS_SYNC) of a file's mapping"),
    ROW(brk, .reason = "malloc's main arena"),
    ROW(madvise, ARGS(INT_OF(2, MADV_DONTNEED, MADV_DONTDUMP, MADV_NOHUGEPAGE)),
        .reason = "guest munmap/madvise zero pages; glibc frees thread stacks and arena tops; "
                  "a file's range of the window made anonymous again (no dump, no huge pages)"),
    /* threads, signals, time */
    ROW(clone, ARGS(ONE_OF(0, PTHREAD_CLONE_FLAGS)),
        .reason = "pthread_create for a job thread's host thread; threads only, no new process"),
    ROW(clone3, .errno_value = ENOSYS,
        .reason = "fails with ENOSYS (its flags are in memory, out of the filter's sight): glibc "
                  "falls back to clone, whose flags are checked"),
    ROW(set_robust_list, .reason = "glibc, in every new thread"),
    ROW(rseq, .reason = "glibc registers restartable sequences in every new thread"),
    ROW(futex, .reason = "mutexes, condition variables (the job lock, guest futexes), joins"),
    ROW(sched_yield, .reason = "a guest sched_yield"),
    ROW(exit, .reason = "a host thread ends"),
    ROW(exit_group, .reason = "the VMM ends"),
    ROW(rt_sigprocmask, .reason = "vCPU threads unblock SIGUSR1 (the kick) around KVM_RUN"),
    ROW(rt_sigreturn, .reason = "return from the SIGUSR1 kick handler"),
    ROW(tgkill, ARGS(ONE_OF(0, OWN_PID)),
        .reason = "pthread_kill: kicks of vCPU threads, wake-ups of the supervisor; own threads only"),
    ROW(gettid, .reason = "pthread_kill of the calling thread (a vCPU thread kicking itself)"),
    ROW(rt_sigaction, ARGS(INT_OF(0, 33)),
        .reason = "glibc's first pthread_create installs its internal SIGSETXID (33) handler; "
                  "no other signal"),
    ROW(getpid, .reason = "pthread_kill's tgkill argument; the control socket's status answer"),
    ROW(geteuid, .reason = "the control socket checks its peer's uid"),
    ROW(signalfd4, .reason = "the supervisor's signal descriptor"),
    ROW(ppoll, .reason = "the supervisor's wait (signals, control socket, deadlines); network waits"),
    ROW(poll, .reason = "network waits; the Linux tier's device thread and supervisor"),
    ROW(timerfd_settime, .reason = "the Linux tier's disk throttle timer"),
    ROW(clock_gettime, .reason = "thread CPU clocks (not in the vDSO); the job's clocks"),
    ROW(clock_getres, .reason = "a guest clock_getres of a CPU-time clock"),
    ROW(getrandom, .reason = "a guest getrandom (non-deterministic jobs)"),
    /* the vCPUs */
    ROW(ioctl, ARGS(ONE_OF(1, KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
                           KVM_GET_VCPU_EVENTS, KVM_GET_FPU, KVM_SET_FPU, KVM_GET_XSAVE,
                           KVM_SET_XSAVE, KVM_CREATE_VCPU, KVM_SET_CPUID2, KVM_SET_XCRS,
                           KVM_SET_MSRS, KVM_GET_MSRS, KVM_SET_MP_STATE,
                           KVM_SET_USER_MEMORY_REGION, TCGETS, TIOCGWINSZ)),
        .reason = "KVM_RUN, registers and FPU of the run loop, clone, signal frames, TLB "
                  "shootdowns; KVM_CREATE_VCPU and its setup for a new thread (KVM_SET_MP_STATE: "
                  "beside an in-kernel APIC); a window's memslot at its first use; "
                  "TCGETS/TIOCGWINSZ for a guest ioctl on the console (isatty)"),
    /* descriptors the VMM already holds */
    ROW(read, .reason = "job I/O, the signal descriptor, the control socket"),
    ROW(write, .reason = "job I/O, diagnostics, audit log, report"),
    ROW(readv, .reason = "a guest readv"),
    ROW(writev, .reason = "a guest writev"),
    ROW(pread64, .reason = "a guest pread64, the read cache"),
    ROW(pwrite64, .reason = "a guest pwrite64"),
    ROW(preadv, .reason = "a guest preadv of several guest pages"),
    ROW(pwritev, .reason = "a guest pwritev of several guest pages"),
    ROW(lseek, .reason = "a guest lseek, the read cache"),
    ROW(close, .reason = "a guest close, ends of connections and threads"),
    ROW(fcntl, ARGS(INT_OF(1, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GETLK,
                           F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW)),
        .reason = "a guest dup/fcntl (F_DUPFD_CLOEXEC, F_SETFL O_APPEND, record locks), "
                  "non-blocking sockets and pipes"),
    ROW(pipe2, ARGS(INT_OF(1, O_CLOEXEC, O_CLOEXEC | O_NONBLOCK)),
        .reason = "a guest pipe/pipe2: a host pipe, close-on-exec, perhaps non-blocking"),
    ROW(epoll_create1, ARGS(INT_OF(0, EPOLL_CLOEXEC)),
        .reason = "a guest epoll_create/epoll_create1: a host epoll, close-on-exec"),
    ROW(epoll_ctl, .reason = "a guest epoll_ctl: its descriptor's host object in the host epoll"),
    ROW(epoll_wait, .reason = "a guest epoll_wait/epoll_pwait"),
    ROW(epoll_pwait, .reason = "a guest epoll_wait/epoll_pwait (a C library may use either)"),
    ROW(eventfd2, .reason = "a guest eventfd/eventfd2: a host eventfd"),
    ROW(flock, .reason = "a guest flock"),
    ROW(getdents64, .reason = "a guest getdents64 on a granted directory"),
    ROW(ftruncate, .reason = "a guest ftruncate/truncate"),
    ROW(fsync, .reason = "a guest fsync"),
    ROW(fdatasync, .reason = "a guest fdatasync"),
    ROW(fchmod, .reason = "a guest fchmod"),
    ROW(fstatfs, .reason = "a guest statfs/fstatfs of a grant"),
    ROW(fallocate, .reason = "a guest fallocate"),
    /* paths: only beneath a descriptor (a grant's, or /proc/self/fd opened before the filter) */
    ROW(openat2, ARGS(FD_ARG(0)),
        .reason = "every guest path is opened beneath its grant's descriptor (RESOLVE_BENEATH)"),
    ROW(openat, ARGS(FD_ARG(0)),
        .reason = "reopen a file grant's O_PATH descriptor through /proc/self/fd"),
    ROW(newfstatat, ARGS(FD_ARG(0)), .reason = "fstat (glibc's AT_EMPTY_PATH) and guest stat"),
    ROW(faccessat2, ARGS(FD_ARG(0)), .reason = "a guest access/faccessat"),
    ROW(readlinkat, ARGS(FD_ARG(0)), .reason = "a guest readlink; a grant's root path"),
    ROW(mkdirat, ARGS(FD_ARG(0)), .reason = "a guest mkdir"),
    ROW(unlinkat, ARGS(FD_ARG(0)), .reason = "a guest unlink/rmdir; the control socket's removal"),
    ROW(renameat2, ARGS(FD_ARG(0), FD_ARG(2)), .reason = "a guest rename"),
    ROW(symlinkat, ARGS(FD_ARG(1)), .reason = "a guest symlink"),
    ROW(linkat, ARGS(FD_ARG(0), FD_ARG(2)), .reason = "a guest link/linkat"),
    ROW(fchmodat, ARGS(FD_ARG(0)), .reason = "a guest chmod"),
    ROW(utimensat, ARGS(FD_ARG(0)), .reason = "a guest utimensat/futimens"),
    /* sockets: the control socket (created before) and the job's granted network endpoints */
    ROW(socket, ARGS(INT_OF(0, AF_INET, AF_INET6),
                     { .index = 1, .op = VSC_IN, .mask = 0xffffffffull & ~(uint64_t)SOCK_NONBLOCK,
                       VALS(SOCK_STREAM | SOCK_CLOEXEC, SOCK_DGRAM | SOCK_CLOEXEC) },
                     INT_OF(2, 0, IPPROTO_TCP, IPPROTO_UDP)),
        .reason = "a granted network endpoint: IPv4/IPv6 TCP or UDP, close-on-exec"),
    ROW(connect, .reason = "a granted network endpoint"),
    ROW(bind, .reason = "a granted network endpoint"),
    ROW(listen, .reason = "a granted network endpoint"),
    ROW(accept4, .reason = "the control socket; a granted listening endpoint"),
    ROW(sendto, .reason = "the control socket's answers; network endpoints"),
    ROW(recvfrom, .reason = "the control socket's requests; network endpoints"),
    ROW(sendmsg, .reason = "network endpoints"),
    ROW(recvmsg, .reason = "network endpoints"),
    ROW(shutdown, .reason = "network endpoints"),
    ROW(getsockname, .reason = "network endpoints"),
    ROW(getpeername, .reason = "network endpoints"),
    ROW(setsockopt, .reason = "network endpoints"),
    ROW(getsockopt, .reason = "the control socket's SO_PEERCRED; network endpoints"),
};
const size_t vsc_rules_count = sizeof vsc_rules / sizeof vsc_rules[0];

/* The Linux tier's allowlist, separate from the hypercall tier's (vsc_rules, unchanged): what
 * its VMM calls once the filter is on, measured with strace -f over launches of every kind
 * (docs/security.md). The VM, its devices (eventfds, KVM_IRQFD, KVM_IOEVENTFD), the disks'
 * descriptors, the console log, the report file and the snapshot (made, or restored with the
 * KVM_SET_* ioctls) are all set up before it, so none of those calls is here. */
const struct vsc_rule vsc_linux_rules[] = {
    /* memory */
    ROW(mmap, ARGS(NO_BITS(2, PROT_EXEC)),
        .reason = "thread stacks of the vCPU and device threads, malloc; never executable"),
    ROW(mprotect, ARGS(NO_BITS(2, PROT_EXEC)),
        .reason = "glibc's guard pages of those thread stacks; never executable"),
    ROW(munmap, .reason = "a joined thread's stack, free of large blocks"),
    ROW(mremap, .reason = "realloc of large blocks (the report's JSON text; cannot add PROT_EXEC)"),
    ROW(brk, .reason = "malloc's main arena (the report)"),
    ROW(madvise, ARGS(INT_OF(2, MADV_DONTNEED)),
        .reason = "glibc frees an ended thread's stack"),
    /* threads, signals, time */
    ROW(clone, ARGS(ONE_OF(0, PTHREAD_CLONE_FLAGS)),
        .reason = "pthread_create of the vCPU threads and the device thread; threads only"),
    ROW(clone3, .errno_value = ENOSYS,
        .reason = "fails with ENOSYS (its flags are out of the filter's sight): glibc falls back "
                  "to clone, whose flags are checked"),
    ROW(set_robust_list, .reason = "glibc, in every new thread"),
    ROW(rseq, .reason = "glibc registers restartable sequences in every new thread"),
    ROW(futex, .reason = "the devices' lock, the vCPUs' park and resume, joins"),
    ROW(exit, .reason = "a vCPU or device thread ends"),
    ROW(exit_group, .reason = "the VMM ends"),
    ROW(rt_sigprocmask, .reason = "vCPU threads unblock SIGUSR1 (the kick); glibc around clone"),
    ROW(rt_sigreturn, .reason = "return from the SIGUSR1 kick handler"),
    ROW(tgkill, ARGS(ONE_OF(0, OWN_PID)),
        .reason = "kicks of vCPU threads out of KVM_RUN (stop, CPU quota); own threads only"),
    ROW(gettid, .reason = "pthread_kill of the calling thread"),
    ROW(getpid, .reason = "pthread_kill's tgkill argument"),
    ROW(rt_sigaction, ARGS(INT_OF(0, 33)),
        .reason = "glibc's first pthread_create installs its internal SIGSETXID (33) handler; "
                  "no other signal"),
    ROW(poll, .reason = "the supervisor's wait (signals, the end, deadlines) and the device "
                        "thread's (ioeventfds, streams, the throttle timer)"),
    ROW(timerfd_settime, .reason = "the disks' I/O throttle timer"),
    ROW(clock_gettime, .reason = "the vCPUs' CPU time (not in the vDSO): CPU quota and limit"),
    /* the vCPUs */
    ROW(ioctl, ARGS(ONE_OF(1, KVM_RUN, TCGETS)),
        .reason = "KVM_RUN; TCGETS: stdio's isatty when the report file is a terminal. No other "
                  "ioctl: the VM, its memory, irqfds and ioeventfds are fixed before the filter"),
    /* descriptors the VMM already holds */
    ROW(read, .reason = "ioeventfds, the signal descriptor, the end eventfd, the job's stdin"),
    ROW(write, .reason = "irqfds, the job's stdout and stderr, the console log, diagnostics, the "
                         "report"),
    ROW(preadv, .reason = "virtio-blk reads of a disk image"),
    ROW(pwritev, .reason = "virtio-blk writes to a --disk IMG:rw"),
    ROW(fdatasync, .reason = "virtio-blk flush of a --disk IMG:rw"),
    ROW(newfstatat, ARGS(FD_ARG(0)),
        .reason = "fstat (glibc's AT_EMPTY_PATH) of the report file by stdio; never AT_FDCWD"),
    ROW(close, .reason = "descriptors at the end of the run"),
};
const size_t vsc_linux_rules_count = sizeof vsc_linux_rules / sizeof vsc_linux_rules[0];

/* The Linux tier's grants group, added only when the job has grants: the host calls of the
 * virtio-9p server that serves them (vmm/share/; the grants' integration cases run under it).
 * Every path call resolves beneath a grant's descriptor (openat2
 * RESOLVE_BENEATH) or names one component relative to a directory opened so, so its directory
 * argument must be a descriptor. */
const struct vsc_rule vsc_linux_grant_rules[] = {
    ROW(openat2, ARGS(FD_ARG(0)), .reason = "9p: every path opened beneath its grant's descriptor "
                                            "(RESOLVE_BENEATH); never AT_FDCWD"),
    ROW(openat, ARGS(FD_ARG(0)), .reason = "9p: a guest create, one name in a directory opened "
                                           "beneath its grant (O_EXCL|O_NOFOLLOW); never AT_FDCWD"),
    ROW(mkdirat, ARGS(FD_ARG(0)), .reason = "9p: a guest mkdir"),
    ROW(unlinkat, ARGS(FD_ARG(0)), .reason = "9p: a guest unlinkat or remove"),
    ROW(renameat2, ARGS(FD_ARG(0), FD_ARG(2)), .reason = "9p: a guest renameat"),
    ROW(symlinkat, ARGS(FD_ARG(1)), .reason = "9p: a guest symlink"),
    ROW(readlinkat, ARGS(FD_ARG(0)), .reason = "9p: a guest readlink"),
    ROW(linkat, ARGS(FD_ARG(0), FD_ARG(2)), .reason = "9p: a guest link"),
    ROW(fchmodat, ARGS(FD_ARG(0)), .reason = "9p: a guest setattr mode"),
    ROW(fchmod, .reason = "9p: a guest setattr mode of a grant's root"),
    ROW(fchownat, ARGS(FD_ARG(0)), .reason = "9p: a guest setattr owner"),
    ROW(fchown, .reason = "9p: a guest setattr owner of a grant's root"),
    ROW(utimensat, ARGS(FD_ARG(0)), .reason = "9p: a guest setattr times"),
    ROW(ftruncate, .reason = "9p: a guest setattr size"),
    ROW(getdents64, .reason = "9p: a guest readdir"),
    ROW(fsync, .reason = "9p: a guest fsync"),
    ROW(fstatfs, .reason = "9p: a guest statfs"),
    ROW(lseek, .reason = "9p: directory offsets of a guest readdir"),
    ROW(fcntl, ARGS(INT_OF(1, F_GETFL, F_SETFL)),
        .reason = "9p: O_NONBLOCK off an opened file (FIFOs are refused before)"),
};
const size_t vsc_linux_grant_rules_count =
    sizeof vsc_linux_grant_rules / sizeof vsc_linux_grant_rules[0];

/* The Linux tier's network group, added only when the job has endpoints (--connect, --listen):
 * the user-mode network stack (libslirp) on its own thread, reaching the policy's endpoints.
 * Planned with the network backend: measure with strace when it lands and keep this group to
 * what it makes. */
const struct vsc_rule vsc_linux_net_rules[] = {
    ROW(socket, ARGS(INT_OF(0, AF_INET, AF_INET6, AF_UNIX),
                     { .index = 1, .op = VSC_IN, .mask = 0xffffffffull & ~(uint64_t)SOCK_NONBLOCK,
                       VALS(SOCK_STREAM | SOCK_CLOEXEC, SOCK_DGRAM | SOCK_CLOEXEC) }),
        .reason = "net: the stack's TCP/UDP sockets toward the endpoints; Unix-domain sockets "
                  "in its private directory; close-on-exec, never raw or netlink"),
    ROW(connect, .reason = "net: a --connect endpoint"),
    ROW(bind, .reason = "net: a --listen endpoint"),
    ROW(listen, .reason = "net: a --listen endpoint"),
    ROW(accept4, .reason = "net: the VMM's own forwards accept slirp's connections to them"),
    ROW(accept, .reason = "net: libslirp accepts a connection to a --listen endpoint"),
    ROW(setsockopt, .reason = "net: socket options of the stack (non-blocking, keepalive, ...)"),
    ROW(getsockopt, .reason = "net: SO_ERROR of a non-blocking connect"),
    ROW(getsockname, .reason = "net: the stack's local addresses"),
    ROW(getpeername, .reason = "net: the stack's peer addresses"),
    ROW(sendto, .reason = "net: TCP and UDP sends"),
    ROW(recvfrom, .reason = "net: TCP and UDP receives"),
    ROW(sendmsg, .reason = "net: UDP sends"),
    ROW(recvmsg, .reason = "net: UDP receives"),
    ROW(shutdown, .reason = "net: half-closes of TCP connections"),
    ROW(pipe2, .reason = "net: a forward's pipe (its host-to-guest bytes)"),
    ROW(splice, .reason = "net: a forward's host-to-guest bytes, socket to pipe to socket"),
    ROW(ppoll, .reason = "net: the stack thread's wait"),
    ROW(eventfd2, .reason = "net: the stack thread's wake-up"),
    ROW(timerfd_create, .reason = "net: the stack's timers"),
    ROW(fcntl, ARGS(INT_OF(1, F_GETFL, F_SETFL)),
        .reason = "net: the stack's sockets and forwards made non-blocking"),
    ROW(unlinkat, ARGS(FD_ARG(0)), .reason = "net: the forwards' socket files and their private "
                                             "directory removed, by name in a descriptor"),
};
const size_t vsc_linux_net_rules_count = sizeof vsc_linux_net_rules / sizeof vsc_linux_net_rules[0];

/* The Linux tier's control group, added only when the job has a control socket (--control,
 * "control": isovm cap list / revoke from outside, vmm/run/control.c): one connection at a time
 * on the Unix socket made before the filter, and the socket file removed at the end. */
const struct vsc_rule vsc_linux_control_rules[] = {
    ROW(accept4, .reason = "control: a connection to the control socket"),
    ROW(getsockopt, .reason = "control: the client's credentials (SO_PEERCRED)"),
    ROW(geteuid, .reason = "control: the client must be the VMM's user or root"),
    ROW(recvfrom, .reason = "control: a request"),
    ROW(sendto, .reason = "control: an answer"),
    ROW(unlinkat, ARGS(FD_ARG(0)), .reason = "control: the socket file removed at the end, by "
                                             "name in its directory's descriptor"),
};
const size_t vsc_linux_control_rules_count =
    sizeof vsc_linux_control_rules / sizeof vsc_linux_control_rules[0];

/* The Linux tier's tenant group, added only when the job is charged to a tenant (--tenant,
 * "tenant"): the checkpoints sent to the ledger keeper and its verdicts, on the socket pair made
 * before the filter (docs/quota.md). */
const struct vsc_rule vsc_linux_tenant_rules[] = {
    ROW(sendto, .reason = "tenant: a checkpoint or the job's end to the ledger keeper"),
    ROW(recvfrom, .reason = "tenant: the keeper's verdicts and its settlement"),
};
const size_t vsc_linux_tenant_rules_count =
    sizeof vsc_linux_tenant_rules / sizeof vsc_linux_tenant_rules[0];

/* The Linux tier's pool group, added only when the job came through a pool (isovm launch
 * --pool, docs/pool.md): its client's signals, and its going away, read from the connection the
 * request brought. The status goes back with write, which the base list allows. */
const struct vsc_rule vsc_linux_pool_rules[] = {
    ROW(recvfrom, .reason = "pool: the client's signals and its hangup, on its connection"),
};
const size_t vsc_linux_pool_rules_count =
    sizeof vsc_linux_pool_rules / sizeof vsc_linux_pool_rules[0];

/* A pool's waiting VMMs (docs/pool.md): made ahead, they take a request from an untrusted
 * client and then do what a launch does before its filter (open the program, the grants, the
 * report; make a VM; fork a keeper), so the job's allowlist cannot be on them yet. This filter
 * is: everything but the calls no VMM ever makes, which kill the process. The job's allowlist is
 * stacked on it at the job's start (the kernel runs both; the stricter decides), so no row here
 * may name a syscall an allowlist allows (test_vmm_seccomp). */
const struct vsc_rule vsc_pool_wait_denied[] = {
    ROW(execve, .reason = "another program in the VMM's place"),
    ROW(execveat, .reason = "another program in the VMM's place"),
    ROW(ptrace, .reason = "another process's memory and registers (a sanitized build lets it "
                          "through: LeakSanitizer's tracer)"),
    ROW(process_vm_readv, .reason = "another process's memory"),
    ROW(process_vm_writev, .reason = "another process's memory"),
    ROW(pidfd_getfd, .reason = "another process's descriptors"),
    ROW(kcmp, .reason = "another process's descriptors and memory compared"),
    ROW(mount, .reason = "the mount table"),
    ROW(umount2, .reason = "the mount table"),
    ROW(pivot_root, .reason = "the mount table"),
    ROW(chroot, .reason = "the root"),
    ROW(open_tree, .reason = "the mount table"),
    ROW(move_mount, .reason = "the mount table"),
    ROW(fsopen, .reason = "the mount table"),
    ROW(fsmount, .reason = "the mount table"),
    ROW(fsconfig, .reason = "the mount table"),
    ROW(mount_setattr, .reason = "the mount table"),
    ROW(unshare, .reason = "new namespaces (a user namespace's privileges)"),
    ROW(setns, .reason = "other namespaces"),
    ROW(setuid, .reason = "the VMM's identity"),
    ROW(setgid, .reason = "the VMM's identity"),
    ROW(setreuid, .reason = "the VMM's identity"),
    ROW(setregid, .reason = "the VMM's identity"),
    ROW(setresuid, .reason = "the VMM's identity"),
    ROW(setresgid, .reason = "the VMM's identity"),
    ROW(setgroups, .reason = "the VMM's identity"),
    ROW(setfsuid, .reason = "the VMM's identity"),
    ROW(setfsgid, .reason = "the VMM's identity"),
    ROW(capset, .reason = "the VMM's capabilities"),
    ROW(bpf, .reason = "kernel programs and maps"),
    ROW(perf_event_open, .reason = "the kernel's performance counters and probes"),
    ROW(userfaultfd, .reason = "page faults held open (a kernel race's tool)"),
    ROW(io_uring_setup, .reason = "system calls outside any filter's sight"),
    ROW(io_uring_enter, .reason = "system calls outside any filter's sight"),
    ROW(io_uring_register, .reason = "system calls outside any filter's sight"),
    ROW(keyctl, .reason = "the kernel's keyrings"),
    ROW(add_key, .reason = "the kernel's keyrings"),
    ROW(request_key, .reason = "the kernel's keyrings"),
    ROW(init_module, .reason = "kernel modules"),
    ROW(finit_module, .reason = "kernel modules"),
    ROW(delete_module, .reason = "kernel modules"),
    ROW(kexec_load, .reason = "another kernel"),
    ROW(kexec_file_load, .reason = "another kernel"),
    ROW(reboot, .reason = "the machine"),
    ROW(swapon, .reason = "the machine's swap"),
    ROW(swapoff, .reason = "the machine's swap"),
    ROW(iopl, .reason = "the host's I/O ports"),
    ROW(ioperm, .reason = "the host's I/O ports"),
    ROW(settimeofday, .reason = "the host's clock"),
    ROW(clock_settime, .reason = "the host's clock"),
    ROW(clock_adjtime, .reason = "the host's clock"),
    ROW(adjtimex, .reason = "the host's clock"),
    ROW(syslog, .reason = "the kernel's log"),
    ROW(acct, .reason = "process accounting"),
    ROW(quotactl, .reason = "disk quotas"),
    ROW(open_by_handle_at, .reason = "a file by its handle, past every path check"),
    ROW(name_to_handle_at, .reason = "file handles"),
    ROW(fanotify_init, .reason = "the file system's events"),
    ROW(personality, .reason = "the process's execution domain"),
    ROW(vhangup, .reason = "the terminal"),
};
const size_t vsc_pool_wait_denied_count = sizeof vsc_pool_wait_denied / sizeof vsc_pool_wait_denied[0];

/* The sanitizer runtimes (ASan, UBSan, LeakSanitizer) make calls of their own: shadow memory,
 * reports, and LeakSanitizer's check at exit (a tracer task that ptrace-stops every thread and
 * reads /proc). Only the SAN=1 build (build-san/) has them; isovm itself never does. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
const struct vsc_rule vsc_san_rules[] = {
    ROW(madvise, .reason = "sanitizer: shadow memory advice of any kind"),
    ROW(open, .reason = "sanitizer: its raw open (the legacy syscall) of /proc/self/maps, "
                        "/proc/self/task at exit"),
    ROW(getdents, .reason = "LeakSanitizer: lists /proc/self/task at exit"),
    ROW(readlink, .reason = "sanitizer: /proc/self/exe for reports"),
    ROW(clone, ARGS(ONE_OF(0, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_UNTRACED)),
        .reason = "LeakSanitizer: its tracer task at exit (these flags exactly)"),
    ROW(ptrace, .reason = "LeakSanitizer: the tracer stops every thread to scan its registers"),
    ROW(wait4, .reason = "LeakSanitizer: waits for stopped threads and for its tracer"),
    ROW(prctl, .reason = "LeakSanitizer: PR_SET_PTRACER, PR_SET_PDEATHSIG, PR_GET_DUMPABLE"),
    ROW(sigaltstack, .reason = "sanitizer: alternate signal stacks for its handlers"),
    ROW(rt_sigaction, .reason = "sanitizer: its own handlers (any signal)"),
    ROW(getppid, .reason = "LeakSanitizer: the tracer checks its parent"),
    ROW(kill, .reason = "LeakSanitizer: the tracer ends itself or its parent on a failure"),
    ROW(sched_getaffinity, .reason = "sanitizer: processor count"),
    ROW(sched_yield, .reason = "LeakSanitizer: waits for its tracer at exit (the Linux tier's list "
                               "lacks it; the hypercall tier's has it for the guest)"),
    ROW(lseek, .reason = "LeakSanitizer: the tracer rewinds /proc/self/task (the Linux tier's list "
                         "lacks it; the hypercall tier's has it for the guest)"),
};
const size_t vsc_san_rules_count = sizeof vsc_san_rules / sizeof vsc_san_rules[0];
#else
const struct vsc_rule vsc_san_rules[1];
const size_t vsc_san_rules_count = 0;
#endif

static size_t distinct_syscalls(const struct vsc_rule *rows, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = rows[j].nr == rows[i].nr;
        count += !seen;
    }
    return count;
}

size_t vmm_seccomp_syscall_count(void)
{
    return distinct_syscalls(vsc_rules, vsc_rules_count);
}

size_t vmm_seccomp_linux_syscall_count(unsigned groups)
{
    struct vsc_table t[VSC_LINUX_TABLES_MAX];
    size_t n = vmm_seccomp_linux_tables(groups, t), count = 0;
    /* the groups name syscalls the base list lacks; one two groups share counts once */
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a < t[i].count; a++) {
            bool seen = false;
            for (size_t j = 0; j <= i && !seen; j++)
                for (size_t b = 0; b < (j == i ? a : t[j].count) && !seen; b++)
                    seen = t[j].rules[b].nr == t[i].rules[a].nr;
            count += !seen;
        }
    return count;
}

size_t vmm_seccomp_linux_tables(unsigned groups, struct vsc_table out[VSC_LINUX_TABLES_MAX])
{
    size_t n = 0;
    out[n++] = (struct vsc_table){ "linux", vsc_linux_rules, vsc_linux_rules_count };
    if (groups & VSC_LINUX_GRANTS)
        out[n++] = (struct vsc_table){ "linux grants", vsc_linux_grant_rules,
                                       vsc_linux_grant_rules_count };
    if (groups & VSC_LINUX_NET)
        out[n++] = (struct vsc_table){ "linux network", vsc_linux_net_rules,
                                       vsc_linux_net_rules_count };
    if (groups & VSC_LINUX_CONTROL)
        out[n++] = (struct vsc_table){ "linux control", vsc_linux_control_rules,
                                       vsc_linux_control_rules_count };
    if (groups & VSC_LINUX_TENANT)
        out[n++] = (struct vsc_table){ "linux tenant", vsc_linux_tenant_rules,
                                       vsc_linux_tenant_rules_count };
    if (groups & VSC_LINUX_POOL)
        out[n++] = (struct vsc_table){ "linux pool", vsc_linux_pool_rules,
                                       vsc_linux_pool_rules_count };
    return n;
}

static struct scmp_arg_cmp arg_cmp(const struct vsc_arg *a, unsigned v, int pid)
{
    uint64_t value = a->values[v] == OWN_PID ? (uint64_t)pid : a->values[v];
    if (a->op == VSC_BELOW)
        return (struct scmp_arg_cmp){ .arg = a->index, .op = SCMP_CMP_LT, .datum_a = value };
    if (a->mask)
        return (struct scmp_arg_cmp){ .arg = a->index, .op = SCMP_CMP_MASKED_EQ,
                                      .datum_a = a->mask, .datum_b = value & a->mask };
    return (struct scmp_arg_cmp){ .arg = a->index, .op = SCMP_CMP_EQ, .datum_a = value };
}

/* One table row: a libseccomp rule for every combination of its conditions' alternatives. */
static int rule_add(scmp_filter_ctx ctx, const struct vsc_rule *r, int pid)
{
    uint32_t action = r->errno_value ? SCMP_ACT_ERRNO((uint32_t)r->errno_value) : SCMP_ACT_ALLOW;
    unsigned pick[VSC_MAX_ARGS] = { 0 };
    for (;;) {
        struct scmp_arg_cmp cmp[VSC_MAX_ARGS];
        for (unsigned a = 0; a < r->nargs; a++)
            cmp[a] = arg_cmp(&r->args[a], pick[a], pid);
        int rc = seccomp_rule_add_exact_array(ctx, action, r->nr, r->nargs, cmp);
        if (rc < 0) {
            log_err("seccomp: cannot add the rule for %s: %s", r->name, strerror(-rc));
            return rc;
        }
        unsigned a = 0; /* the next combination, as an odometer */
        while (a < r->nargs && ++pick[a] == r->args[a].nvalues)
            pick[a++] = 0;
        if (a == r->nargs)
            return 0;
    }
}

int vmm_seccomp_build_tables(scmp_filter_ctx *out, uint32_t deflt, int pid,
                             const struct vsc_table *tables, size_t ntables)
{
    scmp_filter_ctx ctx = seccomp_init(deflt);
    if (!ctx) {
        log_err("seccomp: cannot create the filter (out of memory)");
        return -ENOMEM;
    }
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); /* every thread, should one exist */
    if (rc == 0) /* another architecture's numbering (i386 int 0x80, x32) kills the process too */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (rc == 0) /* a binary tree of syscall numbers: about 7 tests to any row instead of a list */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (rc < 0)
        log_err("seccomp: cannot set the filter's attributes: %s", strerror(-rc));
    /* rule_add names its row on failure. Rules of one syscall are alternatives: a sanitizer row
     * for a syscall the main table restricts widens it (madvise: any advice; clone:
     * LeakSanitizer's flags as well). */
    for (size_t t = 0; t < ntables; t++)
        for (size_t i = 0; rc == 0 && i < tables[t].count; i++)
            rc = rule_add(ctx, &tables[t].rules[i], pid);
    for (size_t i = 0; rc == 0 && i < vsc_san_rules_count; i++)
        rc = rule_add(ctx, &vsc_san_rules[i], pid);
    if (rc < 0) {
        seccomp_release(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

int vmm_seccomp_build(scmp_filter_ctx *out, uint32_t deflt, int pid)
{
    const struct vsc_table tier1 = { "hypercall", vsc_rules, vsc_rules_count };
    return vmm_seccomp_build_tables(out, deflt, pid, &tier1, 1);
}

int vmm_seccomp_no_new_privs(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        int e = errno;
        log_err("seccomp: cannot set no_new_privs: %s", strerror(e));
        return -e;
    }
    return 0;
}

/* no_new_privs, then the filter of these tables (the log action under the seccomp-log hook). */
static int install_tables(const struct vsc_table *tables, size_t ntables)
{
    int rc = vmm_seccomp_no_new_privs();
    if (rc < 0)
        return rc;
    scmp_filter_ctx ctx;
    uint32_t deflt = test_hook("seccomp-log") ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
    rc = vmm_seccomp_build_tables(&ctx, deflt, (int)getpid(), tables, ntables);
    if (rc < 0)
        return rc;
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        log_err("seccomp: cannot load the VMM's filter: %s", strerror(-rc));
    return rc;
}

int vmm_seccomp_install(void)
{
    const struct vsc_table tier1 = { "hypercall", vsc_rules, vsc_rules_count };
    return install_tables(&tier1, 1);
}

int vmm_seccomp_install_linux(unsigned groups)
{
    struct vsc_table t[VSC_LINUX_TABLES_MAX];
    size_t n = vmm_seccomp_linux_tables(groups, t);
    return install_tables(t, n);
}

int vmm_seccomp_install_pool_wait(void)
{
    int rc = vmm_seccomp_no_new_privs();
    if (rc < 0)
        return rc;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        log_err("seccomp: cannot create the waiting filter (out of memory)");
        return -ENOMEM;
    }
    rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1); /* the threads made ahead too */
    if (rc == 0)
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    for (size_t i = 0; rc == 0 && i < vsc_pool_wait_denied_count; i++) {
        bool san = false; /* what a sanitized build's runtime needs goes through */
        for (size_t j = 0; j < vsc_san_rules_count; j++)
            san |= vsc_san_rules[j].nr == vsc_pool_wait_denied[i].nr;
        if (!san)
            rc = seccomp_rule_add_exact(ctx, SCMP_ACT_KILL_PROCESS, vsc_pool_wait_denied[i].nr, 0);
        if (rc < 0)
            log_err("seccomp: cannot add the waiting filter's rule for %s: %s",
                    vsc_pool_wait_denied[i].name, strerror(-rc));
    }
    if (rc == 0 && (rc = seccomp_load(ctx)) < 0)
        log_err("seccomp: cannot load the waiting filter: %s", strerror(-rc));
    seccomp_release(ctx);
    return rc;
}

void vmm_seccomp_warn_disabled(void)
{
    fprintf(stderr, "isovm: WARNING: --no-seccomp: the VMM runs WITHOUT its seccomp filter; a guest "
                    "that escaped KVM could make any syscall (debugging only, never in production)\n");
}

static void hook_result(const char *name, long r)
{
    fprintf(stderr, "isovm: test hook %s: the call returned %ld (%s)\n", name, r,
            r < 0 ? strerror(errno) : "ok");
}

void vmm_seccomp_test_hooks(int kvm_fd)
{
    if (test_hook("seccomp-execve")) {
        char *const argv[] = { "/bin/echo", "seccomp-execve: the new program ran", NULL };
        char *const envp[] = { NULL };
        hook_result("seccomp-execve", execve(argv[0], argv, envp));
    }
    if (test_hook("seccomp-fork")) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        if (pid > 0)
            waitpid(pid, NULL, 0);
        hook_result("seccomp-fork", pid);
    }
    if (test_hook("seccomp-ioctl")) {
        int fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
        hook_result("seccomp-ioctl", fd);
        if (fd >= 0)
            close(fd);
    }
    if (test_hook("seccomp-mmap-exec")) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        hook_result("seccomp-mmap-exec", p == MAP_FAILED ? -1 : 0);
        if (p != MAP_FAILED)
            munmap(p, 4096);
    }
    if (test_hook("seccomp-open-cwd")) {
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        hook_result("seccomp-open-cwd", fd);
        if (fd >= 0)
            close(fd);
    }
    if (test_hook("seccomp-socket-netlink")) {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
        hook_result("seccomp-socket-netlink", fd);
        if (fd >= 0)
            close(fd);
    }
}
