/* The endpoints of the Linux tier's network (the net thread's): a granted endpoint's listening socket or UDP socket set up, what slirp connects to it accepted, and one closed at expiry or revocation. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "vmm/linux/lnet_core.h"

static struct sockaddr_in guest_sockaddr(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(NET_ADDR | GUEST_HOST);
    return a;
}

static void endpoint_sockaddr(const struct endpoint *e, struct sockaddr_storage *ss,
                              socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (e->v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(e->port);
        memcpy(&a->sin6_addr, e->addr, 16);
        *len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(e->port);
        memcpy(&a->sin_addr, e->addr, 4);
        *len = sizeof *a;
    }
}

void lnet_unlink_socket(const struct lnet_core *c, const char *path)
{
    const char *base = strrchr(path, '/');
    if (c->dir_fd >= 0 && base)
        unlinkat(c->dir_fd, base + 1, 0);
}

void lnet_endpoint_close(struct lnet_core *c, unsigned i)
{
    struct ep_state *s = &c->eps[i];
    if (s->closed)
        return;
    s->closed = true;
    if (s->udp) {
        lnet_udp_close_ep(&c->udp, i); /* later datagrams get a port unreachable */
        return;
    }
    if (!s->forwarded)
        return;
    if (s->e.mode == EP_CONNECT) {
        slirp_remove_guestfwd(c->slirp, s->vaddr, s->e.port);
        for (unsigned k = 0; k < MAX_FWDS; k++)
            if (c->fwds[k].used && c->fwds[k].ep == i)
                lnet_fwd_close(&c->fwds[k]);
        if (s->listen_fd >= 0) {
            close(s->listen_fd);
            s->listen_fd = -1;
            lnet_unlink_socket(c, s->path);
        }
        return;
    }
    /* listen: the host port closes; the connections slirp accepted on it are shut down, and
     * slirp closes them (a FIN to the guest) at its next poll */
    struct sockaddr_storage ss;
    socklen_t len;
    endpoint_sockaddr(&s->e, &ss, &len);
    slirp_remove_hostxfwd(c->slirp, (struct sockaddr *)&ss, len, 0);
    for (unsigned k = 0; k < c->nslirp_fds; k++) {
        struct sockaddr_storage local;
        socklen_t ll = sizeof local;
        int listening = 0;
        socklen_t bl = sizeof listening;
        int fd = c->slirp_fds[k];
        if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &bl) < 0 || listening)
            continue;
        uint16_t port = local.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&local)->sin_port)
                      : local.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&local)->sin6_port)
                      : 0;
        int type = 0;
        socklen_t tl = sizeof type;
        if (port == s->e.port && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
            type == SOCK_STREAM)
            shutdown(fd, SHUT_RDWR);
    }
}

int lnet_endpoint_setup(struct lnet_core *c, unsigned i, const struct endpoint *e,
                        uint64_t start_ns)
{
    struct ep_state *s = &c->eps[i];
    s->e = *e;
    s->listen_fd = -1;
    s->vaddr.s_addr = htonl(NET_ADDR | (LNET_EP_ADDR_BASE + i));
    s->deadline_ns = e->expires_ns ? start_ns + e->expires_ns : 0;
    endpoint_sockaddr(e, &s->real, &s->real_len);
    char text[POLICY_ENDPOINT_TEXT];
    endpoint_format(e, text, sizeof text);
    if (e->mode == EP_LISTEN) {
        struct sockaddr_in g = guest_sockaddr(e->port);
        if (slirp_add_hostxfwd(c->slirp, (struct sockaddr *)&s->real, s->real_len,
                               (struct sockaddr *)&g, sizeof g, 0) < 0) {
            log_err("lnet: endpoint %s: cannot listen on the host (in use?)", text);
            return -EADDRINUSE;
        }
        s->forwarded = true;
        return 0;
    }
    if (e->proto == EP_UDP) {
        /* no forward: libslirp's restricted mode drops every UDP datagram; the net thread
         * takes the endpoint's datagrams before slirp sees them (udp_from_guest) */
        s->udp = true;
        return 0;
    }
    /* A connect endpoint: slirp_add_unix makes slirp connect() to a Unix socket for every guest
     * connection to vaddr:port once its handshake completes; the VMM accepts it here and makes
     * its own real connection for it (lnet_fwd), so each guest connection is one real
     * connection with its own open, close and half-close. */
    int n = snprintf(s->path, sizeof s->path, "%s/ep%u.sock", c->dir, i);
    if (n < 0 || (size_t)n >= sizeof s->path) {
        log_err("lnet: endpoint %s: socket path under %s too long", text, c->dir);
        return -ENAMETOOLONG;
    }
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    memcpy(un.sun_path, s->path, (size_t)n + 1);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&un, sizeof un) < 0 ||
        listen(s->listen_fd, 128) < 0) {
        int err = -errno;
        log_err("lnet: endpoint %s: Unix socket %s: %s", text, s->path, strerror(errno));
        return err;
    }
    if (slirp_add_unix(c->slirp, s->path, &s->vaddr, e->port) < 0) {
        log_err("lnet: endpoint %s: slirp_add_unix refused", text);
        return -EINVAL;
    }
    s->forwarded = true;
    return 0;
}

void lnet_endpoint_accept(struct lnet_core *c, unsigned i)
{
    struct ep_state *s = &c->eps[i];
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (s->closed) {
            close(fd);
            continue;
        }
        unsigned k = 0;
        while (k < MAX_FWDS && c->fwds[k].used)
            k++;
        if (k == MAX_FWDS) {
            c->fwd_limit_refused++;
            s->refused++;
            close(fd);
            continue;
        }
        if (lnet_fwd_open(&c->fwds[k], i, fd, (struct sockaddr *)&s->real, s->real_len) < 0)
            s->failed++;
    }
}

