/* virtio-net: Ethernet frames between the guest's queues and a backend, checked, counted and rate-limited per direction. */
#ifndef ISOVM_VIRTIO_NET_H
#define ISOVM_VIRTIO_NET_H
#include <stdbool.h>
#include <stdint.h>
#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"
#include "limits/io_throttle.h"
#include "policy/policy.h"
#include "vmm/core/guest_ram.h"

#define VNET_QUEUE_SIZE 256  /* QueueNumMax of each queue */
#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_HDR_LEN 12      /* struct virtio_net_hdr_v1 (VIRTIO_F_VERSION_1) */
#define VNET_MTU 1500
#define VNET_FRAME_MIN 14    /* an Ethernet header */
#define VNET_FRAME_MAX 1514  /* header + MTU, no VLAN tag, no FCS */
#define VNET_CONFIG_LEN 12   /* mac[6], status, max_virtqueue_pairs, mtu (le16 each) */

/* Where transmitted frames go, and how the backend hears that the device can take frames again.
 * Both are called with the device serialised (the caller's device lock held). */
struct vnet_backend {
    /* a frame from the guest, 14..1514 bytes, copied out of guest RAM: 0 taken, -EAGAIN keep it
     * (the device holds the frame, stops the tx queue, and retries at vnet_kick_tx or the next
     * notification), another negative errno: dropped and counted */
    int (*transmit)(void *ctx, const uint8_t *frame, uint32_t len);
    /* the guest made receive buffers available, or the rx bucket refilled: vnet_receive may now
     * succeed where it answered -EAGAIN. NULL: nobody to tell */
    void (*rx_ready)(void *ctx);
    void *ctx;
};

struct vnet_cfg {
    uint8_t mac[6];              /* the guest's MAC (offered as VIRTIO_NET_F_MAC) */
    const struct io_limit *rx;   /* frames to the guest; NULL: no limit */
    const struct io_limit *tx;   /* frames from the guest; NULL: no limit */
};

/* For the report. A frame counts once it is in the guest's buffer (rx) or the backend took it
 * (tx); bytes are Ethernet frame bytes, the virtio header not included. */
struct vnet_stats {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
    uint64_t rx_dropped;   /* frames vnet_receive refused (bad length, buffer too small, not live) */
    uint64_t tx_dropped;   /* malformed tx chains (header, length, writable part), backend errors */
};

/* One direction's buckets and the frame waiting on them. */
struct vnet_throttle {
    bool limited;
    struct io_throttle io;
    uint64_t debt;           /* bytes of an admitted frame larger than the bucket, still owed */
    bool waiting;            /* refused since waiting_since */
    uint64_t waiting_since;
    uint64_t wake_ns;        /* 0, or when the tokens this direction waits for are there */
    uint64_t throttled_ns;   /* waits that ended, summed (the report's throttled time) */
};

struct vnet {
    struct vmmio mmio;   /* the run loop's handle: MMIO exits, notify, timer, wake time */
    struct virtq vq[2];
    uint8_t config[VNET_CONFIG_LEN];
    struct vnet_backend be;
    struct vnet_throttle rx, tx;
    bool rx_want;        /* vnet_receive answered -EAGAIN: tell the backend when that changes */
    bool rx_pushed;      /* buffers used since the last vnet_rx_done: interrupt then */
    bool have_tx;        /* tx_chain / tx_frame hold a frame the backend refused for now */
    bool tx_admitted;    /* ... and its tokens are taken */
    uint32_t tx_len;
    struct virtq_chain tx_chain, rx_chain;
    uint8_t tx_frame[VNET_FRAME_MAX];
    struct vnet_stats stats;
};

/* A network device over ram: 0 or -EINVAL. The run loop then sets v->mmio.irq (and may set
 * v->mmio.clock, which the buckets use) and serves v->mmio. */
int vnet_init(struct vnet *v, const struct guest_ram *ram, const struct vnet_backend *be,
              const struct vnet_cfg *cfg);

/* Put one frame (len bytes) in the guest's next receive buffer. 1: delivered; 0: dropped and
 * counted (length outside 14..1514, a buffer too small for it, the device not live); -EAGAIN:
 * no buffer or no tokens now, keep the frame (rx_ready is called when that may have changed;
 * the device's wake time covers the tokens). The interrupt waits for vnet_rx_done. */
int vnet_receive(struct vnet *v, const uint8_t *frame, uint32_t len);

/* After a batch of vnet_receive: interrupt the driver if buffers were used. */
void vnet_rx_done(struct vnet *v);

/* The backend can take frames again: resume the transmit queue. */
void vnet_kick_tx(struct vnet *v);

#endif
