/* A warm VMM: a pool's child that makes its microVM ahead, then takes exactly one job. */
#ifndef ISOVM_POOL_WARM_H
#define ISOVM_POOL_WARM_H
#include <stdbool.h>
#include <sys/types.h>
#include "vmm/core/vm_image.h"
#include "vmm/run/launch.h"

struct pool_warm_args {
    int sock_fd;     /* the pool's datagram socket (non-blocking, SO_PASSCRED), shared by every
                      * warm VMM */
    int link_fd;     /* to the pool server: "R" when warm; closed when it takes a job; its end
                      * of file is the server gone */
    const struct vm_image *img; /* the VM to make ahead: its RAM image (the server's) */
    const struct launch_opts *linux; /* or, set: the Linux tier's machine to make ahead
                                      * (launch_linux_warm_prepare); img is then unused */
    uid_t owner;                     /* the pool's user: only requests from it are taken */
    bool jailed;                     /* in a jail already (pool serve --jail): the job's files
                                      * are bound in by the server's helper, asked on the link */
    bool wait_filter;                /* the waiting seccomp filter before any request (pool
                                      * serve --no-seccomp: not) */
};

/* Run in the child right after fork: make the VM, wait for a request, run its job with the
 * client's descriptors, working directory, umask and environment, send the exit status, exit.
 * Never returns. */
_Noreturn void pool_warm_main(const struct pool_warm_args *a);

#endif
