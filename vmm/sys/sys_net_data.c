/* Network data: send, receive, and the source filter of unconnected datagram sockets. */
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
        net_addr_text(to, e->net.proto, what, sizeof what);
        int ep = net_endpoint_admit(job, c, EP_CONNECT, e->net.proto, e->net.v6, to, what);
        if (ep < 0)
            return ep;
        sl = net_addr_host(to, &ss);
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
    r = net_host_call(job, &h, OP_SEND, &m, (int)flags, NULL, NULL);
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
    net_addr_parse_host(from, &src);
    if (dgram_source_granted(job, &src))
        return false;
    char what[POLICY_ENDPOINT_TEXT];
    net_addr_text(&src, EP_UDP, what, sizeof what);
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
            int64_t size = net_host_call(job, &h, OP_RECV, &pm,
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
        int64_t r = net_host_call(job, &h, OP_RECV, &m, (int)flags, NULL, NULL);
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
    if ((rc = gpa_range_check(sc_gm(c), c->a[1], len, perm, &buf)))
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
    if (c->a[4] && (rc = net_addr_import(sc_gm(c), c->a[4], c->a[5], e->net.v6, &to)))
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
    if ((rc = net_addr_out_prepare(sc_gm(c), c->a[4], c->a[5], &alen)))
        return rc;
    struct sockaddr_storage from;
    socklen_t fl = 0;
    int mf;
    int64_t r = net_recv(job, c, slot, &one, 1, one.iov_len, c->a[3], &from, &fl, &mf);
    if (r >= 0 && fl && (rc = net_addr_out(sc_gm(c), c->a[4], c->a[5], alen, &from, fl)))
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
    if ((rc = gmem_copy_from(sc_gm(c), &gm, c->a[1], sizeof gm)))
        return rc;
    if (gm.controllen) /* no ancillary data: descriptors and credentials never pass */
        return -EINVAL;
    struct net_addr to;
    if (gm.name && (rc = net_addr_import(sc_gm(c), gm.name, gm.namelen, e->net.v6, &to)))
        return rc;
    struct iovec iov[IOV_LIMIT];
    uint64_t total;
    if (gm.iovlen > IOV_LIMIT)
        return -EMSGSIZE;
    int n = iov_import(job, c, gm.iov, gm.iovlen, GPERM_R, iov, &total);
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
    if ((rc = gmem_copy_from(sc_gm(c), &gm, c->a[1], sizeof gm)) ||
        (rc = gpa_range_check(sc_gm(c), c->a[1], sizeof gm, GPERM_W, NULL)))
        return rc;
    if ((int32_t)gm.namelen < 0)
        return -EINVAL;
    if (gm.name && (rc = gpa_range_check(sc_gm(c), gm.name, gm.namelen, GPERM_W, NULL)))
        return rc;
    struct iovec iov[IOV_LIMIT];
    uint64_t total;
    if (gm.iovlen > IOV_LIMIT)
        return -EMSGSIZE;
    int n = iov_import(job, c, gm.iov, gm.iovlen, GPERM_W, iov, &total);
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
        if ((rc = gmem_copy_to(sc_gm(c), gm.name, &from, namelen)))
            return rc;
        namelen = fl;
    }
    /* namelen, controllen (0: nothing passed) and the flags, in place */
    uint64_t zero = 0;
    int32_t flags = mf & (MSG_TRUNC | MSG_EOR);
    if ((rc = gmem_copy_to(sc_gm(c), c->a[1] + 8, &namelen, sizeof namelen)) ||
        (rc = gmem_copy_to(sc_gm(c), c->a[1] + 40, &zero, sizeof zero)) ||
        (rc = gmem_copy_to(sc_gm(c), c->a[1] + 48, &flags, sizeof flags)))
        return rc;
    return r;
}

