/* Test double for guest RAM: gmem_host_ptr, gmem_set_perm and gmem_give_range over a calloc'ed buffer, logging calls. */
#include "fake_guest_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_PAGE 4096ULL

struct fake_perm_call fake_perm_log[FAKE_PERM_LOG_MAX];
unsigned fake_perm_calls;

int fake_gmem_init(struct guest_mem *gm, uint64_t size, uint64_t user_lo, uint64_t user_hi)
{
    memset(gm, 0, sizeof(*gm));
    gm->host = calloc(1, size);
    gm->npages = size / FAKE_PAGE;
    gm->perm = calloc(1, gm->npages ? gm->npages : 1);
    gm->given = calloc(1, gm->npages / 8 + 1);
    if (!gm->host || !gm->perm || !gm->given) {
        fake_gmem_free(gm);
        return -ENOMEM;
    }
    gm->size = size;
    gm->user_lo = user_lo;
    gm->user_hi = user_hi;
    fake_perm_calls = 0;
    memset(fake_perm_log, 0, sizeof(fake_perm_log));
    return 0;
}

void fake_gmem_free(struct guest_mem *gm)
{
    free(gm->host);
    free(gm->perm);
    free(gm->given);
    memset(gm, 0, sizeof(*gm));
}

void *gmem_host_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    uint64_t end;
    if (__builtin_add_overflow(gpa, len, &end) || end > gm->size)
        return NULL;
    return gm->host + gpa;
}

int gmem_set_perm(struct guest_mem *gm, uint64_t gva, uint64_t len, unsigned perm)
{
    uint64_t end;
    if (fake_perm_calls < FAKE_PERM_LOG_MAX)
        fake_perm_log[fake_perm_calls] = (struct fake_perm_call){gva, len, perm};
    fake_perm_calls++;
    if (gva % FAKE_PAGE || len % FAKE_PAGE || __builtin_add_overflow(gva, len, &end) ||
        gva < gm->user_lo || end > gm->user_hi || end > gm->size)
        return -EINVAL;
    memset(gm->perm + gva / FAKE_PAGE, (int)perm, len / FAKE_PAGE);
    gm->pt_dirty = true;
    return 0;
}

int gmem_give_range(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    uint64_t end;
    if (len == 0)
        return 0;
    if (__builtin_add_overflow(gva, len, &end) || gva < gm->user_lo || end > gm->user_hi ||
        end > gm->size)
        return -EFAULT;
    for (uint64_t p = gva / FAKE_PAGE; p <= (end - 1) / FAKE_PAGE; p++) {
        if (!gmem_page_given(gm, p))
            gm->frames_given++;
        gm->given[p / 8] |= (uint8_t)(1u << (p % 8));
    }
    return 0;
}
