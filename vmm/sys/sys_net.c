/* Network syscalls: sockets are capabilities derived from the policy's endpoint grants, and the
 * VMM performs the host socket calls only for granted addresses (docs/network.md). Here: socket,
 * connect, bind, listen, accept, names, options; data in sys_net_data.c, addresses in net_addr.c,
 * the shared core in net_sock.c. */
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
    int ep = net_endpoint_admit(job, c, -1, ep_proto, v6, NULL, what);
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
    struct cap *e = &job->caps->caps[sc_proc(c)->fds[fd].cap];
    e->net = (struct cap_net){ .v6 = v6, .proto = ep_proto, .state = SOCK_ST_NEW, .endpoint = -1 };
    sc_proc(c)->fds[fd].status = nonblock ? O_NONBLOCK : 0;
    return fd;
}

/* connect and bind's arguments: the socket (a[0]) and the job's address (a[1], a[2]) imported
 * for its family, with its text for the audit log. 0, or -errno. */
static int sock_addr_args(struct job *job, struct sc_call *c, struct cap **e, uint32_t *slot,
                          struct net_addr *a, char what[POLICY_ENDPOINT_TEXT])
{
    int rc = net_sock(job, c, c->a[0], 0, e, slot);
    if (rc || (rc = net_addr_import(sc_gm(c), c->a[1], c->a[2], (*e)->net.v6, a)))
        return rc;
    net_addr_text(a, (*e)->net.proto, what, POLICY_ENDPOINT_TEXT);
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
    int ep = net_endpoint_admit(job, c, EP_CONNECT, e->net.proto, e->net.v6, &a, what);
    if (ep < 0)
        return ep;
    if ((rc = net_sock_attach(job, c, slot, (uint32_t)ep)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = net_addr_host(&a, &ss);
    int64_t r = net_host_call_once(job, slot, OP_CONNECT, 0, &ss, &sl);
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
    int ep = net_endpoint_admit(job, c, EP_LISTEN, e->net.proto, e->net.v6, &a, what);
    if (ep < 0)
        return ep;
    if ((rc = net_sock_attach(job, c, slot, (uint32_t)ep)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = net_addr_host(&a, &ss);
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
    if ((rc = net_addr_out_prepare(sc_gm(c), c->a[1], c->a[2], &alen)))
        return rc;
    /* a descriptor must be free before waiting (another thread may still take it) */
    int probe = fd_alloc(job, c, 0);
    if (probe < 0)
        return probe;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    bool nonblock = flags & SOCK_NONBLOCK;
    int64_t host = net_host_call_once(job, slot, OP_ACCEPT, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
                                      &ss, &sl);
    if (host < 0)
        return host;
    struct net_addr peer;
    net_addr_parse_host(&ss, &peer);
    e = &job->caps->caps[slot];
    char what[POLICY_ENDPOINT_TEXT];
    net_addr_text(&peer, e->net.proto, what, sizeof what);
    struct cap_net net = { .v6 = e->net.v6, .proto = e->net.proto, .state = SOCK_ST_CONNECTED,
                           .endpoint = -1 };
    int fd = fd_new_cap(job, c, slot, CAP_SOCKET, CAP_FROM_ACCEPT, e->rights, 0, (int)host, what,
                        flags & SOCK_CLOEXEC, O_RDWR);
    if (fd < 0) {
        close((int)host);
        return fd;
    }
    job->caps->caps[sc_proc(c)->fds[fd].cap].net = net;
    sc_proc(c)->fds[fd].status = nonblock ? O_NONBLOCK : 0;
    job->stats.net_connections++;
    if ((rc = net_addr_out(sc_gm(c), c->a[1], c->a[2], alen, &ss, sl))) {
        fd_close(job, sc_proc(c), (uint64_t)fd);
        return rc;
    }
    return fd;
}

int64_t sys_accept(struct job *job, struct sc_call *c) { return accept_common(job, c, 0); }
int64_t sys_accept4(struct job *job, struct sc_call *c) { return accept_common(job, c, c->a[3]); }

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
    if ((rc = net_addr_out_prepare(sc_gm(c), c->a[1], c->a[2], &alen)))
        return rc;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if ((peer ? getpeername : getsockname)(e->host_fd, (struct sockaddr *)&ss, &sl) < 0)
        return -errno;
    return net_addr_out(sc_gm(c), c->a[1], c->a[2], alen, &ss, sl);
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
    if ((rc = gmem_copy_from(sc_gm(c), val, c->a[3], o->size)))
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
    if ((rc = gmem_copy_from(sc_gm(c), &len, c->a[4], sizeof len)))
        return rc;
    if (len < 0)
        return -EINVAL;
    uint8_t val[NET_OPT_MAX];
    socklen_t vl = sizeof val;
    if (getsockopt(e->host_fd, o->level, o->name, val, &vl) < 0)
        return -errno;
    uint64_t n = (uint64_t)len < vl ? (uint64_t)len : vl;
    int32_t out = (int32_t)n;
    if ((rc = gmem_copy_to(sc_gm(c), c->a[3], val, n)))
        return rc;
    return gmem_copy_to(sc_gm(c), c->a[4], &out, sizeof out);
}

