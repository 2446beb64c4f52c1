/* The Linux kernel for the PVH entry: the ELF vmlinux (with its XEN_ELFNOTE_PHYS32_ENTRY note)
 * checked and loaded at its physical addresses, and the start_info the entry is given. */
#ifndef ISOVM_PVH_H
#define ISOVM_PVH_H
#include <stddef.h>
#include <stdint.h>

#define PVH_MAX_SEGMENTS   16
#define PVH_START_MAGIC    0x336ec578u
#define PVH_MEMMAP_RAM      1
#define PVH_MEMMAP_RESERVED 2
#define PVH_MEMMAP_ACPI     3
#define PVH_MEMMAP_MAX      8

struct pvh_segment {
    uint64_t paddr, memsz, filesz, offset;
};

struct pvh_kernel {
    uint32_t entry;             /* the 32-bit PVH entry point (guest-physical) */
    uint64_t lo, hi;            /* [lo, hi): the guest-physical range the segments take */
    unsigned nseg;
    struct pvh_segment seg[PVH_MAX_SEGMENTS];
};

/* Check a vmlinux in memory: an ELF64 x86-64 executable whose PT_LOAD segments lie inside the
 * file and inside guest-physical [ram_lo, ram_hi) without overlapping one another, with a
 * PT_NOTE holding a "Xen" XEN_ELFNOTE_PHYS32_ENTRY note inside the loaded range. 0, or
 * -ENOEXEC with the defect named in err ("not a PVH kernel: no XEN_ELFNOTE_PHYS32_ENTRY note
 * (a bzImage? give the vmlinux inside it)"). */
int pvh_kernel_check(const uint8_t *file, size_t size, uint64_t ram_lo, uint64_t ram_hi,
                     struct pvh_kernel *k, char *err, size_t errlen);

/* The checked segments read from the kernel file fd straight into guest RAM (ram: host view of
 * guest-physical [0, ram_size)), zeroing what is past each segment's file bytes: one read per
 * data extent, no mapping of the file (whose page faults on a
 * network or 9p file system cost a round trip each) and no intermediate copy. Holes in the file
 * (SEEK_DATA/SEEK_HOLE: scripts/linux-kernel.sh digs them in the cached vmlinux, whose .bss and
 * padding, about half of it, are zeros) are not read and their RAM is not written: ram must be
 * zero there, as fresh guest RAM is. A file system without holes reports all of it as data.
 * 0, -EINVAL when a segment is outside ram, -ENODATA when the file is shorter than a segment
 * needs (it shrank since it was checked), or the errno of pread. */
int pvh_kernel_read(int fd, const struct pvh_kernel *k, uint8_t *ram, uint64_t ram_size);

/* One entry of the memory map handed over in start_info. */
struct pvh_memmap {
    uint64_t addr, size;
    uint32_t type;               /* PVH_MEMMAP_* */
};

/* What start_info points at. */
struct pvh_boot {
    uint64_t start_info_gpa;     /* where start_info (and after it the module list and the map) go */
    uint64_t cmdline_gpa;        /* the command line, NUL-terminated */
    const char *cmdline;
    uint64_t initrd_gpa, initrd_size;   /* module 0; size 0: none */
    uint64_t rsdp_gpa;           /* 0: none */
    const struct pvh_memmap *map;
    unsigned nmap;               /* 1..PVH_MEMMAP_MAX */
};

/* Bytes start_info, its module list and the memory map take at start_info_gpa. */
#define PVH_START_INFO_BYTES (56 + 32 + PVH_MEMMAP_MAX * 24)

/* Write start_info (version 1), the module list and the memory map at b->start_info_gpa and the
 * command line at b->cmdline_gpa into guest RAM. 0, or -EINVAL (a range outside RAM, a command
 * line longer than `cmdline_max` with its NUL, a map that is empty or too long, overlaps). */
int pvh_start_info_write(const struct pvh_boot *b, uint8_t *ram, uint64_t ram_size,
                         size_t cmdline_max);

#endif
