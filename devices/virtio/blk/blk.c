/* virtio-blk requests: layout and range checks, the I/O throttle, IN/OUT/FLUSH/GET_ID on the backend. */
#include "devices/virtio/blk/blk.h"
#include "devices/virtio/le.h"
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <string.h>

#define HDR_LEN 16u /* le32 type, le32 reserved, le64 sector */
#define NO_STATUS 0xffu

static struct vblk *blk_of(struct vmmio *m)
{
    return (struct vblk *)((char *)m - offsetof(struct vblk, mmio));
}

/* Answer the request in b->chain: the status in its last writable byte, `written` bytes in
 * the used element. A chain without a writable byte gets no status (used length 0). */
static bool complete(struct vblk *b, uint8_t status, uint32_t written)
{
    const struct virtq_chain *c = &b->chain;
    if (status == NO_STATUS || c->write_len == 0) {
        b->stats.io_errors++;
        written = 0;
    } else {
        if (status == VIRTIO_BLK_S_IOERR)
            b->stats.io_errors++;
        else if (status == VIRTIO_BLK_S_UNSUPP)
            b->stats.unsupported++;
        if (virtq_chain_write(&b->vq, c, c->write_len - 1, &status, 1))
            written = 0;
    }
    int rc = virtq_push(&b->vq, c->head, written);
    if (rc) {
        vmmio_fail(&b->mmio, rc);
        return false;
    }
    return true;
}

/* The request's layout: the device-readable part is the 16-byte header and, for OUT only, the
 * data; the device-writable part is, for IN and GET_ID only, the data, then the status byte
 * (the last writable byte). IN and OUT move whole sectors inside the disk. Returns
 * VIRTIO_BLK_S_OK with b->req filled in, or the status to answer with at once. */
static uint8_t parse(struct vblk *b)
{
    const struct virtq_chain *c = &b->chain;
    uint8_t hdr[HDR_LEN];
    if (c->write_len == 0)
        return NO_STATUS;
    if (c->read_len < HDR_LEN || virtq_chain_read(&b->vq, c, 0, hdr, HDR_LEN))
        return VIRTIO_BLK_S_IOERR;
    struct vblk_req *r = &b->req;
    memset(r, 0, sizeof(*r));
    r->type = (uint32_t)le_get(hdr, 4);
    r->sector = le_get(hdr + 8, 8);
    uint32_t data_in = c->write_len - 1, data_out = c->read_len - HDR_LEN;
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        if (data_out)
            return VIRTIO_BLK_S_IOERR;
        r->data_len = data_in;
        break;
    case VIRTIO_BLK_T_OUT:
        if (data_in || b->read_only)
            return VIRTIO_BLK_S_IOERR;
        r->data_len = data_out;
        r->write = true;
        break;
    case VIRTIO_BLK_T_FLUSH:
        if (b->read_only)
            return VIRTIO_BLK_S_UNSUPP; /* FLUSH is not offered on a read-only disk */
        if (data_in || data_out)
            return VIRTIO_BLK_S_IOERR;
        r->write = true;
        break;
    case VIRTIO_BLK_T_GET_ID:
        if (data_out)
            return VIRTIO_BLK_S_IOERR;
        r->data_len = data_in < VBLK_ID_BYTES ? data_in : VBLK_ID_BYTES;
        break;
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
    if (r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) {
        uint64_t cap = b->be.size / VBLK_SECTOR, n = r->data_len / VBLK_SECTOR;
        /* in sectors: sector * 512 is formed only once it is known to be inside the disk */
        if (r->data_len % VBLK_SECTOR || r->sector > cap || n > cap - r->sector)
            return VIRTIO_BLK_S_IOERR;
        r->owe_bytes = r->data_len;
    }
    r->owe_op = true;
    return VIRTIO_BLK_S_OK;
}

/* Take the request's tokens: its operation, then its bytes, as many as the buckets give, over
 * as many calls as it takes (a request larger than the bucket is paid in pieces). false: not
 * yet, and mmio.wake_ns says when to come back. */
static bool admit(struct vblk *b, uint64_t now)
{
    struct vblk_req *r = &b->req;
    struct io_throttle *io = r->write ? b->io_write : b->io_read;
    while (io && (r->owe_op || r->owe_bytes)) {
        uint64_t w = io_throttle_wait_ns(io, r->owe_op, r->owe_bytes, now);
        if (w) {
            if (!r->throttled) {
                r->throttled = true;
                r->throttled_since = now;
            }
            b->mmio.wake_ns = w > UINT64_MAX - now ? UINT64_MAX : now + w;
            return false;
        }
        uint64_t got = io_throttle_take(io, r->owe_op, r->owe_bytes, now);
        r->owe_op = false;
        r->owe_bytes -= got < r->owe_bytes ? got : r->owe_bytes;
    }
    if (r->throttled) {
        uint64_t t = now > r->throttled_since ? now - r->throttled_since : 0;
        *(r->write ? &b->stats.write_throttled_ns : &b->stats.read_throttled_ns) += t;
        r->throttled = false;
    }
    return true;
}

/* Run the admitted request; returns its status and sets *written (bytes put in the guest's
 * writable buffers, the status byte included). */
static uint8_t execute(struct vblk *b, uint32_t *written)
{
    const struct vblk_req *r = &b->req;
    *written = 1;
    if (r->type == VIRTIO_BLK_T_FLUSH) {
        b->stats.write_ops++;
        b->stats.flushes++;
        return b->be.flush(b->be.ctx) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
    }
    if (r->type == VIRTIO_BLK_T_GET_ID) {
        b->stats.read_ops++;
        if (r->data_len && virtq_chain_write(&b->vq, &b->chain, 0, b->serial, r->data_len))
            return VIRTIO_BLK_S_IOERR;
        *written += r->data_len;
        return VIRTIO_BLK_S_OK;
    }
    bool out = r->type == VIRTIO_BLK_T_OUT;
    *(out ? &b->stats.write_ops : &b->stats.read_ops) += 1;
    if (r->data_len == 0)
        return VIRTIO_BLK_S_OK;
    int n = virtq_chain_iov(&b->vq, &b->chain, !out, out ? HDR_LEN : 0, r->data_len, b->iov,
                            VIRTQ_MAX_SIZE);
    if (n < 0)
        return VIRTIO_BLK_S_IOERR;
    uint64_t off = r->sector * VBLK_SECTOR;
    int rc = out ? b->be.writev(b->be.ctx, b->iov, n, off) : b->be.readv(b->be.ctx, b->iov, n, off);
    if (rc) {
        struct io_throttle *io = out ? b->io_write : b->io_read;
        if (io)
            io_throttle_refund(io, r->data_len); /* bytes not moved, as the hypercall tier does */
        return VIRTIO_BLK_S_IOERR;
    }
    *(out ? &b->stats.write_bytes : &b->stats.read_bytes) += r->data_len;
    if (!out)
        *written += r->data_len;
    return VIRTIO_BLK_S_OK;
}

/* Serve the queue until it is empty, the buckets run dry (the request taken stays in b->req
 * and mmio.wake_ns is set), or the queue turns out malformed (NEEDS_RESET). */
static void run(struct vblk *b)
{
    uint64_t now = b->mmio.clock();
    bool pushed = false;
    b->mmio.wake_ns = 0;
    for (;;) {
        if (!b->have_req) {
            int rc = virtq_pop(&b->vq, &b->chain);
            if (rc < 0) {
                vmmio_fail(&b->mmio, rc);
                return;
            }
            if (rc == 0)
                break;
            uint8_t st = parse(b);
            if (st != VIRTIO_BLK_S_OK) {
                if (!complete(b, st, 1))
                    return;
                pushed = true;
                continue;
            }
            b->have_req = true;
        }
        if (!admit(b, now))
            break;
        uint32_t written;
        uint8_t st = execute(b, &written);
        b->have_req = false;
        if (!complete(b, st, written))
            return;
        pushed = true;
    }
    if (pushed)
        vmmio_used(&b->mmio, &b->vq);
}

static void blk_notify(struct vmmio *m, unsigned queue)
{
    (void)queue;
    run(blk_of(m));
}

static void blk_timer(struct vmmio *m)
{
    run(blk_of(m));
}

static void blk_reset(struct vmmio *m)
{
    struct vblk *b = blk_of(m);
    if (b->have_req && b->req.throttled) {
        uint64_t now = m->clock(), t = now > b->req.throttled_since ? now - b->req.throttled_since : 0;
        *(b->req.write ? &b->stats.write_throttled_ns : &b->stats.read_throttled_ns) += t;
    }
    b->have_req = false; /* tokens already taken for it are spent */
}

static const struct vmmio_ops blk_ops = {
    .notify = blk_notify,
    .timer = blk_timer,
    .reset = blk_reset,
};

int vblk_init(struct vblk *b, const struct guest_ram *ram, const struct vblk_backend *be,
              const struct vblk_cfg *cfg)
{
    memset(b, 0, sizeof(*b));
    if (!be || !cfg || be->size < VBLK_SECTOR || !be->readv || !be->writev || !be->flush)
        return -EINVAL;
    b->be = *be;
    b->read_only = cfg->read_only;
    if (cfg->serial)
        memcpy(b->serial, cfg->serial, strnlen(cfg->serial, VBLK_ID_BYTES));
    b->io_read = cfg->rd;
    b->io_write = cfg->wr;
    le_put(b->config, be->size / VBLK_SECTOR, 8);     /* capacity in 512-byte sectors */
    le_put(b->config + 12, VBLK_QUEUE_SIZE - 2, 4);   /* seg_max: a header and a status too */
    le_put(b->config + 20, VBLK_SECTOR, 4);           /* blk_size */
    uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE;
    features |= cfg->read_only ? 1ull << VIRTIO_BLK_F_RO : 1ull << VIRTIO_BLK_F_FLUSH;
    return vmmio_init(&b->mmio, &blk_ops, ram, VIRTIO_ID_BLOCK, features, 0, &b->vq, 1,
                      VBLK_QUEUE_SIZE, b->config, VBLK_CONFIG_LEN);
}
