/* Maps Linux x86-64 syscall numbers to isovm's handlers and names. */
#include <stddef.h>
#include <sys/syscall.h>
#include "abi.h"
#include "syscalls.h"

struct sc_entry {
    sc_handler fn;
    const char *name;
};

#define SC(nr, fn) [nr] = { fn, #nr }

static const struct sc_entry table[SYSCALL_TABLE_SIZE] = {
    SC(SYS_read, sys_read),
    SC(SYS_write, sys_write),
    SC(SYS_readv, sys_readv),
    SC(SYS_writev, sys_writev),
    SC(SYS_close, sys_close),
    SC(SYS_ioctl, sys_ioctl),
    SC(SYS_fstat, sys_fstat),
    SC(SYS_newfstatat, sys_newfstatat),
    SC(SYS_fcntl, sys_fcntl),
    SC(SYS_brk, sys_brk),
    SC(SYS_mmap, sys_mmap),
    SC(SYS_munmap, sys_munmap),
    SC(SYS_mprotect, sys_mprotect),
    SC(SYS_mremap, sys_mremap),
    SC(SYS_madvise, sys_madvise),
    SC(SYS_clock_gettime, sys_clock_gettime),
    SC(SYS_clock_getres, sys_clock_getres),
    SC(SYS_gettimeofday, sys_gettimeofday),
    SC(SYS_time, sys_time),
    SC(SYS_nanosleep, sys_nanosleep),
    SC(SYS_clock_nanosleep, sys_clock_nanosleep),
    SC(SYS_exit, sys_exit),
    SC(SYS_exit_group, sys_exit_group),
    SC(SYS_arch_prctl, sys_arch_prctl),
    SC(SYS_set_tid_address, sys_set_tid_address),
    SC(SYS_set_robust_list, sys_set_robust_list),
    SC(SYS_uname, sys_uname),
    SC(SYS_getpid, sys_getpid),
    SC(SYS_gettid, sys_gettid),
    SC(SYS_getppid, sys_getppid),
    SC(SYS_getuid, sys_getid),
    SC(SYS_geteuid, sys_getid),
    SC(SYS_getgid, sys_getid),
    SC(SYS_getegid, sys_getid),
    SC(SYS_getrandom, sys_getrandom),
    SC(SYS_rt_sigaction, sys_rt_sigaction),
    SC(SYS_rt_sigprocmask, sys_rt_sigprocmask),
    SC(SYS_sigaltstack, sys_sigaltstack),
    SC(SYS_prlimit64, sys_prlimit64),
    SC(SYS_getrlimit, sys_getrlimit),
    SC(SYS_readlink, sys_readlink),
    SC(SYS_readlinkat, sys_readlinkat),
    SC(SYS_sched_yield, sys_sched_yield),
    SC(SYS_rseq, sys_enosys_quiet),
    SC(SYS_kill, sys_kill),
    SC(SYS_tkill, sys_tkill),
    SC(SYS_tgkill, sys_tgkill),
    SC(SYS_clone, sys_clone),
    SC(SYS_clone3, sys_enosys_quiet),
    SC(SYS_futex, sys_futex),
    SC(SYS_dup, sys_dup),
    SC(SYS_dup2, sys_dup2),
    SC(SYS_dup3, sys_dup3),
    SC(SYS_open, sys_open),
    SC(SYS_openat, sys_openat),
    SC(SYS_stat, sys_stat),
    SC(SYS_lstat, sys_lstat),
    SC(SYS_access, sys_access),
    SC(SYS_faccessat, sys_faccessat),
    SC(SYS_faccessat2, sys_faccessat2),
    SC(SYS_getdents64, sys_getdents64),
    SC(SYS_lseek, sys_lseek),
    SC(SYS_pread64, sys_pread64),
    SC(SYS_pwrite64, sys_pwrite64),
    SC(SYS_mkdir, sys_mkdir),
    SC(SYS_mkdirat, sys_mkdirat),
    SC(SYS_unlink, sys_unlink),
    SC(SYS_unlinkat, sys_unlinkat),
    SC(SYS_rmdir, sys_rmdir),
    SC(SYS_rename, sys_rename),
    SC(SYS_renameat, sys_renameat),
    SC(SYS_renameat2, sys_renameat2),
    SC(SYS_ftruncate, sys_ftruncate),
    SC(SYS_truncate, sys_truncate),
    SC(SYS_fsync, sys_fsync),
    SC(SYS_fdatasync, sys_fdatasync),
    SC(SYS_chdir, sys_chdir),
    SC(SYS_fchdir, sys_fchdir),
    SC(SYS_getcwd, sys_getcwd),
    SC(SYS_symlink, sys_symlink),
    SC(SYS_symlinkat, sys_symlinkat),
    SC(SYS_fchmod, sys_fchmod),
    SC(SYS_fchmodat, sys_fchmodat),
    SC(SYS_chmod, sys_chmod),
    SC(SYS_utimensat, sys_utimensat),
    SC(SYS_fchown, sys_fchown),
    SC(SYS_fchownat, sys_fchownat),
    SC(SYS_fadvise64, sys_fadvise64),
    SC(SYS_statx, sys_enosys_quiet),
    SC(SYS_openat2, sys_enosys_quiet),
    SC(SYS_sendfile, sys_enosys_quiet),
    [ISOVM_SYS_CAP_DERIVE] = { sys_isovm_cap_derive, "SYS_isovm_cap_derive" },
    [ISOVM_SYS_CAP_REVOKE] = { sys_isovm_cap_revoke, "SYS_isovm_cap_revoke" },
    [ISOVM_SYS_CAP_INFO] = { sys_isovm_cap_info, "SYS_isovm_cap_info" },
};

sc_handler syscall_lookup(uint64_t nr)
{
    return nr < SYSCALL_TABLE_SIZE ? table[nr].fn : NULL;
}

const char *syscall_name(uint64_t nr)
{
    if (nr < SYSCALL_TABLE_SIZE && table[nr].name)
        return table[nr].name + 4; /* skip "SYS_" */
    return NULL;
}
