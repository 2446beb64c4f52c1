/* Unit tests for guest_mem (gpa_range_check, copies, gmem_set_perm) and paging_init, no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "job_fixture.h"
#include "vmm/core/paging.h"

#define U0 0x200000ull   /* a user address used by most tests */

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

static struct guest_mem *GM(void **state) { return &((struct job *)*state)->vm.gm; }

static void test_layout(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = GM(state);
    assert_int_equal(paging_size(FIX_RAM_SIZE), 11 * FIX_PG); /* 8 PT + PD + PDPT + PML4 */
    assert_int_equal(gm->user_lo, ISOVM_USER_MIN_GPA);
    assert_int_equal(gm->user_hi, FIX_RAM_SIZE - 11 * FIX_PG);
    assert_int_equal(job->vm.pg.pt_lo, gm->user_hi);
    assert_int_equal(job->vm.pg.pml4_gpa, FIX_RAM_SIZE - FIX_PG);
    assert_true(gm->on_perm_change != NULL);
    assert_ptr_equal(gm->pt_ctx, &job->vm.pg);
}

static void test_len0(void **state)
{
    struct guest_mem *gm = GM(state);
    void *h = (void *)1;
    /* In the user range, even unmapped or reserved: valid, pointer returned. */
    assert_int_equal(gpa_range_check(gm, U0, 0, GPERM_R, &h), 0);
    assert_ptr_equal(h, gm->host + U0);
    fix_map(*state, U0, FIX_PG, GPERM_RESERVED);
    assert_int_equal(gpa_range_check(gm, U0, 0, GPERM_W, &h), 0);
    assert_int_equal(gpa_range_check(gm, gm->user_lo, 0, GPERM_W, &h), 0);
    assert_int_equal(gpa_range_check(gm, gm->user_hi, 0, GPERM_W, &h), 0);
    assert_int_equal(gpa_range_check(gm, U0, 0, GPERM_R, NULL), 0); /* host may be NULL */
}

/* guest_mem.h: "len 0 is valid (returns a pointer only if gva is in RAM)" and "sets *host (may
 * be NULL for len 0)": a zero-length range is never a fault, wherever it points. This is also
 * what Linux does for user pointers (write(fd, NULL, 0) == 0). */
static void test_len0_outside_user_range(void **state)
{
    struct guest_mem *gm = GM(state);
    const uint64_t in_ram[] = { 0, 8, ISOVM_HCBLOCK_GPA, ISOVM_FW_CODE_GPA, gm->user_lo - 1,
                                gm->user_hi + 1, FIX_RAM_SIZE - 1 };
    for (unsigned i = 0; i < sizeof in_ram / sizeof in_ram[0]; i++) {
        void *h = (void *)1;
        if (gpa_range_check(gm, in_ram[i], 0, GPERM_R, &h) != 0)
            fail_msg("gpa_range_check(0x%llx, len 0) refused", (unsigned long long)in_ram[i]);
    }
    const uint64_t outside[] = { FIX_RAM_SIZE, 1ull << 47, UINT64_MAX };
    for (unsigned i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        void *h = (void *)1;
        if (gpa_range_check(gm, outside[i], 0, GPERM_R, &h) != 0)
            fail_msg("gpa_range_check(0x%llx, len 0) refused", (unsigned long long)outside[i]);
        assert_null(h); /* not in RAM: no pointer */
    }
}

static void test_low_and_firmware_refused(void **state)
{
    struct guest_mem *gm = GM(state);
    /* Even if perm bytes were somehow set below user_lo, the range bound refuses them. */
    const uint64_t bad[] = { 0, 1, 0x1000, ISOVM_IDT_GPA, ISOVM_HCBLOCK_GPA, ISOVM_FW_STACK_GPA,
                             ISOVM_FW_CODE_GPA, ISOVM_FW_CODE_END - 8, ISOVM_RCACHE_GPA,
                             ISOVM_RCACHE_END - 8 };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *h = (void *)1;
        assert_int_equal(gpa_range_check(gm, bad[i], 8, GPERM_R, &h), -EFAULT);
        assert_null(h);
        assert_int_equal(gpa_range_check(gm, bad[i], 1, GPERM_W, NULL), -EFAULT);
    }
    memset(gm->perm, GPERM_RWX, ISOVM_USER_MIN_GPA / FIX_PG); /* not reachable through the API */
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gpa_range_check(gm, bad[i], 8, GPERM_R, NULL), -EFAULT);
    memset(gm->perm, 0, ISOVM_USER_MIN_GPA / FIX_PG);
}

static void test_bounds(void **state)
{
    struct guest_mem *gm = GM(state);
    uint64_t lo = gm->user_lo, hi = gm->user_hi;
    fix_map(*state, lo, 2 * FIX_PG, GPERM_R | GPERM_W);
    fix_map(*state, hi - 2 * FIX_PG, 2 * FIX_PG, GPERM_R | GPERM_W);
    void *h;
    assert_int_equal(gpa_range_check(gm, lo, 16, GPERM_R, &h), 0);
    assert_ptr_equal(h, gm->host + lo);
    assert_int_equal(gpa_range_check(gm, lo - 1, 2, GPERM_R, NULL), -EFAULT); /* straddles lo */
    assert_int_equal(gpa_range_check(gm, lo - 1, 1, GPERM_R, NULL), -EFAULT);
    /* Exactly up to user_hi. */
    assert_int_equal(gpa_range_check(gm, hi - 2 * FIX_PG, 2 * FIX_PG, GPERM_W, &h), 0);
    assert_ptr_equal(h, gm->host + hi - 2 * FIX_PG);
    assert_int_equal(gpa_range_check(gm, hi - 1, 1, GPERM_R, NULL), 0);
    /* One past. */
    assert_int_equal(gpa_range_check(gm, hi - 2 * FIX_PG, 2 * FIX_PG + 1, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, hi - 1, 2, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, hi, 1, GPERM_R, NULL), -EFAULT);
    /* Page-table area and beyond RAM. */
    assert_int_equal(gpa_range_check(gm, ((struct job *)*state)->vm.pg.pml4_gpa, 8, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, FIX_RAM_SIZE, 8, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, 1ull << 47, 8, GPERM_R, NULL), -EFAULT);
}

static void test_overflow(void **state)
{
    struct guest_mem *gm = GM(state);
    fix_map(*state, U0, FIX_PG, GPERM_RWX);
    void *h = (void *)1;
    assert_int_equal(gpa_range_check(gm, 0xfffffffffffff000ull, 0x2000, GPERM_R, &h), -EFAULT);
    assert_null(h);
    assert_int_equal(gpa_range_check(gm, UINT64_MAX, 1, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, UINT64_MAX, 2, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0, UINT64_MAX, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, 0, UINT64_MAX, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, 1, UINT64_MAX, GPERM_R, NULL), -EFAULT);
    /* A wrap that lands back inside user memory. */
    assert_int_equal(gpa_range_check(gm, U0 + 8, UINT64_MAX - 7, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0, 1ull << 63, GPERM_R, NULL), -EFAULT);
}

static void test_page_crossing_and_perms(void **state)
{
    struct guest_mem *gm = GM(state);
    fix_map(*state, U0, FIX_PG, GPERM_R | GPERM_W);
    fix_map(*state, U0 + FIX_PG, FIX_PG, GPERM_R);
    fix_map(*state, U0 + 3 * FIX_PG, FIX_PG, GPERM_RESERVED);
    fix_map(*state, U0 + 4 * FIX_PG, FIX_PG, GPERM_X);
    /* Mapped into unmapped (page U0+2) */
    assert_int_equal(gpa_range_check(gm, U0, 2 * FIX_PG, GPERM_R, NULL), 0);
    assert_int_equal(gpa_range_check(gm, U0 + 2 * FIX_PG - 1, 2, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0, 3 * FIX_PG, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 2 * FIX_PG, 1, GPERM_R, NULL), -EFAULT);
    /* Write to the read-only page, and a write range that crosses into it. */
    assert_int_equal(gpa_range_check(gm, U0, FIX_PG, GPERM_W, NULL), 0);
    assert_int_equal(gpa_range_check(gm, U0 + FIX_PG, 1, GPERM_W, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + FIX_PG - 1, 2, GPERM_W, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + FIX_PG - 1, 2, GPERM_R, NULL), 0);
    /* Reserved pages: neither read nor write, whatever is asked. */
    assert_int_equal(gpa_range_check(gm, U0 + 3 * FIX_PG, 1, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 3 * FIX_PG, 1, GPERM_W, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 3 * FIX_PG, 1, GPERM_RESERVED, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 3 * FIX_PG, 1, 0, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 3 * FIX_PG, 0, GPERM_R, NULL), 0); /* len 0 */
    /* Exec-only page: not readable by the VMM on the job's behalf. */
    assert_int_equal(gpa_range_check(gm, U0 + 4 * FIX_PG, 1, GPERM_R, NULL), -EFAULT);
    assert_int_equal(gpa_range_check(gm, U0 + 4 * FIX_PG, 1, GPERM_X, NULL), 0);
    /* need 0 means read. */
    assert_int_equal(gpa_range_check(gm, U0 + FIX_PG, 1, 0, NULL), 0);
    assert_int_equal(gpa_range_check(gm, U0 + 2 * FIX_PG, 1, 0, NULL), -EFAULT);
}

static void test_copy_from_to(void **state)
{
    struct guest_mem *gm = GM(state);
    fix_map(*state, U0, FIX_PG, GPERM_R | GPERM_W);
    fix_map(*state, U0 + FIX_PG, FIX_PG, GPERM_R);
    const char msg[] = "hello, guest";
    assert_int_equal(gmem_copy_to(gm, U0 + FIX_PG - 4, msg, 4), 0);
    assert_memory_equal(gm->host + U0 + FIX_PG - 4, msg, 4);
    assert_int_equal(gmem_copy_to(gm, U0 + FIX_PG - 4, msg, 5), -EFAULT); /* into read-only */
    assert_int_equal(gm->host[U0 + FIX_PG], 0);                            /* nothing written */
    assert_int_equal(gmem_copy_to(gm, U0 + 2 * FIX_PG, msg, 1), -EFAULT);
    assert_int_equal(gmem_copy_to(gm, 0, msg, 1), -EFAULT);
    assert_int_equal(gmem_copy_to(gm, U0, NULL, 0), 0);

    memcpy(gm->host + U0 + FIX_PG, msg, sizeof msg);
    char out[64];
    memset(out, 0x5a, sizeof out);
    assert_int_equal(gmem_copy_from(gm, out, U0 + FIX_PG, sizeof msg), 0);
    assert_string_equal(out, msg);
    assert_int_equal(gmem_copy_from(gm, out, U0 + 2 * FIX_PG - 8, 9), -EFAULT);
    assert_int_equal(gmem_copy_from(gm, out, ISOVM_FW_CODE_GPA, 8), -EFAULT);
    assert_int_equal(gmem_copy_from(gm, out, UINT64_MAX - 3, 8), -EFAULT);
    assert_int_equal(gmem_copy_from(gm, out, U0, 0), 0);
}

static void test_copy_str(void **state)
{
    struct guest_mem *gm = GM(state);
    char buf[64];
    fix_map(*state, U0, FIX_PG, GPERM_R); /* U0+PG unmapped */
    /* NUL is the last byte of the mapped page. */
    uint64_t s = U0 + FIX_PG - 6;
    memcpy(gm->host + s, "abcde", 6);
    assert_int_equal(gmem_copy_str(gm, buf, s, sizeof buf), 5);
    assert_string_equal(buf, "abcde");
    /* Empty string at the last byte. */
    assert_int_equal(gmem_copy_str(gm, buf, U0 + FIX_PG - 1, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* No NUL before the unmapped page. */
    memcpy(gm->host + s, "abcdef", 6);
    assert_int_equal(gmem_copy_str(gm, buf, s, sizeof buf), -EFAULT);
    /* ... but a short max ends it first. */
    assert_int_equal(gmem_copy_str(gm, buf, s, 6), -ENAMETOOLONG);
    /* Max length: max-1 characters fit, max do not. */
    memcpy(gm->host + U0, "1234567", 8);
    assert_int_equal(gmem_copy_str(gm, buf, U0, 8), 7);
    assert_string_equal(buf, "1234567");
    assert_int_equal(gmem_copy_str(gm, buf, U0, 7), -ENAMETOOLONG);
    assert_int_equal(gmem_copy_str(gm, buf, U0, 1), -ENAMETOOLONG);
    assert_int_equal(gmem_copy_str(gm, buf, U0, 0), -ENAMETOOLONG);
    /* Unmapped, firmware, NULL, overflowing starts. */
    assert_int_equal(gmem_copy_str(gm, buf, U0 + FIX_PG, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_str(gm, buf, 0, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_str(gm, buf, ISOVM_FW_CODE_GPA, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_str(gm, buf, UINT64_MAX, sizeof buf), -EFAULT);
    /* A string crossing pages, both mapped. */
    fix_map(*state, U0 + FIX_PG, FIX_PG, GPERM_R);
    memcpy(gm->host + s, "abcdefgh", 9);
    assert_int_equal(gmem_copy_str(gm, buf, s, sizeof buf), 8);
    assert_string_equal(buf, "abcdefgh");
}

static void test_copy_str_end_of_user(void **state)
{
    struct guest_mem *gm = GM(state);
    uint64_t hi = gm->user_hi;
    char buf[64];
    fix_map(*state, hi - FIX_PG, FIX_PG, GPERM_R | GPERM_W);
    memcpy(gm->host + hi - 4, "xyz", 4); /* NUL is the last user byte */
    assert_int_equal(gmem_copy_str(gm, buf, hi - 4, sizeof buf), 3);
    assert_string_equal(buf, "xyz");
    memcpy(gm->host + hi - 4, "wxyz", 4); /* would run into the page tables */
    assert_int_equal(gmem_copy_str(gm, buf, hi - 4, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_str(gm, buf, hi, sizeof buf), -EFAULT);
}

static void test_set_perm_args(void **state)
{
    struct guest_mem *gm = GM(state);
    uint64_t lo = gm->user_lo, hi = gm->user_hi;
    assert_int_equal(gmem_set_perm(gm, U0 + 1, FIX_PG, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG + 1, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, U0, 1, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, lo - FIX_PG, FIX_PG, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, lo - FIX_PG, 2 * FIX_PG, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, ISOVM_FW_CODE_GPA, FIX_PG, GPERM_RWX), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, 0, FIX_PG, GPERM_RWX), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, hi, FIX_PG, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, hi - FIX_PG, 2 * FIX_PG, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, 0xfffffffffffff000ull, 0x2000, GPERM_R), -EINVAL);
    assert_int_equal(gmem_set_perm(gm, U0, 0xfffffffffffff000ull, GPERM_R), -EINVAL);
    assert_false(gm->pt_dirty);
    for (uint64_t p = 0; p < gm->npages; p++)
        assert_int_equal(gm->perm[p], 0);
    /* Whole user range and zero length are fine. */
    assert_int_equal(gmem_set_perm(gm, U0, 0, GPERM_R), 0);
    assert_int_equal(gmem_set_perm(gm, lo, hi - lo, GPERM_R), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(gm->perm[lo / FIX_PG], GPERM_R);
    assert_int_equal(gm->perm[hi / FIX_PG - 1], GPERM_R);
    assert_int_equal(gm->perm[hi / FIX_PG], 0);
    assert_int_equal(gm->perm[lo / FIX_PG - 1], 0);
}

static void test_set_perm_updates_ptes(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = GM(state);
    uint64_t *pte = job->vm.pg.pte;
    uint64_t p = U0 / FIX_PG;
    assert_int_equal(pte[p], 0);

    assert_int_equal(gmem_set_perm(gm, U0, 2 * FIX_PG, GPERM_R), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(pte[p], U0 | PTE_P | PTE_US | PTE_NX);
    assert_int_equal(pte[p + 1], (U0 + FIX_PG) | PTE_P | PTE_US | PTE_NX);
    assert_int_equal(pte[p + 2], 0);
    assert_int_equal(pte[p - 1], 0);

    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_R | GPERM_W), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(pte[p], U0 | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_int_equal(pte[p + 1], (U0 + FIX_PG) | PTE_P | PTE_US | PTE_NX); /* untouched */

    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_R | GPERM_X), 0);
    assert_int_equal(pte[p], U0 | PTE_P | PTE_US);

    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_RWX), 0);
    assert_int_equal(pte[p], U0 | PTE_P | PTE_US | PTE_RW);

    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_RESERVED), 0);
    assert_int_equal(pte[p], 0);
    assert_int_equal(gm->perm[p], GPERM_RESERVED);

    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0, 2 * FIX_PG, 0), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(pte[p], 0);
    assert_int_equal(pte[p + 1], 0);

    /* Failed calls leave pt_dirty alone. */
    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0 + 1, FIX_PG, GPERM_R), -EINVAL);
    assert_false(gm->pt_dirty);
    /* Last user page. */
    uint64_t last = gm->user_hi - FIX_PG;
    assert_int_equal(gmem_set_perm(gm, last, FIX_PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(pte[last / FIX_PG], last | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_int_equal(pte[last / FIX_PG + 1], 0);
}

static void test_paging_init_layout(void **state)
{
    struct job *job = *state;
    struct guest_mem *gm = GM(state);
    const uint64_t *pte = job->vm.pg.pte;
    assert_int_equal(pte[0], 0); /* page 0 */
    for (uint64_t a = ISOVM_GDT_GPA; a < ISOVM_HCBLOCK_END; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], a | PTE_P | PTE_RW | PTE_NX);
    /* The TSSs follow the request blocks (their own pages since the 64-vCPU fix). */
    assert_int_equal(ISOVM_TSS_GPA, ISOVM_HCBLOCK_END);
    for (uint64_t a = ISOVM_TSS_GPA; a < ISOVM_TSS_END; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], a | PTE_P | PTE_RW | PTE_NX);
    for (uint64_t a = ISOVM_TSS_END; a < ISOVM_FW_STACK_GPA; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], 0);
    for (uint64_t a = ISOVM_FW_STACK_GPA; a < ISOVM_FW_STACK_END; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], a | PTE_P | PTE_RW | PTE_NX);
    for (uint64_t a = ISOVM_FW_STACK_END; a < ISOVM_FW_CODE_GPA; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], 0);
    /* Firmware code: present, supervisor, read-only, executable. */
    for (uint64_t a = ISOVM_FW_CODE_GPA; a < ISOVM_FW_CODE_GPA + FIX_FW_SIZE; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], a | PTE_P);
    for (uint64_t a = ISOVM_FW_CODE_GPA + FIX_FW_SIZE; a < ISOVM_FW_CODE_END; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], 0);
    /* The read cache: supervisor data, never executable. */
    for (uint64_t a = ISOVM_RCACHE_GPA; a < ISOVM_RCACHE_END; a += FIX_PG)
        assert_int_equal(pte[a / FIX_PG], a | PTE_P | PTE_RW | PTE_NX);
    /* No firmware page is user-accessible. */
    for (uint64_t p = 0; p < ISOVM_USER_MIN_GPA / FIX_PG; p++)
        assert_int_equal(pte[p] & PTE_US, 0);
    /* User pages and the page-table area: not present. */
    for (uint64_t p = ISOVM_USER_MIN_GPA / FIX_PG; p < gm->npages; p++)
        assert_int_equal(pte[p], 0);
    /* The directories point at the leaves. */
    const uint64_t *pml4 = (const uint64_t *)(const void *)(gm->host + job->vm.pg.pml4_gpa);
    assert_int_equal(pml4[0] & PTE_P, PTE_P);
    const uint64_t *pdpt = (const uint64_t *)(const void *)(gm->host + (pml4[0] & ~0xfffull));
    const uint64_t *pd = (const uint64_t *)(const void *)(gm->host + (pdpt[0] & ~0xfffull));
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(pd[i] & ~0xfffull, job->vm.pg.pt_lo + i * FIX_PG);
    assert_int_equal(pd[8], 0);
    assert_int_equal(pml4[1], 0);
}

static void test_paging_init_refuses(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    struct paging pg;
    /* Firmware image of 0 bytes or larger than its slot. */
    assert_int_equal(paging_init(&pg, &job->vm.gm, 0), -EINVAL);
    assert_int_equal(paging_init(&pg, &job->vm.gm, ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA + 1), -EINVAL);
    assert_int_equal(paging_init(&pg, &job->vm.gm, ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA), 0);
    /* RAM too small to hold the firmware, one user page and the tables. */
    struct guest_mem small = job->vm.gm;
    small.size = ISOVM_USER_MIN_GPA;
    assert_int_equal(paging_init(&pg, &small, FIX_FW_SIZE), -ENOMEM);
    small.size = ISOVM_USER_MIN_GPA + 5 * FIX_PG; /* tables take 4 pages, one user page left */
    assert_int_equal(paging_init(&pg, &small, FIX_FW_SIZE), 0);
    assert_int_equal(small.user_hi - small.user_lo, FIX_PG);
    fix_job_free(job);
}

/* Resident pages of [p, p + len) (mincore). */
static size_t resident_pages(const uint8_t *p, size_t len)
{
    size_t n = len / FIX_PG, count = 0;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore((void *)p, len, vec), 0);
    for (size_t i = 0; i < n; i++)
        count += vec[i] & 1;
    free(vec);
    return count;
}

/* Lazy tables (issue 16): paging_init over 4 GiB of fresh RAM leaves the 2048 leaf tables
 * untouched but the few the firmware's pages need, and setting permissions on 8 MiB brings in
 * exactly the 4 leaf tables that map them. */
static void test_paging_init_lazy(void **state)
{
    (void)state;
    const uint64_t size = 4ull << 30;
    struct guest_mem gm = { .size = size, .npages = size / FIX_PG };
    gm.host = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    assert_true(gm.host != MAP_FAILED);
    gm.perm = calloc(gm.npages, 1);
    assert_non_null(gm.perm);
    struct paging pg;
    assert_int_equal(paging_init(&pg, &gm, FIX_FW_SIZE), 0);
    uint64_t area = paging_size(size);
    assert_true(area / FIX_PG > 2048); /* 2048 leaf tables, 4 directories, a PDPT, the PML4 */
    size_t before = resident_pages(gm.host + pg.pt_lo, area);
    if (before > 16)
        fail_msg("%zu of %llu table pages resident after paging_init", before,
                 (unsigned long long)(area / FIX_PG));
    assert_int_equal(gmem_set_perm(&gm, 1ull << 30, 8ull << 20, GPERM_R | GPERM_W), 0);
    assert_int_equal(resident_pages(gm.host + pg.pt_lo, area), before + 4);
    assert_int_equal(pg.pte[(1ull << 30) / FIX_PG] & 0x7, 0x7); /* present, writable, user */
    free(gm.perm);
    munmap(gm.host, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test(test_paging_init_lazy),
        cmocka_unit_test_setup_teardown(test_len0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_len0_outside_user_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_and_firmware_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_crossing_and_perms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_from_to, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_str, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_str_end_of_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_perm_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_perm_updates_ptes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_init_layout, setup, teardown),
        cmocka_unit_test(test_paging_init_refuses),
    };
    return cmocka_run_group_tests_name("guest_mem", tests, NULL, NULL) ? 1 : 0;
}
