/* Pipes: pipe and pipe2 make a host pipe whose two ends the job holds as capabilities of their own. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

/* One end: a root capability (nobody's authority but the job's own: a pipe reaches nothing
 * outside it; not pinned, so it goes with its last descriptor and the other end sees EOF or
 * EPIPE) and a descriptor on it; audited as "pipe". The caller keeps host_fd on failure. */
static int pipe_end(struct job *job, const struct sc_call *c, int host_fd, uint32_t rights,
                    bool cloexec, uint32_t access, uint32_t status)
{
    int fd = fd_new_cap(job, c, CAP_NONE, CAP_PIPE, CAP_FROM_PIPE, rights, 0, host_fd, NULL,
                        cloexec, access);
    if (fd >= 0)
        sc_proc(c)->fds[fd].status = status;
    return fd;
}

/* pipe2(fds, flags): O_CLOEXEC, O_NONBLOCK (on the host pipe: shared by every holder, as the
 * open file description is); O_DIRECT (packet mode) is not supported: EINVAL. */
int64_t sys_pipe2(struct job *job, struct sc_call *c)
{
    uint64_t flags = c->a[1];
    if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -EINVAL;
    /* the answer's place first: nothing is made for a call that cannot be answered */
    if (gpa_range_check(sc_gm(c), c->a[0], 2 * sizeof(int), GPERM_W, NULL))
        return -EFAULT;
    int h[2];
    if (pipe2(h, O_CLOEXEC | (int)(flags & O_NONBLOCK)) < 0)
        return -errno;
    bool cloexec = flags & O_CLOEXEC;
    uint32_t status = (uint32_t)(flags & O_NONBLOCK);
    int r = pipe_end(job, c, h[0], CAP_R_READ | CAP_R_STAT, cloexec, O_RDONLY, status);
    if (r < 0) {
        close(h[0]);
        close(h[1]);
        return r;
    }
    int w = pipe_end(job, c, h[1], CAP_R_WRITE | CAP_R_STAT, cloexec, O_WRONLY, status);
    if (w < 0) {
        close(h[1]);
        fd_close(job, sc_proc(c), (uint64_t)r); /* the read end's entry goes with its host end */
        return w;
    }
    int fds[2] = { r, w };
    gmem_copy_to(sc_gm(c), c->a[0], fds, sizeof fds); /* checked writable above */
    return 0;
}

int64_t sys_pipe(struct job *job, struct sc_call *c)
{
    c->a[1] = 0;
    return sys_pipe2(job, c);
}
