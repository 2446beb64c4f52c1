/* Places the kernel, the initramfs, the ACPI tables, start_info and the command line in guest RAM. */
#include "vmm/linux/boot.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "init/abi.h"
#include "lib/log.h"
#include "vmm/linux/cpio.h"
#include "vmm/linux/pvh.h"

#define BOOT_KERNEL_LO 0x100000ull /* a kernel's segments must lie above 1 MiB */

/* The initramfs: /init, then the modules' archive as it is (the job file comes over the job
 * channel, init/abi.h). Written at the top of
 * low RAM, above the kernel. */
static int boot_initramfs(struct lvm *m, const struct boot_parts *p, uint64_t floor,
                          struct boot_layout *out)
{
    size_t overhead = 4 * 512; /* headers, names, padding and the trailer of our own archive */
    size_t need = p->init_size + overhead + p->modules_cpio_size + 4;
    uint64_t top = m->low_size;
    if (need > top || (top - need) / 4096 * 4096 < floor) {
        log_err("the initramfs (%zu bytes: init and modules) does not fit in guest RAM "
                "above the kernel (ends at %#llx); raise memory", need, (unsigned long long)floor);
        return -ENOSPC;
    }
    uint64_t gpa = (top - need) / 4096 * 4096;
    uint8_t *buf = lvm_gpa(m, gpa, top - gpa);
    if (!buf)
        return -EFAULT;
    struct cpio c;
    cpio_init(&c, buf, (size_t)(top - gpa));
    cpio_file(&c, ISOVM_INIT_PATH + 1, 0755, p->init, p->init_size);
    cpio_trailer(&c);
    if (c.err) {
        log_err("cannot write the initramfs: %s", strerror(-c.err));
        return c.err;
    }
    size_t len = c.len;
    if (p->modules_cpio_size) {
        if (p->modules_cpio_size > top - gpa - len)
            return -ENOSPC;
        memcpy(buf + len, p->modules_cpio, p->modules_cpio_size);
        len += p->modules_cpio_size;
    }
    out->initrd_gpa = gpa;
    out->initrd_size = len;
    return 0;
}

int boot_load(struct lvm *m, const struct boot_parts *p, struct boot_layout *out)
{
    memset(out, 0, sizeof *out);
    struct pvh_kernel k;
    char err[256] = "";
    if (pvh_kernel_check(p->kernel, p->kernel_size, BOOT_KERNEL_LO, m->low_size, &k, err,
                         sizeof err) < 0) {
        log_err("%s: %s", p->kernel_path, err);
        return -ENOEXEC;
    }
    /* from the file, not the mapping (whose pages would fault if the file shrank since) */
    int rd = pvh_kernel_read(p->kernel_fd, &k, m->mem, m->low_size);
    if (rd < 0) {
        log_err("%s: cannot read its segments: %s", p->kernel_path,
                rd == -ENODATA ? "the file is shorter than it was when checked" : strerror(-rd));
        return -ENOEXEC;
    }
    out->entry = k.entry;
    out->kernel_lo = k.lo;
    out->kernel_hi = k.hi;
    int rc = boot_initramfs(m, p, (k.hi + 4095) / 4096 * 4096, out);
    if (rc)
        return rc;

    uint8_t *acpi = lvm_gpa(m, BOOT_ACPI_GPA, BOOT_ACPI_MAX);
    if (!acpi)
        return -EFAULT;
    long acpi_len = acpi_build(&p->acpi, acpi, BOOT_ACPI_MAX, BOOT_ACPI_GPA);
    if (acpi_len < 0) {
        log_err("cannot build the ACPI tables: %s", strerror((int)-acpi_len));
        return (int)acpi_len;
    }

    struct pvh_memmap map[PVH_MEMMAP_MAX];
    unsigned n = 0;
    map[n++] = (struct pvh_memmap){ 0, BOOT_LOW_RESERVED, PVH_MEMMAP_RAM };
    map[n++] = (struct pvh_memmap){ BOOT_LOW_RESERVED, BOOT_ACPI_GPA - BOOT_LOW_RESERVED,
                                    PVH_MEMMAP_RESERVED };
    map[n++] = (struct pvh_memmap){ BOOT_ACPI_GPA, BOOT_ACPI_MAX, PVH_MEMMAP_ACPI };
    map[n++] = (struct pvh_memmap){ 0x100000, m->low_size - 0x100000, PVH_MEMMAP_RAM };
    if (m->mem_size > m->low_size)
        map[n++] = (struct pvh_memmap){ LVM_HIGH_RAM_GPA, m->mem_size - m->low_size, PVH_MEMMAP_RAM };
    struct pvh_boot b = {
        .start_info_gpa = BOOT_START_INFO_GPA, .cmdline_gpa = BOOT_CMDLINE_GPA, .cmdline = p->cmdline,
        .initrd_gpa = out->initrd_gpa, .initrd_size = out->initrd_size, .rsdp_gpa = BOOT_ACPI_GPA,
        .map = map, .nmap = n,
    };
    if (pvh_start_info_write(&b, m->mem, m->low_size, BOOT_CMDLINE_MAX) < 0) {
        log_err("cannot write start_info (a command line longer than %u bytes?)", BOOT_CMDLINE_MAX);
        return -EINVAL;
    }
    return lvm_vcpu_pvh_entry(m, k.entry, (uint32_t)BOOT_START_INFO_GPA);
}
