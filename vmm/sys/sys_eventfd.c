/* eventfd: a host eventfd the job holds as a capability; reads and writes go through the usual descriptor I/O. */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

/* eventfd2(initval, flags): EFD_SEMAPHORE on the host counter, EFD_NONBLOCK on it (shared by
 * every holder, as the open file description is), EFD_CLOEXEC on the job's descriptor. */
int64_t sys_eventfd2(struct job *job, struct sc_call *c)
{
    uint64_t flags = c->a[1];
    if (flags & ~(uint64_t)(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
        return -EINVAL;
    int h = eventfd((unsigned)c->a[0], EFD_CLOEXEC | (int)(flags & (EFD_SEMAPHORE | EFD_NONBLOCK)));
    if (h < 0)
        return -errno;
    int fd = fd_new_cap(job, c, CAP_NONE, CAP_EVENTFD, CAP_FROM_EVENTFD,
                        CAP_R_READ | CAP_R_WRITE | CAP_R_STAT, 0, h, NULL, flags & EFD_CLOEXEC,
                        O_RDWR);
    if (fd < 0) {
        close(h);
        return fd;
    }
    sc_proc(c)->fds[fd].status = (uint32_t)(flags & EFD_NONBLOCK);
    return fd;
}

int64_t sys_eventfd(struct job *job, struct sc_call *c)
{
    c->a[1] = 0;
    return sys_eventfd2(job, c);
}
