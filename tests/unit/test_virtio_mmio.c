/* Unit tests for the virtio-mmio transport: registers, access checks, negotiation, queue setup, notify, interrupts, NEEDS_RESET, reset. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio/mmio.h"
#include "virtio_fixture.h"

#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV VIRTIO_CONFIG_S_DRIVER
#define S_FOK VIRTIO_CONFIG_S_FEATURES_OK
#define S_DOK VIRTIO_CONFIG_S_DRIVER_OK
#define S_NR VIRTIO_CONFIG_S_NEEDS_RESET
#define F_V1 (1ull << 32)
#define F_DEV (1ull << 3 | 1ull << 40)   /* the dummy's own: bit 3 and bit 40 */

/* A dummy device: two queues, an 8-byte config space, counting its calls. */
struct dummy {
    struct vmmio m;
    struct virtq q[2];
    uint8_t config[8];
    unsigned notified[2], resets, timers, irqs, config_writes;
    struct fake_ram f;
    struct tq t[2];
};

static struct dummy *dummy_of(struct vmmio *m) { return (struct dummy *)m; }
static void d_notify(struct vmmio *m, unsigned q) { dummy_of(m)->notified[q]++; }
static void d_timer(struct vmmio *m) { dummy_of(m)->timers++; }
static void d_reset(struct vmmio *m) { dummy_of(m)->resets++; }
static void d_config_write(struct vmmio *m, uint32_t off, const void *data, uint32_t size)
{
    memcpy(dummy_of(m)->config + off, data, size);
    dummy_of(m)->config_writes++;
}
static void d_irq(void *ctx) { ((struct dummy *)ctx)->irqs++; }

static const struct vmmio_ops d_ops = { d_notify, d_timer, d_reset, d_config_write };

static int setup(void **state)
{
    static struct dummy d;
    memset(&d, 0, sizeof(d));
    fake_ram_init(&d.f);
    memcpy(d.config, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(vmmio_init(&d.m, &d_ops, &d.f.ram, 42, F_DEV, 1ull << 3, d.q, 2, 16,
                                d.config, sizeof d.config), 0);
    d.m.irq = d_irq;
    d.m.irq_ctx = &d;
    tq_init(&d.t[0], &d.f, 16, 0x10000);
    tq_init(&d.t[1], &d.f, 8, FR_HIGH_GPA);
    *state = &d;
    return 0;
}

static int teardown(void **state)
{
    struct dummy *d = *state;
    fake_ram_free(&d->f);
    return 0;
}

static void test_init_refuses(void **state)
{
    struct dummy *d = *state;
    struct vmmio m;
    struct virtq q[VMMIO_MAX_QUEUES + 1];
    uint8_t cfg[8];
    assert_int_equal(vmmio_init(&m, NULL, &d->f.ram, 1, 0, 0, q, 1, 16, NULL, 0), -EINVAL);
    assert_int_equal(vmmio_init(&m, &d_ops, &d->f.ram, 1, 0, 0, q, VMMIO_MAX_QUEUES + 1, 16, NULL, 0), -EINVAL);
    assert_int_equal(vmmio_init(&m, &d_ops, &d->f.ram, 1, 0, 0, q, 1, 3, NULL, 0), -EINVAL);
    assert_int_equal(vmmio_init(&m, &d_ops, &d->f.ram, 1, 0, 0, q, 1, 16, NULL, 8), -EINVAL);
    assert_int_equal(vmmio_init(&m, &d_ops, &d->f.ram, 1, 0, 0, q, 1, 16, cfg, VMMIO_WINDOW), -EINVAL);
    assert_int_equal(vmmio_init(&m, &d_ops, &d->f.ram, 1, 0, 0, NULL, 0, 16, NULL, 0), 0);
}

static void test_identity(void **state)
{
    struct dummy *d = *state;
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_DEVICE_ID), 42);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_VENDOR_ID), 0x4d565349);
    mmio_wr(&d->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_DEVICE_FEATURES), 1u << 3);
    mmio_wr(&d->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_DEVICE_FEATURES), 1u | 1u << 8); /* VERSION_1, bit 40 */
    mmio_wr(&d->m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

static void test_bad_accesses(void **state)
{
    struct dummy *d = *state;
    uint8_t buf[16];
    struct { uint64_t off; uint32_t size; } bad[] = {
        { VIRTIO_MMIO_MAGIC_VALUE, 1 }, { VIRTIO_MMIO_MAGIC_VALUE, 2 }, { VIRTIO_MMIO_MAGIC_VALUE, 8 },
        { VIRTIO_MMIO_MAGIC_VALUE + 1, 4 }, { VIRTIO_MMIO_STATUS + 2, 4 }, { 0, 0 }, { 0, 3 },
        { 0, 16 }, { 0, UINT32_MAX }, { VIRTIO_MMIO_QUEUE_NOTIFY, 4 }, { VIRTIO_MMIO_QUEUE_NUM, 4 },
        { VIRTIO_MMIO_GUEST_PAGE_SIZE, 4 }, { VIRTIO_MMIO_QUEUE_PFN, 4 }, { 0xfc - 4, 4 },
        { 0x100 + 8, 1 }, { 0x100 + 7, 2 }, { 0x100 + 4, 8 }, { 0x100, 3 }, { 0x100, 16 },
        { 0xfff, 1 }, { 0x1000, 4 }, { UINT64_MAX, 4 }, { UINT64_MAX - 3, 4 }, { 1ull << 63, 8 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(buf, 0xaa, sizeof buf);
        uint64_t before = d->m.stats.bad_access;
        assert_int_equal(vmmio_read(&d->m, bad[i].off, buf, bad[i].size), -EINVAL);
        assert_int_equal(d->m.stats.bad_access, before + 1);
        uint32_t zeroed = bad[i].size < 8 ? bad[i].size : 8;
        for (uint32_t k = 0; k < 16; k++)
            assert_int_equal(buf[k], k < zeroed ? 0 : 0xaa); /* never past the 8-byte buffer */
    }
    /* writes to read-only or unknown registers, or of the wrong size, change nothing */
    uint32_t v = 0xffffffff;
    uint8_t w8[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_MAGIC_VALUE, &v, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_DEVICE_ID, &v, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS, &v, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_CONFIG_GENERATION, &v, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_STATUS, w8, 1), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_STATUS, w8, 8), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, VIRTIO_MMIO_STATUS + 1, &v, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, 0x100 + 6, w8, 4), -EINVAL);
    assert_int_equal(vmmio_write(&d->m, UINT64_MAX, w8, 8), -EINVAL);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_DEVICE_ID), 42);
    assert_int_equal(d->config_writes, 0);
}

static void test_config_space(void **state)
{
    struct dummy *d = *state;
    uint8_t b[8];
    for (uint32_t size = 1; size <= 8; size *= 2)
        for (uint32_t off = 0; off + size <= 8; off++) {
            assert_int_equal(vmmio_read(&d->m, 0x100 + off, b, size), 0);
            assert_memory_equal(b, d->config + off, size);
        }
    uint16_t v = 0xbeef;
    assert_int_equal(vmmio_write(&d->m, 0x100 + 6, &v, 2), 0);
    assert_int_equal(d->config_writes, 1);
    assert_int_equal(d->config[6], 0xef);
    assert_int_equal(d->config[7], 0xbe);
    /* no config_write: read-only config space */
    struct vmmio_ops ro = d_ops;
    ro.config_write = NULL;
    d->m.ops = &ro;
    assert_int_equal(vmmio_write(&d->m, 0x100, &v, 2), -EINVAL);
    d->m.ops = &d_ops;
}

static void test_negotiation(void **state)
{
    struct dummy *d = *state;
    assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
    assert_true(drv_negotiate(&d->m, F_V1 | 1ull << 3)); /* a subset with the required ones */
    assert_int_equal(d->m.driver_features, F_V1 | 1ull << 3);
    assert_false(drv_negotiate(&d->m, F_DEV));           /* no VERSION_1 */
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    assert_false(drv_negotiate(&d->m, F_V1 | 1ull << 40)); /* the device's required bit 3 missing */
    assert_false(drv_negotiate(&d->m, F_V1 | F_DEV | 1ull << 28)); /* indirect: never offered */
    assert_false(drv_negotiate(&d->m, F_V1 | F_DEV | 1ull << 63));
    /* a feature bit beyond 64 */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    /* a reset forgets it */
    assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
    /* features are fixed once FEATURES_OK is set */
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 0);
    assert_int_equal(d->m.driver_features, F_V1 | F_DEV);
    /* and cannot be written before DRIVER */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 0xff);
    assert_int_equal(d->m.driver_features, 0);
}

static void test_status_order(void **state)
{
    struct dummy *d = *state;
    /* steps skipped: nothing from the skipped one on */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_DRV);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), 0);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DOK);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_DOK);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    assert_false(vmmio_live(&d->m));
    /* clearing a bit without a reset: ignored */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    /* unknown bits: ignored; NEEDS_RESET cannot be set by the driver */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | 0x10);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_NR);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV);
    /* all at once in order is fine */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 0); /* before DRIVER: ignored */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 1u << 3);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK);
    assert_true(vmmio_live(&d->m));
    /* FAILED stops the device */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK | VIRTIO_CONFIG_S_FAILED);
    assert_false(vmmio_live(&d->m));
    assert_true(d->m.stats.driver_errors >= 6);
}

static void test_queue_setup(void **state)
{
    struct dummy *d = *state;
    /* before FEATURES_OK: queue registers are ignored */
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, 16);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
    assert_int_equal(d->q[0].size, 0);
    assert_int_equal(d->q[0].desc_gpa, 0);
    assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_QUEUE_NUM_MAX), 16);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 2); /* no such queue */
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_QUEUE_READY), 0);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, 16);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 0xffffffff);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
    drv_queue(&d->m, 0, &d->t[0]);
    drv_queue(&d->m, 1, &d->t[1]);
    assert_int_equal(d->q[1].desc_gpa, FR_HIGH_GPA); /* high halves kept */
    assert_true(d->q[0].ready && d->q[1].ready);
    /* enabled twice, or re-addressed while enabled: ignored */
    uint64_t errs = d->m.stats.driver_errors;
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, 4);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x20000);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 2);
    assert_int_equal(d->m.stats.driver_errors, errs + 4);
    assert_int_equal(d->q[0].size, 16);
    assert_int_equal(d->q[0].desc_gpa, 0x10000);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
    /* disabled before DRIVER_OK, then set up again */
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_false(d->q[0].ready);
    drv_queue(&d->m, 0, &d->t[0]);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
    /* after DRIVER_OK: no queue changes, no disabling */
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 0);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, 8);
    assert_true(d->q[0].ready);
    assert_int_equal(d->q[0].size, 16);
}

static void test_bad_queue_needs_reset(void **state)
{
    struct dummy *d = *state;
    static const uint32_t sizes[] = { 0, 3, 12, 32, 0x10010 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
        unsigned irqs = d->irqs;
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 0);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, sizes[i]);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x10000);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x11000);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_USED_LOW, 0x12000);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 1);
        assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_QUEUE_READY), 0);
        assert_true(mmio_rd(&d->m, VIRTIO_MMIO_STATUS) & S_NR);
        assert_int_equal(d->irqs, irqs + 1);
        assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
        assert_int_equal(d->m.error, -EINVAL);
    }
    /* rings outside RAM (the high half of the address) */
    assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NUM, 8);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x7);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 1);
    assert_true(mmio_rd(&d->m, VIRTIO_MMIO_STATUS) & S_NR);
    assert_int_equal(d->m.error, -EFAULT);
    /* the driver's read-modify-write of the status keeps NEEDS_RESET, DRIVER_OK leaves it dead */
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, mmio_rd(&d->m, VIRTIO_MMIO_STATUS) | S_DOK);
    assert_true(mmio_rd(&d->m, VIRTIO_MMIO_STATUS) & S_NR);
    assert_false(vmmio_live(&d->m));
}

static void test_notify_and_interrupts(void **state)
{
    struct dummy *d = *state;
    assert_true(drv_negotiate(&d->m, F_V1 | F_DEV));
    drv_queue(&d->m, 0, &d->t[0]);
    drv_queue(&d->m, 1, &d->t[1]);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NOTIFY, 0); /* before DRIVER_OK: nothing */
    vmmio_notify(&d->m, 1);
    assert_int_equal(d->notified[0] + d->notified[1], 0);
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
    /* DRIVER_OK looks at every ready queue once */
    assert_int_equal(d->notified[0], 1);
    assert_int_equal(d->notified[1], 1);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* the register */
    vmmio_notify(&d->m, 1);                      /* the ioeventfd */
    assert_int_equal(d->notified[1], 3);
    uint64_t errs = d->m.stats.driver_errors;
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
    vmmio_notify(&d->m, UINT32_MAX);
    assert_int_equal(d->m.stats.driver_errors, errs + 2);
    assert_int_equal(d->m.stats.notifies, 2);
    /* used-buffer interrupts, suppressed when the driver asks */
    vmmio_used(&d->m, &d->q[0]);
    assert_int_equal(d->irqs, 1);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    tq_set_avail_flags(&d->t[0], 1);
    vmmio_used(&d->m, &d->q[0]);
    assert_int_equal(d->irqs, 1);
    mmio_wr(&d->m, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    /* the timer reaches the device only while it is live */
    vmmio_timer(&d->m);
    assert_int_equal(d->timers, 1);
    d->m.wake_ns = 1234;
    assert_int_equal(vmmio_wake_ns(&d->m), 1234);
    /* a device error: NEEDS_RESET, a config interrupt, no more notifications or timers */
    vmmio_fail(&d->m, -ELOOP);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK | S_DOK | S_NR);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(d->irqs, 2);
    assert_int_equal(vmmio_wake_ns(&d->m), 0);
    vmmio_fail(&d->m, -EFAULT); /* once in NEEDS_RESET: no second interrupt */
    assert_int_equal(d->irqs, 2);
    vmmio_notify(&d->m, 0);
    vmmio_timer(&d->m);
    assert_int_equal(d->notified[0], 1);
    assert_int_equal(d->timers, 1);
    /* the reset brings it back */
    unsigned resets = d->resets;
    mmio_wr(&d->m, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(d->resets, resets + 1);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_false(d->q[0].ready || d->q[1].ready);
    assert_int_equal(d->m.driver_features, 0);
    /* Linux's removal: QueueReady 0 on every queue after the reset, read back 0 */
    errs = d->m.stats.driver_errors;
    for (uint32_t q = 0; q < 2; q++) {
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_SEL, q);
        mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_READY, 0);
        assert_int_equal(mmio_rd(&d->m, VIRTIO_MMIO_QUEUE_READY), 0);
    }
    assert_int_equal(d->m.stats.driver_errors, errs);
    drv_setup(&d->m, d->t, 2);
    mmio_wr(&d->m, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(d->notified[0], 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_queue_needs_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_and_interrupts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
