/* Test fixture for the devices: fake guest RAM in three regions and a fake virtio driver. */
#include "virtio_fixture.h"
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

uint64_t fake_now;

uint64_t fake_clock(void)
{
    return fake_now;
}

void fake_ram_init(struct fake_ram *f)
{
    static const uint64_t gpa[3] = { FR_LOW_GPA, FR_HIGH_GPA, FR_TOP_GPA };
    static const uint64_t size[3] = { FR_LOW_SIZE, FR_HIGH_SIZE, FR_TOP_SIZE };
    guest_ram_init(&f->ram);
    for (int i = 0; i < 3; i++) {
        f->mem[i] = aligned_alloc(GUEST_RAM_ALIGN, size[i]);
        assert_non_null(f->mem[i]);
        memset(f->mem[i], 0, size[i]);
        assert_int_equal(guest_ram_add(&f->ram, gpa[i], size[i], f->mem[i]), 0);
    }
}

void fake_ram_free(struct fake_ram *f)
{
    for (int i = 0; i < 3; i++)
        free(f->mem[i]);
    memset(f, 0, sizeof(*f));
}

void *fr_ptr(struct fake_ram *f, uint64_t gpa, uint64_t len)
{
    void *p = guest_ram_ptr(&f->ram, gpa, len);
    assert_non_null(p);
    return p;
}

void tq_init(struct tq *q, struct fake_ram *f, uint16_t size, uint64_t base)
{
    memset(q, 0, sizeof(*q));
    q->f = f;
    q->size = size;
    q->desc = base;
    q->avail = base + 16ull * size;
    q->used = (q->avail + 4 + 2ull * size + 3) & ~3ull;
    memset(fr_ptr(f, base, q->used + 4 + 8ull * size - base), 0, q->used + 4 + 8ull * size - base);
}

void tq_desc(struct tq *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = fr_ptr(q->f, q->desc + 16ull * i, 16);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

void tq_set_avail_idx(struct tq *q, uint16_t idx)
{
    q->avail_idx = idx;
    memcpy(fr_ptr(q->f, q->avail + 2, 2), &idx, 2);
}

void tq_set_avail_flags(struct tq *q, uint16_t flags)
{
    memcpy(fr_ptr(q->f, q->avail, 2), &flags, 2);
}

void tq_publish(struct tq *q, uint16_t head)
{
    memcpy(fr_ptr(q->f, q->avail + 4 + 2ull * (q->avail_idx % q->size), 2), &head, 2);
    tq_set_avail_idx(q, (uint16_t)(q->avail_idx + 1));
}

uint16_t tq_add(struct tq *q, const struct tbuf *b, unsigned n)
{
    uint16_t head = q->next_desc;
    for (unsigned i = 0; i < n; i++) {
        uint16_t d = (uint16_t)((head + i) % q->size), next = (uint16_t)((d + 1) % q->size);
        uint16_t flags = (b[i].write ? 2 : 0) | (i + 1 < n ? 1 : 0);
        tq_desc(q, d, b[i].gpa, b[i].len, flags, i + 1 < n ? next : 0);
    }
    q->next_desc = (uint16_t)((head + n) % q->size);
    tq_publish(q, head);
    return head;
}

uint16_t tq_used_idx(struct tq *q)
{
    uint16_t idx;
    memcpy(&idx, fr_ptr(q->f, q->used + 2, 2), 2);
    return idx;
}

bool tq_used(struct tq *q, uint32_t *id, uint32_t *len)
{
    if (tq_used_idx(q) == q->used_seen)
        return false;
    uint8_t *e = fr_ptr(q->f, q->used + 4 + 8ull * (q->used_seen % q->size), 8);
    memcpy(id, e, 4);
    memcpy(len, e + 4, 4);
    q->used_seen++;
    return true;
}

uint32_t mmio_rd(struct vmmio *m, uint32_t off)
{
    uint8_t b[8];
    assert_int_equal(vmmio_read(m, off, b, 4), 0);
    uint32_t v;
    memcpy(&v, b, 4);
    return v;
}

void mmio_wr(struct vmmio *m, uint32_t off, uint32_t v)
{
    assert_int_equal(vmmio_write(m, off, &v, 4), 0);
}

bool drv_negotiate(struct vmmio *m, uint64_t features)
{
    mmio_wr(m, VIRTIO_MMIO_STATUS, 0);
    mmio_wr(m, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    mmio_wr(m, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    for (uint32_t sel = 0; sel < 2; sel++) {
        mmio_wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        mmio_wr(m, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> (32 * sel)));
    }
    mmio_wr(m, VIRTIO_MMIO_STATUS, mmio_rd(m, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_FEATURES_OK);
    return mmio_rd(m, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

void drv_queue(struct vmmio *m, unsigned qi, const struct tq *q)
{
    mmio_wr(m, VIRTIO_MMIO_QUEUE_SEL, qi);
    assert_int_equal(mmio_rd(m, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(mmio_rd(m, VIRTIO_MMIO_QUEUE_NUM_MAX) >= q->size);
    mmio_wr(m, VIRTIO_MMIO_QUEUE_NUM, q->size);
    mmio_wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
    mmio_wr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
    mmio_wr(m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
    mmio_wr(m, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q->avail >> 32));
    mmio_wr(m, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
    mmio_wr(m, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q->used >> 32));
    mmio_wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
}

void drv_setup(struct vmmio *m, struct tq *qs, unsigned nq)
{
    mmio_wr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t f = mmio_rd(m, VIRTIO_MMIO_DEVICE_FEATURES);
    mmio_wr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    f |= (uint64_t)mmio_rd(m, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    assert_true(drv_negotiate(m, f));
    for (unsigned i = 0; i < nq; i++) {
        drv_queue(m, i, &qs[i]);
        assert_int_equal(mmio_rd(m, VIRTIO_MMIO_QUEUE_READY), 1);
    }
    mmio_wr(m, VIRTIO_MMIO_STATUS, mmio_rd(m, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
    assert_true(vmmio_live(m));
}
