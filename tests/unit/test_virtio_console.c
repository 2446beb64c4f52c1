/* Unit tests for virtio-console: the MULTIPORT handshake, output in order with back-pressure, input to end-of-file, bad control messages, resets. */
#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_mmio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/virtio/console/console.h"
#include "virtio_fixture.h"

#define NQ 8              /* 3 ports: port 0's, control, ports 1 and 2's */
#define QBASE 0x10000ull  /* queue i at QBASE + i * 0x1000 */
#define CBUF 0x30000ull   /* control buffers, 64 bytes each */
#define RXBUF 0x40000ull  /* receive buffers */
#define TXBUF 0x50000ull  /* transmit data */

struct host {
    const char *in;       /* port 0's input */
    size_t in_len, in_pos;
    bool in_end;          /* after in: the end (else -EAGAIN) */
    unsigned reads, writes;
    char out[3][256];
    size_t out_len[3];
    size_t room[3];       /* bytes a write may still take before -EAGAIN */
    int fail[3];          /* the error writes give, 0: none */
};

struct env {
    struct fake_ram f;
    struct host h;
    struct vcons c;
    struct tq t[NQ];
    uint64_t cbuf[16];    /* control buffer of each descriptor head */
    unsigned ncbuf;
    unsigned irqs;
};

static ssize_t h_read(void *ctx, unsigned port, void *buf, size_t len)
{
    struct host *h = ctx;
    assert_int_equal(port, 0);
    h->reads++;
    if (h->in_pos == h->in_len)
        return h->in_end ? 0 : -EAGAIN;
    size_t n = h->in_len - h->in_pos < len ? h->in_len - h->in_pos : len;
    memcpy(buf, h->in + h->in_pos, n);
    h->in_pos += n;
    return (ssize_t)n;
}

static ssize_t h_write(void *ctx, unsigned port, const void *buf, size_t len)
{
    struct host *h = ctx;
    assert_true(port == 1 || port == 2);
    h->writes++;
    if (h->fail[port])
        return h->fail[port];
    size_t n = len < h->room[port] ? len : h->room[port];
    if (n == 0)
        return -EAGAIN;
    assert_true(h->out_len[port] + n <= sizeof h->out[port]);
    memcpy(h->out[port] + h->out_len[port], buf, n);
    h->out_len[port] += n;
    h->room[port] -= n;
    return (ssize_t)n;
}

static void count_irq(void *ctx) { ((struct env *)ctx)->irqs++; }

static const struct vcons_port_cfg ports[3] = {
    { "isovm.stdin", VCONS_IN }, { "isovm.stdout", VCONS_OUT }, { "isovm.stderr", VCONS_OUT },
};

/* The driver's reset and set-up (the device keeps what outlives a reset). */
static void restart(struct env *e)
{
    mmio_wr(&e->c.mmio, VIRTIO_MMIO_STATUS, 0);
    for (unsigned i = 0; i < NQ; i++)
        tq_init(&e->t[i], &e->f, 16, QBASE + 0x1000ull * i);
    drv_setup(&e->c.mmio, e->t, NQ);
    e->ncbuf = 0;
}

static void start(struct env *e)
{
    struct vcons_host host = { h_read, h_write, &e->h };
    assert_int_equal(vcons_init(&e->c, &e->f.ram, ports, 3, &host), 0);
    e->c.mmio.irq = count_irq;
    e->c.mmio.irq_ctx = e;
    restart(e);
}

static int setup(void **state)
{
    static struct env e;
    memset(&e, 0, sizeof(e));
    fake_ram_init(&e.f);
    e.h.room[1] = e.h.room[2] = SIZE_MAX;
    start(&e);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fake_ram_free(&e->f);
    return 0;
}

/* n control buffers of len bytes for the device's messages */
static void ctrl_give(struct env *e, unsigned n, uint32_t len)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa = CBUF + 64ull * (e->ncbuf++ % 16);
        struct tbuf b = { gpa, len, true };
        uint16_t head = tq_add(&e->t[VCONS_CTRL_RXQ], &b, 1);
        e->cbuf[head] = gpa;
    }
}

static void ctrl_send(struct env *e, uint32_t id, uint16_t event, uint16_t value)
{
    static unsigned k;
    uint64_t gpa = CBUF + 0x1000 + 16ull * (k++ % 64);
    uint8_t *p = fr_ptr(&e->f, gpa, 8);
    memcpy(p, &id, 4);
    memcpy(p + 4, &event, 2);
    memcpy(p + 6, &value, 2);
    struct tbuf b = { gpa, 8, false };
    tq_add(&e->t[VCONS_CTRL_TXQ], &b, 1);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_TXQ);
    uint32_t head, len;
    assert_true(tq_used(&e->t[VCONS_CTRL_TXQ], &head, &len)); /* taken at once (Linux spins) */
    assert_int_equal(len, 0);
}

/* The next control message to the guest: its fields, and the name that follows (if any). */
static void ctrl_expect(struct env *e, uint32_t id, uint16_t event, uint16_t value, const char *name)
{
    uint32_t head, len;
    assert_true(tq_used(&e->t[VCONS_CTRL_RXQ], &head, &len));
    uint8_t *p = fr_ptr(&e->f, e->cbuf[head], 8);
    uint32_t got_id;
    uint16_t got_ev, got_val;
    memcpy(&got_id, p, 4);
    memcpy(&got_ev, p + 4, 2);
    memcpy(&got_val, p + 6, 2);
    assert_int_equal(got_id, id);
    assert_int_equal(got_ev, event);
    assert_int_equal(got_val, value);
    size_t n = name ? strlen(name) : 0;
    assert_int_equal(len, 8 + n);
    if (n)
        assert_memory_equal(p + 8, name, n);
}

static void ctrl_none(struct env *e)
{
    uint32_t head, len;
    assert_false(tq_used(&e->t[VCONS_CTRL_RXQ], &head, &len));
}

static void handshake(struct env *e)
{
    ctrl_give(e, 12, 64);
    ctrl_send(e, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
    for (uint32_t i = 0; i < 3; i++)
        ctrl_expect(e, i, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    for (uint32_t i = 0; i < 3; i++) {
        ctrl_send(e, i, VIRTIO_CONSOLE_PORT_READY, 1);
        ctrl_expect(e, i, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
        ctrl_expect(e, i, VIRTIO_CONSOLE_PORT_NAME, 0, ports[i].name);
    }
    ctrl_none(e);
}

static void tx(struct env *e, unsigned port, const char *s)
{
    static unsigned k;
    uint64_t gpa = TXBUF + 0x100ull * (k++ % 64);
    size_t n = strlen(s);
    memcpy(fr_ptr(&e->f, gpa, n), s, n);
    struct tbuf b = { gpa, (uint32_t)n, false };
    tq_add(&e->t[vcons_txq(port)], &b, 1);
    vmmio_notify(&e->c.mmio, vcons_txq(port));
}

static void rx_give(struct env *e, unsigned n, uint32_t len)
{
    static unsigned k;
    for (unsigned i = 0; i < n; i++) {
        struct tbuf b = { RXBUF + 0x100ull * (k++ % 64), len, true };
        tq_add(&e->t[vcons_rxq(0)], &b, 1);
    }
    vmmio_notify(&e->c.mmio, vcons_rxq(0));
}

/* The next filled receive buffer's contents. */
static void rx_expect(struct env *e, const char *s)
{
    uint32_t head, len;
    struct tq *q = &e->t[vcons_rxq(0)];
    assert_true(tq_used(q, &head, &len));
    uint64_t addr;
    memcpy(&addr, fr_ptr(&e->f, q->desc + 16ull * head, 8), 8);
    assert_int_equal(len, strlen(s));
    assert_memory_equal(fr_ptr(&e->f, addr, len), s, len);
}

static void test_init_refuses(void **state)
{
    struct env *e = *state;
    static struct vcons c;
    struct vcons_host host = { h_read, h_write, &e->h };
    struct vcons_port_cfg bad_name[1] = { { "", VCONS_OUT } };
    struct vcons_port_cfg long_name[1] = { { "0123456789abcdef0123456789abcdef", VCONS_OUT } };
    struct vcons_port_cfg no_name[1] = { { NULL, VCONS_OUT } };
    struct vcons_port_cfg bad_dir[1] = { { "x", (enum vcons_dir)7 } };
    struct vcons_port_cfg five[5] = { { "a", VCONS_IN }, { "b", VCONS_IN }, { "c", VCONS_IN },
                                      { "d", VCONS_IN }, { "e", VCONS_IN } };
    struct vcons_host no_write = { h_read, NULL, NULL };
    assert_int_equal(vcons_init(&c, &e->f.ram, bad_name, 1, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, long_name, 1, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, no_name, 1, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, bad_dir, 1, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, five, 5, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, five, 0, &host), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, five, 4, &no_write), -EINVAL);
    assert_int_equal(vcons_init(&c, &e->f.ram, five, 4, &host), 0);
    assert_int_equal(c.mmio.nqueues, 10);
}

static void test_config_and_features(void **state)
{
    struct env *e = *state;
    assert_int_equal(mmio_rd(&e->c.mmio, VIRTIO_MMIO_DEVICE_ID), 3);
    assert_int_equal(mmio_rd(&e->c.mmio, 0x100 + 4), 3); /* max_nr_ports */
    assert_int_equal(mmio_rd(&e->c.mmio, 0x100), 0);     /* cols, rows */
    assert_int_equal(mmio_rd(&e->c.mmio, 0x100 + 8), 0); /* emerg_wr */
    assert_true(e->c.mmio.device_features & 1ull << VIRTIO_CONSOLE_F_MULTIPORT);
    assert_false(drv_negotiate(&e->c.mmio, 1ull << 32)); /* MULTIPORT is required */
    assert_int_equal(vcons_rxq(0), 0);
    assert_int_equal(vcons_txq(0), 1);
    assert_int_equal(vcons_rxq(1), 4);
    assert_int_equal(vcons_txq(2), 7);
}

static void test_handshake(void **state)
{
    struct env *e = *state;
    handshake(e);
    /* PORT_READY again (the guest re-probes a port): the same answer */
    ctrl_send(e, 1, VIRTIO_CONSOLE_PORT_READY, 1);
    ctrl_expect(e, 1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    ctrl_expect(e, 1, VIRTIO_CONSOLE_PORT_NAME, 0, "isovm.stdout");
    /* DEVICE_READY 0 (the guest failed): nothing */
    ctrl_send(e, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 0);
    ctrl_none(e);
    assert_int_equal(e->c.mmio.stats.driver_errors, 0);
}

static void test_messages_wait_for_buffers(void **state)
{
    struct env *e = *state;
    ctrl_send(e, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
    ctrl_none(e);
    ctrl_give(e, 2, 64);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_RXQ);
    ctrl_expect(e, 0, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    ctrl_expect(e, 1, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    ctrl_none(e);
    ctrl_give(e, 1, 64);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_RXQ);
    ctrl_expect(e, 2, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    /* a buffer too small for a name: given back empty, the message counted lost */
    ctrl_send(e, 2, VIRTIO_CONSOLE_PORT_READY, 1);
    ctrl_give(e, 1, 64);
    ctrl_give(e, 1, 12);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_RXQ);
    ctrl_expect(e, 2, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
    uint32_t head, len;
    assert_true(tq_used(&e->t[VCONS_CTRL_RXQ], &head, &len));
    assert_int_equal(len, 0);
    assert_int_equal(e->c.msgs_dropped, 1);
}

static void test_outbox_overflow(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 20; i++) /* 60 messages, no buffer to put them in */
        ctrl_send(e, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
    assert_int_equal(e->c.out_len, VCONS_OUTBOX);
    assert_int_equal(e->c.msgs_dropped, 60 - VCONS_OUTBOX);
    ctrl_give(e, 16, 64);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_RXQ);
    for (uint32_t i = 0; i < 16; i++)
        ctrl_expect(e, i % 3, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    assert_int_equal(e->c.out_len, VCONS_OUTBOX - 16);
}

static void test_bad_control_messages(void **state)
{
    struct env *e = *state;
    handshake(e);
    uint64_t errs = e->c.mmio.stats.driver_errors;
    ctrl_send(e, 3, VIRTIO_CONSOLE_PORT_READY, 1);       /* no such port */
    ctrl_send(e, UINT32_MAX, VIRTIO_CONSOLE_PORT_OPEN, 1);
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_NAME, 0);        /* the host's message */
    ctrl_send(e, 0, 0xffff, 0);                          /* unknown */
    /* shorter than a message */
    struct tbuf b = { CBUF + 0x2000, 4, false };
    tq_add(&e->t[VCONS_CTRL_TXQ], &b, 1);
    vmmio_notify(&e->c.mmio, VCONS_CTRL_TXQ);
    uint32_t head, len;
    assert_true(tq_used(&e->t[VCONS_CTRL_TXQ], &head, &len));
    assert_int_equal(e->c.mmio.stats.driver_errors, errs + 5);
    ctrl_none(e);
    /* a port opened before it was ready */
    static struct env e2;
    memset(&e2, 0, sizeof(e2));
    e2.f = e->f;
    start(&e2);
    ctrl_send(&e2, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    assert_false(e2.c.port[1].guest_open);
    assert_int_equal(e2.c.mmio.stats.driver_errors, 1);
}

static void test_output_in_order(void **state)
{
    struct env *e = *state;
    handshake(e);
    ctrl_send(e, 1, VIRTIO_CONSOLE_PORT_OPEN, 1);
    tx(e, 1, "hello ");
    tx(e, 2, "oops");
    /* one chain of two buffers */
    memcpy(fr_ptr(&e->f, TXBUF + 0x8000, 5), "world", 5);
    struct tbuf b[2] = { { TXBUF + 0x8000, 3, false }, { TXBUF + 0x8003, 2, false } };
    tq_add(&e->t[vcons_txq(1)], b, 2);
    vmmio_notify(&e->c.mmio, vcons_txq(1));
    assert_int_equal(e->h.out_len[1], 11);
    assert_memory_equal(e->h.out[1], "hello world", 11);
    assert_int_equal(e->h.out_len[2], 4);
    uint32_t head, len;
    assert_true(tq_used(&e->t[vcons_txq(1)], &head, &len));
    assert_int_equal(len, 0);
    assert_int_equal(e->c.port[1].bytes, 11);
    assert_true(e->irqs > 0);
}

static void test_output_back_pressure(void **state)
{
    struct env *e = *state;
    handshake(e);
    e->h.room[1] = 3;
    tx(e, 1, "abcdef");
    tx(e, 1, "ghi");
    assert_int_equal(e->h.out_len[1], 3);
    assert_true(vcons_wants_output(&e->c, 1));
    assert_false(vcons_wants_output(&e->c, 2));
    assert_int_equal(tq_used_idx(&e->t[vcons_txq(1)]), 0); /* held until written */
    e->h.room[1] = 4;
    vcons_host_ready(&e->c);
    assert_int_equal(tq_used_idx(&e->t[vcons_txq(1)]), 1);
    assert_int_equal(e->h.out_len[1], 7);
    e->h.room[1] = SIZE_MAX;
    vcons_host_ready(&e->c);
    assert_int_equal(tq_used_idx(&e->t[vcons_txq(1)]), 2);
    assert_memory_equal(e->h.out[1], "abcdefghi", 9);
    assert_false(vcons_wants_output(&e->c, 1));
}

static void test_output_lost(void **state)
{
    struct env *e = *state;
    handshake(e);
    e->h.fail[2] = -EPIPE;
    tx(e, 2, "lost");
    tx(e, 2, "again");
    assert_int_equal(e->h.writes, 1); /* not tried again after the error */
    assert_int_equal(tq_used_idx(&e->t[vcons_txq(2)]), 2);
    assert_int_equal(e->c.port[2].dropped, 9);
    assert_false(vcons_wants_output(&e->c, 2));
    /* guest writes to the input port go nowhere */
    tx(e, 0, "ignored");
    assert_int_equal(e->h.writes, 1);
    assert_int_equal(e->c.port[0].dropped, 7);
    assert_int_equal(tq_used_idx(&e->t[vcons_txq(0)]), 1);
}

static void test_input_until_end(void **state)
{
    struct env *e = *state;
    handshake(e);
    e->h.in = "abcdefg";
    e->h.in_len = 3;
    rx_give(e, 4, 64);
    vcons_host_ready(&e->c);
    assert_int_equal(e->h.reads, 0); /* the guest has not opened the port */
    assert_false(vcons_wants_input(&e->c, 0));
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    rx_expect(e, "abc");
    assert_true(vcons_wants_input(&e->c, 0));
    assert_false(vcons_wants_input(&e->c, 1));
    e->h.in_len = 7;
    e->h.in_end = true;
    vcons_host_ready(&e->c);
    rx_expect(e, "defg");
    /* the data first, then the host side closes: the guest reads end-of-file after it */
    ctrl_expect(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
    assert_false(vcons_wants_input(&e->c, 0));
    unsigned reads = e->h.reads;
    vcons_host_ready(&e->c);
    rx_give(e, 1, 64);
    assert_int_equal(e->h.reads, reads);
    assert_int_equal(e->c.port[0].bytes, 7);
}

static void test_input_waiting_while_guest_writes(void **state)
{
    struct env *e = *state;
    handshake(e);
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    rx_give(e, 1, 64); /* taken, waiting for input */
    assert_true(e->c.port[0].rx_pending);
    tx(e, 0, "to stdin"); /* the guest writes to the input port meanwhile: dropped */
    uint32_t head, len;
    assert_true(tq_used(&e->t[vcons_txq(0)], &head, &len));
    assert_false(tq_used(&e->t[vcons_txq(0)], &head, &len));
    assert_int_equal(tq_used_idx(&e->t[vcons_rxq(0)]), 0);
    assert_true(e->c.port[0].rx_pending); /* still waiting, and still the same buffer */
    e->h.in = "late";
    e->h.in_len = 4;
    vcons_host_ready(&e->c);
    rx_expect(e, "late");
    assert_int_equal(e->c.port[0].dropped, 8);
}

static void test_input_pieces(void **state)
{
    struct env *e = *state;
    handshake(e);
    static char big[150];
    memset(big, 'x', sizeof big);
    e->h.in = big;
    e->h.in_len = 100;
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    rx_give(e, 2, 64);
    uint32_t head, len;
    assert_true(tq_used(&e->t[vcons_rxq(0)], &head, &len));
    assert_int_equal(len, 64);
    assert_true(tq_used(&e->t[vcons_rxq(0)], &head, &len));
    assert_int_equal(len, 36);
    /* a chain of two buffers filled in one go */
    e->h.in_len = 150;
    struct tbuf b[2] = { { RXBUF + 0x4000, 20, true }, { RXBUF + 0x5000, 40, true } };
    tq_add(&e->t[vcons_rxq(0)], b, 2);
    vmmio_notify(&e->c.mmio, vcons_rxq(0));
    assert_true(tq_used(&e->t[vcons_rxq(0)], &head, &len));
    assert_int_equal(len, 50);
    /* a receive buffer the device cannot write: given back empty */
    struct tbuf ro = { RXBUF + 0x6000, 20, false };
    tq_add(&e->t[vcons_rxq(0)], &ro, 1);
    vmmio_notify(&e->c.mmio, vcons_rxq(0));
    assert_true(tq_used(&e->t[vcons_rxq(0)], &head, &len));
    assert_int_equal(len, 0);
}

static void test_input_ends_at_once(void **state)
{
    struct env *e = *state;
    handshake(e);
    e->h.in_end = true; /* </dev/null */
    rx_give(e, 2, 64);
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 1);
    ctrl_expect(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
    assert_int_equal(tq_used_idx(&e->t[vcons_rxq(0)]), 0);
    /* a reset and a new handshake: the input stays ended */
    restart(e);

    ctrl_give(e, 12, 64);
    ctrl_send(e, VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
    for (uint32_t i = 0; i < 3; i++)
        ctrl_expect(e, i, VIRTIO_CONSOLE_PORT_ADD, 0, NULL);
    ctrl_send(e, 0, VIRTIO_CONSOLE_PORT_READY, 1);
    ctrl_expect(e, 0, VIRTIO_CONSOLE_PORT_OPEN, 0, NULL);
    ctrl_expect(e, 0, VIRTIO_CONSOLE_PORT_NAME, 0, "isovm.stdin");
}

static void test_malformed_queue(void **state)
{
    struct env *e = *state;
    handshake(e);
    struct tq *q = &e->t[vcons_txq(1)];
    tq_desc(q, 0, TXBUF, 4, 1, 0); /* loops onto itself */
    tq_publish(q, 0);
    unsigned irqs = e->irqs;
    vmmio_notify(&e->c.mmio, vcons_txq(1));
    assert_true(mmio_rd(&e->c.mmio, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_int_equal(e->c.mmio.error, -ELOOP);
    assert_int_equal(e->irqs, irqs + 1);
    assert_int_equal(e->h.writes, 0);
    assert_false(vcons_wants_output(&e->c, 1));
    vcons_host_ready(&e->c);
    assert_int_equal(tq_used_idx(q), 0);
}

static void test_reset_mid_output(void **state)
{
    struct env *e = *state;
    handshake(e);
    e->h.room[1] = 0;
    tx(e, 1, "pending");
    assert_true(vcons_wants_output(&e->c, 1));
    unsigned writes = e->h.writes;
    mmio_wr(&e->c.mmio, VIRTIO_MMIO_STATUS, 0);
    assert_false(vcons_wants_output(&e->c, 1));
    e->h.room[1] = SIZE_MAX;
    vcons_host_ready(&e->c);
    assert_int_equal(e->h.writes, writes);
    assert_int_equal(e->c.out_len, 0);
    restart(e);
    handshake(e);
    tx(e, 1, "fresh");
    assert_memory_equal(e->h.out[1], "fresh", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_messages_wait_for_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outbox_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_control_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_back_pressure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_until_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_waiting_while_guest_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_pieces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_ends_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_mid_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
