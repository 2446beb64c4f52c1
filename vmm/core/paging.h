/* Guest page tables: an identity map with 4 KiB pages, built by the VMM at the top of RAM, their pages touched only where entries are set. */
#ifndef ISOVM_PAGING_H
#define ISOVM_PAGING_H
#include <stdint.h>
#include "vmm/core/guest_mem.h"

struct paging {
    uint64_t pml4_gpa;   /* CR3 */
    uint64_t pt_lo;      /* first byte of the page-table area (top of RAM) */
    uint64_t *pte;       /* host pointer to the leaf entries, one per page of RAM */
};

/* Bytes of page tables needed to map ram_size bytes. */
uint64_t paging_size(uint64_t ram_size);

/* Build the tables in [ram_size - paging_size, ram_size): every page not present, then map
 * the firmware region (supervisor only) and hook gm so user permission changes update PTEs.
 * gm's RAM must be freshly mapped (all zero): the area is not written, so that a table page
 * takes host memory only once one of its entries is set (lazy tables, issue 16). */
int paging_init(struct paging *pg, struct guest_mem *gm, uint64_t fw_image_size);

#endif
