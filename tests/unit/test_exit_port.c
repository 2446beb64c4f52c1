/* Unit tests for the exit port: its ID, the write-once end word, stray and malformed accesses. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "devices/exit_port.h"

struct ends {
    unsigned calls;
    uint8_t reason, code;
};

static void on_end(void *ctx, uint8_t reason, uint8_t code)
{
    struct ends *e = ctx;
    e->calls++;
    e->reason = reason;
    e->code = code;
}

static int wr32(struct exit_port *p, uint64_t off, uint32_t v)
{
    return exit_port_write(p, off, &v, 4);
}

static void test_id(void **state)
{
    (void)state;
    struct exit_port p;
    exit_port_init(&p, NULL, NULL);
    uint8_t b[16];
    memset(b, 0xaa, sizeof b);
    assert_int_equal(exit_port_read(&p, EXIT_PORT_ID_REG, b, 4), 0);
    assert_memory_equal(b, "ISVX", 4);
    assert_int_equal(b[4], 0xaa);
    memset(b, 0xaa, sizeof b);
    assert_int_equal(exit_port_read(&p, EXIT_PORT_ID_REG, b, 2), -EINVAL);
    assert_int_equal(b[0], 0);
    assert_int_equal(b[2], 0xaa);
    assert_int_equal(exit_port_read(&p, EXIT_PORT_END_REG, b, 4), -EINVAL);
    assert_int_equal(exit_port_read(&p, 2, b, 4), -EINVAL);
    memset(b, 0xaa, sizeof b);
    assert_int_equal(exit_port_read(&p, UINT64_MAX, b, UINT32_MAX), -EINVAL);
    assert_int_equal(b[7], 0);
    assert_int_equal(b[8], 0xaa); /* never past the 8-byte buffer */
    assert_int_equal(p.ignored, 4);
}

static void test_end(void **state)
{
    (void)state;
    struct ends e = { 0 };
    struct exit_port p;
    exit_port_init(&p, on_end, &e);
    assert_int_equal(exit_port_status(&p), -1);
    /* strays: no magic, the wrong register or size, an unknown reason */
    assert_int_equal(wr32(&p, EXIT_PORT_END_REG, 3), -EINVAL);
    assert_int_equal(wr32(&p, EXIT_PORT_END_REG, 0xffffffffu), -EINVAL);
    assert_int_equal(wr32(&p, EXIT_PORT_END_REG, EXIT_PORT_WORD(3, 0)), -EINVAL);
    assert_int_equal(wr32(&p, EXIT_PORT_ID_REG, EXIT_PORT_WORD(0, 1)), -EINVAL);
    uint32_t w = EXIT_PORT_WORD(0, 1);
    assert_int_equal(exit_port_write(&p, EXIT_PORT_END_REG, &w, 2), -EINVAL);
    assert_int_equal(exit_port_write(&p, EXIT_PORT_END_REG, &w, 8), -EINVAL);
    assert_int_equal(e.calls, 0);
    assert_false(p.ended);
    /* the end: once */
    assert_int_equal(wr32(&p, EXIT_PORT_END_REG, EXIT_PORT_WORD(EXIT_PORT_SIGNALED, 9)), 0);
    assert_int_equal(e.calls, 1);
    assert_int_equal(e.reason, EXIT_PORT_SIGNALED);
    assert_int_equal(e.code, 9);
    assert_int_equal(exit_port_status(&p), 137);
    assert_int_equal(wr32(&p, EXIT_PORT_END_REG, EXIT_PORT_WORD(EXIT_PORT_EXITED, 0)), -EINVAL);
    assert_int_equal(e.calls, 1);
    assert_int_equal(exit_port_status(&p), 137);
    assert_int_equal(p.ignored, 7);
}

static void test_statuses(void **state)
{
    (void)state;
    struct { uint8_t reason, code; int status; } cases[] = {
        { EXIT_PORT_EXITED, 0, 0 }, { EXIT_PORT_EXITED, 255, 255 }, { EXIT_PORT_EXITED, 42, 42 },
        { EXIT_PORT_SIGNALED, 15, 143 }, { EXIT_PORT_INIT_ERROR, 127, 127 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct exit_port p;
        exit_port_init(&p, NULL, NULL); /* no hook: recorded all the same */
        assert_int_equal(wr32(&p, EXIT_PORT_END_REG, EXIT_PORT_WORD(cases[i].reason, cases[i].code)), 0);
        assert_int_equal(exit_port_status(&p), cases[i].status);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_end),
        cmocka_unit_test(test_statuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
