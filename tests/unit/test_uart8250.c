/* The 16550A's registers as the kernel's 8250 driver probes and uses them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include "devices/serial/uart8250.h"

static char out[64];
static size_t nout;
static void tx(void *ctx, uint8_t b)
{
    (void)ctx;
    if (nout < sizeof out)
        out[nout++] = (char)b;
}

static void test_uart(void **state)
{
    (void)state;
    struct uart8250 u;
    uart8250_init(&u, tx, NULL);
    nout = 0;
    /* the driver's probe: scratch register, IER, loopback mirroring MCR into MSR */
    uart8250_write(&u, 7, 0xa5);
    assert_int_equal(uart8250_read(&u, 7), 0xa5);
    uart8250_write(&u, 1, 0xff);
    assert_int_equal(uart8250_read(&u, 1), 0x0f);
    uart8250_write(&u, 4, 0x10 | 0x0a);               /* loopback, RTS, OUT2 */
    assert_int_equal(uart8250_read(&u, 6) & 0xf0, 0x90); /* CTS, DCD */
    uart8250_write(&u, 0, 'x');                         /* looped back: not sent */
    assert_int_equal(nout, 0);
    uart8250_write(&u, 4, 0x0b);
    /* FIFOs make it a 16550A */
    uart8250_write(&u, 2, 0x07);
    assert_int_equal(uart8250_read(&u, 2), 0xc1);
    /* the divisor latch does not transmit */
    uart8250_write(&u, 3, 0x80);
    uart8250_write(&u, 0, 0x01);
    uart8250_write(&u, 1, 0x00);
    assert_int_equal(uart8250_read(&u, 0), 0x01);
    uart8250_write(&u, 3, 0x03);
    /* transmit: always empty, every byte out in order */
    for (const char *p = "hello\n"; *p; p++) {
        assert_true(uart8250_read(&u, 5) & 0x20);
        uart8250_write(&u, 0, (uint8_t)*p);
    }
    assert_int_equal(nout, 6);
    assert_memory_equal(out, "hello\n", 6);
    assert_int_equal(u.tx_bytes, 6);
    assert_int_equal(uart8250_read(&u, 0), 0); /* nothing received */
    assert_int_equal(uart8250_read(&u, 9), 0xff);
    uart8250_write(&u, 9, 1);                  /* ignored */
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_uart) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
