/* The guest's ACPI tables (ACPI 6.x, sections 5.2.5 RSDP, 5.2.8 XSDT, 5.2.9 FADT, 5.2.12 MADT,
 * 5.2.11.1 DSDT), laid out one after another from the RSDP. */
#include "vmm/linux/acpi.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "vmm/linux/aml.h"

#define SDT_HEADER 36
#define RSDP_SIZE  36
#define FADT_SIZE  276
#define FADT_FLAG_HW_REDUCED   (1u << 20)
#define FADT_FLAG_PWR_BUTTON   (1u << 4)   /* no fixed power button */
#define FADT_FLAG_SLP_BUTTON   (1u << 5)   /* no fixed sleep button */
#define IAPC_VGA_NOT_PRESENT   (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED (1u << 3)
#define IAPC_CMOS_RTC_ABSENT   (1u << 5)
#define MADT_PCAT_COMPAT       1u

uint8_t acpi_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* The common header of a system description table; its checksum is set by sdt_finish. */
static void sdt_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "ISOVM ", 6);       /* OEM id */
    memcpy(t + 16, "ISOVMVM ", 8);     /* OEM table id */
    put32(t + 24, 1);                  /* OEM revision */
    memcpy(t + 28, "ISVM", 4);         /* creator id */
    put32(t + 32, 1);                  /* creator revision */
}

static void sdt_finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = (uint8_t)(0x100 - acpi_sum(t, len));
}

/* The DSDT's AML: \_SB_ with the serial port, the panic port and each virtio-mmio device. */
static int dsdt_aml(const struct acpi_config *cfg, struct aml *out)
{
    struct aml sb;
    aml_init(&sb);
    if (cfg->com1) {
        struct aml dev, res;
        aml_init(&dev);
        aml_init(&res);
        aml_name(&dev, "_HID");
        aml_eisaid(&dev, "PNP0501");
        aml_name(&dev, "_UID");
        aml_integer(&dev, 1);
        aml_res_io(&res, 0x3f8, 8);
        aml_res_irq_noflags(&res, 4);
        aml_resource_end(&res);
        aml_name(&dev, "_CRS");
        aml_buffer(&dev, &res);
        aml_device(&sb, "COM1", &dev);
    }
    if (cfg->pvpanic_port) {
        struct aml dev, res;
        aml_init(&dev);
        aml_init(&res);
        aml_name(&dev, "_HID");
        aml_string(&dev, "QEMU0001");
        aml_name(&dev, "_UID");
        aml_integer(&dev, 0);
        aml_res_io(&res, cfg->pvpanic_port, 1);
        aml_resource_end(&res);
        aml_name(&dev, "_CRS");
        aml_buffer(&dev, &res);
        aml_device(&sb, "PEVT", &dev);
    }
    for (unsigned i = 0; i < cfg->nmmio; i++) {
        struct aml dev, res;
        char name[5];
        aml_init(&dev);
        aml_init(&res);
        snprintf(name, sizeof name, "V%03u", i % 1000); /* i < ACPI_MAX_MMIO */
        aml_name(&dev, "_HID");
        aml_string(&dev, "LNRO0005");
        aml_name(&dev, "_UID");
        aml_integer(&dev, i);
        aml_res_memory32_fixed(&res, cfg->mmio[i].base, cfg->mmio[i].size, 1);
        aml_res_interrupt(&res, cfg->mmio[i].gsi, 1, 0);
        aml_resource_end(&res);
        aml_name(&dev, "_CRS");
        aml_buffer(&dev, &res);
        aml_device(&sb, name, &dev);
    }
    aml_scope_root(out, "_SB_", &sb);
    return out->err;
}

static int config_check(const struct acpi_config *cfg)
{
    if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS || cfg->nmmio > ACPI_MAX_MMIO ||
        (cfg->nmmio && !cfg->mmio))
        return -EINVAL;
    for (unsigned i = 0; i < cfg->nmmio; i++) {
        const struct acpi_mmio_device *d = &cfg->mmio[i];
        if (d->size == 0 || d->base + (uint64_t)d->size > 0x100000000ull || d->gsi > 23 ||
            d->gsi < 5) /* 0-4: the timer, the keyboard, the cascade, the serial ports */
            return -EINVAL;
    }
    return 0;
}

long acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t len, uint64_t gpa)
{
    if (config_check(cfg) || (gpa & 15) || gpa > 0xffffffffull)
        return -EINVAL;
    struct aml aml;
    aml_init(&aml);
    int rc = dsdt_aml(cfg, &aml);
    if (rc) {
        aml_free(&aml);
        return rc;
    }
    /* layout: RSDP, XSDT (2 entries), FADT, MADT, DSDT; 8-byte aligned */
    size_t xsdt_off = 48, xsdt_len = SDT_HEADER + 2 * 8;
    size_t fadt_off = (xsdt_off + xsdt_len + 7) & ~(size_t)7;
    size_t madt_off = (fadt_off + FADT_SIZE + 7) & ~(size_t)7;
    size_t madt_len = SDT_HEADER + 8 + cfg->ncpus * 8 + 12;
    size_t dsdt_off = (madt_off + madt_len + 7) & ~(size_t)7;
    size_t dsdt_len = SDT_HEADER + aml.len;
    size_t total = dsdt_off + dsdt_len;
    if (total > len || gpa + total > 0x100000000ull) {
        aml_free(&aml);
        return -ENOSPC;
    }
    memset(buf, 0, total);

    uint8_t *dsdt = buf + dsdt_off;
    sdt_header(dsdt, "DSDT", (uint32_t)dsdt_len, 2);
    memcpy(dsdt + SDT_HEADER, aml.buf, aml.len);
    sdt_finish(dsdt, (uint32_t)dsdt_len);
    aml_free(&aml);

    uint8_t *madt = buf + madt_off;
    sdt_header(madt, "APIC", (uint32_t)madt_len, 5);
    put32(madt + 36, ACPI_LAPIC_BASE);
    put32(madt + 40, MADT_PCAT_COMPAT);
    uint8_t *e = madt + 44;
    for (unsigned i = 0; i < cfg->ncpus; i++, e += 8) {
        e[0] = 0;                 /* processor local APIC */
        e[1] = 8;
        e[2] = (uint8_t)i;        /* ACPI processor uid */
        e[3] = (uint8_t)i;        /* APIC id: KVM's vCPU id */
        put32(e + 4, 1);          /* enabled */
    }
    e[0] = 1;                     /* I/O APIC */
    e[1] = 12;
    e[2] = (uint8_t)cfg->ncpus;   /* its id: after the CPUs' */
    put32(e + 4, ACPI_IOAPIC_BASE);
    put32(e + 8, 0);              /* GSI base */
    sdt_finish(madt, (uint32_t)madt_len);

    uint8_t *fadt = buf + fadt_off;
    sdt_header(fadt, "FACP", FADT_SIZE, 6);
    put32(fadt + 40, (uint32_t)(gpa + dsdt_off));    /* DSDT (32-bit) */
    put16(fadt + 109, IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED | IAPC_CMOS_RTC_ABSENT);
    put32(fadt + 112, FADT_FLAG_HW_REDUCED | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON);
    fadt[131] = 5;                                   /* FADT minor version: ACPI 6.5 */
    put64(fadt + 140, gpa + dsdt_off);               /* X_DSDT */
    memcpy(fadt + 268, "ISOVM   ", 8);               /* hypervisor vendor identity */
    sdt_finish(fadt, FADT_SIZE);

    uint8_t *xsdt = buf + xsdt_off;
    sdt_header(xsdt, "XSDT", (uint32_t)xsdt_len, 1);
    put64(xsdt + 36, gpa + fadt_off);
    put64(xsdt + 44, gpa + madt_off);
    sdt_finish(xsdt, (uint32_t)xsdt_len);

    uint8_t *rsdp = buf;
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "ISOVM ", 6);
    rsdp[15] = 2;                                    /* revision: ACPI 2.0+, XSDT */
    put32(rsdp + 20, RSDP_SIZE);
    put64(rsdp + 24, gpa + xsdt_off);
    rsdp[8] = (uint8_t)(0x100 - acpi_sum(rsdp, 20));   /* over the ACPI 1.0 part */
    rsdp[32] = (uint8_t)(0x100 - acpi_sum(rsdp, RSDP_SIZE));
    return (long)total;
}
