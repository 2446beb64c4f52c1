/* Unit tests for virtio-net over fake guest RAM and a fake driver: exact frames both ways, hostile chains, the rx and tx buckets' wake times. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio/le.h"
#include "devices/virtio/net/vnet.h"
#include "virtio_fixture.h"

#define RXQ_BASE 0x10000ull
#define TXQ_BASE 0x18000ull
#define BUFS 0x40000ull   /* guest buffers, 2 KiB a slot */
#define MS 1000000ull
#define S 1000000000ull

struct env {
    struct fake_ram f;
    struct vnet v;
    struct tq q[2];
    unsigned irqs, rx_ready_calls;
    int tx_answer;              /* what the fake backend's transmit returns */
    uint8_t sent[8][VNET_FRAME_MAX];
    uint32_t sent_len[8];
    unsigned nsent;
    unsigned slot;
};

static void count_irq(void *ctx) { ((struct env *)ctx)->irqs++; }

static int fake_transmit(void *ctx, const uint8_t *frame, uint32_t len)
{
    struct env *e = ctx;
    if (e->tx_answer)
        return e->tx_answer;
    assert_true(len >= VNET_FRAME_MIN && len <= VNET_FRAME_MAX);
    if (e->nsent < 8) {
        memcpy(e->sent[e->nsent], frame, len);
        e->sent_len[e->nsent] = len;
    }
    e->nsent++;
    return 0;
}

static void fake_rx_ready(void *ctx) { ((struct env *)ctx)->rx_ready_calls++; }

static const uint8_t mac[6] = { 0x02, 0x15, 0x15, 0x00, 0x00, 0x01 };

static void start(struct env *e, const struct io_limit *rx, const struct io_limit *tx)
{
    memset(&e->v, 0, sizeof e->v);
    struct vnet_backend be = { fake_transmit, fake_rx_ready, e };
    struct vnet_cfg cfg = { .rx = rx, .tx = tx };
    memcpy(cfg.mac, mac, 6);
    fake_now = 0;
    assert_int_equal(vnet_init(&e->v, &e->f.ram, &be, &cfg), 0);
    e->v.mmio.clock = fake_clock;
    /* the buckets start full at the fake clock's 0 */
    if (rx)
        io_throttle_init(&e->v.rx.io, rx, 0);
    if (tx)
        io_throttle_init(&e->v.tx.io, tx, 0);
    e->v.mmio.irq = count_irq;
    e->v.mmio.irq_ctx = e;
    tq_init(&e->q[0], &e->f, 16, RXQ_BASE);
    tq_init(&e->q[1], &e->f, 16, TXQ_BASE);
    drv_setup(&e->v.mmio, e->q, 2);
    assert_true(vmmio_live(&e->v.mmio));
}

static int setup(void **state)
{
    static struct env e;
    memset(&e, 0, sizeof(e));
    fake_ram_init(&e.f);
    start(&e, NULL, NULL);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fake_ram_free(&e->f);
    return 0;
}

static uint64_t next_buf(struct env *e)
{
    return BUFS + 2048ull * (e->slot++ % 64);
}

static void fill_frame(uint8_t *fr, uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        fr[i] = (uint8_t)(seed + i * 13 + i / 256);
}

/* A frame as Linux's virtio_net sends it: header and frame in one readable buffer, or split
 * after the header when split is set. */
static void guest_tx(struct env *e, const uint8_t *fr, uint32_t len, bool split)
{
    uint64_t a = next_buf(e);
    uint8_t *p = fr_ptr(&e->f, a, VNET_HDR_LEN + len);
    memset(p, 0, VNET_HDR_LEN);
    memcpy(p + VNET_HDR_LEN, fr, len);
    if (split) {
        struct tbuf b[2] = { { a, VNET_HDR_LEN, false }, { a + VNET_HDR_LEN, len, false } };
        tq_add(&e->q[1], b, 2);
    } else {
        struct tbuf b = { a, VNET_HDR_LEN + len, false };
        tq_add(&e->q[1], &b, 1);
    }
}

static uint64_t guest_rx_buf(struct env *e, uint32_t len)
{
    uint64_t a = next_buf(e);
    memset(fr_ptr(&e->f, a, len), 0xee, len);
    struct tbuf b = { a, len, true };
    tq_add(&e->q[0], &b, 1);
    return a;
}

static void test_tx_exact(void **state)
{
    struct env *e = *state;
    uint8_t fr[VNET_FRAME_MAX];
    fill_frame(fr, sizeof fr, 1);
    guest_tx(e, fr, 60, false);
    guest_tx(e, fr, VNET_FRAME_MAX, true);
    guest_tx(e, fr, VNET_FRAME_MIN, true);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(e->nsent, 3);
    assert_int_equal(e->sent_len[0], 60);
    assert_memory_equal(e->sent[0], fr, 60);
    assert_int_equal(e->sent_len[1], VNET_FRAME_MAX);
    assert_memory_equal(e->sent[1], fr, VNET_FRAME_MAX);
    assert_int_equal(e->sent_len[2], VNET_FRAME_MIN);
    uint32_t id, len;
    for (int i = 0; i < 3; i++) {
        assert_true(tq_used(&e->q[1], &id, &len));
        assert_int_equal(len, 0);
    }
    assert_int_equal(e->v.stats.tx_packets, 3);
    assert_int_equal(e->v.stats.tx_bytes, 60 + VNET_FRAME_MAX + VNET_FRAME_MIN);
    assert_int_equal(e->v.stats.tx_dropped, 0);
    assert_true(e->irqs >= 1);
    /* the config space: the MAC, the MTU; the features: VERSION_1, MAC, MTU, GUEST_CSUM and
     * nothing else */
    for (int i = 0; i < 6; i++)
        assert_int_equal(mmio_rd(&e->v.mmio, 0x100 + i) & 0xff, mac[i]);
    mmio_wr(&e->v.mmio, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_int_equal(mmio_rd(&e->v.mmio, VIRTIO_MMIO_DEVICE_FEATURES),
                     1u << VIRTIO_NET_F_MAC | 1u << VIRTIO_NET_F_MTU | 1u << VIRTIO_NET_F_GUEST_CSUM);
    assert_int_equal(le_get(e->v.config + 10, 2), 1500);
    assert_int_equal(mmio_rd(&e->v.mmio, VIRTIO_MMIO_DEVICE_ID), 1);
}

static void test_rx_exact(void **state)
{
    struct env *e = *state;
    uint8_t fr[VNET_FRAME_MAX];
    fill_frame(fr, sizeof fr, 7);
    /* no buffer: keep the frame, and hear when one comes */
    unsigned calls = e->rx_ready_calls; /* DRIVER_OK told the backend once already */
    assert_int_equal(vnet_receive(&e->v, fr, 100), -EAGAIN);
    assert_int_equal(e->rx_ready_calls, calls);
    uint64_t a = guest_rx_buf(e, VNET_HDR_LEN + VNET_FRAME_MAX);
    uint64_t b = guest_rx_buf(e, VNET_HDR_LEN + VNET_FRAME_MAX);
    vmmio_notify(&e->v.mmio, VNET_RXQ);
    assert_int_equal(e->rx_ready_calls, calls + 1);
    vmmio_notify(&e->v.mmio, VNET_RXQ); /* told once per -EAGAIN */
    assert_int_equal(e->rx_ready_calls, calls + 1);
    unsigned irqs = e->irqs;
    assert_int_equal(vnet_receive(&e->v, fr, 100), 1);
    assert_int_equal(vnet_receive(&e->v, fr, VNET_FRAME_MAX), 1);
    assert_int_equal(e->irqs, irqs); /* the interrupt waits for the batch's end */
    vnet_rx_done(&e->v);
    assert_int_equal(e->irqs, irqs + 1);
    uint32_t id, len;
    assert_true(tq_used(&e->q[0], &id, &len));
    assert_int_equal(len, VNET_HDR_LEN + 100);
    const uint8_t *p = fr_ptr(&e->f, a, VNET_HDR_LEN + 101);
    uint8_t hdr[VNET_HDR_LEN] = { VIRTIO_NET_HDR_F_DATA_VALID };
    hdr[10] = 1; /* num_buffers */
    assert_memory_equal(p, hdr, VNET_HDR_LEN);
    assert_memory_equal(p + VNET_HDR_LEN, fr, 100);
    assert_int_equal(p[VNET_HDR_LEN + 100], 0xee); /* nothing beyond */
    assert_true(tq_used(&e->q[0], &id, &len));
    assert_int_equal(len, VNET_HDR_LEN + VNET_FRAME_MAX);
    assert_memory_equal((uint8_t *)fr_ptr(&e->f, b, VNET_HDR_LEN + VNET_FRAME_MAX) + VNET_HDR_LEN,
                        fr, VNET_FRAME_MAX);
    assert_int_equal(e->v.stats.rx_packets, 2);
    assert_int_equal(e->v.stats.rx_bytes, 100 + VNET_FRAME_MAX);
    /* frames of impossible length are the backend's bug: dropped, counted */
    guest_rx_buf(e, 2048);
    assert_int_equal(vnet_receive(&e->v, fr, VNET_FRAME_MAX + 1), 0);
    assert_int_equal(vnet_receive(&e->v, fr, 13), 0);
    assert_int_equal(e->v.stats.rx_dropped, 2);
    assert_int_equal(vnet_receive(&e->v, fr, 60), 1);
}

/* A chain the guest made: the frame is dropped and counted, the chain given back. */
static void expect_tx_dropped(struct env *e, const struct tbuf *b, unsigned n)
{
    uint64_t dropped = e->v.stats.tx_dropped, sent = e->nsent;
    tq_add(&e->q[1], b, n);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(e->v.stats.tx_dropped, dropped + 1);
    assert_int_equal(e->nsent, sent);
    uint32_t id, len;
    assert_true(tq_used(&e->q[1], &id, &len));
    assert_int_equal(len, 0);
    assert_true(vmmio_live(&e->v.mmio));
}

static void test_hostile_tx(void **state)
{
    struct env *e = *state;
    uint64_t a = next_buf(e);
    memset(fr_ptr(&e->f, a, 2048), 0, 2048);
    /* a header alone, a header short of 12 bytes, a frame below 14 bytes */
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN, false }, 1);
    expect_tx_dropped(e, &(struct tbuf){ a, 8, false }, 1);
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN + 13, false }, 1);
    /* oversized: 1515 bytes of frame, in one buffer or over several */
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN + VNET_FRAME_MAX + 1, false }, 1);
    struct tbuf many[3] = { { a, VNET_HDR_LEN, false }, { a, 1000, false }, { a, 600, false } };
    expect_tx_dropped(e, many, 3);
    /* a writable part in a tx chain (the device would write nothing there: refused) */
    struct tbuf rw[2] = { { a, VNET_HDR_LEN + 60, false }, { a + 1024, 64, true } };
    expect_tx_dropped(e, rw, 2);
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN + 60, true }, 1);
    /* offloads never offered: NEEDS_CSUM, GSO */
    uint8_t *h = fr_ptr(&e->f, a, VNET_HDR_LEN);
    h[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN + 60, false }, 1);
    h[0] = 0;
    h[1] = VIRTIO_NET_HDR_GSO_TCPV4;
    expect_tx_dropped(e, &(struct tbuf){ a, VNET_HDR_LEN + 60, false }, 1);
    h[1] = 0;
    /* the device still works */
    uint8_t fr[64];
    fill_frame(fr, sizeof fr, 3);
    guest_tx(e, fr, 64, false);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(e->nsent, 1);
    assert_memory_equal(e->sent[0], fr, 64);
    /* a malformed queue (a head out of range): NEEDS_RESET, not a crash */
    tq_desc(&e->q[1], 0, a, 64, 0, 0);
    tq_publish(&e->q[1], 99);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_false(vmmio_live(&e->v.mmio));
    assert_true(mmio_rd(&e->v.mmio, VIRTIO_MMIO_STATUS) & 0x40);
}

static void test_hostile_rx(void **state)
{
    struct env *e = *state;
    uint8_t fr[200];
    fill_frame(fr, sizeof fr, 9);
    /* a buffer too small for header and frame: the frame dropped, the buffer used with 0 */
    guest_rx_buf(e, VNET_HDR_LEN + 100);
    assert_int_equal(vnet_receive(&e->v, fr, 200), 0);
    assert_int_equal(e->v.stats.rx_dropped, 1);
    uint32_t id, len;
    assert_true(tq_used(&e->q[0], &id, &len));
    assert_int_equal(len, 0);
    /* a header-sized one, split buffers are fine */
    uint64_t a = next_buf(e), b = next_buf(e);
    struct tbuf two[2] = { { a, VNET_HDR_LEN, true }, { b, 200, true } };
    tq_add(&e->q[0], two, 2);
    assert_int_equal(vnet_receive(&e->v, fr, 200), 1);
    assert_memory_equal(fr_ptr(&e->f, b, 200), fr, 200);
    /* a device-readable rx buffer: the driver broke the protocol, NEEDS_RESET */
    struct tbuf ro = { next_buf(e), 2048, false };
    tq_add(&e->q[0], &ro, 1);
    assert_int_equal(vnet_receive(&e->v, fr, 200), 0);
    assert_false(vmmio_live(&e->v.mmio));
    assert_int_equal(vnet_receive(&e->v, fr, 200), 0); /* not live: dropped */
}

static struct io_limit limit(uint64_t ops_per_s, uint64_t bytes_per_s)
{
    struct io_limit l = { { 0, 0, 0 }, { 0, 0, 0 } };
    if (ops_per_s)
        l.ops = (struct bucket_cfg){ ops_per_s, 0, S };
    if (bytes_per_s)
        l.bytes = (struct bucket_cfg){ bytes_per_s, 0, S };
    return l;
}

static void test_tx_throttle_packets(void **state)
{
    struct env *e = *state;
    struct io_limit tx = limit(2, 0);
    start(e, NULL, &tx);
    uint8_t fr[100];
    fill_frame(fr, sizeof fr, 5);
    for (int i = 0; i < 4; i++)
        guest_tx(e, fr, 100, false);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(e->nsent, 2);
    assert_int_equal(vmmio_wake_ns(&e->v.mmio), 500 * MS); /* one frame refills in 0.5 s */
    fake_now = 250 * MS;
    vmmio_timer(&e->v.mmio);
    assert_int_equal(e->nsent, 2);
    fake_now = 500 * MS;
    vmmio_timer(&e->v.mmio);
    assert_int_equal(e->nsent, 3);
    assert_int_equal(vmmio_wake_ns(&e->v.mmio), S);
    fake_now = S;
    vmmio_timer(&e->v.mmio);
    assert_int_equal(e->nsent, 4);
    assert_int_equal(vmmio_wake_ns(&e->v.mmio), 0);
    assert_int_equal(e->v.tx.throttled_ns, S);
}

static void test_rx_throttle_bytes(void **state)
{
    struct env *e = *state;
    struct io_limit rx = limit(0, 3000);
    start(e, &rx, NULL);
    uint8_t fr[VNET_FRAME_MAX];
    fill_frame(fr, sizeof fr, 11);
    for (int i = 0; i < 4; i++)
        guest_rx_buf(e, 2048);
    assert_int_equal(vnet_receive(&e->v, fr, 1500), 1);
    assert_int_equal(vnet_receive(&e->v, fr, 1500), 1);
    /* the bucket is empty: 1000 bytes take 1/3 s */
    assert_int_equal(vnet_receive(&e->v, fr, 1000), -EAGAIN);
    assert_int_equal(vmmio_wake_ns(&e->v.mmio), S / 3 + 1);
    assert_int_equal(e->v.stats.rx_packets, 2);
    fake_now = S / 3 + 1;
    unsigned calls = e->rx_ready_calls;
    vmmio_timer(&e->v.mmio);
    assert_int_equal(e->rx_ready_calls, calls + 1); /* the backend hears it may deliver */
    assert_int_equal(vnet_receive(&e->v, fr, 1000), 1);
    assert_int_equal(e->v.rx.throttled_ns, S / 3 + 1);
    /* the frames waited, none was lost: no drop counted */
    assert_int_equal(e->v.stats.rx_dropped, 0);
    /* 16 KiB more at 3000 B/s take 16384/3000 s of the clock, however the wakes fall */
    uint64_t t0 = fake_now, sent = 0;
    int guard = 0;
    while (sent < 16384) {
        if (!virtq_has_avail(&e->v.vq[VNET_RXQ]))
            guest_rx_buf(e, 2048);
        int rc = vnet_receive(&e->v, fr, 1024);
        if (rc == 1) {
            sent += 1024;
            continue;
        }
        assert_int_equal(rc, -EAGAIN);
        assert_true(vmmio_wake_ns(&e->v.mmio) > fake_now);
        fake_now = vmmio_wake_ns(&e->v.mmio);
        vmmio_timer(&e->v.mmio);
        assert_true(++guard < 1000);
    }
    uint64_t took = fake_now - t0, want = 16384 * S / 3000;
    assert_true(took + 2 * MS >= want && took <= want + 2 * MS);
}

static void test_tx_backend_full(void **state)
{
    struct env *e = *state;
    uint8_t fr[80];
    fill_frame(fr, sizeof fr, 2);
    e->tx_answer = -EAGAIN;
    guest_tx(e, fr, 80, false);
    guest_tx(e, fr, 80, false);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(tq_used_idx(&e->q[1]), 0); /* held, not dropped */
    assert_true(e->v.have_tx);
    e->tx_answer = 0;
    vnet_kick_tx(&e->v);
    assert_int_equal(e->nsent, 2);
    assert_int_equal(tq_used_idx(&e->q[1]), 2);
    e->tx_answer = -EIO;
    guest_tx(e, fr, 80, false);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_int_equal(e->v.stats.tx_dropped, 1);
    assert_int_equal(tq_used_idx(&e->q[1]), 3);
    e->tx_answer = 0;
    /* a reset drops the held frame */
    e->tx_answer = -EAGAIN;
    guest_tx(e, fr, 80, false);
    vmmio_notify(&e->v.mmio, VNET_TXQ);
    assert_true(e->v.have_tx);
    mmio_wr(&e->v.mmio, VIRTIO_MMIO_STATUS, 0);
    assert_false(e->v.have_tx);
    e->tx_answer = 0;
}

static void test_init_checks(void **state)
{
    struct env *e = *state;
    struct vnet v;
    struct vnet_backend be = { fake_transmit, NULL, e };
    struct vnet_cfg cfg = { .mac = { 0x01, 0, 0, 0, 0, 1 } }; /* multicast */
    assert_int_equal(vnet_init(&v, &e->f.ram, &be, &cfg), -EINVAL);
    cfg.mac[0] = 0x00; /* globally administered */
    assert_int_equal(vnet_init(&v, &e->f.ram, &be, &cfg), -EINVAL);
    cfg.mac[0] = 0x02;
    be.transmit = NULL;
    assert_int_equal(vnet_init(&v, &e->f.ram, &be, &cfg), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tx_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_throttle_packets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_throttle_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_backend_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
