/* The ACPI tables of a Linux-tier guest: RSDP, XSDT, a hardware-reduced FADT, the MADT (one
 * local APIC per vCPU, one I/O APIC) and a DSDT describing the virtio-mmio devices (LNRO0005),
 * the serial port and the panic port, as Firecracker describes its devices. */
#ifndef ISOVM_ACPI_H
#define ISOVM_ACPI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_LAPIC_BASE   0xfee00000u
#define ACPI_IOAPIC_BASE  0xfec00000u
#define ACPI_MAX_CPUS     64
#define ACPI_MAX_MMIO     32

struct acpi_mmio_device {
    uint32_t base, size;   /* the register window (guest-physical) */
    uint32_t gsi;          /* its interrupt: an I/O APIC pin, edge-triggered, active high */
};

struct acpi_config {
    unsigned ncpus;                                   /* 1..ACPI_MAX_CPUS */
    const struct acpi_mmio_device *mmio;              /* nmmio virtio-mmio devices */
    unsigned nmmio;                                   /* 0..ACPI_MAX_MMIO */
    bool com1;                                        /* an 8250 at 0x3f8, IRQ 4 */
    uint16_t pvpanic_port;                            /* QEMU0001 at this I/O port; 0: none */
};

/* Build the tables for guest-physical address `gpa` into buf[0..len): the RSDP first (at gpa,
 * which must be 16-byte aligned), then the XSDT, FADT, MADT and DSDT, each checksummed and
 * pointing at the others by their guest-physical addresses. Returns the bytes used, or
 * -EINVAL (a bad config) / -ENOSPC (len too small) / -ENOMEM. */
long acpi_build(const struct acpi_config *cfg, uint8_t *buf, size_t len, uint64_t gpa);

/* The 8-bit sum of n bytes (a table is valid when its bytes sum to 0). */
uint8_t acpi_sum(const uint8_t *p, size_t n);

#endif
