/* Unit tests for virtio-blk: requests over fake guest RAM on a raw image (memfd), bad layouts and ranges, read-only disks, throttling, errors and resets. */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/virtio/blk/blk.h"
#include "devices/virtio/blk/blk_raw.h"
#include "virtio_fixture.h"

#define SECTORS 64
#define QBASE 0x10000ull
#define HDRS 0x20000ull   /* headers and status bytes, 32 bytes a slot */
#define DATA 0x40000ull
#define MS 1000000ull
#define S 1000000000ull

struct env {
    struct fake_ram f;
    int fd;
    struct vblk_raw raw;
    struct vblk b;
    struct tq t;
    unsigned irqs;
    unsigned slot;
};

static void count_irq(void *ctx) { ((struct env *)ctx)->irqs++; }

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + i / 512); }

static void start(struct env *e, const struct vblk_cfg *cfg)
{
    struct vblk_backend be;
    assert_int_equal(vblk_raw_open(&e->raw, e->fd, &be), 0);
    assert_int_equal(vblk_init(&e->b, &e->f.ram, &be, cfg), 0);
    e->b.mmio.clock = fake_clock;
    e->b.mmio.irq = count_irq;
    e->b.mmio.irq_ctx = e;
    tq_init(&e->t, &e->f, 16, QBASE);
    drv_setup(&e->b.mmio, &e->t, 1);
}

static int setup(void **state)
{
    static struct env e;
    memset(&e, 0, sizeof(e));
    fake_ram_init(&e.f);
    fake_now = 0;
    e.fd = memfd_create("disk", 0);
    assert_true(e.fd >= 0);
    uint8_t img[SECTORS * 512];
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = pattern(i);
    assert_int_equal(pwrite(e.fd, img, sizeof img, 0), (ssize_t)sizeof img);
    struct vblk_cfg cfg = { .serial = "isovm-disk-0" };
    start(&e, &cfg);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    close(e->fd);
    fake_ram_free(&e->f);
    return 0;
}

/* A request as Linux's virtio_blk lays it out: header (readable), data, status (writable).
 * Returns the guest address of its status byte. */
static uint64_t req(struct env *e, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                    bool dev_writes)
{
    uint64_t hdr = HDRS + 32ull * (e->slot++ % 256);
    uint8_t *h = fr_ptr(&e->f, hdr, 17);
    memset(h, 0, 17);
    memcpy(h, &type, 4);
    memcpy(h + 8, &sector, 8);
    h[16] = 0xee; /* status: not answered yet */
    struct tbuf b[3] = { { hdr, 16, false } };
    unsigned n = 1;
    if (len)
        b[n++] = (struct tbuf){ data, len, dev_writes };
    b[n++] = (struct tbuf){ hdr + 16, 1, true };
    tq_add(&e->t, b, n);
    return hdr + 16;
}

static uint8_t status_at(struct env *e, uint64_t gpa) { return *(uint8_t *)fr_ptr(&e->f, gpa, 1); }

/* Notify, then expect one used element of len and the status byte st. */
static void expect_done(struct env *e, uint64_t st_gpa, uint8_t st, uint32_t len)
{
    vmmio_notify(&e->b.mmio, 0);
    uint32_t id, got;
    assert_true(tq_used(&e->t, &id, &got));
    assert_int_equal(got, len);
    assert_int_equal(status_at(e, st_gpa), st);
}

static void test_config_and_features(void **state)
{
    struct env *e = *state;
    uint8_t c[8];
    assert_int_equal(vmmio_read(&e->b.mmio, 0x100, c, 8), 0);
    uint64_t cap;
    memcpy(&cap, c, 8);
    assert_int_equal(cap, SECTORS);
    assert_int_equal(mmio_rd(&e->b.mmio, 0x100 + 12), 254);
    assert_int_equal(mmio_rd(&e->b.mmio, 0x100 + 20), 512);
    assert_int_equal(mmio_rd(&e->b.mmio, VIRTIO_MMIO_DEVICE_ID), 2);
    uint64_t f = e->b.mmio.device_features;
    assert_true(f & 1ull << VIRTIO_BLK_F_FLUSH);
    assert_false(f & 1ull << VIRTIO_BLK_F_RO);
    assert_true(f & 1ull << VIRTIO_BLK_F_SEG_MAX);
    assert_true(f & 1ull << VIRTIO_BLK_F_BLK_SIZE);
    assert_true(f & 1ull << VIRTIO_F_VERSION_1);
    assert_false(f & (1ull << 28 | 1ull << 29)); /* no indirect descriptors, no event index */
    struct vblk_cfg ro = { .read_only = true };
    start(e, &ro);
    f = e->b.mmio.device_features;
    assert_true(f & 1ull << VIRTIO_BLK_F_RO);
    assert_false(f & 1ull << VIRTIO_BLK_F_FLUSH);
}

static void test_read(void **state)
{
    struct env *e = *state;
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 2, DATA, 1024, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 1025);
    uint8_t *d = fr_ptr(&e->f, DATA, 1024);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(d[i], pattern(1024 + i));
    assert_int_equal(e->b.stats.read_ops, 1);
    assert_int_equal(e->b.stats.read_bytes, 1024);
    assert_int_equal(e->irqs, 1);
    /* into RAM above 4 GiB, data in odd-sized pieces, the header split in two */
    uint64_t hdr = HDRS + 0x1000;
    uint32_t type = VIRTIO_BLK_T_IN;
    uint64_t sector = 63;
    memcpy(fr_ptr(&e->f, hdr, 4), &type, 4);
    memcpy(fr_ptr(&e->f, hdr + 8, 8), &sector, 8);
    struct tbuf b[] = { { hdr, 5, false }, { hdr + 5, 11, false }, { FR_HIGH_GPA, 100, true },
                        { FR_HIGH_GPA + 0x1000, 411, true }, { FR_HIGH_GPA + 0x2000, 1, true },
                        { hdr + 16, 1, true } };
    tq_add(&e->t, b, 6);
    expect_done(e, hdr + 16, VIRTIO_BLK_S_OK, 513);
    uint8_t *p = fr_ptr(&e->f, FR_HIGH_GPA, 100);
    assert_int_equal(p[0], pattern(63 * 512));
    assert_int_equal(p[99], pattern(63 * 512 + 99));
    assert_int_equal(*(uint8_t *)fr_ptr(&e->f, FR_HIGH_GPA + 0x1000 + 410, 1), pattern(63 * 512 + 510));
    assert_int_equal(*(uint8_t *)fr_ptr(&e->f, FR_HIGH_GPA + 0x2000, 1), pattern(63 * 512 + 511));
}

static void test_write_and_flush(void **state)
{
    struct env *e = *state;
    memset(fr_ptr(&e->f, DATA, 1024), 0x5a, 1024);
    uint64_t st = req(e, VIRTIO_BLK_T_OUT, 5, DATA, 1024, false);
    expect_done(e, st, VIRTIO_BLK_S_OK, 1);
    uint8_t back[1536];
    assert_int_equal(pread(e->fd, back, sizeof back, 5 * 512), (ssize_t)sizeof back);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(back[i], 0x5a);
    assert_int_equal(back[1024], pattern(7 * 512)); /* and not a byte more */
    assert_int_equal(pread(e->fd, back, 1, 5 * 512 - 1), 1);
    assert_int_equal(back[0], pattern(5 * 512 - 1));
    st = req(e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    expect_done(e, st, VIRTIO_BLK_S_OK, 1);
    assert_int_equal(e->b.stats.write_ops, 2);
    assert_int_equal(e->b.stats.write_bytes, 1024);
    assert_int_equal(e->b.stats.flushes, 1);
    assert_int_equal(e->b.stats.read_ops, 0);
}

static void test_get_id(void **state)
{
    struct env *e = *state;
    memset(fr_ptr(&e->f, DATA, 64), 0xcc, 64);
    uint64_t st = req(e, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 21);
    assert_memory_equal(fr_ptr(&e->f, DATA, 20), "isovm-disk-0\0\0\0\0\0\0\0", 20);
    st = req(e, VIRTIO_BLK_T_GET_ID, 0, DATA + 32, 8, true); /* short: the first 8 bytes */
    expect_done(e, st, VIRTIO_BLK_S_OK, 9);
    assert_memory_equal(fr_ptr(&e->f, DATA + 32, 9), "isovm-di\xcc", 9);
    st = req(e, VIRTIO_BLK_T_GET_ID, 0, 0x30000, 64, true); /* long: 20 bytes, the rest as it was */
    expect_done(e, st, VIRTIO_BLK_S_OK, 21);
    assert_int_equal(e->b.stats.read_ops, 3);
}

static void test_unsupported(void **state)
{
    struct env *e = *state;
    static const uint32_t types[] = { 2, 3, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
                                      VIRTIO_BLK_T_SECURE_ERASE, 0x80000000u, 0xffffffffu };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        uint64_t st = req(e, types[i], 0, DATA, 512, false);
        expect_done(e, st, VIRTIO_BLK_S_UNSUPP, 1);
    }
    assert_int_equal(e->b.stats.unsupported, 7);
    assert_int_equal(e->b.stats.read_ops + e->b.stats.write_ops, 0);
}

static void test_read_only(void **state)
{
    struct env *e = *state;
    struct vblk_cfg ro = { .read_only = true };
    start(e, &ro);
    memset(fr_ptr(&e->f, DATA, 512), 0x11, 512);
    uint64_t st = req(e, VIRTIO_BLK_T_OUT, 0, DATA, 512, false);
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    uint8_t b;
    assert_int_equal(pread(e->fd, &b, 1, 0), 1);
    assert_int_equal(b, pattern(0));
    st = req(e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    expect_done(e, st, VIRTIO_BLK_S_UNSUPP, 1);
    st = req(e, VIRTIO_BLK_T_IN, 1, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 513);
    assert_int_equal(e->b.stats.write_ops, 0);
    assert_int_equal(e->b.stats.io_errors, 1);
}

static void test_ranges(void **state)
{
    struct env *e = *state;
    struct {
        uint32_t type;
        uint64_t sector;
        uint32_t len;
        uint8_t st;
    } cases[] = {
        { VIRTIO_BLK_T_IN, SECTORS - 1, 512, VIRTIO_BLK_S_OK },   /* the last sector */
        { VIRTIO_BLK_T_IN, SECTORS, 512, VIRTIO_BLK_S_IOERR },    /* past the end */
        { VIRTIO_BLK_T_IN, SECTORS - 1, 1024, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_IN, 0, SECTORS * 512, VIRTIO_BLK_S_OK },   /* all of it */
        { VIRTIO_BLK_T_IN, 0, SECTORS * 512 + 512, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_IN, UINT64_MAX, 512, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, 512, VIRTIO_BLK_S_IOERR }, /* * 512 wraps to 0 */
        { VIRTIO_BLK_T_IN, 1ull << 55, 512, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_IN, 0, 100, VIRTIO_BLK_S_IOERR },          /* not whole sectors */
        { VIRTIO_BLK_T_IN, 0, 513, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_IN, SECTORS, 0, VIRTIO_BLK_S_OK },         /* nothing, at the end: fine */
        { VIRTIO_BLK_T_IN, SECTORS + 1, 0, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_OUT, SECTORS, 512, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, 512, VIRTIO_BLK_S_IOERR },
        { VIRTIO_BLK_T_OUT, 3, 300, VIRTIO_BLK_S_IOERR },
    };
    memset(fr_ptr(&e->f, DATA, SECTORS * 512 + 512), 0x77, SECTORS * 512 + 512);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool in = cases[i].type == VIRTIO_BLK_T_IN;
        uint64_t st = req(e, cases[i].type, cases[i].sector, DATA, cases[i].len, in);
        uint32_t ok_len = 1 + (in ? cases[i].len : 0);
        expect_done(e, st, cases[i].st, cases[i].st == VIRTIO_BLK_S_OK ? ok_len : 1);
    }
    /* nothing was written: the disk is as it was */
    uint8_t img[SECTORS * 512];
    assert_int_equal(pread(e->fd, img, sizeof img, 0), (ssize_t)sizeof img);
    for (size_t i = 0; i < sizeof img; i++)
        assert_int_equal(img[i], pattern(i));
    assert_int_equal(e->b.stats.write_ops, 0);
}

static void test_bad_layouts(void **state)
{
    struct env *e = *state;
    uint64_t hdr = HDRS + 0x2000;
    uint32_t in = VIRTIO_BLK_T_IN, out = VIRTIO_BLK_T_OUT;
    memcpy(fr_ptr(&e->f, hdr, 4), &in, 4);
    memcpy(fr_ptr(&e->f, hdr + 32, 4), &out, 4);
    struct {
        struct tbuf b[3];
        unsigned n;
        uint32_t used;
        uint64_t st; /* 0: no status byte to look at */
    } cases[] = {
        { { { hdr, 8, false }, { hdr + 16, 1, true } }, 2, 1, hdr + 16 },   /* short header */
        { { { hdr, 16, false }, { DATA, 512, false }, { hdr + 16, 1, true } }, 3, 1, hdr + 16 }, /* IN with data to read */
        { { { hdr + 32, 16, false }, { DATA, 512, true }, { hdr + 48, 1, true } }, 3, 1, hdr + 48 }, /* OUT with data to write */
        { { { hdr, 16, false } }, 1, 0, 0 },                                /* no status byte */
        { { { hdr, 16, false }, { DATA, 512, false } }, 2, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].st)
            *(uint8_t *)fr_ptr(&e->f, cases[i].st, 1) = 0xee;
        tq_add(&e->t, cases[i].b, cases[i].n);
        vmmio_notify(&e->b.mmio, 0);
        uint32_t id, len;
        assert_true(tq_used(&e->t, &id, &len));
        assert_int_equal(len, cases[i].used);
        if (cases[i].st)
            assert_int_equal(status_at(e, cases[i].st), VIRTIO_BLK_S_IOERR);
    }
    assert_int_equal(e->b.stats.io_errors, 5);
    assert_int_equal(e->b.stats.read_ops + e->b.stats.write_ops, 0);
    /* the status is the last writable byte, even in a longer last buffer */
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    (void)st;
    struct tbuf b[] = { { hdr, 16, false }, { DATA, 512, true }, { DATA + 512, 8, true } };
    tq_add(&e->t, b, 3);
    vmmio_notify(&e->b.mmio, 0);
    uint32_t id, len;
    assert_true(tq_used(&e->t, &id, &len)); /* the first: 512 + status */
    assert_true(tq_used(&e->t, &id, &len)); /* 519 bytes of data: not whole sectors */
    assert_int_equal(len, 1);
    assert_int_equal(*(uint8_t *)fr_ptr(&e->f, DATA + 519, 1), VIRTIO_BLK_S_IOERR);
}

static void test_malformed_queue(void **state)
{
    struct env *e = *state;
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    tq_desc(&e->t, 2, HDRS + 16, 1, 3, 1); /* the status descriptor points back to the data */
    unsigned irqs = e->irqs;
    vmmio_notify(&e->b.mmio, 0);
    assert_true(mmio_rd(&e->b.mmio, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_int_equal(mmio_rd(&e->b.mmio, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(e->irqs, irqs + 1);
    assert_int_equal(e->b.mmio.error, -ELOOP);
    assert_int_equal(tq_used_idx(&e->t), 0);
    assert_int_equal(status_at(e, st), 0xee);
    /* nothing more is taken until the driver resets */
    req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    vmmio_notify(&e->b.mmio, 0);
    assert_int_equal(tq_used_idx(&e->t), 0);
    tq_init(&e->t, &e->f, 16, QBASE);
    drv_setup(&e->b.mmio, &e->t, 1);
    st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 513);
}

static void test_data_over_the_queue(void **state)
{
    struct env *e = *state;
    /* a read whose data lands on the rings themselves: the disk's sector 8 is all 0xff, so the
     * avail index the device reads next is junk (a jump): refused, the device needs a reset */
    uint8_t ff[512];
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(pwrite(e->fd, ff, sizeof ff, 8 * 512), 512);
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 8, QBASE, 256, true); /* the whole table (16 * 16) */
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);                  /* 256: not whole sectors */
    st = req(e, VIRTIO_BLK_T_IN, 8, QBASE, 512, true);          /* table, avail and used rings */
    vmmio_notify(&e->b.mmio, 0);
    assert_int_equal(status_at(e, st), VIRTIO_BLK_S_OK);
    assert_int_equal(tq_used_idx(&e->t), 2);                    /* published after the data */
    assert_true(mmio_rd(&e->b.mmio, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_int_equal(e->b.mmio.error, -EPROTO);
}

/* An io_limit of `ops` operations and `bytes` bytes per second (0: no limit). */
static struct io_limit limit(uint64_t ops, uint64_t bytes)
{
    return (struct io_limit){ .bytes = { bytes, 0, bytes ? S : 0 }, .ops = { ops, 0, ops ? S : 0 } };
}

/* A disk whose reads are limited to rl (writes not), the buckets full at time 0. */
static void start_throttled(struct env *e, struct io_throttle *rd, struct io_throttle *wr,
                            struct io_limit rl)
{
    struct io_limit none = limit(0, 0);
    io_throttle_init(rd, &rl, 0);
    io_throttle_init(wr, &none, 0);
    struct vblk_cfg cfg = { .rd = rd, .wr = wr };
    start(e, &cfg);
}

static void test_throttle_ops(void **state)
{
    struct env *e = *state;
    struct io_throttle rd, wr;
    start_throttled(e, &rd, &wr, limit(2, 0));
    uint64_t st[4];
    for (int i = 0; i < 4; i++)
        st[i] = req(e, VIRTIO_BLK_T_IN, (uint64_t)i, DATA + 512ull * i, 512, true);
    vmmio_notify(&e->b.mmio, 0);
    assert_int_equal(tq_used_idx(&e->t), 2);
    assert_int_equal(status_at(e, st[2]), 0xee);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), 500 * MS); /* one operation refills in 0.5 s */
    assert_int_equal(e->b.vq.next_avail, 3);                /* the 4th not taken from the queue */
    fake_now = 250 * MS;                                    /* early */
    vmmio_timer(&e->b.mmio);
    assert_int_equal(tq_used_idx(&e->t), 2);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), 500 * MS);
    vmmio_notify(&e->b.mmio, 0);                            /* a notification changes nothing */
    assert_int_equal(tq_used_idx(&e->t), 2);
    fake_now = 500 * MS;
    vmmio_timer(&e->b.mmio);
    assert_int_equal(tq_used_idx(&e->t), 3);
    assert_int_equal(status_at(e, st[2]), VIRTIO_BLK_S_OK);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), S);
    fake_now = S;
    vmmio_timer(&e->b.mmio);
    assert_int_equal(tq_used_idx(&e->t), 4);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), 0);
    assert_int_equal(e->b.stats.read_throttled_ns, S); /* 0.5 s for the 3rd, 0.5 s for the 4th */
    assert_int_equal(e->b.stats.read_ops, 4);
    /* writes have their own buckets: not limited */
    uint32_t id, len;
    while (tq_used(&e->t, &id, &len))
        ;
    uint64_t w = req(e, VIRTIO_BLK_T_OUT, 0, DATA, 512, false);
    expect_done(e, w, VIRTIO_BLK_S_OK, 1);
    assert_int_equal(e->b.stats.write_throttled_ns, 0);
}

static void test_throttle_bytes_larger_than_bucket(void **state)
{
    struct env *e = *state;
    struct io_throttle rd, wr;
    start_throttled(e, &rd, &wr, limit(0, 4096));
    /* 16 KiB through a 4 KiB/s bucket: 4 KiB at once, 12 KiB more take 3 s, paid in pieces */
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 16384, true);
    vmmio_notify(&e->b.mmio, 0);
    int wakes = 0;
    while (vmmio_wake_ns(&e->b.mmio)) {
        assert_int_equal(tq_used_idx(&e->t), 0);
        assert_true(vmmio_wake_ns(&e->b.mmio) > fake_now);
        fake_now = vmmio_wake_ns(&e->b.mmio);
        vmmio_timer(&e->b.mmio);
        assert_true(++wakes < 100);
    }
    assert_int_equal(fake_now, 3 * S);
    assert_int_equal(status_at(e, st), VIRTIO_BLK_S_OK);
    assert_int_equal(e->b.stats.read_throttled_ns, 3 * S);
    assert_int_equal(e->b.stats.read_bytes, 16384);
    assert_int_equal(*(uint8_t *)fr_ptr(&e->f, DATA + 16383, 1), pattern(16383));
}

static void test_reset_mid_throttle(void **state)
{
    struct env *e = *state;
    struct io_throttle rd, wr;
    start_throttled(e, &rd, &wr, limit(1, 0));
    req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 1, DATA + 512, 512, true);
    vmmio_notify(&e->b.mmio, 0);
    assert_int_equal(tq_used_idx(&e->t), 1);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), S);
    fake_now = 300 * MS;
    mmio_wr(&e->b.mmio, VIRTIO_MMIO_STATUS, 0); /* the driver resets while the 2nd waits */
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), 0);
    assert_false(e->b.have_req);
    assert_int_equal(e->b.stats.read_throttled_ns, 300 * MS);
    fake_now = S; /* the run loop's timer fires anyway: nothing happens */
    vmmio_timer(&e->b.mmio);
    assert_int_equal(tq_used_idx(&e->t), 1);
    assert_int_equal(status_at(e, st), 0xee);
    /* set up again: the new queue works, the buckets carried on */
    tq_init(&e->t, &e->f, 16, QBASE + 0x8000);
    drv_setup(&e->b.mmio, &e->t, 1);
    st = req(e, VIRTIO_BLK_T_IN, 2, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 513);
    assert_int_equal(e->b.stats.read_ops, 2);
}

static void test_two_disks_share_buckets(void **state)
{
    struct env *e = *state;
    struct io_throttle rd;
    struct io_limit l = limit(1, 0);
    io_throttle_init(&rd, &l, 0);
    struct vblk_cfg cfg = { .rd = &rd };
    start(e, &cfg);
    static struct vblk b2;
    struct vblk_backend be;
    assert_int_equal(vblk_raw_open(&e->raw, e->fd, &be), 0);
    assert_int_equal(vblk_init(&b2, &e->f.ram, &be, &cfg), 0);
    b2.mmio.clock = fake_clock;
    struct tq t2;
    tq_init(&t2, &e->f, 16, QBASE + 0x8000);
    drv_setup(&b2.mmio, &t2, 1);
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_OK, 513);
    struct tbuf b[] = { { HDRS, 16, false }, { DATA + 512, 512, true }, { HDRS + 0x3000, 1, true } };
    tq_add(&t2, b, 3);
    vmmio_notify(&b2.mmio, 0);
    assert_int_equal(tq_used_idx(&t2), 0);
    assert_int_equal(vmmio_wake_ns(&b2.mmio), S);
    fake_now = S;
    vmmio_timer(&b2.mmio);
    assert_int_equal(tq_used_idx(&t2), 1);
    assert_int_equal(b2.stats.read_throttled_ns, S);
    assert_int_equal(e->b.stats.read_throttled_ns, 0);
}

struct failing {
    int rc;
    unsigned calls;
};

static int f_io(void *ctx, struct iovec *iov, int n, uint64_t off)
{
    (void)iov, (void)n, (void)off;
    ((struct failing *)ctx)->calls++;
    return ((struct failing *)ctx)->rc;
}

static int f_flush(void *ctx)
{
    ((struct failing *)ctx)->calls++;
    return ((struct failing *)ctx)->rc;
}

static void test_backend_errors(void **state)
{
    struct env *e = *state;
    struct failing fl = { -EIO, 0 };
    struct vblk_backend be = { f_io, f_io, f_flush, &fl, 1000 }; /* one whole sector */
    struct vblk_cfg cfg = { 0 };
    assert_int_equal(vblk_init(&e->b, &e->f.ram, &be, &cfg), 0);
    e->b.mmio.clock = fake_clock;
    tq_init(&e->t, &e->f, 16, QBASE);
    drv_setup(&e->b.mmio, &e->t, 1);
    uint64_t st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    st = req(e, VIRTIO_BLK_T_OUT, 0, DATA, 512, false);
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    st = req(e, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    st = req(e, VIRTIO_BLK_T_IN, 1, DATA, 512, true); /* the partial second sector is not there */
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    assert_int_equal(fl.calls, 3);
    assert_int_equal(e->b.stats.io_errors, 4);
    assert_int_equal(e->b.stats.read_bytes + e->b.stats.write_bytes, 0);
    /* the bytes of a failed transfer go back to the bucket: the next read does not wait */
    struct io_throttle rd;
    struct io_limit l = limit(0, 1024);
    io_throttle_init(&rd, &l, 0);
    cfg.rd = &rd;
    assert_int_equal(vblk_init(&e->b, &e->f.ram, &be, &cfg), 0);
    e->b.mmio.clock = fake_clock;
    tq_init(&e->t, &e->f, 16, QBASE);
    drv_setup(&e->b.mmio, &e->t, 1);
    st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    expect_done(e, st, VIRTIO_BLK_S_IOERR, 1);
    fl.rc = 0;
    st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    st = req(e, VIRTIO_BLK_T_IN, 0, DATA, 512, true);
    vmmio_notify(&e->b.mmio, 0);
    assert_int_equal(vmmio_wake_ns(&e->b.mmio), 0);
    assert_int_equal(tq_used_idx(&e->t), 3);
    assert_int_equal(e->b.stats.read_throttled_ns, 0);
    be.size = 511;
    assert_int_equal(vblk_init(&e->b, &e->f.ram, &be, &cfg), -EINVAL);
    be.size = 512;
    be.flush = NULL;
    assert_int_equal(vblk_init(&e->b, &e->f.ram, &be, &cfg), -EINVAL);
}

static void test_raw_open(void **state)
{
    (void)state;
    struct vblk_raw r;
    struct vblk_backend be;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(vblk_raw_open(&r, p[0], &be), -EINVAL);
    close(p[0]);
    close(p[1]);
    assert_int_equal(vblk_raw_open(&r, -1, &be), -EBADF);
    int fd = memfd_create("small", 0);
    assert_int_equal(vblk_raw_open(&r, fd, &be), -EINVAL); /* empty */
    assert_int_equal(ftruncate(fd, 1000), 0);
    assert_int_equal(vblk_raw_open(&r, fd, &be), 0);
    assert_int_equal(be.size, 1000);
    /* a read of the one whole sector, into pieces */
    uint8_t a[100], b[412];
    struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };
    assert_int_equal(pwrite(fd, "xyz", 3, 99), 3);
    assert_int_equal(be.readv(be.ctx, iov, 2, 0), 0);
    assert_int_equal(a[99], 'x');
    assert_int_equal(b[0], 'y');
    /* the file shrinks under the disk: a short read is an error */
    assert_int_equal(ftruncate(fd, 100), 0);
    struct iovec again[2] = { { a, sizeof a }, { b, sizeof b } };
    assert_int_equal(be.readv(be.ctx, again, 2, 0), -EIO);
    assert_int_equal(be.flush(be.ctx), 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_and_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_layouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_over_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttle_bytes_larger_than_bucket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_mid_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_disks_share_buckets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backend_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
