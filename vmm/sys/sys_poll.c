/* poll, ppoll: readiness of the job's descriptors (sockets, the console, files), waited for
 * with the job lock released and every capability polled held busy. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include "vmm/caps/cap.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/core/guest_mem.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_net.h"

#define POLL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLRDBAND | \
                     POLLWRNORM | POLLWRBAND)

/* Wait for the nfds pollfds at gva (copied once; revents written back) for at most timeout_ns
 * (negative: forever), with job->lock released; each descriptor's capability stays busy (its
 * host descriptor open) meanwhile, and a revocation wakes a socket. Ready count or -errno. */
static int64_t poll_common(struct job *job, struct sc_call *c, uint64_t gva, uint64_t nfds,
                           int64_t timeout_ns)
{
    if (nfds > sc_proc(c)->fds_max)
        return -EINVAL;
    struct pollfd *g = NULL, *h = NULL;
    struct cap_hold *holds = NULL; /* fd -1: none held */
    int64_t ret = 0;
    if (nfds) {
        g = calloc(nfds, sizeof *g);
        h = calloc(nfds, sizeof *h);
        holds = calloc(nfds, sizeof *holds);
        if (!g || !h || !holds) {
            ret = -ENOMEM;
            goto out;
        }
        if ((ret = gmem_copy_from(sc_gm(c), g, gva, nfds * sizeof *g)) ||
            (ret = gpa_range_check(sc_gm(c), gva, nfds * sizeof *g, GPERM_W, NULL)))
            goto out;
    }
    int64_t ready = 0;
    for (uint64_t i = 0; i < nfds; i++) {
        holds[i].fd = -1;
        h[i] = (struct pollfd){ .fd = -1, .events = (short)(g[i].events & POLL_EVENTS) };
        g[i].revents = 0;
        if (g[i].fd < 0)
            continue;
        struct cap *e;
        uint32_t slot;
        if (fd_cap(job, c, (uint64_t)g[i].fd, 0, &e, &slot) || e->kind == CAP_ENDPOINT) {
            g[i].revents = POLLNVAL;
            ready++;
            continue;
        }
        if (cap_hold_begin(job, slot, &holds[i]) < 0) {
            g[i].revents = POLLNVAL;
            ready++;
            continue;
        }
        h[i].fd = holds[i].fd;
    }
    if (ready)
        timeout_ns = 0; /* report the invalid ones now, with whatever else is ready */
    uint64_t deadline = timeout_ns < 0 ? 0 : mono_ns() + (uint64_t)timeout_ns;
    int r, e;
    for (;;) {
        pthread_mutex_unlock(&job->lock);
        bool revoked = false;
        for (;;) {
            struct timespec ts, *tsp = NULL;
            if (timeout_ns >= 0) {
                uint64_t now = mono_ns(), left = deadline > now ? deadline - now : 0;
                ts = (struct timespec){ .tv_sec = (time_t)(left / 1000000000u),
                                        .tv_nsec = (long)(left % 1000000000u) };
                tsp = &ts;
            }
            r = ppoll(h, (nfds_t)nfds, tsp, NULL);
            if (!(r < 0 && errno == EINTR && !job_call_ending(job)))
                break;
            for (uint64_t i = 0; i < nfds && !revoked; i++) /* a revocation's kick: answer now */
                revoked = holds[i].fd >= 0 && cap_hold_revoked(job, &holds[i]);
            if (revoked) {
                r = 0;
                break;
            }
        }
        e = errno;
        pthread_mutex_lock(&job->lock);
        ready = 0;
        for (uint64_t i = 0; r >= 0 && i < nfds; i++) {
            if (holds[i].fd < 0) {
                ready += g[i].revents != 0;
                continue;
            }
            const struct cap *cp = &job->caps->caps[holds[i].slot];
            if (cp->revoked)
                h[i].revents = POLLNVAL; /* revoked meanwhile: its next use says so */
            else if ((h[i].revents & (POLLIN | POLLRDNORM)) &&
                     !net_poll_filter(job, c, holds[i].slot, h[i].fd))
                h[i].revents &= (short)~(POLLIN | POLLRDNORM); /* only ungranted datagrams */
            ready += h[i].revents != 0;
        }
        /* what woke it was only datagrams the job may not see: wait on, as Linux would */
        if (r <= 0 || ready || job_call_ending(job) || (timeout_ns >= 0 && mono_ns() >= deadline))
            break;
    }
    for (uint64_t i = 0; i < nfds; i++) {
        if (holds[i].fd < 0)
            continue;
        g[i].revents = h[i].revents;
        cap_hold_end(job, &holds[i]);
    }
    if (r < 0) {
        ret = -e;
        goto out;
    }
    ret = nfds ? gmem_copy_to(sc_gm(c), gva, g, nfds * sizeof *g) : 0;
    if (!ret)
        ret = ready;
out:
    free(g);
    free(h);
    free(holds);
    return ret;
}

int64_t sys_poll(struct job *job, struct sc_call *c)
{
    int32_t ms = (int32_t)c->a[2];
    return poll_common(job, c, c->a[0], c->a[1], ms < 0 ? -1 : (int64_t)ms * 1000000);
}

int64_t sys_ppoll(struct job *job, struct sc_call *c)
{
    int64_t timeout_ns = -1;
    if (c->a[2]) {
        struct timespec ts;
        int rc = gmem_copy_from(sc_gm(c), &ts, c->a[2], sizeof ts);
        if (rc)
            return rc;
        if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 ||
            ts.tv_sec > INT64_MAX / 1000000000 - 1)
            return -EINVAL;
        timeout_ns = ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
    if (c->a[3] && c->a[4] != 8) /* the signal mask (signals are not delivered: not used) */
        return -EINVAL;
    return poll_common(job, c, c->a[0], c->a[1], timeout_ns);
}
