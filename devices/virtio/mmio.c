/* The virtio-mmio transport (version 2): registers, status and feature negotiation, queue setup, notifications, interrupts. */
#include "devices/virtio/mmio.h"
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <string.h>
#include "devices/virtio/le.h"
#include "lib/clock.h"

#define MMIO_MAGIC  0x74726976u /* "virt" */
#define MMIO_VENDOR 0x4d565349u /* "ISVM" */
#define STATUS_KNOWN (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | \
                      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | \
                      VIRTIO_CONFIG_S_FAILED)
#define F_VERSION_1 (1ull << VIRTIO_F_VERSION_1)

static bool access_size_ok(uint32_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

int vmmio_init(struct vmmio *m, const struct vmmio_ops *ops, const struct guest_ram *ram,
               uint32_t device_id, uint64_t features, uint64_t required, struct virtq *queues,
               unsigned nqueues, uint16_t num_max, uint8_t *config, uint32_t config_len)
{
    memset(m, 0, sizeof(*m));
    if (!ops || !ram || nqueues > VMMIO_MAX_QUEUES || (nqueues && !queues) ||
        config_len > VMMIO_WINDOW - VIRTIO_MMIO_CONFIG || (config_len && !config))
        return -EINVAL;
    m->ops = ops;
    m->ram = ram;
    m->device_id = device_id;
    m->vendor_id = MMIO_VENDOR;
    m->device_features = features | F_VERSION_1;
    m->required_features = required | F_VERSION_1;
    m->queues = queues;
    m->nqueues = nqueues;
    m->config = config;
    m->config_len = config_len;
    m->clock = mono_ns;
    for (unsigned i = 0; i < nqueues; i++) {
        int rc = virtq_init(&queues[i], ram, num_max);
        if (rc)
            return rc;
    }
    return 0;
}

bool vmmio_live(const struct vmmio *m)
{
    return (m->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
           !(m->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

static void raise_irq(struct vmmio *m, uint32_t bits)
{
    m->interrupt_status |= bits;
    m->stats.interrupts++;
    if (m->irq)
        m->irq(m->irq_ctx);
}

void vmmio_used(struct vmmio *m, struct virtq *q)
{
    if (virtq_needs_interrupt(q))
        raise_irq(m, VIRTIO_MMIO_INT_VRING);
}

void vmmio_fail(struct vmmio *m, int err)
{
    m->error = err;
    if (m->status & VIRTIO_CONFIG_S_NEEDS_RESET)
        return;
    m->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    m->wake_ns = 0;
    raise_irq(m, VIRTIO_MMIO_INT_CONFIG);
}

static void reset(struct vmmio *m)
{
    m->status = 0;
    m->interrupt_status = 0;
    m->device_features_sel = m->driver_features_sel = m->queue_sel = 0;
    m->driver_features = 0;
    m->driver_features_bad = false;
    m->wake_ns = 0;
    for (unsigned i = 0; i < m->nqueues; i++)
        virtq_reset(&m->queues[i]);
    if (m->ops->reset)
        m->ops->reset(m);
}

void vmmio_notify(struct vmmio *m, uint32_t queue)
{
    if (!vmmio_live(m))
        return;
    if (queue >= m->nqueues || !m->queues[queue].ready) {
        m->stats.driver_errors++;
        return;
    }
    m->stats.notifies++;
    if (m->ops->notify)
        m->ops->notify(m, queue);
}

void vmmio_timer(struct vmmio *m)
{
    if (!vmmio_live(m)) {
        m->wake_ns = 0;
        return;
    }
    if (m->ops->timer)
        m->ops->timer(m);
}

uint64_t vmmio_wake_ns(const struct vmmio *m)
{
    return vmmio_live(m) ? m->wake_ns : 0;
}

static bool features_acceptable(const struct vmmio *m)
{
    return !m->driver_features_bad && !(m->driver_features & ~m->device_features) &&
           (m->driver_features & m->required_features) == m->required_features;
}

/* A status write: 0 resets; otherwise bits are only ever added, each after the one before it
 * (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK); FAILED any time. NEEDS_RESET is the device's:
 * the driver writing it back (read-modify-write) neither sets nor clears it. A write that
 * clears a bit, sets an unknown one, or skips a step drops what it cannot do. */
static void write_status(struct vmmio *m, uint32_t v)
{
    if (v == 0) {
        reset(m);
        return;
    }
    uint32_t cur = m->status & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    uint32_t want = v & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    if ((want & cur) != cur || (want & ~STATUS_KNOWN)) {
        m->stats.driver_errors++;
        return;
    }
    uint32_t add = want & ~cur;
    if (add & VIRTIO_CONFIG_S_FAILED) {
        m->status |= VIRTIO_CONFIG_S_FAILED; /* the driver gave up: the device stops */
        m->wake_ns = 0;
    }
    static const uint32_t order[] = { VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER,
                                      VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_DRIVER_OK };
    for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) {
        uint32_t bit = order[i];
        if (!(add & bit))
            continue;
        if ((i > 0 && !(m->status & order[i - 1])) ||
            (bit == VIRTIO_CONFIG_S_FEATURES_OK && !features_acceptable(m))) {
            /* a step skipped, or features not offered (the spec's answer: FEATURES_OK stays
             * clear, the driver reads it back and gives up): this bit and the later ones */
            m->stats.driver_errors++;
            return;
        }
        m->status |= bit;
    }
    if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && m->ops->notify) {
        /* buffers the driver made available before DRIVER_OK are taken now */
        for (unsigned q = 0; q < m->nqueues && vmmio_live(m); q++)
            if (m->queues[q].ready)
                m->ops->notify(m, q);
    }
}

/* Queue registers may be written between FEATURES_OK and DRIVER_OK, for an existing queue that
 * is not enabled, on a device not in error. */
static struct virtq *queue_to_configure(struct vmmio *m)
{
    uint32_t s = m->status;
    if (!(s & VIRTIO_CONFIG_S_FEATURES_OK) ||
        (s & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED)) ||
        m->queue_sel >= m->nqueues || m->queues[m->queue_sel].ready) {
        m->stats.driver_errors++;
        return NULL;
    }
    return &m->queues[m->queue_sel];
}

static void set_half(uint64_t *field, bool high, uint32_t v)
{
    if (high)
        *field = (*field & 0xffffffffull) | (uint64_t)v << 32;
    else
        *field = (*field & ~0xffffffffull) | v;
}

static void write_queue_ready(struct vmmio *m, uint32_t v)
{
    struct virtq *q = m->queue_sel < m->nqueues ? &m->queues[m->queue_sel] : NULL;
    if (v == 0) {
        /* disabling: before DRIVER_OK; a queue that is not enabled stays so (Linux writes 0
         * to every queue after a reset when it removes the device) */
        if (q && q->ready && !(m->status & VIRTIO_CONFIG_S_DRIVER_OK))
            virtq_reset(q);
        else if (!q || q->ready)
            m->stats.driver_errors++;
        return;
    }
    if (v != 1 || !(q = queue_to_configure(m))) {
        if (v != 1)
            m->stats.driver_errors++;
        return;
    }
    int rc = virtq_enable(q);
    if (rc) {
        m->stats.driver_errors++;
        vmmio_fail(m, rc);
    }
}

static int reg_read(struct vmmio *m, uint32_t off, uint32_t *v)
{
    const struct virtq *q = m->queue_sel < m->nqueues ? &m->queues[m->queue_sel] : NULL;
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: *v = MMIO_MAGIC; return 0;
    case VIRTIO_MMIO_VERSION: *v = 2; return 0;
    case VIRTIO_MMIO_DEVICE_ID: *v = m->device_id; return 0;
    case VIRTIO_MMIO_VENDOR_ID: *v = m->vendor_id; return 0;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        *v = m->device_features_sel > 1 ? 0 : (uint32_t)(m->device_features >> (32 * m->device_features_sel));
        return 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: *v = q ? q->num_max : 0; return 0;
    case VIRTIO_MMIO_QUEUE_READY: *v = q ? q->ready : 0; return 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: *v = m->interrupt_status; return 0;
    case VIRTIO_MMIO_STATUS: *v = m->status; return 0;
    case VIRTIO_MMIO_CONFIG_GENERATION: *v = m->config_generation; return 0;
    case VIRTIO_MMIO_SHM_LEN_LOW: case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW: case VIRTIO_MMIO_SHM_BASE_HIGH:
        *v = 0xffffffffu; /* no shared memory region */
        return 0;
    default: return -EINVAL; /* write-only, legacy or unknown */
    }
}

static int reg_write(struct vmmio *m, uint32_t off, uint32_t v)
{
    struct virtq *q;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->device_features_sel = v; return 0;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->driver_features_sel = v; return 0;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (!(m->status & VIRTIO_CONFIG_S_DRIVER) ||
            (m->status & (VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_NEEDS_RESET))) {
            m->stats.driver_errors++;
        } else if (m->driver_features_sel > 1) {
            m->driver_features_bad |= v != 0; /* no feature beyond bit 63 is offered */
        } else {
            set_half(&m->driver_features, m->driver_features_sel == 1, v);
        }
        return 0;
    case VIRTIO_MMIO_QUEUE_SEL: m->queue_sel = v; return 0;
    case VIRTIO_MMIO_QUEUE_NUM:
        if ((q = queue_to_configure(m)))
            q->size = v > 0xffff ? 0 : (uint16_t)v; /* 0: refused at QueueReady */
        return 0;
    case VIRTIO_MMIO_QUEUE_READY: write_queue_ready(m, v); return 0;
    case VIRTIO_MMIO_QUEUE_NOTIFY: vmmio_notify(m, v); return 0;
    case VIRTIO_MMIO_INTERRUPT_ACK: m->interrupt_status &= ~v; return 0;
    case VIRTIO_MMIO_STATUS: write_status(m, v); return 0;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if ((q = queue_to_configure(m)))
            set_half(&q->desc_gpa, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
        return 0;
    case VIRTIO_MMIO_QUEUE_AVAIL_LOW: case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
        if ((q = queue_to_configure(m)))
            set_half(&q->avail_gpa, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, v);
        return 0;
    case VIRTIO_MMIO_QUEUE_USED_LOW: case VIRTIO_MMIO_QUEUE_USED_HIGH:
        if ((q = queue_to_configure(m)))
            set_half(&q->used_gpa, off == VIRTIO_MMIO_QUEUE_USED_HIGH, v);
        return 0;
    default: return -EINVAL; /* read-only, legacy or unknown */
    }
}

/* Where an access lands: a 4-byte aligned register, or bytes [*cfg_off, +size) of the config
 * space. No sum of offset and size is formed before both are known small. */
enum target { T_BAD, T_REG, T_CONFIG };

static enum target decode(const struct vmmio *m, uint64_t offset, uint32_t size, uint32_t *cfg_off)
{
    if (offset < VIRTIO_MMIO_CONFIG)
        return size == 4 && offset % 4 == 0 ? T_REG : T_BAD;
    uint64_t off = offset - VIRTIO_MMIO_CONFIG;
    if (!access_size_ok(size) || off >= m->config_len || size > m->config_len - off)
        return T_BAD;
    *cfg_off = (uint32_t)off;
    return T_CONFIG;
}

int vmmio_read(struct vmmio *m, uint64_t offset, void *data, uint32_t size)
{
    memset(data, 0, size < 8 ? size : 8);
    uint32_t cfg_off, v;
    switch (decode(m, offset, size, &cfg_off)) {
    case T_REG:
        if (reg_read(m, (uint32_t)offset, &v))
            break;
        le_put(data, v, 4);
        return 0;
    case T_CONFIG:
        memcpy(data, m->config + cfg_off, size);
        return 0;
    case T_BAD:
        break;
    }
    m->stats.bad_access++;
    return -EINVAL;
}

int vmmio_write(struct vmmio *m, uint64_t offset, const void *data, uint32_t size)
{
    uint32_t cfg_off;
    switch (decode(m, offset, size, &cfg_off)) {
    case T_REG:
        if (reg_write(m, (uint32_t)offset, (uint32_t)le_get(data, 4)))
            break;
        return 0;
    case T_CONFIG:
        if (!m->ops->config_write)
            break;
        m->ops->config_write(m, cfg_off, data, size);
        return 0;
    case T_BAD:
        break;
    }
    m->stats.bad_access++;
    return -EINVAL;
}
