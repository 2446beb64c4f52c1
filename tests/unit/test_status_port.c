/* Unit tests for the status port: phases once each, the first end word, stray and malformed accesses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/status_port.h"

struct ends {
    unsigned calls;
    uint8_t kind;
    uint32_t detail;
};

static void on_end(void *ctx, uint8_t kind, uint32_t detail)
{
    struct ends *e = ctx;
    e->calls++;
    e->kind = kind;
    e->detail = detail;
}

static int wr32(struct status_port *p, uint32_t v, uint64_t now)
{
    return status_port_write(p, 0, &v, 4, now);
}

static void test_read_gives_zeros(void **state)
{
    (void)state;
    struct status_port p;
    status_port_init(&p, NULL, NULL);
    uint8_t b[16];
    memset(b, 0xaa, sizeof b);
    assert_int_equal(status_port_read(&p, 0, b, 4), -EINVAL);
    assert_int_equal(b[0] | b[3], 0);
    memset(b, 0xaa, sizeof b);
    assert_int_equal(status_port_read(&p, UINT64_MAX, b, UINT32_MAX), -EINVAL);
    assert_int_equal(b[7], 0);
    assert_int_equal(b[8], 0xaa); /* never past the 8-byte buffer */
    assert_int_equal(p.ignored, 2);
}

static void test_phases_once(void **state)
{
    (void)state;
    struct status_port p;
    struct ends e = {0};
    status_port_init(&p, on_end, &e);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_INIT_START), 100), 0);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_INIT_START), 200), -EINVAL);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_JOB_START), 300), 0);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, 0), 300), -EINVAL);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_MAX + 1), 300), -EINVAL);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, 0xffffff), 300), -EINVAL);
    assert_int_equal(p.phase_ns[ISOVM_PHASE_INIT_START], 100);
    assert_int_equal(p.phase_ns[ISOVM_PHASE_JOB_START], 300);
    assert_int_equal(p.phase_ns[ISOVM_PHASE_ROOT_READY], 0);
    assert_int_equal(p.ignored, 4);
    assert_int_equal(e.calls, 0);
    assert_false(p.ended);
    assert_int_equal(status_port_exit_status(&p), -1);
}

static void test_ends(void **state)
{
    (void)state;
    static const struct {
        uint32_t word;
        int status;
    } cases[] = {
        {ISOVM_STATUS(ISOVM_STATUS_EXIT, 0), 0},
        {ISOVM_STATUS(ISOVM_STATUS_EXIT, 42), 42},
        {ISOVM_STATUS(ISOVM_STATUS_EXIT, 255), 255},
        {ISOVM_STATUS(ISOVM_STATUS_SIGNAL, 9), 137},
        {ISOVM_STATUS(ISOVM_STATUS_OOM, 137), 137},
        {ISOVM_STATUS(ISOVM_INIT_ERROR, ISOVM_INIT_ERROR_DETAIL(ISOVM_STAGE_ROOT, EINVAL)), 125},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct status_port p;
        struct ends e = {0};
        status_port_init(&p, on_end, &e);
        assert_int_equal(wr32(&p, cases[i].word, 5), 0);
        assert_int_equal(e.calls, 1);
        assert_int_equal(e.kind, ISOVM_STATUS_KIND(cases[i].word));
        assert_int_equal(e.detail, ISOVM_STATUS_DETAIL(cases[i].word));
        assert_int_equal(status_port_exit_status(&p), cases[i].status);
        /* a second end, and a phase after the end, change nothing */
        assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_EXIT, 7), 6), -EINVAL);
        assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_JOB_END), 6), -EINVAL);
        assert_int_equal(e.calls, 1);
        assert_int_equal(status_port_exit_status(&p), cases[i].status);
        assert_int_equal(p.phase_ns[ISOVM_PHASE_JOB_END], 0);
    }
}

static void test_malformed_ignored(void **state)
{
    (void)state;
    struct status_port p;
    struct ends e = {0};
    status_port_init(&p, on_end, &e);
    uint32_t exit0 = ISOVM_STATUS(ISOVM_STATUS_EXIT, 0);
    uint8_t big[8] = {0};
    memcpy(big, &exit0, 4);
    assert_int_equal(status_port_write(&p, 0, &exit0, 2, 1), -EINVAL);  /* outw */
    assert_int_equal(status_port_write(&p, 0, &exit0, 1, 1), -EINVAL);  /* outb */
    assert_int_equal(status_port_write(&p, 0, big, 8, 1), -EINVAL);
    assert_int_equal(status_port_write(&p, 1, &exit0, 4, 1), -EINVAL);
    assert_int_equal(status_port_write(&p, UINT64_MAX, &exit0, 4, 1), -EINVAL);
    assert_int_equal(wr32(&p, 0, 1), -EINVAL);                                   /* kind 0 */
    assert_int_equal(wr32(&p, 6u << 24, 1), -EINVAL);                            /* unknown kind */
    assert_int_equal(wr32(&p, 0xffffffffu, 1), -EINVAL);
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_EXIT, 256), 1), -EINVAL); /* not a status */
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_SIGNAL, 0x1000), 1), -EINVAL);
    assert_int_equal(p.ignored, 10);
    assert_int_equal(e.calls, 0);
    assert_false(p.ended);
    /* then a good end still ends the job */
    assert_int_equal(wr32(&p, ISOVM_STATUS(ISOVM_STATUS_EXIT, 3), 1), 0);
    assert_int_equal(status_port_exit_status(&p), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_gives_zeros),
        cmocka_unit_test(test_phases_once),
        cmocka_unit_test(test_ends),
        cmocka_unit_test(test_malformed_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
