/* Unit tests for the memory syscalls (brk, mmap, munmap, mprotect, mremap, madvise), no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "job_fixture.h"
#include "vmm/core/paging.h"

#define PG       FIX_PG
#define BRK0     0x400000ull
#define ANON     (MAP_PRIVATE | MAP_ANONYMOUS)
#define RW       (PROT_READ | PROT_WRITE)
#define E(x)     ((int64_t)-(x))

static int setup(void **state)
{
    *state = fix_job_new();
    return 0;
}

static int teardown(void **state)
{
    fix_job_free(*state);
    return 0;
}

static bool all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static bool readable(struct job *job, uint64_t gva, uint64_t len)
{
    return gpa_range_check(&job->vm.gm, gva, len, GPERM_R, NULL) == 0;
}

static bool writable(struct job *job, uint64_t gva, uint64_t len)
{
    return gpa_range_check(&job->vm.gm, gva, len, GPERM_W, NULL) == 0;
}

/* The page-table entry of gva after the job touched it (a first touch gives a mapped page). */
static uint64_t PTE(struct job *job, uint64_t gva)
{
    gmem_fault(&job->vm.gm, gva, GPERM_R);
    return paging_entry(&job->vm.gm, gva);
}

static bool unmapped(struct job *job, uint64_t gva, uint64_t len)
{
    for (uint64_t p = gva / PG; p < (gva + len) / PG; p++)
        if (job->vm.gm.perm[p] || paging_entry(&job->vm.gm, p * PG))
            return false;
    return true;
}

/* ---- brk ---- */

static void test_brk_query_and_grow(void **state)
{
    struct job *job = *state;
    assert_int_equal(SC(job, sys_brk, 0), BRK0);
    assert_int_equal(SC(job, sys_brk, BRK0 - 1), BRK0);   /* below start: current */
    assert_int_equal(SC(job, sys_brk, 0x1000), BRK0);
    assert_int_equal(SC(job, sys_brk, UINT64_MAX), BRK0); /* rounding overflow */
    assert_int_equal(SC(job, sys_brk, BRK0 + 0x2800), BRK0 + 0x2800);
    assert_int_equal(job->procs[0].brk_cur, BRK0 + 0x2800);
    assert_true(writable(job, BRK0, 0x3000));
    assert_false(readable(job, BRK0 + 0x3000, 1));
    assert_int_equal(PTE(job, BRK0), BRK0 | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_true(job->vm.gm.pt_dirty);
    assert_int_equal(SC(job, sys_brk, 0), BRK0 + 0x2800);
    /* Growing inside the last page maps nothing new. */
    assert_int_equal(SC(job, sys_brk, BRK0 + 0x3000), BRK0 + 0x3000);
    assert_false(readable(job, BRK0 + 0x3000, 1));
    /* Past the user range: refused. */
    assert_int_equal(SC(job, sys_brk, job->vm.gm.user_hi + PG), BRK0 + 0x3000);
    assert_int_equal(SC(job, sys_brk, 1ull << 47), BRK0 + 0x3000);
    assert_false(readable(job, BRK0 + 0x3000, 1));
}

static void test_brk_shrink_zeroes(void **state)
{
    struct job *job = *state;
    assert_int_equal(SC(job, sys_brk, BRK0 + 4 * PG), BRK0 + 4 * PG);
    memset(fix_host(job, BRK0), 0xab, 4 * PG);
    assert_int_equal(SC(job, sys_brk, BRK0 + PG), BRK0 + PG);
    assert_true(readable(job, BRK0, PG));
    assert_true(unmapped(job, BRK0 + PG, 3 * PG));
    assert_int_equal(SC(job, sys_brk, BRK0 + 4 * PG), BRK0 + 4 * PG);
    assert_int_equal(*fix_host(job, BRK0), 0xab);                 /* kept */
    assert_true(all_zero(fix_host(job, BRK0 + PG), 3 * PG));       /* fresh */
    /* Back to the start: everything unmapped. */
    assert_int_equal(SC(job, sys_brk, BRK0), BRK0);
    assert_true(unmapped(job, BRK0, 4 * PG));
}

static void test_brk_into_mapping_refused(void **state)
{
    struct job *job = *state;
    int64_t m = SC(job, sys_mmap, BRK0 + 2 * PG, PG, RW, ANON | MAP_FIXED, -1, 0);
    assert_int_equal(m, BRK0 + 2 * PG);
    assert_int_equal(SC(job, sys_brk, BRK0 + 2 * PG), BRK0 + 2 * PG);
    assert_int_equal(SC(job, sys_brk, BRK0 + 2 * PG + 1), BRK0 + 2 * PG);
    assert_int_equal(SC(job, sys_brk, BRK0 + 8 * PG), BRK0 + 2 * PG);
    assert_int_equal(job->vm.gm.perm[(BRK0 + 2 * PG) / PG], GPERM_R | GPERM_W); /* mmap intact */
}

/* ---- mmap ---- */

static void test_mmap_args(void **state)
{
    struct job *job = *state;
    assert_int_equal(SC(job, sys_mmap, 0, 0, RW, ANON, -1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0, PG, 0x8, ANON, -1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0, PG, PROT_GROWSDOWN | RW, ANON, -1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, MAP_ANONYMOUS, -1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, MAP_ANONYMOUS | 0x0f, -1, 0), E(EINVAL));
    /* File-backed: bad descriptor, or a descriptor that cannot be mapped. */
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, MAP_PRIVATE, -1, 0), E(EBADF));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, MAP_PRIVATE, 3, 0), E(EBADF));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, MAP_PRIVATE, 0, 0), E(EBADF)); /* closed */
    fix_fd(job, 0, 0, CAP_R_READ | CAP_R_STAT);
    assert_int_equal(SC(job, sys_mmap, 0, PG, PROT_READ, MAP_PRIVATE, 0, 0), E(ENODEV));
    /* Fixed: unaligned, firmware, page tables, overflow. */
    assert_int_equal(SC(job, sys_mmap, 0x200001, PG, RW, ANON | MAP_FIXED, -1, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, ISOVM_FW_CODE_GPA, PG, RW, ANON | MAP_FIXED, -1, 0),
                     E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, ANON | MAP_FIXED, -1, 0), E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, job->vm.gm.user_lo - PG, 2 * PG, RW, ANON | MAP_FIXED, -1, 0),
                     E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, job->vm.gm.user_hi, PG, RW, ANON | MAP_FIXED, -1, 0),
                     E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0xfffffffffffff000ull, 0x2000, RW, ANON | MAP_FIXED, -1, 0),
                     E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, ISOVM_FW_CODE_GPA, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
                     E(ENOMEM));
    /* Length that overflows when rounded up, or is simply too big. */
    assert_int_equal(SC(job, sys_mmap, 0, UINT64_MAX, RW, ANON, -1, 0), E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0, UINT64_MAX - PG + 2, RW, ANON, -1, 0), E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0, 1ull << 40, RW, ANON, -1, 0), E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0x200000, UINT64_MAX, RW, ANON | MAP_FIXED, -1, 0), E(ENOMEM));
    /* Nothing got mapped by any of this. */
    for (uint64_t p = 0; p < job->vm.gm.npages; p++)
        assert_int_equal(job->vm.gm.perm[p], 0);
    assert_false(job->vm.gm.pt_dirty);
}

static void test_mmap_basic(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = &job->vm.gm;
    int64_t a = SC(job, sys_mmap, 0, 3 * PG - 5, RW, ANON, -1, 0);
    assert_true(a > 0);
    assert_int_equal(a % PG, 0);
    assert_int_equal((uint64_t)a + 3 * PG, gm->user_hi); /* top-down from mmap_top */
    assert_true(writable(job, (uint64_t)a, 3 * PG));
    assert_true(all_zero(fix_host(job, (uint64_t)a), 3 * PG));
    assert_int_equal(PTE(job, a), (uint64_t)a | PTE_P | PTE_US | PTE_RW | PTE_NX);
    int64_t b = SC(job, sys_mmap, 0, PG, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_int_equal(b, a - (int64_t)PG);
    assert_int_equal(PTE(job, b), (uint64_t)b | PTE_P | PTE_US);
    assert_true(readable(job, (uint64_t)b, PG));
    assert_false(writable(job, (uint64_t)b, 1));
    /* Write-only becomes read-write (x86 has no write-only pages). */
    int64_t w = SC(job, sys_mmap, 0, PG, PROT_WRITE, ANON, -1, 0);
    assert_int_equal(gm->perm[w / PG], GPERM_R | GPERM_W);
    /* A free, aligned hint is honoured; a busy one is not. */
    assert_int_equal(SC(job, sys_mmap, 0x300000, PG, RW, ANON, -1, 0), 0x300000);
    int64_t h = SC(job, sys_mmap, 0x300000, PG, RW, ANON, -1, 0);
    assert_true(h > 0 && h != 0x300000);
    h = SC(job, sys_mmap, 0x300001, PG, RW, ANON, -1, 0);
    assert_true(h > 0 && h != 0x300000 && h % PG == 0);
}

static void test_mmap_prot_none(void **state)
{
    struct job *job = *state;
    int64_t a = SC(job, sys_mmap, 0, 2 * PG, PROT_NONE, ANON, -1, 0);
    assert_true(a > 0);
    assert_int_equal(job->vm.gm.perm[a / PG], GPERM_RESERVED);
    assert_int_equal(PTE(job, a), 0);
    assert_false(readable(job, (uint64_t)a, 1));
    assert_false(writable(job, (uint64_t)a, 1));
    assert_int_equal(gpa_range_check(&job->vm.gm, (uint64_t)a, PG, GPERM_X, NULL), -EFAULT);
    /* The space is taken: the next mapping goes below. */
    int64_t b = SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0);
    assert_int_equal(b, a - (int64_t)PG);
    /* mprotect makes it accessible. */
    assert_int_equal(SC(job, sys_mprotect, a, PG, PROT_READ), 0);
    assert_true(readable(job, (uint64_t)a, PG));
    assert_false(readable(job, (uint64_t)a + PG, 1));
}

static void test_mmap_fixed(void **state)
{
    struct job *job = *state;
    uint64_t a = 0x500000;
    assert_int_equal(SC(job, sys_mmap, a, 4 * PG, RW, ANON | MAP_FIXED, -1, 0), a);
    memset(fix_host(job, a), 0x77, 4 * PG);
    /* NOREPLACE over any page of it: EEXIST, contents kept. */
    assert_int_equal(SC(job, sys_mmap, a + PG, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), E(EEXIST));
    assert_int_equal(SC(job, sys_mmap, a - PG, 2 * PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0),
                     E(EEXIST));
    assert_int_equal(SC(job, sys_mmap, a - PG, 2 * PG, RW,
                        ANON | MAP_FIXED | MAP_FIXED_NOREPLACE, -1, 0), E(EEXIST));
    assert_int_equal(*fix_host(job, a + PG), 0x77);
    assert_true(unmapped(job, a - PG, PG));
    /* NOREPLACE on free space works. */
    assert_int_equal(SC(job, sys_mmap, a - PG, PG, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0), a - PG);
    /* MAP_FIXED replaces: new pages are zero, with the new protection. */
    assert_int_equal(SC(job, sys_mmap, a + PG, 2 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0), a + PG);
    assert_true(all_zero(fix_host(job, a + PG), 2 * PG));
    assert_int_equal(*fix_host(job, a), 0x77);
    assert_int_equal(*fix_host(job, a + 3 * PG), 0x77);
    assert_false(writable(job, a + PG, 1));
    assert_true(writable(job, a, PG));
}

static void test_mmap_exhaustion_and_reuse(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = &job->vm.gm;
    uint64_t total = gm->user_hi - gm->user_lo;
    /* a writable mapping larger than the frames left: refused at once, and counted */
    uint64_t refused = job->stats.enomem_total;
    assert_int_equal(SC(job, sys_mmap, 0, total, RW, ANON, -1, 0), E(ENOMEM));
    assert_int_equal(job->stats.enomem_total, refused + 1);
    /* the address space: a reservation may take all of it, and costs no frame */
    uint64_t frames = gm->frames_given + gm->frames_tables;
    assert_int_equal(SC(job, sys_mmap, 0, total + PG, PROT_NONE, ANON, -1, 0), E(ENOMEM));
    int64_t all = SC(job, sys_mmap, 0, total, PROT_NONE, ANON, -1, 0);
    assert_int_equal(all, gm->user_lo);
    assert_int_equal(gm->frames_given + gm->frames_tables, frames);
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0), E(ENOMEM));
    assert_int_equal(SC(job, sys_mmap, 0, PG, PROT_NONE, ANON, -1, 0), E(ENOMEM));
    /* Free two separate pages: a two-page request still fails, one-page ones succeed. */
    uint64_t h1 = 0x600000, h2 = 0x800000;
    assert_int_equal(SC(job, sys_mprotect, h1, PG, RW), 0);
    assert_int_equal(SC(job, sys_mprotect, h2, PG, RW), 0);
    memset(fix_host(job, h1), 0xcc, PG);
    memset(fix_host(job, h2), 0xcc, PG);
    assert_int_equal(SC(job, sys_munmap, h1, PG), 0);
    assert_int_equal(SC(job, sys_munmap, h2, PG), 0);
    assert_int_equal(gm->frames_given, 0);
    assert_int_equal(SC(job, sys_mmap, 0, 2 * PG, RW, ANON, -1, 0), E(ENOMEM));
    int64_t r1 = SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0);
    int64_t r2 = SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0);
    assert_int_equal(r1, h2); /* highest first */
    assert_int_equal(r2, h1);
    assert_true(all_zero(fix_host(job, h1), PG)); /* reused pages come back zeroed */
    assert_true(all_zero(fix_host(job, h2), PG));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0), E(ENOMEM));
    /* Unmap everything: the whole range is available again. */
    assert_int_equal(SC(job, sys_munmap, gm->user_lo, total), 0);
    assert_int_equal(SC(job, sys_mmap, 0, total, PROT_NONE, ANON, -1, 0), gm->user_lo);
    assert_int_equal(gm->frames_given, 0);
}

/* Linux x86-64 mmap: an offset that is not page aligned is EINVAL, also for anonymous maps. */
static void test_mmap_unaligned_offset(void **state)
{
    struct job *job = *state;
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, ANON, -1, 1), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0, PG, RW, ANON, -1, PG + 8), E(EINVAL));
    assert_int_equal(SC(job, sys_mmap, 0x300000, PG, RW, ANON | MAP_FIXED, -1, 0x800), E(EINVAL));
    assert_true(unmapped(job, 0x300000, PG));
}

/* ---- munmap ---- */

static void test_munmap(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = &job->vm.gm;
    int64_t a = SC(job, sys_mmap, 0, 3 * PG, RW, ANON, -1, 0);
    assert_true(a > 0);
    assert_int_equal(SC(job, sys_munmap, a + 1, PG), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, a, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, 0, PG), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, ISOVM_FW_CODE_GPA, PG), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, gm->user_hi, PG), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, a, UINT64_MAX), E(EINVAL));
    assert_int_equal(SC(job, sys_munmap, 0xfffffffffffff000ull, 0x2000), E(EINVAL));
    assert_true(writable(job, (uint64_t)a, 3 * PG));
    /* Firmware PTEs untouched. */
    assert_int_equal(PTE(job, ISOVM_FW_CODE_GPA), ISOVM_FW_CODE_GPA | PTE_P);
    /* Middle page, partial length rounded up. */
    assert_int_equal(SC(job, sys_munmap, a + PG, 10), 0);
    assert_true(writable(job, (uint64_t)a, PG));
    assert_true(unmapped(job, (uint64_t)a + PG, PG));
    assert_true(writable(job, (uint64_t)a + 2 * PG, PG));
    /* Unmapping unmapped space is fine, as on Linux. */
    assert_int_equal(SC(job, sys_munmap, a + PG, PG), 0);
    assert_int_equal(SC(job, sys_munmap, 0x200000, 16 * PG), 0);
}

/* ---- mprotect ---- */

static void test_mprotect(void **state)
{
    struct job *job = *state;
    int64_t a = SC(job, sys_mmap, 0, 2 * PG, RW, ANON, -1, 0);
    assert_true(a > 0);
    uint64_t p = (uint64_t)a / PG;
    assert_int_equal(SC(job, sys_mprotect, a + 1, PG, PROT_READ), E(EINVAL));
    assert_int_equal(SC(job, sys_mprotect, a, PG, 0x10), E(EINVAL));
    assert_int_equal(SC(job, sys_mprotect, a, 0, PROT_READ), 0);
    /* Unmapped or partly unmapped: ENOMEM, nothing changed. */
    assert_int_equal(SC(job, sys_mprotect, 0x200000, PG, PROT_READ), E(ENOMEM));
    assert_int_equal(SC(job, sys_mprotect, a - (int64_t)PG, 2 * PG, PROT_READ), E(ENOMEM));
    assert_int_equal(SC(job, sys_mprotect, ISOVM_FW_CODE_GPA, PG, PROT_READ), E(ENOMEM));
    assert_int_equal(SC(job, sys_mprotect, a, UINT64_MAX, PROT_READ), E(ENOMEM));
    assert_int_equal(PTE(job, p * PG), (uint64_t)a | PTE_P | PTE_US | PTE_RW | PTE_NX);
    /* RW -> R: RW bit cleared. */
    job->vm.gm.pt_dirty = false;
    assert_int_equal(SC(job, sys_mprotect, a, PG, PROT_READ), 0);
    assert_true(job->vm.gm.pt_dirty);
    assert_int_equal(PTE(job, p * PG), (uint64_t)a | PTE_P | PTE_US | PTE_NX);
    assert_int_equal(PTE(job, (p + 1) * PG), (uint64_t)(a + PG) | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_false(writable(job, (uint64_t)a, 1));
    /* R -> RX: NX cleared. */
    assert_int_equal(SC(job, sys_mprotect, a, PG, PROT_READ | PROT_EXEC), 0);
    assert_int_equal(PTE(job, p * PG), (uint64_t)a | PTE_P | PTE_US);
    /* -> RWX, -> NONE, -> RW. */
    assert_int_equal(SC(job, sys_mprotect, a, 2 * PG, RW | PROT_EXEC), 0);
    assert_int_equal(PTE(job, (p + 1) * PG), (uint64_t)(a + PG) | PTE_P | PTE_US | PTE_RW);
    assert_int_equal(SC(job, sys_mprotect, a, 2 * PG, PROT_NONE), 0);
    assert_int_equal(PTE(job, p * PG), 0);
    assert_false(readable(job, (uint64_t)a, 1));
    assert_int_equal(SC(job, sys_mprotect, a, 2 * PG - 100, RW), 0);
    assert_int_equal(PTE(job, (p + 1) * PG), (uint64_t)(a + PG) | PTE_P | PTE_US | PTE_RW | PTE_NX);
}

/* ---- mremap ---- */

static void test_mremap_shrink_and_grow(void **state)
{
    struct job *job = *state;
    uint64_t a = 0x500000;
    assert_int_equal(SC(job, sys_mmap, a, 4 * PG, RW, ANON | MAP_FIXED, -1, 0), a);
    memset(fix_host(job, a), 0x42, 4 * PG);
    /* Shrink in place. */
    assert_int_equal(SC(job, sys_mremap, a, 4 * PG, 2 * PG, 0, 0), a);
    assert_true(writable(job, a, 2 * PG));
    assert_true(unmapped(job, a + 2 * PG, 2 * PG));
    assert_int_equal(*fix_host(job, a + PG), 0x42);
    /* Grow in place: the new part is zero, same protection. */
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 5 * PG, 0, 0), a);
    assert_true(writable(job, a, 5 * PG));
    assert_int_equal(*fix_host(job, a + PG), 0x42);
    assert_true(all_zero(fix_host(job, a + 2 * PG), 3 * PG));
    /* Same size: no-op. */
    assert_int_equal(SC(job, sys_mremap, a, 5 * PG, 5 * PG, 0, 0), a);
    assert_true(writable(job, a, 5 * PG));
}

static void test_mremap_move(void **state)
{
    struct job *job = *state;
    uint64_t a = 0x500000;
    assert_int_equal(SC(job, sys_mmap, a, 2 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0), a);
    assert_int_equal(SC(job, sys_mmap, a + 2 * PG, PG, RW, ANON | MAP_FIXED, -1, 0), a + 2 * PG);
    for (uint64_t i = 0; i < 2 * PG; i++)
        *fix_host(job, a + i) = (uint8_t)(i * 7);
    /* Blocked and not allowed to move. */
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 4 * PG, 0, 0), E(ENOMEM));
    assert_true(readable(job, a, 2 * PG));
    /* Allowed to move: contents and protection follow, the old range goes away. */
    int64_t b = SC(job, sys_mremap, a, 2 * PG, 4 * PG, MREMAP_MAYMOVE, 0);
    assert_true(b > 0);
    assert_int_not_equal(b, a);
    assert_int_equal(b % PG, 0);
    for (uint64_t i = 0; i < 2 * PG; i++)
        assert_int_equal(*fix_host(job, (uint64_t)b + i), (uint8_t)(i * 7));
    assert_true(all_zero(fix_host(job, (uint64_t)b + 2 * PG), 2 * PG));
    assert_true(readable(job, (uint64_t)b, 4 * PG));
    assert_false(writable(job, (uint64_t)b, 1));
    assert_true(unmapped(job, a, 2 * PG));
    assert_true(all_zero(fix_host(job, a), 2 * PG));
    assert_true(writable(job, a + 2 * PG, PG)); /* the neighbour is untouched */
}

static void test_mremap_fixed(void **state)
{
    struct job *job = *state;
    uint64_t a = 0x500000, t = 0x700000;
    assert_int_equal(SC(job, sys_mmap, a, 2 * PG, RW, ANON | MAP_FIXED, -1, 0), a);
    memset(fix_host(job, a), 0x31, 2 * PG);
    /* FIXED without MAYMOVE, unknown flags. */
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, MREMAP_FIXED, t), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, 0x100, t), E(EINVAL));
    /* Target overlapping the old range, either side. */
    uint64_t mf = MREMAP_MAYMOVE | MREMAP_FIXED;
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, a), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, a + PG), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, a - PG), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 4 * PG, mf, a - 3 * PG), E(EINVAL));
    /* Unaligned or outside targets. */
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, t + 1), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, ISOVM_FW_CODE_GPA), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 2 * PG, mf, 0xfffffffffffff000ull), E(EINVAL));
    assert_true(writable(job, a, 2 * PG));
    assert_int_equal(*fix_host(job, a), 0x31);
    /* Valid: onto an existing mapping, which is replaced. */
    assert_int_equal(SC(job, sys_mmap, t, 3 * PG, PROT_READ, ANON | MAP_FIXED, -1, 0), t);
    memset(fix_host(job, t), 0x99, 3 * PG);
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 3 * PG, mf, t), t);
    assert_int_equal(*fix_host(job, t), 0x31);
    assert_int_equal(*fix_host(job, t + 2 * PG - 1), 0x31);
    assert_true(all_zero(fix_host(job, t + 2 * PG), PG));
    assert_true(writable(job, t, 3 * PG));
    assert_true(unmapped(job, a, 2 * PG));
}

static void test_mremap_bad_old(void **state)
{
    struct job *job = *state;
    uint64_t a = 0x500000;
    assert_int_equal(SC(job, sys_mremap, a, PG, 2 * PG, MREMAP_MAYMOVE, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_mmap, a, PG, RW, ANON | MAP_FIXED, -1, 0), a);
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 3 * PG, MREMAP_MAYMOVE, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_mremap, ISOVM_FW_CODE_GPA, PG, 2 * PG, MREMAP_MAYMOVE, 0), E(EFAULT));
    assert_int_equal(SC(job, sys_mremap, a + 1, PG, 2 * PG, MREMAP_MAYMOVE, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, 0, 2 * PG, MREMAP_MAYMOVE, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, PG, 0, MREMAP_MAYMOVE, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, UINT64_MAX, PG, MREMAP_MAYMOVE, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, PG, UINT64_MAX, MREMAP_MAYMOVE, 0), E(EINVAL));
    assert_int_equal(SC(job, sys_mremap, a, PG, 1ull << 40, MREMAP_MAYMOVE, 0), E(ENOMEM));
    /* Two mappings with different protections are not one mapping. */
    assert_int_equal(SC(job, sys_mmap, a + PG, PG, PROT_READ, ANON | MAP_FIXED, -1, 0), a + PG);
    assert_int_equal(SC(job, sys_mremap, a, 2 * PG, 3 * PG, MREMAP_MAYMOVE, 0), E(EFAULT));
    assert_true(writable(job, a, PG));
}

/* ---- madvise ---- */

/* Linux: advice values 5, 6 and 7 are not defined (madvise_behavior_valid) and give EINVAL. */
static void test_madvise_undefined_advice(void **state)
{
    struct job *job = *state;
    int64_t a = SC(job, sys_mmap, 0, PG, RW, ANON, -1, 0);
    assert_true(a > 0);
    for (uint64_t adv = 5; adv <= 7; adv++)
        if (SC(job, sys_madvise, a, PG, adv) != E(EINVAL))
            fail_msg("madvise advice %llu accepted", (unsigned long long)adv);
}

static void test_madvise(void **state)
{
    struct job *job = *state;
    int64_t a = SC(job, sys_mmap, 0, 3 * PG, RW, ANON, -1, 0);
    assert_true(a > 0);
    memset(fix_host(job, (uint64_t)a), 0x5e, 3 * PG);
    assert_int_equal(SC(job, sys_madvise, a + 1, PG, MADV_DONTNEED), E(EINVAL));
    assert_int_equal(SC(job, sys_madvise, a, PG, 12345), E(EINVAL));
    assert_int_equal(SC(job, sys_madvise, a, UINT64_MAX, MADV_DONTNEED), E(EINVAL));
    assert_int_equal(SC(job, sys_madvise, a, 0, MADV_DONTNEED), 0);
    assert_int_equal(SC(job, sys_madvise, 0x200000, PG, MADV_DONTNEED), E(ENOMEM));
    assert_int_equal(SC(job, sys_madvise, a, 4 * PG, MADV_DONTNEED), E(ENOMEM));
    assert_int_equal(*fix_host(job, (uint64_t)a), 0x5e); /* nothing dropped on failure */
    assert_int_equal(SC(job, sys_madvise, a, 3 * PG, MADV_NORMAL), 0);
    assert_int_equal(SC(job, sys_madvise, a, 3 * PG, MADV_WILLNEED), 0);
    assert_int_equal(*fix_host(job, (uint64_t)a), 0x5e);
    /* DONTNEED the middle page: it reads back zero and stays mapped. */
    assert_int_equal(SC(job, sys_madvise, a + PG, PG - 1, MADV_DONTNEED), 0);
    assert_int_equal(*fix_host(job, (uint64_t)a + PG - 1), 0x5e);
    assert_true(all_zero(fix_host(job, (uint64_t)a + PG), PG));
    assert_int_equal(*fix_host(job, (uint64_t)a + 2 * PG), 0x5e);
    assert_true(writable(job, (uint64_t)a, 3 * PG));
    assert_int_equal(SC(job, sys_madvise, a, 3 * PG, MADV_FREE), 0);
    assert_true(all_zero(fix_host(job, (uint64_t)a), 3 * PG));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_brk_query_and_grow),
        T(test_brk_shrink_zeroes),
        T(test_brk_into_mapping_refused),
        T(test_mmap_args),
        T(test_mmap_basic),
        T(test_mmap_prot_none),
        T(test_mmap_fixed),
        T(test_mmap_exhaustion_and_reuse),
        T(test_mmap_unaligned_offset),
        T(test_munmap),
        T(test_mprotect),
        T(test_mremap_shrink_and_grow),
        T(test_mremap_move),
        T(test_mremap_fixed),
        T(test_mremap_bad_old),
        T(test_madvise),
        T(test_madvise_undefined_advice),
    };
    return cmocka_run_group_tests_name("sys_mem", tests, NULL, NULL) ? 1 : 0;
}
