/* ACPI tables and the AML encoder of the Linux tier: encodings, checksums, the links between the
 * tables, bad configs refused, and the DSDT read back by ACPICA's disassembler (iasl). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmm/linux/acpi.h"
#include "vmm/linux/aml.h"

#define GPA 0xe0000ull

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static const struct acpi_mmio_device devs[3] = {
    { 0xd0000000u, 0x1000, 5 }, { 0xd0001000u, 0x1000, 6 }, { 0xd0002000u, 0x1000, 7 },
};

static const uint8_t *table_at(const uint8_t *buf, uint64_t gpa)
{
    assert_true(gpa >= GPA && gpa < GPA + 65536);
    return buf + (gpa - GPA);
}

static void test_pkglength(void **state)
{
    (void)state;
    uint8_t b[4];
    assert_int_equal(aml_pkglength(0, b), 1);
    assert_int_equal(b[0], 1);
    assert_int_equal(aml_pkglength(62, b), 1);
    assert_int_equal(b[0], 63);
    /* 63 bytes of contents: 65 with a two-byte PkgLength */
    assert_int_equal(aml_pkglength(63, b), 2);
    assert_int_equal(b[0], 0x40 | (65 & 0xf));
    assert_int_equal(b[1], 65 >> 4);
    assert_int_equal(aml_pkglength(4093, b), 2);  /* 4095: the two-byte maximum */
    assert_int_equal(aml_pkglength(4094, b), 3);
    assert_int_equal(aml_pkglength((1u << 28) - 5, b), 4);
    assert_int_equal(aml_pkglength((1u << 28) - 4, b), 0);
}

static void test_integers_strings_names(void **state)
{
    (void)state;
    struct aml a;
    aml_init(&a);
    aml_integer(&a, 0);
    aml_integer(&a, 1);
    aml_integer(&a, 0xff);
    aml_integer(&a, 0x100);
    aml_integer(&a, 0x10000);
    aml_integer(&a, 0x100000000ull);
    static const uint8_t want[] = { 0x00, 0x01, 0x0a, 0xff, 0x0b, 0x00, 0x01, 0x0c, 0x00, 0x00,
                                    0x01, 0x00, 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 };
    assert_int_equal(a.err, 0);
    assert_int_equal(a.len, sizeof want);
    assert_memory_equal(a.buf, want, sizeof want);
    aml_free(&a);

    aml_init(&a);
    aml_eisaid(&a, "PNP0501");
    static const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 }; /* 0x0105D041 */
    assert_int_equal(a.len, sizeof pnp0501);
    assert_memory_equal(a.buf, pnp0501, sizeof pnp0501);
    aml_free(&a);

    /* bad names and ids are errors that stick */
    const char *bad[] = { "", "ABCDE", "1ABC", "a_b", "AB-C" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aml_init(&a);
        aml_nameseg(&a, bad[i]);
        assert_int_equal(a.err, -EINVAL);
        aml_integer(&a, 5); /* ignored after the error */
        assert_int_equal(a.len, 0);
        aml_free(&a);
    }
    aml_init(&a);
    aml_eisaid(&a, "pnp0501");
    assert_int_equal(a.err, -EINVAL);
    aml_free(&a);
    aml_init(&a);
    aml_string(&a, "bad\ncontrol");
    assert_int_equal(a.err, -EINVAL);
    aml_free(&a);
    aml_init(&a);
    aml_nameseg(&a, "_SB");
    assert_memory_equal(a.buf, "_SB_", 4);
    aml_free(&a);
}

static void test_tables(void **state)
{
    (void)state;
    uint8_t *buf = calloc(1, 65536);
    assert_non_null(buf);
    struct acpi_config cfg = { .ncpus = 2, .mmio = devs, .nmmio = 3, .com1 = true,
                               .pvpanic_port = 0x505 };
    long n = acpi_build(&cfg, buf, 65536, GPA);
    assert_true(n > 0);
    /* RSDP: signature, both checksums, revision 2, the XSDT */
    assert_memory_equal(buf, "RSD PTR ", 8);
    assert_int_equal(acpi_sum(buf, 20), 0);
    assert_int_equal(acpi_sum(buf, 36), 0);
    assert_int_equal(buf[15], 2);
    const uint8_t *xsdt = table_at(buf, get64(buf + 24));
    assert_memory_equal(xsdt, "XSDT", 4);
    assert_int_equal(acpi_sum(xsdt, get32(xsdt + 4)), 0);
    assert_int_equal(get32(xsdt + 4), 36 + 16);
    const uint8_t *fadt = table_at(buf, get64(xsdt + 36));
    const uint8_t *madt = table_at(buf, get64(xsdt + 44));
    assert_memory_equal(fadt, "FACP", 4);
    assert_memory_equal(madt, "APIC", 4);
    assert_int_equal(get32(fadt + 4), 276);
    assert_int_equal(acpi_sum(fadt, 276), 0);
    assert_true(get32(fadt + 112) & (1u << 20)); /* hardware-reduced */
    const uint8_t *dsdt = table_at(buf, get64(fadt + 140));
    assert_int_equal(get32(fadt + 40), get64(fadt + 140));
    assert_memory_equal(dsdt, "DSDT", 4);
    uint32_t dlen = get32(dsdt + 4);
    assert_int_equal(acpi_sum(dsdt, dlen), 0);
    assert_true((const uint8_t *)dsdt + dlen <= buf + n);
    /* MADT: two local APICs (ids 0, 1), one I/O APIC at 0xfec00000 */
    uint32_t mlen = get32(madt + 4);
    assert_int_equal(acpi_sum(madt, mlen), 0);
    assert_int_equal(mlen, 36 + 8 + 2 * 8 + 12);
    assert_int_equal(madt[44], 0);
    assert_int_equal(madt[47], 0);
    assert_int_equal(madt[52], 0);
    assert_int_equal(madt[55], 1);
    assert_int_equal(madt[60], 1);
    assert_int_equal(get32(madt + 64), ACPI_IOAPIC_BASE);
    /* every device's memory window in the AML */
    for (unsigned i = 0; i < 3; i++) {
        uint8_t d[7] = { 0x86, 9, 0, 1 };
        d[4] = (uint8_t)devs[i].base;
        d[5] = (uint8_t)(devs[i].base >> 8);
        d[6] = (uint8_t)(devs[i].base >> 16);
        assert_non_null(memmem(dsdt, dlen, d, sizeof d));
    }
    assert_non_null(memmem(dsdt, dlen, "LNRO0005", 9));

    /* ACPICA's disassembler reads the DSDT back (when iasl is installed: scripts/install-deps.sh) */
    if (access("/usr/bin/iasl", X_OK) == 0) {
        char dir[] = "/tmp/test_acpi.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128], cmd[512];
        snprintf(path, sizeof path, "%s/dsdt.dat", dir);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(dsdt, 1, dlen, f), dlen);
        fclose(f);
        snprintf(cmd, sizeof cmd, "cd %s && iasl -d dsdt.dat >log 2>&1 && "
                 "grep -c 'Device (V00[0-2])' dsdt.dsl | grep -qx 3 && "
                 "grep -q 'Name (_HID, \"LNRO0005\")' dsdt.dsl && "
                 "grep -q 'Name (_HID, EisaId (\"PNP0501\")' dsdt.dsl && "
                 "grep -q '0xD0002000,' dsdt.dsl && grep -q 'Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )' dsdt.dsl && "
                 "grep -q 'IO (Decode16,' dsdt.dsl && grep -q 'Name (_HID, \"QEMU0001\")' dsdt.dsl",
                 dir);
        int rc = system(cmd);
        if (rc != 0) {
            snprintf(cmd, sizeof cmd, "cat %s/log %s/dsdt.dsl >&2", dir, dir);
            (void)system(cmd);
        }
        assert_int_equal(rc, 0);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        (void)system(cmd);
    }
    free(buf);
}

static void test_bad_configs(void **state)
{
    (void)state;
    uint8_t buf[4096];
    struct acpi_config cfg = { .ncpus = 1, .mmio = devs, .nmmio = 3 };
    assert_true(acpi_build(&cfg, buf, sizeof buf, GPA) > 0);
    assert_int_equal(acpi_build(&cfg, buf, 100, GPA), -ENOSPC);
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA + 4), -EINVAL);
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, 0xfffffff0ull), -ENOSPC);
    cfg.ncpus = 0;
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
    cfg.ncpus = ACPI_MAX_CPUS + 1;
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
    cfg.ncpus = 1;
    struct acpi_mmio_device bad = { 0xfffff000u, 0x2000, 5 }; /* past 4 GiB */
    cfg.mmio = &bad;
    cfg.nmmio = 1;
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
    bad = (struct acpi_mmio_device){ 0xd0000000u, 0x1000, 4 }; /* a legacy IRQ */
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
    bad.gsi = 24;
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
    bad.gsi = 5;
    bad.size = 0;
    assert_int_equal(acpi_build(&cfg, buf, sizeof buf, GPA), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pkglength),
        cmocka_unit_test(test_integers_strings_names),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_bad_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
