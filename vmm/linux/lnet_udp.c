/* UDP flows of the Linux tier's connect udp: endpoints: a connected non-blocking socket per guest source port, least recently used evicted when the table is full, closed when idle. */
#include "vmm/linux/lnet_udp.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

void lnet_udp_init(struct lnet_udp_table *t)
{
    memset(t, 0, sizeof(*t));
    for (unsigned i = 0; i < LNET_UDP_FLOWS; i++)
        t->f[i].fd = t->f[i].pidx = -1;
}

struct lnet_udp_flow *lnet_udp_find(struct lnet_udp_table *t, unsigned ep, uint16_t guest_port)
{
    for (unsigned i = 0; i < LNET_UDP_FLOWS; i++)
        if (t->f[i].used && t->f[i].ep == ep && t->f[i].guest_port == guest_port)
            return &t->f[i];
    return NULL;
}

struct lnet_udp_flow *lnet_udp_open(struct lnet_udp_table *t, unsigned ep, uint16_t guest_port,
                                    const struct sockaddr *addr, socklen_t addrlen, uint64_t now,
                                    int *err)
{
    struct lnet_udp_flow *f = NULL;
    for (unsigned i = 0; i < LNET_UDP_FLOWS && !f; i++)
        if (!t->f[i].used)
            f = &t->f[i];
    if (!f) {
        f = &t->f[0];
        for (unsigned i = 1; i < LNET_UDP_FLOWS; i++)
            if (t->f[i].last_ns < f->last_ns)
                f = &t->f[i];
        lnet_udp_close(f);
        t->evicted++;
    }
    int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, addr, addrlen) < 0) {
        *err = -errno;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *f = (struct lnet_udp_flow){ .used = true, .ep = ep, .guest_port = guest_port, .fd = fd,
                                 .last_ns = now, .pidx = -1 };
    return f;
}

int lnet_udp_send(struct lnet_udp_flow *f, const uint8_t *p, uint32_t len, uint64_t now)
{
    if (send(f->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    f->last_ns = now;
    return 0;
}

ssize_t lnet_udp_recv(struct lnet_udp_flow *f, uint8_t *buf, uint32_t cap, uint64_t now)
{
    ssize_t r = recv(f->fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
    if (r < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    f->last_ns = now;
    return r;
}

void lnet_udp_close(struct lnet_udp_flow *f)
{
    if (f->fd >= 0)
        close(f->fd);
    *f = (struct lnet_udp_flow){ .fd = -1, .pidx = -1 };
}

void lnet_udp_close_ep(struct lnet_udp_table *t, unsigned ep)
{
    for (unsigned i = 0; i < LNET_UDP_FLOWS; i++)
        if (t->f[i].used && t->f[i].ep == ep)
            lnet_udp_close(&t->f[i]);
}

unsigned lnet_udp_expire(struct lnet_udp_table *t, uint64_t now)
{
    unsigned n = 0;
    for (unsigned i = 0; i < LNET_UDP_FLOWS; i++)
        if (t->f[i].used && now > t->f[i].last_ns && now - t->f[i].last_ns >= LNET_UDP_IDLE_NS) {
            lnet_udp_close(&t->f[i]);
            n++;
        }
    return n;
}

void lnet_udp_close_all(struct lnet_udp_table *t)
{
    for (unsigned i = 0; i < LNET_UDP_FLOWS; i++)
        lnet_udp_close(&t->f[i]);
}
