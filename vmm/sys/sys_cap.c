/* isovm's own syscalls on capabilities: derive (attenuate), revoke, describe. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "firmware/abi.h"
#include "vmm/caps/cap_hold.h"
#include "vmm/caps/audit.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

int64_t sys_isovm_cap_derive(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (c->a[1] & ~(uint64_t)CAP_RIGHTS_ALL)
        return -EINVAL;
    uint32_t rights = (uint32_t)c->a[1];
    uint64_t expires = 0;
    if (c->a[2]) {
        uint64_t now = mono_ns();
        if (__builtin_add_overflow(now, c->a[2], &expires))
            expires = 0; /* further away than the clock reaches: as its parent */
    }
    /* attenuation keeps the descriptor's open mode where the rights still allow it */
    const struct fd_slot *src = &sc_proc(c)->fds[c->a[0]];
    uint32_t access = src->access;
    if (access == O_RDWR && !(rights & CAP_R_WRITE))
        access = O_RDONLY;
    else if (access == O_RDWR && !(rights & CAP_R_READ))
        access = O_WRONLY;
    /* the derived entry shares the host descriptor: dup it so each entry owns its own */
    int host = e->kind == CAP_CONSOLE ? e->host_fd : fcntl(e->host_fd, F_DUPFD_CLOEXEC, 3);
    if (host < 0)
        return -errno;
    rc = fd_new_cap(job, c, slot, e->kind, CAP_FROM_DERIVE, rights, expires, host, e->path,
                    false, access);
    if (rc < 0) {
        if (e->kind != CAP_CONSOLE)
            close(host);
        return rc;
    }
    if (e->kind == CAP_CONSOLE)
        job->caps->caps[sc_proc(c)->fds[rc].cap].keep_fd = true;
    job->caps->caps[sc_proc(c)->fds[rc].cap].net = e->net; /* a socket's family, protocol and state */
    return rc;
}

static void revoked_one(void *ctx, uint32_t slot)
{
    audit_cap(ctx, "revoke", slot, -1, ISOVM_SYS_CAP_REVOKE, "job");
}

int64_t sys_isovm_cap_revoke(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->kind == CAP_CONSOLE && e->origin == CAP_FROM_CONSOLE)
        return -EPERM; /* the console itself stays: revoke a derived copy instead */
    cap_revoke(job->caps, slot, false, revoked_one, job);
    caps_revoked_wake(job, c->self); /* other threads' calls on the subtree end now */
    return 0;
}

int64_t sys_isovm_cap_info(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = fd_cap(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    struct isovm_cap_info info;
    memset(&info, 0, sizeof info);
    info.id = e->id;
    info.parent_id = e->parent == CAP_NONE ? 0 : job->caps->caps[e->parent].id;
    info.rights = e->rights;
    if (e->expires_ns) {
        uint64_t now = mono_ns();
        info.expires_in_ns = e->expires_ns > now ? e->expires_ns - now : 1;
    }
    info.depth = (uint64_t)cap_chain(job->caps, slot, NULL, 0) - 1;
    return gmem_copy_to(sc_gm(c), c->a[1], &info, sizeof info);
}
