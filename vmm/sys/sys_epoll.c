/* epoll: an instance is a host epoll the job holds as a capability; its interest list holds the
 * host descriptors of the job's capabilities, so level and edge triggering are the kernel's. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

/* The event bits a job may ask for (EPOLLWAKEUP needs CAP_BLOCK_SUSPEND: dropped, as Linux
 * drops it for a process without). */
#define EPOLL_ASKABLE (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLRDNORM | \
                       EPOLLRDBAND | EPOLLWRNORM | EPOLLWRBAND | EPOLLMSG | EPOLLRDHUP | \
                       EPOLLEXCLUSIVE | EPOLLONESHOT | EPOLLET)
#define EPOLL_WAIT_MAX 1024 /* events one wait returns at most (the rest: the next wait) */

_Static_assert(sizeof(struct epoll_event) == 12, "the x86-64 kernel's packed epoll_event");

static int64_t epoll_make(struct job *job, struct sc_call *c, bool cloexec)
{
    int h = epoll_create1(EPOLL_CLOEXEC);
    if (h < 0)
        return -errno;
    int fd = fd_new_cap(job, c, CAP_NONE, CAP_EPOLL, CAP_FROM_EPOLL, CAP_R_READ | CAP_R_STAT, 0,
                        h, NULL, cloexec, O_RDONLY);
    if (fd < 0)
        close(h);
    return fd;
}

int64_t sys_epoll_create1(struct job *job, struct sc_call *c)
{
    if (c->a[0] & ~(uint64_t)EPOLL_CLOEXEC)
        return -EINVAL;
    return epoll_make(job, c, c->a[0] & EPOLL_CLOEXEC);
}

int64_t sys_epoll_create(struct job *job, struct sc_call *c)
{
    if ((int32_t)c->a[0] <= 0)
        return -EINVAL;
    return epoll_make(job, c, false);
}

/* The epoll instance behind descriptor fd: its capability, checked live. */
static int epoll_of(struct job *job, struct sc_call *c, uint64_t fd, struct cap **e,
                    uint32_t *slot)
{
    int rc = fd_cap(job, c, fd, 0, e, slot);
    if (rc)
        return rc;
    return (*e)->kind == CAP_EPOLL ? 0 : -EINVAL;
}

/* epoll_ctl(epfd, op, fd, event): the event read once; fd's capability's host descriptor
 * registered in the host epoll with the job's own data. */
int64_t sys_epoll_ctl(struct job *job, struct sc_call *c)
{
    struct cap *ep, *e;
    uint32_t ep_slot, slot;
    int op = (int)c->a[1];
    int rc = epoll_of(job, c, c->a[0], &ep, &ep_slot);
    if (rc)
        return rc;
    if ((rc = fd_cap(job, c, c->a[2], 0, &e, &slot)))
        return rc;
    if (c->a[2] == c->a[0] || slot == ep_slot)
        return -EINVAL; /* an instance in itself */
    if (e->kind == CAP_ENDPOINT || e->host_fd < 0)
        return -EPERM; /* nothing to wait on */
    struct epoll_event ev = { 0 };
    if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) {
        if ((rc = gmem_copy_from(sc_gm(c), &ev, c->a[3], sizeof ev)))
            return rc;
        ev.events &= EPOLL_ASKABLE;
    } else if (op != EPOLL_CTL_DEL) {
        return -EINVAL;
    }
    if (epoll_ctl(ep->host_fd, op, e->host_fd, &ev) < 0)
        return -errno;
    return 0;
}

/* Wait on the instance with job->lock released and its capability held: a kick ends the host
 * wait, which goes on with the time left unless the call is ending or the capability revoked. */
static int64_t epoll_wait_common(struct job *job, struct sc_call *c, uint64_t epfd, uint64_t gva,
                                 int64_t max, int64_t timeout_ms)
{
    struct cap *ep;
    uint32_t slot;
    int rc = epoll_of(job, c, epfd, &ep, &slot);
    if (rc)
        return rc;
    if (max <= 0 || max > INT32_MAX / (int64_t)sizeof(struct epoll_event))
        return -EINVAL;
    if (gpa_range_check(sc_gm(c), gva, (uint64_t)max * sizeof(struct epoll_event), GPERM_W, NULL))
        return -EFAULT;
    int n = max > EPOLL_WAIT_MAX ? EPOLL_WAIT_MAX : (int)max;
    struct epoll_event *ev = calloc((size_t)n, sizeof *ev);
    if (!ev)
        return -ENOMEM;
    struct cap_hold h;
    if ((rc = cap_hold_begin(job, slot, &h)) < 0) {
        free(ev);
        return rc;
    }
    uint64_t deadline = timeout_ms < 0 ? 0 : mono_ns() + (uint64_t)timeout_ms * 1000000u;
    pthread_mutex_unlock(&job->lock);
    int r, e = 0;
    for (;;) {
        int ms = -1;
        if (timeout_ms >= 0) {
            uint64_t now = mono_ns(), left = deadline > now ? deadline - now : 0;
            ms = (int)((left + 999999) / 1000000);
        }
        if (job_call_ending(job)) { /* e.g. a pending signal its mask now lets in */
            r = -1;
            e = EINTR;
            break;
        }
        r = epoll_wait(h.fd, ev, n, ms);
        e = errno;
        if (!(r < 0 && e == EINTR) || job_call_ending(job))
            break;
        if (cap_hold_revoked(job, &h)) {
            r = -1;
            e = EBADF;
            break;
        }
    }
    pthread_mutex_lock(&job->lock);
    cap_hold_end(job, &h);
    int64_t ret = r < 0 ? -(int64_t)e : r;
    if (r > 0 && (rc = gmem_copy_to(sc_gm(c), gva, ev, (uint64_t)r * sizeof *ev)))
        ret = rc;
    free(ev);
    return ret;
}

int64_t sys_epoll_wait(struct job *job, struct sc_call *c)
{
    return epoll_wait_common(job, c, c->a[0], c->a[1], (int32_t)c->a[2], (int32_t)c->a[3]);
}

/* epoll_pwait: as epoll_wait, with the signal mask given while it waits. */
int64_t sys_epoll_pwait(struct job *job, struct sc_call *c)
{
    int rc;
    if (c->a[4] && (rc = sig_wait_mask(c, c->a[4], c->a[5])))
        return rc;
    return epoll_wait_common(job, c, c->a[0], c->a[1], (int32_t)c->a[2], (int32_t)c->a[3]);
}
