/* The Linux tier's boot image in guest RAM: the kernel, the initramfs (init, modules), ACPI, start_info and the command line. */
#ifndef ISOVM_LINUX_BOOT_H
#define ISOVM_LINUX_BOOT_H
#include <stddef.h>
#include <stdint.h>
#include "vmm/linux/acpi.h"
#include "vmm/linux/lvm.h"

/* Guest-physical layout below 1 MiB (docs/linux-tier.md) */
#define BOOT_START_INFO_GPA 0x6000ull
#define BOOT_CMDLINE_GPA    0x20000ull
#define BOOT_CMDLINE_MAX    4096u
#define BOOT_ACPI_GPA       0xe0000ull  /* to 1 MiB: the RSDP and the tables */
#define BOOT_ACPI_MAX       0x20000u
#define BOOT_LOW_RESERVED   0xa0000ull  /* [this, 1 MiB) is not RAM to the guest */

struct boot_parts {
    const uint8_t *kernel;       /* the vmlinux file (PVH), kernel_size bytes */
    size_t kernel_size;
    const char *kernel_path;     /* for messages */
    int kernel_fd;               /* the same file, open: the segments are read from it straight
                                  * into guest RAM */
    const uint8_t *init;         /* isovm's init, init_size bytes (/init) */
    size_t init_size;
    const uint8_t *modules_cpio; /* a newc archive of lib/modules/..., appended as it is */
    size_t modules_cpio_size;
    const char *cmdline;
    struct acpi_config acpi;
};

/* What was placed where, for the run loop and the report. */
struct boot_layout {
    uint32_t entry;
    uint64_t kernel_lo, kernel_hi;
    uint64_t initrd_gpa, initrd_size;
};

/* Load everything into m's RAM and point vCPU 0 at the kernel's PVH entry. 0, or a negative
 * errno after a message naming what does not fit or is malformed (the kernel's defect, an
 * initramfs larger than the RAM left above the kernel). */
int boot_load(struct lvm *m, const struct boot_parts *p, struct boot_layout *out);

#endif
