/* Memory syscalls: brk, mmap (anonymous and of granted files), munmap/mprotect/mremap/madvise over the job's address space. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "firmware/abi.h"
#include "vmm/caps/cap.h"
#include "vmm/caps/cap_map.h"
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

/* Drop pages: their frames are freed and they read back as zero when mapped again; file
 * ranges end. -ENOMEM when that would split a file range past the table (Linux's munmap fails
 * the same way at max_map_count). */
static int range_unmap(struct guest_mem *gm, uint64_t gva, uint64_t len)
{
    return gmem_set_perm(gm, gva, len, 0);
}

/* Frames are given at the first touch, so a mapping costs none until used; but a writable
 * mapping (or brk growth) larger than the frames left, with room for its page tables, is
 * refused at once with ENOMEM, as Linux's heuristic overcommit refuses an obvious overcommit:
 * a job that allocates until malloc fails sees the NULL, not a kill at the next touch. */
static bool frames_short(struct job *job, const struct sc_call *c, uint64_t len)
{
    uint64_t pages = len / PG;
    if (pages + pages / 512 + 4 <= gmem_frames_free(sc_gm(c)))
        return false;
    job->stats.enomem_total++;
    return true;
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

int64_t sys_brk(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = sc_gm(c);
    uint64_t want = c->a[0], old_end, new_end;
    if (want < sc_proc(c)->brk_start || !page_round_up(want, &new_end) ||
        !page_round_up(sc_proc(c)->brk_cur, &old_end))
        return (int64_t)sc_proc(c)->brk_cur;
    if (new_end > old_end) {
        if (!gmem_user_range(gm, old_end, new_end - old_end) ||
            !gmem_range_all(gm, old_end, new_end - old_end, false)) {
            job->stats.enomem_total++; /* no room in the address space */
            return (int64_t)sc_proc(c)->brk_cur;
        }
        if (frames_short(job, c, new_end - old_end))
            return (int64_t)sc_proc(c)->brk_cur;
        gmem_set_perm(gm, old_end, new_end - old_end, GPERM_R | GPERM_W);
    } else if (new_end < old_end) {
        range_unmap(gm, new_end, old_end - new_end);
    }
    sc_proc(c)->brk_cur = want;
    return (int64_t)want;
}

int64_t sys_mmap(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = sc_gm(c);
    uint64_t addr = c->a[0], len, prot = c->a[2], flags = c->a[3];
    if (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC))
        return -EINVAL;
    if (c->a[5] % PG)
        return -EINVAL;
    uint64_t type = flags & 0x0f;
    if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE)
        return -EINVAL;
    struct cap *file = NULL;
    uint32_t slot = 0;
    bool shared = type != MAP_PRIVATE, shared_ro = false;
    if (!(flags & MAP_ANONYMOUS)) {
        /* a file: a regular file of the job's, read right needed; MAP_SHARED with PROT_WRITE
         * needs the write right and a descriptor open for writing, as Linux's EACCES */
        int rc = fd_cap(job, c, c->a[4], CAP_R_READ, &file, &slot);
        if (rc)
            return rc;
        struct stat st;
        if (file->kind != CAP_FILE || fstat(file->host_fd, &st) < 0 || !S_ISREG(st.st_mode))
            return -ENODEV;
        int fl = fcntl(file->host_fd, F_GETFL);
        shared_ro = shared && (!(file->rights & CAP_R_WRITE) || fl < 0 ||
                               (fl & O_ACCMODE) != O_RDWR);
        if (shared_ro && (prot & PROT_WRITE))
            return -EACCES;
    }
    if (c->a[1] == 0 || !page_round_up(c->a[1], &len))
        return c->a[1] == 0 ? -EINVAL : -ENOMEM;
    uint64_t fend;
    if (file && (__builtin_add_overflow(c->a[5], len, &fend) || fend > (uint64_t)INT64_MAX))
        return -EOVERFLOW;
    if ((prot & PROT_WRITE) && !(file && shared) && frames_short(job, c, len))
        return -ENOMEM;
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    if (fixed) {
        if (addr % PG)
            return -EINVAL;
        if (!gmem_user_range(gm, addr, len))
            return -ENOMEM;
        if (!gmem_range_all(gm, addr, len, false)) {
            if (flags & MAP_FIXED_NOREPLACE)
                return -EEXIST;
            if (range_unmap(gm, addr, len))
                return -ENOMEM;
        }
    } else if (addr % PG || !gmem_user_range(gm, addr, len) || !gmem_range_all(gm, addr, len, false)) {
        addr = gmem_find_free(gm, len, sc_proc(c)->mmap_top);
        if (!addr) {
            job->stats.enomem_total++;
            return -ENOMEM;
        }
    }
    if (file) {
        int rc = cap_map_file(job, sc_gm(c), slot, addr, len, prot_perm(prot), c->a[5], shared, shared_ro);
        if (rc == -ENOMEM)
            job->stats.enomem_total++;
        return rc ? rc : (int64_t)addr;
    }
    gmem_set_perm(gm, addr, len, prot_perm(prot));
    return (int64_t)addr;
}

int64_t sys_munmap(struct job *job, struct sc_call *c)
{
    (void)job;
    struct guest_mem *gm = sc_gm(c);
    uint64_t addr = c->a[0], len;
    if (addr % PG || c->a[1] == 0 || !page_round_up(c->a[1], &len) || !gmem_user_range(gm, addr, len))
        return -EINVAL;
    return range_unmap(gm, addr, len);
}

int64_t sys_mprotect(struct job *job, struct sc_call *c)
{
    (void)job;
    struct guest_mem *gm = sc_gm(c);
    uint64_t addr = c->a[0], len, prot = c->a[2];
    if (addr % PG || (prot & ~(uint64_t)(PROT_READ | PROT_WRITE | PROT_EXEC)))
        return -EINVAL;
    if (c->a[1] == 0)
        return 0;
    if (!page_round_up(c->a[1], &len) || !gmem_user_range(gm, addr, len) ||
        !gmem_range_all(gm, addr, len, true))
        return -ENOMEM;
    /* -EACCES: a shared mapping of a file the job may not write */
    return gmem_set_perm(gm, addr, len, prot_perm(prot));
}

int64_t sys_mremap(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = sc_gm(c);
    uint64_t old = c->a[0], old_len, new_len, flags = c->a[3], target = c->a[4];
    if (flags & ~(uint64_t)(MREMAP_MAYMOVE | MREMAP_FIXED) ||
        ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
        return -EINVAL;
    if (old % PG || c->a[1] == 0 || c->a[2] == 0 || !page_round_up(c->a[1], &old_len) ||
        !page_round_up(c->a[2], &new_len))
        return -EINVAL;
    if (!gmem_user_range(gm, old, old_len) || !gmem_range_all(gm, old, old_len, true))
        return -EFAULT;
    unsigned perm = gm->perm[old / PG];
    for (uint64_t p = old / PG; p < (old + old_len) / PG; p++)
        if (gm->perm[p] != perm)
            return -EFAULT; /* not one mapping */
    if (gmem_range_has_file(gm, old, old_len, false))
        return -EINVAL; /* a file's mapping is not moved or grown (docs/syscalls.md) */
    if (flags & MREMAP_FIXED) {
        uint64_t tend;
        if (target % PG || !gmem_user_range(gm, target, new_len) ||
            __builtin_add_overflow(target, new_len, &tend) ||
            (target < old + old_len && old < tend))
            return -EINVAL;
        if (range_unmap(gm, target, new_len))
            return -ENOMEM;
    } else if (new_len <= old_len) {
        if (new_len < old_len)
            range_unmap(gm, old + new_len, old_len - new_len);
        return (int64_t)old;
    } else if ((perm & GPERM_W) && frames_short(job, c, new_len - old_len)) {
        return -ENOMEM;
    } else if (gmem_user_range(gm, old + old_len, new_len - old_len) &&
               gmem_range_all(gm, old + old_len, new_len - old_len, false)) {
        gmem_set_perm(gm, old + old_len, new_len - old_len, perm);
        return (int64_t)old;
    } else if (!(flags & MREMAP_MAYMOVE)) {
        job->stats.enomem_total++;
        return -ENOMEM;
    } else {
        target = gmem_find_free(gm, new_len, sc_proc(c)->mmap_top);
        if (!target) {
            job->stats.enomem_total++;
            return -ENOMEM;
        }
    }
    gmem_set_perm(gm, target, new_len, perm);
    uint64_t keep = old_len < new_len ? old_len : new_len;
    for (uint64_t off = 0; off < keep; off += PG) { /* the pages in use move; the rest stay free */
        if (!gmem_page_given(gm, (old + off) / PG))
            continue;
        if (gmem_give_range(gm, target + off, PG)) { /* no frame for the copy */
            range_unmap(gm, target, new_len);
            job->stats.enomem_total++;
            return -ENOMEM;
        }
        memcpy(gm->host + target + off, gm->host + old + off, PG);
    }
    range_unmap(gm, old, old_len);
    return (int64_t)target;
}

int64_t sys_madvise(struct job *job, struct sc_call *c)
{
    (void)job;
    struct guest_mem *gm = sc_gm(c);
    uint64_t addr = c->a[0], len, advice = c->a[2];
    if (addr % PG || !page_round_up(c->a[1], &len))
        return -EINVAL;
    /* The advice values Linux 6.1 knows (0-4, MADV_FREE 8 .. MADV_COLLAPSE 25). */
    if (!(advice <= MADV_DONTNEED || (advice >= MADV_FREE && advice <= 25)))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!gmem_user_range(gm, addr, len) || !gmem_range_all(gm, addr, len, true))
        return -ENOMEM;
    if (advice == MADV_DONTNEED || advice == MADV_FREE)
        gmem_drop(gm, addr, len); /* the frames freed, the mapping kept: zero again, or the
                                   * file's bytes again, as on Linux */
    return 0;
}

/* msync: MS_SYNC writes a file's shared pages back (the host's msync, with the job lock
 * released: it can wait for the disk); MS_ASYNC and anonymous memory need nothing, as on
 * Linux since 2.6.19. */
int64_t sys_msync(struct job *job, struct sc_call *c)
{
    struct guest_mem *gm = sc_gm(c);
    uint64_t addr = c->a[0], len, flags = c->a[2];
    if (addr % PG || (flags & ~(uint64_t)(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) ||
        ((flags & MS_ASYNC) && (flags & MS_SYNC)) || !page_round_up(c->a[1], &len))
        return -EINVAL;
    if (len == 0)
        return 0;
    if (!gmem_user_range(gm, addr, len) || !gmem_range_all(gm, addr, len, true))
        return -ENOMEM;
    if (!(flags & MS_SYNC) || !gmem_range_has_file(gm, addr, len, false))
        return 0;
    /* the window's host pages stay mapped whatever another thread does meanwhile (an unmap
     * makes them anonymous again), so the range is safe to hand over without the lock */
    void *host = gm->host + addr;
    pthread_mutex_unlock(&job->lock);
    int rc = msync(host, len, MS_SYNC) ? -errno : 0;
    pthread_mutex_lock(&job->lock);
    return rc == -ENOMEM ? 0 : rc; /* made anonymous meanwhile: nothing left to write */
}
