/* Guest RAM: per-page user permissions and the one overflow-safe guest-range check. */
#include "vmm/core/guest_mem.h"
#include <errno.h>
#include <string.h>
#include "firmware/abi.h"

#define ISOVM_PAGE ((uint64_t)ISOVM_PAGE_SIZE)

static inline uint64_t page_of(uint64_t a) { return a / ISOVM_PAGE; }

bool gmem_user_range(const struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    uint64_t end;
    return !__builtin_add_overflow(gva, len, &end) && gva >= gm->user_lo && end <= gm->user_hi;
}

int gpa_range_check(const struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned need,
                    void **host)
{
    if (host)
        *host = NULL;
    if (len == 0) {
        /* As Linux's access_ok(addr, 0): nothing is accessed, any address will do. */
        if (host && gva >= gm->user_lo && gva < gm->user_hi)
            *host = gm->host + gva;
        return 0;
    }
    if (!gmem_user_range(gm, gva, len))
        return -EFAULT;
    uint64_t end = gva + len;
    need &= GPERM_RWX;
    if (!need)
        need = GPERM_R;
    for (uint64_t p = page_of(gva); p <= page_of(end - 1); p++) {
        if ((gm->perm[p] & need) != need)
            return -EFAULT;
    }
    if (host)
        *host = gm->host + gva;
    return 0;
}

int gmem_copy_from(const struct guest_mem *gm, void *dst, uint64_t gva, uint64_t len)
{
    void *src;
    int rc = gpa_range_check(gm, gva, len, GPERM_R, &src);
    if (rc)
        return rc;
    if (len)
        memcpy(dst, src, len);
    return 0;
}

int gmem_copy_to(const struct guest_mem *gm, uint64_t gva, const void *src, uint64_t len)
{
    void *dst;
    int rc = gpa_range_check(gm, gva, len, GPERM_W, &dst);
    if (rc)
        return rc;
    if (len)
        memcpy(dst, src, len);
    return 0;
}

long gmem_copy_str(const struct guest_mem *gm, char *dst, uint64_t gva, size_t max)
{
    /* Walk page by page so a string that ends before an unmapped page is accepted. */
    size_t n = 0;
    while (n < max) {
        uint64_t at;
        if (__builtin_add_overflow(gva, (uint64_t)n, &at))
            return -EFAULT;
        uint64_t chunk = ISOVM_PAGE - (at % ISOVM_PAGE);
        if (chunk > max - n)
            chunk = max - n;
        const char *src;
        int rc = gpa_range_check(gm, at, chunk, GPERM_R, (void **)&src);
        if (rc)
            return rc;
        for (uint64_t i = 0; i < chunk; i++) {
            dst[n] = src[i]; /* each byte read once */
            if (dst[n] == '\0')
                return (long)n;
            n++;
        }
    }
    return -ENAMETOOLONG;
}

int gmem_set_perm(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm)
{
    if (gva % ISOVM_PAGE || len % ISOVM_PAGE || !gmem_user_range(gm, gva, len))
        return -EINVAL;
    if (len == 0)
        return 0;
    uint64_t first = page_of(gva), n = len / ISOVM_PAGE;
    for (uint64_t p = first; p < first + n; p++) {
        if (gm->perm[p] && !perm)
            gm->user_pages--;
        else if (!gm->perm[p] && perm)
            gm->user_pages++;
    }
    if (gm->user_pages > gm->user_pages_peak)
        gm->user_pages_peak = gm->user_pages;
    memset(gm->perm + first, (int)perm, n);
    if (gm->on_perm_change)
        gm->on_perm_change(gm, page_of(gva), len / ISOVM_PAGE);
    gm->pt_dirty = true;
    return 0;
}

uint64_t gmem_peak_bytes(const struct guest_mem *gm)
{
    return gm->size - (gm->user_hi - gm->user_lo) + gm->user_pages_peak * ISOVM_PAGE;
}

void *gmem_host_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end) || end > gm->size)
        return NULL;
    return gm->host + gpa;
}
