/* Network syscalls: sockets are capabilities derived from the policy's endpoint grants, and the
 * VMM performs the host socket calls only for granted addresses (docs/network.md). */
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

#define NET_ADDR_MAX  128            /* sizeof(struct sockaddr_storage): a longer addrlen is EINVAL */
#define NET_RW_MAX    0x7ffff000ull  /* Linux caps one send/recv at this many bytes */
#define NET_OPT_MAX   16             /* the largest option value passed (struct timeval) */
#define NET_BACKLOG   4096
#define MSGHDR_SIZE   56             /* the x86-64 struct msghdr */
#define SIN6_LEN_MIN  24             /* Linux accepts a sockaddr_in6 without sin6_scope_id */

/* An address as the job named it, parsed: family, address bytes, port. */
struct net_addr {
    bool v6;
    uint8_t addr[16];
    uint16_t port;
};

static void addr_text(const struct net_addr *a, uint8_t proto, char *buf, size_t len)
{
    struct endpoint e = { .proto = proto, .v6 = a->v6, .port = a->port };
    memcpy(e.addr, a->addr, sizeof e.addr);
    endpoint_format(&e, buf, len);
}

/* A refusal for the network: counted, audited with what was asked ("tcp:127.0.0.1:9"). */
static int net_deny(struct job *job, const struct sc_call *c, int err, uint32_t slot,
                    const char *what)
{
    audit_deny(job, DENY_NETWORK, c->nr, err, slot, what);
    return -err;
}

/* ---- guest addresses: validated and copied once, here only ---------------------------------- */

/* The job's sockaddr (addrlen bytes at gva, the socklen_t it passed) for a socket of family v6:
 * copied once, then parsed. 0 and *out, or -EINVAL (length), -EFAULT, -EAFNOSUPPORT. */
static int addr_import(struct job *job, uint64_t gva, uint64_t addrlen, bool v6,
                       struct net_addr *out)
{
    int32_t n = (int32_t)(uint32_t)addrlen; /* the kernel takes it as an int */
    if (n < (int32_t)sizeof(sa_family_t) || n > NET_ADDR_MAX)
        return -EINVAL;
    uint8_t raw[NET_ADDR_MAX];
    int rc = gmem_copy_from(&job->vm.gm, raw, gva, (uint64_t)n);
    if (rc)
        return rc;
    sa_family_t fam;
    memcpy(&fam, raw, sizeof fam);
    if (fam != (v6 ? AF_INET6 : AF_INET))
        return -EAFNOSUPPORT;
    memset(out, 0, sizeof *out);
    out->v6 = v6;
    if (!v6) {
        struct sockaddr_in sin;
        if (n < (int32_t)sizeof sin)
            return -EINVAL;
        memcpy(&sin, raw, sizeof sin);
        memcpy(out->addr, &sin.sin_addr, 4);
        out->port = ntohs(sin.sin_port);
    } else {
        struct sockaddr_in6 s6;
        memset(&s6, 0, sizeof s6);
        if (n < SIN6_LEN_MIN)
            return -EINVAL;
        memcpy(&s6, raw, (size_t)n < sizeof s6 ? (size_t)n : sizeof s6);
        memcpy(out->addr, &s6.sin6_addr, 16);
        out->port = ntohs(s6.sin6_port);
    }
    return 0;
}

/* The host sockaddr for a parsed address (built by isovm, never the job's bytes). */
static socklen_t addr_host(const struct net_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (a->v6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->addr, 16);
        return sizeof *s6;
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a->port);
    memcpy(&sin->sin_addr, a->addr, 4);
    return sizeof *sin;
}

static void addr_parse_host(const struct sockaddr_storage *ss, struct net_addr *a)
{
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->v6 = true;
        memcpy(a->addr, &s6->sin6_addr, 16);
        a->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        memcpy(a->addr, &sin->sin_addr, 4);
        a->port = ntohs(sin->sin_port);
    }
}

/* An (addr, addrlen) result pair: read the job's buffer length once, before any work, and
 * check the buffer is writable. NULL addr: nothing to return (*len -1). */
static int addr_out_prepare(struct job *job, uint64_t addr_gva, uint64_t len_gva, int32_t *len)
{
    *len = -1;
    if (!addr_gva)
        return 0;
    int rc = gmem_copy_from(&job->vm.gm, len, len_gva, sizeof *len);
    if (rc)
        return rc;
    if (*len < 0)
        return -EINVAL;
    rc = gpa_range_check(&job->vm.gm, addr_gva, (uint64_t)*len, GPERM_W, NULL);
    return rc ? rc : gpa_range_check(&job->vm.gm, len_gva, sizeof *len, GPERM_W, NULL);
}

/* Write a host address to the prepared pair: its first min(len, actual) bytes and the actual
 * length, as Linux does. */
static int addr_out(struct job *job, uint64_t addr_gva, uint64_t len_gva, int32_t len,
                    const struct sockaddr_storage *ss, socklen_t actual)
{
    if (!addr_gva || len < 0)
        return 0;
    uint64_t n = (uint64_t)len < actual ? (uint64_t)len : actual;
    int32_t out = (int32_t)actual;
    int rc = gmem_copy_to(&job->vm.gm, addr_gva, ss, n);
    return rc ? rc : gmem_copy_to(&job->vm.gm, len_gva, &out, sizeof out);
}

/* ---- endpoints -------------------------------------------------------------------------------- */

/* The live endpoint root that grants `mode` (-1: any) for proto and family, to `a` exactly
 * (NULL: any address). A deadline found passed expires it (logged). The slot, or -EACCES when
 * nothing grants it (-EKEYREVOKED / -EKEYEXPIRED when only a dead endpoint would have), audited
 * naming `what`. */
static int endpoint_admit_addr(struct job *job, const struct sc_call *c, int mode, uint8_t proto,
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
static int net_sock(struct job *job, struct sc_call *c, uint64_t fd, uint32_t need,
                    struct cap **e, uint32_t *slot)
{
    int rc = fd_cap(job, c, fd, need, e, slot);
    if (rc)
        return rc;
    return (*e)->kind == CAP_SOCKET ? 0 : -ENOTSOCK;
}

/* Attach socket `slot` to endpoint `ep` (socket() placed it under one of its protocol; connect
 * and bind move it under the one that grants the address). */
static int sock_attach(struct job *job, const struct sc_call *c, uint32_t slot, uint32_t ep)
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

enum net_op { OP_SEND, OP_RECV, OP_ACCEPT, OP_CONNECT };

/* Wait (lock released) until an interrupted connect completes; its result. */
static int connect_finish(struct job *job, const struct cap_hold *h, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int r;
    do
        r = poll(&p, 1, -1);
    while (r < 0 && errno == EINTR && !atomic_load(&job->stop) && !cap_hold_revoked(job, h));
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
static int64_t host_net(struct job *job, const struct cap_hold *h, enum net_op op,
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
            if (r < 0 && errno == EINTR && !atomic_load(&job->stop) && !cap_hold_revoked(job, h))
                r = connect_finish(job, h, fd); /* the connection goes on in the background */
            break;
        }
        if (!(r < 0 && errno == EINTR && !atomic_load(&job->stop) && !cap_hold_revoked(job, h)))
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

/* host_net for one call that holds the socket only for that call (connect, accept). */
static int64_t host_net_once(struct job *job, uint32_t slot, enum net_op op, int flags,
                             struct sockaddr_storage *ss, socklen_t *sl)
{
    struct cap_hold h;
    int rc = cap_hold_begin(job, slot, &h);
    if (rc)
        return rc;
    int64_t r = host_net(job, &h, op, NULL, flags, ss, sl);
    cap_hold_end(job, &h);
    return r;
}

/* Take `want` bytes of the direction's tokens (and one operation): all of them when `whole`
 * (a datagram is never cut), else at least one. The bytes taken, -EINTR, or -EKEYREVOKED /
 * -EKEYEXPIRED when the held socket dies while waiting. */
static int64_t net_admit(struct job *job, struct sc_call *c, const struct cap_hold *h,
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

/* ---- socket, connect, bind, listen, accept ------------------------------------------------ */

int64_t sys_socket(struct job *job, struct sc_call *c)
{
    uint64_t domain = c->a[0], type = c->a[1], proto = c->a[2];
    char what[64];
    if (domain != AF_INET && domain != AF_INET6) {
        snprintf(what, sizeof what, "socket family %llu", (unsigned long long)domain);
        return net_deny(job, c, EACCES, CAP_NONE, what);
    }
    bool v6 = domain == AF_INET6;
    uint64_t base = type & 0xf; /* SOCK_TYPE_MASK; the rest are flags */
    if (type > UINT32_MAX || (type & ~(uint64_t)0xf & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC)))
        return -EINVAL;
    uint8_t ep_proto;
    if (base == SOCK_STREAM && (proto == 0 || proto == IPPROTO_TCP))
        ep_proto = EP_TCP;
    else if (base == SOCK_DGRAM && (proto == 0 || proto == IPPROTO_UDP))
        ep_proto = EP_UDP;
    else if (base == SOCK_STREAM || base == SOCK_DGRAM)
        return -EPROTONOSUPPORT;
    else {
        snprintf(what, sizeof what, "socket type %llu", (unsigned long long)base);
        return net_deny(job, c, EACCES, CAP_NONE, what); /* raw, packet, seqpacket */
    }
    snprintf(what, sizeof what, "%s socket (%s)", ep_proto == EP_UDP ? "udp" : "tcp",
             v6 ? "IPv6" : "IPv4");
    int ep = endpoint_admit_addr(job, c, -1, ep_proto, v6, NULL, what);
    if (ep < 0)
        return ep;
    bool nonblock = type & SOCK_NONBLOCK;
    int host = socket(v6 ? AF_INET6 : AF_INET,
                      (int)base | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                      ep_proto == EP_UDP ? IPPROTO_UDP : IPPROTO_TCP);
    if (host < 0)
        return -errno;
    int fd = fd_new_cap(job, c, (uint32_t)ep, CAP_SOCKET, CAP_FROM_SOCKET,
                        CAP_R_READ | CAP_R_WRITE, 0, host, NULL, type & SOCK_CLOEXEC, O_RDWR);
    if (fd < 0) {
        close(host);
        return fd;
    }
    struct cap *e = &job->caps->caps[job->fds[fd].cap];
    e->net = (struct cap_net){ .v6 = v6, .proto = ep_proto, .state = SOCK_ST_NEW, .endpoint = -1 };
    job->fds[fd].status = nonblock ? O_NONBLOCK : 0;
    return fd;
}

/* connect and bind's arguments: the socket (a[0]) and the job's address (a[1], a[2]) imported
 * for its family, with its text for the audit log. 0, or -errno. */
static int sock_addr_args(struct job *job, struct sc_call *c, struct cap **e, uint32_t *slot,
                          struct net_addr *a, char what[POLICY_ENDPOINT_TEXT])
{
    int rc = net_sock(job, c, c->a[0], 0, e, slot);
    if (rc || (rc = addr_import(job, c->a[1], c->a[2], (*e)->net.v6, a)))
        return rc;
    addr_text(a, (*e)->net.proto, what, POLICY_ENDPOINT_TEXT);
    return 0;
}

int64_t sys_connect(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    struct net_addr a;
    char what[POLICY_ENDPOINT_TEXT];
    int rc = sock_addr_args(job, c, &e, &slot, &a, what);
    if (rc)
        return rc;
    if (e->net.state == SOCK_ST_LISTENING || e->net.state == SOCK_ST_BOUND)
        return net_deny(job, c, EACCES, slot, what); /* a listener connects nowhere */
    int ep = endpoint_admit_addr(job, c, EP_CONNECT, e->net.proto, e->net.v6, &a, what);
    if (ep < 0)
        return ep;
    if ((rc = sock_attach(job, c, slot, (uint32_t)ep)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = addr_host(&a, &ss);
    int64_t r = host_net_once(job, slot, OP_CONNECT, 0, &ss, &sl);
    if (r < 0 && r != -EINPROGRESS) /* a non-blocking connect goes on: it is to `what` */
        return r;
    e = &job->caps->caps[slot];
    e->net.state = SOCK_ST_CONNECTED;
    cap_set_path(job->caps, slot, what);
    job->stats.net_connections++;
    audit_cap(job, "connect", slot, (int)c->a[0], c->nr, "job");
    return r;
}

int64_t sys_bind(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    struct net_addr a;
    char what[POLICY_ENDPOINT_TEXT];
    int rc = sock_addr_args(job, c, &e, &slot, &a, what);
    if (rc)
        return rc;
    if (e->net.state != SOCK_ST_NEW)
        return -EINVAL; /* bound or connected already, as Linux answers */
    /* only a listen endpoint's exact address can be bound (listen endpoints are tcp) */
    int ep = endpoint_admit_addr(job, c, EP_LISTEN, e->net.proto, e->net.v6, &a, what);
    if (ep < 0)
        return ep;
    if ((rc = sock_attach(job, c, slot, (uint32_t)ep)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = addr_host(&a, &ss);
    if (bind(e->host_fd, (struct sockaddr *)&ss, sl) < 0)
        return -errno;
    e->net.state = SOCK_ST_BOUND;
    cap_set_path(job->caps, slot, what);
    return 0;
}

int64_t sys_listen(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (e->net.state == SOCK_ST_LISTENING)
        return 0;
    if (e->net.state != SOCK_ST_BOUND) /* Linux would bind any port: only a granted one here */
        return net_deny(job, c, EACCES, slot, "listen on an unbound socket");
    int backlog = (int)c->a[1];
    if (backlog < 0 || backlog > NET_BACKLOG)
        backlog = NET_BACKLOG;
    if (listen(e->host_fd, backlog) < 0)
        return -errno;
    e->net.state = SOCK_ST_LISTENING;
    audit_cap(job, "listen", slot, (int)c->a[0], c->nr, "job");
    return 0;
}

static int64_t accept_common(struct job *job, struct sc_call *c, uint64_t flags)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (flags & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -EINVAL;
    if (e->net.state != SOCK_ST_LISTENING)
        return -EINVAL;
    int32_t alen;
    if ((rc = addr_out_prepare(job, c->a[1], c->a[2], &alen)))
        return rc;
    /* a descriptor must be free before waiting (another thread may still take it) */
    int probe = fd_alloc(job, c, 0);
    if (probe < 0)
        return probe;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    bool nonblock = flags & SOCK_NONBLOCK;
    int64_t host = host_net_once(job, slot, OP_ACCEPT, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                                 &ss, &sl);
    if (host < 0)
        return host;
    struct net_addr peer;
    addr_parse_host(&ss, &peer);
    e = &job->caps->caps[slot];
    char what[POLICY_ENDPOINT_TEXT];
    addr_text(&peer, e->net.proto, what, sizeof what);
    struct cap_net net = { .v6 = e->net.v6, .proto = e->net.proto, .state = SOCK_ST_CONNECTED,
                           .endpoint = -1 };
    int fd = fd_new_cap(job, c, slot, CAP_SOCKET, CAP_FROM_ACCEPT, e->rights, 0, (int)host, what,
                        flags & SOCK_CLOEXEC, O_RDWR);
    if (fd < 0) {
        close((int)host);
        return fd;
    }
    job->caps->caps[job->fds[fd].cap].net = net;
    job->fds[fd].status = nonblock ? O_NONBLOCK : 0;
    job->stats.net_connections++;
    if ((rc = addr_out(job, c->a[1], c->a[2], alen, &ss, sl))) {
        fd_close(job, (uint64_t)fd);
        return rc;
    }
    return fd;
}

int64_t sys_accept(struct job *job, struct sc_call *c) { return accept_common(job, c, 0); }
int64_t sys_accept4(struct job *job, struct sc_call *c) { return accept_common(job, c, c->a[3]); }

/* ---- data --------------------------------------------------------------------------------- */

#define SEND_FLAGS (MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_CONFIRM | MSG_EOR)
#define RECV_FLAGS (MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_TRUNC | MSG_CMSG_CLOEXEC)

/* Send iov (total bytes) on socket `slot`, to `to` (NULL: its peer) for a datagram socket,
 * through the write throttle. Bytes sent or -errno. */
static int64_t net_send(struct job *job, struct sc_call *c, uint32_t slot, const struct iovec *iov,
                        int n, uint64_t total, uint64_t flags, const struct net_addr *to)
{
    struct cap *e = &job->caps->caps[slot];
    if (flags & ~(uint64_t)SEND_FLAGS)
        return -EOPNOTSUPP;
    bool dgram = e->net.proto == EP_UDP;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    if (to && dgram) {
        char what[POLICY_ENDPOINT_TEXT];
        addr_text(to, e->net.proto, what, sizeof what);
        int ep = endpoint_admit_addr(job, c, EP_CONNECT, e->net.proto, e->net.v6, to, what);
        if (ep < 0)
            return ep;
        sl = addr_host(to, &ss);
    } /* a stream socket ignores the address, as Linux does once connected */
    if (total > NET_RW_MAX) {
        if (dgram)
            return -EMSGSIZE;
        total = NET_RW_MAX;
    }
    job->stats.write_ops++;
    struct cap_hold h;
    int64_t r = cap_hold_begin(job, slot, &h);
    if (r < 0)
        return r;
    int64_t got = net_admit(job, c, &h, true, total, dgram);
    if (got < 0) {
        cap_hold_end(job, &h);
        return got;
    }
    struct iovec win[IOV_LIMIT];
    int k = iov_window(iov, n, 0, (uint64_t)got, win);
    struct msghdr m = { .msg_name = sl ? &ss : NULL, .msg_namelen = sl, .msg_iov = win,
                        .msg_iovlen = (size_t)k };
    r = host_net(job, &h, OP_SEND, &m, (int)flags, NULL, NULL);
    cap_hold_end(job, &h);
    io_refund(job, true, r > 0 ? (uint64_t)got - (uint64_t)r : (uint64_t)got);
    if (r > 0) {
        job->stats.bytes_written += (uint64_t)r;
        job->stats.net_bytes_sent += (uint64_t)r;
    }
    return r;
}

/* Is a datagram from `a` one the job may receive: from a granted connect endpoint? */
static bool dgram_source_granted(struct job *job, const struct net_addr *a)
{
    for (unsigned i = 0; i < job->policy.nendpoints; i++) {
        const struct endpoint *ep = &job->policy.endpoints[i];
        if (ep->mode == EP_CONNECT && ep->proto == EP_UDP && ep->v6 == a->v6 &&
            ep->port == a->port && !memcmp(ep->addr, a->addr, a->v6 ? 16 : 4))
            return true;
    }
    return false;
}

/* Is a datagram that came to the held socket from `from` (fromlen bytes of address) one the
 * job may not see: an unconnected datagram socket's, from no granted connect endpoint? Then
 * it is counted and audited, and the caller drops it. */
static bool dgram_refused(struct job *job, const struct sc_call *c, const struct cap_hold *h,
                          const struct sockaddr_storage *from, socklen_t fromlen)
{
    const struct cap *e = &job->caps->caps[h->slot];
    if (e->net.proto != EP_UDP || e->net.state == SOCK_ST_CONNECTED || !fromlen)
        return false;
    struct net_addr src;
    addr_parse_host(from, &src);
    if (dgram_source_granted(job, &src))
        return false;
    char what[POLICY_ENDPOINT_TEXT];
    addr_text(&src, EP_UDP, what, sizeof what);
    net_deny(job, c, EACCES, h->slot, what);
    job->stats.net_datagrams_dropped++;
    return true;
}

/* Read and drop the datagram at the head of the held socket's queue (without waiting). */
static void dgram_drop(const struct cap_hold *h)
{
    struct msghdr dm = { 0 };
    while (recvmsg(h->fd, &dm, MSG_DONTWAIT) < 0 && errno == EINTR)
        ;
}

/* Receive into iov (total bytes) from socket `slot` through the read throttle; the source
 * into *from / *fromlen (NULL: not wanted). A datagram socket receives only from granted
 * connect endpoints: others' datagrams are dropped (counted, audited), on every receive path
 * (read, readv, recvfrom, recvmsg; poll: net_poll_filter). The call holds the socket from
 * start to end. Bytes (with MSG_TRUNC: the datagram's size) or -errno; *mflags the host's
 * msg_flags. */
static int64_t net_recv(struct job *job, struct sc_call *c, uint32_t slot, const struct iovec *iov,
                        int n, uint64_t total, uint64_t flags, struct sockaddr_storage *from,
                        socklen_t *fromlen, int *mflags)
{
    if (flags & ~(uint64_t)RECV_FLAGS)
        return -EOPNOTSUPP;
    flags &= ~(uint64_t)MSG_CMSG_CLOEXEC; /* no ancillary data is ever passed */
    if (total > NET_RW_MAX)
        total = NET_RW_MAX;
    struct cap_hold h;
    int64_t rc = cap_hold_begin(job, slot, &h);
    if (rc < 0)
        return rc;
    struct sockaddr_storage src_ss;
    if (!from)
        from = &src_ss;
    job->stats.read_ops++;
    bool dgram = job->caps->caps[slot].net.proto == EP_UDP;
    for (;;) {
        uint64_t want = total;
        if (dgram && !tb_unlimited(&job->io_read.bytes)) {
            /* learn the datagram's size and source first (waiting for it): it is admitted
             * whole, and only from a granted source */
            struct msghdr pm = { .msg_name = from, .msg_namelen = sizeof *from };
            int64_t size = host_net(job, &h, OP_RECV, &pm,
                                    (int)(flags & MSG_DONTWAIT) | MSG_PEEK | MSG_TRUNC, NULL, NULL);
            if (size < 0) {
                rc = size;
                break;
            }
            if (dgram_refused(job, c, &h, from, pm.msg_namelen)) {
                dgram_drop(&h);
                continue;
            }
            if ((uint64_t)size < want)
                want = (uint64_t)size;
        }
        int64_t got = net_admit(job, c, &h, false, want, dgram);
        if (got < 0) {
            rc = got;
            break;
        }
        struct iovec win[IOV_LIMIT];
        int k = iov_window(iov, n, 0, dgram ? total : (uint64_t)got, win);
        struct msghdr m = { .msg_name = from, .msg_namelen = sizeof *from, .msg_iov = win,
                            .msg_iovlen = (size_t)k };
        int64_t r = host_net(job, &h, OP_RECV, &m, (int)flags, NULL, NULL);
        uint64_t moved = r > 0 ? ((uint64_t)r < (uint64_t)got ? (uint64_t)r : (uint64_t)got) : 0;
        io_refund(job, false, (uint64_t)got - moved);
        if (r < 0) {
            rc = r;
            break;
        }
        if (dgram && dgram_refused(job, c, &h, from, m.msg_namelen)) {
            if (flags & MSG_PEEK)
                dgram_drop(&h); /* drop the peeked datagram for real */
            continue;
        }
        uint64_t len = (uint64_t)r < total ? (uint64_t)r : total;
        job->stats.bytes_read += len;
        job->stats.net_bytes_received += len;
        if (fromlen)
            *fromlen = m.msg_namelen;
        if (mflags)
            *mflags = m.msg_flags;
        rc = r;
        break;
    }
    cap_hold_end(job, &h);
    return rc;
}

int64_t net_read(struct job *job, struct sc_call *c, uint32_t slot, const struct iovec *iov,
                 int n, uint64_t total)
{
    return net_recv(job, c, slot, iov, n, total, 0, NULL, NULL, NULL);
}

bool net_poll_filter(struct job *job, struct sc_call *c, uint32_t slot, int host_fd)
{
    const struct cap *e = &job->caps->caps[slot];
    if (e->kind != CAP_SOCKET || e->net.proto != EP_UDP || e->net.state == SOCK_ST_CONNECTED)
        return true;
    struct cap_hold h = { .slot = slot, .gen = e->gen, .fd = host_fd };
    for (;;) {
        struct sockaddr_storage from;
        struct msghdr pm = { .msg_name = &from, .msg_namelen = sizeof from };
        if (recvmsg(host_fd, &pm, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT) < 0)
            return errno != EAGAIN && errno != EWOULDBLOCK; /* an error is news for the job */
        if (!dgram_refused(job, c, &h, &from, pm.msg_namelen))
            return true;
        dgram_drop(&h);
    }
}

/* sendto and recvfrom's socket (a[0], with right `need`) and buffer (a[1], a[2] bytes, capped
 * as Linux caps one call, checked for `perm`) as one iovec. 0, or -errno. */
static int sock_buf_args(struct job *job, struct sc_call *c, uint32_t need, unsigned perm,
                         struct cap **e, uint32_t *slot, struct iovec *one)
{
    int rc = net_sock(job, c, c->a[0], need, e, slot);
    if (rc)
        return rc;
    uint64_t len = c->a[2] > NET_RW_MAX ? NET_RW_MAX : c->a[2];
    void *buf;
    if ((rc = gpa_range_check(&job->vm.gm, c->a[1], len, perm, &buf)))
        return rc;
    *one = (struct iovec){ .iov_base = buf, .iov_len = len };
    return 0;
}

int64_t sys_sendto(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    struct iovec one;
    int rc = sock_buf_args(job, c, CAP_R_WRITE, GPERM_R, &e, &slot, &one);
    if (rc)
        return rc;
    struct net_addr to;
    if (c->a[4] && (rc = addr_import(job, c->a[4], c->a[5], e->net.v6, &to)))
        return rc;
    return net_send(job, c, slot, &one, 1, one.iov_len, c->a[3], c->a[4] ? &to : NULL);
}

int64_t sys_recvfrom(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    struct iovec one;
    int rc = sock_buf_args(job, c, CAP_R_READ, GPERM_W, &e, &slot, &one);
    if (rc)
        return rc;
    int32_t alen;
    if ((rc = addr_out_prepare(job, c->a[4], c->a[5], &alen)))
        return rc;
    struct sockaddr_storage from;
    socklen_t fl = 0;
    int mf;
    int64_t r = net_recv(job, c, slot, &one, 1, one.iov_len, c->a[3], &from, &fl, &mf);
    if (r >= 0 && fl && (rc = addr_out(job, c->a[4], c->a[5], alen, &from, fl)))
        return rc;
    return r;
}

/* The job's struct msghdr at gva, copied once: name, namelen, iov, iovlen, control,
 * controllen, flags. */
struct guest_msghdr {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad1;
};
_Static_assert(sizeof(struct guest_msghdr) == MSGHDR_SIZE, "x86-64 struct msghdr");

int64_t sys_sendmsg(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], CAP_R_WRITE, &e, &slot);
    if (rc)
        return rc;
    struct guest_msghdr gm;
    if ((rc = gmem_copy_from(&job->vm.gm, &gm, c->a[1], sizeof gm)))
        return rc;
    if (gm.controllen) /* no ancillary data: descriptors and credentials never pass */
        return -EINVAL;
    struct net_addr to;
    if (gm.name && (rc = addr_import(job, gm.name, gm.namelen, e->net.v6, &to)))
        return rc;
    struct iovec iov[IOV_LIMIT];
    uint64_t total;
    if (gm.iovlen > IOV_LIMIT)
        return -EMSGSIZE;
    int n = iov_import(job, gm.iov, gm.iovlen, GPERM_R, iov, &total);
    if (n < 0)
        return n;
    return net_send(job, c, slot, iov, n, total, c->a[2], gm.name ? &to : NULL);
}

int64_t sys_recvmsg(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], CAP_R_READ, &e, &slot);
    if (rc)
        return rc;
    struct guest_msghdr gm;
    if ((rc = gmem_copy_from(&job->vm.gm, &gm, c->a[1], sizeof gm)) ||
        (rc = gpa_range_check(&job->vm.gm, c->a[1], sizeof gm, GPERM_W, NULL)))
        return rc;
    if ((int32_t)gm.namelen < 0)
        return -EINVAL;
    if (gm.name && (rc = gpa_range_check(&job->vm.gm, gm.name, gm.namelen, GPERM_W, NULL)))
        return rc;
    struct iovec iov[IOV_LIMIT];
    uint64_t total;
    if (gm.iovlen > IOV_LIMIT)
        return -EMSGSIZE;
    int n = iov_import(job, gm.iov, gm.iovlen, GPERM_W, iov, &total);
    if (n < 0)
        return n;
    struct sockaddr_storage from;
    socklen_t fl = 0;
    int mf = 0;
    int64_t r = net_recv(job, c, slot, iov, n, total, c->a[2], &from, &fl, &mf);
    if (r < 0)
        return r;
    uint32_t namelen = 0;
    if (gm.name && fl) {
        namelen = gm.namelen < fl ? gm.namelen : fl;
        if ((rc = gmem_copy_to(&job->vm.gm, gm.name, &from, namelen)))
            return rc;
        namelen = fl;
    }
    /* namelen, controllen (0: nothing passed) and the flags, in place */
    uint64_t zero = 0;
    int32_t flags = mf & (MSG_TRUNC | MSG_EOR);
    if ((rc = gmem_copy_to(&job->vm.gm, c->a[1] + 8, &namelen, sizeof namelen)) ||
        (rc = gmem_copy_to(&job->vm.gm, c->a[1] + 40, &zero, sizeof zero)) ||
        (rc = gmem_copy_to(&job->vm.gm, c->a[1] + 48, &flags, sizeof flags)))
        return rc;
    return r;
}

/* ---- the rest ----------------------------------------------------------------------------- */

int64_t sys_shutdown(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (c->a[1] > SHUT_RDWR)
        return -EINVAL;
    return shutdown(e->host_fd, (int)c->a[1]) < 0 ? -errno : 0;
}

static int64_t sock_name(struct job *job, struct sc_call *c, bool peer)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    if (!c->a[1])
        return -EFAULT;
    int32_t alen;
    if ((rc = addr_out_prepare(job, c->a[1], c->a[2], &alen)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if ((peer ? getpeername : getsockname)(e->host_fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    return addr_out(job, c->a[1], c->a[2], alen, &ss, sl);
}

int64_t sys_getsockname(struct job *job, struct sc_call *c) { return sock_name(job, c, false); }
int64_t sys_getpeername(struct job *job, struct sc_call *c) { return sock_name(job, c, true); }

/* The options a job may set (and read back), with the value's size; the last ones only read. */
static const struct sock_opt {
    int level, name;
    unsigned size;
    bool set;
} sock_opts[] = {
    { SOL_SOCKET, SO_REUSEADDR, 4, true }, { SOL_SOCKET, SO_KEEPALIVE, 4, true },
    { SOL_SOCKET, SO_RCVBUF, 4, true },    { SOL_SOCKET, SO_SNDBUF, 4, true },
    { SOL_SOCKET, SO_LINGER, 8, true },    { SOL_SOCKET, SO_RCVTIMEO, 16, true },
    { SOL_SOCKET, SO_SNDTIMEO, 16, true }, { IPPROTO_TCP, TCP_NODELAY, 4, true },
    { IPPROTO_IPV6, IPV6_V6ONLY, 4, true },
    { SOL_SOCKET, SO_ERROR, 4, false },    { SOL_SOCKET, SO_TYPE, 4, false },
    { SOL_SOCKET, SO_DOMAIN, 4, false },   { SOL_SOCKET, SO_PROTOCOL, 4, false },
    { SOL_SOCKET, SO_ACCEPTCONN, 4, false },
};

static const struct sock_opt *sock_opt_find(uint64_t level, uint64_t name)
{
    for (size_t i = 0; i < sizeof sock_opts / sizeof sock_opts[0]; i++)
        if ((uint64_t)sock_opts[i].level == level && (uint64_t)sock_opts[i].name == name)
            return &sock_opts[i];
    return NULL;
}

int64_t sys_setsockopt(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    const struct sock_opt *o = sock_opt_find(c->a[1], c->a[2]);
    if (!o || !o->set || (o->level == IPPROTO_IPV6 && !e->net.v6))
        return -ENOPROTOOPT;
    int32_t len = (int32_t)(uint32_t)c->a[4];
    if (len < (int32_t)o->size)
        return -EINVAL;
    uint8_t val[NET_OPT_MAX];
    if ((rc = gmem_copy_from(&job->vm.gm, val, c->a[3], o->size)))
        return rc;
    return setsockopt(e->host_fd, o->level, o->name, val, o->size) < 0 ? -errno : 0;
}

int64_t sys_getsockopt(struct job *job, struct sc_call *c)
{
    struct cap *e;
    uint32_t slot;
    int rc = net_sock(job, c, c->a[0], 0, &e, &slot);
    if (rc)
        return rc;
    const struct sock_opt *o = sock_opt_find(c->a[1], c->a[2]);
    if (!o || (o->level == IPPROTO_IPV6 && !e->net.v6))
        return -ENOPROTOOPT;
    int32_t len;
    if ((rc = gmem_copy_from(&job->vm.gm, &len, c->a[4], sizeof len)))
        return rc;
    if (len < 0)
        return -EINVAL;
    uint8_t val[NET_OPT_MAX];
    socklen_t vl = sizeof val;
    if (getsockopt(e->host_fd, o->level, o->name, val, &vl) < 0)
        return -errno;
    uint64_t n = (uint64_t)len < vl ? (uint64_t)len : vl;
    int32_t out = (int32_t)n;
    if ((rc = gmem_copy_to(&job->vm.gm, c->a[3], val, n)))
        return rc;
    return gmem_copy_to(&job->vm.gm, c->a[4], &out, sizeof out);
}
