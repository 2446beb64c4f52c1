/* Unit tests for the job port: the length and its rewind, the bytes, past the end, no job, stray accesses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/job_port.h"

static uint32_t rd_len(struct job_port *p)
{
    uint8_t b[8];
    memset(b, 0xaa, sizeof b);
    assert_int_equal(job_port_read(p, 0, b, 4), 0);
    assert_int_equal(b[4], 0xaa); /* 4 bytes written, no more */
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint8_t rd_byte(struct job_port *p)
{
    uint8_t b[8];
    memset(b, 0xaa, sizeof b);
    assert_int_equal(job_port_read(p, 4, b, 1), 0);
    assert_int_equal(b[1], 0xaa);
    return b[0];
}

static void test_no_job(void **state)
{
    (void)state;
    struct job_port p;
    memset(&p, 0x5a, sizeof p);
    job_port_init(&p);
    assert_int_equal(rd_len(&p), 0);
    assert_int_equal(rd_byte(&p), 0);
    assert_int_equal(rd_byte(&p), 0);
    assert_int_equal(p.pos, 0);
    assert_int_equal(p.bytes, 0);
    assert_int_equal(p.ignored, 0);
    /* an empty job is no job, and so is a NULL one whatever its length */
    job_port_set(&p, "x", 0);
    assert_int_equal(rd_len(&p), 0);
    assert_int_equal(rd_byte(&p), 0);
    job_port_set(&p, NULL, 5);
    assert_int_equal(rd_len(&p), 0);
    assert_int_equal(rd_byte(&p), 0);
    assert_int_equal(p.bytes, 0);
}

static void test_length_and_bytes(void **state)
{
    (void)state;
    static const char job[] = "version 1\narg /bin/true\n";
    uint32_t n = sizeof job - 1;
    struct job_port p;
    job_port_init(&p);
    job_port_set(&p, job, n);
    assert_int_equal(rd_len(&p), n);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(rd_byte(&p), (uint8_t)job[i]);
    assert_int_equal(p.pos, n);
    assert_int_equal(p.bytes, n);
    assert_int_equal(p.ignored, 0);

    /* the length little-endian, all four bytes of it (no byte is read: the file need not be there) */
    job_port_set(&p, job, 0x01020304);
    uint8_t b[8];
    assert_int_equal(job_port_read(&p, 0, b, 4), 0);
    assert_int_equal(b[0], 0x04);
    assert_int_equal(b[1], 0x03);
    assert_int_equal(b[2], 0x02);
    assert_int_equal(b[3], 0x01);
    job_port_set(&p, job, UINT32_MAX);
    assert_int_equal(rd_len(&p), UINT32_MAX);
}

static void test_rewind(void **state)
{
    (void)state;
    static const uint8_t job[] = {'a', 0, 0xff, 'b'};
    struct job_port p;
    job_port_init(&p);
    job_port_set(&p, job, sizeof job);
    assert_int_equal(rd_byte(&p), 'a'); /* before any length read: from the start */
    assert_int_equal(rd_byte(&p), 0);
    assert_int_equal(rd_len(&p), 4);    /* rewinds */
    assert_int_equal(p.pos, 0);
    for (size_t i = 0; i < sizeof job; i++)
        assert_int_equal(rd_byte(&p), job[i]);
    assert_int_equal(rd_len(&p), 4);
    assert_int_equal(rd_byte(&p), 'a');
    assert_int_equal(p.bytes, 2 + 4 + 1); /* every byte given counts, rewinds included */
    /* a new job rewinds too */
    static const char other[] = "xy";
    job_port_set(&p, other, 2);
    assert_int_equal(rd_byte(&p), 'x');
    assert_int_equal(rd_len(&p), 2);
}

static void test_past_the_end(void **state)
{
    (void)state;
    static const char job[] = "ab";
    struct job_port p;
    job_port_init(&p);
    job_port_set(&p, job, 2);
    assert_int_equal(rd_len(&p), 2);
    assert_int_equal(rd_byte(&p), 'a');
    assert_int_equal(rd_byte(&p), 'b');
    for (int i = 0; i < 1000; i++)
        assert_int_equal(rd_byte(&p), 0); /* zeros, never wrapping round to the start */
    assert_int_equal(p.pos, 2);
    assert_int_equal(p.bytes, 2);
    assert_int_equal(p.ignored, 0);
    assert_int_equal(rd_len(&p), 2);
    assert_int_equal(rd_byte(&p), 'a');
}

/* A read that must be ignored: all ones in min(size, 8) bytes, nothing past them, nothing moved. */
static void ignored_read(struct job_port *p, uint64_t offset, uint32_t size)
{
    uint8_t b[16];
    memset(b, 0xaa, sizeof b);
    uint32_t pos = p->pos;
    uint64_t ign = p->ignored, bytes = p->bytes;
    assert_int_equal(job_port_read(p, offset, b, size), -EINVAL);
    uint32_t n = size < 8 ? size : 8;
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(b[i], 0xff);
    for (uint32_t i = n; i < sizeof b; i++)
        assert_int_equal(b[i], 0xaa);
    assert_int_equal(p->pos, pos);
    assert_int_equal(p->bytes, bytes);
    assert_int_equal(p->ignored, ign + 1);
}

static void test_bad_reads(void **state)
{
    (void)state;
    static const char job[] = "abc";
    struct job_port p;
    job_port_init(&p);
    job_port_set(&p, job, 3);
    assert_int_equal(rd_byte(&p), 'a');
    /* the length register at other sizes, the byte register at other sizes */
    ignored_read(&p, 0, 1);
    ignored_read(&p, 0, 2);
    ignored_read(&p, 0, 8);
    ignored_read(&p, 4, 2);
    ignored_read(&p, 4, 4);
    ignored_read(&p, 4, 0);
    /* the other offsets of the range, and beyond it */
    for (uint64_t off = 1; off < ISOVM_JOB_PORT_LEN; off++)
        if (off != 4) {
            ignored_read(&p, off, 1);
            ignored_read(&p, off, 4);
        }
    ignored_read(&p, ISOVM_JOB_PORT_LEN, 1);
    ignored_read(&p, UINT64_MAX, 4);
    ignored_read(&p, 0, UINT32_MAX); /* never past the 8-byte buffer */
    assert_int_equal(p.ignored, 6 + 2 * 6 + 3);
    /* the port still works: the next byte is where it was */
    assert_int_equal(rd_byte(&p), 'b');
    assert_int_equal(rd_len(&p), 3);
}

static void test_writes_ignored(void **state)
{
    (void)state;
    static const char job[] = "abc";
    struct job_port p;
    job_port_init(&p);
    job_port_set(&p, job, 3);
    assert_int_equal(rd_byte(&p), 'a');
    uint8_t b[8] = {0};
    uint32_t zero = 0;
    assert_int_equal(job_port_write(&p, 0, &zero, 4), -EINVAL); /* not a rewind, nor a length */
    assert_int_equal(job_port_write(&p, 4, b, 1), -EINVAL);
    assert_int_equal(job_port_write(&p, 4, b, 8), -EINVAL);
    assert_int_equal(job_port_write(&p, UINT64_MAX, b, UINT32_MAX), -EINVAL);
    assert_int_equal(p.ignored, 4);
    assert_int_equal(p.len, 3);
    assert_int_equal(p.pos, 1);
    assert_int_equal(rd_byte(&p), 'b');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_job),
        cmocka_unit_test(test_length_and_bytes),
        cmocka_unit_test(test_rewind),
        cmocka_unit_test(test_past_the_end),
        cmocka_unit_test(test_bad_reads),
        cmocka_unit_test(test_writes_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
