/* poll, ppoll, select, pselect6: readiness of the job's descriptors (sockets, pipes, the
 * console, files), waited for with the job lock released and every capability polled held busy. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vmm/caps/cap.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/fd.h"
#include "vmm/core/guest_mem.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_net.h"

#define POLL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLRDNORM | POLLRDBAND | \
                     POLLWRNORM | POLLWRBAND)

/* Wait for the nfds pollfds in g (the job's descriptors and events; revents set) for at most
 * timeout_ns (negative: forever), with job->lock released; each descriptor's capability stays
 * busy (its host descriptor open) meanwhile, and a revocation wakes a socket. Ready count or
 * -errno. */
static int64_t poll_fds(struct job *job, struct sc_call *c, struct pollfd *g, uint64_t nfds,
                        int64_t timeout_ns)
{
    struct pollfd *h = NULL;
    struct cap_hold *holds = NULL; /* fd -1: none held */
    int64_t ret = 0;
    if (nfds) {
        h = calloc(nfds, sizeof *h);
        holds = calloc(nfds, sizeof *holds);
        if (!h || !holds) {
            ret = -ENOMEM;
            goto out;
        }
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
            if (job_call_ending(job)) { /* e.g. a pending signal its mask now lets in */
                r = -1;
                errno = EINTR;
                break;
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
    ret = r < 0 ? -e : ready;
out:
    free(h);
    free(holds);
    return ret;
}

/* poll's and ppoll's: the nfds pollfds at gva copied once, revents written back. */
static int64_t poll_common(struct job *job, struct sc_call *c, uint64_t gva, uint64_t nfds,
                           int64_t timeout_ns)
{
    if (nfds > sc_proc(c)->fds_max)
        return -EINVAL;
    struct pollfd *g = nfds ? calloc(nfds, sizeof *g) : NULL;
    if (nfds && !g)
        return -ENOMEM;
    int64_t ret = 0;
    if (nfds && ((ret = gmem_copy_from(sc_gm(c), g, gva, nfds * sizeof *g)) ||
                 (ret = gpa_range_check(sc_gm(c), gva, nfds * sizeof *g, GPERM_W, NULL)))) {
        free(g);
        return ret;
    }
    ret = poll_fds(job, c, g, nfds, timeout_ns);
    if (ret >= 0 && nfds) {
        int rc = gmem_copy_to(sc_gm(c), gva, g, nfds * sizeof *g);
        if (rc)
            ret = rc;
    }
    free(g);
    return ret;
}

int64_t sys_poll(struct job *job, struct sc_call *c)
{
    int32_t ms = (int32_t)c->a[2];
    return poll_common(job, c, c->a[0], c->a[1], ms < 0 ? -1 : (int64_t)ms * 1000000);
}

/* A timeout the job gives as a timespec (ns_per_unit 1: nanoseconds must be below a second)
 * or a timeval (1000: as Linux's select, microseconds past a second carry into the seconds):
 * its nanoseconds in *out; 0, -EFAULT, or -EINVAL (negative or out of range). */
static int timeout_read(const struct sc_call *c, uint64_t gva, int64_t ns_per_unit, int64_t *out)
{
    int64_t t[2];
    int rc = gmem_copy_from(sc_gm(c), t, gva, sizeof t);
    if (rc)
        return rc;
    if (ns_per_unit == 1000) { /* select's timeval */
        if (t[0] < 0 || t[1] < 0)
            return -EINVAL;
        t[0] += t[1] / 1000000;
        t[1] %= 1000000;
        if (t[0] < 0) /* carried past the largest */
            return -EINVAL;
    }
    if (t[0] < 0 || t[1] < 0 || t[1] >= 1000000000 / ns_per_unit)
        return -EINVAL;
    if (t[0] > INT64_MAX / 1000000000 - 1) /* longer than anyone waits: forever */
        t[0] = INT64_MAX / 1000000000 - 1;
    *out = t[0] * 1000000000 + t[1] * ns_per_unit;
    return 0;
}

int64_t sys_ppoll(struct job *job, struct sc_call *c)
{
    int64_t timeout_ns = -1;
    if (c->a[2]) {
        int rc = timeout_read(c, c->a[2], 1, &timeout_ns);
        if (rc)
            return rc;
    }
    if (c->a[3]) { /* the mask while it waits */
        int rc = sig_wait_mask(c, c->a[3], c->a[4]);
        if (rc)
            return rc;
    }
    return poll_common(job, c, c->a[0], c->a[1], timeout_ns);
}

/* Linux's select sets, in poll's terms */
#define SEL_IN  (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SEL_OUT (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SEL_EX  POLLPRI

/* select and pselect6: the three fd_sets (bitmaps of 64-bit words; NULL: none) copied once,
 * each descriptor in any of them polled for what its sets ask, the sets written back with the
 * ready ones only, and the time left written back to the timeout (as Linux does). A
 * descriptor in a set that is not open: EBADF. */
static int64_t select_common(struct job *job, struct sc_call *c, int64_t n, const uint64_t set_gva[3],
                             uint64_t timeout_gva, int64_t ns_per_unit)
{
    if (n < 0)
        return -EINVAL;
    struct proc *p = sc_proc(c);
    if ((uint64_t)n > p->fds_max) /* as Linux: nothing beyond the table is looked at */
        n = p->fds_max;
    int64_t timeout_ns = -1;
    if (timeout_gva) {
        int rc = timeout_read(c, timeout_gva, ns_per_unit, &timeout_ns);
        if (rc)
            return rc;
        if (gpa_range_check(sc_gm(c), timeout_gva, 16, GPERM_W, NULL))
            return -EFAULT;
    }
    size_t words = ((size_t)n + 63) / 64;
    uint64_t *in = calloc(6 * words + 1, sizeof *in); /* the sets asked, then the ready ones */
    struct pollfd *pf = calloc((size_t)n + 1, sizeof *pf);
    int64_t ret = in && pf ? 0 : -ENOMEM;
    uint64_t *out = ret ? NULL : in + 3 * words;
    for (int k = 0; k < 3 && !ret; k++) /* each set read once, and checked writable */
        if (set_gva[k] && words &&
            ((ret = gmem_copy_from(sc_gm(c), in + k * words, set_gva[k], words * 8)) ||
             (ret = gpa_range_check(sc_gm(c), set_gva[k], words * 8, GPERM_W, NULL))))
            break;
    static const short want[3] = { SEL_IN, SEL_OUT, SEL_EX };
    uint64_t np = 0;
    for (int64_t fd = 0; fd < n && !ret; fd++) {
        short ev = 0;
        for (int k = 0; k < 3; k++)
            if (in[k * words + (uint64_t)fd / 64] & (1ull << (fd % 64)))
                ev |= want[k];
        if (!ev)
            continue;
        if (!p->fds[fd].open) {
            ret = -EBADF;
            break;
        }
        pf[np++] = (struct pollfd){ .fd = (int)fd, .events = ev };
    }
    uint64_t start = mono_ns();
    if (!ret)
        ret = poll_fds(job, c, pf, np, timeout_ns);
    int64_t count = 0;
    for (uint64_t i = 0; i < np && ret >= 0; i++) {
        if (pf[i].revents & POLLNVAL) { /* closed or revoked meanwhile */
            ret = -EBADF;
            break;
        }
        uint64_t fd = (uint64_t)pf[i].fd, w = fd / 64, bit = 1ull << (fd % 64);
        for (int k = 0; k < 3; k++)
            if ((in[k * words + w] & bit) && (pf[i].revents & want[k])) {
                out[k * words + w] |= bit;
                count++;
            }
    }
    for (int k = 0; k < 3 && ret >= 0; k++)
        if (set_gva[k] && words) {
            int rc = gmem_copy_to(sc_gm(c), set_gva[k], out + k * words, words * 8);
            if (rc)
                ret = rc;
        }
    if (ret >= 0)
        ret = count;
    if (timeout_gva && (ret >= 0 || ret == -EINTR)) { /* the time left */
        uint64_t spent = mono_ns() - start;
        int64_t left = (uint64_t)timeout_ns > spent ? timeout_ns - (int64_t)spent : 0;
        int64_t t[2] = { left / 1000000000, (left % 1000000000) / ns_per_unit };
        gmem_copy_to(sc_gm(c), timeout_gva, t, sizeof t);
    }
    free(in);
    free(pf);
    return ret;
}

int64_t sys_select(struct job *job, struct sc_call *c)
{
    const uint64_t sets[3] = { c->a[1], c->a[2], c->a[3] };
    return select_common(job, c, (int64_t)(int32_t)c->a[0], sets, c->a[4], 1000);
}

/* pselect6(n, in, out, ex, timespec, {sigmask pointer, its size}) */
int64_t sys_pselect6(struct job *job, struct sc_call *c)
{
    if (c->a[5]) {
        uint64_t sm[2];
        int rc = gmem_copy_from(sc_gm(c), sm, c->a[5], sizeof sm);
        if (rc)
            return rc;
        if (sm[0] && (rc = sig_wait_mask(c, sm[0], sm[1]))) /* the mask while it waits */
            return rc;
    }
    const uint64_t sets[3] = { c->a[1], c->a[2], c->a[3] };
    return select_common(job, c, (int64_t)(int32_t)c->a[0], sets, c->a[4], 1);
}
