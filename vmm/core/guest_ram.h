/* The Linux tier's guest RAM as regions (gpa, size, host) and THE one guest-range check over them. */
#ifndef ISOVM_GUEST_RAM_H
#define ISOVM_GUEST_RAM_H
#include <stdint.h>

/* RAM below the 32-bit MMIO hole, RAM above 4 GiB for large guests: a couple of regions. */
#define GUEST_RAM_MAX_REGIONS 4
#define GUEST_RAM_ALIGN 4096ull /* gpa, size and host pointer of every region (KVM memslots) */

struct guest_ram_region {
    uint64_t gpa;  /* first guest-physical address */
    uint64_t size; /* bytes; gpa + size does not wrap */
    uint8_t *host; /* host mapping of [gpa, gpa + size) */
};

/* Set up before any vCPU or device runs and read-only afterwards, so devices on any thread may
 * use it without a lock. Regions never overlap; adjacent regions are not merged. */
struct guest_ram {
    struct guest_ram_region region[GUEST_RAM_MAX_REGIONS];
    unsigned nregions;
};

void guest_ram_init(struct guest_ram *ram);

/* Add the region [gpa, gpa + size) mapped at host. 0; -EINVAL when size is 0, gpa + size wraps
 * (a region may not end at 2^64 either), host is NULL, gpa, size or host is not
 * GUEST_RAM_ALIGN-aligned, or it overlaps a region; -ENOSPC when the table is full. */
int guest_ram_add(struct guest_ram *ram, uint64_t gpa, uint64_t size, void *host);

/* THE guest-range check: the host pointer of [gpa, gpa + len) when the whole range lies inside
 * one region, else NULL. Overflow-safe: a range whose end wraps past 2^64 is refused. len 0 is
 * refused too (NULL): no device access is empty, and a zero-length "range" would vouch for an
 * address that need not be RAM. A range that runs from one region into another is refused even
 * when they touch. Every device computes host pointers through this, and nothing else. */
void *guest_ram_ptr(const struct guest_ram *ram, uint64_t gpa, uint64_t len);

#endif
