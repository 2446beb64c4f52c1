/* Memory syscalls: brk and anonymous mmap/munmap/mprotect/mremap/madvise over guest RAM pages. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "firmware/abi.h"
#include "vmm/caps/fd.h"
#include "vmm/sys/sys.h"

#define PG ((uint64_t)ISOVM_PAGE_SIZE)

static bool page_round_up(uint64_t v, uint64_t *out)
{
    if (v > UINT64_MAX - (PG - 1))
        return false;
    *out = (v + PG - 1) & ~(PG - 1);
    return true;
}

static bool range_all(const struct guest_mem *gm, uint64_t gva, uint64_t len, bool mapped)
{
    for (uint64_t p = gva / PG; p < (gva + len) / PG; p++)
        if ((gm->perm[p] != 0) != mapped)
            return false;
    return true;
}

/* Drop pages: the host frees them and they read back as zero when mapped again. */
static void range_unmap(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    madvise(gm->host + gva, len, MADV_DONTNEED);
    gmem_set_perm(gm, gva, len, 0);
}

static unsigned prot_perm(uint64_t prot)
{
    unsigned p = 0;
    if (prot & PROT_READ)
        p |= GPERM_R;
    if (prot & PROT_WRITE)
        p |= GPERM_R | GPERM_W; /* x86 pages cannot be write-only */
    if (prot & PROT_EXEC)
        p |= GPERM_R | GPERM_X;
    return p ? p : GPERM_RESERVED;
}

/* Highest free run of len bytes whose end is at most top. 0 if none. */
static uint64_t range_find_free(const struct guest_mem *gm, uint64_t len, uint64_t top)
{
    uint64_t need = len / PG, run = 0;
    if (top > gm->user_hi)
        top = gm->user_hi;
    for (uint64_t p = top / PG; p > gm->user_lo / PG; p--) {
        run = gm->perm[p - 1] ? 0 : run + 1;
        if (run == need)
            return (p - 1) * PG;
    }
    return 0;
}

int64_t sys_brk(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t want = c->a[0], old_end, new_end;
    if (want < job->brk_start || !page_round_up(want, &new_end) ||
        !page_round_up(job->brk_cur, &old_end))
        return (int64_t)job->brk_cur;
    if (new_end > old_end) {
        if (!gmem_user_range(gm, old_end, new_end - old_end) ||
            !range_all(gm, old_end, new_end - old_end, false)) {
            job->stats.enomem_total++; /* no room: the memory limit, as far as the job sees */
            return (int64_t)job->brk_cur;
        }
        gmem_set_perm(gm, old_end, new_end - old_end, GPERM_R | GPERM_W);
    } else if (new_end < old_end) {
        range_unmap(gm, new_end, old_end - new_end);
    }
    job->brk_cur = want;
    return (int64_t)want;
}

int64_t sys_mmap(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t addr = c->a[0], len, prot = c->a[2], flags = c->a[3];
    if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (c->a[5] % PG)
        return -EINVAL;
    uint64_t type = flags & 0x0f;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    if (!(flags & MAP_ANONYMOUS)) {
        uint64_t fd = c->a[4];
        if (fd >= job->fds_max || !job->fds[fd].open)
            return -EBADF;
        return -ENODEV; /* no file can be mapped */
    }
    if (c->a[1] == 0 || !page_round_up(c->a[1], &len))
        return c->a[1] == 0 ? -EINVAL : -ENOMEM;
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed) {
        if (addr % PG)
            return -EINVAL;
        if (!gmem_user_range(gm, addr, len))
            return -ENOMEM;
        if (!range_all(gm, addr, len, false)) {
            if (flags & MAP_FIXED_NOREPLACE)
                return -EEXIST;
            range_unmap(gm, addr, len);
        }
    } else if (addr % PG || !gmem_user_range(gm, addr, len) || !range_all(gm, addr, len, false)) {
        addr = range_find_free(gm, len, job->mmap_top);
        if (!addr) {
            job->stats.enomem_total++;
            return -ENOMEM;
        }
    }
    gmem_set_perm(gm, addr, len, prot_perm(prot));
    return (int64_t)addr;
}

int64_t sys_munmap(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t addr = c->a[0], len;
    if (addr % PG || c->a[1] == 0 || !page_round_up(c->a[1], &len) || !gmem_user_range(gm, addr, len))
        return -EINVAL;
    range_unmap(gm, addr, len);
    return 0;
}

int64_t sys_mprotect(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t addr = c->a[0], len, prot = c->a[2];
    if (addr % PG || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
        return -EINVAL;
    if (c->a[1] == 0)
        return 0;
    if (!page_round_up(c->a[1], &len) || !gmem_user_range(gm, addr, len) ||
        !range_all(gm, addr, len, true))
        return -ENOMEM;
    gmem_set_perm(gm, addr, len, prot_perm(prot));
    return 0;
}

int64_t sys_mremap(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t old = c->a[0], old_len, new_len, flags = c->a[3], target = c->a[4];
    if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
        return -EINVAL;
    if (old % PG || c->a[1] == 0 || c->a[2] == 0 || !page_round_up(c->a[1], &old_len) ||
        !page_round_up(c->a[2], &new_len))
        return -EINVAL;
    if (!gmem_user_range(gm, old, old_len) || !range_all(gm, old, old_len, true))
        return -EFAULT;
    unsigned perm = gm->perm[old / PG];
    for (uint64_t p = old / PG; p < (old + old_len) / PG; p++)
        if (gm->perm[p] != perm)
            return -EFAULT; /* not one mapping */
    if (flags & MREMAP_FIXED) {
        uint64_t tend;
        if (target % PG || !gmem_user_range(gm, target, new_len) ||
            __builtin_add_overflow(target, new_len, &tend) ||
            (target < old + old_len && old < tend))
            return -EINVAL;
        range_unmap(gm, target, new_len);
    } else if (new_len <= old_len) {
        if (new_len < old_len)
            range_unmap(gm, old + new_len, old_len - new_len);
        return (int64_t)old;
    } else if (gmem_user_range(gm, old + old_len, new_len - old_len) &&
               range_all(gm, old + old_len, new_len - old_len, false)) {
        gmem_set_perm(gm, old + old_len, new_len - old_len, perm);
        return (int64_t)old;
    } else if (!(flags & MREMAP_MAYMOVE)) {
        job->stats.enomem_total++;
        return -ENOMEM;
    } else {
        target = range_find_free(gm, new_len, job->mmap_top);
        if (!target) {
            job->stats.enomem_total++;
            return -ENOMEM;
        }
    }
    gmem_set_perm(gm, target, new_len, perm);
    memcpy(gm->host + target, gm->host + old, old_len < new_len ? old_len : new_len);
    range_unmap(gm, old, old_len);
    return (int64_t)target;
}

int64_t sys_madvise(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = &job->vm.gm;
    uint64_t addr = c->a[0], len, advice = c->a[2];
    if (addr % PG || !page_round_up(c->a[1], &len))
        return -EINVAL;
    /* The advice values Linux 6.1 knows (0-4, MADV_FREE 8 .. MADV_COLLAPSE 25). */
    if (!(advice <= MADV_DONTNEED || (advice >= MADV_FREE && advice <= 25)))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!gmem_user_range(gm, addr, len) || !range_all(gm, addr, len, true))
        return -ENOMEM;
    if (advice == MADV_DONTNEED || advice == MADV_FREE)
        madvise(gm->host + addr, len, MADV_DONTNEED); /* reads back as zero, as on Linux */
    return 0;
}
