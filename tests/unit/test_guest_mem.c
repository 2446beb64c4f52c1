/* Unit tests for guest_mem (gpa_range_check, copies, gmem_set_perm, first touches) and paging, no KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "firmware/abi.h"
#include "vmm/core/guest_mem.h"
#include "job_fixture.h"
#include "vmm/core/paging.h"
#include "vmm/core/fault.h"

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
    assert_int_equal(gm->user_lo, ISOVM_USER_MIN_GPA);
    assert_int_equal(gm->user_hi, FIX_RAM_SIZE);
    assert_int_equal(gm->pt_lo, FIX_RAM_SIZE);
    assert_int_equal(job->vm.pg.pml4_gpa, gm->pt_lo); /* the area's first table */
    assert_int_equal(gm->frames_tables, 4);           /* PML4, PDPT, PD, the firmware's PT */
    assert_int_equal(gm->frames_given, 0);
    assert_int_equal(gm->frames_total, (FIX_RAM_SIZE - ISOVM_USER_MIN_GPA) / FIX_PG);
    assert_int_equal(gmem_peak_bytes(gm), ISOVM_USER_MIN_GPA + 4 * FIX_PG);
    assert_true(gm->on_perm_change != NULL && gm->on_give != NULL);
    assert_ptr_equal(gm->pt_ctx, &job->vm.pg);
    /* a real job's window: 16 GiB, or twice a larger limit */
    assert_int_equal(paging_window_bytes(64ull << 20), 16ull << 30);
    assert_int_equal(paging_window_bytes(8ull << 30), 16ull << 30);
    assert_int_equal(paging_window_bytes(48ull << 30), 96ull << 30);
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
    assert_int_equal(hi / FIX_PG, gm->npages); /* the window's end: no byte past it */
    assert_int_equal(gm->perm[lo / FIX_PG - 1], 0);
}

static void test_set_perm_updates_ptes(void **state)
{
    struct guest_mem *gm = GM(state);
    assert_int_equal(paging_entry(gm, U0), 0);

    /* mapped, not touched: no entry, no frame */
    assert_int_equal(gmem_set_perm(gm, U0, 2 * FIX_PG, GPERM_R), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(paging_entry(gm, U0), 0);
    assert_int_equal(gm->frames_given, 0);
    /* given: the entry follows the permissions */
    assert_int_equal(gmem_give_range(gm, U0, 1), 0);
    assert_int_equal(gm->frames_given, 1);
    assert_int_equal(paging_entry(gm, U0), U0 | PTE_P | PTE_US | PTE_NX);
    assert_int_equal(paging_entry(gm, U0 + FIX_PG), 0);

    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_R | GPERM_W), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(paging_entry(gm, U0), U0 | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_R | GPERM_X), 0);
    assert_int_equal(paging_entry(gm, U0), U0 | PTE_P | PTE_US);
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_RWX), 0);
    assert_int_equal(paging_entry(gm, U0), U0 | PTE_P | PTE_US | PTE_RW);
    /* PROT_NONE keeps the frame (its bytes come back with the rights), no entry */
    memcpy(gm->host + U0, "kept", 4);
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_RESERVED), 0);
    assert_int_equal(paging_entry(gm, U0), 0);
    assert_int_equal(gm->perm[U0 / FIX_PG], GPERM_RESERVED);
    assert_int_equal(gm->frames_given, 1);
    assert_int_equal(gmem_set_perm(gm, U0, FIX_PG, GPERM_R), 0);
    assert_memory_equal(gm->host + U0, "kept", 4);

    /* unmapped: the frame goes back and the page reads as zero when given again */
    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0, 2 * FIX_PG, 0), 0);
    assert_true(gm->pt_dirty);
    assert_int_equal(paging_entry(gm, U0), 0);
    assert_int_equal(gm->frames_given, 0);
    assert_int_equal(gm->host[U0], 0);

    /* Failed calls leave pt_dirty alone. */
    gm->pt_dirty = false;
    assert_int_equal(gmem_set_perm(gm, U0 + 1, FIX_PG, GPERM_R), -EINVAL);
    assert_false(gm->pt_dirty);
    /* Last user page. */
    uint64_t last = gm->user_hi - FIX_PG;
    assert_int_equal(gmem_set_perm(gm, last, FIX_PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_give_range(gm, last, FIX_PG), 0);
    assert_int_equal(paging_entry(gm, last), last | PTE_P | PTE_US | PTE_RW | PTE_NX);
    assert_int_equal(gmem_give_range(gm, last, FIX_PG + 1), -EFAULT); /* past the window */
}

/* The job's first touches: given when the rights allow the access, counted, refused at the
 * memory limit; the VMM's writes give the pages they reach, its reads do not. */
static void test_first_touch(void **state)
{
    struct guest_mem *gm = GM(state);
    assert_int_equal(gmem_fault(gm, U0, GPERM_R), -EFAULT);          /* not mapped */
    assert_int_equal(gmem_fault(gm, 0x1000, GPERM_R), -EFAULT);      /* firmware */
    assert_int_equal(gmem_fault(gm, gm->user_hi, GPERM_R), -EFAULT); /* past the window */
    assert_int_equal(gmem_set_perm(gm, U0, 4 * FIX_PG, GPERM_R), 0);
    assert_int_equal(gmem_fault(gm, U0, GPERM_W), -EFAULT);  /* read-only */
    assert_int_equal(gmem_fault(gm, U0, GPERM_X), -EFAULT);  /* not executable */
    assert_int_equal(gm->frames_given, 0);
    assert_int_equal(gmem_fault(gm, U0 + FIX_PG + 5, GPERM_R), 0);
    /* with frames to spare, the rest of its group of 16 with the same rights comes along */
    assert_int_equal(gm->frames_given, 4);
    assert_int_equal(gm->first_touches, 1);
    assert_true(gmem_page_given(gm, U0 / FIX_PG));
    assert_false(gmem_page_given(gm, U0 / FIX_PG + 4)); /* not mapped */
    assert_int_equal(paging_entry(gm, U0) & PTE_P, PTE_P);
    assert_int_equal(gmem_fault(gm, U0, GPERM_R), 0); /* twice (another vCPU's): no new frame */
    assert_int_equal(gm->frames_given, 4);
    assert_int_equal(gm->first_touches, 1);
    /* reads by the VMM give nothing; a write gives what it covers */
    char buf[8];
    assert_int_equal(gmem_set_perm(gm, U0 + 16 * FIX_PG, 4 * FIX_PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_copy_from(gm, buf, U0 + 17 * FIX_PG, sizeof buf), 0);
    assert_int_equal(gm->frames_given, 4);
    assert_int_equal(gmem_copy_to(gm, U0 + 18 * FIX_PG - 2, "abcd", 4), 0);
    assert_int_equal(gm->frames_given, 6);
    assert_int_equal(gm->first_touches, 1);
    /* an eighth of the frames or less free: one page at a time, every frame one touched */
    gm->frames_total = gm->frames_given + gm->frames_tables + 2;
    assert_int_equal(gmem_set_perm(gm, U0 + 32 * FIX_PG, 16 * FIX_PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_fault(gm, U0 + 32 * FIX_PG, GPERM_W), 0);
    assert_false(gmem_page_given(gm, U0 / FIX_PG + 33));
    assert_int_equal(gmem_fault(gm, U0 + 33 * FIX_PG, GPERM_W), 0);
    assert_int_equal(gmem_frames_free(gm), 0);
    /* the memory limit: every frame in use */
    uint64_t used = gm->frames_given + gm->frames_tables;
    assert_int_equal(gmem_fault(gm, U0 + 34 * FIX_PG, GPERM_W), -ENOMEM);
    void *h = (void *)1;
    assert_int_equal(gpa_range_check(gm, U0 + 34 * FIX_PG, 8, GPERM_W, &h), -ENOMEM);
    assert_null(h);
    assert_int_equal(gm->frames_peak, used);
    /* a page table is a frame too: a page under a new table needs two */
    assert_int_equal(gmem_set_perm(gm, U0, 4 * FIX_PG, 0), 0); /* four back */
    uint64_t far = 12ull << 20; /* its own leaf table */
    assert_int_equal(gmem_set_perm(gm, far, FIX_PG, GPERM_R | GPERM_W), 0);
    gm->frames_total = gm->frames_given + gm->frames_tables + 1;
    assert_int_equal(gmem_fault(gm, far, GPERM_W), -ENOMEM);
    assert_false(gmem_page_given(gm, far / FIX_PG));
    gm->frames_total++;
    assert_int_equal(gmem_fault(gm, far, GPERM_W), 0);
}

/* Reservations: mapped address space costs no frame, and the counts let whole chunks be
 * judged and skipped. */
static void test_reservations(void **state)
{
    struct guest_mem *gm = GM(state);
    uint64_t tables = gm->frames_tables;
    uint64_t lo = 2ull << 20, len = 8ull << 20; /* four whole chunks */
    assert_true(gmem_range_all(gm, lo, len, false));
    assert_int_equal(gmem_set_perm(gm, lo, len, GPERM_RESERVED), 0);
    assert_true(gmem_range_all(gm, lo, len, true));
    assert_false(gmem_range_all(gm, lo - FIX_PG, len, true));
    assert_int_equal(gm->user_pages, len / FIX_PG);
    assert_int_equal(gmem_set_perm(gm, lo, len, GPERM_R | GPERM_W), 0);
    assert_int_equal(gm->frames_given + gm->frames_tables - tables, 0);
    assert_int_equal(gmem_peak_bytes(gm), ISOVM_USER_MIN_GPA + tables * FIX_PG);
    /* the highest free run under a top: above the mapping, then below it */
    assert_int_equal(gmem_find_free(gm, 2 * FIX_PG, gm->user_hi), gm->user_hi - 2 * FIX_PG);
    assert_int_equal(gmem_find_free(gm, FIX_PG, lo + len), lo - FIX_PG);
    assert_int_equal(gmem_find_free(gm, 1ull << 20, lo + len), lo - (1ull << 20));
    assert_int_equal(gmem_find_free(gm, 2ull << 20, lo + len), 0); /* 1 MiB below: too small */
    /* a hole in a chunk is found page by page */
    assert_int_equal(gmem_set_perm(gm, lo + 4 * FIX_PG, 3 * FIX_PG, 0), 0);
    assert_false(gmem_range_all(gm, lo, len, true));
    assert_int_equal(gmem_find_free(gm, 3 * FIX_PG, lo + len), lo + 4 * FIX_PG);
    assert_int_equal(gmem_set_perm(gm, lo, len, 0), 0);
    assert_int_equal(gm->user_pages, 0);
    assert_true(gmem_range_all(gm, lo, len, false));
}

/* A temporary file of n pages, page i filled with 'a' + i. */
static int temp_file(unsigned n)
{
    char path[] = "/tmp/isovm-gm-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char page[FIX_PG];
    for (unsigned i = 0; i < n; i++) {
        memset(page, 'a' + (int)i, sizeof page);
        assert_int_equal(pwrite(fd, page, sizeof page, (off_t)(i * FIX_PG)), (ssize_t)FIX_PG);
    }
    return fd;
}

static int key_deltas;
static void key_note(struct guest_mem *gm, uint64_t key, int delta)
{
    (void)gm;
    assert_int_equal(key, 77);
    key_deltas += delta;
}

/* File ranges: the host maps the file over the window; unmapping ends them (anonymous zero
 * again) and splits them, each piece holding the key; a shortened file's pages past the end
 * lose their frames, and a first touch there is -EIO; the VMM's copies past the end answer
 * EFAULT instead of crashing. */
static void test_file_ranges(void **state)
{
    struct guest_mem *gm = GM(state);
    assert_int_equal(gmem_sigbus_guard_init(), 0);
    gm->on_file_key = key_note;
    key_deltas = 0;
    int fd = temp_file(4);
    uint64_t a = 4ull << 20;
    assert_int_equal(gmem_map_file(gm, a, 4 * FIX_PG, GPERM_R | GPERM_W, fd, FIX_PG, true, false,
                                   77), 0);
    assert_int_equal(gm->nfiles, 1);
    assert_true(gmem_range_has_file(gm, a + FIX_PG, 1, false));
    assert_false(gmem_range_has_file(gm, a, 4 * FIX_PG, true)); /* writable: not shared_ro */
    assert_int_equal(gm->host[a], 'b'); /* file offset one page */
    /* shared: a store through the window is the file's */
    assert_int_equal(gmem_fault(gm, a, GPERM_W), 0);
    gm->host[a + 1] = 'Z';
    char c = 0;
    assert_int_equal(pread(fd, &c, 1, FIX_PG + 1), 1);
    assert_int_equal(c, 'Z');
    /* the middle unmapped: anonymous zero there, two ranges, the key held twice */
    assert_int_equal(gmem_set_perm(gm, a + FIX_PG, FIX_PG, 0), 0);
    assert_int_equal(gm->nfiles, 2);
    assert_int_equal(key_deltas, 1);
    assert_int_equal(gm->host[a + FIX_PG], 0);
    assert_int_equal(gm->host[a + 2 * FIX_PG], 'd');
    /* the file shortened to 2 pages: the window's pages past the end (offsets 2 and 3 pages,
     * at a + 1 and a + 2 pages) lose their frames; a touch there is past the end */
    assert_int_equal(gmem_fault(gm, a + 2 * FIX_PG, GPERM_R), 0);
    assert_true(gmem_page_given(gm, (a + 2 * FIX_PG) / FIX_PG));
    assert_int_equal(ftruncate(fd, 2 * FIX_PG), 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    gmem_file_resized(gm, st.st_dev, st.st_ino, 2 * FIX_PG);
    assert_false(gmem_page_given(gm, (a + 2 * FIX_PG) / FIX_PG));
    assert_true(gmem_page_given(gm, a / FIX_PG)); /* offset 1 page: still in the file */
    assert_int_equal(gmem_fault(gm, a + 2 * FIX_PG, GPERM_R), -EIO);
    assert_int_equal(gmem_fault(gm, a + 3 * FIX_PG, GPERM_R), -EIO);
    /* the VMM's copies past the end: EFAULT, not SIGBUS */
    char buf[16];
    assert_int_equal(gmem_copy_from(gm, buf, a + 2 * FIX_PG, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_str(gm, buf, a + 3 * FIX_PG, sizeof buf), -EFAULT);
    assert_int_equal(gmem_copy_from(gm, buf, a + 1, 4), 0);
    assert_memory_equal(buf, "Zbbb", 4);
    /* MADV_DONTNEED of a private map: the file's bytes again */
    assert_int_equal(gmem_set_perm(gm, a, 4 * FIX_PG, 0), 0);
    assert_int_equal(gm->nfiles, 0);
    assert_int_equal(key_deltas, -1);
    assert_int_equal(gmem_map_file(gm, a, FIX_PG, GPERM_R | GPERM_W, fd, 0, false, false, 77), 0);
    assert_int_equal(gmem_fault(gm, a, GPERM_W), 0);
    gm->host[a] = 'P';
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    assert_int_equal(c, 'a'); /* private */
    gmem_drop(gm, a, FIX_PG);
    assert_int_equal(gm->host[a], 'a');
    assert_int_equal(gmem_set_perm(gm, a, FIX_PG, 0), 0);
    assert_int_equal(key_deltas, -2);
    /* a map needs a free, aligned, in-range place and rights */
    assert_int_equal(gmem_map_file(gm, a + 1, FIX_PG, GPERM_R, fd, 0, false, false, 77), -EINVAL);
    assert_int_equal(gmem_map_file(gm, a, FIX_PG, 0, fd, 0, false, false, 77), -EINVAL);
    assert_int_equal(gmem_map_file(gm, a, FIX_PG, GPERM_R, -1, 0, false, false, 77), -EBADF);
    assert_int_equal(gm->host[a], 0); /* anonymous again after the failure */
    close(fd);
    gm->on_file_key = NULL;
}

/* Splitting past the table fails the unmap with ENOMEM and changes nothing. */
static void test_file_ranges_full(void **state)
{
    struct guest_mem *gm = GM(state);
    int fd = temp_file(1);
    uint64_t a = 4ull << 20;
    for (unsigned i = 0; i < GMEM_FILE_RANGES_MAX - 1; i++)
        assert_int_equal(gmem_map_file(gm, a + 2 * i * FIX_PG, FIX_PG, GPERM_R, fd, 0, false,
                                       false, 1), 0);
    uint64_t big = a + 2 * GMEM_FILE_RANGES_MAX * FIX_PG;
    assert_int_equal(gmem_map_file(gm, big, 3 * FIX_PG, GPERM_R, fd, 0, false, false, 1), 0);
    assert_int_equal(gm->nfiles, GMEM_FILE_RANGES_MAX);
    assert_int_equal(gmem_map_file(gm, big + 8 * FIX_PG, FIX_PG, GPERM_R, fd, 0, false, false, 1),
                     -ENOMEM);
    assert_int_equal(gmem_set_perm(gm, big + FIX_PG, FIX_PG, 0), -ENOMEM);
    assert_int_equal(gm->perm[(big + FIX_PG) / FIX_PG], GPERM_R);
    assert_int_equal(gmem_set_perm(gm, big, 3 * FIX_PG, 0), 0); /* a whole one: fine */
    assert_int_equal(gm->nfiles, GMEM_FILE_RANGES_MAX - 1);
    close(fd);
}

/* Synthetic exception exits (fault_handle over the frame the firmware leaves at the top of the
 * vCPU's firmware stack): a first touch is resumed, everything else ends the job, a forged
 * vector is an internal error. */
static uint64_t *exc_frame(struct job *job, uint64_t vector, uint64_t err, uint64_t cs,
                           uint64_t cr2)
{
    const uint64_t n = ISOVM_EXC_SAVED_QWORDS + ISOVM_EXC_FRAME_QWORDS;
    uint64_t *q = (uint64_t *)(void *)(job->vm.gm.host + ISOVM_FW_STACK_GPA + ISOVM_PAGE_SIZE - n * 8);
    uint64_t w[ISOVM_EXC_SAVED_QWORDS + ISOVM_EXC_FRAME_QWORDS] = {
        cr2, 0x1111, 0x2222, vector, err, 0x401000, cs, 0x202, 0x7ffff000, 0x23 };
    memcpy(q, w, sizeof w);
    return q;
}

static void test_fault_frames(void **state)
{
    (void)state;
    /* a user read of a mapped page with no entry: given, resumed */
    struct job *job = fix_job_new();
    assert_int_equal(gmem_set_perm(&job->vm.gm, U0, FIX_PG, GPERM_R | GPERM_W), 0);
    uint64_t *q = exc_frame(job, 14, 0x4, 0x2b, U0 + 8);
    assert_int_equal(fault_handle(job, &job->threads[0]), 0);
    assert_int_equal(q[ISOVM_EXC_SAVED_QWORDS], ISOVM_EXC_RESUME);
    assert_true(gmem_page_given(&job->vm.gm, U0 / FIX_PG));
    assert_int_equal(job->end, JOB_RUNNING);
    /* a write to it now: a protection fault (error bit 0) once its rights are read-only */
    assert_int_equal(gmem_set_perm(&job->vm.gm, U0, FIX_PG, GPERM_R), 0);
    q = exc_frame(job, 14, 0x7, 0x2b, U0 + 8);
    assert_int_equal(fault_handle(job, &job->threads[0]), 1);
    assert_int_equal(q[ISOVM_EXC_SAVED_QWORDS], 14); /* not resumed */
    assert_int_equal(job->end, JOB_SIGNALED);
    assert_int_equal(job->exit_status, 139);
    fix_job_free(job);
    /* an unmapped page, an execute of a no-exec page, a firmware address: SIGSEGV */
    const uint64_t bad[][2] = { { U0 + 8, 0x4 }, { U0, 0x14 }, { ISOVM_FW_CODE_GPA, 0x4 } };
    for (unsigned i = 0; i < 3; i++) {
        job = fix_job_new();
        assert_int_equal(gmem_set_perm(&job->vm.gm, U0, FIX_PG, i == 1 ? GPERM_R : 0), 0);
        exc_frame(job, 14, bad[i][1], 0x2b, bad[i][0]);
        assert_int_equal(fault_handle(job, &job->threads[0]), 1);
        assert_int_equal(job->end, JOB_SIGNALED);
        assert_int_equal(job->signal, 11);
        fix_job_free(job);
    }
    /* no frame left: SIGKILL, counted as a refusal (the report's "oom") */
    job = fix_job_new();
    assert_int_equal(gmem_set_perm(&job->vm.gm, U0, FIX_PG, GPERM_R | GPERM_W), 0);
    job->vm.gm.frames_total = job->vm.gm.frames_given + job->vm.gm.frames_tables;
    exc_frame(job, 14, 0x6, 0x2b, U0);
    assert_int_equal(fault_handle(job, &job->threads[0]), 1);
    assert_int_equal(job->end, JOB_OOM);
    assert_int_equal(job->exit_status, 137);
    assert_int_equal(job->stats.enomem_total, 1);
    fix_job_free(job);
    /* ring 0 faulted (the read cache's copy, say): never resumed, an internal error */
    job = fix_job_new();
    assert_int_equal(gmem_set_perm(&job->vm.gm, U0, FIX_PG, GPERM_R | GPERM_W), 0);
    exc_frame(job, 14, 0x2, 0x08, U0);
    assert_int_equal(fault_handle(job, &job->threads[0]), 1);
    assert_int_equal(job->end, JOB_INTERNAL_ERROR);
    assert_false(gmem_page_given(&job->vm.gm, U0 / FIX_PG));
    fix_job_free(job);
    /* a frame that names no exception vector: internal */
    job = fix_job_new();
    exc_frame(job, ISOVM_EXC_RESUME, 0, 0x2b, U0);
    assert_true(fault_handle(job, &job->threads[0]) < 0);
    assert_int_equal(job->end, JOB_INTERNAL_ERROR);
    fix_job_free(job);
    /* other exceptions in ring 3: their signals, never resumed */
    const uint64_t vec_sig[][2] = { { 0, 8 }, { 6, 4 }, { 3, 5 }, { 13, 11 }, { 17, 7 } };
    for (unsigned i = 0; i < 5; i++) {
        job = fix_job_new();
        q = exc_frame(job, vec_sig[i][0], 0, 0x2b, 0);
        assert_int_equal(fault_handle(job, &job->threads[0]), 1);
        assert_int_equal(job->signal, (int)vec_sig[i][1]);
        assert_int_equal(q[ISOVM_EXC_SAVED_QWORDS], vec_sig[i][0]);
        fix_job_free(job);
    }
}

static void test_paging_init_layout(void **state)
{
    struct guest_mem *gm = GM(state);
    assert_int_equal(paging_entry(gm, 0), 0); /* page 0 */
    for (uint64_t a = ISOVM_GDT_GPA; a < ISOVM_HCBLOCK_END; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), a | PTE_P | PTE_RW | PTE_NX);
    /* The TSSs follow the request blocks (their own pages since the 64-vCPU fix). */
    assert_int_equal(ISOVM_TSS_GPA, ISOVM_HCBLOCK_END);
    for (uint64_t a = ISOVM_TSS_GPA; a < ISOVM_TSS_END; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), a | PTE_P | PTE_RW | PTE_NX);
    for (uint64_t a = ISOVM_TSS_END; a < ISOVM_FW_STACK_GPA; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), 0);
    for (uint64_t a = ISOVM_FW_STACK_GPA; a < ISOVM_FW_STACK_END; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), a | PTE_P | PTE_RW | PTE_NX);
    for (uint64_t a = ISOVM_FW_STACK_END; a < ISOVM_FW_CODE_GPA; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), 0);
    /* Firmware code: present, supervisor, read-only, executable. */
    for (uint64_t a = ISOVM_FW_CODE_GPA; a < ISOVM_FW_CODE_GPA + FIX_FW_SIZE; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), a | PTE_P);
    for (uint64_t a = ISOVM_FW_CODE_GPA + FIX_FW_SIZE; a < ISOVM_FW_CODE_END; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), 0);
    /* The read cache: supervisor data, never executable. */
    for (uint64_t a = ISOVM_RCACHE_GPA; a < ISOVM_RCACHE_END; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), a | PTE_P | PTE_RW | PTE_NX);
    /* No firmware page is user-accessible. */
    for (uint64_t a = 0; a < ISOVM_USER_MIN_GPA; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a) & PTE_US, 0);
    /* User pages: no entry (the page-table area is no address's) */
    for (uint64_t a = ISOVM_USER_MIN_GPA; a < gm->user_hi; a += FIX_PG)
        assert_int_equal(paging_entry(gm, a), 0);
}

static void test_paging_init_refuses(void **state)
{
    (void)state;
    struct job *job = fix_job_new();
    struct paging pg;
    /* Firmware image of 0 bytes or larger than its slot. */
    assert_int_equal(paging_init(&pg, &job->vm.gm, 0), -EINVAL);
    assert_int_equal(paging_init(&pg, &job->vm.gm, ISOVM_FW_CODE_END - ISOVM_FW_CODE_GPA + 1), -EINVAL);
    /* A window with no user page, or no room for the first tables. */
    struct guest_mem small = job->vm.gm;
    small.pt_lo = ISOVM_USER_MIN_GPA;
    assert_int_equal(paging_init(&pg, &small, FIX_FW_SIZE), -ENOMEM);
    small.pt_lo = ISOVM_USER_MIN_GPA + FIX_PG;
    small.size = small.pt_lo + 3 * FIX_PG;
    assert_int_equal(paging_init(&pg, &small, FIX_FW_SIZE), -ENOMEM);
    /* a limit with fewer frames than the first tables */
    small = job->vm.gm;
    small.frames_total = 0;
    small.frames_tables = 0;
    assert_int_equal(paging_init(&pg, &small, FIX_FW_SIZE), -ENOMEM);
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

/* A real job's 16 GiB window over fresh memory: paging_init touches its few tables only;
 * 8 MiB mapped makes no table; 8 MiB given makes exactly the directory and 4 leaf tables
 * that map them, counted as frames. */
static void test_paging_lazy(void **state)
{
    (void)state;
    const uint64_t limit = 4ull << 30, window = paging_window_bytes(limit);
    const uint64_t area = paging_area_bytes(limit);
    struct guest_mem gm = { .size = window + area, .pt_lo = window };
    gm.host = mmap(NULL, gm.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(gm.host != MAP_FAILED);
    assert_int_equal(gmem_tables_alloc(&gm, window, limit), 0);
    struct paging pg;
    assert_int_equal(paging_init(&pg, &gm, FIX_FW_SIZE), 0);
    size_t before = resident_pages(gm.host + gm.pt_lo, area);
    assert_int_equal(before, 4);
    assert_int_equal(gm.user_hi, 16ull << 30);
    const uint64_t at = 12ull << 30; /* under PDPT entry 12: a directory of its own */
    assert_int_equal(gmem_set_perm(&gm, at, 8ull << 20, GPERM_R | GPERM_W), 0);
    assert_int_equal(resident_pages(gm.host + gm.pt_lo, area), before);
    assert_int_equal(gmem_give_range(&gm, at, 8ull << 20), 0);
    assert_int_equal(resident_pages(gm.host + gm.pt_lo, area), before + 5);
    assert_int_equal(gm.frames_tables, 4 + 5);
    assert_int_equal(gm.frames_given, (8ull << 20) / FIX_PG);
    assert_int_equal(paging_entry(&gm, at) & 0x7, 0x7); /* present, writable, user */
    gmem_tables_free(&gm);
    munmap(gm.host, gm.size);
}

/* Another process's space (a fork): its own window and tables in the first space's area, its
 * frames counted in the first space's; the copy carries rights, given pages' contents and file
 * ranges (a private one as the parent changed it, the file untouched); ending it gives every
 * frame and table back, and the tables are reused; a copy the limit cannot hold fails whole. */
static void test_spaces(void **state)
{
    struct job *job = *state;
    struct guest_mem *root = &job->vm.gm;
    assert_int_equal(gmem_sigbus_guard_init(), 0);
    root->on_file_key = key_note;
    key_deltas = 0;
    uint64_t window = root->npages * FIX_PG, base = 1ull << 32;
    uint8_t *host = mmap(NULL, window, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(host != MAP_FAILED);
    struct guest_mem child;
    struct paging cpg;
    memset(&child, 0, sizeof child);
    assert_int_equal(gmem_space_init(&child, root, host, base), 0);
    assert_true(gmem_root(&child) == root);
    assert_int_equal(child.user_lo, root->user_lo);
    assert_int_equal(child.user_hi, root->user_hi);
    uint64_t tables0 = root->frames_tables;
    assert_int_equal(paging_space_init(&cpg, &child, &job->vm.pg, FIX_FW_SIZE), 0);
    uint64_t tables1 = root->frames_tables;
    assert_true(tables1 >= tables0 + 4); /* the PML4 and the firmware's tables */
    assert_true(paging_entry(&child, ISOVM_FW_CODE_GPA) & PTE_P); /* the firmware, as in every space */
    assert_false(paging_entry(&child, ISOVM_FW_CODE_GPA) & PTE_US);
    /* the parent: two pages written, one mapped and untouched, one reserved, a private file */
    assert_int_equal(gmem_set_perm(root, U0, 3 * FIX_PG, GPERM_R | GPERM_W), 0);
    assert_int_equal(gmem_set_perm(root, U0 + 3 * FIX_PG, FIX_PG, GPERM_RESERVED), 0);
    assert_int_equal(gmem_copy_to(root, U0, "parent", 7), 0);
    assert_int_equal(gmem_copy_to(root, U0 + 2 * FIX_PG, "two", 4), 0);
    int fd = temp_file(2);
    uint64_t fa = 4ull << 20;
    assert_int_equal(gmem_map_file(root, fa, 2 * FIX_PG, GPERM_R | GPERM_W, fd, 0, false, false,
                                   77), 0);
    assert_int_equal(gmem_fault(root, fa, GPERM_W), 0);
    root->host[fa] = 'P'; /* a private copy of the file's page */
    uint64_t given = root->frames_given;
    uint64_t own_tables = root->frames_tables - (tables1 - tables0); /* the first space's */
    assert_int_equal(gmem_space_copy(&child, root), 0);
    assert_int_equal(key_deltas, 1); /* the file range holds its key once more */
    assert_int_equal(root->frames_given, 2 * given);
    assert_string_equal((char *)host + U0, "parent");
    assert_string_equal((char *)host + U0 + 2 * FIX_PG, "two");
    assert_false(gmem_page_given(&child, (U0 + FIX_PG) / FIX_PG)); /* untouched stays so */
    assert_int_equal(child.perm[(U0 + 3 * FIX_PG) / FIX_PG], GPERM_RESERVED);
    assert_int_equal(child.user_pages, root->user_pages);
    assert_int_equal(paging_entry(&child, U0) & 0x000ffffffffff000ull, base + U0); /* its own frame */
    assert_int_equal(paging_entry(root, U0) & 0x000ffffffffff000ull, U0);
    assert_int_equal(host[fa], 'P'); /* the parent's private page, copied */
    assert_int_equal(host[fa + FIX_PG], 'b'); /* untouched: the file's */
    char c = 0;
    assert_int_equal(pread(fd, &c, 1, 0), 1);
    assert_int_equal(c, 'a'); /* the file itself untouched */
    /* a write in the child is the child's */
    host[U0] = 'C';
    assert_int_equal(root->host[U0], 'p');
    /* its end: frames and tables back, the freed tables reused next */
    gmem_space_clear(&child, false);
    paging_space_free(&cpg, &child);
    assert_int_equal(key_deltas, 0);
    assert_int_equal(root->frames_given, given);
    assert_int_equal(root->frames_tables, own_tables);
    assert_int_equal(child.user_pages, 0);
    assert_true(job->vm.pg.nfree >= tables1 - tables0);
    uint64_t next = job->vm.pg.next_gpa;
    assert_int_equal(paging_space_init(&cpg, &child, &job->vm.pg, FIX_FW_SIZE), 0);
    assert_int_equal(job->vm.pg.next_gpa, next); /* from the free list */
    assert_int_equal(root->frames_tables, own_tables + (tables1 - tables0));
    /* a copy the limit cannot hold: -ENOMEM, nothing kept */
    root->frames_total = root->frames_given + root->frames_tables + 1;
    assert_int_equal(gmem_space_copy(&child, root), -ENOMEM);
    assert_int_equal(root->frames_given, given);
    assert_int_equal(child.nfiles, 0);
    assert_int_equal(key_deltas, 0);
    gmem_space_clear(&child, false);
    paging_space_free(&cpg, &child);
    assert_int_equal(root->frames_tables, own_tables);
    gmem_set_perm(root, fa, 2 * FIX_PG, 0);
    close(fd);
    munmap(host, window);
    gmem_tables_free(&child);
    paging_fini(&job->vm.pg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test(test_paging_lazy),
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
        cmocka_unit_test_setup_teardown(test_first_touch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_ranges_full, setup, teardown),
        cmocka_unit_test(test_fault_frames),
        cmocka_unit_test_setup_teardown(test_spaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_init_layout, setup, teardown),
        cmocka_unit_test(test_paging_init_refuses),
    };
    return cmocka_run_group_tests_name("guest_mem", tests, NULL, NULL) ? 1 : 0;
}
