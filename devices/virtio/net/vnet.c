/* virtio-net: tx chains checked and copied out once, rx frames into the guest's buffers, a token-bucket throttle per direction. */
#include "devices/virtio/net/vnet.h"
#include "devices/virtio/le.h"
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <string.h>

static struct vnet *net_of(struct vmmio *m)
{
    return (struct vnet *)((char *)m - offsetof(struct vnet, mmio));
}

static void throttle_init(struct vnet_throttle *t, const struct io_limit *lim, uint64_t now)
{
    memset(t, 0, sizeof(*t));
    if (!lim)
        return;
    io_throttle_init(&t->io, lim, now);
    t->limited = !tb_unlimited(&t->io.bytes) || !tb_unlimited(&t->io.ops);
}

/* A wait for tokens ended at now: its time counts as throttled. */
static void throttle_settle(struct vnet_throttle *t, uint64_t now)
{
    if (t->waiting) {
        t->throttled_ns += now > t->waiting_since ? now - t->waiting_since : 0;
        t->waiting = false;
    }
}

/* Charge one frame of len bytes (Firecracker's rule: a frame passes when the operation bucket
 * has one and the byte bucket has its bytes, or a full bucket for a frame larger than it; the
 * part a full bucket did not cover is owed and paid before the next frame). 0: charged, it
 * passes now; else the nanoseconds to wait (t->wake_ns set). */
static uint64_t throttle_charge(struct vnet_throttle *t, uint32_t len, uint64_t now)
{
    if (!t->limited)
        return 0;
    uint64_t w;
    for (;;) {
        if (t->debt) {
            t->debt -= tb_take(&t->io.bytes, t->debt, now);
            if (t->debt) {
                w = tb_wait_ns(&t->io.bytes, t->debt, now);
                if (w)
                    break;
                continue;
            }
        }
        uint64_t wo = tb_wait_ns(&t->io.ops, 1, now), wb = tb_wait_ns(&t->io.bytes, len, now);
        w = wo > wb ? wo : wb;
        if (w)
            break;
        tb_take(&t->io.ops, 1, now);
        t->debt = len - tb_take(&t->io.bytes, len, now);
        throttle_settle(t, now);
        return 0;
    }
    if (!t->waiting) {
        t->waiting = true;
        t->waiting_since = now;
    }
    t->wake_ns = w > UINT64_MAX - now ? UINT64_MAX : now + w;
    return w;
}

/* The device's timer: the earlier of the two directions' token waits. */
static void update_wake(struct vnet *v)
{
    uint64_t a = v->rx.wake_ns, b = v->tx.wake_ns;
    v->mmio.wake_ns = !a ? b : !b ? a : a < b ? a : b;
}

/* Give a tx chain back: written 0 (the device writes nothing into a tx chain). */
static bool tx_return(struct vnet *v, uint16_t head)
{
    int rc = virtq_push(&v->vq[VNET_TXQ], head, 0);
    if (rc) {
        vmmio_fail(&v->mmio, rc);
        return false;
    }
    return true;
}

/* Check a tx chain and copy its frame out: the header (12 bytes: no flags, no GSO, since no
 * offload is offered) then 14..1514 frame bytes, every byte readable and read once; a writable
 * part is refused. true: the frame is in v->tx_frame, v->tx_len. */
static bool tx_parse(struct vnet *v)
{
    const struct virtq_chain *c = &v->tx_chain;
    uint8_t hdr[VNET_HDR_LEN];
    if (c->write_len != 0 || c->read_len < VNET_HDR_LEN + VNET_FRAME_MIN ||
        c->read_len - VNET_HDR_LEN > VNET_FRAME_MAX)
        return false;
    uint32_t len = c->read_len - VNET_HDR_LEN;
    if (virtq_chain_read(&v->vq[VNET_TXQ], c, 0, hdr, VNET_HDR_LEN) ||
        virtq_chain_read(&v->vq[VNET_TXQ], c, VNET_HDR_LEN, v->tx_frame, len))
        return false;
    if (hdr[0] != 0 || hdr[1] != VIRTIO_NET_HDR_GSO_NONE)
        return false;
    v->tx_len = len;
    return true;
}

/* Serve the transmit queue until it is empty, the buckets run dry, the backend says -EAGAIN
 * (the frame is held), or the queue is malformed (NEEDS_RESET). */
static void tx_run(struct vnet *v)
{
    struct virtq *q = &v->vq[VNET_TXQ];
    bool pushed = false;
    v->tx.wake_ns = 0;
    if (!vmmio_live(&v->mmio))
        goto out;
    uint64_t now = v->mmio.clock();
    for (;;) {
        if (!v->have_tx) {
            int rc = virtq_pop(q, &v->tx_chain);
            if (rc < 0) {
                vmmio_fail(&v->mmio, rc);
                return;
            }
            if (rc == 0)
                break;
            if (!tx_parse(v)) {
                v->stats.tx_dropped++;
                if (!tx_return(v, v->tx_chain.head))
                    return;
                pushed = true;
                continue;
            }
            v->have_tx = true;
            v->tx_admitted = false;
        }
        if (!v->tx_admitted) {
            if (throttle_charge(&v->tx, v->tx_len, now))
                break;
            v->tx_admitted = true;
        }
        int rc = v->be.transmit(v->be.ctx, v->tx_frame, v->tx_len);
        if (rc == -EAGAIN)
            break;
        if (rc == 0) {
            v->stats.tx_packets++;
            v->stats.tx_bytes += v->tx_len;
        } else {
            v->stats.tx_dropped++;
        }
        v->have_tx = false;
        if (!tx_return(v, v->tx_chain.head))
            return;
        pushed = true;
    }
    if (pushed)
        vmmio_used(&v->mmio, q);
out:
    update_wake(v);
}

int vnet_receive(struct vnet *v, const uint8_t *frame, uint32_t len)
{
    struct virtq *q = &v->vq[VNET_RXQ];
    if (!vmmio_live(&v->mmio) || len < VNET_FRAME_MIN || len > VNET_FRAME_MAX) {
        v->stats.rx_dropped++;
        return 0;
    }
    uint64_t now = v->mmio.clock();
    v->rx.wake_ns = 0;
    /* a buffer first: the tokens are taken only for a frame that then lands */
    if (!virtq_has_avail(q)) {
        v->rx_want = true;
        update_wake(v);
        return -EAGAIN;
    }
    uint64_t w = throttle_charge(&v->rx, len, now);
    update_wake(v);
    if (w) {
        v->rx_want = true;
        return -EAGAIN;
    }
    int rc = virtq_pop(q, &v->rx_chain);
    if (rc < 0) {
        vmmio_fail(&v->mmio, rc);
        v->stats.rx_dropped++;
        return 0;
    }
    if (rc == 0) { /* the hint lied: the avail index had not moved after all */
        v->rx_want = true;
        return -EAGAIN;
    }
    const struct virtq_chain *c = &v->rx_chain;
    /* a receive buffer is device-writable only, and holds the header and the whole frame */
    if (c->read_len != 0) {
        vmmio_fail(&v->mmio, -EINVAL);
        v->stats.rx_dropped++;
        return 0;
    }
    uint32_t written = 0;
    if (c->write_len < VNET_HDR_LEN || c->write_len - VNET_HDR_LEN < len) {
        v->stats.rx_dropped++;
    } else {
        /* DATA_VALID (VIRTIO_NET_F_GUEST_CSUM): the backend's frames carry right checksums
         * (libslirp's, or made by the backend itself), so the guest skips checking them */
        uint8_t hdr[VNET_HDR_LEN] = { VIRTIO_NET_HDR_F_DATA_VALID };
        hdr[1] = VIRTIO_NET_HDR_GSO_NONE;
        le_put(hdr + 10, 1, 2); /* num_buffers: 1 (no VIRTIO_NET_F_MRG_RXBUF) */
        if (virtq_chain_write(q, c, 0, hdr, VNET_HDR_LEN) ||
            virtq_chain_write(q, c, VNET_HDR_LEN, frame, len)) {
            v->stats.rx_dropped++;
        } else {
            written = VNET_HDR_LEN + len;
            v->stats.rx_packets++;
            v->stats.rx_bytes += len;
        }
    }
    rc = virtq_push(q, c->head, written);
    if (rc) {
        vmmio_fail(&v->mmio, rc);
        return 0;
    }
    v->rx_pushed = true;
    return written ? 1 : 0;
}

void vnet_rx_done(struct vnet *v)
{
    if (v->rx_pushed) {
        v->rx_pushed = false;
        vmmio_used(&v->mmio, &v->vq[VNET_RXQ]);
    }
}

void vnet_kick_tx(struct vnet *v)
{
    tx_run(v);
}

static void rx_wakeup(struct vnet *v)
{
    if (v->rx_want && v->be.rx_ready) {
        v->rx_want = false;
        v->be.rx_ready(v->be.ctx);
    }
}

static void net_notify(struct vmmio *m, unsigned queue)
{
    struct vnet *v = net_of(m);
    if (queue == VNET_TXQ)
        tx_run(v);
    else if (queue == VNET_RXQ)
        rx_wakeup(v);
}

static void net_timer(struct vmmio *m)
{
    struct vnet *v = net_of(m);
    uint64_t now = m->clock();
    bool rx_due = v->rx.wake_ns && v->rx.wake_ns <= now;
    if (rx_due)
        v->rx.wake_ns = 0;
    if (!v->tx.wake_ns || v->tx.wake_ns <= now)
        tx_run(v);
    else
        update_wake(v);
    if (rx_due)
        rx_wakeup(v);
}

static void net_reset(struct vmmio *m)
{
    struct vnet *v = net_of(m);
    uint64_t now = m->clock();
    throttle_settle(&v->rx, now);
    throttle_settle(&v->tx, now);
    v->rx.wake_ns = v->tx.wake_ns = 0;
    v->have_tx = false; /* tokens already taken for it are spent */
    v->rx_pushed = false;
    v->rx_want = true;  /* the backend keeps its frames until the driver is back */
}

static const struct vmmio_ops net_ops = {
    .notify = net_notify,
    .timer = net_timer,
    .reset = net_reset,
};

int vnet_init(struct vnet *v, const struct guest_ram *ram, const struct vnet_backend *be,
              const struct vnet_cfg *cfg)
{
    memset(v, 0, sizeof(*v));
    if (!be || !cfg || !be->transmit)
        return -EINVAL;
    if (!(cfg->mac[0] & 0x02) || (cfg->mac[0] & 0x01))
        return -EINVAL; /* a locally administered unicast address */
    v->be = *be;
    memcpy(v->config, cfg->mac, 6);
    le_put(v->config + 8, 1, 2);          /* max_virtqueue_pairs (only read with MQ) */
    le_put(v->config + 10, VNET_MTU, 2);  /* mtu */
    uint64_t features = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MTU |
                        1ull << VIRTIO_NET_F_GUEST_CSUM;
    int rc = vmmio_init(&v->mmio, &net_ops, ram, VIRTIO_ID_NET, features, 0, v->vq, 2,
                        VNET_QUEUE_SIZE, v->config, VNET_CONFIG_LEN);
    if (rc)
        return rc;
    uint64_t now = v->mmio.clock();
    throttle_init(&v->rx, cfg->rx, now);
    throttle_init(&v->tx, cfg->tx, now);
    return 0;
}
