/* The virtio-mmio transport, version 2: the register file a run loop's MMIO exits land on, and the hooks a device and the run loop share. */
#ifndef ISOVM_VIRTIO_MMIO_H
#define ISOVM_VIRTIO_MMIO_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/virtq.h"
#include "vmm/core/guest_ram.h"

/* The window a device occupies (registers 0x000-0x0ff, its config space from 0x100); accesses
 * beyond the config space read as zero. The ACPI node describes this length. */
#define VMMIO_WINDOW 0x1000u
#define VMMIO_MAX_QUEUES 16

struct vmmio;

/* What the device does at the transport's events. Called only while the device is live
 * (DRIVER_OK set, neither NEEDS_RESET nor FAILED), except reset. */
struct vmmio_ops {
    void (*notify)(struct vmmio *m, unsigned queue); /* the driver made buffers available */
    void (*timer)(struct vmmio *m);                  /* the time in m->wake_ns has come */
    void (*reset)(struct vmmio *m);  /* the driver reset the device: drop everything in flight */
    /* a write to the config space (within config_len); NULL: config space is read-only */
    void (*config_write)(struct vmmio *m, uint32_t off, const void *data, uint32_t size);
};

/* Counters for the report and for tests. */
struct vmmio_stats {
    uint64_t bad_access;    /* wrong size or alignment, unknown or read-only register */
    uint64_t driver_errors; /* ignored writes: not now, or not a legal value */
    uint64_t notifies;      /* queue notifications handed to the device */
    uint64_t interrupts;    /* calls of the interrupt hook */
};

/* One virtio-mmio device. Plain data, not thread-safe: the run loop serialises every call for
 * one device (MMIO exits, notifications, timers, host I/O readiness). */
struct vmmio {
    /* set by the device at init */
    const struct vmmio_ops *ops;
    const struct guest_ram *ram;
    uint32_t device_id, vendor_id;
    uint64_t device_features;   /* offered; VIRTIO_F_VERSION_1 always among them */
    uint64_t required_features; /* FEATURES_OK only if the driver accepts all of these */
    struct virtq *queues;
    unsigned nqueues;
    uint8_t *config;            /* the device's config space, little-endian */
    uint32_t config_len;
    /* hooks the run loop sets (tests set their own) */
    void (*irq)(void *ctx);     /* raise the device's interrupt (an irqfd write, edge) */
    void *irq_ctx;
    uint64_t (*clock)(void);    /* CLOCK_MONOTONIC ns for throttling; mono_ns by default */
    /* registers */
    uint32_t status, interrupt_status, config_generation;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint64_t driver_features;
    bool driver_features_bad;   /* a feature bit beyond 64 written: FEATURES_OK refused */
    /* the device's timer: 0, or the CLOCK_MONOTONIC ns at which to call vmmio_timer */
    uint64_t wake_ns;
    int error;                  /* the first device error (negative errno); 0 */
    struct vmmio_stats stats;
};

/* Set up the transport for a device: registers at reset, queues initialised with num_max
 * entries each (a power of two <= VIRTQ_MAX_SIZE), clock = mono_ns, no interrupt hook.
 * VIRTIO_F_VERSION_1 is added to both feature sets. 0 or -EINVAL. */
int vmmio_init(struct vmmio *m, const struct vmmio_ops *ops, const struct guest_ram *ram,
               uint32_t device_id, uint64_t features, uint64_t required, struct virtq *queues,
               unsigned nqueues, uint16_t num_max, uint8_t *config, uint32_t config_len);

/* The run loop's MMIO exits, at offset (from the device's base) with the access size and the
 * 8-byte data buffer of the exit. Registers (offsets < 0x100) take aligned 4-byte accesses, the
 * config space 1, 2, 4 or 8 bytes inside config_len; anything else is a bad access: a read gives
 * zeros (min(size, 8) bytes written), a write changes nothing. 0, or -EINVAL for a bad access. */
int vmmio_read(struct vmmio *m, uint64_t offset, void *data, uint32_t size);
int vmmio_write(struct vmmio *m, uint64_t offset, const void *data, uint32_t size);

/* Queue `queue` was notified: what a QueueNotify write does, and what the run loop calls when
 * the queue's ioeventfd fires. Ignored unless the device is live and the queue ready. */
void vmmio_notify(struct vmmio *m, uint32_t queue);

/* The run loop's timer for this device (armed at vmmio_wake_ns) went off. */
void vmmio_timer(struct vmmio *m);

/* When the device wants vmmio_timer called (CLOCK_MONOTONIC ns), 0 for never: the run loop
 * re-arms its timer from this after every call into the device. */
uint64_t vmmio_wake_ns(const struct vmmio *m);

/* DRIVER_OK set, neither NEEDS_RESET nor FAILED: the device may use its queues. */
bool vmmio_live(const struct vmmio *m);

/* For devices: after pushing to q, interrupt the driver unless it asked not to be. */
void vmmio_used(struct vmmio *m, struct virtq *q);

/* For devices: a device error (a malformed queue, an impossible state). The device goes to
 * NEEDS_RESET (status bit 0x40), stops touching its queues and raises a configuration-change
 * interrupt; only a reset by the driver brings it back. Records err in m->error if first. */
void vmmio_fail(struct vmmio *m, int err);

#endif
