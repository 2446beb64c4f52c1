/* The split virtqueue: every guest ring value read once, every descriptor validated before use. */
#include "devices/virtio/virtq.h"
#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>

/* Sizes of the three areas of a split queue of n entries (no event-index fields: never offered). */
#define DESC_BYTES(n)  (16ull * (n))
#define AVAIL_BYTES(n) (4ull + 2ull * (n))
#define USED_BYTES(n)  (4ull + 8ull * (n))

int virtq_init(struct virtq *q, const struct guest_ram *ram, uint16_t num_max)
{
    memset(q, 0, sizeof(*q));
    q->ram = ram;
    if (num_max == 0 || num_max > VIRTQ_MAX_SIZE || (num_max & (num_max - 1)))
        return -EINVAL;
    q->num_max = num_max;
    return 0;
}

void virtq_reset(struct virtq *q)
{
    const struct guest_ram *ram = q->ram;
    uint16_t num_max = q->num_max;
    memset(q, 0, sizeof(*q));
    q->ram = ram;
    q->num_max = num_max;
}

int virtq_enable(struct virtq *q)
{
    uint16_t n = q->size;
    if (q->ready || n == 0 || n > q->num_max || (n & (n - 1)) || q->desc_gpa % 16 ||
        q->avail_gpa % 2 || q->used_gpa % 4)
        return -EINVAL;
    if (!guest_ram_ptr(q->ram, q->desc_gpa, DESC_BYTES(n)) ||
        !guest_ram_ptr(q->ram, q->avail_gpa, AVAIL_BYTES(n)) ||
        !guest_ram_ptr(q->ram, q->used_gpa, USED_BYTES(n)))
        return -EFAULT;
    q->next_avail = q->seen_avail = q->next_used = 0;
    memset(q->inflight, 0, sizeof q->inflight);
    q->error = 0;
    q->ready = true;
    return 0;
}

static int broken(struct virtq *q, int err)
{
    q->error = err;
    return err;
}

/* Ring fields through the one range check, at use. Offsets stay inside the areas virtq_enable
 * checked (so gpa + off cannot wrap); the pointers are naturally aligned because the areas
 * are, and host and gpa of a region agree modulo 4096. */
static void *ring(const struct virtq *q, uint64_t gpa, uint64_t off, uint64_t len)
{
    return guest_ram_ptr(q->ram, gpa + off, len);
}

static bool inflight(const struct virtq *q, uint16_t head)
{
    return q->inflight[head / 8] & (1u << (head % 8));
}

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* One descriptor, each field loaded once (atomic loads: the compiler may not read them again). */
static int load_desc(const struct virtq *q, uint16_t i, struct desc *d)
{
    uint8_t *p = ring(q, q->desc_gpa, DESC_BYTES(i), 16);
    if (!p)
        return -EFAULT;
    d->addr = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED);
    d->len = __atomic_load_n((uint32_t *)(p + 8), __ATOMIC_RELAXED);
    d->flags = __atomic_load_n((uint16_t *)(p + 12), __ATOMIC_RELAXED);
    d->next = __atomic_load_n((uint16_t *)(p + 14), __ATOMIC_RELAXED);
    return 0;
}

static int walk_chain(const struct virtq *q, uint16_t head, struct virtq_chain *c)
{
    uint64_t rlen = 0, wlen = 0;
    uint16_t i = head;
    c->head = head;
    c->nseg = c->nread = 0;
    for (;;) {
        if (c->nseg == q->size)
            return -ELOOP;
        struct desc d;
        if (load_desc(q, i, &d))
            return -EFAULT;
        if (d.flags & VRING_DESC_F_INDIRECT)
            return -EOPNOTSUPP;
        if (d.len == 0)
            return -EINVAL;
        if (!guest_ram_ptr(q->ram, d.addr, d.len))
            return -EFAULT;
        if (d.flags & VRING_DESC_F_WRITE) {
            wlen += d.len;
        } else {
            if (wlen)
                return -EINVAL; /* readable after writable */
            rlen += d.len;
            c->nread++;
        }
        if (rlen + wlen > UINT32_MAX) /* at most 256 * (2^32-1): no uint64_t overflow */
            return -EMSGSIZE;
        c->seg[c->nseg++] = (struct virtq_seg){ d.addr, d.len };
        if (!(d.flags & VRING_DESC_F_NEXT))
            break;
        if (d.next >= q->size)
            return -ERANGE;
        i = d.next;
    }
    c->read_len = (uint32_t)rlen;
    c->write_len = (uint32_t)wlen;
    return 0;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
    if (q->error)
        return q->error;
    if (!q->ready)
        return 0;
    uint16_t *idx_p = ring(q, q->avail_gpa, 2, 2);
    if (!idx_p)
        return broken(q, -EFAULT);
    /* acquire: the ring entries and descriptors the driver wrote before the index are seen */
    uint16_t idx = __atomic_load_n(idx_p, __ATOMIC_ACQUIRE);
    if ((uint16_t)(idx - q->seen_avail) > q->size || (uint16_t)(idx - q->next_avail) > q->size)
        return broken(q, -EPROTO);
    q->seen_avail = idx;
    if (idx == q->next_avail)
        return 0;
    uint16_t *head_p = ring(q, q->avail_gpa, 4 + 2ull * (q->next_avail & (q->size - 1)), 2);
    if (!head_p)
        return broken(q, -EFAULT);
    uint16_t head = __atomic_load_n(head_p, __ATOMIC_RELAXED);
    if (head >= q->size)
        return broken(q, -ERANGE);
    if (inflight(q, head))
        return broken(q, -EBUSY);
    int rc = walk_chain(q, head, c);
    if (rc)
        return broken(q, rc);
    q->inflight[head / 8] |= (uint8_t)(1u << (head % 8));
    q->next_avail++;
    return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
    if (q->error)
        return q->error;
    if (!q->ready || head >= q->size)
        return -EINVAL;
    if (!inflight(q, head))
        return -ENOENT;
    uint8_t *elem = ring(q, q->used_gpa, 4 + 8ull * (q->next_used & (q->size - 1)), 8);
    uint16_t *idx_p = ring(q, q->used_gpa, 2, 2);
    if (!elem || !idx_p)
        return broken(q, -EFAULT);
    __atomic_store_n((uint32_t *)elem, (uint32_t)head, __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(elem + 4), written, __ATOMIC_RELAXED);
    q->inflight[head / 8] &= (uint8_t)~(1u << (head % 8));
    q->next_used++;
    __atomic_store_n(idx_p, q->next_used, __ATOMIC_RELEASE);
    return 0;
}

bool virtq_needs_interrupt(struct virtq *q)
{
    if (!q->ready || q->error)
        return false;
    uint16_t *flags_p = ring(q, q->avail_gpa, 0, 2);
    if (!flags_p)
        return false;
    /* the used index store before the flags load: a full barrier (the driver has its own
     * between clearing the flag and looking at the used index) */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return !(__atomic_load_n(flags_p, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

bool virtq_has_avail(const struct virtq *q)
{
    if (!q->ready || q->error)
        return false;
    uint16_t *idx_p = ring(q, q->avail_gpa, 2, 2);
    return idx_p && __atomic_load_n(idx_p, __ATOMIC_ACQUIRE) != q->next_avail;
}

int virtq_chain_iov(const struct virtq *q, const struct virtq_chain *c, bool writable,
                    uint64_t off, uint64_t len, struct iovec *iov, unsigned max)
{
    unsigned first = writable ? c->nread : 0, end = writable ? c->nseg : c->nread;
    uint64_t part = writable ? c->write_len : c->read_len;
    if (end > VIRTQ_MAX_SIZE || off > part || len > part - off)
        return -EINVAL;
    unsigned n = 0;
    for (unsigned i = first; i < end && len; i++) {
        const struct virtq_seg *s = &c->seg[i];
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        uint64_t take = s->len - off < len ? s->len - off : len;
        if (n == max)
            return -EINVAL;
        void *p = guest_ram_ptr(q->ram, s->gpa + off, take);
        if (!p)
            return -EFAULT;
        iov[n++] = (struct iovec){ p, take };
        len -= take;
        off = 0;
    }
    return (int)n;
}

static int chain_copy(const struct virtq *q, const struct virtq_chain *c, bool writable,
                      uint64_t off, void *buf, uint64_t len)
{
    struct iovec iov[VIRTQ_MAX_SIZE];
    int n = virtq_chain_iov(q, c, writable, off, len, iov, VIRTQ_MAX_SIZE);
    if (n < 0)
        return n;
    uint8_t *b = buf;
    for (int i = 0; i < n; i++) {
        if (writable)
            memcpy(iov[i].iov_base, b, iov[i].iov_len);
        else
            memcpy(b, iov[i].iov_base, iov[i].iov_len);
        b += iov[i].iov_len;
    }
    /* the copy is what the device uses: the compiler may not go back to guest memory for it */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return 0;
}

int virtq_chain_read(const struct virtq *q, const struct virtq_chain *c, uint64_t off,
                     void *dst, uint64_t len)
{
    return chain_copy(q, c, false, off, dst, len);
}

int virtq_chain_write(const struct virtq *q, const struct virtq_chain *c, uint64_t off,
                      const void *src, uint64_t len)
{
    return chain_copy(q, c, true, off, (void *)src, len);
}
