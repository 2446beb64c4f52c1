/* The Linux tier's network backend: libslirp (restricted) on its own thread, frame queues to the device, TCP endpoints as per-connection forwards, UDP endpoints as the VMM's own sockets, expiry and revocation. */
#include "vmm/linux/lnet.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "vmm/linux/lnet_frame.h"
#include "vmm/linux/lnet_fwd.h"
#include "vmm/linux/lnet_udp.h"

#include "vmm/linux/lnet_core.h"


/* ---- queues (c->lock held) ---- */

static int ring_init(struct ring *r, unsigned cap)
{
    r->f = calloc(cap, sizeof(*r->f));
    r->cap = cap;
    r->head = r->count = 0;
    return r->f ? 0 : -ENOMEM;
}

static struct frame *ring_tail(struct ring *r)
{
    return r->count < r->cap ? &r->f[(r->head + r->count) % r->cap] : NULL;
}

static struct frame *ring_head(struct ring *r)
{
    return r->count ? &r->f[r->head] : NULL;
}

static void ring_pop(struct ring *r)
{
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

static void wake_thread(struct lnet_core *c)
{
    uint64_t one = 1;
    /* non-blocking eventfd: a full counter already means "wake up" */
    if (write(c->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("lnet: waking the net thread: %s", strerror(errno));
}

/* ---- the device's side (dev_lock held) ---- */

static int dev_transmit(void *ctx, const uint8_t *frame, uint32_t len)
{
    struct lnet_core *c = ctx;
    pthread_mutex_lock(&c->lock);
    struct frame *f = ring_tail(&c->txq);
    if (!f) {
        c->tx_blocked = true;
        pthread_mutex_unlock(&c->lock);
        return -EAGAIN;
    }
    f->len = len;
    memcpy(f->data, frame, len);
    bool was_empty = c->txq.count++ == 0;
    pthread_mutex_unlock(&c->lock);
    if (was_empty)
        wake_thread(c);
    return 0;
}

/* Deliver the queued frames the device takes now (dev_lock held). */
static void deliver_locked(struct lnet_core *c)
{
    struct vnet *v = &c->n->dev;
    pthread_mutex_lock(&c->lock);
    struct frame *f;
    while ((f = ring_head(&c->rxq))) {
        if (vnet_receive(v, f->data, f->len) == -EAGAIN)
            break;
        ring_pop(&c->rxq);
    }
    bool wake = c->rx_masked && c->rxq.count < RXQ_SOFT;
    if (wake)
        c->rx_masked = false;
    pthread_mutex_unlock(&c->lock);
    vnet_rx_done(v);
    if (wake)
        wake_thread(c);
}

static void dev_rx_ready(void *ctx)
{
    deliver_locked(ctx);
}

/* ---- slirp's callbacks (the net thread) ---- */

/* A frame for the guest (the net thread): straight into the guest's buffer when nothing is
 * queued before it (one copy fewer; only this thread queues, so the order holds; the interrupt
 * waits for the round's end), else queued. False when the queue is full (dropped and counted:
 * TCP retransmits, UDP may drop; the rx mask keeps this rare). */
bool lnet_rxq_push(struct lnet_core *c, const void *buf, uint32_t len)
{
    pthread_mutex_lock(&c->lock);
    bool queued = c->rxq.count > 0;
    pthread_mutex_unlock(&c->lock);
    if (!queued && c->dev_lock) {
        pthread_mutex_lock(c->dev_lock);
        int rc = vnet_receive(&c->n->dev, buf, len);
        pthread_mutex_unlock(c->dev_lock);
        if (rc != -EAGAIN) { /* delivered, or dropped and counted by the device */
            c->rx_done_due = true;
            return true;
        }
    }
    pthread_mutex_lock(&c->lock);
    struct frame *f = ring_tail(&c->rxq);
    if (f) {
        f->len = len;
        memcpy(f->data, buf, len);
        c->rxq.count++;
    } else {
        c->rx_queue_drops++;
    }
    pthread_mutex_unlock(&c->lock);
    return f != NULL;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct lnet_core *c = opaque;
    if (len < VNET_FRAME_MIN || len > VNET_FRAME_MAX)
        return (ssize_t)len; /* slirp never makes one; dropped */
    lnet_rxq_push(c, buf, (uint32_t)len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    (void)opaque;
    log_debug("lnet: slirp: guest error: %s", msg);
}

static int64_t cb_clock_ns(void *opaque)
{
    (void)opaque;
    return (int64_t)mono_ns();
}

static struct slirp_timer *timer_alloc(struct lnet_core *c)
{
    for (unsigned i = 0; i < MAX_TIMERS; i++)
        if (!c->timers[i].used) {
            memset(&c->timers[i], 0, sizeof c->timers[i]);
            c->timers[i].used = true;
            return &c->timers[i];
        }
    log_err("lnet: slirp asked for more than %d timers", MAX_TIMERS);
    return NULL;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct slirp_timer *t = timer_alloc(opaque);
    if (t) {
        t->cb = cb;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct slirp_timer *t = timer_alloc(opaque);
    if (t) {
        t->id = id;
        t->cb_opaque = cb_opaque;
    }
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    (void)opaque;
    if (timer)
        ((struct slirp_timer *)timer)->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    (void)opaque;
    struct slirp_timer *t = timer;
    if (t) {
        t->armed = true;
        t->expire_ms = expire_ms;
    }
}

static void cb_register_fd(int fd, void *opaque)
{
    struct lnet_core *c = opaque;
    if (c->nslirp_fds == c->cap_slirp_fds) {
        unsigned cap = c->cap_slirp_fds ? 2 * c->cap_slirp_fds : 16;
        int *p = realloc(c->slirp_fds, cap * sizeof *p);
        if (!p)
            return; /* only revocation of a listen endpoint's live connections misses it */
        c->slirp_fds = p;
        c->cap_slirp_fds = cap;
    }
    c->slirp_fds[c->nslirp_fds++] = fd;
}

static void cb_unregister_fd(int fd, void *opaque)
{
    struct lnet_core *c = opaque;
    for (unsigned i = 0; i < c->nslirp_fds; i++)
        if (c->slirp_fds[i] == fd) {
            c->slirp_fds[i] = c->slirp_fds[--c->nslirp_fds];
            return;
        }
}

static void cb_notify(void *opaque)
{
    wake_thread(opaque);
}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_fd,
    .unregister_poll_fd = cb_unregister_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* ---- the poll set ---- */

static int pfd_add(struct lnet_core *c, int fd, short events)
{
    if (c->npfd == c->cap_pfd) {
        unsigned cap = c->cap_pfd ? 2 * c->cap_pfd : 64;
        struct pollfd *p = realloc(c->pfd, cap * sizeof *p);
        if (!p)
            return -1;
        c->pfd = p;
        c->cap_pfd = cap;
    }
    c->pfd[c->npfd] = (struct pollfd){ .fd = fd, .events = events };
    return (int)c->npfd++;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
    struct lnet_core *c = opaque;
    short ev = 0;
    /* rx throttling: while the guest is not taking frames, slirp reads no host socket, so the
     * senders' TCP windows close instead of frames being dropped */
    if ((events & SLIRP_POLL_IN) && !c->rx_masked)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    return pfd_add(c, fd, ev);
}

static int cb_get_revents(int idx, void *opaque)
{
    struct lnet_core *c = opaque;
    if (idx < 0 || (unsigned)idx >= c->npfd)
        return 0;
    short r = c->pfd[idx].revents;
    int ev = 0;
    if (r & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (r & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (r & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (r & POLLERR)
        ev |= SLIRP_POLL_ERR;
    if (r & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

/* ---- the net thread ---- */

static uint64_t next_deadline(const struct lnet_core *c)
{
    uint64_t d = 0;
    for (unsigned i = 0; i < c->neps; i++)
        if (!c->eps[i].closed && c->eps[i].deadline_ns && (!d || c->eps[i].deadline_ns < d))
            d = c->eps[i].deadline_ns;
    return d;
}

static void run_timers(struct lnet_core *c)
{
    int64_t now_ms = (int64_t)(mono_ns() / 1000000);
    for (unsigned i = 0; i < MAX_TIMERS; i++) {
        struct slirp_timer *t = &c->timers[i];
        if (!t->used || !t->armed || t->expire_ms > now_ms)
            continue;
        t->armed = false;
        if (t->cb)
            t->cb(t->cb_opaque);
        else
            slirp_handle_timer(c->slirp, t->id, t->cb_opaque);
    }
}

/* One round: poll slirp's sockets, ours and the wake-up; then timers, expiry, revocations,
 * guest frames into slirp, frames out to the device. */
static void net_round(struct lnet_core *c)
{
    c->npfd = 0;
    uint32_t timeout = 1000;
    pthread_mutex_lock(&c->lock);
    if (c->rxq.count >= RXQ_SOFT)
        c->rx_masked = true;
    bool masked = c->rx_masked;
    pthread_mutex_unlock(&c->lock);
    slirp_pollfds_fill(c->slirp, &timeout, cb_add_poll, c);
    int wake_idx = pfd_add(c, c->wake_fd, POLLIN);
    int ep_idx[POLICY_MAX_ENDPOINTS];
    for (unsigned i = 0; i < c->neps; i++)
        ep_idx[i] = c->eps[i].listen_fd >= 0 ? pfd_add(c, c->eps[i].listen_fd, POLLIN) : -1;
    for (unsigned k = 0; k < MAX_FWDS; k++) {
        struct lnet_fwd *f = &c->fwds[k];
        if (!f->used)
            continue;
        f->pidx_guest = pfd_add(c, f->guest_fd, lnet_fwd_guest_events(f));
        f->pidx_host = pfd_add(c, f->host_fd, lnet_fwd_host_events(f));
    }
    for (unsigned k = 0; k < LNET_UDP_FLOWS; k++) { /* datagrams wait in the kernel when masked */
        struct lnet_udp_flow *u = &c->udp.f[k];
        u->pidx = u->used ? pfd_add(c, u->fd, masked ? 0 : POLLIN) : -1;
    }
    uint64_t now = mono_ns();
    int64_t now_ms = (int64_t)(now / 1000000);
    for (unsigned i = 0; i < MAX_TIMERS; i++)
        if (c->timers[i].used && c->timers[i].armed) {
            int64_t w = c->timers[i].expire_ms - now_ms;
            if (w < (int64_t)timeout)
                timeout = w < 0 ? 0 : (uint32_t)w;
        }
    uint64_t d = next_deadline(c);
    if (d) {
        uint64_t w = d > now ? (d - now + 999999) / 1000000 : 0;
        if (w < timeout)
            timeout = (uint32_t)w;
    }
    int rc = poll(c->pfd, c->npfd, (int)timeout);
    if (rc < 0 && errno != EINTR)
        log_warn("lnet: poll: %s", strerror(errno));
    slirp_pollfds_poll(c->slirp, rc < 0, cb_get_revents, c);
    if (wake_idx >= 0 && (c->pfd[wake_idx].revents & POLLIN)) {
        uint64_t v;
        if (read(c->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
            log_warn("lnet: wake eventfd: %s", strerror(errno));
    }
    for (unsigned i = 0; i < c->neps; i++)
        if (ep_idx[i] >= 0 && c->eps[i].listen_fd >= 0 && (c->pfd[ep_idx[i]].revents & POLLIN))
            lnet_endpoint_accept(c, i);
    for (unsigned k = 0; k < MAX_FWDS; k++) {
        struct lnet_fwd *f = &c->fwds[k];
        if (!f->used || f->pidx_guest < 0)
            continue;
        if (!c->pfd[f->pidx_guest].revents && !c->pfd[f->pidx_host].revents)
            continue;
        unsigned ep = f->ep;
        bool connected;
        int r = lnet_fwd_pump(f, &connected);
        if (connected)
            c->eps[ep].connections++;
        if (r < 0 && !connected)
            c->eps[ep].failed++;
    }
    for (unsigned k = 0; k < LNET_UDP_FLOWS; k++) {
        struct lnet_udp_flow *u = &c->udp.f[k];
        if (u->used && u->pidx >= 0 && c->pfd[u->pidx].revents)
            lnet_udp_to_guest(c, u);
    }
    lnet_udp_expire(&c->udp, mono_ns());
    run_timers(c);
    now = mono_ns();
    for (unsigned i = 0; i < c->neps; i++)
        if (!c->eps[i].closed && c->eps[i].deadline_ns && c->eps[i].deadline_ns <= now) {
            c->eps[i].expired = true;
            pthread_mutex_lock(&c->lock);
            c->revoked[i] = true;
            pthread_mutex_unlock(&c->lock);
            lnet_endpoint_close(c, i);
        }
    /* revocations, and the guest's frames, taken under the lock and handled outside it */
    struct frame *batch = c->tx_batch;
    bool revoke[POLICY_MAX_ENDPOINTS];
    unsigned nb = 0;
    bool kick = false;
    pthread_mutex_lock(&c->lock);
    memcpy(revoke, c->revoke_req, sizeof revoke);
    memset(c->revoke_req, 0, sizeof c->revoke_req);
    struct frame *f;
    while (nb < TX_BATCH && (f = ring_head(&c->txq))) {
        batch[nb].len = f->len;
        memcpy(batch[nb].data, f->data, f->len);
        nb++;
        ring_pop(&c->txq);
    }
    if (c->tx_blocked && c->txq.count < c->txq.cap) {
        c->tx_blocked = false;
        kick = true;
    }
    if (c->txq.count)
        wake_thread(c); /* more than one batch: come back at once */
    pthread_mutex_unlock(&c->lock);
    for (unsigned i = 0; i < c->neps; i++)
        if (revoke[i])
            lnet_endpoint_close(c, i);
    for (unsigned i = 0; i < nb; i++)
        if (lnet_tx_filter(c, &batch[i]))
            slirp_input(c->slirp, batch[i].data, (int)batch[i].len);
    pthread_mutex_lock(&c->lock);
    bool deliver = c->rxq.count > 0 || c->rx_done_due;
    pthread_mutex_unlock(&c->lock);
    c->rx_done_due = false;
    if ((deliver || kick) && c->dev_lock) {
        pthread_mutex_lock(c->dev_lock);
        if (deliver)
            deliver_locked(c);
        if (kick)
            vnet_kick_tx(&c->n->dev);
        if (c->rearm)
            c->rearm(c->rearm_ctx);
        pthread_mutex_unlock(c->dev_lock);
    }
}

static void *net_thread(void *arg)
{
    struct lnet_core *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->lock);
        if (stop)
            return NULL;
        net_round(c);
    }
}

/* ---- the API ---- */

static int make_private_dir(struct lnet_core *c)
{
    c->dir_fd = c->parent_fd = -1;
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 40)
        tmp = "/tmp";
    snprintf(c->dir, sizeof c->dir, "%s/isovm-net-XXXXXX", tmp);
    if (!mkdtemp(c->dir)) { /* mode 0700 */
        int err = -errno;
        log_err("lnet: private directory %s: %s", c->dir, strerror(errno));
        c->dir[0] = 0;
        return err;
    }
    c->dir_fd = open(c->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    c->parent_fd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return 0;
}

bool lnet_linked(void)
{
    return slirp_new != NULL;
}

int lnet_init(struct lnet *n, const struct guest_ram *ram, const struct policy *p,
              uint64_t start_ns)
{
    memset(n, 0, sizeof(*n));
    if (p->nendpoints == 0)
        return 0;
    if (!lnet_linked()) { /* launch_cli hands such a job to isovm-slirp first */
        log_err("lnet: this isovm is linked without libslirp: the Linux tier's network runs "
                "in isovm-slirp");
        return -ENOTSUP;
    }
    if (p->nendpoints > POLICY_MAX_ENDPOINTS || POLICY_MAX_ENDPOINTS + LNET_EP_ADDR_BASE > 254)
        return -EINVAL;
    struct lnet_core *c = calloc(1, sizeof(*c));
    if (!c) {
        log_err("lnet: out of memory");
        return -ENOMEM;
    }
    n->core = c;
    c->n = n;
    c->wake_fd = -1;
    c->dir_fd = c->parent_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    for (unsigned k = 0; k < MAX_FWDS; k++)
        c->fwds[k].guest_fd = c->fwds[k].host_fd = -1;
    lnet_udp_init(&c->udp);
    int rc = -ENOMEM;
    if (ring_init(&c->txq, TXQ_FRAMES) || ring_init(&c->rxq, RXQ_FRAMES)) {
        log_err("lnet: out of memory for the frame queues");
        goto fail;
    }
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        rc = -errno;
        log_err("lnet: eventfd: %s", strerror(errno));
        goto fail;
    }
    SlirpConfig cfg = { .version = 4, .restricted = 1, .in_enabled = true };
    cfg.vnetwork.s_addr = htonl(NET_ADDR);
    cfg.vnetmask.s_addr = htonl(0xffffff00u);
    cfg.vhost.s_addr = htonl(NET_ADDR | GW_HOST);
    cfg.vdhcp_start.s_addr = htonl(NET_ADDR | GUEST_HOST);
    cfg.vnameserver.s_addr = htonl(NET_ADDR | 3u);
    cfg.if_mtu = VNET_MTU;
    cfg.if_mru = VNET_MTU;
    cfg.disable_host_loopback = true;
    cfg.disable_dns = true;   /* no DNS unless an endpoint grants a server (docs/network.md) */
    cfg.disable_dhcp = true;  /* the init configures the interface from the job file */
    c->slirp = slirp_new(&cfg, &slirp_cbs, c);
    if (!c->slirp) {
        log_err("lnet: slirp_new failed");
        rc = -EINVAL;
        goto fail;
    }
    bool need_dir = false;
    for (unsigned i = 0; i < p->nendpoints; i++)
        need_dir |= p->endpoints[i].mode == EP_CONNECT && p->endpoints[i].proto == EP_TCP;
    if (need_dir && (rc = make_private_dir(c)) < 0)
        goto fail;
    c->neps = p->nendpoints;
    for (unsigned i = 0; i < p->nendpoints; i++)
        if ((rc = lnet_endpoint_setup(c, i, &p->endpoints[i], start_ns)) < 0)
            goto fail;
    struct vnet_backend be = { dev_transmit, dev_rx_ready, c };
    struct vnet_cfg vc = { .rx = &p->net_rx, .tx = &p->net_tx };
    memcpy(vc.mac, guest_mac, 6);
    if ((rc = vnet_init(&n->dev, ram, &be, &vc)) < 0) {
        log_err("lnet: the virtio-net device: %s", strerror(-rc));
        goto fail;
    }
    n->enabled = true;
    return 0;
fail:
    lnet_fini(n);
    return rc;
}

struct vmmio *lnet_mmio(struct lnet *n)
{
    return n->enabled ? &n->dev.mmio : NULL;
}

int lnet_start(struct lnet *n, pthread_mutex_t *dev_lock, void (*rearm)(void *ctx), void *ctx)
{
    struct lnet_core *c = n->core;
    if (!n->enabled || !c || c->running || !dev_lock)
        return -EINVAL;
    c->dev_lock = dev_lock;
    c->rearm = rearm;
    c->rearm_ctx = ctx;
    c->stop = false;
    int rc = pthread_create(&c->thread, NULL, net_thread, c);
    if (rc) {
        log_err("lnet: starting the net thread: %s", strerror(rc));
        return -rc;
    }
    c->running = true;
    return 0;
}

void lnet_stop(struct lnet *n)
{
    struct lnet_core *c = n->core;
    if (!c || !c->running)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_mutex_unlock(&c->lock);
    wake_thread(c);
    pthread_join(c->thread, NULL);
    c->running = false;
    for (unsigned k = 0; k < MAX_FWDS; k++)
        lnet_fwd_close(&c->fwds[k]);
    lnet_udp_close_all(&c->udp);
}

void lnet_fini(struct lnet *n)
{
    struct lnet_core *c = n->core;
    if (!c)
        return;
    lnet_stop(n);
    for (unsigned k = 0; k < MAX_FWDS; k++)
        lnet_fwd_close(&c->fwds[k]);
    lnet_udp_close_all(&c->udp);
    if (c->slirp)
        slirp_cleanup(c->slirp);
    for (unsigned i = 0; i < c->neps; i++)
        if (c->eps[i].listen_fd >= 0) {
            close(c->eps[i].listen_fd);
            lnet_unlink_socket(c, c->eps[i].path);
        }
    const char *base = strrchr(c->dir, '/');
    if (c->dir[0] && c->parent_fd >= 0 && base && unlinkat(c->parent_fd, base + 1, AT_REMOVEDIR) < 0)
        log_warn("lnet: removing %s: %s", c->dir, strerror(errno));
    if (c->dir_fd >= 0)
        close(c->dir_fd);
    if (c->parent_fd >= 0)
        close(c->parent_fd);
    c->dir_fd = c->parent_fd = -1;
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    free(c->txq.f);
    free(c->rxq.f);
    free(c->pfd);
    free(c->slirp_fds);
    pthread_mutex_destroy(&c->lock);
    free(c);
    n->core = NULL;
    n->enabled = false;
}

int lnet_revoke_endpoint(struct lnet *n, unsigned index)
{
    struct lnet_core *c = n->core;
    if (!n->enabled || !c || index >= c->neps)
        return -EINVAL;
    pthread_mutex_lock(&c->lock);
    bool already = c->revoked[index];
    c->revoked[index] = c->revoke_req[index] = true;
    pthread_mutex_unlock(&c->lock);
    wake_thread(c);
    return already ? -EALREADY : 0;
}
