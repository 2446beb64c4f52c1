/* Guest page tables: 4-level, built in the page-table area as pages are given; firmware supervisor-only. */
#include "vmm/core/paging.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "firmware/abi.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define PG       ((uint64_t)ISOVM_PAGE_SIZE)
#define GIB      (1ull << 30)
#define DIR      (PTE_P | PTE_RW | PTE_US) /* directories allow everything: leaves decide */

uint64_t paging_window_bytes(uint64_t limit_bytes)
{
    uint64_t w = limit_bytes > 8 * GIB ? 2 * limit_bytes : 16 * GIB; /* the policy caps it */
    return (w + GIB - 1) / GIB * GIB;
}

uint64_t paging_area_bytes(uint64_t limit_bytes)
{
    /* every table is a frame of the limit, and the firmware's 4 come first */
    return (limit_bytes / PG + 8) * PG;
}

/* Tables live in the first space's mapping (its page-table area), whichever space they serve. */
static uint64_t *entry_at(const struct guest_mem *gm, uint64_t table_gpa, uint64_t idx)
{
    return (uint64_t *)(void *)(gmem_root(gm)->host + table_gpa) + idx;
}

static bool table_in_area(const struct guest_mem *gm, uint64_t table_gpa)
{
    const struct guest_mem *r = gmem_root(gm);
    return table_gpa >= r->pt_lo && table_gpa + PG <= r->size && table_gpa % PG == 0;
}

/* A new table: a frame of the limit, from the area (zero: all entries not present). */
static int table_new(struct guest_mem *gm, struct paging *pg, uint64_t *gpa)
{
    struct paging *a = pg->root ? pg->root : pg;
    const struct guest_mem *r = gmem_root(gm);
    if (!a->nfree && (a->next_gpa < r->pt_lo || a->next_gpa + PG > r->size))
        return -ENOMEM;
    int rc = gmem_take_table_frame(gm);
    if (rc)
        return rc;
    if (a->nfree) {
        *gpa = a->free_gpa[--a->nfree];
        return 0;
    }
    *gpa = a->next_gpa;
    a->next_gpa += PG;
    return 0;
}

/* Table `gpa` back to the area: zeroed, on the free list, its frame given back. */
static void table_free(struct guest_mem *gm, struct paging *pg, uint64_t gpa)
{
    struct paging *a = pg->root ? pg->root : pg;
    const struct guest_mem *r = gmem_root(gm);
    if (a->nfree == a->free_cap) {
        uint64_t cap = (r->size - r->pt_lo) / PG; /* every table the area holds */
        uint64_t *n = realloc(a->free_gpa, cap * sizeof *n);
        if (!n)
            return; /* lost to this job (still counted): never reused, never wrong */
        a->free_gpa = n;
        a->free_cap = cap;
    }
    memset(entry_at(gm, gpa, 0), 0, PG);
    a->free_gpa[a->nfree++] = gpa;
    gmem_give_table_frame_back(gm);
}

/* The leaf entry of va, its tables made when alloc. The tables lie in the area, which no
 * address space maps: an entry read back is the VMM's own, checked all the same. */
static int walk(struct guest_mem *gm, uint64_t va, bool alloc, uint64_t **out)
{
    struct paging *pg = gm->pt_ctx;
    uint64_t table = pg->pml4_gpa;
    for (int level = 3; level > 0; level--) {
        uint64_t *e = entry_at(gm, table, (va >> (12 + 9 * level)) & 511);
        if (!(*e & PTE_P)) {
            if (!alloc)
                return -ENOENT;
            uint64_t t;
            int rc = table_new(gm, pg, &t);
            if (rc)
                return rc;
            *e = t | DIR;
        }
        table = *e & PTE_ADDR;
        if (!table_in_area(gm, table))
            return -EIO;
    }
    *out = entry_at(gm, table, (va >> 12) & 511);
    return 0;
}

static uint64_t user_pte(uint64_t gpa, unsigned perm)
{
    if (!(perm & GPERM_RWX))
        return 0;
    uint64_t e = gpa | PTE_P | PTE_US;
    if (perm & GPERM_W)
        e |= PTE_RW;
    if (!(perm & GPERM_X))
        e |= PTE_NX;
    return e;
}

static int paging_give(struct guest_mem *gm, uint64_t page)
{
    uint64_t *e;
    int rc = walk(gm, page * PG, true, &e);
    if (rc)
        return rc == -EIO ? -EFAULT : rc;
    *e = user_pte(gm->gpa_base + page * PG, gm->perm[page]);
    return 0;
}

/* The entries of the given pages among [first, first + n): from their permission bytes, or
 * removed (clear); chunks with no page given are skipped whole. */
static void entries_set(struct guest_mem *gm, uint64_t first, uint64_t n, bool clear)
{
    for (uint64_t p = first; p < first + n; p++) {
        if (p % GMEM_CHUNK_PAGES == 0 && p + GMEM_CHUNK_PAGES <= first + n &&
            gm->chunk_given[p / GMEM_CHUNK_PAGES] == 0) {
            p += GMEM_CHUNK_PAGES - 1;
            continue;
        }
        uint64_t *e;
        if (gmem_page_given(gm, p) && walk(gm, p * PG, false, &e) == 0)
            *e = clear ? 0 : user_pte(gm->gpa_base + p * PG, gm->perm[p]);
    }
}

static void paging_update(struct guest_mem *gm, uint64_t first, uint64_t n)
{
    entries_set(gm, first, n, false);
}

static void paging_clear(struct guest_mem *gm, uint64_t first, uint64_t n)
{
    entries_set(gm, first, n, true);
}

uint64_t paging_entry(const struct guest_mem *gm, uint64_t va)
{
    uint64_t *e;
    return walk((struct guest_mem *)gm, va, false, &e) ? 0 : *e;
}

void paging_hook(struct paging *pg, struct guest_mem *gm)
{
    gm->pt_ctx = pg;
    gm->on_perm_change = paging_update;
    gm->on_give = paging_give;
    gm->on_clear = paging_clear;
}

static int map_kernel(struct guest_mem *gm, uint64_t lo, uint64_t hi, uint64_t flags)
{
    for (uint64_t a = lo; a < hi; a += PG) {
        uint64_t *e;
        int rc = walk(gm, a, true, &e);
        if (rc)
            return rc;
        *e = a | flags;
    }
    return 0;
}

/* The PML4 and the firmware region's entries, in a space whose hooks point at pg. */
static int tables_start(struct paging *pg, struct guest_mem *gm, uint64_t fw_image_size)
{
    int rc = table_new(gm, pg, &pg->pml4_gpa);
    if (rc)
        return rc;
    /* Firmware: descriptor tables, request blocks and stacks are supervisor data; the image
     * is supervisor code, read-only. Page 0 and the gaps stay unmapped. */
    const uint64_t kdata = PTE_P | PTE_RW | PTE_NX;
    if ((rc = map_kernel(gm, ISOVM_GDT_GPA, ISOVM_HCBLOCK_END, kdata)) ||
        (rc = map_kernel(gm, ISOVM_TSS_GPA, ISOVM_TSS_END, kdata)) ||
        (rc = map_kernel(gm, ISOVM_FW_STACK_GPA, ISOVM_FW_STACK_END, kdata)) ||
        (rc = map_kernel(gm, ISOVM_RCACHE_GPA, ISOVM_RCACHE_END, kdata)) ||
        (rc = map_kernel(gm, ISOVM_FW_CODE_GPA, ISOVM_FW_CODE_GPA + fw_image_size, PTE_P)))
        return rc;
    return 0;
}

int paging_init(struct paging *pg, struct guest_mem *gm, uint64_t fw_image_size)
{
    if (fw_image_size == 0 || fw_image_size > ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA)
        return -EINVAL;
    if (gm->pt_lo < ISOVM_USER_MIN_GPA + PG || gm->pt_lo % PG || gm->size < gm->pt_lo + 4 * PG ||
        !gm->perm)
        return -ENOMEM;
    /* The area is guest RAM just mapped: all zero, every entry not present without a write; a
     * table takes host memory only once made. */
    pg->root = NULL;
    pg->next_gpa = gm->pt_lo;
    pg->free_gpa = NULL;
    pg->nfree = pg->free_cap = 0;
    paging_hook(pg, gm);
    int rc = tables_start(pg, gm, fw_image_size);
    if (rc)
        return rc;
    gm->user_lo = ISOVM_USER_MIN_GPA;
    gm->user_hi = gm->pt_lo;
    return 0;
}

int paging_space_init(struct paging *pg, struct guest_mem *gm, struct paging *root_pg,
                      uint64_t fw_image_size)
{
    memset(pg, 0, sizeof *pg);
    pg->root = root_pg;
    paging_hook(pg, gm);
    return tables_start(pg, gm, fw_image_size);
}

/* Free the table at `gpa` (of `level`: 3 the PML4) and every table below it. */
static void tables_free(struct guest_mem *gm, struct paging *pg, uint64_t gpa, int level)
{
    if (level > 0)
        for (uint64_t i = 0; i < 512; i++) {
            uint64_t e = *entry_at(gm, gpa, i);
            if ((e & PTE_P) && table_in_area(gm, e & PTE_ADDR))
                tables_free(gm, pg, e & PTE_ADDR, level - 1);
        }
    table_free(gm, pg, gpa);
}

void paging_space_free(struct paging *pg, struct guest_mem *gm)
{
    if (pg->pml4_gpa && table_in_area(gm, pg->pml4_gpa))
        tables_free(gm, pg, pg->pml4_gpa, 3);
    pg->pml4_gpa = 0;
}

void paging_fini(struct paging *pg)
{
    free(pg->free_gpa);
    pg->free_gpa = NULL;
    pg->nfree = pg->free_cap = 0;
}
