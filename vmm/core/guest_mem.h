/* Guest RAM: the host mapping, per-page user permissions, and the one guest-range check. */
#ifndef ISOVM_GUEST_MEM_H
#define ISOVM_GUEST_MEM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Per-page user permissions. A page with no bit set is not mapped for ring 3. */
enum {
    GPERM_R = 0x1,
    GPERM_W = 0x2,
    GPERM_X = 0x4,
    GPERM_RESERVED = 0x80, /* address space taken (e.g. PROT_NONE or guard) but not accessible */
};
#define GPERM_RWX (GPERM_R | GPERM_W | GPERM_X)

struct guest_mem {
    uint8_t *host;     /* host mapping of guest-physical [0, size) */
    uint64_t size;     /* bytes of guest RAM, page multiple */
    uint8_t *perm;     /* one GPERM_* byte per page */
    uint64_t npages;
    uint64_t user_lo;  /* lowest address ring 3 may ever map */
    uint64_t user_hi;  /* one past the highest address ring 3 may ever map (page tables above) */
    bool pt_dirty;     /* page permissions changed since the guest last reloaded CR3 */
    uint64_t user_pages;      /* pages with any permission (mapped or reserved) */
    uint64_t user_pages_peak;
    void (*on_perm_change)(struct guest_mem *gm, uint64_t first_page, uint64_t npages);
    void *pt_ctx;      /* paging state for on_perm_change */
};

/* [gva, gva+len) does not wrap and lies inside [user_lo, user_hi): the one bounds test that the
 * checks below and the memory syscalls share. */
bool gmem_user_range(const struct guest_mem *gm, uint64_t gva, uint64_t len);

/* A canonical lower-half (user) address, as an FS base or TLS pointer must be. */
static inline bool gva_canonical_user(uint64_t gva) { return gva < (1ull << 47); }

/* Check that [gva, gva+len) lies in user-mappable RAM and that every page in it has all of the
 * `need` GPERM_ bits. Overflow-safe. len 0 is always valid, as on Linux (*host is NULL unless
 * gva is in the user range). Returns 0 and sets *host, or -EFAULT. */
int gpa_range_check(const struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned need,
                    void **host);

/* Copy from/to guest user memory, checked with gpa_range_check. 0 or -EFAULT. */
int gmem_copy_from(const struct guest_mem *gm, void *dst, uint64_t gva, uint64_t len);
int gmem_copy_to(const struct guest_mem *gm, uint64_t gva, const void *src, uint64_t len);

/* Copy a NUL-terminated string of at most max-1 bytes from guest user memory.
 * Returns its length, -EFAULT, or -ENAMETOOLONG. */
long gmem_copy_str(const struct guest_mem *gm, char *dst, uint64_t gva, size_t max);

/* Set the user permissions of whole pages [gva, gva+len) (page aligned, inside
 * [user_lo, user_hi)). perm 0 unmaps. Updates page tables. 0 or -EINVAL. */
int gmem_set_perm(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm);

/* Guest RAM the job has used at most: the fixed reserve (everything outside [user_lo, user_hi))
 * plus the peak of its mapped and reserved pages. Never above gm->size. */
uint64_t gmem_peak_bytes(const struct guest_mem *gm);

/* Host pointer for a guest-physical range with no permission check: for the VMM's own
 * structures (firmware, page tables, loader). NULL if out of RAM or overflowing. */
void *gmem_host_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

#endif
