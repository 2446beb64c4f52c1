/* virtio-9p over virtio-mmio: the transport side of the grants' shared file system; requests are served off the device lock by a worker (vmm/share/). */
#ifndef ISOVM_VIRTIO_P9_H
#define ISOVM_VIRTIO_P9_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"

#define VP9_QUEUE_SIZE 128u  /* Linux's 9pnet_virtio uses up to 128 descriptors per request */
#define VP9_TAG_MAX    32u   /* the mount tag's bytes */

struct vp9_stats {
    uint64_t requests;       /* chains handed to the worker */
    uint64_t stale;          /* completions dropped: the driver reset the device meanwhile */
};

/* One virtio-9p device. Every call but the worker's own handling of a chain is made with the
 * devices' lock held (as for every virtio device); the worker reads and writes a chain's guest
 * buffers without it (guest RAM stays mapped, and virtq_chain_* touch nothing else). */
struct vp9 {
    struct vmmio mmio;
    struct virtq vq;
    uint8_t config[2 + VP9_TAG_MAX];
    uint32_t gen;            /* bumped at each reset: a chain popped before it is never pushed */
    void (*kick)(void *ctx); /* the driver made requests available: wake the worker */
    void *kick_ctx;
    struct vp9_stats stats;
};

/* A device with mount tag `tag` (1..VP9_TAG_MAX bytes). 0 or -EINVAL. */
int vp9_init(struct vp9 *p, const struct guest_ram *ram, const char *tag);

/* The next request, for the worker (devices' lock held): 1 and *c, *gen set; 0 when there is
 * none (or the device is not live); negative when the queue is malformed (the device is failed,
 * NEEDS_RESET, until the driver resets it). */
int vp9_pop(struct vp9 *p, struct virtq_chain *c, uint32_t *gen);

/* The worker's answer to chain `head` popped at generation `gen`: `written` bytes put in its
 * writable part. Pushed and the driver interrupted, unless the device was reset since (then
 * dropped, counted in stats.stale). Devices' lock held. */
void vp9_complete(struct vp9 *p, uint32_t gen, uint16_t head, uint32_t written);

#endif
