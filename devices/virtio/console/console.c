/* virtio-console MULTIPORT: the control handshake, each port's input and output, the end of input as the host side closing. */
#include "devices/virtio/console/console.h"
#include "devices/virtio/le.h"
#include <errno.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <string.h>

#define MSG_LEN 8u /* le32 id, le16 event, le16 value; PORT_NAME is followed by the name */

static struct vcons *cons_of(struct vmmio *m)
{
    return (struct vcons *)((char *)m - offsetof(struct vcons, mmio));
}

static void post(struct vcons *c, uint32_t id, uint16_t event, uint16_t value)
{
    if (c->out_len == VCONS_OUTBOX) {
        c->msgs_dropped++;
        return;
    }
    c->outbox[(c->out_head + c->out_len++) % VCONS_OUTBOX] = (struct vcons_msg){ id, event, value };
}

/* Pop from queue q: 1 a chain, 0 none, -1 the queue is malformed (the device failed). */
static int pop(struct vcons *c, unsigned q, struct virtq_chain *ch)
{
    int rc = virtq_pop(&c->vq[q], ch);
    if (rc < 0) {
        vmmio_fail(&c->mmio, rc);
        return -1;
    }
    return rc;
}

static bool push(struct vcons *c, unsigned q, uint16_t head, uint32_t len, uint32_t *pushed)
{
    int rc = virtq_push(&c->vq[q], head, len);
    if (rc) {
        vmmio_fail(&c->mmio, rc);
        return false;
    }
    *pushed |= 1u << q;
    return true;
}

/* Whether the guest may read on: an input port is open on the host side until its input ends. */
static uint16_t host_open(const struct vcons_port *p)
{
    return !(p->dir == VCONS_IN && p->ended);
}

static void handle(struct vcons *c, uint32_t id, uint16_t event, uint16_t value)
{
    struct vcons_port *p = id < c->nports ? &c->port[id] : NULL;
    switch (event) {
    case VIRTIO_CONSOLE_DEVICE_READY:
        if (value)
            for (unsigned i = 0; i < c->nports; i++)
                post(c, i, VIRTIO_CONSOLE_PORT_ADD, 0);
        return;
    case VIRTIO_CONSOLE_PORT_READY:
        if (!p)
            break;
        p->ready = value != 0; /* 0: the guest could not add the port */
        if (p->ready) {
            /* open first: once the name is visible in the guest, the open state is too */
            post(c, id, VIRTIO_CONSOLE_PORT_OPEN, host_open(p));
            post(c, id, VIRTIO_CONSOLE_PORT_NAME, 0);
        }
        return;
    case VIRTIO_CONSOLE_PORT_OPEN:
        if (!p || !p->ready)
            break;
        p->guest_open = value != 0;
        return;
    default:
        break;
    }
    c->mmio.stats.driver_errors++;
}

/* Control messages from the guest, each read once and answered with a used length of 0. */
static bool control_from_guest(struct vcons *c, uint32_t *pushed)
{
    for (;;) {
        int rc = pop(c, VCONS_CTRL_TXQ, &c->ctl);
        if (rc <= 0)
            return rc == 0;
        uint8_t b[MSG_LEN];
        if (c->ctl.read_len < MSG_LEN || virtq_chain_read(&c->vq[VCONS_CTRL_TXQ], &c->ctl, 0, b, MSG_LEN))
            c->mmio.stats.driver_errors++;
        else
            handle(c, (uint32_t)le_get(b, 4), (uint16_t)le_get(b + 4, 2), (uint16_t)le_get(b + 6, 2));
        if (!push(c, VCONS_CTRL_TXQ, c->ctl.head, 0, pushed))
            return false;
    }
}

/* Control messages to the guest, in order, one per buffer it gave; the rest wait for buffers. */
static bool control_to_guest(struct vcons *c, uint32_t *pushed)
{
    struct virtq *q = &c->vq[VCONS_CTRL_RXQ];
    while (c->out_len) {
        int rc = pop(c, VCONS_CTRL_RXQ, &c->ctl);
        if (rc <= 0)
            return rc == 0;
        const struct vcons_msg *m = &c->outbox[c->out_head];
        uint8_t b[MSG_LEN + VCONS_NAME_MAX];
        uint32_t len = MSG_LEN;
        le_put(b, m->id, 4);
        le_put(b + 4, m->event, 2);
        le_put(b + 6, m->value, 2);
        if (m->event == VIRTIO_CONSOLE_PORT_NAME) {
            size_t n = strlen(c->port[m->id].name); /* no NUL: the guest adds it */
            memcpy(b + MSG_LEN, c->port[m->id].name, n);
            len += (uint32_t)n;
        }
        if (c->ctl.write_len < len || virtq_chain_write(q, &c->ctl, 0, b, len)) {
            c->msgs_dropped++; /* a buffer too small for it: given back empty */
            c->mmio.stats.driver_errors++;
            len = 0;
        }
        c->out_head = (c->out_head + 1) % VCONS_OUTBOX;
        c->out_len--;
        if (!push(c, VCONS_CTRL_RXQ, c->ctl.head, len, pushed))
            return false;
    }
    return true;
}

/* Guest output on port i to the host, in order; a chain the host cannot take yet stays. */
static bool port_tx(struct vcons *c, unsigned i, uint32_t *pushed)
{
    struct vcons_port *p = &c->port[i];
    unsigned qi = vcons_txq(i);
    struct iovec iov[VIRTQ_MAX_SIZE];
    for (;;) {
        if (!p->tx_pending) {
            int rc = pop(c, qi, &p->tx);
            if (rc <= 0)
                return rc == 0;
            p->tx_pending = true;
            p->done = 0;
        }
        while (p->done < p->tx.read_len) {
            uint32_t left = p->tx.read_len - p->done;
            if (p->dir == VCONS_IN || p->ended) {
                p->dropped += left;
                p->done += left;
                break;
            }
            int n = virtq_chain_iov(&c->vq[qi], &p->tx, false, p->done, left, iov, VIRTQ_MAX_SIZE);
            if (n <= 0) {
                vmmio_fail(&c->mmio, n < 0 ? n : -EINVAL);
                return false;
            }
            ssize_t w = c->host.write(c->host.ctx, i, iov[0].iov_base, iov[0].iov_len);
            if (w == -EAGAIN)
                return true; /* vcons_wants_output: the run loop waits for room */
            if (w <= 0) {
                p->ended = true; /* lost from here on; the guest is never held up by it */
                continue;
            }
            if ((size_t)w > iov[0].iov_len)
                w = (ssize_t)iov[0].iov_len;
            p->done += (uint32_t)w;
            p->bytes += (uint64_t)w;
        }
        p->tx_pending = false;
        if (!push(c, qi, p->tx.head, 0, pushed))
            return false;
    }
}

/* Host input to port i's buffers while the guest has it open. A buffer is given back as soon
 * as a read leaves it partly filled; at the end of the input the host side closes (after the
 * data, so the guest reads all of it, then end-of-file). */
static bool port_rx(struct vcons *c, unsigned i, uint32_t *pushed)
{
    struct vcons_port *p = &c->port[i];
    unsigned qi = vcons_rxq(i);
    struct iovec iov[VIRTQ_MAX_SIZE];
    while (p->dir == VCONS_IN && p->ready && p->guest_open && !p->ended) {
        if (!p->rx_pending) {
            int rc = pop(c, qi, &p->rx);
            if (rc <= 0)
                return rc == 0;
            if (p->rx.write_len == 0) { /* nothing to fill: given back as it came */
                c->mmio.stats.driver_errors++;
                if (!push(c, qi, p->rx.head, 0, pushed))
                    return false;
                continue;
            }
            p->rx_pending = true;
        }
        int n = virtq_chain_iov(&c->vq[qi], &p->rx, true, 0, p->rx.write_len, iov, VIRTQ_MAX_SIZE);
        if (n <= 0) {
            vmmio_fail(&c->mmio, n < 0 ? n : -EINVAL);
            return false;
        }
        uint32_t got = 0;
        bool wait = false;
        for (int k = 0; k < n; k++) {
            ssize_t r = c->host.read(c->host.ctx, i, iov[k].iov_base, iov[k].iov_len);
            if (r == -EAGAIN) {
                wait = true;
                break;
            }
            if (r <= 0) {
                p->ended = true;
                break;
            }
            if ((size_t)r > iov[k].iov_len)
                r = (ssize_t)iov[k].iov_len;
            got += (uint32_t)r;
            if ((size_t)r < iov[k].iov_len)
                break;
        }
        if (got) {
            p->bytes += got;
            p->rx_pending = false;
            if (!push(c, qi, p->rx.head, got, pushed))
                return false;
        }
        if (p->ended)
            post(c, i, VIRTIO_CONSOLE_PORT_OPEN, 0);
        if (wait || p->ended)
            return true;
    }
    return true;
}

static void run(struct vcons *c)
{
    uint32_t pushed = 0;
    if (!control_from_guest(c, &pushed))
        return;
    for (unsigned i = 0; i < c->nports; i++)
        if (!port_tx(c, i, &pushed))
            return;
    for (unsigned i = 0; i < c->nports; i++)
        if (!port_rx(c, i, &pushed))
            return;
    if (!control_to_guest(c, &pushed))
        return;
    for (unsigned q = 0; q < 2 + 2 * c->nports; q++)
        if (pushed & (1u << q))
            vmmio_used(&c->mmio, &c->vq[q]);
}

static void cons_notify(struct vmmio *m, unsigned queue)
{
    (void)queue; /* every queue is looked at: a notification is cheap, and order is kept */
    run(cons_of(m));
}

static void cons_reset(struct vmmio *m)
{
    struct vcons *c = cons_of(m);
    for (unsigned i = 0; i < c->nports; i++) {
        struct vcons_port *p = &c->port[i];
        p->ready = p->guest_open = p->rx_pending = p->tx_pending = false;
        p->done = 0; /* `ended` stays: the host input does not come back */
    }
    c->out_head = c->out_len = 0;
}

static const struct vmmio_ops cons_ops = {
    .notify = cons_notify,
    .reset = cons_reset,
};

void vcons_host_ready(struct vcons *c)
{
    if (vmmio_live(&c->mmio))
        run(c);
}

bool vcons_wants_input(const struct vcons *c, unsigned port)
{
    if (port >= c->nports || !vmmio_live(&c->mmio))
        return false;
    const struct vcons_port *p = &c->port[port];
    return p->dir == VCONS_IN && p->ready && p->guest_open && !p->ended &&
           (p->rx_pending || virtq_has_avail(&c->vq[vcons_rxq(port)]));
}

bool vcons_wants_output(const struct vcons *c, unsigned port)
{
    if (port >= c->nports || !vmmio_live(&c->mmio))
        return false;
    const struct vcons_port *p = &c->port[port];
    return p->dir == VCONS_OUT && p->tx_pending && !p->ended;
}

int vcons_init(struct vcons *c, const struct guest_ram *ram, const struct vcons_port_cfg *ports,
               unsigned nports, const struct vcons_host *host)
{
    memset(c, 0, sizeof(*c));
    if (!ports || nports == 0 || nports > VCONS_MAX_PORTS || !host || !host->read || !host->write)
        return -EINVAL;
    for (unsigned i = 0; i < nports; i++) {
        size_t n = ports[i].name ? strnlen(ports[i].name, VCONS_NAME_MAX + 1) : 0;
        if (n == 0 || n > VCONS_NAME_MAX || (ports[i].dir != VCONS_IN && ports[i].dir != VCONS_OUT))
            return -EINVAL;
        memcpy(c->port[i].name, ports[i].name, n);
        c->port[i].dir = ports[i].dir;
    }
    c->nports = nports;
    c->host = *host;
    le_put(c->config + 4, nports, 4); /* max_nr_ports; cols, rows and emerg_wr 0 */
    uint64_t multiport = 1ull << VIRTIO_CONSOLE_F_MULTIPORT;
    return vmmio_init(&c->mmio, &cons_ops, ram, VIRTIO_ID_CONSOLE, multiport, multiport, c->vq,
                      2 + 2 * nports, VCONS_QUEUE_SIZE, c->config, VCONS_CONFIG_LEN);
}
