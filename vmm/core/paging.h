/* Guest page tables: 4-level tables built by the VMM in the page-table area, one entry per page given. */
#ifndef ISOVM_PAGING_H
#define ISOVM_PAGING_H
#include <stdint.h>
#include "vmm/core/guest_mem.h"

struct paging {
    uint64_t pml4_gpa;   /* CR3 */
    /* The page-table area's allocator, kept by the first space's paging (root NULL); another
     * process's space allocates from it (root set). Tables are freed only when a whole space
     * ends (an emptied table stays counted until then); freed ones are zeroed and reused. */
    struct paging *root;
    uint64_t next_gpa;   /* the next never-used page of the area */
    uint64_t *free_gpa;  /* freed tables (all zero) */
    uint64_t nfree, free_cap;
};

/* The address-space window of a job with this memory limit: what its mmaps and reservations
 * may span (a reservation costs no frame). 16 GiB, or twice a limit above 8 GiB: what the host's
 * virtual space pays (valgrind takes no single mapping of 64 GiB). */
uint64_t paging_window_bytes(uint64_t limit_bytes);

/* Bytes of page-table area for this limit: room for every table the limit's frames can pay. */
uint64_t paging_area_bytes(uint64_t limit_bytes);

/* Build the tables in [gm->pt_lo, gm->size): the PML4 and the firmware region's entries
 * (supervisor only, the image read-only), every other entry not present; set the user range
 * [ISOVM_USER_MIN_GPA, pt_lo) and hook gm so that given pages and permission changes update
 * the entries. gm's RAM must be freshly mapped (all zero) and its tables allocated
 * (gmem_tables_alloc). 0, -EINVAL (firmware size), -ENOMEM. */
int paging_init(struct paging *pg, struct guest_mem *gm, uint64_t fw_image_size);

/* Build the tables of another process's space gm (gmem_space_init'd, gpa_base set) in the
 * area of root_pg (the first space's, whose gm is gm->root): the PML4 and the firmware's
 * entries as paging_init makes them. 0 or -ENOMEM. */
int paging_space_init(struct paging *pg, struct guest_mem *gm, struct paging *root_pg,
                      uint64_t fw_image_size);

/* Free every table of a space's paging (its pages' entries first removed by the caller):
 * zeroed, back to the area's free list, their frames given back. */
void paging_space_free(struct paging *pg, struct guest_mem *gm);

/* Release the area allocator's own memory (the first space's paging, at the VM's end). */
void paging_fini(struct paging *pg);

/* Point gm's hooks at pg (after a copy of both: vm_move, a RAM image). */
void paging_hook(struct paging *pg, struct guest_mem *gm);

/* The leaf entry of va, or 0 when it has none (tests, diagnostics). */
uint64_t paging_entry(const struct guest_mem *gm, uint64_t va);

#endif
