/* A capability held by one call from start to end, and ending such calls on revocation and
 * at the entry's deadline. */
#include "vmm/caps/cap_hold.h"
#include <errno.h>
#include <stdatomic.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/cap_map.h"
#include "vmm/caps/fd.h"

int cap_hold_begin(struct job *job, uint32_t slot, struct cap_hold *h)
{
    int fd = cap_io_begin(job->caps, slot);
    if (fd < 0)
        return fd;
    const struct cap *e = &job->caps->caps[slot];
    *h = (struct cap_hold){ .slot = slot, .gen = e->gen, .fd = fd, .expiring = e->expires_ns };
    if (h->expiring) {
        job->holds_expiring++;
        /* its deadline may come while the call blocks: the supervisor must look by then */
        if (job->supervisor_wake_ns == 0 || e->expires_ns < job->supervisor_wake_ns)
            job_notify_supervisor(job);
    }
    return 0;
}

int cap_hold_live(struct job *job, const struct sc_call *c, const struct cap_hold *h)
{
    struct cap *e = &job->caps->caps[h->slot];
    if (!e->revoked && !e->expires_ns)
        return 0;
    return cap_use(job, c, h->slot, h->gen, 0, -1, e->path, &e);
}

bool cap_hold_revoked(const struct job *job, const struct cap_hold *h)
{
    return __atomic_load_n(&job->caps->caps[h->slot].revoked, __ATOMIC_ACQUIRE);
}

uint64_t cap_hold_deadline(const struct job *job, const struct cap_hold *h)
{
    uint64_t d = job->caps->caps[h->slot].expires_ns;
    return d ? d : UINT64_MAX;
}

void cap_hold_end(struct job *job, struct cap_hold *h)
{
    if (h->expiring)
        job->holds_expiring--;
    cap_io_end(job->caps, h->slot);
    h->fd = -1;
    h->expiring = false;
}

void caps_revoked_wake(struct job *job, const struct vthread *self)
{
    cap_maps_sweep_all(job); /* a revoked file's mappings: no access from now */
    job_wake_all(job);
    job_kick(job, self);
}

uint64_t caps_expire_held(struct job *job, uint64_t now)
{
    struct cap_table *t = job->caps;
    uint64_t next = UINT64_MAX;
    bool any = false;
    if (!job->holds_expiring)
        return next;
    for (uint32_t i = 0; t && i < t->max; i++) {
        struct cap *e = &t->caps[i];
        if (!e->id || !e->io_busy || e->revoked || !e->expires_ns)
            continue;
        if (e->expires_ns > now) {
            if (e->expires_ns < next)
                next = e->expires_ns;
            continue;
        }
        bool newly = false;
        cap_check(t, i, e->gen, 0, now, &newly);
        if (newly)
            audit_cap(job, "expire", i, -1, UINT64_MAX, "expiry");
        any = true;
    }
    if (any)
        caps_revoked_wake(job, NULL);
    return next;
}

int cap_hold_call(struct job *job, uint32_t slot, int (*op)(int fd, void *arg), void *arg)
{
    struct cap_hold h;
    int rc = cap_hold_begin(job, slot, &h);
    if (rc)
        return rc;
    pthread_mutex_unlock(&job->lock);
    int r;
    do
        r = op(h.fd, arg);
    while (r < 0 && errno == EINTR && !job_call_ending(job) && !cap_hold_revoked(job, &h));
    int e = errno;
    pthread_mutex_lock(&job->lock);
    cap_hold_end(job, &h);
    return r < 0 ? -e : 0;
}
