/* The network syscalls' shared core: refusals, endpoints, socket capabilities, host calls. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vmm/caps/audit.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/io_admit.h"
#include "vmm/sys/sys_net.h"
#include "vmm/sys/sys.h"
#include "vmm/sys/sys_io.h"
#include "vmm/sys/net_addr.h"
#include "vmm/sys/net_sock.h"

int net_deny(struct job *job, const struct sc_call *c, int err, uint32_t slot,
             const char *what)
{
    audit_deny(job, DENY_NETWORK, c->nr, err, slot, what);
    return -err;
}

/* ---- endpoints -------------------------------------------------------------------------------- */

/* The live endpoint root that grants `mode` (-1: any) for proto and family, to `a` exactly
 * (NULL: any address). A deadline found passed expires it (logged). The slot, or -EACCES when
 * nothing grants it (-EKEYREVOKED / -EKEYEXPIRED when only a dead endpoint would have), audited
 * naming `what`. */
int net_endpoint_admit(struct job *job, const struct sc_call *c, int mode, uint8_t proto,
                       bool v6, const struct net_addr *a, const char *what)
{
    struct cap_table *t = job->caps;
    uint32_t dead = CAP_NONE;
    int dead_err = 0;
    for (uint32_t i = 0; i < t->max; i++) {
        struct cap *e = &t->caps[i];
        if (!e->id || e->kind != CAP_ENDPOINT || e->parent != CAP_NONE ||
            e->net.endpoint < 0 || (unsigned)e->net.endpoint >= job->policy.nendpoints)
            continue;
        const struct endpoint *ep = &job->policy.endpoints[e->net.endpoint];
        if (ep->proto != proto || ep->v6 != v6 || (mode >= 0 && (int)ep->mode != mode))
            continue;
        if (a && (ep->port != a->port || memcmp(ep->addr, a->addr, v6 ? 16 : 4)))
            continue;
        bool newly;
        int rc = cap_check(t, i, e->gen, 0, e->expires_ns ? mono_ns() : 0, &newly);
        if (newly)
            audit_cap(job, "expire", i, -1, c->nr, "expiry");
        if (rc == 0)
            return (int)i;
        dead = i;
        dead_err = rc;
    }
    if (dead != CAP_NONE) {
        audit_deny(job, fd_deny_kind(dead_err), c->nr, -dead_err, dead, what);
        return dead_err;
    }
    return net_deny(job, c, EACCES, CAP_NONE, what);
}

/* The socket behind guest descriptor fd, usable for `need`. -ENOTSOCK for another object. */
int net_sock(struct job *job, struct sc_call *c, uint64_t fd, uint32_t need,
             struct cap **e, uint32_t *slot)
{
    int rc = fd_cap(job, c, fd, need, e, slot);
    if (rc)
        return rc;
    return (*e)->kind == CAP_SOCKET ? 0 : -ENOTSOCK;
}

/* Attach socket `slot` to endpoint `ep` (socket() placed it under one of its protocol; connect
 * and bind move it under the one that grants the address). */
int net_sock_attach(struct job *job, const struct sc_call *c, uint32_t slot, uint32_t ep)
{
    struct cap *e = &job->caps->caps[slot];
    if (e->parent == ep)
        return 0;
    if (e->parent == CAP_NONE || job->caps->caps[e->parent].kind != CAP_ENDPOINT || e->children)
        return net_deny(job, c, EACCES, slot, e->path); /* a copy or accepted socket stays put */
    int rc = cap_reparent(job->caps, slot, ep);
    return rc == -EBUSY ? -EACCES : rc;
}

/* ---- host calls with the job lock released ---------------------------------------------------- */


/* Wait (lock released) until an interrupted connect completes; its result. */
int net_connect_finish(struct job *job, const struct cap_hold *h, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int r;
    do
        r = poll(&p, 1, -1);
    while (r < 0 && errno == EINTR && !job_call_ending(job) && !cap_hold_revoked(job, h));
    if (r < 0)
        return -1;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
        return -1;
    errno = err;
    return err ? -1 : 0;
}

/* One host socket call on the held socket with job->lock released (the hold keeps its
 * descriptor open; a revocation meanwhile shuts the socket down, which wakes the call, and
 * kicks it). A kick restarts it unless the job is ending or the socket was revoked. Returns
 * the call's result or -errno; -EKEYREVOKED / -EKEYEXPIRED when the socket was revoked
 * meanwhile (an accepted descriptor is closed then). */
int64_t net_host_call(struct job *job, const struct cap_hold *h, enum net_op op,
                      struct msghdr *m, int flags, struct sockaddr_storage *ss, socklen_t *sl)
{
    int fd = h->fd;
    pthread_mutex_unlock(&job->lock);
    int64_t r;
    for (;;) {
        switch (op) {
        case OP_SEND: r = sendmsg(fd, m, flags | MSG_NOSIGNAL); break;
        case OP_RECV: r = recvmsg(fd, m, flags); break;
        case OP_ACCEPT: r = accept4(fd, (struct sockaddr *)ss, sl, flags); break;
        default:
            r = connect(fd, (struct sockaddr *)ss, *sl);
            if (r < 0 && errno == EINTR && !job_call_ending(job) && !cap_hold_revoked(job, h))
                r = net_connect_finish(job, h, fd); /* the connection goes on in the background */
            break;
        }
        if (!(r < 0 && errno == EINTR && !job_call_ending(job) && !cap_hold_revoked(job, h)))
            break;
    }
    int e = errno;
    pthread_mutex_lock(&job->lock);
    const struct cap *cp = &job->caps->caps[h->slot];
    int dead = cp->revoked ? (cp->expired ? -EKEYEXPIRED : -EKEYREVOKED) : 0;
    if (dead) {
        if (op == OP_ACCEPT && r >= 0)
            close((int)r);
        return dead;
    }
    return r < 0 ? -(int64_t)e : r;
}

/* net_host_call for one call that holds the socket only for that call (connect, accept). */
int64_t net_host_call_once(struct job *job, uint32_t slot, enum net_op op, int flags,
                           struct sockaddr_storage *ss, socklen_t *sl)
{
    struct cap_hold h;
    int rc = cap_hold_begin(job, slot, &h);
    if (rc)
        return rc;
    int64_t r = net_host_call(job, &h, op, NULL, flags, ss, sl);
    cap_hold_end(job, &h);
    return r;
}

/* Take `want` bytes of the direction's tokens (and one operation): all of them when `whole`
 * (a datagram is never cut), else at least one. The bytes taken, -EINTR, or -EKEYREVOKED /
 * -EKEYEXPIRED when the held socket dies while waiting. */
int64_t net_admit(struct job *job, struct sc_call *c, const struct cap_hold *h,
                  bool is_write, uint64_t want, bool whole)
{
    int64_t got = io_admit(job, c, h, is_write, true, want);
    if (got < 0 || !whole)
        return got;
    uint64_t have = (uint64_t)got;
    while (have < want) {
        int64_t more = io_admit(job, c, h, is_write, false, want - have);
        if (more < 0) {
            io_refund(job, is_write, have);
            return more;
        }
        have += (uint64_t)more;
    }
    return (int64_t)have;
}

