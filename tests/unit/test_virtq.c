/* Unit tests for the split virtqueue: crafted rings over fake guest RAM, every malformation refused. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "devices/virtio/virtq.h"
#include "virtio_fixture.h"

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4
#define QBASE 0x10000ull  /* rings */
#define BUF 0x40000ull    /* buffers */

struct env {
    struct fake_ram f;
    struct tq t;       /* the driver's view */
    struct virtq q;    /* the device's */
    struct virtq_chain c;
};

static void setup_q(struct env *e, uint16_t size)
{
    tq_init(&e->t, &e->f, size, QBASE);
    assert_int_equal(virtq_init(&e->q, &e->f.ram, 256), 0);
    e->q.size = size;
    e->q.desc_gpa = e->t.desc;
    e->q.avail_gpa = e->t.avail;
    e->q.used_gpa = e->t.used;
    assert_int_equal(virtq_enable(&e->q), 0);
}

static int setup(void **state)
{
    static struct env e;
    memset(&e, 0, sizeof(e));
    fake_ram_init(&e.f);
    setup_q(&e, 8);
    *state = &e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    fake_ram_free(&e->f);
    return 0;
}

static void test_init_sizes(void **state)
{
    struct env *e = *state;
    struct virtq q;
    assert_int_equal(virtq_init(&q, &e->f.ram, 0), -EINVAL);
    assert_int_equal(virtq_init(&q, &e->f.ram, 3), -EINVAL);
    assert_int_equal(virtq_init(&q, &e->f.ram, 512), -EINVAL);
    assert_int_equal(virtq_init(&q, &e->f.ram, 1), 0);
    assert_int_equal(virtq_init(&q, &e->f.ram, 256), 0);
}

static void test_enable_rules(void **state)
{
    struct env *e = *state;
    struct virtq q;
    assert_int_equal(virtq_enable(&e->q), -EINVAL); /* already ready */
    struct { uint16_t size; uint64_t desc, avail, used; int rc; } cases[] = {
        { 8, QBASE, QBASE + 0x100, QBASE + 0x200, 0 },
        { 0, QBASE, QBASE + 0x100, QBASE + 0x200, -EINVAL },      /* no size */
        { 6, QBASE, QBASE + 0x100, QBASE + 0x200, -EINVAL },      /* not a power of two */
        { 16, QBASE, QBASE + 0x100, QBASE + 0x200, 0 },
        { 32, QBASE, QBASE + 0x200, QBASE + 0x300, -EINVAL },     /* above num_max 16 */
        { 8, QBASE + 8, QBASE + 0x100, QBASE + 0x200, -EINVAL },  /* desc not 16-aligned */
        { 8, QBASE, QBASE + 0x101, QBASE + 0x200, -EINVAL },      /* avail not 2-aligned */
        { 8, QBASE, QBASE + 0x100, QBASE + 0x202, -EINVAL },      /* used not 4-aligned */
        { 8, FR_LOW_SIZE - 0x40, QBASE, QBASE + 0x200, -EFAULT }, /* desc runs out of RAM */
        { 8, QBASE, FR_LOW_SIZE - 4, QBASE + 0x200, -EFAULT },    /* avail runs out of RAM */
        { 8, QBASE, QBASE + 0x100, FR_LOW_SIZE - 8, -EFAULT },    /* used runs out of RAM */
        { 8, 0x80000000ull, QBASE + 0x100, QBASE + 0x200, -EFAULT }, /* not RAM at all */
        { 8, FR_TOP_GPA + FR_TOP_SIZE - 0x40, QBASE, QBASE + 0x200, -EFAULT }, /* past the top region */
        { 8, UINT64_MAX - 0xf, QBASE, QBASE + 0x200, -EFAULT },   /* wraps */
        { 8, FR_HIGH_GPA, FR_HIGH_GPA + 0x100, FR_HIGH_GPA + 0x200, 0 }, /* above 4 GiB */
        { 8, FR_TOP_GPA, FR_TOP_GPA + 0x100, FR_TOP_GPA + 0x200, 0 },    /* near 2^64 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(virtq_init(&q, &e->f.ram, 16), 0);
        q.size = cases[i].size;
        q.desc_gpa = cases[i].desc;
        q.avail_gpa = cases[i].avail;
        q.used_gpa = cases[i].used;
        assert_int_equal(virtq_enable(&q), cases[i].rc);
        assert_int_equal(q.ready, cases[i].rc == 0);
        struct virtq_chain c;
        if (!q.ready) /* a queue that is not ready gives nothing and takes nothing */
            assert_int_equal(virtq_pop(&q, &c), 0);
        if (!q.ready)
            assert_int_equal(virtq_push(&q, 0, 0), -EINVAL);
    }
}

static void test_pop_push(void **state)
{
    struct env *e = *state;
    assert_int_equal(virtq_pop(&e->q, &e->c), 0); /* empty */
    memcpy(fr_ptr(&e->f, BUF, 5), "hello", 5);
    struct tbuf b[] = { { BUF, 3, false }, { BUF + 3, 2, false }, { BUF + 0x100, 4, true },
                        { FR_HIGH_GPA, 6, true } };
    uint16_t head = tq_add(&e->t, b, 4);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(e->c.head, head);
    assert_int_equal(e->c.nseg, 4);
    assert_int_equal(e->c.nread, 2);
    assert_int_equal(e->c.read_len, 5);
    assert_int_equal(e->c.write_len, 10);
    char got[6] = { 0 };
    assert_int_equal(virtq_chain_read(&e->q, &e->c, 0, got, 5), 0);
    assert_string_equal(got, "hello");
    assert_int_equal(virtq_chain_read(&e->q, &e->c, 2, got, 3), 0);
    assert_memory_equal(got, "llo", 3);
    assert_int_equal(virtq_chain_read(&e->q, &e->c, 2, got, 4), -EINVAL); /* past the part */
    assert_int_equal(virtq_chain_write(&e->q, &e->c, 2, "abcdefgh", 8), 0);
    assert_memory_equal(fr_ptr(&e->f, BUF + 0x102, 2), "ab", 2);
    assert_memory_equal(fr_ptr(&e->f, FR_HIGH_GPA, 6), "cdefgh", 6);
    assert_int_equal(virtq_chain_write(&e->q, &e->c, 3, "x", 8), -EINVAL);
    assert_int_equal(virtq_chain_write(&e->q, &e->c, UINT64_MAX, "x", 1), -EINVAL);
    assert_int_equal(virtq_pop(&e->q, &e->c), 0);
    assert_int_equal(virtq_push(&e->q, head, 10), 0);
    uint32_t id, len;
    assert_true(tq_used(&e->t, &id, &len));
    assert_int_equal(id, head);
    assert_int_equal(len, 10);
    assert_false(tq_used(&e->t, &id, &len));
    assert_int_equal(virtq_push(&e->q, 8, 0), -EINVAL); /* head out of range: refused */
    assert_int_equal(e->q.error, 0);
}

static void test_iov(void **state)
{
    struct env *e = *state;
    struct tbuf b[] = { { BUF, 16, false }, { BUF + 0x100, 100, true }, { BUF + 0x200, 50, true },
                        { BUF + 0x300, 1, true } };
    tq_add(&e->t, b, 4);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    struct iovec iov[4];
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, true, 0, 150, iov, 4), 2);
    assert_ptr_equal(iov[0].iov_base, fr_ptr(&e->f, BUF + 0x100, 1));
    assert_int_equal(iov[0].iov_len, 100);
    assert_int_equal(iov[1].iov_len, 50);
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, true, 90, 61, iov, 4), 3);
    assert_ptr_equal(iov[0].iov_base, fr_ptr(&e->f, BUF + 0x100 + 90, 1));
    assert_int_equal(iov[0].iov_len, 10);
    assert_int_equal(iov[2].iov_len, 1);
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, true, 90, 61, iov, 2), -EINVAL); /* max */
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, true, 0, 152, iov, 4), -EINVAL);
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, true, 151, 0, iov, 4), 0);
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, false, 4, 12, iov, 4), 1);
    assert_int_equal(virtq_chain_iov(&e->q, &e->c, false, 4, 13, iov, 4), -EINVAL);
}

/* Publish head as the next avail entry and expect virtq_pop to refuse the chain with err, then
 * stay broken without looking at the ring again. */
static void expect_broken(struct env *e, uint16_t head, int err)
{
    uint16_t used = tq_used_idx(&e->t);
    tq_publish(&e->t, head);
    assert_int_equal(virtq_pop(&e->q, &e->c), err);
    assert_int_equal(e->q.error, err);
    /* repaired by the driver: still broken (the device stopped looking) */
    tq_desc(&e->t, 0, BUF, 16, 0, 0);
    tq_publish(&e->t, 0);
    assert_int_equal(virtq_pop(&e->q, &e->c), err);
    assert_int_equal(virtq_push(&e->q, 0, 0), err);
    assert_false(virtq_needs_interrupt(&e->q));
    assert_false(virtq_has_avail(&e->q));
    assert_int_equal(tq_used_idx(&e->t), used);
}

static void test_malformed_chains(void **state)
{
    struct env *e = *state;
    struct {
        struct { uint16_t i; uint32_t len; uint16_t flags, next; } d[3];
        unsigned n;
        uint16_t head;
        int err;
    } cases[] = {
        { { { 0, 16, F_NEXT, 1 }, { 1, 16, F_NEXT, 2 }, { 2, 16, F_NEXT, 0 } }, 3, 0, -ELOOP },
        { { { 3, 16, F_NEXT | F_WRITE, 3 } }, 1, 3, -ELOOP },             /* onto itself */
        { { { 0, 16, F_NEXT, 8 } }, 1, 0, -ERANGE },                      /* next out of range */
        { { { 0 } }, 0, 0xffff, -ERANGE },                                /* head out of range */
        { { { 0, 16, F_INDIRECT, 0 } }, 1, 0, -EOPNOTSUPP },
        { { { 0, 16, F_NEXT, 1 }, { 1, 0, F_WRITE, 0 } }, 2, 0, -EINVAL }, /* zero length */
        { { { 0, 16, F_WRITE | F_NEXT, 1 }, { 1, 16, 0, 0 } }, 2, 0, -EINVAL }, /* readable after writable */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        setup_q(e, 8);
        for (unsigned i = 0; i < cases[k].n; i++)
            tq_desc(&e->t, cases[k].d[i].i, BUF, cases[k].d[i].len, cases[k].d[i].flags, cases[k].d[i].next);
        expect_broken(e, cases[k].head, cases[k].err);
    }
}

static void test_chain_as_long_as_queue(void **state)
{
    struct env *e = *state;
    /* all 8 descriptors in one chain, in a scrambled order: fine */
    static const uint16_t order[8] = { 5, 2, 7, 0, 3, 6, 1, 4 };
    for (int i = 0; i < 8; i++)
        tq_desc(&e->t, order[i], BUF + 0x100 * i, 0x100, i < 7 ? F_NEXT : 0, i < 7 ? order[i + 1] : 0);
    tq_publish(&e->t, 5);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(e->c.nseg, 8);
    assert_int_equal(e->c.read_len, 0x800);
    for (int i = 0; i < 8; i++)
        assert_int_equal(e->c.seg[i].gpa, BUF + 0x100 * i);
    /* the same with the last one pointing back into the chain: one too many */
    assert_int_equal(virtq_push(&e->q, 5, 0), 0);
    tq_desc(&e->t, 4, BUF, 0x100, F_NEXT, 7);
    expect_broken(e, 5, -ELOOP);
}

static void test_buffer_outside_ram(void **state)
{
    struct {
        uint64_t addr;
        uint32_t len;
    } bad[] = {
        { FR_LOW_SIZE - 8, 9 },                    /* runs past low RAM */
        { FR_LOW_SIZE, 1 },                        /* the hole */
        { 0x80000000ull, 0x1000 },
        { FR_HIGH_GPA - 1, 2 },                    /* starts in the hole */
        { FR_HIGH_GPA, 0xffffffffu },              /* huge */
        { FR_TOP_GPA + FR_TOP_SIZE - 0x10, 0x11 }, /* past the top region */
        { UINT64_MAX - 0xf, 0x20 },                /* wraps to 0x10, which is RAM */
        { UINT64_MAX, 1 },
        { UINT64_MAX, 0xffffffffu },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct env *e = *state;
        setup_q(e, 8);
        tq_desc(&e->t, 1, bad[i].addr, bad[i].len, F_WRITE, 0);
        expect_broken(e, 1, -EFAULT);
    }
    /* the last byte below the top region's end is fine */
    struct env *e = *state;
    setup_q(e, 8);
    tq_desc(&e->t, 1, FR_TOP_GPA + FR_TOP_SIZE - 0x10, 0x10, F_WRITE, 0);
    tq_publish(&e->t, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_chain_write(&e->q, &e->c, 0, "0123456789abcdef", 16), 0);
    assert_memory_equal(fr_ptr(&e->f, FR_TOP_GPA + FR_TOP_SIZE - 0x10, 16), "0123456789abcdef", 16);
}

static void test_total_length_limit(void **state)
{
    struct env *e = *state;
    /* 2 GiB of address space never touched (MAP_NORESERVE): two 2 GiB buffers in one chain make
     * 2^32 bytes, one more than a used length can say */
    const uint64_t big_gpa = 0x200000000ull, big = 1ull << 31;
    void *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(m != MAP_FAILED);
    assert_int_equal(guest_ram_add(&e->f.ram, big_gpa, big, m), 0);
    tq_desc(&e->t, 0, big_gpa, (uint32_t)(big - 1), F_NEXT, 1);
    tq_desc(&e->t, 1, big_gpa, (uint32_t)(big - 1), F_NEXT, 2);
    tq_desc(&e->t, 2, BUF, 1, F_WRITE, 0);
    tq_publish(&e->t, 0);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1); /* 2^32 - 1 in all: the most there can be */
    assert_int_equal(e->c.read_len, UINT32_MAX - 1);
    assert_int_equal(e->c.write_len, 1);
    assert_int_equal(virtq_push(&e->q, 0, 0), 0);
    tq_desc(&e->t, 2, BUF, 2, F_WRITE, 0);
    expect_broken(e, 0, -EMSGSIZE);
    e->f.ram.nregions--;
    munmap(m, big);
}

static void test_heads_in_flight(void **state)
{
    struct env *e = *state;
    struct tbuf b = { BUF, 16, false };
    uint16_t h0 = tq_add(&e->t, &b, 1), h1 = tq_add(&e->t, &b, 1);
    assert_int_equal(virtq_push(&e->q, h0, 0), -ENOENT); /* not popped yet */
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_push(&e->q, h1, 0), 0);        /* out of order is fine */
    assert_int_equal(virtq_push(&e->q, h1, 0), -ENOENT);  /* but only once */
    assert_int_equal(virtq_push(&e->q, 7, 0), -ENOENT);
    assert_int_equal(e->q.error, 0);
    tq_publish(&e->t, h1);                                /* given back: may come again */
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(e->c.head, h1);
    uint16_t used = tq_used_idx(&e->t);
    expect_broken(e, h0, -EBUSY);                         /* still in flight: offered again */
    assert_int_equal(tq_used_idx(&e->t), used);
}

static void test_avail_jump(void **state)
{
    struct env *e = *state;
    struct tbuf b = { BUF, 16, false };
    for (int i = 0; i < 8; i++)
        tq_add(&e->t, &b, 1);
    /* exactly the queue size ahead: fine */
    for (int i = 0; i < 8; i++)
        assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 0);
    /* 9 ahead of what was taken */
    tq_set_avail_idx(&e->t, 8 + 9);
    assert_int_equal(virtq_pop(&e->q, &e->c), -EPROTO);
}

static void test_avail_backwards(void **state)
{
    struct env *e = *state;
    struct tbuf b = { BUF, 16, false };
    tq_add(&e->t, &b, 1);
    tq_add(&e->t, &b, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    /* seen 2, taken 1: the index moving back to 1 is within the size of what was taken, but
     * it went backwards from what was seen */
    tq_set_avail_idx(&e->t, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), -EPROTO);
}

static void test_avail_jump_from_seen(void **state)
{
    struct env *e = *state;
    struct tbuf b = { BUF, 16, false };
    tq_add(&e->t, &b, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    tq_set_avail_idx(&e->t, 0x8000); /* a jump of half the index space */
    assert_int_equal(virtq_pop(&e->q, &e->c), -EPROTO);
}

static void test_index_wrap(void **state)
{
    struct env *e = *state;
    /* 70000 chains one at a time: the free-running 16-bit indices wrap past 65535 */
    for (unsigned i = 0; i < 70000; i++) {
        struct tbuf b = { BUF + (i % 64), 1 + (i % 7), (i & 1) != 0 };
        uint16_t head = tq_add(&e->t, &b, 1);
        assert_int_equal(virtq_pop(&e->q, &e->c), 1);
        assert_int_equal(e->c.head, head);
        assert_int_equal(virtq_push(&e->q, e->c.head, i), 0);
        uint32_t id, len;
        assert_true(tq_used(&e->t, &id, &len));
        assert_int_equal(id, head);
        assert_int_equal(len, i);
    }
    assert_int_equal(tq_used_idx(&e->t), (uint16_t)70000);
    assert_int_equal(e->q.error, 0);
}

static void test_buffers_over_the_queue(void **state)
{
    struct env *e = *state;
    /* a writable buffer over the descriptor table itself, and a readable one over the avail
     * ring: the device writes over the table; its copy of the chain is unaffected */
    tq_desc(&e->t, 0, e->t.avail, 4 + 2 * 8, F_NEXT, 1);
    tq_desc(&e->t, 1, e->t.desc, 16 * 8, F_WRITE, 0);
    tq_publish(&e->t, 0);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    uint8_t junk[128];
    memset(junk, 0xff, sizeof junk);
    assert_int_equal(virtq_chain_write(&e->q, &e->c, 0, junk, sizeof junk), 0);
    assert_int_equal(e->c.seg[1].gpa, e->t.desc);
    assert_int_equal(virtq_push(&e->q, e->c.head, 128), 0);
    /* the next chain reads the junk: refused, never followed */
    tq_publish(&e->t, 2);
    assert_int_equal(virtq_pop(&e->q, &e->c), -EOPNOTSUPP);
    /* a writable buffer over the used ring: the device's own writes land after the data */
    setup_q(e, 8);
    tq_desc(&e->t, 0, e->t.used, 4 + 8 * 8, F_WRITE, 0);
    tq_publish(&e->t, 0);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_chain_write(&e->q, &e->c, 0, junk, 4 + 8 * 8), 0);
    assert_int_equal(virtq_push(&e->q, e->c.head, 1), 0);
    uint16_t idx;
    memcpy(&idx, fr_ptr(&e->f, e->t.used + 2, 2), 2);
    assert_int_equal(idx, 1);
}

static void test_interrupt_suppression(void **state)
{
    struct env *e = *state;
    assert_true(virtq_needs_interrupt(&e->q));
    tq_set_avail_flags(&e->t, 1); /* VRING_AVAIL_F_NO_INTERRUPT */
    assert_false(virtq_needs_interrupt(&e->q));
    tq_set_avail_flags(&e->t, 0);
    assert_true(virtq_needs_interrupt(&e->q));
}

static void test_has_avail_and_reset(void **state)
{
    struct env *e = *state;
    assert_false(virtq_has_avail(&e->q));
    struct tbuf b = { BUF, 16, false };
    tq_add(&e->t, &b, 1);
    assert_true(virtq_has_avail(&e->q));
    tq_desc(&e->t, 0, BUF, 16, F_NEXT, 0); /* loops onto itself */
    assert_int_equal(virtq_pop(&e->q, &e->c), -ELOOP);
    virtq_reset(&e->q);
    assert_false(e->q.ready);
    assert_int_equal(e->q.error, 0);
    assert_int_equal(e->q.size, 0);
    assert_int_equal(e->q.num_max, 256);
    assert_int_equal(virtq_pop(&e->q, &e->c), 0);
    setup_q(e, 8);
    tq_add(&e->t, &b, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
}

static void test_queue_of_one(void **state)
{
    struct env *e = *state;
    setup_q(e, 1);
    struct tbuf b[2] = { { BUF, 16, false }, { BUF, 16, true } };
    tq_add(&e->t, b, 1);
    assert_int_equal(virtq_pop(&e->q, &e->c), 1);
    assert_int_equal(virtq_push(&e->q, 0, 0), 0);
    tq_desc(&e->t, 0, BUF, 16, F_NEXT, 0); /* a two-descriptor chain in a queue of one */
    expect_broken(e, 0, -ELOOP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pop_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iov, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_as_long_as_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_total_length_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heads_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_backwards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_jump_from_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffers_over_the_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_suppression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_has_avail_and_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_of_one, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
