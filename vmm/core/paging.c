/* Guest page tables: 4-level identity map, supervisor-only firmware, user pages from perm bytes. */
#include "vmm/core/paging.h"
#include <errno.h>
#include <string.h>
#include "firmware/abi.h"

#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_NX  (1ull << 63)
#define PG      ((uint64_t)ISOVM_PAGE_SIZE)

static uint64_t div_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

uint64_t paging_size(uint64_t ram_size)
{
    uint64_t pages = div_up(ram_size, PG);
    uint64_t pts = div_up(pages, 512);
    uint64_t pds = div_up(pts, 512);
    uint64_t pdpts = div_up(pds, 512);
    return (pts + pds + pdpts + 1) * PG;
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

static void paging_update(struct guest_mem *gm, uint64_t first, uint64_t n)
{
    struct paging *pg = gm->pt_ctx;
    for (uint64_t p = first; p < first + n; p++)
        pg->pte[p] = user_pte(p * PG, gm->perm[p]);
}

int paging_init(struct paging *pg, struct guest_mem *gm, uint64_t fw_image_size)
{
    if (fw_image_size == 0 || fw_image_size > ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA)
        return -EINVAL;
    uint64_t size = paging_size(gm->size);
    if (size >= gm->size || gm->size - size < ISOVM_USER_MIN_GPA + PG)
        return -ENOMEM;
    uint64_t pages = gm->size / PG;
    uint64_t pts = div_up(pages, 512), pds = div_up(pts, 512), pdpts = div_up(pds, 512);
    pg->pt_lo = gm->size - size;
    /* Order in the area: leaf tables, page directories, PDPTs, PML4. */
    uint64_t pt_gpa = pg->pt_lo, pd_gpa = pt_gpa + pts * PG, pdpt_gpa = pd_gpa + pds * PG;
    pg->pml4_gpa = pdpt_gpa + pdpts * PG;
    /* The area is guest RAM just mapped (vm_create): all zero, so every entry starts not
     * present without a write. Writing it would populate every table page of all of RAM (8 MiB
     * for a 4 GiB guest) at each launch; untouched, a leaf table costs host memory only once an
     * entry in it is set, and the guest's page walks of the others read the zero page. */
    if (!gmem_host_ptr(gm, pg->pt_lo, size))
        return -ENOMEM;
    pg->pte = (uint64_t *)(void *)(gm->host + pt_gpa);
    uint64_t *pd = (uint64_t *)(void *)(gm->host + pd_gpa);
    uint64_t *pdpt = (uint64_t *)(void *)(gm->host + pdpt_gpa);
    uint64_t *pml4 = (uint64_t *)(void *)(gm->host + pg->pml4_gpa);
    const uint64_t dir = PTE_P | PTE_RW | PTE_US; /* leaves decide the rights */
    for (uint64_t i = 0; i < pts; i++)
        pd[i] = (pt_gpa + i * PG) | dir;
    for (uint64_t i = 0; i < pds; i++)
        pdpt[i] = (pd_gpa + i * PG) | dir;
    for (uint64_t i = 0; i < pdpts; i++)
        pml4[i] = (pdpt_gpa + i * PG) | dir;

    /* Firmware: descriptor tables, request blocks and stacks are supervisor data; the image
     * is supervisor code, read-only. Page 0, the gaps and the page tables stay unmapped. */
    const uint64_t kdata = PTE_P | PTE_RW | PTE_NX;
    for (uint64_t a = ISOVM_GDT_GPA; a < ISOVM_HCBLOCK_END; a += PG)
        pg->pte[a / PG] = a | kdata;
    for (uint64_t a = ISOVM_TSS_GPA; a < ISOVM_TSS_END; a += PG)
        pg->pte[a / PG] = a | kdata;
    for (uint64_t a = ISOVM_FW_STACK_GPA; a < ISOVM_FW_STACK_END; a += PG)
        pg->pte[a / PG] = a | kdata;
    for (uint64_t a = ISOVM_RCACHE_GPA; a < ISOVM_RCACHE_END; a += PG)
        pg->pte[a / PG] = a | kdata;
    for (uint64_t a = ISOVM_FW_CODE_GPA; a < ISOVM_FW_CODE_GPA + fw_image_size; a += PG)
        pg->pte[a / PG] = a | PTE_P;

    gm->user_lo = ISOVM_USER_MIN_GPA;
    gm->user_hi = pg->pt_lo;
    gm->pt_ctx = pg;
    gm->on_perm_change = paging_update;
    return 0;
}
