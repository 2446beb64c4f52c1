/* Guest descriptors: each a handle (slot + generation) on a capability-table entry. */
#include "vmm/caps/fd.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/cap_hold.h"

int fd_table_init(struct job *job)
{
    struct proc *first = &job->procs[0];
    first->fds_max = job->policy.max_capabilities;
    first->fds = calloc(first->fds_max, sizeof *first->fds);
    job->caps = calloc(1, sizeof *job->caps);
    if (!first->fds || !job->caps)
        return -ENOMEM;
    if (cap_table_init(job->caps, first->fds_max))
        return -ENOMEM;
    /* stdin, stdout, stderr: the console, one capability each (isovm's own 0-2) */
    for (int fd = 0; fd < 3; fd++) {
        uint32_t rights = (fd == 0 ? CAP_R_READ : CAP_R_WRITE) | CAP_R_STAT;
        int slot = cap_create(job->caps, CAP_NONE, CAP_CONSOLE, CAP_FROM_CONSOLE, rights, 0, fd,
                              NULL);
        if (slot < 0)
            return slot;
        job->caps->caps[slot].keep_fd = true;
        job->console_cap[fd] = (uint32_t)slot;
        fd_bind(job, first, fd, (uint32_t)slot, false, fd == 0 ? O_RDONLY : O_WRONLY);
    }
    return 0;
}

int fd_table_fork(struct job *job, const struct proc *parent, struct proc *child)
{
    child->fds_max = parent->fds_max;
    child->fds = calloc(child->fds_max, sizeof *child->fds);
    if (!child->fds)
        return -ENOMEM;
    child->fds_open = 0;
    for (unsigned fd = 0; fd < parent->fds_max; fd++) {
        const struct fd_slot *d = &parent->fds[fd];
        if (!d->open || !cap_get(job->caps, d->cap, d->gen))
            continue; /* a handle whose entry was freed: closed in the child */
        fd_bind(job, child, (int)fd, d->cap, d->cloexec, d->access);
        child->fds[fd].status = d->status;
    }
    return 0;
}

void fd_table_release(struct job *job, struct proc *p)
{
    for (unsigned fd = 0; p->fds && fd < p->fds_max; fd++)
        if (p->fds[fd].open)
            fd_close(job, p, fd);
    free(p->fds);
    p->fds = NULL;
    p->fds_open = 0;
}

void fd_table_fini(struct job *job)
{
    for (unsigned i = 0; i < ISOVM_MAX_PROCS; i++) {
        free(job->procs[i].fds);
        job->procs[i].fds = NULL;
    }
    if (job->caps)
        cap_table_fini(job->caps);
    free(job->caps);
    job->caps = NULL;
}

enum deny_kind fd_deny_kind(int err)
{
    switch (err) {
    case -EKEYEXPIRED: return DENY_EXPIRED;
    case -EKEYREVOKED: return DENY_REVOKED;
    case -EPERM: return DENY_AMPLIFY;
    case -EMFILE: return DENY_LIMIT;
    default: return DENY_RIGHTS;
    }
}

int cap_use(struct job *job, const struct sc_call *c, uint32_t slot, uint32_t gen, uint32_t need,
            int fd, const char *path, struct cap **out)
{
    struct cap *e = &job->caps->caps[slot];
    /* Only read the clock when the entry can expire: the common case costs no clock read. */
    uint64_t now = e->expires_ns && e->gen == gen ? mono_ns() : 0;
    bool newly_expired;
    int rc = cap_check(job->caps, slot, gen, need, now, &newly_expired);
    if (rc == -EBADF)
        return rc;
    if (rc == 0) {
        *out = e;
        return 0;
    }
    if (newly_expired) {
        audit_cap(job, "expire", slot, fd, c->nr, "expiry");
        caps_revoked_wake(job, c->self); /* calls blocked on its subtree end now */
    }
    /* a missing read or write right answers as Linux does for the descriptor's mode */
    if (rc == -EACCES && (need & ~e->rights & ~(uint32_t)(CAP_R_READ | CAP_R_WRITE)) == 0)
        rc = -EBADF;
    audit_deny(job, rc == -EBADF ? DENY_RIGHTS : fd_deny_kind(rc), c->nr, -rc, slot, path);
    return rc;
}

int cap_need(struct job *job, const struct sc_call *c, const struct cap *e, uint32_t slot,
             uint32_t need)
{
    if ((need & ~e->rights) == 0)
        return 0;
    audit_deny(job, DENY_RIGHTS, c->nr, EACCES, slot, e->path);
    return -EACCES;
}

int fd_cap(struct job *job, const struct sc_call *c, uint64_t fd, uint32_t need, struct cap **out,
           uint32_t *slot)
{
    if (fd >= sc_proc(c)->fds_max || !sc_proc(c)->fds[fd].open)
        return -EBADF;
    const struct fd_slot *d = &sc_proc(c)->fds[fd];
    int rc = cap_use(job, c, d->cap, d->gen, need, (int)fd, NULL, out);
    if (rc == 0 && slot)
        *slot = d->cap;
    return rc;
}

int fd_alloc(struct job *job, const struct sc_call *c, uint64_t from)
{
    if (from >= sc_proc(c)->fds_max)
        return -EINVAL;
    for (uint64_t fd = from; fd < sc_proc(c)->fds_max; fd++)
        if (!sc_proc(c)->fds[fd].open)
            return (int)fd;
    job->stats.caps_refused++;
    job_count_denied(job, c->nr);
    audit_deny(job, DENY_LIMIT, c->nr, EMFILE, CAP_NONE, NULL);
    return -EMFILE;
}

int fd_bind(struct job *job, struct proc *p, int fd, uint32_t slot, bool cloexec,
            uint32_t access)
{
    struct fd_slot *d = &p->fds[fd];
    cap_ref(job->caps, slot); /* first: closing what fd held may otherwise free `slot` */
    if (d->open)
        fd_close(job, p, (uint64_t)fd);
    *d = (struct fd_slot){ .open = true, .cloexec = cloexec, .cap = slot,
                           .gen = job->caps->caps[slot].gen, .access = access };
    p->fds_open++;
    if (p->fds_open > job->stats.caps_peak)
        job->stats.caps_peak = p->fds_open;
    return fd;
}

int fd_new_cap(struct job *job, const struct sc_call *c, uint32_t parent, enum cap_kind kind,
               enum cap_origin origin, uint32_t rights, uint64_t expires_ns, int host_fd,
               const char *path, bool cloexec, uint32_t access)
{
    int fd = fd_alloc(job, c, 0);
    if (fd < 0)
        return fd;
    int slot = cap_create(job->caps, parent, kind, origin, rights, expires_ns, host_fd, path);
    if (slot < 0) {
        if (slot == -EMFILE) {
            job->stats.caps_refused++;
            job_count_denied(job, c->nr);
        }
        if (slot != -ENOMEM)
            audit_deny(job, fd_deny_kind(slot), c->nr, -slot, parent, path);
        return slot;
    }
    fd_bind(job, sc_proc(c), fd, (uint32_t)slot, cloexec, access);
    audit_cap(job, parent == CAP_NONE ? cap_origin_name(origin) : "derive", (uint32_t)slot, fd,
              c->nr, "job");
    return fd;
}

void fd_table_exec(struct job *job, struct proc *p)
{
    for (unsigned fd = 0; fd < p->fds_max; fd++)
        if (p->fds[fd].open && p->fds[fd].cloexec)
            fd_close(job, p, fd);
}

int fd_close(struct job *job, struct proc *p, uint64_t fd)
{
    if (fd >= p->fds_max || !p->fds[fd].open)
        return -EBADF;
    struct fd_slot *d = &p->fds[fd];
    uint32_t slot = d->cap;
    d->open = false;
    p->fds_open--;
    if (cap_get(job->caps, slot, d->gen))
        cap_unref(job->caps, slot);
    return 0;
}
