/* The Linux tier's port-I/O and MMIO exits dispatched to the devices, with synthetic exits (no KVM). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/linux/ldev.h"

struct seen {
    unsigned ends;
    unsigned phases[ISOVM_PHASE_MAX + 1];
};

static void on_end(void *ctx)
{
    ((struct seen *)ctx)->ends++;
}

static void on_phase(void *ctx, unsigned phase)
{
    ((struct seen *)ctx)->phases[phase]++;
}

/* The devices ldev_pio and ldev_mmio reach, set up as ldev_init would but without KVM. */
static void fake_ldev(struct ldev *d, struct seen *s)
{
    memset(d, 0, sizeof *d);
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&d->lock, NULL);
    d->console_log_fd = -1;
    d->timer_fd = d->stop_fd = -1;
    d->on_end = on_end;
    d->on_phase = on_phase;
    d->end_ctx = s;
    uart8250_init(&d->uart, NULL, NULL);
    status_port_init(&d->status, NULL, NULL);
}

static bool out32(struct ldev *d, uint16_t port, uint32_t v)
{
    uint8_t b[8] = { 0 };
    memcpy(b, &v, 4);
    return ldev_pio(d, port, true, b, 4);
}

static void test_status_port_exits(void **state)
{
    (void)state;
    struct ldev d;
    struct seen s;
    fake_ldev(&d, &s);
    d.status.on_end = NULL; /* ldev_init wires the end through ldev's own hook: here, count phases */
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_INIT_START)));
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_INIT_START)));
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_JOB_START)));
    assert_int_equal(s.phases[ISOVM_PHASE_INIT_START], 1); /* once, however often it is written */
    assert_int_equal(s.phases[ISOVM_PHASE_JOB_START], 1);
    /* the last phase (a machine made ahead: PREPARED) is seen; one past it is not a phase */
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_PREPARED)));
    assert_int_equal(s.phases[ISOVM_PHASE_PREPARED], 1);
    assert_true(d.status.phase_ns[ISOVM_PHASE_PREPARED] != 0);
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_PHASE, ISOVM_PHASE_MAX + 1)));
    assert_false(d.status.ended);
    assert_true(out32(&d, ISOVM_STATUS_PORT, ISOVM_STATUS(ISOVM_STATUS_EXIT, 42)));
    assert_true(d.status.ended);
    assert_int_equal(status_port_exit_status(&d.status), 42);
    /* the port's other bytes are claimed (and ignored), its neighbours are not */
    assert_true(out32(&d, ISOVM_STATUS_PORT + 3, 1));
    assert_false(out32(&d, ISOVM_STATUS_PORT + 4, 1));
    assert_true(out32(&d, ISOVM_STATUS_PORT - 1, 1)); /* the job port's last byte */
    assert_false(out32(&d, ISOVM_JOB_PORT - 1, 1));
    uint8_t b[8];
    memset(b, 0xaa, sizeof b);
    assert_true(ldev_pio(&d, ISOVM_STATUS_PORT, false, b, 4));
    assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
    pthread_mutex_destroy(&d.lock);
}

/* The job channel through the port exits: the length, then a string of byte reads (what one
 * `rep insb` exit brings: count reads of size 1), zeros past the end; writes ignored. */
static void test_job_port_exits(void **state)
{
    (void)state;
    struct ldev d;
    struct seen s;
    fake_ldev(&d, &s);
    job_port_init(&d.job);
    uint8_t b[8] = { 0 };
    assert_true(ldev_pio(&d, ISOVM_JOB_PORT, false, b, 4));
    assert_int_equal(b[0] | b[1] | b[2] | b[3], 0); /* no job yet: length 0 */
    static const char job[] = "version 1\narg /bin/true\n";
    job_port_set(&d.job, job, sizeof job - 1);
    assert_true(ldev_pio(&d, ISOVM_JOB_PORT, false, b, 4));
    uint32_t len;
    memcpy(&len, b, 4);
    assert_int_equal(len, sizeof job - 1);
    char got[sizeof job + 2];
    for (size_t i = 0; i < sizeof got; i++) {
        assert_true(ldev_pio(&d, ISOVM_JOB_PORT + 4, false, b, 1));
        got[i] = (char)b[0];
    }
    assert_memory_equal(got, job, sizeof job - 1);
    assert_int_equal(got[sizeof job - 1] | got[sizeof job] | got[sizeof job + 1], 0);
    assert_true(out32(&d, ISOVM_JOB_PORT, 7)); /* claimed, ignored */
    assert_int_equal(d.job.ignored, 1);
    pthread_mutex_destroy(&d.lock);
}

static void test_panic_and_reset(void **state)
{
    (void)state;
    struct ldev d;
    struct seen s;
    fake_ldev(&d, &s);
    uint8_t b[8] = { 0 };
    assert_true(ldev_pio(&d, LDEV_PVPANIC_PORT, false, b, 1));
    assert_int_equal(b[0], 1); /* the events it reports: PANICKED */
    b[0] = 2;                  /* CRASH_LOADED: not a panic */
    assert_true(ldev_pio(&d, LDEV_PVPANIC_PORT, true, b, 1));
    assert_false(atomic_load(&d.panicked));
    b[0] = 1;
    assert_true(ldev_pio(&d, LDEV_PVPANIC_PORT, true, b, 1));
    assert_true(atomic_load(&d.panicked));
    assert_int_equal(s.ends, 1);
    b[0] = 0x60; /* any other keyboard-controller command is nobody's */
    assert_false(ldev_pio(&d, LDEV_I8042_PORT, true, b, 1));
    b[0] = 0xfe;
    assert_true(ldev_pio(&d, LDEV_I8042_PORT, true, b, 1));
    assert_true(atomic_load(&d.reset));
    assert_int_equal(s.ends, 2);
    pthread_mutex_destroy(&d.lock);
}

static void test_uart_and_unclaimed(void **state)
{
    (void)state;
    struct ldev d;
    struct seen s;
    fake_ldev(&d, &s);
    uint8_t b[8] = { 0 };
    b[0] = 0x5a; /* scratch register round trip */
    assert_true(ldev_pio(&d, UART_COM1_BASE + 7, true, b, 1));
    b[0] = 0;
    assert_true(ldev_pio(&d, UART_COM1_BASE + 7, false, b, 1));
    assert_int_equal(b[0], 0x5a);
    b[0] = 'x';
    assert_true(ldev_pio(&d, UART_COM1_BASE, true, b, 1));
    assert_int_equal(d.uart.tx_bytes, 1);
    assert_false(ldev_pio(&d, 0x2f8, true, b, 1)); /* COM2: nobody */
    assert_false(ldev_pio(&d, 0xcf8, false, b, 4)); /* PCI config: pci=off, nobody */
    /* MMIO outside every virtio window (none here), below and far above the base */
    assert_false(ldev_mmio(&d, 0, false, b, 4));
    assert_false(ldev_mmio(&d, LDEV_MMIO_BASE, false, b, 4));
    assert_false(ldev_mmio(&d, UINT64_MAX - 3, true, b, 4));
    pthread_mutex_destroy(&d.lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_port_exits),
        cmocka_unit_test(test_job_port_exits),
        cmocka_unit_test(test_panic_and_reset),
        cmocka_unit_test(test_uart_and_unclaimed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
