/* The split virtqueue (virtio 1.x) as a device sees it: validated descriptor chains in, used elements out. */
#ifndef ISOVM_VIRTQ_H
#define ISOVM_VIRTQ_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "vmm/core/guest_ram.h"

/* The largest queue any device offers (QueueNumMax); a chain is never longer than its queue. */
#define VIRTQ_MAX_SIZE 256

/* One guest buffer of a chain: [gpa, gpa + len) lay inside guest RAM when the chain was popped;
 * every later access goes through guest_ram_ptr again. */
struct virtq_seg {
    uint64_t gpa;
    uint32_t len; /* 1 .. 2^32-1 */
};

/* One descriptor chain, copied out of the guest (each descriptor read once) and validated:
 * device-readable segments first, then device-writable ones. */
struct virtq_chain {
    uint16_t head;      /* the chain's first descriptor: what virtq_push gives back */
    uint16_t nseg;      /* segments, 1 .. queue size */
    uint16_t nread;     /* seg[0 .. nread) are device-readable, seg[nread .. nseg) writable */
    uint32_t read_len;  /* bytes in the readable segments */
    uint32_t write_len; /* bytes in the writable segments; read_len + write_len < 2^32 */
    struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/* A queue's registers as the driver wrote them (through the transport), and the device's state.
 * Not thread-safe: the caller serialises the device. */
struct virtq {
    const struct guest_ram *ram;
    uint16_t num_max;   /* QueueNumMax: a power of two, 1 .. VIRTQ_MAX_SIZE */
    /* the driver's configuration, taken into use by virtq_enable */
    uint16_t size;      /* QueueNum */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    bool ready;         /* enabled, addresses validated */
    /* the device's side of the rings (free-running 16-bit indices) */
    uint16_t next_avail; /* the next avail ring entry to take */
    uint16_t seen_avail; /* the avail index as last read */
    uint16_t next_used;  /* the used index the device has published */
    uint8_t inflight[VIRTQ_MAX_SIZE / 8]; /* heads popped and not pushed yet, one bit each */
    int error;           /* 0, or the first malformation found: the queue is broken, and no
                          * call touches guest memory for it again until virtq_reset */
};

/* A queue of at most num_max entries (a power of two, 1 .. VIRTQ_MAX_SIZE) over ram, reset.
 * 0 or -EINVAL. */
int virtq_init(struct virtq *q, const struct guest_ram *ram, uint16_t num_max);

/* Back to the state after init: not ready, no addresses, size 0, no error. */
void virtq_reset(struct virtq *q);

/* Take the driver's configuration into use (QueueReady = 1): size a power of two in
 * 1 .. num_max; descriptor table 16-byte aligned, avail ring 2-byte, used ring 4-byte; each of
 * the three areas (16*size, 4+2*size, 4+8*size bytes) inside guest RAM. 0 and ready, or
 * -EINVAL (size, alignment, already ready) / -EFAULT (not in RAM) and not ready. */
int virtq_enable(struct virtq *q);

/* Take the next available chain into *c. 1: a chain; 0: nothing available (or not ready);
 * negative: the queue is malformed and now broken (q->error):
 *   -EPROTO      the avail index moved more than the queue size since it was last read, or
 *                more than the queue size ahead of the entries taken (this includes moving
 *                backwards): read once per call
 *   -ERANGE      a head or a `next` index is not below the queue size
 *   -EBUSY       a head that is still in flight (popped, not pushed back) offered again
 *   -ELOOP       the chain has more descriptors than the queue (a loop, or too long)
 *   -EOPNOTSUPP  VIRTQ_DESC_F_INDIRECT (never offered)
 *   -EINVAL      a zero-length descriptor, or a readable descriptor after a writable one
 *   -EFAULT      a buffer not inside one region of guest RAM (wrapping addresses included)
 *   -EMSGSIZE    the chain's total length is 2^32 bytes or more */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Put (head, written) in the used ring, then publish the used index (release order: the
 * element and the data written before it are visible first). 0, -EINVAL (not ready, head out
 * of range), -ENOENT (head is not in flight: a device bug, refused so the driver never sees
 * it), or the queue's error. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushing: should the driver be interrupted? False when it set VRING_AVAIL_F_NO_INTERRUPT
 * (read after a full barrier, so a flag cleared by a driver that then found no new used entry
 * is not missed), or the queue is not ready or broken. */
bool virtq_needs_interrupt(struct virtq *q);

/* A hint, no validation: does the avail index differ from the entries taken? */
bool virtq_has_avail(const struct virtq *q);

/* Host iovecs for bytes [off, off + len) of the chain's readable (writable = false) or writable
 * part, at most max of them. Returns the count (0 for len 0), -EINVAL when the range is not
 * inside that part or needs more than max iovecs, -EFAULT when a segment is no longer RAM. */
int virtq_chain_iov(const struct virtq *q, const struct virtq_chain *c, bool writable,
                    uint64_t off, uint64_t len, struct iovec *iov, unsigned max);

/* Copy bytes [off, off + len) of the readable part out (each guest byte read once), or into
 * the writable part. 0, -EINVAL, -EFAULT as for virtq_chain_iov. */
int virtq_chain_read(const struct virtq *q, const struct virtq_chain *c, uint64_t off,
                     void *dst, uint64_t len);
int virtq_chain_write(const struct virtq *q, const struct virtq_chain *c, uint64_t off,
                      const void *src, uint64_t len);

#endif
