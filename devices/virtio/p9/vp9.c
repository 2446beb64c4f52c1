/* virtio-9p's transport: mount tag in config space, the request queue popped and pushed for the worker, resets that orphan requests in flight. */
#include "devices/virtio/p9/vp9.h"
#include <errno.h>
#include <linux/virtio_9p.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <string.h>
#include "devices/virtio/le.h"

static struct vp9 *vp9_of(struct vmmio *m)
{
    return (struct vp9 *)((char *)m - offsetof(struct vp9, mmio));
}

static void vp9_notify(struct vmmio *m, unsigned queue)
{
    (void)queue;
    struct vp9 *p = vp9_of(m);
    if (p->kick)
        p->kick(p->kick_ctx);
}

static void vp9_reset(struct vmmio *m)
{
    vp9_of(m)->gen++;
}

static const struct vmmio_ops vp9_ops = {
    .notify = vp9_notify,
    .reset = vp9_reset,
};

int vp9_init(struct vp9 *p, const struct guest_ram *ram, const char *tag)
{
    memset(p, 0, sizeof *p);
    size_t n = tag ? strlen(tag) : 0;
    if (n == 0 || n > VP9_TAG_MAX)
        return -EINVAL;
    le_put(p->config, n, 2);
    memcpy(p->config + 2, tag, n);
    return vmmio_init(&p->mmio, &vp9_ops, ram, VIRTIO_ID_9P, 1ull << VIRTIO_9P_MOUNT_TAG, 0, &p->vq,
                      1, VP9_QUEUE_SIZE, p->config, (uint32_t)(2 + n));
}

int vp9_pop(struct vp9 *p, struct virtq_chain *c, uint32_t *gen)
{
    if (!vmmio_live(&p->mmio))
        return 0;
    int rc = virtq_pop(&p->vq, c);
    if (rc < 0) {
        vmmio_fail(&p->mmio, rc);
        return rc;
    }
    if (rc == 1) {
        p->stats.requests++;
        *gen = p->gen;
    }
    return rc;
}

void vp9_complete(struct vp9 *p, uint32_t gen, uint16_t head, uint32_t written)
{
    if (gen != p->gen || !vmmio_live(&p->mmio)) {
        p->stats.stale++;
        return;
    }
    int rc = virtq_push(&p->vq, head, written);
    if (rc) {
        vmmio_fail(&p->mmio, rc);
        return;
    }
    vmmio_used(&p->mmio, &p->vq);
}
