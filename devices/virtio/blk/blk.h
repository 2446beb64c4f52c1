/* virtio-blk: requests taken from the queue, checked, charged to the job's I/O buckets, served by a backend. */
#ifndef ISOVM_VIRTIO_BLK_H
#define ISOVM_VIRTIO_BLK_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "devices/virtio/mmio.h"
#include "devices/virtio/virtq.h"
#include "limits/io_throttle.h"
#include "vmm/core/guest_ram.h"

#define VBLK_QUEUE_SIZE 256  /* QueueNumMax of the one request queue */
#define VBLK_SECTOR 512ull
#define VBLK_ID_BYTES 20     /* GET_ID's serial */
#define VBLK_CONFIG_LEN 24   /* capacity, size_max, seg_max, geometry, blk_size */

/* Where a disk's bytes live. The device has checked every request against size before it calls:
 * [off, off + the iovecs' total) lies inside the disk. The iovecs are the backend's to modify. */
struct vblk_backend {
    /* move exactly the iovecs' total bytes: 0, or a negative errno (a short transfer: -EIO) */
    int (*readv)(void *ctx, struct iovec *iov, int iovcnt, uint64_t off);
    int (*writev)(void *ctx, struct iovec *iov, int iovcnt, uint64_t off);
    int (*flush)(void *ctx); /* make the writes so far durable: 0 or a negative errno */
    void *ctx;
    uint64_t size;           /* bytes; the disk is size / 512 whole sectors, a tail is unseen */
};

struct vblk_cfg {
    bool read_only;          /* offer VIRTIO_BLK_F_RO (not FLUSH); OUT answers IOERR */
    const char *serial;      /* GET_ID: its first 20 bytes, zero-padded; NULL: all zero */
    /* the buckets every request is charged to before it runs: reads (IN, GET_ID) to rd, writes
     * (OUT, FLUSH) to wr; shared by all of a job's disks for job-wide limits. NULL: none */
    struct io_throttle *rd, *wr;
};

/* Per disk, for the report. An operation is a request charged to a direction's buckets. */
struct vblk_stats {
    uint64_t read_ops, read_bytes;   /* IN (bytes read from the disk) and GET_ID */
    uint64_t write_ops, write_bytes; /* OUT (bytes written to the disk) and FLUSH */
    uint64_t flushes;                /* FLUSH requests among write_ops */
    uint64_t read_throttled_ns, write_throttled_ns; /* requests held for tokens, summed */
    uint64_t io_errors;              /* requests answered IOERR, or not at all (no status byte) */
    uint64_t unsupported;            /* requests answered UNSUPP */
};

/* The request taken from the queue and not yet answered (it waits for tokens). */
struct vblk_req {
    uint32_t type;
    uint64_t sector;
    uint32_t data_len;   /* bytes of data (IN, OUT), or the GET_ID bytes to write */
    bool write;          /* charged to the write buckets */
    bool owe_op;         /* its operation token not taken yet */
    uint64_t owe_bytes;  /* byte tokens still to take */
    bool throttled;      /* waited for tokens since throttled_since */
    uint64_t throttled_since;
};

struct vblk {
    struct vmmio mmio;   /* the run loop's handle: MMIO exits, notify, timer, wake time */
    struct virtq vq;
    uint8_t config[VBLK_CONFIG_LEN];
    struct vblk_backend be;
    bool read_only;
    uint8_t serial[VBLK_ID_BYTES];
    struct io_throttle *io_read, *io_write;
    bool have_req;       /* chain and req hold a request taken from the queue */
    struct vblk_req req;
    struct virtq_chain chain;
    struct iovec iov[VIRTQ_MAX_SIZE];
    struct vblk_stats stats;
};

/* A disk of be->size bytes (at least one sector) over ram: 0 or -EINVAL. The run loop then
 * sets b->mmio.irq (and may set b->mmio.clock) and serves b->mmio. */
int vblk_init(struct vblk *b, const struct guest_ram *ram, const struct vblk_backend *be,
              const struct vblk_cfg *cfg);

#endif
