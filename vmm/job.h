/* One job: its VM, its single address space, descriptors, counters and how it ended. */
#ifndef ISOVM_JOB_H
#define ISOVM_JOB_H
#include <stdbool.h>
#include <stdint.h>
#include "vm.h"

#define JOB_MAX_FDS        3
#define SYSCALL_TABLE_SIZE 512
#define UNKNOWN_TRACKED    16

enum fd_rights { FD_READ = 1, FD_WRITE = 2 };

struct fd_slot {
    bool open;
    int host_fd;
    unsigned rights;
};

enum job_end { JOB_RUNNING, JOB_EXITED, JOB_SIGNALED, JOB_INTERNAL_ERROR };

struct job_stats {
    uint64_t hypercalls_total;
    uint64_t syscalls[SYSCALL_TABLE_SIZE];
    uint64_t unknown_total;
    uint64_t unknown_nr[UNKNOWN_TRACKED];
    uint64_t unknown_count[UNKNOWN_TRACKED];
    unsigned unknown_distinct;
    uint64_t exits_io, exits_hlt, exits_shutdown, exits_intr, exits_other;
    uint64_t bytes_read, bytes_written;
};

struct sig_state {
    uint64_t action[64][4];   /* handler, flags, restorer, mask as the job gave them */
    uint64_t blocked;
};

struct job {
    struct vm vm;
    struct vcpu vcpu;
    const char *exe_path;        /* readlink("/proc/self/exe") answer */
    char *exe_path_owned;        /* exe_path when isovm allocated it */
    uint64_t brk_start, brk_cur;
    uint64_t mmap_top;           /* mmap searches down from here */
    uint64_t stack_lo, stack_hi;
    uint64_t fs_base;
    uint64_t tid_address, robust_list, robust_len;
    uint64_t rlimits[16][2];
    struct fd_slot fds[JOB_MAX_FDS];
    struct sig_state sig;
    struct job_stats stats;
    enum job_end end;
    int exit_status;             /* the status isovm exits with */
    int signal;                  /* for JOB_SIGNALED */
};

#endif
